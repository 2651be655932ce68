/* SPDX-License-Identifier: MIT */
/*
 * ashctl audit: the audit trail as the usage ledger keeps it (copied from
 * the driver by accelshare-accountd, each record chained to the one before
 * by a SHA-256), listed, or verified.
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

#define WHAT_MAX 160

static void fmt_time(char *buf, size_t len, uint64_t ns)
{
	time_t secs = (time_t)(ns / 1000000000);
	struct tm tm;

	if (!gmtime_r(&secs, &tm) ||
	    !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "@%lld", (long long)secs);
}

static const char *kind_name(uint32_t kind)
{
	static const char *const names[] = {
		[LEDGER_AUDIT_LOST] = "lost",
		[ASH_AUDIT_PART_CREATE] = "partition-create",
		[ASH_AUDIT_PART_SET] = "partition-set",
		[ASH_AUDIT_PART_DELETE] = "partition-delete",
		[ASH_AUDIT_DEVICE_SET] = "device-set",
		[ASH_AUDIT_DEVICE_REGISTER] = "device-register",
		[ASH_AUDIT_ENGINE_ATTACH] = "engine-attach",
		[ASH_AUDIT_ENGINE_DETACH] = "engine-detach",
		[ASH_AUDIT_JOB_TIMEOUT] = "job-timeout",
		[ASH_AUDIT_CONTEXT_BAN] = "context-ban",
		[ASH_AUDIT_RECLAIM_KILL] = "reclaim-kill",
	};

	return kind <= ASH_AUDIT_KIND_MAX ? names[kind] : "unknown";
}

static void size_of(char *buf, uint64_t bytes)
{
	ash_size_format(bytes, buf, 24);
}

/* "mem_max 64M -> 16M" for what a PART_SET changed, and so on. */
static void describe(const struct ash_audit_record *r, char *w, size_t len)
{
	char a[24], b[24], c[24];
	const __u64 *o = r->old_val, *n = r->new_val;
	size_t off = 0;

	switch (r->kind) {
	case LEDGER_AUDIT_LOST:
		snprintf(w, len, "records %" PRIu64 "..%" PRIu64 " lost (the driver kept no more)",
			 (uint64_t)o[0], (uint64_t)n[0]);
		return;
	case ASH_AUDIT_PART_CREATE:
		size_of(a, n[0]);
		size_of(b, n[1]);
		snprintf(w, len, "mem %s, min %s, weight %" PRIu64 ", %" PRIu64 " access entries",
			 a, b, (uint64_t)n[2], (uint64_t)n[3]);
		return;
	case ASH_AUDIT_PART_SET:
		w[0] = '\0';
		if (o[0] != n[0]) {
			size_of(a, o[0]);
			size_of(b, n[0]);
			off += (size_t)snprintf(w + off, len - off, "mem %s -> %s; ", a, b);
		}
		if (o[1] != n[1] && off < len) {
			size_of(a, o[1]);
			size_of(b, n[1]);
			off += (size_t)snprintf(w + off, len - off, "min %s -> %s; ", a, b);
		}
		if (o[2] != n[2] && off < len)
			off += (size_t)snprintf(w + off, len - off,
						"weight %" PRIu64 " -> %" PRIu64 "; ",
						(uint64_t)o[2], (uint64_t)n[2]);
		if ((n[3] & ASH_PART_SET_ACL) && off < len)
			off += (size_t)snprintf(w + off, len - off, "access list; ");
		if ((n[3] & ASH_PART_SET_LIMITS) && off < len)
			off += (size_t)snprintf(w + off, len - off, "limits; ");
		if (off >= 2 && off < len)
			w[off - 2] = '\0';
		else if (!off)
			snprintf(w, len, "no change");
		return;
	case ASH_AUDIT_PART_DELETE:
		size_of(a, o[0]);
		size_of(b, o[1]);
		snprintf(w, len, "was mem %s, min %s, weight %" PRIu64, a, b,
			 (uint64_t)o[2]);
		return;
	case ASH_AUDIT_DEVICE_SET:
		snprintf(w, len, "slice %" PRIu64 " -> %" PRIu64 " us, job timeout %" PRIu64
			 " -> %" PRIu64 " ms", (uint64_t)o[0], (uint64_t)n[0],
			 (uint64_t)o[1], (uint64_t)n[1]);
		return;
	case ASH_AUDIT_DEVICE_REGISTER:
		size_of(a, n[0]);
		snprintf(w, len, "%s of memory", a);
		return;
	case ASH_AUDIT_ENGINE_ATTACH:
		snprintf(w, len, "engine pid %" PRIu64, (uint64_t)n[0]);
		return;
	case ASH_AUDIT_ENGINE_DETACH:
		if (n[0] == ASH_AUDIT_DETACH_KILLED)
			snprintf(w, len, "engine pid %" PRIu64 " died of signal %" PRIu64,
				 (uint64_t)o[0], (uint64_t)n[1]);
		else if (n[0] == ASH_AUDIT_DETACH_WATCHDOG)
			snprintf(w, len, "engine pid %" PRIu64 " detached and killed by the watchdog",
				 (uint64_t)o[0]);
		else
			snprintf(w, len, "engine pid %" PRIu64 " closed or exited",
				 (uint64_t)o[0]);
		return;
	case ASH_AUDIT_JOB_TIMEOUT:
		snprintf(w, len, "job %" PRIu64 " of context %" PRIu64 " timed out",
			 (uint64_t)n[0], (uint64_t)n[1]);
		return;
	case ASH_AUDIT_CONTEXT_BAN:
		snprintf(w, len, "context %" PRIu64 " banned (%" PRIu64 " failures, %" PRIu64
			 " timeouts)", (uint64_t)n[0], (uint64_t)n[1], (uint64_t)n[2]);
		return;
	case ASH_AUDIT_RECLAIM_KILL:
		size_of(a, n[1]);
		size_of(c, n[2]);
		snprintf(w, len, "pid %" PRIu64 " killed at the deadline, holding %s (%s over the cap)",
			 (uint64_t)n[0], a, c);
		return;
	default:
		snprintf(w, len, "kind %u", (unsigned int)r->kind);
	}
}

static void who(const struct ash_audit_record *r, char *buf, size_t len)
{
	if (r->kind == LEDGER_AUDIT_LOST)
		snprintf(buf, len, "-");
	else if (!r->pid)
		snprintf(buf, len, "%.*s", (int)sizeof(r->comm), r->comm);
	else
		snprintf(buf, len, "uid %u pid %d %.*s", (unsigned int)r->uid,
			 (int)r->pid, (int)sizeof(r->comm), r->comm);
}

static int print_table(const struct ledger_audit_row *rows, size_t n)
{
	static const char *const hdr[] = {
		"TIME", "SEQ", "BY", "EVENT", "OF", "WHAT",
	};
	char cell[6][WHAT_MAX];
	const char *cells[6];
	struct table *t;
	size_t i, k;

	if (!n) {
		puts("the audit trail is empty");
		return EXIT_OK;
	}
	t = table_new("lrllll", hdr);
	if (!t)
		goto oom;
	for (k = 0; k < 6; k++)
		cells[k] = cell[k];
	for (i = 0; i < n; i++) {
		const struct ash_audit_record *r = &rows[i].rec;

		fmt_time(cell[0], WHAT_MAX, r->time_ns);
		snprintf(cell[1], WHAT_MAX, "%" PRIu64, (uint64_t)r->seq);
		who(r, cell[2], WHAT_MAX);
		snprintf(cell[3], WHAT_MAX, "%s", kind_name(r->kind));
		snprintf(cell[4], WHAT_MAX, "%.*s", (int)sizeof(r->name),
			 r->name[0] ? r->name : "-");
		describe(r, cell[5], WHAT_MAX);
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

static struct json_object *json_row(const struct ledger_audit_row *a)
{
	const struct ash_audit_record *r = &a->rec;
	struct json_object *o = json_object_new_object(), *ov, *nv;
	char t[40], what[WHAT_MAX], s[ASH_NAME_MAX + 1];
	int bad = 0, i;

	if (!o)
		return NULL;
	fmt_time(t, sizeof(t), r->time_ns);
	describe(r, what, sizeof(what));
	bad |= json_set(o, "row", json_object_new_int64(a->row));
	bad |= json_set(o, "instance", json_object_new_uint64(a->instance));
	bad |= json_set(o, "seq", json_object_new_uint64(r->seq));
	bad |= json_set(o, "time", json_object_new_string(t));
	bad |= json_set(o, "time_ns", json_object_new_uint64(r->time_ns));
	bad |= json_set(o, "event", json_object_new_string(kind_name(r->kind)));
	bad |= json_set(o, "uid", json_object_new_int64(r->uid));
	bad |= json_set(o, "pid", json_object_new_int64(r->pid));
	snprintf(s, sizeof(s), "%.*s", (int)sizeof(r->comm), r->comm);
	bad |= json_set(o, "comm", json_object_new_string(s));
	bad |= json_set(o, "device", json_object_new_int64(r->device));
	snprintf(s, sizeof(s), "%.*s", (int)sizeof(r->name), r->name);
	bad |= json_set(o, "name", json_object_new_string(s));
	ov = json_object_new_array();
	nv = json_object_new_array();
	for (i = 0; i < 4; i++) {
		bad |= ov ? json_append(ov, json_object_new_uint64(r->old_val[i])) : -1;
		bad |= nv ? json_append(nv, json_object_new_uint64(r->new_val[i])) : -1;
	}
	bad |= json_set(o, "old", ov);
	bad |= json_set(o, "new", nv);
	bad |= json_set(o, "what", json_object_new_string(what));
	bad |= json_set(o, "prev", json_object_new_string(a->prev));
	bad |= json_set(o, "hash", json_object_new_string(a->hash));
	if (bad) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static int print_json(const struct ledger_audit_row *rows, size_t n)
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

int cmd_audit(int argc, char **argv)
{
	char err[LEDGER_ERR_MAX], head[LEDGER_HASH_HEX];
	struct ledger_audit_row *rows;
	struct audit_opts o;
	struct ledger *l;
	size_t n;
	int ret;

	if (args_audit_parse(argc, argv, &o, err, ARGS_ERR_MAX))
		return usage_error(err);
	if (o.help) {
		help_print("audit", stdout);
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
	if (o.verify) {
		ret = ledger_audit_verify(l, &n, head, err, sizeof(err));
		if (ret < 0)
			fprintf(stderr, "ashctl: %s.\n", err);
		else if (ret)
			printf("audit trail of %s: TAMPERED: %s\n", o.db, err);
		else
			printf("audit trail of %s: %zu records, chain intact; head %s\n",
			       o.db, n, head);
		ledger_close(l);
		return ret ? EXIT_FAIL : EXIT_OK;
	}
	if (ledger_audit_rows(l, &rows, &n, err, sizeof(err))) {
		fprintf(stderr, "ashctl: %s.\n", err);
		ledger_close(l);
		return EXIT_FAIL;
	}
	ret = o.json ? print_json(rows, n) : print_table(rows, n);
	free(rows);
	ledger_close(l);
	return ret;
}
