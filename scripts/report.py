#!/usr/bin/python3
"""report.py: one self-contained HTML page about an item2vec model.

The page has a map of the items (the first two principal components of the
vectors, from item2vec_project, coloured by a label column you name), the
training loss per epoch, and the nearest neighbours of the most popular
items.  Everything is inline (SVG, CSS, a few lines of JavaScript): the page
opens in a browser with no network.

  /usr/bin/python3 scripts/report.py --db movies.db --model default \\
      --label movies.movieId.genres --name movies.movieId.title --out report.html
  /usr/bin/python3 scripts/report.py --movielens $ML_DIR --out report.html

--label TABLE.KEY.COLUMN colours each item by COLUMN of the TABLE row whose
KEY is the item; a value like 'Action|Comedy' counts as its first part.
Without --label, a table with a `genres` (or `genre`) column whose key
column holds the model's items (the item column it was trained on, the
primary key, or an `id` column) colours the map by the first genre;
--label none turns that off.  --name TABLE.KEY.COLUMN gives the names shown
in tooltips and tables; without it, that table's `title` or `name` column.
With --movielens DIR (and no --db) it builds build/movielens.db from the CSV
files and trains a model with the default options first.
"""
import argparse
import csv
import html
import json
import math
import os
import sqlite3
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
LIB = os.environ.get("I2V_LIB", os.path.join(HERE, "..", "item2vec"))
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
           "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"]
OTHER = "#c8c8c8"


def qident(name):
    return '"' + name.replace('"', '""') + '"'


def connect(path):
    db = sqlite3.connect(path)
    db.enable_load_extension(True)
    db.load_extension(LIB)
    return db


def build_movielens(ml_dir, path):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    if os.path.exists(path):
        os.remove(path)
    db = connect(path)
    db.execute("CREATE TABLE ratings(userId INTEGER, movieId INTEGER, rating REAL, timestamp INTEGER)")
    db.execute("CREATE TABLE movies(movieId INTEGER PRIMARY KEY, title TEXT, genres TEXT)")
    with open(os.path.join(ml_dir, "ratings.csv"), newline="") as f:
        r = csv.reader(f)
        next(r)
        db.executemany("INSERT INTO ratings VALUES (?, ?, ?, ?)",
                       ((int(u), int(m), float(x), int(t)) for u, m, x, t in r))
    with open(os.path.join(ml_dir, "movies.csv"), newline="", encoding="utf-8") as f:
        r = csv.reader(f)
        next(r)
        db.executemany("INSERT INTO movies VALUES (?, ?, ?)", ((int(m), t, g) for m, t, g in r))
    db.execute("SELECT item2vec_train('ratings', 'userId', 'movieId', 'order_by=timestamp', 'verbose=0')").fetchone()
    db.commit()
    return db


def lookup(db, spec):
    """{item: value} from 'table.key.column' (None when spec is empty)."""
    if not spec:
        return {}
    parts = spec.split(".")
    if len(parts) != 3:
        sys.exit("report.py: expected TABLE.KEY.COLUMN, got %r" % spec)
    t, k, c = parts
    return {key: val for key, val in db.execute(
        "SELECT %s, %s FROM %s" % (qident(k), qident(c), qident(t)))}


def columns(db, table):
    return [r[1] for r in db.execute("SELECT * FROM pragma_table_info(?)", (table,))]


def guess_label(db, model, params):
    """(label spec, name spec) from a table with a genres column whose key
    column holds most of the model's most frequent items, or (None, None)."""
    sample = [r[0] for r in db.execute(
        "SELECT item FROM item2vec_vectors WHERE model = ? ORDER BY frequency DESC LIMIT 200",
        (model,))]
    if not sample:
        return None, None
    item_col = (params.get("item_col") or "").lower()
    best = (0, None, None)
    for (table,) in db.execute(
            "SELECT name FROM sqlite_schema WHERE type IN ('table', 'view') "
            "AND name NOT LIKE 'sqlite%' AND name NOT LIKE 'item2vec%' ORDER BY name").fetchall():
        cols = columns(db, table)
        lower = {c.lower(): c for c in cols}
        genre = lower.get("genres") or lower.get("genre")
        if not genre:
            continue
        pk = [r[1] for r in db.execute("SELECT * FROM pragma_table_info(?) WHERE pk > 0", (table,))]
        keys = [c for c in cols if c.lower() == item_col] + pk + \
            [c for c in cols if c.lower() == "id" or c.lower().endswith("id")]
        for key in dict.fromkeys(keys):
            if key == genre:
                continue
            try:
                values = lookup(db, "%s.%s.%s" % (table, key, genre))
            except sqlite3.Error:
                continue
            hits = sum(1 for item in sample if find(values, item) is not None)
            if hits > best[0]:
                title = lower.get("title") or lower.get("name")
                best = (hits, "%s.%s.%s" % (table, key, genre),
                        "%s.%s.%s" % (table, key, title) if title else None)
    if best[0] * 2 < len(sample):  # fewer than half of the items join: not their table
        return None, None
    return best[1], best[2]


def no_model(db, path, model):
    """Exit with a message that lists the models of the database."""
    has = db.execute("SELECT count(*) FROM sqlite_schema WHERE name = 'item2vec_models'").fetchone()[0]
    if not has:
        sys.exit("report.py: %s has no trained model; train one with item2vec_train "
                 "(or run `make demo`, which builds data/demo.db)" % path)
    names = [r[0] for r in db.execute("SELECT name FROM item2vec_models ORDER BY name")]
    sys.exit("report.py: no model %r in %s; models in this database: %s (choose one with "
             "MODEL=name, or --model name)" % (model, path, ", ".join("'%s'" % n for n in names) or "none"))


def find(d, item):
    if item in d:
        return d[item]
    try:
        return d.get(int(item))
    except (TypeError, ValueError):
        return d.get(str(item))


def map_svg(points, labels, W=860, H=620, pad=30):
    """Scatter plot: points = [(item, x, y, freq, name, label)]."""
    xs = [p[1] for p in points]
    ys = [p[2] for p in points]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    sx = (W - 2 * pad) / ((x1 - x0) or 1)
    sy = (H - 2 * pad) / ((y1 - y0) or 1)
    color = {lab: PALETTE[i] for i, lab in enumerate(labels)}
    fmax = max(p[3] for p in points) or 1
    out = ['<svg id="map" xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'viewBox="0 0 %d %d" role="img" aria-label="map of the items">' % (W, H, W, H),
           '<rect width="100%" height="100%" fill="#fff" stroke="#ddd"/>']
    # Rare items first so popular ones are drawn on top.
    for item, x, y, freq, name, label in sorted(points, key=lambda p: p[3]):
        r = 1.5 + 4.0 * math.log1p(freq) / math.log1p(fmax)
        fill = color.get(label, OTHER)
        tip = "%s%s (%d)" % (name, " — " + label if label else "", freq)
        out.append('<circle cx="%.1f" cy="%.1f" r="%.1f" fill="%s" data-label="%s" fill-opacity="0.75">'
                   '<title>%s</title></circle>' % (
                       pad + (x - x0) * sx, H - pad - (y - y0) * sy, r, fill,
                       html.escape(label or "other", quote=True), html.escape(tip)))
    out.append("</svg>")
    return "\n".join(out)


def short(v):
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            return "%.3g%s" % (v / div, suffix)
    return "%.3g" % v


def loss_svg(loss, W=440, H=260, pad=56):
    if not loss:
        return "<p>No loss recorded.</p>"
    n = len(loss)
    lo, hi = min(loss), max(loss)
    span = (hi - lo) or abs(hi) or 1
    lo -= 0.05 * span
    hi += 0.05 * span

    def X(i):
        return pad + (W - 1.5 * pad) * (i / (n - 1) if n > 1 else 0.5)

    def Y(v):
        return H - pad + (v - lo) / (hi - lo) * -(H - 1.6 * pad)

    pts = " ".join("%.1f,%.1f" % (X(i), Y(v)) for i, v in enumerate(loss))
    out = ['<svg id="loss" xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'viewBox="0 0 %d %d" role="img" aria-label="loss per epoch">' % (W, H, W, H),
           '<rect width="100%" height="100%" fill="#fff"/>',
           '<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333"/>' % (pad, H - pad, W - pad / 2, H - pad),
           '<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333"/>' % (pad, H - pad, pad, pad / 2)]
    for frac in (0, 0.5, 1):
        v = lo + frac * (hi - lo)
        out.append('<text x="%d" y="%.1f" font-size="11" text-anchor="end">%s</text>' % (pad - 4, Y(v) + 4, short(v)))
    step = max(1, n // 10)
    for i in range(0, n, step):
        out.append('<text x="%.1f" y="%d" font-size="11" text-anchor="middle">%d</text>' % (X(i), H - pad + 16, i + 1))
    out.append('<text x="%d" y="%d" font-size="12" text-anchor="middle">epoch</text>' % (W / 2, H - 8))
    out.append('<polyline points="%s" fill="none" stroke="#1f77b4" stroke-width="2.5"/>' % pts)
    for i, v in enumerate(loss):
        out.append('<circle cx="%.1f" cy="%.1f" r="3.5" fill="#1f77b4"><title>epoch %d: %.6g</title></circle>' % (X(i), Y(v), i + 1, v))
    out.append("</svg>")
    return "\n".join(out)


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>item2vec model %(model)s</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; background: #fafafa; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 22px 0 8px; }
.meta { color: #555; } .row { display: flex; gap: 24px; flex-wrap: wrap; align-items: flex-start; }
.legend span { display: inline-block; margin: 2px 10px 2px 0; cursor: pointer; }
.legend i { display: inline-block; width: 12px; height: 12px; border-radius: 6px; margin-right: 4px; vertical-align: -1px; }
.legend .off { opacity: 0.3; }
table { border-collapse: collapse; background: #fff; } td, th { border: 1px solid #ddd; padding: 3px 8px; text-align: left; }
th { background: #f0f0f0; } td.num { text-align: right; }
svg { background: #fff; }
</style></head><body>
<h1>item2vec model <code>%(model)s</code></h1>
<p class="meta">%(meta)s</p>
<h2>Map of the items</h2>
<p class="meta">The first two principal components of the item vectors (%(explained)s of the variance), from
<code>item2vec_project('%(model)s', 2)</code>. Colour: %(labelname)s. Size: how often the item occurs.
Hover for names; click a label to hide it.</p>
<div class="legend" id="legend">%(legend)s</div>
%(map)s
<div class="row">
<div><h2>Training loss per epoch</h2>%(loss)s</div>
<div><h2>Neighbours of the most popular items</h2>%(neighbours)s</div>
</div>
<script>
(function () {
  var hidden = {};
  document.querySelectorAll('#legend span').forEach(function (s) {
    s.addEventListener('click', function () {
      var lab = s.getAttribute('data-label');
      hidden[lab] = !hidden[lab];
      s.classList.toggle('off', hidden[lab]);
      document.querySelectorAll('#map circle').forEach(function (c) {
        if (c.getAttribute('data-label') === lab) c.style.display = hidden[lab] ? 'none' : '';
      });
    });
  });
})();
</script>
</body></html>
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", help="SQLite database with a trained model")
    ap.add_argument("--movielens", help="MovieLens small directory: build build/movielens.db and train")
    ap.add_argument("--model", default="default")
    ap.add_argument("--label", help="TABLE.KEY.COLUMN to colour items by (first '|' part)")
    ap.add_argument("--name", help="TABLE.KEY.COLUMN with item names")
    ap.add_argument("--neighbours", type=int, default=10, help="popular items in the table")
    ap.add_argument("--out", default="report.html")
    args = ap.parse_args()

    if args.db:
        if not os.path.isfile(args.db):
            sys.exit("report.py: no such database %r (run `make demo` to build data/demo.db, "
                     "or give DB=path/to/database.db)" % args.db)
        db = connect(args.db)
    elif args.movielens:
        db = build_movielens(args.movielens, os.path.join(HERE, "..", "build", "movielens.db"))
        args.label = args.label or "movies.movieId.genres"
        args.name = args.name or "movies.movieId.title"
    else:
        ap.error("give --db DB (with a trained model) or --movielens DIR")

    try:
        row = db.execute("SELECT dim, items, source, params, stats, created_at FROM item2vec_models "
                         "WHERE name = ?", (args.model,)).fetchone()
    except sqlite3.OperationalError:  # no item2vec_models: nothing was trained
        row = None
    if row is None:
        no_model(db, args.db or "the database", args.model)
    dim, items, source, params, stats, created = row
    params = json.loads(params or "{}")
    stats = json.loads(stats or "{}")
    if args.label is None:
        args.label, guessed_name = guess_label(db, args.model, params)
        args.name = args.name or guessed_name
        if args.label:
            table, _, column = args.label.split(".")
            print("report.py: colouring by the first of %s.%s (--label none turns it off)"
                  % (table, column))
    elif args.label.lower() == "none":
        args.label = None
    labels_of = lookup(db, args.label)
    names_of = lookup(db, args.name)

    def label(item):
        v = find(labels_of, item)
        return str(v).split("|")[0] if v not in (None, "") else ""

    def name(item):
        v = find(names_of, item)
        return str(v) if v is not None else str(item)

    points, explained = [], 0.0
    for item, x, y, freq, var in db.execute(
            "SELECT item, x, y, frequency, variance FROM item2vec_project(?, 2)", (args.model,)):
        points.append((item, x, y, freq, name(item), label(item)))
        explained = var
    counts = {}
    for p in points:
        if p[5]:
            counts[p[5]] = counts.get(p[5], 0) + 1
    top = [lab for lab, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:len(PALETTE)]]
    legend = "".join('<span data-label="%s"><i style="background:%s"></i>%s (%d)</span>' % (
        html.escape(lab, quote=True), PALETTE[i], html.escape(lab), counts[lab]) for i, lab in enumerate(top))
    if len(counts) > len(top) or any(not p[5] for p in points):
        legend += '<span data-label="other"><i style="background:%s"></i>other</span>' % OTHER

    rows = []
    popular = db.execute("SELECT item, frequency FROM item2vec_vectors WHERE model = ? "
                         "ORDER BY frequency DESC LIMIT ?", (args.model, args.neighbours)).fetchall()
    for item, freq in popular:
        near = db.execute("SELECT item, similarity FROM similar_items(?, 5, ?)", (item, args.model)).fetchall()
        cells = "".join("<td>%s <small>%.3f</small></td>" % (html.escape(name(n)), s) for n, s in near)
        rows.append("<tr><td><b>%s</b></td><td class=num>%d</td>%s</tr>" % (html.escape(name(item)), freq, cells))
    neighbours = ("<table><tr><th>item</th><th>count</th><th colspan=5>nearest neighbours (cosine)</th></tr>%s</table>"
                  % "".join(rows))

    meta = "%s items, %s dimensions, %s sequences, %s epochs, window %s, negative %s, trained on <code>%s</code> in %.1f s, %s" % (
        items, dim, stats.get("sequences", stats.get("train_sequences", "?")), params.get("epochs", "?"),
        params.get("window", "?"), params.get("negative", "?"), html.escape(str(source)),
        stats.get("train_seconds", 0.0), html.escape(str(created)))
    if "hr" in stats:
        meta += "; evaluation HR@%s %.3f (co-occurrence %.3f, popularity %.3f)" % (
            stats.get("k"), stats["hr"], stats["cooccurrence"]["hr"], stats["popularity"]["hr"])
    page = PAGE % {
        "model": html.escape(args.model), "meta": meta, "explained": "%.0f%%" % (100 * explained),
        "labelname": html.escape(args.label.split(".")[-1] if args.label else "none"),
        "legend": legend, "map": map_svg(points, top) if points else "<p>No items.</p>",
        "loss": loss_svg(stats.get("loss", [])), "neighbours": neighbours}
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(page)
    print("report.py: wrote %s (%d items, %d labels)" % (args.out, len(points), len(counts)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
