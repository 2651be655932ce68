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
 * struct ash_backend - one way of executing ops
 * @name: "cpu", ...
 * @run: per opcode, run a command that ash_optable_check() accepted, its
 *	operands at @p (the engine's mapping of each operand's device
 *	address).  0, or a negative errno for what only running can find
 *	(EMBEDDING's ids: -EINVAL; scratch memory: -ENOMEM).
 */
struct ash_backend {
	const char *name;
	int (*run[ASH_OP_COUNT])(const struct ash_op_args *a, void *const p[]);
};

extern const struct ash_backend ash_backend_cpu;

/**
 * ash_engine_exec() - check and run one command
 * @be: the backend.
 * @cmd: the command, as ASH_CTL_ENGINE_FETCH wrote it (in the engine's own
 *	memory: it cannot change under the engine).
 * @space: the engine's mapping of the device address space.
 * @space_size: its length in bytes.
 *
 * Return: 0; -EINVAL for a command the op table refuses (nothing written);
 * -EFAULT for an operand outside @space (the driver should have refused
 * it); what the backend's function returns.
 */
int ash_engine_exec(const struct ash_backend *be,
		    const struct ash_command *cmd, uint8_t *space,
		    uint64_t space_size);

/**
 * struct ash_job_run - what the engine needs to run one job
 * @be: the backend.
 * @space: the engine's mapping of the device address space.
 * @space_size: its length.
 * @budget: the most a job may cost, in op-table units; 0: no limit.
 * @deadline_ns: CLOCK_MONOTONIC time by which to abandon the job (the
 *	watchdog's limit); 0: none.
 * @stall_ns: test only (--test-stall-ms): sleep this long before each
 *	command, so that a job really runs long.
 * @ignore_deadline: test only (--test-ignore-timeout): run on past
 *	@deadline_ns, as a hung engine would.
 */
struct ash_job_run {
	const struct ash_backend *be;
	uint8_t *space;
	uint64_t space_size;
	uint64_t budget;
	uint64_t deadline_ns;
	uint64_t stall_ns;
	bool ignore_deadline;
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
int ash_engine_run_job(const struct ash_job_run *r,
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
 * Runs on memory of its own (a few MiB), for well under a second.
 * Return: 0 or -ENOMEM.
 */
int ash_engine_calibrate(const struct ash_backend *be, uint64_t *units_per_ms);

/* Bit-exact conversions of IEEE binary16 and bfloat16 to binary32. */
float ash_f16_to_f32(uint16_t h);
float ash_bf16_to_f32(uint16_t b);

#endif /* ASH_ENGINE_BACKEND_H */
