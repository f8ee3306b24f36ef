"""test_long_history.py: no history is cut short.

gensim stops each sentence at 10,000 tokens; item2vec does not.  One user has
50,000 rows: 10,000 random picks from 1,000 "head" items, then 40,000 rows in
blocks of 10, each block the 10 items of one of 20 "tail" clusters in random
order.  The tail items occur nowhere else, so they can only learn their
clusters if training reaches past row 10,000.  The summary must count all
50,000 tokens, and the tail items' nearest neighbours must be their cluster.
"""

import random

from common import check, connect, finish, run, train


def build():
    rng = random.Random(7)
    rows = []
    for _ in range(10000):
        rows.append((1, 100000 + rng.randrange(1000)))
    tail_cluster = {}
    for c in range(20):
        for k in range(10):
            tail_cluster[c * 10 + k + 1] = c
    for _ in range(4000):
        c = rng.randrange(20)
        block = [c * 10 + k + 1 for k in range(10)]
        rng.shuffle(block)
        rows.extend((1, it) for it in block)
    return rows, tail_cluster


def test_fifty_thousand():
    rows, tail_cluster = build()
    conn = connect()
    conn.execute("CREATE TABLE history(user INTEGER, item INTEGER)")
    conn.executemany("INSERT INTO history VALUES (?, ?)", rows)
    s = train(conn, "history", "user", "item", "workers=1", "vector_size=16", "window=3",
              "sample=0", "epochs=3", "seed=2")
    check("a 50,000-item history: the summary counts 50,000 tokens",
          s["tokens"] == 50000 and s["sequences"] == 1 and s["longest_sequence"] == 50000,
          "tokens %s, sequences %s, longest %s" % (s["tokens"], s["sequences"],
                                                  s.get("longest_sequence")))
    hits = total = 0
    for it, c in tail_cluster.items():
        for (nb,) in conn.execute("SELECT item FROM similar_items(?, 5)", (it,)):
            total += 1
            hits += tail_cluster.get(nb) == c
    share = hits / total if total else 0
    chance = 9 / (len(tail_cluster) + 1000 - 1)
    print("# tail items: %.3f of their 5 nearest neighbours in their cluster (chance %.3f)"
          % (share, chance))
    check("items seen only after row 10,000 learn their clusters", share >= 0.8,
          "%.3f of neighbours in the cluster (chance %.3f)" % (share, chance))
    conn.close()


def test_fifty_thousand_distinct():
    conn = connect()
    conn.execute("CREATE TABLE history(user INTEGER, item INTEGER)")
    conn.execute("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 50000) "
                 "INSERT INTO history SELECT 1, x FROM n")
    s = train(conn, "history", "user", "item", "workers=1", "vector_size=8", "epochs=1")
    stored = conn.execute("SELECT count(*) FROM item2vec_vectors").fetchone()[0]
    check("a user with 50,000 distinct items: 50,000 tokens, 50,000 vectors",
          s["tokens"] == 50000 and s["items"] == 50000 and stored == 50000,
          "tokens %s, items %s, stored %d" % (s["tokens"], s["items"], stored))
    conn.close()


run("test_fifty_thousand", test_fifty_thousand)
run("test_fifty_thousand_distinct", test_fifty_thousand_distinct)
finish()
