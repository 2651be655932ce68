/* SPDX-License-Identifier: MIT */
/*
 * Buffers: allocating device memory charged to the context's partition,
 * mapping it into the process, and giving it back.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <uapi/accelshare.h>

#include "internal.h"

static int alloc_flags(struct ash_ctx *ctx, uint64_t size, uint32_t flags,
		       struct ash_buf **bufp)
{
	int saved_errno = errno;
	struct ash_buf_alloc req;
	struct ash_buf *buf;
	int ret;

	if (!ctx || !bufp || size == 0 || size > ASH_BUF_SIZE_MAX)
		return -EINVAL;
	buf = calloc(1, sizeof(*buf));
	if (!buf) {
		errno = saved_errno;
		return -ENOMEM;
	}
	memset(&req, 0, sizeof(req));
	req.size = size;
	req.flags = flags;
	ret = ash__ioctl(ctx->fd, ASH_IOC_BUF_ALLOC, &req);
	if (ret) {
		free(buf);
		errno = saved_errno;
		return ret;
	}
	buf->ctx = ctx;
	buf->handle = req.handle;
	buf->size = size;
	buf->mmap_offset = req.mmap_offset;
	atomic_init(&buf->addr, NULL);

	pthread_mutex_lock(&ctx->lock);
	buf->next = ctx->bufs;
	if (ctx->bufs)
		ctx->bufs->prev = buf;
	ctx->bufs = buf;
	pthread_mutex_unlock(&ctx->lock);

	*bufp = buf;
	errno = saved_errno;
	return 0;
}

int ash_alloc(struct ash_ctx *ctx, uint64_t size, struct ash_buf **bufp)
{
	return alloc_flags(ctx, size, 0, bufp);
}

int ash_alloc_staging(struct ash_ctx *ctx, uint64_t size,
		      struct ash_buf **bufp)
{
	return alloc_flags(ctx, size, ASH_BUF_STAGING, bufp);
}

void ash__buf_release(struct ash_buf *buf)
{
	struct ash_buf_free req;
	void *addr = atomic_load(&buf->addr);

	/* Unmap first: the kernel keeps a freed buffer's memory, and its
	 * charge, for as long as a mapping of it exists. */
	if (addr)
		munmap(addr, buf->size);
	memset(&req, 0, sizeof(req));
	req.handle = buf->handle;
	/* Nothing to report to: the handle is valid by construction, and the
	 * kernel drops it with the context anyway. */
	ash__ioctl(buf->ctx->fd, ASH_IOC_BUF_FREE, &req);
	free(buf);
}

void ash_free(struct ash_buf *buf)
{
	int saved_errno = errno;
	struct ash_ctx *ctx;

	if (!buf)
		return;
	ctx = buf->ctx;
	pthread_mutex_lock(&ctx->lock);
	if (buf->prev)
		buf->prev->next = buf->next;
	else
		ctx->bufs = buf->next;
	if (buf->next)
		buf->next->prev = buf->prev;
	pthread_mutex_unlock(&ctx->lock);

	ash__buf_release(buf);
	errno = saved_errno;
}

uint64_t ash_buf_size(const struct ash_buf *buf)
{
	return buf ? buf->size : 0;
}

int ash_map(struct ash_buf *buf, void **addrp)
{
	int saved_errno = errno;
	void *addr, *expected = NULL;

	if (!buf || !addrp)
		return -EINVAL;
	addr = atomic_load(&buf->addr);
	if (addr) {
		*addrp = addr;
		return 0;
	}
	addr = mmap(NULL, buf->size, PROT_READ | PROT_WRITE, MAP_SHARED,
		    buf->ctx->fd, (off_t)buf->mmap_offset);
	if (addr == MAP_FAILED) {
		/* The kernel answers mmap with ENODEV on a device whose memory
		 * the host cannot reach. */
		int ret = errno == ENODEV ? -EOPNOTSUPP : -errno;

		errno = saved_errno;
		return ret;
	}
	/* Another thread may have mapped it meanwhile: keep the first
	 * mapping, so every caller sees one address. */
	if (!atomic_compare_exchange_strong(&buf->addr, &expected, addr)) {
		munmap(addr, buf->size);
		addr = expected;
	}
	*addrp = addr;
	errno = saved_errno;
	return 0;
}
