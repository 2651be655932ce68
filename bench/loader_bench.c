/* SPDX-License-Identifier: MIT */
/*
 * loader_bench - one measurement of reading a whole file into memory, for
 * bench/run.sh, which runs it against fio and prints the table.
 *
 *   loader_bench stream FILE QD CHUNK DIRECT   the loader's streaming core
 *                                              (runtime/model/stream.c);
 *                                              DIRECT 1, 0 or auto (the
 *                                              loader's default: O_DIRECT
 *                                              unless the file is cached)
 *   loader_bench policy FILE                   what auto would choose now
 *   loader_bench read FILE CHUNK               a plain read() loop
 *   loader_bench mmap FILE                     mmap + memcpy (safetensors)
 *   loader_bench evict FILE                    drop FILE from the page cache
 *   loader_bench cached FILE                   percent of FILE in the cache
 *   loader_bench create FILE SIZE              write the test file
 *
 * A measurement prints the rate in GB/s (10^9 bytes/s) on stdout.  The
 * destination is one buffer of the file's size, touched before the clock
 * starts (as device memory is), and checked against the file's pattern
 * afterwards (every 8-byte word of the file holds its own offset).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../runtime/model/stream.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "loader_bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

/*
 * The destination: touched before the clock starts, from user mode (memset)
 * and from kernel mode (read from /dev/zero), as a device buffer is mapped
 * before a load.  On the VMs these benchmarks ran on, the first kernel-mode
 * write to a page costs about 20 times a later one whatever wrote it from
 * user mode; without this, the first method to copy into fresh memory from
 * the kernel would measure that instead of its I/O.
 */
static char *dest(size_t size)
{
	char *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	int z = open("/dev/zero", O_RDONLY | O_CLOEXEC);

	if (p == MAP_FAILED || z < 0)
		die("destination");
	memset(p, 0x5a, size);
	for (size_t off = 0; off < size; off += 1 << 20) {
		size_t n = size - off < (1 << 20) ? size - off : (1 << 20);

		if (read(z, p + off, n) != (ssize_t)n)
			die("read /dev/zero");
	}
	close(z);
	return p;
}

/* Spot-check the pattern: word i holds i * 8. */
static void check(const char *p, size_t size)
{
	for (size_t off = 0; off + 8 <= size; off += 8 * 4099) {
		uint64_t w;

		memcpy(&w, p + off, 8);
		if (w != off) {
			fprintf(stderr, "loader_bench: wrong data at %zu\n", off);
			exit(1);
		}
	}
}

static int cached(int fd, size_t size)
{
	long pg = sysconf(_SC_PAGESIZE);
	size_t n = (size + (size_t)pg - 1) / (size_t)pg, in = 0;
	unsigned char *v = malloc(n);
	void *m = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);

	if (!v || m == MAP_FAILED || mincore(m, size, v))
		die("mincore");
	for (size_t i = 0; i < n; i++)
		in += v[i] & 1;
	printf("%d\n", (int)(in * 100 / n));
	return 0;
}

static int create(const char *path, uint64_t size)
{
	size_t bufsz = 8 << 20;
	uint64_t *buf = malloc(bufsz);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || !buf)
		die(path);
	for (uint64_t off = 0; off < size; off += bufsz) {
		size_t n = size - off < bufsz ? (size_t)(size - off) : bufsz;

		for (size_t i = 0; i < bufsz / 8; i++)
			buf[i] = off + i * 8;
		if (write(fd, buf, n) != (ssize_t)n)
			die("write");
	}
	if (fsync(fd))
		die("fsync");
	close(fd);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	struct stat st;
	size_t size;
	double t0, t1;
	char *dst;
	int fd;

	if (argc < 3) {
		fprintf(stderr, "usage: see the comment in bench/loader_bench.c\n");
		return 2;
	}
	if (!strcmp(argv[1], "create") && argc == 4)
		return create(argv[2], strtoull(argv[3], NULL, 0));
	fd = open(argv[2], O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st))
		die(argv[2]);
	size = (size_t)st.st_size;

	if (!strcmp(argv[1], "policy")) {
		puts(ash__stream_cached(fd, 0, size) ? "buffered" :
		     size >= ASH_STREAM_PROBE_MIN ? "measured" : "O_DIRECT");
		return 0;
	}
	if (!strcmp(argv[1], "evict")) {
		/* Works without root for clean pages. */
		errno = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
		if (errno)
			die("posix_fadvise");
		return 0;
	}
	if (!strcmp(argv[1], "cached"))
		return cached(fd, size);

	dst = dest(size);
	if (!strcmp(argv[1], "stream") && argc == 6) {
		struct ash_stream s;
		int ret;

		memset(&s, 0, sizeof(s));
		s.fd = fd;
		s.dfd = -1;
		s.queue_depth = (uint32_t)atoi(argv[3]);
		s.chunk_size = (uint32_t)strtoul(argv[4], NULL, 0);
		/* As the loader does; LOADER_BENCH_NOREG=1 to compare. */
		s.register_buffers = !getenv("LOADER_BENCH_NOREG");
		t0 = now();
		/* The choice and the open are part of a load: timed.  As
		 * the loader: cached data copied by several threads, other
		 * data read in the mode a probe measures faster. */
		if (!strcmp(argv[5], "auto") && ash__stream_cached(fd, 0, size)) {
			s.copy_threads = ash__stream_copy_threads(size);
		} else if (strcmp(argv[5], "0")) {
			s.dfd = open(argv[2], O_RDONLY | O_CLOEXEC | O_DIRECT);
			if (s.dfd < 0)
				die("O_DIRECT open");
			s.probe = !strcmp(argv[5], "auto");
		}
		ret = ash__stream_read(&s, 0, size, dst);
		t1 = now();
		if (ret) {
			errno = -ret;
			die("ash__stream_read");
		}
		fprintf(stderr, "stream: direct %llu buffered %llu resubmits "
			"%llu fixed buffers %d probe %.2f/%.2f GB/s\n",
			(unsigned long long)s.direct_bytes,
			(unsigned long long)s.buffered_bytes,
			(unsigned long long)s.resubmits, s.fixed_buffers,
			s.probe_direct_gbs, s.probe_buffered_gbs);
	} else if (!strcmp(argv[1], "read") && argc == 4) {
		size_t chunk = strtoul(argv[3], NULL, 0), done = 0;

		t0 = now();
		while (done < size) {
			size_t n = size - done < chunk ? size - done : chunk;
			ssize_t r = read(fd, dst + done, n);

			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				die("read");
			done += (size_t)r;
		}
		t1 = now();
	} else if (!strcmp(argv[1], "mmap") && argc == 3) {
		char *src;

		t0 = now();
		src = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
		if (src == MAP_FAILED)
			die("mmap file");
		memcpy(dst, src, size);
		munmap(src, size);
		t1 = now();
	} else {
		fprintf(stderr, "loader_bench: bad arguments\n");
		return 2;
	}
	check(dst, size);
	printf("%.3f\n", (double)size / (t1 - t0) / 1e9);
	return 0;
}
