# Every target sets up .venv first (exact pins from constraints.txt), so each
# works on a fresh Linux machine with Python 3.11 and access to PyPI.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
READY := $(VENV)/.ready
KERNEL_READY := $(VENV)/.kernel-ready
# Debian's Chromium for tests/browser (Playwright drives it; it never downloads a browser).
CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
PYTEST_NBVAL := --nbval --nbval-current-env --nbval-cell-timeout=600
# Every core (pytest-xdist); tests/conftest.py keeps each notebook's cells together on one worker.
PYTEST_PARALLEL := --numprocesses=auto
# torch's CPU kernels take the same code path on every x86-64 machine with AVX2, Intel or AMD
# (MKL's conditional numerical reproducibility, ATen's kernel choice, oneDNN's instruction set for
# convolutions), so a notebook's numbers do not depend on the processor that executed it. The course
# kernel is registered with the same settings (course_lib.execution.PORTABLE_CPU_ENV).
export MKL_CBWR := AVX2
export ATEN_CPU_CAPABILITY := avx2
export ONEDNN_MAX_CPU_ISA := AVX2
# Jupyter refuses to run as root unless told to (containers often run as root).
LAB_FLAGS := --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: venv lab test execute bench experiments release grade book pins clean

venv: $(READY) $(KERNEL_READY)

$(READY): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required, found " + sys.version.split()[0] + " at $(PYTHON)")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --constraint constraints.txt --editable '.[course]'
	@touch $@

# The course kernel with the executor's CPU settings (course_lib.execution.ensure_kernel registers it
# again when its interpreter or a setting differs).
$(KERNEL_READY): $(READY) course_lib/execution.py
	$(BIN)/python -c "from course_lib.execution import ensure_kernel; ensure_kernel()"
	@touch $@

## lab: start JupyterLab on the chapters (the student's main command)
lab: venv
	$(BIN)/jupyter lab $(LAB_FLAGS)

## test: unit and property tests, the docstring examples, nbval (strict) over every notebook, the nbgrader round trip
test: venv $(CHROMIUM)
	$(BIN)/python -m pytest $(PYTEST_PARALLEL) $(PYTEST_NBVAL) --doctest-modules tests course_lib notebooks

## execute: re-run every written notebook in place, storing fresh outputs
execute: venv
	$(BIN)/python -m course_lib.execution

## bench: speed ratios against the torch / NumPy built-ins
bench: venv
	$(BIN)/python benchmarks/run.py

## experiments: the long runs behind statements in the chapters (minutes each, one core; not part of make test)
experiments: venv
	$(BIN)/python experiments/adamw_grid_mnist1d.py
	$(BIN)/python experiments/mc_dropout_ensembles_mnist1d.py

## release: the nbgrader course directory release/course/ (it holds the solutions) and the student versions in release/<chapter id>/
release: venv
	$(BIN)/python -m course_lib.release release

## grade: autograde SUBMISSIONS (nbgrader's submitted/<student>/<chapter id>/ layout, or an exchange inbound folder) into release/course/grades.csv
grade: venv
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=dir [CSV=file]" >&2; exit 2; }
	$(BIN)/python -m course_lib.release grade "$(SUBMISSIONS)" $(if $(CSV),--csv "$(CSV)")

## book: the HTML book of every written chapter from the stored outputs, offline, into build/book/html
## (MathJax comes from the npm registry: course_lib.site runs `npm ci` when node_modules is missing or stale)
book: venv
	$(BIN)/python -m course_lib.site

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

## pins: re-resolve constraints.txt from pyproject.toml in a scratch venv
pins:
	rm -rf build/pins && $(PYTHON) -m venv build/pins
	build/pins/bin/python -m pip install --quiet torch==2.13.0 '.[course]'
	( head -n 2 constraints.txt; build/pins/bin/python -m pip freeze --exclude-editable | sed 's/+cpu$$//' | grep -v '^course_lib' ) > constraints.new
	mv constraints.new constraints.txt && rm -rf build/pins

clean:
	rm -rf $(VENV) build release node_modules .pytest_cache .hypothesis
