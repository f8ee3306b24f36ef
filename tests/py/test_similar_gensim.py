"""test_similar_gensim.py: similar_items and item2vec_similarity compute what
gensim's KeyedVectors.most_similar and .similarity compute on the same
vectors: the vectors stored by item2vec_train are loaded into gensim and every
query (one item, a list, positive and negative lists) must give the same items
with the same cosine (within float32 rounding).
"""

import json

import numpy as np

from common import check, connect, finish, run, skip, train, unpack
from gen import planted, write_sqlite

try:
    from gensim.models import KeyedVectors
except ImportError:  # gensim is optional: the comparison is skipped
    KeyedVectors = None

DATA = planted(clusters=10, per_cluster=20, users=1500, seed=4)


def same_ranking(ours, theirs, tol=2e-5):
    """Equal similarities rank by rank; items equal unless scores nearly tie."""
    if len(ours) != len(theirs):
        return "lengths %d and %d" % (len(ours), len(theirs))
    for r, ((it, s), (git, gs)) in enumerate(zip(ours, theirs)):
        if abs(s - gs) > tol:
            return "rank %d: similarity %.6f vs gensim %.6f" % (r + 1, s, gs)
        if it != git:
            near = [x for x, y in theirs if abs(y - s) <= tol]
            if it not in near:
                return "rank %d: item %s vs gensim %s" % (r + 1, it, git)
    return ""


def test_against_gensim():
    if KeyedVectors is None:
        skip("similar_items equals gensim most_similar", "gensim is not installed")
        return
    conn = connect()
    write_sqlite(conn, "ratings", DATA.rows)
    train(conn, "ratings", "userId", "itemId", "workers=1", "vector_size=24", "epochs=3")
    rows = conn.execute("SELECT item, vector FROM item2vec_vectors ORDER BY item").fetchall()
    kv = KeyedVectors(vector_size=24)
    kv.add_vectors([str(it) for it, _ in rows], np.array([unpack(b) for _, b in rows], dtype=np.float32))
    top = DATA.most_frequent(12)
    queries = [(str(t), [t], []) for t in top[:6]]
    queries += [("list %s" % top[:3], top[:3], []),
                ("positive %s negative %s" % (top[:2], top[2:4]), top[:2], top[2:4]),
                ("negative only %s" % top[5:6], [], top[5:6])]
    bad = []
    for label, pos, neg in queries:
        if neg or len(pos) > 1:
            arg = json.dumps({"positive": pos, "negative": neg}) if neg else json.dumps(pos)
        else:
            arg = pos[0]
        ours = [(str(it), s) for it, s in
                conn.execute("SELECT item, similarity FROM similar_items(?, 15)", (arg,))]
        theirs = kv.most_similar(positive=[str(p) for p in pos], negative=[str(n) for n in neg], topn=15)
        why = same_ranking(ours, theirs)
        if why:
            bad.append("%s: %s" % (label, why))
    check("similar_items equals gensim most_similar (one item, lists, positive/negative)",
          not bad, "; ".join(bad))
    worst = 0.0
    for a in top:
        for b in top:
            s = conn.execute("SELECT item2vec_similarity(?, ?)", (a, b)).fetchone()[0]
            worst = max(worst, abs(s - float(kv.similarity(str(a), str(b)))))
    check("item2vec_similarity equals gensim similarity", worst < 2e-5, "largest difference %g" % worst)
    conn.close()


def test_against_numpy():
    # Independent of gensim: brute-force cosine over all items.
    conn = connect()
    write_sqlite(conn, "ratings", DATA.rows)
    train(conn, "ratings", "userId", "itemId", "workers=1", "vector_size=16", "epochs=2", "sg=0")
    rows = conn.execute("SELECT item, vector FROM item2vec_vectors ORDER BY item").fetchall()
    items = [it for it, _ in rows]
    m = np.array([unpack(b) for _, b in rows], dtype=np.float64)
    m /= np.linalg.norm(m, axis=1, keepdims=True)
    q_items = DATA.most_frequent(3)
    idx = [items.index(i) for i in q_items]
    q = m[idx[0]] + m[idx[1]] - m[idx[2]]
    q /= np.linalg.norm(q)
    scores = m @ q
    order = [i for i in np.argsort(-scores, kind="stable") if i not in idx][:20]
    theirs = [(str(items[i]), float(scores[i])) for i in order]
    arg = json.dumps({"positive": q_items[:2], "negative": q_items[2:]})
    ours = [(str(it), s) for it, s in conn.execute("SELECT item, similarity FROM similar_items(?, 20)", (arg,))]
    why = same_ranking(ours, theirs)
    check("similar_items equals a brute-force numpy cosine (positive/negative)", not why, why)
    conn.close()


for t in (test_against_gensim, test_against_numpy):
    run(t.__name__, t)
finish()
