#!/usr/bin/env bash
# tests/sh/test_oom.sh: the out-of-memory test.  Runs tests/oom/i2v_oom.c (built
# by `make` as $I2V_BUILD/i2v_oom) against the extension: every allocation
# along the load, training, query and error paths is made to fail in turn,
# once and from then on; each run must fail cleanly (SQLITE_NOMEM, old model
# intact, no transaction left open, no leak) or succeed with the right answer.
# Under `make test-asan` the runner preloads ASan, which also catches memory
# errors and, at exit, leaks.  Under valgrind every 25th allocation is failed.
set -u
cd "$(dirname "$0")/../.."
bin="${I2V_BUILD:-build}/i2v_oom"
case "$(uname -s)" in Darwin) suffix=dylib ;; *) suffix=so ;; esac
lib="${I2V_LIB:-./item2vec}.$suffix"
if [ ! -x "$bin" ]; then
  echo "skip - oom: $bin is not built (make $bin)"
  exit 0
fi
if [ "${I2V_SANITIZE:-}" = valgrind ]; then
  # Every 25th allocation of every path, interrupts at 40 points of each: the
  # whole sweep takes too long there.
  I2V_OOM_STEP=25 I2V_OOM_INTERRUPT_POINTS=40 exec valgrind -q --error-exitcode=99 --leak-check=full \
    --errors-for-leak-kinds=definite --suppressions=tests/valgrind.supp "$bin" "$lib"
fi
exec "$bin" "$lib"
