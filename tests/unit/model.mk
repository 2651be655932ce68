# SPDX-License-Identifier: MIT
# The model-file parsers (tests/unit/test_safetensors.c, test_gguf.c) and the
# header reader (runtime/model/header.c), with
# the in-memory file writers of tests/unit/model_files.c.  Included by
# tests/unit/build.mk.

UNIT_MODEL_PARSER_SRCS := runtime/model/parse.c runtime/model/safetensors.c \
			  runtime/model/gguf.c runtime/model/dtype.c \
			  runtime/model/header.c tests/unit/model_files.c
UNIT_ST_SRCS := tests/unit/test_safetensors.c $(UNIT_MODEL_PARSER_SRCS)
UNIT_GGUF_SRCS := tests/unit/test_gguf.c $(UNIT_MODEL_PARSER_SRCS)
UNIT_TESTS += $(UNIT_DIR)/test_safetensors $(UNIT_DIR)/test_gguf
UNIT_ALL_OBJS += $(call unit_objs,$(UNIT_ST_SRCS) $(UNIT_GGUF_SRCS))

$(call unit_objs,tests/unit/model_files.c tests/unit/test_safetensors.c \
	tests/unit/test_gguf.c): UNIT_CFLAGS += -Iruntime/model
$(call unit_objs,$(UNIT_ST_SRCS) $(UNIT_GGUF_SRCS)): tests/unit/model.mk

$(UNIT_DIR)/test_safetensors: $(call unit_objs,$(UNIT_ST_SRCS))
	$(CC) $(UNIT_LDFLAGS) -o $@ $^ -ljson-c -lcmocka

$(UNIT_DIR)/test_gguf: $(call unit_objs,$(UNIT_GGUF_SRCS))
	$(CC) $(UNIT_LDFLAGS) -o $@ $^ -ljson-c -lcmocka
