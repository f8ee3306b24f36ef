-- sql/demo_import.sql: load MovieLens CSVs into a database with the sqlite3
-- shell.  Run it from the folder that holds ratings.csv and movies.csv:
--
--   cd ml-latest-small && sqlite3 ../demo.db < path/to/sql/demo_import.sql
--
-- The tables are created first so the columns get their types (INTEGER ids,
-- REAL ratings); `.import --skip 1` then appends the rows after the header.
.bail on
CREATE TABLE ratings(userId INTEGER NOT NULL, movieId INTEGER NOT NULL,
                     rating REAL, timestamp INTEGER);
CREATE TABLE movies(movieId INTEGER PRIMARY KEY, title TEXT, genres TEXT);
.import --csv --skip 1 ratings.csv ratings
.import --csv --skip 1 movies.csv movies
