"""`make report`'s page: scripts/report.py writes one self-contained HTML page
(map, loss chart, neighbours) for a model; Debian's chromium renders it
headless to a PNG that must not be blank.  Skips the rendering, with a
message, where chromium is absent.  Also: without --label the map is
coloured by the first genre of a table that joins the items (and not by a
table that does not); a wrong model or database is an error that lists the
models; `make report` with no DB builds the demo's database as `make demo`
does (the generated data, and MovieLens from ML_ZIP when it is set) in a
temporary folder and reports it.

Run with Debian's /usr/bin/python3; prints ok / not ok / skip lines."""
import os
import random
import re
import shutil
import tempfile
import sqlite3
import struct
import subprocess
import sys
import zlib

LIB = os.environ.get("I2V_LIB", "./item2vec")
OUT = os.path.abspath("tests/out")
failures = 0


def report(name, ok, why=""):
    global failures
    if ok:
        print("ok - report/%s" % name)
    else:
        failures += 1
        print("not ok - report/%s: %s" % (name, why))


def png_pixels(path):
    """(width, height, rows of RGB tuples) of an 8-bit RGB/RGBA PNG."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or ctype not in (2, 6) or interlace:
                raise ValueError("unsupported PNG (depth %d, type %d)" % (depth, ctype))
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    rows = []
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([tuple(line[i:i + 3]) for i in range(0, stride, bpp)])
        prev = line
    return w, h, rows


def make_db(path):
    """Items on four chains, each chain a 'genre': the map should show four
    colours, the neighbours table the chain neighbours."""
    if os.path.exists(path):
        os.remove(path)
    db = sqlite3.connect(path)
    db.enable_load_extension(True)
    db.load_extension(LIB)
    rng = random.Random(3)
    genres = ["Drama", "Comedy", "Horror", "Western"]
    db.execute("CREATE TABLE catalogue(id INTEGER PRIMARY KEY, title TEXT, genres TEXT)")
    db.executemany("INSERT INTO catalogue VALUES (?, ?, ?)",
                   [(i, "Title %d" % i, genres[i % 4] + "|Other") for i in range(120)])
    rows = []
    for u in range(400):
        g = rng.randrange(4)
        for t in range(12):
            rows.append((u, g + 4 * rng.randrange(30), t))
    # A table with genres that does not hold these items: never picked.
    db.execute("CREATE TABLE albums(albumId INTEGER PRIMARY KEY, title TEXT, genres TEXT)")
    db.executemany("INSERT INTO albums VALUES (?, ?, ?)",
                   [(1000 + i, "Album %d" % i, "Jazz") for i in range(50)])
    db.execute("CREATE TABLE events(user INTEGER, item INTEGER, ts INTEGER)")
    db.executemany("INSERT INTO events VALUES (?, ?, ?)", rows)
    db.execute("SELECT item2vec_train('events', 'user', 'item', 'order_by=ts', 'workers=1', "
               "'vector_size=16', 'epochs=5', 'verbose=0')").fetchone()
    db.commit()
    db.close()


def run_report(*args):
    return subprocess.run([sys.executable, "scripts/report.py"] + list(args),
                          capture_output=True, text=True, timeout=120)


def labels_of(page):
    return set(re.findall(r'<circle [^>]*data-label="([^"]*)"', open(page, encoding="utf-8").read()))


def check_guesses(dbpath):
    """No --label: the genres of the table that joins the items, its titles."""
    page = os.path.join(OUT, "report-guess.html")
    r = run_report("--db", dbpath, "--out", page)
    report("no --label: runs", r.returncode == 0, (r.stdout + r.stderr).strip()[-300:])
    if r.returncode != 0:
        return
    text = open(page, encoding="utf-8").read()
    report("no --label: coloured by the first genre of the joining table",
           labels_of(page) == {"Drama", "Comedy", "Horror", "Western"},
           "labels %s" % sorted(labels_of(page)))
    report("no --label: says what it colours by", "catalogue.genres" in r.stdout, r.stdout.strip())
    report("no --name: names from the same table's title column",
           "Title " in text and "Album " not in text, "no titles in the page")
    r = run_report("--db", dbpath, "--label", "none", "--out", page)
    report("--label none: no colours", r.returncode == 0 and labels_of(page) == {"other"},
           "labels %s; %s" % (sorted(labels_of(page)), r.stderr.strip()[-200:]))

    r = run_report("--db", dbpath, "--model", "nope", "--out", page)
    report("a wrong model is an error listing the models",
           r.returncode != 0 and "no model 'nope'" in r.stderr and "'default'" in r.stderr,
           (r.stdout + r.stderr).strip()[-300:])
    tmp = tempfile.mkdtemp(prefix="i2v-report-")
    try:
        missing = os.path.join(tmp, "missing.db")
        r = run_report("--db", missing, "--out", page)
        report("a missing database is an error and is not created",
               r.returncode != 0 and "no such database" in r.stderr and not os.path.exists(missing),
               (r.stdout + r.stderr).strip()[-300:])
        empty = os.path.join(tmp, "empty.db")
        sqlite3.connect(empty).execute("CREATE TABLE t(x)").connection.close()
        r = run_report("--db", empty, "--out", page)
        report("a database without models says to train one",
               r.returncode != 0 and "has no trained model" in r.stderr, (r.stdout + r.stderr).strip()[-300:])
    finally:
        shutil.rmtree(tmp)


def make_report(tmp, **env):
    """`make report` without DB, the demo's database in tmp."""
    lib = LIB + ".so"
    cmd = ["make", "-s", "--no-print-directory", "-o", lib, "LIB=" + lib, "report",
           "DEMO_DB=" + os.path.join(tmp, "demo.db"), "OUT=" + os.path.join(tmp, "report.html")]
    # Not the variables of the `make test` that runs this (MAKEFLAGS passes ML_DIR on).
    e = {k: v for k, v in os.environ.items()
         if k not in ("ML_DIR", "ML_ZIP", "I2V_DEMO_DATA", "DB", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    e.update(env)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=e)


def check_make_report():
    tmp = tempfile.mkdtemp(prefix="i2v-make-report-")
    try:
        r = make_report(tmp, I2V_DEMO_DATA="synthetic")
        page = os.path.join(tmp, "report.html")
        ok = r.returncode == 0 and os.path.exists(page)
        report("make report without DB builds the demo's database and reports it",
               ok and "is missing; building it as make demo does" in r.stdout and
               os.path.exists(os.path.join(tmp, "demo.db")), (r.stdout + r.stderr).strip()[-400:])
        if ok:
            labels = labels_of(page)
            report("make report (generated data): coloured by genre", len(labels - {"other"}) >= 4,
                   "labels %s" % sorted(labels))
        # A second run reuses the database.
        r = make_report(tmp, I2V_DEMO_DATA="synthetic")
        report("make report reuses an existing demo database",
               r.returncode == 0 and "is missing" not in r.stdout, (r.stdout + r.stderr).strip()[-300:])
        r = make_report(tmp, MODEL="nope")
        report("make report MODEL=nope lists the models",
               r.returncode != 0 and "models in this database: 'default', 'recs'" in r.stderr,
               (r.stdout + r.stderr).strip()[-300:])
    finally:
        shutil.rmtree(tmp)
    zip_path = os.environ.get("ML_ZIP")
    if not zip_path or not os.path.exists(zip_path):
        print("skip - report/make report from ML_ZIP: ML_ZIP is not set")
        return
    tmp = tempfile.mkdtemp(prefix="i2v-make-report-ml-")
    try:
        r = make_report(tmp, ML_ZIP=zip_path)
        page = os.path.join(tmp, "report.html")
        ok = r.returncode == 0 and os.path.exists(page) and "from ML_ZIP" in r.stdout
        report("make report from ML_ZIP builds MovieLens", ok, (r.stdout + r.stderr).strip()[-400:])
        if ok:
            labels = labels_of(page)
            report("make report (MovieLens): coloured by the first genre",
                   {"Drama", "Comedy", "Action"} <= labels, "labels %s" % sorted(labels))
    finally:
        shutil.rmtree(tmp)


def main():
    os.makedirs(OUT, exist_ok=True)
    dbpath = os.path.join(OUT, "report.db")
    page = os.path.join(OUT, "report.html")
    make_db(dbpath)
    r = subprocess.run([sys.executable, "scripts/report.py", "--db", dbpath, "--label",
                        "catalogue.id.genres", "--name", "catalogue.id.title", "--out", page],
                       capture_output=True, text=True, timeout=60)
    report("report.py writes the page", r.returncode == 0 and os.path.exists(page),
           (r.stdout + r.stderr).strip()[-300:])
    if r.returncode != 0:
        return 1
    text = open(page, encoding="utf-8").read()
    circles = len(re.findall(r"<circle [^>]*data-label=", text))
    report("map has one point per item", circles == 120, "%d points" % circles)
    report("points coloured by the first genre",
           all('data-label="%s"' % g in text for g in ("Drama", "Comedy", "Horror", "Western"))
           and 'data-label="Other"' not in text, "labels missing")
    report("loss chart and neighbours table", '<svg id="loss"' in text and
           text.count("<tr>") == 11 and "Title " in text, "loss or table missing")
    external = re.findall(r'(?:src|href)\s*=\s*["\']?(?:https?:)?//', text) + \
        re.findall(r"@import|url\(", text)
    report("self-contained: no external resources", not external, str(external[:3]))

    check_guesses(dbpath)
    check_make_report()

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        print("skip - report/render: chromium is not installed (apt-get install chromium to render the page)")
        return 1 if failures else 0
    png = os.path.join(OUT, "report.png")
    if os.path.exists(png):
        os.remove(png)
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           "--disable-dev-shm-usage", "--window-size=1300,1300", "--screenshot=" + png,
           "file://" + page]
    # Not under `make test-asan`'s preloaded ASan runtime, meant for the extension.
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    except subprocess.TimeoutExpired:
        report("chromium renders the page", False, "timed out")
        return 1
    report("chromium renders the page", r.returncode == 0 and os.path.exists(png),
           (r.stdout + r.stderr).strip()[-300:])
    if not os.path.exists(png):
        return 1
    w, h, rows = png_pixels(png)
    pixels = [p for row in rows[::2] for p in row[::2]]
    nonwhite = sum(1 for p in pixels if min(p) < 235) / len(pixels)
    colours = len(set(pixels))
    report("the PNG is not blank", nonwhite > 0.03 and colours > 30,
           "%.1f%% non-white, %d colours" % (100 * nonwhite, colours))
    # The palette's first colours are on the map (blended at 75% over white).
    def near(p, rgb):
        return all(abs(p[i] - (0.75 * rgb[i] + 0.25 * 255)) < 12 for i in range(3))
    seen = sum(1 for rgb in ((31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40))
               if any(near(p, rgb) for p in pixels))
    report("map colours are drawn", seen >= 3, "%d of 4 palette colours found" % seen)
    print("screenshot: %s (%dx%d)" % (png, w, h))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
