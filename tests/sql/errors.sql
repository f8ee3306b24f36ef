-- errors.sql: bad input to item2vec_train gets a clear error naming the
-- problem, and nothing already stored is lost.
.headers on

CREATE TABLE t(u, i, ts);
WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM n WHERE x < 299)
INSERT INTO t SELECT x / 6, (x / 6) % 2 * 10 + x % 6, x FROM n;
-- A model to keep safe through everything below.
SELECT json_extract(item2vec_train('t', 'u', 'i', 'workers=1', 'seed=3', 'vector_size=8',
       'epochs=2'), '$.items') AS items;
CREATE TEMP TABLE saved AS SELECT * FROM item2vec_vectors;
CREATE TEMP TABLE saved_models AS SELECT * FROM item2vec_models;

-- Arguments.
SELECT item2vec_train();
SELECT item2vec_train('t', 'u');
SELECT item2vec_train(NULL, 'u', 'i');
SELECT item2vec_train('t', 7, 'i');
SELECT item2vec_train('t', 'u', '');
-- One column for both users and items (in any case): 50 "items" would
-- replace the model.
SELECT item2vec_train('t', 'u', 'u');
SELECT item2vec_train('t', 'u', 'U');

-- Missing table or column.
SELECT item2vec_train('nope', 'u', 'i');
SELECT item2vec_train('nosuch.t', 'u', 'i');
SELECT item2vec_train('temp.t', 'u', 'i');
SELECT item2vec_train('t', 'user', 'i');
SELECT item2vec_train('t', 'u', 'item');
SELECT item2vec_train('t', 'u', 'i', 'order_by=time');

-- Options: unknown names (the message lists the valid ones), values out of
-- range or not numbers, not 'name=value', NULL, min_alpha above alpha.
SELECT item2vec_train('t', 'u', 'i', 'windw=5');
SELECT item2vec_train('t', 'u', 'i', 'vector_size=0');
SELECT item2vec_train('t', 'u', 'i', 'vector_size=100000');
SELECT item2vec_train('t', 'u', 'i', 'window=-1');
SELECT item2vec_train('t', 'u', 'i', 'sg=2');
SELECT item2vec_train('t', 'u', 'i', 'sample=2');
SELECT item2vec_train('t', 'u', 'i', 'min_count=0');
SELECT item2vec_train('t', 'u', 'i', 'epochs=ten');
SELECT item2vec_train('t', 'u', 'i', 'alpha=0.1.2');
SELECT item2vec_train('t', 'u', 'i', 'negative=5 negatives');
SELECT item2vec_train('t', 'u', 'i', 'workers=');
SELECT item2vec_train('t', 'u', 'i', 'seed=0x10');
SELECT item2vec_train('t', 'u', 'i', 'window');
SELECT item2vec_train('t', 'u', 'i', 5);
SELECT item2vec_train('t', 'u', 'i', NULL);
SELECT item2vec_train('t', 'u', 'i', 'model=');
SELECT item2vec_train('t', 'u', 'i', 'alpha=0.01', 'min_alpha=0.02');
SELECT item2vec_train('t', 'u', 'i', 'alpha=2');
-- Names in any case; near misses, gensim 3 names and hs get a hint; two
-- options in one argument are told apart.
SELECT item2vec_train('t', 'u', 'i', 'Vectorsize=8');
SELECT item2vec_train('t', 'u', 'i', 'size=8');
SELECT item2vec_train('t', 'u', 'i', 'iter=8');
SELECT item2vec_train('t', 'u', 'i', 'hs=1');
SELECT item2vec_train('t', 'u', 'i', 'epochs=1, window=3');
-- Training that diverges (a learning rate far too large) is an error that
-- says so; the stored model stays (checked at the end).
CREATE TABLE big AS WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM n WHERE x < 5999)
  SELECT x / 20 AS u, (x * 7919 + x / 20) % 200 AS i FROM n;
SELECT item2vec_train('big', 'u', 'i', 'workers=1', 'alpha=1', 'sg=1', 'epochs=2');
-- (CBOW's divergence message carries a loss that depends on the kernel: test_adversarial.py)
-- A quoted value loses its quotes: model "q" is q.
SELECT json_extract(item2vec_train('t', 'u', 'i', 'MODEL="q"', 'Workers=1', 'vector_size=4',
       'epochs=1'), '$.model') AS quoted_model;
-- Options are checked before anything is read: a bad option wins over a
-- missing table.
SELECT item2vec_train('nope', 'u', 'i', 'window=0');

-- Empty sources, NULLs only, no user with two items, nothing frequent enough.
CREATE TABLE empty(u, i);
SELECT item2vec_train('empty', 'u', 'i');
CREATE VIEW empty_view AS SELECT u, i FROM t WHERE 0;
SELECT item2vec_train('empty_view', 'u', 'i');
CREATE TABLE nulls(u, i);
INSERT INTO nulls VALUES (NULL, 1), (1, NULL), (NULL, NULL);
SELECT item2vec_train('nulls', 'u', 'i');
CREATE TABLE singles(u, i);
INSERT INTO singles VALUES (1, 10), (2, 10), (3, 11), (3, NULL);
SELECT item2vec_train('singles', 'u', 'i');
SELECT item2vec_train('t', 'u', 'i', 'min_count=1000');
-- Two rows of one user with one item still make a sequence of two.
CREATE TABLE repeat(u, i);
INSERT INTO repeat VALUES (1, 10), (1, 10);
SELECT json_extract(item2vec_train('repeat', 'u', 'i', 'model=repeat', 'workers=1', 'vector_size=4',
       'epochs=1'), '$.tokens') AS tokens;

-- Too large to allocate: 2^21 + 1 items x 4096 dimensions is refused after
-- reading, before any allocation of that size.
CREATE VIEW many AS WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM n WHERE x < 2097152)
  SELECT x / 2 AS u, x AS i FROM n;
SELECT item2vec_train('many', 'u', 'i', 'vector_size=4096');

-- Trust: item2vec_train reads tables the caller names and writes model
-- tables, so a trigger or view someone else wrote cannot call it.
CREATE TABLE log(x);
CREATE TRIGGER log_train AFTER INSERT ON log BEGIN SELECT item2vec_train('t', 'u', 'i'); END;
INSERT INTO log VALUES (1);
CREATE VIEW train_view AS SELECT item2vec_train('t', 'u', 'i') AS s;
SELECT * FROM train_view;
-- The model is written in a savepoint, which SQLite refuses inside a
-- statement that is itself writing: call it from a SELECT.
CREATE TABLE results(s);
INSERT INTO results SELECT item2vec_train('t', 'u', 'i', 'workers=1', 'epochs=1');
CREATE TABLE results2 AS SELECT item2vec_train('t', 'u', 'i', 'workers=1', 'epochs=1') AS s;
-- Inside a transaction the model is part of it: rolled back with it.
BEGIN;
SELECT json_extract(item2vec_train('t', 'u', 'i', 'model=tx', 'workers=1', 'vector_size=4',
       'epochs=1'), '$.model') AS in_transaction;
SELECT count(*) AS tx_rows FROM item2vec_vectors WHERE model = 'tx';
SELECT count(*) AS tx_answers FROM similar_items(10, 3, 'tx');
ROLLBACK;
SELECT count(*) AS tx_rows_after_rollback FROM item2vec_vectors WHERE model = 'tx';
-- similar_items forgets it too (its cache was filled inside the transaction).
SELECT count(*) AS tx_answers FROM similar_items(10, 3, 'tx');

-- Nothing stored was lost or changed.
SELECT (SELECT count(*) FROM item2vec_vectors WHERE model = 'default') AS rows,
       (SELECT count(*) FROM (SELECT * FROM item2vec_vectors WHERE model = 'default'
                               EXCEPT SELECT * FROM saved)) AS changed_rows,
       (SELECT count(*) FROM (SELECT * FROM item2vec_models WHERE name = 'default'
                               EXCEPT SELECT * FROM saved_models)) AS changed_models;
SELECT name FROM item2vec_models ORDER BY name;
SELECT count(*) AS still_answers FROM similar_items(10, 3);
