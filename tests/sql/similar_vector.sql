-- similar_vector.sql: similar_items queried by a vector: a BLOB of dim
-- little-endian float32s (from item2vec_vector() or made elsewhere) gives
-- the items nearest to it by cosine, with every filter, score = 'context',
-- exact = 1 and the approximate index; a BLOB of the wrong length, a value
-- that is not finite and an all-zero vector are errors; a BLOB that is an
-- item of the model is that item.
-- The model of fixtures/angles.sql: items 1..8 are 2-D unit vectors at 0,
-- 10, ..., 70 degrees; context vectors equal to them.
.headers on
.read fixtures/angles.sql

-- An item's own vector: the item itself first (similarity 1), then what
-- similar_items(item) gives, in the same order, with the same scores.
SELECT group_concat(item) AS items, group_concat(round(similarity, 4)) AS cosines
  FROM similar_items(item2vec_vector(1), 4);
SELECT t.i AS item,
       (SELECT item FROM similar_items(item2vec_vector(t.i), 4) WHERE rank = 1) AS first,
       (SELECT group_concat(item || ':' || round(similarity, 6)) FROM similar_items(item2vec_vector(t.i), 4) WHERE rank > 1)
     = (SELECT group_concat(item || ':' || round(similarity, 6)) FROM similar_items(t.i, 3)) AS rest_same
  FROM (SELECT item AS i FROM item2vec_vectors) AS t ORDER BY t.i;

-- A vector at 33 degrees, and the same vector three times as long: the
-- nearest are 4 (30), 5 (40), 3 (20), 6 (50); cosines, not dot products.
SELECT group_concat(item) AS at_33, group_concat(round(similarity, 4)) AS cosines
  FROM similar_items(x'1db3563f776d0b3f', 4);
SELECT group_concat(item) AS at_33_long, group_concat(round(similarity, 4)) AS cosines
  FROM similar_items(x'560621403224d13f', 4);
-- With the filters, exact = 1 and score = 'context'.
SELECT group_concat(item) AS with_exclude FROM similar_items(x'1db3563f776d0b3f', 3, 'default', '[4, 3]');
SELECT group_concat(item) AS with_only FROM similar_items(x'1db3563f776d0b3f', 3) WHERE only = '[1, 2, 8, 6]';
SELECT group_concat(item) AS with_min_frequency FROM similar_items(x'1db3563f776d0b3f', 3) WHERE min_frequency = 5;
SELECT group_concat(item) AS exact FROM similar_items(x'1db3563f776d0b3f', 3) WHERE exact = 1;
SELECT group_concat(item) AS context, group_concat(round(similarity, 4)) AS dots
  FROM similar_items(x'560621403224d13f', 3) WHERE score = 'context';
-- The hidden id column is the BLOB as given.
SELECT DISTINCT typeof(id), hex(id) FROM similar_items(x'1db3563f776d0b3f', 2);
-- Lateral: vectors from a table.
CREATE TABLE probes(name TEXT, v BLOB);
INSERT INTO probes VALUES ('at 0', x'0000803f00000000'), ('at 33', x'1db3563f776d0b3f'), ('item 8', NULL);
UPDATE probes SET v = item2vec_vector(8) WHERE name = 'item 8';
SELECT p.name, group_concat(s.item) AS nearest FROM probes AS p, similar_items(p.v, 2) AS s
 GROUP BY p.name ORDER BY p.name;

-- Errors: the wrong length gives both lengths; values must be finite; an
-- all-zero vector has no direction.
SELECT * FROM similar_items(x'0102', 3);
SELECT * FROM similar_items(x'0000803f000000000000803f', 3);
SELECT * FROM similar_items(x'', 3);
SELECT * FROM similar_items(x'0000c07f00000000', 3);
SELECT * FROM similar_items(x'00000000000080ff', 3);
SELECT * FROM similar_items(zeroblob(8), 3);

-- Through the index: the same answers (8 items: the graph finds them all).
SELECT json_extract(item2vec_index('default', 'M=4', 'ef_construction=16', 'ef_search=8',
                                   'threads=1', 'verbose=0'), '$.items') AS indexed_items;
SELECT group_concat(item) AS indexed_at_33 FROM similar_items(x'1db3563f776d0b3f', 4);
SELECT (SELECT group_concat(item) FROM similar_items(item2vec_vector(6), 8) WHERE ef = 1)
     = (SELECT group_concat(item) FROM similar_items(item2vec_vector(6), 8) WHERE exact = 1) AS indexed_same,
       (SELECT group_concat(item) FROM similar_items(x'1db3563f776d0b3f', 3) WHERE min_frequency = 5 AND ef = 1)
     = (SELECT group_concat(item) FROM similar_items(x'1db3563f776d0b3f', 3) WHERE min_frequency = 5 AND exact = 1)
       AS indexed_filtered_same;

-- A model whose items are BLOBs: a BLOB that is an item is that item (left
-- out of its answer); one that is not is a vector.
INSERT INTO item2vec_models(name, dim, items) VALUES ('blobs', 2, 3);
INSERT INTO item2vec_vectors VALUES
  ('blobs', x'0000803f00000000', 1, x'0000803f00000000'), ('blobs', x'aa', 1, x'd7b35d3f0000003f'),
  ('blobs', x'bb', 1, x'441daf3eb28f703f');
SELECT group_concat(hex(item)) AS blob_item FROM similar_items(x'0000803f00000000', 3, 'blobs');
SELECT group_concat(hex(item)) AS blob_vector FROM similar_items(x'441daf3eb28f703f', 3, 'blobs');
SELECT group_concat(hex(item)) AS short_blob_item FROM similar_items(x'aa', 3, 'blobs');
