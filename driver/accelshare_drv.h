/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * accelshare - internal objects of the driver and who owns what.
 *
 *   device ─┬─ partition ─── (bound) context ─┬─ buffer
 *           ├─ memory pool     (quota, group)   │  (pages, charge, range)
 *           ├─ scheduler                        └─ job (queued, running)
 *           ├─ engine (one, attached through the control node)
 *           └─ device address space: page index -> buffer
 *
 * Lifetimes:
 *  - A device lives from module load to unload.
 *  - A partition lives while it is registered.  Contexts bound to it count
 *    in @nr_contexts, and a partition with bound contexts cannot be
 *    deleted, so a context's pointer to its partition stays valid.
 *  - A context has a kref: its file holds one reference and every job
 *    holds one, so a context outlives its jobs; every mapping of a buffer
 *    holds the file (vma->vm_file) and every job holds its buffers, so a
 *    context outlives all its buffers.  It stays bound to its partition
 *    until the last put.
 *  - A job holds references to its context and to every buffer its
 *    operands name, from submission until it is freed: when it completes,
 *    is cancelled, or -- if the watchdog failed it while the engine ran it
 *    -- when the engine gives it back or is detached (job.c has the job's
 *    states).
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
 *  3. ash_device.sched_lock (spinlock): the scheduler, the job queues,
 *     fences, failure records and job counters of the device's contexts
 *     and partitions, the engine and its running job.  Never held together
 *     with mem_lock.
 *  The buffer table of a context is an xarray, protected by its own lock.
 *  The scrub queue of an ASH_DEVICE_ENGINE device (scrub.c) is under its
 *  sched_lock; a scrubbed range goes back to the address space under
 *  space_lock, taken after sched_lock is dropped.  space_lock nests inside
 *  sched_lock in one place, the marking of lost buffers when an engine
 *  goes (ash_buffers_lose()); it is never held while sched_lock is taken.
 *  ash_device.engine_rwsem (outside the mm's page-table locks, inside
 *  mmap_lock): written to change the engine and to take a
 *  buffer's range out of the device address space (with the unmapping
 *  from the engine), read by the engine's page faults while they look a
 *  buffer up and insert its page: so a fault never installs a page whose
 *  range is already gone.  ash_device.space_lock (spinlock) nests inside
 *  it and protects the address space itself.
 */
#ifndef ACCELSHARE_DRV_H
#define ACCELSHARE_DRV_H

#include <linux/atomic.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/rwsem.h>
#include <linux/spinlock.h>
#include <linux/uidgid.h>
#include <linux/poll.h>
#include <linux/rbtree.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <uapi/accelshare.h>

#include "quota.h"
#include "range.h"
#include "sched.h"

#define ASH_DRV_NAME "accelshare"

#ifndef ASH_HAVE_VM_FLAGS_SET	/* see Kbuild */
static inline void vm_flags_set(struct vm_area_struct *vma, vm_flags_t flags)
{
	vma->vm_flags |= flags;
}
#endif

/* Handles are < 2^(64 - ASH_MMAP_SHIFT - 1) so that mmap offsets fit off_t. */
#define ASH_HANDLE_MAX ((1U << 20) - 1)

/**
 * struct ash_device - one accelerator
 * @id: its number, as userspace names it.
 * @serial: its counters' identity (ash_serial_next()), set at creation.
 * @kind: ASH_DEVICE_*.
 * @name: unique among devices; device 0 is "host".  Set at creation.
 * @backend: the backend its engine registered (ASH_DEVICE_ENGINE), under
 *	ash_registry_lock.
 * @gpu_model: what the engine said it runs on, under ash_registry_lock,
 *	like @gpu_bus_id, @gpu_numa_node and @gpu_index.
 * @gpu_bus_id: its PCI bus id.
 * @gpu_numa_node: its NUMA node, or -1.
 * @gpu_index: the vendor runtime's index of it.
 * @mem_file: ASH_DEVICE_ENGINE: the engine's device memory, held so that
 *	it outlives the engine; NULL if the backend cannot export it (its
 *	buffers are lost with the engine).  Under ash_registry_lock.
 * @arena_pages: ASH_DEVICE_ENGINE: pages of the engine's memory, at the
 *	bottom of @space; staging buffers lie above it.  0 for host-backed
 *	devices, whose every buffer is host pages.
 * @numa_node: node its host pages are allocated on, or NUMA_NO_NODE.
 * @slice_us: scheduler time slice.
 * @job_timeout_ms: the watchdog's limit for a running job; written under
 *	@sched_lock, read at fetch.
 * @mem_lock: protects @pool and, for each partition of this device, its
 *	@quota and @nr_buffers.  Taken inside ash_registry_lock; a spinlock
 *	because a charge is a few additions and must be atomic with the check.
 * @pool: memory accounting of the device.
 * @mem_usage: @pool's charge integrated over time, under @mem_lock.
 * @nr_partitions: partitions on the device, under ash_registry_lock.
 * @nr_contexts: contexts bound to its partitions, under ash_registry_lock.
 * @sched_lock: protects @sched, @engine (written with @engine_rwsem held
 *	for writing too, so either lock suffices to read it), @nr_queued,
 *	@next_job_id, @busy_ns, @jobs_completed, @jobs_failed,
 *	@jobs_timed_out, @job_budget, @slice_us and @job_timeout_ms
 *	(written), and the job state of every context and partition of the
 *	device.
 * @sched: whose job runs next.
 * @engine: the attached engine, or NULL.
 * @nr_queued: jobs waiting for the engine.
 * @next_job_id: last job id handed out.
 * @busy_ns: engine time used.
 * @jobs_completed: jobs completed on it, failed ones included.
 * @jobs_failed: jobs that failed or were cancelled.
 * @jobs_timed_out: jobs the watchdog failed.
 * @job_budget: the attached engine's job budget, in op-set units (0: none).
 * @engine_wq: the engine sleeps here until a job is queued.
 * @watchdog: fails the running job past @job_timeout_ms, and detaches an
 *	engine that does not give a failed job back (job.c).
 * @engine_rwsem: written to change @engine; read to use @engine's mapping
 *	and by the engine's page faults; see the lock order at the top of
 *	this file.
 * @space_lock: protects @space and @space_tree.
 * @space: device address space, in pages: where each buffer lies.
 * @space_tree: the buffers placed in @space, by start, for lookups by
 *	address in logarithmic time (the engine's page faults).
 * @buffers_lost: buffers an engine's death lost, under @space_lock.
 * @scrubs: ASH_DEVICE_ENGINE: freed ranges waiting for the engine to scrub
 *	them (struct ash_scrub), oldest first; under @sched_lock, like
 *	@scrub_bytes.
 * @scrubs_failed: scrubs the engine failed, for the next engine.
 * @scrub_bytes: bytes freed and not scrubbed yet, handed out or not.
 * @scrub_gen: bumped (under @space_lock) each time a scrubbed range is
 *	free again, for the allocations waiting on @scrub_wq.
 * @scrub_wq: allocations wait here for scrubbed ranges.
 */
struct ash_device {
	u32 id;
	u64 serial;
	u32 kind;
	char name[ASH_NAME_MAX];
	char backend[ASH_BACKEND_NAME_MAX];
	char gpu_model[ASH_GPU_MODEL_MAX];
	char gpu_bus_id[ASH_GPU_BUS_ID_MAX];
	int gpu_numa_node;
	u32 gpu_index;
	struct file *mem_file;
	u64 arena_pages;
	int numa_node;
	u32 slice_us;
	u32 job_timeout_ms;
	spinlock_t mem_lock;	/* see above: pool, quotas, nr_buffers */
	struct ash_mem_pool pool;
	struct ash_mem_usage mem_usage;
	u32 nr_partitions;
	u32 nr_contexts;
	spinlock_t sched_lock;	/* see above: scheduler, jobs, engine */
	struct ash_sched sched;
	struct ash_engine *engine;
	u64 nr_queued;
	u64 next_job_id;
	u64 busy_ns;
	u64 jobs_completed;
	u64 jobs_failed;
	u64 jobs_timed_out;
	u64 job_budget;
	wait_queue_head_t engine_wq;
	struct delayed_work watchdog;
	struct rw_semaphore engine_rwsem;
	spinlock_t space_lock;	/* see above: the device address space */
	struct ash_range_space space;
	struct rb_root space_tree;
	u64 buffers_lost;
	struct list_head scrubs;
	struct list_head scrubs_failed;
	u64 scrub_bytes;
	u64 scrub_gen;
	wait_queue_head_t scrub_wq;
};

/**
 * struct ash_scrub - a freed range of engine-owned memory, until the engine
 *	has zeroed it
 * @link: in the device's @scrubs while waiting.
 * @range: the range, still allocated in the device address space, so that
 *	nobody is given it.
 * @id: the fetch's job id while the engine has it.
 */
struct ash_scrub {
	struct list_head link;
	struct ash_range range;
	u64 id;
};

/**
 * struct ash_engine - the process executing a device's jobs
 * @dev: the device.
 * @pid: its thread group.
 * @mapping: the address space of its control file, for its mapping.
 * @running: the job it fetched and has not given back, under
 *	@dev->sched_lock; only job.c changes it.
 * @scrub: the scrub it fetched and has not completed, under
 *	@dev->sched_lock; only scrub.c changes it.
 * @detached: the watchdog detached it (under @dev->sched_lock; read under
 *	@dev->engine_rwsem too, by its page faults): its requests fail with
 *	-ENODEV and its mapping reaches nothing.
 */
struct ash_engine {
	struct ash_device *dev;
	struct pid *pid;
	struct address_space *mapping;
	struct ash_job *running;
	struct ash_scrub *scrub;
	bool detached;
};

/**
 * struct ash_partition - one organization's share of a device
 * @id: key in the partition registry.
 * @serial: its counters' identity (ash_serial_next()), set at creation.
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
 * @mem_usage: @quota's charge integrated over time, under @dev->mem_lock.
 * @nr_buffers: buffers alive, under @dev->mem_lock.
 * @sched: its scheduling group, under @dev->sched_lock like the job
 *	counters that follow.
 * @nr_queued: jobs queued by its contexts.
 * @job_bytes: kernel memory held by its contexts' jobs not yet freed.
 * @busy_ns: engine time used.
 * @jobs_completed: jobs completed, failed ones included.
 * @jobs_failed: jobs that failed or were cancelled.
 * @wait_ns: time jobs spent queued.
 * @jobs_timed_out: jobs the watchdog failed.
 * @reclaim_seq: reclaims started (the cap lowered below the charge), under
 *	@dev->mem_lock like the two after it (reclaim.c).
 * @reclaim_deadline_ns: when the current reclaim's action applies, 0 for
 *	none.
 * @reclaim_action: ASH_RECLAIM_*, what applies then.
 * @reclaim_work: runs at the deadline.
 * @dead: unregistered, under ash_registry_lock: the deadline's work finds
 *	nothing to do; the partition is freed once the work cannot run.
 */
struct ash_partition {
	u32 id;
	u64 serial;
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
	struct ash_mem_usage mem_usage;
	u32 nr_buffers;
	struct ash_sched_group sched;
	u32 nr_queued;
	u64 job_bytes;
	u64 busy_ns;
	u64 jobs_completed;
	u64 jobs_failed;
	u64 wait_ns;
	u64 jobs_timed_out;
	u64 reclaim_seq;
	u64 reclaim_deadline_ns;
	u32 reclaim_action;
	struct delayed_work reclaim_work;
	bool dead;
};

/**
 * struct ash_context - one open file of the tenant node
 * @ref: see the lifetime rules at the top of this file.
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
 * @mem_used: bytes charged for them; changed under the device's mem_lock,
 *	read locklessly too.
 * @mem_usage: @mem_used integrated over time, under the device's mem_lock.
 * @client_id: unique among the files of the tenant node ever opened, for
 *	/proc/PID/fdinfo (drm-client-id).
 * @wq: waiters for its jobs' completion.
 * @failures: a record (struct ash_fence_failure) of every job of it that
 *	failed, by fence: with @completed, what every wait needs to answer
 *	exactly, however late.  It and everything below are under the
 *	device's sched_lock.
 * @nr_failures: entries in @failures.
 * @sched: its scheduling entity in its partition's group.
 * @jobs: queued jobs, oldest first.
 * @nr_queued: entries in @jobs.
 * @last_fence: fence of the last job submitted.
 * @completed: fence of the last job completed (jobs complete in order).
 * @busy_ns: engine time used.
 * @jobs_completed: jobs completed, failed ones included.
 * @jobs_failed: jobs that failed or were cancelled.
 * @wait_ns: time its jobs spent queued.
 * @jobs_timed_out: jobs the watchdog failed.
 * @banned: too many of its jobs timed out or failed: its submissions fail
 *	with -ECANCELED until it is closed.
 * @reclaim_killed: a reclaim's deadline killed its opener, under
 *	ash_registry_lock: not chosen again.
 */
struct ash_context {
	struct kref ref;
	struct ash_partition *part;
	u32 id;
	struct pid *pid;
	kuid_t uid;
	struct xarray buffers;
	u32 next_handle;
	atomic_t nr_buffers;
	atomic64_t mem_used;
	struct ash_mem_usage mem_usage;
	u64 client_id;
	wait_queue_head_t wq;
	struct rb_root failures;
	u32 nr_failures;
	struct ash_sched_entity sched;
	struct list_head jobs;
	u32 nr_queued;
	u64 last_fence;
	u64 completed;
	u64 busy_ns;
	u64 jobs_completed;
	u64 jobs_failed;
	u64 wait_ns;
	u64 jobs_timed_out;
	bool banned;
	bool reclaim_killed;
};

/**
 * struct ash_buffer - device memory of one context
 * @ref: see the lifetime rules at the top of this file.
 * @ctx: the owner.
 * @handle: its handle in @ctx (while it has one).
 * @flags: ASH_BUF_*.
 * @range: its pages' place in the device address space, under the
 *	device's space_lock; entered only once the pages are there.
 * @space_node: in the device's space_tree while @range is placed.
 * @size: bytes asked for.
 * @nr_pages: pages backing it; the charge is nr_pages << PAGE_SHIFT.
 * @pages: the pages, zeroed at allocation, each with its own refcount;
 *	NULL for a buffer in an engine's memory (ASH_DEVICE_ENGINE).
 * @scrub: a buffer in an engine's memory: the record its range moves to
 *	when it is freed, allocated with it so that freeing never allocates.
 * @lost: its contents died with the engine (under the device's
 *	space_lock; read locklessly at submission and dispatch).
 */
struct ash_buffer {
	struct kref ref;
	struct ash_context *ctx;
	u32 handle;
	u32 flags;
	struct ash_range range;
	struct rb_node space_node;
	u64 size;
	unsigned long nr_pages;
	struct page **pages;
	struct ash_scrub *scrub;
	bool lost;
};

extern struct mutex ash_registry_lock;
/* Usage counters' identities (struct ash_usage): the module's, per load. */
extern u64 ash_instance;
u64 ash_serial_next(void);

/* main.c: ioctl argument copying shared by every handler */
int ash_copy_in(void *karg, size_t ksize, void __user *uarg,
		unsigned int usize);
int ash_copy_in_since(void *karg, size_t ksize, size_t v1size,
		      void __user *uarg, unsigned int usize);
int ash_copy_out(void __user *uarg, const void *karg, size_t ksize);
bool ash_is_zero(const void *p, size_t len);

/* main.c: module parameters that new devices take too */
extern unsigned int ash_param_slice_us;
extern unsigned int ash_param_job_timeout_ms;
bool ash_file_is_ours(const struct file *file);

/* device.c */
int ash_device_create(u32 id, u32 kind, u64 capacity, int numa_node,
		      u32 slice_us, u32 job_timeout_ms);
struct ash_device *ash_device_find_name(const char *name);
struct ash_device *ash_device_register(const struct ash_engine_register *r,
				       struct file *mem_file, bool *created);
void ash_device_unregister_new(struct ash_device *dev);
void ash_device_registered(struct ash_device *dev,
			   const struct ash_engine_register *r,
			   struct file *mem_file);
bool ash_device_has_arena(const struct ash_device *dev);
int ash_device_set_ioctl(struct file *file, void __user *uarg,
			 unsigned int usize);
void ash_devices_destroy(void);
struct ash_device *ash_device_lookup(u32 id);

/* partition.c */
bool ash_name_valid(const char *name);
int ash_partition_create_ioctl(struct file *file, void __user *uarg,
			       unsigned int usize);
int ash_partition_set_ioctl(struct file *file, void __user *uarg,
			    unsigned int usize);
int ash_partition_delete_ioctl(struct file *file, void __user *uarg,
			       unsigned int usize);
struct ash_partition *ash_partition_find_name(const char *name);
struct ash_partition *ash_partition_find_from(u32 *id);
bool ash_partition_may_bind(const struct ash_partition *part);
void ash_partitions_destroy(void);

/* audit.c */
int ash_audit_init(void);
void ash_audit_exit(void);
void ash_audit(u32 kind, u32 device, const char *name, const u64 *old_val,
	       const u64 *new_val);
int ash_audit_read_ioctl(struct file *file, void __user *uarg,
			 unsigned int usize);

/* reclaim.c */
void ash_reclaim_init(struct ash_partition *part);
void ash_reclaim_update(struct ash_partition *part, u32 deadline_ms,
			u32 action);
void ash_reclaim_cancel(struct ash_partition *part);
__poll_t ash_reclaim_poll(struct ash_context *ctx);
int ash_reclaim_query_ioctl(struct ash_context *ctx, void __user *uarg,
			    unsigned int usize);

/* context.c */
struct ash_context *ash_context_create(void);
void ash_context_close(struct ash_context *ctx);
void ash_context_put(struct ash_context *ctx);
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
struct ash_buffer *ash_buffer_get(struct ash_context *ctx,
				  unsigned long handle);
void ash_buffer_put(struct ash_buffer *buf);
struct ash_buffer *ash_buffer_get_by_page(struct ash_device *dev,
					  unsigned long index);
void ash_buffers_lose(struct ash_device *dev);

/* job.c: the job's life, from submission to free */
struct ash_job;
int ash_job_submit_ioctl(struct ash_context *ctx, void __user *uarg,
			 unsigned int usize);
int ash_job_wait_ioctl(struct ash_context *ctx, void __user *uarg,
		       unsigned int usize);
void ash_jobs_cancel(struct ash_context *ctx);
void ash_context_failures_free(struct ash_context *ctx);
struct ash_job *ash_job_fetch(struct ash_engine *eng, bool nonblock,
			      u64 *timeout_ns, struct ash_scrub **scrub);
int ash_job_copy_commands(const struct ash_job *job, void __user *ucmds,
			  u32 command_size, u32 *nr_commands);
u64 ash_job_id(const struct ash_job *job);
void ash_job_fetch_failed(struct ash_engine *eng, struct ash_job *job);
int ash_job_give_back(struct ash_engine *eng, u64 id, int status, u64 busy_ns);
void ash_job_engine_gone_locked(struct ash_engine *eng, struct list_head *free);
void ash_jobs_free(struct list_head *jobs);
void ash_job_watchdog(struct work_struct *work);
__poll_t ash_job_poll(struct ash_context *ctx);

/* engine.c */
int ash_engine_attach_ioctl(struct file *file, void __user *uarg,
			    unsigned int usize);
int ash_engine_register_ioctl(struct file *file, void __user *uarg,
			      unsigned int usize);
int ash_engine_fetch_ioctl(struct file *file, void __user *uarg,
			   unsigned int usize);
int ash_engine_complete_ioctl(struct file *file, void __user *uarg,
			      unsigned int usize);
void ash_engine_detach(struct file *file);
int ash_engine_mmap(struct file *file, struct vm_area_struct *vma);
__poll_t ash_engine_poll(struct file *file, poll_table *wait);
void ash_engine_unmap_range(struct ash_device *dev, unsigned long first,
			    unsigned long count);
void ash_engine_revoke(struct ash_device *dev, u64 job_id);

/* scrub.c: freed ranges of engine-owned memory, from free to reuse */
void ash_scrub_queue(struct ash_device *dev, struct ash_buffer *buf);
struct ash_scrub *ash_scrub_take_locked(struct ash_engine *eng);
bool ash_scrub_ready_locked(const struct ash_device *dev);
int ash_scrub_done(struct ash_engine *eng, u64 id, int status);
void ash_scrub_engine_gone_locked(struct ash_engine *eng);
int ash_scrub_wait(struct ash_device *dev, u64 gen);
void ash_scrubs_destroy(struct ash_device *dev);

/* stats.c */
int ash_usage_ioctl(struct file *file, void __user *uarg, unsigned int usize);
int ash_device_info_ioctl(struct file *file, void __user *uarg,
			  unsigned int usize);
int ash_partition_info_ioctl(struct file *file, void __user *uarg,
			     unsigned int usize);
int ash_context_partition_info_ioctl(struct ash_context *ctx,
				     void __user *uarg, unsigned int usize);
int ash_context_info_ioctl(struct file *file, void __user *uarg,
			   unsigned int usize);
struct seq_file;
void ash_context_show_fdinfo(struct seq_file *m, struct ash_context *ctx);
extern const struct attribute_group *ash_sysfs_groups[];

#endif /* ACCELSHARE_DRV_H */
