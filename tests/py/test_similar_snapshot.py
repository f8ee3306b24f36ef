"""test_similar_snapshot.py: two connections to one file, and what each
answer is made of.  An answer (a statement) comes from one version of the
model: a lateral join keeps answering from the version it started with while
another connection commits a new one (WAL), and the next statement sees the
new one; a read transaction sees its snapshot; a bare item2vec_similarity
notices another connection's commit; writes elsewhere (a temp table, the
rows of a lateral insert) do not reload the model.
"""

import os
import struct
import tempfile
import time

import numpy as np

from common import check, connect, finish, run

SCHEMA = """
CREATE TABLE item2vec_models(name TEXT PRIMARY KEY, dim INTEGER NOT NULL, items INTEGER NOT NULL,
  source TEXT, params TEXT, stats TEXT, created_at TEXT);
CREATE TABLE item2vec_vectors(model TEXT NOT NULL, item, frequency INTEGER NOT NULL,
  vector BLOB NOT NULL, PRIMARY KEY (model, item)) WITHOUT ROWID;
"""


def put_model(conn, vectors):
    """Replace model 'default' with vectors (items 0..n-1), in one transaction."""
    n, dim = vectors.shape
    raw = vectors.astype("<f4").tobytes()
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("DELETE FROM item2vec_vectors WHERE model = 'default'")
    conn.execute("INSERT OR REPLACE INTO item2vec_models(name, dim, items) VALUES ('default', ?, ?)", (dim, n))
    conn.executemany("INSERT INTO item2vec_vectors VALUES ('default', ?, 1, ?)",
                     ((i, raw[i * 4 * dim:(i + 1) * 4 * dim]) for i in range(n)))
    conn.execute("COMMIT")


def top(vectors, q, k):
    u = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    s = u @ u[q]
    s[q] = -9
    return [int(i) for i in np.argsort(-s, kind="stable")[:k]]


def pair(tmp, name, wal=True):
    path = os.path.join(tmp, name)
    a = connect(path, isolation_level=None)
    b = connect(path, isolation_level=None)
    if wal:
        a.execute("PRAGMA journal_mode=WAL")
    a.executescript(SCHEMA)
    return a, b


rng = np.random.default_rng(5)
OLD = rng.standard_normal((2000, 16)).astype(np.float32)
NEW = rng.standard_normal((2000, 16)).astype(np.float32)


def test_statement_snapshot(tmp):
    a, b = pair(tmp, "lateral.db")
    put_model(a, OLD)
    a.execute("CREATE TABLE q(item INTEGER)")
    a.executemany("INSERT INTO q VALUES (?)", ((i,) for i in range(0, 2000, 20)))
    cur = a.execute("SELECT q.item, s.item FROM q, similar_items(q.item, 5) AS s ORDER BY q.item, s.rank")
    rows = [cur.fetchone() for _ in range(50)]  # ten queries answered
    put_model(b, NEW)                           # another connection commits a new model
    rows += cur.fetchall()
    got = {}
    for q, it in rows:
        got.setdefault(q, []).append(it)
    mixed = [q for q in got if got[q] != top(OLD, q, 5)]
    check("a lateral join answers from the model it started with while another connection commits",
          not mixed, "%d of %d queries differ from the old model, first %s" % (len(mixed), len(got), mixed[:3]))
    after = [r[0] for r in a.execute("SELECT item FROM similar_items(40, 5)")]
    check("the next statement answers from the new model", after == top(NEW, 40, 5),
          "%s, new model %s" % (after, top(NEW, 40, 5)))
    a.close()
    b.close()


def test_read_transaction(tmp):
    a, b = pair(tmp, "txn.db")
    put_model(a, OLD)
    a.execute("BEGIN")
    first = [r[0] for r in a.execute("SELECT item FROM similar_items(7, 5)")]
    put_model(b, NEW)
    inside = [r[0] for r in a.execute("SELECT item FROM similar_items(7, 5)")]
    sim_inside = a.execute("SELECT item2vec_similarity(7, 8)").fetchone()[0]
    a.execute("COMMIT")
    outside = [r[0] for r in a.execute("SELECT item FROM similar_items(7, 5)")]
    u = OLD / np.linalg.norm(OLD, axis=1, keepdims=True)
    check("inside a read transaction: its snapshot (old model) for similar_items and item2vec_similarity",
          first == inside == top(OLD, 7, 5) and abs(sim_inside - float(u[7] @ u[8])) < 1e-5,
          "first %s, inside %s, old %s, similarity %r" % (first, inside, top(OLD, 7, 5), sim_inside))
    check("after it: the new model", outside == top(NEW, 7, 5), "%s vs %s" % (outside, top(NEW, 7, 5)))
    a.close()
    b.close()


def test_scalar_alone(tmp):
    # Rollback journal: no statement of A reads a table between B's commit
    # and A's item2vec_similarity.
    a, b = pair(tmp, "scalar.db", wal=False)
    put_model(a, OLD)
    s_old = a.execute("SELECT item2vec_similarity(1, 2)").fetchone()[0]
    v = struct.pack("<16f", *NEW[2])
    b.execute("UPDATE item2vec_vectors SET vector = ? WHERE model = 'default' AND item = 2", (v,))
    s_new = a.execute("SELECT item2vec_similarity(1, 2)").fetchone()[0]
    u1 = OLD[1] / np.linalg.norm(OLD[1])
    u2 = NEW[2] / np.linalg.norm(NEW[2])
    check("a bare item2vec_similarity notices another connection's UPDATE",
          abs(s_new - float(u1 @ u2)) < 1e-5 and abs(s_new - s_old) > 1e-3,
          "before %r, after %r, expected %r" % (s_old, s_new, float(u1 @ u2)))
    a.close()
    b.close()


def test_no_needless_reload(tmp):
    path = os.path.join(tmp, "big.db")
    a = connect(path, isolation_level=None)
    a.executescript(SCHEMA)
    big = np.random.default_rng(9).standard_normal((100000, 32)).astype(np.float32)
    put_model(a, big)
    a.execute("CREATE TEMP TABLE scratch(x)")
    a.execute("CREATE TABLE mainscratch(x)")

    def timed(sql_before):
        ts = []
        for i in range(3):
            a.execute(sql_before, (i,))
            t = time.perf_counter()
            a.execute("SELECT item FROM similar_items(?, 5)", (i,)).fetchall()
            ts.append(time.perf_counter() - t)
        return sorted(ts)[1]

    a.execute("SELECT item FROM similar_items(0, 5)").fetchall()  # loaded
    temp_write = timed("INSERT INTO temp.scratch VALUES (?)")
    main_write = timed("INSERT INTO main.mainscratch VALUES (?)")  # commits: the model is reloaded
    check("a write to a temp table does not reload the model",
          temp_write * 3 < main_write,
          "query after a temp write %.1f ms, after a committed main write (reload) %.1f ms"
          % (temp_write * 1e3, main_write * 1e3))
    # One statement writing a row per answer: no reload per row.
    a.execute("CREATE TABLE recs(q, item)")
    a.execute("CREATE TABLE qs(q)")
    a.executemany("INSERT INTO qs VALUES (?)", ((i,) for i in range(200)))
    t = time.perf_counter()
    a.execute("INSERT INTO recs SELECT qs.q, s.item FROM qs, similar_items(qs.q, 5) AS s")
    el = time.perf_counter() - t
    n = a.execute("SELECT count(*) FROM recs").fetchone()[0]
    check("INSERT ... SELECT over 200 queries loads the model once", n == 1000 and el < 200 * main_write / 4,
          "%d rows in %.2f s (a reload costs %.1f ms)" % (n, el, main_write * 1e3))
    a.close()


with tempfile.TemporaryDirectory() as tmp:
    run("statement snapshot", lambda: test_statement_snapshot(tmp))
    run("read transaction", lambda: test_read_transaction(tmp))
    run("scalar alone", lambda: test_scalar_alone(tmp))
    run("no needless reload", lambda: test_no_needless_reload(tmp))
finish()
