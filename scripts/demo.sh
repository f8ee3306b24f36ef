#!/usr/bin/env bash
# scripts/demo.sh: `make demo`.  Loads MovieLens small into a SQLite database
# with the sqlite3 shell, trains item2vec on it and prints, as tables, the
# movies most similar to Toy Story, a lateral join and a user's suggestions.
#
# Where the data comes from, first match wins:
#   ML_DIR    a folder with the extracted ratings.csv and movies.csv
#   ML_ZIP    ml-latest-small.zip, read as it is (item2vec_csv, no unzip)
#   data/ml-latest-small.zip      what an earlier run downloaded
#   https://files.grouplens.org/datasets/movielens/ml-latest-small.zip,
#             downloaded into data/ (short timeouts)
#   otherwise a generated stand-in (sql/demo_synthetic.sql), with a message
#             saying why.  I2V_DEMO_DATA=synthetic asks for it directly.
# The database is data/demo.db (I2V_DEMO_DB elsewhere), rebuilt on every run.
# Other settings: SQLITE3 (the shell), I2V_LIB (library without suffix),
# I2V_DEMO_URL.  `make report` runs this when it finds no database to report.
set -euo pipefail
# ML_DIR, ML_ZIP and I2V_DEMO_DB may be relative to where the demo was started.
for var in ML_DIR ML_ZIP I2V_DEMO_DB; do
  case ${!var:-/} in /*) ;; *) printf -v "$var" '%s/%s' "$PWD" "${!var}" ;; esac
done
cd "$(dirname "$0")/.."
root=$PWD
SQLITE3=${SQLITE3:-sqlite3}
LIB=${I2V_LIB:-./item2vec}
URL=${I2V_DEMO_URL:-https://files.grouplens.org/datasets/movielens/ml-latest-small.zip}
data=$root/data
db=${I2V_DEMO_DB:-$data/demo.db}
show_db=${I2V_DEMO_DB:-data/demo.db}

say() { printf 'demo: %s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

command -v "$SQLITE3" > /dev/null ||
  die "no sqlite3 shell found; install it (Debian: apt-get install sqlite3) or set SQLITE3"
mkdir -p "$(dirname "$db")"

has_csvs() { [ -f "$1/ratings.csv" ] && [ -f "$1/movies.csv" ]; }

# The inside of an SQL string literal: ' doubled.
sql_str() { printf '%s' "${1//\'/\'\'}"; }

# Load ratings and movies into $db with item2vec_csv, from a MovieLens zip
# (members ml-latest-small/*.csv, never extracted) or a folder of its CSVs.
import_movielens() { # zip file or folder
  local ratings movies p
  p=$(sql_str "$1")
  if [ -f "$1" ]; then
    ratings="path='$p', member='ml-latest-small/ratings.csv'"
    movies="path='$p', member='ml-latest-small/movies.csv'"
  else
    ratings="path='$p/ratings.csv'"
    movies="path='$p/movies.csv'"
  fi
  { printf '.bail on\n'
    printf 'CREATE VIRTUAL TABLE temp.ratings_csv USING item2vec_csv(%s);\n' "$ratings"
    printf 'CREATE VIRTUAL TABLE temp.movies_csv USING item2vec_csv(%s);\n' "$movies"
    cat "$root/sql/demo_import.sql"
  } | "$SQLITE3" -batch -cmd ".load '$LIB'" "$db"
}

# Download the zip into data/.  Short timeouts: without a network this fails
# in well under a second (no DNS) or after the 5 s connect timeout.
download() {
  local part=$data/ml-latest-small.zip.part
  mkdir -p "$data"
  rm -f "$part"
  if command -v curl > /dev/null; then
    curl -fsSL --connect-timeout 5 --max-time 120 --speed-limit 1024 --speed-time 10 \
      -o "$part" "$URL" 2> "$data/download.log" || return 1
  elif command -v wget > /dev/null; then
    wget -nv --timeout=5 --tries=1 -O "$part" "$URL" 2> "$data/download.log" || return 1
  else
    echo "neither curl nor wget is installed" > "$data/download.log"
    return 1
  fi
  mv "$part" "$data/ml-latest-small.zip"
}

src=""
if [ "${I2V_DEMO_DATA:-}" = synthetic ]; then
  say "I2V_DEMO_DATA=synthetic: using the generated dataset"
elif [ -n "${ML_DIR:-}" ]; then
  has_csvs "$ML_DIR" || die "ML_DIR=$ML_DIR has no ratings.csv and movies.csv"
  src=$(cd "$ML_DIR" && pwd)
  say "MovieLens small from ML_DIR ($ML_DIR)"
elif [ -n "${ML_ZIP:-}" ]; then
  [ -f "$ML_ZIP" ] || die "ML_ZIP=$ML_ZIP: no such file"
  src=$ML_ZIP
  say "MovieLens small from ML_ZIP ($ML_ZIP), read from the zip by item2vec_csv"
elif [ -f "$data/ml-latest-small.zip" ]; then
  src=$data/ml-latest-small.zip
  say "MovieLens small from data/ml-latest-small.zip (downloaded earlier)"
else
  say "downloading $URL ..."
  start=$SECONDS
  if download; then
    src=$data/ml-latest-small.zip
    say "MovieLens small downloaded into data/ in $((SECONDS - start)) s"
  else
    reason=$(tail -1 "$data/download.log" 2> /dev/null || true)
    rm -f "$data/ml-latest-small.zip.part"
    say "could not download MovieLens (no network?${reason:+ $reason})."
    say "Using a GENERATED dataset instead: 240 made-up movies in 8 planted genre"
    say "clusters, 400 users.  Set ML_DIR to an extracted ml-latest-small to use the real data."
  fi
fi

rm -f "$db"
if [ -n "$src" ]; then
  import_movielens "$src"
else
  "$SQLITE3" -batch "$db" < "$root/sql/demo_synthetic.sql"
fi
"$SQLITE3" -batch "$db" \
  "SELECT printf('demo: %d ratings of %d movies by %d users in %s', count(*), (SELECT count(*) FROM movies), count(DISTINCT userId), '$(sql_str "$show_db")') FROM ratings"
echo
"$SQLITE3" -batch -cmd ".load '$LIB'" "$db" < "$root/sql/demo.sql"
echo
say "the database is $show_db; explore it with: $SQLITE3 -cmd '.load $LIB' $show_db"
