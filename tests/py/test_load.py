"""test_load.py: the extension loads from Python's sqlite3 the way users load
it: load_extension('./item2vec') with no entry point named (SQLite derives
sqlite3_itemvec_init from the file name), and by either exported entry point.
"""

import os
import re
import sqlite3

from common import LIB, check, finish, not_ok, ok, run


def test_default_entry_point():
    conn = sqlite3.connect(":memory:")
    conn.enable_load_extension(True)
    conn.load_extension(LIB)  # no entry point: sqlite3_itemvec_init
    v = conn.execute("SELECT item2vec_version()").fetchone()[0]
    check("load_extension without an entry point", re.fullmatch(r"\d+\.\d+\.\d+.*", v or ""),
          "item2vec_version() returned %r" % (v,))
    conn.close()


def test_named_entry_points():
    for entry in ("sqlite3_itemvec_init", "sqlite3_item2vec_init"):
        conn = sqlite3.connect(":memory:")
        conn.enable_load_extension(True)
        conn.execute("SELECT load_extension(?, ?)", (LIB, entry))
        n = conn.execute("SELECT count(*) FROM pragma_function_list "
                         "WHERE name LIKE 'item2vec%'").fetchone()[0]
        check("load_extension with entry point %s" % entry, n >= 4,
              "%d item2vec functions registered" % n)
        conn.close()


def test_unknown_entry_point():
    conn = sqlite3.connect(":memory:")
    conn.enable_load_extension(True)
    try:
        conn.execute("SELECT load_extension(?, 'sqlite3_nope_init')", (LIB,))
        not_ok("an unknown entry point fails", "it loaded")
    except sqlite3.OperationalError as e:
        check("an unknown entry point fails", "sqlite3_nope_init" in str(e), str(e))
    conn.close()


def test_surface_registered():
    conn = sqlite3.connect(":memory:")
    conn.enable_load_extension(True)
    conn.load_extension(LIB)
    names = {r[0] for r in conn.execute("SELECT name FROM pragma_function_list")}
    want = {"item2vec_train", "item2vec_similarity", "item2vec_vector",
            "item2vec_to_json", "item2vec_version"}
    check("every function is registered", want <= names, "missing %s" % sorted(want - names))
    mods = {r[0] for r in conn.execute("SELECT name FROM pragma_module_list")}
    check("similar_items is registered", "similar_items" in mods, "modules: %s" % sorted(mods))
    # Flags: pure functions deterministic, item2vec_train direct-only.
    flags = {}
    for name, builtin, typ, enc, narg, fl in conn.execute(
            "SELECT name, builtin, type, enc, narg, flags FROM pragma_function_list "
            "WHERE name LIKE 'item2vec%'"):
        flags.setdefault(name, set()).add(fl)
    SQLITE_DETERMINISTIC, SQLITE_DIRECTONLY, SQLITE_INNOCUOUS = 0x800, 0x80000, 0x200000
    pure = all(f & SQLITE_DETERMINISTIC and f & SQLITE_INNOCUOUS
               for n in ("item2vec_version", "item2vec_to_json") for f in flags.get(n, {0}))
    check("pure functions are DETERMINISTIC|INNOCUOUS", pure, str(flags))
    direct = all(f & SQLITE_DIRECTONLY for f in flags.get("item2vec_train", {0}))
    check("item2vec_train is DIRECTONLY", direct, str(flags.get("item2vec_train")))
    conn.close()


def test_two_connections():
    # Each connection has its own state; loading twice in one process is fine.
    a, b = sqlite3.connect(":memory:"), sqlite3.connect(":memory:")
    for c in (a, b):
        c.enable_load_extension(True)
        c.load_extension(LIB)
    a.close()
    v = b.execute("SELECT item2vec_version()").fetchone()[0]
    check("a second connection works after the first closed", bool(v), repr(v))
    b.close()


if not os.path.exists(LIB + ".so") and not os.path.exists(LIB + ".dylib") and not os.path.exists(LIB):
    not_ok("library present", "%s(.so) not found; run make" % LIB)
else:
    ok("library present")
    for t in (test_default_entry_point, test_named_entry_points, test_unknown_entry_point,
              test_surface_registered, test_two_connections):
        run(t.__name__, t)
finish()
