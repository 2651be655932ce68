/* SPDX-License-Identifier: MIT */
/*
 * VM case helpers for execution: run accelshare-engine, submit raw jobs.
 */
#ifndef VMENGINE_H
#define VMENGINE_H

#include "vmtest.h"

#define VT_ENGINE	"/usr/bin/accelshare-engine"

/* Start accelshare-engine on device 0 and wait until it has attached;
 * its pid (killed at exit if still running), or bail. */
pid_t vt_engine_start(void);
/* SIGKILL the engine and reap it; then the device has no engine. */
void vt_engine_kill(pid_t pid);

/* One FILL command of @len bytes at @off of buffer @handle. */
struct ash_command vt_cmd_fill(uint32_t handle, uint64_t off, uint64_t len,
			       uint32_t pattern);
/* ASH_IOC_SUBMIT of @n commands: 0 and *@fence, or -errno. */
long vt_submit(int fd, const struct ash_command *cmds, uint32_t n,
	       uint64_t *fence);
/* ASH_IOC_WAIT: the ioctl's result; the job's status in *@status. */
long vt_wait_fence(int fd, uint64_t fence, int64_t timeout_ns, int *status);

#endif /* VMENGINE_H */
