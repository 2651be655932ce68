// SPDX-License-Identifier: GPL-2.0-only
/*
 * accelshare - scrubbing the engine-owned memory of an ASH_DEVICE_ENGINE
 * device, from a buffer's free to its range's reuse.
 *
 * The driver cannot zero memory it has no pages for, so the engine does:
 * a freed buffer's range stays allocated in the device address space --
 * nobody can be given it -- and waits in the device's scrub queue; the
 * engine's next fetch hands it out before any job, the engine zeroes it
 * and completes it, and only then is the range free again.  An allocation
 * that finds no free range while scrubs are pending waits for them (at
 * most a job timeout per scrub) and otherwise fails with -ENOSPC: it never
 * gets a range that was not scrubbed.
 *
 * A scrub the engine fails, or had in flight when it died, waits for the
 * next engine.  The queue and the scrub in flight are under the device's
 * sched_lock; the range goes back to the space under space_lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/jiffies.h>
#include <linux/slab.h>

#include "accelshare_drv.h"

static u64 ash_scrub_bytes(const struct ash_scrub *s)
{
	return s->range.size << PAGE_SHIFT;
}

/**
 * ash_scrub_queue() - quarantine a freed buffer's range until scrubbed
 * @dev: the device.
 * @buf: a buffer in the engine's memory, released: its range moves to the
 *	scrub record allocated with it.
 */
void ash_scrub_queue(struct ash_device *dev, struct ash_buffer *buf)
{
	struct ash_scrub *s = buf->scrub;

	spin_lock(&dev->space_lock);
	rb_erase(&buf->space_node, &dev->space_tree);
	ash_range_move(&dev->space, &buf->range, &s->range);
	spin_unlock(&dev->space_lock);
	buf->scrub = NULL;

	spin_lock(&dev->sched_lock);
	list_add_tail(&s->link, &dev->scrubs);
	dev->scrub_bytes += ash_scrub_bytes(s);
	spin_unlock(&dev->sched_lock);
	wake_up_interruptible_all(&dev->engine_wq);
}

bool ash_scrub_ready_locked(const struct ash_device *dev)
{
	lockdep_assert_held(&dev->sched_lock);
	return !list_empty(&dev->scrubs);
}

/* The oldest pending scrub, now @eng's, or NULL. */
struct ash_scrub *ash_scrub_take_locked(struct ash_engine *eng)
{
	struct ash_device *dev = eng->dev;
	struct ash_scrub *s;

	lockdep_assert_held(&dev->sched_lock);
	s = list_first_entry_or_null(&dev->scrubs, struct ash_scrub, link);
	if (!s)
		return NULL;
	list_del_init(&s->link);
	s->id = ++dev->next_job_id;
	eng->scrub = s;
	return s;
}

/**
 * ash_scrub_done() - the engine completed the scrub it fetched
 * @eng: the engine.
 * @id: the scrub's id.
 * @status: 0: the range is zero, and free again; an error: it stays
 *	quarantined, for the next engine.
 *
 * Return: 0, -ENOENT the engine has no such scrub, -ENODEV it was detached.
 */
int ash_scrub_done(struct ash_engine *eng, u64 id, int status)
{
	struct ash_device *dev = eng->dev;
	struct ash_scrub *s = NULL;
	int ret = 0;

	spin_lock(&dev->sched_lock);
	if (eng->detached) {
		ret = -ENODEV;
	} else if (!eng->scrub || eng->scrub->id != id) {
		ret = -ENOENT;
	} else {
		s = eng->scrub;
		eng->scrub = NULL;
		if (status)
			list_add_tail(&s->link, &dev->scrubs_failed);
		else
			dev->scrub_bytes -= ash_scrub_bytes(s);
	}
	spin_unlock(&dev->sched_lock);
	if (!s)
		return ret;
	if (status) {
		pr_warn_ratelimited("device %u: the engine could not scrub %llu bytes (%d); they wait for the next engine\n",
				    dev->id, ash_scrub_bytes(s), status);
		return 0;
	}
	spin_lock(&dev->space_lock);
	ash_range_free(&dev->space, &s->range);
	dev->scrub_gen++;
	spin_unlock(&dev->space_lock);
	kfree(s);
	wake_up_all(&dev->scrub_wq);
	return 0;
}

/* The engine is gone: its scrub, and those it failed, wait for the next. */
void ash_scrub_engine_gone_locked(struct ash_engine *eng)
{
	struct ash_device *dev = eng->dev;

	lockdep_assert_held(&dev->sched_lock);
	if (eng->scrub) {
		list_add(&eng->scrub->link, &dev->scrubs);
		eng->scrub = NULL;
	}
	list_splice_init(&dev->scrubs_failed, &dev->scrubs);
}

/**
 * ash_scrub_wait() - wait for a scrub to free a range
 * @dev: the device.
 * @gen: @dev->scrub_gen as it was when the allocation found no range.
 *
 * Return: 0 to try again, -ENOSPC if no scrub is pending with an engine to
 * do it or none finished within a job timeout, -EINTR on a signal.
 */
int ash_scrub_wait(struct ash_device *dev, u64 gen)
{
	unsigned long timeout;
	bool pending;
	long ret;

	spin_lock(&dev->sched_lock);
	pending = dev->scrub_bytes && dev->engine;
	timeout = msecs_to_jiffies(dev->job_timeout_ms);
	spin_unlock(&dev->sched_lock);
	if (!pending)
		return -ENOSPC;
	ret = wait_event_interruptible_timeout(dev->scrub_wq,
					       READ_ONCE(dev->scrub_gen) != gen,
					       timeout);
	if (ret < 0)
		return -EINTR;
	return ret ? 0 : -ENOSPC;
}

/* At unload: no engine, no buffers; the records only. */
void ash_scrubs_destroy(struct ash_device *dev)
{
	struct ash_scrub *s, *tmp;

	list_splice_init(&dev->scrubs_failed, &dev->scrubs);
	list_for_each_entry_safe(s, tmp, &dev->scrubs, link) {
		list_del(&s->link);
		kfree(s);
	}
}
