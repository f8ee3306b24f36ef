-- lines_recipe.sql: docs/reference.md's recipe "Playlist files: item2vec_lines" as it is
-- written there, but for the file's folder (tests/out) and the last query,
-- whose ranks and similarities vary with threads and CPUs: the songs most
-- like song 1 are by its artist, and mostly from its album.
-- 30 songs by three artists, two albums each.
CREATE TABLE songs(id INTEGER PRIMARY KEY, title TEXT, artist TEXT, album INTEGER);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30)
INSERT INTO songs SELECT i, 'Song ' || i, 'Artist ' || char(65 + (i - 1) % 3), 1 + (i > 15) FROM n;

-- playlists.txt: a '#' header line, then 600 playlists of 8 song ids. Each
-- playlist keeps to one artist and, but for its last song, to one album.
.headers off
.mode list
.once ../out/playlists.txt
WITH RECURSIVE p(p) AS (SELECT 0 UNION ALL SELECT p + 1 FROM p WHERE p < 599),
               k(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM k WHERE k < 7)
SELECT '# song ids, one playlist per line'
UNION ALL
SELECT group_concat(p % 3 + 1 + 3 * ((p * 7 + k * (k + p % 4)) % 5)
                    + 15 * ((p / 3 + (k = 7)) % 2), ' ')
  FROM p, k GROUP BY p;

-- Train on the file as it is: one sequence per line, in position order.
CREATE VIRTUAL TABLE temp.playlists USING item2vec_lines('../out/playlists.txt');
.headers on
.mode box
SELECT * FROM temp.playlists LIMIT 4;
SELECT json_extract(s, '$.items') AS songs, json_extract(s, '$.sequences') AS playlists
  FROM (SELECT item2vec_train('temp.playlists', 'line', 'item', 'order_by=position') AS s);
-- The songs most like song 1, with their metadata.
SELECT sum(songs.artist = 'Artist A') AS by_its_artist, sum(songs.album = 1 AND s.rank <= 4) >= 3
       AS mostly_its_album
  FROM similar_items(1, 5) AS s JOIN songs ON songs.id = s.item;
