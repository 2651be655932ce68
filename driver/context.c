// SPDX-License-Identifier: GPL-2.0-only
/*
 * accelshare - contexts: one open file of the tenant node.
 *
 * A context is bound once to a partition, after an access check, and owns
 * the buffers allocated through it and the jobs submitted through it.
 * Closing the file (or the death of the process) drops its handles and
 * cancels its queued jobs; a job the engine is running keeps the context
 * until it completes.  The last reference unbinds it.  Nothing else has to
 * clean up.
 */
#include <linux/cred.h>
#include <linux/ktime.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include "accelshare_drv.h"

/* id -> bound struct ash_context, under ash_registry_lock. */
static DEFINE_XARRAY_ALLOC(ash_contexts);

/* Last drm-client-id handed out. */
static atomic64_t ash_client_ids = ATOMIC64_INIT(0);

struct ash_context *ash_context_create(void)
{
	struct ash_context *ctx;

	/* Each open file is the opener's memory: its cgroup pays. */
	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);
	if (!ctx)
		return ERR_PTR(-ENOMEM);
	kref_init(&ctx->ref);
	ctx->pid = get_pid(task_tgid(current));
	ctx->uid = current_euid();
	xa_init_flags(&ctx->buffers, XA_FLAGS_ALLOC1);
	atomic_set(&ctx->nr_buffers, 0);
	atomic64_set(&ctx->mem_used, 0);
	ash_mem_usage_init(&ctx->mem_usage, ktime_get_ns());
	ctx->client_id = atomic64_inc_return(&ash_client_ids);
	init_waitqueue_head(&ctx->wq);
	ctx->failures = RB_ROOT;
	INIT_LIST_HEAD(&ctx->jobs);
	return ctx;
}

/* The last reference: nothing of the context is left but its binding. */
static void ash_context_release(struct kref *ref)
{
	struct ash_context *ctx = container_of(ref, struct ash_context, ref);
	struct ash_partition *part = ctx->part;
	struct ash_device *dev;

	WARN_ON(atomic_read(&ctx->nr_buffers) ||
		atomic64_read(&ctx->mem_used));
	if (part) {
		dev = part->dev;
		spin_lock(&dev->sched_lock);
		ash_sched_entity_remove(&dev->sched, &ctx->sched);
		spin_unlock(&dev->sched_lock);
		mutex_lock(&ash_registry_lock);
		xa_erase(&ash_contexts, ctx->id);
		part->nr_contexts--;
		dev->nr_contexts--;
		mutex_unlock(&ash_registry_lock);
	}
	ash_context_failures_free(ctx);
	put_pid(ctx->pid);
	kfree(ctx);
}

void ash_context_put(struct ash_context *ctx)
{
	kref_put(&ctx->ref, ash_context_release);
}

/*
 * Called when the file is released: no ioctl is running and, since every
 * mapping holds the file, no buffer is mapped.  Dropping the handles frees
 * every buffer no running job holds, and with them their charges.
 */
void ash_context_close(struct ash_context *ctx)
{
	struct ash_buffer *buf;
	unsigned long handle;

	ash_jobs_cancel(ctx);
	xa_for_each(&ctx->buffers, handle, buf) {
		xa_erase(&ctx->buffers, handle);
		ash_buffer_put(buf);
	}
	xa_destroy(&ctx->buffers);
	ash_context_put(ctx);
}

/* The partition @ctx is bound to, or NULL. */
struct ash_partition *ash_context_partition(struct ash_context *ctx)
{
	/* Pairs with smp_store_release() in ash_context_bind_ioctl(). */
	return smp_load_acquire(&ctx->part);
}

int ash_context_bind_ioctl(struct ash_context *ctx, void __user *uarg,
			   unsigned int usize)
{
	struct ash_partition *part;
	struct ash_bind b;
	int ret;

	ret = ash_copy_in(&b, sizeof(b), uarg, usize);
	if (ret)
		return ret;
	if (b.flags || b.pad || !ash_is_zero(b.reserved, sizeof(b.reserved)) ||
	    !ash_name_valid(b.partition))
		return -EINVAL;
	mutex_lock(&ash_registry_lock);
	if (ctx->part) {
		ret = -EBUSY;
		goto out_unlock;
	}
	part = ash_partition_find_name(b.partition);
	if (!part) {
		ret = -ENOENT;
		goto out_unlock;
	}
	if (!ash_partition_may_bind(part)) {
		ret = -EACCES;
		goto out_unlock;
	}
	if (part->nr_contexts >= part->max_contexts) {
		ret = -EUSERS;
		goto out_unlock;
	}
	ret = xa_alloc(&ash_contexts, &ctx->id, ctx, xa_limit_31b,
		       GFP_KERNEL_ACCOUNT);
	if (ret)
		goto out_unlock;
	part->nr_contexts++;
	part->dev->nr_contexts++;
	spin_lock(&part->dev->sched_lock);
	ash_sched_entity_init(&part->sched, &ctx->sched);
	spin_unlock(&part->dev->sched_lock);
	/*
	 * Publish the binding last: ioctls that find ctx->part set rely on
	 * everything above, without taking the lock.
	 */
	smp_store_release(&ctx->part, part);
out_unlock:
	mutex_unlock(&ash_registry_lock);
	return ret;
}

/* The bound context with the smallest id >= *@id; *@id is set to it. */
struct ash_context *ash_context_find_from(u32 *id)
{
	unsigned long index = *id;
	struct ash_context *ctx;

	lockdep_assert_held(&ash_registry_lock);
	ctx = xa_find(&ash_contexts, &index, U32_MAX, XA_PRESENT);
	if (ctx)
		*id = index;
	return ctx;
}
