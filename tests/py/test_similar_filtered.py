"""test_similar_filtered.py: similar_items' min_frequency and query by
vector on a random model big enough (12,000 x 16) that the exact scan takes
its two-pass (int8 first) path, checked against numpy:
  - min_frequency with the exact scan (two-pass and one-pass), score =
    'context', exclude and only: exactly the filtered top k;
  - min_frequency through the approximate index: k rows, all frequent
    enough, whenever k items qualify, even when 1 in 100 does (the search
    widens, then leaves it to the exact scan), with the recall of the
    unfiltered search;
  - a vector: similar_items(item2vec_vector(x), k + 1) is x, then
    similar_items(x, k), rank for rank, with the exact scan and through the
    index at a wide ef; random vectors give numpy's cosine top k.
"""

import os
import random
import tempfile

import numpy as np

from common import check, connect, finish, run

N, DIM, K = 12000, 16, 10
SCHEMA = """
CREATE TABLE item2vec_models(name TEXT PRIMARY KEY, dim INTEGER NOT NULL, items INTEGER NOT NULL,
  source TEXT, params TEXT, stats TEXT, created_at TEXT);
CREATE TABLE item2vec_vectors(model TEXT NOT NULL, item, frequency INTEGER NOT NULL,
  vector BLOB NOT NULL, PRIMARY KEY (model, item)) WITHOUT ROWID;
CREATE TABLE item2vec_context(model TEXT NOT NULL, item, vector BLOB NOT NULL,
  PRIMARY KEY (model, item)) WITHOUT ROWID;
"""

rng = np.random.default_rng(3)
VEC = rng.standard_normal((N, DIM)).astype(np.float32)
CTX = rng.standard_normal((N, DIM)).astype(np.float32)
# Heavy-tailed frequencies, as in real catalogues: most items are rare.
FREQ = np.minimum(np.floor(1.0 / rng.random(N) ** 1.2), 10 ** 6).astype(np.int64)
UNIT = VEC / np.linalg.norm(VEC.astype(np.float64), axis=1, keepdims=True).astype(np.float32)
QUERIES = random.Random(4).sample(range(N), 25)
TOL = 1e-5


def make(path):
    conn = connect(path, isolation_level=None)
    conn.executescript(SCHEMA)
    conn.execute("BEGIN")
    conn.execute("INSERT INTO item2vec_models(name, dim, items) VALUES ('default', ?, ?)", (DIM, N))
    conn.executemany("INSERT INTO item2vec_vectors VALUES ('default', ?, ?, ?)",
                     ((i, int(FREQ[i]), VEC[i].astype("<f4").tobytes()) for i in range(N)))
    conn.executemany("INSERT INTO item2vec_context VALUES ('default', ?, ?)",
                     ((i, CTX[i].astype("<f4").tobytes()) for i in range(N)))
    conn.execute("COMMIT")
    return conn


def rows(conn, sql, *args):
    return [(r[0], r[1]) for r in conn.execute(sql, args)]


def topk_problem(got, scores, allowed, k):
    """Why got (item, score) is not the top k of scores over the allowed
    rows (ties within TOL may go either way), or None."""
    want = min(k, int(allowed.sum()))
    if len(got) != want:
        return "%d rows, want %d" % (len(got), want)
    items = [g[0] for g in got]
    if len(set(items)) != len(items):
        return "an item twice"
    for i, s in got:
        if not allowed[i]:
            return "item %d is not allowed (frequency %d)" % (i, FREQ[i])
        if abs(s - scores[i]) > TOL:
            return "item %d: score %.6f, numpy %.6f" % (i, s, scores[i])
    if any(got[j][1] < got[j + 1][1] for j in range(len(got) - 1)):
        return "not best first"
    if want:
        rest = allowed.copy()
        rest[items] = False
        if rest.any() and scores[rest].max() > got[-1][1] + TOL:
            return "item %d (%.6f) beats the last row (%.6f)" % (
                int(np.flatnonzero(rest)[np.argmax(scores[rest])]), scores[rest].max(), got[-1][1])
    return None


def test_exact(conn):
    bad = []
    for mf in (1, 5, 50, 300):
        for q in QUERIES:
            scores = UNIT @ UNIT[q]
            allowed = FREQ >= mf
            allowed[q] = False
            for k in (K, 2000):  # two-pass up to k = 1024, one pass above
                got = rows(conn, "SELECT item, similarity FROM similar_items(?, ?) WHERE min_frequency = ?", q, k, mf)
                why = topk_problem(got, scores, allowed, k)
                if why:
                    bad.append("q=%d k=%d min_frequency=%d: %s" % (q, k, mf, why))
    check("min_frequency, exact scan (two-pass and one-pass): numpy's filtered top k", not bad,
          "; ".join(bad[:3]))
    check("... min_frequency=300 leaves about 1 item in 100",
          0.003 < (FREQ >= 300).mean() < 0.03, "share %.4f" % (FREQ >= 300).mean())


def test_context_and_lists(conn):
    bad = []
    ctx_scores = CTX @ UNIT[QUERIES[0]]
    for mf in (1, 5, 50):
        for q in QUERIES[:10]:
            scores = CTX @ UNIT[q]
            allowed = FREQ >= mf
            allowed[q] = False
            got = rows(conn, "SELECT item, similarity FROM similar_items(?, ?) "
                             "WHERE score = 'context' AND min_frequency = ?", q, K, mf)
            why = topk_problem(got, scores, allowed, K)
            if why:
                bad.append("context q=%d min_frequency=%d: %s" % (q, mf, why))
            # exclude and only with min_frequency.
            excl = [int(i) for i in np.argsort(-(UNIT @ UNIT[q]))[:30:3]]
            cand = random.Random(q).sample(range(N), 3000)
            allowed2 = np.zeros(N, bool)
            allowed2[cand] = True
            allowed2 &= FREQ >= mf
            allowed2[excl] = False
            allowed2[q] = False
            got = rows(conn, "SELECT item, similarity FROM similar_items(?, ?, 'default', ?) "
                             "WHERE only = ? AND min_frequency = ?", q, K, str(excl), str(cand), mf)
            why = topk_problem(got, UNIT @ UNIT[q], allowed2, K)
            if why:
                bad.append("exclude+only q=%d min_frequency=%d: %s" % (q, mf, why))
    del ctx_scores
    check("min_frequency with score='context', exclude and only: numpy's top k", not bad, "; ".join(bad[:3]))


def vec_blob(v):
    return np.asarray(v, dtype="<f4").tobytes()


def test_vectors(conn, where, name):
    bad = []
    for q in QUERIES:
        by_vec = rows(conn, "SELECT item, similarity FROM similar_items(item2vec_vector(?), ?) %s" % where, q, K + 1)
        by_id = rows(conn, "SELECT item, similarity FROM similar_items(?, ?) %s" % where, q, K)
        if not by_vec or by_vec[0][0] != q or abs(by_vec[0][1] - 1.0) > 1e-6:
            bad.append("q=%d: first row %s" % (q, by_vec[:1]))
        elif [i for i, _ in by_vec[1:]] != [i for i, _ in by_id] or \
                any(abs(a[1] - b[1]) > 1e-6 for a, b in zip(by_vec[1:], by_id)):
            bad.append("q=%d: %s vs %s" % (q, by_vec[1:4], by_id[:3]))
    check("%s: similar_items(item2vec_vector(x), k+1) is x then similar_items(x, k)" % name, not bad,
          "; ".join(bad[:3]))


def test_random_vectors(conn, where, name, min_recall=None):
    r = np.random.default_rng(9)
    bad, found = [], 0
    for t in range(25):
        v = r.standard_normal(DIM).astype(np.float32) * float(r.uniform(0.1, 10))
        scores = UNIT @ (v / np.linalg.norm(v.astype(np.float64))).astype(np.float32)
        allowed = np.ones(N, bool)
        got = rows(conn, "SELECT item, similarity FROM similar_items(?, ?) %s" % where, vec_blob(v), K)
        truth = set(np.argsort(-scores)[:K].tolist())
        found += len(truth & {i for i, _ in got})
        if min_recall is None:
            why = topk_problem(got, scores, allowed, K)
            if why:
                bad.append("vector %d: %s" % (t, why))
        elif len(got) != K:
            bad.append("vector %d: %d rows" % (t, len(got)))
    rec = found / (25.0 * K)
    if min_recall is None:
        check("%s: random vectors of any length give numpy's cosine top k" % name, not bad, "; ".join(bad[:3]))
    else:
        check("%s: random vectors, k rows, recall at 10 >= %.2f" % (name, min_recall),
              not bad and rec >= min_recall, "recall %.3f %s" % (rec, "; ".join(bad[:3])))


def test_index(conn):
    exact = {}
    for mf in (1, 5, 50, 300):
        for q in QUERIES:
            exact[q, mf] = [r[0] for r in conn.execute(
                "SELECT item FROM similar_items(?, ?) WHERE min_frequency = ? AND exact = 1", (q, K, mf))]
    conn.execute("SELECT item2vec_index('default', 'threads=1', 'verbose=0')").fetchone()
    bad = []
    recall = {}
    for mf in (1, 5, 50, 300):
        found = 0
        for q in QUERIES:
            got = [r[0] for r in conn.execute(
                "SELECT item FROM similar_items(?, ?) WHERE min_frequency = ?", (q, K, mf))]
            if len(got) != K or any(FREQ[i] < mf for i in got) or q in got:
                bad.append("q=%d min_frequency=%d: %d rows, frequencies %s" % (q, mf, len(got),
                                                                               [int(FREQ[i]) for i in got]))
            found += len(set(got) & set(exact[q, mf]))
        recall[mf] = found / (K * len(QUERIES))
    check("index: min_frequency gives k rows, all frequent enough (1 in 3 and 1 in 100 qualify)", not bad,
          "; ".join(bad[:3]))
    check("index: recall at 10 with min_frequency as high as without (>= 0.95)",
          min(recall.values()) >= 0.95, "recall %s" % recall)
    # Fewer qualify than k: exactly those, the exact scan's way.
    top = int(np.sort(FREQ)[-5])
    few = [r[0] for r in conn.execute("SELECT item FROM similar_items(?, 20) WHERE min_frequency = ?",
                                      (QUERIES[0], top))]
    want = set(np.flatnonzero(FREQ >= top).tolist()) - {QUERIES[0]}
    check("index: when fewer than k qualify, all of them come back", set(few) == want and len(few) == len(want),
          "got %s, want %s" % (few, sorted(want)))
    # exclude with min_frequency through the index.
    bad = []
    for q in QUERIES[:10]:
        excl = [r[0] for r in conn.execute("SELECT item FROM similar_items(?, 5) WHERE min_frequency = 5", (q,))]
        got = [r[0] for r in conn.execute("SELECT item FROM similar_items(?, ?, 'default', ?) WHERE min_frequency = 5",
                                          (q, K, str(excl)))]
        if len(got) != K or set(got) & set(excl) or any(FREQ[i] < 5 for i in got):
            bad.append("q=%d: %s" % (q, got))
    check("index: exclude and min_frequency together, k rows", not bad, "; ".join(bad[:3]))


def test_rare_neighbourhood(conn):
    """A query whose 300 nearest items are all rare while half the model is
    frequent: the first graph search finds none that qualifies, the second,
    wider one finds them."""
    n = 5000
    r = np.random.default_rng(11)
    vec = r.standard_normal((n, DIM)).astype(np.float32)
    unit = vec / np.linalg.norm(vec.astype(np.float64), axis=1, keepdims=True).astype(np.float32)
    q = 17
    order = np.argsort(-(unit @ unit[q]))
    freq = np.where(np.arange(n) % 2 == 0, 100, 1)
    freq[order[:301]] = 1
    conn.execute("INSERT INTO item2vec_models(name, dim, items) VALUES ('nbhd', ?, ?)", (DIM, n))
    conn.executemany("INSERT INTO item2vec_vectors VALUES ('nbhd', ?, ?, ?)",
                     ((i, int(freq[i]), vec[i].astype("<f4").tobytes()) for i in range(n)))
    exact = [r[0] for r in conn.execute(
        "SELECT item FROM similar_items(?, ?, 'nbhd') WHERE min_frequency = 50 AND exact = 1", (q, K))]
    conn.execute("SELECT item2vec_index('nbhd', 'threads=1', 'verbose=0')").fetchone()
    got = [r[0] for r in conn.execute(
        "SELECT item FROM similar_items(?, ?, 'nbhd') WHERE min_frequency = 50", (q, K))]
    near = [r[0] for r in conn.execute("SELECT item FROM similar_items(?, 64, 'nbhd')", (q,))]
    check("index: a neighbourhood of rare items only: the search widens and k frequent rows come back",
          len(got) == K and all(freq[i] >= 50 for i in got) and len(set(got) & set(exact)) >= K - 1
          and all(freq[i] < 50 for i in near),
          "got %s, exact %s" % (got, exact))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        conn = make(os.path.join(tmp, "f.db"))
        run("exact", lambda: test_exact(conn))
        run("context and lists", lambda: test_context_and_lists(conn))
        run("vectors, exact", lambda: test_vectors(conn, "", "exact scan"))
        run("random vectors, exact", lambda: test_random_vectors(conn, "", "exact scan"))
        run("index", lambda: test_index(conn))
        run("rare neighbourhood", lambda: test_rare_neighbourhood(conn))
        run("vectors, index", lambda: test_vectors(conn, "WHERE ef = 2000",
                                                   "index at ef=2000"))
        run("vectors, index, exact=1", lambda: test_vectors(conn, "WHERE exact = 1", "index, exact = 1"))
        run("random vectors, index", lambda: test_random_vectors(conn, "", "index at the default ef", 0.95))
        conn.close()


main()
finish()
