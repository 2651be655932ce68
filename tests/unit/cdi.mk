# SPDX-License-Identifier: MIT
# The CDI spec ashctl writes (tests/unit/test_cdi.c), checked against the CDI
# JSON schema (tests/data/cdi).  Included by tests/unit/build.mk.

UNIT_CDI_SRCS := tests/unit/test_cdi.c tools/ashctl/cdi_spec.c tools/ashctl/json_out.c
UNIT_TESTS += $(UNIT_DIR)/test_cdi
UNIT_ALL_OBJS += $(call unit_objs,$(UNIT_CDI_SRCS))

$(UNIT_DIR)/test_cdi: $(call unit_objs,$(UNIT_CDI_SRCS))
	$(CC) $(UNIT_LDFLAGS) -o $@ $^ -ljson-c -lcmocka
