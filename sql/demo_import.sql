-- sql/demo_import.sql: copy MovieLens ratings and movies into typed tables.
-- scripts/demo.sh runs it after creating temp.ratings_csv and temp.movies_csv
-- with item2vec_csv over the zip's members (or the extracted CSV files):
--
--   CREATE VIRTUAL TABLE temp.ratings_csv USING item2vec_csv(
--       path='ml-latest-small.zip', member='ml-latest-small/ratings.csv');
--   CREATE VIRTUAL TABLE temp.movies_csv USING item2vec_csv(
--       path='ml-latest-small.zip', member='ml-latest-small/movies.csv');
CREATE TABLE ratings(userId INTEGER NOT NULL, movieId INTEGER NOT NULL,
                     rating REAL, timestamp INTEGER);
CREATE TABLE movies(movieId INTEGER PRIMARY KEY, title TEXT, genres TEXT);
INSERT INTO ratings SELECT userId, movieId, rating, timestamp FROM temp.ratings_csv;
INSERT INTO movies SELECT movieId, title, genres FROM temp.movies_csv;
