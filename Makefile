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
# the notebook steps run with the profile `prepare` resolved (auto -> full or quick), so they can
# tell "up to date" without importing torch
RESOLVED := PROFILE=$$(cat _build/profile) $(REPORT)

.PHONY: help setup report book train test data clean bench notebook-prepare notebook-train \
	$(addprefix notebook-,$(NOTEBOOKS)) $(addprefix report-,$(NOTEBOOKS))

help:
	@echo "make report        set up .venv, train (or load) every run, execute the notebooks that changed, build the book;"
	@echo "                   on a CPU the runs train side by side, one single-thread worker per core (GEN_WORKERS=N)"
	@echo "make -j N report   the same, N chapter notebooks at a time"
	@echo "make report-NAME   one notebook, then the comparison if its runs changed, then the book; NAME is one of"
	@echo "                   $(NOTEBOOKS)"
	@echo "                   PARAMS='{mlp_a_latents: [17], epochs: 2, overrides: {lr: 0.0001}}' sets its parameters"
	@echo "make book          rebuild the HTML from the executed notebooks in book/experiments (fails on Sphinx warnings)"
	@echo "make train         train the grid without Jupyter (TRAIN_ARGS='--family gan --dataset mnist ...')"
	@echo "                   LAUNCHER=slurm: one Slurm job array (TRAIN_ARGS='--partition gpu --seeds 5 ...');"
	@echo "                   LAUNCHER=local: the same tasks in local worker processes"
	@echo "make bench         images/s of the training loop against a pytorch/examples loop (BENCH_ARGS='--profile quick ...')"
	@echo "make data          write the offline MNIST and CIFAR-10 copies into GEN_DATA_DIR (development and CI)"
	@echo "make test          the test suite (what CI runs)"
	@echo "make setup         create .venv with the pinned requirements"
	@echo "make clean         remove _build and runs"
	@echo "Variables: PROFILE=auto|full|long|quick|smoke ($(PROFILE))  GEN_DATA_DIR ($(GEN_DATA_DIR))  GEN_RUNS_DIR ($(GEN_RUNS_DIR))"
	@echo "           FORCE=0|1 (retrain cached runs)  PARAMS (report-NAME only)  GEN_SMOKE_DIR (where smoke stages its book)"
	@echo "           TRAIN_ARGS, LAUNCHER=local|slurm (make train)  BENCH_ARGS (make bench)"
	@echo "           GEN_WORKERS=N (worker processes training runs side by side; default: CPU cores, 1 on a GPU)"

$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q -r requirements.txt 2>&1 | $(QUIET_PIP)
	$(PY) -m pip install -q --no-deps -e . 2>&1 | $(QUIET_PIP)
	$(PY) -c "import gen_core, torch, torchvision, papermill, jupytext, jupyter_book"
	touch $@

setup: $(VENV)/.installed

# prepare -> the chapters (in parallel under -j) -> the comparison -> the book. Each notebook
# step executes only if its source, the library, its parameters or its runs changed.
report: notebook-comparison
	$(RESOLVED) finish

# PARAMS belongs to one notebook: refused with any goal but report-NAME
notebook-prepare: setup
	@if [ -n "$(strip $(PARAMS))" ] && [ -n "$(filter-out $(addprefix report-,$(NOTEBOOKS)),$(or $(MAKECMDGOALS),help))" ]; \
		then echo "error: PARAMS sets one notebook's parameters; use make report-NAME PARAMS=..." >&2; exit 2; fi
	$(REPORT) prepare

# every chapter's runs, side by side in single-thread worker processes on a CPU (gen_core/workers.py)
notebook-train: notebook-prepare
	$(RESOLVED) train

$(addprefix notebook-,$(CHAPTERS)): notebook-%: notebook-train
	$(RESOLVED) notebook $*

notebook-comparison: $(addprefix notebook-,$(CHAPTERS))
	$(RESOLVED) notebook comparison

# one notebook with PARAMS, then the comparison (if that chapter's runs changed), then the book
$(addprefix report-,$(CHAPTERS)): report-%: notebook-prepare
	$(RESOLVED) train $*
	$(RESOLVED) notebook $*
	PARAMS= $(RESOLVED) notebook comparison
	$(RESOLVED) finish

report-comparison: notebook-prepare
	$(RESOLVED) notebook comparison
	$(RESOLVED) finish

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
