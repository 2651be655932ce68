// SPDX-License-Identifier: GPL-2.0-only
/*
 * accelshare - the engine protocol: the privileged process that executes a
 * device's jobs attaches through the control node, maps the device address
 * space, fetches the jobs the scheduler picks and completes them.
 *
 * One engine per device, one job in flight per engine.  When the engine's
 * file goes (exit, crash, kill), the job it was running fails with -EIO,
 * queued jobs wait for the next engine, and device memory is untouched.
 */
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
	if (cmpxchg(&file->private_data, NULL, eng)) {
		ret = -EALREADY;
		goto err_free;
	}
	spin_lock(&dev->sched_lock);
	if (dev->engine) {
		spin_unlock(&dev->sched_lock);
		ret = -EBUSY;
		goto err_clear;
	}
	dev->engine = eng;
	spin_unlock(&dev->sched_lock);

	down_write(&dev->engine_rwsem);
	dev->engine_mapping = file->f_mapping;
	up_write(&dev->engine_rwsem);
	return 0;

err_clear:
	WRITE_ONCE(file->private_data, NULL);
err_free:
	put_pid(eng->pid);
	kfree(eng);
	return ret;
}

/* Called when a control file is released. */
void ash_engine_detach(struct file *file)
{
	struct ash_engine *eng = ash_file_engine(file);
	struct ash_device *dev;
	struct ash_job *job;

	if (!eng)
		return;
	dev = eng->dev;
	down_write(&dev->engine_rwsem);
	dev->engine_mapping = NULL;
	up_write(&dev->engine_rwsem);

	spin_lock(&dev->sched_lock);
	dev->engine = NULL;
	job = eng->running;
	eng->running = NULL;
	if (job)
		ash_job_complete_locked(dev, job, -EIO, 0);
	spin_unlock(&dev->sched_lock);
	if (job)
		ash_job_done(job);
	put_pid(eng->pid);
	kfree(eng);
}

int ash_engine_fetch_ioctl(struct file *file, void __user *uarg,
			   unsigned int usize)
{
	struct ash_engine *eng = ash_file_engine(file);
	struct ash_engine_fetch f;
	struct ash_job *job;
	struct ash_device *dev;
	LIST_HEAD(failed);
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
	dev = eng->dev;

	for (;;) {
		spin_lock(&dev->sched_lock);
		if (eng->running) {
			spin_unlock(&dev->sched_lock);
			return -EBUSY;
		}
		job = ash_job_take_locked(dev, &failed);
		eng->running = job;
		spin_unlock(&dev->sched_lock);
		ash_jobs_done(&failed);
		if (job)
			break;
		if (f.flags & ASH_FETCH_NONBLOCK)
			return -EAGAIN;
		if (wait_event_interruptible(dev->engine_wq,
					     READ_ONCE(dev->nr_queued)))
			return -ERESTARTSYS;
	}

	f.job = ash_job_id(job);
	f.slice_ns = (u64)READ_ONCE(dev->slice_us) * NSEC_PER_USEC;
	ret = ash_job_copy_commands(job, u64_to_user_ptr(f.commands),
				    f.command_size, &f.nr_commands);
	if (!ret)
		ret = ash_copy_out(uarg, &f, sizeof(f));
	if (ret) {
		/* The engine cannot run what it could not read. */
		spin_lock(&dev->sched_lock);
		eng->running = NULL;
		ash_job_complete_locked(dev, job, -EIO, 0);
		spin_unlock(&dev->sched_lock);
		ash_job_done(job);
	}
	return ret;
}

int ash_engine_complete_ioctl(struct file *file, void __user *uarg,
			      unsigned int usize)
{
	struct ash_engine *eng = ash_file_engine(file);
	struct ash_engine_complete c;
	struct ash_device *dev;
	struct ash_job *job;
	int ret;

	ret = ash_copy_in(&c, sizeof(c), uarg, usize);
	if (ret)
		return ret;
	if (c.flags || !ash_is_zero(c.reserved, sizeof(c.reserved)) ||
	    c.status > 0 || c.status < -MAX_ERRNO)
		return -EINVAL;
	if (!eng)
		return -EBADFD;
	dev = eng->dev;

	spin_lock(&dev->sched_lock);
	job = eng->running;
	if (!job || ash_job_id(job) != c.job) {
		spin_unlock(&dev->sched_lock);
		return -ENOENT;
	}
	eng->running = NULL;
	ash_job_complete_locked(dev, job, c.status, c.busy_ns);
	spin_unlock(&dev->sched_lock);
	ash_job_done(job);
	return 0;
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
	ready = dev->nr_queued && !eng->running;
	spin_unlock(&dev->sched_lock);
	return ready ? EPOLLIN | EPOLLRDNORM : 0;
}

/* The engine's mapping of the device address space. */

/*
 * Put the page of the buffer at this device address in.  Addresses with no
 * buffer are a SIGBUS: the engine touched memory no job gave it.
 */
static vm_fault_t ash_engine_fault(struct vm_fault *vmf)
{
	struct ash_device *dev = vmf->vma->vm_private_data;
	struct ash_buffer *buf;

	buf = ash_buffer_get_by_page(dev, vmf->pgoff);
	if (!buf)
		return VM_FAULT_SIGBUS;
	vmf->page = buf->pages[vmf->pgoff - buf->range.start];
	get_page(vmf->page);
	ash_buffer_put(buf);
	return 0;
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
	vma->vm_private_data = dev;
	vma->vm_ops = &ash_engine_vm_ops;
	return 0;
}

/*
 * A buffer's range of the device address space was given or taken back:
 * drop whatever the engine has mapped there, so that it can reach only the
 * buffer that owns the range now.
 */
void ash_engine_unmap_range(struct ash_device *dev, unsigned long first,
			    unsigned long count)
{
	down_read(&dev->engine_rwsem);
	if (dev->engine_mapping)
		unmap_mapping_range(dev->engine_mapping,
				    (loff_t)first << PAGE_SHIFT,
				    (loff_t)count << PAGE_SHIFT, 1);
	up_read(&dev->engine_rwsem);
}
