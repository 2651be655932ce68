// SPDX-License-Identifier: GPL-2.0-only
/*
 * accelshare - jobs: submission, checking, fences and completion.
 *
 * A tenant submits a command buffer.  Every operand is looked up in the
 * context's own handle table, checked against the buffer's size and access
 * mode and against what the opcode may do with it, and translated to a
 * device address; the engine never sees a handle or a length the driver
 * did not check.  The job then waits in its context's queue until the
 * scheduler hands it to the engine (engine.c), and completes with the
 * engine's status.  Jobs of a context complete in submission order: the
 * scheduler takes a context's jobs oldest first and the engine runs one at
 * a time.
 */
#include <linux/ktime.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "accelshare_drv.h"

/**
 * struct ash_job - one submitted command buffer
 * @link: in its context's queue while queued.
 * @ctx: the submitter; the job holds a reference.
 * @fence: its fence in @ctx.
 * @id: unique on the device, for the engine.
 * @flags: ASH_SUBMIT_*.
 * @queued_ns: when it was queued.
 * @nr_bufs: entries in @bufs.
 * @bufs: the buffers its operands name, each with a reference.
 * @nr_commands: entries in @cmds.
 * @cmds: the commands, operands translated to device addresses.
 */
struct ash_job {
	struct list_head link;
	struct ash_context *ctx;
	u64 fence;
	u64 id;
	u32 flags;
	u64 queued_ns;
	u32 nr_bufs;
	struct ash_buffer **bufs;
	u32 nr_commands;
	struct ash_command cmds[];
};

/*
 * What each opcode may do with its operands: how many it takes and, for
 * each, the access it must ask for.  An output may also be read (GEMM's C
 * with beta != 0, an in-place op); an input is read only.
 */
#define ASH_IN	ASH_OPERAND_READ
#define ASH_OUT	ASH_OPERAND_WRITE
static const struct {
	u8 nr;
	u8 access[ASH_CMD_MAX_OPERANDS];
} ash_op_operands[ASH_OP_COUNT] = {
	[ASH_OP_NOP] = { 0 },
	[ASH_OP_COPY] = { 2, { ASH_OUT, ASH_IN } },
	[ASH_OP_FILL] = { 1, { ASH_OUT } },
	[ASH_OP_GEMM] = { 3, { ASH_OUT, ASH_IN, ASH_IN } },
	[ASH_OP_ADD] = { 3, { ASH_OUT, ASH_IN, ASH_IN } },
	[ASH_OP_MUL] = { 3, { ASH_OUT, ASH_IN, ASH_IN } },
	[ASH_OP_SILU] = { 2, { ASH_OUT, ASH_IN } },
	[ASH_OP_GELU] = { 2, { ASH_OUT, ASH_IN } },
	[ASH_OP_RMSNORM] = { 3, { ASH_OUT, ASH_IN, ASH_IN } },
	[ASH_OP_SOFTMAX] = { 2, { ASH_OUT, ASH_IN } },
	[ASH_OP_ROPE] = { 2, { ASH_OUT, ASH_IN } },
	[ASH_OP_EMBEDDING] = { 3, { ASH_OUT, ASH_IN, ASH_IN } },
};

static bool ash_operand_access_ok(u32 flags, u8 access)
{
	if (access == ASH_OUT)
		return flags == ASH_OPERAND_WRITE ||
		       flags == (ASH_OPERAND_READ | ASH_OPERAND_WRITE);
	return flags == ASH_OPERAND_READ;
}

/* Check one command of @job in place and translate its operands. */
static int ash_command_check(struct ash_context *ctx, struct ash_job *job,
			     struct ash_command *cmd)
{
	struct ash_operand *op;
	struct ash_buffer *buf;
	u32 i, nr;

	if (cmd->opcode >= ASH_OP_COUNT || cmd->flags ||
	    cmd->params_size > ASH_CMD_PARAMS_MAX ||
	    !ash_is_zero(cmd->params + cmd->params_size,
			 ASH_CMD_PARAMS_MAX - cmd->params_size))
		return -EINVAL;
	nr = ash_op_operands[cmd->opcode].nr;
	if (cmd->nr_operands != nr ||
	    !ash_is_zero(&cmd->operands[nr],
			 (ASH_CMD_MAX_OPERANDS - nr) * sizeof(*op)))
		return -EINVAL;

	for (i = 0; i < nr; i++) {
		op = &cmd->operands[i];
		if (!ash_operand_access_ok(op->flags,
					   ash_op_operands[cmd->opcode].access[i]) ||
		    !op->length)
			return -EINVAL;
		buf = ash_buffer_get(ctx, op->handle);
		if (!buf)
			return -ENOENT;
		job->bufs[job->nr_bufs++] = buf;
		if (op->offset > buf->size || op->length > buf->size - op->offset)
			return -ERANGE;
		if ((op->flags & ASH_OPERAND_WRITE) &&
		    (buf->flags & ASH_BUF_READONLY))
			return -EACCES;
		op->handle = 0;
		op->offset += buf->range.start << PAGE_SHIFT;
	}
	return 0;
}

/* Drop what a job holds; may sleep (the last buffer put frees pages). */
static void ash_job_free(struct ash_job *job)
{
	u32 i;

	for (i = 0; i < job->nr_bufs; i++)
		ash_buffer_put(job->bufs[i]);
	kvfree(job->bufs);
	ash_context_put(job->ctx);
	kvfree(job);
}

static struct ash_job *ash_job_create(struct ash_context *ctx,
				      const struct ash_submit *s)
{
	const u8 __user *ucmds = u64_to_user_ptr(s->commands);
	struct ash_job *job;
	u32 i;
	int ret;

	job = kvzalloc(struct_size(job, cmds, s->nr_commands), GFP_KERNEL);
	if (!job)
		return ERR_PTR(-ENOMEM);
	job->bufs = kvcalloc((size_t)s->nr_commands * ASH_CMD_MAX_OPERANDS,
			     sizeof(*job->bufs), GFP_KERNEL);
	if (!job->bufs) {
		kvfree(job);
		return ERR_PTR(-ENOMEM);
	}
	INIT_LIST_HEAD(&job->link);
	kref_get(&ctx->ref);
	job->ctx = ctx;
	job->nr_commands = s->nr_commands;

	for (i = 0; i < s->nr_commands; i++) {
		ret = copy_struct_from_user(&job->cmds[i], sizeof(job->cmds[i]),
					    ucmds + (size_t)i * s->command_size,
					    s->command_size);
		if (!ret)
			ret = ash_command_check(ctx, job, &job->cmds[i]);
		if (ret) {
			ash_job_free(job);
			return ERR_PTR(ret);
		}
	}
	return job;
}

int ash_job_submit_ioctl(struct ash_context *ctx, void __user *uarg,
			 unsigned int usize)
{
	struct ash_partition *part = ash_context_partition(ctx);
	u64 __user *ufence = uarg + offsetof(struct ash_submit, fence);
	struct ash_device *dev;
	struct ash_submit s;
	struct ash_job *job;
	int ret;

	ret = ash_copy_in(&s, sizeof(s), uarg, usize);
	if (ret)
		return ret;
	if ((s.flags & ~ASH_SUBMIT_CHAIN) || s.pad ||
	    !ash_is_zero(s.reserved, sizeof(s.reserved)) ||
	    !s.nr_commands || s.nr_commands > ASH_JOB_MAX_COMMANDS ||
	    s.command_size < sizeof(struct ash_command) ||
	    s.command_size > PAGE_SIZE)
		return -EINVAL;
	if (!part)
		return -EBADFD;
	/*
	 * The fence is written after the job is queued, when it can no
	 * longer be taken back: make sure it can be written now.
	 */
	if (put_user(0ULL, ufence))
		return -EFAULT;

	job = ash_job_create(ctx, &s);
	if (IS_ERR(job))
		return PTR_ERR(job);

	dev = part->dev;
	spin_lock(&dev->sched_lock);
	if (ctx->nr_queued >= ASH_CTX_MAX_QUEUED ||
	    part->nr_queued >= ASH_PART_MAX_QUEUED) {
		spin_unlock(&dev->sched_lock);
		ash_job_free(job);
		return -EAGAIN;
	}
	job->fence = ++ctx->last_fence;
	job->id = ++dev->next_job_id;
	job->flags = s.flags;
	job->queued_ns = ktime_get_ns();
	list_add_tail(&job->link, &ctx->jobs);
	ctx->nr_queued++;
	part->nr_queued++;
	dev->nr_queued++;
	ash_sched_enqueue(&dev->sched, &ctx->sched);
	s.fence = job->fence;
	spin_unlock(&dev->sched_lock);
	wake_up_interruptible(&dev->engine_wq);

	return put_user(s.fence, ufence) ? -EFAULT : 0;
}

/* Status of @fence, which has completed; under the device's sched_lock. */
static s32 ash_fence_status(struct ash_context *ctx, u64 fence)
{
	if (ctx->completed - fence >= ASH_FENCE_HISTORY)
		return -ESTALE;
	return ctx->history[fence % ASH_FENCE_HISTORY];
}

static bool ash_fence_done(struct ash_context *ctx, u64 fence)
{
	return READ_ONCE(ctx->completed) >= fence;
}

int ash_job_wait_ioctl(struct ash_context *ctx, void __user *uarg,
		       unsigned int usize)
{
	struct ash_partition *part = ash_context_partition(ctx);
	struct ash_device *dev;
	struct ash_wait w;
	ktime_t timeout;
	long ret;

	ret = ash_copy_in(&w, sizeof(w), uarg, usize);
	if (ret)
		return ret;
	if (w.flags || !ash_is_zero(w.reserved, sizeof(w.reserved)))
		return -EINVAL;
	if (!part)
		return -EBADFD;
	dev = part->dev;
	if (!w.fence || w.fence > READ_ONCE(ctx->last_fence))
		return -EINVAL;

	timeout = ns_to_ktime(w.timeout_ns);
	if (w.timeout_ns < 0)
		ret = wait_event_interruptible(ctx->wq,
					       ash_fence_done(ctx, w.fence));
	else if (w.timeout_ns && !ash_fence_done(ctx, w.fence))
		ret = wait_event_interruptible_hrtimeout(ctx->wq,
							 ash_fence_done(ctx, w.fence),
							 timeout);
	if (ret == -ERESTARTSYS)
		return -EINTR;
	if (!ash_fence_done(ctx, w.fence))
		return -ETIMEDOUT;

	spin_lock(&dev->sched_lock);
	w.status = ash_fence_status(ctx, w.fence);
	spin_unlock(&dev->sched_lock);
	return ash_copy_out(uarg, &w, sizeof(w));
}

/* Readable when every job submitted on the context has completed. */
__poll_t ash_job_poll(struct ash_context *ctx)
{
	struct ash_partition *part = ash_context_partition(ctx);
	bool idle = true;

	if (part) {
		spin_lock(&part->dev->sched_lock);
		idle = ctx->completed == ctx->last_fence;
		spin_unlock(&part->dev->sched_lock);
	}
	return idle ? EPOLLIN | EPOLLRDNORM : 0;
}

/**
 * ash_job_take_locked() - take the job the scheduler picks, if any
 * @dev: the device, with sched_lock held.
 * @failed: chained jobs whose previous job failed are completed on the way
 *	and put here, for the caller to ash_job_done() without the lock.
 *
 * Return: the job to run, off its queue, or NULL if nothing is queued.
 */
struct ash_job *ash_job_take_locked(struct ash_device *dev,
				    struct list_head *failed)
{
	struct ash_sched_entity *e;
	struct ash_context *ctx;
	struct ash_job *job;
	s32 status;
	u64 wait;

	lockdep_assert_held(&dev->sched_lock);
	while ((e = ash_sched_pick(&dev->sched))) {
		ctx = container_of(e, struct ash_context, sched);
		job = list_first_entry(&ctx->jobs, struct ash_job, link);
		list_del_init(&job->link);
		ctx->nr_queued--;
		ctx->part->nr_queued--;
		dev->nr_queued--;
		wait = ktime_get_ns() - job->queued_ns;
		ctx->wait_ns += wait;
		ctx->part->wait_ns += wait;
		/*
		 * Jobs of a context complete in order, so the previous one
		 * has: a chained job inherits its failure without running.
		 */
		status = job->flags & ASH_SUBMIT_CHAIN && job->fence > 1 ?
			 ash_fence_status(ctx, job->fence - 1) : 0;
		if (!status)
			return job;
		ash_job_complete_locked(dev, job, status, 0);
		list_add_tail(&job->link, failed);
	}
	return NULL;
}

/**
 * ash_job_complete_locked() - account a job that ran, failed or was cancelled
 * @dev: the device, with sched_lock held.
 * @job: the job, no longer queued.
 * @status: 0 or a negative errno for the tenant's wait.
 * @busy_ns: engine time it used.
 *
 * The caller then calls ash_job_done() without the lock.
 */
void ash_job_complete_locked(struct ash_device *dev, struct ash_job *job,
			     int status, u64 busy_ns)
{
	struct ash_context *ctx = job->ctx;
	struct ash_partition *part = ctx->part;

	lockdep_assert_held(&dev->sched_lock);
	if (busy_ns)
		ash_sched_charge(&dev->sched, &ctx->sched, busy_ns);
	ctx->busy_ns += busy_ns;
	part->busy_ns += busy_ns;
	dev->busy_ns += busy_ns;
	ctx->jobs_completed++;
	part->jobs_completed++;
	if (status) {
		ctx->jobs_failed++;
		part->jobs_failed++;
	}
	ctx->history[job->fence % ASH_FENCE_HISTORY] = status;
	WRITE_ONCE(ctx->completed, job->fence);
}

/* After ash_job_complete_locked(): wake the waiters, drop the job. */
void ash_job_done(struct ash_job *job)
{
	wake_up_all(&job->ctx->wq);
	ash_job_free(job);
}

/* ash_job_done() for each job on @jobs, which is left empty. */
void ash_jobs_done(struct list_head *jobs)
{
	struct ash_job *job, *tmp;

	list_for_each_entry_safe(job, tmp, jobs, link)
		ash_job_done(job);
	INIT_LIST_HEAD(jobs);
}

u64 ash_job_id(const struct ash_job *job)
{
	return job->id;
}

/* Write the job's commands to the engine's array of @command_size slots. */
int ash_job_copy_commands(const struct ash_job *job, void __user *ucmds,
			  u32 command_size, u32 *nr_commands)
{
	u32 i;

	for (i = 0; i < job->nr_commands; i++) {
		u8 __user *slot = ucmds + (size_t)i * command_size;

		if (copy_to_user(slot, &job->cmds[i], sizeof(job->cmds[i])) ||
		    clear_user(slot + sizeof(job->cmds[i]),
			       command_size - sizeof(job->cmds[i])))
			return -EFAULT;
	}
	*nr_commands = job->nr_commands;
	return 0;
}

/*
 * The context is closing: its queued jobs will never run.  They complete
 * as cancelled (nobody waits for them any more), and the scheduler forgets
 * them.  A job the engine is running finishes on its own and holds the
 * context until then.
 */
void ash_jobs_cancel(struct ash_context *ctx)
{
	struct ash_partition *part = ctx->part;
	struct ash_device *dev;
	struct ash_job *job;
	LIST_HEAD(cancelled);

	if (!part)
		return;
	dev = part->dev;
	spin_lock(&dev->sched_lock);
	list_splice_init(&ctx->jobs, &cancelled);
	list_for_each_entry(job, &cancelled, link) {
		ash_sched_dequeue(&dev->sched, &ctx->sched);
		ctx->nr_queued--;
		part->nr_queued--;
		dev->nr_queued--;
		ash_job_complete_locked(dev, job, -ECANCELED, 0);
	}
	spin_unlock(&dev->sched_lock);
	ash_jobs_done(&cancelled);
}
