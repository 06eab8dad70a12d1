#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Run one program under ThreadSanitizer for `make sanitize`. Any TSan report
# fails at once. libomp 14 and its Archer tool themselves crash now and then
# (SEGV/BUS whose summary names libomp.so or libarcher.so, or libomp's own
# "OMP: Error #13: Assertion failure at kmp_alloc.cpp", no report): such a
# run is retried, at most twice, and said so; a crash anywhere else, or a
# third runtime crash, fails.
log=${TSAN_LOG:-/tmp/ompb-tsan.$$.log}
try=1
while :; do
  "$@" > "$log" 2>&1
  rc=$?
  cat "$log"
  [ $rc -eq 0 ] && { rm -f "$log"; exit 0; }
  if grep -q "WARNING: ThreadSanitizer" "$log" ||
     ! grep -Eq "SUMMARY: ThreadSanitizer: (SEGV|BUS).*lib(omp|archer)\.so|OMP: Error #13: Assertion failure at kmp_alloc\.cpp" "$log" ||
     [ $try -ge 3 ]; then
    echo "tsan_run: $* failed (exit $rc)" >&2
    rm -f "$log"
    exit 1
  fi
  echo "tsan_run: the OpenMP runtime crashed (not a TSan report); retry $try of 2" >&2
  try=$((try + 1))
done
