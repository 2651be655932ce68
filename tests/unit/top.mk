# SPDX-License-Identifier: MIT
# ashctl top's screen (tests/unit/test_top.c).  Included by
# tests/unit/build.mk.

UNIT_TOP_SRCS := tests/unit/test_top.c tools/ashctl/top_view.c \
		 tools/common/parse.c
UNIT_TESTS += $(UNIT_DIR)/test_top
UNIT_ALL_OBJS += $(call unit_objs,$(UNIT_TOP_SRCS))

$(UNIT_DIR)/test_top: $(call unit_objs,$(UNIT_TOP_SRCS))
	$(CC) $(UNIT_LDFLAGS) -o $@ $^ -lcmocka
