// SPDX-License-Identifier: GPL-2.0-only
/*
 * accelshare - devices.
 *
 * A device is an accelerator's memory and engine time.  Device 0 is
 * host-backed: its memory is pages allocated per buffer, up to the capacity
 * given at module load.  Devices live from module load to unload.
 */
#include <linux/slab.h>
#include <linux/xarray.h>

#include "accelshare_drv.h"

/* id -> struct ash_device; written only at module load and unload. */
static DEFINE_XARRAY(ash_devices);

int ash_device_create(u32 id, u64 capacity, int numa_node, u32 slice_us)
{
	struct ash_device *dev;
	int ret;

	dev = kzalloc(sizeof(*dev), GFP_KERNEL);
	if (!dev)
		return -ENOMEM;
	dev->id = id;
	dev->kind = ASH_DEVICE_HOST;
	dev->numa_node = numa_node;
	dev->slice_us = slice_us;
	spin_lock_init(&dev->mem_lock);
	ash_pool_init(&dev->pool, capacity);

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
		WARN_ON(dev->pool.used || dev->nr_partitions);
		xa_erase(&ash_devices, id);
		kfree(dev);
	}
}

struct ash_device *ash_device_lookup(u32 id)
{
	return xa_load(&ash_devices, id);
}
