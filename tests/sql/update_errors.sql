-- update=1 refuses what it cannot continue from, with a message that says
-- what to do, and leaves the stored model as it was.
CREATE TABLE ev(u INTEGER, i INTEGER);
INSERT INTO ev VALUES (1,10),(1,11),(1,12),(2,10),(2,12),(3,11),(3,12),(3,13);
CREATE TABLE more(u INTEGER, i INTEGER);
INSERT INTO more VALUES (4,10),(4,20),(5,20),(5,21);

-- No model at all in this database.
SELECT item2vec_train('ev', 'u', 'i', 'update=1');
-- update takes 0 or 1.
SELECT item2vec_train('ev', 'u', 'i', 'update=2');
-- stored_rate is for updates only, and a factor from 0 to 1.
SELECT item2vec_train('ev', 'u', 'i', 'stored_rate=0.5');
SELECT item2vec_train('ev', 'u', 'i', 'update=1', 'stored_rate=2');

-- A model trained without save_context=1 has no context vectors.
SELECT json_extract(item2vec_train('ev', 'u', 'i', 'model=plain', 'vector_size=8', 'workers=1',
                                   'save_context=0'), '$.items');
SELECT item2vec_train('more', 'u', 'i', 'model=plain', 'update=1');
-- Another name: no such model; the message lists the ones there are.
SELECT item2vec_train('more', 'u', 'i', 'model=nope', 'update=1');

-- vector_size and sg are the model's shape: they cannot change.
SELECT json_extract(item2vec_train('ev', 'u', 'i', 'model=m', 'vector_size=8', 'sg=0',
                                   'save_context=1', 'workers=1'), '$.items');
SELECT item2vec_train('more', 'u', 'i', 'model=m', 'update=1', 'vector_size=16');
SELECT item2vec_train('more', 'u', 'i', 'model=m', 'update=1', 'sg=1');
-- Giving them with the stored values is fine.
SELECT json_extract(item2vec_train('more', 'u', 'i', 'model=m', 'update=1', 'vector_size=8',
                                   'sg=0', 'workers=1'), '$.update');

-- A stored option conflicting with a given one is checked after merging.
SELECT item2vec_train('more', 'u', 'i', 'model=m', 'update=1', 'alpha=0.00001');

-- Nothing left to learn from: new items under min_count, no known item.
CREATE TABLE rare(u INTEGER, i INTEGER);
INSERT INTO rare VALUES (6,30),(6,31),(7,32),(7,33);
SELECT item2vec_train('rare', 'u', 'i', 'model=m', 'update=1', 'min_count=2');

-- A malformed stored BLOB is named, and so is a context row gone missing.
UPDATE item2vec_vectors SET vector = x'00000000' WHERE model = 'm' AND item = 12;
SELECT item2vec_train('more', 'u', 'i', 'model=m', 'update=1');
DELETE FROM item2vec_context WHERE model = 'm' AND item = 10;
SELECT item2vec_train('more', 'u', 'i', 'model=m', 'update=1');

-- After all those failures model m is the one the successful update wrote.
SELECT items, json_extract(params, '$.update') FROM item2vec_models WHERE name = 'm';
SELECT count(*) FROM item2vec_vectors WHERE model = 'm';
