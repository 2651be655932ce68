// SPDX-License-Identifier: GPL-2.0-only
/*
 * Weighted fair sharing of a device's engine time (see sched.h for the
 * model).
 *
 * Invariants kept by every function here:
 * - an entity is in its group's list (on_rq) exactly when nr_queued > 0;
 * - a group is in the device's list (on_rq) exactly when its list of
 *   entities is not empty;
 * - s->curr is NULL or an entity that was initialised and not removed.
 *
 * A fresh pick scans the runnable groups, then the runnable entities of the
 * chosen group: linear, which is fine for the tens to hundreds of partitions
 * and contexts a device has, and makes every other call O(1).
 */
#include "sched.h"

#define ASH_VTIME_MAX (~(u64)0)

static void link_init(struct ash_link *l)
{
	l->prev = l;
	l->next = l;
}

static bool link_empty(const struct ash_link *head)
{
	return head->next == head;
}

static void link_add_tail(struct ash_link *l, struct ash_link *head)
{
	l->prev = head->prev;
	l->next = head;
	head->prev->next = l;
	head->prev = l;
}

static void link_del(struct ash_link *l)
{
	l->prev->next = l->next;
	l->next->prev = l->prev;
	link_init(l);
}

static void link_move_tail(struct ash_link *l, struct ash_link *head)
{
	link_del(l);
	link_add_tail(l, head);
}

static u64 add_sat(u64 a, u64 b)
{
	u64 sum;

	if (check_add_overflow(a, b, &sum))
		return ASH_VTIME_MAX;
	return sum;
}

static u64 max_u64(u64 a, u64 b)
{
	return a > b ? a : b;
}

/*
 * Where a member that becomes runnable starts: where it left off, but no
 * earlier than just ahead of the level's floor.  Sleeping earns no credit;
 * the one ns of lead sorts the waker before every member already waiting,
 * all of which have a vtime >= floor, so it waits for the current slice
 * only.
 */
static u64 place(u64 vtime, u64 floor)
{
	return max_u64(vtime, floor ? floor - 1 : 0);
}

static void group_activate(struct ash_sched *s, struct ash_sched_group *g)
{
	if (g->on_rq)
		return;
	g->vtime = place(g->vtime, s->min_vtime);
	link_add_tail(&g->node, &s->groups);
	g->on_rq = true;
}

static void group_deactivate(struct ash_sched_group *g)
{
	if (!g->on_rq)
		return;
	link_del(&g->node);
	g->on_rq = false;
}

static void entity_deactivate(struct ash_sched_entity *e)
{
	struct ash_sched_group *g = e->group;

	if (!e->on_rq)
		return;
	link_del(&e->node);
	e->on_rq = false;
	if (link_empty(&g->entities))
		group_deactivate(g);
}

/**
 * ash_sched_init() - set up a device's scheduler, with nothing runnable
 * @s: the scheduler.
 * @slice_ns: busy time an entity runs before the others get a turn; 0 makes
 *	every pick a fresh one.
 */
void ash_sched_init(struct ash_sched *s, u64 slice_ns)
{
	link_init(&s->groups);
	s->curr = NULL;
	s->curr_used = 0;
	s->slice_ns = slice_ns;
	s->min_vtime = 0;
}

/**
 * ash_sched_set_slice() - change the time slice, live
 * @s: the scheduler.
 * @slice_ns: the new slice; the running slice is measured against it too.
 */
void ash_sched_set_slice(struct ash_sched *s, u64 slice_ns)
{
	s->slice_ns = slice_ns;
}

/**
 * ash_sched_group_init() - set up a partition's group, with nothing runnable
 * @s: the device's scheduler.
 * @g: the group.
 * @weight: its share relative to the other groups; 0 is taken as 1.
 */
void ash_sched_group_init(struct ash_sched *s, struct ash_sched_group *g,
			  u32 weight)
{
	link_init(&g->node);
	link_init(&g->entities);
	g->vtime = s->min_vtime;
	g->min_vtime = 0;
	g->busy_ns = 0;
	g->weight = weight ? weight : 1;
	g->rem_ns = 0;
	g->on_rq = false;
}

/**
 * ash_sched_group_set_weight() - change a group's weight, live
 * @s: the device's scheduler.
 * @g: the group.
 * @weight: the new weight; 0 is taken as 1.
 *
 * The new weight applies to charges from now on; vtime already accrued
 * stays as it is.
 */
void ash_sched_group_set_weight(struct ash_sched *s, struct ash_sched_group *g,
				u32 weight)
{
	(void)s;
	g->weight = weight ? weight : 1;
}

/**
 * ash_sched_group_remove() - take a group out of its device's scheduler
 * @s: the device's scheduler.
 * @g: the group.  Its entities should have been removed already; any still
 *	runnable are dropped with their queued counts, and must not be passed
 *	in again before ash_sched_entity_init().
 */
void ash_sched_group_remove(struct ash_sched *s, struct ash_sched_group *g)
{
	while (!link_empty(&g->entities)) {
		struct ash_sched_entity *e;

		e = container_of(g->entities.next, struct ash_sched_entity,
				 node);
		link_del(&e->node);
		e->on_rq = false;
		e->nr_queued = 0;
	}
	group_deactivate(g);
	if (s->curr && s->curr->group == g)
		s->curr = NULL;
}

/**
 * ash_sched_entity_init() - set up a context's entity, with nothing queued
 * @g: the group of the context's partition.
 * @e: the entity.
 */
void ash_sched_entity_init(struct ash_sched_group *g,
			   struct ash_sched_entity *e)
{
	link_init(&e->node);
	e->group = g;
	e->vtime = g->min_vtime;
	e->busy_ns = 0;
	e->nr_queued = 0;
	e->on_rq = false;
}

/**
 * ash_sched_entity_remove() - take a context's entity out of the scheduler
 * @s: the device's scheduler.
 * @e: the entity; its queued jobs are forgotten.  A job of @e already picked
 *	may still be charged to it while @e and its group exist.
 */
void ash_sched_entity_remove(struct ash_sched *s, struct ash_sched_entity *e)
{
	entity_deactivate(e);
	e->nr_queued = 0;
	if (s->curr == e)
		s->curr = NULL;
}

/**
 * ash_sched_enqueue() - count a job queued on an entity
 * @s: the device's scheduler.
 * @e: the entity.  If it had nothing queued it becomes runnable, and so does
 *	its group, each placed near its level's minimum vtime.
 */
void ash_sched_enqueue(struct ash_sched *s, struct ash_sched_entity *e)
{
	struct ash_sched_group *g = e->group;

	e->nr_queued++;
	if (e->on_rq)
		return;
	e->vtime = place(e->vtime, g->min_vtime);
	link_add_tail(&e->node, &g->entities);
	e->on_rq = true;
	group_activate(s, g);
}

/**
 * ash_sched_dequeue() - forget a queued job of an entity that will not run
 * @s: the device's scheduler.
 * @e: the entity; nothing happens if it has nothing queued.
 */
void ash_sched_dequeue(struct ash_sched *s, struct ash_sched_entity *e)
{
	(void)s;
	if (!e->nr_queued)
		return;
	if (--e->nr_queued == 0)
		entity_deactivate(e);
}

static struct ash_sched_group *min_group(struct ash_sched *s)
{
	struct ash_sched_group *best = NULL;
	struct ash_link *l;

	for (l = s->groups.next; l != &s->groups; l = l->next) {
		struct ash_sched_group *g;

		g = container_of(l, struct ash_sched_group, node);
		if (!best || g->vtime < best->vtime)
			best = g;
	}
	return best;
}

static struct ash_sched_entity *min_entity(struct ash_sched_group *g)
{
	struct ash_sched_entity *best = NULL;
	struct ash_link *l;

	for (l = g->entities.next; l != &g->entities; l = l->next) {
		struct ash_sched_entity *e;

		e = container_of(l, struct ash_sched_entity, node);
		if (!best || e->vtime < best->vtime)
			best = e;
	}
	return best;
}

/**
 * ash_sched_pick() - choose whose job runs next, and take it
 * @s: the device's scheduler.
 *
 * The current entity keeps the engine while it has jobs queued and has been
 * charged less than the slice since it was picked fresh.  Otherwise the
 * runnable group with the smallest vtime is chosen, then its runnable entity
 * with the smallest vtime; ties go to the one that has waited longest.
 *
 * Return: the entity whose job is taken (its nr_queued drops by one), or
 * NULL if no job is queued.
 */
struct ash_sched_entity *ash_sched_pick(struct ash_sched *s)
{
	struct ash_sched_entity *e = s->curr;
	struct ash_sched_group *g;

	if (!e || !e->nr_queued || s->curr_used >= s->slice_ns) {
		g = min_group(s);
		if (!g)
			return NULL;
		e = min_entity(g);
		s->min_vtime = max_u64(s->min_vtime, g->vtime);
		g->min_vtime = max_u64(g->min_vtime, e->vtime);
		/* Behind its equals next time. */
		link_move_tail(&g->node, &s->groups);
		link_move_tail(&e->node, &g->entities);
		s->curr = e;
		s->curr_used = 0;
	}
	if (--e->nr_queued == 0)
		entity_deactivate(e);
	return e;
}

/**
 * ash_sched_charge() - account the busy time of a job that ran
 * @s: the device's scheduler.
 * @e: the entity the job was picked from.
 * @busy_ns: how long the job kept the engine busy.
 *
 * Advances @e's vtime by @busy_ns and its group's by @busy_ns / weight, and
 * counts @busy_ns against the running slice if @e holds it.
 */
void ash_sched_charge(struct ash_sched *s, struct ash_sched_entity *e,
		      u64 busy_ns)
{
	struct ash_sched_group *g = e->group;
	u32 rem;
	u64 delta;

	e->vtime = add_sat(e->vtime, busy_ns);
	e->busy_ns = add_sat(e->busy_ns, busy_ns);
	g->busy_ns = add_sat(g->busy_ns, busy_ns);
	/*
	 * (busy_ns + rem_ns) / weight, exactly and without overflow; rem_ns
	 * may exceed weight after a weight change, so it goes in the second
	 * division.
	 */
	delta = div_u64_rem(busy_ns, g->weight, &rem);
	delta += div_u64_rem((u64)rem + g->rem_ns, g->weight, &g->rem_ns);
	g->vtime = add_sat(g->vtime, delta);
	if (s->curr == e)
		s->curr_used = add_sat(s->curr_used, busy_ns);
}
