// SPDX-License-Identifier: MIT
/*
 * Reclaim with notice, with raw ioctls on the tenant side:
 *  - a tenant blocked in poll(2) wakes with POLLPRI when the operator
 *    lowers its partition's cap below its use (ashctl partition set --mem
 *    --deadline --then kill); ASH_IOC_RECLAIM_QUERY says how much (the
 *    excess, exactly), by when (the deadline, within the clock's reading
 *    around the command) and what then (kill); it gives that much back
 *    and the query says 0, POLLPRI gone; past the deadline it is alive
 *    and keeps the rest;
 *  - two tenants that ignore the notice: at the deadline the one holding
 *    the most is killed (SIGKILL) and the other, whose memory is not
 *    needed to cover the excess, lives; nothing is taken before the
 *    deadline;
 *  - --then none: past the deadline the tenant lives, over its cap, its
 *    allocations -EDQUOT and POLLPRI still set; raising the cap ends it;
 *  - a cap lowered without --deadline notifies with no deadline;
 *  - the kill is in the audit trail, by the driver, with the pid, what it
 *    held and the excess.
 */
#include "vtexec.h"

#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#define PART	"rcl"

struct shared {
	int ready[3];
	int notified;
	int gave_back;
	int done;
	uint64_t bytes, deadline_ns, seq;
	uint32_t action;
	uint64_t bytes_after;
	int pri_after;
};

static struct shared *sh;
static char out[4096];

static long reclaim_query(int fd, struct ash_reclaim *r)
{
	memset(r, 0, sizeof(*r));
	return vt_ioctl(fd, ASH_IOC_RECLAIM_QUERY, r);
}

static bool pollpri(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLPRI };

	return poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLPRI);
}

/* Holds 4 x 8 MiB, waits for the notice, gives back what is asked. */
static int cooperative(void *arg)
{
	struct ash_reclaim r;
	uint32_t h[4];
	int fd, i;

	(void)arg;
	fd = vt_tenant_open(PART);
	REQUIRE(fd >= 0, "bind: %s", vt_errname(fd));
	for (i = 0; i < 4; i++)
		REQUIRE_OK(vt_buf_alloc(fd, 8 * MiB, &h[i], NULL), "alloc 8 MiB");
	EXPECT(!pollpri(fd, 0), "POLLPRI before any reclaim");
	vt_flag_set(&sh->ready[0], 1);
	/* Blocked here when the cap is lowered. */
	REQUIRE(pollpri(fd, 60000), "no POLLPRI within 60 s of the notice");
	REQUIRE_OK(reclaim_query(fd, &r), "RECLAIM_QUERY");
	sh->bytes = r.bytes;
	sh->deadline_ns = r.deadline_ns;
	sh->action = r.action;
	sh->seq = r.seq;
	vt_flag_set(&sh->notified, 1);
	/* Give back what is asked: whole buffers, enough of them. */
	for (i = 3; i >= 0 && r.bytes; i--) {
		REQUIRE_OK(vt_buf_free(fd, h[i]), "free");
		REQUIRE_OK(reclaim_query(fd, &r), "RECLAIM_QUERY after a free");
	}
	sh->bytes_after = r.bytes;
	sh->pri_after = pollpri(fd, 0);
	vt_flag_set(&sh->gave_back, 1);
	REQUIRE(vt_flag_wait(&sh->done, 1, 60000), "the case never finished");
	close(fd);
	return vt_result();
}

/* Holds @arg MiB and ignores every notice. */
static int stubborn(void *arg)
{
	uint64_t mib = (uintptr_t)arg;
	int fd, slot = mib > 8 ? 1 : 2;
	uint32_t h;

	fd = vt_tenant_open(PART);
	REQUIRE(fd >= 0, "bind: %s", vt_errname(fd));
	REQUIRE_OK(vt_buf_alloc(fd, mib * MiB, &h, NULL), "alloc");
	vt_flag_set(&sh->ready[slot], 1);
	REQUIRE(vt_flag_wait(&sh->done, 1, 120000), "the case never finished");
	close(fd);
	return vt_result();
}

static void set_cap(const char *args)
{
	int st = vt_sh(out, sizeof(out), VT_ASHCTL " partition set " PART " %s 2>&1",
		       args);

	EXPECT_EQ(st, 0, "ashctl partition set");
	printf("ashctl partition set %s %s: %s", PART, args, out);
}

/* The driver's audit trail has the kill, by the driver itself. */
static void expect_kill_audited(pid_t victim)
{
	static struct ash_audit_record recs[ASH_AUDIT_READ_MAX];
	struct ash_audit_read rd = { .from_seq = 1,
				     .nr_records = ASH_AUDIT_READ_MAX,
				     .records = (uintptr_t)recs };
	bool found = false;
	uint32_t i;

	REQUIRE_OK(vt_ioctl(vt_ctl, ASH_CTL_AUDIT_READ, &rd), "AUDIT_READ");
	for (i = 0; i < rd.nr_records; i++)
		if (recs[i].kind == ASH_AUDIT_RECLAIM_KILL &&
		    recs[i].new_val[0] == (uint64_t)victim) {
			found = true;
			EXPECT(!recs[i].pid && !strcmp(recs[i].comm, "accelshare") &&
			       !strcmp(recs[i].name, PART) &&
			       recs[i].new_val[1] == 32 * MiB &&
			       recs[i].new_val[2] == 12 * MiB,
			       "RECLAIM_KILL record: by pid %d %s, of %s, %llu bytes, %llu over",
			       recs[i].pid, recs[i].comm, recs[i].name,
			       (unsigned long long)recs[i].new_val[1],
			       (unsigned long long)recs[i].new_val[2]);
		}
	EXPECT(found, "no RECLAIM_KILL audit record of pid %d", (int)victim);
}

static bool alive(pid_t pid)
{
	return kill(pid, 0) == 0;
}

int main(void)
{
	uint64_t t0, t1;
	struct ash_reclaim r;
	pid_t a, big, small;
	int fd;

	vt_init("reclaim_notice", 180);
	sh = vt_shared(sizeof(*sh));
	vt_part_new(PART, 64 * MiB, 0, VT_ALICE, (gid_t)-1);

	/* 1. A tenant that gives back in time lives. */
	a = vt_spawn_as(VT_ALICE, VT_ORGA, NULL, 0, cooperative, NULL);
	REQUIRE(vt_flag_wait(&sh->ready[0], 1, 60000), "the tenant never allocated");
	usleep(200 * 1000);	/* into its poll */
	t0 = vx_now_ns();
	set_cap("--mem 16M --deadline 2 --then kill");
	t1 = vx_now_ns();
	EXPECT(strstr(out, "within 2 s, then the largest holders are killed"),
	       "ashctl's notice line: %s", out);
	REQUIRE(vt_flag_wait(&sh->notified, 1, 60000), "the tenant was not notified");
	EXPECT_EQ(sh->bytes, 16 * MiB, "RECLAIM_QUERY bytes: the excess");
	EXPECT(sh->deadline_ns >= t0 + 2000000000ULL &&
	       sh->deadline_ns <= t1 + 2000000000ULL,
	       "RECLAIM_QUERY deadline %" PRIu64 " not 2 s after the command (%" PRIu64
	       "..%" PRIu64 ")", sh->deadline_ns, t0, t1);
	EXPECT_EQ(sh->action, ASH_RECLAIM_KILL, "RECLAIM_QUERY action");
	EXPECT_EQ(sh->seq, 1, "RECLAIM_QUERY seq of the first reclaim");
	REQUIRE(vt_flag_wait(&sh->gave_back, 1, 60000), "the tenant never gave back");
	EXPECT_EQ(sh->bytes_after, 0, "RECLAIM_QUERY bytes after giving back");
	EXPECT(!sh->pri_after, "POLLPRI after giving back");
	usleep(2500 * 1000);	/* past the deadline */
	EXPECT(alive(a), "the tenant that gave back was killed");
	EXPECT_EQ(vt_part(PART).mem_used, 16 * MiB, "memory kept past the deadline");
	vt_flag_set(&sh->done, 1);
	EXPECT_EQ(vt_wait(a), 0, "the cooperative tenant's exit status");

	/* 2. Two that ignore it: the largest holder is killed, at the
	 * deadline and not before. */
	set_cap("--mem 64M");
	sh->done = 0;
	big = vt_spawn_as(VT_ALICE, VT_ORGA, NULL, 0, stubborn, (void *)32);
	small = vt_spawn_as(VT_ALICE, VT_ORGA, NULL, 0, stubborn, (void *)4);
	REQUIRE(vt_flag_wait(&sh->ready[1], 1, 60000) &&
		vt_flag_wait(&sh->ready[2], 1, 60000), "the tenants never allocated");
	set_cap("--mem 24M --deadline 2 --then kill");
	usleep(1000 * 1000);
	EXPECT(alive(big) && alive(small), "a tenant was killed before the deadline");
	EXPECT_EQ(vt_part(PART).mem_used, 36 * MiB, "memory taken before the deadline");
	EXPECT_EQ(vt_wait(big), 128 + SIGKILL, "the largest holder at the deadline");
	expect_kill_audited(big);
	usleep(300 * 1000);
	EXPECT(alive(small), "the small holder was killed too");
	EXPECT_EQ(vt_part(PART).mem_used, 4 * MiB, "memory after the kill");

	/* 3. --then none: over the cap past the deadline, alive, refused. */
	set_cap("--mem 2M --deadline 1 --then none");
	EXPECT(strstr(out, "then nothing more happens"), "ashctl's notice line: %s", out);
	usleep(1500 * 1000);
	EXPECT(alive(small), "--then none killed the tenant");
	fd = vt_tenant_open(PART);
	REQUIRE(fd >= 0, "root binds: %s", vt_errname(fd));
	EXPECT_ERR(vt_buf_alloc(fd, VT_PAGE, NULL, NULL), -EDQUOT,
		   "an allocation over the cap past a --then none deadline");
	EXPECT(pollpri(fd, 0), "POLLPRI while over the cap");
	EXPECT_OK(reclaim_query(fd, &r), "RECLAIM_QUERY");
	EXPECT_EQ(r.bytes, 2 * MiB, "RECLAIM_QUERY bytes, --then none");
	EXPECT_EQ(r.action, ASH_RECLAIM_NONE, "RECLAIM_QUERY action, --then none");
	EXPECT_EQ(r.seq, 3, "RECLAIM_QUERY seq of the third reclaim");

	/* 4. Without --deadline: notice, no deadline. */
	set_cap("--mem 3M");
	EXPECT(strstr(out, "(no deadline)"), "ashctl's notice line: %s", out);
	EXPECT_OK(reclaim_query(fd, &r), "RECLAIM_QUERY");
	EXPECT(r.bytes == 1 * MiB && !r.deadline_ns && r.seq == 4,
	       "RECLAIM_QUERY without a deadline: bytes %llu, deadline %llu, seq %llu",
	       (unsigned long long)r.bytes, (unsigned long long)r.deadline_ns,
	       (unsigned long long)r.seq);
	/* Raising the cap ends it. */
	set_cap("--mem 64M");
	EXPECT(!pollpri(fd, 0), "POLLPRI after the cap was raised");
	EXPECT_OK(reclaim_query(fd, &r), "RECLAIM_QUERY");
	EXPECT_EQ(r.bytes, 0, "RECLAIM_QUERY bytes after the cap was raised");
	close(fd);
	vt_flag_set(&sh->done, 1);
	EXPECT_EQ(vt_wait(small), 0, "the small holder's exit status");
	return vt_result();
}
