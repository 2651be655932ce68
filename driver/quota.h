/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Memory accounting of a device and its partitions: hard caps (max),
 * guarantees (min) and the charge of every allocation.  Plain C shared with
 * the host unit tests; the caller serialises all calls on one pool.
 */
#ifndef ACCELSHARE_QUOTA_H
#define ACCELSHARE_QUOTA_H

#include "compat.h"

/**
 * struct ash_mem_pool - a device's memory, as the partitions share it
 * @capacity: bytes the device has.
 * @used: bytes charged to all partitions together.
 * @min_total: sum of all partitions' @min.
 * @reserved: sum over partitions of what is guaranteed but not used,
 *	max(min - used, 0): memory no other partition may take.
 */
struct ash_mem_pool {
	u64 capacity;
	u64 used;
	u64 min_total;
	u64 reserved;
};

/**
 * struct ash_mem_quota - one partition's share of a pool
 * @max: hard cap; @used never passes it through a charge.
 * @min: guaranteed bytes.
 * @used: bytes charged now.  May exceed @max after @max was lowered.
 */
struct ash_mem_quota {
	u64 max;
	u64 min;
	u64 used;
};

/**
 * struct ash_mem_usage - memory charged, integrated over time: what the
 *	usage ledger bills (KiB-seconds, so that a terabyte held for five
 *	centuries still fits; charges are whole pages, so whole KiB)
 * @since_ns: the time up to which the integral is taken.
 * @kib_s: whole KiB-seconds so far.
 * @rem_kib_ns: the KiB-nanoseconds beyond @kib_s, < 10^9: kept, so that
 *	integrating often loses nothing.
 */
struct ash_mem_usage {
	u64 since_ns;
	u64 kib_s;
	u64 rem_kib_ns;
};

void ash_pool_init(struct ash_mem_pool *pool, u64 capacity);
int ash_quota_add(struct ash_mem_pool *pool, struct ash_mem_quota *q,
		  u64 max, u64 min);
void ash_quota_remove(struct ash_mem_pool *pool, struct ash_mem_quota *q);
int ash_quota_set(struct ash_mem_pool *pool, struct ash_mem_quota *q,
		  u64 max, u64 min);
int ash_quota_charge(struct ash_mem_pool *pool, struct ash_mem_quota *q,
		     u64 bytes);
void ash_quota_uncharge(struct ash_mem_pool *pool, struct ash_mem_quota *q,
			u64 bytes);

void ash_mem_usage_init(struct ash_mem_usage *u, u64 now_ns);
void ash_mem_usage_advance(struct ash_mem_usage *u, u64 used, u64 now_ns);

#endif /* ACCELSHARE_QUOTA_H */
