// SPDX-License-Identifier: MIT
/*
 * vmtest - helpers shared by the VM test cases.  See vmtest.h.
 */
#include "vmtest.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int vt_failures;
int vt_ctl = -1;
uint32_t vt_device;
const char *vt_device_name;
pid_t vt_bg_engine;

static const char *case_name = "?";
static pid_t main_pid;

/* Partitions this case created and has not deleted. */
#define MAX_PARTS	64
static char parts[MAX_PARTS][ASH_NAME_MAX];

/* Children forked by vt_spawn_as that were not waited for. */
#define MAX_KIDS	64
static pid_t kids[MAX_KIDS];

/* Mappings made by vt_buf_map and not unmapped by vt_buf_unmap. */
#define MAX_MAPS	256
static struct { void *addr; size_t len; } maps[MAX_MAPS];

void vt_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stdout, "FAIL: %s:%d: ", file, line);
	if (getpid() != main_pid)
		fprintf(stdout, "[child %d uid %d] ", (int)getpid(),
			(int)geteuid());
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
	vt_failures++;
}

const char *vt_errname(long err)
{
	static char buf[4][32];
	static int next;
	const char *name;
	char *b;

	if (err == 0)
		return "0";
	if (err < 0 && err > -4096) {
		name = strerrorname_np((int)-err);
		if (name) {
			b = buf[next++ % 4];
			snprintf(b, sizeof(buf[0]), "-%s", name);
			return b;
		}
	}
	b = buf[next++ % 4];
	snprintf(b, sizeof(buf[0]), "%ld", err);
	return b;
}

/* Kill what we forked and delete what we created; safe in a signal
 * handler (only system calls and no allocation). */
static void cleanup(void)
{
	struct ash_partition_delete del;
	int i;

	if (getpid() != main_pid)
		return;
	/* Children first: they may hold contexts of our partitions. */
	for (i = 0; i < MAX_KIDS; i++) {
		if (kids[i] > 0) {
			kill(kids[i], SIGKILL);
			waitpid(kids[i], NULL, 0);
			kids[i] = 0;
		}
	}
	/* A context stays bound while its fd is open or a buffer of it is
	 * mapped; drop both so that the partitions can go. */
	for (i = 0; i < MAX_MAPS; i++) {
		if (maps[i].addr) {
			munmap(maps[i].addr, maps[i].len);
			maps[i].addr = NULL;
		}
	}
	for (i = 3; i < 1024; i++)
		if (i != vt_ctl)
			close(i);
	for (i = 0; i < MAX_PARTS; i++) {
		if (!parts[i][0] || vt_ctl < 0)
			continue;
		memset(&del, 0, sizeof(del));
		memcpy(del.name, parts[i], ASH_NAME_MAX);
		ioctl(vt_ctl, ASH_CTL_PART_DELETE, &del);
		parts[i][0] = 0;
	}
}

int vt_result(void)
{
	cleanup();
	if (vt_failures)
		printf("%s: %d check(s) failed\n", case_name, vt_failures);
	fflush(stdout);
	return vt_failures ? 1 : 0;
}

void vt_bail(void)
{
	if (getpid() != main_pid) {
		fflush(stdout);
		_exit(1);
	}
	vt_result();
	exit(1);
}

static void on_alarm(int sig)
{
	static const char msg[] = "FAIL: watchdog: the case ran past its time limit\n";

	(void)sig;
	if (write(STDOUT_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(1);
	cleanup();
	_exit(1);
}

static void at_exit(void)
{
	cleanup();
}

#ifdef VT_ENGINE_OWNED
#define VT_ENGINE_BIN "/usr/bin/accelshare-engine"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int register_exec(void *arg)
{
	execl(VT_ENGINE_BIN, VT_ENGINE_BIN, "--register", VT_ENGINE_DEVICE,
	      "--mem", (const char *)arg, "--threads", "1", (char *)NULL);
	printf("FAIL: exec %s: %s\n", VT_ENGINE_BIN, strerror(errno));
	return 126;
}

/* Register VT_ENGINE_DEVICE with device 0's capacity and keep serving it. */
static void register_device(void)
{
	struct ash_device_info d0, d;
	char mem[32];
	uint64_t t0;
	int i;

	if (access(VT_ENGINE_BIN, X_OK)) {
		printf("SKIP: %s is not in the VM image\n", VT_ENGINE_BIN);
		exit(VT_SKIP);
	}
	if (vt_dev_info(0, &d0)) {
		printf("FAIL: DEVICE_INFO 0\n");
		exit(1);
	}
	snprintf(mem, sizeof(mem), "%llu", (unsigned long long)d0.mem_capacity);
	/*
	 * The engine fallocates and populates device 0's capacity of shmem
	 * first: 25-30 s for 256 MiB on the debug kernel under TCG, and once
	 * over 60 s (a VM short of memory after a model case): a bound for
	 * the harness, not a figure the case checks.
	 */
	t0 = now_ms();
	vt_bg_engine = vt_spawn_as(VT_ROOT, 0, NULL, 0, register_exec, mem);
	for (i = 0; i < 18000; i++) {
		memset(&d, 0, sizeof(d));
		d.flags = ASH_DEVICE_INFO_BY_NAME;
		snprintf(d.name, sizeof(d.name), "%s", VT_ENGINE_DEVICE);
		if (!vt_ioctl(vt_ctl, ASH_CTL_DEVICE_INFO, &d) && d.has_engine)
			break;
		usleep(10000);
	}
	if (!d.has_engine) {
		printf("FAIL: accelshare-engine did not register %s in 180 s\n",
		       VT_ENGINE_DEVICE);
		exit(1);
	}
	vt_device = d.device;
	vt_device_name = VT_ENGINE_DEVICE;
	printf("INFO: engine-owned variant: device %u (%s), %s bytes of cpu backend memory, engine pid %d, registered after %.1f s\n",
	       vt_device, VT_ENGINE_DEVICE, mem, (int)vt_bg_engine,
	       (double)(now_ms() - t0) / 1000);
}
#endif

void vt_init(const char *name, unsigned int timeout_s)
{
	struct stat st;

	case_name = name;
	main_pid = getpid();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() != 0) {
		printf("SKIP: %s: must run as root\n", name);
		exit(VT_SKIP);
	}
	if (stat(VT_TENANT_DEV, &st) || stat(VT_CTL_DEV, &st)) {
		printf("FAIL: %s: %s or %s missing: is accelshare.ko loaded?\n",
		       name, VT_TENANT_DEV, VT_CTL_DEV);
		exit(1);
	}
	vt_ctl = open(VT_CTL_DEV, O_RDWR | O_CLOEXEC);
	if (vt_ctl < 0) {
		printf("FAIL: %s: open %s as root: %s\n", name, VT_CTL_DEV,
		       vt_errname(-errno));
		exit(1);
	}
	atexit(at_exit);
	signal(SIGALRM, on_alarm);
	alarm(timeout_s);
#ifdef VT_ENGINE_OWNED
	register_device();
#endif
}

long vt_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) < 0 ? -errno : 0;
}

/* --- control node ------------------------------------------------------ */

void vt_params(struct ash_partition_params *p, const char *name,
	       uint64_t mem_max)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->device = vt_device;
	p->mem_max = mem_max;
}

static void remember_part(const char *name)
{
	int i;

	for (i = 0; i < MAX_PARTS; i++) {
		if (!parts[i][0]) {
			snprintf(parts[i], ASH_NAME_MAX, "%s", name);
			return;
		}
	}
}

static void forget_part(const char *name)
{
	int i;

	for (i = 0; i < MAX_PARTS; i++)
		if (!strncmp(parts[i], name, ASH_NAME_MAX))
			parts[i][0] = 0;
}

long vt_part_create(struct ash_partition_params *p)
{
	long ret = vt_ioctl(vt_ctl, ASH_CTL_PART_CREATE, p);

	if (!ret && memchr(p->name, 0, ASH_NAME_MAX))
		remember_part(p->name);
	return ret;
}

void vt_part_new(const char *name, uint64_t mem_max, uint64_t mem_min,
		 uid_t uid, gid_t gid)
{
	struct ash_partition_params p;
	long ret;

	vt_params(&p, name, mem_max);
	p.mem_min = mem_min;
	if (uid != (uid_t)-1)
		p.uids[p.nr_uids++] = uid;
	if (gid != (gid_t)-1)
		p.gids[p.nr_gids++] = gid;
	ret = vt_part_create(&p);
	if (ret) {
		vt_fail(__FILE__, __LINE__,
			"create partition %s (max %llu min %llu): expected 0, got %s",
			name, (unsigned long long)mem_max,
			(unsigned long long)mem_min, vt_errname(ret));
		vt_bail();
	}
}

long vt_part_set(struct ash_partition_params *p)
{
	return vt_ioctl(vt_ctl, ASH_CTL_PART_SET, p);
}

long vt_part_delete(const char *name)
{
	struct ash_partition_delete del;
	long ret;

	memset(&del, 0, sizeof(del));
	snprintf(del.name, sizeof(del.name), "%s", name);
	ret = vt_ioctl(vt_ctl, ASH_CTL_PART_DELETE, &del);
	if (!ret)
		forget_part(name);
	return ret;
}

long vt_part_info(const char *name, struct ash_partition_info *info)
{
	memset(info, 0, sizeof(*info));
	info->flags = ASH_PART_INFO_BY_NAME;
	snprintf(info->name, sizeof(info->name), "%s", name);
	return vt_ioctl(vt_ctl, ASH_CTL_PART_INFO, info);
}

struct ash_partition_info vt_part(const char *name)
{
	struct ash_partition_info info;
	long ret = vt_part_info(name, &info);

	if (ret) {
		vt_fail(__FILE__, __LINE__, "PART_INFO %s: expected 0, got %s",
			name, vt_errname(ret));
		vt_bail();
	}
	return info;
}

long vt_dev_info(uint32_t device, struct ash_device_info *info)
{
	memset(info, 0, sizeof(*info));
	info->device = device;
	return vt_ioctl(vt_ctl, ASH_CTL_DEVICE_INFO, info);
}

struct ash_device_info vt_dev(void)
{
	struct ash_device_info info;
	long ret = vt_dev_info(vt_device, &info);

	if (ret) {
		vt_fail(__FILE__, __LINE__, "DEVICE_INFO %u: expected 0, got %s",
			vt_device, vt_errname(ret));
		vt_bail();
	}
	return info;
}

int vt_ctx_list(struct ash_context_info *out, int max)
{
	struct ash_context_info ci;
	uint32_t id = 0;
	int n = 0;
	long ret;

	for (;;) {
		memset(&ci, 0, sizeof(ci));
		ci.id = id;
		ret = vt_ioctl(vt_ctl, ASH_CTL_CTX_INFO, &ci);
		if (ret == -ENOENT)
			return n;
		if (ret)
			return (int)ret;
		if (n < max)
			out[n] = ci;
		n++;
		if (ci.id < id || ci.id == UINT32_MAX || n > 100000)
			return -ELOOP;	/* the walk would not end */
		id = ci.id + 1;
	}
}

/* --- tenant node ------------------------------------------------------- */

int vt_tenant_open(const char *partition)
{
	struct ash_bind b;
	long ret;
	int fd;

	fd = open(VT_TENANT_DEV, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	memset(&b, 0, sizeof(b));
	snprintf(b.partition, sizeof(b.partition), "%s", partition);
	ret = vt_ioctl(fd, ASH_IOC_BIND, &b);
	if (ret) {
		close(fd);
		return (int)ret;
	}
	return fd;
}

long vt_buf_alloc(int fd, uint64_t size, uint32_t *handle, uint64_t *offset)
{
	return vt_buf_alloc_flags(fd, size, 0, handle, offset);
}

long vt_buf_alloc_flags(int fd, uint64_t size, uint32_t flags,
			uint32_t *handle, uint64_t *offset)
{
	struct ash_buf_alloc a;
	long ret;

	memset(&a, 0, sizeof(a));
	a.size = size;
	a.flags = flags;
	ret = vt_ioctl(fd, ASH_IOC_BUF_ALLOC, &a);
	if (!ret) {
		if (handle)
			*handle = a.handle;
		if (offset)
			*offset = a.mmap_offset;
	}
	return ret;
}

long vt_buf_free(int fd, uint32_t handle)
{
	struct ash_buf_free f;

	memset(&f, 0, sizeof(f));
	f.handle = handle;
	return vt_ioctl(fd, ASH_IOC_BUF_FREE, &f);
}

long vt_buf_info(int fd, uint32_t handle, struct ash_buf_info *info)
{
	memset(info, 0, sizeof(*info));
	info->handle = handle;
	return vt_ioctl(fd, ASH_IOC_BUF_INFO, info);
}

void *vt_buf_map(int fd, uint64_t offset, uint64_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		       (off_t)offset);
	int i;

	if (p == MAP_FAILED)
		return NULL;
	for (i = 0; i < MAX_MAPS; i++) {
		if (!maps[i].addr) {
			maps[i].addr = p;
			maps[i].len = len;
			break;
		}
	}
	return p;
}

int vt_buf_unmap(void *addr, uint64_t len)
{
	int i;

	for (i = 0; i < MAX_MAPS; i++)
		if (maps[i].addr == addr)
			maps[i].addr = NULL;
	return munmap(addr, len) ? -errno : 0;
}

void vt_fill(void *p, size_t len, uint8_t byte)
{
	memset(p, byte, len);
}

long vt_find_not(const void *p, size_t len, uint8_t byte)
{
	uint8_t ref[4096];
	const uint8_t *b = p;
	size_t i, n;

	/* memcmp a page at a time: the cases are built without -O and run
	 * under TCG, where a byte loop over megabytes is slow. */
	memset(ref, byte, sizeof(ref));
	for (i = 0; i < len; i += n) {
		n = len - i < sizeof(ref) ? len - i : sizeof(ref);
		if (memcmp(b + i, ref, n))
			break;
	}
	for (; i < len; i++)
		if (b[i] != byte)
			return (long)i;
	return -1;
}

/* --- processes --------------------------------------------------------- */

void *vt_shared(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		vt_fail(__FILE__, __LINE__, "mmap shared %zu bytes: %s", len,
			vt_errname(-errno));
		vt_bail();
	}
	return p;
}

pid_t vt_spawn_as(uid_t uid, gid_t gid, const gid_t *groups, int ngroups,
		  int (*fn)(void *), void *arg)
{
	pid_t pid;
	int i, ret;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		vt_fail(__FILE__, __LINE__, "fork: %s", vt_errname(-errno));
		vt_bail();
	}
	if (pid == 0) {
		/* The child must not run the parent's cleanup. */
		alarm(0);
		signal(SIGALRM, SIG_DFL);
		/* Tenants get no admin fd. */
		if (vt_ctl >= 0)
			close(vt_ctl);
		vt_ctl = -1;
		if (setgroups((size_t)ngroups, groups) ||
		    setresgid(gid, gid, gid) || setresuid(uid, uid, uid)) {
			vt_fail(__FILE__, __LINE__, "drop to uid %d gid %d: %s",
				(int)uid, (int)gid, vt_errname(-errno));
			_exit(1);
		}
		ret = fn(arg);
		fflush(stdout);
		_exit(vt_failures ? 1 : ret);
	}
	for (i = 0; i < MAX_KIDS; i++) {
		if (!kids[i]) {
			kids[i] = pid;
			break;
		}
	}
	return pid;
}

int vt_wait(pid_t pid)
{
	int st, i;

	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			vt_fail(__FILE__, __LINE__, "waitpid %d: %s", (int)pid,
				vt_errname(-errno));
			return -1;
		}
	}
	for (i = 0; i < MAX_KIDS; i++)
		if (kids[i] == pid)
			kids[i] = 0;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}

int vt_run_as(uid_t uid, gid_t gid, int (*fn)(void *), void *arg)
{
	return vt_wait(vt_spawn_as(uid, gid, NULL, 0, fn, arg));
}

bool vt_flag_wait(int *flag, int value, int timeout_ms)
{
	struct timespec ts = { 0, 1000 * 1000 };
	int waited = 0;

	while (__atomic_load_n(flag, __ATOMIC_ACQUIRE) < value) {
		if (waited++ >= timeout_ms)
			return false;
		nanosleep(&ts, NULL);
	}
	return true;
}

void vt_flag_set(int *flag, int value)
{
	__atomic_store_n(flag, value, __ATOMIC_RELEASE);
}

int vt_flag_get(int *flag)
{
	return __atomic_load_n(flag, __ATOMIC_ACQUIRE);
}

int vt_sh(char *out, size_t outlen, const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	FILE *f;
	size_t n = 0;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	fflush(stdout);
	fflush(stderr);
	if (!out) {
		st = system(cmd);
	} else {
		f = popen(cmd, "r");
		if (!f)
			return -1;
		while (n + 1 < outlen) {
			size_t got = fread(out + n, 1, outlen - 1 - n, f);

			if (!got)
				break;
			n += got;
		}
		out[n] = 0;
		/* drain the rest so that the command is not killed by SIGPIPE */
		while (fgetc(f) != EOF)
			;
		st = pclose(f);
	}
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* --- counters ---------------------------------------------------------- */

void vt_snap_take(struct vt_snap *s)
{
	struct ash_partition_info info;
	uint32_t id = 0;
	long ret;

	memset(s, 0, sizeof(*s));
	s->dev = vt_dev();
	for (;;) {
		memset(&info, 0, sizeof(info));
		info.id = id;
		ret = vt_ioctl(vt_ctl, ASH_CTL_PART_INFO, &info);
		if (ret == -ENOENT)
			break;
		if (ret) {
			vt_fail(__FILE__, __LINE__,
				"PART_INFO walk at id %u: expected 0 or -ENOENT, got %s",
				id, vt_errname(ret));
			vt_bail();
		}
		if (s->nr_parts < VT_SNAP_MAX)
			s->parts[s->nr_parts++] = info;
		if (info.id < id || info.id == UINT32_MAX)
			break;
		id = info.id + 1;
	}
	s->nr_ctx = vt_ctx_list(NULL, 0);
}

#define SAME(field, fmt_name) do {					\
	if (a->field != b->field) {					\
		vt_fail(__FILE__, __LINE__,				\
			"%s: %s " #field ": expected %llu, got %llu",	\
			what, fmt_name, (unsigned long long)a->field,	\
			(unsigned long long)b->field);			\
		same = false;						\
	}								\
} while (0)

bool vt_snap_expect_same(const struct vt_snap *before, const char *what)
{
	struct vt_snap now;
	bool same = true;
	int i, j;

	vt_snap_take(&now);
	{
		const struct ash_device_info *a = &before->dev, *b = &now.dev;

		SAME(mem_capacity, "device");
		SAME(mem_used, "device");
		SAME(mem_min_total, "device");
		SAME(nr_partitions, "device");
		SAME(nr_contexts, "device");
	}
	if (before->nr_ctx != now.nr_ctx) {
		vt_fail(__FILE__, __LINE__,
			"%s: bound contexts (CTX_INFO walk): expected %d, got %d",
			what, before->nr_ctx, now.nr_ctx);
		same = false;
	}
	if (before->nr_parts != now.nr_parts) {
		vt_fail(__FILE__, __LINE__,
			"%s: partitions: expected %d, got %d", what,
			before->nr_parts, now.nr_parts);
		same = false;
	}
	for (i = 0; i < before->nr_parts; i++) {
		const struct ash_partition_info *a = &before->parts[i], *b = NULL;
		char name[ASH_NAME_MAX + 16];

		for (j = 0; j < now.nr_parts; j++)
			if (now.parts[j].id == a->id)
				b = &now.parts[j];
		snprintf(name, sizeof(name), "partition %.31s", a->name);
		if (!b) {
			vt_fail(__FILE__, __LINE__, "%s: %s (id %u) is gone",
				what, name, a->id);
			same = false;
			continue;
		}
		if (memcmp(a->name, b->name, ASH_NAME_MAX)) {
			vt_fail(__FILE__, __LINE__,
				"%s: %s (id %u) renamed to %.31s", what, name,
				a->id, b->name);
			same = false;
		}
		SAME(mem_max, name);
		SAME(mem_min, name);
		SAME(mem_used, name);
		SAME(weight, name);
		SAME(max_contexts, name);
		SAME(max_buffers, name);
		SAME(nr_contexts, name);
		SAME(nr_buffers, name);
		SAME(nr_uids, name);
		SAME(nr_gids, name);
		if (memcmp(a->uids, b->uids, sizeof(a->uids)) ||
		    memcmp(a->gids, b->gids, sizeof(a->gids))) {
			vt_fail(__FILE__, __LINE__,
				"%s: %s access list changed", what, name);
			same = false;
		}
	}
	for (j = 0; j < now.nr_parts; j++) {
		for (i = 0; i < before->nr_parts; i++)
			if (before->parts[i].id == now.parts[j].id)
				break;
		if (i == before->nr_parts) {
			vt_fail(__FILE__, __LINE__,
				"%s: new partition %.31s (id %u) appeared",
				what, now.parts[j].name, now.parts[j].id);
			same = false;
		}
	}
	return same;
}

/* --- malformed input ------------------------------------------------------ */

unsigned long vt_cmd_sized(unsigned long cmd, size_t size)
{
	return _IOC(_IOC_DIR(cmd), _IOC_TYPE(cmd), _IOC_NR(cmd), size);
}

long vt_ioctl_sized(int fd, unsigned long cmd, void *arg, size_t size)
{
	return vt_ioctl(fd, vt_cmd_sized(cmd, size), arg);
}

/* A page with nothing mapped after it: the struct at its end straddles. */
static uint8_t *edge_page(void)
{
	static uint8_t *page;

	if (!page) {
		page = mmap(NULL, 2 * VT_PAGE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (page == MAP_FAILED) {
			FAIL("mmap 2 pages: %s", vt_errname(-errno));
			vt_bail();
		}
		munmap(page + VT_PAGE, VT_PAGE);
	}
	return page;
}

void vt_sweep_faults(int fd, unsigned long cmd, const char *name,
		     const void *base, size_t size)
{
	uint8_t *page = edge_page();
	char what[160];
	struct { const char *desc; void *ptr; } bad[] = {
		{ "NULL", NULL },
		{ "(void *)1", (void *)1 },
		{ "an unmapped page", page + VT_PAGE },
		{ "a struct running into an unmapped page", page + VT_PAGE - size / 2 },
		{ "a kernel address", (void *)0xffff888000000000ULL },
	};
	size_t i;

	/* The straddling one holds a valid first half. */
	memcpy(page + VT_PAGE - size / 2, base, size / 2);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(what, sizeof(what), "%s with %s", name, bad[i].desc);
		EXPECT_ERR(vt_ioctl(fd, cmd, bad[i].ptr), -EFAULT, what);
	}
}

void vt_sweep(int fd, unsigned long cmd, const char *name, const void *base,
	      size_t size, size_t flags_off, uint32_t flags_ok,
	      const struct vt_field *zero, int nzero)
{
	uint8_t buf[1024], val[8];
	char what[160];
	uint32_t flags, bit;
	int i;

	if (size + 8 > sizeof(buf)) {
		FAIL("%s: struct of %zu bytes too large for the sweep", name, size);
		return;
	}
	memcpy(&flags, (const uint8_t *)base + flags_off, 4);
	for (i = 0; i < 32; i++) {
		bit = 1U << i;
		if (flags_ok & bit)
			continue;
		memcpy(buf, base, size);
		flags |= bit;
		memcpy(buf + flags_off, &flags, 4);
		flags &= ~bit;
		snprintf(what, sizeof(what), "%s with undefined flag bit %d", name, i);
		EXPECT_ERR(vt_ioctl(fd, cmd, buf), -EINVAL, what);
	}
	for (i = 0; i < nzero; i++) {
		/* lowest and highest byte of the field */
		memset(val, 0, sizeof(val));
		val[0] = 1;
		memcpy(buf, base, size);
		memcpy(buf + zero[i].off, val, zero[i].len);
		snprintf(what, sizeof(what), "%s with %s = 1", name, zero[i].name);
		EXPECT_ERR(vt_ioctl(fd, cmd, buf), -EINVAL, what);
		memset(val, 0, sizeof(val));
		val[zero[i].len - 1] = 0x80;
		memcpy(buf, base, size);
		memcpy(buf + zero[i].off, val, zero[i].len);
		snprintf(what, sizeof(what), "%s with the top bit of %s set", name,
			 zero[i].name);
		EXPECT_ERR(vt_ioctl(fd, cmd, buf), -EINVAL, what);
	}
	/* A newer caller's larger struct with a nonzero tail (its first byte,
	 * then its last). */
	for (i = 0; i < 2; i++) {
		memcpy(buf, base, size);
		memset(buf + size, 0, 8);
		buf[size + (i ? 7 : 0)] = 0xff;
		snprintf(what, sizeof(what), "%s as a %zu-byte struct, tail byte %d nonzero",
			 name, size + 8, i ? 7 : 0);
		EXPECT_ERR(vt_ioctl_sized(fd, cmd, buf, size + 8), -E2BIG, what);
	}
	vt_sweep_faults(fd, cmd, name, base, size);
}

void vt_part_track(const char *name)
{
	remember_part(name);
}

/* --- JSON, just enough for ashctl's output ------------------------------ */

/* The value after "key": in @obj, whitespace skipped; NULL if absent. */
static const char *json_value(const char *obj, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\"", key);
	for (p = strstr(obj, pat); p; p = strstr(p + 1, pat)) {
		const char *v = p + strlen(pat);

		while (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r')
			v++;
		if (*v != ':')
			continue;	/* a string value that looks like the key */
		v++;
		while (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r')
			v++;
		return v;
	}
	return NULL;
}

bool vt_json_u64(const char *obj, const char *key, uint64_t *val)
{
	const char *v = json_value(obj, key);
	char *end;

	if (!v || *v < '0' || *v > '9')
		return false;
	*val = strtoull(v, &end, 10);
	return end != v;
}

bool vt_json_str(const char *obj, const char *key, char *out, size_t outlen)
{
	const char *v = json_value(obj, key);
	size_t n = 0;

	if (!v || *v != '"' || !outlen)
		return false;
	for (v++; *v && *v != '"' && n + 1 < outlen; v++)
		out[n++] = *v;
	out[n] = 0;
	return *v == '"';
}

int vt_json_objects(const char *json, char out[][1024], int max)
{
	const char *p = json, *start = NULL;
	int depth = 0, n = 0;
	bool in_str = false;

	while (*p && *p != '[')
		p++;
	if (*p != '[')
		return -1;
	for (p++; *p; p++) {
		if (in_str) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '"')
				in_str = false;
			continue;
		}
		if (*p == '"') {
			in_str = true;
		} else if (*p == '{') {
			if (depth++ == 0)
				start = p;
		} else if (*p == '}') {
			if (--depth == 0 && start) {
				size_t len = (size_t)(p - start + 1);

				if (n < max) {
					if (len > 1023)
						len = 1023;
					memcpy(out[n], start, len);
					out[n][len] = 0;
				}
				n++;
			}
			if (depth < 0)
				return -1;
		} else if (*p == ']' && depth == 0) {
			return n;
		}
	}
	return -1;	/* no closing ']' */
}

long long vt_read_num(const char *path)
{
	char buf[64];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return strtoll(buf, NULL, 10);
}
