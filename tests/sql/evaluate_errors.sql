-- item2vec_evaluate from SQL: the figures it returns, a grid in one
-- statement, no model left behind, and the errors a user meets.
-- Generated data: 200 users walk a ring of 50 items one step at a time,
-- with a jump at steps 1, 6 and 11.
CREATE TABLE events(user INTEGER, item INTEGER, ts INTEGER);
WITH RECURSIVE u(id) AS (SELECT 0 UNION ALL SELECT id + 1 FROM u WHERE id < 199),
     t(step) AS (SELECT 0 UNION ALL SELECT step + 1 FROM t WHERE step < 14)
INSERT INTO events
SELECT id, CASE WHEN step % 5 = 1 THEN (id * 13 + step * 7) % 50
                ELSE (id * 31 + step) % 50 END, step
  FROM u, t;

-- The embedding finds the ring; popularity cannot.
SELECT json_extract(r, '$.users') AS users, json_extract(r, '$.cases') AS cases,
       json_extract(r, '$.hr') > 3 * json_extract(r, '$.popularity.hr') AS beats_popularity,
       json_extract(r, '$.hr') = json_extract(r, '$.hybrid.hr') AS top_level_is_hybrid,
       json_extract(r, '$.ndcg') BETWEEN json_extract(r, '$.mrr') AND json_extract(r, '$.hr') AS ordered,
       json_type(r, '$.cooccurrence.coverage') AS coverage_type,
       json_extract(r, '$.model') IS NULL AS no_model
  FROM (SELECT item2vec_evaluate('events', 'user', 'item', 'order_by=ts', 'workers=1',
                                 'vector_size=8', 'epochs=5', 'window=2', 'sample=0',
                                 'holdout=2') AS r);

-- A grid in one statement.
WITH grid(w) AS (VALUES (1), (2), (4))
SELECT w, json_valid(item2vec_evaluate('events', 'user', 'item', 'order_by=ts', 'workers=1',
                                       'vector_size=8', 'epochs=2', 'window=' || w))
  FROM grid;

-- Nothing was stored.
SELECT count(*) AS model_tables FROM sqlite_schema WHERE name LIKE 'item2vec%';

-- Every user has one item.
CREATE TABLE singles(user INTEGER, item INTEGER);
INSERT INTO singles SELECT value, value % 5 FROM generate_series(1, 20);
SELECT item2vec_evaluate('singles', 'user', 'item');
-- Holding out all that users have, or all but one item.
SELECT item2vec_evaluate('events', 'user', 'item', 'holdout=15');
SELECT item2vec_evaluate('events', 'user', 'item', 'holdout=14');
-- Options: evaluation options, then the training options' own checks.
SELECT item2vec_evaluate('events', 'user', 'item', 'k=0');
SELECT item2vec_evaluate('events', 'user', 'item', 'holdout=two');
SELECT item2vec_evaluate('events', 'user', 'item', 'query=mean:0');
SELECT item2vec_evaluate('events', 'user', 'item', 'score=euclid');
SELECT item2vec_evaluate('events', 'user', 'item', 'windw=3');
SELECT item2vec_evaluate('events', 'user', 'item', 'window=0');
SELECT item2vec_evaluate('events', 'user', 'item', 'update=1');
-- Names in any case; near misses get a hint.
SELECT json_extract(item2vec_evaluate('events', 'user', 'item', 'Holdout=2', 'K=5', 'Workers=1',
       'Epochs=1', 'vector_size=4'), '$.k') AS k_any_case;
SELECT item2vec_evaluate('events', 'user', 'item', 'holdot=2');
SELECT item2vec_evaluate('events', 'user', 'USER');
-- Training that diverges is an error, and model= stores nothing.
CREATE TABLE big AS WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM n WHERE x < 5999)
  SELECT x / 20 AS u, (x * 7919 + x / 20) % 200 AS i FROM n;
SELECT item2vec_evaluate('big', 'u', 'i', 'workers=1', 'alpha=1', 'epochs=2', 'model=bad');
SELECT count(*) AS model_tables_after_divergence FROM sqlite_schema WHERE name LIKE 'item2vec%';
SELECT item2vec_evaluate('events', 'user');
SELECT item2vec_evaluate('events', 'nosuch', 'item');
-- DIRECTONLY: not from a view or a trigger.
CREATE VIEW sneaky AS SELECT item2vec_evaluate('events', 'user', 'item') AS r;
SELECT * FROM sneaky;
-- The model= of an evaluation is written in a savepoint, which SQLite
-- refuses inside a statement that writes: said before anything is read.
-- Without model= nothing is written, so a grid goes straight into a table.
CREATE TABLE results(w, hr);
INSERT INTO results SELECT 2, item2vec_evaluate('events', 'user', 'item', 'workers=1',
                                                'vector_size=8', 'epochs=1', 'model=m');
INSERT INTO results
SELECT w, json_extract(item2vec_evaluate('events', 'user', 'item', 'order_by=ts', 'workers=1',
                                         'vector_size=8', 'epochs=2', 'window=' || w), '$.hr')
  FROM (SELECT 1 AS w UNION ALL SELECT 2);
SELECT count(*) AS rows, min(hr) > 0 AS scored FROM results;
