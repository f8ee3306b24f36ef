-- similar.sql: the similar_items table-valued function: one item, text
-- and integer ids, JSON arrays, positive/negative queries, hidden columns,
-- lateral joins and their query plan, and its errors.
-- Neighbours are printed as sorted sets of clearly separated clusters (the
-- order inside a cluster is a matter of floating point), never raw scores.
.headers on

-- 3 clusters of 4 items (101-104, 201-204, 301-304), 240 users.
CREATE TABLE events(user INTEGER, item INTEGER, ts INTEGER);
WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM n WHERE x < 1919)
INSERT INTO events SELECT x / 8, ((x / 8) % 3 + 1) * 100 + (x * 5 + x / 8) % 4 + 1, 10000 - x FROM n;
CREATE TABLE titles(item INTEGER PRIMARY KEY, title TEXT);
INSERT INTO titles SELECT DISTINCT item, 'title of ' || item FROM events;

-- No model yet: a clear error.
SELECT * FROM similar_items(101, 3);

SELECT json_extract(item2vec_train('events', 'user', 'item', 'workers=1', 'seed=7',
       'vector_size=16', 'window=3', 'sample=0', 'epochs=4'), '$.items') AS trained_items;

-- One item: its cluster, best first, ranks from 1, the item itself left out.
SELECT group_concat(item) AS neighbours_of_101 FROM (SELECT item FROM similar_items(101, 3) ORDER BY item);
SELECT group_concat(rank) AS ranks FROM similar_items(101, 3);
SELECT count(*) AS rows, sum(item = 101) AS self_rows, max(abs(similarity)) <= 1.0001 AS cosines
  FROM similar_items(101, 100);
SELECT count(*) AS out_of_order FROM similar_items(101, 11) a JOIN similar_items(101, 11) b
    ON b.rank = a.rank + 1 WHERE b.similarity > a.similarity;
SELECT typeof(rank), typeof(item), typeof(similarity) FROM similar_items(101, 1);
-- k defaults to 10; k larger than the model gives every other item.
SELECT count(*) AS default_k FROM similar_items(101);
SELECT count(*) AS big_k FROM similar_items(101, 1000000);
-- Joined to titles, as a user would.
SELECT t.title FROM similar_items(204, 3) AS s JOIN titles AS t ON t.item = s.item ORDER BY t.title;

-- Text and integer ids: '101' and 101 (and 101.0, and '101' in JSON) are one item.
SELECT (SELECT group_concat(item || ':' || rank) FROM similar_items('101', 5))
     = (SELECT group_concat(item || ':' || rank) FROM similar_items(101, 5)) AS text_eq_int,
       (SELECT group_concat(item || ':' || rank) FROM similar_items(101.0, 5))
     = (SELECT group_concat(item || ':' || rank) FROM similar_items(101, 5)) AS real_eq_int,
       (SELECT group_concat(item || ':' || rank) FROM similar_items('["101"]', 5))
     = (SELECT group_concat(item || ':' || rank) FROM similar_items(101, 5)) AS json_text_eq_int;
-- The items come back with the type they were stored with.
SELECT DISTINCT typeof(item) AS item_type FROM similar_items('101', 5);

-- Hidden columns echo the arguments as given.
SELECT DISTINCT id, typeof(id), k, model FROM similar_items('101', 2);
SELECT DISTINCT id, k, model FROM similar_items(101);
SELECT count(*) AS rows FROM similar_items WHERE id = 101 AND k = 2 AND model = 'default';

-- A JSON array: the mean of the items' unit vectors; all of them left out.
SELECT group_concat(item) AS neighbours_of_101_102 FROM (SELECT item FROM similar_items('[101, 102]', 2) ORDER BY item);
SELECT group_concat(item) AS neighbours_of_101_201 FROM (SELECT item FROM similar_items('[101, 201]', 6) ORDER BY item);
SELECT count(*) AS rows FROM similar_items(' [ 101 , "102" ] ', 100);
-- Unknown items in the list are ignored; an empty list has no rows.
SELECT (SELECT group_concat(item || ':' || rank) FROM similar_items('[101, 999, "nope"]', 5))
     = (SELECT group_concat(item || ':' || rank) FROM similar_items(101, 5)) AS unknown_ignored;
SELECT count(*) AS empty_list FROM similar_items('[]', 5);

-- positive/negative, as gensim's most_similar: the negative item's cluster
-- falls to the bottom.
SELECT group_concat(item) AS top FROM (SELECT item FROM similar_items('{"positive":[101],"negative":[201]}', 3) ORDER BY item);
SELECT group_concat(item) AS bottom FROM (SELECT item FROM similar_items('{"positive":[101],"negative":[201]}', 10)
  WHERE rank > 7 ORDER BY item);
SELECT (SELECT group_concat(item || ':' || rank) FROM similar_items('{"positive":[101]}', 5))
     = (SELECT group_concat(item || ':' || rank) FROM similar_items(101, 5)) AS positive_only_eq_item,
       (SELECT group_concat(item || ':' || rank) FROM similar_items('{"positive":101}', 5))
     = (SELECT group_concat(item || ':' || rank) FROM similar_items(101, 5)) AS scalar_member;
SELECT count(*) AS rows FROM similar_items('{"positive":[101, 102], "negative":[201]}', 100);
SELECT count(*) AS negative_only_rows, min(item / 100) AS min_cluster
  FROM similar_items('{"negative":[101, 102, 103, 104]}', 3) WHERE item / 100 = 1;
SELECT count(*) AS empty_object FROM similar_items('{}', 5);

-- Unknown items and NULL: no rows, no error.
SELECT count(*) AS unknown FROM similar_items(999, 5);
SELECT count(*) AS unknown_text FROM similar_items('101x', 5);
SELECT count(*) AS null_id FROM similar_items(NULL, 5);
-- (A BLOB that is not an item is a query vector: similar_vector.sql.)

-- k: a positive integer; integral reals and integer text will do.
SELECT count(*) AS k_text FROM similar_items(101, '2');
SELECT count(*) AS k_real FROM similar_items(101, 2.0);
SELECT * FROM similar_items(101, 0);
SELECT * FROM similar_items(101, -3);
SELECT * FROM similar_items(101, 2.5);
SELECT * FROM similar_items(101, 'many');
SELECT * FROM similar_items(101, NULL);

-- Unknown model, model not a name, no id at all.
SELECT * FROM similar_items(101, 3, 'nope');
SELECT * FROM similar_items(101, 3, 42);
SELECT * FROM similar_items;
SELECT * FROM similar_items WHERE k = 3;

-- Malformed JSON: what is wrong and where.
SELECT * FROM similar_items('[101, 102', 3);
SELECT * FROM similar_items('[101 102]', 3);
SELECT * FROM similar_items('[true]', 3);
SELECT * FROM similar_items('{"positive":[101], "neg":[102]}', 3);
SELECT * FROM similar_items('{"positive":[101]} x', 3);
SELECT * FROM similar_items('["\ud800"]', 3);

-- Lateral joins: the neighbours of many items in one query.
SELECT e.item, count(*) AS neighbours, sum(s.item / 100 = e.item / 100) AS same_cluster
  FROM (SELECT DISTINCT item FROM events) AS e, similar_items(e.item, 3) AS s
 GROUP BY e.item ORDER BY e.item;
SELECT t.item, group_concat(s.rank) AS ranks
  FROM titles AS t, similar_items(t.item, 2) AS s WHERE t.item IN (101, 302) GROUP BY t.item ORDER BY t.item;
-- JOIN ... ON with the hidden columns, and LEFT JOIN keeping unknown items.
SELECT count(*) AS rows FROM titles AS t JOIN similar_items AS s ON s.id = t.item AND s.k = 2;
CREATE TABLE wanted(id);
INSERT INTO wanted VALUES (101), ('201'), (999), (NULL);
SELECT w.id, count(s.item) AS neighbours FROM wanted AS w LEFT JOIN similar_items(w.id, 2) AS s
 GROUP BY w.id ORDER BY w.rowid;
-- A correlated subquery.
SELECT item, (SELECT s.item / 100 FROM similar_items(t.item, 1) AS s) = item / 100 AS best_in_cluster
  FROM titles AS t ORDER BY item;
-- The plan: the outer table drives, similar_items is probed with its id
-- (idxNum 1 = id, 2 = k, 4 = model).
EXPLAIN QUERY PLAN
SELECT t.title, s.item FROM titles AS t, similar_items(t.item, 3) AS s;
EXPLAIN QUERY PLAN
SELECT t.title, s.item FROM similar_items(t.item, 3, 'default') AS s, titles AS t WHERE t.item < 200;
EXPLAIN QUERY PLAN
SELECT * FROM similar_items(101);

-- A second model answers with its own vectors; the first is untouched.
SELECT json_extract(item2vec_train('events', 'user', 'item', 'model=small', 'workers=1', 'seed=7',
       'vector_size=4', 'window=3', 'sample=0', 'epochs=2'), '$.model') AS model;
SELECT count(*) AS rows, min(model) AS model FROM similar_items(101, 3, 'small');
SELECT group_concat(item) AS default_still FROM (SELECT item FROM similar_items(101, 3) ORDER BY item);
