#!/usr/bin/env bash
# test_load_version.sh: loading the extension.  A SQLite older than the
# oldest whose API the code calls is refused with a message naming both
# versions (checked with a build that asks for SQLite 3.999.0, made by
# `make test` as $I2V_BUILD/future/item2vec.so); loading twice in one
# connection succeeds, from the shell's .load and from a running statement
# (SELECT load_extension(...), which cannot replace functions).
sqlite=${SQLITE3:-sqlite3}
lib="${I2V_LIB:-./item2vec}"
future="${I2V_BUILD:-build}/future/item2vec"
wrap=()
[ "${I2V_SANITIZE:-}" = valgrind ] && wrap=(valgrind -q --error-exitcode=99 --leak-check=full \
  --errors-for-leak-kinds=definite --suppressions="$PWD/tests/valgrind.supp")

if [ ! -f "$future.so" ] && [ ! -f "$future.dylib" ]; then
  echo "not ok - load: $future is not built (make test builds it)"
else
  out=$("${wrap[@]}" "$sqlite" :memory: "SELECT load_extension('$future')" 2>&1)
  have=$("$sqlite" :memory: "SELECT sqlite_version()")
  case "$out" in
    *"item2vec: needs SQLite 3.999.0 or later, but this process runs SQLite $have"*)
      echo "ok - load: an older SQLite is refused, naming both versions" ;;
    *) echo "not ok - load: an older SQLite is refused, naming both versions: got '$out'" ;;
  esac
fi

out=$("${wrap[@]}" "$sqlite" :memory: "SELECT load_extension('$lib')" \
  "SELECT load_extension('$lib')" "SELECT item2vec_version()" 2>&1)
if [ "$(printf '%s' "$out" | tail -1)" = "0.1.0" ] && ! printf '%s' "$out" | grep -qi error; then
  echo "ok - load: load_extension twice in one connection succeeds"
else
  echo "not ok - load: load_extension twice in one connection succeeds: got '$out'"
fi
out=$("${wrap[@]}" "$sqlite" :memory: ".load $lib" ".load $lib" "SELECT load_extension('$lib')" \
  "SELECT count(*) FROM similar_items(1, 1)" 2>&1)
case "$out" in
  *"no model has been trained"*) echo "ok - load: .load twice, then load_extension: functions work" ;;
  *) echo "not ok - load: .load twice, then load_extension: got '$out'" ;;
esac
