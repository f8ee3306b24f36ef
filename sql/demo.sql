-- sql/demo.sql: what `make demo` runs once the ratings and movies tables are
-- loaded (sql/demo_import.sql or sql/demo_synthetic.sql).  By hand:
--
--   sqlite3 -cmd '.load ./item2vec' data/demo.db < sql/demo.sql
--
-- It trains with the settings of the gensim notebook this project follows
-- (vector_size=32, window=10, negative=20, min_count=1, each user's movies in
-- timestamp order) plus workers=1, so that every run prints the same numbers,
-- then asks three questions in plain SQL: the movies nearest to movie 1 (Toy
-- Story in MovieLens), the neighbours of several movies at once (a lateral
-- join), and, through recommend_items and a second model trained with the
-- default options, what one user should watch next.
.bail on
.headers on
.mode box

.print Training item2vec (skip-gram, vector_size=32, window=10, negative=20, min_count=1, epochs=5, order_by=timestamp):
WITH run(summary) AS MATERIALIZED (
  SELECT item2vec_train('ratings', 'userId', 'movieId',
                        'order_by=timestamp', 'vector_size=32', 'window=10',
                        'negative=20', 'min_count=1', 'epochs=5', 'workers=1'))
SELECT json_extract(summary, '$.items')     AS movies,
       json_extract(summary, '$.sequences') AS users,
       json_extract(summary, '$.tokens')    AS ratings,
       json_extract(summary, '$.epochs')    AS epochs,
       printf('%.0f', json_extract(summary, '$.loss[0]'))  AS first_epoch_loss,
       printf('%.0f', json_extract(summary, '$.loss[#-1]')) AS last_epoch_loss
  FROM run;

.headers off
.mode list
SELECT char(10) || 'The five movies most similar to movie 1, ' || title || ':'
  FROM movies WHERE movieId = 1;
.headers on
.mode box
SELECT s.rank, m.title, m.genres, round(s.similarity, 3) AS similarity
  FROM similar_items(1, 5) AS s
  JOIN movies AS m ON m.movieId = s.item
 ORDER BY s.rank;

.print
.print Lateral join: the three nearest neighbours of each of the three most-rated movies:
WITH top AS (
  SELECT movieId, count(*) AS n FROM ratings
   GROUP BY movieId ORDER BY n DESC, movieId LIMIT 3)
SELECT m.title AS movie, s.rank, n.title AS neighbour,
       round(s.similarity, 3) AS similarity
  FROM top
  JOIN movies AS m ON m.movieId = top.movieId,
       similar_items(top.movieId, 3) AS s
  JOIN movies AS n ON n.movieId = s.item
 ORDER BY top.n DESC, top.movieId, s.rank;

.print
.print User history: the last five movies user 7 rated ...
SELECT date(r.timestamp, 'unixepoch') AS rated_on, m.title, m.genres
  FROM ratings AS r JOIN movies AS m ON m.movieId = r.movieId
 WHERE r.userId = 7
 ORDER BY r.timestamp DESC, r.movieId DESC LIMIT 5;

.print ... and what to watch next: recommend_items, from a second model (recs) trained with
.print the default options (what recommend_items is tuned for), leaving out what they rated:
.headers off
.mode list
SELECT 'Trained model recs: ' || json_extract(summary, '$.epochs') || ' epochs (chosen from the data), '
       || printf('%.1f', json_extract(summary, '$.seconds')) || ' s'
  FROM (SELECT item2vec_train('ratings', 'userId', 'movieId', 'model=recs',
                              'order_by=timestamp', 'workers=1') AS summary);
.headers on
.mode box
SELECT r.rank, m.title, m.genres,
       (SELECT count(*) FROM ratings WHERE movieId = r.item) AS ratings,
       round(r.score, 4) AS score
  FROM recommend_items(7, 5, 'recs') AS r
  JOIN movies AS m ON m.movieId = r.item
 ORDER BY r.rank;
