# SPDX-License-Identifier: MIT
# The weighted fair scheduler's decision logic (tests/unit/test_sched.c).
# Included by tests/unit/build.mk.

UNIT_SCHED_SRCS := tests/unit/test_sched.c driver/sched.c
UNIT_TESTS += $(UNIT_DIR)/test_sched
UNIT_ALL_OBJS += $(call unit_objs,$(UNIT_SCHED_SRCS))

$(call unit_objs,$(UNIT_SCHED_SRCS)): tests/unit/sched.mk

$(UNIT_DIR)/test_sched: $(call unit_objs,$(UNIT_SCHED_SRCS))
	$(CC) $(UNIT_LDFLAGS) -o $@ $^ -lcmocka
