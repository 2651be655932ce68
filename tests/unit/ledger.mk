# SPDX-License-Identifier: MIT
# The usage ledger against a simulated driver (tests/unit/test_ledger.c).
# Included by tests/unit/build.mk.

UNIT_LEDGER_SRCS := tests/unit/test_ledger.c runtime/accountd/ledger.c
UNIT_TESTS += $(UNIT_DIR)/test_ledger
UNIT_ALL_OBJS += $(call unit_objs,$(UNIT_LEDGER_SRCS))

$(UNIT_DIR)/obj/tests/unit/test_ledger.o: UNIT_CFLAGS += -Iruntime/accountd

$(UNIT_DIR)/test_ledger: $(call unit_objs,$(UNIT_LEDGER_SRCS))
	$(CC) $(UNIT_LDFLAGS) -o $@ $^ -lsqlite3 -lcrypto -lcmocka
