"""tests/py/test_lines.py: item2vec_lines against two references.

  layout     random files (blanks, tabs, form feeds, CRLF and lone CR line
             ends, '#' header lines and '#' items, a byte order mark, numbers
             of every shape) read as plain, gzip and zip files give exactly
             the rows a Python reading of core/lines.h's layout gives, typed
             as item2vec_csv types values
  gensim     on a playlist file without comments, the sequences per line are
             the token lists gensim's LineSentence reads from it (skipped
             when gensim is not installed)
  interrupt  a scan over 20 million items, and an item2vec_train reading
             them, stop within a second of sqlite3_interrupt (three under a
             sanitizer) with "interrupted"

Files go into a temporary folder this test creates and removes."""
import gzip
import os
import random
import re
import shutil
import threading
import time
import zipfile

from rel_common import SANITIZED, Report, connect, temp_dir

rep = Report()
tmp = temp_dir()

INT = re.compile(rb"-?(0|[1-9][0-9]*)\Z")
REAL = re.compile(rb"-?(0|[1-9][0-9]*)?(\.[0-9]*)?([eE][+-]?[0-9]+)?\Z")


def classify(tok):
    """The value item2vec_csv gives an unquoted field (core/csv.c)."""
    if INT.match(tok) and tok != b"-0" and -2**63 <= int(tok) < 2**63:
        return int(tok)
    m = REAL.match(tok)
    if m and len(tok) <= 400 and (m.group(2) or m.group(3)) and re.search(rb"[0-9]", tok.split(b"e")[0].split(b"E")[0]):
        v = float(tok)
        if v not in (float("inf"), float("-inf")):
            return v
    return tok.decode("utf-8")


def reference(data):
    """(line, position, value) rows by the layout of core/lines.h."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    rows, header = [], True
    for number, line in enumerate(re.split(rb"\r\n|\r|\n", data), 1):
        items = [t for t in re.split(rb"[ \t\v\f]+", line) if t]
        if not items or (header and items[0].startswith(b"#")):
            continue
        header = False
        rows += [(number, pos, classify(t)) for pos, t in enumerate(items, 1)]
    return rows


def random_file(rnd):
    tokens = [b"1", b"42", b"-7", b"007", b"-0", b"1.5", b".5", b"5.", b"-2e3", b"1e", b"e5",
              b"9223372036854775807", b"9223372036854775808", b"#", b"#tag", b"a#b", b"caf\xc3\xa9",
              b"song_12", b"+1", b"0x1f"]
    gaps = [b" ", b"  ", b"\t", b"\v", b"\f", b" \t "]
    ends = [b"\n", b"\r\n", b"\r", b"\n\n", b" \n", b"\t\r\n"]
    out = [b"\xef\xbb\xbf"] if rnd.random() < 0.2 else []
    for _ in range(rnd.randint(0, 3)):
        out.append(rnd.choice([b"", b" ", b"\t"]) + b"# header " + rnd.choice(tokens) + rnd.choice(ends))
    for _ in range(rnd.randint(0, 12)):
        if rnd.random() < 0.2:
            out.append(rnd.choice(gaps) if rnd.random() < 0.5 else b"")
        else:
            n = rnd.randint(1, 8)
            out.append(rnd.choice([b"", b" "]) + b"".join(rnd.choice(tokens) + rnd.choice(gaps)
                                                          for _ in range(n - 1)) + rnd.choice(tokens))
        out.append(rnd.choice(ends) if rnd.random() < 0.9 else rnd.choice(gaps))
    if out and rnd.random() < 0.3:
        out.pop()  # no line end at the very end
    return b"".join(out)


def rows_of(conn, name, path, member=None):
    conn.execute("DROP TABLE IF EXISTS temp.%s" % name)
    args = "path=%s" % ("'" + path.replace("'", "''") + "'")
    if member:
        args += ", member='%s'" % member
    conn.execute("CREATE VIRTUAL TABLE temp.%s USING item2vec_lines(%s)" % (name, args))
    return conn.execute("SELECT line, position, item FROM temp.%s ORDER BY rowid" % name).fetchall()


def same(got, want):
    """Rows equal, values of the same Python type (int, float, str)."""
    return len(got) == len(want) and all(
        g[:2] == w[:2] and type(g[2]) is type(w[2]) and g[2] == w[2] for g, w in zip(got, want))


def test_layout():
    conn = connect(":memory:")
    rnd = random.Random(20240611)
    bad = None
    cases = 150
    for case in range(cases):
        data = random_file(rnd)
        want = reference(data)
        plain = os.path.join(tmp, "case%d.txt" % case)
        with open(plain, "wb") as f:
            f.write(data)
        with open(plain + ".gz", "wb") as f:
            f.write(gzip.compress(data, mtime=0))
        with zipfile.ZipFile(os.path.join(tmp, "case%d.zip" % case), "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("lists/readme.txt", "not this one\n")
            z.writestr("lists/train.txt", data)
        for kind, got in (("plain", rows_of(conn, "t", plain)),
                          ("gzip", rows_of(conn, "t", plain + ".gz")),
                          ("zip", rows_of(conn, "t", os.path.join(tmp, "case%d.zip" % case), "train.txt"))):
            if not same(got, want) and bad is None:
                bad = "case %d (%s) %r: got %r, want %r" % (case, kind, data, got[:12], want[:12])
    rep.check("lines/layout: %d random files, plain, gzip and zip, match the reference" % cases,
              bad is None, bad)


def test_gensim():
    try:
        from gensim.models.word2vec import LineSentence
    except ImportError:
        rep.skip("lines/gensim LineSentence", "gensim is not installed (python3-gensim)")
        return
    rnd = random.Random(5)
    path = os.path.join(tmp, "gensim.txt")
    with open(path, "w", newline="") as f:
        for p in range(300):
            songs = ["s%d" % rnd.randint(1, 500) if rnd.random() < 0.5 else str(rnd.randint(1, 500))
                     for _ in range(rnd.randint(1, 40))]
            sep = rnd.choice([" ", "\t", "  "])
            f.write(sep.join(songs) + rnd.choice([" \n", "\n", "\r\n"]) + ("\n" if p % 50 == 0 else ""))
    want = [list(s) for s in LineSentence(path)]
    conn = connect(":memory:")
    rows = rows_of(conn, "g", path)
    got, last = [], None
    for line, _, item in rows:
        if line != last:
            got.append([])
            last = line
        got[-1].append(str(item))
    rep.check("lines/gensim: the same sequences as gensim's LineSentence (%d lines)" % len(want),
              got == want, "first difference at %s" % next(
                  (i for i, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want))))


def interrupted(conn, sql, after):
    """Run sql, interrupt it after `after` seconds: (error, seconds the
    statement took after the interrupt)."""
    fired = {}

    def fire():
        time.sleep(after)
        fired["at"] = time.monotonic()
        conn.interrupt()

    t = threading.Thread(target=fire)
    t.start()
    err = None
    try:
        conn.execute(sql).fetchall()
    except Exception as e:  # sqlite3.OperationalError expected
        err = str(e)
    end = time.monotonic()
    t.join()
    return err, (end - fired["at"]) if "at" in fired else None


def test_interrupt():
    limit = 3.0 if SANITIZED else 1.0
    path = os.path.join(tmp, "big.txt.gz")
    line = (" ".join(str(i) for i in range(1, 21)) + "\n").encode()
    with gzip.open(path, "wb", compresslevel=1) as f:
        for _ in range(100):
            f.write(line * 10000)  # 1,000,000 lines, 20,000,000 items
    conn = connect(os.path.join(tmp, "interrupt.db"))
    conn.execute("CREATE VIRTUAL TABLE temp.big USING item2vec_lines('%s')" % path)
    for what, sql in (("scan", "SELECT count(*), sum(item) FROM temp.big"),
                      ("train", "SELECT item2vec_train('temp.big', 'line', 'item', "
                                "'order_by=position', 'verbose=0')")):
        err, took = interrupted(conn, sql, 0.3)
        rep.check("lines/interrupt: a %s stops with 'interrupted'" % what,
                  err is not None and err.endswith("interrupted"), "got %r" % err)
        rep.check("lines/interrupt: a %s stops within %.0f s" % (what, limit),
                  took is not None and took < limit, "took %s s" % took)
    rep.check("lines/interrupt: the connection reads again",
              conn.execute("SELECT count(*) FROM (SELECT 1 FROM temp.big LIMIT 5)").fetchone()[0] == 5, "")


try:
    for fn in (test_layout, test_gensim, test_interrupt):
        try:
            fn()
        except Exception as e:  # one failing part does not hide the others
            rep.fail("lines/%s" % fn.__name__, "%s: %s" % (type(e).__name__, e))
finally:
    shutil.rmtree(tmp, ignore_errors=True)
rep.done()
