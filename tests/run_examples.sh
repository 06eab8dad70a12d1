#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Smoke-run every example program (except the demo, run by `make demo`).
set -eu
dir=$1
n=0
for ex in "$dir"/*; do
  [ -x "$ex" ] || continue
  case "$(basename "$ex")" in demo) continue ;; esac
  echo "example: $(basename "$ex")"
  "$ex" >/dev/null
  n=$((n + 1))
done
echo "examples: $n passed, 0 failed"
