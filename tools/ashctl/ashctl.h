/* SPDX-License-Identifier: MIT */
/*
 * ashctl: the commands, and what they share.
 */
#ifndef ACCELSHARE_ASHCTL_H
#define ACCELSHARE_ASHCTL_H

#include <stdio.h>

/* Exit statuses: scripts rely on these (docs/admin.md). */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,	/* the operation failed: nothing was changed */
	EXIT_USAGE = 2,	/* a bad command line: nothing was done */
};

/* Each takes its own argv, argv[0] being the command's name. */
int cmd_status(int argc, char **argv);
int cmd_contexts(int argc, char **argv);
int cmd_partition_list(int argc, char **argv);
int cmd_partition_create(int argc, char **argv);
int cmd_partition_set(int argc, char **argv);
int cmd_partition_delete(int argc, char **argv);
int cmd_device_list(int argc, char **argv);
int cmd_device_set(int argc, char **argv);
int cmd_cdi(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_usage(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_apply(int argc, char **argv);
int cmd_export(int argc, char **argv);

/* Prints the manual of @topic ("ashctl", "status", "partition create", ...)
 * to @f; returns -1 if there is none. */
int help_print(const char *topic, FILE *f);

/* @arg is --help or -h. */
int is_help(const char *arg);

/* "ashctl: <sentence>" on stderr, for command-line errors; returns
 * EXIT_USAGE. */
int usage_error(const char *sentence);

#endif /* ACCELSHARE_ASHCTL_H */
