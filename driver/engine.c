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

#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "accelshare_drv.h"

/* The engine of a control file, or NULL if it did not attach. */
static struct ash_engine *ash_file_engine(struct file *file)
{
	/* Pairs with the cmpxchg in ash_engine_attach_ioctl(). */
	return smp_load_acquire(&file->private_data);
}

int ash_engine_attach_ioctl(struct file *file, void __user *uarg,
			    unsigned int usize)
{
	struct ash_engine_attach a;
	struct ash_engine *eng;
	struct ash_device *dev;
	int ret;

	ret = ash_copy_in(&a, sizeof(a), uarg, usize);
	if (ret)
		return ret;
	if (a.flags || !ash_is_zero(a.reserved, sizeof(a.reserved)))
		return -EINVAL;
	dev = ash_device_lookup(a.device);
	if (!dev)
		return -ENODEV;
	a.space_size = dev->space.size << PAGE_SHIFT;
	ret = ash_copy_out(uarg, &a, sizeof(a));
	if (ret)
		return ret;

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
	dev->job_budget = a.job_budget;
	spin_unlock(&dev->sched_lock);
	up_write(&dev->engine_rwsem);
	return 0;

err_clear:
	WRITE_ONCE(file->private_data, NULL);
err_free:
	put_pid(eng->pid);
	kfree(eng);
	return ret;
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
		dev->engine = NULL;
		dev->job_budget = 0;
	}
	ash_job_engine_gone_locked(eng, &free);
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
	ash_job_engine_gone_locked(eng, &free);
	pid = get_pid(eng->pid);
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

int ash_engine_fetch_ioctl(struct file *file, void __user *uarg,
			   unsigned int usize)
{
	struct ash_engine *eng = ash_file_engine(file);
	struct ash_engine_fetch f;
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

	job = ash_job_fetch(eng, f.flags & ASH_FETCH_NONBLOCK, &f.timeout_ns);
	if (IS_ERR(job))
		return PTR_ERR(job);
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
	return ash_job_give_back(eng, c.job, c.status, c.busy_ns);
}

/* Readable when a job is waiting and the engine has none running. */
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
	ready = dev->nr_queued && !eng->running;
	spin_unlock(&dev->sched_lock);
	return ready ? EPOLLIN | EPOLLRDNORM : 0;
}

/* The engine's mapping of the device address space. */

/*
 * Put the page of the buffer at this device address in.  Addresses with no
 * buffer are a SIGBUS: the engine touched memory no job gave it.  The page
 * is inserted here, under engine_rwsem, which a buffer's release holds for
 * writing while it takes the range out and unmaps it: a fault either sees
 * the buffer and maps the page before the release unmaps the range, or
 * does not find the buffer at all.  A detached engine maps nothing.
 */
static vm_fault_t ash_engine_fault(struct vm_fault *vmf)
{
	struct ash_engine *eng = vmf->vma->vm_private_data;
	struct ash_device *dev = eng->dev;
	struct ash_buffer *buf = NULL;
	vm_fault_t ret = VM_FAULT_SIGBUS;
	int err;

	down_read(&dev->engine_rwsem);
	if (eng->detached)
		goto out_unlock;
	buf = ash_buffer_get_by_page(dev, vmf->pgoff);
	if (!buf)
		goto out_unlock;
	err = vm_insert_page(vmf->vma, vmf->address,
			     buf->pages[vmf->pgoff - buf->range.start]);
	if (!err || err == -EBUSY)	/* -EBUSY: a racing fault mapped it */
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
