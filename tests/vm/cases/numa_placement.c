// SPDX-License-Identifier: MIT
/*
 * NUMA placement on a two-node VM (tests/vm/run.sh boots qemu with two
 * nodes, one CPU and half the memory each): with the module loaded with
 * numa_node=1,
 *   - device 0 reports node 1, and every page of a tenant's buffer is on
 *     node 1 (move_pages(2) asked through the tenant's mapping);
 *   - ash_model_load(), called from a thread pinned to node 0, runs its
 *     reads on node 1's CPUs (the progress callback, called from the
 *     loading thread, records the CPU it runs on) and gives the caller its
 *     CPU affinity back afterwards;
 *   - accelshare-engine serving device 0 runs every thread on node 1's CPUs.
 * Skips on a VM with one node.  The case reloads the module itself with
 * numa_node=1 (the runner unloads it afterwards).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vmtest.h"
#include "vtexec.h"

#define PART		"numa"
#define MODEL		"/tmp/numa.safetensors"
#define MODEL_BYTES	(24 * MiB)
#define NODE1		"/sys/devices/system/node/node1"

/* A CPU list as the kernel writes it ("0-3,6") into @set. */
static void parse_cpulist(const char *list, cpu_set_t *set)
{
	const char *p = list;

	CPU_ZERO(set);
	while (*p) {
		char *end;
		long a = strtol(p, &end, 10), b = a;

		if (end == p)
			break;
		if (*end == '-')
			b = strtol(end + 1, &end, 10);
		for (long c = a; c <= b; c++)
			CPU_SET((int)c, set);
		p = *end == ',' ? end + 1 : end;
	}
}

/* The CPUs of node @node as a set, from sysfs. */
static void node_cpus(int node, cpu_set_t *set)
{
	char path[128], list[256];
	FILE *f;

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/cpulist",
		 node);
	f = fopen(path, "r");
	REQUIRE(f && fgets(list, sizeof(list), f), "read %s", path);
	fclose(f);
	parse_cpulist(list, set);
	REQUIRE(CPU_COUNT(set) > 0, "node %d has CPUs", node);
}

/* Reload the module with numa_node=1. */
static void reload_on_node1(void)
{
	char params[256];
	int fd;

	snprintf(params, sizeof(params), "%s numa_node=1",
		 getenv("ASH_VM_PARAMS") ? getenv("ASH_VM_PARAMS") : "mem=256M");
	REQUIRE(syscall(SYS_delete_module, "accelshare", O_NONBLOCK) == 0,
		"rmmod accelshare: %s", strerror(errno));
	fd = open("/accelshare.ko", O_RDONLY | O_CLOEXEC);
	REQUIRE(fd >= 0, "open /accelshare.ko: %s", strerror(errno));
	REQUIRE(syscall(SYS_finit_module, fd, params, 0) == 0,
		"insmod accelshare.ko %s: %s", params, strerror(errno));
	close(fd);
	printf("module reloaded with: %s\n", params);
}

static void buffer_pages_on_node1(void)
{
	enum { PAGES = 1024 };	/* 4 MiB */
	static void *pages[PAGES];
	static int status[PAGES];
	uint64_t off;
	uint32_t h;
	int fd, on1 = 0;
	char *p;

	fd = vt_tenant_open(PART);
	REQUIRE_OK(vt_buf_alloc(fd, PAGES * VT_PAGE, &h, &off), "alloc 4 MiB");
	p = vt_buf_map(fd, off, PAGES * VT_PAGE);
	for (int i = 0; i < PAGES; i++)
		pages[i] = p + (size_t)i * VT_PAGE;
	REQUIRE(syscall(SYS_move_pages, 0, PAGES, pages, NULL, status, 0) == 0,
		"move_pages (query): %s", strerror(errno));
	for (int i = 0; i < PAGES; i++) {
		if (status[i] == 1)
			on1++;
		else if (on1 == i)	/* the first one off node 1 */
			FAIL("page %d of the buffer is on node %d, not 1", i,
			     status[i]);
	}
	EXPECT_EQ(on1, PAGES, "buffer pages on node 1");
	printf("buffer: %d of %d pages on node 1\n", on1, PAGES);
	vt_buf_unmap(p, PAGES * VT_PAGE);
	close(fd);
}

static void write_model(void)
{
	static const char hdr_fmt[] =
		"{\"w\":{\"dtype\":\"F32\",\"shape\":[%llu],"
		"\"data_offsets\":[0,%llu]}}";
	char hdr[256];
	uint64_t n, len;
	char *data;
	int fd;

	n = (uint64_t)snprintf(hdr, sizeof(hdr), hdr_fmt,
			       (unsigned long long)(MODEL_BYTES / 4),
			       (unsigned long long)MODEL_BYTES);
	len = n;
	data = malloc(MODEL_BYTES);
	REQUIRE(data, "malloc");
	for (uint64_t i = 0; i < MODEL_BYTES; i++)
		data[i] = (char)(i * 7 + 1);
	fd = open(MODEL, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	REQUIRE(fd >= 0 && write(fd, &len, 8) == 8 &&
		write(fd, hdr, n) == (ssize_t)n &&
		write(fd, data, MODEL_BYTES) == (ssize_t)MODEL_BYTES,
		"write " MODEL);
	close(fd);
	free(data);
}

struct cpus_seen {
	cpu_set_t seen;
	int calls;
};

static void on_progress(void *arg, uint64_t done, uint64_t total)
{
	struct cpus_seen *s = arg;
	int cpu = sched_getcpu();

	(void)total;
	/* The call with 0 announces the load, before it is placed. */
	if (done && cpu >= 0)
		CPU_SET(cpu, &s->seen);
	s->calls++;
}

static void loader_runs_on_node1(const cpu_set_t *node1)
{
	struct ash_load_opts o = { .chunk_size = 256 * 1024, .direct_io = -1 };
	cpu_set_t before, after, outside;
	struct cpus_seen s = { .calls = 0 };
	struct ash_model *m = NULL;
	struct ash_ctx *ctx = NULL;

	CPU_ZERO(&s.seen);
	o.progress = on_progress;
	o.progress_arg = &s;
	write_model();
	REQUIRE_OK(ash_open(PART, &ctx), "ash_open " PART);
	/* Start on node 0, so that only the loader's placement can take
	 * the reads to node 1. */
	node_cpus(0, &before);
	REQUIRE(sched_setaffinity(0, sizeof(before), &before) == 0,
		"pin the caller to node 0");
	REQUIRE_OK(ash_model_load_opts(ctx, MODEL, &o, &m), "load " MODEL);
	REQUIRE(sched_getaffinity(0, sizeof(after), &after) == 0,
		"sched_getaffinity");
	EXPECT(CPU_EQUAL(&before, &after),
	       "the loader gave the caller its CPU affinity back");
	EXPECT(s.calls > 8, "progress called %d times", s.calls);
	CPU_AND(&outside, &s.seen, node1);
	CPU_XOR(&outside, &outside, &s.seen);
	EXPECT(CPU_COUNT(&outside) == 0,
	       "the load ran on %d CPU(s) outside node 1", CPU_COUNT(&outside));
	printf("loader: %d progress calls, on %d CPU(s), all on node 1: %s\n",
	       s.calls, CPU_COUNT(&s.seen), CPU_COUNT(&outside) ? "no" : "yes");
	ash_model_free(m);
	ash_close(ctx);
	unlink(MODEL);
}

/* Every thread of @pid may run only on @node1's CPUs. */
static void engine_threads_on_node1(pid_t pid, const cpu_set_t *node1)
{
	char path[64], out[4096], *line, *save = NULL;
	int threads = 0;

	/* Threads are created at start; list them with their affinity. */
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	REQUIRE(vt_sh(out, sizeof(out),
		      "for t in %s/*; do sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' $t/status; done",
		      path) == 0, "read the engine's threads");
	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		cpu_set_t allowed, outside;

		parse_cpulist(line, &allowed);
		CPU_AND(&outside, &allowed, node1);
		CPU_XOR(&outside, &outside, &allowed);
		EXPECT(CPU_COUNT(&allowed) > 0 && CPU_COUNT(&outside) == 0,
		       "engine thread allowed on CPUs '%s', not only node 1's",
		       line);
		threads++;
	}
	EXPECT(threads > 0, "engine threads listed");
	printf("engine: %d thread(s), all pinned to node 1\n", threads);
}

int main(void)
{
	cpu_set_t node1;
	pid_t engine;

	if (access(NODE1, F_OK)) {
		printf("SKIP: the VM has one NUMA node\n");
		return VT_SKIP;
	}
	reload_on_node1();
	vt_init("numa_placement", 120);
	node_cpus(1, &node1);
	EXPECT_EQ(vt_dev().numa_node, 1, "device 0's NUMA node");
	vt_part_new(PART, 64 * MiB, 0, (uid_t)-1, (gid_t)-1);

	buffer_pages_on_node1();
	loader_runs_on_node1(&node1);
	engine = vx_engine_start("1");
	engine_threads_on_node1(engine, &node1);
	vx_engine_stop(engine, SIGTERM);
	return vt_result();
}
