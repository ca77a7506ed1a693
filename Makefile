# make help lists the targets and variables.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c

PROFILE ?= auto
GEN_DATA_DIR ?= data
GEN_RUNS_DIR ?= runs
FORCE ?= 0
PARAMS ?=
LAUNCHER ?=
export PROFILE GEN_DATA_DIR GEN_RUNS_DIR FORCE PARAMS

VENV := .venv
PY := $(VENV)/bin/python
SHARED_DATA := ../shared/data/materialize.py
# this machine's pip config lists local indexes that lack most packages; hide those notices
# (grep exits 1 when it filters everything; the import check below catches a failed install)
QUIET_PIP := grep -v "is ignored: it is neither a file nor a directory" || true

# the experiment pages in _toc.yml order: one chapter notebook per family x dataset, then the comparison
CHAPTERS := $(filter-out comparison,$(patsubst book/experiments/%,%,$(filter book/experiments/%,$(shell cat _toc.yml))))
NOTEBOOKS := $(CHAPTERS) comparison
REPORT := $(PY) -m gen_core.book
# The profile of this make's report, resolved once per make (auto: full on CUDA, else quick) and given
# to every step after prepare, so a second report in this checkout (make report PROFILE=quick during a
# background PROFILE=long one) never switches this one's remaining steps, and the notebook steps tell
# "up to date" without importing torch. Lazy: expanded by the first step that runs it, after setup and
# after prepare has named a bad PROFILE.
RESOLVE_PROFILE = $(if $(filter auto,$(PROFILE)),$(shell $(REPORT) profile),$(PROFILE))
STEP_PROFILE = $(eval STEP_PROFILE := $(RESOLVE_PROFILE))$(STEP_PROFILE)
STEP = PROFILE='$(STEP_PROFILE)' $(REPORT)
# The notebooks when every goal is report-NAME (else none: prepare then checks every notebook): prepare
# checks their parameters cells, and PARAMS against them, before it looks at the data
NOT_REPORT_NAME := $(filter-out $(addprefix report-,$(NOTEBOOKS)),$(or $(MAKECMDGOALS),help))
REPORTED := $(if $(NOT_REPORT_NAME),,$(patsubst report-%,%,$(MAKECMDGOALS)))

.PHONY: help setup report book train test data clean bench notebook-prepare notebook-train \
	$(addprefix notebook-,$(NOTEBOOKS)) $(addprefix report-,$(NOTEBOOKS))

help:
	@echo "make report        set up .venv, train (or load) every run, execute the notebooks that changed, build the book;"
	@echo "                   on a CPU the runs train side by side, one single-thread worker per core (GEN_WORKERS=N);"
	@echo "                   long and full write the published book (book/experiments), quick and smoke a copy"
	@echo "                   under _build/<profile>/ (HTML in _build/<profile>/_build/html)"
	@echo "make -j N report   the same, N chapter notebooks at a time"
	@echo "make report-NAME   one notebook, then the comparison if its runs changed, then the book; NAME is one of"
	@echo "                   $(NOTEBOOKS)"
	@echo "                   PARAMS='{mlp_a_latents: [17], epochs: 2, overrides: {lr: 0.0001}}' sets its parameters"
	@echo "make book          rebuild the HTML from the executed notebooks in book/experiments (fails on Sphinx warnings)"
	@echo "make train         train the grid without Jupyter (TRAIN_ARGS='--family gan --dataset mnist ...')"
	@echo "                   LAUNCHER=slurm: one Slurm job array (TRAIN_ARGS='--partition gpu --seeds 5 ...')"
	@echo "make bench         images/s of the training loop against a pytorch/examples loop, then each row's GFLOP/s"
	@echo "                   against its own kernels' (share of limit) (BENCH_ARGS='--profile quick ...';"
	@echo "                   BENCH_ARGS=--profile-steps: torch.profiler, where each row's step time goes)"
	@echo "make data          write the offline MNIST and CIFAR-10 copies into GEN_DATA_DIR (development and CI)"
	@echo "make test          the test suite (what CI runs)"
	@echo "make setup         create .venv with the pinned requirements"
	@echo "make clean         remove _build and runs"
	@echo "Variables: PROFILE=auto|full|long|quick|smoke ($(PROFILE); long publishes the book; auto: full on CUDA,"
	@echo "           else quick)"
	@echo "           GEN_DATA_DIR ($(GEN_DATA_DIR))  GEN_RUNS_DIR ($(GEN_RUNS_DIR))"
	@echo "           FORCE=0|1 (retrain cached runs)  PARAMS (report-NAME only)  GEN_SMOKE_DIR (where smoke stages its book)"
	@echo "           GEN_BF16=auto|1|0 (bf16 on the rows measured for it: auto where this CPU computes it natively;"
	@echo "           part of the run names, so a change trains other runs and executes the notebooks again)"
	@echo "           TRAIN_ARGS, LAUNCHER=slurm (make train)  BENCH_ARGS (make bench)"
	@echo "           GEN_WORKERS=N (worker processes training runs side by side; default: CPU cores, 1 on a GPU)"

$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q -r requirements.txt 2>&1 | $(QUIET_PIP)
	$(PY) -m pip install -q --no-deps -e . 2>&1 | $(QUIET_PIP)
	$(PY) -c "import gen_core, torch, torchvision, papermill, jupytext, jupyter_book"
	touch $@

setup: $(VENV)/.installed

# prepare -> the chapters (in parallel under -j) -> the comparison -> the book. Each notebook
# step executes only if its source, the library, its parameters, GEN_BF16 or its runs changed.
report: notebook-comparison
	$(STEP) finish

# PARAMS belongs to one notebook: refused with any goal but report-NAME
notebook-prepare: setup
	@if [ -n "$(strip $(PARAMS))" ] && [ -z "$(REPORTED)" ]; \
		then echo "error: PARAMS sets one notebook's parameters; use make report-NAME PARAMS=..." >&2; exit 2; fi
	$(REPORT) prepare $(REPORTED)

# every chapter's runs, side by side in single-thread worker processes on a CPU (gen_core/workers.py)
notebook-train: notebook-prepare
	$(STEP) train

$(addprefix notebook-,$(CHAPTERS)): notebook-%: notebook-train
	$(STEP) notebook $*

notebook-comparison: $(addprefix notebook-,$(CHAPTERS))
	$(STEP) notebook comparison

# one notebook with PARAMS, then the comparison (if that chapter's runs changed), then the book
$(addprefix report-,$(CHAPTERS)): report-%: notebook-prepare
	$(STEP) train $*
	$(STEP) notebook $*
	PARAMS= $(STEP) notebook comparison
	$(STEP) finish

report-comparison: notebook-prepare
	$(STEP) notebook comparison
	$(STEP) finish

book: setup
	$(PY) -m gen_core.book build

train: setup
	$(PY) -m gen_core $(if $(LAUNCHER),--launcher $(LAUNCHER)) $(TRAIN_ARGS)

# Offline copies of MNIST and CIFAR-10 (development and CI machines only).
data: setup
	@if [ -f $(SHARED_DATA) ]; then $(PY) $(SHARED_DATA) $(GEN_DATA_DIR); \
	else echo "make data needs the development copies, which are not here; see the README's \"Offline use\" section"; fi

bench: setup
	$(PY) -m gen_core.bench $(BENCH_ARGS)

test: setup
	$(PY) -m pytest -q tests

clean:
	rm -rf _build runs
