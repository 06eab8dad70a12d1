# SPDX-License-Identifier: BSD-3-Clause
# MPI backend (docs/mpi.md): libompbatch_mpi, its tests and its benchmark.
# Compiled with $(MPICC) into its own library, so libompbatch needs no MPI.
# Included after mk/cli.mk (fragments are included in sorted order), whose
# OMPB_VER / OMPB_VER_MAJOR name the shared library's version.
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
# libompbatch_mpi.so.MAJOR.MINOR.PATCH with SONAME libompbatch_mpi.so.MAJOR,
# like libompbatch; $(MPI_SO) and the SONAME are symlinks.
MPI_SONAME := $(notdir $(MPI_SO)).$(OMPB_VER_MAJOR)
MPI_SO_REAL := $(MPI_SO).$(OMPB_VER)
# The tests link their own copy of the backend with the test hooks compiled
# in (src/mpi/backend.h); the libraries above carry none.
MPI_TEST_HOOKS := -DOMPB__MPI_TEST_HOOKS=1
MPI_TEST_OBJS := $(MPI_SRCS:src/mpi/%.c=$(BUILD)/obj/src/mpi-test/%.o)
MPI_TEST_A := $(BUILD)/tests/mpi/libompbatch_mpi_test.a
MPI_TESTS := $(patsubst tests/mpi/%.c,$(BUILD)/tests/mpi/%,$(wildcard tests/mpi/*.c))
MPI_BENCHES := $(patsubst perf/mpi/%.c,$(BUILD)/perf/mpi/%,$(wildcard perf/mpi/*.c))
# The wrappers use the core's compiler (clang for SAN=thread).
MPI_CC = MPICH_CC=$(CC) OMPI_CC=$(CC) $(MPICC)
# Loopback only, and a hung job ends (docs/mpi.md, "What the backend rests on").
MPI_RUN = UCX_TLS=self,sm UCX_NET_DEVICES=lo MPIEXEC_TIMEOUT=120 $(MPIEXEC) -launcher fork

ifneq ($(WITH_MPI),0)
DEPS_EXTRA += mpich
endif
CHECK_EXTRA += check-mpi
BENCH_EXTRA += bench-mpi
INSTALL_EXTRA += install-mpi
UNINSTALL_EXTRA += uninstall-mpi

.PHONY: mpi check-mpi bench-mpi install-mpi uninstall-mpi

# ompbatch-mpi.pc: Requires ompbatch and, where the MPI ships a .pc (MPICH's
# mpich.pc), that; else the -I/-L/-l/-Wl words of `$(MPICC) -show`.
MPI_PC_NAME = $(if $(findstring mpich,$(MPICC)),mpich,ompi-c)
MPI_PC_HAVE = $(shell pkg-config --exists $(MPI_PC_NAME) 2>/dev/null && echo 1)
MPI_SHOW = $(shell $(MPICC) -show 2>/dev/null)
MPI_PC_REQUIRES = $(if $(MPI_PC_HAVE),$(mpi_comma) $(MPI_PC_NAME))
MPI_PC_CFLAGS = $(if $(MPI_PC_HAVE),, $(filter -I%,$(MPI_SHOW)))
MPI_PC_LIBS = $(if $(MPI_PC_HAVE),, $(filter -L% -l% -Wl%,$(MPI_SHOW)))
mpi_comma := ,

ifeq ($(MPI_ON),1)
ALL_EXTRA += $(MPI_A) $(MPI_SO) $(MPI_TESTS) $(MPI_BENCHES)

mpi: $(MPI_A) $(MPI_SO) $(MPI_TESTS) $(MPI_BENCHES)

$(BUILD)/obj/src/mpi/%.o: src/mpi/%.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(MPI_CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/obj/src/mpi-test/%.o: src/mpi/%.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(MPI_CC) $(CPPFLAGS) $(MPI_TEST_HOOKS) $(CFLAGS) -c $< -o $@

$(MPI_A): $(MPI_OBJS) $(FLAGS_STAMP)
	@rm -f $@
	$(AR) rcs $@ $(filter-out $(FLAGS_STAMP),$^)

$(MPI_TEST_A): $(MPI_TEST_OBJS) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	@rm -f $@
	$(AR) rcs $@ $(filter-out $(FLAGS_STAMP),$^)

# --no-undefined: every symbol the backend takes from libompbatch (the
# allocator hook, the registry: OMPB__PRIVATE in src/alloc.h) must be
# exported there, or the link fails here rather than at load time. Not in
# sanitizer builds: their runtimes are linked into programs, never into
# shared libraries, so a sanitized library has undefined __tsan_/__asan_
# symbols by design.
MPI_NO_UNDEFINED := $(if $(SANFLAGS),,-Wl,--no-undefined)
$(MPI_SO): $(MPI_OBJS) $(LIB_SO) $(FLAGS_STAMP)
	$(MPI_CC) -shared $(LDFLAGS) -Wl,-soname,$(MPI_SONAME) $(MPI_NO_UNDEFINED) \
	  -o $(MPI_SO_REAL) $(MPI_OBJS) -L$(BUILD) -lompbatch $(LDLIBS)
	ln -sf $(notdir $(MPI_SO_REAL)) $(dir $@)$(MPI_SONAME)
	ln -sf $(MPI_SONAME) $@

# Tests and benchmarks compile and link in one step; their -MMD files are
# $(BUILD)/tests/mpi/NAME.d and $(BUILD)/perf/mpi/NAME.d (included below).
$(BUILD)/tests/mpi/%: tests/mpi/%.c $(MPI_TEST_A) $(LIB_A) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(MPI_CC) $(CPPFLAGS) -Isrc/mpi $(MPI_TEST_HOOKS) $(CFLAGS) -o $@ $< \
	  $(MPI_TEST_A) $(LIB_A) $(LDFLAGS) $(LDLIBS)

$(BUILD)/perf/mpi/%: perf/mpi/%.c $(MPI_A) $(LIB_A) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(MPI_CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(MPI_A) $(LIB_A) $(LDFLAGS) $(LDLIBS)

# Every test program runs on 3 ranks and on 1; each checks the size it got.
# ASan builds: MPI's own leaks cannot be suppressed by name (docs/mpi.md,
# "What the backend rests on"); the fault test counts the library's blocks.
# Then the shipped libraries: they export ompb_mpi_* only, and no test hook.
check-mpi: $(MPI_TESTS) $(MPI_A) $(MPI_SO)
	@for t in $(MPI_TESTS); do for n in 3 1; do \
	  echo "== $$t on $$n rank(s)"; \
	  ASAN_OPTIONS=detect_leaks=0 $(MPI_RUN) -n $$n ./$$t --expect-size $$n || exit 1; \
	done; done
	@echo "== exported symbols of $(MPI_SO_REAL)"
	@bad=$$(nm -D --defined-only $(MPI_SO_REAL) | awk '{print $$3}' | grep -v '^ompb_mpi_'); \
	  if [ -n "$$bad" ]; then echo "unexpected exports: $$bad"; exit 1; fi
	@if nm $(MPI_A) | grep -q ompb__mpi_fault; then \
	  echo "$(MPI_A) carries the test hook"; exit 1; fi

# 2 ranks x 1 thread against 1 rank x 2 threads on the same 1 ms tasks.
bench-mpi: $(MPI_BENCHES)
	@echo "== bench_mpi: 1 rank x 2 threads"
	@$(MPI_RUN) -n 1 ./$(BUILD)/perf/mpi/bench_mpi --threads 2
	@echo "== bench_mpi: 2 ranks x 1 thread"
	@$(MPI_RUN) -n 2 ./$(BUILD)/perf/mpi/bench_mpi --threads 1

# Installed like libompbatch (mk/cli.mk): the versioned library with its
# SONAME and both symlinks, the static library and ompbatch-mpi.pc; the
# header comes with the core's (include/ompbatch/mpi.h), the CMake target
# ompbatch::mpi with mk/cmake.mk's files.
install-mpi: $(MPI_A) $(MPI_SO)
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR)
	install -m 755 $(MPI_SO_REAL) $(DESTDIR)$(LIBDIR)/
	ln -sf $(notdir $(MPI_SO_REAL)) $(DESTDIR)$(LIBDIR)/$(MPI_SONAME)
	ln -sf $(MPI_SONAME) $(DESTDIR)$(LIBDIR)/$(notdir $(MPI_SO))
	install -m 644 $(MPI_A) $(DESTDIR)$(LIBDIR)/
	sed -e 's|@PREFIX@|$(PREFIX)|g' \
	  -e 's|@LIBDIR@|$(call pc_rel,$(LIBDIR))|g' \
	  -e 's|@INCLUDEDIR@|$(call pc_rel,$(INCLUDEDIR))|g' \
	  -e 's|@VERSION@|$(OMPB_VER)|g' \
	  -e 's|@MPICC@|$(MPICC)|g' \
	  -e 's|@MPI_REQUIRES@|$(MPI_PC_REQUIRES)|g' \
	  -e 's|@MPI_CFLAGS@|$(MPI_PC_CFLAGS)|g' \
	  -e 's|@MPI_LIBS@|$(MPI_PC_LIBS)|g' \
	  mk/ompbatch-mpi.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/ompbatch-mpi.pc
	chmod 644 $(DESTDIR)$(PKGCONFIGDIR)/ompbatch-mpi.pc

-include $(MPI_OBJS:.o=.d) $(MPI_TEST_OBJS:.o=.d) $(MPI_TESTS:=.d) $(MPI_BENCHES:=.d)
else
install-mpi:
	@echo "$@: skipped (WITH_MPI=$(WITH_MPI); $(MPICC) not found or disabled)"

mpi check-mpi bench-mpi:
	@echo "$@: skipped (WITH_MPI=$(WITH_MPI); $(MPICC) not found or disabled)"
endif

# Whatever install-mpi may have put there, built or not.
uninstall-mpi:
	rm -f $(DESTDIR)$(LIBDIR)/$(notdir $(MPI_SO)) $(DESTDIR)$(LIBDIR)/$(MPI_SONAME) \
	  $(DESTDIR)$(LIBDIR)/$(notdir $(MPI_SO_REAL)) $(DESTDIR)$(LIBDIR)/$(notdir $(MPI_A)) \
	  $(DESTDIR)$(PKGCONFIGDIR)/ompbatch-mpi.pc
