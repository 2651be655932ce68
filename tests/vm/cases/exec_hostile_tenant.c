// SPDX-License-Identifier: MIT
/*
 * A tenant cannot game the engine: the cost bound and the op checks hold
 * for jobs built with raw ioctls, not only for those the library builds.
 *
 * accelshare-engine (one BLAS thread) serves device 0 with a 20 ms slice
 * (as sched_latency_light_tenant, for TCG's noise).  Three partitions:
 *  - "hostile" (bob, weight 100): raw ASH_IOC_SUBMIT, keeping its queue
 *    full with a mix of
 *      * 256-command jobs of the largest GEMM its 12 MiB of buffers allow
 *        (1024 x 1024 x 1024 f32: over 500 G cost units): -E2BIG;
 *      * a GEMM whose output C is declared READ: -EINVAL;
 *      * a GEMM whose m disagrees with C's operand length: -EINVAL;
 *      * jobs of FILLs costing just under the engine's budget: 0;
 *    and checking every job's status as it collects it;
 *  - "good" (carol, weight 200): a well-behaved tenant keeping its queue
 *    full with FILL jobs of about 5 ms;
 *  - "light" (alice, weight 100): one 4 KiB FILL every ~50 ms, measuring
 *    submit -> complete.
 * Measured and asserted:
 *  - every hostile job got the status its kind must get, and the engine is
 *    still the same process at the end;
 *  - the hostile and the good partition share engine time 1:2 within the
 *    2 percentage points sched_shares_weighted holds;
 *  - the light tenant's worst wait stays within
 *      slice + C_max + L0 + (ceil(slice / C) + 1) * o + 10 ms,
 *    the bound of sched_latency_light_tenant, where C_max is 1.5 x the
 *    longest job either neighbour may run (a budget-sized hostile job, a
 *    good job), each measured alone first: L0 the light job alone, o the
 *    engine's per-job overhead outside busy time.
 * The figures are printed.
 */
#include "vtexec.h"

#include <stdlib.h>

#define SLICE_US	20000
#define GOOD_TARGET_NS	5000000ULL
#define WINDOW_MS	4000
#define TOL		0.02
#define GEMM_N		1024
#define GEMM_BYTES	((uint64_t)GEMM_N * GEMM_N * 4)
#define FILL_CMDS	16

enum kind { K_OK, K_TOO_BIG, K_BAD_ACCESS, K_BAD_PARAMS, K_KINDS };

static const char *const kind_name[K_KINDS] = {
	"budget-sized FILLs", "256 x GEMM 1024^3", "GEMM with C declared READ",
	"GEMM with m past C",
};
static const long kind_want[K_KINDS] = { 0, -E2BIG, -EINVAL, -EINVAL };

struct shared {
	int saturated[2];
	int stop;
	uint64_t seen[K_KINDS];
	uint64_t wrong[K_KINDS];
	int32_t wrong_status[K_KINDS];
	struct vx_light light;
};

static struct shared *sh;
static uint64_t budget, good_len, fill_piece;

/* The hostile tenant's jobs, by kind. */
static struct ash_command jobs[K_KINDS][ASH_JOB_MAX_COMMANDS];
static uint32_t job_len[K_KINDS];

static void gemm_cmd(struct ash_command *c, uint32_t hc, uint32_t ha,
		     uint32_t hb)
{
	vx_cmd_gemm(c, hc, ha, hb, GEMM_N, GEMM_N, GEMM_N);
}

static void build_jobs(uint32_t hc, uint32_t ha, uint32_t hb, uint32_t hf)
{
	struct ash_gemm_params p;
	uint32_t i;

	for (i = 0; i < FILL_CMDS; i++)
		vx_cmd_fill(&jobs[K_OK][i], hf, i * fill_piece, fill_piece,
			    0x5a5a5a5au);
	job_len[K_OK] = FILL_CMDS;
	for (i = 0; i < ASH_JOB_MAX_COMMANDS; i++)
		gemm_cmd(&jobs[K_TOO_BIG][i], hc, ha, hb);
	job_len[K_TOO_BIG] = ASH_JOB_MAX_COMMANDS;
	gemm_cmd(&jobs[K_BAD_ACCESS][0], hc, ha, hb);
	jobs[K_BAD_ACCESS][0].operands[0].flags = ASH_OPERAND_READ;
	job_len[K_BAD_ACCESS] = 1;
	gemm_cmd(&jobs[K_BAD_PARAMS][0], hc, ha, hb);
	memcpy(&p, jobs[K_BAD_PARAMS][0].params, sizeof(p));
	p.m = GEMM_N + 1;		/* C's operand holds 1024 rows */
	p.k = 4;			/* and cheap, were it run */
	memcpy(jobs[K_BAD_PARAMS][0].params, &p, sizeof(p));
	job_len[K_BAD_PARAMS] = 1;
}

/*
 * Kind of the n-th hostile job: mostly budget-sized work, so that its
 * share can be measured, with every bad kind in between.  Not more bad
 * ones: submitting a 256-command job costs the tenant real CPU (768
 * operand lookups; far more under KASAN), and a tenant that cannot keep
 * its queue full on the VM's two CPUs loses share by its own doing.
 */
static enum kind kind_of(uint64_t n)
{
	switch (n % 16) {
	case 1:
		return K_TOO_BIG;
	case 6:
		return K_BAD_ACCESS;
	case 11:
		return K_BAD_PARAMS;
	default:
		return K_OK;
	}
}

static void collect(int fd, uint64_t fence, enum kind k)
{
	int32_t status = 0;
	long ret;

	do
		ret = vx_wait(fd, fence, 100000000LL, &status);
	while (ret == -ETIMEDOUT);
	if (ret)
		status = (int32_t)ret;
	__atomic_fetch_add(&sh->seen[k], 1, __ATOMIC_SEQ_CST);
	if (status != kind_want[k]) {
		__atomic_fetch_add(&sh->wrong[k], 1, __ATOMIC_SEQ_CST);
		sh->wrong_status[k] = status;
	}
}

static int hostile(void *arg)
{
	static enum kind kinds[ASH_CTX_MAX_JOBS * 2];
	uint32_t hc, ha, hb, hf;
	uint64_t n = 0, fence, oldest = 0, last = 0;
	enum kind k;
	int fd;
	long ret;

	(void)arg;
	fd = vt_tenant_open("hostile");
	REQUIRE(fd >= 0, "bob bind hostile: %s", vt_errname(fd));
	REQUIRE_OK(vt_buf_alloc(fd, GEMM_BYTES, &hc, NULL), "alloc C");
	REQUIRE_OK(vt_buf_alloc(fd, GEMM_BYTES, &ha, NULL), "alloc A");
	REQUIRE_OK(vt_buf_alloc(fd, GEMM_BYTES, &hb, NULL), "alloc B");
	REQUIRE_OK(vt_buf_alloc(fd, FILL_CMDS * fill_piece, &hf, NULL),
		   "alloc the fill buffer");
	build_jobs(hc, ha, hb, hf);

	while (!vt_flag_get(&sh->stop)) {
		k = kind_of(n);
		ret = vx_submit(fd, jobs[k], job_len[k], &fence);
		if (!ret) {
			kinds[fence % (sizeof(kinds) / sizeof(kinds[0]))] = k;
			last = fence;
			if (!oldest)
				oldest = fence;
			n++;
			continue;
		}
		REQUIRE(ret == -EAGAIN, "hostile submit: %s", vt_errname(ret));
		vt_flag_set(&sh->saturated[0], 1);
		collect(fd, oldest,
			kinds[oldest % (sizeof(kinds) / sizeof(kinds[0]))]);
		oldest = oldest < last ? oldest + 1 : 0;
	}
	while (oldest && oldest <= last) {
		collect(fd, oldest,
			kinds[oldest % (sizeof(kinds) / sizeof(kinds[0]))]);
		oldest++;
	}
	close(fd);
	return 0;
}

static int good(void *arg)
{
	(void)arg;
	return vx_fill_tenant("good", good_len, 0xabababab, &sh->saturated[1],
			      &sh->stop);
}

static int light(void *arg)
{
	(void)arg;
	return vx_light_tenant("light", &sh->light);
}

/* Mean busy time of @n runs of @c on a fresh context of @part. */
static uint64_t busy_of(const char *part, const struct ash_command *c,
			uint32_t ncmd, int fd, int n)
{
	uint64_t t0 = vx_part_busy(part);
	int i;

	for (i = 0; i < n; i++)
		REQUIRE_OK(vx_run(fd, c, ncmd), "calibration job");
	return (vx_part_busy(part) - t0) / (uint64_t)n;
}

int main(void)
{
	struct ash_partition_info h0, h1, g0, g1, p0, p1;
	struct ash_device_set ds;
	struct ash_command c[FILL_CMDS];
	uint64_t t0, t1, cost, cbudget, cgood, cmax, overhead, l0med, l0max,
		 bound, med, worst, jobs_n, wall, hb, gb, total, piece;
	double hshare, want = 1.0 / 3.0;
	pid_t eng, hp, gp, lp;
	uint32_t h, i;
	int fd, k, kind;

	vt_init("exec_hostile_tenant", 240);
	sh = vt_shared(sizeof(*sh));
	memset(&ds, 0, sizeof(ds));
	ds.flags = ASH_DEVICE_SET_SLICE;
	ds.slice_us = SLICE_US;
	REQUIRE_OK(vt_ioctl(vt_ctl, ASH_CTL_DEVICE_SET, &ds), "DEVICE_SET slice 20 ms");
	eng = vx_engine_start("1");
	budget = vt_dev().job_budget;
	REQUIRE(budget >= ASH_JOB_COST_MAX,
		"engine's job budget %llu below ASH_JOB_COST_MAX",
		(unsigned long long)budget);
	/* FILL_CMDS FILLs of 4 units a word, together just under budget. */
	fill_piece = (budget / FILL_CMDS) & ~(VT_PAGE - 1);
	fill_piece = fill_piece > 4 * MiB ? 4 * MiB : fill_piece;

	/* The neighbours' longest jobs, each alone, and the good job's size. */
	vt_part_new("calib", 64 * MiB, 0, VT_ROOT, (gid_t)-1);
	fd = vt_tenant_open("calib");
	REQUIRE(fd >= 0, "bind calib");
	REQUIRE_OK(vt_buf_alloc(fd, FILL_CMDS * fill_piece, &h, NULL), "alloc");
	for (i = 0; i < FILL_CMDS; i++)
		vx_cmd_fill(&c[i], h, i * fill_piece, fill_piece, 0);
	REQUIRE_OK(vx_run(fd, c, FILL_CMDS), "first budget-sized job");
	cbudget = busy_of("calib", c, FILL_CMDS, fd, 5);
	piece = (uint64_t)((double)fill_piece * (double)GOOD_TARGET_NS /
			   (double)(cbudget / FILL_CMDS ? cbudget / FILL_CMDS : 1));
	good_len = piece < 64 * KiB ? 64 * KiB : piece > 16 * MiB ? 16 * MiB : piece;
	good_len &= ~(VT_PAGE - 1);
	close(fd);
	EXPECT_OK(vt_part_delete("calib"), "delete calib");

	vt_part_new("hostile", 64 * MiB, 0, VT_BOB, (gid_t)-1);
	vt_part_new("good", 32 * MiB, 0, VT_CAROL, (gid_t)-1);
	vt_part_new("light", 4 * MiB, 0, VT_ALICE, (gid_t)-1);
	{
		struct ash_partition_params p;

		vt_params(&p, "good", 32 * MiB);
		p.flags = ASH_PART_SET_WEIGHT;
		p.weight = 200;
		REQUIRE_OK(vt_part_set(&p), "good: weight 200");
	}

	lp = vt_spawn_as(VT_ALICE, VT_ORGA, NULL, 0, light, NULL);
	REQUIRE(vt_flag_wait(&sh->light.ready, 1, 60000), "light tenant's solo phase");

	/* The good tenant alone: its job cost and the engine's overhead. */
	gp = vt_spawn_as(VT_CAROL, VT_ORGC, NULL, 0, good, NULL);
	REQUIRE(vt_flag_wait(&sh->saturated[1], 1, 30000), "good tenant saturating");
	usleep(200000);
	p0 = vt_part("good");
	t0 = vx_now_ns();
	usleep(500000);
	p1 = vt_part("good");
	t1 = vx_now_ns();
	jobs_n = p1.jobs_completed - p0.jobs_completed;
	REQUIRE(jobs_n > 0, "the good tenant completed no job in 500 ms");
	cgood = (p1.busy_ns - p0.busy_ns) / jobs_n;
	wall = (t1 - t0) / jobs_n;
	overhead = wall > cgood ? wall - cgood : 0;
	cost = cgood;
	cmax = (cbudget > cgood ? cbudget : cgood) * 3 / 2;

	/* Now the hostile tenant too, and the contended phase. */
	hp = vt_spawn_as(VT_BOB, VT_ORGB, NULL, 0, hostile, NULL);
	REQUIRE(vt_flag_wait(&sh->saturated[0], 1, 60000), "hostile tenant saturating");
	usleep(300000);
	h0 = vt_part("hostile");
	g0 = vt_part("good");
	t0 = vx_now_ns();
	vt_flag_set(&sh->light.go, 1);
	usleep(WINDOW_MS * 1000);
	h1 = vt_part("hostile");
	g1 = vt_part("good");
	t1 = vx_now_ns();
	REQUIRE(vt_flag_wait(&sh->light.ready, 2, 120000), "light tenant's contended phase");
	vt_flag_set(&sh->stop, 1);
	EXPECT_EQ(vt_wait(lp), 0, "light tenant exit status");
	EXPECT_EQ(vt_wait(hp), 0, "hostile tenant exit status");
	EXPECT_EQ(vt_wait(gp), 0, "good tenant exit status");

	/* What the hostile tenant saw. */
	printf("engine budget %llu units; a budget-sized job (%d FILLs of %llu KiB) "
	       "runs %.2f ms\n", (unsigned long long)budget, FILL_CMDS,
	       (unsigned long long)(fill_piece / KiB), vx_ms(cbudget));
	for (kind = 0; kind < K_KINDS; kind++) {
		printf("hostile %-28s %6llu jobs, expected %s, wrong %llu\n",
		       kind_name[kind], (unsigned long long)sh->seen[kind],
		       vt_errname(kind_want[kind]),
		       (unsigned long long)sh->wrong[kind]);
		EXPECT(sh->seen[kind] > 0, "no hostile job of kind '%s' completed",
		       kind_name[kind]);
		EXPECT(!sh->wrong[kind], "%llu hostile jobs of kind '%s' got %s, not %s",
		       (unsigned long long)sh->wrong[kind], kind_name[kind],
		       vt_errname(sh->wrong_status[kind]),
		       vt_errname(kind_want[kind]));
	}

	/* Shares. */
	hb = h1.busy_ns - h0.busy_ns;
	gb = g1.busy_ns - g0.busy_ns;
	total = hb + gb;
	hshare = total ? (double)hb / (double)total : 0;
	printf("window %.0f ms: hostile (weight 100) %.1f ms = %.2f%%, good (weight 200) "
	       "%.1f ms = %.2f%% (expected 33.33%% / 66.67%%)\n", vx_ms(t1 - t0),
	       vx_ms(hb), 100 * hshare, vx_ms(gb), 100 * (1 - hshare));
	EXPECT(hshare >= want - TOL && hshare <= want + TOL,
	       "hostile share %.2f%%, expected %.2f%% +- %.0f pp", 100 * hshare,
	       100 * want, 100 * TOL);
	EXPECT(total > (t1 - t0) / 4, "engine busy only %.0f ms of %.0f ms",
	       vx_ms(total), vx_ms(t1 - t0));

	/* The light tenant's worst wait. */
	vx_median_max(sh->light.solo, VX_LIGHT_SOLO, &l0med, &l0max);
	vx_median_max(sh->light.lat, VX_LIGHT_SAMPLES, &med, &worst);
	bound = vx_latency_bound(SLICE_US * 1000ULL, cost, cmax, l0max,
				 overhead, &k);
	printf("light job: alone worst %.2f ms; beside both (%d samples) median %.2f, "
	       "worst %.2f ms; bound = slice %.1f + C_max %.2f + L0 %.2f + %d x o %.2f "
	       "+ 10 = %.2f ms\n", vx_ms(l0max), VX_LIGHT_SAMPLES,
	       vx_ms(med), vx_ms(worst), SLICE_US / 1000.0,
	       vx_ms(cmax), vx_ms(l0max), k, vx_ms(overhead), vx_ms(bound));
	EXPECT(worst <= bound, "worst light-job latency %.2f ms > bound %.2f ms",
	       vx_ms(worst), vx_ms(bound));

	/* The engine kept running: the same process, still attached. */
	EXPECT(kill(eng, 0) == 0, "the engine (pid %d) is gone", (int)eng);
	EXPECT_EQ(vt_dev().engine_pid, eng, "device's engine pid");
	EXPECT_EQ(vx_engine_stop(eng, SIGTERM), 0, "engine exit status after SIGTERM");
	for (kind = 0; kind < 3; kind++) {
		static const char *const parts[] = { "hostile", "good", "light" };
		uint64_t end = vx_now_ns() + 5000000000ULL;
		long ret;

		while ((ret = vt_part_delete(parts[kind])) == -EBUSY &&
		       vx_now_ns() < end)
			usleep(1000);
		EXPECT_OK(ret, "delete partition");
	}
	return vt_result();
}
