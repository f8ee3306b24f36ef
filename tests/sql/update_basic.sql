-- update=1 continues model m on new rows: stored items keep their vectors as
-- the starting point, new items join, frequencies add up, the stored options
-- are used unless given, and the context vectors are stored again.
CREATE TABLE ev(u INTEGER, i INTEGER);
INSERT INTO ev VALUES (1,10),(1,11),(1,12),(2,10),(2,12),(3,11),(3,12),(3,13),
                      (4,13),(4,14),(5,14),(5,10);
SELECT json_extract(s, '$.items'), json_extract(s, '$.update') FROM (
  SELECT item2vec_train('ev', 'u', 'i', 'model=m', 'vector_size=4', 'window=3',
                        'negative=2', 'epochs=3', 'sample=0', 'seed=42', 'save_context=1',
                        'workers=1') AS s);
CREATE TABLE before AS SELECT v.item, v.vector, c.vector AS context
  FROM item2vec_vectors AS v JOIN item2vec_context AS c USING (model, item)
 WHERE model = 'm';

-- New rows: known items (10 as text '10' is still item 10), new items 20 and
-- 21 twice, new item 99 once (under min_count=2: dropped, and user 8 with
-- it), known item 13 once (kept: min_count applies to new items only).
CREATE TABLE today(u, i);
INSERT INTO today VALUES (6,'10'),(6,20),(6,21),(7,20),(7,13),(7,11),(8,21),(8,99);
SELECT json_extract(s, '$.items'), json_extract(s, '$.update'),
       json_extract(s, '$.dropped_items'), json_extract(s, '$.dropped_tokens'),
       json_extract(s, '$.sequences'), json_extract(s, '$.tokens'),
       json_extract(s, '$.epochs'), json_extract(s, '$.vector_size') FROM (
  SELECT item2vec_train('today', 'u', 'i', 'model=m', 'update=1', 'min_count=2') AS s);

-- Frequencies: stored plus new; items keep the type they were stored with.
SELECT item, typeof(item), frequency FROM item2vec_vectors WHERE model = 'm' ORDER BY item;
-- Stored options carried over (window, negative, epochs, sample, seed), given
-- ones win.
SELECT json_extract(params, '$.window'), json_extract(params, '$.negative'),
       json_extract(params, '$.sample'),
       json_extract(params, '$.epochs'), json_extract(params, '$.seed'),
       json_extract(params, '$.min_count'), json_extract(params, '$.save_context'),
       json_extract(params, '$.update'), source
  FROM item2vec_models WHERE name = 'm';
-- One context vector per item, both dim x 4 bytes.
SELECT count(*), sum(length(v.vector) = 16 AND length(c.vector) = 16)
  FROM item2vec_vectors AS v JOIN item2vec_context AS c USING (model, item)
 WHERE model = 'm';
-- Item 14 is not in today's rows: both its vectors are exactly the stored
-- ones; item 11, which the update trained on, moved.
SELECT b.item, b.vector = v.vector, b.context = c.vector FROM before AS b
  JOIN item2vec_vectors AS v ON v.model = 'm' AND v.item = b.item
  JOIN item2vec_context AS c ON c.model = 'm' AND c.item = b.item
 WHERE b.item IN (11, 14) ORDER BY b.item;
-- The new item answers queries.
SELECT count(*) FROM similar_items(20, 3, 'm');

-- max_final_vocab caps the whole vocabulary: one more item fits, the most
-- frequent new one (30, three times, before 31, twice).
CREATE TABLE later(u, i);
INSERT INTO later VALUES (9,30),(9,31),(9,30),(10,30),(10,31),(10,12);
SELECT json_extract(s, '$.items'), json_extract(s, '$.update') FROM (
  SELECT item2vec_train('later', 'u', 'i', 'model=m', 'update=1', 'max_final_vocab=8') AS s);
SELECT group_concat(item) FROM (SELECT item FROM item2vec_vectors WHERE model = 'm' AND item >= 20 ORDER BY item);

-- A frequency at the top of the 64-bit range saturates instead of wrapping
-- to a negative number when the update adds to it.
UPDATE item2vec_vectors SET frequency = 9223372036854775807 WHERE model = 'm' AND item = 12;
SELECT json_extract(item2vec_train('later', 'u', 'i', 'model=m', 'update=1'), '$.model');
SELECT frequency FROM item2vec_vectors WHERE model = 'm' AND item = 12;
