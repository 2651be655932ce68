// SPDX-License-Identifier: GPL-2.0-only
/*
 * accelshare - the engine protocol: the privileged process that executes a
 * device's jobs attaches through the control node, maps the device address
 * space, fetches the jobs the scheduler picks and gives them back; and the
 * engine's mapping.  What happens to a job on the way is job.c's.
 *
 * One engine per device, one job in flight per engine.  When the engine's
 * file goes (exit, crash, kill), the job it was running fails with -EIO,
 * queued jobs wait for the next engine, and device memory is untouched.
 * An engine that does not give back a job the watchdog failed is detached
 * the same way, its mapping emptied, and killed (ash_engine_revoke()).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/nodemask.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "accelshare_drv.h"

/* The engine of a control file, or NULL if it did not attach. */
static struct ash_engine *ash_file_engine(struct file *file)
{
	/* Pairs with the cmpxchg in ash_engine_attach_ioctl(). */
	return smp_load_acquire(&file->private_data);
}

/*
 * Make the process behind @file @dev's engine.  Return: 0, -EALREADY the
 * file is an engine already, -EBUSY the device has one, -ENOMEM.
 */
static int ash_engine_attach(struct file *file, struct ash_device *dev,
			     u64 job_budget)
{
	struct ash_engine *eng;
	int ret;

	eng = kzalloc(sizeof(*eng), GFP_KERNEL);
	if (!eng)
		return -ENOMEM;
	eng->dev = dev;
	eng->pid = get_pid(task_tgid(current));
	eng->mapping = file->f_mapping;
	if (cmpxchg(&file->private_data, NULL, eng)) {
		ret = -EALREADY;
		goto err_free;
	}
	down_write(&dev->engine_rwsem);
	spin_lock(&dev->sched_lock);
	if (dev->engine) {
		spin_unlock(&dev->sched_lock);
		up_write(&dev->engine_rwsem);
		ret = -EBUSY;
		goto err_clear;
	}
	dev->engine = eng;
	dev->job_budget = job_budget;
	spin_unlock(&dev->sched_lock);
	up_write(&dev->engine_rwsem);
	ash_audit(ASH_AUDIT_ENGINE_ATTACH, dev->id, dev->name, NULL,
		  (u64[4]) { pid_nr(eng->pid) });
	return 0;

err_clear:
	WRITE_ONCE(file->private_data, NULL);
err_free:
	put_pid(eng->pid);
	kfree(eng);
	return ret;
}

int ash_engine_attach_ioctl(struct file *file, void __user *uarg,
			    unsigned int usize)
{
	struct ash_engine_attach a;
	struct ash_device *dev;
	int ret;

	ret = ash_copy_in(&a, sizeof(a), uarg, usize);
	if (ret)
		return ret;
	if (a.flags || !ash_is_zero(a.reserved, sizeof(a.reserved)))
		return -EINVAL;
	mutex_lock(&ash_registry_lock);
	dev = ash_device_lookup(a.device);
	ret = -ENODEV;
	if (!dev)
		goto out_unlock;
	/* Its engine must hand over (or take back) its memory: register. */
	ret = -EINVAL;
	if (ash_device_has_arena(dev))
		goto out_unlock;
	a.space_size = dev->space.size << PAGE_SHIFT;
	ret = ash_copy_out(uarg, &a, sizeof(a));
	if (ret)
		goto out_unlock;
	ret = ash_engine_attach(file, dev, a.job_budget);
	/* An engine that maps the host pages runs on the host's CPUs. */
	if (!ret)
		strscpy(dev->backend, "cpu", sizeof(dev->backend));
out_unlock:
	mutex_unlock(&ash_registry_lock);
	return ret;
}

static bool ash_string_valid(const char *s, size_t size)
{
	return memchr(s, 0, size) &&
	       ash_is_zero(s + strlen(s), size - strlen(s));
}

/* The engine's memory, as it hands it over: never one of our own files. */
static struct file *ash_engine_mem_file(int fd, u64 mem_size)
{
	struct file *file;

	if (fd == -1)
		return NULL;
	file = fget(fd);
	if (!file)
		return ERR_PTR(-EBADF);
	if (ash_file_is_ours(file) ||
	    (S_ISREG(file_inode(file)->i_mode) &&
	     i_size_read(file_inode(file)) < mem_size)) {
		fput(file);
		return ERR_PTR(-EINVAL);
	}
	return file;
}

int ash_engine_register_ioctl(struct file *file, void __user *uarg,
			      unsigned int usize)
{
	struct ash_engine_register r;
	struct file *mem_file = NULL;
	struct ash_device *dev;
	bool created, kept;
	int fd = -1, ret;

	ret = ash_copy_in(&r, sizeof(r), uarg, usize);
	if (ret)
		return ret;
	if (r.flags || !ash_is_zero(r.reserved, sizeof(r.reserved)) ||
	    !ash_string_valid(r.name, sizeof(r.name)) ||
	    !ash_name_valid(r.name) ||
	    !ash_string_valid(r.backend, sizeof(r.backend)) || !r.backend[0] ||
	    !ash_string_valid(r.gpu_model, sizeof(r.gpu_model)) ||
	    !ash_string_valid(r.gpu_bus_id, sizeof(r.gpu_bus_id)) ||
	    r.mem_size > ASH_DEVICE_MEM_MAX || r.mem_fd < -1 ||
	    (r.gpu_numa_node != NUMA_NO_NODE &&
	     (r.gpu_numa_node < 0 || r.gpu_numa_node >= MAX_NUMNODES ||
	      !node_online(r.gpu_numa_node))))
		return -EINVAL;
	if (ash_file_engine(file))
		return -EALREADY;
	mem_file = ash_engine_mem_file(r.mem_fd, r.mem_size);
	if (IS_ERR(mem_file))
		return PTR_ERR(mem_file);

	mutex_lock(&ash_registry_lock);
	dev = ash_device_register(&r, mem_file, &created);
	if (IS_ERR(dev)) {
		ret = PTR_ERR(dev);
		goto err_unlock;
	}
	kept = !!dev->mem_file;
	if (kept) {
		fd = get_unused_fd_flags(O_CLOEXEC);
		if (fd < 0) {
			ret = fd;
			goto err_unlock;
		}
	}
	r.mem_fd = fd;
	r.device = dev->id;
	r.result = created ? ASH_REGISTER_CREATED :
		   kept ? ASH_REGISTER_KEPT : ASH_REGISTER_LOST;
	r.space_size = dev->space.size << PAGE_SHIFT;
	r.arena_size = dev->arena_pages << PAGE_SHIFT;
	ret = ash_copy_out(uarg, &r, sizeof(r));
	if (!ret)
		ret = ash_engine_attach(file, dev, r.job_budget);
	if (ret)
		goto err_fd;
	/* From here the device holds @mem_file. */
	ash_device_registered(dev, &r, mem_file);
	mem_file = NULL;
	if (kept)
		fd_install(fd, get_file(dev->mem_file));
	mutex_unlock(&ash_registry_lock);
	return 0;

err_fd:
	if (fd >= 0)
		put_unused_fd(fd);
	/* A failed registration changes nothing: not even a new device. */
	if (created)
		ash_device_unregister_new(dev);
err_unlock:
	mutex_unlock(&ash_registry_lock);
	if (mem_file)
		fput(mem_file);
	return ret;
}

/*
 * The engine stops being the device's, with the device's sched_lock and
 * engine_rwsem held: the job it was running fails, its scrub waits for the
 * next engine, and if the device's memory was the engine's alone, every
 * buffer in it is lost -- before a new engine can attach, since that takes
 * engine_rwsem.
 */
static void ash_engine_gone_locked(struct ash_engine *eng,
				   struct list_head *free)
{
	struct ash_device *dev = eng->dev;

	ash_job_engine_gone_locked(eng, free);
	ash_scrub_engine_gone_locked(eng);
	if (ash_device_has_arena(dev) && !dev->mem_file)
		ash_buffers_lose(dev);
}

/*
 * Called when a control file is released, so no mapping of it is left.  An
 * engine the watchdog detached is no longer the device's, and a new one may
 * have taken its place.
 */
void ash_engine_detach(struct file *file)
{
	struct ash_engine *eng = ash_file_engine(file);
	struct ash_device *dev;
	LIST_HEAD(free);

	if (!eng)
		return;
	dev = eng->dev;
	down_write(&dev->engine_rwsem);
	spin_lock(&dev->sched_lock);
	if (dev->engine == eng) {
		/* Released as its process exits: of a signal, or not. */
		int sig = current->flags & PF_EXITING ?
			  current->signal->group_exit_code & 0x7f : 0;

		dev->engine = NULL;
		dev->job_budget = 0;
		ash_audit(ASH_AUDIT_ENGINE_DETACH, dev->id, dev->name,
			  (u64[4]) { pid_nr(eng->pid) },
			  (u64[4]) { sig ? ASH_AUDIT_DETACH_KILLED :
				    ASH_AUDIT_DETACH_CLOSED, sig });
	}
	ash_engine_gone_locked(eng, &free);
	spin_unlock(&dev->sched_lock);
	up_write(&dev->engine_rwsem);
	ash_jobs_free(&free);
	put_pid(eng->pid);
	kfree(eng);
}

/**
 * ash_engine_revoke() - detach an engine that is not coming back
 * @dev: the device.
 * @job_id: the job the watchdog failed and the engine still has.
 *
 * Unless the engine gave the job back meanwhile, it stops being the
 * device's engine: its requests fail with -ENODEV, its mapping is emptied
 * and faults nothing in any more, the job's buffers are let go, a new
 * engine may attach, and the process is killed.  Jobs queued wait for the
 * next engine, as when an engine dies.
 */
void ash_engine_revoke(struct ash_device *dev, u64 job_id)
{
	struct ash_engine *eng;
	struct pid *pid;
	LIST_HEAD(free);

	down_write(&dev->engine_rwsem);
	spin_lock(&dev->sched_lock);
	eng = dev->engine;
	if (!eng || !eng->running || ash_job_id(eng->running) != job_id) {
		spin_unlock(&dev->sched_lock);
		up_write(&dev->engine_rwsem);
		return;
	}
	eng->detached = true;
	dev->engine = NULL;
	dev->job_budget = 0;
	ash_engine_gone_locked(eng, &free);
	pid = get_pid(eng->pid);
	ash_audit(ASH_AUDIT_ENGINE_DETACH, dev->id, dev->name,
		  (u64[4]) { pid_nr(pid) },
		  (u64[4]) { ASH_AUDIT_DETACH_WATCHDOG, SIGKILL });
	spin_unlock(&dev->sched_lock);
	unmap_mapping_range(eng->mapping, 0, 0, 1);
	up_write(&dev->engine_rwsem);

	pr_warn("device %u: engine (pid %d) did not give back job %llu after the watchdog failed it; detached and killed\n",
		dev->id, pid_nr(pid), job_id);
	kill_pid(pid, SIGKILL, 1);
	put_pid(pid);
	wake_up_interruptible_all(&dev->engine_wq);
	ash_jobs_free(&free);
}

/*
 * Hand the engine a scrub: no commands, the range in the first operand of
 * the first command slot.  One it cannot read waits for the next engine.
 */
static int ash_engine_fetch_scrub(struct ash_engine *eng,
				  struct ash_scrub *scrub,
				  struct ash_engine_fetch *f, void __user *uarg)
{
	struct ash_operand op = {
		.flags = ASH_OPERAND_WRITE,
		.offset = scrub->range.start << PAGE_SHIFT,
		.length = scrub->range.size << PAGE_SHIFT,
	};
	u8 __user *slot = u64_to_user_ptr(f->commands);
	int ret = 0;

	f->job = scrub->id;
	f->nr_commands = 0;
	f->slice_ns = (u64)READ_ONCE(eng->dev->slice_us) * NSEC_PER_USEC;
	f->timeout_ns = 0;
	if (clear_user(slot, f->command_size) ||
	    copy_to_user(slot + offsetof(struct ash_command, operands), &op,
			 sizeof(op)))
		ret = -EFAULT;
	if (!ret)
		ret = ash_copy_out(uarg, f, sizeof(*f));
	if (ret)
		ash_scrub_done(eng, scrub->id, ret);
	return ret;
}

int ash_engine_fetch_ioctl(struct file *file, void __user *uarg,
			   unsigned int usize)
{
	struct ash_engine *eng = ash_file_engine(file);
	struct ash_engine_fetch f;
	struct ash_scrub *scrub;
	struct ash_job *job;
	int ret;

	ret = ash_copy_in(&f, sizeof(f), uarg, usize);
	if (ret)
		return ret;
	if ((f.flags & ~ASH_FETCH_NONBLOCK) ||
	    !ash_is_zero(f.reserved, sizeof(f.reserved)) ||
	    f.max_commands < ASH_JOB_MAX_COMMANDS ||
	    f.command_size < sizeof(struct ash_command) ||
	    f.command_size > PAGE_SIZE)
		return -EINVAL;
	if (!eng)
		return -EBADFD;

	job = ash_job_fetch(eng, f.flags & ASH_FETCH_NONBLOCK, &f.timeout_ns,
			    &scrub);
	if (IS_ERR(job))
		return PTR_ERR(job);
	if (!job)
		return ash_engine_fetch_scrub(eng, scrub, &f, uarg);
	f.job = ash_job_id(job);
	f.slice_ns = (u64)READ_ONCE(eng->dev->slice_us) * NSEC_PER_USEC;
	ret = ash_job_copy_commands(job, u64_to_user_ptr(f.commands),
				    f.command_size, &f.nr_commands);
	if (!ret)
		ret = ash_copy_out(uarg, &f, sizeof(f));
	if (ret)	/* The engine cannot run what it could not read. */
		ash_job_fetch_failed(eng, job);
	return ret;
}

int ash_engine_complete_ioctl(struct file *file, void __user *uarg,
			      unsigned int usize)
{
	struct ash_engine *eng = ash_file_engine(file);
	struct ash_engine_complete c;
	int ret;

	ret = ash_copy_in(&c, sizeof(c), uarg, usize);
	if (ret)
		return ret;
	if (c.flags || !ash_is_zero(c.reserved, sizeof(c.reserved)) ||
	    c.status > 0 || c.status < -MAX_ERRNO)
		return -EINVAL;
	if (!eng)
		return -EBADFD;
	/* One of the two is in flight at a time; its id says which. */
	if (READ_ONCE(eng->scrub))
		return ash_scrub_done(eng, c.job, c.status);
	return ash_job_give_back(eng, c.job, c.status, c.busy_ns);
}

/*
 * Readable when a job or a scrub is waiting and the engine has none in
 * flight.
 */
__poll_t ash_engine_poll(struct file *file, poll_table *wait)
{
	struct ash_engine *eng = ash_file_engine(file);
	struct ash_device *dev;
	bool ready;

	if (!eng)
		return EPOLLERR;
	dev = eng->dev;
	poll_wait(file, &dev->engine_wq, wait);
	spin_lock(&dev->sched_lock);
	if (eng->detached) {
		spin_unlock(&dev->sched_lock);
		return EPOLLERR;
	}
	ready = (dev->nr_queued || ash_scrub_ready_locked(dev)) &&
		!eng->running && !eng->scrub;
	spin_unlock(&dev->sched_lock);
	return ready ? EPOLLIN | EPOLLRDNORM : 0;
}

/* The engine's mapping of the device address space. */

/*
 * Pages one engine fault maps: the 2 MiB-aligned window of the device
 * address space around the faulting page (one page table's worth on
 * x86-64), as far as the buffer and the mapping reach.  Jobs stream through
 * their buffers, and the first job on a fresh buffer is charged for its
 * faults: one fault per 4 KiB made that job take over 10x its later runs on
 * a debug kernel, which the scheduler then, rightly, made its tenant repay.
 */
#define ASH_ENGINE_FAULT_AROUND	512

/*
 * Insert @count pages at @addr, skipping any a racing fault mapped already.
 * Return: 0, or the first other error of vm_insert_pages().
 */
static int ash_engine_insert_pages(struct vm_area_struct *vma,
				   unsigned long addr, struct page **pages,
				   unsigned long count)
{
	while (count) {
		unsigned long left = count, done;
		int err;

		err = vm_insert_pages(vma, addr, pages, &left);
		if (!err)
			break;
		if (err != -EBUSY)
			return err;
		/* pages[count - left] is mapped already: go on after it. */
		done = count - left + 1;
		addr += done << PAGE_SHIFT;
		pages += done;
		count -= done;
	}
	return 0;
}

/*
 * Put the pages of the buffer around this device address in (see
 * ASH_ENGINE_FAULT_AROUND).  Addresses with no buffer are a SIGBUS: the
 * engine touched memory no job gave it.  The pages are inserted here,
 * under engine_rwsem, which a buffer's release holds for writing while it
 * takes the range out and unmaps it: a fault either sees the buffer and
 * maps its pages before the release unmaps the range, or does not find the
 * buffer at all.  A detached engine maps nothing.
 */
static vm_fault_t ash_engine_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct ash_engine *eng = vma->vm_private_data;
	struct ash_device *dev = eng->dev;
	struct ash_buffer *buf = NULL;
	vm_fault_t ret = VM_FAULT_SIGBUS;
	unsigned long first, end, window;
	int err;

	down_read(&dev->engine_rwsem);
	if (eng->detached)
		goto out_unlock;
	buf = ash_buffer_get_by_page(dev, vmf->pgoff);
	if (!buf || !buf->pages)	/* in the engine's own memory */
		goto out_unlock;
	window = round_down(vmf->pgoff, ASH_ENGINE_FAULT_AROUND);
	first = max3(window, (unsigned long)buf->range.start, vma->vm_pgoff);
	end = min3(window + ASH_ENGINE_FAULT_AROUND,
		   (unsigned long)(buf->range.start + buf->range.size),
		   vma->vm_pgoff + vma_pages(vma));
	err = ash_engine_insert_pages(vma, vma->vm_start +
				      ((first - vma->vm_pgoff) << PAGE_SHIFT),
				      buf->pages + (first - buf->range.start),
				      end - first);
	if (!err)
		ret = VM_FAULT_NOPAGE;
	else if (err == -ENOMEM)
		ret = VM_FAULT_OOM;
out_unlock:
	up_read(&dev->engine_rwsem);
	/* The last put takes engine_rwsem: after the unlock. */
	if (buf)
		ash_buffer_put(buf);
	return ret;
}

static const struct vm_operations_struct ash_engine_vm_ops = {
	.fault = ash_engine_fault,
};

int ash_engine_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct ash_engine *eng = ash_file_engine(file);
	struct ash_device *dev;

	if (!eng)
		return -EBADFD;
	dev = eng->dev;
	if (!(vma->vm_flags & VM_SHARED) ||
	    vma->vm_pgoff > dev->space.size ||
	    vma_pages(vma) > dev->space.size - vma->vm_pgoff)
		return -EINVAL;
	vm_flags_set(vma, VM_MIXEDMAP | VM_DONTEXPAND | VM_DONTDUMP |
		     VM_DONTCOPY);
	vma->vm_private_data = eng;
	vma->vm_ops = &ash_engine_vm_ops;
	return 0;
}

/*
 * A buffer's range of the device address space is being taken back: drop
 * whatever the engine has mapped there, so that it can reach only the
 * buffer that owns the range next.  With engine_rwsem held (see
 * ash_engine_fault()).
 */
void ash_engine_unmap_range(struct ash_device *dev, unsigned long first,
			    unsigned long count)
{
	lockdep_assert_held(&dev->engine_rwsem);
	if (dev->engine)
		unmap_mapping_range(dev->engine->mapping,
				    (loff_t)first << PAGE_SHIFT,
				    (loff_t)count << PAGE_SHIFT, 1);
}
