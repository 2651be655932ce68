/* SPDX-License-Identifier: MIT */
/*
 * Execution internals shared by exec.c (submit, wait, ash_copy, ash_fill)
 * and cmdbuf.c (command buffers and ops).  Nothing here is exported.
 */
#ifndef ACCELSHARE_RUNTIME_EXEC_H
#define ACCELSHARE_RUNTIME_EXEC_H

#include <stdint.h>

#include <uapi/accelshare.h>

#include "internal.h"

/* One ASH_IOC_SUBMIT of @nr commands; *fence set on success.  0 or a
 * negative errno; errno is clobbered. */
ASH_HIDDEN int ash__submit(struct ash_ctx *ctx,
			   const struct ash_command *cmds, uint32_t nr,
			   uint32_t flags, uint64_t *fence);

/*
 * ASH_IOC_WAIT, restarted after a signal with what is left of the timeout.
 * Returns 0 with *status the job's (0 or a negative errno) when it has
 * completed, else the ioctl's negative errno (-ETIMEDOUT, -EINVAL).  errno
 * is clobbered.
 */
ASH_HIDDEN int ash__wait(struct ash_ctx *ctx, uint64_t fence,
			 int64_t timeout_ns, int32_t *status);

#endif /* ACCELSHARE_RUNTIME_EXEC_H */
