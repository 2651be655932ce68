# SPDX-License-Identifier: MIT
# ashctl, ash-demo-tenant, ash-model and ash-run.  Included by the top-level Makefile;
# uses its BUILD, ASH_CFLAGS, PREFIX and DESTDIR, and LIB_STATIC and RT_LIBS
# from runtime/build.mk.

JSONC_CFLAGS := $(shell pkg-config --cflags json-c 2>/dev/null)
JSONC_LIBS := $(or $(shell pkg-config --libs json-c 2>/dev/null),-ljson-c)
INIH_CFLAGS := $(shell pkg-config --cflags inih 2>/dev/null)
INIH_LIBS := $(or $(shell pkg-config --libs inih 2>/dev/null),-linih)

TOOLS_CFLAGS := $(ASH_CFLAGS) -MMD -MP

ASHCTL := $(BUILD)/bin/ashctl
ASHCTL_SRCS := tools/ashctl/ashctl.c tools/ashctl/apply.c tools/ashctl/args.c \
	       tools/ashctl/cdi.c tools/ashctl/cdi_spec.c tools/ashctl/conf.c \
	       tools/ashctl/ctl.c tools/ashctl/help.c tools/ashctl/json_out.c \
	       tools/ashctl/partition.c tools/ashctl/show.c \
	       tools/ashctl/table.c tools/ashctl/top.c tools/ashctl/top_view.c \
	       tools/ashctl/usage.c tools/ashctl/audit.c tools/common/parse.c
# The usage ledger's reader is accelshare-accountd's own (accountd.mk).
ASHCTL_OBJS := $(ASHCTL_SRCS:%.c=$(BUILD)/obj/%.o) \
	       $(BUILD)/obj/accountd/runtime/accountd/ledger.o

DEMO_TENANT := $(BUILD)/bin/ash-demo-tenant
DEMO_SRCS := tools/demo-tenant/ash-demo-tenant.c tools/common/parse.c
DEMO_OBJS := $(DEMO_SRCS:%.c=$(BUILD)/obj/%.o)

ASH_MODEL := $(BUILD)/bin/ash-model
ASH_MODEL_SRCS := tools/model/ash-model.c tools/common/parse.c
ASH_MODEL_OBJS := $(ASH_MODEL_SRCS:%.c=$(BUILD)/obj/%.o)

ASH_RUN := $(BUILD)/bin/ash-run
ASH_RUN_SRCS := tools/run/ash-run.c tools/common/parse.c
ASH_RUN_OBJS := $(ASH_RUN_SRCS:%.c=$(BUILD)/obj/%.o)

.PHONY: install-tools uninstall-tools

userspace: $(ASHCTL) $(DEMO_TENANT) $(ASH_MODEL) $(ASH_RUN)
install: install-tools
uninstall: uninstall-tools

$(BUILD)/obj/tools/%.o: tools/%.c tools/build.mk | build-deps
	@mkdir -p $(@D)
	$(CC) $(TOOLS_CFLAGS) $(JSONC_CFLAGS) $(INIH_CFLAGS) -c -o $@ $<

$(BUILD)/obj/tools/ashctl/usage.o $(BUILD)/obj/tools/ashctl/audit.o: \
	TOOLS_CFLAGS += -Iruntime/accountd -Itools/common

$(ASHCTL): $(ASHCTL_OBJS)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(JSONC_LIBS) $(INIH_LIBS) $(SQLITE_LIBS) $(CRYPTO_LIBS)

# Linked with the static library so that the demo runs from the build tree
# or an initramfs without libaccelshare.so being installed.
$(DEMO_TENANT): $(DEMO_OBJS) $(LIB_STATIC)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(DEMO_OBJS) $(LIB_STATIC) $(RT_LIBS)

# Static too, and it uses the library's header parser (runtime/model/
# format.h), which the shared library does not export.
$(ASH_MODEL): $(ASH_MODEL_OBJS) $(LIB_STATIC)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(ASH_MODEL_OBJS) $(LIB_STATIC) $(RT_LIBS)

# Static, as the demo tenant: it runs in the initramfs of the VM tests.
$(ASH_RUN): $(ASH_RUN_OBJS) $(LIB_STATIC)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(ASH_RUN_OBJS) $(LIB_STATIC) $(RT_LIBS)

install-tools: $(ASHCTL) $(ASH_MODEL) $(ASH_RUN)
	install -D -m 0755 $(ASHCTL) $(DESTDIR)$(PREFIX)/bin/ashctl
	install -D -m 0755 $(ASH_MODEL) $(DESTDIR)$(PREFIX)/bin/ash-model
	install -D -m 0755 $(ASH_RUN) $(DESTDIR)$(PREFIX)/bin/ash-run

uninstall-tools:
	rm -f $(DESTDIR)$(PREFIX)/bin/ashctl $(DESTDIR)$(PREFIX)/bin/ash-model \
	      $(DESTDIR)$(PREFIX)/bin/ash-run

-include $(ASHCTL_OBJS:.o=.d) $(DEMO_OBJS:.o=.d) $(ASH_MODEL_OBJS:.o=.d) \
	 $(ASH_RUN_OBJS:.o=.d)
