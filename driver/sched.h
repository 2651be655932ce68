/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Weighted fair sharing of a device's engine time: between partitions
 * (groups) by weight, then equally between the contexts (entities) of a
 * partition.  Plain C shared with the host unit tests; the caller embeds the
 * structures, serialises all calls on one device under one lock, and never
 * calls in with an object that is not initialised.
 *
 * Virtual time.  A group's vtime advances by busy_ns / weight, an entity's by
 * busy_ns (contexts weigh equally); the unit is one ns of busy time at weight
 * 1.  The division's remainder is carried in the group, so no busy time is
 * lost however small the jobs, and a vtime can reach 2^64 only after 584
 * years of busy time at weight 1: no wrap-around, and vtimes compare as
 * plain numbers.  An absurd charge saturates at U64_MAX rather than wrap.
 *
 * Each level picks, among its runnable members, the one with the smallest
 * vtime.  A member that becomes runnable is placed at max(own vtime,
 * floor - 1), where floor is the level's minimum vtime as of its last fresh
 * pick (the vtime of the member then picked; monotonic): sleeping earns no
 * credit, and the waker sorts just ahead of every member that has been
 * waiting, so it runs as soon as the current slice ends.
 */
#ifndef ACCELSHARE_SCHED_H
#define ACCELSHARE_SCHED_H

#include "compat.h"

/**
 * struct ash_link - a node of an intrusive circular doubly-linked list
 * @prev: previous node, or the head itself.
 * @next: next node, or the head itself.
 *
 * A list head is a struct ash_link pointing at itself when empty.  The
 * driver's own rather than <linux/list.h>, so the host tests build it too.
 */
struct ash_link {
	struct ash_link *prev, *next;
};

/**
 * struct ash_sched - the scheduler of one device
 * @groups: runnable groups (ash_sched_group.node).
 * @curr: the entity last picked fresh, whose slice is running; NULL if none.
 * @curr_used: busy ns charged to @curr since it was picked fresh.
 * @slice_ns: how much busy time an entity runs before the others get a turn.
 * @min_vtime: floor of the groups' vtime (see the file comment).
 */
struct ash_sched {
	struct ash_link groups;
	struct ash_sched_entity *curr;
	u64 curr_used;
	u64 slice_ns;
	u64 min_vtime;
};

/**
 * struct ash_sched_group - one partition's share of a device's engine
 * @node: membership of ash_sched.groups while runnable.
 * @entities: runnable entities (ash_sched_entity.node).
 * @vtime: busy time charged to the group, divided by its weight.
 * @min_vtime: floor of the entities' vtime.
 * @busy_ns: busy time charged to the group in all (saturating).
 * @weight: share of the engine relative to the other groups, >= 1.
 * @rem_ns: busy ns charged but not yet turned into @vtime.
 * @on_rq: the group is in ash_sched.groups.
 */
struct ash_sched_group {
	struct ash_link node;
	struct ash_link entities;
	u64 vtime;
	u64 min_vtime;
	u64 busy_ns;
	u32 weight;
	u32 rem_ns;
	bool on_rq;
};

/**
 * struct ash_sched_entity - one context's place in its partition's queue
 * @node: membership of ash_sched_group.entities while runnable.
 * @group: the partition the context belongs to.
 * @vtime: busy time charged to the entity.
 * @busy_ns: the same, never lifted by placement (saturating).
 * @nr_queued: jobs queued and not yet picked.
 * @on_rq: the entity is in its group's list: @nr_queued > 0.
 */
struct ash_sched_entity {
	struct ash_link node;
	struct ash_sched_group *group;
	u64 vtime;
	u64 busy_ns;
	u32 nr_queued;
	bool on_rq;
};

void ash_sched_init(struct ash_sched *s, u64 slice_ns);
void ash_sched_set_slice(struct ash_sched *s, u64 slice_ns);
void ash_sched_group_init(struct ash_sched *s, struct ash_sched_group *g,
			  u32 weight);
void ash_sched_group_set_weight(struct ash_sched *s, struct ash_sched_group *g,
				u32 weight);
void ash_sched_group_remove(struct ash_sched *s, struct ash_sched_group *g);
void ash_sched_entity_init(struct ash_sched_group *g,
			   struct ash_sched_entity *e);
void ash_sched_entity_remove(struct ash_sched *s, struct ash_sched_entity *e);
void ash_sched_enqueue(struct ash_sched *s, struct ash_sched_entity *e);
void ash_sched_dequeue(struct ash_sched *s, struct ash_sched_entity *e);
struct ash_sched_entity *ash_sched_pick(struct ash_sched *s);
void ash_sched_charge(struct ash_sched *s, struct ash_sched_entity *e,
		      u64 busy_ns);

#endif /* ACCELSHARE_SCHED_H */
