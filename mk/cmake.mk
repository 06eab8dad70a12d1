# SPDX-License-Identifier: BSD-3-Clause
# The CMake package: `make install` also writes ompbatchConfig.cmake,
# ompbatchConfigVersion.cmake (SameMajorVersion), ompbatchTargets.cmake
# (ompbatch::ompbatch, ompbatch::ompbatch_static) and, when the MPI library
# was built, ompbatchMpiTargets.cmake (ompbatch::mpi) into
# $(CMAKEDIR) = $(LIBDIR)/cmake/ompbatch, from the mk/*.cmake.in templates.
# CMake is not needed to build or install: sed fills the templates.
# Included after mk/cli.mk (version, LIBDIR, ...); FORTRAN_MOD_SUBDIR
# (mk/fortran.mk) and MPI_ON (mk/mpi.mk) come later in the include order
# and are read in the recipes only. tests/install/check_install.sh builds
# tests/consumers/cmake/ against the staged install.

CMAKEDIR ?= $(LIBDIR)/cmake/ompbatch

# check-install (mk/cli.mk) builds a CMake project against the install.
DEPS_EXTRA += cmake
INSTALL_EXTRA += install-cmake
UNINSTALL_EXTRA += uninstall-cmake

# The way up from $(CMAKEDIR) to $(PREFIX) ("../../.." for lib/cmake/ompbatch),
# empty when CMAKEDIR is not under PREFIX: the Config then names absolute
# paths and is not relocatable.
cm_empty :=
cm_space := $(cm_empty) $(cm_empty)
cm_up = $(if $(filter $(PREFIX)/%,$(CMAKEDIR)),$(subst $(cm_space),/,$(foreach d,$(subst /, ,$(patsubst $(PREFIX)/%,%,$(CMAKEDIR))),..)))
# A directory as the Config names it: under the prefix it computed, or absolute.
cm_rel = $(if $(and $(cm_up),$(filter $(PREFIX)/%,$(1))),$${_ompbatch_prefix}/$(patsubst $(PREFIX)/%,%,$(1)),$(1))
cm_bool = $(if $(filter 1,$(1)),TRUE,FALSE)
# The library's pointer size, for the version file's 32/64-bit check.
cm_sizeof_void_p = $(shell printf '__SIZEOF_POINTER__\n' | $(CC) -E -P -x c - 2>/dev/null | tail -n 1)

CMAKE_SED = -e 's|@VERSION@|$(OMPB_VER)|g' \
  -e 's|@VERSION_MAJOR@|$(OMPB_VER_MAJOR)|g' \
  -e 's|@SIZEOF_VOID_P@|$(cm_sizeof_void_p)|g' \
  -e 's|@SONAME@|$(LIB_SONAME)|g' \
  -e 's|@MPI_SONAME@|$(MPI_SONAME)|g' \
  -e 's|@OPENMP_RUNTIME@|$(OMP_RUNTIME)|g' \
  -e 's|@WITH_SLEEF@|$(call cm_bool,$(WITH_SLEEF))|g' \
  -e 's|@HAVE_MPI@|$(call cm_bool,$(MPI_ON))|g' \
  -e 's|@CONFIG_TO_PREFIX@|$(cm_up)|g' \
  -e 's|@PREFIX@|$(PREFIX)|g' \
  -e 's|@INCLUDEDIR@|$(call cm_rel,$(INCLUDEDIR))|g' \
  -e 's|@LIBDIR@|$(call cm_rel,$(LIBDIR))|g' \
  -e 's|@FORTRAN_MOD_SUBDIR@|$(FORTRAN_MOD_SUBDIR)|g' \
  -e 's|@SLEEF_LIBDIR@|$(shell pkg-config --variable=libdir sleef 2>/dev/null)|g' \
  -e 's|@MPICC@|$(MPICC)|g' \
  -e 's|@MPICC_PATH@|$(shell command -v $(MPICC) 2>/dev/null)|g'

CMAKE_FILES := ompbatchConfig.cmake ompbatchConfigVersion.cmake ompbatchTargets.cmake
CMAKE_MPI_FILE := ompbatchMpiTargets.cmake

.PHONY: install-cmake uninstall-cmake
install-cmake:
	install -d $(DESTDIR)$(CMAKEDIR)
	@for f in $(CMAKE_FILES) $(if $(filter 1,$(MPI_ON)),$(CMAKE_MPI_FILE)); do \
	  echo "sed mk/$$f.in > $(DESTDIR)$(CMAKEDIR)/$$f"; \
	  sed $(CMAKE_SED) mk/$$f.in > $(DESTDIR)$(CMAKEDIR)/$$f && \
	  chmod 644 $(DESTDIR)$(CMAKEDIR)/$$f || exit 1; \
	  if grep -n '@[A-Z_]*@' $(DESTDIR)$(CMAKEDIR)/$$f; then \
	    echo "install-cmake: unfilled placeholder in $$f" >&2; exit 1; fi; \
	done

# Every file install-cmake may have written, MPI or not.
uninstall-cmake:
	rm -f $(addprefix $(DESTDIR)$(CMAKEDIR)/,$(CMAKE_FILES) $(CMAKE_MPI_FILE))
	rmdir $(DESTDIR)$(CMAKEDIR) 2>/dev/null || true
	rmdir $(DESTDIR)$(LIBDIR)/cmake 2>/dev/null || true
