#!/usr/bin/python3
"""Interop with gensim's word2vec files, both ways.

item2vec -> gensim: a model trained by item2vec_train and written by
item2vec_export loads in gensim's KeyedVectors.load_word2vec_format with the
same keys in the same order, the same vectors (bit for bit: binary
files hold the float32 values, text files the fewest digits that read back
as the same float32) and the same most_similar
top-10 as similar_items.

gensim -> item2vec: vectors saved by gensim's save_word2vec_format (text,
binary, and both gzip-compressed) import with item2vec_import and give
gensim's most_similar top-10 through similar_items.

Skips when gensim (Debian's python3-gensim) is not installed.
"""
import os
import random
import sqlite3
import sys
import tempfile

LIB = os.environ.get("I2V_LIB", "./item2vec")
NAME = "w2v_gensim"

try:
    import numpy as np
    from gensim.models import KeyedVectors, Word2Vec
except ImportError as e:  # pragma: no cover
    print(f"skip - {NAME}: gensim or numpy is not installed ({e})")
    sys.exit(0)

failures = 0


def check(name, cond, why=""):
    global failures
    if cond:
        print(f"ok - {NAME}/{name}")
    else:
        failures += 1
        print(f"not ok - {NAME}/{name}: {why}")


def connect():
    db = sqlite3.connect(":memory:")
    db.enable_load_extension(True)
    db.load_extension(LIB)
    return db


def sequences(n_users=240, n_items=60, seed=3):
    """Users who each stay mostly inside one of four groups of items."""
    rnd = random.Random(seed)
    seqs = []
    for u in range(n_users):
        group = u % 4
        seqs.append([group * (n_items // 4) + rnd.randrange(n_items // 4) + 1
                     if rnd.random() < 0.9 else rnd.randrange(n_items) + 1
                     for _ in range(rnd.randint(5, 15))])
    return seqs


def same_ranking(a, b, tol=1e-5):
    """Two top-k lists [(key, score)] agree: same scores position by
    position, and the same keys except where scores tie."""
    if len(a) != len(b):
        return False, f"lengths {len(a)} and {len(b)}"
    for i, ((ka, sa), (kb, sb)) in enumerate(zip(a, b)):
        if abs(sa - sb) > tol:
            return False, f"rank {i + 1}: {ka}={sa:.7f} vs {kb}={sb:.7f}"
        if ka != kb:
            tied = [k for k, s in a if abs(s - sa) <= tol]
            if kb not in tied:
                return False, f"rank {i + 1}: {ka} vs {kb} (no tie)"
    return True, ""


def sql_top(db, query, model, k=10):
    return [(str(item), sim) for _, item, sim in db.execute(
        "SELECT rank, item, similarity FROM similar_items(?, ?, ?)", (query, k, model))]


def item2vec_to_gensim(tmp):
    db = connect()
    db.execute("CREATE TABLE events(user INTEGER, item INTEGER, t INTEGER)")
    t = 0
    for u, seq in enumerate(sequences()):
        for it in seq:
            t += 1
            db.execute("INSERT INTO events VALUES (?, ?, ?)", (u, it, t))
    db.execute("SELECT item2vec_train('events', 'user', 'item', 'order_by=t', 'vector_size=16', "
               "'epochs=5', 'workers=1', 'seed=1', 'verbose=0')").fetchone()
    stored = {str(item): np.frombuffer(blob, dtype="<f4") for item, blob in db.execute(
        "SELECT item, vector FROM item2vec_vectors WHERE model = 'default'")}
    order = [str(i) for (i,) in db.execute(
        "SELECT item FROM item2vec_vectors WHERE model = 'default' ORDER BY frequency DESC, item")]
    queries = order[:5] + order[-5:]
    for fname, binary in (("m.bin", True), ("m.txt", False), ("m.bin.gz", True),
                          ("m.txt.gz", False), ("m.vec", False)):
        path = os.path.join(tmp, fname)
        db.execute("SELECT item2vec_export('default', ?)", (path,)).fetchone()
        kv = KeyedVectors.load_word2vec_format(path, binary=binary)
        check(f"export {fname}: gensim reads the keys in order", kv.index_to_key == order,
              f"{kv.index_to_key[:5]} vs {order[:5]}")
        mine = np.stack([stored[k] for k in order])
        theirs = np.stack([kv[k] for k in order])
        # Text is written with the fewest digits that read back as the same
        # float32, so it too comes back bit for bit.
        check(f"export {fname}: vectors bit-identical",
              theirs.dtype == np.float32 and np.array_equal(mine.view(np.uint32),
                                                           theirs.view(np.uint32)),
              f"max difference {np.abs(mine - theirs).max()}")
        bad = []
        for q in queries:
            ok, why = same_ranking(sql_top(db, q, "default"), kv.most_similar(q, topn=10))
            if not ok:
                bad.append(f"{q}: {why}")
        pair = f"[{queries[0]}, {queries[1]}]"
        ok, why = same_ranking(sql_top(db, pair, "default"),
                               kv.most_similar(positive=[queries[0], queries[1]], topn=10))
        if not ok:
            bad.append(f"{pair}: {why}")
        check(f"export {fname}: most_similar top-10 equals similar_items", not bad, "; ".join(bad))
    db.close()


def gensim_to_item2vec(tmp):
    sentences = [[str(i) for i in s] for s in sequences(seed=11)]
    w2v = Word2Vec(sentences, vector_size=12, window=3, min_count=1, epochs=3, workers=1, seed=1)
    kv = w2v.wv
    db = connect()
    queries = kv.index_to_key[:4] + kv.index_to_key[-4:]
    for fname, binary in (("g.txt", False), ("g.bin", True), ("g.txt.gz", False),
                          ("g.bin.gz", True)):
        path = os.path.join(tmp, fname)
        kv.save_word2vec_format(path, binary=binary)
        model = fname.replace(".", "_")
        summary = db.execute("SELECT item2vec_import(?, ?)", (path, model)).fetchone()[0]
        check(f"import {fname}: summary", f'"items":{len(kv)},"dim":12' in summary
              and '"item_type":"integer"' in summary, summary)
        got = {str(item): np.frombuffer(blob, dtype="<f4") for item, blob in db.execute(
            "SELECT item, vector FROM item2vec_vectors WHERE model = ?", (model,))}
        theirs = np.stack([kv[k] for k in kv.index_to_key])
        mine = np.stack([got[k] for k in kv.index_to_key])
        # gensim writes text with repr(), the shortest round-trip digits, so
        # text and binary both come back bit for bit.
        same = np.array_equal(mine.view(np.uint32), theirs.view(np.uint32))
        check(f"import {fname}: vectors bit-identical to gensim's", same,
              f"max difference {np.abs(mine - theirs).max()}")
        order = [str(i) for (i,) in db.execute(
            "SELECT item FROM item2vec_vectors WHERE model = ? ORDER BY frequency DESC", (model,))]
        check(f"import {fname}: frequency keeps gensim's order", order == kv.index_to_key,
              f"{order[:5]} vs {kv.index_to_key[:5]}")
        bad = []
        for q in queries:
            ok, why = same_ranking(sql_top(db, q, model), kv.most_similar(q, topn=10))
            if not ok:
                bad.append(f"{q}: {why}")
        check(f"import {fname}: similar_items top-10 equals gensim's most_similar",
              not bad, "; ".join(bad))

    # Names that are not integers stay TEXT, and survive the round trip.
    words = KeyedVectors(vector_size=4)
    rnd = np.random.default_rng(7)
    keys = ["apple", "banana", "café", "東京", "x-1", "42"]
    words.add_vectors(keys, rnd.standard_normal((len(keys), 4)).astype(np.float32))
    path = os.path.join(tmp, "words.bin")
    words.save_word2vec_format(path, binary=True)
    summary = db.execute("SELECT item2vec_import(?, 'words')", (path,)).fetchone()[0]
    types = {t for (t,) in db.execute(
        "SELECT DISTINCT typeof(item) FROM item2vec_vectors WHERE model = 'words'")}
    check("import text names: items are TEXT", types == {"text"} and '"item_type":"text"' in summary,
          f"{types} {summary}")
    ok, why = same_ranking(sql_top(db, "東京", "words", 5), words.most_similar("東京", topn=5))
    check("import text names: similar_items equals most_similar", ok, why)
    out = os.path.join(tmp, "words_back.txt")
    db.execute("SELECT item2vec_export('words', ?)", (out,)).fetchone()
    back = KeyedVectors.load_word2vec_format(out, binary=False)
    check("export text names: gensim reads them back", back.index_to_key == keys
          and np.allclose(back.vectors, words.vectors, rtol=1e-6, atol=0), str(back.index_to_key))
    db.close()


def main():
    with tempfile.TemporaryDirectory() as tmp:
        item2vec_to_gensim(tmp)
        gensim_to_item2vec(tmp)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
