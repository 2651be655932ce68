/* SPDX-License-Identifier: MIT */
/*
 * libaccelshare without a kernel: argument checks, errno handling, and the
 * library's own logic (map caching, cleanup, EINTR) against a fake tenant
 * node.  The fake replaces ioctl, mmap and munmap for the library's objects
 * (linked with --wrap); the real calls are used while it is off.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include <accelshare.h>
#include <uapi/accelshare.h>

#define ERRNO_MARK 4242

int __real_ioctl(int fd, unsigned long request, ...);
int __wrap_ioctl(int fd, unsigned long request, ...);
void *__real_mmap(void *addr, size_t len, int prot, int flags, int fd,
		  off_t off);
void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd,
		  off_t off);
int __real_munmap(void *addr, size_t len);
int __wrap_munmap(void *addr, size_t len);

/* The fake tenant node: what it was asked, and how it answers. */
static struct {
	int on;
	int eintr;		/* fail this many ioctls with EINTR first */
	int map_nodev;		/* answer mmap like a device-backed device */
	uint64_t quota;		/* bytes the partition may hold */
	uint64_t used;
	uint32_t next_handle;
	int binds, allocs, frees;
	char bound[ASH_NAME_MAX];
	atomic_int mmaps;
	atomic_int munmaps;
} fake;

int __wrap_ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!fake.on)
		return __real_ioctl(fd, request, arg);
	if (fake.eintr) {
		fake.eintr--;
		errno = EINTR;
		return -1;
	}
	switch (request) {
	case ASH_IOC_BIND: {
		struct ash_bind *b = arg;

		fake.binds++;
		if (!strcmp(b->partition, "nope")) {
			errno = ENOENT;
			return -1;
		}
		memcpy(fake.bound, b->partition, sizeof(fake.bound));
		return 0;
	}
	case ASH_IOC_BUF_ALLOC: {
		struct ash_buf_alloc *a = arg;

		if (a->flags || a->reserved[0] || a->reserved[1]) {
			errno = EINVAL;
			return -1;
		}
		if (a->size > fake.quota - fake.used) {
			errno = EDQUOT;
			return -1;
		}
		fake.used += a->size;
		fake.allocs++;
		a->handle = ++fake.next_handle;
		a->mmap_offset = (uint64_t)a->handle << ASH_MMAP_SHIFT;
		return 0;
	}
	case ASH_IOC_BUF_FREE:
		fake.frees++;
		return 0;
	case ASH_IOC_PARTITION_INFO: {
		struct ash_partition_info *p = arg;

		memset(p, 0, sizeof(*p));
		/* A full field with no NUL: the library must terminate it. */
		memset(p->name, 'n', sizeof(p->name));
		p->device = 2;
		p->weight = 300;
		p->mem_max = fake.quota;
		p->mem_min = 4096;
		p->mem_used = fake.used;
		p->nr_contexts = 1;
		p->nr_buffers = (uint32_t)fake.allocs;
		return 0;
	}
	}
	errno = ENOTTY;
	return -1;
}

void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd,
		  off_t off)
{
	if (!fake.on)
		return __real_mmap(addr, len, prot, flags, fd, off);
	if (fake.map_nodev) {
		errno = ENODEV;
		return MAP_FAILED;
	}
	if (prot != (PROT_READ | PROT_WRITE) || !(flags & MAP_SHARED) ||
	    off == 0 || off % ((off_t)1 << ASH_MMAP_SHIFT)) {
		errno = EINVAL;
		return MAP_FAILED;
	}
	atomic_fetch_add(&fake.mmaps, 1);
	return __real_mmap(NULL, len, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

int __wrap_munmap(void *addr, size_t len)
{
	if (fake.on)
		atomic_fetch_add(&fake.munmaps, 1);
	return __real_munmap(addr, len);
}

static int fake_setup(void **state)
{
	(void)state;
	memset(&fake, 0, sizeof(fake));
	fake.quota = 1 << 20;
	fake.on = 1;
	setenv("ACCELSHARE_DEVICE", "/dev/null", 1);
	return 0;
}

static int fake_teardown(void **state)
{
	(void)state;
	fake.on = 0;
	unsetenv("ACCELSHARE_DEVICE");
	return 0;
}

static void open_bad_names_einval_errno_kept(void **state)
{
	static const char *const bad[] = {
		"", ".x", "-x", "a b", "a/b", "x\n",
		"0123456789012345678901234567890123",
		"01234567890123456789012345678901",	/* 32: one too many */
	};
	struct ash_ctx *ctx = (struct ash_ctx *)&ctx;
	size_t i;

	(void)state;
	setenv("ACCELSHARE_DEVICE", "/nonexistent/accelshare", 1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = ERRNO_MARK;
		assert_int_equal(ash_open(bad[i], &ctx), -EINVAL);
		assert_int_equal(errno, ERRNO_MARK);
	}
	errno = ERRNO_MARK;
	unsetenv("ACCELSHARE_PARTITION");
	assert_int_equal(ash_open(NULL, &ctx), -EINVAL);
	setenv("ACCELSHARE_PARTITION", "", 1);
	assert_int_equal(ash_open(NULL, &ctx), -EINVAL);
	setenv("ACCELSHARE_PARTITION", "-x", 1);
	assert_int_equal(ash_open(NULL, &ctx), -EINVAL);
	unsetenv("ACCELSHARE_PARTITION");
	assert_int_equal(ash_open("ok", NULL), -EINVAL);
	assert_int_equal(errno, ERRNO_MARK);
	assert_ptr_equal(ctx, (struct ash_ctx *)&ctx);
	unsetenv("ACCELSHARE_DEVICE");
}

/* No device node: -ENODEV (the module is not loaded), not the -ENOENT of a
 * missing partition. */
/* The library's version is the header's: one source, read by the build. */
static void version_is_the_headers(void **state)
{
	char want[32];

	(void)state;
	snprintf(want, sizeof(want), "%d.%d.%d", ACCELSHARE_VERSION_MAJOR,
		 ACCELSHARE_VERSION_MINOR, ACCELSHARE_VERSION_PATCH);
	assert_string_equal(ash_version(), want);
	assert_string_equal(ash_version(), ACCELSHARE_VERSION_STRING);
	assert_true(ACCELSHARE_VERSION_AT_LEAST(0, 2));
	assert_true(ACCELSHARE_VERSION_AT_LEAST(ACCELSHARE_VERSION_MAJOR,
						ACCELSHARE_VERSION_MINOR));
	assert_false(ACCELSHARE_VERSION_AT_LEAST(ACCELSHARE_VERSION_MAJOR + 1,
						 0));
}

static void open_missing_node_enodev(void **state)
{
	struct ash_ctx *ctx = NULL;

	(void)state;
	setenv("ACCELSHARE_DEVICE", "/nonexistent/accelshare", 1);
	errno = ERRNO_MARK;
	/* 31 characters: the longest valid name reaches the open. */
	assert_int_equal(ash_open("0123456789012345678901234567890", &ctx),
			 -ENODEV);
	/* NULL: $ACCELSHARE_PARTITION's, which reaches the open too. */
	setenv("ACCELSHARE_PARTITION", "from-env", 1);
	assert_int_equal(ash_open(NULL, &ctx), -ENODEV);
	unsetenv("ACCELSHARE_PARTITION");
	assert_int_equal(errno, ERRNO_MARK);
	assert_null(ctx);
	unsetenv("ACCELSHARE_DEVICE");
}

static void open_non_accelshare_node_enotty(void **state)
{
	struct ash_ctx *ctx = NULL;

	(void)state;
	setenv("ACCELSHARE_DEVICE", "/dev/null", 1);
	errno = ERRNO_MARK;
	assert_int_equal(ash_open("research", &ctx), -ENOTTY);
	assert_int_equal(errno, ERRNO_MARK);
	assert_null(ctx);
	unsetenv("ACCELSHARE_DEVICE");
}

static void open_binds_the_name(void **state)
{
	struct ash_ctx *ctx = NULL;

	(void)state;
	errno = ERRNO_MARK;
	assert_int_equal(ash_open("team-a", &ctx), 0);
	assert_int_equal(errno, ERRNO_MARK);
	assert_string_equal(fake.bound, "team-a");
	assert_true(ash_ctx_fd(ctx) >= 0);
	ash_close(ctx);
	assert_int_equal(ash_open("nope", &ctx), -ENOENT);
	assert_int_equal(errno, ERRNO_MARK);
}

static void alloc_map_free(void **state)
{
	struct ash_ctx *ctx;
	struct ash_buf *buf;
	void *a1, *a2;

	(void)state;
	assert_int_equal(ash_open("p", &ctx), 0);
	errno = ERRNO_MARK;
	assert_int_equal(ash_alloc(ctx, 8192, &buf), 0);
	assert_int_equal(ash_buf_size(buf), 8192);
	assert_int_equal(ash_map(buf, &a1), 0);
	assert_int_equal(ash_map(buf, &a2), 0);
	assert_ptr_equal(a1, a2);
	assert_int_equal(fake.mmaps, 1);
	memset(a1, 0xab, 8192);
	ash_free(buf);
	assert_int_equal(fake.munmaps, 1);
	assert_int_equal(fake.frees, 1);
	assert_int_equal(errno, ERRNO_MARK);
	ash_close(ctx);
}

static void alloc_errors(void **state)
{
	struct ash_buf *buf = NULL;
	struct ash_ctx *ctx;

	(void)state;
	assert_int_equal(ash_open("p", &ctx), 0);
	errno = ERRNO_MARK;
	assert_int_equal(ash_alloc(ctx, 0, &buf), -EINVAL);
	assert_int_equal(ash_alloc(ctx, ASH_BUF_SIZE_MAX + 1, &buf), -EINVAL);
	assert_int_equal(ash_alloc(NULL, 4096, &buf), -EINVAL);
	assert_int_equal(ash_alloc(ctx, 4096, NULL), -EINVAL);
	assert_int_equal(ash_alloc(ctx, (1 << 20) + 1, &buf), -EDQUOT);
	assert_null(buf);
	assert_int_equal(errno, ERRNO_MARK);
	assert_int_equal(fake.allocs, 0);
	ash_close(ctx);
}

static void map_without_host_mapping_eopnotsupp(void **state)
{
	struct ash_ctx *ctx;
	struct ash_buf *buf;
	void *addr = NULL;

	(void)state;
	fake.map_nodev = 1;
	assert_int_equal(ash_open("p", &ctx), 0);
	assert_int_equal(ash_alloc(ctx, 4096, &buf), 0);
	errno = ERRNO_MARK;
	assert_int_equal(ash_map(buf, &addr), -EOPNOTSUPP);
	assert_null(addr);
	assert_int_equal(errno, ERRNO_MARK);
	ash_free(buf);
	assert_int_equal(fake.munmaps, 0);
	assert_int_equal(fake.frees, 1);
	ash_close(ctx);
}

static void interrupted_ioctl_is_retried(void **state)
{
	struct ash_ctx *ctx;
	struct ash_buf *buf;

	(void)state;
	assert_int_equal(ash_open("p", &ctx), 0);
	fake.eintr = 3;
	errno = ERRNO_MARK;
	assert_int_equal(ash_alloc(ctx, 4096, &buf), 0);
	assert_int_equal(errno, ERRNO_MARK);
	assert_int_equal(fake.allocs, 1);
	ash_close(ctx);
}

static void stat_copies_and_terminates(void **state)
{
	struct ash_partition_stat st;
	struct ash_ctx *ctx;
	struct ash_buf *buf;

	(void)state;
	assert_int_equal(ash_open("p", &ctx), 0);
	assert_int_equal(ash_alloc(ctx, 12288, &buf), 0);
	assert_int_equal(ash_partition_stat(ctx, &st), 0);
	assert_int_equal(strlen(st.name), sizeof(st.name) - 1);
	assert_int_equal(st.device, 2);
	assert_int_equal(st.weight, 300);
	assert_int_equal(st.mem_max, 1 << 20);
	assert_int_equal(st.mem_min, 4096);
	assert_int_equal(st.mem_used, 12288);
	assert_int_equal(st.nr_contexts, 1);
	assert_int_equal(st.nr_buffers, 1);
	assert_int_equal(ash_partition_stat(ctx, NULL), -EINVAL);
	ash_free(buf);
	ash_close(ctx);
}

static void close_releases_outstanding_buffers(void **state)
{
	struct ash_buf *buf[3];
	struct ash_ctx *ctx;
	void *addr;
	int i;

	(void)state;
	assert_int_equal(ash_open("p", &ctx), 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(ash_alloc(ctx, 4096, &buf[i]), 0);
	assert_int_equal(ash_map(buf[0], &addr), 0);
	assert_int_equal(ash_map(buf[2], &addr), 0);
	ash_free(buf[1]);
	errno = ERRNO_MARK;
	/* The mapped ones must be unmapped, or the kernel would keep them
	 * charged; ASan's leak check covers the structs. */
	ash_close(ctx);
	assert_int_equal(errno, ERRNO_MARK);
	assert_int_equal(fake.frees, 3);
	assert_int_equal(fake.munmaps, 2);
}

struct race {
	struct ash_buf *buf;
	pthread_barrier_t *start;
	void *addr;
	int ret;
};

static void *race_map(void *p)
{
	struct race *r = p;

	pthread_barrier_wait(r->start);
	r->ret = ash_map(r->buf, &r->addr);
	return NULL;
}

static void racing_maps_agree_on_one_address(void **state)
{
	enum { THREADS = 8, ROUNDS = 50 };
	pthread_barrier_t start;
	struct race r[THREADS];
	pthread_t t[THREADS];
	struct ash_ctx *ctx;
	int round, i;

	(void)state;
	assert_int_equal(ash_open("p", &ctx), 0);
	pthread_barrier_init(&start, NULL, THREADS);
	for (round = 0; round < ROUNDS; round++) {
		struct ash_buf *buf;

		assert_int_equal(ash_alloc(ctx, 4096, &buf), 0);
		for (i = 0; i < THREADS; i++) {
			r[i].buf = buf;
			r[i].start = &start;
			assert_int_equal(pthread_create(&t[i], NULL, race_map,
							&r[i]), 0);
		}
		for (i = 0; i < THREADS; i++)
			pthread_join(t[i], NULL);
		for (i = 0; i < THREADS; i++) {
			assert_int_equal(r[i].ret, 0);
			assert_ptr_equal(r[i].addr, r[0].addr);
		}
		/* Every losing mapping was undone: one is left. */
		assert_int_equal(fake.mmaps - fake.munmaps, 1);
		ash_free(buf);
		assert_int_equal(fake.mmaps, fake.munmaps);
		fake.used = 0;
	}
	pthread_barrier_destroy(&start);
	ash_close(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(open_bad_names_einval_errno_kept),
		cmocka_unit_test(version_is_the_headers),
		cmocka_unit_test(open_missing_node_enodev),
		cmocka_unit_test(open_non_accelshare_node_enotty),
		cmocka_unit_test_setup_teardown(open_binds_the_name,
						fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(alloc_map_free, fake_setup,
						fake_teardown),
		cmocka_unit_test_setup_teardown(alloc_errors, fake_setup,
						fake_teardown),
		cmocka_unit_test_setup_teardown(
			map_without_host_mapping_eopnotsupp, fake_setup,
			fake_teardown),
		cmocka_unit_test_setup_teardown(interrupted_ioctl_is_retried,
						fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(stat_copies_and_terminates,
						fake_setup, fake_teardown),
		cmocka_unit_test_setup_teardown(
			close_releases_outstanding_buffers, fake_setup,
			fake_teardown),
		cmocka_unit_test_setup_teardown(
			racing_maps_agree_on_one_address, fake_setup,
			fake_teardown),
	};

	return cmocka_run_group_tests_name("runtime", tests, NULL, NULL);
}
