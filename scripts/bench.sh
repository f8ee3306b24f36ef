#!/usr/bin/env bash
# scripts/bench.sh: `make bench`.  item2vec against gensim's Word2Vec on the
# same sequences, hyperparameters, threads and epochs; prints one markdown
# table (bench/bench.py does the work; docs/performance.md, explains the
# rows), then the update, query and load benchmarks (scripts/bench_update.py,
# scripts/bench_query.py with its peers from scripts/bench_peers.py,
# scripts/bench_load.py) when present, the recommendation quality table
# (scripts/quality.py: every ranking and both baselines, MovieLens and
# generated sets) with the time recommend_items takes for every user
# (scripts/bench_recommend.py), and, in the full run, the scaling curves
# (scripts/bench_scaling.py: docs/scaling.svg and docs/scaling.json).
#
# Peers, each used when installed and skipped (the tables say so) when not:
# gensim (python3-gensim), faiss (python3-faiss), hnswlib (python3-hnswlib),
# sqlite-vec (its npm package, installed here under build/sqlite-vec when npm
# is there; SQLITE_VEC=/path/to/vec0 uses another; BENCH_FETCH=0 never
# installs).  BENCH_SKIP_PEERS=hnswlib,faiss-flat,faiss-hnsw,sqlite-vec,gensim
# (or all) runs as if they were missing.
#
# Settings: ML_DIR (MovieLens small, extracted) or ML_ZIP (its zip; without
# either, ../shared/data/ml-latest-small when it is there);
# BENCH_QUICK=1 (under 2 minutes: skips the 10M and 25M rows, the 1M query
# sizes and the scaling curves; the index and its peers at 10k random items; one
# seed, one run of the recommend timings, 3 loads 1 s apart);
# BENCH_SEEDS (3; 1 with BENCH_QUICK=1); BENCH_ONLY (a comma list of ml-sg,
# ml-cbow, c1m, c10m, g25m; it also skips the update, query and scaling
# benchmarks); BENCH_GENSIM=0 (item2vec alone); BENCH_ANN_SIZES (the index
# and its peers: 10000,100000,1000000); BENCH_FAISS_HNSW_MAX (100000: faiss's
# HNSW build is the slowest); BENCH_SCALING_EVENTS (1000000,5000000,25000095);
# BENCH_DIR (scratch databases, build/bench); PYTHON (a python3 that can load
# SQLite extensions: Debian's /usr/bin/python3).
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
quick=0
case ${BENCH_QUICK:-0} in 0|"") ;; *) quick=1 ;; esac
bench_dir=${BENCH_DIR:-build/bench}
mkdir -p "$bench_dir"
export BENCH_FAISS_HNSW_MAX=${BENCH_FAISS_HNSW_MAX:-100000}
if [ "$quick" = 1 ]; then
  export BENCH_SEEDS=${BENCH_SEEDS:-1}
  ann_sizes=${BENCH_ANN_SIZES:-10000}
else
  ann_sizes=${BENCH_ANN_SIZES:-10000,100000,1000000}
fi
scaling_events=${BENCH_SCALING_EVENTS:-1000000,5000000,25000095}
scaling_args=(--out docs/scaling)
# BENCH_TINY=1: the full run's path at toy sizes, to check the scripts (not
# to measure): quick training tables, the query tables at 2k and 5k items,
# the scaling runs at 50k to 450k events of 5,000 items, the chart written
# to BENCH_DIR/scaling.svg instead of docs/.
if [ "${BENCH_TINY:-0}" = 1 ]; then
  ann_sizes=${BENCH_ANN_SIZES:-2000,5000}
  scaling_events=${BENCH_SCALING_EVENTS:-50000,150000,450000}
  scaling_args=(--out "$bench_dir/scaling" --items 5000 --note "BENCH_TINY=1: toy sizes, not a measurement")
  BENCH_QUERY_ARGS=${BENCH_QUERY_ARGS:---exact-sizes 2000x32,5000x64 --ann-sizes $ann_sizes --queries 50}
  export BENCH_SEEDS=${BENCH_SEEDS:-1}
fi

# The running time, up front (2-core machine, measured piece by piece; see
# docs/performance.md): the tables of bench.py, the query tables (the HNSW
# builds dominate: item2vec's, hnswlib's and, up to BENCH_FAISS_HNSW_MAX,
# faiss's, on random and clustered vectors), the rest, the scaling runs.
estimate() {
  local minutes=0 n
  if [ "$quick" = 1 ] || [ "${BENCH_TINY:-0}" = 1 ]; then
    echo "bench: BENCH_QUICK=1 or BENCH_TINY=1: about 2 minutes"
    return
  fi
  minutes=$((minutes + 9 + 6))  # bench.py with its 10M and 25M rows; update, load, quality, recommend
  if [ -z "${BENCH_ONLY:-}" ]; then
    minutes=$((minutes + 3))    # exact tables, 10k to 1M, every peer
    for n in ${ann_sizes//,/ }; do
      # Minutes for both kinds of vectors: item2vec_index + hnswlib (+ faiss HNSW).
      if [ "$n" -le 20000 ]; then minutes=$((minutes + 1 + n / 10000))
      elif [ "$n" -le 100000 ]; then minutes=$((minutes + 8))
      elif [ "$n" -le 200000 ]; then minutes=$((minutes + 15 + (n <= BENCH_FAISS_HNSW_MAX ? 8 : 0)))
      else minutes=$((minutes + n * 85 / 1000000 + (n <= BENCH_FAISS_HNSW_MAX ? n * 100 / 1000000 : 0)))
      fi
    done
    for n in ${scaling_events//,/ }; do
      minutes=$((minutes + 1 + n * 8 / 25000000))  # item2vec and gensim, each reading the table
    done
  fi
  echo "bench: the full run takes about $minutes minutes on a quiet 2-core machine" \
       "(BENCH_QUICK=1: under 2; BENCH_ANN_SIZES=$ann_sizes sets most of it)"
}
estimate >&2
started=$SECONDS
section() {  # section NAME: the time the previous section took, on stderr
  [ -n "${section_name:-}" ] && echo "bench: $section_name took $((SECONDS - section_start)) s" >&2
  section_name=$1
  section_start=$SECONDS
}

# sqlite-vec, a peer of the query tables: its npm package ships vec0.so.
# Installed once into build/sqlite-vec; never required.
if [ -z "${SQLITE_VEC:-}" ] && [ "${BENCH_FETCH:-1}" != 0 ] && [ -z "${BENCH_ONLY:-}" ] &&
   [ ! -f build/sqlite-vec/node_modules/sqlite-vec-linux-x64/vec0.so ] &&
   [ "$(uname -sm)" = "Linux x86_64" ] && command -v npm > /dev/null; then
  echo "bench: installing sqlite-vec (npm) into build/sqlite-vec for the query tables" >&2
  mkdir -p build/sqlite-vec
  timeout 300 npm install --prefix build/sqlite-vec --no-audit --no-fund --no-save \
      sqlite-vec > build/sqlite-vec/npm.log 2>&1 ||
    echo "bench: sqlite-vec could not be installed (build/sqlite-vec/npm.log); the tables skip it" >&2
fi

section "bench.py (training against gensim)"
if [ "${BENCH_TINY:-0}" = 1 ]; then BENCH_QUICK=1 "$PYTHON" bench/bench.py; else "$PYTHON" bench/bench.py; fi
if [ -f scripts/bench_update.py ] && [ -z "${BENCH_ONLY:-}" ]; then
  section "bench_update.py"
  echo
  "$PYTHON" scripts/bench_update.py
fi
if [ -f scripts/bench_query.py ] && [ -z "${BENCH_ONLY:-}" ]; then
  section "bench_query.py (exact and approximate search, peers)"
  echo
  # BENCH_QUICK=1 runs its quick sizes too; BENCH_QUERY_ARGS overrides (--quick, --no-ann).
  quick_args="--ann-sizes $ann_sizes"
  [ "$quick" = 1 ] && quick_args="--quick $quick_args"
  # shellcheck disable=SC2086
  "$PYTHON" scripts/bench_query.py ${BENCH_QUERY_ARGS:-$quick_args} --json "$bench_dir/query.json"
fi
if [ -f scripts/bench_load.py ] && [ -z "${BENCH_ONLY:-}" ]; then
  section "bench_load.py"
  echo
  # The first query of a fresh process, which loads the model: 1M x 64 (100k
  # with BENCH_QUICK=1); the database is written once and kept in BENCH_DIR.
  load_items=1000000 load_args=""
  { [ "$quick" = 1 ] || [ "${BENCH_TINY:-0}" = 1 ]; } && load_items=100000 load_args="--runs 3 --pause 1"
  # shellcheck disable=SC2086
  "$PYTHON" scripts/bench_load.py --items "$load_items" $load_args \
    --db "$bench_dir/load_${load_items}_64.db"
fi
if [ -f scripts/quality.py ] && [ -z "${BENCH_ONLY:-}" ]; then
  section "quality.py"
  echo
  echo "### Recommendation quality (next item, HR@10 and NDCG@10; scripts/quality.py)"
  echo
  "$PYTHON" scripts/quality.py
fi
if [ -f scripts/bench_recommend.py ] && [ -z "${BENCH_ONLY:-}" ]; then
  section "bench_recommend.py"
  echo
  "$PYTHON" scripts/bench_recommend.py
fi
if [ "$quick" = 0 ] && [ -z "${BENCH_ONLY:-}" ]; then
  section "bench_scaling.py (training at ${scaling_events}; ${scaling_args[1]}.svg)"
  echo
  "$PYTHON" scripts/bench_scaling.py --events "$scaling_events" \
    --query-json "$bench_dir/query.json" "${scaling_args[@]}"
fi
section ""
echo "bench: $((SECONDS - started)) s in all" >&2
