# SPDX-License-Identifier: BSD-3-Clause
# ompbatch: rules only; settings live in config.mk.
include config.mk

# The default goal, whatever the fragments included below define first.
.PHONY: all
all:

# No built-in rules: they would try to make the -MMD .d files into programs.
MAKEFLAGS += --no-builtin-rules
.SUFFIXES:

# Sanitizer builds live beside the normal one, in $(BUILD)-asan and
# $(BUILD)-tsan (override: a BUILD given on the command line, which `make
# sanitize` passes on to its sub-makes, gets the suffix too).
BUILD_BASE := $(BUILD)
SAN_BUILDS := $(BUILD_BASE)-asan $(BUILD_BASE)-asan-clang $(BUILD_BASE)-tsan
ifeq ($(SAN),address)
override BUILD := $(BUILD_BASE)-asan
OPT := -O1 -g -fno-omit-frame-pointer
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined
endif
# The same with clang and libomp: clang's UBSan also checks pointer
# arithmetic (an offset applied to NULL), which gcc's does not.
ifeq ($(SAN),address-clang)
override BUILD := $(BUILD_BASE)-asan-clang
CC := clang
OPT := -O1 -g -fno-omit-frame-pointer
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined
endif
ifeq ($(SAN),thread)
override BUILD := $(BUILD_BASE)-tsan
CC := clang
OPT := -O1 -g -gdwarf-4 -Wno-pass-failed
SANFLAGS := -fsanitize=thread
OMPFLAG := -fopenmp=libomp
endif
OMPFLAG ?= -fopenmp
# The OpenMP runtime this compiler's OpenMP uses (libomp's omp.h defines
# KMP_VERSION_MAJOR, libgomp's does not): named in ompbatch.pc, and clang
# builds keep quiet about the omp simd loops they leave scalar (notes, not
# defects: the kernels' speed is measured in perf/bench_simd).
OMP_RUNTIME := $(shell printf '\043include <omp.h>\n\043ifdef KMP_VERSION_MAJOR\nlibomp\n\043else\nlibgomp\n\043endif\n' | \
  $(CC) $(OMPFLAG) -E -P -x c - 2>/dev/null | tail -n 1)
ifeq ($(OMP_RUNTIME),libomp)
WARN_CC := -Wno-pass-failed
endif

# -pthread explicitly: clang's -fopenmp does not imply it (gcc's does, and
# with it _REENTRANT, which glibc turns into _POSIX_C_SOURCE: clock_gettime,
# rand_r), so CC=clang and SAN=thread need it.
WARN := -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wmissing-prototypes $(WARN_CC)
CPPFLAGS += -Iinclude -Isrc -Ikernels
CFLAGS += $(WARN) $(OPT) $(OMPFLAG) -pthread $(SANFLAGS) -fPIC -fvisibility=hidden -MMD -MP
LDFLAGS += $(OMPFLAG) -pthread $(SANFLAGS)
LDLIBS += -lpthread -lm

ifeq ($(WITH_SLEEF),1)
CPPFLAGS += -DOMPB_WITH_SLEEF=1
LDLIBS += -lsleef
endif

# Every object and program depends on this stamp, whose content is the
# settings that shape them (the list is FLAGS_VARS, at the end of this file):
# changing CC, OPT, WITH_SLEEF, SAN ... rebuilds everything they touch. The
# stamp is rewritten only when its content changes. Rules that pass $^ to a
# tool filter it out; $< stays the source.
FLAGS_STAMP := $(BUILD)/flags.stamp

LIB_SRCS := $(wildcard src/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
KERNEL_OBJS :=
include kernels/kernels.mk
LIB_OBJS += $(KERNEL_OBJS)

LIB_A := $(BUILD)/libompbatch.a
LIB_SO := $(BUILD)/libompbatch.so

TEST_SRCS := tests/runner.c tests/helpers.c $(wildcard tests/test_*.c)
TEST_OBJS := $(TEST_SRCS:%.c=$(BUILD)/obj/%.o)
RUNNER := $(BUILD)/tests/runner
EXAMPLES := $(patsubst examples/%.c,$(BUILD)/examples/%,$(wildcard examples/*.c))
BENCHES := $(patsubst perf/%.c,$(BUILD)/perf/%,$(wildcard perf/*.c))

# Feature fragments (MPI backend, CLI and install, reliability checks) live in
# mk/*.mk. Each may append to ALL_EXTRA (built by `all`), CHECK_EXTRA
# (targets `make check` runs after the unit suites), BENCH_EXTRA and
# DEPS_EXTRA (extra Debian packages, see scripts/deps.sh).
ALL_EXTRA :=
CHECK_EXTRA :=
BENCH_EXTRA :=
DEPS_EXTRA :=
# A clang build needs clang and libomp (scripts/deps.sh's clang entry).
ifneq ($(findstring clang,$(CC)),)
DEPS_EXTRA += clang
endif
include $(sort $(wildcard mk/*.mk))

.PHONY: deps demo check check-threads bench sanitize clean install FORCE
all: $(LIB_A) $(LIB_SO) $(EXAMPLES) $(RUNNER) $(BENCHES) $(ALL_EXTRA)

deps:
	@AUTO_DEPS=$(AUTO_DEPS) WITH_SLEEF=$(WITH_SLEEF) EXTRA_DEPS="$(DEPS_EXTRA)" sh scripts/deps.sh

$(BUILD)/obj/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(LIB_A): $(LIB_OBJS) $(FLAGS_STAMP)
	@rm -f $@
	$(AR) rcs $@ $(filter-out $(FLAGS_STAMP),$^)

# libompbatch.so.MAJOR.MINOR.PATCH with SONAME libompbatch.so.MAJOR, and the
# two symlinks (version and names from mk/cli.mk).
$(LIB_SO): $(LIB_OBJS) $(FLAGS_STAMP)
	$(CC) -shared $(LDFLAGS) -Wl,-soname,$(LIB_SONAME) -o $(LIB_SO_REAL) \
	  $(filter-out $(FLAGS_STAMP),$^) $(LDLIBS)
	ln -sf $(notdir $(LIB_SO_REAL)) $(dir $@)$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $@

$(RUNNER): $(TEST_OBJS) $(LIB_A) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(TEST_OBJS) $(LIB_A) -lcunit $(TEST_LIBS) $(LDLIBS)

# Examples and benchmarks compile and link in one step; their -MMD files are
# $(BUILD)/examples/NAME.d and $(BUILD)/perf/NAME.d (included below).
$(BUILD)/examples/%: examples/%.c $(LIB_A) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LIB_A) $(LDFLAGS) $(LDLIBS)

$(BUILD)/perf/%: perf/%.c $(LIB_A) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(PERF_CFLAGS_$*) -o $@ $< $(LIB_A) $(LDFLAGS) $(PERF_LIBS_$*) $(LDLIBS)

# The demo: a 100,000-task batch with a live progress line.
demo: deps
	@$(MAKE) --no-print-directory $(BUILD)/examples/demo
	./$(BUILD)/examples/demo

# The whole suite, with OpenMP cancellation off and on (libgomp reads
# OMP_CANCELLATION only at program start), then the simd suite and the expr
# suite's lengths and kernel-select tests again with a 4 KiB streaming
# size, so that every large-call path (the evaluator's streaming stores,
# its nt_sel_ kernels) runs at small sizes,
# and the expr suite under each ISA of this CPU below the best one (the
# runs above use the best; OMPB_SIMD is read once per process).
check: deps
	@$(MAKE) --no-print-directory all
	env -u OMP_CANCELLATION ./$(RUNNER)
	OMP_CANCELLATION=true ./$(RUNNER)
	OMPB_STREAM_BYTES=4096 ./$(RUNNER) simd
	OMPB_STREAM_BYTES=4096 ./$(RUNNER) expr lengths_blocks_alignment_in_place
	OMPB_STREAM_BYTES=4096 ./$(RUNNER) expr streamed_kernel_select_gives_the_select_bits
	@isas=; for isa in scalar sse2 avx2 avx512f; do if [ $$isa = scalar ] || \
	  grep -qw $$isa /proc/cpuinfo 2>/dev/null; then isas="$$isas $$isa"; fi; done; \
	for isa in $$isas; do [ $$isa = "$${isas##* }" ] && break; echo "OMPB_SIMD=$$isa ./$(RUNNER) expr"; \
	  OMPB_SIMD=$$isa ./$(RUNNER) expr > $(BUILD)/expr-$$isa.log 2>&1 || { cat $(BUILD)/expr-$$isa.log; exit 1; }; done
	@sh tests/run_examples.sh $(BUILD)/examples
	@for t in $(CHECK_EXTRA); do $(MAKE) --no-print-directory $$t || exit 1; done

# The whole suite at one thread and at sixteen (more than most CI machines'
# cores), with OMP_CANCELLATION unset: no test may assume a worker count.
# Every count runs; the target fails after them if any failed.
CHECK_THREADS ?= 1 16
check-threads: $(RUNNER)
	@fail=; for n in $(CHECK_THREADS); do echo "== OMP_NUM_THREADS=$$n ./$(RUNNER)"; \
	  env -u OMP_CANCELLATION OMP_NUM_THREADS=$$n ./$(RUNNER) || fail="$$fail $$n"; done; \
	test -z "$$fail" || { echo "check-threads: failed at OMP_NUM_THREADS=$$fail" >&2; exit 1; }

bench: deps
	@$(MAKE) --no-print-directory $(BENCHES)
	@for b in $(BENCHES); do echo "== $$b"; ./$$b || exit 1; done
	@for t in $(BENCH_EXTRA); do $(MAKE) --no-print-directory $$t || exit 1; done

clean:
	rm -rf $(BUILD_BASE) $(SAN_BUILDS)

-include $(LIB_OBJS:.o=.d) $(TEST_OBJS:.o=.d) $(EXAMPLES:=.d) $(BENCHES:=.d)

# ---- the flags stamp ----
# The settings that shape objects and programs, taken here, after every
# fragment has added its own, as global values (a target-specific value must
# not leak into the stamp through whichever target happens to build it).
FLAGS_VARS := CC CPPFLAGS CFLAGS OPT OMPFLAG SANFLAGS LDFLAGS LDLIBS AR \
  WITH_SLEEF SAN MPICC MPI_CC KERNEL_ISAS KERNEL_CFLAGS MVEC_CFLAGS TEST_LIBS FC FORTRAN_FFLAGS \
  $(sort $(filter ISAFLAGS_% PERF_CFLAGS_% PERF_LIBS_%,$(.VARIABLES)))
FLAGS_TEXT := $(foreach v,$(FLAGS_VARS),$(v)=$(strip $($(v))))
flags_sq = '$(subst ','\'',$(1))'
FLAGS_LINES := $(foreach v,$(FLAGS_VARS),$(call flags_sq,$(v)=$(strip $($(v)))))
# Read, never written, while parsing: a dry run (make -n) changes nothing.
ifneq ($(strip $(shell cat $(FLAGS_STAMP) 2>/dev/null)),$(strip $(FLAGS_TEXT)))
$(FLAGS_STAMP): FORCE
endif
$(FLAGS_STAMP):
	@mkdir -p $(dir $@)
	@printf '%s\n' $(FLAGS_LINES) > $@
