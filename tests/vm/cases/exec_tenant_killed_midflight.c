// SPDX-License-Identifier: MIT
/*
 * Invariant 4 with jobs: a tenant killed with one job running on the engine
 * and more queued leaves nothing behind, and the engine carries on.
 *
 * accelshare-engine (one BLAS thread) serves device 0.  alice submits a
 * 128^3 f32 GEMM (raw; 1 s, as the engine is made slow with its test
 * knob --test-stall-ms 1000: jobs are bounded by its budget) and 20 FILLs
 * behind it, then waits.  Once the engine has taken the GEMM (jobs_queued
 * 20), alice is SIGKILLed and reaped.  At once: jobs_queued is 0 (her queued
 * jobs were cancelled: jobs_failed 20).  The running GEMM holds her context
 * and buffers until it completes; once it has, every counter is back to
 * what it was before alice started (vt_snap: device and partition mem_used,
 * nr_contexts, nr_buffers, bound contexts), jobs_completed is 21.  The
 * engine is still alive and serves bob in another partition; it stops
 * cleanly on SIGTERM, and rmmod (the harness) succeeds.  Three rounds.
 */
#include "vtexec.h"

#define PART	"midflight"
#define NG	128
#define MSZ	((uint64_t)NG * NG * 4)
#define NQ	20
#define ROUNDS	3

struct shared {
	int ready;
};

static struct shared *sh;

static int victim(void *arg)
{
	int round = (int)(intptr_t)arg;
	struct ash_command c;
	uint32_t hc, ha, hb, hf;
	uint64_t fence;
	int fd, i;

	fd = vt_tenant_open(PART);
	REQUIRE(fd >= 0, "alice bind " PART ": %s", vt_errname(fd));
	REQUIRE_OK(vt_buf_alloc(fd, MSZ, &hc, NULL), "alloc C");
	REQUIRE_OK(vt_buf_alloc(fd, MSZ, &ha, NULL), "alloc A");
	REQUIRE_OK(vt_buf_alloc(fd, MSZ, &hb, NULL), "alloc B");
	REQUIRE_OK(vt_buf_alloc(fd, 1 * MiB, &hf, NULL), "alloc F");
	vx_cmd_gemm(&c, hc, ha, hb, NG, NG, NG);
	REQUIRE_OK(vx_submit(fd, &c, 1, &fence), "submit the GEMM");
	vx_cmd_fill(&c, hf, 0, 1 * MiB, 7);
	for (i = 0; i < NQ; i++)
		REQUIRE_OK(vx_submit(fd, &c, 1, &fence), "submit a FILL");
	/* Free one buffer the queued jobs use: the jobs keep it alive. */
	REQUIRE_OK(vt_buf_free(fd, hf), "free the FILLs' buffer");
	vt_flag_set(&sh->ready, round);
	for (;;)
		vx_wait(fd, fence, -1, NULL);	/* until SIGKILL */
	return 0;
}

static int bystander(void *arg)
{
	struct ash_command c;
	uint32_t h;
	uint32_t *p;
	uint64_t off;
	int fd;

	(void)arg;
	fd = vt_tenant_open("other");
	REQUIRE(fd >= 0, "bob bind other: %s", vt_errname(fd));
	REQUIRE_OK(vt_buf_alloc(fd, 64 * KiB, &h, &off), "bob alloc");
	p = vt_buf_map(fd, off, 64 * KiB);
	REQUIRE(p, "bob mmap");
	vx_cmd_fill(&c, h, 0, 64 * KiB, 0xB0B0B0B0u);
	EXPECT_OK(vx_run(fd, &c, 1), "bob's FILL after alice was killed");
	EXPECT_EQ(p[16383], 0xB0B0B0B0u, "bob's FILL result");
	vt_buf_unmap(p, 64 * KiB);
	close(fd);
	return 0;
}

int main(void)
{
	struct ash_partition_info pi, pb;
	struct ash_device_info d;
	struct vt_snap before;
	uint64_t t0, t1, done_ms;
	pid_t eng, pid;
	int round, st;

	vt_init("exec_tenant_killed_midflight", 200);
	sh = vt_shared(sizeof(*sh));
	vt_part_new(PART, 16 * MiB, 0, VT_ALICE, (gid_t)-1);
	vt_part_new("other", 4 * MiB, 0, VT_BOB, (gid_t)-1);
	eng = vx_engine_start_stalled("1000");
	vt_snap_take(&before);

	for (round = 1; round <= ROUNDS; round++) {
		pb = vt_part(PART);
		pid = vt_spawn_as(VT_ALICE, VT_ORGA, NULL, 0, victim,
				  (void *)(intptr_t)round);
		REQUIRE(vt_flag_wait(&sh->ready, round, 60000), "victim ready");
		t0 = vx_now_ns();
		for (;;) {
			d = vt_dev();
			if (d.jobs_queued == NQ)
				break;
			if (vx_now_ns() - t0 > 30000000000ULL) {
				FAIL("round %d: jobs_queued %llu, want %d, for 30 s", round,
				     (unsigned long long)d.jobs_queued, NQ);
				vt_bail();
			}
			usleep(1000);
		}
		pi = vt_part(PART);
		EXPECT_EQ(pi.jobs_completed - pb.jobs_completed, 0,
			  "jobs completed before the kill (the GEMM is running)");
		EXPECT_EQ(pi.nr_contexts, 1, "alice's context before the kill");
		kill(pid, SIGKILL);
		EXPECT_EQ(vt_wait(pid), 128 + SIGKILL, "victim's end (128 + SIGKILL)");
		t1 = vx_now_ns();
		d = vt_dev();
		pi = vt_part(PART);
		EXPECT_EQ(d.jobs_queued, 0, "device jobs_queued right after the reap");
		EXPECT_EQ(pi.jobs_failed - pb.jobs_failed, NQ,
			  "jobs failed right after the reap (the queued ones, cancelled)");
		/* The GEMM finishes on the engine, then everything goes. */
		for (;;) {
			pi = vt_part(PART);
			d = vt_dev();
			if (pi.jobs_completed - pb.jobs_completed == NQ + 1 &&
			    pi.nr_contexts == 0 && d.mem_used == before.dev.mem_used)
				break;
			if (vx_now_ns() - t1 > 60000000000ULL)
				break;
			usleep(2000);
		}
		done_ms = (vx_now_ns() - t1) / 1000000;
		printf("round %d: killed with the GEMM running and %d jobs queued; "
		       "counters back %llu ms after the reap\n", round, NQ,
		       (unsigned long long)done_ms);
		EXPECT_EQ(pi.jobs_completed - pb.jobs_completed, NQ + 1,
			  "jobs completed (GEMM + cancelled)");
		EXPECT_EQ(pi.jobs_failed - pb.jobs_failed, NQ,
			  "jobs failed (cancelled; the GEMM itself succeeded)");
		if (!vt_snap_expect_same(&before, "after the kill and the GEMM"))
			break;
		EXPECT_EQ(vt_dev().jobs_queued, 0, "device jobs_queued");
		EXPECT_EQ(vt_dev().has_engine, 1, "has_engine (the engine lives on)");
		EXPECT_EQ(waitpid(eng, &st, WNOHANG), 0, "the engine process is still running");
		EXPECT_EQ(vt_run_as(VT_BOB, VT_ORGB, bystander, NULL), 0,
			  "bob's job on the same engine");
	}

	EXPECT_EQ(vx_engine_stop(eng, SIGTERM), 0, "engine exit status after SIGTERM");
	vt_snap_expect_same(&before, "at the end");
	return vt_result();
}
