/* SPDX-License-Identifier: MIT */
/*
 * ashctl - the accelshare admin tool: "ashctl NOUN [VERB] ARGS".
 */
#include <stdio.h>
#include <string.h>

#include <accelshare.h>		/* ACCELSHARE_VERSION_STRING */

#include "ashctl.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
};

static const struct command partition_cmds[] = {
	{ "create", cmd_partition_create },
	{ "set", cmd_partition_set },
	{ "delete", cmd_partition_delete },
	{ "list", cmd_partition_list },
	{ NULL, NULL },
};

static const struct command device_cmds[] = {
	{ "list", cmd_device_list },
	{ "set", cmd_device_set },
	{ NULL, NULL },
};

int usage_error(const char *sentence)
{
	fprintf(stderr, "ashctl: %s.\n", sentence);
	return EXIT_USAGE;
}

int is_help(const char *arg)
{
	return !strcmp(arg, "--help") || !strcmp(arg, "-h");
}

/* "ashctl help [COMMAND [SUBCOMMAND]]" */
static int cmd_help(int argc, char **argv)
{
	char topic[64];

	if (argc == 1) {
		help_print("ashctl", stdout);
		return EXIT_OK;
	}
	if (argc == 2)
		snprintf(topic, sizeof(topic), "%s", argv[1]);
	else if (argc == 3)
		snprintf(topic, sizeof(topic), "%s %s", argv[1], argv[2]);
	else
		return usage_error("help takes at most a command and a subcommand");
	if (help_print(topic, stdout)) {
		fprintf(stderr, "ashctl: no help for \"%s\"; try \"ashctl help\".\n",
			topic);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static int cmd_partition(int argc, char **argv)
{
	const struct command *c;

	if (argc < 2) {
		fprintf(stderr,
			"ashctl: partition needs a command: create, set, delete or list.\n");
		return EXIT_USAGE;
	}
	if (is_help(argv[1])) {
		help_print("partition", stdout);
		return EXIT_OK;
	}
	for (c = partition_cmds; c->name; c++)
		if (!strcmp(c->name, argv[1]))
			return c->run(argc - 1, argv + 1);
	fprintf(stderr,
		"ashctl: unknown partition command \"%s\" (expected create, set, delete or list).\n",
		argv[1]);
	return EXIT_USAGE;
}

static int cmd_device(int argc, char **argv)
{
	const struct command *c;

	if (argc < 2) {
		fprintf(stderr,
			"ashctl: device needs a command: list or set.\n");
		return EXIT_USAGE;
	}
	if (is_help(argv[1])) {
		help_print("device", stdout);
		return EXIT_OK;
	}
	for (c = device_cmds; c->name; c++)
		if (!strcmp(c->name, argv[1]))
			return c->run(argc - 1, argv + 1);
	fprintf(stderr,
		"ashctl: unknown device command \"%s\" (expected list or set).\n",
		argv[1]);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	static const struct command cmds[] = {
		{ "status", cmd_status },
		{ "partition", cmd_partition },
		{ "device", cmd_device },
		{ "contexts", cmd_contexts },
		{ "cdi", cmd_cdi },
		{ "top", cmd_top },
		{ "usage", cmd_usage },
		{ "audit", cmd_audit },
		{ "apply", cmd_apply },
		{ "export", cmd_export },
		{ "help", cmd_help },
		{ NULL, NULL },
	};
	const struct command *c;
	int ret;

	if (argc < 2) {
		fprintf(stderr,
			"ashctl: a command is needed: status, partition, device, contexts, top, usage, audit, apply, export, cdi or help.\n");
		return EXIT_USAGE;
	}
	if (is_help(argv[1])) {
		help_print("ashctl", stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("ashctl " ACCELSHARE_VERSION_STRING "\n");
		return EXIT_OK;
	}
	ret = -1;
	for (c = cmds; c->name; c++)
		if (!strcmp(c->name, argv[1]))
			ret = c->run(argc - 1, argv + 1);
	if (ret < 0) {
		fprintf(stderr,
			"ashctl: unknown command \"%s\" (expected status, partition, device, contexts, top, usage, audit, apply, export, cdi or help).\n",
			argv[1]);
		return EXIT_USAGE;
	}
	if (fflush(stdout)) {
		perror("ashctl: cannot write output");
		return EXIT_FAIL;
	}
	return ret;
}
