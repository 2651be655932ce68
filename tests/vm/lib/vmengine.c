/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vmengine.h"

static int exec_engine(void *arg)
{
	(void)arg;
	execl(VT_ENGINE, VT_ENGINE, "--device", "0", (char *)NULL);
	printf("FAIL: cannot run %s: %s\n", VT_ENGINE, strerror(errno));
	return 1;
}

pid_t vt_engine_start(void)
{
	struct ash_device_info d;
	pid_t pid;
	int i;

	pid = vt_spawn_as(VT_ROOT, VT_ROOT, NULL, 0, exec_engine, NULL);
	for (i = 0; i < 1000; i++) {
		d = vt_dev();
		if (d.has_engine && d.engine_pid == pid)
			return pid;
		usleep(10000);
	}
	FAIL("the engine (pid %d) did not attach within 10 s", (int)pid);
	vt_bail();
}

void vt_engine_kill(pid_t pid)
{
	kill(pid, SIGKILL);
	vt_wait(pid);
}

struct ash_command vt_cmd_fill(uint32_t handle, uint64_t off, uint64_t len,
			       uint32_t pattern)
{
	struct ash_command c;
	struct ash_fill_params p = { .pattern = pattern };

	memset(&c, 0, sizeof(c));
	c.opcode = ASH_OP_FILL;
	c.nr_operands = 1;
	c.operands[0].handle = handle;
	c.operands[0].flags = ASH_OPERAND_WRITE;
	c.operands[0].offset = off;
	c.operands[0].length = len;
	c.params_size = sizeof(p);
	memcpy(c.params, &p, sizeof(p));
	return c;
}

long vt_submit(int fd, const struct ash_command *cmds, uint32_t n,
	       uint64_t *fence)
{
	struct ash_submit s;
	long ret;

	memset(&s, 0, sizeof(s));
	s.nr_commands = n;
	s.commands = (uintptr_t)cmds;
	s.command_size = sizeof(*cmds);
	ret = vt_ioctl(fd, ASH_IOC_SUBMIT, &s);
	if (!ret && fence)
		*fence = s.fence;
	return ret;
}

long vt_wait_fence(int fd, uint64_t fence, int64_t timeout_ns, int *status)
{
	struct ash_wait w;
	long ret;

	memset(&w, 0, sizeof(w));
	w.fence = fence;
	w.timeout_ns = timeout_ns;
	ret = vt_ioctl(fd, ASH_IOC_WAIT, &w);
	if (status)
		*status = ret ? 1 : w.status;
	return ret;
}
