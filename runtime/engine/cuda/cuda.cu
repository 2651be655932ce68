// SPDX-License-Identifier: MIT
/*
 * The cuda backend: every op of the op table on an NVIDIA GPU, built as the
 * plugin accelshare-backend-cuda.so (runtime/engine/engine.mk) where nvcc
 * is, and loaded by the engine only for --backend cuda (backends.c).
 *
 * Device memory.  A registered device's memory is one VMM allocation
 * (cuMemCreate, mapped with cuMemMap) requested exportable as a POSIX file
 * descriptor: the descriptor goes to the driver, which holds it while the
 * device exists, and a restarted engine imports it back
 * (cuMemImportFromShareableHandle), so the memory and every tenant's bytes
 * outlive the engine.  Where the GPU or driver cannot export, the engine
 * registers without a descriptor and an engine's death loses the buffers.
 * New memory is cleared before it is registered; scrubs are cuMemsetD8.
 *
 * Operands.  Device addresses below the arena's size are GPU memory; the
 * rest are staging buffers, host pages of the engine's mapping of the
 * control node.  COPY and FILL take either (copies between host and GPU
 * are cudaMemcpyAsync from pageable memory); every other op needs its
 * operands in GPU memory and fails with -EOPNOTSUPP otherwise.
 *
 * Execution.  Two streams: copies between staging and GPU memory go on
 * one, everything else on the other, so that a job's copies overlap its
 * compute.  Order is kept where it matters: a command waits (on a CUDA
 * event) for every earlier command of the job on the other stream whose
 * ranges it conflicts with (either writes what the other touches).  The
 * job ends with a synchronisation of both (finish()), which reports the
 * first error and the job's device time, measured by CUDA events around
 * it.  A copy of 1 MiB or more from or to staging memory registers that
 * range with cuMemHostRegister for the job, so that it runs at PCIe speed
 * (registered per job: a staging range can belong to someone else after
 * the job), and falls back to a pageable copy where that fails.
 * GEMM is cublasGemmEx with f32 accumulation (CUBLAS_COMPUTE_32F: no TF32)
 * of f32, f16 or bf16 inputs, and a kernel of its own for weights of
 * another dtype than f32 activations (ASH_GEMM_A_F32: f16, bf16, Q8_0,
 * Q4_0), which it converts in place; the other ops are the kernels below,
 * compiled for sm_80 and sm_90 with PTX for later GPUs.  Reductions
 * (RMSNORM, LAYERNORM, SOFTMAX, ATTENTION's dot products and sums)
 * accumulate in double, and ROPE computes its angles in double, as the cpu
 * backend does: positions reach 10^5 and more.  ATTENTION keeps a query's
 * scores in shared memory, so its kv tokens are bounded by the GPU's shared
 * memory per block (about 57000 on an H100 or H200; -EOPNOTSUPP beyond).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda.h>
#include <cuda_runtime.h>

extern "C" {
#include "../backend.h"
}

namespace {

struct arena {
	CUmemGenericAllocationHandle handle;
	CUdeviceptr ptr;
	size_t alloc_size;
};

/* A command of the running job, for the ordering between the streams. */
struct cmd_rec {
	const uint8_t *p[ASH_CMD_MAX_OPERANDS];
	uint64_t len[ASH_CMD_MAX_OPERANDS];
	uint32_t flags[ASH_CMD_MAX_OPERANDS];
	uint32_t n;
	bool on_copy;
};

constexpr uint64_t PIN_MIN = 1 << 20;	/* copies worth registering */

/* What the backend holds once open() has run; one GPU per engine. */
struct gpu_state {
	bool open;
	CUdevice dev;
	cudaStream_t compute, copy;
	cublasHandle_t blas;
	cudaEvent_t start, stop, copies_done;
	cudaEvent_t ev[ASH_JOB_MAX_COMMANDS];
	bool timing;
	/* Arenas created or imported: what is GPU memory. */
	struct { uint8_t *base; uint64_t size; } arenas[4];
	int first_error;	/* of the job, from run() */
	/* The job's commands so far, and the staging ranges it pinned. */
	struct cmd_rec recs[ASH_JOB_MAX_COMMANDS];
	uint32_t nr_recs;
	void *pinned[ASH_JOB_MAX_COMMANDS];
	uint32_t nr_pinned;
} g;

int from_cuda(cudaError_t e)
{
	switch (e) {
	case cudaSuccess:
		return 0;
	case cudaErrorMemoryAllocation:
		return -ENOMEM;
	case cudaErrorInvalidValue:
		return -EINVAL;
	default:
		return -EIO;
	}
}

int from_cu(CUresult r)
{
	switch (r) {
	case CUDA_SUCCESS:
		return 0;
	case CUDA_ERROR_OUT_OF_MEMORY:
		return -ENOMEM;
	case CUDA_ERROR_INVALID_VALUE:
		return -EINVAL;
	case CUDA_ERROR_NOT_SUPPORTED:
		return -EOPNOTSUPP;
	default:
		return -EIO;
	}
}

int from_blas(cublasStatus_t s)
{
	return s == CUBLAS_STATUS_SUCCESS ? 0 :
	       s == CUBLAS_STATUS_ALLOC_FAILED ? -ENOMEM : -EIO;
}

bool on_gpu(const void *p, uint64_t len)
{
	const uint8_t *q = static_cast<const uint8_t *>(p);

	for (const auto &a : g.arenas)
		if (a.base && q >= a.base && len <= a.size &&
		    (uint64_t)(q - a.base) <= a.size - len)
			return true;
	return false;
}

void arena_note(uint8_t *base, uint64_t size)
{
	for (auto &a : g.arenas)
		if (!a.base) {
			a.base = base;
			a.size = size;
			return;
		}
}

void arena_forget(uint8_t *base)
{
	for (auto &a : g.arenas)
		if (a.base == base)
			a.base = nullptr;
}

/* The PCI device's NUMA node from sysfs, -1 if unknown. */
int pci_numa_node(const char *bus_id)
{
	char path[128];
	FILE *f;
	int node = -1;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/numa_node",
		 bus_id);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%d", &node) != 1)
		node = -1;
	fclose(f);
	return node < 0 ? -1 : node;
}

int cuda_open(unsigned int gpu, struct ash_gpu_desc *desc, char *why,
	      size_t why_len)
{
	cudaDeviceProp prop;
	CUresult r;
	int n = 0, vmm = 0;

	r = cuInit(0);
	if (r != CUDA_SUCCESS) {
		const char *s = nullptr;

		cuGetErrorString(r, &s);
		snprintf(why, why_len,
			 "--backend cuda: no usable NVIDIA GPU here (cuInit: %s).",
			 s ? s : "unknown error");
		return -ENODEV;
	}
	if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) {
		snprintf(why, why_len, "--backend cuda: this host has no NVIDIA GPU.");
		return -ENODEV;
	}
	if ((int)gpu >= n) {
		snprintf(why, why_len,
			 "--gpu %u: this host has %d NVIDIA GPU%s (0..%d).", gpu,
			 n, n == 1 ? "" : "s", n - 1);
		return -ENODEV;
	}
	if (cudaSetDevice((int)gpu) != cudaSuccess ||
	    cudaGetDeviceProperties(&prop, (int)gpu) != cudaSuccess ||
	    cuDeviceGet(&g.dev, (int)gpu) != CUDA_SUCCESS) {
		snprintf(why, why_len, "--backend cuda: cannot open GPU %u.", gpu);
		return -ENODEV;
	}
	cuDeviceGetAttribute(&vmm,
			     CU_DEVICE_ATTRIBUTE_VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED,
			     g.dev);
	if (!vmm) {
		snprintf(why, why_len,
			 "--backend cuda: GPU %u (%.64s) has no virtual memory management, which the backend allocates with.",
			 gpu, prop.name);
		return -EOPNOTSUPP;
	}
	bool events = true;

	for (auto &e : g.ev)
		events = events && !cudaEventCreateWithFlags(
					   &e, cudaEventDisableTiming);
	if (!events ||
	    cudaStreamCreateWithFlags(&g.compute, cudaStreamNonBlocking) ||
	    cudaStreamCreateWithFlags(&g.copy, cudaStreamNonBlocking) ||
	    cudaEventCreate(&g.start) || cudaEventCreate(&g.stop) ||
	    cudaEventCreateWithFlags(&g.copies_done, cudaEventDisableTiming) ||
	    cublasCreate(&g.blas) != CUBLAS_STATUS_SUCCESS ||
	    cublasSetStream(g.blas, g.compute) != CUBLAS_STATUS_SUCCESS ||
	    cublasSetMathMode(g.blas, CUBLAS_PEDANTIC_MATH) !=
	    CUBLAS_STATUS_SUCCESS) {
		snprintf(why, why_len,
			 "--backend cuda: cannot set up a stream and cuBLAS on GPU %u.",
			 gpu);
		return -EIO;
	}
	snprintf(desc->model, sizeof(desc->model), "%.*s",
		 (int)sizeof(desc->model) - 1, prop.name);
	snprintf(desc->bus_id, sizeof(desc->bus_id), "%04x:%02x:%02x.0",
		 prop.pciDomainID, prop.pciBusID, prop.pciDeviceID);
	desc->numa_node = pci_numa_node(desc->bus_id);
	g.open = true;
	return 0;
}

CUmemAllocationProp alloc_prop(void)
{
	CUmemAllocationProp prop = {};

	prop.type = CU_MEM_ALLOCATION_TYPE_PINNED;
	prop.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
	prop.location.id = (int)g.dev;
	prop.requestedHandleTypes = CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR;
	return prop;
}

/* Reserve an address range for @a's handle, map it, make it ours. */
int arena_map(struct arena *a)
{
	CUmemAccessDesc access = {};
	int ret;

	ret = from_cu(cuMemAddressReserve(&a->ptr, a->alloc_size, 0, 0, 0));
	if (ret)
		return ret;
	ret = from_cu(cuMemMap(a->ptr, a->alloc_size, 0, a->handle, 0));
	if (ret)
		goto err_free;
	access.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
	access.location.id = (int)g.dev;
	access.flags = CU_MEM_ACCESS_FLAGS_PROT_READWRITE;
	ret = from_cu(cuMemSetAccess(a->ptr, a->alloc_size, &access, 1));
	if (ret)
		goto err_unmap;
	return 0;
err_unmap:
	cuMemUnmap(a->ptr, a->alloc_size);
err_free:
	cuMemAddressFree(a->ptr, a->alloc_size);
	return ret;
}

int cuda_mem_create(struct ash_backend_mem *m, const char *name,
		    uint64_t size)
{
	CUmemAllocationProp prop = alloc_prop();
	struct arena *a;
	size_t gran = 0;
	int ret, fd = -1;

	(void)name;
	a = static_cast<struct arena *>(calloc(1, sizeof(*a)));
	if (!a)
		return -ENOMEM;
	ret = from_cu(cuMemGetAllocationGranularity(&gran, &prop,
						    CU_MEM_ALLOC_GRANULARITY_MINIMUM));
	if (ret)
		goto err;
	a->alloc_size = (size + gran - 1) / gran * gran;
	ret = from_cu(cuMemCreate(&a->handle, a->alloc_size, &prop, 0));
	if (ret)
		goto err;
	ret = arena_map(a);
	if (ret)
		goto err_release;
	/* Registered memory must be zero (ASH_CTL_ENGINE_REGISTER). */
	ret = from_cu(cuMemsetD8(a->ptr, 0, a->alloc_size));
	if (ret)
		goto err_unmap;
	if (cuMemExportToShareableHandle(&fd, a->handle,
					 CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR,
					 0) != CUDA_SUCCESS)
		fd = -1;	/* the memory dies with the engine */
	m->base = reinterpret_cast<uint8_t *>(a->ptr);
	m->size = size;
	m->fd = fd;
	m->priv = a;
	arena_note(m->base, size);
	return 0;
err_unmap:
	cuMemUnmap(a->ptr, a->alloc_size);
	cuMemAddressFree(a->ptr, a->alloc_size);
err_release:
	cuMemRelease(a->handle);
err:
	free(a);
	return ret;
}

int cuda_mem_import(struct ash_backend_mem *m, int fd, uint64_t size)
{
	CUmemAllocationProp prop = {};
	struct arena *a;
	size_t gran = 0;
	int ret;

	a = static_cast<struct arena *>(calloc(1, sizeof(*a)));
	if (!a)
		return -ENOMEM;
	ret = from_cu(cuMemImportFromShareableHandle(
		&a->handle, reinterpret_cast<void *>(static_cast<uintptr_t>(fd)),
		CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR));
	if (ret)
		goto err;
	ret = from_cu(cuMemGetAllocationPropertiesFromHandle(&prop, a->handle));
	if (!ret && (prop.location.type != CU_MEM_LOCATION_TYPE_DEVICE ||
		     prop.location.id != (int)g.dev))
		ret = -EINVAL;	/* another GPU's memory */
	if (!ret)
		ret = from_cu(cuMemGetAllocationGranularity(
			&gran, &prop, CU_MEM_ALLOC_GRANULARITY_MINIMUM));
	if (ret)
		goto err_release;
	a->alloc_size = (size + gran - 1) / gran * gran;
	ret = arena_map(a);
	if (ret)
		goto err_release;
	m->base = reinterpret_cast<uint8_t *>(a->ptr);
	m->size = size;
	m->fd = -1;		/* the driver keeps its own */
	m->priv = a;
	arena_note(m->base, size);
	return 0;
err_release:
	cuMemRelease(a->handle);
err:
	free(a);
	return ret;
}

void cuda_mem_close(struct ash_backend_mem *m)
{
	struct arena *a = static_cast<struct arena *>(m->priv);

	if (a) {
		cudaDeviceSynchronize();
		arena_forget(m->base);
		cuMemUnmap(a->ptr, a->alloc_size);
		cuMemAddressFree(a->ptr, a->alloc_size);
		cuMemRelease(a->handle);
		free(a);
	}
	if (m->fd >= 0)
		close(m->fd);
	m->priv = nullptr;
	m->base = nullptr;
	m->fd = -1;
}

int cuda_scrub(struct ash_backend_mem *m, uint64_t off, uint64_t len)
{
	int ret;

	if (off > m->size || len > m->size - off)
		return -EFAULT;
	ret = from_cu(cuMemsetD8Async(reinterpret_cast<CUdeviceptr>(m->base + off),
				      0, len, g.compute));
	if (!ret)
		ret = from_cuda(cudaStreamSynchronize(g.compute));
	return ret;
}

/* Both streams, done: before the CPU touches memory a job may use. */
int sync_all(void)
{
	int ret = from_cuda(cudaStreamSynchronize(g.copy));
	int ret2 = from_cuda(cudaStreamSynchronize(g.compute));

	return ret ? ret : ret2;
}

void cuda_begin(void)
{
	g.first_error = 0;
	g.nr_recs = 0;
	g.nr_pinned = 0;
	/* The copy stream starts with the job too: after the start mark. */
	g.timing = cudaEventRecord(g.start, g.compute) == cudaSuccess &&
		   cudaStreamWaitEvent(g.copy, g.start, 0) == cudaSuccess;
}

int cuda_finish(uint64_t *device_ns)
{
	float ms = 0;
	int ret;

	*device_ns = 0;
	/* The stop mark after both streams' work. */
	if (g.timing &&
	    (cudaEventRecord(g.copies_done, g.copy) != cudaSuccess ||
	     cudaStreamWaitEvent(g.compute, g.copies_done, 0) != cudaSuccess ||
	     cudaEventRecord(g.stop, g.compute) != cudaSuccess))
		g.timing = false;
	ret = sync_all();
	while (g.nr_pinned)
		cuMemHostUnregister(g.pinned[--g.nr_pinned]);
	if (!ret && g.timing &&
	    cudaEventElapsedTime(&ms, g.start, g.stop) == cudaSuccess)
		*device_ns = (uint64_t)((double)ms * 1e6);
	if (!ret)
		ret = g.first_error;
	g.nr_recs = 0;
	return ret;
}

bool overlap(const uint8_t *a, uint64_t al, const uint8_t *b, uint64_t bl)
{
	return a < b + bl && b < a + al;
}

/* Does @r conflict with the command @a (one writes what the other uses)? */
bool conflicts(const struct cmd_rec &r, const struct ash_op_args *a,
	       void *const p[])
{
	for (uint32_t i = 0; i < r.n; i++)
		for (uint32_t j = 0; j < a->cmd->nr_operands; j++) {
			const struct ash_operand *o = &a->cmd->operands[j];

			if (((r.flags[i] | o->flags) & ASH_OPERAND_WRITE) &&
			    overlap(r.p[i], r.len[i],
				    static_cast<const uint8_t *>(p[j]),
				    o->length))
				return true;
		}
	return false;
}

/*
 * The stream for command @a (the copy stream for @copy), made to wait for
 * the earlier commands of the job on the other stream it conflicts with.
 */
cudaStream_t order(const struct ash_op_args *a, void *const p[], bool copy)
{
	cudaStream_t st = copy ? g.copy : g.compute;

	for (uint32_t k = 0; k < g.nr_recs; k++)
		if (g.recs[k].on_copy != copy && conflicts(g.recs[k], a, p))
			cudaStreamWaitEvent(st, g.ev[k], 0);
	return st;
}

/* Command @a is queued on @st: mark it, for the commands after it. */
void queued(const struct ash_op_args *a, void *const p[], cudaStream_t st)
{
	struct cmd_rec *r;

	if (g.nr_recs == ASH_JOB_MAX_COMMANDS)
		return;		/* a job has no more; run_job checked */
	r = &g.recs[g.nr_recs];
	r->n = a->cmd->nr_operands;
	r->on_copy = st == g.copy;
	for (uint32_t i = 0; i < r->n; i++) {
		r->p[i] = static_cast<const uint8_t *>(p[i]);
		r->len[i] = a->cmd->operands[i].length;
		r->flags[i] = a->cmd->operands[i].flags;
	}
	cudaEventRecord(g.ev[g.nr_recs++], st);
}

/* Pin staging range [@p, @p + @len) for the job, if worth it and possible. */
void pin_for_job(const void *p, uint64_t len)
{
	uintptr_t lo = reinterpret_cast<uintptr_t>(p) & ~(uintptr_t)4095;
	uintptr_t hi = (reinterpret_cast<uintptr_t>(p) + len + 4095) &
		       ~(uintptr_t)4095;

	if (len < PIN_MIN || g.nr_pinned == ASH_JOB_MAX_COMMANDS)
		return;
	if (cuMemHostRegister(reinterpret_cast<void *>(lo), hi - lo, 0) ==
	    CUDA_SUCCESS)
		g.pinned[g.nr_pinned++] = reinterpret_cast<void *>(lo);
}

/* ---- kernels ---- */

constexpr unsigned int THREADS = 256;

unsigned int blocks_for(uint64_t n)
{
	uint64_t b = (n + THREADS - 1) / THREADS;

	return (unsigned int)(b < 65535 * 16 ? (b ? b : 1) : 65535 * 16);
}

__global__ void k_add(float *o, const float *x, const float *y, uint64_t n)
{
	for (uint64_t i = blockIdx.x * (uint64_t)blockDim.x + threadIdx.x; i < n;
	     i += (uint64_t)gridDim.x * blockDim.x)
		o[i] = __fadd_rn(x[i], y[i]);
}

__global__ void k_mul(float *o, const float *x, const float *y, uint64_t n)
{
	for (uint64_t i = blockIdx.x * (uint64_t)blockDim.x + threadIdx.x; i < n;
	     i += (uint64_t)gridDim.x * blockDim.x)
		o[i] = __fmul_rn(x[i], y[i]);
}

__global__ void k_silu(float *o, const float *x, uint64_t n)
{
	for (uint64_t i = blockIdx.x * (uint64_t)blockDim.x + threadIdx.x; i < n;
	     i += (uint64_t)gridDim.x * blockDim.x) {
		float v = x[i];

		o[i] = v / (1.0f + expf(-v));
	}
}

__global__ void k_gelu(float *o, const float *x, uint64_t n)
{
	const float c = 0.79788456080286535588f;

	for (uint64_t i = blockIdx.x * (uint64_t)blockDim.x + threadIdx.x; i < n;
	     i += (uint64_t)gridDim.x * blockDim.x) {
		float v = x[i];

		o[i] = 0.5f * v * (1.0f + tanhf(c * (v + 0.044715f * v * v * v)));
	}
}

__global__ void k_gelu_erf(float *o, const float *x, uint64_t n)
{
	const float r = 0.70710678118654752440f;

	for (uint64_t i = blockIdx.x * (uint64_t)blockDim.x + threadIdx.x; i < n;
	     i += (uint64_t)gridDim.x * blockDim.x) {
		float v = x[i];

		o[i] = 0.5f * v * (1.0f + erff(v * r));
	}
}

__global__ void k_fill(uint32_t *d, uint32_t v, uint64_t n)
{
	for (uint64_t i = blockIdx.x * (uint64_t)blockDim.x + threadIdx.x; i < n;
	     i += (uint64_t)gridDim.x * blockDim.x)
		d[i] = v;
}

/* Sum of @v over the block, in double; every thread gets it. */
__device__ double block_sum(double v)
{
	__shared__ double part[THREADS / 32];
	unsigned int lane = threadIdx.x % 32, warp = threadIdx.x / 32;

	for (int o = 16; o; o /= 2)
		v += __shfl_down_sync(0xffffffffu, v, o);
	if (!lane)
		part[warp] = v;
	__syncthreads();
	v = threadIdx.x < THREADS / 32 ? part[threadIdx.x] : 0.0;
	if (!warp)
		for (int o = 16; o; o /= 2)
			v += __shfl_down_sync(0xffffffffu, v, o);
	__shared__ double total;
	if (!threadIdx.x)
		total = v;
	__syncthreads();
	v = total;
	__syncthreads();
	return v;
}

__device__ float block_max(float v)
{
	__shared__ float part[THREADS / 32];
	unsigned int lane = threadIdx.x % 32, warp = threadIdx.x / 32;

	for (int o = 16; o; o /= 2)
		v = fmaxf(v, __shfl_down_sync(0xffffffffu, v, o));
	if (!lane)
		part[warp] = v;
	__syncthreads();
	v = threadIdx.x < THREADS / 32 ? part[threadIdx.x] : -INFINITY;
	if (!warp)
		for (int o = 16; o; o /= 2)
			v = fmaxf(v, __shfl_down_sync(0xffffffffu, v, o));
	__shared__ float total;
	if (!threadIdx.x)
		total = v;
	__syncthreads();
	v = total;
	__syncthreads();
	return v;
}

/* One block per row. */
__global__ void k_rmsnorm(float *out, const float *in, const float *w,
			  uint32_t cols, float eps)
{
	const float *x = in + (uint64_t)blockIdx.x * cols;
	float *o = out + (uint64_t)blockIdx.x * cols;
	double ss = 0, scale;

	for (uint32_t j = threadIdx.x; j < cols; j += blockDim.x)
		ss += (double)x[j] * x[j];
	ss = block_sum(ss);
	scale = 1.0 / sqrt(ss / cols + (double)eps);
	for (uint32_t j = threadIdx.x; j < cols; j += blockDim.x)
		o[j] = (float)(x[j] * scale * w[j]);
}

__global__ void k_softmax(float *out, const float *in, uint32_t cols)
{
	const float *x = in + (uint64_t)blockIdx.x * cols;
	float *o = out + (uint64_t)blockIdx.x * cols;
	float max = -INFINITY;
	double sum = 0;
	float inv;

	for (uint32_t j = threadIdx.x; j < cols; j += blockDim.x)
		max = fmaxf(max, x[j]);
	max = block_max(max);
	/* in may be out: each thread reads its x[j] before writing o[j]. */
	for (uint32_t j = threadIdx.x; j < cols; j += blockDim.x) {
		float e = expf(x[j] - max);

		o[j] = e;
		sum += e;
	}
	sum = block_sum(sum);
	inv = (float)(1.0 / sum);
	for (uint32_t j = threadIdx.x; j < cols; j += blockDim.x)
		o[j] *= inv;
}

/* One block per row: mean, then population variance, both in double. */
__global__ void k_layernorm(float *out, const float *in, const float *w,
			    const float *b, uint32_t cols, float eps)
{
	const float *x = in + (uint64_t)blockIdx.x * cols;
	float *o = out + (uint64_t)blockIdx.x * cols;
	double sum = 0, ss = 0, mean, scale;

	for (uint32_t j = threadIdx.x; j < cols; j += blockDim.x)
		sum += x[j];
	mean = block_sum(sum) / cols;
	for (uint32_t j = threadIdx.x; j < cols; j += blockDim.x)
		ss += ((double)x[j] - mean) * ((double)x[j] - mean);
	scale = 1.0 / sqrt(block_sum(ss) / cols + (double)eps);
	/* in may be out: each thread reads its x[j] before writing o[j]. */
	for (uint32_t j = threadIdx.x; j < cols; j += blockDim.x)
		o[j] = (float)((x[j] - mean) * scale * w[j] + b[j]);
}

/* Is (v, i) better than (bv, bi): larger, or as large and earlier; NaN never. */
__device__ bool better(float v, uint32_t i, float bv, uint32_t bi)
{
	if (isnan(v))
		return false;
	if (isnan(bv))
		return true;
	return v > bv || (v == bv && i < bi);
}

/* One block per row: the first largest element's index, NaNs ignored. */
__global__ void k_argmax(uint32_t *out, const float *in, uint32_t cols)
{
	__shared__ float sv[THREADS];
	__shared__ uint32_t si[THREADS];
	const float *x = in + (uint64_t)blockIdx.x * cols;
	float bv = NAN;
	uint32_t bi = UINT32_MAX;

	for (uint32_t j = threadIdx.x; j < cols; j += blockDim.x)
		if (better(x[j], j, bv, bi)) {
			bv = x[j];
			bi = j;
		}
	sv[threadIdx.x] = bv;
	si[threadIdx.x] = bi;
	__syncthreads();
	for (unsigned int s = THREADS / 2; s; s /= 2) {
		if (threadIdx.x < s &&
		    better(sv[threadIdx.x + s], si[threadIdx.x + s],
			   sv[threadIdx.x], si[threadIdx.x])) {
			sv[threadIdx.x] = sv[threadIdx.x + s];
			si[threadIdx.x] = si[threadIdx.x + s];
		}
		__syncthreads();
	}
	if (!threadIdx.x)
		out[blockIdx.x] = si[0] == UINT32_MAX ? 0 : si[0];
}

/*
 * One block per (query token, head): its scores over the kv tokens it sees
 * in shared memory (dot products in double), softmax with the maximum
 * subtracted and its sum in double, then each thread a slice of head_dim
 * of the weighted sum of v.
 */
__global__ void k_attention(float *out, const float *q, const float *k,
			    const float *v, struct ash_attention_params t)
{
	extern __shared__ float score[];
	uint32_t nr = t.nr_heads ? t.nr_heads : t.heads;
	uint32_t i = blockIdx.x / nr, h = blockIdx.x % nr;
	uint32_t seen = t.flags & ASH_ATTN_CAUSAL ? t.q_pos0 + i + 1 :
			t.kv_tokens;
	uint64_t qs = (uint64_t)nr * t.head_dim;	/* q, out: nr heads */
	uint64_t ks = (uint64_t)t.kv_heads * t.head_dim;
	uint64_t kh = (uint64_t)((t.head0 + h) / (t.heads / t.kv_heads)) *
		      t.head_dim;
	const float *qi = q + i * qs + (uint64_t)h * t.head_dim;
	float max = -INFINITY;
	double sum = 0;

	for (uint32_t j = threadIdx.x; j < seen; j += blockDim.x) {
		const float *kj = k + j * ks + kh;
		double dot = 0;

		for (uint32_t d = 0; d < t.head_dim; d++)
			dot += (double)qi[d] * kj[d];
		score[j] = (float)(dot * t.scale);
		max = fmaxf(max, score[j]);
	}
	max = block_max(max);
	for (uint32_t j = threadIdx.x; j < seen; j += blockDim.x) {
		score[j] = expf(score[j] - max);
		sum += score[j];
	}
	sum = block_sum(sum);
	for (uint32_t d = threadIdx.x; d < t.head_dim; d += blockDim.x) {
		double acc = 0;

		for (uint32_t j = 0; j < seen; j++)
			acc += (double)score[j] * v[j * ks + kh + d];
		out[i * qs + (uint64_t)h * t.head_dim + d] = (float)(acc / sum);
	}
}

/* One thread per (token, head, pair); the interleaved layout. */
__global__ void k_rope(float *out, const float *in, uint32_t tokens,
		       uint32_t heads, uint32_t head_dim, uint32_t pos0,
		       float theta)
{
	uint64_t half = head_dim / 2, n = (uint64_t)tokens * heads * half;

	for (uint64_t k = blockIdx.x * (uint64_t)blockDim.x + threadIdx.x; k < n;
	     k += (uint64_t)gridDim.x * blockDim.x) {
		uint64_t i = k % half, th = k / half, t = th / heads;
		uint64_t x = th * head_dim + 2 * i;
		double ang = (double)(pos0 + t) *
			     pow((double)theta, -2.0 * (double)i / head_dim);
		double s, c, x0 = in[x], x1 = in[x + 1];

		sincos(ang, &s, &c);
		out[x] = (float)(x0 * c - x1 * s);
		out[x + 1] = (float)(x0 * s + x1 * c);
	}
}

__global__ void k_check_ids(const uint32_t *ids, uint32_t n, uint32_t vocab,
			    int *bad)
{
	for (uint32_t i = blockIdx.x * blockDim.x + threadIdx.x; i < n;
	     i += gridDim.x * blockDim.x)
		if (ids[i] >= vocab)
			*bad = 1;
}

/* Element j of a row of op dtype @dtype at @row (quantized: whole blocks,
 * <linux/accelshare_ops.h>), as f32. */
__device__ float elem_f32(uint32_t dtype, const uint8_t *row, uint32_t j)
{
	const uint8_t *blk;

	switch (dtype) {
	case ASH_OP_F16:
		return __half2float(reinterpret_cast<const __half *>(row)[j]);
	case ASH_OP_BF16:
		return __bfloat162float(
			reinterpret_cast<const __nv_bfloat16 *>(row)[j]);
	case ASH_OP_Q8_0:
		blk = row + (j / ASH_OP_QBLOCK) * ASH_Q8_0_BYTES;
		return __half2float(*reinterpret_cast<const __half *>(blk)) *
		       (float)(int8_t)blk[2 + j % ASH_OP_QBLOCK];
	case ASH_OP_Q4_0: {
		uint32_t i = j % ASH_OP_QBLOCK;
		uint8_t q;

		blk = row + (j / ASH_OP_QBLOCK) * ASH_Q4_0_BYTES;
		q = blk[2 + i % 16];
		return __half2float(*reinterpret_cast<const __half *>(blk)) *
		       (float)((i < 16 ? q & 0xf : q >> 4) - 8);
	}
	}
	return reinterpret_cast<const float *>(row)[j];
}

/* One block per id: its row of the table, converted to f32. */
__global__ void k_embedding(float *out, const uint8_t *table,
			    const uint32_t *ids, uint32_t dim, uint32_t vocab,
			    uint32_t dtype, uint64_t row_bytes)
{
	uint32_t id = ids[blockIdx.x];

	if (id >= vocab)	/* checked before; kept as the cpu backend does */
		return;
	for (uint32_t j = threadIdx.x; j < dim; j += blockDim.x)
		out[(uint64_t)blockIdx.x * dim + j] =
			elem_f32(dtype, table + id * row_bytes, j);
}

/*
 * C = alpha A B^T + beta C, A f32 and B of another dtype stored n x k
 * (ASH_GEMM_A_F32): one block per element of C (block b is row b / n,
 * column b % n), its threads over k, converting B in place.  Accumulates
 * in double, as the reductions above do.
 */
__global__ void k_gemm_a_f32(float *c, const float *a, const uint8_t *b,
			     uint32_t m, uint32_t n, uint32_t k, uint32_t lda,
			     uint64_t ldb_bytes, uint32_t ldc, uint32_t dtype,
			     float alpha, float beta)
{
	uint32_t i = blockIdx.x / n, j = blockIdx.x % n;
	const float *x = a + (uint64_t)i * lda;
	const uint8_t *w = b + j * ldb_bytes;
	double sum = 0;

	if (i >= m)
		return;
	for (uint32_t p = threadIdx.x; p < k; p += blockDim.x)
		sum += (double)x[p] * elem_f32(dtype, w, p);
	sum = block_sum(sum);
	if (!threadIdx.x) {
		float *o = c + (uint64_t)i * ldc + j;

		*o = (float)(alpha * sum) + (beta != 0.0f ? beta * *o : 0.0f);
	}
}

/* ---- ops ---- */

/* Queue @launch's error as the job's first, if it is the first. */
int launched(void)
{
	int ret = from_cuda(cudaGetLastError());

	if (ret && !g.first_error)
		g.first_error = ret;
	return ret;
}

bool all_on_gpu(const struct ash_op_args *a, void *const p[])
{
	for (uint32_t i = 0; i < a->cmd->nr_operands; i++)
		if (!on_gpu(p[i], a->cmd->operands[i].length))
			return false;
	return true;
}

int run_nop(const struct ash_op_args *, void *const *)
{
	return 0;
}

int run_copy(const struct ash_op_args *a, void *const p[])
{
	uint64_t len = a->cmd->operands[0].length;
	uint8_t *d = static_cast<uint8_t *>(p[0]);
	const uint8_t *s = static_cast<const uint8_t *>(p[1]);
	void *tmp;
	int ret;

	cudaStream_t st;

	if (!on_gpu(d, len) && !on_gpu(s, len)) {
		/* Host to host: after what is queued, on the CPU. */
		ret = sync_all();
		if (!ret)
			memmove(d, s, len);
		return ret;
	}
	/* memmove semantics: overlapping GPU ranges go through scratch. */
	if (on_gpu(d, len) && on_gpu(s, len)) {
		st = order(a, p, false);
		if (overlap(d, len, s, len) && d != s) {
			ret = from_cuda(cudaMallocAsync(&tmp, len, st));
			if (ret)
				return ret;
			cudaMemcpyAsync(tmp, s, len, cudaMemcpyDeviceToDevice, st);
			cudaMemcpyAsync(d, tmp, len, cudaMemcpyDeviceToDevice, st);
			cudaFreeAsync(tmp, st);
		} else {
			cudaMemcpyAsync(d, s, len, cudaMemcpyDeviceToDevice, st);
		}
		queued(a, p, st);
		return launched();
	}
	/* Between staging and the GPU: on the copy stream, pinned. */
	pin_for_job(on_gpu(d, len) ? s : d, len);
	st = order(a, p, true);
	cudaMemcpyAsync(d, s, len, cudaMemcpyDefault, st);
	queued(a, p, st);
	return launched();
}

int run_fill(const struct ash_op_args *a, void *const p[])
{
	uint64_t n = a->cmd->operands[0].length / 4;
	uint32_t v = a->u.fill.pattern;
	uint32_t *d = static_cast<uint32_t *>(p[0]);
	int ret;

	cudaStream_t st;

	if (!on_gpu(d, n * 4)) {
		ret = sync_all();
		for (uint64_t i = 0; !ret && i < n; i++)
			d[i] = v;
		return ret;
	}
	st = order(a, p, false);
	k_fill<<<blocks_for(n), THREADS, 0, st>>>(d, v, n);
	queued(a, p, st);
	return launched();
}

/*
 * A compute op: its operands on the GPU (-EOPNOTSUPP otherwise), kernel
 * @k queued on the compute stream after what it conflicts with, and
 * marked for the commands after it.
 */
template <typename... P, typename... A>
int compute(const struct ash_op_args *a, void *const p[], void (*k)(P...),
	    unsigned int grid, size_t smem, A... args)
{
	if (!all_on_gpu(a, p))
		return -EOPNOTSUPP;
	cudaStream_t st = order(a, p, false);
	k<<<grid, THREADS, smem, st>>>(args...);
	queued(a, p, st);
	return launched();
}

cudaDataType_t dtype_of(uint32_t dtype)
{
	return dtype == ASH_OP_F16 ? CUDA_R_16F :
	       dtype == ASH_OP_BF16 ? CUDA_R_16BF : CUDA_R_32F;
}

/*
 * Row-major C = alpha op(A) op(B) + beta C is, read column-major, C^T =
 * alpha op(B)^T op(A)^T + beta C^T: the same call with the operands
 * swapped.
 */
int run_gemm(const struct ash_op_args *a, void *const p[])
{
	const struct ash_gemm_params *gp = &a->u.gemm;
	cudaDataType_t t = dtype_of(gp->dtype);

	bool a_f32 = (gp->flags & ASH_GEMM_A_F32) && gp->dtype != ASH_OP_F32;

	/* A grid of m * n blocks: within a job's budget m * n is far
	 * below the limit of 2^31 - 1; refused rather than wrapped. */
	if (a_f32 && (uint64_t)gp->m * gp->n > INT32_MAX)
		return -EOPNOTSUPP;
	if (a_f32)
		return compute(a, p, k_gemm_a_f32,
			       (unsigned int)((uint64_t)gp->m * gp->n), 0,
			       static_cast<float *>(p[0]),
			       static_cast<const float *>(p[1]),
			       static_cast<const uint8_t *>(p[2]), gp->m, gp->n,
			       gp->k, gp->lda, ash_op_bytes(gp->dtype, gp->ldb),
			       gp->ldc, gp->dtype, gp->alpha, gp->beta);
	if (!all_on_gpu(a, p))
		return -EOPNOTSUPP;
	order(a, p, false);	/* cuBLAS is on the compute stream */
	int ret = from_blas(cublasGemmEx(
		g.blas,
		gp->flags & ASH_GEMM_TRANS_B ? CUBLAS_OP_T : CUBLAS_OP_N,
		gp->flags & ASH_GEMM_TRANS_A ? CUBLAS_OP_T : CUBLAS_OP_N,
		(int)gp->n, (int)gp->m, (int)gp->k, &gp->alpha,
		p[2], t, (int)gp->ldb, p[1], t, (int)gp->lda, &gp->beta,
		p[0], CUDA_R_32F, (int)gp->ldc, CUBLAS_COMPUTE_32F,
		CUBLAS_GEMM_DEFAULT));
	if (ret && !g.first_error)
		g.first_error = ret;
	if (!ret)
		queued(a, p, g.compute);
	return ret;
}

float *out_f32(void *const p[])
{
	return static_cast<float *>(p[0]);
}

const float *in_f32(void *const p[], int i)
{
	return static_cast<const float *>(p[i]);
}

template <void (*K)(float *, const float *, const float *, uint64_t)>
int binary(const struct ash_op_args *a, void *const p[])
{
	uint64_t n = a->u.elt.count;

	return compute(a, p, K, blocks_for(n), 0, out_f32(p), in_f32(p, 1),
		       in_f32(p, 2), n);
}

template <void (*K)(float *, const float *, uint64_t)>
int unary(const struct ash_op_args *a, void *const p[])
{
	uint64_t n = a->u.elt.count;

	return compute(a, p, K, blocks_for(n), 0, out_f32(p), in_f32(p, 1), n);
}

int run_rmsnorm(const struct ash_op_args *a, void *const p[])
{
	const struct ash_rows_params *r = &a->u.rows;

	return compute(a, p, k_rmsnorm, r->rows, 0, out_f32(p), in_f32(p, 1),
		       in_f32(p, 2), r->cols, r->eps);
}

int run_softmax(const struct ash_op_args *a, void *const p[])
{
	const struct ash_rows_params *r = &a->u.rows;

	return compute(a, p, k_softmax, r->rows, 0, out_f32(p), in_f32(p, 1),
		       r->cols);
}

int run_rope(const struct ash_op_args *a, void *const p[])
{
	const struct ash_rope_params *r = &a->u.rope;
	uint64_t n = (uint64_t)r->tokens * r->heads * (r->head_dim / 2);

	return compute(a, p, k_rope, blocks_for(n), 0, out_f32(p), in_f32(p, 1),
		       r->tokens, r->heads, r->head_dim, r->pos0, r->theta);
}

int run_layernorm(const struct ash_op_args *a, void *const p[])
{
	const struct ash_rows_params *r = &a->u.rows;

	return compute(a, p, k_layernorm, r->rows, 0, out_f32(p), in_f32(p, 1),
		       in_f32(p, 2), in_f32(p, 3), r->cols, r->eps);
}

int run_argmax(const struct ash_op_args *a, void *const p[])
{
	const struct ash_rows_params *r = &a->u.rows;

	return compute(a, p, k_argmax, r->rows, 0,
		       static_cast<uint32_t *>(p[0]), in_f32(p, 1), r->cols);
}

/* Shared memory a block may have, opted in at open(): the scores' room. */
size_t attention_smem(void)
{
	static int max = -1;

	if (max < 0) {
		if (cudaDeviceGetAttribute(&max,
					   cudaDevAttrMaxSharedMemoryPerBlockOptin,
					   0) != cudaSuccess)
			max = 48 << 10;
		cudaFuncSetAttribute(k_attention,
				     cudaFuncAttributeMaxDynamicSharedMemorySize,
				     max - 1024);
	}
	return (size_t)max - 1024;	/* the reductions' own */
}

int run_attention(const struct ash_op_args *a, void *const p[])
{
	const struct ash_attention_params *t = &a->u.attn;
	size_t smem = (size_t)t->kv_tokens * sizeof(float);

	if (smem > attention_smem())
		return -EOPNOTSUPP;	/* more kv tokens than shared memory */
	return compute(a, p, k_attention, t->q_tokens * ash_attn_heads(t), smem,
		       out_f32(p), in_f32(p, 1), in_f32(p, 2), in_f32(p, 3), *t);
}

/*
 * Every id is checked before any row is copied, so that a bad one leaves
 * the output untouched: the check's verdict is read back first.
 */
int run_embedding(const struct ash_op_args *a, void *const p[])
{
	const struct ash_embedding_params *e = &a->u.emb;
	static int *bad;
	int ret;

	if (!all_on_gpu(a, p))
		return -EOPNOTSUPP;
	if (!bad && cudaMallocHost(&bad, sizeof(*bad)) != cudaSuccess)
		return -ENOMEM;
	*bad = 0;
	cudaStream_t st = order(a, p, false);
	k_check_ids<<<blocks_for(e->nr_ids), THREADS, 0, st>>>(
		static_cast<const uint32_t *>(p[2]), e->nr_ids, e->vocab, bad);
	ret = from_cuda(cudaStreamSynchronize(st));
	if (ret)
		return ret;
	if (*bad)
		return -EINVAL;
	k_embedding<<<e->nr_ids, THREADS, 0, st>>>(
		static_cast<float *>(p[0]), static_cast<const uint8_t *>(p[1]),
		static_cast<const uint32_t *>(p[2]), e->dim, e->vocab,
		e->dtype, ash_op_bytes(e->dtype, e->dim));
	queued(a, p, st);
	return launched();
}

struct ash_backend make_backend(void)
{
	struct ash_backend be = {};

	be.name = "cuda";
	be.open = cuda_open;
	be.mem_create = cuda_mem_create;
	be.mem_import = cuda_mem_import;
	be.mem_close = cuda_mem_close;
	be.scrub = cuda_scrub;
	be.begin = cuda_begin;
	be.finish = cuda_finish;
	be.run[ASH_OP_NOP] = run_nop;
	be.run[ASH_OP_COPY] = run_copy;
	be.run[ASH_OP_FILL] = run_fill;
	be.run[ASH_OP_GEMM] = run_gemm;
	be.run[ASH_OP_ADD] = binary<k_add>;
	be.run[ASH_OP_MUL] = binary<k_mul>;
	be.run[ASH_OP_SILU] = unary<k_silu>;
	be.run[ASH_OP_GELU] = unary<k_gelu>;
	be.run[ASH_OP_RMSNORM] = run_rmsnorm;
	be.run[ASH_OP_SOFTMAX] = run_softmax;
	be.run[ASH_OP_ROPE] = run_rope;
	be.run[ASH_OP_EMBEDDING] = run_embedding;
	be.run[ASH_OP_GELU_ERF] = unary<k_gelu_erf>;
	be.run[ASH_OP_LAYERNORM] = run_layernorm;
	be.run[ASH_OP_ARGMAX] = run_argmax;
	be.run[ASH_OP_ATTENTION] = run_attention;
	return be;
}

} /* namespace */

extern "C" __attribute__((visibility("default")))
const struct ash_backend ash_backend_plugin = make_backend();
