// SPDX-License-Identifier: MIT
/*
 * fuzz_ioctl - the kernel ioctl fuzzer, a VM case (see tests/fuzz/fuzz.mk
 * and "Kernel ioctl fuzzer" in tests/vm/README.md).
 *
 * The checker (this process, root) creates KF_PARTS partitions and forks
 * KF_TENANTS tenant processes (alice, bob, carol, dave: the ACLs matter),
 * each with KF_THREADS threads of random tenant operations
 * (fuzz_tenant.c).  The run is a sequence of rounds.  During a round the
 * checker plays the administrator: it changes caps (below use too),
 * guarantees, weights, limits and access lists, deletes and re-creates
 * partitions while tenants bind to them, starts accelshare-engine and
 * SIGKILLs it under running jobs, acts as a minimal engine itself now and
 * then, and sometimes SIGKILLs a tenant.  Every call is structure-aware
 * and some are malformed on purpose (kf_ioctl); every error must be one
 * the UAPI documents.
 *
 * At the end of a round the tenants stop, wait for their jobs (an engine
 * is attached then) and publish their bookkeeping; the checker then
 * requires, per partition, mem_used, nr_buffers and nr_contexts to equal
 * the tenants' sums, the settings to equal what it set, jobs_completed to
 * equal the jobs the tenants queued there, the per-context list
 * (ASH_CTL_CTX_INFO) to agree per process, and the device totals to be the
 * sums.  The kernel log (oops, WARN, KASAN, lockdep, kmemleak) is judged by
 * the VM runner.
 *
 * Environment: ASH_TEST_SEED (64-bit, replays a run), ASH_TEST_FUZZ_SECONDS
 * (default 60 on the debug kernel, 20 on the distro kernel),
 * ASH_TEST_FUZZ_ROUND_MS (default 1500).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kfuzz.h"
#include "vtexec.h"

#define MiB64	(64 * MiB)

struct pslot {
	bool exists;
	bool lowered;		/* mem_max was lowered: mem_used may be above */
	bool unsure;		/* job count unknown this round: resync */
	int64_t job_base;	/* jobs_completed = base + tenants' submits */
	uint64_t last_completed;
	struct ash_partition_params p;	/* settings as the kernel holds them */
};

static struct pslot P[KF_PARTS];
static struct kf_rng R;
static uint64_t capacity;
static pid_t engine_pid;
static int round_ms = 1500;

static const struct {
	uid_t uid;
	gid_t gid;
	gid_t supp;
} users[KF_TENANTS] = {
	{ 1000, 2000, 0 }, { 1001, 2001, 0 }, { 1002, 2002, 0 },
	{ 1003, 2003, 2000 },
};

/* --- partitions ------------------------------------------------------------ */

static void random_acl(struct ash_partition_params *p)
{
	static const uint32_t uids[] = { 1000, 1001, 1002, 1003, 4242 };
	static const uint32_t gids[] = { 2000, 2001, 2002, 2003, 4343 };
	unsigned int i;

	p->nr_uids = p->nr_gids = 0;
	memset(p->uids, 0, sizeof(p->uids));
	memset(p->gids, 0, sizeof(p->gids));
	for (i = 0; i < 5; i++) {
		if (kf_chance(&R, 45))
			p->uids[p->nr_uids++] = uids[i];
		if (kf_chance(&R, 30))
			p->gids[p->nr_gids++] = gids[i];
	}
}

static void random_settings(struct ash_partition_params *p)
{
	p->mem_max = (4 + kf_below(&R, 60)) * MiB;
	p->mem_min = kf_chance(&R, 50) ? 0 : kf_below(&R, 8) * MiB;
	p->weight = kf_chance(&R, 20) ? 0 : 1 + (uint32_t)kf_below(&R, 1000);
	p->max_contexts = kf_chance(&R, 70) ? 0 : 1 + (uint32_t)kf_below(&R, 6);
	p->max_buffers = kf_chance(&R, 70) ? 0 : 1 + (uint32_t)kf_below(&R, 40);
	random_acl(p);
}

/* What the kernel reports after a create or a set of @p. */
static void normalize(struct ash_partition_params *p)
{
	if (!p->weight)
		p->weight = ASH_WEIGHT_DEFAULT;
	if (!p->max_contexts)
		p->max_contexts = ASH_MAX_CONTEXTS_DEFAULT;
	if (!p->max_buffers)
		p->max_buffers = ASH_MAX_BUFFERS_DEFAULT;
}

static uint64_t min_total(void)
{
	uint64_t t = 0;
	int s;

	for (s = 0; s < KF_PARTS; s++)
		if (P[s].exists)
			t += P[s].p.mem_min;
	return t;
}

static void part_create(int s, bool initial)
{
	enum kf_mut mut = initial ? KF_M_NONE : kf_pick_mut(&R);
	struct ash_partition_params p;
	long ret, want_args = 0, want_mem = 0, want;
	bool bad_dev = false;

	memset(&p, 0, sizeof(p));
	strcpy(p.name, kf_part_names[s]);
	random_settings(&p);
	if (initial) {
		p.mem_min = 0;
		p.max_contexts = 0;
		p.max_buffers = 0;
	} else {
		/* In the driver's order: the arguments, the device, the
		 * name, then the memory sizes. */
		switch (kf_below(&R, 14)) {
		case 0:
			p.mem_max = 0;
			want_mem = -EINVAL;
			break;
		case 1:
			p.mem_max = capacity + 4096;
			want_mem = -EINVAL;
			break;
		case 2:
			p.mem_min = p.mem_max + 4096;
			want_mem = -EINVAL;
			break;
		case 3:
			p.weight = ASH_WEIGHT_MAX + 1 + (uint32_t)kf_below(&R, 1000);
			want_args = -EINVAL;
			break;
		case 4:
			p.nr_uids = ASH_ACL_MAX + 1;
			want_args = -EINVAL;
			break;
		case 5:
			p.uids[ASH_ACL_MAX - 1] = 7;	/* an unused entry set */
			p.nr_uids = 0;
			want_args = -EINVAL;
			break;
		case 6:
			p.device = 1 + (uint32_t)kf_below(&R, 100);
			bad_dev = true;
			break;
		case 7:
			strcpy(p.name, kf_chance(&R, 50) ? "-bad" : "a b");
			want_args = -EINVAL;
			break;
		case 8:
			p.max_buffers = ASH_MAX_BUFFERS_LIMIT + 1;
			want_args = -EINVAL;
			break;
		default:
			break;
		}
	}
	/* random_settings() may draw a guarantee above the cap. */
	if (!want_mem && p.mem_min > p.mem_max)
		want_mem = -EINVAL;
	want = want_args ? want_args : bad_dev ? -ENODEV :
	       P[s].exists ? -EEXIST : want_mem ? want_mem :
	       min_total() + p.mem_min > capacity ? -ENOSPC : 0;
	ret = kf_ioctl(vt_ctl, KF_C_PCREATE, &p, mut, &R, "partition create");
	if (kf_mut_err(mut))
		return;
	if (!ret) {
		if (want)
			KF_FAIL("create %s: expected %s, succeeded", p.name,
				vt_errname(want));
		normalize(&p);
		P[s].exists = true;
		P[s].p = p;
		P[s].unsure = true;
		P[s].lowered = false;
		P[s].last_completed = 0;
		return;
	}
	/* ENOSPC also when the guarantee is not free now. */
	if (want ? ret != want : ret != -ENOSPC || !p.mem_min)
		KF_FAIL("create %s (mem_max %llu, mem_min %llu): expected %s, got %s",
			p.name, (unsigned long long)p.mem_max,
			(unsigned long long)p.mem_min, vt_errname(want),
			vt_errname(ret));
}

static void part_set(int s)
{
	enum kf_mut mut = kf_pick_mut(&R);
	struct ash_partition_params p, n;
	long ret, want_args = 0, want;

	memset(&p, 0, sizeof(p));
	strcpy(p.name, kf_part_names[s]);
	random_settings(&p);
	p.flags = 1U + (uint32_t)kf_below(&R, ASH_PART_SET_ALL);
	if (kf_chance(&R, 25))
		p.mem_max = 4096 * (1 + kf_below(&R, 64));	/* below use, likely */
	switch (kf_below(&R, 10)) {
	case 0:
		p.flags = 0;
		want_args = -EINVAL;
		break;
	case 1:
		p.flags |= ASH_PART_SET_WEIGHT;
		p.weight = ASH_WEIGHT_MAX + 1;
		want_args = -EINVAL;
		break;
	case 2:
		p.flags |= ASH_PART_SET_MEM_MAX;
		p.mem_max = kf_chance(&R, 50) ? 0 : capacity + 4096;
		break;
	default:
		break;
	}
	n = P[s].p;
	if (p.flags & ASH_PART_SET_MEM_MAX)
		n.mem_max = p.mem_max;
	if (p.flags & ASH_PART_SET_MEM_MIN)
		n.mem_min = p.mem_min;
	want = want_args ? want_args : !P[s].exists ? -ENOENT :
	       (p.flags & (ASH_PART_SET_MEM_MAX | ASH_PART_SET_MEM_MIN)) &&
	       (!n.mem_max || n.mem_max > capacity || n.mem_min > n.mem_max) ?
	       -EINVAL : 0;
	ret = kf_ioctl(vt_ctl, KF_C_PSET, &p, mut, &R, "partition set");
	if (kf_mut_err(mut))
		return;
	if (ret) {
		/* ENOSPC: the guarantee is not free now (unknown here). */
		if (want ? ret != want :
		    ret != -ENOSPC || !(p.flags & ASH_PART_SET_MEM_MIN))
			KF_FAIL("set %s flags %#x: expected %s, got %s", p.name,
				p.flags, vt_errname(want), vt_errname(ret));
		return;
	}
	if (want)
		KF_FAIL("set %s flags %#x: expected %s, succeeded", p.name,
			p.flags, vt_errname(want));
	if (n.mem_max < P[s].p.mem_max)
		P[s].lowered = true;
	if (p.flags & ASH_PART_SET_WEIGHT)
		n.weight = p.weight ? p.weight : ASH_WEIGHT_DEFAULT;
	if (p.flags & ASH_PART_SET_LIMITS) {
		n.max_contexts = p.max_contexts ? p.max_contexts :
			ASH_MAX_CONTEXTS_DEFAULT;
		n.max_buffers = p.max_buffers ? p.max_buffers :
			ASH_MAX_BUFFERS_DEFAULT;
	}
	if (p.flags & ASH_PART_SET_ACL) {
		n.nr_uids = p.nr_uids;
		n.nr_gids = p.nr_gids;
		memcpy(n.uids, p.uids, sizeof(n.uids));
		memcpy(n.gids, p.gids, sizeof(n.gids));
	}
	P[s].p = n;
}

static void part_delete(int s)
{
	enum kf_mut mut = kf_pick_mut(&R);
	struct ash_partition_delete d;
	long ret;

	memset(&d, 0, sizeof(d));
	strcpy(d.name, kf_part_names[s]);
	ret = kf_ioctl(vt_ctl, KF_C_PDELETE, &d, mut, &R, "partition delete");
	if (kf_mut_err(mut))
		return;
	if (!ret) {
		if (!P[s].exists)
			KF_FAIL("delete %s: it did not exist, yet succeeded", d.name);
		P[s].exists = false;
	} else if (P[s].exists ? ret != -EBUSY : ret != -ENOENT) {
		KF_FAIL("delete %s (%s): got %s", d.name,
			P[s].exists ? "exists" : "absent", vt_errname(ret));
	}
}

/* Compare what the kernel reports with what the checker set. */
static void part_compare(int s, const struct ash_partition_info *in,
			 const char *when)
{
	const struct ash_partition_params *p = &P[s].p;
	unsigned int i;

	if (in->mem_max != p->mem_max || in->mem_min != p->mem_min ||
	    in->weight != p->weight || in->max_contexts != p->max_contexts ||
	    in->max_buffers != p->max_buffers || in->nr_uids != p->nr_uids ||
	    in->nr_gids != p->nr_gids)
		KF_FAIL("%s: %s settings: max %llu min %llu weight %u ctx %u bufs %u acl %u/%u; set: %llu %llu %u %u %u %u/%u",
			when, p->name, (unsigned long long)in->mem_max,
			(unsigned long long)in->mem_min, in->weight,
			in->max_contexts, in->max_buffers, in->nr_uids,
			in->nr_gids, (unsigned long long)p->mem_max,
			(unsigned long long)p->mem_min, p->weight,
			p->max_contexts, p->max_buffers, p->nr_uids,
			p->nr_gids);
	for (i = 0; i < p->nr_uids && i < ASH_ACL_MAX; i++)
		if (in->uids[i] != p->uids[i])
			KF_FAIL("%s: %s uid[%u] %u, set %u", when, p->name, i,
				in->uids[i], p->uids[i]);
	for (i = 0; i < p->nr_gids && i < ASH_ACL_MAX; i++)
		if (in->gids[i] != p->gids[i])
			KF_FAIL("%s: %s gid[%u] %u, set %u", when, p->name, i,
				in->gids[i], p->gids[i]);
	if (in->mem_used > in->mem_max && !P[s].lowered)
		KF_FAIL("%s: %s mem_used %llu above mem_max %llu, which was never lowered",
			when, p->name, (unsigned long long)in->mem_used,
			(unsigned long long)in->mem_max);
	if (in->jobs_failed > in->jobs_completed)
		KF_FAIL("%s: %s jobs_failed %llu > jobs_completed %llu", when,
			p->name, (unsigned long long)in->jobs_failed,
			(unsigned long long)in->jobs_completed);
}

static void part_info(int s)
{
	enum kf_mut mut = kf_pick_mut(&R);
	struct ash_partition_info in;
	long ret;

	memset(&in, 0, sizeof(in));
	in.flags = ASH_PART_INFO_BY_NAME;
	strcpy(in.name, kf_part_names[s]);
	ret = kf_ioctl(vt_ctl, KF_C_PINFO, &in, mut, &R, "partition info");
	if (kf_mut_err(mut))
		return;
	if (P[s].exists ? ret != 0 : ret != -ENOENT) {
		KF_FAIL("info %s: %s", kf_part_names[s], vt_errname(ret));
		return;
	}
	if (!ret)
		part_compare(s, &in, "during the round");
}

/* Walk partitions by id and contexts by id: every one is ours. */
static void walks(void)
{
	struct ash_partition_info in;
	struct ash_context_info ci;
	enum kf_mut mut;
	uint32_t id = 0;
	long ret;
	int n = 0, s;

	for (;;) {
		memset(&in, 0, sizeof(in));
		in.id = id;
		ret = kf_ioctl(vt_ctl, KF_C_PINFO, &in, KF_M_NONE, &R, "walk");
		if (ret) {
			if (ret != -ENOENT)
				KF_FAIL("partition walk: %s", vt_errname(ret));
			break;
		}
		for (s = 0; s < KF_PARTS; s++)
			if (!strcmp(in.name, kf_part_names[s]))
				break;
		if (s == KF_PARTS || !P[s].exists || in.id < id)
			KF_FAIL("partition walk: %.32s (id %u, from %u)", in.name,
				in.id, id);
		n++;
		id = in.id + 1;
	}
	for (s = 0; s < KF_PARTS; s++)
		n -= P[s].exists;
	if (n)
		KF_FAIL("partition walk: %d partition(s) more than created", n);
	id = 0;
	for (;;) {
		memset(&ci, 0, sizeof(ci));
		ci.id = id;
		mut = kf_pick_mut(&R);
		ret = kf_ioctl(vt_ctl, KF_C_CTXINFO, &ci, mut, &R,
			       "context walk");
		if (ret && !kf_mut_err(mut) && ret != -ENOENT)
			KF_FAIL("context walk: %s", vt_errname(ret));
		if (ret)
			break;
		id = ci.id + 1;
	}
}

static void devinfo_probe(void)
{
	enum kf_mut mut = kf_pick_mut(&R);
	struct ash_device_info d;
	long ret;
	bool other = kf_chance(&R, 20);

	memset(&d, 0, sizeof(d));
	d.device = other ? 1 + (uint32_t)kf_below(&R, 1000) : 0;
	ret = kf_ioctl(vt_ctl, KF_C_DEVINFO, &d, mut, &R, "device info");
	if (kf_mut_err(mut))
		return;
	if (other ? ret != -ENODEV : ret != 0) {
		KF_FAIL("device info %u: %s", d.device, vt_errname(ret));
		return;
	}
	if (!ret && (d.mem_used > d.mem_capacity ||
		     d.mem_min_total != min_total()))
		KF_FAIL("device info: used %llu of %llu, mem_min_total %llu (expected %llu)",
			(unsigned long long)d.mem_used,
			(unsigned long long)d.mem_capacity,
			(unsigned long long)d.mem_min_total,
			(unsigned long long)min_total());
}

static void devset_probe(void)
{
	enum kf_mut mut = kf_pick_mut(&R);
	struct ash_device_set ds;
	long ret, want = 0;

	memset(&ds, 0, sizeof(ds));
	ds.flags = ASH_DEVICE_SET_SLICE;
	ds.slice_us = 100 + (uint32_t)kf_below(&R, 20000);
	switch (kf_below(&R, 6)) {
	case 0:
		ds.slice_us = kf_chance(&R, 50) ? (uint32_t)kf_below(&R, 100) :
						  1000001;
		want = -EINVAL;
		break;
	case 1:
		ds.flags = 0;
		want = -EINVAL;
		break;
	case 2:
		ds.device = 1 + (uint32_t)kf_below(&R, 10);
		want = -ENODEV;
		break;
	default:
		break;
	}
	ret = kf_ioctl(vt_ctl, KF_C_DEVSET, &ds, mut, &R, "device set");
	if (!kf_mut_err(mut) && ret != want)
		KF_FAIL("device set slice %u flags %#x device %u: expected %s, got %s",
			ds.slice_us, ds.flags, ds.device, vt_errname(want),
			vt_errname(ret));
}

/* Tenant ioctls and unknown numbers on the control node: ENOTTY. */
static void ctl_bad_probe(void)
{
	static const unsigned long cmds[] = {
		ASH_IOC_BIND, ASH_IOC_BUF_ALLOC, ASH_IOC_SUBMIT, ASH_IOC_WAIT,
	};
	uint64_t arg[64] = { 0 };
	unsigned long cmd;
	long ret;

	if (kf_chance(&R, 50))
		cmd = cmds[kf_below(&R, 4)];
	else
		cmd = _IOC(_IOC_READ | _IOC_WRITE, ASH_IOC_MAGIC,
			   0x4d + kf_below(&R, 0xb3), 8 * kf_below(&R, 64));
	ret = vt_ioctl(vt_ctl, cmd, arg);
	kf_count(KF_BADIOCTL, ret);
	if (ret != -ENOTTY)
		KF_FAIL("ioctl %#lx on the control node: expected -ENOTTY, got %s",
			cmd, vt_errname(ret));
}

/* --- engines ---------------------------------------------------------------- */

static int engine_exec(void *arg)
{
	int fd = open("/tmp/fuzz-engine.log", O_WRONLY | O_CREAT | O_APPEND,
		      0644);

	(void)arg;
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	execl(VX_ENGINE, VX_ENGINE, "--device", "0", "--threads", "1",
	      (char *)NULL);
	return 126;
}

static void engine_start(void)
{
	if (engine_pid)
		return;
	engine_pid = vt_spawn_as(VT_ROOT, 0, NULL, 0, engine_exec, NULL);
	if (!vx_engine_wait_state(1, 60000))
		KF_FAIL("accelshare-engine (pid %d) did not attach in 60 s",
			(int)engine_pid);
}

static void engine_kill(void)
{
	int st;

	if (!engine_pid)
		return;
	kill(engine_pid, SIGKILL);
	st = vt_wait(engine_pid);
	engine_pid = 0;
	if (st != 128 + SIGKILL) {
		KF_FAIL("accelshare-engine exited by itself (status %d); its log:",
			st);
		vt_sh(NULL, 0, "tail -n 20 /tmp/fuzz-engine.log");
	}
	if (!vx_engine_wait_state(0, 10000))
		KF_FAIL("device 0 still has an engine 10 s after it was killed");
}

/* Check the engine view of fetched commands: no handle, inside the space. */
static void check_fetched(const struct ash_command *cmds, uint32_t n,
			  uint64_t space)
{
	uint32_t i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < cmds[i].nr_operands && j < ASH_CMD_MAX_OPERANDS; j++) {
			const struct ash_operand *o = &cmds[i].operands[j];

			if (o->handle || o->offset > space ||
			    o->length > space - o->offset)
				KF_FAIL("fetched command %u operand %u: handle %u offset %#llx length %llu (space %llu)",
					i, j, o->handle,
					(unsigned long long)o->offset,
					(unsigned long long)o->length,
					(unsigned long long)space);
		}
}

/*
 * Play the engine for a moment, with no real one attached: attach a fresh
 * control file, map the space, fetch and complete a few jobs with made-up
 * statuses (a job completed without running writes nothing), and
 * sometimes close with a job running (it fails with -EIO).
 */
static void mini_engine(void)
{
	static struct ash_command cmds[ASH_JOB_MAX_COMMANDS];
	struct ash_engine_attach at;
	struct ash_engine_fetch f;
	struct ash_engine_complete co;
	uint64_t running = 0;
	enum kf_mut mut;
	void *map;
	long ret;
	int fd, i;

	fd = open(VT_CTL_DEV, O_RDWR | O_CLOEXEC);
	kf_count(KF_OPEN, fd < 0 ? -errno : 0);
	if (fd < 0) {
		KF_FAIL("open %s: %s", VT_CTL_DEV, vt_errname(-errno));
		return;
	}
	/* Not an engine yet. */
	map = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	kf_count(KF_E_MMAP, map == MAP_FAILED ? -errno : 0);
	if (map != MAP_FAILED || errno != EBADFD)
		KF_FAIL("engine mmap before attach: expected -EBADFD");
	if (map != MAP_FAILED)
		munmap(map, 4096);

	mut = kf_pick_mut(&R);
	memset(&at, 0, sizeof(at));
	ret = kf_ioctl(fd, KF_C_EATTACH, &at, mut, &R, "engine attach");
	if (kf_mut_err(mut) || ret) {
		if (!kf_mut_err(mut))
			KF_FAIL("attach with no engine: %s", vt_errname(ret));
		close(fd);
		return;
	}
	memset(&at, 0, sizeof(at));
	ret = kf_ioctl(fd, KF_C_EATTACH, &at, KF_M_NONE, &R, "attach twice");
	if (ret != -EALREADY)
		KF_FAIL("second attach on one file: expected -EALREADY, got %s",
			vt_errname(ret));
	/* The space: MAP_PRIVATE and too long are refused. */
	map = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	kf_count(KF_E_MMAP, map == MAP_FAILED ? -errno : 0);
	if (map != MAP_FAILED)
		KF_FAIL("MAP_PRIVATE engine mapping succeeded");
	map = mmap(NULL, at.space_size + 4096, PROT_READ, MAP_SHARED, fd, 0);
	kf_count(KF_E_MMAP, map == MAP_FAILED ? -errno : 0);
	if (map != MAP_FAILED)
		KF_FAIL("engine mapping past space_size succeeded");
	map = mmap(NULL, at.space_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	kf_count(KF_E_MMAP, map == MAP_FAILED ? -errno : 0);
	if (map == MAP_FAILED)
		KF_FAIL("engine mapping of the space: %s", vt_errname(-errno));

	for (i = 0; i < 1 + (int)kf_below(&R, 12); i++) {
		mut = kf_pick_mut(&R);
		memset(&f, 0, sizeof(f));
		f.flags = ASH_FETCH_NONBLOCK;
		f.max_commands = ASH_JOB_MAX_COMMANDS;
		f.command_size = sizeof(struct ash_command);
		f.commands = (uint64_t)(uintptr_t)cmds;
		if (kf_chance(&R, 5))
			f.max_commands = (uint32_t)kf_below(&R, ASH_JOB_MAX_COMMANDS);
		else if (kf_chance(&R, 3))
			f.commands = 0;	/* the job fails with -EIO */
		ret = kf_ioctl(fd, KF_C_EFETCH, &f, mut, &R, "fetch");
		if (kf_mut_err(mut))
			continue;
		if (f.max_commands < ASH_JOB_MAX_COMMANDS) {
			if (ret != -EINVAL)
				KF_FAIL("fetch with max_commands %u: %s",
					f.max_commands, vt_errname(ret));
			continue;
		}
		if (running) {
			if (ret != -EBUSY)
				KF_FAIL("fetch with a job running: expected -EBUSY, got %s",
					vt_errname(ret));
		} else if (!f.commands) {
			if (ret != -EFAULT && ret != -EAGAIN)
				KF_FAIL("fetch into NULL: %s", vt_errname(ret));
			continue;
		} else if (ret == -EAGAIN) {
			continue;
		} else if (ret) {
			KF_FAIL("fetch: %s", vt_errname(ret));
			continue;
		} else {
			check_fetched(cmds, f.nr_commands, at.space_size);
			running = f.job;
		}
		if (!running || kf_chance(&R, 10))
			continue;
		mut = kf_pick_mut(&R);
		memset(&co, 0, sizeof(co));
		co.job = kf_chance(&R, 10) ? running + 1 + kf_below(&R, 100) : running;
		co.status = kf_chance(&R, 60) ? 0 : -(int32_t)(1 + kf_below(&R, 133));
		if (kf_chance(&R, 5))
			co.status = 1 + (int32_t)kf_below(&R, 100);
		co.busy_ns = kf_below(&R, 3000000);
		ret = kf_ioctl(fd, KF_C_ECOMPLETE, &co, mut, &R, "complete");
		if (kf_mut_err(mut))
			continue;
		if (co.status > 0 ? ret != -EINVAL :
		    co.job != running ? ret != -ENOENT : ret != 0)
			KF_FAIL("complete job %llu (running %llu) status %d: %s",
				(unsigned long long)co.job,
				(unsigned long long)running, co.status,
				vt_errname(ret));
		if (!ret)
			running = 0;
	}
	if (map != MAP_FAILED)
		munmap(map, at.space_size);
	close(fd);	/* a running job fails with -EIO */
}

/* Engine ioctls on a file that is no engine: EBADFD; ATTACH: EBUSY. */
static void engine_probe(void)
{
	struct ash_engine_fetch f;
	struct ash_engine_complete co;
	struct ash_engine_attach at;
	long ret;
	int fd;

	memset(&f, 0, sizeof(f));
	f.flags = ASH_FETCH_NONBLOCK;
	f.max_commands = ASH_JOB_MAX_COMMANDS;
	f.command_size = sizeof(struct ash_command);
	ret = kf_ioctl(vt_ctl, KF_C_EFETCH, &f, KF_M_NONE, &R, "fetch");
	if (ret != -EBADFD)
		KF_FAIL("fetch on a control file that is no engine: %s",
			vt_errname(ret));
	memset(&co, 0, sizeof(co));
	ret = kf_ioctl(vt_ctl, KF_C_ECOMPLETE, &co, KF_M_NONE, &R, "complete");
	if (ret != -EBADFD)
		KF_FAIL("complete on a control file that is no engine: %s",
			vt_errname(ret));
	if (!engine_pid)
		return;
	fd = open(VT_CTL_DEV, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return;
	memset(&at, 0, sizeof(at));
	at.device = kf_chance(&R, 20) ? 1 + (uint32_t)kf_below(&R, 5) : 0;
	ret = kf_ioctl(fd, KF_C_EATTACH, &at, KF_M_NONE, &R, "attach");
	if (at.device ? ret != -ENODEV : ret != -EBUSY)
		KF_FAIL("attach to device %u with an engine: %s", at.device,
			vt_errname(ret));
	close(fd);
}

/* --- tenants ------------------------------------------------------------ */

static void tenant_spawn(int t)
{
	gid_t supp[1] = { users[t].supp };

	memset(kf->t[t].mem, 0, sizeof(kf->t[t].mem));
	memset(kf->t[t].nbufs, 0, sizeof(kf->t[t].nbufs));
	memset(kf->t[t].nctx, 0, sizeof(kf->t[t].nctx));
	memset(kf->t[t].submits, 0, sizeof(kf->t[t].submits));
	kf->t[t].inflight = 0;
	kf->t[t].gen++;
	kf->t[t].pid = vt_spawn_as(users[t].uid, users[t].gid, supp,
				   users[t].supp ? 1 : 0, kf_tenant_main,
				   (void *)(intptr_t)t);
}

/* Kill tenant @t; its submits become unsure. */
static void tenant_kill(int t)
{
	int s;

	if (kf->t[t].pid) {
		kill(kf->t[t].pid, SIGKILL);
		vt_wait(kf->t[t].pid);
		kf->t[t].pid = 0;
	}
	for (s = 0; s < KF_PARTS; s++)
		P[s].unsure = true;
	memset(kf->t[t].mem, 0, sizeof(kf->t[t].mem));
	memset(kf->t[t].nbufs, 0, sizeof(kf->t[t].nbufs));
	memset(kf->t[t].nctx, 0, sizeof(kf->t[t].nctx));
	memset(kf->t[t].submits, 0, sizeof(kf->t[t].submits));
}

/* Has @pid exited?  (Peeks: vt_wait reaps it.) */
static bool exited(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	return !waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) &&
	       si.si_pid == pid;
}

/* A tenant or engine that exited on its own failed. */
static void tenants_reap(void)
{
	int t, st;

	for (t = 0; t < KF_TENANTS; t++) {
		if (!kf->t[t].pid || !exited(kf->t[t].pid))
			continue;
		st = vt_wait(kf->t[t].pid);
		KF_FAIL("tenant %d (pid %d) exited on its own: status %d", t,
			kf->t[t].pid, st);
		kf->t[t].pid = 0;
		tenant_kill(t);
	}
	if (engine_pid && exited(engine_pid)) {
		st = vt_wait(engine_pid);
		engine_pid = 0;
		KF_FAIL("accelshare-engine exited by itself (status %d); its log:",
			st);
		vt_sh(NULL, 0, "tail -n 20 /tmp/fuzz-engine.log");
	}
}

/* --- the end-of-round check ---------------------------------------------- */

static char diff[8192];
static size_t difflen;

#define DIFF(...) do {							\
	if (difflen < sizeof(diff) - 256)				\
		difflen += (size_t)snprintf(diff + difflen,		\
					    sizeof(diff) - difflen,	\
					    "  " __VA_ARGS__);		\
} while (0)

/* One comparison of everything; the differences in diff[]. */
static bool compare(bool final)
{
	struct ash_partition_info in[KF_PARTS];
	struct ash_context_info ci;
	struct ash_device_info d;
	uint64_t pmem = 0, pctx = 0, nparts = 0;
	uint64_t cmem[KF_TENANTS][KF_PARTS], cbufs[KF_TENANTS][KF_PARTS];
	uint64_t cctx[KF_TENANTS][KF_PARTS];
	uint32_t id = 0;
	int s, t;
	long ret;

	difflen = 0;
	diff[0] = 0;
	memset(cmem, 0, sizeof(cmem));
	memset(cbufs, 0, sizeof(cbufs));
	memset(cctx, 0, sizeof(cctx));
	for (s = 0; s < KF_PARTS; s++) {
		uint64_t mem = 0, nb = 0, nc = 0;

		memset(&in[s], 0, sizeof(in[s]));
		in[s].flags = ASH_PART_INFO_BY_NAME;
		strcpy(in[s].name, kf_part_names[s]);
		ret = vt_ioctl(vt_ctl, ASH_CTL_PART_INFO, &in[s]);
		for (t = 0; t < KF_TENANTS; t++) {
			mem += kf->t[t].mem[s];
			nb += kf->t[t].nbufs[s];
			nc += kf->t[t].nctx[s];
		}
		if (!P[s].exists) {
			if (ret != -ENOENT)
				DIFF("%s: deleted, but info says %s\n",
				     kf_part_names[s], vt_errname(ret));
			if (mem || nb || nc)
				DIFF("%s: deleted, but tenants hold %llu bytes, %llu buffers, %llu contexts there\n",
				     kf_part_names[s], (unsigned long long)mem,
				     (unsigned long long)nb,
				     (unsigned long long)nc);
			continue;
		}
		if (ret) {
			DIFF("%s: info: %s\n", kf_part_names[s], vt_errname(ret));
			continue;
		}
		nparts++;
		pmem += in[s].mem_used;
		pctx += in[s].nr_contexts;
		if (in[s].mem_used != mem || in[s].nr_buffers != nb ||
		    in[s].nr_contexts != nc)
			DIFF("%s: kernel: mem_used %llu, nr_buffers %u, nr_contexts %u; tenants: %llu, %llu, %llu\n",
			     kf_part_names[s],
			     (unsigned long long)in[s].mem_used,
			     in[s].nr_buffers, in[s].nr_contexts,
			     (unsigned long long)mem, (unsigned long long)nb,
			     (unsigned long long)nc);
	}
	memset(&d, 0, sizeof(d));
	ret = vt_ioctl(vt_ctl, ASH_CTL_DEVICE_INFO, &d);
	if (ret)
		DIFF("device info: %s\n", vt_errname(ret));
	else if (d.mem_used != pmem || d.nr_contexts != pctx ||
		 d.nr_partitions != nparts || d.mem_min_total != min_total() ||
		 d.jobs_queued)
		DIFF("device: mem_used %llu, nr_contexts %u, nr_partitions %u, mem_min_total %llu, jobs_queued %llu; sums: %llu, %llu, %llu, %llu, 0\n",
		     (unsigned long long)d.mem_used, d.nr_contexts,
		     d.nr_partitions, (unsigned long long)d.mem_min_total,
		     (unsigned long long)d.jobs_queued,
		     (unsigned long long)pmem, (unsigned long long)pctx,
		     (unsigned long long)nparts,
		     (unsigned long long)min_total());

	/* Per process and partition, from the context list. */
	for (;;) {
		memset(&ci, 0, sizeof(ci));
		ci.id = id;
		if (vt_ioctl(vt_ctl, ASH_CTL_CTX_INFO, &ci))
			break;
		id = ci.id + 1;
		for (t = 0; t < KF_TENANTS; t++)
			if (kf->t[t].pid && ci.pid == kf->t[t].pid)
				break;
		for (s = 0; s < KF_PARTS; s++)
			if (!strcmp(ci.partition, kf_part_names[s]))
				break;
		if (t == KF_TENANTS || s == KF_PARTS) {
			DIFF("context %u of pid %d (uid %u) on %.32s: no such tenant\n",
			     ci.id, ci.pid, ci.uid, ci.partition);
			continue;
		}
		if (ci.uid != users[t].uid)
			DIFF("context %u of tenant %d: uid %u\n", ci.id, t, ci.uid);
		cmem[t][s] += ci.mem_used;
		cbufs[t][s] += ci.nr_buffers;
		cctx[t][s]++;
	}
	for (t = 0; t < KF_TENANTS; t++)
		for (s = 0; s < KF_PARTS; s++)
			if (cmem[t][s] != kf->t[t].mem[s] ||
			    cbufs[t][s] != kf->t[t].nbufs[s] ||
			    cctx[t][s] != kf->t[t].nctx[s])
				DIFF("tenant %d on %s: contexts list %llu bytes, %llu buffers, %llu contexts; tenant: %llu, %u, %u\n",
				     t, kf_part_names[s],
				     (unsigned long long)cmem[t][s],
				     (unsigned long long)cbufs[t][s],
				     (unsigned long long)cctx[t][s],
				     (unsigned long long)kf->t[t].mem[s],
				     kf->t[t].nbufs[s], kf->t[t].nctx[s]);
	if (difflen)
		return false;

	/* Settings and jobs, once the state agrees. */
	for (s = 0; s < KF_PARTS; s++) {
		uint64_t sub = 0;

		if (!P[s].exists)
			continue;
		part_compare(s, &in[s], final ? "at the end" : "after the round");
		if (in[s].mem_used <= in[s].mem_max)
			P[s].lowered = false;
		for (t = 0; t < KF_TENANTS; t++)
			sub += kf->t[t].submits[s];
		if (in[s].jobs_completed < P[s].last_completed)
			KF_FAIL("%s: jobs_completed went down: %llu after %llu",
				kf_part_names[s],
				(unsigned long long)in[s].jobs_completed,
				(unsigned long long)P[s].last_completed);
		P[s].last_completed = in[s].jobs_completed;
		if (P[s].unsure) {
			P[s].job_base = (int64_t)in[s].jobs_completed - (int64_t)sub;
			P[s].unsure = false;
		} else if ((int64_t)in[s].jobs_completed != P[s].job_base + (int64_t)sub) {
			KF_FAIL("%s: jobs_completed %llu, but the tenants queued %lld there",
				kf_part_names[s],
				(unsigned long long)in[s].jobs_completed,
				(long long)(P[s].job_base + (int64_t)sub));
		}
	}
	return true;
}

/* Everything settles within a few seconds (a job of a closed context may
 * still be running): compare until it agrees. */
static void check(int round, bool final)
{
	uint64_t end = kf_now_ms() + 20000;

	while (!compare(final)) {
		if (kf_now_ms() > end) {
			KF_FAIL("round %d: the kernel's accounting disagrees with the fuzzer's:\n%s",
				round, diff);
			return;
		}
		usleep(50000);
	}
}

/* --- rounds ------------------------------------------------------------- */

static void admin_step(void)
{
	int s = (int)kf_below(&R, KF_PARTS);
	unsigned int k = (unsigned int)kf_below(&R, 100);

	if (k < 30)
		part_set(s);
	else if (k < 38)
		part_delete(s);
	else if (k < 48)
		part_create(s, false);
	else if (k < 60)
		part_info(s);
	else if (k < 65)
		walks();
	else if (k < 72)
		devinfo_probe();
	else if (k < 75)
		devset_probe();
	else if (k < 78)
		ctl_bad_probe();
	else if (k < 82)
		engine_probe();
	else if (k < 88 && engine_pid)
		engine_kill();
	else if (k < 94 && !engine_pid)
		engine_start();
	else if (k < 97 && !engine_pid)
		mini_engine();
}

static void run_round(int round, int kill_at)
{
	uint64_t end = kf_now_ms() + (uint64_t)round_ms;
	int steps = 0, t;

	for (t = 0; t < KF_TENANTS; t++)
		if (!kf->t[t].pid)
			tenant_spawn(t);
	__atomic_store_n(&kf->round, round, __ATOMIC_RELEASE);
	__atomic_store_n(&kf->phase, KF_RUN, __ATOMIC_RELEASE);
	while (kf_now_ms() < end) {
		admin_step();
		if (steps++ == kill_at)
			tenant_kill((int)kf_below(&R, KF_TENANTS));
		tenants_reap();
		usleep(1000 * (5 + (unsigned int)kf_below(&R, 30)));
	}
	/* Quiesce: an engine runs every queued job, tenants drain, publish. */
	engine_start();
	__atomic_store_n(&kf->phase, KF_QUIESCE, __ATOMIC_RELEASE);
	for (t = 0; t < KF_TENANTS; t++) {
		uint64_t limit = kf_now_ms() + 120000;

		while (kf->t[t].pid &&
		       __atomic_load_n(&kf->t[t].ack, __ATOMIC_ACQUIRE) != round) {
			tenants_reap();
			if (kf_now_ms() > limit) {
				KF_FAIL("round %d: tenant %d did not quiesce in 120 s",
					round, t);
				tenant_kill(t);
			}
			usleep(2000);
		}
	}
	check(round, false);
}

/* Prints the coverage table; returns the number of calls made. */
static uint64_t print_coverage(void)
{
	uint64_t total = 0;
	int op, e;

	printf("fuzz_ioctl: coverage (calls, then results: OK or -ERRNO=count)\n");
	for (op = 0; op < KF_NOPS; op++) {
		const struct kf_cov *c = &kf->cov[op];
		char line[1024];
		size_t n = 0;

		total += c->calls;
		for (e = 0; e <= KF_NERR; e++) {
			if (!c->err[e])
				continue;
			n += (size_t)snprintf(line + n, sizeof(line) - n, " %s=%llu",
					      e == 0 ? "OK" : e == KF_NERR ? "other" :
					      vt_errname(-e),
					      (unsigned long long)c->err[e]);
			if (n >= sizeof(line))
				break;
		}
		line[n < sizeof(line) ? n : sizeof(line) - 1] = 0;
		printf("  %-26s %9llu %s\n", kf_opname((enum kf_op)op),
		       (unsigned long long)c->calls, c->calls ? line : " (never)");
	}
	return total;
}

int main(void)
{
	const char *env = getenv("ASH_TEST_SEED");
	const char *kernel = getenv("ASH_VM_KERNEL");
	uint64_t seed, start, calls;
	struct ash_device_info d;
	int seconds, round = 0, s, t;

	seconds = kernel && !strcmp(kernel, "debug") ? 60 : 20;
	if (getenv("ASH_TEST_FUZZ_SECONDS"))
		seconds = atoi(getenv("ASH_TEST_FUZZ_SECONDS"));
	if (getenv("ASH_TEST_FUZZ_ROUND_MS"))
		round_ms = atoi(getenv("ASH_TEST_FUZZ_ROUND_MS"));
	if (env)
		seed = strtoull(env, NULL, 0);
	else
		seed = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid();
	printf("fuzz_ioctl: seed %#llx (replay: make fuzz-kernel SEED=%#llx DURATION=%d)\n",
	       (unsigned long long)seed, (unsigned long long)seed, seconds);
	vt_init("fuzz_ioctl", (unsigned int)seconds + 600);
	if (access(VX_ENGINE, X_OK)) {
		printf("SKIP: %s is not in the VM image\n", VX_ENGINE);
		return VT_SKIP;
	}
	kf = vt_shared(sizeof(*kf));
	kf->seed = seed;
	kf_rng_seed(&R, seed, 0, 0, 0);
	d = vt_dev();
	capacity = d.mem_capacity;

	for (s = 0; s < KF_PARTS; s++) {
		vt_part_track(kf_part_names[s]);
		part_create(s, true);
		if (!P[s].exists) {
			FAIL("cannot create %s", kf_part_names[s]);
			vt_bail();
		}
	}
	engine_start();

	start = kf_now_ms();
	while (kf_now_ms() - start < (uint64_t)seconds * 1000 && !kf->failures) {
		round++;
		run_round(round, kf_chance(&R, 12) ? (int)kf_below(&R, 40) : -1);
		if (kf_chance(&R, 8))
			tenant_kill((int)kf_below(&R, KF_TENANTS));
	}

	/* The end: tenants exit (the kernel releases all they held). */
	__atomic_store_n(&kf->phase, KF_STOP, __ATOMIC_RELEASE);
	for (t = 0; t < KF_TENANTS; t++) {
		if (!kf->t[t].pid)
			continue;
		s = vt_wait(kf->t[t].pid);
		if (s)
			KF_FAIL("tenant %d exited with status %d", t, s);
		kf->t[t].pid = 0;
		memset(kf->t[t].mem, 0, sizeof(kf->t[t].mem));
		memset(kf->t[t].nbufs, 0, sizeof(kf->t[t].nbufs));
		memset(kf->t[t].nctx, 0, sizeof(kf->t[t].nctx));
		memset(kf->t[t].submits, 0, sizeof(kf->t[t].submits));
	}
	for (s = 0; s < KF_PARTS; s++)
		P[s].unsure = true;
	check(round + 1, true);
	engine_kill();
	for (s = 0; s < KF_PARTS; s++) {
		if (!P[s].exists)
			continue;
		if (vt_part_delete(kf_part_names[s]))
			KF_FAIL("delete %s at the end", kf_part_names[s]);
		P[s].exists = false;
	}
	d = vt_dev();
	if (d.mem_used || d.nr_partitions || d.nr_contexts || d.mem_min_total)
		KF_FAIL("device not back to zero: used %llu, %u partitions, %u contexts, min %llu",
			(unsigned long long)d.mem_used, d.nr_partitions,
			d.nr_contexts, (unsigned long long)d.mem_min_total);

	calls = print_coverage();
	printf("fuzz_ioctl: %d rounds in %.1f s, %llu calls (ioctl, open, mmap, munmap, poll, madvise), %d failure(s); seed %#llx\n",
	       round, (double)(kf_now_ms() - start) / 1000.0,
	       (unsigned long long)calls, kf->failures,
	       (unsigned long long)seed);
	return vt_result();
}
