/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * accelshare - internal objects of the driver and who owns what.
 *
 *   device ─┬─ partition ─── (bound) context ─── buffer
 *           └─ memory pool     (quota)            (pages, charge)
 *
 * Lifetimes:
 *  - A device lives from module load to unload.
 *  - A partition lives while it is registered.  Contexts bound to it count
 *    in @nr_contexts, and a partition with bound contexts cannot be
 *    deleted, so a context's pointer to its partition stays valid.
 *  - A context lives as long as its file.  Every mapping of a buffer holds
 *    the file (vma->vm_file), so a context outlives all its buffers.
 *  - A buffer is freed by the put that drops its last reference: its
 *    handle holds one, every mapping of it holds one.  Its pages and its
 *    charge go with it, so a freed but still mapped buffer keeps both
 *    until munmap, and its pages are never handed out while mapped.
 *
 * Locking, outermost first:
 *  1. ash_registry_lock (mutex): the partition and context registries,
 *     partition settings (weight, ACL, limits), binding counts.
 *  2. ash_device.mem_lock (spinlock): the device's memory pool and the
 *     quota and buffer count of each of its partitions.
 *  The buffer table of a context is an xarray, protected by its own lock.
 */
#ifndef ACCELSHARE_DRV_H
#define ACCELSHARE_DRV_H

#include <linux/atomic.h>
#include <linux/kref.h>
#include <linux/mm_types.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/spinlock.h>
#include <linux/uidgid.h>
#include <linux/xarray.h>
#include <uapi/accelshare.h>

#include "quota.h"

#define ASH_DRV_NAME "accelshare"

/* Handles are < 2^(64 - ASH_MMAP_SHIFT - 1) so that mmap offsets fit off_t. */
#define ASH_HANDLE_MAX ((1U << 20) - 1)

/**
 * struct ash_device - one accelerator
 * @id: its number, as userspace names it.
 * @kind: ASH_DEVICE_*.
 * @numa_node: node its memory is allocated on, or NUMA_NO_NODE.
 * @slice_us: scheduler time slice.
 * @mem_lock: protects @pool and, for each partition of this device, its
 *	@quota and @nr_buffers.  Taken inside ash_registry_lock; a spinlock
 *	because a charge is a few additions and must be atomic with the check.
 * @pool: memory accounting of the device.
 * @nr_partitions: partitions on the device, under ash_registry_lock.
 * @nr_contexts: contexts bound to its partitions, under ash_registry_lock.
 */
struct ash_device {
	u32 id;
	u32 kind;
	int numa_node;
	u32 slice_us;
	spinlock_t mem_lock;	/* see above: pool, quotas, nr_buffers */
	struct ash_mem_pool pool;
	u32 nr_partitions;
	u32 nr_contexts;
};

/**
 * struct ash_partition - one organization's share of a device
 * @id: key in the partition registry.
 * @name: unique across devices, NUL-terminated.
 * @dev: the device it is carved from.
 * @weight: compute weight, under ash_registry_lock.
 * @max_contexts: under ash_registry_lock.
 * @max_buffers: per context; written under ash_registry_lock, read
 *	locklessly at allocation (a limit change races benignly).
 * @nr_uids: entries in @uids, under ash_registry_lock, like the rest of
 *	the access list.
 * @nr_gids: entries in @gids.
 * @uids: users that may bind.
 * @gids: groups whose members may bind.
 * @nr_contexts: contexts bound now, under ash_registry_lock.
 * @quota: memory charged and allowed, under @dev->mem_lock.
 * @nr_buffers: buffers alive, under @dev->mem_lock.
 * @busy_ns: engine time used.
 */
struct ash_partition {
	u32 id;
	char name[ASH_NAME_MAX];
	struct ash_device *dev;
	u32 weight;
	u32 max_contexts;
	u32 max_buffers;
	u32 nr_uids;
	u32 nr_gids;
	kuid_t uids[ASH_ACL_MAX];
	kgid_t gids[ASH_ACL_MAX];
	u32 nr_contexts;
	struct ash_mem_quota quota;
	u32 nr_buffers;
	atomic64_t busy_ns;
};

/**
 * struct ash_context - one open file of the tenant node
 * @part: the partition it is bound to, NULL until ASH_IOC_BIND.  Set once
 *	under ash_registry_lock with release semantics; read with
 *	ash_context_partition().
 * @id: key in the context registry, valid once bound.
 * @pid: the thread group that opened the file.
 * @uid: the opener's effective uid.
 * @buffers: handle -> struct ash_buffer; each entry holds a reference.
 * @next_handle: cursor for cyclic handle allocation, so that a freed
 *	handle is not reused at once; under the @buffers xarray's lock.
 * @nr_buffers: buffers alive (handles and freed-but-mapped ones).
 * @mem_used: bytes charged for them.
 * @busy_ns: engine time used.
 */
struct ash_context {
	struct ash_partition *part;
	u32 id;
	struct pid *pid;
	kuid_t uid;
	struct xarray buffers;
	u32 next_handle;
	atomic_t nr_buffers;
	atomic64_t mem_used;
	atomic64_t busy_ns;
};

/**
 * struct ash_buffer - device memory of one context
 * @ref: see the lifetime rules at the top of this file.
 * @ctx: the owner.
 * @handle: its handle in @ctx (while it has one).
 * @size: bytes asked for.
 * @nr_pages: pages backing it; the charge is nr_pages << PAGE_SHIFT.
 * @pages: the pages, zeroed at allocation, each with its own refcount.
 */
struct ash_buffer {
	struct kref ref;
	struct ash_context *ctx;
	u32 handle;
	u64 size;
	unsigned long nr_pages;
	struct page **pages;
};

extern struct mutex ash_registry_lock;

/* main.c: ioctl argument copying shared by every handler */
int ash_copy_in(void *karg, size_t ksize, void __user *uarg,
		unsigned int usize);
int ash_copy_out(void __user *uarg, const void *karg, size_t ksize);
bool ash_is_zero(const void *p, size_t len);

/* device.c */
int ash_device_create(u32 id, u64 capacity, int numa_node, u32 slice_us);
void ash_devices_destroy(void);
struct ash_device *ash_device_lookup(u32 id);

/* partition.c */
bool ash_name_valid(const char *name);
int ash_partition_create_ioctl(void __user *uarg, unsigned int usize);
int ash_partition_set_ioctl(void __user *uarg, unsigned int usize);
int ash_partition_delete_ioctl(void __user *uarg, unsigned int usize);
struct ash_partition *ash_partition_find_name(const char *name);
struct ash_partition *ash_partition_find_from(u32 *id);
bool ash_partition_may_bind(const struct ash_partition *part);
void ash_partitions_destroy(void);

/* context.c */
struct ash_context *ash_context_create(void);
void ash_context_destroy(struct ash_context *ctx);
struct ash_partition *ash_context_partition(struct ash_context *ctx);
int ash_context_bind_ioctl(struct ash_context *ctx, void __user *uarg,
			   unsigned int usize);
struct ash_context *ash_context_find_from(u32 *id);

/* buffer.c */
int ash_buffer_alloc_ioctl(struct ash_context *ctx, void __user *uarg,
			   unsigned int usize);
int ash_buffer_free_ioctl(struct ash_context *ctx, void __user *uarg,
			  unsigned int usize);
int ash_buffer_info_ioctl(struct ash_context *ctx, void __user *uarg,
			  unsigned int usize);
int ash_buffer_mmap(struct ash_context *ctx, struct vm_area_struct *vma);
void ash_buffer_put(struct ash_buffer *buf);

/* stats.c */
int ash_device_info_ioctl(void __user *uarg, unsigned int usize);
int ash_partition_info_ioctl(void __user *uarg, unsigned int usize);
int ash_context_partition_info_ioctl(struct ash_context *ctx,
				     void __user *uarg, unsigned int usize);
int ash_context_info_ioctl(void __user *uarg, unsigned int usize);
extern const struct attribute_group *ash_sysfs_groups[];

#endif /* ACCELSHARE_DRV_H */
