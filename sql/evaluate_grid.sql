-- evaluate_grid.sql: next-item evaluation over a grid of training options,
-- in one statement.  Each row of the grid is two option strings (use
-- 'verbose=0' as a filler); nothing is stored.
--   sqlite3 -cmd '.load ./item2vec' movies.db < sql/evaluate_grid.sql
-- MovieLens: the last 10 ratings of each user held out; HR@10 of the
-- embedding by cosine and by context, and of the two baselines on the same
-- split.  About a minute on two cores.
.mode box
WITH grid(a, b) AS (VALUES
    ('verbose=0', 'verbose=0'),          -- the defaults
    ('window=3', 'verbose=0'),
    ('window=10', 'verbose=0'),
    ('negative=10', 'verbose=0'),
    ('epochs=20', 'verbose=0'),
    ('epochs=20', 'sample=1e-4')),
runs AS (
  SELECT a, b, item2vec_evaluate('ratings', 'userId', 'movieId', 'order_by=timestamp',
                                 'holdout=10', 'workers=2', a, b) AS r
    FROM grid)
SELECT a, b,
       json_extract(r, '$.cosine.hr') AS hr_cosine,
       json_extract(r, '$.context.hr') AS hr_context,
       json_extract(r, '$.cooccurrence.hr') AS hr_cooccurrence,
       json_extract(r, '$.popularity.hr') AS hr_popularity,
       round(json_extract(r, '$.cosine.coverage'), 3) AS coverage,
       json_extract(r, '$.train_seconds') AS train_s
  FROM runs;
