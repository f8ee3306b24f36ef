"""test_kernels.py: the trainer's two kernels, AVX2+FMA (chosen on CPUs that
have it) and the portable one (what other CPUs run; I2V_ISA=portable asks
for it), compute the same model: with workers=1 and one seed, every item's
vector points the same way (cosine above 0.9999) and the losses agree to
1e-4, for skip-gram with and without shared negatives and for CBOW.
Skipped on CPUs without AVX2, where both runs would use the portable kernel.
"""

import math
import os

from common import check, connect, finish, run, skip, train, unpack
from gen import planted, write_sqlite

DATA = planted(clusters=6, per_cluster=12, users=400, seed=4)


def model(isa, *opts):
    if isa:
        os.environ["I2V_ISA"] = isa
    else:
        os.environ.pop("I2V_ISA", None)
    conn = connect()
    write_sqlite(conn, "r", DATA.rows)
    s = train(conn, "r", "userId", "itemId", "workers=1", "vector_size=24",
              "window=4", "epochs=3", "seed=9", *opts)
    vecs = {k: unpack(b) for k, b in conn.execute("SELECT item, vector FROM item2vec_vectors")}
    conn.close()
    os.environ.pop("I2V_ISA", None)
    return vecs, s["loss"]


def cosine(x, y):
    return sum(p * q for p, q in zip(x, y)) / math.sqrt(
        sum(p * p for p in x) * sum(q * q for q in y))


def agree(label, *opts):
    a, la = model(None, *opts)
    b, lb = model("portable", *opts)
    worst = min(cosine(a[k], b[k]) for k in a) if a.keys() == b.keys() else -1
    check("%s: AVX2 and portable kernels give the same vectors" % label, worst > 0.9999,
          "lowest cosine between the two %.6f" % worst)
    rel = max(abs(x - y) / max(abs(x), 1e-9) for x, y in zip(la, lb))
    check("%s: and the same loss per epoch" % label, rel < 1e-4,
          "losses %s and %s" % (la, lb))


def has_avx2():
    try:
        with open("/proc/cpuinfo") as f:
            return any(l.startswith("flags") and " avx2" in l and " fma" in l for l in f)
    except OSError:
        return False


if has_avx2():
    run("kernels: skip-gram", lambda: agree("skip-gram", "sg=1"))
    run("kernels: skip-gram, shared_negatives=0",
        lambda: agree("skip-gram, shared_negatives=0", "sg=1", "shared_negatives=0"))
    run("kernels: CBOW", lambda: agree("CBOW", "sg=0"))
else:
    skip("kernels: AVX2 against portable", "this CPU has no AVX2+FMA (or no /proc/cpuinfo)")
finish()
