-- models.sql: the model tables across trainings: a model of the same name is
-- replaced whole, other names coexist, items keep their SQL type ('1' and 1
-- are one item), and each BLOB is vector_size little-endian float32 values.
.headers on

CREATE TABLE t(u, i, ts);
WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM n WHERE x < 299)
INSERT INTO t SELECT x / 6, (x / 6) % 2 * 10 + x % 6, x FROM n;

SELECT json_extract(item2vec_train('t', 'u', 'i', 'workers=1', 'vector_size=8', 'epochs=1'),
       '$.items') AS items;
SELECT name, dim, items FROM item2vec_models;
SELECT count(*) AS rows, min(length(vector)) AS bytes FROM item2vec_vectors WHERE model = 'default';

-- Retrain the same name on other data with another size: the old rows go.
CREATE TABLE t2(u, i);
INSERT INTO t2 SELECT u, i + 100 FROM t WHERE i < 3;
SELECT json_extract(item2vec_train('t2', 'u', 'i', 'workers=1', 'vector_size=12', 'epochs=1'),
       '$.items') AS items;
SELECT name, dim, items, source FROM item2vec_models;
SELECT count(*) AS rows, min(item) AS min_item, max(item) AS max_item,
       min(length(vector)) AS min_bytes, max(length(vector)) AS max_bytes
  FROM item2vec_vectors WHERE model = 'default';
SELECT count(*) AS old_items_answer FROM similar_items(1, 3);
SELECT group_concat(item) AS new_items_answer FROM (SELECT item FROM similar_items(101, 3) ORDER BY item);
SELECT json_array_length(item2vec_to_json(item2vec_vector(100))) AS dims;

-- A second name coexists with the first; each answers with its own items.
SELECT json_extract(item2vec_train('t', 'u', 'i', 'model=second', 'workers=1', 'vector_size=4',
       'epochs=1'), '$.model') AS model;
SELECT name, dim, items, source FROM item2vec_models ORDER BY name;
SELECT model, count(*) AS rows, min(length(vector)) AS bytes FROM item2vec_vectors GROUP BY model ORDER BY model;
SELECT count(*) AS second_answers FROM similar_items(1, 3, 'second');
SELECT count(*) AS default_does_not_know_1 FROM similar_items(1, 3, 'default');
SELECT item2vec_similarity(1, 2, 'second') IS NOT NULL AS sim_second,
       item2vec_similarity(1, 2) IS NULL AS sim_default,
       length(item2vec_vector(1, 'second')) AS blob_second;
-- Retraining 'second' leaves 'default' alone.
CREATE TEMP TABLE before AS SELECT * FROM item2vec_vectors WHERE model = 'default';
SELECT json_extract(item2vec_train('t', 'u', 'i', 'model=second', 'workers=1', 'vector_size=6',
       'epochs=1'), '$.vector_size') AS second_dim;
SELECT (SELECT count(*) FROM (SELECT * FROM item2vec_vectors WHERE model = 'default' EXCEPT
        SELECT * FROM before)) AS default_changed,
       (SELECT dim FROM item2vec_models WHERE name = 'second') AS second_dim_stored;

-- The BLOB: dim x float32, little-endian, what item2vec_to_json decodes.
SELECT count(*) AS rows_with_wrong_length FROM item2vec_vectors v JOIN item2vec_models m ON m.name = v.model
 WHERE length(v.vector) <> 4 * m.dim;
SELECT count(*) AS non_blob FROM item2vec_vectors WHERE typeof(vector) <> 'blob';

-- Item types: integer stays integer, text stays text, real stays real, blob
-- stays blob; '7' (text) and 7 (integer) are one item, stored as first seen.
CREATE TABLE mixed(u, i);
INSERT INTO mixed VALUES (1, 7), (1, 'seven'), (1, 2.5), (1, x'41'),
                         (2, '7'), (2, 'seven'), (2, 7.0), (2, x'41'), (2, 2.5),
                         (3, 'A'), (3, 'seven'), (4, '07'), (4, 'seven');
SELECT json_extract(s, '$.items') AS items, json_extract(s, '$.tokens') AS tokens
  FROM (SELECT item2vec_train('mixed', 'u', 'i', 'model=mixed', 'workers=1', 'vector_size=4',
        'epochs=1') AS s);
SELECT quote(item) AS item, typeof(item) AS type, frequency FROM item2vec_vectors
 WHERE model = 'mixed' ORDER BY frequency DESC, quote(item);
-- Every stored item is found again by its own value, and 7 by '7' and 7.0.
SELECT count(*) AS found_by_value FROM item2vec_vectors WHERE model = 'mixed'
   AND item2vec_vector(item, 'mixed') = vector;
SELECT item2vec_vector('7', 'mixed') = item2vec_vector(7, 'mixed') AS text_7,
       item2vec_vector(7.0, 'mixed') = item2vec_vector(7, 'mixed') AS real_7,
       item2vec_vector('07', 'mixed') <> item2vec_vector(7, 'mixed') AS leading_zero_differs,
       item2vec_vector('A', 'mixed') <> item2vec_vector(x'41', 'mixed') AS text_blob_differ;
-- similar_items returns each item with its stored type.
SELECT quote(item) AS item, typeof(item) AS type FROM similar_items('seven', 10, 'mixed') ORDER BY quote(item);
SELECT count(*) AS rows FROM similar_items('["7", 2.5]', 10, 'mixed');
