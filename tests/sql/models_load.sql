-- models_load.sql: loading a stored model written by hand.  The loader reads
-- the rows in the table's order; '1' and 1 stored twice are one item and the
-- first row wins, even when the second copy is malformed or not finite
-- (it is skipped unread); the rows after a dropped copy keep their own
-- vectors; the header's item count is only a hint; a bad row that is not
-- such a copy is an error naming the item.
.headers on
CREATE TABLE item2vec_models(name TEXT PRIMARY KEY, dim INTEGER NOT NULL, items INTEGER NOT NULL,
  source TEXT, params TEXT, stats TEXT, created_at TEXT);
-- A rowid table, so rows come back in the order they were inserted.
CREATE TABLE item2vec_vectors(model TEXT NOT NULL, item, frequency INTEGER NOT NULL,
  vector BLOB NOT NULL);
-- 2-D vectors: '1' = (1, 0), 2 = (0.6, 0.8), 'x' = (0.8, 0.6), 3 = (0, 1),
-- 4 = (-1, 0); the second copies of 1, 2 and 3 would say otherwise.
INSERT INTO item2vec_models(name, dim, items) VALUES ('dups', 2, 9), ('grow', 2, 1),
  ('huge', 2, 1000000), ('badrow', 2, 3), ('nanrow', 2, 3), ('nullrow', 2, 2);
INSERT INTO item2vec_vectors VALUES
  ('dups', '1', 10, x'0000803f00000000'),
  ('dups', 1, 11, x'000000000000803f'),
  ('dups', 2, 12, x'9a99193fcdcc4c3f'),
  ('dups', 2.0, 13, x'00'),
  ('dups', 'x', 14, x'cdcc4c3f9a99193f'),
  ('dups', 3, 15, x'000000000000803f'),
  ('dups', '3', 16, x'0000807f00000000'),
  ('dups', 4, 17, x'000080bf00000000');
INSERT INTO item2vec_vectors SELECT 'grow', item, frequency, vector FROM item2vec_vectors WHERE model = 'dups';
INSERT INTO item2vec_vectors SELECT 'huge', item, frequency, vector FROM item2vec_vectors WHERE model = 'dups';

-- Five items; '1' comes back as the text it was first stored as.
SELECT quote(item) AS item, round(similarity, 4) AS similarity FROM similar_items(2, 10, 'dups');
SELECT quote(item) AS item, round(similarity, 4) AS similarity FROM similar_items(1, 10, 'dups');
-- The first copy of 1 is (1, 0): orthogonal to 3.
SELECT item2vec_similarity(1, 3, 'dups') AS one_three, item2vec_similarity('1', 'x', 'dups') AS one_x,
       item2vec_similarity(3, 4, 'dups') AS three_four;
-- The same rows under a header that says 1 item (the rows grow) or a million.
SELECT group_concat(quote(item)) AS grow FROM similar_items(2, 10, 'grow');
SELECT group_concat(quote(item)) AS huge FROM similar_items(2, 10, 'huge');
SELECT count(*) AS huge_items FROM similar_items(4, 1000000, 'huge');

-- A malformed or non-finite row that is not a second copy is an error.
INSERT INTO item2vec_vectors VALUES
  ('badrow', 1, 1, x'0000803f00000000'), ('badrow', '1', 1, x'00'), ('badrow', 2, 1, x'00000000'),
  ('nanrow', 1, 1, x'0000803f00000000'), ('nanrow', '1', 1, x'0000c07f00000000'),
  ('nanrow', 5, 1, x'0000c07f00000000'),
  ('nullrow', 1, 1, x'0000803f00000000'), ('nullrow', NULL, 1, x'0000803f00000000');
SELECT * FROM similar_items(1, 10, 'badrow');
SELECT * FROM similar_items(1, 10, 'nanrow');
SELECT * FROM similar_items(1, 10, 'nullrow');
-- The good model still answers.
SELECT count(*) AS dups_items FROM similar_items(4, 10, 'dups');
