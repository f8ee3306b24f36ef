"""test_adversarial.py: the cases an adversarial pass found (issue 14), each
with what it gets now.  README "Reliability" lists them in a table; the
names here match its rows.

Run from the repository root with /usr/bin/python3 (tests/run.sh does).
Every file a test writes lives in a temporary directory it creates."""
import json
import os
import re
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


# ---- 5. files that are not regular files, rows without end ------------------

def gzip_members(path, parts):
    """A gzip file of several members (the reader reads them one after the
    other, as gzip(1) does): parts are (bytes, times); each distinct chunk
    is compressed once, so gigabytes cost a few megabytes and milliseconds."""
    import gzip
    with open(path, "wb") as f:
        for chunk, times in parts:
            member = gzip.compress(chunk, compresslevel=1)
            for _ in range(times):
                f.write(member)


def run_with_deadline(conn, sql, args=(), seconds=5.0, release=None):
    """Run sql in a thread; (elapsed, error or None, finished in time).  When
    it has not finished by the deadline, release() unblocks it (so a test
    that fails does not hang the suite)."""
    box = {}

    def work():
        t = time.perf_counter()
        try:
            conn.execute(sql, args).fetchall()
            box["err"] = None
        except Exception as e:  # the error is the result
            box["err"] = str(e)
        box["t"] = time.perf_counter() - t

    th = threading.Thread(target=work, daemon=True)
    th.start()
    th.join(seconds)
    in_time = not th.is_alive()
    if not in_time and release:
        release()
    th.join(60)
    return box.get("t", float("inf")), box.get("err"), in_time


def test_not_regular_files():
    """A FIFO with no writer (open() used to block forever), a directory and
    a socket are refused at once, naming what they are; nothing blocks."""
    import socket
    fifo = os.path.join(TMP, "fifo.csv")
    os.mkfifo(fifo)
    sock_path = os.path.join(TMP, "sock.csv")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(sock_path)
    subdir = os.path.join(TMP, "dir.csv")
    os.mkdir(subdir)

    def release_fifo():
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)

    conn = connect(":memory:")
    cases = (("FIFO", fifo, "a FIFO"), ("socket", sock_path, "a socket"),
             ("directory", subdir, "a directory"))
    for label, path, kind in cases:
        quoted = "'" + path.replace("'", "''") + "'"
        for fn, sql in (("item2vec_csv", "CREATE VIRTUAL TABLE temp.t USING item2vec_csv(path=%s)"
                         % quoted),
                        ("item2vec_lines",
                         "CREATE VIRTUAL TABLE temp.t USING item2vec_lines(path=%s)" % quoted),
                        ("item2vec_import", "SELECT item2vec_import(?)")):
            args = (path,) if fn == "item2vec_import" else ()
            t, err, in_time = run_with_deadline(conn, sql, args, 5.0,
                                                release_fifo if label == "FIFO" else None)
            R.check("5. %s on a %s: refused at once" % (fn, label),
                    in_time and err and "not a regular file (it is %s)" % kind in err
                    and path in err,
                    "after %.1fs: %s" % (t, err))
    sock.close()
    conn.close()


def test_long_rows_interrupt():
    """Gigabytes without a row end (here 2 GiB of line ends in a 9 MB gzip,
    and the same after the vectors of a word2vec file): an interrupt stops
    the read within a second, in item2vec_csv and in item2vec_import."""
    lines = (b"\n" * (64 << 20), 32)
    csv_path = os.path.join(TMP, "blank.csv.gz")
    gzip_members(csv_path, [(b"a,b\n", 1), lines])
    w2v_path = os.path.join(TMP, "blank.txt.gz")
    gzip_members(w2v_path, [(b"1 2\nx 0.5 1\n", 1), lines])
    lines_path = os.path.join(TMP, "blank-lines.txt.gz")
    gzip_members(lines_path, [(b"a b\n", 1), (b" \n" * (32 << 20), 32)])
    conn = connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE temp.blank USING item2vec_csv(path='%s')" % csv_path)
    conn.execute("CREATE VIRTUAL TABLE temp.blines USING item2vec_lines(path='%s')" % lines_path)
    for fn, sql, args in (("item2vec_csv", "SELECT count(*) FROM temp.blank", ()),
                          ("item2vec_lines", "SELECT count(*) FROM temp.blines", ()),
                          ("item2vec_import", "SELECT item2vec_import(?, 'blank')", (w2v_path,))):
        timer = threading.Timer(0.3, conn.interrupt)
        timer.start()
        t, err, in_time = run_with_deadline(conn, sql, args, 30.0)
        timer.cancel()
        R.check("5. %s: an interrupt stops 2 GiB of line ends" % fn,
                err and "interrupted" in err and t < 1.3,
                "%.2fs: %s" % (t, err), "%.2fs" % t)
    conn.close()


def test_row_size_bounded():
    """One row without end (an unterminated quote over 200 MB of a gzip) is
    an error once it passes 64 MiB, naming the limit and the option that
    raises it; max_row_bytes lets a genuinely long row through."""
    import resource
    import subprocess
    path = os.path.join(TMP, "quote.csv.gz")
    gzip_members(path, [(b'h\n"', 1), (b"a" * (16 << 20), 13)])
    sql = "CREATE VIRTUAL TABLE temp.q USING item2vec_csv(path='%s'); SELECT count(*) FROM temp.q;" \
        % path
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out = subprocess.run([os.environ.get("SQLITE3", "sqlite3"), ":memory:",
                          ".load " + os.path.abspath(os.environ.get("I2V_LIB", "./item2vec")),
                          sql], capture_output=True, text=True, timeout=120)
    rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    R.check("5. a row without end stops at 64 MiB, naming max_row_bytes",
            "longer than 67108864 bytes" in out.stderr and "max_row_bytes" in out.stderr,
            out.stderr.strip()[:300])
    if os.environ.get("I2V_SANITIZE"):
        R.skip("5. memory for one row is bounded", "RSS means little under sanitizers")
    else:
        R.check("5. memory for one row is bounded", rss_mb < 250 or before / 1024.0 >= rss_mb,
                "peak RSS of the shell %.0f MB" % rss_mb, "peak RSS %.0f MB" % rss_mb)
    # A long row that does end: refused by default, read with the option.
    long_path = os.path.join(TMP, "long.csv.gz")
    gzip_members(long_path, [(b'h\n"', 1), (b"a" * (16 << 20), 5), (b'"\n', 1)])
    conn = connect(":memory:")
    try:  # the first rows are read when the table is made
        conn.execute("CREATE VIRTUAL TABLE temp.d USING item2vec_csv(path='%s')" % long_path)
        err = None
    except Exception as e:
        err = str(e)
    conn.execute("CREATE VIRTUAL TABLE temp.r USING item2vec_csv(path='%s', "
                 "max_row_bytes=100000000)" % long_path)
    n = conn.execute("SELECT length(h) FROM temp.r").fetchone()[0]
    conn.close()
    R.check("5. max_row_bytes raises the limit", err and "longer than" in err and n == 80 << 20,
            "default: %s; raised: length %s" % (err, n))
    # item2vec_lines: one item is bounded the same way.
    item_path = os.path.join(TMP, "item.txt.gz")
    gzip_members(item_path, [(b"x" * (16 << 20), 5), (b"\n", 1)])
    conn = connect(":memory:")
    try:
        conn.execute("CREATE VIRTUAL TABLE temp.i USING item2vec_lines(path='%s')" % item_path)
        err = None
    except Exception as e:
        err = str(e)
    conn.execute("CREATE VIRTUAL TABLE temp.j USING item2vec_lines(path='%s', "
                 "max_item_bytes=100000000)" % item_path)
    n = conn.execute("SELECT length(item) FROM temp.j").fetchone()[0]
    conn.close()
    R.check("5. item2vec_lines: an item stops at 64 MiB; max_item_bytes raises it",
            err and "longer than 67108864 bytes" in err and n == 80 << 20,
            "default: %s; raised: length %s" % (err, n))


# ---- 3. export writes its file safely ---------------------------------------

def export_model(path):
    conn = connect(path)
    fill_sequences(conn, "r", 300, 20, 3000)
    conn.execute("SELECT item2vec_train('r', 'u', 'i', 'workers=1', 'epochs=1', 'vector_size=64')")
    fill_sequences(conn, "s", 100, 10, 300)
    conn.execute("SELECT item2vec_train('s', 'u', 'i', 'workers=1', 'epochs=1', 'vector_size=8', "
                 "'model=small')")
    return conn


def test_export_safely():
    d = os.path.join(TMP, "export")
    os.mkdir(d)
    conn = export_model(os.path.join(d, "m.db"))
    # A symlink planted where the old fixed temporary name was, and one
    # planted at a name the writer might pick, both pointing at a victim.
    victim = os.path.join(d, "victim.txt")
    with open(victim, "w") as f:
        f.write("precious\n")
    out = os.path.join(d, "out.txt")
    os.symlink(victim, out + ".tmp")
    conn.execute("SELECT item2vec_export('default', ?)", (out,)).fetchone()
    with open(victim) as f:
        R.check("3. export: a symlink at the old temporary name is not followed",
                f.read() == "precious\n", "the symlink's target was overwritten")
    with open(out) as f:
        head = f.readline().split()
    R.check("3. export: the file is complete", head == ["3000", "64"], "header %s" % head)
    leftovers = [n for n in os.listdir(d) if n.startswith(".out.txt.")]
    R.check("3. export: no temporary file is left", not leftovers, "left: %s" % leftovers)
    # The mode comes from the umask.
    old = os.umask(0o027)
    try:
        conn.execute("SELECT item2vec_export('small', ?)", (os.path.join(d, "mode.txt"),))
    finally:
        os.umask(old)
    mode = os.stat(os.path.join(d, "mode.txt")).st_mode & 0o777
    R.check("3. export: the file's mode is 0666 less the umask", mode == 0o640, "mode %o" % mode)
    # A destination that is not a regular file: a FIFO and a directory made
    # here (never a device node), refused before anything is written.
    fifo = os.path.join(d, "fifo.txt")
    os.mkfifo(fifo)
    subdir = os.path.join(d, "dir.txt")
    os.mkdir(subdir)
    for label, path, kind in (("a FIFO", fifo, "a FIFO"), ("a directory", subdir, "a directory")):
        try:
            conn.execute("SELECT item2vec_export('small', ?)", (path,)).fetchone()
            err = None
        except Exception as e:
            err = str(e)
        still = os.path.exists(path) and (os.path.isdir(path) if kind == "a directory"
                                          else __import__("stat").S_ISFIFO(os.stat(path).st_mode))
        R.check("3. export: a destination that is %s is refused" % label,
                err and "is %s, not a regular file" % kind in err and still,
                "error %s; still there: %s" % (err, still))
    # A symlink to a FIFO is refused the same way.
    link = os.path.join(d, "link.txt")
    os.symlink(fifo, link)
    try:
        conn.execute("SELECT item2vec_export('small', ?)", (link,)).fetchone()
        err = None
    except Exception as e:
        err = str(e)
    R.check("3. export: a symlink to a FIFO is refused", err and "a FIFO" in err, str(err))
    conn.close()


def test_concurrent_exports():
    """Two connections export different models to one path at once, again
    and again: each time the file is one of the two, complete."""
    import hashlib
    d = os.path.join(TMP, "concurrent")
    os.mkdir(d)
    db = os.path.join(d, "m.db")
    export_model(db).close()
    want = {}
    for model in ("default", "small"):
        c = connect(db)
        p = os.path.join(d, "solo-%s.txt" % model)
        c.execute("SELECT item2vec_export(?, ?)", (model, p)).fetchone()
        c.close()
        with open(p, "rb") as f:
            want[hashlib.sha256(f.read()).hexdigest()] = model
    target = os.path.join(d, "shared.txt")
    conns = [connect(db), connect(db)]
    bad = []
    for rnd in range(6):
        errs = []

        def go(c, model):
            try:
                c.execute("SELECT item2vec_export(?, ?)", (model, target)).fetchone()
            except Exception as e:
                errs.append(str(e))

        ths = [threading.Thread(target=go, args=(conns[0], "default")),
               threading.Thread(target=go, args=(conns[1], "small"))]
        for t in ths:
            t.start()
        for t in ths:
            t.join()
        with open(target, "rb") as f:
            h = hashlib.sha256(f.read()).hexdigest()
        if errs or h not in want:
            bad.append("round %d: %s %s" % (rnd, errs, "complete" if h in want else "mixed"))
    for c in conns:
        c.close()
    leftovers = [n for n in os.listdir(d) if n.endswith(".tmp")]
    R.check("3. export: concurrent exports each leave a complete file", not bad and not leftovers,
            "; ".join(bad) + (" leftovers %s" % leftovers if leftovers else ""))


# ---- 6. fail fast when the model cannot be stored ---------------------------

BIG_VIEW = ("CREATE VIEW big AS WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM n "
            "WHERE x < 3999999) SELECT x / 20 AS u, (x * 7919) % 50000 AS i FROM n")
# Should a check regress, the read it should have spared costs seconds, not minutes.
CHEAP = "'workers=2', 'epochs=1', 'vector_size=4', 'sample=0.01'"


def expect_error(conn, sql, args=()):
    t = time.perf_counter()
    try:
        conn.execute(sql, args).fetchall()
        err = None
    except Exception as e:
        err = str(e)
    return time.perf_counter() - t, err


def test_read_only_refused():
    """A read-only database (opened read-only, or PRAGMA query_only) is
    refused before the source is read: 4 million rows would take seconds."""
    import sqlite3
    path = os.path.join(TMP, "ro.db")
    conn = connect(path)
    conn.execute(BIG_VIEW)
    fill_sequences(conn, "small", 50, 6, 30)
    conn.execute("SELECT item2vec_train('small', 'u', 'i', 'workers=1', 'epochs=1')").fetchone()
    w2v = os.path.join(TMP, "ro.txt")
    conn.execute("SELECT item2vec_export('default', ?)", (w2v,)).fetchone()
    conn.close()
    before = model_fingerprint(connect(path), "default")
    ro = sqlite3.connect("file:%s?mode=ro" % path, uri=True, isolation_level=None)
    ro.enable_load_extension(True)
    ro.load_extension(os.path.abspath(os.environ.get("I2V_LIB", "./item2vec")))
    qo = connect(path)
    qo.execute("PRAGMA query_only = 1")
    for label, c, needle in (("read-only", ro, "read-only"), ("query_only", qo, "query_only")):
        for fn, sql, args in (
                ("item2vec_train", "SELECT item2vec_train('big', 'u', 'i', %s)" % CHEAP, ()),
                ("item2vec_evaluate", "SELECT item2vec_evaluate('big', 'u', 'i', %s, 'model=m')"
                 % CHEAP, ()),
                ("item2vec_import", "SELECT item2vec_import(?, 'm')", (w2v,)),
                ("item2vec_index", "SELECT item2vec_index('default')", ())):
            t, err = expect_error(c, sql, args)
            R.check("6. %s on a %s database: refused before reading" % (fn, label),
                    err and needle in err and err.startswith(fn + ":") and t < 1.0,
                    "%.2fs: %s" % (t, err), "%.2fs" % t)
    ro.close()
    qo.close()
    R.check("6. ... and the stored model is unchanged",
            model_fingerprint(connect(path), "default") == before, "the model changed")


def test_write_lock_held():
    """Another connection holds the write lock: the busy timeout applies
    before anything is read (an error after it, naming it), and a lock
    released within the timeout is waited for."""
    path = os.path.join(TMP, "lock.db")
    conn = connect(path)
    conn.execute(BIG_VIEW)
    fill_sequences(conn, "small", 50, 6, 30)
    conn.close()
    holder = connect(path)
    holder.execute("BEGIN IMMEDIATE")
    waiter = connect(path, timeout=0.3)
    for fn, sql in (("item2vec_train", "SELECT item2vec_train('big', 'u', 'i', %s)" % CHEAP),
                    ("item2vec_evaluate",
                     "SELECT item2vec_evaluate('big', 'u', 'i', %s, 'model=m')" % CHEAP)):
        t, err = expect_error(waiter, sql)
        R.check("6. %s with the write lock held elsewhere: an error after the busy timeout, "
                "before reading" % fn,
                err and "locked" in err and "busy timeout (300 ms)" in err and 0.25 < t < 1.5,
                "%.2fs: %s" % (t, err), "%.2fs" % t)
    waiter.close()
    waiter = connect(path, timeout=10)
    timer = threading.Timer(0.5, lambda: holder.execute("COMMIT"))
    timer.start()
    t, err = expect_error(waiter, "SELECT item2vec_train('small', 'u', 'i', 'workers=1', "
                                  "'epochs=1')")
    timer.join()
    R.check("6. a lock released within the busy timeout is waited for", err is None and t >= 0.4,
            "%.2fs: %s" % (t, err), "%.2fs" % t)
    waiter.close()
    holder.close()


def test_evaluate_checks_like_train():
    """item2vec_evaluate with model= gets train's checks: no model written
    from a statement that writes (said before reading), and a model too
    large for the memory limit refused before training."""
    import subprocess
    conn = connect(":memory:")
    conn.execute(BIG_VIEW)
    conn.execute("CREATE TABLE results(r)")
    t, err = expect_error(conn, "INSERT INTO results SELECT item2vec_evaluate('big', 'u', 'i', "
                                "%s, 'model=m')" % CHEAP)
    R.check("6. item2vec_evaluate model= inside a statement that writes: refused before reading",
            err and "inside a statement that writes" in err and t < 1.0, "%.2fs: %s" % (t, err))
    conn.close()
    sql = ("PRAGMA hard_heap_limit = 30000000;"
           "CREATE TABLE r AS WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM n "
           "WHERE x < 7999) SELECT x / 4 AS u, (x * 7919) % 2000 AS i FROM n;"
           "SELECT item2vec_evaluate('r', 'u', 'i', 'vector_size=4096', 'workers=1');")
    out = subprocess.run([os.environ.get("SQLITE3", "sqlite3"), ":memory:",
                          ".load " + os.path.abspath(os.environ.get("I2V_LIB", "./item2vec")),
                          sql], capture_output=True, text=True, timeout=120)
    R.check("6. item2vec_evaluate checks memory as item2vec_train does",
            "item2vec_evaluate: training" in out.stderr and "heap limit" in out.stderr,
            (out.stdout + out.stderr).strip()[:300])


# ---- 8. one rule for an item stored twice -----------------------------------

def test_duplicates_one_rule():
    """1 and '1' both stored (by hand): every reader refuses the model with
    the same message naming both copies and the row to delete; export
    writes nothing.  The same for a second copy in item2vec_context."""
    path = os.path.join(TMP, "dups.db")
    conn = connect(path)
    fill_sequences(conn, "r", 200, 8, 50)
    conn.execute("SELECT item2vec_train('r', 'u', 'i', 'workers=1', 'epochs=1', "
                 "'vector_size=8')").fetchone()
    out = os.path.join(TMP, "dups.txt")
    readers = (
        ("similar_items", "SELECT * FROM similar_items(3, 5)", ()),
        ("item2vec_similarity", "SELECT item2vec_similarity(3, 4)", ()),
        ("item2vec_vector", "SELECT item2vec_vector(3)", ()),
        ("item2vec_project", "SELECT * FROM item2vec_project('default')", ()),
        ("item2vec_index", "SELECT item2vec_index('default')", ()),
        ("item2vec_export", "SELECT item2vec_export('default', ?)", (out,)),
        ("recommend_items", "SELECT * FROM recommend_items(3, 5)", ()),
        ("item2vec_train", "SELECT item2vec_train('r', 'u', 'i', 'update=1', 'epochs=1')", ()))
    context_readers = (
        ("similar_items score='context'",
         "SELECT * FROM similar_items(3, 5) WHERE score = 'context'", ()),
        ("recommend_items", "SELECT * FROM recommend_items(3, 5)", ()),
        ("item2vec_train update=1", "SELECT item2vec_train('r', 'u', 'i', 'update=1', 'epochs=1')",
         ()))
    for table, cases in (("item2vec_vectors", readers), ("item2vec_context", context_readers)):
        conn.execute("INSERT INTO %s SELECT model, '7', %s vector FROM %s WHERE item = 7"
                     % (table, "frequency," if table == "item2vec_vectors" else "", table))
        msgs = []
        for fn, sql, args in cases:
            _, err = expect_error(conn, sql, args)
            msgs.append(err)
            want = ("stores item 7 twice in %s, as 7 and as '7'" % table,
                    "DELETE FROM %s WHERE model = 'default' AND item = '7'" % table)
            R.check("8. %s with 7 and '7' in %s: an error naming both" % (fn, table),
                    err and all(w in err for w in want) and err.split(":")[0] in fn.split()[0],
                    str(err))
        R.check("8. export writes nothing for a model with an item stored twice",
                not os.path.exists(out) and not [n for n in os.listdir(TMP) if ".dups.txt." in n],
                "a file was written")
        conn.execute("DELETE FROM %s WHERE item = '7'" % table)
        _, err = expect_error(conn, cases[0][1], cases[0][2])
        R.check("8. deleting the row the message names mends the model (%s)" % table, err is None,
                str(err))
    conn.close()


# ---- 1. non-finite training -------------------------------------------------

def test_divergence():
    """alpha=1 (the loss became Inf) and alpha=0.9 on CBOW (it grew past any
    use): an error that says so and suggests a lower alpha; the stored model
    stays; evaluate with model= stores nothing; alpha above 1 is refused."""
    path = os.path.join(TMP, "diverge.db")
    conn = connect(path)
    fill_sequences(conn, "r", 300, 20, 200)
    s = conn.execute("SELECT item2vec_train('r', 'u', 'i', 'workers=1', 'epochs=2')").fetchone()[0]
    R.check("1. a summary is valid JSON", conn.execute("SELECT json_valid(?)", (s,)).fetchone()[0],
            s)
    before = model_fingerprint(conn, "default")
    for opts in ("'alpha=1', 'sg=1'", "'alpha=1', 'sg=0'", "'alpha=0.9', 'sg=0'"):
        _, err = expect_error(conn, "SELECT item2vec_train('r', 'u', 'i', 'workers=1', "
                                    "'epochs=2', %s)" % opts)
        R.check("1. item2vec_train %s: diverged, lower alpha" % opts,
                err and "training diverged" in err and "lower alpha" in err, str(err))
        # The loss figure depends on the kernel that ran, so only its form is checked.
        R.check("1. item2vec_train %s: the message says how" % opts,
                err is not None and re.search(
                    r"\(the loss (is no longer a finite number|grew to [0-9.e+]+, more than 20 "
                    r"per prediction)\)", err) is not None, str(err))
    R.check("1. ... the stored model is unchanged", model_fingerprint(conn, "default") == before,
            "the model changed")
    _, err = expect_error(conn, "SELECT item2vec_evaluate('r', 'u', 'i', 'workers=1', 'epochs=2', "
                                "'alpha=1', 'model=bad')")
    stored = conn.execute("SELECT count(*) FROM item2vec_models WHERE name = 'bad'").fetchone()[0]
    R.check("1. item2vec_evaluate alpha=1 model=: an error, nothing stored",
            err and "training diverged" in err and stored == 0, "%s; stored %d" % (err, stored))
    _, err = expect_error(conn, "SELECT item2vec_train('r', 'u', 'i', 'alpha=10')")
    R.check("1. alpha above 1 is refused", err and "from 1e-09 to 1," in err, str(err))
    conn.close()


# ---- 7. mistakes that would silently destroy a model ------------------------

def test_option_mistakes():
    """Each of these used to replace the model or mislead; now each is an
    error that says what to do (or, for quotes and case, does what was
    meant), and the stored model stays."""
    conn = connect(os.path.join(TMP, "mistakes.db"))
    fill_sequences(conn, "ratings", 100, 8, 60)
    conn.execute("ALTER TABLE ratings RENAME COLUMN u TO userId")
    conn.execute("SELECT item2vec_train('ratings', 'userId', 'i', 'workers=1', 'epochs=1')")
    before = model_fingerprint(conn, "default")
    cases = (("'ratings', 'userId', 'userId'", "user_col and item_col are both 'userId'"),
             ("'ratings', 'userId', 'USERID'", "user_col and item_col are both"),
             ("'ratings', 'userId', 'i', 'epochs=1, window=3'",
              "give one option per argument, as in 'epochs=1', 'window=3'"),
             ("'ratings', 'userId', 'i', 'windw=3'", "did you mean 'window'?"),
             ("'ratings', 'userId', 'i', 'size=64'", "gensim 4 and item2vec call it 'vector_size'"),
             ("'ratings', 'userId', 'i', 'iter=5'", "gensim 4 and item2vec call it 'epochs'"),
             ("'ratings', 'userId', 'i', 'hs=1'", "hierarchical softmax (hs=1) is not supported"))
    for args, needle in cases:
        _, err = expect_error(conn, "SELECT item2vec_train(%s)" % args)
        R.check("7. item2vec_train(%s): %s" % (args, needle), err and needle in err, str(err))
    R.check("7. ... the stored model is unchanged", model_fingerprint(conn, "default") == before,
            "the model changed")
    s = json.loads(conn.execute("SELECT item2vec_train('ratings', 'userId', 'i', 'MODEL=\"x\"', "
                                "'Epochs=1', 'WORKERS=1')").fetchone()[0])
    names = [r[0] for r in conn.execute("SELECT name FROM item2vec_models ORDER BY name")]
    R.check("7. 'MODEL=\"x\"' (any case, quoted) stores model x", s["model"] == "x" and
            names == ["default", "x"], "%s; models %s" % (s["model"], names))
    conn.close()


# ---- 9. the small ones (the rest are in tests/sql) --------------------------

def test_evaluate_interrupt_names_itself():
    """An interrupt while item2vec_evaluate trains or scores: the message
    starts with the function's name, as every other function's does."""
    conn = connect(":memory:")
    fill_sequences(conn, "r", 500, 20, 300)
    timer = threading.Timer(0.3, conn.interrupt)
    timer.start()
    _, err, _ = run_with_deadline(conn, "SELECT item2vec_evaluate('r', 'u', 'i', 'workers=1', "
                                        "'epochs=5000')", (), 60)
    timer.cancel()
    R.check("9. item2vec_evaluate interrupted while training: 'item2vec_evaluate: interrupted'",
            err == "item2vec_evaluate: interrupted", str(err))
    conn.close()


try:
    for t in (test_evaluate_interrupt_names_itself, test_option_mistakes, test_divergence, test_duplicates_one_rule, test_read_only_refused, test_write_lock_held, test_evaluate_checks_like_train,
              test_colliding_ids, test_key_does_not_change_results, test_not_regular_files,
              test_long_rows_interrupt, test_row_size_bounded, test_export_safely,
              test_concurrent_exports):
        try:
            t()
        except Exception as e:  # one broken test must not hide the others
            R.fail(t.__name__, "%s: %s" % (type(e).__name__, e))
finally:
    shutil.rmtree(TMP, ignore_errors=True)
R.done()
