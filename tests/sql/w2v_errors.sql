-- item2vec_import / item2vec_export errors: each names the function, the
-- file and the problem; a failed import leaves the model as it was and a
-- failed export leaves no file.

-- No model yet.
SELECT item2vec_export('default', '../out/w2v_err.txt');
SELECT readfile('../out/w2v_err.txt') IS NULL,
       (SELECT count(*) FROM fsdir('../out') WHERE name LIKE '../out/.w2v_err.txt.%') = 0;

-- A good model to protect.
SELECT writefile('../out/w2v_good.txt', '2 2' || char(10) || '1 1 0' || char(10) || '2 0 1' || char(10)) > 0;
SELECT json_extract(item2vec_import('../out/w2v_good.txt', 'm'), '$.items');

-- Arguments.
SELECT item2vec_import(NULL, 'm');
SELECT item2vec_import('../out/w2v_good.txt', 7);
SELECT item2vec_import('../out/w2v_good.txt', 'm', 'binary=yes');
SELECT item2vec_export('nope', '../out/w2v_err.txt');
SELECT item2vec_export('m', '');

-- Files that are missing or lie.
SELECT item2vec_import('../out/no_such_file.txt', 'm');
SELECT writefile('../out/w2v_bad.txt', '') >= 0;
SELECT item2vec_import('../out/w2v_bad.txt', 'm');
SELECT writefile('../out/w2v_bad.txt', 'hello world' || char(10)) > 0;
SELECT item2vec_import('../out/w2v_bad.txt', 'm');
SELECT writefile('../out/w2v_bad.txt', '2 0' || char(10)) > 0;
SELECT item2vec_import('../out/w2v_bad.txt', 'm');
SELECT writefile('../out/w2v_bad.txt', '1 70000' || char(10)) > 0;
SELECT item2vec_import('../out/w2v_bad.txt', 'm');
SELECT writefile('../out/w2v_bad.txt', '0 3' || char(10)) > 0;
SELECT item2vec_import('../out/w2v_bad.txt', 'm');
-- Truncated: the header says 3, the file has 2.
SELECT writefile('../out/w2v_bad.txt', '3 2' || char(10) || 'a 1 2' || char(10) || 'b 3 4' || char(10)) > 0;
SELECT item2vec_import('../out/w2v_bad.txt', 'm');
-- More vectors than the header says.
SELECT writefile('../out/w2v_bad.txt', '1 2' || char(10) || 'a 1 2' || char(10) || 'b 3 4' || char(10)) > 0;
SELECT item2vec_import('../out/w2v_bad.txt', 'm');
-- The wrong number of values on a line, either way.
SELECT writefile('../out/w2v_bad.txt', '2 3' || char(10) || 'a 1 2 3' || char(10) || 'b 3 4' || char(10)) > 0;
SELECT item2vec_import('../out/w2v_bad.txt', 'm');
SELECT writefile('../out/w2v_bad.txt', '2 2' || char(10) || 'a 1 2' || char(10) || 'b 3 4 5 6' || char(10)) > 0;
SELECT item2vec_import('../out/w2v_bad.txt', 'm');
-- Not numbers, not finite, out of float32's range.
SELECT writefile('../out/w2v_bad.txt', '1 2' || char(10) || 'a 1 two' || char(10)) > 0;
SELECT item2vec_import('../out/w2v_bad.txt', 'm');
SELECT writefile('../out/w2v_bad.txt', '1 2' || char(10) || 'a 1 nan' || char(10)) > 0;
SELECT item2vec_import('../out/w2v_bad.txt', 'm');
SELECT writefile('../out/w2v_bad.txt', '1 2' || char(10) || 'a -inf 1' || char(10)) > 0;
SELECT item2vec_import('../out/w2v_bad.txt', 'm');
SELECT writefile('../out/w2v_bad.txt', '1 2' || char(10) || 'a 1e39 1' || char(10)) > 0;
SELECT item2vec_import('../out/w2v_bad.txt', 'm');
-- Duplicate names ('7' twice).
SELECT writefile('../out/w2v_bad.txt', '3 1' || char(10) || '7 1' || char(10) || '8 2' || char(10) || '7 3' || char(10)) > 0;
SELECT item2vec_import('../out/w2v_bad.txt', 'm');
-- A name that is not UTF-8.
SELECT writefile('../out/w2v_bad.txt', CAST('1 1' || char(10) AS BLOB) || X'FF41' || CAST(' 1' || char(10) AS BLOB)) > 0;
SELECT item2vec_import('../out/w2v_bad.txt', 'm');
-- A binary file read as text, and a text file read as binary.
SELECT writefile('../out/w2v_bad.txt', CAST('1 2' || char(10) || 'a ' AS BLOB) || X'0000803F00000040' || X'0A') > 0;
SELECT item2vec_import('../out/w2v_bad.txt', 'm');
SELECT item2vec_import('../out/w2v_good.txt', 'm', 'binary=1');

-- Binary: truncated inside a vector, inside a name, before a vector; more
-- data than the header says; a NaN.
SELECT writefile('../out/w2v_bad.bin', CAST('2 2' || char(10) || 'a ' AS BLOB) || X'0000803F00000040' || CAST('b ' AS BLOB) || X'0000803F') > 0;
SELECT item2vec_import('../out/w2v_bad.bin', 'm');
SELECT writefile('../out/w2v_bad.bin', CAST('2 2' || char(10) || 'a ' AS BLOB) || X'0000803F00000040' || CAST('bb' AS BLOB)) > 0;
SELECT item2vec_import('../out/w2v_bad.bin', 'm');
SELECT writefile('../out/w2v_bad.bin', CAST('2 2' || char(10) || 'a ' AS BLOB) || X'0000803F00000040' || X'0A') > 0;
SELECT item2vec_import('../out/w2v_bad.bin', 'm');
SELECT writefile('../out/w2v_bad.bin', CAST('1 2' || char(10) || 'a ' AS BLOB) || X'0000803F00000040' || CAST('b ' AS BLOB) || X'0000803F00000040') > 0;
SELECT item2vec_import('../out/w2v_bad.bin', 'm');
SELECT writefile('../out/w2v_bad.bin', CAST('1 2' || char(10) || 'a ' AS BLOB) || X'0000C07F00000040') > 0;
SELECT item2vec_import('../out/w2v_bad.bin', 'm');
-- The same file is fine once it holds what its header says.
SELECT writefile('../out/w2v_ok.bin', CAST('1 2' || char(10) || 'a ' AS BLOB) || X'0000803F00000040') > 0;
SELECT item2vec_import('../out/w2v_ok.bin', 'ok');
SELECT item, item2vec_to_json(vector) FROM item2vec_vectors WHERE model = 'ok';
-- A gzip file that ends early.
SELECT item2vec_export('m', '../out/w2v_full.txt.gz') IS NOT NULL;
SELECT writefile('../out/w2v_cut.txt.gz', substr(readfile('../out/w2v_full.txt.gz'), 1, 20)) > 0;
SELECT item2vec_import('../out/w2v_cut.txt.gz', 'm');

-- A zip of several files: import cannot name a member, and says so.
SELECT item2vec_import('../data/small.zip', 'm');

-- After all these failures model 'm' is still the good one.
SELECT item, item2vec_to_json(vector) FROM item2vec_vectors WHERE model = 'm' ORDER BY item;
SELECT name, items FROM item2vec_models ORDER BY name;

-- Export: names a word2vec file cannot hold, and a directory that does not
-- exist.  No file is left behind.
CREATE TABLE spaced(u, i);
INSERT INTO spaced VALUES (1, 'a b'), (1, 'c'), (2, 'c'), (2, 'a b');
SELECT json_extract(item2vec_train('spaced', 'u', 'i', 'model=spaced', 'vector_size=4', 'epochs=1', 'workers=1', 'verbose=0'), '$.items');
SELECT item2vec_export('spaced', '../out/w2v_spaced.txt');
SELECT readfile('../out/w2v_spaced.txt') IS NULL,
       (SELECT count(*) FROM fsdir('../out') WHERE name LIKE '../out/.w2v_spaced.txt.%') = 0;
SELECT item2vec_export('m', '../out/no_such_dir/x.txt');

-- One rule for names, both ways: 1 to 65535 bytes of UTF-8 without a space
-- or a control character.  Import refuses what export would not write...
SELECT writefile('../out/w2v_names.txt', '1 2' || char(10) || 'a' || char(1) || 'b 1 0' || char(10)) > 0;
SELECT item2vec_import('../out/w2v_names.txt', 'names');
SELECT writefile('../out/w2v_names.txt', '1 2' || char(10) || printf('%.*c', 65536, 'n') || ' 1 0' || char(10)) > 0;
SELECT item2vec_import('../out/w2v_names.txt', 'names');
SELECT writefile('../out/w2v_names.txt', '1 2' || char(10) || printf('%.*c', 65535, 'n') || ' 1 0' || char(10)) > 0;
SELECT json_extract(item2vec_import('../out/w2v_names.txt', 'names'), '$.items') AS longest_name_imports;
-- ... and export refuses what import would not read.
INSERT INTO item2vec_models(name, dim, items) VALUES ('badnames', 2, 1);
INSERT INTO item2vec_vectors VALUES ('badnames', CAST(x'61ff' AS TEXT), 1, x'0000803f00000000');
SELECT item2vec_export('badnames', '../out/w2v_badnames.txt');
UPDATE item2vec_vectors SET item = printf('%.*c', 65536, 'n') WHERE model = 'badnames';
SELECT item2vec_export('badnames', '../out/w2v_badnames.txt');
UPDATE item2vec_vectors SET item = printf('%.*c', 65535, 'n') WHERE model = 'badnames';
SELECT json_extract(item2vec_export('badnames', '../out/w2v_badnames.txt'), '$.items') AS longest_name_exports;

-- DIRECTONLY: they touch files, so triggers and views cannot call them.
CREATE TABLE log(n);
CREATE TRIGGER t AFTER INSERT ON log BEGIN SELECT item2vec_export('m', '../out/w2v_trigger.txt'); END;
INSERT INTO log VALUES (1);
CREATE VIEW v AS SELECT item2vec_import('../out/w2v_good.txt', 'v') AS x;
SELECT * FROM v;
SELECT readfile('../out/w2v_trigger.txt') IS NULL;
