/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * accelshare - kernel ABI of the accelshare driver.
 *
 * Two character devices:
 *   /dev/accelshare      tenant node: bind a context to a partition,
 *                        allocate, query, free and mmap device memory.
 *   /dev/accelshare-ctl  control node (CAP_SYS_ADMIN): devices, partitions,
 *                        statistics.
 *
 * Rules every ioctl follows (see docs/uapi.md for the full reference):
 *  - Structs are made of fixed-width fields, naturally aligned, with
 *    explicit padding.  User pointers, where any, travel as __u64.
 *  - Every struct has a @flags field; bits not defined here are rejected
 *    with -EINVAL.  @pad and @reserved fields must be zero on input
 *    (-EINVAL otherwise) and are zero on output.
 *  - Structs are extensible by size: the size encoded in the ioctl number
 *    is the size the caller was built with.  A larger struct from a newer
 *    caller is accepted when its unknown tail is zero (else -E2BIG); a
 *    smaller one from an older caller is zero-extended.  Output is copied
 *    back up to the caller's size.
 *  - Output-only fields are ignored on input.
 *  - Unknown ioctls fail with -ENOTTY, bad user pointers with -EFAULT.
 */
#ifndef _UAPI_LINUX_ACCELSHARE_H
#define _UAPI_LINUX_ACCELSHARE_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define ASH_IOC_MAGIC		0xC5

/*
 * Partition names: 1..31 bytes of [A-Za-z0-9_.-], not starting with '-' or
 * '.', NUL-terminated inside the field.
 */
#define ASH_NAME_MAX		32

/* Entries in a partition's access list, for uids and for gids each. */
#define ASH_ACL_MAX		16

/*
 * A buffer's mmap offset on the tenant node is its handle shifted left by
 * ASH_MMAP_SHIFT, so no buffer may be larger than 1 << ASH_MMAP_SHIFT bytes.
 */
#define ASH_MMAP_SHIFT		40
#define ASH_BUF_SIZE_MAX	(1ULL << ASH_MMAP_SHIFT)

/* Values of struct ash_device_info.kind */
#define ASH_DEVICE_HOST		1	/* memory is host pages, mappable */

/**
 * struct ash_bind - bind a tenant context to a partition (ASH_IOC_BIND)
 * @flags: in, must be 0.
 * @pad: must be 0.
 * @partition: in, the partition's name.
 * @reserved: must be 0.
 *
 * A context is bound once, for its lifetime.  Errors: -ENOENT no such
 * partition, -EACCES the caller is not on its access list, -EBUSY already
 * bound, -EUSERS the partition has max_contexts contexts.
 */
struct ash_bind {
	__u32 flags;
	__u32 pad;
	char partition[ASH_NAME_MAX];
	__u64 reserved[2];
};

/**
 * struct ash_buf_alloc - allocate device memory (ASH_IOC_BUF_ALLOC)
 * @size: in, bytes, 1..ASH_BUF_SIZE_MAX.  The partition is charged the size
 *	rounded up to whole pages.
 * @flags: in, must be 0.
 * @handle: out, the buffer's handle in this context (never 0).
 * @mmap_offset: out, the offset to mmap the buffer at on this fd.
 * @reserved: must be 0.
 *
 * The memory is zeroed.  Errors: -EBADFD context not bound, -EDQUOT the
 * partition's mem_max would be passed, -ENOSPC the device's capacity (less
 * other partitions' unused guarantees) would be passed, -EMFILE the context
 * has max_buffers buffers, -ENOMEM the kernel has no pages.
 */
struct ash_buf_alloc {
	__u64 size;
	__u32 flags;
	__u32 handle;
	__u64 mmap_offset;
	__u64 reserved[2];
};

/**
 * struct ash_buf_free - drop a buffer's handle (ASH_IOC_BUF_FREE)
 * @handle: in.
 * @flags: in, must be 0.
 * @reserved: must be 0.
 *
 * The handle is gone at once.  The memory and its charge stay until the
 * last mapping of it is unmapped.  Errors: -ENOENT no such handle here.
 */
struct ash_buf_free {
	__u32 handle;
	__u32 flags;
	__u64 reserved;
};

/**
 * struct ash_buf_info - query a buffer (ASH_IOC_BUF_INFO)
 * @handle: in.
 * @flags: in, must be 0.
 * @size: out, bytes as allocated.
 * @mmap_offset: out.
 * @reserved: must be 0.
 */
struct ash_buf_info {
	__u32 handle;
	__u32 flags;
	__u64 size;
	__u64 mmap_offset;
	__u64 reserved[2];
};

/* struct ash_partition_info.flags */
#define ASH_PART_INFO_BY_NAME	(1U << 0)	/* look up @name, not @id */

/**
 * struct ash_partition_info - one partition's settings and usage
 * @flags: in, ASH_PART_INFO_* (control node); 0 on the tenant node.
 * @id: in, control node without BY_NAME: report the partition with the
 *	smallest id >= @id (-ENOENT if none), so that a caller walks all of
 *	them by passing the last id + 1.  Out: the partition's id.
 * @name: in with BY_NAME; out.
 * @device: out, the device the partition belongs to.
 * @weight: out, compute weight.
 * @mem_max: out, hard cap in bytes.
 * @mem_min: out, guaranteed bytes.
 * @mem_used: out, bytes charged now.
 * @max_contexts: out, contexts that may bind at once.
 * @max_buffers: out, buffers each context may hold.
 * @nr_contexts: out, contexts bound now.
 * @nr_buffers: out, buffers held now (including freed-but-mapped ones).
 * @busy_ns: out, engine time used.
 * @nr_uids: out, entries used in @uids (control node only; 0 for tenants).
 * @nr_gids: out, entries used in @gids (control node only; 0 for tenants).
 * @uids: out, access list, in the caller's user namespace.
 * @gids: out, access list.
 * @reserved: must be 0.
 *
 * On the tenant node (ASH_IOC_PARTITION_INFO) it describes the partition the
 * context is bound to (-EBADFD if none).
 */
struct ash_partition_info {
	__u32 flags;
	__u32 id;
	char name[ASH_NAME_MAX];
	__u32 device;
	__u32 weight;
	__u64 mem_max;
	__u64 mem_min;
	__u64 mem_used;
	__u32 max_contexts;
	__u32 max_buffers;
	__u32 nr_contexts;
	__u32 nr_buffers;
	__u64 busy_ns;
	__u32 nr_uids;
	__u32 nr_gids;
	__u32 uids[ASH_ACL_MAX];
	__u32 gids[ASH_ACL_MAX];
	__u64 reserved[8];
};

/**
 * struct ash_device_info - one device (ASH_CTL_DEVICE_INFO)
 * @device: in, the device's number (-ENODEV if none).
 * @flags: in, must be 0.
 * @kind: out, ASH_DEVICE_*.
 * @numa_node: out, the NUMA node its memory is on, -1 for any.
 * @mem_capacity: out, bytes.
 * @mem_used: out, bytes charged to all partitions.
 * @mem_min_total: out, sum of all partitions' mem_min.
 * @nr_partitions: out.
 * @nr_contexts: out, contexts bound to its partitions.
 * @slice_us: out, scheduler time slice.
 * @pad: 0.
 * @reserved: must be 0.
 */
struct ash_device_info {
	__u32 device;
	__u32 flags;
	__u32 kind;
	__s32 numa_node;
	__u64 mem_capacity;
	__u64 mem_used;
	__u64 mem_min_total;
	__u32 nr_partitions;
	__u32 nr_contexts;
	__u32 slice_us;
	__u32 pad;
	__u64 reserved[6];
};

/* struct ash_partition_params.flags for ASH_CTL_PART_SET: what to change */
#define ASH_PART_SET_MEM_MAX	(1U << 0)
#define ASH_PART_SET_MEM_MIN	(1U << 1)
#define ASH_PART_SET_WEIGHT	(1U << 2)
#define ASH_PART_SET_ACL	(1U << 3)	/* both uids and gids */
#define ASH_PART_SET_LIMITS	(1U << 4)	/* max_contexts, max_buffers */
#define ASH_PART_SET_ALL	(ASH_PART_SET_MEM_MAX | ASH_PART_SET_MEM_MIN | \
				 ASH_PART_SET_WEIGHT | ASH_PART_SET_ACL | \
				 ASH_PART_SET_LIMITS)

/* Defaults for a partition created with 0 in these fields */
#define ASH_WEIGHT_DEFAULT	100
#define ASH_WEIGHT_MAX		10000
#define ASH_MAX_CONTEXTS_DEFAULT 1024
#define ASH_MAX_BUFFERS_DEFAULT	4096
#define ASH_MAX_BUFFERS_LIMIT	(1U << 20)

/**
 * struct ash_partition_params - create or change a partition
 * @flags: in.  ASH_CTL_PART_CREATE: must be 0.  ASH_CTL_PART_SET: the
 *	ASH_PART_SET_* bits naming the fields to change (at least one).
 * @device: in, create only: the device to carve the partition from.
 * @name: in, the partition's name (unique across devices).
 * @mem_max: in, hard cap in bytes, 1..device capacity.
 * @mem_min: in, guaranteed bytes, <= @mem_max.  The sum of all partitions'
 *	mem_min on a device never exceeds its capacity, and a guarantee is
 *	accepted only if it is free now (-ENOSPC otherwise).
 * @weight: in, 1..ASH_WEIGHT_MAX, 0 means ASH_WEIGHT_DEFAULT.
 * @max_contexts: in, 0 means ASH_MAX_CONTEXTS_DEFAULT.
 * @max_buffers: in, per context, 1..ASH_MAX_BUFFERS_LIMIT, 0 means
 *	ASH_MAX_BUFFERS_DEFAULT.
 * @nr_uids: in, entries used in @uids, <= ASH_ACL_MAX.
 * @nr_gids: in, entries used in @gids, <= ASH_ACL_MAX.
 * @uids: in, uids (in the caller's user namespace) that may bind.
 * @gids: in, gids whose members may bind.  With no uids and no gids only
 *	CAP_SYS_ADMIN may bind.  Unused entries must be 0.
 * @id: out, the partition's id (create).
 * @pad: must be 0.
 * @reserved: must be 0.
 *
 * Changes apply live: lowering mem_max below mem_used is allowed and only
 * refuses new allocations.  Errors: -EEXIST name taken (create), -ENOENT no
 * such partition (set), -ENODEV no such device, -EINVAL a bad value,
 * -ENOSPC the guarantee cannot be given.
 */
struct ash_partition_params {
	__u32 flags;
	__u32 device;
	char name[ASH_NAME_MAX];
	__u64 mem_max;
	__u64 mem_min;
	__u32 weight;
	__u32 max_contexts;
	__u32 max_buffers;
	__u32 nr_uids;
	__u32 nr_gids;
	__u32 id;
	__u32 uids[ASH_ACL_MAX];
	__u32 gids[ASH_ACL_MAX];
	__u64 reserved[4];
};

/**
 * struct ash_partition_delete - delete a partition (ASH_CTL_PART_DELETE)
 * @flags: in, must be 0.
 * @pad: must be 0.
 * @name: in.
 * @reserved: must be 0.
 *
 * Errors: -ENOENT no such partition, -EBUSY contexts are bound to it.
 */
struct ash_partition_delete {
	__u32 flags;
	__u32 pad;
	char name[ASH_NAME_MAX];
	__u64 reserved[2];
};

/**
 * struct ash_context_info - one bound context (ASH_CTL_CTX_INFO)
 * @flags: in, must be 0.
 * @id: in, report the bound context with the smallest id >= @id (-ENOENT
 *	if none); out, its id.
 * @pid: out, the process that opened it, in the caller's pid namespace
 *	(0 if it is not visible there).
 * @uid: out, the opener's effective uid.
 * @partition_id: out.
 * @device: out.
 * @partition: out, the partition's name.
 * @mem_used: out, bytes charged to its buffers.
 * @nr_buffers: out.
 * @pad: 0.
 * @busy_ns: out, engine time used.
 * @reserved: must be 0.
 */
struct ash_context_info {
	__u32 flags;
	__u32 id;
	__s32 pid;
	__u32 uid;
	__u32 partition_id;
	__u32 device;
	char partition[ASH_NAME_MAX];
	__u64 mem_used;
	__u32 nr_buffers;
	__u32 pad;
	__u64 busy_ns;
	__u64 reserved[6];
};

/* Tenant node */
#define ASH_IOC_BIND		_IOW(ASH_IOC_MAGIC, 0x00, struct ash_bind)
#define ASH_IOC_PARTITION_INFO	_IOWR(ASH_IOC_MAGIC, 0x01, struct ash_partition_info)
#define ASH_IOC_BUF_ALLOC	_IOWR(ASH_IOC_MAGIC, 0x02, struct ash_buf_alloc)
#define ASH_IOC_BUF_FREE	_IOW(ASH_IOC_MAGIC, 0x03, struct ash_buf_free)
#define ASH_IOC_BUF_INFO	_IOWR(ASH_IOC_MAGIC, 0x04, struct ash_buf_info)

/* Control node */
#define ASH_CTL_DEVICE_INFO	_IOWR(ASH_IOC_MAGIC, 0x40, struct ash_device_info)
#define ASH_CTL_PART_CREATE	_IOWR(ASH_IOC_MAGIC, 0x41, struct ash_partition_params)
#define ASH_CTL_PART_SET	_IOW(ASH_IOC_MAGIC, 0x42, struct ash_partition_params)
#define ASH_CTL_PART_DELETE	_IOW(ASH_IOC_MAGIC, 0x43, struct ash_partition_delete)
#define ASH_CTL_PART_INFO	_IOWR(ASH_IOC_MAGIC, 0x44, struct ash_partition_info)
#define ASH_CTL_CTX_INFO	_IOWR(ASH_IOC_MAGIC, 0x45, struct ash_context_info)

#endif /* _UAPI_LINUX_ACCELSHARE_H */
