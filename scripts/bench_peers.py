#!/usr/bin/python3
"""bench_peers.py: the other nearest-neighbour libraries `make bench` compares
similar_items and item2vec_index with, each behind an "installed?" guard.

Imported by scripts/bench_query.py, which runs every peer on the same vectors,
the same query items and the same thread count as item2vec, in the same run.
Each peer answers a one-item top-k query as similar_items(id, k) does: the
item's own vector is the query and the item itself is left out of the answer.

Peers (a missing one is skipped, and the table says why):
  gensim      KeyedVectors.most_similar, exact (python3-gensim)
  faiss-flat  faiss IndexFlatIP, the exact scan (python3-faiss)
  faiss-hnsw  faiss IndexHNSWFlat, at item2vec_index's M, ef_construction and
              ef (python3-faiss); on unit vectors its L2 order is the cosine
              order.  Built only up to BENCH_FAISS_HNSW_MAX items (default
              1,000,000): its build is the slowest of the three graphs.
  hnswlib     hnswlib's Index('ip'), at the same M, ef_construction and ef
              (python3-hnswlib)
  sqlite-vec  a vec0 virtual table with distance_metric=cosine, exact
              (the loadable vec0.so: SQLITE_VEC=/path/to/vec0, or the npm
              package that scripts/bench.sh installs under build/sqlite-vec)

BENCH_SKIP_PEERS=a,b (names above, or "all") skips peers as if they were not
installed, to check that the bench runs without them.
"""

import os
import sqlite3
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VEC0_DEFAULT = os.path.join(ROOT, "build", "sqlite-vec", "node_modules",
                            "sqlite-vec-linux-x64", "vec0")


class Skip(Exception):
    """A peer that is installed but not run here, and why."""


def _skipped(name):
    skip = set(filter(None, os.environ.get("BENCH_SKIP_PEERS", "").split(",")))
    return "all" in skip or name in skip


class Peer:
    """One library.  build() returns its build seconds; query(i, k) the k
    nearest items of item i, without i; set_ef() the search width (graphs)."""
    name = "?"
    exact = True
    version = ""

    def set_ef(self, ef):
        pass

    def close(self):
        pass


class Gensim(Peer):
    name = "gensim"

    def __init__(self, vec, threads):
        from gensim.models import KeyedVectors
        import gensim
        self.version = "gensim %s most_similar" % gensim.__version__
        self.vec = vec
        self.KeyedVectors = KeyedVectors

    def build(self):
        t = time.perf_counter()
        n, dim = self.vec.shape
        self.kv = self.KeyedVectors(vector_size=dim)
        self.kv.add_vectors([str(i) for i in range(n)], self.vec)
        self.kv.fill_norms()
        return time.perf_counter() - t

    def query(self, i, k):
        return [int(key) for key, _ in self.kv.most_similar(str(i), topn=k)]


class FaissFlat(Peer):
    name = "faiss-flat"

    def __init__(self, vec, threads):
        import faiss
        self.faiss = faiss
        self.version = "faiss %s IndexFlatIP" % faiss.__version__
        self.vec = vec

    def build(self):
        t = time.perf_counter()
        self.index = self.faiss.IndexFlatIP(self.vec.shape[1])
        self.index.add(self.vec)
        self.faiss.omp_set_num_threads(1)  # one query at a time, on one thread
        return time.perf_counter() - t

    def query(self, i, k):
        _, ids = self.index.search(self.vec[i:i + 1], k + 1)
        return [int(j) for j in ids[0] if j != i and j >= 0][:k]


class FaissHNSW(Peer):
    name = "faiss-hnsw"
    exact = False

    def __init__(self, vec, threads, M, ef_construction):
        import faiss
        cap = int(os.environ.get("BENCH_FAISS_HNSW_MAX", "1000000"))
        if len(vec) > cap:
            raise Skip("%d items, over BENCH_FAISS_HNSW_MAX=%d" % (len(vec), cap))
        self.faiss = faiss
        self.version = "faiss %s IndexHNSWFlat" % faiss.__version__
        self.threads = threads
        self.vec, self.M, self.efc = vec, M, ef_construction

    def build(self):
        self.faiss.omp_set_num_threads(self.threads)
        t = time.perf_counter()
        self.index = self.faiss.IndexHNSWFlat(self.vec.shape[1], self.M)
        self.index.hnsw.efConstruction = self.efc
        self.index.add(self.vec)
        self.faiss.omp_set_num_threads(1)  # one query at a time, on one thread
        return time.perf_counter() - t

    def set_ef(self, ef):
        self.index.hnsw.efSearch = ef

    def query(self, i, k):
        _, ids = self.index.search(self.vec[i:i + 1], k + 1)
        return [int(j) for j in ids[0] if j != i and j >= 0][:k]


class Hnswlib(Peer):
    name = "hnswlib"
    exact = False

    def __init__(self, vec, threads, M, ef_construction):
        import hnswlib
        self.hnswlib = hnswlib
        self.version = "hnswlib " + getattr(hnswlib, "__version__", _deb_version("python3-hnswlib"))
        self.vec, self.threads, self.M, self.efc = vec, threads, M, ef_construction

    def build(self):
        t = time.perf_counter()
        n, dim = self.vec.shape
        self.index = self.hnswlib.Index(space="ip", dim=dim)
        self.index.init_index(max_elements=n, ef_construction=self.efc, M=self.M, random_seed=100)
        self.index.set_num_threads(self.threads)
        self.index.add_items(self.vec, np.arange(n))
        return time.perf_counter() - t

    def set_ef(self, ef):
        self.index.set_ef(max(ef, 11))

    def query(self, i, k):
        ids, _ = self.index.knn_query(self.vec[i:i + 1], k=k + 1, num_threads=1)
        return [int(j) for j in ids[0] if j != i][:k]


class SqliteVec(Peer):
    name = "sqlite-vec"

    def __init__(self, vec, threads):
        path = os.environ.get("SQLITE_VEC") or VEC0_DEFAULT
        if not os.path.exists(path + ".so") and not os.path.exists(path):
            raise Skip("no vec0.so (set SQLITE_VEC, or let scripts/bench.sh "
                              "install the npm package sqlite-vec under build/sqlite-vec)")
        self.conn = sqlite3.connect(":memory:", isolation_level=None)
        self.conn.enable_load_extension(True)
        try:
            self.conn.load_extension(path)
        except sqlite3.Error as e:
            raise Skip("vec0 does not load: %s" % e)
        self.version = "sqlite-vec %s vec0" % self.conn.execute("SELECT vec_version()").fetchone()[0]
        self.vec = vec

    def build(self):
        t = time.perf_counter()
        n, dim = self.vec.shape
        c = self.conn
        c.execute("CREATE VIRTUAL TABLE v USING vec0(embedding float[%d] distance_metric=cosine)" % dim)
        raw = self.vec.astype("<f4").tobytes()
        w = 4 * dim
        c.execute("BEGIN")
        # rowid i + 1 holds item i.
        c.executemany("INSERT INTO v(rowid, embedding) VALUES (?, ?)",
                      ((i + 1, raw[i * w:(i + 1) * w]) for i in range(n)))
        c.execute("COMMIT")
        self.raw, self.w = raw, w
        return time.perf_counter() - t

    def query(self, i, k):
        rows = self.conn.execute(
            "SELECT rowid FROM v WHERE embedding MATCH ? AND k = ? ORDER BY distance",
            (self.raw[i * self.w:(i + 1) * self.w], k + 1)).fetchall()
        return [r[0] - 1 for r in rows if r[0] - 1 != i][:k]

    def close(self):
        self.conn.close()


def _deb_version(pkg):
    try:
        import subprocess
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg],
                             capture_output=True, text=True, timeout=10).stdout
        return out.split("-")[0] or "?"
    except (OSError, ValueError):
        return "?"


def make(name, vec, threads, M=48, ef_construction=400):
    """The peer `name` on vec, or (None, why it is skipped)."""
    if _skipped(name):
        return None, "BENCH_SKIP_PEERS"
    cls = {"gensim": Gensim, "faiss-flat": FaissFlat, "faiss-hnsw": FaissHNSW,
           "hnswlib": Hnswlib, "sqlite-vec": SqliteVec}[name]
    try:
        if cls in (FaissHNSW, Hnswlib):
            return cls(vec, threads, M, ef_construction), None
        return cls(vec, threads), None
    except Skip as e:
        return None, str(e)
    except ImportError as e:
        pkg = {"gensim": "python3-gensim", "hnswlib": "python3-hnswlib"}.get(name, "python3-faiss")
        return None, "not installed for %s (%s; Debian: apt-get install %s)" % (
            sys.executable, e, pkg)


EXACT = ("gensim", "faiss-flat", "sqlite-vec")
GRAPHS = ("hnswlib", "faiss-hnsw")
