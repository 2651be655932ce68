// SPDX-License-Identifier: MIT
/*
 * Kernel memory a tenant causes with its jobs is bounded and accounted.
 *
 * No engine is attached, so submitted jobs stay queued.  A tenant process
 * (bob, partition "jq") submits jobs of 256 NOP commands, the largest a job
 * may be (about 45 KiB of kernel memory each), with raw ioctls:
 *  - one context takes exactly ASH_CTX_MAX_JOBS of them, then -EAGAIN;
 *  - more contexts of the same partition fill it up to
 *    ASH_PART_MAX_JOB_BYTES: a third context gets -EAGAIN before its own
 *    limit, and the partition never holds more than the bound;
 *  - another partition's tenant still submits;
 *  - where the kernel has memory cgroups (cgroup2 is mounted by the case),
 *    the tenant runs in a cgroup of its own and that cgroup's
 *    memory.current rises by at least 90% of the jobs' commands' size
 *    while they are queued, by no more than the partition's bound (which
 *    counts memory as the allocator hands it out) plus 4 MiB, and falls
 *    back when the contexts close;
 *  - after the contexts close nothing is queued and the counters are back.
 * The figures are printed.
 */
#include "vtexec.h"

#include <sys/mount.h>
#include <sys/stat.h>

#define CG_ROOT		"/sys/fs/cgroup"
#define CG		CG_ROOT "/ashq"
#define NCTX		3

struct shared {
	int joined;		/* the case moved the tenant into its cgroup */
	int filled;
	int release;
	int ctx_jobs[NCTX];
	long ctx_err[NCTX];
};

static struct shared *sh;
static struct ash_command job[ASH_JOB_MAX_COMMANDS];

static bool write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	bool ok;

	if (fd < 0)
		return false;
	ok = write(fd, s, strlen(s)) == (ssize_t)strlen(s);
	close(fd);
	return ok;
}

/* A cgroup with the memory controller, or false where there is none. */
static bool memcg_setup(void)
{
	struct stat st;

	if (stat(CG_ROOT "/cgroup.controllers", &st) &&
	    mount("cgroup2", CG_ROOT, "cgroup2", 0, NULL)) {
		printf("no cgroup2 here (%s): the memory cgroup part is skipped\n",
		       strerror(errno));
		return false;
	}
	if (!write_file(CG_ROOT "/cgroup.subtree_control", "+memory")) {
		printf("no memory controller in this kernel: the memory cgroup part is skipped\n");
		return false;
	}
	if (mkdir(CG, 0755) && errno != EEXIST) {
		FAIL("mkdir %s: %s", CG, strerror(errno));
		return false;
	}
	return true;
}

/* The tenant: NCTX contexts, each filled until -EAGAIN, then held. */
static int tenant(void *arg)
{
	int fds[NCTX], i, n;
	uint64_t fence;
	long ret;

	(void)arg;
	REQUIRE(vt_flag_wait(&sh->joined, 1, 60000), "not moved to the cgroup");
	for (i = 0; i < NCTX; i++) {
		fds[i] = vt_tenant_open("jq");
		REQUIRE(fds[i] >= 0, "bind jq: %s", vt_errname(fds[i]));
		ret = 0;
		for (n = 0; n < 2 * ASH_CTX_MAX_JOBS; n++) {
			ret = vx_submit(fds[i], job, ASH_JOB_MAX_COMMANDS, &fence);
			if (ret)
				break;
		}
		sh->ctx_jobs[i] = n;
		sh->ctx_err[i] = ret;
	}
	vt_flag_set(&sh->filled, 1);
	REQUIRE(vt_flag_wait(&sh->release, 1, 60000), "no release");
	for (i = 0; i < NCTX; i++)
		close(fds[i]);
	return 0;
}

int main(void)
{
	struct ash_partition_info p;
	struct vt_snap before;
	long long cg0 = 0, cg1 = 0, cg2 = 0;
	uint64_t job_bytes, total;
	bool memcg;
	pid_t tp;
	int i, fd, n;
	uint64_t fence;

	vt_init("exec_job_memory", 120);
	sh = vt_shared(sizeof(*sh));
	for (i = 0; i < ASH_JOB_MAX_COMMANDS; i++)
		vx_cmd_nop(&job[i]);
	vt_part_new("jq", 4 * MiB, 0, VT_BOB, (gid_t)-1);
	vt_part_new("jq2", 4 * MiB, 0, VT_ALICE, (gid_t)-1);
	vt_snap_take(&before);
	memcg = memcg_setup();

	tp = vt_spawn_as(VT_BOB, VT_ORGB, NULL, 0, tenant, NULL);
	if (memcg) {
		char pid[32];

		snprintf(pid, sizeof(pid), "%d", (int)tp);
		REQUIRE(write_file(CG "/cgroup.procs", pid),
			"move the tenant into %s: %s", CG, strerror(errno));
		cg0 = vt_read_num(CG "/memory.current");
	}
	vt_flag_set(&sh->joined, 1);
	REQUIRE(vt_flag_wait(&sh->filled, 1, 60000), "the tenant did not fill its queues");
	p = vt_part("jq");
	total = 0;
	for (i = 0; i < NCTX; i++) {
		printf("context %d: %d jobs of 256 commands queued, then %s\n", i,
		       sh->ctx_jobs[i], vt_errname(sh->ctx_err[i]));
		EXPECT_ERR(sh->ctx_err[i], -EAGAIN, "the submission past the limit");
		total += (uint64_t)sh->ctx_jobs[i];
	}
	EXPECT_EQ(sh->ctx_jobs[0], ASH_CTX_MAX_JOBS, "jobs the first context queues");
	EXPECT(sh->ctx_jobs[NCTX - 1] < ASH_CTX_MAX_JOBS,
	       "the last context queued %d jobs: the partition's byte bound did not apply",
	       sh->ctx_jobs[NCTX - 1]);
	EXPECT_EQ(vt_dev().jobs_queued, total, "device jobs_queued");
	/* The bound, in jobs: no more than ASH_PART_MAX_JOB_BYTES of them. */
	job_bytes = ASH_PART_MAX_JOB_BYTES / total;
	printf("partition jq: %llu jobs queued, the byte bound allows %u MiB: "
	       "%llu bytes a job at most\n", (unsigned long long)total,
	       ASH_PART_MAX_JOB_BYTES >> 20, (unsigned long long)job_bytes);
	EXPECT(total * (ASH_JOB_MAX_COMMANDS * sizeof(struct ash_command)) <=
	       ASH_PART_MAX_JOB_BYTES,
	       "%llu jobs hold more than ASH_PART_MAX_JOB_BYTES of commands alone",
	       (unsigned long long)total);
	(void)p;

	/* Another partition is not affected. */
	fd = vt_tenant_open("jq2");
	REQUIRE(fd >= 0, "bind jq2");
	for (n = 0; n < 16; n++)
		if (vx_submit(fd, job, ASH_JOB_MAX_COMMANDS, &fence))
			break;
	EXPECT_EQ(n, 16, "jobs another partition queues meanwhile");
	close(fd);

	if (memcg) {
		uint64_t want = total * ASH_JOB_MAX_COMMANDS *
				sizeof(struct ash_command) * 9 / 10;

		cg1 = vt_read_num(CG "/memory.current");
		printf("cgroup %s: memory.current %lld -> %lld bytes (+%.1f MiB for %llu jobs)\n",
		       CG, cg0, cg1, (double)(cg1 - cg0) / (double)MiB,
		       (unsigned long long)total);
		EXPECT(cg1 - cg0 >= (long long)want,
		       "the tenant's cgroup was charged %lld bytes for its jobs, expected >= %llu",
		       cg1 - cg0, (unsigned long long)want);
		/* The bound counts what the allocator hands out: the charge
		 * is the bound plus the process's own few pages. */
		EXPECT(cg1 - cg0 <= (long long)ASH_PART_MAX_JOB_BYTES + 4 * (long long)MiB,
		       "the tenant's cgroup was charged %lld bytes, more than the partition's bound %u + 4 MiB",
		       cg1 - cg0, ASH_PART_MAX_JOB_BYTES);
	}
	vt_flag_set(&sh->release, 1);
	EXPECT_EQ(vt_wait(tp), 0, "tenant exit status");
	EXPECT_EQ(vt_dev().jobs_queued, 0, "device jobs_queued after the contexts closed");
	if (memcg) {
		cg2 = vt_read_num(CG "/memory.current");
		printf("cgroup %s: memory.current after close %lld bytes\n", CG, cg2);
		EXPECT(cg2 < cg0 + (cg1 - cg0) / 4,
		       "the cgroup still holds %lld of the %lld bytes after the contexts closed",
		       cg2 - cg0, cg1 - cg0);
		rmdir(CG);
	}
	vt_snap_expect_same(&before, "after the job memory case");
	return vt_result();
}
