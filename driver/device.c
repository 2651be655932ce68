// SPDX-License-Identifier: GPL-2.0-only
/*
 * accelshare - devices.
 *
 * A device is an accelerator's memory and engine time.  Device 0, "host",
 * is host-backed: its memory is pages allocated per buffer, up to the
 * capacity given at module load.  Other devices are registered by the
 * engine that owns their memory (ASH_DEVICE_ENGINE, a GPU's say): the
 * driver manages the address ranges, charges and scheduling of that memory
 * and never touches it.  Devices live until the module is unloaded; a
 * registered device outlives its engine, and the next engine to register
 * under its name takes it back.
 *
 * Each buffer also gets a range of the device address space, by which jobs
 * name it and the engine reaches it.  Host pages get four times the
 * capacity of space, so that fragmentation cannot run it out before the
 * memory runs out.  A registered device's space starts with its arena --
 * the engine's memory, one page of space per page of memory, where a
 * buffer's device address is its place in that memory -- and its staging
 * buffers (host pages) lie above, in four times the capacity again.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/ktime.h>
#include <linux/nodemask.h>
#include <linux/slab.h>
#include <linux/xarray.h>
#include <linux/uaccess.h>

#include "accelshare_drv.h"

/*
 * id -> struct ash_device.  Devices are added at module load and by
 * registration, and removed at unload -- and by a registration that fails
 * after it made its device, which nobody else can have seen: it held
 * ash_registry_lock throughout, and every lookup that goes on to use a
 * device holds that lock too (or a partition of the device).
 */
static DEFINE_XARRAY_ALLOC(ash_devices);

static struct ash_device *ash_device_alloc(u32 kind, const char *name,
					   u64 capacity, u64 arena_pages,
					   int numa_node, u32 slice_us,
					   u32 job_timeout_ms)
{
	struct ash_device *dev;

	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return NULL;
	dev->kind = kind;
	strscpy(dev->name, name, sizeof(dev->name));
	dev->gpu_numa_node = NUMA_NO_NODE;
	dev->arena_pages = arena_pages;
	dev->numa_node = numa_node;
	dev->slice_us = slice_us;
	dev->job_timeout_ms = job_timeout_ms;
	spin_lock_init(&dev->mem_lock);
	ash_pool_init(&dev->pool, capacity);
	dev->serial = ash_serial_next();
	ash_mem_usage_init(&dev->mem_usage, ktime_get_ns());
	spin_lock_init(&dev->sched_lock);
	ash_sched_init(&dev->sched, (u64)slice_us * NSEC_PER_USEC);
	init_waitqueue_head(&dev->engine_wq);
	INIT_DELAYED_WORK(&dev->watchdog, ash_job_watchdog);
	init_rwsem(&dev->engine_rwsem);
	spin_lock_init(&dev->space_lock);
	ash_range_space_init(&dev->space,
			     arena_pages + (capacity >> PAGE_SHIFT) * 4);
	dev->space_tree = RB_ROOT;
	INIT_LIST_HEAD(&dev->scrubs);
	INIT_LIST_HEAD(&dev->scrubs_failed);
	init_waitqueue_head(&dev->scrub_wq);
	return dev;
}

static void ash_device_free(struct ash_device *dev)
{
	ash_scrubs_destroy(dev);
	if (dev->mem_file)
		fput(dev->mem_file);
	kfree(dev);
}

/* Device 0, at module load. */
int ash_device_create(u32 id, u32 kind, u64 capacity, int numa_node,
		      u32 slice_us, u32 job_timeout_ms)
{
	struct ash_device *dev;
	int ret;

	dev = ash_device_alloc(kind, "host", capacity, 0, numa_node, slice_us,
			       job_timeout_ms);
	if (!dev)
		return -ENOMEM;
	dev->id = id;
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
		ash_device_free(dev);
	}
}

/* Under ash_registry_lock, or with a partition of the device held. */
struct ash_device *ash_device_lookup(u32 id)
{
	return xa_load(&ash_devices, id);
}

/*
 * Undo ash_device_register() of a device it created, when the engine
 * could not then take it: as if it never was.  Under ash_registry_lock,
 * which was held since the device was made, so nothing refers to it.
 */
void ash_device_unregister_new(struct ash_device *dev)
{
	lockdep_assert_held(&ash_registry_lock);
	WARN_ON(dev->engine || dev->nr_partitions);
	xa_erase(&ash_devices, dev->id);
	ash_device_free(dev);
}

/* Under ash_registry_lock. */
struct ash_device *ash_device_find_name(const char *name)
{
	struct ash_device *dev;
	unsigned long id;

	lockdep_assert_held(&ash_registry_lock);
	xa_for_each(&ash_devices, id, dev)
		if (!strcmp(dev->name, name))
			return dev;
	return NULL;
}

/* Does a buffer that is not staging live in an engine's memory? */
bool ash_device_has_arena(const struct ash_device *dev)
{
	return dev->kind == ASH_DEVICE_ENGINE;
}

/*
 * A registered device's engine attached: take what it says it runs on,
 * and the memory it handed over (for a device whose memory died with its
 * last engine).  Under ash_registry_lock.
 */
void ash_device_registered(struct ash_device *dev,
			   const struct ash_engine_register *r,
			   struct file *mem_file)
{
	lockdep_assert_held(&ash_registry_lock);
	if (mem_file)		/* ash_device_register() saw it had none */
		dev->mem_file = mem_file;
	strscpy(dev->backend, r->backend, sizeof(dev->backend));
	strscpy(dev->gpu_model, r->gpu_model, sizeof(dev->gpu_model));
	strscpy(dev->gpu_bus_id, r->gpu_bus_id, sizeof(dev->gpu_bus_id));
	dev->gpu_numa_node = r->gpu_numa_node;
	dev->gpu_index = r->gpu_index;
}

/**
 * ash_device_register() - the device an engine registers, new or existing
 * @r: the request, its strings checked to be NUL-terminated, its name
 *	valid, its NUMA node -1 or online.
 * @mem_file: the memory the engine hands over, or NULL: checked here,
 *	taken by ash_device_registered() once the engine is attached.
 * @created: set to whether the device is new.
 *
 * Under ash_registry_lock, which the caller holds until it has attached
 * the engine, so that a device is never registered twice.  Nothing of an
 * existing device changes here: a refused engine changes nothing.
 *
 * Return: the device, or an ERR_PTR: -EEXIST a device the driver made has
 * the name, -EINVAL a re-attach with another backend or size, or memory
 * handed over for a device that keeps its own, -ENOSPC too many devices,
 * -ENOMEM.
 */
struct ash_device *ash_device_register(const struct ash_engine_register *r,
				       struct file *mem_file, bool *created)
{
	u64 capacity = round_down(r->mem_size, PAGE_SIZE);
	struct ash_device *dev;
	u32 id;
	int ret;

	lockdep_assert_held(&ash_registry_lock);
	dev = ash_device_find_name(r->name);
	*created = !dev;
	if (dev) {
		if (dev->kind != ASH_DEVICE_ENGINE)
			return ERR_PTR(-EEXIST);
		if (strcmp(dev->backend, r->backend) ||
		    (r->mem_size && capacity != dev->pool.capacity) ||
		    (mem_file && dev->mem_file))
			return ERR_PTR(-EINVAL);
		return dev;
	}
	if (!capacity || capacity > ASH_DEVICE_MEM_MAX)
		return ERR_PTR(-EINVAL);
	/* The number first (reserved: lookups see nothing there yet). */
	ret = xa_alloc(&ash_devices, &id, NULL, XA_LIMIT(1, ASH_DEVICES_MAX - 1),
		       GFP_KERNEL);
	if (ret)
		return ERR_PTR(ret == -EBUSY ? -ENOSPC : ret);
	dev = ash_device_alloc(ASH_DEVICE_ENGINE, r->name, capacity,
			       capacity >> PAGE_SHIFT, r->gpu_numa_node,
			       READ_ONCE(ash_param_slice_us),
			       READ_ONCE(ash_param_job_timeout_ms));
	if (!dev) {
		xa_erase(&ash_devices, id);
		return ERR_PTR(-ENOMEM);
	}
	strscpy(dev->backend, r->backend, sizeof(dev->backend));
	dev->id = id;
	/* Into the reserved slot: nothing to allocate, cannot fail. */
	xa_store(&ash_devices, id, dev, GFP_KERNEL);
	ash_audit(ASH_AUDIT_DEVICE_REGISTER, id, dev->name, NULL,
		  (u64[4]) { capacity });
	pr_info("device %u (%s): %llu MiB of %s memory registered\n", id,
		dev->name, capacity >> 20, dev->backend);
	return dev;
}

int ash_device_set_ioctl(struct file *file, void __user *uarg,
			 unsigned int usize)
{
	struct ash_device_set d;
	struct ash_device *dev;
	u64 old[4] = {};
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
	mutex_lock(&ash_registry_lock);
	dev = ash_device_lookup(d.device);
	if (!dev) {
		mutex_unlock(&ash_registry_lock);
		return -ENODEV;
	}
	spin_lock(&dev->sched_lock);
	old[0] = dev->slice_us;
	old[1] = dev->job_timeout_ms;
	if (d.flags & ASH_DEVICE_SET_SLICE) {
		WRITE_ONCE(dev->slice_us, d.slice_us);
		ash_sched_set_slice(&dev->sched,
				    (u64)d.slice_us * NSEC_PER_USEC);
	}
	if (d.flags & ASH_DEVICE_SET_JOB_TIMEOUT)
		dev->job_timeout_ms = d.job_timeout_ms;
	spin_unlock(&dev->sched_lock);
	ash_audit(ASH_AUDIT_DEVICE_SET, dev->id, dev->name, old,
		  (u64[4]) { dev->slice_us, dev->job_timeout_ms });
	mutex_unlock(&ash_registry_lock);
	return 0;
}
