/* SPDX-License-Identifier: MIT */
/*
 * accelshare-engine: the CPU reference engine.  Attaches to one device
 * through the control node, maps its address space and runs the jobs the
 * scheduler dispatches until it is told to stop (docs/engine.md).
 */
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

#define PROG "accelshare-engine"
#define CTL_DEFAULT_PATH "/dev/accelshare-ctl"

static const char usage_text[] =
"NAME\n"
"    accelshare-engine - run an accelshare device's jobs on the host CPUs\n\n"
"SYNOPSIS\n"
"    accelshare-engine [--device N] [--threads N] [--verbose]\n"
"    accelshare-engine --help | --version\n\n"
"DESCRIPTION\n"
"    Attaches to device N as its engine through the control node, maps the\n"
"    device's memory and executes the jobs the scheduler dispatches to it,\n"
"    in order, one at a time, reporting each job's status and the time it\n"
"    used back to the driver.  Matrix products use OpenBLAS; everything\n"
"    else is plain C.  A device has at most one engine.\n\n"
"    It runs in the foreground and logs to stderr: one line when it\n"
"    attaches and one when it detaches, and with --verbose one line per\n"
"    job.  SIGTERM or SIGINT makes it finish the job it is running, report\n"
"    it and exit with status 0.  If the engine dies instead, the job it was\n"
"    running fails with -EIO, queued jobs wait for the next engine and\n"
"    device memory is kept.\n\n"
"    When the device's memory is on a NUMA node, the engine and its threads\n"
"    run on that node's CPUs.\n\n"
"    Every command is checked against the op table before anything of its\n"
"    job runs; a job with a command the table refuses fails with -EINVAL,\n"
"    and a job that costs more than the engine's budget fails with -E2BIG,\n"
"    nothing of it written.  The budget is the cost the engine runs in one\n"
"    scheduler slice, measured when it starts (never below the library's\n"
"    ASH_JOB_COST_MAX, so jobs the library builds always pass); it is\n"
"    reported to the driver and shown by `ashctl device list`.  A job still\n"
"    running when the driver's watchdog limit passes is abandoned between\n"
"    commands and completed with -ETIMEDOUT.\n\n"
"OPTIONS\n"
"    --device N   the device to serve (default 0).\n"
"    --threads N  BLAS threads for matrix products, 1..1024 (default: the\n"
"                 CPUs the engine may run on, after NUMA placement).\n"
"    --verbose    log every job: id, commands, time used, status.\n"
"    --help       print this page.\n"
"    --version    print the version.\n\n"
"TEST OPTIONS\n"
"    For the test suite, which needs an engine that misbehaves on purpose:\n"
"    --test-stall-ms MS     sleep MS ms before every command.\n"
"    --test-ignore-timeout  run on past the watchdog's limit, as a hung\n"
"                           engine would.\n\n"
"EXIT STATUS\n"
"    0  stopped by SIGTERM or SIGINT.\n"
"    1  could not attach (no module loaded, no such device, the device\n"
"       already has an engine, not root), the driver failed a request, or\n"
"       the driver's watchdog detached the engine.\n"
"    2  the command line is wrong; nothing was done.\n\n"
"ENVIRONMENT\n"
"    ACCELSHARE_CTL_DEVICE  the control node to use instead of\n"
"                           /dev/accelshare-ctl.\n"
"    OPENBLAS_*             OpenBLAS's own settings apply.\n\n"
"SEE ALSO\n"
"    ashctl(8); docs/engine.md: protocol, op set, numeric conventions.\n";

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

static int attach(int fd, unsigned int device, const struct ash_device_info *info,
		  uint64_t budget, uint64_t *space_size)
{
	struct ash_engine_attach at;
	int ret;

	memset(&at, 0, sizeof(at));
	at.device = device;
	at.job_budget = budget;
	ret = xioctl(fd, ASH_CTL_ENGINE_ATTACH, &at);
	switch (ret) {
	case 0:
		*space_size = at.space_size;
		return 0;
	case -ENODEV:
		fprintf(stderr, PROG ": device %u does not exist.\n", device);
		break;
	case -EBUSY:
		if (info->engine_pid > 0)
			fprintf(stderr,
				PROG ": device %u already has an engine (pid %d).\n",
				device, info->engine_pid);
		else
			fprintf(stderr,
				PROG ": device %u already has an engine.\n",
				device);
		break;
	case -EPERM:
	case -EACCES:
		fprintf(stderr,
			PROG ": permission denied attaching to device %u; the engine must run as root.\n",
			device);
		break;
	case -ENOTTY:
		fprintf(stderr,
			PROG ": the loaded accelshare module has no engine interface; is it older than this engine?\n");
		break;
	default:
		fprintf(stderr, PROG ": cannot attach to device %u: %s.\n",
			device, strerror(-ret));
		break;
	}
	return -1;
}

static int serve(int fd, unsigned int device, struct ash_job_run *run,
		 bool verbose)
{
	static struct ash_command cmds[ASH_JOB_MAX_COMMANDS];
	struct ash_engine_fetch f;
	struct ash_engine_complete c;
	uint64_t t0, busy, cost = 0;
	uint32_t failed = 0;
	int ret, status;

	while (!stop) {
		memset(&f, 0, sizeof(f));
		f.max_commands = ASH_JOB_MAX_COMMANDS;
		f.commands = (uint64_t)(uintptr_t)cmds;
		f.command_size = sizeof(cmds[0]);
		if (ioctl(fd, ASH_CTL_ENGINE_FETCH, &f) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			if (errno == ENODEV) {
				fprintf(stderr,
					PROG ": device %u: the driver's watchdog detached this engine.\n",
					device);
				return -1;
			}
			fprintf(stderr,
				PROG ": device %u: fetching a job failed: %s.\n",
				device, strerror(errno));
			return -1;
		}

		t0 = ash_engine_now_ns();
		run->deadline_ns = f.timeout_ns ? t0 + f.timeout_ns : 0;
		cost = 0;
		status = ash_engine_run_job(run, cmds, f.nr_commands, &failed,
					    &cost);
		busy = ash_engine_now_ns() - t0;

		memset(&c, 0, sizeof(c));
		c.job = f.job;
		c.status = status;
		c.busy_ns = busy;
		do {
			ret = ioctl(fd, ASH_CTL_ENGINE_COMPLETE, &c);
		} while (ret < 0 && errno == EINTR);
		if (ret < 0 && errno == ENODEV) {
			fprintf(stderr,
				PROG ": device %u: the driver's watchdog detached this engine.\n",
				device);
			return -1;
		}
		if (ret < 0) {
			fprintf(stderr,
				PROG ": device %u: reporting job %" PRIu64 " failed: %s.\n",
				device, (uint64_t)f.job, strerror(errno));
			return -1;
		}
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

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "threads", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "test-stall-ms", required_argument, NULL, 'S' },
		{ "test-ignore-timeout", no_argument, NULL, 'I' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long device = 0, threads = 0, stall_ms = 0;
	bool verbose = false, ignore_timeout = false;
	struct ash_job_run run = { .be = &ash_backend_cpu };
	uint64_t rate = 0, budget;
	struct ash_device_info info;
	uint64_t space_size = 0;
	uint8_t *space = NULL;
	const char *path;
	char size_buf[32];
	int opt, fd, ncpu, ret;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			if (parse_uint(optarg, UINT32_MAX, &device)) {
				fprintf(stderr,
					PROG ": --device takes a device number, not '%s'.\n",
					optarg);
				return 2;
			}
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

	path = getenv("ACCELSHARE_CTL_DEVICE");
	if (!path || !*path)
		path = CTL_DEFAULT_PATH;
	fd = open_ctl(path);
	if (fd < 0)
		return 1;

	memset(&info, 0, sizeof(info));
	info.device = (uint32_t)device;
	ret = xioctl(fd, ASH_CTL_DEVICE_INFO, &info);
	if (ret) {
		if (ret == -ENODEV)
			fprintf(stderr, PROG ": device %lu does not exist.\n",
				device);
		else if (ret == -ENOTTY)
			fprintf(stderr,
				PROG ": %s is not an accelshare control node.\n",
				path);
		else
			fprintf(stderr,
				PROG ": cannot query device %lu: %s.\n",
				device, strerror(-ret));
		close(fd);
		return 1;
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
	 * own memory before it takes the device (a few hundred ms at most).
	 */
	ncpu = place_on_node(info.numa_node, verbose);
	if (!threads)
		threads = (unsigned long)ncpu;
	openblas_set_num_threads((int)threads);
	if (ash_engine_calibrate(run.be, &rate)) {
		fprintf(stderr, PROG ": cannot calibrate: out of memory.\n");
		close(fd);
		return 1;
	}
	budget = ash_cost_mul(rate, info.slice_us) / 1000;
	if (budget < ASH_JOB_COST_MAX)
		budget = ASH_JOB_COST_MAX;
	if (attach(fd, (unsigned int)device, &info, budget, &space_size)) {
		close(fd);
		return 1;
	}
	if (space_size) {
		void *p = mmap(NULL, space_size, PROT_READ | PROT_WRITE,
			       MAP_SHARED, fd, 0);

		if (p == MAP_FAILED) {
			fprintf(stderr,
				PROG ": cannot map device %lu's %" PRIu64 " bytes of memory: %s.\n",
				device, space_size, strerror(errno));
			close(fd);
			return 1;
		}
		space = p;
	}

	run.space = space;
	run.space_size = space_size;
	run.budget = budget;
	run.stall_ns = (uint64_t)stall_ms * 1000000;
	run.ignore_deadline = ignore_timeout;

	human_size(space_size, size_buf, sizeof(size_buf));
	if (info.numa_node >= 0)
		fprintf(stderr,
			PROG ": device %lu: attached (pid %d, %s mapped, NUMA node %d, %lu threads, %" PRIu64 " units/ms, job budget %" PRIu64 ")\n",
			device, (int)getpid(), size_buf, info.numa_node, threads,
			rate, budget);
	else
		fprintf(stderr,
			PROG ": device %lu: attached (pid %d, %s mapped, %lu threads, %" PRIu64 " units/ms, job budget %" PRIu64 ")\n",
			device, (int)getpid(), size_buf, threads, rate, budget);

	ret = serve(fd, (unsigned int)device, &run, verbose) ? 1 : 0;
	fprintf(stderr, PROG ": device %lu: detached%s\n", device,
		ret ? " after an error" : "");
	if (space)
		munmap(space, space_size);
	close(fd);
	return ret;
}
