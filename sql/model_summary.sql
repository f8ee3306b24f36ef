-- model_summary.sql: what is in a database's item2vec models.
--   sqlite3 movies.db < sql/model_summary.sql
-- (no extension needed: it reads the model tables).  One row per model, then
-- the training loss per epoch of each, with a bar to see it fall.
.mode box
SELECT name AS model, dim, items,
       json_extract(stats, '$.sequences') AS sequences,
       json_extract(stats, '$.tokens') AS tokens,
       json_extract(params, '$.epochs') AS epochs,
       json_extract(params, '$.window') AS window,
       json_extract(params, '$.negative') AS negative,
       json_extract(params, '$.sg') AS sg,
       round(json_extract(stats, '$.train_seconds'), 2) AS train_s,
       json_extract(stats, '$.hr') AS eval_hr,
       source, created_at
  FROM item2vec_models ORDER BY name;

WITH loss AS (
  SELECT m.name AS model, e.key + 1 AS epoch, e.value AS loss,
         max(e.value) OVER (PARTITION BY m.name) AS worst
    FROM item2vec_models AS m, json_each(m.stats, '$.loss') AS e)
SELECT model, epoch, printf('%.6g', loss) AS loss,
       substr('##################################################', 1,
              CAST(50 * loss / worst AS INTEGER)) AS bar
  FROM loss ORDER BY model, epoch;
