# freqbook - the two commands of the README:
#   make book   execute every notebook (PROFILE=cpu by default) and render build/html
#   make test   lint + unit tests + every notebook at `smoke` + claims checkable at `smoke`
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PROFILE ?= cpu
JOBS ?= 2
# The CPU build that this project is developed and tested with; set TORCH_SPEC to use another.
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.freqbook-installed

# Notebook kernels run in their own folders: pass data paths on as absolute paths.
ifdef FREQBOOK_DATA
export FREQBOOK_DATA := $(abspath $(FREQBOOK_DATA))
endif

.PHONY: install notebooks book html test lint bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install -q "$(TORCH_SPEC)"
	$(PY) -m pip install -q -e ".[book,test]"
	@touch $@

install: $(STAMP)

notebooks: install
	$(PY) -m freqbook run --profile $(PROFILE)

html: install
	$(PY) -m freqbook build --profile $(PROFILE)

book: notebooks html

lint: install
	$(PY) -m ruff check src tests benchmarks

test: lint
	$(PY) -m pytest -n $(JOBS)

bench: install
	$(PY) -m pip install -q -e ".[bench]"
	$(PY) benchmarks/siren_fit.py

clean:
	rm -rf build
