"""test_adversarial.py: the cases an adversarial pass found (issue 14), each
with what it gets now.  README "Reliability" lists them in a table; the
names here match its rows.

Run from the repository root with /usr/bin/python3 (tests/run.sh does).
Every file a test writes lives in a temporary directory it creates."""
import json
import os
import shutil
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rel_common import Report, connect, fill_sequences, model_fingerprint  # noqa: E402

R = Report()
TMP = tempfile.mkdtemp(prefix="i2v-adv-")
M64 = (1 << 64) - 1


def signed(x):
    return x - (1 << 64) if x >= 1 << 63 else x


def old_hash_inverse(x):
    """The inverse of the integer hash item2vec used before it was keyed
    (MurmurHash3's finaliser): old_hash(old_hash_inverse(h)) == h."""
    def inv(c):
        r = c
        for _ in range(6):
            r = (r * (2 - c * r)) & M64
        return r
    x ^= x >> 33
    x = (x * inv(0xc4ceb9fe1a85ec53)) & M64
    x ^= x >> 33
    x = (x * inv(0xff51afd7ed558ccd)) & M64
    x ^= x >> 33
    return x


def colliding(n, shift=20, salt=0):
    """n integer ids whose old hashes share their low `shift` bits."""
    return [signed(old_hash_inverse(((i + salt) << shift) & M64)) for i in range(1, n + 1)]


def spread(n, salt):
    return [signed((i * 0x9E3779B97F4A7C15 + salt) & M64) for i in range(1, n + 1)]


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


# ---- 4. adversarial ids -----------------------------------------------------

def test_colliding_ids():
    """Ids chosen to share one slot under the old hash: reading them for
    training and loading the model take about as long as reading ids that
    do not collide (quadratic before: 13.5 s against 0.12 s for 120,000)."""
    n_users, per_user = 12000, 4
    times = {}
    for kind in ("spread", "colliding"):
        path = os.path.join(TMP, "ids-%s.db" % kind)
        conn = connect(path)
        users = colliding(n_users, 20, 0) if kind == "colliding" else spread(n_users, 1)
        items = colliding(n_users * per_user // 2, 21, 7) if kind == "colliding" \
            else spread(n_users * per_user // 2, 2)
        conn.execute("CREATE TABLE r(u INTEGER, i INTEGER)")
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO r VALUES (?, ?)",
                         ((users[x // per_user], items[(x * 7919) % len(items)])
                          for x in range(n_users * per_user)))
        conn.execute("COMMIT")
        s = json.loads(conn.execute(
            "SELECT item2vec_train('r', 'u', 'i', 'workers=1', 'epochs=1', 'vector_size=4', "
            "'sample=0')").fetchone()[0])
        conn.close()
        conn = connect(path)
        load, _ = timed(lambda: conn.execute(
            "SELECT count(*) FROM similar_items(?, 3)", (items[0],)).fetchone())
        conn.close()
        times[kind] = (s["read_seconds"], load, s["items"])
    (rs, ls, ns), (rc, lc, nc) = times["spread"], times["colliding"]
    detail = "read %.3fs vs %.3fs, first query %.3fs vs %.3fs" % (rc, rs, lc, ls)
    R.check("4. colliding ids: every id is its own item", ns == nc == n_users * per_user // 2,
            "items %d and %d" % (ns, nc))
    R.check("4. colliding ids: reading stays near-linear", rc < 4 * rs + 0.25, detail, detail)
    R.check("4. colliding ids: loading the model stays near-linear", lc < 4 * ls + 0.25, detail,
            detail)


def test_key_does_not_change_results():
    """Each process draws its own hash key; workers=1 with a seed still gives
    bit-identical BLOBs in two processes (items are text and large
    integers, so every lookup goes through the keyed hash)."""
    import hashlib
    import subprocess
    digests = []
    for run in range(2):
        path = os.path.join(TMP, "key%d.db" % run)
        sql = ("CREATE TABLE r AS WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x + 1 "
               "FROM n WHERE x < 5999) SELECT (x / 12) * 1000003 + 123456789012 AS u, "
               "CASE WHEN x % 3 = 0 THEN 'item' || ((x * 7919) % 400) "
               "ELSE (x * 104729) % 400 * 999983 + 4000000000 END AS i FROM n;"
               "SELECT item2vec_train('r', 'u', 'i', 'workers=1', 'seed=9', 'epochs=2', "
               "'vector_size=8');")
        out = subprocess.run([os.environ.get("SQLITE3", "sqlite3"), path,
                              ".load " + os.path.abspath(os.environ.get("I2V_LIB",
                                                                        "./item2vec")), sql],
                             capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            R.fail("4. keyed hash: train in a process", out.stderr.strip())
            return
        conn = connect(path)
        h = hashlib.sha256()
        for item, vec in conn.execute("SELECT item, vector FROM item2vec_vectors ORDER BY item"):
            h.update(repr(item).encode())
            h.update(vec)
        conn.close()
        digests.append(h.hexdigest())
    R.check("4. keyed hash: results do not depend on the key (two processes, bit-identical)",
            digests[0] == digests[1], "vectors differ between processes")


try:
    for t in (test_colliding_ids, test_key_does_not_change_results):
        try:
            t()
        except Exception as e:  # one broken test must not hide the others
            R.fail(t.__name__, "%s: %s" % (type(e).__name__, e))
finally:
    shutil.rmtree(TMP, ignore_errors=True)
R.done()
