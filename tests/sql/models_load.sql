-- models_load.sql: loading a stored model written by hand.  The header's
-- item count is only a hint; a bad row is an error naming the item; an item
-- stored twice ('1' and 1 are one item) is an error naming both copies and
-- the row to delete, the rule every reader of the model tables follows.
.headers on
CREATE TABLE item2vec_models(name TEXT PRIMARY KEY, dim INTEGER NOT NULL, items INTEGER NOT NULL,
  source TEXT, params TEXT, stats TEXT, created_at TEXT);
-- A rowid table, so rows come back in the order they were inserted.
CREATE TABLE item2vec_vectors(model TEXT NOT NULL, item, frequency INTEGER NOT NULL,
  vector BLOB NOT NULL);
-- 2-D vectors: '1' = (1, 0), 2 = (0.6, 0.8), 'x' = (0.8, 0.6), 3 = (0, 1),
-- 4 = (-1, 0).
INSERT INTO item2vec_models(name, dim, items) VALUES ('clean', 2, 5), ('grow', 2, 1),
  ('huge', 2, 1000000), ('badrow', 2, 3), ('nanrow', 2, 3), ('nullrow', 2, 2), ('dups', 2, 3),
  ('realdup', 2, 2);
INSERT INTO item2vec_vectors VALUES
  ('clean', '1', 10, x'0000803f00000000'),
  ('clean', 2, 12, x'9a99193fcdcc4c3f'),
  ('clean', 'x', 14, x'cdcc4c3f9a99193f'),
  ('clean', 3, 15, x'000000000000803f'),
  ('clean', 4, 17, x'000080bf00000000');
INSERT INTO item2vec_vectors SELECT 'grow', item, frequency, vector FROM item2vec_vectors WHERE model = 'clean';
INSERT INTO item2vec_vectors SELECT 'huge', item, frequency, vector FROM item2vec_vectors WHERE model = 'clean';

-- Five items; '1' comes back as the text it was stored as.
SELECT quote(item) AS item, round(similarity, 4) AS similarity FROM similar_items(2, 10, 'clean');
SELECT quote(item) AS item, round(similarity, 4) AS similarity FROM similar_items(1, 10, 'clean');
SELECT item2vec_similarity(1, 3, 'clean') AS one_three, item2vec_similarity('1', 'x', 'clean') AS one_x;
-- The same rows under a header that says 1 item (the rows grow) or a million.
SELECT group_concat(quote(item)) AS grow FROM similar_items(2, 10, 'grow');
SELECT group_concat(quote(item)) AS huge FROM similar_items(2, 10, 'huge');
SELECT count(*) AS huge_items FROM similar_items(4, 1000000, 'huge');

-- A malformed or non-finite row is an error naming its item; so is a NULL.
INSERT INTO item2vec_vectors VALUES
  ('badrow', 1, 1, x'0000803f00000000'), ('badrow', 2, 1, x'00000000'),
  ('nanrow', 1, 1, x'0000803f00000000'), ('nanrow', 5, 1, x'0000c07f00000000'),
  ('nullrow', 1, 1, x'0000803f00000000'), ('nullrow', NULL, 1, x'0000803f00000000');
SELECT * FROM similar_items(1, 10, 'badrow');
SELECT * FROM similar_items(1, 10, 'nanrow');
SELECT * FROM similar_items(1, 10, 'nullrow');

-- One item stored twice, as 1 and '1', or as 2.0 and '2': an error naming
-- both spellings and the row to delete, from every reader.
INSERT INTO item2vec_vectors VALUES
  ('dups', 1, 11, x'000000000000803f'), ('dups', 3, 15, x'000000000000803f'),
  ('dups', '1', 10, x'0000803f00000000'),
  ('realdup', 2.0, 13, x'9a99193fcdcc4c3f'), ('realdup', '2', 12, x'cdcc4c3f9a99193f');
SELECT * FROM similar_items(3, 10, 'dups');
SELECT item2vec_similarity(1, 3, 'dups');
SELECT item2vec_vector(3, 'dups');
SELECT * FROM similar_items('2', 10, 'realdup');
-- Deleting the row the message names makes the model whole again.
DELETE FROM item2vec_vectors WHERE model = 'dups' AND item = '1';
SELECT quote(item) AS item, round(similarity, 4) AS similarity FROM similar_items(3, 10, 'dups');
-- The good model still answers.
SELECT count(*) AS clean_items FROM similar_items(4, 10, 'clean');

-- A header's dimension is read whole (2^32 + 2 is not 2) and must be an
-- integer; a vector must be a BLOB, not a TEXT of as many bytes.
INSERT INTO item2vec_models(name, dim, items) VALUES ('wrapdim', 4294967298, 1), ('bigdim', 2147483648, 1),
  ('realdim', 2.5, 1), ('textvec', 2, 1);
INSERT INTO item2vec_vectors VALUES ('wrapdim', 1, 1, x'0000803f00000000'),
  ('bigdim', 1, 1, x'0000803f00000000'), ('realdim', 1, 1, x'0000803f00000000'),
  ('textvec', 1, 1, CAST(x'0000803f00000000' AS TEXT)), ('textvec', 2, 1, 'abcdefgh');
SELECT * FROM similar_items(1, 10, 'wrapdim');
SELECT * FROM similar_items(1, 10, 'bigdim');
SELECT * FROM similar_items(1, 10, 'realdim');
SELECT * FROM similar_items(1, 10, 'textvec');
SELECT item2vec_export('textvec', '../out/models_load_textvec.txt');
SELECT item2vec_export('wrapdim', '../out/models_load_textvec.txt');
