// SPDX-License-Identifier: MIT
/*
 * The watchdog: a job that runs longer than the device's job_timeout_ms
 * fails with -ETIMEDOUT, its time is charged to its submitter, everyone
 * else keeps running; an engine that does not give the job back is
 * detached and killed; a context whose jobs keep timing out is banned.
 *
 * The engine is made slow on purpose with its test-only knob
 * --test-stall-ms 100 (it sleeps 100 ms before each command), and the
 * watchdog is set to 500 ms with ASH_CTL_DEVICE_SET.
 *  1. Tenant A (partition "slow") submits a job of 20 NOPs (2 s of
 *     stalling); tenant B ("other") keeps submitting 1-NOP jobs.  A's wait
 *     reports -ETIMEDOUT within 500 ms + slack; B's jobs all succeed; the
 *     engine abandons A's job at its next command and stays attached;
 *     "slow" has jobs_timed_out 1, jobs_failed 1 and busy time of at least
 *     the timeout, at most what the engine used; the device counts it.
 *  2. A submits two more such jobs and a NOP behind them: both time out,
 *     the third timeout bans the context: the NOP is cancelled
 *     (-ECANCELED), a further submission is refused with -ECANCELED, and
 *     CTX_INFO shows it banned.  A new context of the same process works.
 *  3. A hung engine (--test-ignore-timeout): a 20-NOP job fails with
 *     -ETIMEDOUT at 500 ms; at 2 x 500 ms the driver detaches the engine
 *     and kills it (SIGKILL), the device has no engine, the kernel log
 *     says so; a new engine attaches and the next job runs.
 * Slack: 100 ms (one stalled command) + 400 ms for TCG and the debug
 * kernel.  Timings are printed.
 */
#include "vtexec.h"

#include <sys/wait.h>

#define TIMEOUT_MS	500
#define STALL		"100"
#define SLACK_NS	500000000ULL

struct shared {
	int stop;
	int started;
	uint64_t ok, bad;
	int32_t bad_status;
};

static struct shared *sh;

static int engine_exec(void *arg)
{
	const char *hang = arg;

	execl(VX_ENGINE, VX_ENGINE, "--device", "0", "--threads", "1",
	      "--test-stall-ms", STALL, hang ? "--test-ignore-timeout" : NULL,
	      (char *)NULL);
	printf("FAIL: exec %s: %s\n", VX_ENGINE, strerror(errno));
	return 126;
}

static pid_t slow_engine(bool hang)
{
	pid_t pid = vt_spawn_as(VT_ROOT, 0, NULL, 0, engine_exec,
				hang ? (void *)"hang" : NULL);

	REQUIRE(vx_engine_wait_state(1, 60000), "the slow engine did not attach");
	return pid;
}

/* Tenant B: 1-NOP jobs one after the other until told to stop. */
static int other(void *arg)
{
	struct ash_command c;
	int32_t status;
	int fd;
	long ret;

	(void)arg;
	fd = vt_tenant_open("other");
	REQUIRE(fd >= 0, "bind other: %s", vt_errname(fd));
	vx_cmd_nop(&c);
	vt_flag_set(&sh->started, 1);
	while (!vt_flag_get(&sh->stop)) {
		uint64_t fence;

		ret = vx_submit(fd, &c, 1, &fence);
		if (!ret)
			ret = vx_wait(fd, fence, -1, &status);
		if (!ret)
			ret = status;
		if (ret) {
			sh->bad++;
			sh->bad_status = (int32_t)ret;
		} else {
			sh->ok++;
		}
	}
	close(fd);
	return 0;
}

static void nops(struct ash_command *c, int n)
{
	int i;

	for (i = 0; i < n; i++)
		vx_cmd_nop(&c[i]);
}

/* Submit a 20-NOP job on @fd, wait: the status and the time it took. */
static int32_t long_job(int fd, uint64_t *ns)
{
	struct ash_command c[20];
	uint64_t fence, t0 = vx_now_ns();
	int32_t status = 0;

	nops(c, 20);
	REQUIRE_OK(vx_submit(fd, c, 20, &fence), "submit the long job");
	REQUIRE_OK(vx_wait(fd, fence, 30000000000LL, &status), "wait for the long job");
	*ns = vx_now_ns() - t0;
	return status;
}

static struct ash_context_info ctx_info_of_pid(pid_t pid, const char *part)
{
	struct ash_context_info ci;
	uint32_t id = 0;

	for (;;) {
		memset(&ci, 0, sizeof(ci));
		ci.id = id;
		if (vt_ioctl(vt_ctl, ASH_CTL_CTX_INFO, &ci))
			break;
		if (ci.pid == pid && !strcmp(ci.partition, part))
			return ci;
		id = ci.id + 1;
	}
	FAIL("no context of pid %d in %s", (int)pid, part);
	memset(&ci, 0, sizeof(ci));
	return ci;
}

int main(void)
{
	struct ash_partition_info s0, s1;
	struct ash_device_info d0, d1;
	struct ash_context_info ci;
	struct ash_device_set ds;
	struct ash_command c[3][20];
	uint64_t ns, fence[3], f;
	int32_t status;
	pid_t eng, op;
	int fd, fd2, i, st;

	vt_init("exec_watchdog", 180);
	sh = vt_shared(sizeof(*sh));
	memset(&ds, 0, sizeof(ds));
	ds.flags = ASH_DEVICE_SET_JOB_TIMEOUT;
	ds.job_timeout_ms = TIMEOUT_MS;
	REQUIRE_OK(vt_ioctl(vt_ctl, ASH_CTL_DEVICE_SET, &ds), "DEVICE_SET job timeout");
	EXPECT_EQ(vt_dev().job_timeout_ms, TIMEOUT_MS, "device job_timeout_ms");
	vt_part_new("slow", 4 * MiB, 0, VT_ROOT, (gid_t)-1);
	vt_part_new("other", 4 * MiB, 0, VT_BOB, (gid_t)-1);

	/* 1. One job times out; the engine abandons it and goes on. */
	eng = slow_engine(false);
	fd = vt_tenant_open("slow");
	REQUIRE(fd >= 0, "bind slow");
	op = vt_spawn_as(VT_BOB, VT_ORGB, NULL, 0, other, NULL);
	REQUIRE(vt_flag_wait(&sh->started, 1, 30000), "tenant B started");
	d0 = vt_dev();
	s0 = vt_part("slow");
	status = long_job(fd, &ns);
	printf("1. a 20 x %s ms job, watchdog %d ms: %s after %.1f ms\n", STALL,
	       TIMEOUT_MS, vt_errname(status), vx_ms(ns));
	EXPECT_ERR(status, -ETIMEDOUT, "the long job's status");
	EXPECT(ns >= TIMEOUT_MS * 1000000ULL && ns <= TIMEOUT_MS * 1000000ULL + SLACK_NS,
	       "the long job failed after %.1f ms, expected %d ms + %.0f ms slack",
	       vx_ms(ns), TIMEOUT_MS, vx_ms(SLACK_NS));
	/* The engine gives the job back at its next command, then B runs. */
	{
		struct ash_command n;

		vx_cmd_nop(&n);
		EXPECT_OK(vx_run(fd, &n, 1), "a NOP after the timeout");
	}
	vt_flag_set(&sh->stop, 1);
	EXPECT_EQ(vt_wait(op), 0, "tenant B exit status");
	printf("   tenant B meanwhile: %llu jobs ok, %llu failed\n",
	       (unsigned long long)sh->ok, (unsigned long long)sh->bad);
	EXPECT(sh->ok > 0, "tenant B completed no job");
	EXPECT(!sh->bad, "tenant B had %llu failed jobs (%s)",
	       (unsigned long long)sh->bad, vt_errname(sh->bad_status));
	s1 = vt_part("slow");
	d1 = vt_dev();
	EXPECT_EQ(s1.jobs_timed_out - s0.jobs_timed_out, 1, "slow: jobs_timed_out");
	EXPECT_EQ(s1.jobs_failed - s0.jobs_failed, 1, "slow: jobs_failed");
	EXPECT_EQ(s1.jobs_completed - s0.jobs_completed, 2, "slow: jobs_completed");
	EXPECT_EQ(d1.jobs_timed_out - d0.jobs_timed_out, 1, "device: jobs_timed_out");
	printf("   slow charged %.1f ms of engine time\n",
	       vx_ms(s1.busy_ns - s0.busy_ns));
	EXPECT(s1.busy_ns - s0.busy_ns >= TIMEOUT_MS * 1000000ULL,
	       "slow charged %.1f ms, less than the %d ms it held the engine",
	       vx_ms(s1.busy_ns - s0.busy_ns), TIMEOUT_MS);
	EXPECT(s1.busy_ns - s0.busy_ns <= TIMEOUT_MS * 1000000ULL + 2 * SLACK_NS,
	       "slow charged %.1f ms", vx_ms(s1.busy_ns - s0.busy_ns));
	EXPECT_EQ(vt_dev().engine_pid, eng, "the engine stayed attached");

	/* 2. Two more timeouts ban the context; its queued NOP is cancelled. */
	nops(c[0], 20);
	nops(c[1], 20);
	nops(c[2], 1);
	for (i = 0; i < 3; i++)
		REQUIRE_OK(vx_submit(fd, c[i], i < 2 ? 20 : 1, &fence[i]),
			   "submit behind the ban");
	for (i = 0; i < 3; i++)
		REQUIRE_OK(vx_wait(fd, fence[i], 30000000000LL, &status),
			   "wait behind the ban");
	EXPECT_ERR(vx_wait(fd, fence[0], 0, &status) ? -1 : status, -ETIMEDOUT,
		   "second long job");
	EXPECT_ERR(vx_wait(fd, fence[1], 0, &status) ? -1 : status, -ETIMEDOUT,
		   "third long job");
	EXPECT_ERR(vx_wait(fd, fence[2], 0, &status) ? -1 : status, -ECANCELED,
		   "the NOP queued behind the third timeout");
	EXPECT_ERR(vx_submit(fd, c[2], 1, &f), -ECANCELED,
		   "a submission on the banned context");
	ci = ctx_info_of_pid(getpid(), "slow");
	EXPECT_EQ(ci.banned, 1, "CTX_INFO banned");
	EXPECT_EQ(ci.jobs_timed_out, 3, "CTX_INFO jobs_timed_out");
	/* Waits stay exact after the ban: the first timeout, the NOP after. */
	EXPECT_OK(vx_wait(fd, 1, 0, &status), "wait on fence 1 late");
	EXPECT_ERR(status, -ETIMEDOUT, "fence 1's status, asked late");
	EXPECT_OK(vx_wait(fd, 2, 0, &status), "wait on fence 2 late");
	EXPECT_ERR(status, 0, "fence 2's status, asked late");
	fd2 = vt_tenant_open("slow");
	REQUIRE(fd2 >= 0, "bind slow again");
	EXPECT_OK(vx_run(fd2, c[2], 1), "a NOP on a new context");
	close(fd);
	close(fd2);
	EXPECT_EQ(vx_engine_stop(eng, SIGTERM), 0, "slow engine exit status");

	/* 3. A hung engine is detached and killed. */
	eng = slow_engine(true);
	fd = vt_tenant_open("slow");
	REQUIRE(fd >= 0, "bind slow");
	status = long_job(fd, &ns);
	printf("3. hung engine: the job %s after %.1f ms\n", vt_errname(status),
	       vx_ms(ns));
	EXPECT_ERR(status, -ETIMEDOUT, "the hung engine's job");
	EXPECT(ns <= TIMEOUT_MS * 1000000ULL + SLACK_NS,
	       "the hung engine's job failed after %.1f ms", vx_ms(ns));
	f = vx_now_ns();
	st = vt_wait(eng);
	printf("   engine pid %d ended with status %d, %.1f ms after its job failed\n",
	       (int)eng, st, vx_ms(vx_now_ns() - f));
	EXPECT_EQ(st, 128 + SIGKILL, "the hung engine's end (killed)");
	EXPECT(vx_engine_wait_state(0, 10000), "the device still has the hung engine");
	eng = vx_engine_start("1");
	{
		struct ash_command n;

		vx_cmd_nop(&n);
		EXPECT_OK(vx_run(fd, &n, 1), "a NOP with a new engine");
	}
	close(fd);
	EXPECT_EQ(vx_engine_stop(eng, SIGTERM), 0, "engine exit status");
	return vt_result();
}
