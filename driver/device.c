// SPDX-License-Identifier: GPL-2.0-only
/*
 * accelshare - devices.
 *
 * A device is an accelerator's memory and engine time.  Device 0 is
 * host-backed: its memory is pages allocated per buffer, up to the capacity
 * given at module load.  Devices live from module load to unload.
 *
 * Each buffer also gets a range of the device address space, by which jobs
 * name it and the engine maps it.  The space is four times the capacity,
 * so that fragmentation cannot run it out before the memory runs out.
 */
#include <linux/slab.h>
#include <linux/xarray.h>
#include <linux/uaccess.h>

#include "accelshare_drv.h"

/* id -> struct ash_device; written only at module load and unload. */
static DEFINE_XARRAY(ash_devices);

int ash_device_create(u32 id, u32 kind, u64 capacity, int numa_node,
		      u32 slice_us, u32 job_timeout_ms)
{
	struct ash_device *dev;
	int ret;

	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return -ENOMEM;
	dev->id = id;
	dev->kind = kind;
	dev->numa_node = numa_node;
	dev->slice_us = slice_us;
	dev->job_timeout_ms = job_timeout_ms;
	spin_lock_init(&dev->mem_lock);
	ash_pool_init(&dev->pool, capacity);
	spin_lock_init(&dev->sched_lock);
	ash_sched_init(&dev->sched, (u64)slice_us * NSEC_PER_USEC);
	init_waitqueue_head(&dev->engine_wq);
	INIT_DELAYED_WORK(&dev->watchdog, ash_job_watchdog);
	init_rwsem(&dev->engine_rwsem);
	spin_lock_init(&dev->space_lock);
	ash_range_space_init(&dev->space, (capacity >> PAGE_SHIFT) * 4);
	dev->space_tree = RB_ROOT;

	ret = xa_insert(&ash_devices, id, dev, GFP_KERNEL);
	if (ret) {
		kfree(dev);
		return ret;
	}
	return 0;
}

/* Called at unload, after every partition is gone. */
void ash_devices_destroy(void)
{
	struct ash_device *dev;
	unsigned long id;

	xa_for_each(&ash_devices, id, dev) {
		WARN_ON(dev->pool.used || dev->nr_partitions || dev->engine);
		cancel_delayed_work_sync(&dev->watchdog);
		xa_erase(&ash_devices, id);
		kfree(dev);
	}
}

struct ash_device *ash_device_lookup(u32 id)
{
	return xa_load(&ash_devices, id);
}

int ash_device_set_ioctl(struct file *file, void __user *uarg,
			 unsigned int usize)
{
	struct ash_device_set d;
	struct ash_device *dev;
	int ret;

	ret = ash_copy_in(&d, sizeof(d), uarg, usize);
	if (ret)
		return ret;
	if (!d.flags ||
	    (d.flags & ~(ASH_DEVICE_SET_SLICE | ASH_DEVICE_SET_JOB_TIMEOUT)) ||
	    !ash_is_zero(d.reserved, sizeof(d.reserved)))
		return -EINVAL;
	if ((d.flags & ASH_DEVICE_SET_SLICE) ?
	    d.slice_us < 100 || d.slice_us > 1000000 : d.slice_us)
		return -EINVAL;
	if ((d.flags & ASH_DEVICE_SET_JOB_TIMEOUT) ?
	    d.job_timeout_ms < ASH_JOB_TIMEOUT_MS_MIN ||
	    d.job_timeout_ms > ASH_JOB_TIMEOUT_MS_MAX : d.job_timeout_ms)
		return -EINVAL;
	dev = ash_device_lookup(d.device);
	if (!dev)
		return -ENODEV;
	spin_lock(&dev->sched_lock);
	if (d.flags & ASH_DEVICE_SET_SLICE) {
		WRITE_ONCE(dev->slice_us, d.slice_us);
		ash_sched_set_slice(&dev->sched,
				    (u64)d.slice_us * NSEC_PER_USEC);
	}
	if (d.flags & ASH_DEVICE_SET_JOB_TIMEOUT)
		dev->job_timeout_ms = d.job_timeout_ms;
	spin_unlock(&dev->sched_lock);
	return 0;
}
