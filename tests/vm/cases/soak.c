// SPDX-License-Identifier: MIT
/*
 * The soak: many tenants allocating, mapping, loading, submitting and
 * exiting for minutes, with the engine attached throughout.  Manual
 * (soak.manual): `make soak [DURATION=secs] [KERNEL=debug|distro]`, see
 * tests/vm/README.md.
 *
 * Eight partitions with different caps (their sum is about 1.3 times the
 * device, so the device fills up too), weights 1..400, two with a
 * guarantee, one limited to 12 contexts and one to 8 buffers per context.
 * Access: alice, bob and carol by uid on seven, bob's group alone on the
 * eighth.  ASH_TEST_SOAK_PROCS (default 16) worker processes, as alice,
 * bob or carol, each holding 4..7 contexts on several partitions (the
 * first on partition slot % 8, so all eight are in use), with one or two
 * threads, run random operations for 1..8 s of their own and then exit,
 * cleanly (ash_close) or not (exit with everything open); the supervisor
 * also SIGKILLs one at random now and then, and starts a replacement for
 * every one that ends.  Operations, per context:
 *
 *   alloc, free          4 KiB..4 MiB, log-uniform
 *   map                  ash_map, a fresh buffer must read zero, then
 *                        written and read back
 *   load, unload         ash_model_load of a 4 MiB safetensors or a 3 MiB
 *                        GGUF file, first tensor checked; ash_model_free
 *   fill, copy           ash_fill / ash_copy and ash_wait, the result
 *                        checked through the mapping when there is one
 *   gemm                 a 64^3 f32 GEMM through a command buffer
 *   burst                300 ash_fill submissions of 4 KiB, then a wait:
 *                        runs into the context's queue limit (256)
 *   stat                 ash_partition_stat: mem_used <= mem_max
 *   reopen               ash_close one context, ash_open another
 *
 * Expected errors, counted but not failures: -EDQUOT (a partition's cap),
 * -ENOSPC (the device's capacity), -EMFILE (max_buffers) on alloc, load
 * and GEMM setup; -EUSERS (max_contexts) on open; -EAGAIN (queue limit) on
 * burst submissions.  Any other error, any job status but 0, wrong data,
 * a worker exiting other than 0 or by the supervisor's SIGKILL, a
 * partition over its cap or the engine gone fail the soak.  Every 500 ms
 * the supervisor checks each partition's mem_used <= mem_max and records
 * the peaks; at the end it stops everyone, waits until every context is
 * gone and checks every partition's mem_used, nr_buffers, nr_contexts and
 * the device's mem_used are 0, and prints the summary: operations by kind,
 * errors by kind, jobs, bytes loaded, processes started/exited/killed,
 * peak contexts and memory, memory returned.
 *
 * ASH_TEST_SOAK_SECONDS (default 300), ASH_TEST_SOAK_PROCS (default 16),
 * ASH_TEST_SEED.
 */
#include "vtcrash.h"

#include <grp.h>
#include <pthread.h>

#define NPART		8
#define MAXPROCS	64
#define MAXCTX		7
#define MAXBUF		12
#define MAXMODEL	2
#define ST_PATH		"/tmp/soak.safetensors"
#define GGUF_PATH	"/tmp/soak.gguf"
#define GN		64
#define BURST		300
#define NERR		160

enum op {
	OP_OPEN, OP_CLOSE, OP_ALLOC, OP_FREE, OP_MAP, OP_LOAD, OP_UNLOAD,
	OP_FILL, OP_COPY, OP_GEMM, OP_BURST, OP_WAIT, OP_STAT, OP_COUNT
};
static const char *const op_name[OP_COUNT] = {
	"open", "close", "alloc", "free", "map+touch", "load", "unload",
	"fill", "copy", "gemm", "burst-submit", "wait", "stat",
};

struct stats {
	uint64_t ops[OP_COUNT];
	uint64_t errs[OP_COUNT][NERR];
	uint64_t jobs_ok, jobs_bad, bytes_loaded, bytes_alloc, bad_data;
	uint64_t unexpected;
	int stop;
	int printed;
};

static struct stats *st;

struct pdef {
	const char *name;
	unsigned int cap_div;	/* cap = capacity * 4 / cap_div */
	uint32_t weight;
	bool min;		/* guarantee of half the cap */
	uint32_t max_contexts, max_buffers;
	bool bob_group_only;
};

static const struct pdef pdefs[NPART] = {
	{ "soak0", 64, 1,   true,  0,  0, false },	/* 1/16 */
	{ "soak1", 48, 2,   true,  0,  0, false },	/* 1/12 */
	{ "soak2", 32, 10,  false, 12, 0, false },	/* 1/8 */
	{ "soak3", 24, 50,  false, 0,  0, false },	/* 1/6 */
	{ "soak4", 20, 100, false, 0,  8, false },	/* 1/5 */
	{ "soak5", 16, 100, false, 0,  0, false },	/* 1/4 */
	{ "soak6", 16, 200, false, 0,  0, false },	/* 1/4 */
	{ "soak7", 32, 400, false, 0,  0, true },	/* 1/8 */
};

static uint64_t cap_of[NPART];
static uint64_t st_data, gguf_data;

/* --- counting -------------------------------------------------------------- */

static bool expected_err(enum op op, int err)
{
	switch (op) {
	case OP_OPEN:
		return err == -EUSERS;
	case OP_ALLOC:
	case OP_LOAD:
	case OP_GEMM:
		return err == -EDQUOT || err == -ENOSPC || err == -EMFILE;
	case OP_BURST:
		return err == -EAGAIN;
	default:
		return false;
	}
}

static void count(enum op op, int err, const char *what)
{
	int e = err < 0 ? -err : err;

	__atomic_add_fetch(&st->ops[op], 1, __ATOMIC_RELAXED);
	if (!err)
		return;
	__atomic_add_fetch(&st->errs[op][e < NERR ? e : NERR - 1], 1,
			   __ATOMIC_RELAXED);
	if (expected_err(op, err))
		return;
	__atomic_add_fetch(&st->unexpected, 1, __ATOMIC_RELAXED);
	if (__atomic_add_fetch(&st->printed, 1, __ATOMIC_RELAXED) <= 30)
		printf("FAIL: [pid %d] %s (%s): %s\n", (int)getpid(), op_name[op],
		       what, vt_errname(err));
}

static void bad_data(const char *what)
{
	__atomic_add_fetch(&st->bad_data, 1, __ATOMIC_RELAXED);
	if (__atomic_add_fetch(&st->printed, 1, __ATOMIC_RELAXED) <= 30)
		printf("FAIL: [pid %d] wrong data: %s\n", (int)getpid(), what);
}

/* --- a worker ------------------------------------------------------------- */

struct wbuf {
	struct ash_buf *b;
	uint64_t size;
	uint32_t *map;		/* NULL until mapped */
	bool written;		/* by us or a job: no longer all zero */
};

struct wctx {
	struct ash_ctx *ctx;
	int part;
	struct wbuf bufs[MAXBUF];
	int nbufs;
	struct ash_model *models[MAXMODEL];
	int nmodels;
	struct ash_cmdbuf *cb;
	struct ash_buf *g[3];	/* GEMM C, A, B */
};

struct worker {
	uid_t uid;
	struct vc_rng rng;
	int slot;
	uint64_t end_ns;
	struct wctx ctx[MAXCTX];
	int nctx;
	int nthreads;
};

struct wthread {
	struct worker *w;
	int t;
	struct vc_rng rng;
};

static bool may_use(uid_t uid, int p)
{
	return !pdefs[p].bob_group_only || uid == VT_BOB;
}

static int pick_part(struct worker *w, struct vc_rng *r)
{
	int p;

	do
		p = (int)vc_below(r, NPART);
	while (!may_use(w->uid, p));
	return p;
}

static void ctx_open(struct wctx *c, int part)
{
	int ret;

	memset(c, 0, sizeof(*c));
	c->part = part;
	ret = ash_open(pdefs[part].name, &c->ctx);
	count(OP_OPEN, ret, pdefs[part].name);
	if (ret)
		c->ctx = NULL;
}

static void ctx_close(struct wctx *c)
{
	int i;

	if (!c->ctx)
		return;
	/* Models and command buffers first: they use the context's buffers. */
	for (i = 0; i < c->nmodels; i++)
		ash_model_free(c->models[i]);
	if (c->cb)
		ash_cmdbuf_destroy(c->cb);
	ash_close(c->ctx);	/* frees every buffer still held */
	count(OP_CLOSE, 0, "");
	memset(c, 0, sizeof(*c));
}

static int wait_job(struct wctx *c, uint64_t fence, const char *what)
{
	int ret = ash_wait(c->ctx, fence, 120LL * 1000000000LL);

	count(OP_WAIT, ret, what);
	if (ret)
		__atomic_add_fetch(&st->jobs_bad, 1, __ATOMIC_RELAXED);
	else
		__atomic_add_fetch(&st->jobs_ok, 1, __ATOMIC_RELAXED);
	return ret;
}

static void do_alloc(struct wctx *c, struct vc_rng *r)
{
	struct wbuf *b;
	uint64_t size;
	int ret;

	if (c->nbufs == MAXBUF)
		return;
	size = vc_log_range(r, 4 * KiB, 4 * MiB);
	b = &c->bufs[c->nbufs];
	ret = ash_alloc(c->ctx, size, &b->b);
	count(OP_ALLOC, ret, pdefs[c->part].name);
	if (ret)
		return;
	b->size = size;
	b->map = NULL;
	b->written = false;
	c->nbufs++;
	__atomic_add_fetch(&st->bytes_alloc, size, __ATOMIC_RELAXED);
}

static void do_free(struct wctx *c, struct vc_rng *r)
{
	int i;

	if (!c->nbufs)
		return;
	i = (int)vc_below(r, (uint64_t)c->nbufs);
	ash_free(c->bufs[i].b);
	count(OP_FREE, 0, "");
	c->bufs[i] = c->bufs[--c->nbufs];
}

static void do_map(struct wctx *c, struct vc_rng *r)
{
	struct wbuf *b;
	uint32_t pat;
	int ret;

	if (!c->nbufs)
		return;
	b = &c->bufs[vc_below(r, (uint64_t)c->nbufs)];
	if (!b->map) {
		ret = ash_map(b->b, (void **)&b->map);
		count(OP_MAP, ret, "ash_map");
		if (ret) {
			b->map = NULL;
			return;
		}
		if (!b->written && vt_find_not(b->map, b->size, 0) != -1)
			bad_data("a fresh buffer is not zero");
	} else {
		count(OP_MAP, 0, "");
	}
	pat = (uint32_t)vc_next(r);
	b->map[0] = pat;
	b->map[(b->size / 4) - 1] = pat;
	if (b->map[0] != pat || b->map[(b->size / 4) - 1] != pat)
		bad_data("mapping does not read back");
	b->written = true;
}

static void do_load(struct wctx *c, struct vc_rng *r)
{
	struct ash_load_opts o;
	struct ash_model *m = NULL;
	const struct ash_tensor *t;
	bool st_file = vc_below(r, 2);
	uint64_t *p, want;
	int ret;

	if (c->nmodels == MAXMODEL) {
		ash_model_free(c->models[--c->nmodels]);
		count(OP_UNLOAD, 0, "");
	}
	memset(&o, 0, sizeof(o));
	o.queue_depth = (uint32_t)vc_range(r, 1, 16);
	o.chunk_size = 64 * 1024 << vc_below(r, 5);
	o.direct_io = -1;	/* /tmp is a tmpfs */
	ret = ash_model_load_opts(c->ctx, st_file ? ST_PATH : GGUF_PATH, &o, &m);
	count(OP_LOAD, ret, pdefs[c->part].name);
	if (ret)
		return;
	__atomic_add_fetch(&st->bytes_loaded, st_file ? st_data : gguf_data,
			   __ATOMIC_RELAXED);
	/* The first tensor's first word, as vc_put_filler wrote it. */
	t = ash_model_tensor(m, 0);
	want = (st_file ? 1ULL : 100ULL) * 0x9e3779b97f4a7c15ULL;
	if (!t || !t->buf || ash_map(t->buf, (void **)&p))
		bad_data("loaded model: no first tensor or no mapping");
	else if (p[t->offset / 8] != want)
		bad_data("loaded model: first tensor's first word");
	c->models[c->nmodels++] = m;
}

static void do_fill(struct wctx *c, struct vc_rng *r)
{
	struct wbuf *b;
	uint64_t fence, len;
	uint32_t pat = (uint32_t)vc_next(r);
	int ret;

	if (!c->nbufs)
		return;
	b = &c->bufs[vc_below(r, (uint64_t)c->nbufs)];
	len = b->size & ~3ULL;
	if (len > 1 * MiB)
		len = 1 * MiB;
	ret = ash_fill(c->ctx, b->b, 0, len, pat, &fence);
	count(OP_FILL, ret, "ash_fill");
	if (ret)
		return;
	b->written = true;
	if (!wait_job(c, fence, "fill") && b->map &&
	    (b->map[0] != pat || b->map[len / 4 - 1] != pat))
		bad_data("fill result");
}

static void do_copy(struct wctx *c, struct vc_rng *r)
{
	struct wbuf *d, *s;
	uint64_t fence, len;
	int i, j, ret;

	if (c->nbufs < 2)
		return;
	i = (int)vc_below(r, (uint64_t)c->nbufs);
	j = (i + 1 + (int)vc_below(r, (uint64_t)c->nbufs - 1)) % c->nbufs;
	d = &c->bufs[i];
	s = &c->bufs[j];
	len = d->size < s->size ? d->size : s->size;
	if (len > 1 * MiB)
		len = 1 * MiB;
	ret = ash_copy(c->ctx, d->b, 0, s->b, 0, len, &fence);
	count(OP_COPY, ret, "ash_copy");
	if (ret)
		return;
	d->written = true;
	if (!wait_job(c, fence, "copy") && d->map && s->map &&
	    memcmp(d->map, s->map, len < 4096 ? len : 4096))
		bad_data("copy result");
}

static void do_gemm(struct wctx *c)
{
	struct ash_tensor_ref rc, ra, rb;
	uint64_t fence = 0;
	int i, ret;

	if (!c->cb) {
		ret = ash_cmdbuf_create(c->ctx, &c->cb);
		if (ret) {
			count(OP_GEMM, ret, "ash_cmdbuf_create");
			c->cb = NULL;
			return;
		}
	}
	for (i = 0; i < 3; i++) {
		if (c->g[i])
			continue;
		ret = ash_alloc(c->ctx, GN * GN * 4, &c->g[i]);
		if (ret) {
			c->g[i] = NULL;
			count(OP_GEMM, ret, "GEMM operand alloc");
			return;
		}
	}
	rc = (struct ash_tensor_ref){ c->g[0], 0, ASH_DTYPE_F32, GN, GN, 0 };
	ra = (struct ash_tensor_ref){ c->g[1], 0, ASH_DTYPE_F32, GN, GN, 0 };
	rb = (struct ash_tensor_ref){ c->g[2], 0, ASH_DTYPE_F32, GN, GN, 0 };
	ret = ash_op_gemm(c->cb, &rc, &ra, &rb, 0, 1.0f, 0.0f);
	if (!ret)
		ret = ash_cmdbuf_submit(c->cb, &fence);
	count(OP_GEMM, ret, "gemm submit");
	if (ret)
		return;
	ret = ash_cmdbuf_wait(c->cb, 120LL * 1000000000LL);
	count(OP_WAIT, ret, "gemm");
	__atomic_add_fetch(ret ? &st->jobs_bad : &st->jobs_ok, 1, __ATOMIC_RELAXED);
}

static void do_burst(struct wctx *c, struct vc_rng *r)
{
	struct wbuf *b;
	uint64_t fence, last = 0;
	int i, ret;

	if (!c->nbufs)
		return;
	b = &c->bufs[vc_below(r, (uint64_t)c->nbufs)];
	for (i = 0; i < BURST; i++) {
		/* buffers are at least 4 KiB */
		ret = ash_fill(c->ctx, b->b, 0, 4096, (uint32_t)i, &fence);
		count(OP_BURST, ret, "ash_fill");
		if (ret)
			break;
		last = fence;
	}
	b->written = true;
	if (last)
		wait_job(c, last, "burst");
}

static void do_stat(struct wctx *c)
{
	struct ash_partition_stat ps;
	int ret = ash_partition_stat(c->ctx, &ps);

	count(OP_STAT, ret, "ash_partition_stat");
	if (!ret && ps.mem_used > ps.mem_max)
		bad_data("partition mem_used over mem_max (tenant's view)");
}

static void *worker_thread(void *arg)
{
	struct wthread *wt = arg;
	struct worker *w = wt->w;
	struct vc_rng *r = &wt->rng;
	struct wctx *c;
	int i, k;

	while (!vt_flag_get(&st->stop) && vx_now_ns() < w->end_ns) {
		/* this thread's contexts: index % nthreads == t */
		i = (int)vc_below(r, (uint64_t)w->nctx);
		i -= i % w->nthreads;
		i += wt->t;
		if (i >= w->nctx)
			i = wt->t;
		c = &w->ctx[i];
		if (!c->ctx) {
			ctx_open(c, pick_part(w, r));
			continue;
		}
		k = (int)vc_below(r, 100);
		if (k < 22)
			do_alloc(c, r);
		else if (k < 38)
			do_free(c, r);
		else if (k < 52)
			do_map(c, r);
		else if (k < 58)
			do_load(c, r);
		else if (k < 60) {
			if (c->nmodels) {
				ash_model_free(c->models[--c->nmodels]);
				count(OP_UNLOAD, 0, "");
			}
		} else if (k < 72)
			do_fill(c, r);
		else if (k < 82)
			do_copy(c, r);
		else if (k < 89)
			do_gemm(c);
		else if (k < 91)
			do_burst(c, r);
		else if (k < 97)
			do_stat(c);
		else if (k < 98) {
			ctx_close(c);
			ctx_open(c, pick_part(w, r));
		}
	}
	return NULL;
}

static int worker_main(struct worker *w)
{
	struct wthread wt[2];
	pthread_t tid;
	int i;

	w->nctx = (int)vc_range(&w->rng, 4, MAXCTX);
	w->nthreads = (int)vc_range(&w->rng, 1, 2);
	for (i = 0; i < w->nctx; i++)
		ctx_open(&w->ctx[i], i == 0 && may_use(w->uid, w->slot % NPART) ?
			 w->slot % NPART : pick_part(w, &w->rng));
	for (i = 0; i < w->nthreads; i++) {
		wt[i].w = w;
		wt[i].t = i;
		wt[i].rng = vc_fork(&w->rng, (uint64_t)i + 1);
	}
	if (w->nthreads == 2 && pthread_create(&tid, NULL, worker_thread, &wt[1]))
		w->nthreads = 1;
	worker_thread(&wt[0]);
	if (w->nthreads == 2)
		pthread_join(tid, NULL);
	/* Half of them clean up, the others just go. */
	if (vc_below(&w->rng, 2))
		for (i = 0; i < w->nctx; i++)
			ctx_close(&w->ctx[i]);
	fflush(stdout);
	return 0;
}

/* Fork a worker as @uid; the pid. */
static pid_t spawn(int slot, uid_t uid, struct vc_rng *r)
{
	static struct worker w;
	gid_t gid = uid == VT_ALICE ? VT_ORGA : uid == VT_BOB ? VT_ORGB : VT_ORGC;
	pid_t pid;

	memset(&w, 0, sizeof(w));
	w.uid = uid;
	w.slot = slot;
	w.rng = vc_fork(r, (uint64_t)slot);
	w.end_ns = vx_now_ns() + vc_range(r, 1000, 8000) * 1000000ULL;
	fflush(stdout);
	pid = fork();
	REQUIRE(pid >= 0, "fork: %s", vt_errname(-errno));
	if (pid)
		return pid;
	alarm(0);
	signal(SIGALRM, SIG_DFL);
	close(vt_ctl);
	vt_ctl = -1;
	if (setgroups(0, NULL) || setresgid(gid, gid, gid) ||
	    setresuid(uid, uid, uid)) {
		printf("FAIL: worker: drop to uid %d: %s\n", (int)uid,
		       vt_errname(-errno));
		_exit(1);
	}
	_exit(worker_main(&w));
}

/* --- the supervisor ------------------------------------------------------- */

static void print_summary(double secs, uint64_t started, uint64_t exited,
			  uint64_t killed, uint64_t peak_ctx, uint64_t peak_mem,
			  const struct ash_partition_info *pi0,
			  const struct ash_partition_info *pi1)
{
	uint64_t total = 0, jc = 0, jf = 0, busy = 0;
	int op, e, i;

	printf("==== soak summary (%.0f s) ====\n", secs);
	printf("processes: %llu started, %llu exited on their own, %llu SIGKILLed\n",
	       (unsigned long long)started, (unsigned long long)exited,
	       (unsigned long long)killed);
	printf("peak: %llu contexts bound at once, %llu MiB of device memory in use\n",
	       (unsigned long long)peak_ctx, (unsigned long long)(peak_mem / MiB));
	printf("operations:");
	for (op = 0; op < OP_COUNT; op++) {
		printf(" %s %llu", op_name[op], (unsigned long long)st->ops[op]);
		total += st->ops[op];
	}
	printf(" (total %llu)\n", (unsigned long long)total);
	printf("errors (expected: open -EUSERS; alloc/load/gemm -EDQUOT -ENOSPC -EMFILE; "
	       "burst -EAGAIN):\n");
	for (op = 0; op < OP_COUNT; op++)
		for (e = 1; e < NERR; e++)
			if (st->errs[op][e])
				printf("  %-12s %-10s %8llu  %s\n", op_name[op],
				       vt_errname(-e),
				       (unsigned long long)st->errs[op][e],
				       expected_err((enum op)op, -e) ? "expected" : "UNEXPECTED");
	printf("jobs waited for: %llu succeeded, %llu failed; wrong data: %llu\n",
	       (unsigned long long)st->jobs_ok, (unsigned long long)st->jobs_bad,
	       (unsigned long long)st->bad_data);
	printf("bytes: %llu MiB allocated, %llu MiB loaded from model files\n",
	       (unsigned long long)(st->bytes_alloc / MiB),
	       (unsigned long long)(st->bytes_loaded / MiB));
	printf("per partition: name weight cap_MiB jobs_completed jobs_failed busy_ms mem_used nr_buffers nr_contexts\n");
	for (i = 0; i < NPART; i++) {
		printf("  %s %5u %5llu %8llu %6llu %9llu %llu %u %u\n", pi1[i].name,
		       pi1[i].weight, (unsigned long long)(pi1[i].mem_max / MiB),
		       (unsigned long long)(pi1[i].jobs_completed - pi0[i].jobs_completed),
		       (unsigned long long)(pi1[i].jobs_failed - pi0[i].jobs_failed),
		       (unsigned long long)((pi1[i].busy_ns - pi0[i].busy_ns) / 1000000),
		       (unsigned long long)pi1[i].mem_used, pi1[i].nr_buffers,
		       pi1[i].nr_contexts);
		jc += pi1[i].jobs_completed - pi0[i].jobs_completed;
		jf += pi1[i].jobs_failed - pi0[i].jobs_failed;
		busy += pi1[i].busy_ns - pi0[i].busy_ns;
	}
	printf("kernel: %llu jobs completed, %llu failed (cancelled with their killed "
	       "or exiting submitters), %llu ms engine busy\n",
	       (unsigned long long)jc, (unsigned long long)jf,
	       (unsigned long long)(busy / 1000000));
}

int main(void)
{
	static const uid_t users[3] = { VT_ALICE, VT_BOB, VT_CAROL };
	struct ash_partition_info pi0[NPART], pi1[NPART];
	struct ash_partition_params p;
	struct ash_device_info d;
	struct vt_snap before;
	struct vc_rng rng;
	uint64_t secs, nprocs, t0, t_end, next_sample = 0, next_report;
	uint64_t started = 0, exited = 0, killed = 0, peak_ctx = 0, peak_mem = 0;
	uint64_t peak_parts = 0;
	pid_t eng, pids[MAXPROCS];
	bool was_killed[MAXPROCS];
	int i, s, status, stragglers = 0;
	long settle;

	secs = vc_env_u64("ASH_TEST_SOAK_SECONDS", 300);
	nprocs = vc_env_u64("ASH_TEST_SOAK_PROCS", 16);
	if (nprocs > MAXPROCS)
		nprocs = MAXPROCS;
	vt_init("soak", (unsigned int)secs + 240);
	rng.s = vc_seed("soak");
	st = vt_shared(sizeof(*st));
	st_data = vc_write_safetensors(ST_PATH, 4 * MiB, 4);
	gguf_data = vc_write_gguf(GGUF_PATH, 3 * MiB, 3);

	d = vt_dev();
	for (i = 0; i < NPART; i++) {
		vt_params(&p, pdefs[i].name, d.mem_capacity * 4 / pdefs[i].cap_div &
			  ~(VT_PAGE - 1));
		cap_of[i] = p.mem_max;
		p.mem_min = pdefs[i].min ? p.mem_max / 2 : 0;
		p.weight = pdefs[i].weight;
		p.max_contexts = pdefs[i].max_contexts;
		p.max_buffers = pdefs[i].max_buffers;
		if (pdefs[i].bob_group_only) {
			p.nr_gids = 1;
			p.gids[0] = VT_ORGB;
		} else {
			p.nr_uids = 3;
			p.uids[0] = VT_ALICE;
			p.uids[1] = VT_BOB;
			p.uids[2] = VT_CAROL;
		}
		REQUIRE_OK(vt_part_create(&p), "create a soak partition");
	}
	vt_snap_take(&before);
	for (i = 0; i < NPART; i++)
		pi0[i] = vt_part(pdefs[i].name);
	eng = vx_engine_start(NULL);
	printf("soak: %llu s, %llu worker processes, 8 partitions, device %llu MiB, "
	       "caps %llu..%llu MiB\n", (unsigned long long)secs,
	       (unsigned long long)nprocs, (unsigned long long)(d.mem_capacity / MiB),
	       (unsigned long long)(cap_of[0] / MiB), (unsigned long long)(cap_of[5] / MiB));

	memset(pids, 0, sizeof(pids));
	t0 = vx_now_ns();
	t_end = t0 + secs * 1000000000ULL;
	next_report = t0 + 30000000000ULL;
	for (;;) {
		uint64_t now = vx_now_ns();
		bool stopping = now >= t_end;
		int live = 0;

		if (stopping && !vt_flag_get(&st->stop))
			vt_flag_set(&st->stop, 1);
		/* reap and replace */
		for (s = 0; s < (int)nprocs; s++) {
			if (pids[s]) {
				pid_t r = waitpid(pids[s], &status, WNOHANG);

				if (r == 0) {
					live++;
					continue;
				}
				if (was_killed[s]) {
					if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) &&
					    !(WIFEXITED(status) && !WEXITSTATUS(status)))
						FAIL("worker %d (killed) ended with status %#x",
						     (int)pids[s], status);
				} else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
					FAIL("worker %d ended with status %#x", (int)pids[s],
					     status);
				} else {
					exited++;
				}
				pids[s] = 0;
			}
			if (!stopping) {
				pids[s] = spawn(s, users[(started + (uint64_t)s) % 3], &rng);
				was_killed[s] = false;
				started++;
				live++;
			}
		}
		if (stopping && !live)
			break;
		if (stopping && now > t_end + 120000000000ULL) {
			FAIL("%d workers still running 120 s after the stop", live);
			for (s = 0; s < (int)nprocs; s++)
				if (pids[s]) {
					kill(pids[s], SIGKILL);
					was_killed[s] = true;
					stragglers++;
				}
			t_end = now;	/* reap them on the next turns */
		}
		/* now and then a SIGKILL */
		if (!stopping && vc_below(&rng, 40) == 0) {
			s = (int)vc_below(&rng, nprocs);
			if (pids[s] && !was_killed[s]) {
				kill(pids[s], SIGKILL);
				was_killed[s] = true;
				killed++;
			}
		}
		/* sample: caps, peaks, the engine */
		if (now >= next_sample) {
			int busy_parts = 0;

			d = vt_dev();
			if (d.nr_contexts > peak_ctx)
				peak_ctx = d.nr_contexts;
			if (d.mem_used > peak_mem)
				peak_mem = d.mem_used;
			EXPECT_LE(d.mem_used, d.mem_capacity, "device mem_used <= capacity");
			for (i = 0; i < NPART; i++) {
				struct ash_partition_info pi = vt_part(pdefs[i].name);

				EXPECT_LE(pi.mem_used, pi.mem_max, "partition mem_used <= mem_max");
				busy_parts += pi.nr_contexts > 0;
			}
			if ((uint64_t)busy_parts > peak_parts)
				peak_parts = (uint64_t)busy_parts;
			if (!EXPECT_EQ(d.has_engine, 1, "the engine is attached") ||
			    !EXPECT_EQ(waitpid(eng, &status, WNOHANG), 0, "the engine runs"))
				break;
			next_sample = now + 500000000ULL;
		}
		if (now >= next_report) {
			uint64_t total = 0;

			for (i = 0; i < OP_COUNT; i++)
				total += st->ops[i];
			printf("soak: %llu s: %llu operations, %llu processes started, "
			       "%u contexts, %llu MiB used, peak %llu contexts on %llu "
			       "partitions\n",
			       (unsigned long long)((now - t0) / 1000000000ULL),
			       (unsigned long long)total, (unsigned long long)started,
			       d.nr_contexts, (unsigned long long)(d.mem_used / MiB),
			       (unsigned long long)peak_ctx, (unsigned long long)peak_parts);
			next_report += 30000000000ULL;
		}
		if (vt_failures > 50)
			break;
		usleep(20000);
	}
	/* After a break on failure: nobody left behind. */
	vt_flag_set(&st->stop, 1);
	for (s = 0; s < (int)nprocs; s++)
		if (pids[s]) {
			kill(pids[s], SIGKILL);
			waitpid(pids[s], NULL, 0);
			pids[s] = 0;
		}

	settle = vc_wait_settled(&before, 60000, "after every worker ended");
	for (i = 0; i < NPART; i++)
		pi1[i] = vt_part(pdefs[i].name);
	print_summary((double)(vx_now_ns() - t0) / 1e9, started, exited, killed,
		      peak_ctx, peak_mem, pi0, pi1);
	d = vt_dev();
	printf("memory returned: device mem_used %llu, contexts %u, jobs queued %llu "
	       "(%ld ms after the last worker ended); every partition mem_used 0: %s\n",
	       (unsigned long long)d.mem_used, d.nr_contexts,
	       (unsigned long long)d.jobs_queued, settle,
	       settle >= 0 ? "yes" : "NO");
	EXPECT_EQ(d.mem_used, 0, "device mem_used at the end");
	for (i = 0; i < NPART; i++) {
		EXPECT_EQ(pi1[i].mem_used, 0, "partition mem_used at the end");
		EXPECT_EQ(pi1[i].nr_buffers, 0, "partition nr_buffers at the end");
		EXPECT_EQ(pi1[i].nr_contexts, 0, "partition nr_contexts at the end");
	}
	EXPECT(peak_ctx >= 64, "peak contexts %llu, want >= 64",
	       (unsigned long long)peak_ctx);
	EXPECT_EQ(peak_parts, NPART, "partitions in use at once (peak)");
	EXPECT_EQ(st->unexpected, 0, "unexpected errors");
	EXPECT_EQ(st->bad_data, 0, "wrong data seen");
	EXPECT_EQ(st->jobs_bad, 0, "failed jobs seen by tenants");
	EXPECT_EQ(stragglers, 0, "workers that had to be killed at the end");
	EXPECT_EQ(vx_engine_stop(eng, SIGTERM), 0, "engine exit status after SIGTERM");
	printf("soak: %s\n", vt_failures ? "FAILED" : "passed");
	return vt_result();
}
