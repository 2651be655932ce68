/* SPDX-License-Identifier: MIT */
/*
 * Running a job on a backend (backend.h): every command checked with the
 * op table and priced before any runs, the job's cost held to the budget,
 * the watchdog's deadline honoured between commands.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "backend.h"

uint64_t ash_engine_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * Each used operand's address in @space; -EFAULT if one is outside it (the
 * driver should have refused it), checked before the op table looks.
 */
static int resolve(const struct ash_command *cmd, uint8_t *space,
		   uint64_t space_size, void *p[ASH_CMD_MAX_OPERANDS])
{
	uint32_t i;

	for (i = 0; i < ASH_CMD_MAX_OPERANDS; i++) {
		const struct ash_operand *o = &cmd->operands[i];

		p[i] = NULL;
		if (i >= cmd->nr_operands)
			continue;
		if (o->offset > space_size || o->length > space_size - o->offset)
			return -EFAULT;
		p[i] = space + o->offset;
	}
	return 0;
}

/* Check @cmd: inside the mapping, then by the op table. */
static int check_one(const struct ash_command *cmd, uint8_t *space,
		     uint64_t space_size, struct ash_op_args *a,
		     void *p[ASH_CMD_MAX_OPERANDS])
{
	int ret = resolve(cmd, space, space_size, p);

	return ret ? ret : ash_optable_check(cmd, a);
}

int ash_engine_exec(const struct ash_backend *be,
		    const struct ash_command *cmd, uint8_t *space,
		    uint64_t space_size)
{
	void *p[ASH_CMD_MAX_OPERANDS];
	struct ash_op_args a;
	int ret;

	ret = check_one(cmd, space, space_size, &a, p);
	if (ret)
		return ret;
	return be->run[cmd->opcode](&a, p);
}

static void stall(uint64_t ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ns / 1000000000ull),
		.tv_nsec = (long)(ns % 1000000000ull),
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

int ash_engine_run_job(const struct ash_job_run *r,
		       const struct ash_command *cmds, uint32_t n,
		       uint32_t *failed, uint64_t *cost)
{
	static struct ash_op_args args[ASH_JOB_MAX_COMMANDS];
	void *p[ASH_CMD_MAX_OPERANDS];
	uint64_t total = 0;
	uint32_t i;
	int ret;

	*failed = 0;
	if (n < 1 || n > ASH_JOB_MAX_COMMANDS)
		return -EINVAL;		/* the driver's bug */
	for (i = 0; i < n; i++) {
		*failed = i;
		ret = check_one(&cmds[i], r->space, r->space_size, &args[i], p);
		if (ret)
			return ret;
		total = ash_cost_add(total, args[i].cost);
	}
	*cost = total;
	if (r->budget && total > r->budget) {
		*failed = 0;
		return -E2BIG;
	}
	for (i = 0; i < n; i++) {
		*failed = i;
		if (r->stall_ns)
			stall(r->stall_ns);
		if (r->deadline_ns && !r->ignore_deadline &&
		    ash_engine_now_ns() >= r->deadline_ns)
			return -ETIMEDOUT;
		resolve(&cmds[i], r->space, r->space_size, p);
		ret = r->be->run[cmds[i].opcode](&args[i], p);
		if (ret)
			return ret;
	}
	return 0;
}
