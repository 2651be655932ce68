// SPDX-License-Identifier: MIT
/*
 * The engine SIGKILLed at random points while tenants keep submitting: no
 * job is lost or counted twice, only the job running at the kill fails
 * (with -EIO, docs/engine.md), queued jobs wait for the next engine, and
 * memory is untouched.
 *
 * Two partitions (alice's, bob's), two tenant processes in each.  Every
 * tenant keeps up to three raw jobs in flight (FILL 256 KiB, COPY 256 KiB,
 * a 96^3 f32 GEMM or a NOP, drawn at random), waits for each fence in
 * order and counts each job's status in shared memory: 0, -EIO, anything
 * else (unexpected).  The case kills the engine (SIGKILL) a number of
 * times, each after a delay drawn log-uniformly from 1 to 300 ms after it
 * attached, leaves the device without an engine for 0..100 ms (nothing may
 * complete meanwhile), and sometimes also kills a fresh engine 0..30 ms
 * after its exec, attached or not, before starting the one that stays.
 * Per kill, the partitions' jobs_failed together rise by 0 or 1 (the job
 * the engine was running, if any) and device mem_used does not move.
 * Then the tenants drain, run one FILL each whose result they check
 * through their mapping, and exit.  In the end, per partition:
 * jobs_completed rose by exactly the jobs its tenants saw complete,
 * jobs_failed by exactly the -EIO they saw, which equals the sum of the
 * per-kill rises; no other status was seen; every tenant saw all the jobs
 * it submitted complete; the counters are back to the snapshot.  Last, a
 * tenant whose only job (a 512^3 GEMM) is running is killed, then the
 * engine: the job holds the context's last reference until the engine's
 * death fails it, and then everything is back to the snapshot.
 *
 * ASH_TEST_SEED sets the seed (printed), ASH_TEST_CRASH_KILLS the number of
 * engine kills (default 12).  The case runs SCHED_FIFO (its tenants and
 * engines do not), so that kills land close to the drawn times.
 */
#include "vtcrash.h"

#include <sys/mman.h>

#define PART_A		"cek_a"
#define PART_B		"cek_b"
#define NT		4
#define INFLIGHT	3
#define GN		96
#define FSZ		(256 * KiB)
#define GSZ		((uint64_t)GN * GN * 4)

struct tslot {
	int ready;
	uint64_t submitted, ok, eio, other;
	int verified;
};

struct shared {
	struct tslot t[NT];
	int stop;
};

static struct shared *sh;

struct targ {
	int idx;
	const char *part;
	struct vc_rng rng;
};

static int tenant(void *arg)
{
	struct targ *ta = arg;
	struct tslot *me = &sh->t[ta->idx];
	uint32_t hf, hd, hc, hA, hB;
	uint64_t of, fences[INFLIGHT];
	struct ash_command c;
	int fd, n = 0, i;
	uint32_t *pf, pat;
	int32_t st;
	long ret;

	fd = vt_tenant_open(ta->part);
	REQUIRE(fd >= 0, "bind %s: %s", ta->part, vt_errname(fd));
	REQUIRE_OK(vt_buf_alloc(fd, FSZ, &hf, &of), "alloc F");
	REQUIRE_OK(vt_buf_alloc(fd, FSZ, &hd, NULL), "alloc D");
	REQUIRE_OK(vt_buf_alloc(fd, GSZ, &hc, NULL), "alloc C");
	REQUIRE_OK(vt_buf_alloc(fd, GSZ, &hA, NULL), "alloc A");
	REQUIRE_OK(vt_buf_alloc(fd, GSZ, &hB, NULL), "alloc B");
	pf = vt_buf_map(fd, of, FSZ);
	REQUIRE(pf, "mmap F: %s", vt_errname(-errno));

	for (;;) {
		bool stop = vt_flag_get(&sh->stop);

		if (!stop && n < INFLIGHT) {
			switch (vc_below(&ta->rng, 4)) {
			case 0:
				vx_cmd_fill(&c, hf, 0, FSZ, (uint32_t)vc_next(&ta->rng));
				break;
			case 1:
				vx_cmd_copy(&c, hd, 0, hf, 0, FSZ);
				break;
			case 2:
				vx_cmd_gemm(&c, hc, hA, hB, GN, GN, GN);
				break;
			default:
				vx_cmd_nop(&c);
				break;
			}
			ret = vx_submit(fd, &c, 1, &fences[n]);
			REQUIRE_OK(ret, "submit");
			n++;
			me->submitted++;
			if (!me->ready)
				vt_flag_set(&me->ready, 1);
			continue;
		}
		if (!n)
			break;		/* stopped and drained */
		st = 1;
		ret = vx_wait(fd, fences[0], -1, &st);
		REQUIRE_OK(ret, "wait");
		if (!st)
			me->ok++;
		else if (st == -EIO)
			me->eio++;
		else {
			me->other++;
			FAIL("job %llu: status %s", (unsigned long long)fences[0],
			     vt_errname(st));
		}
		for (i = 1; i < n; i++)
			fences[i - 1] = fences[i];
		n--;
	}

	/* The engine that stays runs a last job; check its result. */
	pat = 0xE0000000u | (uint32_t)ta->idx;
	vx_cmd_fill(&c, hf, 0, FSZ, pat);
	me->submitted++;
	ret = vx_run(fd, &c, 1);
	if (!ret)
		me->ok++;
	else if (ret == -EIO)
		me->eio++;
	else
		me->other++;
	EXPECT_OK(ret, "the last FILL");
	EXPECT(pf[0] == pat && pf[FSZ / 4 - 1] == pat,
	       "last FILL's result: %#x .. %#x, want %#x", pf[0],
	       pf[FSZ / 4 - 1], pat);
	me->verified = 1;
	vt_buf_unmap(pf, FSZ);
	close(fd);
	return 0;
}

/* A tenant whose only job, a long GEMM, is running when it dies. */
#define LN	512
static int long_gemm(void *arg)
{
	uint64_t sz = (uint64_t)LN * LN * 4, fence;
	struct ash_command c;
	uint32_t hc, ha, hb;
	int fd;

	(void)arg;
	fd = vt_tenant_open(PART_A);
	REQUIRE(fd >= 0, "bind: %s", vt_errname(fd));
	REQUIRE_OK(vt_buf_alloc(fd, sz, &hc, NULL), "alloc C");
	REQUIRE_OK(vt_buf_alloc(fd, sz, &ha, NULL), "alloc A");
	REQUIRE_OK(vt_buf_alloc(fd, sz, &hb, NULL), "alloc B");
	vx_cmd_gemm(&c, hc, ha, hb, LN, LN, LN);
	REQUIRE_OK(vx_submit(fd, &c, 1, &fence), "submit the long GEMM");
	vt_flag_set(&sh->t[0].ready, 2);
	for (;;)
		vx_wait(fd, fence, -1, NULL);	/* until SIGKILL */
	return 0;
}

static uint64_t failed_sum(void)
{
	return vt_part(PART_A).jobs_failed + vt_part(PART_B).jobs_failed;
}

int main(void)
{
	static const uid_t uid[2] = { VT_ALICE, VT_BOB };
	static const gid_t gid[2] = { VT_ORGA, VT_ORGB };
	static const char *const part[2] = { PART_A, PART_B };
	struct ash_partition_info p0[2], p1;
	uint64_t f0, f1, t0, delay, gap, eio_kills = 0, seen_eio = 0;
	uint64_t seen_done[2] = { 0, 0 }, seen_eio_part[2] = { 0, 0 };
	uint64_t mem0, submitted = 0;
	struct targ ta[NT];
	struct vt_snap before;
	struct vc_rng rng;
	pid_t eng, pids[NT];
	int kills, k, i, st, early = 0;

	vt_init("crash_engine_random_kill", 280);
	rng.s = vc_seed("crash_engine_random_kill");
	kills = (int)vc_env_u64("ASH_TEST_CRASH_KILLS", 12);
	sh = vt_shared(sizeof(*sh));
	vt_part_new(PART_A, 16 * MiB, 0, VT_ALICE, (gid_t)-1);
	vt_part_new(PART_B, 16 * MiB, 0, VT_BOB, (gid_t)-1);
	vt_snap_take(&before);
	p0[0] = vt_part(PART_A);
	p0[1] = vt_part(PART_B);

	eng = vx_engine_start("1");
	t0 = vx_now_ns();
	for (i = 0; i < NT; i++) {
		ta[i].idx = i;
		ta[i].part = part[i % 2];
		ta[i].rng = vc_fork(&rng, (uint64_t)i);
		pids[i] = vt_spawn_as(uid[i % 2], gid[i % 2], NULL, 0, tenant, &ta[i]);
	}
	for (i = 0; i < NT; i++)
		REQUIRE(vt_flag_wait(&sh->t[i].ready, 1, 60000), "tenant %d submitting", i);
	mem0 = vt_dev().mem_used;
	vc_realtime();

	for (k = 1; k <= kills; k++) {
		delay = vc_log_range(&rng, 1000, 300000);
		/* from the attach (vx_engine_start returns once attached) */
		while (vx_now_ns() < t0 + delay * 1000)
			vc_sleep_us(200);
		f0 = failed_sum();
		st = vx_engine_stop(eng, SIGKILL);
		EXPECT_EQ(st, 128 + SIGKILL, "engine's end (128 + SIGKILL)");
		f1 = failed_sum();
		EXPECT_LE(f1 - f0, 1, "jobs failed by one engine kill (the running one, if any)");
		eio_kills += f1 - f0;
		EXPECT_EQ(vt_dev().mem_used, mem0, "device mem_used after the kill");

		gap = vc_below(&rng, 100001);
		vc_sleep_us(gap);
		EXPECT_EQ(failed_sum(), f1, "jobs failed while no engine was attached");
		printf("kill %d: %.1f ms after attach, %s; no engine for %.1f ms",
		       k, (double)delay / 1000.0,
		       f1 - f0 ? "its running job failed" : "no job running",
		       (double)gap / 1000.0);

		if (vc_below(&rng, 4) == 0) {
			/* A new engine killed at once, attached or not. */
			uint64_t d = vc_below(&rng, 30001);
			pid_t e = vt_spawn_as(VT_ROOT, 0, NULL, 0, vx_engine_exec,
					      (void *)"1");

			vc_sleep_us(d);
			f0 = failed_sum();
			st = vx_engine_stop(e, SIGKILL);
			EXPECT(st == 128 + SIGKILL || st == 0,
			       "early engine's end: %d", st);
			f1 = failed_sum();
			EXPECT_LE(f1 - f0, 1, "jobs failed by killing a fresh engine");
			eio_kills += f1 - f0;
			early++;
			printf("; a fresh engine killed %.1f ms after exec%s", (double)d / 1000.0,
			       f1 - f0 ? " (its running job failed)" : "");
		}
		printf("\n");
		eng = vx_engine_start("1");
		t0 = vx_now_ns();
	}

	vt_flag_set(&sh->stop, 1);
	for (i = 0; i < NT; i++) {
		EXPECT_EQ(vt_wait(pids[i]), 0, "tenant's exit status");
		EXPECT(sh->t[i].verified, "tenant %d did not check its last job", i);
		EXPECT_EQ(sh->t[i].other, 0, "jobs with a status other than 0 or -EIO");
		EXPECT_EQ(sh->t[i].ok + sh->t[i].eio + sh->t[i].other,
			  sh->t[i].submitted, "jobs seen complete = jobs submitted");
		seen_done[i % 2] += sh->t[i].ok + sh->t[i].eio + sh->t[i].other;
		seen_eio_part[i % 2] += sh->t[i].eio + sh->t[i].other;
		seen_eio += sh->t[i].eio;
		submitted += sh->t[i].submitted;
	}
	for (i = 0; i < 2; i++) {
		p1 = vt_part(part[i]);
		EXPECT_EQ(p1.jobs_completed - p0[i].jobs_completed, seen_done[i],
			  "partition jobs_completed rise = jobs its tenants saw complete");
		EXPECT_EQ(p1.jobs_failed - p0[i].jobs_failed, seen_eio_part[i],
			  "partition jobs_failed rise = failures its tenants saw");
	}
	EXPECT_EQ(seen_eio, eio_kills, "-EIO seen by tenants = jobs failed at the kills");
	printf("%d engine kills (+%d fresh engines killed): %llu jobs, %llu failed "
	       "with -EIO (one per kill that caught a job running), the rest 0\n",
	       kills, early, (unsigned long long)submitted,
	       (unsigned long long)seen_eio);
	vc_wait_settled(&before, 20000, "after the tenants exited");

	/*
	 * Both die: a tenant whose job is running, then the engine running
	 * it.  The job's reference is the context's last; the engine's
	 * death completes the job (-EIO) and so releases the context.
	 */
	{
		struct ash_partition_info pa;
		uint64_t t1;
		pid_t v;

		vt_flag_set(&sh->t[0].ready, 0);
		p0[0] = vt_part(PART_A);
		v = vt_spawn_as(VT_ALICE, VT_ORGA, NULL, 0, long_gemm, NULL);
		REQUIRE(vt_flag_wait(&sh->t[0].ready, 2, 60000), "long GEMM submitted");
		for (t1 = vx_now_ns(); vt_dev().jobs_queued; usleep(1000))
			REQUIRE(vx_now_ns() - t1 < 30000000000ULL, "engine takes the GEMM");
		kill(v, SIGKILL);
		EXPECT_EQ(vt_wait(v), 128 + SIGKILL, "GEMM tenant's end");
		pa = vt_part(PART_A);
		f0 = failed_sum();
		EXPECT_EQ(vx_engine_stop(eng, SIGKILL), 128 + SIGKILL, "engine's end");
		f1 = failed_sum();
		printf("tenant and engine killed under a running GEMM: the context %s "
		       "until the engine died; jobs failed by the engine's death: %llu\n",
		       pa.nr_contexts ? "lived on" : "was already gone (GEMM done)",
		       (unsigned long long)(f1 - f0));
		EXPECT_EQ(f1 - f0, pa.jobs_completed == p0[0].jobs_completed ? 1 : 0,
			  "the running GEMM failed with the engine");
		vc_wait_settled(&before, 20000, "after the tenant and the engine died");
	}
	return vt_result();
}
