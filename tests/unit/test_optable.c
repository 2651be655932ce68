/* SPDX-License-Identifier: MIT */
/*
 * The op table (runtime/ops/optable.c) and the engine's job checks
 * (runtime/engine/run.c): every op's roles and the access each must
 * declare, its parameter checks against operand lengths, its cost and the
 * tiling rule; the same verdict and cost in the library's view (buffer
 * offsets, nonzero handles) and the engine's (device addresses, handles
 * 0); jobs refused whole -- a bad command, a cost over the budget, a
 * passed deadline -- with nothing written.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <accelshare.h>
#include "../../runtime/engine/backend.h"

#define R	ASH_OPERAND_READ
#define W	ASH_OPERAND_WRITE
#define MiB	(1ULL << 20)

/* Engine view: operand i of a command at device address (i + 1) MiB. */
static void opnd(struct ash_command *c, uint32_t flags, uint64_t len)
{
	struct ash_operand *o = &c->operands[c->nr_operands];

	o->flags = flags;
	o->offset = (uint64_t)(c->nr_operands + 1) * MiB;
	o->length = len;
	c->nr_operands++;
}

static struct ash_command cmd_of(uint32_t opcode, const void *p, uint32_t n)
{
	struct ash_command c;

	memset(&c, 0, sizeof(c));
	c.opcode = opcode;
	c.params_size = n;
	if (n)
		memcpy(c.params, p, n);
	return c;
}

/* A small valid command of every op, each operand exactly as long as the
 * op needs (so that shrinking one must fail). */
static struct ash_command valid(uint32_t opcode)
{
	struct ash_gemm_params g = { .m = 8, .n = 4, .k = 16,
				     .dtype = ASH_OP_F32, .alpha = 1 };
	struct ash_eltwise_params e = { .count = 64 };
	struct ash_rows_params rw = { .rows = 3, .cols = 16, .eps = 1e-5f };
	struct ash_rows_params sm = { .rows = 3, .cols = 16 };
	struct ash_rope_params rp = { .tokens = 2, .heads = 2, .head_dim = 8,
				      .theta = 10000 };
	struct ash_embedding_params em = { .nr_ids = 5, .dim = 8, .vocab = 10 };
	struct ash_fill_params f = { .pattern = 7 };
	struct ash_attention_params at = {
		.q_tokens = 2, .kv_tokens = 5, .heads = 4, .kv_heads = 2,
		.head_dim = 8, .q_pos0 = 3, .flags = ASH_ATTN_CAUSAL,
		.scale = 0.35f,
	};
	struct ash_command c;

	switch (opcode) {
	case ASH_OP_NOP:
		return cmd_of(opcode, NULL, 0);
	case ASH_OP_COPY:
		c = cmd_of(opcode, NULL, 0);
		opnd(&c, W, 100);
		opnd(&c, R, 100);
		return c;
	case ASH_OP_FILL:
		c = cmd_of(opcode, &f, sizeof(f));
		opnd(&c, W, 64);
		return c;
	case ASH_OP_GEMM:
		c = cmd_of(opcode, &g, sizeof(g));
		opnd(&c, W, 8 * 4 * 4);
		opnd(&c, R, 8 * 16 * 4);
		opnd(&c, R, 16 * 4 * 4);
		return c;
	case ASH_OP_ADD:
	case ASH_OP_MUL:
		c = cmd_of(opcode, &e, sizeof(e));
		opnd(&c, W, 256);
		opnd(&c, R, 256);
		opnd(&c, R, 256);
		return c;
	case ASH_OP_SILU:
	case ASH_OP_GELU:
	case ASH_OP_GELU_ERF:
		c = cmd_of(opcode, &e, sizeof(e));
		opnd(&c, W, 256);
		opnd(&c, R, 256);
		return c;
	case ASH_OP_LAYERNORM:
		c = cmd_of(opcode, &rw, sizeof(rw));
		opnd(&c, W, 3 * 16 * 4);
		opnd(&c, R, 3 * 16 * 4);
		opnd(&c, R, 16 * 4);
		opnd(&c, R, 16 * 4);
		return c;
	case ASH_OP_ARGMAX:
		c = cmd_of(opcode, &sm, sizeof(sm));
		opnd(&c, W, 3 * 4);
		opnd(&c, R, 3 * 16 * 4);
		return c;
	case ASH_OP_ATTENTION:
		c = cmd_of(opcode, &at, sizeof(at));
		opnd(&c, W, 2 * 4 * 8 * 4);
		opnd(&c, R, 2 * 4 * 8 * 4);
		opnd(&c, R, 5 * 2 * 8 * 4);
		opnd(&c, R, 5 * 2 * 8 * 4);
		return c;
	case ASH_OP_RMSNORM:
		c = cmd_of(opcode, &rw, sizeof(rw));
		opnd(&c, W, 3 * 16 * 4);
		opnd(&c, R, 3 * 16 * 4);
		opnd(&c, R, 16 * 4);
		return c;
	case ASH_OP_SOFTMAX:
		c = cmd_of(opcode, &sm, sizeof(sm));
		opnd(&c, W, 3 * 16 * 4);
		opnd(&c, R, 3 * 16 * 4);
		return c;
	case ASH_OP_ROPE:
		c = cmd_of(opcode, &rp, sizeof(rp));
		opnd(&c, W, 2 * 2 * 8 * 4);
		opnd(&c, R, 2 * 2 * 8 * 4);
		return c;
	case ASH_OP_EMBEDDING:
		c = cmd_of(opcode, &em, sizeof(em));
		opnd(&c, W, 5 * 8 * 4);
		opnd(&c, R, 10 * 8 * 4);
		opnd(&c, R, 5 * 4);
		return c;
	}
	fail_msg("no valid command for opcode %u", opcode);
	return cmd_of(0, NULL, 0);
}

/* What each op's valid() command costs, by the formulas of docs/engine.md. */
static uint64_t expected_cost(uint32_t opcode)
{
	switch (opcode) {
	case ASH_OP_NOP:
		return 0;
	case ASH_OP_COPY:
		return 2 * 100;
	case ASH_OP_FILL:
		return 64;
	case ASH_OP_GEMM:
		return 2 * 8 * 4 * 16 + 4 * (8 * 16 + 16 * 4) + 8 * 8 * 4;
	case ASH_OP_ADD:
	case ASH_OP_MUL:
		return 64 * (12 + 1);
	case ASH_OP_SILU:
		return 64 * (8 + ASH_COST_SILU);
	case ASH_OP_GELU:
		return 64 * (8 + ASH_COST_GELU);
	case ASH_OP_GELU_ERF:
		return 64 * (8 + ASH_COST_GELU_ERF);
	case ASH_OP_LAYERNORM:
		return 3 * 16 * (8 + ASH_COST_LAYERNORM) + 2 * 16 * 4;
	case ASH_OP_ARGMAX:
		return 3 * (16 * (4 + ASH_COST_ARGMAX) + 4);
	case ASH_OP_ATTENTION:
		/* 2 tokens x 4 heads x 5 kv x 8: a pair of two and 8 bytes
		 * each; q and out */
		return 2 * 4 * 5 * 8 * (2 * ASH_COST_ATTENTION + 8) +
		       2 * (2 * 4 * 8 * 4);
	case ASH_OP_RMSNORM:
		return 3 * 16 * (8 + ASH_COST_RMSNORM) + 16 * 4;
	case ASH_OP_SOFTMAX:
		return 3 * 16 * (8 + ASH_COST_SOFTMAX);
	case ASH_OP_ROPE:
		return 2 * 2 * 8 * (8 + ASH_COST_ROPE);
	case ASH_OP_EMBEDDING:
		return 5 * (4 + 8 * 8);
	}
	return UINT64_MAX;
}

/* The library's view of @c: operand k in buffer k + 1 at offset 64. */
static struct ash_command library_view(const struct ash_command *c)
{
	struct ash_command l = *c;
	uint32_t k;

	for (k = 0; k < l.nr_operands; k++) {
		l.operands[k].handle = k + 1;
		l.operands[k].offset = 64;
	}
	return l;
}

static int check(const struct ash_command *c)
{
	struct ash_op_args a;

	return ash_optable_check(c, &a);
}

static void every_op_is_described_and_has_a_cpu_function(void **state)
{
	uint32_t op, k;

	(void)state;
	for (op = 0; op < ASH_OP_COUNT; op++) {
		const struct ash_op_desc *d = ash_optable_desc(op);

		assert_non_null(d);
		assert_true(d->name && d->name[0]);
		assert_string_equal(ash_optable_name(op), d->name);
		assert_true(d->nr_operands <= ASH_CMD_MAX_OPERANDS);
		assert_true(d->params_size <= ASH_CMD_PARAMS_MAX);
		assert_non_null(d->check);
		assert_non_null(d->cost);
		assert_non_null(ash_backend_cpu.run[op]);
		/* One output first, then inputs; no role past the count. */
		for (k = 0; k < ASH_CMD_MAX_OPERANDS; k++)
			assert_int_equal(d->role[k],
					 k >= d->nr_operands ? ASH_ROLE_NONE :
					 k == 0 ? ASH_ROLE_OUT : ASH_ROLE_IN);
	}
	assert_null(ash_optable_desc(ASH_OP_COUNT));
	assert_null(ash_optable_desc(UINT32_MAX));
	assert_string_equal(ash_optable_name(ASH_OP_COUNT), "unknown");
}

static void valid_commands_cost_what_the_model_says_in_both_views(void **state)
{
	struct ash_command c, l;
	struct ash_op_args a, b;
	uint32_t op;

	(void)state;
	for (op = 0; op < ASH_OP_COUNT; op++) {
		c = valid(op);
		l = library_view(&c);
		assert_int_equal(ash_optable_check(&c, &a), 0);
		assert_int_equal(ash_optable_check(&l, &b), 0);
		assert_int_equal(a.cost, expected_cost(op));
		assert_int_equal(b.cost, a.cost);
	}
}

static void roles_need_exactly_their_access(void **state)
{
	static const uint32_t bad_out[] = { R, 0, 4, W | 4 };
	static const uint32_t bad_in[] = { W, R | W, 0, R | 8 };
	struct ash_command c, l;
	uint32_t op, k, i;

	(void)state;
	for (op = 0; op < ASH_OP_COUNT; op++) {
		const struct ash_op_desc *d = ash_optable_desc(op);

		for (k = 0; k < d->nr_operands; k++) {
			const uint32_t *bad = k ? bad_in : bad_out;

			for (i = 0; i < 4; i++) {
				c = valid(op);
				c.operands[k].flags = bad[i];
				l = library_view(&c);
				assert_int_equal(check(&c), -EINVAL);
				assert_int_equal(check(&l), -EINVAL);
			}
			if (!k) {	/* an output may be read too */
				c = valid(op);
				c.operands[0].flags = R | W;
				assert_int_equal(check(&c), 0);
			}
		}
	}
}

static void envelope_of_the_op_is_checked(void **state)
{
	struct ash_command c;
	uint32_t op;

	(void)state;
	for (op = 0; op < ASH_OP_COUNT; op++) {
		const struct ash_op_desc *d = ash_optable_desc(op);

		c = valid(op);
		c.opcode = ASH_OP_COUNT + op;
		assert_int_equal(check(&c), -EINVAL);
		c = valid(op);
		c.flags = 1;
		assert_int_equal(check(&c), -EINVAL);
		c = valid(op);
		c.params_size++;
		assert_int_equal(check(&c), -EINVAL);
		if (d->params_size) {
			c = valid(op);
			c.params_size--;
			assert_int_equal(check(&c), -EINVAL);
		}
		c = valid(op);
		c.params[ASH_CMD_PARAMS_MAX - 1] = 1;
		assert_int_equal(check(&c), -EINVAL);
		/* One operand more (set) or fewer (left set). */
		c = valid(op);
		if (c.nr_operands < ASH_CMD_MAX_OPERANDS) {
			opnd(&c, R, 64);
			assert_int_equal(check(&c), -EINVAL);
		}
		c = valid(op);
		if (c.nr_operands) {
			c.nr_operands--;
			assert_int_equal(check(&c), -EINVAL);
			c = valid(op);
			c.operands[0].length = 0;
			assert_int_equal(check(&c), -EINVAL);
		}
	}
}

/* Each operand one element shorter than the parameters need: refused.
 * (FILL has no size but its operand's.) */
static void parameters_must_fit_the_operands(void **state)
{
	struct ash_command c;
	uint32_t op, k;

	(void)state;
	for (op = 0; op < ASH_OP_COUNT; op++) {
		for (k = 0; k < ash_optable_desc(op)->nr_operands; k++) {
			c = valid(op);
			c.operands[k].length -= 4;
			assert_int_equal(check(&c),
					 op == ASH_OP_FILL ? 0 : -EINVAL);
			/* Longer than needed is fine, except COPY's pair. */
			c = valid(op);
			c.operands[k].length += 4;
			assert_int_equal(check(&c),
					 op == ASH_OP_COPY ? -EINVAL : 0);
		}
	}
}

static void aliasing_is_judged_per_buffer(void **state)
{
	struct ash_command c = valid(ASH_OP_GEMM), l;

	(void)state;
	/* C over A, in the engine's view: the same device addresses. */
	c.operands[1].offset = c.operands[0].offset;
	assert_int_equal(check(&c), -EINVAL);
	/* In the library's view, the same offset of two buffers is fine... */
	l = library_view(&c);
	assert_int_equal(check(&l), 0);
	/* ...of one buffer it is not. */
	l.operands[1].handle = l.operands[0].handle;
	assert_int_equal(check(&l), -EINVAL);
	/* Element-wise in place: the very same range is fine. */
	c = valid(ASH_OP_SILU);
	c.operands[1].offset = c.operands[0].offset;
	assert_int_equal(check(&c), 0);
	c.operands[1].offset += 4;
	assert_int_equal(check(&c), -EINVAL);
}

static void gemm_tiles_fit_the_budget(void **state)
{
	static const uint32_t shapes[][4] = {
		{ 1, 1, 1, 4 }, { 1000, 1024, 1024, 4 }, { 3, 200, 70000, 2 },
		{ 4096, 4096, 4096, 2 }, { 1, 4096, 4096, 4 },
		{ 65536, 1, 1, 4 }, { 7, 100000, 100000, 2 },
		{ 1, 1, 4000000000u, 4 },
	};
	uint64_t budgets[] = { ASH_JOB_COST_MAX, 4 * ASH_JOB_COST_MAX,
			       1ULL << 40 };
	uint64_t mt, nt, kt;
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
		for (j = 0; j < sizeof(budgets) / sizeof(budgets[0]); j++) {
			const uint32_t *s = shapes[i];

			ash_gemm_tiles(s[0], s[1], s[2], s[3], budgets[j],
				       &mt, &nt, &kt);
			assert_true(mt >= 1 && mt <= s[0]);
			assert_true(nt >= 1 && kt >= 1 && kt <= s[2]);
			assert_true(ash_cost_gemm(mt, nt < s[1] ? nt : s[1],
						  kt, s[3]) <= budgets[j]);
		}
	/* A budget that holds the whole product: one tile. */
	ash_gemm_tiles(64, 64, 64, 4, 1ULL << 40, &mt, &nt, &kt);
	assert_int_equal(mt, 64);
	assert_int_equal(nt, 64);
	assert_int_equal(kt, 64);
	assert_int_equal(ash_per_tile(10, 5, 105), 10);
	assert_int_equal(ash_per_tile(10, 100, 105), 0);
	assert_int_equal(ash_per_tile(0, 0, 1), UINT64_MAX);
}

/* --- whole jobs, as the engine runs them --------------------------------- */

#define SPACE	(16 * MiB)

static uint8_t *space, *snapshot;

static int setup(void **state)
{
	(void)state;
	space = aligned_alloc(4096, SPACE);
	snapshot = malloc(SPACE);
	if (!space || !snapshot)
		return -1;
	memset(space, 0x5a, SPACE);
	memcpy(snapshot, space, SPACE);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(space);
	free(snapshot);
	return 0;
}

static struct ash_job_run runner(uint64_t budget)
{
	struct ash_job_run r = {
		.be = &ash_backend_cpu,
		.space = { .host = space, .size = SPACE },
		.budget = budget,
	};

	return r;
}

/* The hostile job: 256 GEMMs of 1024^3 over 12 MiB of buffers. */
static void over_budget_job_is_refused_whole(void **state)
{
	static struct ash_command cmds[ASH_JOB_MAX_COMMANDS];
	struct ash_gemm_params g = { .m = 1024, .n = 1024, .k = 1024,
				     .dtype = ASH_OP_F32, .alpha = 1 };
	struct ash_job_run r = runner(ASH_JOB_COST_MAX);
	uint64_t cost = 0;
	uint32_t failed, i;

	(void)state;
	for (i = 0; i < ASH_JOB_MAX_COMMANDS; i++) {
		cmds[i] = cmd_of(ASH_OP_GEMM, &g, sizeof(g));
		opnd(&cmds[i], W, 4 * MiB);	/* at 1, 5 and 9 MiB */
		opnd(&cmds[i], R, 4 * MiB);
		opnd(&cmds[i], R, 4 * MiB);
		cmds[i].operands[1].offset = 5 * MiB;
		cmds[i].operands[2].offset = 9 * MiB;
	}
	assert_int_equal(ash_engine_run_job(&r, cmds, ASH_JOB_MAX_COMMANDS,
					    &failed, &cost), -E2BIG);
	assert_int_equal(cost, 256 * ash_cost_gemm(1024, 1024, 1024, 4));
	assert_memory_equal(space, snapshot, SPACE);
	/* One of them alone is over the budget too; within a larger one it
	 * runs. */
	assert_int_equal(ash_engine_run_job(&r, cmds, 1, &failed, &cost),
			 -E2BIG);
	r.budget = cost;
	assert_int_equal(ash_engine_run_job(&r, cmds, 1, &failed, &cost), 0);
}

static void a_bad_command_anywhere_refuses_the_job(void **state)
{
	struct ash_command cmds[3];
	struct ash_job_run r = runner(0);
	uint64_t cost;
	uint32_t failed;

	(void)state;
	cmds[0] = valid(ASH_OP_FILL);
	cmds[1] = valid(ASH_OP_COPY);
	cmds[2] = valid(ASH_OP_GELU);
	cmds[2].operands[0].flags = R;		/* output declared read */
	assert_int_equal(ash_engine_run_job(&r, cmds, 3, &failed, &cost),
			 -EINVAL);
	assert_int_equal(failed, 2);
	assert_memory_equal(space, snapshot, SPACE);
	/* Outside the mapping: the driver's bug, -EFAULT, nothing written. */
	cmds[2] = valid(ASH_OP_GELU);
	cmds[2].operands[1].offset = SPACE - 128;
	assert_int_equal(ash_engine_run_job(&r, cmds, 3, &failed, &cost),
			 -EFAULT);
	assert_memory_equal(space, snapshot, SPACE);
	cmds[2] = valid(ASH_OP_GELU);
	assert_int_equal(ash_engine_run_job(&r, cmds, 3, &failed, &cost), 0);
	assert_int_equal(cost, expected_cost(ASH_OP_FILL) +
			 expected_cost(ASH_OP_COPY) +
			 expected_cost(ASH_OP_GELU));
}

static void a_passed_deadline_abandons_the_job(void **state)
{
	struct ash_command cmds[2];
	struct ash_job_run r = runner(0);
	uint64_t cost;
	uint32_t failed;

	(void)state;
	cmds[0] = valid(ASH_OP_FILL);
	cmds[1] = valid(ASH_OP_FILL);
	r.deadline_ns = ash_engine_now_ns();
	assert_int_equal(ash_engine_run_job(&r, cmds, 2, &failed, &cost),
			 -ETIMEDOUT);
	assert_int_equal(failed, 0);
	assert_memory_equal(space, snapshot, SPACE);
	/* A hung engine (the test knob) runs on. */
	r.ignore_deadline = true;
	assert_int_equal(ash_engine_run_job(&r, cmds, 2, &failed, &cost), 0);
	r.ignore_deadline = false;
	r.deadline_ns = ash_engine_now_ns() + 60ULL * 1000000000;
	assert_int_equal(ash_engine_run_job(&r, cmds, 2, &failed, &cost), 0);
}

static void calibration_measures_a_rate(void **state)
{
	uint64_t rate = 0;

	(void)state;
	assert_int_equal(ash_engine_calibrate(&ash_backend_cpu, &rate), 0);
	/* Any CPU runs more than 1000 units (bytes or flops) in a ms. */
	assert_true(rate > 1000);
}

/* Quantized weights: B stored n x k in whole blocks, A f32, only
 * TRANS_B; embedding tables of every dtype; nothing else slips through. */
static void quantized_operands_are_whole_blocks(void **state)
{
	static const uint32_t qt[] = { ASH_OP_Q8_0, ASH_OP_Q4_0 };
	unsigned int i;

	(void)state;
	for (i = 0; i < 2; i++) {
		uint64_t bb = qt[i] == ASH_OP_Q8_0 ? 34 : 18;
		struct ash_gemm_params g = { .m = 2, .n = 3, .k = 64,
					     .dtype = qt[i],
					     .flags = ASH_GEMM_TRANS_B |
						      ASH_GEMM_A_F32,
					     .alpha = 1 };
		struct ash_embedding_params e = { .nr_ids = 2, .dim = 64,
						  .vocab = 10, .dtype = qt[i] };
		struct ash_gemm_params bad;
		struct ash_command c;
		struct ash_op_args a;

		c = cmd_of(ASH_OP_GEMM, &g, sizeof(g));
		opnd(&c, W, 2 * 3 * 4);
		opnd(&c, R, 2 * 64 * 4);
		opnd(&c, R, 3 * 2 * bb);
		assert_int_equal(ash_optable_check(&c, &a), 0);
		assert_int_equal(a.bytes[2], 3 * 2 * bb);
		c.operands[2].length--;
		assert_int_equal(check(&c), -EINVAL);
		c.operands[2].length++;
		c.operands[2].offset++;		/* scales are 2-byte aligned */
		assert_int_equal(check(&c), -EINVAL);
		c.operands[2].offset--;
		bad = g;
		bad.flags = ASH_GEMM_A_F32;	/* B must be stored n x k */
		memcpy(c.params, &bad, sizeof(bad));
		assert_int_equal(check(&c), -EINVAL);
		bad.flags = ASH_GEMM_TRANS_B;	/* quantized A: no such thing */
		memcpy(c.params, &bad, sizeof(bad));
		assert_int_equal(check(&c), -EINVAL);
		bad.flags |= ASH_GEMM_TRANS_A | ASH_GEMM_A_F32;
		memcpy(c.params, &bad, sizeof(bad));
		assert_int_equal(check(&c), -EINVAL);
		bad.flags = ASH_GEMM_TRANS_B | ASH_GEMM_A_F32 | (1U << 3);
		memcpy(c.params, &bad, sizeof(bad));
		assert_int_equal(check(&c), -EINVAL);
		bad = g;
		bad.k = 48;			/* not whole blocks */
		memcpy(c.params, &bad, sizeof(bad));
		assert_int_equal(check(&c), -EINVAL);
		bad = g;
		bad.ldb = 80;
		memcpy(c.params, &bad, sizeof(bad));
		assert_int_equal(check(&c), -EINVAL);
		bad.ldb = 96;			/* whole blocks: 2 rows of 3 */
		memcpy(c.params, &bad, sizeof(bad));
		c.operands[2].length = (2 * 96 + 64) / 32 * bb;
		assert_int_equal(check(&c), 0);

		c = cmd_of(ASH_OP_EMBEDDING, &e, sizeof(e));
		opnd(&c, W, 2 * 64 * 4);
		opnd(&c, R, 10 * 2 * bb);
		opnd(&c, R, 2 * 4);
		assert_int_equal(check(&c), 0);
		c.operands[1].length--;
		assert_int_equal(check(&c), -EINVAL);
		c.operands[1].length++;
		e.dim = 40;
		memcpy(c.params, &e, sizeof(e));
		assert_int_equal(check(&c), -EINVAL);
		e.dim = 64;
		e.dtype = ASH_OP_Q4_0 + 1;	/* no such dtype */
		memcpy(c.params, &e, sizeof(e));
		assert_int_equal(check(&c), -EINVAL);
	}
	{
		/* f16 weights against f32 activations: A's bytes are f32's */
		struct ash_gemm_params g = { .m = 2, .n = 3, .k = 5,
					     .dtype = ASH_OP_F16,
					     .flags = ASH_GEMM_TRANS_B |
						      ASH_GEMM_A_F32,
					     .alpha = 1 };
		struct ash_command c = cmd_of(ASH_OP_GEMM, &g, sizeof(g));

		opnd(&c, W, 2 * 3 * 4);
		opnd(&c, R, 2 * 5 * 4);
		opnd(&c, R, 3 * 5 * 2);
		assert_int_equal(check(&c), 0);
		c.operands[1].length--;
		assert_int_equal(check(&c), -EINVAL);
	}
	assert_int_equal(ash_op_bytes(ASH_OP_Q8_0, 33), 0);
	assert_int_equal(ash_op_bytes(ASH_OP_F16, 3), 6);
	assert_int_equal(ash_op_bytes(7, 32), 0);
	assert_int_equal(ash_op_bytes(ASH_OP_F32, UINT64_MAX / 2), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(quantized_operands_are_whole_blocks),
		cmocka_unit_test(every_op_is_described_and_has_a_cpu_function),
		cmocka_unit_test(valid_commands_cost_what_the_model_says_in_both_views),
		cmocka_unit_test(roles_need_exactly_their_access),
		cmocka_unit_test(envelope_of_the_op_is_checked),
		cmocka_unit_test(parameters_must_fit_the_operands),
		cmocka_unit_test(aliasing_is_judged_per_buffer),
		cmocka_unit_test(gemm_tiles_fit_the_budget),
		cmocka_unit_test_setup_teardown(over_budget_job_is_refused_whole,
						setup, teardown),
		cmocka_unit_test_setup_teardown(a_bad_command_anywhere_refuses_the_job,
						setup, teardown),
		cmocka_unit_test_setup_teardown(a_passed_deadline_abandons_the_job,
						setup, teardown),
		cmocka_unit_test(calibration_measures_a_rate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
