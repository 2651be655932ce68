// SPDX-License-Identifier: GPL-2.0-only
/*
 * accelshare - module, device nodes and ioctl tables.
 *
 * /dev/accelshare is the tenant node: every open file is a context.
 * /dev/accelshare-ctl is the control node, for CAP_SYS_ADMIN only.
 * Each ioctl maps to one *_ioctl() function in the file of its concern.
 * Both are opened with nonseekable_open(), so lseek fails with -ESPIPE
 * (no .llseek: no_llseek is gone since 6.12, and was only that).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/numa.h>
#include <linux/nodemask.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "accelshare_drv.h"

static char *ash_mem;
module_param_named(mem, ash_mem, charp, 0444);
MODULE_PARM_DESC(mem, "Memory capacity of device 0, e.g. 512M or 4G (default: a quarter of RAM)");

static int ash_numa_node = NUMA_NO_NODE;
module_param_named(numa_node, ash_numa_node, int, 0444);
MODULE_PARM_DESC(numa_node, "NUMA node device 0's memory is allocated on (default: any)");

static bool ash_mappable = true;
module_param_named(mappable, ash_mappable, bool, 0444);
MODULE_PARM_DESC(mappable, "Tenants may map device 0's memory (default: Y; N: only staging buffers, as on an accelerator whose memory the CPU cannot address)");

unsigned int ash_param_slice_us = 2000;
module_param_named(slice_us, ash_param_slice_us, uint, 0444);
MODULE_PARM_DESC(slice_us, "Scheduler time slice in microseconds (100..1000000, default 2000)");

unsigned int ash_param_job_timeout_ms = ASH_JOB_TIMEOUT_MS_DEFAULT;
module_param_named(job_timeout_ms, ash_param_job_timeout_ms, uint, 0444);
MODULE_PARM_DESC(job_timeout_ms, "Watchdog: a job running longer fails with -ETIMEDOUT (10..3600000 ms, default 10000)");

/**
 * ash_copy_in() - copy an ioctl argument in, extensible by size
 * @karg: the kernel's struct.
 * @ksize: its size.
 * @uarg: the caller's struct.
 * @usize: its size, from the ioctl number.
 *
 * A caller built against a newer header may pass a larger struct; its tail
 * must be zero.  Every struct of this ABI is at its first version, so a
 * smaller struct is malformed.
 *
 * Return: 0, -EINVAL (too small), -E2BIG (non-zero tail) or -EFAULT.
 */
int ash_copy_in(void *karg, size_t ksize, void __user *uarg,
		unsigned int usize)
{
	if (usize < ksize)
		return -EINVAL;
	return copy_struct_from_user(karg, ksize, uarg, usize);
}

/**
 * ash_copy_in_since() - ash_copy_in() for a struct that has grown
 * @karg: the kernel's struct.
 * @ksize: its size.
 * @v1size: its size before it grew: a caller built then passes exactly
 *	that, and the fields it does not know are zero for it.  Sizes between
 *	the two were never released and are refused.
 * @uarg: the caller's struct.
 * @usize: its size; the caller gets back min(@usize, @ksize) bytes.
 *
 * Return: as ash_copy_in().
 */
int ash_copy_in_since(void *karg, size_t ksize, size_t v1size,
		      void __user *uarg, unsigned int usize)
{
	if (usize == v1size) {
		memset(karg, 0, ksize);
		return copy_from_user(karg, uarg, usize) ? -EFAULT : 0;
	}
	return ash_copy_in(karg, ksize, uarg, usize);
}

int ash_copy_out(void __user *uarg, const void *karg, size_t ksize)
{
	return copy_to_user(uarg, karg, ksize) ? -EFAULT : 0;
}

bool ash_is_zero(const void *p, size_t len)
{
	return !memchr_inv(p, 0, len);
}

/*
 * Does @cmd name the ioctl @known?  Type, number and direction must match;
 * the size bits carry the caller's struct size, checked by ash_copy_in().
 */
static bool ash_ioctl_match(unsigned int known, unsigned int cmd)
{
	return _IOC_TYPE(known) == _IOC_TYPE(cmd) &&
	       _IOC_NR(known) == _IOC_NR(cmd) &&
	       _IOC_DIR(known) == _IOC_DIR(cmd);
}

/* Tenant node */

struct ash_tenant_ioctl {
	unsigned int cmd;
	int (*func)(struct ash_context *ctx, void __user *uarg,
		    unsigned int usize);
};

static const struct ash_tenant_ioctl ash_tenant_ioctls[] = {
	{ ASH_IOC_BIND, ash_context_bind_ioctl },
	{ ASH_IOC_PARTITION_INFO, ash_context_partition_info_ioctl },
	{ ASH_IOC_BUF_ALLOC, ash_buffer_alloc_ioctl },
	{ ASH_IOC_BUF_FREE, ash_buffer_free_ioctl },
	{ ASH_IOC_BUF_INFO, ash_buffer_info_ioctl },
	{ ASH_IOC_SUBMIT, ash_job_submit_ioctl },
	{ ASH_IOC_WAIT, ash_job_wait_ioctl },
	{ ASH_IOC_RECLAIM_QUERY, ash_reclaim_query_ioctl },
};

static int ash_tenant_open(struct inode *inode, struct file *file)
{
	struct ash_context *ctx;

	ctx = ash_context_create();
	if (IS_ERR(ctx))
		return PTR_ERR(ctx);
	file->private_data = ctx;
	return nonseekable_open(inode, file);
}

static int ash_tenant_release(struct inode *inode, struct file *file)
{
	ash_context_close(file->private_data);
	return 0;
}

static long ash_tenant_ioctl(struct file *file, unsigned int cmd,
			     unsigned long arg)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ash_tenant_ioctls); i++)
		if (ash_ioctl_match(ash_tenant_ioctls[i].cmd, cmd))
			return ash_tenant_ioctls[i].func(file->private_data,
							 (void __user *)arg,
							 _IOC_SIZE(cmd));
	return -ENOTTY;
}

static int ash_tenant_mmap(struct file *file, struct vm_area_struct *vma)
{
	return ash_buffer_mmap(file->private_data, vma);
}

static __poll_t ash_tenant_poll(struct file *file, poll_table *wait)
{
	struct ash_context *ctx = file->private_data;

	poll_wait(file, &ctx->wq, wait);
	return ash_job_poll(ctx) | ash_reclaim_poll(ctx);
}

static void ash_tenant_show_fdinfo(struct seq_file *m, struct file *file)
{
	ash_context_show_fdinfo(m, file->private_data);
}

static const struct file_operations ash_tenant_fops = {
	.owner = THIS_MODULE,
	.open = ash_tenant_open,
	.release = ash_tenant_release,
	.unlocked_ioctl = ash_tenant_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = ash_tenant_mmap,
	.poll = ash_tenant_poll,
	.show_fdinfo = ash_tenant_show_fdinfo,
};

static struct miscdevice ash_tenant_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = ASH_DRV_NAME,
	.fops = &ash_tenant_fops,
	.mode = 0666,
};

/* Control node */

struct ash_ctl_ioctl {
	unsigned int cmd;
	int (*func)(struct file *file, void __user *uarg, unsigned int usize);
};

static const struct ash_ctl_ioctl ash_ctl_ioctls[] = {
	{ ASH_CTL_DEVICE_INFO, ash_device_info_ioctl },
	{ ASH_CTL_PART_CREATE, ash_partition_create_ioctl },
	{ ASH_CTL_PART_SET, ash_partition_set_ioctl },
	{ ASH_CTL_PART_DELETE, ash_partition_delete_ioctl },
	{ ASH_CTL_PART_INFO, ash_partition_info_ioctl },
	{ ASH_CTL_CTX_INFO, ash_context_info_ioctl },
	{ ASH_CTL_ENGINE_ATTACH, ash_engine_attach_ioctl },
	{ ASH_CTL_ENGINE_FETCH, ash_engine_fetch_ioctl },
	{ ASH_CTL_ENGINE_COMPLETE, ash_engine_complete_ioctl },
	{ ASH_CTL_DEVICE_SET, ash_device_set_ioctl },
	{ ASH_CTL_ENGINE_REGISTER, ash_engine_register_ioctl },
	{ ASH_CTL_USAGE, ash_usage_ioctl },
	{ ASH_CTL_AUDIT_READ, ash_audit_read_ioctl },
};

/*
 * The privilege check is made at open, as for other device nodes: a file
 * opened by an administrator may be handed to a helper.
 */
static int ash_ctl_open(struct inode *inode, struct file *file)
{
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	file->private_data = NULL;	/* the engine, once attached */
	return nonseekable_open(inode, file);
}

static long ash_ctl_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ash_ctl_ioctls); i++)
		if (ash_ioctl_match(ash_ctl_ioctls[i].cmd, cmd))
			return ash_ctl_ioctls[i].func(file, (void __user *)arg,
						      _IOC_SIZE(cmd));
	return -ENOTTY;
}

static int ash_ctl_release(struct inode *inode, struct file *file)
{
	ash_engine_detach(file);
	return 0;
}

static const struct file_operations ash_ctl_fops = {
	.owner = THIS_MODULE,
	.open = ash_ctl_open,
	.release = ash_ctl_release,
	.unlocked_ioctl = ash_ctl_ioctl,
	.mmap = ash_engine_mmap,
	.poll = ash_engine_poll,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice ash_ctl_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = ASH_DRV_NAME "-ctl",
	.fops = &ash_ctl_fops,
	.mode = 0600,
	.groups = ash_sysfs_groups,
};

/*
 * Is @file one of this driver's nodes?  Such a file is never taken as an
 * engine's memory: a device holding it would hold the module.
 */
bool ash_file_is_ours(const struct file *file)
{
	return file->f_op == &ash_ctl_fops || file->f_op == &ash_tenant_fops;
}

/* Module */

static int __init ash_parse_params(u64 *capacity)
{
	char *end;

	if (ash_mem) {
		*capacity = memparse(ash_mem, &end);
		if (end == ash_mem || *end) {
			pr_err("mem=%s: not a size (use bytes or K, M, G, T)\n",
			       ash_mem);
			return -EINVAL;
		}
	} else {
		*capacity = ((u64)totalram_pages() << PAGE_SHIFT) / 4;
	}
	*capacity = round_down(*capacity, PAGE_SIZE);
	if (!*capacity) {
		pr_err("mem=%s: capacity must be at least one page\n", ash_mem);
		return -EINVAL;
	}
	if (ash_numa_node != NUMA_NO_NODE &&
	    (ash_numa_node < 0 || ash_numa_node >= MAX_NUMNODES ||
	     !node_online(ash_numa_node))) {
		pr_err("numa_node=%d: no such online node\n", ash_numa_node);
		return -EINVAL;
	}
	if (ash_param_slice_us < 100 || ash_param_slice_us > 1000000) {
		pr_err("slice_us=%u: must be 100..1000000\n", ash_param_slice_us);
		return -EINVAL;
	}
	if (ash_param_job_timeout_ms < ASH_JOB_TIMEOUT_MS_MIN ||
	    ash_param_job_timeout_ms > ASH_JOB_TIMEOUT_MS_MAX) {
		pr_err("job_timeout_ms=%u: must be %u..%u\n", ash_param_job_timeout_ms,
		       ASH_JOB_TIMEOUT_MS_MIN, ASH_JOB_TIMEOUT_MS_MAX);
		return -EINVAL;
	}
	return 0;
}

static int __init ash_init(void)
{
	u64 capacity;
	int ret;

	ret = ash_parse_params(&capacity);
	if (ret)
		return ret;
	ash_instance = get_random_u64();
	ret = ash_audit_init();
	if (ret)
		return ret;
	ret = ash_device_create(0, ash_mappable ? ASH_DEVICE_HOST :
				ASH_DEVICE_NOMAP, capacity, ash_numa_node,
				ash_param_slice_us, ash_param_job_timeout_ms);
	if (ret)
		goto err_audit;
	ret = misc_register(&ash_tenant_dev);
	if (ret)
		goto err_devices;
	ret = misc_register(&ash_ctl_dev);
	if (ret)
		goto err_tenant_dev;
	pr_info("device 0: %llu MiB host memory\n", capacity >> 20);
	return 0;

err_tenant_dev:
	misc_deregister(&ash_tenant_dev);
err_devices:
	ash_devices_destroy();
err_audit:
	ash_audit_exit();
	return ret;
}

/* No file of either node is open (each holds the module), so no context. */
static void __exit ash_exit(void)
{
	misc_deregister(&ash_ctl_dev);
	misc_deregister(&ash_tenant_dev);
	ash_partitions_destroy();
	ash_devices_destroy();
	ash_audit_exit();
}

module_init(ash_init);
module_exit(ash_exit);

MODULE_DESCRIPTION("accelshare: accelerator memory partitions and time-slicing for tenants");
MODULE_LICENSE("GPL");
