/* SPDX-License-Identifier: MIT */
/*
 * The backend conformance suite: every op and dtype of the op table, run
 * through a backend of the engine directly (runtime/engine/backend.h), no
 * module involved, against a reference computed here in double precision.
 *
 * Each backend runs on memory it created itself (ash_backend.mem_create:
 * a memfd for cpu, GPU memory for cuda) as the arena of a device address
 * space whose upper part is host memory, as staging buffers are: inputs are
 * written to host memory, moved into the arena with the backend's own COPY,
 * and results moved back out the same way, so that a GPU backend is tested
 * on its own memory with its own copies.  Every output is surrounded by
 * guard bytes that must come back unchanged.
 *
 * Tolerances (|got - want| against the scale named):
 *   COPY, FILL, ADD, MUL, EMBEDDING: bit-exact.
 *   GEMM (f32 accumulation of f32, f16 or bf16 inputs, which convert to f32
 *     exactly): (k + 2) * 2^-23 of sum |alpha a b| + |beta c|, the bound of
 *     any summation order in f32.
 *   SILU, GELU, GELU_ERF, RMSNORM, SOFTMAX: 1e-5 relative plus 1e-6
 *     absolute; LAYERNORM 1e-5 relative plus 1e-5 absolute; ARGMAX exact;
 *     ATTENTION 1e-5 relative plus 1e-6 absolute.
 *   ROPE: 1e-5 of max |x| of the pair, positions up to 10^5 (angles must be
 *     computed in double).
 *
 * ASH_CONFORMANCE_BACKENDS (default "cpu cuda") names the backends to run;
 * one that was not built, or has no device here, is reported skipped.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../runtime/engine/backend.h"

#define ARENA	(48u << 20)
#define HOST	(48u << 20)
#define GUARD	64u		/* bytes either side of an output */
#define HALF	(ARENA / 2)	/* inputs below, outputs above */

struct bench {
	const struct ash_backend *be;
	struct ash_backend_mem mem;
	struct ash_space space;
	uint8_t *host;		/* HOST bytes at device address ARENA */
	char why[256];
};

static struct bench benches[2];

static uint32_t rng_state = 0x12345678u;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

/* Uniform in [-r, r). */
static float frand(float r)
{
	return ((float)(rnd() >> 8) / 8388608.0f - 1.0f) * r;
}

static uint16_t f32_to_f16(float f)
{
	/* Round to nearest even, normal range only (inputs are small). */
	uint32_t b;
	uint32_t sign, exp, man;

	memcpy(&b, &f, 4);
	sign = (b >> 16) & 0x8000;
	exp = (b >> 23) & 0xff;
	man = b & 0x7fffff;
	if (exp < 113)
		return (uint16_t)sign;	/* flush tiny values to zero */
	man += 0x0fff + ((man >> 13) & 1);
	if (man & 0x800000) {
		man = 0;
		exp++;
	}
	return (uint16_t)(sign | ((exp - 112) << 10) | (man >> 13));
}

static uint16_t f32_to_bf16(float f)
{
	uint32_t b;

	memcpy(&b, &f, 4);
	b += 0x7fff + ((b >> 16) & 1);
	return (uint16_t)(b >> 16);
}

/* ---- the bench: host memory, arena, copies through the backend ---- */

static int bench_open(struct bench *b, const struct ash_backend *be)
{
	struct ash_gpu_desc desc;
	int ret;

	memset(b, 0, sizeof(*b));
	b->be = be;
	b->mem.fd = -1;
	if (be->open && be->open(0, &desc, b->why, sizeof(b->why)))
		return -ENODEV;
	ret = be->mem_create(&b->mem, "conformance", ARENA);
	if (ret) {
		snprintf(b->why, sizeof(b->why), "%s: cannot create %u MiB of device memory: %s",
			 be->name, ARENA >> 20, strerror(-ret));
		return ret;
	}
	b->host = aligned_alloc(4096, HOST);
	if (!b->host) {
		be->mem_close(&b->mem);
		return -ENOMEM;
	}
	b->space = (struct ash_space){
		.arena = b->mem.base, .arena_size = ARENA,
		.host = b->host, .size = (uint64_t)ARENA + HOST,
	};
	return 0;
}

static void bench_close(struct bench *b)
{
	if (!b->be || !b->host)
		return;
	b->be->mem_close(&b->mem);
	free(b->host);
	b->host = NULL;
}

static void operand(struct ash_command *c, uint32_t flags, uint64_t addr,
		    uint64_t len)
{
	struct ash_operand *o = &c->operands[c->nr_operands++];

	o->flags = flags;
	o->offset = addr;
	o->length = len;
}

static int exec(struct bench *b, struct ash_command *c, const void *params,
		uint32_t size)
{
	c->params_size = size;
	if (size)
		memcpy(c->params, params, size);
	return ash_engine_exec(b->be, c, &b->space);
}

/* Device address of host byte @off. */
static uint64_t host_addr(uint64_t off)
{
	return ARENA + off;
}

/* COPY [dst, dst + len) <- [src, ...) by device address. */
static int copy(struct bench *b, uint64_t dst, uint64_t src, uint64_t len)
{
	struct ash_command c;

	memset(&c, 0, sizeof(c));
	c.opcode = ASH_OP_COPY;
	operand(&c, ASH_OPERAND_WRITE, dst, len);
	operand(&c, ASH_OPERAND_READ, src, len);
	return exec(b, &c, NULL, 0);
}

/* Put @len bytes at arena address @dev, through host memory. */
static void put(struct bench *b, uint64_t dev, const void *src, uint64_t len)
{
	memcpy(b->host, src, len);
	assert_int_equal(copy(b, dev, host_addr(0), len), 0);
}

static void get(struct bench *b, void *dst, uint64_t dev, uint64_t len)
{
	memset(b->host, 0xEE, len);
	assert_int_equal(copy(b, host_addr(0), dev, len), 0);
	memcpy(dst, b->host, len);
}

/* An output at arena address @dev: guard bytes either side of it. */
static void guard_set(struct bench *b, uint64_t dev, uint64_t len)
{
	memset(b->host, 0xC3, len + 2 * GUARD);
	assert_int_equal(copy(b, dev - GUARD, host_addr(0), len + 2 * GUARD), 0);
}

static void guard_check(struct bench *b, uint64_t dev, uint64_t len,
			void *out)
{
	uint8_t *h = malloc(len + 2 * GUARD);
	uint32_t i;

	assert_non_null(h);
	get(b, h, dev - GUARD, len + 2 * GUARD);
	for (i = 0; i < GUARD; i++) {
		if (h[i] != 0xC3 || h[GUARD + len + i] != 0xC3)
			fail_msg("%s: byte %s the output changed", b->be->name,
				 h[i] != 0xC3 ? "before" : "after");
	}
	if (out)
		memcpy(out, h + GUARD, len);
	free(h);
}

static struct bench *bench_for(void **state)
{
	struct bench *b = *state;

	if (!b->host) {
		print_message("[  SKIP    ] %s\n", b->why);
		skip();
	}
	return b;
}

/* ---- COPY, FILL ---- */

static void copies(void **state)
{
	static const uint64_t lens[] = { 1, 3, 7, 4096, 4097, 65535,
					 (1u << 20) + 7 };
	static const uint64_t offs[] = { 0, 1, 3, 4095 };
	struct bench *b = bench_for(state);
	uint8_t *src = malloc(2u << 20), *got = malloc(2u << 20);
	size_t i, j, k;

	assert_true(src && got);
	for (i = 0; i < (2u << 20); i++)
		src[i] = (uint8_t)rnd();
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		for (j = 0; j < sizeof(offs) / sizeof(offs[0]); j++) {
			uint64_t a = GUARD + offs[j], d = HALF + GUARD + offs[j];

			put(b, a, src, lens[i]);	/* host -> arena */
			guard_set(b, d, lens[i]);
			assert_int_equal(copy(b, d, a, lens[i]), 0);
			guard_check(b, d, lens[i], got);	/* arena -> host */
			for (k = 0; k < lens[i]; k++)
				if (got[k] != src[k])
					fail_msg("%s: copy of %llu bytes at +%llu: byte %zu differs",
						 b->be->name,
						 (unsigned long long)lens[i],
						 (unsigned long long)offs[j], k);
		}
	}
	free(src);
	free(got);
}

static void fills(void **state)
{
	static const uint64_t lens[] = { 4, 12, 4096, 4100, (1u << 20) + 4 };
	struct bench *b = bench_for(state);
	struct ash_fill_params p = { .pattern = 0xDEADBEEFu };
	uint32_t *got = malloc((1u << 20) + 4);
	struct ash_command c;
	size_t i, k;

	assert_non_null(got);
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		uint64_t d = HALF + GUARD + 4 * i;

		guard_set(b, d, lens[i]);
		memset(&c, 0, sizeof(c));
		c.opcode = ASH_OP_FILL;
		operand(&c, ASH_OPERAND_WRITE, d, lens[i]);
		assert_int_equal(exec(b, &c, &p, sizeof(p)), 0);
		guard_check(b, d, lens[i], got);
		for (k = 0; k < lens[i] / 4; k++)
			assert_int_equal(got[k], p.pattern);
	}
	free(got);
}

/* ---- GEMM ---- */

struct gemm_case {
	uint32_t m, n, k, dtype, flags;
	uint32_t lda_pad, ldb_pad, ldc_pad;
	float alpha, beta;
};

/* @n random inputs as @dtype holds them in @raw, and exactly as f32. */
static void random_input(uint32_t dtype, void *raw, float *f, uint64_t n)
{
	uint16_t *h = raw;
	uint64_t i;

	for (i = 0; i < n; i++) {
		float v = frand(2.0f);

		if (dtype == ASH_OP_F16) {
			h[i] = f32_to_f16(v);
			f[i] = ash_f16_to_f32(h[i]);
		} else if (dtype == ASH_OP_BF16) {
			h[i] = f32_to_bf16(v);
			f[i] = ash_bf16_to_f32(h[i]);
		} else {
			((float *)raw)[i] = f[i] = v;
		}
	}
}

/* @n random elements (whole blocks of 32) quantized to @dtype (ASH_OP_Q8_0
 * or _Q4_0) into @raw, and the values they stand for into @f, decoded here
 * from the format's definition. */
static void quant_input(uint32_t dtype, uint8_t *raw, float *f, uint64_t n)
{
	uint64_t b, i;

	for (b = 0; b < n / 32; b++) {
		uint16_t d16 = f32_to_f16(frand(0.05f) + 0.06f);
		float d = ash_f16_to_f32(d16), *x = f + b * 32;

		memcpy(raw, &d16, 2);
		for (i = 0; i < 16 && dtype == ASH_OP_Q4_0; i++) {
			uint8_t q = (uint8_t)(rnd() & 0xff);

			raw[2 + i] = q;
			x[i] = d * (float)((int)(q & 15) - 8);
			x[i + 16] = d * (float)((int)(q >> 4) - 8);
		}
		for (i = 0; i < 32 && dtype == ASH_OP_Q8_0; i++) {
			int8_t q = (int8_t)(rnd() & 0xff);

			raw[2 + i] = (uint8_t)q;
			x[i] = d * (float)q;
		}
		raw += dtype == ASH_OP_Q8_0 ? 34 : 18;
	}
}

static uint64_t bytes_of(uint32_t dtype, uint64_t elems)
{
	return dtype == ASH_OP_Q8_0 ? elems / 32 * 34 :
	       dtype == ASH_OP_Q4_0 ? elems / 32 * 18 :
	       dtype == ASH_OP_F32 ? elems * 4 : elems * 2;
}

static void gemm_one(struct bench *b, const struct gemm_case *t)
{
	bool ta = t->flags & ASH_GEMM_TRANS_A, tb = t->flags & ASH_GEMM_TRANS_B;
	uint32_t ar = ta ? t->k : t->m, ac = ta ? t->m : t->k;
	uint32_t br = tb ? t->n : t->k, bc = tb ? t->k : t->n;
	uint32_t lda = ac + t->lda_pad, ldb = bc + t->ldb_pad;
	bool q = t->dtype == ASH_OP_Q8_0 || t->dtype == ASH_OP_Q4_0;
	uint32_t adt = t->flags & ASH_GEMM_A_F32 ? ASH_OP_F32 : t->dtype;
	uint32_t ldc = t->n + t->ldc_pad, es = adt == ASH_OP_F32 ? 4 : 2;
	uint64_t alen = bytes_of(adt, (uint64_t)(ar - 1) * lda + ac);
	uint64_t blen = bytes_of(t->dtype, (uint64_t)(br - 1) * ldb + bc);
	uint64_t clen = ((uint64_t)(t->m - 1) * ldc + t->n) * 4;
	uint64_t A = GUARD, B = A + alen + 64, C = HALF + GUARD;
	struct ash_gemm_params g = {
		.m = t->m, .n = t->n, .k = t->k, .dtype = t->dtype,
		.lda = lda, .ldb = ldb, .ldc = ldc, .flags = t->flags,
		.alpha = t->alpha, .beta = t->beta,
	};
	float *af = calloc((size_t)ar * lda, 4), *bf = calloc((size_t)br * ldb, 4);
	float *c0 = calloc((size_t)t->m * ldc, 4), *c = calloc((size_t)t->m * ldc, 4);
	void *araw = calloc((size_t)ar * lda, es), *braw = calloc((size_t)br * ldb, 4);
	double worst = 0, tol = (t->k + 2) * 0x1p-23;
	struct ash_command cmd;
	uint32_t i, j, l;

	assert_true(af && bf && c0 && c && araw && braw);
	random_input(adt, araw, af, (uint64_t)ar * lda);
	if (q)
		quant_input(t->dtype, braw, bf, (uint64_t)br * ldb);
	else
		random_input(t->dtype, braw, bf, (uint64_t)br * ldb);
	for (i = 0; i < t->m * ldc; i++)
		c0[i] = frand(1.0f);
	put(b, A, araw, alen);
	put(b, B, braw, blen);
	guard_set(b, C, clen);
	put(b, C, c0, clen);

	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = ASH_OP_GEMM;
	operand(&cmd, t->beta != 0.0f ? ASH_OPERAND_READ | ASH_OPERAND_WRITE :
		ASH_OPERAND_WRITE, C, clen);
	operand(&cmd, ASH_OPERAND_READ, A, alen);
	operand(&cmd, ASH_OPERAND_READ, B, blen);
	assert_int_equal(exec(b, &cmd, &g, sizeof(g)), 0);
	guard_check(b, C, clen, c);

	for (i = 0; i < t->m; i++) {
		for (j = 0; j < ldc; j++) {
			double want = 0, scale = 0, err;

			if (j >= t->n && i == t->m - 1)
				break;		/* past C's last element */
			if (j >= t->n) {	/* between rows: untouched */
				if (memcmp(&c[i * ldc + j], &c0[i * ldc + j], 4))
					fail_msg("%s: gemm wrote C[%u][%u], past n = %u",
						 b->be->name, i, j, t->n);
				continue;
			}
			for (l = 0; l < t->k; l++) {
				double x = ta ? af[l * lda + i] : af[i * lda + l];
				double y = tb ? bf[j * ldb + l] : bf[l * ldb + j];

				want += x * y;
				scale += fabs(x * y);
			}
			want = t->alpha * want;
			scale = fabs(t->alpha) * scale;
			if (t->beta != 0.0f) {
				want += t->beta * (double)c0[i * ldc + j];
				scale += fabs(t->beta * (double)c0[i * ldc + j]);
			}
			err = fabs(c[i * ldc + j] - want) / (scale ? scale : 1);
			if (err > worst)
				worst = err;
		}
	}
	if (worst > tol)
		fail_msg("%s: gemm %ux%ux%u dtype %u flags %u: error %.3g of the scale, over %.3g",
			 b->be->name, t->m, t->n, t->k, t->dtype, t->flags, worst,
			 tol);
	free(af);
	free(bf);
	free(c0);
	free(c);
	free(araw);
	free(braw);
}

static void gemms(void **state)
{
	struct bench *b = bench_for(state);
	static const struct gemm_case shapes[] = {
		{ 1, 1, 1, 0, 0, 0, 0, 0, 1.0f, 0.0f },
		{ 17, 33, 65, 0, 0, 0, 0, 0, 1.0f, 0.0f },
		{ 64, 48, 31, 0, 0, 3, 5, 7, 0.5f, 0.0f },
		{ 31, 9, 300, 0, 0, 1, 0, 2, 1.0f, 1.0f },
		{ 128, 96, 64, 0, 0, 0, 0, 0, -2.0f, 0.25f },
		{ 3, 257, 5, 0, 0, 2, 9, 1, 1.0f, 0.0f },
	};
	static const uint32_t dtypes[] = { ASH_OP_F32, ASH_OP_F16, ASH_OP_BF16 };
	size_t s, d;
	uint32_t f;

	for (s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++)
		for (d = 0; d < 3; d++)
			for (f = 0; f < 4; f++) {
				struct gemm_case t = shapes[s];

				t.dtype = dtypes[d];
				t.flags = f;
				gemm_one(b, &t);
			}
}

/* Weights against f32 activations (ASH_GEMM_A_F32): B stored n x k, f16,
 * bf16 or quantized in blocks of 32 along k. */
static void gemms_a_f32(void **state)
{
	struct bench *b = bench_for(state);
	static const struct gemm_case shapes[] = {
		{ 1, 1, 32, 0, 0, 0, 0, 0, 1.0f, 0.0f },
		{ 1, 300, 256, 0, 0, 0, 0, 0, 1.0f, 0.0f },
		{ 17, 33, 96, 0, 0, 3, 32, 7, 0.5f, 0.0f },
		{ 32, 64, 512, 0, 0, 1, 64, 2, 1.0f, 1.0f },
		{ 5, 7, 64, 0, 0, 0, 0, 0, -2.0f, 0.25f },
	};
	static const uint32_t dtypes[] = { ASH_OP_Q8_0, ASH_OP_Q4_0,
					   ASH_OP_F16, ASH_OP_BF16 };
	size_t s, d;

	for (s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++)
		for (d = 0; d < 4; d++) {
			struct gemm_case t = shapes[s];

			t.dtype = dtypes[d];
			t.flags = ASH_GEMM_TRANS_B | ASH_GEMM_A_F32;
			gemm_one(b, &t);
		}
}

/* ---- element-wise and per-row ---- */

static bool close_to(double got, double want, double rel, double abs_tol)
{
	return fabs(got - want) <= rel * fabs(want) + abs_tol;
}

/* Run an op with inputs @x (and @y) of @n floats; @out gets the result. */
static void run_f32(struct bench *b, uint32_t op, const void *params,
		    uint32_t psize, const float *x, uint64_t nx, const float *y,
		    uint64_t ny, float *out, uint64_t nout)
{
	uint64_t X = GUARD, Y = X + nx * 4 + 64, O = HALF + GUARD;
	struct ash_command c;

	put(b, X, x, nx * 4);
	if (y)
		put(b, Y, y, ny * 4);
	guard_set(b, O, nout * 4);
	memset(&c, 0, sizeof(c));
	c.opcode = op;
	operand(&c, ASH_OPERAND_WRITE, O, nout * 4);
	operand(&c, ASH_OPERAND_READ, X, nx * 4);
	if (y)
		operand(&c, ASH_OPERAND_READ, Y, ny * 4);
	assert_int_equal(exec(b, &c, params, psize), 0);
	guard_check(b, O, nout * 4, out);
}

static double ref_unary(uint32_t op, double x)
{
	if (op == ASH_OP_SILU)
		return x / (1.0 + exp(-x));
	if (op == ASH_OP_GELU_ERF)
		return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
	/* GELU, the tanh approximation the op set defines. */
	return 0.5 * x * (1.0 + tanh(0.7978845608028654 *
				     (x + 0.044715 * x * x * x)));
}

static void eltwise(void **state)
{
	static const uint64_t counts[] = { 1, 7, 1000, 65537, 1000003 };
	static const uint32_t ops[] = { ASH_OP_ADD, ASH_OP_MUL, ASH_OP_SILU,
					ASH_OP_GELU, ASH_OP_GELU_ERF };
	struct bench *b = bench_for(state);
	float *x = malloc(1000003 * 4), *y = malloc(1000003 * 4);
	float *o = malloc(1000003 * 4);
	size_t ci, oi;
	uint64_t i;

	assert_true(x && y && o);
	for (i = 0; i < 1000003; i++) {
		x[i] = frand(8.0f);
		y[i] = frand(8.0f);
	}
	for (oi = 0; oi < sizeof(ops) / sizeof(ops[0]); oi++) {
		for (ci = 0; ci < sizeof(counts) / sizeof(counts[0]); ci++) {
			struct ash_eltwise_params p = { .count = counts[ci] };
			bool binary = ops[oi] == ASH_OP_ADD || ops[oi] == ASH_OP_MUL;

			run_f32(b, ops[oi], &p, sizeof(p), x, p.count,
				binary ? y : NULL, p.count, o, p.count);
			for (i = 0; i < p.count; i++) {
				float want;
				bool ok;

				if (ops[oi] == ASH_OP_ADD) {
					want = x[i] + y[i];
					ok = !memcmp(&want, &o[i], 4);
				} else if (ops[oi] == ASH_OP_MUL) {
					want = x[i] * y[i];
					ok = !memcmp(&want, &o[i], 4);
				} else {
					ok = close_to(o[i], ref_unary(ops[oi], x[i]),
						      1e-5, 1e-6);
				}
				if (!ok)
					fail_msg("%s: %s of %llu: element %llu: %.9g for %.9g",
						 b->be->name,
						 ash_optable_name(ops[oi]),
						 (unsigned long long)p.count,
						 (unsigned long long)i, o[i], x[i]);
			}
		}
	}
	free(x);
	free(y);
	free(o);
}

static void rows(void **state)
{
	static const uint32_t shapes[][2] = { { 1, 1 }, { 3, 7 }, { 5, 4096 },
					      { 64, 33 }, { 2, 100003 } };
	struct bench *b = bench_for(state);
	float *x = malloc(300000 * 4), *w = malloc(100003 * 4);
	float *o = malloc(300000 * 4);
	size_t s;
	uint32_t r, j;

	assert_true(x && w && o);
	for (j = 0; j < 300000; j++)
		x[j] = frand(6.0f);
	for (j = 0; j < 100003; j++)
		w[j] = frand(2.0f);
	for (s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
		struct ash_rows_params p = { .rows = shapes[s][0],
					     .cols = shapes[s][1],
					     .eps = 1e-5f };
		uint64_t n = (uint64_t)p.rows * p.cols;

		run_f32(b, ASH_OP_RMSNORM, &p, sizeof(p), x, n, w, p.cols, o, n);
		for (r = 0; r < p.rows; r++) {
			const float *in = x + (uint64_t)r * p.cols;
			double ss = 0, scale;

			for (j = 0; j < p.cols; j++)
				ss += (double)in[j] * in[j];
			scale = 1.0 / sqrt(ss / p.cols + (double)p.eps);
			for (j = 0; j < p.cols; j++)
				if (!close_to(o[(uint64_t)r * p.cols + j],
					      in[j] * scale * w[j], 1e-5, 1e-6))
					fail_msg("%s: rmsnorm %ux%u: [%u][%u]",
						 b->be->name, p.rows, p.cols, r, j);
		}
		p.eps = 0.0f;	/* SOFTMAX has none */
		run_f32(b, ASH_OP_SOFTMAX, &p, sizeof(p), x, n, NULL, 0, o, n);
		for (r = 0; r < p.rows; r++) {
			const float *in = x + (uint64_t)r * p.cols;
			double max = in[0], sum = 0;

			for (j = 1; j < p.cols; j++)
				max = in[j] > max ? in[j] : max;
			for (j = 0; j < p.cols; j++)
				sum += exp(in[j] - max);
			for (j = 0; j < p.cols; j++)
				if (!close_to(o[(uint64_t)r * p.cols + j],
					      exp(in[j] - max) / sum, 1e-5, 1e-7))
					fail_msg("%s: softmax %ux%u: [%u][%u]",
						 b->be->name, p.rows, p.cols, r, j);
		}
	}
	free(x);
	free(w);
	free(o);
}

/* LAYERNORM (weight, bias) and ARGMAX (u32 per row, ties, NaNs). */
static void layernorm_argmax(void **state)
{
	static const uint32_t shapes[][2] = { { 1, 1 }, { 3, 7 }, { 5, 384 },
					      { 2, 50003 } };
	struct bench *b = bench_for(state);
	float *x = malloc(200000 * 4), *w = malloc(50003 * 4);
	float *bias = malloc(50003 * 4), *o = malloc(200000 * 4);
	uint32_t idx[8];
	size_t s;
	uint32_t r, j;

	assert_true(x && w && bias && o);
	for (j = 0; j < 200000; j++)
		x[j] = frand(6.0f) + 3.0f;	/* a mean far from 0 */
	for (j = 0; j < 50003; j++) {
		w[j] = frand(2.0f);
		bias[j] = frand(1.0f);
	}
	for (s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
		struct ash_rows_params p = { .rows = shapes[s][0],
					     .cols = shapes[s][1],
					     .eps = 1e-12f };
		uint64_t n = (uint64_t)p.rows * p.cols;
		uint64_t X = GUARD, W = X + n * 4 + 64, B = W + p.cols * 4 + 64;
		uint64_t O = HALF + GUARD;
		struct ash_command c;

		put(b, X, x, n * 4);
		put(b, W, w, p.cols * 4);
		put(b, B, bias, p.cols * 4);
		guard_set(b, O, n * 4);
		memset(&c, 0, sizeof(c));
		c.opcode = ASH_OP_LAYERNORM;
		operand(&c, ASH_OPERAND_WRITE, O, n * 4);
		operand(&c, ASH_OPERAND_READ, X, n * 4);
		operand(&c, ASH_OPERAND_READ, W, p.cols * 4);
		operand(&c, ASH_OPERAND_READ, B, p.cols * 4);
		assert_int_equal(exec(b, &c, &p, sizeof(p)), 0);
		guard_check(b, O, n * 4, o);
		for (r = 0; r < p.rows; r++) {
			const float *in = x + (uint64_t)r * p.cols;
			double mean = 0, var = 0, scale;

			for (j = 0; j < p.cols; j++)
				mean += in[j];
			mean /= p.cols;
			for (j = 0; j < p.cols; j++)
				var += (in[j] - mean) * (in[j] - mean);
			scale = 1.0 / sqrt(var / p.cols + (double)p.eps);
			for (j = 0; j < p.cols; j++)
				if (!close_to(o[(uint64_t)r * p.cols + j],
					      (in[j] - mean) * scale * w[j] + bias[j],
					      1e-5, 1e-5))
					fail_msg("%s: layernorm %ux%u: [%u][%u]",
						 b->be->name, p.rows, p.cols, r, j);
		}
	}
	/* ARGMAX: rows with the largest first, last, twice, after NaNs, and
	 * all NaN (0). */
	{
		struct ash_rows_params p = { .rows = 6, .cols = 1000 };
		uint64_t X = GUARD, O = HALF + GUARD;
		static const uint32_t want[6] = { 0, 999, 10, 500, 0, 3 };
		struct ash_command c;

		for (r = 0; r < 6; r++)
			for (j = 0; j < 1000; j++)
				x[r * 1000 + j] = frand(1.0f);
		x[0] = 5.0f;
		x[1000 + 999] = 5.0f;
		x[2000 + 10] = x[2000 + 20] = 5.0f;	/* the first wins */
		for (j = 0; j < 500; j++)
			x[3000 + j] = NAN;
		x[3000 + 500] = 5.0f;
		for (j = 0; j < 1000; j++)
			x[4000 + j] = NAN;
		x[5000 + 3] = 7.0f;
		x[5000 + 4] = NAN;
		put(b, X, x, 6000 * 4);
		guard_set(b, O, 6 * 4);
		memset(&c, 0, sizeof(c));
		c.opcode = ASH_OP_ARGMAX;
		operand(&c, ASH_OPERAND_WRITE, O, 6 * 4);
		operand(&c, ASH_OPERAND_READ, X, 6000 * 4);
		assert_int_equal(exec(b, &c, &p, sizeof(p)), 0);
		guard_check(b, O, 6 * 4, idx);
		for (r = 0; r < 6; r++)
			if (idx[r] != want[r])
				fail_msg("%s: argmax row %u: %u, not %u",
					 b->be->name, r, idx[r], want[r]);
	}
	free(x);
	free(w);
	free(bias);
	free(o);
}

/* Attention: causal GQA over a cache with queries late in it, full MHA
 * (an encoder), and a command of some heads of one token. */
static void attention(void **state)
{
	static const struct ash_attention_params shapes[] = {
		{ .q_tokens = 5, .kv_tokens = 37, .heads = 8, .kv_heads = 2,
		  .head_dim = 16, .q_pos0 = 32, .flags = ASH_ATTN_CAUSAL,
		  .scale = 0.25f },
		{ .q_tokens = 9, .kv_tokens = 9, .heads = 4, .kv_heads = 4,
		  .head_dim = 12, .scale = 0.2886751f },
		{ .q_tokens = 1, .kv_tokens = 300, .heads = 6, .kv_heads = 3,
		  .head_dim = 64, .q_pos0 = 299, .flags = ASH_ATTN_CAUSAL,
		  .scale = 0.125f, .head0 = 2, .nr_heads = 3 },
	};
	struct bench *b = bench_for(state);
	float *q = malloc(64 << 10), *k = malloc(256 << 10);
	float *v = malloc(256 << 10), *o = malloc(64 << 10);
	double *sc = malloc(sizeof(double) * 512);
	size_t s;
	uint32_t i, h, j, d;

	assert_true(q && k && v && o && sc);
	for (i = 0; i < (64 << 10) / 4; i++)
		q[i] = frand(1.0f);
	for (i = 0; i < (256 << 10) / 4; i++) {
		k[i] = frand(1.0f);
		v[i] = frand(2.0f);
	}
	for (s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
		const struct ash_attention_params *t = &shapes[s];
		uint32_t nr = t->nr_heads ? t->nr_heads : t->heads;
		uint64_t qn = (uint64_t)t->q_tokens * nr * t->head_dim;
		uint64_t kn = (uint64_t)t->kv_tokens * t->kv_heads * t->head_dim;
		uint64_t Q = GUARD, K = Q + qn * 4 + 64, V = K + kn * 4 + 64;
		uint64_t O = HALF + GUARD;
		struct ash_command c;

		put(b, Q, q, qn * 4);
		put(b, K, k, kn * 4);
		put(b, V, v, kn * 4);
		guard_set(b, O, qn * 4);
		memset(&c, 0, sizeof(c));
		c.opcode = ASH_OP_ATTENTION;
		operand(&c, ASH_OPERAND_WRITE, O, qn * 4);
		operand(&c, ASH_OPERAND_READ, Q, qn * 4);
		operand(&c, ASH_OPERAND_READ, K, kn * 4);
		operand(&c, ASH_OPERAND_READ, V, kn * 4);
		assert_int_equal(exec(b, &c, t, sizeof(*t)), 0);
		guard_check(b, O, qn * 4, o);
		for (i = 0; i < t->q_tokens; i++)
			for (h = 0; h < nr; h++) {
				uint32_t seen = t->flags & ASH_ATTN_CAUSAL ?
						t->q_pos0 + i + 1 : t->kv_tokens;
				uint32_t kh = (t->head0 + h) /
					      (t->heads / t->kv_heads);
				const float *qi = q + ((uint64_t)i * nr + h) *
						      t->head_dim;
				double max = -INFINITY, sum = 0;

				for (j = 0; j < seen; j++) {
					const float *kj = k + ((uint64_t)j * t->kv_heads + kh) *
							      t->head_dim;
					double dot = 0;

					for (d = 0; d < t->head_dim; d++)
						dot += (double)qi[d] * kj[d];
					sc[j] = dot * t->scale;
					max = fmax(max, sc[j]);
				}
				for (j = 0; j < seen; j++)
					sum += (sc[j] = exp(sc[j] - max));
				for (d = 0; d < t->head_dim; d++) {
					double want = 0;

					for (j = 0; j < seen; j++)
						want += sc[j] / sum *
							v[((uint64_t)j * t->kv_heads + kh) *
							  t->head_dim + d];
					if (!close_to(o[((uint64_t)i * nr + h) *
							t->head_dim + d],
						      want, 1e-5, 1e-6))
						fail_msg("%s: attention shape %zu: token %u head %u [%u]",
							 b->be->name, s, i, h, d);
				}
			}
	}
	free(q);
	free(k);
	free(v);
	free(o);
	free(sc);
}

static void rope(void **state)
{
	static const struct ash_rope_params shapes[] = {
		{ .tokens = 1, .heads = 1, .head_dim = 2, .pos0 = 0, .theta = 10000 },
		{ .tokens = 7, .heads = 3, .head_dim = 64, .pos0 = 5, .theta = 10000 },
		{ .tokens = 4, .heads = 8, .head_dim = 128, .pos0 = 100000,
		  .theta = 500000 },
	};
	struct bench *b = bench_for(state);
	float *x = malloc(8192 * 4), *o = malloc(8192 * 4);
	uint64_t t, h, i;
	size_t s;

	assert_true(x && o);
	for (i = 0; i < 8192; i++)
		x[i] = frand(3.0f);
	for (s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
		const struct ash_rope_params *p = &shapes[s];
		uint64_t n = (uint64_t)p->tokens * p->heads * p->head_dim;

		run_f32(b, ASH_OP_ROPE, p, sizeof(*p), x, n, NULL, 0, o, n);
		for (t = 0; t < p->tokens; t++)
			for (h = 0; h < p->heads; h++)
				for (i = 0; i < p->head_dim / 2; i++) {
					uint64_t k = (t * p->heads + h) * p->head_dim + 2 * i;
					double ang = (double)(p->pos0 + t) *
						     pow(p->theta, -2.0 * (double)i / p->head_dim);
					double x0 = x[k], x1 = x[k + 1];
					double m = fmax(fabs(x0), fabs(x1)) + 1e-30;

					if (fabs(o[k] - (x0 * cos(ang) - x1 * sin(ang))) > 1e-5 * m ||
					    fabs(o[k + 1] - (x0 * sin(ang) + x1 * cos(ang))) > 1e-5 * m)
						fail_msg("%s: rope shape %zu: token %llu head %llu pair %llu",
							 b->be->name, s,
							 (unsigned long long)t,
							 (unsigned long long)h,
							 (unsigned long long)i);
				}
	}
	free(x);
	free(o);
}

static void embedding_one(struct bench *b, uint32_t dtype)
{
	enum { VOCAB = 1000, DIM = 64, IDS = 19 };
	float *table = malloc(VOCAB * DIM * 4), *o = malloc(IDS * DIM * 4);
	float *before = malloc(IDS * DIM * 4);
	uint8_t *raw = malloc(VOCAB * DIM * 4);
	uint32_t dim = dtype == ASH_OP_F32 ? 37 : DIM;	/* odd where it may */
	struct ash_embedding_params p = { .nr_ids = IDS, .dim = dim,
					  .vocab = VOCAB, .dtype = dtype };
	uint64_t tlen = bytes_of(dtype, (uint64_t)VOCAB * dim);
	uint64_t T = GUARD, I = T + tlen + 64, O = HALF + GUARD;
	uint32_t ids[IDS], i;
	struct ash_command c;

	assert_true(table && o && before && raw);
	if (dtype == ASH_OP_Q8_0 || dtype == ASH_OP_Q4_0)
		quant_input(dtype, raw, table, (uint64_t)VOCAB * dim);
	else
		random_input(dtype, raw, table, (uint64_t)VOCAB * dim);
	for (i = 0; i < IDS; i++)
		ids[i] = i == 0 ? 0 : i == 1 ? VOCAB - 1 : rnd() % VOCAB;
	put(b, T, raw, tlen);
	put(b, I, ids, sizeof(ids));
	guard_set(b, O, IDS * dim * 4);
	memset(&c, 0, sizeof(c));
	c.opcode = ASH_OP_EMBEDDING;
	operand(&c, ASH_OPERAND_WRITE, O, IDS * dim * 4);
	operand(&c, ASH_OPERAND_READ, T, tlen);
	operand(&c, ASH_OPERAND_READ, I, sizeof(ids));
	assert_int_equal(exec(b, &c, &p, sizeof(p)), 0);
	guard_check(b, O, IDS * dim * 4, o);
	for (i = 0; i < IDS; i++)
		if (memcmp(o + i * dim, table + ids[i] * dim, dim * 4))
			fail_msg("%s: embedding of dtype %u: row %u (id %u) differs",
				 b->be->name, dtype, i, ids[i]);

	/* An id past the vocabulary: -EINVAL, and the output untouched. */
	memcpy(before, o, IDS * dim * 4);
	ids[IDS - 1] = VOCAB;
	put(b, I, ids, sizeof(ids));
	assert_int_equal(exec(b, &c, &p, sizeof(p)), -EINVAL);
	guard_check(b, O, IDS * dim * 4, o);
	assert_memory_equal(o, before, IDS * dim * 4);
	free(table);
	free(o);
	free(before);
	free(raw);
}

static void embedding(void **state)
{
	struct bench *b = bench_for(state);
	uint32_t dtype;

	for (dtype = ASH_OP_F32; dtype <= ASH_OP_Q4_0; dtype++)
		embedding_one(b, dtype);
}

/* The backend's memory scrubs to zero, exactly the range asked. */
static void scrubs(void **state)
{
	struct bench *b = bench_for(state);
	uint8_t *got = malloc(3 * 4096);
	uint64_t i;

	assert_non_null(got);
	memset(b->host, 0x99, 3 * 4096);
	assert_int_equal(copy(b, HALF, host_addr(0), 3 * 4096), 0);
	assert_int_equal(b->be->scrub(&b->mem, HALF + 4096, 4096), 0);
	get(b, got, HALF, 3 * 4096);
	for (i = 0; i < 3 * 4096; i++)
		assert_int_equal(got[i], i / 4096 == 1 ? 0 : 0x99);
	free(got);
}

int main(void)
{
	const char *want = getenv("ASH_CONFORMANCE_BACKENDS");
	const struct ash_backend *cuda;
	int failed = 0;

#define SUITE(b) { \
		cmocka_unit_test_prestate(copies, b), \
		cmocka_unit_test_prestate(fills, b), \
		cmocka_unit_test_prestate(gemms, b), \
		cmocka_unit_test_prestate(gemms_a_f32, b), \
		cmocka_unit_test_prestate(eltwise, b), \
		cmocka_unit_test_prestate(rows, b), \
		cmocka_unit_test_prestate(layernorm_argmax, b), \
		cmocka_unit_test_prestate(attention, b), \
		cmocka_unit_test_prestate(rope, b), \
		cmocka_unit_test_prestate(embedding, b), \
		cmocka_unit_test_prestate(scrubs, b), \
	}
	const struct CMUnitTest cpu_tests[] = SUITE(&benches[0]);
	const struct CMUnitTest cuda_tests[] = SUITE(&benches[1]);

	if (!want)
		want = "cpu cuda";
	if (strstr(want, "cpu")) {
		if (bench_open(&benches[0], &ash_backend_cpu))
			fprintf(stderr, "conformance: %s\n", benches[0].why);
		failed |= cmocka_run_group_tests_name("conformance: cpu",
						      cpu_tests, NULL, NULL);
		bench_close(&benches[0]);
	}
	if (strstr(want, "cuda")) {
		cuda = ash_backend_find("cuda", benches[1].why,
					sizeof(benches[1].why));
		if (!cuda || bench_open(&benches[1], cuda))
			fprintf(stderr, "conformance: cuda half skipped: %s\n",
				benches[1].why);
		failed |= cmocka_run_group_tests_name("conformance: cuda",
						      cuda_tests, NULL, NULL);
		bench_close(&benches[1]);
	}
	return failed;
}
