/* SPDX-License-Identifier: MIT */
/*
 * The weight-streaming core: a file range into memory with io_uring.
 *
 * The range is cut into chunks in file order.  Chunks of the aligned middle
 * go to the O_DIRECT descriptor, the unaligned head and tail (and everything,
 * when the destination is not congruent to the file offset modulo the block
 * size) to the buffered one.  Up to queue_depth chunks are in flight; each
 * completion either finishes its chunk, or resubmits the rest of it (short
 * read, -EAGAIN, -EINTR, or -EINVAL from O_DIRECT, after which every further
 * chunk is buffered), or records the first error, after which nothing new is
 * issued and the reads in flight are reaped before returning.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <liburing.h>

#include "stream.h"

/* io_uring takes at most 1 GiB per registered buffer: the destination is
 * registered in slices of this size, and no chunk crosses a slice edge. */
#define SLICE		(1ULL << 30)
#define SLICES_MAX	1024

struct req {
	uint64_t off;		/* file offset of what is left to read */
	char *dst;
	uint32_t len;		/* bytes left */
	uint32_t chunk;		/* bytes of the chunk, for progress */
	int direct;
	int slice;		/* registered buffer index, or -1 */
};

struct cursor {
	struct ash_stream *s;
	uint64_t off;		/* file offset of byte 0 of the range */
	uint64_t len;
	char *dst;
	uint64_t pos;		/* next byte to issue, from 0 */
	uint64_t head_end;	/* [0, head_end): buffered */
	uint64_t mid_end;	/* [head_end, mid_end): O_DIRECT */
	int direct_ok;
	char *slice_base;	/* registered slices start here, or NULL */
	int nr_slices;
};

static void cursor_init(struct cursor *c, struct ash_stream *s, uint64_t off,
			uint64_t len, void *dst)
{
	uint64_t a = ASH_STREAM_DIO_ALIGN;
	uint64_t first, last;

	memset(c, 0, sizeof(*c));
	c->s = s;
	c->off = off;
	c->len = len;
	c->dst = dst;
	/* O_DIRECT only where file offset and address are aligned together. */
	c->direct_ok = s->dfd >= 0 &&
		       (((uintptr_t)dst - (uintptr_t)off) & (a - 1)) == 0;
	if (!c->direct_ok)
		return;
	first = ((off + a - 1) & ~(a - 1)) - off;
	last = ((off + len) & ~(a - 1));
	last = last > off ? last - off : 0;
	if (first >= len || last <= first) {
		c->direct_ok = 0;	/* less than one aligned block */
		return;
	}
	c->head_end = first;
	c->mid_end = last;
}

/* The next chunk into @r; false when the whole range has been issued. */
static bool cursor_next(struct cursor *c, struct req *r)
{
	uint64_t left = c->len - c->pos, n;
	char *dst;

	if (!left)
		return false;
	n = c->s->chunk_size;
	r->direct = 0;
	if (c->direct_ok && c->pos < c->head_end) {
		n = c->head_end - c->pos;
	} else if (c->direct_ok && c->pos < c->mid_end) {
		r->direct = 1;
		if (n > c->mid_end - c->pos)
			n = c->mid_end - c->pos;
	}
	if (n > left)
		n = left;
	dst = c->dst + c->pos;
	r->slice = -1;
	if (c->slice_base) {
		uint64_t rel = (uint64_t)(dst - c->slice_base);
		uint64_t end = (rel / SLICE + 1) * SLICE;

		/* Clip at the slice edge (a multiple of the page size from an
		 * aligned base, so O_DIRECT alignment holds). */
		if (rel + n > end)
			n = end - rel;
		if ((int)(rel / SLICE) < c->nr_slices)
			r->slice = (int)(rel / SLICE);
	}
	r->off = c->off + c->pos;
	r->dst = dst;
	r->len = (uint32_t)n;
	r->chunk = (uint32_t)n;
	c->pos += n;
	return true;
}

/* Account @n bytes just read by @r. */
static void account(struct ash_stream *s, const struct req *r, uint64_t n)
{
	if (r->direct)
		s->direct_bytes += n;
	else
		s->buffered_bytes += n;
}

/* pread() with the same chunking, retries and fallbacks: for kernels without
 * io_uring (or with it disabled). */
static int stream_pread(struct cursor *c)
{
	struct ash_stream *s = c->s;
	uint64_t done = 0;
	struct req r;

	while (cursor_next(c, &r)) {
		while (r.len) {
			ssize_t n;

			if (r.direct && !c->direct_ok)
				r.direct = 0;
			n = pread(r.direct ? s->dfd : s->fd, r.dst, r.len,
				  (off_t)r.off);
			if (n < 0) {
				if (errno == EINTR || errno == EAGAIN) {
					s->resubmits++;
					continue;
				}
				if (errno == EINVAL && r.direct) {
					s->direct_fallback = 1;
					c->direct_ok = 0;
					continue;
				}
				return -errno;
			}
			if (n == 0)
				return -EIO;
			account(s, &r, (uint64_t)n);
			r.off += (uint64_t)n;
			r.dst += n;
			r.len -= (uint32_t)n;
			if (r.len) {
				s->resubmits++;
				/* An unaligned remainder cannot go O_DIRECT. */
				if ((r.len | r.off) & (ASH_STREAM_DIO_ALIGN - 1))
					r.direct = 0;
			}
		}
		done += r.chunk;
		if (s->progress)
			s->progress(s->progress_arg, done, c->len);
	}
	return 0;
}

/* One stripe of a threaded copy of cached data; see copy_threaded(). */
struct stripe {
	const struct ash_stream *s;
	uint64_t off, len;
	char *dst;
	atomic_uint_fast64_t *done;	/* bytes copied by all stripes */
	atomic_int *err;		/* the first error of any stripe */
	uint64_t total;
	bool by_caller;			/* run by the calling thread, which
					 * reports progress */
	pthread_t thread;
};

static void *copy_stripe(void *arg)
{
	struct stripe *st = arg;
	uint64_t pos = 0;

	while (pos < st->len && !atomic_load(st->err)) {
		uint64_t n = st->len - pos;
		ssize_t r;

		if (n > st->s->chunk_size)
			n = st->s->chunk_size;
		r = pread(st->s->fd, st->dst + pos, n, (off_t)(st->off + pos));
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0) {
			int expected = 0;

			atomic_compare_exchange_strong(st->err, &expected,
						       r < 0 ? -errno : -EIO);
			break;
		}
		pos += (uint64_t)r;
		atomic_fetch_add(st->done, (uint64_t)r);
		if (st->by_caller && st->s->progress)
			st->s->progress(st->s->progress_arg,
					atomic_load(st->done), st->total);
	}
	return NULL;
}

/*
 * Cached data: stripes copied by s->copy_threads threads with pread(), the
 * calling thread doing the first one and reporting progress (so the
 * callback runs on the loading thread, as documented).  A thread that
 * cannot be started leaves its stripe to the caller.
 */
static int copy_threaded(struct ash_stream *s, uint64_t off, uint64_t len,
			 char *dst)
{
	unsigned int n = s->copy_threads, i;
	atomic_uint_fast64_t done = 0;
	atomic_int err = 0;
	struct stripe *st;
	uint64_t per;

	st = calloc(n, sizeof(*st));
	if (!st)
		return -ENOMEM;
	/* Stripes of whole 4 KiB blocks; the last takes the rest. */
	per = len / n & ~(uint64_t)4095;
	for (i = 0; i < n; i++) {
		st[i].s = s;
		st[i].off = off + i * per;
		st[i].dst = dst + i * per;
		st[i].len = i == n - 1 ? len - i * per : per;
		st[i].done = &done;
		st[i].err = &err;
		st[i].total = len;
		st[i].by_caller = i == 0;
	}
	for (i = 1; i < n; i++)
		if (pthread_create(&st[i].thread, NULL, copy_stripe, &st[i]))
			st[i].by_caller = true;	/* not started */
	copy_stripe(&st[0]);
	for (i = 1; i < n; i++) {
		if (st[i].by_caller)
			copy_stripe(&st[i]);
		else
			pthread_join(st[i].thread, NULL);
	}
	free(st);
	if (!atomic_load(&err)) {
		s->buffered_bytes = len;
		if (s->progress)
			s->progress(s->progress_arg, len, len);
	}
	return atomic_load(&err);
}

static int ring_init(struct io_uring *ring, unsigned int entries)
{
	static const unsigned int flags[] = {
		IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
		IORING_SETUP_COOP_TASKRUN,
		0,
	};
	int ret = -EINVAL;

	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		struct io_uring_params p;

		memset(&p, 0, sizeof(p));
		p.flags = flags[i];
		ret = io_uring_queue_init_params(entries, ring, &p);
		if (ret != -EINVAL)
			break;
	}
	return ret;
}

/* Register [dst, dst + len) in slices; on any refusal (6.1 refuses driver
 * mappings with -EOPNOTSUPP, RLIMIT_MEMLOCK may say -ENOMEM) leave none. */
static void register_dst(struct io_uring *ring, struct cursor *c)
{
	char *base = (char *)((uintptr_t)c->dst & ~(uintptr_t)4095);
	uint64_t span = (uint64_t)(c->dst - base) + c->len;
	int n = (int)((span + SLICE - 1) / SLICE);
	struct iovec *iov;

	if (n > SLICES_MAX)
		return;
	iov = calloc((size_t)n, sizeof(*iov));
	if (!iov)
		return;
	for (int i = 0; i < n; i++) {
		uint64_t l = span - (uint64_t)i * SLICE;

		iov[i].iov_base = base + (uint64_t)i * SLICE;
		iov[i].iov_len = l > SLICE ? SLICE : l;
	}
	if (io_uring_register_buffers(ring, iov, (unsigned int)n) == 0) {
		c->slice_base = base;
		c->nr_slices = n;
		c->s->fixed_buffers = 1;
	}
	free(iov);
}

static void prep(struct io_uring_sqe *sqe, const struct cursor *c,
		 const struct req *r, int fixed_files, unsigned int idx)
{
	int fd;

	if (fixed_files)
		fd = r->direct ? 1 : 0;
	else
		fd = r->direct ? c->s->dfd : c->s->fd;
	if (r->slice >= 0)
		io_uring_prep_read_fixed(sqe, fd, r->dst, r->len, r->off,
					 r->slice);
	else
		io_uring_prep_read(sqe, fd, r->dst, r->len, r->off);
	if (fixed_files)
		sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data64(sqe, idx);
}

static int stream_uring(struct io_uring *ring, struct cursor *c)
{
	struct ash_stream *s = c->s;
	unsigned int qd = s->queue_depth, inflight = 0, nretry = 0, nfree;
	struct req *reqs;
	unsigned int *freelist, *retry;
	uint64_t done = 0;
	int files[2], fixed_files, sq_dead = 0, err = 0;

	reqs = calloc(qd, sizeof(*reqs));
	freelist = calloc(qd, sizeof(*freelist));
	retry = calloc(qd, sizeof(*retry));
	if (!reqs || !freelist || !retry) {
		err = -ENOMEM;
		goto out;
	}
	for (nfree = 0; nfree < qd; nfree++)
		freelist[nfree] = qd - 1 - nfree;

	files[0] = s->fd;
	files[1] = s->dfd >= 0 ? s->dfd : s->fd;
	fixed_files = io_uring_register_files(ring, files, 2) == 0;
	if (s->register_buffers)
		register_dst(ring, c);

	for (;;) {
		struct io_uring_cqe *cqe;
		unsigned int head, seen = 0, queued = 0;
		int ret;

		/* Resubmissions first, then new chunks, up to the depth. */
		while (!err && !sq_dead && nretry) {
			unsigned int i = retry[--nretry];

			if (reqs[i].direct && !c->direct_ok)
				reqs[i].direct = 0;
			prep(io_uring_get_sqe(ring), c, &reqs[i], fixed_files, i);
			queued++;
		}
		while (!err && !sq_dead && nfree) {
			unsigned int i = freelist[nfree - 1];

			if (!cursor_next(c, &reqs[i]))
				break;
			nfree--;
			if (reqs[i].direct && !c->direct_ok)
				reqs[i].direct = 0;
			prep(io_uring_get_sqe(ring), c, &reqs[i], fixed_files, i);
			queued++;
		}
		/* Dropped retries (after an error) are free again. */
		while (nretry)
			freelist[nfree++] = retry[--nretry];
		inflight += queued;
		if (!inflight)
			break;

		if (sq_dead) {
			/* Only reap what is already in flight. */
			ret = io_uring_wait_cqe(ring, &cqe);
			if (ret < 0 && ret != -EINTR && ret != -EAGAIN)
				break;	/* cannot happen with reads in flight */
		} else {
			ret = io_uring_submit_and_wait(ring, 1);
			if (ret < 0 && ret != -EINTR && ret != -EAGAIN &&
			    ret != -EBUSY) {
				/* An error means nothing of this round went
				 * in; reap what earlier rounds issued. */
				if (!err)
					err = ret;
				sq_dead = 1;
				inflight -= queued;
				continue;
			}
		}

		io_uring_for_each_cqe(ring, head, cqe) {
			unsigned int i = (unsigned int)cqe->user_data;
			struct req *r = &reqs[i];
			int res = cqe->res;

			seen++;
			inflight--;
			if (res > 0) {
				account(s, r, (uint64_t)res);
				r->off += (uint64_t)res;
				r->dst += res;
				r->len -= (uint32_t)res;
				if (r->len) {
					/* Short read: the rest again; an
					 * unaligned rest goes buffered. */
					s->resubmits++;
					if ((r->len | r->off) &
					    (ASH_STREAM_DIO_ALIGN - 1))
						r->direct = 0;
					if (r->slice >= 0)
						r->slice = -1;
					retry[nretry++] = i;
					continue;
				}
				done += r->chunk;
				freelist[nfree++] = i;
				if (s->progress && !err)
					s->progress(s->progress_arg, done,
						    c->len);
				continue;
			}
			if (res == -EAGAIN || res == -EINTR) {
				s->resubmits++;
				retry[nretry++] = i;
				continue;
			}
			if (res == -EINVAL && r->direct) {
				/* The file system refuses O_DIRECT here
				 * (e.g. tmpfs): buffered from now on. */
				s->direct_fallback = 1;
				c->direct_ok = 0;
				r->direct = 0;
				retry[nretry++] = i;
				continue;
			}
			if (!err)
				err = res ? res : -EIO;	/* 0: file ended early */
			freelist[nfree++] = i;
		}
		io_uring_cq_advance(ring, seen);
	}
out:
	free(reqs);
	free(freelist);
	free(retry);
	return err;
}

/* One range, in the mode @s says: the whole of ash__stream_read but the
 * probe. */
static int stream_range(struct ash_stream *s, uint64_t off, uint64_t len,
			void *dst)
{
	struct io_uring ring;
	struct cursor c;
	int ret;

	cursor_init(&c, s, off, len, dst);
	if (!len)
		return 0;
	if (s->copy_threads > 1 && s->dfd < 0)
		return copy_threaded(s, off, len, dst);

	ret = ring_init(&ring, s->queue_depth);
	if (ret < 0)
		return stream_pread(&c);
	s->used_uring = 1;
	ret = stream_uring(&ring, &c);
	io_uring_queue_exit(&ring);
	return ret;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Progress of a part of the range, reported as of the whole. */
struct shifted {
	ash_progress_fn fn;
	void *arg;
	uint64_t base, total;
};

static void shifted_progress(void *arg, uint64_t done, uint64_t total)
{
	const struct shifted *p = arg;

	(void)total;
	p->fn(p->arg, p->base + done, p->total);
}

/*
 * [off, off + len) of @part into @s: its statistics added, its progress
 * reported as of the whole range.
 */
static int stream_part(struct ash_stream *s, int dfd, uint64_t off,
		       uint64_t len, char *dst, uint64_t base, uint64_t total)
{
	struct shifted sh = { s->progress, s->progress_arg, base, total };
	struct ash_stream part = *s;
	int ret;

	part.dfd = dfd;
	part.direct_bytes = part.buffered_bytes = part.resubmits = 0;
	part.progress = s->progress ? shifted_progress : NULL;
	part.progress_arg = &sh;
	ret = stream_range(&part, off, len, dst);
	s->direct_bytes += part.direct_bytes;
	s->buffered_bytes += part.buffered_bytes;
	s->resubmits += part.resubmits;
	s->used_uring |= part.used_uring;
	s->fixed_buffers |= part.fixed_buffers;
	s->direct_fallback |= part.direct_fallback;
	return ret;
}

/*
 * The probe: which of O_DIRECT and buffered reads is faster depends on the
 * storage, the kernel and the reader's memory, not on a rule (on some
 * virtual disks buffered reads with the kernel's readahead beat O_DIRECT;
 * on some hosts buffered reads slow down several times once the reader
 * holds much resident memory, which a loader does).  So the range is read
 * in segments, each timed: the first in each mode (ASH_STREAM_PROBE_FIRST
 * bytes, O_DIRECT then buffered), the rest (ASH_STREAM_PROBE_SEGMENT each)
 * in the faster one, which is left for the other as soon as a segment of
 * it reads slower than the other's last one did.  A mode that slows down
 * as the load goes on is left; trying the other costs nothing while the
 * one in use keeps its speed.
 */
static int stream_probe(struct ash_stream *s, uint64_t off, uint64_t len,
			char *dst)
{
	double rate[2] = { 0, 0 };	/* GB/s of each mode's last segment:
					 * buffered, O_DIRECT */
	uint64_t pos, n, i;
	int direct = 1, ret;

	for (pos = 0, i = 0; pos < len; pos += n, i++) {
		uint64_t seg = i < 2 ? ASH_STREAM_PROBE_FIRST :
			       ASH_STREAM_PROBE_SEGMENT;
		double t0 = now_s();

		if (i == 1)
			direct = 0;
		else if (i == 2 || rate[direct] < rate[!direct])
			direct = rate[1] >= rate[0];
		if (s->direct_fallback)
			direct = 0;
		n = len - pos < 2 * seg ? len - pos : seg;
		ret = stream_part(s, direct ? s->dfd : -1, off + pos, n,
				  dst + pos, pos, len);
		if (ret)
			return ret;
		rate[direct] = (double)n / (now_s() - t0) / 1e9;
		if (i < 2)
			*(direct ? &s->probe_direct_gbs :
			  &s->probe_buffered_gbs) = rate[direct];
	}
	s->chose_direct = direct;
	return 0;
}

int ash__stream_read(struct ash_stream *s, uint64_t off, uint64_t len,
		     void *dst)
{
	s->direct_bytes = s->buffered_bytes = s->resubmits = 0;
	s->used_uring = s->fixed_buffers = s->direct_fallback = 0;
	s->probe_direct_gbs = s->probe_buffered_gbs = 0;
	s->chose_direct = s->dfd >= 0;
	if (!s->queue_depth || s->queue_depth > ASH_STREAM_QD_MAX ||
	    s->chunk_size < ASH_STREAM_CHUNK_MIN ||
	    s->chunk_size > ASH_STREAM_CHUNK_MAX ||
	    s->chunk_size % ASH_STREAM_CHUNK_MIN || s->fd < 0 ||
	    (len && !dst) || off + len < off)
		return -EINVAL;
	if (s->probe && s->dfd >= 0 && len >= ASH_STREAM_PROBE_MIN)
		return stream_probe(s, off, len, dst);
	return stream_range(s, off, len, dst);
}

bool ash__stream_cached(int fd, uint64_t off, uint64_t len)
{
	uint64_t first = off & ~(ASH_STREAM_DIO_ALIGN - 1);
	uint64_t span = off + len - first, pages, step, in = 0, seen = 0;
	unsigned char v;
	char *map;

	if (!len || off + len < off || span > SIZE_MAX)
		return false;
	map = mmap(NULL, (size_t)span, PROT_READ, MAP_SHARED, fd, (off_t)first);
	if (map == MAP_FAILED)
		return false;
	pages = (span + 4095) / 4096;
	step = pages > ASH_STREAM_CACHE_SAMPLES ?
	       pages / ASH_STREAM_CACHE_SAMPLES : 1;
	for (uint64_t p = 0; p < pages; p += step) {
		if (mincore(map + p * 4096, 1, &v))
			break;
		in += v & 1;
		seen++;
	}
	munmap(map, (size_t)span);
	return seen && in * 2 >= seen;
}

unsigned int ash__stream_copy_threads(uint64_t len)
{
	uint64_t by_len = len / ASH_STREAM_COPY_STRIPE;
	unsigned int n = 1;
	cpu_set_t cpus;

	if (!sched_getaffinity(0, sizeof(cpus), &cpus))
		n = (unsigned int)CPU_COUNT(&cpus);
	if (n > ASH_STREAM_COPY_THREADS_MAX)
		n = ASH_STREAM_COPY_THREADS_MAX;
	if (n > by_len)
		n = by_len ? (unsigned int)by_len : 1;
	return n;
}
