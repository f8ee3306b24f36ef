-- item2vec_csv reads gzip files and zip members as it reads plain files.
-- Fixtures: tests/data (made by tests/data/make_fixtures.py).
CREATE VIRTUAL TABLE temp.plain USING item2vec_csv(path='../data/ratings.csv');
CREATE VIRTUAL TABLE temp.gz USING item2vec_csv(path='../data/ratings.csv.gz');
CREATE VIRTUAL TABLE temp.gz2 USING item2vec_csv(path='../data/ratings_2members.csv.gz');
CREATE VIRTUAL TABLE temp.zdef USING item2vec_csv(path='../data/small.zip', member='small/ratings.csv');
CREATE VIRTUAL TABLE temp.zsto USING item2vec_csv(path='../data/stored.zip', member='small/ratings.csv');
-- A base name that matches one member is enough; a one-file archive needs none.
CREATE VIRTUAL TABLE temp.zbase USING item2vec_csv(path='../data/small.zip', member='ratings.csv');
CREATE VIRTUAL TABLE temp.zone USING item2vec_csv(path='../data/one.zip');

-- Same rows, same types, same order, whatever the container.
SELECT 'gz',    count(*), (SELECT count(*) FROM (SELECT rowid, * FROM temp.gz    EXCEPT SELECT rowid, * FROM temp.plain)) FROM temp.gz;
SELECT 'gz2',   count(*), (SELECT count(*) FROM (SELECT rowid, * FROM temp.gz2   EXCEPT SELECT rowid, * FROM temp.plain)) FROM temp.gz2;
SELECT 'zdef',  count(*), (SELECT count(*) FROM (SELECT rowid, * FROM temp.zdef  EXCEPT SELECT rowid, * FROM temp.plain)) FROM temp.zdef;
SELECT 'zsto',  count(*), (SELECT count(*) FROM (SELECT rowid, * FROM temp.zsto  EXCEPT SELECT rowid, * FROM temp.plain)) FROM temp.zsto;
SELECT 'zbase', count(*), (SELECT count(*) FROM (SELECT rowid, * FROM temp.zbase EXCEPT SELECT rowid, * FROM temp.plain)) FROM temp.zbase;
SELECT 'zone',  count(*), (SELECT count(*) FROM (SELECT rowid, * FROM temp.zone  EXCEPT SELECT rowid, * FROM temp.plain)) FROM temp.zone;
SELECT group_concat(name || ' ' || type, ', ') FROM pragma_table_info('zdef');

-- The other members of the archive.
CREATE VIRTUAL TABLE temp.readme USING item2vec_csv(path='../data/small.zip', member='README.txt', header=0);
SELECT * FROM temp.readme;

-- Reading twice at once: two cursors on one gzip table.
SELECT count(*) FROM temp.gz AS a JOIN temp.gz AS b ON a.rowid = b.rowid AND a.movieId = b.movieId;
