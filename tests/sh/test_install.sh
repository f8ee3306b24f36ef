#!/usr/bin/env bash
# test_install.sh: `make install` puts the library under $(DESTDIR)$(PREFIX)/lib
# (PREFIX /usr/local by default, LIBDIR overriding the folder), where sqlite3
# loads it by its full path and, with the folder on the loader's path, as
# `.load item2vec`; `make uninstall` removes it.  Everything goes into a
# temporary DESTDIR this test creates (with a space in its name), never into
# a real system folder.
set -u
# Under `make test-asan` the sanitizer runtime is preloaded for the library;
# only sqlite3, which loads it, gets it here (mktemp, make and install would
# report their own leaks).
preload=${LD_PRELOAD:-}
unset LD_PRELOAD
lib="${I2V_LIB:-./item2vec}"
so=$(ls "$lib".so "$lib".dylib 2> /dev/null | head -1)
SQLITE3=${SQLITE3:-sqlite3}
if [ -z "$so" ]; then
  echo "not ok - install: no built library at $lib.so"
  exit 1
fi
ext=${so##*.}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/i2v install.XXXXXX") || { echo "not ok - install: mktemp"; exit 1; }
trap 'rm -rf "$tmp"' EXIT
log=$tmp/make.log
tmp=$tmp/root   # DESTDIR: only what make installs goes there
fails=0
check() { # name, condition result (0 ok), detail
  if [ "$2" -eq 0 ]; then echo "ok - install/$1"; else echo "not ok - install/$1: $3"; fails=$((fails + 1)); fi
}
# make runs without the variables of the `make test` that runs this; -o keeps
# it from rebuilding the library the suite is testing.
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s --no-print-directory -o "$so" LIB="$so" "$@"; }
version() { # sqlite3 arguments...: the version the loaded library reports
  LD_PRELOAD=$preload "$SQLITE3" -batch "$@" :memory: "SELECT item2vec_version();" 2>&1
}
want=$(version -cmd ".load $lib")
if ! [[ "$want" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
  echo "not ok - install: the built library does not load: $want"
  exit 1
fi

out=$(mk install DESTDIR="$tmp" 2>&1)
dest="$tmp/usr/local/lib/item2vec.$ext"
[ -f "$dest" ] && cmp -s "$so" "$dest"
check "default PREFIX puts it in \$(DESTDIR)/usr/local/lib" $? "no $dest; make said: $out"
got=$(version -cmd ".load '$tmp/usr/local/lib/item2vec'")
[ "$got" = "$want" ]
check "loads by its installed path" $? "got '$got', want '$want'"
got=$(LD_LIBRARY_PATH="$tmp/usr/local/lib" version -cmd ".load item2vec")
[ "$got" = "$want" ]
check "'.load item2vec' finds it on the loader's path" $? "got '$got'"
mode=$(stat -c %a "$dest" 2> /dev/null || stat -f %Lp "$dest")
[ "$mode" = 644 ]
check "installed with mode 644" $? "mode $mode"

out=$(mk install DESTDIR="$tmp" PREFIX=/opt/i2v 2>&1)
[ -f "$tmp/opt/i2v/lib/item2vec.$ext" ]
check "PREFIX moves it" $? "no $tmp/opt/i2v/lib/item2vec.$ext; make said: $out"
out=$(mk install DESTDIR="$tmp" LIBDIR=/usr/lib/x86_64-linux-gnu/sqlite3 2>&1)
[ -f "$tmp/usr/lib/x86_64-linux-gnu/sqlite3/item2vec.$ext" ]
check "LIBDIR overrides the folder" $? "make said: $out"

mk uninstall DESTDIR="$tmp" > "$log" 2>&1
mk uninstall DESTDIR="$tmp" PREFIX=/opt/i2v > "$log" 2>&1
mk uninstall DESTDIR="$tmp" LIBDIR=/usr/lib/x86_64-linux-gnu/sqlite3 > "$log" 2>&1
left=$(find "$tmp" -type f | sed "s|^$tmp||")
[ -z "$left" ]
check "make uninstall removes each" $? "left: $left"
out=$(mk uninstall DESTDIR="$tmp" 2>&1)
check "uninstalling twice is not an error" $? "$out"
[ "$fails" -eq 0 ]
