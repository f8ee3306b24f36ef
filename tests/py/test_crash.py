"""tests/py/test_crash.py: a process killed (SIGKILL) while item2vec_train
writes a large model leaves a database that passes PRAGMA integrity_check
and still holds the previous model of that name, whole and usable.

For a rollback journal and for WAL, the sqlite3 shell retrains model 'm'
(a few hundred items) from a source with 100,000 items and 128 dimensions
(about 60 MB of vectors); the test watches the files and sends SIGKILL at
two points of the write: as soon as the write shows on disk (journal file
created once training started / WAL past 1 MB), and once 20 MB of it have
been written (the database file or the WAL grown by that much).  The shell must have died of
the signal, not finished; SQLite's recovery on the next open then has to put
the old model back."""
import os
import signal
import subprocess
import time

from rel_common import (Report, SQLITE3, LIB, connect, fill_sequences, integrity,
                        model_fingerprint, temp_dir)

rep = Report()
tmp = temp_dir()
MB = 1 << 20


def size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return -1


def one_kill(mode, point):
    name = "crash/%s/%s" % (mode, point)
    db = os.path.join(tmp, "%s-%s.db" % (mode, point))
    conn = connect(db)
    conn.execute("PRAGMA journal_mode = %s" % mode)
    fill_sequences(conn, "r", users=400, per_user=10, items=300)
    fill_sequences(conn, "w", users=50000, per_user=2, items=100000, item_of=lambda x: x)
    conn.execute("SELECT item2vec_train('r', 'u', 'i', 'model=m', 'vector_size=16', "
                 "'epochs=1', 'verbose=0')")
    before = model_fingerprint(conn, "m")
    neighbours = conn.execute("SELECT item FROM similar_items(1, 5, 'm')").fetchall()
    conn.close()
    db_size0 = size(db)
    wal, journal = db + "-wal", db + "-journal"
    wal0 = max(size(wal), 0)

    log = os.path.join(tmp, "%s-%s.stderr" % (mode, point))

    def training_started():
        # A journal also appears for an instant before reading, when training
        # checks that it can write: only after training started is it the write.
        with open(log) as f:
            return "training with" in f.read()

    if mode == "wal":
        started = lambda: size(wal) > wal0 + MB
        deep = lambda: size(wal) > wal0 + 20 * MB
    else:
        started = lambda: size(journal) >= 0 and training_started()
        deep = lambda: size(journal) >= 0 and size(db) > db_size0 + 20 * MB
    trigger = started if point == "start" else deep

    err = open(log, "w")
    child = subprocess.Popen(
        [SQLITE3, db, "-cmd", ".load " + LIB,
         "SELECT item2vec_train('w', 'u', 'i', 'model=m', 'vector_size=128', 'epochs=1', "
         "'window=1', 'negative=1', 'sample=0', 'verbose=1')"],
        stdout=subprocess.DEVNULL, stderr=err)
    deadline = time.monotonic() + 120
    fired = False
    while child.poll() is None and time.monotonic() < deadline:
        if trigger():
            child.send_signal(signal.SIGKILL)
            fired = True
            break
        time.sleep(0.001)
    child.wait()
    err.close()
    if not rep.check(name + ": killed while writing", fired and child.returncode == -signal.SIGKILL,
                     "the shell was not killed mid-write (exit %s, trigger %s)"
                     % (child.returncode, fired)):
        return
    left = "journal %d bytes" % size(journal) if mode != "wal" else "WAL %d bytes" % size(wal)
    conn = connect(db)
    ic = integrity(conn)
    rep.check(name + ": integrity_check ok", ic == "ok", "integrity_check says %r" % ic, left)
    fp = model_fingerprint(conn, "m")
    rep.check(name + ": previous model intact", fp == before,
              "model 'm' changed (fingerprint %s, was %s)" % (fp, before))
    got = conn.execute("SELECT item FROM similar_items(1, 5, 'm')").fetchall()
    rep.check(name + ": previous model answers", got == neighbours,
              "similar_items gives %r, was %r" % (got, neighbours))
    conn.close()


for mode in ("delete", "wal"):
    for point in ("start", "deep"):
        one_kill(mode, point)
rep.done()
