#!/usr/bin/env bash
# tests/run.sh: runs every test of item2vec and prints one summary line,
# "N passed, N failed, N skipped"; exits non-zero when anything failed.
#
# Kinds of tests, each reporting lines "ok - name", "not ok - name: why" or
# "skip - name: why" on stdout:
#   build/test_core         C unit tests of the core modules (no SQLite)
#   tests/sql/NAME.sql      SQL run by the sqlite3 shell; passes when its
#                           output (stdout+stderr) equals tests/sql/NAME.expected
#   tests/py/test_*.py      Python tests (Debian's /usr/bin/python3, which can
#                           load extensions)
#   tests/sh/test_*.sh      shell tests
# Environment: I2V_LIB (library path without suffix, default ./item2vec),
# I2V_UNIT (unit test binary), ML_DIR (MovieLens small, extracted; tests that
# need it skip without it), I2V_SANITIZE (asan or valgrind), PYTHON, SQLITE3.
set -u
cd "$(dirname "$0")/.."
export I2V_LIB="${I2V_LIB:-./item2vec}"
export PYTHON="${PYTHON:-/usr/bin/python3}"
export SQLITE3="${SQLITE3:-sqlite3}"
UNIT="${I2V_UNIT:-build/test_core}"
OUT=tests/out
mkdir -p "$OUT"
pass=0 fail=0 skip=0
only="${1:-}"

# Wrap commands for the sanitizer runs.
wrap=()
# Python tests: CPython leaves allocations behind at exit that LeakSanitizer
# would report, so under ASan they check memory errors only (leaks are the
# C tests', the SQL tests' and tests/oom's); under valgrind they do not run
# (see docs/reliability.md).
py=("$PYTHON")
case "${I2V_SANITIZE:-}" in
  valgrind) wrap=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --suppressions=$PWD/tests/valgrind.supp) ;;
  asan)
    asan_rt=$(${CC:-gcc} -print-file-name=libasan.so)
    export LD_PRELOAD="$asan_rt"
    export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=99"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=99"
    export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
    py=(env ASAN_OPTIONS="detect_leaks=0:abort_on_error=0:exitcode=99" "$PYTHON")
    ;;
esac

# Count the report lines of one test run; a crash or a non-zero exit with no
# "not ok" line still counts as a failure.
tally() { # name, exit code, output file
  local name=$1 code=$2 file=$3 p f s
  p=$(grep -c '^ok - ' "$file"); f=$(grep -c '^not ok - ' "$file"); s=$(grep -c '^skip - ' "$file")
  grep -E '^(not ok|skip) - ' "$file" | sed "s|^|  [$name] |"
  if [ "$code" -ne 0 ] && [ "$f" -eq 0 ]; then
    echo "  [$name] not ok - exited with $code; output in $file"; tail -5 "$file" | sed 's/^/    /'
    f=1
  fi
  echo "$name: $p passed, $f failed, $s skipped"
  pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
}

want() { [ -z "$only" ] || [[ "$1" == *"$only"* ]]; }

if want unit && [ -x "$UNIT" ]; then
  "${wrap[@]}" "$UNIT" > "$OUT/unit.log" 2>&1; tally unit $? "$OUT/unit.log"
fi

# C unit tests of the evaluation core and the PCA.
EVAL_UNIT="${I2V_UNIT_EVAL:-build/test_eval}"
if want unit-evaluate && [ -x "$EVAL_UNIT" ]; then
  "${wrap[@]}" "$EVAL_UNIT" > "$OUT/unit-evaluate.log" 2>&1; tally unit-evaluate $? "$OUT/unit-evaluate.log"
fi

for sql in tests/sql/*.sql; do
  [ -e "$sql" ] || continue
  name=$(basename "$sql" .sql); want "$name" || continue
  exp="tests/sql/$name.expected"; log="$OUT/sql-$name.log"; got="$OUT/sql-$name.out"
  ( cd tests/sql && "${wrap[@]}" "$SQLITE3" -batch -cmd ".load ../../$I2V_LIB" :memory: < "$name.sql" ) > "$got" 2>&1
  code=$?
  if diff -u "$exp" "$got" > "$log.diff"; then echo "ok - sql/$name" > "$log"
  else { echo "not ok - sql/$name: output differs from $exp (diff in $log.diff)"; head -20 "$log.diff"; } > "$log"; fi
  # The shell's own exit code is 1 after a runtime error, which these tests
  # provoke on purpose; the comparison with the expected output decides.
  [ "$code" -ge 99 ] && echo "not ok - sql/$name: sanitizer or crash (exit $code)" >> "$log"
  tally "sql/$name" 0 "$log"
done

for t in tests/py/test_*.py tests/sh/test_*.sh; do
  [ -e "$t" ] || continue
  name=$(basename "$t"); want "$name" || continue
  log="$OUT/$name.log"
  case "$t" in
    *.py)
      if [ "${I2V_SANITIZE:-}" = valgrind ]; then
        echo "skip - $name: Python tests do not run under valgrind (make test-asan runs them)" > "$log"
        tally "$name" 0 "$log"
        continue
      fi
      "${py[@]}" "$t" > "$log" 2>&1 ;;
    *.sh) bash "$t" > "$log" 2>&1 ;;
  esac
  tally "$name" $? "$log"
done

echo
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
