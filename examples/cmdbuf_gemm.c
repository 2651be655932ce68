// SPDX-License-Identifier: MIT
/*
 * cmdbuf_gemm: record a matrix product and a GELU in a command buffer,
 * submit, wait, read the result back.
 *
 *   cmdbuf_gemm PARTITION
 *
 * The library tiles the GEMM into jobs of at most one scheduler slice; the
 * engine (accelshare-engine, which must be running) checks and runs them.
 * Data moves through a staging buffer, so the program works on devices
 * whose memory cannot be mapped too.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <accelshare.h>

#define N 256

int main(int argc, char **argv)
{
	const uint64_t mat = (uint64_t)N * N * 4;
	struct ash_tensor_ref a, b, c;
	struct ash_buf *dev, *stage;
	struct ash_cmdbuf *cb;
	struct ash_ctx *ctx;
	uint64_t fence;
	float *s;
	int i, ret;

	if (argc != 2) {
		fprintf(stderr, "usage: cmdbuf_gemm PARTITION\n");
		return 2;
	}
	ret = ash_open(argv[1], &ctx);
	if (ret) {
		fprintf(stderr, "cmdbuf_gemm: cannot open partition %s: %s\n",
			argv[1], strerror(-ret));
		return 1;
	}
	/* Device memory for A, B and C; a staging buffer to fill and read. */
	ret = ash_alloc(ctx, 3 * mat, &dev);
	if (!ret)
		ret = ash_alloc_staging(ctx, 3 * mat, &stage);
	if (!ret)
		ret = ash_map(stage, (void **)&s);
	if (ret)
		goto fail;
	for (i = 0; i < N * N; i++) {
		s[i] = 1.0f;			/* A: ones */
		s[N * N + i] = i % N == i / N;	/* B: identity */
	}
	ret = ash_copy(ctx, dev, 0, stage, 0, 2 * mat, &fence);
	if (ret)
		goto fail;

	/* C = A B, then C = gelu(C), recorded and submitted together. */
	memset(&a, 0, sizeof(a));
	a.buf = dev;
	a.dtype = ASH_DTYPE_F32;
	a.rows = a.cols = N;
	b = a;
	b.offset = mat;
	c = a;
	c.offset = 2 * mat;
	ret = ash_cmdbuf_create(ctx, &cb);
	if (ret)
		goto fail;
	ret = ash_op_gemm(cb, &c, &a, &b, 0, 1.0f, 0.0f);
	if (!ret)
		ret = ash_op_gelu(cb, &c, &c);
	if (!ret)
		ret = ash_op_copy(cb, stage, 2 * mat, dev, 2 * mat, mat);
	if (!ret)
		printf("recorded %llu commands in %llu jobs\n",
		       (unsigned long long)ash_cmdbuf_commands(cb),
		       (unsigned long long)ash_cmdbuf_jobs(cb));
	if (!ret)
		ret = ash_cmdbuf_submit(cb, &fence);
	if (!ret)
		ret = ash_cmdbuf_wait(cb, -1);	/* the first failure, if any */
	ash_cmdbuf_destroy(cb);
	if (ret)
		goto fail;
	/* Every element of A B is 1; gelu(1) = 0.8412 (tanh form). */
	for (i = 0; i < N * N; i++)
		if (fabsf(s[2 * N * N + i] - 0.841192f) > 1e-4f) {
			fprintf(stderr, "cmdbuf_gemm: element %d is %f\n", i,
				s[2 * N * N + i]);
			ash_close(ctx);
			return 1;
		}
	printf("C = gelu(A B): all %d elements %.4f\n", N * N, s[2 * N * N]);
	ash_close(ctx);
	return 0;
fail:
	fprintf(stderr, "cmdbuf_gemm: %s\n", strerror(-ret));
	ash_close(ctx);
	return 1;
}
