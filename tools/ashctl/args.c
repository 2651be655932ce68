/* SPDX-License-Identifier: MIT */
/*
 * Command-line parsing for ashctl.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <grp.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/parse.h"
#include "args.h"

enum {
	OPT_HELP = 'h',
	OPT_MEM = 0x100,
	OPT_MIN,
	OPT_WEIGHT,
	OPT_UID,
	OPT_GID,
	OPT_DEVICE,
	OPT_MAX_CONTEXTS,
	OPT_MAX_BUFFERS,
	OPT_ROOT_ONLY,
	OPT_JSON,
	OPT_WIDE,
	OPT_SLICE_US,
	OPT_JOB_TIMEOUT_MS,
	OPT_OUTPUT,
	OPT_DRY_RUN,
	OPT_DB,
	OPT_SINCE,
	OPT_UNTIL,
	OPT_PARTITION,
	OPT_INTERVALS,
	OPT_CSV,
	OPT_DEADLINE,
	OPT_THEN,
};

int args_name_check(const char *name, char *err, size_t errlen)
{
	size_t len = strlen(name), i;

	if (len == 0) {
		snprintf(err, errlen, "the partition name is empty");
		return -1;
	}
	if (len >= ASH_NAME_MAX) {
		snprintf(err, errlen,
			 "partition name \"%.40s%s\" is longer than %d characters",
			 name, len > 40 ? "..." : "", ASH_NAME_MAX - 1);
		return -1;
	}
	if (name[0] == '-' || name[0] == '.') {
		snprintf(err, errlen,
			 "partition name \"%s\" must not start with '%c'",
			 name, name[0]);
		return -1;
	}
	for (i = 0; i < len; i++) {
		char c = name[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-')
			continue;
		snprintf(err, errlen,
			 "partition name \"%s\" may contain only letters, digits, '_', '.' and '-'",
			 name);
		return -1;
	}
	return 0;
}

int args_id_parse(const char *s, bool group, const char *what,
		  uint32_t *out, char *err, size_t errlen)
{
	uint64_t v;
	int ret;

	if (!*s) {
		snprintf(err, errlen, "%s needs a %s name or number", what,
			 group ? "group" : "user");
		return -1;
	}
	/* (uid_t)-1 means "no id" to the kernel's id calls: not a real id. */
	ret = ash_num_parse(s, UINT32_MAX - 1, &v);
	if (ret == -ERANGE) {
		snprintf(err, errlen, "%s %s is out of range (0..%u)", what,
			 s, UINT32_MAX - 1);
		return -1;
	}
	if (ret == 0) {
		*out = (uint32_t)v;
		return 0;
	}
	if (group) {
		struct group *gr = getgrnam(s);

		if (gr) {
			*out = gr->gr_gid;
			return 0;
		}
	} else {
		struct passwd *pw = getpwnam(s);

		if (pw) {
			*out = pw->pw_uid;
			return 0;
		}
	}
	snprintf(err, errlen, "%s \"%s\": no such %s", what, s,
		 group ? "group" : "user");
	return -1;
}

static int size_arg(const char *opt, const char *s, uint64_t *out, char *err,
		    size_t errlen)
{
	int ret = ash_size_parse(s, out);

	if (ret == -ERANGE)
		snprintf(err, errlen, "%s \"%s\" is too large", opt, s);
	else if (ret == -EDOM)
		snprintf(err, errlen,
			 "%s \"%s\" is not a whole number of bytes", opt, s);
	else if (ret)
		snprintf(err, errlen,
			 "%s \"%s\" is not a size (expected bytes with an optional K, M, G or T suffix, e.g. 512M)",
			 opt, s);
	return ret ? -1 : 0;
}

static int num_arg(const char *opt, const char *s, uint64_t lo, uint64_t hi,
		   uint32_t *out, char *err, size_t errlen)
{
	uint64_t v;
	int ret = ash_num_parse(s, hi, &v);

	if (ret == -EINVAL) {
		snprintf(err, errlen, "%s \"%s\" is not a number", opt, s);
		return -1;
	}
	if (ret || v < lo) {
		snprintf(err, errlen, "%s %s is out of range (%llu..%llu)",
			 opt, s, (unsigned long long)lo,
			 (unsigned long long)hi);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

/*
 * A device as a number or a name: digits are its number, anything else
 * must be a valid device name (the rule of partition names).
 */
int args_device_arg(const char *what, const char *s, uint32_t *num,
		    const char **name, char *err, size_t errlen)
{
	uint64_t v;
	int ret;

	*name = NULL;
	if (*s < '0' || *s > '9') {
		if (args_name_check(s, err, errlen)) {
			snprintf(err, errlen,
				 "%s takes a device number or name, not \"%s\"",
				 what, s);
			return -1;
		}
		*name = s;
		return 0;
	}
	ret = ash_num_parse(s, UINT32_MAX, &v);
	if (ret == -EINVAL) {
		snprintf(err, errlen,
			 "%s takes a device number or name, not \"%s\"", what,
			 s);
		return -1;
	}
	if (ret) {
		if (what[0] == '-')
			snprintf(err, errlen, "%s %s is out of range (0..%u)",
				 what, s, UINT32_MAX);
		else
			snprintf(err, errlen,
				 "device number %s is out of range (0..%u)", s,
				 UINT32_MAX);
		return -1;
	}
	*num = (uint32_t)v;
	return 0;
}

int args_id_add(uint32_t *ids, uint32_t *nr, uint32_t id, const char *opt,
		char *err, size_t errlen)
{
	uint32_t i;

	/* Naming one id twice is harmless: keep it once. */
	for (i = 0; i < *nr; i++)
		if (ids[i] == id)
			return 0;
	if (*nr == ASH_ACL_MAX) {
		snprintf(err, errlen, "too many %s options (at most %d)", opt,
			 ASH_ACL_MAX);
		return -1;
	}
	ids[(*nr)++] = id;
	return 0;
}

/* The option getopt_long() stopped at, for an error message. */
/*
 * The option getopt just refused.  An unknown short option may sit inside a
 * word getopt has not finished with ("-acme": optind still names it), so
 * it is named by its letter; a long one by its word.
 */
static const char *bad_option(char **argv)
{
	static char buf[3];

	/* optopt is a long option's value (0x100 up) when its argument is
	 * missing, and 0 for an unknown long option. */
	if (optopt > ' ' && optopt < 0x7f) {
		buf[0] = '-';
		buf[1] = (char)optopt;
		buf[2] = 0;
		return buf;
	}
	return argv[optind - 1];
}

/* An option given twice: refused, rather than the last one silently won. */
static int once(bool *seen, const char *opt, char *err, size_t errlen)
{
	if (*seen) {
		snprintf(err, errlen, "%s is given twice", opt);
		return -1;
	}
	*seen = true;
	return 0;
}

static int positional(const char *cmd, int argc, char **argv,
		      const char **name, char *err, size_t errlen)
{
	if (optind >= argc) {
		snprintf(err, errlen, "%s needs a partition NAME", cmd);
		return -1;
	}
	if (optind + 1 < argc) {
		snprintf(err, errlen, "unexpected argument \"%s\"",
			 argv[optind + 1]);
		return -1;
	}
	*name = argv[optind];
	return args_name_check(*name, err, errlen);
}

int args_part_parse(enum part_cmd cmd, int argc, char **argv,
		    struct part_opts *o, char *err, size_t errlen)
{
	static const struct option create_opts[] = {
		{ "help", no_argument, NULL, OPT_HELP },
		{ "mem", required_argument, NULL, OPT_MEM },
		{ "min", required_argument, NULL, OPT_MIN },
		{ "weight", required_argument, NULL, OPT_WEIGHT },
		{ "uid", required_argument, NULL, OPT_UID },
		{ "gid", required_argument, NULL, OPT_GID },
		{ "max-contexts", required_argument, NULL, OPT_MAX_CONTEXTS },
		{ "max-buffers", required_argument, NULL, OPT_MAX_BUFFERS },
		{ "device", required_argument, NULL, OPT_DEVICE },
		{ NULL, 0, NULL, 0 },
	};
	static const struct option set_opts[] = {
		{ "help", no_argument, NULL, OPT_HELP },
		{ "mem", required_argument, NULL, OPT_MEM },
		{ "min", required_argument, NULL, OPT_MIN },
		{ "weight", required_argument, NULL, OPT_WEIGHT },
		{ "uid", required_argument, NULL, OPT_UID },
		{ "gid", required_argument, NULL, OPT_GID },
		{ "max-contexts", required_argument, NULL, OPT_MAX_CONTEXTS },
		{ "max-buffers", required_argument, NULL, OPT_MAX_BUFFERS },
		{ "root-only", no_argument, NULL, OPT_ROOT_ONLY },
		{ "deadline", required_argument, NULL, OPT_DEADLINE },
		{ "then", required_argument, NULL, OPT_THEN },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd_name = cmd == PART_CREATE ? "partition create" :
						    "partition set";
	bool uid_or_gid = false;
	uint32_t id;
	int c;

	memset(o, 0, sizeof(*o));
	/* optind 0 makes glibc start afresh: ashctl parses several argument
	 * vectors in one run, and so do the unit tests. */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h",
				cmd == PART_CREATE ? create_opts : set_opts,
				NULL)) != -1) {
		switch (c) {
		case OPT_HELP:
			o->help = true;
			return 0;
		case OPT_MEM:
			if (once(&o->has_mem, "--mem", err, errlen) ||
			    size_arg("--mem", optarg, &o->mem_max, err, errlen))
				return -1;
			if (!o->mem_max) {
				snprintf(err, errlen,
					 "--mem must be at least 1 byte");
				return -1;
			}
			o->mem_arg = optarg;
			break;
		case OPT_MIN:
			if (once(&o->has_min, "--min", err, errlen) ||
			    size_arg("--min", optarg, &o->mem_min, err, errlen))
				return -1;
			o->min_arg = optarg;
			break;
		case OPT_WEIGHT:
			if (once(&o->has_weight, "--weight", err, errlen) ||
			    num_arg("--weight", optarg, 1, ASH_WEIGHT_MAX,
				    &o->weight, err, errlen))
				return -1;
			break;
		case OPT_MAX_CONTEXTS:
			if (once(&o->has_max_contexts, "--max-contexts", err,
				 errlen) ||
			    num_arg("--max-contexts", optarg, 1, UINT32_MAX,
				    &o->max_contexts, err, errlen))
				return -1;
			break;
		case OPT_MAX_BUFFERS:
			if (once(&o->has_max_buffers, "--max-buffers", err,
				 errlen) ||
			    num_arg("--max-buffers", optarg, 1,
				    ASH_MAX_BUFFERS_LIMIT, &o->max_buffers,
				    err, errlen))
				return -1;
			break;
		case OPT_DEVICE:
			if (once(&o->has_device, "--device", err, errlen) ||
			    args_device_arg("--device", optarg, &o->device,
				       &o->device_name, err, errlen))
				return -1;
			break;
		case OPT_UID:
		case OPT_GID:
			if (args_id_parse(optarg, c == OPT_GID,
					  c == OPT_GID ? "--gid" : "--uid",
					  &id, err, errlen))
				return -1;
			if (c == OPT_GID ?
			    args_id_add(o->gids, &o->nr_gids, id, "--gid", err,
				   errlen) :
			    args_id_add(o->uids, &o->nr_uids, id, "--uid", err,
				   errlen))
				return -1;
			o->acl_given = true;
			uid_or_gid = true;
			break;
		case OPT_ROOT_ONLY:
			o->root_only = true;
			o->acl_given = true;
			break;
		case OPT_DEADLINE:
			if (once(&o->has_deadline, "--deadline", err, errlen) ||
			    num_arg("--deadline", optarg, 1,
				    ASH_RECLAIM_DEADLINE_MS_MAX / 1000,
				    &o->deadline_ms, err, errlen))
				return -1;
			o->deadline_ms *= 1000;
			break;
		case OPT_THEN:
			if (once(&o->has_then, "--then", err, errlen))
				return -1;
			if (strcmp(optarg, "none") && strcmp(optarg, "kill")) {
				snprintf(err, errlen,
					 "--then takes none or kill, not \"%s\"",
					 optarg);
				return -1;
			}
			o->kill = !strcmp(optarg, "kill");
			break;
		case ':':
			snprintf(err, errlen, "option %s needs a value",
				 bad_option(argv));
			return -1;
		default:
			/* "-acme": a short option to getopt, maybe meant as
			 * a name. */
			snprintf(err, errlen, "unknown option \"%s\" for %s%s",
				 bad_option(argv), cmd_name,
				 optopt > ' ' && optopt < 0x7f ?
				 " (a partition NAME cannot start with '-')" : "");
			return -1;
		}
	}
	if (positional(cmd_name, argc, argv, &o->name, err, errlen))
		return -1;

	if (o->root_only && uid_or_gid) {
		snprintf(err, errlen,
			 "--root-only cannot be combined with --uid or --gid");
		return -1;
	}
	if (cmd == PART_CREATE && !o->has_mem) {
		snprintf(err, errlen,
			 "partition create needs --mem SIZE, the partition's memory cap");
		return -1;
	}
	if (cmd == PART_SET && !o->has_mem && !o->has_min && !o->has_weight &&
	    !o->has_max_contexts && !o->has_max_buffers && !o->acl_given) {
		snprintf(err, errlen,
			 "partition set needs at least one of --mem, --min, --weight, --max-contexts, --max-buffers, --uid, --gid or --root-only");
		return -1;
	}
	if ((o->has_deadline || o->has_then) && !o->has_mem) {
		snprintf(err, errlen,
			 "--deadline and --then come with --mem: they say how a cap below the memory in use is reclaimed");
		return -1;
	}
	if (o->has_then && !o->has_deadline) {
		snprintf(err, errlen, "--then needs --deadline SECONDS");
		return -1;
	}
	if (o->has_mem && o->has_min && o->mem_min > o->mem_max) {
		snprintf(err, errlen, "--min %s is larger than --mem %s",
			 o->min_arg, o->mem_arg);
		return -1;
	}
	return 0;
}

int args_simple_parse(const char *cmd, int argc, char **argv, bool json_ok,
		      bool name_ok, struct simple_opts *o, char *err,
		      size_t errlen)
{
	return args_cmd_parse(cmd, argc, argv,
			      (json_ok ? ARGS_JSON : 0) |
			      (name_ok ? ARGS_NAME : 0), o, err, errlen);
}

int args_cmd_parse(const char *cmd, int argc, char **argv, unsigned int allow,
		   struct simple_opts *o, char *err, size_t errlen)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, OPT_HELP },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "wide", no_argument, NULL, OPT_WIDE },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_HELP:
			o->help = true;
			return 0;
		case OPT_JSON:
			if (allow & ARGS_JSON) {
				o->json = true;
				break;
			}
			goto unknown;
		case OPT_WIDE:
			if (allow & ARGS_WIDE) {
				o->wide = true;
				break;
			}
			goto unknown;
		default:
unknown:
			snprintf(err, errlen, "unknown option \"%s\" for %s",
				 bad_option(argv), cmd);
			return -1;
		}
	}
	if (allow & ARGS_NAME)
		return positional(cmd, argc, argv, &o->name, err, errlen);
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument \"%s\"",
			 argv[optind]);
		return -1;
	}
	return 0;
}

int args_device_set_parse(int argc, char **argv, struct device_opts *o,
			  char *err, size_t errlen)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, OPT_HELP },
		{ "slice-us", required_argument, NULL, OPT_SLICE_US },
		{ "job-timeout-ms", required_argument, NULL,
		  OPT_JOB_TIMEOUT_MS },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_HELP:
			o->help = true;
			return 0;
		case OPT_SLICE_US:
			if (once(&o->has_slice, "--slice-us", err, errlen) ||
			    num_arg("--slice-us", optarg, ARGS_SLICE_US_MIN,
				    ARGS_SLICE_US_MAX, &o->slice_us, err,
				    errlen))
				return -1;
			break;
		case OPT_JOB_TIMEOUT_MS:
			if (once(&o->has_timeout, "--job-timeout-ms", err,
				 errlen) ||
			    num_arg("--job-timeout-ms", optarg,
				    ASH_JOB_TIMEOUT_MS_MIN,
				    ASH_JOB_TIMEOUT_MS_MAX, &o->job_timeout_ms,
				    err, errlen))
				return -1;
			break;
		case ':':
			snprintf(err, errlen, "option %s needs a value",
				 bad_option(argv));
			return -1;
		default:
			snprintf(err, errlen,
				 "unknown option \"%s\" for device set",
				 bad_option(argv));
			return -1;
		}
	}
	if (optind >= argc) {
		snprintf(err, errlen,
			 "device set needs a device: its number N or its name");
		return -1;
	}
	if (optind + 1 < argc) {
		snprintf(err, errlen, "unexpected argument \"%s\"",
			 argv[optind + 1]);
		return -1;
	}
	if (args_device_arg("device set", argv[optind], &o->device,
		       &o->device_name, err, errlen))
		return -1;
	if (!o->has_slice && !o->has_timeout) {
		snprintf(err, errlen,
			 "device set needs --slice-us US (the scheduler time slice) or --job-timeout-ms MS (the job watchdog), or both");
		return -1;
	}
	return 0;
}

int args_output_parse(const char *cmd, int argc, char **argv,
		      const char **output, bool *help, char *err,
		      size_t errlen)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, OPT_HELP },
		{ "output", required_argument, NULL, OPT_OUTPUT },
		{ NULL, 0, NULL, 0 },
	};
	bool seen = false;
	int c;

	*output = NULL;
	*help = false;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
		switch (c) {
		case OPT_HELP:
			*help = true;
			return 0;
		case 'o':
		case OPT_OUTPUT:
			if (once(&seen, "--output", err, errlen))
				return -1;
			if (!*optarg) {
				snprintf(err, errlen,
					 "--output needs a file name");
				return -1;
			}
			*output = optarg;
			break;
		case ':':
			snprintf(err, errlen, "option %s needs a value",
				 bad_option(argv));
			return -1;
		default:
			snprintf(err, errlen, "unknown option \"%s\" for %s",
				 bad_option(argv), cmd);
			return -1;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument \"%s\"",
			 argv[optind]);
		return -1;
	}
	return 0;
}

int args_apply_parse(int argc, char **argv, struct apply_opts *o, char *err,
		     size_t errlen)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, OPT_HELP },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hn", opts, NULL)) != -1) {
		switch (c) {
		case OPT_HELP:
			o->help = true;
			return 0;
		case 'n':
		case OPT_DRY_RUN:
			o->dry_run = true;
			break;
		default:
			snprintf(err, errlen, "unknown option \"%s\" for apply",
				 bad_option(argv));
			return -1;
		}
	}
	if (optind == argc) {
		snprintf(err, errlen,
			 "apply needs the configuration FILE (\"-\" for standard input)");
		return -1;
	}
	if (optind + 1 < argc) {
		snprintf(err, errlen, "unexpected argument \"%s\"",
			 argv[optind + 1]);
		return -1;
	}
	o->path = argv[optind];
	return 0;
}

int args_time_parse(const char *opt, const char *s, int64_t now_ns,
		    int64_t *out_ns, char *err, size_t errlen)
{
	static const struct { char unit; int64_t secs; } units[] = {
		{ 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
	};
	struct tm tm = { 0 };
	const char *end = NULL;
	uint64_t n;
	size_t i, len = strlen(s);

	if (!strcmp(s, "now")) {
		*out_ns = now_ns;
		return 0;
	}
	if (s[0] == '@' && !ash_num_parse(s + 1, INT64_MAX / 1000000000, &n)) {
		*out_ns = (int64_t)n * 1000000000;
		return 0;
	}
	if (s[0] == '-' && len > 2) {
		char num[32];

		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (s[len - 1] == units[i].unit)
				break;
		if (i < sizeof(units) / sizeof(units[0]) &&
		    len - 2 < sizeof(num)) {
			memcpy(num, s + 1, len - 2);
			num[len - 2] = 0;
			if (!ash_num_parse(num, INT64_MAX / 1000000000 /
					   units[i].secs, &n)) {
				*out_ns = now_ns - (int64_t)n * units[i].secs *
						   1000000000;
				return 0;
			}
		}
	}
	tm.tm_isdst = -1;
	end = strptime(s, "%Y-%m-%d", &tm);
	if (end && *end == 'T') {
		const char *t = strptime(end + 1, "%H:%M", &tm);

		end = t && *t == ':' ? strptime(t + 1, "%S", &tm) : t;
	}
	if (end && (!*end || !strcmp(end, "Z"))) {
		time_t secs = *end ? timegm(&tm) : mktime(&tm);

		if (secs != (time_t)-1) {
			*out_ns = (int64_t)secs * 1000000000;
			return 0;
		}
	}
	snprintf(err, errlen,
		 "%s takes now, @SECONDS, -N followed by s, m, h or d, or YYYY-MM-DD[THH:MM[:SS]][Z], not \"%s\"",
		 opt, s);
	return -1;
}

int args_usage_parse(int argc, char **argv, int64_t now_ns,
		     struct usage_opts *o, char *err, size_t errlen)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, OPT_HELP },
		{ "db", required_argument, NULL, OPT_DB },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "until", required_argument, NULL, OPT_UNTIL },
		{ "partition", required_argument, NULL, OPT_PARTITION },
		{ "intervals", no_argument, NULL, OPT_INTERVALS },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "csv", no_argument, NULL, OPT_CSV },
		{ NULL, 0, NULL, 0 },
	};
	bool seen_db = false, seen_since = false, seen_until = false;
	bool seen_part = false;
	int c;

	memset(o, 0, sizeof(*o));
	o->since_ns = INT64_MIN;
	o->until_ns = INT64_MAX;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_HELP:
			o->help = true;
			return 0;
		case OPT_DB:
			if (once(&seen_db, "--db", err, errlen))
				return -1;
			o->db = optarg;
			break;
		case OPT_SINCE:
			if (once(&seen_since, "--since", err, errlen) ||
			    args_time_parse("--since", optarg, now_ns,
					    &o->since_ns, err, errlen))
				return -1;
			break;
		case OPT_UNTIL:
			if (once(&seen_until, "--until", err, errlen) ||
			    args_time_parse("--until", optarg, now_ns,
					    &o->until_ns, err, errlen))
				return -1;
			break;
		case OPT_PARTITION:
			if (once(&seen_part, "--partition", err, errlen) ||
			    args_name_check(optarg, err, errlen))
				return -1;
			o->partition = optarg;
			break;
		case OPT_INTERVALS:
			o->intervals = true;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_CSV:
			o->csv = true;
			break;
		case ':':
			snprintf(err, errlen, "option %s needs a value",
				 bad_option(argv));
			return -1;
		default:
			snprintf(err, errlen, "unknown option \"%s\" for usage",
				 bad_option(argv));
			return -1;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument \"%s\"",
			 argv[optind]);
		return -1;
	}
	if (o->json && o->csv) {
		snprintf(err, errlen, "--json and --csv cannot both be given");
		return -1;
	}
	if (o->since_ns >= o->until_ns) {
		snprintf(err, errlen, "--since must be before --until");
		return -1;
	}
	return 0;
}

int args_audit_parse(int argc, char **argv, struct audit_opts *o, char *err,
		     size_t errlen)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, OPT_HELP },
		{ "db", required_argument, NULL, OPT_DB },
		{ "json", no_argument, NULL, OPT_JSON },
		{ NULL, 0, NULL, 0 },
	};
	bool seen_db = false;
	int c;

	memset(o, 0, sizeof(*o));
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_HELP:
			o->help = true;
			return 0;
		case OPT_DB:
			if (once(&seen_db, "--db", err, errlen))
				return -1;
			o->db = optarg;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case ':':
			snprintf(err, errlen, "option %s needs a value",
				 bad_option(argv));
			return -1;
		default:
			snprintf(err, errlen, "unknown option \"%s\" for audit",
				 bad_option(argv));
			return -1;
		}
	}
	if (optind < argc) {
		if (strcmp(argv[optind], "verify")) {
			snprintf(err, errlen,
				 "audit takes no argument but verify, not \"%s\"",
				 argv[optind]);
			return -1;
		}
		o->verify = true;
		if (optind + 1 < argc) {
			snprintf(err, errlen, "unexpected argument \"%s\"",
				 argv[optind + 1]);
			return -1;
		}
	}
	if (o->verify && o->json) {
		snprintf(err, errlen, "audit verify takes no --json");
		return -1;
	}
	return 0;
}
