/* SPDX-License-Identifier: MIT */
/*
 * ashctl usage: what the usage ledger (accelshare-accountd's) says each
 * device and partition used, summed over a time range or interval by
 * interval, as a table, JSON or CSV.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "args.h"
#include "ashctl.h"
#include "json_out.h"
#include "ledger.h"
#include "parse.h"
#include "table.h"

#define CELL 40
#define KIB_PER_GIB 1048576.0

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* @ns as "2026-12-03T07:00:00Z" (UTC: the same on every host). */
static void fmt_time(char *buf, size_t len, int64_t ns)
{
	time_t secs = (time_t)(ns / 1000000000);
	struct tm tm;

	if (!gmtime_r(&secs, &tm) ||
	    !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "@%lld", (long long)secs);
}

static const char *row_name(const struct ledger_row *r)
{
	return r->partition[0] ? r->partition : "(device)";
}

static int print_table(const struct ledger_row *rows, size_t n,
		       const struct usage_opts *o)
{
	static const char *const hdr[] = {
		"DEV", "PARTITION", "FROM", "TO", "ENGINE-S", "PRIVATE-GIB-S",
		"SHARED-GIB-S", "JOBS", "FAILED", "PEAK",
	};
	char cell[10][CELL];
	const char *cells[10];
	struct table *t;
	size_t i, k;

	if (!n) {
		puts(o->partition ? "no usage of that partition in the ledger for that time" :
				    "no usage in the ledger for that time");
		return EXIT_OK;
	}
	t = table_new("rlllrrrrrr", hdr);
	if (!t)
		goto oom;
	for (k = 0; k < 10; k++)
		cells[k] = cell[k];
	for (i = 0; i < n; i++) {
		const struct ledger_row *r = &rows[i];

		snprintf(cell[0], CELL, "%" PRIu32, r->device);
		snprintf(cell[1], CELL, "%s", row_name(r));
		fmt_time(cell[2], CELL, r->start_ns);
		fmt_time(cell[3], CELL, r->end_ns);
		snprintf(cell[4], CELL, "%.3f", (double)r->engine_ns / 1e9);
		snprintf(cell[5], CELL, "%.3f",
			 (double)r->private_kib_s / KIB_PER_GIB);
		snprintf(cell[6], CELL, "%.3f",
			 (double)r->shared_kib_s / KIB_PER_GIB);
		snprintf(cell[7], CELL, "%" PRIu64, r->jobs_completed);
		snprintf(cell[8], CELL, "%" PRIu64, r->jobs_failed);
		ash_size_format(r->peak_bytes, cell[9], CELL);
		if (table_row(t, cells))
			goto oom;
	}
	table_print(t, stdout);
	table_free(t);
	return EXIT_OK;
oom:
	table_free(t);
	fprintf(stderr, "ashctl: out of memory.\n");
	return EXIT_FAIL;
}

static int print_csv(const struct ledger_row *rows, size_t n)
{
	char from[CELL], to[CELL];
	size_t i;

	puts("device,partition,start,end,intervals,engine_ns,engine_seconds,"
	     "private_kib_seconds,private_gib_seconds,shared_kib_seconds,"
	     "shared_gib_seconds,jobs_completed,jobs_failed,peak_bytes");
	for (i = 0; i < n; i++) {
		const struct ledger_row *r = &rows[i];

		fmt_time(from, sizeof(from), r->start_ns);
		fmt_time(to, sizeof(to), r->end_ns);
		/* Names are letters, digits, "_.-" (and "(deleted)"): no
		 * quoting is ever needed. */
		printf("%" PRIu32 ",%s,%s,%s,%" PRIu64 ",%" PRIu64 ",%.9f,%" PRIu64
		       ",%.6f,%" PRIu64 ",%.6f,%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n",
		       r->device, r->partition, from, to, r->intervals,
		       r->engine_ns, (double)r->engine_ns / 1e9,
		       r->private_kib_s, (double)r->private_kib_s / KIB_PER_GIB,
		       r->shared_kib_s, (double)r->shared_kib_s / KIB_PER_GIB,
		       r->jobs_completed, r->jobs_failed, r->peak_bytes);
	}
	return ferror(stdout) ? EXIT_FAIL : EXIT_OK;
}

static struct json_object *json_row(const struct ledger_row *r)
{
	struct json_object *o = json_object_new_object();
	char from[CELL], to[CELL];
	int bad = 0;

	if (!o)
		return NULL;
	fmt_time(from, sizeof(from), r->start_ns);
	fmt_time(to, sizeof(to), r->end_ns);
	bad |= json_set(o, "device", json_object_new_int64(r->device));
	bad |= r->partition[0] ?
	       json_set(o, "partition", json_object_new_string(r->partition)) :
	       json_object_object_add(o, "partition", NULL);
	bad |= json_set(o, "start", json_object_new_string(from));
	bad |= json_set(o, "end", json_object_new_string(to));
	bad |= json_set(o, "start_ns", json_object_new_int64(r->start_ns));
	bad |= json_set(o, "end_ns", json_object_new_int64(r->end_ns));
	bad |= json_set(o, "intervals", json_object_new_uint64(r->intervals));
	bad |= json_set(o, "engine_ns", json_object_new_uint64(r->engine_ns));
	bad |= json_set(o, "private_kib_seconds",
			json_object_new_uint64(r->private_kib_s));
	bad |= json_set(o, "shared_kib_seconds",
			json_object_new_uint64(r->shared_kib_s));
	bad |= json_set(o, "jobs_completed",
			json_object_new_uint64(r->jobs_completed));
	bad |= json_set(o, "jobs_failed",
			json_object_new_uint64(r->jobs_failed));
	bad |= json_set(o, "peak_bytes", json_object_new_uint64(r->peak_bytes));
	if (bad) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static int print_json(const struct ledger_row *rows, size_t n)
{
	struct json_object *arr = json_object_new_array();
	size_t i;

	for (i = 0; arr && i < n; i++)
		if (json_append(arr, json_row(&rows[i]))) {
			json_object_put(arr);
			arr = NULL;
		}
	return json_print(arr);
}

int cmd_usage(int argc, char **argv)
{
	char err[LEDGER_ERR_MAX];
	struct ledger_row *rows;
	struct ledger *l;
	struct usage_opts o;
	struct ledger_query q;
	size_t n;
	int ret;

	if (args_usage_parse(argc, argv, now_ns(), &o, err, ARGS_ERR_MAX))
		return usage_error(err);
	if (o.help) {
		help_print("usage", stdout);
		return EXIT_OK;
	}
	if (!o.db)
		o.db = LEDGER_DEFAULT_PATH;
	if (ledger_open(o.db, false, &l, err, sizeof(err))) {
		fprintf(stderr,
			"ashctl: %s (the ledger is written by accelshare-accountd; --db names another).\n",
			err);
		return EXIT_FAIL;
	}
	q = (struct ledger_query){ o.since_ns, o.until_ns, o.partition,
				   o.intervals };
	if (ledger_query(l, &q, &rows, &n, err, sizeof(err))) {
		fprintf(stderr, "ashctl: %s.\n", err);
		ledger_close(l);
		return EXIT_FAIL;
	}
	if (o.json)
		ret = print_json(rows, n);
	else if (o.csv)
		ret = print_csv(rows, n);
	else
		ret = print_table(rows, n, &o);
	free(rows);
	ledger_close(l);
	return ret;
}
