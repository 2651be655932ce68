# SPDX-License-Identifier: MIT
# libFuzzer targets of the model-file parsers, built with Debian's clang.
#
#   make fuzz-smoke             each fuzzer briefly (part of make test)
#   make fuzz DURATION=600      each fuzzer DURATION seconds (default 300)
#   make fuzz-corpus            renew the committed seed corpora
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
