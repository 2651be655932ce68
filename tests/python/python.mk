# SPDX-License-Identifier: MIT
# The Python test references (tests/python/): a virtual environment with
# the packages of requirements*.txt from PyPI, cached under
# ~/.cache/accelshare by the hash of those files and of llama.cpp's build
# options (so that a fresh machine's make test sets it up by itself: about 7
# minutes on two cores, most of it building llama.cpp from source), and
# the model files the formats' own writers write, for the parser and runner
# tests.  Test data only: nothing at run time needs Python.  Included by the
# top-level Makefile.

# llama.cpp as the reference needs only its library: no tests, examples,
# tools or HTTP client.  Built for x86-64 with AVX2, FMA and F16C rather
# than for this machine's CPU: the runner benchmark runs it inside the VMs,
# whose emulated CPU (qemu TCG) has those but not AVX-512.  The arguments
# are part of the environment's cache key.
LLAMA_CPP_CMAKE_ARGS := -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
			-DLLAMA_BUILD_TOOLS=OFF -DLLAMA_CURL=OFF \
			-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON \
			-DGGML_FMA=ON -DGGML_F16C=ON

PY_REQS := tests/python/requirements.txt tests/python/requirements-nodeps.txt
PY_VENV := $(HOME)/.cache/accelshare/venv-$(shell (cat $(PY_REQS); \
	echo $(LLAMA_CPP_CMAKE_ARGS)) | sha256sum | cut -c1-12)
PY := $(PY_VENV)/bin/python
MODEL_REFS := $(BUILD)/model-refs
RUNNER_REFS := $(BUILD)/runner-refs

.PHONY: py-venv model-refs runner-refs

# Debian's python3 (python3-venv, scripts/deps.sh), not whatever is first on
# PATH: the environment must not depend on the machine's Python setup.  The
# directory's name is the hash of what goes in, so the requirement files
# are no prerequisites: a fresh clone's are newer than any cache.
$(PY_VENV)/.done: | build-deps
	rm -rf $(PY_VENV)
	/usr/bin/python3 -m venv $(PY_VENV)
	CMAKE_ARGS="$(LLAMA_CPP_CMAKE_ARGS)" $(PY_VENV)/bin/pip install \
		--quiet --disable-pip-version-check --no-cache-dir \
		-r tests/python/requirements.txt
	$(PY_VENV)/bin/pip install --quiet --disable-pip-version-check \
		--no-cache-dir --no-deps -r tests/python/requirements-nodeps.txt
	touch $@

py-venv: $(PY_VENV)/.done

$(MODEL_REFS)/refs.json: tests/python/write_model_refs.py $(PY_VENV)/.done
	@mkdir -p $(@D)
	$(PY) tests/python/write_model_refs.py $(MODEL_REFS)

model-refs: $(MODEL_REFS)/refs.json

# Models and reference outputs for the model runner (the VM case
# model_runner; tests/vm/run.sh puts them in the VM's /models).
$(RUNNER_REFS)/done: tests/python/write_runner_refs.py $(PY_VENV)/.done
	@mkdir -p $(@D)
	$(PY) tests/python/write_runner_refs.py $(RUNNER_REFS)

runner-refs: $(RUNNER_REFS)/done
