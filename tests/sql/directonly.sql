-- item2vec_train reads a table the caller names and writes the model
-- tables, so it is SQLITE_DIRECTONLY: a view or a trigger (which may come
-- with a database someone else wrote) cannot call it, whatever
-- trusted_schema says.  Direct calls work.
CREATE TABLE r(u, i);
INSERT INTO r VALUES (1, 'a'), (1, 'b'), (2, 'a'), (2, 'c');
CREATE VIEW v_train AS
  SELECT item2vec_train('r', 'u', 'i', 'vector_size=4', 'epochs=1', 'verbose=0') AS s;
SELECT * FROM v_train;
CREATE TABLE log(x);
CREATE TRIGGER t_train AFTER INSERT ON log BEGIN
  SELECT item2vec_train('r', 'u', 'i', 'vector_size=4', 'epochs=1', 'verbose=0');
END;
INSERT INTO log VALUES (1);
SELECT count(*) FROM log;
PRAGMA trusted_schema = 1;
SELECT * FROM v_train;
INSERT INTO log VALUES (2);
SELECT count(*) FROM sqlite_schema WHERE name = 'item2vec_models';
-- The direct call is allowed.
SELECT json_extract(item2vec_train('r', 'u', 'i', 'vector_size=4', 'epochs=1', 'workers=1',
                                   'verbose=0'), '$.items');
-- The readers only read item2vec's own tables: a view may use them.
CREATE VIEW v_similar AS SELECT count(*) AS n FROM similar_items('a', 5);
SELECT n FROM v_similar;
CREATE VIEW v_sim AS SELECT item2vec_similarity('a', 'a') IS NOT NULL AS known;
SELECT known FROM v_sim;
-- The file functions are DIRECTONLY too: reading a CSV table (one stored in
-- the database's own schema, as a hostile file could ship it) through a view,
-- or exporting or importing a model from a view or a trigger, is refused.
CREATE VIRTUAL TABLE main.csv USING item2vec_csv(path='../data/ratings.csv');
SELECT count(*) FROM main.csv;
CREATE VIEW v_csv AS SELECT count(*) FROM main.csv;
SELECT * FROM v_csv;
CREATE VIEW v_export AS SELECT item2vec_export('default', '../out/directonly.txt');
SELECT * FROM v_export;
CREATE VIEW v_import AS SELECT item2vec_import('../out/directonly.txt', 'imported');
SELECT * FROM v_import;
CREATE TRIGGER t_export AFTER INSERT ON log BEGIN
  SELECT item2vec_export('default', '../out/directonly.txt');
END;
INSERT INTO log VALUES (3);
SELECT count(*) FROM log;
-- item2vec_evaluate reads a table the caller names (and can store a model).
CREATE VIEW v_evaluate AS SELECT item2vec_evaluate('r', 'u', 'i', 'epochs=1', 'verbose=0');
SELECT * FROM v_evaluate;
-- item2vec_project only reads item2vec's tables: a view may use it.
CREATE VIEW v_project AS SELECT count(*) FROM item2vec_project('default', 2);
SELECT * FROM v_project;
-- item2vec_drop writes the model tables: a view or a trigger cannot call it.
CREATE VIEW v_drop AS SELECT item2vec_drop('default');
SELECT * FROM v_drop;
CREATE TRIGGER t_drop AFTER INSERT ON log BEGIN SELECT item2vec_drop('default'); END;
INSERT INTO log VALUES (4);
SELECT name FROM item2vec_models;
-- item2vec_lines reads files like item2vec_csv: not through a view.
CREATE VIRTUAL TABLE main.lines USING item2vec_lines('../data/playlists.txt');
SELECT count(*) FROM main.lines;
CREATE VIEW v_lines AS SELECT count(*) FROM main.lines;
SELECT * FROM v_lines;
