# SPDX-License-Identifier: MIT
# The Python test references (tests/python/): a virtual environment with
# the packages of requirements.txt from PyPI, cached under
# ~/.cache/accelshare by the hash of that file (so a fresh machine's make
# test sets it up by itself, about a minute), and the model files the
# formats' own writers write, for the parser tests.  Test data only: nothing
# at run time needs Python.  Included by the top-level Makefile.

PY_REQS := tests/python/requirements.txt
PY_VENV := $(HOME)/.cache/accelshare/venv-$(shell sha256sum $(PY_REQS) | cut -c1-12)
PY := $(PY_VENV)/bin/python
MODEL_REFS := $(BUILD)/model-refs

.PHONY: py-venv model-refs

# Debian's python3 (python3-venv, scripts/deps.sh), not whatever is first on
# PATH: the environment must not depend on the machine's Python setup.
$(PY_VENV)/.done: $(PY_REQS) | build-deps
	rm -rf $(PY_VENV)
	/usr/bin/python3 -m venv $(PY_VENV)
	$(PY_VENV)/bin/pip install --quiet --disable-pip-version-check \
		--no-cache-dir -r $(PY_REQS)
	touch $@

py-venv: $(PY_VENV)/.done

$(MODEL_REFS)/refs.json: tests/python/write_model_refs.py $(PY_VENV)/.done
	@mkdir -p $(@D)
	$(PY) tests/python/write_model_refs.py $(MODEL_REFS)

model-refs: $(MODEL_REFS)/refs.json
