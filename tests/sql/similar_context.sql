-- similar_items(..., score='context'): ranking by the dot product of the
-- query's input vector with each item's output (context) vector, as word2vec's
-- predict_output_word does.  Needs a model trained with save_context=1.
CREATE TABLE r(user INTEGER, item INTEGER, ts INTEGER);
WITH RECURSIVE u(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM u WHERE n < 299),
     t(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM t WHERE n < 19)
INSERT INTO r SELECT u.n, (u.n % 5) * 20 + ((u.n * 7 + t.n * 13) % 20), t.n FROM u, t;
SELECT json_extract(item2vec_train('r', 'user', 'item', 'model=ctx', 'save_context=1',
                                   'workers=1', 'sample=0', 'verbose=0'), '$.items');
SELECT json_extract(item2vec_train('r', 'user', 'item', 'model=plain', 'save_context=0',
                                   'workers=1', 'sample=0', 'verbose=0'), '$.items');
SELECT count(*) AS ctx_rows FROM item2vec_context WHERE model = 'ctx';
SELECT count(*) AS plain_ctx_rows FROM item2vec_context WHERE model = 'plain';
-- Ten neighbours, all from item 1's cluster (items 0..19), the query left out.
SELECT count(*), sum(item / 20 = 0), sum(item = 1) FROM similar_items(1, 10, 'ctx') WHERE score = 'context';
-- Best first, scores are dot products (not bounded by 1).
SELECT count(*) FROM (SELECT similarity, lag(similarity) OVER (ORDER BY rank) AS prev
                        FROM similar_items(1, 10, 'ctx') WHERE score = 'context')
 WHERE prev IS NOT NULL AND similarity > prev;
-- The default score is 'cosine', and says so.
SELECT DISTINCT score FROM similar_items(1, 3, 'ctx');
-- Filters apply as with cosine.
SELECT count(*), sum(item IN (3, 4, 5)) FROM similar_items('[1, 2]', 5, 'ctx')
 WHERE score = 'context' AND only = '[3, 4, 5, 21, 22]' AND exclude = '[21]';
-- Errors: a model without context vectors; an unknown score.
SELECT * FROM similar_items(1, 3, 'plain') WHERE score = 'context';
SELECT * FROM similar_items(1, 3, 'ctx') WHERE score = 'dot';
-- Retraining with save_context=0 drops the old context rows.
SELECT json_extract(item2vec_train('r', 'user', 'item', 'model=ctx', 'save_context=0',
                                   'workers=1', 'sample=0', 'verbose=0'), '$.items');
SELECT count(*) FROM item2vec_context WHERE model = 'ctx';
SELECT * FROM similar_items(1, 3, 'ctx') WHERE score = 'context';
