# SPDX-License-Identifier: BSD-3-Clause
# Fuzz targets (tests/fuzz/, issue 16): libFuzzer programs for the .npy
# header parser (cli/npy.c), the MPI wire decoders (src/mpi/wire.c) and the
# expression compiler and evaluator (src/expr_*.c, src/work_expr.c,
# kernels/expr_ops.c; issue 13).
#
#   make fuzz [FUZZ_S=60] [FUZZ_TARGETS="npy wire expr"] [FUZZ_ARGS=-seed=N]
#
# The targets run at the same time, each for FUZZ_S seconds, one job, over
# a copy of its seed corpus (tests/fuzz/corpus/NAME/) in $(BUILD)/fuzz/run/NAME/, with its
# dictionary (tests/fuzz/NAME.dict); nothing is written into the tree. The
# target prints libFuzzer's "Done N runs" line for each and fails when any
# crashed; a crashing input is left in $(BUILD)/fuzz/run/NAME/ (crash-*,
# leak-*, timeout-*): copy it into the corpus, where it stays as a seed.
# Replay one input: ./$(BUILD)/fuzz/fuzz_NAME FILE.
#
# Not part of `all` or `check`. It needs clang-14 with libFuzzer, which is
# in libclang-rt-14-dev (only recommended by clang-14), and MPICH's mpi.h
# (libmpich-dev): wire.h includes ompbatch/mpi.h, which includes mpi.h. No
# MPI function is called, so nothing links against MPICH. `make fuzz`
# installs the three through scripts/deps.sh.
#
# fuzz_expr needs the whole library (pool, engine, kernels): a sub-make
# builds libompbatch.a in $(BUILD)/fuzz/lib with clang, libomp and the
# fuzzer's coverage (fuzzer-no-link) plus ASan+UBSan, by the Makefile's own
# rules, so every ISA's kernels are in it as in the normal build.

FUZZ_S ?= 60
FUZZ_TARGETS ?= npy wire expr
FUZZ_ARGS ?=
FUZZ_CC ?= clang
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_BINS := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)
# -fno-sanitize-recover: a UBSan report aborts, so libFuzzer counts it as a
# crash and keeps the input.
FUZZ_CFLAGS := -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wmissing-prototypes \
  -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
  -fno-sanitize-recover=all -MMD -MP
# Expanded when a recipe runs (after `make fuzz` installed MPICH), not when
# every other make parses this file.
FUZZ_MPI_INC = $(filter -I%,$(shell $(MPICC) -show 2>/dev/null))
FUZZ_CPPFLAGS_npy := -Icli
FUZZ_CPPFLAGS_wire = -Iinclude -Isrc -Isrc/mpi $(FUZZ_MPI_INC)
FUZZ_OBJS_npy := $(FUZZ_DIR)/obj/tests/fuzz/fuzz_npy.o $(FUZZ_DIR)/obj/cli/npy.o
FUZZ_OBJS_wire := $(FUZZ_DIR)/obj/tests/fuzz/fuzz_wire.o \
  $(FUZZ_DIR)/obj/src/mpi/wire.o $(FUZZ_DIR)/obj/src/alloc.o
FUZZ_CPPFLAGS_expr := -Iinclude
FUZZ_OBJS_expr := $(FUZZ_DIR)/obj/tests/fuzz/fuzz_expr.o
FUZZ_ALL_OBJS := $(FUZZ_OBJS_npy) $(FUZZ_OBJS_wire) $(FUZZ_OBJS_expr)
# Each object's target: the one whose object list holds it.
fuzz_target_of = $(firstword $(foreach t,npy wire expr,$(if $(filter $(1),$(FUZZ_OBJS_$(t))),$(t))))

# The instrumented library for fuzz_expr, and what the sub-make is given.
FUZZ_LIB_DIR := $(FUZZ_DIR)/lib
FUZZ_LIB := $(FUZZ_LIB_DIR)/libompbatch.a
FUZZ_OMPFLAG := -fopenmp=libomp
FUZZ_LIB_MAKE = $(MAKE) --no-print-directory BUILD=$(FUZZ_LIB_DIR) CC=$(FUZZ_CC) \
  OMPFLAG=$(FUZZ_OMPFLAG) OPT='-O1 -g -fno-omit-frame-pointer' \
  SANFLAGS='-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all'

# The fuzz settings are not in the Makefile's FLAGS_VARS, so they get a
# stamp of their own (same scheme: rewritten only when its content changes).
FUZZ_STAMP := $(FUZZ_DIR)/flags.stamp
FUZZ_FLAGS_TEXT := FUZZ_CC=$(FUZZ_CC) FUZZ_CFLAGS=$(FUZZ_CFLAGS) MPICC=$(MPICC) \
  FUZZ_OMPFLAG=$(FUZZ_OMPFLAG) LDLIBS=$(LDLIBS)

.PHONY: fuzz fuzz-run fuzz-build

fuzz:
	@EXTRA_DEPS="clang libclang-rt-14-dev mpich" AUTO_DEPS=$(AUTO_DEPS) \
	  WITH_SLEEF=$(WITH_SLEEF) sh scripts/deps.sh
	@$(MAKE) --no-print-directory fuzz-run

fuzz-build: $(FUZZ_BINS)

# Read, never written, while parsing (a dry run changes nothing).
ifneq ($(strip $(shell cat $(FUZZ_STAMP) 2>/dev/null)),$(strip $(FUZZ_FLAGS_TEXT)))
$(FUZZ_STAMP): FORCE
endif
$(FUZZ_STAMP):
	@mkdir -p $(dir $@)
	@printf '%s\n' '$(FUZZ_FLAGS_TEXT)' > $@

$(FUZZ_ALL_OBJS): $(FUZZ_DIR)/obj/%.o: %.c $(FUZZ_STAMP) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CPPFLAGS_$(call fuzz_target_of,$@)) $(FUZZ_CFLAGS) -c $< -o $@

FUZZ_LINK = $(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(filter-out $(FUZZ_STAMP) $(FLAGS_STAMP),$^)
$(FUZZ_DIR)/fuzz_npy: $(FUZZ_OBJS_npy) $(FUZZ_STAMP) $(FLAGS_STAMP)
	$(FUZZ_LINK)
$(FUZZ_DIR)/fuzz_wire: $(FUZZ_OBJS_wire) $(FUZZ_STAMP) $(FLAGS_STAMP)
	$(FUZZ_LINK)
$(FUZZ_DIR)/fuzz_expr: $(FUZZ_OBJS_expr) $(FUZZ_LIB) $(FUZZ_STAMP) $(FLAGS_STAMP)
	$(FUZZ_LINK) $(FUZZ_OMPFLAG) -pthread $(LDLIBS)

# The sub-make decides what is out of date in the library (its own flags
# stamp and dependency files), so it always runs.
$(FUZZ_LIB): FORCE
	+@$(FUZZ_LIB_MAKE) $@

# Every target runs, all at once (each for FUZZ_S seconds of wall time,
# sharing the CPUs: the CI's fuzzing takes FUZZ_S instead of three times
# it), then the rule fails if any crashed. The corpus copy is fresh each
# time, so a run never depends on the one before.
fuzz-run: $(FUZZ_BINS)
	@pids=; for t in $(FUZZ_TARGETS); do \
	  run=$(FUZZ_DIR)/run/$$t; rm -rf $$run; mkdir -p $$run/corpus; \
	  cp tests/fuzz/corpus/$$t/* $$run/corpus/; \
	  echo "== fuzz $$t: $(FUZZ_S) s, $$(ls $$run/corpus | wc -l) seeds"; \
	  ./$(FUZZ_DIR)/fuzz_$$t -max_total_time=$(FUZZ_S) -timeout=10 \
	    -dict=tests/fuzz/$$t.dict -artifact_prefix=$$run/ -print_final_stats=1 \
	    $(FUZZ_ARGS) $$run/corpus > $$run/log 2>&1 & pids="$$pids $$!"; \
	done; \
	fail=; set -- $$pids; for t in $(FUZZ_TARGETS); do \
	  run=$(FUZZ_DIR)/run/$$t; \
	  if wait $$1; then \
	    echo "fuzz $$t: $$(grep '^Done [0-9]* runs' $$run/log)," \
	      "corpus $$(ls $$run/corpus | wc -l) files"; \
	  else \
	    tail -n 40 $$run/log; \
	    echo "fuzz $$t: FAILED; input: $$(ls $$run/crash-* $$run/leak-* \
	      $$run/timeout-* $$run/oom-* 2>/dev/null | tr '\n' ' ')(log $$run/log)" >&2; \
	    fail="$$fail $$t"; \
	  fi; \
	  shift; \
	done; \
	test -z "$$fail" || { echo "fuzz: failed:$$fail" >&2; exit 1; }

-include $(FUZZ_ALL_OBJS:.o=.d)
