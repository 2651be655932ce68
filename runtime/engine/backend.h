/* SPDX-License-Identifier: MIT */
/*
 * The engine's backends and how the engine runs a job on one.
 *
 * A backend implements every op of the op table (runtime/ops/optable.h) on
 * the memory it executes on.  The engine checks each command with the op
 * table before a backend sees it, so a backend's functions only compute.
 * Today there is one backend, "cpu" (cpu/ops.c); a backend for GPUs plugs
 * in as another struct ash_backend.
 */
#ifndef ASH_ENGINE_BACKEND_H
#define ASH_ENGINE_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include "../ops/optable.h"

/**
 * struct ash_backend_mem - the memory of a device the engine registered
 *	(ASH_DEVICE_ENGINE), as its backend holds it
 * @base: device address 0 of it, where the backend's ops reach it: a host
 *	pointer for cpu, a device pointer for cuda.
 * @size: bytes.
 * @fd: a descriptor of it for the driver to hold (so that it outlives the
 *	engine), or -1 if the backend cannot export it.
 * @priv: the backend's own.
 */
struct ash_backend_mem {
	uint8_t *base;
	uint64_t size;
	int fd;
	void *priv;
};

/**
 * struct ash_gpu_desc - what a backend knows of the accelerator it runs on
 * @model: its model ("NVIDIA H200"), "" for none.
 * @bus_id: its PCI bus id ("0000:17:00.0"), "" if unknown.
 * @numa_node: the NUMA node of its PCI device, -1 if unknown.
 */
struct ash_gpu_desc {
	char model[64];
	char bus_id[16];
	int numa_node;
};

/**
 * struct ash_backend - one way of executing ops
 * @name: "cpu", "cuda".
 * @open: take accelerator @gpu, describe it in @desc; 0, or a negative
 *	errno with one sentence in @why (no such GPU, no driver).  NULL: the
 *	backend needs nothing (cpu).
 * @mem_create: @size bytes of zeroed device memory for a new registered
 *	device, exported as @m->fd where the backend can; 0 or -errno.
 * @mem_import: the memory the driver held for a registered device, from
 *	the descriptor it gave back; 0 or -errno.  Consumes nothing: the
 *	caller closes @fd.
 * @mem_close: let the memory go (the driver may still hold it).
 * @scrub: zero [@off, @off + @len) of it; 0 or -errno.
 * @begin: a job starts (asynchronous backends: mark the time on the
 *	device).  NULL for synchronous backends.
 * @finish: wait for the work the job's commands queued; 0 or the first
 *	error, and in *@device_ns the device time the job took, measured on
 *	the device (0 if unknown).  NULL for synchronous backends.
 * @run: per opcode, run a command that ash_optable_check() accepted, its
 *	operands at @p (where the engine reaches each operand's device
 *	address: the mapping of staging memory, or @mem_create's memory).
 *	0, or a negative errno for what only running can find (EMBEDDING's
 *	ids: -EINVAL; scratch memory: -ENOMEM; an operand the backend cannot
 *	reach for this op: -EOPNOTSUPP).
 */
struct ash_backend {
	const char *name;
	int (*open)(unsigned int gpu, struct ash_gpu_desc *desc, char *why,
		    size_t why_len);
	int (*mem_create)(struct ash_backend_mem *m, const char *name,
			  uint64_t size);
	int (*mem_import)(struct ash_backend_mem *m, int fd, uint64_t size);
	void (*mem_close)(struct ash_backend_mem *m);
	int (*scrub)(struct ash_backend_mem *m, uint64_t off, uint64_t len);
	void (*begin)(void);
	int (*finish)(uint64_t *device_ns);
	int (*run[ASH_OP_COUNT])(const struct ash_op_args *a, void *const p[]);
};

extern const struct ash_backend ash_backend_cpu;

/*
 * The symbol a backend plugin exports: the cuda backend is a shared object
 * (accelshare-backend-cuda.so, built where nvcc is), loaded only when asked
 * for, so that the engine runs on hosts without NVIDIA's libraries.
 */
#define ASH_BACKEND_SYMBOL "ash_backend_plugin"

/**
 * ash_backend_find() - the backend called @name
 * @name: "cpu" or "cuda".
 * @why: one sentence on failure (unknown name, plugin not built or not
 *	loadable, naming what is missing).
 * @why_len: its size.
 *
 * A plugin is looked for in $ASH_BACKEND_DIR, else in ../lib/accelshare
 * beside the running executable (the build tree's and an install's
 * layout).  Return: the backend or NULL.
 */
const struct ash_backend *ash_backend_find(const char *name, char *why,
					   size_t why_len);

/**
 * struct ash_space - where the engine reaches the device address space
 * @arena: device address 0 of a registered device's own memory (the
 *	backend's), or NULL.
 * @arena_size: bytes of it: addresses below lie there.
 * @host: where address @arena_size lies: the engine's mapping of the
 *	control node from there on (staging buffers; every buffer of a
 *	host-backed device, whose @arena_size is 0).
 * @size: bytes of the whole space.
 */
struct ash_space {
	uint8_t *arena;
	uint64_t arena_size;
	uint8_t *host;
	uint64_t size;
};

/**
 * ash_engine_exec() - check and run one command
 * @be: the backend.
 * @cmd: the command, as ASH_CTL_ENGINE_FETCH wrote it (in the engine's own
 *	memory: it cannot change under the engine).
 * @space: where the engine reaches the device address space.
 *
 * Return: 0; -EINVAL for a command the op table refuses (nothing written);
 * -EFAULT for an operand outside the space or across the end of the
 * arena (the driver should have refused it); what the backend's function
 * returns.
 */
int ash_engine_exec(const struct ash_backend *be,
		    const struct ash_command *cmd, const struct ash_space *space);

/**
 * struct ash_job_run - what the engine needs to run one job
 * @be: the backend.
 * @space: where the engine reaches the device address space.
 * @budget: the most a job may cost, in op-table units; 0: no limit.
 * @deadline_ns: CLOCK_MONOTONIC time by which to abandon the job (the
 *	watchdog's limit); 0: none.
 * @stall_ns: test only (--test-stall-ms): sleep this long before each
 *	command, so that a job really runs long.
 * @device_ns: set by ash_engine_run_job(): the device time the job took as
 *	an asynchronous backend measured it, 0 for a synchronous one (the
 *	caller's wall clock is the time then).
 * @ignore_deadline: test only (--test-ignore-timeout): run on past
 *	@deadline_ns, as a hung engine would.
 */
struct ash_job_run {
	const struct ash_backend *be;
	struct ash_space space;
	uint64_t budget;
	uint64_t deadline_ns;
	uint64_t stall_ns;
	bool ignore_deadline;
	uint64_t device_ns;
};

/**
 * ash_engine_run_job() - check a whole job, then run it
 * @r: how.
 * @cmds: the job's commands.
 * @n: how many, 1..ASH_JOB_MAX_COMMANDS.
 * @failed: set to the index of the command that failed.
 * @cost: set to the job's cost (saturating), when every command passed.
 *
 * Every command is checked and priced before any runs: a job with a
 * command the op table refuses, or whose cost passes @r->budget, fails
 * without anything written (-EINVAL, -EFAULT, -E2BIG).  Then the commands
 * run in order; the first failure stops the job, and past the deadline the
 * job is abandoned between commands (-ETIMEDOUT).
 *
 * Return: 0 or the job's negative status.
 */
int ash_engine_run_job(struct ash_job_run *r,
		       const struct ash_command *cmds, uint32_t n,
		       uint32_t *failed, uint64_t *cost);

/* CLOCK_MONOTONIC in ns. */
uint64_t ash_engine_now_ns(void);

/**
 * ash_engine_calibrate() - measure how fast @be runs the op table's units
 * @be: the backend.
 * @units_per_ms: set to the slowest rate seen over a GEMM, a copy and an
 *	element-wise op, each priced by the op table.
 *
 * Runs on device memory of its own from @be->mem_create (a few MiB), for
 * well under a second.
 * Return: 0 or -ENOMEM.
 */
int ash_engine_calibrate(const struct ash_backend *be, uint64_t *units_per_ms);

/* Bit-exact conversions of IEEE binary16 and bfloat16 to binary32. */
float ash_f16_to_f32(uint16_t h);
float ash_bf16_to_f32(uint16_t b);

#endif /* ASH_ENGINE_BACKEND_H */
