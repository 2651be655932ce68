// SPDX-License-Identifier: MIT
/*
 * Invariant 4: when a process dies, everything it held is uncharged and
 * freed, and every counter returns to its prior value.
 *
 * Three times: an alice process with two contexts holds buffers (some
 * mapped, one freed but still mapped, one plain) while a thread of it keeps
 * allocating and freeing; it is killed with SIGKILL.  After reaping it, the
 * device and every partition read exactly as before it started, and the
 * context list no longer shows its pid.  Also: ash_close() alone frees
 * everything a context held, mapped buffers included.
 */
#include "vmtest.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define PART		"death"
#define CAP		(32 * MiB)
#define ROUNDS		3

struct shared {
	int ready;	/* the victim holds everything (round number) */
	int churns;	/* its thread's alloc/free cycles */
};

static struct shared *sh;
static int churn_fd;

static void *churn(void *arg)
{
	uint32_t h;

	(void)arg;
	for (;;) {
		if (!vt_buf_alloc(churn_fd, 64 * KiB, &h, NULL))
			vt_buf_free(churn_fd, h);
		__atomic_add_fetch(&sh->churns, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static int victim(void *arg)
{
	int round = (int)(intptr_t)arg;
	uint32_t h[6], h2;
	uint64_t off[6], off2;
	pthread_t tid;
	void *p;
	int fd, fd2, i;

	fd = vt_tenant_open(PART);
	fd2 = vt_tenant_open(PART);
	REQUIRE(fd >= 0 && fd2 >= 0, "alice bind " PART " twice: got %s, %s",
		vt_errname(fd < 0 ? fd : 0), vt_errname(fd2 < 0 ? fd2 : 0));
	for (i = 0; i < 6; i++)
		REQUIRE_OK(vt_buf_alloc(fd, 1 * MiB, &h[i], &off[i]), "alloc 1 MiB");
	for (i = 0; i < 3; i++) {
		p = vt_buf_map(fd, off[i], 1 * MiB);
		REQUIRE(p, "mmap 1 MiB: %s", vt_errname(-errno));
		vt_fill(p, 1 * MiB, 0xA5);
	}
	EXPECT_OK(vt_buf_free(fd, h[0]), "free a mapped buffer (freed but mapped)");
	EXPECT_OK(vt_buf_free(fd, h[5]), "free an unmapped buffer");
	REQUIRE_OK(vt_buf_alloc(fd2, 3 * VT_PAGE, &h2, &off2), "alloc in context 2");
	p = vt_buf_map(fd2, off2, 3 * VT_PAGE);
	REQUIRE(p, "mmap in context 2: %s", vt_errname(-errno));

	churn_fd = fd2;
	REQUIRE(!pthread_create(&tid, NULL, churn, NULL), "pthread_create");
	vt_flag_set(&sh->ready, round);
	for (;;)
		pause();	/* until SIGKILL */
	return 0;
}

static int close_frees_all(void *arg)
{
	struct ash_partition_stat st;
	struct ash_ctx *ctx, *watch;
	struct ash_buf *b;
	void *p;
	int i, ret;

	(void)arg;
	REQUIRE_OK(ash_open(PART, &watch), "alice ash_open " PART " (watcher)");
	REQUIRE_OK(ash_open(PART, &ctx), "alice ash_open " PART);
	for (i = 0; i < 8; i++) {
		ret = ash_alloc(ctx, 256 * KiB, &b);
		if (!EXPECT_OK(ret, "ash_alloc 256 KiB"))
			break;
		if (i % 2 == 0) {
			ret = ash_map(b, &p);
			if (EXPECT_OK(ret, "ash_map"))
				vt_fill(p, 256 * KiB, 0xA5);
		}
	}
	EXPECT_OK(ash_partition_stat(watch, &st), "ash_partition_stat");
	EXPECT_EQ(st.mem_used, 8 * 256 * KiB, "mem_used before ash_close");
	EXPECT_EQ(st.nr_contexts, 2, "nr_contexts before ash_close");
	ash_close(ctx);		/* buffers never freed one by one */
	EXPECT_OK(ash_partition_stat(watch, &st), "ash_partition_stat");
	EXPECT_EQ(st.mem_used, 0, "mem_used after ash_close");
	EXPECT_EQ(st.nr_buffers, 0, "nr_buffers after ash_close");
	EXPECT_EQ(st.nr_contexts, 1, "nr_contexts after ash_close (watcher only)");
	ash_close(watch);
	return 0;
}

int main(void)
{
	struct ash_context_info ctx[16];
	struct ash_partition_info pi;
	struct vt_snap before;
	pid_t pid;
	int round, n, i, mine;

	vt_init("process_death_cleanup", 120);
	sh = vt_shared(sizeof(*sh));
	vt_part_new(PART, CAP, 0, VT_ALICE, (gid_t)-1);
	/* A bystander partition whose counters must not move either. */
	vt_part_new("bystander", 4 * MiB, 1 * MiB, VT_BOB, (gid_t)-1);
	vt_snap_take(&before);

	for (round = 1; round <= ROUNDS; round++) {
		pid = vt_spawn_as(VT_ALICE, VT_ORGA, NULL, 0, victim,
				  (void *)(intptr_t)round);
		if (!vt_flag_wait(&sh->ready, round, 30000)) {
			FAIL("round %d: victim not ready in 30 s", round);
			kill(pid, SIGKILL);
			vt_wait(pid);
			break;
		}
		pi = vt_part(PART);
		EXPECT_EQ(pi.nr_contexts, 2, "victim's contexts before the kill");
		EXPECT(pi.mem_used >= 4 * MiB + 3 * VT_PAGE,
		       "round %d: mem_used before the kill: expected >= %llu, got %llu",
		       round, 4 * MiB + 3 * VT_PAGE, (unsigned long long)pi.mem_used);
		n = vt_ctx_list(ctx, 16);
		for (i = 0, mine = 0; i < n && i < 16; i++)
			mine += ctx[i].pid == pid;
		EXPECT_EQ(mine, 2, "CTX_INFO entries with the victim's pid");

		usleep(20000 * round);	/* let the churn thread run a while */
		kill(pid, SIGKILL);
		EXPECT_EQ(vt_wait(pid), 128 + SIGKILL, "victim's end (128 + SIGKILL)");

		if (!vt_snap_expect_same(&before, "after SIGKILL and reap"))
			printf("  (round %d, churn cycles so far %d)\n", round,
			       vt_flag_get(&sh->churns));
		n = vt_ctx_list(ctx, 16);
		for (i = 0; i < n && i < 16; i++)
			EXPECT(ctx[i].pid != pid,
			       "CTX_INFO still lists the dead pid %d", (int)pid);
		EXPECT_EQ(n, 0, "bound contexts after the kill");
	}
	EXPECT(vt_flag_get(&sh->churns) > 0, "the churn thread never ran");

	EXPECT_EQ(vt_run_as(VT_ALICE, VT_ORGA, close_frees_all, NULL), 0,
		  "ash_close tenant exit status");
	vt_snap_expect_same(&before, "after ash_close");

	EXPECT_OK(vt_part_delete(PART), "delete " PART);
	EXPECT_OK(vt_part_delete("bystander"), "delete bystander");
	return vt_result();
}
