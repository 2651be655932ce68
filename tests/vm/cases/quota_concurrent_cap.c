// SPDX-License-Identifier: MIT
/*
 * Invariant 1: concurrent allocators never push a partition past its cap.
 *
 * Partition "conc" has an 8 MiB cap.  Four alice processes, four threads
 * each, all on libaccelshare, allocate 64 KiB buffers until -EDQUOT, then
 * churn at the cap (free one, allocate one) and hold what they have.  A
 * monitor thread in the parent reads the partition's mem_used over the
 * control node the whole time and never sees it above mem_max.  At the end
 * the bytes the tenants hold are <= the cap and equal the partition's
 * mem_used (and each context's mem_used); after they exit it is all back.
 */
#include "vmtest.h"

#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#define PART		"conc"
#define CAP		(8 * MiB)
#define BUFSZ		(64 * KiB)
#define NPROC		4
#define NTHREAD		4
#define CHURN		40
/* More than any one thread can hold if the cap holds. */
#define MAXHELD		((int)(CAP / BUFSZ) + 1)

struct shared {
	int opened;		/* processes with an open context */
	int start;		/* parent: go */
	int done;		/* processes holding their final buffers */
	int release;		/* parent: close and exit */
	int pid[NPROC];
	uint64_t held_bytes[NPROC];
	uint32_t held_bufs[NPROC];
	uint32_t edquot[NPROC];
};

static struct shared *sh;

struct thr {
	struct ash_ctx *ctx;
	struct ash_buf *bufs[MAXHELD];
	int n;
	int edquot;
	int fill_edquot;	/* the fill phase ended on -EDQUOT */
};

static bool hold(struct thr *t, struct ash_buf *b)
{
	if (t->n == MAXHELD) {
		vt_fail(__FILE__, __LINE__,
			"one thread holds %d x %llu bytes, more than the %llu cap",
			t->n + 1, BUFSZ, CAP);
		ash_free(b);
		return false;
	}
	t->bufs[t->n++] = b;
	return true;
}

static void *allocator(void *arg)
{
	struct thr *t = arg;
	struct ash_buf *b;
	int i, ret;

	for (;;) {
		ret = ash_alloc(t->ctx, BUFSZ, &b);
		if (ret == -EDQUOT) {
			t->edquot++;
			t->fill_edquot = 1;
			break;
		}
		if (!EXPECT_OK(ret, "ash_alloc 64 KiB below the cap") ||
		    !hold(t, b))
			return NULL;
	}
	for (i = 0; i < CHURN; i++) {
		if (t->n)
			ash_free(t->bufs[--t->n]);
		ret = ash_alloc(t->ctx, BUFSZ, &b);
		if (ret == -EDQUOT) {
			t->edquot++;
			continue;
		}
		if (!EXPECT_OK(ret, "ash_alloc 64 KiB at the cap (want 0 or -EDQUOT)") ||
		    !hold(t, b))
			return NULL;
		sched_yield();
	}
	return NULL;
}

static int tenant(void *arg)
{
	int me = (int)(intptr_t)arg;
	struct thr thr[NTHREAD];
	pthread_t tid[NTHREAD];
	struct ash_ctx *ctx;
	uint64_t bytes = 0;
	uint32_t bufs = 0, edq = 0;
	int i, j, ret;

	ret = ash_open(PART, &ctx);
	REQUIRE_OK(ret, "alice ash_open " PART);
	__atomic_add_fetch(&sh->opened, 1, __ATOMIC_ACQ_REL);
	REQUIRE(vt_flag_wait(&sh->start, 1, 30000), "no start signal in 30 s");

	memset(thr, 0, sizeof(thr));
	for (i = 0; i < NTHREAD; i++) {
		thr[i].ctx = ctx;
		REQUIRE(!pthread_create(&tid[i], NULL, allocator, &thr[i]),
			"pthread_create");
	}
	for (i = 0; i < NTHREAD; i++) {
		pthread_join(tid[i], NULL);
		EXPECT(thr[i].fill_edquot,
		       "thread %d: fill phase did not end on -EDQUOT", i);
		bytes += (uint64_t)thr[i].n * BUFSZ;
		bufs += (uint32_t)thr[i].n;
		edq += (uint32_t)thr[i].edquot;
	}
	sh->held_bytes[me] = bytes;
	sh->held_bufs[me] = bufs;
	sh->edquot[me] = edq;
	__atomic_add_fetch(&sh->done, 1, __ATOMIC_ACQ_REL);

	EXPECT(vt_flag_wait(&sh->release, 1, 60000), "no release signal in 60 s");
	for (i = 0; i < NTHREAD; i++)
		for (j = 0; j < thr[i].n; j++)
			ash_free(thr[i].bufs[j]);
	ash_close(ctx);
	return 0;
}

struct monitor {
	int stop;
	unsigned long samples;
	uint64_t max_seen;
	uint64_t bad_used, bad_max;	/* first sample over the cap */
	uint64_t dev_bad_used;
	long err;
};

static void *monitor(void *arg)
{
	struct monitor *m = arg;
	struct ash_partition_info pi;
	struct ash_device_info di;
	long ret;

	while (!vt_flag_get(&m->stop)) {
		ret = vt_part_info(PART, &pi);
		if (ret) {
			m->err = ret;
			break;
		}
		m->samples++;
		if (pi.mem_used > m->max_seen)
			m->max_seen = pi.mem_used;
		if (pi.mem_used > pi.mem_max && !m->bad_used) {
			m->bad_used = pi.mem_used;
			m->bad_max = pi.mem_max;
		}
		if (!vt_dev_info(vt_device, &di) && di.mem_used > di.mem_capacity)
			m->dev_bad_used = di.mem_used;
		sched_yield();
	}
	return NULL;
}

int main(void)
{
	struct ash_context_info ctx[16];
	struct ash_partition_info pi;
	struct ash_device_info di;
	struct monitor mon = { 0 };
	pthread_t mon_tid;
	pid_t pid[NPROC];
	uint64_t bytes = 0;
	uint32_t bufs = 0, edq = 0;
	int i, j, n;

	vt_init("quota_concurrent_cap", 120);
	sh = vt_shared(sizeof(*sh));
	vt_part_new(PART, CAP, 0, VT_ALICE, (gid_t)-1);

	for (i = 0; i < NPROC; i++) {
		pid[i] = vt_spawn_as(VT_ALICE, VT_ORGA, NULL, 0, tenant,
				     (void *)(intptr_t)i);
		sh->pid[i] = pid[i];
	}
	REQUIRE(vt_flag_wait(&sh->opened, NPROC, 30000),
		"%d of %d tenants opened " PART " in 30 s",
		vt_flag_get(&sh->opened), NPROC);
	REQUIRE(!pthread_create(&mon_tid, NULL, monitor, &mon),
		"pthread_create monitor");
	vt_flag_set(&sh->start, 1);
	EXPECT(vt_flag_wait(&sh->done, NPROC, 90000),
	       "%d of %d tenants finished allocating in 90 s",
	       vt_flag_get(&sh->done), NPROC);
	vt_flag_set(&mon.stop, 1);
	pthread_join(mon_tid, NULL);

	EXPECT_OK(mon.err, "monitor PART_INFO " PART);
	EXPECT(mon.bad_used == 0,
	       "monitor saw mem_used %llu > mem_max %llu",
	       (unsigned long long)mon.bad_used,
	       (unsigned long long)mon.bad_max);
	EXPECT(mon.dev_bad_used == 0,
	       "monitor saw device mem_used %llu > capacity",
	       (unsigned long long)mon.dev_bad_used);
	EXPECT_LE(mon.max_seen, CAP, "highest mem_used the monitor saw");
	EXPECT(mon.samples > 0, "monitor took no sample");

	for (i = 0; i < NPROC; i++) {
		bytes += sh->held_bytes[i];
		bufs += sh->held_bufs[i];
		edq += sh->edquot[i];
	}
	pi = vt_part(PART);
	di = vt_dev();
	EXPECT_LE(bytes, CAP, "bytes all tenants hold");
	EXPECT_EQ(pi.mem_used, bytes, "partition mem_used vs bytes the tenants hold");
	EXPECT_EQ(pi.nr_buffers, bufs, "partition nr_buffers vs buffers the tenants hold");
	EXPECT_EQ(pi.nr_contexts, NPROC, "partition nr_contexts");
	EXPECT_EQ(di.mem_used, pi.mem_used, "device mem_used (one partition)");
	EXPECT(edq >= NPROC * NTHREAD, "-EDQUOT seen %u times, want >= %d",
	       edq, NPROC * NTHREAD);

	n = vt_ctx_list(ctx, 16);
	EXPECT_EQ(n, NPROC, "CTX_INFO: bound contexts");
	for (i = 0; i < NPROC; i++) {
		for (j = 0; j < n && j < 16; j++)
			if (ctx[j].pid == pid[i])
				break;
		if (!EXPECT(j < n && j < 16, "CTX_INFO lists no context of pid %d",
			    (int)pid[i]))
			continue;
		EXPECT_EQ(ctx[j].mem_used, sh->held_bytes[i],
			  "context mem_used vs bytes its process holds");
		EXPECT_EQ(ctx[j].nr_buffers, sh->held_bufs[i],
			  "context nr_buffers vs buffers its process holds");
	}

	vt_flag_set(&sh->release, 1);
	for (i = 0; i < NPROC; i++)
		EXPECT_EQ(vt_wait(pid[i]), 0, "tenant process exit status");

	pi = vt_part(PART);
	EXPECT_EQ(pi.mem_used, 0, "partition mem_used after the tenants closed");
	EXPECT_EQ(pi.nr_buffers, 0, "partition nr_buffers after the tenants closed");
	EXPECT_EQ(pi.nr_contexts, 0, "partition nr_contexts after the tenants closed");
	EXPECT_OK(vt_part_delete(PART), "delete " PART);
	EXPECT_EQ(vt_dev().mem_used, 0, "device mem_used at the end");
	return vt_result();
}
