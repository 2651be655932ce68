# SPDX-License-Identifier: MIT
# libaccelshare: shared and static library, pkg-config file, install.
# Included by the top-level Makefile; uses its BUILD, ASH_CFLAGS, VERSION,
# SOVERSION, PREFIX and DESTDIR.

RT_SRCS := runtime/context.c runtime/buffer.c runtime/ioctl.c \
	   runtime/ops/optable.c \
	   runtime/exec.c runtime/cmdbuf.c \
	   $(sort $(wildcard runtime/model/*.c))
# Libraries libaccelshare itself uses: json-c (safetensors headers, BERT's
# config.json), liburing (weight streaming), libnuma (loader memory and
# threads on the device's node), libm (the model runner).  The same list is
# Libs.private in accelshare.pc.
RT_LIBS := -ljson-c -luring -lnuma -lpthread -lm
# The shared library's objects are position independent; the static one's
# need not be.
RT_PIC_OBJS := $(RT_SRCS:%.c=$(BUILD)/obj/pic/%.o)
RT_OBJS := $(RT_SRCS:%.c=$(BUILD)/obj/%.o)
RT_MAP := runtime/libaccelshare.map

LIB_SONAME := libaccelshare.so.$(SOVERSION)
LIB_SHARED := $(BUILD)/lib/libaccelshare.so.$(VERSION)
LIB_LINKS := $(BUILD)/lib/$(LIB_SONAME) $(BUILD)/lib/libaccelshare.so
LIB_STATIC := $(BUILD)/lib/libaccelshare.a
LIB_PC := $(BUILD)/accelshare.pc

# The version script decides what the shared library exports.
RT_CFLAGS := $(ASH_CFLAGS) -pthread -MMD -MP

.PHONY: install-runtime uninstall-runtime

userspace: $(LIB_SHARED) $(LIB_LINKS) $(LIB_STATIC) $(LIB_PC)
install: install-runtime
uninstall: uninstall-runtime

# Objects depend on this file too: it holds their flags.
$(BUILD)/obj/pic/runtime/%.o: runtime/%.c runtime/build.mk | build-deps
	@mkdir -p $(@D)
	$(CC) $(RT_CFLAGS) -fPIC -c -o $@ $<

$(BUILD)/obj/runtime/%.o: runtime/%.c runtime/build.mk | build-deps
	@mkdir -p $(@D)
	$(CC) $(RT_CFLAGS) -c -o $@ $<

# -z defs: an undefined symbol is a link error here, not a tenant's
# surprise at load time.
$(LIB_SHARED): $(RT_PIC_OBJS) $(RT_MAP)
	@mkdir -p $(@D)
	$(CC) -shared -pthread -Wl,-soname,$(LIB_SONAME) \
		-Wl,--version-script=$(RT_MAP) -Wl,-z,defs $(LDFLAGS) \
		-o $@ $(RT_PIC_OBJS) $(RT_LIBS)

$(BUILD)/lib/$(LIB_SONAME): $(LIB_SHARED)
	ln -sf $(notdir $<) $@

$(BUILD)/lib/libaccelshare.so: $(BUILD)/lib/$(LIB_SONAME)
	ln -sf $(notdir $<) $@

$(LIB_STATIC): $(RT_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

# PREFIX is baked into the file: rewrite it whenever the text would change
# (another PREFIX), and only then, so that nothing depending on it rebuilds.
$(LIB_PC): runtime/accelshare.pc.in FORCE
	@mkdir -p $(@D)
	@sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' \
		-e 's|@LIBS_PRIVATE@|$(RT_LIBS)|g' \
		$< > $@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; \
	 else mv -f $@.tmp $@; echo "  GEN     $@"; fi

.PHONY: FORCE
FORCE:

install-runtime: $(LIB_SHARED) $(LIB_STATIC) $(LIB_PC)
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig \
		$(DESTDIR)$(PREFIX)/include/linux
	install -m 0755 $(LIB_SHARED) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libaccelshare.so.$(VERSION) \
		$(DESTDIR)$(PREFIX)/lib/$(LIB_SONAME)
	ln -sf $(LIB_SONAME) $(DESTDIR)$(PREFIX)/lib/libaccelshare.so
	install -m 0644 $(LIB_STATIC) $(DESTDIR)$(PREFIX)/lib/
	install -m 0644 $(LIB_PC) $(DESTDIR)$(PREFIX)/lib/pkgconfig/
	install -m 0644 include/accelshare.h $(DESTDIR)$(PREFIX)/include/
	install -m 0644 include/uapi/accelshare.h \
		$(DESTDIR)$(PREFIX)/include/linux/accelshare.h
	install -m 0644 include/uapi/accelshare_ops.h \
		$(DESTDIR)$(PREFIX)/include/linux/accelshare_ops.h

uninstall-runtime:
	rm -f $(DESTDIR)$(PREFIX)/lib/libaccelshare.so.$(VERSION) \
		$(DESTDIR)$(PREFIX)/lib/$(LIB_SONAME) \
		$(DESTDIR)$(PREFIX)/lib/libaccelshare.so \
		$(DESTDIR)$(PREFIX)/lib/libaccelshare.a \
		$(DESTDIR)$(PREFIX)/lib/pkgconfig/accelshare.pc \
		$(DESTDIR)$(PREFIX)/include/accelshare.h \
		$(DESTDIR)$(PREFIX)/include/linux/accelshare.h \
		$(DESTDIR)$(PREFIX)/include/linux/accelshare_ops.h

-include $(RT_PIC_OBJS:.o=.d) $(RT_OBJS:.o=.d)
