"""tests/py/test_docs.py: the examples of README.md and docs/*.md, run.

A fenced block is run when the line before its opening fence is a marker:

    <!-- doctest: DATA [fresh] -->          DATA is one of
        movielens   MovieLens small (ML_DIR, or ML_ZIP), as `make demo` loads
                    it: tables ratings and movies.  Skipped without it.
        generated   the stand-in `make demo` generates (sql/demo_synthetic.sql):
                    the same two tables, 240 made-up movies, 400 users.
        any         the generated data, and MovieLens too when ML_DIR is set:
                    for recipes that claim no output.
        none        an empty database.
    <!-- doctest: skip REASON -->           never run (the reason is kept).

`sql` blocks go to the sqlite3 shell (`.mode box`, headers on, the extension
loaded as ./item2vec), `python` blocks to /usr/bin/python3, `js` blocks to node
(skipped when node or the better-sqlite3 module is missing: install it with
`npm install better-sqlite3@12` and set NODE_PATH to its node_modules).  Each
runs in a temporary folder holding a symbolic link ./item2vec.so to the library
and the database as ./movies.db; the blocks of one document and one DATA share
that database in document order, unless a block says `fresh`.

A block with an opening fence of no language right after it (a blank line
between is allowed) claims that output.  Box tables are compared with the last
tables the block printed, other text with its last lines.  Cells compare as
text, except numbers: a number matches when it is within one unit of the last
digit printed (the vector kernels differ between CPUs, so the last printed
digit may), and items and ranks therefore must match exactly.  Any error
message in the output fails the block.

Enforced: every sql, python and js block of README.md has a marker, and so
does every block of docs/*.md whose output is claimed.  Also checked here:
every relative link of those files names a file that exists, and every anchor
a heading of that file.  Everything happens in temporary folders this test
creates and removes.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unicodedata

from common import finish, not_ok, ok, skip

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LIB = os.path.abspath(os.path.join(ROOT, os.environ.get("I2V_LIB", "./item2vec")))
SUFFIX = ".dylib" if sys.platform == "darwin" else ".so"
SQLITE3 = os.environ.get("SQLITE3", "sqlite3")
PYTHON = os.environ.get("PYTHON", "/usr/bin/python3")
ML_DIR = os.environ.get("ML_DIR", "")
ML_ZIP = os.environ.get("ML_ZIP", "")
SANITIZED = bool(os.environ.get("I2V_SANITIZE"))

DOCS = ["README.md"] + sorted(
    os.path.join("docs", f) for f in os.listdir(os.path.join(ROOT, "docs")) if f.endswith(".md"))
MARK = re.compile(r"^\s*<!--\s*doctest:\s*(.*?)\s*-->\s*$")
FENCE = re.compile(r"^(\s*)(`{3,})\s*([\w+-]*)\s*$")
ERROR = re.compile(r"^(Error|Parse error|Runtime error)|Traceback \(most recent|^\w+Error:", re.M)


class Block:
    def __init__(self, doc, line, lang, text):
        self.doc, self.line, self.lang, self.text = doc, line, lang, text
        self.spec = None      # the marker's words, or None
        self.output = None    # the claimed output

    @property
    def name(self):
        return "%s:%d" % (self.doc, self.line)


def parse(doc):
    """The fenced blocks of doc, each with its marker and claimed output."""
    lines = open(os.path.join(ROOT, doc), encoding="utf-8").read().split("\n")
    blocks, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, lang, start = m.group(1), m.group(2), m.group(3), i
        i += 1
        body = []
        while i < len(lines) and lines[i].strip() != fence:
            line = lines[i]
            body.append(line[len(indent):] if line.startswith(indent) else line)
            i += 1
        i += 1
        b = Block(doc, start + 1, lang, "\n".join(body) + "\n")
        prev = lines[start - 1] if start > 0 else ""
        mm = MARK.match(prev)
        if mm:
            b.spec = mm.group(1).split()
        if lang == "" and blocks and blocks[-1].end == start_gap(lines, start):
            blocks[-1].output = b.text
            blocks[-1].end = i
            continue
        b.end = i
        blocks.append(b)
    return blocks


def start_gap(lines, start):
    """Where a block ending before line `start` must have ended for the block
    at `start` to be its output: at most one blank line between."""
    j = start
    if j > 0 and lines[j - 1].strip() == "":
        j -= 1
    return j


# --- the data -----------------------------------------------------------------

def make_db(path, data):
    """Create data's tables in a new database at path; None or a reason to skip."""
    script = ".bail on\n"
    if data == "generated":
        script += open(os.path.join(ROOT, "sql/demo_synthetic.sql")).read()
    elif data == "movielens":
        if ML_DIR and os.path.isfile(os.path.join(ML_DIR, "ratings.csv")):
            r, m = (os.path.join(ML_DIR, "ratings.csv"), os.path.join(ML_DIR, "movies.csv"))
            args = ("path='%s'" % r.replace("'", "''"), "path='%s'" % m.replace("'", "''"))
        elif ML_ZIP and os.path.isfile(ML_ZIP):
            z = ML_ZIP.replace("'", "''")
            args = ("path='%s', member='ml-latest-small/ratings.csv'" % z,
                    "path='%s', member='ml-latest-small/movies.csv'" % z)
        else:
            return "needs MovieLens small: set ML_DIR (or ML_ZIP)"
        script += ("CREATE VIRTUAL TABLE temp.ratings_csv USING item2vec_csv(%s);\n"
                   "CREATE VIRTUAL TABLE temp.movies_csv USING item2vec_csv(%s);\n" % args)
        script += open(os.path.join(ROOT, "sql/demo_import.sql")).read()
    p = subprocess.run([SQLITE3, "-batch", "-cmd", ".load '%s'" % LIB, path], input=script,
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("could not build the %s data: %s" % (data, p.stdout + p.stderr))
    return None


class Session:
    """A temporary folder with ./item2vec.so and ./movies.db of one kind."""
    templates = {}

    def __init__(self, base, data):
        self.dir = tempfile.mkdtemp(dir=base)
        os.symlink(LIB + SUFFIX, os.path.join(self.dir, "item2vec" + SUFFIX))
        os.symlink(os.path.join(ROOT, "sql"), os.path.join(self.dir, "sql"))
        self.db = os.path.join(self.dir, "movies.db")
        if data not in Session.templates:
            t = os.path.join(base, "template-%s.db" % data)
            why = make_db(t, data)
            Session.templates[data] = (t, why)
        t, self.why = Session.templates[data]
        if not self.why:
            shutil.copyfile(t, self.db)

    def run(self, block):
        env = dict(os.environ, I2V_LIB=os.path.join(self.dir, "item2vec"))
        if block.lang == "sql":
            cmd = [SQLITE3, "-batch", "-bail", "-cmd", ".load ./item2vec", "-cmd", ".headers on",
                   "-cmd", ".mode box", "movies.db"]
        elif block.lang == "python":
            cmd = [PYTHON, "-"]
        elif block.lang == "js":
            cmd = ["node", "-"]
        else:
            raise RuntimeError("cannot run a %r block" % block.lang)
        p = subprocess.run(cmd, input=block.text, capture_output=True, text=True, cwd=self.dir,
                           env=env, timeout=600)
        out = p.stdout + p.stderr
        if p.returncode != 0 and not ERROR.search(out):
            out += "\nError: exit code %d" % p.returncode
        return out


# --- comparing ----------------------------------------------------------------

NUM = re.compile(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")


def tables(text):
    """The box tables of text, each a list of rows of cells."""
    out, cur = [], None
    for line in text.split("\n"):
        if line.startswith("┌"):
            cur = []
        elif line.startswith("│") and cur is not None:
            cur.append([c.strip() for c in line.strip("│").split("│")])
        elif line.startswith("└") and cur is not None:
            out.append(cur)
            cur = None
    return out


def close(want, got):
    if want == got:
        return True
    if not (NUM.match(want) and NUM.match(got)):
        return False
    m = re.match(r"^-?\d+(?:\.(\d+))?$", want)
    unit = 10.0 ** -len(m.group(1) or "") if m else abs(float(want)) * 1e-6
    return abs(float(want) - float(got)) <= unit * 1.0001


def compare(want, got):
    """None when got shows want, else a description of the first difference."""
    wt = tables(want)
    if wt:
        gt = tables(got)
        if len(gt) < len(wt):
            return "printed %d table(s), the document shows %d:\n%s" % (len(gt), len(wt), got[-1500:])
        for n, (w, g) in enumerate(zip(wt, gt[-len(wt):])):
            if len(w) != len(g):
                return "table %d has %d rows, the document shows %d" % (n + 1, len(g), len(w))
            for r, (wr, gr) in enumerate(zip(w, g)):
                if len(wr) != len(gr) or not all(close(a, b) for a, b in zip(wr, gr)):
                    return "table %d row %d: got %s, the document shows %s" % (n + 1, r + 1, gr, wr)
        return None
    w = [x.rstrip() for x in want.strip("\n").split("\n")]
    g = [x.rstrip() for x in got.strip("\n").split("\n")]
    if g[-len(w):] != w:
        return "the last lines are:\n%s" % "\n".join(g[-len(w):])
    return None


# --- links ----------------------------------------------------------------------

def slug(heading):
    s = re.sub(r"[`*]", "", heading.strip()).lower()
    s = "".join(c for c in s if c in " -_" or unicodedata.category(c)[0] in "LN")
    return s.replace(" ", "-")


def anchors(doc):
    seen, out = {}, set()
    fenced = False
    for line in open(os.path.join(ROOT, doc), encoding="utf-8"):
        if line.startswith("```"):
            fenced = not fenced
        m = re.match(r"^#{1,6}\s+(.*)$", line)
        if m and not fenced:
            s = slug(m.group(1))
            n = seen.get(s, 0)
            seen[s] = n + 1
            out.add(s if n == 0 else "%s-%d" % (s, n))
    return out


def check_links(doc):
    text = open(os.path.join(ROOT, doc), encoding="utf-8").read()
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    bad = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"^[a-z]+:", target):
            continue
        path, _, frag = target.partition("#")
        dest = os.path.normpath(os.path.join(os.path.dirname(doc), path)) if path else doc
        if not os.path.exists(os.path.join(ROOT, dest)):
            bad.append("%s: no such file" % target)
        elif frag and dest.endswith(".md") and frag not in anchors(dest):
            bad.append("%s: no heading of %s has that anchor" % (target, dest))
    name = "links of %s" % doc
    if bad:
        not_ok(name, "; ".join(bad))
    else:
        ok(name)


# --- main -----------------------------------------------------------------------

def have_node():
    try:
        p = subprocess.run(["node", "-e", "require('better-sqlite3')"], capture_output=True,
                           timeout=60)
        return p.returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def main():
    base = tempfile.mkdtemp(prefix="i2v-doctest-")
    try:
        node = None
        for doc in DOCS:
            check_links(doc)
            sessions = {}
            for b in parse(doc):
                runnable = b.lang in ("sql", "python", "js")
                if b.spec is None:
                    if runnable and (doc == "README.md" or b.output is not None):
                        not_ok(b.name, "a %s block%s without a doctest marker" %
                               (b.lang, " that claims an output" if b.output else ""))
                    continue
                if b.spec[0] == "skip":
                    continue
                data = b.spec[0]
                if data not in ("movielens", "generated", "any", "none"):
                    not_ok(b.name, "unknown doctest data %r" % data)
                    continue
                if b.lang == "js":
                    if node is None:
                        node = have_node()
                    if not node:
                        skip(b.name, "needs node and better-sqlite3 (npm install "
                             "better-sqlite3@12; NODE_PATH=.../node_modules)")
                        continue
                if SANITIZED and b.lang != "sql":
                    skip(b.name, "only the sql blocks run under a sanitizer")
                    continue
                kinds = ["generated", "movielens"] if data == "any" else [data]
                for kind in kinds:
                    name = b.name + ("" if data != "any" else " (%s)" % kind)
                    if "fresh" in b.spec or kind not in sessions:
                        sessions[kind] = Session(base, kind)
                    s = sessions[kind]
                    if s.why:
                        if data != "any" or kind == "generated":
                            skip(name, s.why)
                        continue
                    got = s.run(b)
                    if ERROR.search(got):
                        not_ok(name, "error: %s" % got.strip()[-1500:])
                        continue
                    diff = compare(b.output, got) if b.output is not None else None
                    if diff:
                        not_ok(name, diff)
                    else:
                        ok(name)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
