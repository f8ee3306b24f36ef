-- train.sql: item2vec_train on planted clusters, its JSON summary, and the
-- two model tables it writes (item2vec_models, item2vec_vectors).
-- Only stable things are printed: counts, types, lengths, JSON fields that do
-- not depend on timing, and neighbours of clearly separated clusters.
.headers on

SELECT item2vec_version() GLOB '[0-9]*.[0-9]*.[0-9]*' AS version_ok;

-- 240 users in 3 clusters of 4 items (101-104, 201-204, 301-304): user u
-- sees items of cluster u % 3 only, 8 rows each, newest first by ts.
CREATE TABLE events(user INTEGER, item INTEGER, ts INTEGER);
WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM n WHERE x < 1919)
INSERT INTO events SELECT x / 8, ((x / 8) % 3 + 1) * 100 + (x * 5 + x / 8) % 4 + 1, 10000 - x FROM n;

-- item2vec_train writes the model in a savepoint, so it runs from a SELECT
-- (CREATE TABLE ... AS SELECT item2vec_train(...) is refused, see errors.sql).
-- The summary goes into a MATERIALIZED CTE, so training runs once.
WITH summary(s) AS MATERIALIZED (
  SELECT item2vec_train('events', 'user', 'item', 'workers=1', 'seed=7',
         'vector_size=16', 'window=3', 'sample=0', 'epochs=4'))
SELECT json_extract(s, '$.model') AS model, json_extract(s, '$.items') AS items,
       json_extract(s, '$.sequences') AS sequences, json_extract(s, '$.users') AS users,
       json_extract(s, '$.tokens') AS tokens, json_extract(s, '$.rows') AS rows,
       json_extract(s, '$.longest_sequence') AS longest,
       json_extract(s, '$.epochs') AS epochs, json_extract(s, '$.vector_size') AS dim,
       json_extract(s, '$.sg') AS sg, json_extract(s, '$.workers') AS workers,
       json_extract(s, '$.skipped_null_users') AS null_users,
       json_extract(s, '$.skipped_null_items') AS null_items,
       json_extract(s, '$.dropped_items') AS dropped_items,
       json_extract(s, '$.dropped_tokens') AS dropped_tokens,
       -- timings are numbers; the loss has one entry per epoch and falls
       json_type(s, '$.seconds') IN ('real', 'integer') AS seconds_is_number,
       json_type(s, '$.train_seconds') IN ('real', 'integer') AS train_seconds_is_number,
       json_type(s, '$.tokens_per_second') IN ('real', 'integer') AS rate_is_number,
       json_array_length(s, '$.loss') AS losses,
       json_extract(s, '$.loss[3]') < json_extract(s, '$.loss[0]') AS loss_falls
  FROM summary;
-- It ran once: one model, created once.
SELECT count(*) AS models FROM item2vec_models;

-- The model row.
SELECT name, dim, items, source, typeof(created_at) AS created_at,
       json_extract(params, '$.vector_size') AS p_dim, json_extract(params, '$.window') AS p_window,
       json_extract(params, '$.seed') AS p_seed, json_extract(params, '$.sg') AS p_sg,
       json_extract(params, '$.order_by') AS p_order_by,
       json_extract(stats, '$.tokens') AS s_tokens
  FROM item2vec_models;
-- Every option is recorded in params under its gensim name.
SELECT json_extract(params, '$.negative') AS negative, json_extract(params, '$.ns_exponent') AS ns_exponent,
       json_extract(params, '$.sample') AS sample, json_extract(params, '$.min_count') AS min_count,
       json_extract(params, '$.epochs') AS epochs, json_extract(params, '$.alpha') AS alpha,
       json_extract(params, '$.min_alpha') AS min_alpha, json_extract(params, '$.shrink_windows') AS shrink,
       json_extract(params, '$.shuffle') AS shuffle, json_extract(params, '$.workers') AS workers
  FROM item2vec_models;

-- One vector row per item: integer items stay integers, BLOBs are 4 x dim
-- bytes, frequencies are the occurrence counts.
SELECT count(*) AS n, typeof(item) AS item_type, min(length(vector)) AS min_bytes,
       max(length(vector)) AS max_bytes, sum(frequency) AS total_frequency
  FROM item2vec_vectors WHERE model = 'default' GROUP BY typeof(item);
SELECT item, frequency FROM item2vec_vectors WHERE item IN (101, 204, 303) ORDER BY item;
SELECT count(*) AS frequency_matches FROM item2vec_vectors v
 WHERE frequency = (SELECT count(*) FROM events e WHERE e.item = v.item);

-- item2vec_vector returns the stored BLOB; '101' and 101 are one item.
SELECT item2vec_vector(101) = vector AS same_blob, item2vec_vector('101') = vector AS text_id_same,
       item2vec_vector(101.0) = vector AS real_id_same, typeof(item2vec_vector(101)) AS type
  FROM item2vec_vectors WHERE item = 101;
SELECT item2vec_vector(999) IS NULL AS unknown_is_null, item2vec_vector(NULL) IS NULL AS null_is_null,
       item2vec_vector('101 ') IS NULL AS padded_text_is_unknown;
SELECT item2vec_vector(101, 'default') = item2vec_vector(101) AS model_arg;

-- item2vec_to_json: one number per dimension, reading back as the BLOB.
SELECT json_array_length(item2vec_to_json(item2vec_vector(101))) AS json_dims,
       json_valid(item2vec_to_json(item2vec_vector(204))) AS valid;
SELECT item2vec_to_json(x'0000803f000000c00000003f') AS known_floats,
       item2vec_to_json(x'') AS empty, item2vec_to_json(NULL) IS NULL AS null_in_null_out;
SELECT item2vec_to_json(x'0000803f00');
SELECT item2vec_to_json('not a blob');
SELECT item2vec_to_json(x'0000c07f');

-- item2vec_similarity: symmetric, 1 for an item with itself, higher inside a
-- cluster than across, NULL when either item is unknown.
SELECT round(item2vec_similarity(101, 101), 4) AS self,
       item2vec_similarity(101, 102) = item2vec_similarity(102, 101) AS symmetric,
       item2vec_similarity('101', 102) = item2vec_similarity(101, '102') AS text_ids,
       item2vec_similarity(101, 999) IS NULL AS unknown_null,
       item2vec_similarity(NULL, 101) IS NULL AS null_null,
       item2vec_similarity(101, 102, 'default') = item2vec_similarity(101, 102) AS model_arg;
SELECT count(*) AS items_closer_to_own_cluster FROM item2vec_vectors a
 WHERE (SELECT min(item2vec_similarity(a.item, b.item)) FROM item2vec_vectors b WHERE b.item / 100 = a.item / 100)
     > (SELECT max(item2vec_similarity(a.item, b.item)) FROM item2vec_vectors b WHERE b.item / 100 <> a.item / 100);

-- The model argument must be a name.
SELECT item2vec_similarity(101, 102, 7);
SELECT item2vec_vector(101, NULL);
SELECT item2vec_similarity(101, 102, 'nope');

-- order_by: each user's rows in ts order; the summary's counts do not change.
SELECT json_extract(item2vec_train('events', 'user', 'item', 'order_by=ts', 'model=by_ts',
       'workers=1', 'vector_size=8', 'epochs=1'), '$.tokens') AS tokens_by_ts;
SELECT json_extract(params, '$.order_by') AS order_by FROM item2vec_models WHERE name = 'by_ts';

-- CBOW, shuffle, no shrinking windows, subsampling: all train.
SELECT json_extract(item2vec_train('events', 'user', 'item', 'sg=0', 'shuffle=1', 'shrink_windows=0',
       'sample=0.01', 'ns_exponent=0', 'negative=2', 'model=cbow', 'workers=1',
       'vector_size=8', 'epochs=2', 'alpha=0.05', 'min_alpha=0.01'), '$.sg') AS cbow_sg;
SELECT name, dim FROM item2vec_models ORDER BY name;

-- min_count and max_final_vocab drop rare items, and say so.
INSERT INTO events VALUES (1000, 901, 1), (1000, 902, 2), (1001, 901, 3), (1001, 101, 4);
WITH t(s) AS MATERIALIZED (SELECT item2vec_train('events', 'user', 'item', 'min_count=3',
     'model=mc', 'workers=1', 'vector_size=8', 'epochs=1'))
SELECT json_extract(s, '$.items') AS items, json_extract(s, '$.dropped_items') AS dropped_items,
       json_extract(s, '$.dropped_tokens') AS dropped_tokens, json_extract(s, '$.sequences') AS sequences
  FROM t;
SELECT count(*) AS rare_items_stored FROM item2vec_vectors WHERE model = 'mc' AND item > 900;
-- As in gensim, max_final_vocab picks a min_count: the count of the 7th most
-- frequent item plus one.  Here 11 items tie at 160 rows behind 101 (161),
-- so only 101 stays.
WITH t(s) AS MATERIALIZED (SELECT item2vec_train('events', 'user', 'item', 'max_final_vocab=6',
     'model=mfv', 'workers=1', 'vector_size=8', 'epochs=1'))
SELECT json_extract(s, '$.items') AS items, json_extract(s, '$.dropped_items') AS dropped_items FROM t;
SELECT json_extract(item2vec_train('events', 'user', 'item', 'max_final_vocab=20', 'model=mfv',
       'workers=1', 'vector_size=8', 'epochs=1'), '$.items') AS items_under_a_loose_cap;
