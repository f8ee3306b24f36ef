-- drop.sql: item2vec_drop(model) removes a model with its vectors, context
-- vectors, approximate index and pair evidence in one savepoint, answers
-- with the rows removed per table, leaves other models alone, and changes
-- nothing when it fails (unknown model, a failing delete, a bad argument).
.headers on

-- Nothing trained yet: the error says so.
SELECT item2vec_drop('default');

CREATE TABLE t(u, i, ts);
WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM n WHERE x < 299)
INSERT INTO t SELECT x / 6, (x / 6) % 2 * 10 + x % 6, x FROM n;
SELECT json_extract(item2vec_train('t', 'u', 'i', 'order_by=ts', 'workers=1', 'vector_size=8',
       'epochs=1'), '$.items') AS items;
SELECT json_extract(item2vec_train('t', 'u', 'i', 'model=keep', 'workers=1', 'vector_size=4',
       'epochs=1'), '$.items') AS keep_items;
SELECT json_extract(item2vec_index('default', 'M=4', 'threads=1'), '$.chunks') AS index_chunks;
-- What is stored per model before the drop.
CREATE TEMP VIEW stored AS
  SELECT 'models' AS tbl, name AS model, count(*) AS n FROM item2vec_models GROUP BY name
  UNION ALL SELECT 'vectors', model, count(*) FROM item2vec_vectors GROUP BY model
  UNION ALL SELECT 'context', model, count(*) FROM item2vec_context GROUP BY model
  UNION ALL SELECT 'index', model, count(*) FROM item2vec_index GROUP BY model
  UNION ALL SELECT 'pairs', model, count(*) > 0 FROM item2vec_pairs GROUP BY model
  ORDER BY 1, 2;
SELECT * FROM stored;
-- A query loads 'default' into the connection's cache.
SELECT count(*) AS answers_before FROM similar_items(1, 3);

-- Unknown model and bad arguments: errors that list the models; nothing changes.
SELECT item2vec_drop('nope');
SELECT item2vec_drop(NULL);
SELECT item2vec_drop(7);
SELECT item2vec_drop();
SELECT item2vec_drop('default', 'keep');

-- A failure in the middle (a trigger refuses the last delete) rolls back the
-- rows already deleted from the other tables.
CREATE TEMP TABLE before AS SELECT * FROM stored;
CREATE TEMP TRIGGER refuse BEFORE DELETE ON item2vec_models
  BEGIN SELECT RAISE(ABORT, 'refused by a trigger'); END;
SELECT item2vec_drop('default');
DROP TRIGGER refuse;
SELECT (SELECT count(*) FROM (SELECT * FROM stored EXCEPT SELECT * FROM before)) +
       (SELECT count(*) FROM (SELECT * FROM before EXCEPT SELECT * FROM stored)) AS changed_rows;
SELECT count(*) AS answers_after_failed_drop FROM similar_items(1, 3);

-- The drop: every table's rows of 'default' go, 'keep' stays whole.
SELECT json_extract(r, '$.model') AS model, json_extract(r, '$.item2vec_models') AS models,
       json_extract(r, '$.item2vec_vectors') = (SELECT n FROM before WHERE tbl = 'vectors'
         AND model = 'default') AS all_vectors,
       json_extract(r, '$.item2vec_context') = (SELECT n FROM before WHERE tbl = 'context'
         AND model = 'default') AS all_context,
       json_extract(r, '$.item2vec_index') AS index_rows,
       json_extract(r, '$.item2vec_pairs') > 0 AS pairs
  FROM (SELECT item2vec_drop('default') AS r);
SELECT * FROM stored;
-- The cached copy went with it: the model is gone for queries too.
SELECT count(*) FROM similar_items(1, 3);
SELECT count(*) AS keep_answers FROM similar_items(1, 3, 'keep');
SELECT item2vec_drop('default');

-- Inside the caller's transaction, a ROLLBACK brings the model back.
BEGIN;
SELECT json_extract(item2vec_drop('keep'), '$.item2vec_models') AS dropped_in_txn;
SELECT count(*) AS models_in_txn FROM item2vec_models;
ROLLBACK;
SELECT name FROM item2vec_models;
SELECT count(*) AS keep_answers_after_rollback FROM similar_items(1, 3, 'keep');

-- A model without the optional tables' rows (imported or hand-made) drops
-- with zeros for them; a name needing quotes is fine.
INSERT INTO item2vec_models(name, dim, items) VALUES ('it''s "odd"', 2, 1);
INSERT INTO item2vec_vectors VALUES ('it''s "odd"', 1, 1, x'0000803f00000000');
SELECT item2vec_drop('it''s "odd"') AS dropped;
SELECT json_extract(r, '$.item2vec_vectors', '$.item2vec_context') AS vectors_context,
       json_extract(r, '$.item2vec_pairs') > 0 AS pairs FROM (SELECT item2vec_drop('keep') AS r);
SELECT count(*) AS models_left FROM item2vec_models;
