// SPDX-License-Identifier: MIT
/*
 * The audit trail: what the operator and the engines did, recorded by the
 * driver with who and when, copied and chained by accelshare-accountd:
 *  - ashctl partition create, set (values before and after) and delete,
 *    device set, an engine attaching, stopping (SIGTERM: closed) and dying
 *    (SIGKILL: died of signal 9) each leave one record of the right kind,
 *    in order, with the actor (uid 0, ashctl's or the engine's pid and
 *    command) and a time within the case's;
 *  - raw ASH_CTL_AUDIT_READ: records from a seq on, first_seq and
 *    next_seq, bad input refused;
 *  - accountd --once copies them; ashctl audit lists them, ashctl audit
 *    verify finds the chain intact, twice (a second copy adds only what
 *    is new).
 */
#include "vtexec.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define DB		"/tmp/audit.db"
#define ACCOUNTD	"/usr/bin/accelshare-accountd"

static char out[262144];
static char objs[256][1024];

static uint64_t real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int ashctl(const char *args)
{
	return vt_sh(out, sizeof(out), VT_ASHCTL " %s 2>&1", args);
}

/* The driver's records from @from on, into @recs: their number. */
static int audit_read(uint64_t from, struct ash_audit_record *recs, int max,
		      struct ash_audit_read *r)
{
	memset(r, 0, sizeof(*r));
	r->from_seq = from;
	r->nr_records = (uint32_t)max;
	r->records = (uintptr_t)recs;
	REQUIRE_OK(vt_ioctl(vt_ctl, ASH_CTL_AUDIT_READ, r), "AUDIT_READ");
	return (int)r->nr_records;
}

static const struct ash_audit_record *find(const struct ash_audit_record *recs,
					   int n, uint32_t kind, int nth)
{
	int i;

	for (i = 0; i < n; i++)
		if (recs[i].kind == kind && !nth--)
			return &recs[i];
	return NULL;
}

static void bad_input(void)
{
	struct ash_audit_record rec;
	struct ash_audit_read r;

	memset(&r, 0, sizeof(r));
	r.flags = 1;
	EXPECT_ERR(vt_ioctl(vt_ctl, ASH_CTL_AUDIT_READ, &r), -EINVAL, "AUDIT_READ flags 1");
	memset(&r, 0, sizeof(r));
	r.reserved[1] = 1;
	EXPECT_ERR(vt_ioctl(vt_ctl, ASH_CTL_AUDIT_READ, &r), -EINVAL, "AUDIT_READ reserved[1]");
	memset(&r, 0, sizeof(r));
	r.nr_records = ASH_AUDIT_READ_MAX + 1;
	EXPECT_ERR(vt_ioctl(vt_ctl, ASH_CTL_AUDIT_READ, &r), -EINVAL,
		   "AUDIT_READ more than ASH_AUDIT_READ_MAX");
	memset(&r, 0, sizeof(r));
	r.from_seq = 1;
	r.nr_records = 1;
	r.records = 1;
	EXPECT_ERR(vt_ioctl(vt_ctl, ASH_CTL_AUDIT_READ, &r), -EFAULT,
		   "AUDIT_READ records at address 1");
	memset(&r, 0, sizeof(r));
	r.from_seq = UINT64_MAX;
	r.nr_records = 1;
	r.records = (uintptr_t)&rec;
	EXPECT_OK(vt_ioctl(vt_ctl, ASH_CTL_AUDIT_READ, &r), "AUDIT_READ from the end");
	EXPECT_EQ(r.nr_records, 0, "AUDIT_READ past the last record");
}

int main(void)
{
	static struct ash_audit_record recs[ASH_AUDIT_READ_MAX];
	const struct ash_audit_record *c, *s, *d, *ds, *a, *x, *k;
	uint64_t t0, t1, from, v = 0;
	struct ash_audit_read r;
	pid_t eng;
	int n, i, rows;
	char ev[64];

	vt_init("audit_trail", 180);
	if (access(ACCOUNTD, X_OK)) {
		printf("SKIP: %s is not in the VM image\n", ACCOUNTD);
		return VT_SKIP;
	}
	audit_read(1, recs, 1, &r);
	from = r.next_seq;
	EXPECT(r.first_seq >= 1 && r.first_seq <= r.next_seq,
	       "AUDIT_READ first_seq %llu, next_seq %llu",
	       (unsigned long long)r.first_seq, (unsigned long long)r.next_seq);
	t0 = real_ns();

	EXPECT_EQ(ashctl("partition create aud --mem 8M --uid alice"), 0,
		  "ashctl partition create");
	EXPECT_EQ(ashctl("partition set aud --mem 16M --weight 300"), 0,
		  "ashctl partition set");
	EXPECT_EQ(ashctl("device set 0 --slice-us 700"), 0, "ashctl device set");
	eng = vx_engine_start("1");
	EXPECT_EQ(vx_engine_stop(eng, SIGTERM), 0, "engine stopped by SIGTERM");
	eng = vx_engine_start("1");
	EXPECT_EQ(vx_engine_stop(eng, SIGKILL), 128 + SIGKILL, "engine killed");
	EXPECT_EQ(ashctl("partition delete aud"), 0, "ashctl partition delete");
	t1 = real_ns();

	n = audit_read(from, recs, ASH_AUDIT_READ_MAX, &r);
	EXPECT_EQ(n, 8, "records made by the case");
	for (i = 0; i < n; i++) {
		EXPECT_EQ(recs[i].seq, from + (uint64_t)i, "records in seq order");
		EXPECT(recs[i].time_ns >= t0 && recs[i].time_ns <= t1,
		       "record %llu's time outside the case",
		       (unsigned long long)recs[i].seq);
		EXPECT_EQ(recs[i].uid, 0, "the actor's uid");
		EXPECT(recs[i].pid > 0, "record %llu has no actor pid",
		       (unsigned long long)recs[i].seq);
	}
	c = find(recs, n, ASH_AUDIT_PART_CREATE, 0);
	s = find(recs, n, ASH_AUDIT_PART_SET, 0);
	ds = find(recs, n, ASH_AUDIT_DEVICE_SET, 0);
	a = find(recs, n, ASH_AUDIT_ENGINE_ATTACH, 0);
	x = find(recs, n, ASH_AUDIT_ENGINE_DETACH, 0);
	k = find(recs, n, ASH_AUDIT_ENGINE_DETACH, 1);
	d = find(recs, n, ASH_AUDIT_PART_DELETE, 0);
	if (EXPECT(c && s && ds && a && x && k && d, "a kind of record is missing")) {
		EXPECT(c < s && s < ds && ds < a && a < x && x < k && k < d,
		       "records out of order");
		EXPECT(!strcmp(c->comm, "ashctl") && !strcmp(c->name, "aud") &&
		       c->new_val[0] == 8 * MiB && c->new_val[2] == 100 &&
		       c->new_val[3] == 1, "PART_CREATE record: %s %s %llu %llu %llu",
		       c->comm, c->name, (unsigned long long)c->new_val[0],
		       (unsigned long long)c->new_val[2],
		       (unsigned long long)c->new_val[3]);
		EXPECT(s->old_val[0] == 8 * MiB && s->new_val[0] == 16 * MiB &&
		       s->old_val[2] == 100 && s->new_val[2] == 300 &&
		       s->new_val[3] == (ASH_PART_SET_MEM_MAX | ASH_PART_SET_WEIGHT),
		       "PART_SET record: mem %llu -> %llu, weight %llu -> %llu, flags %llu",
		       (unsigned long long)s->old_val[0], (unsigned long long)s->new_val[0],
		       (unsigned long long)s->old_val[2], (unsigned long long)s->new_val[2],
		       (unsigned long long)s->new_val[3]);
		EXPECT(ds->new_val[0] == 700 && !strcmp(ds->name, "host"),
		       "DEVICE_SET record: slice %llu of %s",
		       (unsigned long long)ds->new_val[0], ds->name);
		EXPECT(!strcmp(a->comm, "accelshare-engi") &&
		       a->new_val[0] == (uint64_t)a->pid,
		       "ENGINE_ATTACH record: comm %s, engine pid %llu, actor %d", a->comm,
		       (unsigned long long)a->new_val[0], a->pid);
		EXPECT(x->new_val[0] == ASH_AUDIT_DETACH_CLOSED,
		       "ENGINE_DETACH after SIGTERM: reason %llu",
		       (unsigned long long)x->new_val[0]);
		EXPECT(k->new_val[0] == ASH_AUDIT_DETACH_KILLED &&
		       k->new_val[1] == SIGKILL,
		       "ENGINE_DETACH after SIGKILL: reason %llu, signal %llu",
		       (unsigned long long)k->new_val[0],
		       (unsigned long long)k->new_val[1]);
		EXPECT(d->old_val[0] == 16 * MiB && d->old_val[2] == 300,
		       "PART_DELETE record: was mem %llu, weight %llu",
		       (unsigned long long)d->old_val[0],
		       (unsigned long long)d->old_val[2]);
	}
	EXPECT_EQ(ashctl("device set 0 --slice-us 2000"), 0, "ashctl device set back");
	bad_input();

	/* Copied into the ledger, listed, verified; copied again: only the
	 * new ones. */
	EXPECT_EQ(vt_sh(NULL, 0, ACCOUNTD " --once --db " DB), 0, "accountd --once");
	EXPECT_EQ(vt_sh(out, sizeof(out), VT_ASHCTL " audit --db " DB " --json"), 0,
		  "ashctl audit --json");
	rows = vt_json_objects(out, objs, 256);
	EXPECT(rows >= 8, "ashctl audit --json: %d rows", rows);
	for (i = 0; i < rows && i < 256; i++)
		if (vt_json_u64(objs[i], "seq", &v) && v == s->seq)
			EXPECT(vt_json_str(objs[i], "event", ev, sizeof(ev)) &&
			       !strcmp(ev, "partition-set") &&
			       vt_json_str(objs[i], "comm", ev, sizeof(ev)) &&
			       !strcmp(ev, "ashctl"),
			       "ashctl audit --json row of the set: %s", objs[i]);
	EXPECT_EQ(vt_sh(out, sizeof(out), VT_ASHCTL " audit --db " DB), 0, "ashctl audit");
	EXPECT(strstr(out, "partition-create") && strstr(out, "died of signal 9") &&
	       strstr(out, "mem 8.0 MiB -> 16.0 MiB; weight 100 -> 300") &&
	       strstr(out, "uid 0 pid"), "ashctl audit table: %s", out);
	EXPECT_EQ(vt_sh(out, sizeof(out), VT_ASHCTL " audit verify --db " DB), 0,
		  "ashctl audit verify");
	EXPECT(strstr(out, "chain intact"), "ashctl audit verify: %s", out);
	EXPECT_EQ(ashctl("partition create aud2 --mem 4M"), 0, "create aud2");
	EXPECT_EQ(ashctl("partition delete aud2"), 0, "delete aud2");
	EXPECT_EQ(vt_sh(NULL, 0, ACCOUNTD " --once --db " DB), 0, "accountd --once again");
	EXPECT_EQ(vt_sh(out, sizeof(out), VT_ASHCTL " audit --db " DB " --json"), 0,
		  "ashctl audit --json again");
	EXPECT_EQ(vt_json_objects(out, objs, 256), rows + 2,
		  "rows after copying two more records");
	EXPECT_EQ(vt_sh(out, sizeof(out), VT_ASHCTL " audit verify --db " DB), 0,
		  "ashctl audit verify again");
	printf("%d audit records in the ledger, chain intact\n", rows + 2);
	return vt_result();
}
