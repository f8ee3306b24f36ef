-- sql/demo_synthetic.sql: a made-up stand-in for MovieLens, for `make demo`
-- on a machine that cannot download the real data.
--
--   sqlite3 demo.db < sql/demo_synthetic.sql
--
-- It creates the same two tables as sql/demo_import.sql.  240 invented movies
-- fall into 8 planted clusters of 30 (one genre each; movie 1 is in the
-- animation cluster).  400 users each have a favourite cluster and watch 20 to
-- 49 movies, 85% of them from that cluster, popular movies more often.  The
-- random numbers come from a fixed-seed Park-Miller generator, so every run
-- builds the same data.  A good model puts each movie's nearest neighbours in
-- its own cluster: the same genre.
.bail on
CREATE TABLE ratings(userId INTEGER NOT NULL, movieId INTEGER NOT NULL,
                     rating REAL, timestamp INTEGER);
CREATE TABLE movies(movieId INTEGER PRIMARY KEY, title TEXT, genres TEXT);

-- rnd(n, x): a stream of uniform numbers in (0, 1).
CREATE TEMP TABLE rnd(n INTEGER PRIMARY KEY, x REAL NOT NULL);
WITH RECURSIVE g(n, r) AS (
  SELECT 0, 20240601
  UNION ALL
  SELECT n + 1, (r * 48271) % 2147483647 FROM g WHERE n < 80000)
INSERT INTO temp.rnd SELECT n, r / 2147483647.0 FROM g;

CREATE TEMP TABLE clusters(c INTEGER PRIMARY KEY, genres TEXT, nouns TEXT);
INSERT INTO temp.clusters VALUES
  (0, 'Animation|Children|Comedy', '["Toy Box","Puppy","Dragon","Balloon","Snowman"]'),
  (1, 'Action|Sci-Fi',             '["Starship","Android","Galaxy","Laser","Orbit"]'),
  (2, 'Horror|Thriller',           '["Cellar","Haunting","Shadow","Scream","Crypt"]'),
  (3, 'Drama|Romance',             '["Letter","Summer","Wedding","Promise","Garden"]'),
  (4, 'Crime|Film-Noir',           '["Heist","Alibi","Detective","Dame","Witness"]'),
  (5, 'Western',                   '["Saloon","Outlaw","Frontier","Stagecoach","Sheriff"]'),
  (6, 'Documentary',               '["Ocean","Glacier","Jungle","Desert","Volcano"]'),
  (7, 'Musical|Comedy',            '["Ballroom","Chorus","Encore","Jukebox","Tango"]');

-- Movie c*30 + j + 1 is the j-th of cluster c: six title patterns x five nouns.
WITH RECURSIVE j(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM j WHERE j < 29)
INSERT INTO movies(movieId, title, genres)
SELECT c * 30 + j + 1,
       printf(json_extract('["The Brave %s","The Last %s","Return of the %s",' ||
                           '"The Secret %s","Night of the %s","My Little %s"]',
                           printf('$[%d]', j % 6)),
              json_extract(nouns, printf('$[%d]', j / 6)))
         || printf(' (%d)', 1960 + (c * 30 + j) * 7 % 60),
       genres
  FROM temp.clusters, j;

-- Users: a favourite cluster and a number of movies each.
CREATE TEMP TABLE users AS
WITH RECURSIVE u(id) AS (SELECT 1 UNION ALL SELECT id + 1 FROM u WHERE id < 400)
SELECT id AS userId,
       CAST((SELECT r.x FROM temp.rnd AS r WHERE r.n = 2 * id) * 8 AS INTEGER) AS fav,
       20 + CAST((SELECT r.x FROM temp.rnd AS r WHERE r.n = 2 * id + 1) * 30 AS INTEGER)
         AS nwatch
  FROM u;

-- Watches: k-th movie of user u, one hour after the one before.  Three
-- random numbers each: stay in the favourite cluster?, which other cluster,
-- which movie (squared, so the first movies of a cluster are the popular ones).
CREATE TEMP TABLE watches AS
WITH RECURSIVE k(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM k WHERE k < 63),
draws AS (
  SELECT users.userId, users.fav, k.k,
         (SELECT x FROM temp.rnd WHERE n = 1000 + (users.userId * 64 + k.k) * 3) AS stay,
         (SELECT x FROM temp.rnd WHERE n = 1001 + (users.userId * 64 + k.k) * 3) AS other,
         (SELECT x FROM temp.rnd WHERE n = 1002 + (users.userId * 64 + k.k) * 3) AS pick
    FROM temp.users AS users JOIN k ON k.k < users.nwatch)
SELECT userId,
       (CASE WHEN stay < 0.85 THEN fav ELSE CAST(other * 8 AS INTEGER) END) * 30
         + CAST(30 * pick * pick AS INTEGER) + 1 AS movieId,
       2.5 + 0.5 * ((userId + 3 * k) % 6) AS rating,
       946684800 + userId * 259200 + k * 3600 AS timestamp
  FROM draws;

-- A movie watched twice counts once, at its first time (as in MovieLens).
INSERT INTO ratings(userId, movieId, rating, timestamp)
SELECT userId, movieId, rating, min(timestamp)
  FROM temp.watches GROUP BY userId, movieId ORDER BY userId, min(timestamp);
