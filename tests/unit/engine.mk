# SPDX-License-Identifier: MIT
# The CPU engine's ops (tests/unit/test_engine_ops.c): runtime/engine/cpu/ops.c runtime/engine/cpu/mem.c
# compiled in with the sanitizers, OpenBLAS as installed.  Included by
# tests/unit/build.mk.

UNIT_ENGINE_SRCS := tests/unit/test_engine_ops.c runtime/engine/cpu/ops.c runtime/engine/cpu/mem.c \
		    runtime/engine/run.c runtime/engine/calibrate.c \
		    runtime/ops/optable.c
UNIT_TESTS += $(UNIT_DIR)/test_engine_ops
UNIT_ALL_OBJS += $(call unit_objs,$(UNIT_ENGINE_SRCS))

# Without -Idriver: driver/sched.h would shadow <sched.h>, which cblas.h
# (cpu_set_t) and pthread.h include.
$(call unit_objs,$(UNIT_ENGINE_SRCS)): tests/unit/engine.mk
$(call unit_objs,$(UNIT_ENGINE_SRCS)): \
	UNIT_CFLAGS := $(ASH_CFLAGS) $(SANITIZE) -pthread -MMD -MP

$(UNIT_DIR)/test_engine_ops: $(call unit_objs,$(UNIT_ENGINE_SRCS))
	$(CC) $(UNIT_LDFLAGS) -o $@ $^ -lopenblas -lm -lcmocka
