"""test_interrupt.py: sqlite3_interrupt (Ctrl-C in the shell, Connection.interrupt
in Python) stops a long training within about a second with an error, and
the model of the same name that was there before is left exactly as it was.
"""

import threading
import time

from common import check, connect, finish, run, train
from gen import planted, write_sqlite


def test_interrupt():
    small = planted(clusters=4, per_cluster=10, users=200, seed=1)
    big = planted(clusters=20, per_cluster=30, users=20000, seed=2)
    conn = connect(check_same_thread=False)
    write_sqlite(conn, "small", small.rows)
    write_sqlite(conn, "big", big.rows)
    train(conn, "small", "userId", "itemId", "workers=1", "vector_size=8", "epochs=1")
    before = conn.execute("SELECT * FROM item2vec_vectors ORDER BY item").fetchall()
    before_model = conn.execute("SELECT * FROM item2vec_models").fetchall()

    result = {}

    def work():
        t0 = time.time()
        try:
            # about a minute of work if nothing stops it
            train(conn, "big", "userId", "itemId", "workers=1", "epochs=200", "vector_size=64")
            result["error"] = None
        except Exception as e:
            result["error"] = str(e)
        result["end"] = time.time()
        result["start"] = t0

    th = threading.Thread(target=work)
    th.start()
    time.sleep(1.0)
    t_int = time.time()
    conn.interrupt()
    th.join(30)
    stopped = not th.is_alive()
    delay = result.get("end", time.time()) - t_int
    print("# stopped %.2fs after the interrupt: %s" % (delay, result.get("error")))
    check("an interrupted training stops within a second or so", stopped and delay < 1.5,
          "still running" if not stopped else "%.2fs" % delay)
    check("... with an error saying so", result.get("error") is not None
          and result["error"] == "item2vec_train: interrupted", repr(result.get("error")))
    after = conn.execute("SELECT * FROM item2vec_vectors ORDER BY item").fetchall()
    after_model = conn.execute("SELECT * FROM item2vec_models").fetchall()
    check("... and the previous model is intact", after == before and after_model == before_model,
          "%d rows before, %d after" % (len(before), len(after)))
    # The connection still works and trains.
    s = train(conn, "small", "userId", "itemId", "workers=1", "vector_size=8", "epochs=1",
              "model=after")
    check("the connection trains again after an interrupt", s["model"] == "after", str(s))
    conn.close()


run("test_interrupt", test_interrupt)
finish()
