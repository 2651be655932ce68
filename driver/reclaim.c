// SPDX-License-Identifier: GPL-2.0-only
/*
 * accelshare - reclaim with notice: a cap lowered below the memory in use.
 *
 * The driver never takes memory a tenant holds: a partition over its cap
 * only has its new allocations refused.  What it does is tell: from the
 * moment the cap is lowered, every context of the partition polls POLLPRI
 * and ASH_IOC_RECLAIM_QUERY says how much to give back and by when, so
 * that a serving process can drop a cache instead of dying.  At the
 * deadline the administrator's action applies: none, or ASH_RECLAIM_KILL,
 * which kills the processes that opened the partition's contexts, those
 * holding the most first, until what they hold covers the excess.
 *
 * The reclaim's state (deadline, action, sequence) is under the device's
 * mem_lock with the quota it is about; the deadline's work item is the
 * partition's and runs under ash_registry_lock, which keeps the partition
 * and its contexts registered while it looks at them.
 */
#include <linux/ktime.h>
#include <linux/pid.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/workqueue.h>

#include "accelshare_drv.h"

/* The partition's charge above its cap; under the device's mem_lock. */
static u64 ash_reclaim_excess(const struct ash_partition *part)
{
	return part->quota.used > part->quota.max ?
	       part->quota.used - part->quota.max : 0;
}

/* Wake @part's contexts' pollers: POLLPRI may have come. */
static void ash_reclaim_notify(struct ash_partition *part)
{
	struct ash_context *ctx;
	u32 id;

	lockdep_assert_held(&ash_registry_lock);
	for (id = 0; (ctx = ash_context_find_from(&id)); id++) {
		if (ctx->part == part)
			wake_up_interruptible_poll(&ctx->wq, EPOLLPRI);
		if (id == U32_MAX)
			break;
	}
}

/**
 * ash_reclaim_update() - the cap of @part was set: start, replace or end
 *	its reclaim
 * @part: the partition, its quota already changed.
 * @deadline_ms: the tenants' notice, 0 for no deadline.
 * @action: ASH_RECLAIM_*, what happens at the deadline.
 *
 * Under ash_registry_lock.  A cap below the charge starts a reclaim (a new
 * sequence number, a new deadline); a cap the charge fits in ends it.
 */
void ash_reclaim_update(struct ash_partition *part, u32 deadline_ms,
			u32 action)
{
	struct ash_device *dev = part->dev;
	bool over;

	lockdep_assert_held(&ash_registry_lock);
	spin_lock(&dev->mem_lock);
	over = ash_reclaim_excess(part) > 0;
	if (over) {
		part->reclaim_seq++;
		part->reclaim_deadline_ns = deadline_ms ?
			ktime_get_ns() + (u64)deadline_ms * NSEC_PER_MSEC : 0;
		part->reclaim_action = deadline_ms ? action : ASH_RECLAIM_NONE;
	} else {
		part->reclaim_deadline_ns = 0;
		part->reclaim_action = ASH_RECLAIM_NONE;
	}
	spin_unlock(&dev->mem_lock);
	if (over && deadline_ms && action != ASH_RECLAIM_NONE)
		mod_delayed_work(system_wq, &part->reclaim_work,
				 msecs_to_jiffies(deadline_ms));
	else
		cancel_delayed_work(&part->reclaim_work);
	if (over) {
		pr_info("partition %s: cap %llu bytes is %llu below its use; %s\n",
			part->name, part->quota.max, ash_reclaim_excess(part),
			!deadline_ms ? "notice given, no deadline" :
			action == ASH_RECLAIM_KILL ? "notice given, kill at the deadline" :
			"notice given, nothing at the deadline");
		ash_reclaim_notify(part);
	}
}

/* The context holding the most memory of @part, not killed yet. */
static struct ash_context *ash_reclaim_victim(struct ash_partition *part)
{
	struct ash_context *ctx, *best = NULL;
	s64 most = 0, used;
	u32 id;

	lockdep_assert_held(&ash_registry_lock);
	for (id = 0; (ctx = ash_context_find_from(&id)); id++) {
		used = atomic64_read(&ctx->mem_used);
		if (ctx->part == part && !ctx->reclaim_killed && used > most) {
			best = ctx;
			most = used;
		}
		if (id == U32_MAX)
			break;
	}
	return best;
}

/* At the deadline: the action, if the partition is still over its cap. */
static void ash_reclaim_deadline(struct work_struct *work)
{
	struct ash_partition *part = container_of(to_delayed_work(work),
						  struct ash_partition,
						  reclaim_work);
	struct ash_device *dev;
	struct ash_context *ctx;
	u64 excess, now, deadline, freed = 0;
	u32 action;

	mutex_lock(&ash_registry_lock);
	if (part->dead)
		goto out;
	dev = part->dev;
	spin_lock(&dev->mem_lock);
	excess = ash_reclaim_excess(part);
	deadline = part->reclaim_deadline_ns;
	action = part->reclaim_action;
	spin_unlock(&dev->mem_lock);
	if (!excess || action != ASH_RECLAIM_KILL || !deadline)
		goto out;
	now = ktime_get_ns();
	if (now < deadline) {
		/* Jiffies rounded down: not quite there yet. */
		mod_delayed_work(system_wq, &part->reclaim_work,
				 nsecs_to_jiffies(deadline - now) + 1);
		goto out;
	}
	while (freed < excess && (ctx = ash_reclaim_victim(part))) {
		u64 used = atomic64_read(&ctx->mem_used);

		ctx->reclaim_killed = true;
		freed += used;
		pr_notice("partition %s: %llu bytes over its cap at the deadline: killing pid %d, which holds %llu bytes\n",
			  part->name, excess, pid_nr(ctx->pid), used);
		ash_audit(ASH_AUDIT_RECLAIM_KILL, dev->id, part->name, NULL,
			  (u64[4]) { pid_nr(ctx->pid), used, excess });
		kill_pid(ctx->pid, SIGKILL, 1);
	}
	/* The deadline is spent: a later reclaim starts a new one. */
	spin_lock(&dev->mem_lock);
	part->reclaim_deadline_ns = 0;
	part->reclaim_action = ASH_RECLAIM_NONE;
	spin_unlock(&dev->mem_lock);
out:
	mutex_unlock(&ash_registry_lock);
}

void ash_reclaim_init(struct ash_partition *part)
{
	INIT_DELAYED_WORK(&part->reclaim_work, ash_reclaim_deadline);
}

/*
 * Before @part is freed, unregistered (dead) already: the deadline's work
 * neither pending nor running.  Without ash_registry_lock, which it takes.
 */
void ash_reclaim_cancel(struct ash_partition *part)
{
	cancel_delayed_work_sync(&part->reclaim_work);
}

/* POLLPRI for a context whose partition is over its cap. */
__poll_t ash_reclaim_poll(struct ash_context *ctx)
{
	struct ash_partition *part = ash_context_partition(ctx);
	__poll_t mask = 0;

	if (!part)
		return 0;
	spin_lock(&part->dev->mem_lock);
	if (ash_reclaim_excess(part))
		mask = EPOLLPRI;
	spin_unlock(&part->dev->mem_lock);
	return mask;
}

int ash_reclaim_query_ioctl(struct ash_context *ctx, void __user *uarg,
			    unsigned int usize)
{
	struct ash_partition *part = ash_context_partition(ctx);
	struct ash_reclaim r;
	int ret;

	ret = ash_copy_in(&r, sizeof(r), uarg, usize);
	if (ret)
		return ret;
	if (r.flags || !ash_is_zero(r.reserved, sizeof(r.reserved)))
		return -EINVAL;
	if (!part)
		return -EBADFD;
	memset(&r, 0, sizeof(r));
	spin_lock(&part->dev->mem_lock);
	r.mem_max = part->quota.max;
	r.mem_used = part->quota.used;
	r.seq = part->reclaim_seq;
	r.bytes = ash_reclaim_excess(part);
	if (r.bytes) {
		r.deadline_ns = part->reclaim_deadline_ns;
		r.action = part->reclaim_action;
	}
	spin_unlock(&part->dev->mem_lock);
	return ash_copy_out(uarg, &r, sizeof(r));
}
