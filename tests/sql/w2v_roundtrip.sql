-- item2vec_export / item2vec_import: word2vec text and binary, plain and
-- gzip, round trips that keep every bit of every vector.
CREATE VIRTUAL TABLE temp.r USING item2vec_csv(path='../data/ratings.csv');
CREATE TABLE ratings AS SELECT * FROM temp.r;
SELECT json_extract(item2vec_train('ratings', 'userId', 'movieId', 'order_by=timestamp',
  'vector_size=8', 'epochs=3', 'workers=1', 'seed=1', 'verbose=0'), '$.items');

SELECT item2vec_export('default', '../out/w2v_rt.txt');
SELECT item2vec_export('default', '../out/w2v_rt.bin');
SELECT item2vec_export('default', '../out/w2v_rt.txt.gz');
SELECT item2vec_export('default', '../out/w2v_rt.bin.gz');
SELECT item2vec_export('default', '../out/w2v_rt.vec', 'binary=1');

-- The text file: a header, then the items most frequent first.
SELECT substr(readfile('../out/w2v_rt.txt'), 1, instr(readfile('../out/w2v_rt.txt'), char(10)) - 1);
SELECT length(readfile('../out/w2v_rt.bin')) = length('18 8' || char(10))
  + (SELECT sum(length(CAST(item AS TEXT)) + 1 + 32 + 1) FROM item2vec_vectors);
-- Gzip files start with 1f 8b; the binary file named .vec is binary.
SELECT hex(substr(readfile('../out/w2v_rt.txt.gz'), 1, 2)), hex(substr(readfile('../out/w2v_rt.bin.gz'), 1, 2));
SELECT readfile('../out/w2v_rt.vec') = readfile('../out/w2v_rt.bin');
-- No temporary file is left behind.
SELECT count(*) = 0 FROM fsdir('../out') WHERE name LIKE '../out/.w2v\_rt.%' ESCAPE '\';

SELECT item2vec_import('../out/w2v_rt.txt', 'txt');
SELECT item2vec_import('../out/w2v_rt.bin', 'bin');
SELECT item2vec_import('../out/w2v_rt.txt.gz', 'txtgz');
SELECT item2vec_import('../out/w2v_rt.bin.gz', 'bingz');
SELECT item2vec_import('../out/w2v_rt.vec', 'vec', 'binary=1');

-- Every vector is bit-identical to the trained one, items keep their
-- integer type, and frequency is N - position (the file's order).
SELECT v.model, count(*), sum(v.vector = d.vector), sum(typeof(v.item) = 'integer'),
       sum(v.frequency BETWEEN 1 AND 18)
  FROM item2vec_vectors AS v JOIN item2vec_vectors AS d ON d.model = 'default' AND d.item = v.item
 WHERE v.model <> 'default' GROUP BY v.model ORDER BY v.model;
SELECT name, dim, items, source FROM item2vec_models WHERE name <> 'default' ORDER BY name;
-- The exported order comes back: ORDER BY frequency DESC agrees.
SELECT (SELECT group_concat(item) FROM (SELECT item FROM item2vec_vectors WHERE model = 'default'
          ORDER BY frequency DESC, item))
     = (SELECT group_concat(item) FROM (SELECT item FROM item2vec_vectors WHERE model = 'txt'
          ORDER BY frequency DESC));

-- similar_items answers from an imported model as from the trained one.
SELECT count(*) FROM similar_items(1, 5, 'default') AS a
  JOIN similar_items(1, 5, 'bin') AS b ON a.rank = b.rank AND a.item = b.item
   AND a.similarity = b.similarity;
SELECT count(*) FROM similar_items('[7, 8]', 5, 'default') AS a
  JOIN similar_items('[7, 8]', 5, 'txtgz') AS b ON a.rank = b.rank AND a.item = b.item;

-- Importing again replaces the model.
SELECT json_extract(item2vec_import('../out/w2v_rt.txt', 'txt'), '$.items');
SELECT count(*) FROM item2vec_vectors WHERE model = 'txt';

-- Text names: items stay TEXT unless every name is an integer.
SELECT writefile('../out/w2v_names.txt', '3 2' || char(10) || 'alpha 1 0' || char(10) ||
  '42 0.5 0.5' || char(10) || 'caf' || char(233) || ' 0 1' || char(10)) > 0;
SELECT item2vec_import('../out/w2v_names.txt', 'names');
SELECT item, typeof(item), frequency, item2vec_to_json(vector) FROM item2vec_vectors
 WHERE model = 'names' ORDER BY frequency DESC;
SELECT item, round(similarity, 6) FROM similar_items('alpha', 5, 'names');
-- Trailing spaces (word2vec.c writes them), CRLF, and blank lines at the end are fine.
SELECT writefile('../out/w2v_crlf.txt', '2 3 ' || char(13,10) || '10 1 2 3 ' || char(13,10) ||
  '-20 4 5 6 ' || char(13,10) || char(10)) > 0;
SELECT item2vec_import('../out/w2v_crlf.txt', 'crlf');
SELECT item, typeof(item), item2vec_to_json(vector) FROM item2vec_vectors WHERE model = 'crlf'
 ORDER BY frequency DESC;
-- An export of a text-named model reads back the same.
SELECT json_extract(item2vec_export('names', '../out/w2v_names2.txt'), '$.items');
SELECT readfile('../out/w2v_names2.txt') = readfile('../out/w2v_names.txt');
