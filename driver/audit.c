// SPDX-License-Identifier: GPL-2.0-only
/*
 * accelshare - the audit trail: every administrative change (partitions,
 * devices) and every event the driver decides on its own (engines
 * attaching, detaching and dying, job timeouts, bans, reclaim kills), with
 * who did it, when, and the values before and after.
 *
 * The driver keeps the last ASH_AUDIT_KEPT records in a ring, numbered from
 * 1 at each load; accelshare-accountd copies them into its ledger, chained
 * by hashes, where they outlive the module.  Records are made where the
 * change is made, often under a device's spinlocks, so the ring has a
 * spinlock of its own, innermost of all, and allocates nothing.
 */
#include <linux/cred.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/uidgid.h>
#include <linux/vmalloc.h>

#include "accelshare_drv.h"

/* A record as kept: the actor in the kernel's terms, for any reader's. */
struct ash_audit_entry {
	struct ash_audit_record rec;
	kuid_t uid;
	struct pid *pid;	/* NULL for the driver */
};

/* Protects the ring, @ash_audit_next; innermost lock (see above). */
static DEFINE_SPINLOCK(ash_audit_lock);
static struct ash_audit_entry *ash_audit_ring;
static u64 ash_audit_next = 1;

int ash_audit_init(void)
{
	ash_audit_ring = vzalloc(array_size(ASH_AUDIT_KEPT,
					    sizeof(*ash_audit_ring)));
	return ash_audit_ring ? 0 : -ENOMEM;
}

void ash_audit_exit(void)
{
	u32 i;

	for (i = 0; i < ASH_AUDIT_KEPT; i++)
		put_pid(ash_audit_ring[i].pid);
	vfree(ash_audit_ring);
}

/**
 * ash_audit() - record a change or an event
 * @kind: ASH_AUDIT_*.
 * @device: the device concerned.
 * @name: the partition's or device's name.
 * @old_val: ASH_AUDIT_* says what; NULL for none.
 * @new_val: likewise.
 *
 * The actor is the current task, or the driver itself when a work item
 * (the watchdog, a reclaim's deadline) makes the change.  Any context.
 */
void ash_audit(u32 kind, u32 device, const char *name, const u64 *old_val,
	       const u64 *new_val)
{
	bool driver = current->flags & (PF_KTHREAD | PF_WQ_WORKER);
	struct ash_audit_entry *e;
	struct pid *old_pid;

	spin_lock(&ash_audit_lock);
	e = &ash_audit_ring[(ash_audit_next - 1) % ASH_AUDIT_KEPT];
	old_pid = e->pid;
	memset(&e->rec, 0, sizeof(e->rec));
	e->rec.seq = ash_audit_next++;
	e->rec.time_ns = ktime_get_real_ns();
	e->rec.kind = kind;
	e->rec.device = device;
	strscpy_pad(e->rec.name, name, sizeof(e->rec.name));
	if (old_val)
		memcpy(e->rec.old_val, old_val, sizeof(e->rec.old_val));
	if (new_val)
		memcpy(e->rec.new_val, new_val, sizeof(e->rec.new_val));
	if (driver) {
		e->uid = GLOBAL_ROOT_UID;
		e->pid = NULL;
		strscpy_pad(e->rec.comm, ASH_DRV_NAME, sizeof(e->rec.comm));
	} else {
		e->uid = current_euid();
		e->pid = get_pid(task_tgid(current));
		strscpy_pad(e->rec.comm, current->comm, sizeof(e->rec.comm));
	}
	spin_unlock(&ash_audit_lock);
	/* put_pid() may free: not under the innermost lock. */
	put_pid(old_pid);
}

/* Who made a record, copied out of the ring to be translated after it. */
struct ash_audit_actor {
	kuid_t uid;
	struct pid *pid;
};

int ash_audit_read_ioctl(struct file *file, void __user *uarg,
			 unsigned int usize)
{
	struct user_namespace *ns = current_user_ns();
	struct ash_audit_actor *actors;
	struct ash_audit_record *buf;
	struct ash_audit_read r;
	size_t room;
	u64 seq, first;
	u32 n = 0, i;
	int ret;

	ret = ash_copy_in(&r, sizeof(r), uarg, usize);
	if (ret)
		return ret;
	if (r.flags || !ash_is_zero(r.reserved, sizeof(r.reserved)) ||
	    r.nr_records > ASH_AUDIT_READ_MAX)
		return -EINVAL;
	room = max_t(u32, r.nr_records, 1);
	buf = kvzalloc(array_size(room, sizeof(*buf)), GFP_KERNEL);
	actors = kzalloc(array_size(room, sizeof(*actors)), GFP_KERNEL);
	if (!buf || !actors) {
		ret = -ENOMEM;
		goto out;
	}
	spin_lock(&ash_audit_lock);
	first = ash_audit_next > ASH_AUDIT_KEPT ?
		ash_audit_next - ASH_AUDIT_KEPT : 1;
	r.first_seq = first;
	r.next_seq = ash_audit_next;
	for (seq = max(r.from_seq, first); seq < ash_audit_next &&
	     n < r.nr_records; seq++, n++) {
		const struct ash_audit_entry *e =
			&ash_audit_ring[(seq - 1) % ASH_AUDIT_KEPT];

		buf[n] = e->rec;
		actors[n].uid = e->uid;
		actors[n].pid = get_pid(e->pid);
	}
	spin_unlock(&ash_audit_lock);
	/* The actor as the reader's namespaces see it. */
	for (i = 0; i < n; i++) {
		buf[i].uid = from_kuid_munged(ns, actors[i].uid);
		buf[i].pid = actors[i].pid ? pid_vnr(actors[i].pid) : 0;
		put_pid(actors[i].pid);
	}
	r.nr_records = n;
	r.instance = ash_instance;
	if (n && copy_to_user(u64_to_user_ptr(r.records), buf,
			      array_size(n, sizeof(*buf))))
		ret = -EFAULT;
	else
		ret = ash_copy_out(uarg, &r, sizeof(r));
out:
	kfree(actors);
	kvfree(buf);
	return ret;
}
