# SPDX-License-Identifier: MIT
# The model runner's host-side parts (tests/unit/test_runner.c): the
# tokenizers, and the GGUF metadata lookups on the models gguf-py wrote
# (tests/python/write_runner_refs.py).  Included by tests/unit/build.mk,
# after tests/python/python.mk.

UNIT_RUNNER_SRCS := tests/unit/test_runner.c runtime/model/tokenizer.c \
		    runtime/model/meta.c runtime/model/parse.c \
		    runtime/model/safetensors.c runtime/model/gguf.c \
		    runtime/model/dtype.c runtime/model/header.c
UNIT_TESTS += $(UNIT_DIR)/test_runner
UNIT_ALL_OBJS += $(call unit_objs,$(UNIT_RUNNER_SRCS))

$(call unit_objs,tests/unit/test_runner.c): \
	UNIT_CFLAGS += -Iruntime/model -DASH_RUNNER_REFS_DIR='"$(RUNNER_REFS)"'
$(call unit_objs,$(UNIT_RUNNER_SRCS)): tests/unit/runner.mk

$(UNIT_DIR)/test_runner: $(call unit_objs,$(UNIT_RUNNER_SRCS)) $(RUNNER_REFS)/done
	$(CC) $(UNIT_LDFLAGS) -o $@ $(filter %.o,$^) -ljson-c -lcmocka
