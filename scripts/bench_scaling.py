#!/usr/bin/python3
"""bench_scaling.py: how item2vec's costs grow with the work, against gensim
and the nearest-neighbour peers; writes a self-contained SVG chart.

Run by the full `make bench` (scripts/bench.sh), or alone from the repository root:
    /usr/bin/python3 scripts/bench_scaling.py [--events 1000000,5000000,25000000]
        [--query-json build/bench/query.json] [--out docs/scaling] [--redraw]

Panels (log-log):
  1. training seconds against events: item2vec and gensim, one epoch of
     skip-gram, vector_size=64, 2 threads each (bench/bench.py's settings for
     the 25M row), the training alone and the whole job (reading the table,
     and for item2vec storing the vectors);
  2. peak resident memory against events, each side in its own process;
  3. one-item top-10 query time against catalogue size (64 dimensions, random
     unit vectors): the exact scans (item2vec, gensim, faiss IndexFlatIP,
     sqlite-vec) and the HNSW graphs at ef 64 (item2vec_index, hnswlib, faiss);
  4. index build time against items, the same graphs, 2 threads.
Panels 3 and 4 come from the measurements scripts/bench_query.py wrote with
--json (run by `make bench` before this script); without them they are left
out.

The corpora are written by build/bench_gen and shaped like MovieLens 25M: the
same 59,047 items (Zipf popularity, planted clusters), users in proportion to
the events (162,541 at 25M), at least 20 events each, a heavy tail of active
users.  The 25M point is bench/bench.py's g25m corpus, reused when present.

Writes OUT.svg (the chart) and OUT.json (every measurement, so --redraw draws
the chart again without measuring), and prints the measured growth: a
least-squares line through the origin (seconds per event) and the log-log
slope (1 is linear).

Settings: BENCH_DIR (scratch databases, build/bench), I2V_LIB, BENCH_GEN,
BENCH_GENSIM=0 (item2vec alone).
"""

import argparse
import datetime
import json
import math
import os
import sys
import time
from xml.sax.saxutils import escape

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import bench  # noqa: E402  (bench/bench.py: the training children, the generator)

USERS_25M, ITEMS_25M, EVENTS_25M = 162_541, 59_047, 25_000_095


# ----------------------------------------------------------------- measure --

def corpus(scratch, gen, events, items):
    """The database of a corpus of `events` events shaped like MovieLens 25M."""
    if events == EVENTS_25M and items == ITEMS_25M:
        db = os.path.join(scratch, "g25m.db")  # bench.py's row, same arguments
        bench.generate(gen, db, *bench.G25M)
        return db, USERS_25M
    users = max(1, round(USERS_25M * events / EVENTS_25M))
    db = os.path.join(scratch, "scale_%d_%d.db" % (events, items))
    bench.generate(gen, db, events, items, users, ("--min-length", 20))
    return db, users


def measure_training(events_list, items, scratch, lib, gen, with_gensim, log):
    out = []
    for events in events_list:
        db, users = corpus(scratch, gen, events, items)
        js, rss = bench.run_child(["item2vec", db, "events", lib] + bench.G25M_OPTS +
                                  ["verbose=0", "model=bench_scaling"])
        out.append(dict(library="item2vec", events=events, users=users, items=items,
                        tokens=js["tokens"], epochs=js["epochs"],
                        read=js["read_seconds"], train=js["train_seconds"],
                        store=js["write_seconds"], pairs=js.get("pairs_seconds", 0.0),
                        total=js["wall_seconds"], peak_rss=rss))
        log("  scaling, %s events: item2vec %.2f s training, %.2f s in all, %s" % (
            "{:,}".format(events), js["train_seconds"], js["wall_seconds"], bench.fmt_mb(rss)))
        if with_gensim:
            vec = os.path.join(scratch, "gensim_vectors")
            gj, grss = bench.run_child(["gensim", db, "events", vec] + bench.G25M_OPTS)
            read = gj["read_seconds"] + gj["vocab_seconds"]
            out.append(dict(library="gensim", events=events, users=users, items=items,
                            tokens=gj["tokens"], epochs=1, read=read, train=gj["train_seconds"],
                            store=0.0, total=read + gj["train_seconds"], peak_rss=grss))
            log("  scaling, %s events: gensim %.2f s training, %.2f s in all, %s" % (
                "{:,}".format(events), gj["train_seconds"], read + gj["train_seconds"],
                bench.fmt_mb(grss)))
    return out


# -------------------------------------------------------------------- fits --

def through_origin(xs, ys):
    """The least-squares a of y = a x."""
    return sum(x * y for x, y in zip(xs, ys)) / sum(x * x for x in xs)


def line(xs, ys):
    """The least-squares (intercept, slope) of y = c + b x."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else 0.0
    return my - b * mx, b


def loglog_slope(xs, ys):
    pts = [(math.log(x), math.log(y)) for x, y in zip(xs, ys) if x > 0 and y > 0]
    if len(pts) < 2:
        return None
    return line([p[0] for p in pts], [p[1] for p in pts])[1]


def series(rows, key, library, field):
    pts = sorted((r[key], r[field]) for r in rows if r["library"] == library and r.get(field))
    return [p[0] for p in pts], [p[1] for p in pts]


def growth(data):
    """Sentences stating the measured growth, one per measured curve."""
    lines = []
    tr = data.get("training", [])
    for lib in ("item2vec", "gensim"):
        xs, ys = series(tr, "events", lib, "train")
        if len(xs) >= 2:
            epochs = next(r["epochs"] for r in tr if r["library"] == lib)
            a = through_origin(xs, ys)
            lines.append("%s training time grows as events^%.2f: %.3f µs per event per "
                         "epoch (%s to %s events)." % (
                             lib, loglog_slope(xs, ys), a * 1e6 / epochs,
                             fmt_count(xs[0]), fmt_count(xs[-1])))
        xs, ys = series(tr, "events", lib, "total")
        if len(xs) >= 2:
            lines.append("%s whole job (reading%s and training) grows as events^%.2f: "
                         "%.3f µs per event." % (
                             lib, ", storing" if lib == "item2vec" else "",
                             loglog_slope(xs, ys), through_origin(xs, ys) * 1e6))
        xs, ys = series(tr, "events", lib, "peak_rss")
        if len(xs) >= 2:
            c, b = line(xs, ys)
            lines.append("%s peak memory grows as events^%.2f: %.1f bytes per event over "
                         "%.0f MB." % (lib, loglog_slope(xs, ys), b, c / 1e6))
    ann = [r for r in data.get("query", {}).get("ann", []) if r["kind"] == "random"]
    for lib in QUERY_LIBS:
        xs, ys = series(query_rows(ann, lib), "n", lib, "median")
        if len(xs) >= 2:
            lines.append("%s query time grows as items^%.2f (%s: %s, %s: %s)." % (
                LABELS[lib], loglog_slope(xs, ys), fmt_count(xs[0]), fmt_seconds(ys[0]),
                fmt_count(xs[-1]), fmt_seconds(ys[-1])))
    for lib in BUILD_LIBS:
        xs, ys = series(build_rows(ann, lib), "n", lib, "build")
        if len(xs) >= 2:
            lines.append("%s build time grows as items^%.2f: %.0f µs per item at %s." % (
                LABELS[lib], loglog_slope(xs, ys), ys[-1] / xs[-1] * 1e6, fmt_count(xs[-1])))
    return lines


# ------------------------------------------------------------------- chart --

QUERY_LIBS = ("item2vec", "gensim", "faiss-flat", "sqlite-vec", "item2vec_index", "hnswlib",
              "faiss-hnsw")
BUILD_LIBS = ("item2vec_index", "hnswlib", "faiss-hnsw")
LABELS = {"item2vec": "item2vec exact", "gensim": "gensim exact", "faiss-flat": "faiss flat",
          "sqlite-vec": "sqlite-vec", "item2vec_index": "item2vec_index",
          "hnswlib": "hnswlib", "faiss-hnsw": "faiss HNSW"}
COLOURS = {"item2vec": "#1f5fbf", "item2vec_index": "#1f5fbf", "gensim": "#e07b00",
           "faiss-flat": "#2a9d3a", "faiss-hnsw": "#2a9d3a", "hnswlib": "#c0392b",
           "sqlite-vec": "#7b4fa8"}


def query_rows(ann, lib):
    """One row per size: exact libraries' rows, graphs' rows at ef 64."""
    out = {}
    for r in ann:
        if r["library"] != lib:
            continue
        if r["exact"] or r.get("ef") == 64:
            out[r["n"]] = r
    return list(out.values())


def build_rows(ann, lib):
    out = {}
    for r in ann:
        if r["library"] == lib and r.get("build"):
            out[r["n"]] = r
    return list(out.values())


def fmt_count(x):
    for unit, div in (("M", 1e6), ("k", 1e3)):
        if x >= div:
            v = x / div
            return ("%.0f%s" if v >= 10 or v == int(v) else "%.1f%s") % (v, unit)
    return "%.0f" % x


def fmt_seconds(x):
    for unit, mul in (("s", 1), ("ms", 1e3), ("µs", 1e6), ("ns", 1e9)):
        if x * mul >= 1 or unit == "ns":
            v = x * mul
            return ("%.0f %s" if v >= 10 or v == int(v) else "%.1f %s") % (v, unit)


def fmt_bytes(x):
    for unit, div in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if x >= div:
            v = x / div
            return ("%.0f %s" if v >= 10 or v == int(v) else "%.1f %s") % (v, unit)
    return "%.0f B" % x


def log_ticks(lo, hi):
    """Tick values for a log axis from lo to hi: decades, with 2 and 5 when
    the range is short."""
    a, b = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    steps = (1, 2, 5) if b - a <= 3 else (1,)
    ticks = [m * 10 ** e for e in range(a, b + 1) for m in steps]
    return [t for t in ticks if lo / 1.0001 <= t <= hi * 1.0001]


def panel(x0, y0, w, h, title, xlabel, ylabel, curves, xfmt, yfmt, notes):
    """One log-log panel as SVG elements.  curves: (label, colour, dashed, xs, ys)."""
    pts = [(x, y) for _, _, _, xs, ys in curves for x, y in zip(xs, ys) if x > 0 and y > 0]
    out = ['<g>', '<text x="%.1f" y="%.1f" class="title">%s</text>' % (x0, y0 + 14, escape(title))]
    left, top, right, bottom = x0 + 62, y0 + 30, x0 + w - 10, y0 + h - 46 - 14 * len(notes)
    if not pts:
        out.append('<text x="%.1f" y="%.1f" class="note">not measured in this run</text>' % (
            left, top + 20))
        out.append('</g>')
        return out
    xl, xh = min(p[0] for p in pts), max(p[0] for p in pts)
    yl, yh = min(p[1] for p in pts), max(p[1] for p in pts)
    if xl == xh:
        xl, xh = xl / 2, xh * 2
    # Pad the y range to whole 1-2-5 steps so the ticks frame the data.
    yl, yh = 10 ** (math.floor(math.log10(yl) * 3) / 3), 10 ** (math.ceil(math.log10(yh) * 3) / 3)
    if yh / yl < 10:
        yl, yh = yl / 2, yh * 2
    xl, xh = xl / 1.25, xh * 1.25
    X = lambda v: left + (math.log(v) - math.log(xl)) / (math.log(xh) - math.log(xl)) * (right - left)
    Y = lambda v: bottom - (math.log(v) - math.log(yl)) / (math.log(yh) - math.log(yl)) * (bottom - top)
    out.append('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" class="frame"/>' % (
        left, top, right - left, bottom - top))
    for t in log_ticks(yl, yh):
        out.append('<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" class="grid"/>' % (
            left, right, Y(t), Y(t)))
        out.append('<text x="%.1f" y="%.1f" class="tick" text-anchor="end">%s</text>' % (
            left - 4, Y(t) + 4, escape(yfmt(t))))
    xt = sorted(set(x for _, _, _, xs, _ in curves for x in xs))
    for t in xt:
        out.append('<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" class="grid"/>' % (
            X(t), X(t), top, bottom))
        out.append('<text x="%.1f" y="%.1f" class="tick" text-anchor="middle">%s</text>' % (
            X(t), bottom + 14, escape(xfmt(t))))
    out.append('<text x="%.1f" y="%.1f" class="axis" text-anchor="middle">%s</text>' % (
        (left + right) / 2, bottom + 30, escape(xlabel)))
    out.append('<text class="axis" text-anchor="middle" transform="translate(%.1f %.1f) '
               'rotate(-90)">%s</text>' % (x0 + 12, (top + bottom) / 2, escape(ylabel)))
    shown = []
    for label, colour, dashed, xs, ys in curves:
        p = [(X(x), Y(y)) for x, y in zip(xs, ys) if x > 0 and y > 0]
        if not p:
            continue
        dash = ' stroke-dasharray="6 4"' if dashed else ""
        shown.append((label, colour, dash))
        if len(p) > 1:
            out.append('<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>' % (
                " ".join("%.1f,%.1f" % q for q in p), colour, dash))
        for q in p:
            out.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s</title></circle>' % (
                q[0], q[1], colour, escape(label)))
    # The legend, top left, over a veil that keeps it readable where a curve passes.
    out.append('<rect x="%.1f" y="%.1f" width="%.0f" height="%d" fill="white" '
               'fill-opacity="0.85"/>' % (left + 4, top + 3, 6.2 * max(len(c[0]) for c in shown) + 36,
                                         14 * len(shown) + 4))
    ly = top + 14
    for label, colour, dash in shown:
        out.append('<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="%s" stroke-width="2"%s/>' % (
            left + 8, left + 30, ly - 4, ly - 4, colour, dash))
        out.append('<text x="%.1f" y="%.1f" class="legend">%s</text>' % (left + 35, ly, escape(label)))
        ly += 14
    ny = bottom + 46
    for n in notes:
        out.append('<text x="%.1f" y="%.1f" class="note">%s</text>' % (x0 + 4, ny, escape(n)))
        ny += 14
    out.append('</g>')
    return out


def draw(data):
    """The chart as an SVG document (a string)."""
    W, PW, PH = 1040, 520, 380
    tr = data.get("training", [])
    ann = [r for r in data.get("query", {}).get("ann", []) if r["kind"] == "random"]
    body = []
    # Training seconds.
    curves, notes = [], []
    for lib, colour in (("item2vec", COLOURS["item2vec"]), ("gensim", COLOURS["gensim"])):
        xs, ys = series(tr, "events", lib, "train")
        curves.append(("%s, training" % lib, colour, False, xs, ys))
        xs2, ys2 = series(tr, "events", lib, "total")
        curves.append(("%s, whole job" % lib, colour, True, xs2, ys2))
        if len(xs) >= 2:
            epochs = next(r["epochs"] for r in tr if r["library"] == lib)
            notes.append("%s: slope %.2f, %.3f µs per event per epoch" % (
                lib, loglog_slope(xs, ys), through_origin(xs, ys) * 1e6 / epochs))
    body += panel(0, 60, PW, PH, "Training time against events (skip-gram, 1 epoch, 2 threads)",
                  "events", "seconds", curves, fmt_count, fmt_seconds, notes)
    # Peak memory.
    curves, notes = [], []
    for lib in ("item2vec", "gensim"):
        xs, ys = series(tr, "events", lib, "peak_rss")
        curves.append((lib, COLOURS[lib], False, xs, ys))
        if len(xs) >= 2:
            c, b = line(xs, ys)
            notes.append("%s: slope %.2f, %.1f bytes per event over %s" % (
                lib, loglog_slope(xs, ys), b, fmt_bytes(max(c, 0))))
    body += panel(PW, 60, PW, PH, "Peak memory against events (each side's own process)",
                  "events", "peak resident memory", curves, fmt_count, fmt_bytes, notes)
    # Query time.
    curves, notes = [], []
    for lib in QUERY_LIBS:
        xs, ys = series(query_rows(ann, lib), "n", lib, "median")
        if xs:
            curves.append((LABELS[lib] + ("" if lib in bench_peers_exact() else ", ef 64"),
                           COLOURS[lib], lib not in bench_peers_exact(), xs, ys))
        if len(xs) >= 2 and lib in ("item2vec", "item2vec_index", "gensim", "hnswlib"):
            notes.append("%s: slope %.2f" % (LABELS[lib], loglog_slope(xs, ys)))
    notes = ["; ".join(notes[i:i + 2]) for i in range(0, len(notes), 2)]
    body += panel(0, 60 + PH, PW, PH, "One-item top-10 query against catalogue size (64-d, median)",
                  "items", "seconds per query", curves, fmt_count, fmt_seconds, notes)
    # Build time.
    curves, notes = [], []
    for lib in BUILD_LIBS:
        xs, ys = series(build_rows(ann, lib), "n", lib, "build")
        if xs:
            curves.append((LABELS[lib], COLOURS[lib], False, xs, ys))
        if len(xs) >= 2:
            notes.append("%s: slope %.2f" % (LABELS[lib], loglog_slope(xs, ys)))
    notes = ["; ".join(notes)] if notes else []
    body += panel(PW, 60 + PH, PW, PH, "HNSW index build against items (M=48, ef_construction=400)",
                  "items", "build seconds", curves, fmt_count, fmt_seconds, notes)
    H = 60 + 2 * PH + 10
    head = [
        '<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" '
        'font-family="sans-serif">' % (W, H, W, H),
        '<style>.title{font-size:14px;font-weight:bold}.tick{font-size:11px;fill:#444}'
        '.axis{font-size:12px;fill:#222}.legend{font-size:11px;fill:#222}'
        '.note{font-size:11px;fill:#333}.frame{fill:none;stroke:#888}'
        '.grid{stroke:#ddd;stroke-width:1}.head{font-size:16px;font-weight:bold}'
        '.sub{font-size:11px;fill:#555}</style>',
        '<rect width="100%" height="100%" fill="white"/>',
        '<text x="4" y="20" class="head">item2vec: how the costs grow (log-log axes)</text>',
        '<text x="4" y="38" class="sub">%s</text>' % escape(data.get("machine", "")),
        '<text x="4" y="52" class="sub">%s</text>' % escape(data.get("note", "")),
    ]
    return "\n".join(head + body + ["</svg>"]) + "\n"


def bench_peers_exact():
    return ("item2vec", "gensim", "faiss-flat", "sqlite-vec")


# -------------------------------------------------------------------- main --

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--events", default="1000000,5000000,%d" % EVENTS_25M,
                    help="corpus sizes, comma list (1M, 5M, 25M)")
    ap.add_argument("--items", type=int, default=ITEMS_25M,
                    help="catalogue of every corpus (59,047 as MovieLens 25M)")
    ap.add_argument("--query-json", default=None,
                    help="scripts/bench_query.py --json output (BENCH_DIR/query.json)")
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "scaling"),
                    help="writes OUT.svg and OUT.json (docs/scaling)")
    ap.add_argument("--redraw", action="store_true", help="draw OUT.json again, measure nothing")
    ap.add_argument("--note", default="", help="a line under the title (e.g. what the run was)")
    a = ap.parse_args()
    log = lambda m: print(m, file=sys.stderr, flush=True)
    scratch = os.path.abspath(os.environ.get("BENCH_DIR", os.path.join(ROOT, "build", "bench")))
    if a.redraw:
        with open(a.out + ".json") as f:
            data = json.load(f)
        if a.note:
            data["note"] = a.note
    else:
        lib = os.path.abspath(os.environ.get("I2V_LIB", os.path.join(ROOT, "item2vec")))
        gen = os.path.abspath(os.environ.get("BENCH_GEN", os.path.join(ROOT, "build", "bench_gen")))
        os.makedirs(scratch, exist_ok=True)
        with_gensim = os.environ.get("BENCH_GENSIM", "1") != "0"
        if with_gensim:
            try:
                import gensim  # noqa: F401
            except ImportError:
                log("bench_scaling: gensim not installed; item2vec alone")
                with_gensim = False
        events = [int(float(e)) for e in a.events.split(",") if e]
        t0 = time.time()
        data = {"machine": "%s; %s" % (bench.machine(), datetime.date.today().isoformat()),
                "note": a.note or "corpora shaped like MovieLens 25M: %s items, users in "
                "proportion to events, bench/gen.c" % "{:,}".format(a.items),
                "options": bench.G25M_OPTS,
                "training": measure_training(events, a.items, scratch, lib, gen, with_gensim, log)}
        qj = a.query_json or os.path.join(scratch, "query.json")
        if os.path.exists(qj):
            with open(qj) as f:
                data["query"] = json.load(f)
        else:
            log("bench_scaling: no %s (scripts/bench_query.py --json); no query panels" % qj)
        data["seconds"] = time.time() - t0
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    if not a.redraw:
        with open(a.out + ".json", "w") as f:
            json.dump(data, f, indent=1)
            f.write("\n")
    with open(a.out + ".svg", "w") as f:
        f.write(draw(data))
    print("### Scaling (scripts/bench_scaling.py; chart: %s.svg)\n" % os.path.relpath(a.out, ROOT))
    tr = data.get("training", [])
    if tr:
        print("| library | events | users | read s | train s | store s | whole job s | peak RSS |")
        print("|---|---|---|---|---|---|---|---|")
        for r in tr:
            print("| %s | %s | %s | %.2f | %.2f | %s | %.2f | %s |" % (
                r["library"], "{:,}".format(r["events"]), "{:,}".format(r["users"]), r["read"],
                r["train"], "%.2f" % r["store"] if r["library"] == "item2vec" else "-",
                r["total"], bench.fmt_mb(r["peak_rss"])))
        print()
    for s in growth(data):
        print("- " + s)
    print()


if __name__ == "__main__":
    main()
