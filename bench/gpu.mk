# SPDX-License-Identifier: MIT
# "make bench-gpu": the cuda backend against cuBLAS and cudaMemcpy called
# directly, natively on the first GPU (bench/gpu_bench.cu).  Built wherever
# nvcc is; without a GPU it prints why it skipped.  Included by the
# top-level Makefile; uses CUDA_PLUGIN, NVCC and CUDA_HOME from
# runtime/engine/engine.mk.

GPU_BENCH := $(BUILD)/bench/gpu_bench

.PHONY: bench-gpu

ifneq ($(CUDA_PLUGIN),)
# The engine's job runner and the op table, as the engine runs a job.
GPU_BENCH_C := runtime/engine/run.c runtime/ops/optable.c
GPU_BENCH_OBJS := $(GPU_BENCH_C:%.c=$(BUILD)/bench/obj/%.o)

$(BUILD)/bench/obj/%.o: %.c bench/gpu.mk | build-deps
	@mkdir -p $(@D)
	$(CC) $(ASH_CFLAGS) -c -o $@ $<

$(GPU_BENCH): bench/gpu_bench.cu $(GPU_BENCH_OBJS) runtime/engine/backend.h bench/gpu.mk
	@mkdir -p $(@D)
	$(NVCC) -std=c++17 -O2 -Iinclude -Xcompiler -Wall,-Wextra,-Werror \
		-o $@ bench/gpu_bench.cu $(GPU_BENCH_OBJS) -ldl \
		-L$(CUDA_HOME)/lib64 -lcublas -Xlinker -rpath,$(CUDA_HOME)/lib64

bench-gpu: $(GPU_BENCH) $(CUDA_PLUGIN)
	$(GPU_BENCH) $(CUDA_PLUGIN)
else
bench-gpu:
	@echo "gpu bench: skipped (no nvcc at $(NVCC): the cuda backend is not built)"
endif
