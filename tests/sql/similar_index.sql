-- similar_index.sql: item2vec_index builds an approximate index stored next
-- to the model; similar_items uses it, exact = 1 bypasses it; bad options,
-- a missing model, a damaged or foreign index give clear errors and never
-- items of another model; retraining drops the index.
-- The model is the hand-made one of similar_filters.sql (items 1..8 at
-- 0, 10, ..., 70 degrees): a graph over 8 items finds every item, so the
-- approximate answers equal the exact ones.
.headers on
CREATE TABLE item2vec_models(name TEXT PRIMARY KEY, dim INTEGER NOT NULL, items INTEGER NOT NULL,
  source TEXT, params TEXT, stats TEXT, created_at TEXT);
CREATE TABLE item2vec_vectors(model TEXT NOT NULL, item, frequency INTEGER NOT NULL,
  vector BLOB NOT NULL, PRIMARY KEY (model, item)) WITHOUT ROWID;
INSERT INTO item2vec_models(name, dim, items) VALUES ('default', 2, 8), ('other', 2, 8);
INSERT INTO item2vec_vectors VALUES
  ('default', 1, 1, x'0000803f00000000'), ('default', 2, 1, x'5c1c7c3fd4d0313e'),
  ('default', 3, 1, x'b28f703f441daf3e'), ('default', 4, 1, x'd7b35d3f0000003f'),
  ('default', 5, 1, x'7d1b443fbb8d243f'), ('default', 6, 1, x'bb8d243f7d1b443f'),
  ('default', 7, 1, x'0000003fd7b35d3f'), ('default', 8, 1, x'441daf3eb28f703f');
-- 'other': the same vectors under other names (101..108).
INSERT INTO item2vec_vectors SELECT 'other', item + 100, frequency, vector FROM item2vec_vectors;

-- Bad calls: nothing is written.
SELECT item2vec_index(NULL);
SELECT item2vec_index(42);
SELECT item2vec_index('nope');
SELECT item2vec_index('default', 'M=1');
SELECT item2vec_index('default', 'M=65');
SELECT item2vec_index('default', 'ef_search=0');
SELECT item2vec_index('default', 'ef_construction=ten');
SELECT item2vec_index('default', 'M');
SELECT item2vec_index('default', 'bogus=1');
SELECT item2vec_index('default', 7);
SELECT count(*) AS index_tables FROM sqlite_schema WHERE name = 'item2vec_index';

-- Build: a JSON summary; the index is stored in chunks with its parameters.
SELECT json_extract(item2vec_index('default', 'M=4', 'ef_construction=16', 'ef_search=8',
                                   'threads=1', 'verbose=0'),
                    '$.model', '$.kind', '$.items', '$.dim', '$.M', '$.chunks') AS built;
SELECT model, chunk, typeof(data), length(data) > 64 AS has_payload, json_extract(params, '$.M') AS M,
       json_extract(params, '$.ef_search') AS ef_search FROM item2vec_index;
-- Rebuilding replaces the chunks; no argument means the model 'default'.
SELECT json_extract(item2vec_index(), '$.model') AS rebuilt_default;
SELECT count(*) AS chunks FROM item2vec_index WHERE model = 'default';

-- Answers through the index equal the exact ones here, with every filter.
SELECT group_concat(item) AS indexed, group_concat(round(similarity, 4)) AS cosines FROM similar_items(1, 3);
SELECT (SELECT group_concat(item) FROM similar_items(4, 7))
     = (SELECT group_concat(item) FROM similar_items(4, 7) WHERE exact = 1) AS same_as_exact,
       (SELECT group_concat(item) FROM similar_items(4, 3) WHERE exclude = '[3, 5]')
     = (SELECT group_concat(item) FROM similar_items(4, 3) WHERE exclude = '[3, 5]' AND exact = 1) AS same_excluded,
       (SELECT group_concat(item) FROM similar_items('[1, 8]', 4) WHERE ef = 1)
     = (SELECT group_concat(item) FROM similar_items('[1, 8]', 4) WHERE exact = 1) AS small_ef_widened;

-- A damaged index: a clear error naming the fixes; exact = 1 still answers.
UPDATE item2vec_index SET data = substr(data, 1, 200) WHERE model = 'default';
SELECT * FROM similar_items(1, 3);
SELECT group_concat(item) AS exact_despite_damage FROM similar_items(1, 3) WHERE exact = 1;
UPDATE item2vec_index SET data = zeroblob(100) WHERE model = 'default';
SELECT * FROM similar_items(1, 3);
UPDATE item2vec_index SET chunk = 5 WHERE model = 'default';
SELECT * FROM similar_items(1, 3);
UPDATE item2vec_index SET data = 'text', chunk = 0 WHERE model = 'default';
SELECT * FROM similar_items(1, 3);
-- Dropping it: back to the exact scan.
DELETE FROM item2vec_index WHERE model = 'default';
SELECT group_concat(item) AS after_drop FROM similar_items(1, 3);

-- Another model's index stored under this name is not used: the answers
-- are this model's items.
SELECT json_extract(item2vec_index('other', 'threads=1', 'verbose=0'), '$.items') AS other_items;
INSERT INTO item2vec_index SELECT 'default', chunk, params, data FROM item2vec_index WHERE model = 'other';
SELECT group_concat(item) AS foreign_index_ignored FROM similar_items(1, 3);
SELECT group_concat(item) AS other_uses_its_own FROM similar_items(101, 3, 'other');
-- An item added by hand: the index no longer matches the rows and is not used.
INSERT INTO item2vec_vectors VALUES ('other', 109, 1, x'0000803f00000000');
UPDATE item2vec_models SET items = 9 WHERE name = 'other';
SELECT group_concat(item) AS stale_index_ignored FROM similar_items(101, 3, 'other');

-- Training a model of the same name drops its index, in the same savepoint.
CREATE TABLE events(user INTEGER, item INTEGER);
WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM n WHERE x < 199)
INSERT INTO events SELECT x / 4, x % 7 FROM n;
SELECT json_extract(item2vec_train('events', 'user', 'item', 'model=t', 'workers=1', 'epochs=1',
                                   'vector_size=4', 'verbose=0'), '$.items') AS trained;
SELECT json_extract(item2vec_index('t', 'verbose=0'), '$.items') AS t_indexed;
SELECT count(*) AS t_chunks_before FROM item2vec_index WHERE model = 't';
SELECT json_extract(item2vec_train('events', 'user', 'item', 'model=t', 'workers=1', 'epochs=1',
                                   'vector_size=4', 'verbose=0'), '$.items') AS retrained;
SELECT count(*) AS t_chunks_after FROM item2vec_index WHERE model = 't';
SELECT count(*) AS other_chunks_kept FROM item2vec_index WHERE model = 'other';

-- item2vec_index writes tables: not allowed from a view or trigger.
CREATE VIEW v AS SELECT item2vec_index('default');
SELECT * FROM v;

-- Under a low SQLITE_LIMIT_LENGTH the chunks shrink to fit it (the model's
-- name and the params share the row) and are read back whole.  A
-- limit with no room for a chunk is an error that says so.
CREATE TABLE wide AS WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM n WHERE x < 11999)
  SELECT x / 6 AS u, (x * 7919) % 3000 AS i FROM n;
SELECT json_extract(item2vec_train('wide', 'u', 'i', 'model=wide', 'workers=1', 'epochs=1',
                                   'vector_size=8', 'verbose=0'), '$.items') AS wide_items;
.limit length 100000
SELECT json_extract(item2vec_index('wide', 'M=8', 'ef_construction=32', 'verbose=0'), '$.chunks') > 1
       AS several_chunks;
SELECT max(length(data)) + length(model) + length(params) < 100000 AS rows_fit
  FROM item2vec_index WHERE model = 'wide';
SELECT count(*) AS answers_from_the_chunks FROM similar_items(5, 5, 'wide');
.limit length 2000
SELECT item2vec_index('wide', 'M=8', 'verbose=0');
