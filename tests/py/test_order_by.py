"""test_order_by.py: order_by sorts each user's history by the column, ties
by rowid, whether item2vec sorts it itself (NULL, INTEGER and REAL values)
or hands the sort to SQLite (TEXT values): a table in shuffled order trained
with order_by=ts gives bit-identical vectors to the same rows stored already
sorted and trained without order_by.

The rows are built so that nothing but the sort can differ: users appear in
the same order either way (each user's times come after the previous
user's), and every item has its own count (so the vocabulary's order does
not depend on which row comes first).
"""

import random

from common import check, connect, finish, run, train

OPTS = ("workers=1", "seed=5", "vector_size=16", "window=3", "epochs=2",
        "min_count=1", "sample=0")


def make_rows(kind, seed=11):
    """(user, item, ts) rows: users in order, each user's rows shuffled."""
    rnd = random.Random(seed)
    items = [it for it in range(1, 41) for _ in range(it + 5)]  # counts 6..45
    rnd.shuffle(items)
    rows, u, pos = [], 1, 0
    while pos < len(items):
        n = min(rnd.randint(8, 20), len(items) - pos)
        hist = []
        for k in range(n):
            t = u * 1000 + rnd.randrange(0, 40)  # small range: ties
            if kind == "real" and rnd.random() < 0.5:
                t = t + 0.5
            if kind == "text":
                t = "%08d" % t
            if kind in ("int", "real") and u == 1 and k < 3:
                t = None  # NULL sorts first; only in the first user's rows
            hist.append((u, items[pos + k], t))
        rnd.shuffle(hist)
        rows.extend(hist)
        pos += n
        u += 1
    return rows


def sort_key(row_and_rowid):
    (u, _, t), rowid = row_and_rowid
    return (u, t is not None, t if t is not None else 0, rowid)


def vectors(conn, table, *opts):
    train(conn, table, "u", "i", *(OPTS + opts + ("model=" + table,)))
    return conn.execute("SELECT item, vector FROM item2vec_vectors WHERE model = ? "
                        "ORDER BY item", (table,)).fetchall()


def case(kind, how):
    rows = make_rows(kind)
    conn = connect()
    conn.execute("CREATE TABLE ev(u INTEGER, i INTEGER, ts)")
    conn.executemany("INSERT INTO ev VALUES (?, ?, ?)", rows)
    ordered = [r for r, _ in sorted(zip(rows, range(1, len(rows) + 1)), key=sort_key)]
    conn.execute("CREATE TABLE ref(u INTEGER, i INTEGER)")
    conn.executemany("INSERT INTO ref VALUES (?, ?)", [(u, i) for u, i, _ in ordered])
    a = vectors(conn, "ev", "order_by=ts")
    b = vectors(conn, "ref")
    conn.close()
    check("order_by=ts over %s values (%s) equals the presorted table" % (kind, how),
          len(a) == 40 and a == b,
          "%d of %d vectors differ" % (sum(x != y for x, y in zip(a, b)), len(a)))


run("order_by: integers and NULLs", lambda: case("int", "sorted by item2vec"))
run("order_by: integers, reals and NULLs", lambda: case("real", "sorted by item2vec"))
run("order_by: text", lambda: case("text", "sorted by SQLite"))
finish()
