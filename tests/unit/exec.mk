# SPDX-License-Identifier: MIT
# The tenant execution API (runtime/exec.c, runtime/cmdbuf.c) against a
# fake kernel (tests/unit/test_exec.c), which wraps the library's ioctls
# (jobs need no mapping).  Included by tests/unit/build.mk.

UNIT_EXEC_SRCS := tests/unit/test_exec.c $(RT_SRCS)
UNIT_TESTS += $(UNIT_DIR)/test_exec
UNIT_ALL_OBJS += $(call unit_objs,$(UNIT_EXEC_SRCS))

$(UNIT_DIR)/test_exec: $(call unit_objs,$(UNIT_EXEC_SRCS))
	$(CC) $(UNIT_LDFLAGS) -Wl,--wrap=ioctl \
		-o $@ $^ -lcmocka $(RT_LIBS)
