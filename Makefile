# accelshare - build, install and test.
#
#   make                      module, runtime library, tools
#   make install DESTDIR=DIR  stage an install under DIR
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
# output, default build/), PREFIX (default /usr), CC, CFLAGS, LDFLAGS.

VERSION   := 0.1.0
SOVERSION := 0
PREFIX    ?= /usr
BUILD     ?= build

# The running kernel's build tree, else the newest installed headers.
KDIR ?= $(firstword $(wildcard /lib/modules/$(shell uname -r)/build) \
	  $(shell ls -d /lib/modules/*/build 2>/dev/null | sort -V | tail -n 1))
KVER  = $(shell $(MAKE) -s -C $(KDIR) kernelrelease 2>/dev/null)

CC      ?= cc
CFLAGS  ?= -O2 -g
# Flags every userspace object is built with; CFLAGS stays the user's.
ASH_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
	      -Wstrict-prototypes -Wmissing-prototypes -Iinclude \
	      $(CFLAGS)
SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all \
	    -fno-omit-frame-pointer

.PHONY: all module userspace install install-module test unit-test vm-test \
	lint bench demo deps clean
.DEFAULT_GOAL := all

all: module userspace

module:
	@test -d "$(KDIR)" || { echo "make: no kernel build tree (KDIR=$(KDIR)); install linux-headers or set KDIR" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

install-module: module
	install -D -m 0644 accelshare.ko $(DESTDIR)/lib/modules/$(KVER)/extra/accelshare.ko

install: install-module

# Debian packages the build and the tests need; installs what is missing.
deps:
	@scripts/deps.sh

# Every suite runs even if an earlier one failed; the last line is the total.
test: deps
	@rc=0; \
	$(MAKE) --no-print-directory unit-test || rc=1; \
	$(MAKE) --no-print-directory fuzz-smoke || rc=1; \
	$(MAKE) --no-print-directory vm-test || rc=1; \
	scripts/test-summary.sh $(BUILD) || rc=1; \
	exit $$rc

lint: deps
	@scripts/lint.sh $(BUILD)

# Benchmarks print ratios against baselines measured in the same run.
bench: deps
	$(MAKE) --no-print-directory bench-loader
	$(MAKE) --no-print-directory bench-exec

clean::
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null || true
	rm -rf $(BUILD)

# Each component adds its own targets and hooks itself into userspace,
# install, unit-test and vm-test.
include runtime/build.mk
include runtime/engine/engine.mk
include tools/build.mk
include tests/unit/build.mk
include tests/vm/build.mk
include tests/fuzz/fuzz.mk
include bench/bench.mk
include bench/exec.mk
