"""test_determinism.py: workers=1 with a fixed seed gives bit-identical BLOBs
on every run, in fresh databases (files, so nothing is shared but the
library), for skip-gram and CBOW, with subsampling, shrinking windows and
shuffling all drawing random numbers.  Another seed gives other vectors.
"""

import os
import tempfile

from common import check, connect, finish, run, train
from gen import planted, write_sqlite

DATA = planted(clusters=8, per_cluster=15, users=600, seed=3)
OPTS = ("workers=1", "vector_size=24", "window=4", "epochs=3", "sample=0.01")


def vectors(tmp, name, *opts):
    path = os.path.join(tmp, name + ".db")
    conn = connect(path)
    write_sqlite(conn, "ratings", DATA.rows)
    s = train(conn, "ratings", "userId", "itemId", *(OPTS + opts))
    rows = conn.execute("SELECT item, vector FROM item2vec_vectors "
                        "WHERE model = 'default' ORDER BY item").fetchall()
    conn.close()
    return rows, s


def test_same_seed_same_bits():
    with tempfile.TemporaryDirectory() as tmp:
        cases = (("skip-gram", ("sg=1",)),
                 ("CBOW, shuffle", ("sg=0", "shuffle=1")),
                 ("skip-gram, fixed windows", ("sg=1", "shrink_windows=0")))
        for n, (label, extra) in enumerate(cases):
            a, sa = vectors(tmp, "a%d" % n, "seed=42", *extra)
            b, sb = vectors(tmp, "b%d" % n, "seed=42", *extra)
            same = len(a) == DATA.items and a == b
            diff = "" if same else "%d of %d rows differ" % (
                sum(x != y for x, y in zip(a, b)), len(a))
            check("%s: workers=1 seed=42 twice gives bit-identical BLOBs" % label, same, diff)
            check("%s: the loss per epoch is identical too" % label, sa["loss"] == sb["loss"],
                  "%s vs %s" % (sa["loss"], sb["loss"]))


def test_other_seed_other_bits():
    with tempfile.TemporaryDirectory() as tmp:
        a, _ = vectors(tmp, "a", "seed=1")
        b, _ = vectors(tmp, "b", "seed=2")
        differ = sum(x[1] != y[1] for x, y in zip(a, b))
        check("seeds 1 and 2 give different vectors", differ == len(a),
              "%d of %d rows differ" % (differ, len(a)))


def test_same_connection_twice():
    # Retraining in one connection also repeats itself exactly.
    conn = connect()
    write_sqlite(conn, "ratings", DATA.rows)
    train(conn, "ratings", "userId", "itemId", *(OPTS + ("seed=5",)))
    first = conn.execute("SELECT item, vector FROM item2vec_vectors ORDER BY item").fetchall()
    train(conn, "ratings", "userId", "itemId", *(OPTS + ("seed=5",)))
    second = conn.execute("SELECT item, vector FROM item2vec_vectors ORDER BY item").fetchall()
    conn.close()
    check("retraining in one connection with workers=1 is bit-identical", first == second,
          "vectors changed")


for t in (test_same_seed_same_bits, test_other_seed_other_bits, test_same_connection_twice):
    run(t.__name__, t)
finish()
