// SPDX-License-Identifier: MIT
/*
 * The usage ledger in SQLite (ledger.h): its schema, the recording of an
 * interval from the kernel's counters, and the queries "ashctl usage"
 * makes.  Counters are unsigned 64-bit; SQLite's integers are signed, so
 * each is stored as the int64_t of the same bits (instances are random and
 * use all 64; the rest stay far below 2^63).
 */
#include "ledger.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#define LEDGER_SCHEMA 1

/* Writers wait this long for a reader (ashctl usage) in the way. */
#define LEDGER_BUSY_MS 10000

static const char ledger_schema[] =
	"CREATE TABLE IF NOT EXISTS ledger_meta("
	" key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	"INSERT OR IGNORE INTO ledger_meta VALUES('schema', 1);"
	/* One row per device (partition NULL) or partition per interval. */
	"CREATE TABLE IF NOT EXISTS usage("
	" start_ns INTEGER NOT NULL, end_ns INTEGER NOT NULL,"
	" device INTEGER NOT NULL, partition TEXT,"
	" instance INTEGER NOT NULL, serial INTEGER NOT NULL,"
	" engine_ns INTEGER NOT NULL,"
	" jobs_completed INTEGER NOT NULL, jobs_failed INTEGER NOT NULL,"
	" private_kib_s INTEGER NOT NULL, shared_kib_s INTEGER NOT NULL,"
	" peak_bytes INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS usage_by_end ON usage(end_ns);"
	/* What each counter set read at the last record, and when. */
	"CREATE TABLE IF NOT EXISTS cursor("
	" instance INTEGER NOT NULL, serial INTEGER NOT NULL,"
	" device_serial INTEGER NOT NULL, device INTEGER NOT NULL,"
	" partition TEXT, time_ns INTEGER NOT NULL,"
	" busy_ns INTEGER NOT NULL, jobs_completed INTEGER NOT NULL,"
	" jobs_failed INTEGER NOT NULL, kib_s INTEGER NOT NULL,"
	" mem_used INTEGER NOT NULL,"
	" PRIMARY KEY(instance, serial));"
	/* The audit trail, chained: each row's hash covers the one before. */
	"CREATE TABLE IF NOT EXISTS audit("
	" row INTEGER PRIMARY KEY, instance INTEGER NOT NULL,"
	" seq INTEGER NOT NULL, time_ns INTEGER NOT NULL,"
	" kind INTEGER NOT NULL, uid INTEGER NOT NULL, pid INTEGER NOT NULL,"
	" device INTEGER NOT NULL, comm TEXT NOT NULL, name TEXT NOT NULL,"
	" old0 INTEGER NOT NULL, old1 INTEGER NOT NULL,"
	" old2 INTEGER NOT NULL, old3 INTEGER NOT NULL,"
	" new0 INTEGER NOT NULL, new1 INTEGER NOT NULL,"
	" new2 INTEGER NOT NULL, new3 INTEGER NOT NULL,"
	" prev TEXT NOT NULL, hash TEXT NOT NULL);";

/* One counter set's figures, a reading or a difference of two. */
struct counts {
	uint64_t busy_ns;
	uint64_t jobs_completed;
	uint64_t jobs_failed;
	uint64_t kib_s;
};

/* A row of the cursor table, in memory during a record. */
struct cursor {
	uint64_t instance;
	uint64_t serial;
	uint64_t device_serial;
	uint32_t device;
	bool is_device;
	bool seen;
	char partition[ASH_NAME_MAX];
	int64_t time_ns;
	struct counts c;
	uint64_t mem_used;
};

/* The highest charge ledger_observe() saw of a counter set. */
struct peak {
	uint64_t instance;
	uint64_t serial;
	uint64_t bytes;
};

struct ledger {
	sqlite3 *db;
	struct peak *peaks;
	size_t nr_peaks, room_peaks;
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int db_err(struct ledger *l, const char *what, char *err,
		  size_t errlen)
{
	set_err(err, errlen, "%s: %s", what, sqlite3_errmsg(l->db));
	return -1;
}

static int exec_sql(struct ledger *l, const char *sql, const char *what,
		    char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(l->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	set_err(err, errlen, "%s: %s", what, msg ? msg : "unknown error");
	sqlite3_free(msg);
	return -1;
}

static int64_t s64(uint64_t v)
{
	return (int64_t)v;
}

static uint64_t col_u64(sqlite3_stmt *st, int col)
{
	return (uint64_t)sqlite3_column_int64(st, col);
}

static int check_schema(struct ledger *l, const char *path, char *err,
			size_t errlen)
{
	sqlite3_stmt *st;
	int version = -1;

	if (sqlite3_prepare_v2(l->db,
			       "SELECT value FROM ledger_meta WHERE key = 'schema'",
			       -1, &st, NULL) != SQLITE_OK) {
		set_err(err, errlen, "%s is not a usage ledger (%s)", path,
			sqlite3_errmsg(l->db));
		return -1;
	}
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version != LEDGER_SCHEMA) {
		set_err(err, errlen,
			"%s has ledger schema %d; this accelshare reads schema %d",
			path, version, LEDGER_SCHEMA);
		return -1;
	}
	return 0;
}

int ledger_open(const char *path, bool create, struct ledger **out,
		char *err, size_t errlen)
{
	int flags = create ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE :
			     SQLITE_OPEN_READONLY;
	struct ledger *l;

	*out = NULL;
	l = calloc(1, sizeof(*l));
	if (!l) {
		set_err(err, errlen, "cannot open %s: out of memory", path);
		return -1;
	}
	if (sqlite3_open_v2(path, &l->db, flags, NULL) != SQLITE_OK) {
		set_err(err, errlen, "cannot open %s: %s", path,
			l->db ? sqlite3_errmsg(l->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(l->db, LEDGER_BUSY_MS);
	/*
	 * WAL: "ashctl usage" reads while the daemon writes, and a record
	 * cut off by a crash is rolled back at the next open.
	 */
	if (create &&
	    (exec_sql(l, "PRAGMA journal_mode=WAL", path, err, errlen) ||
	     exec_sql(l, "PRAGMA synchronous=FULL", path, err, errlen) ||
	     exec_sql(l, ledger_schema, path, err, errlen)))
		goto fail;
	if (check_schema(l, path, err, errlen))
		goto fail;
	*out = l;
	return 0;
fail:
	sqlite3_close(l->db);
	free(l);
	return -1;
}

void ledger_close(struct ledger *l)
{
	if (!l)
		return;
	sqlite3_close(l->db);
	free(l->peaks);
	free(l);
}

static struct peak *peak_find(struct ledger *l, uint64_t instance,
			      uint64_t serial)
{
	size_t i;

	for (i = 0; i < l->nr_peaks; i++)
		if (l->peaks[i].instance == instance &&
		    l->peaks[i].serial == serial)
			return &l->peaks[i];
	return NULL;
}

/* Best effort: a peak that cannot be noted for want of memory is missed. */
static void peak_note(struct ledger *l, uint64_t instance, uint64_t serial,
		      uint64_t bytes)
{
	struct peak *p = peak_find(l, instance, serial);

	if (!p) {
		if (l->nr_peaks == l->room_peaks) {
			size_t room = l->room_peaks ? 2 * l->room_peaks : 16;
			struct peak *np = realloc(l->peaks, room * sizeof(*np));

			if (!np)
				return;
			l->peaks = np;
			l->room_peaks = room;
		}
		p = &l->peaks[l->nr_peaks++];
		*p = (struct peak){ instance, serial, 0 };
	}
	if (bytes > p->bytes)
		p->bytes = bytes;
}

void ledger_observe(struct ledger *l, const struct ledger_device *devs,
		    size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		const struct ash_usage *u = &devs[i].u;

		peak_note(l, u->instance, u->serial, u->mem_used);
		for (j = 0; j < u->nr_entries; j++)
			peak_note(l, u->instance, devs[i].parts[j].serial,
				  devs[i].parts[j].mem_used);
	}
}

/* The highest of the peak noted, @start and @now. */
static uint64_t peak_of(struct ledger *l, uint64_t instance, uint64_t serial,
			uint64_t start, uint64_t now)
{
	struct peak *p = peak_find(l, instance, serial);
	uint64_t m = start > now ? start : now;

	return p && p->bytes > m ? p->bytes : m;
}

/* --- recording --------------------------------------------------------- */

/* The state of one ledger_record(): the cursors and the statements. */
struct record {
	struct ledger *l;
	int64_t now_ns;
	uint64_t instance;
	/* Where counter sets the ledger has not seen start from. */
	bool baseline;
	int64_t start_new;
	struct cursor *cur;
	size_t nr_cur;
	sqlite3_stmt *ins_row, *put_cursor, *del_cursor;
	struct ledger_record_stats *st;
	char *err;
	size_t errlen;
};

static int load_cursors(struct record *r)
{
	sqlite3_stmt *st;
	size_t room = 0;
	int rc;

	if (sqlite3_prepare_v2(r->l->db,
			       "SELECT instance, serial, device_serial, device,"
			       " partition, time_ns, busy_ns, jobs_completed,"
			       " jobs_failed, kib_s, mem_used FROM cursor",
			       -1, &st, NULL) != SQLITE_OK)
		return db_err(r->l, "cannot read the ledger's cursors", r->err,
			      r->errlen);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *part = sqlite3_column_text(st, 4);
		struct cursor *c;

		if (r->nr_cur == room) {
			size_t nroom = room ? 2 * room : 32;
			struct cursor *n = realloc(r->cur, nroom * sizeof(*n));

			if (!n) {
				sqlite3_finalize(st);
				set_err(r->err, r->errlen,
					"cannot read the ledger's cursors: out of memory");
				return -1;
			}
			r->cur = n;
			room = nroom;
		}
		c = &r->cur[r->nr_cur++];
		memset(c, 0, sizeof(*c));
		c->instance = col_u64(st, 0);
		c->serial = col_u64(st, 1);
		c->device_serial = col_u64(st, 2);
		c->device = (uint32_t)sqlite3_column_int64(st, 3);
		c->is_device = !part;
		if (part)
			snprintf(c->partition, sizeof(c->partition), "%s",
				 (const char *)part);
		c->time_ns = sqlite3_column_int64(st, 5);
		c->c.busy_ns = col_u64(st, 6);
		c->c.jobs_completed = col_u64(st, 7);
		c->c.jobs_failed = col_u64(st, 8);
		c->c.kib_s = col_u64(st, 9);
		c->mem_used = col_u64(st, 10);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_err(r->l, "cannot read the ledger's cursors", r->err,
			      r->errlen);
	return 0;
}

static struct cursor *cursor_find(struct record *r, uint64_t serial)
{
	size_t i;

	for (i = 0; i < r->nr_cur; i++)
		if (r->cur[i].instance == r->instance &&
		    r->cur[i].serial == serial)
			return &r->cur[i];
	return NULL;
}

/*
 * Where the ledger's knowledge of @r->instance starts: the last record of
 * it; the last record of another (the module was loaded again since); or
 * nothing (an empty ledger: only a baseline is taken).
 */
static void find_start(struct record *r)
{
	bool known = false, any = false;
	int64_t known_t = 0, any_t = 0;
	size_t i;

	for (i = 0; i < r->nr_cur; i++) {
		const struct cursor *c = &r->cur[i];

		if (!any || c->time_ns > any_t)
			any_t = c->time_ns;
		any = true;
		if (c->instance != r->instance)
			continue;
		if (!known || c->time_ns > known_t)
			known_t = c->time_ns;
		known = true;
	}
	r->baseline = !any;
	r->start_new = known ? known_t : any_t;
	if (any && !known)
		r->st->reloaded = 1;
	if (!any)
		r->st->baseline = 1;
}

/*
 * What a counter set used since the ledger last read it (@c, or NULL if
 * it never did): into @d, from *@start.  False if there is nothing to
 * bill yet (the baseline).
 */
static bool take_delta(struct record *r, const struct cursor *c,
		       const struct counts *now, struct counts *d,
		       int64_t *start)
{
	if (c && (now->busy_ns < c->c.busy_ns ||
		  now->jobs_completed < c->c.jobs_completed ||
		  now->jobs_failed < c->c.jobs_failed ||
		  now->kib_s < c->c.kib_s)) {
		/* Cannot happen with one module instance; if it does, the
		 * counters started again: take them from zero. */
		r->st->reset++;
		*d = *now;
		*start = c->time_ns;
		return true;
	}
	if (c) {
		d->busy_ns = now->busy_ns - c->c.busy_ns;
		d->jobs_completed = now->jobs_completed - c->c.jobs_completed;
		d->jobs_failed = now->jobs_failed - c->c.jobs_failed;
		d->kib_s = now->kib_s - c->c.kib_s;
		*start = c->time_ns;
		return true;
	}
	if (r->baseline)
		return false;
	*d = *now;
	*start = r->start_new;
	return true;
}

static int step_done(struct record *r, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return db_err(r->l, what, r->err, r->errlen);
	return 0;
}

static int insert_row(struct record *r, int64_t start, uint32_t device,
		      const char *partition, uint64_t serial,
		      const struct counts *d, uint64_t peak)
{
	sqlite3_stmt *st = r->ins_row;

	sqlite3_bind_int64(st, 1, start);
	sqlite3_bind_int64(st, 2, r->now_ns);
	sqlite3_bind_int64(st, 3, device);
	if (partition)
		sqlite3_bind_text(st, 4, partition, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 4);
	sqlite3_bind_int64(st, 5, s64(r->instance));
	sqlite3_bind_int64(st, 6, s64(serial));
	sqlite3_bind_int64(st, 7, s64(d->busy_ns));
	sqlite3_bind_int64(st, 8, s64(d->jobs_completed));
	sqlite3_bind_int64(st, 9, s64(d->jobs_failed));
	sqlite3_bind_int64(st, 10, s64(d->kib_s));
	sqlite3_bind_int64(st, 11, 0);	/* shared: none charged yet */
	sqlite3_bind_int64(st, 12, s64(peak));
	if (step_done(r, st, "cannot write a ledger row"))
		return -1;
	r->st->rows++;
	return 0;
}

static int put_cursor(struct record *r, uint64_t serial,
		      uint64_t device_serial, uint32_t device,
		      const char *partition, const struct counts *now,
		      uint64_t mem_used)
{
	sqlite3_stmt *st = r->put_cursor;

	sqlite3_bind_int64(st, 1, s64(r->instance));
	sqlite3_bind_int64(st, 2, s64(serial));
	sqlite3_bind_int64(st, 3, s64(device_serial));
	sqlite3_bind_int64(st, 4, device);
	if (partition)
		sqlite3_bind_text(st, 5, partition, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, 5);
	sqlite3_bind_int64(st, 6, r->now_ns);
	sqlite3_bind_int64(st, 7, s64(now->busy_ns));
	sqlite3_bind_int64(st, 8, s64(now->jobs_completed));
	sqlite3_bind_int64(st, 9, s64(now->jobs_failed));
	sqlite3_bind_int64(st, 10, s64(now->kib_s));
	sqlite3_bind_int64(st, 11, s64(mem_used));
	return step_done(r, st, "cannot write a ledger cursor");
}

static int del_cursor(struct record *r, const struct cursor *c)
{
	sqlite3_bind_int64(r->del_cursor, 1, s64(c->instance));
	sqlite3_bind_int64(r->del_cursor, 2, s64(c->serial));
	return step_done(r, r->del_cursor, "cannot delete a ledger cursor");
}

static uint64_t sub_floor(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

/*
 * What partitions of the device deleted since the last record used: the
 * device's use less its live partitions' (@sum), in one row under the
 * deleted partition's name, or LEDGER_DELETED if several were.
 */
static int record_deleted(struct record *r, const struct ledger_device *dev,
			  const struct counts *dd, const struct counts *sum,
			  int64_t start)
{
	const struct cursor *one = NULL;
	unsigned int nr = 0;
	uint64_t peak = 0;
	struct counts d;
	size_t i;

	for (i = 0; i < r->nr_cur; i++) {
		struct cursor *c = &r->cur[i];
		uint64_t p;

		if (c->instance != r->instance || c->is_device || c->seen ||
		    c->device_serial != dev->u.serial)
			continue;
		c->seen = true;
		p = peak_of(r->l, c->instance, c->serial, c->mem_used, 0);
		if (p > peak)
			peak = p;
		one = c;
		nr++;
		if (del_cursor(r, c))
			return -1;
	}
	if (!nr)
		return 0;
	d.busy_ns = sub_floor(dd->busy_ns, sum->busy_ns);
	d.jobs_completed = sub_floor(dd->jobs_completed, sum->jobs_completed);
	d.jobs_failed = sub_floor(dd->jobs_failed, sum->jobs_failed);
	d.kib_s = sub_floor(dd->kib_s, sum->kib_s);
	return insert_row(r, start, dev->u.device,
			  nr == 1 ? one->partition : LEDGER_DELETED,
			  nr == 1 ? one->serial : 0, &d, peak);
}

static int record_device(struct record *r, const struct ledger_device *dev)
{
	const struct ash_usage *u = &dev->u;
	struct counts now = { u->busy_ns, u->jobs_completed, u->jobs_failed,
			      u->mem_kib_seconds };
	struct counts dd, sum = { 0 };
	struct cursor *c = cursor_find(r, u->serial);
	int64_t start = 0;
	bool billed;
	uint32_t i;

	billed = take_delta(r, c, &now, &dd, &start);
	if (c)
		c->seen = true;
	for (i = 0; i < u->nr_entries; i++) {
		const struct ash_usage_entry *e = &dev->parts[i];
		struct counts pn = { e->busy_ns, e->jobs_completed,
				     e->jobs_failed, e->mem_kib_seconds };
		struct cursor *pc = cursor_find(r, e->serial);
		struct counts d;
		int64_t pstart;
		char name[ASH_NAME_MAX];

		snprintf(name, sizeof(name), "%.*s", (int)sizeof(e->name),
			 e->name);
		if (pc)
			pc->seen = true;
		if (take_delta(r, pc, &pn, &d, &pstart)) {
			if (insert_row(r, pstart, u->device, name, e->serial,
				       &d, peak_of(r->l, r->instance, e->serial,
						   pc ? pc->mem_used : 0,
						   e->mem_used)))
				return -1;
			sum.busy_ns += d.busy_ns;
			sum.jobs_completed += d.jobs_completed;
			sum.jobs_failed += d.jobs_failed;
			sum.kib_s += d.kib_s;
		}
		if (put_cursor(r, e->serial, u->serial, u->device, name, &pn,
			       e->mem_used))
			return -1;
	}
	if (billed && record_deleted(r, dev, &dd, &sum, start))
		return -1;
	if (billed &&
	    insert_row(r, start, u->device, NULL, u->serial, &dd,
		       peak_of(r->l, r->instance, u->serial,
			       c ? c->mem_used : 0, u->mem_used)))
		return -1;
	return put_cursor(r, u->serial, u->serial, u->device, NULL, &now,
			  u->mem_used);
}

/* Cursors of other instances, and of devices gone with their partitions. */
static int drop_stale(struct record *r)
{
	size_t i, j;

	for (i = 0; i < r->nr_cur; i++) {
		struct cursor *c = &r->cur[i];

		if (c->instance == r->instance &&
		    (c->seen || !c->is_device))
			continue;
		if (c->instance == r->instance) {
			r->st->devices_lost++;
			for (j = 0; j < r->nr_cur; j++)
				if (r->cur[j].instance == r->instance &&
				    !r->cur[j].seen && !r->cur[j].is_device &&
				    r->cur[j].device_serial == c->serial &&
				    del_cursor(r, &r->cur[j]))
					return -1;
		}
		if (del_cursor(r, c))
			return -1;
	}
	return 0;
}

static int prepare(struct record *r)
{
	sqlite3 *db = r->l->db;

	if (sqlite3_prepare_v2(db,
			       "INSERT INTO usage VALUES"
			       " (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
			       -1, &r->ins_row, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "INSERT OR REPLACE INTO cursor VALUES"
			       " (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
			       -1, &r->put_cursor, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "DELETE FROM cursor WHERE instance = ?1 AND serial = ?2",
			       -1, &r->del_cursor, NULL) != SQLITE_OK)
		return db_err(r->l, "cannot prepare the ledger's statements",
			      r->err, r->errlen);
	return 0;
}

int ledger_record(struct ledger *l, int64_t now_ns,
		  const struct ledger_device *devs, size_t n,
		  struct ledger_record_stats *st, char *err, size_t errlen)
{
	struct record r = {
		.l = l, .now_ns = now_ns, .st = st, .err = err,
		.errlen = errlen,
	};
	int ret = -1;
	size_t i;

	memset(st, 0, sizeof(*st));
	if (!n)
		return 0;
	r.instance = devs[0].u.instance;
	for (i = 1; i < n; i++)
		if (devs[i].u.instance != r.instance) {
			set_err(err, errlen,
				"the devices' readings come from two loads of the module");
			return -1;
		}
	if (exec_sql(l, "BEGIN IMMEDIATE", "cannot start a ledger transaction",
		     err, errlen))
		return -1;
	if (load_cursors(&r) || prepare(&r))
		goto out;
	find_start(&r);
	for (i = 0; i < n; i++)
		if (record_device(&r, &devs[i]))
			goto out;
	if (drop_stale(&r))
		goto out;
	ret = exec_sql(l, "COMMIT", "cannot commit the ledger's interval", err,
		       errlen);
out:
	sqlite3_finalize(r.ins_row);
	sqlite3_finalize(r.put_cursor);
	sqlite3_finalize(r.del_cursor);
	free(r.cur);
	if (ret) {
		sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
		memset(st, 0, sizeof(*st));
	} else {
		l->nr_peaks = 0;	/* the next interval's peaks start now */
	}
	return ret;
}

/* --- queries ------------------------------------------------------------ */

int ledger_query(struct ledger *l, const struct ledger_query *q,
		 struct ledger_row **rows, size_t *n, char *err,
		 size_t errlen)
{
	static const char per_interval[] =
		"SELECT device, partition, start_ns, end_ns, 1, engine_ns,"
		" jobs_completed, jobs_failed, private_kib_s, shared_kib_s,"
		" peak_bytes FROM usage"
		" WHERE end_ns > ?1 AND end_ns <= ?2"
		" AND (?3 IS NULL OR partition = ?3)"
		" ORDER BY device, partition IS NOT NULL, partition, end_ns";
	static const char sums[] =
		"SELECT device, partition, MIN(start_ns), MAX(end_ns), COUNT(*),"
		" SUM(engine_ns), SUM(jobs_completed), SUM(jobs_failed),"
		" SUM(private_kib_s), SUM(shared_kib_s), MAX(peak_bytes)"
		" FROM usage WHERE end_ns > ?1 AND end_ns <= ?2"
		" AND (?3 IS NULL OR partition = ?3)"
		" GROUP BY device, partition"
		" ORDER BY device, partition IS NOT NULL, partition";
	struct ledger_row *out = NULL;
	size_t nr = 0, room = 0;
	sqlite3_stmt *st;
	int rc;

	*rows = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(l->db, q->per_interval ? per_interval : sums,
			       -1, &st, NULL) != SQLITE_OK)
		return db_err(l, "cannot query the ledger", err, errlen);
	sqlite3_bind_int64(st, 1, q->since_ns);
	sqlite3_bind_int64(st, 2, q->until_ns);
	if (q->partition)
		sqlite3_bind_text(st, 3, q->partition, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *part = sqlite3_column_text(st, 1);
		struct ledger_row *row;

		if (nr == room) {
			size_t nroom = room ? 2 * room : 64;
			struct ledger_row *nrows =
				realloc(out, nroom * sizeof(*nrows));

			if (!nrows) {
				sqlite3_finalize(st);
				free(out);
				set_err(err, errlen,
					"cannot query the ledger: out of memory");
				return -1;
			}
			out = nrows;
			room = nroom;
		}
		row = &out[nr++];
		memset(row, 0, sizeof(*row));
		row->device = (uint32_t)sqlite3_column_int64(st, 0);
		if (part)
			snprintf(row->partition, sizeof(row->partition), "%s",
				 (const char *)part);
		row->start_ns = sqlite3_column_int64(st, 2);
		row->end_ns = sqlite3_column_int64(st, 3);
		row->intervals = col_u64(st, 4);
		row->engine_ns = col_u64(st, 5);
		row->jobs_completed = col_u64(st, 6);
		row->jobs_failed = col_u64(st, 7);
		row->private_kib_s = col_u64(st, 8);
		row->shared_kib_s = col_u64(st, 9);
		row->peak_bytes = col_u64(st, 10);
	}
	if (rc != SQLITE_DONE) {
		db_err(l, "cannot query the ledger", err, errlen);
		sqlite3_finalize(st);
		free(out);
		return -1;
	}
	sqlite3_finalize(st);
	*rows = out;
	*n = nr;
	return 0;
}

/* --- the audit trail ------------------------------------------------------ */

static const char zero_hash[LEDGER_HASH_HEX] =
	"0000000000000000000000000000000000000000000000000000000000000000";

/*
 * SHA-256 of @prev and the row's fields, in a form with no ambiguity
 * (strings length-prefixed), as hex into @out.
 */
static int audit_hash(const char *prev, uint64_t instance,
		      const struct ash_audit_record *r,
		      char out[LEDGER_HASH_HEX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char comm[ASH_COMM_LEN + 1], name[ASH_NAME_MAX + 1], *text = NULL;
	unsigned int len = 0, i;
	int n;

	snprintf(comm, sizeof(comm), "%.*s", (int)sizeof(r->comm), r->comm);
	snprintf(name, sizeof(name), "%.*s", (int)sizeof(r->name), r->name);
	n = asprintf(&text,
		     "%s|%llu|%llu|%llu|%u|%u|%d|%u|%zu:%s|%zu:%s"
		     "|%llu|%llu|%llu|%llu|%llu|%llu|%llu|%llu",
		     prev, (unsigned long long)instance,
		     (unsigned long long)r->seq, (unsigned long long)r->time_ns,
		     (unsigned int)r->kind, (unsigned int)r->uid, (int)r->pid,
		     (unsigned int)r->device, strlen(comm), comm, strlen(name),
		     name, (unsigned long long)r->old_val[0],
		     (unsigned long long)r->old_val[1],
		     (unsigned long long)r->old_val[2],
		     (unsigned long long)r->old_val[3],
		     (unsigned long long)r->new_val[0],
		     (unsigned long long)r->new_val[1],
		     (unsigned long long)r->new_val[2],
		     (unsigned long long)r->new_val[3]);
	if (n < 0)
		return -1;
	if (!EVP_Digest(text, (size_t)n, md, &len, EVP_sha256(), NULL)) {
		free(text);
		return -1;
	}
	free(text);
	for (i = 0; i < len && 2 * i + 2 < LEDGER_HASH_HEX + 1; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

int ledger_audit_next_seq(struct ledger *l, uint64_t instance,
			  uint64_t *seq, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(l->db,
			       "SELECT MAX(seq) FROM audit WHERE instance = ?1 AND kind != 0",
			       -1, &st, NULL) != SQLITE_OK)
		return db_err(l, "cannot read the audit trail", err, errlen);
	sqlite3_bind_int64(st, 1, s64(instance));
	rc = sqlite3_step(st);
	*seq = rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL ?
	       col_u64(st, 0) + 1 : 1;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return db_err(l, "cannot read the audit trail", err, errlen);
	return 0;
}

static int audit_last_hash(struct ledger *l, char out[LEDGER_HASH_HEX])
{
	sqlite3_stmt *st;
	int rc;

	memcpy(out, zero_hash, LEDGER_HASH_HEX);
	if (sqlite3_prepare_v2(l->db,
			       "SELECT hash FROM audit ORDER BY row DESC LIMIT 1",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(out, LEDGER_HASH_HEX, "%s",
			 (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

static int audit_insert(sqlite3_stmt *st, uint64_t instance,
			const struct ash_audit_record *r, char prev[LEDGER_HASH_HEX])
{
	char hash[LEDGER_HASH_HEX], comm[ASH_COMM_LEN + 1], name[ASH_NAME_MAX + 1];
	int i, rc;

	if (audit_hash(prev, instance, r, hash))
		return -1;
	snprintf(comm, sizeof(comm), "%.*s", (int)sizeof(r->comm), r->comm);
	snprintf(name, sizeof(name), "%.*s", (int)sizeof(r->name), r->name);
	sqlite3_bind_int64(st, 1, s64(instance));
	sqlite3_bind_int64(st, 2, s64(r->seq));
	sqlite3_bind_int64(st, 3, s64(r->time_ns));
	sqlite3_bind_int64(st, 4, r->kind);
	sqlite3_bind_int64(st, 5, r->uid);
	sqlite3_bind_int64(st, 6, r->pid);
	sqlite3_bind_int64(st, 7, r->device);
	sqlite3_bind_text(st, 8, comm, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 9, name, -1, SQLITE_TRANSIENT);
	for (i = 0; i < 4; i++) {
		sqlite3_bind_int64(st, 10 + i, s64(r->old_val[i]));
		sqlite3_bind_int64(st, 14 + i, s64(r->new_val[i]));
	}
	sqlite3_bind_text(st, 18, prev, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 19, hash, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		return -1;
	memcpy(prev, hash, LEDGER_HASH_HEX);
	return 0;
}

int ledger_audit_append(struct ledger *l, uint64_t instance,
			const struct ash_audit_record *recs, size_t n,
			uint64_t lost_from, uint64_t lost_to, char *err,
			size_t errlen)
{
	char prev[LEDGER_HASH_HEX];
	sqlite3_stmt *st = NULL;
	size_t i;

	if (!n && !lost_from)
		return 0;
	if (exec_sql(l, "BEGIN IMMEDIATE", "cannot start an audit transaction",
		     err, errlen))
		return -1;
	if (audit_last_hash(l, prev) ||
	    sqlite3_prepare_v2(l->db,
			       "INSERT INTO audit (instance, seq, time_ns, kind, uid,"
			       " pid, device, comm, name, old0, old1, old2, old3,"
			       " new0, new1, new2, new3, prev, hash) VALUES"
			       " (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,"
			       " ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
			       -1, &st, NULL) != SQLITE_OK)
		goto fail;
	if (lost_from) {
		struct ash_audit_record gap = {
			.seq = lost_to, .kind = LEDGER_AUDIT_LOST,
			.old_val = { lost_from }, .new_val = { lost_to },
		};

		memcpy(gap.comm, "accountd", 8);
		if (audit_insert(st, instance, &gap, prev))
			goto fail;
	}
	for (i = 0; i < n; i++)
		if (audit_insert(st, instance, &recs[i], prev))
			goto fail;
	sqlite3_finalize(st);
	return exec_sql(l, "COMMIT", "cannot commit the audit records", err,
			errlen);
fail:
	db_err(l, "cannot write the audit trail", err, errlen);
	sqlite3_finalize(st);
	sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

int ledger_audit_rows(struct ledger *l, struct ledger_audit_row **rows,
		      size_t *n, char *err, size_t errlen)
{
	struct ledger_audit_row *out = NULL;
	size_t nr = 0, room = 0;
	sqlite3_stmt *st;
	int rc, i;

	*rows = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(l->db,
			       "SELECT row, instance, seq, time_ns, kind, uid, pid,"
			       " device, comm, name, old0, old1, old2, old3, new0,"
			       " new1, new2, new3, prev, hash FROM audit ORDER BY row",
			       -1, &st, NULL) != SQLITE_OK)
		return db_err(l, "cannot read the audit trail", err, errlen);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct ledger_audit_row *a;
		const unsigned char *t;

		if (nr == room) {
			size_t nroom = room ? 2 * room : 64;
			struct ledger_audit_row *nrows =
				realloc(out, nroom * sizeof(*nrows));

			if (!nrows) {
				rc = SQLITE_NOMEM;
				break;
			}
			out = nrows;
			room = nroom;
		}
		a = &out[nr++];
		memset(a, 0, sizeof(*a));
		a->row = sqlite3_column_int64(st, 0);
		a->instance = col_u64(st, 1);
		a->rec.seq = col_u64(st, 2);
		a->rec.time_ns = col_u64(st, 3);
		a->rec.kind = (uint32_t)sqlite3_column_int64(st, 4);
		a->rec.uid = (uint32_t)sqlite3_column_int64(st, 5);
		a->rec.pid = (int32_t)sqlite3_column_int64(st, 6);
		a->rec.device = (uint32_t)sqlite3_column_int64(st, 7);
		/* Fixed fields, NUL-terminated only if shorter, as the
		 * driver's. */
		t = sqlite3_column_text(st, 8);
		if (t)
			memcpy(a->rec.comm, t, strnlen((const char *)t,
						       sizeof(a->rec.comm)));
		t = sqlite3_column_text(st, 9);
		if (t)
			memcpy(a->rec.name, t, strnlen((const char *)t,
						       sizeof(a->rec.name)));
		for (i = 0; i < 4; i++) {
			a->rec.old_val[i] = col_u64(st, 10 + i);
			a->rec.new_val[i] = col_u64(st, 14 + i);
		}
		t = sqlite3_column_text(st, 18);
		snprintf(a->prev, sizeof(a->prev), "%s", t ? (const char *)t : "");
		t = sqlite3_column_text(st, 19);
		snprintf(a->hash, sizeof(a->hash), "%s", t ? (const char *)t : "");
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(out);
		set_err(err, errlen, "cannot read the audit trail: %s",
			rc == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(l->db));
		return -1;
	}
	*rows = out;
	*n = nr;
	return 0;
}

int ledger_audit_verify(struct ledger *l, size_t *n,
			char head[LEDGER_HASH_HEX], char *err, size_t errlen)
{
	char prev[LEDGER_HASH_HEX], want[LEDGER_HASH_HEX];
	struct ledger_audit_row *rows;
	int ret = 0;
	size_t i;

	if (ledger_audit_rows(l, &rows, n, err, errlen))
		return -1;
	memcpy(prev, zero_hash, LEDGER_HASH_HEX);
	for (i = 0; i < *n; i++) {
		const struct ledger_audit_row *a = &rows[i];

		if (strcmp(a->prev, prev) ||
		    (i && a->row != rows[i - 1].row + 1) || (!i && a->row != 1)) {
			set_err(err, errlen,
				"the chain breaks before row %lld (seq %llu): a row was removed or inserted there",
				(long long)a->row, (unsigned long long)a->rec.seq);
			ret = 1;
			break;
		}
		if (audit_hash(a->prev, a->instance, &a->rec, want)) {
			set_err(err, errlen, "cannot compute a hash");
			ret = -1;
			break;
		}
		if (strcmp(want, a->hash)) {
			set_err(err, errlen,
				"row %lld (seq %llu) was changed: its hash is not that of its fields",
				(long long)a->row, (unsigned long long)a->rec.seq);
			ret = 1;
			break;
		}
		memcpy(prev, a->hash, LEDGER_HASH_HEX);
	}
	memcpy(head, prev, LEDGER_HASH_HEX);
	free(rows);
	return ret;
}
