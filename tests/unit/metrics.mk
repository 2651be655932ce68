# SPDX-License-Identifier: MIT
# accelshare-accountd's /metrics (tests/unit/test_metrics.c).  Included by
# tests/unit/build.mk.

UNIT_METRICS_SRCS := tests/unit/test_metrics.c runtime/accountd/metrics.c
UNIT_TESTS += $(UNIT_DIR)/test_metrics
UNIT_ALL_OBJS += $(call unit_objs,$(UNIT_METRICS_SRCS))

$(UNIT_DIR)/obj/tests/unit/test_metrics.o: UNIT_CFLAGS += -Iruntime/accountd

$(UNIT_DIR)/test_metrics: $(call unit_objs,$(UNIT_METRICS_SRCS))
	$(CC) $(UNIT_LDFLAGS) -o $@ $^ -lmicrohttpd -lcmocka
