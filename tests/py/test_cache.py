"""test_cache.py: similar_items keeps the model in memory and notices when it
changed: retrained or deleted by another connection to the same file, or
edited by the user in the same connection (committed, uncommitted, rolled
back).  Every answer must equal what a fresh connection computes from the
stored rows.
"""

import json
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


def scalars(conn, x, y):
    """item2vec_similarity(x, y) and item2vec_vector(x) as they answer now."""
    return conn.execute("SELECT item2vec_similarity(?, ?), item2vec_vector(?)", (x, y, x)).fetchone()


def test_transaction_states(tmp):
    """Answers inside transactions follow the rows as they are, in every
    state: after ROLLBACK TO a savepoint, a DROP TABLE or ALTER TABLE
    RENAME inside an open transaction, nested savepoints, COMMIT and
    ROLLBACK; item2vec_index and item2vec_project read the same rows (these
    answered from rolled-back or dropped rows until the transaction ended).
    Both journal modes."""
    for mode in ("delete", "wal"):
        path = os.path.join(tmp, "tx-%s.db" % mode)
        a = connect(path, isolation_level=None)
        a.execute("PRAGMA journal_mode=%s" % mode)
        write_sqlite(a, "one", ONE.rows)
        train(a, "one", "userId", "itemId", *OPTS)
        x, y = ONE.most_frequent(2)
        other = next(it for it in ONE.most_frequent(60) if ONE.cluster[it] != ONE.cluster[x])
        committed, committed_sc = answer(a, x), scalars(a, x, y)
        n_items = a.execute("SELECT count(*) FROM item2vec_vectors").fetchone()[0]
        set_x = ("UPDATE item2vec_vectors SET vector = (SELECT vector FROM item2vec_vectors "
                 "WHERE item = ?) WHERE item = ?")
        label = "[%s] " % mode

        # ROLLBACK TO a savepoint, at the top level and inside a transaction
        # that already wrote.
        for outer in (False, True):
            where = "in a transaction that wrote" if outer else "at the top level"
            if outer:
                a.execute("BEGIN")
                a.execute("INSERT INTO one VALUES (-1, -1, 0)")  # another table
            a.execute("SAVEPOINT s")
            a.execute(set_x, (other, x))
            inside = answer(a, x, 1)
            a.execute("ROLLBACK TO s")
            back, back_sc = answer(a, x), scalars(a, x, y)
            check(label + "ROLLBACK TO %s: similar_items answers from the restored rows" % where,
                  inside and inside[0][1] == other and back == committed,
                  "inside %s; after %s vs %s" % (inside, back[:2], committed[:2]))
            check(label + "ROLLBACK TO %s: item2vec_similarity and item2vec_vector too" % where,
                  back_sc == committed_sc, "%r vs %r" % (back_sc[0], committed_sc[0]))
            a.execute("RELEASE s")
            if outer:
                a.execute("ROLLBACK")
        # Nested savepoints: the inner one rolled back, the outer one kept.
        a.execute("SAVEPOINT outer_sp")
        a.execute(set_x, (y, x))
        a.execute("SAVEPOINT inner_sp")
        a.execute(set_x, (other, x))
        answer(a, x)
        a.execute("ROLLBACK TO inner_sp")
        got = answer(a, x, 1)
        a.execute("ROLLBACK TO outer_sp")
        got2 = answer(a, x)
        a.execute("RELEASE outer_sp")
        check(label + "nested savepoints: each ROLLBACK TO is seen",
              got and got[0][1] == y and got2 == committed, "%s; %s" % (got, got2[:2]))

        # DROP TABLE and ALTER TABLE RENAME inside an open transaction.
        for ddl in ("DROP TABLE item2vec_vectors",
                    "ALTER TABLE item2vec_vectors RENAME TO moved_away"):
            a.execute("BEGIN")
            answer(a, x)  # loaded inside the transaction
            a.execute(ddl)
            try:
                rows = answer(a, x)
                err = "still %d rows" % len(rows)
            except Exception as e:
                err = str(e)
            try:
                a.execute("SELECT item2vec_similarity(?, ?)", (x, y)).fetchone()
                err2 = "still answers"
            except Exception as e:
                err2 = str(e)
            a.execute("ROLLBACK")
            check(label + "%s in an open transaction: no answer from the old table" % ddl.split()[0],
                  "no model has been trained" in err and "no model has been trained" in err2,
                  "similar_items: %s; item2vec_similarity: %s" % (err, err2))
            check(label + "... and after ROLLBACK the model answers again",
                  answer(a, x) == committed, "answer changed")

        # COMMIT: the change stays; ROLLBACK: it goes.
        a.execute("BEGIN")
        a.execute(set_x, (other, x))
        answer(a, x)
        a.execute("COMMIT")
        got = answer(a, x, 1)
        check(label + "a change committed in a transaction is seen after COMMIT",
              got and got[0][1] == other, str(got))
        a.execute("BEGIN")
        a.execute(set_x, (y, x))
        answer(a, x)
        a.execute("ROLLBACK")
        got = answer(a, x, 1)
        check(label + "a change rolled back is gone after ROLLBACK", got and got[0][1] == other,
              str(got))
        a.execute(set_x, (x, x))  # no-op write in autocommit

        # item2vec_index and item2vec_project after a ROLLBACK TO that took
        # back an added item: they see the rows as they are.
        blob = a.execute("SELECT vector FROM item2vec_vectors WHERE item = ?", (x,)).fetchone()[0]
        n_now = a.execute("SELECT count(*) FROM item2vec_vectors").fetchone()[0]
        a.execute("BEGIN")
        a.execute("SAVEPOINT s")
        a.execute("INSERT INTO item2vec_vectors VALUES ('default', 'ghost', 1, ?)", (blob,))
        answer(a, x)
        a.execute("ROLLBACK TO s")
        projected = a.execute("SELECT count(*), sum(item = 'ghost') FROM item2vec_project('default')"
                              ).fetchone()
        idx = json.loads(a.execute("SELECT item2vec_index('default', 'verbose=0')").fetchone()[0])
        a.execute("COMMIT")
        check(label + "item2vec_index after ROLLBACK TO indexes the rows as they are",
              idx["items"] == n_now == n_items, "indexed %d items, the model has %d" % (idx["items"], n_now))
        check(label + "item2vec_project after ROLLBACK TO projects the rows as they are",
              projected[0] == n_now and not projected[1], "projected %r" % (projected,))
        # The index is for these rows: a fresh connection uses it and its
        # answers match the exact scan.
        b = connect(path, isolation_level=None)
        approx = b.execute("SELECT item FROM similar_items(?, 5)", (x,)).fetchall()
        exact = b.execute("SELECT item FROM similar_items(?, 5) WHERE exact = 1", (x,)).fetchall()
        b.close()
        check(label + "... and the index built then serves the committed rows", approx == exact,
              "%s vs %s" % (approx, exact))
        a.close()


def test_repeated_queries_stay_cached(tmp):
    """Outside transactions, and in a transaction that has not written, the
    model is read once: repeated queries cost far less than the first."""
    import time
    path = os.path.join(tmp, "speed.db")
    a = connect(path, isolation_level=None)
    a.execute("CREATE TABLE big(u, i)")
    a.execute("WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM n WHERE x < 199999) "
              "INSERT INTO big SELECT x / 4, (x * 7919) % 50000 FROM n")
    train(a, "big", "u", "i", "workers=1", "epochs=1", "vector_size=64", "sample=0")
    a.close()
    for state in ("autocommit", "a read transaction", "a write transaction that has not written"):
        a = connect(path, isolation_level=None)
        t = time.perf_counter()
        a.execute("SELECT count(*) FROM similar_items(7, 10)").fetchone()
        first = time.perf_counter() - t
        if state != "autocommit":
            a.execute("BEGIN IMMEDIATE" if "write" in state else "BEGIN")
            a.execute("SELECT count(*) FROM big").fetchone()
        t = time.perf_counter()
        for k in range(20):
            a.execute("SELECT count(*) FROM similar_items(?, 10)", (k,)).fetchone()
            a.execute("SELECT item2vec_similarity(?, 1)", (k,)).fetchone()
        rest = (time.perf_counter() - t) / 20
        if state != "autocommit":
            a.execute("COMMIT")
        a.close()
        check("repeated queries in %s use the loaded model" % state, rest < first / 3,
              "first %.1f ms, then %.1f ms each" % (first * 1e3, rest * 1e3))
    # A transaction that has written reads the model once per statement:
    # 300 rows of one statement cost about one load, not 300.
    a = connect(path, isolation_level=None)
    a.execute("BEGIN")
    a.execute("INSERT INTO big VALUES (-1, -1)")
    t = time.perf_counter()
    a.execute("SELECT count(*) FROM similar_items(7, 10)").fetchone()
    one = time.perf_counter() - t
    t = time.perf_counter()
    got = a.execute("WITH RECURSIVE n(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM n WHERE v < 300) "
                    "SELECT count(item2vec_similarity(v, 1, 'default')) FROM n").fetchone()[0]
    many = time.perf_counter() - t
    a.execute("ROLLBACK")
    a.close()
    check("in a transaction that wrote, one statement reads the model once",
          got == 300 and many < 5 * one, "one query %.1f ms, 300 rows %.1f ms" % (one * 1e3, many * 1e3))

with tempfile.TemporaryDirectory() as tmp:
    for t in (test_other_connection, test_same_connection, test_attached_changes_do_not_break,
              test_transaction_states, test_repeated_queries_stay_cached):
        run(t.__name__, lambda: t(tmp))
finish()
