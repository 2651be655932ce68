/* SPDX-License-Identifier: MIT */
/*
 * The CPU backend's ops (runtime/engine/cpu/ops.c), checked by the op table, against straightforward
 * reference implementations in double, on random and edge shapes; and every
 * kind of malformed command rejected with nothing written.
 *
 * Each test gets a fresh "device address space": a 6 MiB arena filled with
 * a canary byte, from which operand ranges are carved with gaps between
 * them.  Positive tests check that nothing outside what the op writes
 * changed; rejection tests that nothing at all did.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../runtime/engine/backend.h"

#define SPACE		(6ULL << 20)
#define CANARY		0xA5
#define GAP		64

static uint8_t *space;
static uint8_t *snapshot;
static uint64_t used;
static uint64_t rng = 0x9E3779B97F4A7C15ULL;

/* ---- harness ---- */

static int setup(void **state)
{
	(void)state;
	space = aligned_alloc(4096, SPACE);
	snapshot = malloc(SPACE);
	if (!space || !snapshot)
		return -1;
	memset(space, CANARY, SPACE);
	used = GAP;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(space);
	free(snapshot);
	return 0;
}

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint32_t rnd(uint32_t lo, uint32_t hi)
{
	return lo + (uint32_t)(next() % (hi - lo + 1));
}

static float rndf(void)
{
	return (float)((double)(next() >> 11) / (double)(1ULL << 53) * 2.0 - 1.0);
}

/* A range of @bytes, 64-byte aligned, with a canary gap after it. */
static uint64_t carve(uint64_t bytes)
{
	uint64_t off = (used + 63) & ~63ULL;

	used = off + bytes + GAP;
	assert_true(used <= SPACE);
	return off;
}

static float *f32_at(uint64_t off)
{
	void *p = space + off;

	return p;
}

static void set_u32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static struct ash_command cmd(uint32_t opcode, const void *params,
			      uint32_t size)
{
	struct ash_command c;

	memset(&c, 0, sizeof(c));
	c.opcode = opcode;
	c.params_size = size;
	if (size)
		memcpy(c.params, params, size);
	return c;
}

static void operand(struct ash_command *c, uint32_t flags, uint64_t off,
		    uint64_t len)
{
	struct ash_operand *o = &c->operands[c->nr_operands++];

	o->flags = flags;
	o->offset = off;
	o->length = len;
}

#define R ASH_OPERAND_READ
#define W ASH_OPERAND_WRITE

static int exec(const struct ash_command *c)
{
	const struct ash_space s = { .host = space, .size = SPACE };

	return ash_engine_exec(&ash_backend_cpu, c, &s);
}

static void snap(void)
{
	memcpy(snapshot, space, SPACE);
}

/* Nothing changed since snap() outside [off, off + len). */
static void unchanged_except(uint64_t off, uint64_t len)
{
	assert_memory_equal(space, snapshot, off);
	assert_memory_equal(space + off + len, snapshot + off + len,
			    SPACE - off - len);
}

static void expect_reject(const struct ash_command *c, int err)
{
	snap();
	assert_int_equal(exec(c), err);
	assert_memory_equal(space, snapshot, SPACE);
}

static void fill_random(float *p, uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++)
		p[i] = rndf();
}

static void assert_close(double got, double want, double tol)
{
	if (!(fabs(got - want) <= tol)) {
		print_error("got %.9g, want %.9g (tolerance %.3g)\n", got, want,
			    tol);
		fail();
	}
}

/* ---- conversions ---- */

static void f16_all_values(void **state)
{
	uint32_t h;

	(void)state;
	for (h = 0; h < 65536; h++) {
		_Float16 x;
		uint16_t b = (uint16_t)h;
		float want, got = ash_f16_to_f32(b);

		memcpy(&x, &b, sizeof(b));
		want = (float)x;
		if (isnan(want)) {
			assert_true(isnan(got));
			continue;
		}
		assert_memory_equal(&got, &want, sizeof(got));
	}
}

static void bf16_known_values(void **state)
{
	(void)state;
	assert_true(ash_bf16_to_f32(0x3F80) == 1.0f);
	assert_true(ash_bf16_to_f32(0xC000) == -2.0f);
	assert_true(ash_bf16_to_f32(0x0000) == 0.0f);
	assert_true(signbit(ash_bf16_to_f32(0x8000)));
	assert_true(ash_bf16_to_f32(0x0001) == 0x1p-133f);
	assert_true(isinf(ash_bf16_to_f32(0x7F80)));
	assert_true(isnan(ash_bf16_to_f32(0x7FC0)));
	assert_true(ash_bf16_to_f32(0x4049) == 3.140625f);
}

/* ---- NOP, COPY, FILL ---- */

static void nop_runs(void **state)
{
	struct ash_command c = cmd(ASH_OP_NOP, NULL, 0);

	(void)state;
	snap();
	assert_int_equal(exec(&c), 0);
	assert_memory_equal(space, snapshot, SPACE);
	assert_string_equal(ash_optable_name(ASH_OP_NOP), "nop");
	assert_string_equal(ash_optable_name(ASH_OP_GEMM), "gemm");
	assert_string_equal(ash_optable_name(ASH_OP_COUNT), "unknown");
}

static void copy_disjoint_and_overlapping(void **state)
{
	uint64_t a = carve(1000), b = carve(1000), i;
	struct ash_command c;

	(void)state;
	for (i = 0; i < 1000; i++)
		space[a + i] = (uint8_t)(i * 7 + 1);
	c = cmd(ASH_OP_COPY, NULL, 0);
	operand(&c, W, b, 999);
	operand(&c, R, a, 999);
	snap();
	assert_int_equal(exec(&c), 0);
	assert_memory_equal(space + b, space + a, 999);
	unchanged_except(b, 999);

	/* forward overlap: dst above src */
	memcpy(snapshot, space + a, 1000);
	c = cmd(ASH_OP_COPY, NULL, 0);
	operand(&c, W, a + 3, 900);
	operand(&c, R, a, 900);
	assert_int_equal(exec(&c), 0);
	assert_memory_equal(space + a + 3, snapshot, 900);

	/* backward overlap: dst below src */
	memcpy(snapshot, space + a, 1000);
	c = cmd(ASH_OP_COPY, NULL, 0);
	operand(&c, W, a, 900);
	operand(&c, R, a + 5, 900);
	assert_int_equal(exec(&c), 0);
	assert_memory_equal(space + a, snapshot + 5, 900);
}

static void fill_pattern(void **state)
{
	uint64_t d = carve(4 * 333), i;
	struct ash_fill_params p = { .pattern = 0xDEADBEEF };
	struct ash_command c = cmd(ASH_OP_FILL, &p, sizeof(p));

	(void)state;
	operand(&c, W, d, 4 * 333);
	snap();
	assert_int_equal(exec(&c), 0);
	for (i = 0; i < 333; i++) {
		uint32_t v;

		memcpy(&v, space + d + 4 * i, 4);
		assert_int_equal(v, 0xDEADBEEF);
	}
	unchanged_except(d, 4 * 333);
}

/* ---- GEMM ---- */

static float conv(const void *base, uint64_t i, uint32_t dtype)
{
	uint16_t h;
	_Float16 x;

	if (dtype == ASH_OP_F32)
		return ((const float *)base)[i];
	memcpy(&h, (const uint16_t *)base + i, 2);
	if (dtype == ASH_OP_BF16) {
		uint32_t bits = (uint32_t)h << 16;
		float f;

		memcpy(&f, &bits, 4);
		return f;
	}
	memcpy(&x, &h, 2);
	return (float)x;
}

static void store(void *base, uint64_t i, uint32_t dtype, float v)
{
	if (dtype == ASH_OP_F32) {
		((float *)base)[i] = v;
	} else if (dtype == ASH_OP_BF16) {
		uint32_t bits;

		memcpy(&bits, &v, 4);
		((uint16_t *)base)[i] = (uint16_t)(bits >> 16);
	} else {
		_Float16 x = (_Float16)v;

		memcpy((uint16_t *)base + i, &x, 2);
	}
}

struct gemm_case {
	uint32_t m, n, k, dtype, flags;
	uint32_t pad_a, pad_b, pad_c;	/* extra leading-dimension elements */
	float alpha, beta;
	int nan_c;			/* C starts as NaN (beta 0) */
};

static void gemm_check(const struct gemm_case *t)
{
	bool ta = t->flags & ASH_GEMM_TRANS_A, tb = t->flags & ASH_GEMM_TRANS_B;
	uint32_t es = t->dtype == ASH_OP_F32 ? 4 : 2;
	uint32_t ar = ta ? t->k : t->m, ac = ta ? t->m : t->k;
	uint32_t br = tb ? t->n : t->k, bc = tb ? t->k : t->n;
	uint32_t lda = ac + t->pad_a, ldb = bc + t->pad_b, ldc = t->n + t->pad_c;
	uint64_t alen = ((uint64_t)(ar - 1) * lda + ac) * es;
	uint64_t blen = ((uint64_t)(br - 1) * ldb + bc) * es;
	uint64_t clen = ((uint64_t)(t->m - 1) * ldc + t->n) * 4;
	uint64_t A = carve(alen), B = carve(blen), C = carve(clen), i, j, p;
	float *c0 = malloc(clen);
	float *a32 = malloc(alen / es * 4), *b32 = malloc(blen / es * 4);
	struct ash_gemm_params g = {
		.m = t->m, .n = t->n, .k = t->k, .dtype = t->dtype,
		.flags = t->flags, .alpha = t->alpha, .beta = t->beta,
		/* 0 (dense) where there is no padding, every other case */
		.lda = t->pad_a || (t->m & 1) ? lda : 0,
		.ldb = t->pad_b || (t->n & 1) ? ldb : 0,
		.ldc = t->pad_c || (t->k & 1) ? ldc : 0,
	};
	struct ash_command c = cmd(ASH_OP_GEMM, &g, sizeof(g));

	assert_non_null(c0);
	assert_non_null(a32);
	assert_non_null(b32);
	for (i = 0; i < alen / es; i++)
		store(space + A, i, t->dtype, rndf());
	for (i = 0; i < blen / es; i++)
		store(space + B, i, t->dtype, rndf());
	fill_random(f32_at(C), clen / 4);
	if (t->nan_c)
		for (i = 0; i < clen / 4; i++)
			f32_at(C)[i] = NAN;
	memcpy(c0, f32_at(C), clen);
	/* the inputs as the reference sees them, converted independently */
	for (i = 0; i < alen / es; i++)
		a32[i] = conv(space + A, i, t->dtype);
	for (i = 0; i < blen / es; i++)
		b32[i] = conv(space + B, i, t->dtype);

	operand(&c, W, C, clen);
	operand(&c, R, A, alen);
	operand(&c, R, B, blen);
	snap();
	assert_int_equal(exec(&c), 0);
	unchanged_except(C, clen);

	for (i = 0; i < t->m; i++) {
		for (j = 0; j < ldc && i * ldc + j < clen / 4; j++) {
			double s = 0, sa = 0, want, bound;
			float got = f32_at(C)[i * ldc + j];

			if (j >= t->n) {	/* padding of C: untouched */
				assert_memory_equal(&got, &c0[i * ldc + j], 4);
				continue;
			}
			for (p = 0; p < t->k; p++) {
				double a = a32[ta ? p * lda + i : i * lda + p];
				double b = b32[tb ? j * ldb + p : p * ldb + j];

				s += a * b;
				sa += fabs(a * b);
			}
			want = t->alpha * s;
			bound = fabs(t->alpha) * sa;
			if (t->beta != 0.0f) {
				want += t->beta * (double)c0[i * ldc + j];
				bound += fabs(t->beta * (double)c0[i * ldc + j]);
			}
			assert_close(got, want,
				     4 * FLT_EPSILON * (t->k + 2) * bound + 1e-30);
		}
	}
	free(c0);
	free(a32);
	free(b32);
}

static void gemm_run_cases(uint32_t dtype)
{
	static const uint32_t shapes[][3] = {
		{ 1, 1, 1 }, { 1, 7, 1 }, { 5, 1, 3 }, { 7, 9, 13 },
		{ 17, 33, 5 }, { 16, 16, 16 }, { 31, 8, 65 }, { 3, 100, 2 },
		{ 64, 1, 300 },
	};
	size_t s;
	uint32_t f;

	for (s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
		for (f = 0; f < 4; f++) {
			struct gemm_case t = {
				.m = shapes[s][0], .n = shapes[s][1],
				.k = shapes[s][2], .dtype = dtype, .flags = f,
				.pad_a = rnd(0, 1) * rnd(1, 5),
				.pad_b = rnd(0, 1) * rnd(1, 5),
				.pad_c = rnd(0, 1) * rnd(1, 5),
				.alpha = f & 1 ? 1.0f : rndf() * 3,
				.beta = f & 2 ? 0.0f : rndf(),
				.nan_c = (f == 2),
			};

			used = GAP;
			gemm_check(&t);
		}
	}
	/* random shapes */
	for (s = 0; s < 12; s++) {
		struct gemm_case t = {
			.m = rnd(1, 70), .n = rnd(1, 70), .k = rnd(1, 70),
			.dtype = dtype, .flags = rnd(0, 3),
			.pad_a = rnd(0, 9), .pad_b = rnd(0, 9), .pad_c = rnd(0, 9),
			.alpha = rndf() * 2, .beta = rnd(0, 1) ? rndf() : 0.0f,
		};

		used = GAP;
		gemm_check(&t);
	}
}

static void gemm_f32(void **state)
{
	(void)state;
	gemm_run_cases(ASH_OP_F32);
}

static void gemm_f16(void **state)
{
	(void)state;
	gemm_run_cases(ASH_OP_F16);
}

static void gemm_bf16(void **state)
{
	(void)state;
	gemm_run_cases(ASH_OP_BF16);
}

/* Across the 16-bit path's panel edges (k > 256, n > 1024, m > 256). */
static void gemm_large_panels(void **state)
{
	static const uint32_t dtypes[] = { ASH_OP_F32, ASH_OP_F16, ASH_OP_BF16 };
	size_t d;

	(void)state;
	for (d = 0; d < 3; d++) {
		struct gemm_case t = {
			.m = 258, .n = 1026, .k = 260, .dtype = dtypes[d],
			.flags = d == 1 ? ASH_GEMM_TRANS_A | ASH_GEMM_TRANS_B :
				 d == 2 ? ASH_GEMM_TRANS_B : 0,
			.pad_a = 3, .pad_b = 0, .pad_c = 2,
			.alpha = 0.5f, .beta = -1.25f,
		};

		used = GAP;
		gemm_check(&t);
	}
}

static void gemm_alpha_zero(void **state)
{
	struct gemm_case t = { .m = 9, .n = 11, .k = 13, .dtype = ASH_OP_F16,
			       .alpha = 0.0f, .beta = 2.0f };

	(void)state;
	gemm_check(&t);
}

/* ---- element-wise ---- */

static double ref_silu(double x)
{
	return x / (1.0 + exp(-x));
}

static double ref_gelu(double x)
{
	return 0.5 * x * (1.0 + tanh(sqrt(2.0 / M_PI) *
				    (x + 0.044715 * x * x * x)));
}

static void eltwise_one(uint32_t op, uint64_t n, int inplace)
{
	struct ash_eltwise_params p = { .count = n };
	struct ash_command c = cmd(op, &p, sizeof(p));
	int binary = op == ASH_OP_ADD || op == ASH_OP_MUL;
	uint64_t a = carve(n * 4), b = carve(n * 4);
	uint64_t out = inplace ? a : carve(n * 4), i;
	float *ca = malloc(n * 4), *cb = malloc(n * 4);

	assert_non_null(ca);
	assert_non_null(cb);
	fill_random(f32_at(a), n);
	fill_random(f32_at(b), n);
	for (i = 0; i < n; i++)
		f32_at(a)[i] *= 8;	/* activations over [-8, 8] */
	memcpy(ca, f32_at(a), n * 4);
	memcpy(cb, f32_at(b), n * 4);
	operand(&c, W, out, n * 4);
	operand(&c, R, a, n * 4);
	if (binary)
		operand(&c, R, b, n * 4);
	snap();
	assert_int_equal(exec(&c), 0);
	unchanged_except(out, n * 4);
	for (i = 0; i < n; i++) {
		double x = ca[i], y = cb[i], want;

		switch (op) {
		case ASH_OP_ADD:
			want = (float)(x + y);
			break;
		case ASH_OP_MUL:
			want = (float)(x * y);
			break;
		case ASH_OP_SILU:
			want = ref_silu(x);
			break;
		default:
			want = ref_gelu(x);
			break;
		}
		assert_close(f32_at(out)[i], want, 1e-6 + 4e-6 * fabs(want));
	}
	free(ca);
	free(cb);
}

static void eltwise_ops(void **state)
{
	static const uint32_t ops[] = { ASH_OP_ADD, ASH_OP_MUL, ASH_OP_SILU,
					ASH_OP_GELU };
	static const uint64_t counts[] = { 1, 7, 1000, 4097 };
	size_t o, n;

	(void)state;
	for (o = 0; o < 4; o++)
		for (n = 0; n < 4; n++) {
			used = GAP;
			eltwise_one(ops[o], counts[n], (int)(n & 1));
		}
}

static void gelu_silu_extremes(void **state)
{
	static const float xs[] = { -100.0f, -20.0f, -0.0f, 0.0f, 1e-30f,
				    20.0f, 100.0f, 3e38f };
	struct ash_eltwise_params p = { .count = 8 };
	uint64_t in = carve(32), out = carve(32);
	size_t i;

	(void)state;
	memcpy(f32_at(in), xs, sizeof(xs));
	for (i = 0; i < 2; i++) {
		struct ash_command c = cmd(i ? ASH_OP_GELU : ASH_OP_SILU, &p,
					   sizeof(p));
		size_t j;

		operand(&c, W, out, 32);
		operand(&c, R, in, 32);
		assert_int_equal(exec(&c), 0);
		for (j = 0; j < 8; j++) {
			double want = i ? ref_gelu(xs[j]) : ref_silu(xs[j]);
			float got = f32_at(out)[j];

			assert_close(got, want, 1e-6 + 4e-6 * fabs(want));
		}
	}
}

/* ---- per-row ---- */

static void rmsnorm_rows(void **state)
{
	static const uint32_t shapes[][2] = { { 1, 1 }, { 3, 7 }, { 5, 4096 },
					      { 33, 65 } };
	size_t s;

	(void)state;
	for (s = 0; s < 4; s++) {
		uint32_t rows = shapes[s][0], cols = shapes[s][1], r, j;
		uint64_t n = (uint64_t)rows * cols;
		uint64_t in = carve(n * 4), w = carve(cols * 4);
		uint64_t out = s & 1 ? in : carve(n * 4);
		struct ash_rows_params p = { .rows = rows, .cols = cols,
					     .eps = 1e-6f };
		struct ash_command c = cmd(ASH_OP_RMSNORM, &p, sizeof(p));
		float *x = malloc(n * 4);

		assert_non_null(x);
		fill_random(f32_at(in), n);
		fill_random(f32_at(w), cols);
		memcpy(x, f32_at(in), n * 4);
		operand(&c, W, out, n * 4);
		operand(&c, R, in, n * 4);
		operand(&c, R, w, cols * 4);
		snap();
		assert_int_equal(exec(&c), 0);
		unchanged_except(out, n * 4);
		for (r = 0; r < rows; r++) {
			double ss = 0;

			for (j = 0; j < cols; j++)
				ss += (double)x[r * cols + j] * x[r * cols + j];
			for (j = 0; j < cols; j++) {
				double want = x[r * cols + j] /
					      sqrt(ss / cols + 1e-6f) *
					      f32_at(w)[j];

				assert_close(f32_at(out)[r * cols + j], want,
					     1e-6 + 4e-6 * fabs(want));
			}
		}
		free(x);
	}
}

static void softmax_rows(void **state)
{
	static const uint32_t shapes[][2] = { { 1, 1 }, { 4, 3 }, { 7, 1000 },
					      { 2, 50000 } };
	size_t s;

	(void)state;
	for (s = 0; s < 4; s++) {
		uint32_t rows = shapes[s][0], cols = shapes[s][1], r, j;
		uint64_t n = (uint64_t)rows * cols;
		uint64_t in = carve(n * 4), out = s & 1 ? in : carve(n * 4);
		struct ash_rows_params p = { .rows = rows, .cols = cols };
		struct ash_command c = cmd(ASH_OP_SOFTMAX, &p, sizeof(p));
		float *x = malloc(n * 4);

		assert_non_null(x);
		/* large magnitudes: a naive exp overflows */
		for (j = 0; j < n; j++)
			f32_at(in)[j] = rndf() * (s == 2 ? 1000.0f : 10.0f);
		memcpy(x, f32_at(in), n * 4);
		operand(&c, W, out, n * 4);
		operand(&c, R, in, n * 4);
		snap();
		assert_int_equal(exec(&c), 0);
		unchanged_except(out, n * 4);
		for (r = 0; r < rows; r++) {
			const float *xr = x + (uint64_t)r * cols;
			double max = xr[0], sum = 0, got_sum = 0;

			for (j = 1; j < cols; j++)
				max = fmax(max, xr[j]);
			for (j = 0; j < cols; j++)
				sum += exp(xr[j] - max);
			for (j = 0; j < cols; j++) {
				double want = exp(xr[j] - max) / sum;
				float got = f32_at(out)[(uint64_t)r * cols + j];

				assert_close(got, want, 1e-9 + 1e-5 * want);
				got_sum += got;
			}
			assert_close(got_sum, 1.0, 1e-4);
		}
		free(x);
	}
}

/* ---- RoPE ---- */

static void rope_positions(void **state)
{
	static const struct ash_rope_params cases[] = {
		{ .tokens = 1, .heads = 1, .head_dim = 2, .pos0 = 0,
		  .theta = 10000.0f },
		{ .tokens = 5, .heads = 3, .head_dim = 8, .pos0 = 7,
		  .theta = 10000.0f },
		{ .tokens = 4, .heads = 2, .head_dim = 128, .pos0 = 100000,
		  .theta = 500000.0f },
		{ .tokens = 9, .heads = 1, .head_dim = 6, .pos0 = 1,
		  .theta = 10.0f },
	};
	size_t s;

	(void)state;
	for (s = 0; s < 4; s++) {
		const struct ash_rope_params *p = &cases[s];
		uint64_t n = (uint64_t)p->tokens * p->heads * p->head_dim;
		uint64_t in = carve(n * 4), out = s & 1 ? in : carve(n * 4);
		struct ash_command c = cmd(ASH_OP_ROPE, p, sizeof(*p));
		float *x = malloc(n * 4);
		uint32_t t, h, i;

		assert_non_null(x);
		fill_random(f32_at(in), n);
		memcpy(x, f32_at(in), n * 4);
		operand(&c, W, out, n * 4);
		operand(&c, R, in, n * 4);
		snap();
		assert_int_equal(exec(&c), 0);
		unchanged_except(out, n * 4);
		for (t = 0; t < p->tokens; t++)
			for (h = 0; h < p->heads; h++)
				for (i = 0; i < p->head_dim / 2; i++) {
					uint64_t e = ((uint64_t)t * p->heads + h) *
						     p->head_dim + 2 * i;
					double ang = (double)(p->pos0 + t) /
						     pow(p->theta, 2.0 * i /
							 p->head_dim);
					double x0 = x[e], x1 = x[e + 1];

					assert_close(f32_at(out)[e],
						     x0 * cos(ang) - x1 * sin(ang),
						     1e-6);
					assert_close(f32_at(out)[e + 1],
						     x0 * sin(ang) + x1 * cos(ang),
						     1e-6);
				}
		/* position 0 is the identity */
		if (p->pos0 == 0)
			assert_memory_equal(f32_at(out), x, 4 * p->head_dim);
		free(x);
	}
}

/* ---- EMBEDDING ---- */

static void embedding_gather(void **state)
{
	const uint32_t vocab = 50, dim = 13, nr = 9;
	static const uint32_t ids[] = { 0, 49, 3, 3, 17, 0, 48, 1, 25 };
	uint64_t table = carve(vocab * dim * 4), idb = carve(nr * 4),
		 out = carve(nr * dim * 4);
	struct ash_embedding_params p = { .nr_ids = nr, .dim = dim,
					  .vocab = vocab };
	struct ash_command c = cmd(ASH_OP_EMBEDDING, &p, sizeof(p));
	uint32_t i;

	(void)state;
	fill_random(f32_at(table), vocab * dim);
	memcpy(space + idb, ids, sizeof(ids));
	operand(&c, W, out, nr * dim * 4);
	operand(&c, R, table, vocab * dim * 4);
	operand(&c, R, idb, nr * 4);
	snap();
	assert_int_equal(exec(&c), 0);
	unchanged_except(out, nr * dim * 4);
	for (i = 0; i < nr; i++)
		assert_memory_equal(f32_at(out) + i * dim,
				    f32_at(table) + ids[i] * dim, dim * 4);
}

/* ---- rejections: nothing written ---- */

/* A valid GEMM: C 4x4 (f32) = A 4x4 x B 4x4, all f32. */
static struct ash_command good_gemm(uint64_t *C, uint64_t *A, uint64_t *B)
{
	struct ash_gemm_params g = { .m = 4, .n = 4, .k = 4,
				     .dtype = ASH_OP_F32, .alpha = 1.0f };
	struct ash_command c = cmd(ASH_OP_GEMM, &g, sizeof(g));

	*C = carve(64);
	*A = carve(64);
	*B = carve(64);
	operand(&c, W, *C, 64);
	operand(&c, R, *A, 64);
	operand(&c, R, *B, 64);
	return c;
}

static struct ash_gemm_params *gp(struct ash_command *c)
{
	return (struct ash_gemm_params *)c->params;
}

static void reject_wrong_params_size(void **state)
{
	uint64_t C, A, B;
	struct ash_command c = good_gemm(&C, &A, &B);

	(void)state;
	c.params_size = sizeof(struct ash_gemm_params) - 4;
	expect_reject(&c, -EINVAL);
	c.params_size = sizeof(struct ash_gemm_params) + 4;
	expect_reject(&c, -EINVAL);
	c.params_size = sizeof(struct ash_gemm_params);
	assert_int_equal(exec(&c), 0);	/* the control */

	c = cmd(ASH_OP_COPY, NULL, 0);
	operand(&c, W, A, 64);
	operand(&c, R, B, 64);
	c.params_size = 8;
	expect_reject(&c, -EINVAL);
}

static void reject_params_tail(void **state)
{
	uint64_t C, A, B;
	struct ash_command c = good_gemm(&C, &A, &B);

	(void)state;
	c.params[sizeof(struct ash_gemm_params)] = 1;
	expect_reject(&c, -EINVAL);
	c = cmd(ASH_OP_NOP, NULL, 0);
	c.params[ASH_CMD_PARAMS_MAX - 1] = 1;
	expect_reject(&c, -EINVAL);
}

static void reject_too_few_operands(void **state)
{
	struct ash_eltwise_params p = { .count = 4 };
	struct ash_command c = cmd(ASH_OP_ADD, &p, sizeof(p));
	uint64_t a = carve(16), b = carve(16);

	(void)state;
	operand(&c, W, a, 16);
	operand(&c, R, b, 16);
	expect_reject(&c, -EINVAL);
	operand(&c, R, b, 16);
	operand(&c, R, b, 16);		/* too many */
	expect_reject(&c, -EINVAL);
	c = cmd(ASH_OP_NOP, NULL, 0);
	operand(&c, R, b, 16);
	expect_reject(&c, -EINVAL);
}

static void reject_unused_operand_nonzero(void **state)
{
	uint64_t C, A, B;
	struct ash_command c = good_gemm(&C, &A, &B);

	(void)state;
	c.operands[3].offset = 8;
	expect_reject(&c, -EINVAL);
}

static void reject_read_only_output(void **state)
{
	uint64_t C, A, B;
	struct ash_command c = good_gemm(&C, &A, &B);

	(void)state;
	c.operands[0].flags = R;
	expect_reject(&c, -EINVAL);
	c.operands[0].flags = R | W;	/* allowed */
	c.operands[1].flags = W;	/* an input it may not read */
	expect_reject(&c, -EINVAL);
	c.operands[1].flags = R | 4;	/* unknown bit */
	expect_reject(&c, -EINVAL);
	c.operands[1].flags = 0;
	expect_reject(&c, -EINVAL);
}

static void reject_bad_operand_range(void **state)
{
	uint64_t C, A, B;
	struct ash_command c = good_gemm(&C, &A, &B);

	(void)state;
	c.operands[0].length = 0;
	expect_reject(&c, -EINVAL);
	c.operands[0].length = 64;
	c.operands[0].offset = SPACE - 32;	/* past the mapping */
	expect_reject(&c, -EFAULT);
	c.operands[0].offset = UINT64_MAX - 8;
	expect_reject(&c, -EFAULT);
	c.operands[0].offset = C + 2;		/* misaligned f32 */
	expect_reject(&c, -EINVAL);
}

static void reject_gemm_overflow(void **state)
{
	uint64_t C, A, B;
	struct ash_command c = good_gemm(&C, &A, &B);

	(void)state;
	/* m * k far past A (and past INT_MAX for BLAS) */
	gp(&c)->m = 0xFFFFFFFF;
	gp(&c)->k = 0xFFFFFFFF;
	expect_reject(&c, -EINVAL);
	/* within int, product overflows 32 bits, still past the length */
	gp(&c)->m = 0x10000;
	gp(&c)->k = 0x10000;
	expect_reject(&c, -EINVAL);
	gp(&c)->m = 4;
	gp(&c)->k = 5;				/* one column too many */
	expect_reject(&c, -EINVAL);
	gp(&c)->k = 0;
	expect_reject(&c, -EINVAL);
}

static void reject_gemm_ld_below_cols(void **state)
{
	uint64_t C, A, B;
	struct ash_command c = good_gemm(&C, &A, &B);

	(void)state;
	gp(&c)->lda = 3;
	expect_reject(&c, -EINVAL);
	gp(&c)->lda = 0;
	gp(&c)->ldc = 2;
	expect_reject(&c, -EINVAL);
	gp(&c)->ldc = 0;
	gp(&c)->ldb = 5;			/* 3 * 5 + 4 > 16 elements */
	expect_reject(&c, -EINVAL);
}

static void reject_gemm_bad_fields(void **state)
{
	uint64_t C, A, B;
	struct ash_command c = good_gemm(&C, &A, &B);

	(void)state;
	gp(&c)->dtype = 3;
	expect_reject(&c, -EINVAL);
	gp(&c)->dtype = ASH_OP_F32;
	gp(&c)->flags = 4;
	expect_reject(&c, -EINVAL);
	gp(&c)->flags = 0;
	c.flags = 1;
	expect_reject(&c, -EINVAL);
	c.flags = 0;
	c.operands[1].offset = C + 16;		/* A overlaps C */
	expect_reject(&c, -EINVAL);
}

static void reject_count_beyond_length(void **state)
{
	struct ash_eltwise_params p = { .count = 5 };
	struct ash_command c = cmd(ASH_OP_MUL, &p, sizeof(p));
	uint64_t a = carve(16), b = carve(16), o = carve(16);

	(void)state;
	operand(&c, W, o, 16);
	operand(&c, R, a, 16);
	operand(&c, R, b, 16);
	expect_reject(&c, -EINVAL);
	p.count = 1ULL << 62;			/* count * 4 overflows */
	memcpy(c.params, &p, sizeof(p));
	expect_reject(&c, -EINVAL);
	p.count = 0;
	memcpy(c.params, &p, sizeof(p));
	expect_reject(&c, -EINVAL);
	p.count = 3;				/* partial overlap of out, a */
	memcpy(c.params, &p, sizeof(p));
	c.operands[0].offset = a + 4;
	c.operands[0].length = 12;
	expect_reject(&c, -EINVAL);

	{
		struct ash_fill_params f = { .pattern = 1 };
		struct ash_command d = cmd(ASH_OP_FILL, &f, sizeof(f));

		operand(&d, W, o, 15);		/* length % 4 */
		expect_reject(&d, -EINVAL);
		d.operands[0].length = 12;
		d.operands[0].offset = o + 2;	/* misaligned */
		expect_reject(&d, -EINVAL);
	}
	{
		struct ash_command d = cmd(ASH_OP_COPY, NULL, 0);

		operand(&d, W, o, 16);
		operand(&d, R, a, 12);		/* unequal lengths */
		expect_reject(&d, -EINVAL);
	}
}

static void reject_id_beyond_vocab(void **state)
{
	static const uint32_t ids[] = { 1, 2, 10 };	/* 10 == vocab */
	struct ash_embedding_params p = { .nr_ids = 3, .dim = 4, .vocab = 10 };
	struct ash_command c = cmd(ASH_OP_EMBEDDING, &p, sizeof(p));
	uint64_t table = carve(160), idb = carve(12), out = carve(48);

	(void)state;
	memcpy(space + idb, ids, sizeof(ids));
	operand(&c, W, out, 48);
	operand(&c, R, table, 160);
	operand(&c, R, idb, 12);
	expect_reject(&c, -EINVAL);		/* rows 1 and 2 not written */
	set_u32(space + idb + 8, 0xFFFFFFFF);
	expect_reject(&c, -EINVAL);
	set_u32(space + idb + 8, 9);
	assert_int_equal(exec(&c), 0);
	/* the table too small for the vocabulary */
	c.operands[1].length = 156;
	expect_reject(&c, -EINVAL);
	c.operands[1].length = 160;
	c.operands[0].offset = table;		/* out overlaps table */
	expect_reject(&c, -EINVAL);
}

static void reject_unknown_opcode(void **state)
{
	struct ash_command c = cmd(ASH_OP_COUNT, NULL, 0);

	(void)state;
	expect_reject(&c, -EINVAL);
	c.opcode = 0xFFFFFFFF;
	expect_reject(&c, -EINVAL);
}

static void reject_nonzero_pad(void **state)
{
	uint64_t a = carve(64), b = carve(64), w = carve(64);
	struct ash_command c;

	(void)state;
	{
		struct ash_fill_params p = { .pattern = 1, .pad = 1 };

		c = cmd(ASH_OP_FILL, &p, sizeof(p));
		operand(&c, W, a, 64);
		expect_reject(&c, -EINVAL);
	}
	{
		struct ash_rows_params p = { .rows = 4, .cols = 4, .pad = 1 };

		c = cmd(ASH_OP_SOFTMAX, &p, sizeof(p));
		operand(&c, W, a, 64);
		operand(&c, R, b, 64);
		expect_reject(&c, -EINVAL);
		p.pad = 0;
		p.eps = 1e-5f;			/* softmax has no eps */
		memcpy(c.params, &p, sizeof(p));
		expect_reject(&c, -EINVAL);
		p.eps = -0.0f;
		memcpy(c.params, &p, sizeof(p));
		expect_reject(&c, -EINVAL);
	}
	{
		struct ash_rows_params p = { .rows = 4, .cols = 4, .eps = NAN };

		c = cmd(ASH_OP_RMSNORM, &p, sizeof(p));
		operand(&c, W, a, 64);
		operand(&c, R, b, 64);
		operand(&c, R, w, 16);
		expect_reject(&c, -EINVAL);
		p.eps = -1.0f;
		memcpy(c.params, &p, sizeof(p));
		expect_reject(&c, -EINVAL);
		p.eps = 1e-5f;
		memcpy(c.params, &p, sizeof(p));
		c.operands[2].length = 12;	/* weight shorter than cols */
		expect_reject(&c, -EINVAL);
	}
	{
		struct ash_rope_params p = { .tokens = 2, .heads = 2,
					     .head_dim = 4, .theta = 1e4f,
					     .pad = 1 };

		c = cmd(ASH_OP_ROPE, &p, sizeof(p));
		operand(&c, W, a, 64);
		operand(&c, R, b, 64);
		expect_reject(&c, -EINVAL);
		p.pad = 0;
		p.head_dim = 3;			/* odd */
		memcpy(c.params, &p, sizeof(p));
		expect_reject(&c, -EINVAL);
		p.head_dim = 4;
		p.theta = 0.0f;
		memcpy(c.params, &p, sizeof(p));
		expect_reject(&c, -EINVAL);
		p.theta = 1e4f;
		p.tokens = p.heads = p.head_dim = 0xFFFFFFFE;	/* overflow */
		memcpy(c.params, &p, sizeof(p));
		expect_reject(&c, -EINVAL);
	}
	{
		struct ash_embedding_params p = { .nr_ids = 1, .dim = 1,
						  .vocab = 1, .dtype = 9 };

		memset(space + w, 0, 4);
		c = cmd(ASH_OP_EMBEDDING, &p, sizeof(p));
		operand(&c, W, a, 4);
		operand(&c, R, b, 4);
		operand(&c, R, w, 4);
		expect_reject(&c, -EINVAL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(f16_all_values),
		T(bf16_known_values),
		T(nop_runs),
		T(copy_disjoint_and_overlapping),
		T(fill_pattern),
		T(gemm_f32),
		T(gemm_f16),
		T(gemm_bf16),
		T(gemm_large_panels),
		T(gemm_alpha_zero),
		T(eltwise_ops),
		T(gelu_silu_extremes),
		T(rmsnorm_rows),
		T(softmax_rows),
		T(rope_positions),
		T(embedding_gather),
		T(reject_wrong_params_size),
		T(reject_params_tail),
		T(reject_too_few_operands),
		T(reject_unused_operand_nonzero),
		T(reject_read_only_output),
		T(reject_bad_operand_range),
		T(reject_gemm_overflow),
		T(reject_gemm_ld_below_cols),
		T(reject_gemm_bad_fields),
		T(reject_count_beyond_length),
		T(reject_id_beyond_vocab),
		T(reject_unknown_opcode),
		T(reject_nonzero_pad),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
