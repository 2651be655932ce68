# SPDX-License-Identifier: MIT
# accelshare-engine, the CPU reference engine (docs/engine.md).  Included by
# the top-level Makefile; uses its BUILD, ASH_CFLAGS, PREFIX and DESTDIR.

ENGINE := $(BUILD)/bin/accelshare-engine
# The protocol loop and job runner, each backend's ops (runtime/engine/cpu/),
# and the op table the library shares (runtime/ops/).
ENGINE_SRCS := $(sort $(wildcard runtime/engine/*.c runtime/engine/*/*.c)) \
	       runtime/ops/optable.c
ENGINE_OBJS := $(ENGINE_SRCS:runtime/%.c=$(BUILD)/obj/engine/%.o) \
	       $(BUILD)/obj/engine/parse.o
# OpenBLAS (cblas.h, the pthread build Debian selects through
# alternatives), libnuma for NUMA placement, libm for the activations.
ENGINE_LIBS := -lopenblas -lnuma -lm
ENGINE_CFLAGS := $(ASH_CFLAGS) -pthread -MMD -MP

.PHONY: install-engine uninstall-engine

userspace: $(ENGINE)
install: install-engine
uninstall: uninstall-engine

$(BUILD)/obj/engine/%.o: runtime/%.c runtime/engine/engine.mk | build-deps
	@mkdir -p $(@D)
	$(CC) $(ENGINE_CFLAGS) -c -o $@ $<

# --mem sizes are parsed as ashctl parses them.
$(BUILD)/obj/engine/parse.o: tools/common/parse.c runtime/engine/engine.mk | build-deps
	@mkdir -p $(@D)
	$(CC) $(ENGINE_CFLAGS) -c -o $@ $<

$(ENGINE): $(ENGINE_OBJS)
	@mkdir -p $(@D)
	$(CC) -pthread $(LDFLAGS) -o $@ $^ $(ENGINE_LIBS)

install-engine: $(ENGINE)
	install -D -m 0755 $(ENGINE) $(DESTDIR)$(PREFIX)/bin/accelshare-engine

uninstall-engine:
	rm -f $(DESTDIR)$(PREFIX)/bin/accelshare-engine

-include $(ENGINE_OBJS:.o=.d)
