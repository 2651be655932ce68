// SPDX-License-Identifier: GPL-2.0-only
/*
 * accelshare - partitions: one organization's share of one device.
 *
 * Created, changed live and deleted by the administrator through the
 * control node.  The memory rules live in quota.c; this file validates
 * requests, keeps the registry and applies changes under the locks.
 */
#include <linux/capability.h>
#include <linux/ctype.h>
#include <linux/cred.h>
#include <linux/ktime.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/xarray.h>

#include "accelshare_drv.h"

/* Documented in accelshare_drv.h, with the lock order. */
DEFINE_MUTEX(ash_registry_lock);

/*
 * Identities of usage counters for a reader that keeps them across reads
 * (the accounting daemon): @ash_instance changes at every load, a serial
 * is never reused within one.  Ids are, so they cannot serve.
 */
u64 ash_instance;
static atomic64_t ash_serials = ATOMIC64_INIT(0);

u64 ash_serial_next(void)
{
	return atomic64_inc_return(&ash_serials);
}

/* id -> struct ash_partition, under ash_registry_lock. */
static DEFINE_XARRAY_ALLOC(ash_partitions);

/*
 * A name is 1..ASH_NAME_MAX-1 bytes of [A-Za-z0-9_.-], NUL-terminated in
 * its field and not starting with '-' (it would read as an option) or '.'.
 */
bool ash_name_valid(const char *name)
{
	size_t len = strnlen(name, ASH_NAME_MAX);
	size_t i;

	if (len == 0 || len == ASH_NAME_MAX || name[0] == '-' || name[0] == '.')
		return false;
	for (i = 0; i < len; i++)
		if (!isalnum(name[i]) && !strchr("_.-", name[i]))
			return false;
	return true;
}

struct ash_partition *ash_partition_find_name(const char *name)
{
	struct ash_partition *part;
	unsigned long id;

	lockdep_assert_held(&ash_registry_lock);
	xa_for_each(&ash_partitions, id, part)
		if (!strncmp(part->name, name, ASH_NAME_MAX))
			return part;
	return NULL;
}

/* The partition with the smallest id >= *@id; *@id is set to it. */
struct ash_partition *ash_partition_find_from(u32 *id)
{
	unsigned long index = *id;
	struct ash_partition *part;

	lockdep_assert_held(&ash_registry_lock);
	part = xa_find(&ash_partitions, &index, U32_MAX, XA_PRESENT);
	if (part)
		*id = index;
	return part;
}

/**
 * ash_partition_may_bind() - may the current task bind to @part?
 * @part: the partition.
 *
 * Its effective uid must be on the uid list, or its effective or a
 * supplementary group on the gid list; CAP_SYS_ADMIN may always bind.
 */
bool ash_partition_may_bind(const struct ash_partition *part)
{
	kuid_t euid = current_euid();
	u32 i;

	lockdep_assert_held(&ash_registry_lock);
	for (i = 0; i < part->nr_uids; i++)
		if (uid_eq(part->uids[i], euid))
			return true;
	for (i = 0; i < part->nr_gids; i++)
		if (in_egroup_p(part->gids[i]))
			return true;
	return capable(CAP_SYS_ADMIN);
}

/*
 * The checks that need no state: reserved space, the name, ranges and the
 * access list, which is converted into @uids and @gids.  @set names the
 * fields that matter (ASH_PART_SET_*); a create passes all of them.  The
 * memory sizes are checked against the device by quota.c.
 */
static int ash_params_check(const struct ash_partition_params *p, u32 set,
			    kuid_t *uids, kgid_t *gids)
{
	struct user_namespace *ns = current_user_ns();
	u32 i;

	if (!ash_is_zero(p->reserved, sizeof(p->reserved)) ||
	    !ash_name_valid(p->name))
		return -EINVAL;
	/* A reclaim's notice comes with a cap that is set. */
	if ((p->reclaim_deadline_ms || p->reclaim_action) &&
	    !(set & ASH_PART_SET_MEM_MAX))
		return -EINVAL;
	if (p->reclaim_deadline_ms > ASH_RECLAIM_DEADLINE_MS_MAX ||
	    p->reclaim_action > ASH_RECLAIM_KILL ||
	    (p->reclaim_action && !p->reclaim_deadline_ms))
		return -EINVAL;
	if ((set & ASH_PART_SET_WEIGHT) && p->weight > ASH_WEIGHT_MAX)
		return -EINVAL;
	if ((set & ASH_PART_SET_LIMITS) &&
	    p->max_buffers > ASH_MAX_BUFFERS_LIMIT)
		return -EINVAL;
	if (!(set & ASH_PART_SET_ACL))
		return 0;
	if (p->nr_uids > ASH_ACL_MAX || p->nr_gids > ASH_ACL_MAX)
		return -EINVAL;
	for (i = 0; i < ASH_ACL_MAX; i++) {
		if (i >= p->nr_uids && p->uids[i])
			return -EINVAL;
		if (i >= p->nr_gids && p->gids[i])
			return -EINVAL;
	}
	for (i = 0; i < p->nr_uids; i++) {
		uids[i] = make_kuid(ns, p->uids[i]);
		if (!uid_valid(uids[i]))
			return -EINVAL;
	}
	for (i = 0; i < p->nr_gids; i++) {
		gids[i] = make_kgid(ns, p->gids[i]);
		if (!gid_valid(gids[i]))
			return -EINVAL;
	}
	return 0;
}

/* Apply what cannot fail; the caller holds ash_registry_lock. */
static void ash_partition_apply(struct ash_partition *part,
				const struct ash_partition_params *p, u32 set,
				const kuid_t *uids, const kgid_t *gids)
{
	if (set & ASH_PART_SET_WEIGHT) {
		part->weight = p->weight ?: ASH_WEIGHT_DEFAULT;
		if (part->dev) {
			spin_lock(&part->dev->sched_lock);
			ash_sched_group_set_weight(&part->dev->sched,
						   &part->sched, part->weight);
			spin_unlock(&part->dev->sched_lock);
		}
	}
	if (set & ASH_PART_SET_LIMITS) {
		part->max_contexts = p->max_contexts ?: ASH_MAX_CONTEXTS_DEFAULT;
		WRITE_ONCE(part->max_buffers,
			   p->max_buffers ?: ASH_MAX_BUFFERS_DEFAULT);
	}
	if (set & ASH_PART_SET_ACL) {
		part->nr_uids = p->nr_uids;
		part->nr_gids = p->nr_gids;
		memcpy(part->uids, uids, sizeof(part->uids));
		memcpy(part->gids, gids, sizeof(part->gids));
	}
}

int ash_partition_create_ioctl(struct file *file, void __user *uarg,
			       unsigned int usize)
{
	kuid_t uids[ASH_ACL_MAX] = {};
	kgid_t gids[ASH_ACL_MAX] = {};
	struct ash_partition_params p;
	struct ash_partition *part;
	struct ash_device *dev;
	int ret;

	ret = ash_copy_in(&p, sizeof(p), uarg, usize);
	if (ret)
		return ret;
	/* A new partition has nothing to reclaim. */
	if (p.flags || p.reclaim_deadline_ms || p.reclaim_action)
		return -EINVAL;
	ret = ash_params_check(&p, ASH_PART_SET_ALL, uids, gids);
	if (ret)
		return ret;

	part = kzalloc(sizeof(*part), GFP_KERNEL);
	if (!part)
		return -ENOMEM;
	ash_reclaim_init(part);
	strscpy(part->name, p.name, sizeof(part->name));
	ash_partition_apply(part, &p, ASH_PART_SET_ALL, uids, gids);

	mutex_lock(&ash_registry_lock);
	dev = ash_device_lookup(p.device);
	if (!dev) {
		ret = -ENODEV;
		goto err_unlock;
	}
	if (ash_partition_find_name(p.name)) {
		ret = -EEXIST;
		goto err_unlock;
	}
	part->dev = dev;
	part->serial = ash_serial_next();
	ret = xa_alloc(&ash_partitions, &part->id, part, xa_limit_31b,
		       GFP_KERNEL);
	if (ret)
		goto err_unlock;

	spin_lock(&dev->mem_lock);
	ret = ash_quota_add(&dev->pool, &part->quota, p.mem_max, p.mem_min);
	ash_mem_usage_init(&part->mem_usage, ktime_get_ns());
	spin_unlock(&dev->mem_lock);
	if (ret)
		goto err_erase;
	/*
	 * Copied out under the lock so that a failed copy can still undo
	 * the creation before anyone sees the partition.
	 */
	p.id = part->id;
	ret = ash_copy_out(uarg, &p, sizeof(p));
	if (ret)
		goto err_quota;
	spin_lock(&dev->sched_lock);
	ash_sched_group_init(&dev->sched, &part->sched, part->weight);
	spin_unlock(&dev->sched_lock);
	dev->nr_partitions++;
	ash_audit(ASH_AUDIT_PART_CREATE, dev->id, part->name, NULL,
		  (u64[4]) { p.mem_max, p.mem_min, part->weight,
			    part->nr_uids + part->nr_gids });
	mutex_unlock(&ash_registry_lock);
	return 0;

err_quota:
	spin_lock(&dev->mem_lock);
	ash_quota_remove(&dev->pool, &part->quota);
	spin_unlock(&dev->mem_lock);
err_erase:
	xa_erase(&ash_partitions, part->id);
err_unlock:
	mutex_unlock(&ash_registry_lock);
	kfree(part);
	return ret;
}

int ash_partition_set_ioctl(struct file *file, void __user *uarg,
			    unsigned int usize)
{
	kuid_t uids[ASH_ACL_MAX] = {};
	kgid_t gids[ASH_ACL_MAX] = {};
	struct ash_partition_params p;
	struct ash_partition *part;
	struct ash_device *dev;
	u64 mem_max, mem_min, old[4] = {}, new[4];
	int ret;

	ret = ash_copy_in(&p, sizeof(p), uarg, usize);
	if (ret)
		return ret;
	if (!p.flags || (p.flags & ~ASH_PART_SET_ALL))
		return -EINVAL;
	ret = ash_params_check(&p, p.flags, uids, gids);
	if (ret)
		return ret;

	mutex_lock(&ash_registry_lock);
	part = ash_partition_find_name(p.name);
	if (!part) {
		ret = -ENOENT;
		goto out_unlock;
	}
	dev = part->dev;
	spin_lock(&dev->mem_lock);
	old[0] = part->quota.max;
	old[1] = part->quota.min;
	spin_unlock(&dev->mem_lock);
	old[2] = part->weight;
	if (p.flags & (ASH_PART_SET_MEM_MAX | ASH_PART_SET_MEM_MIN)) {
		spin_lock(&dev->mem_lock);
		mem_max = p.flags & ASH_PART_SET_MEM_MAX ?
			  p.mem_max : part->quota.max;
		mem_min = p.flags & ASH_PART_SET_MEM_MIN ?
			  p.mem_min : part->quota.min;
		ret = ash_quota_set(&dev->pool, &part->quota, mem_max, mem_min);
		spin_unlock(&dev->mem_lock);
		if (ret)
			goto out_unlock;
	}
	ash_partition_apply(part, &p, p.flags, uids, gids);
	spin_lock(&dev->mem_lock);
	new[0] = part->quota.max;
	new[1] = part->quota.min;
	spin_unlock(&dev->mem_lock);
	new[2] = part->weight;
	new[3] = p.flags;
	ash_audit(ASH_AUDIT_PART_SET, dev->id, part->name, old, new);
	if (p.flags & ASH_PART_SET_MEM_MAX)
		ash_reclaim_update(part, p.reclaim_deadline_ms,
				   p.reclaim_action);
out_unlock:
	mutex_unlock(&ash_registry_lock);
	return ret;
}

/*
 * Unregister @part, which has no context and no memory; the caller frees
 * it with ash_partition_free() once it has dropped ash_registry_lock.
 */
static void ash_partition_remove(struct ash_partition *part)
{
	struct ash_device *dev = part->dev;

	lockdep_assert_held(&ash_registry_lock);
	ash_audit(ASH_AUDIT_PART_DELETE, dev->id, part->name,
		  (u64[4]) { part->quota.max, part->quota.min, part->weight },
		  NULL);
	spin_lock(&dev->mem_lock);
	WARN_ON(part->quota.used || part->nr_buffers);
	ash_quota_remove(&dev->pool, &part->quota);
	spin_unlock(&dev->mem_lock);
	spin_lock(&dev->sched_lock);
	ash_sched_group_remove(&dev->sched, &part->sched);
	spin_unlock(&dev->sched_lock);
	dev->nr_partitions--;
	xa_erase(&ash_partitions, part->id);
	part->dead = true;
}

/* After ash_partition_remove(), without ash_registry_lock. */
static void ash_partition_free(struct ash_partition *part)
{
	ash_reclaim_cancel(part);
	kfree(part);
}

int ash_partition_delete_ioctl(struct file *file, void __user *uarg,
			       unsigned int usize)
{
	struct ash_partition_delete d;
	struct ash_partition *part;
	int ret;

	ret = ash_copy_in(&d, sizeof(d), uarg, usize);
	if (ret)
		return ret;
	if (d.flags || d.pad || !ash_is_zero(d.reserved, sizeof(d.reserved)) ||
	    !ash_name_valid(d.name))
		return -EINVAL;

	mutex_lock(&ash_registry_lock);
	part = ash_partition_find_name(d.name);
	if (!part)
		ret = -ENOENT;
	else if (part->nr_contexts)
		ret = -EBUSY;
	else
		ash_partition_remove(part);
	mutex_unlock(&ash_registry_lock);
	if (!ret)
		ash_partition_free(part);
	return ret;
}

/* At unload: no file is open, so no partition has a context. */
void ash_partitions_destroy(void)
{
	struct ash_partition *part;
	unsigned long id;

	xa_for_each(&ash_partitions, id, part) {
		mutex_lock(&ash_registry_lock);
		ash_partition_remove(part);
		mutex_unlock(&ash_registry_lock);
		ash_partition_free(part);
	}
}
