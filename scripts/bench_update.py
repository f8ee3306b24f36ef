#!/usr/bin/python3
"""scripts/bench_update.py: the time of an update on 10% new events against
a full retrain, for `make bench`.

The events are sorted by time.  A model trained (with save_context=1) on the
first 90% is updated with 'update=1' on the last 10%; a second model is
trained from scratch on all of them.  Printed: both times, and how close the
updated model is to the full retrain: the mean overlap of the 10 nearest
neighbours of the most frequent items, next to the same overlap for the model
before the update and for a second full retrain that differs only in its
seed (about the best an update can hope for).

Data, first match wins: ML_DIR (extracted MovieLens small), ML_ZIP (its zip),
else generated planted-cluster events (I2V_BENCH_EVENTS of them, 200000 by
default).  I2V_LIB names the library (default ./item2vec); I2V_BENCH_OPTS adds
training options (comma-separated, e.g. "workers=1,epochs=10").
Run with /usr/bin/python3, which can load SQLite extensions.
"""
import csv
import io
import json
import os
import random
import sqlite3
import sys
import time
import zipfile

import numpy as np

LIB = os.environ.get("I2V_LIB", "./item2vec")
OPTS = ["vector_size=32", "window=10", "negative=10", "epochs=5"]
OPTS += [o for o in os.environ.get("I2V_BENCH_OPTS", "").split(",") if o]
NEW_SHARE = 0.10
TOP_ITEMS, K = 500, 10


def movielens():
    """(user, item, time) rows of MovieLens small, or None without it."""
    ml_dir, ml_zip = os.environ.get("ML_DIR"), os.environ.get("ML_ZIP")
    if ml_dir and os.path.exists(os.path.join(ml_dir, "ratings.csv")):
        with open(os.path.join(ml_dir, "ratings.csv"), newline="") as f:
            return "MovieLens small (ML_DIR)", read_ratings(f)
    if ml_zip and os.path.exists(ml_zip):
        with zipfile.ZipFile(ml_zip) as z:
            name = next(n for n in z.namelist() if n.endswith("/ratings.csv"))
            with z.open(name) as raw:
                return "MovieLens small (ML_ZIP)", read_ratings(io.TextIOWrapper(raw, "utf-8"))
    return None


def read_ratings(f):
    return [(int(r["userId"]), int(r["movieId"]), int(r["timestamp"]))
            for r in csv.DictReader(f)]


def generated(n):
    """Planted clusters: 2000 users, 5000 items in 50 clusters, 10% noise."""
    rng = random.Random(7)
    users, items, clusters = 2000, 5000, 50
    home = [rng.randrange(clusters) for _ in range(users)]
    per = items // clusters
    rows = []
    for t in range(n):
        u = rng.randrange(users)
        if rng.random() < 0.1:
            it = rng.randrange(items)
        else:
            it = home[u] * per + min(int(rng.expovariate(1 / 20)), per - 1)
        rows.append((u, it, t))
    return f"generated planted clusters ({n} events)", rows


def train(db, source, *opts):
    args = [source, "userId", "itemId", "order_by=ts", "verbose=0", *OPTS, *opts]
    t0 = time.perf_counter()
    out = db.execute(f"SELECT item2vec_train({','.join('?' * len(args))})", args).fetchone()[0]
    return time.perf_counter() - t0, json.loads(out)


def neighbours(db, model, items):
    rows = db.execute("SELECT item, vector FROM item2vec_vectors WHERE model = ?",
                      (model,)).fetchall()
    keys = [r[0] for r in rows]
    m = np.stack([np.frombuffer(r[1], dtype="<f4") for r in rows])
    m = m / np.linalg.norm(m, axis=1, keepdims=True)
    pos = {k: i for i, k in enumerate(keys)}
    idx = [pos[i] for i in items]
    sim = m[idx] @ m.T
    sim[np.arange(len(idx)), idx] = -np.inf
    top = np.argsort(-sim, axis=1)[:, :K]
    return {item: {keys[j] for j in row} for item, row in zip(items, top)}


def overlap(a, b):
    return float(np.mean([len(a[i] & b[i]) / K for i in a]))


def main():
    if not any(os.path.exists(LIB + s) for s in (".so", ".dylib")):
        sys.exit(f"bench_update: no library at {LIB} (run make)")
    what, rows = movielens() or generated(int(os.environ.get("I2V_BENCH_EVENTS", "200000")))
    rows.sort(key=lambda r: r[2])
    cut = rows[int(len(rows) * (1 - NEW_SHARE))][2]
    db = sqlite3.connect(":memory:")
    db.enable_load_extension(True)
    db.load_extension(LIB)
    db.execute("CREATE TABLE events(userId INTEGER, itemId INTEGER, ts INTEGER)")
    db.executemany("INSERT INTO events VALUES (?,?,?)", rows)
    db.execute(f"CREATE VIEW old_events AS SELECT * FROM events WHERE ts < {cut}")
    db.execute(f"CREATE VIEW new_events AS SELECT * FROM events WHERE ts >= {cut}")
    n_new = db.execute("SELECT count(*) FROM new_events").fetchone()[0]

    t_base, _ = train(db, "old_events", "model=inc", "save_context=1")
    # Keep the model before the update as 'base', for comparison.
    db.execute("INSERT INTO item2vec_vectors SELECT 'base', item, frequency, vector "
               "FROM item2vec_vectors WHERE model = 'inc'")
    t_upd, s_upd = train(db, "new_events", "model=inc", "update=1")
    t_full, s_full = train(db, "events", "model=full")
    _, _ = train(db, "events", "model=full2", "seed=2")

    top = [r[0] for r in db.execute(
        "SELECT item FROM item2vec_vectors AS f WHERE model = 'full' AND EXISTS "
        "(SELECT 1 FROM item2vec_vectors WHERE model = 'base' AND item = f.item) "
        "ORDER BY frequency DESC, item LIMIT ?", (TOP_ITEMS,))]
    full, full2, inc, base = (neighbours(db, m, top) for m in ("full", "full2", "inc", "base"))
    u = s_upd["update"]
    print(f"bench_update: {what}; options {' '.join(OPTS)}; workers {s_full['workers']}")
    print(f"bench_update: full retrain on {len(rows)} events: {t_full:.2f}s "
          f"(train {s_full['train_seconds']:.2f}s)")
    print(f"bench_update: update on the last {n_new} events ({NEW_SHARE:.0%}): {t_upd:.2f}s "
          f"(train {s_upd['train_seconds']:.2f}s), {t_full / t_upd:.1f}x faster; "
          f"{u['seen_items']} of {u['stored_items']} items seen, {u['new_items']} new")
    print(f"bench_update: (base model on the first {len(rows) - n_new} events: {t_base:.2f}s)")
    print(f"bench_update: top-{K} neighbour overlap with the full retrain, "
          f"{len(top)} most frequent items: update {overlap(inc, full):.3f}, "
          f"no update {overlap(base, full):.3f}, "
          f"full retrain with another seed {overlap(full2, full):.3f}")


if __name__ == "__main__":
    main()
