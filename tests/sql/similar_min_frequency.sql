-- similar_min_frequency.sql: the hidden column min_frequency of
-- similar_items: items seen fewer times in training (item2vec_vectors
-- .frequency) are never returned, with the exact scan, score = 'context',
-- exclude and only, and through the approximate index (k rows still come
-- back when enough items qualify); its errors and its plan bit.
-- The model of fixtures/angles.sql: items 1..8 are 2-D unit vectors at 0,
-- 10, ..., 70 degrees, so the ranking for item 1 is 2, 3, ..., 8.  Their
-- frequencies: 1:50 2:1 3:3 4:10 5:2 6:7 7:1 8:20.  The context vectors are
-- the input vectors, so score = 'context' ranks the same way.
.headers on
.read fixtures/angles.sql

-- The default (1) and 0 filter nothing; 3 leaves out 2, 5 and 7.
SELECT group_concat(item) AS no_filter FROM similar_items(1, 4);
SELECT group_concat(item) AS min_1 FROM similar_items(1, 4) WHERE min_frequency = 1;
SELECT group_concat(item) AS min_0 FROM similar_items(1, 4) WHERE min_frequency = 0;
SELECT group_concat(item) AS min_3 FROM similar_items(1, 4) WHERE min_frequency = 3;
-- Integer text and integral reals will do, NULL is the default.
SELECT group_concat(item) AS min_text FROM similar_items(1, 4) WHERE min_frequency = '3';
SELECT group_concat(item) AS min_real FROM similar_items(1, 4) WHERE min_frequency = 3.0;
SELECT group_concat(item) AS min_null FROM similar_items(1, 4) WHERE min_frequency = NULL;
-- Fewer rows than k when fewer items qualify; none when none does.
SELECT group_concat(item) AS min_10 FROM similar_items(1, 10) WHERE min_frequency = 10;
SELECT count(*) AS min_100 FROM similar_items(1, 10) WHERE min_frequency = 100;
-- The query item may be rare itself: it only limits what comes back.
SELECT group_concat(item) AS rare_query FROM similar_items(7, 3) WHERE min_frequency = 10;

-- With exclude and only; with a list query and a negative one.
SELECT group_concat(item) AS with_exclude FROM similar_items(1, 3) WHERE min_frequency = 3 AND exclude = '[3, 6]';
SELECT group_concat(item) AS with_only FROM similar_items(1, 3) WHERE min_frequency = 3 AND only = '[2, 5, 6, 7, 8]';
SELECT group_concat(item) AS with_both FROM similar_items(1, 3) WHERE min_frequency = 3 AND only = '[2, 4, 6, 8]' AND exclude = 4;
SELECT group_concat(item) AS list_query FROM similar_items('[1, 3]', 3) WHERE min_frequency = 5;
SELECT group_concat(item) AS negative_query FROM similar_items('{"negative": 8}', 3) WHERE min_frequency = 3;

-- score = 'context': the same rule.
SELECT group_concat(item) AS context FROM similar_items(1, 3) WHERE score = 'context' AND min_frequency = 3;
SELECT group_concat(item) AS context_only FROM similar_items(1, 3)
 WHERE score = 'context' AND min_frequency = 3 AND only = '[2, 5, 6, 7, 8]';

-- The hidden column echoes what was given, 1 when nothing was.
SELECT DISTINCT min_frequency FROM similar_items(1, 2);
SELECT DISTINCT min_frequency FROM similar_items(1, 2) WHERE min_frequency = '3';
-- By position: the ninth argument.
SELECT group_concat(item) AS by_position FROM similar_items(1, 3, 'default', NULL, NULL, 0, NULL, 'cosine', 3);

-- Lateral: the threshold from another table.
SELECT t.m, group_concat(s.item) AS items
  FROM (SELECT 1 AS m UNION ALL SELECT 5 UNION ALL SELECT 20) AS t, similar_items AS s
 WHERE s.id = 1 AND s.k = 3 AND s.min_frequency = t.m GROUP BY t.m ORDER BY t.m;

-- Through the index (a graph over 8 items finds every item, so the answers
-- equal the exact ones).  With ef = 1 the search still widens to find two
-- items of frequency 10 or more, and k rows come back.
SELECT json_extract(item2vec_index('default', 'M=4', 'ef_construction=16', 'ef_search=8',
                                   'threads=1', 'verbose=0'), '$.items') AS indexed_items;
SELECT group_concat(item) AS indexed_min_3 FROM similar_items(1, 4) WHERE min_frequency = 3;
SELECT group_concat(item) AS indexed_ef_1 FROM similar_items(1, 2) WHERE min_frequency = 10 AND ef = 1;
SELECT (SELECT group_concat(item) FROM similar_items('[1, 8]', 4) WHERE min_frequency = 3 AND ef = 1)
     = (SELECT group_concat(item) FROM similar_items('[1, 8]', 4) WHERE min_frequency = 3 AND exact = 1)
       AS indexed_list_same,
       (SELECT group_concat(item) FROM similar_items(4, 3) WHERE min_frequency = 5 AND exclude = '[6]')
     = (SELECT group_concat(item) FROM similar_items(4, 3) WHERE min_frequency = 5 AND exclude = '[6]'
        AND exact = 1) AS indexed_exclude_same;
SELECT count(*) AS indexed_none FROM similar_items(1, 3) WHERE min_frequency = 1000;

-- Errors name the column.
SELECT * FROM similar_items(1, 3) WHERE min_frequency = -1;
SELECT * FROM similar_items(1, 3) WHERE min_frequency = 2.5;
SELECT * FROM similar_items(1, 3) WHERE min_frequency = 'often';
SELECT * FROM similar_items(1, 3) WHERE min_frequency = x'0102';

-- The plan: bit 256 is min_frequency.
EXPLAIN QUERY PLAN SELECT * FROM similar_items(1, 3) WHERE min_frequency = 3;
