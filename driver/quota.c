// SPDX-License-Identifier: GPL-2.0-only
/*
 * Memory accounting of a device and its partitions.
 *
 * Invariant kept by every function here: pool->used + pool->reserved <=
 * pool->capacity.  A charge succeeds only if it keeps it, a guarantee is
 * accepted only if it keeps it, and uncharging or lowering a guarantee never
 * increases the sum.  Together with "a charge never takes a partition past
 * its max" this is the whole of the memory policy: no partition exceeds its
 * cap, and a partition's unused guarantee is always free for it to take.
 */
#include "quota.h"

/* What of q's guarantee it does not use: memory kept free for it. */
static u64 unused_min(u64 used, u64 min)
{
	return used < min ? min - used : 0;
}

void ash_pool_init(struct ash_mem_pool *pool, u64 capacity)
{
	pool->capacity = capacity;
	pool->used = 0;
	pool->min_total = 0;
	pool->reserved = 0;
}

/*
 * Would (max, min) be acceptable for a partition using @used bytes whose
 * current guarantee is @old_min?  Computes the pool's totals after the
 * change into @min_total and @reserved.
 */
static int check_limits(const struct ash_mem_pool *pool, u64 used, u64 old_min,
			u64 max, u64 min, u64 *min_total, u64 *reserved)
{
	u64 total;

	if (max == 0 || max > pool->capacity || min > max)
		return -EINVAL;
	/* pool->min_total includes old_min, so this cannot underflow. */
	if (check_add_overflow(pool->min_total - old_min, min, min_total) ||
	    *min_total > pool->capacity)
		return -ENOSPC;
	*reserved = pool->reserved - unused_min(used, old_min) +
		    unused_min(used, min);
	if (check_add_overflow(pool->used, *reserved, &total) ||
	    total > pool->capacity)
		return -ENOSPC;
	return 0;
}

/**
 * ash_quota_add() - give a new partition its share of a pool
 * @pool: the device's pool.
 * @q: the partition's quota, filled in here.
 * @max: hard cap, 1..capacity.
 * @min: guarantee, <= @max, and free now.
 *
 * Return: 0, -EINVAL for a bad cap, -ENOSPC if the guarantee cannot be given.
 */
int ash_quota_add(struct ash_mem_pool *pool, struct ash_mem_quota *q,
		  u64 max, u64 min)
{
	u64 min_total, reserved;
	int ret;

	ret = check_limits(pool, 0, 0, max, min, &min_total, &reserved);
	if (ret)
		return ret;
	q->max = max;
	q->min = min;
	q->used = 0;
	pool->min_total = min_total;
	pool->reserved = reserved;
	return 0;
}

/**
 * ash_quota_remove() - return a partition's share to its pool
 * @pool: the device's pool.
 * @q: the partition's quota; nothing may be charged to it.
 */
void ash_quota_remove(struct ash_mem_pool *pool, struct ash_mem_quota *q)
{
	pool->min_total -= q->min;
	pool->reserved -= unused_min(q->used, q->min);
	q->max = 0;
	q->min = 0;
}

/**
 * ash_quota_set() - change a partition's cap and guarantee, live
 * @pool: the device's pool.
 * @q: the partition's quota.
 * @max: new hard cap, 1..capacity.  It may be below what is used now: that
 *	only refuses further charges.
 * @min: new guarantee, <= @max; a raised guarantee must be free now.
 *
 * Return: 0, -EINVAL for a bad cap, -ENOSPC if the guarantee cannot be given.
 * On error nothing changes.
 */
int ash_quota_set(struct ash_mem_pool *pool, struct ash_mem_quota *q,
		  u64 max, u64 min)
{
	u64 min_total, reserved;
	int ret;

	ret = check_limits(pool, q->used, q->min, max, min, &min_total,
			   &reserved);
	if (ret)
		return ret;
	q->max = max;
	q->min = min;
	pool->min_total = min_total;
	pool->reserved = reserved;
	return 0;
}

/**
 * ash_quota_charge() - charge an allocation to a partition
 * @pool: the device's pool.
 * @q: the partition's quota.
 * @bytes: size of the allocation, > 0.
 *
 * Return: 0; -EINVAL for 0 bytes; -EDQUOT if the partition's cap would be
 * passed; -ENOSPC if the device would have to give memory it does not have
 * or that another partition is guaranteed.  On error nothing changes.
 */
int ash_quota_charge(struct ash_mem_pool *pool, struct ash_mem_quota *q,
		     u64 bytes)
{
	u64 q_used, pool_used, reserved;

	if (!bytes)
		return -EINVAL;
	if (check_add_overflow(q->used, bytes, &q_used) || q_used > q->max)
		return -EDQUOT;
	/*
	 * The part of the charge that falls inside q's own guarantee was
	 * reserved for it already and stops being reserved now.
	 */
	reserved = pool->reserved - unused_min(q->used, q->min) +
		   unused_min(q_used, q->min);
	/* reserved <= capacity by the invariant, so no underflow. */
	if (check_add_overflow(pool->used, bytes, &pool_used) ||
	    pool_used > pool->capacity - reserved)
		return -ENOSPC;
	q->used = q_used;
	pool->used = pool_used;
	pool->reserved = reserved;
	return 0;
}

/**
 * ash_quota_uncharge() - return an allocation's charge
 * @pool: the device's pool.
 * @q: the partition's quota.
 * @bytes: exactly what ash_quota_charge() was given for it.
 */
void ash_quota_uncharge(struct ash_mem_pool *pool, struct ash_mem_quota *q,
			u64 bytes)
{
	u64 q_used = q->used - bytes;

	pool->reserved = pool->reserved - unused_min(q->used, q->min) +
			 unused_min(q_used, q->min);
	pool->used -= bytes;
	q->used = q_used;
}

/**
 * ash_mem_usage_init() - start an integral at zero
 * @u: the integral.
 * @now_ns: now, on the clock every later call uses.
 */
void ash_mem_usage_init(struct ash_mem_usage *u, u64 now_ns)
{
	u->since_ns = now_ns;
	u->kib_s = 0;
	u->rem_kib_ns = 0;
}

/**
 * ash_mem_usage_advance() - integrate a charge up to now
 * @u: the integral.
 * @used: bytes charged since @u->since_ns: the caller advances the
 *	integral before every change of the charge, so it was constant.
 * @now_ns: now; a time before @u->since_ns counts as no time.
 *
 * Exact: the sum of the calls' KiB-nanoseconds, whatever their number.
 * Saturates at U64_MAX KiB-seconds rather than wrap.
 */
void ash_mem_usage_advance(struct ash_mem_usage *u, u64 used, u64 now_ns)
{
	u64 kib = used >> 10, dt, whole, frac, rem;
	u32 dt_rem;

	if (now_ns <= u->since_ns)
		return;
	dt = now_ns - u->since_ns;
	u->since_ns = now_ns;
	/* kib * dt = kib * secs * 10^9 + kib * dt_rem, dt_rem < 10^9. */
	dt = div_u64_rem(dt, NSEC_PER_SEC, &dt_rem);
	if (check_mul_overflow(kib, dt, &whole))
		whole = U64_MAX;
	frac = mul_u64_u32_div(kib, dt_rem, NSEC_PER_SEC);
	/* The true remainder is < 10^9, so arithmetic modulo 2^64 gives it. */
	rem = kib * dt_rem - frac * NSEC_PER_SEC + u->rem_kib_ns;
	if (rem >= NSEC_PER_SEC) {
		rem -= NSEC_PER_SEC;
		frac++;
	}
	u->rem_kib_ns = rem;
	if (check_add_overflow(whole, frac, &whole) ||
	    check_add_overflow(u->kib_s, whole, &u->kib_s))
		u->kib_s = U64_MAX;
}
