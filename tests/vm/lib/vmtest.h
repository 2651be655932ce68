/* SPDX-License-Identifier: MIT */
/*
 * vmtest - helpers shared by the VM test cases (tests/vm/cases/NAME.c).
 *
 * A case is one program.  The in-VM runner loads accelshare.ko (device 0,
 * 256 MiB, no partitions), runs the case as root, then unloads the module and
 * checks the kernel log.  Exit status: 0 pass, 77 skip, anything else fail.
 *
 * Checks print one line per broken expectation, "FAIL: file:line: what:
 * expected X, got Y", and make the case fail; a case keeps going after a
 * failed EXPECT_* and stops at a failed REQUIRE_*.  At exit (normal, after a
 * REQUIRE, or on the watchdog) the helpers kill the children they forked,
 * unmap what vt_buf_map mapped, close every fd but the control node's and
 * delete the partitions the case created, so that rmmod can succeed.
 */
#ifndef VMTEST_H
#define VMTEST_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <accelshare.h>
#include <uapi/accelshare.h>

#define VT_SKIP		77

#define KiB		(1024ULL)
#define MiB		(1024ULL * 1024)
#define VT_PAGE		4096ULL

/* Users the VM image has. */
#define VT_ROOT		0
#define VT_ALICE	1000
#define VT_BOB		1001
#define VT_CAROL	1002
#define VT_ORGA		2000
#define VT_ORGB		2001
#define VT_ORGC		2002

#define VT_TENANT_DEV	"/dev/accelshare"
#define VT_CTL_DEV	"/dev/accelshare-ctl"

/* Number of failed checks so far in this process. */
extern int vt_failures;

void vt_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Exit now: kill children, delete partitions, exit 1 (or 0 with no failure). */
void vt_bail(void) __attribute__((noreturn));
/* The case's exit status: 0 if no check failed, else 1. */
int vt_result(void);
/* "-EDQUOT" for -EDQUOT, "0" for 0, "-E?(n)" otherwise. Static buffer for
 * unknown values, so use at most one unknown per printf. */
const char *vt_errname(long err);

/* Checks.  @what names the operation, e.g. "alloc over cap". */
#define FAIL(...)	vt_fail(__FILE__, __LINE__, __VA_ARGS__)
#define EXPECT(cond, ...) \
	((cond) ? true : (vt_fail(__FILE__, __LINE__, __VA_ARGS__), false))
#define REQUIRE(cond, ...) \
	do { if (!EXPECT(cond, __VA_ARGS__)) vt_bail(); } while (0)

#define EXPECT_EQ(got, want, what) ({					\
	unsigned long long _g = (unsigned long long)(got);		\
	unsigned long long _w = (unsigned long long)(want);		\
	EXPECT(_g == _w, "%s: expected %llu (%#llx), got %llu (%#llx)",	\
	       (what), _w, _w, _g, _g); })
#define EXPECT_LE(got, limit, what) ({					\
	unsigned long long _g = (unsigned long long)(got);		\
	unsigned long long _l = (unsigned long long)(limit);		\
	EXPECT(_g <= _l, "%s: expected <= %llu, got %llu",		\
	       (what), _l, _g); })
/* @got is 0 or a negative errno; @want likewise (e.g. -EDQUOT or 0). */
#define EXPECT_ERR(got, want, what) ({					\
	long _g = (long)(got), _w = (long)(want);			\
	EXPECT(_g == _w, "%s: expected %s, got %s", (what),		\
	       vt_errname(_w), _g == _w ? "" : vt_errname(_g)); })
#define EXPECT_OK(got, what)	EXPECT_ERR(got, 0, what)
#define REQUIRE_EQ(got, want, what) \
	do { if (!EXPECT_EQ(got, want, what)) vt_bail(); } while (0)
#define REQUIRE_ERR(got, want, what) \
	do { if (!EXPECT_ERR(got, want, what)) vt_bail(); } while (0)
#define REQUIRE_OK(got, what)	REQUIRE_ERR(got, 0, what)

/*
 * Start a case: skip (77) unless root, fail unless the module's nodes
 * exist, open the control node, arm a watchdog of @timeout_s seconds.
 */
void vt_init(const char *name, unsigned int timeout_s);

/* ioctl(2) returning 0 or -errno. */
long vt_ioctl(int fd, unsigned long req, void *arg);

/* The control node, opened by vt_init(). */
extern int vt_ctl;

/*
 * The device the case's partitions and engines use: device 0, or -- for a
 * case built as its engine-owned variant (-DVT_ENGINE_OWNED, the binary
 * NAME_engine_owned) -- device VT_ENGINE_DEVICE, which vt_init() has an
 * engine with the cpu backend register (--register) with device 0's
 * capacity, and keeps serving until the case starts an engine of its own
 * (vx_engine_start()).  Without an engine, memory freed on such a device
 * waits to be scrubbed.
 */
#define VT_ENGINE_DEVICE "vt_gpu"
extern uint32_t vt_device;
extern const char *vt_device_name;	/* NULL for device 0 */
/* The engine vt_init() left serving VT_ENGINE_DEVICE, or 0. */
extern pid_t vt_bg_engine;

/* --- control node ------------------------------------------------------ */

/* Zeroed params for @name on vt_device with cap @mem_max. */
void vt_params(struct ash_partition_params *p, const char *name,
	       uint64_t mem_max);
/* ASH_CTL_PART_CREATE; remembers the name for cleanup.  0 or -errno. */
long vt_part_create(struct ash_partition_params *p);
/* Create or bail: cap @mem_max, guarantee @mem_min, access list: @uid
 * unless it is (uid_t)-1, @gid unless it is (gid_t)-1. */
void vt_part_new(const char *name, uint64_t mem_max, uint64_t mem_min,
		 uid_t uid, gid_t gid);
/* Delete @name at exit if the case has not (a partition made by ashctl). */
void vt_part_track(const char *name);
/* ASH_CTL_PART_SET.  0 or -errno. */
long vt_part_set(struct ash_partition_params *p);
/* ASH_CTL_PART_DELETE; forgets the name on success.  0 or -errno. */
long vt_part_delete(const char *name);
/* ASH_CTL_PART_INFO with ASH_PART_INFO_BY_NAME.  0 or -errno. */
long vt_part_info(const char *name, struct ash_partition_info *info);
/* Partition info or bail. */
struct ash_partition_info vt_part(const char *name);
/* ASH_CTL_DEVICE_INFO.  0 or -errno. */
long vt_dev_info(uint32_t device, struct ash_device_info *info);
/* vt_device's info or bail. */
struct ash_device_info vt_dev(void);
/* Walk ASH_CTL_CTX_INFO into @out (at most @max); the count, or -errno. */
int vt_ctx_list(struct ash_context_info *out, int max);

/* --- tenant node (raw ioctls) -------------------------------------------- */

/* open /dev/accelshare and bind to @partition: the fd or -errno. */
int vt_tenant_open(const char *partition);
/* ASH_IOC_BUF_ALLOC: 0 or -errno; handle and offset may be NULL. */
long vt_buf_alloc(int fd, uint64_t size, uint32_t *handle, uint64_t *offset);
/* The same with ASH_BUF_* @flags (ASH_BUF_STAGING, ASH_BUF_READONLY). */
long vt_buf_alloc_flags(int fd, uint64_t size, uint32_t flags,
			uint32_t *handle, uint64_t *offset);
long vt_buf_free(int fd, uint32_t handle);
long vt_buf_info(int fd, uint32_t handle, struct ash_buf_info *info);
/* mmap a buffer's offset on @fd, MAP_SHARED, read/write: NULL on failure
 * with errno set. */
void *vt_buf_map(int fd, uint64_t offset, uint64_t len);
/* A decimal number from a file (sysfs, cgroupfs), or -1. */
long long vt_read_num(const char *path);

/* munmap a vt_buf_map mapping: 0 or -errno. */
int vt_buf_unmap(void *addr, uint64_t len);

/* Fill @len bytes with @byte; find the first byte that is not @byte: its
 * index, or -1 if all are. */
void vt_fill(void *p, size_t len, uint8_t byte);
long vt_find_not(const void *p, size_t len, uint8_t byte);

/* --- processes ------------------------------------------------------------ */

/* Shared (MAP_SHARED|MAP_ANONYMOUS) zeroed memory, kept for the process. */
void *vt_shared(size_t len);

/*
 * Fork; the child closes the control node, drops to @uid/@gid with
 * supplementary groups @groups (@ngroups may be 0), runs @fn(@arg) and
 * _exits with its return value (a failed check in it also makes it exit 1).  vt_spawn_as returns the pid
 * (the helpers kill it at exit if it is still there); vt_run_as waits and
 * returns the child's exit status, or 128 + signal if it was killed.
 */
pid_t vt_spawn_as(uid_t uid, gid_t gid, const gid_t *groups, int ngroups,
		  int (*fn)(void *), void *arg);
int vt_wait(pid_t pid);
int vt_run_as(uid_t uid, gid_t gid, int (*fn)(void *), void *arg);

/* Wait until *@flag >= @value (another process sets it with vt_flag_set);
 * false after @timeout_ms. */
bool vt_flag_wait(int *flag, int value, int timeout_ms);
void vt_flag_set(int *flag, int value);
int vt_flag_get(int *flag);

/* Run a shell command; its exit status (0..255), or -1 if it did not exit.
 * Output goes to the case's stdout/stderr unless @out is given: then stdout
 * is captured into @out (NUL-terminated, at most @outlen - 1 bytes). */
int vt_sh(char *out, size_t outlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Just enough JSON for ashctl --json: split a top-level array into its
 * objects (the count, or -1 if @json is no array; at most @max copied, each
 * cut at 1023 bytes); read a number or a string member of one object. */
int vt_json_objects(const char *json, char out[][1024], int max);
bool vt_json_u64(const char *obj, const char *key, uint64_t *val);
bool vt_json_str(const char *obj, const char *key, char *out, size_t outlen);

#define VT_ASHCTL	"/usr/bin/ashctl"

/* --- counters ---------------------------------------------------------- */

#define VT_SNAP_MAX	64

/* vt_device and every partition, as the control node reports them. */
struct vt_snap {
	struct ash_device_info dev;
	int nr_parts;
	struct ash_partition_info parts[VT_SNAP_MAX];
	int nr_ctx;
};

void vt_snap_take(struct vt_snap *s);
/* Compare @before with now: device mem_used, mem_min_total, nr_partitions,
 * nr_contexts, the set of partitions and each one's settings, mem_used,
 * nr_contexts and nr_buffers, and the number of bound contexts.  Prints a
 * FAIL line for each difference (prefixed with @what); true if none. */
bool vt_snap_expect_same(const struct vt_snap *before, const char *what);

/* --- malformed input ---------------------------------------------------- */

/* A must-be-zero field of a struct: offset, width (4 or 8), name. */
struct vt_field {
	size_t off;
	size_t len;
	const char *name;
};
#define VT_FIELD(type, member)	\
	{ offsetof(type, member), sizeof(((type *)0)->member), #member }
#define VT_RESERVED(type, i)	\
	{ offsetof(type, reserved) + (i) * 8, 8, "reserved[" #i "]" }

/* @cmd re-encoded with @size as the struct size (a newer/older caller). */
unsigned long vt_cmd_sized(unsigned long cmd, size_t size);
long vt_ioctl_sized(int fd, unsigned long cmd, void *arg, size_t size);

/*
 * Feed variants of @base (a valid @size-byte struct for @cmd) that must all
 * be refused: each flag bit outside @flags_ok set (-EINVAL), each field in
 * @zero nonzero, low and high bit (-EINVAL), a struct 8 bytes larger with a
 * nonzero tail (-E2BIG), and the bad pointers of vt_sweep_faults.
 */
void vt_sweep(int fd, unsigned long cmd, const char *name, const void *base,
	      size_t size, size_t flags_off, uint32_t flags_ok,
	      const struct vt_field *zero, int nzero);
/* NULL, (void *)1, an unmapped page, a struct running from a mapped into an
 * unmapped page, a kernel address: each -EFAULT. */
void vt_sweep_faults(int fd, unsigned long cmd, const char *name,
		     const void *base, size_t size);

#endif /* VMTEST_H */
