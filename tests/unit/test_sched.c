/* SPDX-License-Identifier: MIT */
/*
 * Weighted fair scheduling (driver/sched.c): the bookkeeping of each call at
 * the edges, invariants under random operations, and shares, bursts and
 * latencies measured by simulating an engine that picks, runs and charges
 * jobs in simulated time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sched.h"

#define US 1000ULL
#define MS 1000000ULL
#define SEC 1000000000ULL

#define MAX_GROUPS 8
#define MAX_TENANTS 16
#define MAX_PENDING 256

/*
 * A tenant: one context submitting jobs of a given cost.  A saturating
 * tenant keeps @depth jobs queued or running (depth 1: it submits the next
 * job when the last completes); a light tenant submits one job every
 * @period.
 */
struct tenant {
	struct ash_sched_entity e;
	u64 cost;
	u64 jitter;		/* cost varies by up to +-jitter */
	unsigned int depth;
	bool active;
	u64 period;
	u64 next_arrival;
	u64 pending[MAX_PENDING];	/* submission times, light tenants */
	unsigned int p_head, p_tail;
	u64 max_latency;
	u64 busy;
	u64 picks;
};

struct sim {
	struct ash_sched s;
	struct ash_sched_group g[MAX_GROUPS];
	struct tenant t[MAX_TENANTS];
	unsigned int nt;
	u64 now;
	u64 rng;
	/* runs of consecutive picks of one tenant */
	struct tenant *run_owner;
	unsigned int run_len;
	unsigned int run_min, run_max, runs;
};

static u64 rnd(u64 *state)
{
	*state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
	return *state >> 33;
}

static void sim_init(struct sim *sim, u64 slice_ns)
{
	memset(sim, 0, sizeof(*sim));
	ash_sched_init(&sim->s, slice_ns);
	sim->rng = 12345;
	sim->run_min = ~0U;
}

static struct ash_sched_group *sim_group(struct sim *sim, unsigned int i,
					 u32 weight)
{
	ash_sched_group_init(&sim->s, &sim->g[i], weight);
	return &sim->g[i];
}

static struct tenant *sim_tenant(struct sim *sim, unsigned int group,
				 u64 cost, unsigned int depth)
{
	struct tenant *t = &sim->t[sim->nt++];

	assert_true(sim->nt <= MAX_TENANTS);
	ash_sched_entity_init(&sim->g[group], &t->e);
	t->cost = cost;
	t->depth = depth;
	return t;
}

static void tenant_start(struct sim *sim, struct tenant *t)
{
	unsigned int i;

	t->active = true;
	for (i = 0; i < t->depth; i++)
		ash_sched_enqueue(&sim->s, &t->e);
}

/* Stops submitting and cancels what is queued (a job running finishes). */
static void tenant_stop(struct sim *sim, struct tenant *t)
{
	t->active = false;
	while (t->e.nr_queued)
		ash_sched_dequeue(&sim->s, &t->e);
}

static struct tenant *sim_light(struct sim *sim, unsigned int group,
				u64 cost, u64 period, u64 first)
{
	struct tenant *t = sim_tenant(sim, group, cost, 0);

	t->period = period;
	t->next_arrival = first;
	return t;
}

/* Light tenants' submissions up to (and, if @inclusive, at) @until. */
static void arrivals(struct sim *sim, u64 until, bool inclusive)
{
	unsigned int i;

	for (i = 0; i < sim->nt; i++) {
		struct tenant *t = &sim->t[i];

		while (t->period && (t->next_arrival < until ||
				     (inclusive && t->next_arrival == until))) {
			assert_true(t->p_tail - t->p_head < MAX_PENDING);
			t->pending[t->p_tail++ % MAX_PENDING] = t->next_arrival;
			t->next_arrival += t->period;
			ash_sched_enqueue(&sim->s, &t->e);
		}
	}
}

static u64 next_arrival(struct sim *sim, u64 until)
{
	u64 next = until;
	unsigned int i;

	for (i = 0; i < sim->nt; i++)
		if (sim->t[i].period && sim->t[i].next_arrival < next)
			next = sim->t[i].next_arrival;
	return next;
}

static void note_run(struct sim *sim, struct tenant *t)
{
	if (t == sim->run_owner) {
		sim->run_len++;
		return;
	}
	if (sim->run_owner) {
		sim->runs++;
		if (sim->run_len < sim->run_min)
			sim->run_min = sim->run_len;
		if (sim->run_len > sim->run_max)
			sim->run_max = sim->run_len;
	}
	sim->run_owner = t;
	sim->run_len = 1;
}

/* One engine slot: pick, run, charge, resubmit; until simulated @until. */
static void sim_run(struct sim *sim, u64 until)
{
	while (sim->now < until) {
		struct ash_sched_entity *e;
		struct tenant *t;
		u64 cost;

		arrivals(sim, sim->now, true);
		e = ash_sched_pick(&sim->s);
		if (!e) {
			u64 next = next_arrival(sim, until);

			sim->now = next > sim->now ? next : until;
			continue;
		}
		t = container_of(e, struct tenant, e);
		note_run(sim, t);
		t->picks++;
		if (t->period) {
			u64 lat;

			assert_true(t->p_tail != t->p_head);
			lat = sim->now - t->pending[t->p_head++ % MAX_PENDING];
			if (lat > t->max_latency)
				t->max_latency = lat;
		}
		cost = t->cost;
		if (t->jitter)
			cost = cost - t->jitter + rnd(&sim->rng) %
			       (2 * t->jitter + 1);
		/* Submissions while it runs come before its completion. */
		arrivals(sim, sim->now + cost, false);
		sim->now += cost;
		ash_sched_charge(&sim->s, e, cost);
		t->busy += cost;
		if (t->active && t->depth)
			ash_sched_enqueue(&sim->s, e);
	}
}

static void snapshot(const struct sim *sim, u64 *busy)
{
	unsigned int i;

	for (i = 0; i < sim->nt; i++)
		busy[i] = sim->t[i].busy;
}

/* Each tenant's share of the busy time since @before, in percent. */
static void shares(const struct sim *sim, const u64 *before, double *pct)
{
	u64 total = 0;
	unsigned int i;

	for (i = 0; i < sim->nt; i++)
		total += sim->t[i].busy - before[i];
	assert_true(total > 0);
	for (i = 0; i < sim->nt; i++)
		pct[i] = 100.0 * (double)(sim->t[i].busy - before[i]) /
			 (double)total;
}

static void assert_near(double got, double want, double tol)
{
	if (got < want - tol || got > want + tol)
		fail_msg("share %.3f%% not within %.3f of %.3f%%", got, tol,
			 want);
}

/* Saturate one group per weight with one tenant each; check shares. */
static void check_weighted_shares(const u32 *w, const u64 *cost,
				  unsigned int depth, unsigned int n,
				  u64 slice, u64 duration, double tol)
{
	struct sim sim;
	u64 before[MAX_TENANTS] = { 0 };
	double pct[MAX_TENANTS];
	u64 wsum = 0;
	unsigned int i;

	sim_init(&sim, slice);
	for (i = 0; i < n; i++) {
		sim_group(&sim, i, w[i]);
		sim_tenant(&sim, i, cost[i], depth);
		wsum += w[i];
	}
	for (i = 0; i < n; i++)
		tenant_start(&sim, &sim.t[i]);
	sim_run(&sim, duration);
	shares(&sim, before, pct);
	for (i = 0; i < n; i++) {
		print_message("  weight %u, %llu us jobs: %.3f%% (ideal %.3f%%)\n",
			      w[i], (unsigned long long)(cost[i] / US), pct[i],
			      100.0 * w[i] / wsum);
		assert_near(pct[i], 100.0 * w[i] / wsum, tol);
	}
}

/* ---- bookkeeping at the edges ---- */

static void empty_pick_returns_null(void **state)
{
	struct ash_sched s;
	struct ash_sched_group g;
	struct ash_sched_entity e;

	(void)state;
	ash_sched_init(&s, MS);
	assert_null(ash_sched_pick(&s));
	ash_sched_group_init(&s, &g, 1);
	ash_sched_entity_init(&g, &e);
	assert_null(ash_sched_pick(&s));
	ash_sched_enqueue(&s, &e);
	assert_ptr_equal(ash_sched_pick(&s), &e);
	assert_null(ash_sched_pick(&s));
	assert_false(e.on_rq);
	assert_false(g.on_rq);
}

static void pick_takes_one_queued_job_each(void **state)
{
	struct ash_sched s;
	struct ash_sched_group g;
	struct ash_sched_entity e;
	int i;

	(void)state;
	ash_sched_init(&s, MS);
	ash_sched_group_init(&s, &g, 3);
	ash_sched_entity_init(&g, &e);
	for (i = 0; i < 5; i++)
		ash_sched_enqueue(&s, &e);
	assert_int_equal(e.nr_queued, 5);
	assert_true(e.on_rq && g.on_rq);
	for (i = 4; i >= 0; i--) {
		assert_ptr_equal(ash_sched_pick(&s), &e);
		assert_int_equal(e.nr_queued, i);
	}
	assert_false(e.on_rq);
	assert_false(g.on_rq);
	assert_null(ash_sched_pick(&s));
}

static void dequeue_cancels_queued_jobs(void **state)
{
	struct ash_sched s;
	struct ash_sched_group g;
	struct ash_sched_entity a, b;

	(void)state;
	ash_sched_init(&s, MS);
	ash_sched_group_init(&s, &g, 1);
	ash_sched_entity_init(&g, &a);
	ash_sched_entity_init(&g, &b);
	ash_sched_enqueue(&s, &a);
	ash_sched_enqueue(&s, &a);
	ash_sched_enqueue(&s, &b);
	ash_sched_dequeue(&s, &a);
	assert_int_equal(a.nr_queued, 1);
	assert_true(a.on_rq);
	ash_sched_dequeue(&s, &a);
	assert_false(a.on_rq);
	/* Nothing queued: a no-op, not an underflow. */
	ash_sched_dequeue(&s, &a);
	assert_int_equal(a.nr_queued, 0);
	assert_true(g.on_rq);
	assert_ptr_equal(ash_sched_pick(&s), &b);
	assert_null(ash_sched_pick(&s));
	ash_sched_enqueue(&s, &b);
	ash_sched_dequeue(&s, &b);
	assert_false(g.on_rq);
	assert_null(ash_sched_pick(&s));
}

static void remove_entity_with_queued_jobs_drops_them(void **state)
{
	struct ash_sched s;
	struct ash_sched_group g, h;
	struct ash_sched_entity a, b, c;
	int i;

	(void)state;
	ash_sched_init(&s, 10 * MS);
	ash_sched_group_init(&s, &g, 1);
	ash_sched_group_init(&s, &h, 1);
	ash_sched_entity_init(&g, &a);
	ash_sched_entity_init(&g, &b);
	ash_sched_entity_init(&h, &c);
	for (i = 0; i < 5; i++) {
		ash_sched_enqueue(&s, &a);
		ash_sched_enqueue(&s, &b);
		ash_sched_enqueue(&s, &c);
	}
	/* a holds the slice; removing it ends the slice. */
	assert_ptr_equal(ash_sched_pick(&s), &a);
	ash_sched_entity_remove(&s, &a);
	assert_int_equal(a.nr_queued, 0);
	assert_false(a.on_rq);
	assert_null(s.curr);
	/* The job picked before the remove may still be charged. */
	ash_sched_charge(&s, &a, 100 * US);
	assert_int_equal(g.busy_ns, 100 * US);
	for (i = 0; i < 10; i++) {
		struct ash_sched_entity *e = ash_sched_pick(&s);

		assert_non_null(e);
		assert_ptr_not_equal(e, &a);
		ash_sched_charge(&s, e, 100 * US);
	}
	assert_null(ash_sched_pick(&s));
	/* Removing the last entity of a runnable group takes the group off. */
	ash_sched_enqueue(&s, &b);
	ash_sched_enqueue(&s, &c);
	ash_sched_entity_remove(&s, &b);
	assert_false(g.on_rq);
	assert_true(h.on_rq);
	assert_ptr_equal(ash_sched_pick(&s), &c);
	assert_null(ash_sched_pick(&s));
	/* Removing an idle entity, twice, is harmless. */
	ash_sched_entity_remove(&s, &b);
	ash_sched_entity_remove(&s, &b);
	assert_null(ash_sched_pick(&s));
}

static void remove_group_with_queued_jobs_drops_them(void **state)
{
	struct ash_sched s;
	struct ash_sched_group g, h;
	struct ash_sched_entity a, b, c;

	(void)state;
	ash_sched_init(&s, 10 * MS);
	ash_sched_group_init(&s, &g, 1);
	ash_sched_group_init(&s, &h, 1);
	ash_sched_entity_init(&g, &a);
	ash_sched_entity_init(&g, &b);
	ash_sched_entity_init(&h, &c);
	ash_sched_enqueue(&s, &a);
	ash_sched_enqueue(&s, &a);
	ash_sched_enqueue(&s, &b);
	ash_sched_enqueue(&s, &c);
	assert_ptr_equal(ash_sched_pick(&s), &a);
	/* The lead removes entities first; a group with some left is safe. */
	ash_sched_group_remove(&s, &g);
	assert_false(g.on_rq);
	assert_false(a.on_rq);
	assert_false(b.on_rq);
	assert_int_equal(a.nr_queued + b.nr_queued, 0);
	assert_null(s.curr);
	assert_ptr_equal(ash_sched_pick(&s), &c);
	assert_null(ash_sched_pick(&s));
	/* An idle group goes without a trace; it can be set up again. */
	ash_sched_group_remove(&s, &h);
	ash_sched_group_init(&s, &h, 5);
	ash_sched_entity_init(&h, &c);
	ash_sched_enqueue(&s, &c);
	assert_ptr_equal(ash_sched_pick(&s), &c);
}

static void weight_zero_is_taken_as_one(void **state)
{
	struct ash_sched s;
	struct ash_sched_group g;
	struct ash_sched_entity e;

	(void)state;
	ash_sched_init(&s, MS);
	ash_sched_group_init(&s, &g, 0);
	assert_int_equal(g.weight, 1);
	ash_sched_group_set_weight(&s, &g, 0);
	assert_int_equal(g.weight, 1);
	ash_sched_entity_init(&g, &e);
	ash_sched_charge(&s, &e, 1234);
	assert_int_equal(g.vtime, 1234);
}

static void vtime_carries_remainder_and_loses_no_time(void **state)
{
	struct ash_sched s;
	struct ash_sched_group g;
	struct ash_sched_entity e;
	int i;

	(void)state;
	ash_sched_init(&s, MS);
	ash_sched_group_init(&s, &g, 7);
	ash_sched_entity_init(&g, &e);
	for (i = 0; i < 700; i++)
		ash_sched_charge(&s, &e, 1);
	assert_int_equal(g.vtime, 100);
	assert_int_equal(g.rem_ns, 0);
	assert_int_equal(e.vtime, 700);
	assert_int_equal(g.busy_ns, 700);
	/* A weight change keeps the uncounted ns and applies from now on. */
	ash_sched_charge(&s, &e, 6);
	assert_int_equal(g.vtime, 100);
	ash_sched_group_set_weight(&s, &g, 2);
	ash_sched_charge(&s, &e, 2);
	assert_int_equal(g.vtime, 104);
	assert_int_equal(g.rem_ns, 0);
}

static void vtime_saturates_instead_of_wrapping(void **state)
{
	const u64 max = ~(u64)0;
	struct ash_sched s;
	struct ash_sched_group g, h, k;
	struct ash_sched_entity a, b, c;
	int i;

	(void)state;
	ash_sched_init(&s, MS);
	ash_sched_group_init(&s, &g, 1);
	ash_sched_group_init(&s, &h, 1);
	ash_sched_group_init(&s, &k, 10000);
	ash_sched_entity_init(&g, &a);
	ash_sched_entity_init(&h, &b);
	ash_sched_entity_init(&k, &c);
	/* Years of busy time at weight 1 fit (2^64 ns is 584 years). */
	ash_sched_charge(&s, &a, 100ULL * 365 * 24 * 3600 * SEC);
	assert_int_equal(g.vtime, 100ULL * 365 * 24 * 3600 * SEC);
	/* Absurd charges saturate. */
	ash_sched_charge(&s, &a, max);
	assert_true(g.vtime == max && a.vtime == max && g.busy_ns == max);
	ash_sched_charge(&s, &a, max);
	ash_sched_charge(&s, &a, 1);
	assert_true(g.vtime == max && a.vtime == max);
	ash_sched_charge(&s, &c, max);
	assert_true(k.vtime == max / 10000);
	ash_sched_charge(&s, &c, max);
	assert_true(k.vtime == max / 10000 * 2);
	assert_int_equal(k.rem_ns, max % 10000 * 2);
	/* The saturated group sorts last, it does not wrap to first. */
	for (i = 0; i < 3; i++) {
		ash_sched_enqueue(&s, &a);
		ash_sched_enqueue(&s, &b);
	}
	ash_sched_set_slice(&s, 0);
	for (i = 0; i < 3; i++) {
		assert_ptr_equal(ash_sched_pick(&s), &b);
		ash_sched_charge(&s, &b, max / 4);
	}
	assert_ptr_equal(ash_sched_pick(&s), &a);
	/* Slice accounting saturates too. */
	ash_sched_set_slice(&s, max);
	ash_sched_charge(&s, &a, max);
	assert_true(s.curr_used == max);
}

/* ---- slices ---- */

static void slice_bounds_consecutive_picks(void **state)
{
	static const struct {
		u64 slice, cost;
		unsigned int depth, want;
	} c[] = {
		{ MS, 100 * US, 4, 10 },
		{ MS, 300 * US, 4, 4 },
		{ MS, 100 * US, 1, 10 },	/* synchronous submitters */
		{ 0, 100 * US, 4, 1 },		/* no slice: alternate */
		{ MS, 2 * MS, 4, 1 },		/* a job longer than a slice */
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct sim sim;

		sim_init(&sim, c[i].slice);
		sim_group(&sim, 0, 1);
		sim_group(&sim, 1, 1);
		tenant_start(&sim, sim_tenant(&sim, 0, c[i].cost, c[i].depth));
		tenant_start(&sim, sim_tenant(&sim, 1, c[i].cost, c[i].depth));
		sim_run(&sim, SEC);
		print_message("  slice %llu us, %llu us jobs, depth %u: runs of %u..%u picks\n",
			      (unsigned long long)(c[i].slice / US),
			      (unsigned long long)(c[i].cost / US),
			      c[i].depth, sim.run_min, sim.run_max);
		assert_true(sim.runs > 100);
		assert_int_equal(sim.run_min, c[i].want);
		assert_int_equal(sim.run_max, c[i].want);
	}
}

static void slice_change_applies_live(void **state)
{
	struct sim sim;

	(void)state;
	sim_init(&sim, MS);
	sim_group(&sim, 0, 1);
	sim_group(&sim, 1, 1);
	tenant_start(&sim, sim_tenant(&sim, 0, 100 * US, 2));
	tenant_start(&sim, sim_tenant(&sim, 1, 100 * US, 2));
	sim_run(&sim, 100 * MS);
	assert_int_equal(sim.run_max, 10);
	ash_sched_set_slice(&sim.s, 500 * US);
	sim_run(&sim, 101 * MS);
	sim.run_min = ~0U;
	sim.run_max = 0;
	sim_run(&sim, 200 * MS);
	assert_int_equal(sim.run_min, 5);
	assert_int_equal(sim.run_max, 5);
}

/* ---- shares under saturation ---- */

static void weights_1_2_4_share_by_weight(void **state)
{
	static const u32 w[] = { 1, 2, 4 };
	static const u64 same[] = { 100 * US, 100 * US, 100 * US };
	static const u64 mixed[] = { 100 * US, MS, 300 * US };
	static const u64 mixed2[] = { MS, 100 * US, 700 * US };

	(void)state;
	check_weighted_shares(w, same, 4, 3, 2 * MS, 10 * SEC, 0.5);
	check_weighted_shares(w, mixed, 4, 3, 2 * MS, 10 * SEC, 0.5);
	check_weighted_shares(w, mixed2, 1, 3, 4 * MS, 10 * SEC, 0.5);
	/* The VM acceptance window: 2 points over a few seconds. */
	check_weighted_shares(w, mixed, 2, 3, 4 * MS, 2 * SEC, 0.5);
}

static void weights_1_100_share_by_weight(void **state)
{
	static const u32 w[] = { 1, 100 };
	static const u64 same[] = { 100 * US, 100 * US };
	static const u64 mixed[] = { MS, 100 * US };
	static const u64 mixed2[] = { 100 * US, MS };

	(void)state;
	check_weighted_shares(w, same, 4, 2, 2 * MS, 10 * SEC, 0.1);
	check_weighted_shares(w, mixed, 4, 2, 2 * MS, 10 * SEC, 0.1);
	check_weighted_shares(w, mixed2, 1, 2, 2 * MS, 10 * SEC, 0.1);
}

static void jittered_job_costs_share_by_weight(void **state)
{
	struct sim sim;
	u64 before[MAX_TENANTS] = { 0 };
	double pct[MAX_TENANTS];
	unsigned int i;

	(void)state;
	sim_init(&sim, 3 * MS);
	sim_group(&sim, 0, 3);
	sim_group(&sim, 1, 5);
	sim_group(&sim, 2, 2);
	for (i = 0; i < 3; i++) {
		struct tenant *t = sim_tenant(&sim, i, (i + 1) * 400 * US, 3);

		t->jitter = t->cost * 9 / 10;
		tenant_start(&sim, t);
	}
	sim_run(&sim, 10 * SEC);
	shares(&sim, before, pct);
	print_message("  3:5:2 jittered: %.3f%% %.3f%% %.3f%%\n",
		      pct[0], pct[1], pct[2]);
	assert_near(pct[0], 30, 0.5);
	assert_near(pct[1], 50, 0.5);
	assert_near(pct[2], 20, 0.5);
}

static void equal_contexts_share_partition_equally(void **state)
{
	static const u64 cost[] = { 100 * US, MS, 300 * US, 50 * US };
	struct sim sim;
	u64 before[MAX_TENANTS] = { 0 };
	double pct[MAX_TENANTS];
	unsigned int i;

	(void)state;
	sim_init(&sim, 2 * MS);
	sim_group(&sim, 0, 5);
	for (i = 0; i < 4; i++)
		tenant_start(&sim, sim_tenant(&sim, 0, cost[i], 1 + i % 3));
	sim_run(&sim, 10 * SEC);
	shares(&sim, before, pct);
	for (i = 0; i < 4; i++) {
		print_message("  context %u, %llu us jobs: %.3f%%\n", i,
			      (unsigned long long)(cost[i] / US), pct[i]);
		assert_near(pct[i], 25, 0.5);
	}
}

static void partition_of_three_vs_one_at_equal_weight(void **state)
{
	struct sim sim;
	u64 before[MAX_TENANTS] = { 0 };
	double pct[MAX_TENANTS];
	unsigned int i;

	(void)state;
	sim_init(&sim, 2 * MS);
	sim_group(&sim, 0, 10);
	sim_group(&sim, 1, 10);
	tenant_start(&sim, sim_tenant(&sim, 0, 100 * US, 2));
	tenant_start(&sim, sim_tenant(&sim, 0, 500 * US, 2));
	tenant_start(&sim, sim_tenant(&sim, 0, 200 * US, 1));
	tenant_start(&sim, sim_tenant(&sim, 1, 300 * US, 2));
	sim_run(&sim, 10 * SEC);
	shares(&sim, before, pct);
	print_message("  A: %.3f%% %.3f%% %.3f%%, B: %.3f%%\n",
		      pct[0], pct[1], pct[2], pct[3]);
	for (i = 0; i < 3; i++)
		assert_near(pct[i], 100.0 / 6, 0.5);
	assert_near(pct[3], 50, 0.5);
}

/* ---- arrivals, sleepers, weight changes ---- */

static void newcomer_gets_its_share_not_a_burst(void **state)
{
	struct sim sim;
	struct tenant *c, *d;
	u64 before[MAX_TENANTS];
	double pct[MAX_TENANTS];
	u64 start, got;

	(void)state;
	sim_init(&sim, 2 * MS);
	sim_group(&sim, 0, 1);
	sim_group(&sim, 1, 1);
	sim_group(&sim, 2, 2);
	tenant_start(&sim, sim_tenant(&sim, 0, 100 * US, 2));
	tenant_start(&sim, sim_tenant(&sim, 1, 500 * US, 2));
	c = sim_tenant(&sim, 2, 100 * US, 2);
	sim_run(&sim, 5 * SEC);

	/* A new partition of weight 2 joins two of weight 1: 50% from now. */
	tenant_start(&sim, c);
	start = sim.now;
	sim_run(&sim, start + 20 * MS);
	got = c->busy;
	print_message("  newcomer's first 20 ms: %.3f ms (share 10 ms)\n",
		      (double)got / MS);
	assert_true(got <= 10 * MS + 2 * MS + 500 * US);
	assert_true(got + 2 * MS + 500 * US >= 10 * MS);
	snapshot(&sim, before);
	sim_run(&sim, start + SEC);
	shares(&sim, before, pct);
	print_message("  next second: %.3f%% %.3f%% %.3f%%\n",
		      pct[0], pct[1], pct[2]);
	assert_near(pct[2], 50, 0.5);
	assert_near(pct[0], 25, 0.5);

	/* A new context in partition 0 halves its sibling, no more. */
	d = sim_tenant(&sim, 0, 100 * US, 2);
	snapshot(&sim, before);
	tenant_start(&sim, d);
	start = sim.now;
	sim_run(&sim, start + 40 * MS);
	got = d->busy;
	print_message("  new context's first 40 ms: %.3f ms (share 5 ms)\n",
		      (double)got / MS);
	assert_true(got <= 5 * MS + 2 * MS + 500 * US);
	snapshot(&sim, before);
	sim_run(&sim, start + SEC);
	shares(&sim, before, pct);
	print_message("  next second: %.3f%% %.3f%% | %.3f%% %.3f%%\n",
		      pct[0], pct[3], pct[1], pct[2]);
	assert_near(pct[0], 12.5, 0.5);
	assert_near(pct[3], 12.5, 0.5);
}

static void sleeper_earns_no_burst(void **state)
{
	static const unsigned int depth[] = { 1, 4 };
	unsigned int i;

	(void)state;
	for (i = 0; i < 2; i++) {
		struct sim sim;
		struct tenant *a, *b, *c, *d;
		u64 before[MAX_TENANTS];
		u64 start, bound = 2 * MS + MS;

		sim_init(&sim, 2 * MS);
		sim_group(&sim, 0, 1);
		sim_group(&sim, 1, 1);
		a = sim_tenant(&sim, 0, 100 * US, depth[i]);
		b = sim_tenant(&sim, 1, MS, depth[i]);
		c = sim_tenant(&sim, 1, 100 * US, depth[i]);
		d = sim_tenant(&sim, 0, 300 * US, depth[i]);
		tenant_start(&sim, a);
		tenant_start(&sim, b);
		sim_run(&sim, SEC);
		/* b's partition sleeps 10 s while a runs alone. */
		tenant_stop(&sim, b);
		sim_run(&sim, 11 * SEC);
		tenant_start(&sim, b);
		snapshot(&sim, before);
		start = sim.now;
		sim_run(&sim, start + 100 * MS);
		print_message("  depth %u: 100 ms after waking, sleeper %.3f ms, other %.3f ms\n",
			      depth[i], (double)(b->busy - before[1]) / MS,
			      (double)(a->busy - before[0]) / MS);
		assert_true(b->busy - before[1] <= 50 * MS + bound);
		assert_true(a->busy - before[0] + bound >= 50 * MS);

		/* A context sleeping inside a busy partition: the same. */
		tenant_start(&sim, c);
		tenant_start(&sim, d);
		sim_run(&sim, sim.now + SEC);
		tenant_stop(&sim, c);
		sim_run(&sim, sim.now + 10 * SEC);
		tenant_start(&sim, c);
		snapshot(&sim, before);
		start = sim.now;
		sim_run(&sim, start + 200 * MS);
		print_message("  depth %u: 200 ms after waking, sleeping context %.3f ms, sibling %.3f ms\n",
			      depth[i], (double)(c->busy - before[2]) / MS,
			      (double)(b->busy - before[1]) / MS);
		assert_true(c->busy - before[2] <= 50 * MS + bound);
		assert_true(b->busy - before[1] + bound >= 50 * MS);
	}
}

static void weight_change_moves_shares_live(void **state)
{
	struct sim sim;
	u64 before[MAX_TENANTS];
	double pct[MAX_TENANTS];
	u64 start;

	(void)state;
	sim_init(&sim, 2 * MS);
	sim_group(&sim, 0, 1);
	sim_group(&sim, 1, 1);
	tenant_start(&sim, sim_tenant(&sim, 0, 100 * US, 2));
	tenant_start(&sim, sim_tenant(&sim, 1, 700 * US, 2));
	sim_run(&sim, 2 * SEC);

	ash_sched_group_set_weight(&sim.s, &sim.g[0], 3);
	snapshot(&sim, before);
	start = sim.now;
	sim_run(&sim, start + 100 * MS);
	shares(&sim, before, pct);
	print_message("  1:1 -> 3:1, first 100 ms: %.3f%% %.3f%%\n",
		      pct[0], pct[1]);
	assert_near(pct[0], 75, 3);
	snapshot(&sim, before);
	sim_run(&sim, start + 5 * SEC);
	shares(&sim, before, pct);
	print_message("  then: %.3f%% %.3f%%\n", pct[0], pct[1]);
	assert_near(pct[0], 75, 0.5);

	ash_sched_group_set_weight(&sim.s, &sim.g[0], 1);
	ash_sched_group_set_weight(&sim.s, &sim.g[1], 4);
	snapshot(&sim, before);
	start = sim.now;
	sim_run(&sim, start + 100 * MS);
	shares(&sim, before, pct);
	print_message("  3:1 -> 1:4, first 100 ms: %.3f%% %.3f%%\n",
		      pct[0], pct[1]);
	assert_near(pct[0], 20, 3);
	snapshot(&sim, before);
	sim_run(&sim, start + 5 * SEC);
	shares(&sim, before, pct);
	print_message("  then: %.3f%% %.3f%%\n", pct[0], pct[1]);
	assert_near(pct[0], 20, 0.5);
}

/* ---- latency of a light tenant ---- */

static void light_tenant_waits_at_most_slice_plus_job(void **state)
{
	static const struct {
		u32 w_light;
		unsigned int depth;
	} c[] = { { 1, 4 }, { 1, 1 }, { 100, 4 } };
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct sim sim;
		struct tenant *light;

		/* One saturating neighbour of weight 100, 1 ms jobs. */
		sim_init(&sim, 4 * MS);
		sim_group(&sim, 0, 100);
		sim_group(&sim, 1, c[i].w_light);
		tenant_start(&sim, sim_tenant(&sim, 0, MS, c[i].depth));
		light = sim_light(&sim, 1, 100 * US, 20 * MS + 137 * US,
				  3 * SEC);
		sim_run(&sim, 10 * SEC);
		print_message("  light weight %u vs 100, depth %u: %llu jobs, worst wait %.3f ms\n",
			      c[i].w_light, c[i].depth,
			      (unsigned long long)light->picks,
			      (double)light->max_latency / MS);
		assert_true(light->picks > 300);
		assert_true(light->max_latency <= 4 * MS + MS);
	}
}

static void light_tenant_latency_among_1_2_4_neighbours(void **state)
{
	struct sim sim;
	struct tenant *light;
	u64 before[MAX_TENANTS] = { 0 };
	double pct[MAX_TENANTS];
	double busy = 0;
	unsigned int i;

	(void)state;
	sim_init(&sim, 4 * MS);
	sim_group(&sim, 0, 1);
	sim_group(&sim, 1, 2);
	sim_group(&sim, 2, 4);
	sim_group(&sim, 3, 1);
	tenant_start(&sim, sim_tenant(&sim, 0, MS, 2));
	tenant_start(&sim, sim_tenant(&sim, 1, 300 * US, 2));
	tenant_start(&sim, sim_tenant(&sim, 2, MS, 2));
	light = sim_light(&sim, 3, 100 * US, 50 * MS + 13 * US, SEC);
	sim_run(&sim, 10 * SEC);
	shares(&sim, before, pct);
	for (i = 0; i < 3; i++)
		busy += pct[i];
	print_message("  1:2:4 + light: %.3f%% %.3f%% %.3f%% (of the rest), light %.3f%%, worst wait %.3f ms\n",
		      100 * pct[0] / busy, 100 * pct[1] / busy,
		      100 * pct[2] / busy, pct[3],
		      (double)light->max_latency / MS);
	assert_true(light->picks > 150);
	assert_true(light->max_latency <= 4 * MS + MS);
	assert_near(100 * pct[0] / busy, 100.0 / 7, 0.5);
	assert_near(100 * pct[1] / busy, 200.0 / 7, 0.5);
	assert_near(100 * pct[2] / busy, 400.0 / 7, 0.5);
}

/* ---- invariants under random operations ---- */

static void check_invariants(const struct ash_sched *s,
			     const struct ash_sched_group *g, unsigned int ng,
			     const struct ash_sched_entity *e, unsigned int ne,
			     const bool *alive)
{
	const struct ash_link *l;
	unsigned int i, n_groups = 0;

	for (l = s->groups.next; l != &s->groups; l = l->next) {
		assert_true(l->next->prev == l);
		n_groups++;
	}
	for (i = 0; i < ng; i++) {
		unsigned int n = 0, want = 0, j;

		for (l = g[i].entities.next; l != &g[i].entities; l = l->next)
			n++;
		for (j = 0; j < ne; j++)
			if (alive[j] && e[j].group == &g[i] && e[j].nr_queued)
				want++;
		assert_int_equal(n, want);
		assert_true(g[i].on_rq == (n > 0));
		if (g[i].on_rq)
			n_groups--;
	}
	assert_int_equal(n_groups, 0);
	for (i = 0; i < ne; i++)
		if (alive[i])
			assert_true(e[i].on_rq == (e[i].nr_queued > 0));
	if (s->curr)
		assert_true(alive[s->curr - e]);
}

static void random_ops_keep_invariants(void **state)
{
	enum { NG = 4, NE = 10, STEPS = 200000 };
	struct ash_sched s;
	struct ash_sched_group g[NG];
	struct ash_sched_entity e[NE];
	bool alive[NE];
	u64 model[NE];
	u64 rng = 99, total = 0;
	unsigned int i, step;

	(void)state;
	ash_sched_init(&s, 500 * US);
	for (i = 0; i < NG; i++)
		ash_sched_group_init(&s, &g[i], 1 + i * 3);
	for (i = 0; i < NE; i++) {
		ash_sched_entity_init(&g[i % NG], &e[i]);
		alive[i] = true;
		model[i] = 0;
	}
	for (step = 0; step < STEPS; step++) {
		unsigned int k = rnd(&rng) % NE;
		struct ash_sched_entity *p;

		switch (rnd(&rng) % 9) {
		case 0: case 1: case 2:
			if (!alive[k])
				break;
			ash_sched_enqueue(&s, &e[k]);
			model[k]++;
			total++;
			break;
		case 3:
			if (!alive[k])
				break;
			ash_sched_dequeue(&s, &e[k]);
			if (model[k]) {
				model[k]--;
				total--;
			}
			break;
		case 4: case 5: case 6:
			p = ash_sched_pick(&s);
			if (!total) {
				assert_null(p);
				break;
			}
			assert_non_null(p);
			i = p - e;
			assert_true(alive[i] && model[i] > 0);
			model[i]--;
			total--;
			ash_sched_charge(&s, p, rnd(&rng) % (2 * MS));
			break;
		case 7:
			if (rnd(&rng) % 8 == 0) {
				ash_sched_group_set_weight(&s, &g[k % NG],
							   rnd(&rng) % 50);
			} else if (rnd(&rng) % 2) {
				ash_sched_set_slice(&s, rnd(&rng) % (2 * MS));
			}
			break;
		case 8:
			if (rnd(&rng) % 20)
				break;
			if (alive[k]) {
				ash_sched_entity_remove(&s, &e[k]);
				total -= model[k];
				model[k] = 0;
				alive[k] = false;
			} else {
				ash_sched_entity_init(&g[k % NG], &e[k]);
				alive[k] = true;
			}
			break;
		}
		for (i = 0; i < NE; i++)
			if (alive[i])
				assert_int_equal(e[i].nr_queued, model[i]);
		if (step % 64 == 0)
			check_invariants(&s, g, NG, e, NE, alive);
	}
	check_invariants(&s, g, NG, e, NE, alive);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(empty_pick_returns_null),
		cmocka_unit_test(pick_takes_one_queued_job_each),
		cmocka_unit_test(dequeue_cancels_queued_jobs),
		cmocka_unit_test(remove_entity_with_queued_jobs_drops_them),
		cmocka_unit_test(remove_group_with_queued_jobs_drops_them),
		cmocka_unit_test(weight_zero_is_taken_as_one),
		cmocka_unit_test(vtime_carries_remainder_and_loses_no_time),
		cmocka_unit_test(vtime_saturates_instead_of_wrapping),
		cmocka_unit_test(slice_bounds_consecutive_picks),
		cmocka_unit_test(slice_change_applies_live),
		cmocka_unit_test(weights_1_2_4_share_by_weight),
		cmocka_unit_test(weights_1_100_share_by_weight),
		cmocka_unit_test(jittered_job_costs_share_by_weight),
		cmocka_unit_test(equal_contexts_share_partition_equally),
		cmocka_unit_test(partition_of_three_vs_one_at_equal_weight),
		cmocka_unit_test(newcomer_gets_its_share_not_a_burst),
		cmocka_unit_test(sleeper_earns_no_burst),
		cmocka_unit_test(weight_change_moves_shares_live),
		cmocka_unit_test(light_tenant_waits_at_most_slice_plus_job),
		cmocka_unit_test(light_tenant_latency_among_1_2_4_neighbours),
		cmocka_unit_test(random_ops_keep_invariants),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
