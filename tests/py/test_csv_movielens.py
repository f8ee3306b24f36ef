#!/usr/bin/python3
"""item2vec_csv on the real MovieLens small zip (ML_ZIP): every member
read straight from the archive gives the rows Python's csv module reads
from the same member, with integer ids, real ratings, NULL for empty
fields and zero-padded imdbIds kept as text; and training straight from the
virtual table sees all 100836 ratings.  Skips without ML_ZIP.
"""
import csv
import io
import os
import sqlite3
import sys
import zipfile

LIB = os.environ.get("I2V_LIB", "./item2vec")
NAME = "csv_movielens"
ZIP = os.environ.get("ML_ZIP", "")
failures = 0


def check(name, cond, why=""):
    global failures
    if cond:
        print(f"ok - {NAME}/{name}")
    else:
        failures += 1
        print(f"not ok - {NAME}/{name}: {why}")


def expected(value):
    """What item2vec_csv makes of an unquoted MovieLens field."""
    if value == "":
        return None
    if value.lstrip("-").isdigit() and (value == "0" or not value.lstrip("-").startswith("0")):
        return int(value)
    try:
        if "." in value or "e" in value.lower():
            return float(value)
    except ValueError:
        pass
    return value


def main():
    if not ZIP or not os.path.isfile(ZIP):
        print(f"skip - {NAME}: set ML_ZIP to ml-latest-small.zip to run it")
        return
    db = sqlite3.connect(":memory:")
    db.enable_load_extension(True)
    db.load_extension(LIB)
    archive = zipfile.ZipFile(ZIP)
    for member in ("ratings.csv", "movies.csv", "tags.csv", "links.csv"):
        full = f"ml-latest-small/{member}"
        table = member.split(".")[0]
        # Virtual table arguments are SQL literals, not parameters.
        path = ZIP.replace("'", "''")
        db.execute(f"CREATE VIRTUAL TABLE temp.{table} USING "
                   f"item2vec_csv(path='{path}', member='{member}')")
        got = db.execute(f"SELECT * FROM temp.{table}").fetchall()
        reader = csv.reader(io.TextIOWrapper(archive.open(full), encoding="utf-8", newline=""))
        header = next(reader)
        # Quoted fields are TEXT; MovieLens quotes only titles and tags.
        text_cols = {"title", "genres", "tag"}
        want = [tuple(v if (h in text_cols and v != "") else expected(v)
                      for h, v in zip(header, row)) for row in reader]
        cols = [d[0] for d in db.execute(f"SELECT * FROM temp.{table} LIMIT 0").description]
        check(f"{member}: header", cols == header, f"{cols} vs {header}")
        diff = next((f"row {i + 1}: {a} vs {b}" for i, (a, b) in enumerate(zip(got, want))
                     if a != b), "")
        check(f"{member}: {len(want)} rows as Python's csv reads them",
              len(got) == len(want) and not diff, diff or f"{len(got)} vs {len(want)} rows")
    types = db.execute("SELECT typeof(userId), typeof(movieId), typeof(rating), typeof(timestamp), "
                       "count(*) FROM temp.ratings GROUP BY 1, 2, 3, 4").fetchall()
    check("ratings are integer, integer, real, integer",
          types == [("integer", "integer", "real", "integer", 100836)], str(types))
    imdb = db.execute("SELECT typeof(imdbId), imdbId FROM temp.links WHERE movieId = 1").fetchone()
    check("zero-padded imdbId stays text", imdb == ("text", "0114709"), str(imdb))
    summary = db.execute("SELECT json_extract(item2vec_train('temp.ratings', 'userId', 'movieId', "
                         "'order_by=timestamp', 'vector_size=8', 'epochs=1', 'workers=1', "
                         "'verbose=0'), '$.tokens')").fetchone()[0]
    check("trains straight from the zip", summary == 100836, str(summary))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
