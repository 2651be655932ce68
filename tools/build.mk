# SPDX-License-Identifier: MIT
# ashctl and ash-demo-tenant.  Included by the top-level Makefile; uses its
# BUILD, ASH_CFLAGS, PREFIX and DESTDIR, and LIB_STATIC from runtime/build.mk.

JSONC_CFLAGS := $(shell pkg-config --cflags json-c 2>/dev/null)
JSONC_LIBS := $(or $(shell pkg-config --libs json-c 2>/dev/null),-ljson-c)

TOOLS_CFLAGS := $(ASH_CFLAGS) -MMD -MP

ASHCTL := $(BUILD)/bin/ashctl
ASHCTL_SRCS := tools/ashctl/ashctl.c tools/ashctl/args.c \
	       tools/ashctl/ctl.c tools/ashctl/help.c \
	       tools/ashctl/partition.c tools/ashctl/show.c \
	       tools/ashctl/table.c tools/common/parse.c
ASHCTL_OBJS := $(ASHCTL_SRCS:%.c=$(BUILD)/obj/%.o)

DEMO_TENANT := $(BUILD)/bin/ash-demo-tenant
DEMO_SRCS := tools/demo-tenant/ash-demo-tenant.c tools/common/parse.c
DEMO_OBJS := $(DEMO_SRCS:%.c=$(BUILD)/obj/%.o)

.PHONY: install-tools

userspace: $(ASHCTL) $(DEMO_TENANT)
install: install-tools

$(BUILD)/obj/tools/%.o: tools/%.c tools/build.mk
	@mkdir -p $(@D)
	$(CC) $(TOOLS_CFLAGS) $(JSONC_CFLAGS) -c -o $@ $<

$(ASHCTL): $(ASHCTL_OBJS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(JSONC_LIBS)

# Linked with the static library so that the demo runs from the build tree
# or an initramfs without libaccelshare.so being installed.
$(DEMO_TENANT): $(DEMO_OBJS) $(LIB_STATIC)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(DEMO_OBJS) $(LIB_STATIC) -pthread

install-tools: $(ASHCTL)
	install -D -m 0755 $(ASHCTL) $(DESTDIR)$(PREFIX)/bin/ashctl

-include $(ASHCTL_OBJS:.o=.d) $(DEMO_OBJS:.o=.d)
