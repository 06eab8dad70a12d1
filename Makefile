# ompbatch: rules only; settings live in config.mk.
include config.mk

# No built-in rules: they would try to make the -MMD .d files into programs.
MAKEFLAGS += --no-builtin-rules
.SUFFIXES:

ifeq ($(SAN),address)
BUILD := $(BUILD)-asan
OPT := -O1 -g -fno-omit-frame-pointer
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined
endif
ifeq ($(SAN),thread)
BUILD := $(BUILD)-tsan
CC := clang
OPT := -O1 -g -gdwarf-4 -Wno-pass-failed
# clang's -fopenmp does not imply -pthread (gcc's does, and with it
# _REENTRANT, which glibc turns into _POSIX_C_SOURCE: clock_gettime, rand_r).
SANFLAGS := -fsanitize=thread -pthread
OMPFLAG := -fopenmp=libomp
endif
OMPFLAG ?= -fopenmp

WARN := -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wmissing-prototypes
CPPFLAGS += -Iinclude -Isrc -Ikernels
CFLAGS += $(WARN) $(OPT) $(OMPFLAG) $(SANFLAGS) -fPIC -fvisibility=hidden -MMD -MP
LDFLAGS += $(OMPFLAG) $(SANFLAGS)
LDLIBS += -lpthread -lm

ifeq ($(WITH_SLEEF),1)
CPPFLAGS += -DOMPB_WITH_SLEEF=1
LDLIBS += -lsleef
endif

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
include $(sort $(wildcard mk/*.mk))

.PHONY: all deps demo check bench sanitize clean install
all: $(LIB_A) $(LIB_SO) $(EXAMPLES) $(RUNNER) $(BENCHES) $(ALL_EXTRA)

deps:
	@AUTO_DEPS=$(AUTO_DEPS) WITH_SLEEF=$(WITH_SLEEF) EXTRA_DEPS="$(DEPS_EXTRA)" sh scripts/deps.sh

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(LIB_A): $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

# libompbatch.so.MAJOR.MINOR.PATCH with SONAME libompbatch.so.MAJOR, and the
# two symlinks (version and names from mk/cli.mk).
$(LIB_SO): $(LIB_OBJS)
	$(CC) -shared $(LDFLAGS) -Wl,-soname,$(LIB_SONAME) -o $(LIB_SO_REAL) $^ $(LDLIBS)
	ln -sf $(notdir $(LIB_SO_REAL)) $(dir $@)$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $@

$(RUNNER): $(TEST_OBJS) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(TEST_OBJS) $(LIB_A) -lcunit $(TEST_LIBS) $(LDLIBS)

$(BUILD)/examples/%: examples/%.c $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(LIB_A) $(LDFLAGS) $(LDLIBS)

$(BUILD)/perf/%: perf/%.c $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(PERF_CFLAGS_$*) -o $@ $< $(LIB_A) $(LDFLAGS) $(PERF_LIBS_$*) $(LDLIBS)

# The demo: a 100,000-task batch with a live progress line.
demo: deps
	@$(MAKE) --no-print-directory $(BUILD)/examples/demo
	./$(BUILD)/examples/demo

# The whole suite, with OpenMP cancellation off and on (libgomp reads
# OMP_CANCELLATION only at program start), then the simd suite again with a
# 4 KiB streaming size, so that every large-call path runs at small sizes.
check: deps
	@$(MAKE) --no-print-directory all
	env -u OMP_CANCELLATION ./$(RUNNER)
	OMP_CANCELLATION=true ./$(RUNNER)
	OMPB_STREAM_BYTES=4096 ./$(RUNNER) simd
	@sh tests/run_examples.sh $(BUILD)/examples
	@for t in $(CHECK_EXTRA); do $(MAKE) --no-print-directory $$t || exit 1; done

bench: deps
	@$(MAKE) --no-print-directory $(BENCHES)
	@for b in $(BENCHES); do echo "== $$b"; ./$$b || exit 1; done
	@for t in $(BENCH_EXTRA); do $(MAKE) --no-print-directory $$t || exit 1; done

clean:
	rm -rf build build-asan build-tsan

-include $(LIB_OBJS:.o=.d) $(TEST_OBJS:.o=.d)
