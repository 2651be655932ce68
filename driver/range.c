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
 * ash_range_alloc() - give @r the lowest free range of @size units
 * @s: the space.
 * @r: the node, filled in here.
 * @size: units, > 0.
 *
 * Return: 0, -EINVAL for size 0, -ENOSPC if no gap is large enough.
 */
int ash_range_alloc(struct ash_range_space *s, struct ash_range *r, u64 size)
{
	struct ash_range *prev = NULL, *next = s->first;
	u64 start = 0;

	if (!size)
		return -EINVAL;
	for (;;) {
		u64 end = next ? next->start : s->size;

		if (end >= start && end - start >= size)
			break;
		if (!next)
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
