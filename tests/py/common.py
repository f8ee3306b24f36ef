"""common.py: what item2vec's Python tests share.

connect() opens a database with the extension loaded (I2V_LIB, the library
path without its suffix, default ./item2vec; run from the repository root).
report() prints the lines tests/run.sh counts ("ok - name", "not ok - name:
why", "skip - name: why"); finish() exits non-zero when anything failed.
"""

import os
import sqlite3
import struct
import sys

LIB = os.environ.get("I2V_LIB", "./item2vec")
_failed = 0


def connect(path=":memory:", **kw):
    conn = sqlite3.connect(path, **kw)
    conn.enable_load_extension(True)
    conn.load_extension(LIB)
    conn.enable_load_extension(False)
    return conn


def ok(name):
    print("ok - %s" % name, flush=True)


def not_ok(name, why):
    global _failed
    _failed += 1
    print("not ok - %s: %s" % (name, why), flush=True)


def skip(name, why):
    print("skip - %s: %s" % (name, why), flush=True)


def check(name, cond, why):
    """ok when cond holds, else not ok with why; returns cond."""
    if cond:
        ok(name)
    else:
        not_ok(name, why)
    return bool(cond)


def run(name, fn):
    """Run fn(); an exception is a failure of that test, not of the file."""
    try:
        fn()
    except Exception as e:  # report and go on with the other tests
        not_ok(name, "%s: %s" % (type(e).__name__, e))


def finish():
    sys.exit(1 if _failed else 0)


def unpack(blob):
    """A vector BLOB as a tuple of floats (little-endian float32)."""
    return struct.unpack("<%df" % (len(blob) // 4), blob)


def train(conn, source, user, item, *opts):
    """item2vec_train; returns the summary as a dict."""
    import json
    args = ", ".join("?" for _ in range(3 + len(opts)))
    row = conn.execute("SELECT item2vec_train(%s)" % args, (source, user, item) + opts).fetchone()
    return json.loads(row[0])
