# SPDX-License-Identifier: BSD-3-Clause
# SIMD kernels: every kernels/k_<family>.c, kernels/table.c and (for the
# vector ISAs) kernels/stream.c is compiled once per ISA (the plain C
# "scalar" table always; SSE2, AVX2+FMA and AVX-512F on x86-64 with SLEEF,
# AVX-512F only when the compiler accepts -mavx512f); dispatch.c picks one
# table at run time. docs/kernels.md says which file holds which kernel.
# Appends to KERNEL_OBJS and CHECK_EXTRA; included by the Makefile.

KDIR := $(BUILD)/obj/kernels
KERNEL_ISAS := scalar
ifeq ($(WITH_SLEEF),1)
ifneq ($(findstring x86_64,$(shell $(CC) -dumpmachine)),)
KERNEL_ISAS += sse2 avx2
ifeq ($(shell $(CC) -mavx512f -E -x c /dev/null >/dev/null 2>&1 && echo y),y)
KERNEL_ISAS += avx512f
endif
endif
endif

ISAFLAGS_scalar :=
ISAFLAGS_sse2 := -DOMPB_ISA_SSE2 -msse2
ISAFLAGS_avx2 := -DOMPB_ISA_AVX2 -mavx2 -mfma
ISAFLAGS_avx512f := -DOMPB_ISA_AVX512F -mavx512f -mavx2 -mfma

# The families compiled for every ISA, and those for the vector ISAs only.
KERNEL_FAMILIES := k_trig k_exp k_log k_arith k_sleef table
KERNEL_VFAMILIES := stream
KERNEL_VISAS := $(filter-out scalar,$(KERNEL_ISAS))
KERNEL_OBJS += $(foreach f,$(KERNEL_FAMILIES),$(KERNEL_ISAS:%=$(KDIR)/$(f)_%.o)) \
  $(foreach f,$(KERNEL_VFAMILIES),$(KERNEL_VISAS:%=$(KDIR)/$(f)_%.o)) \
  $(KDIR)/dispatch.o

# dispatch.c references exactly the tables built above.
$(KDIR)/dispatch.o: CPPFLAGS += \
  $(foreach i,$(filter-out scalar,$(KERNEL_ISAS)),-DOMPB_KERNELS_HAVE_$(shell echo $(i) | tr a-z A-Z))

# Kernels are compiled at -O3 (the later flag wins over OPT): on f32 sin it
# is 0.52x memcpy against 0.41x at -O2 (unrolled double-precision core).
# A static pattern rule: it must not offer to build anything else (make
# would try it on the .d files it wants to remake). KERNEL_CFLAGS and
# MVEC_CFLAGS are in the flags stamp (Makefile, FLAGS_VARS).
KERNEL_CFLAGS := -O3
define KERNEL_FAMILY_RULE
$(2:%=$$(KDIR)/$(1)_%.o): $$(KDIR)/$(1)_%.o: kernels/$(1).c $$(FLAGS_STAMP)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CPPFLAGS) $$(CFLAGS) $$(KERNEL_CFLAGS) $$(ISAFLAGS_$$*) -c $$< -o $$@
endef
$(foreach f,$(KERNEL_FAMILIES),$(eval $(call KERNEL_FAMILY_RULE,$(f),$(KERNEL_ISAS))))
$(foreach f,$(KERNEL_VFAMILIES),$(eval $(call KERNEL_FAMILY_RULE,$(f),$(KERNEL_VISAS))))

# Tests compare every kernel with MPFR.
TEST_LIBS += -lmpfr -lgmp

# perf/bench_simd's peers, one set per vector ISA (perf/simd/peers.h): the
# libmvec loops the way users get glibc's vector math from gcc (-O3
# -ffast-math) with that ISA's flags only, so that the AVX2 set calls the
# AVX2 variants even on an AVX-512 machine (512-bit vectors asked for
# explicitly: gcc's generic tuning prefers 256); SLEEF's vector loops with
# the kernels' flags.
PEER_ISAS := $(filter-out scalar,$(KERNEL_ISAS))
PEER_DIR := $(BUILD)/obj/perf/simd
BENCH_SIMD_PEERS := $(foreach i,$(PEER_ISAS),$(PEER_DIR)/libmvec_$(i).o $(PEER_DIR)/sleef_$(i).o)
MVEC_CFLAGS := -std=c11 -Wall -Wextra -O3 -ffast-math -fopenmp
ISAFLAGS_peer_avx512f := -mprefer-vector-width=512
$(PEER_ISAS:%=$(PEER_DIR)/libmvec_%.o): $(PEER_DIR)/libmvec_%.o: perf/simd/libmvec.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(MVEC_CFLAGS) $(ISAFLAGS_$*) $(ISAFLAGS_peer_$*) -MMD -MP -c $< -o $@
$(PEER_ISAS:%=$(PEER_DIR)/sleef_%.o): $(PEER_DIR)/sleef_%.o: perf/simd/sleef.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(KERNEL_CFLAGS) $(ISAFLAGS_$*) -c $< -o $@
$(BUILD)/perf/bench_simd: $(BENCH_SIMD_PEERS)
PERF_LIBS_bench_simd := $(BENCH_SIMD_PEERS)
PERF_CFLAGS_bench_simd := \
  $(foreach i,$(PEER_ISAS),-DOMPB_PEERS_HAVE_$(shell echo $(i) | tr a-z A-Z))
-include $(BENCH_SIMD_PEERS:.o=.d)
