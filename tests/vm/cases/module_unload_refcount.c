// SPDX-License-Identifier: MIT
/*
 * The module cannot be unloaded while anything holds it, and unloads
 * cleanly once nothing does.
 *
 * delete_module(2) on 6.1 refuses a module whose reference count is not
 * zero with -EWOULDBLOCK (== -EAGAIN), with or without O_NONBLOCK (the
 * flag no longer changes anything since Linux 3.13; O_TRUNC would force,
 * and is not used); busybox rmmod fails likewise.  Every file of either
 * node holds the module (fops.owner), and so does every mapping of one
 * (vma->vm_file).  One holder at a time, each alone (in the order 1, 5, 2,
 * 3, 4, 6), the case checks that
 * delete_module is refused both ways, that the refusal changed nothing
 * (the holder still works afterwards), and that once the holder is gone
 * /sys/module/accelshare/refcnt is 0 again:
 *
 *   1. the case's own control fd;
 *   2. an open, bound tenant fd (alice, in another process) with buffers;
 *   3. only a mapping of a buffer, after the handle was freed and the fd
 *      closed (the tenant then munmaps and refcnt drops while it lives);
 *   4. the same mapping, dropped by SIGKILL instead;
 *   5. an attached engine (its control fd and its mapping of the device),
 *      until it is SIGKILLed;
 *   6. a tenant fd inherited across fork, after the parent closed its own.
 *
 * Device counters are read from sysfs between steps, which holds nothing.
 * Then, with a partition still defined and nothing open, delete_module
 * succeeds, the device nodes and /sys/module/accelshare go away; the
 * module is loaded again with the same parameters ($ASH_VM_PARAMS) and
 * works (fresh: no partitions, nothing used); the harness unloads it.
 */
#include "vtexec.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#define PART		"unload"
#define MOD		"accelshare"
#define REFCNT		"/sys/module/" MOD "/refcnt"
#define SYSDEV		"/sys/class/misc/accelshare-ctl/device0/"

struct shared {
	int step;	/* case <-> holder handshake */
	int ok;		/* the holder's check after a refused unload */
};

static struct shared *sh;

static long delete_module(unsigned int flags)
{
	return syscall(SYS_delete_module, MOD, flags) ? -errno : 0;
}

static long long refcnt(void)
{
	return vt_read_num(REFCNT);
}

/* Wait up to @ms for the module's refcnt to be @want. */
static bool refcnt_wait(long long want, int ms)
{
	for (int i = 0; i < ms / 5; i++) {
		if (refcnt() == want)
			return true;
		usleep(5000);
	}
	return refcnt() == want;
}

/* Unloading is refused (both ways, and by rmmod) and nothing changed. */
static void expect_refused(const char *holder)
{
	char what[160];
	long long rc = refcnt();

	EXPECT(rc > 0, "%s: refcnt %lld, want > 0", holder, rc);
	snprintf(what, sizeof(what), "delete_module(O_NONBLOCK) while %s", holder);
	EXPECT_ERR(delete_module(O_NONBLOCK), -EWOULDBLOCK, what);
	snprintf(what, sizeof(what), "delete_module(0) while %s", holder);
	EXPECT_ERR(delete_module(0), -EWOULDBLOCK, what);
	EXPECT(vt_sh(NULL, 0, "rmmod " MOD " 2>/dev/null") != 0,
	       "rmmod succeeded while %s", holder);
	EXPECT(access("/sys/module/" MOD, F_OK) == 0 &&
	       access(VT_TENANT_DEV, F_OK) == 0,
	       "module gone after a refused unload (%s)", holder);
	EXPECT_EQ(refcnt(), rc, "refcnt after the refused unloads");
	printf("%s: refcnt %lld, delete_module -EWOULDBLOCK (with and without "
	       "O_NONBLOCK), rmmod refused\n", holder, rc);
}

/* Each holder waits at a step for the case, checks, and goes on. */
static void step_wait(int step)
{
	REQUIRE(vt_flag_wait(&sh->step, step, 60000), "step %d", step);
}

/* 2: an open tenant fd with two buffers, one mapped. */
static int holder_fd(void *arg)
{
	uint32_t h, h2;
	uint64_t off;
	uint8_t *p;
	int fd;

	(void)arg;
	fd = vt_tenant_open(PART);
	REQUIRE(fd >= 0, "alice bind: %s", vt_errname(fd));
	REQUIRE_OK(vt_buf_alloc(fd, 1 * MiB, &h, &off), "alloc");
	REQUIRE_OK(vt_buf_alloc(fd, 64 * KiB, &h2, NULL), "alloc 2");
	p = vt_buf_map(fd, off, 1 * MiB);
	REQUIRE(p, "mmap");
	vt_fill(p, 1 * MiB, 0x11);
	vt_flag_set(&sh->step, 1);
	step_wait(2);
	/* Still works after the refused unloads. */
	sh->ok = vt_find_not(p, 1 * MiB, 0x11) == -1 &&
		 !vt_buf_free(fd, h2) && !vt_buf_alloc(fd, 8 * KiB, &h2, NULL);
	vt_buf_unmap(p, 1 * MiB);
	close(fd);
	return 0;
}

/* 3 and 4: only a mapping of a freed buffer, the fd closed. */
static int holder_map(void *arg)
{
	bool unmap_self = arg != NULL;
	uint32_t h;
	uint64_t off;
	uint8_t *p;
	int fd;

	fd = vt_tenant_open(PART);
	REQUIRE(fd >= 0, "alice bind: %s", vt_errname(fd));
	REQUIRE_OK(vt_buf_alloc(fd, 256 * KiB, &h, &off), "alloc");
	p = mmap(NULL, 256 * KiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 (off_t)off);
	REQUIRE(p != MAP_FAILED, "mmap: %s", vt_errname(-errno));
	REQUIRE_OK(vt_buf_free(fd, h), "free the mapped buffer");
	close(fd);
	memset(p, 0x22, 256 * KiB);
	vt_flag_set(&sh->step, 1);
	step_wait(2);
	sh->ok = vt_find_not(p, 256 * KiB, 0x22) == -1;
	if (!unmap_self)
		for (;;)
			pause();	/* until SIGKILL */
	munmap(p, 256 * KiB);
	vt_flag_set(&sh->step, 3);
	step_wait(4);
	return 0;
}

/* 6: a bound fd inherited by a child; the parent closes its copy. */
static int holder_inherited(void *arg)
{
	uint32_t h;
	pid_t kid;
	int fd, st;

	(void)arg;
	fd = vt_tenant_open(PART);
	REQUIRE(fd >= 0, "alice bind: %s", vt_errname(fd));
	kid = fork();
	REQUIRE(kid >= 0, "fork");
	if (kid == 0) {
		step_wait(2);
		sh->ok = !vt_buf_alloc(fd, 4 * KiB, &h, NULL);
		_exit(0);
	}
	close(fd);
	vt_flag_set(&sh->step, 1);
	REQUIRE(waitpid(kid, &st, 0) == kid, "waitpid");
	return 0;
}

/* Run one holder through: start, refused unload, holder's check, gone. */
static void hold(const char *holder, int (*fn)(void *), void *arg)
{
	pid_t pid;

	memset(sh, 0, sizeof(*sh));
	pid = vt_spawn_as(VT_ALICE, VT_ORGA, NULL, 0, fn, arg);
	REQUIRE(vt_flag_wait(&sh->step, 1, 60000), "%s: holder ready", holder);
	expect_refused(holder);
	if (fn == holder_map && !arg) {
		vt_flag_set(&sh->step, 2);
		usleep(100000);
		kill(pid, SIGKILL);
		EXPECT_EQ(vt_wait(pid), 128 + SIGKILL, "holder killed");
	} else if (fn == holder_map) {
		vt_flag_set(&sh->step, 2);
		REQUIRE(vt_flag_wait(&sh->step, 3, 60000), "%s: unmapped", holder);
		/* The process lives on; its munmap dropped the last holder. */
		EXPECT(refcnt_wait(0, 10000), "%s: refcnt %lld 10 s after munmap",
		       holder, refcnt());
		vt_flag_set(&sh->step, 4);
		EXPECT_EQ(vt_wait(pid), 0, "holder's exit status");
	} else {
		vt_flag_set(&sh->step, 2);
		EXPECT_EQ(vt_wait(pid), 0, "holder's exit status");
	}
	EXPECT(sh->ok, "%s: the holder's check after the refused unloads", holder);
	EXPECT(refcnt_wait(0, 10000), "%s: refcnt %lld 10 s after the holder went",
	       holder, refcnt());
	EXPECT_EQ(vt_read_num(SYSDEV "contexts"), 0, "device contexts (sysfs)");
	EXPECT_EQ(vt_read_num(SYSDEV "mem_used"), 0, "device mem_used (sysfs)");
}

int main(void)
{
	struct ash_device_info d;
	const char *params;
	pid_t eng;
	int ctl;

	vt_init("module_unload_refcount", 200);
	sh = vt_shared(sizeof(*sh));
	if (refcnt() < 0) {
		printf("SKIP: %s not readable (no CONFIG_MODULE_UNLOAD?)\n", REFCNT);
		return VT_SKIP;
	}

	/* 1: the case's control fd (vt_init opened it). */
	vt_part_new(PART, 16 * MiB, 0, VT_ALICE, (gid_t)-1);
	expect_refused("the case holds a control fd");
	EXPECT_OK(vt_dev_info(0, &d), "DEVICE_INFO after the refused unload");

	/* The engine needs the control node to be waited for: start it now,
	 * then let go of the case's own fd. */
	eng = vx_engine_start("1");
	close(vt_ctl);
	vt_ctl = -1;

	/* 5: the engine alone. */
	expect_refused("the engine is attached");
	kill(eng, SIGKILL);
	EXPECT_EQ(vt_wait(eng), 128 + SIGKILL, "engine's end (128 + SIGKILL)");
	EXPECT(refcnt_wait(0, 10000), "engine: refcnt %lld 10 s after it was killed",
	       refcnt());

	hold("a tenant fd is open", holder_fd, NULL);
	hold("only a mapping of a freed buffer remains (then munmap)",
	     holder_map, (void *)1);
	hold("only a mapping of a freed buffer remains (then SIGKILL)",
	     holder_map, NULL);
	hold("a tenant fd inherited across fork is open", holder_inherited, NULL);

	/* Nothing holds it: unload, with the partition still defined. */
	REQUIRE_EQ(refcnt(), 0, "refcnt before the unload");
	REQUIRE_OK(delete_module(O_NONBLOCK), "delete_module with nothing held");
	EXPECT(access("/sys/module/" MOD, F_OK) && access(VT_TENANT_DEV, F_OK) &&
	       access(VT_CTL_DEV, F_OK),
	       "/sys/module/" MOD " or a device node still there after the unload");
	EXPECT_ERR(delete_module(O_NONBLOCK), -ENOENT, "delete_module again");
	printf("unloaded with nothing held (partition " PART " still defined)\n");

	/* Load it again as the harness did, and check it is fresh. */
	params = getenv("ASH_VM_PARAMS");
	REQUIRE(vt_sh(NULL, 0, "insmod /accelshare.ko %s", params ? params : "") == 0,
		"insmod /accelshare.ko %s", params ? params : "");
	ctl = open(VT_CTL_DEV, O_RDWR | O_CLOEXEC);
	REQUIRE(ctl >= 0, "open %s after reloading: %s", VT_CTL_DEV, vt_errname(-errno));
	vt_ctl = ctl;
	d = vt_dev();
	EXPECT_EQ(d.nr_partitions, 0, "partitions after reloading");
	EXPECT_EQ(d.mem_used, 0, "mem_used after reloading");
	EXPECT_EQ(d.has_engine, 0, "has_engine after reloading");
	{
		struct ash_partition_info pi;

		EXPECT_ERR(vt_part_info(PART, &pi), -ENOENT,
			   "the old partition after reloading");
	}
	vt_part_new("again", 4 * MiB, 0, VT_ALICE, (gid_t)-1);
	{
		uint32_t h;
		int fd = vt_tenant_open("again");

		EXPECT(fd >= 0, "bind after reloading: %s", vt_errname(fd < 0 ? fd : 0));
		if (fd >= 0) {
			EXPECT_OK(vt_buf_alloc(fd, 1 * MiB, &h, NULL), "alloc after reloading");
			close(fd);
		}
	}
	printf("reloaded with '%s': fresh and working\n", params ? params : "");
	return vt_result();
}
