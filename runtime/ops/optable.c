/* SPDX-License-Identifier: MIT */
/*
 * The op table (optable.h; docs/engine.md lists the ops, their operands,
 * checks and costs for readers).
 *
 * Every check here works on operand offsets and lengths alone, so that the
 * library (buffer offsets, nonzero handles) and the engine (device
 * addresses, handles 0) run the same code: alignment is that of the offset
 * (buffers start on page boundaries of the device address space), and two
 * operands alias only if they name the same buffer and their touched
 * ranges meet.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include "optable.h"

#define IN	ASH_ROLE_IN
#define OUT	ASH_ROLE_OUT

uint64_t ash_cost_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

uint64_t ash_cost_mul(uint64_t a, uint64_t b)
{
	uint64_t r;

	return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* ---- shared checks ---- */

static const struct ash_operand *opnd(const struct ash_op_args *a, int i)
{
	return &a->cmd->operands[i];
}

static bool aligned(const struct ash_op_args *a, int i, unsigned int align)
{
	return (opnd(a, i)->offset & (align - 1)) == 0;
}

/* n * size bytes, failing on overflow or when past the operand. */
static int fits(struct ash_op_args *a, int i, uint64_t n, uint64_t size)
{
	uint64_t bytes;

	if (__builtin_mul_overflow(n, size, &bytes) ||
	    bytes > opnd(a, i)->length)
		return -EINVAL;
	a->bytes[i] = bytes;
	return 0;
}

/* The ranges the op touches of operands i and j do not overlap. */
static bool disjoint(const struct ash_op_args *a, int i, int j)
{
	const struct ash_operand *x = opnd(a, i), *y = opnd(a, j);

	if (x->handle != y->handle)	/* two buffers of the library's view */
		return true;
	return x->offset + a->bytes[i] <= y->offset ||
	       y->offset + a->bytes[j] <= x->offset;
}

/* Element-wise in place: the ranges are the same or do not overlap. */
static bool same_or_disjoint(const struct ash_op_args *a, int i, int j)
{
	const struct ash_operand *x = opnd(a, i), *y = opnd(a, j);

	return (x->handle == y->handle && x->offset == y->offset &&
		a->bytes[i] == a->bytes[j]) || disjoint(a, i, j);
}

/* ---- NOP, COPY, FILL ---- */

static int check_none(struct ash_op_args *a)
{
	(void)a;
	return 0;
}

static uint64_t cost_none(const struct ash_op_args *a)
{
	(void)a;
	return 0;
}

static int check_copy(struct ash_op_args *a)
{
	if (opnd(a, 0)->length != opnd(a, 1)->length)
		return -EINVAL;
	a->bytes[0] = a->bytes[1] = opnd(a, 0)->length;
	return 0;
}

static uint64_t cost_copy(const struct ash_op_args *a)
{
	return ash_cost_mul(2, opnd(a, 0)->length);	/* read + write */
}

static int check_fill(struct ash_op_args *a)
{
	if (a->u.fill.pad || opnd(a, 0)->length % 4 || !aligned(a, 0, 4))
		return -EINVAL;
	a->bytes[0] = opnd(a, 0)->length;
	return 0;
}

static uint64_t cost_fill(const struct ash_op_args *a)
{
	return opnd(a, 0)->length;
}

/* ---- GEMM ---- */

/* Cost units per element of A and B of one dtype: their bytes.  Quantized
 * B comes with f32 A (ASH_GEMM_A_F32), all counted as 4: B's 1.06 or 0.56
 * bytes an element and its dequantization cost less. */
static unsigned int gemm_esize(uint32_t dtype)
{
	switch (dtype) {
	case ASH_OP_F32:
	case ASH_OP_Q8_0:
	case ASH_OP_Q4_0:
		return 4;
	case ASH_OP_F16:
	case ASH_OP_BF16:
		return 2;
	}
	return 0;
}

bool ash_op_quantized(uint32_t dtype)
{
	return dtype == ASH_OP_Q8_0 || dtype == ASH_OP_Q4_0;
}

uint64_t ash_op_bytes(uint32_t dtype, uint64_t elems)
{
	uint64_t bytes;

	switch (dtype) {
	case ASH_OP_F32:
		return __builtin_mul_overflow(elems, 4, &bytes) ? 0 : bytes;
	case ASH_OP_F16:
	case ASH_OP_BF16:
		return __builtin_mul_overflow(elems, 2, &bytes) ? 0 : bytes;
	case ASH_OP_Q8_0:
	case ASH_OP_Q4_0:
		if (elems % ASH_OP_QBLOCK)
			return 0;
		return elems / ASH_OP_QBLOCK *
		       (dtype == ASH_OP_Q8_0 ? ASH_Q8_0_BYTES : ASH_Q4_0_BYTES);
	}
	return 0;
}

/* The stored matrix of an operand: rows x cols, leading dimension *ld
 * (0: cols), elements of op dtype @dtype (quantized: rows of whole blocks);
 * sets bytes[i]. */
static int check_matrix(struct ash_op_args *a, int i, uint32_t rows,
			uint32_t cols, uint32_t *ld, uint32_t dtype)
{
	bool q = ash_op_quantized(dtype);
	uint64_t elems, bytes;

	if (!*ld)
		*ld = cols;
	if (*ld < cols || rows > INT_MAX || cols > INT_MAX || *ld > INT_MAX)
		return -EINVAL;
	if (q && (cols % ASH_OP_QBLOCK || *ld % ASH_OP_QBLOCK))
		return -EINVAL;
	/* (rows - 1) * ld + cols < 2^62: no overflow in 64 bits. */
	elems = (uint64_t)(rows - 1) * *ld + cols;
	bytes = ash_op_bytes(dtype, elems);
	if (!bytes || bytes > opnd(a, i)->length ||
	    !aligned(a, i, q ? 2 : (unsigned int)(bytes / elems)))
		return -EINVAL;
	a->bytes[i] = bytes;
	return 0;
}

/* Cost units per element of A and B, for tiling and cost alike. */
static unsigned int gemm_units(const struct ash_gemm_params *g)
{
	return g->flags & ASH_GEMM_A_F32 ? 4 : gemm_esize(g->dtype);
}

static int check_gemm(struct ash_op_args *a)
{
	const uint32_t mixed = ASH_GEMM_A_F32 | ASH_GEMM_TRANS_B;
	struct ash_gemm_params *g = &a->u.gemm;
	bool ta = g->flags & ASH_GEMM_TRANS_A, tb = g->flags & ASH_GEMM_TRANS_B;
	bool a_f32 = g->flags & ASH_GEMM_A_F32;

	if (!gemm_esize(g->dtype) ||
	    (g->flags & ~(ASH_GEMM_TRANS_A | ASH_GEMM_TRANS_B |
			  ASH_GEMM_A_F32)) ||
	    (a_f32 && g->flags != mixed) ||
	    (ash_op_quantized(g->dtype) && !a_f32))
		return -EINVAL;
	if (!g->m || !g->n || !g->k)
		return -EINVAL;
	/* C: m x n f32; A: m x k (k x m transposed); B: k x n (n x k). */
	if (check_matrix(a, 0, g->m, g->n, &g->ldc, ASH_OP_F32) ||
	    check_matrix(a, 1, ta ? g->k : g->m, ta ? g->m : g->k, &g->lda,
			 a_f32 ? ASH_OP_F32 : g->dtype) ||
	    check_matrix(a, 2, tb ? g->n : g->k, tb ? g->k : g->n, &g->ldb,
			 g->dtype))
		return -EINVAL;
	/* BLAS does not allow the output to alias an input. */
	if (!disjoint(a, 0, 1) || !disjoint(a, 0, 2))
		return -EINVAL;
	return 0;
}

uint64_t ash_cost_gemm(uint64_t mt, uint64_t nt, uint64_t kt, uint32_t es)
{
	uint64_t mn = ash_cost_mul(mt, nt);

	return ash_cost_add(ash_cost_add(ash_cost_mul(2 * kt, mn),
					 ash_cost_mul(es, ash_cost_add(
						ash_cost_mul(mt, kt),
						ash_cost_mul(kt, nt)))),
			    ash_cost_mul(8, mn));
}

static uint64_t cost_gemm(const struct ash_op_args *a)
{
	const struct ash_gemm_params *g = &a->u.gemm;

	return ash_cost_gemm(g->m, g->n, g->k, gemm_units(g));
}

uint64_t ash_per_tile(uint64_t per, uint64_t fixed, uint64_t budget)
{
	if (fixed >= budget || (per && per > budget - fixed))
		return 0;
	return per ? (budget - fixed) / per : UINT64_MAX;
}

/* The narrowest block of C's columns a GEMM is cut into before k is cut. */
#define GEMM_MIN_COLS	64

static unsigned __int128 gemm_cost128(uint64_t mt, uint64_t nt, uint64_t kt,
				      uint32_t es)
{
	unsigned __int128 m = mt, n = nt, k = kt;

	return 2 * m * n * k + es * (m * k + k * n) + 8 * m * n;
}

/* Most rows of C a tile of @nt columns over @kt may have; 0 if not one.
 * A tile reads its block of B once whatever its rows. */
static uint64_t gemm_rows(uint64_t nt, uint64_t kt, uint32_t es,
			  uint64_t budget)
{
	unsigned __int128 fixed = (unsigned __int128)es * kt * nt;
	unsigned __int128 row = gemm_cost128(1, nt, kt, es) - fixed;

	if (fixed + row > budget)
		return 0;
	return (uint64_t)((budget - fixed) / row);
}

void ash_gemm_tiles(uint32_t m, uint32_t n, uint32_t k, uint32_t es,
		    uint64_t budget, uint64_t *mt, uint64_t *nt, uint64_t *kt)
{
	uint64_t rows;

	*nt = n;
	*kt = k;
	rows = gemm_rows(n, k, es, budget);
	if (!rows) {
		/* cost(1, nt, k) = nt * (2k + es k + 8) + es k */
		unsigned __int128 per_col = (unsigned __int128)k * (2 + es) + 8;
		uint64_t fixed = (uint64_t)es * k;
		uint64_t cols = fixed < budget ?
			(uint64_t)((budget - fixed) / per_col) : 0;

		if (cols >= min_u64(n, GEMM_MIN_COLS)) {
			*nt = cols;
		} else {
			/* cost(1, nt, kt) = kt (2 nt + es + es nt) + 8 nt */
			*nt = min_u64(n, GEMM_MIN_COLS);
			*kt = (budget - 8 * *nt) / (2 * *nt + es + es * *nt);
		}
		rows = gemm_rows(*nt, *kt, es, budget);
	}
	*mt = min_u64(rows ? rows : 1, m);
}

/* ---- element-wise ---- */

static uint64_t eltwise_flops(uint32_t opcode)
{
	switch (opcode) {
	case ASH_OP_ADD:
		return ASH_COST_ADD;
	case ASH_OP_MUL:
		return ASH_COST_MUL;
	case ASH_OP_SILU:
		return ASH_COST_SILU;
	case ASH_OP_GELU:
		return ASH_COST_GELU;
	case ASH_OP_RMSNORM:
		return ASH_COST_RMSNORM;
	case ASH_OP_SOFTMAX:
		return ASH_COST_SOFTMAX;
	case ASH_OP_GELU_ERF:
		return ASH_COST_GELU_ERF;
	case ASH_OP_LAYERNORM:
		return ASH_COST_LAYERNORM;
	case ASH_OP_ARGMAX:
		return ASH_COST_ARGMAX;
	}
	return 0;
}

static int check_eltwise(struct ash_op_args *a)
{
	unsigned int nr = a->cmd->nr_operands, i;
	uint64_t count = a->u.elt.count;

	if (!count)
		return -EINVAL;
	for (i = 0; i < nr; i++)
		if (fits(a, (int)i, count, 4) || !aligned(a, (int)i, 4))
			return -EINVAL;
	for (i = 1; i < nr; i++)
		if (!same_or_disjoint(a, 0, (int)i))
			return -EINVAL;
	return 0;
}

/* Each element: 4 bytes per operand read or written, plus the arithmetic. */
static uint64_t cost_eltwise(const struct ash_op_args *a)
{
	return ash_cost_mul(a->u.elt.count, 4 * a->cmd->nr_operands +
			    eltwise_flops(a->cmd->opcode));
}

/* ---- per-row ---- */

/* Row vectors a row op reads once for all rows: weight, bias. */
static uint32_t row_vectors(uint32_t opcode)
{
	return opcode == ASH_OP_RMSNORM ? 1 : opcode == ASH_OP_LAYERNORM ? 2 : 0;
}

static int check_rows(struct ash_op_args *a)
{
	const struct ash_rows_params *r = &a->u.rows;
	uint32_t op = a->cmd->opcode, vecs = row_vectors(op), i;
	bool norm = vecs > 0, argmax = op == ASH_OP_ARGMAX;
	uint64_t elems = (uint64_t)r->rows * r->cols;	/* < 2^64 */

	if (r->pad || !r->rows || !r->cols)
		return -EINVAL;
	if (norm ? !(isfinite(r->eps) && r->eps >= 0.0f) : r->eps != 0.0f)
		return -EINVAL;
	if (!norm && signbit(r->eps))		/* -0.0: not all-zero bits */
		return -EINVAL;
	/* ARGMAX writes one u32 a row, into memory apart from its input. */
	if (fits(a, 0, argmax ? r->rows : elems, 4) || fits(a, 1, elems, 4) ||
	    !aligned(a, 0, 4) || !aligned(a, 1, 4) ||
	    !(argmax ? disjoint(a, 0, 1) : same_or_disjoint(a, 0, 1)))
		return -EINVAL;
	for (i = 2; i < 2 + vecs; i++)
		if (fits(a, (int)i, r->cols, 4) || !aligned(a, (int)i, 4) ||
		    !disjoint(a, 0, (int)i))
			return -EINVAL;
	return 0;
}

/*
 * Each row: 4 bytes an element read, 4 written (ARGMAX: 4 a row), plus
 * the arithmetic; weight and bias rows are read once.
 */
static uint64_t cost_rows(const struct ash_op_args *a)
{
	const struct ash_rows_params *r = &a->u.rows;
	uint32_t op = a->cmd->opcode;
	uint64_t row = op == ASH_OP_ARGMAX ?
		       ash_cost_add(ash_cost_mul(r->cols, 4 + ASH_COST_ARGMAX), 4) :
		       ash_cost_mul(r->cols, 8 + eltwise_flops(op));

	return ash_cost_add(ash_cost_mul(r->rows, row),
			    (uint64_t)r->cols * 4 * row_vectors(op));
}

/* ---- RoPE ---- */

static int check_rope(struct ash_op_args *a)
{
	const struct ash_rope_params *r = &a->u.rope;
	uint64_t elems;

	if (r->pad || !r->tokens || !r->heads || !r->head_dim ||
	    r->head_dim % 2 || !isfinite(r->theta) || !(r->theta > 0.0f))
		return -EINVAL;
	if (__builtin_mul_overflow((uint64_t)r->tokens * r->heads,
				   (uint64_t)r->head_dim, &elems))
		return -EINVAL;
	if (fits(a, 0, elems, 4) || fits(a, 1, elems, 4) ||
	    !aligned(a, 0, 4) || !aligned(a, 1, 4) ||
	    !same_or_disjoint(a, 0, 1))
		return -EINVAL;
	return 0;
}

static uint64_t cost_rope(const struct ash_op_args *a)
{
	const struct ash_rope_params *r = &a->u.rope;

	return ash_cost_mul(ash_cost_mul((uint64_t)r->tokens * r->heads,
					 r->head_dim), 8 + ASH_COST_ROPE);
}

/* ---- EMBEDDING ---- */

static int check_embedding(struct ash_op_args *a)
{
	const struct ash_embedding_params *e = &a->u.emb;
	uint32_t ld = 0;

	if (!e->nr_ids || !e->dim || !e->vocab || !gemm_esize(e->dtype))
		return -EINVAL;
	if (fits(a, 0, (uint64_t)e->nr_ids * e->dim, 4) ||
	    check_matrix(a, 1, e->vocab, e->dim, &ld, e->dtype) ||
	    fits(a, 2, e->nr_ids, 4) ||
	    !aligned(a, 0, 4) || !aligned(a, 2, 4) ||
	    !disjoint(a, 0, 1) || !disjoint(a, 0, 2))
		return -EINVAL;
	return 0;
}

static uint64_t cost_embedding(const struct ash_op_args *a)
{
	const struct ash_embedding_params *e = &a->u.emb;

	return ash_cost_mul(e->nr_ids, 4 + 8 * (uint64_t)e->dim);
}

/* ---- ATTENTION ---- */

static int check_attention(struct ash_op_args *a)
{
	const struct ash_attention_params *t = &a->u.attn;
	uint64_t qn, kvn;
	int i;

	if ((t->flags & ~ASH_ATTN_CAUSAL) || !t->q_tokens || !t->kv_tokens ||
	    !t->heads || !t->kv_heads || !t->head_dim ||
	    t->heads % t->kv_heads || !isfinite(t->scale) || !(t->scale > 0.0f))
		return -EINVAL;
	if ((t->flags & ASH_ATTN_CAUSAL) ?
	    (uint64_t)t->q_pos0 + t->q_tokens > t->kv_tokens : t->q_pos0)
		return -EINVAL;
	if (t->nr_heads ? t->q_tokens != 1 ||
	    (uint64_t)t->head0 + t->nr_heads > t->heads : t->head0)
		return -EINVAL;
	if (__builtin_mul_overflow((uint64_t)t->q_tokens * ash_attn_heads(t),
				   (uint64_t)t->head_dim, &qn) ||
	    __builtin_mul_overflow((uint64_t)t->kv_tokens * t->kv_heads,
				   (uint64_t)t->head_dim, &kvn))
		return -EINVAL;
	if (fits(a, 0, qn, 4) || fits(a, 1, qn, 4) || fits(a, 2, kvn, 4) ||
	    fits(a, 3, kvn, 4))
		return -EINVAL;
	for (i = 0; i < 4; i++)
		if (!aligned(a, i, 4))
			return -EINVAL;
	for (i = 1; i < 4; i++)
		if (!disjoint(a, 0, i))
			return -EINVAL;
	return 0;
}

/*
 * Every query token and head against the kv tokens it sees (all of them,
 * as an upper bound for causal): per element of head_dim a q.k and a p.v
 * pair, and the 8 bytes of k and v they read; plus q and out.
 */
static uint64_t cost_attention(const struct ash_op_args *a)
{
	const struct ash_attention_params *t = &a->u.attn;
	uint64_t pairs = ash_cost_mul(ash_cost_mul((uint64_t)t->q_tokens *
						   ash_attn_heads(t),
						   t->kv_tokens),
				      t->head_dim);

	return ash_cost_add(ash_cost_mul(pairs, 2 * ASH_COST_ATTENTION + 8),
			    a->bytes[0] + a->bytes[1]);
}

/* ---- the table ---- */

#define ELT3 { OUT, IN, IN }
#define ELT2 { OUT, IN }

static const struct ash_op_desc ops[ASH_OP_COUNT] = {
	[ASH_OP_NOP] = { "nop", 0, { 0 }, 0, check_none, cost_none },
	[ASH_OP_COPY] = { "copy", 2, ELT2, 0, check_copy, cost_copy },
	[ASH_OP_FILL] = { "fill", 1, { OUT }, sizeof(struct ash_fill_params),
			  check_fill, cost_fill },
	[ASH_OP_GEMM] = { "gemm", 3, ELT3, sizeof(struct ash_gemm_params),
			  check_gemm, cost_gemm },
	[ASH_OP_ADD] = { "add", 3, ELT3, sizeof(struct ash_eltwise_params),
			 check_eltwise, cost_eltwise },
	[ASH_OP_MUL] = { "mul", 3, ELT3, sizeof(struct ash_eltwise_params),
			 check_eltwise, cost_eltwise },
	[ASH_OP_SILU] = { "silu", 2, ELT2, sizeof(struct ash_eltwise_params),
			  check_eltwise, cost_eltwise },
	[ASH_OP_GELU] = { "gelu", 2, ELT2, sizeof(struct ash_eltwise_params),
			  check_eltwise, cost_eltwise },
	[ASH_OP_RMSNORM] = { "rmsnorm", 3, ELT3,
			     sizeof(struct ash_rows_params), check_rows,
			     cost_rows },
	[ASH_OP_SOFTMAX] = { "softmax", 2, ELT2,
			     sizeof(struct ash_rows_params), check_rows,
			     cost_rows },
	[ASH_OP_ROPE] = { "rope", 2, ELT2, sizeof(struct ash_rope_params),
			  check_rope, cost_rope },
	[ASH_OP_EMBEDDING] = { "embedding", 3, ELT3,
			       sizeof(struct ash_embedding_params),
			       check_embedding, cost_embedding },
	[ASH_OP_GELU_ERF] = { "gelu_erf", 2, ELT2,
			      sizeof(struct ash_eltwise_params),
			      check_eltwise, cost_eltwise },
	[ASH_OP_LAYERNORM] = { "layernorm", 4, { OUT, IN, IN, IN },
			       sizeof(struct ash_rows_params), check_rows,
			       cost_rows },
	[ASH_OP_ARGMAX] = { "argmax", 2, ELT2,
			    sizeof(struct ash_rows_params), check_rows,
			    cost_rows },
	[ASH_OP_ATTENTION] = { "attention", 4, { OUT, IN, IN, IN },
			       sizeof(struct ash_attention_params),
			       check_attention, cost_attention },
};

const struct ash_op_desc *ash_optable_desc(uint32_t opcode)
{
	return opcode < ASH_OP_COUNT ? &ops[opcode] : NULL;
}

const char *ash_optable_name(uint32_t opcode)
{
	return opcode < ASH_OP_COUNT ? ops[opcode].name : "unknown";
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static bool access_ok(uint32_t flags, uint8_t role)
{
	if (role == OUT)
		return flags == ASH_OPERAND_WRITE ||
		       flags == (ASH_OPERAND_READ | ASH_OPERAND_WRITE);
	return flags == ASH_OPERAND_READ;
}

int ash_optable_check(const struct ash_command *cmd, struct ash_op_args *args)
{
	const struct ash_op_desc *d = ash_optable_desc(cmd->opcode);
	unsigned int i;
	int ret;

	if (!d || cmd->flags || cmd->nr_operands != d->nr_operands ||
	    cmd->params_size != d->params_size ||
	    !all_zero(cmd->params + d->params_size,
		      ASH_CMD_PARAMS_MAX - d->params_size))
		return -EINVAL;
	memset(args, 0, sizeof(*args));
	args->cmd = cmd;
	for (i = 0; i < ASH_CMD_MAX_OPERANDS; i++) {
		const struct ash_operand *o = &cmd->operands[i];

		if (i >= d->nr_operands) {
			if (!all_zero(o, sizeof(*o)))
				return -EINVAL;
			continue;
		}
		if (!access_ok(o->flags, d->role[i]) || !o->length)
			return -EINVAL;
	}
	memcpy(&args->u, cmd->params, d->params_size);
	ret = d->check(args);
	if (ret)
		return ret;
	args->cost = d->cost(args);
	return 0;
}
