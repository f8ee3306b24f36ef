#!/usr/bin/env bash
# test_hnsw_unit.sh: runs the approximate index's C unit tests
# (tests/unit/test_hnsw.c, built by `make build/test_hnsw`), under the
# sanitizer wrapper when tests/run.sh runs with I2V_SANITIZE=valgrind.
# I2V_HNSW_UNIT names another binary (the ASan build's).
bin="${I2V_HNSW_UNIT:-${I2V_BUILD:-build}/test_hnsw}"
if [ ! -x "$bin" ]; then
  echo "skip - hnsw unit tests: $bin is not built (make $bin)"
  exit 0
fi
case "${I2V_SANITIZE:-}" in
  valgrind) exec valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite "$bin" ;;
  *) exec "$bin" ;;
esac
