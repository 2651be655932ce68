# SPDX-License-Identifier: MIT
# /metrics against promtool and a Prometheus server (tests/metrics/).
# Included by the top-level Makefile.

METRICS_SERVE := $(BUILD)/metrics/serve

.PHONY: metrics-test

$(METRICS_SERVE): tests/metrics/serve.c runtime/accountd/metrics.c \
		  runtime/accountd/metrics.h tests/metrics/metrics.mk
	@mkdir -p $(@D)
	$(CC) $(ASH_CFLAGS) -Iruntime/accountd $(MHD_CFLAGS) -o $@ \
		tests/metrics/serve.c runtime/accountd/metrics.c $(LDFLAGS) $(MHD_LIBS)

metrics-test: $(METRICS_SERVE)
	@tests/metrics/check-metrics.sh $(METRICS_SERVE) $(BUILD)/metrics/check
