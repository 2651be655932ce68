/* SPDX-License-Identifier: MIT */
/*
 * libaccelshare - the tenant API of accelshare.
 *
 * A tenant opens a context bound to one partition of a shared accelerator,
 * allocates device memory charged to that partition, and maps it.
 *
 * Functions returning int return 0 (or a count) on success and a negative
 * errno on failure, as liburing does; errno itself is left alone.  The device
 * node is /dev/accelshare unless $ACCELSHARE_DEVICE names another.
 *
 * Errors a tenant sees: -EACCES (not on the partition's access list),
 * -ENOENT (no such partition), -EDQUOT (the allocation would pass the
 * partition's cap), -ENOSPC (device memory exhausted), -EINVAL (malformed
 * request), -ENOMEM (out of host memory).
 *
 * A context may be used from several threads; a buffer must not be used
 * after ash_free() or after its context is closed.
 */
#ifndef ACCELSHARE_H
#define ACCELSHARE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ash_ctx;		/* an open context, bound to one partition */
struct ash_buf;		/* device memory */

int ash_open(const char *partition, struct ash_ctx **ctx);
void ash_close(struct ash_ctx *ctx);

int ash_alloc(struct ash_ctx *ctx, uint64_t size, struct ash_buf **buf);
void ash_free(struct ash_buf *buf);
uint64_t ash_buf_size(const struct ash_buf *buf);
/* -EOPNOTSUPP where the device has no host mapping; repeated calls return
 * the same address.  The mapping goes with ash_free(). */
int ash_map(struct ash_buf *buf, void **addr);

/* What a context's partition allows and uses now. */
struct ash_partition_stat {
	char name[32];
	uint32_t device;	/* the device the partition is on */
	uint32_t weight;	/* compute weight */
	uint64_t mem_max;	/* hard cap, bytes */
	uint64_t mem_min;	/* guaranteed bytes */
	uint64_t mem_used;	/* bytes charged now, by all its tenants */
	uint32_t nr_contexts;	/* contexts bound to it now */
	uint32_t nr_buffers;	/* buffers held in it now */
};

int ash_partition_stat(struct ash_ctx *ctx, struct ash_partition_stat *stat);

/* The context's file descriptor, for poll() and for diagnostics; owned by
 * the context. */
int ash_ctx_fd(const struct ash_ctx *ctx);

#ifdef __cplusplus
}
#endif

#endif /* ACCELSHARE_H */
