/* SPDX-License-Identifier: MIT */
/*
 * ash_model_load(): parse a model file's header, allocate one device buffer
 * for its data section, map it, and stream the section into the mapping
 * (stream.c).  Where the device's memory cannot be mapped (ASH_DEVICE_NOMAP)
 * the section goes through a staging buffer and copy jobs instead
 * (load_staged()).  See docs/loader.md.
 *
 * Placement.  O_DIRECT reads need the file offset and the memory address
 * aligned alike.  The mapping is page aligned, the data section generally
 * is not (safetensors: 8 + header bytes; GGUF: a multiple of 32), so with
 * direct I/O the buffer gets a leading pad of data_offset % 4096 bytes: the
 * data section then starts at buffer offset pad, congruent to its file
 * offset, and everything but the partial first and last block goes
 * O_DIRECT.  Tensor offsets in struct ash_tensor include the pad.  Without
 * direct I/O there is no pad.
 *
 * NUMA.  A tenant cannot ask which node the device is on (device info is on
 * the control node), but on a host-backed device the buffer's pages are the
 * device's memory: the loader asks the kernel which node the mapping's first
 * page is on and runs the load on that node's CPUs (the calling thread's
 * affinity is restored afterwards).  io_uring's workers inherit that
 * affinity.  On the staged path the staging buffer is device-allocated
 * memory too, on the device's node, and the load follows it the same way.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <numa.h>
#include <numaif.h>

#include "model.h"
#include "stream.h"

/* Read and parse the header; the message is for people (ASH_DEBUG). */
static int read_header(int fd, uint64_t size, const char *path,
		       struct ash_model_header *hdr)
{
	char err[256] = "";
	int ret = ash_model_read_header(fd, size, hdr, err, sizeof(err));

	if (ret == -EINVAL && getenv("ASH_DEBUG"))
		fprintf(stderr, "libaccelshare: %s: %s\n", path,
			err[0] ? err : "malformed model file");
	return ret;
}

/* An O_DIRECT descriptor for the same file as @fd, or -1. */
static int open_direct(const char *path, const struct stat *st)
{
	struct stat dst;
	int dfd = open(path, O_RDONLY | O_CLOEXEC | O_DIRECT);

	if (dfd < 0)
		return -1;
	/* The path may name another file by now: only the same inode. */
	if (fstat(dfd, &dst) || dst.st_dev != st->st_dev ||
	    dst.st_ino != st->st_ino) {
		close(dfd);
		return -1;
	}
	return dfd;
}

/* Run the calling thread on the NUMA node of the page at @addr, saving its
 * affinity in @old; false if nothing was changed. */
static bool numa_follow(void *addr, cpu_set_t *old)
{
	void *page = (void *)((uintptr_t)addr & ~(uintptr_t)4095);
	int status = -1;

	if (numa_available() < 0 || numa_num_configured_nodes() < 2)
		return false;
	/* The page must be present to have a node. */
	(void)*(volatile char *)page;
	if (numa_move_pages(0, 1, &page, NULL, &status, 0) || status < 0)
		return false;
	if (sched_getaffinity(0, sizeof(*old), old))
		return false;
	return numa_run_on_node(status) == 0;
}

/* Bytes read per batch into one staging half: the streaming core's
 * queue_depth x chunk_size, at most this much. */
#define STAGE_BATCH_MAX		(8ULL << 20)

/*
 * The staged load, for a device whose memory cannot be mapped: the data
 * section [@off, @off + @len) of @s's file reaches @dst at @dst_off through
 * a staging buffer of two halves.  While the engine copies one half into
 * @dst (copy jobs), io_uring reads the next batch into the other; a half is
 * reused once its copies have completed.  Each batch lies in its half at
 * the batch's file offset modulo the O_DIRECT alignment, so that direct
 * I/O works there as into a mapped buffer.  The staging buffer is on the
 * device's NUMA node like all of its memory, and the reads run on that
 * node's CPUs (*@numa, @cpus as numa_follow()).  Progress is reported as
 * copies complete.  Returns 0 or the first error; every read and copy has
 * finished when it returns.
 */
static int load_staged(struct ash_ctx *ctx, struct ash_buf *dst,
		       uint64_t dst_off, struct ash_stream *s, uint64_t off,
		       uint64_t len, const struct ash_load_opts *o, bool *numa,
		       cpu_set_t *cpus)
{
	uint64_t batch = (uint64_t)s->queue_depth * s->chunk_size;
	uint64_t fence[2] = { 0, 0 }, bytes[2] = { 0, 0 };
	uint64_t half, issued = 0, copied = 0;
	struct ash_buf *stage = NULL;
	char *addr;
	int ret, h;

	if (batch > STAGE_BATCH_MAX)
		batch = STAGE_BATCH_MAX;
	if (batch > len)
		batch = len;
	half = (batch + 2 * ASH_STREAM_DIO_ALIGN - 1) &
	       ~(ASH_STREAM_DIO_ALIGN - 1);
	ret = ash_alloc_staging(ctx, 2 * half, &stage);
	if (ret)
		return ret;
	ret = ash_map(stage, (void **)&addr);
	if (ret)
		goto out;
	*numa = numa_follow(addr, cpus);

	for (h = 0; issued < len; h ^= 1) {
		uint64_t n = len - issued < batch ? len - issued : batch;
		uint64_t at = (uint64_t)h * half +
			      (off + issued) % ASH_STREAM_DIO_ALIGN;

		if (fence[h]) {
			ret = ash_wait(ctx, fence[h], -1);
			fence[h] = 0;
			if (ret)
				break;
			copied += bytes[h];
			if (o->progress)
				o->progress(o->progress_arg, copied, len);
		}
		ret = ash__stream_read(s, off + issued, n, addr + at);
		if (ret)
			break;
		ret = ash_copy(ctx, dst, dst_off + issued, stage, at, n,
			       &fence[h]);
		if (ret)
			break;
		bytes[h] = n;
		issued += n;
	}
	/* Both halves' copies, oldest first; the first error wins. */
	for (int k = 0; k < 2; k++, h ^= 1) {
		int r;

		if (!fence[h])
			continue;
		r = ash_wait(ctx, fence[h], -1);
		if (!ret)
			ret = r;
		copied += bytes[h];
		if (!ret && o->progress)
			o->progress(o->progress_arg, copied, len);
	}
out:
	ash_free(stage);
	return ret;
}

int ash_model_load_opts(struct ash_ctx *ctx, const char *path,
			const struct ash_load_opts *opts,
			struct ash_model **modelp)
{
	struct ash_load_opts o = { 0 };
	struct ash_model_header hdr;
	struct ash_stream s;
	struct ash_model *m = NULL;
	struct ash_buf *buf = NULL;
	int saved_errno = errno;
	int fd, dfd = -1, ret;
	bool numa = false, staged = false, cached, probe;
	cpu_set_t cpus;
	uint64_t pad = 0;
	struct stat st;
	void *addr;

	if (!ctx || !path || !modelp)
		return -EINVAL;
	if (opts)
		o = *opts;
	if (!o.queue_depth)
		o.queue_depth = ASH_STREAM_QD_DEFAULT;
	if (!o.chunk_size)
		o.chunk_size = ASH_STREAM_CHUNK_DEFAULT;
	if (o.queue_depth > ASH_STREAM_QD_MAX ||
	    o.chunk_size < ASH_STREAM_CHUNK_MIN ||
	    o.chunk_size > ASH_STREAM_CHUNK_MAX ||
	    o.chunk_size % ASH_STREAM_CHUNK_MIN ||
	    o.direct_io < -1 || o.direct_io > 1)
		return -EINVAL;

	memset(&hdr, 0, sizeof(hdr));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	if (fstat(fd, &st)) {
		ret = -errno;
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		goto out_close;
	}
	ret = read_header(fd, (uint64_t)st.st_size, path, &hdr);
	if (ret)
		goto out_close;

	/*
	 * Default: bytes in the page cache already are copied by several
	 * threads (see below); the others are read with O_DIRECT or through
	 * the page cache, whichever a probe of the first ones measures
	 * faster (struct ash_stream's probe).
	 */
	cached = o.direct_io != 1 && hdr.data_size &&
		 ash__stream_cached(fd, hdr.data_offset, hdr.data_size);
	probe = o.direct_io == 0 && !cached;
	if (o.direct_io == 0)
		o.direct_io = cached ? -1 : 1;
	if (o.direct_io > 0 && hdr.data_size) {
		dfd = open_direct(path, &st);
		if (dfd >= 0)
			pad = hdr.data_offset % ASH_STREAM_DIO_ALIGN;
	}
	if (hdr.data_size) {
		ret = ash_alloc(ctx, pad + hdr.data_size, &buf);
		if (ret)
			goto out_hdr;
		/* A device without a host mapping: staging and copy jobs. */
		ret = ash_map(buf, &addr);
		staged = ret == -EOPNOTSUPP;
		if (ret && !staged)
			goto out_buf;
	}
	m = ash__model_new(&hdr, buf, pad);
	if (!m) {
		ret = -ENOMEM;
		goto out_buf;
	}
	if (hdr.data_size) {
		memset(&s, 0, sizeof(s));
		s.fd = fd;
		s.dfd = dfd;
		s.queue_depth = o.queue_depth;
		s.chunk_size = o.chunk_size;
		if (o.progress)
			o.progress(o.progress_arg, 0, hdr.data_size);
		if (staged) {
			ret = load_staged(ctx, buf, pad, &s, hdr.data_offset,
					  hdr.data_size, &o, &numa, &cpus);
		} else {
			s.progress = o.progress;
			s.progress_arg = o.progress_arg;
			s.register_buffers = 1;
			s.probe = probe;
			numa = numa_follow((char *)addr + pad, &cpus);
			/* After the placement: the node's CPUs copy. */
			if (cached && dfd < 0)
				s.copy_threads =
					ash__stream_copy_threads(hdr.data_size);
			ret = ash__stream_read(&s, hdr.data_offset,
					       hdr.data_size,
					       (char *)addr + pad);
		}
		if (numa)
			sched_setaffinity(0, sizeof(cpus), &cpus);
		if (ret) {
			/* The buffer goes with the model's own memory. */
			m->buf = NULL;
			ash_model_free(m);
			m = NULL;
			goto out_buf;
		}
	}
	*modelp = m;
	buf = NULL;
	ret = 0;
out_buf:
	ash_free(buf);
out_hdr:
	ash_model_header_free(&hdr);
out_close:
	if (dfd >= 0)
		close(dfd);
	close(fd);
out:
	errno = saved_errno;
	return ret;
}

int ash_model_load(struct ash_ctx *ctx, const char *path,
		   struct ash_model **model)
{
	return ash_model_load_opts(ctx, path, NULL, model);
}
