# SPDX-License-Identifier: BSD-3-Clause
# The ompbatch command-line tool, install/uninstall (versioned shared
# library, static library, headers, pkg-config file, CLI, man page) and their
# checks. Included by the Makefile after the library variables are set.

# The version, from the one place it is written.
OMPB_VERSION_H := include/ompbatch/version.h
ompb_ver = $(shell sed -n 's/^\#define OMPB_VERSION_$(1) \([0-9][0-9]*\).*/\1/p' $(OMPB_VERSION_H))
OMPB_VER_MAJOR := $(call ompb_ver,MAJOR)
OMPB_VER := $(OMPB_VER_MAJOR).$(call ompb_ver,MINOR).$(call ompb_ver,PATCH)
# The shared library is built as libompbatch.so.MAJOR.MINOR.PATCH with
# SONAME libompbatch.so.MAJOR; $(LIB_SO) and the SONAME are symlinks.
LIB_SONAME := $(notdir $(LIB_SO)).$(OMPB_VER_MAJOR)
LIB_SO_REAL := $(LIB_SO).$(OMPB_VER)

# Install layout (PREFIX and DESTDIR come from config.mk).
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig

# Debian's python3 carries python3-numpy, whatever python3 is first in PATH.
PYTHON ?= $(firstword $(wildcard /usr/bin/python3) python3)

# Other fragments (e.g. the MPI backend's library) append targets here that
# `install` / `uninstall` then run with the same PREFIX, DESTDIR and dirs.
INSTALL_EXTRA ?=
UNINSTALL_EXTRA ?=

CLI := $(BUILD)/ompbatch
CLI_SRCS := $(wildcard cli/*.c)
CLI_OBJS := $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)
# The CLI sees the public headers only, like any outside program.
$(CLI_OBJS): CPPFLAGS := -Iinclude

$(CLI): $(CLI_OBJS) $(LIB_A) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJS) $(LIB_A) $(LDLIBS)

ALL_EXTRA += $(CLI)
CHECK_EXTRA += check-cli check-install
DEPS_EXTRA += numpy

# pkg-config: static users need the OpenMP runtime, SLEEF (through its own
# sleef.pc) and libm; shared users get them through the library's DT_NEEDED.
PC_REQUIRES_PRIVATE := $(if $(filter 1,$(WITH_SLEEF)),sleef)
PC_LIBS_PRIVATE := $(OMPFLAG) -lpthread -lm
pc_rel = $(patsubst $(PREFIX)/%,$${prefix}/%,$(1))
# The Fortran module's directory (FORTRAN_MOD_SUBDIR, relative to
# INCLUDEDIR, comes from mk/fortran.mk; empty without gfortran).
PC_FORTRAN_MODDIR = $(if $(FORTRAN_MOD_SUBDIR),$${includedir}/$(FORTRAN_MOD_SUBDIR))

OMPB_HEADERS := $(wildcard include/ompbatch/*.h)

.PHONY: uninstall check-cli check-install
install: $(LIB_A) $(LIB_SO) $(CLI)
	install -d $(DESTDIR)$(INCLUDEDIR)/ompbatch $(DESTDIR)$(LIBDIR) \
	  $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 644 include/ompbatch.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 644 $(OMPB_HEADERS) $(DESTDIR)$(INCLUDEDIR)/ompbatch/
	install -m 755 $(LIB_SO_REAL) $(DESTDIR)$(LIBDIR)/
	ln -sf $(notdir $(LIB_SO_REAL)) $(DESTDIR)$(LIBDIR)/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $(DESTDIR)$(LIBDIR)/$(notdir $(LIB_SO))
	install -m 644 $(LIB_A) $(DESTDIR)$(LIBDIR)/
	sed -e 's|@PREFIX@|$(PREFIX)|g' \
	  -e 's|@LIBDIR@|$(call pc_rel,$(LIBDIR))|g' \
	  -e 's|@INCLUDEDIR@|$(call pc_rel,$(INCLUDEDIR))|g' \
	  -e 's|@VERSION@|$(OMPB_VER)|g' \
	  -e 's|@REQUIRES_PRIVATE@|$(PC_REQUIRES_PRIVATE)|g' \
	  -e 's|@LIBS_PRIVATE@|$(PC_LIBS_PRIVATE)|g' \
	  -e 's|@OPENMP_RUNTIME@|$(OMP_RUNTIME)|g' \
	  -e 's|@FORTRAN_MODDIR@|$(PC_FORTRAN_MODDIR)|g' \
	  -e 's|@FORTRAN_CFLAGS@|$(if $(FORTRAN_MOD_SUBDIR), -I$${fortran_moddir})|g' \
	  mk/ompbatch.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/ompbatch.pc
	chmod 644 $(DESTDIR)$(PKGCONFIGDIR)/ompbatch.pc
	install -m 755 $(CLI) $(DESTDIR)$(BINDIR)/
	install -m 644 man/ompbatch.1 $(DESTDIR)$(MANDIR)/man1/
	@for t in $(INSTALL_EXTRA); do $(MAKE) --no-print-directory $$t || exit 1; done

# Removes what install put there: every header name this tree has ever
# installed is listed explicitly, so a header removed from the tree is
# still uninstalled. The other fragments' parts go first, so that
# include/ompbatch (where the Fortran module lives) is empty when it is
# removed.
uninstall:
	@for t in $(UNINSTALL_EXTRA); do $(MAKE) --no-print-directory $$t || exit 1; done
	rm -f $(DESTDIR)$(INCLUDEDIR)/ompbatch.h
	rm -f $(addprefix $(DESTDIR)$(INCLUDEDIR)/ompbatch/,$(sort $(notdir $(OMPB_HEADERS)) \
	  batch.h error.h expr.h map.h mpi.h pool.h simd.h version.h))
	rmdir $(DESTDIR)$(INCLUDEDIR)/ompbatch 2>/dev/null || true
	rm -f $(DESTDIR)$(LIBDIR)/$(notdir $(LIB_SO)) $(DESTDIR)$(LIBDIR)/$(LIB_SONAME) \
	  $(DESTDIR)$(LIBDIR)/$(notdir $(LIB_SO_REAL)) $(DESTDIR)$(LIBDIR)/$(notdir $(LIB_A))
	rm -f $(DESTDIR)$(PKGCONFIGDIR)/ompbatch.pc $(DESTDIR)$(BINDIR)/ompbatch \
	  $(DESTDIR)$(MANDIR)/man1/ompbatch.1

# The CLI against numpy: round trips within each kernel's ULP bound, every
# bad-file case, the progress bar on a pty only, Ctrl-C.
check-cli: $(CLI)
	$(PYTHON) tests/cli/test_cli.py $(CLI)

# Install into a temporary DESTDIR/PREFIX, build outside programs with
# pkg-config only (shared and --static) and with CMake (tests/consumers/cmake:
# ompbatch::ompbatch, ompbatch::ompbatch_static), and the MPI ones when the
# backend is built (MPI_ON, mk/mpi.mk), run them all, uninstall.
check-install: $(LIB_A) $(LIB_SO) $(CLI)
	MAKE="$(MAKE)" CC="$(CC)" MPI_ON="$(MPI_ON)" MPIEXEC="$(MPIEXEC)" sh tests/install/check_install.sh

-include $(CLI_OBJS:.o=.d)
