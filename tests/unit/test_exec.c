/* SPDX-License-Identifier: MIT */
/*
 * The tenant execution API (runtime/exec.c, runtime/cmdbuf.c) against a
 * fake kernel: the wrapped ioctl records every submitted job after checking
 * it as the driver does (operand counts, flags, ranges, zeroed tails), and
 * answers waits from a script.  What each op records (operands, byte
 * ranges, parameters), range and shape checks that refuse before any
 * syscall, tiling and the job cost bound, splitting into several jobs in
 * order, queue-full handling, and ash_wait's signal and status handling.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <accelshare.h>
#include <uapi/accelshare.h>

#include "../../runtime/ops/optable.h"

#define ERRNO_MARK	4242
#define MAX_HANDLES	64
#define MAX_JOBS	1024
#define MAX_WAITS	1024

int __real_ioctl(int fd, unsigned long request, ...);
int __wrap_ioctl(int fd, unsigned long request, ...);

struct job {
	uint64_t fence;
	uint32_t flags;
	uint32_t nr;
	struct ash_command *cmds;
};

/* The fake tenant node. */
static struct {
	int on;
	uint32_t next_handle;
	uint64_t size[MAX_HANDLES];		/* by handle; 0: none */
	/* jobs */
	struct job jobs[MAX_JOBS];
	int nr_jobs;
	int submits;			/* SUBMIT calls, failed ones too */
	uint64_t last_fence;
	uint64_t completed;		/* fences up to here are done */
	int queue_limit;		/* jobs queued at once; 0: no limit */
	int fail_submit;		/* fail the n-th SUBMIT call ... */
	int fail_errno;			/* ... with this */
	int32_t status[MAX_JOBS + 1];	/* by fence */
	/* waits */
	int manual;			/* waits do not complete jobs */
	int wait_eintr;			/* fail this many waits with EINTR */
	long eintr_sleep_ms;		/* after sleeping this long */
	int nr_waits;
	uint64_t wait_fence[MAX_WAITS];
	int64_t wait_timeout[MAX_WAITS];
} fake;

static const uint8_t op_nr[ASH_OP_COUNT] = {
	[ASH_OP_COPY] = 2, [ASH_OP_FILL] = 1, [ASH_OP_GEMM] = 3,
	[ASH_OP_ADD] = 3, [ASH_OP_MUL] = 3, [ASH_OP_SILU] = 2,
	[ASH_OP_GELU] = 2, [ASH_OP_RMSNORM] = 3, [ASH_OP_SOFTMAX] = 2,
	[ASH_OP_ROPE] = 2, [ASH_OP_EMBEDDING] = 3, [ASH_OP_GELU_ERF] = 2,
	[ASH_OP_LAYERNORM] = 4, [ASH_OP_ARGMAX] = 2, [ASH_OP_ATTENTION] = 4,
};

static int all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--)
		if (*b++)
			return 0;
	return 1;
}

/* The driver's checks of one command (driver/job.c). */
static int check_command(const struct ash_command *c)
{
	uint32_t i;

	if (c->opcode >= ASH_OP_COUNT || c->flags ||
	    c->params_size > ASH_CMD_PARAMS_MAX ||
	    !all_zero(c->params + c->params_size,
		      ASH_CMD_PARAMS_MAX - c->params_size) ||
	    c->nr_operands != op_nr[c->opcode] ||
	    !all_zero(&c->operands[c->nr_operands],
		      (ASH_CMD_MAX_OPERANDS - c->nr_operands) *
		      sizeof(c->operands[0])))
		return -EINVAL;
	for (i = 0; i < c->nr_operands; i++) {
		const struct ash_operand *o = &c->operands[i];
		uint32_t want = i ? ASH_OPERAND_READ : ASH_OPERAND_WRITE;

		if (!(o->flags == want ||
		      (!i && o->flags == (ASH_OPERAND_READ |
					  ASH_OPERAND_WRITE))) || !o->length)
			return -EINVAL;
		if (o->handle >= MAX_HANDLES || !fake.size[o->handle])
			return -ENOENT;
		if (o->offset > fake.size[o->handle] ||
		    o->length > fake.size[o->handle] - o->offset)
			return -ERANGE;
	}
	return 0;
}

/*
 * What the engine does with a job, as it would see it: each operand's
 * handle 0 and its offset a device address (buffer h at h << 32, page
 * aligned), every command checked with the op table, the job's cost within
 * the smallest budget an engine has.  Every job the library builds passes.
 */
static void engine_accepts(const struct ash_command *cmds, uint32_t n)
{
	struct ash_command c;
	struct ash_op_args a;
	uint64_t cost = 0;
	uint32_t i, k;

	for (i = 0; i < n; i++) {
		c = cmds[i];
		for (k = 0; k < c.nr_operands; k++) {
			c.operands[k].offset += (uint64_t)c.operands[k].handle
						<< 32;
			c.operands[k].handle = 0;
		}
		assert_int_equal(ash_optable_check(&c, &a), 0);
		cost = ash_cost_add(cost, a.cost);
	}
	assert_true(cost <= ASH_JOB_COST_MAX);
}

static int fake_submit(struct ash_submit *s)
{
	const struct ash_command *cmds;
	struct job *j;
	uint32_t i;
	int ret;

	fake.submits++;
	if (fake.fail_submit && fake.submits == fake.fail_submit)
		return -fake.fail_errno;
	if ((s->flags & ~ASH_SUBMIT_CHAIN) || s->pad ||
	    !all_zero(s->reserved, sizeof(s->reserved)) ||
	    !s->nr_commands || s->nr_commands > ASH_JOB_MAX_COMMANDS ||
	    s->command_size != sizeof(struct ash_command))
		return -EINVAL;
	cmds = (const struct ash_command *)(uintptr_t)s->commands;
	for (i = 0; i < s->nr_commands; i++) {
		ret = check_command(&cmds[i]);
		if (ret)
			return ret;
	}
	if (fake.queue_limit &&
	    fake.last_fence - fake.completed >= (uint64_t)fake.queue_limit)
		return -EAGAIN;
	assert_true(fake.nr_jobs < MAX_JOBS);
	j = &fake.jobs[fake.nr_jobs++];
	j->nr = s->nr_commands;
	j->flags = s->flags;
	j->cmds = malloc(sizeof(*cmds) * j->nr);
	assert_non_null(j->cmds);
	memcpy(j->cmds, cmds, sizeof(*cmds) * j->nr);
	j->fence = s->fence = ++fake.last_fence;
	engine_accepts(j->cmds, j->nr);
	return 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static int fake_wait(struct ash_wait *w)
{
	assert_true(fake.nr_waits < MAX_WAITS);
	fake.wait_fence[fake.nr_waits] = w->fence;
	fake.wait_timeout[fake.nr_waits++] = w->timeout_ns;
	if (w->flags || !all_zero(w->reserved, sizeof(w->reserved)) ||
	    !w->fence || w->fence > fake.last_fence)
		return -EINVAL;
	if (fake.wait_eintr) {
		fake.wait_eintr--;
		sleep_ms(fake.eintr_sleep_ms);
		return -EINTR;
	}
	if (w->fence > fake.completed) {
		if (fake.manual && w->timeout_ns >= 0)
			return -ETIMEDOUT;
		fake.completed = w->fence;
	}
	w->status = w->fence <= MAX_JOBS ? fake.status[w->fence] : 0;
	return 0;
}

int __wrap_ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	void *arg;
	int ret;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (!fake.on)
		return __real_ioctl(fd, request, arg);
	switch (request) {
	case ASH_IOC_BIND:
		return 0;
	case ASH_IOC_BUF_ALLOC: {
		struct ash_buf_alloc *a = arg;

		assert_true(fake.next_handle + 1 < MAX_HANDLES);
		a->handle = ++fake.next_handle;
		a->mmap_offset = (uint64_t)a->handle << ASH_MMAP_SHIFT;
		fake.size[a->handle] = a->size;
		return 0;
	}
	case ASH_IOC_BUF_FREE: {
		struct ash_buf_free *f = arg;

		fake.size[f->handle] = 0;
		return 0;
	}
	case ASH_IOC_SUBMIT:
		ret = fake_submit(arg);
		break;
	case ASH_IOC_WAIT:
		ret = fake_wait(arg);
		break;
	default:
		ret = -ENOTTY;
	}
	if (ret) {
		errno = -ret;
		return -1;
	}
	return 0;
}

static struct ash_ctx *ctx;

static int setup(void **state)
{
	(void)state;
	memset(&fake, 0, sizeof(fake));
	fake.on = 1;
	setenv("ACCELSHARE_DEVICE", "/dev/null", 1);
	assert_int_equal(ash_open("p", &ctx), 0);
	return 0;
}

static int teardown(void **state)
{
	int i;

	(void)state;
	ash_close(ctx);
	for (i = 0; i < fake.nr_jobs; i++)
		free(fake.jobs[i].cmds);
	fake.on = 0;
	unsetenv("ACCELSHARE_DEVICE");
	return 0;
}

static struct ash_buf *alloc(uint64_t size)
{
	struct ash_buf *buf;

	assert_int_equal(ash_alloc(ctx, size, &buf), 0);
	return buf;
}

static uint32_t handle_of(struct ash_buf *buf)
{
	uint32_t h;

	/* Handles are handed out in order: the last buffer's is the
	 * largest with this size; tests keep sizes distinct. */
	for (h = 1; h < MAX_HANDLES; h++)
		if (fake.size[h] == ash_buf_size(buf))
			return h;
	fail_msg("no handle for the buffer");
	return 0;
}

static void assert_operand(const struct ash_operand *o, struct ash_buf *buf,
			   uint32_t flags, uint64_t off, uint64_t len)
{
	assert_int_equal(o->handle, handle_of(buf));
	assert_int_equal(o->flags, flags);
	assert_int_equal(o->offset, off);
	assert_int_equal(o->length, len);
}

/* The only command of the only job. */
static const struct ash_command *only_command(void)
{
	assert_int_equal(fake.nr_jobs, 1);
	assert_int_equal(fake.jobs[0].nr, 1);
	return &fake.jobs[0].cmds[0];
}

static struct ash_tensor_ref ref(struct ash_buf *buf, uint64_t off, int dtype,
				 uint32_t rows, uint32_t cols, uint32_t ld)
{
	struct ash_tensor_ref r = { buf, off, dtype, rows, cols, ld };

	return r;
}

static struct ash_cmdbuf *cmdbuf(void)
{
	struct ash_cmdbuf *cb;

	assert_int_equal(ash_cmdbuf_create(ctx, &cb), 0);
	return cb;
}

static uint64_t submit(struct ash_cmdbuf *cb)
{
	uint64_t fence = 0;

	assert_int_equal(ash_cmdbuf_submit(cb, &fence), 0);
	assert_int_equal(ash_cmdbuf_commands(cb), 0);
	return fence;
}

/* The library's cost model, restated. */
static uint64_t gemm_cost(uint64_t m, uint64_t n, uint64_t k, uint64_t es)
{
	return 2 * m * n * k + es * (m * k + k * n) + 8 * m * n;
}

static void copy_is_one_command_with_exact_operands(void **state)
{
	struct ash_buf *dst = alloc(8192), *src = alloc(4096);
	const struct ash_command *c;
	uint64_t fence = 0;

	(void)state;
	errno = ERRNO_MARK;
	assert_int_equal(ash_copy(ctx, dst, 100, src, 7, 4089, &fence), 0);
	assert_int_equal(errno, ERRNO_MARK);
	assert_int_equal(fence, 1);
	c = only_command();
	assert_int_equal(c->opcode, ASH_OP_COPY);
	assert_int_equal(c->nr_operands, 2);
	assert_int_equal(c->params_size, 0);
	assert_operand(&c->operands[0], dst, ASH_OPERAND_WRITE, 100, 4089);
	assert_operand(&c->operands[1], src, ASH_OPERAND_READ, 7, 4089);
	assert_int_equal(ash_wait(ctx, fence, -1), 0);
	assert_int_equal(errno, ERRNO_MARK);
}

static void fill_records_pattern(void **state)
{
	struct ash_buf *dst = alloc(8192);
	const struct ash_command *c;
	struct ash_fill_params p;
	uint64_t fence;

	(void)state;
	assert_int_equal(ash_fill(ctx, dst, 4096, 4096, 0xdeadbeef, &fence), 0);
	c = only_command();
	assert_int_equal(c->opcode, ASH_OP_FILL);
	assert_int_equal(c->params_size, sizeof(p));
	memcpy(&p, c->params, sizeof(p));
	assert_int_equal(p.pattern, 0xdeadbeef);
	assert_int_equal(p.pad, 0);
	assert_operand(&c->operands[0], dst, ASH_OPERAND_WRITE, 4096, 4096);
}

static void bad_ranges_refused_before_any_syscall(void **state)
{
	struct ash_buf *a = alloc(8192), *b = alloc(4096), *other;
	struct ash_ctx *ctx2;
	uint64_t fence = 77;

	(void)state;
	assert_int_equal(ash_open("q", &ctx2), 0);
	assert_int_equal(ash_alloc(ctx2, 12288, &other), 0);
	errno = ERRNO_MARK;
	/* copy: past the end, offset + len wrapping, empty, NULLs */
	assert_int_equal(ash_copy(ctx, a, 0, b, 1, 4096, &fence), -EINVAL);
	assert_int_equal(ash_copy(ctx, a, 4097, b, 0, 4096, &fence), -EINVAL);
	assert_int_equal(ash_copy(ctx, a, UINT64_MAX - 10, b, 0, 16, &fence),
			 -EINVAL);
	assert_int_equal(ash_copy(ctx, a, 0, b, 16, UINT64_MAX - 8, &fence),
			 -EINVAL);
	assert_int_equal(ash_copy(ctx, a, 0, b, 0, 0, &fence), -EINVAL);
	assert_int_equal(ash_copy(ctx, NULL, 0, b, 0, 8, &fence), -EINVAL);
	assert_int_equal(ash_copy(ctx, a, 0, b, 0, 8, NULL), -EINVAL);
	assert_int_equal(ash_copy(NULL, a, 0, b, 0, 8, &fence), -EINVAL);
	/* overlapping ranges of one buffer */
	assert_int_equal(ash_copy(ctx, a, 0, a, 100, 200, &fence), -EINVAL);
	/* another context's buffer, either side */
	assert_int_equal(ash_copy(ctx, other, 0, b, 0, 8, &fence), -EINVAL);
	assert_int_equal(ash_copy(ctx, a, 0, other, 0, 8, &fence), -EINVAL);
	/* fill: alignment, range, length */
	assert_int_equal(ash_fill(ctx, a, 2, 8, 0, &fence), -EINVAL);
	assert_int_equal(ash_fill(ctx, a, 0, 6, 0, &fence), -EINVAL);
	assert_int_equal(ash_fill(ctx, a, 0, 0, 0, &fence), -EINVAL);
	assert_int_equal(ash_fill(ctx, a, 8188, 8, 0, &fence), -EINVAL);
	assert_int_equal(ash_fill(ctx, a, UINT64_MAX - 3, 8, 0, &fence),
			 -EINVAL);
	assert_int_equal(ash_fill(ctx, other, 0, 8, 0, &fence), -EINVAL);
	assert_int_equal(errno, ERRNO_MARK);
	assert_int_equal(fence, 77);
	assert_int_equal(fake.submits, 0);
	/* The edges themselves are fine. */
	assert_int_equal(ash_copy(ctx, a, 4096, b, 0, 4096, &fence), 0);
	assert_int_equal(ash_fill(ctx, a, 8188, 4, 0, &fence), 0);
	ash_close(ctx2);
}

static void long_copy_is_cut_into_bounded_jobs(void **state)
{
	const uint64_t len = 3 * (ASH_JOB_COST_MAX / 2) + 12345;
	struct ash_buf *dst = alloc(len + 8), *src = alloc(len);
	uint64_t fence, done = 0;
	int i;

	(void)state;
	assert_int_equal(ash_copy(ctx, dst, 8, src, 0, len, &fence), 0);
	assert_int_equal(fake.nr_jobs, 4);
	assert_int_equal(fence, fake.jobs[3].fence);
	for (i = 0; i < fake.nr_jobs; i++) {
		const struct ash_command *c = &fake.jobs[i].cmds[0];

		assert_int_equal(fake.jobs[i].nr, 1);
		assert_int_equal(c->operands[0].offset, 8 + done);
		assert_int_equal(c->operands[1].offset, done);
		assert_int_equal(c->operands[0].length, c->operands[1].length);
		assert_true(2 * c->operands[0].length <= ASH_JOB_COST_MAX);
		done += c->operands[0].length;
	}
	assert_int_equal(done, len);
}

static void gemm_operands_follow_ld_and_transposes(void **state)
{
	/* C 4 x 5 (ldc 8) = op(A) 4 x 3 * op(B) 3 x 5, A and B bf16 */
	struct ash_buf *cbuf = alloc(1 << 12), *abuf = alloc(1 << 13),
		       *bbuf = alloc(1 << 14);
	struct ash_tensor_ref c = ref(cbuf, 64, ASH_DTYPE_F32, 4, 5, 8);
	struct ash_tensor_ref a = ref(abuf, 2, ASH_DTYPE_BF16, 4, 3, 6);
	struct ash_tensor_ref b = ref(bbuf, 0, ASH_DTYPE_BF16, 3, 5, 0);
	struct ash_tensor_ref at = ref(abuf, 0, ASH_DTYPE_BF16, 3, 4, 10);
	struct ash_tensor_ref bt = ref(bbuf, 8, ASH_DTYPE_BF16, 5, 3, 4);
	struct ash_cmdbuf *cb = cmdbuf();
	const struct ash_command *cmd;
	struct ash_gemm_params p;

	(void)state;
	assert_int_equal(ash_op_gemm(cb, &c, &a, &b, 0, 2.0f, 0.0f), 0);
	assert_int_equal(ash_op_gemm(cb, &c, &at, &bt,
				     ASH_GEMM_TRANS_A | ASH_GEMM_TRANS_B,
				     1.0f, 0.5f), 0);
	assert_int_equal(ash_cmdbuf_commands(cb), 2);
	assert_int_equal(ash_cmdbuf_jobs(cb), 1);
	submit(cb);
	assert_int_equal(fake.nr_jobs, 1);
	assert_int_equal(fake.jobs[0].nr, 2);

	cmd = &fake.jobs[0].cmds[0];
	assert_int_equal(cmd->opcode, ASH_OP_GEMM);
	assert_int_equal(cmd->params_size, sizeof(p));
	memcpy(&p, cmd->params, sizeof(p));
	assert_int_equal(p.m, 4);
	assert_int_equal(p.n, 5);
	assert_int_equal(p.k, 3);
	assert_int_equal(p.dtype, ASH_OP_BF16);
	assert_int_equal(p.lda, 6);
	assert_int_equal(p.ldb, 5);
	assert_int_equal(p.ldc, 8);
	assert_int_equal(p.flags, 0);
	assert_true(p.alpha == 2.0f && p.beta == 0.0f);
	/* C: 3 rows of 8 then 5 floats; beta 0: written only */
	assert_operand(&cmd->operands[0], cbuf, ASH_OPERAND_WRITE, 64,
		       (3 * 8 + 5) * 4);
	/* A: 4 x 3 with ld 6, bf16 */
	assert_operand(&cmd->operands[1], abuf, ASH_OPERAND_READ, 2,
		       (3 * 6 + 3) * 2);
	assert_operand(&cmd->operands[2], bbuf, ASH_OPERAND_READ, 0,
		       15 * 2);

	cmd = &fake.jobs[0].cmds[1];
	memcpy(&p, cmd->params, sizeof(p));
	assert_int_equal(p.m, 4);
	assert_int_equal(p.n, 5);
	assert_int_equal(p.k, 3);
	assert_int_equal(p.lda, 10);
	assert_int_equal(p.ldb, 4);
	assert_int_equal(p.flags, ASH_GEMM_TRANS_A | ASH_GEMM_TRANS_B);
	assert_true(p.beta == 0.5f);
	/* beta != 0: C is read too */
	assert_operand(&cmd->operands[0], cbuf,
		       ASH_OPERAND_READ | ASH_OPERAND_WRITE, 64,
		       (3 * 8 + 5) * 4);
	/* A stored 3 x 4 (ld 10), B stored 5 x 3 (ld 4) */
	assert_operand(&cmd->operands[1], abuf, ASH_OPERAND_READ, 0,
		       (2 * 10 + 4) * 2);
	assert_operand(&cmd->operands[2], bbuf, ASH_OPERAND_READ, 8,
		       (4 * 4 + 3) * 2);
	ash_cmdbuf_destroy(cb);
}

static void gemm_bad_shapes_record_nothing(void **state)
{
	struct ash_buf *cbuf = alloc(1 << 12), *abuf = alloc(1 << 13),
		       *bbuf = alloc(1 << 14), *other;
	struct ash_tensor_ref c = ref(cbuf, 0, ASH_DTYPE_F32, 4, 5, 0);
	struct ash_tensor_ref a = ref(abuf, 0, ASH_DTYPE_F32, 4, 3, 0);
	struct ash_tensor_ref b = ref(bbuf, 0, ASH_DTYPE_F32, 3, 5, 0);
	struct ash_tensor_ref x;
	struct ash_cmdbuf *cb = cmdbuf();
	struct ash_ctx *ctx2;

	(void)state;
	assert_int_equal(ash_open("q", &ctx2), 0);
	assert_int_equal(ash_alloc(ctx2, 1 << 15, &other), 0);
	errno = ERRNO_MARK;
	/* inner dimensions differ, or a transpose makes them differ */
	x = ref(bbuf, 0, ASH_DTYPE_F32, 4, 5, 0);
	assert_int_equal(ash_op_gemm(cb, &c, &a, &x, 0, 1, 0), -EINVAL);
	assert_int_equal(ash_op_gemm(cb, &c, &a, &b, ASH_GEMM_TRANS_A, 1, 0),
			 -EINVAL);
	assert_int_equal(ash_op_gemm(cb, &c, &a, &b, 4, 1, 0), -EINVAL);
	/* A and B of different dtypes; C not f32; u32 inputs */
	x = ref(bbuf, 0, ASH_DTYPE_F16, 3, 5, 0);
	assert_int_equal(ash_op_gemm(cb, &c, &a, &x, 0, 1, 0), -EINVAL);
	x = ref(cbuf, 0, ASH_DTYPE_F16, 4, 5, 0);
	assert_int_equal(ash_op_gemm(cb, &x, &a, &b, 0, 1, 0), -EINVAL);
	x = ref(abuf, 0, ASH_DTYPE_U32, 4, 3, 0);
	assert_int_equal(ash_op_gemm(cb, &c, &x, &b, 0, 1, 0), -EINVAL);
	/* ld below cols, misaligned offset, span past the buffer */
	x = ref(abuf, 0, ASH_DTYPE_F32, 4, 3, 2);
	assert_int_equal(ash_op_gemm(cb, &c, &x, &b, 0, 1, 0), -EINVAL);
	x = ref(abuf, 2, ASH_DTYPE_F32, 4, 3, 0);
	assert_int_equal(ash_op_gemm(cb, &c, &x, &b, 0, 1, 0), -EINVAL);
	x = ref(abuf, (1 << 13) - 44, ASH_DTYPE_F32, 4, 3, 0);
	assert_int_equal(ash_op_gemm(cb, &c, &x, &b, 0, 1, 0), -EINVAL);
	x = ref(abuf, 0, ASH_DTYPE_F32, 4, 3, UINT32_MAX);
	assert_int_equal(ash_op_gemm(cb, &c, &x, &b, 0, 1, 0), -EINVAL);
	x = ref(abuf, 0, ASH_DTYPE_F32, 1, 3, 1U << 31);
	assert_int_equal(ash_op_gemm(cb, &c, &x, &b, 0, 1, 0), -EINVAL);
	x = ref(abuf, 0, ASH_DTYPE_F32, 0, 3, 0);
	assert_int_equal(ash_op_gemm(cb, &c, &x, &b, 0, 1, 0), -EINVAL);
	/* C overlapping A */
	x = ref(cbuf, 40, ASH_DTYPE_F32, 4, 3, 0);
	assert_int_equal(ash_op_gemm(cb, &c, &x, &b, 0, 1, 0), -EINVAL);
	/* another context's buffer */
	x = ref(other, 0, ASH_DTYPE_F32, 4, 3, 0);
	assert_int_equal(ash_op_gemm(cb, &c, &x, &b, 0, 1, 0), -EINVAL);
	assert_int_equal(ash_op_gemm(cb, NULL, &a, &b, 0, 1, 0), -EINVAL);
	assert_int_equal(ash_op_gemm(NULL, &c, &a, &b, 0, 1, 0), -EINVAL);
	assert_int_equal(errno, ERRNO_MARK);
	assert_int_equal(ash_cmdbuf_commands(cb), 0);
	assert_int_equal(ash_op_gemm(cb, &c, &a, &b, 0, 1, 0), 0);
	assert_int_equal(ash_cmdbuf_commands(cb), 1);
	ash_cmdbuf_destroy(cb);
	assert_int_equal(fake.submits, 0);
	ash_close(ctx2);
}

/* Checks that the GEMM commands of all recorded jobs cover C (m x n, at
 * c_off with ldc) exactly once per block of k, with the first block of k
 * taking beta and later ones 1, and every job within the cost bound. */
static void check_gemm_tiling(uint32_t m, uint32_t n, uint32_t k,
			      uint32_t es, uint64_t c_off, uint32_t ldc,
			      float beta, int *row_blocks)
{
	uint32_t *kdone = calloc((size_t)m * n, sizeof(*kdone));
	uint64_t last_row0 = 0;
	int i, blocks = 0;
	uint32_t x;

	assert_non_null(kdone);
	for (i = 0; i < fake.nr_jobs; i++) {
		uint64_t job_cost = 0;
		uint32_t j;

		assert_true(fake.jobs[i].nr <= ASH_JOB_MAX_COMMANDS);
		for (j = 0; j < fake.jobs[i].nr; j++) {
			const struct ash_command *c = &fake.jobs[i].cmds[j];
			struct ash_gemm_params p;
			uint64_t e, r0, c0, r, col;

			assert_int_equal(c->opcode, ASH_OP_GEMM);
			memcpy(&p, c->params, sizeof(p));
			job_cost += gemm_cost(p.m, p.n, p.k, es);
			e = (c->operands[0].offset - c_off) / 4;
			r0 = e / ldc;
			c0 = e % ldc;
			assert_int_equal(c->operands[0].length,
					 ((p.m - 1) * (uint64_t)ldc + p.n) * 4);
			if (r0 != last_row0 || !blocks) {
				assert_true(r0 >= last_row0);
				blocks++;
				last_row0 = r0;
			}
			for (r = r0; r < r0 + p.m; r++)
				for (col = c0; col < c0 + p.n; col++) {
					uint32_t *d = &kdone[r * n + col];

					/* blocks of k in order, from 0 */
					assert_true(p.beta ==
						    (*d ? 1.0f : beta));
					*d += p.k;
				}
		}
		/* A single tile may pass the bound only if it cannot be cut. */
		assert_true(job_cost <= ASH_JOB_COST_MAX ||
			    fake.jobs[i].nr == 1);
	}
	for (x = 0; x < m * n; x++)
		assert_int_equal(kdone[x], k);
	free(kdone);
	if (row_blocks)
		*row_blocks = blocks;
}

static void big_gemm_is_cut_into_row_blocks(void **state)
{
	enum { M = 1000, N = 1024, K = 1024 };
	struct ash_buf *cbuf = alloc((uint64_t)M * N * 4 + 256),
		       *abuf = alloc((uint64_t)M * K * 4),
		       *bbuf = alloc((uint64_t)K * N * 4);
	struct ash_tensor_ref c = ref(cbuf, 256, ASH_DTYPE_F32, M, N, 0);
	struct ash_tensor_ref a = ref(abuf, 0, ASH_DTYPE_F32, M, K, 0);
	struct ash_tensor_ref b = ref(bbuf, 0, ASH_DTYPE_F32, K, N, 0);
	struct ash_cmdbuf *cb = cmdbuf();
	uint64_t fence, rows = 0;
	int i, blocks;

	(void)state;
	assert_int_equal(ash_op_gemm(cb, &c, &a, &b, 0, 1.0f, 0.0f), 0);
	assert_true(ash_cmdbuf_commands(cb) > 1);
	fence = submit(cb);
	assert_int_equal(fence, fake.jobs[fake.nr_jobs - 1].fence);
	check_gemm_tiling(M, N, K, 4, 256, N, 0.0f, &blocks);
	assert_int_equal(blocks, fake.nr_jobs);
	/* Whole rows: each tile spans all of n and k, and A's rows match
	 * C's. */
	for (i = 0; i < fake.nr_jobs; i++) {
		const struct ash_command *cmd = &fake.jobs[i].cmds[0];
		struct ash_gemm_params p;

		memcpy(&p, cmd->params, sizeof(p));
		assert_int_equal(p.n, N);
		assert_int_equal(p.k, K);
		assert_int_equal(cmd->operands[0].offset, 256 + rows * N * 4);
		assert_int_equal(cmd->operands[1].offset, rows * K * 4);
		assert_int_equal(cmd->operands[1].length, p.m * K * 4);
		assert_int_equal(cmd->operands[2].offset, 0);
		assert_int_equal(cmd->operands[2].length, (uint64_t)K * N * 4);
		rows += p.m;
	}
	assert_int_equal(rows, M);
	ash_cmdbuf_destroy(cb);
}

static void gemm_with_long_rows_cuts_columns_and_k(void **state)
{
	/* One row of C costs more than a job: blocks of columns, and of k
	 * (beta once, then accumulate).  B is transposed: n x k. */
	enum { M = 3, N = 200, K = 70000 };
	struct ash_buf *cbuf = alloc((uint64_t)M * N * 4 + 512),
		       *abuf = alloc((uint64_t)M * K * 2),
		       *bbuf = alloc((uint64_t)N * K * 2);
	struct ash_tensor_ref c = ref(cbuf, 0, ASH_DTYPE_F32, M, N, N + 10);
	struct ash_tensor_ref a = ref(abuf, 0, ASH_DTYPE_F16, M, K, 0);
	struct ash_tensor_ref b = ref(bbuf, 0, ASH_DTYPE_F16, N, K, 0);
	struct ash_cmdbuf *cb = cmdbuf();
	int i;

	(void)state;
	assert_int_equal(ash_op_gemm(cb, &c, &a, &b, ASH_GEMM_TRANS_B, 1.0f,
				     0.25f), 0);
	submit(cb);
	check_gemm_tiling(M, N, K, 2, 0, N + 10, 0.25f, NULL);
	for (i = 0; i < fake.nr_jobs; i++) {
		uint32_t j;

		for (j = 0; j < fake.jobs[i].nr; j++) {
			const struct ash_command *cmd = &fake.jobs[i].cmds[j];
			struct ash_gemm_params p;

			memcpy(&p, cmd->params, sizeof(p));
			assert_true(p.k < K);
			assert_true(gemm_cost(p.m, p.n, p.k, 2) <=
				    ASH_JOB_COST_MAX);
			/* C is read whenever beta is not 0 */
			assert_int_equal(cmd->operands[0].flags,
					 ASH_OPERAND_READ | ASH_OPERAND_WRITE);
			/* B^T tile: p.n rows of K from column p0 */
			assert_int_equal(cmd->operands[2].length,
					 ((p.n - 1) * (uint64_t)K + p.k) * 2);
		}
	}
	ash_cmdbuf_destroy(cb);
}

static void quantized_gemm_cuts_whole_blocks(void **state)
{
	/* Q8_0 weights n x k, k long enough to be cut: each block of k is
	 * whole blocks of 32, and its operand starts at one. */
	enum { M = 3, N = 200, K = 70016 };
	struct ash_buf *cbuf = alloc((uint64_t)M * N * 4),
		       *abuf = alloc((uint64_t)M * K * 4),
		       *bbuf = alloc((uint64_t)N * K / 32 * 34);
	struct ash_tensor_ref c = ref(cbuf, 0, ASH_DTYPE_F32, M, N, 0);
	struct ash_tensor_ref a = ref(abuf, 0, ASH_DTYPE_F32, M, K, 0);
	struct ash_tensor_ref b = ref(bbuf, 0, ASH_DTYPE_Q8_0, N, K, 0);
	struct ash_tensor_ref x;
	struct ash_cmdbuf *cb = cmdbuf();
	uint64_t covered = 0;
	int i;

	(void)state;
	/* Refused: B not stored n x k, A not f32, rows not whole blocks. */
	assert_int_equal(ash_op_gemm(cb, &c, &a, &b, 0, 1.0f, 0.0f), -EINVAL);
	x = a;
	x.dtype = ASH_DTYPE_F16;
	assert_int_equal(ash_op_gemm(cb, &c, &x, &b, ASH_GEMM_TRANS_B, 1.0f,
				     0.0f), -EINVAL);
	x = b;
	x.cols = K - 16;
	x.ld = K;
	assert_int_equal(ash_op_gemm(cb, &c, &a, &x, ASH_GEMM_TRANS_B, 1.0f,
				     0.0f), -EINVAL);
	x = b;
	x.offset = 1;
	assert_int_equal(ash_op_gemm(cb, &c, &a, &x, ASH_GEMM_TRANS_B, 1.0f,
				     0.0f), -EINVAL);
	assert_int_equal(ash_cmdbuf_commands(cb), 0);

	assert_int_equal(ash_op_gemm(cb, &c, &a, &b, ASH_GEMM_TRANS_B, 1.0f,
				     0.0f), 0);
	submit(cb);
	assert_true(fake.nr_jobs > 1);
	for (i = 0; i < fake.nr_jobs; i++) {
		uint32_t j;

		for (j = 0; j < fake.jobs[i].nr; j++) {
			const struct ash_command *cmd = &fake.jobs[i].cmds[j];
			struct ash_gemm_params p;
			uint64_t b_off = cmd->operands[2].offset;

			memcpy(&p, cmd->params, sizeof(p));
			assert_int_equal(p.dtype, ASH_OP_Q8_0);
			assert_int_equal(p.flags,
					 ASH_GEMM_TRANS_B | ASH_GEMM_A_F32);
			assert_int_equal(p.k % 32, 0);
			assert_int_equal(p.ldb, K);
			assert_int_equal(b_off % 34, 0);
			assert_int_equal(cmd->operands[2].length,
					 ((p.n - 1) * (uint64_t)K + p.k) / 32 *
					 34);
			/* the first row of C's tiles covers k once */
			if (cmd->operands[0].offset == 0)
				covered += p.k;
		}
	}
	assert_int_equal(covered, K);
	ash_cmdbuf_destroy(cb);
}

static void eltwise_ops_record_counts_and_allow_in_place(void **state)
{
	struct ash_buf *x = alloc(4096), *y = alloc(8192);
	struct ash_tensor_ref xr = ref(x, 0, ASH_DTYPE_F32, 4, 64, 0);
	struct ash_tensor_ref yr = ref(y, 1024, ASH_DTYPE_F32, 1, 256, 0);
	struct ash_tensor_ref bad;
	struct ash_cmdbuf *cb = cmdbuf();
	struct ash_eltwise_params p;
	const struct ash_command *c;
	static const uint32_t ops[] = { ASH_OP_ADD, ASH_OP_MUL, ASH_OP_SILU,
					ASH_OP_GELU };
	int i;

	(void)state;
	assert_int_equal(ash_op_add(cb, &xr, &xr, &yr), 0);	/* in place */
	assert_int_equal(ash_op_mul(cb, &yr, &xr, &yr), 0);
	assert_int_equal(ash_op_silu(cb, &xr, &yr), 0);
	assert_int_equal(ash_op_gelu(cb, &xr, &xr), 0);
	/* count differs, partial overlap, not dense, not f32 */
	bad = ref(y, 1024, ASH_DTYPE_F32, 1, 255, 0);
	assert_int_equal(ash_op_add(cb, &xr, &xr, &bad), -EINVAL);
	bad = ref(x, 4, ASH_DTYPE_F32, 4, 64, 0);
	assert_int_equal(ash_op_silu(cb, &bad, &xr), -EINVAL);
	bad = ref(y, 0, ASH_DTYPE_F32, 4, 64, 65);
	assert_int_equal(ash_op_silu(cb, &bad, &xr), -EINVAL);
	bad = ref(y, 0, ASH_DTYPE_F16, 4, 64, 0);
	assert_int_equal(ash_op_gelu(cb, &xr, &bad), -EINVAL);
	assert_int_equal(ash_op_add(cb, &xr, &xr, NULL), -EINVAL);
	submit(cb);
	assert_int_equal(fake.nr_jobs, 1);
	assert_int_equal(fake.jobs[0].nr, 4);
	for (i = 0; i < 4; i++) {
		c = &fake.jobs[0].cmds[i];
		assert_int_equal(c->opcode, ops[i]);
		assert_int_equal(c->params_size, sizeof(p));
		memcpy(&p, c->params, sizeof(p));
		assert_int_equal(p.count, 256);
		assert_int_equal(c->nr_operands, i < 2 ? 3 : 2);
	}
	c = &fake.jobs[0].cmds[1];
	assert_operand(&c->operands[0], y, ASH_OPERAND_WRITE, 1024, 1024);
	assert_operand(&c->operands[1], x, ASH_OPERAND_READ, 0, 1024);
	assert_operand(&c->operands[2], y, ASH_OPERAND_READ, 1024, 1024);
	ash_cmdbuf_destroy(cb);
}

/* GELU_ERF, LAYERNORM (weight and bias) and ARGMAX (one u32 a row). */
static void bert_and_decoding_ops_record(void **state)
{
	/* distinct sizes: handle_of() tells buffers apart by size */
	struct ash_buf *x = alloc(4096), *w = alloc(8192), *o = alloc(12288);
	struct ash_tensor_ref xr = ref(x, 0, ASH_DTYPE_F32, 4, 64, 0);
	struct ash_tensor_ref wr = ref(w, 0, ASH_DTYPE_F32, 1, 64, 0);
	struct ash_tensor_ref br = ref(w, 256, ASH_DTYPE_F32, 1, 64, 0);
	struct ash_tensor_ref ir = ref(o, 0, ASH_DTYPE_U32, 4, 1, 0);
	struct ash_tensor_ref bad;
	struct ash_cmdbuf *cb = cmdbuf();
	struct ash_rows_params rp;
	const struct ash_command *c;

	(void)state;
	assert_int_equal(ash_op_gelu_erf(cb, &xr, &xr), 0);
	assert_int_equal(ash_op_layernorm(cb, &xr, &xr, &wr, &br, 1e-12f), 0);
	assert_int_equal(ash_op_argmax(cb, &ir, &xr), 0);
	/* no bias, a bias of the wrong length, argmax into f32 or rows x 2,
	 * argmax over its own output, a negative eps */
	assert_int_equal(ash_op_layernorm(cb, &xr, &xr, &wr, NULL, 0), -EINVAL);
	bad = ref(w, 256, ASH_DTYPE_F32, 1, 63, 0);
	assert_int_equal(ash_op_layernorm(cb, &xr, &xr, &wr, &bad, 0), -EINVAL);
	bad = ref(o, 0, ASH_DTYPE_F32, 4, 1, 0);
	assert_int_equal(ash_op_argmax(cb, &bad, &xr), -EINVAL);
	bad = ref(o, 0, ASH_DTYPE_U32, 4, 2, 0);
	assert_int_equal(ash_op_argmax(cb, &bad, &xr), -EINVAL);
	bad = ref(x, 0, ASH_DTYPE_U32, 4, 1, 0);
	assert_int_equal(ash_op_argmax(cb, &bad, &xr), -EINVAL);
	assert_int_equal(ash_op_layernorm(cb, &xr, &xr, &wr, &br, -1.0f),
			 -EINVAL);
	submit(cb);
	assert_int_equal(fake.nr_jobs, 1);
	assert_int_equal(fake.jobs[0].nr, 3);
	c = &fake.jobs[0].cmds[0];
	assert_int_equal(c->opcode, ASH_OP_GELU_ERF);
	c = &fake.jobs[0].cmds[1];
	assert_int_equal(c->opcode, ASH_OP_LAYERNORM);
	memcpy(&rp, c->params, sizeof(rp));
	assert_true(rp.rows == 4 && rp.cols == 64 && rp.eps == 1e-12f);
	assert_operand(&c->operands[2], w, ASH_OPERAND_READ, 0, 256);
	assert_operand(&c->operands[3], w, ASH_OPERAND_READ, 256, 256);
	c = &fake.jobs[0].cmds[2];
	assert_int_equal(c->opcode, ASH_OP_ARGMAX);
	assert_operand(&c->operands[0], o, ASH_OPERAND_WRITE, 0, 16);
	assert_operand(&c->operands[1], x, ASH_OPERAND_READ, 0, 1024);
	ash_cmdbuf_destroy(cb);
}

/*
 * ATTENTION is cut into jobs of whole query tokens, causal tiles at their
 * own positions; bad shapes are refused.
 */
static void attention_cut_by_query_tokens(void **state)
{
	enum { TQ = 64, TK = 4096, H = 8, KVH = 2, HD = 64 };
	struct ash_buf *q = alloc((uint64_t)TQ * H * HD * 4);
	struct ash_buf *o = alloc((uint64_t)TQ * H * HD * 4 + 4096);
	struct ash_buf *k = alloc((uint64_t)TK * KVH * HD * 4);
	struct ash_buf *v = alloc((uint64_t)TK * KVH * HD * 4 + 8192);
	struct ash_tensor_ref qr = ref(q, 0, ASH_DTYPE_F32, TQ, H * HD, 0);
	struct ash_tensor_ref orf = ref(o, 0, ASH_DTYPE_F32, TQ, H * HD, 0);
	struct ash_tensor_ref kr = ref(k, 0, ASH_DTYPE_F32, TK, KVH * HD, 0);
	struct ash_tensor_ref vr = ref(v, 0, ASH_DTYPE_F32, TK, KVH * HD, 0);
	struct ash_attention at = {
		.q_tokens = TQ, .kv_tokens = TK, .heads = H, .kv_heads = KVH,
		.head_dim = HD, .q_pos0 = TK - TQ, .causal = 1, .scale = 0.125f,
	};
	struct ash_cmdbuf *cb = cmdbuf();
	struct ash_attention_params p;
	uint32_t tokens = 0, heads = 0, i;
	struct ash_attention bad;
	int j;

	(void)state;
	assert_int_equal(ash_op_attention(cb, &orf, &qr, &kr, &vr, &at), 0);
	bad = at;
	bad.heads = 7;			/* not a multiple of kv_heads */
	assert_int_equal(ash_op_attention(cb, &orf, &qr, &kr, &vr, &bad), -EINVAL);
	bad = at;
	bad.q_pos0 = TK - TQ + 1;	/* queries past the cache */
	assert_int_equal(ash_op_attention(cb, &orf, &qr, &kr, &vr, &bad), -EINVAL);
	bad = at;
	bad.causal = 0;			/* non-causal needs q_pos0 0 */
	assert_int_equal(ash_op_attention(cb, &orf, &qr, &kr, &vr, &bad), -EINVAL);
	assert_int_equal(ash_op_attention(cb, &qr, &qr, &kr, &vr, &at), -EINVAL);
	submit(cb);
	assert_true(fake.nr_jobs > 1);	/* too much for one job */
	for (j = 0; j < fake.nr_jobs; j++)
		for (i = 0; i < fake.jobs[j].nr; i++) {
			const struct ash_command *c = &fake.jobs[j].cmds[i];

			assert_int_equal(c->opcode, ASH_OP_ATTENTION);
			memcpy(&p, c->params, sizeof(p));
			/* A token of 8 heads over 4096 kv tokens is more than
			 * a job: one token a command, its heads in groups. */
			assert_int_equal(p.q_tokens, 1);
			assert_true(p.nr_heads > 0 && p.nr_heads < H);
			assert_int_equal(p.head0, heads);
			assert_int_equal(p.q_pos0, TK - TQ + tokens);
			assert_int_equal(p.kv_tokens, TK);
			assert_int_equal(c->operands[1].offset,
					 (uint64_t)tokens * H * HD * 4 +
					 (uint64_t)heads * HD * 4);
			assert_int_equal(c->operands[1].length,
					 (uint64_t)p.nr_heads * HD * 4);
			heads += p.nr_heads;
			if (heads == H) {
				heads = 0;
				tokens++;
			}
		}
	assert_int_equal(tokens, TQ);
	ash_cmdbuf_destroy(cb);
}

static void long_eltwise_is_cut_into_element_blocks(void **state)
{
	const uint64_t n = 3 * 1024 * 1024 + 5;	/* 12 MiB of f32 each */
	struct ash_buf *x = alloc(n * 4), *y = alloc(n * 4 + 4);
	struct ash_tensor_ref xr = ref(x, 0, ASH_DTYPE_F32, 1, n, 0);
	struct ash_tensor_ref yr = ref(y, 4, ASH_DTYPE_F32, 3, n / 3 + 0, 0);
	struct ash_cmdbuf *cb = cmdbuf();
	uint64_t done = 0;
	int i;

	(void)state;
	/* 3 rows of n/3 is not n elements (n % 3 = 2): refused */
	assert_int_equal(ash_op_add(cb, &yr, &xr, &xr), -EINVAL);
	yr = ref(y, 4, ASH_DTYPE_F32, 1, n, 0);
	assert_int_equal(ash_op_add(cb, &yr, &xr, &xr), 0);
	submit(cb);
	assert_true(fake.nr_jobs > 1);
	for (i = 0; i < fake.nr_jobs; i++) {
		const struct ash_command *c = &fake.jobs[i].cmds[0];
		struct ash_eltwise_params p;

		assert_int_equal(fake.jobs[i].nr, 1);
		memcpy(&p, c->params, sizeof(p));
		assert_true(p.count * (12 + 1) <= ASH_JOB_COST_MAX);
		assert_int_equal(c->operands[0].offset, 4 + done * 4);
		assert_int_equal(c->operands[1].offset, done * 4);
		assert_int_equal(c->operands[2].offset, done * 4);
		assert_int_equal(c->operands[0].length, p.count * 4);
		done += p.count;
	}
	assert_int_equal(done, n);
	ash_cmdbuf_destroy(cb);
}

static void row_ops_record_shapes(void **state)
{
	struct ash_buf *in = alloc(4096), *out = alloc(8192), *w = alloc(512);
	struct ash_tensor_ref inr = ref(in, 0, ASH_DTYPE_F32, 8, 32, 0);
	struct ash_tensor_ref outr = ref(out, 0, ASH_DTYPE_F32, 8, 32, 0);
	struct ash_tensor_ref wr = ref(w, 128, ASH_DTYPE_F32, 1, 32, 0);
	struct ash_tensor_ref bad;
	struct ash_cmdbuf *cb = cmdbuf();
	struct ash_rows_params p;
	const struct ash_command *c;

	(void)state;
	assert_int_equal(ash_op_rmsnorm(cb, &outr, &inr, &wr, 1e-5f), 0);
	assert_int_equal(ash_op_softmax(cb, &inr, &inr), 0);
	/* weight of another length, shapes that differ, negative eps */
	bad = ref(w, 0, ASH_DTYPE_F32, 1, 31, 0);
	assert_int_equal(ash_op_rmsnorm(cb, &outr, &inr, &bad, 1e-5f),
			 -EINVAL);
	bad = ref(out, 0, ASH_DTYPE_F32, 4, 64, 0);
	assert_int_equal(ash_op_softmax(cb, &bad, &inr), -EINVAL);
	assert_int_equal(ash_op_rmsnorm(cb, &outr, &inr, &wr, -1.0f), -EINVAL);
	assert_int_equal(ash_op_rmsnorm(cb, &outr, &inr, NULL, 0.0f), -EINVAL);
	submit(cb);
	assert_int_equal(fake.jobs[0].nr, 2);
	c = &fake.jobs[0].cmds[0];
	assert_int_equal(c->opcode, ASH_OP_RMSNORM);
	memcpy(&p, c->params, sizeof(p));
	assert_int_equal(p.rows, 8);
	assert_int_equal(p.cols, 32);
	assert_true(p.eps == 1e-5f);
	assert_operand(&c->operands[0], out, ASH_OPERAND_WRITE, 0, 1024);
	assert_operand(&c->operands[1], in, ASH_OPERAND_READ, 0, 1024);
	assert_operand(&c->operands[2], w, ASH_OPERAND_READ, 128, 128);
	c = &fake.jobs[0].cmds[1];
	assert_int_equal(c->opcode, ASH_OP_SOFTMAX);
	assert_int_equal(c->nr_operands, 2);
	ash_cmdbuf_destroy(cb);
}

static void long_row_op_cuts_whole_rows(void **state)
{
	enum { ROWS = 4096, COLS = 4096 };	/* 64 MiB */
	struct ash_buf *x = alloc((uint64_t)ROWS * COLS * 4);
	struct ash_tensor_ref xr = ref(x, 0, ASH_DTYPE_F32, ROWS, COLS, 0);
	struct ash_cmdbuf *cb = cmdbuf();
	uint64_t rows = 0;
	int i;

	(void)state;
	assert_int_equal(ash_op_softmax(cb, &xr, &xr), 0);
	submit(cb);
	assert_true(fake.nr_jobs > 1);
	for (i = 0; i < fake.nr_jobs; i++) {
		const struct ash_command *c = &fake.jobs[i].cmds[0];
		struct ash_rows_params p;

		memcpy(&p, c->params, sizeof(p));
		assert_int_equal(p.cols, COLS);
		assert_int_equal(c->operands[0].offset,
				 rows * COLS * 4);
		assert_int_equal(c->operands[0].length,
				 (uint64_t)p.rows * COLS * 4);
		rows += p.rows;
	}
	assert_int_equal(rows, ROWS);
	ash_cmdbuf_destroy(cb);
}

static void rope_and_embedding_record_params(void **state)
{
	struct ash_buf *x = alloc(4 * 2 * 8 * 4), *tab = alloc(100 * 16 * 4),
		       *ids = alloc(64), *out = alloc(4 * 16 * 4 + 64);
	struct ash_tensor_ref xr = ref(x, 0, ASH_DTYPE_F32, 4, 16, 0);
	struct ash_tensor_ref tr = ref(tab, 0, ASH_DTYPE_F32, 100, 16, 0);
	struct ash_tensor_ref ir = ref(ids, 16, ASH_DTYPE_U32, 1, 4, 0);
	struct ash_tensor_ref orr = ref(out, 64, ASH_DTYPE_F32, 4, 16, 0);
	struct ash_tensor_ref bad;
	struct ash_cmdbuf *cb = cmdbuf();
	struct ash_embedding_params ep;
	struct ash_rope_params rp;
	const struct ash_command *c;

	(void)state;
	assert_int_equal(ash_op_rope(cb, &xr, &xr, 4, 2, 8, 10, 10000.0f), 0);
	/* odd head_dim, shape that is not tokens*heads*head_dim, positions
	 * past 2^32, bad theta */
	assert_int_equal(ash_op_rope(cb, &xr, &xr, 8, 2, 4, 0, 1e4f), 0);
	assert_int_equal(ash_op_rope(cb, &xr, &xr, 4, 2, 7, 0, 1e4f), -EINVAL);
	assert_int_equal(ash_op_rope(cb, &xr, &xr, 4, 4, 8, 0, 1e4f), -EINVAL);
	assert_int_equal(ash_op_rope(cb, &xr, &xr, 4, 2, 8, UINT32_MAX - 2,
				     1e4f), -EINVAL);
	assert_int_equal(ash_op_rope(cb, &xr, &xr, 4, 2, 8, 0, 0.0f), -EINVAL);
	assert_int_equal(ash_op_embedding(cb, &orr, &tr, &ir), 0);
	/* ids not u32, out of the wrong size */
	bad = ref(ids, 16, ASH_DTYPE_F32, 1, 4, 0);
	assert_int_equal(ash_op_embedding(cb, &orr, &tr, &bad), -EINVAL);
	bad = ref(out, 64, ASH_DTYPE_F32, 3, 16, 0);
	assert_int_equal(ash_op_embedding(cb, &bad, &tr, &ir), -EINVAL);
	submit(cb);
	assert_int_equal(fake.jobs[0].nr, 3);
	c = &fake.jobs[0].cmds[0];
	assert_int_equal(c->opcode, ASH_OP_ROPE);
	memcpy(&rp, c->params, sizeof(rp));
	assert_int_equal(rp.tokens, 4);
	assert_int_equal(rp.heads, 2);
	assert_int_equal(rp.head_dim, 8);
	assert_int_equal(rp.pos0, 10);
	assert_true(rp.theta == 10000.0f);
	assert_operand(&c->operands[0], x, ASH_OPERAND_WRITE, 0, 256);
	assert_operand(&c->operands[1], x, ASH_OPERAND_READ, 0, 256);
	c = &fake.jobs[0].cmds[2];
	assert_int_equal(c->opcode, ASH_OP_EMBEDDING);
	memcpy(&ep, c->params, sizeof(ep));
	assert_int_equal(ep.nr_ids, 4);
	assert_int_equal(ep.dim, 16);
	assert_int_equal(ep.vocab, 100);
	assert_operand(&c->operands[0], out, ASH_OPERAND_WRITE, 64, 256);
	assert_operand(&c->operands[1], tab, ASH_OPERAND_READ, 0, 6400);
	assert_operand(&c->operands[2], ids, ASH_OPERAND_READ, 16, 16);
	ash_cmdbuf_destroy(cb);
}

static void long_rope_advances_positions(void **state)
{
	enum { T = 1024, H = 32, D = 128 };	/* 16 MiB */
	struct ash_buf *x = alloc((uint64_t)T * H * D * 4);
	struct ash_tensor_ref xr = ref(x, 0, ASH_DTYPE_F32, T, H * D, 0);
	struct ash_cmdbuf *cb = cmdbuf();
	uint32_t tokens = 0;
	int i;

	(void)state;
	assert_int_equal(ash_op_rope(cb, &xr, &xr, T, H, D, 7, 1e4f), 0);
	submit(cb);
	assert_true(fake.nr_jobs > 1);
	for (i = 0; i < fake.nr_jobs; i++) {
		const struct ash_command *c = &fake.jobs[i].cmds[0];
		struct ash_rope_params p;

		memcpy(&p, c->params, sizeof(p));
		assert_int_equal(p.pos0, 7 + tokens);
		assert_int_equal(c->operands[0].offset,
				 (uint64_t)tokens * H * D * 4);
		tokens += p.tokens;
	}
	assert_int_equal(tokens, T);
	ash_cmdbuf_destroy(cb);
}

static void more_than_max_commands_go_in_several_jobs_in_order(void **state)
{
	const int n = 2 * ASH_JOB_MAX_COMMANDS + 10;
	struct ash_buf *x = alloc(4096 * 4);
	struct ash_cmdbuf *cb = cmdbuf();
	uint64_t fence;
	int i, k = 0;

	(void)state;
	for (i = 0; i < n; i++)
		assert_int_equal(ash_op_fill(cb, x, (uint64_t)i * 16, 16,
					     (uint32_t)i), 0);
	assert_int_equal(ash_cmdbuf_jobs(cb), 3);
	fence = submit(cb);
	assert_int_equal(fake.nr_jobs, 3);
	assert_int_equal(fake.jobs[0].nr, ASH_JOB_MAX_COMMANDS);
	assert_int_equal(fake.jobs[1].nr, ASH_JOB_MAX_COMMANDS);
	assert_int_equal(fake.jobs[2].nr, 10);
	assert_int_equal(fence, 3);
	/* Later jobs are chained, so the last fence reports any failure. */
	assert_int_equal(fake.jobs[0].flags, 0);
	assert_int_equal(fake.jobs[1].flags, ASH_SUBMIT_CHAIN);
	assert_int_equal(fake.jobs[2].flags, ASH_SUBMIT_CHAIN);
	for (i = 0; i < 3; i++) {
		uint32_t j;

		for (j = 0; j < fake.jobs[i].nr; j++, k++) {
			struct ash_fill_params p;

			memcpy(&p, fake.jobs[i].cmds[j].params, sizeof(p));
			assert_int_equal(p.pattern, k);
			assert_int_equal(fake.jobs[i].cmds[j].operands[0].offset,
					 (uint64_t)k * 16);
		}
	}
	/* An empty buffer submits nothing. */
	assert_int_equal(ash_cmdbuf_submit(cb, &fence), 0);
	assert_int_equal(fence, 0);
	assert_int_equal(fake.submits, 3);
	ash_cmdbuf_destroy(cb);
}

static void full_queue_waits_for_own_oldest_job(void **state)
{
	struct ash_buf *x = alloc(ASH_JOB_COST_MAX * 6);
	struct ash_cmdbuf *cb = cmdbuf();
	uint64_t fence = 99;
	int i;

	(void)state;
	fake.queue_limit = 2;
	for (i = 0; i < 5; i++)
		assert_int_equal(ash_op_fill(cb, x, i * ASH_JOB_COST_MAX,
					     ASH_JOB_COST_MAX, 0), 0);
	assert_int_equal(ash_cmdbuf_jobs(cb), 5);
	errno = ERRNO_MARK;
	fence = submit(cb);
	assert_int_equal(errno, ERRNO_MARK);
	assert_int_equal(fence, 5);
	assert_int_equal(fake.nr_jobs, 5);
	/* It waited, forever, for its jobs 1, 2 and 3 in turn. */
	assert_int_equal(fake.nr_waits, 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(fake.wait_fence[i], i + 1);
		assert_true(fake.wait_timeout[i] < 0);
	}

	/* A queue full of jobs that are not its own: -EAGAIN, nothing
	 * lost. */
	ash_cmdbuf_destroy(cb);
	cb = cmdbuf();
	fake.completed = 3;
	assert_int_equal(ash_op_fill(cb, x, 0, 4, 0), 0);
	assert_int_equal(ash_cmdbuf_submit(cb, &fence), -EAGAIN);
	assert_int_equal(fence, 0);
	assert_int_equal(ash_cmdbuf_commands(cb), 1);
	fake.completed = 5;
	assert_int_equal(ash_cmdbuf_submit(cb, &fence), 0);
	assert_int_equal(fence, 6);
	ash_cmdbuf_destroy(cb);
}

static void failed_submit_keeps_the_rest_recorded(void **state)
{
	struct ash_buf *x = alloc(ASH_JOB_COST_MAX * 5);
	struct ash_cmdbuf *cb = cmdbuf();
	uint64_t fence = 99;
	int i;

	(void)state;
	for (i = 0; i < 4; i++)
		assert_int_equal(ash_op_fill(cb, x, i * ASH_JOB_COST_MAX,
					     ASH_JOB_COST_MAX, (uint32_t)i), 0);
	fake.fail_submit = 3;
	fake.fail_errno = ENOENT;
	errno = ERRNO_MARK;
	assert_int_equal(ash_cmdbuf_submit(cb, &fence), -ENOENT);
	assert_int_equal(errno, ERRNO_MARK);
	assert_int_equal(fence, 2);	/* the last job that went in */
	assert_int_equal(ash_cmdbuf_jobs(cb), 2);
	assert_int_equal(ash_cmdbuf_commands(cb), 2);
	/* Resuming sends jobs 3 and 4, in order. */
	fence = submit(cb);
	assert_int_equal(fence, 4);
	for (i = 0; i < 4; i++) {
		struct ash_fill_params p;

		memcpy(&p, fake.jobs[i].cmds[0].params, sizeof(p));
		assert_int_equal(p.pattern, i);
	}
	ash_cmdbuf_destroy(cb);
}

/* runtime/cmdbuf.c's CMDBUF_FENCES_MAX */
#define FENCES_MAX	512

static void statuses_are_collected_to_keep_the_list_short(void **state)
{
	const int n = FENCES_MAX + 40;
	struct ash_buf *x = alloc(ASH_JOB_COST_MAX * (uint64_t)(n + 1));
	struct ash_cmdbuf *cb = cmdbuf();
	uint64_t fence;
	int i;

	(void)state;
	for (i = 0; i < n; i++)
		assert_int_equal(ash_op_fill(cb, x, i * ASH_JOB_COST_MAX,
					     ASH_JOB_COST_MAX, 0), 0);
	fake.status[7] = -EIO;
	fence = submit(cb);
	assert_int_equal(fence, n);
	/* Never more than FENCES_MAX outstanding. */
	assert_int_equal(fake.nr_waits, n - FENCES_MAX + 1);
	for (i = 0; i < fake.nr_waits; i++)
		assert_int_equal(fake.wait_fence[i], i + 1);
	/* The last job succeeded; an earlier one did not. */
	assert_int_equal(ash_wait(ctx, fence, -1), 0);
	assert_int_equal(ash_cmdbuf_wait(cb, -1), -EIO);
	assert_int_equal(ash_cmdbuf_wait(cb, -1), 0);
	ash_cmdbuf_destroy(cb);
}

static void wait_reports_job_status_and_timeouts(void **state)
{
	struct ash_buf *x = alloc(4096);
	struct ash_cmdbuf *cb = cmdbuf();
	uint64_t f1, f2, f3;

	(void)state;
	assert_int_equal(ash_fill(ctx, x, 0, 4, 0, &f1), 0);
	assert_int_equal(ash_fill(ctx, x, 0, 4, 0, &f2), 0);
	assert_int_equal(f2, f1 + 1);
	fake.status[f2] = -EIO;
	fake.manual = 1;
	errno = ERRNO_MARK;
	assert_int_equal(ash_wait(ctx, f1, 0), -ETIMEDOUT);
	assert_int_equal(ash_wait(ctx, f2, 1000), -ETIMEDOUT);
	assert_int_equal(ash_wait(ctx, f2 + 1, -1), -EINVAL);
	assert_int_equal(ash_wait(NULL, f1, -1), -EINVAL);
	fake.completed = f2;
	assert_int_equal(ash_wait(ctx, f1, 0), 0);
	assert_int_equal(ash_wait(ctx, f2, 0), -EIO);
	fake.status[f1] = -E2BIG;	/* the engine's budget refused it */
	assert_int_equal(ash_wait(ctx, f1, 0), -E2BIG);
	assert_int_equal(errno, ERRNO_MARK);

	/* A command buffer's wait: the timeout leaves its jobs pending. */
	assert_int_equal(ash_op_fill(cb, x, 0, 4, 0), 0);
	assert_int_equal(ash_op_fill(cb, x, 4, 4, 0), 0);
	f3 = submit(cb);
	fake.status[f3] = -EINVAL;
	assert_int_equal(ash_cmdbuf_wait(cb, 0), -ETIMEDOUT);
	fake.completed = f3;
	assert_int_equal(ash_cmdbuf_wait(cb, 0), -EINVAL);
	assert_int_equal(ash_cmdbuf_wait(cb, 0), 0);
	assert_int_equal(errno, ERRNO_MARK);
	ash_cmdbuf_destroy(cb);
}

static void interrupted_wait_retries_with_what_is_left(void **state)
{
	struct ash_buf *x = alloc(4096);
	uint64_t fence;
	int i;

	(void)state;
	assert_int_equal(ash_fill(ctx, x, 0, 4, 0, &fence), 0);

	/* A second, cut twice by signals 20 ms in. */
	fake.wait_eintr = 2;
	fake.eintr_sleep_ms = 20;
	errno = ERRNO_MARK;
	assert_int_equal(ash_wait(ctx, fence, 1000000000), 0);
	assert_int_equal(errno, ERRNO_MARK);
	assert_int_equal(fake.nr_waits, 3);
	assert_int_equal(fake.wait_timeout[0], 1000000000);
	for (i = 1; i < 3; i++) {
		assert_true(fake.wait_timeout[i] <
			    fake.wait_timeout[i - 1] - 15000000);
		assert_true(fake.wait_timeout[i] > 0);
	}

	/* Forever stays forever, a poll stays a poll. */
	fake.nr_waits = 0;
	fake.wait_eintr = 2;
	fake.eintr_sleep_ms = 1;
	assert_int_equal(ash_wait(ctx, fence, -1), 0);
	assert_int_equal(fake.nr_waits, 3);
	for (i = 0; i < 3; i++)
		assert_true(fake.wait_timeout[i] < 0);
	fake.nr_waits = 0;
	fake.wait_eintr = 1;
	assert_int_equal(ash_wait(ctx, fence, 0), 0);
	assert_int_equal(fake.wait_timeout[1], 0);

	/* The signal came after the time ran out: one last look, no
	 * sleep, then -ETIMEDOUT. */
	assert_int_equal(ash_fill(ctx, x, 0, 4, 0, &fence), 0);
	fake.manual = 1;
	fake.nr_waits = 0;
	fake.wait_eintr = 1;
	fake.eintr_sleep_ms = 20;
	assert_int_equal(ash_wait(ctx, fence, 5000000), -ETIMEDOUT);
	assert_int_equal(fake.nr_waits, 2);
	assert_int_equal(fake.wait_timeout[1], 0);
}

static void tensor_ref_of_model_tensor(void **state)
{
	struct ash_buf *x = alloc(1 << 16);
	struct ash_tensor t = { "w", ASH_DTYPE_BF16, 3, { 2, 3, 40 }, x, 64,
				2 * 3 * 40 * 2 };
	struct ash_tensor_ref r;

	(void)state;
	assert_int_equal(ash_tensor_ref_of(&t, &r), 0);
	assert_ptr_equal(r.buf, x);
	assert_int_equal(r.offset, 64);
	assert_int_equal(r.dtype, ASH_DTYPE_BF16);
	assert_int_equal(r.rows, 6);
	assert_int_equal(r.cols, 40);
	assert_int_equal(r.ld, 0);
	t.ndim = 1;
	assert_int_equal(ash_tensor_ref_of(&t, &r), 0);
	assert_int_equal(r.rows, 1);
	assert_int_equal(r.cols, 2);
	t.ndim = 2;
	t.shape[0] = 1ULL << 32;
	assert_int_equal(ash_tensor_ref_of(&t, &r), -EINVAL);
	t.shape[0] = 0;
	assert_int_equal(ash_tensor_ref_of(&t, &r), -EINVAL);
	t.ndim = 0;
	assert_int_equal(ash_tensor_ref_of(&t, &r), -EINVAL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(copy_is_one_command_with_exact_operands),
		T(fill_records_pattern),
		T(bad_ranges_refused_before_any_syscall),
		T(long_copy_is_cut_into_bounded_jobs),
		T(gemm_operands_follow_ld_and_transposes),
		T(gemm_bad_shapes_record_nothing),
		T(big_gemm_is_cut_into_row_blocks),
		T(gemm_with_long_rows_cuts_columns_and_k),
		T(quantized_gemm_cuts_whole_blocks),
		T(eltwise_ops_record_counts_and_allow_in_place),
		T(bert_and_decoding_ops_record),
		T(attention_cut_by_query_tokens),
		T(long_eltwise_is_cut_into_element_blocks),
		T(row_ops_record_shapes),
		T(long_row_op_cuts_whole_rows),
		T(rope_and_embedding_record_params),
		T(long_rope_advances_positions),
		T(more_than_max_commands_go_in_several_jobs_in_order),
		T(full_queue_waits_for_own_oldest_job),
		T(failed_submit_keeps_the_rest_recorded),
		T(statuses_are_collected_to_keep_the_list_short),
		T(wait_reports_job_status_and_timeouts),
		T(interrupted_wait_retries_with_what_is_left),
		T(tensor_ref_of_model_tensor),
	};

	return cmocka_run_group_tests_name("exec", tests, NULL, NULL);
}
