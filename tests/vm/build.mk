# VM integration tests: boot the distribution kernel and the debug kernel
# under qemu with a busybox initramfs holding the module, the runtime, the
# tools and the test cases.  See tests/vm/README.md.
#
#   make vm-test                every kernel (distro 6.1, distro612 6.12, then
#                               debug)
#   make vm-test-distro         one kernel
#   make vm-test-distro612
#   make vm-test-debug
#   make vm-test CASES="a b"    only these cases
#   make demo                   the three-organization demo (distro kernel)
#   make soak [DURATION=300] [KERNEL=debug|distro]
#                               the soak case alone (tests/vm/cases/soak.c)
#
# Included by the top-level Makefile: uses BUILD, CC, ASH_CFLAGS, LDFLAGS and
# the userspace target.

VM_CASE_SRCS := $(sort $(wildcard tests/vm/cases/*.c))
# Cases that also run, as NAME_engine_owned, on a device whose memory an
# engine with the cpu backend owns and registered (-DVT_ENGINE_OWNED; see
# tests/vm/lib/vmtest.h): the same quotas, guarantees, shares and staged
# loads must hold there.
VM_ENGINE_OWNED_CASES := quota_min_guarantee quota_exact_fit_and_sizes \
			 quota_concurrent_cap sched_shares_weighted \
			 model_load_staged model_runner
VM_CASE_BINS := $(patsubst tests/vm/cases/%.c,$(BUILD)/vm/cases/%,$(VM_CASE_SRCS)) \
		$(VM_ENGINE_OWNED_CASES:%=$(BUILD)/vm/cases/%_engine_owned)
VM_LIB_SRCS  := $(wildcard tests/vm/lib/*.c)
VM_LIB_HDRS  := $(wildcard tests/vm/lib/*.h)
VM_RUNAS     := $(BUILD)/vm/bin/runas
VM_RUN        = tests/vm/run.sh --build $(BUILD) $(if $(CASES),--cases "$(CASES)")

.PHONY: vm-cases vm-test-distro vm-test-distro612 vm-test-debug \
	vm-module-distro vm-module-distro612 vm-module-debug \
	soak

vm-cases: $(VM_CASE_BINS) $(VM_RUNAS) runner-refs

$(BUILD)/vm/cases/%: tests/vm/cases/%.c $(VM_LIB_SRCS) $(VM_LIB_HDRS) \
		include/accelshare.h include/uapi/accelshare.h | userspace
	@mkdir -p $(@D)
	$(CC) $(ASH_CFLAGS) -Itests/vm/lib -o $@ $< $(VM_LIB_SRCS) \
		-L$(BUILD)/lib -laccelshare -lpthread -lm $(LDFLAGS)

$(BUILD)/vm/cases/%_engine_owned: tests/vm/cases/%.c $(VM_LIB_SRCS) $(VM_LIB_HDRS) \
		include/accelshare.h include/uapi/accelshare.h | userspace
	@mkdir -p $(@D)
	$(CC) $(ASH_CFLAGS) -DVT_ENGINE_OWNED -Itests/vm/lib -o $@ $< \
		$(VM_LIB_SRCS) -L$(BUILD)/lib -laccelshare -lpthread -lm $(LDFLAGS)

$(VM_RUNAS): tests/vm/runas.c
	@mkdir -p $(@D)
	$(CC) $(ASH_CFLAGS) -o $@ $< $(LDFLAGS)

# The module alone, built in its own copy for each kernel.
vm-module-distro vm-module-distro612 vm-module-debug: vm-module-%:
	tests/vm/build-module.sh $* $(BUILD)/kmod/$*

vm-test-distro vm-test-distro612 vm-test-debug: vm-test-%: userspace vm-cases
	$(VM_RUN) --kernel $*

# Every kernel even if one fails; the last line sums the runs.
VM_KERNELS := distro distro612 debug
vm-test: userspace vm-cases
	@rc=0; \
	for k in $(VM_KERNELS); do $(VM_RUN) --kernel $$k || rc=1; done; \
	tests/vm/summary.sh $(foreach k,$(VM_KERNELS),$(BUILD)/vm/$(k)/results.txt) || rc=1; \
	exit $$rc

demo:
	BUILD=$(BUILD) MAKE="$(MAKE)" scripts/demo.sh

# The soak: only the soak case, for DURATION seconds (default 300), on the
# debug kernel by default (KASAN, lockdep and kmemleak watch the whole run;
# 300 s plus boot and the final kmemleak scan take about 6 minutes).  The
# case's own limit and the VM's are raised to fit the duration unless
# ASH_VM_CASE_TIMEOUT / ASH_VM_TIMEOUT are set.
DURATION ?= 300
KERNEL   ?= debug
soak: userspace $(BUILD)/vm/cases/soak $(VM_RUNAS)
	ASH_TEST_SOAK_SECONDS=$(DURATION) \
	ASH_VM_CASE_TIMEOUT=$${ASH_VM_CASE_TIMEOUT:-$$(( $(DURATION) + 600 ))} \
	ASH_VM_TIMEOUT=$${ASH_VM_TIMEOUT:-$$(( $(DURATION) + 1200 ))} \
	tests/vm/run.sh --build $(BUILD) --kernel $(KERNEL) --cases soak
