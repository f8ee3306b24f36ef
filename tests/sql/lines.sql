-- lines.sql: item2vec_lines reads a playlist file (one playlist per line,
-- items separated by whitespace, '#' header lines) as (line, position,
-- item) rows, from a plain file, gzip or a zip member, with item2vec_csv's
-- typing and errors; item2vec_train trains on it directly.
-- Fixtures: tests/data (made by tests/data/make_fixtures.py); other files
-- are written into tests/out by the shell's writefile().
.headers on

CREATE VIRTUAL TABLE temp.p USING item2vec_lines('../data/playlists.txt');
SELECT group_concat(name || ' ' || type, ', ') AS columns FROM pragma_table_info('p');
-- The two header lines are comments: the first playlist is line 3.
SELECT line, position, item, typeof(item) AS type FROM temp.p WHERE line <= 4;
SELECT count(*) AS items, count(DISTINCT line) AS playlists, min(line) AS first_line,
       max(line) AS last_line, max(position) AS longest, min(item) AS lo, max(item) AS hi
  FROM temp.p;
-- The blank line after the 31st playlist is skipped but counted: line numbers
-- are the file's.
SELECT line FROM temp.p GROUP BY line HAVING line BETWEEN 32 AND 36;

-- gzip and a zip member (by full path and by base name) give the same rows.
CREATE VIRTUAL TABLE temp.gz USING item2vec_lines(path='../data/playlists.txt.gz');
CREATE VIRTUAL TABLE temp.z USING item2vec_lines(path='../data/playlists.zip', member='yes/train.txt');
CREATE VIRTUAL TABLE temp.zb USING item2vec_lines(path='../data/playlists.zip', member='train.txt');
SELECT 'gz' AS kind, count(*) AS rows,
       (SELECT count(*) FROM (SELECT rowid, * FROM temp.gz EXCEPT SELECT rowid, * FROM temp.p)) AS differ
  FROM temp.gz
UNION ALL SELECT 'zip', count(*),
       (SELECT count(*) FROM (SELECT rowid, * FROM temp.z EXCEPT SELECT rowid, * FROM temp.p)) FROM temp.z
UNION ALL SELECT 'zip base name', count(*),
       (SELECT count(*) FROM (SELECT rowid, * FROM temp.zb EXCEPT SELECT rowid, * FROM temp.p)) FROM temp.zb;
-- Two cursors at once on one gzip table.
SELECT count(*) AS self_join FROM temp.gz AS a JOIN temp.gz AS b ON a.rowid = b.rowid AND a.item = b.item;

-- Layout: a byte order mark, '#' lines and blank lines at the top, tabs and
-- runs of spaces, CRLF and lone CR line ends, a '#' after the first item is
-- an item, a last line without a line end.
SELECT writefile('../out/lines_layout.txt',
  char(65279) || '# header' || char(10) || char(10) || '  # indented header' || char(10) ||
  'a b' || char(9) || char(9) || 'c   ' || char(13, 10) ||
  char(9) || ' ' || char(13, 10) ||
  '# not a comment now' || char(13) ||
  'd #e' || char(12) || 'f' || char(11) || 'g' || char(10) ||
  'last') > 0 AS written;
CREATE VIRTUAL TABLE temp.layout USING item2vec_lines('../out/lines_layout.txt');
SELECT line, position, quote(item) AS item FROM temp.layout;

-- Typing, as item2vec_csv types unquoted values: canonical integers are
-- INTEGER, decimals with a fraction or an exponent REAL, the rest TEXT.
SELECT writefile('../out/lines_types.txt',
  '7 -3 0 007 +1 1.5 -2e3 .5 1e 9223372036854775807 9223372036854775808 abc é' || char(10)) > 0 AS written;
CREATE VIRTUAL TABLE temp.types USING item2vec_lines('../out/lines_types.txt');
SELECT position, quote(item) AS item, typeof(item) AS type FROM temp.types;
SELECT type AS declared FROM pragma_table_info('types') WHERE name = 'item';
SELECT type AS declared_all_integers FROM pragma_table_info('p') WHERE name = 'item';
CREATE TABLE copied AS SELECT * FROM temp.p;
SELECT count(*) AS integer_items FROM copied WHERE typeof(item) = 'integer';

-- A file with no items (only comments and blanks) has no rows.
SELECT writefile('../out/lines_empty.txt', '# nothing yet' || char(10) || char(10)) > 0 AS written;
CREATE VIRTUAL TABLE temp.empty USING item2vec_lines('../out/lines_empty.txt');
SELECT count(*) AS rows FROM temp.empty;

-- Training on the playlists directly: one sequence per line, in position order.
SELECT json_extract(s, '$.items') AS items, json_extract(s, '$.sequences') AS sequences,
       json_extract(s, '$.tokens') AS tokens
  FROM (SELECT item2vec_train('temp.p', 'line', 'item', 'order_by=position', 'workers=1',
                              'vector_size=16', 'epochs=20') AS s);
SELECT source FROM item2vec_models;
-- Songs of one taste (song % 3) are each other's neighbours.
SELECT count(*) AS same_taste_of_15 FROM (SELECT 1 AS q UNION ALL SELECT 2 UNION ALL SELECT 3) AS t,
       similar_items(t.q, 5) AS s WHERE s.item % 3 = t.q % 3;
-- Song metadata from the same archive, tab-separated, joins the answers.
CREATE VIRTUAL TABLE temp.songs USING item2vec_csv(path='../data/playlists.zip',
  member='song_hash.txt', header=0, delimiter='tab');
SELECT count(*) AS neighbours_by_same_artist FROM similar_items(1, 5) AS s
  JOIN temp.songs AS song ON song.c1 = s.item
 WHERE song.c3 = (SELECT c3 FROM temp.songs WHERE c1 = 1);

-- Errors name the file (and the member) and what to do.
CREATE VIRTUAL TABLE temp.e1 USING item2vec_lines('../data/no_such_file.txt');
CREATE VIRTUAL TABLE temp.e2 USING item2vec_lines(path='../data/playlists.zip', member='nope.txt');
CREATE VIRTUAL TABLE temp.e3 USING item2vec_lines(path='../data/playlists.zip');
CREATE VIRTUAL TABLE temp.e4 USING item2vec_lines(member='train.txt');
CREATE VIRTUAL TABLE temp.e5 USING item2vec_lines('../data/playlists.txt', header=1);
CREATE VIRTUAL TABLE temp.e6 USING item2vec_lines('../data/playlists.txt', '../data/other.txt');
CREATE VIRTUAL TABLE temp.e7 USING item2vec_lines('../data/notgzip.csv.gz');
CREATE VIRTUAL TABLE temp.e8 USING item2vec_lines('../data/bzip2.zip', member='ratings.csv');
SELECT writefile('../out/lines_nul.txt', '1 2 3' || char(10) || 'a' || x'00' || 'b') > 0 AS written;
CREATE VIRTUAL TABLE temp.e9 USING item2vec_lines('../out/lines_nul.txt');
-- A corrupt gzip stream: an error naming the line it was reading.
CREATE VIRTUAL TABLE temp.e10 USING item2vec_lines('../data/corrupt.csv.gz');
-- An item longer than SQLITE_LIMIT_LENGTH (no whitespace: not a playlist file).
SELECT writefile('../out/lines_long.txt', '1 2' || char(10) || '3 ' || printf('%.*c', 300, 'x')) > 0 AS written;
.limit length 200
CREATE VIRTUAL TABLE temp.e11 USING item2vec_lines('../out/lines_long.txt');
