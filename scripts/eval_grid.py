#!/usr/bin/python3
"""eval_grid.py: the measurements behind item2vec's defaults.

Runs item2vec_evaluate over a grid of training options (one option changed at
a time from the defaults, then a few combinations) on MovieLens small (the
last 10 ratings of each user held out) and on generated sequences with
planted structure, and prints one markdown table per data set: next-item
HR@10 for the embedding ranked by cosine, by context (input x output vectors)
and by context plus the negative-sampling prior, for the co-occurrence and
popularity baselines, and the training time.

  /usr/bin/python3 scripts/eval_grid.py --movielens $ML_DIR [--generated] [--quick]

Every run is one SQL statement; a grid is also one statement, for example
  WITH t(w) AS (VALUES (3), (5), (10))
  SELECT w, item2vec_evaluate('ratings', 'userId', 'movieId',
                              'order_by=timestamp', 'holdout=10', 'window=' || w)
    FROM t;
(see sql/evaluate_grid.sql).  Uses workers=2 so the numbers hold on a small
machine; times are wall-clock seconds of training.
"""
import argparse
import csv
import json
import os
import random
import sqlite3
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LIB = os.environ.get("I2V_LIB", os.path.join(HERE, "..", "item2vec"))

# The defaults before this measurement; the grid changes one option at a time
# from them, then tries combinations.  (Later options win over earlier ones.)
PREVIOUS = ["vector_size=64", "negative=5", "epochs=5"]
GRID = [
    [],
    ["window=2"], ["window=3"], ["window=10"],
    ["negative=10"], ["negative=20"],
    ["ns_exponent=-0.5"], ["ns_exponent=0"], ["ns_exponent=0.5"], ["ns_exponent=1"],
    ["sample=0"], ["sample=1e-4"], ["sample=1e-5"],
    ["epochs=10"], ["epochs=20"], ["epochs=40"],
    ["vector_size=32"], ["vector_size=128"],
    ["sg=0"], ["shuffle=1"],
    ["epochs=20", "negative=10"],
    ["epochs=20", "sample=1e-4"],
    ["epochs=20", "sample=1e-4", "negative=10"],
    ["epochs=20", "sample=1e-4", "negative=10", "vector_size=32"],
    ["epochs=20", "sample=3e-4", "negative=10"],
    ["epochs=10", "sample=1e-4", "negative=10"],
    ["epochs=20", "negative=20", "window=10"],
]
# The defaults chosen (vector_size=32, epochs=10) and neighbours.
CHOSEN = [
    [], ["epochs=5"], ["epochs=20"], ["epochs=20", "negative=10"], ["negative=10"],
    ["vector_size=64"], ["window=10"], ["sample=1e-4"],
]
QUICK = [[], ["epochs=10"]]


def connect(path=":memory:"):
    db = sqlite3.connect(path)
    db.enable_load_extension(True)
    db.load_extension(LIB)
    return db


def load_movielens(db, ml_dir):
    db.execute("CREATE TABLE ratings(userId INTEGER, movieId INTEGER, rating REAL, timestamp INTEGER)")
    with open(os.path.join(ml_dir, "ratings.csv"), newline="") as f:
        r = csv.reader(f)
        next(r)
        db.executemany("INSERT INTO ratings VALUES (?, ?, ?, ?)",
                       ((int(u), int(m), float(x), int(t)) for u, m, x, t in r))


def load_generated(db, users=2000, items=1000, length=30, seed=11):
    """Users follow chains through the catalogue (item i is usually followed
    by one of i+1..i+3) with jumps to items drawn by a Zipf-like popularity:
    the next item is predictable from the last one, and popular items are a
    reasonable fallback."""
    rng = random.Random(seed)
    weights = [1.0 / (i + 1) for i in range(items)]
    rows = []
    for u in range(users):
        cur = rng.choices(range(items), weights)[0]
        for t in range(length):
            rows.append((u, cur, t))
            if rng.random() < 0.3:
                cur = rng.choices(range(items), weights)[0]
            else:
                cur = (cur + rng.randint(1, 3)) % items
    db.execute("CREATE TABLE events(user INTEGER, item INTEGER, ts INTEGER)")
    db.executemany("INSERT INTO events VALUES (?, ?, ?)", rows)


def evaluate(db, source, user, item, opts):
    q = "SELECT item2vec_evaluate(?, ?, ?%s)" % ("".join(", ?" for _ in opts))
    return json.loads(db.execute(q, [source, user, item] + opts).fetchone()[0])


def rare_neighbours(db, source, user, item, fixed, grid, base=()):
    """Train each configuration and report how many of the 10 nearest
    neighbours of the 30 most frequent items occur fewer than 5 times: items
    a user has hardly any evidence for, which make "more like this" lists
    look like noise."""
    print("\n| options | neighbours seen < 5 times | median count of a neighbour |")
    print("|---|---|---|")
    for extra in grid:
        opts = [o for o in fixed if not o.startswith("holdout=")] + list(base) + extra + ["model=rare_check"]
        db.execute("SELECT item2vec_train(?, ?, ?%s)" % ("".join(", ?" for _ in opts)),
                   [source, user, item] + opts).fetchone()
        counts = sorted(f for (f,) in db.execute(
            "WITH top AS (SELECT item FROM item2vec_vectors WHERE model = 'rare_check' "
            "ORDER BY frequency DESC LIMIT 30) "
            "SELECT v.frequency FROM top, similar_items(top.item, 10, 'rare_check') AS s "
            "JOIN item2vec_vectors AS v ON v.model = 'rare_check' AND v.item = s.item"))
        print("| %s | %.0f%% | %d |" % (" ".join(extra) or "(defaults)",
                                        100.0 * sum(c < 5 for c in counts) / len(counts),
                                        counts[len(counts) // 2]), flush=True)


def run_grid(db, title, source, user, item, fixed, grid, base=()):
    print("\n### %s\n" % title)
    if base:
        print("Each row: %s, then the options shown.\n" % " ".join(base))
    print("| options | cosine | context | context_prior | co-occurrence | popularity | train s |")
    print("|---|---|---|---|---|---|---|")
    t0 = time.time()
    for extra in grid:
        r = evaluate(db, source, user, item, fixed + list(base) + extra)
        print("| %s | %.4f | %.4f | %.4f | %.4f | %.4f | %.1f |" % (
            " ".join(extra) or "(defaults)", r["cosine"]["hr"], r["context"]["hr"],
            r["context_prior"]["hr"], r["cooccurrence"]["hr"], r["popularity"]["hr"],
            r["train_seconds"]), flush=True)
    print("\n%d runs in %.0f s" % (len(grid), time.time() - t0))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--movielens", help="directory of MovieLens small (ratings.csv)")
    ap.add_argument("--generated", action="store_true", help="also the generated data")
    ap.add_argument("--quick", action="store_true", help="two configurations only")
    ap.add_argument("--chosen-only", action="store_true", help="only the chosen defaults' table")
    args = ap.parse_args()
    if not args.movielens and not args.generated:
        ap.error("give --movielens DIR and/or --generated")
    common = ["workers=2", "seed=1", "verbose=0"]
    sets = []
    if args.movielens:
        db = connect()
        load_movielens(db, args.movielens)
        sets.append((db, "MovieLens small, last 10 ratings of each user held out, HR@10",
                     "ratings", "userId", "movieId", ["order_by=timestamp", "holdout=10"]))
    if args.generated:
        db = connect()
        load_generated(db)
        sets.append((db, "Generated chains (2000 users x 30 items, 1000 items), last 5 held out, HR@10",
                     "events", "user", "item", ["order_by=ts", "holdout=5"]))
    for db, title, source, user, item, fixed in sets:
        if args.quick:
            run_grid(db, title + ": current defaults", source, user, item, fixed + common, QUICK)
            continue
        if not args.chosen_only:
            run_grid(db, title + ": one change at a time from the previous defaults",
                     source, user, item, fixed + common, GRID, PREVIOUS)
        run_grid(db, title + ": the chosen defaults and their neighbours",
                 source, user, item, fixed + common, CHOSEN)
        if source == "ratings":
            print("\nNearest neighbours of the 30 most rated movies (models trained on all ratings):")
            rare_neighbours(db, source, user, item, fixed + common,
                            [PREVIOUS, [], ["epochs=20"], ["negative=10"], ["epochs=20", "negative=10"]])
    return 0


if __name__ == "__main__":
    sys.exit(main())
