# SPDX-License-Identifier: BSD-3-Clause
# perf/bench_expr (issue 13's figures): the expression evaluator against
# the memory limit, hand-fused libmvec loops and chains of kernels, then
# numpy and numexpr on the same expressions from perf/bench_expr.py (one
# Python process, libompbatch through python/ompbatch), whose fractions
# are of the C run's limit rows (read from its JSON).
#
# perf/expr/fused.c (hand-fused loops and the limit) is compiled like
# perf/simd/libmvec.c (kernels/kernels.mk): once per vector ISA at -O3
# -ffast-math with that ISA's flags only, plus once with no ISA flags (the
# "base" set, used when no vector ISA is built).

FUSED_DIR := $(BUILD)/obj/perf/expr
FUSED_ISAS := base $(PEER_ISAS)
BENCH_EXPR_FUSED := $(FUSED_ISAS:%=$(FUSED_DIR)/fused_%.o)
ISAFLAGS_base :=
$(BENCH_EXPR_FUSED): $(FUSED_DIR)/fused_%.o: perf/expr/fused.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(MVEC_CFLAGS) $(ISAFLAGS_$*) $(ISAFLAGS_peer_$*) -MMD -MP -c $< -o $@
$(BUILD)/perf/bench_expr: $(BENCH_EXPR_FUSED)
PERF_LIBS_bench_expr := $(BENCH_EXPR_FUSED)
PERF_CFLAGS_bench_expr := -Iperf \
  $(foreach i,$(PEER_ISAS),-DOMPB_FUSED_HAVE_$(shell echo $(i) | tr a-z A-Z))
-include $(BENCH_EXPR_FUSED:.o=.d)

BENCH_EXPR_ROUNDS ?= 9
BENCH_EXPR_PY_ROUNDS ?= 5
BENCH_EXPR_JSON := $(BUILD)/perf/bench_expr.json
BENCH_EXTRA += bench-expr
.PHONY: bench-expr
ifneq ($(filter bench bench-expr,$(MAKECMDGOALS)),)
DEPS_EXTRA += numpy python3-numexpr
endif

# OMP_WAIT_POLICY=passive for the Python process too: an idle OpenMP team
# spinning on one of the 2 cores would slow numexpr's threads.
bench-expr: $(BUILD)/perf/bench_expr $(LIB_SO)
	@AUTO_DEPS=$(AUTO_DEPS) EXTRA_DEPS="numpy python3-numexpr" sh scripts/deps.sh
	./$(BUILD)/perf/bench_expr $(BENCH_EXPR_ROUNDS) --json $(BENCH_EXPR_JSON)
	OMP_WAIT_POLICY=passive PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=$(abspath python) \
	  OMPBATCH_LIBRARY=$(abspath $(LIB_SO)) \
	  $(PYTHON) perf/bench_expr.py --rounds $(BENCH_EXPR_PY_ROUNDS) --limits $(BENCH_EXPR_JSON)
