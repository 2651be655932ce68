# SPDX-License-Identifier: MIT
# The backend conformance suite (tests/unit/test_conformance.c): every op of
# the op table through each backend of the engine, no module involved.  The
# cpu backend is compiled in with the sanitizers; the cuda plugin, where it
# was built, is loaded unsanitized and reports its half skipped without a
# GPU.  $(BUILD)/bin/ash-conformance is the same suite without sanitizers,
# for GPU machines ("make conformance").  Included by tests/unit/build.mk.

UNIT_CONF_SRCS := tests/unit/test_conformance.c runtime/engine/cpu/ops.c \
		  runtime/engine/cpu/mem.c runtime/engine/run.c \
		  runtime/engine/backends.c runtime/ops/optable.c
UNIT_TESTS += $(UNIT_DIR)/test_conformance
UNIT_ALL_OBJS += $(call unit_objs,$(UNIT_CONF_SRCS))
CONFORMANCE := $(BUILD)/bin/ash-conformance

.PHONY: conformance

# Without -Idriver, as for test_engine_ops (engine.mk).
$(call unit_objs,$(UNIT_CONF_SRCS)): tests/unit/conformance.mk
$(call unit_objs,$(UNIT_CONF_SRCS)): \
	UNIT_CFLAGS := $(ASH_CFLAGS) $(SANITIZE) -pthread -MMD -MP

# The plugin is looked for beside the engine (../lib/accelshare), so the
# test points ASH_BACKEND_DIR at it.
$(UNIT_DIR)/test_conformance: $(call unit_objs,$(UNIT_CONF_SRCS)) $(CUDA_PLUGIN)
	$(CC) $(UNIT_LDFLAGS) -o $@ $(filter %.o,$^) -lopenblas -lm -ldl -lcmocka

$(CONFORMANCE): $(UNIT_CONF_SRCS) tests/unit/conformance.mk $(CUDA_PLUGIN) | build-deps
	@mkdir -p $(@D)
	$(CC) $(ASH_CFLAGS) -pthread -o $@ $(UNIT_CONF_SRCS) $(LDFLAGS) \
		-lopenblas -lm -ldl -lcmocka

conformance: $(CONFORMANCE)
	ASH_BACKEND_DIR=$(BUILD)/lib/accelshare $(CONFORMANCE)
