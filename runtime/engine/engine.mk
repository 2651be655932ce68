# SPDX-License-Identifier: MIT
# accelshare-engine, the CPU reference engine (docs/engine.md).  Included by
# the top-level Makefile; uses its BUILD, ASH_CFLAGS, PREFIX and DESTDIR.

ENGINE := $(BUILD)/bin/accelshare-engine
ENGINE_SRCS := $(sort $(wildcard runtime/engine/*.c))
ENGINE_OBJS := $(ENGINE_SRCS:runtime/engine/%.c=$(BUILD)/obj/engine/%.o)
# OpenBLAS (cblas.h, the pthread build Debian selects through
# alternatives), libnuma for NUMA placement, libm for the activations.
ENGINE_LIBS := -lopenblas -lnuma -lm
ENGINE_CFLAGS := $(ASH_CFLAGS) -pthread -MMD -MP

.PHONY: install-engine

userspace: $(ENGINE)
install: install-engine

$(BUILD)/obj/engine/%.o: runtime/engine/%.c runtime/engine/engine.mk
	@mkdir -p $(@D)
	$(CC) $(ENGINE_CFLAGS) -c -o $@ $<

$(ENGINE): $(ENGINE_OBJS)
	@mkdir -p $(@D)
	$(CC) -pthread $(LDFLAGS) -o $@ $^ $(ENGINE_LIBS)

install-engine: $(ENGINE)
	install -D -m 0755 $(ENGINE) $(DESTDIR)$(PREFIX)/bin/accelshare-engine

-include $(ENGINE_OBJS:.o=.d)
