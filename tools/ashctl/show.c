/* SPDX-License-Identifier: MIT */
/*
 * The read-only commands: status, partition list, device list, contexts.
 * Tables for people, JSON (built with json-c) for scripts.
 */
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/parse.h"
#include "args.h"
#include "ashctl.h"
#include "ctl.h"
#include "json_out.h"
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

/* Op-table cost units, compact: "-" for none, "16.8M", "2.1G". */
static void fmt_units(char *buf, uint64_t units)
{
	if (!units)
		snprintf(buf, CELL_MAX, "-");
	else if (units < 1000000)
		snprintf(buf, CELL_MAX, "%llu", (unsigned long long)units);
	else if (units < 1000000000)
		snprintf(buf, CELL_MAX, "%.1fM", (double)units / 1e6);
	else
		snprintf(buf, CELL_MAX, "%.1fG", (double)units / 1e9);
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

/* A duration for people: "850 ns", "12 us", "3.4 ms", "1.250 s". */
static void fmt_duration(char *buf, uint64_t ns)
{
	if (ns < 1000)
		snprintf(buf, CELL_MAX, "%llu ns", (unsigned long long)ns);
	else if (ns < 1000000)
		snprintf(buf, CELL_MAX, "%llu us",
			 (unsigned long long)(ns / 1000));
	else if (ns < 1000000000)
		snprintf(buf, CELL_MAX, "%llu.%llu ms",
			 (unsigned long long)(ns / 1000000),
			 (unsigned long long)(ns % 1000000 / 100000));
	else
		fmt_busy(buf, ns);
}

/* Mean queue wait per completed job, "-" before the first one. */
static void fmt_wait(char *buf, uint64_t wait_ns, uint64_t jobs)
{
	if (!jobs)
		snprintf(buf, CELL_MAX, "-");
	else
		fmt_duration(buf, wait_ns / jobs);
}

static void fmt_u64(char *buf, uint64_t v)
{
	snprintf(buf, CELL_MAX, "%llu", (unsigned long long)v);
}

/*
 * A partition's share of its device's engine time: its busy_ns over the
 * sum of busy_ns of the partitions of @parts on the same device.  False
 * (no share) when that sum is 0.
 */
static bool part_share(const struct ash_partition_info *parts, size_t n,
		       size_t i, double *share)
{
	unsigned __int128 sum = 0;
	size_t k;

	for (k = 0; k < n; k++)
		if (parts[k].device == parts[i].device)
			sum += parts[k].busy_ns;
	if (!sum)
		return false;
	*share = (double)parts[i].busy_ns / (double)sum;
	return true;
}

static void fmt_share(char *buf, const struct ash_partition_info *parts,
		      size_t n, size_t i)
{
	double share;

	if (part_share(parts, n, i, &share))
		snprintf(buf, CELL_MAX, "%.1f%%", share * 100);
	else
		snprintf(buf, CELL_MAX, "-");
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
	switch (kind) {
	case ASH_DEVICE_HOST:
		return "host";
	case ASH_DEVICE_NOMAP:
		return "nomap";
	case ASH_DEVICE_ENGINE:
		return "engine";
	default:
		return "unknown";
	}
}

/* As json_set(), but @key is null where @present is false. */
static int json_set_opt(struct json_object *obj, const char *key,
			bool present, struct json_object *(*make)(const void *),
			const void *arg)
{
	if (!present)
		return json_object_object_add(obj, key, NULL) ? -1 : 0;
	return json_set(obj, key, make(arg));
}

static struct json_object *json_string(const void *s)
{
	return json_object_new_string(s);
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

/*
 * Adds "share" to @o: a number 0..1, or null where there is no share
 * (nothing on the device has used the engine yet).
 */
static int json_set_share(struct json_object *o,
			  const struct ash_partition_info *parts, size_t n,
			  size_t i)
{
	char str[32];
	double share;

	if (!part_share(parts, n, i, &share))
		return json_object_object_add(o, "share", NULL) ? -1 : 0;
	/* Four decimals are plenty, and spare scripts 0.33333333333333331. */
	snprintf(str, sizeof(str), "%.4f", share);
	return json_set(o, "share",
			json_object_new_double_s(strtod(str, NULL), str));
}

/*
 * One element of a JSON array: element @i of the @n elements at @items
 * (all of them, because a partition's share depends on the others).
 */
typedef struct json_object *(*json_elem_fn)(const void *items, size_t n,
					    size_t i);

static struct json_object *json_partition(const void *items, size_t n,
					  size_t i)
{
	const struct ash_partition_info *parts = items, *p = &parts[i];
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
	bad |= json_set(o, "mem_kib_seconds",
			json_object_new_uint64(p->mem_kib_seconds));
	bad |= json_set(o, "busy_ns", json_object_new_uint64(p->busy_ns));
	bad |= json_set_share(o, parts, n, i);
	bad |= json_set(o, "jobs_completed",
			json_object_new_uint64(p->jobs_completed));
	bad |= json_set(o, "jobs_failed",
			json_object_new_uint64(p->jobs_failed));
	bad |= json_set(o, "jobs_timed_out",
			json_object_new_uint64(p->jobs_timed_out));
	bad |= json_set(o, "wait_ns", json_object_new_uint64(p->wait_ns));
	bad |= json_set(o, "jobs_queued",
			json_object_new_uint64(p->jobs_queued));
	bad |= json_set(o, "uids", json_ids(p->uids, p->nr_uids));
	bad |= json_set(o, "gids", json_ids(p->gids, p->nr_gids));
	if (bad) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* The accelerator an engine registered (see json_set_opt()). */
static struct json_object *json_gpu(const void *arg)
{
	const struct ash_device_info *d = arg;
	struct json_object *o;
	int bad = 0;

	o = json_object_new_object();
	if (!o)
		return NULL;
	bad |= json_set(o, "model", json_object_new_string(d->gpu_model));
	bad |= json_set(o, "index", json_object_new_int64(d->gpu_index));
	bad |= json_set_opt(o, "pci_bus_id", d->gpu_bus_id[0], json_string,
			    d->gpu_bus_id);
	bad |= json_set(o, "numa_node",
			json_object_new_int64(d->gpu_numa_node));
	if (bad) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static struct json_object *json_device(const void *items, size_t n,
				       size_t i)
{
	const struct ash_device_info *d = (const struct ash_device_info *)items + i;
	struct json_object *o = json_object_new_object();
	int bad = 0;

	(void)n;

	if (!o)
		return NULL;
	bad |= json_set(o, "id", json_object_new_int64(d->device));
	bad |= json_set(o, "name", json_object_new_string(d->name));
	bad |= json_set(o, "kind", json_object_new_string(kind_name(d->kind)));
	bad |= json_set_opt(o, "backend", d->backend[0], json_string,
			    d->backend);
	bad |= json_set_opt(o, "gpu", d->gpu_model[0] || d->gpu_bus_id[0],
			    json_gpu, d);
	bad |= json_set(o, "persistent",
			json_object_new_boolean(!!d->persistent));
	bad |= json_set(o, "mem_scrubbing",
			json_object_new_uint64(d->mem_scrubbing));
	bad |= json_set(o, "buffers_lost",
			json_object_new_uint64(d->buffers_lost));
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
	bad |= json_set(o, "job_timeout_ms",
			json_object_new_int64(d->job_timeout_ms));
	bad |= json_set(o, "job_budget", json_object_new_uint64(d->job_budget));
	bad |= json_set(o, "jobs_timed_out",
			json_object_new_uint64(d->jobs_timed_out));
	bad |= json_set(o, "engine", json_object_new_boolean(!!d->has_engine));
	bad |= json_set(o, "engine_pid", json_object_new_int64(d->engine_pid));
	bad |= json_set(o, "mem_kib_seconds",
			json_object_new_uint64(d->mem_kib_seconds));
	bad |= json_set(o, "busy_ns", json_object_new_uint64(d->busy_ns));
	bad |= json_set(o, "jobs_queued",
			json_object_new_uint64(d->jobs_queued));
	if (bad) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static struct json_object *json_context(const void *items, size_t n,
					size_t i)
{
	const struct ash_context_info *c = (const struct ash_context_info *)items + i;
	struct json_object *o = json_object_new_object();
	char name[CELL_MAX];
	int bad = 0;

	(void)n;

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
	bad |= json_set(o, "mem_kib_seconds",
			json_object_new_uint64(c->mem_kib_seconds));
	bad |= json_set(o, "busy_ns", json_object_new_uint64(c->busy_ns));
	bad |= json_set(o, "jobs_completed",
			json_object_new_uint64(c->jobs_completed));
	bad |= json_set(o, "jobs_failed",
			json_object_new_uint64(c->jobs_failed));
	bad |= json_set(o, "jobs_timed_out",
			json_object_new_uint64(c->jobs_timed_out));
	bad |= json_set(o, "banned", json_object_new_boolean(!!c->banned));
	bad |= json_set(o, "wait_ns", json_object_new_uint64(c->wait_ns));
	if (bad) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* A JSON array of the @n elements at @items, each built by @elem. */
static struct json_object *json_array(const void *items, size_t n,
				      json_elem_fn elem)
{
	struct json_object *arr = json_object_new_array();
	size_t i;

	if (!arr)
		return NULL;
	for (i = 0; i < n; i++) {
		struct json_object *v = elem(items, n, i);

		if (!v || json_object_array_add(arr, v)) {
			json_object_put(v);
			json_object_put(arr);
			return NULL;
		}
	}
	return arr;
}

/*
 * Fills the cells of row @i, one CELL_MAX buffer per column; @arg is the
 * printer's own (the rows, and for partitions the chosen columns).
 */
typedef void (*row_fn)(char (*cell)[CELL_MAX], const void *arg, size_t i);

/* Prints @nrows rows of strlen(@align) columns under @hdr, or @none. */
static int print_table(const char *none, size_t nrows, const char *align,
		       const char *const *hdr, row_fn row, const void *arg)
{
	size_t ncols = strlen(align), i, k;
	char (*buf)[CELL_MAX] = NULL;
	const char **cells = NULL;
	struct table *t = NULL;

	if (!nrows) {
		puts(none);
		return EXIT_OK;
	}
	buf = malloc(ncols * sizeof(*buf));
	cells = malloc(ncols * sizeof(*cells));
	if (!buf || !cells)
		goto oom;
	t = table_new(align, hdr);
	if (!t)
		goto oom;
	for (k = 0; k < ncols; k++)
		cells[k] = buf[k];
	for (i = 0; i < nrows; i++) {
		row(buf, arg, i);
		if (table_row(t, cells))
			goto oom;
	}
	table_print(t, stdout);
	table_free(t);
	free(cells);
	free(buf);
	return EXIT_OK;
oom:
	table_free(t);
	free(cells);
	free(buf);
	fprintf(stderr, "ashctl: out of memory.\n");
	return EXIT_FAIL;
}

/* Which partition table to print. */
enum part_view {
	VIEW_STATUS = 1 << 0,	/* "status": the essentials */
	VIEW_LIST = 1 << 1,	/* "partition list": engine use and access */
	VIEW_WIDE = 1 << 2,	/* "partition list --wide": ids and limits */
};

#define V_ALL	(VIEW_STATUS | VIEW_LIST | VIEW_WIDE)
#define V_LIST	(VIEW_LIST | VIEW_WIDE)

enum part_col {
	PC_ID, PC_NAME, PC_DEV, PC_MEM_MAX, PC_MEM_MIN, PC_USED, PC_USED_PCT,
	PC_WEIGHT, PC_CTX, PC_BUFS, PC_MAX_CTX, PC_MAX_BUFS, PC_BUSY, PC_SHARE,
	PC_JOBS, PC_FAILED, PC_WAIT, PC_ACCESS, PC_COUNT,
};

static const struct {
	const char *header;
	char align;
	unsigned int views;
} part_cols[PC_COUNT] = {
	[PC_ID] = { "ID", 'r', VIEW_WIDE },
	[PC_NAME] = { "NAME", 'l', V_ALL },
	[PC_DEV] = { "DEV", 'r', V_ALL },
	[PC_MEM_MAX] = { "MEM_MAX", 'r', V_ALL },
	[PC_MEM_MIN] = { "MEM_MIN", 'r', V_ALL },
	[PC_USED] = { "USED", 'r', V_ALL },
	[PC_USED_PCT] = { "USED%", 'r', V_ALL },
	[PC_WEIGHT] = { "WEIGHT", 'r', V_ALL },
	[PC_CTX] = { "CTX", 'r', V_ALL },
	[PC_BUFS] = { "BUFS", 'r', VIEW_WIDE },
	[PC_MAX_CTX] = { "MAX_CTX", 'r', VIEW_WIDE },
	[PC_MAX_BUFS] = { "MAX_BUFS", 'r', VIEW_WIDE },
	[PC_BUSY] = { "BUSY", 'r', V_ALL },
	[PC_SHARE] = { "SHARE", 'r', V_ALL },
	[PC_JOBS] = { "JOBS", 'r', V_LIST },
	[PC_FAILED] = { "FAILED", 'r', V_LIST },
	[PC_WAIT] = { "WAIT", 'r', V_LIST },
	[PC_ACCESS] = { "ACCESS", 'l', V_LIST },
};

/* Fills @buf with column @col of partition @i of @p. */
static void part_cell(char *buf, enum part_col col,
		      const struct ash_partition_info *p, size_t n, size_t i)
{
	const struct ash_partition_info *q = &p[i];

	switch (col) {
	case PC_ID:
		fmt_u64(buf, q->id);
		break;
	case PC_NAME:
		fmt_name(buf, q->name);
		break;
	case PC_DEV:
		fmt_u64(buf, q->device);
		break;
	case PC_MEM_MAX:
		fmt_size(buf, q->mem_max);
		break;
	case PC_MEM_MIN:
		fmt_size(buf, q->mem_min);
		break;
	case PC_USED:
		fmt_size(buf, q->mem_used);
		break;
	case PC_USED_PCT:
		fmt_percent(buf, q->mem_used, q->mem_max);
		break;
	case PC_WEIGHT:
		fmt_u64(buf, q->weight);
		break;
	case PC_CTX:
		fmt_u64(buf, q->nr_contexts);
		break;
	case PC_BUFS:
		fmt_u64(buf, q->nr_buffers);
		break;
	case PC_MAX_CTX:
		fmt_u64(buf, q->max_contexts);
		break;
	case PC_MAX_BUFS:
		fmt_u64(buf, q->max_buffers);
		break;
	case PC_BUSY:
		fmt_busy(buf, q->busy_ns);
		break;
	case PC_SHARE:
		fmt_share(buf, p, n, i);
		break;
	case PC_JOBS:
		fmt_u64(buf, q->jobs_completed);
		break;
	case PC_FAILED:
		fmt_u64(buf, q->jobs_failed);
		break;
	case PC_WAIT:
		fmt_wait(buf, q->wait_ns, q->jobs_completed);
		break;
	case PC_ACCESS:
		fmt_access(buf, q);
		break;
	default:
		buf[0] = '\0';
		break;
	}
}

/* The partitions and the columns print_partitions() chose. */
struct part_table {
	const struct ash_partition_info *p;
	size_t n;
	enum part_col cols[PC_COUNT];
	size_t ncols;
};

static void part_row(char (*cell)[CELL_MAX], const void *arg, size_t i)
{
	const struct part_table *pt = arg;

	for (size_t k = 0; k < pt->ncols; k++)
		part_cell(cell[k], pt->cols[k], pt->p, pt->n, i);
}

/* The partitions table, with the columns of @view. */
static int print_partitions(const struct ash_partition_info *p, size_t n,
			    enum part_view view)
{
	struct part_table pt = { .p = p, .n = n };
	const char *hdr[PC_COUNT];
	char align[PC_COUNT + 1];

	for (size_t k = 0; k < PC_COUNT; k++) {
		if (!(part_cols[k].views & view))
			continue;
		pt.cols[pt.ncols] = (enum part_col)k;
		hdr[pt.ncols] = part_cols[k].header;
		align[pt.ncols++] = part_cols[k].align;
	}
	align[pt.ncols] = '\0';
	return print_table("no partitions", n, align, hdr, part_row, &pt);
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
	printf("device %u (%s): %s memory, NUMA node %s, time slice %u us, job timeout %u ms\n",
	       d->device, d->name, kind_name(d->kind), numa, d->slice_us,
	       d->job_timeout_ms);
	if (d->kind == ASH_DEVICE_ENGINE)
		printf("  backend     %s, its memory %s the engine\n",
		       d->backend, d->persistent ? "outlives" : "dies with");
	if (d->gpu_model[0])
		printf("  gpu         %s (index %u, PCI %s, NUMA node %d)\n",
		       d->gpu_model, d->gpu_index,
		       d->gpu_bus_id[0] ? d->gpu_bus_id : "unknown",
		       d->gpu_numa_node);
	printf("  memory      %s used of %s (%s), %s guaranteed\n", used, cap,
	       pct, min);
	if (d->mem_scrubbing || d->buffers_lost) {
		fmt_size(min, d->mem_scrubbing);
		printf("  scrubbing   %s freed, waiting for the engine to clear it; %llu buffer%s lost\n",
		       min, (unsigned long long)d->buffers_lost,
		       d->buffers_lost == 1 ? "" : "s");
	}
	printf("  partitions  %u, contexts %u\n", d->nr_partitions,
	       d->nr_contexts);
	fmt_busy(min, d->busy_ns);
	if (!d->has_engine)
		printf("  engine      none attached");
	else if (d->engine_pid)
		printf("  engine      attached, pid %d", d->engine_pid);
	else
		printf("  engine      attached (pid not visible here)");
	printf(", %llu job%s queued, %s busy\n",
	       (unsigned long long)d->jobs_queued,
	       d->jobs_queued == 1 ? "" : "s", min);
	fmt_units(min, d->job_budget);
	printf("  jobs        budget %s units, %llu timed out\n", min,
	       (unsigned long long)d->jobs_timed_out);
}

/* Parses, opens the control node; returns an exit status or -1 to go on. */
static int start(int argc, char **argv, const char *topic,
		 unsigned int allow, struct simple_opts *o, int *fd)
{
	char err[ARGS_ERR_MAX];

	if (args_cmd_parse(topic, argc, argv, allow, o, err, sizeof(err)))
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

	ret = start(argc, argv, "status", ARGS_JSON, &o, &fd);
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
					json_array(devs, ndevs, json_device));
			bad |= json_set(obj, "partitions",
					json_array(parts, nparts, json_partition));
		}
		if (bad) {
			json_object_put(obj);
			obj = NULL;
		}
		ret = json_print(obj);
		goto out;
	}
	for (i = 0; i < ndevs; i++)
		print_device(&devs[i]);
	if (!ndevs)
		puts("no devices");
	putchar('\n');
	ret = print_partitions(parts, nparts, VIEW_STATUS);
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

	ret = start(argc, argv, "partition list", ARGS_JSON | ARGS_WIDE, &o,
		    &fd);
	if (ret >= 0)
		return ret;
	ret = ctl_partitions(fd, &parts, &n);
	if (ret) {
		ctl_error("cannot list partitions", ret);
		ret = EXIT_FAIL;
	} else if (o.json) {
		ret = json_print(json_array(parts, n, json_partition));
	} else {
		ret = print_partitions(parts, n, o.wide ? VIEW_WIDE : VIEW_LIST);
	}
	free(parts);
	close(fd);
	return ret;
}

static void context_row(char (*cell)[CELL_MAX], const void *arg, size_t i)
{
	const struct ash_context_info *c = (const struct ash_context_info *)arg + i;

	fmt_u64(cell[0], c->id);
	/* pid 0: the opener is not visible in our pid namespace. */
	if (c->pid)
		snprintf(cell[1], CELL_MAX, "%d", c->pid);
	else
		snprintf(cell[1], CELL_MAX, "-");
	fmt_user(cell[2], CELL_MAX, c->uid);
	fmt_name(cell[3], c->partition);
	fmt_u64(cell[4], c->device);
	fmt_size(cell[5], c->mem_used);
	fmt_u64(cell[6], c->nr_buffers);
	fmt_busy(cell[7], c->busy_ns);
	fmt_u64(cell[8], c->jobs_completed);
	fmt_u64(cell[9], c->jobs_failed);
	fmt_wait(cell[10], c->wait_ns, c->jobs_completed);
}

static int print_contexts(const struct ash_context_info *c, size_t n)
{
	static const char *const hdr[] = {
		"ID", "PID", "USER", "PARTITION", "DEV", "USED", "BUFS", "BUSY",
		"JOBS", "FAILED", "WAIT",
	};

	return print_table("no contexts", n, "rrllrrrrrrr", hdr, context_row,
			   c);
}

int cmd_contexts(int argc, char **argv)
{
	struct ash_context_info *ctxs = NULL;
	struct simple_opts o;
	size_t n = 0;
	int fd, ret;

	ret = start(argc, argv, "contexts", ARGS_JSON, &o, &fd);
	if (ret >= 0)
		return ret;
	ret = ctl_contexts(fd, &ctxs, &n);
	if (ret) {
		ctl_error("cannot list contexts", ret);
		ret = EXIT_FAIL;
	} else if (o.json) {
		ret = json_print(json_array(ctxs, n, json_context));
	} else {
		ret = print_contexts(ctxs, n);
	}
	free(ctxs);
	close(fd);
	return ret;
}

static void device_row(char (*cell)[CELL_MAX], const void *arg, size_t i)
{
	const struct ash_device_info *d = (const struct ash_device_info *)arg + i;

	fmt_u64(cell[0], d->device);
	snprintf(cell[1], CELL_MAX, "%s", d->name);
	snprintf(cell[2], CELL_MAX, "%s", kind_name(d->kind));
	snprintf(cell[3], CELL_MAX, "%s", d->backend[0] ? d->backend : "-");
	if (d->numa_node < 0)
		snprintf(cell[4], CELL_MAX, "any");
	else
		snprintf(cell[4], CELL_MAX, "%d", d->numa_node);
	fmt_size(cell[5], d->mem_capacity);
	fmt_size(cell[6], d->mem_used);
	fmt_size(cell[7], d->mem_min_total);
	fmt_u64(cell[8], d->nr_partitions);
	fmt_u64(cell[9], d->nr_contexts);
	snprintf(cell[10], CELL_MAX, "%u us", d->slice_us);
	if (!d->has_engine)
		snprintf(cell[11], CELL_MAX, "none");
	else if (d->engine_pid)
		snprintf(cell[11], CELL_MAX, "pid %d", d->engine_pid);
	else
		snprintf(cell[11], CELL_MAX, "yes");
	fmt_u64(cell[12], d->jobs_queued);
	fmt_busy(cell[13], d->busy_ns);
	snprintf(cell[14], CELL_MAX, "%u ms", d->job_timeout_ms);
	fmt_units(cell[15], d->job_budget);
	if (d->gpu_model[0])
		snprintf(cell[16], CELL_MAX, "%.24s %s", d->gpu_model,
			 d->gpu_bus_id[0] ? d->gpu_bus_id : "");
	else
		snprintf(cell[16], CELL_MAX, "-");
}

static int print_devices(const struct ash_device_info *d, size_t n)
{
	static const char *const hdr[] = {
		"DEV", "NAME", "KIND", "BACKEND", "NUMA", "CAPACITY", "USED",
		"GUARANTEED", "PARTS", "CTX", "SLICE", "ENGINE", "QUEUED",
		"BUSY", "TIMEOUT", "BUDGET", "GPU",
	};

	return print_table("no devices", n, "rlllrrrrrrrrrrrrl", hdr,
			   device_row, d);
}

int cmd_device_list(int argc, char **argv)
{
	struct ash_device_info *devs = NULL;
	struct simple_opts o;
	size_t n = 0;
	int fd, ret;

	ret = start(argc, argv, "device list", ARGS_JSON, &o, &fd);
	if (ret >= 0)
		return ret;
	ret = ctl_devices(fd, &devs, &n);
	if (ret) {
		ctl_error("cannot list devices", ret);
		ret = EXIT_FAIL;
	} else if (o.json) {
		ret = json_print(json_array(devs, n, json_device));
	} else {
		ret = print_devices(devs, n);
	}
	free(devs);
	close(fd);
	return ret;
}
