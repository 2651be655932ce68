/* SPDX-License-Identifier: MIT */
/*
 * Contexts: opening the tenant node, binding it to a partition, closing it,
 * and what a context can ask about its partition.
 */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uapi/accelshare.h>

#include "internal.h"

#define ASH_DEFAULT_DEVICE "/dev/accelshare"

/* The UAPI's rule for names: 1..ASH_NAME_MAX-1 bytes of [A-Za-z0-9_.-], not
 * starting with '-' or '.'.  Checked here so that a bad name fails the same
 * way whether or not a device is present. */
static int name_valid(const char *name)
{
	size_t i, len;

	if (!name)
		return 0;
	len = strnlen(name, ASH_NAME_MAX);
	if (len == 0 || len >= ASH_NAME_MAX || name[0] == '-' || name[0] == '.')
		return 0;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		      c == '-'))
			return 0;
	}
	return 1;
}

static int open_bound(const char *partition, int *fdp)
{
	struct ash_bind bind;
	const char *path;
	int fd, ret;

	/* secure_getenv: a set-uid tenant must not be pointed at another
	 * file by whoever runs it. */
	path = secure_getenv("ACCELSHARE_DEVICE");
	if (!path || !*path)
		path = ASH_DEFAULT_DEVICE;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		/* No node (or no driver behind it): the module is not loaded,
		 * which -ENOENT would confuse with a missing partition. */
		return errno == ENOENT || errno == ENXIO || errno == ENODEV ?
		       -ENODEV : -errno;

	memset(&bind, 0, sizeof(bind));
	strcpy(bind.partition, partition);
	ret = ash__ioctl(fd, ASH_IOC_BIND, &bind);
	if (ret) {
		close(fd);
		return ret;
	}
	*fdp = fd;
	return 0;
}

int ash_open(const char *partition, struct ash_ctx **ctxp)
{
	int saved_errno = errno;
	struct ash_ctx *ctx;
	int ret;

	if (!partition)		/* a container's, for one (CDI) */
		partition = secure_getenv("ACCELSHARE_PARTITION");
	if (!ctxp || !partition || !name_valid(partition))
		return -EINVAL;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx) {
		errno = saved_errno;
		return -ENOMEM;
	}
	ret = pthread_mutex_init(&ctx->lock, NULL);
	if (ret) {
		free(ctx);
		errno = saved_errno;
		return -ret;
	}
	ret = open_bound(partition, &ctx->fd);
	if (ret) {
		pthread_mutex_destroy(&ctx->lock);
		free(ctx);
		errno = saved_errno;
		return ret;
	}
	*ctxp = ctx;
	errno = saved_errno;
	return 0;
}

void ash_close(struct ash_ctx *ctx)
{
	int saved_errno = errno;
	struct ash_buf *buf, *next;

	if (!ctx)
		return;
	/* The caller guarantees no other thread uses the context any more,
	 * so the list needs no lock here. */
	for (buf = ctx->bufs; buf; buf = next) {
		next = buf->next;
		ash__buf_release(buf);
	}
	close(ctx->fd);
	pthread_mutex_destroy(&ctx->lock);
	free(ctx);
	errno = saved_errno;
}

int ash_partition_stat(struct ash_ctx *ctx, struct ash_partition_stat *stat)
{
	int saved_errno = errno;
	struct ash_partition_info info;
	int ret;

	if (!ctx || !stat)
		return -EINVAL;
	memset(&info, 0, sizeof(info));
	ret = ash__ioctl(ctx->fd, ASH_IOC_PARTITION_INFO, &info);
	errno = saved_errno;
	if (ret)
		return ret;

	_Static_assert(sizeof(stat->name) == sizeof(info.name),
		       "partition name sizes differ");
	memset(stat, 0, sizeof(*stat));
	memcpy(stat->name, info.name, sizeof(stat->name));
	/* Never hand the caller an unterminated string, whatever the kernel
	 * returned. */
	stat->name[sizeof(stat->name) - 1] = '\0';
	stat->device = info.device;
	stat->weight = info.weight;
	stat->mem_max = info.mem_max;
	stat->mem_min = info.mem_min;
	stat->mem_used = info.mem_used;
	stat->nr_contexts = info.nr_contexts;
	stat->nr_buffers = info.nr_buffers;
	return 0;
}

int ash_reclaim_query(struct ash_ctx *ctx, struct ash_reclaim_info *info)
{
	int saved_errno = errno;
	struct ash_reclaim_info out = { .size = sizeof(out) };
	struct ash_reclaim r;
	int ret;

	if (!ctx || !info || info->size < offsetof(struct ash_reclaim_info, mem_max))
		return -EINVAL;
	memset(&r, 0, sizeof(r));
	ret = ash__ioctl(ctx->fd, ASH_IOC_RECLAIM_QUERY, &r);
	errno = saved_errno;
	if (ret)
		return ret;
	out.bytes = r.bytes;
	out.deadline_ns = r.deadline_ns;
	out.kill = r.action == ASH_RECLAIM_KILL;
	out.seq = r.seq;
	out.mem_max = r.mem_max;
	out.mem_used = r.mem_used;
	/* As much as the caller's struct holds, its size kept. */
	if (info->size < sizeof(out))
		out.size = info->size;
	memcpy(info, &out, out.size);
	return 0;
}

int ash_ctx_fd(const struct ash_ctx *ctx)
{
	return ctx ? ctx->fd : -EINVAL;
}

/* The library's own version, whatever the program was built against. */
const char *ash_version(void)
{
	return ACCELSHARE_VERSION_STRING;
}
