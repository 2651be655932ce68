# SPDX-License-Identifier: MIT
# accelshare.conf(5): ashctl apply's parser and planner, ashctl export's
# writer (tests/unit/test_conf.c).  Included by tests/unit/build.mk.

UNIT_CONF_SRCS := tests/unit/test_conf.c tools/ashctl/conf.c \
		  tools/ashctl/args.c tools/common/parse.c
UNIT_TESTS += $(UNIT_DIR)/test_conf
UNIT_ALL_OBJS += $(call unit_objs,$(UNIT_CONF_SRCS))

$(UNIT_DIR)/test_conf: $(call unit_objs,$(UNIT_CONF_SRCS))
	$(CC) $(UNIT_LDFLAGS) -o $@ $^ -linih -lcmocka
