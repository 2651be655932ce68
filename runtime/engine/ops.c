/* SPDX-License-Identifier: MIT */
/*
 * The CPU reference engine's ops (runtime/engine/ops.h, docs/engine.md).
 *
 * Every command is validated completely before anything is written: the
 * generic part (opcode, flags, operand count and flags, parameter size and
 * zero tail, operands inside the mapping) here in ash_engine_exec(), the
 * op's own part (shapes against operand lengths with overflow-checked
 * arithmetic, alignment, padding, aliasing) in its check function.  Run
 * functions then only compute.
 *
 * The tenant may write its buffers while the engine runs (they are mapped in
 * both).  That can only change results, never addresses: the one op whose
 * addresses depend on buffer contents, EMBEDDING, reads each id once and
 * bounds-checks it at the point of use as well as up front.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "ops.h"

#define OP_R ASH_OPERAND_READ
#define OP_W ASH_OPERAND_WRITE

/* Blocking of f16/bf16 GEMM: op(B) panels of KB x NB and op(A) panels of
 * MB x KB are converted to f32 and multiplied with sgemm.  About 1.3 MiB of
 * scratch; A is converted ceil(n / NB) times, B once. */
#define GEMM_KB 256
#define GEMM_NB 1024
#define GEMM_MB 256

/* A command being run: its operands resolved, its parameters copied out
 * (the blob has no alignment guarantee). */
struct op {
	const struct ash_operand *o;
	void *p[ASH_CMD_MAX_OPERANDS];
	union {
		struct ash_fill_params fill;
		struct ash_gemm_params gemm;
		struct ash_eltwise_params elt;
		struct ash_rows_params rows;
		struct ash_rope_params rope;
		struct ash_embedding_params emb;
	} u;
	uint64_t bytes[ASH_CMD_MAX_OPERANDS];	/* what the op touches */
};

struct op_desc {
	const char *name;
	unsigned int nr_operands;
	uint32_t need[ASH_CMD_MAX_OPERANDS];	/* flags each operand needs */
	uint32_t params_size;
	int (*check)(struct op *op);
	int (*run)(struct op *op);
};

/* ---- conversions ---- */

float ash_f16_to_f32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000) << 16;
	uint32_t exp = (h >> 10) & 0x1f;
	uint32_t man = h & 0x3ff;
	uint32_t bits;
	float f;

	if (exp == 0x1f) {			/* inf, NaN (payload kept) */
		bits = sign | 0x7f800000 | (man << 13);
	} else if (exp) {			/* normal: rebias 15 -> 127 */
		bits = sign | ((exp + 112) << 23) | (man << 13);
	} else {				/* zero, subnormal: man * 2^-24 */
		f = (float)man * 0x1p-24f;	/* exact */
		return sign ? -f : f;
	}
	memcpy(&f, &bits, sizeof(f));
	return f;
}

float ash_bf16_to_f32(uint16_t b)
{
	uint32_t bits = (uint32_t)b << 16;
	float f;

	memcpy(&f, &bits, sizeof(f));
	return f;
}

/* ---- shared checks ---- */

static bool aligned(const struct op *op, int i, unsigned int a)
{
	return ((uintptr_t)op->p[i] & (a - 1)) == 0;
}

/* n * size bytes, failing on overflow or when past the operand. */
static int fits(struct op *op, int i, uint64_t n, uint64_t size)
{
	uint64_t bytes;

	if (__builtin_mul_overflow(n, size, &bytes) ||
	    bytes > op->o[i].length)
		return -EINVAL;
	op->bytes[i] = bytes;
	return 0;
}

/* The ranges the op touches of operands i and j do not overlap. */
static bool disjoint(const struct op *op, int i, int j)
{
	uint64_t a = op->o[i].offset, b = op->o[j].offset;

	return a + op->bytes[i] <= b || b + op->bytes[j] <= a;
}

/* Element-wise in place: the ranges are the same or do not overlap. */
static bool same_or_disjoint(const struct op *op, int i, int j)
{
	return (op->o[i].offset == op->o[j].offset &&
		op->bytes[i] == op->bytes[j]) || disjoint(op, i, j);
}

/* ---- NOP, COPY, FILL ---- */

static int check_none(struct op *op)
{
	(void)op;
	return 0;
}

static int run_nop(struct op *op)
{
	(void)op;
	return 0;
}

static int check_copy(struct op *op)
{
	if (op->o[0].length != op->o[1].length)
		return -EINVAL;
	return 0;
}

static int run_copy(struct op *op)
{
	memmove(op->p[0], op->p[1], op->o[0].length);
	return 0;
}

static int check_fill(struct op *op)
{
	if (op->u.fill.pad || op->o[0].length % 4 || !aligned(op, 0, 4))
		return -EINVAL;
	return 0;
}

static int run_fill(struct op *op)
{
	uint32_t *d = (uint32_t *)op->p[0];
	uint64_t i, n = op->o[0].length / 4;
	uint32_t v = op->u.fill.pattern;

	for (i = 0; i < n; i++)
		d[i] = v;
	return 0;
}

/* ---- GEMM ---- */

/* The stored matrix of an operand: rows x cols, leading dimension *ld
 * (0: cols), elements of esize bytes; sets op->bytes[i]. */
static int check_matrix(struct op *op, int i, uint32_t rows, uint32_t cols,
			uint32_t *ld, unsigned int esize)
{
	uint64_t elems;

	if (!*ld)
		*ld = cols;
	if (*ld < cols || rows > INT_MAX || cols > INT_MAX || *ld > INT_MAX)
		return -EINVAL;
	/* (rows - 1) * ld + cols < 2^62: no overflow in 64 bits. */
	elems = (uint64_t)(rows - 1) * *ld + cols;
	if (fits(op, i, elems, esize) || !aligned(op, i, esize))
		return -EINVAL;
	return 0;
}

static int check_gemm(struct op *op)
{
	struct ash_gemm_params *g = &op->u.gemm;
	bool ta = g->flags & ASH_GEMM_TRANS_A, tb = g->flags & ASH_GEMM_TRANS_B;
	unsigned int esize;

	switch (g->dtype) {
	case ASH_OP_F32:
		esize = 4;
		break;
	case ASH_OP_F16:
	case ASH_OP_BF16:
		esize = 2;
		break;
	default:
		return -EINVAL;
	}
	if (g->flags & ~(ASH_GEMM_TRANS_A | ASH_GEMM_TRANS_B))
		return -EINVAL;
	if (!g->m || !g->n || !g->k)
		return -EINVAL;
	/* C: m x n f32; A: m x k (k x m transposed); B: k x n (n x k). */
	if (check_matrix(op, 0, g->m, g->n, &g->ldc, 4) ||
	    check_matrix(op, 1, ta ? g->k : g->m, ta ? g->m : g->k, &g->lda,
			 esize) ||
	    check_matrix(op, 2, tb ? g->n : g->k, tb ? g->k : g->n, &g->ldb,
			 esize))
		return -EINVAL;
	/* BLAS does not allow the output to alias an input. */
	if (!disjoint(op, 0, 1) || !disjoint(op, 0, 2))
		return -EINVAL;
	return 0;
}

/* Every binary16 value as binary32 (256 KiB), built on first use. */
static float f16_table[65536];
static pthread_once_t f16_once = PTHREAD_ONCE_INIT;

static void f16_table_init(void)
{
	uint32_t h;

	for (h = 0; h < 65536; h++)
		f16_table[h] = ash_f16_to_f32((uint16_t)h);
}

/* rows x cols of a stored 16-bit matrix from (r0, c0), to dense f32. */
static void cvt_block(const uint16_t *src, uint32_t ld, uint32_t r0,
		      uint32_t rows, uint32_t c0, uint32_t cols, uint32_t dtype,
		      float *dst)
{
	uint32_t r, c;

	if (dtype == ASH_OP_F16)
		pthread_once(&f16_once, f16_table_init);

	for (r = 0; r < rows; r++) {
		const uint16_t *s = src + (uint64_t)(r0 + r) * ld + c0;
		float *d = dst + (uint64_t)r * cols;

		if (dtype == ASH_OP_BF16)
			for (c = 0; c < cols; c++)
				d[c] = ash_bf16_to_f32(s[c]);
		else
			for (c = 0; c < cols; c++)
				d[c] = f16_table[s[c]];
	}
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/*
 * C = alpha op(A) op(B) + beta C with A and B converted panel by panel:
 * for each KB-deep slice of k, each NB-wide panel of op(B) is converted
 * once, then each MB-high panel of op(A) against it.  beta applies on the
 * first slice only; the others accumulate.
 */
static int gemm_16(const struct ash_gemm_params *g, const uint16_t *A,
		   const uint16_t *B, float *C)
{
	bool ta = g->flags & ASH_GEMM_TRANS_A, tb = g->flags & ASH_GEMM_TRANS_B;
	float *a32, *b32;
	uint32_t k0, n0, m0;

	a32 = malloc(sizeof(float) * GEMM_MB * GEMM_KB);
	b32 = malloc(sizeof(float) * GEMM_KB * GEMM_NB);
	if (!a32 || !b32) {
		free(a32);
		free(b32);
		return -ENOMEM;
	}
	for (k0 = 0; k0 < g->k; k0 += GEMM_KB) {
		uint32_t kb = min_u32(GEMM_KB, g->k - k0);
		float beta = k0 ? 1.0f : g->beta;

		for (n0 = 0; n0 < g->n; n0 += GEMM_NB) {
			uint32_t nb = min_u32(GEMM_NB, g->n - n0);

			if (tb)		/* stored n x k: nb x kb */
				cvt_block(B, g->ldb, n0, nb, k0, kb, g->dtype,
					  b32);
			else		/* stored k x n: kb x nb */
				cvt_block(B, g->ldb, k0, kb, n0, nb, g->dtype,
					  b32);
			for (m0 = 0; m0 < g->m; m0 += GEMM_MB) {
				uint32_t mb = min_u32(GEMM_MB, g->m - m0);

				if (ta)	/* stored k x m: kb x mb */
					cvt_block(A, g->lda, k0, kb, m0, mb,
						  g->dtype, a32);
				else	/* stored m x k: mb x kb */
					cvt_block(A, g->lda, m0, mb, k0, kb,
						  g->dtype, a32);
				cblas_sgemm(CblasRowMajor,
					    ta ? CblasTrans : CblasNoTrans,
					    tb ? CblasTrans : CblasNoTrans,
					    (int)mb, (int)nb, (int)kb, g->alpha,
					    a32, (int)(ta ? mb : kb),
					    b32, (int)(tb ? kb : nb), beta,
					    C + (uint64_t)m0 * g->ldc + n0,
					    (int)g->ldc);
			}
		}
	}
	free(a32);
	free(b32);
	return 0;
}

static int run_gemm(struct op *op)
{
	const struct ash_gemm_params *g = &op->u.gemm;
	float *C = (float *)op->p[0];

	if (g->dtype != ASH_OP_F32)
		return gemm_16(g, (const uint16_t *)op->p[1],
			       (const uint16_t *)op->p[2], C);
	cblas_sgemm(CblasRowMajor,
		    g->flags & ASH_GEMM_TRANS_A ? CblasTrans : CblasNoTrans,
		    g->flags & ASH_GEMM_TRANS_B ? CblasTrans : CblasNoTrans,
		    (int)g->m, (int)g->n, (int)g->k, g->alpha,
		    (const float *)op->p[1], (int)g->lda,
		    (const float *)op->p[2], (int)g->ldb, g->beta,
		    C, (int)g->ldc);
	return 0;
}

/* ---- element-wise ---- */

static int check_eltwise(struct op *op)
{
	unsigned int nr = op->o[2].flags ? 3 : 2, i;
	uint64_t count = op->u.elt.count;

	if (!count)
		return -EINVAL;
	for (i = 0; i < nr; i++)
		if (fits(op, i, count, 4) || !aligned(op, i, 4))
			return -EINVAL;
	for (i = 1; i < nr; i++)
		if (!same_or_disjoint(op, 0, i))
			return -EINVAL;
	return 0;
}

static int run_add(struct op *op)
{
	float *out = (float *)op->p[0];
	const float *a = (const float *)op->p[1], *b = (const float *)op->p[2];
	uint64_t i, n = op->u.elt.count;

	for (i = 0; i < n; i++)
		out[i] = a[i] + b[i];
	return 0;
}

static int run_mul(struct op *op)
{
	float *out = (float *)op->p[0];
	const float *a = (const float *)op->p[1], *b = (const float *)op->p[2];
	uint64_t i, n = op->u.elt.count;

	for (i = 0; i < n; i++)
		out[i] = a[i] * b[i];
	return 0;
}

static int run_silu(struct op *op)
{
	float *out = (float *)op->p[0];
	const float *in = (const float *)op->p[1];
	uint64_t i, n = op->u.elt.count;

	for (i = 0; i < n; i++) {
		float x = in[i];

		out[i] = x / (1.0f + expf(-x));
	}
	return 0;
}

/* The tanh approximation (GPT-2, "gelu_pytorch_tanh"). */
static int run_gelu(struct op *op)
{
	const float c = 0.79788456080286535588f;	/* sqrt(2 / pi) */
	float *out = (float *)op->p[0];
	const float *in = (const float *)op->p[1];
	uint64_t i, n = op->u.elt.count;

	for (i = 0; i < n; i++) {
		float x = in[i];

		out[i] = 0.5f * x * (1.0f + tanhf(c * (x + 0.044715f * x * x * x)));
	}
	return 0;
}

/* ---- per-row ---- */

static int check_rows(struct op *op)
{
	const struct ash_rows_params *r = &op->u.rows;
	bool norm = op->o[2].flags != 0;	/* RMSNORM has a weight */
	uint64_t elems = (uint64_t)r->rows * r->cols;	/* < 2^64 */

	if (r->pad || !r->rows || !r->cols)
		return -EINVAL;
	if (norm ? !(isfinite(r->eps) && r->eps >= 0.0f) : r->eps != 0.0f)
		return -EINVAL;
	if (!norm && signbit(r->eps))		/* -0.0: not all-zero bits */
		return -EINVAL;
	if (fits(op, 0, elems, 4) || fits(op, 1, elems, 4) ||
	    !aligned(op, 0, 4) || !aligned(op, 1, 4) ||
	    !same_or_disjoint(op, 0, 1))
		return -EINVAL;
	if (norm && (fits(op, 2, r->cols, 4) || !aligned(op, 2, 4) ||
		     !disjoint(op, 0, 2)))
		return -EINVAL;
	return 0;
}

static int run_rmsnorm(struct op *op)
{
	const struct ash_rows_params *r = &op->u.rows;
	const float *w = (const float *)op->p[2];
	uint64_t row, j;

	for (row = 0; row < r->rows; row++) {
		float *out = (float *)op->p[0] + row * r->cols;
		const float *in = (const float *)op->p[1] + row * r->cols;
		double ss = 0.0, scale;

		for (j = 0; j < r->cols; j++)
			ss += (double)in[j] * in[j];
		scale = 1.0 / sqrt(ss / r->cols + r->eps);
		for (j = 0; j < r->cols; j++)
			out[j] = (float)(in[j] * scale * w[j]);
	}
	return 0;
}

static int run_softmax(struct op *op)
{
	const struct ash_rows_params *r = &op->u.rows;
	uint64_t row, j;

	for (row = 0; row < r->rows; row++) {
		float *out = (float *)op->p[0] + row * r->cols;
		const float *in = (const float *)op->p[1] + row * r->cols;
		float max = in[0];
		double sum = 0.0;
		float inv;

		for (j = 1; j < r->cols; j++)
			if (in[j] > max)
				max = in[j];
		/* in may be out: each in[j] is read before out[j] is written */
		for (j = 0; j < r->cols; j++) {
			out[j] = expf(in[j] - max);
			sum += out[j];
		}
		inv = (float)(1.0 / sum);
		for (j = 0; j < r->cols; j++)
			out[j] *= inv;
	}
	return 0;
}

/* ---- RoPE ---- */

static int check_rope(struct op *op)
{
	const struct ash_rope_params *r = &op->u.rope;
	uint64_t elems;

	if (r->pad || !r->tokens || !r->heads || !r->head_dim ||
	    r->head_dim % 2 || !isfinite(r->theta) || !(r->theta > 0.0f))
		return -EINVAL;
	if (__builtin_mul_overflow((uint64_t)r->tokens * r->heads,
				   (uint64_t)r->head_dim, &elems))
		return -EINVAL;
	if (fits(op, 0, elems, 4) || fits(op, 1, elems, 4) ||
	    !aligned(op, 0, 4) || !aligned(op, 1, 4) ||
	    !same_or_disjoint(op, 0, 1))
		return -EINVAL;
	return 0;
}

/*
 * Pairs (x[2i], x[2i+1]) of each head of token t, at position pos0 + t,
 * rotate by pos * theta^(-2i / head_dim) (the interleaved, GPT-J / original
 * LLaMA layout).  Angles in double: positions reach 10^5 and more.
 */
static int run_rope(struct op *op)
{
	const struct ash_rope_params *r = &op->u.rope;
	float *out = (float *)op->p[0];
	const float *in = (const float *)op->p[1];
	uint64_t t, h, i, half = r->head_dim / 2;

	for (t = 0; t < r->tokens; t++) {
		double pos = (double)((uint64_t)r->pos0 + t);

		for (i = 0; i < half; i++) {
			double ang = pos * pow(r->theta,
					       -2.0 * (double)i / r->head_dim);
			double c = cos(ang), s = sin(ang);

			for (h = 0; h < r->heads; h++) {
				uint64_t x = (t * r->heads + h) * r->head_dim +
					     2 * i;
				double x0 = in[x], x1 = in[x + 1];

				out[x] = (float)(x0 * c - x1 * s);
				out[x + 1] = (float)(x0 * s + x1 * c);
			}
		}
	}
	return 0;
}

/* ---- EMBEDDING ---- */

static int check_embedding(struct op *op)
{
	const struct ash_embedding_params *e = &op->u.emb;

	if (e->pad || !e->nr_ids || !e->dim || !e->vocab)
		return -EINVAL;
	if (fits(op, 0, (uint64_t)e->nr_ids * e->dim, 4) ||
	    fits(op, 1, (uint64_t)e->vocab * e->dim, 4) ||
	    fits(op, 2, e->nr_ids, 4) ||
	    !aligned(op, 0, 4) || !aligned(op, 1, 4) || !aligned(op, 2, 4) ||
	    !disjoint(op, 0, 1) || !disjoint(op, 0, 2))
		return -EINVAL;
	return 0;
}

static int run_embedding(struct op *op)
{
	const struct ash_embedding_params *e = &op->u.emb;
	const volatile uint32_t *ids = (const volatile uint32_t *)op->p[2];
	uint64_t row = (uint64_t)e->dim * 4;
	uint32_t i;

	/* Every id first, so that a bad one leaves out untouched... */
	for (i = 0; i < e->nr_ids; i++)
		if (ids[i] >= e->vocab)
			return -EINVAL;
	/* ...and each again as used: the tenant can change them meanwhile. */
	for (i = 0; i < e->nr_ids; i++) {
		uint32_t id = ids[i];

		if (id >= e->vocab)
			return -EINVAL;
		memcpy((uint8_t *)op->p[0] + i * row,
		       (const uint8_t *)op->p[1] + id * row, row);
	}
	return 0;
}

/* ---- table and entry point ---- */

#define ELT3 { OP_W, OP_R, OP_R }
#define ELT2 { OP_W, OP_R }

static const struct op_desc ops[ASH_OP_COUNT] = {
	[ASH_OP_NOP] = { "nop", 0, { 0 }, 0, check_none, run_nop },
	[ASH_OP_COPY] = { "copy", 2, ELT2, 0, check_copy, run_copy },
	[ASH_OP_FILL] = { "fill", 1, { OP_W },
			  sizeof(struct ash_fill_params), check_fill, run_fill },
	[ASH_OP_GEMM] = { "gemm", 3, ELT3, sizeof(struct ash_gemm_params),
			  check_gemm, run_gemm },
	[ASH_OP_ADD] = { "add", 3, ELT3, sizeof(struct ash_eltwise_params),
			 check_eltwise, run_add },
	[ASH_OP_MUL] = { "mul", 3, ELT3, sizeof(struct ash_eltwise_params),
			 check_eltwise, run_mul },
	[ASH_OP_SILU] = { "silu", 2, ELT2, sizeof(struct ash_eltwise_params),
			  check_eltwise, run_silu },
	[ASH_OP_GELU] = { "gelu", 2, ELT2, sizeof(struct ash_eltwise_params),
			  check_eltwise, run_gelu },
	[ASH_OP_RMSNORM] = { "rmsnorm", 3, ELT3,
			     sizeof(struct ash_rows_params), check_rows,
			     run_rmsnorm },
	[ASH_OP_SOFTMAX] = { "softmax", 2, ELT2,
			     sizeof(struct ash_rows_params), check_rows,
			     run_softmax },
	[ASH_OP_ROPE] = { "rope", 2, ELT2, sizeof(struct ash_rope_params),
			  check_rope, run_rope },
	[ASH_OP_EMBEDDING] = { "embedding", 3, ELT3,
			       sizeof(struct ash_embedding_params),
			       check_embedding, run_embedding },
};

const char *ash_op_name(uint32_t opcode)
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

int ash_engine_exec(const struct ash_command *cmd, uint8_t *space,
		    uint64_t space_size)
{
	const uint32_t known = ASH_OPERAND_READ | ASH_OPERAND_WRITE;
	const struct op_desc *d;
	struct op op;
	unsigned int i;
	int ret;

	if (cmd->opcode >= ASH_OP_COUNT)
		return -EINVAL;
	d = &ops[cmd->opcode];
	if (cmd->flags || cmd->nr_operands != d->nr_operands ||
	    cmd->params_size != d->params_size ||
	    !all_zero(cmd->params + d->params_size,
		      ASH_CMD_PARAMS_MAX - d->params_size))
		return -EINVAL;
	memset(&op, 0, sizeof(op));
	op.o = cmd->operands;
	for (i = 0; i < ASH_CMD_MAX_OPERANDS; i++) {
		const struct ash_operand *o = &cmd->operands[i];

		if (i >= d->nr_operands) {
			if (!all_zero(o, sizeof(*o)))
				return -EINVAL;
			continue;
		}
		if (!o->flags || (o->flags & ~known) ||
		    (o->flags & d->need[i]) != d->need[i] || !o->length)
			return -EINVAL;
		if (o->offset > space_size || o->length > space_size - o->offset)
			return -EFAULT;
		op.p[i] = space + o->offset;
	}
	memcpy(&op.u, cmd->params, d->params_size);
	ret = d->check(&op);
	if (ret)
		return ret;
	return d->run(&op);
}
