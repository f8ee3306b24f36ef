#!/usr/bin/env python3
"""tests/fuzz/make_seeds.py: writes the seed corpus of each fuzz target under
tests/fuzz/corpus/ (run once; the seeds are committed).  Binary seeds of the
model target follow the layout described in fuzz_model.c."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)


OPTIONS = {
    "basic": "vector_size=32\nwindow=10\nnegative=20\nepochs=5",
    "text": "model=my model\norder_by=timestamp",
    "reals": "alpha=0.5\nmin_alpha=0.9\nsample=1e-3\nns_exponent=-0.5",
    "bounds": "vector_size=4096\nworkers=256\nmax_final_vocab=4294967295\nseed=9223372036854775807",
    "bad": "windw=3\nvector_size=0\nalpha=nan\nsg=2\nmin_count= 12x\n=\nmodel=",
    "spaces": "  window = 7 \n\tsg\t=\t0\nshuffle=1\nshrink_windows=0\nverbose=1\nsave_context=1",
}
JSON = {
    "array": '[1, 2, 3]',
    "strings": '["a", "b\\"c", "\\u00e9\\ud83d\\ude00"]',
    "object": '{"positive": [1, "260"], "negative": [3]}',
    "scalar_members": '{"positive": "x", "negative": -2}',
    "numbers": '[-0, 0.5, -1.5e10, 9223372036854775807, -9223372036854775808, 9223372036854775808, 1E+2]',
    "empty": "[]",
    "empty_obj": "{}",
    "bad": "[1,",
    "bad_escape": '["\\x"]',
    "lone": '["\\ud800"]',
    "ws": ' \n\t[ "a" ,\r 2 ] ',
}


def header(dim, items, k):
    return struct.pack("<hiB", dim, items, k)


def vec(v):
    return bytes([len(v) * 4]) + struct.pack("<%df" % len(v), *v)


def rec_int(i, freq, v):
    return bytes([0 | (freq << 3)]) + struct.pack("<q", i) + vec(v)


def rec_real(x, v):
    return bytes([1]) + struct.pack("<d", x) + vec(v)


def rec_text(t, freq, v):
    b = t.encode()
    return bytes([2 | (freq << 3), len(b)]) + b + vec(v)


MODEL = {
    "good": header(4, 3, 7) + rec_int(1, 2, [1, 0, 0, 0]) + rec_int(2, 1, [0.5, 0.5, 0, 0])
    + rec_text("x", 3, [0, 0, 1, -1]),
    "mixed": header(2, 4, 12) + rec_int(1, 1, [1, 2]) + rec_text("1", 1, [3, 4])
    + rec_real(1.5, [0, 1]) + rec_text("1.5", 1, [1, 0]) + bytes([3, 2, 0xDE, 0xAD]) + vec([1, 1]),
    "badlen": header(4, 2, 5) + rec_int(1, 1, [1, 0, 0]) + rec_int(2, 1, [1, 0, 0, 0]),
    "nan": header(2, 2, 5) + rec_int(1, 1, [float("nan"), 0]) + rec_int(2, 1, [float("inf"), 0]),
    "header": header(-1, -5, 3) + rec_int(1, 1, [1]),
    "bigheader": header(32767, 2**31 - 1, 19) + rec_int(1, 1, [1]),
    "zero": header(2, 2, 5) + rec_int(1, 1, [0, 0]) + rec_int(2, 1, [0, 0]),
    "null": header(2, 2, 5) + bytes([4]) + vec([1, 1]),
    # found by fuzzing: subnormal values overflowed 1/norm to inf (fixed in core/vec.c)
    "subnormal": header(2, 2, 5) + rec_int(1, 1, [-5.7e-41, -8.8e-44]) + rec_int(2, 1, [1e-45, 0]),
}

for name, text in OPTIONS.items():
    write("options", name, text)
for name, text in JSON.items():
    write("json", name, text)
for name, data in MODEL.items():
    write("model", name, data)


def hnsw_seeds():
    """Indexes as item2vec_index stores them (chunks joined), for the hnsw
    target: built by the extension (I2V_LIB, default ./item2vec) on small
    models; skipped when it cannot be loaded."""
    import sqlite3
    try:
        conn = sqlite3.connect(":memory:")
        conn.enable_load_extension(True)
        conn.load_extension(os.environ.get("I2V_LIB", "./item2vec"))
    except Exception as e:  # not built, or a Python that cannot load extensions
        print("hnsw seeds skipped: %s" % e)
        return
    conn.execute("CREATE TABLE r AS WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x + 1 "
                 "FROM n WHERE x < 1199) SELECT x / 8 AS u, (x * 7919) % 150 AS i FROM n")
    for name, dim, opts in (("m2", 4, ("M=2",)), ("m4", 8, ("M=4", "ef_construction=16")),
                            ("m8", 16, ("M=8",))):
        conn.execute("SELECT item2vec_train('r', 'u', 'i', 'model=%s', 'vector_size=%d', "
                     "'epochs=1', 'workers=1', 'verbose=0')" % (name, dim))
        conn.execute("SELECT item2vec_index(?, %s, 'verbose=0', 'threads=1')"
                     % ", ".join("'%s'" % o for o in opts), (name,))
        blob = b"".join(r[0] for r in conn.execute(
            "SELECT data FROM item2vec_index WHERE model = ? ORDER BY chunk", (name,)))
        write("hnsw", name, blob)


hnsw_seeds()
