#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Install the Debian packages ompbatch needs when they are missing.
# Checks headers and libraries first; only runs apt-get when something is
# absent. AUTO_DEPS=0 only reports. Called by `make demo|check|bench`.
set -u

missing=""
need() { # need PACKAGE TEST...
  pkg=$1; shift
  "$@" >/dev/null 2>&1 || missing="$missing $pkg"
}
have_header() { test -f "/usr/include/$1" || test -f "/usr/include/$(gcc -dumpmachine)/$1"; }

need gcc command -v gcc
need make command -v make
need pkg-config command -v pkg-config
if [ "${WITH_SLEEF:-1}" = 1 ]; then need libsleef-dev have_header sleef.h; fi
need libcunit1-dev have_header CUnit/CUnit.h
need libmpfr-dev have_header mpfr.h
for extra in ${EXTRA_DEPS:-}; do
  case "$extra" in
    mpich) need mpich command -v mpiexec.mpich; need libmpich-dev command -v mpicc.mpich ;;
    clang) need clang-14 command -v clang; need libomp-14-dev test -f /usr/lib/llvm-14/lib/libarcher.so ;;
    valgrind) need valgrind command -v valgrind ;;
    # Debian's interpreter (the one `make check-cli` runs): a python3 earlier
    # in PATH (pyenv, venv) never sees python3-numpy.
    numpy) need python3-numpy sh -c 'p=/usr/bin/python3; [ -x "$p" ] || p=python3; "$p" -c "import numpy"' ;;
    *) need "$extra" dpkg -s "$extra" ;;
  esac
done

[ -z "$missing" ] && exit 0
echo "ompbatch: missing Debian packages:$missing" >&2
if [ "${AUTO_DEPS:-1}" != 1 ]; then
  echo "ompbatch: install them with: apt-get install -y$missing" >&2
  exit 1
fi
if [ "$(id -u)" = 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO="sudo -n"
else
  echo "ompbatch: not root and no password-less sudo; as root run:" >&2
  echo "  apt-get update && apt-get install -y$missing" >&2
  exit 1
fi
echo "ompbatch: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >&2 && $SUDO apt-get install -y -q $missing >&2 || {
  echo "ompbatch: apt-get failed; install by hand:$missing" >&2
  exit 1
}
