-- item2vec_project: the principal components of a model's vectors, the
-- picture behind `make report`.  A model of 40 items on a ring.
CREATE TABLE events(user INTEGER, item INTEGER, ts INTEGER);
WITH RECURSIVE u(id) AS (SELECT 0 UNION ALL SELECT id + 1 FROM u WHERE id < 149),
     t(step) AS (SELECT 0 UNION ALL SELECT step + 1 FROM t WHERE step < 11)
INSERT INTO events SELECT id, (id * 7 + step) % 40, step FROM u, t;
SELECT json_extract(item2vec_train('events', 'user', 'item', 'order_by=ts', 'workers=1',
                                   'vector_size=8', 'epochs=5', 'window=2', 'sample=0'), '$.items');

-- One row per item; x and y filled, z only with dims >= 3.
SELECT count(*), count(x), count(y), count(z), count(DISTINCT item)
  FROM item2vec_project('default', 2);
SELECT count(z), min(json_array_length(coords)) FROM item2vec_project('default', 3);
-- Defaults: model 'default', 2 dimensions; hidden columns read back.
SELECT DISTINCT model, dims FROM item2vec_project();
-- Centred coordinates; x carries at least as much variance as y; x and y are
-- uncorrelated (to 1e-5); the explained share is a fraction, the same on every row.
SELECT abs(avg(x)) < 1e-6, abs(avg(y)) < 1e-6,
       avg(x * x) >= avg(y * y),
       abs(avg(x * y)) < 1e-5 * avg(x * x),
       min(variance) = max(variance), min(variance) BETWEEN 0 AND 1
  FROM item2vec_project('default', 2);
-- All 8 components explain all of the variance.
SELECT DISTINCT round(variance, 6) FROM item2vec_project('default', 8);
-- The same model gives the same picture.
SELECT count(*) FROM item2vec_project('default', 2) AS a
  JOIN item2vec_project('default', 2) AS b ON a.item = b.item AND a.x = b.x AND a.y = b.y;
-- Frequencies are the stored ones.
SELECT count(*) FROM item2vec_project() AS p
  JOIN item2vec_vectors AS v ON v.model = 'default' AND v.item = p.item AND v.frequency = p.frequency;
-- Errors.
SELECT * FROM item2vec_project('default', 9);
SELECT * FROM item2vec_project('default', 0);
SELECT * FROM item2vec_project('default', 'two');
SELECT * FROM item2vec_project('nosuch', 2);
SELECT * FROM item2vec_project(42, 2);
