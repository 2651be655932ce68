# SPDX-License-Identifier: MIT
# libFuzzer targets of the model-file parsers, built with Debian's clang,
# and the kernel ioctl fuzzer, a VM case.
#
#   make fuzz-smoke             each fuzzer briefly (part of make test)
#   make fuzz DURATION=600      each fuzzer DURATION seconds (default 300)
#   make fuzz-corpus            renew the committed seed corpora
#
#   make fuzz-kernel DURATION=600 [SEED=0x...] [KERNEL=distro]
#                               the kernel ioctl fuzzer alone, DURATION
#                               seconds (default 300) in a VM on the debug
#                               kernel (default) or the distro kernel; SEED
#                               replays a run (the case prints its seed).
#                               It is also the VM case fuzz_ioctl, so
#                               make test / make vm-test run it briefly
#                               (60 s debug, 20 s distro kernel).
#
# Findings (crash-*, leak-*, timeout-*) land in $(BUILD)/fuzz/; the
# corpora grown while fuzzing stay there too, not in the tree.

FUZZ_CC ?= $(firstword $(shell command -v clang-14 clang 2>/dev/null))
FUZZ_DIR := $(BUILD)/fuzz
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -Wall -Wextra -Werror \
	       -fsanitize=fuzzer,address,undefined \
	       -fno-sanitize-recover=undefined -Iinclude -Iruntime/model
FUZZ_SRCS := runtime/model/parse.c runtime/model/safetensors.c \
	     runtime/model/gguf.c runtime/model/dtype.c
FUZZ_TARGETS := safetensors gguf
FUZZ_BINS := $(FUZZ_TARGETS:%=$(FUZZ_DIR)/fuzz_%)
DURATION ?= 300
FUZZ_SMOKE_SECONDS ?= 10
FUZZ_OPTS = -timeout=5 -rss_limit_mb=2048 -detect_leaks=1 \
	    -artifact_prefix=$(FUZZ_DIR)/

.PHONY: fuzz fuzz-smoke fuzz-build fuzz-corpus

fuzz-build: $(FUZZ_BINS)

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_common.h \
		$(FUZZ_SRCS) runtime/model/format.h runtime/model/dtype.h \
		runtime/model/parse.h include/accelshare.h tests/fuzz/fuzz.mk
	@test -n "$(FUZZ_CC)" || { echo "fuzz: no clang (apt-get install clang-14 libclang-rt-14-dev)" >&2; exit 1; }
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_SRCS) -ljson-c

# Every fuzzer on a copy of its seeds, for $(1) seconds.
fuzz_run = set -e; for t in $(FUZZ_TARGETS); do \
	mkdir -p $(FUZZ_DIR)/corpus-$$t; \
	dict=; [ ! -f tests/fuzz/$$t.dict ] || dict=-dict=tests/fuzz/$$t.dict; \
	echo "  FUZZ    $$t ($(1) s)"; \
	$(FUZZ_DIR)/fuzz_$$t $(FUZZ_OPTS) $$dict -max_total_time=$(1) \
		-print_final_stats=1 $(FUZZ_DIR)/corpus-$$t \
		tests/fuzz/corpus/$$t 2>$(FUZZ_DIR)/$$t.log \
		|| { tail -n 40 $(FUZZ_DIR)/$$t.log; exit 1; }; \
	grep -E '^stat::number_of_executed_units' $(FUZZ_DIR)/$$t.log || true; \
	done

fuzz-smoke: $(FUZZ_BINS)
	@$(call fuzz_run,$(FUZZ_SMOKE_SECONDS))

fuzz: $(FUZZ_BINS)
	@$(call fuzz_run,$(DURATION))

fuzz-corpus: $(BUILD)/fuzz/gen_corpus
	mkdir -p tests/fuzz/corpus/safetensors tests/fuzz/corpus/gguf
	$< tests/fuzz/corpus

$(BUILD)/fuzz/gen_corpus: tests/fuzz/gen_corpus.c tests/unit/model_files.c \
		runtime/model/dtype.c
	@mkdir -p $(@D)
	$(CC) $(ASH_CFLAGS) -Iruntime/model -Itests/unit -o $@ $^

# The kernel ioctl fuzzer: VM case fuzz_ioctl (see tests/fuzz/ioctl_fuzz.c
# and "Kernel ioctl fuzzer" in tests/vm/README.md).
KFUZZ_SRCS := tests/fuzz/ioctl_fuzz.c tests/fuzz/fuzz_tenant.c \
	      tests/fuzz/fuzz_ioctl.c
KFUZZ_BIN := $(BUILD)/vm/cases/fuzz_ioctl

.PHONY: fuzz-kernel

vm-cases: $(KFUZZ_BIN)

$(KFUZZ_BIN): $(KFUZZ_SRCS) tests/fuzz/kfuzz.h $(VM_LIB_SRCS) $(VM_LIB_HDRS) \
		include/accelshare.h include/uapi/accelshare.h | userspace
	@mkdir -p $(@D)
	$(CC) $(ASH_CFLAGS) -Itests/vm/lib -Itests/fuzz -o $@ $(KFUZZ_SRCS) \
		$(VM_LIB_SRCS) -L$(BUILD)/lib -laccelshare -lpthread -lm $(LDFLAGS)

# Only this case, with a case and VM time limit that fit DURATION.
fuzz-kernel: userspace vm-cases
	ASH_TEST_FUZZ_SECONDS=$(DURATION) $(if $(SEED),ASH_TEST_SEED=$(SEED)) \
	ASH_VM_CASE_TIMEOUT=$$(( $(DURATION) + 900 )) \
	ASH_VM_TIMEOUT=$$(( $(DURATION) + 1800 )) \
	tests/vm/run.sh --build $(BUILD) --kernel $(KERNEL) --cases fuzz_ioctl
