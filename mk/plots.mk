# SPDX-License-Identifier: BSD-3-Clause
# Bench figures as JSON and PNG plots.
#
# `make bench` runs bench_batch with OMPB_BENCH_BATCH_JSON set, so it writes
# $(BUILD)/perf/bench_batch.json (every row, plus per-task cost against batch
# size beside the raw OpenMP baselines); then bench-json (BENCH_EXTRA) runs
# bench_simd once more, keeps its table as $(BUILD)/perf/bench_simd.txt and
# parses it into $(BUILD)/perf/bench_simd.json (scripts/plots/benchjson.py:
# bench_simd is not changed for this), and, when gnuplot is installed,
# renders $(BUILD)/perf/plot-batch.png and plot-kernels.png.
#
# `make bench-plots` installs gnuplot-nox when missing (deps), measures what
# has no JSON yet and renders the committed figures docs/plot-batch.png and
# docs/plot-kernels.png from $(BUILD)/perf/*.json.

PLOT_DIR := $(BUILD)/perf
PLOT_JSON := $(PLOT_DIR)/bench_batch.json $(PLOT_DIR)/bench_simd.json
PLOT_PNGS := docs/plot-batch.png docs/plot-kernels.png
# Rounds of the bench_simd run made for its JSON (make bench's own run
# prints to the terminal only).
BENCH_SIMD_ROUNDS ?= 5
GNUPLOT ?= gnuplot
PLOT_PY := scripts/plots/benchjson.py
# The machine, for the plots' subtitles.
plot_sub = $(shell nproc) cores, $(OMP_RUNTIME), $(notdir $(CC)), ompbatch $(OMPB_VER)

BENCH_EXTRA += bench-json
ifneq ($(filter bench-plots,$(MAKECMDGOALS)),)
DEPS_EXTRA += gnuplot-nox
endif

bench: export OMPB_BENCH_BATCH_JSON := $(abspath $(PLOT_DIR))/bench_batch.json

.PHONY: bench-json bench-plots

$(PLOT_DIR)/bench_batch.json: $(BUILD)/perf/bench_batch
	./$(BUILD)/perf/bench_batch --json $@

simd_json = ./$(BUILD)/perf/bench_simd $(BENCH_SIMD_ROUNDS) > $(PLOT_DIR)/bench_simd.txt && \
  $(PYTHON) $(PLOT_PY) simd $(PLOT_DIR)/bench_simd.txt $(PLOT_DIR)/bench_simd.json
$(PLOT_DIR)/bench_simd.json: $(BUILD)/perf/bench_simd $(PLOT_PY)
	$(simd_json)

# render(json-bench, script, png)
plot_render = $(PYTHON) $(PLOT_PY) dat $(PLOT_DIR)/$(1).json $(PLOT_DIR) && \
  $(GNUPLOT) -e "dat='$(PLOT_DIR)/$(1).dat'; lim='$(PLOT_DIR)/$(1)_limits.gp'; out='$(3)'; sub='$(plot_sub)'" \
    scripts/plots/$(2).gp

# After make bench's own bench_batch run: its JSON is fresh; bench_simd's
# is measured again here, every time.
bench-json: $(BUILD)/perf/bench_simd
	$(simd_json)
	@test -f $(PLOT_DIR)/bench_batch.json || $(MAKE) --no-print-directory $(PLOT_DIR)/bench_batch.json
	@if command -v $(GNUPLOT) >/dev/null 2>&1; then \
	  $(call plot_render,bench_batch,batch,$(PLOT_DIR)/plot-batch.png) && \
	  $(call plot_render,bench_simd,kernels,$(PLOT_DIR)/plot-kernels.png) && \
	  echo "bench-json: $(PLOT_JSON) and $(PLOT_DIR)/plot-batch.png, plot-kernels.png"; \
	else echo "bench-json: $(PLOT_JSON) ($(GNUPLOT) not installed: make bench-plots renders PNGs)"; fi

bench-plots: deps
	@$(MAKE) --no-print-directory $(PLOT_JSON)
	$(call plot_render,bench_batch,batch,docs/plot-batch.png)
	$(call plot_render,bench_simd,kernels,docs/plot-kernels.png)
	@echo "bench-plots: $(PLOT_PNGS) from $(PLOT_JSON)"
