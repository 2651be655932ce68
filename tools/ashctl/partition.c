/* SPDX-License-Identifier: MIT */
/*
 * The commands that change settings: partition create, set and delete, and
 * device set.  Each checks every argument, then what it can against the
 * device's current state, and only then issues the one ioctl that makes the
 * change; the kernel has the last word and its refusals are turned into
 * sentences here.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "../common/parse.h"
#include "args.h"
#include "ashctl.h"
#include "ctl.h"

static const char *size_str(uint64_t bytes, char buf[ASH_SIZE_STR_MAX])
{
	ash_size_format(bytes, buf, ASH_SIZE_STR_MAX);
	return buf;
}

/* Checks the resulting cap and guarantee against device @d, for a partition
 * whose own guarantee is @old_min now; prints why not and returns -1. */
static int check_memory(const struct ash_device_info *d, uint64_t max,
			uint64_t min, uint64_t old_min, int has_mem,
			int has_min)
{
	char a[ASH_SIZE_STR_MAX], b[ASH_SIZE_STR_MAX], c[ASH_SIZE_STR_MAX];
	uint64_t others = d->mem_min_total - old_min;

	if (has_mem && max > d->mem_capacity) {
		fprintf(stderr,
			"ashctl: --mem %s is larger than device %u's capacity of %s.\n",
			size_str(max, a), d->device,
			size_str(d->mem_capacity, b));
		return -1;
	}
	if (min > max) {
		if (has_min)
			fprintf(stderr,
				"ashctl: --min %s is larger than the partition's memory cap of %s.\n",
				size_str(min, a), size_str(max, b));
		else
			fprintf(stderr,
				"ashctl: --mem %s is below the partition's guarantee of %s; lower it with --min too.\n",
				size_str(max, a), size_str(min, b));
		return -1;
	}
	if (has_min && min > old_min &&
	    (others > d->mem_capacity || min > d->mem_capacity - others)) {
		fprintf(stderr,
			"ashctl: --min %s cannot be guaranteed: device %u has %s of its %s guaranteed to other partitions.\n",
			size_str(min, a), d->device, size_str(others, b),
			size_str(d->mem_capacity, c));
		return -1;
	}
	return 0;
}

/* The kernel's refusal of a create or set, as a sentence. */
static void part_error(const struct part_opts *o, uint32_t device, int err,
		       const char *what)
{
	char a[ASH_SIZE_STR_MAX];

	switch (-err) {
	case EEXIST:
		fprintf(stderr, "ashctl: partition \"%s\" already exists.\n",
			o->name);
		break;
	case ENOENT:
		fprintf(stderr, "ashctl: partition \"%s\" does not exist.\n",
			o->name);
		break;
	case ENODEV:
		fprintf(stderr, "ashctl: device %u does not exist.\n", device);
		break;
	case ENOSPC:
		fprintf(stderr,
			"ashctl: device %u cannot guarantee %s to \"%s\" now: that memory is in use or guaranteed to other partitions.\n",
			device, size_str(o->mem_min, a), o->name);
		break;
	case EINVAL:
		fprintf(stderr,
			"ashctl: the driver refused the settings for \"%s\" as invalid.\n",
			o->name);
		break;
	default:
		ctl_error(what, err);
		break;
	}
}

static void fill_acl(struct ash_partition_params *p, const struct part_opts *o)
{
	p->nr_uids = o->nr_uids;
	p->nr_gids = o->nr_gids;
	memcpy(p->uids, o->uids, o->nr_uids * sizeof(o->uids[0]));
	memcpy(p->gids, o->gids, o->nr_gids * sizeof(o->gids[0]));
}

static int parse(enum part_cmd cmd, int argc, char **argv,
		 struct part_opts *o, const char *topic)
{
	char err[ARGS_ERR_MAX];

	if (args_part_parse(cmd, argc, argv, o, err, sizeof(err)))
		return usage_error(err);
	if (o->help) {
		help_print(topic, stdout);
		return EXIT_OK;
	}
	return -1;
}

int cmd_partition_create(int argc, char **argv)
{
	struct ash_partition_params p;
	struct ash_device_info d;
	struct part_opts o;
	int fd, ret;

	ret = parse(PART_CREATE, argc, argv, &o, "partition create");
	if (ret >= 0)
		return ret;
	fd = ctl_open();
	if (fd < 0)
		return EXIT_FAIL;

	ret = ctl_device_find(fd, o.device_name, o.device, &d);
	if (ret == -ENODEV && o.device_name) {
		fprintf(stderr, "ashctl: there is no device named \"%s\".\n",
			o.device_name);
		goto fail;
	}
	if (ret) {
		part_error(&o, o.device, ret, "cannot create the partition");
		goto fail;
	}
	o.device = d.device;
	if (check_memory(&d, o.mem_max, o.mem_min, 0, 1, o.has_min))
		goto fail;

	memset(&p, 0, sizeof(p));
	p.device = o.device;
	snprintf(p.name, sizeof(p.name), "%s", o.name);
	p.mem_max = o.mem_max;
	p.mem_min = o.mem_min;
	/* 0 asks the kernel for its defaults. */
	p.weight = o.weight;
	p.max_contexts = o.max_contexts;
	p.max_buffers = o.max_buffers;
	fill_acl(&p, &o);
	ret = ctl_ioctl(fd, ASH_CTL_PART_CREATE, &p);
	if (ret) {
		part_error(&o, o.device, ret, "cannot create the partition");
		goto fail;
	}
	printf("created partition \"%s\" (id %u) on device %u\n", o.name, p.id,
	       o.device);
	close(fd);
	return EXIT_OK;
fail:
	close(fd);
	return EXIT_FAIL;
}

int cmd_partition_set(int argc, char **argv)
{
	struct ash_partition_params p;
	struct ash_partition_info cur;
	struct ash_device_info d;
	struct part_opts o;
	int fd, ret;

	ret = parse(PART_SET, argc, argv, &o, "partition set");
	if (ret >= 0)
		return ret;
	fd = ctl_open();
	if (fd < 0)
		return EXIT_FAIL;

	/* What is not given stays as it is; read it to check the result as
	 * a whole, and because the kernel sets some fields in pairs. */
	ret = ctl_partition(fd, o.name, &cur);
	if (ret) {
		part_error(&o, 0, ret, "cannot change the partition");
		goto fail;
	}
	ret = ctl_device(fd, cur.device, &d);
	if (ret) {
		part_error(&o, cur.device, ret,
			   "cannot change the partition");
		goto fail;
	}
	memset(&p, 0, sizeof(p));
	snprintf(p.name, sizeof(p.name), "%s", o.name);
	p.mem_max = o.has_mem ? o.mem_max : cur.mem_max;
	p.mem_min = o.has_min ? o.mem_min : cur.mem_min;
	if ((o.has_mem || o.has_min) &&
	    check_memory(&d, p.mem_max, p.mem_min, cur.mem_min, o.has_mem,
			 o.has_min))
		goto fail;
	if (o.has_mem)
		p.flags |= ASH_PART_SET_MEM_MAX;
	if (o.has_deadline) {
		p.reclaim_deadline_ms = o.deadline_ms;
		p.reclaim_action = o.kill ? ASH_RECLAIM_KILL : ASH_RECLAIM_NONE;
	}
	if (o.has_min)
		p.flags |= ASH_PART_SET_MEM_MIN;
	if (o.has_weight) {
		p.flags |= ASH_PART_SET_WEIGHT;
		p.weight = o.weight;
	}
	if (o.has_max_contexts || o.has_max_buffers) {
		p.flags |= ASH_PART_SET_LIMITS;
		p.max_contexts = o.has_max_contexts ? o.max_contexts :
						      cur.max_contexts;
		p.max_buffers = o.has_max_buffers ? o.max_buffers :
						    cur.max_buffers;
	}
	if (o.acl_given) {
		p.flags |= ASH_PART_SET_ACL;
		fill_acl(&p, &o);
	}
	ret = ctl_ioctl(fd, ASH_CTL_PART_SET, &p);
	if (ret) {
		part_error(&o, cur.device, ret,
			   "cannot change the partition");
		goto fail;
	}
	printf("updated partition \"%s\"\n", o.name);
	if (o.has_mem && cur.mem_used > o.mem_max) {
		char over[32];

		ash_size_format(cur.mem_used - o.mem_max, over, sizeof(over));
		if (o.has_deadline)
			printf("its tenants hold %s over the new cap: they are asked to give it back within %u s, %s\n",
			       over, o.deadline_ms / 1000,
			       o.kill ? "then the largest holders are killed" :
					"then nothing more happens");
		else
			printf("its tenants hold %s over the new cap: they are asked to give it back (no deadline); new allocations fail meanwhile\n",
			       over);
	}
	close(fd);
	return EXIT_OK;
fail:
	close(fd);
	return EXIT_FAIL;
}

int cmd_partition_delete(int argc, char **argv)
{
	struct ash_partition_delete del;
	struct ash_partition_info cur;
	char err[ARGS_ERR_MAX];
	struct simple_opts o;
	int fd, ret;

	if (args_simple_parse("partition delete", argc, argv, false, true,
			      &o, err, sizeof(err)))
		return usage_error(err);
	if (o.help) {
		help_print("partition delete", stdout);
		return EXIT_OK;
	}
	fd = ctl_open();
	if (fd < 0)
		return EXIT_FAIL;

	memset(&del, 0, sizeof(del));
	snprintf(del.name, sizeof(del.name), "%s", o.name);
	ret = ctl_ioctl(fd, ASH_CTL_PART_DELETE, &del);
	switch (-ret) {
	case 0:
		printf("deleted partition \"%s\"\n", o.name);
		close(fd);
		return EXIT_OK;
	case ENOENT:
		fprintf(stderr, "ashctl: partition \"%s\" does not exist.\n",
			o.name);
		break;
	case EBUSY:
		/* Only to say how many: the count may have changed since. */
		if (ctl_partition(fd, o.name, &cur) == 0)
			fprintf(stderr,
				"ashctl: partition \"%s\" still has %u context%s bound; stop its tenants first.\n",
				o.name, cur.nr_contexts,
				cur.nr_contexts == 1 ? "" : "s");
		else
			fprintf(stderr,
				"ashctl: partition \"%s\" still has contexts bound; stop its tenants first.\n",
				o.name);
		break;
	default:
		ctl_error("cannot delete the partition", ret);
		break;
	}
	close(fd);
	return EXIT_FAIL;
}

int cmd_device_set(int argc, char **argv)
{
	struct ash_device_info d;
	struct ash_device_set set;
	char err[ARGS_ERR_MAX];
	struct device_opts o;
	int fd, ret;

	if (args_device_set_parse(argc, argv, &o, err, sizeof(err)))
		return usage_error(err);
	if (o.help) {
		help_print("device set", stdout);
		return EXIT_OK;
	}
	fd = ctl_open();
	if (fd < 0)
		return EXIT_FAIL;

	/* For the message, and to name a missing device plainly. */
	ret = ctl_device_find(fd, o.device_name, o.device, &d);
	if (ret == -ENODEV && o.device_name) {
		fprintf(stderr, "ashctl: there is no device named \"%s\".\n",
			o.device_name);
		close(fd);
		return EXIT_FAIL;
	}
	if (!ret) {
		o.device = d.device;
		memset(&set, 0, sizeof(set));
		set.device = o.device;
		if (o.has_slice) {
			set.flags |= ASH_DEVICE_SET_SLICE;
			set.slice_us = o.slice_us;
		}
		if (o.has_timeout) {
			set.flags |= ASH_DEVICE_SET_JOB_TIMEOUT;
			set.job_timeout_ms = o.job_timeout_ms;
		}
		ret = ctl_ioctl(fd, ASH_CTL_DEVICE_SET, &set);
	}
	switch (-ret) {
	case 0:
		if (o.has_slice)
			printf("updated device %u: time slice %u us (was %u us)\n",
			       o.device, o.slice_us, d.slice_us);
		if (o.has_timeout)
			printf("updated device %u: job timeout %u ms (was %u ms)\n",
			       o.device, o.job_timeout_ms, d.job_timeout_ms);
		close(fd);
		return EXIT_OK;
	case ENODEV:
		fprintf(stderr, "ashctl: device %u does not exist.\n",
			o.device);
		break;
	case EINVAL:
		fprintf(stderr,
			"ashctl: the driver refused the new settings for device %u as invalid.\n",
			o.device);
		break;
	default:
		ctl_error("cannot change the device", ret);
		break;
	}
	close(fd);
	return EXIT_FAIL;
}
