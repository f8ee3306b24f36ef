"""tests/py/rel_common.py: what the reliability tests (test_interrupt,
test_crash, test_concurrency, test_bounds) share: loading the extension,
building synthetic interaction tables, fingerprints of stored models, and
the test runner's report lines ("ok - ", "not ok - ", "skip - ").

Tests run from the repository root (tests/run.sh does that) with Debian's
/usr/bin/python3, whose sqlite3 module can load extensions.  I2V_LIB is the
library path without its suffix (default ./item2vec)."""
import hashlib
import os
import sqlite3
import sys
import tempfile

LIB = os.path.abspath(os.environ.get("I2V_LIB", "./item2vec"))
SQLITE3 = os.environ.get("SQLITE3", "sqlite3")
SANITIZED = bool(os.environ.get("I2V_SANITIZE"))


class Report:
    """Collects results; exit code 1 when anything failed."""

    def __init__(self):
        self.failed = 0

    def ok(self, name, detail=""):
        print("ok - %s%s" % (name, (": " + detail) if detail else ""), flush=True)

    def fail(self, name, why):
        self.failed += 1
        print("not ok - %s: %s" % (name, why), flush=True)

    def skip(self, name, why):
        print("skip - %s: %s" % (name, why), flush=True)

    def check(self, name, cond, why, detail=""):
        if cond:
            self.ok(name, detail)
        else:
            self.fail(name, why)
        return cond

    def done(self):
        sys.exit(1 if self.failed else 0)


def connect(path, timeout=5.0):
    """A connection in autocommit mode with the extension loaded."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=timeout,
                           check_same_thread=False)
    conn.enable_load_extension(True)
    conn.load_extension(LIB)
    return conn


def temp_dir():
    return tempfile.mkdtemp(prefix="i2v-rel-")


def fill_sequences(conn, table, users, per_user, items, item_of=None, step=7919):
    """table(u, i, t): users x per_user rows; item of row x is item_of(x)
    (default: a spread of `items` integers)."""
    conn.execute('CREATE TABLE "%s"(u INTEGER, i, t INTEGER)' % table)
    if item_of is None:
        conn.execute(
            'WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM n WHERE x < ?) '
            'INSERT INTO "%s" SELECT x / ?, (x * ? + x / ?) %% ?, x FROM n' % table,
            (users * per_user - 1, per_user, step, per_user, items))
    else:
        conn.execute("BEGIN")
        conn.executemany('INSERT INTO "%s" VALUES (?, ?, ?)' % table,
                         ((x // per_user, item_of(x), x) for x in range(users * per_user)))
        conn.execute("COMMIT")


def model_fingerprint(conn, model):
    """sha256 of a model's header and of every (item, frequency, vector), or
    None when there is no such model."""
    h = hashlib.sha256()
    head = conn.execute("SELECT dim, items FROM item2vec_models WHERE name = ?",
                        (model,)).fetchone()
    if head is None:
        return None
    h.update(repr(head).encode())
    n = 0
    for item, freq, vec in conn.execute(
            "SELECT item, frequency, vector FROM item2vec_vectors WHERE model = ? "
            "ORDER BY item", (model,)):
        h.update(repr((item, freq)).encode())
        h.update(vec)
        n += 1
    h.update(str(n).encode())
    return h.hexdigest()


def integrity(conn):
    return conn.execute("PRAGMA integrity_check").fetchone()[0]


def stderr_to(path):
    """Context manager sending this process's fd 2 (where the extension's
    progress goes) to a file, so a test can read what training printed."""

    class Redirect:
        def __enter__(self):
            sys.stderr.flush()
            self.saved = os.dup(2)
            self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(self.fd, 2)
            return self

        def __exit__(self, *exc):
            os.dup2(self.saved, 2)
            os.close(self.saved)
            os.close(self.fd)
            return False

    return Redirect()
