"""test_quality.py: item2vec learns planted clusters.

The data (gen.py) has 20 clusters of 25 items; each of 3,000 users draws
3-20 items, 60% from one cluster and 40% from anywhere.  For the 100 most
frequent items we take the 10 nearest neighbours from similar_items and
measure the share that are in the item's own cluster.  Chance is the share of
other items in an item's cluster, 24/499 = 0.048.  Skip-gram must reach 0.9;
CBOW (a weaker learner on short, noisy baskets) must be clearly above chance:
at least 0.5, ten times chance.
"""

import time

from common import check, connect, finish, run, train
from gen import neighbour_purity, planted, write_sqlite

DATA = planted(clusters=20, per_cluster=25, users=3000, min_items=3, max_items=20,
               noise=0.4, seed=1)
TOP = DATA.most_frequent(100)


def purity_for(sg):
    conn = connect()
    write_sqlite(conn, "ratings", DATA.rows)
    t0 = time.time()
    s = train(conn, "ratings", "userId", "itemId", "sg=%d" % sg, "vector_size=32",
              "workers=1", "seed=1", "epochs=5")
    elapsed = time.time() - t0

    def neighbours(item):
        return [r[0] for r in conn.execute("SELECT item FROM similar_items(?, 10)", (item,))]

    p = neighbour_purity(neighbours, DATA.cluster, TOP)
    conn.close()
    print("# sg=%d: purity@10 %.3f over the %d most frequent items (chance %.3f), "
          "%d tokens, %.2fs" % (sg, p, len(TOP), DATA.chance, s["tokens"], elapsed))
    return p, s


def test_skipgram():
    p, s = purity_for(1)
    check("skip-gram: share of 10 nearest neighbours in the own cluster >= 0.9",
          p >= 0.9, "%.3f (chance %.3f)" % (p, DATA.chance))
    check("skip-gram: every row trained", s["tokens"] == len(DATA.rows),
          "tokens %s, rows %d" % (s["tokens"], len(DATA.rows)))


def test_cbow():
    p, _ = purity_for(0)
    check("CBOW: share of 10 nearest neighbours in the own cluster >= 0.5 (chance %.3f)"
          % DATA.chance, p >= 0.5 and p > 10 * DATA.chance, "%.3f" % p)


def test_generator_is_deterministic():
    again = planted(clusters=20, per_cluster=25, users=3000, min_items=3, max_items=20,
                    noise=0.4, seed=1)
    other = planted(clusters=20, per_cluster=25, users=3000, min_items=3, max_items=20,
                    noise=0.4, seed=2)
    check("gen.planted: same seed, same rows; another seed, other rows",
          again.rows == DATA.rows and again.cluster == DATA.cluster and other.rows != DATA.rows,
          "rows differ between two runs with seed 1, or seeds 1 and 2 agree")


for t in (test_generator_is_deterministic, test_skipgram, test_cbow):
    run(t.__name__, t)
finish()
