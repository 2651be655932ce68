# SPDX-License-Identifier: MIT
# "make bench-runner": the model runner against llama.cpp, tokens per second
# of prompt and of generation, in one VM run of the distribution kernel
# (bench/runner_bench.c, run by bench/exec-run.sh).  llama.cpp is the
# libllama of llama-cpp-python in the test references' virtual environment
# (tests/python/python.mk), linked here with its headers.  Included by the
# top-level Makefile; uses its BUILD, CC, ASH_CFLAGS, LDFLAGS, the
# userspace target, PY_VENV and RUNNER_REFS.

RUNNER_BENCH := $(BUILD)/bench/runner_bench
LLAMA_CPP_DIR = $(wildcard $(PY_VENV)/lib/python3*/site-packages)

.PHONY: bench-runner

$(RUNNER_BENCH): bench/runner_bench.c tests/vm/lib/vmtest.c \
		 tests/vm/lib/vmtest.h tests/vm/lib/vtexec.h \
		 include/accelshare.h bench/runner.mk $(PY_VENV)/.done | userspace
	@mkdir -p $(@D)
	$(CC) $(ASH_CFLAGS) -Itests/vm/lib -isystem $(LLAMA_CPP_DIR)/include \
		-o $@ bench/runner_bench.c tests/vm/lib/vmtest.c \
		-L$(BUILD)/lib -laccelshare -L$(LLAMA_CPP_DIR)/llama_cpp/lib \
		-Wl,-rpath,$(LLAMA_CPP_DIR)/llama_cpp/lib -lllama -lpthread -lm \
		$(LDFLAGS)

bench-runner: userspace $(RUNNER_BENCH) $(VM_RUNAS) runner-refs
	BUILD=$(BUILD) EXEC_BENCH=$(RUNNER_BENCH) BENCH_MARK=RUNNER-BENCH \
		bench/exec-run.sh
