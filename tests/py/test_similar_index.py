"""test_similar_index.py: item2vec_index on a fixed random model (8,000 x
24): recall at 10 against the exact scan, wider search (ef) finds more; the
index survives closing and reopening and answers the same; one build thread
gives the same bytes every time; damaged bytes give a clear error, never a
crash or a wrong item, and exact = 1 still answers; sqlite3_interrupt stops a
build and keeps the stored index.
"""

import json
import os
import random
import sqlite3
import tempfile
import threading
import time

import numpy as np

from common import check, connect, finish, run

N, DIM = 8000, 24
SCHEMA = """
CREATE TABLE item2vec_models(name TEXT PRIMARY KEY, dim INTEGER NOT NULL, items INTEGER NOT NULL,
  source TEXT, params TEXT, stats TEXT, created_at TEXT);
CREATE TABLE item2vec_vectors(model TEXT NOT NULL, item, frequency INTEGER NOT NULL,
  vector BLOB NOT NULL, PRIMARY KEY (model, item)) WITHOUT ROWID;
"""


def make(path, n=N, model="default", seed=1):
    conn = connect(path, isolation_level=None)
    conn.executescript(SCHEMA)
    vec = np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)
    raw = vec.astype("<f4").tobytes()
    conn.execute("BEGIN")
    conn.execute("INSERT INTO item2vec_models(name, dim, items) VALUES (?, ?, ?)", (model, DIM, n))
    conn.executemany("INSERT INTO item2vec_vectors VALUES (?, ?, 1, ?)",
                     ((model, i, raw[i * 4 * DIM:(i + 1) * 4 * DIM]) for i in range(n)))
    conn.execute("COMMIT")
    return conn


QUERIES = random.Random(4).sample(range(N), 100)


def answers(conn, where=""):
    return {q: [r[0] for r in conn.execute("SELECT item FROM similar_items(?, 10) %s" % where, (q,))]
            for q in QUERIES}


PAIRS = ["[%d, %d]" % tuple(random.Random(5 + i).sample(range(N), 2)) for i in range(100)]


def pair_answers(conn, where=""):
    """Queries of two items: their mean is not an item of the graph."""
    return {q: [r[0] for r in conn.execute("SELECT item FROM similar_items(?, 10) %s" % where, (q,))]
            for q in PAIRS}


def pair_recall(got, truth):
    return sum(len(set(got[q]) & set(truth[q])) for q in PAIRS) / (10.0 * len(PAIRS))


def recall(got, truth):
    return sum(len(set(got[q]) & set(truth[q])) for q in QUERIES) / (10.0 * len(QUERIES))


def test_recall_and_reopen(tmp):
    path = os.path.join(tmp, "idx.db")
    conn = make(path)
    truth = answers(conn)  # no index yet: the exact scan
    info = json.loads(conn.execute("SELECT item2vec_index('default', 'verbose=0')").fetchone()[0])
    check("item2vec_index reports what it built",
          info["items"] == N and info["dim"] == DIM and info["kind"] == "hnsw" and info["bytes"] > N * 4,
          "summary %s" % info)
    got = answers(conn)
    r = recall(got, truth)
    check("recall at 10 with the default ef is at least 0.95", r >= 0.95, "recall %.3f" % r)
    narrow = recall(answers(conn, "WHERE ef = 10"), truth)
    check("one-item queries start from the item: ef=10 already finds 0.9", narrow >= 0.9,
          "ef=10 %.3f" % narrow)
    pair_truth = pair_answers(conn, "WHERE exact = 1")
    p_narrow = pair_recall(pair_answers(conn, "WHERE ef = 10"), pair_truth)
    p_default = pair_recall(pair_answers(conn), pair_truth)
    p_wide = pair_recall(pair_answers(conn, "WHERE ef = 400"), pair_truth)
    check("two-item queries: a wider search finds more (ef=10 < ef=400, ef=400 >= 0.99)",
          p_narrow < p_wide and p_wide >= 0.99, "ef=10 %.3f, ef=400 %.3f" % (p_narrow, p_wide))
    check("two-item queries search wider by default (recall >= 0.95 and above ef=10's)",
          p_default >= 0.95 and p_default > p_narrow,
          "default %.3f, ef=10 %.3f" % (p_default, p_narrow))
    check("exact = 1 is the exact scan", answers(conn, "WHERE exact = 1") == truth, "differs")
    conn.close()
    again = connect(path)
    check("the index survives closing and reopening: the same answers", answers(again) == got,
          "answers differ after reopening")
    check("... and is used (ef=10 answers as before)", recall(answers(again, "WHERE ef = 10"), truth) == narrow,
          "ef=10 recall changed")
    again.close()


def test_deterministic(tmp):
    path = os.path.join(tmp, "det.db")
    conn = make(path, n=3000)
    blobs = []
    for _ in range(2):
        conn.execute("SELECT item2vec_index('default', 'threads=1', 'seed=5', 'verbose=0')").fetchone()
        blobs.append(conn.execute("SELECT group_concat(hex(data), '') FROM item2vec_index").fetchone()[0])
    check("threads=1 and a seed: the same index bytes every time", blobs[0] == blobs[1], "they differ")
    conn.execute("SELECT item2vec_index('default', 'threads=1', 'seed=6', 'verbose=0')").fetchone()
    other = conn.execute("SELECT group_concat(hex(data), '') FROM item2vec_index").fetchone()[0]
    check("another seed, another index", other != blobs[0], "same bytes")
    conn.close()


def test_damage(tmp):
    path = os.path.join(tmp, "dmg.db")
    conn = make(path, n=3000)
    conn.execute("SELECT item2vec_index('default', 'threads=1', 'verbose=0')").fetchone()
    good = conn.execute("SELECT data FROM item2vec_index WHERE model = 'default'").fetchone()[0]
    exact = answers(conn, "WHERE exact = 1")
    rnd = random.Random(8)
    bad = []
    for t in range(40):
        data = bytearray(good)
        for _ in range(rnd.randint(1, 3)):
            data[rnd.randrange(len(data))] ^= rnd.randint(1, 255)
        if t % 10 == 9:
            data = data[:rnd.randrange(len(data))]
        conn.execute("UPDATE item2vec_index SET data = ? WHERE model = 'default'", (bytes(data),))
        try:
            rows = conn.execute("SELECT item FROM similar_items(5, 10)").fetchall()
            bad.append("flip %d answered %s" % (t, rows[:3]))
        except sqlite3.Error as e:
            if "damaged" not in str(e) or "item2vec_index('default')" not in str(e):
                bad.append("flip %d: %s" % (t, e))
        if answers(conn, "WHERE exact = 1") != exact:
            bad.append("flip %d: exact = 1 changed" % t)
    check("damaged index bytes: a clear error every time, exact = 1 unaffected", not bad, "; ".join(bad[:3]))
    conn.execute("UPDATE item2vec_index SET data = ? WHERE model = 'default'", (good,))
    check("restored bytes: answers again", len(conn.execute("SELECT item FROM similar_items(5, 10)").fetchall()) == 10,
          "no answer")
    conn.close()


def test_interrupt(tmp):
    path = os.path.join(tmp, "intr.db")
    conn = make(path, n=60000)
    conn.execute("SELECT item2vec_index('default', 'M=4', 'ef_construction=8', 'verbose=0')").fetchone()
    before = conn.execute("SELECT group_concat(hex(data), '') FROM item2vec_index").fetchone()[0]
    timer = threading.Timer(0.3, conn.interrupt)
    timer.start()
    t = time.perf_counter()
    try:
        conn.execute("SELECT item2vec_index('default', 'M=48', 'ef_construction=400', 'verbose=0')").fetchone()
        err = "finished"
    except sqlite3.Error as e:
        err = str(e)
    el = time.perf_counter() - t
    timer.cancel()
    after = conn.execute("SELECT group_concat(hex(data), '') FROM item2vec_index").fetchone()[0]
    check("sqlite3_interrupt stops a build within a second and keeps the stored index",
          "interrupted" in err and el < 1.5 + 0.3 and after == before,
          "error %r after %.2f s, index %s" % (err, el, "kept" if after == before else "changed"))
    conn.close()


with tempfile.TemporaryDirectory() as tmp:
    run("recall and reopen", lambda: test_recall_and_reopen(tmp))
    run("deterministic", lambda: test_deterministic(tmp))
    run("damage", lambda: test_damage(tmp))
    run("interrupt", lambda: test_interrupt(tmp))
finish()
