# SPDX-License-Identifier: BSD-3-Clause
# The Fortran module `ompbatch` (fortran/ompbatch.f90, docs/fortran.md),
# built when gfortran is present. Its object and the small C shim
# fortran/ctx_fail.c go into libompbatch itself (LIB_OBJS): the module's
# object needs nothing from libgfortran (checked here after each compile
# with nm -u), so C users of the library gain no dependency. The .mod file
# is compiler-specific and is installed under
# $(INCLUDEDIR)/$(FORTRAN_MOD_SUBDIR), which ompbatch.pc (mk/cli.mk) and the
# CMake files (mk/cmake.mk) name. Without gfortran, or in a build for
# libomp, the module is skipped and FORTRAN_MOD_SUBDIR is empty.

# gfortran, unless FC is given (make's built-in default f77 is not taken).
ifeq ($(origin FC),default)
FC = gfortran
endif
FC_IS_GNU := $(shell $(FC) --version 2>/dev/null | head -n 1 | grep -q 'GNU Fortran' && echo y)
FORTRAN_VERSION := $(if $(FC_IS_GNU),$(shell $(FC) -dumpversion 2>/dev/null))
# Only beside libgomp (gcc builds): gfortran's -fopenmp links libgomp, and a
# library built for libomp (CC=clang, SAN=thread) in the same process
# refuses to start a pool (two OpenMP runtimes).
FORTRAN_ON := $(if $(filter libgomp,$(OMP_RUNTIME)),$(FORTRAN_VERSION))
FORTRAN_MOD_SUBDIR := $(if $(FORTRAN_ON),ompbatch/fortran/gfortran-$(FORTRAN_VERSION))

# Flags for the module and the Fortran tests (in the flags stamp through
# FLAGS_VARS: FC and FORTRAN_FFLAGS). -fopenmp makes the module's
# threadprivate variable thread-local; the module calls nothing in libgomp.
FORTRAN_FFLAGS := -std=f2018 -Wall -Wextra -Wimplicit-interface $(OPT) -fopenmp -pthread $(SANFLAGS) -fPIC

# The tests compare reals exactly on purpose (bit-identical paths).
FORTRAN_TEST_WARN := -Wno-compare-reals -Wno-integer-division -Wno-function-elimination -Wno-unused-dummy-argument

FORTRAN_DIR := $(BUILD)/fortran
FORTRAN_MOD := $(FORTRAN_DIR)/mod/ompbatch.mod
FORTRAN_OBJ := $(BUILD)/obj/fortran/ompbatch_f90.o
FORTRAN_SHIM := $(BUILD)/obj/fortran/ctx_fail.o
FORTRAN_TEST := $(FORTRAN_DIR)/test_ompbatch
FORTRAN_EXAMPLE := $(FORTRAN_DIR)/fortran_batch
FORTRAN_DEST := $(DESTDIR)$(INCLUDEDIR)/$(FORTRAN_MOD_SUBDIR)

CHECK_EXTRA += check-fortran
DEPS_EXTRA += gfortran
.PHONY: check-fortran check-fortran-install install-fortran uninstall-fortran

ifneq ($(FORTRAN_MOD_SUBDIR),)
LIB_OBJS += $(FORTRAN_OBJ) $(FORTRAN_SHIM)
ALL_EXTRA += $(FORTRAN_MOD) $(FORTRAN_TEST) $(FORTRAN_EXAMPLE)
INSTALL_EXTRA += install-fortran
UNINSTALL_EXTRA += uninstall-fortran

# The object and the .mod come from one compile; the .mod is written only
# when its content changes (gfortran keeps the old one), hence the touch.
$(FORTRAN_OBJ) $(FORTRAN_MOD) &: fortran/ompbatch.f90 $(FLAGS_STAMP)
	@mkdir -p $(dir $(FORTRAN_OBJ)) $(dir $(FORTRAN_MOD))
	$(FC) $(FORTRAN_FFLAGS) -J$(dir $(FORTRAN_MOD)) -c $< -o $(FORTRAN_OBJ)
	@touch $(FORTRAN_MOD)
	@if nm -u $(FORTRAN_OBJ) | grep -q _gfortran_; then \
	  echo "fortran: $(FORTRAN_OBJ) needs libgfortran (it goes into libompbatch):" \
	    $$(nm -u $(FORTRAN_OBJ) | grep _gfortran_) >&2; rm -f $(FORTRAN_OBJ); exit 1; fi

# The test's C helper sees the public headers only, like an outside user.
$(FORTRAN_DIR)/layout.o: tests/fortran/layout.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) -Iinclude $(CFLAGS) -c $< -o $@

$(FORTRAN_TEST): tests/fortran/test_ompbatch.f90 $(FORTRAN_DIR)/layout.o $(FORTRAN_MOD) $(LIB_A) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(FC) $(FORTRAN_FFLAGS) $(FORTRAN_TEST_WARN) -I$(dir $(FORTRAN_MOD)) -J$(FORTRAN_DIR) -o $@ $< \
	  $(FORTRAN_DIR)/layout.o $(LIB_A) $(LDFLAGS) $(LDLIBS)

$(FORTRAN_EXAMPLE): examples/fortran_batch.f90 $(FORTRAN_MOD) $(LIB_A) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(FC) $(FORTRAN_FFLAGS) -I$(dir $(FORTRAN_MOD)) -J$(FORTRAN_DIR) -o $@ $< $(LIB_A) $(LDFLAGS) $(LDLIBS)

# The tests and the example under three team sizes, with OpenMP
# cancellation off and on; the shared library once too (the module's
# symbols are exported from it); then as an outside user.
FORTRAN_SO_TEST := $(FORTRAN_DIR)/test_ompbatch_shared
$(FORTRAN_SO_TEST): tests/fortran/test_ompbatch.f90 $(FORTRAN_DIR)/layout.o $(FORTRAN_MOD) $(LIB_SO) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(FC) $(FORTRAN_FFLAGS) $(FORTRAN_TEST_WARN) -I$(dir $(FORTRAN_MOD)) -J$(FORTRAN_DIR) -o $@ $< \
	  $(FORTRAN_DIR)/layout.o -L$(BUILD) -lompbatch -Wl,-rpath,$(abspath $(BUILD)) $(LDFLAGS)

check-fortran: $(FORTRAN_TEST) $(FORTRAN_SO_TEST) $(FORTRAN_EXAMPLE)
	@for t in 1 2 16; do for c in false true; do \
	  echo "check-fortran: OMP_NUM_THREADS=$$t OMP_CANCELLATION=$$c"; \
	  OMP_NUM_THREADS=$$t OMP_CANCELLATION=$$c ./$(FORTRAN_TEST) || exit 1; \
	  OMP_NUM_THREADS=$$t OMP_CANCELLATION=$$c ./$(FORTRAN_EXAMPLE) || exit 1; \
	done; done
	OMP_NUM_THREADS=2 ./$(FORTRAN_SO_TEST)
	@if readelf -d $(LIB_SO_REAL) | grep -q 'NEEDED.*libgfortran'; then \
	  echo "check-fortran: $(LIB_SO_REAL) depends on libgfortran" >&2; exit 1; fi
	@$(MAKE) --no-print-directory check-fortran-install
	@echo "check-fortran: passed (gfortran $(FORTRAN_VERSION); libompbatch needs no libgfortran)"

# As an outside user: `make install` into a temporary prefix, then the
# example and the tests built with nothing but pkg-config's flags, against
# the shared library and (pkg-config --static, libompbatch.a) the static
# one; run; uninstall leaves no Fortran directory behind.
check-fortran-install: $(FORTRAN_DIR)/layout.o
	@set -e; tmp=$$(mktemp -d "$${TMPDIR:-/tmp}/ompbatch-fortran.XXXXXX"); \
	trap 'rm -rf "$$tmp"' EXIT INT TERM; p="$$tmp/prefix"; \
	$(MAKE) --no-print-directory install PREFIX="$$p" >"$$tmp/install.log" 2>&1 || \
	  { cat "$$tmp/install.log" >&2; exit 1; }; \
	export PKG_CONFIG_PATH="$$p/lib/pkgconfig"; \
	test -f "$$p/include/$(FORTRAN_MOD_SUBDIR)/ompbatch.mod"; \
	cd "$$tmp"; \
	$(FC) -fopenmp $(CURDIR)/examples/fortran_batch.f90 $$(pkg-config --cflags --libs ompbatch) \
	  -Wl,-rpath,"$$p/lib" -o ex_shared; \
	$(FC) -fopenmp $(CURDIR)/tests/fortran/test_ompbatch.f90 $(CURDIR)/$(FORTRAN_DIR)/layout.o \
	  $$(pkg-config --static --cflags --libs ompbatch | sed 's/-lompbatch /-l:libompbatch.a /') -o test_static; \
	if readelf -d test_static | grep -q 'NEEDED.*libompbatch'; then \
	  echo "check-fortran-install: test_static is not static in libompbatch" >&2; exit 1; fi; \
	OMP_NUM_THREADS=2 ./ex_shared >/dev/null; \
	OMP_NUM_THREADS=2 ./test_static; \
	cd $(CURDIR); $(MAKE) --no-print-directory uninstall PREFIX="$$p" >"$$tmp/uninstall.log" 2>&1; \
	if [ -e "$$p/include/ompbatch" ]; then \
	  echo "check-fortran-install: uninstall left $$p/include/ompbatch" >&2; exit 1; fi; \
	echo "check-fortran-install: pkg-config shared and static builds pass, uninstall clean"

install-fortran: $(FORTRAN_MOD)
	install -d $(FORTRAN_DEST)
	install -m 644 $(FORTRAN_MOD) $(FORTRAN_DEST)/

uninstall-fortran:
	rm -f $(FORTRAN_DEST)/ompbatch.mod
	rmdir $(FORTRAN_DEST) 2>/dev/null || true
	rmdir $(DESTDIR)$(INCLUDEDIR)/ompbatch/fortran 2>/dev/null || true

else ifeq ($(FORTRAN_VERSION),)
check-fortran:
	@echo "check-fortran: skipped (no gfortran: the Fortran module is not built; install gfortran, or set FC)"
else
check-fortran:
	@echo "check-fortran: skipped (the library is built for $(OMP_RUNTIME); the Fortran module is built with libgomp builds only)"
endif
