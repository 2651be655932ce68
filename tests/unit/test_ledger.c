/* SPDX-License-Identifier: MIT */
/*
 * The usage ledger (runtime/accountd/ledger.c) against a simulated driver:
 * counters that only grow, partitions created and deleted (ids reused,
 * serials not), the module reloaded (a new instance, counters from zero),
 * the daemon restarted (the ledger closed and opened again).  What the
 * ledger bills must be exactly the work done after its baseline, and each
 * interval's partition rows must add up to the device's row.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "ledger.h"

#define MAX_PARTS 8
#define SEC 1000000000LL

/* The simulated driver: one device, as ASH_CTL_USAGE reports it. */
struct sim {
	uint64_t instance;
	uint64_t next_serial;
	struct ash_usage dev;
	struct ash_usage_entry parts[MAX_PARTS];
	uint32_t nr;
	/* Work done since the ledger's baseline, per partition name. */
	struct { char name[ASH_NAME_MAX]; uint64_t busy, jobs, failed, kib_s; }
		done[32];
	size_t nr_done;
	bool counting;
};

static void sim_load(struct sim *s, uint64_t instance)
{
	memset(&s->dev, 0, sizeof(s->dev));
	s->nr = 0;
	s->instance = instance;
	s->next_serial = 1;
	s->dev.instance = instance;
	s->dev.serial = s->next_serial++;
}

static uint32_t sim_create(struct sim *s, const char *name)
{
	struct ash_usage_entry *e = &s->parts[s->nr];
	uint32_t id = 1, i;

	/* The smallest free id, as the driver's xarray hands them out. */
	for (i = 0; i < s->nr; i++)
		if (s->parts[i].id >= id)
			id = s->parts[i].id + 1;
	memset(e, 0, sizeof(*e));
	e->id = id;
	e->serial = s->next_serial++;
	snprintf(e->name, sizeof(e->name), "%s", name);
	return s->nr++;
}

static void sim_delete(struct sim *s, const char *name)
{
	uint32_t i;

	for (i = 0; i < s->nr; i++)
		if (!strcmp(s->parts[i].name, name)) {
			s->parts[i] = s->parts[--s->nr];
			return;
		}
	fail_msg("no partition %s", name);
}

static uint64_t *done_of(struct sim *s, const char *name, int what)
{
	size_t i;

	for (i = 0; i < s->nr_done; i++)
		if (!strcmp(s->done[i].name, name))
			break;
	if (i == s->nr_done) {
		assert_true(s->nr_done < 32);
		memset(&s->done[i], 0, sizeof(s->done[i]));
		snprintf(s->done[i].name, sizeof(s->done[i].name), "%s", name);
		s->nr_done++;
	}
	switch (what) {
	case 0: return &s->done[i].busy;
	case 1: return &s->done[i].jobs;
	case 2: return &s->done[i].failed;
	default: return &s->done[i].kib_s;
	}
}

/* Partition @name runs @jobs jobs (@failed of them fail) for @busy ns and
 * holds @kib_s KiB-seconds of memory, @mem bytes at the end. */
static void sim_work(struct sim *s, const char *name, uint64_t busy,
		     uint64_t jobs, uint64_t failed, uint64_t kib_s,
		     uint64_t mem)
{
	struct ash_usage_entry *e = NULL;
	uint32_t i;

	for (i = 0; i < s->nr; i++)
		if (!strcmp(s->parts[i].name, name))
			e = &s->parts[i];
	assert_non_null(e);
	s->dev.mem_used += mem - e->mem_used;
	e->busy_ns += busy;
	e->jobs_completed += jobs;
	e->jobs_failed += failed;
	e->mem_kib_seconds += kib_s;
	e->mem_used = mem;
	s->dev.busy_ns += busy;
	s->dev.jobs_completed += jobs;
	s->dev.jobs_failed += failed;
	s->dev.mem_kib_seconds += kib_s;
	if (!s->counting)
		return;
	*done_of(s, name, 0) += busy;
	*done_of(s, name, 1) += jobs;
	*done_of(s, name, 2) += failed;
	*done_of(s, name, 3) += kib_s;
}

static struct ledger_device sim_read(struct sim *s)
{
	struct ledger_device d = { .u = s->dev, .parts = s->parts };

	d.u.nr_entries = s->nr;
	return d;
}

struct fixture {
	char path[64];
	struct ledger *l;
	struct sim sim;
};

static void open_ledger(struct fixture *f)
{
	char err[LEDGER_ERR_MAX];

	assert_int_equal(ledger_open(f->path, true, &f->l, err, sizeof(err)), 0);
}

static void restart(struct fixture *f)
{
	ledger_close(f->l);
	open_ledger(f);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int fd;

	assert_non_null(f);
	snprintf(f->path, sizeof(f->path), "/tmp/test_ledger.XXXXXX");
	fd = mkstemp(f->path);
	assert_true(fd >= 0);
	close(fd);
	unlink(f->path);	/* the ledger creates it */
	open_ledger(f);
	sim_load(&f->sim, 0xdeadbeefcafef00dULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char p[80];

	ledger_close(f->l);
	unlink(f->path);
	snprintf(p, sizeof(p), "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->path);
	unlink(p);
	free(f);
	return 0;
}

static struct ledger_record_stats rec(struct fixture *f, int64_t t)
{
	struct ledger_device d = sim_read(&f->sim);
	struct ledger_record_stats st;
	char err[LEDGER_ERR_MAX];

	assert_int_equal(ledger_record(f->l, t, &d, 1, &st, err, sizeof(err)),
			 0);
	return st;
}

static size_t query(struct fixture *f, bool per_interval, const char *part,
		    int64_t since, int64_t until, struct ledger_row **rows)
{
	struct ledger_query q = { since, until, part, per_interval };
	char err[LEDGER_ERR_MAX];
	size_t n;

	assert_int_equal(ledger_query(f->l, &q, rows, &n, err, sizeof(err)), 0);
	return n;
}

static const struct ledger_row *row_named(const struct ledger_row *rows,
					  size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(rows[i].partition, name))
			return &rows[i];
	return NULL;
}

/*
 * Every interval: the partitions' rows add up to the device's row (engine
 * time and jobs exactly; these counters have no rounding, so memory too).
 * And the sums over the whole ledger equal the work done.
 */
static void check_books(struct fixture *f)
{
	struct ledger_row *rows;
	size_t n = query(f, true, NULL, INT64_MIN, INT64_MAX, &rows), i, j;

	for (i = 0; i < n; i++) {
		uint64_t busy = 0, jobs = 0, failed = 0, kib = 0;

		if (rows[i].partition[0])
			continue;
		for (j = 0; j < n; j++) {
			if (!rows[j].partition[0] ||
			    rows[j].end_ns != rows[i].end_ns)
				continue;
			busy += rows[j].engine_ns;
			jobs += rows[j].jobs_completed;
			failed += rows[j].jobs_failed;
			kib += rows[j].private_kib_s;
		}
		assert_int_equal(busy, rows[i].engine_ns);
		assert_int_equal(jobs, rows[i].jobs_completed);
		assert_int_equal(failed, rows[i].jobs_failed);
		assert_int_equal(kib, rows[i].private_kib_s);
	}
	free(rows);

	n = query(f, false, NULL, INT64_MIN, INT64_MAX, &rows);
	for (i = 0; i < f->sim.nr_done; i++) {
		const char *name = f->sim.done[i].name;
		uint64_t busy = 0, jobs = 0, failed = 0, kib = 0;

		/* A name's rows: under it, and their share of "(deleted)". */
		for (j = 0; j < n; j++)
			if (!strcmp(rows[j].partition, name)) {
				busy += rows[j].engine_ns;
				jobs += rows[j].jobs_completed;
				failed += rows[j].jobs_failed;
				kib += rows[j].private_kib_s;
			}
		if (row_named(rows, n, LEDGER_DELETED))
			continue;	/* checked in sum below */
		assert_int_equal(busy, f->sim.done[i].busy);
		assert_int_equal(jobs, f->sim.done[i].jobs);
		assert_int_equal(failed, f->sim.done[i].failed);
		assert_int_equal(kib, f->sim.done[i].kib_s);
	}
	{
		uint64_t busy = 0, done = 0;

		for (j = 0; j < n; j++)
			if (!rows[j].partition[0])
				busy += rows[j].engine_ns;
		for (i = 0; i < f->sim.nr_done; i++)
			done += f->sim.done[i].busy;
		assert_int_equal(busy, done);
	}
	free(rows);
}

/* The first record of a new ledger is its baseline: nothing billed. */
static void test_baseline_then_intervals(void **state)
{
	struct fixture *f = *state;
	struct ledger_record_stats st;
	struct ledger_row *rows;
	size_t n;

	sim_create(&f->sim, "acme");
	sim_create(&f->sim, "globex");
	sim_work(&f->sim, "acme", 5 * SEC, 10, 1, 1000, 4096);	/* before */
	st = rec(f, 100 * SEC);
	assert_int_equal(st.baseline, 1);
	assert_int_equal(st.rows, 0);

	f->sim.counting = true;
	sim_work(&f->sim, "acme", 2 * SEC, 3, 0, 2048, 8192);
	sim_work(&f->sim, "globex", 7 * SEC, 4, 2, 512, 1024);
	st = rec(f, 160 * SEC);
	assert_int_equal(st.baseline, 0);
	assert_int_equal(st.rows, 3);	/* device, acme, globex */

	n = query(f, true, NULL, INT64_MIN, INT64_MAX, &rows);
	assert_int_equal(n, 3);
	assert_string_equal(rows[0].partition, "");	/* the device first */
	assert_string_equal(rows[1].partition, "acme");
	assert_int_equal(rows[1].start_ns, 100 * SEC);
	assert_int_equal(rows[1].end_ns, 160 * SEC);
	assert_int_equal(rows[1].engine_ns, 2 * SEC);
	assert_int_equal(rows[1].jobs_completed, 3);
	assert_int_equal(rows[1].private_kib_s, 2048);
	assert_int_equal(rows[1].peak_bytes, 8192);
	assert_int_equal(rows[2].jobs_failed, 2);
	free(rows);
	check_books(f);
}

/* A restart between records: the next row covers the time it was down. */
static void test_restart_loses_nothing(void **state)
{
	struct fixture *f = *state;
	struct ledger_record_stats st;
	struct ledger_row *rows;
	size_t n;

	sim_create(&f->sim, "acme");
	rec(f, 10 * SEC);
	f->sim.counting = true;
	sim_work(&f->sim, "acme", 1 * SEC, 1, 0, 10, 4096);
	rec(f, 20 * SEC);
	sim_work(&f->sim, "acme", 3 * SEC, 2, 0, 30, 4096);
	restart(f);		/* the daemon was down from 20 s to 95 s */
	sim_work(&f->sim, "acme", 4 * SEC, 5, 1, 40, 4096);
	restart(f);
	st = rec(f, 95 * SEC);
	assert_int_equal(st.baseline, 0);
	assert_int_equal(st.reloaded, 0);

	n = query(f, true, "acme", INT64_MIN, INT64_MAX, &rows);
	assert_int_equal(n, 2);
	assert_int_equal(rows[1].start_ns, 20 * SEC);
	assert_int_equal(rows[1].end_ns, 95 * SEC);
	assert_int_equal(rows[1].engine_ns, 7 * SEC);
	free(rows);
	check_books(f);
}

/*
 * The module reloaded after the daemon's last record (as when it is
 * stopped for the reload): the new instance's counters start from zero,
 * partitions of the same names are new ones, nothing lost or doubled.
 */
static void test_module_reload(void **state)
{
	struct fixture *f = *state;
	struct ledger_record_stats st;
	struct ledger_row *rows;
	size_t n;

	sim_create(&f->sim, "acme");
	sim_create(&f->sim, "globex");
	rec(f, 10 * SEC);
	f->sim.counting = true;
	sim_work(&f->sim, "acme", 9 * SEC, 9, 0, 90, 1 << 20);
	sim_work(&f->sim, "globex", 1 * SEC, 1, 0, 10, 4096);
	rec(f, 20 * SEC);	/* the daemon's last interval at SIGTERM */
	restart(f);

	sim_load(&f->sim, 0x1234);	/* rmmod; insmod; partitions again */
	sim_create(&f->sim, "globex");
	sim_create(&f->sim, "acme");
	sim_work(&f->sim, "acme", 2 * SEC, 2, 1, 20, 8192);
	sim_work(&f->sim, "globex", 5 * SEC, 3, 0, 50, 4096);
	st = rec(f, 50 * SEC);
	assert_int_equal(st.reloaded, 1);
	assert_int_equal(st.reset, 0);

	n = query(f, true, "acme", INT64_MIN, INT64_MAX, &rows);
	assert_int_equal(n, 2);
	assert_int_equal(rows[1].start_ns, 20 * SEC);
	assert_int_equal(rows[1].engine_ns, 2 * SEC);
	assert_int_equal(rows[1].jobs_failed, 1);
	free(rows);

	/* And the old instance's cursors are gone: the next interval has
	 * only the new partitions' rows. */
	sim_work(&f->sim, "acme", 1 * SEC, 1, 0, 10, 8192);
	st = rec(f, 60 * SEC);
	assert_int_equal(st.rows, 3);
	check_books(f);
}

/*
 * Partitions deleted between records: what they used after the last
 * record is billed to them (the device's use less the live partitions');
 * an id reused by a new partition starts from zero.
 */
static void test_deleted_partitions(void **state)
{
	struct fixture *f = *state;
	struct ledger_row *rows;
	const struct ledger_row *r;
	size_t n;

	sim_create(&f->sim, "acme");
	sim_create(&f->sim, "globex");
	rec(f, 10 * SEC);
	f->sim.counting = true;
	sim_work(&f->sim, "globex", 3 * SEC, 3, 0, 30, 4096);
	rec(f, 20 * SEC);
	sim_work(&f->sim, "globex", 4 * SEC, 4, 1, 40, 0);
	sim_delete(&f->sim, "globex");
	sim_create(&f->sim, "initech");	/* globex's id, a new serial */
	sim_work(&f->sim, "initech", 1 * SEC, 1, 0, 5, 4096);
	sim_work(&f->sim, "acme", 2 * SEC, 2, 0, 20, 4096);
	rec(f, 30 * SEC);

	n = query(f, true, NULL, 20 * SEC, 30 * SEC, &rows);
	assert_int_equal(n, 4);	/* device, acme, globex, initech */
	r = row_named(rows, n, "globex");
	assert_non_null(r);
	assert_int_equal(r->engine_ns, 4 * SEC);
	assert_int_equal(r->jobs_completed, 4);
	assert_int_equal(r->jobs_failed, 1);
	assert_int_equal(r->private_kib_s, 40);
	r = row_named(rows, n, "initech");
	assert_non_null(r);
	assert_int_equal(r->start_ns, 20 * SEC);
	assert_int_equal(r->engine_ns, 1 * SEC);
	free(rows);
	check_books(f);

	/* Two deleted in one interval: known only in sum. */
	sim_work(&f->sim, "acme", 1 * SEC, 1, 0, 1, 0);
	sim_work(&f->sim, "initech", 2 * SEC, 2, 0, 2, 0);
	sim_delete(&f->sim, "acme");
	sim_delete(&f->sim, "initech");
	rec(f, 40 * SEC);
	n = query(f, true, NULL, 30 * SEC, 40 * SEC, &rows);
	assert_int_equal(n, 2);
	r = row_named(rows, n, LEDGER_DELETED);
	assert_non_null(r);
	assert_int_equal(r->engine_ns, 3 * SEC);
	assert_int_equal(r->jobs_completed, 3);
	free(rows);
}

/* Peaks: the highest charge observed between records, not only at ends. */
static void test_peaks_between_records(void **state)
{
	struct fixture *f = *state;
	struct ledger_device d;
	struct ledger_row *rows;
	size_t n;

	sim_create(&f->sim, "acme");
	rec(f, 10 * SEC);
	sim_work(&f->sim, "acme", 0, 0, 0, 100, 64 << 20);
	d = sim_read(&f->sim);
	ledger_observe(f->l, &d, 1);
	sim_work(&f->sim, "acme", 0, 0, 0, 1, 4096);
	rec(f, 20 * SEC);
	sim_work(&f->sim, "acme", 0, 0, 0, 1, 8192);
	rec(f, 30 * SEC);
	n = query(f, true, "acme", INT64_MIN, INT64_MAX, &rows);
	assert_int_equal(n, 2);
	assert_int_equal(rows[0].peak_bytes, 64 << 20);
	assert_int_equal(rows[1].peak_bytes, 8192);	/* reset after a record */
	free(rows);
}

/* Sums over a range; the range takes the rows whose interval ends in it. */
static void test_query_sums_and_range(void **state)
{
	struct fixture *f = *state;
	struct ledger_row *rows;
	size_t n;
	int i;

	sim_create(&f->sim, "acme");
	sim_create(&f->sim, "globex");
	rec(f, 0);
	for (i = 1; i <= 5; i++) {
		sim_work(&f->sim, "acme", (uint64_t)i * SEC, 1, 0, 1, 4096);
		sim_work(&f->sim, "globex", SEC, 2, 0, 1, 4096);
		rec(f, i * 60 * SEC);
	}
	n = query(f, false, NULL, INT64_MIN, INT64_MAX, &rows);
	assert_int_equal(n, 3);
	assert_int_equal(rows[1].intervals, 5);
	assert_int_equal(rows[1].engine_ns, 15 * SEC);
	assert_int_equal(rows[1].start_ns, 0);
	assert_int_equal(rows[1].end_ns, 300 * SEC);
	assert_int_equal(rows[0].engine_ns, 20 * SEC);
	free(rows);
	/* (60 s, 180 s]: the intervals ending at 120 s and 180 s. */
	n = query(f, false, "acme", 60 * SEC, 180 * SEC, &rows);
	assert_int_equal(n, 1);
	assert_int_equal(rows[0].intervals, 2);
	assert_int_equal(rows[0].engine_ns, 5 * SEC);
	free(rows);
	n = query(f, false, "nobody", INT64_MIN, INT64_MAX, &rows);
	assert_int_equal(n, 0);
	free(rows);
}

/* A record that fails changes nothing; a bad file is named as such. */
static void test_errors_change_nothing(void **state)
{
	struct fixture *f = *state;
	struct ledger_device d[2];
	struct ledger_record_stats st;
	struct ledger_row *rows;
	char err[LEDGER_ERR_MAX];
	struct ledger *l;
	size_t n;
	FILE *fp;

	sim_create(&f->sim, "acme");
	rec(f, 10 * SEC);
	sim_work(&f->sim, "acme", SEC, 1, 0, 1, 4096);
	d[0] = sim_read(&f->sim);
	d[1] = d[0];
	d[1].u.instance++;
	assert_int_equal(ledger_record(f->l, 20 * SEC, d, 2, &st, err,
				       sizeof(err)), -1);
	assert_non_null(strstr(err, "two loads of the module"));
	n = query(f, true, NULL, INT64_MIN, INT64_MAX, &rows);
	assert_int_equal(n, 0);
	free(rows);
	rec(f, 30 * SEC);	/* and the interval is still whole */
	n = query(f, true, "acme", INT64_MIN, INT64_MAX, &rows);
	assert_int_equal(n, 1);
	assert_int_equal(rows[0].start_ns, 10 * SEC);
	assert_int_equal(rows[0].engine_ns, SEC);
	free(rows);

	assert_int_equal(ledger_open("/nonexistent/dir/usage.db", true, &l, err,
				     sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot open /nonexistent/dir/usage.db"));
	assert_int_equal(ledger_open("/nonexistent/usage.db", false, &l, err,
				     sizeof(err)), -1);
	fp = fopen("/tmp/test_ledger.notdb", "w");
	assert_non_null(fp);
	fputs("not a database at all, but long enough to look like a header of one", fp);
	fclose(fp);
	assert_int_equal(ledger_open("/tmp/test_ledger.notdb", false, &l, err,
				     sizeof(err)), -1);
	assert_non_null(strstr(err, "not a usage ledger"));
	unlink("/tmp/test_ledger.notdb");
}

/*
 * Random histories: work, creations, deletions, records, restarts and
 * reloads (each reload after a last record, as the daemon's stop makes
 * it); the books must balance after every record.
 */
static void test_random_histories(void **state)
{
	struct fixture *f = *state;
	static const char *names[] = { "a", "b", "c", "d", "e", "f" };
	unsigned int seed = 12345, step, k;
	int64_t t = 0;

	for (k = 0; k < 3; k++)
		sim_create(&f->sim, names[k]);
	rec(f, t);
	f->sim.counting = true;
	for (step = 0; step < 400; step++) {
		unsigned int r = (unsigned int)rand_r(&seed) % 100;
		const char *name = names[rand_r(&seed) % 6];
		bool exists = false;
		uint32_t i;

		for (i = 0; i < f->sim.nr; i++)
			exists |= !strcmp(f->sim.parts[i].name, name);
		if (r < 60 && exists) {
			sim_work(&f->sim, name, (uint64_t)rand_r(&seed) % SEC,
				 (uint64_t)rand_r(&seed) % 5, 0,
				 (uint64_t)rand_r(&seed) % 1000,
				 (uint64_t)(rand_r(&seed) % 64) << 12);
		} else if (r < 70 && !exists && f->sim.nr < MAX_PARTS) {
			sim_create(&f->sim, name);
		} else if (r < 75 && exists) {
			/* Deleted right after a record, so its rows stay
			 * under its name (one deletion per interval). */
			rec(f, t += SEC);
			sim_work(&f->sim, name, 1000, 1, 1, 1, 0);
			sim_delete(&f->sim, name);
			rec(f, t += SEC);
		} else if (r < 90) {
			rec(f, t += (int64_t)(rand_r(&seed) % 100 + 1) * SEC);
			check_books(f);
		} else if (r < 97) {
			restart(f);
		} else {
			rec(f, t += SEC);
			restart(f);
			sim_load(&f->sim, f->sim.instance * 31 + 7);
			for (k = 0; k < 3; k++)
				sim_create(&f->sim, names[k]);
		}
	}
	rec(f, t + SEC);
	check_books(f);
}

/* --- the audit trail ------------------------------------------------------ */

static struct ash_audit_record audit_rec(uint64_t seq, uint32_t kind,
					 const char *name, uint64_t was,
					 uint64_t now)
{
	struct ash_audit_record r = {
		.seq = seq, .time_ns = 1796281200ULL * SEC + seq, .kind = kind,
		.uid = 0, .pid = 4242, .device = 0,
		.old_val = { was }, .new_val = { now },
	};

	snprintf(r.comm, sizeof(r.comm), "ashctl");
	snprintf(r.name, sizeof(r.name), "%s", name);
	return r;
}

/* Five records of one instance, chained. */
static void audit_fill(struct fixture *f)
{
	struct ash_audit_record recs[5];
	char err[LEDGER_ERR_MAX];
	uint64_t next;
	int i;

	for (i = 0; i < 5; i++)
		recs[i] = audit_rec((uint64_t)i + 1, ASH_AUDIT_PART_SET, "acme",
				    64 << 20, (uint64_t)(16 + i) << 20);
	assert_int_equal(ledger_audit_next_seq(f->l, 7, &next, err, sizeof(err)), 0);
	assert_int_equal(next, 1);
	assert_int_equal(ledger_audit_append(f->l, 7, recs, 3, 0, 0, err,
					     sizeof(err)), 0);
	assert_int_equal(ledger_audit_next_seq(f->l, 7, &next, err, sizeof(err)), 0);
	assert_int_equal(next, 4);
	assert_int_equal(ledger_audit_append(f->l, 7, recs + 3, 2, 0, 0, err,
					     sizeof(err)), 0);
}

/* Runs @sql on the ledger's file behind the ledger's back. */
static void tamper(struct fixture *f, const char *sql)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void verify_says(struct fixture *f, int want, const char *needle)
{
	char err[LEDGER_ERR_MAX] = "", head[LEDGER_HASH_HEX];
	size_t n;

	assert_int_equal(ledger_audit_verify(f->l, &n, head, err, sizeof(err)),
			 want);
	if (needle && !strstr(err, needle))
		fail_msg("verify said \"%s\", not \"%s\"", err, needle);
}

static void test_audit_chain_intact(void **state)
{
	struct fixture *f = *state;
	char err[LEDGER_ERR_MAX], head[LEDGER_HASH_HEX];
	struct ledger_audit_row *rows;
	struct ash_audit_record r;
	uint64_t next;
	size_t n;

	audit_fill(f);
	assert_int_equal(ledger_audit_verify(f->l, &n, head, err, sizeof(err)), 0);
	assert_int_equal(n, 5);
	assert_int_equal(strlen(head), 64);
	/* A gap the driver reports, then a new instance from 1. */
	r = audit_rec(9000, ASH_AUDIT_ENGINE_ATTACH, "host", 0, 77);
	assert_int_equal(ledger_audit_append(f->l, 7, &r, 1, 6, 8999, err,
					     sizeof(err)), 0);
	r = audit_rec(1, ASH_AUDIT_PART_CREATE, "acme", 0, 1 << 20);
	assert_int_equal(ledger_audit_append(f->l, 8, &r, 1, 0, 0, err,
					     sizeof(err)), 0);
	assert_int_equal(ledger_audit_next_seq(f->l, 7, &next, err, sizeof(err)), 0);
	assert_int_equal(next, 9001);
	assert_int_equal(ledger_audit_next_seq(f->l, 8, &next, err, sizeof(err)), 0);
	assert_int_equal(next, 2);
	assert_int_equal(ledger_audit_rows(f->l, &rows, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 8);
	assert_int_equal(rows[5].rec.kind, LEDGER_AUDIT_LOST);
	assert_int_equal(rows[5].rec.old_val[0], 6);
	assert_int_equal(rows[5].rec.new_val[0], 8999);
	assert_string_equal(rows[0].prev, "0000000000000000000000000000000000000000000000000000000000000000");
	assert_string_equal(rows[1].prev, rows[0].hash);
	assert_string_equal(rows[6].rec.comm, "ashctl");
	assert_int_equal(rows[6].rec.pid, 4242);
	free(rows);
	/* Reopened (the daemon restarted): still intact. */
	restart(f);
	verify_says(f, 0, NULL);
}

static void test_audit_tamper_changed(void **state)
{
	struct fixture *f = *state;

	audit_fill(f);
	tamper(f, "UPDATE audit SET new0 = 1 WHERE row = 3");
	verify_says(f, 1, "row 3 (seq 3) was changed");
	/* Even with its hash recomputed by hand to another value. */
	tamper(f, "UPDATE audit SET new0 = (SELECT new0 FROM audit WHERE row = 2), hash = 'x' WHERE row = 3");
	verify_says(f, 1, "row 3 (seq 3) was changed");
}

static void test_audit_tamper_removed(void **state)
{
	struct fixture *f = *state;

	audit_fill(f);
	tamper(f, "DELETE FROM audit WHERE row = 2");
	verify_says(f, 1, "the chain breaks before row 3 (seq 3)");
}

static void test_audit_tamper_inserted(void **state)
{
	struct fixture *f = *state;

	audit_fill(f);
	/* A record slipped in as row 3, the later ones moved down, its prev
	 * that of row 2, its own hash correct: the row after it breaks. */
	tamper(f, "UPDATE audit SET row = row + 10 WHERE row >= 3;"
		  "UPDATE audit SET row = row - 9 WHERE row >= 13;"
		  "INSERT INTO audit SELECT 3, instance, 99, time_ns, kind, uid, pid,"
		  " device, comm, name, old0, old1, old2, old3, 1, new1, new2, new3,"
		  " hash, 'forged' FROM audit WHERE row = 2;");
	verify_says(f, 1, NULL);
	/* The last row dropped and the rest intact is not detectable from
	 * the ledger alone: verify's head hash is what tells it. */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_baseline_then_intervals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_loses_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_module_reload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deleted_partitions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peaks_between_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query_sums_and_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors_change_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_histories, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_chain_intact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_tamper_changed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_tamper_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit_tamper_inserted, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
