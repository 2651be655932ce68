// SPDX-License-Identifier: MIT
/*
 * The engine dies under a running job: that job fails with -EIO, device
 * memory and its accounting are untouched, queued jobs wait for the next
 * engine, and a new engine runs them.
 *
 * accelshare-engine (one BLAS thread) serves device 0, made slow with its
 * test knob --test-stall-ms 3000: jobs are bounded by the engine's budget,
 * so a long job is a slow engine's.  A tenant (alice) submits one job (a
 * single 128^3 f32 GEMM, submitted raw, 3 s with the stall) and behind it
 * three FILL jobs into a second buffer.  Once the engine has taken the GEMM
 * (device jobs_queued drops to 3), the case SIGKILLs the engine and reaps
 * it.  Then:
 *  - has_engine is 0 (ASH_CTL_DEVICE_INFO) and `ashctl status --json`
 *    shows "engine": false;
 *  - the GEMM's fence reports -EIO;
 *  - the GEMM's inputs, the FILL target and a bystander buffer hold exactly
 *    what they held; partition and device mem_used are unchanged;
 *  - the queued FILLs are still queued: a 50 ms wait on each is
 *    -ETIMEDOUT, jobs_queued is 3.
 * A new engine is started: the queued FILLs complete with status 0 and
 * their pattern is in the buffer, a new job completes too, ashctl shows the
 * new engine's pid, and the partition counts 1 failed job.
 */
#include "vtexec.h"

#define PART	"crash"
#define NG	128			/* GEMM size, within the budget */
#define MSZ	((uint64_t)NG * NG * 4)
#define FSZ	(256 * KiB)
#define NFILL	3

struct shared {
	int step;		/* tenant: 1 submitted; case: 2 engine killed, 3 new engine */
	uint64_t fence_gemm, fence_fill[NFILL];
	int32_t gemm_status, gemm_wait_ret;
	int32_t fill_wait_ret[NFILL];
	int32_t fill_status[NFILL];
	int mem_ok_after_kill, fills_ok, new_ok;
};

static struct shared *sh;

static uint32_t pattern(uint64_t i)
{
	return (uint32_t)(i * 2654435761u) ^ 0x5bd1e995u;
}

/* Checks @words 32-bit words of @p against pattern(i + @salt). */
static long bad_word(const uint32_t *p, uint64_t words, uint64_t salt)
{
	uint64_t i;

	for (i = 0; i < words; i++)
		if (p[i] != pattern(i + salt))
			return (long)i;
	return -1;
}

static int tenant(void *arg)
{
	struct ash_command c;
	uint32_t hc, ha, hb, hf, hx;
	uint64_t oc, oa, ob, of, ox;
	uint32_t *pa, *pb, *pf, *px;
	int32_t st = 1;
	int fd, i;
	long r;

	(void)arg;
	fd = vt_tenant_open(PART);
	REQUIRE(fd >= 0, "alice bind " PART ": %s", vt_errname(fd));
	REQUIRE_OK(vt_buf_alloc(fd, MSZ, &hc, &oc), "alloc C");
	REQUIRE_OK(vt_buf_alloc(fd, MSZ, &ha, &oa), "alloc A");
	REQUIRE_OK(vt_buf_alloc(fd, MSZ, &hb, &ob), "alloc B");
	REQUIRE_OK(vt_buf_alloc(fd, FSZ, &hf, &of), "alloc the FILL target");
	REQUIRE_OK(vt_buf_alloc(fd, FSZ, &hx, &ox), "alloc a bystander");
	pa = vt_buf_map(fd, oa, MSZ);
	pb = vt_buf_map(fd, ob, MSZ);
	pf = vt_buf_map(fd, of, FSZ);
	px = vt_buf_map(fd, ox, FSZ);
	REQUIRE(pa && pb && pf && px, "mmap: %s", vt_errname(-errno));
	/* Small finite values as GEMM inputs (the bit patterns below are
	 * not all finite floats, so inputs get their own). */
	for (i = 0; i < (int)(MSZ / 4); i++) {
		float v = (float)(pattern((uint64_t)i) % 17) / 16.0f;

		memcpy(&pa[i], &v, 4);
		memcpy(&pb[i], &v, 4);
	}
	for (i = 0; i < (int)(FSZ / 4); i++) {
		pf[i] = pattern((uint64_t)i + 1);
		px[i] = pattern((uint64_t)i + 2);
	}

	vx_cmd_gemm(&c, hc, ha, hb, NG, NG, NG);
	REQUIRE_OK(vx_submit(fd, &c, 1, &sh->fence_gemm), "submit the long GEMM");
	for (i = 0; i < NFILL; i++) {
		vx_cmd_fill(&c, hf, (uint64_t)i * (FSZ / NFILL & ~3ULL),
			    FSZ / NFILL & ~3ULL, 0xC0DE0000u + (uint32_t)i);
		REQUIRE_OK(vx_submit(fd, &c, 1, &sh->fence_fill[i]), "submit a FILL");
	}
	vt_flag_set(&sh->step, 1);

	/* The engine dies under the GEMM. */
	REQUIRE(vt_flag_wait(&sh->step, 2, 120000), "engine killed");
	r = vx_wait(fd, sh->fence_gemm, 10000000000LL, &st);
	sh->gemm_wait_ret = (int32_t)r;
	sh->gemm_status = st;
	for (i = 0; i < NFILL; i++)
		sh->fill_wait_ret[i] = (int32_t)vx_wait(fd, sh->fence_fill[i], 50000000LL, &st);
	{
		float v;
		long ba = -1, bb = -1;

		for (i = 0; i < (int)(MSZ / 4) && ba < 0; i++) {
			v = (float)(pattern((uint64_t)i) % 17) / 16.0f;
			if (memcmp(&pa[i], &v, 4))
				ba = i;
		}
		for (i = 0; i < (int)(MSZ / 4) && bb < 0; i++) {
			v = (float)(pattern((uint64_t)i) % 17) / 16.0f;
			if (memcmp(&pb[i], &v, 4))
				bb = i;
		}
		EXPECT_EQ(ba, -1, "GEMM input A after the engine died: first changed word (-1: none)");
		EXPECT_EQ(bb, -1, "GEMM input B after the engine died: first changed word (-1: none)");
		EXPECT_EQ(bad_word(pf, FSZ / 4, 1), -1,
			  "queued FILL's target after the engine died: first changed word");
		EXPECT_EQ(bad_word(px, FSZ / 4, 2), -1,
			  "bystander buffer after the engine died: first changed word");
		sh->mem_ok_after_kill = 1;
	}
	vt_flag_set(&sh->step, 3);

	/* A new engine runs what was queued. */
	REQUIRE(vt_flag_wait(&sh->step, 4, 120000), "new engine");
	for (i = 0; i < NFILL; i++) {
		st = 1;
		sh->fill_wait_ret[i] = (int32_t)vx_wait(fd, sh->fence_fill[i], 30000000000LL, &st);
		sh->fill_status[i] = st;
	}
	{
		uint64_t per = FSZ / NFILL & ~3ULL, w;
		long bad = -1;

		for (w = 0; w < FSZ / 4 && bad < 0; w++) {
			uint64_t which = (w * 4) / per;
			uint32_t want = which < NFILL ? 0xC0DE0000u + (uint32_t)which
						      : pattern(w + 1);

			if (pf[w] != want)
				bad = (long)w;
		}
		EXPECT_EQ(bad, -1, "FILL target after the new engine ran the queued FILLs: first wrong word");
		sh->fills_ok = bad < 0;
	}
	vx_cmd_copy(&c, hx, 0, hf, 0, 4096);
	r = vx_run(fd, &c, 1);
	EXPECT_OK(r, "a new COPY job on the new engine");
	EXPECT(!memcmp(px, pf, 4096), "COPY result");
	sh->new_ok = r == 0;
	close(fd);
	return 0;
}

/* ashctl status --json: device 0's "engine" and "engine_pid". */
static bool ashctl_engine(bool *engine, uint64_t *pid)
{
	static char out[65536];
	char devs[4][1024];
	const char *d;
	uint64_t v;
	int n;

	if (access(VT_ASHCTL, X_OK))
		return false;
	if (vt_sh(out, sizeof(out), VT_ASHCTL " status --json") != 0)
		return false;
	d = strstr(out, "\"devices\"");
	if (!d || !(d = strchr(d, '[')))
		return false;
	n = vt_json_objects(d, devs, 4);
	if (n < 1)
		return false;
	/* a JSON boolean: "engine": true / false */
	{
		const char *e = strstr(devs[0], "\"engine\"");

		if (!e)
			return false;
		e = strchr(e, ':');
		if (!e)
			return false;
		while (*++e == ' ')
			;
		*engine = !strncmp(e, "true", 4);
	}
	*pid = vt_json_u64(devs[0], "engine_pid", &v) ? v : 0;
	return true;
}

int main(void)
{
	struct ash_partition_info p0, p1, p2;
	struct ash_device_info d0, d1;
	bool eng_on;
	uint64_t epid, t0;
	pid_t eng, eng2, tp;
	int i, st;

	vt_init("engine_crash_recovery", 200);
	sh = vt_shared(sizeof(*sh));
	vt_part_new(PART, 16 * MiB, 0, VT_ALICE, (gid_t)-1);
	eng = vx_engine_start_stalled("3000");
	if (EXPECT(ashctl_engine(&eng_on, &epid), "ashctl status --json: no device 0 engine fields")) {
		EXPECT(eng_on, "ashctl status: engine false with an engine attached");
		EXPECT_EQ(epid, eng, "ashctl status: engine_pid");
	}

	tp = vt_spawn_as(VT_ALICE, VT_ORGA, NULL, 0, tenant, NULL);
	REQUIRE(vt_flag_wait(&sh->step, 1, 60000), "tenant submitted");
	/* Wait until the engine has taken the GEMM. */
	t0 = vx_now_ns();
	for (;;) {
		d0 = vt_dev();
		if (d0.jobs_queued == NFILL)
			break;
		if (vx_now_ns() - t0 > 30000000000ULL) {
			FAIL("jobs_queued stayed %llu (want %d) for 30 s",
			     (unsigned long long)d0.jobs_queued, NFILL);
			vt_bail();
		}
		usleep(1000);
	}
	usleep(100000);		/* well inside the GEMM */
	p0 = vt_part(PART);
	d0 = vt_dev();
	EXPECT_EQ(p0.jobs_completed, 0, "jobs completed before the kill (the GEMM still runs)");
	st = vx_engine_stop(eng, SIGKILL);
	EXPECT_EQ(st, 128 + SIGKILL, "engine's end (128 + SIGKILL)");
	printf("engine %d killed %.0f ms after it took the GEMM\n", (int)eng,
	       vx_ms(vx_now_ns() - t0));

	d1 = vt_dev();
	EXPECT_EQ(d1.has_engine, 0, "has_engine after the engine died");
	EXPECT_EQ(d1.engine_pid, 0, "engine_pid after the engine died");
	EXPECT_EQ(d1.jobs_queued, NFILL, "jobs_queued after the engine died");
	EXPECT_EQ(d1.mem_used, d0.mem_used, "device mem_used after the engine died");
	p1 = vt_part(PART);
	EXPECT_EQ(p1.mem_used, p0.mem_used, "partition mem_used after the engine died");
	EXPECT_EQ(p1.nr_buffers, 5, "partition nr_buffers after the engine died");
	EXPECT_EQ(p1.jobs_completed, 1, "jobs completed after the engine died (the GEMM, failed)");
	EXPECT_EQ(p1.jobs_failed, 1, "jobs failed after the engine died");
	if (ashctl_engine(&eng_on, &epid)) {
		EXPECT(!eng_on, "ashctl status: engine true with none attached");
		EXPECT_EQ(epid, 0, "ashctl status: engine_pid with none attached");
		printf("ashctl status --json: engine %s, engine_pid %llu\n",
		       eng_on ? "true" : "false", (unsigned long long)epid);
	}

	vt_flag_set(&sh->step, 2);
	REQUIRE(vt_flag_wait(&sh->step, 3, 60000), "tenant checked its memory");
	EXPECT_OK(sh->gemm_wait_ret, "wait for the GEMM the engine died under");
	EXPECT_ERR(sh->gemm_status, -EIO, "the GEMM's status");
	for (i = 0; i < NFILL; i++)
		EXPECT_ERR(sh->fill_wait_ret[i], -ETIMEDOUT, "50 ms wait on a queued FILL, no engine");
	EXPECT_EQ(vt_dev().jobs_queued, NFILL, "jobs_queued while no engine is attached");

	eng2 = vx_engine_start("1");
	if (ashctl_engine(&eng_on, &epid)) {
		EXPECT(eng_on, "ashctl status: engine false after the new engine attached");
		EXPECT_EQ(epid, eng2, "ashctl status: the new engine's pid");
		printf("ashctl status --json: engine %s, engine_pid %llu (new engine %d)\n",
		       eng_on ? "true" : "false", (unsigned long long)epid, (int)eng2);
	}
	vt_flag_set(&sh->step, 4);
	EXPECT_EQ(vt_wait(tp), 0, "tenant exit status");
	for (i = 0; i < NFILL; i++) {
		EXPECT_OK(sh->fill_wait_ret[i], "wait for a queued FILL on the new engine");
		EXPECT_OK(sh->fill_status[i], "queued FILL's status on the new engine");
	}
	EXPECT(sh->mem_ok_after_kill && sh->fills_ok && sh->new_ok,
	       "tenant-side checks (above)");
	p2 = vt_part(PART);
	EXPECT_EQ(p2.jobs_completed, 1 + NFILL + 1, "jobs completed in all");
	EXPECT_EQ(p2.jobs_failed, 1, "jobs failed in all (the GEMM)");
	EXPECT_EQ(p2.mem_used, 0, "partition mem_used after the tenant closed");
	EXPECT_EQ(vt_dev().jobs_queued, 0, "jobs_queued at the end");
	printf("GEMM: -EIO; %d queued FILLs: status 0 on the new engine; new COPY: 0\n", NFILL);

	EXPECT_EQ(vx_engine_stop(eng2, SIGTERM), 0, "new engine's exit status after SIGTERM");
	return vt_result();
}
