/* SPDX-License-Identifier: MIT */
/*
 * ashctl apply FILE [--dry-run] and ashctl export: the declared state of
 * accelshare.conf(5) against the driver's.  apply checks the whole file
 * and the whole plan before its first ioctl; should the driver still
 * refuse a step (the state moved on meanwhile), the steps already made are
 * taken back, newest first, so that a failed apply leaves things as they
 * were.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "ashctl.h"
#include "conf.h"
#include "ctl.h"

struct state {
	struct ash_device_info *devs;
	size_t nr_devs;
	struct ash_partition_info *parts;
	size_t nr_parts;
};

static int state_read(int fd, struct state *s)
{
	int ret;

	memset(s, 0, sizeof(*s));
	ret = ctl_devices(fd, &s->devs, &s->nr_devs);
	if (!ret)
		ret = ctl_partitions(fd, &s->parts, &s->nr_parts);
	if (ret) {
		ctl_error("cannot read the devices and partitions", ret);
		free(s->devs);
		s->devs = NULL;
	}
	return ret;
}

static void state_free(struct state *s)
{
	free(s->devs);
	free(s->parts);
}

/* The one ioctl of @ch: 0 or a negative errno. */
static int change_run(int fd, const struct change *ch)
{
	struct ash_partition_params p = ch->part;
	struct ash_device_set d = ch->dev;
	struct ash_partition_delete del;

	switch (ch->kind) {
	case CHANGE_DEVICE:
		return ctl_ioctl(fd, ASH_CTL_DEVICE_SET, &d);
	case CHANGE_DELETE:
		memset(&del, 0, sizeof(del));
		memcpy(del.name, ch->part.name, sizeof(del.name));
		return ctl_ioctl(fd, ASH_CTL_PART_DELETE, &del);
	case CHANGE_SET:
		return ctl_ioctl(fd, ASH_CTL_PART_SET, &p);
	case CHANGE_CREATE:
		return ctl_ioctl(fd, ASH_CTL_PART_CREATE, &p);
	}
	return -EINVAL;
}

static void change_failed(const struct change *ch, const struct state *s,
			  const char *what, int err)
{
	fprintf(stderr, "ashctl: %s: ", what);
	conf_change_print(stderr, ch, s->devs, s->nr_devs);
	if (err == -EBUSY && ch->kind == CHANGE_DELETE)
		fprintf(stderr, ": contexts are bound to it now.\n");
	else if (err == -ENOSPC)
		fprintf(stderr,
			": the device's memory is in use or guaranteed to other partitions.\n");
	else
		fprintf(stderr, ": %s.\n", strerror(-err));
}

/* Takes back @ch[0..n), newest first; the number that could not be. */
static size_t undo_all(int fd, const struct change *ch, size_t n,
		       const struct state *s)
{
	size_t left = 0;
	struct change undo;
	int ret;

	while (n--) {
		conf_change_undo(&ch[n], &undo);
		ret = change_run(fd, &undo);
		if (ret) {
			change_failed(&undo, s, "could not take it back", ret);
			left++;
		}
	}
	return left;
}

static FILE *open_input(const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;

	if (!f)
		fprintf(stderr, "ashctl: cannot read %s: %s.\n", path,
			strerror(errno));
	return f;
}

int cmd_apply(int argc, char **argv)
{
	char err[CONF_ERR_MAX];
	struct change *plan = NULL;
	struct apply_opts o;
	struct conf c;
	struct state s;
	int fd, n, i, ret, status = EXIT_FAIL;
	FILE *f;

	if (args_apply_parse(argc, argv, &o, err, sizeof(err)))
		return usage_error(err);
	if (o.help) {
		help_print("apply", stdout);
		return EXIT_OK;
	}
	f = open_input(o.path);
	if (!f)
		return EXIT_FAIL;
	ret = conf_parse(f, strcmp(o.path, "-") ? o.path : "<stdin>", &c, err,
			 sizeof(err));
	if (f != stdin)
		fclose(f);
	if (ret) {
		fprintf(stderr, "ashctl: %s; nothing was changed.\n", err);
		return EXIT_FAIL;
	}
	fd = ctl_open();
	if (fd < 0)
		goto out_conf;
	if (state_read(fd, &s))
		goto out_close;
	n = conf_plan(&c, s.devs, s.nr_devs, s.parts, s.nr_parts, &plan, err,
		      sizeof(err));
	if (n < 0) {
		fprintf(stderr, "ashctl: %s: %s; nothing was changed.\n",
			o.path, err);
		goto out_state;
	}
	if (!n) {
		printf("nothing to change: the devices and partitions are as %s declares\n",
		       o.path);
		status = EXIT_OK;
		goto out_state;
	}
	for (i = 0; i < n; i++) {
		conf_change_print(stdout, &plan[i], s.devs, s.nr_devs);
		putchar('\n');
	}
	if (o.dry_run) {
		printf("dry run: %d change%s, none made\n", n, n == 1 ? "" : "s");
		status = EXIT_OK;
		goto out_state;
	}
	fflush(stdout);
	for (i = 0; i < n; i++) {
		ret = change_run(fd, &plan[i]);
		if (!ret)
			continue;
		change_failed(&plan[i], &s, "the driver refused", ret);
		if (undo_all(fd, plan, (size_t)i, &s))
			fprintf(stderr,
				"ashctl: some of the %d change%s made before could not be taken back; see \"ashctl export\".\n",
				i, i == 1 ? "" : "s");
		else if (i)
			fprintf(stderr,
				"ashctl: the %d change%s made before %s taken back: nothing was changed.\n",
				i, i == 1 ? "" : "s", i == 1 ? "was" : "were");
		goto out_state;
	}
	printf("applied %d change%s\n", n, n == 1 ? "" : "s");
	status = EXIT_OK;
out_state:
	free(plan);
	state_free(&s);
out_close:
	close(fd);
out_conf:
	conf_free(&c);
	return status;
}

int cmd_export(int argc, char **argv)
{
	char err[ARGS_ERR_MAX];
	struct simple_opts o;
	struct state s;
	int fd;

	if (args_cmd_parse("export", argc, argv, 0, &o, err, sizeof(err)))
		return usage_error(err);
	if (o.help) {
		help_print("export", stdout);
		return EXIT_OK;
	}
	fd = ctl_open();
	if (fd < 0)
		return EXIT_FAIL;
	if (state_read(fd, &s)) {
		close(fd);
		return EXIT_FAIL;
	}
	conf_export(stdout, s.devs, s.nr_devs, s.parts, s.nr_parts);
	state_free(&s);
	close(fd);
	return EXIT_OK;
}
