"""tests/py/test_bounds.py: requests that would need absurd memory are refused
with a message before anything is allocated, and hostile sizes do not
overflow.

  - vector_size past 4096 is an option error naming the range;
  - a model that would not fit is refused after reading, before the
    matrices are allocated: here under SQLite's heap limit (PRAGMA
    hard_heap_limit), which item2vec_train respects as it respects the
    machine's memory; the process's peak memory shows nothing was allocated;
  - k larger than the model is capped at the model's size; k <= 0 or not an
    integer is an error;
  - a stored model whose header claims 4294967294 items of 65536 dimensions
    is refused (its rows do not match) without allocating for the claim;
  - item2vec_to_json of a BLOB whose text would pass SQLite's length limit
    fails with SQLITE_TOOBIG ("string or blob too big"), not a crash;
  - a JSON id nested 100,000 deep is a parse error, not a stack overflow.
The heap limit is process-wide, so it is set last."""
import re
import resource
import sqlite3

from rel_common import Report, connect, fill_sequences

rep = Report()
conn = connect(":memory:")
fill_sequences(conn, "r", users=250, per_user=8, items=1000)


def error_of(sql, args=()):
    try:
        conn.execute(sql, args).fetchall()
    except sqlite3.Error as e:
        return "%s: %s" % (type(e).__name__, e)
    return None


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


e = error_of("SELECT item2vec_train('r', 'u', 'i', 'vector_size=100000')")
rep.check("bounds: vector_size past 4096 refused", e is not None and
          "option 'vector_size' must be an integer from 1 to 4096" in e, "got %r" % e)

conn.execute("SELECT item2vec_train('r', 'u', 'i', 'vector_size=8', 'epochs=1', 'verbose=0')")
n = conn.execute("SELECT items FROM item2vec_models WHERE name = 'default'").fetchone()[0]
rows = conn.execute("SELECT count(*) FROM similar_items(1, 9223372036854775807)").fetchone()[0]
rep.check("bounds: k past the model's size is capped", rows == n - 1,
          "%d rows for %d items" % (rows, n))
for k in (0, -1, "'x'", 1.5):
    e = error_of("SELECT * FROM similar_items(1, %s)" % k)
    rep.check("bounds: k = %s refused" % k, e is not None and "k must be a positive integer" in e,
              "got %r" % e)

# A hostile stored model: the header's counts are only a hint.
conn.execute("INSERT INTO item2vec_models(name, dim, items) VALUES ('huge', 65536, 4294967294)")
conn.execute("INSERT INTO item2vec_vectors VALUES ('huge', 1, 1, x'0000803f')")
before = peak_mb()
e = error_of("SELECT * FROM similar_items(1, 5, 'huge')")
grew = peak_mb() - before
rep.check("bounds: hostile model header refused without allocating for it",
          e is not None and "as a BLOB of 4 bytes" in e and grew < 64,
          "got %r, peak memory grew %.0f MB" % (e, grew), "peak grew %.0f MB" % grew)

# TOOBIG, not NOMEM, past SQLite's length limit.
old = conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 1000)
e = error_of("SELECT item2vec_to_json(zeroblob(4000))")
ok_small = error_of("SELECT item2vec_to_json(zeroblob(400))") is None
conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, old)
rep.check("bounds: item2vec_to_json past the length limit is SQLITE_TOOBIG",
          e is not None and "too big" in e and ok_small, "got %r" % e)

e = error_of("SELECT * FROM similar_items(?, 5)", ("[" * 100000,))
rep.check("bounds: deeply nested JSON id is a parse error",
          e is not None and "malformed JSON id" in e, "got %r" % e)

# Last: SQLite's heap limit (process-wide, and it can only be lowered).
conn.execute("PRAGMA hard_heap_limit = 20000000")
before = peak_mb()
e = error_of("SELECT item2vec_train('r', 'u', 'i', 'vector_size=4096', 'verbose=0')")
grew = peak_mb() - before
rep.check("bounds: training that does not fit under the heap limit refused",
          e is not None and re.search(r"training 1000 items x vector_size 4096 needs [0-9.]+ MiB", e)
          and "hard_heap_limit" in e
          and "lower vector_size" in e and grew < 16,
          "got %r, peak memory grew %.0f MB" % (e, grew), "peak grew %.0f MB" % grew)
e = error_of("SELECT item2vec_evaluate('r', 'u', 'i', 'vector_size=4096', 'verbose=0')")
rep.check("bounds: an evaluation whose training does not fit is refused the same way",
          e is not None and re.search(r"item2vec_evaluate: training \d+ items x vector_size 4096 "
                                     r"needs [0-9.]+ MiB", e) and "hard_heap_limit" in e,
          "got %r" % e)
ok = error_of("SELECT item2vec_train('r', 'u', 'i', 'vector_size=8', 'epochs=1', 'verbose=0')")
rep.check("bounds: a model that fits still trains under the limit", ok is None, "got %r" % ok)
rep.done()
