# make report  - set up .venv, train (or load) every run, execute the notebooks, build the book
#                (make -j N report executes N chapter notebooks at once, e.g. to share one GPU)
# make book    - rebuild the HTML from the executed notebooks already in book/experiments
#                (fails on any Sphinx warning, so broken references are caught)
# make test    - the test suite (what CI runs)
# make bench   - images/s of the project's training loop against a pytorch/examples loop
# Variables: PROFILE=auto|full|quick|smoke  GEN_DATA_DIR=data  GEN_RUNS_DIR=runs  FORCE=0|1
#            GEN_SMOKE_DIR=_build/smoke (where the smoke profile stages its book)
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c

PROFILE ?= auto
GEN_DATA_DIR ?= data
GEN_RUNS_DIR ?= runs
FORCE ?= 0
export PROFILE GEN_DATA_DIR GEN_RUNS_DIR FORCE

VENV := .venv
PY := $(VENV)/bin/python
SHARED_DATA := ../shared/data/materialize.py
# this machine's pip config lists local indexes that lack most packages; hide those notices
# (grep exits 1 when it filters everything; the import check below catches a failed install)
QUIET_PIP := grep -v "is ignored: it is neither a file nor a directory" || true

CHAPTERS := vae_mnist vae_cifar10 gan_mnist gan_cifar10 wgan_mnist wgan_cifar10
REPORT := $(PY) -m gen_core.book

.PHONY: setup report book train test data clean bench \
	report-prepare report-comparison $(addprefix report-,$(CHAPTERS))

$(VENV)/.installed: requirements.txt pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q -r requirements.txt 2>&1 | $(QUIET_PIP)
	$(PY) -m pip install -q --no-deps -e . 2>&1 | $(QUIET_PIP)
	$(PY) -c "import gen_core, torch, torchvision, papermill, jupytext, jupyter_book"
	touch $@

setup: $(VENV)/.installed

# prepare -> the six chapters (in parallel under -j) -> the comparison -> the book
report: report-comparison
	$(REPORT) finish

report-prepare: setup
	$(REPORT) prepare

$(addprefix report-,$(CHAPTERS)): report-%: report-prepare
	$(REPORT) notebook $*

report-comparison: $(addprefix report-,$(CHAPTERS))
	$(REPORT) notebook comparison

book: setup
	$(PY) -m gen_core.book build

train: setup
	$(PY) -m gen_core

# Offline copies of MNIST and CIFAR-10 (development and CI; see ../shared/data/README.md).
data: setup
	@if [ -f $(SHARED_DATA) ]; then $(PY) $(SHARED_DATA) $(GEN_DATA_DIR); \
	else echo "no $(SHARED_DATA): copy torchvision's files into $(GEN_DATA_DIR) or go online"; fi

bench: setup
	$(PY) -m gen_core.bench

test: setup
	$(PY) -m pytest -q tests

clean:
	rm -rf _build runs
