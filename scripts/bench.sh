#!/usr/bin/env bash
# scripts/bench.sh: `make bench`.  item2vec against gensim's Word2Vec on the
# same sequences, hyperparameters, threads and epochs; prints one markdown
# table (bench/bench.py does the work; docs/performance.md, explains the
# rows), then the update, query and load benchmarks (scripts/bench_update.py,
# scripts/bench_query.py, scripts/bench_load.py) when present, and the
# recommendation quality table (scripts/quality.py: every ranking and both
# baselines, MovieLens and generated sets) with the time recommend_items takes
# for every user (scripts/bench_recommend.py).
#
# Settings: ML_DIR (MovieLens small, extracted) or ML_ZIP (its zip; without
# either, ../shared/data/ml-latest-small when it is there);
# BENCH_QUICK=1 skips the 10M and 25M rows (and the 1M query sizes);
# BENCH_SEEDS (3); BENCH_ONLY (a comma list of ml-sg, ml-cbow, c1m, c10m,
# g25m; it also skips the update and query benchmarks); BENCH_GENSIM=0
# (item2vec alone); BENCH_DIR (scratch databases, build/bench); PYTHON (a
# python3 that can load SQLite extensions: Debian's /usr/bin/python3).
# The machine should be quiet: the script prints the load average.
set -euo pipefail
# ML_DIR and ML_ZIP may be relative to where make was started.
for var in ML_DIR ML_ZIP; do
  case ${!var:-/} in /*) ;; *) printf -v "$var" '%s/%s' "$PWD" "${!var}" ;; esac
done
cd "$(dirname "$0")/.."
# Without either, the shared folder beside the repository, when it has the data.
if [ -z "${ML_DIR:-}" ] && [ -z "${ML_ZIP:-}" ] && [ -f ../shared/data/ml-latest-small/ratings.csv ]; then
  ML_DIR=$(cd ../shared/data/ml-latest-small && pwd)
fi
export ML_DIR ML_ZIP
PYTHON=${PYTHON:-/usr/bin/python3}
if ! "$PYTHON" -c 'import sqlite3; sqlite3.connect(":memory:").enable_load_extension(True)' 2>/dev/null; then
  echo "bench: $PYTHON cannot load SQLite extensions; set PYTHON to one that can (Debian: /usr/bin/python3)" >&2
  exit 1
fi
[ -x "${BENCH_GEN:-build/bench_gen}" ] || make -s build/bench_gen
"$PYTHON" bench/bench.py
if [ -f scripts/bench_update.py ] && [ -z "${BENCH_ONLY:-}" ]; then
  echo
  "$PYTHON" scripts/bench_update.py
fi
if [ -f scripts/bench_query.py ] && [ -z "${BENCH_ONLY:-}" ]; then
  echo
  # BENCH_QUICK=1 runs its quick sizes too; BENCH_QUERY_ARGS overrides (--quick, --no-ann).
  quick_args=""
  case ${BENCH_QUICK:-0} in 0|"") ;; *) quick_args=--quick ;; esac
  "$PYTHON" scripts/bench_query.py ${BENCH_QUERY_ARGS:-$quick_args}
fi
if [ -f scripts/bench_load.py ] && [ -z "${BENCH_ONLY:-}" ]; then
  echo
  # The first query of a fresh process, which loads the model: 1M x 64 (100k
  # with BENCH_QUICK=1); the database is written once and kept in BENCH_DIR.
  load_items=1000000
  case ${BENCH_QUICK:-0} in 0|"") ;; *) load_items=100000 ;; esac
  "$PYTHON" scripts/bench_load.py --items "$load_items" \
    --db "${BENCH_DIR:-build/bench}/load_${load_items}_64.db"
fi
if [ -f scripts/quality.py ] && [ -z "${BENCH_ONLY:-}" ]; then
  echo
  echo "### Recommendation quality (next item, HR@10 and NDCG@10; scripts/quality.py)"
  echo
  "$PYTHON" scripts/quality.py
fi
if [ -f scripts/bench_recommend.py ] && [ -z "${BENCH_ONLY:-}" ]; then
  echo
  "$PYTHON" scripts/bench_recommend.py
fi
