/* SPDX-License-Identifier: MIT */
/*
 * The weight-streaming core: read a byte range of a file into memory with
 * io_uring.  Knows nothing of models or devices, so that the host tests and
 * the benchmark drive it on plain memory; the loader (loader.c) points it at
 * a mapped device buffer.  See docs/loader.md.
 */
#ifndef ACCELSHARE_MODEL_STREAM_H
#define ACCELSHARE_MODEL_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include <accelshare.h>

#include "../internal.h"

#define ASH_STREAM_QD_DEFAULT		16U
#define ASH_STREAM_QD_MAX		1024U
#define ASH_STREAM_CHUNK_DEFAULT	(1U << 20)
#define ASH_STREAM_CHUNK_MIN		4096U
#define ASH_STREAM_CHUNK_MAX		(64U << 20)
/* O_DIRECT alignment assumed for file offset, memory address and length:
 * the largest logical block size in use, so any device accepts it. */
#define ASH_STREAM_DIO_ALIGN		4096ULL

/**
 * struct ash_stream - one streaming read
 * @fd: the file, opened for buffered reads.
 * @dfd: the same file opened with O_DIRECT, or -1 for buffered reads only.
 * @queue_depth: reads in flight (1..ASH_STREAM_QD_MAX).
 * @chunk_size: bytes per read, a multiple of 4096
 *	(ASH_STREAM_CHUNK_MIN..ASH_STREAM_CHUNK_MAX).
 * @progress: called after each completed read with the bytes done so far;
 *	may be NULL.
 * @progress_arg: its first argument.
 * @register_buffers: try io_uring_register_buffers() on the destination
 *	(silently unregistered reads if the kernel refuses).
 * @copy_threads: with @dfd < 0, 2 or more: the range is in the page cache
 *	(ash__stream_cached()), so reading it is a memory copy, bound by one
 *	CPU, not by I/O: copy it with this many threads of pread(), each a
 *	contiguous stripe, instead of io_uring.  0 or 1: io_uring.
 * @probe: with @dfd >= 0 and a range of at least ASH_STREAM_PROBE_MIN
 *	bytes: measure instead of assuming -- read it in timed segments,
 *	the first with O_DIRECT, the second buffered, then in the faster
 *	mode, changing to the other whenever a segment reads slower than
 *	the other's last did (the loader's default for data not in the page
 *	cache).
 *
 * Filled in by ash__stream_read(), for tests and the benchmark:
 * @direct_bytes: bytes read with O_DIRECT.
 * @buffered_bytes: bytes read through the page cache.
 * @resubmits: short reads and -EAGAIN/-EINTR completions resubmitted.
 * @used_uring: 0 if io_uring was unavailable and a pread() loop ran instead.
 * @fixed_buffers: 1 if the destination was registered with io_uring.
 * @direct_fallback: 1 if O_DIRECT was refused (EINVAL) and buffered reads
 *	took over.
 * @probe_direct_gbs, @probe_buffered_gbs: what the probe's first two
 *	segments measured, GB/s (0 without one).
 * @chose_direct: 1 if the range (its last segment, with a probe) was read
 *	with O_DIRECT.
 */
struct ash_stream {
	int fd;
	int dfd;
	uint32_t queue_depth;
	uint32_t chunk_size;
	ash_progress_fn progress;
	void *progress_arg;
	int register_buffers;
	unsigned int copy_threads;
	int probe;

	uint64_t direct_bytes;
	uint64_t buffered_bytes;
	uint64_t resubmits;
	int used_uring;
	int fixed_buffers;
	int direct_fallback;
	double probe_direct_gbs;
	double probe_buffered_gbs;
	int chose_direct;
};

/* The probe's first segment in each mode, the later ones, and the least
 * range that gets a probe. */
#define ASH_STREAM_PROBE_FIRST		(32ULL << 20)
#define ASH_STREAM_PROBE_SEGMENT	(64ULL << 20)
#define ASH_STREAM_PROBE_MIN		(256ULL << 20)

/**
 * ash__stream_read() - read [@off, @off + @len) of a file into @dst
 *
 * The range is split into a buffered head, an O_DIRECT middle and a buffered
 * tail: O_DIRECT needs the file offset, the memory address and the length
 * aligned to ASH_STREAM_DIO_ALIGN, which is possible only where @dst - @off
 * is a multiple of it (the loader arranges that).  Reads are @chunk_size
 * bytes at @queue_depth in flight; short reads are resubmitted for the rest,
 * -EAGAIN and -EINTR are retried, and an O_DIRECT read refused with -EINVAL
 * turns the rest of the range into buffered reads.  Without io_uring (not
 * built into the kernel, or disabled by sysctl) a pread() loop does the work.
 *
 * Every read has completed when it returns, even on failure, so @dst may be
 * freed at once.
 *
 * Return: 0; -EIO if the file ends before @off + @len; the negative errno of
 * a failed read or of io_uring setup (-ENOMEM).
 */
ASH_HIDDEN int ash__stream_read(struct ash_stream *s, uint64_t off,
				uint64_t len, void *dst);

/**
 * ash__stream_cached() - is most of a file range in the page cache?
 *
 * Samples up to ASH_STREAM_CACHE_SAMPLES pages of [@off, @off + @len),
 * evenly spread, with mincore() on a mapping of the file (mapping a file
 * reads nothing).  The loader's default (direct_io = 0) reads with O_DIRECT
 * unless this says yes: O_DIRECT beats the page cache when the bytes must
 * come from the storage, and a copy from the page cache beats re-reading
 * them when they are already there.
 *
 * Return: true if at least half of the sampled pages are cached; false
 * otherwise, and if the file cannot be mapped.
 */
#define ASH_STREAM_CACHE_SAMPLES	1024U
ASH_HIDDEN bool ash__stream_cached(int fd, uint64_t off, uint64_t len);

/*
 * ash__stream_copy_threads() - threads for copying @len cached bytes: one
 * per CPU the caller may run on (after any NUMA placement), at most
 * ASH_STREAM_COPY_THREADS_MAX, and at most one per ASH_STREAM_COPY_STRIPE
 * bytes, so that small ranges stay on one thread.
 */
#define ASH_STREAM_COPY_THREADS_MAX	8U
#define ASH_STREAM_COPY_STRIPE		(16ULL << 20)
ASH_HIDDEN unsigned int ash__stream_copy_threads(uint64_t len);

#endif /* ACCELSHARE_MODEL_STREAM_H */
