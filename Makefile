# accelshare - build, install and test.
#
#   make                      module, runtime library, tools
#   make install DESTDIR=DIR  stage an install under DIR (depmod included)
#   make uninstall [DESTDIR=DIR]  remove what make install put there
#   make test                 every test suite (host unit tests, VM suite on
#                             the distribution and the debug kernel)
#   make lint                 checkpatch, sparse, W=1, cppcheck
#   make bench                loader and execution benchmarks (ratios)
#   make demo                 boot a VM and show three organizations sharing
#   make soak                 the soak in a VM (DURATION=300 s, KERNEL=debug)
#   make fuzz-kernel          the kernel ioctl fuzzer in a VM (DURATION, SEED)
#   make clean
#
# Variables: KDIR (kernel build tree for the module), BUILD (userspace build
# output, default build/), PREFIX (default /usr), CC, CPPFLAGS, CFLAGS,
# LDFLAGS.

# The version, from the macros of include/accelshare.h (its one source).
ash_version_part = $(shell sed -n 's/^\#define ACCELSHARE_VERSION_$(1)[[:space:]]*\([0-9]*\)$$/\1/p' include/accelshare.h)
VERSION   := $(call ash_version_part,MAJOR).$(call ash_version_part,MINOR).$(call ash_version_part,PATCH)
SOVERSION := 0
PREFIX    ?= /usr
BUILD     ?= build

# The running kernel's build tree, else the newest installed headers.
KDIR ?= $(firstword $(wildcard /lib/modules/$(shell uname -r)/build) \
	  $(shell ls -d /lib/modules/*/build 2>/dev/null | sort -V | tail -n 1))
# The release the module is built for: what its vermagic says and where
# modprobe looks (UTS_RELEASE; Debian's headers answer "make kernelrelease"
# with the upstream version instead, 6.1.192 for 6.1.0-57-cloud-amd64).
KVER = $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"$$/\1/p' \
	 $(KDIR)/include/generated/utsrelease.h 2>/dev/null)
# The module to install: the one "make module" builds, or one built
# elsewhere for KDIR (tests/vm/run.sh stages the VM's).
MODULE_KO ?= accelshare.ko

CC      ?= cc
CFLAGS  ?= -O2 -g
# Flags every userspace object is built with; CFLAGS stays the user's.
ASH_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
	      -Wstrict-prototypes -Wmissing-prototypes -Iinclude \
	      $(CPPFLAGS) $(CFLAGS)
SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all \
	    -fno-omit-frame-pointer

.PHONY: all build-deps module userspace install install-module install-docs \
	install-system install-man install-dkms uninstall-dkms deb deb-test uninstall uninstall-module uninstall-system test unit-test install-test vm-test lint bench demo \
	deps clean
.DEFAULT_GOAL := all

all: module userspace

# make without the build packages says which to install, instead of
# failing on a missing header.
build-deps:
	@scripts/deps.sh --check build

module:
	@test -d "$(KDIR)" || { echo "make: no kernel build tree (KDIR=$(KDIR)); install linux-headers or set KDIR" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

# depmod with -b for a staged install, where the kernel's own module lists
# are missing (its warnings about them say nothing then).
depmod = depmod $(if $(DESTDIR),-b $(DESTDIR)) $(KVER) 2>&1 | \
	 { grep -v 'could not open modules\.\(order\|builtin\)' >&2 || true; }

install-module: $(if $(filter accelshare.ko,$(MODULE_KO)),module)
	@test -n "$(KVER)" || { echo "make: cannot read the kernel release from $(KDIR)/include/generated/utsrelease.h; set KDIR" >&2; exit 1; }
	install -D -m 0644 $(MODULE_KO) $(DESTDIR)/lib/modules/$(KVER)/extra/accelshare.ko
	@$(depmod)

uninstall-module:
	@test -n "$(KVER)" || { echo "make: cannot read the kernel release from $(KDIR)/include/generated/utsrelease.h; set KDIR" >&2; exit 1; }
	rm -f $(DESTDIR)/lib/modules/$(KVER)/extra/accelshare.ko
	-rmdir $(DESTDIR)/lib/modules/$(KVER)/extra 2>/dev/null
	@if [ -d $(DESTDIR)/lib/modules/$(KVER) ]; then $(depmod); fi

DOCDIR := $(PREFIX)/share/doc/accelshare
install-docs:
	install -d $(DESTDIR)$(DOCDIR)
	install -m 0644 README.md docs/*.md $(DESTDIR)$(DOCDIR)/

# The engine's unit (one instance per device), the module loaded at boot,
# and its parameters (a conffile: an edited one is left alone).
SYSTEMDUNITDIR ?= /lib/systemd/system
MODPROBE_CONF := $(DESTDIR)/etc/modprobe.d/accelshare.conf
install-system:
	install -D -m 0644 packaging/systemd/accelshare-engine@.service \
		$(DESTDIR)$(SYSTEMDUNITDIR)/accelshare-engine@.service
	install -D -m 0644 packaging/systemd/accelshare-engine-owned@.service \
		$(DESTDIR)$(SYSTEMDUNITDIR)/accelshare-engine-owned@.service
	install -D -m 0644 packaging/systemd/accelshare-apply.service \
		$(DESTDIR)$(SYSTEMDUNITDIR)/accelshare-apply.service
	install -D -m 0644 packaging/systemd/accelshare-accountd.service \
		$(DESTDIR)$(SYSTEMDUNITDIR)/accelshare-accountd.service
	install -D -m 0644 packaging/modules-load.d/accelshare.conf \
		$(DESTDIR)$(PREFIX)/lib/modules-load.d/accelshare.conf
	@test -e $(MODPROBE_CONF) || \
		install -D -m 0644 packaging/modprobe.d/accelshare.conf $(MODPROBE_CONF)

uninstall-system:
	rm -f $(DESTDIR)$(SYSTEMDUNITDIR)/accelshare-engine@.service \
		$(DESTDIR)$(SYSTEMDUNITDIR)/accelshare-engine-owned@.service \
		$(DESTDIR)$(SYSTEMDUNITDIR)/accelshare-apply.service \
		$(DESTDIR)$(SYSTEMDUNITDIR)/accelshare-accountd.service \
		$(DESTDIR)$(PREFIX)/lib/modules-load.d/accelshare.conf
	@if cmp -s packaging/modprobe.d/accelshare.conf $(MODPROBE_CONF); then \
		rm -f $(MODPROBE_CONF); \
	elif [ -e $(MODPROBE_CONF) ]; then \
		echo "make: $(MODPROBE_CONF) was edited: left in place" >&2; \
	fi

# The module's source for DKMS (packaging/dkms/dkms.conf.in), which
# rebuilds it for every kernel installed: not part of make install, which
# installs the module built here.
DKMS_SRC := $(DESTDIR)/usr/src/accelshare-$(VERSION)
install-dkms:
	install -d $(DKMS_SRC)/driver $(DKMS_SRC)/include/uapi
	install -m 0644 Kbuild $(DKMS_SRC)/
	install -m 0644 driver/*.c driver/*.h $(DKMS_SRC)/driver/
	install -m 0644 include/uapi/*.h $(DKMS_SRC)/include/uapi/
	sed 's|@VERSION@|$(VERSION)|' packaging/dkms/dkms.conf.in > $(DKMS_SRC)/dkms.conf

uninstall-dkms:
	rm -rf $(DKMS_SRC)

MANDIR := $(PREFIX)/share/man
install-man:
	@scripts/man.sh install $(DESTDIR)$(MANDIR)

install: install-module install-docs install-system install-man
uninstall: uninstall-module uninstall-system
	rm -rf $(DESTDIR)$(DOCDIR)
	@scripts/man.sh uninstall $(DESTDIR)$(MANDIR)

# Debian packages (debian/): accelshare-dkms, libaccelshare0,
# libaccelshare-dev, accelshare-tools.  dpkg-buildpackage runs in a copy of
# the tree (it writes the .debs beside the tree it builds), then lintian
# checks them, failing on errors and warnings (the tags left are explained
# in debian/*.lintian-overrides).
DEB_DIR := $(BUILD)/deb
deb:
	@scripts/deps.sh --check deb
	rm -rf $(DEB_DIR)
	mkdir -p $(DEB_DIR)/accelshare-$(VERSION)
	git ls-files -z --cached --others --exclude-standard | \
		tar --null -T - -cf - | tar -xf - -C $(DEB_DIR)/accelshare-$(VERSION)
	cd $(DEB_DIR)/accelshare-$(VERSION) && \
		dpkg-buildpackage --build=binary --no-sign -j$$(nproc) >../build.log 2>&1 || \
		{ tail -n 40 ../build.log >&2; exit 1; }
	lintian --fail-on error,warning \
		$(DEB_DIR)/accelshare_$(VERSION)_*.changes
	@ls $(DEB_DIR)/*.deb

# Debian packages the build and the tests need; installs what is missing.
deps:
	@scripts/deps.sh

# Every suite runs even if an earlier one failed; the last line is the total.
test: deps
	@rc=0; \
	$(MAKE) --no-print-directory unit-test || rc=1; \
	$(MAKE) --no-print-directory fuzz-smoke || rc=1; \
	$(MAKE) --no-print-directory metrics-test || rc=1; \
	$(MAKE) --no-print-directory install-test || rc=1; \
	$(MAKE) --no-print-directory deb-test || rc=1; \
	$(MAKE) --no-print-directory vm-test || rc=1; \
	scripts/test-summary.sh $(BUILD) || rc=1; \
	exit $$rc

# make install and uninstall into a staging directory (tests/install/).
install-test: all
	@tests/install/check-install.sh $(BUILD)

# make deb's packages, installed into a fresh Debian 12 (tests/install/).
deb-test:
	@tests/install/check-deb.sh $(BUILD)

lint: deps
	@scripts/lint.sh $(BUILD)

# Benchmarks print ratios against baselines measured in the same run.
bench: deps
	$(MAKE) --no-print-directory bench-loader
	$(MAKE) --no-print-directory bench-exec
	$(MAKE) --no-print-directory bench-runner
	$(MAKE) --no-print-directory bench-gpu

clean::
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null || true
	rm -rf $(BUILD)

# Each component adds its own targets and hooks itself into userspace,
# install, unit-test and vm-test.
include runtime/build.mk
include runtime/engine/engine.mk
include runtime/accountd/accountd.mk
include tools/build.mk
include tests/python/python.mk
include tests/unit/build.mk
include tests/metrics/metrics.mk
include tests/vm/build.mk
include tests/fuzz/fuzz.mk
include bench/bench.mk
include bench/exec.mk
include bench/gpu.mk
include bench/runner.mk
include examples/build.mk
