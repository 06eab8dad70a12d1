#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# make check-install: install into a temporary DESTDIR + PREFIX, check the
# layout (versioned library, SONAME, symlinks, pkg-config file, CLI, man
# page), build tests/install/outside.c with nothing but pkg-config (shared,
# plus the -lm its own sinf needs; then --static against a static-only copy
# of the install), check the .pc's openmp_runtime, run both, run
# the installed CLI, then uninstall and check nothing is left.
# Environment: MAKE (the make to call), CC.
set -eu
MAKE=${MAKE:-make}
CC=${CC:-cc}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ompbatch-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
stage=$tmp/stage
prefix=/opt/ompbatch-test
root=$stage$prefix
fail() { echo "check-install: FAIL: $*" >&2; exit 1; }

$MAKE --no-print-directory install DESTDIR="$stage" PREFIX="$prefix" >"$tmp/install.log" 2>&1 ||
  { cat "$tmp/install.log" >&2; fail "make install"; }

for f in include/ompbatch.h include/ompbatch/version.h include/ompbatch/simd.h \
         lib/libompbatch.a lib/pkgconfig/ompbatch.pc bin/ompbatch \
         share/man/man1/ompbatch.1; do
  [ -f "$root/$f" ] || fail "missing $f"
done
real=$(cd "$root/lib" && ls libompbatch.so.*.*.*)
major=${real#libompbatch.so.}; major=${major%%.*}
[ -L "$root/lib/libompbatch.so.$major" ] || fail "no SONAME symlink"
[ "$(readlink "$root/lib/libompbatch.so.$major")" = "$real" ] || fail "SONAME link target"
[ "$(readlink "$root/lib/libompbatch.so")" = "libompbatch.so.$major" ] || fail "dev link target"
readelf -d "$root/lib/$real" | grep -q "SONAME.*\[libompbatch.so.$major\]" || fail "SONAME"

export PKG_CONFIG_PATH="$root/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$stage"
pkg-config --exists ompbatch || fail "pkg-config does not find ompbatch"
ver=$(pkg-config --modversion ompbatch)
[ "$real" = "libompbatch.so.$ver" ] || fail "pc version $ver vs $real"

# Shared: the program records the SONAME and runs from the staged lib/.
# shellcheck disable=SC2046
$CC -o "$tmp/outside" tests/install/outside.c $(pkg-config --cflags --libs ompbatch) -lm ||
  fail "shared build"
readelf -d "$tmp/outside" | grep -q "NEEDED.*\[libompbatch.so.$major\]" ||
  fail "shared program does not need libompbatch.so.$major"
LD_LIBRARY_PATH="$root/lib" "$tmp/outside" > "$tmp/outside.out" || fail "shared program"
cat "$tmp/outside.out"
# The .pc names the OpenMP runtime the library was built for.
rt=$(pkg-config --variable=openmp_runtime ompbatch)
grep -q "openmp $rt, ok" "$tmp/outside.out" || fail "pc openmp_runtime '$rt' is not the library's"

# Static: a copy of the install without the shared library, so the linker
# can only take libompbatch.a; Libs.private/Requires.private must suffice.
mkdir -p "$tmp/static"
cp -R "$stage/." "$tmp/static/"
rm -f "$tmp/static$prefix"/lib/libompbatch.so*
# shellcheck disable=SC2046
PKG_CONFIG_PATH="$tmp/static$prefix/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$tmp/static" \
  $CC -o "$tmp/outside_static" tests/install/outside.c \
  $(PKG_CONFIG_PATH="$tmp/static$prefix/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$tmp/static" \
    pkg-config --static --cflags --libs ompbatch) || fail "static build"
if readelf -d "$tmp/outside_static" | grep -q "libompbatch"; then
  fail "static program needs the shared library"
fi
"$tmp/outside_static" || fail "static program"

"$root/bin/ompbatch" --version | grep -q "$ver" || fail "installed CLI --version"
if command -v man >/dev/null 2>&1; then
  MANWIDTH=80 man -l "$root/share/man/man1/ompbatch.1" 2>&1 | grep -q "EXIT STATUS" ||
    fail "man page does not render"
fi

$MAKE --no-print-directory uninstall DESTDIR="$stage" PREFIX="$prefix" >"$tmp/uninstall.log" 2>&1 ||
  { cat "$tmp/uninstall.log" >&2; fail "make uninstall"; }
left=$(find "$stage" \( -type f -o -type l \) | sed "s|^$stage||")
[ -z "$left" ] || fail "left after uninstall: $left"
echo "check-install: 1 passed, 0 failed (installed, pkg-config shared + static, uninstalled)"
