// SPDX-License-Identifier: MIT
/*
 * Fault injection: every allocation failure path of the driver is taken at
 * least once, fails with -ENOMEM, changes nothing and leaks nothing.
 *
 * Debug kernel only (CONFIG_FAULT_INJECTION, FAILSLAB, FAIL_PAGE_ALLOC,
 * FAULT_INJECTION_DEBUG_FS); skips (77) where /sys/kernel/debug/failslab or
 * /proc/thread-self/fail-nth is missing.
 *
 * Method (the systematic one syzkaller uses): for one operation, for n = 1,
 * 2, 3...: set the state up, write n to /proc/thread-self/fail-nth, run the
 * operation, read fail-nth back (0: the n-th fault-injection check of this
 * task failed) and reset it.  The sweep of an operation ends at the first n
 * the operation gets through without consuming the injection.  Each injected
 * failure must make the operation fail with -ENOMEM (or succeed, when the
 * kernel absorbs the failure with a fallback: kvmalloc's vmalloc, a smaller
 * page chunk, kmemleak's object pool, a retried page fault), and a failed
 * operation must leave the device, the partitions, their job counters and
 * the bound contexts as they were; it is then retried without injection
 * and must succeed.
 *
 * failslab and fail_page_alloc are set to inject into sleeping allocations
 * (ignore-gfp-wait=N), highmem ones (the tenant pages) and order 0, with
 * verbose=2: an injected failure prints "FAULT_INJECTION: forcing a
 * failure." and a stack trace, unless the allocation is __GFP_NOWARN.  The
 * case reads and clears the kernel log after every attempt: the first
 * "[accelshare]" frame of a trace names the driver's call site, which is
 * looked up in /tests/fault_injection.sites (tests/vm/fault-sites.sh, made
 * by run.sh from the module's relocations).  A failure with no trace is
 * "silent" and attributed to the op's __GFP_NOWARN site (the tenant page
 * allocation).  Anything else in the log that the runner would call a
 * kernel complaint (ASH_VM_COMPLAINTS minus ASH_VM_BENIGN) outside the
 * traces of injected failures fails the case and is printed.
 *
 * Module load is swept too: the module is unloaded, finit_module is swept
 * (each failure must leave it unloaded), and the last load stays.
 *
 * At the end every site of the sites file must have been reached, except
 * those in the allow-list below (each with its reason), and kmemleak must
 * report nothing (scanned at the start and cleared, so earlier cases' leaks
 * are not counted here).
 *
 * ASH_TEST_FI_VERBOSE=1 prints every injection.
 */
#include <ctype.h>
#include <fcntl.h>
#include <regex.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "vmtest.h"
#include "vtexec.h"

#define FAILSLAB	"/sys/kernel/debug/failslab"
#define FAILPAGE	"/sys/kernel/debug/fail_page_alloc"
#define FAIL_NTH	"/proc/thread-self/fail-nth"
#define KMEMLEAK	"/sys/kernel/debug/kmemleak"
#define SITES_FILE	"/tests/fault_injection.sites"
#define MODULE_FILE	"/accelshare.ko"

#define ANCHOR		"fi_anchor"
#define PART		"fi"
#define TMP_PART	"fi_tmp"

#define MAX_N		3000	/* fault points of one operation, at most */
#define BIG_SIZE	(4 * MiB + VT_PAGE)	/* chunks of 512, 512 and 1 page */
#define BUF_SIZE	(64 * KiB)

/* Sites that no sweep can make fail, with the reason. */
static const struct {
	const char *func_callee;
	const char *why;
} allow[] = {
	{ "ash_device_create:__xa_insert",
	  "device 0 goes at index 0 of an empty xarray: stored in the head, no node to allocate" },
	{ "ash_buffer_alloc_ioctl:__xa_cmpxchg",
	  "undo after a failed copy-out stores NULL: never allocates" },
	{ "ash_device_register:xa_store",
	  "stores a registered device into the slot its xa_alloc reserved: never allocates" },
	{ "ash_engine_fault:vm_insert_pages",
	  "the engine's page fault: its failure is VM_FAULT_OOM, which sends the VM to the OOM killer instead of returning an error to check" },
	{ "ash_engine_insert_pages:vm_insert_pages",
	  "the engine's page fault, where the compiler keeps its helper out of line: as above" },
};

/* --- fault injection knobs -------------------------------------------------- */

static const char *const knobs[][2] = {
	{ FAILSLAB, "ignore-gfp-wait" },
	{ FAILSLAB, "verbose" },
	{ FAILSLAB, "verbose_ratelimit_interval_ms" },
	{ FAILSLAB, "task-filter" },
	{ FAILSLAB, "probability" },
	{ FAILSLAB, "times" },
	{ FAILPAGE, "ignore-gfp-wait" },
	{ FAILPAGE, "ignore-gfp-highmem" },
	{ FAILPAGE, "min-order" },
	{ FAILPAGE, "verbose" },
	{ FAILPAGE, "verbose_ratelimit_interval_ms" },
};
static const char *const knob_val[] = {
	"N", "2", "0", "Y", "0", "0", "N", "N", "0", "2", "0"
};
#define NKNOBS	(sizeof(knobs) / sizeof(knobs[0]))
static char knob_saved[NKNOBS][32];
static bool knobs_set;
static int slab_prob_fd = -1, slab_times_fd = -1;
static char printk_saved[64];

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n < 0 ? -errno : 0;
}

static int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	while (n && isspace((unsigned char)buf[n - 1]))
		buf[--n] = 0;
	return 0;
}

static void knobs_restore(void)
{
	char path[256];
	size_t i;

	if (!knobs_set)
		return;
	for (i = 0; i < NKNOBS; i++) {
		snprintf(path, sizeof(path), "%s/%s", knobs[i][0], knobs[i][1]);
		write_file(path, knob_saved[i]);
	}
	if (printk_saved[0])
		write_file("/proc/sys/kernel/printk", printk_saved);
	write_file("/proc/thread-self/make-it-fail", "0");
	knobs_set = false;
}

static void knobs_setup(void)
{
	char path[256];
	size_t i;

	for (i = 0; i < NKNOBS; i++) {
		snprintf(path, sizeof(path), "%s/%s", knobs[i][0], knobs[i][1]);
		REQUIRE(!read_file(path, knob_saved[i], sizeof(knob_saved[i])),
			"read %s", path);
	}
	knobs_set = true;
	atexit(knobs_restore);
	for (i = 0; i < NKNOBS; i++) {
		snprintf(path, sizeof(path), "%s/%s", knobs[i][0], knobs[i][1]);
		REQUIRE(!write_file(path, knob_val[i]), "write %s to %s",
			knob_val[i], path);
	}
	/*
	 * The traces go to the kernel log, which this case reads; keep them
	 * off the serial console (slow under TCG).  Oopses and panics raise
	 * the console level themselves.
	 */
	/* Burst mode (below) fails this task's slab allocations only. */
	REQUIRE(!write_file("/proc/thread-self/make-it-fail", "1"),
		"write /proc/thread-self/make-it-fail");
	slab_prob_fd = open(FAILSLAB "/probability", O_WRONLY | O_CLOEXEC);
	slab_times_fd = open(FAILSLAB "/times", O_WRONLY | O_CLOEXEC);
	REQUIRE(slab_prob_fd >= 0 && slab_times_fd >= 0,
		"open failslab/probability and times");
	if (!read_file("/proc/sys/kernel/printk", printk_saved,
		       sizeof(printk_saved)))
		write_file("/proc/sys/kernel/printk", "1");
}

/* --- fail-nth ------------------------------------------------------------------ */

static int nth_fd = -1;

static void knob_put(int fd, const char *val)
{
	/* debugfs attributes are not seekable: write(), not pwrite() */
	if (write(fd, val, strlen(val)) != (ssize_t)strlen(val)) {
		FAIL("write %s to a failslab knob: %s", val, strerror(errno));
		vt_bail();
	}
}

/*
 * Make the n-th fault-injection check of this task fail; with @burst, the
 * slab allocations after it fail too, until failslab has failed twice (so
 * one or two more): a fallback that follows a failed allocation (xarray's
 * GFP_KERNEL retry of its GFP_NOWAIT node allocation, kvmalloc's vmalloc)
 * fails as well.  No allocation and no page fault between this and the
 * operation: the knob files and fail-nth are written through open fds.
 */
static void arm(unsigned int n, bool burst)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	if (burst) {
		knob_put(slab_prob_fd, "100");	/* times is 0: nothing yet */
		knob_put(slab_times_fd, "2");
	}
	if (pwrite(nth_fd, buf, len, 0) != len) {
		FAIL("write %u to %s: %s", n, FAIL_NTH, strerror(errno));
		vt_bail();
	}
}

/* Disarm; true if the injection was consumed (the n-th check failed). */
static bool disarm(bool burst)
{
	char buf[16] = "";
	ssize_t n = pread(nth_fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0 || pwrite(nth_fd, "0", 1, 0) != 1) {
		FAIL("read/reset %s: %s", FAIL_NTH, strerror(errno));
		vt_bail();
	}
	if (burst) {
		knob_put(slab_times_fd, "0");
		knob_put(slab_prob_fd, "0");
	}
	return strtoul(buf, NULL, 10) == 0;
}

/* --- sites ------------------------------------------------------------------ */

struct site {
	char func[64];
	unsigned long off;
	char callee[48];
	char sect[24];
	char aliases[128];
	bool tail;
	int traced;		/* failures with a trace naming it */
	int silent;		/* silent failures attributed to it */
	char ops[160];		/* the operations that reached it */
};

#define MAX_SITES	128
static struct site sites[MAX_SITES];
static int nsites;

static void sites_load(void)
{
	char line[512], key[128], tail[16];
	struct site *s;
	FILE *f = fopen(SITES_FILE, "re");
	char *plus;
	int n;

	if (!f) {
		FAIL("%s missing (tests/vm/run.sh makes it with tests/vm/fault-sites.sh)",
		     SITES_FILE);
		return;
	}
	while (fgets(line, sizeof(line), f) && nsites < MAX_SITES) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		s = &sites[nsites];
		memset(s, 0, sizeof(*s));
		tail[0] = 0;
		n = sscanf(line, "%127s %47s %23s %127s %15s", key, s->callee,
			   s->sect, s->aliases, tail);
		if (n < 3 || !(plus = strstr(key, "+0x"))) {
			FAIL("%s: bad line: %s", SITES_FILE, line);
			continue;
		}
		if (n >= 4 && !strcmp(s->aliases, "tail")) {
			s->aliases[0] = 0;
			s->tail = true;
		}
		if (n >= 5 && !strcmp(tail, "tail"))
			s->tail = true;
		*plus = 0;
		snprintf(s->func, sizeof(s->func), "%.63s", key);
		s->off = strtoul(plus + 3, NULL, 16);
		nsites++;
	}
	fclose(f);
	if (!nsites)
		FAIL("%s lists no allocation site", SITES_FILE);
}

static bool site_named(const struct site *s, const char *func)
{
	const char *a = s->aliases;
	size_t len = strlen(func);

	if (!strcmp(s->func, func))
		return true;
	while (*a) {
		if (!strncmp(a, func, len) && (a[len] == ',' || !a[len]))
			return true;
		a = strchr(a, ',');
		if (!a)
			break;
		a++;
	}
	return false;
}

static struct site *site_find(const char *func, unsigned long off)
{
	int i;

	for (i = 0; i < nsites; i++)
		if (sites[i].off == off && site_named(&sites[i], func))
			return &sites[i];
	return NULL;
}

static void site_add_op(struct site *s, const char *op)
{
	size_t len = strlen(s->ops);

	if (strstr(s->ops, op))
		return;
	snprintf(s->ops + len, sizeof(s->ops) - len, "%s%s", len ? "," : "",
		 op);
}

/* --- kernel log ---------------------------------------------------------------- */

static regex_t re_complaint, re_benign;
static char klog[1 << 20];
static int complaints;

static const char default_complaints[] =
	"BUG:|WARNING:|Oops|KASAN:|UBSAN:|possible circular locking|possible recursive locking|inconsistent lock state|lockdep|DEBUG_LOCKS_WARN_ON|suspicious RCU|general protection|Call Trace|kmemleak: .*suspected memory leak|unreferenced object|refcount_t:|list_add corruption|list_del corruption|Kernel panic|hung_task|blocked for more than|soft lockup|hard LOCKUP|stack-protector|Bad page";
static const char default_benign[] =
	"RCU lockdep checking is enabled|lockdep: fixup|Lock dependency validator|LOCKDEP_|lockdep_(print|init)";

static void regex_setup(void)
{
	const char *c = getenv("ASH_VM_COMPLAINTS");
	const char *b = getenv("ASH_VM_BENIGN");

	REQUIRE(!regcomp(&re_complaint, c && *c ? c : default_complaints,
			 REG_EXTENDED | REG_NOSUB), "regcomp ASH_VM_COMPLAINTS");
	REQUIRE(!regcomp(&re_benign, b && *b ? b : default_benign,
			 REG_EXTENDED | REG_NOSUB), "regcomp ASH_VM_BENIGN");
}

/* What the log said about one attempt. */
struct inj_log {
	int traces;		/* FAULT_INJECTION traces */
	int warn_allocs;	/* page allocation / vmalloc failure reports */
	int nframes;		/* traces with an [accelshare] frame */
	struct site *site[4];	/* each one's driver site, or NULL */
	char frame[4][128];	/* its first [accelshare] frame */
	char kind[24];		/* failslab or fail_page_alloc (first trace) */
	bool init_phase;	/* a trace went through do_init_module */
};

/* The text of a "<N>[ time] text" record. */
static char *log_text(char *line)
{
	char *p = line;

	if (*p == '<') {
		p = strchr(p, '>');
		p = p ? p + 1 : line;
	}
	if (*p == '[') {
		char *q = strchr(p, ']');

		if (q)
			p = q + 1 + (q[1] == ' ');
	}
	return p;
}

/*
 * Read and clear the kernel log and judge it: trace blocks of injected
 * failures (from their header to "</TASK>") are parsed for the driver's
 * frame; complaint lines anywhere else fail the case.  @ctx names the
 * attempt in the messages.
 */
static void klog_take(struct inj_log *r, const char *ctx)
{
	int n = klogctl(4 /* SYSLOG_ACTION_READ_CLEAR */, klog, sizeof(klog) - 1);
	bool in_block = false, want_frame = false;
	char *line, *save, *t;

	memset(r, 0, sizeof(*r));
	if (n < 0) {
		FAIL("klogctl(READ_CLEAR): %s", strerror(errno));
		return;
	}
	klog[n] = 0;
	for (line = strtok_r(klog, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		t = log_text(line);
		if (strstr(t, "FAULT_INJECTION: forcing a failure")) {
			r->traces++;
			in_block = true;
			want_frame = true;
			continue;
		}
		if (strstr(t, "page allocation failure:") ||
		    strstr(t, "vmalloc error:")) {
			r->warn_allocs++;
			in_block = true;
			want_frame = false;
			continue;
		}
		if (in_block) {
			if (!strncmp(t, "name ", 5) && !r->kind[0])
				sscanf(t + 5, "%23[^,]", r->kind);
			if (strstr(t, "</TASK>")) {
				in_block = false;
				continue;
			}
			if (strstr(t, " do_init_module+"))
				r->init_phase = true;
			if (strstr(t, "[accelshare]")) {
				char func[64];
				unsigned long off, size;
				const char *f = t;

				while (*f == ' ')
					f++;
				if (f[0] == '?')
					continue;	/* unreliable frame */
				if (!want_frame || r->nframes == 4)
					continue;
				want_frame = false;
				snprintf(r->frame[r->nframes], sizeof(r->frame[0]),
					 "%s", f);
				if (sscanf(f, "%63[^+]+0x%lx/0x%lx", func, &off,
					   &size) == 3)
					r->site[r->nframes] = site_find(func, off);
				r->nframes++;
			}
			continue;
		}
		if (!regexec(&re_complaint, t, 0, NULL, 0) &&
		    regexec(&re_benign, t, 0, NULL, 0)) {
			if (!complaints++ || complaints < 60)
				printf("kernel complained (%s): %s\n", ctx, t);
			FAIL("kernel complaint during %s: %s", ctx, t);
		}
	}
}

/* --- state snapshots -------------------------------------------------------- */

#define MAX_CTX	32
struct state {
	struct vt_snap snap;
	int nr_ctx;
	struct ash_context_info ctx[MAX_CTX];
};

static void state_take(struct state *s)
{
	vt_snap_take(&s->snap);
	s->nr_ctx = vt_ctx_list(s->ctx, MAX_CTX);
}

/* Everything vt_snap compares, plus job counters, the engine and each
 * bound context's id, memory and buffers. */
static bool state_expect_same(const struct state *a, const char *what)
{
	struct state b;
	bool same = vt_snap_expect_same(&a->snap, what);
	int i, j;

	state_take(&b);
	if (a->snap.dev.jobs_queued != b.snap.dev.jobs_queued ||
	    a->snap.dev.has_engine != b.snap.dev.has_engine) {
		FAIL("%s: device jobs_queued %llu -> %llu, has_engine %u -> %u",
		     what, (unsigned long long)a->snap.dev.jobs_queued,
		     (unsigned long long)b.snap.dev.jobs_queued,
		     a->snap.dev.has_engine, b.snap.dev.has_engine);
		same = false;
	}
	for (i = 0; i < a->snap.nr_parts; i++)
		for (j = 0; j < b.snap.nr_parts; j++) {
			const struct ash_partition_info *p = &a->snap.parts[i];
			const struct ash_partition_info *q = &b.snap.parts[j];

			if (p->id != q->id)
				continue;
			if (p->jobs_completed != q->jobs_completed ||
			    p->jobs_failed != q->jobs_failed) {
				FAIL("%s: partition %s jobs completed/failed %llu/%llu -> %llu/%llu",
				     what, p->name,
				     (unsigned long long)p->jobs_completed,
				     (unsigned long long)p->jobs_failed,
				     (unsigned long long)q->jobs_completed,
				     (unsigned long long)q->jobs_failed);
				same = false;
			}
		}
	if (a->nr_ctx != b.nr_ctx) {
		FAIL("%s: %d bound contexts -> %d", what, a->nr_ctx, b.nr_ctx);
		return false;
	}
	for (i = 0; i < a->nr_ctx && i < MAX_CTX; i++) {
		const struct ash_context_info *p = &a->ctx[i], *q = &b.ctx[i];

		if (p->id != q->id || p->mem_used != q->mem_used ||
		    p->nr_buffers != q->nr_buffers ||
		    p->jobs_completed != q->jobs_completed ||
		    p->jobs_failed != q->jobs_failed) {
			FAIL("%s: context %u (mem %llu, %u buffers, jobs %llu/%llu) -> context %u (mem %llu, %u buffers, jobs %llu/%llu)",
			     what, p->id, (unsigned long long)p->mem_used,
			     p->nr_buffers, (unsigned long long)p->jobs_completed,
			     (unsigned long long)p->jobs_failed, q->id,
			     (unsigned long long)q->mem_used, q->nr_buffers,
			     (unsigned long long)q->jobs_completed,
			     (unsigned long long)q->jobs_failed);
			same = false;
		}
	}
	return same;
}

/* --- operations ----------------------------------------------------------------- */

struct op {
	const char *name;
	void (*setup)(void);	/* before each attempt, not armed */
	long (*run)(void);	/* armed: the operation alone, 0 or -errno */
	void (*undo)(void);	/* after a success: back to before setup */
	bool (*check)(const struct state *before, const char *what);
	const char *silent;	/* callee a silent failure is attributed to */
	bool burst;		/* fail the next slab allocation(s) too */
	unsigned int start;	/* first fault point to try (0: 1) */
	unsigned int stop;	/* last one (0: until the operation works) */
	unsigned int resumed;	/* where a stride sweep went back to */
	unsigned int stride;	/* >1: try every stride-th fault point until
				 * one is in the driver or module init */
	/* results */
	int points, failed, absorbed, silent_n, outside;
	int nerr;
	long errs[8];
	char sites[256];
};

static bool verbose;
static int anchor_fd = -1, ctx_fd = -1, eng_fd = -1, tmp_fd = -1;
static uint32_t buf_h, tmp_h;
static uint64_t buf_off;
static uint8_t *buf_map, *tmp_map, *eng_map;
static uint8_t *mmap_at;	/* alone in its GiB: no page tables there */
static uint64_t eng_space, buf_devaddr, fence, job_id;
static struct ash_command cmds[ASH_JOB_MAX_COMMANDS];
static struct ash_command fetched[ASH_JOB_MAX_COMMANDS];
static const char *mod_params;
static int mod_fd = -1;

static long sys_ret(long r)
{
	return r < 0 ? -errno : 0;
}

/* Engine side, done directly on the engine's control fd. */
static long eng_fetch(void)
{
	struct ash_engine_fetch f;
	long ret;

	memset(&f, 0, sizeof(f));
	f.flags = ASH_FETCH_NONBLOCK;
	f.max_commands = ASH_JOB_MAX_COMMANDS;
	f.commands = (uint64_t)(uintptr_t)fetched;
	f.command_size = sizeof(fetched[0]);
	ret = vt_ioctl(eng_fd, ASH_CTL_ENGINE_FETCH, &f);
	if (!ret)
		job_id = f.job;
	return ret;
}

static long eng_complete(void)
{
	struct ash_engine_complete c;

	memset(&c, 0, sizeof(c));
	c.job = job_id;
	c.busy_ns = 1000;
	return vt_ioctl(eng_fd, ASH_CTL_ENGINE_COMPLETE, &c);
}

static void eng_run_one(void)
{
	REQUIRE_OK(eng_fetch(), "engine fetch");
	REQUIRE_OK(eng_complete(), "engine complete");
}

static long eng_attach_fd(int fd)
{
	struct ash_engine_attach a;
	long ret;

	memset(&a, 0, sizeof(a));
	ret = vt_ioctl(fd, ASH_CTL_ENGINE_ATTACH, &a);
	if (!ret)
		eng_space = a.space_size;
	return ret;
}

static void eng_start(void)
{
	eng_fd = open(VT_CTL_DEV, O_RDWR | O_CLOEXEC);
	REQUIRE(eng_fd >= 0, "open the engine's control fd");
	REQUIRE_OK(eng_attach_fd(eng_fd), "engine attach");
}

static long submit_fill(int fd, int n, uint32_t flags)
{
	int i;

	for (i = 0; i < n; i++)
		vx_cmd_fill(&cmds[i], fd == ctx_fd ? buf_h : tmp_h, 0, VT_PAGE,
			    0x5a5a5a5a);
	return vx_submit_flags(fd, cmds, n, flags, &fence);
}

/* module load */
static bool module_loaded(void)
{
	return !access("/sys/module/accelshare", F_OK);
}

static long op_load_run(void)
{
	return sys_ret(syscall(SYS_finit_module, mod_fd, mod_params, 0));
}

static void op_load_undo(void)
{
	REQUIRE(!syscall(SYS_delete_module, "accelshare", O_NONBLOCK),
		"delete_module: %s", strerror(errno));
}

static bool op_load_check(const struct state *before, const char *what)
{
	(void)before;
	if (module_loaded()) {
		FAIL("%s: the module is loaded after a failed finit_module", what);
		op_load_undo();
		return false;
	}
	return true;
}

/* open, bind */
static long op_open_run(void)
{
	tmp_fd = open(VT_TENANT_DEV, O_RDWR | O_CLOEXEC);
	return tmp_fd < 0 ? -errno : 0;
}

static void close_tmp(void)
{
	if (tmp_map)
		munmap(tmp_map, VT_PAGE);
	tmp_map = NULL;
	if (tmp_fd >= 0)
		close(tmp_fd);
	tmp_fd = -1;
}

static void op_bind_setup(void)
{
	tmp_fd = open(VT_TENANT_DEV, O_RDWR | O_CLOEXEC);
	REQUIRE(tmp_fd >= 0, "open the tenant node");
}

static long op_bind_run(void)
{
	struct ash_bind b;

	memset(&b, 0, sizeof(b));
	strcpy(b.partition, PART);
	return vt_ioctl(tmp_fd, ASH_IOC_BIND, &b);
}

/* partitions */
static struct ash_partition_params tmp_params;

static void tmp_params_init(void)
{
	vt_params(&tmp_params, TMP_PART, 8 * MiB);
	tmp_params.mem_min = 1 * MiB;
	tmp_params.weight = 50;
	tmp_params.nr_uids = 2;
	tmp_params.uids[0] = VT_ALICE;
	tmp_params.uids[1] = VT_BOB;
	tmp_params.nr_gids = 1;
	tmp_params.gids[0] = VT_ORGA;
}

static long op_part_create_run(void)
{
	return vt_ioctl(vt_ctl, ASH_CTL_PART_CREATE, &tmp_params);
}

static long tmp_part_delete(void)
{
	struct ash_partition_delete d;

	memset(&d, 0, sizeof(d));
	strcpy(d.name, TMP_PART);
	return vt_ioctl(vt_ctl, ASH_CTL_PART_DELETE, &d);
}

static void op_part_create_undo(void)
{
	REQUIRE_OK(tmp_part_delete(), "delete " TMP_PART);
}

static void op_part_delete_setup(void)
{
	REQUIRE_OK(op_part_create_run(), "create " TMP_PART);
}

static struct ash_partition_params set_params;

static long op_part_set_run(void)
{
	return vt_ioctl(vt_ctl, ASH_CTL_PART_SET, &set_params);
}

static void op_part_set_setup(void)
{
	vt_params(&set_params, PART, 128 * MiB);
	set_params.flags = ASH_PART_SET_MEM_MAX | ASH_PART_SET_MEM_MIN |
			   ASH_PART_SET_WEIGHT | ASH_PART_SET_LIMITS;
	set_params.mem_min = 2 * MiB;
	set_params.weight = 200;
	set_params.max_contexts = 64;
	set_params.max_buffers = 512;
}

static void op_acl_setup(void)
{
	vt_params(&set_params, PART, 0);
	set_params.flags = ASH_PART_SET_ACL;
	set_params.nr_uids = 3;
	set_params.uids[0] = VT_ALICE;
	set_params.uids[1] = VT_BOB;
	set_params.uids[2] = VT_CAROL;
	set_params.nr_gids = 2;
	set_params.gids[0] = VT_ORGA;
	set_params.gids[1] = VT_ORGB;
}

/* buffers */
static long op_alloc_small_run(void)
{
	return vt_buf_alloc(ctx_fd, 100, &tmp_h, NULL);
}

static long op_alloc_big_run(void)
{
	return vt_buf_alloc(ctx_fd, BIG_SIZE, &tmp_h, NULL);
}

static void op_alloc_undo(void)
{
	REQUIRE_OK(vt_buf_free(ctx_fd, tmp_h), "free");
}

/* The first buffer of a new context: xa_alloc_cyclic() cannot wrap, so an
 * xarray node it fails to allocate fails the call. */
static void op_new_ctx_setup(void)
{
	tmp_fd = vt_tenant_open(PART);
	REQUIRE(tmp_fd >= 0, "bind a context: %s", vt_errname(tmp_fd));
}

static long op_new_ctx_alloc_run(void)
{
	return vt_buf_alloc(tmp_fd, VT_PAGE, &tmp_h, NULL);
}

static void op_free_setup(void)
{
	REQUIRE_OK(vt_buf_alloc(ctx_fd, 3 * VT_PAGE, &tmp_h, NULL), "alloc");
}

static long op_free_run(void)
{
	return vt_buf_free(ctx_fd, tmp_h);
}

static long op_mmap_run(void)
{
	volatile uint8_t *p;
	uint64_t i;

	p = mmap(mmap_at, BUF_SIZE, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED_NOREPLACE, ctx_fd, (off_t)buf_off);
	if (p == MAP_FAILED)
		return -errno;
	tmp_map = (uint8_t *)p;
	for (i = 0; i < BUF_SIZE; i += VT_PAGE)
		p[i] = p[i] + 1;
	return 0;
}

static void op_mmap_undo(void)
{
	munmap(tmp_map, BUF_SIZE);
	tmp_map = NULL;
}

static void op_fault_setup(void)
{
	REQUIRE(!madvise(buf_map, BUF_SIZE, MADV_DONTNEED), "madvise: %s",
		strerror(errno));
}

static long op_fault_run(void)
{
	volatile uint8_t *p = buf_map;
	uint64_t i;

	for (i = 0; i < BUF_SIZE; i += VT_PAGE)
		p[i] = p[i] + 1;
	return 0;
}

static long op_info_run(void)
{
	struct ash_audit_record ae[4];
	struct ash_usage_entry ue[8];
	struct ash_audit_read ar;
	struct ash_usage us;
	struct ash_partition_info pi;
	struct ash_device_info di;
	struct ash_context_info ci;
	struct ash_buf_info bi;
	long ret;

	memset(&bi, 0, sizeof(bi));
	bi.handle = buf_h;
	ret = vt_ioctl(ctx_fd, ASH_IOC_BUF_INFO, &bi);
	memset(&pi, 0, sizeof(pi));
	if (!ret)
		ret = vt_ioctl(ctx_fd, ASH_IOC_PARTITION_INFO, &pi);
	memset(&pi, 0, sizeof(pi));
	pi.flags = ASH_PART_INFO_BY_NAME;
	strcpy(pi.name, PART);
	if (!ret)
		ret = vt_ioctl(vt_ctl, ASH_CTL_PART_INFO, &pi);
	memset(&di, 0, sizeof(di));
	if (!ret)
		ret = vt_ioctl(vt_ctl, ASH_CTL_DEVICE_INFO, &di);
	memset(&ci, 0, sizeof(ci));
	if (!ret)
		ret = vt_ioctl(vt_ctl, ASH_CTL_CTX_INFO, &ci);
	/* The usage snapshot and the audit trail copy through buffers. */
	memset(&us, 0, sizeof(us));
	us.nr_entries = 8;
	us.entries = (uintptr_t)ue;
	if (!ret)
		ret = vt_ioctl(vt_ctl, ASH_CTL_USAGE, &us);
	memset(&ar, 0, sizeof(ar));
	ar.from_seq = 1;
	ar.nr_records = 4;
	ar.records = (uintptr_t)ae;
	if (!ret)
		ret = vt_ioctl(vt_ctl, ASH_CTL_AUDIT_READ, &ar);
	return ret;
}

/* engine and jobs */
static void op_attach_setup(void)
{
	tmp_fd = open(VT_CTL_DEV, O_RDWR | O_CLOEXEC);
	REQUIRE(tmp_fd >= 0, "open the control node");
}

static long op_attach_run(void)
{
	return eng_attach_fd(tmp_fd);
}

static long op_submit_run(void)
{
	return submit_fill(ctx_fd, 1, 0);
}

static long op_submit_chain_run(void)
{
	return submit_fill(ctx_fd, ASH_JOB_MAX_COMMANDS, ASH_SUBMIT_CHAIN);
}

static void op_submit_undo(void)
{
	eng_run_one();
}

static void op_wait_setup(void)
{
	REQUIRE_OK(submit_fill(ctx_fd, 1, 0), "submit");
	eng_run_one();
}

static long op_wait_run(void)
{
	int32_t st = 1;
	long ret = vx_wait(ctx_fd, fence, 0, &st);

	return ret ? ret : st;
}

static void op_fetch_setup(void)
{
	REQUIRE_OK(submit_fill(ctx_fd, 1, 0), "submit");
}

static void op_fetch_undo(void)
{
	REQUIRE_OK(eng_complete(), "engine complete");
}

static void op_complete_setup(void)
{
	REQUIRE_OK(submit_fill(ctx_fd, 1, 0), "submit");
	REQUIRE_OK(eng_fetch(), "engine fetch");
}

static void op_touch_setup(void)
{
	if (eng_map)
		munmap(eng_map, eng_space);
	eng_map = mmap(NULL, eng_space, PROT_READ | PROT_WRITE, MAP_SHARED,
		       eng_fd, 0);
	REQUIRE(eng_map != MAP_FAILED, "mmap the device space: %s",
		strerror(errno));
}

static long op_touch_run(void)
{
	volatile uint8_t *p = eng_map + buf_devaddr;

	p[0] = p[0] + 1;
	return 0;
}

static void op_close_queued_setup(void)
{
	tmp_fd = vt_tenant_open(PART);
	REQUIRE(tmp_fd >= 0, "bind a second context: %s", vt_errname(tmp_fd));
	REQUIRE_OK(vt_buf_alloc(tmp_fd, VT_PAGE, &tmp_h, NULL), "alloc");
	REQUIRE_OK(submit_fill(tmp_fd, 1, 0), "submit");
	REQUIRE_OK(submit_fill(tmp_fd, 2, ASH_SUBMIT_CHAIN), "submit");
	REQUIRE_OK(submit_fill(tmp_fd, 1, 0), "submit");
}

static long op_close_run(void)
{
	long ret = sys_ret(close(tmp_fd));

	tmp_fd = -1;
	return ret;
}

static void op_eng_close_setup(void)
{
	if (eng_fd < 0)
		eng_start();
	REQUIRE_OK(submit_fill(ctx_fd, 1, 0), "submit");
	REQUIRE_OK(eng_fetch(), "engine fetch");
}

static long op_eng_close_run(void)
{
	long ret = sys_ret(close(eng_fd));

	eng_fd = -1;
	return ret;
}

/*
 * Engine-owned devices: registering one (each attempt a new name, since a
 * registration that succeeds makes a device for good), taking one back
 * (the descriptor of its kept memory is installed), and allocating on one
 * (a buffer with no pages and a scrub record).  A failed registration
 * must leave no device behind and the taken-back device without engine.
 */
#define OWNED_MEM	(16 * MiB)
#define OWNED_PART	"fi_owned"
static int reg_try, owned_memfd = -1, owned_ctx = -1, owned_pass;
static char reg_name[ASH_NAME_MAX], owned_dev[ASH_NAME_MAX];
static uint32_t owned_h;

static long owned_register(int fd, const char *name, int memfd,
			   uint64_t size, int *kept_fd)
{
	struct ash_engine_register r;
	long ret;

	memset(&r, 0, sizeof(r));
	r.mem_fd = memfd;
	snprintf(r.name, sizeof(r.name), "%s", name);
	strcpy(r.backend, "cpu");
	r.mem_size = size;
	r.gpu_numa_node = -1;
	ret = vt_ioctl(fd, ASH_CTL_ENGINE_REGISTER, &r);
	if (kept_fd)
		*kept_fd = ret ? -1 : r.mem_fd;
	return ret;
}

static long owned_info(const char *name, struct ash_device_info *d)
{
	memset(d, 0, sizeof(*d));
	d->flags = ASH_DEVICE_INFO_BY_NAME;
	snprintf(d->name, sizeof(d->name), "%s", name);
	return vt_ioctl(vt_ctl, ASH_CTL_DEVICE_INFO, d);
}

static void op_register_setup(void)
{
	snprintf(reg_name, sizeof(reg_name), "fi_reg%d", ++reg_try);
	tmp_fd = open(VT_CTL_DEV, O_RDWR | O_CLOEXEC);
	REQUIRE(tmp_fd >= 0, "open the control node");
}

static long op_register_run(void)
{
	return owned_register(tmp_fd, reg_name, owned_memfd, OWNED_MEM, NULL);
}

static bool op_register_check(const struct state *before, const char *what)
{
	struct ash_device_info d;

	(void)before;
	if (owned_info(reg_name, &d) != -ENODEV) {
		FAIL("%s: device %s exists after its registration failed", what,
		     reg_name);
		return false;
	}
	return true;
}

static int kept_fd = -1, fillers[1024], nr_fillers;

/*
 * The descriptor of the kept memory allocates only when the fd table must
 * grow: fill it up to its size (FDSize), so that the next descriptor needs
 * a bigger table.
 */
static void op_take_back_setup(void)
{
	char line[128];
	long size = 0;
	FILE *f;
	int fd;

	op_attach_setup();
	f = fopen("/proc/self/status", "r");
	REQUIRE(f, "open /proc/self/status");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "FDSize: %ld", &size) == 1)
			break;
	fclose(f);
	REQUIRE(size > 0, "FDSize in /proc/self/status");
	nr_fillers = 0;
	while (size <= 1024 && nr_fillers < 1024 && (fd = dup(0)) >= 0) {
		fillers[nr_fillers++] = fd;
		if (fd >= size - 1)
			break;
	}
}

static void fillers_close(void)
{
	while (nr_fillers)
		close(fillers[--nr_fillers]);
}

static long op_take_back_run(void)
{
	return owned_register(tmp_fd, owned_dev, -1, 0, &kept_fd);
}

static void op_take_back_undo(void)
{
	if (kept_fd >= 0)
		close(kept_fd);
	kept_fd = -1;
	fillers_close();
	close_tmp();
}

static bool op_take_back_check(const struct state *before, const char *what)
{
	struct ash_device_info d;

	(void)before;
	if (owned_info(owned_dev, &d) || d.has_engine) {
		FAIL("%s: device %s has an engine after the take-back failed",
		     what, owned_dev);
		return false;
	}
	return true;
}

static long op_owned_alloc_run(void)
{
	return vt_buf_alloc(owned_ctx, BUF_SIZE, &owned_h, NULL);
}

static void op_owned_alloc_undo(void)
{
	REQUIRE_OK(vt_buf_free(owned_ctx, owned_h), "free on the engine-owned device");
}

static bool op_owned_alloc_check(const struct state *before, const char *what)
{
	(void)before;
	if (vt_part(OWNED_PART).mem_used || vt_part(OWNED_PART).nr_buffers) {
		FAIL("%s: a failed allocation on %s left a charge", what,
		     owned_dev);
		return false;
	}
	return true;
}

/* The memory every registration of the case hands over. */
static void owned_memfd_make(void)
{
	owned_memfd = (int)syscall(SYS_memfd_create, "fi", MFD_CLOEXEC);
	REQUIRE(owned_memfd >= 0 && !ftruncate(owned_memfd, OWNED_MEM),
		"a memfd of %llu bytes", (unsigned long long)OWNED_MEM);
}

/*
 * Register a device (a new one each pass: devices last until the module
 * goes), leave it without engine, and bind a context to a partition of it.
 */
static void owned_setup(void)
{
	struct ash_partition_params p;
	struct ash_device_info d;
	int fd;

	/* Room for the fd table to grow (op_take_back_setup()). */
	{
		struct rlimit rl;

		REQUIRE(!getrlimit(RLIMIT_NOFILE, &rl), "getrlimit");
		rl.rlim_cur = rl.rlim_max;
		REQUIRE(!setrlimit(RLIMIT_NOFILE, &rl), "setrlimit");
	}
	snprintf(owned_dev, sizeof(owned_dev), "fi_owned%d", ++owned_pass);
	fd = open(VT_CTL_DEV, O_RDWR | O_CLOEXEC);
	REQUIRE(fd >= 0, "open the control node");
	REQUIRE_OK(owned_register(fd, owned_dev, owned_memfd, OWNED_MEM, NULL),
		   "register the engine-owned device");
	close(fd);
	REQUIRE_OK(owned_info(owned_dev, &d), "info of the engine-owned device");
	vt_params(&p, OWNED_PART, OWNED_MEM);
	p.device = d.device;
	REQUIRE_OK(vt_part_create(&p), "partition on the engine-owned device");
	owned_ctx = vt_tenant_open(OWNED_PART);
	REQUIRE(owned_ctx >= 0, "bind " OWNED_PART);
}

static long op_device_set_run(void)
{
	struct ash_device_set d;

	memset(&d, 0, sizeof(d));
	d.flags = ASH_DEVICE_SET_SLICE;
	d.slice_us = 1500;
	return vt_ioctl(vt_ctl, ASH_CTL_DEVICE_SET, &d);
}

/* --- the sweep -------------------------------------------------------------- */

static void op_add_err(struct op *op, long err)
{
	int i;

	for (i = 0; i < op->nerr; i++)
		if (op->errs[i] == err)
			return;
	if (op->nerr < 8)
		op->errs[op->nerr++] = err;
}

static void op_add_site(struct op *op, const struct site *s)
{
	char key[128];
	size_t len = strlen(op->sites);

	snprintf(key, sizeof(key), "%s+0x%lx", s->func, s->off);
	if (strstr(op->sites, key))
		return;
	snprintf(op->sites + len, sizeof(op->sites) - len, "%s%s",
		 len ? " " : "", key);
}

static bool is_slab(const char *callee)
{
	return (strstr(callee, "kmalloc") && !strstr(callee, "kvmalloc")) ||
	       strstr(callee, "kmem_cache_alloc");
}

static void sweep(struct op *op)
{
	struct state before;
	struct inj_log lg;
	char what[160];
	unsigned int n, step = op->stride > 1 ? op->stride : 1;
	bool hit;
	long ret;
	int i;

	klog_take(&lg, "before a sweep");
	if (op->start)
		step = 1;
	for (n = op->start ? op->start : 1; n <= MAX_N; n += step) {
		if (op->stop && n > op->stop)
			return;
		snprintf(what, sizeof(what), "%s, failure at fault point %u",
			 op->name, n);
		if (op->setup)
			op->setup();
		if (!op->check)
			state_take(&before);
		klog_take(&lg, what);
		arm(n, op->burst);
		ret = op->run();
		hit = disarm(op->burst);
		klog_take(&lg, what);
		if (verbose || (hit && ret && ret != -ENOMEM))
			printf("  %s %u: %s, %s, %d trace(s) %s%s%s\n", op->name,
			       n, hit ? "injected" : "not reached",
			       vt_errname(ret), lg.traces, lg.kind,
			       lg.nframes ? " at " : "", lg.frame[0]);
		if (step > 1 && (!hit || lg.nframes || lg.init_phase)) {
			/* The driver's part starts before n (maybe before
			 * n - step, silently): go back and take every point
			 * from there. */
			if (!ret && op->undo)
				op->undo();
			else if (ret && op->check)
				op->check(&before, what);
			n = n > 2 * step ? n - 2 * step : 0;
			op->resumed = n + 1;
			step = 1;
			continue;
		}
		if (!hit) {
			if (lg.traces)
				FAIL("%s: a failure trace but fail-nth not consumed",
				     what);
			if (ret) {
				FAIL("%s: fails with %s with no failure injected",
				     op->name, vt_errname(ret));
				vt_bail();
			}
			if (op->undo)
				op->undo();
			break;
		}
		op->points++;
		if (!ret) {
			/* The kernel absorbed it (a fallback, a retried fault). */
			op->absorbed++;
			/*
			 * A failure inside a helper that allocates (vmalloc,
			 * misc_register, vm_insert_pages) may be absorbed
			 * there; a kmalloc that failed must not be ignored.
			 */
			for (i = 0; i < lg.nframes; i++)
				if (lg.site[i] && is_slab(lg.site[i]->callee))
					FAIL("%s: the driver's kmalloc at %s failed but the operation succeeded",
					     what, lg.frame[i]);
			if (op->undo)
				op->undo();
			continue;
		}
		op->failed++;
		op_add_err(op, ret);
		EXPECT_ERR(ret, -ENOMEM, what);
		if (op->check)
			op->check(&before, what);
		else
			state_expect_same(&before, what);
		for (i = 0; i < lg.nframes; i++) {
			if (!lg.site[i]) {
				FAIL("%s: the trace's driver frame %s is no known allocation site (tests/vm/fault-sites.sh misses a callee?)",
				     what, lg.frame[i]);
				continue;
			}
			lg.site[i]->traced++;
			site_add_op(lg.site[i], op->name);
			op_add_site(op, lg.site[i]);
		}
		if (lg.nframes) {
			/* attributed above */
		} else if (lg.traces) {
			op->outside++;	/* in the kernel, before/after the driver */
		} else if (op->silent) {
			op->silent_n++;
			for (i = 0; i < nsites; i++)
				if (!strcmp(sites[i].callee, op->silent)) {
					sites[i].silent++;
					site_add_op(&sites[i], op->name);
					op_add_site(op, &sites[i]);
				}
		} else {
			op->silent_n++;
			op->outside++;
		}
		/* Retried without injection, it works. */
		ret = op->run();
		klog_take(&lg, what);
		if (ret) {
			FAIL("%s: the retry without injection fails with %s",
			     what, vt_errname(ret));
			vt_bail();
		}
		if (op->undo)
			op->undo();
	}
	if (n > MAX_N)
		FAIL("%s: still failing after %u fault points", op->name, MAX_N);
}

/* --- kmemleak ---------------------------------------------------------------- */

static bool kmemleak_on(void)
{
	const char *k = getenv("ASH_TEST_FI_KMEMLEAK");

	return access(KMEMLEAK, W_OK) == 0 && !(k && !strcmp(k, "0"));
}

static void kmemleak_check(void)
{
	static char out[16384];
	int fd;
	ssize_t n;

	sleep(6);	/* kmemleak ignores objects younger than 5 s */
	write_file(KMEMLEAK, "scan");
	write_file(KMEMLEAK, "scan");
	fd = open(KMEMLEAK, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, out, sizeof(out) - 1);
	close(fd);
	if (n > 0) {
		out[n] = 0;
		printf("kmemleak after the sweeps:\n%s\n", out);
		FAIL("kmemleak reports leaks after fault injection");
		write_file(KMEMLEAK, "clear");
	}
}

/* --- main ------------------------------------------------------------------- */

static void prefault_stack(void)
{
	volatile char stack[256 * 1024];
	size_t i;

	for (i = 0; i < sizeof(stack); i += 4096)
		stack[i] = 0;
}

#define OP(...)	((struct op){ __VA_ARGS__ })

/*
 * Unload (vt_ctl must be the only file open), sweep the start of module
 * init again (the number of checks before it varies from load to load, so
 * a point can be missed), load it for good and reopen vt_ctl.  Pass @pass
 * (0, 1, 2) sweeps 64 << @pass points around where the stride sweep
 * resumed: a start of init that drifted further is found by a later pass.
 */
static void resweep_load(struct op *load, int pass)
{
	unsigned int half = 32U << pass;
	int points = load->points;

	close(vt_ctl);
	vt_ctl = -1;
	op_load_undo();
	load->start = load->resumed > half ? load->resumed - half : 1;
	load->stop = load->start + 2 * half - 1;
	sweep(load);
	load->stop = 0;
	printf("swept module load again, fault points %u..%u: %d more\n",
	       load->start, load->start + 2 * half - 1, load->points - points);
	REQUIRE(!op_load_run(), "module load");
	vt_ctl = open(VT_CTL_DEV, O_RDWR | O_CLOEXEC);
	REQUIRE(vt_ctl >= 0, "open %s after loading the module", VT_CTL_DEV);
}

static struct op ops[32];
static int nops;

static struct op *run_op(struct op o)
{
	struct timespec t0, t1;
	struct op *op;
	int i;

	/* Swept again: the counts add up. */
	for (i = 0; i < nops; i++)
		if (!strcmp(ops[i].name, o.name))
			break;
	op = &ops[i];
	if (i == nops) {
		*op = o;
		nops++;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	sweep(op);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("swept %-22s %4d fault points%s, %3d failed, %3d absorbed (%.1f s)\n",
	       op->name, op->points,
	       op->stride > 1 ? " (every stride-th before module init)" : "",
	       op->failed, op->absorbed,
	       (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	fflush(stdout);
	return op;
}

static bool site_allowed(const struct site *s, const char **why)
{
	char fc[128];
	size_t k;

	for (k = 0; k < sizeof(allow) / sizeof(allow[0]); k++) {
		const char *colon = strchr(allow[k].func_callee, ':');

		snprintf(fc, sizeof(fc), "%.*s",
			 (int)(colon - allow[k].func_callee),
			 allow[k].func_callee);
		if (site_named(s, fc) && !strcmp(colon + 1, s->callee)) {
			if (why)
				*why = allow[k].why;
			return true;
		}
	}
	return false;
}

static int nr_unreached(void)
{
	int i, n = 0;

	for (i = 0; i < nsites; i++)
		if (!sites[i].traced && !sites[i].silent &&
		    !site_allowed(&sites[i], NULL))
			n++;
	return n;
}

static void report(void)
{
	char errs[64];
	size_t len;
	int i, j, unreached = 0;

	printf("\n%-22s %6s %6s %6s %6s %6s  %-18s %s\n", "operation", "points",
	       "failed", "absorb", "silent", "kernel", "errnos", "driver sites");
	for (i = 0; i < nops; i++) {
		struct op *op = &ops[i];

		errs[0] = 0;
		for (j = 0; j < op->nerr; j++) {
			len = strlen(errs);
			snprintf(errs + len, sizeof(errs) - len, "%s%s",
				 j ? "," : "", vt_errname(op->errs[j]));
		}
		printf("%-22s %6d %6d %6d %6d %6d  %-18s %s\n", op->name,
		       op->points, op->failed, op->absorbed, op->silent_n,
		       op->outside, errs[0] ? errs : "-",
		       op->sites[0] ? op->sites : "-");
	}
	printf("(points: injections consumed; failed: the operation failed; absorbed: it succeeded anyway; silent: no trace (__GFP_NOWARN); kernel: the failing allocation was the kernel's own, outside the driver; NAME+: burst mode, the next slab allocation(s) fail too)\n");

	printf("\n%-36s %-18s %-8s %s\n", "driver allocation site", "callee",
	       "reached", "by");
	for (i = 0; i < nsites; i++) {
		struct site *s = &sites[i];
		char key[128], how[32];
		const char *why = NULL;

		snprintf(key, sizeof(key), "%s+0x%lx", s->func, s->off);
		site_allowed(s, &why);
		if (s->traced && s->silent)
			snprintf(how, sizeof(how), "trace+silent");
		else if (s->traced)
			snprintf(how, sizeof(how), "trace");
		else if (s->silent)
			snprintf(how, sizeof(how), "silent");
		else
			snprintf(how, sizeof(how), why ? "allowed" : "NO");
		printf("%-36s %-18s %-8s %s\n", key, s->callee, how,
		       s->ops[0] ? s->ops : why ? why : "-");
		if (!s->traced && !s->silent && !why) {
			FAIL("allocation site %s (%s) was never made to fail",
			     key, s->callee);
			unreached++;
		}
	}
	printf("%d allocation sites, %d not reached\n", nsites, unreached);
}

/*
 * Every operation but module load, from a module with no partition to the
 * same again.
 */
static void sweep_ioctls(void)
{
	/* An anchor partition and context at id 0 of their registries, so
	 * that the ones swept get id 1 and need an xarray node. */
	vt_part_new(ANCHOR, 4 * MiB, 0, (uid_t)-1, (gid_t)-1);
	anchor_fd = vt_tenant_open(ANCHOR);
	REQUIRE(anchor_fd >= 0, "bind the anchor: %s", vt_errname(anchor_fd));

	tmp_params_init();
	vt_part_track(TMP_PART);	/* deleted at exit if a sweep bails */
	run_op(OP(.name = "partition create", .run = op_part_create_run,
		  .undo = op_part_create_undo));
	run_op(OP(.name = "partition create+", .run = op_part_create_run,
		  .undo = op_part_create_undo, .burst = true));
	vt_part_new(PART, 128 * MiB, 0, (uid_t)-1, (gid_t)-1);
	run_op(OP(.name = "partition set", .setup = op_part_set_setup,
		  .run = op_part_set_run));
	run_op(OP(.name = "partition ACL", .setup = op_acl_setup,
		  .run = op_part_set_run));
	run_op(OP(.name = "partition delete", .setup = op_part_delete_setup,
		  .run = tmp_part_delete));
	run_op(OP(.name = "device set", .run = op_device_set_run));
	run_op(OP(.name = "open (context)", .run = op_open_run,
		  .undo = close_tmp));
	run_op(OP(.name = "bind", .setup = op_bind_setup, .run = op_bind_run,
		  .undo = close_tmp));
	run_op(OP(.name = "bind+", .setup = op_bind_setup, .run = op_bind_run,
		  .undo = close_tmp, .burst = true));

	ctx_fd = vt_tenant_open(PART);
	REQUIRE(ctx_fd >= 0, "bind the main context: %s", vt_errname(ctx_fd));
	run_op(OP(.name = "buffer alloc 100 B", .run = op_alloc_small_run,
		  .undo = op_alloc_undo, .silent = "__alloc_pages"));
	run_op(OP(.name = "buffer alloc 100 B+", .run = op_alloc_small_run,
		  .undo = op_alloc_undo, .silent = "__alloc_pages",
		  .burst = true));
	run_op(OP(.name = "first buffer alloc+", .setup = op_new_ctx_setup,
		  .run = op_new_ctx_alloc_run, .undo = close_tmp,
		  .silent = "__alloc_pages", .burst = true));
	run_op(OP(.name = "buffer alloc 4 MiB+4K", .run = op_alloc_big_run,
		  .undo = op_alloc_undo, .silent = "__alloc_pages"));
	run_op(OP(.name = "buffer alloc 4 MiB+4K+", .run = op_alloc_big_run,
		  .undo = op_alloc_undo, .silent = "__alloc_pages",
		  .burst = true));
	run_op(OP(.name = "buffer free", .setup = op_free_setup,
		  .run = op_free_run));
	REQUIRE_OK(vt_buf_alloc(ctx_fd, BUF_SIZE, &buf_h, &buf_off), "alloc");
	{
		/*
		 * Map at the start of an otherwise empty GiB: every mmap then
		 * needs new page tables, which vm_insert_pages allocates (and
		 * munmap frees again).
		 */
		void *r = mmap(NULL, 3ULL << 30, PROT_NONE, MAP_PRIVATE |
			       MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		REQUIRE(r != MAP_FAILED, "reserve 3 GiB of address space");
		mmap_at = (uint8_t *)(((uintptr_t)r + (1ULL << 30) - 1) &
				      ~((uintptr_t)(1ULL << 30) - 1));
		munmap(r, 3ULL << 30);
	}
	run_op(OP(.name = "mmap + touch", .run = op_mmap_run,
		  .undo = op_mmap_undo));
	buf_map = vt_buf_map(ctx_fd, buf_off, BUF_SIZE);
	REQUIRE(buf_map, "map the buffer");
	if (madvise(buf_map, VT_PAGE, MADV_DONTNEED) && errno == ENOSYS)
		printf("note: no madvise in this kernel: the tenant fault handler (ash_vm_fault) cannot be reached (it allocates nothing)\n");
	else
		run_op(OP(.name = "page fault", .setup = op_fault_setup,
			  .run = op_fault_run));
	run_op(OP(.name = "info queries", .run = op_info_run));

	run_op(OP(.name = "engine attach", .setup = op_attach_setup,
		  .run = op_attach_run, .undo = close_tmp));
	eng_start();
	/* The buffer's device address, as the engine sees it. */
	REQUIRE_OK(submit_fill(ctx_fd, 1, 0), "submit");
	REQUIRE_OK(eng_fetch(), "engine fetch");
	buf_devaddr = fetched[0].operands[0].offset;
	REQUIRE_OK(eng_complete(), "engine complete");
	run_op(OP(.name = "submit", .run = op_submit_run,
		  .undo = op_submit_undo));
	run_op(OP(.name = "submit chain x256", .run = op_submit_chain_run,
		  .undo = op_submit_undo));
	run_op(OP(.name = "submit chain x256+", .run = op_submit_chain_run,
		  .undo = op_submit_undo, .burst = true));
	run_op(OP(.name = "wait", .setup = op_wait_setup, .run = op_wait_run));
	run_op(OP(.name = "engine fetch", .setup = op_fetch_setup,
		  .run = eng_fetch, .undo = op_fetch_undo));
	run_op(OP(.name = "engine complete", .setup = op_complete_setup,
		  .run = eng_complete));
	run_op(OP(.name = "engine map touch", .setup = op_touch_setup,
		  .run = op_touch_run));
	if (eng_map)
		munmap(eng_map, eng_space);
	eng_map = NULL;
	run_op(OP(.name = "close, jobs queued", .setup = op_close_queued_setup,
		  .run = op_close_run));
	run_op(OP(.name = "engine close, job run", .setup = op_eng_close_setup,
		  .run = op_eng_close_run));

	/*
	 * First, so that the first registration -- which makes the device
	 * table's node, silently (GFP_NOWAIT) and then with a trace: a burst
	 * fails both -- is among those swept.
	 */
	owned_memfd_make();
	run_op(OP(.name = "engine register+", .setup = op_register_setup,
		  .run = op_register_run, .undo = close_tmp,
		  .check = op_register_check, .burst = true));
	run_op(OP(.name = "engine register", .setup = op_register_setup,
		  .run = op_register_run, .undo = close_tmp,
		  .check = op_register_check));
	owned_setup();
	run_op(OP(.name = "engine take back", .setup = op_take_back_setup,
		  .run = op_take_back_run, .undo = op_take_back_undo,
		  .check = op_take_back_check));
	run_op(OP(.name = "alloc, engine-owned", .run = op_owned_alloc_run,
		  .undo = op_owned_alloc_undo, .check = op_owned_alloc_check));
	close(owned_ctx);
	owned_ctx = -1;
	EXPECT_OK(vt_part_delete(OWNED_PART), "delete " OWNED_PART);
	close(owned_memfd);

	/* Everything goes; then nothing may be left. */
	vt_buf_unmap(buf_map, BUF_SIZE);
	buf_map = NULL;
	close(ctx_fd);
	close(anchor_fd);
	if (eng_fd >= 0)
		close(eng_fd);
	ctx_fd = anchor_fd = eng_fd = -1;
	EXPECT_OK(vt_part_delete(PART), "delete " PART);
	EXPECT_OK(vt_part_delete(ANCHOR), "delete " ANCHOR);
	{
		struct ash_device_info d = vt_dev();

		EXPECT_EQ(d.mem_used, 0, "device mem_used at the end");
		EXPECT_EQ(d.nr_contexts, 0, "device nr_contexts at the end");
		EXPECT_EQ(d.nr_partitions, 0, "device nr_partitions at the end");
		EXPECT_EQ(d.jobs_queued, 0, "device jobs_queued at the end");
	}
}

int main(void)
{
	struct timespec t0, t1;
	char dummy[8];
	const char *v = getenv("ASH_TEST_FI_VERBOSE");
	struct op *load_op;
	int pass;

	verbose = v && *v && strcmp(v, "0");
	vt_init("fault_injection", 280);
	if (access(FAILSLAB, F_OK) || access(FAILPAGE, F_OK) ||
	    access(FAIL_NTH, F_OK)) {
		printf("SKIP: no fault injection in this kernel (%s, %s or %s missing)\n",
		       FAILSLAB, FAILPAGE, FAIL_NTH);
		return VT_SKIP;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	mod_params = getenv("ASH_VM_PARAMS");
	if (!mod_params || !*mod_params)
		mod_params = "mem=256M";
	regex_setup();
	sites_load();
	nth_fd = open(FAIL_NTH, O_RDWR | O_CLOEXEC);
	REQUIRE(nth_fd >= 0, "open %s: %s", FAIL_NTH, strerror(errno));
	REQUIRE(pread(nth_fd, dummy, sizeof(dummy), 0) > 0, "read %s", FAIL_NTH);
	mod_fd = open(MODULE_FILE, O_RDONLY | O_CLOEXEC);
	REQUIRE(mod_fd >= 0, "open %s: %s", MODULE_FILE, strerror(errno));
	if (kmemleak_on()) {
		/* Leaks of earlier cases are theirs: report them now, forget them. */
		write_file(KMEMLEAK, "scan");
		write_file(KMEMLEAK, "clear");
	}
	{
		/* One CPU: fewer per-CPU cache effects on the counts. */
		cpu_set_t cpus;

		CPU_ZERO(&cpus);
		CPU_SET(0, &cpus);
		sched_setaffinity(0, sizeof(cpus), &cpus);
	}
	knobs_setup();
	prefault_stack();
	if (mlockall(MCL_CURRENT))
		printf("note: mlockall: %s\n", strerror(errno));

	/* Module load: unload the runner's, sweep finit_module, keep the last. */
	close(vt_ctl);
	vt_ctl = -1;
	op_load_undo();
	v = getenv("ASH_TEST_FI_LOAD_STRIDE");
	load_op = run_op(OP(.name = "module load", .run = op_load_run,
			    .undo = op_load_undo, .check = op_load_check,
			    .stride = v && atoi(v) > 0 ? (unsigned int)atoi(v) : 8));
	REQUIRE(!op_load_run(), "module load");
	vt_ctl = open(VT_CTL_DEV, O_RDWR | O_CLOEXEC);
	REQUIRE(vt_ctl >= 0, "open %s after loading the module", VT_CTL_DEV);

	sweep_ioctls();
	/*
	 * The number of checks before an allocation can vary a little from
	 * one attempt to the next (a stack depot or slab refill allocation),
	 * so a point may be skipped: sweep again what missed a site.
	 */
	if (nr_unreached()) {
		printf("%d allocation sites not reached: sweeping the ioctls again\n",
		       nr_unreached());
		sweep_ioctls();
	}
	/* Still missing one: sweep module init again. */
	for (pass = 0; pass < 3 && nr_unreached(); pass++)
		resweep_load(load_op, pass);
	report();
	{
		struct inj_log lg;

		klog_take(&lg, "the end");
	}
	knobs_restore();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("sweeps took %.1f s\n", (double)(t1.tv_sec - t0.tv_sec) +
	       (t1.tv_nsec - t0.tv_nsec) / 1e9);
	if (kmemleak_on())
		kmemleak_check();
	return vt_result();
}
