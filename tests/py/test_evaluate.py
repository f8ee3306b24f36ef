"""item2vec_evaluate on generated data: planted sequential structure is found
far above popularity, bad sources get clear errors, a grid runs in one
statement, and no model is left behind unless model= is given.

Run with Debian's /usr/bin/python3 (its sqlite3 module can load extensions);
prints "ok - name" / "not ok - name: why" lines for tests/run.sh."""
import json
import os
import random
import sqlite3
import sys
import threading
import time

LIB = os.environ.get("I2V_LIB", "./item2vec")
failures = 0


def report(name, ok, why=""):
    global failures
    if ok:
        print("ok - evaluate/%s" % name)
    else:
        failures += 1
        print("not ok - evaluate/%s: %s" % (name, why))


def connect():
    db = sqlite3.connect(":memory:", check_same_thread=False)
    db.enable_load_extension(True)
    db.load_extension(LIB)
    return db


def planted(db, users=300, items=200, length=20, noise=0.1, seed=7):
    """Each user walks a ring of items one step at a time (with some random
    jumps): the next item is predictable from the last one, while every item
    is about equally popular."""
    rng = random.Random(seed)
    rows = []
    for u in range(users):
        cur = rng.randrange(items)
        for t in range(length):
            rows.append((u, "item%d" % cur, t))
            cur = rng.randrange(items) if rng.random() < noise else (cur + 1) % items
    db.execute("CREATE TABLE events(user INTEGER, item TEXT, ts INTEGER)")
    db.executemany("INSERT INTO events VALUES (?, ?, ?)", rows)


def evaluate(db, *opts):
    q = "SELECT item2vec_evaluate('events', 'user', 'item'%s)" % ("".join(", ?" for _ in opts))
    return json.loads(db.execute(q, opts).fetchone()[0])


def error_of(db, sql, args=()):
    try:
        db.execute(sql, args).fetchall()
    except sqlite3.Error as e:
        return str(e)
    return None


def tables(db):
    return {r[0] for r in db.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")}


def main():
    db = connect()
    planted(db)
    base = ("order_by=ts", "workers=1", "epochs=10", "vector_size=16", "window=2")

    r = evaluate(db, *base)
    report("planted structure beats popularity",
           r["hr"] > 0.5 and r["hr"] > 4 * r["popularity"]["hr"],
           "hr %.3f, popularity %.3f" % (r["hr"], r["popularity"]["hr"]))
    report("figures are consistent",
           r["users"] == 300 and r["cases"] == 300 and r["k"] == 10 and r["holdout"] == 1
           and 0 <= r["mrr"] <= r["hr"] <= 1 and r["mrr"] <= r["ndcg"] <= r["hr"]
           and 0 < r["coverage"] <= 1 and r["items"] == 200
           and all(m in r for m in ("cosine", "context", "popularity", "cooccurrence")),
           json.dumps(r)[:300])
    report("co-occurrence baseline finds the ring too",
           r["cooccurrence"]["hr"] > 0.5, "cooccurrence %.3f" % r["cooccurrence"]["hr"])
    report("popularity has low coverage",
           r["popularity"]["coverage"] < r["cosine"]["coverage"], json.dumps(r["popularity"]))

    r10 = evaluate(db, *base, "holdout=5", "k=5", "score=context", "query=mean:2")
    report("holdout, k, score and query are applied",
           r10["cases"] == 1500 and r10["k"] == 5 and r10["score"] == "context"
           and r10["query"] == "mean:2" and r10["hr"] == r10["context"]["hr"],
           json.dumps(r10)[:300])

    report("no model left behind", "item2vec_models" not in tables(db), str(tables(db)))

    rows = db.execute(
        "WITH t(w) AS (VALUES (1), (3)) "
        "SELECT w, json_extract(item2vec_evaluate('events', 'user', 'item', 'order_by=ts', "
        "'workers=1', 'epochs=3', 'vector_size=8', 'window=' || w), '$.hr') FROM t").fetchall()
    report("grid in one statement",
           len(rows) == 2 and all(isinstance(h, float) and 0 <= h <= 1 for _, h in rows)
           and "item2vec_models" not in tables(db), str(rows))

    r = evaluate(db, *base, "model=ev")
    got = db.execute("SELECT items, json_extract(stats, '$.hr') FROM item2vec_models "
                     "WHERE name = 'ev'").fetchone()
    near = db.execute("SELECT count(*) FROM similar_items('item5', 3, 'ev')").fetchone()[0]
    report("model= keeps the model trained on the training part",
           got is not None and got[0] == r["items"] and abs(got[1] - r["hr"]) < 1e-9 and near == 3,
           "%r, %r" % (got, near))

    flags = {f for (f,) in db.execute(
        "SELECT flags FROM pragma_function_list WHERE name = 'item2vec_evaluate'")}
    report("item2vec_evaluate is DIRECTONLY", flags and all(f & 0x80000 for f in flags), str(flags))
    db.execute("CREATE VIEW sneaky AS SELECT item2vec_evaluate('events', 'user', 'item') AS r")
    e = error_of(db, "SELECT * FROM sneaky")
    report("not callable from a view", e is not None and "unsafe use" in e, str(e))

    # Errors.
    db.execute("CREATE TABLE singles(user INTEGER, item INTEGER)")
    db.executemany("INSERT INTO singles VALUES (?, ?)", [(u, u % 7) for u in range(50)])
    e = error_of(db, "SELECT item2vec_evaluate('singles', 'user', 'item')")
    report("every user has one item: clear error",
           e is not None and e.startswith("item2vec_evaluate:") and "two or more items" in e, str(e))
    db.execute("CREATE TABLE pairs(user INTEGER, item INTEGER)")
    db.executemany("INSERT INTO pairs VALUES (?, ?)", [(u, u % 7 + j) for u in range(50) for j in range(2)])
    e = error_of(db, "SELECT item2vec_evaluate('pairs', 'user', 'item', 'holdout=2')")
    report("holdout leaves nothing to query with: clear error",
           e is not None and e.startswith("item2vec_evaluate:") and "holdout=2" in e, str(e))
    e = error_of(db, "SELECT item2vec_evaluate('events', 'user', 'item', 'holdouts=2')")
    report("unknown option lists both kinds of options",
           e is not None and "holdouts" in e and "holdout, k, query, score" in e and "window" in e, str(e))
    e = error_of(db, "SELECT item2vec_evaluate('events', 'user', 'item', 'query=first')")
    report("bad query value names the choices", e is not None and "mean:N" in e, str(e))
    e = error_of(db, "SELECT item2vec_evaluate('events', 'user', 'item', 'score=dot')")
    report("bad score value names the choices", e is not None and "'cosine', 'context' or 'context_prior'" in e, str(e))
    e = error_of(db, "SELECT item2vec_evaluate('nosuch', 'user', 'item')")
    report("missing source", e is not None and "no such table" in e, str(e))

    # An interrupt stops it with the function's name in the message, as
    # item2vec_train's does, and leaves no model behind.
    slow = connect()
    planted(slow, users=2000)
    slow_done = {}

    def run_slow():
        slow_done["error"] = error_of(slow, "SELECT item2vec_evaluate('events', 'user', 'item', "
                                            "'workers=1', 'epochs=2000', 'model=slow')")

    th = threading.Thread(target=run_slow)
    t0 = time.time()
    th.start()
    time.sleep(0.5)
    slow.interrupt()
    th.join(30)
    took = time.time() - t0
    e = slow_done.get("error")
    report("interrupted: 'item2vec_evaluate: interrupted', within a second, nothing stored",
           e == "item2vec_evaluate: interrupted" and took < 1.5 and "item2vec_models" not in
           tables(slow), "%r after %.2f s" % (e, took))

    print("done" if failures == 0 else "%d failed" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
