/* SPDX-License-Identifier: MIT */
/*
 * driver/range.c: first-fit allocation in the device address space and
 * lookup of the range that holds an address.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "range.h"

/* The range holding @addr, or NULL: the oracle the driver's rbtree lookup
 * (buffer.c) must agree with, by a walk of the sorted list. */
static struct ash_range *ash_range_find(const struct ash_range_space *s,
					u64 addr)
{
	struct ash_range *r;

	for (r = s->first; r && r->start <= addr; r = r->next)
		if (addr - r->start < r->size)
			return r;
	return NULL;
}

static void zero_size_is_refused(void **state)
{
	struct ash_range_space s;
	struct ash_range r;

	(void)state;
	ash_range_space_init(&s, 16);
	assert_int_equal(ash_range_alloc(&s, &r, 0), -EINVAL);
	assert_int_equal(s.count, 0);
}

static void fills_exactly_then_refuses(void **state)
{
	struct ash_range_space s;
	struct ash_range r[4], extra;
	int i;

	(void)state;
	ash_range_space_init(&s, 16);
	for (i = 0; i < 4; i++) {
		assert_int_equal(ash_range_alloc(&s, &r[i], 4), 0);
		assert_int_equal(r[i].start, 4 * i);
	}
	assert_int_equal(ash_range_alloc(&s, &extra, 1), -ENOSPC);
	assert_int_equal(s.count, 4);
}

static void larger_than_space_is_refused(void **state)
{
	struct ash_range_space s;
	struct ash_range r;

	(void)state;
	ash_range_space_init(&s, 16);
	assert_int_equal(ash_range_alloc(&s, &r, 17), -ENOSPC);
	assert_int_equal(ash_range_alloc(&s, &r, UINT64_MAX), -ENOSPC);
	assert_int_equal(ash_range_alloc(&s, &r, 16), 0);
}

static void freed_gap_is_reused_first_fit(void **state)
{
	struct ash_range_space s;
	struct ash_range a, b, c, d, e;

	(void)state;
	ash_range_space_init(&s, 100);
	assert_int_equal(ash_range_alloc(&s, &a, 10), 0);
	assert_int_equal(ash_range_alloc(&s, &b, 20), 0);
	assert_int_equal(ash_range_alloc(&s, &c, 10), 0);
	ash_range_free(&s, &b);
	/* Too big for the hole: goes after c. */
	assert_int_equal(ash_range_alloc(&s, &d, 25), 0);
	assert_int_equal(d.start, 40);
	/* Fits the hole: lowest fit wins. */
	assert_int_equal(ash_range_alloc(&s, &e, 15), 0);
	assert_int_equal(e.start, 10);
	ash_range_free(&s, &a);
	assert_int_equal(s.first, &e);
	assert_int_equal(ash_range_alloc(&s, &a, 10), 0);
	assert_int_equal(a.start, 0);
}

static void find_returns_the_holder(void **state)
{
	struct ash_range_space s;
	struct ash_range a, b;

	(void)state;
	ash_range_space_init(&s, 100);
	assert_int_equal(ash_range_alloc(&s, &a, 10), 0);
	assert_int_equal(ash_range_alloc(&s, &b, 5), 0);
	assert_ptr_equal(ash_range_find(&s, 0), &a);
	assert_ptr_equal(ash_range_find(&s, 9), &a);
	assert_ptr_equal(ash_range_find(&s, 10), &b);
	assert_ptr_equal(ash_range_find(&s, 14), &b);
	assert_null(ash_range_find(&s, 15));
	assert_null(ash_range_find(&s, UINT64_MAX));
	ash_range_free(&s, &a);
	assert_null(ash_range_find(&s, 3));
	assert_ptr_equal(ash_range_find(&s, 12), &b);
}

/* Random allocations and frees against a bitmap of the space. */
static void random_ops_never_overlap(void **state)
{
	enum { SPACE = 512, SLOTS = 64, ROUNDS = 20000 };
	struct ash_range_space s;
	struct ash_range r[SLOTS];
	int used[SLOTS] = { 0 };
	unsigned char owner[SPACE];
	unsigned int seed = 12345;
	int i, k, n;

	(void)state;
	ash_range_space_init(&s, SPACE);
	for (i = 0; i < ROUNDS; i++) {
		k = rand_r(&seed) % SLOTS;
		if (used[k]) {
			ash_range_free(&s, &r[k]);
			used[k] = 0;
		} else if (ash_range_alloc(&s, &r[k],
					   1 + rand_r(&seed) % 40) == 0) {
			used[k] = 1;
		}
		memset(owner, 0xff, sizeof(owner));
		n = 0;
		for (k = 0; k < SLOTS; k++) {
			uint64_t a;

			if (!used[k])
				continue;
			n++;
			assert_true(r[k].start + r[k].size <= SPACE);
			for (a = r[k].start; a < r[k].start + r[k].size; a++) {
				assert_int_equal(owner[a], 0xff);
				owner[a] = (unsigned char)k;
			}
		}
		assert_int_equal(s.count, n);
		for (k = 0; k < SPACE; k += 7) {
			struct ash_range *f = ash_range_find(&s, k);

			if (owner[k] == 0xff)
				assert_null(f);
			else
				assert_ptr_equal(f, &r[owner[k]]);
		}
	}
}

/*
 * Two regions of one space, as an engine-owned device has (its memory low,
 * staging above): random allocations in each, moves and frees never put a
 * range outside its region or over another, and a region fills exactly.
 */
static void regions_stay_apart(void **state)
{
	enum { SPACE = 256, SPLIT = 96, SLOTS = 48, ROUNDS = 20000 };
	struct ash_range_space s;
	struct ash_range r[SLOTS], moved[SLOTS];
	struct ash_range *cur[SLOTS] = { NULL };
	unsigned char owner[SPACE];
	unsigned int seed = 777;
	int i, k;

	(void)state;
	ash_range_space_init(&s, SPACE);
	assert_int_equal(ash_range_alloc_in(&s, &r[0], 1, 10, 9), -EINVAL);
	assert_int_equal(ash_range_alloc_in(&s, &r[0], 1, 0, SPACE + 1),
			 -EINVAL);
	for (i = 0; i < ROUNDS; i++) {
		k = rand_r(&seed) % SLOTS;
		bool low = k % 2;
		u64 lo = low ? 0 : SPLIT, hi = low ? SPLIT : SPACE;

		if (cur[k] && rand_r(&seed) % 3 == 0) {
			/* Hand the range to the other node of the slot. */
			struct ash_range *to = cur[k] == &r[k] ? &moved[k] : &r[k];

			ash_range_move(&s, cur[k], to);
			cur[k] = to;
		} else if (cur[k]) {
			ash_range_free(&s, cur[k]);
			cur[k] = NULL;
		} else if (ash_range_alloc_in(&s, &r[k], 1 + rand_r(&seed) % 20,
					      lo, hi) == 0) {
			cur[k] = &r[k];
		}
		memset(owner, 0xff, sizeof(owner));
		for (k = 0; k < SLOTS; k++) {
			uint64_t a;

			if (!cur[k])
				continue;
			if (k % 2)
				assert_true(cur[k]->start + cur[k]->size <= SPLIT);
			else
				assert_true(cur[k]->start >= SPLIT &&
					    cur[k]->start + cur[k]->size <= SPACE);
			for (a = cur[k]->start; a < cur[k]->start + cur[k]->size;
			     a++) {
				assert_int_equal(owner[a], 0xff);
				owner[a] = (unsigned char)k;
			}
		}
		for (k = 0; k < SPACE; k += 5) {
			struct ash_range *f = ash_range_find(&s, k);

			if (owner[k] == 0xff)
				assert_null(f);
			else
				assert_ptr_equal(f, cur[owner[k]]);
		}
	}
	for (k = 0; k < SLOTS; k++)
		if (cur[k])
			ash_range_free(&s, cur[k]);
	assert_int_equal(s.count, 0);
	/* Each region fills exactly, whatever the other holds. */
	assert_int_equal(ash_range_alloc_in(&s, &r[0], SPACE - SPLIT, SPLIT,
					    SPACE), 0);
	assert_int_equal(ash_range_alloc_in(&s, &r[1], SPLIT, 0, SPLIT), 0);
	assert_int_equal(r[1].start, 0);
	assert_int_equal(ash_range_alloc_in(&s, &r[2], 1, 0, SPLIT), -ENOSPC);
	assert_int_equal(ash_range_alloc_in(&s, &r[2], 1, SPLIT, SPACE),
			 -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(zero_size_is_refused),
		cmocka_unit_test(fills_exactly_then_refuses),
		cmocka_unit_test(larger_than_space_is_refused),
		cmocka_unit_test(freed_gap_is_reused_first_fit),
		cmocka_unit_test(find_returns_the_holder),
		cmocka_unit_test(random_ops_never_overlap),
		cmocka_unit_test(regions_stay_apart),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
