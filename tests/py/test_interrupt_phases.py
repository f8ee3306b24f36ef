"""tests/py/test_interrupt_phases.py: sqlite3_interrupt (Ctrl-C in the shell) stops
item2vec_train within a second, in each of its phases, with SQLITE_INTERRUPT
and the message "interrupted", and the previous model of that name stays as
it was (same fingerprint), usable, with no transaction left open.

  reading   the source is a view that makes 40 million rows; the interrupt
            comes 0.3 s in, before the "rows read" progress line
  training  10000 epochs; the interrupt comes 0.5 s after the progress line
            that says training started
  writing   a 100,000-item model over a rollback journal; the interrupt comes
            when the journal file appears (the old model's rows are being
            deleted and the new ones inserted)
  shell     `timeout -s INT` sends SIGINT to the sqlite3 shell while it trains
The interrupt comes from another Python thread (Connection.interrupt)."""
import os
import subprocess
import threading
import time

from rel_common import (Report, SANITIZED, SQLITE3, LIB, connect, fill_sequences,
                        integrity, model_fingerprint, stderr_to, temp_dir)

LIMIT = 1.0 if not SANITIZED else 3.0  # seconds from interrupt to return
rep = Report()
tmp = temp_dir()
db = os.path.join(tmp, "interrupt.db")
conn = connect(db)
conn.execute("PRAGMA journal_mode = DELETE")
fill_sequences(conn, "r", users=3000, per_user=30, items=2000)
conn.execute("SELECT item2vec_train('r', 'u', 'i', 'model=m', 'vector_size=16', "
             "'epochs=1', 'verbose=0')")
before = model_fingerprint(conn, "m")
neighbours = conn.execute("SELECT item FROM similar_items(1, 5, 'm')").fetchall()


def interrupted_run(name, sql, trigger):
    """Run sql on conn while a thread waits for trigger() to return true,
    then interrupts; returns (error text or None, seconds from interrupt to
    return, progress written to stderr)."""
    fired = {}
    stop = threading.Event()

    def watcher():
        while not stop.is_set():
            if trigger():
                fired["at"] = time.monotonic()
                conn.interrupt()
                return
            time.sleep(0.002)

    log = os.path.join(tmp, name + ".stderr")
    t = threading.Thread(target=watcher)
    err = None
    with stderr_to(log):
        t.start()
        try:
            conn.execute(sql).fetchall()
        except Exception as e:  # sqlite3.OperationalError expected
            err = "%s: %s" % (type(e).__name__, e)
        end = time.monotonic()
        stop.set()
        t.join()
    with open(log) as f:
        progress = f.read()
    took = end - fired["at"] if "at" in fired else None
    return err, took, progress


def after_checks(phase):
    fp = model_fingerprint(conn, "m")
    rep.check("interrupt/%s: previous model intact" % phase, fp == before,
              "model 'm' changed (fingerprint %s, was %s)" % (fp, before))
    rep.check("interrupt/%s: previous model answers" % phase,
              conn.execute("SELECT item FROM similar_items(1, 5, 'm')").fetchall() == neighbours,
              "similar_items on the old model gives other neighbours")
    rep.check("interrupt/%s: no transaction left open" % phase, not conn.in_transaction,
              "the connection is still in a transaction")
    rep.check("interrupt/%s: integrity_check" % phase, integrity(conn) == "ok",
              "integrity_check says %s" % integrity(conn))


def judge(phase, err, took, in_phase, where):
    rep.check("interrupt/%s: error is 'interrupted'" % phase,
              err is not None and err.endswith(": interrupted") and "OperationalError" in err,
              "got %r" % (err,))
    rep.check("interrupt/%s: interrupted while %s" % (phase, where), in_phase,
              "the interrupt did not land while %s" % where)
    rep.check("interrupt/%s: stops within %.1f s" % (phase, LIMIT),
              took is not None and took < LIMIT,
              "took %s s after the interrupt" % (None if took is None else round(took, 3)),
              "%.3f s" % took if took is not None else "")
    after_checks(phase)


# Reading: a view that makes 40 million rows takes seconds to read.
conn.execute("CREATE VIEW slow AS WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL "
             "SELECT x + 1 FROM n WHERE x < 40000000) SELECT x / 20 AS u, x % 997 AS i FROM n")
t0 = time.monotonic()
err, took, progress = interrupted_run(
    "reading", "SELECT item2vec_train('slow', 'u', 'i', 'model=m', 'verbose=1')",
    lambda: time.monotonic() - t0 > 0.3)
judge("reading", err, took, "rows" not in progress and "epoch" not in progress,
      "reading the source")

# Training: the progress line "... training with N workers" comes after reading.
log_path = os.path.join(tmp, "training.stderr")
seen = {}


def training_started():
    try:
        with open(log_path) as f:
            if "training with" in f.read():
                seen.setdefault("at", time.monotonic())
    except OSError:
        pass
    return "at" in seen and time.monotonic() - seen["at"] > 0.5


err, took, progress = interrupted_run(
    "training", "SELECT item2vec_train('r', 'u', 'i', 'model=m', 'epochs=10000', "
    "'vector_size=32', 'verbose=1')", training_started)
judge("training", err, took, "training with" in progress, "training")

# Writing: the rollback journal appears when the write transaction starts.
# The check before reading (can the model be stored?) opens one briefly too,
# so the trigger also waits for the progress line that says training began.
fill_sequences(conn, "w", users=50000, per_user=2, items=100000, item_of=lambda x: x)
journal = db + "-journal"


def writing_started():
    try:
        with open(os.path.join(tmp, "writing.stderr")) as f:
            began = "training with" in f.read()
    except OSError:
        began = False
    return began and os.path.exists(journal)


err, took, progress = interrupted_run(
    "writing", "SELECT item2vec_train('w', 'u', 'i', 'model=m', 'vector_size=128', "
    "'epochs=1', 'window=1', 'negative=1', 'sample=0', 'verbose=1')",
    writing_started)
judge("writing", err, took, "training with" in progress and err is not None, "writing the model")

# The shell: SIGINT to sqlite3 while it trains.
conn.close()
start = time.monotonic()
p = subprocess.run(["timeout", "--preserve-status", "-s", "INT", "1", SQLITE3, db,
                    "-cmd", ".load " + LIB,
                    "SELECT item2vec_train('r', 'u', 'i', 'model=m', 'epochs=10000', 'verbose=0')"],
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
took = time.monotonic() - start - 1.0
# The shell exits with an error status of its own (not killed by the signal).
rep.check("interrupt/shell: sqlite3 reports 'interrupted'",
          "interrupted" in p.stderr and 0 < p.returncode < 128,
          "exit %d, stderr %r" % (p.returncode, p.stderr[-200:]))
rep.check("interrupt/shell: stops within %.1f s of SIGINT" % LIMIT, took < LIMIT,
          "took %.3f s" % took, "%.3f s" % took)
conn = connect(db)
after_checks("shell")
conn.close()
rep.done()
