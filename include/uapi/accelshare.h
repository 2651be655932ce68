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
 *    caller is accepted when its unknown tail is zero (else -E2BIG).  Every
 *    struct is at its first version, so a smaller one is -EINVAL; a later
 *    version will zero-extend structs of the sizes released before it.
 *    Output is copied back in the driver's size.
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
/*
 * Memory that tenants cannot map, as an accelerator's memory the CPU cannot
 * address: only the engine reaches it.  Tenants map ASH_BUF_STAGING buffers
 * and move data in and out with copy jobs.
 */
#define ASH_DEVICE_NOMAP	2
/*
 * Memory an engine owns (a GPU's, say), registered by that engine with
 * ASH_CTL_ENGINE_REGISTER: the driver manages its address ranges, charges
 * and scheduling and allocates no host pages for it.  Tenants cannot map
 * it, as on ASH_DEVICE_NOMAP; freed ranges are scrubbed by the engine
 * before anyone can have them again.
 */
#define ASH_DEVICE_ENGINE	3

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

/* struct ash_buf_alloc.flags */
#define ASH_BUF_READONLY	(1U << 0)	/* jobs may only read it */
#define ASH_BUF_STAGING		(1U << 1)	/* host memory, always mappable */

/**
 * struct ash_buf_alloc - allocate device memory (ASH_IOC_BUF_ALLOC)
 * @size: in, bytes, 1..ASH_BUF_SIZE_MAX.  The partition is charged the size
 *	rounded up to whole pages.
 * @flags: in, ASH_BUF_*.  ASH_BUF_READONLY: job operands may only read the
 *	buffer (weights, say); the tenant's own mapping stays writable.
 *	ASH_BUF_STAGING: host memory the tenant can map on every device, the
 *	way data reaches an ASH_DEVICE_NOMAP device (with copy jobs); charged
 *	like device memory, since it is memory the partition holds.
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
 * last mapping of it is unmapped and the last job naming it is freed
 * (just after its fence signals).  Errors: -ENOENT no such handle here.
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
 * @jobs_completed: out, jobs that ran to completion (including failed ones).
 * @jobs_failed: out, jobs that completed with an error or were cancelled.
 * @wait_ns: out, time jobs spent queued before the engine took them.
 * @jobs_timed_out: out, jobs the watchdog failed (counted in @jobs_failed
 *	too).
 * @jobs_queued: out, its contexts' jobs waiting for the engine now.
 * @mem_kib_seconds: out, @mem_used integrated over time since the
 *	partition was created, in KiB-seconds (a MiB held for a second is
 *	1024): monotonic, exact at every change of the charge, not sampled.
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
	__u64 jobs_completed;
	__u64 jobs_failed;
	__u64 wait_ns;
	__u64 jobs_timed_out;
	__u64 jobs_queued;
	__u64 mem_kib_seconds;
	__u64 reserved[2];
};

/* Default and bounds of a device's job watchdog (job_timeout_ms). */
#define ASH_JOB_TIMEOUT_MS_DEFAULT	10000
#define ASH_JOB_TIMEOUT_MS_MIN		10
#define ASH_JOB_TIMEOUT_MS_MAX		3600000

/* struct ash_device_info.flags */
#define ASH_DEVICE_INFO_BY_NAME	(1U << 0)	/* look up @name, not @device */

/* Device names: as partition names (ASH_NAME_MAX); device 0 is "host". */
#define ASH_BACKEND_NAME_MAX	16
#define ASH_GPU_MODEL_MAX	64
#define ASH_GPU_BUS_ID_MAX	16

/**
 * struct ash_device_info - one device (ASH_CTL_DEVICE_INFO)
 * @device: in, the device's number (-ENODEV if none); out, its number.
 * @flags: in, ASH_DEVICE_INFO_*.
 * @kind: out, ASH_DEVICE_*.
 * @numa_node: out, the NUMA node its memory is on, -1 for any.
 * @mem_capacity: out, bytes.
 * @mem_used: out, bytes charged to all partitions.
 * @mem_min_total: out, sum of all partitions' mem_min.
 * @nr_partitions: out.
 * @nr_contexts: out, contexts bound to its partitions.
 * @slice_us: out, scheduler time slice.
 * @job_timeout_ms: out, the watchdog: a job running longer fails with
 *	-ETIMEDOUT.
 * @has_engine: out, 1 if an engine is attached.
 * @engine_pid: out, the engine's pid in the caller's namespace, or 0.
 * @busy_ns: out, engine time used by all partitions.
 * @jobs_queued: out, jobs waiting for the engine now.
 * @job_budget: out, the cost in op-set units above which the attached
 *	engine refuses a job (-E2BIG), as the engine calibrated it at attach;
 *	0 with no engine, or an engine that set none.
 * @jobs_timed_out: out, jobs the watchdog failed, on all partitions.
 * @reserved: must be 0.
 * The fields below came with ASH_DEVICE_ENGINE; a caller that passes the
 * struct as it was before them (ASH_DEVICE_INFO_SIZE_V1 bytes) gets the
 * fields it knows.
 * @name: in with ASH_DEVICE_INFO_BY_NAME; out, the device's name.
 * @backend: out, the backend its engine executes on ("cpu", "cuda"), as
 *	registered; "cpu" for a host-backed device once an engine attached,
 *	"" before.
 * @gpu_model: out, the accelerator's model as its engine registered it.
 * @gpu_bus_id: out, its PCI bus id ("0000:17:00.0"), or "".
 * @gpu_numa_node: out, the NUMA node its PCI device is on, -1 if unknown.
 * @gpu_index: out, the vendor runtime's index of the accelerator.
 * @mem_scrubbing: out, bytes freed and waiting for the engine to scrub
 *	them: nobody can be given them until it has.
 * @persistent: out, 1 if the device's memory outlives its engine (the
 *	driver holds it, and a new engine takes it back); 0 if an engine's
 *	death loses every buffer's contents.
 * @pad: 0.
 * @buffers_lost: out, buffers whose contents an engine's death lost:
 *	every job naming them fails with -EIO.
 * @mem_kib_seconds: out, @mem_used integrated over time since the module
 *	was loaded (or the device registered), as in struct
 *	ash_partition_info: at any instant, the sum over the device's
 *	partitions, deleted ones included.
 * @reserved2: must be 0.
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
	__u32 job_timeout_ms;
	__u32 has_engine;
	__s32 engine_pid;
	__u64 busy_ns;
	__u64 jobs_queued;
	__u64 job_budget;
	__u64 jobs_timed_out;
	__u64 reserved[1];
	char name[ASH_NAME_MAX];
	char backend[ASH_BACKEND_NAME_MAX];
	char gpu_model[ASH_GPU_MODEL_MAX];
	char gpu_bus_id[ASH_GPU_BUS_ID_MAX];
	__s32 gpu_numa_node;
	__u32 gpu_index;
	__u64 mem_scrubbing;
	__u32 persistent;
	__u32 pad;
	__u64 buffers_lost;
	__u64 mem_kib_seconds;
	__u64 reserved2[3];
};

/* sizeof(struct ash_device_info) before ASH_DEVICE_ENGINE */
#define ASH_DEVICE_INFO_SIZE_V1	104

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
 * @reclaim_deadline_ms: in, set with ASH_PART_SET_MEM_MAX only (else 0):
 *	when the new cap is below the memory in use, the tenants get this
 *	long to give the excess back (see ASH_IOC_RECLAIM_QUERY), 1 ms to
 *	ASH_RECLAIM_DEADLINE_MS_MAX; 0 for no deadline.
 * @reclaim_action: in, with @reclaim_deadline_ms: what happens if the
 *	partition is still over its cap at the deadline, ASH_RECLAIM_*.
 *	ASH_RECLAIM_KILL needs a deadline.
 *
 * Changes apply live: lowering mem_max below mem_used is allowed and only
 * refuses new allocations; the partition's contexts are told at once
 * (POLLPRI, ASH_IOC_RECLAIM_QUERY), and the action applies at the
 * deadline.  Errors: -EEXIST name taken (create), -ENOENT no
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
	__u64 reserved[3];
	__u32 reclaim_deadline_ms;
	__u32 reclaim_action;
};

/* struct ash_partition_params.reclaim_action, struct ash_reclaim.action */
#define ASH_RECLAIM_NONE	0	/* stay over the cap: no new allocations */
/*
 * Kill the processes that opened the partition's contexts, those holding
 * the most memory first, until what they hold covers the excess.
 */
#define ASH_RECLAIM_KILL	1
#define ASH_RECLAIM_DEADLINE_MS_MAX	(7U * 24 * 3600 * 1000)

/**
 * struct ash_reclaim - how much memory to give back, and by when
 *	(ASH_IOC_RECLAIM_QUERY)
 * @flags: in, must be 0.
 * @action: out, ASH_RECLAIM_*: what happens at @deadline_ns.
 * @bytes: out, the partition's charge above its cap now; 0 when it is
 *	within it (then nothing is asked and the rest is 0 too).
 * @deadline_ns: out, CLOCK_MONOTONIC instant by which to give @bytes back,
 *	0 for none.
 * @mem_max: out, the cap.
 * @mem_used: out, the partition's charge (all its contexts').
 * @seq: out, counts the reclaims started on the partition: a new one (the
 *	cap lowered again) has a new @seq.
 * @reserved: must be 0.
 *
 * The tenant learns of a reclaim by poll(2): POLLPRI is set on the
 * context's file while its partition's charge exceeds its cap.  -EBADFD
 * if the context is not bound.
 */
struct ash_reclaim {
	__u32 flags;
	__u32 action;
	__u64 bytes;
	__u64 deadline_ns;
	__u64 mem_max;
	__u64 mem_used;
	__u64 seq;
	__u64 reserved[2];
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
 * @jobs_completed: out.
 * @jobs_failed: out.
 * @wait_ns: out, time its jobs spent queued.
 * @jobs_timed_out: out, jobs the watchdog failed.
 * @banned: out, 1 once the context is banned (see ASH_IOC_SUBMIT).
 * @pad2: 0.
 * @mem_kib_seconds: out, @mem_used integrated over time since it was
 *	opened, as in struct ash_partition_info.
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
	__u64 jobs_completed;
	__u64 jobs_failed;
	__u64 wait_ns;
	__u64 jobs_timed_out;
	__u32 banned;
	__u32 pad2;
	__u64 mem_kib_seconds;
};

/*
 * Jobs.  A job is a command buffer: 1..ASH_JOB_MAX_COMMANDS commands, each
 * an opcode, up to ASH_CMD_MAX_OPERANDS operands and a parameter blob.  The
 * driver checks each command's envelope, knowing nothing of the op: command
 * flags zero, at most ASH_CMD_MAX_OPERANDS operands and unused ones zero,
 * params_size within ASH_CMD_PARAMS_MAX with a zero tail, and for every
 * operand: flags READ and/or WRITE and nothing else, length > 0, the handle
 * the submitting context's, the range inside the buffer without overflow,
 * and no declared WRITE on an ASH_BUF_READONLY buffer.  It hands the engine
 * the same commands with each operand's handle replaced by 0 and its offset
 * by a device address (see ASH_CTL_ENGINE_FETCH).  What the opcode means --
 * which operands it must be able to write, its parameters, its cost -- is
 * the engine's to enforce (<linux/accelshare_ops.h>, docs/engine.md): a
 * command the op set refuses fails its job with that status, without
 * anything of the job running.
 */
#define ASH_JOB_MAX_COMMANDS	256
#define ASH_CMD_MAX_OPERANDS	4
#define ASH_CMD_PARAMS_MAX	64

/* struct ash_operand.flags */
#define ASH_OPERAND_READ	(1U << 0)
#define ASH_OPERAND_WRITE	(1U << 1)

/**
 * struct ash_operand - a range of a buffer a command reads or writes
 * @handle: in, the buffer's handle in the submitting context; 0 as the
 *	engine sees it.
 * @flags: ASH_OPERAND_READ and/or ASH_OPERAND_WRITE, at least one.
 * @offset: bytes into the buffer; as the engine sees it, the device
 *	address of the range in the engine's mapping of the device.
 * @length: bytes, > 0.
 */
struct ash_operand {
	__u32 handle;
	__u32 flags;
	__u64 offset;
	__u64 length;
};

/**
 * struct ash_command - one command of a job
 * @opcode: enum ash_opcode.
 * @flags: must be 0.
 * @nr_operands: 0..ASH_CMD_MAX_OPERANDS; unused operands must be zero.
 * @params_size: bytes used in @params; the rest must be zero.
 * @operands: the ranges it touches.
 * @params: the op's parameters (struct ash_*_params).
 */
struct ash_command {
	__u32 opcode;
	__u32 flags;
	__u32 nr_operands;
	__u32 params_size;
	struct ash_operand operands[ASH_CMD_MAX_OPERANDS];
	__u8 params[ASH_CMD_PARAMS_MAX];
};

/*
 * struct ash_submit.flags: the job runs only if the context's previous job
 * succeeded; otherwise it completes at once, without running, with that
 * job's status.  A tenant that splits one operation into several jobs
 * chains them, so that the last fence reports a failure of any of them.
 */
#define ASH_SUBMIT_CHAIN	(1U << 0)

/**
 * struct ash_submit - queue a job (ASH_IOC_SUBMIT)
 * @flags: in, ASH_SUBMIT_*.
 * @nr_commands: in, 1..ASH_JOB_MAX_COMMANDS.
 * @commands: in, user pointer to @nr_commands struct ash_command.
 * @command_size: in, sizeof(struct ash_command) as the caller knows it
 *	(a larger one must have a zero tail).
 * @pad: must be 0.
 * @fence: out, the job's fence: a per-context sequence number, increasing
 *	by one per job; jobs of a context complete in submission order.
 * @reserved: must be 0.
 *
 * Errors: -EBADFD not bound, -EINVAL a malformed envelope, -ENOENT a
 * handle that is not the context's, -ERANGE an operand outside its buffer,
 * -EACCES a declared WRITE on an ASH_BUF_READONLY buffer, -EAGAIN the
 * context (ASH_CTX_MAX_JOBS jobs) or its partition (ASH_PART_MAX_JOBS jobs,
 * or ASH_PART_MAX_JOB_BYTES bytes of kernel memory for them) has as much
 * queued as allowed, -ECANCELED the context is banned: ASH_CTX_MAX_TIMEOUTS
 * of its jobs timed out, or ASH_CTX_MAX_FAILURES of them failed; it stays
 * banned until it is closed (a new open is a new context).  Kernel memory
 * for jobs is charged to the submitter's memory cgroup.
 */
#define ASH_CTX_MAX_JOBS	256
#define ASH_PART_MAX_JOBS	4096
#define ASH_PART_MAX_JOB_BYTES	(32U << 20)
#define ASH_CTX_MAX_TIMEOUTS	3
#define ASH_CTX_MAX_FAILURES	65536

struct ash_submit {
	__u32 flags;
	__u32 nr_commands;
	__u64 commands;
	__u32 command_size;
	__u32 pad;
	__u64 fence;
	__u64 reserved[2];
};

/**
 * struct ash_wait - wait for a fence (ASH_IOC_WAIT)
 * @fence: in, a fence returned by ASH_IOC_SUBMIT on this context.
 * @timeout_ns: in, relative; 0 polls, negative waits forever.
 * @flags: in, must be 0.
 * @status: out, 0 if the job succeeded, else its negative errno (-EIO when
 *	the engine died under it, the engine's error otherwise).
 * @reserved: must be 0.
 *
 * Return: 0 when the job completed (see @status), -ETIMEDOUT, -EINTR,
 * -EINVAL for a fence not yet issued.  Fences are a timeline: a context
 * keeps the fence of its last completed job and a record of every job that
 * failed, so a wait on any issued fence answers exactly, however late.
 * (-ESTALE is no longer returned: ASH_FENCE_HISTORY stays defined for
 * programs that named it, and no longer limits anything.)  A job the
 * watchdog failed reports -ETIMEDOUT in @status.
 */
#define ASH_FENCE_HISTORY	1024

struct ash_wait {
	__u64 fence;
	__s64 timeout_ns;
	__u32 flags;
	__s32 status;
	__u64 reserved[2];
};

/**
 * struct ash_engine_attach - become a device's engine (ASH_CTL_ENGINE_ATTACH)
 * @device: in.
 * @flags: in, must be 0.
 * @space_size: out, bytes of the device address space: mmap this control
 *	fd at offset 0 with this length (MAP_SHARED) to reach every buffer at
 *	its device address.
 * @job_budget: in, the cost in op-set units above which this engine
 *	refuses a job (-E2BIG), for ASH_CTL_DEVICE_INFO to show; 0: none.
 * @reserved: must be 0.
 *
 * One engine per device; the file that attached is the engine until it is
 * closed.  When it closes (the engine exits or dies), jobs it was running
 * fail with -EIO, queued jobs wait for the next engine, memory is kept.
 * Errors: -ENODEV, -EBUSY the device has an engine, -EALREADY this file
 * is an engine already.
 */
struct ash_engine_attach {
	__u32 device;
	__u32 flags;
	__u64 space_size;
	__u64 job_budget;
	__u64 reserved[1];
};

/* struct ash_engine_register.result */
#define ASH_REGISTER_CREATED	1	/* a new device, its memory all zero */
#define ASH_REGISTER_KEPT	2	/* re-attached: @mem_fd is its memory */
#define ASH_REGISTER_LOST	3	/* re-attached: its buffers were lost */

/**
 * struct ash_engine_register - register a device whose memory the engine
 *	owns, or re-attach to it, and become its engine
 *	(ASH_CTL_ENGINE_REGISTER)
 * @flags: in, must be 0.
 * @mem_fd: in, a file descriptor of the device memory for the driver to
 *	hold while the device exists (a memfd, a CUDA VMM allocation exported
 *	as a POSIX fd), so that the memory outlives the engine; -1 if the
 *	backend cannot export it.  Must be -1 when re-attaching to a device
 *	whose memory is kept.  Out: with ASH_REGISTER_KEPT a new descriptor
 *	(O_CLOEXEC) of the memory the driver holds, for the engine to import;
 *	-1 otherwise.
 * @name: in, the device's name (the rules of partition names).
 * @backend: in, the backend's name, NUL-terminated; must match the
 *	registered one when re-attaching.
 * @mem_size: in, bytes of device memory, one page to ASH_DEVICE_MEM_MAX
 *	(rounded down to pages); when re-attaching, 0 or the registered size.
 * @job_budget: in, as in struct ash_engine_attach.
 * @gpu_model: in, the accelerator's model, for ASH_CTL_DEVICE_INFO ("" if
 *	none).
 * @gpu_bus_id: in, its PCI bus id, or "".
 * @gpu_numa_node: in, its NUMA node, or -1; staging buffers are
 *	allocated there.
 * @gpu_index: in, the vendor runtime's index of it.
 * @device: out, the device's number.
 * @result: out, ASH_REGISTER_*.
 * @space_size: out, bytes of the device address space.
 * @arena_size: out, bytes at its start that are the engine's own memory:
 *	a buffer there lies at its device address in that memory.  Above it
 *	lie staging buffers (host pages): mmap this control fd at offset
 *	@arena_size for @space_size - @arena_size bytes to reach them.
 * @reserved: must be 0.
 *
 * A new device's memory must be all zero when it is registered (a fresh
 * memfd is; the CUDA backend clears its allocation first).  The driver
 * never reads or writes it: the engine executes every job and scrubs every
 * freed range (ASH_CTL_ENGINE_FETCH).  With @mem_fd -1 the memory dies with
 * the engine: the buffers in it are marked lost, jobs naming them fail
 * with -EIO, and the next engine registers fresh, zeroed memory.  Errors:
 * -EINVAL a bad name or size, or a re-attach whose backend or size does
 * not match, -EBADF a bad @mem_fd, -EBUSY the device has an engine,
 * -EEXIST the name is a device the driver created, -EALREADY this file is
 * an engine already, -ENOSPC ASH_DEVICES_MAX devices exist.
 */
#define ASH_DEVICES_MAX		64
#define ASH_DEVICE_MEM_MAX	(1ULL << 46)	/* 64 TiB */
struct ash_engine_register {
	__u32 flags;
	__s32 mem_fd;
	char name[ASH_NAME_MAX];
	char backend[ASH_BACKEND_NAME_MAX];
	__u64 mem_size;
	__u64 job_budget;
	char gpu_model[ASH_GPU_MODEL_MAX];
	char gpu_bus_id[ASH_GPU_BUS_ID_MAX];
	__s32 gpu_numa_node;
	__u32 gpu_index;
	__u32 device;
	__u32 result;
	__u64 space_size;
	__u64 arena_size;
	__u64 reserved[4];
};

/* struct ash_engine_fetch.flags */
#define ASH_FETCH_NONBLOCK	(1U << 0)	/* -EAGAIN instead of sleeping */

/**
 * struct ash_engine_fetch - take the next job to run (ASH_CTL_ENGINE_FETCH)
 * @flags: in, ASH_FETCH_*.
 * @max_commands: in, room at @commands, >= ASH_JOB_MAX_COMMANDS.
 * @commands: in, user pointer where the job's commands are written, with
 *	operands translated to device addresses.
 * @command_size: in, sizeof(struct ash_command).
 * @nr_commands: out.
 * @job: out, the job's id, for ASH_CTL_ENGINE_COMPLETE.
 * @slice_ns: out, the time slice the job runs in: an engine splits work
 *	so that no job runs much longer.
 * @timeout_ns: out, the watchdog's limit for this job, from the fetch: the
 *	engine should abandon the job by then (complete it with -ETIMEDOUT).
 *	When the limit passes the driver fails the job (-ETIMEDOUT) for the
 *	tenant; an engine that has not completed it within another
 *	@timeout_ns is detached as if it had died and killed.
 * @reserved: must be 0.
 *
 * On an ASH_DEVICE_ENGINE device a fetch may return a scrub instead of a
 * job, before any job: @nr_commands is 0 and the first operand of the
 * first command at @commands holds the range (@offset its device address,
 * @length its bytes, page-aligned) that the engine must zero before it
 * completes @job with status 0.  Until then the range is nobody's.
 * Sleeps until the scheduler dispatches a job (the control fd polls
 * readable when one is ready), interruptibly.  One job is in flight per
 * engine: a fetch while one is running is -EBUSY.  -ENODEV: the engine was
 * detached by the watchdog.
 */
struct ash_engine_fetch {
	__u32 flags;
	__u32 max_commands;
	__u64 commands;
	__u32 command_size;
	__u32 nr_commands;
	__u64 job;
	__u64 slice_ns;
	__u64 timeout_ns;
	__u64 reserved[1];
};

/**
 * struct ash_engine_complete - report a job done (ASH_CTL_ENGINE_COMPLETE)
 * @job: in, from ASH_CTL_ENGINE_FETCH.
 * @status: in, 0 or a negative errno the tenant's wait will report.
 * @flags: in, must be 0.
 * @busy_ns: in, engine time the job used; charged to the context and its
 *	partition, and what the scheduler shares out by weight.
 * @reserved: must be 0.
 *
 * A job the watchdog already failed is accepted too: its @status is not
 * reported any more (the tenant saw -ETIMEDOUT), and busy time beyond what
 * was charged at the timeout is charged now.
 */
struct ash_engine_complete {
	__u64 job;
	__s32 status;
	__u32 flags;
	__u64 busy_ns;
	__u64 reserved[2];
};

/**
 * struct ash_device_set - tune a device (ASH_CTL_DEVICE_SET)
 * @device: in.
 * @flags: in, ASH_DEVICE_SET_* naming what changes (at least one).
 * @slice_us: in, with ASH_DEVICE_SET_SLICE: 100..1000000.
 * @job_timeout_ms: in, with ASH_DEVICE_SET_JOB_TIMEOUT:
 *	ASH_JOB_TIMEOUT_MS_MIN..ASH_JOB_TIMEOUT_MS_MAX; applies to jobs fetched
 *	from then on.  Must be 0 without the flag.
 * @reserved: must be 0.
 */
#define ASH_DEVICE_SET_SLICE		(1U << 0)
#define ASH_DEVICE_SET_JOB_TIMEOUT	(1U << 1)
struct ash_device_set {
	__u32 device;
	__u32 flags;
	__u32 slice_us;
	__u32 job_timeout_ms;
	__u64 reserved[2];
};

/**
 * struct ash_usage_entry - one partition's counters in struct ash_usage
 * @id: the partition's id (ids are reused after a deletion).
 * @pad: 0.
 * @serial: the partition's counters' identity: never reused while the
 *	module stays loaded, so that a reader tells a partition deleted and
 *	created again under the same name or id from the one it read before.
 * @name: the partition's name.
 * @busy_ns: engine time used since the partition was created.
 * @jobs_completed: jobs that ran to completion (failed ones included).
 * @jobs_failed: jobs that completed with an error or were cancelled.
 * @mem_used: bytes charged at @mem_time_ns of struct ash_usage.
 * @mem_kib_seconds: the charge integrated up to @mem_time_ns, in
 *	KiB-seconds.
 * @reserved: 0.
 */
struct ash_usage_entry {
	__u32 id;
	__u32 pad;
	__u64 serial;
	char name[ASH_NAME_MAX];
	__u64 busy_ns;
	__u64 jobs_completed;
	__u64 jobs_failed;
	__u64 mem_used;
	__u64 mem_kib_seconds;
	__u64 reserved[2];
};

/**
 * struct ash_usage - a device's usage counters, taken at one instant
 *	(ASH_CTL_USAGE)
 * @device: in, the device's number (-ENODEV if none).
 * @flags: in, must be 0.
 * @nr_entries: in, how many entries @entries has room for; out, how many
 *	partitions the device has.  The entries are written only if they all
 *	fit: a caller that finds @nr_entries grown past its room asks again
 *	with more.
 * @pad: must be 0.
 * @entries: in, user pointer to an array of struct ash_usage_entry.
 * @instance: out, random at each load of the module: a reader that sees
 *	it change knows every counter started again from zero.
 * @serial: out, the device's counters' identity within @instance (a
 *	device registered again starts from zero under a new serial).
 * @mem_time_ns: out, CLOCK_MONOTONIC instant at which every memory
 *	integral, the device's and its partitions', was taken.
 * @busy_ns: out, the device's engine time, partitions deleted included.
 * @jobs_completed: out, as @busy_ns.
 * @jobs_failed: out, as @busy_ns.
 * @mem_used: out, bytes charged to the device's partitions.
 * @mem_kib_seconds: out, @mem_used integrated, deleted partitions
 *	included.
 * @reserved: must be 0.
 *
 * The engine counters of the device and of every partition are read under
 * one lock, and the memory integrals advanced to one instant under
 * another, so that the partitions' figures add up to the device's less
 * what partitions deleted since used: a ledger reconciles exactly.
 */
struct ash_usage {
	__u32 device;
	__u32 flags;
	__u32 nr_entries;
	__u32 pad;
	__u64 entries;
	__u64 instance;
	__u64 serial;
	__u64 mem_time_ns;
	__u64 busy_ns;
	__u64 jobs_completed;
	__u64 jobs_failed;
	__u64 mem_used;
	__u64 mem_kib_seconds;
	__u64 reserved[3];
};

/* struct ash_audit_record.kind, and what its old and new values hold */
#define ASH_AUDIT_PART_CREATE	1	/* new: mem_max, mem_min, weight, ACL entries */
/* old, new: mem_max, mem_min, weight; new[3]: the ASH_PART_SET_* flags */
#define ASH_AUDIT_PART_SET	2
#define ASH_AUDIT_PART_DELETE	3	/* old: mem_max, mem_min, weight */
#define ASH_AUDIT_DEVICE_SET	4	/* old, new: slice_us, job_timeout_ms */
#define ASH_AUDIT_DEVICE_REGISTER 5	/* new: capacity */
#define ASH_AUDIT_ENGINE_ATTACH	6	/* new: the engine's pid */
/* old: the engine's pid; new: [0] ASH_AUDIT_DETACH_*, [1] the signal */
#define ASH_AUDIT_ENGINE_DETACH	7
#define ASH_AUDIT_JOB_TIMEOUT	8	/* new: job id, context id */
#define ASH_AUDIT_CONTEXT_BAN	9	/* new: context id, failures */
#define ASH_AUDIT_RECLAIM_KILL	10	/* new: pid killed, bytes it held, excess */
#define ASH_AUDIT_KIND_MAX	10

/* struct ash_audit_record.new_val[0] of ASH_AUDIT_ENGINE_DETACH */
#define ASH_AUDIT_DETACH_CLOSED	1	/* closed its file, or exited */
#define ASH_AUDIT_DETACH_KILLED	2	/* died of a signal (new_val[1]) */
#define ASH_AUDIT_DETACH_WATCHDOG 3	/* the watchdog detached it */

#define ASH_COMM_LEN	16

/**
 * struct ash_audit_record - one administrative change or event
 * @seq: 1, 2, ... within one load of the module (struct ash_audit_read
 *	@instance).
 * @time_ns: CLOCK_REALTIME.
 * @kind: ASH_AUDIT_*.
 * @uid: the actor's effective uid, in the reader's user namespace; 0 for
 *	the driver itself (@pid 0).
 * @pid: the actor's thread group, in the reader's pid namespace (0 if not
 *	visible there, or the driver itself: a watchdog, a deadline).
 * @device: the device concerned.
 * @comm: the actor's command name, "accelshare" for the driver.
 * @name: the partition's or the device's name.
 * @old_val: the values before, as @kind says.
 * @new_val: the values after.
 * @reserved: 0.
 */
struct ash_audit_record {
	__u64 seq;
	__u64 time_ns;
	__u32 kind;
	__u32 uid;
	__s32 pid;
	__u32 device;
	char comm[ASH_COMM_LEN];
	char name[ASH_NAME_MAX];
	__u64 old_val[4];
	__u64 new_val[4];
	__u64 reserved[2];
};

/**
 * struct ash_audit_read - read the audit trail (ASH_CTL_AUDIT_READ)
 * @from_seq: in, the first record wanted.
 * @nr_records: in, room in @records (at most ASH_AUDIT_READ_MAX); out,
 *	records written: those from max(@from_seq, @first_seq) on, in order.
 * @flags: in, must be 0.
 * @records: in, user pointer to struct ash_audit_record[@nr_records].
 * @first_seq: out, the oldest record the driver still keeps: the driver
 *	keeps the last ASH_AUDIT_KEPT, so a reader that fell further behind
 *	sees @first_seq past the @from_seq it asked for.
 * @next_seq: out, the seq the next record will have.
 * @instance: out, as in struct ash_usage: seqs start again at each load.
 * @reserved: must be 0.
 */
struct ash_audit_read {
	__u64 from_seq;
	__u32 nr_records;
	__u32 flags;
	__u64 records;
	__u64 first_seq;
	__u64 next_seq;
	__u64 instance;
	__u64 reserved[2];
};

#define ASH_AUDIT_READ_MAX	256
#define ASH_AUDIT_KEPT		4096

/* Tenant node */
#define ASH_IOC_BIND		_IOW(ASH_IOC_MAGIC, 0x00, struct ash_bind)
#define ASH_IOC_PARTITION_INFO	_IOWR(ASH_IOC_MAGIC, 0x01, struct ash_partition_info)
#define ASH_IOC_BUF_ALLOC	_IOWR(ASH_IOC_MAGIC, 0x02, struct ash_buf_alloc)
#define ASH_IOC_BUF_FREE	_IOW(ASH_IOC_MAGIC, 0x03, struct ash_buf_free)
#define ASH_IOC_BUF_INFO	_IOWR(ASH_IOC_MAGIC, 0x04, struct ash_buf_info)
#define ASH_IOC_SUBMIT		_IOWR(ASH_IOC_MAGIC, 0x05, struct ash_submit)
#define ASH_IOC_WAIT		_IOWR(ASH_IOC_MAGIC, 0x06, struct ash_wait)
#define ASH_IOC_RECLAIM_QUERY	_IOWR(ASH_IOC_MAGIC, 0x07, struct ash_reclaim)

/* Control node */
#define ASH_CTL_DEVICE_INFO	_IOWR(ASH_IOC_MAGIC, 0x40, struct ash_device_info)
#define ASH_CTL_PART_CREATE	_IOWR(ASH_IOC_MAGIC, 0x41, struct ash_partition_params)
#define ASH_CTL_PART_SET	_IOW(ASH_IOC_MAGIC, 0x42, struct ash_partition_params)
#define ASH_CTL_PART_DELETE	_IOW(ASH_IOC_MAGIC, 0x43, struct ash_partition_delete)
#define ASH_CTL_PART_INFO	_IOWR(ASH_IOC_MAGIC, 0x44, struct ash_partition_info)
#define ASH_CTL_CTX_INFO	_IOWR(ASH_IOC_MAGIC, 0x45, struct ash_context_info)
#define ASH_CTL_ENGINE_ATTACH	_IOWR(ASH_IOC_MAGIC, 0x46, struct ash_engine_attach)
#define ASH_CTL_ENGINE_FETCH	_IOWR(ASH_IOC_MAGIC, 0x47, struct ash_engine_fetch)
#define ASH_CTL_ENGINE_COMPLETE	_IOW(ASH_IOC_MAGIC, 0x48, struct ash_engine_complete)
#define ASH_CTL_DEVICE_SET	_IOW(ASH_IOC_MAGIC, 0x49, struct ash_device_set)
#define ASH_CTL_ENGINE_REGISTER	_IOWR(ASH_IOC_MAGIC, 0x4a, struct ash_engine_register)
#define ASH_CTL_USAGE		_IOWR(ASH_IOC_MAGIC, 0x4b, struct ash_usage)
#define ASH_CTL_AUDIT_READ	_IOWR(ASH_IOC_MAGIC, 0x4c, struct ash_audit_read)

/*
 * The op set, for userspace: the driver never interprets it (and does not
 * see this include), so an op can be added without a kernel change.
 */
#ifndef __KERNEL__
#include "accelshare_ops.h"
#endif

#endif /* _UAPI_LINUX_ACCELSHARE_H */
