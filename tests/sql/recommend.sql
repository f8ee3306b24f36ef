-- recommend_items: what a user gets next, where the history comes from, the
-- filters, lateral joins and the errors a user meets.
-- Generated data: 120 users walk a ring of 40 items one step at a time,
-- starting at different places; user 0 also has text ids that look like JSON.
CREATE TABLE events(user INTEGER, item, ts INTEGER);
WITH RECURSIVE u(id) AS (SELECT 0 UNION ALL SELECT id + 1 FROM u WHERE id < 119),
     t(step) AS (SELECT 0 UNION ALL SELECT step + 1 FROM t WHERE step < 11)
INSERT INTO events SELECT id, (id * 7 + step) % 40, step FROM u, t;
INSERT INTO events VALUES (500, '[REC] (2007)', 1), (500, '["a","b"]', 2), (500, 3, 3),
                          (501, '[REC] (2007)', 1), (501, '["a","b"]', 2), (501, 4, 3);
SELECT json_extract(item2vec_train('events', 'user', 'item', 'order_by=ts', 'workers=1',
                                   'vector_size=16', 'sample=0'), '$.items');

-- The model records where its rows came from.
SELECT json_extract(params, '$.user_col'), json_extract(params, '$.item_col'),
       json_extract(params, '$.order_by') FROM item2vec_models;
SELECT count(*) > 0 FROM item2vec_pairs WHERE model = 'default';

-- User 3 walked 21..32: the next items on the ring come first.
SELECT rank, item FROM recommend_items(3, 3);
-- Never an item the user has; with seen=1 they may come back.
SELECT count(*) FROM recommend_items(3, 40) r JOIN events e ON e.user = 3 AND e.item = r.item;
SELECT count(*) > 0 FROM recommend_items(3, 40) r JOIN events e ON e.user = 3 AND e.item = r.item
 WHERE r.seen = 1 AND r.min_frequency = 0;
-- Scores fall with rank and lie in (0, 1].
SELECT min(score) > 0, max(score) <= 1,
       (SELECT count(*) FROM recommend_items(3, 10) a, recommend_items(3, 10) b
         WHERE b.rank = a.rank + 1 AND b.score > a.score) FROM recommend_items(3, 10);

-- The same rows from the source and from history = the user's items, oldest first.
SELECT (SELECT group_concat(item) FROM recommend_items(3, 5)) =
       (SELECT group_concat(item) FROM recommend_items(NULL, 5)
         WHERE history = (SELECT json_group_array(item) FROM
                          (SELECT item FROM events WHERE user = 3 ORDER BY ts)));
-- An anonymous session.
SELECT count(*) FROM recommend_items(NULL, 4) WHERE history = '[10, 11, 12]';
SELECT count(*) FROM recommend_items(NULL, 4) WHERE history = json_array(10, 11, 12);

-- Every user in one statement (a lateral join), 5 rows each.
SELECT count(*), count(DISTINCT u.user)
  FROM (SELECT DISTINCT user FROM events) u, recommend_items(u.user, 5) r;
-- The same rows one user at a time (no index on user: the join reads the source once).
SELECT count(*) FROM (SELECT DISTINCT user FROM events) u, recommend_items(u.user, 5) r
 WHERE r.item <> (SELECT item FROM recommend_items(u.user, 5) x WHERE x.rank = r.rank);
CREATE INDEX events_user ON events(user);
SELECT count(*) FROM (SELECT DISTINCT user FROM events) u, recommend_items(u.user, 5) r;

-- Filters: exclude, only, min_frequency.
SELECT count(*) FROM recommend_items(3, 5) WHERE exclude = '[33, 34]' AND item IN (33, 34);
SELECT group_concat(item) FROM (SELECT item FROM recommend_items(3, 5) WHERE only = '[1, 2, 34]'
                                 ORDER BY item);
SELECT count(*) FROM recommend_items(500, 10) WHERE min_frequency = 0 AND item = '["a","b"]';
SELECT count(*) FROM recommend_items(500, 50) r JOIN item2vec_vectors v ON v.item = r.item
 WHERE v.frequency < 3;

-- Text ids that look like JSON are items: user 501's history is read from the
-- source; as an exclude value the id names the item.
SELECT count(*) FROM recommend_items(500, 50) WHERE item = 4 AND min_frequency = 1;
SELECT count(*) FROM recommend_items(500, 50) WHERE item = '[REC] (2007)' AND seen = 1
   AND min_frequency = 1 AND exclude = '[REC] (2007)';

-- Unknown users, histories of unknown items: no rows.
SELECT count(*) FROM recommend_items(99999, 5);
SELECT count(*) FROM recommend_items(NULL, 5) WHERE history = '["nothing"]';
SELECT count(*) FROM recommend_items(NULL, 5) WHERE history = '[]';

-- Errors.
SELECT * FROM recommend_items(3, 0);
SELECT * FROM recommend_items(3, 'ten');
SELECT * FROM recommend_items(3, 5, 'nope');
SELECT * FROM recommend_items(3, 5, 7);
SELECT * FROM recommend_items(NULL, 5) WHERE history = '[1, 2';
SELECT * FROM recommend_items(NULL, 5) WHERE history = '{"positive": [1]}';
SELECT * FROM recommend_items(NULL, 5) WHERE history = 'abc';
SELECT * FROM recommend_items(3, 5) WHERE seen = 2;
SELECT * FROM recommend_items(3, 5) WHERE min_frequency = -1;
SELECT * FROM recommend_items;
SELECT * FROM recommend_items(3, 5) WHERE exclude = '{"a": 1}';
-- The source is gone: say so, and suggest history.
ALTER TABLE events RENAME TO old_events;
SELECT * FROM recommend_items(3, 5);
ALTER TABLE old_events RENAME TO events;
-- A model that cannot say where its source is (imported, or from an older version).
UPDATE item2vec_models SET params = json_remove(params, '$.user_col');
SELECT * FROM recommend_items(3, 5);
SELECT count(*) FROM recommend_items(NULL, 5) WHERE history = '[10, 11]';
-- A model without context vectors.
SELECT json_extract(item2vec_train('events', 'user', 'item', 'model=plain', 'save_context=0',
                                   'workers=1', 'epochs=1'), '$.items');
SELECT * FROM recommend_items(3, 5, 'plain');
