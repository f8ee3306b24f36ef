-- neighbours.sql: the nearest neighbours of the most popular items, with
-- their titles (MovieLens: a movies(movieId, title) table).
--   sqlite3 -cmd '.load ./item2vec' movies.db < sql/neighbours.sql
-- For another model or catalogue, change 'default' and the movies joins.
.mode box
WITH popular AS (
  SELECT item, frequency FROM item2vec_vectors
   WHERE model = 'default' ORDER BY frequency DESC LIMIT 10)
SELECT coalesce(q.title, p.item) AS item, p.frequency AS ratings, s.rank,
       coalesce(n.title, s.item) AS neighbour, round(s.similarity, 3) AS similarity
  FROM popular AS p, similar_items(p.item, 5, 'default') AS s
  LEFT JOIN movies AS q ON q.movieId = p.item
  LEFT JOIN movies AS n ON n.movieId = s.item
 ORDER BY p.frequency DESC, p.item, s.rank;
