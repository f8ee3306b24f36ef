-- similar_filters.sql: the hidden columns exclude, only, exact and ef of
-- similar_items, their errors, lateral use, and the query plan.
-- A hand-made model: items 1..8 are 2-D unit vectors at 0, 10, ..., 70
-- degrees, so the similarity of i and j is cos(10 * (i - j)) degrees and
-- every ranking is known.
.headers on
CREATE TABLE item2vec_models(name TEXT PRIMARY KEY, dim INTEGER NOT NULL, items INTEGER NOT NULL,
  source TEXT, params TEXT, stats TEXT, created_at TEXT);
CREATE TABLE item2vec_vectors(model TEXT NOT NULL, item, frequency INTEGER NOT NULL,
  vector BLOB NOT NULL, PRIMARY KEY (model, item)) WITHOUT ROWID;
INSERT INTO item2vec_models(name, dim, items) VALUES ('default', 2, 8);
INSERT INTO item2vec_vectors VALUES
  ('default', 1, 1, x'0000803f00000000'), ('default', 2, 1, x'5c1c7c3fd4d0313e'),
  ('default', 3, 1, x'b28f703f441daf3e'), ('default', 4, 1, x'd7b35d3f0000003f'),
  ('default', 5, 1, x'7d1b443fbb8d243f'), ('default', 6, 1, x'bb8d243f7d1b443f'),
  ('default', 7, 1, x'0000003fd7b35d3f'), ('default', 8, 1, x'441daf3eb28f703f');

-- Plain: the nearest angles first.
SELECT group_concat(item) AS plain, group_concat(round(similarity, 4)) AS cosines FROM similar_items(1, 3);

-- exclude (4th argument or WHERE exclude = ...): those items never appear,
-- and k rows still come back.
SELECT group_concat(item) AS exclude_2_4 FROM similar_items(1, 3, 'default', '[2, 4]');
SELECT group_concat(item) AS exclude_where FROM similar_items(1, 3) WHERE exclude = '[2, "3"]';
SELECT group_concat(item) AS exclude_one FROM similar_items(1, 3) WHERE exclude = 2;
SELECT group_concat(item) AS exclude_unknown FROM similar_items(1, 3) WHERE exclude = '[99, "x"]';
SELECT group_concat(item) AS exclude_null FROM similar_items(1, 3) WHERE exclude = NULL;
SELECT count(*) AS exclude_all FROM similar_items(1, 10) WHERE exclude = '[2,3,4,5,6,7,8]';

-- only: the answer ranks just those candidates, so k rows come back
-- whenever k candidates exist (filtering after the top k would give none
-- here); unknown candidates are ignored, the query item is still left out.
SELECT group_concat(item) AS only_far FROM similar_items(1, 3) WHERE only = '[8, 7, 5, 99]';
SELECT count(*) AS after_topk FROM similar_items(1, 3) WHERE item IN (5, 7, 8);
SELECT group_concat(item) AS only_with_self FROM similar_items(1, 2) WHERE only = '[1, 6, 2]';
SELECT group_concat(item) AS only_and_exclude FROM similar_items(1, 3) WHERE only = '[5, 6, 7]' AND exclude = '[6]';
SELECT count(*) AS only_empty FROM similar_items(1, 3) WHERE only = '[]';
SELECT group_concat(item) AS only_null FROM similar_items(1, 2) WHERE only = NULL;
SELECT group_concat(item) AS only_one FROM similar_items(1, 2) WHERE only = 7;
-- A JSON array query with filters: the mean of 1 and 3 is item 2's direction.
SELECT group_concat(item) AS list_query FROM similar_items('[1, 3]', 3, 'default', '[2]');
SELECT group_concat(item) AS list_only FROM similar_items('{"positive":[1, 3]}', 2) WHERE only = '[8, 2, 6]';

-- exact = 1 scans every row (the same answer without an index); ef is
-- accepted and changes nothing without one.
SELECT (SELECT group_concat(item) FROM similar_items(4, 7) WHERE exact = 1)
     = (SELECT group_concat(item) FROM similar_items(4, 7)) AS exact_same,
       (SELECT group_concat(item) FROM similar_items(4, 7) WHERE ef = 5)
     = (SELECT group_concat(item) FROM similar_items(4, 7)) AS ef_same;

-- Hidden columns echo what was given.
SELECT DISTINCT exclude, only, exact, ef FROM similar_items(1, 2) WHERE exclude = '[2]' AND only = '[3,4,5]' AND exact = 1 AND ef = 7;
SELECT DISTINCT exclude, only, exact, ef FROM similar_items(1, 2);

-- Errors.
SELECT * FROM similar_items(1, 3) WHERE exclude = '{"positive":[2]}';
SELECT * FROM similar_items(1, 3) WHERE only = '[2, 3';
SELECT * FROM similar_items(1, 3) WHERE exclude = '[true]';
SELECT * FROM similar_items(1, 3) WHERE exact = 2;
SELECT * FROM similar_items(1, 3) WHERE exact = 'yes';
SELECT * FROM similar_items(1, 3) WHERE ef = 0;
SELECT * FROM similar_items(1, 3) WHERE ef = 1000000;

-- Lateral: each user's history excluded from that user's recommendations.
CREATE TABLE history(user INTEGER, item INTEGER);
INSERT INTO history VALUES (1, 1), (1, 2), (2, 8), (2, 7), (2, 6);
SELECT h.user, group_concat(s.item) AS recommended
  FROM (SELECT user, json_group_array(item) AS items FROM history GROUP BY user) AS h,
       similar_items(h.items, 2, 'default', h.items) AS s
 GROUP BY h.user ORDER BY h.user;
-- The same through WHERE, with candidates per user.
SELECT h.user, group_concat(s.item) AS recommended
  FROM (SELECT user, json_group_array(item) AS items FROM history GROUP BY user) AS h
  JOIN similar_items AS s ON s.id = h.items AND s.k = 2 AND s.only = '[3, 4, 5]'
 GROUP BY h.user ORDER BY h.user;

-- Every argument may come from another table, whatever the order of FROM.
SELECT c.user, group_concat(s.item) AS from_columns
  FROM similar_items AS s,
       (SELECT 1 AS user, 1 AS q, '[5, 6, 7]' AS cands, '[6]' AS seen
        UNION ALL SELECT 2, 8, '[1, 2, 3]', '[]') AS c
 WHERE s.id = c.q AND s.k = 2 AND s.only = c.cands AND s.exclude = c.seen
 GROUP BY c.user ORDER BY c.user;

-- The plan: idxNum bits 1 id, 2 k, 4 model, 8 exclude, 16 only, 32 exact,
-- 64 ef; rows come out best first, so ORDER BY rank or similarity DESC
-- needs no sort.
EXPLAIN QUERY PLAN SELECT * FROM similar_items(1, 3, 'default', '[2]');
EXPLAIN QUERY PLAN SELECT * FROM similar_items(1) WHERE only = '[2]' AND exact = 1 AND ef = 9;
EXPLAIN QUERY PLAN SELECT * FROM similar_items(1, 3) ORDER BY similarity DESC;
EXPLAIN QUERY PLAN SELECT * FROM similar_items(1, 3) ORDER BY rank;
EXPLAIN QUERY PLAN SELECT * FROM similar_items(1, 3) ORDER BY similarity;
