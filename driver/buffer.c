// SPDX-License-Identifier: GPL-2.0-only
/*
 * accelshare - buffers: device memory of one context.
 *
 * On a host-backed device a buffer is zeroed pages, allocated when the
 * buffer is, in physically contiguous chunks of up to 2 MiB where the page
 * allocator has them, on the device's NUMA node.  The partition is charged
 * before any page is taken, so concurrent allocations can never push it
 * past its cap, and uncharged after the last page is given back.
 *
 * A buffer's mapping holds a reference to it: a buffer freed while mapped
 * keeps its pages and its charge until the last munmap, so a stale mapping
 * can only ever reach the tenant's own memory, never memory reused by
 * someone else.
 *
 * On an ASH_DEVICE_ENGINE device a buffer that is not staging has no pages:
 * it is a range of the engine's memory (the arena), zero when it is given
 * out because every range is scrubbed by the engine between owners
 * (scrub.c).  Such a buffer cannot be mapped by its tenant.
 */
#include <linux/gfp.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/numa.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "accelshare_drv.h"

/*
 * Largest chunk taken from the page allocator at once: 2 MiB on x86.
 * MAX_ORDER became MAX_PAGE_ORDER (the largest order, not one past it) in
 * 6.8.
 */
#ifdef MAX_PAGE_ORDER
#define ASH_CHUNK_ORDER min(9, MAX_PAGE_ORDER)
#else
#define ASH_CHUNK_ORDER min(9, MAX_ORDER - 1)
#endif

/* Bits of a page offset inside one buffer's mmap window. */
#define ASH_MMAP_PGOFF_MASK ((1UL << (ASH_MMAP_SHIFT - PAGE_SHIFT)) - 1)

static u64 ash_buffer_charge(const struct ash_buffer *buf)
{
	return (u64)buf->nr_pages << PAGE_SHIFT;
}

static void ash_buffer_free_pages(struct page **pages, unsigned long n)
{
	unsigned long i;

	/*
	 * put_page(), not __free_page(): a page pinned for I/O stays valid
	 * until the I/O lets it go.
	 */
	for (i = 0; i < n; i++) {
		put_page(pages[i]);
		if (!(i % 512))
			cond_resched();
	}
}

/*
 * Fill buf->pages with zeroed pages.  Chunks start at ASH_CHUNK_ORDER and
 * get smaller when the allocator has no such chunk; they are split so that
 * each page is mapped and freed on its own.
 */
static int ash_buffer_alloc_pages(struct ash_buffer *buf, int nid)
{
	unsigned int order = ASH_CHUNK_ORDER;
	unsigned long i = 0, j;
	struct page *page;
	gfp_t gfp;
	int ret;

	buf->pages = kvmalloc_array(buf->nr_pages, sizeof(*buf->pages),
				    GFP_KERNEL_ACCOUNT);
	if (!buf->pages)
		return -ENOMEM;

	while (i < buf->nr_pages) {
		while (order && (1UL << order) > buf->nr_pages - i)
			order--;
		/*
		 * Large chunks are a bonus, not worth reclaim; single
		 * pages may reclaim but must not invoke the OOM killer.
		 */
		gfp = GFP_HIGHUSER | __GFP_ZERO | __GFP_NOWARN |
		      (order ? __GFP_NORETRY : __GFP_RETRY_MAYFAIL);
		if (nid != NUMA_NO_NODE)
			gfp |= __GFP_THISNODE;
		page = alloc_pages_node(nid, gfp, order);
		if (!page) {
			if (order) {
				order--;
				continue;
			}
			ret = -ENOMEM;
			goto err_free;
		}
		if (order)
			split_page(page, order);
		for (j = 0; j < (1UL << order); j++)
			buf->pages[i++] = page + j;
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			goto err_free;
		}
		cond_resched();
	}
	return 0;

err_free:
	ash_buffer_free_pages(buf->pages, i);
	kvfree(buf->pages);
	buf->pages = NULL;
	return ret;
}

static bool ash_space_less(struct rb_node *a, const struct rb_node *b)
{
	return rb_entry(a, struct ash_buffer, space_node)->range.start <
	       rb_entry(b, struct ash_buffer, space_node)->range.start;
}

/*
 * Give @buf a range of the device address space, so that jobs can name it
 * by device address and the engine can reach it: in the arena if it lives
 * in the engine's memory, above it if it is host pages.  Nothing an
 * earlier owner of the range had is there: a host range's release
 * unmapped it, and the engine's faults cannot map a page of a buffer
 * already gone; an arena range was scrubbed before it came back.  With
 * arena ranges still being scrubbed, an allocation waits for them rather
 * than fail early.
 */
static int ash_buffer_place(struct ash_device *dev, struct ash_buffer *buf)
{
	bool arena = !buf->pages;
	u64 lo = arena ? 0 : dev->arena_pages;
	u64 hi = arena ? dev->arena_pages : dev->space.size;
	u64 gen;
	int ret;

	for (;;) {
		spin_lock(&dev->space_lock);
		ret = ash_range_alloc_in(&dev->space, &buf->range,
					 buf->nr_pages, lo, hi);
		if (!ret)
			rb_add(&buf->space_node, &dev->space_tree,
			       ash_space_less);
		gen = dev->scrub_gen;
		spin_unlock(&dev->space_lock);
		if (ret != -ENOSPC || !arena)
			return ret;
		ret = ash_scrub_wait(dev, gen);
		if (ret)
			return ret;
	}
}

/*
 * Take @buf's range back, and out of the engine's reach, under the lock
 * the engine's faults take (see ash_engine_fault()).  An arena range is
 * not free yet: it waits for its scrub.
 */
static void ash_buffer_unplace(struct ash_device *dev, struct ash_buffer *buf)
{
	if (!buf->pages) {
		ash_scrub_queue(dev, buf);
		return;
	}
	down_write(&dev->engine_rwsem);
	spin_lock(&dev->space_lock);
	rb_erase(&buf->space_node, &dev->space_tree);
	ash_range_free(&dev->space, &buf->range);
	spin_unlock(&dev->space_lock);
	ash_engine_unmap_range(dev, buf->range.start, buf->nr_pages);
	up_write(&dev->engine_rwsem);
}

/*
 * Charge @bytes to @ctx, its partition and its device, or (@sign < 0) give
 * them back; each one's memory integral is advanced first, so that it
 * integrates every charge over exactly the time it was held.  Under the
 * device's mem_lock, which every reader of the integrals takes too.
 */
static int ash_buffer_charge_locked(struct ash_context *ctx,
				    struct ash_partition *part, u64 bytes,
				    int sign)
{
	struct ash_device *dev = part->dev;
	u64 now = ktime_get_ns();
	int ret = 0;

	lockdep_assert_held(&dev->mem_lock);
	ash_mem_usage_advance(&dev->mem_usage, dev->pool.used, now);
	ash_mem_usage_advance(&part->mem_usage, part->quota.used, now);
	ash_mem_usage_advance(&ctx->mem_usage, atomic64_read(&ctx->mem_used),
			      now);
	if (sign > 0) {
		ret = ash_quota_charge(&dev->pool, &part->quota, bytes);
		if (ret)
			return ret;
		part->nr_buffers++;
		atomic64_add(bytes, &ctx->mem_used);
	} else {
		ash_quota_uncharge(&dev->pool, &part->quota, bytes);
		part->nr_buffers--;
		atomic64_sub(bytes, &ctx->mem_used);
	}
	return ret;
}

static struct ash_buffer *ash_buffer_create(struct ash_context *ctx,
					    struct ash_partition *part,
					    u64 size, u32 flags)
{
	struct ash_device *dev = part->dev;
	struct ash_buffer *buf;
	unsigned long nr_pages = DIV_ROUND_UP(size, PAGE_SIZE);
	u64 charge = (u64)nr_pages << PAGE_SHIFT;
	int ret;

	if (atomic_inc_return(&ctx->nr_buffers) > READ_ONCE(part->max_buffers)) {
		ret = -EMFILE;
		goto err_count;
	}
	spin_lock(&dev->mem_lock);
	ret = ash_buffer_charge_locked(ctx, part, charge, 1);
	spin_unlock(&dev->mem_lock);
	if (ret)
		goto err_count;

	buf = kzalloc(sizeof(*buf), GFP_KERNEL_ACCOUNT);
	if (!buf) {
		ret = -ENOMEM;
		goto err_uncharge;
	}
	kref_init(&buf->ref);
	buf->ctx = ctx;
	buf->flags = flags;
	buf->size = size;
	buf->nr_pages = nr_pages;
	if (ash_device_has_arena(dev) && !(flags & ASH_BUF_STAGING)) {
		buf->scrub = kzalloc(sizeof(*buf->scrub), GFP_KERNEL_ACCOUNT);
		ret = buf->scrub ? 0 : -ENOMEM;
	} else {
		ret = ash_buffer_alloc_pages(buf, dev->numa_node);
	}
	if (ret)
		goto err_free;
	ret = ash_buffer_place(dev, buf);
	if (ret)
		goto err_pages;
	return buf;

err_pages:
	if (buf->pages) {
		ash_buffer_free_pages(buf->pages, buf->nr_pages);
		kvfree(buf->pages);
	}
	kfree(buf->scrub);
err_free:
	kfree(buf);
err_uncharge:
	spin_lock(&dev->mem_lock);
	ash_buffer_charge_locked(ctx, part, charge, -1);
	spin_unlock(&dev->mem_lock);
err_count:
	atomic_dec(&ctx->nr_buffers);
	return ERR_PTR(ret);
}

static void ash_buffer_release(struct kref *ref)
{
	struct ash_buffer *buf = container_of(ref, struct ash_buffer, ref);
	struct ash_context *ctx = buf->ctx;
	struct ash_partition *part = ctx->part;
	struct ash_device *dev = part->dev;
	u64 charge = ash_buffer_charge(buf);

	/*
	 * Out of the engine's reach first, then the pages, then the charge:
	 * the charge always covers what is still held.
	 */
	ash_buffer_unplace(dev, buf);
	if (buf->pages) {
		ash_buffer_free_pages(buf->pages, buf->nr_pages);
		kvfree(buf->pages);
	}
	spin_lock(&dev->mem_lock);
	ash_buffer_charge_locked(ctx, part, charge, -1);
	spin_unlock(&dev->mem_lock);
	atomic_dec(&ctx->nr_buffers);
	kfree(buf);
}

/* May sleep: the last put frees the pages. */
void ash_buffer_put(struct ash_buffer *buf)
{
	kref_put(&buf->ref, ash_buffer_release);
}

/* The buffer behind @handle in @ctx, with a reference, or NULL. */
struct ash_buffer *ash_buffer_get(struct ash_context *ctx,
				  unsigned long handle)
{
	struct ash_buffer *buf;

	xa_lock(&ctx->buffers);
	buf = xa_load(&ctx->buffers, handle);
	if (buf)
		kref_get(&buf->ref);
	xa_unlock(&ctx->buffers);
	return buf;
}

/*
 * The buffer whose device range holds page @index, with a reference, or
 * NULL: the one placed with the greatest start at or below @index, if it
 * reaches that far; logarithmic in the buffers on the device.  The space's
 * lock keeps the buffer from leaving the space (and being freed) between
 * the lookup and the reference; a buffer already on its way out has no
 * references left and is not taken.
 */
struct ash_buffer *ash_buffer_get_by_page(struct ash_device *dev,
					  unsigned long index)
{
	struct ash_buffer *buf = NULL, *b;
	struct rb_node *n;

	spin_lock(&dev->space_lock);
	n = dev->space_tree.rb_node;
	while (n) {
		b = rb_entry(n, struct ash_buffer, space_node);
		if (index < b->range.start) {
			n = n->rb_left;
		} else {
			buf = b;
			n = n->rb_right;
		}
	}
	if (buf && (index - buf->range.start >= buf->range.size ||
		    !kref_get_unless_zero(&buf->ref)))
		buf = NULL;
	spin_unlock(&dev->space_lock);
	return buf;
}

int ash_buffer_alloc_ioctl(struct ash_context *ctx, void __user *uarg,
			   unsigned int usize)
{
	struct ash_partition *part = ash_context_partition(ctx);
	struct ash_buf_alloc a;
	struct ash_buffer *buf;
	int ret;

	ret = ash_copy_in(&a, sizeof(a), uarg, usize);
	if (ret)
		return ret;
	if ((a.flags & ~(ASH_BUF_READONLY | ASH_BUF_STAGING)) ||
	    !ash_is_zero(a.reserved, sizeof(a.reserved)) ||
	    !a.size || a.size > ASH_BUF_SIZE_MAX)
		return -EINVAL;
	if (!part)
		return -EBADFD;

	buf = ash_buffer_create(ctx, part, a.size, a.flags);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	ret = xa_alloc_cyclic(&ctx->buffers, &buf->handle, buf,
			      XA_LIMIT(1, ASH_HANDLE_MAX), &ctx->next_handle,
			      GFP_KERNEL_ACCOUNT);
	if (ret < 0) {
		ash_buffer_put(buf);
		return ret == -EBUSY ? -EMFILE : ret;
	}

	a.handle = buf->handle;
	a.mmap_offset = (u64)buf->handle << ASH_MMAP_SHIFT;
	ret = ash_copy_out(uarg, &a, sizeof(a));
	if (ret) {
		/* Undo, unless another thread freed the handle already. */
		if (xa_cmpxchg(&ctx->buffers, a.handle, buf, NULL,
			       GFP_KERNEL) == buf)
			ash_buffer_put(buf);
		return ret;
	}
	return 0;
}

int ash_buffer_free_ioctl(struct ash_context *ctx, void __user *uarg,
			  unsigned int usize)
{
	struct ash_buf_free f;
	struct ash_buffer *buf;
	int ret;

	ret = ash_copy_in(&f, sizeof(f), uarg, usize);
	if (ret)
		return ret;
	if (f.flags || f.reserved)
		return -EINVAL;
	buf = xa_erase(&ctx->buffers, f.handle);
	if (!buf)
		return -ENOENT;
	ash_buffer_put(buf);
	return 0;
}

int ash_buffer_info_ioctl(struct ash_context *ctx, void __user *uarg,
			  unsigned int usize)
{
	struct ash_buf_info info;
	struct ash_buffer *buf;
	int ret;

	ret = ash_copy_in(&info, sizeof(info), uarg, usize);
	if (ret)
		return ret;
	if (info.flags || !ash_is_zero(info.reserved, sizeof(info.reserved)))
		return -EINVAL;
	buf = ash_buffer_get(ctx, info.handle);
	if (!buf)
		return -ENOENT;
	info.size = buf->size;
	info.mmap_offset = (u64)buf->handle << ASH_MMAP_SHIFT;
	ash_buffer_put(buf);
	return ash_copy_out(uarg, &info, sizeof(info));
}

/* Mappings: each VMA holds a reference to its buffer. */

static void ash_vm_open(struct vm_area_struct *vma)
{
	struct ash_buffer *buf = vma->vm_private_data;

	kref_get(&buf->ref);
}

static void ash_vm_close(struct vm_area_struct *vma)
{
	ash_buffer_put(vma->vm_private_data);
}

/*
 * Every page is inserted at mmap time; a fault only comes after the tenant
 * dropped some (madvise(MADV_DONTNEED)), and puts the same page back.
 */
static vm_fault_t ash_vm_fault(struct vm_fault *vmf)
{
	struct ash_buffer *buf = vmf->vma->vm_private_data;
	unsigned long index = vmf->pgoff & ASH_MMAP_PGOFF_MASK;

	if (index >= buf->nr_pages)
		return VM_FAULT_SIGBUS;
	vmf->page = buf->pages[index];
	get_page(vmf->page);
	return 0;
}

static const struct vm_operations_struct ash_vm_ops = {
	.open = ash_vm_open,
	.close = ash_vm_close,
	.fault = ash_vm_fault,
};

/*
 * mmap(offset = handle << ASH_MMAP_SHIFT, plus an offset into the buffer):
 * shared mappings only (a private one would make copy-on-write copies that
 * the partition is not charged for), never larger than the buffer, not
 * inherited across fork, never grown by mremap.  On an ASH_DEVICE_NOMAP
 * or ASH_DEVICE_ENGINE device only staging buffers can be mapped (-ENODEV
 * otherwise).
 */
int ash_buffer_mmap(struct ash_context *ctx, struct vm_area_struct *vma)
{
	unsigned long handle = vma->vm_pgoff >> (ASH_MMAP_SHIFT - PAGE_SHIFT);
	unsigned long first = vma->vm_pgoff & ASH_MMAP_PGOFF_MASK;
	unsigned long count = vma_pages(vma);
	struct ash_buffer *buf;
	int ret;

	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	buf = ash_buffer_get(ctx, handle);
	if (!buf)
		return -EINVAL;
	if (first >= buf->nr_pages || count > buf->nr_pages - first) {
		ret = -EINVAL;
		goto err_put;
	}
	/*
	 * A buffer exists only in a bound context, so it has a partition.
	 * A buffer in an engine's memory has no pages to map.
	 */
	if ((ash_context_partition(ctx)->dev->kind == ASH_DEVICE_NOMAP ||
	     !buf->pages) && !(buf->flags & ASH_BUF_STAGING)) {
		ret = -ENODEV;
		goto err_put;
	}
	vm_flags_set(vma, VM_MIXEDMAP | VM_DONTEXPAND | VM_DONTDUMP |
		     VM_DONTCOPY);
	ret = vm_insert_pages(vma, vma->vm_start, buf->pages + first, &count);
	if (ret) {
		/*
		 * The range is the VMA's own, so -EFAULT can only be a page
		 * table above the PTE level that vm_insert_pages() could not
		 * allocate: to mmap(2), that is -ENOMEM.
		 */
		if (ret == -EFAULT)
			ret = -ENOMEM;
		goto err_put;
	}
	vma->vm_private_data = buf;
	vma->vm_ops = &ash_vm_ops;
	return 0;

err_put:
	ash_buffer_put(buf);
	return ret;
}

/*
 * The engine of a device whose memory it could not hand over is gone, and
 * the contents of its memory with it: every buffer there is lost, and
 * every job naming one fails with -EIO from now on.  Its charge stays
 * until it is freed, and its range is scrubbed then as any other.
 */
void ash_buffers_lose(struct ash_device *dev)
{
	struct ash_buffer *buf;
	struct rb_node *n;

	spin_lock(&dev->space_lock);
	for (n = rb_first(&dev->space_tree); n; n = rb_next(n)) {
		buf = rb_entry(n, struct ash_buffer, space_node);
		if (buf->pages || buf->lost)
			continue;
		WRITE_ONCE(buf->lost, true);
		dev->buffers_lost++;
	}
	spin_unlock(&dev->space_lock);
}
