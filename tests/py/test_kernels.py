"""test_kernels.py: the summary's "isa" names the kernels the trainer ran,
which are the best this CPU runs: avx512 (x86-64-v4), avx2 (x86-64-v3) or
sse2 on x86-64, read here from /proc/cpuinfo's flags.  That every level
computes the portable level's model is tested in C, where a test can ask the
trainer for a level (build/test_core, "train: every instruction-set level
gives the portable model"; "vec: every instruction-set level this CPU runs
agrees" for the query kernels).  Skipped off x86-64 Linux.
"""

import platform

from common import check, connect, finish, run, skip, train
from gen import planted, write_sqlite

DATA = planted(clusters=3, per_cluster=8, users=60, seed=4)

V3 = {"avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "movbe", "xsave",
      "cx16", "lahf_lm", "popcnt", "sse4_1", "sse4_2", "ssse3"}
V4 = V3 | {"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"}


def cpu_level():
    try:
        with open("/proc/cpuinfo") as f:
            flags = next((set(l.split(":", 1)[1].split()) for l in f if l.startswith("flags")),
                         None)
    except OSError:
        return None
    if flags is None:
        return None
    return "avx512" if V4 <= flags else "avx2" if V3 <= flags else "sse2"


def isa_reported():
    want = cpu_level()
    conn = connect()
    write_sqlite(conn, "r", DATA.rows)
    s = train(conn, "r", "userId", "itemId", "workers=1", "vector_size=8", "epochs=1")
    conn.close()
    check("the summary's isa is this CPU's level", s["isa"] == want,
          "isa %r, /proc/cpuinfo says %r" % (s["isa"], want))


if platform.machine() in ("x86_64", "AMD64") and cpu_level():
    run("kernels: summary isa", isa_reported)
else:
    skip("kernels: summary isa", "not x86-64 Linux (no /proc/cpuinfo flags to compare with)")
finish()
