-- similar_json_ids.sql: text ids that look like JSON.  The rule: a text
-- that names a known item is that item; only otherwise is it read as JSON
-- (a JSON array of items is a query of several items).  json_array(x) is
-- the explicit form of one item.  The same rule holds for id, exclude and
-- only, and in lateral joins, where one such title used to abort the whole
-- query with "malformed JSON".
-- A hand-made model 'titles': 2-D unit vectors at the angles below, so
-- every ranking is known.
.headers on
CREATE TABLE item2vec_models(name TEXT PRIMARY KEY, dim INTEGER NOT NULL, items INTEGER NOT NULL,
  source TEXT, params TEXT, stats TEXT, created_at TEXT);
CREATE TABLE item2vec_vectors(model TEXT NOT NULL, item, frequency INTEGER NOT NULL,
  vector BLOB NOT NULL, PRIMARY KEY (model, item)) WITHOUT ROWID;
INSERT INTO item2vec_models(name, dim, items) VALUES ('titles', 2, 9);
INSERT INTO item2vec_vectors VALUES
  ('titles', 'Alien (1979)', 1, x'0000803f00000000'),     -- 0 degrees
  ('titles', '[REC] (2007)', 1, x'e2677a3fcde6543e'),     -- 12
  ('titles', '[REC] 2 (2009)', 1, x'b28f703f441daf3e'),   -- 20
  ('titles', '["a","b"]', 1, x'1db3563f776d0b3f'),        -- 33
  ('titles', 'a', 1, x'a634413f7cf3273f'),                -- 41
  ('titles', 'b', 1, x'e8d5123ff3b3513f'),                -- 55
  ('titles', '{"positive":"a"}', 1, x'945ef03eda08623f'), -- 62
  ('titles', ' [x', 1, x'ee83843eea46773f'),              -- 75
  ('titles', 7, 1, x'7bdc8e3d5c607f3f');                  -- 86

-- Known items, whatever they look like: each is that one item.
SELECT group_concat(item, ' | ') AS rec FROM similar_items('[REC] (2007)', 3, 'titles');
SELECT group_concat(item, ' | ') AS array_like FROM similar_items('["a","b"]', 3, 'titles');
SELECT group_concat(item, ' | ') AS object_like FROM similar_items('{"positive":"a"}', 3, 'titles');
SELECT group_concat(item, ' | ') AS blank_bracket FROM similar_items(' [x', 2, 'titles');
-- Other spellings are not items, so they are JSON: the mean of a and b
-- (48 degrees), and the query of a alone.
SELECT group_concat(item, ' | ') AS two_items FROM similar_items('["a", "b"]', 3, 'titles');
SELECT group_concat(item, ' | ') AS positive_a FROM similar_items('{"positive": "a"}', 3, 'titles');
-- json_array(x): the explicit form of one item.
SELECT group_concat(item, ' | ') AS explicit FROM similar_items(json_array('[REC] (2007)'), 3, 'titles');
SELECT group_concat(item, ' | ') AS explicit_two FROM similar_items(json_array('[REC] (2007)', 7), 3, 'titles');

-- exclude and only follow the rule too.
SELECT group_concat(item, ' | ') AS exclude_title FROM similar_items('Alien (1979)', 2, 'titles', '[REC] (2007)');
SELECT group_concat(item, ' | ') AS exclude_titles
  FROM similar_items('Alien (1979)', 2, 'titles', json_array('[REC] (2007)', '[REC] 2 (2009)'));
SELECT group_concat(item, ' | ') AS only_array_like FROM similar_items('a', 3, 'titles') WHERE only = '["a","b"]';
SELECT group_concat(item, ' | ') AS only_two FROM similar_items('a', 3, 'titles') WHERE only = '["a", "b", 7]';

-- A lateral join over a table of such titles: every known one answers.
CREATE TABLE movies(id INTEGER PRIMARY KEY, title TEXT);
INSERT INTO movies(title) VALUES ('Alien (1979)'), ('[REC] (2007)'), ('[REC] 2 (2009)'),
  ('["a","b"]'), ('{"positive":"a"}'), (' [x'), ('Unknown (2020)');
SELECT m.title, group_concat(s.item, ' | ') AS nearest
  FROM movies AS m, similar_items(m.title, 2, 'titles') AS s GROUP BY m.id ORDER BY m.id;
SELECT m.title, count(s.item) AS n FROM movies AS m
  LEFT JOIN similar_items AS s ON s.id = m.title AND s.k = 2 AND s.model = 'titles'
 GROUP BY m.id ORDER BY m.id;

-- A text that is no item and no valid JSON is an error that says how the
-- text was read; json_array() of it is an unknown item: no rows.
SELECT * FROM similar_items('[REC] 3 (2012)', 3, 'titles');
SELECT count(*) AS unknown_explicit FROM similar_items(json_array('[REC] 3 (2012)'), 3, 'titles');
SELECT * FROM similar_items('a', 3, 'titles') WHERE exclude = '[REC] 3 (2012)';
-- So in a lateral join over titles the model may not know, json_array()
-- keeps one unknown title from stopping the query.
INSERT INTO movies(title) VALUES ('[REC] 3 (2012)');
SELECT m.title, group_concat(s.item, ' | ') AS nearest
  FROM movies AS m, similar_items(json_array(m.title), 1, 'titles') AS s GROUP BY m.id ORDER BY m.id;
SELECT count(*) FROM movies AS m, similar_items(m.title, 1, 'titles') AS s;

-- A trained model keeps such ids and answers for each of them: two groups
-- of three titles, each user watching the three of one group.
CREATE TABLE groups(title TEXT, grp INTEGER);
INSERT INTO groups VALUES ('[REC] (2007)', 0), ('[REC] 2 (2009)', 0), ('["a","b"]', 0),
  ('{}', 1), ('Alien (1979)', 1), ('[1]', 1);
CREATE TABLE events(user INTEGER, title TEXT);
WITH RECURSIVE u(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM u WHERE n < 99)
INSERT INTO events SELECT u.n, g.title FROM u, groups AS g WHERE g.grp = u.n % 2;
SELECT json_extract(item2vec_train('events', 'user', 'title', 'model=trained', 'workers=1', 'seed=1',
       'vector_size=8', 'min_count=1', 'sample=0', 'epochs=20', 'verbose=0'), '$.items') AS trained_items;
SELECT g.title, group_concat(n.item, ' | ') AS neighbours
  FROM groups AS g,
       (SELECT g2.title AS q, s.item FROM groups AS g2, similar_items(g2.title, 2, 'trained') AS s
         ORDER BY s.item) AS n
 WHERE n.q = g.title GROUP BY g.title ORDER BY g.grp, g.title;
