// SPDX-License-Identifier: MIT
/*
 * exec_bench - the execution path's costs, measured inside one VM run
 * ("make bench-exec", bench/exec-run.sh), where every number shares the same
 * emulated machine, so that the ratios mean something (absolute times under
 * TCG do not):
 *
 *  1. null-job round trip: a NOP submitted and waited for through the
 *     driver and accelshare-engine, against a pipe ping-pong between two
 *     processes (both are two process wake-ups per round trip);
 *  2. GEMM f32 512 x 512 x 512 recorded in a command buffer (tiled by the
 *     runtime into slice-sized jobs) and run by the engine, against the
 *     same cblas_sgemm called directly in this process, with 1 and with 2
 *     BLAS threads on both sides;
 *  3. the share error at weights 1:2:4 and 1:10: tenants saturating the
 *     engine with ~1 ms FILL jobs, shares of busy_ns over a 2 s window;
 *  4. job throughput: 4 tenants (4 partitions) keeping their queues full of
 *     small jobs (one 4 KiB FILL each), jobs per second through driver and
 *     engine, against the same job run by the engine's backend directly in
 *     this process (ash_engine_run_job(): the op table's checks and the
 *     CPU backend, no kernel in the loop) for the same time.
 *
 * It is run like a VM test case (tests/vm/README.md): as root, with the
 * module freshly loaded, exit 0 unless something failed outright.  It
 * prints one table at the end, between "EXEC-BENCH BEGIN" and "EXEC-BENCH
 * END" lines.
 */
#include "vtexec.h"
#include "../runtime/engine/backend.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>

#define NULL_ITERS	2000
#define PIPE_ITERS	2000
#define GEMM_N		512
#define GEMM_REPS	3
#define SHARE_WINDOW_MS	2000
#define TPUT_TENANTS	4
#define TPUT_WINDOW_MS	2000
#define TPUT_LEN	4096

static double median3(double *v, int n)
{
	int i, j;
	double t;

	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (v[j] < v[i]) {
				t = v[i];
				v[i] = v[j];
				v[j] = t;
			}
	return v[n / 2];
}

/* ---- 1. round trips ---- */

static double null_job_us(int fd)
{
	struct ash_command c;
	uint64_t t0;
	int i;

	vx_cmd_nop(&c);
	for (i = 0; i < 100; i++)		/* warm up */
		REQUIRE_OK(vx_run(fd, &c, 1), "NOP");
	t0 = vx_now_ns();
	for (i = 0; i < NULL_ITERS; i++)
		if (vx_run(fd, &c, 1))
			FAIL("NOP round trip %d failed", i);
	return (double)(vx_now_ns() - t0) / NULL_ITERS / 1000.0;
}

static double pipe_pingpong_us(void)
{
	int ab[2], ba[2], i;
	uint64_t t0 = 0;
	char b = 0;
	pid_t pid;

	REQUIRE(!pipe(ab) && !pipe(ba), "pipe");
	pid = fork();
	REQUIRE(pid >= 0, "fork");
	if (pid == 0) {
		close(ab[1]);
		close(ba[0]);
		for (;;) {
			if (read(ab[0], &b, 1) != 1)
				_exit(0);
			if (write(ba[1], &b, 1) != 1)
				_exit(1);
		}
	}
	close(ab[0]);
	close(ba[1]);
	for (i = -100; i < PIPE_ITERS; i++) {
		if (i == 0)
			t0 = vx_now_ns();
		if (write(ab[1], &b, 1) != 1 || read(ba[0], &b, 1) != 1) {
			FAIL("pipe ping-pong broke at %d", i);
			break;
		}
	}
	t0 = vx_now_ns() - t0;
	close(ab[1]);		/* the child reads EOF and exits */
	waitpid(pid, NULL, 0);
	close(ba[0]);
	return (double)t0 / PIPE_ITERS / 1000.0;
}

/* ---- 2. GEMM ---- */

static float *ga, *gb, *gc;

static double gemm_direct_ms(int threads)
{
	double t[GEMM_REPS];
	uint64_t t0;
	int r;

	openblas_set_num_threads(threads);
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, GEMM_N, GEMM_N,
		    GEMM_N, 1.0f, ga, GEMM_N, gb, GEMM_N, 0.0f, gc, GEMM_N);
	for (r = 0; r < GEMM_REPS; r++) {
		t0 = vx_now_ns();
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, GEMM_N,
			    GEMM_N, GEMM_N, 1.0f, ga, GEMM_N, gb, GEMM_N, 0.0f,
			    gc, GEMM_N);
		t[r] = vx_ms(vx_now_ns() - t0);
	}
	return median3(t, GEMM_REPS);
}

/* The same product cut into @tiles blocks of C's rows, as the runtime
 * tiles it into jobs: what the tiling alone costs. */
static double gemm_direct_tiled_ms(int threads, int tiles)
{
	double t[GEMM_REPS];
	uint64_t t0;
	int r, i, rows = (GEMM_N + tiles - 1) / tiles, m;

	openblas_set_num_threads(threads);
	for (r = 0; r < GEMM_REPS; r++) {
		t0 = vx_now_ns();
		for (i = 0; i < GEMM_N; i += rows) {
			m = GEMM_N - i < rows ? GEMM_N - i : rows;
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m,
				    GEMM_N, GEMM_N, 1.0f, ga + (size_t)i * GEMM_N,
				    GEMM_N, gb, GEMM_N, 0.0f,
				    gc + (size_t)i * GEMM_N, GEMM_N);
		}
		t[r] = vx_ms(vx_now_ns() - t0);
	}
	return median3(t, GEMM_REPS);
}

struct gemm_stack {
	double ms;		/* submit -> all done, median */
	double busy_ms;		/* engine busy time per GEMM */
	uint64_t jobs;		/* jobs per GEMM */
	double max_err;		/* vs the direct result */
};

static struct gemm_stack gemm_stack(struct ash_ctx *ctx, const char *part)
{
	struct gemm_stack g = { 0 };
	struct ash_buf *ba, *bb, *bc;
	struct ash_tensor_ref ra, rb, rc;
	struct ash_cmdbuf *cb;
	const uint64_t sz = (uint64_t)GEMM_N * GEMM_N * 4;
	double t[GEMM_REPS];
	uint64_t fence, t0, b0;
	void *pa, *pb, *pc;
	int r;
	size_t i;

	REQUIRE_OK(ash_alloc(ctx, sz, &ba), "alloc A");
	REQUIRE_OK(ash_alloc(ctx, sz, &bb), "alloc B");
	REQUIRE_OK(ash_alloc(ctx, sz, &bc), "alloc C");
	REQUIRE_OK(ash_map(ba, &pa), "map A");
	REQUIRE_OK(ash_map(bb, &pb), "map B");
	REQUIRE_OK(ash_map(bc, &pc), "map C");
	memcpy(pa, ga, sz);
	memcpy(pb, gb, sz);
	ra = (struct ash_tensor_ref){ .buf = ba, .dtype = ASH_DTYPE_F32, .rows = GEMM_N, .cols = GEMM_N };
	rb = (struct ash_tensor_ref){ .buf = bb, .dtype = ASH_DTYPE_F32, .rows = GEMM_N, .cols = GEMM_N };
	rc = (struct ash_tensor_ref){ .buf = bc, .dtype = ASH_DTYPE_F32, .rows = GEMM_N, .cols = GEMM_N };
	REQUIRE_OK(ash_cmdbuf_create(ctx, &cb), "cmdbuf");
	for (r = -1; r < GEMM_REPS; r++) {	/* -1: warm-up (faults) */
		t0 = vx_now_ns();
		b0 = vt_part(part).busy_ns;
		REQUIRE_OK(ash_op_gemm(cb, &rc, &ra, &rb, 0, 1.0f, 0.0f), "op gemm");
		g.jobs = ash_cmdbuf_jobs(cb);
		REQUIRE_OK(ash_cmdbuf_submit(cb, &fence), "submit");
		REQUIRE_OK(ash_cmdbuf_wait(cb, -1), "wait");
		if (r >= 0) {
			t[r] = vx_ms(vx_now_ns() - t0);
			g.busy_ms += vx_ms(vt_part(part).busy_ns - b0) / GEMM_REPS;
		}
	}
	g.ms = median3(t, GEMM_REPS);
	for (i = 0; i < (size_t)GEMM_N * GEMM_N; i++)
		g.max_err = fmax(g.max_err, fabs((double)((float *)pc)[i] - gc[i]));
	ash_cmdbuf_destroy(cb);
	ash_free(ba);
	ash_free(bb);
	ash_free(bc);
	return g;
}

/* ---- 3. shares ---- */

struct shared {
	int saturated[TPUT_TENANTS];
	int stop;
};

static struct shared *sh;
static uint64_t fill_len;

struct tenant_arg {
	int idx;
	char part[16];
};

static int tenant(void *arg)
{
	const struct tenant_arg *ta = arg;

	return vx_fill_tenant(ta->part, fill_len, 1, &sh->saturated[ta->idx],
			      &sh->stop);
}

/* The largest |share - weight share| in percentage points. */
static double share_error(const uint32_t *w, int n, char *detail, size_t dlen)
{
	struct tenant_arg ta[3] = { 0 };
	struct ash_partition_params p;
	uint64_t b0[3], b1[3], total = 0, wsum = 0;
	double worst = 0;
	pid_t pids[3];
	size_t off = 0;
	int i;

	memset(sh, 0, sizeof(*sh));
	for (i = 0; i < n; i++) {
		snprintf(ta[i].part, sizeof(ta[i].part), "bw%d_%u", i, w[i]);
		ta[i].idx = i;
		vt_params(&p, ta[i].part, 32 * MiB);
		p.weight = w[i];
		REQUIRE_OK(vt_part_create(&p), "create");
		wsum += w[i];
	}
	for (i = 0; i < n; i++)
		pids[i] = vt_spawn_as(VT_ROOT, 0, NULL, 0, tenant, &ta[i]);
	for (i = 0; i < n; i++)
		REQUIRE(vt_flag_wait(&sh->saturated[i], 1, 30000), "saturation");
	usleep(300000);
	for (i = 0; i < n; i++)
		b0[i] = vt_part(ta[i].part).busy_ns;
	usleep(SHARE_WINDOW_MS * 1000);
	for (i = 0; i < n; i++) {
		b1[i] = vt_part(ta[i].part).busy_ns;
		total += b1[i] - b0[i];
	}
	vt_flag_set(&sh->stop, 1);
	for (i = 0; i < n; i++) {
		double want = 100.0 * w[i] / (double)wsum;
		double got = total ? 100.0 * (double)(b1[i] - b0[i]) / (double)total : 0;

		worst = fmax(worst, fabs(got - want));
		off += (size_t)snprintf(detail + off, off < dlen ? dlen - off : 0,
					"%s%.2f%%", i ? " / " : "", got);
	}
	for (i = 0; i < n; i++)
		vt_wait(pids[i]);
	for (i = 0; i < n; i++) {
		uint64_t end = vx_now_ns() + 5000000000ULL;

		while (vt_part_delete(ta[i].part) == -EBUSY && vx_now_ns() < end)
			usleep(1000);
	}
	return worst;
}

/* ---- 4. job throughput ---- */

/* Jobs per second of TPUT_TENANTS saturating tenants, through the stack:
 * tenant() with FILLs of TPUT_LEN. */
static double tput_stack(void)
{
	struct tenant_arg ta[TPUT_TENANTS] = { 0 };
	uint64_t j0 = 0, j1 = 0, t0, t1;
	pid_t pids[TPUT_TENANTS];
	int i;

	memset(sh, 0, sizeof(*sh));
	fill_len = TPUT_LEN;
	for (i = 0; i < TPUT_TENANTS; i++) {
		snprintf(ta[i].part, sizeof(ta[i].part), "tput%d", i);
		ta[i].idx = i;
		vt_part_new(ta[i].part, 4 * MiB, 0, VT_ROOT, (gid_t)-1);
	}
	for (i = 0; i < TPUT_TENANTS; i++)
		pids[i] = vt_spawn_as(VT_ROOT, 0, NULL, 0, tenant, &ta[i]);
	for (i = 0; i < TPUT_TENANTS; i++)
		REQUIRE(vt_flag_wait(&sh->saturated[i], 1, 30000), "saturation");
	usleep(300000);
	t0 = vx_now_ns();
	for (i = 0; i < TPUT_TENANTS; i++)
		j0 += vt_part(ta[i].part).jobs_completed;
	usleep(TPUT_WINDOW_MS * 1000);
	for (i = 0; i < TPUT_TENANTS; i++)
		j1 += vt_part(ta[i].part).jobs_completed;
	t1 = vx_now_ns();
	vt_flag_set(&sh->stop, 1);
	for (i = 0; i < TPUT_TENANTS; i++)
		vt_wait(pids[i]);
	for (i = 0; i < TPUT_TENANTS; i++) {
		uint64_t end = vx_now_ns() + 5000000000ULL;

		while (vt_part_delete(ta[i].part) == -EBUSY && vx_now_ns() < end)
			usleep(1000);
	}
	return (double)(j1 - j0) * 1e9 / (double)(t1 - t0);
}

/* The same job, run by the backend directly for as long: jobs per second. */
static double tput_direct(void)
{
	static uint8_t space[2 * TPUT_LEN] __attribute__((aligned(4096)));
	struct ash_job_run r = {
		.be = &ash_backend_cpu,
		.space = { .host = space, .size = sizeof(space) },
		.budget = ASH_JOB_COST_MAX,
	};
	struct ash_command c;
	uint64_t t0, n = 0, cost;
	uint32_t failed;

	vx_cmd_fill(&c, 0, TPUT_LEN, TPUT_LEN, 1);	/* device address 4096 */
	t0 = vx_now_ns();
	while (vx_now_ns() - t0 < TPUT_WINDOW_MS * 1000000ULL) {
		if (ash_engine_run_job(&r, &c, 1, &failed, &cost))
			FAIL("direct job failed");
		n++;
	}
	return (double)n * 1e9 / (double)(vx_now_ns() - t0);
}

static uint64_t calibrate_fill(int fd, const char *part, uint64_t target_ns)
{
	struct ash_command c;
	uint64_t b0, busy, len;
	uint32_t h = 0;
	int i;

	REQUIRE_OK(vt_buf_alloc(fd, 16 * MiB, &h, NULL), "alloc 16 MiB");
	vx_cmd_fill(&c, h, 0, 16 * MiB, 0);
	REQUIRE_OK(vx_run(fd, &c, 1), "FILL");
	vx_cmd_fill(&c, h, 0, 1 * MiB, 0);
	b0 = vt_part(part).busy_ns;
	for (i = 0; i < 20; i++)
		REQUIRE_OK(vx_run(fd, &c, 1), "FILL");
	busy = (vt_part(part).busy_ns - b0) / 20;
	vt_buf_free(fd, h);
	len = (uint64_t)((double)MiB * (double)target_ns / (double)(busy ? busy : 1));
	len = len < 64 * KiB ? 64 * KiB : len > 16 * MiB ? 16 * MiB : len;
	return len & ~(VT_PAGE - 1);
}

int main(void)
{
	static const uint32_t w3[] = { 1, 2, 4 }, w2[] = { 1, 10 };
	struct gemm_stack g1, g2;
	struct ash_ctx *ctx;
	double nj, pp, d1, d2, t1, t2, e3, e2, js, jd;
	char s3[128], s2[128];
	pid_t eng;
	size_t i;
	int fd;

	vt_init("exec_bench", 280);
	sh = vt_shared(sizeof(*sh));
	vt_part_new("bench", 64 * MiB, 0, VT_ROOT, (gid_t)-1);
	ga = malloc((size_t)GEMM_N * GEMM_N * 4);
	gb = malloc((size_t)GEMM_N * GEMM_N * 4);
	gc = malloc((size_t)GEMM_N * GEMM_N * 4);
	REQUIRE(ga && gb && gc, "malloc");
	for (i = 0; i < (size_t)GEMM_N * GEMM_N; i++) {
		ga[i] = (float)((i * 7) % 13) / 13.0f - 0.5f;
		gb[i] = (float)((i * 5) % 11) / 11.0f - 0.5f;
	}

	eng = vx_engine_start("1");
	REQUIRE_OK(ash_open("bench", &ctx), "ash_open bench");
	fd = ash_ctx_fd(ctx);

	printf("exec_bench: null-job round trips...\n");
	nj = null_job_us(fd);
	pp = pipe_pingpong_us();

	printf("exec_bench: GEMM %d^3, 1 thread...\n", GEMM_N);
	d1 = gemm_direct_ms(1);
	g1 = gemm_stack(ctx, "bench");
	t1 = gemm_direct_tiled_ms(1, (int)g1.jobs);
	vx_engine_stop(eng, SIGTERM);
	eng = vx_engine_start("2");
	printf("exec_bench: GEMM %d^3, 2 threads...\n", GEMM_N);
	d2 = gemm_direct_ms(2);
	g2 = gemm_stack(ctx, "bench");
	t2 = gemm_direct_tiled_ms(2, (int)g2.jobs);
	vx_engine_stop(eng, SIGTERM);
	eng = vx_engine_start("1");

	printf("exec_bench: shares...\n");
	fill_len = calibrate_fill(fd, "bench", 1000000);
	ash_close(ctx);
	e3 = share_error(w3, 3, s3, sizeof(s3));
	e2 = share_error(w2, 2, s2, sizeof(s2));
	printf("exec_bench: job throughput...\n");
	js = tput_stack();
	jd = tput_direct();
	vx_engine_stop(eng, SIGTERM);

	printf("EXEC-BENCH BEGIN (kernel %s, 2 vCPUs under TCG: compare ratios, not absolute times)\n",
	       getenv("ASH_VM_KERNEL") ? getenv("ASH_VM_KERNEL") : "?");
	printf("%-44s %14s %14s %8s\n", "measurement", "accelshare", "baseline", "ratio");
	printf("%-44s %11.1f us %11.1f us %7.2fx\n",
	       "null job round trip vs pipe ping-pong", nj, pp, nj / pp);
	printf("%-44s %11.1f ms %11.1f ms %7.2fx\n",
	       "GEMM 512^3 f32, 1 thread: stack vs cblas", g1.ms, d1, g1.ms / d1);
	printf("%-44s %11.1f ms %14s %7.2fx\n",
	       "  (engine busy time of it)", g1.busy_ms, "", g1.busy_ms / d1);
	printf("%-44s %11.1f ms %11.1f ms %7.2fx\n",
	       "  stack vs cblas cut in the same row tiles", g1.ms, t1, g1.ms / t1);
	printf("%-44s %11.1f ms %11.1f ms %7.2fx\n",
	       "GEMM 512^3 f32, 2 threads: stack vs cblas", g2.ms, d2, g2.ms / d2);
	printf("%-44s %11.1f ms %14s %7.2fx\n",
	       "  (engine busy time of it)", g2.busy_ms, "", g2.busy_ms / d2);
	printf("%-44s %11.1f ms %11.1f ms %7.2fx\n",
	       "  stack vs cblas cut in the same row tiles", g2.ms, t2, g2.ms / t2);
	printf("%-44s %14.2f %14s\n", "share error 1:2:4, max |pp| (2 s window)", e3, "");
	printf("%-44s %14s\n", "  measured (ideal 14.29 / 28.57 / 57.14)", s3);
	printf("%-44s %14.2f %14s\n", "share error 1:10, max |pp| (2 s window)", e2, "");
	printf("%-44s %14s\n", "  measured (ideal 9.09 / 90.91)", s2);
	printf("%-44s %9.0f job/s %9.0f job/s %7.2fx\n",
	       "4 tenants' 4 KiB FILL jobs: stack vs backend", js, jd, js / jd);
	printf("GEMM through the stack: %llu jobs per 512^3 GEMM, max |C - cblas| %.3g / %.3g; "
	       "this process's OpenBLAS: %d threads max, %s\n",
	       (unsigned long long)g1.jobs, g1.max_err, g2.max_err,
	       openblas_get_num_procs(), openblas_get_config());
	printf("EXEC-BENCH END\n");
	EXPECT(g1.max_err < 1e-3 && g2.max_err < 1e-3, "GEMM through the stack differs from cblas");
	return vt_result();
}
