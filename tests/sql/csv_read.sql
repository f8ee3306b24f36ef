-- item2vec_csv: RFC 4180 parsing, typing, column names, rescans.
-- Fixtures are written here with the shell's writefile() into tests/out.

-- A BOM, CRLF line ends, quoted commas, doubled quotes, a quoted newline,
-- an empty header name, a duplicate header name, a short row, a blank line,
-- and a last line without a line end.
SELECT writefile('../out/csv_rfc.csv',
  X'EFBBBF' || 'id,name,score,note,,id' || char(13,10) ||
  '1,"American President, The (1995)",4.5,"He said ""hi""",x,10' || char(13,10) ||
  '2,"multi' || char(10) || 'line",3,,"",20' || char(13,10) ||
  '-3,plain text,1e3, spaced ,y' || char(13,10) ||
  char(13,10) ||
  '007,+1,0.5.1,-0,z,9223372036854775808' || char(13,10) ||
  '4,"",.5,5.,w,-9223372036854775808') > 0;
CREATE VIRTUAL TABLE temp.rfc USING item2vec_csv(path='../out/csv_rfc.csv');
.headers on
SELECT name, type FROM pragma_table_info('rfc');
SELECT rowid, * FROM temp.rfc;
SELECT typeof(id), typeof(name), typeof(score), typeof(note), typeof(c5), typeof(id_6)
  FROM temp.rfc;
-- The quoted newline and doubled quotes come through as they were meant.
SELECT name = 'multi' || char(10) || 'line' AS newline_kept FROM temp.rfc WHERE rowid = 2;
SELECT note FROM temp.rfc WHERE rowid = 1;
.headers off

-- header=0: columns c1, c2, ... and the first row is data.
SELECT writefile('../out/csv_noheader.csv', '1,2,x' || char(10) || '3,4,y' || char(10)) > 0;
CREATE VIRTUAL TABLE temp.nh USING item2vec_csv(path='../out/csv_noheader.csv', header=0);
SELECT group_concat(name, ' ') FROM pragma_table_info('nh');
SELECT * FROM temp.nh;

-- A lone quoted argument is the path; a tab delimiter; a lone CR line end.
SELECT writefile('../out/csv_tab.tsv', 'a' || char(9) || 'b' || char(13) ||
  '1' || char(9) || 'has,comma' || char(13)) > 0;
CREATE VIRTUAL TABLE temp.tsv USING item2vec_csv('../out/csv_tab.tsv', delimiter='tab');
SELECT a, b, typeof(a) FROM temp.tsv;

-- Declared types follow the values: integers, reals and text; columns a
-- CREATE TABLE ... AS SELECT copies keep them.
CREATE VIRTUAL TABLE temp.r USING item2vec_csv(path='../data/ratings.csv');
SELECT sql FROM sqlite_temp_schema WHERE name = 'r';
SELECT group_concat(name || ' ' || type, ', ') FROM pragma_table_info('r');
CREATE TABLE ratings AS SELECT * FROM temp.r;
SELECT sql FROM sqlite_schema WHERE name = 'ratings';
SELECT count(*), count(DISTINCT userId), count(DISTINCT movieId), min(timestamp) < max(timestamp)
  FROM ratings;
SELECT typeof(userId), typeof(movieId), typeof(rating), typeof(timestamp), count(*)
  FROM ratings GROUP BY 1, 2, 3, 4;

-- Every scan reads from the start: a self-join and repeated scans agree.
SELECT count(*) FROM temp.r AS a JOIN temp.r AS b ON a.userId = b.userId AND a.rowid = b.rowid;
SELECT (SELECT sum(rating) FROM temp.r) = (SELECT sum(rating) FROM ratings);
SELECT (SELECT count(*) FROM temp.r) + (SELECT count(*) FROM temp.r);

-- Only full scans: the plan shows one.
EXPLAIN QUERY PLAN SELECT * FROM temp.r WHERE userId = 3;

-- Integers join to integers: the ratings join to a typed movies table.
CREATE VIRTUAL TABLE temp.m USING item2vec_csv(path='../data/small.zip', member='small/movies.csv');
SELECT m.movieId, m.title, count(*) FROM temp.m AS m JOIN ratings AS r ON r.movieId = m.movieId
  GROUP BY m.movieId ORDER BY m.movieId;
SELECT movieId, title, length(title) FROM temp.m ORDER BY movieId;
