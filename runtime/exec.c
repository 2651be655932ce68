/* SPDX-License-Identifier: MIT */
/*
 * Execution: submitting jobs, waiting for fences, and the two one-op
 * conveniences ash_copy() and ash_fill(), which are a command buffer of one
 * op (cmdbuf.c) submitted at once.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "exec.h"

int ash__submit(struct ash_ctx *ctx, const struct ash_command *cmds,
		uint32_t nr, uint32_t flags, uint64_t *fence)
{
	struct ash_submit s;
	int ret;

	memset(&s, 0, sizeof(s));
	s.flags = flags;
	s.nr_commands = nr;
	s.commands = (uint64_t)(uintptr_t)cmds;
	s.command_size = sizeof(*cmds);
	ret = ash__ioctl(ctx->fd, ASH_IOC_SUBMIT, &s);
	if (ret)
		return ret;
	*fence = s.fence;
	return 0;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int ash__wait(struct ash_ctx *ctx, uint64_t fence, int64_t timeout_ns,
	      int32_t *status)
{
	int64_t deadline = 0;
	struct ash_wait w;

	if (timeout_ns > 0) {
		deadline = now_ns();
		/* Saturate: a deadline past the clock's range is forever in
		 * all but name. */
		deadline = timeout_ns > INT64_MAX - deadline ?
			   INT64_MAX : deadline + timeout_ns;
	}
	for (;;) {
		memset(&w, 0, sizeof(w));
		w.fence = fence;
		w.timeout_ns = timeout_ns;
		if (ioctl(ctx->fd, ASH_IOC_WAIT, &w) == 0) {
			*status = w.status;
			return 0;
		}
		if (errno != EINTR)
			return -errno;
		/* A signal cut the sleep short: sleep only for what is left,
		 * and when nothing is, look once more without sleeping, so
		 * that a job done meanwhile is not reported as timed out. */
		if (timeout_ns > 0) {
			int64_t now = now_ns();

			timeout_ns = now < deadline ? deadline - now : 0;
		}
	}
}

int ash_wait(struct ash_ctx *ctx, uint64_t fence, int64_t timeout_ns)
{
	int saved_errno = errno;
	int32_t status;
	int ret;

	if (!ctx)
		return -EINVAL;
	ret = ash__wait(ctx, fence, timeout_ns, &status);
	errno = saved_errno;
	return ret ? ret : status;
}

/* Submits a command buffer of one op; on failure *fence is left alone
 * unless part of the op was submitted. */
static int submit_one(struct ash_cmdbuf *cb, uint64_t *fence)
{
	uint64_t last = 0;
	int ret;

	ret = ash_cmdbuf_submit(cb, &last);
	if (!ret || last)
		*fence = last;
	return ret;
}

int ash_copy(struct ash_ctx *ctx, struct ash_buf *dst, uint64_t dst_off,
	     struct ash_buf *src, uint64_t src_off, uint64_t len,
	     uint64_t *fence)
{
	struct ash_cmdbuf *cb;
	int ret;

	if (!ctx || !fence)
		return -EINVAL;
	ret = ash_cmdbuf_create(ctx, &cb);
	if (ret)
		return ret;
	ret = ash_op_copy(cb, dst, dst_off, src, src_off, len);
	if (!ret)
		ret = submit_one(cb, fence);
	ash_cmdbuf_destroy(cb);
	return ret;
}

int ash_fill(struct ash_ctx *ctx, struct ash_buf *dst, uint64_t off,
	     uint64_t len, uint32_t pattern, uint64_t *fence)
{
	struct ash_cmdbuf *cb;
	int ret;

	if (!ctx || !fence)
		return -EINVAL;
	ret = ash_cmdbuf_create(ctx, &cb);
	if (ret)
		return ret;
	ret = ash_op_fill(cb, dst, off, len, pattern);
	if (!ret)
		ret = submit_one(cb, fence);
	ash_cmdbuf_destroy(cb);
	return ret;
}
