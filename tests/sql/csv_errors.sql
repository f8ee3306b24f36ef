-- item2vec_csv errors name the file and the problem; nothing crashes.

-- Arguments.
CREATE VIRTUAL TABLE temp.e USING item2vec_csv();
CREATE VIRTUAL TABLE temp.e USING item2vec_csv(path='../data/ratings.csv', colour='red');
CREATE VIRTUAL TABLE temp.e USING item2vec_csv(path='../data/ratings.csv', header='maybe');
CREATE VIRTUAL TABLE temp.e USING item2vec_csv(path='../data/ratings.csv', delimiter=';;');

-- Files that are not there or not what they claim.
CREATE VIRTUAL TABLE temp.e USING item2vec_csv(path='../data/no_such_file.csv');
CREATE VIRTUAL TABLE temp.e USING item2vec_csv(path='../data');
CREATE VIRTUAL TABLE temp.e USING item2vec_csv(path='../data/notgzip.csv.gz');
CREATE VIRTUAL TABLE temp.e USING item2vec_csv(path='../data/notzip.zip');
CREATE VIRTUAL TABLE temp.e USING item2vec_csv(path='../data/ratings.csv', member='ratings.csv');

-- Zip members: missing (the members are listed), ambiguous choice, and the
-- kinds this reader does not support.
CREATE VIRTUAL TABLE temp.e USING item2vec_csv(path='../data/small.zip', member='small/users.csv');
CREATE VIRTUAL TABLE temp.e USING item2vec_csv(path='../data/small.zip');
CREATE VIRTUAL TABLE temp.e USING item2vec_csv(path='../data/encrypted.zip', member='small/ratings.csv');
CREATE VIRTUAL TABLE temp.e USING item2vec_csv(path='../data/zip64.zip', member='small/ratings.csv');
CREATE VIRTUAL TABLE temp.e USING item2vec_csv(path='../data/bzip2.zip', member='small/ratings.csv');
CREATE VIRTUAL TABLE temp.e USING item2vec_csv(path='../data/truncated.zip', member='small/ratings.csv');

-- Damaged compressed data.  These files are small, so the damage shows
-- at creation, which reads the first rows to declare the column types;
-- in a big file it shows in the scan that reaches it.
CREATE VIRTUAL TABLE temp.e USING item2vec_csv(path='../data/truncated.csv.gz');
CREATE VIRTUAL TABLE temp.e USING item2vec_csv(path='../data/bad_crc.zip', member='small/ratings.csv');
CREATE VIRTUAL TABLE temp.e USING item2vec_csv(path='../data/bad_length.csv.gz');
CREATE VIRTUAL TABLE temp.e USING item2vec_csv(path='../data/corrupt.csv.gz');

-- CSV errors carry the line number.
SELECT writefile('../out/csv_toomany.csv', 'a,b' || char(10) || '1,2' || char(10) ||
  '"x' || char(10) || 'y",3' || char(10) || '4,5,6' || char(10)) > 0;
CREATE VIRTUAL TABLE temp.e USING item2vec_csv(path='../out/csv_toomany.csv');
SELECT writefile('../out/csv_unterminated.csv', 'a,b' || char(10) || '1,"2' || char(10) || '3,4' || char(10)) > 0;
CREATE VIRTUAL TABLE temp.e USING item2vec_csv(path='../out/csv_unterminated.csv');
SELECT writefile('../out/csv_afterquote.csv', 'a,b' || char(10) || '"1"x,2' || char(10)) > 0;
CREATE VIRTUAL TABLE temp.e USING item2vec_csv(path='../out/csv_afterquote.csv');
SELECT writefile('../out/csv_empty.csv', '') >= 0;
CREATE VIRTUAL TABLE temp.e USING item2vec_csv(path='../out/csv_empty.csv');

-- A bad row after the rows read at creation fails the scan that reaches it.
SELECT writefile('../out/csv_late.csv', 'a,b' || char(10) ||
  (WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1200)
   SELECT group_concat(i || ',' || (i * 2), char(10)) FROM n) ||
  char(10) || '1,2,3' || char(10)) > 0;
CREATE VIRTUAL TABLE temp.late USING item2vec_csv(path='../out/csv_late.csv');
SELECT count(*) FROM temp.late;

-- Each scan reads the file as it is now: rewritten with a bad row, the
-- next scan fails.
SELECT writefile('../out/csv_changed.csv', 'a' || char(10) || '1' || char(10)) > 0;
CREATE VIRTUAL TABLE temp.changed USING item2vec_csv(path='../out/csv_changed.csv');
SELECT count(*) FROM temp.changed;
SELECT writefile('../out/csv_changed.csv', 'a' || char(10) || '1' || char(10) || '2,3' || char(10)) > 0;
SELECT count(*) FROM temp.changed;

-- DIRECTONLY: it reads files, so a view or trigger in the schema cannot use it.
CREATE VIRTUAL TABLE main.r USING item2vec_csv(path='../data/ratings.csv');
SELECT count(*) FROM main.r;
CREATE VIEW v AS SELECT * FROM main.r;
SELECT count(*) FROM v;
CREATE TABLE log(n);
CREATE TRIGGER t AFTER INSERT ON log BEGIN SELECT count(*) FROM main.r; END;
INSERT INTO log VALUES (1);
