-- Identifiers are quoted, never pasted: table, column, order_by and model
-- names made of quotes, spaces, keywords and SQL text are read as names.
-- Table "y" is the one the hostile names try to drop; it must survive.
CREATE TABLE y(keep);
INSERT INTO y VALUES ('still here');
CREATE TABLE "x""; DROP TABLE y; --"(
  "x""; DROP TABLE y; --" INTEGER,
  "select" TEXT,
  "order by" INTEGER,
  "it's" TEXT);
WITH RECURSIVE n(v) AS (SELECT 0 UNION ALL SELECT v + 1 FROM n WHERE v < 59)
INSERT INTO "x""; DROP TABLE y; --"
  SELECT v / 6, 'item ' || (v % 7), 60 - v, '); DROP TABLE y; --' || (v % 5) FROM n;
.mode list
SELECT json_extract(item2vec_train('x"; DROP TABLE y; --', 'x"; DROP TABLE y; --', 'select',
         'order_by=order by', 'model=m"; DROP TABLE y; --', 'vector_size=4', 'epochs=1',
         'workers=1', 'verbose=0'), '$.items');
SELECT json_extract(item2vec_train('main.x"; DROP TABLE y; --', 'x"; DROP TABLE y; --', 'it''s',
         'model=it''s', 'vector_size=4', 'epochs=1', 'workers=1', 'verbose=0'), '$.items');
SELECT name, dim, items, source FROM item2vec_models ORDER BY name;
SELECT count(*) FROM similar_items('item 1', 3, 'm"; DROP TABLE y; --');
SELECT count(*) FROM similar_items('); DROP TABLE y; --1', 2, 'it''s');
SELECT * FROM y;
-- An attached schema with a hostile name, addressed as 'schema.table'.
ATTACH ':memory:' AS "a b""c";
CREATE TABLE "a b""c".t(u, i);
INSERT INTO "a b""c".t VALUES (1, 'p'), (1, 'q'), (2, 'p'), (2, 'r');
SELECT json_extract(item2vec_train('a b"c.t', 'u', 'i', 'model=attached', 'vector_size=4',
         'epochs=1', 'workers=1', 'verbose=0'), '$.items');
-- Names that do not exist are errors that quote them back, not SQL.
SELECT item2vec_train('nosuch"; DROP TABLE y; --', 'u', 'i');
SELECT item2vec_train('x"; DROP TABLE y; --', 'u"; DROP TABLE y; --', 'select');
SELECT item2vec_train('x"; DROP TABLE y; --', 'x"; DROP TABLE y; --', 'select', 'order_by=t"; DROP TABLE y; --');
SELECT * FROM similar_items('item 1', 3, 'nosuch"; DROP TABLE y; --');
SELECT * FROM y;
