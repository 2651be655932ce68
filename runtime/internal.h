/* SPDX-License-Identifier: MIT */
/*
 * libaccelshare internals: the objects behind the opaque handles of
 * include/accelshare.h, and helpers shared by the library's files.  Nothing
 * here is exported (see libaccelshare.map).
 */
#ifndef ACCELSHARE_RUNTIME_INTERNAL_H
#define ACCELSHARE_RUNTIME_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <accelshare.h>

#define ASH_HIDDEN __attribute__((visibility("hidden")))

/**
 * struct ash_ctx - an open tenant context
 * @fd: the tenant node, bound to a partition for the context's lifetime.
 * @lock: protects @bufs.
 * @bufs: the buffers allocated and not yet freed, so that ash_close() can
 *	unmap them: the kernel keeps a mapped buffer's memory charged until it
 *	is unmapped, so closing the fd alone would not give it back.
 */
struct ash_ctx {
	int fd;
	pthread_mutex_t lock;
	struct ash_buf *bufs;
};

/**
 * struct ash_buf - device memory allocated through a context
 * @ctx: the context it was allocated in.
 * @handle: the kernel's handle for it in @ctx.
 * @size: bytes, as allocated.
 * @mmap_offset: where to mmap it on @ctx's fd.
 * @addr: its mapping, NULL until ash_map() made one.  Set once, by
 *	compare-exchange, so that racing ash_map() calls agree on one address.
 * @prev: in @ctx->bufs, under @ctx->lock.
 * @next: in @ctx->bufs, under @ctx->lock.
 */
struct ash_buf {
	struct ash_ctx *ctx;
	uint32_t handle;
	uint64_t size;
	uint64_t mmap_offset;
	_Atomic(void *) addr;
	struct ash_buf *prev;
	struct ash_buf *next;
};

/* ioctl(2) retried on EINTR; 0 or a negative errno.  errno is clobbered. */
ASH_HIDDEN int ash__ioctl(int fd, unsigned long request, void *arg);

/* Unmaps @buf if mapped, drops its handle and frees it; the caller has
 * taken it off its context's list. */
ASH_HIDDEN void ash__buf_release(struct ash_buf *buf);

#endif /* ACCELSHARE_RUNTIME_INTERNAL_H */
