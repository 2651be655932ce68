// SPDX-License-Identifier: MIT
/*
 * Invariant 4 under random kills: tenants SIGKILLed at random points leave
 * nothing behind, whatever they were doing.
 *
 * accelshare-engine (one BLAS thread) serves device 0; two tenant
 * partitions (alice's, bob's) and an idle bystander with a guarantee.  A
 * safetensors and a GGUF model (6 and 5 MiB) are written to /tmp.  Each
 * iteration snapshots the device, every partition and the context list,
 * then starts four tenant processes, each in a phase drawn at random:
 *
 *   alloc   allocating and freeing buffers of 4 KiB..1 MiB in a loop
 *           (up to the cap: -EDQUOT is expected there)
 *   map     allocate, mmap, touch, sometimes free before munmap, munmap
 *   load    ash_model_load() of either model (64..256 KiB chunks, queue
 *           depth 1..8, buffered: /tmp is a tmpfs), then free
 *   jobs    fills, copies and GEMMs through the runtime (ash_fill,
 *           ash_copy, a command buffer) with a few in flight, waiting
 *   mixed   two threads: one allocating and mapping, one submitting jobs
 *
 * and SIGKILLs each after a delay drawn log-uniformly from 10 us to 50 ms,
 * counted from the moment it reported being in its loop or (one time in
 * four) from its start (the four are forked, then released together), so
 * that some die while opening and binding.  The
 * case itself runs SCHED_FIFO (its tenants do not), so that the kills land
 * close to the drawn times even with both vCPUs busy.  Once
 * all are reaped, the case polls (at most 20 s: a job on the engine or
 * io_uring's workers may hold a context a little longer) until the
 * counters are back, then compares exactly: device and partition mem_used,
 * nr_buffers, nr_contexts, the CTX_INFO walk, no job queued.  The engine
 * must still be attached and alive.  Tenants count unexpected errors in
 * shared memory; any fails the case.
 *
 * ASH_TEST_SEED sets the seed (printed), ASH_TEST_CRASH_ITERS the number
 * of iterations (default 16).  Each iteration prints, per tenant,
 * phase/partition@drawn(actual) delay in ms and the loops it completed.
 */
#include "vtcrash.h"

#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#define PART_A		"ctk_a"
#define PART_B		"ctk_b"
#define PART_IDLE	"ctk_idle"
#define CAP_A		(40 * MiB)
#define CAP_B		(24 * MiB)
#define ST_PATH		"/tmp/crash.safetensors"
#define GGUF_PATH	"/tmp/crash.gguf"
#define NT		4		/* tenants per iteration */
#define GN		64		/* GEMM size */

enum phase { PH_ALLOC, PH_MAP, PH_LOAD, PH_JOBS, PH_MIXED, PH_COUNT };
static const char *const phase_name[PH_COUNT] = {
	"alloc", "map", "load", "jobs", "mixed",
};

struct slot {
	int ready;		/* in its loop */
	uint64_t ready_ns;	/* since when (CLOCK_MONOTONIC) */
	int loops;		/* loop iterations done */
	int unexpected;		/* errors that should not happen */
};

struct shared {
	int go;			/* iteration number: tenants start */
	struct slot s[NT];
	int kills_by_phase[PH_COUNT];
};

static struct shared *sh;

struct targ {
	int iter;
	int idx;
	enum phase phase;
	const char *part;
	struct vc_rng rng;
};

/* An error a tenant did not expect: counted and printed. */
static void unexpected(struct targ *t, const char *what, long err)
{
	__atomic_add_fetch(&sh->s[t->idx].unexpected, 1, __ATOMIC_RELAXED);
	printf("FAIL: tenant %d (%s): %s: %s\n", t->idx, phase_name[t->phase],
	       what, vt_errname(err));
	fflush(stdout);
}

/* In its loop: the kill's delay counts from here. */
static void enter(struct targ *t)
{
	if (!vt_flag_get(&sh->s[t->idx].ready)) {
		sh->s[t->idx].ready_ns = vx_now_ns();
		vt_flag_set(&sh->s[t->idx].ready, 1);
	}
}

static void loop_done(struct targ *t)
{
	__atomic_add_fetch(&sh->s[t->idx].loops, 1, __ATOMIC_RELAXED);
}

static bool quota_err(long ret)
{
	return ret == -EDQUOT || ret == -ENOSPC;
}

static void run_alloc(struct targ *t, int fd, struct vc_rng *r)
{
	uint32_t h[12];
	int n = 0;
	long ret;

	enter(t);
	for (;;) {
		if (n < 12 && vc_below(r, 3)) {
			ret = vt_buf_alloc(fd, vc_log_range(r, 4 * KiB, 1 * MiB),
					   &h[n], NULL);
			if (!ret)
				n++;
			else if (!quota_err(ret))
				unexpected(t, "alloc", ret);
		} else if (n) {
			int i = (int)vc_below(r, (uint64_t)n);

			ret = vt_buf_free(fd, h[i]);
			if (ret)
				unexpected(t, "free", ret);
			h[i] = h[--n];
		}
		loop_done(t);
	}
}

static void run_map(struct targ *t, int fd, struct vc_rng *r)
{
	uint64_t size, off;
	uint32_t h;
	uint8_t *p;
	long ret;

	enter(t);
	for (;;) {
		size = vc_log_range(r, 16 * KiB, 2 * MiB) & ~(VT_PAGE - 1);
		ret = vt_buf_alloc(fd, size, &h, &off);
		if (ret) {
			if (!quota_err(ret))
				unexpected(t, "alloc", ret);
			loop_done(t);
			continue;
		}
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
			 (off_t)off);
		if (p == MAP_FAILED) {
			unexpected(t, "mmap", -errno);
			vt_buf_free(fd, h);
			continue;
		}
		if (p[0] || p[size - 1])
			unexpected(t, "fresh buffer not zero", -EINVAL);
		memset(p, 0x5a, size);
		if (vc_below(r, 2)) {
			/* freed but mapped, then unmapped */
			if ((ret = vt_buf_free(fd, h)))
				unexpected(t, "free while mapped", ret);
			p[size / 2] = 1;
			munmap(p, size);
		} else {
			munmap(p, size);
			if ((ret = vt_buf_free(fd, h)))
				unexpected(t, "free", ret);
		}
		loop_done(t);
	}
}

static void run_load(struct targ *t, struct ash_ctx *ctx, struct vc_rng *r)
{
	struct ash_load_opts o;
	struct ash_model *m;
	int ret;

	enter(t);
	for (;;) {
		memset(&o, 0, sizeof(o));
		o.queue_depth = (uint32_t)vc_range(r, 1, 8);
		o.chunk_size = 64 * 1024 << vc_below(r, 3);
		o.direct_io = -1;
		m = NULL;
		ret = ash_model_load_opts(ctx, vc_below(r, 2) ? ST_PATH : GGUF_PATH,
					  &o, &m);
		if (!ret)
			ash_model_free(m);
		else if (!quota_err(ret))
			unexpected(t, "ash_model_load", ret);
		loop_done(t);
	}
}

/* Jobs: fill A, copy A to B, GEMM; up to 4 fences in flight. */
static void run_jobs(struct targ *t, struct ash_ctx *ctx, struct vc_rng *r)
{
	struct ash_buf *a = NULL, *b = NULL, *ga = NULL, *gb = NULL, *gc = NULL;
	struct ash_tensor_ref rc, ra, rb;
	struct ash_cmdbuf *cb = NULL;
	uint64_t fence, fences[4];
	int nf = 0, ret;

	if ((ret = ash_alloc(ctx, 256 * KiB, &a)) ||
	    (ret = ash_alloc(ctx, 256 * KiB, &b)) ||
	    (ret = ash_alloc(ctx, GN * GN * 4, &ga)) ||
	    (ret = ash_alloc(ctx, GN * GN * 4, &gb)) ||
	    (ret = ash_alloc(ctx, GN * GN * 4, &gc)) ||
	    (ret = ash_cmdbuf_create(ctx, &cb))) {
		if (!quota_err(ret))
			unexpected(t, "job setup", ret);
		enter(t);	/* a full partition: die holding what it got */
		for (;;)
			pause();
	}
	ra = (struct ash_tensor_ref){ ga, 0, ASH_DTYPE_F32, GN, GN, 0 };
	rb = (struct ash_tensor_ref){ gb, 0, ASH_DTYPE_F32, GN, GN, 0 };
	rc = (struct ash_tensor_ref){ gc, 0, ASH_DTYPE_F32, GN, GN, 0 };
	enter(t);
	for (;;) {
		fence = 0;
		switch (vc_below(r, 3)) {
		case 0:
			ret = ash_fill(ctx, a, 0, 256 * KiB,
				       (uint32_t)vc_next(r), &fence);
			break;
		case 1:
			ret = ash_copy(ctx, b, 0, a, 0, 256 * KiB, &fence);
			break;
		default:
			ret = ash_op_gemm(cb, &rc, &ra, &rb, 0, 1.0f, 0.0f);
			if (!ret)
				ret = ash_cmdbuf_submit(cb, &fence);
			break;
		}
		if (ret && ret != -EAGAIN)
			unexpected(t, "submit", ret);
		if (!ret)
			fences[nf++] = fence;
		if (nf == 4 || (ret == -EAGAIN && nf)) {
			ret = ash_wait(ctx, fences[nf - 1], -1);
			if (ret)
				unexpected(t, "wait", ret);
			nf = 0;
		}
		loop_done(t);
	}
}

struct mixed {
	struct targ *t;
	int fd;
	struct vc_rng r;
};

static void *mixed_mapper(void *arg)
{
	struct mixed *m = arg;

	run_map(m->t, m->fd, &m->r);
	return NULL;
}

static int tenant(void *arg)
{
	struct targ *t = arg;
	struct ash_ctx *ctx = NULL;
	struct mixed mx;
	pthread_t tid;
	int fd = -1, ret, go;

	/* All four start at once, when the last is forked. */
	while ((go = __atomic_load_n(&sh->go, __ATOMIC_ACQUIRE)) != t->iter)
		syscall(SYS_futex, &sh->go, FUTEX_WAIT, go, NULL, NULL, 0);

	switch (t->phase) {
	case PH_ALLOC:
	case PH_MAP:
		fd = vt_tenant_open(t->part);
		if (fd < 0) {
			unexpected(t, "bind", fd);
			return 1;
		}
		if (t->phase == PH_ALLOC)
			run_alloc(t, fd, &t->rng);
		else
			run_map(t, fd, &t->rng);
		break;
	case PH_LOAD:
	case PH_JOBS:
	case PH_MIXED:
		ret = ash_open(t->part, &ctx);
		if (ret) {
			unexpected(t, "ash_open", ret);
			return 1;
		}
		if (t->phase == PH_LOAD) {
			run_load(t, ctx, &t->rng);
		} else if (t->phase == PH_JOBS) {
			run_jobs(t, ctx, &t->rng);
		} else {
			mx.t = t;
			mx.fd = vt_tenant_open(t->part);
			mx.r = vc_fork(&t->rng, 1);
			if (mx.fd < 0) {
				unexpected(t, "bind (mapper)", mx.fd);
				return 1;
			}
			if (pthread_create(&tid, NULL, mixed_mapper, &mx)) {
				unexpected(t, "pthread_create", -EAGAIN);
				return 1;
			}
			run_jobs(t, ctx, &t->rng);
		}
		break;
	default:
		break;
	}
	return 1;	/* the loops never end */
}

int main(void)
{
	static const uid_t uid[2] = { VT_ALICE, VT_BOB };
	static const gid_t gid[2] = { VT_ORGA, VT_ORGB };
	static const char *const part[2] = { PART_A, PART_B };
	struct targ ta[NT];
	uint64_t t_fork, t_ready[NT], delay_us[NT], t_kill[NT], max_settle = 0;
	bool from_fork[NT], killed[NT];
	struct vt_snap before;
	struct vc_rng rng;
	pid_t eng, pids[NT];
	int iters, it, i, left, st, total_kills = 0;
	long settle;

	vt_init("crash_tenant_random_kill", 280);
	rng.s = vc_seed("crash_tenant_random_kill");
	iters = (int)vc_env_u64("ASH_TEST_CRASH_ITERS", 16);
	sh = vt_shared(sizeof(*sh));
	vc_write_safetensors(ST_PATH, 6 * MiB, 6);
	vc_write_gguf(GGUF_PATH, 5 * MiB, 5);
	vt_part_new(PART_A, CAP_A, 0, VT_ALICE, (gid_t)-1);
	vt_part_new(PART_B, CAP_B, 0, VT_BOB, (gid_t)-1);
	vt_part_new(PART_IDLE, 8 * MiB, 4 * MiB, VT_CAROL, (gid_t)-1);
	eng = vx_engine_start("1");
	vc_realtime();

	for (it = 1; it <= iters && !vt_failures; it++) {
		vt_snap_take(&before);
		memset(sh->s, 0, sizeof(sh->s));
		for (i = 0; i < NT; i++) {
			int p = i % 2;

			ta[i].iter = it;
			ta[i].idx = i;
			ta[i].phase = (enum phase)vc_below(&rng, PH_COUNT);
			ta[i].part = part[p];
			ta[i].rng = vc_fork(&rng, (uint64_t)i);
			delay_us[i] = vc_log_range(&rng, 10, 50000);
			from_fork[i] = vc_below(&rng, 4) == 0;
			killed[i] = false;
			t_ready[i] = 0;
			pids[i] = vt_spawn_as(uid[p], gid[p], NULL, 0, tenant, &ta[i]);
		}
		/* Forking takes a while on the debug kernel: start them
		 * together, and count from there. */
		t_fork = vx_now_ns();
		__atomic_store_n(&sh->go, it, __ATOMIC_RELEASE);
		syscall(SYS_futex, &sh->go, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
		/* Kill each at its time. */
		for (left = NT; left;) {
			uint64_t now = vx_now_ns(), next = now + 200000;

			for (i = 0; i < NT; i++) {
				if (killed[i])
					continue;
				if (!t_ready[i] && vt_flag_get(&sh->s[i].ready))
					t_ready[i] = sh->s[i].ready_ns;
				if (from_fork[i] && !t_ready[i])
					t_ready[i] = t_fork;
				if (!t_ready[i]) {
					if (now - t_fork > 20000000000ULL) {
						FAIL("iteration %d: tenant %d (%s) not in its loop after 20 s",
						     it, i, phase_name[ta[i].phase]);
						t_ready[i] = now;
					}
					continue;
				}
				if (now >= t_ready[i] + delay_us[i] * 1000) {
					kill(pids[i], SIGKILL);
					t_kill[i] = vx_now_ns();
					killed[i] = true;
					left--;
				} else if (t_ready[i] + delay_us[i] * 1000 < next) {
					next = t_ready[i] + delay_us[i] * 1000;
				}
			}
			/* until the next kill, or 200 us to look at the flags */
			now = vx_now_ns();
			if (left && next > now)
				vc_sleep_us((next - now + 999) / 1000);
		}
		printf("iteration %d:", it);
		for (i = 0; i < NT; i++) {
			st = vt_wait(pids[i]);
			EXPECT_EQ(st, 128 + SIGKILL, "tenant's end (128 + SIGKILL)");
			EXPECT_EQ(sh->s[i].unexpected, 0, "tenant's unexpected errors");
			sh->kills_by_phase[ta[i].phase]++;
			total_kills++;
			/* the delay drawn; the one that happened (later
			 * when the two vCPUs were busy) */
			printf(" %s/%s@%.2f(%.2f)ms%s,%d", phase_name[ta[i].phase],
			       ta[i].part, (double)delay_us[i] / 1000.0,
			       (double)(t_kill[i] - t_ready[i]) / 1e6,
			       from_fork[i] ? "-from-start" : "",
			       sh->s[i].loops);
		}
		settle = vc_wait_settled(&before, 20000, "after the kills");
		printf(" -> counters back %ld ms after the reap\n", settle);
		if (settle > (long)max_settle)
			max_settle = (uint64_t)settle;
		EXPECT_EQ(waitpid(eng, &st, WNOHANG), 0, "the engine process is still running");
		EXPECT_EQ(vt_dev().has_engine, 1, "has_engine");
	}

	printf("%d tenants killed in %d iterations (", total_kills, it - 1);
	for (i = 0; i < PH_COUNT; i++)
		printf("%s%s %d", i ? ", " : "", phase_name[i], sh->kills_by_phase[i]);
	printf("); counters back at most %llu ms after the reap\n",
	       (unsigned long long)max_settle);
	EXPECT_EQ(vx_engine_stop(eng, SIGTERM), 0, "engine exit status after SIGTERM");
	return vt_result();
}
