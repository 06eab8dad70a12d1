# SPDX-License-Identifier: BSD-3-Clause
# Release hygiene: the tarball (`make dist`), the tarball's own build and
# test (`make distcheck`), the exported-symbol list (`make abi-dump`,
# checked by `make check` through check-abi) and the SPDX line of every
# source file (check-spdx). The version comes from the one place it is
# written, include/ompbatch/version.h (OMPB_VER, mk/cli.mk).

DIST_NAME := ompbatch-$(OMPB_VER)
DIST := $(BUILD)/$(DIST_NAME).tar.gz
ABI_FILE := abi/$(LIB_SONAME).symbols

CHECK_EXTRA += check-abi check-spdx

.PHONY: dist distcheck abi-dump check-abi check-spdx

# Exactly the tracked files of HEAD, under one top directory.
dist:
	@mkdir -p $(BUILD)
	git archive --format=tar.gz --prefix=$(DIST_NAME)/ -o $(DIST) HEAD
	@echo "dist: $(DIST)"

# Unpack, build, test and install the tarball in a temporary directory; fail
# when any step fails or when the build changed, added or removed a file
# outside its build directories (a checksum of every file before and after).
distcheck: dist
	@set -e; tmp=$$(mktemp -d "$${TMPDIR:-/tmp}/ompbatch-distcheck.XXXXXX"); \
	trap 'rm -rf "$$tmp"' EXIT INT TERM; \
	tar -xzf $(DIST) -C "$$tmp"; cd "$$tmp/$(DIST_NAME)"; \
	snap() { find . -path './build*' -prune -o -type f -print | LC_ALL=C sort | xargs sha1sum; }; \
	snap > "$$tmp/before"; \
	$(MAKE) --no-print-directory -j2 all; \
	$(MAKE) --no-print-directory check; \
	$(MAKE) --no-print-directory install DESTDIR="$$tmp/stage"; \
	test -f "$$tmp/stage$(LIBDIR)/$(notdir $(LIB_SO_REAL))"; \
	snap > "$$tmp/after"; \
	if ! cmp -s "$$tmp/before" "$$tmp/after"; then \
	  diff "$$tmp/before" "$$tmp/after" >&2; \
	  echo "distcheck: the build wrote into the source tree" >&2; exit 1; fi; \
	echo "distcheck: $(DIST_NAME) builds, passes make check and installs"

# The Fortran module's procedures (__ompbatch_MOD_*, built into the library
# only where gfortran is) are the module's ABI, not the C one: left out, so
# that the list is the same with and without gfortran.
abi_symbols = nm -D --defined-only $(1) | awk '{ print $$3 }' | grep -v '^__ompbatch_MOD_' | LC_ALL=C sort -u

# The shared library's exported symbols, for check-abi (commit the file).
abi-dump: $(LIB_SO)
	@mkdir -p abi
	$(call abi_symbols,$(LIB_SO_REAL)) > $(ABI_FILE)
	@echo "abi-dump: $$(wc -l < $(ABI_FILE)) symbols in $(ABI_FILE)"

# A symbol of the list for this SONAME that the library no longer exports
# breaks the ABI: bump OMPB_VERSION_MAJOR (a new SONAME, a new list) or keep
# the symbol. New symbols are fine; `make abi-dump` adds them to the list.
check-abi: $(LIB_SO)
	@test -f $(ABI_FILE) || { echo "check-abi: no $(ABI_FILE) for SONAME $(LIB_SONAME): run make abi-dump" >&2; exit 1; }
	@$(call abi_symbols,$(LIB_SO_REAL)) > $(BUILD)/abi.now
	@gone=$$(LC_ALL=C comm -23 $(ABI_FILE) $(BUILD)/abi.now); \
	new=$$(LC_ALL=C comm -13 $(ABI_FILE) $(BUILD)/abi.now); \
	if [ -n "$$gone" ]; then echo "check-abi: removed without a SONAME change:" $$gone >&2; exit 1; fi; \
	if [ -n "$$new" ]; then echo "check-abi: new symbols (make abi-dump records them):" $$new; fi; \
	echo "check-abi: 1 passed, 0 failed ($$(wc -l < $(BUILD)/abi.now) symbols, $(LIB_SONAME))"

# Every source file, header, script and makefile names its license.
SPDX_FILES = $(shell { git ls-files 2>/dev/null || find . -path './build*' -prune -o -type f -print; } | \
  grep -E '(\.(c|h|mk|sh|py|in|supp|1|f90|cmake|gp)|Makefile|CMakeLists\.txt|\.ci/run)$$')
check-spdx:
	@missing=$$(grep -L 'SPDX-License-Identifier: BSD-3-Clause' $(SPDX_FILES)); \
	if [ -n "$$missing" ]; then echo "check-spdx: no SPDX line in:" $$missing >&2; exit 1; fi; \
	echo "check-spdx: 1 passed, 0 failed ($(words $(SPDX_FILES)) files)"
