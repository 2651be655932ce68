// SPDX-License-Identifier: MIT
/*
 * The cuda backend against CUDA called directly, on the first GPU, natively
 * (no module: the backend is driven as the engine drives it, through
 * ash_engine_run_job(), with the op table's checks and the job's
 * synchronisation):
 *   - GEMM 4096^3 with f32, f16 and bf16 inputs (f32 accumulation) through
 *     the backend, against cublasGemmEx with the same arguments;
 *   - a 256 MiB copy from staging memory (pageable host memory, as the
 *     engine's mapping of staging buffers is) into device memory through
 *     the backend's COPY, against cudaMemcpy from pinned memory.
 * Each figure is the median of 7 runs after a warm-up; the ratio is the
 * backend's time over the baseline's (1.00: no overhead).  Without a GPU
 * it says why and exits 0.
 *
 *   gpu_bench PLUGIN    the path of accelshare-backend-cuda.so
 */
#include <algorithm>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <vector>

#include <cublas_v2.h>
#include <cuda_runtime.h>

extern "C" {
#include "../runtime/engine/backend.h"
}

namespace {

const int RUNS = 7;
const uint32_t N = 4096;
const uint64_t COPY = 256ull << 20;

double now_s()
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

double median(std::vector<double> v)
{
	std::sort(v.begin(), v.end());
	return v[v.size() / 2];
}

void operand(struct ash_command *c, uint32_t flags, uint64_t off, uint64_t len)
{
	struct ash_operand *o = &c->operands[c->nr_operands++];

	o->flags = flags;
	o->offset = off;
	o->length = len;
}

/* One job of one command through the backend, as the engine runs it. */
double through_backend(struct ash_job_run *r, const struct ash_command *c)
{
	uint32_t failed;
	uint64_t cost;
	double t0 = now_s();

	if (ash_engine_run_job(r, c, 1, &failed, &cost)) {
		fprintf(stderr, "gpu_bench: the backend failed the job\n");
		exit(1);
	}
	return now_s() - t0;
}

} /* namespace */

int main(int argc, char **argv)
{
	const struct ash_backend *be;
	struct ash_backend_mem mem = {};
	struct ash_gpu_desc desc = {};
	struct ash_job_run run = {};
	char why[256];
	void *h;

	if (argc != 2) {
		fprintf(stderr, "usage: gpu_bench PLUGIN\n");
		return 2;
	}
	h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		printf("gpu bench: skipped: the cuda backend cannot load (%s)\n",
		       dlerror());
		return 0;
	}
	be = static_cast<const struct ash_backend *>(dlsym(h, ASH_BACKEND_SYMBOL));
	if (!be || be->open(0, &desc, why, sizeof(why))) {
		printf("gpu bench: skipped: %s\n", be ? why : "no backend symbol");
		return 0;
	}
	const uint64_t mat32 = (uint64_t)N * N * 4;
	const uint64_t arena = 3 * mat32 + COPY;
	if (be->mem_create(&mem, "bench", arena)) {
		fprintf(stderr, "gpu_bench: cannot allocate %llu MiB on the GPU\n",
			(unsigned long long)(arena >> 20));
		return 1;
	}
	uint8_t *staging = static_cast<uint8_t *>(aligned_alloc(4096, COPY));
	void *pinned;

	if (!staging || cudaMallocHost(&pinned, COPY) != cudaSuccess) {
		fprintf(stderr, "gpu_bench: out of host memory\n");
		return 1;
	}
	memset(staging, 1, COPY);
	memset(pinned, 1, COPY);
	run.be = be;
	run.space.arena = mem.base;
	run.space.arena_size = arena;
	run.space.host = staging;
	run.space.size = arena + COPY;

	cublasHandle_t blas;
	cudaStream_t stream;

	cudaStreamCreate(&stream);
	cublasCreate(&blas);
	cublasSetStream(blas, stream);
	cublasSetMathMode(blas, CUBLAS_PEDANTIC_MATH);
	/* Inputs: whatever the bytes are, finite (zero) is enough for time. */
	cudaMemset(mem.base, 0, 3 * mat32);
	cudaDeviceSynchronize();

	printf("gpu bench on %s (%s)\n", desc.model, desc.bus_id);
	printf("  %-34s %12s %12s %7s\n", "what", "backend", "baseline", "ratio");
	static const struct { uint32_t dtype; const char *name; cudaDataType_t t; } types[] = {
		{ ASH_OP_F32, "f32", CUDA_R_32F },
		{ ASH_OP_F16, "f16", CUDA_R_16F },
		{ ASH_OP_BF16, "bf16", CUDA_R_16BF },
	};
	for (const auto &t : types) {
		uint64_t in = (uint64_t)N * N * (t.dtype == ASH_OP_F32 ? 4 : 2);
		struct ash_gemm_params g = {};
		struct ash_command c = {};
		std::vector<double> a, b;
		float alpha = 1, beta = 0;

		g.m = g.n = g.k = N;
		g.dtype = t.dtype;
		g.alpha = 1.0f;
		c.opcode = ASH_OP_GEMM;
		operand(&c, ASH_OPERAND_WRITE, 0, mat32);
		operand(&c, ASH_OPERAND_READ, mat32, in);
		operand(&c, ASH_OPERAND_READ, 2 * mat32, in);
		c.params_size = sizeof(g);
		memcpy(c.params, &g, sizeof(g));
		through_backend(&run, &c);
		for (int i = 0; i < RUNS; i++)
			a.push_back(through_backend(&run, &c));
		for (int i = 0; i <= RUNS; i++) {
			double t0 = now_s();

			cublasGemmEx(blas, CUBLAS_OP_N, CUBLAS_OP_N, N, N, N,
				     &alpha, mem.base + 2 * mat32, t.t, N,
				     mem.base + mat32, t.t, N, &beta, mem.base,
				     CUDA_R_32F, N, CUBLAS_COMPUTE_32F,
				     CUBLAS_GEMM_DEFAULT);
			cudaStreamSynchronize(stream);
			if (i)
				b.push_back(now_s() - t0);
		}
		double ta = median(a), tb = median(b), flop = 2.0 * N * N * N;
		char what[64];

		snprintf(what, sizeof(what), "GEMM 4096^3 %s (TFLOP/s)", t.name);
		printf("  %-34s %12.1f %12.1f %7.2f\n", what, flop / ta / 1e12,
		       flop / tb / 1e12, ta / tb);
	}
	{
		struct ash_command c = {};
		std::vector<double> a, b;

		c.opcode = ASH_OP_COPY;
		operand(&c, ASH_OPERAND_WRITE, 3 * mat32, COPY);
		operand(&c, ASH_OPERAND_READ, arena, COPY);
		through_backend(&run, &c);
		for (int i = 0; i < RUNS; i++)
			a.push_back(through_backend(&run, &c));
		for (int i = 0; i <= RUNS; i++) {
			double t0 = now_s();

			cudaMemcpy(mem.base + 3 * mat32, pinned, COPY,
				   cudaMemcpyHostToDevice);
			if (i)
				b.push_back(now_s() - t0);
		}
		double ta = median(a), tb = median(b);

		printf("  %-34s %12.1f %12.1f %7.2f\n",
		       "staging -> device 256 MiB (GB/s)", COPY / ta / 1e9,
		       COPY / tb / 1e9, ta / tb);
	}
	be->mem_close(&mem);
	return 0;
}
