"""gen.py: interaction data with planted clusters, for item2vec's tests and
benchmarks.

Items are split into clusters; each user belongs to one cluster and draws most
of their items from it (popular items more often, by a Zipf law inside the
cluster), plus a share of "noise" items from the whole catalogue.  Items that
co-occur are therefore the items of one cluster, and a good embedding puts each
item's nearest neighbours in its own cluster.  Everything is drawn from one
seeded random.Random, so the same arguments give the same rows on every run
and every machine.

As a module:
    from gen import planted, write_sqlite
    data = planted(clusters=10, per_cluster=20, users=2000, seed=1)
    write_sqlite(conn, "ratings", data.rows)      # userId, itemId, ts
    data.cluster[item]                             # the true cluster of an item
    data.chance                                    # share of other items in an item's cluster

As a tool (for benchmarks):
    python3 tests/py/gen.py --db planted.db --table ratings --users 100000
    python3 tests/py/gen.py --csv planted.csv --clusters 50 --per-cluster 100
"""

import argparse
import csv
import random
import sqlite3
from collections import Counter


class Planted:
    """Rows (user, item, ts), the cluster of each item, and helpers."""

    def __init__(self, rows, cluster, clusters, per_cluster):
        self.rows = rows
        self.cluster = cluster
        self.clusters = clusters
        self.per_cluster = per_cluster

    @property
    def items(self):
        return len(self.cluster)

    @property
    def chance(self):
        """Expected share of same-cluster items among neighbours drawn at random."""
        n = self.items
        return (self.per_cluster - 1) / (n - 1) if n > 1 else 0.0

    def frequency(self):
        """Counter item -> occurrences in the rows."""
        return Counter(item for _, item, _ in self.rows)

    def most_frequent(self, n):
        """The n most frequent items (ties by item, so the list is stable)."""
        freq = self.frequency()
        return sorted(freq, key=lambda it: (-freq[it], str(it)))[:n]


def planted(clusters=10, per_cluster=20, users=2000, min_items=5, max_items=30,
            noise=0.1, zipf=0.8, text_ids=False, seed=1):
    """Generate rows with planted clusters.

    clusters x per_cluster items, with ids 1..n shuffled across clusters (so an
    id says nothing about its cluster), or text ids 'i1'.. when text_ids.
    Each user has between min_items and max_items distinct items; a share
    `noise` of them come from the whole catalogue, the rest from the user's
    cluster with weight 1/rank**zipf.  ts numbers each user's rows in the order
    drawn (ascending from 1, unique over the whole table).
    """
    if per_cluster < 2 or clusters < 1:
        raise ValueError("need at least one cluster of two items")
    max_items = min(max_items, per_cluster)
    min_items = min(min_items, max_items)
    rng = random.Random(seed)
    n = clusters * per_cluster
    ids = list(range(1, n + 1))
    rng.shuffle(ids)
    if text_ids:
        ids = ["i%d" % i for i in ids]
    members = [ids[c * per_cluster:(c + 1) * per_cluster] for c in range(clusters)]
    cluster = {it: c for c, its in enumerate(members) for it in its}
    cum, acc = [], 0.0
    for r in range(per_cluster):
        acc += 1.0 / (r + 1) ** zipf
        cum.append(acc)
    rows = []
    ts = 0
    for user in range(1, users + 1):
        c = rng.randrange(clusters)
        want = rng.randint(min_items, max_items)
        seen = set()
        while len(seen) < want:
            if rng.random() < noise:
                it = ids[rng.randrange(n)]
            else:
                it = rng.choices(members[c], cum_weights=cum)[0]
            if it in seen:
                continue
            seen.add(it)
            ts += 1
            rows.append((user, it, ts))
    return Planted(rows, cluster, clusters, per_cluster)


def write_sqlite(db, table, rows, columns=("userId", "itemId", "ts")):
    """Create table (replacing it) and insert rows; db is a connection or a path."""
    conn = db if isinstance(db, sqlite3.Connection) else sqlite3.connect(db)
    q = '"%s"' % table.replace('"', '""')
    cols = ", ".join('"%s"' % c.replace('"', '""') for c in columns)
    if not conn.in_transaction:
        conn.execute("BEGIN")  # one transaction, also in autocommit mode
    conn.execute("DROP TABLE IF EXISTS %s" % q)
    conn.execute("CREATE TABLE %s(%s)" % (q, cols))
    conn.executemany("INSERT INTO %s VALUES (?, ?, ?)" % q, rows)
    conn.execute("COMMIT")
    if conn is not db:
        conn.close()


def write_csv(path, rows, columns=("userId", "itemId", "ts")):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(columns)
        w.writerows(rows)


def neighbour_purity(neighbours, cluster, items):
    """Mean share of each item's neighbours that are in its own cluster.

    neighbours(item) returns the list of neighbour items."""
    shares = []
    for it in items:
        nb = neighbours(it)
        if nb:
            shares.append(sum(cluster.get(x) == cluster[it] for x in nb) / len(nb))
        else:
            shares.append(0.0)
    return sum(shares) / len(shares) if shares else 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", help="sqlite database to write")
    ap.add_argument("--table", default="ratings")
    ap.add_argument("--csv", help="CSV file to write")
    ap.add_argument("--clusters", type=int, default=10)
    ap.add_argument("--per-cluster", type=int, default=20)
    ap.add_argument("--users", type=int, default=2000)
    ap.add_argument("--min-items", type=int, default=5)
    ap.add_argument("--max-items", type=int, default=30)
    ap.add_argument("--noise", type=float, default=0.1)
    ap.add_argument("--zipf", type=float, default=0.8)
    ap.add_argument("--text-ids", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--clusters-table", default="item_clusters",
                    help="with --db: table (item, cluster) of the true clusters")
    a = ap.parse_args()
    if not a.db and not a.csv:
        ap.error("give --db or --csv")
    data = planted(a.clusters, a.per_cluster, a.users, a.min_items, a.max_items,
                   a.noise, a.zipf, a.text_ids, a.seed)
    if a.db:
        write_sqlite(a.db, a.table, data.rows)
        conn = sqlite3.connect(a.db)
        q = '"%s"' % a.clusters_table.replace('"', '""')
        conn.execute("DROP TABLE IF EXISTS %s" % q)
        conn.execute("CREATE TABLE %s(item, cluster INTEGER)" % q)
        conn.executemany("INSERT INTO %s VALUES (?, ?)" % q, sorted(data.cluster.items(), key=str))
        conn.commit()
        conn.close()
    if a.csv:
        write_csv(a.csv, data.rows)
    print("%d rows, %d users, %d items in %d clusters (chance %.3f)"
          % (len(data.rows), a.users, data.items, a.clusters, data.chance))


if __name__ == "__main__":
    main()
