/* SPDX-License-Identifier: MIT */
/*
 * accelshare-engine: the CPU reference engine.  Attaches to one device
 * through the control node, maps its address space and runs the jobs the
 * scheduler dispatches until it is told to stop (docs/engine.md).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <dirent.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <accelshare.h>		/* ASH_JOB_COST_MAX */
#include <cblas.h>
#include <numa.h>

#include "backend.h"
#include "../../tools/common/parse.h"

#define PROG "accelshare-engine"
#define CTL_DEFAULT_PATH "/dev/accelshare-ctl"

static const char usage_text[] =
"NAME\n"
"    accelshare-engine - run an accelshare device's jobs on a backend\n\n"
"SYNOPSIS\n"
"    accelshare-engine [--device N] [--threads N] [--verbose]\n"
"    accelshare-engine --register NAME [--mem SIZE] [--backend cpu|cuda]\n"
"                      [--gpu N] [--threads N] [--verbose]\n"
"    accelshare-engine --help | --version\n\n"
"DESCRIPTION\n"
"    Attaches to a device as its engine through the control node and\n"
"    executes the jobs the scheduler dispatches to it, in order, one at a\n"
"    time, reporting each job's status and the time it used back to the\n"
"    driver.  A device has at most one engine.\n\n"
"    With --device N (the default: device 0) it serves a host-backed\n"
"    device, whose memory is host pages the driver allocates; it maps the\n"
"    device's memory and runs every op on the CPUs (the cpu backend).\n\n"
"    With --register NAME it serves a device whose memory the engine owns:\n"
"    a GPU's, with --backend cuda, or memory of the engine process itself\n"
"    with the cpu backend.  If no device NAME exists, it allocates --mem\n"
"    SIZE bytes of zeroed device memory and registers device NAME with\n"
"    that capacity; partitions are then created on it by name or number\n"
"    (ashctl partition create ... --device NAME).  If device NAME exists,\n"
"    its engine died or stopped, and this one takes it back: tenants keep\n"
"    their memory (its contents too, where the backend handed it to the\n"
"    driver: the cpu backend always, as a memfd) and only lose the job\n"
"    that was running.  The driver manages the device's address ranges,\n"
"    charges and scheduling as for any device; tenants cannot map its\n"
"    memory and move data with staging buffers and copy jobs.  Memory a\n"
"    tenant frees is scrubbed by this engine before anyone can have it\n"
"    again.\n\n"
"    It runs in the foreground and logs to stderr: one line when it\n"
"    attaches and one when it detaches, and with --verbose one line per\n"
"    job.  SIGTERM or SIGINT makes it finish the job it is running, report\n"
"    it and exit with status 0.  If the engine dies instead, the job it was\n"
"    running fails with -EIO, queued jobs wait for the next engine and\n"
"    device memory is kept.\n\n"
"    When the device's memory is on a NUMA node (for a GPU: its PCI\n"
"    device's node), the engine and its threads run on that node's CPUs.\n\n"
"    Every command is checked against the op table before anything of its\n"
"    job runs; a job with a command the table refuses fails with -EINVAL,\n"
"    and a job that costs more than the engine's budget fails with -E2BIG,\n"
"    nothing of it written.  The budget is the cost the engine runs in one\n"
"    scheduler slice, measured on its backend when it starts (never below\n"
"    the library's ASH_JOB_COST_MAX, so jobs the library builds always\n"
"    pass); it is reported to the driver and shown by `ashctl device\n"
"    list`.  A job still running when the driver's watchdog limit passes\n"
"    is abandoned between commands and completed with -ETIMEDOUT.\n\n"
"OPTIONS\n"
"    --device N      the host-backed device to serve (default 0).\n"
"    --register NAME serve the engine-owned device NAME, registering it if\n"
"                    it does not exist (the rules of partition names).\n"
"    --mem SIZE      its capacity, e.g. 8G, when it is registered; when it\n"
"                    exists, SIZE must be its capacity (or be left out).\n"
"    --backend B     cpu (default) or cuda (NVIDIA GPUs; only with\n"
"                    --register).\n"
"    --gpu N         the GPU to run on, as CUDA numbers them (default 0).\n"
"    --threads N     BLAS threads for matrix products on the cpu backend,\n"
"                    1..1024 (default: the CPUs the engine may run on,\n"
"                    after NUMA placement).\n"
"    --verbose       log every job: id, commands, time used, status.\n"
"    --help          print this page.\n"
"    --version       print the version.\n\n"
"TEST OPTIONS\n"
"    For the test suite, which needs an engine that misbehaves on purpose:\n"
"    --test-stall-ms MS     sleep MS ms before every command.\n"
"    --test-ignore-timeout  run on past the watchdog's limit, as a hung\n"
"                           engine would.\n"
"    --test-volatile        with --register: keep new device memory to the\n"
"                           engine instead of handing it to the driver, as\n"
"                           a backend that cannot export its memory does;\n"
"                           when this engine dies, every buffer in it is\n"
"                           lost (jobs naming them fail with -EIO).\n\n"
"EXIT STATUS\n"
"    0  stopped by SIGTERM or SIGINT.\n"
"    1  could not attach (no module loaded, no such device, the device\n"
"       already has an engine, not root, no GPU for --backend cuda), the\n"
"       driver failed a request, or the driver's watchdog detached the\n"
"       engine.\n"
"    2  the command line is wrong; nothing was done.\n\n"
"ENVIRONMENT\n"
"    ACCELSHARE_CTL_DEVICE  the control node to use instead of\n"
"                           /dev/accelshare-ctl.\n"
"    OPENBLAS_*             OpenBLAS's own settings apply.\n\n"
"SEE ALSO\n"
"    ashctl(8); docs/engine.md: protocol, backends, op set, numeric\n"
"    conventions.\n";

static volatile sig_atomic_t stop;
static pid_t main_tid;

/*
 * SIGTERM/SIGINT: stop after the current job.  The fetch is the only place
 * the engine sleeps; it is interrupted (no SA_RESTART) when the signal
 * reaches the main thread.  A signal that lands on an OpenBLAS thread is
 * forwarded to the main one, and SIGALRM re-sends it every second after
 * the first, for the signal that arrives between the check of @stop and
 * the fetch.
 */
static void on_signal(int sig)
{
	int saved = errno;

	if (sig != SIGALRM)
		stop = 1;
	if (stop) {
		if (gettid() != main_tid)
			tgkill(getpid(), main_tid, SIGALRM);
		alarm(1);
	}
	errno = saved;
}

static int setup_signals(void)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGALRM };
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;		/* no SA_RESTART: interrupt the fetch */
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL))
			return -1;
	return 0;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

/* The UAPI's rule for device (and partition) names. */
static bool name_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (!n || n >= ASH_NAME_MAX || s[0] == '-' || s[0] == '.')
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return false;
	return true;
}

static double ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

static int xioctl(int fd, unsigned long req, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, req, arg);
	} while (ret < 0 && errno == EINTR && !stop);
	return ret < 0 ? -errno : 0;
}

static void human_size(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	unsigned int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

/*
 * Run the engine and every thread it has on @node's CPUs: OpenBLAS starts
 * its threads before main(), so each thread of the process is moved, not
 * just this one.  Returns the number of CPUs now usable.
 */
static int place_on_node(int node, bool verbose)
{
	cpu_set_t set;
	DIR *dir;
	struct dirent *de;

	if (node >= 0 && numa_available() >= 0) {
		struct bitmask *cpus = numa_allocate_cpumask();
		unsigned int i;

		if (cpus && numa_node_to_cpus(node, cpus) == 0 &&
		    numa_bitmask_weight(cpus) > 0) {
			CPU_ZERO(&set);
			for (i = 0; i < cpus->size && i < CPU_SETSIZE; i++)
				if (numa_bitmask_isbitset(cpus, i))
					CPU_SET(i, &set);
			numa_set_preferred(node);
			dir = opendir("/proc/self/task");
			while (dir && (de = readdir(dir))) {
				pid_t tid = (pid_t)atoi(de->d_name);

				if (tid > 0 && sched_setaffinity(tid, sizeof(set),
								 &set) &&
				    verbose)
					fprintf(stderr,
						PROG ": cannot move thread %d to node %d: %s\n",
						tid, node, strerror(errno));
			}
			if (dir)
				closedir(dir);
		} else {
			fprintf(stderr,
				PROG ": NUMA node %d has no CPUs here; running unpinned\n",
				node);
		}
		if (cpus)
			numa_free_cpumask(cpus);
	}
	if (sched_getaffinity(0, sizeof(set), &set))
		return 1;
	return CPU_COUNT(&set) > 0 ? CPU_COUNT(&set) : 1;
}

static int open_ctl(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	switch (errno) {
	case ENOENT:
	case ENXIO:
	case ENODEV:
		fprintf(stderr,
			PROG ": %s does not exist; is the accelshare module loaded (modprobe accelshare)?\n",
			path);
		break;
	case EACCES:
	case EPERM:
		fprintf(stderr,
			PROG ": permission denied opening %s; the engine must run as root.\n",
			path);
		break;
	default:
		fprintf(stderr, PROG ": cannot open %s: %s.\n", path,
			strerror(errno));
		break;
	}
	return -1;
}

static void attach_error(int ret, const char *what,
			 const struct ash_device_info *info)
{
	switch (ret) {
	case -ENODEV:
		fprintf(stderr, PROG ": %s does not exist.\n", what);
		break;
	case -EBUSY:
		if (info->engine_pid > 0)
			fprintf(stderr,
				PROG ": %s already has an engine (pid %d).\n",
				what, info->engine_pid);
		else
			fprintf(stderr, PROG ": %s already has an engine.\n",
				what);
		break;
	case -EPERM:
	case -EACCES:
		fprintf(stderr,
			PROG ": permission denied attaching to %s; the engine must run as root.\n",
			what);
		break;
	case -ENOTTY:
		fprintf(stderr,
			PROG ": the loaded accelshare module does not know this request; is it older than this engine?\n");
		break;
	case -ENOSPC:
		fprintf(stderr,
			PROG ": cannot register %s: the driver has as many devices as it allows (%d).\n",
			what, ASH_DEVICES_MAX);
		break;
	default:
		fprintf(stderr, PROG ": cannot attach to %s: %s.\n", what,
			strerror(-ret));
		break;
	}
}

static int attach(int fd, unsigned int device, const struct ash_device_info *info,
		  uint64_t budget, uint64_t *space_size)
{
	struct ash_engine_attach at;
	char what[64];
	int ret;

	memset(&at, 0, sizeof(at));
	at.device = device;
	at.job_budget = budget;
	ret = xioctl(fd, ASH_CTL_ENGINE_ATTACH, &at);
	if (!ret) {
		*space_size = at.space_size;
		return 0;
	}
	snprintf(what, sizeof(what), "device %u", device);
	if (ret == -EINVAL && info->kind == ASH_DEVICE_ENGINE)
		fprintf(stderr,
			PROG ": device %u (%s) is engine-owned; serve it with --register %s.\n",
			device, info->name, info->name);
	else
		attach_error(ret, what, info);
	return -1;
}

/**
 * struct engine_setup - what the engine serves, and how
 * @be: its backend.
 * @name: --register's NAME, or NULL for a host-backed --device.
 * @device: the device's number.
 * @mem_size: --mem, 0 if not given.
 * @gpu: --gpu.
 * @volatile_mem: --test-volatile.
 * @desc: what the backend found to run on.
 * @mem: the registered device's memory, as the backend holds it.
 * @space: where the engine reaches the device address space.
 * @host_map: the engine's mapping of the control node, for munmap.
 * @host_len: its length.
 */
struct engine_setup {
	const struct ash_backend *be;
	const char *name;
	unsigned long device;
	uint64_t mem_size;
	unsigned long gpu;
	bool volatile_mem;
	struct ash_gpu_desc desc;
	struct ash_backend_mem mem;
	struct ash_space space;
	void *host_map;
	uint64_t host_len;
};

/* Device @name as the driver has it; -ENODEV if it does not exist. */
static int device_named(int fd, const char *name, struct ash_device_info *info)
{
	memset(info, 0, sizeof(*info));
	info->flags = ASH_DEVICE_INFO_BY_NAME;
	snprintf(info->name, sizeof(info->name), "%s", name);
	return xioctl(fd, ASH_CTL_DEVICE_INFO, info);
}

/*
 * What registering @e->name would meet, checked first so that a mismatch
 * is one clear sentence: 0 with @info filled (or zeroed if the device does
 * not exist yet), -1 after a message.
 */
static int check_registration(int fd, struct engine_setup *e,
			      struct ash_device_info *info)
{
	char a[32], b[32];
	int ret = device_named(fd, e->name, info);

	if (ret == -ENODEV) {
		memset(info, 0, sizeof(*info));
		if (!e->mem_size) {
			fprintf(stderr,
				PROG ": device %s does not exist; --mem SIZE is needed to register it.\n",
				e->name);
			return -1;
		}
		return 0;
	}
	if (ret) {
		fprintf(stderr, PROG ": cannot query device %s: %s.\n",
			e->name, strerror(-ret));
		return -1;
	}
	if (info->kind != ASH_DEVICE_ENGINE) {
		fprintf(stderr,
			PROG ": device %s (%u) is host-backed; serve it with --device %u.\n",
			e->name, info->device, info->device);
		return -1;
	}
	if (strcmp(info->backend, e->be->name)) {
		fprintf(stderr,
			PROG ": device %s was registered by the %s backend, not %s; its memory is that backend's.\n",
			e->name, info->backend, e->be->name);
		return -1;
	}
	if (info->gpu_bus_id[0] && e->desc.bus_id[0] &&
	    strcmp(info->gpu_bus_id, e->desc.bus_id)) {
		fprintf(stderr,
			PROG ": device %s's memory is on the GPU at %s, not this one (%s); pick that one with --gpu.\n",
			e->name, info->gpu_bus_id, e->desc.bus_id);
		return -1;
	}
	if (e->mem_size && (e->mem_size & ~(uint64_t)(getpagesize() - 1)) !=
			   info->mem_capacity) {
		human_size(info->mem_capacity, a, sizeof(a));
		human_size(e->mem_size, b, sizeof(b));
		fprintf(stderr,
			PROG ": device %s has %s of memory, not %s; leave --mem out to take it back as it is.\n",
			e->name, a, b);
		return -1;
	}
	return 0;
}

/*
 * Register (or take back) device @e->name with the backend's memory, and
 * become its engine: new memory is created and handed to the driver, kept
 * memory is imported from the descriptor the driver gives back.
 */
static int register_device(int fd, struct engine_setup *e, uint64_t budget,
			   const struct ash_device_info *info,
			   struct ash_engine_register *r)
{
	bool fresh = !info->mem_capacity || !info->persistent;
	uint64_t size = info->mem_capacity ? info->mem_capacity :
			e->mem_size & ~(uint64_t)(getpagesize() - 1);
	char what[64];
	int ret;

	e->mem.fd = -1;
	if (fresh) {
		ret = e->be->mem_create(&e->mem, e->name, size);
		if (ret) {
			human_size(size, what, sizeof(what));
			fprintf(stderr,
				PROG ": cannot allocate %s of %s device memory: %s.\n",
				what, e->be->name, strerror(-ret));
			return -1;
		}
	}
	memset(r, 0, sizeof(*r));
	r->mem_fd = fresh && !e->volatile_mem ? e->mem.fd : -1;
	snprintf(r->name, sizeof(r->name), "%s", e->name);
	snprintf(r->backend, sizeof(r->backend), "%s", e->be->name);
	r->mem_size = size;
	r->job_budget = budget;
	snprintf(r->gpu_model, sizeof(r->gpu_model), "%s", e->desc.model);
	snprintf(r->gpu_bus_id, sizeof(r->gpu_bus_id), "%s", e->desc.bus_id);
	r->gpu_numa_node = e->desc.numa_node;
	r->gpu_index = e->desc.model[0] ? (uint32_t)e->gpu : 0;
	ret = xioctl(fd, ASH_CTL_ENGINE_REGISTER, r);
	if (ret) {
		snprintf(what, sizeof(what), "device %s", e->name);
		if (ret == -EINVAL)
			fprintf(stderr,
				PROG ": the driver refused to register device %s: it changed since this engine looked, or the name is not valid.\n",
				e->name);
		else if (ret == -EEXIST)
			fprintf(stderr,
				PROG ": device %s is one the driver made; serve it with --device.\n",
				e->name);
		else
			attach_error(ret, what, info);
		goto err;
	}
	if (r->result == ASH_REGISTER_KEPT) {
		ret = e->be->mem_import(&e->mem, r->mem_fd, size);
		close(r->mem_fd);
		if (ret) {
			fprintf(stderr,
				PROG ": cannot take back device %s's memory from the driver: %s.\n",
				e->name, strerror(-ret));
			return -1;
		}
	}
	e->device = r->device;
	return 0;
err:
	if (fresh)
		e->be->mem_close(&e->mem);
	return -1;
}

/* Map the control node from @from on: staging (or all host) buffers. */
static int map_host(int fd, struct engine_setup *e, uint64_t from,
		    uint64_t space_size)
{
	void *p;

	e->space.size = space_size;
	e->space.arena = e->mem.base;
	e->space.arena_size = from;
	e->host_len = space_size - from;
	if (!e->host_len)
		return 0;
	p = mmap(NULL, e->host_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 (off_t)from);
	if (p == MAP_FAILED) {
		fprintf(stderr,
			PROG ": cannot map device %lu's %" PRIu64 " bytes of host memory: %s.\n",
			e->device, e->host_len, strerror(errno));
		return -1;
	}
	e->host_map = p;
	e->space.host = p;
	return 0;
}

static void detached_message(unsigned long device)
{
	fprintf(stderr,
		PROG ": device %lu: the driver's watchdog detached this engine.\n",
		device);
}

static int complete(int fd, unsigned long device, uint64_t job, int status,
		    uint64_t busy)
{
	struct ash_engine_complete c;
	int ret;

	memset(&c, 0, sizeof(c));
	c.job = job;
	c.status = status;
	c.busy_ns = busy;
	do {
		ret = ioctl(fd, ASH_CTL_ENGINE_COMPLETE, &c);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0 && errno == ENODEV) {
		detached_message(device);
		return -1;
	}
	if (ret < 0) {
		fprintf(stderr,
			PROG ": device %lu: reporting job %" PRIu64 " failed: %s.\n",
			device, job, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * A scrub: zero the range of the device's memory the driver names, so that
 * it can be given to someone else.
 */
static int scrub(int fd, struct engine_setup *e, uint64_t job,
		 const struct ash_operand *o, bool verbose)
{
	int status = -EINVAL;

	if (e->mem.base && o->offset <= e->mem.size &&
	    o->length <= e->mem.size - o->offset)
		status = e->be->scrub(&e->mem, o->offset, o->length);
	if (status)
		fprintf(stderr,
			PROG ": device %lu: cannot scrub %" PRIu64 " bytes at %#" PRIx64 ": %s.\n",
			e->device, (uint64_t)o->length, (uint64_t)o->offset,
			strerror(-status));
	else if (verbose)
		fprintf(stderr,
			PROG ": scrub %" PRIu64 ": %" PRIu64 " bytes at %#" PRIx64 "\n",
			job, (uint64_t)o->length, (uint64_t)o->offset);
	return complete(fd, e->device, job, status, 0);
}

static int serve(int fd, struct engine_setup *e, struct ash_job_run *run,
		 bool verbose)
{
	static struct ash_command cmds[ASH_JOB_MAX_COMMANDS];
	struct ash_engine_fetch f;
	uint64_t t0, busy, cost = 0;
	uint32_t failed = 0;
	int status;

	while (!stop) {
		memset(&f, 0, sizeof(f));
		f.max_commands = ASH_JOB_MAX_COMMANDS;
		f.commands = (uint64_t)(uintptr_t)cmds;
		f.command_size = sizeof(cmds[0]);
		if (ioctl(fd, ASH_CTL_ENGINE_FETCH, &f) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			if (errno == ENODEV) {
				detached_message(e->device);
				return -1;
			}
			fprintf(stderr,
				PROG ": device %lu: fetching a job failed: %s.\n",
				e->device, strerror(errno));
			return -1;
		}
		if (!f.nr_commands) {
			if (scrub(fd, e, f.job, &cmds[0].operands[0], verbose))
				return -1;
			continue;
		}

		t0 = ash_engine_now_ns();
		run->deadline_ns = f.timeout_ns ? t0 + f.timeout_ns : 0;
		cost = 0;
		status = ash_engine_run_job(run, cmds, f.nr_commands, &failed,
					    &cost);
		busy = ash_engine_now_ns() - t0;
		/* A GPU's own clock, where it has one, is the device's time. */
		if (run->device_ns)
			busy = run->device_ns;
		if (complete(fd, e->device, f.job, status, busy))
			return -1;
		if (!verbose)
			continue;
		if (status == -E2BIG)
			fprintf(stderr,
				PROG ": job %" PRIu64 ": %u commands, cost %" PRIu64 " over the budget %" PRIu64 ": refused\n",
				(uint64_t)f.job, f.nr_commands, cost,
				run->budget);
		else if (status)
			fprintf(stderr,
				PROG ": job %" PRIu64 ": %u commands, %.3f ms, failed: command %u (%s): %s\n",
				(uint64_t)f.job, f.nr_commands, ms(busy), failed,
				failed < f.nr_commands ?
				ash_optable_name(cmds[failed].opcode) : "none",
				strerror(-status));
		else
			fprintf(stderr,
				PROG ": job %" PRIu64 ": %u commands, cost %" PRIu64 ", %.3f ms, ok (slice %.3f ms)\n",
				(uint64_t)f.job, f.nr_commands, cost, ms(busy),
				ms(f.slice_ns));
	}
	return 0;
}

/*
 * The slice the engine's jobs will run in: the device's, or for a device
 * not registered yet the module's default, which device 0 started with.
 */
static uint64_t slice_us(int fd, const struct ash_device_info *info)
{
	struct ash_device_info d0;

	if (info->slice_us)
		return info->slice_us;
	memset(&d0, 0, sizeof(d0));
	if (xioctl(fd, ASH_CTL_DEVICE_INFO, &d0) || !d0.slice_us)
		return 2000;	/* the module's slice_us default */
	return d0.slice_us;
}

static const char *const result_text[] = {
	[ASH_REGISTER_CREATED] = "registered",
	[ASH_REGISTER_KEPT] = "taken back, memory kept",
	[ASH_REGISTER_LOST] = "taken back, its buffers lost",
};

int main(int argc, char **argv)
{
	enum { OPT_BACKEND = 256, OPT_REGISTER, OPT_MEM, OPT_GPU,
	       OPT_VOLATILE };
	static const struct option longopts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "register", required_argument, NULL, OPT_REGISTER },
		{ "mem", required_argument, NULL, OPT_MEM },
		{ "backend", required_argument, NULL, OPT_BACKEND },
		{ "gpu", required_argument, NULL, OPT_GPU },
		{ "threads", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "test-stall-ms", required_argument, NULL, 'S' },
		{ "test-ignore-timeout", no_argument, NULL, 'I' },
		{ "test-volatile", no_argument, NULL, OPT_VOLATILE },
		{ NULL, 0, NULL, 0 },
	};
	struct engine_setup e = { .be = &ash_backend_cpu, .mem.fd = -1,
				  .desc.numa_node = -1 };
	unsigned long threads = 0, stall_ms = 0;
	bool verbose = false, ignore_timeout = false, has_device = false;
	bool has_gpu = false;
	const char *backend = NULL;
	struct ash_job_run run = { 0 };
	uint64_t rate = 0, budget;
	struct ash_device_info info;
	struct ash_engine_register reg;
	uint64_t space_size = 0;
	const char *path;
	char size_buf[32], why[256];
	int opt, fd, ncpu, ret, numa;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			if (parse_uint(optarg, UINT32_MAX, &e.device)) {
				fprintf(stderr,
					PROG ": --device takes a device number, not '%s'.\n",
					optarg);
				return 2;
			}
			has_device = true;
			break;
		case OPT_REGISTER:
			if (!name_valid(optarg)) {
				fprintf(stderr,
					PROG ": --register takes a device name of 1 to 31 letters, digits, '_', '.' and '-' (not starting with '-' or '.'), not '%s'.\n",
					optarg);
				return 2;
			}
			e.name = optarg;
			break;
		case OPT_MEM:
			if (ash_size_parse(optarg, &e.mem_size) ||
			    e.mem_size < (uint64_t)getpagesize() ||
			    e.mem_size > ASH_DEVICE_MEM_MAX) {
				fprintf(stderr,
					PROG ": --mem takes a size from one page to 64T (e.g. 8G), not '%s'.\n",
					optarg);
				return 2;
			}
			break;
		case OPT_BACKEND:
			backend = optarg;
			break;
		case OPT_GPU:
			if (parse_uint(optarg, 1023, &e.gpu)) {
				fprintf(stderr,
					PROG ": --gpu takes a GPU number from 0 to 1023, not '%s'.\n",
					optarg);
				return 2;
			}
			has_gpu = true;
			break;
		case OPT_VOLATILE:
			e.volatile_mem = true;
			break;
		case 't':
			if (parse_uint(optarg, 1024, &threads) || !threads) {
				fprintf(stderr,
					PROG ": --threads takes a number from 1 to 1024, not '%s'.\n",
					optarg);
				return 2;
			}
			break;
		case 'v':
			verbose = true;
			break;
		case 'S':
			if (parse_uint(optarg, 3600000, &stall_ms)) {
				fprintf(stderr,
					PROG ": --test-stall-ms takes a number of ms up to 3600000, not '%s'.\n",
					optarg);
				return 2;
			}
			break;
		case 'I':
			ignore_timeout = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 'V':
			printf(PROG " " ACCELSHARE_VERSION_STRING "\n");
			return 0;
		case ':':
			fprintf(stderr,
				PROG ": option '%s' needs a value; see --help.\n",
				argv[optind - 1]);
			return 2;
		default:
			fprintf(stderr,
				PROG ": option '%s' is not known; see --help.\n",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr,
			PROG ": unexpected argument '%s'; see --help.\n",
			argv[optind]);
		return 2;
	}
	if (backend && strcmp(backend, "cpu") && strcmp(backend, "cuda")) {
		fprintf(stderr, PROG ": --backend takes cpu or cuda, not '%s'.\n",
			backend);
		return 2;
	}
	if (has_device && e.name) {
		fprintf(stderr,
			PROG ": --device serves a host-backed device and --register an engine-owned one; give one of them.\n");
		return 2;
	}
	if (!e.name && (e.mem_size || e.volatile_mem)) {
		fprintf(stderr,
			PROG ": --%s applies to a device the engine registers; it needs --register NAME.\n",
			e.mem_size ? "mem" : "test-volatile");
		return 2;
	}
	if (!e.name && backend && strcmp(backend, "cpu")) {
		fprintf(stderr,
			PROG ": the %s backend's memory is its own: serve it with --register NAME.\n",
			backend);
		return 2;
	}
	if (has_gpu && (!backend || !strcmp(backend, "cpu"))) {
		fprintf(stderr,
			PROG ": --gpu applies to a GPU backend (--backend cuda).\n");
		return 2;
	}
	if (backend) {
		e.be = ash_backend_find(backend, why, sizeof(why));
		if (!e.be) {
			fprintf(stderr, PROG ": %s\n", why);
			return 1;
		}
	}

	if (e.be->open) {
		ret = e.be->open((unsigned int)e.gpu, &e.desc, why,
				 sizeof(why));
		if (ret) {
			fprintf(stderr, PROG ": %s\n", why);
			return 1;
		}
	}

	path = getenv("ACCELSHARE_CTL_DEVICE");
	if (!path || !*path)
		path = CTL_DEFAULT_PATH;
	fd = open_ctl(path);
	if (fd < 0)
		return 1;

	if (e.name) {
		if (check_registration(fd, &e, &info)) {
			close(fd);
			return 1;
		}
		numa = e.desc.numa_node;
	} else {
		memset(&info, 0, sizeof(info));
		info.device = (uint32_t)e.device;
		ret = xioctl(fd, ASH_CTL_DEVICE_INFO, &info);
		if (ret) {
			if (ret == -ENODEV)
				fprintf(stderr,
					PROG ": device %lu does not exist.\n",
					e.device);
			else if (ret == -ENOTTY)
				fprintf(stderr,
					PROG ": %s is not an accelshare control node.\n",
					path);
			else
				fprintf(stderr,
					PROG ": cannot query device %lu: %s.\n",
					e.device, strerror(-ret));
			close(fd);
			return 1;
		}
		numa = info.numa_node;
	}
	/*
	 * Before attaching: once the device reports an engine, SIGTERM must
	 * already mean a clean detach, not death by the default action.
	 */
	main_tid = gettid();
	if (setup_signals()) {
		fprintf(stderr, PROG ": cannot install signal handlers: %s.\n",
			strerror(errno));
		close(fd);
		return 1;
	}
	/*
	 * The budget: what this engine runs in one slice, calibrated on its
	 * backend before it takes the device (a few hundred ms at most).
	 */
	ncpu = place_on_node(numa, verbose);
	if (!threads)
		threads = (unsigned long)ncpu;
	openblas_set_num_threads((int)threads);
	if (ash_engine_calibrate(e.be, &rate)) {
		fprintf(stderr, PROG ": cannot calibrate: out of memory.\n");
		close(fd);
		return 1;
	}
	budget = ash_cost_mul(rate, slice_us(fd, &info)) / 1000;
	if (budget < ASH_JOB_COST_MAX)
		budget = ASH_JOB_COST_MAX;

	if (e.name) {
		if (register_device(fd, &e, budget, &info, &reg)) {
			close(fd);
			return 1;
		}
		space_size = reg.space_size;
		ret = map_host(fd, &e, reg.arena_size, space_size);
	} else {
		if (attach(fd, (unsigned int)e.device, &info, budget,
			   &space_size)) {
			close(fd);
			return 1;
		}
		ret = map_host(fd, &e, 0, space_size);
	}
	if (ret) {
		e.be->mem_close(&e.mem);
		close(fd);
		return 1;
	}

	run.be = e.be;
	run.space = e.space;
	run.budget = budget;
	run.stall_ns = (uint64_t)stall_ms * 1000000;
	run.ignore_deadline = ignore_timeout;

	if (e.name) {
		human_size(e.mem.size, size_buf, sizeof(size_buf));
		fprintf(stderr,
			PROG ": device %lu (%s): %s (pid %d, %s backend, %s of memory %s%s%s, %" PRIu64 " units/ms, job budget %" PRIu64 ")\n",
			e.device, e.name, result_text[reg.result], (int)getpid(),
			e.be->name, size_buf,
			reg.result == ASH_REGISTER_KEPT || !e.volatile_mem ?
			"kept by the driver" : "volatile",
			e.desc.model[0] ? ", " : "", e.desc.model, rate, budget);
	} else {
		human_size(space_size, size_buf, sizeof(size_buf));
		if (info.numa_node >= 0)
			fprintf(stderr,
				PROG ": device %lu: attached (pid %d, %s mapped, NUMA node %d, %lu threads, %" PRIu64 " units/ms, job budget %" PRIu64 ")\n",
				e.device, (int)getpid(), size_buf,
				info.numa_node, threads, rate, budget);
		else
			fprintf(stderr,
				PROG ": device %lu: attached (pid %d, %s mapped, %lu threads, %" PRIu64 " units/ms, job budget %" PRIu64 ")\n",
				e.device, (int)getpid(), size_buf, threads,
				rate, budget);
	}

	ret = serve(fd, &e, &run, verbose) ? 1 : 0;
	fprintf(stderr, PROG ": device %lu: detached%s\n", e.device,
		ret ? " after an error" : "");
	if (e.host_map)
		munmap(e.host_map, e.host_len);
	e.be->mem_close(&e.mem);
	close(fd);
	return ret;
}
