/* SPDX-License-Identifier: MIT */
/*
 * accelshare.conf(5): the declared devices and partitions, read with inih,
 * and the plan that turns the current state into the declared one.  No
 * ioctls here: apply.c reads the state and makes the changes, and the unit
 * tests drive the parser and the planner directly.
 */
#ifndef ACCELSHARE_ASHCTL_CONF_H
#define ACCELSHARE_ASHCTL_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <uapi/accelshare.h>

/* Room for the one-sentence error of conf_parse() and conf_plan(). */
#define CONF_ERR_MAX 512

/* The path ashctl apply is given at boot (accelshare-apply.service). */
#define CONF_DEFAULT_PATH "/etc/accelshare/accelshare.conf"

/**
 * struct conf_device - a [device N] or [device NAME] section
 * @ref: the device as written: a number or a name.
 * @has_slice, @has_timeout: whether the key was given; what is not given
 *	stays as it is (devices are not created by the file).
 */
struct conf_device {
	char ref[ASH_NAME_MAX];
	bool has_slice, has_timeout;
	uint32_t slice_us;
	uint32_t job_timeout_ms;
};

/**
 * struct conf_part - a [partition NAME] section
 * @device: the device as written, number or name; "0" when not given.
 * @seen: CONF_KEY_* bits of the keys given, each at most once.
 *
 * Keys not given take the values a plain "ashctl partition create" gives:
 * the file describes the whole partition.
 */
struct conf_part {
	char name[ASH_NAME_MAX];
	char device[ASH_NAME_MAX];
	unsigned int seen;
	uint64_t mem_max, mem_min;
	uint32_t weight, max_contexts, max_buffers;
	uint32_t nr_uids, nr_gids;
	uint32_t uids[ASH_ACL_MAX];
	uint32_t gids[ASH_ACL_MAX];
};

/* A parsed file.  conf_free() releases it. */
struct conf {
	struct conf_device *devs;
	size_t nr_devs;
	struct conf_part *parts;
	size_t nr_parts;
};

/*
 * conf_parse() - read accelshare.conf text from @f (@path names it in
 * errors) into @c.  Every section, key and value is checked; nothing about
 * the running system but user and group names.
 * Return: 0, or -1 with one sentence in @err ("FILE:LINE: ...").
 */
int conf_parse(FILE *f, const char *path, struct conf *c, char *err,
	       size_t errlen);
void conf_free(struct conf *c);

enum change_kind {
	CHANGE_DEVICE,		/* ASH_CTL_DEVICE_SET */
	CHANGE_DELETE,		/* ASH_CTL_PART_DELETE */
	CHANGE_SET,		/* ASH_CTL_PART_SET */
	CHANGE_CREATE,		/* ASH_CTL_PART_CREATE */
};

/**
 * struct change - one ioctl of a plan, and what undoes it
 * @dev: for CHANGE_DEVICE, the request; @dev_old: the device before it.
 * @part: for the others, the request (CHANGE_DELETE: only its name).
 * @old: for CHANGE_SET and CHANGE_DELETE, the partition before it.
 */
struct change {
	enum change_kind kind;
	struct ash_device_set dev;
	struct ash_device_info dev_old;
	struct ash_partition_params part;
	struct ash_partition_info old;
};

/*
 * conf_plan() - the changes that make the state (@devs, @parts as read
 * from the driver) what @c declares: device settings, then deletions of
 * partitions the file does not name, then changes that lower a guarantee,
 * then those that raise one, then creations, so that no step needs more
 * guaranteed memory than the end.  Checked first, refusing the whole file
 * with one sentence: every device exists, every cap fits its device, no
 * guarantee exceeds its cap, each device's guarantees fit it, no partition
 * moves device, no partition to delete has contexts bound.
 * Return: the number of changes in the malloc'ed *@out (0: nothing to do),
 * or -1 with @err.
 */
int conf_plan(const struct conf *c, const struct ash_device_info *devs,
	      size_t nr_devs, const struct ash_partition_info *parts,
	      size_t nr_parts, struct change **out, char *err, size_t errlen);

/* The change that takes @ch back: a creation's deletion, a deletion's
 * creation with every setting the partition had, the old values of a set. */
void conf_change_undo(const struct change *ch, struct change *undo);

/* What @ch does, "create partition \"acme\" ...", without a newline. */
void conf_change_print(FILE *f, const struct change *ch,
		       const struct ash_device_info *devs, size_t nr_devs);

/* The state in accelshare.conf form, which conf_parse() reads back. */
void conf_export(FILE *f, const struct ash_device_info *devs, size_t nr_devs,
		 const struct ash_partition_info *parts, size_t nr_parts);

#endif /* ACCELSHARE_ASHCTL_CONF_H */
