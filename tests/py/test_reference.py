"""tests/py/test_reference.py: docs/reference.md names everything the extension
registers, read from the extension itself, so the reference cannot fall behind.

  functions  every function the extension adds to pragma_function_list
  modules    every module it adds to pragma_module_list
  columns    every column, hidden ones included, of the eponymous table-valued
             functions (pragma_table_xinfo) and of item2vec_lines
  options    every option the unknown-option messages of item2vec_train,
             item2vec_evaluate and item2vec_index list, and the arguments the
             unknown-argument messages of item2vec_csv and item2vec_lines list,
             each as a table row "| `name` |"
  tables     every table a training, an index and an update create, and
             their columns in the CREATE TABLEs of "Stored tables"
  summaries  every field of item2vec_train's and item2vec_evaluate's JSON

Each check fails naming what docs/reference.md lacks."""
import json
import os
import re
import sqlite3
import tempfile

from common import check, connect, finish, run

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REF = open(os.path.join(ROOT, "docs/reference.md"), encoding="utf-8").read()


def mentioned(name):
    return "`%s`" % name in REF or re.search(r"`%s\(" % re.escape(name), REF) is not None


def table_row(name):
    return re.search(r"^\| `%s` \|" % re.escape(name), REF, re.M) is not None


def missing(names, test=mentioned):
    return sorted(n for n in set(names) if not test(n))


def report(what, names, test=mentioned):
    gone = missing(names, test)
    check(what, not gone and names,
          "docs/reference.md lacks %s" % ", ".join(gone) if gone else "nothing read")


def error_of(db, sql):
    try:
        db.execute(sql).fetchall()
    except sqlite3.Error as e:
        return str(e)
    raise AssertionError("no error from %s" % sql)


def listed(message, after):
    """The comma-separated names after `after` in message, up to ';' or the end."""
    m = re.search(re.escape(after) + r"\s*([\w, ]+)", message)
    assert m, "no list after %r in %r" % (after, message)
    return [x.strip() for x in m.group(1).split(",") if x.strip()]


def main():
    plain = sqlite3.connect(":memory:")
    base_f = {r[0] for r in plain.execute("SELECT name FROM pragma_function_list")}
    base_m = {r[0] for r in plain.execute("SELECT name FROM pragma_module_list")}
    db = connect()
    funcs = {r[0] for r in db.execute("SELECT name FROM pragma_function_list")} - base_f
    mods = {r[0] for r in db.execute("SELECT name FROM pragma_module_list")} - base_m

    run("functions", lambda: report("functions", funcs))
    run("modules", lambda: report("modules", mods))

    def columns():
        cols = []
        for m in sorted(mods - {"item2vec_csv", "item2vec_lines"}):  # these need a file
            cols += [r[0] for r in db.execute("SELECT name FROM pragma_table_xinfo(?)", (m,))]
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, "p.txt")
            open(p, "w").write("1 2 3\n")
            db.execute("CREATE VIRTUAL TABLE temp.l USING item2vec_lines(path='%s')"
                       % p.replace("'", "''"))
            cols += [r[1] for r in db.execute("PRAGMA temp.table_xinfo(l)")]
            db.execute("DROP TABLE temp.l")
        report("columns", cols)
    run("columns", columns)

    def options():
        db.execute("CREATE TABLE r(u, i, t)")
        db.executemany("INSERT INTO r VALUES (?, ?, ?)",
                       [(u, (u * 7 + k) % 30, k) for u in range(60) for k in range(8)])
        train = listed(error_of(db, "SELECT item2vec_train('r', 'u', 'i', 'nope=1')"),
                       "valid options are")
        ev = error_of(db, "SELECT item2vec_evaluate('r', 'u', 'i', 'nope=1')")
        evals = listed(ev, "evaluation options are") + listed(ev, "training options are")
        index = listed(error_of(db, "SELECT item2vec_index('x', 'nope=1')"), "valid options are")
        args = listed(error_of(db, "CREATE VIRTUAL TABLE temp.c USING item2vec_csv(nope=1)"),
                      "valid names are")
        args += listed(error_of(db, "CREATE VIRTUAL TABLE temp.c USING item2vec_lines(nope=1)"),
                       "valid names are")
        check("options read", len(train) > 15 and len(evals) > len(train) and len(index) > 3
              and "path" in args, "too few names read: %s %s %s %s" % (train, evals, index, args))
        report("options", train + evals + index + args, table_row)
    run("options", options)

    def tables_and_summaries():
        s = json.loads(db.execute("SELECT item2vec_train('r', 'u', 'i', 'order_by=t', "
                                  "'workers=1')").fetchone()[0])
        db.execute("SELECT item2vec_index()").fetchone()
        up = json.loads(db.execute("SELECT item2vec_train('r', 'u', 'i', 'update=1', "
                                   "'workers=1')").fetchone()[0])
        e = json.loads(db.execute("SELECT item2vec_evaluate('r', 'u', 'i', 'holdout=2', "
                                  "'workers=1')").fetchone()[0])
        tabs = [r[0] for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'item2vec%'")]
        check("tables read", len(tabs) >= 5, "only %s" % tabs)
        report("stored tables", tabs)
        cols = [c for t in tabs for c in
                (r[1] for r in db.execute("SELECT * FROM pragma_table_info(?)", (t,)))]
        stored = REF[REF.index("## Stored tables"):]
        stored = stored[:stored.index("\n## ")]
        report("stored columns", cols,
               lambda c: re.search(r"^\s+%s\b|\(%s\b|, %s\b" % (c, c, c), stored, re.M))
        report("train summary", list(s) + list(up["update"]))
        report("evaluate result", [k for k, v in e.items() if not isinstance(v, dict)])
    run("tables and summaries", tables_and_summaries)
    finish()


if __name__ == "__main__":
    main()
