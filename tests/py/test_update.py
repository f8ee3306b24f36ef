"""tests/py/test_update.py: item2vec_train(..., 'update=1') continues a stored
model on new interactions.

Data: planted clusters.  Items belong to clusters; each event picks a user,
and the user picks an item of their own cluster (or, now and then, any item).
Events come in time order; some items of every cluster ("late" items) only
appear in the second half.  Checks:
  - a model trained on the first half and updated on the second reaches at
    least 0.95x the cluster purity of a model trained on everything at once;
  - late items, which only the update saw, get neighbours from their cluster,
    and early items, which only the first half had, keep theirs;
  - items the update's source does not mention keep both stored vectors
    (the update starts from the stored model, it does not retrain);
  - stored_rate: 0 freezes the stored vectors and still places new items;
    the default keeps unseen items in their cluster better than 1, which
    lets stored items move as fast as their share of new occurrences;
  - an interrupted update leaves the stored model as it was;
  - an update with workers=1 and a fixed seed is bit-identical on every run,
    and a different seed gives different vectors.
Run with /usr/bin/python3 (it loads the extension); I2V_LIB names the library.
"""
import os
import random
import sqlite3
import sys
import threading

import numpy as np

LIB = os.environ.get("I2V_LIB", "./item2vec")
CLUSTERS, PER_CLUSTER = 12, 30
EARLY, LATE = 5, 5      # items per cluster seen only in the first / second half
USERS, EVENTS, NOISE = 600, 16000, 0.2
COMMON = ["vector_size=24", "window=5", "negative=5", "epochs=5", "workers=1"]

failures = 0


def report(ok, name, why=""):
    global failures
    if ok:
        print(f"ok - {name}")
    else:
        failures += 1
        print(f"not ok - {name}: {why}")


def cluster_of(item):
    return item // PER_CLUSTER


def is_late(item):
    return item % PER_CLUSTER >= PER_CLUSTER - LATE


def is_early(item):
    return item % PER_CLUSTER < EARLY


def make_events(seed=11):
    rng = random.Random(seed)
    home = [rng.randrange(CLUSTERS) for _ in range(USERS)]
    events = []
    for t in range(EVENTS):
        u = rng.randrange(USERS)
        second = t >= EVENTS // 2
        while True:
            if rng.random() < NOISE:
                item = rng.randrange(CLUSTERS * PER_CLUSTER)
            else:
                item = home[u] * PER_CLUSTER + rng.randrange(PER_CLUSTER)
            if not (is_late(item) and not second) and not (is_early(item) and second):
                break
        events.append((u, item, t))
    return events


def connect(events):
    db = sqlite3.connect(":memory:")
    db.enable_load_extension(True)
    db.load_extension(LIB)
    db.execute("CREATE TABLE events(userId INTEGER, itemId INTEGER, ts INTEGER)")
    db.executemany("INSERT INTO events VALUES (?,?,?)", events)
    db.execute(f"CREATE VIEW first_half AS SELECT * FROM events WHERE ts < {EVENTS // 2}")
    db.execute(f"CREATE VIEW second_half AS SELECT * FROM events WHERE ts >= {EVENTS // 2}")
    return db


def train(db, source, *opts):
    args = [source, "userId", "itemId", "order_by=ts", *opts]
    marks = ",".join("?" * len(args))
    return db.execute(f"SELECT item2vec_train({marks})", args).fetchone()[0]


def vectors(db, model, table="item2vec_vectors"):
    rows = db.execute(f"SELECT item, vector FROM {table} WHERE model = ? ORDER BY item",
                      (model,)).fetchall()
    return {item: blob for item, blob in rows}


def purity(vecs, items, k=10):
    """Mean share of each item's k nearest neighbours in its own cluster."""
    keys = sorted(vecs)
    m = np.stack([np.frombuffer(vecs[i], dtype="<f4") for i in keys])
    m = m / np.linalg.norm(m, axis=1, keepdims=True)
    sim = m @ m.T
    np.fill_diagonal(sim, -np.inf)
    pos = {item: n for n, item in enumerate(keys)}
    clusters = np.array([cluster_of(i) for i in keys])
    shares = []
    for item in items:
        top = np.argsort(-sim[pos[item]])[:k]
        shares.append(np.mean(clusters[top] == cluster_of(item)))
    return float(np.mean(shares))


def main():
    if not os.path.exists(LIB + ".so") and not os.path.exists(LIB + ".dylib"):
        print(f"skip - update: no library at {LIB} (run make)")
        return
    events = make_events()
    db = connect(events)
    every = list(range(CLUSTERS * PER_CLUSTER))
    late = [i for i in every if is_late(i)]

    train(db, "events", "model=full", "seed=5", *COMMON)
    train(db, "first_half", "model=inc", "seed=5", "save_context=1", *COMMON)
    base = vectors(db, "inc")
    report(not any(i in base for i in late), "the first half has no late items",
           f"{sum(i in base for i in late)} late items in the base model")
    summary = train(db, "second_half", "model=inc", "update=1", "seed=5", "workers=1")
    updated = vectors(db, "inc")
    report(all(i in updated for i in every), "the update adds the items only it has seen",
           f"{len(updated)} of {len(every)} items in the updated model")
    report('"new_items":%d' % len(late) in summary, "the summary counts the new items",
           summary)

    full = vectors(db, "full")
    p_full, p_upd = purity(full, every), purity(updated, every)
    report(p_full >= 0.8, f"full retrain finds the clusters (purity {p_full:.3f})",
           "the data is too hard for the comparison to mean anything")
    report(p_upd >= 0.95 * p_full,
           f"update reaches 0.95x the purity of a full retrain ({p_upd:.3f} vs {p_full:.3f})",
           f"{p_upd:.3f} < 0.95 x {p_full:.3f}")
    early = [i for i in every if is_early(i)]
    p_early = purity(updated, early)
    report(p_early >= 0.9, f"items the update did not see keep their cluster (purity {p_early:.3f})",
           f"purity of first-half-only items {p_early:.3f}")
    p_late = purity(updated, late)
    report(p_late >= 0.8, f"late items have neighbours in their cluster (purity {p_late:.3f})",
           f"purity of late items {p_late:.3f}")
    probe = late[0]
    rows = db.execute("SELECT item FROM similar_items(?, 5, 'inc')", (probe,)).fetchall()
    own = sum(cluster_of(r[0]) == cluster_of(probe) for r in rows)
    report(own >= 4, f"similar_items of a late item: {own} of 5 in its cluster",
           f"neighbours {[r[0] for r in rows]}")

    # Continue, not restart: a tiny update touches only the items it mentions.
    db.execute("CREATE TABLE tiny(userId, itemId, ts)")
    db.executemany("INSERT INTO tiny VALUES (?,?,?)",
                   [(1, 0, 1), (1, 1, 2), (1, 2, 3), (2, 1, 4), (2, 2, 5)])
    before, ctx_before = vectors(db, "inc"), vectors(db, "inc", "item2vec_context")
    train(db, "tiny", "model=inc", "update=1")
    after, ctx_after = vectors(db, "inc"), vectors(db, "inc", "item2vec_context")
    untouched = [i for i in every if i not in (0, 1, 2)]
    same = sum(after[i] == before[i] and ctx_after[i] == ctx_before[i] for i in untouched)
    report(same == len(untouched), "items outside the update keep both stored vectors",
           f"{len(untouched) - same} of {len(untouched)} changed")
    report(all(after[i] != before[i] for i in (0, 1, 2)), "items in the update move",
           "an item of the update kept its vector")
    report(ctx_after.keys() == after.keys(), "context vectors are stored again, one per item",
           "context rows do not match")
    freq = dict(db.execute("SELECT item, frequency FROM item2vec_vectors WHERE model='inc'"))
    counted = sum(1 for u, i, t in events if i == 1)
    report(freq[1] == counted + 2, "frequencies add up over updates",
           f"item 1: {freq[1]}, expected {counted + 2}")

    # An interrupted update leaves the stored model as it was.
    before = vectors(db, "inc")
    timer = threading.Timer(0.15, db.interrupt)
    timer.start()
    try:
        train(db, "events", "model=inc", "update=1", "epochs=200")
        interrupted = False
    except sqlite3.OperationalError as e:
        interrupted = "interrupted" in str(e)
    timer.cancel()
    report(interrupted and vectors(db, "inc") == before,
           "an interrupted update leaves the stored model as it was",
           "not interrupted" if not interrupted else "the stored vectors changed")

    # stored_rate: the default caps how fast stored items move; 1 lets each
    # move at its share of new occurrences (here about half), 0 freezes them.
    scores = {}
    for rate in ("1", "0"):
        train(db, "first_half", "model=r", "seed=5", "save_context=1", *COMMON)
        base_in, base_ctx = vectors(db, "r"), vectors(db, "r", "item2vec_context")
        train(db, "second_half", "model=r", "update=1", "seed=5", f"stored_rate={rate}")
        got = vectors(db, "r")
        scores[rate] = purity(got, early), purity(got, late)
        if rate == "0":
            frozen = all(got[i] == base_in[i] for i in base_in) and \
                all(vectors(db, "r", "item2vec_context")[i] == base_ctx[i] for i in base_ctx)
            report(frozen, "stored_rate=0 leaves every stored vector as it was",
                   "a stored vector changed")
            report(scores["0"][1] >= 0.8,
                   f"stored_rate=0 still places new items (purity {scores['0'][1]:.3f})",
                   f"purity of late items {scores['0'][1]:.3f}")
    report(p_early >= scores["1"][0],
           f"the default stored_rate keeps unseen items better than 1 "
           f"({p_early:.3f} vs {scores['1'][0]:.3f})", "stored_rate=1 did better")
    db.close()

    # Bit-reproducible: the same update in two databases, workers=1, seed fixed.
    def run(seed):
        d = connect(events)
        train(d, "first_half", "model=m", "seed=3", "save_context=1", *COMMON)
        train(d, "second_half", "model=m", "update=1", f"seed={seed}", "workers=1")
        out = (vectors(d, "m"), vectors(d, "m", "item2vec_context"))
        d.close()
        return out
    a, b, c = run(9), run(9), run(10)
    report(a == b, "an update with workers=1 and a fixed seed is bit-identical",
           "two runs differ")
    report(a[0] != c[0], "a different seed gives a different update", "seed has no effect")


if __name__ == "__main__":
    main()
    sys.exit(1 if failures else 0)
