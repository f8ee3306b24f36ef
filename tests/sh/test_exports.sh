#!/usr/bin/env bash
# test_exports.sh: the library exports SQLite's two entry points and nothing
# else (ext/item2vec.map), so its internal names, the dispatched kernels'
# ifunc symbols included, cannot clash with the host program's.
lib="${I2V_LIB:-./item2vec}.so"
[ -f "$lib" ] || lib=./item2vec.so
if ! command -v nm >/dev/null 2>&1; then
  echo "skip - exported symbols: nm is not installed (binutils)"
  exit 0
fi
if [ "$(uname -s)" != Linux ]; then
  echo "skip - exported symbols: the version script is used on Linux only"
  exit 0
fi
syms=$(nm -D --defined-only "$lib" | awk '$2 != "U" && $2 != "w" && $2 != "V" {print $3}' | sort | tr '\n' ' ')
if [ "$syms" = "sqlite3_item2vec_init sqlite3_itemvec_init " ]; then
  echo "ok - exported symbols: only sqlite3_item2vec_init and sqlite3_itemvec_init"
else
  echo "not ok - exported symbols: $lib exports: $syms"
fi
