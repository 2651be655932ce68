# SPDX-License-Identifier: MIT
# The model parsers on files written by the formats' own writers
# (tests/unit/test_model_refs.c; the files come from tests/python/).
# Included by tests/unit/build.mk, after tests/python/python.mk.

UNIT_REFS_SRCS := tests/unit/test_model_refs.c runtime/model/parse.c \
		  runtime/model/safetensors.c runtime/model/gguf.c \
		  runtime/model/dtype.c runtime/model/header.c
UNIT_TESTS += $(UNIT_DIR)/test_model_refs
UNIT_ALL_OBJS += $(call unit_objs,$(UNIT_REFS_SRCS))

$(call unit_objs,tests/unit/test_model_refs.c): \
	UNIT_CFLAGS += -Iruntime/model -DASH_MODEL_REFS_DIR='"$(MODEL_REFS)"'
$(call unit_objs,$(UNIT_REFS_SRCS)): tests/unit/model_refs.mk

# The files are made first, so that the test finds them when unit-test runs.
$(UNIT_DIR)/test_model_refs: $(call unit_objs,$(UNIT_REFS_SRCS)) $(MODEL_REFS)/refs.json
	$(CC) $(UNIT_LDFLAGS) -o $@ $(filter %.o,$^) -ljson-c -lcmocka
