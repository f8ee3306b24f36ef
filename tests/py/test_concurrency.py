"""tests/py/test_concurrency.py: one process queries similar_items in a loop
while another process retrains and replaces the same model.

Two sources make models that cannot be mistaken for each other: source A
has integer items 1..300, source B text items 'b1'..'b300', and both have
the item 'q' the reader asks about.  The writer (a child process) retrains
model 'm' from B, A, B, ... WRITES times.  The reader checks every answer:

  - it has exactly k rows, ranked 1..k, similarity never increasing;
  - its items all come from one source (a mix would be a torn model);
  - in the same statement item2vec_similarity('q', item) agrees with the
    similarity similar_items gave (both read one snapshot);
  - the scalar functions alone (no table in the statement), two calls in
    one transaction, know exactly one of item 1 and item 'b1';
  - after the writer is done, the next answer comes from its last model
    (the cache noticed the other process's commit).

The only error a reader may get is SQLITE_BUSY ("database is locked",
documented: with a rollback journal, a commit briefly locks readers out
beyond busy_timeout); it is counted, anything else fails the test.  It runs
in WAL mode (the supported setup for concurrent readers) and, shorter, with a
rollback journal.  Iterations are bounded (MAX_READS, and the writer's
I2V_CONCURRENCY_WRITES trainings, default 8; half that with the journal)."""
import os
import sqlite3
import subprocess
import sys
import time

from rel_common import Report, LIB, connect, fill_sequences, temp_dir

K = 10
MAX_READS = 200000
rep = Report()
tmp = temp_dir()

WRITER = r"""
import sqlite3, sys, time
db, lib, writes = sys.argv[1], sys.argv[2], int(sys.argv[3])
pause = float(sys.argv[4]) if len(sys.argv) > 4 else 0
c = sqlite3.connect(db, isolation_level=None, timeout=30)
c.enable_load_extension(True)
c.load_extension(lib)
for n in range(writes):
    src = 'b' if n % 2 == 0 else 'a'
    c.execute("SELECT item2vec_train(?, 'u', 'i', 'model=m', 'vector_size=16', "
              "'epochs=3', 'workers=1', 'seed=%d', 'verbose=0')" % (n + 1), (src,))
    print(src, flush=True)
    time.sleep(pause)
"""


def item_of(prefix):
    # user x//10 has ten items; every user also has 'q'
    def f(x):
        if x % 10 == 0:
            return "q"
        v = (x * 7 + x // 10) % 300 + 1
        return v if prefix == "" else prefix + str(v)
    return f


def source_of(items):
    kinds = {"b" if isinstance(i, str) else "a" for i in items}
    return kinds.pop() if len(kinds) == 1 else "mixed"


def run(mode, writes, pause):
    name = "concurrency/%s" % mode
    db = os.path.join(tmp, "conc-%s.db" % mode)
    setup = connect(db)
    setup.execute("PRAGMA journal_mode = %s" % mode)
    fill_sequences(setup, "a", users=300, per_user=10, items=0, item_of=item_of(""))
    fill_sequences(setup, "b", users=300, per_user=10, items=0, item_of=item_of("b"))
    setup.execute("SELECT item2vec_train('a', 'u', 'i', 'model=m', 'vector_size=16', "
                  "'epochs=3', 'workers=1', 'verbose=0')")
    setup.close()

    reader = connect(db, timeout=2.0)
    writer = subprocess.Popen([sys.executable, "-c", WRITER, db, LIB, str(writes), str(pause)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    reads = busy = switches = 0
    last = None
    problems = []
    deadline = time.monotonic() + 120
    q = ("SELECT s.rank, s.item, s.similarity, item2vec_similarity('q', s.item, 'm') "
         "FROM similar_items('q', %d, 'm') AS s" % K)
    scalar_q = ("SELECT item2vec_similarity('q', 1, 'm'), item2vec_similarity('q', 'b1', 'm')")

    def scalar():
        # A statement that reads no table has no snapshot of its own: each
        # call reads the model in a read transaction of its own.  In a
        # transaction, the calls share one.
        reader.execute("BEGIN")
        try:
            return reader.execute(scalar_q).fetchone()
        finally:
            reader.execute("COMMIT")
    while reads < MAX_READS and time.monotonic() < deadline and not problems:
        done = writer.poll() is not None
        try:
            # Scalars first on odd reads: a statement without a table must
            # still notice the other process's commit.
            if reads % 2:
                scal = scalar()
                rows = reader.execute(q).fetchall()
            else:
                rows = reader.execute(q).fetchall()
                scal = scalar()
        except sqlite3.OperationalError as e:
            if "database is locked" in str(e):
                busy += 1
                continue
            problems.append("read %d failed: %s" % (reads, e))
            break
        reads += 1
        src = source_of([r[1] for r in rows])
        if len(rows) != K or [r[0] for r in rows] != list(range(1, K + 1)):
            problems.append("read %d: %d rows, ranks %r" % (reads, len(rows), [r[0] for r in rows]))
        elif src == "mixed":
            problems.append("read %d mixes items of both models: %r" % (reads, [r[1] for r in rows]))
        elif any(rows[i][2] < rows[i + 1][2] for i in range(K - 1)):
            problems.append("read %d: similarities not in order" % reads)
        elif any(r[3] is None or abs(r[3] - r[2]) > 1e-5 for r in rows):
            problems.append("read %d: item2vec_similarity disagrees with similar_items" % reads)
        elif (scal[0] is None) == (scal[1] is None):
            problems.append("read %d: scalar functions see %r (items 1 and 'b1')" % (reads, scal))
        if last is not None and src != last:
            switches += 1
        last = src
        if done:
            break
    if writer.poll() is None:
        writer.kill()
    out, err = writer.communicate()
    trained = out.split()
    rep.check(name + ": writer retrained %d times" % writes,
              writer.returncode == 0 and len(trained) == writes,
              "writer exit %s, trained %d, stderr %r" % (writer.returncode, len(trained), err[-300:]))
    rep.check(name + ": every answer whole and consistent", not problems,
              "; ".join(problems[:3]), "%d reads, %d busy" % (reads, busy))
    rep.check(name + ": readers saw the model replaced", switches >= 2,
              "only %d switches between the two models in %d reads" % (switches, reads),
              "%d switches" % switches)
    scal = reader.execute("SELECT item2vec_similarity('q', 1, 'm') IS NOT NULL").fetchone()[0]
    final = source_of([r[0] for r in reader.execute(
        "SELECT item FROM similar_items('q', %d, 'm')" % K)])
    want = trained[-1] if trained else None
    rep.check(name + ": after the writer, answers come from its last model",
              final == want and scal == (want == "a"),
              "similar_items answers from %s, item2vec_similarity knows item 1: %s; "
              "the last model is %s" % (final, scal, want))
    print("# %s: %d reads, %d busy errors, %d model switches seen, %d trainings"
          % (name, reads, busy, switches, len(trained)), flush=True)
    reader.close()


def staleness(mode):
    """A connection that has a model cached answers from the new one as soon
    as another process has committed it: for a statement that reads no table
    (scalar functions) and for similar_items, alone in their statements."""
    name = "concurrency/%s" % mode
    db = os.path.join(tmp, "stale-%s.db" % mode)
    setup = connect(db)
    setup.execute("PRAGMA journal_mode = %s" % mode)
    fill_sequences(setup, "a", users=300, per_user=10, items=0, item_of=item_of(""))
    fill_sequences(setup, "b", users=300, per_user=10, items=0, item_of=item_of("b"))
    setup.execute("SELECT item2vec_train('a', 'u', 'i', 'model=m', 'vector_size=8', "
                  "'epochs=1', 'verbose=0')")
    setup.close()
    reader = connect(db)
    queries = {
        "scalar": ("SELECT item2vec_similarity('q', 1, 'm') IS NOT NULL", lambda r: "a" if r[0][0] else "b"),
        "similar_items": ("SELECT item FROM similar_items('q', 3, 'm')",
                          lambda r: source_of([x[0] for x in r])),
    }
    for kind, (sql, which) in queries.items():
        seen = []
        for src in ("b", "a", "b"):
            reader.execute(sql).fetchall()  # cache the current model
            p = subprocess.run([sys.executable, "-c", WRITER.replace("'b' if n % 2 == 0 else 'a'", repr(src)),
                                db, LIB, "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            if p.returncode != 0:
                seen.append("writer failed: " + p.stderr[-200:])
                break
            seen.append(which(reader.execute(sql).fetchall()))
        rep.check("%s: %s sees another process's new model at once" % (name, kind),
                  seen == ["b", "a", "b"], "after retraining from b, a, b it answered from %r" % seen)
    reader.close()


# With a rollback journal a reader blocked by a commit can sleep in SQLite's
# busy handler past a model's whole life: the writer pauses between models.
WRITES = int(os.environ.get("I2V_CONCURRENCY_WRITES", "8"))
run("wal", WRITES, 0)
run("delete", max(2, WRITES // 2), 0.25)
staleness("wal")
staleness("delete")
rep.done()
