# SPDX-License-Identifier: MIT
# The weight-streaming core into plain memory (tests/unit/test_stream.c).
# Included by tests/unit/build.mk.  Its files go to a directory on the
# build's disk, not /tmp, which may be a tmpfs without O_DIRECT.

UNIT_STREAM_SRCS := tests/unit/test_stream.c runtime/model/stream.c
UNIT_STREAM_TMP := $(abspath $(UNIT_DIR)/tmp)
UNIT_TESTS += $(UNIT_DIR)/test_stream
UNIT_ALL_OBJS += $(call unit_objs,$(UNIT_STREAM_SRCS))

$(UNIT_DIR)/obj/tests/unit/test_stream.o: \
	UNIT_CFLAGS += -DSTREAM_TMPDIR='"$(UNIT_STREAM_TMP)"'
$(call unit_objs,$(UNIT_STREAM_SRCS)): tests/unit/loader.mk

$(UNIT_DIR)/test_stream: $(call unit_objs,$(UNIT_STREAM_SRCS))
	@mkdir -p $(UNIT_STREAM_TMP)
	$(CC) $(UNIT_LDFLAGS) -o $@ $^ -luring -lnuma -ljson-c -lcmocka
