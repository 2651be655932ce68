/* SPDX-License-Identifier: MIT */
/*
 * vtexec - helpers for the VM cases that run jobs (exec_*, sched_*,
 * engine_*): start and stop accelshare-engine, build raw commands, submit
 * and wait with raw ioctls, read the clock and the busy counters.
 *
 * Header-only (static inline) so that cases that do not include it are
 * unchanged; include it after vmtest.h.
 */
#ifndef VTEXEC_H
#define VTEXEC_H

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vmtest.h"

#define VX_ENGINE	"/usr/bin/accelshare-engine"

static inline uint64_t vx_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static inline double vx_ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

/* vt_device has (want 1) or has no (want 0) engine within @timeout_ms. */
static inline bool vx_engine_wait_state(int want, int timeout_ms)
{
	uint64_t end = vx_now_ns() + (uint64_t)timeout_ms * 1000000ULL;
	struct ash_device_info d;

	for (;;) {
		memset(&d, 0, sizeof(d));
		if (!vt_dev_info(vt_device, &d) && (int)!!d.has_engine == want)
			return true;
		if (vx_now_ns() > end)
			return false;
		usleep(5000);
	}
}

/* "--device 0", or "--register NAME" for vt_device's engine-owned device. */
#define VX_DEVICE_ARGS \
	vt_device_name ? "--register" : "--device", \
	vt_device_name ? vt_device_name : "0"

static inline int vx_engine_exec(void *arg)
{
	const char *threads = arg;

	/* vt_spawn_as closed the control node; the engine opens its own. */
	execl(VX_ENGINE, VX_ENGINE, VX_DEVICE_ARGS, "--threads",
	      threads ? threads : "1", (char *)NULL);
	printf("FAIL: exec %s: %s\n", VX_ENGINE, strerror(errno));
	return 126;
}

static inline int vx_engine_exec_stalled(void *arg)
{
	execl(VX_ENGINE, VX_ENGINE, VX_DEVICE_ARGS, "--threads", "1",
	      "--test-stall-ms", (const char *)arg, (char *)NULL);
	printf("FAIL: exec %s: %s\n", VX_ENGINE, strerror(errno));
	return 126;
}

/* Send @sig to the engine, reap it, and wait until the device has none:
 * the exit status as vt_wait reports it. */
static inline int vx_engine_stop(pid_t pid, int sig)
{
	int st;

	kill(pid, sig);
	st = vt_wait(pid);
	if (!vx_engine_wait_state(0, 10000))
		FAIL("device %u still has an engine 10 s after pid %d exited",
		     vt_device, (int)pid);
	if (pid == vt_bg_engine)
		vt_bg_engine = 0;
	return st;
}

/* The engine-owned variant's background engine makes way for the case's. */
static inline void vx_engine_make_way(void)
{
	if (vt_bg_engine)
		vx_engine_stop(vt_bg_engine, SIGTERM);
}

/*
 * Start accelshare-engine as a child (root), serving device 0 with
 * @threads BLAS threads ("1" if NULL), and wait until it has attached.
 * The vmtest helpers kill it at exit; vx_engine_stop() ends it earlier.
 * Skips the case (77) if the binary is not in the image.
 */
static inline pid_t vx_engine_start(const char *threads)
{
	pid_t pid;

	if (access(VX_ENGINE, X_OK)) {
		printf("SKIP: %s is not in the VM image\n", VX_ENGINE);
		exit(VT_SKIP);
	}
	vx_engine_make_way();
	pid = vt_spawn_as(VT_ROOT, 0, NULL, 0, vx_engine_exec, (void *)threads);
	if (!vx_engine_wait_state(1, 60000)) {
		FAIL("accelshare-engine (pid %d) did not attach in 60 s", (int)pid);
		vt_bail();
	}
	return pid;
}

/*
 * As vx_engine_start("1"), with the engine's test knob --test-stall-ms
 * @stall_ms: every command sleeps that long first, so that a job within
 * the engine's budget still runs long (jobs over it are refused).
 */
static inline pid_t vx_engine_start_stalled(const char *stall_ms)
{
	pid_t pid;

	if (access(VX_ENGINE, X_OK)) {
		printf("SKIP: %s is not in the VM image\n", VX_ENGINE);
		exit(VT_SKIP);
	}
	vx_engine_make_way();
	pid = vt_spawn_as(VT_ROOT, 0, NULL, 0, vx_engine_exec_stalled,
			  (void *)stall_ms);
	if (!vx_engine_wait_state(1, 60000)) {
		FAIL("accelshare-engine (pid %d) did not attach in 60 s", (int)pid);
		vt_bail();
	}
	return pid;
}


/* --- raw commands --------------------------------------------------------- */

static inline void vx_operand(struct ash_command *c, unsigned int i,
			      uint32_t handle, uint32_t flags, uint64_t off,
			      uint64_t len)
{
	c->operands[i].handle = handle;
	c->operands[i].flags = flags;
	c->operands[i].offset = off;
	c->operands[i].length = len;
}

static inline void vx_cmd_nop(struct ash_command *c)
{
	memset(c, 0, sizeof(*c));
	c->opcode = ASH_OP_NOP;
}

static inline void vx_cmd_fill(struct ash_command *c, uint32_t h, uint64_t off,
			       uint64_t len, uint32_t pattern)
{
	struct ash_fill_params p = { .pattern = pattern };

	memset(c, 0, sizeof(*c));
	c->opcode = ASH_OP_FILL;
	c->nr_operands = 1;
	vx_operand(c, 0, h, ASH_OPERAND_WRITE, off, len);
	c->params_size = sizeof(p);
	memcpy(c->params, &p, sizeof(p));
}

static inline void vx_cmd_copy(struct ash_command *c, uint32_t dh,
			       uint64_t doff, uint32_t sh, uint64_t soff,
			       uint64_t len)
{
	memset(c, 0, sizeof(*c));
	c->opcode = ASH_OP_COPY;
	c->nr_operands = 2;
	vx_operand(c, 0, dh, ASH_OPERAND_WRITE, doff, len);
	vx_operand(c, 1, sh, ASH_OPERAND_READ, soff, len);
}

/* Dense f32 C[m x n] = A[m x k] B[k x n], C, A, B at offset 0 of their
 * buffers. */
static inline void vx_cmd_gemm(struct ash_command *c, uint32_t hc,
			       uint32_t ha, uint32_t hb, uint32_t m,
			       uint32_t n, uint32_t k)
{
	struct ash_gemm_params p = {
		.m = m, .n = n, .k = k, .dtype = ASH_OP_F32,
		.alpha = 1.0f, .beta = 0.0f,
	};

	memset(c, 0, sizeof(*c));
	c->opcode = ASH_OP_GEMM;
	c->nr_operands = 3;
	vx_operand(c, 0, hc, ASH_OPERAND_WRITE, 0, (uint64_t)m * n * 4);
	vx_operand(c, 1, ha, ASH_OPERAND_READ, 0, (uint64_t)m * k * 4);
	vx_operand(c, 2, hb, ASH_OPERAND_READ, 0, (uint64_t)k * n * 4);
	c->params_size = sizeof(p);
	memcpy(c->params, &p, sizeof(p));
}

/* ASH_IOC_SUBMIT of @n commands with ASH_SUBMIT_* @flags: 0 or -errno;
 * the fence in *@fence. */
static inline long vx_submit_flags(int fd, const struct ash_command *cmds,
				   uint32_t n, uint32_t flags, uint64_t *fence)
{
	struct ash_submit s;
	long ret;

	memset(&s, 0, sizeof(s));
	s.flags = flags;
	s.nr_commands = n;
	s.commands = (uint64_t)(uintptr_t)cmds;
	s.command_size = sizeof(*cmds);
	ret = vt_ioctl(fd, ASH_IOC_SUBMIT, &s);
	if (!ret && fence)
		*fence = s.fence;
	return ret;
}

static inline long vx_submit(int fd, const struct ash_command *cmds,
			     uint32_t n, uint64_t *fence)
{
	return vx_submit_flags(fd, cmds, n, 0, fence);
}

/* ASH_IOC_WAIT: 0 (the job's status in *@status) or -errno. */
static inline long vx_wait(int fd, uint64_t fence, int64_t timeout_ns,
			   int32_t *status)
{
	struct ash_wait w;
	long ret;

	memset(&w, 0, sizeof(w));
	w.fence = fence;
	w.timeout_ns = timeout_ns;
	ret = vt_ioctl(fd, ASH_IOC_WAIT, &w);
	if (!ret && status)
		*status = w.status;
	return ret;
}

/* Submit and wait forever: the job's status, or the ioctl's error. */
static inline long vx_run(int fd, const struct ash_command *cmds, uint32_t n)
{
	uint64_t fence;
	int32_t status;
	long ret;

	ret = vx_submit(fd, cmds, n, &fence);
	if (!ret)
		ret = vx_wait(fd, fence, -1, &status);
	return ret ? ret : status;
}

/* A partition's busy_ns from the control node (the case process only). */
static inline uint64_t vx_part_busy(const char *name)
{
	return vt_part(name).busy_ns;
}

/*
 * Keep a context's queue full with copies of one job until *@stop is set
 * (vt_flag_*), from a tenant process: submit until -EAGAIN, then wait for
 * the oldest job in flight.  Sets *@saturated to 1 once the queue was
 * first full.  Returns 0, or 1 after a failed job or ioctl (printed).
 */
static inline int vx_saturate(int fd, const struct ash_command *cmds,
			      uint32_t n, int *saturated, int *stop)
{
	uint64_t fence, oldest = 0, last = 0;
	int32_t status;
	long ret;

	while (!vt_flag_get(stop)) {
		ret = vx_submit(fd, cmds, n, &fence);
		if (!ret) {
			last = fence;
			if (!oldest)
				oldest = fence;
			continue;
		}
		if (ret != -EAGAIN) {
			FAIL("saturating submit: %s", vt_errname(ret));
			return 1;
		}
		if (!vt_flag_get(saturated))
			vt_flag_set(saturated, 1);
		/* Full: wait for the oldest of ours, 100 ms at a time so that
		 * @stop is seen. */
		ret = vx_wait(fd, oldest, 100000000LL, &status);
		if (ret == -ETIMEDOUT)
			continue;
		if (ret || status) {
			FAIL("saturating job %llu: %s", (unsigned long long)oldest,
			     vt_errname(ret ? ret : status));
			return 1;
		}
		oldest = oldest < last ? oldest + 1 : 0;
	}
	return 0;
}

/*
 * A saturating tenant, in a child: bind to @part, allocate @len bytes, and
 * keep the queue full of one-FILL jobs of @pattern over all of it
 * (vx_saturate) until *@stop.  Its exit status.
 */
static inline int vx_fill_tenant(const char *part, uint64_t len,
				 uint32_t pattern, int *saturated, int *stop)
{
	struct ash_command c;
	uint32_t h;
	int fd, ret;

	fd = vt_tenant_open(part);
	REQUIRE(fd >= 0, "bind %s: %s", part, vt_errname(fd));
	REQUIRE_OK(vt_buf_alloc(fd, len, &h, NULL), "alloc the fill buffer");
	vx_cmd_fill(&c, h, 0, len, pattern);
	ret = vx_saturate(fd, &c, 1, saturated, stop);
	close(fd);
	return ret;
}

/* --- a light tenant's latency (sched_latency_light_tenant and others) ----- */

#define VX_LIGHT_SOLO		20	/* samples alone */
#define VX_LIGHT_SAMPLES	40	/* samples next to the neighbours */
#define VX_LIGHT_PERIOD_MS	50

/**
 * struct vx_light - a light tenant's samples, in vt_shared() memory
 * @ready: set to 1 after the solo phase, 2 after the contended one.
 * @go: the case sets it to 1 to start the contended phase.
 * @solo: submit-to-complete latencies with the engine idle.
 * @lat: the same next to the neighbours, ~50 ms apart.
 */
struct vx_light {
	int ready;
	int go;
	uint64_t solo[VX_LIGHT_SOLO];
	uint64_t lat[VX_LIGHT_SAMPLES];
};

/* Submit @c on @fd and wait: the round trip in ns; the job must succeed. */
static inline uint64_t vx_round_trip(int fd, const struct ash_command *c)
{
	uint64_t t0, fence;
	int32_t status = 0;

	t0 = vx_now_ns();
	REQUIRE_OK(vx_submit(fd, c, 1, &fence), "light submit");
	REQUIRE_OK(vx_wait(fd, fence, -1, &status), "light wait");
	REQUIRE_OK(status, "light job status");
	return vx_now_ns() - t0;
}

/*
 * The light tenant, in a child bound to @part: one 4 KiB FILL at a time,
 * VX_LIGHT_SOLO of them alone, then (after @l->go) VX_LIGHT_SAMPLES about
 * VX_LIGHT_PERIOD_MS apart with a little jitter, so that submissions land
 * at every phase of the neighbours' slices.
 */
static inline int vx_light_tenant(const char *part, struct vx_light *l)
{
	struct ash_command c;
	uint64_t next, now;
	uint32_t h;
	int fd, i;

	fd = vt_tenant_open(part);
	REQUIRE(fd >= 0, "bind %s: %s", part, vt_errname(fd));
	REQUIRE_OK(vt_buf_alloc(fd, 4096, &h, NULL), "alloc 4 KiB");
	vx_cmd_fill(&c, h, 0, 4096, 0x11111111);
	vx_round_trip(fd, &c);		/* fault the page into the engine */
	for (i = 0; i < VX_LIGHT_SOLO; i++) {
		l->solo[i] = vx_round_trip(fd, &c);
		usleep(10000);
	}
	vt_flag_set(&l->ready, 1);
	REQUIRE(vt_flag_wait(&l->go, 1, 120000), "no go for the contended phase");
	next = vx_now_ns();
	for (i = 0; i < VX_LIGHT_SAMPLES; i++) {
		next += (uint64_t)(VX_LIGHT_PERIOD_MS - 5 + (i * 7) % 11) *
			1000000ULL;
		now = vx_now_ns();
		if (next > now)
			usleep((useconds_t)((next - now) / 1000));
		l->lat[i] = vx_round_trip(fd, &c);
	}
	vt_flag_set(&l->ready, 2);
	close(fd);
	return 0;
}

static inline int vx_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* @v sorted in place; its median and largest. */
static inline void vx_median_max(uint64_t *v, int n, uint64_t *med,
				 uint64_t *max)
{
	qsort(v, (size_t)n, sizeof(v[0]), vx_cmp_u64);
	*med = v[n / 2];
	*max = v[n - 1];
}

/*
 * How long a light job may wait next to saturating neighbours: the
 * running context keeps the engine until it has been charged a slice,
 * checked at each fetch, so a neighbour's turn can end up to one of its
 * jobs past the slice; a light job submitted at the worst moment then
 * waits that, runs itself, and pays the engine's per-job overhead for
 * every neighbour job in the turn:
 *
 *   slice + C_max + L0 + (ceil(slice / C) + 1) * o + 10 ms
 *
 * C the neighbours' typical job's busy time, C_max the longest one's with
 * margin, L0 the light job's worst round trip alone, o the engine's time
 * per job outside the busy time it reports, 10 ms TCG's late timer
 * interrupts.  *@k is the number of overheads counted.
 */
static inline uint64_t vx_latency_bound(uint64_t slice_ns, uint64_t c,
					uint64_t c_max, uint64_t l0,
					uint64_t o, int *k)
{
	*k = (int)((slice_ns + c - 1) / (c ? c : 1)) + 1;
	return slice_ns + c_max + l0 + (uint64_t)*k * o + 10000000ULL;
}

#endif /* VTEXEC_H */
