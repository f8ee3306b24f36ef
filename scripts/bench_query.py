#!/usr/bin/python3
"""bench_query.py: how fast similar_items answers, in Markdown tables.

Run by `make bench` (scripts/bench.sh), or alone from the repository root:
    /usr/bin/python3 scripts/bench_query.py [--quick] [--no-ann] [--queries N]

Tables:
  1. Exact search: model load time, then the median and 99th percentile
     latency of 200 random one-item queries (top 10) through Python's
     sqlite3, against gensim's KeyedVectors.most_similar, faiss's IndexFlatIP
     and sqlite-vec's vec0 on the same vectors (queries interleaved, so all
     see the same machine load) and against the plain-SQL baseline
         SELECT item FROM item2vec_vectors WHERE model = 'default' AND item <> ?
          ORDER BY item2vec_similarity(item, ?) DESC LIMIT 10
     (fewer queries at the larger sizes: it scans the table through SQL).
     Sizes 10k x 32, 100k x 64, 1M x 64 random unit vectors (--exact-sizes).
  2. Approximate search (item2vec_index) and its peers, at each of
     --ann-sizes (10k, 100k, 1M) x 64 random and clustered unit vectors:
     build time, index size, recall at 10 against the exact scan, latency,
     and the speed-up over the exact scan; then on the same vectors, query
     items and threads gensim, faiss (IndexFlatIP; IndexHNSWFlat up to
     BENCH_FAISS_HNSW_MAX items), hnswlib and sqlite-vec, the graphs at
     item2vec_index's M, ef_construction and ef (scripts/bench_peers.py; a
     peer that is not installed is skipped and named).
  3. Batch: every MovieLens user's top 10 from their 5 latest ratings, all
     they rated excluded, in one statement (needs ML_DIR=/path/to/ml-latest-small).

--quick runs the exact table at 10k and 100k only, the approximate one at
10k on random vectors only.  --json FILE keeps every measurement (scripts/bench_scaling.py draws
its query and build panels from it).  Numbers are wall-clock on whatever
else the machine is doing: compare rows of one run, not runs.
"""

import argparse
import csv
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time

import numpy as np

LIB = os.environ.get("I2V_LIB", "./item2vec")
SCHEMA = """
CREATE TABLE IF NOT EXISTS item2vec_models(name TEXT PRIMARY KEY, dim INTEGER NOT NULL,
  items INTEGER NOT NULL, source TEXT, params TEXT, stats TEXT, created_at TEXT);
CREATE TABLE IF NOT EXISTS item2vec_vectors(model TEXT NOT NULL, item, frequency INTEGER NOT NULL,
  vector BLOB NOT NULL, PRIMARY KEY (model, item)) WITHOUT ROWID;
"""

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_peers  # noqa: E402  (the other libraries, each behind an "installed?" guard)


def connect(path):
    conn = sqlite3.connect(path, isolation_level=None)
    conn.enable_load_extension(True)
    conn.load_extension(LIB)
    conn.enable_load_extension(False)
    return conn


def unit_rows(n, dim, kind, seed):
    """n unit vectors: 'random' (isotropic Gaussian) or 'clustered' (a
    Gaussian mixture: 1000 centres of Zipf-like sizes, spread about as wide
    as the distance between centres)."""
    rng = np.random.default_rng(seed)
    if kind == "random":
        v = rng.standard_normal((n, dim), dtype=np.float32)
    else:
        centres = rng.standard_normal((1000, dim), dtype=np.float32)
        weights = 1.0 / np.arange(1, 1001)
        which = rng.choice(1000, size=n, p=weights / weights.sum())
        v = centres[which] + 0.8 * rng.standard_normal((n, dim), dtype=np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return v


def store(path, vectors, model="default"):
    """Write vectors as model `model` (items 0..n-1) into a new database."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(SCHEMA)
    n, dim = vectors.shape
    raw = vectors.astype("<f4").tobytes()
    width = 4 * dim
    conn.execute("BEGIN")
    conn.execute("INSERT INTO item2vec_models(name, dim, items) VALUES (?, ?, ?)", (model, dim, n))
    conn.executemany("INSERT INTO item2vec_vectors VALUES (?, ?, 1, ?)",
                     ((model, i, raw[i * width:(i + 1) * width]) for i in range(n)))
    conn.execute("COMMIT")
    conn.close()


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def us(x):
    """A duration with its unit: µs below 10 ms, then ms, then s."""
    return "%.0f µs" % (x * 1e6) if x < 0.01 else "%.1f ms" % (x * 1e3) if x < 10 else "%.1f s" % x


def times(x):
    """A ratio: 0.25x, 3.4x, 12x."""
    return "%.2fx" % x if x < 1 else "%.1fx" % x if x < 10 else "%.0fx" % x


def secs(x):
    return "%.2f s" % x if x < 1 else "%.1f s" % x if x < 10 else "%.0f s" % x


def timed(fn):
    t = time.perf_counter()
    r = fn()
    return time.perf_counter() - t, r


def exact_table(sizes, nq, tmp, results=None):
    print("### Exact search: one-item top 10, %d random queries\n" % nq)
    print("| model | load | similar_items median | p99 | gensim most_similar median | p99 "
          "| vs gensim | faiss IndexFlatIP median | sqlite-vec median | plain SQL median (queries) "
          "| vs SQL |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    skipped = {}
    for n, dim in sizes:
        vec = unit_rows(n, dim, "random", seed=n + dim)
        path = os.path.join(tmp, "exact_%d_%d.db" % (n, dim))
        store(path, vec)
        conn = connect(path)
        load, _ = timed(lambda: conn.execute("SELECT item2vec_similarity(0, 1)").fetchone())
        rng = random.Random(n)
        queries = [rng.randrange(n) for _ in range(nq)]
        cur = conn.cursor()
        sql = "SELECT item, similarity FROM similar_items(?, 10)"
        cur.execute(sql, (queries[0],)).fetchall()
        peers = []
        for name in bench_peers.EXACT:
            peer, why = bench_peers.make(name, vec, 2)
            if peer is None:
                skipped[name] = why
                continue
            peer.build()
            peer.query(queries[0], 10)
            peers.append(peer)
        # Queries interleaved, so every library sees the same machine load.
        ours, theirs = [], {p.name: [] for p in peers}
        for q in queries:
            ours.append(timed(lambda: cur.execute(sql, (q,)).fetchall())[0])
            for p in peers:
                theirs[p.name].append(timed(lambda: p.query(q, 10))[0])
        for p in peers:
            p.close()
        nsql = max(2, min(nq, 2000000 // n))
        plain = [timed(lambda: conn.execute(
            "SELECT item FROM item2vec_vectors WHERE model = 'default' AND item <> ?1 "
            "ORDER BY item2vec_similarity(item, ?1) DESC LIMIT 10", (q,)).fetchall())[0]
            for q in queries[:nsql]]
        om, op = statistics.median(ours), pct(ours, 99)
        med = {k: statistics.median(v) for k, v in theirs.items()}
        gm = med.get("gensim")
        pm = statistics.median(plain)
        if results is not None:
            results.setdefault("exact", []).append(dict(
                n=n, dim=dim, load=load, item2vec=om, item2vec_p99=op, plain_sql=pm, **med))
        na = lambda name: us(med[name]) if name in med else "n/a"
        print("| %s x %d | %.2f s | %s | %s | %s | %s | %s | %s | %s | %s (%d) | %.0fx |" % (
            "{:,}".format(n), dim, load, us(om), us(op),
            na("gensim"), us(pct(theirs["gensim"], 99)) if gm else "n/a",
            ("%.1fx" % (gm / om)) if gm else "n/a", na("faiss-flat"), na("sqlite-vec"),
            us(pm), nsql, pm / om))
        sys.stdout.flush()
        conn.close()
        os.remove(path)
    print()
    for name, why in skipped.items():
        print("(%s skipped: %s)" % (name, why))
    if skipped:
        print()


def ann_table(sizes, dim, nq, tmp, kinds=("random", "clustered"), opts=(), widths=(16, 32, 64, 128, 256),
              results=None):
    """item2vec_index against the exact scan, then the peers (scripts/bench_peers.py)
    on the same vectors, the same query items and the same threads, at each size."""
    for n in sizes:
        ann_size(n, dim, nq, tmp, kinds, opts, widths, results)


def ann_size(n, dim, nq, tmp, kinds, opts, widths, results):
    print("### Approximate search (item2vec_index, HNSW) and its peers: %s x %d, %d random "
          "queries\n" % ("{:,}".format(n), dim, nq))
    print("Query `item`: one item's id, as `similar_items(id, 10)` (a peer: the item's vector, "
          "the item itself left out); query `2 items`: a JSON array of two random items "
          "(their mean, which is not an item of the model; by default such queries search "
          "4 times `ef_search` wide). Recall against item2vec's exact scan.\n")
    print("| library | vectors | build | threads | index size | query | ef | recall@10 | median "
          "| p99 | exact scan median | speed-up |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    skipped = {}
    for kind in kinds:
        vec = unit_rows(n, dim, kind, seed=7 + len(kind))
        path = os.path.join(tmp, "ann_%s.db" % kind)
        store(path, vec)
        conn = connect(path)
        args = ", ".join(["'default'", "'verbose=0'"] + ["'%s'" % o for o in opts])
        build, summary = timed(lambda: conn.execute("SELECT item2vec_index(%s)" % args).fetchone()[0])
        info = dict(conn.execute("SELECT key, value FROM json_each(?)", (summary,)).fetchall())
        conn.close()
        conn = connect(path)  # a fresh connection: the index is read back from the table
        cur = conn.cursor()
        rng = random.Random(n + 1)
        items = [rng.randrange(n) for _ in range(nq)]
        pairs = ["[%d, %d]" % (rng.randrange(n), rng.randrange(n)) for _ in range(nq)]
        cur.execute("SELECT item FROM similar_items(?, 10)", (items[0],)).fetchall()
        threads = info.get("threads") or 2
        M, efc, efs = info.get("M", 48), info.get("ef_construction", 400), info.get("ef_search", 64)
        record = lambda **kw: results is not None and results.setdefault("ann", []).append(
            dict(n=n, dim=dim, kind=kind, threads=threads, **kw))
        truth_items = None
        for label, queries, efl in (("item", items, (None,) + tuple(widths)),
                                    ("2 items", pairs, (None, 64))):
            exact, truth = [], {}
            for q in queries:
                t, rows = timed(lambda: cur.execute(
                    "SELECT item FROM similar_items(?, 10) WHERE exact = 1", (q,)).fetchall())
                exact.append(t)
                truth[q] = set(r[0] for r in rows)
            em = statistics.median(exact)
            if label == "item":
                truth_items, exact_items = truth, em
                record(library="item2vec", exact=True, build=None, ef=None, recall=1.0,
                       median=em, p99=pct(exact, 99))
            for ef in efl:
                lat, hits = [], 0
                for q in queries:
                    if ef is None:
                        t, rows = timed(lambda: cur.execute(
                            "SELECT item FROM similar_items(?, 10)", (q,)).fetchall())
                    else:
                        t, rows = timed(lambda: cur.execute(
                            "SELECT item FROM similar_items(?, 10) WHERE ef = ?", (q, ef)).fetchall())
                    lat.append(t)
                    hits += len(truth[q] & set(r[0] for r in rows))
                am = statistics.median(lat)
                eff = efs * (1 if label == "item" else 4) if ef is None else ef
                if label == "item":
                    record(library="item2vec_index", exact=False, build=build, ef=eff,
                           recall=hits / (10.0 * len(queries)), median=am, p99=pct(lat, 99))
                print("| item2vec | %s | %s | %s | %.0f MB | %s | %s | %.3f | %s | %s | %s | %s |" % (
                    kind, secs(build), threads, info.get("bytes", 0) / 1e6, label,
                    ("%s (default)" % eff) if ef is None else ef,
                    hits / (10.0 * len(queries)), us(am), us(pct(lat, 99)), us(em), times(em / am)))
                sys.stdout.flush()
        conn.close()
        os.remove(path)
        for name in bench_peers.EXACT + bench_peers.GRAPHS:
            peer, why = bench_peers.make(name, vec, threads, M, efc)
            if peer is None:
                skipped[name] = why
                continue
            pbuild = peer.build()
            peer.query(items[0], 10)
            for ef in ((None,) if peer.exact else (efs,) + tuple(w for w in widths if w != efs)):
                if ef is not None:
                    peer.set_ef(ef)
                lat, hits = [], 0
                for q in items:
                    t, got = timed(lambda: peer.query(q, 10))
                    lat.append(t)
                    hits += len(truth_items[q] & set(got))
                am = statistics.median(lat)
                recall = hits / (10.0 * len(items))
                record(library=name, exact=peer.exact, build=pbuild, ef=ef, recall=recall,
                       median=am, p99=pct(lat, 99), version=peer.version)
                print("| %s | %s | %s | %s | - | item | %s | %.3f | %s | %s | %s | %s |" % (
                    peer.version, kind, secs(pbuild),
                    threads if not peer.exact else 1,
                    "exact" if ef is None else ("%d (default)" % ef if ef == efs else ef),
                    recall, us(am), us(pct(lat, 99)), us(exact_items), times(exact_items / am)))
                sys.stdout.flush()
            peer.close()
            del peer
        del vec
    print()
    for name, why in skipped.items():
        print("(%s skipped: %s)" % (name, why))
    if skipped:
        print()
    print("Peers at item2vec_index's M=%s, ef_construction=%s and ef; build threads as item2vec's; "
          "every query runs on one thread from Python, one at a time. Build: item2vec_index's "
          "whole statement; a peer's index from numpy rows already in memory (sqlite-vec: "
          "inserting the rows into vec0). Speed-up: item2vec's exact scan median over the row's "
          "median.\n" % (M, efc))


def batch_table(tmp):
    ml = os.environ.get("ML_DIR")
    print("### Batch: every MovieLens user's top 10 from their 5 latest ratings, everything they "
          "rated excluded, one statement\n")
    if not ml or not os.path.exists(os.path.join(ml, "ratings.csv")):
        print("(skipped: set ML_DIR to the extracted ml-latest-small directory)\n")
        return
    path = os.path.join(tmp, "ml.db")
    conn = connect(path)
    conn.execute("CREATE TABLE ratings(userId INTEGER, movieId INTEGER, rating REAL, timestamp INTEGER)")
    with open(os.path.join(ml, "ratings.csv"), newline="") as f:
        r = csv.reader(f)
        next(r)
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO ratings VALUES (?, ?, ?, ?)",
                         ((int(a), int(b), float(c), int(d)) for a, b, c, d in r))
        conn.execute("COMMIT")
    conn.execute("SELECT item2vec_train('ratings', 'userId', 'movieId', 'order_by=timestamp', "
                 "'vector_size=32', 'window=10', 'negative=20', 'epochs=5', 'verbose=0')").fetchone()
    users = conn.execute("SELECT count(DISTINCT userId) FROM ratings").fetchone()[0]
    # Each user: the 5 most recent ratings are the query, everything rated is
    # left out.
    stmt = ("WITH h AS (SELECT userId, movieId, row_number() OVER "
            "(PARTITION BY userId ORDER BY timestamp DESC, movieId) AS rn FROM ratings) "
            "SELECT u.userId, s.rank, s.item FROM "
            "(SELECT userId, json_group_array(movieId) FILTER (WHERE rn <= 5) AS recent, "
            "json_group_array(movieId) AS seen FROM h GROUP BY userId) AS u, "
            "similar_items(u.recent, 10, 'default', u.seen) AS s")
    conn.execute("SELECT * FROM similar_items(1, 1)").fetchall()  # model loaded
    t, rows = timed(lambda: conn.execute(stmt).fetchall())
    seen = {}
    for u, m in conn.execute("SELECT userId, movieId FROM ratings"):
        seen.setdefault(u, set()).add(m)
    leaked = sum(1 for u, _, m in rows if m in seen[u])
    # The same without exclude, as users otherwise write it: top 10, then
    # drop what they saw.
    t2, rows2 = timed(lambda: conn.execute(stmt.replace(", 'default', u.seen)", ")")).fetchall())
    kept = sum(1 for u, _, m in rows2 if m not in seen[u])
    print("| users | rows | seconds | per user | seen items returned | "
          "rows left when filtering after the top 10 |")
    print("|---|---|---|---|---|---|")
    print("| %d | %d | %.3f s | %s | %d | %d of %d (%.3f s) |\n" % (
        users, len(rows), t, us(t / users), leaked, kept, len(rows2), t2))
    conn.close()
    os.remove(path)


def sizes_arg(text):
    """'10000,100000' -> [10000, 100000]; '10000x32,100000x64' -> [(10000, 32), ...]."""
    out = []
    for part in filter(None, text.split(",")):
        if "x" in part:
            n, d = part.split("x")
            out.append((int(n), int(d)))
        else:
            out.append(int(part))
    return out


def peer_versions():
    """One line naming each peer's version, or that it is missing."""
    probe = np.zeros((2, 4), dtype=np.float32)
    probe[:, 0] = 1
    names = []
    for name in ("gensim", "faiss-flat", "hnswlib", "sqlite-vec"):
        peer, why = bench_peers.make(name, probe, 1)
        names.append(peer.version.split(" ")[0] + " " + peer.version.split(" ")[1] if peer
                     else "%s: %s" % (name.split("-")[0], why))
        if peer:
            peer.close()
    return "; ".join(names)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="exact at 10k and 100k only; the index and its peers at 10k, random vectors")
    ap.add_argument("--no-ann", action="store_true", help="skip the approximate-search table")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--batch-only", action="store_true", help="only the MovieLens batch table")
    ap.add_argument("--ann-only", action="store_true", help="only the approximate-search table")
    ap.add_argument("--ann-sizes", "--ann-size", type=sizes_arg, default=None,
                    help="items of the approximate tables, comma list (10000,100000,1000000; "
                    "--quick: 10000)")
    ap.add_argument("--ann-kinds", default=None,
                    help="vectors of the approximate tables: random,clustered (--quick: random)")
    ap.add_argument("--exact-sizes", type=sizes_arg, default=None,
                    help="models of the exact table, e.g. 10000x32,100000x64")
    ap.add_argument("--ann-option", action="append", default=[],
                    help="an item2vec_index option for the table, e.g. M=32 (repeatable)")
    ap.add_argument("--json", help="also write every measurement to this file "
                    "(scripts/bench_scaling.py draws the query and build panels from it)")
    a = ap.parse_args()
    ann_sizes = a.ann_sizes or ([10000] if a.quick else [10000, 100000, 1000000])
    kinds = tuple((a.ann_kinds or ("random" if a.quick else "random,clustered")).split(","))
    results = {"queries": a.queries}
    tmp = tempfile.mkdtemp(prefix="i2v_bench_")
    try:
        if a.batch_only:
            batch_table(tmp)
            return
        if a.ann_only:
            ann_table(ann_sizes, 64, a.queries, tmp, kinds, opts=a.ann_option, results=results)
            return
        sizes = a.exact_sizes or ([(10000, 32), (100000, 64)] + ([] if a.quick else [(1000000, 64)]))
        probe = connect(":memory:")
        print("## similar_items latency (item2vec %s, SQLite %s; %s)\n" % (
            probe.execute("SELECT item2vec_version()").fetchone()[0],
            probe.execute("SELECT sqlite_version()").fetchone()[0], peer_versions()))
        probe.close()
        exact_table(sizes, a.queries, tmp, results)
        if not a.no_ann:
            ann_table(ann_sizes, 64, a.queries, tmp, kinds, opts=a.ann_option, results=results)
        batch_table(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if a.json and (results.get("exact") or results.get("ann")):
            import json
            d = os.path.dirname(os.path.abspath(a.json))
            os.makedirs(d, exist_ok=True)
            with open(a.json, "w") as f:
                json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
