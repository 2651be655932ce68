// SPDX-License-Identifier: MIT
/*
 * Every op through the whole stack: tenant library -> driver (checks,
 * scheduler) -> accelshare-engine -> completion -> wait, compared against
 * naive reference implementations computed here.
 *
 * The case (root) starts accelshare-engine as a child.  alice, a non-root
 * tenant of partition "ops" (granted by uid), runs ash_copy and ash_fill,
 * then a command buffer with GEMM (f32 plain, f32 with alpha/beta, a
 * transposed B and a padded C, f16 and bf16 inputs), ADD, MUL, SILU, GELU,
 * GELU_ERF, RMSNORM, LAYERNORM, SOFTMAX, ARGMAX, ATTENTION (causal, grouped
 * query, over a cache), ROPE and EMBEDDING on small shapes.  f32 results must
 * match a double-precision reference to within float rounding; f16/bf16
 * GEMMs must match the reference computed from the rounded inputs just as
 * tightly, and the reference from the unrounded f32 inputs within the
 * format's precision.  A job with a bad parameter (an embedding id >=
 * vocab) fails its fence with -EINVAL and leaves its output untouched.
 * At the end the engine is stopped with SIGTERM (exit 0) and the device
 * has no engine; partition counters show the jobs (one failed).
 */
#include "vtexec.h"

#include <math.h>
#include <stdlib.h>

#define PART	"ops"

struct result {
	int jobs;
};

static struct result *res;

/* --- deterministic inputs ------------------------------------------------ */

static uint32_t rng = 12345;

static float frand(float lo, float hi)
{
	rng = rng * 1664525u + 1013904223u;
	return lo + (hi - lo) * (float)((rng >> 8) & 0xffffff) / 16777216.0f;
}

/* --- f16 / bf16 (round to nearest even) ---------------------------------- */

static uint16_t f32_to_bf16(float f)
{
	uint32_t u;

	memcpy(&u, &f, 4);
	u += 0x7fff + ((u >> 16) & 1);
	return (uint16_t)(u >> 16);
}

static float bf16_to_f32(uint16_t h)
{
	uint32_t u = (uint32_t)h << 16;
	float f;

	memcpy(&f, &u, 4);
	return f;
}

/* Normal range only (inputs here are in [-2, 2] and not tiny). */
static uint16_t f32_to_f16(float f)
{
	uint32_t u, sign, man;
	int exp;

	memcpy(&u, &f, 4);
	sign = (u >> 16) & 0x8000;
	exp = (int)((u >> 23) & 0xff) - 127 + 15;
	man = u & 0x7fffff;
	if ((u & 0x7fffffff) == 0)
		return (uint16_t)sign;
	if (exp <= 0)
		return (uint16_t)sign;		/* flush: not used here */
	/* round the 23-bit mantissa to 10 bits, nearest even */
	man += 0xfff + ((man >> 13) & 1);
	if (man & 0x800000) {
		man = 0;
		exp++;
	}
	return (uint16_t)(sign | (uint32_t)exp << 10 | (man >> 13));
}

static float f16_to_f32(uint16_t h)
{
	int exp = (h >> 10) & 0x1f;
	float m = (float)(h & 0x3ff);
	float v;

	if (!exp)
		v = m * 0x1p-24f;
	else
		v = ldexpf(1.0f + m / 1024.0f, exp - 15);
	return (h & 0x8000) ? -v : v;
}

/* --- comparison ------------------------------------------------------------ */

/* |got - want| <= atol + rtol * |want| everywhere; prints the worst. */
static bool close_enough(const char *what, const float *got, const double *want,
			 size_t n, double atol, double rtol)
{
	double worst = 0, err;
	size_t i, wi = 0;
	bool ok = true;

	for (i = 0; i < n; i++) {
		err = fabs((double)got[i] - want[i]);
		if (!(err <= atol + rtol * fabs(want[i]))) {	/* NaN fails */
			if (ok)
				FAIL("%s: element %zu: got %.9g, want %.9g (atol %g, rtol %g)",
				     what, i, got[i], want[i], atol, rtol);
			ok = false;
		}
		if (err > worst || isnan(err)) {
			worst = err;
			wi = i;
		}
	}
	printf("  %-28s %5zu elements, max abs error %.3g (at %zu)%s\n", what,
	       n, worst, wi, ok ? "" : "  FAILED");
	return ok;
}

/* --- tenant side ------------------------------------------------------------ */

struct tbuf {
	struct ash_buf *b;
	void *p;
	uint64_t size;
};

static struct ash_ctx *ctx;

static struct tbuf mk(uint64_t size)
{
	struct tbuf t = { .size = size };

	REQUIRE_OK(ash_alloc(ctx, size, &t.b), "ash_alloc");
	REQUIRE_OK(ash_map(t.b, &t.p), "ash_map");
	return t;
}

static struct ash_tensor_ref ref(struct tbuf *t, int dtype, uint32_t rows,
				 uint32_t cols, uint32_t ld)
{
	struct ash_tensor_ref r = {
		.buf = t->b, .offset = 0, .dtype = dtype,
		.rows = rows, .cols = cols, .ld = ld,
	};
	return r;
}

static void test_copy_fill(void)
{
	struct tbuf src = mk(64 * KiB), dst = mk(64 * KiB);
	uint8_t *s = src.p, *d = dst.p;
	uint64_t fence;
	size_t i;
	long bad;

	for (i = 0; i < 64 * KiB; i++)
		s[i] = (uint8_t)(i * 7 + 3);
	vt_fill(d, 64 * KiB, 0xEE);

	/* copy 10000 bytes from src+123 to dst+4001 (no alignment) */
	REQUIRE_OK(ash_copy(ctx, dst.b, 4001, src.b, 123, 10000, &fence), "ash_copy");
	EXPECT_OK(ash_wait(ctx, fence, -1), "wait for ash_copy");
	res->jobs++;
	EXPECT(!memcmp(d + 4001, s + 123, 10000), "ash_copy: destination differs from source");
	EXPECT_EQ(vt_find_not(d, 4001, 0xEE), -1, "ash_copy: bytes before the range");
	EXPECT_EQ(vt_find_not(d + 14001, 64 * KiB - 14001, 0xEE), -1,
		  "ash_copy: bytes after the range");

	/* fill 8 KiB at dst+16384 with a pattern */
	REQUIRE_OK(ash_fill(ctx, dst.b, 16384, 8192, 0xA1B2C3D4u, &fence), "ash_fill");
	EXPECT_OK(ash_wait(ctx, fence, -1), "wait for ash_fill");
	res->jobs++;
	for (i = 0, bad = -1; i < 8192 / 4; i++) {
		uint32_t v;

		memcpy(&v, d + 16384 + 4 * i, 4);
		if (v != 0xA1B2C3D4u && bad < 0)
			bad = (long)i;
	}
	EXPECT_EQ(bad, -1, "ash_fill: first word without the pattern (-1: none)");
	EXPECT_EQ(vt_find_not(d + 14001, 16384 - 14001, 0xEE), -1,
		  "ash_fill: bytes before the range");
	EXPECT_EQ(vt_find_not(d + 16384 + 8192, 64 * KiB - 16384 - 8192, 0xEE), -1,
		  "ash_fill: bytes after the range");
	printf("  ash_copy 10000 B, ash_fill 8 KiB: ok\n");
}

/* C(m x n, ldc) = alpha * A(m x k) * op(B) + beta * C0, in double. */
static void ref_gemm(double *c, const float *c0, const double *a,
		     const double *b, int m, int n, int k, int ldc, bool trans_b,
		     double alpha, double beta)
{
	int i, j, l;

	for (i = 0; i < m; i++)
		for (j = 0; j < n; j++) {
			double s = 0;

			for (l = 0; l < k; l++)
				s += a[i * k + l] *
				     (trans_b ? b[j * k + l] : b[l * n + j]);
			c[i * n + j] = alpha * s +
				       (beta != 0 ? beta * c0[i * ldc + j] : 0);
		}
}

enum { M = 13, N = 17, K = 19, LDC = 20 };

static int tenant(void *arg)
{
	struct ash_cmdbuf *cb;
	struct ash_tensor_ref rc, ra, rb, rw, ro, ri;
	struct tbuf a32, b32, bt32, c1, c2, c3, a16, b16, ab16, bb16, c16, cb16;
	struct tbuf x, y, o_add, o_mul, o_silu, o_gelu, o_rms, w, o_soft, o_rope,
		    table, ids, o_emb, o_gerf, o_ln, o_am, o_att;
	static double ra_d[M * K], rb_d[K * N], rbt_d[N * K], ra16[M * K],
		      rb16[K * N], rab16[M * K], rbb16[K * N], want[M * LDC];
	static float c0[M * LDC], got[M * N];
	float *fa, *fb, *fbt, *fc;
	uint16_t *ha, *hb, *hab, *hbb;
	int i, j;

	(void)arg;
	REQUIRE_OK(ash_open(PART, &ctx), "alice ash_open " PART);
	test_copy_fill();

	/* ---- GEMM inputs ---- */
	a32 = mk(M * K * 4); b32 = mk(K * N * 4); bt32 = mk(N * K * 4);
	c1 = mk(M * N * 4); c2 = mk(M * N * 4); c3 = mk(M * LDC * 4);
	a16 = mk(M * K * 2); b16 = mk(K * N * 2); ab16 = mk(M * K * 2);
	bb16 = mk(K * N * 2); c16 = mk(M * N * 4); cb16 = mk(M * N * 4);
	fa = a32.p; fb = b32.p; fbt = bt32.p;
	ha = a16.p; hb = b16.p; hab = ab16.p; hbb = bb16.p;
	for (i = 0; i < M * K; i++) {
		fa[i] = frand(-2, 2);
		ra_d[i] = fa[i];
		ha[i] = f32_to_f16(fa[i]);
		ra16[i] = f16_to_f32(ha[i]);
		hab[i] = f32_to_bf16(fa[i]);
		rab16[i] = bf16_to_f32(hab[i]);
	}
	for (i = 0; i < K * N; i++) {
		fb[i] = frand(-2, 2);
		rb_d[i] = fb[i];
		hb[i] = f32_to_f16(fb[i]);
		rb16[i] = f16_to_f32(hb[i]);
		hbb[i] = f32_to_bf16(fb[i]);
		rbb16[i] = bf16_to_f32(hbb[i]);
	}
	for (i = 0; i < K; i++)		/* B transposed: N x K */
		for (j = 0; j < N; j++) {
			fbt[j * K + i] = fb[i * N + j];
			rbt_d[j * K + i] = fb[i * N + j];
		}
	fc = c2.p;
	for (i = 0; i < M * N; i++)
		fc[i] = c0[i] = frand(-1, 1);
	fc = c3.p;			/* padded C: NaN in the padding */
	for (i = 0; i < M * LDC; i++)
		fc[i] = (i % LDC) >= N ? NAN : frand(-1, 1);


	/* ---- element-wise and row op inputs ---- */
	enum { ROWS = 4, COLS = 24, NEL = ROWS * COLS };
	enum { TOK = 3, HEADS = 2, HD = 8, POS0 = 5, VOCAB = 10, DIM = 6, NIDS = 7 };
	/* attention: 3 queries late in a cache of 6 (x as q, y as k and v) */
	enum { AQ = 3, AK = 6, AH = 4, AKVH = 2, AD = 8 };
	x = mk(NEL * 4); y = mk(NEL * 4); w = mk(COLS * 4);
	o_add = mk(NEL * 4); o_mul = mk(NEL * 4); o_silu = mk(NEL * 4);
	o_gelu = mk(NEL * 4); o_rms = mk(NEL * 4); o_soft = mk(NEL * 4);
	o_rope = mk(TOK * HEADS * HD * 4);
	o_gerf = mk(NEL * 4); o_ln = mk(NEL * 4); o_am = mk(ROWS * 4);
	o_att = mk(AQ * AH * AD * 4);
	table = mk(VOCAB * DIM * 4); ids = mk(NIDS * 4); o_emb = mk(NIDS * DIM * 4);
	{
		float *px = x.p, *py = y.p, *pw = w.p, *pt = table.p;
		uint32_t *pid = ids.p;

		for (i = 0; i < NEL; i++) {
			px[i] = frand(-6, 6);
			py[i] = frand(-3, 3);
		}
		for (i = 0; i < COLS; i++)
			pw[i] = frand(0.5f, 1.5f);
		for (i = 0; i < VOCAB * DIM; i++)
			pt[i] = frand(-1, 1);
		for (i = 0; i < NIDS; i++)
			pid[i] = (uint32_t)((i * 3 + 1) % VOCAB);
	}

	/* ---- record and run one command buffer ---- */
	REQUIRE_OK(ash_cmdbuf_create(ctx, &cb), "ash_cmdbuf_create");
	/* f32, plain */
	rc = ref(&c1, ASH_DTYPE_F32, M, N, 0);
	ra = ref(&a32, ASH_DTYPE_F32, M, K, 0);
	rb = ref(&b32, ASH_DTYPE_F32, K, N, 0);
	REQUIRE_OK(ash_op_gemm(cb, &rc, &ra, &rb, 0, 1.0f, 0.0f), "op gemm f32");
	/* f32, alpha 2, beta 0.5 */
	rc = ref(&c2, ASH_DTYPE_F32, M, N, 0);
	REQUIRE_OK(ash_op_gemm(cb, &rc, &ra, &rb, 0, 2.0f, 0.5f), "op gemm f32 alpha/beta");
	/* f32, B stored transposed (N x K), C with ld 20 */
	rc = ref(&c3, ASH_DTYPE_F32, M, N, LDC);
	rb = ref(&bt32, ASH_DTYPE_F32, N, K, 0);
	REQUIRE_OK(ash_op_gemm(cb, &rc, &ra, &rb, ASH_GEMM_TRANS_B, 1.0f, 0.0f),
		   "op gemm f32 trans_b ldc");
	/* f16 and bf16 */
	rc = ref(&c16, ASH_DTYPE_F32, M, N, 0);
	ra = ref(&a16, ASH_DTYPE_F16, M, K, 0);
	rb = ref(&b16, ASH_DTYPE_F16, K, N, 0);
	REQUIRE_OK(ash_op_gemm(cb, &rc, &ra, &rb, 0, 1.0f, 0.0f), "op gemm f16");
	rc = ref(&cb16, ASH_DTYPE_F32, M, N, 0);
	ra = ref(&ab16, ASH_DTYPE_BF16, M, K, 0);
	rb = ref(&bb16, ASH_DTYPE_BF16, K, N, 0);
	REQUIRE_OK(ash_op_gemm(cb, &rc, &ra, &rb, 0, 1.0f, 0.0f), "op gemm bf16");

	ri = ref(&x, ASH_DTYPE_F32, ROWS, COLS, 0);
	rb = ref(&y, ASH_DTYPE_F32, ROWS, COLS, 0);
	ro = ref(&o_add, ASH_DTYPE_F32, ROWS, COLS, 0);
	REQUIRE_OK(ash_op_add(cb, &ro, &ri, &rb), "op add");
	ro = ref(&o_mul, ASH_DTYPE_F32, ROWS, COLS, 0);
	REQUIRE_OK(ash_op_mul(cb, &ro, &ri, &rb), "op mul");
	ro = ref(&o_silu, ASH_DTYPE_F32, ROWS, COLS, 0);
	REQUIRE_OK(ash_op_silu(cb, &ro, &ri), "op silu");
	ro = ref(&o_gelu, ASH_DTYPE_F32, ROWS, COLS, 0);
	REQUIRE_OK(ash_op_gelu(cb, &ro, &ri), "op gelu");
	ro = ref(&o_rms, ASH_DTYPE_F32, ROWS, COLS, 0);
	rw = ref(&w, ASH_DTYPE_F32, 1, COLS, 0);
	REQUIRE_OK(ash_op_rmsnorm(cb, &ro, &ri, &rw, 1e-5f), "op rmsnorm");
	ro = ref(&o_soft, ASH_DTYPE_F32, ROWS, COLS, 0);
	REQUIRE_OK(ash_op_softmax(cb, &ro, &ri), "op softmax");
	ro = ref(&o_gerf, ASH_DTYPE_F32, ROWS, COLS, 0);
	REQUIRE_OK(ash_op_gelu_erf(cb, &ro, &ri), "op gelu_erf");
	{
		/* weight w; bias: the first row of y */
		struct ash_tensor_ref bias = ref(&y, ASH_DTYPE_F32, 1, COLS, 0);

		ro = ref(&o_ln, ASH_DTYPE_F32, ROWS, COLS, 0);
		REQUIRE_OK(ash_op_layernorm(cb, &ro, &ri, &rw, &bias, 1e-5f),
			   "op layernorm");
		ro = ref(&o_am, ASH_DTYPE_U32, ROWS, 1, 0);
		REQUIRE_OK(ash_op_argmax(cb, &ro, &ri), "op argmax");
	}
	{
		struct ash_attention at = {
			.q_tokens = AQ, .kv_tokens = AK, .heads = AH,
			.kv_heads = AKVH, .head_dim = AD, .q_pos0 = AK - AQ,
			.causal = 1, .scale = 0.35f,
		};
		struct ash_tensor_ref qa = ref(&x, ASH_DTYPE_F32, AQ, AH * AD, 0);
		struct ash_tensor_ref kva = ref(&y, ASH_DTYPE_F32, AK, AKVH * AD, 0);
		struct ash_tensor_ref oa = ref(&o_att, ASH_DTYPE_F32, AQ, AH * AD, 0);

		REQUIRE_OK(ash_op_attention(cb, &oa, &qa, &kva, &kva, &at),
			   "op attention");
	}
	ri = ref(&x, ASH_DTYPE_F32, 1, TOK * HEADS * HD, 0);
	ro = ref(&o_rope, ASH_DTYPE_F32, 1, TOK * HEADS * HD, 0);
	REQUIRE_OK(ash_op_rope(cb, &ro, &ri, TOK, HEADS, HD, POS0, 10000.0f), "op rope");
	ro = ref(&o_emb, ASH_DTYPE_F32, NIDS, DIM, 0);
	rw = ref(&table, ASH_DTYPE_F32, VOCAB, DIM, 0);
	ri = ref(&ids, ASH_DTYPE_U32, 1, NIDS, 0);
	REQUIRE_OK(ash_op_embedding(cb, &ro, &rw, &ri), "op embedding");

	printf("  command buffer: %llu commands in %llu job(s)\n",
	       (unsigned long long)ash_cmdbuf_commands(cb),
	       (unsigned long long)ash_cmdbuf_jobs(cb));
	res->jobs += (int)ash_cmdbuf_jobs(cb);
	{
		uint64_t fence;

		REQUIRE_OK(ash_cmdbuf_submit(cb, &fence), "ash_cmdbuf_submit");
		REQUIRE_OK(ash_cmdbuf_wait(cb, -1), "ash_cmdbuf_wait (all ops)");
	}

	/* ---- compare ---- */
	ref_gemm(want, NULL, ra_d, rb_d, M, N, K, N, false, 1, 0);
	close_enough("gemm f32", c1.p, want, M * N, 1e-5, 1e-5);
	ref_gemm(want, c0, ra_d, rb_d, M, N, K, N, false, 2, 0.5);
	close_enough("gemm f32 alpha 2 beta 0.5", c2.p, want, M * N, 1e-5, 1e-5);
	ref_gemm(want, NULL, ra_d, rbt_d, M, N, K, N, true, 1, 0);
	for (i = 0; i < M; i++)
		memcpy(got + i * N, (float *)c3.p + i * LDC, N * 4);
	close_enough("gemm f32 trans_b, ldc 20", got, want, M * N, 1e-5, 1e-5);
	for (i = 0, j = 0; i < M * LDC; i++)
		if ((i % LDC) >= N && !isnan(((float *)c3.p)[i]))
			j++;
	EXPECT_EQ(j, 0, "gemm ldc 20: padding columns written");
	/* f16/bf16: exact inputs -> f32 accuracy; vs the f32 inputs -> the
	 * format's (2^-11, 2^-8 relative per input, |sum| of k = 19 terms of
	 * magnitude <= 4: bounds of 19 * 4 * 2 * 2^-11 ~ 0.08 and 0.6; the
	 * tolerances below are a quarter of those). */
	ref_gemm(want, NULL, ra16, rb16, M, N, K, N, false, 1, 0);
	close_enough("gemm f16 (vs rounded inputs)", c16.p, want, M * N, 1e-5, 1e-5);
	ref_gemm(want, NULL, ra_d, rb_d, M, N, K, N, false, 1, 0);
	close_enough("gemm f16 (vs f32 inputs)", c16.p, want, M * N, 2e-2, 1e-3);
	ref_gemm(want, NULL, rab16, rbb16, M, N, K, N, false, 1, 0);
	close_enough("gemm bf16 (vs rounded inputs)", cb16.p, want, M * N, 1e-5, 1e-5);
	ref_gemm(want, NULL, ra_d, rb_d, M, N, K, N, false, 1, 0);
	close_enough("gemm bf16 (vs f32 inputs)", cb16.p, want, M * N, 1.5e-1, 8e-3);

	{
		const float *px = x.p, *py = y.p, *pw = w.p, *pt = table.p;
		const uint32_t *pid = ids.p;
		static double wv[NEL];
		int r, t, h, p;

		for (i = 0; i < NEL; i++)
			wv[i] = (double)px[i] + py[i];
		close_enough("add", o_add.p, wv, NEL, 0, 1e-7);
		for (i = 0; i < NEL; i++)
			wv[i] = (double)px[i] * py[i];
		close_enough("mul", o_mul.p, wv, NEL, 0, 1e-7);
		for (i = 0; i < NEL; i++)
			wv[i] = px[i] / (1 + exp(-(double)px[i]));
		close_enough("silu", o_silu.p, wv, NEL, 1e-6, 1e-6);
		for (i = 0; i < NEL; i++) {
			double v = px[i];

			wv[i] = 0.5 * v * (1 + tanh(sqrt(2 / M_PI) *
						    (v + 0.044715 * v * v * v)));
		}
		close_enough("gelu (tanh)", o_gelu.p, wv, NEL, 1e-6, 1e-5);
		for (r = 0; r < ROWS; r++) {
			double ss = 0;

			for (i = 0; i < COLS; i++)
				ss += (double)px[r * COLS + i] * px[r * COLS + i];
			ss = 1 / sqrt(ss / COLS + 1e-5);
			for (i = 0; i < COLS; i++)
				wv[r * COLS + i] = px[r * COLS + i] * ss * pw[i];
		}
		close_enough("rmsnorm", o_rms.p, wv, NEL, 1e-6, 1e-5);
		for (r = 0; r < ROWS; r++) {
			double mx = -INFINITY, s = 0;

			for (i = 0; i < COLS; i++)
				mx = fmax(mx, px[r * COLS + i]);
			for (i = 0; i < COLS; i++)
				s += exp(px[r * COLS + i] - mx);
			for (i = 0; i < COLS; i++)
				wv[r * COLS + i] = exp(px[r * COLS + i] - mx) / s;
		}
		close_enough("softmax", o_soft.p, wv, NEL, 1e-7, 1e-5);
		for (i = 0; i < NEL; i++)
			wv[i] = 0.5 * px[i] * (1 + erf(px[i] / sqrt(2.0)));
		close_enough("gelu (erf)", o_gerf.p, wv, NEL, 1e-6, 1e-5);
		for (r = 0; r < ROWS; r++) {
			double mean = 0, var = 0;
			const uint32_t *am = o_am.p;
			int best = 0;

			for (i = 0; i < COLS; i++)
				mean += px[r * COLS + i];
			mean /= COLS;
			for (i = 0; i < COLS; i++)
				var += (px[r * COLS + i] - mean) *
				       (px[r * COLS + i] - mean);
			var = 1 / sqrt(var / COLS + 1e-5);
			for (i = 0; i < COLS; i++)
				wv[r * COLS + i] = (px[r * COLS + i] - mean) * var *
						   pw[i] + py[i];
			for (i = 1; i < COLS; i++)
				if (px[r * COLS + i] > px[r * COLS + best])
					best = i;
			EXPECT_EQ(am[r], best, "argmax of a row");
		}
		close_enough("layernorm", o_ln.p, wv, NEL, 1e-6, 1e-5);
		for (t = 0; t < AQ; t++)
			for (h = 0; h < AH; h++) {
				int seen = AK - AQ + t + 1, kh = h / (AH / AKVH), j2;
				double sc[AK], mx = -INFINITY, sum = 0;

				for (j2 = 0; j2 < seen; j2++) {
					double dot = 0;

					for (p = 0; p < AD; p++)
						dot += (double)px[(t * AH + h) * AD + p] *
						       py[(j2 * AKVH + kh) * AD + p];
					sc[j2] = dot * 0.35f;
					mx = fmax(mx, sc[j2]);
				}
				for (j2 = 0; j2 < seen; j2++)
					sum += (sc[j2] = exp(sc[j2] - mx));
				for (p = 0; p < AD; p++) {
					double acc = 0;

					for (j2 = 0; j2 < seen; j2++)
						acc += sc[j2] / sum *
						       py[(j2 * AKVH + kh) * AD + p];
					wv[(t * AH + h) * AD + p] = acc;
				}
			}
		close_enough("attention (causal, GQA)", o_att.p, wv, AQ * AH * AD,
			     1e-6, 1e-6);
		for (t = 0; t < TOK; t++)
			for (h = 0; h < HEADS; h++)
				for (p = 0; p < HD / 2; p++) {
					int base = (t * HEADS + h) * HD + 2 * p;
					double ang = (double)(POS0 + t) *
						     pow(10000.0, -2.0 * p / HD);
					double x0 = px[base], x1 = px[base + 1];

					wv[base] = x0 * cos(ang) - x1 * sin(ang);
					wv[base + 1] = x0 * sin(ang) + x1 * cos(ang);
				}
		close_enough("rope (interleaved)", o_rope.p, wv, TOK * HEADS * HD,
			     1e-5, 1e-5);
		for (i = 0; i < NIDS; i++)
			for (j = 0; j < DIM; j++)
				wv[i * DIM + j] = pt[pid[i] * DIM + j];
		close_enough("embedding", o_emb.p, wv, NIDS * DIM, 0, 0);
	}

	/* ---- a job with a bad parameter fails, writes nothing ---- */
	{
		uint32_t *pid = ids.p;
		uint64_t fence;
		int ret;

		vt_fill(o_emb.p, NIDS * DIM * 4, 0x5A);
		pid[3] = VOCAB;			/* one past the table */
		ro = ref(&o_emb, ASH_DTYPE_F32, NIDS, DIM, 0);
		rw = ref(&table, ASH_DTYPE_F32, VOCAB, DIM, 0);
		ri = ref(&ids, ASH_DTYPE_U32, 1, NIDS, 0);
		REQUIRE_OK(ash_op_embedding(cb, &ro, &rw, &ri),
			   "op embedding with id == vocab (recording succeeds)");
		REQUIRE_OK(ash_cmdbuf_submit(cb, &fence), "submit the bad embedding");
		res->jobs++;
		EXPECT_ERR(ash_wait(ctx, fence, -1), -EINVAL,
			   "ash_wait for an embedding with id >= vocab");
		EXPECT_ERR(ash_cmdbuf_wait(cb, -1), -EINVAL,
			   "ash_cmdbuf_wait after the bad embedding");
		EXPECT_EQ(vt_find_not(o_emb.p, NIDS * DIM * 4, 0x5A), -1,
			  "failed embedding: first output byte changed (-1: none)");
		/* A good job after a failed one runs normally. */
		pid[3] = 2;
		REQUIRE_OK(ash_op_embedding(cb, &ro, &rw, &ri), "op embedding again");
		REQUIRE_OK(ash_cmdbuf_submit(cb, &fence), "submit the good embedding");
		res->jobs++;
		ret = ash_cmdbuf_wait(cb, -1);
		EXPECT_OK(ret, "good embedding after a failed one");
		EXPECT(!memcmp((float *)o_emb.p + 3 * DIM, (float *)table.p + 2 * DIM,
			       DIM * 4), "embedding row 3 is table row 2");
		printf("  embedding with id %d >= vocab %d: job failed -EINVAL, output untouched\n",
		       VOCAB, VOCAB);
	}
	ash_cmdbuf_destroy(cb);
	ash_close(ctx);
	return 0;
}

int main(void)
{
	struct ash_partition_info pi;
	struct ash_device_info d;
	pid_t eng;
	int st;

	vt_init("exec_ops_end_to_end", 240);
	res = vt_shared(sizeof(*res));
	vt_part_new(PART, 64 * MiB, 0, VT_ALICE, (gid_t)-1);
	eng = vx_engine_start("1");
	d = vt_dev();
	EXPECT_EQ(d.engine_pid, eng, "device engine_pid is the engine's pid");

	st = vt_run_as(VT_ALICE, VT_ORGA, tenant, NULL);
	EXPECT_EQ(st, 0, "alice's tenant process exit status");

	pi = vt_part(PART);
	printf("partition %s: jobs_completed %llu, jobs_failed %llu, busy %.3f ms, wait %.3f ms\n",
	       PART, (unsigned long long)pi.jobs_completed,
	       (unsigned long long)pi.jobs_failed, vx_ms(pi.busy_ns),
	       vx_ms(pi.wait_ns));
	EXPECT_EQ(pi.jobs_completed, res->jobs, "partition jobs_completed");
	EXPECT_EQ(pi.jobs_failed, 1, "partition jobs_failed (the bad embedding)");
	EXPECT(pi.busy_ns > 0, "partition busy_ns is 0 after %d jobs", res->jobs);
	EXPECT_EQ(pi.mem_used, 0, "partition mem_used after alice closed");

	st = vx_engine_stop(eng, SIGTERM);
	EXPECT_EQ(st, 0, "accelshare-engine exit status after SIGTERM");
	return vt_result();
}
