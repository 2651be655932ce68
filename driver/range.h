/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The device address space: which range of it each buffer occupies.  Plain
 * C shared with the host unit tests; the caller serialises all calls on one
 * space and embeds the nodes.
 *
 * (6.1's mtree_alloc_range() returns garbage on an empty tree, which is why
 * the driver does not use the maple tree allocator for this.)
 */
#ifndef ACCELSHARE_RANGE_H
#define ACCELSHARE_RANGE_H

#include "compat.h"

/**
 * struct ash_range - one allocated range
 * @start: first unit.
 * @size: units, > 0.
 * @prev: neighbour below, in address order (NULL for the lowest).
 * @next: neighbour above (NULL for the highest).
 */
struct ash_range {
	u64 start;
	u64 size;
	struct ash_range *prev, *next;
};

/**
 * struct ash_range_space - an address space of @size units
 * @size: units in the space.
 * @first: the lowest allocated range, or NULL.
 * @count: ranges allocated.
 *
 * Ranges are kept in a list sorted by address: allocation is first fit,
 * linear in the number of buffers on the device, which is bounded by the
 * partitions' buffer limits and small next to the cost of allocating and
 * zeroing a buffer's pages.  Lookups by address, which the engine's page
 * faults make, use the driver's rbtree (buffer.c), not this list.
 */
struct ash_range_space {
	u64 size;
	struct ash_range *first;
	u64 count;
};

void ash_range_space_init(struct ash_range_space *s, u64 size);
int ash_range_alloc(struct ash_range_space *s, struct ash_range *r, u64 size);
int ash_range_alloc_in(struct ash_range_space *s, struct ash_range *r,
		       u64 size, u64 lo, u64 hi);
void ash_range_move(struct ash_range_space *s, struct ash_range *from,
		    struct ash_range *to);
void ash_range_free(struct ash_range_space *s, struct ash_range *r);

#endif /* ACCELSHARE_RANGE_H */
