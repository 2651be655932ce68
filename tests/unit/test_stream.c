/* SPDX-License-Identifier: MIT */
/*
 * The weight-streaming core (runtime/model/stream.c) into plain memory:
 * byte-for-byte equal to the file for ranges whose offsets and lengths are
 * no multiple of the block size, destinations congruent to the file offset
 * (O_DIRECT middle) and not (all buffered), direct I/O on and off, queue
 * depths 1 and 16, chunks of 4 KiB and 1 MiB, registered buffers on and
 * off; ranges that end mid-chunk at the end of the file, and past it.
 *
 * The files live in STREAM_TMPDIR, a directory on the build's disk (tmpfs
 * may refuse O_DIRECT); if O_DIRECT cannot be opened there, the direct cases
 * still run, buffered, and say so.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../runtime/model/stream.h"

#ifndef STREAM_TMPDIR
#define STREAM_TMPDIR "build/unit/tmp"
#endif

/* 3 MiB + 1237: no multiple of the block size nor of any chunk size. */
#define FILE_SIZE	((3ULL << 20) + 1237)
#define GUARD		4096
#define CANARY		0xa5

static char path[512];
static uint8_t *want;		/* the file's bytes */
static int fd = -1, dfd = -1;

static int setup(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	size_t i;

	(void)state;
	mkdir(STREAM_TMPDIR, 0755);
	snprintf(path, sizeof(path), STREAM_TMPDIR "/stream-%d.bin",
		 (int)getpid());
	want = malloc(FILE_SIZE);
	if (!want)
		return -1;
	for (i = 0; i < FILE_SIZE; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		want[i] = (uint8_t)x;
	}
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, want, FILE_SIZE) != (ssize_t)FILE_SIZE ||
	    fsync(fd))
		return -1;
	dfd = open(path, O_RDONLY | O_CLOEXEC | O_DIRECT);
	if (dfd < 0)
		fprintf(stderr, "test_stream: no O_DIRECT in %s (%s): direct "
			"cases run buffered\n", STREAM_TMPDIR, strerror(errno));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (dfd >= 0)
		close(dfd);
	if (fd >= 0)
		close(fd);
	unlink(path);
	free(want);
	return 0;
}

struct prog {
	uint64_t last;
	uint64_t total;
	int calls;
	int backwards;
};

static void on_progress(void *arg, uint64_t done, uint64_t total)
{
	struct prog *p = arg;

	if (done < p->last || done > total)
		p->backwards = 1;
	p->last = done;
	p->total = total;
	p->calls++;
}

/* copy_threads for one(): 0 for io_uring, 2 or more for threaded copies. */
static unsigned int threads;

/*
 * Read [@off, @off + @len) with the given settings into a page-aligned
 * buffer at @skew bytes past the point congruent to @off, and check it.
 */
static void one(uint64_t off, uint64_t len, int skew, int direct, uint32_t qd,
		uint32_t chunk, int reg)
{
	size_t mis = (size_t)((off + (uint64_t)skew) % 4096);
	size_t total = GUARD + mis + len + GUARD;
	struct ash_stream s;
	struct prog p = { 0 };
	uint8_t *mem, *dst;
	size_t i;
	int ret;

	mem = aligned_alloc(4096, (total + 4095) & ~(size_t)4095);
	assert_non_null(mem);
	memset(mem, CANARY, total);
	dst = mem + GUARD + mis;

	memset(&s, 0, sizeof(s));
	s.fd = fd;
	s.dfd = direct ? dfd : -1;
	s.queue_depth = qd;
	s.chunk_size = chunk;
	s.register_buffers = reg;
	s.copy_threads = threads;
	s.progress = on_progress;
	s.progress_arg = &p;
	ret = ash__stream_read(&s, off, len, dst);
	if (ret || memcmp(dst, want + off, len))
		fprintf(stderr, "off %llu len %llu skew %d direct %d qd %u "
			"chunk %u reg %d: ret %d\n", (unsigned long long)off,
			(unsigned long long)len, skew, direct, qd, chunk, reg,
			ret);
	assert_int_equal(ret, 0);
	assert_memory_equal(dst, want + off, len);
	for (i = 0; i < GUARD + mis; i++)
		assert_int_equal(mem[i], CANARY);
	for (i = 0; i < GUARD; i++)
		assert_int_equal(dst[len + i], CANARY);
	assert_int_equal(s.direct_bytes + s.buffered_bytes, len);
	assert_false(p.backwards);
	assert_int_equal(p.last, len);
	assert_int_equal(p.total, len);
	if (len)
		assert_true(threads > 1 ? !s.used_uring : s.used_uring);
	if (!direct || dfd < 0 || skew)
		assert_int_equal(s.direct_bytes, 0);
	/* Congruent and longer than two blocks: the middle went O_DIRECT. */
	if (direct && dfd >= 0 && !skew && !s.direct_fallback && len > 8192)
		assert_true(s.direct_bytes >= len - 8192);
	free(mem);
}

static const struct {
	uint64_t off, len;
} ranges[] = {
	{ 0, FILE_SIZE },			/* all, ends mid-chunk at EOF */
	{ 1, FILE_SIZE - 1 },			/* odd start, to EOF */
	{ 4095, FILE_SIZE - 4095 - 3 },		/* ends 3 bytes short */
	{ 4096, 2ULL << 20 },			/* aligned both ends */
	{ 12345, 777 },				/* inside one block */
	{ 8190, 5000 },				/* spans two block edges */
	{ 100, 0 },				/* nothing */
};

static void matrix(int direct, uint32_t chunk, int reg)
{
	static const uint32_t qds[] = { 1, 16 };

	for (size_t r = 0; r < sizeof(ranges) / sizeof(ranges[0]); r++)
		for (int skew = 0; skew <= 1; skew++)
			for (size_t q = 0; q < 2; q++)
				one(ranges[r].off, ranges[r].len, skew * 1,
				    direct, qds[q], chunk, reg);
}

static void buffered_small_chunks(void **state)
{
	(void)state;
	matrix(0, 4096, 0);
}

static void buffered_default_chunks(void **state)
{
	(void)state;
	matrix(0, ASH_STREAM_CHUNK_DEFAULT, 0);
}

static void direct_small_chunks(void **state)
{
	(void)state;
	matrix(1, 4096, 0);
}

static void direct_default_chunks(void **state)
{
	(void)state;
	matrix(1, ASH_STREAM_CHUNK_DEFAULT, 0);
}

static void direct_registered_buffers(void **state)
{
	(void)state;
	matrix(1, ASH_STREAM_CHUNK_DEFAULT, 1);
	matrix(1, 4096, 1);
}

static void buffered_registered_buffers(void **state)
{
	(void)state;
	matrix(0, 64 * 1024, 1);
}

/* A range past the end of the file: the short read is resubmitted, the
 * next read returns 0, and the load fails with -EIO after every read in
 * flight has completed. */
static void past_eof_is_eio(void **state)
{
	uint64_t off = FILE_SIZE - 10000;
	struct ash_stream s;
	uint8_t *mem;

	(void)state;
	for (int direct = 0; direct <= 1; direct++) {
		mem = aligned_alloc(4096, 1 << 20);
		assert_non_null(mem);
		memset(&s, 0, sizeof(s));
		s.fd = fd;
		s.dfd = direct ? dfd : -1;
		s.queue_depth = 4;
		s.chunk_size = 4096;
		assert_int_equal(ash__stream_read(&s, off, 20000,
						  mem + off % 4096), -EIO);
		/* What the file has was read. */
		assert_memory_equal(mem + off % 4096, want + off, 8192);
		free(mem);
	}
}

static void bad_settings(void **state)
{
	struct ash_stream s;
	char b[16];

	(void)state;
	memset(&s, 0, sizeof(s));
	s.fd = fd;
	s.dfd = -1;
	s.chunk_size = 4096;
	s.queue_depth = 0;
	assert_int_equal(ash__stream_read(&s, 0, 16, b), -EINVAL);
	s.queue_depth = ASH_STREAM_QD_MAX + 1;
	assert_int_equal(ash__stream_read(&s, 0, 16, b), -EINVAL);
	s.queue_depth = 1;
	s.chunk_size = 4097;
	assert_int_equal(ash__stream_read(&s, 0, 16, b), -EINVAL);
	s.chunk_size = 2048;
	assert_int_equal(ash__stream_read(&s, 0, 16, b), -EINVAL);
	s.chunk_size = 4096;
	assert_int_equal(ash__stream_read(&s, UINT64_MAX, 16, b), -EINVAL);
	assert_int_equal(ash__stream_read(&s, 0, 16, NULL), -EINVAL);
	s.fd = -1;
	assert_int_equal(ash__stream_read(&s, 0, 16, b), -EINVAL);
	s.fd = fd;
	assert_int_equal(ash__stream_read(&s, 0, 16, b), 0);
	assert_memory_equal(b, want, 16);
}

/* A descriptor that refuses reads: the error comes back, nothing hangs. */
static void read_error_is_returned(void **state)
{
	int wfd = open(path, O_WRONLY | O_CLOEXEC);
	struct ash_stream s;
	char *b = malloc(1 << 20);

	(void)state;
	assert_true(wfd >= 0);
	assert_non_null(b);
	memset(&s, 0, sizeof(s));
	s.fd = wfd;
	s.dfd = -1;
	s.chunk_size = 4096;
	s.queue_depth = 16;
	assert_int_equal(ash__stream_read(&s, 0, 1 << 20, b), -EBADF);
	close(wfd);
	free(b);
}

/*
 * Cached data copied by several threads (the loader's choice when the
 * file is in the page cache): the same ranges, byte for byte, with
 * progress from the calling thread rising to the total.
 */
static void threaded_copies(void **state)
{
	(void)state;
	for (threads = 2; threads <= 5; threads += 3) {
		matrix(0, 4096, 0);
		matrix(0, 1 << 20, 0);
	}
	threads = 0;
}

static void copy_thread_count(void **state)
{
	cpu_set_t cpus;
	unsigned int n;

	(void)state;
	assert_int_equal(ash__stream_copy_threads(0), 1);
	assert_int_equal(ash__stream_copy_threads(ASH_STREAM_COPY_STRIPE - 1), 1);
	n = ash__stream_copy_threads(1ULL << 40);
	assert_int_equal(sched_getaffinity(0, sizeof(cpus), &cpus), 0);
	assert_true(n >= 1 && n <= ASH_STREAM_COPY_THREADS_MAX &&
		    n <= (unsigned int)CPU_COUNT(&cpus));
}

/*
 * The cache probe behind the loader's default: a file just written is
 * cached; after fadvise(DONTNEED) of its (clean) pages it is not, where the
 * file system drops them (a tmpfs keeps every page).
 */
static void cache_probe(void **state)
{
	(void)state;
	assert_true(ash__stream_cached(fd, 0, FILE_SIZE));
	assert_true(ash__stream_cached(fd, 4097, 8191));
	assert_false(ash__stream_cached(fd, 0, 0));
	assert_false(ash__stream_cached(fd, UINT64_MAX - 10, 100));
	assert_int_equal(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
	if (dfd >= 0)		/* O_DIRECT works, so no tmpfs */
		assert_false(ash__stream_cached(fd, 0, FILE_SIZE));
	/* Reading it in makes it cached again. */
	for (uint64_t off = 0; off < FILE_SIZE; off += 65536) {
		char b[65536];

		assert_true(pread(fd, b, sizeof(b), (off_t)off) > 0);
	}
	assert_true(ash__stream_cached(fd, 0, FILE_SIZE));
}

/*
 * The probe behind the loader's default for uncached data: a range of
 * ASH_STREAM_PROBE_MIN and more is read in timed segments, the first with
 * O_DIRECT, the second buffered, the rest in the faster mode; every byte
 * arrives, and the counts add up.  The file is sparse but for one word a
 * MiB (its offset), so that it costs no disk.
 */
static void probe_measures_both_modes(void **state)
{
	const uint64_t size = ASH_STREAM_PROBE_MIN + (5ULL << 20);
	char big[sizeof(path) + 8];
	struct ash_stream s;
	uint64_t off;
	uint8_t *dst;
	int bfd, bdfd;

	(void)state;
	if (dfd < 0)
		skip();		/* no O_DIRECT here (tmpfs) */
	snprintf(big, sizeof(big), "%s.big", path);
	bfd = open(big, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(bfd >= 0);
	assert_int_equal(ftruncate(bfd, (off_t)size), 0);
	for (off = 0; off < size; off += 1 << 20)
		assert_int_equal(pwrite(bfd, &off, 8, (off_t)off), 8);
	assert_int_equal(fsync(bfd), 0);
	assert_int_equal(posix_fadvise(bfd, 0, 0, POSIX_FADV_DONTNEED), 0);
	bdfd = open(big, O_RDONLY | O_CLOEXEC | O_DIRECT);
	assert_true(bdfd >= 0);
	dst = aligned_alloc(4096, size);
	assert_non_null(dst);
	memset(&s, 0, sizeof(s));
	s.fd = bfd;
	s.dfd = bdfd;
	s.queue_depth = 8;
	s.chunk_size = 1 << 20;
	s.probe = 1;
	assert_int_equal(ash__stream_read(&s, 0, size, dst), 0);
	for (off = 0; off < size; off += 1 << 20) {
		uint64_t w;

		memcpy(&w, dst + off, 8);
		assert_int_equal(w, off);
		assert_int_equal(dst[off + 8 + off % 4000], 0);
	}
	assert_true(s.probe_direct_gbs > 0 && s.probe_buffered_gbs > 0);
	assert_int_equal(s.direct_bytes + s.buffered_bytes, size);
	assert_true(s.direct_bytes >= ASH_STREAM_PROBE_FIRST &&
		    s.buffered_bytes >= ASH_STREAM_PROBE_FIRST);
	/* Below the least range: no probe. */
	assert_int_equal(ash__stream_read(&s, 0, ASH_STREAM_PROBE_MIN - 4096,
					  dst), 0);
	assert_true(s.probe_direct_gbs == 0 && s.chose_direct);
	free(dst);
	close(bdfd);
	close(bfd);
	unlink(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(buffered_small_chunks),
		cmocka_unit_test(buffered_default_chunks),
		cmocka_unit_test(direct_small_chunks),
		cmocka_unit_test(direct_default_chunks),
		cmocka_unit_test(direct_registered_buffers),
		cmocka_unit_test(buffered_registered_buffers),
		cmocka_unit_test(past_eof_is_eio),
		cmocka_unit_test(bad_settings),
		cmocka_unit_test(read_error_is_returned),
		cmocka_unit_test(cache_probe),
		cmocka_unit_test(threaded_copies),
		cmocka_unit_test(copy_thread_count),
		cmocka_unit_test(probe_measures_both_modes),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
