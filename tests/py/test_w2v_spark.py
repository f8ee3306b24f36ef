#!/usr/bin/python3
"""The Spark round trip docs/reference.md describes ("Beyond one machine"), minus
the cluster:

1. the sequence export: the reference's query, run by the sqlite3 shell, writes
   JSON Lines with each user's items as strings in time order (what Spark
   MLlib's Word2Vec wants in its inputCol), whatever order the rows were
   inserted in;
2. the vector import: a file written the way the reference's PySpark lines
   write model.getVectors() (a header, then each word and repr() of its
   double values) imports with item2vec_import, with INTEGER items, the
   float32 values Spark had, and similar_items agreeing with a cosine
   ranking computed here; a file without the header is refused clearly.
"""
import json
import os
import random
import sqlite3
import struct
import subprocess
import sys
import tempfile

LIB = os.environ.get("I2V_LIB", "./item2vec")
SQLITE3 = os.environ.get("SQLITE3", "sqlite3")
NAME = "w2v_spark"
failures = 0

# The reference's export, word for word.
EXPORT_SQL = """\
CREATE INDEX IF NOT EXISTS ratings_user_time ON ratings(userId, timestamp);
SELECT json_object('user', userId, 'items', json_group_array(CAST(movieId AS TEXT)))
  FROM ratings INDEXED BY ratings_user_time
 GROUP BY userId;
"""


def check(name, cond, why=""):
    global failures
    if cond:
        print(f"ok - {NAME}/{name}")
    else:
        failures += 1
        print(f"not ok - {NAME}/{name}: {why}")


def connect(path=":memory:"):
    db = sqlite3.connect(path)
    db.enable_load_extension(True)
    db.load_extension(LIB)
    return db


def write_spark_vectors(rows, dim, path):
    """What the reference's PySpark lines do with model.getVectors(): rows have
    .word (a string) and .vector (doubles)."""
    with open(path, "w") as f:
        f.write(f"{len(rows)} {dim}\n")
        for row in rows:
            f.write(row.word + " " + " ".join(repr(float(x)) for x in row.vector) + "\n")


class Row:
    def __init__(self, word, vector):
        self.word, self.vector = word, vector


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def sequences_out(tmp):
    path = os.path.join(tmp, "ratings.db")
    rnd = random.Random(4)
    rows = []
    for user in range(1, 21):
        for k in range(rnd.randint(2, 12)):
            rows.append((user, rnd.randint(1, 50), 4.0, rnd.randint(1, 10**9)))
    rnd.shuffle(rows)  # insertion order says nothing about time
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE ratings(userId INTEGER, movieId INTEGER, rating REAL, timestamp INTEGER)")
    db.executemany("INSERT INTO ratings VALUES (?, ?, ?, ?)", rows)
    db.commit()
    db.close()
    out = subprocess.run([SQLITE3, "-batch", path], input=EXPORT_SQL, capture_output=True,
                         text=True, timeout=60)
    check("export query runs in the sqlite3 shell", out.returncode == 0 and not out.stderr,
          out.stderr)
    lines = out.stdout.splitlines()
    try:
        got = {d["user"]: d["items"] for d in map(json.loads, lines)}
    except ValueError as e:
        check("export is JSON Lines", False, str(e))
        return
    check("export is JSON Lines, one user per line", len(lines) == 20 and len(got) == 20,
          f"{len(lines)} lines, {len(got)} users")
    want = {}
    for user, movie, _, t in sorted(rows, key=lambda r: (r[0], r[3])):
        want.setdefault(user, []).append(str(movie))
    check("items are strings in time order", got == want,
          next((f"user {u}: {got.get(u)} vs {want[u]}" for u in want if got.get(u) != want[u]), ""))


def vectors_in(tmp):
    rnd = random.Random(9)
    dim = 6
    words = [str(i) for i in rnd.sample(range(1, 100000), 40)]
    # Spark keeps float32 vectors and hands them out as doubles.
    vecs = [[f32(rnd.gauss(0, 1)) for _ in range(dim)] for _ in words]
    path = os.path.join(tmp, "spark_vectors.txt")
    write_spark_vectors([Row(w, v) for w, v in zip(words, vecs)], dim, path)

    db = connect()
    summary = json.loads(db.execute("SELECT item2vec_import(?, 'spark')", (path,)).fetchone()[0])
    check("import summary", summary["items"] == 40 and summary["dim"] == dim
          and summary["item_type"] == "integer" and summary["format"] == "text", str(summary))
    stored = {item: struct.unpack(f"<{dim}f", blob) for item, blob in db.execute(
        "SELECT item, vector FROM item2vec_vectors WHERE model = 'spark'")}
    check("items are INTEGER", all(isinstance(k, int) for k in stored), str(list(stored)[:5]))
    check("vectors are Spark's float32 values",
          all(list(stored[int(w)]) == v for w, v in zip(words, vecs)), "values differ")

    def cosine(a, b):
        dot = sum(x * y for x, y in zip(a, b))
        return dot / (sum(x * x for x in a) ** 0.5 * sum(y * y for y in b) ** 0.5)

    bad = []
    for q in words[:5]:
        qv = vecs[words.index(q)]
        ranked = sorted(((cosine(qv, v), int(w)) for w, v in zip(words, vecs) if w != q),
                        reverse=True)[:5]
        got = db.execute("SELECT item, similarity FROM similar_items(?, 5, 'spark')",
                         (int(q),)).fetchall()
        if [i for i, _ in got] != [i for _, i in ranked] or any(
                abs(s - c) > 1e-5 for (_, s), (c, _) in zip(got, ranked)):
            bad.append(f"{q}: {got} vs {ranked}")
    check("similar_items ranks as a plain cosine ranking does", not bad, "; ".join(bad))

    # saveAsTextFile-style output has no header line: refused with a hint.
    headless = os.path.join(tmp, "part-00000")
    with open(path) as src, open(headless, "w") as dst:
        dst.writelines(src.readlines()[1:])
    try:
        db.execute("SELECT item2vec_import(?, 'headless')", (headless,)).fetchone()
        check("a file without the header is refused", False, "it was imported")
    except sqlite3.OperationalError as e:
        check("a file without the header is refused",
              "expected the header '<count> <dimension>'" in str(e), str(e))
    db.close()


def main():
    with tempfile.TemporaryDirectory() as tmp:
        sequences_out(tmp)
        vectors_in(tmp)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
