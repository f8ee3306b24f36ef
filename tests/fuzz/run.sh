#!/usr/bin/env bash
# tests/fuzz/run.sh SECONDS TARGET...: runs each libFuzzer target built as
# build-fuzz/fuzz_TARGET for SECONDS seconds, starting from the seeds in
# tests/fuzz/corpus/TARGET (read only) and a working corpus in
# build-fuzz/corpus/TARGET (kept between runs), with tests/fuzz/TARGET.dict
# when there is one.  A crash, leak, sanitizer report or timeout leaves the
# input in build-fuzz/ (crash-*, leak-*, timeout-*) and fails the run.
# Prints one line per target and a summary line in the test runner's protocol.
set -u
cd "$(dirname "$0")/../.."
secs=${1:?seconds}; shift
pass=0 fail=0 total=0
for t in "$@"; do
  bin=build-fuzz/fuzz_$t
  work=build-fuzz/corpus/$t
  log=build-fuzz/fuzz_$t.log
  mkdir -p "$work"
  dict=()
  [ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
  # Files as inputs: the readers get room for a few blocks of a zip or gzip.
  [ "$t" = readers ] && dict+=(-max_len=65536)
  "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="build-fuzz/$t-" "${dict[@]}" "$work" "tests/fuzz/corpus/$t" > "$log" 2>&1
  code=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
  if [ "$code" -eq 0 ]; then
    echo "ok - fuzz/$t: ${runs:-?} executions in ${secs}s (${cov:-cov: ?}), no finding"
    pass=$((pass + 1))
  else
    echo "not ok - fuzz/$t: exit $code after ${runs:-?} executions; see $log"
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" | head -5 | sed 's/^/    /'
    fail=$((fail + 1))
  fi
  total=$((total + ${runs:-0}))
done
echo "# fuzz: $total executions in all"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
