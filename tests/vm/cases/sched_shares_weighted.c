// SPDX-License-Identifier: MIT
/*
 * Invariant 5: under saturation each partition's share of engine time
 * matches its weight.
 *
 * accelshare-engine (one BLAS thread) serves device 0.  Three partitions
 * with weights 1, 2 and 4, one tenant process each (alice, bob, carol),
 * each keeping its queue full (256 jobs) with identical FILL jobs sized to
 * cost about 1 ms of engine time (measured first).  Once all three have
 * hit a full queue and a short warm-up has passed, the case reads every
 * partition's busy_ns (ASH_CTL_PART_INFO), waits a fixed window of wall
 * time, reads them again: each partition's share of the busy time in the
 * window must be within 2 percentage points of 1/7, 2/7 and 4/7.  Then the
 * same with two partitions at weights 1 and 10 (1/11, 10/11).  The shares
 * are printed.  Windows are wall time, so the debug kernel runs fewer jobs
 * in the same time rather than taking longer.
 */
#include "vtexec.h"

#define WINDOW_3_MS	3000
#define WINDOW_2_MS	2000
#define WARMUP_MS	300
#define TOL		0.02

struct shared {
	int saturated[3];
	int stop;
	int jobs_ok[3];
};

static struct shared *sh;
static uint64_t fill_len;

struct tenant_arg {
	int idx;
	const char *part;
};

static int tenant(void *arg)
{
	const struct tenant_arg *ta = arg;

	return vx_fill_tenant(ta->part, fill_len,
			      0x01010101u * (uint32_t)(ta->idx + 1),
			      &sh->saturated[ta->idx], &sh->stop);
}

/* Runs tenants on partitions @names with @weights; checks and prints the
 * shares over @window_ms. */
static void phase(const char *title, const char *const *names,
		  const uint32_t *weights, int n, int window_ms)
{
	static const uid_t uids[3] = { VT_ALICE, VT_BOB, VT_CAROL };
	static const gid_t gids[3] = { VT_ORGA, VT_ORGB, VT_ORGC };
	struct tenant_arg ta[3];
	struct ash_partition_params p;
	uint64_t b0[3], b1[3], j0[3], j1[3], total = 0, wsum = 0, t0, t1;
	pid_t pids[3];
	int i;

	memset(sh, 0, sizeof(*sh));
	for (i = 0; i < n; i++) {
		vt_params(&p, names[i], 32 * MiB);
		p.weight = weights[i];
		p.nr_uids = 1;
		p.uids[0] = uids[i];
		REQUIRE_OK(vt_part_create(&p), "create partition");
		wsum += weights[i];
	}
	for (i = 0; i < n; i++) {
		ta[i].idx = i;
		ta[i].part = names[i];
		pids[i] = vt_spawn_as(uids[i], gids[i], NULL, 0, tenant, &ta[i]);
	}
	for (i = 0; i < n; i++)
		if (!vt_flag_wait(&sh->saturated[i], 1, 30000)) {
			FAIL("%s: tenant %d never filled its queue in 30 s", title, i);
			vt_flag_set(&sh->stop, 1);
			goto out;
		}
	usleep(WARMUP_MS * 1000);
	t0 = vx_now_ns();
	for (i = 0; i < n; i++) {
		struct ash_partition_info pi = vt_part(names[i]);

		b0[i] = pi.busy_ns;
		j0[i] = pi.jobs_completed;
	}
	usleep((useconds_t)window_ms * 1000);
	for (i = 0; i < n; i++) {
		struct ash_partition_info pi = vt_part(names[i]);

		b1[i] = pi.busy_ns;
		j1[i] = pi.jobs_completed;
		total += b1[i] - b0[i];
	}
	t1 = vx_now_ns();
	vt_flag_set(&sh->stop, 1);

	printf("%s: window %.0f ms wall, engine busy %.0f ms (%.0f%%)\n", title,
	       vx_ms(t1 - t0), vx_ms(total), 100.0 * (double)total / (double)(t1 - t0));
	printf("  %-10s %6s %9s %8s %10s %9s %8s\n", "partition", "weight",
	       "expected", "measured", "error(pp)", "busy(ms)", "jobs");
	for (i = 0; i < n; i++) {
		double want = (double)weights[i] / (double)wsum;
		double got = total ? (double)(b1[i] - b0[i]) / (double)total : 0;

		printf("  %-10s %6u %8.2f%% %7.2f%% %+10.2f %9.1f %8llu\n", names[i],
		       weights[i], 100 * want, 100 * got, 100 * (got - want),
		       vx_ms(b1[i] - b0[i]), (unsigned long long)(j1[i] - j0[i]));
		EXPECT(got >= want - TOL && got <= want + TOL,
		       "%s: partition %s (weight %u): share %.2f%%, expected %.2f%% +- %.0f pp",
		       title, names[i], weights[i], 100 * got, 100 * want, 100 * TOL);
		EXPECT(j1[i] > j0[i], "%s: partition %s completed no job in the window",
		       title, names[i]);
	}
	EXPECT(total > (t1 - t0) / 4,
	       "%s: engine busy only %.0f ms of a %.0f ms window: not saturated?",
	       title, vx_ms(total), vx_ms(t1 - t0));
out:
	for (i = 0; i < n; i++)
		EXPECT_EQ(vt_wait(pids[i]), 0, "tenant exit status");
	/* A tenant's context stays bound until the job the engine was
	 * running for it when it exited completes: retry a while. */
	for (i = 0; i < n; i++) {
		uint64_t end = vx_now_ns() + 5000000000ULL;
		long ret;

		while ((ret = vt_part_delete(names[i])) == -EBUSY &&
		       vx_now_ns() < end)
			usleep(1000);
		EXPECT_OK(ret, "delete partition (retried 5 s while -EBUSY)");
	}
}

/* Size FILL jobs to about @target_ns of engine time. */
static uint64_t calibrate(uint64_t target_ns)
{
	struct ash_command c;
	uint64_t len = 1 * MiB, busy, b0;
	uint32_t h;
	int fd, i, n = 20;

	vt_part_new("calib", 32 * MiB, 0, VT_ROOT, (gid_t)-1);
	fd = vt_tenant_open("calib");
	REQUIRE(fd >= 0, "bind calib");
	REQUIRE_OK(vt_buf_alloc(fd, 16 * MiB, &h, NULL), "alloc 16 MiB");
	vx_cmd_fill(&c, h, 0, 16 * MiB, 0);
	REQUIRE_OK(vx_run(fd, &c, 1), "first FILL (faults the pages in)");
	vx_cmd_fill(&c, h, 0, len, 0);
	b0 = vx_part_busy("calib");
	for (i = 0; i < n; i++)
		REQUIRE_OK(vx_run(fd, &c, 1), "calibration FILL");
	busy = (vx_part_busy("calib") - b0) / (uint64_t)n;
	close(fd);
	EXPECT_OK(vt_part_delete("calib"), "delete calib");
	if (!busy)
		busy = 1;
	len = (uint64_t)((double)len * (double)target_ns / (double)busy);
	len = len < 64 * KiB ? 64 * KiB : len > 16 * MiB ? 16 * MiB : len;
	len &= ~(VT_PAGE - 1);
	printf("FILL of 1 MiB: %.3f ms of engine time; jobs are FILLs of %llu KiB (~%.2f ms)\n",
	       vx_ms(busy), (unsigned long long)(len / KiB),
	       vx_ms(busy) * (double)len / (double)MiB);
	return len;
}

int main(void)
{
	static const char *const n3[] = { "w1", "w2", "w4" };
	static const uint32_t w3[] = { 1, 2, 4 };
	static const char *const n2[] = { "v1", "v10" };
	static const uint32_t w2[] = { 1, 10 };
	struct ash_device_info d;
	pid_t eng;

	vt_init("sched_shares_weighted", 150);
	sh = vt_shared(sizeof(*sh));
	eng = vx_engine_start("1");
	d = vt_dev();
	printf("device 0: slice %u us\n", d.slice_us);
	fill_len = calibrate(1000000);

	phase("weights 1:2:4", n3, w3, 3, WINDOW_3_MS);
	phase("weights 1:10", n2, w2, 2, WINDOW_2_MS);

	EXPECT_EQ(vx_engine_stop(eng, SIGTERM), 0, "engine exit status after SIGTERM");
	return vt_result();
}
