-- sources.sql: what item2vec_train reads from: tables, views (plain and with
-- a recursive CTE), 'schema.name', attached and temp databases, column names
-- in any case, and a table and columns named to break pasted SQL.
-- NULL users and items are skipped and counted in the summary.
.headers on

CREATE TABLE t(u, i);
WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM n WHERE x < 299)
INSERT INTO t SELECT x / 6, (x / 6) % 2 * 10 + x % 6 FROM n;

-- A view as the source; the summary counts what the view returns.
CREATE VIEW even_users AS SELECT u AS who, i AS what FROM t WHERE u % 2 = 0;
SELECT json_extract(s, '$.rows') AS rows, json_extract(s, '$.users') AS users,
       json_extract(s, '$.items') AS items, json_extract(s, '$.tokens') AS tokens
  FROM (SELECT item2vec_train('even_users', 'who', 'what', 'workers=1', 'vector_size=4', 'epochs=1') AS s);
SELECT source, items FROM item2vec_models;

-- A view that generates its rows with a recursive CTE.
CREATE VIEW generated AS
  WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM n WHERE x < 99)
  SELECT x / 5 AS u, 'item ' || (x % 7) AS i FROM n;
SELECT json_extract(item2vec_train('generated', 'u', 'i', 'model=gen', 'workers=1', 'vector_size=4',
       'epochs=1'), '$.items') AS items;
SELECT typeof(item) AS type, count(*) AS n FROM item2vec_vectors WHERE model = 'gen' GROUP BY 1;

-- 'schema.name', an attached database, a temp table; column names in any case.
SELECT json_extract(item2vec_train('main.t', 'u', 'i', 'model=m1', 'workers=1', 'vector_size=4',
       'epochs=1'), '$.tokens') AS main_dot_t;
ATTACH ':memory:' AS aux;
CREATE TABLE aux.plays(player, game);
INSERT INTO aux.plays SELECT u, i FROM t;
SELECT json_extract(item2vec_train('aux.plays', 'player', 'game', 'model=m2', 'workers=1',
       'vector_size=4', 'epochs=1'), '$.tokens') AS aux_dot_plays;
CREATE TEMP TABLE scratch(u, i);
INSERT INTO scratch SELECT u, i FROM t WHERE u < 10;
SELECT json_extract(item2vec_train('temp.scratch', 'u', 'i', 'model=m3', 'workers=1', 'vector_size=4',
       'epochs=1'), '$.tokens') AS temp_dot_scratch;
SELECT json_extract(item2vec_train('T', 'U', 'I', 'model=m4', 'workers=1', 'vector_size=4',
       'epochs=1'), '$.tokens') AS upper_case_names;
-- Models always live in main, whatever the source's schema.
SELECT name, source FROM main.item2vec_models WHERE name GLOB 'm[0-9]' ORDER BY name;
SELECT count(*) AS model_tables_elsewhere FROM aux.sqlite_schema WHERE name GLOB 'item2vec*';

-- A table named to end the quoted identifier and drop another table, with
-- columns named the same way: only a name.
CREATE TABLE y(keep);
INSERT INTO y VALUES ('still here');
CREATE TABLE "x""; DROP TABLE y; --"("u""; DROP TABLE y; --", "i'); DROP TABLE y; --", "t""");
INSERT INTO "x""; DROP TABLE y; --" SELECT u, i, rowid FROM t;
SELECT json_extract(item2vec_train('x"; DROP TABLE y; --', 'u"; DROP TABLE y; --',
       'i''); DROP TABLE y; --', 'order_by=t"', 'model=x"; DROP TABLE y; --',
       'workers=1', 'vector_size=4', 'epochs=1'), '$.tokens') AS hostile_tokens;
SELECT * FROM y;
SELECT name, source, json_extract(params, '$.order_by') AS order_by FROM item2vec_models
 WHERE name GLOB 'x*';
SELECT count(*) AS rows FROM similar_items(10, 3, 'x"; DROP TABLE y; --');
SELECT * FROM similar_items(10, 3, 'x''); DROP TABLE y; --');
SELECT * FROM y;

-- NULL users and items are skipped and counted; the rest trains.
CREATE TABLE holes(u, i);
INSERT INTO holes VALUES (1, 'a'), (1, 'b'), (NULL, 'a'), (NULL, 'c'), (2, NULL), (2, 'a'), (2, 'b'),
                         (NULL, NULL), (3, 'c');
SELECT json_extract(s, '$.rows') AS rows, json_extract(s, '$.skipped_null_users') AS null_users,
       json_extract(s, '$.skipped_null_items') AS null_items, json_extract(s, '$.users') AS users,
       json_extract(s, '$.items') AS items, json_extract(s, '$.sequences') AS sequences,
       json_extract(s, '$.tokens') AS tokens
  FROM (SELECT item2vec_train('holes', 'u', 'i', 'model=holes', 'workers=1', 'vector_size=4',
        'epochs=1') AS s);
-- 'c' was only seen with a NULL user or alone (user 3): it is a known item
-- that no sequence trained, and still gets a vector.
SELECT item, frequency FROM item2vec_vectors WHERE model = 'holes' ORDER BY item;
