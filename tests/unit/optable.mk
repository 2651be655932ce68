# SPDX-License-Identifier: MIT
# The op table and the engine's whole-job checks (tests/unit/test_optable.c):
# runtime/ops/optable.c, runtime/engine/run.c and the CPU backend compiled
# in with the sanitizers.  Included by tests/unit/build.mk.

UNIT_OPTABLE_SRCS := tests/unit/test_optable.c runtime/ops/optable.c \
		     runtime/engine/run.c runtime/engine/calibrate.c \
		     runtime/engine/cpu/ops.c runtime/engine/cpu/mem.c
UNIT_TESTS += $(UNIT_DIR)/test_optable
UNIT_ALL_OBJS += $(call unit_objs,$(UNIT_OPTABLE_SRCS))

# Without -Idriver, as for test_engine_ops (engine.mk).
$(call unit_objs,$(UNIT_OPTABLE_SRCS)): tests/unit/optable.mk
$(call unit_objs,$(UNIT_OPTABLE_SRCS)): \
	UNIT_CFLAGS := $(ASH_CFLAGS) $(SANITIZE) -pthread -MMD -MP

$(UNIT_DIR)/test_optable: $(call unit_objs,$(UNIT_OPTABLE_SRCS))
	$(CC) $(UNIT_LDFLAGS) -o $@ $^ -lopenblas -lm -lcmocka
