#!/usr/bin/python3
"""bench/bench.py: item2vec against gensim's Word2Vec, side by side (`make bench`).

Usage (scripts/bench.sh runs it): /usr/bin/python3 bench/bench.py
Environment: ML_DIR (MovieLens small, extracted) or ML_ZIP (its zip), else
../shared/data/ml-latest-small or data/ml-latest-small.zip; BENCH_QUICK=1
(skip the 10M and 25M rows); BENCH_SEEDS (runs per row, 3; the 10M row runs
one); BENCH_DIR (scratch databases, build/bench); I2V_LIB (the extension
without suffix, ./item2vec); BENCH_GEN (the generator, build/bench_gen);
BENCH_ONLY (comma list of rows: ml-sg, ml-cbow, c1m, c10m, g25m);
BENCH_GENSIM=0 (item2vec alone).  Subcommands, for the child processes and
for tuning: `item2vec DB TABLE LIB opt...`, `gensim DB TABLE VECTORS opt...`,
`dump DB TABLE FILE` (a corpus file for build/bench_trainer).

How it works.  Every corpus is first written to a SQLite table whose rowid
order is the sequence order (MovieLens: each user's ratings by timestamp, ties
kept in file order; generated corpora: written that way by bench_gen), so both
sides read exactly the same sequences: item2vec through item2vec_train on the
table, gensim from `SELECT user, item ... ORDER BY rowid`.  Each training run
is its own child process (this script run with a subcommand), so the peak
resident memory of one side, its own VmHWM, includes nothing of the
other.  Training time is gensim's train() call against item2vec's
train_seconds (neither counts reading nor building the vocabulary); items per
second is the corpus's tokens times epochs over that time.  The vectors of
both are then scored by the same numpy code: next-item hit rate at 10 on
MovieLens (each user's last 10 ratings held out of training, each predicted
from the one before it, items the user has already seen left out) and
cluster purity at 10 on the generated corpora (share of an item's 10 nearest
items that are in its planted cluster).
"""
import json
import os
import platform
import sqlite3
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


# ---------------------------------------------------------------- children --

def peak_rss():
    """This process's peak resident memory in bytes.  VmHWM belongs to the
    process's own address space; ru_maxrss would also count the parent's
    memory at the fork that started this process."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r if sys.platform == "darwin" else r * 1024


def child_item2vec(db, table, opts, lib):
    """Train with item2vec; print its JSON summary (no numpy imported here)."""
    con = sqlite3.connect(db)
    con.enable_load_extension(True)
    con.load_extension(lib)
    args = ", ".join("?" for _ in opts)
    t0 = time.perf_counter()
    row = con.execute(
        "SELECT item2vec_train(?, 'user', 'item'%s)" % (", " + args if opts else ""),
        [table] + list(opts)).fetchone()
    con.commit()
    wall = time.perf_counter() - t0
    out = json.loads(row[0])
    out["wall_seconds"] = wall
    out["peak_rss"] = peak_rss()
    import resource
    ru = resource.getrusage(resource.RUSAGE_SELF)
    out["cpu_seconds"] = ru.ru_utime + ru.ru_stime
    print(json.dumps(out))


def child_gensim(db, table, opts, vec_out):
    """Train with gensim on the same sequences; save vectors; print timings."""
    import numpy as np
    from gensim.models import Word2Vec
    kw = {}
    for o in opts:
        k, v = o.split("=", 1)
        kw[k] = float(v) if "." in v or "e-" in v else int(v)
    seed = kw.pop("seed", 1)
    t0 = time.perf_counter()
    con = sqlite3.connect(db)
    names = {}
    seqs = []
    cur_user, cur = None, None
    for user, item in con.execute(
            'SELECT user, item FROM "%s" ORDER BY rowid' % table.replace('"', '""')):
        if user != cur_user:
            cur = []
            seqs.append(cur)
            cur_user = user
        s = names.get(item)
        if s is None:
            s = names[item] = str(item)
        cur.append(s)
    con.close()
    seqs = [s for s in seqs if len(s) >= 2]
    tokens = sum(len(s) for s in seqs)
    t1 = time.perf_counter()
    model = Word2Vec(seed=seed, **kw)
    model.build_vocab(seqs)
    t2 = time.perf_counter()
    model.train(seqs, total_examples=model.corpus_count, epochs=model.epochs)
    t3 = time.perf_counter()
    np.save(vec_out + ".npy", model.wv.vectors)
    with open(vec_out + ".json", "w") as f:
        json.dump(list(model.wv.index_to_key), f)
    print(json.dumps({"read_seconds": t1 - t0, "vocab_seconds": t2 - t1,
                      "train_seconds": t3 - t2, "tokens": tokens,
                      "items": len(model.wv.index_to_key), "peak_rss": peak_rss()}))


def dump_corpus(db, table, path):
    """Write the table's sequences in bench/trainer.c's format."""
    import struct
    from array import array
    con = sqlite3.connect(db)
    seqs, cur_user, cur, counts, first = [], None, None, {}, {}
    for user, item in con.execute(
            'SELECT user, item FROM "%s" ORDER BY rowid' % table.replace('"', '""')):
        if user != cur_user:
            cur = []
            seqs.append(cur)
            cur_user = user
        cur.append(item)
        counts[item] = counts.get(item, 0) + 1
        first.setdefault(item, len(first))
    con.close()
    order = sorted(counts, key=lambda k: (-counts[k], first[k]))
    index = {k: i for i, k in enumerate(order)}
    seqs = [s for s in seqs if len(s) >= 2]
    starts, tokens = array("Q", [0]), array("I")
    for s in seqs:
        tokens.extend(index[k] for k in s)
        starts.append(len(tokens))
    with open(path, "wb") as f:
        f.write(struct.pack("<3Q", len(order), len(seqs), len(tokens)))
        f.write(array("Q", [counts[k] for k in order]).tobytes())
        f.write(starts.tobytes())
        f.write(tokens.tobytes())


# ------------------------------------------------------------------ parent --

def run_child(args):
    """Run this script as a child; return (its JSON line, its peak RSS in bytes)."""
    p = subprocess.Popen([sys.executable, os.path.abspath(__file__)] + args,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = p.stdout.read()
    err = p.stderr.read()
    p.wait()
    if p.returncode != 0:
        raise RuntimeError("child %s failed (%d): %s" % (args[0], p.returncode,
                                                        err.decode()[-2000:]))
    lines = [l for l in out.decode().splitlines() if l.startswith("{")]
    js = json.loads(lines[-1])
    return js, js["peak_rss"]


def load_item2vec_vectors(db, model):
    import numpy as np
    con = sqlite3.connect(db)
    keys, rows = [], []
    for item, blob in con.execute(
            "SELECT item, vector FROM item2vec_vectors WHERE model = ?", (model,)):
        keys.append(str(item))
        rows.append(np.frombuffer(blob, dtype="<f4"))
    con.close()
    return keys, np.vstack(rows)


def load_gensim_vectors(path):
    import numpy as np
    with open(path + ".json") as f:
        keys = json.load(f)
    return keys, np.load(path + ".npy")


def unit_rows(m):
    import numpy as np
    n = np.linalg.norm(m, axis=1, keepdims=True)
    n[n == 0] = 1
    return (m / n).astype(np.float32)


def hit_rate(keys, vecs, split, k=10):
    """Next-item hit rate at k over the held-out steps of split."""
    import numpy as np
    index = {key: i for i, key in enumerate(keys)}
    V = unit_rows(vecs)
    hits = total = 0
    for seen, steps in split:
        seen_idx = [index[s] for s in seen if s in index]
        for query, target in steps:
            total += 1
            qi, ti = index.get(query), index.get(target)
            if qi is not None and ti is not None:
                scores = V @ V[qi]
                scores[seen_idx] = -np.inf
                scores[qi] = -np.inf
                top = np.argpartition(-scores, k)[:k]
                hits += int(ti in top)
            if target in index:
                seen_idx.append(index[target])
    p = hits / total
    return p, total, (p * (1 - p) / total) ** 0.5


def purity(keys, vecs, cluster_of, k=10, sample=5000):
    """Mean share of an item's k nearest items in its own cluster."""
    import numpy as np
    V = unit_rows(vecs)
    lab = np.array([cluster_of[int(x)] for x in keys])
    rng = np.random.default_rng(12345)
    order = np.argsort(np.array([int(x) for x in keys]))  # independent of row order
    pick = order if len(order) <= sample else np.sort(
        rng.choice(len(order), sample, replace=False))
    pick = order[pick] if len(order) > sample else pick
    shares = []
    for lo in range(0, len(pick), 512):
        rows = pick[lo:lo + 512]
        s = V[rows] @ V.T
        s[np.arange(len(rows)), rows] = -np.inf
        top = np.argpartition(-s, k, axis=1)[:, :k]
        shares.extend((lab[top] == lab[rows][:, None]).mean(axis=1))
    return float(np.mean(shares)), len(shares), float(np.std(shares) / len(shares) ** 0.5)


def movielens_ratings():
    """An open text file of MovieLens small's ratings.csv, or None: ML_DIR,
    ML_ZIP, ../shared/data/ml-latest-small, data/ml-latest-small.zip."""
    import io
    import zipfile
    dirs = [os.environ.get("ML_DIR"), os.path.join(ROOT, "..", "shared", "data", "ml-latest-small")]
    zips = [os.environ.get("ML_ZIP"), os.path.join(ROOT, "data", "ml-latest-small.zip")]
    for d in dirs[:1] + zips[:1] + dirs[1:] + zips[1:]:
        if not d:
            continue
        if d in dirs and os.path.exists(os.path.join(d, "ratings.csv")):
            return open(os.path.join(d, "ratings.csv"), newline="")
        if d in zips and os.path.isfile(d):
            z = zipfile.ZipFile(d)
            name = next((n for n in z.namelist() if n.endswith("/ratings.csv")), None)
            if name:
                return io.TextIOWrapper(z.open(name), newline="")
    return None


def prepare_movielens(f, db):
    """ratings.csv -> train (rowid = sequence order) and the held-out steps."""
    import csv
    rows = []
    with f:
        r = csv.reader(f)
        next(r)
        for n, (u, m, _rating, ts) in enumerate(r):
            rows.append((int(u), int(ts), n, int(m)))
    rows.sort()  # user, timestamp, file order
    by_user = {}
    for u, _ts, _n, m in rows:
        by_user.setdefault(u, []).append(m)
    train, split = [], []
    for u in sorted(by_user):
        items = by_user[u]
        if len(items) <= 11:
            continue
        head, tail = items[:-10], items[-10:]
        train.extend((u, m) for m in head)
        prev = [str(head[-1])] + [str(m) for m in tail[:-1]]
        split.append(([str(m) for m in head], list(zip(prev, [str(m) for m in tail]))))
    if os.path.exists(db):
        os.remove(db)
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE train(user INTEGER, item INTEGER)")
    con.executemany("INSERT INTO train VALUES(?, ?)", train)
    con.commit()
    con.close()
    return split, len(train)


def generate(gen, db, events, items, users, extra=()):
    stamp = db + ".args"
    want = " ".join(map(str, (events, items, users) + tuple(extra)))
    if os.path.exists(db) and os.path.exists(stamp) and open(stamp).read() == want:
        return
    for p in (db, stamp):
        if os.path.exists(p):
            os.remove(p)
    subprocess.run([gen, db, str(events), str(items), str(users)] + list(map(str, extra)),
                   check=True, stdout=subprocess.DEVNULL)
    with open(stamp, "w") as f:
        f.write(want)


# The 25M-event corpus shaped like MovieLens 25M (bench_gen's arguments), and
# the options both sides train it with (bench_scaling.py uses the same).
G25M = (25_000_095, 59_047, 162_541, ("--min-length", 20))
G25M_OPTS = ["vector_size=64", "window=5", "negative=5", "min_count=1", "epochs=1", "sg=1",
             "workers=2"]


def bare_scan(db, table):
    """Seconds SQLite alone takes to step through the table's user and item
    columns in rowid order: the floor under any reader of that table."""
    con = sqlite3.connect(db)
    con.execute('SELECT count(*) FROM "%s"' % table.replace('"', '""')).fetchone()  # cache
    t0 = time.perf_counter()
    con.execute('SELECT sum(user), sum(item) FROM "%s"' % table.replace('"', '""')).fetchone()
    t = time.perf_counter() - t0
    con.close()
    return t


def print_g25m(big, scan):
    """The 25M-event row: read, train and store timed, peak RSS, and the share
    of the statement's time spent reading and storing through SQLite."""
    print("| 25M events, 162,541 users, 59,047 items, vector_size=64, 1 epoch | "
          "read s | train s | store s | total s | train items/s | peak RSS | "
          "reading + storing share |")
    print("|---|---|---|---|---|---|---|---|")
    for label, js, rss in big:
        if label == "gensim":
            read = js["read_seconds"] + js["vocab_seconds"]
            total = read + js["train_seconds"]
            print("| gensim (reading through Python's sqlite3, vocabulary; no store) | %.2f | "
                  "%.2f | - | %.2f | %s | %s | %.0f%% |" % (
                      read, js["train_seconds"], total,
                      fmt_rate(js["tokens"] / js["train_seconds"]), fmt_mb(rss),
                      100 * read / total))
            continue
        total = js["wall_seconds"]
        io = js["read_seconds"] + js["write_seconds"]
        print("| item2vec, %s | %.2f | %.2f | %.2f | %.2f | %s | %s | %.0f%% |" % (
            label, js["read_seconds"], js["train_seconds"], js["write_seconds"], total,
            fmt_rate(js["tokens"] / js["train_seconds"]), fmt_mb(rss), 100 * io / total))
    print()
    print("Total: the item2vec_train statement and its commit, wall-clock. Read: rows stepped "
          "through SQLite into sequences (%.2f s of it is SQLite alone stepping through the "
          "two columns: `SELECT sum(user), sum(item)`, warm cache); store: the vectors "
          "written to item2vec_vectors." % scan)


def fmt_mb(b):
    return "%.0f MB" % (b / 1e6)


def fmt_rate(r):
    return "%.2fM" % (r / 1e6) if r >= 1e6 else "%.0fk" % (r / 1e3)


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if len(xs) % 2 else 0.5 * (xs[len(xs) // 2 - 1] + xs[len(xs) // 2])


def mean_std(xs):
    m = sum(xs) / len(xs)
    if len(xs) < 2:
        return m, 0.0
    return m, (sum((x - m) ** 2 for x in xs) / (len(xs) - 1)) ** 0.5


def compare(name, db, table, opts, variants, seeds, lib, scratch, quality, have_gensim, log):
    """Train gensim once per seed and each item2vec variant (a label and its
    extra options) once per seed; return one result per variant."""
    res = [{"name": name + (", " + label if label else ""), "i2v_t": [], "gs_t": [],
            "i2v_rss": [], "gs_rss": [], "i2v_q": [], "gs_q": [], "tokens": None,
            "epochs": None} for label, _ in variants]
    for seed in seeds:
        for r, (label, extra) in zip(res, variants):
            model = "bench_%d" % seed
            o = opts + extra + ["seed=%d" % seed, "model=" + model, "verbose=0"]
            js, rss = run_child(["item2vec", db, table, lib] + o)
            r["tokens"], r["epochs"] = js["tokens"], js["epochs"]
            r["i2v_t"].append(js["train_seconds"])
            r["i2v_rss"].append(rss)
            keys, vecs = load_item2vec_vectors(db, model)
            r["i2v_q"].append(quality(keys, vecs))
            log("  %s, seed %d, item2vec: %.3f s training (%.3f s reading), %s, quality %.4f"
                % (r["name"], seed, js["train_seconds"], js["read_seconds"], fmt_mb(rss),
                   r["i2v_q"][-1][0]))
        if have_gensim:
            vec = os.path.join(scratch, "gensim_vectors")
            gj, grss = run_child(["gensim", db, table, vec] + opts + ["seed=%d" % seed])
            if gj["tokens"] != res[0]["tokens"]:
                raise RuntimeError("%s: gensim saw %d tokens, item2vec %d" % (
                    name, gj["tokens"], res[0]["tokens"]))
            keys, vecs = load_gensim_vectors(vec)
            q = quality(keys, vecs)
            for r in res:
                r["gs_t"].append(gj["train_seconds"])
                r["gs_rss"].append(grss)
                r["gs_q"].append(q)
            log("  %s, seed %d, gensim:   %.3f s training, %s, quality %.4f" % (
                name, seed, gj["train_seconds"], fmt_mb(grss), q[0]))
    return res


def row_cells(res, qname):
    work = res["tokens"] * res["epochs"]
    it = median(res["i2v_t"])
    iq = mean_std([q[0] for q in res["i2v_q"]])
    n = res["i2v_q"][0][1]
    cells = [res["name"], "%.2f" % it, fmt_rate(work / it)]
    if res["gs_t"]:
        gt = median(res["gs_t"])
        gq = mean_std([q[0] for q in res["gs_q"]])
        cells += ["%.2f" % gt, fmt_rate(work / gt), "**%.1fx**" % (gt / it)]
    else:
        cells += ["-", "-", "-"]
    cells += [fmt_mb(max(res["i2v_rss"])), fmt_mb(max(res["gs_rss"])) if res["gs_rss"] else "-"]

    def q(m):
        # Noise: std over seeds (none with one seed; see the split's column).
        return "%.3f ± %.3f" % m if len(res["i2v_q"]) > 1 else "%.3f" % m[0]
    cells += ["%s %s" % (qname, q(iq))]
    cells += [q(gq) if res["gs_q"] else "-"]
    cells += ["%.2f" % (iq[0] / gq[0]) if res["gs_q"] and gq[0] > 0 else "-"]
    # The split's own sampling error: binomial over held-out steps (HR), the
    # spread of per-item purity over the sampled items (purity).
    se = (res["gs_q"] or res["i2v_q"])[0][2]
    cells += ["±%.3f (%d %s)" % (se, n, "steps" if qname.startswith("HR") else "items")]
    return cells


def machine():
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    flags = ""
    try:
        with open("/proc/cpuinfo") as f:
            fl = next(l for l in f if l.startswith("flags")).split()
        flags = "avx512f" if "avx512f" in fl else "avx2" if "avx2" in fl else "no avx2"
    except (OSError, StopIteration):
        pass
    return "%s, %d cores%s" % (cpu, os.cpu_count() or 0, ", " + flags if flags else "")


def main():
    quick = os.environ.get("BENCH_QUICK", "") not in ("", "0")
    scratch = os.path.abspath(os.environ.get("BENCH_DIR", os.path.join(ROOT, "build", "bench")))
    lib = os.path.abspath(os.environ.get("I2V_LIB", os.path.join(ROOT, "item2vec")))
    gen = os.path.abspath(os.environ.get("BENCH_GEN", os.path.join(ROOT, "build", "bench_gen")))
    nseeds = int(os.environ.get("BENCH_SEEDS", "3"))
    only = set(filter(None, os.environ.get("BENCH_ONLY", "").split(",")))
    want = lambda r: not only or r in only
    os.makedirs(scratch, exist_ok=True)
    log = lambda m: print(m, file=sys.stderr, flush=True)
    threads = 2

    gensim_version = None
    try:
        if os.environ.get("BENCH_GENSIM", "1") == "0":
            raise ImportError("BENCH_GENSIM=0")
        import gensim
        gensim_version = gensim.__version__
    except ImportError:
        log("bench: skipping gensim: not installed for %s (Debian: apt install "
            "python3-gensim), or BENCH_GENSIM=0; item2vec alone" % sys.executable)
    have_gensim = gensim_version is not None
    log("bench: %s; load average %.2f (numbers are steadier below 0.5)" % (
        machine(), os.getloadavg()[0]))

    rows = []
    ratings = movielens_ratings() if want("ml-sg") or want("ml-cbow") else None
    if ratings is None and (want("ml-sg") or want("ml-cbow")):
        log("bench: skipping the MovieLens rows: no ratings.csv (set ML_DIR to the "
            "extracted ml-latest-small, or ML_ZIP to its zip)")
    elif ratings is not None:
        db = os.path.join(scratch, "ml.db")
        split, ntrain = prepare_movielens(ratings, db)
        log("bench: MovieLens small: %d training ratings, %d held-out steps" % (
            ntrain, sum(len(s) for _, s in split)))
        nb = ["vector_size=32", "window=10", "negative=20", "min_count=1", "epochs=5",
              "workers=%d" % threads]
        hr = lambda keys, vecs: hit_rate(keys, vecs, split)
        for sg, tag in ((1, "ml-sg"), (0, "ml-cbow")):
            if not want(tag):
                continue
            variants = [("", [])]
            if sg:
                variants.append(("shared_negatives=0", ["shared_negatives=0"]))
            label = "MovieLens small, %s" % ("skip-gram" if sg else "CBOW")
            for r in compare(label, db, "train", nb + ["sg=%d" % sg], variants,
                             range(1, nseeds + 1), lib, scratch, hr, have_gensim, log):
                rows.append(row_cells(r, "HR@10"))

    synth = [("c1m", "planted clusters 1M", 1_000_000, 10_000, 20_000, range(1, nseeds + 1))]
    if not quick:
        synth.append(("c10m", "planted clusters 10M", 10_000_000, 50_000, 200_000, [1]))
    for tag, label, ev, items, users, seeds in synth:
        if not want(tag):
            continue
        db = os.path.join(scratch, "%s.db" % tag)
        generate(gen, db, ev, items, users)
        con = sqlite3.connect(db)
        cluster_of = dict(con.execute("SELECT item, cluster FROM clusters"))
        con.close()
        opts = ["vector_size=64", "window=5", "negative=5", "min_count=1", "epochs=1",
                "sg=1", "workers=%d" % threads]
        pq = lambda keys, vecs: purity(keys, vecs, cluster_of)
        for r in compare(label + ", skip-gram", db, "events", opts, [("", [])], seeds, lib,
                         scratch, pq, have_gensim, log):
            rows.append(row_cells(r, "purity@10"))

    big = []
    if not quick and want("g25m"):
        db = os.path.join(scratch, "g25m.db")
        generate(gen, db, *G25M)
        o = G25M_OPTS + ["verbose=0"]
        scan = bare_scan(db, "events")
        for label, extra in (("rows in rowid order", []), ("order_by=ts", ["order_by=ts"])):
            js, rss = run_child(["item2vec", db, "events", lib] + o + extra +
                                ["model=bench_25m"])
            log("  25M events, %s: %.2f s reading, %.2f s training, %.2f s storing, %s" % (
                label, js["read_seconds"], js["train_seconds"], js["write_seconds"],
                fmt_mb(rss)))
            big.append((label, js, rss))
        if have_gensim:
            vec = os.path.join(scratch, "gensim_vectors")
            gj, grss = run_child(["gensim", db, "events", vec] + G25M_OPTS)
            log("  25M events, gensim: %.2f s reading, %.2f s vocabulary, %.2f s training, %s" % (
                gj["read_seconds"], gj["vocab_seconds"], gj["train_seconds"], fmt_mb(grss)))
            big.append(("gensim", gj, grss))

    print()
    print("Machine: %s; %d threads each side; gensim %s; load average %.2f at the end." % (
        machine(), threads, gensim_version or "not run", os.getloadavg()[0]))
    print()
    if rows:
        print("| corpus | item2vec s | item2vec items/s | gensim s | gensim items/s | "
              "speed-up | item2vec peak RSS | gensim peak RSS | item2vec quality | "
              "gensim quality | quality ratio | split noise (SE) |")
        print("|" + "---|" * 12)
        for cells in rows:
            print("| " + " | ".join(cells) + " |")
    if big:
        print()
        print_g25m(big, scan)
    print()
    print("Seconds: training only (gensim's train(), item2vec's train_seconds), median "
          "over seeds; items/s: the corpus's items x epochs / those seconds; quality: "
          "mean ± std over %d seeds (the 10M row: one seed); split noise: the standard "
          "error of one model's figure from the finite test set." % nseeds)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "item2vec":
        child_item2vec(sys.argv[2], sys.argv[3], sys.argv[5:], sys.argv[4])
    elif len(sys.argv) > 1 and sys.argv[1] == "dump":
        dump_corpus(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) > 1 and sys.argv[1] == "gensim":
        child_gensim(sys.argv[2], sys.argv[3], sys.argv[5:], sys.argv[4])
    else:
        main()
