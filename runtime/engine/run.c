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
 * Where the engine reaches [@off, @off + @len) of the device address
 * space, or NULL if the range is outside it or runs from the arena into
 * the host part (the driver places no buffer across).
 */
static void *space_at(const struct ash_space *s, uint64_t off, uint64_t len)
{
	if (off > s->size || len > s->size - off)
		return NULL;
	if (off < s->arena_size)
		return len <= s->arena_size - off ? s->arena + off : NULL;
	return s->host + (off - s->arena_size);
}

/*
 * Each used operand's address; -EFAULT if one is outside the space (the
 * driver should have refused it), checked before the op table looks.
 */
static int resolve(const struct ash_command *cmd, const struct ash_space *s,
		   void *p[ASH_CMD_MAX_OPERANDS])
{
	uint32_t i;

	for (i = 0; i < ASH_CMD_MAX_OPERANDS; i++) {
		const struct ash_operand *o = &cmd->operands[i];

		p[i] = NULL;
		if (i >= cmd->nr_operands)
			continue;
		p[i] = space_at(s, o->offset, o->length);
		if (!p[i])
			return -EFAULT;
	}
	return 0;
}

/* Check @cmd: inside the space, then by the op table. */
static int check_one(const struct ash_command *cmd, const struct ash_space *s,
		     struct ash_op_args *a, void *p[ASH_CMD_MAX_OPERANDS])
{
	int ret = resolve(cmd, s, p);

	return ret ? ret : ash_optable_check(cmd, a);
}

int ash_engine_exec(const struct ash_backend *be,
		    const struct ash_command *cmd, const struct ash_space *space)
{
	void *p[ASH_CMD_MAX_OPERANDS];
	struct ash_op_args a;
	int ret;

	ret = check_one(cmd, space, &a, p);
	if (ret)
		return ret;
	if (be->begin)
		be->begin();
	ret = be->run[cmd->opcode](&a, p);
	if (be->finish) {
		uint64_t ns;
		int done = be->finish(&ns);

		if (!ret)
			ret = done;
	}
	return ret;
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

int ash_engine_run_job(struct ash_job_run *r,
		       const struct ash_command *cmds, uint32_t n,
		       uint32_t *failed, uint64_t *cost)
{
	static struct ash_op_args args[ASH_JOB_MAX_COMMANDS];
	void *p[ASH_CMD_MAX_OPERANDS];
	uint64_t total = 0;
	uint32_t i;
	int ret;

	*failed = 0;
	r->device_ns = 0;
	if (n < 1 || n > ASH_JOB_MAX_COMMANDS)
		return -EINVAL;		/* the driver's bug */
	for (i = 0; i < n; i++) {
		*failed = i;
		ret = check_one(&cmds[i], &r->space, &args[i], p);
		if (ret)
			return ret;
		total = ash_cost_add(total, args[i].cost);
	}
	*cost = total;
	if (r->budget && total > r->budget) {
		*failed = 0;
		return -E2BIG;
	}
	if (r->be->begin)
		r->be->begin();
	for (i = 0; i < n; i++) {
		*failed = i;
		if (r->stall_ns)
			stall(r->stall_ns);
		if (r->deadline_ns && !r->ignore_deadline &&
		    ash_engine_now_ns() >= r->deadline_ns) {
			ret = -ETIMEDOUT;
			break;
		}
		resolve(&cmds[i], &r->space, p);
		ret = r->be->run[cmds[i].opcode](&args[i], p);
		if (ret)
			break;
	}
	/* An asynchronous backend's job is done when its queue is. */
	if (r->be->finish) {
		int done = r->be->finish(&r->device_ns);

		if (!ret)
			ret = done;
	}
	return ret;
}
