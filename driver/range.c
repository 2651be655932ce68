// SPDX-License-Identifier: GPL-2.0-only
/*
 * The device address space: first-fit allocation of ranges.  (Lookups by
 * address go through the driver's rbtree of buffers, buffer.c.)
 */
#include "range.h"

void ash_range_space_init(struct ash_range_space *s, u64 size)
{
	s->size = size;
	s->first = NULL;
	s->count = 0;
}

/**
 * ash_range_alloc_in() - give @r the lowest free range of @size units
 *	inside [@lo, @hi)
 * @s: the space.
 * @r: the node, filled in here.
 * @size: units, > 0.
 * @lo: first unit it may start at.
 * @hi: first unit past its end, <= the space's size.
 *
 * A device whose memory an engine owns places its buffers in the engine's
 * memory, low in the space, and its staging buffers above it: one space,
 * two regions.
 *
 * Return: 0, -EINVAL for size 0 or a bad region, -ENOSPC if no gap inside
 * the region is large enough.
 */
int ash_range_alloc_in(struct ash_range_space *s, struct ash_range *r,
		       u64 size, u64 lo, u64 hi)
{
	struct ash_range *prev = NULL, *next = s->first;
	u64 start = lo;

	if (!size || lo > hi || hi > s->size)
		return -EINVAL;
	/* Skip the ranges below @lo, and one that straddles it. */
	while (next && next->start + next->size <= lo) {
		prev = next;
		next = next->next;
	}
	if (next && next->start < lo) {
		start = next->start + next->size;
		prev = next;
		next = next->next;
	}
	for (;;) {
		u64 end = next && next->start < hi ? next->start : hi;

		if (end >= start && end - start >= size)
			break;
		if (!next || next->start >= hi)
			return -ENOSPC;
		start = next->start + next->size;
		prev = next;
		next = next->next;
	}
	r->start = start;
	r->size = size;
	r->prev = prev;
	r->next = next;
	if (prev)
		prev->next = r;
	else
		s->first = r;
	if (next)
		next->prev = r;
	s->count++;
	return 0;
}

int ash_range_alloc(struct ash_range_space *s, struct ash_range *r, u64 size)
{
	return ash_range_alloc_in(s, r, size, 0, s->size);
}

/*
 * @to takes @from's place in the space (same start and size): the range
 * stays allocated while its owner changes.
 */
void ash_range_move(struct ash_range_space *s, struct ash_range *from,
		    struct ash_range *to)
{
	*to = *from;
	if (to->prev)
		to->prev->next = to;
	else
		s->first = to;
	if (to->next)
		to->next->prev = to;
	from->prev = NULL;
	from->next = NULL;
}

void ash_range_free(struct ash_range_space *s, struct ash_range *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		s->first = r->next;
	if (r->next)
		r->next->prev = r->prev;
	r->prev = NULL;
	r->next = NULL;
	s->count--;
}
