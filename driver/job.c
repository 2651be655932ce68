// SPDX-License-Identifier: GPL-2.0-only
/*
 * accelshare - jobs: submission, the envelope check, fences, and a job's
 * whole life until it is freed.
 *
 * A tenant submits a command buffer.  The driver checks each command's
 * envelope without knowing what the op means (uapi/accelshare.h): every
 * operand is looked up in the context's own handle table, checked against
 * the buffer's size and access mode, and translated to a device address,
 * so the engine never sees a handle or a range the driver did not check.
 * What an opcode means is the engine's to enforce.
 *
 * A job's states, all under the device's sched_lock:
 *
 *   QUEUED --fetch--> RUNNING --the engine gives it back--> freed
 *     |                 |   \--the engine dies or is detached--> freed (-EIO)
 *     |                 |
 *     |                 \--job_timeout_ms passes (watchdog)--> TIMED_OUT
 *     |                      (-ETIMEDOUT to the tenant; the job keeps its
 *     |                      buffers while the engine may still touch them)
 *     |                        |--the engine gives it back--> freed
 *     |                        \--another job_timeout_ms passes: the engine
 *     |                           is detached and killed--> freed
 *     \--the context closes or is banned, or the job is chained to a
 *        failed one--> freed (-ECANCELED, or the failed job's status)
 *
 * The fence is signalled -- its status recorded, the context's completed
 * fence advanced, waiters woken -- when a job leaves QUEUED or RUNNING for
 * good (the arrows to TIMED_OUT and to freed from those two).  Jobs of a
 * context are signalled in submission order: the scheduler takes a
 * context's jobs oldest first, the engine has one at a time, and a timed
 * out job is signalled before the next job of anyone can be fetched.
 */
#include <linux/ktime.h>
#include <linux/rbtree.h>
#include <linux/sched/signal.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>

#include "accelshare_drv.h"

enum ash_job_state {
	ASH_JOB_QUEUED,
	ASH_JOB_RUNNING,
	ASH_JOB_TIMED_OUT,
};

/**
 * struct ash_fence_failure - a job that failed, kept for later waits
 * @node: in its context's @failures, by @fence.
 * @fence: the job's fence.
 * @status: its negative errno.
 */
struct ash_fence_failure {
	struct rb_node node;
	u64 fence;
	s32 status;
};

/**
 * struct ash_job - one submitted command buffer
 * @link: in its context's queue while queued, on a list of jobs to free
 *	after that.
 * @ctx: the submitter; the job holds a reference.
 * @state: see the file comment.
 * @fence: its fence in @ctx.
 * @id: unique on the device, for the engine.
 * @flags: ASH_SUBMIT_*.
 * @queued_ns: when it was queued.
 * @started_ns: when the engine fetched it.
 * @timeout_ns: its watchdog limit, from @started_ns.
 * @charged_ns: busy time charged when it timed out.
 * @bytes: kernel memory it holds, counted in its partition's job_bytes
 *	from queueing to freeing.
 * @failure: the record to keep if it fails, allocated with the job so that
 *	completing it never allocates; NULL once used.
 * @nr_bufs: entries in @bufs.
 * @bufs: the buffers its operands name, each with a reference.
 * @nr_commands: entries in @cmds.
 * @cmds: the commands, operands translated to device addresses.
 */
struct ash_job {
	struct list_head link;
	struct ash_context *ctx;
	enum ash_job_state state;
	u64 fence;
	u64 id;
	u32 flags;
	u64 queued_ns;
	u64 started_ns;
	u64 timeout_ns;
	u64 charged_ns;
	size_t bytes;
	struct ash_fence_failure *failure;
	u32 nr_bufs;
	struct ash_buffer **bufs;
	u32 nr_commands;
	struct ash_command cmds[];
};

/* --- the envelope ----------------------------------------------------------- */

/*
 * Check one command's envelope in place and translate its operands.  Op by
 * op rules (how many operands, which must be writable, what the parameters
 * say) are not the driver's.
 */
static int ash_command_check(struct ash_context *ctx, struct ash_job *job,
			     struct ash_command *cmd)
{
	const u32 known = ASH_OPERAND_READ | ASH_OPERAND_WRITE;
	struct ash_operand *op;
	struct ash_buffer *buf;
	u32 i, nr;

	if (cmd->flags || cmd->nr_operands > ASH_CMD_MAX_OPERANDS ||
	    cmd->params_size > ASH_CMD_PARAMS_MAX ||
	    !ash_is_zero(cmd->params + cmd->params_size,
			 ASH_CMD_PARAMS_MAX - cmd->params_size))
		return -EINVAL;
	nr = cmd->nr_operands;
	if (!ash_is_zero(&cmd->operands[nr],
			 (ASH_CMD_MAX_OPERANDS - nr) * sizeof(*op)))
		return -EINVAL;

	for (i = 0; i < nr; i++) {
		op = &cmd->operands[i];
		if (!op->flags || (op->flags & ~known) || !op->length)
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
		if (READ_ONCE(buf->lost))
			return -EIO;
		op->handle = 0;
		op->offset += buf->range.start << PAGE_SHIFT;
	}
	return 0;
}

/* Drop what a job holds; may sleep (the last buffer put frees pages). */
static void ash_job_destroy(struct ash_job *job)
{
	u32 i;

	for (i = 0; i < job->nr_bufs; i++)
		ash_buffer_put(job->bufs[i]);
	kvfree(job->bufs);
	kfree(job->failure);
	ash_context_put(job->ctx);
	kvfree(job);
}

/* A job that was queued: its kernel memory leaves its partition's count. */
static void ash_job_free(struct ash_job *job)
{
	struct ash_partition *part = job->ctx->part;

	spin_lock(&part->dev->sched_lock);
	part->job_bytes -= job->bytes;
	spin_unlock(&part->dev->sched_lock);
	ash_job_destroy(job);
}

/*
 * Wake each job's waiters and free it; @jobs is left empty.  Without
 * locks: the last put of a buffer takes the device's engine_rwsem.
 */
void ash_jobs_free(struct list_head *jobs)
{
	struct ash_job *job, *tmp;

	list_for_each_entry_safe(job, tmp, jobs, link) {
		wake_up_all(&job->ctx->wq);
		ash_job_free(job);
	}
	INIT_LIST_HEAD(jobs);
}

/* What an allocation of @size at @p really takes: the allocator rounds up. */
static size_t ash_alloc_bytes(const void *p, size_t size)
{
	return is_vmalloc_addr(p) ? PAGE_ALIGN(size) :
				    kmalloc_size_roundup(size);
}

/*
 * Memory a tenant's submissions make the kernel hold is charged to its
 * memory cgroup (GFP_KERNEL_ACCOUNT), as for pipes and io_uring, and
 * counted, as the allocator hands it out, against its partition's
 * ASH_PART_MAX_JOB_BYTES.
 */
static struct ash_job *ash_job_create(struct ash_context *ctx,
				      const struct ash_submit *s)
{
	const u8 __user *ucmds = u64_to_user_ptr(s->commands);
	size_t nbufs = (size_t)s->nr_commands * ASH_CMD_MAX_OPERANDS;
	struct ash_job *job;
	u32 i;
	int ret;

	job = kvzalloc(struct_size(job, cmds, s->nr_commands),
		       GFP_KERNEL_ACCOUNT);
	if (!job)
		return ERR_PTR(-ENOMEM);
	INIT_LIST_HEAD(&job->link);
	kref_get(&ctx->ref);
	job->ctx = ctx;
	job->nr_commands = s->nr_commands;
	job->bufs = kvcalloc(nbufs, sizeof(*job->bufs), GFP_KERNEL_ACCOUNT);
	job->failure = kmalloc(sizeof(*job->failure), GFP_KERNEL_ACCOUNT);
	if (!job->bufs || !job->failure) {
		ret = -ENOMEM;
		goto err_destroy;
	}
	job->bytes = ash_alloc_bytes(job, struct_size(job, cmds,
						      s->nr_commands)) +
		     ash_alloc_bytes(job->bufs, nbufs * sizeof(*job->bufs)) +
		     ash_alloc_bytes(job->failure, sizeof(*job->failure));

	for (i = 0; i < s->nr_commands; i++) {
		ret = copy_struct_from_user(&job->cmds[i], sizeof(job->cmds[i]),
					    ucmds + (size_t)i * s->command_size,
					    s->command_size);
		if (!ret)
			ret = ash_command_check(ctx, job, &job->cmds[i]);
		if (ret)
			goto err_destroy;
	}
	return job;

err_destroy:
	ash_job_destroy(job);
	return ERR_PTR(ret);
}

/* --- fences ------------------------------------------------------------------ */

static int ash_failure_cmp(const void *key, const struct rb_node *node)
{
	u64 fence = *(const u64 *)key;
	u64 f = rb_entry(node, struct ash_fence_failure, node)->fence;

	return fence < f ? -1 : fence > f;
}

static bool ash_failure_less(struct rb_node *a, const struct rb_node *b)
{
	return rb_entry(a, struct ash_fence_failure, node)->fence <
	       rb_entry(b, struct ash_fence_failure, node)->fence;
}

/* Status of @fence, which has completed; under the device's sched_lock. */
static s32 ash_fence_status(struct ash_context *ctx, u64 fence)
{
	struct rb_node *n = rb_find(&fence, &ctx->failures, ash_failure_cmp);

	return n ? rb_entry(n, struct ash_fence_failure, node)->status : 0;
}

static bool ash_fence_done(struct ash_context *ctx, u64 fence)
{
	return READ_ONCE(ctx->completed) >= fence;
}

/* The context is released: its failure records go with it. */
void ash_context_failures_free(struct ash_context *ctx)
{
	struct ash_fence_failure *f, *tmp;

	rbtree_postorder_for_each_entry_safe(f, tmp, &ctx->failures, node)
		kfree(f);
	ctx->failures = RB_ROOT;
}

static void ash_jobs_cancel_locked(struct ash_device *dev,
				   struct ash_context *ctx,
				   struct list_head *free);

/* From now on the context's submissions fail with -ECANCELED. */
static void ash_context_ban_locked(struct ash_device *dev,
				   struct ash_context *ctx,
				   struct list_head *free)
{
	if (ctx->banned)
		return;
	ctx->banned = true;
	ash_audit(ASH_AUDIT_CONTEXT_BAN, dev->id, ctx->part->name, NULL,
		  (u64[4]) { ctx->id, ctx->nr_failures, ctx->jobs_timed_out });
	ash_jobs_cancel_locked(dev, ctx, free);
}

/*
 * Signal @job's fence with @status: count it, keep its failure record,
 * advance the context's timeline.  The caller wakes the waiters.
 */
static void ash_job_signal_locked(struct ash_device *dev, struct ash_job *job,
				  int status, struct list_head *free)
{
	struct ash_context *ctx = job->ctx;
	struct ash_partition *part = ctx->part;
	struct ash_fence_failure *f = job->failure;

	lockdep_assert_held(&dev->sched_lock);
	ctx->jobs_completed++;
	part->jobs_completed++;
	dev->jobs_completed++;
	if (status) {
		ctx->jobs_failed++;
		part->jobs_failed++;
		dev->jobs_failed++;
		f->fence = job->fence;
		f->status = status;
		rb_add(&f->node, &ctx->failures, ash_failure_less);
		job->failure = NULL;
		if (++ctx->nr_failures >= ASH_CTX_MAX_FAILURES)
			ash_context_ban_locked(dev, ctx, free);
	}
	WRITE_ONCE(ctx->completed, job->fence);
}

/* Busy time a job used: the context's, the partition's and the device's. */
static void ash_job_charge_locked(struct ash_device *dev, struct ash_job *job,
				  u64 busy_ns)
{
	struct ash_context *ctx = job->ctx;

	lockdep_assert_held(&dev->sched_lock);
	if (!busy_ns)
		return;
	ash_sched_charge(&dev->sched, &ctx->sched, busy_ns);
	ctx->busy_ns += busy_ns;
	ctx->part->busy_ns += busy_ns;
	dev->busy_ns += busy_ns;
}

/* --- submit, wait, poll -------------------------------------------------------- */

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
	if (READ_ONCE(ctx->banned))
		return -ECANCELED;
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
	if (ctx->banned) {
		ret = -ECANCELED;
		goto err_unlock;
	}
	if (ctx->nr_queued >= ASH_CTX_MAX_JOBS ||
	    part->nr_queued >= ASH_PART_MAX_JOBS ||
	    job->bytes > ASH_PART_MAX_JOB_BYTES - part->job_bytes) {
		ret = -EAGAIN;
		goto err_unlock;
	}
	job->state = ASH_JOB_QUEUED;
	job->fence = ++ctx->last_fence;
	job->id = ++dev->next_job_id;
	job->flags = s.flags;
	job->queued_ns = ktime_get_ns();
	list_add_tail(&job->link, &ctx->jobs);
	ctx->nr_queued++;
	part->nr_queued++;
	part->job_bytes += job->bytes;
	dev->nr_queued++;
	ash_sched_enqueue(&dev->sched, &ctx->sched);
	s.fence = job->fence;
	spin_unlock(&dev->sched_lock);
	wake_up_interruptible(&dev->engine_wq);

	return put_user(s.fence, ufence) ? -EFAULT : 0;

err_unlock:
	spin_unlock(&dev->sched_lock);
	ash_job_destroy(job);
	return ret;
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

/* --- leaving the queue --------------------------------------------------------- */

/* Take @job off its context's queue and out of the scheduler's counts. */
static void ash_job_unqueue_locked(struct ash_device *dev, struct ash_job *job)
{
	struct ash_context *ctx = job->ctx;

	list_del_init(&job->link);
	ctx->nr_queued--;
	ctx->part->nr_queued--;
	dev->nr_queued--;
}

/*
 * Cancel every queued job of @ctx: they complete with -ECANCELED, without
 * running, and go on @free.
 */
static void ash_jobs_cancel_locked(struct ash_device *dev,
				   struct ash_context *ctx,
				   struct list_head *free)
{
	struct ash_job *job;

	lockdep_assert_held(&dev->sched_lock);
	/*
	 * Head first each time: a signal below may ban the context, which
	 * cancels what is left from within.
	 */
	while (!list_empty(&ctx->jobs)) {
		job = list_first_entry(&ctx->jobs, struct ash_job, link);
		ash_sched_dequeue(&dev->sched, &ctx->sched);
		ash_job_unqueue_locked(dev, job);
		ash_job_signal_locked(dev, job, -ECANCELED, free);
		list_add_tail(&job->link, free);
	}
}

/*
 * The context is closing: its queued jobs will never run.  They complete
 * as cancelled (nobody waits for them any more), and the scheduler forgets
 * them.  A job the engine has holds the context until it is freed.
 */
void ash_jobs_cancel(struct ash_context *ctx)
{
	struct ash_partition *part = ctx->part;
	struct ash_device *dev;
	LIST_HEAD(free);

	if (!part)
		return;
	dev = part->dev;
	spin_lock(&dev->sched_lock);
	ash_jobs_cancel_locked(dev, ctx, &free);
	spin_unlock(&dev->sched_lock);
	ash_jobs_free(&free);
}

/* Does @job name a buffer whose contents an engine's death lost? */
static bool ash_job_names_lost(const struct ash_job *job)
{
	u32 i;

	for (i = 0; i < job->nr_bufs; i++)
		if (READ_ONCE(job->bufs[i]->lost))
			return true;
	return false;
}

/*
 * The job the scheduler picks, off its queue, or NULL if nothing is queued.
 * Chained jobs whose previous job failed complete on the way, with that
 * job's status, and so do jobs naming a lost buffer (-EIO): they go on
 * @free.
 */
static struct ash_job *ash_job_take_locked(struct ash_device *dev,
					   struct list_head *free)
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
		ash_job_unqueue_locked(dev, job);
		wait = ktime_get_ns() - job->queued_ns;
		ctx->wait_ns += wait;
		ctx->part->wait_ns += wait;
		/*
		 * Jobs of a context complete in order, so the previous one
		 * has: a chained job inherits its failure without running.
		 */
		status = job->flags & ASH_SUBMIT_CHAIN && job->fence > 1 ?
			 ash_fence_status(ctx, job->fence - 1) : 0;
		if (!status && ash_job_names_lost(job))
			status = -EIO;
		if (!status)
			return job;
		ash_job_signal_locked(dev, job, status, free);
		list_add_tail(&job->link, free);
	}
	return NULL;
}

/* --- the engine's side ------------------------------------------------------------ */

/**
 * ash_job_fetch() - give an engine the next job the scheduler picks
 * @eng: the engine.
 * @nonblock: -EAGAIN instead of sleeping when nothing is queued.
 * @timeout_ns: set to the job's watchdog limit.
 * @scrub: set to a scrub of engine-owned memory, when the engine has one
 *	to do first (scrub.c), with NULL returned.
 *
 * Return: the job, now RUNNING and the engine's; NULL with @scrub set; or
 * an ERR_PTR: -EBUSY the engine has one, -ENODEV it was detached, -EAGAIN,
 * -ERESTARTSYS.
 */
struct ash_job *ash_job_fetch(struct ash_engine *eng, bool nonblock,
			      u64 *timeout_ns, struct ash_scrub **scrub)
{
	struct ash_device *dev = eng->dev;
	struct ash_job *job;
	LIST_HEAD(free);

	for (;;) {
		spin_lock(&dev->sched_lock);
		if (eng->detached) {
			spin_unlock(&dev->sched_lock);
			return ERR_PTR(-ENODEV);
		}
		if (eng->running || eng->scrub) {
			spin_unlock(&dev->sched_lock);
			return ERR_PTR(-EBUSY);
		}
		*scrub = ash_scrub_take_locked(eng);
		if (*scrub) {
			spin_unlock(&dev->sched_lock);
			return NULL;
		}
		job = ash_job_take_locked(dev, &free);
		if (job) {
			job->state = ASH_JOB_RUNNING;
			job->started_ns = ktime_get_ns();
			job->timeout_ns = (u64)dev->job_timeout_ms *
					  NSEC_PER_MSEC;
			eng->running = job;
			mod_delayed_work(system_wq, &dev->watchdog,
					 nsecs_to_jiffies(job->timeout_ns) + 1);
		}
		spin_unlock(&dev->sched_lock);
		ash_jobs_free(&free);
		if (job)
			break;
		if (nonblock)
			return ERR_PTR(-EAGAIN);
		if (wait_event_interruptible(dev->engine_wq,
					     READ_ONCE(dev->nr_queued) ||
					     !list_empty_careful(&dev->scrubs) ||
					     READ_ONCE(eng->detached)))
			return ERR_PTR(-ERESTARTSYS);
	}
	*timeout_ns = job->timeout_ns;
	return job;
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

static void ash_job_timed_out_locked(struct ash_device *dev,
				     struct ash_job *job,
				     struct list_head *free);

/*
 * The engine's running job leaves it: signalled with @status unless the
 * watchdog did already.  An engine that gives a job back with -ETIMEDOUT
 * once its limit has passed did what the fetch told it to (abandon the
 * job by then), maybe a moment before the watchdog ran: a timeout all the
 * same.  The job goes on @free, for the caller to free without the lock.
 */
static void ash_job_release_locked(struct ash_engine *eng, int status,
				   u64 busy_ns, struct list_head *free)
{
	struct ash_device *dev = eng->dev;
	struct ash_job *job = eng->running;

	lockdep_assert_held(&dev->sched_lock);
	if (!job)
		return;
	eng->running = NULL;
	cancel_delayed_work(&dev->watchdog);
	if (job->state == ASH_JOB_RUNNING) {
		ash_job_charge_locked(dev, job, busy_ns);
		if (status == -ETIMEDOUT &&
		    ktime_get_ns() - job->started_ns >= job->timeout_ns)
			ash_job_timed_out_locked(dev, job, free);
		else
			ash_job_signal_locked(dev, job, status, free);
	} else if (busy_ns > job->charged_ns) {
		/* It ran on past the timeout: that time is the job's too. */
		ash_job_charge_locked(dev, job, busy_ns - job->charged_ns);
	}
	list_add_tail(&job->link, free);
}

/* The engine could not take the job it fetched: it fails with -EIO. */
void ash_job_fetch_failed(struct ash_engine *eng, struct ash_job *job)
{
	struct ash_device *dev = eng->dev;
	LIST_HEAD(free);

	spin_lock(&dev->sched_lock);
	if (eng->running == job)
		ash_job_release_locked(eng, -EIO, 0, &free);
	spin_unlock(&dev->sched_lock);
	ash_jobs_free(&free);
}

/**
 * ash_job_give_back() - the engine reports its job done
 * @eng: the engine.
 * @id: the job's id.
 * @status: 0 or a negative errno, for the tenant's wait.
 * @busy_ns: engine time it used.
 *
 * Return: 0, -ENOENT the engine has no such job, -ENODEV it was detached.
 */
int ash_job_give_back(struct ash_engine *eng, u64 id, int status, u64 busy_ns)
{
	struct ash_device *dev = eng->dev;
	LIST_HEAD(free);
	int ret = 0;

	spin_lock(&dev->sched_lock);
	if (eng->detached)
		ret = -ENODEV;
	else if (!eng->running || eng->running->id != id)
		ret = -ENOENT;
	else
		ash_job_release_locked(eng, status, busy_ns, &free);
	spin_unlock(&dev->sched_lock);
	ash_jobs_free(&free);
	return ret;
}

/*
 * The engine is gone (its file closed) or detached: a job it was running
 * fails with -EIO; one the watchdog failed already is only released.  The
 * job goes on @free, for ash_jobs_free() once the engine can reach none of
 * its buffers any more.
 */
void ash_job_engine_gone_locked(struct ash_engine *eng, struct list_head *free)
{
	lockdep_assert_held(&eng->dev->sched_lock);
	ash_job_release_locked(eng, -EIO, 0, free);
}

/* --- the watchdog ------------------------------------------------------------------ */

/*
 * @job passed its limit: counted, signalled -ETIMEDOUT; a context whose
 * jobs keep timing out is banned.
 */
static void ash_job_timed_out_locked(struct ash_device *dev,
				     struct ash_job *job,
				     struct list_head *free)
{
	struct ash_context *ctx = job->ctx;

	ctx->jobs_timed_out++;
	ctx->part->jobs_timed_out++;
	dev->jobs_timed_out++;
	ash_audit(ASH_AUDIT_JOB_TIMEOUT, dev->id, ctx->part->name, NULL,
		  (u64[4]) { ash_job_id(job), ctx->id });
	ash_job_signal_locked(dev, job, -ETIMEDOUT, free);
	if (ctx->jobs_timed_out >= ASH_CTX_MAX_TIMEOUTS)
		ash_context_ban_locked(dev, ctx, free);
}

/*
 * The running job passed its limit and the engine still has it: the
 * tenant learns -ETIMEDOUT now and is charged the time so far; the engine
 * should abandon the job at its next command (it knows the limit from the
 * fetch).
 */
static void ash_job_time_out_locked(struct ash_device *dev, struct ash_job *job,
				    u64 now, struct list_head *free)
{
	job->state = ASH_JOB_TIMED_OUT;
	job->charged_ns = now - job->started_ns;
	ash_job_charge_locked(dev, job, job->charged_ns);
	ash_job_timed_out_locked(dev, job, free);
}

void ash_job_watchdog(struct work_struct *work)
{
	struct ash_device *dev = container_of(to_delayed_work(work),
					      struct ash_device, watchdog);
	struct ash_context *woken = NULL;
	u64 revoke = 0;
	struct ash_job *job;
	LIST_HEAD(free);
	u64 now, end;

	spin_lock(&dev->sched_lock);
	job = dev->engine ? dev->engine->running : NULL;
	if (!job)
		goto out_unlock;
	now = ktime_get_ns();
	/* RUNNING: its limit; TIMED_OUT: the engine's grace to give it back. */
	end = job->started_ns + job->timeout_ns *
	      (job->state == ASH_JOB_RUNNING ? 1 : 2);
	if (now < end) {
		mod_delayed_work(system_wq, &dev->watchdog,
				 nsecs_to_jiffies(end - now) + 1);
	} else if (job->state == ASH_JOB_RUNNING) {
		ash_job_time_out_locked(dev, job, now, &free);
		woken = job->ctx;
		kref_get(&woken->ref);
		mod_delayed_work(system_wq, &dev->watchdog,
				 nsecs_to_jiffies(job->timeout_ns) + 1);
	} else {
		revoke = job->id;	/* ids start at 1 */
	}
out_unlock:
	spin_unlock(&dev->sched_lock);
	if (woken) {
		wake_up_all(&woken->wq);
		ash_context_put(woken);
	}
	ash_jobs_free(&free);
	if (revoke)
		ash_engine_revoke(dev, revoke);
}
