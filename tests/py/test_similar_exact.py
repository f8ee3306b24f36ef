"""test_similar_exact.py: the exact search of similar_items on a fixed
random model (10,000 x 32 unit vectors, seeded): the same top-10 lists as
gensim's KeyedVectors.most_similar, item for item; exclude and only equal a
numpy brute force that filters before the top k; a lateral join over many
queries equals the queries one by one.
"""

import json
import random

import numpy as np

from common import check, connect, finish, run, skip

try:
    from gensim.models import KeyedVectors
except ImportError:  # gensim is optional: that comparison is skipped
    KeyedVectors = None

N, DIM = 10000, 32
RNG = np.random.default_rng(20240601)
VEC = RNG.standard_normal((N, DIM)).astype(np.float32)
VEC *= RNG.uniform(0.5, 2.0, size=(N, 1)).astype(np.float32)  # not unit: both must normalise


def model_db():
    conn = connect()
    conn.executescript("""
      CREATE TABLE item2vec_models(name TEXT PRIMARY KEY, dim INTEGER NOT NULL, items INTEGER NOT NULL,
        source TEXT, params TEXT, stats TEXT, created_at TEXT);
      CREATE TABLE item2vec_vectors(model TEXT NOT NULL, item, frequency INTEGER NOT NULL,
        vector BLOB NOT NULL, PRIMARY KEY (model, item)) WITHOUT ROWID;""")
    conn.execute("INSERT INTO item2vec_models(name, dim, items) VALUES ('default', ?, ?)", (DIM, N))
    raw = VEC.astype("<f4").tobytes()
    conn.executemany("INSERT INTO item2vec_vectors VALUES ('default', ?, 1, ?)",
                     ((i, raw[i * 4 * DIM:(i + 1) * 4 * DIM]) for i in range(N)))
    return conn


CONN = model_db()
UNIT = VEC / np.linalg.norm(VEC, axis=1, keepdims=True)


def brute(query_items, k, exclude=(), only=None, weights=None):
    """Top k by cosine, query items and exclude left out, only as candidates."""
    w = np.ones(len(query_items)) if weights is None else np.array(weights)
    q = (UNIT[list(query_items)] * w[:, None]).sum(axis=0)
    q /= np.linalg.norm(q)
    s = UNIT @ q
    keep = np.zeros(N, dtype=bool)
    if only is None:
        keep[:] = True
    else:
        keep[list(only)] = True
    keep[list(query_items)] = False
    keep[list(exclude)] = False
    cand = np.nonzero(keep)[0]
    order = np.lexsort((cand, -s[cand]))  # best first, ties to the smaller item
    return [int(i) for i in cand[order[:k]]]


def ours(qarg, k, exclude=None, only=None):
    sql = "SELECT item FROM similar_items(?, ?, 'default', ?)"
    args = (qarg, k, exclude)
    if only is not None:
        sql, args = sql + " WHERE only = ?", args + (only,)
    return [r[0] for r in CONN.execute(sql, args)]


def test_gensim():
    if KeyedVectors is None:
        skip("top-10 lists equal gensim's most_similar", "gensim is not installed")
        return
    kv = KeyedVectors(vector_size=DIM)
    kv.add_vectors([str(i) for i in range(N)], VEC)
    rnd = random.Random(1)
    bad = []
    for t in range(200):
        if t % 4 == 0:  # several positive and negative items, as a JSON object
            pos, neg = rnd.sample(range(N), 3), rnd.sample(range(N), 1)
            arg = json.dumps({"positive": pos, "negative": neg})
            theirs = kv.most_similar(positive=[str(p) for p in pos], negative=[str(x) for x in neg], topn=10)
        else:
            pos = [rnd.randrange(N)]
            arg = pos[0]
            theirs = kv.most_similar(str(pos[0]), topn=10)
        mine = ours(arg, 10)
        if mine != [int(i) for i, _ in theirs]:
            bad.append("%s: %s vs gensim %s" % (arg, mine, [i for i, _ in theirs]))
    check("top-10 lists equal gensim's most_similar, item for item (200 queries)",
          not bad, "%d differ, first: %s" % (len(bad), bad[:1]))


def test_filters():
    rnd = random.Random(2)
    bad = []
    for t in range(60):
        q = rnd.randrange(N)
        k = rnd.choice((1, 5, 10, 50))
        excl = rnd.sample(range(N), rnd.choice((0, 3, 300)))
        # Exclude what the plain top k would return, plus random items.
        excl += brute([q], rnd.choice((0, 5, 20)))
        only = rnd.sample(range(N), rnd.choice((0, 1, 8, 40, 2000))) if t % 2 else None
        want = brute([q], k, excl, only)
        got = ours(q, k, json.dumps(excl), json.dumps(only) if only is not None else None)
        if got != want:
            bad.append("q=%d k=%d |exclude|=%d |only|=%s: %s vs %s" % (
                q, k, len(excl), None if only is None else len(only), got[:5], want[:5]))
    check("exclude and only are applied before the top k (60 random cases vs numpy)",
          not bad, "%d differ, first: %s" % (len(bad), bad[:1]))
    # only with at least k candidates: always k rows.
    rows = CONN.execute("SELECT count(*) FROM similar_items(5, 10) WHERE only = ?",
                        (json.dumps(list(range(100, 130))),)).fetchone()[0]
    check("only with 30 candidates gives k = 10 rows", rows == 10, "%d rows" % rows)


def test_lateral():
    CONN.execute("CREATE TEMP TABLE users(user INTEGER PRIMARY KEY, seen TEXT)")
    rnd = random.Random(3)
    hist = {u: rnd.sample(range(N), rnd.randint(1, 40)) for u in range(300)}
    CONN.executemany("INSERT INTO users VALUES (?, ?)", ((u, json.dumps(h)) for u, h in hist.items()))
    got = {}
    for u, item in CONN.execute(
            "SELECT u.user, s.item FROM users AS u, similar_items(u.seen, 10, 'default', u.seen) AS s "
            "ORDER BY u.user, s.rank"):
        got.setdefault(u, []).append(item)
    bad = [u for u in hist if got.get(u) != brute(hist[u], 10)]
    check("a lateral join over 300 users' histories equals 300 single queries",
          not bad, "%d users differ, first %s" % (len(bad), bad[:1]))


def test_ties():
    # Model 'ties': 12,000 rows, every third a copy of an earlier one (exact
    # ties), so the two-pass scan must break ties as the one-pass scan does:
    # by row order.
    rng = np.random.default_rng(9)
    base = rng.standard_normal((12000, DIM)).astype(np.float32)
    src = rng.integers(0, 12000, size=12000)
    base[::3] = base[src[::3]]
    conn = connect()
    conn.executescript("""
      CREATE TABLE item2vec_models(name TEXT PRIMARY KEY, dim INTEGER NOT NULL, items INTEGER NOT NULL,
        source TEXT, params TEXT, stats TEXT, created_at TEXT);
      CREATE TABLE item2vec_vectors(model TEXT NOT NULL, item, frequency INTEGER NOT NULL,
        vector BLOB NOT NULL, PRIMARY KEY (model, item)) WITHOUT ROWID;""")
    conn.execute("INSERT INTO item2vec_models(name, dim, items) VALUES ('ties', ?, 12000)", (DIM,))
    raw = base.astype("<f4").tobytes()
    conn.executemany("INSERT INTO item2vec_vectors VALUES ('ties', ?, 1, ?)",
                     ((i, raw[i * 4 * DIM:(i + 1) * 4 * DIM]) for i in range(12000)))
    unit = base / np.linalg.norm(base, axis=1, keepdims=True)
    bad = []
    for q in range(0, 12000, 397):
        # Scores as the extension computes them are float32; ties are exact
        # copies, so compare the item order with ties broken by row.
        s = unit @ unit[q]
        s[q] = -9
        want = [int(i) for i in np.lexsort((np.arange(12000), -s))[:20]]
        got = [r[0] for r in conn.execute("SELECT item FROM similar_items(?, 20, 'ties')", (q,))]
        # Equal scores may differ in the last bit between numpy and the
        # kernel; only demand the same set and, within exact copies, row order.
        if set(got) != set(want):
            bad.append("q=%d: %s vs %s" % (q, got[:6], want[:6]))
        for a, b in zip(got, got[1:]):
            if np.array_equal(base[a], base[b]) and a > b:
                bad.append("q=%d: copies %d and %d out of row order" % (q, a, b))
    check("exact ties: the same items, copies in row order (two-pass scan)", not bad, "; ".join(bad[:2]))
    conn.close()


run("gensim", test_gensim)
run("ties", test_ties)
run("filters", test_filters)
run("lateral", test_lateral)
finish()
