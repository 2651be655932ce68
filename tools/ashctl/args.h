/* SPDX-License-Identifier: MIT */
/*
 * ashctl's command-line parsing: every argument is checked here, before the
 * control node is opened, so that a bad command line changes nothing.
 * No ioctls in this file; the unit tests drive it directly.
 */
#ifndef ACCELSHARE_ASHCTL_ARGS_H
#define ACCELSHARE_ASHCTL_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uapi/accelshare.h>

/* Room for any one-sentence error args_*() write. */
#define ARGS_ERR_MAX 256

enum part_cmd {
	PART_CREATE,
	PART_SET,
};

/**
 * struct part_opts - "partition create" and "partition set", parsed
 * @name: the partition's name, checked against the UAPI's rule.
 * @has_*: whether the option was given; the value beside it is valid only
 *	then.
 * @acl_given: --uid, --gid or --root-only was given: the access list is
 *	replaced by @uids and @gids (both, even if only one kind was given).
 * @help: --help was given; nothing else is meaningful.
 * @mem_arg: --mem as given, for messages.
 * @min_arg: --min as given, for messages.
 * @device_name: --device named the device (not a number), or NULL.
 * @has_deadline: --deadline was given (set, with --mem): @deadline_ms.
 * @kill: --then kill (else none).
 */
struct part_opts {
	const char *name;
	const char *device_name;
	const char *mem_arg, *min_arg;
	bool has_device, has_mem, has_min, has_weight;
	bool has_max_contexts, has_max_buffers;
	bool acl_given, root_only, help;
	bool has_deadline, has_then, kill;
	uint32_t deadline_ms;
	uint32_t device;
	uint64_t mem_max;
	uint64_t mem_min;
	uint32_t weight;
	uint32_t max_contexts;
	uint32_t max_buffers;
	uint32_t nr_uids, nr_gids;
	uint32_t uids[ASH_ACL_MAX];
	uint32_t gids[ASH_ACL_MAX];
};

/**
 * struct simple_opts - commands that take at most --json, --wide and a NAME
 * @name: the positional NAME, if the command takes one.
 * @json: --json was given.
 * @wide: --wide was given.
 * @help: --help was given.
 */
struct simple_opts {
	const char *name;
	bool json, wide, help;
};

/* What args_cmd_parse() accepts besides --help. */
#define ARGS_JSON	(1U << 0)	/* --json */
#define ARGS_WIDE	(1U << 1)	/* --wide */
#define ARGS_NAME	(1U << 2)	/* a partition NAME, then required */

/* The scheduler time slice a device accepts (ASH_CTL_DEVICE_SET). */
#define ARGS_SLICE_US_MIN	100
#define ARGS_SLICE_US_MAX	1000000

/**
 * struct device_opts - "device set", parsed
 * @device: the device's number N.
 * @device_name: the device as named instead, or NULL.
 * @has_slice: --slice-us was given.
 * @has_timeout: --job-timeout-ms was given.
 * @help: --help was given; nothing else is meaningful.
 * @slice_us: its value, ARGS_SLICE_US_MIN..ARGS_SLICE_US_MAX.
 * @job_timeout_ms: its value, ASH_JOB_TIMEOUT_MS_MIN..ASH_JOB_TIMEOUT_MS_MAX.
 */
struct device_opts {
	uint32_t device;
	const char *device_name;
	bool has_slice, has_timeout, help;
	uint32_t slice_us;
	uint32_t job_timeout_ms;
};

/* Checks @name against the UAPI's rule for partition names; on failure
 * writes why into @err. */
int args_name_check(const char *name, char *err, size_t errlen);

/* A uid (@group false) or gid as a number or a name; @what ("--uid")
 * names it in the error. */
int args_id_parse(const char *s, bool group, const char *what,
		  uint32_t *out, char *err, size_t errlen);

/* Adds @id to the access list @ids of *@nr (an id already there is kept
 * once); -1 with @err naming @opt when the list is full. */
int args_id_add(uint32_t *ids, uint32_t *nr, uint32_t id, const char *opt,
		char *err, size_t errlen);

/* A device as a number (into *@num, *@name NULL) or a name (*@name = @s);
 * @what ("--device") names it in the error. */
int args_device_arg(const char *what, const char *s, uint32_t *num,
		    const char **name, char *err, size_t errlen);

/*
 * args_part_parse() - parse "partition create|set" arguments (@argv[0] is
 * the subcommand's name).  Return: 0, or -1 with one sentence in @err.
 */
int args_part_parse(enum part_cmd cmd, int argc, char **argv,
		    struct part_opts *o, char *err, size_t errlen);

/*
 * args_simple_parse() - parse command @cmd ("status", "partition delete")
 * taking --json if @json_ok and a NAME if @name_ok (then required).
 * Return: 0, or -1 with @err.
 */
int args_simple_parse(const char *cmd, int argc, char **argv, bool json_ok,
		      bool name_ok, struct simple_opts *o, char *err,
		      size_t errlen);

/*
 * args_cmd_parse() - parse command @cmd ("partition list", ...) taking the
 * ARGS_* options in @allow.  Return: 0, or -1 with @err.
 */
int args_cmd_parse(const char *cmd, int argc, char **argv, unsigned int allow,
		   struct simple_opts *o, char *err, size_t errlen);

/*
 * args_device_set_parse() - parse "device set N --slice-us US" (@argv[0] is
 * "set").  Return: 0, or -1 with @err.
 */
int args_device_set_parse(int argc, char **argv, struct device_opts *o,
			  char *err, size_t errlen);

/*
 * args_output_parse() - parse command @cmd taking only [--output FILE]
 * (or -o FILE); *@output is NULL without it.  Return: 0, or -1 with @err.
 */
int args_output_parse(const char *cmd, int argc, char **argv,
		      const char **output, bool *help, char *err,
		      size_t errlen);

/**
 * struct apply_opts - "apply FILE [--dry-run]", parsed
 * @path: FILE; "-" is standard input.
 * @dry_run: --dry-run (or -n): print the changes, make none.
 * @help: --help was given; nothing else is meaningful.
 */
struct apply_opts {
	const char *path;
	bool dry_run, help;
};

/* args_apply_parse() - parse "apply" (@argv[0]).  Return: 0, or -1 with
 * @err. */
int args_apply_parse(int argc, char **argv, struct apply_opts *o, char *err,
		     size_t errlen);

/**
 * struct usage_opts - "usage", parsed
 * @db: --db PATH, or NULL for the default ledger.
 * @since_ns: --since, CLOCK_REALTIME nanoseconds; INT64_MIN without it.
 * @until_ns: --until; INT64_MAX without it.
 * @partition: --partition NAME, or NULL.
 * @intervals: --intervals: each interval's rows, not sums.
 * @json: --json.
 * @csv: --csv.
 * @help: --help was given; nothing else is meaningful.
 */
struct usage_opts {
	const char *db;
	int64_t since_ns, until_ns;
	const char *partition;
	bool intervals, json, csv, help;
};

/*
 * args_time_parse() - a time for --since/--until: "now", "@SECONDS" since
 * the epoch, "-N" followed by s, m, h or d (so long ago), or
 * "YYYY-MM-DD[THH:MM[:SS]]" in local time ("Z" after it: UTC).  @now_ns is
 * now (CLOCK_REALTIME); @opt names the option in the error.  Return: 0, or
 * -1 with @err.
 */
int args_time_parse(const char *opt, const char *s, int64_t now_ns,
		    int64_t *out_ns, char *err, size_t errlen);

/* args_usage_parse() - parse "usage" (@argv[0]) at @now_ns.  Return: 0, or
 * -1 with @err. */
int args_usage_parse(int argc, char **argv, int64_t now_ns,
		     struct usage_opts *o, char *err, size_t errlen);

/**
 * struct audit_opts - "audit [verify]", parsed
 * @db: --db PATH, or NULL for the default ledger.
 * @verify: the verify subcommand.
 * @json: --json (listing only).
 * @help: --help was given; nothing else is meaningful.
 */
struct audit_opts {
	const char *db;
	bool verify, json, help;
};

/* args_audit_parse() - parse "audit" (@argv[0]).  Return: 0, or -1 with
 * @err. */
int args_audit_parse(int argc, char **argv, struct audit_opts *o, char *err,
		     size_t errlen);

#endif /* ACCELSHARE_ASHCTL_ARGS_H */
