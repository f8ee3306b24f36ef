#!/usr/bin/env python3
"""quality.py: next-item quality of every ranking item2vec offers, against the
popularity and co-occurrence baselines, on MovieLens and on generated data.

Each dataset is measured twice with item2vec_evaluate, default options:
  - validation: the last H items of each user are dropped first, and the
    evaluation holds out the H before them (a split carved from the training
    part: this is where the ranking's weights were chosen);
  - test: the evaluation holds out each user's last H items.
The rankings and both baselines get the same query (query=recommend: the last
3 items) and the same exclusions (seen items, min_frequency).

    /usr/bin/python3 scripts/quality.py                 # generated sets
    ML_DIR=path/to/ml-latest-small /usr/bin/python3 scripts/quality.py
    /usr/bin/python3 scripts/quality.py --json out.json --datasets dense,sparse

Prints a Markdown table (and writes JSON with --json).
"""

import argparse
import csv
import json
import os
import sqlite3
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "py"))
from gen import planted  # noqa: E402

LIB = os.environ.get("I2V_LIB", os.path.join(HERE, "..", "item2vec"))
RANKINGS = ["hybrid", "context_prior", "context", "cosine", "cooccurrence", "popularity"]

# The generated sets (tests/py/gen.py: planted clusters, no order within a
# user's items): name -> (planted() arguments, holdout).
GENERATED = {
    "dense": (dict(clusters=10, per_cluster=50, users=3000, min_items=10, max_items=40,
                   seed=11), 3),
    "dense2": (dict(clusters=20, per_cluster=40, users=4000, min_items=8, max_items=30,
                    seed=21), 3),
    "sparse": (dict(clusters=100, per_cluster=30, users=8000, min_items=3, max_items=12,
                    seed=12), 2),
    "sparse2": (dict(clusters=150, per_cluster=30, users=10000, min_items=3, max_items=12,
                     seed=22), 2),
    "long-tail": (dict(clusters=300, per_cluster=20, users=6000, min_items=3, max_items=10,
                       seed=12), 2),
}


def connect():
    db = sqlite3.connect(":memory:")
    db.enable_load_extension(True)
    db.load_extension(LIB)
    return db


def load_movielens(db, ml_dir):
    db.execute("CREATE TABLE ratings(user, item, ts)")
    with open(os.path.join(ml_dir, "ratings.csv"), newline="") as f:
        r = csv.reader(f)
        next(r)
        db.executemany("INSERT INTO ratings VALUES (?, ?, ?)",
                       ((int(u), int(m), int(t)) for u, m, _, t in r))


def load_generated(db, args):
    data = planted(**args)
    db.execute("CREATE TABLE ratings(user, item, ts)")
    db.executemany("INSERT INTO ratings VALUES (?, ?, ?)", data.rows)


def validation_table(db, holdout):
    """ratings less each user's last `holdout` items (the training part)."""
    db.execute("DROP TABLE IF EXISTS train_part")
    db.execute("""CREATE TABLE train_part AS
                  SELECT user, item, ts FROM (
                    SELECT user, item, ts, row_number() OVER (
                             PARTITION BY user ORDER BY ts DESC, rowid DESC) AS back
                      FROM ratings) WHERE back > ?""", (holdout,))


def evaluate(db, table, holdout, extra=()):
    args = ["order_by=ts", "holdout=%d" % holdout] + list(extra)
    sql = "SELECT item2vec_evaluate(?, 'user', 'item'%s)" % (", ?" * len(args))
    t = time.time()
    r = json.loads(db.execute(sql, [table] + args).fetchone()[0])
    r["wall"] = time.time() - t
    return r


def measure(name, loader, holdout, extra=()):
    db = connect()
    loader(db)
    out = {}
    validation_table(db, holdout)
    out["validation"] = evaluate(db, "train_part", holdout, extra)
    out["test"] = evaluate(db, "ratings", holdout, extra)
    db.close()
    return out


def table(results):
    lines = ["| dataset | split | epochs | ranking | HR@10 | NDCG@10 | coverage | HR vs co-occurrence |",
             "|---|---|---|---|---|---|---|---|"]
    for name, splits in results.items():
        for split, r in splits.items():
            base = r["cooccurrence"]["hr"]
            for rank in RANKINGS:
                m = r[rank]
                ratio = "%.3fx" % (m["hr"] / base) if base else "-"
                lines.append("| %s | %s | %d | %s | %.4f | %.4f | %.3f | %s |" % (
                    name, split, r["epochs"], rank if rank != "hybrid" else "**hybrid** (recommend_items)",
                    m["hr"], m["ndcg"], m["coverage"], ratio))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", default=None,
                    help="comma-separated: movielens, " + ", ".join(GENERATED))
    ap.add_argument("--json", default=None, help="write the figures here")
    ap.add_argument("--option", action="append", default=[],
                    help="an extra item2vec_evaluate option (repeatable)")
    a = ap.parse_args()
    ml = os.environ.get("ML_DIR")
    names = a.datasets.split(",") if a.datasets else (["movielens"] if ml else []) + list(GENERATED)
    results = {}
    for name in names:
        if name == "movielens":
            if not ml:
                print("quality.py: ML_DIR is not set; skipping MovieLens", file=sys.stderr)
                continue
            results[name] = measure(name, lambda db: load_movielens(db, ml), 10, a.option)
        else:
            args, h = GENERATED[name]
            results[name] = measure(name, lambda db: load_generated(db, args), h, a.option)
        r = results[name]["test"]
        print("quality.py: %-10s test hybrid %.4f cooccurrence %.4f (%.3fx), %.1fs" % (
            name, r["hybrid"]["hr"], r["cooccurrence"]["hr"],
            r["hybrid"]["hr"] / max(r["cooccurrence"]["hr"], 1e-9), r["wall"]), file=sys.stderr)
    print(table(results))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
