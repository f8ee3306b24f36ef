#!/usr/bin/python3
"""bench_load.py: how long the first similar_items query of a fresh process takes.

From the repository root (make bench runs it too):
    /usr/bin/python3 scripts/bench_load.py [--runs N] [--items N] [--dim D] [--db PATH]

Writes a model of random unit vectors (items 0..n-1, 1M x 64 by default) to
a database once and keeps it for later runs (--db; by default in the
temporary folder), reads the file so it is in the OS page cache, then starts
N fresh Python processes one after another.  Each opens the database, loads
the extension and times its first query,
    SELECT * FROM similar_items('12345', 10)
which loads the model into the connection's cache, makes the int8 copy the
scan's first pass reads, and scans; then a second, identical query (the
cache warm).  Prints a Markdown table: the median wall-clock and CPU (user +
system) seconds of the first query, the fastest run, the second query.

Each run waits --pause seconds (3) first.  Memory a process frees is not
ready for the next one at once on every machine: a virtual machine that
returns free memory to its host (free page reporting) does so within about
two seconds, and a process started later pays the host to get it back.
Runs back to back would measure a luckier case than a process that starts
at any other time.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

LIB = os.environ.get("I2V_LIB", "./item2vec")

# The timed child: fresh interpreter, fresh connection, two queries.
CHILD = r"""
import resource, sqlite3, sys, time
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
path, lib, item = sys.argv[1], sys.argv[2], sys.argv[3]
conn = sqlite3.connect(path, isolation_level=None)
conn.enable_load_extension(True)
conn.load_extension(lib)
sql = "SELECT * FROM similar_items(?, 10)"
w, c = time.perf_counter(), cpu()
rows = conn.execute(sql, (item,)).fetchall()
w1, c1 = time.perf_counter() - w, cpu() - c
w, c = time.perf_counter(), cpu()
again = conn.execute(sql, (item,)).fetchall()
w2, c2 = time.perf_counter() - w, cpu() - c
assert rows == again and len(rows) == 10, rows
print(w1, c1, w2, c2)
"""


def make_db(path, n, dim):
    from bench_query import store, unit_rows  # numpy, only when writing
    tmp = path + ".tmp"
    if os.path.exists(tmp):
        os.remove(tmp)
    print("(writing %d x %d random unit vectors to %s)" % (n, dim, path), file=sys.stderr)
    store(tmp, unit_rows(n, dim, "random", seed=n + dim))
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--items", type=int, default=1000000)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--db", help="the database (default: i2v_bench_load_N_D.db in the "
                    "temporary folder), written when missing")
    ap.add_argument("--item", default="12345", help="the query item")
    ap.add_argument("--pause", type=float, default=3.0, help="seconds before each run")
    a = ap.parse_args()
    path = a.db or os.path.join(tempfile.gettempdir(),
                                "i2v_bench_load_%d_%d.db" % (a.items, a.dim))
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        make_db(path, a.items, a.dim)
    with open(path, "rb") as f:  # into the page cache
        while f.read(1 << 24):
            pass
    runs = []
    for _ in range(a.runs):
        time.sleep(a.pause)
        out = subprocess.run([sys.executable, "-c", CHILD, path, LIB, a.item], check=True,
                             capture_output=True, text=True).stdout.split()
        runs.append([float(x) for x in out])
    med = [statistics.median(r[i] for r in runs) for i in range(4)]
    print("### First query of a fresh process (model load), %d runs\n" % a.runs)
    print("| model | first query, median | CPU | fastest | second query |")
    print("|---|---|---|---|---|")
    print("| %s x %d | %.2f s | %.2f s | %.2f s | %.1f ms |\n" % (
        "{:,}".format(a.items), a.dim, med[0], med[1], min(r[0] for r in runs), med[2] * 1e3))


if __name__ == "__main__":
    main()
