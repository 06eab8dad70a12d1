# MPI backend (docs/mpi.md): libompbatch_mpi, its tests and its benchmark.
# Compiled with $(MPICC) into its own library, so libompbatch needs no MPI.
#
# WITH_MPI=auto decides here, when this file is parsed. `make check` and
# `make bench` install the packages first (`deps`, which gets `mpich` from
# DEPS_EXTRA) and run check-mpi / bench-mpi in a sub-make, which parses
# this file again and so sees an mpicc installed a moment ago.

ifeq ($(WITH_MPI),auto)
MPI_ON := $(if $(shell command -v $(MPICC) 2>/dev/null),1,0)
else
MPI_ON := $(WITH_MPI)
endif

MPI_SRCS := $(wildcard src/mpi/*.c)
MPI_OBJS := $(MPI_SRCS:%.c=$(BUILD)/obj/%.o)
MPI_A := $(BUILD)/libompbatch_mpi.a
MPI_SO := $(BUILD)/libompbatch_mpi.so
MPI_TESTS := $(patsubst tests/mpi/%.c,$(BUILD)/tests/mpi/%,$(wildcard tests/mpi/*.c))
MPI_BENCHES := $(patsubst perf/mpi/%.c,$(BUILD)/perf/mpi/%,$(wildcard perf/mpi/*.c))
# The wrappers use the core's compiler (clang for SAN=thread).
MPI_CC = MPICH_CC=$(CC) OMPI_CC=$(CC) $(MPICC)
# Loopback only, and a hung job ends (FACTS.md).
MPI_RUN = UCX_TLS=self,sm UCX_NET_DEVICES=lo MPIEXEC_TIMEOUT=120 $(MPIEXEC) -launcher fork

ifneq ($(WITH_MPI),0)
DEPS_EXTRA += mpich
endif
CHECK_EXTRA += check-mpi
BENCH_EXTRA += bench-mpi

.PHONY: mpi check-mpi bench-mpi

ifeq ($(MPI_ON),1)
ALL_EXTRA += $(MPI_A) $(MPI_SO) $(MPI_TESTS) $(MPI_BENCHES)

mpi: $(MPI_A) $(MPI_SO) $(MPI_TESTS) $(MPI_BENCHES)

$(BUILD)/obj/src/mpi/%.o: src/mpi/%.c
	@mkdir -p $(dir $@)
	$(MPI_CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(MPI_A): $(MPI_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(MPI_SO): $(MPI_OBJS) $(LIB_SO)
	$(MPI_CC) -shared $(LDFLAGS) -o $@ $(MPI_OBJS) -L$(BUILD) -lompbatch $(LDLIBS)

$(BUILD)/tests/mpi/%: tests/mpi/%.c $(MPI_A) $(LIB_A)
	@mkdir -p $(dir $@)
	$(MPI_CC) $(CPPFLAGS) -Isrc/mpi $(CFLAGS) -o $@ $< $(MPI_A) $(LIB_A) $(LDFLAGS) $(LDLIBS)

$(BUILD)/perf/mpi/%: perf/mpi/%.c $(MPI_A) $(LIB_A)
	@mkdir -p $(dir $@)
	$(MPI_CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(MPI_A) $(LIB_A) $(LDFLAGS) $(LDLIBS)

# Every test program runs on 3 ranks and on 1; each checks the size it got.
# ASan builds: MPI's own leaks cannot be suppressed by name (FACTS.md).
check-mpi: $(MPI_TESTS)
	@for t in $(MPI_TESTS); do for n in 3 1; do \
	  echo "== $$t on $$n rank(s)"; \
	  ASAN_OPTIONS=detect_leaks=0 $(MPI_RUN) -n $$n ./$$t --expect-size $$n || exit 1; \
	done; done

# 2 ranks x 1 thread against 1 rank x 2 threads on the same 1 ms tasks.
bench-mpi: $(MPI_BENCHES)
	@echo "== bench_mpi: 1 rank x 2 threads"
	@$(MPI_RUN) -n 1 ./$(BUILD)/perf/mpi/bench_mpi --threads 2
	@echo "== bench_mpi: 2 ranks x 1 thread"
	@$(MPI_RUN) -n 2 ./$(BUILD)/perf/mpi/bench_mpi --threads 1

-include $(MPI_OBJS:.o=.d)
else
mpi check-mpi bench-mpi:
	@echo "$@: skipped (WITH_MPI=$(WITH_MPI); $(MPICC) not found or disabled)"
endif
