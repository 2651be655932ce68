/* SPDX-License-Identifier: MIT */
/*
 * Memory accounting (driver/quota.c): caps, guarantees and charges, at the
 * edges and against an independent model under random operations.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "quota.h"

#define PAGE 4096ULL
#define GiB (1ULL << 30)

/* The invariant quota.c promises after every call, restated here from its
 * definitions rather than trusted. */
static void assert_pool_sane(const struct ash_mem_pool *pool,
			     const struct ash_mem_quota *q, size_t n)
{
	unsigned __int128 used = 0, min_total = 0, reserved = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		used += q[i].used;
		min_total += q[i].min;
		if (q[i].used < q[i].min)
			reserved += q[i].min - q[i].used;
	}
	assert_true(used == pool->used);
	assert_true(min_total == pool->min_total);
	assert_true(reserved == pool->reserved);
	assert_true(min_total <= pool->capacity);
	assert_true((unsigned __int128)pool->used + pool->reserved <=
		    pool->capacity);
}

static void exact_fit_at_max(void **state)
{
	struct ash_mem_pool pool;
	struct ash_mem_quota q;

	(void)state;
	ash_pool_init(&pool, 16 * PAGE);
	assert_int_equal(ash_quota_add(&pool, &q, 8 * PAGE, 0), 0);
	assert_int_equal(ash_quota_charge(&pool, &q, 8 * PAGE), 0);
	assert_int_equal(q.used, 8 * PAGE);
	assert_int_equal(pool.used, 8 * PAGE);
	assert_pool_sane(&pool, &q, 1);
}

static void one_byte_over_max_is_edquot(void **state)
{
	struct ash_mem_pool pool;
	struct ash_mem_quota q;

	(void)state;
	ash_pool_init(&pool, 16 * PAGE);
	assert_int_equal(ash_quota_add(&pool, &q, 8 * PAGE, 0), 0);
	assert_int_equal(ash_quota_charge(&pool, &q, 8 * PAGE + 1), -EDQUOT);
	assert_int_equal(q.used, 0);
	assert_int_equal(ash_quota_charge(&pool, &q, 7 * PAGE), 0);
	/* One page over after a partial fill: refused, nothing changes. */
	assert_int_equal(ash_quota_charge(&pool, &q, 2 * PAGE), -EDQUOT);
	assert_int_equal(q.used, 7 * PAGE);
	assert_int_equal(pool.used, 7 * PAGE);
	assert_int_equal(ash_quota_charge(&pool, &q, PAGE), 0);
	assert_int_equal(ash_quota_charge(&pool, &q, 1), -EDQUOT);
	assert_pool_sane(&pool, &q, 1);
}

static void zero_byte_charge_is_einval(void **state)
{
	struct ash_mem_pool pool;
	struct ash_mem_quota q;

	(void)state;
	ash_pool_init(&pool, 16 * PAGE);
	assert_int_equal(ash_quota_add(&pool, &q, 8 * PAGE, 2 * PAGE), 0);
	assert_int_equal(ash_quota_charge(&pool, &q, 0), -EINVAL);
	assert_int_equal(q.used, 0);
	assert_int_equal(pool.used, 0);
	assert_int_equal(pool.reserved, 2 * PAGE);
}

static void charge_near_2_64_does_not_wrap(void **state)
{
	struct ash_mem_pool pool;
	struct ash_mem_quota q;

	(void)state;
	ash_pool_init(&pool, UINT64_MAX);
	assert_int_equal(ash_quota_add(&pool, &q, UINT64_MAX, 0), 0);
	assert_int_equal(ash_quota_charge(&pool, &q, UINT64_MAX - PAGE), 0);
	/* used + bytes wraps to a small number: must not pass as "fits". */
	assert_int_equal(ash_quota_charge(&pool, &q, 2 * PAGE), -EDQUOT);
	assert_int_equal(ash_quota_charge(&pool, &q, UINT64_MAX), -EDQUOT);
	assert_int_equal(q.used, UINT64_MAX - PAGE);
	assert_int_equal(ash_quota_charge(&pool, &q, PAGE), 0);
	assert_int_equal(q.used, UINT64_MAX);
	assert_int_equal(ash_quota_charge(&pool, &q, 1), -EDQUOT);
	assert_pool_sane(&pool, &q, 1);
}

static void pool_sum_near_2_64_does_not_wrap(void **state)
{
	struct ash_mem_pool pool;
	struct ash_mem_quota q[2];

	(void)state;
	ash_pool_init(&pool, UINT64_MAX - 1);
	assert_int_equal(ash_quota_add(&pool, &q[0], UINT64_MAX - 1, 0), 0);
	assert_int_equal(ash_quota_add(&pool, &q[1], UINT64_MAX - 1, 0), 0);
	assert_int_equal(ash_quota_charge(&pool, &q[0], UINT64_MAX - 10), 0);
	/* Within q[1]'s cap, but the pool's used would wrap. */
	assert_int_equal(ash_quota_charge(&pool, &q[1], 20), -ENOSPC);
	assert_int_equal(ash_quota_charge(&pool, &q[1], UINT64_MAX - 1),
			 -ENOSPC);
	assert_int_equal(ash_quota_charge(&pool, &q[1], 9), 0);
	assert_int_equal(pool.used, UINT64_MAX - 1);
	assert_int_equal(ash_quota_charge(&pool, &q[1], 1), -ENOSPC);
	assert_pool_sane(&pool, q, 2);
}

static void min_sum_near_2_64_is_enospc(void **state)
{
	struct ash_mem_pool pool;
	struct ash_mem_quota q[2];

	(void)state;
	ash_pool_init(&pool, UINT64_MAX);
	assert_int_equal(ash_quota_add(&pool, &q[0], UINT64_MAX,
				       UINT64_MAX - 5), 0);
	assert_int_equal(ash_quota_add(&pool, &q[1], UINT64_MAX, 10), -ENOSPC);
	assert_int_equal(ash_quota_add(&pool, &q[1], UINT64_MAX, 5), 0);
	assert_int_equal(pool.min_total, UINT64_MAX);
	assert_pool_sane(&pool, q, 2);
}

static void bad_caps_are_einval(void **state)
{
	struct ash_mem_pool pool;
	struct ash_mem_quota q;

	(void)state;
	ash_pool_init(&pool, 16 * PAGE);
	assert_int_equal(ash_quota_add(&pool, &q, 0, 0), -EINVAL);
	assert_int_equal(ash_quota_add(&pool, &q, 16 * PAGE + 1, 0), -EINVAL);
	assert_int_equal(ash_quota_add(&pool, &q, 4 * PAGE, 4 * PAGE + 1),
			 -EINVAL);
	assert_int_equal(pool.min_total, 0);
	assert_int_equal(pool.reserved, 0);
	assert_int_equal(ash_quota_add(&pool, &q, 16 * PAGE, 16 * PAGE), 0);
	assert_int_equal(ash_quota_set(&pool, &q, 0, 0), -EINVAL);
	assert_int_equal(ash_quota_set(&pool, &q, 2 * PAGE, 3 * PAGE), -EINVAL);
	assert_int_equal(q.max, 16 * PAGE);
	assert_int_equal(q.min, 16 * PAGE);
}

static void others_unused_min_is_enospc(void **state)
{
	struct ash_mem_pool pool;
	struct ash_mem_quota q[2];

	(void)state;
	ash_pool_init(&pool, 10 * PAGE);
	assert_int_equal(ash_quota_add(&pool, &q[0], 10 * PAGE, 4 * PAGE), 0);
	assert_int_equal(ash_quota_add(&pool, &q[1], 10 * PAGE, 0), 0);
	/* q[1] may take everything but q[0]'s unused guarantee. */
	assert_int_equal(ash_quota_charge(&pool, &q[1], 7 * PAGE), -ENOSPC);
	assert_int_equal(ash_quota_charge(&pool, &q[1], 6 * PAGE), 0);
	assert_int_equal(ash_quota_charge(&pool, &q[1], 1), -ENOSPC);
	assert_pool_sane(&pool, q, 2);
	/* ... and the owner can still take all of it. */
	assert_int_equal(ash_quota_charge(&pool, &q[0], 4 * PAGE), 0);
	assert_int_equal(pool.reserved, 0);
	assert_int_equal(pool.used, 10 * PAGE);
	assert_int_equal(ash_quota_charge(&pool, &q[0], 1), -ENOSPC);
	assert_pool_sane(&pool, q, 2);
}

static void owner_beyond_min_competes(void **state)
{
	struct ash_mem_pool pool;
	struct ash_mem_quota q[2];

	(void)state;
	ash_pool_init(&pool, 10 * PAGE);
	assert_int_equal(ash_quota_add(&pool, &q[0], 10 * PAGE, 2 * PAGE), 0);
	assert_int_equal(ash_quota_add(&pool, &q[1], 10 * PAGE, 3 * PAGE), 0);
	/* q[0]: its 2 guaranteed pages plus 5 free ones; not q[1]'s 3. */
	assert_int_equal(ash_quota_charge(&pool, &q[0], 8 * PAGE), -ENOSPC);
	assert_int_equal(ash_quota_charge(&pool, &q[0], 7 * PAGE), 0);
	assert_int_equal(ash_quota_charge(&pool, &q[1], 3 * PAGE), 0);
	assert_int_equal(pool.used, 10 * PAGE);
	assert_pool_sane(&pool, q, 2);
}

static void min_total_never_above_capacity(void **state)
{
	struct ash_mem_pool pool;
	struct ash_mem_quota q[3];

	(void)state;
	ash_pool_init(&pool, 10 * PAGE);
	assert_int_equal(ash_quota_add(&pool, &q[0], 10 * PAGE, 6 * PAGE), 0);
	assert_int_equal(ash_quota_add(&pool, &q[1], 10 * PAGE, 5 * PAGE),
			 -ENOSPC);
	assert_int_equal(ash_quota_add(&pool, &q[1], 10 * PAGE, 4 * PAGE), 0);
	assert_int_equal(pool.min_total, 10 * PAGE);
	assert_int_equal(ash_quota_add(&pool, &q[2], 10 * PAGE, 1), -ENOSPC);
	assert_int_equal(ash_quota_add(&pool, &q[2], 10 * PAGE, 0), 0);
	assert_int_equal(ash_quota_set(&pool, &q[1], 10 * PAGE, 4 * PAGE + 1),
			 -ENOSPC);
	assert_int_equal(q[1].min, 4 * PAGE);
	assert_pool_sane(&pool, q, 3);
}

static void raising_min_needs_free_memory(void **state)
{
	struct ash_mem_pool pool, before;
	struct ash_mem_quota q[2], q0, q1;

	(void)state;
	ash_pool_init(&pool, 10 * PAGE);
	assert_int_equal(ash_quota_add(&pool, &q[0], 10 * PAGE, 0), 0);
	assert_int_equal(ash_quota_add(&pool, &q[1], 10 * PAGE, 0), 0);
	assert_int_equal(ash_quota_charge(&pool, &q[1], 8 * PAGE), 0);
	before = pool;
	q0 = q[0];
	q1 = q[1];
	/* The sum of mins would fit, but only 2 pages are free now. */
	assert_int_equal(ash_quota_set(&pool, &q[0], 10 * PAGE, 3 * PAGE),
			 -ENOSPC);
	assert_memory_equal(&pool, &before, sizeof(pool));
	assert_memory_equal(&q[0], &q0, sizeof(q0));
	assert_memory_equal(&q[1], &q1, sizeof(q1));
	assert_int_equal(ash_quota_add(&pool, &q[0], 10 * PAGE, 3 * PAGE),
			 -ENOSPC);
	assert_int_equal(ash_quota_set(&pool, &q[0], 10 * PAGE, 2 * PAGE), 0);
	assert_int_equal(pool.reserved, 2 * PAGE);
	/* A guarantee over memory the owner already uses costs nothing. */
	assert_int_equal(ash_quota_set(&pool, &q[1], 10 * PAGE, 8 * PAGE), 0);
	assert_int_equal(pool.reserved, 2 * PAGE);
	assert_pool_sane(&pool, q, 2);
}

static void lowering_max_below_used(void **state)
{
	struct ash_mem_pool pool;
	struct ash_mem_quota q;

	(void)state;
	ash_pool_init(&pool, 16 * PAGE);
	assert_int_equal(ash_quota_add(&pool, &q, 16 * PAGE, 0), 0);
	assert_int_equal(ash_quota_charge(&pool, &q, 8 * PAGE), 0);
	assert_int_equal(ash_quota_set(&pool, &q, 4 * PAGE, 0), 0);
	assert_int_equal(q.used, 8 * PAGE);
	assert_int_equal(ash_quota_charge(&pool, &q, 1), -EDQUOT);
	ash_quota_uncharge(&pool, &q, 2 * PAGE);
	assert_int_equal(ash_quota_charge(&pool, &q, 1), -EDQUOT);
	ash_quota_uncharge(&pool, &q, 3 * PAGE);
	assert_int_equal(q.used, 3 * PAGE);
	assert_int_equal(ash_quota_charge(&pool, &q, PAGE), 0);
	assert_int_equal(ash_quota_charge(&pool, &q, 1), -EDQUOT);
	assert_pool_sane(&pool, &q, 1);
}

static void uncharge_restores_exactly(void **state)
{
	struct ash_mem_pool pool, before;
	struct ash_mem_quota q[2], q0, q1;

	(void)state;
	ash_pool_init(&pool, 32 * PAGE);
	assert_int_equal(ash_quota_add(&pool, &q[0], 16 * PAGE, 5 * PAGE), 0);
	assert_int_equal(ash_quota_add(&pool, &q[1], 16 * PAGE, 3 * PAGE), 0);
	assert_int_equal(ash_quota_charge(&pool, &q[0], 2 * PAGE), 0);
	before = pool;
	q0 = q[0];
	q1 = q[1];
	/* Across the guarantee's edge and back. */
	assert_int_equal(ash_quota_charge(&pool, &q[0], 7 * PAGE), 0);
	assert_int_equal(ash_quota_charge(&pool, &q[1], PAGE + 1), 0);
	ash_quota_uncharge(&pool, &q[1], PAGE + 1);
	ash_quota_uncharge(&pool, &q[0], 7 * PAGE);
	assert_memory_equal(&pool, &before, sizeof(pool));
	assert_memory_equal(&q[0], &q0, sizeof(q0));
	assert_memory_equal(&q[1], &q1, sizeof(q1));
}

static void remove_returns_min(void **state)
{
	struct ash_mem_pool pool;
	struct ash_mem_quota q[2];

	(void)state;
	ash_pool_init(&pool, 10 * PAGE);
	assert_int_equal(ash_quota_add(&pool, &q[0], 10 * PAGE, 6 * PAGE), 0);
	assert_int_equal(ash_quota_add(&pool, &q[1], 10 * PAGE, 4 * PAGE), 0);
	assert_int_equal(ash_quota_charge(&pool, &q[1], 5 * PAGE), -ENOSPC);
	ash_quota_remove(&pool, &q[0]);
	assert_int_equal(pool.min_total, 4 * PAGE);
	assert_int_equal(pool.reserved, 4 * PAGE);
	assert_int_equal(ash_quota_charge(&pool, &q[1], 10 * PAGE), 0);
	assert_pool_sane(&pool, &q[1], 1);
	ash_quota_uncharge(&pool, &q[1], 10 * PAGE);
	ash_quota_remove(&pool, &q[1]);
	assert_int_equal(pool.used, 0);
	assert_int_equal(pool.min_total, 0);
	assert_int_equal(pool.reserved, 0);
}

/*
 * Random operations against a model that computes every answer from first
 * principles, in 128-bit arithmetic, with no incremental state of its own
 * beyond each partition's (max, min, used).
 */
#define NPART 4
#define NALLOC 64

struct model {
	unsigned __int128 capacity;
	struct {
		int present;
		unsigned __int128 max, min, used;
	} p[NPART];
	struct {
		int part;
		uint64_t bytes;
	} alloc[NALLOC];
	int nalloc;
};

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64*: reproducible from the seed printed on failure. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static unsigned __int128 unused(unsigned __int128 used, unsigned __int128 min)
{
	return used < min ? min - used : 0;
}

/* Would the model hold with partition @i at (max, min, used)? */
static int model_fits(const struct model *m, int i, unsigned __int128 max,
		      unsigned __int128 min, unsigned __int128 used,
		      int check_min_total)
{
	unsigned __int128 total = 0, min_total = 0;
	int j;

	(void)max;
	for (j = 0; j < NPART; j++) {
		unsigned __int128 jm = j == i ? min : m->p[j].min;
		unsigned __int128 ju = j == i ? used : m->p[j].used;

		if (!m->p[j].present && j != i)
			continue;
		total += ju + unused(ju, jm);
		min_total += jm;
	}
	if (check_min_total && min_total > m->capacity)
		return 0;
	return total <= m->capacity;
}

static uint64_t pick_size(uint64_t capacity)
{
	switch (rnd() % 6) {
	case 0:
		return 0;
	case 1:
		return capacity;
	case 2:
		return UINT64_MAX - rnd() % 3;
	case 3:
		return (rnd() % 8 + 1) * PAGE;
	default:
		return rnd() % (capacity / 2 + 1);
	}
}

static void random_ops_match_model(void **state)
{
	static const uint64_t capacities[] = {
		64 * PAGE, 1000, UINT64_MAX, UINT64_MAX - PAGE, 3 * GiB,
	};
	uint64_t seed;

	(void)state;
	for (seed = 1; seed <= 200; seed++) {
		struct ash_mem_pool pool;
		struct ash_mem_quota q[NPART];
		struct model m;
		uint64_t cap = capacities[seed % 5];
		int op;

		rng_state = seed * 0x9E3779B97F4A7C15ULL;
		memset(&m, 0, sizeof(m));
		memset(q, 0, sizeof(q));
		m.capacity = cap;
		ash_pool_init(&pool, cap);

		for (op = 0; op < 2000; op++) {
			int i = rnd() % NPART, ret, want;
			uint64_t a = pick_size(cap), b = pick_size(cap);

			switch (rnd() % 5) {
			case 0:	/* add or set */
				if (a == 0 || a > cap || b > a)
					want = -EINVAL;
				else if (!model_fits(&m, i, a, b,
						     m.p[i].present ?
						     m.p[i].used : 0, 1))
					want = -ENOSPC;
				else
					want = 0;
				ret = m.p[i].present ?
				      ash_quota_set(&pool, &q[i], a, b) :
				      ash_quota_add(&pool, &q[i], a, b);
				if (ret != want)
					print_error("seed %llu op %d: set/add %d -> %d, model %d\n",
						    (unsigned long long)seed,
						    op, i, ret, want);
				assert_int_equal(ret, want);
				if (!ret) {
					m.p[i].present = 1;
					m.p[i].max = a;
					m.p[i].min = b;
				}
				break;
			case 1:	/* remove, when nothing is charged */
				if (!m.p[i].present || m.p[i].used)
					break;
				ash_quota_remove(&pool, &q[i]);
				memset(&m.p[i], 0, sizeof(m.p[i]));
				break;
			case 2:
			case 3:	/* charge */
				if (!m.p[i].present || m.nalloc == NALLOC)
					break;
				if (rnd() % 2)
					a = rnd() % (cap / 4 + 1);
				if (a == 0)
					want = -EINVAL;
				else if (m.p[i].used + a > m.p[i].max)
					want = -EDQUOT;
				else if (!model_fits(&m, i, m.p[i].max,
						     m.p[i].min,
						     m.p[i].used + a, 0))
					want = -ENOSPC;
				else
					want = 0;
				ret = ash_quota_charge(&pool, &q[i], a);
				if (ret != want)
					print_error("seed %llu op %d: charge %d %llu -> %d, model %d\n",
						    (unsigned long long)seed,
						    op, i,
						    (unsigned long long)a, ret,
						    want);
				assert_int_equal(ret, want);
				if (!ret) {
					m.p[i].used += a;
					m.alloc[m.nalloc].part = i;
					m.alloc[m.nalloc++].bytes = a;
				}
				break;
			case 4:	/* uncharge one allocation */
				if (!m.nalloc)
					break;
				want = rnd() % m.nalloc;
				i = m.alloc[want].part;
				ash_quota_uncharge(&pool, &q[i],
						   m.alloc[want].bytes);
				m.p[i].used -= m.alloc[want].bytes;
				m.alloc[want] = m.alloc[--m.nalloc];
				break;
			}
			for (i = 0; i < NPART; i++) {
				if (!m.p[i].present)
					continue;
				assert_true(q[i].max == m.p[i].max);
				assert_true(q[i].min == m.p[i].min);
				assert_true(q[i].used == m.p[i].used);
			}
			/* Removed partitions have max = min = used = 0 and
			 * count for nothing in the sums. */
			assert_pool_sane(&pool, q, NPART);
		}
	}
}

/* A refused charge is never partly applied. */
static void refused_charge_changes_nothing(void **state)
{
	struct ash_mem_pool pool, before;
	struct ash_mem_quota q[2], q0, q1;

	(void)state;
	ash_pool_init(&pool, 10 * PAGE);
	assert_int_equal(ash_quota_add(&pool, &q[0], 6 * PAGE, 2 * PAGE), 0);
	assert_int_equal(ash_quota_add(&pool, &q[1], 10 * PAGE, 3 * PAGE), 0);
	assert_int_equal(ash_quota_charge(&pool, &q[0], PAGE), 0);
	before = pool;
	q0 = q[0];
	q1 = q[1];
	assert_int_equal(ash_quota_charge(&pool, &q[0], 6 * PAGE), -EDQUOT);
	assert_int_equal(ash_quota_charge(&pool, &q[0], 5 * PAGE + 1),
			 -EDQUOT);
	/* q[1] may use its own 3 guaranteed pages and the 6 free ones, not
	 * q[0]'s remaining guaranteed page. */
	assert_int_equal(ash_quota_charge(&pool, &q[1], 9 * PAGE), -ENOSPC);
	assert_memory_equal(&pool, &before, sizeof(pool));
	assert_memory_equal(&q[0], &q0, sizeof(q0));
	assert_memory_equal(&q[1], &q1, sizeof(q1));
	assert_int_equal(ash_quota_charge(&pool, &q[1], 8 * PAGE), 0);
}

/* Memory integrals (ash_mem_usage): exact, however often advanced. */

#define NS 1000000000ULL
#define MiB (1ULL << 20)

static void usage_known_value(void **state)
{
	struct ash_mem_usage u;

	(void)state;
	ash_mem_usage_init(&u, 5 * NS);
	/* 1 MiB for 1.5 s: 1536 KiB-seconds, nothing left over. */
	ash_mem_usage_advance(&u, MiB, 6 * NS + NS / 2);
	assert_int_equal(u.kib_s, 1536);
	assert_int_equal(u.rem_kib_ns, 0);
	assert_int_equal(u.since_ns, 6 * NS + NS / 2);
	/* Nothing charged: time passes, the integral does not move. */
	ash_mem_usage_advance(&u, 0, 100 * NS);
	assert_int_equal(u.kib_s, 1536);
	assert_int_equal(u.since_ns, 100 * NS);
}

static void usage_clock_backwards_counts_nothing(void **state)
{
	struct ash_mem_usage u;

	(void)state;
	ash_mem_usage_init(&u, 10 * NS);
	ash_mem_usage_advance(&u, GiB, 9 * NS);
	assert_int_equal(u.kib_s, 0);
	assert_int_equal(u.rem_kib_ns, 0);
	assert_int_equal(u.since_ns, 10 * NS);
	ash_mem_usage_advance(&u, GiB, 11 * NS);
	assert_int_equal(u.kib_s, 1ULL << 20);
}

/* Many small steps give exactly what one step over the same time does. */
static void usage_small_steps_lose_nothing(void **state)
{
	struct ash_mem_usage once, steps;
	const uint64_t used = 3 * GiB + 7 * PAGE, step = 1234567;
	const int n = 100000;
	unsigned __int128 want;
	int i;

	(void)state;
	ash_mem_usage_init(&once, 0);
	ash_mem_usage_init(&steps, 0);
	for (i = 1; i <= n; i++)
		ash_mem_usage_advance(&steps, used, (uint64_t)i * step);
	ash_mem_usage_advance(&once, used, (uint64_t)n * step);
	want = (unsigned __int128)(used >> 10) * n * step;
	assert_true(steps.kib_s == (uint64_t)(want / NS));
	assert_true(steps.rem_kib_ns == (uint64_t)(want % NS));
	assert_int_equal(once.kib_s, steps.kib_s);
	assert_int_equal(once.rem_kib_ns, steps.rem_kib_ns);
}

/* Against 128-bit arithmetic, with the charge changing between steps. */
static void usage_random_matches_model(void **state)
{
	unsigned __int128 model = 0;
	struct ash_mem_usage u;
	uint64_t now = 0, used = 0, seed = 42, dt;
	int i;

	(void)state;
	ash_mem_usage_init(&u, 0);
	for (i = 0; i < 200000; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		dt = (seed >> 33) % (3 * NS);
		model += (unsigned __int128)(used >> 10) * dt;
		now += dt;
		ash_mem_usage_advance(&u, used, now);
		assert_true(u.kib_s == (uint64_t)(model / NS));
		assert_true(u.rem_kib_ns == (uint64_t)(model % NS));
		/* The next charge: up to 1 TiB, in whole pages. */
		used = ((seed >> 7) % (1ULL << 28)) * PAGE;
	}
}

/* An absurd integral stops at U64_MAX KiB-seconds rather than wrap. */
static void usage_saturates(void **state)
{
	struct ash_mem_usage u;

	(void)state;
	ash_mem_usage_init(&u, 0);
	ash_mem_usage_advance(&u, UINT64_MAX & ~(PAGE - 1), UINT64_MAX);
	assert_true(u.kib_s == UINT64_MAX);
	ash_mem_usage_init(&u, 0);
	u.kib_s = UINT64_MAX - 1;
	ash_mem_usage_advance(&u, GiB, 2 * NS);
	assert_true(u.kib_s == UINT64_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exact_fit_at_max),
		cmocka_unit_test(one_byte_over_max_is_edquot),
		cmocka_unit_test(zero_byte_charge_is_einval),
		cmocka_unit_test(charge_near_2_64_does_not_wrap),
		cmocka_unit_test(pool_sum_near_2_64_does_not_wrap),
		cmocka_unit_test(min_sum_near_2_64_is_enospc),
		cmocka_unit_test(bad_caps_are_einval),
		cmocka_unit_test(others_unused_min_is_enospc),
		cmocka_unit_test(owner_beyond_min_competes),
		cmocka_unit_test(min_total_never_above_capacity),
		cmocka_unit_test(raising_min_needs_free_memory),
		cmocka_unit_test(lowering_max_below_used),
		cmocka_unit_test(uncharge_restores_exactly),
		cmocka_unit_test(remove_returns_min),
		cmocka_unit_test(refused_charge_changes_nothing),
		cmocka_unit_test(random_ops_match_model),
		cmocka_unit_test(usage_known_value),
		cmocka_unit_test(usage_clock_backwards_counts_nothing),
		cmocka_unit_test(usage_small_steps_lose_nothing),
		cmocka_unit_test(usage_random_matches_model),
		cmocka_unit_test(usage_saturates),
	};

	return cmocka_run_group_tests_name("quota", tests, NULL, NULL);
}
