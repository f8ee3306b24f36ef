"""test_cache.py: similar_items keeps the model in memory and notices when it
changed: retrained or deleted by another connection to the same file, or
edited by the user in the same connection (committed, uncommitted, rolled
back).  Every answer must equal what a fresh connection computes from the
stored rows.
"""

import os
import tempfile

from common import check, connect, finish, run, train
from gen import planted, write_sqlite

ONE = planted(clusters=6, per_cluster=10, users=400, seed=1)
TWO = planted(clusters=6, per_cluster=10, users=400, seed=2)  # same ids, other clusters
OPTS = ("workers=1", "seed=1", "vector_size=16", "epochs=3", "sample=0")


def answer(conn, item, k=5, model="default"):
    return [(r, it, round(s, 6)) for r, it, s in
            conn.execute("SELECT rank, item, similarity FROM similar_items(?, ?, ?)",
                         (item, k, model))]


def fresh_answer(path, item, k=5):
    c = connect(path)
    try:
        return answer(c, item, k)
    finally:
        c.close()


def test_other_connection(tmp):
    path = os.path.join(tmp, "two.db")
    a = connect(path, isolation_level=None)
    b = connect(path, isolation_level=None)
    write_sqlite(a, "one", ONE.rows)
    write_sqlite(a, "two", TWO.rows)
    train(a, "one", "userId", "itemId", *OPTS)
    f1, f2 = ONE.frequency(), TWO.frequency()
    item = max(sorted(f1), key=lambda it: min(f1[it], f2[it]))  # frequent in both
    before = answer(a, item)
    answer(a, item)  # served from the cache
    sim_before = a.execute("SELECT item2vec_similarity(?, ?)", (item, before[0][1])).fetchone()[0]
    train(b, "two", "userId", "itemId", *OPTS)
    after = answer(a, item)
    check("a model retrained by another connection is noticed",
          after == fresh_answer(path, item) and after != before,
          "connection A answers %s, a fresh connection %s (before: %s)"
          % (after[:2], fresh_answer(path, item)[:2], before[:2]))
    same_cluster = sum(TWO.cluster[it] == TWO.cluster[item] for _, it, _ in after)
    check("... and answers from the new clusters", same_cluster == len(after),
          "%d of %d neighbours in the new cluster" % (same_cluster, len(after)))
    sim_after = a.execute("SELECT item2vec_similarity(?, ?)", (item, before[0][1])).fetchone()[0]
    check("item2vec_similarity notices it too", sim_after != sim_before,
          "similarity stayed %r" % sim_after)
    # Another connection deletes the model: an error, not stale rows.
    b.execute("DELETE FROM item2vec_vectors WHERE model = 'default'")
    b.execute("DELETE FROM item2vec_models WHERE name = 'default'")
    try:
        rows = answer(a, item)
        check("a model deleted by another connection is noticed", False, "still %d rows" % len(rows))
    except Exception as e:
        check("a model deleted by another connection is noticed", "no such model 'default'" in str(e),
              str(e))
    # A second model trained elsewhere appears.
    train(b, "one", "userId", "itemId", "model=later", *OPTS)
    check("a model created by another connection is found", len(answer(a, item, model="later")) == 5,
          "no rows")
    a.close()
    b.close()


def test_same_connection(tmp):
    path = os.path.join(tmp, "one.db")
    a = connect(path, isolation_level=None)
    write_sqlite(a, "one", ONE.rows)
    train(a, "one", "userId", "itemId", *OPTS)
    items = ONE.most_frequent(2)
    x, y = items[0], items[1]
    other = next(it for it in ONE.most_frequent(60) if ONE.cluster[it] != ONE.cluster[x])
    original = answer(a, x)
    # Committed UPDATE: x gets the vector of an item of another cluster.
    a.execute("UPDATE item2vec_vectors SET vector = (SELECT vector FROM item2vec_vectors WHERE item = ?) "
              "WHERE item = ?", (other, x))
    got = answer(a, x, 1)
    check("an UPDATE of a vector in the same connection is noticed",
          got and got[0][1] == other and got[0][2] > 0.9999,
          "best neighbour %s, expected %s with similarity 1" % (got, other))
    # Uncommitted changes count, and a rollback brings the old answer back.
    a.execute("BEGIN")
    a.execute("UPDATE item2vec_vectors SET vector = (SELECT vector FROM item2vec_vectors WHERE item = ?) "
              "WHERE item = ?", (y, x))
    got = answer(a, x, 1)
    check("an uncommitted UPDATE is seen by its own connection",
          got and got[0][1] == y and got[0][2] > 0.9999, "best neighbour %s, expected %s" % (got, y))
    a.execute("ROLLBACK")
    got = answer(a, x, 1)
    check("after ROLLBACK the answer is the committed one again",
          got and got[0][1] == other, "best neighbour %s, expected %s" % (got, other))
    # A model trained and used inside a transaction that rolls back is gone,
    # and a model retrained inside it comes back as it was.
    committed = answer(a, x)
    a.execute("BEGIN")
    train(a, "one", "userId", "itemId", "model=tx", *OPTS)
    in_tx = len(answer(a, x, model="tx"))
    train(a, "one", "userId", "itemId", "vector_size=5", *OPTS[:2])
    a.execute("ROLLBACK")
    try:
        answer(a, x, model="tx")
        gone = "still answers"
    except Exception as e:
        gone = str(e)
    check("a model trained in a rolled-back transaction is forgotten",
          in_tx == 5 and "no such model 'tx'" in gone, "%d rows inside; after: %s" % (in_tx, gone))
    check("a model retrained in a rolled-back transaction answers as before",
          answer(a, x) == committed, "%s vs %s" % (answer(a, x)[:2], committed[:2]))
    # Retraining in the same connection replaces what the cache holds.
    train(a, "one", "userId", "itemId", *OPTS)
    check("retraining in the same connection is noticed", answer(a, x) == original,
          "%s vs %s" % (answer(a, x)[:2], original[:2]))
    # A DELETE of one row of the model: that item is unknown now.
    a.execute("DELETE FROM item2vec_vectors WHERE item = ?", (y,))
    check("a deleted item is gone from the answers",
          all(it != y for _, it, _ in answer(a, x, 100)) and answer(a, y) == [],
          "item %s still answered" % y)
    a.close()


def test_attached_changes_do_not_break(tmp):
    # Changes elsewhere (another table, an attached database) may drop the
    # cache but never change an answer.
    path = os.path.join(tmp, "three.db")
    a = connect(path, isolation_level=None)
    write_sqlite(a, "one", ONE.rows)
    train(a, "one", "userId", "itemId", *OPTS)
    item = ONE.most_frequent(1)[0]
    first = answer(a, item)
    a.execute("CREATE TABLE other(x)")
    a.execute("INSERT INTO other VALUES (1)")
    a.execute("ATTACH ':memory:' AS aux")
    a.execute("CREATE TABLE aux.t(x)")
    a.execute("INSERT INTO aux.t VALUES (1)")
    check("unrelated writes leave the answers alone", answer(a, item) == first, "answer changed")
    a.close()


with tempfile.TemporaryDirectory() as tmp:
    for t in (test_other_connection, test_same_connection, test_attached_changes_do_not_break):
        run(t.__name__, lambda: t(tmp))
finish()
