/* SPDX-License-Identifier: MIT */
/*
 * Calibration: how many op-table cost units a backend runs per ms, so that
 * the engine's job budget (units a job may cost) keeps a job near one
 * scheduler slice.  Three kinds of work, each priced by the op table and
 * run through the backend on device memory of its own (the GPU's, for a
 * GPU backend): a GEMM (compute
 * bound), a copy (memory bound) and GELU (transcendental).  The slowest
 * rate of the three is the engine's: a job at the budget takes at most
 * about a slice whatever it is made of.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"

#define CAL_GEMM	128		/* m = n = k */
#define CAL_COPY	(4u << 20)	/* bytes */
#define CAL_ELEMS	(256u << 10)	/* GELU elements */
#define CAL_ROUNDS	3

static void operand(struct ash_command *c, uint32_t flags, uint64_t off,
		    uint64_t len)
{
	struct ash_operand *o = &c->operands[c->nr_operands++];

	o->flags = flags;
	o->offset = off;
	o->length = len;
}

/* Best of CAL_ROUNDS runs of @cmd: units per ms, or 0 if it failed. */
static uint64_t rate_of(const struct ash_backend *be,
			const struct ash_command *cmd,
			const struct ash_space *space)
{
	struct ash_op_args a;
	uint64_t best = UINT64_MAX, t0, ns;
	int i;

	if (ash_optable_check(cmd, &a))
		return 0;
	for (i = 0; i < CAL_ROUNDS; i++) {
		t0 = ash_engine_now_ns();
		if (ash_engine_exec(be, cmd, space))
			return 0;
		ns = ash_engine_now_ns() - t0;
		if (ns < best)
			best = ns;
	}
	return ash_cost_mul(a.cost, 1000000) / (best ? best : 1);
}

int ash_engine_calibrate(const struct ash_backend *be, uint64_t *units_per_ms)
{
	const uint64_t mat = (uint64_t)CAL_GEMM * CAL_GEMM * 4;
	const uint64_t size = 2 * (uint64_t)CAL_COPY;
	struct ash_gemm_params g = {
		.m = CAL_GEMM, .n = CAL_GEMM, .k = CAL_GEMM,
		.dtype = ASH_OP_F32, .alpha = 1.0f, .beta = 0.0f,
	};
	struct ash_eltwise_params e = { .count = CAL_ELEMS };
	struct ash_backend_mem mem = { .fd = -1 };
	struct ash_space space;
	struct ash_command c;
	uint64_t rate, best = UINT64_MAX;

	/* The backend's own device memory, as jobs will use it. */
	if (be->mem_create(&mem, "calibration", size))
		return -ENOMEM;
	space = (struct ash_space){
		.arena = mem.base, .arena_size = size, .size = size,
	};

	memset(&c, 0, sizeof(c));
	c.opcode = ASH_OP_GEMM;
	c.params_size = sizeof(g);
	memcpy(c.params, &g, sizeof(g));
	operand(&c, ASH_OPERAND_WRITE, 0, mat);
	operand(&c, ASH_OPERAND_READ, mat, mat);
	operand(&c, ASH_OPERAND_READ, 2 * mat, mat);
	rate = rate_of(be, &c, &space);
	best = rate && rate < best ? rate : best;

	memset(&c, 0, sizeof(c));
	c.opcode = ASH_OP_COPY;
	operand(&c, ASH_OPERAND_WRITE, 0, CAL_COPY);
	operand(&c, ASH_OPERAND_READ, CAL_COPY, CAL_COPY);
	rate = rate_of(be, &c, &space);
	best = rate && rate < best ? rate : best;

	memset(&c, 0, sizeof(c));
	c.opcode = ASH_OP_GELU;
	c.params_size = sizeof(e);
	memcpy(c.params, &e, sizeof(e));
	operand(&c, ASH_OPERAND_WRITE, 0, CAL_ELEMS * 4);
	operand(&c, ASH_OPERAND_READ, CAL_COPY, CAL_ELEMS * 4);
	rate = rate_of(be, &c, &space);
	best = rate && rate < best ? rate : best;

	be->mem_close(&mem);
	*units_per_ms = best == UINT64_MAX ? 0 : best;
	return 0;
}
