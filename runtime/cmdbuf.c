/* SPDX-License-Identifier: MIT */
/*
 * Command buffers: ops recorded as struct ash_command, tiled and cut into
 * jobs of bounded cost, submitted in order.
 *
 * Cost comes from the op table (runtime/ops/optable.h), the same code the
 * engine prices and checks jobs with: every recorded command is checked by
 * ash_optable_check() and costs what it says.  Each op is tiled with the
 * table's rules so that a command costs at most ASH_JOB_COST_MAX (an op
 * whose smallest piece -- a row of a row op, one token of RoPE, one id of an
 * embedding -- costs more is refused with -E2BIG, as the engine would
 * refuse its job), and a job is closed when the next command would take it
 * past ASH_JOB_COST_MAX or past ASH_JOB_MAX_COMMANDS commands.  The engine's
 * budget is never below ASH_JOB_COST_MAX, so it never refuses a job built
 * here.
 *
 * Every op checks all its arguments before it records anything, so the only
 * failure after the first command is recorded is -ENOMEM, and that rolls
 * the buffer back to where the op started.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"
#include "ops/optable.h"

/* Submitted jobs whose status a command buffer has not collected yet, at
 * most: it waits for its oldest beyond this many. */
#define CMDBUF_FENCES_MAX	512

/**
 * struct ash_cmdbuf - recorded commands and the jobs they form
 * @ctx: the context every operand's buffer must belong to.
 * @cmds: recorded commands, not yet submitted, in order.
 * @nr_cmds: entries used in @cmds.
 * @cap_cmds: entries allocated.
 * @job_start: index in @cmds of each job's first command.
 * @nr_jobs: entries used in @job_start.
 * @cap_jobs: entries allocated.
 * @job_cost: cost of the last job so far.
 * @fences: jobs submitted whose status has not been collected, oldest
 *	first, from @fence_head to @nr_fences.
 * @fence_head: first uncollected entry of @fences.
 * @nr_fences: entries used in @fences.
 * @cap_fences: entries allocated.
 * @error: the first failed status collected, 0 if none.
 */
struct ash_cmdbuf {
	struct ash_ctx *ctx;
	struct ash_command *cmds;
	size_t nr_cmds, cap_cmds;
	size_t *job_start;
	size_t nr_jobs, cap_jobs;
	uint64_t job_cost;
	uint64_t *fences;
	size_t fence_head, nr_fences, cap_fences;
	int32_t error;
};

/* Where an op started recording, to roll back to on -ENOMEM. */
struct mark {
	size_t nr_cmds, nr_jobs;
	uint64_t job_cost;
};

static struct mark mark_of(const struct ash_cmdbuf *cb)
{
	struct mark m = { cb->nr_cmds, cb->nr_jobs, cb->job_cost };

	return m;
}

static void rollback(struct ash_cmdbuf *cb, const struct mark *m)
{
	cb->nr_cmds = m->nr_cmds;
	cb->nr_jobs = m->nr_jobs;
	cb->job_cost = m->job_cost;
}

/* Makes room for @n more entries of @size bytes at *@arr; 0 or -ENOMEM. */
static int grow(void **arr, size_t *cap, size_t used, size_t n, size_t size)
{
	size_t want, cap2;
	void *p;

	if (n > SIZE_MAX - used)
		return -ENOMEM;
	want = used + n;
	if (want <= *cap)
		return 0;
	cap2 = *cap ? *cap : 16;
	while (cap2 < want) {
		if (cap2 > SIZE_MAX / 2)
			return -ENOMEM;
		cap2 *= 2;
	}
	if (cap2 > SIZE_MAX / size)
		return -ENOMEM;
	p = realloc(*arr, cap2 * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = cap2;
	return 0;
}

/*
 * Appends @cmd, checked and priced by the op table, opening a new job when
 * the last one is full by count or by cost.  A command the table refuses
 * is this file's bug: -EINVAL, so that it never reaches the engine.
 */
static int push_cmd(struct ash_cmdbuf *cb, const struct ash_command *cmd)
{
	struct ash_op_args args;
	uint64_t cost;
	int new_job;

	if (ash_optable_check(cmd, &args) || args.cost > ASH_JOB_COST_MAX)
		return -EINVAL;
	cost = args.cost;
	new_job = !cb->nr_jobs ||
		  cb->nr_cmds - cb->job_start[cb->nr_jobs - 1] >=
		  ASH_JOB_MAX_COMMANDS ||
		  cost > ASH_JOB_COST_MAX - cb->job_cost;

	if (grow((void **)&cb->cmds, &cb->cap_cmds, cb->nr_cmds, 1,
		 sizeof(*cb->cmds)))
		return -ENOMEM;
	if (new_job) {
		if (grow((void **)&cb->job_start, &cb->cap_jobs, cb->nr_jobs,
			 1, sizeof(*cb->job_start)))
			return -ENOMEM;
		cb->job_start[cb->nr_jobs++] = cb->nr_cmds;
		cb->job_cost = 0;
	}
	cb->cmds[cb->nr_cmds++] = *cmd;
	cb->job_cost += cost;
	return 0;
}

static void cmd_init(struct ash_command *cmd, uint32_t opcode,
		     const void *params, uint32_t size)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->opcode = opcode;
	cmd->params_size = size;
	if (size)
		memcpy(cmd->params, params, size);
}

static void cmd_operand(struct ash_command *cmd, const struct ash_buf *buf,
			uint32_t flags, uint64_t offset, uint64_t length)
{
	struct ash_operand *op = &cmd->operands[cmd->nr_operands++];

	op->handle = buf->handle;
	op->flags = flags;
	op->offset = offset;
	op->length = length;
}

/* [off, off + len) is a non-empty range inside @buf, a buffer of @ctx. */
static int range_ok(const struct ash_ctx *ctx, const struct ash_buf *buf,
		    uint64_t off, uint64_t len)
{
	return buf && buf->ctx == ctx && len && off <= buf->size &&
	       len <= buf->size - off;
}

static int overlap(const struct ash_buf *b1, uint64_t o1, uint64_t l1,
		   const struct ash_buf *b2, uint64_t o2, uint64_t l2)
{
	return b1 == b2 && o1 < o2 + l2 && o2 < o1 + l1;
}

/* A checked struct ash_tensor_ref: the byte range it spans.  Elements
 * come in blocks of bs elements, bb bytes: one element of es bytes for
 * plain types, 32 for the quantized ones. */
struct tref {
	const struct ash_buf *buf;
	uint64_t off, len;	/* bytes */
	uint32_t es;		/* element size, bytes (plain types) */
	uint32_t bs, bb;	/* block: elements, bytes */
	uint32_t rows, cols, ld;
	uint64_t count;		/* rows * cols */
	int dense;
};

/* Masks of dtypes: plain ones by value, the quantized ones the ops take
 * (Q8_0 and Q4_0, whose values are past 32) by one bit. */
#define DT(x)		(1U << (x))
#define DT_FLOAT	(DT(ASH_DTYPE_F32) | DT(ASH_DTYPE_F16) | \
			 DT(ASH_DTYPE_BF16))
#define DT_QUANT	(1ULL << 32)

static int dtype_quantized(int dtype)
{
	return dtype == ASH_DTYPE_Q8_0 || dtype == ASH_DTYPE_Q4_0;
}

static uint32_t op_dtype(int dtype)
{
	switch (dtype) {
	case ASH_DTYPE_F16:
		return ASH_OP_F16;
	case ASH_DTYPE_BF16:
		return ASH_OP_BF16;
	case ASH_DTYPE_Q8_0:
		return ASH_OP_Q8_0;
	case ASH_DTYPE_Q4_0:
		return ASH_OP_Q4_0;
	}
	return ASH_OP_F32;	/* and U32: 4-byte elements */
}

/* Checks @ref against the buffer's context, @dtypes (a DT() mask) and the
 * buffer's size; fills @t.  Quantized matrices have rows of whole blocks. */
static int ref_check(const struct ash_cmdbuf *cb,
		     const struct ash_tensor_ref *ref, uint64_t dtypes,
		     struct tref *t)
{
	uint64_t span;

	if (!ref || !ref->rows || !ref->cols)
		return -EINVAL;
	if (dtype_quantized(ref->dtype) ? !(dtypes & DT_QUANT) :
	    ref->dtype < 0 || ref->dtype >= 32 || !(dtypes & DT(ref->dtype)))
		return -EINVAL;
	t->buf = ref->buf;
	t->rows = ref->rows;
	t->cols = ref->cols;
	t->ld = ref->ld ? ref->ld : ref->cols;
	if (dtype_quantized(ref->dtype)) {
		t->bs = ASH_OP_QBLOCK;
		t->bb = (uint32_t)ash_op_bytes(op_dtype(ref->dtype),
					       ASH_OP_QBLOCK);
		t->es = 0;
		if (t->cols % t->bs || t->ld % t->bs || ref->offset % 2)
			return -EINVAL;
	} else {
		t->bs = 1;
		t->es = t->bb = ref->dtype == ASH_DTYPE_U32 ? 4 :
			(uint32_t)ash_op_bytes(op_dtype(ref->dtype), 1);
		if (ref->offset % t->es)
			return -EINVAL;
	}
	if (t->ld < t->cols)
		return -EINVAL;
	/* (2^32-1) * (2^32-1) + 2^32-1 fits 64 bits; times bb may not. */
	span = (uint64_t)(t->rows - 1) * t->ld + t->cols;
	if (__builtin_mul_overflow(span / t->bs, t->bb, &t->len))
		return -EINVAL;
	t->off = ref->offset;
	if (!range_ok(cb->ctx, t->buf, t->off, t->len))
		return -EINVAL;
	t->count = (uint64_t)t->rows * t->cols;
	t->dense = t->rows == 1 || t->ld == t->cols;
	return 0;
}

/* A dense f32 tensor. */
static int ref_check_f32(const struct ash_cmdbuf *cb,
			 const struct ash_tensor_ref *ref, struct tref *t)
{
	int ret = ref_check(cb, ref, DT(ASH_DTYPE_F32), t);

	return ret ? ret : t->dense ? 0 : -EINVAL;
}

static int tref_overlap(const struct tref *a, const struct tref *b)
{
	return overlap(a->buf, a->off, a->len, b->buf, b->off, b->len);
}

/* An output may be exactly an input (in place), or apart from it. */
static int inplace_or_apart(const struct tref *out, const struct tref *in)
{
	return !tref_overlap(out, in) ||
	       (out->off == in->off && out->len == in->len);
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Items per tile when each costs @per and a tile also @fixed: 0 if not
 * even one fits a job. */
static uint64_t per_tile(uint64_t per, uint64_t fixed)
{
	return ash_per_tile(per, fixed, ASH_JOB_COST_MAX);
}

int ash_cmdbuf_create(struct ash_ctx *ctx, struct ash_cmdbuf **cbp)
{
	int saved_errno = errno;
	struct ash_cmdbuf *cb;

	if (!ctx || !cbp)
		return -EINVAL;
	cb = calloc(1, sizeof(*cb));
	if (!cb) {
		errno = saved_errno;
		return -ENOMEM;
	}
	cb->ctx = ctx;
	*cbp = cb;
	return 0;
}

void ash_cmdbuf_destroy(struct ash_cmdbuf *cb)
{
	if (!cb)
		return;
	free(cb->cmds);
	free(cb->job_start);
	free(cb->fences);
	free(cb);
}

void ash_cmdbuf_reset(struct ash_cmdbuf *cb)
{
	if (!cb)
		return;
	cb->nr_cmds = 0;
	cb->nr_jobs = 0;
	cb->job_cost = 0;
}

uint64_t ash_cmdbuf_commands(const struct ash_cmdbuf *cb)
{
	return cb ? cb->nr_cmds : 0;
}

uint64_t ash_cmdbuf_jobs(const struct ash_cmdbuf *cb)
{
	return cb ? cb->nr_jobs : 0;
}

/* Waits for the oldest job whose status is not collected and collects it. */
static int collect_oldest(struct ash_cmdbuf *cb)
{
	int32_t status;
	int ret;

	ret = ash__wait(cb->ctx, cb->fences[cb->fence_head], -1, &status);
	if (ret)
		return ret;
	if (status && !cb->error)
		cb->error = status;
	cb->fence_head++;
	return 0;
}

static int push_fence(struct ash_cmdbuf *cb, uint64_t fence)
{
	if (cb->fence_head && cb->nr_fences == cb->cap_fences) {
		memmove(cb->fences, cb->fences + cb->fence_head,
			(cb->nr_fences - cb->fence_head) * sizeof(*cb->fences));
		cb->nr_fences -= cb->fence_head;
		cb->fence_head = 0;
	}
	if (grow((void **)&cb->fences, &cb->cap_fences, cb->nr_fences, 1,
		 sizeof(*cb->fences)))
		return -ENOMEM;
	cb->fences[cb->nr_fences++] = fence;
	return 0;
}

/* Forgets the first @jobs jobs, which were submitted. */
static void drop_jobs(struct ash_cmdbuf *cb, size_t jobs)
{
	size_t first, j;

	if (!jobs)
		return;
	if (jobs == cb->nr_jobs) {
		ash_cmdbuf_reset(cb);
		return;
	}
	first = cb->job_start[jobs];
	memmove(cb->cmds, cb->cmds + first,
		(cb->nr_cmds - first) * sizeof(*cb->cmds));
	cb->nr_cmds -= first;
	for (j = jobs; j < cb->nr_jobs; j++)
		cb->job_start[j - jobs] = cb->job_start[j] - first;
	cb->nr_jobs -= jobs;
}

int ash_cmdbuf_submit(struct ash_cmdbuf *cb, uint64_t *fence)
{
	int saved_errno = errno;
	uint64_t last = 0, f;
	size_t j = 0;
	int ret = 0;

	if (!cb || !fence)
		return -EINVAL;
	while (j < cb->nr_jobs) {
		size_t start = cb->job_start[j];
		size_t end = j + 1 < cb->nr_jobs ? cb->job_start[j + 1] :
			     cb->nr_cmds;

		/* Room for the fence first: a job submitted is not taken
		 * back, so its fence must have a place to go. */
		ret = push_fence(cb, 0);
		if (ret)
			break;
		cb->nr_fences--;
		/* Later jobs run only if the earlier ones succeeded, so
		 * that the last fence reports a failure of any of them. */
		ret = ash__submit(cb->ctx, cb->cmds + start,
				  (uint32_t)(end - start),
				  j ? ASH_SUBMIT_CHAIN : 0, &f);
		if (ret == -EAGAIN && cb->fence_head < cb->nr_fences) {
			/* The queue is full: make room by waiting for our
			 * own oldest job. */
			ret = collect_oldest(cb);
			if (ret)
				break;
			continue;
		}
		if (ret)
			break;
		cb->fences[cb->nr_fences++] = f;
		last = f;
		j++;
		/* The kernel answers any wait exactly, however late; collect
		 * now and then all the same, so that our list stays short. */
		if (cb->nr_fences - cb->fence_head >= CMDBUF_FENCES_MAX) {
			ret = collect_oldest(cb);
			if (ret)
				break;
		}
	}
	drop_jobs(cb, j);
	*fence = last;
	errno = saved_errno;
	return ret;
}

int ash_cmdbuf_wait(struct ash_cmdbuf *cb, int64_t timeout_ns)
{
	int saved_errno = errno;
	int32_t status, error;
	size_t i;
	int ret;

	if (!cb)
		return -EINVAL;
	if (cb->fence_head < cb->nr_fences) {
		/* Jobs of a context complete in order: once the last is
		 * done, all are, and their statuses only need reading. */
		ret = ash__wait(cb->ctx, cb->fences[cb->nr_fences - 1],
				timeout_ns, &status);
		if (ret) {
			errno = saved_errno;
			return ret;
		}
		for (i = cb->fence_head; i < cb->nr_fences; i++) {
			if (i + 1 < cb->nr_fences) {
				ret = ash__wait(cb->ctx, cb->fences[i], 0,
						&status);
				if (ret)
					status = ret;
			}
			if (status && !cb->error)
				cb->error = status;
		}
		cb->fence_head = cb->nr_fences = 0;
	}
	error = cb->error;
	cb->error = 0;
	errno = saved_errno;
	return error;
}

int ash_tensor_ref_of(const struct ash_tensor *t, struct ash_tensor_ref *ref)
{
	uint64_t rows = 1;
	int i;

	if (!t || !ref || t->ndim < 1 || t->ndim > 8)
		return -EINVAL;
	for (i = 0; i < t->ndim - 1; i++)
		if (__builtin_mul_overflow(rows, t->shape[i], &rows))
			return -EINVAL;
	if (!rows || rows > UINT32_MAX || !t->shape[t->ndim - 1] ||
	    t->shape[t->ndim - 1] > UINT32_MAX)
		return -EINVAL;
	memset(ref, 0, sizeof(*ref));
	ref->buf = t->buf;
	ref->offset = t->offset;
	ref->dtype = t->dtype;
	ref->rows = (uint32_t)rows;
	ref->cols = (uint32_t)t->shape[t->ndim - 1];
	return 0;
}

/* Copy and fill */

static int record_copy(struct ash_cmdbuf *cb, struct ash_buf *dst,
		       uint64_t dst_off, struct ash_buf *src, uint64_t src_off,
		       uint64_t len)
{
	const uint64_t chunk = ASH_JOB_COST_MAX / 2;	/* read + write */
	struct mark m = mark_of(cb);
	struct ash_command cmd;
	uint64_t done, n;
	int ret;

	if (!range_ok(cb->ctx, dst, dst_off, len) ||
	    !range_ok(cb->ctx, src, src_off, len) ||
	    overlap(dst, dst_off, len, src, src_off, len))
		return -EINVAL;
	for (done = 0; done < len; done += n) {
		n = min_u64(chunk, len - done);
		cmd_init(&cmd, ASH_OP_COPY, NULL, 0);
		cmd_operand(&cmd, dst, ASH_OPERAND_WRITE, dst_off + done, n);
		cmd_operand(&cmd, src, ASH_OPERAND_READ, src_off + done, n);
		ret = push_cmd(cb, &cmd);
		if (ret) {
			rollback(cb, &m);
			return ret;
		}
	}
	return 0;
}

int ash_op_copy(struct ash_cmdbuf *cb, struct ash_buf *dst, uint64_t dst_off,
		struct ash_buf *src, uint64_t src_off, uint64_t len)
{
	int saved_errno = errno;
	int ret;

	if (!cb)
		return -EINVAL;
	ret = record_copy(cb, dst, dst_off, src, src_off, len);
	errno = saved_errno;
	return ret;
}

static int record_fill(struct ash_cmdbuf *cb, struct ash_buf *dst,
		       uint64_t off, uint64_t len, uint32_t pattern)
{
	const uint64_t chunk = ASH_JOB_COST_MAX & ~3ULL;
	struct ash_fill_params p = { .pattern = pattern };
	struct mark m = mark_of(cb);
	struct ash_command cmd;
	uint64_t done, n;
	int ret;

	if (!range_ok(cb->ctx, dst, off, len) || off % 4 || len % 4)
		return -EINVAL;
	for (done = 0; done < len; done += n) {
		n = min_u64(chunk, len - done);
		cmd_init(&cmd, ASH_OP_FILL, &p, sizeof(p));
		cmd_operand(&cmd, dst, ASH_OPERAND_WRITE, off + done, n);
		ret = push_cmd(cb, &cmd);
		if (ret) {
			rollback(cb, &m);
			return ret;
		}
	}
	return 0;
}

int ash_op_fill(struct ash_cmdbuf *cb, struct ash_buf *dst, uint64_t off,
		uint64_t len, uint32_t pattern)
{
	int saved_errno = errno;
	int ret;

	if (!cb)
		return -EINVAL;
	ret = record_fill(cb, dst, off, len, pattern);
	errno = saved_errno;
	return ret;
}

/* GEMM */

/* op(X)[r0 .. r0+nr) x [c0 .. c0+nc) of a matrix stored transposed or not:
 * offset and length of its span. */
static void sub_span(const struct tref *t, int trans, uint64_t r0,
		     uint64_t nr, uint64_t c0, uint64_t nc, uint64_t *off,
		     uint64_t *len)
{
	uint64_t sr = trans ? c0 : r0, sc = trans ? r0 : c0;
	uint64_t rows = trans ? nc : nr, cols = trans ? nr : nc;

	/* Quantized: columns and ld are whole blocks, so is the start. */
	*off = t->off + (sr * t->ld + sc) / t->bs * t->bb;
	*len = ((rows - 1) * t->ld + cols) / t->bs * t->bb;
}

static int record_gemm(struct ash_cmdbuf *cb, const struct ash_tensor_ref *cr,
		       const struct ash_tensor_ref *ar,
		       const struct ash_tensor_ref *br, unsigned int flags,
		       float alpha, float beta)
{
	int ta = !!(flags & ASH_GEMM_TRANS_A), tb = !!(flags & ASH_GEMM_TRANS_B);
	uint64_t mt, nt, kt, i0, j0, p0, off, len;
	struct mark m = mark_of(cb);
	struct ash_gemm_params p;
	struct ash_command cmd;
	struct tref c, a, b;
	uint32_t M, N, K;
	int ret, mixed;

	if (flags & ~(ASH_GEMM_TRANS_A | ASH_GEMM_TRANS_B) ||
	    ref_check(cb, cr, DT(ASH_DTYPE_F32), &c) ||
	    ref_check(cb, ar, DT_FLOAT, &a) ||
	    ref_check(cb, br, DT_FLOAT | DT_QUANT, &b))
		return -EINVAL;
	/* Weights against f32 activations: B stored n x k, and the command
	 * says A is f32 (see ash_gemm_params). */
	mixed = ar->dtype != br->dtype;
	if (mixed && (ar->dtype != ASH_DTYPE_F32 || flags != ASH_GEMM_TRANS_B))
		return -EINVAL;
	if (mixed)
		flags |= ASH_GEMM_A_F32;
	M = c.rows;
	N = c.cols;
	K = ta ? a.rows : a.cols;
	if ((ta ? a.cols : a.rows) != M || (tb ? b.rows : b.cols) != N ||
	    (tb ? b.cols : b.rows) != K)
		return -EINVAL;
	/* The engine indexes with int, as BLAS does. */
	if (tref_overlap(&c, &a) || tref_overlap(&c, &b) ||
	    c.ld > INT32_MAX || a.ld > INT32_MAX || b.ld > INT32_MAX)
		return -EINVAL;

	ash_gemm_tiles(M, N, K, a.es, ASH_JOB_COST_MAX, &mt, &nt, &kt);
	/* Blocks of k of quantized B are whole blocks of its rows. */
	if (b.bs > 1 && kt < K)
		kt = kt < ASH_OP_QBLOCK ? ASH_OP_QBLOCK :
		     kt / ASH_OP_QBLOCK * ASH_OP_QBLOCK;
	for (i0 = 0; i0 < M; i0 += mt) {
		uint64_t rm = min_u64(mt, M - i0);

		for (j0 = 0; j0 < N; j0 += nt) {
			uint64_t rn = min_u64(nt, N - j0);

			for (p0 = 0; p0 < K; p0 += kt) {
				uint64_t rk = min_u64(kt, K - p0);
				/* Later blocks of k add to what the first
				 * left in C. */
				float bt = p0 ? 1.0f : beta;

				memset(&p, 0, sizeof(p));
				p.m = (uint32_t)rm;
				p.n = (uint32_t)rn;
				p.k = (uint32_t)rk;
				p.dtype = op_dtype(br->dtype);
				p.lda = a.ld;
				p.ldb = b.ld;
				p.ldc = c.ld;
				p.flags = flags;
				p.alpha = alpha;
				p.beta = bt;
				cmd_init(&cmd, ASH_OP_GEMM, &p, sizeof(p));
				sub_span(&c, 0, i0, rm, j0, rn, &off, &len);
				cmd_operand(&cmd, c.buf, ASH_OPERAND_WRITE |
					    (bt != 0.0f ? ASH_OPERAND_READ : 0),
					    off, len);
				sub_span(&a, ta, i0, rm, p0, rk, &off, &len);
				cmd_operand(&cmd, a.buf, ASH_OPERAND_READ,
					    off, len);
				sub_span(&b, tb, p0, rk, j0, rn, &off, &len);
				cmd_operand(&cmd, b.buf, ASH_OPERAND_READ,
					    off, len);
				ret = push_cmd(cb, &cmd);
				if (ret) {
					rollback(cb, &m);
					return ret;
				}
			}
		}
	}
	return 0;
}

int ash_op_gemm(struct ash_cmdbuf *cb, const struct ash_tensor_ref *c,
		const struct ash_tensor_ref *a, const struct ash_tensor_ref *b,
		unsigned int flags, float alpha, float beta)
{
	int saved_errno = errno;
	int ret;

	if (!cb)
		return -EINVAL;
	ret = record_gemm(cb, c, a, b, flags, alpha, beta);
	errno = saved_errno;
	return ret;
}

/* Element-wise ops: flat f32 ranges cut into blocks of elements. */

static int record_eltwise(struct ash_cmdbuf *cb, uint32_t opcode,
			  uint64_t flops, const struct ash_tensor_ref *outr,
			  const struct ash_tensor_ref *ar,
			  const struct ash_tensor_ref *br)
{
	uint64_t per = (br ? 12 : 8) + flops, chunk, done, n;
	struct ash_eltwise_params p;
	struct mark m = mark_of(cb);
	struct ash_command cmd;
	struct tref out, a, b;
	int ret;

	if (ref_check_f32(cb, outr, &out) || ref_check_f32(cb, ar, &a) ||
	    (br && ref_check_f32(cb, br, &b)))
		return -EINVAL;
	if (a.count != out.count || !inplace_or_apart(&out, &a) ||
	    (br && (b.count != out.count || !inplace_or_apart(&out, &b))))
		return -EINVAL;
	chunk = per_tile(per, 0);
	for (done = 0; done < out.count; done += n) {
		n = min_u64(chunk, out.count - done);
		memset(&p, 0, sizeof(p));
		p.count = n;
		cmd_init(&cmd, opcode, &p, sizeof(p));
		cmd_operand(&cmd, out.buf, ASH_OPERAND_WRITE,
			    out.off + done * 4, n * 4);
		cmd_operand(&cmd, a.buf, ASH_OPERAND_READ, a.off + done * 4,
			    n * 4);
		if (br)
			cmd_operand(&cmd, b.buf, ASH_OPERAND_READ,
				    b.off + done * 4, n * 4);
		ret = push_cmd(cb, &cmd);
		if (ret) {
			rollback(cb, &m);
			return ret;
		}
	}
	return 0;
}

static int eltwise(struct ash_cmdbuf *cb, uint32_t opcode, uint64_t flops,
		   const struct ash_tensor_ref *out,
		   const struct ash_tensor_ref *a,
		   const struct ash_tensor_ref *b)
{
	int saved_errno = errno;
	int ret;

	if (!cb)
		return -EINVAL;
	ret = record_eltwise(cb, opcode, flops, out, a, b);
	errno = saved_errno;
	return ret;
}

int ash_op_add(struct ash_cmdbuf *cb, const struct ash_tensor_ref *out,
	       const struct ash_tensor_ref *a, const struct ash_tensor_ref *b)
{
	return b ? eltwise(cb, ASH_OP_ADD, ASH_COST_ADD, out, a, b) : -EINVAL;
}

int ash_op_mul(struct ash_cmdbuf *cb, const struct ash_tensor_ref *out,
	       const struct ash_tensor_ref *a, const struct ash_tensor_ref *b)
{
	return b ? eltwise(cb, ASH_OP_MUL, ASH_COST_MUL, out, a, b) : -EINVAL;
}

int ash_op_silu(struct ash_cmdbuf *cb, const struct ash_tensor_ref *out,
		const struct ash_tensor_ref *in)
{
	return eltwise(cb, ASH_OP_SILU, ASH_COST_SILU, out, in, NULL);
}

int ash_op_gelu(struct ash_cmdbuf *cb, const struct ash_tensor_ref *out,
		const struct ash_tensor_ref *in)
{
	return eltwise(cb, ASH_OP_GELU, ASH_COST_GELU, out, in, NULL);
}

int ash_op_gelu_erf(struct ash_cmdbuf *cb, const struct ash_tensor_ref *out,
		    const struct ash_tensor_ref *in)
{
	return eltwise(cb, ASH_OP_GELU_ERF, ASH_COST_GELU_ERF, out, in, NULL);
}

/* Row ops: blocks of whole rows. */

/*
 * @outr gets one row per row of @inr (ARGMAX: one u32 per row, rows x 1),
 * in tiles of whole rows; @vec[0..@nvec) are row vectors read once per
 * tile (RMSNORM's weight, LAYERNORM's weight and bias).
 */
static int record_rows(struct ash_cmdbuf *cb, uint32_t opcode,
		       uint64_t flops, const struct ash_tensor_ref *outr,
		       const struct ash_tensor_ref *inr,
		       const struct ash_tensor_ref *const *vec, uint32_t nvec,
		       float eps)
{
	bool argmax = opcode == ASH_OP_ARGMAX;
	struct ash_rows_params p;
	struct mark m = mark_of(cb);
	struct ash_command cmd;
	struct tref out, in, v[2];
	uint64_t row_cost, fixed, rows, r0, nr, row_bytes, out_row;
	uint32_t i;
	int ret;

	if ((argmax ? ref_check(cb, outr, DT(ASH_DTYPE_U32), &out) ||
		      !out.dense : ref_check_f32(cb, outr, &out)) ||
	    ref_check_f32(cb, inr, &in))
		return -EINVAL;
	for (i = 0; i < nvec; i++)
		if (ref_check_f32(cb, vec[i], &v[i]) ||
		    v[i].count != in.cols || tref_overlap(&out, &v[i]))
			return -EINVAL;
	if (out.rows != in.rows || out.cols != (argmax ? 1 : in.cols) ||
	    (argmax ? tref_overlap(&out, &in) : !inplace_or_apart(&out, &in)) ||
	    !(eps >= 0.0f) || isinf(eps))
		return -EINVAL;
	row_bytes = (uint64_t)in.cols * 4;
	out_row = argmax ? 4 : row_bytes;
	row_cost = argmax ?
		   ash_cost_add(ash_cost_mul(in.cols, 4 + flops), 4) :
		   ash_cost_mul(in.cols, 8 + flops);
	fixed = row_bytes * nvec;
	rows = per_tile(row_cost, fixed);
	if (!rows)		/* a row is never cut */
		return -E2BIG;
	for (r0 = 0; r0 < in.rows; r0 += nr) {
		nr = min_u64(rows, in.rows - r0);
		memset(&p, 0, sizeof(p));
		p.rows = (uint32_t)nr;
		p.cols = in.cols;
		p.eps = eps;
		cmd_init(&cmd, opcode, &p, sizeof(p));
		cmd_operand(&cmd, out.buf, ASH_OPERAND_WRITE,
			    out.off + r0 * out_row, nr * out_row);
		cmd_operand(&cmd, in.buf, ASH_OPERAND_READ,
			    in.off + r0 * row_bytes, nr * row_bytes);
		for (i = 0; i < nvec; i++)
			cmd_operand(&cmd, v[i].buf, ASH_OPERAND_READ, v[i].off,
				    v[i].len);
		ret = push_cmd(cb, &cmd);
		if (ret) {
			rollback(cb, &m);
			return ret;
		}
	}
	return 0;
}

int ash_op_rmsnorm(struct ash_cmdbuf *cb, const struct ash_tensor_ref *out,
		   const struct ash_tensor_ref *in,
		   const struct ash_tensor_ref *weight, float eps)
{
	int saved_errno = errno;
	int ret;

	if (!cb || !weight)
		return -EINVAL;
	ret = record_rows(cb, ASH_OP_RMSNORM, ASH_COST_RMSNORM, out, in,
			  &weight, 1, eps);
	errno = saved_errno;
	return ret;
}

int ash_op_layernorm(struct ash_cmdbuf *cb, const struct ash_tensor_ref *out,
		     const struct ash_tensor_ref *in,
		     const struct ash_tensor_ref *weight,
		     const struct ash_tensor_ref *bias, float eps)
{
	const struct ash_tensor_ref *vec[2] = { weight, bias };
	int saved_errno = errno;
	int ret;

	if (!cb || !weight || !bias)
		return -EINVAL;
	ret = record_rows(cb, ASH_OP_LAYERNORM, ASH_COST_LAYERNORM, out, in,
			  vec, 2, eps);
	errno = saved_errno;
	return ret;
}

int ash_op_argmax(struct ash_cmdbuf *cb, const struct ash_tensor_ref *out,
		  const struct ash_tensor_ref *in)
{
	int saved_errno = errno;
	int ret;

	if (!cb)
		return -EINVAL;
	ret = record_rows(cb, ASH_OP_ARGMAX, ASH_COST_ARGMAX, out, in, NULL, 0,
			  0.0f);
	errno = saved_errno;
	return ret;
}

int ash_op_softmax(struct ash_cmdbuf *cb, const struct ash_tensor_ref *out,
		   const struct ash_tensor_ref *in)
{
	int saved_errno = errno;
	int ret;

	if (!cb)
		return -EINVAL;
	ret = record_rows(cb, ASH_OP_SOFTMAX, ASH_COST_SOFTMAX, out, in, NULL, 0,
			  0.0f);
	errno = saved_errno;
	return ret;
}

/*
 * Attention in tiles of whole query tokens: a tile of T tokens costs T
 * times a token's (per head, its q.k and p.v pairs and the k and v bytes
 * they read over every kv token; its q and out rows), as the op table
 * prices it.  Where one token costs more than a job (a long cache), each
 * token is cut into groups of heads instead.
 */
int ash_op_attention(struct ash_cmdbuf *cb, const struct ash_tensor_ref *outr,
		     const struct ash_tensor_ref *qr,
		     const struct ash_tensor_ref *kr,
		     const struct ash_tensor_ref *vr,
		     const struct ash_attention *attn)
{
	struct ash_attention_params p;
	int saved_errno = errno;
	struct mark m;
	struct ash_command cmd;
	struct tref out, q, k, v;
	uint64_t row_bytes, kv_bytes, per, tile, t0, nt;
	uint64_t head_cost, head_bytes, heads, h0, nh;
	int ret = -EINVAL;

	if (!cb || !attn || ref_check_f32(cb, outr, &out) ||
	    ref_check_f32(cb, qr, &q) || ref_check_f32(cb, kr, &k) ||
	    ref_check_f32(cb, vr, &v) || (attn->causal != 0 && attn->causal != 1))
		goto out;
	memset(&p, 0, sizeof(p));
	p.q_tokens = attn->q_tokens;
	p.kv_tokens = attn->kv_tokens;
	p.heads = attn->heads;
	p.kv_heads = attn->kv_heads;
	p.head_dim = attn->head_dim;
	p.q_pos0 = attn->q_pos0;
	p.flags = attn->causal ? ASH_ATTN_CAUSAL : 0;
	p.scale = attn->scale;
	if ((p.flags & ~ASH_ATTN_CAUSAL) || !p.q_tokens || !p.kv_tokens ||
	    !p.heads || !p.kv_heads || !p.head_dim || p.heads % p.kv_heads ||
	    !isfinite(p.scale) || !(p.scale > 0.0f) ||
	    ((p.flags & ASH_ATTN_CAUSAL) ?
	     (uint64_t)p.q_pos0 + p.q_tokens > p.kv_tokens : p.q_pos0))
		goto out;
	row_bytes = (uint64_t)p.heads * p.head_dim * 4;
	kv_bytes = (uint64_t)p.kv_tokens * p.kv_heads * p.head_dim * 4;
	if (out.count * 4 != (uint64_t)p.q_tokens * row_bytes ||
	    q.count * 4 != (uint64_t)p.q_tokens * row_bytes ||
	    k.len < kv_bytes || v.len < kv_bytes ||
	    tref_overlap(&out, &q) || tref_overlap(&out, &k) ||
	    tref_overlap(&out, &v))
		goto out;
	head_cost = ash_cost_mul(ash_cost_mul(p.kv_tokens, p.head_dim),
				 2 * ASH_COST_ATTENTION + 8);
	head_bytes = (uint64_t)p.head_dim * 4;
	per = ash_cost_add(ash_cost_mul(head_cost, p.heads), 2 * row_bytes);
	tile = per_tile(per, 0);
	heads = tile ? p.heads :
		per_tile(ash_cost_add(head_cost, 2 * head_bytes), 0);
	ret = -E2BIG;
	if (!heads)		/* a query head is never cut */
		goto out;
	if (!tile)		/* one token a command, its heads in groups */
		tile = 1;
	m = mark_of(cb);
	for (t0 = 0; t0 < p.q_tokens; t0 += nt) {
		nt = min_u64(tile, p.q_tokens - t0);
		for (h0 = 0; h0 < p.heads; h0 += nh) {
			struct ash_attention_params tp = p;
			uint64_t off = t0 * row_bytes + h0 * head_bytes;
			uint64_t len;

			nh = min_u64(heads, p.heads - h0);
			tp.q_tokens = (uint32_t)nt;
			if (p.flags & ASH_ATTN_CAUSAL)
				tp.q_pos0 = p.q_pos0 + (uint32_t)t0;
			if (nh < p.heads) {
				tp.head0 = (uint32_t)h0;
				tp.nr_heads = (uint32_t)nh;
			}
			len = nh < p.heads ? nh * head_bytes : nt * row_bytes;
			cmd_init(&cmd, ASH_OP_ATTENTION, &tp, sizeof(tp));
			cmd_operand(&cmd, out.buf, ASH_OPERAND_WRITE,
				    out.off + off, len);
			cmd_operand(&cmd, q.buf, ASH_OPERAND_READ,
				    q.off + off, len);
			cmd_operand(&cmd, k.buf, ASH_OPERAND_READ, k.off,
				    kv_bytes);
			cmd_operand(&cmd, v.buf, ASH_OPERAND_READ, v.off,
				    kv_bytes);
			ret = push_cmd(cb, &cmd);
			if (ret) {
				rollback(cb, &m);
				goto out;
			}
		}
	}
	ret = 0;
out:
	errno = saved_errno;
	return ret;
}

static int record_rope(struct ash_cmdbuf *cb, const struct ash_tensor_ref *outr,
		       const struct ash_tensor_ref *inr, uint32_t tokens,
		       uint32_t heads, uint32_t head_dim, uint32_t pos0,
		       float theta)
{
	struct ash_rope_params p;
	struct mark m = mark_of(cb);
	struct ash_command cmd;
	struct tref out, in;
	uint64_t tok_bytes, tok_cost, per, t0, nt;
	int ret;

	if (ref_check_f32(cb, outr, &out) || ref_check_f32(cb, inr, &in) ||
	    !tokens || !heads || !head_dim || head_dim % 2 ||
	    (uint64_t)pos0 + tokens - 1 > UINT32_MAX ||
	    !(theta > 0.0f) || isinf(theta))
		return -EINVAL;
	/* tokens * heads * head_dim < 2^96: check in two steps. */
	if (__builtin_mul_overflow((uint64_t)heads, head_dim, &tok_bytes) ||
	    in.count % tok_bytes || in.count / tok_bytes != tokens ||
	    out.count != in.count || !inplace_or_apart(&out, &in))
		return -EINVAL;
	tok_cost = tok_bytes * (8 + ASH_COST_ROPE);
	tok_bytes *= 4;
	per = per_tile(tok_cost, 0);
	if (!per)		/* nor is a token */
		return -E2BIG;
	for (t0 = 0; t0 < tokens; t0 += nt) {
		nt = min_u64(per, tokens - t0);
		memset(&p, 0, sizeof(p));
		p.tokens = (uint32_t)nt;
		p.heads = heads;
		p.head_dim = head_dim;
		p.pos0 = (uint32_t)(pos0 + t0);
		p.theta = theta;
		cmd_init(&cmd, ASH_OP_ROPE, &p, sizeof(p));
		cmd_operand(&cmd, out.buf, ASH_OPERAND_WRITE,
			    out.off + t0 * tok_bytes, nt * tok_bytes);
		cmd_operand(&cmd, in.buf, ASH_OPERAND_READ,
			    in.off + t0 * tok_bytes, nt * tok_bytes);
		ret = push_cmd(cb, &cmd);
		if (ret) {
			rollback(cb, &m);
			return ret;
		}
	}
	return 0;
}

int ash_op_rope(struct ash_cmdbuf *cb, const struct ash_tensor_ref *out,
		const struct ash_tensor_ref *in, uint32_t tokens,
		uint32_t heads, uint32_t head_dim, uint32_t pos0, float theta)
{
	int saved_errno = errno;
	int ret;

	if (!cb)
		return -EINVAL;
	ret = record_rope(cb, out, in, tokens, heads, head_dim, pos0, theta);
	errno = saved_errno;
	return ret;
}

static int record_embedding(struct ash_cmdbuf *cb,
			    const struct ash_tensor_ref *outr,
			    const struct ash_tensor_ref *tabler,
			    const struct ash_tensor_ref *idsr)
{
	struct ash_embedding_params p;
	struct mark m = mark_of(cb);
	struct ash_command cmd;
	struct tref out, table, ids;
	uint64_t row_bytes, per, i0, n;
	int ret;

	if (ref_check_f32(cb, outr, &out) ||
	    ref_check(cb, tabler, DT_FLOAT | DT_QUANT, &table) ||
	    !table.dense ||
	    ref_check(cb, idsr, DT(ASH_DTYPE_U32), &ids) || !ids.dense ||
	    ids.count > UINT32_MAX)
		return -EINVAL;
	/* out is nr_ids x dim; ids.count * cols fits: both < 2^32. */
	if (out.count != ids.count * table.cols ||
	    tref_overlap(&out, &table) || tref_overlap(&out, &ids))
		return -EINVAL;
	row_bytes = (uint64_t)table.cols * 4;	/* of out */
	/* An id read, a row read (counted as f32) and written. */
	per = per_tile(4 + 2 * row_bytes, 0);
	if (!per)		/* nor one id's row */
		return -E2BIG;
	for (i0 = 0; i0 < ids.count; i0 += n) {
		n = min_u64(per, ids.count - i0);
		memset(&p, 0, sizeof(p));
		p.nr_ids = (uint32_t)n;
		p.dim = table.cols;
		p.vocab = table.rows;
		p.dtype = op_dtype(tabler->dtype);
		cmd_init(&cmd, ASH_OP_EMBEDDING, &p, sizeof(p));
		cmd_operand(&cmd, out.buf, ASH_OPERAND_WRITE,
			    out.off + i0 * row_bytes, n * row_bytes);
		cmd_operand(&cmd, table.buf, ASH_OPERAND_READ, table.off,
			    table.len);
		cmd_operand(&cmd, ids.buf, ASH_OPERAND_READ, ids.off + i0 * 4,
			    n * 4);
		ret = push_cmd(cb, &cmd);
		if (ret) {
			rollback(cb, &m);
			return ret;
		}
	}
	return 0;
}

int ash_op_embedding(struct ash_cmdbuf *cb, const struct ash_tensor_ref *out,
		     const struct ash_tensor_ref *table,
		     const struct ash_tensor_ref *ids)
{
	int saved_errno = errno;
	int ret;

	if (!cb)
		return -EINVAL;
	ret = record_embedding(cb, out, table, ids);
	errno = saved_errno;
	return ret;
}
