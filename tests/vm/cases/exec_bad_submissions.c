// SPDX-License-Identifier: MIT
/*
 * Invariant 6 for jobs and the engine protocol: every malformed
 * ASH_IOC_SUBMIT / ASH_IOC_WAIT and every misuse of ASH_CTL_ENGINE_* gets
 * its documented error and changes nothing.
 *
 * Tenant side (raw ioctls, no engine attached, so nothing runs): the
 * driver checks each command's envelope, not what the op means:
 *  - a handle of another context -> -ENOENT; a range outside the buffer or
 *    an offset + length that wraps -> -ERANGE; a declared write (also on
 *    an input) on an ASH_BUF_READONLY buffer -> -EACCES; zero length, bad
 *    operand flags, more than 4 operands, nonzero command flags, nonzero
 *    params tail, params_size > 64, nonzero unused operand -> -EINVAL; a
 *    bad command anywhere in a job refuses the whole job (no fence
 *    consumed);
 *  - struct ash_submit: nr_commands 0 or > ASH_JOB_MAX_COMMANDS,
 *    command_size < sizeof or > PAGE_SIZE, nonzero flags/pad/reserved ->
 *    -EINVAL; a larger command with a nonzero tail -> -E2BIG; a bad commands
 *    pointer -> -EFAULT; a bad struct pointer -> -EFAULT; unbound -> -EBADFD;
 *  - ASH_IOC_WAIT on fence 0 or an unissued fence -> -EINVAL; flags or
 *    reserved nonzero -> -EINVAL; a queued job polled -> -ETIMEDOUT;
 *  - queue full: a fresh context takes exactly 256 jobs, then -EAGAIN.
 * Engine side: FETCH / COMPLETE / mmap on a control fd that did not attach
 * -> -EBADFD; a second ATTACH on the device -> -EBUSY, on the same fd ->
 * -EALREADY; COMPLETE with a wrong job id -> -ENOENT, with status > 0 ->
 * -EINVAL, and the right one then succeeds; a second FETCH while one runs
 * -> -EBUSY.  One fault of the engine maps the pages around it in the
 * buffer it hits, and none of the next buffer's.
 * With the real engine (its op table): a bad opcode, an operand count the
 * op does not take, an output declared READ, an input declared WRITE,
 * parameters that disagree with the operands: the job is queued and fails
 * with -EINVAL, nothing of it written, the next job of the context runs.
 * After everything: device and partition counters as before.
 */
#include "vtexec.h"

#include <sys/mman.h>

#define PART	"badsub"

static int fd, fd2;
static uint32_t hw, hro, hother;	/* writable, read-only, other ctx's */
#define BSZ	(64 * KiB)

static void expect_submit(const struct ash_command *c, uint32_t n, long want,
			  const char *what)
{
	uint64_t fence = 0;

	EXPECT_ERR(vx_submit(fd, c, n, &fence), want, what);
}

static void tenant_checks(void)
{
	struct ash_command c, cmds[3];
	struct ash_submit s;
	uint64_t fence, f1;
	int32_t status;
	long ret;

	/* A positive control first: a valid FILL queues (no engine). */
	vx_cmd_fill(&c, hw, 0, BSZ, 1);
	REQUIRE_OK(vx_submit(fd, &c, 1, &f1), "valid FILL");
	EXPECT_EQ(f1, 1, "first fence");

	/* handles */
	vx_cmd_fill(&c, hother, 0, BSZ, 1);
	expect_submit(&c, 1, -ENOENT, "FILL on another context's handle");
	vx_cmd_fill(&c, 0, 0, 4096, 1);
	expect_submit(&c, 1, -ENOENT, "FILL on handle 0");
	vx_cmd_fill(&c, 0xdead, 0, 4096, 1);
	expect_submit(&c, 1, -ENOENT, "FILL on an unknown handle");
	vx_cmd_copy(&c, hw, 0, hother, 0, 4096);
	expect_submit(&c, 1, -ENOENT, "COPY from another context's handle");

	/* ranges */
	vx_cmd_fill(&c, hw, BSZ, 4, 1);
	expect_submit(&c, 1, -ERANGE, "FILL at offset == size");
	vx_cmd_fill(&c, hw, 0, BSZ + 4, 1);
	expect_submit(&c, 1, -ERANGE, "FILL of size + 4 bytes");
	vx_cmd_fill(&c, hw, 4096, BSZ - 4092, 1);
	expect_submit(&c, 1, -ERANGE, "FILL running 4 bytes past the end");
	vx_cmd_fill(&c, hw, 8, UINT64_MAX - 3, 1);
	expect_submit(&c, 1, -ERANGE, "FILL whose offset + length wraps");
	vx_cmd_fill(&c, hw, UINT64_MAX, 2, 1);
	expect_submit(&c, 1, -ERANGE, "FILL at offset 2^64 - 1");
	vx_cmd_copy(&c, hw, 0, hro, BSZ - 8, 16);
	expect_submit(&c, 1, -ERANGE, "COPY source past the end");

	/* access */
	vx_cmd_fill(&c, hro, 0, 4096, 1);
	expect_submit(&c, 1, -EACCES, "FILL (write) on a READONLY buffer");
	vx_cmd_copy(&c, hro, 0, hw, 0, 4096);
	expect_submit(&c, 1, -EACCES, "COPY into a READONLY buffer");
	vx_cmd_copy(&c, hw, 0, hro, 0, 4096);
	c.operands[1].flags = ASH_OPERAND_READ | ASH_OPERAND_WRITE;
	expect_submit(&c, 1, -EACCES, "COPY from a READONLY buffer declared READ|WRITE");
	vx_cmd_fill(&c, hw, 0, 4096, 1);
	c.operands[0].flags = 0;
	expect_submit(&c, 1, -EINVAL, "operand flags 0");
	vx_cmd_fill(&c, hw, 0, 4096, 1);
	c.operands[0].flags = ASH_OPERAND_WRITE | (1U << 2);
	expect_submit(&c, 1, -EINVAL, "operand flags with an unknown bit");
	vx_cmd_fill(&c, hw, 0, 4096, 1);
	c.operands[0].length = 0;
	expect_submit(&c, 1, -EINVAL, "operand length 0");
	/* A copy from a READONLY buffer is fine. */
	vx_cmd_copy(&c, hw, 0, hro, 0, 4096);
	EXPECT_OK(vx_submit(fd, &c, 1, &fence), "COPY from a READONLY buffer (valid)");
	EXPECT_EQ(fence, f1 + 1, "fence after one valid job");
	f1 = fence;

	/* malformed envelopes */
	vx_cmd_fill(&c, hw, 0, 4096, 1);
	c.flags = 1;
	expect_submit(&c, 1, -EINVAL, "command flags 1");
	vx_cmd_fill(&c, hw, 0, 4096, 1);
	c.flags = 0x80000000u;
	expect_submit(&c, 1, -EINVAL, "command flags bit 31");
	vx_cmd_fill(&c, hw, 0, 4096, 1);
	c.nr_operands = ASH_CMD_MAX_OPERANDS + 1;
	expect_submit(&c, 1, -EINVAL, "5 operands");
	vx_cmd_fill(&c, hw, 0, 4096, 1);
	c.nr_operands = 0;
	expect_submit(&c, 1, -EINVAL, "FILL with 0 operands (operand 0 left set)");
	vx_cmd_fill(&c, hw, 0, 4096, 1);
	c.operands[1].length = 1;
	expect_submit(&c, 1, -EINVAL, "nonzero unused operand (length)");
	vx_cmd_fill(&c, hw, 0, 4096, 1);
	c.operands[3].handle = hw;
	expect_submit(&c, 1, -EINVAL, "nonzero unused operand (handle of the last)");
	vx_cmd_nop(&c);
	c.operands[0].flags = ASH_OPERAND_READ;
	expect_submit(&c, 1, -EINVAL, "NOP with a nonzero operand");
	vx_cmd_fill(&c, hw, 0, 4096, 1);
	c.params[sizeof(struct ash_fill_params)] = 1;
	expect_submit(&c, 1, -EINVAL, "nonzero params tail (first byte)");
	vx_cmd_fill(&c, hw, 0, 4096, 1);
	c.params[ASH_CMD_PARAMS_MAX - 1] = 0x80;
	expect_submit(&c, 1, -EINVAL, "nonzero params tail (last byte)");
	vx_cmd_fill(&c, hw, 0, 4096, 1);
	c.params_size = ASH_CMD_PARAMS_MAX + 1;
	expect_submit(&c, 1, -EINVAL, "params_size 65");
	vx_cmd_fill(&c, hw, 0, 4096, 1);
	c.params_size = 0xffffffffu;
	expect_submit(&c, 1, -EINVAL, "params_size 0xffffffff");

	/* one bad command refuses the whole job and consumes no fence */
	vx_cmd_fill(&cmds[0], hw, 0, 4096, 1);
	vx_cmd_nop(&cmds[1]);
	vx_cmd_fill(&cmds[2], hro, 0, 4096, 1);
	expect_submit(cmds, 3, -EACCES, "job whose third command writes a READONLY buffer");
	vx_cmd_fill(&cmds[2], hother, 0, 4096, 1);
	expect_submit(cmds, 3, -ENOENT, "job whose third command names another context's buffer");
	vx_cmd_nop(&c);
	EXPECT_OK(vx_submit(fd, &c, 1, &fence), "NOP after refused jobs");
	EXPECT_EQ(fence, f1 + 1, "fence after refused jobs (none consumed)");
	f1 = fence;

	/* struct ash_submit itself */
	vx_cmd_nop(&c);
	memset(&s, 0, sizeof(s));
	s.nr_commands = 1;
	s.commands = (uint64_t)(uintptr_t)&c;
	s.command_size = sizeof(c);
	{
		struct ash_submit t = s;
		static struct ash_command many[ASH_JOB_MAX_COMMANDS + 1];
		static uint8_t big[2 * sizeof(struct ash_command)];
		static const struct vt_field zero[] = {
			VT_FIELD(struct ash_submit, pad),
			VT_RESERVED(struct ash_submit, 0),
			VT_RESERVED(struct ash_submit, 1),
		};
		int i;

		t.nr_commands = 0;
		EXPECT_ERR(vt_ioctl(fd, ASH_IOC_SUBMIT, &t), -EINVAL, "nr_commands 0");
		for (i = 0; i <= ASH_JOB_MAX_COMMANDS; i++)
			vx_cmd_nop(&many[i]);
		t = s;
		t.commands = (uint64_t)(uintptr_t)many;
		t.nr_commands = ASH_JOB_MAX_COMMANDS + 1;
		EXPECT_ERR(vt_ioctl(fd, ASH_IOC_SUBMIT, &t), -EINVAL,
			   "nr_commands ASH_JOB_MAX_COMMANDS + 1");
		t.nr_commands = 0xffffffffu;
		EXPECT_ERR(vt_ioctl(fd, ASH_IOC_SUBMIT, &t), -EINVAL, "nr_commands 2^32 - 1");
		t = s;
		t.command_size = sizeof(c) - 1;
		EXPECT_ERR(vt_ioctl(fd, ASH_IOC_SUBMIT, &t), -EINVAL, "command_size sizeof - 1");
		t.command_size = 0;
		EXPECT_ERR(vt_ioctl(fd, ASH_IOC_SUBMIT, &t), -EINVAL, "command_size 0");
		t.command_size = 4096 + 8;
		EXPECT_ERR(vt_ioctl(fd, ASH_IOC_SUBMIT, &t), -EINVAL, "command_size > PAGE_SIZE");
		/* A newer caller's larger command: zero tail fine, else -E2BIG. */
		memset(big, 0, sizeof(big));
		memcpy(big, &c, sizeof(c));
		t = s;
		t.commands = (uint64_t)(uintptr_t)big;
		t.command_size = sizeof(big);
		EXPECT_OK(vt_ioctl(fd, ASH_IOC_SUBMIT, &t), "command_size 2 * sizeof, zero tail (valid)");
		EXPECT_EQ(t.fence, f1 + 1, "fence of the larger-command job");
		f1 = t.fence;
		big[sizeof(big) - 1] = 1;
		EXPECT_ERR(vt_ioctl(fd, ASH_IOC_SUBMIT, &t), -E2BIG,
			   "command_size 2 * sizeof, nonzero tail");
		/* bad commands pointers */
		t = s;
		t.commands = 0;
		EXPECT_ERR(vt_ioctl(fd, ASH_IOC_SUBMIT, &t), -EFAULT, "commands NULL");
		t.commands = 1;
		EXPECT_ERR(vt_ioctl(fd, ASH_IOC_SUBMIT, &t), -EFAULT, "commands (void *)1");
		t.commands = 0xffff888000000000ULL;
		EXPECT_ERR(vt_ioctl(fd, ASH_IOC_SUBMIT, &t), -EFAULT, "commands a kernel address");
		/* flags / pad / reserved, a larger struct, bad struct pointers */
		vt_sweep(fd, ASH_IOC_SUBMIT, "ASH_IOC_SUBMIT", &s, sizeof(s),
			 offsetof(struct ash_submit, flags), ASH_SUBMIT_CHAIN, zero,
			 (int)(sizeof(zero) / sizeof(zero[0])));
	}
	/* Nothing above consumed a fence. */
	vx_cmd_nop(&c);
	EXPECT_OK(vx_submit(fd, &c, 1, &fence), "NOP after the struct checks");
	EXPECT_EQ(fence, f1 + 1, "fence after the struct checks");
	f1 = fence;

	/* ASH_IOC_WAIT */
	EXPECT_ERR(vx_wait(fd, 0, 0, &status), -EINVAL, "wait on fence 0");
	EXPECT_ERR(vx_wait(fd, f1 + 1, 0, &status), -EINVAL, "wait on the next, unissued fence");
	EXPECT_ERR(vx_wait(fd, UINT64_MAX, -1, &status), -EINVAL, "wait forever on fence 2^64 - 1");
	EXPECT_ERR(vx_wait(fd, f1, 0, &status), -ETIMEDOUT, "poll a queued job (no engine)");
	EXPECT_ERR(vx_wait(fd, f1, 20000000, &status), -ETIMEDOUT, "wait 20 ms for a queued job");
	EXPECT_ERR(vx_wait(fd2, 1, 0, &status), -EINVAL,
		   "wait on fence 1 on a context that submitted nothing");
	{
		struct ash_wait w;
		static const struct vt_field zero[] = {
			VT_RESERVED(struct ash_wait, 0),
			VT_RESERVED(struct ash_wait, 1),
		};

		memset(&w, 0, sizeof(w));
		w.fence = f1;
		vt_sweep(fd, ASH_IOC_WAIT, "ASH_IOC_WAIT", &w, sizeof(w),
			 offsetof(struct ash_wait, flags), 0, zero,
			 (int)(sizeof(zero) / sizeof(zero[0])));
	}

	/* unbound context */
	{
		int ufd = open(VT_TENANT_DEV, O_RDWR | O_CLOEXEC);

		REQUIRE(ufd >= 0, "open %s", VT_TENANT_DEV);
		vx_cmd_nop(&c);
		ret = vx_submit(ufd, &c, 1, &fence);
		EXPECT_ERR(ret, -EBADFD, "submit on an unbound context");
		EXPECT_ERR(vx_wait(ufd, 1, 0, &status), -EBADFD, "wait on an unbound context");
		close(ufd);
	}
}

/* A fresh context: exactly 256 jobs queue, the 257th is -EAGAIN. */
static void queue_full(void)
{
	struct ash_command c;
	uint64_t fence = 0;
	int qfd, n;
	long ret = 0;

	qfd = vt_tenant_open(PART);
	REQUIRE(qfd >= 0, "open a third context: %s", vt_errname(qfd));
	vx_cmd_nop(&c);
	for (n = 0; n < 1000; n++) {
		ret = vx_submit(qfd, &c, 1, &fence);
		if (ret)
			break;
	}
	EXPECT_ERR(ret, -EAGAIN, "submit into a full queue");
	EXPECT_EQ(n, 256, "jobs a context queues before -EAGAIN");
	EXPECT_ERR(vx_submit(qfd, &c, 1, &fence), -EAGAIN, "submit again into a full queue");
	printf("queue full after %d jobs (no engine attached)\n", n);
	EXPECT_EQ(vt_dev().jobs_queued, 256 + 5, "device jobs_queued (256 + 5 of the first context)");
	close(qfd);	/* cancels its queued jobs */
	EXPECT_EQ(vt_dev().jobs_queued, 5, "device jobs_queued after closing the full context");
}

/* Submit @c (the driver takes it), wait: the engine refuses it, -EINVAL. */
static void expect_refused(const struct ash_command *c, const uint32_t *map,
			   const char *what)
{
	uint64_t fence;
	int32_t status = 0;
	uint64_t i;

	if (!EXPECT_OK(vx_submit(fd, c, 1, &fence), what))
		return;
	if (!EXPECT_OK(vx_wait(fd, fence, 30000000000LL, &status), what))
		return;
	EXPECT_ERR(status, -EINVAL, what);
	for (i = 0; i < BSZ / 4; i++)
		if (map[i] != 0x11111111u) {
			FAIL("%s: word %llu of the buffer is %#x after the refused job",
			     what, (unsigned long long)i, map[i]);
			break;
		}
}

/* What an op means is the engine's to enforce; the driver queued these. */
static void engine_refuses_ops(void)
{
	struct ash_eltwise_params ep = { .count = 4096 / 4 + 1 };
	struct ash_buf_info bi;
	struct ash_command c;
	uint32_t *map;
	pid_t eng;

	eng = vx_engine_start(NULL);
	vx_cmd_fill(&c, hw, 0, BSZ, 0x11111111u);
	REQUIRE_OK(vx_run(fd, &c, 1), "fill the buffer");
	REQUIRE_OK(vt_buf_info(fd, hw, &bi), "buffer info");
	map = vt_buf_map(fd, bi.mmap_offset, BSZ);
	REQUIRE(map, "map the buffer");

	vx_cmd_fill(&c, hw, 0, 4096, 1);
	c.opcode = ASH_OP_COUNT;
	expect_refused(&c, map, "opcode ASH_OP_COUNT");
	c.opcode = 0xffffffffu;
	expect_refused(&c, map, "opcode 0xffffffff");
	vx_cmd_fill(&c, hw, 0, 4096, 1);
	c.nr_operands = 2;
	vx_operand(&c, 1, hw, ASH_OPERAND_READ, 8192, 4096);
	expect_refused(&c, map, "FILL with 2 operands");
	vx_cmd_copy(&c, hw, 0, hw, 8192, 4096);
	c.operands[1].flags = ASH_OPERAND_WRITE;
	expect_refused(&c, map, "COPY source (input) declared WRITE");
	vx_cmd_copy(&c, hw, 0, hw, 8192, 4096);
	c.operands[1].flags = ASH_OPERAND_READ | ASH_OPERAND_WRITE;
	expect_refused(&c, map, "COPY source (input) declared READ|WRITE");
	vx_cmd_copy(&c, hw, 0, hw, 8192, 4096);
	c.operands[0].flags = ASH_OPERAND_READ;
	expect_refused(&c, map, "COPY destination (output) declared READ only");
	vx_cmd_copy(&c, hw, 0, hw, 8192, 4096);
	c.operands[1].length = 4092;
	expect_refused(&c, map, "COPY of unequal lengths");
	/* SILU of one element more than its operands hold */
	memset(&c, 0, sizeof(c));
	c.opcode = ASH_OP_SILU;
	c.nr_operands = 2;
	vx_operand(&c, 0, hw, ASH_OPERAND_WRITE, 0, 4096);
	vx_operand(&c, 1, hw, ASH_OPERAND_READ, 8192, 4096);
	c.params_size = sizeof(ep);
	memcpy(c.params, &ep, sizeof(ep));
	expect_refused(&c, map, "SILU count past its operands");
	/* The context goes on: a valid job runs. */
	vx_cmd_fill(&c, hw, 0, 4, 0x22222222u);
	EXPECT_OK(vx_run(fd, &c, 1), "FILL after the refused jobs");
	EXPECT_EQ(map[0], 0x22222222u, "word 0 after the valid FILL");
	vt_buf_unmap(map, BSZ);
	vx_engine_stop(eng, SIGTERM);
}

/*
 * The engine's mapping is filled in by its faults, a 2 MiB-aligned window
 * at a time (ASH_ENGINE_FAULT_AROUND), never past the buffer faulted on:
 * touching one page of the writable buffer (device address @hw_dev, the
 * first of the device's buffers, the read-only one right after it) maps
 * exactly that buffer's pages in the window, as mincore(2) sees them.
 */
static void engine_fault_around(int e, uint64_t space, uint64_t hw_dev)
{
	enum { PAGES = BSZ / 4096, WINDOW = 512 };
	unsigned char vec[PAGES + 1];
	uint64_t touch = hw_dev / 4096 + PAGES / 2, win, first, end, i;
	volatile uint8_t *m;
	uint8_t v;

	m = mmap(NULL, space, PROT_READ, MAP_SHARED, e, 0);
	REQUIRE(m != MAP_FAILED, "mmap the device space: %s", vt_errname(-errno));
	REQUIRE_OK(mincore((void *)(m + hw_dev), sizeof(vec) * 4096, vec) ? -errno : 0,
		   "mincore of the engine's mapping");
	for (i = 0; i < sizeof(vec); i++)
		EXPECT(!vec[i], "page %llu of the engine's mapping is in before any fault",
		       (unsigned long long)i);
	v = m[touch * 4096];
	EXPECT_EQ(v, 0, "a byte of the fresh buffer, read by the engine");
	REQUIRE_OK(mincore((void *)(m + hw_dev), sizeof(vec) * 4096, vec) ? -errno : 0,
		   "mincore of the engine's mapping");
	win = touch / WINDOW * WINDOW;
	first = hw_dev / 4096 > win ? hw_dev / 4096 : win;
	end = hw_dev / 4096 + PAGES < win + WINDOW ? hw_dev / 4096 + PAGES : win + WINDOW;
	for (i = 0; i < sizeof(vec); i++) {
		uint64_t page = hw_dev / 4096 + i;
		int want = page >= first && page < end;

		EXPECT((vec[i] & 1) == want,
		       "page %llu%s after one fault: %s, expected %s",
		       (unsigned long long)i, i == PAGES ? " (the next buffer's)" : "",
		       vec[i] & 1 ? "mapped" : "not mapped",
		       want ? "mapped" : "not mapped");
	}
	munmap((void *)m, space);
}

static void engine_checks(void)
{
	struct ash_engine_attach at;
	struct ash_engine_fetch f;
	struct ash_engine_complete cp;
	static struct ash_command cmds[ASH_JOB_MAX_COMMANDS];
	uint64_t space;
	int e1, e2;
	void *m;

	e1 = open(VT_CTL_DEV, O_RDWR | O_CLOEXEC);
	e2 = open(VT_CTL_DEV, O_RDWR | O_CLOEXEC);
	REQUIRE(e1 >= 0 && e2 >= 0, "open the control node twice");

	/* before any attach */
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, e1, 0);
	EXPECT(m == MAP_FAILED && errno == EBADFD,
	       "mmap of a control fd that did not attach: expected -EBADFD, got %s",
	       m == MAP_FAILED ? vt_errname(-errno) : "a mapping");
	if (m != MAP_FAILED)
		munmap(m, 4096);
	memset(&f, 0, sizeof(f));
	f.flags = ASH_FETCH_NONBLOCK;
	f.max_commands = ASH_JOB_MAX_COMMANDS;
	f.commands = (uint64_t)(uintptr_t)cmds;
	f.command_size = sizeof(cmds[0]);
	EXPECT_ERR(vt_ioctl(e1, ASH_CTL_ENGINE_FETCH, &f), -EBADFD,
		   "FETCH on a control fd that did not attach");
	memset(&cp, 0, sizeof(cp));
	cp.job = 1;
	EXPECT_ERR(vt_ioctl(e1, ASH_CTL_ENGINE_COMPLETE, &cp), -EBADFD,
		   "COMPLETE on a control fd that did not attach");

	/* attach e1; e2 and e1 again are refused */
	memset(&at, 0, sizeof(at));
	REQUIRE_OK(vt_ioctl(e1, ASH_CTL_ENGINE_ATTACH, &at), "ATTACH device 0");
	space = at.space_size;
	EXPECT(at.space_size >= 256 * MiB, "space_size %llu < 256 MiB",
	       (unsigned long long)at.space_size);
	EXPECT_EQ(vt_dev().has_engine, 1, "has_engine after ATTACH");
	EXPECT_EQ(vt_dev().engine_pid, getpid(), "engine_pid after ATTACH");
	memset(&at, 0, sizeof(at));
	EXPECT_ERR(vt_ioctl(e2, ASH_CTL_ENGINE_ATTACH, &at), -EBUSY,
		   "second ATTACH of device 0 (another fd)");
	memset(&at, 0, sizeof(at));
	EXPECT_ERR(vt_ioctl(e1, ASH_CTL_ENGINE_ATTACH, &at), -EALREADY,
		   "ATTACH again on the engine's own fd");
	memset(&at, 0, sizeof(at));
	at.device = 7;
	EXPECT_ERR(vt_ioctl(e2, ASH_CTL_ENGINE_ATTACH, &at), -ENODEV, "ATTACH device 7");
	EXPECT_ERR(vt_ioctl(e2, ASH_CTL_ENGINE_FETCH, &f), -EBADFD,
		   "FETCH on a control fd that lost the ATTACH race");
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, e2, 0);
	EXPECT(m == MAP_FAILED, "mmap of the non-engine control fd succeeded");
	if (m != MAP_FAILED)
		munmap(m, 4096);
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, e1, 0);
	EXPECT(m == MAP_FAILED, "MAP_PRIVATE mapping of the engine fd succeeded");
	if (m != MAP_FAILED)
		munmap(m, 4096);

	/* COMPLETE with nothing running */
	memset(&cp, 0, sizeof(cp));
	cp.job = 1;
	EXPECT_ERR(vt_ioctl(e1, ASH_CTL_ENGINE_COMPLETE, &cp), -ENOENT,
		   "COMPLETE with no job running");

	/* FETCH the first context's oldest job (the valid FILL) */
	REQUIRE_OK(vt_ioctl(e1, ASH_CTL_ENGINE_FETCH, &f), "FETCH (nonblocking, jobs queued)");
	EXPECT_EQ(f.nr_commands, 1, "fetched job's nr_commands");
	EXPECT_EQ(cmds[0].opcode, ASH_OP_FILL, "fetched job's opcode (the first FILL)");
	EXPECT_EQ(cmds[0].operands[0].handle, 0, "fetched operand's handle (hidden)");
	EXPECT_EQ(vt_ioctl(e1, ASH_CTL_ENGINE_FETCH, &f), -EBUSY,
		  "second FETCH while a job runs");
	engine_fault_around(e1, space, cmds[0].operands[0].offset);
	memset(&cp, 0, sizeof(cp));
	cp.job = f.job + 1000;
	EXPECT_ERR(vt_ioctl(e1, ASH_CTL_ENGINE_COMPLETE, &cp), -ENOENT,
		   "COMPLETE with a wrong job id");
	cp.job = f.job;
	cp.status = 1;
	EXPECT_ERR(vt_ioctl(e1, ASH_CTL_ENGINE_COMPLETE, &cp), -EINVAL,
		   "COMPLETE with status 1 (> 0)");
	cp.status = -4096;
	EXPECT_ERR(vt_ioctl(e1, ASH_CTL_ENGINE_COMPLETE, &cp), -EINVAL,
		   "COMPLETE with status -4096 (< -MAX_ERRNO)");
	cp.status = 0;
	cp.flags = 1;
	EXPECT_ERR(vt_ioctl(e1, ASH_CTL_ENGINE_COMPLETE, &cp), -EINVAL,
		   "COMPLETE with flags 1");
	cp.flags = 0;
	cp.reserved[1] = 1;
	EXPECT_ERR(vt_ioctl(e1, ASH_CTL_ENGINE_COMPLETE, &cp), -EINVAL,
		   "COMPLETE with reserved[1] 1");
	cp.reserved[1] = 0;
	EXPECT_ERR(vt_ioctl(e2, ASH_CTL_ENGINE_COMPLETE, &cp), -EBADFD,
		   "COMPLETE of the running job from a non-engine fd");
	/* The job is still running after all that: complete it for real,
	 * without writing (the engine's status is what the tenant sees). */
	cp.status = -EPROTO;
	EXPECT_OK(vt_ioctl(e1, ASH_CTL_ENGINE_COMPLETE, &cp), "COMPLETE the right job");
	EXPECT_ERR(vt_ioctl(e1, ASH_CTL_ENGINE_COMPLETE, &cp), -ENOENT,
		   "COMPLETE the same job twice");
	{
		int32_t status = 0;

		EXPECT_OK(vx_wait(fd, 1, 0, &status), "wait for fence 1 after COMPLETE");
		EXPECT_ERR(status, -EPROTO, "fence 1 status (what the engine reported)");
	}
	close(e2);
	close(e1);	/* detach: the rest stays queued */
	EXPECT(vx_engine_wait_state(0, 5000), "device still has an engine after close");
}

int main(void)
{
	struct vt_snap before;
	struct ash_buf_alloc ba;
	int ofd;

	vt_init("exec_bad_submissions", 120);
	vt_part_new(PART, 16 * MiB, 0, VT_ROOT, (gid_t)-1);
	vt_part_new("badsub2", 4 * MiB, 0, VT_ROOT, (gid_t)-1);
	vt_snap_take(&before);

	fd = vt_tenant_open(PART);
	fd2 = vt_tenant_open(PART);
	ofd = vt_tenant_open("badsub2");
	REQUIRE(fd >= 0 && fd2 >= 0 && ofd >= 0, "open three contexts");
	REQUIRE_OK(vt_buf_alloc(fd, BSZ, &hw, NULL), "alloc writable");
	memset(&ba, 0, sizeof(ba));
	ba.size = BSZ;
	ba.flags = ASH_BUF_READONLY;
	REQUIRE_OK(vt_ioctl(fd, ASH_IOC_BUF_ALLOC, &ba), "alloc READONLY");
	hro = ba.handle;
	/* Another context's buffer, with a handle number ours does not have. */
	REQUIRE_OK(vt_buf_alloc(fd2, BSZ, &hother, NULL), "alloc in context 2");
	REQUIRE_OK(vt_buf_alloc(fd2, BSZ, &hother, NULL), "alloc in context 2");
	REQUIRE_OK(vt_buf_alloc(fd2, BSZ, &hother, NULL), "alloc in context 2");
	REQUIRE(hother != hw && hother != hro, "context 2's third handle %u is one of ours",
		hother);

	tenant_checks();
	queue_full();
	engine_checks();
	engine_refuses_ops();

	close(ofd);
	close(fd2);
	close(fd);
	EXPECT_EQ(vt_dev().jobs_queued, 0, "device jobs_queued after closing every context");
	vt_snap_expect_same(&before, "after all bad submissions");
	return vt_result();
}
