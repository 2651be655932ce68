/* SPDX-License-Identifier: MIT */
/*
 * The read-only commands: status, partition list, contexts.  Tables for
 * people, JSON (built with json-c) for scripts.
 */
#include <grp.h>
#include <json-c/json.h>
#include <pwd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/parse.h"
#include "args.h"
#include "ashctl.h"
#include "ctl.h"
#include "table.h"

#define CELL_MAX 512

static void fmt_size(char *buf, uint64_t bytes)
{
	ash_size_format(bytes, buf, CELL_MAX);
}

static void fmt_busy(char *buf, uint64_t ns)
{
	snprintf(buf, CELL_MAX, "%llu.%03llu s",
		 (unsigned long long)(ns / 1000000000),
		 (unsigned long long)(ns % 1000000000 / 1000000));
}

static void fmt_percent(char *buf, uint64_t part, uint64_t whole)
{
	if (!whole)
		snprintf(buf, CELL_MAX, "-");
	else
		snprintf(buf, CELL_MAX, "%llu%%",
			 (unsigned long long)((unsigned __int128)part * 100 /
					      whole));
}

static void fmt_user(char *buf, size_t len, uint32_t uid)
{
	struct passwd *pw = getpwuid(uid);

	if (pw)
		snprintf(buf, len, "%s", pw->pw_name);
	else
		snprintf(buf, len, "%u", uid);
}

static void fmt_group(char *buf, size_t len, uint32_t gid)
{
	struct group *gr = getgrgid(gid);

	if (gr)
		snprintf(buf, len, "%s", gr->gr_name);
	else
		snprintf(buf, len, "%u", gid);
}

/* "root", or "user:alice,1001 group:ml" */
static void fmt_access(char *buf, const struct ash_partition_info *p)
{
	size_t len = 0;
	char id[64];
	uint32_t i;

	if (!p->nr_uids && !p->nr_gids) {
		snprintf(buf, CELL_MAX, "root");
		return;
	}
	buf[0] = '\0';
	for (i = 0; i < p->nr_uids && i < ASH_ACL_MAX; i++) {
		fmt_user(id, sizeof(id), p->uids[i]);
		len += snprintf(buf + len, CELL_MAX - len, "%s%s",
				i ? "," : "user:", id);
		if (len >= CELL_MAX)
			return;
	}
	for (i = 0; i < p->nr_gids && i < ASH_ACL_MAX; i++) {
		fmt_group(id, sizeof(id), p->gids[i]);
		len += snprintf(buf + len, CELL_MAX - len, "%s%s",
				i ? "," : (p->nr_uids ? " group:" : "group:"),
				id);
		if (len >= CELL_MAX)
			return;
	}
}

/* The kernel NUL-terminates names, but a table must not trust that. */
static void fmt_name(char *buf, const char name[ASH_NAME_MAX])
{
	snprintf(buf, CELL_MAX, "%.*s", ASH_NAME_MAX - 1, name);
}

static const char *kind_name(uint32_t kind)
{
	return kind == ASH_DEVICE_HOST ? "host" : "unknown";
}

static int print_json(struct json_object *obj)
{
	int ret = EXIT_OK;

	if (!obj) {
		fprintf(stderr, "ashctl: out of memory building JSON.\n");
		return EXIT_FAIL;
	}
	if (puts(json_object_to_json_string_ext(obj,
			JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
			JSON_C_TO_STRING_NOSLASHESCAPE)) < 0)
		ret = EXIT_FAIL;
	json_object_put(obj);
	return ret;
}

/* Adds @val (which may be NULL: a failed allocation) under @key, owning it
 * either way, so that callers can chain adds and check once. */
static int json_set(struct json_object *obj, const char *key,
		    struct json_object *val)
{
	if (!val || json_object_object_add(obj, key, val)) {
		json_object_put(val);
		return -1;
	}
	return 0;
}

static struct json_object *json_ids(const uint32_t *ids, uint32_t n)
{
	struct json_object *arr = json_object_new_array();
	uint32_t i;

	if (!arr)
		return NULL;
	for (i = 0; i < n && i < ASH_ACL_MAX; i++) {
		struct json_object *v = json_object_new_int64(ids[i]);

		if (!v || json_object_array_add(arr, v)) {
			json_object_put(v);
			json_object_put(arr);
			return NULL;
		}
	}
	return arr;
}

static struct json_object *json_partition(const struct ash_partition_info *p)
{
	struct json_object *o = json_object_new_object();
	char name[CELL_MAX];
	int bad = 0;

	if (!o)
		return NULL;
	fmt_name(name, p->name);
	bad |= json_set(o, "id", json_object_new_int64(p->id));
	bad |= json_set(o, "name", json_object_new_string(name));
	bad |= json_set(o, "device", json_object_new_int64(p->device));
	bad |= json_set(o, "mem_max", json_object_new_uint64(p->mem_max));
	bad |= json_set(o, "mem_min", json_object_new_uint64(p->mem_min));
	bad |= json_set(o, "mem_used", json_object_new_uint64(p->mem_used));
	bad |= json_set(o, "weight", json_object_new_int64(p->weight));
	bad |= json_set(o, "contexts", json_object_new_int64(p->nr_contexts));
	bad |= json_set(o, "buffers", json_object_new_int64(p->nr_buffers));
	bad |= json_set(o, "max_contexts",
			json_object_new_int64(p->max_contexts));
	bad |= json_set(o, "max_buffers",
			json_object_new_int64(p->max_buffers));
	bad |= json_set(o, "busy_ns", json_object_new_uint64(p->busy_ns));
	bad |= json_set(o, "uids", json_ids(p->uids, p->nr_uids));
	bad |= json_set(o, "gids", json_ids(p->gids, p->nr_gids));
	if (bad) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static struct json_object *json_device(const struct ash_device_info *d)
{
	struct json_object *o = json_object_new_object();
	int bad = 0;

	if (!o)
		return NULL;
	bad |= json_set(o, "id", json_object_new_int64(d->device));
	bad |= json_set(o, "kind", json_object_new_string(kind_name(d->kind)));
	bad |= json_set(o, "numa_node", json_object_new_int64(d->numa_node));
	bad |= json_set(o, "mem_capacity",
			json_object_new_uint64(d->mem_capacity));
	bad |= json_set(o, "mem_used", json_object_new_uint64(d->mem_used));
	bad |= json_set(o, "mem_min_total",
			json_object_new_uint64(d->mem_min_total));
	bad |= json_set(o, "partitions",
			json_object_new_int64(d->nr_partitions));
	bad |= json_set(o, "contexts", json_object_new_int64(d->nr_contexts));
	bad |= json_set(o, "slice_us", json_object_new_int64(d->slice_us));
	if (bad) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static struct json_object *json_context(const struct ash_context_info *c)
{
	struct json_object *o = json_object_new_object();
	char name[CELL_MAX];
	int bad = 0;

	if (!o)
		return NULL;
	fmt_name(name, c->partition);
	bad |= json_set(o, "id", json_object_new_int64(c->id));
	bad |= json_set(o, "pid", json_object_new_int64(c->pid));
	bad |= json_set(o, "uid", json_object_new_int64(c->uid));
	bad |= json_set(o, "partition", json_object_new_string(name));
	bad |= json_set(o, "partition_id",
			json_object_new_int64(c->partition_id));
	bad |= json_set(o, "device", json_object_new_int64(c->device));
	bad |= json_set(o, "mem_used", json_object_new_uint64(c->mem_used));
	bad |= json_set(o, "buffers", json_object_new_int64(c->nr_buffers));
	bad |= json_set(o, "busy_ns", json_object_new_uint64(c->busy_ns));
	if (bad) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* Builds a JSON array of @n elements of @size bytes with @one. */
static struct json_object *json_array(const void *items, size_t n,
				      size_t size,
				      struct json_object *(*one)(const void *))
{
	struct json_object *arr = json_object_new_array();
	size_t i;

	if (!arr)
		return NULL;
	for (i = 0; i < n; i++) {
		struct json_object *v = one((const char *)items + i * size);

		if (!v || json_object_array_add(arr, v)) {
			json_object_put(v);
			json_object_put(arr);
			return NULL;
		}
	}
	return arr;
}

static struct json_object *one_partition(const void *p)
{
	return json_partition(p);
}

static struct json_object *one_device(const void *d)
{
	return json_device(d);
}

static struct json_object *one_context(const void *c)
{
	return json_context(c);
}

/* The partitions table; @full adds id, buffers, limits and access. */
static int print_partitions(const struct ash_partition_info *p, size_t n,
			    int full)
{
	static const char *const full_hdr[] = {
		"ID", "NAME", "DEV", "MEM_MAX", "MEM_MIN", "USED", "USED%",
		"WEIGHT", "CTX", "BUFS", "MAX_CTX", "MAX_BUFS", "BUSY",
		"ACCESS",
	};
	static const char *const short_hdr[] = {
		"NAME", "DEV", "MEM_MAX", "MEM_MIN", "USED", "USED%", "WEIGHT",
		"CTX", "BUSY",
	};
	char c[14][CELL_MAX];
	const char *cells[14];
	struct table *t;
	size_t i, k;

	if (!n) {
		puts("no partitions");
		return EXIT_OK;
	}
	t = table_new(full ? "rlrrrrrrrrrrrl" : "lrrrrrrrr",
		      full ? full_hdr : short_hdr);
	if (!t)
		goto oom;
	for (i = 0; i < n; i++) {
		k = 0;
		if (full)
			snprintf(c[k++], CELL_MAX, "%u", p[i].id);
		fmt_name(c[k++], p[i].name);
		snprintf(c[k++], CELL_MAX, "%u", p[i].device);
		fmt_size(c[k++], p[i].mem_max);
		fmt_size(c[k++], p[i].mem_min);
		fmt_size(c[k++], p[i].mem_used);
		fmt_percent(c[k++], p[i].mem_used, p[i].mem_max);
		snprintf(c[k++], CELL_MAX, "%u", p[i].weight);
		snprintf(c[k++], CELL_MAX, "%u", p[i].nr_contexts);
		if (full) {
			snprintf(c[k++], CELL_MAX, "%u", p[i].nr_buffers);
			snprintf(c[k++], CELL_MAX, "%u", p[i].max_contexts);
			snprintf(c[k++], CELL_MAX, "%u", p[i].max_buffers);
		}
		fmt_busy(c[k++], p[i].busy_ns);
		if (full)
			fmt_access(c[k++], &p[i]);
		for (k = 0; k < 14; k++)
			cells[k] = c[k];
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

static void print_device(const struct ash_device_info *d)
{
	char cap[CELL_MAX], used[CELL_MAX], min[CELL_MAX], pct[CELL_MAX];
	char numa[32];

	fmt_size(cap, d->mem_capacity);
	fmt_size(used, d->mem_used);
	fmt_size(min, d->mem_min_total);
	fmt_percent(pct, d->mem_used, d->mem_capacity);
	if (d->numa_node < 0)
		snprintf(numa, sizeof(numa), "any");
	else
		snprintf(numa, sizeof(numa), "%d", d->numa_node);
	printf("device %u: %s memory, NUMA node %s, time slice %u us\n",
	       d->device, kind_name(d->kind), numa, d->slice_us);
	printf("  memory      %s used of %s (%s), %s guaranteed\n", used, cap,
	       pct, min);
	printf("  partitions  %u, contexts %u\n", d->nr_partitions,
	       d->nr_contexts);
}

/* Parses, opens the control node; returns an exit status or -1 to go on. */
static int start(int argc, char **argv, const char *topic,
		 struct simple_opts *o, int *fd)
{
	char err[ARGS_ERR_MAX];

	if (args_simple_parse(topic, argc, argv, true, false, o, err,
			      sizeof(err)))
		return usage_error(err);
	if (o->help) {
		help_print(topic, stdout);
		return EXIT_OK;
	}
	*fd = ctl_open();
	return *fd < 0 ? EXIT_FAIL : -1;
}

int cmd_status(int argc, char **argv)
{
	struct ash_partition_info *parts = NULL;
	struct ash_device_info *devs = NULL;
	size_t ndevs = 0, nparts = 0, i;
	struct simple_opts o;
	int fd, ret;

	ret = start(argc, argv, "status", &o, &fd);
	if (ret >= 0)
		return ret;
	ret = ctl_devices(fd, &devs, &ndevs);
	if (ret) {
		ctl_error("cannot list devices", ret);
		ret = EXIT_FAIL;
		goto out;
	}
	ret = ctl_partitions(fd, &parts, &nparts);
	if (ret) {
		ctl_error("cannot list partitions", ret);
		ret = EXIT_FAIL;
		goto out;
	}
	if (o.json) {
		struct json_object *obj = json_object_new_object();
		int bad = !obj;

		if (obj) {
			bad |= json_set(obj, "devices",
					json_array(devs, ndevs, sizeof(*devs),
						   one_device));
			bad |= json_set(obj, "partitions",
					json_array(parts, nparts,
						   sizeof(*parts),
						   one_partition));
		}
		if (bad) {
			json_object_put(obj);
			obj = NULL;
		}
		ret = print_json(obj);
		goto out;
	}
	for (i = 0; i < ndevs; i++)
		print_device(&devs[i]);
	if (!ndevs)
		puts("no devices");
	putchar('\n');
	ret = print_partitions(parts, nparts, 0);
out:
	free(devs);
	free(parts);
	close(fd);
	return ret;
}

int cmd_partition_list(int argc, char **argv)
{
	struct ash_partition_info *parts = NULL;
	struct simple_opts o;
	size_t n = 0;
	int fd, ret;

	ret = start(argc, argv, "partition list", &o, &fd);
	if (ret >= 0)
		return ret;
	ret = ctl_partitions(fd, &parts, &n);
	if (ret) {
		ctl_error("cannot list partitions", ret);
		ret = EXIT_FAIL;
	} else if (o.json) {
		ret = print_json(json_array(parts, n, sizeof(*parts),
					    one_partition));
	} else {
		ret = print_partitions(parts, n, 1);
	}
	free(parts);
	close(fd);
	return ret;
}

static int print_contexts(const struct ash_context_info *c, size_t n)
{
	static const char *const hdr[] = {
		"ID", "PID", "USER", "PARTITION", "DEV", "USED", "BUFS", "BUSY",
	};
	char cell[8][CELL_MAX];
	const char *cells[8];
	struct table *t;
	size_t i, k;

	if (!n) {
		puts("no contexts");
		return EXIT_OK;
	}
	t = table_new("rrllrrrr", hdr);
	if (!t)
		goto oom;
	for (i = 0; i < n; i++) {
		snprintf(cell[0], CELL_MAX, "%u", c[i].id);
		/* pid 0: the opener is not visible in our pid namespace. */
		if (c[i].pid)
			snprintf(cell[1], CELL_MAX, "%d", c[i].pid);
		else
			snprintf(cell[1], CELL_MAX, "-");
		fmt_user(cell[2], CELL_MAX, c[i].uid);
		fmt_name(cell[3], c[i].partition);
		snprintf(cell[4], CELL_MAX, "%u", c[i].device);
		fmt_size(cell[5], c[i].mem_used);
		snprintf(cell[6], CELL_MAX, "%u", c[i].nr_buffers);
		fmt_busy(cell[7], c[i].busy_ns);
		for (k = 0; k < 8; k++)
			cells[k] = cell[k];
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

int cmd_contexts(int argc, char **argv)
{
	struct ash_context_info *ctxs = NULL;
	struct simple_opts o;
	size_t n = 0;
	int fd, ret;

	ret = start(argc, argv, "contexts", &o, &fd);
	if (ret >= 0)
		return ret;
	ret = ctl_contexts(fd, &ctxs, &n);
	if (ret) {
		ctl_error("cannot list contexts", ret);
		ret = EXIT_FAIL;
	} else if (o.json) {
		ret = print_json(json_array(ctxs, n, sizeof(*ctxs),
					    one_context));
	} else {
		ret = print_contexts(ctxs, n);
	}
	free(ctxs);
	close(fd);
	return ret;
}
