/* SPDX-License-Identifier: MIT */
/*
 * The CPU backend: every op of the op table on host memory (docs/engine.md
 * gives the numeric conventions).  Commands reach these functions checked
 * by the op table (runtime/ops/optable.c), so they only compute.
 *
 * The tenant may write its buffers while the engine runs (they are mapped in
 * both).  That can only change results, never addresses: the one op whose
 * addresses depend on buffer contents, EMBEDDING, reads each id once and
 * bounds-checks it at the point of use as well as up front.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "cpu.h"

/* Blocking of f16/bf16 GEMM: op(B) panels of KB x NB and op(A) panels of
 * MB x KB are converted to f32 and multiplied with sgemm.  About 1.3 MiB of
 * scratch; A is converted ceil(n / NB) times, B once. */
#define GEMM_KB 256
#define GEMM_NB 1024
#define GEMM_MB 256

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

/* ---- NOP, COPY, FILL ---- */

static int run_nop(const struct ash_op_args *a, void *const p[])
{
	(void)a;
	(void)p;
	return 0;
}

static int run_copy(const struct ash_op_args *a, void *const p[])
{
	memmove(p[0], p[1], a->cmd->operands[0].length);
	return 0;
}

static int run_fill(const struct ash_op_args *a, void *const p[])
{
	uint32_t *d = (uint32_t *)p[0];
	uint64_t i, n = a->cmd->operands[0].length / 4;
	uint32_t v = a->u.fill.pattern;

	for (i = 0; i < n; i++)
		d[i] = v;
	return 0;
}

/* ---- GEMM ---- */

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

/* One row of @n elements of op dtype @dtype at @src, to f32; quantized
 * rows are whole blocks (ASH_OP_Q8_0, _Q4_0 in <linux/accelshare_ops.h>).
 * Scales are read with memcpy: blocks are only 2-byte aligned. */
static void row_to_f32(uint32_t dtype, const uint8_t *src, uint32_t n,
		       float *dst)
{
	uint32_t b, i;
	uint16_t d16;

	switch (dtype) {
	case ASH_OP_F32:
		memcpy(dst, src, (size_t)n * 4);
		return;
	case ASH_OP_F16:
	case ASH_OP_BF16:
		cvt_block((const uint16_t *)src, n, 0, 1, 0, n, dtype, dst);
		return;
	case ASH_OP_Q8_0:
		for (b = 0; b < n / ASH_OP_QBLOCK; b++, src += ASH_Q8_0_BYTES) {
			float d;

			memcpy(&d16, src, 2);
			d = ash_f16_to_f32(d16);
			for (i = 0; i < ASH_OP_QBLOCK; i++)
				*dst++ = d * (float)(int8_t)src[2 + i];
		}
		return;
	case ASH_OP_Q4_0:
		for (b = 0; b < n / ASH_OP_QBLOCK; b++, src += ASH_Q4_0_BYTES) {
			float d;

			memcpy(&d16, src, 2);
			d = ash_f16_to_f32(d16);
			for (i = 0; i < 16; i++) {
				dst[i] = d * (float)((src[2 + i] & 0xf) - 8);
				dst[i + 16] = d * (float)((src[2 + i] >> 4) - 8);
			}
			dst += ASH_OP_QBLOCK;
		}
		return;
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

/*
 * C = alpha A B^T + beta C, A f32 and B of another dtype stored n x k
 * (ASH_GEMM_A_F32): panels of B's rows, at most GEMM_PANEL floats, are
 * converted once and multiplied with sgemm into C's columns (with sgemv for
 * a single row of A, generation's case), so B is read exactly once.
 */
#define GEMM_PANEL	(256 * 1024)	/* floats: 1 MiB of scratch */

static int gemm_a_f32(const struct ash_gemm_params *g, const float *A,
		      const uint8_t *B, float *C)
{
	uint64_t row_bytes = ash_op_bytes(g->dtype, g->ldb);
	uint32_t nb = g->k >= GEMM_PANEL ? 1 : GEMM_PANEL / g->k, j0, j;
	float *panel;

	if (nb > g->n)
		nb = g->n;
	panel = malloc(sizeof(float) * (size_t)nb * g->k);
	if (!panel)
		return -ENOMEM;
	for (j0 = 0; j0 < g->n; j0 += nb) {
		uint32_t cols = min_u32(nb, g->n - j0);

		for (j = 0; j < cols; j++)
			row_to_f32(g->dtype, B + (uint64_t)(j0 + j) * row_bytes,
				   g->k, panel + (uint64_t)j * g->k);
		if (g->m == 1)
			cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)cols,
				    (int)g->k, g->alpha, panel, (int)g->k, A, 1,
				    g->beta, C + j0, 1);
		else
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans,
				    (int)g->m, (int)cols, (int)g->k, g->alpha,
				    A, (int)g->lda, panel, (int)g->k, g->beta,
				    C + j0, (int)g->ldc);
	}
	free(panel);
	return 0;
}

static int run_gemm(const struct ash_op_args *a, void *const p[])
{
	const struct ash_gemm_params *g = &a->u.gemm;
	float *C = (float *)p[0];

	if ((g->flags & ASH_GEMM_A_F32) && g->dtype != ASH_OP_F32)
		return gemm_a_f32(g, (const float *)p[1],
				  (const uint8_t *)p[2], C);
	if (g->dtype != ASH_OP_F32)
		return gemm_16(g, (const uint16_t *)p[1],
			       (const uint16_t *)p[2], C);
	cblas_sgemm(CblasRowMajor,	/* f32, also with ASH_GEMM_A_F32 */
		    g->flags & ASH_GEMM_TRANS_A ? CblasTrans : CblasNoTrans,
		    g->flags & ASH_GEMM_TRANS_B ? CblasTrans : CblasNoTrans,
		    (int)g->m, (int)g->n, (int)g->k, g->alpha,
		    (const float *)p[1], (int)g->lda,
		    (const float *)p[2], (int)g->ldb, g->beta,
		    C, (int)g->ldc);
	return 0;
}

/* ---- element-wise ---- */

static int run_add(const struct ash_op_args *a, void *const p[])
{
	float *out = (float *)p[0];
	const float *x = (const float *)p[1], *y = (const float *)p[2];
	uint64_t i, n = a->u.elt.count;

	for (i = 0; i < n; i++)
		out[i] = x[i] + y[i];
	return 0;
}

static int run_mul(const struct ash_op_args *a, void *const p[])
{
	float *out = (float *)p[0];
	const float *x = (const float *)p[1], *y = (const float *)p[2];
	uint64_t i, n = a->u.elt.count;

	for (i = 0; i < n; i++)
		out[i] = x[i] * y[i];
	return 0;
}

static int run_silu(const struct ash_op_args *a, void *const p[])
{
	float *out = (float *)p[0];
	const float *in = (const float *)p[1];
	uint64_t i, n = a->u.elt.count;

	for (i = 0; i < n; i++) {
		float x = in[i];

		out[i] = x / (1.0f + expf(-x));
	}
	return 0;
}

/* The tanh approximation (GPT-2, "gelu_pytorch_tanh"). */
static int run_gelu(const struct ash_op_args *a, void *const p[])
{
	const float c = 0.79788456080286535588f;	/* sqrt(2 / pi) */
	float *out = (float *)p[0];
	const float *in = (const float *)p[1];
	uint64_t i, n = a->u.elt.count;

	for (i = 0; i < n; i++) {
		float x = in[i];

		out[i] = 0.5f * x * (1.0f + tanhf(c * (x + 0.044715f * x * x * x)));
	}
	return 0;
}

/* The exact GELU (BERT, "gelu"): x * Phi(x), Phi by erf. */
static int run_gelu_erf(const struct ash_op_args *a, void *const p[])
{
	const float r = 0.70710678118654752440f;	/* 1 / sqrt(2) */
	float *out = (float *)p[0];
	const float *in = (const float *)p[1];
	uint64_t i, n = a->u.elt.count;

	for (i = 0; i < n; i++) {
		float x = in[i];

		out[i] = 0.5f * x * (1.0f + erff(x * r));
	}
	return 0;
}

/* ---- per-row ---- */

static int run_rmsnorm(const struct ash_op_args *a, void *const p[])
{
	const struct ash_rows_params *r = &a->u.rows;
	const float *w = (const float *)p[2];
	uint64_t row, j;

	for (row = 0; row < r->rows; row++) {
		float *out = (float *)p[0] + row * r->cols;
		const float *in = (const float *)p[1] + row * r->cols;
		double ss = 0.0, scale;

		for (j = 0; j < r->cols; j++)
			ss += (double)in[j] * in[j];
		scale = 1.0 / sqrt(ss / r->cols + r->eps);
		for (j = 0; j < r->cols; j++)
			out[j] = (float)(in[j] * scale * w[j]);
	}
	return 0;
}

static int run_softmax(const struct ash_op_args *a, void *const p[])
{
	const struct ash_rows_params *r = &a->u.rows;
	uint64_t row, j;

	for (row = 0; row < r->rows; row++) {
		float *out = (float *)p[0] + row * r->cols;
		const float *in = (const float *)p[1] + row * r->cols;
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

/* Mean and population variance in double, then one pass to write. */
static int run_layernorm(const struct ash_op_args *a, void *const p[])
{
	const struct ash_rows_params *r = &a->u.rows;
	const float *w = (const float *)p[2], *b = (const float *)p[3];
	uint64_t row, j;

	for (row = 0; row < r->rows; row++) {
		float *out = (float *)p[0] + row * r->cols;
		const float *in = (const float *)p[1] + row * r->cols;
		double sum = 0.0, ss = 0.0, mean, scale;

		for (j = 0; j < r->cols; j++)
			sum += in[j];
		mean = sum / r->cols;
		for (j = 0; j < r->cols; j++)
			ss += ((double)in[j] - mean) * ((double)in[j] - mean);
		scale = 1.0 / sqrt(ss / r->cols + r->eps);
		/* in may be out: in[j] is read before out[j] is written */
		for (j = 0; j < r->cols; j++)
			out[j] = (float)((in[j] - mean) * scale * w[j] + b[j]);
	}
	return 0;
}

static int run_argmax(const struct ash_op_args *a, void *const p[])
{
	const struct ash_rows_params *r = &a->u.rows;
	uint32_t *out = (uint32_t *)p[0];
	uint64_t row;
	uint32_t j, best;

	for (row = 0; row < r->rows; row++) {
		const float *in = (const float *)p[1] + row * r->cols;

		best = 0;
		for (j = 0; j < r->cols && isnan(in[j]); j++)
			;
		if (j < r->cols)
			best = j;
		for (; j < r->cols; j++)
			if (in[j] > in[best])
				best = j;
		out[row] = best;
	}
	return 0;
}

/* ---- ATTENTION ---- */

/*
 * Per query token and head: scores in double over the kv tokens it sees,
 * softmax with the maximum subtracted, then the weighted sum of v.
 */
static int run_attention(const struct ash_op_args *a, void *const p[])
{
	const struct ash_attention_params *t = &a->u.attn;
	const float *q = (const float *)p[1], *k = (const float *)p[2];
	const float *v = (const float *)p[3];
	float *out = (float *)p[0];
	uint32_t group = t->heads / t->kv_heads, nr = ash_attn_heads(t);
	uint32_t i, h, j, d;
	uint64_t qs = (uint64_t)nr * t->head_dim;	/* q and out hold nr heads */
	uint64_t ks = (uint64_t)t->kv_heads * t->head_dim;
	double *score, *acc;

	score = malloc(sizeof(*score) * t->kv_tokens);
	acc = malloc(sizeof(*acc) * t->head_dim);
	if (!score || !acc) {
		free(score);
		free(acc);
		return -ENOMEM;
	}
	for (i = 0; i < t->q_tokens; i++) {
		uint32_t seen = t->flags & ASH_ATTN_CAUSAL ?
				t->q_pos0 + i + 1 : t->kv_tokens;

		for (h = 0; h < nr; h++) {
			const float *qi = q + i * qs + (uint64_t)h * t->head_dim;
			uint64_t kh = (uint64_t)((t->head0 + h) / group) *
				      t->head_dim;
			double max = -INFINITY, sum = 0.0;

			for (j = 0; j < seen; j++) {
				const float *kj = k + j * ks + kh;
				double dot = 0.0;

				for (d = 0; d < t->head_dim; d++)
					dot += (double)qi[d] * kj[d];
				score[j] = dot * t->scale;
				if (score[j] > max)
					max = score[j];
			}
			for (j = 0; j < seen; j++) {
				score[j] = exp(score[j] - max);
				sum += score[j];
			}
			for (d = 0; d < t->head_dim; d++)
				acc[d] = 0.0;
			for (j = 0; j < seen; j++) {
				const float *vj = v + j * ks + kh;
				double w = score[j] / sum;

				for (d = 0; d < t->head_dim; d++)
					acc[d] += w * vj[d];
			}
			for (d = 0; d < t->head_dim; d++)
				out[i * qs + (uint64_t)h * t->head_dim + d] =
					(float)acc[d];
		}
	}
	free(score);
	free(acc);
	return 0;
}

/* ---- RoPE ---- */

/*
 * Pairs (x[2i], x[2i+1]) of each head of token t, at position pos0 + t,
 * rotate by pos * theta^(-2i / head_dim) (the interleaved, GPT-J / original
 * LLaMA layout).  Angles in double: positions reach 10^5 and more.
 */
static int run_rope(const struct ash_op_args *a, void *const p[])
{
	const struct ash_rope_params *r = &a->u.rope;
	float *out = (float *)p[0];
	const float *in = (const float *)p[1];
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

static int run_embedding(const struct ash_op_args *a, void *const p[])
{
	const struct ash_embedding_params *e = &a->u.emb;
	const volatile uint32_t *ids = (const volatile uint32_t *)p[2];
	uint64_t row = ash_op_bytes(e->dtype, e->dim);
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
		row_to_f32(e->dtype, (const uint8_t *)p[1] + id * row, e->dim,
			   (float *)p[0] + (uint64_t)i * e->dim);
	}
	return 0;
}

/* ---- the backend ---- */

const struct ash_backend ash_backend_cpu = {
	.name = "cpu",
	.mem_create = ash_cpu_mem_create,
	.mem_import = ash_cpu_mem_import,
	.mem_close = ash_cpu_mem_close,
	.scrub = ash_cpu_scrub,
	.run = {
		[ASH_OP_NOP] = run_nop,
		[ASH_OP_COPY] = run_copy,
		[ASH_OP_FILL] = run_fill,
		[ASH_OP_GEMM] = run_gemm,
		[ASH_OP_ADD] = run_add,
		[ASH_OP_MUL] = run_mul,
		[ASH_OP_SILU] = run_silu,
		[ASH_OP_GELU] = run_gelu,
		[ASH_OP_RMSNORM] = run_rmsnorm,
		[ASH_OP_SOFTMAX] = run_softmax,
		[ASH_OP_ROPE] = run_rope,
		[ASH_OP_EMBEDDING] = run_embedding,
		[ASH_OP_GELU_ERF] = run_gelu_erf,
		[ASH_OP_LAYERNORM] = run_layernorm,
		[ASH_OP_ARGMAX] = run_argmax,
		[ASH_OP_ATTENTION] = run_attention,
	},
};
