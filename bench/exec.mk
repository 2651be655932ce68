# SPDX-License-Identifier: MIT
# "make bench-exec": the execution path inside one VM run of the
# distribution kernel (bench/exec-run.sh): a null job's round trip through
# driver and engine against a pipe ping-pong, a 512^3 GEMM through the whole
# stack against cblas_sgemm called directly, and the share error at weights
# 1:2:4 and 1:10, and 4 tenants' small jobs per second against the engine's
# backend called directly.  BENCH_KERNEL=debug uses the debug kernel.  Included by
# the top-level Makefile; uses its BUILD, CC, ASH_CFLAGS, LDFLAGS, the
# userspace target and VM_RUNAS from tests/vm/build.mk.

EXEC_BENCH := $(BUILD)/bench/exec_bench

.PHONY: bench-exec

# The engine's job runner and CPU backend are built in, for the baseline of
# the job-throughput row.
EXEC_BENCH_ENGINE := runtime/engine/run.c runtime/engine/cpu/ops.c \
		     runtime/engine/cpu/mem.c \
		     runtime/ops/optable.c

$(EXEC_BENCH): bench/exec_bench.c tests/vm/lib/vmtest.c tests/vm/lib/vmtest.h \
	       tests/vm/lib/vtexec.h include/accelshare.h \
	       include/uapi/accelshare.h $(EXEC_BENCH_ENGINE) \
	       runtime/engine/backend.h bench/exec.mk | userspace
	@mkdir -p $(@D)
	$(CC) $(ASH_CFLAGS) -Itests/vm/lib -o $@ bench/exec_bench.c \
		tests/vm/lib/vmtest.c $(EXEC_BENCH_ENGINE) -L$(BUILD)/lib \
		-laccelshare -lopenblas -lpthread -lm $(LDFLAGS)

bench-exec: userspace $(EXEC_BENCH) $(VM_RUNAS)
	BUILD=$(BUILD) EXEC_BENCH=$(EXEC_BENCH) bench/exec-run.sh
