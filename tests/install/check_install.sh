#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# make check-install: install into a temporary DESTDIR + PREFIX and use the
# install as its users do:
#  - the layout: versioned library, SONAME, symlinks, pkg-config files,
#    CMake package files, CLI, man page;
#  - pkg-config: tests/install/outside.c built with nothing but pkg-config
#    (shared, plus the -lm its own sinf needs; then --static against a
#    static-only copy of the install), the .pc's openmp_runtime checked, both
#    run;
#  - CMake: tests/consumers/cmake/ configured with CMAKE_PREFIX_PATH set to
#    the staged prefix (the Config finds its files from its own location),
#    find_package(ompbatch X.Y.Z EXACT); consumer_shared (ompbatch::ompbatch)
#    and consumer_static (ompbatch::ompbatch_static) built and run; the
#    version file's answers (SameMajorVersion, pointer size) checked with
#    cmake -P; with clang + libomp at hand, a consumer on another OpenMP
#    runtime gets the warning;
#  - MPI (when the backend is built, MPI_ON=1): tests/install/outside_mpi.c
#    built with `pkg-config ompbatch-mpi` and as CMake's consumer_mpi
#    (ompbatch::mpi), each run on 2 ranks;
#  - the installed CLI; then uninstall, and nothing may be left: no file, no
#    link, no ompbatch directory.
# Environment: MAKE (the make to call), CC, MPI_ON (1 when libompbatch_mpi
# is built), MPIEXEC, CMAKE (default cmake).
set -eu
MAKE=${MAKE:-make}
CC=${CC:-cc}
MPI_ON=${MPI_ON:-0}
MPIEXEC=${MPIEXEC:-mpiexec.mpich}
CMAKE=${CMAKE:-cmake}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ompbatch-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
stage=$tmp/stage
prefix=/opt/ompbatch-test
root=$stage$prefix
passed=0
fail() { echo "check-install: FAIL: $*" >&2; exit 1; }
ok() { passed=$((passed + 1)); echo "check-install: ok: $*"; }
# Runs an MPI program on 2 ranks on the loopback, as tests/mpi does.
mpirun2() {
  UCX_TLS=self,sm UCX_NET_DEVICES=lo MPIEXEC_TIMEOUT=120 "$MPIEXEC" -launcher fork -n 2 "$@"
}

command -v "$CMAKE" >/dev/null 2>&1 || fail "no $CMAKE (make deps installs cmake)"

$MAKE --no-print-directory install DESTDIR="$stage" PREFIX="$prefix" >"$tmp/install.log" 2>&1 ||
  { cat "$tmp/install.log" >&2; fail "make install"; }

cmakedir=lib/cmake/ompbatch
for f in include/ompbatch.h include/ompbatch/version.h include/ompbatch/simd.h \
         include/ompbatch/mpi.h lib/libompbatch.a lib/pkgconfig/ompbatch.pc bin/ompbatch \
         share/man/man1/ompbatch.1 $cmakedir/ompbatchConfig.cmake \
         $cmakedir/ompbatchConfigVersion.cmake $cmakedir/ompbatchTargets.cmake; do
  [ -f "$root/$f" ] || fail "missing $f"
done
# Each shared library: the real file, the SONAME link to it, the dev link.
check_so() { # name
  real=$(cd "$root/lib" && ls "$1".so.*.*.*)
  major=${real#"$1".so.}; major=${major%%.*}
  [ -L "$root/lib/$1.so.$major" ] || fail "$1: no SONAME symlink"
  [ "$(readlink "$root/lib/$1.so.$major")" = "$real" ] || fail "$1: SONAME link target"
  [ "$(readlink "$root/lib/$1.so")" = "$1.so.$major" ] || fail "$1: dev link target"
  readelf -d "$root/lib/$real" | grep -q "SONAME.*\[$1.so.$major\]" || fail "$1: SONAME"
}
check_so libompbatch
major_core=$major
real_core=$real
if [ "$MPI_ON" = 1 ]; then
  check_so libompbatch_mpi
  [ "$major" = "$major_core" ] || fail "libompbatch_mpi's major $major is not the core's $major_core"
  for f in lib/libompbatch_mpi.a lib/pkgconfig/ompbatch-mpi.pc $cmakedir/ompbatchMpiTargets.cmake; do
    [ -f "$root/$f" ] || fail "missing $f"
  done
  readelf -d "$root/lib/$real" | grep -q "NEEDED.*\[libompbatch.so.$major_core\]" ||
    fail "libompbatch_mpi does not need libompbatch.so.$major_core"
fi
ok "layout"
major=$major_core

# ---- pkg-config ----
export PKG_CONFIG_PATH="$root/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$stage"
pkg-config --exists ompbatch || fail "pkg-config does not find ompbatch"
ver=$(pkg-config --modversion ompbatch)
[ "$real_core" = "libompbatch.so.$ver" ] || fail "pc version $ver vs $real_core"

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
ok "pkg-config, shared"

# Static: a copy of the install without the shared libraries, so the linker
# can only take libompbatch.a; Libs.private/Requires.private must suffice.
mkdir -p "$tmp/static"
cp -R "$stage/." "$tmp/static/"
rm -f "$tmp/static$prefix"/lib/libompbatch*.so*
# shellcheck disable=SC2046
$CC -o "$tmp/outside_static" tests/install/outside.c \
  $(PKG_CONFIG_PATH="$tmp/static$prefix/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$tmp/static" \
    pkg-config --static --cflags --libs ompbatch) || fail "static build"
if readelf -d "$tmp/outside_static" | grep -q "libompbatch"; then
  fail "static program needs the shared library"
fi
"$tmp/outside_static" > "$tmp/outside_static.out" || fail "static program"
grep -q "openmp $rt, ok" "$tmp/outside_static.out" || fail "static program's output"
ok "pkg-config --static"

# MPI through ompbatch-mpi.pc. Its Requires name mpich.pc, whose system
# paths PKG_CONFIG_SYSROOT_DIR would wrongly prefix: the staged .pc files
# are copied with prefix= pointing into the stage instead.
if [ "$MPI_ON" = 1 ]; then
  mkdir -p "$tmp/pc"
  for pc in ompbatch ompbatch-mpi; do
    sed "s|^prefix=.*|prefix=$root|" "$root/lib/pkgconfig/$pc.pc" > "$tmp/pc/$pc.pc"
  done
  mpi_flags=$(PKG_CONFIG_PATH="$tmp/pc" PKG_CONFIG_SYSROOT_DIR= pkg-config --cflags --libs ompbatch-mpi) ||
    fail "pkg-config ompbatch-mpi"
  # shellcheck disable=SC2086
  $CC -o "$tmp/outside_mpi" tests/install/outside_mpi.c $mpi_flags || fail "MPI build with pkg-config"
  readelf -d "$tmp/outside_mpi" | grep -q "NEEDED.*\[libompbatch_mpi.so.$major\]" ||
    fail "MPI program does not need libompbatch_mpi.so.$major"
  LD_LIBRARY_PATH="$root/lib" mpirun2 "$tmp/outside_mpi" > "$tmp/outside_mpi.out" 2>&1 ||
    { cat "$tmp/outside_mpi.out" >&2; fail "MPI program (pkg-config) on 2 ranks"; }
  cat "$tmp/outside_mpi.out"
  grep -q "2 ranks .*, ok" "$tmp/outside_mpi.out" || fail "MPI program's output"
  ok "pkg-config ompbatch-mpi, 2 ranks"
fi

# ---- CMake ----
unset PKG_CONFIG_SYSROOT_DIR
cm_src=$(pwd)/tests/consumers/cmake
cm_build=$tmp/cmake-build
cm_args="-DCMAKE_PREFIX_PATH=$root -DCMAKE_C_COMPILER=$CC -DOMPB_EXPECT_VERSION=$ver"
[ "$MPI_ON" = 1 ] && cm_args="$cm_args -DOMPB_WANT_MPI=ON"
# shellcheck disable=SC2086
"$CMAKE" -S "$cm_src" -B "$cm_build" $cm_args >"$tmp/cmake.log" 2>&1 ||
  { cat "$tmp/cmake.log" >&2; fail "cmake configure of tests/consumers/cmake"; }
if grep -q "CMake Warning" "$tmp/cmake.log"; then
  cat "$tmp/cmake.log" >&2; fail "cmake configure warned"
fi
grep -q "ompbatch $ver (OpenMP runtime $rt) in $root/lib" "$tmp/cmake.log" ||
  { cat "$tmp/cmake.log" >&2; fail "the Config's variables (version, runtime, staged libdir)"; }
"$CMAKE" --build "$cm_build" >"$tmp/cmake-build.log" 2>&1 ||
  { cat "$tmp/cmake-build.log" >&2; fail "cmake build of tests/consumers/cmake"; }
readelf -d "$cm_build/consumer_shared" | grep -q "NEEDED.*\[libompbatch.so.$major\]" ||
  fail "consumer_shared does not need libompbatch.so.$major"
if readelf -d "$cm_build/consumer_static" | grep -q "libompbatch"; then
  fail "consumer_static needs the shared library"
fi
# CMake's build RPATH finds the staged library: no LD_LIBRARY_PATH.
ldd "$cm_build/consumer_shared" | grep -q "$root/lib/libompbatch.so.$major" ||
  fail "consumer_shared does not load the staged library"
for p in consumer_shared consumer_static; do
  "$cm_build/$p" > "$tmp/$p.out" || fail "$p"
  cat "$tmp/$p.out"
  grep -q "openmp $rt, ok" "$tmp/$p.out" || fail "$p's output"
done
ok "CMake ompbatch::ompbatch and ompbatch::ompbatch_static"
if [ "$MPI_ON" = 1 ]; then
  [ -x "$cm_build/consumer_mpi" ] || fail "no consumer_mpi: ompbatch::mpi missing"
  mpirun2 "$cm_build/consumer_mpi" > "$tmp/consumer_mpi.out" 2>&1 ||
    { cat "$tmp/consumer_mpi.out" >&2; fail "consumer_mpi on 2 ranks"; }
  cat "$tmp/consumer_mpi.out"
  grep -q "2 ranks .*, ok" "$tmp/consumer_mpi.out" || fail "consumer_mpi's output"
  ok "CMake ompbatch::mpi, 2 ranks"
fi

# The version file, as find_package calls it.
"$CMAKE" -DVERSION_FILE="$root/$cmakedir/ompbatchConfigVersion.cmake" -DVERSION="$ver" \
  -P "$cm_src/version_check.cmake" > "$tmp/version.log" 2>&1 ||
  { cat "$tmp/version.log" >&2; fail "ompbatchConfigVersion.cmake"; }
tail -n 1 "$tmp/version.log"
ok "ompbatchConfigVersion.cmake"

# A consumer on another OpenMP runtime (clang's libomp beside a libgomp
# build, or the other way round) is warned at configure time.
other_cc=
case "$rt" in
  libgomp) command -v clang >/dev/null 2>&1 && other_cc=clang ;;
  libomp) command -v gcc >/dev/null 2>&1 && other_cc=gcc ;;
esac
if [ -n "$other_cc" ] &&
   "$CMAKE" -S "$cm_src" -B "$tmp/cmake-other" -DCMAKE_PREFIX_PATH="$root" \
     -DCMAKE_C_COMPILER="$other_cc" -DOMPB_EXPECT_VERSION="$ver" >"$tmp/cmake-other.log" 2>&1; then
  grep -q "was built for the OpenMP runtime $rt" "$tmp/cmake-other.log" ||
    { cat "$tmp/cmake-other.log" >&2; fail "no warning for a $other_cc consumer"; }
  ok "CMake warns a $other_cc consumer of its other OpenMP runtime"
else
  echo "check-install: (no consumer on another OpenMP runtime: ${other_cc:-no other compiler}, or its OpenMP not found)"
fi

# ---- the CLI, the man page ----
"$root/bin/ompbatch" --version | grep -q "$ver" || fail "installed CLI --version"
if command -v man >/dev/null 2>&1; then
  MANWIDTH=80 man -l "$root/share/man/man1/ompbatch.1" 2>&1 | grep -q "EXIT STATUS" ||
    fail "man page does not render"
fi
ok "CLI and man page"

# ---- uninstall ----
$MAKE --no-print-directory uninstall DESTDIR="$stage" PREFIX="$prefix" >"$tmp/uninstall.log" 2>&1 ||
  { cat "$tmp/uninstall.log" >&2; fail "make uninstall"; }
left=$(find "$stage" \( -type f -o -type l \) | sed "s|^$stage||")
[ -z "$left" ] || fail "left after uninstall: $left"
left=$(find "$stage" -type d -name '*ompbatch*' ! -path "$stage" ! -path "$stage/opt/ompbatch-test" | sed "s|^$stage||")
[ -z "$left" ] || fail "directories left after uninstall: $left"
ok "uninstall leaves nothing"
echo "check-install: $passed passed, 0 failed"
