"""test_movielens.py: item2vec on MovieLens small (ratings.csv, movies.csv
from ML_DIR; skipped with a message when ML_DIR is unset or lacks them).

1. Training with the notebook's settings (vector_size=32, window=10,
   negative=20, min_count=1, epochs=5, order_by=timestamp) succeeds on every
   rating, and Toy Story's (movieId 1) ten neighbours are all real movies.
2. Next-item check: each user's last rating by timestamp is held out, the
   model is trained on the rest with the same settings, and for each user the
   10 movies most similar to their last training movie, leaving out movies
   they already rated, are the guess.  The hit rate at 10 must beat the
   popularity baseline (the 10 most rated training movies the user has not
   rated), computed here on the same split.  Both numbers are printed.
"""

import csv
import os
import time
from collections import Counter

from common import check, connect, finish, run, skip, train

ML_DIR = os.environ.get("ML_DIR", "")
NOTEBOOK = ("order_by=timestamp", "vector_size=32", "window=10", "negative=20",
            "min_count=1", "epochs=5")


def load(conn):
    conn.execute("CREATE TABLE ratings(userId INTEGER, movieId INTEGER, rating REAL, timestamp INTEGER)")
    conn.execute("CREATE TABLE movies(movieId INTEGER PRIMARY KEY, title TEXT, genres TEXT)")
    with open(os.path.join(ML_DIR, "ratings.csv"), newline="", encoding="utf-8") as f:
        r = csv.reader(f)
        next(r)
        conn.executemany("INSERT INTO ratings VALUES (?, ?, ?, ?)",
                         ((int(u), int(m), float(x), int(t)) for u, m, x, t in r))
    with open(os.path.join(ML_DIR, "movies.csv"), newline="", encoding="utf-8") as f:
        r = csv.reader(f)
        next(r)
        conn.executemany("INSERT INTO movies VALUES (?, ?, ?)", ((int(m), t, g) for m, t, g in r))
    conn.commit()


def test_notebook_settings(conn):
    rows = conn.execute("SELECT count(*) FROM ratings").fetchone()[0]
    t0 = time.time()
    s = train(conn, "ratings", "userId", "movieId", *NOTEBOOK)
    print("# trained on %d ratings in %.1fs: %d movies, loss per epoch %s"
          % (s["tokens"], time.time() - t0, s["items"], s["loss"]))
    check("MovieLens: the notebook's settings train on every rating",
          s["tokens"] == rows and s["items"] == conn.execute(
              "SELECT count(DISTINCT movieId) FROM ratings").fetchone()[0],
          "tokens %s of %d rows" % (s["tokens"], rows))
    got = conn.execute("SELECT s.rank, s.item, m.title FROM similar_items(1, 10) AS s "
                       "LEFT JOIN movies AS m ON m.movieId = s.item ORDER BY s.rank").fetchall()
    for rank, item, title in got[:5]:
        print("#   %d. %s %s" % (rank, item, title))
    check("MovieLens: Toy Story's 10 neighbours are all movies",
          len(got) == 10 and all(t is not None for _, _, t in got),
          "%d rows, unknown: %s" % (len(got), [i for _, i, t in got if t is None]))


def test_next_item(conn):
    conn.executescript("""
        CREATE TEMP TABLE ordered AS
          SELECT userId, movieId, timestamp,
                 row_number() OVER (PARTITION BY userId ORDER BY timestamp, rowid) AS pos,
                 count(*) OVER (PARTITION BY userId) AS n
            FROM ratings;
        CREATE TABLE history AS SELECT userId, movieId, timestamp FROM temp.ordered WHERE pos < n
          ORDER BY userId, pos;
    """)
    held = dict(conn.execute("SELECT userId, movieId FROM temp.ordered WHERE pos = n"))
    last = dict(conn.execute("SELECT userId, movieId FROM temp.ordered WHERE pos = n - 1"))
    seen = {}
    for u, m in conn.execute("SELECT userId, movieId FROM history"):
        seen.setdefault(u, set()).add(m)
    t0 = time.time()
    train(conn, "history", "userId", "movieId", "model=heldout", *NOTEBOOK)
    print("# held-out model trained in %.1fs" % (time.time() - t0))
    popular = [m for m, _ in Counter(m for s in seen.values() for m in s).most_common()]
    hits = pop_hits = 0
    for u, target in held.items():
        k = 10 + len(seen[u])
        guess = [it for (it,) in conn.execute(
            "SELECT item FROM similar_items(?, ?, 'heldout')", (last[u], k))
            if it not in seen[u]][:10]
        hits += target in guess
        pop = []
        for m in popular:
            if m not in seen[u]:
                pop.append(m)
                if len(pop) == 10:
                    break
        pop_hits += target in pop
    n = len(held)
    hr, pop_hr = hits / n, pop_hits / n
    print("# next-item hit rate at 10 over %d users: item2vec %.4f, popularity %.4f" % (n, hr, pop_hr))
    check("MovieLens: next-item hit rate at 10 beats popularity", hr > pop_hr, "item2vec %.4f, popularity %.4f" % (hr, pop_hr))


if not ML_DIR or not os.path.isfile(os.path.join(ML_DIR, "ratings.csv")) \
        or not os.path.isfile(os.path.join(ML_DIR, "movies.csv")):
    why = "ML_DIR is not set" if not ML_DIR else "no ratings.csv/movies.csv in %s" % ML_DIR
    skip("MovieLens notebook settings and next-item check", why)
else:
    CONN = connect()
    load(CONN)
    run("test_notebook_settings", lambda: test_notebook_settings(CONN))
    run("test_next_item", lambda: test_next_item(CONN))
    CONN.close()
finish()
