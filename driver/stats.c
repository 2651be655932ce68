// SPDX-License-Identifier: GPL-2.0-only
/*
 * accelshare - statistics queries: devices, partitions and contexts as the
 * administrator (control node) and a tenant (its own partition) see them.
 */
#include <linux/cred.h>
#include <linux/device.h>
#include <linux/ktime.h>
#include <linux/pid.h>
#include <linux/overflow.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "accelshare_drv.h"

/*
 * What @u integrated, up to now, of a charge of @used bytes.  Under the
 * device's mem_lock.
 */
static u64 ash_mem_kib_seconds(struct ash_mem_usage *u, u64 used)
{
	ash_mem_usage_advance(u, used, ktime_get_ns());
	return u->kib_s;
}

int ash_device_info_ioctl(struct file *file, void __user *uarg,
			  unsigned int usize)
{
	struct ash_device_info info;
	struct ash_device *dev;
	int ret;

	BUILD_BUG_ON(offsetof(struct ash_device_info, name) !=
		     ASH_DEVICE_INFO_SIZE_V1);
	ret = ash_copy_in_since(&info, sizeof(info), ASH_DEVICE_INFO_SIZE_V1,
				uarg, usize);
	if (ret)
		return ret;
	if ((info.flags & ~ASH_DEVICE_INFO_BY_NAME) ||
	    !ash_is_zero(info.reserved, sizeof(info.reserved)) ||
	    !ash_is_zero(info.reserved2, sizeof(info.reserved2)) ||
	    ((info.flags & ASH_DEVICE_INFO_BY_NAME) &&
	     !memchr(info.name, 0, sizeof(info.name))))
		return -EINVAL;

	mutex_lock(&ash_registry_lock);
	dev = info.flags & ASH_DEVICE_INFO_BY_NAME ?
	      ash_device_find_name(info.name) : ash_device_lookup(info.device);
	if (!dev) {
		mutex_unlock(&ash_registry_lock);
		return -ENODEV;
	}
	info.device = dev->id;
	info.kind = dev->kind;
	strscpy_pad(info.name, dev->name, sizeof(info.name));
	strscpy_pad(info.backend, dev->backend, sizeof(info.backend));
	strscpy_pad(info.gpu_model, dev->gpu_model, sizeof(info.gpu_model));
	strscpy_pad(info.gpu_bus_id, dev->gpu_bus_id, sizeof(info.gpu_bus_id));
	info.gpu_numa_node = dev->gpu_numa_node;
	info.gpu_index = dev->gpu_index;
	info.persistent = ash_device_has_arena(dev) ? !!dev->mem_file : 1;
	info.numa_node = dev->numa_node;
	info.nr_partitions = dev->nr_partitions;
	info.nr_contexts = dev->nr_contexts;
	spin_lock(&dev->mem_lock);
	info.mem_capacity = dev->pool.capacity;
	info.mem_used = dev->pool.used;
	info.mem_min_total = dev->pool.min_total;
	info.mem_kib_seconds = ash_mem_kib_seconds(&dev->mem_usage,
						   dev->pool.used);
	spin_unlock(&dev->mem_lock);
	spin_lock(&dev->sched_lock);
	info.slice_us = dev->slice_us;
	info.job_timeout_ms = dev->job_timeout_ms;
	info.job_budget = dev->job_budget;
	info.jobs_timed_out = dev->jobs_timed_out;
	info.has_engine = !!dev->engine;
	info.engine_pid = dev->engine ? pid_vnr(dev->engine->pid) : 0;
	info.busy_ns = dev->busy_ns;
	info.jobs_queued = dev->nr_queued;
	info.mem_scrubbing = dev->scrub_bytes;
	spin_unlock(&dev->sched_lock);
	spin_lock(&dev->space_lock);
	info.buffers_lost = dev->buffers_lost;
	spin_unlock(&dev->space_lock);
	mutex_unlock(&ash_registry_lock);
	return ash_copy_out(uarg, &info, min_t(size_t, usize, sizeof(info)));
}

/*
 * The device's counters and its partitions', @n of them, each set read
 * under the lock that guards it: the engine's under sched_lock, the memory
 * integrals advanced to one instant under mem_lock.  Under
 * ash_registry_lock, so that the partitions stay what @parts holds.
 */
static void ash_usage_fill(struct ash_usage *u, struct ash_device *dev,
			   struct ash_partition **parts,
			   struct ash_usage_entry *e, u32 n)
{
	u64 now;
	u32 i;

	lockdep_assert_held(&ash_registry_lock);
	u->instance = ash_instance;
	u->serial = dev->serial;
	for (i = 0; i < n; i++) {
		e[i].id = parts[i]->id;
		e[i].serial = parts[i]->serial;
		strscpy_pad(e[i].name, parts[i]->name, sizeof(e[i].name));
	}
	spin_lock(&dev->sched_lock);
	u->busy_ns = dev->busy_ns;
	u->jobs_completed = dev->jobs_completed;
	u->jobs_failed = dev->jobs_failed;
	for (i = 0; i < n; i++) {
		e[i].busy_ns = parts[i]->busy_ns;
		e[i].jobs_completed = parts[i]->jobs_completed;
		e[i].jobs_failed = parts[i]->jobs_failed;
	}
	spin_unlock(&dev->sched_lock);
	spin_lock(&dev->mem_lock);
	now = ktime_get_ns();
	u->mem_time_ns = now;
	u->mem_used = dev->pool.used;
	ash_mem_usage_advance(&dev->mem_usage, dev->pool.used, now);
	u->mem_kib_seconds = dev->mem_usage.kib_s;
	for (i = 0; i < n; i++) {
		struct ash_partition *part = parts[i];

		e[i].mem_used = part->quota.used;
		ash_mem_usage_advance(&part->mem_usage, part->quota.used, now);
		e[i].mem_kib_seconds = part->mem_usage.kib_s;
	}
	spin_unlock(&dev->mem_lock);
}

int ash_usage_ioctl(struct file *file, void __user *uarg, unsigned int usize)
{
	struct ash_partition **parts = NULL;
	struct ash_usage_entry *entries = NULL;
	struct ash_partition *part;
	struct ash_device *dev;
	struct ash_usage u;
	u32 id, n = 0, room;
	int ret;

	ret = ash_copy_in(&u, sizeof(u), uarg, usize);
	if (ret)
		return ret;
	if (u.flags || u.pad || !ash_is_zero(u.reserved, sizeof(u.reserved)))
		return -EINVAL;
	room = u.nr_entries;

	mutex_lock(&ash_registry_lock);
	dev = ash_device_lookup(u.device);
	if (!dev) {
		ret = -ENODEV;
		goto out_unlock;
	}
	if (room >= dev->nr_partitions && dev->nr_partitions) {
		/* One allocation: the entries, then the partitions. */
		entries = kzalloc(array_size(dev->nr_partitions,
					     sizeof(*entries) + sizeof(*parts)),
				  GFP_KERNEL);
		if (!entries) {
			ret = -ENOMEM;
			goto out_unlock;
		}
		parts = (struct ash_partition **)(entries + dev->nr_partitions);
		for (id = 0; n < dev->nr_partitions &&
		     (part = ash_partition_find_from(&id)); id++)
			if (part->dev == dev)
				parts[n++] = part;
	}
	ash_usage_fill(&u, dev, parts, entries, n);
	u.nr_entries = dev->nr_partitions;
	mutex_unlock(&ash_registry_lock);

	if (n && copy_to_user(u64_to_user_ptr(u.entries), entries,
			      array_size(n, sizeof(*entries))))
		ret = -EFAULT;
	else
		ret = ash_copy_out(uarg, &u, sizeof(u));
	goto out_free;

out_unlock:
	mutex_unlock(&ash_registry_lock);
out_free:
	kfree(entries);
	return ret;
}

/* Fill @info from @part; the access list only for the administrator. */
static void ash_partition_fill(struct ash_partition_info *info,
			       struct ash_partition *part, bool with_acl)
{
	struct user_namespace *ns = current_user_ns();
	struct ash_device *dev = part->dev;
	u32 i;

	lockdep_assert_held(&ash_registry_lock);
	memset(info, 0, sizeof(*info));
	info->id = part->id;
	strscpy(info->name, part->name, sizeof(info->name));
	info->device = dev->id;
	info->weight = part->weight;
	info->max_contexts = part->max_contexts;
	info->max_buffers = part->max_buffers;
	info->nr_contexts = part->nr_contexts;
	spin_lock(&dev->sched_lock);
	info->busy_ns = part->busy_ns;
	info->jobs_completed = part->jobs_completed;
	info->jobs_failed = part->jobs_failed;
	info->wait_ns = part->wait_ns;
	info->jobs_timed_out = part->jobs_timed_out;
	info->jobs_queued = part->nr_queued;
	spin_unlock(&dev->sched_lock);
	spin_lock(&dev->mem_lock);
	info->mem_max = part->quota.max;
	info->mem_min = part->quota.min;
	info->mem_used = part->quota.used;
	info->nr_buffers = part->nr_buffers;
	info->mem_kib_seconds = ash_mem_kib_seconds(&part->mem_usage,
						    part->quota.used);
	spin_unlock(&dev->mem_lock);
	if (!with_acl)
		return;
	info->nr_uids = part->nr_uids;
	info->nr_gids = part->nr_gids;
	for (i = 0; i < part->nr_uids; i++)
		info->uids[i] = from_kuid_munged(ns, part->uids[i]);
	for (i = 0; i < part->nr_gids; i++)
		info->gids[i] = from_kgid_munged(ns, part->gids[i]);
}

/* Input checks shared by both nodes; @flags is what the node accepts. */
static int ash_partition_info_in(struct ash_partition_info *info,
				 void __user *uarg, unsigned int usize,
				 u32 flags)
{
	int ret;

	ret = ash_copy_in(info, sizeof(*info), uarg, usize);
	if (ret)
		return ret;
	if ((info->flags & ~flags) ||
	    !ash_is_zero(info->reserved, sizeof(info->reserved)))
		return -EINVAL;
	if ((info->flags & ASH_PART_INFO_BY_NAME) &&
	    !ash_name_valid(info->name))
		return -EINVAL;
	return 0;
}

int ash_partition_info_ioctl(struct file *file, void __user *uarg,
			     unsigned int usize)
{
	struct ash_partition_info info;
	struct ash_partition *part;
	u32 id;
	int ret;

	ret = ash_partition_info_in(&info, uarg, usize, ASH_PART_INFO_BY_NAME);
	if (ret)
		return ret;

	mutex_lock(&ash_registry_lock);
	id = info.id;
	if (info.flags & ASH_PART_INFO_BY_NAME)
		part = ash_partition_find_name(info.name);
	else
		part = ash_partition_find_from(&id);
	if (part)
		ash_partition_fill(&info, part, true);
	mutex_unlock(&ash_registry_lock);
	if (!part)
		return -ENOENT;
	return ash_copy_out(uarg, &info, sizeof(info));
}

int ash_context_partition_info_ioctl(struct ash_context *ctx,
				     void __user *uarg, unsigned int usize)
{
	struct ash_partition *part = ash_context_partition(ctx);
	struct ash_partition_info info;
	int ret;

	ret = ash_partition_info_in(&info, uarg, usize, 0);
	if (ret)
		return ret;
	if (!part)
		return -EBADFD;
	mutex_lock(&ash_registry_lock);
	ash_partition_fill(&info, part, false);
	mutex_unlock(&ash_registry_lock);
	return ash_copy_out(uarg, &info, sizeof(info));
}

int ash_context_info_ioctl(struct file *file, void __user *uarg,
			   unsigned int usize)
{
	struct ash_context_info info;
	struct ash_context *ctx;
	u32 id;
	int ret;

	ret = ash_copy_in(&info, sizeof(info), uarg, usize);
	if (ret)
		return ret;
	if (info.flags || info.pad)
		return -EINVAL;

	mutex_lock(&ash_registry_lock);
	id = info.id;
	ctx = ash_context_find_from(&id);
	if (ctx) {
		memset(&info, 0, sizeof(info));
		info.id = id;
		info.pid = pid_vnr(ctx->pid);
		info.uid = from_kuid_munged(current_user_ns(), ctx->uid);
		info.partition_id = ctx->part->id;
		info.device = ctx->part->dev->id;
		strscpy(info.partition, ctx->part->name,
			sizeof(info.partition));
		info.nr_buffers = atomic_read(&ctx->nr_buffers);
		spin_lock(&ctx->part->dev->mem_lock);
		info.mem_used = atomic64_read(&ctx->mem_used);
		info.mem_kib_seconds = ash_mem_kib_seconds(&ctx->mem_usage,
							   info.mem_used);
		spin_unlock(&ctx->part->dev->mem_lock);
		spin_lock(&ctx->part->dev->sched_lock);
		info.busy_ns = ctx->busy_ns;
		info.jobs_completed = ctx->jobs_completed;
		info.jobs_failed = ctx->jobs_failed;
		info.wait_ns = ctx->wait_ns;
		info.jobs_timed_out = ctx->jobs_timed_out;
		info.banned = ctx->banned;
		spin_unlock(&ctx->part->dev->sched_lock);
	}
	mutex_unlock(&ash_registry_lock);
	if (!ctx)
		return -ENOENT;
	return ash_copy_out(uarg, &info, sizeof(info));
}

/**
 * ash_context_show_fdinfo() - a tenant file's usage in /proc/PID/fdinfo
 * @m: the fdinfo file.
 * @ctx: the context.
 *
 * In the keys of the kernel's DRM client usage stats
 * (Documentation/gpu/drm-usage-stats.rst), so that tools that read them
 * (gputop, nvtop and kin) see accelshare's clients: the engine's time in
 * drm-engine-compute, the context's charged memory, all resident, in the
 * "memory" region.  Nothing is shared between contexts (drm-shared-memory
 * is 0).  Keys of accelshare's own follow, prefixed with its name.
 */
void ash_context_show_fdinfo(struct seq_file *m, struct ash_context *ctx)
{
	struct ash_partition *part = ash_context_partition(ctx);
	u64 busy_ns, completed, failed, used, kib_s;
	struct ash_device *dev;

	seq_printf(m, "drm-driver:\t%s\n", ASH_DRV_NAME);
	seq_printf(m, "drm-client-id:\t%llu\n", ctx->client_id);
	if (!part)
		return;
	dev = part->dev;
	spin_lock(&dev->sched_lock);
	busy_ns = ctx->busy_ns;
	completed = ctx->jobs_completed;
	failed = ctx->jobs_failed;
	spin_unlock(&dev->sched_lock);
	spin_lock(&dev->mem_lock);
	used = atomic64_read(&ctx->mem_used);
	kib_s = ash_mem_kib_seconds(&ctx->mem_usage, used);
	spin_unlock(&dev->mem_lock);

	seq_printf(m, "drm-engine-compute:\t%llu ns\n", busy_ns);
	seq_printf(m, "drm-total-memory:\t%llu KiB\n", used >> 10);
	seq_puts(m, "drm-shared-memory:\t0 KiB\n");
	seq_printf(m, "drm-resident-memory:\t%llu KiB\n", used >> 10);
	/* Set at creation, never changed: no lock. */
	seq_printf(m, "%s-device:\t%s\n", ASH_DRV_NAME, dev->name);
	seq_printf(m, "%s-partition:\t%s\n", ASH_DRV_NAME, part->name);
	seq_printf(m, "%s-jobs-completed:\t%llu\n", ASH_DRV_NAME, completed);
	seq_printf(m, "%s-jobs-failed:\t%llu\n", ASH_DRV_NAME, failed);
	seq_printf(m, "%s-memory-kib-seconds:\t%llu\n", ASH_DRV_NAME, kib_s);
}

/*
 * Read-only sysfs attributes for monitoring, under the control node:
 * /sys/class/misc/accelshare-ctl/device0/{mem_capacity,mem_used,...}.
 */
static struct ash_device *ash_sysfs_device(void)
{
	return ash_device_lookup(0);
}

#define ASH_DEVICE_ATTR(field, expr)					\
static ssize_t field##_show(struct device *d,				\
			    struct device_attribute *attr, char *buf)	\
{									\
	struct ash_device *dev = ash_sysfs_device();			\
	u64 val;							\
									\
	mutex_lock(&ash_registry_lock);					\
	spin_lock(&dev->mem_lock);					\
	val = (expr);							\
	spin_unlock(&dev->mem_lock);					\
	mutex_unlock(&ash_registry_lock);				\
	return sysfs_emit(buf, "%llu\n", val);				\
}									\
static DEVICE_ATTR_RO(field)

ASH_DEVICE_ATTR(mem_capacity, dev->pool.capacity);
ASH_DEVICE_ATTR(mem_used, dev->pool.used);
ASH_DEVICE_ATTR(mem_min_total, dev->pool.min_total);
ASH_DEVICE_ATTR(partitions, dev->nr_partitions);
ASH_DEVICE_ATTR(contexts, dev->nr_contexts);

static struct attribute *ash_device0_attrs[] = {
	&dev_attr_mem_capacity.attr,
	&dev_attr_mem_used.attr,
	&dev_attr_mem_min_total.attr,
	&dev_attr_partitions.attr,
	&dev_attr_contexts.attr,
	NULL,
};

static const struct attribute_group ash_device0_group = {
	.name = "device0",
	.attrs = ash_device0_attrs,
};

const struct attribute_group *ash_sysfs_groups[] = {
	&ash_device0_group,
	NULL,
};
