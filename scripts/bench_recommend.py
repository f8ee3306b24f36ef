#!/usr/bin/env python3
"""bench_recommend.py: how long recommend_items takes for every user.

Trains a model with the default options on MovieLens small (ML_DIR, or
../shared/data/ml-latest-small) or, without it, on a generated set shaped
like it, then times in one process, median of 5 runs each:
  - recommend_items for every user in one statement (a lateral join), with
    and without an index on the user column;
  - one user at a time (610 statements);
  - the documented way before recommend_items, in the same run: similar_items
    on the mean of each user's last 10 items, with exclude.

    /usr/bin/python3 scripts/bench_recommend.py
"""

import csv
import os
import sqlite3
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "py"))
from gen import planted  # noqa: E402

LIB = os.environ.get("I2V_LIB", os.path.join(HERE, "..", "item2vec"))


# BENCH_QUICK=1 (make bench's quick run): one run of each, not a median.
QUICK = os.environ.get("BENCH_QUICK", "0") not in ("", "0")


def timed(fn, runs=5):
    runs = 1 if QUICK else runs
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def main():
    db = sqlite3.connect(":memory:")
    db.enable_load_extension(True)
    db.load_extension(LIB)
    db.execute("CREATE TABLE ratings(userId, movieId, ts)")
    ml = os.environ.get("ML_DIR") or os.path.join(HERE, "..", "..", "shared", "data",
                                                  "ml-latest-small")
    path = os.path.join(ml, "ratings.csv")
    if os.path.exists(path):
        with open(path, newline="") as f:
            r = csv.reader(f)
            next(r)
            db.executemany("INSERT INTO ratings VALUES (?, ?, ?)",
                           ((int(u), int(m), int(t)) for u, m, _, t in r))
        what = "MovieLens small"
    else:
        data = planted(clusters=50, per_cluster=200, users=610, min_items=20, max_items=300,
                       seed=3)
        db.executemany("INSERT INTO ratings VALUES (?, ?, ?)", data.rows)
        what = "generated (610 users, MovieLens-like; ML_DIR not set)"
    db.execute("SELECT item2vec_train('ratings', 'userId', 'movieId', 'order_by=ts')")
    users = [u for (u,) in db.execute("SELECT DISTINCT userId FROM ratings ORDER BY userId")]
    nrat = db.execute("SELECT count(*) FROM ratings").fetchone()[0]

    def all_users():
        return db.execute("SELECT count(*) FROM (SELECT DISTINCT userId FROM ratings) u, "
                          "recommend_items(u.userId, 10) r").fetchone()

    def one_by_one():
        for u in users:
            db.execute("SELECT item FROM recommend_items(?, 10)", (u,)).fetchall()

    def similar_way():
        db.execute("""SELECT count(*) FROM (SELECT DISTINCT userId FROM ratings) u,
                      similar_items((SELECT json_group_array(movieId) FROM (
                                      SELECT movieId FROM ratings WHERE userId = u.userId
                                       ORDER BY ts DESC LIMIT 10)), 10,
                                    'default',
                                    (SELECT json_group_array(movieId) FROM ratings
                                      WHERE userId = u.userId)) s""").fetchone()

    rows = []
    rows.append(("recommend_items, every user, one statement (no index on userId)",
                 timed(all_users)))
    rows.append(("recommend_items, one statement per user (no index)", timed(one_by_one, 3)))
    old = timed(similar_way, 3)
    db.execute("CREATE INDEX ratings_user ON ratings(userId)")
    rows.append(("recommend_items, every user, one statement (index on userId)",
                 timed(all_users)))
    rows.append(("recommend_items, one statement per user (index)", timed(one_by_one, 3)))
    rows.append(("similar_items on the mean of the last 10, with exclude (index)",
                 timed(similar_way, 3)))
    print("### recommend_items for every user: %s, %d users, %d ratings" % (what, len(users), nrat))
    print()
    print("| what | seconds (median) | per user |")
    print("|---|---|---|")
    for name, s in rows:
        print("| %s | %.3f | %.0f µs |" % (name, s, 1e6 * s / len(users)))
    print()
    print("similar_items on the mean of the last 10 without an index took %.3f s." % old)


if __name__ == "__main__":
    main()
