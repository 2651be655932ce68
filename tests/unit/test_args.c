/* SPDX-License-Identifier: MIT */
/*
 * ashctl's command-line checks (tools/ashctl/args.c): everything wrong is
 * caught, with a sentence naming it, before any ioctl could be issued.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "args.h"

#define ARGV(...) ((char *[]){ __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ __VA_ARGS__ }) / sizeof(char *)))

static char err[ARGS_ERR_MAX];

#define PART(cmd, o, ...) \
	args_part_parse(cmd, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), o, err, \
			sizeof(err))

/* Fails unless parsing fails with an error mentioning @needle. */
#define PART_ERR(cmd, needle, ...) do { \
	struct part_opts o_; \
	err[0] = '\0'; \
	assert_int_equal(PART(cmd, &o_, __VA_ARGS__), -1); \
	if (!strstr(err, needle)) \
		fail_msg("error \"%s\" does not mention \"%s\"", err, needle); \
} while (0)

static void create_full(void **state)
{
	struct part_opts o;

	(void)state;
	assert_int_equal(PART(PART_CREATE, &o, "create", "research", "--mem",
			      "8G", "--min", "1.5G", "--weight", "200",
			      "--uid", "0", "--uid", "root", "--uid", "1001",
			      "--gid", "0", "--device", "3",
			      "--max-contexts", "8", "--max-buffers", "100"),
			 0);
	assert_string_equal(o.name, "research");
	assert_true(o.has_mem && o.mem_max == 8ULL << 30);
	assert_true(o.has_min && o.mem_min == 3ULL << 29);
	assert_true(o.has_weight && o.weight == 200);
	assert_true(o.has_device && o.device == 3 && !o.device_name);
	assert_true(o.has_max_contexts && o.max_contexts == 8);
	assert_true(o.has_max_buffers && o.max_buffers == 100);
	/* "0" and "root" are one uid: kept once. */
	assert_int_equal(o.nr_uids, 2);
	assert_int_equal(o.uids[0], 0);
	assert_int_equal(o.uids[1], 1001);
	assert_int_equal(o.nr_gids, 1);
	assert_true(o.acl_given);
	/* --device by name. */
	assert_int_equal(PART(PART_CREATE, &o, "create", "r", "--mem", "1G",
			      "--device", "gpu0"), 0);
	assert_true(o.has_device && o.device_name &&
		    !strcmp(o.device_name, "gpu0"));
}

static void create_minimal_and_name_anywhere(void **state)
{
	struct part_opts o;

	(void)state;
	assert_int_equal(PART(PART_CREATE, &o, "create", "--mem", "1M", "a.b-c_1"),
			 0);
	assert_string_equal(o.name, "a.b-c_1");
	assert_false(o.has_min || o.has_weight || o.acl_given || o.has_device);
	assert_int_equal(PART(PART_CREATE, &o, "create", "x", "--help"), 0);
	assert_true(o.help);
}

static void create_errors_name_the_argument(void **state)
{
	(void)state;
	PART_ERR(PART_CREATE, "--mem SIZE", "create", "a");
	PART_ERR(PART_CREATE, "--mem", "create", "a", "--mem", "0");
	PART_ERR(PART_CREATE, "\"12X\"", "create", "a", "--mem", "12X");
	PART_ERR(PART_CREATE, "too large", "create", "a", "--mem", "99999999T");
	PART_ERR(PART_CREATE, "--min", "create", "a", "--mem", "1G", "--min",
		 "-1");
	PART_ERR(PART_CREATE, "--min 2G is larger than --mem 1G", "create",
		 "a", "--mem", "1G", "--min", "2G");
	PART_ERR(PART_CREATE, "--weight", "create", "a", "--mem", "1G",
		 "--weight", "0");
	PART_ERR(PART_CREATE, "--weight", "create", "a", "--mem", "1G",
		 "--weight", "10001");
	PART_ERR(PART_CREATE, "--weight", "create", "a", "--mem", "1G",
		 "--weight", "ten");
	PART_ERR(PART_CREATE, "--max-buffers", "create", "a", "--mem", "1G",
		 "--max-buffers", "1048577");
	PART_ERR(PART_CREATE, "--max-contexts", "create", "a", "--mem", "1G",
		 "--max-contexts", "0");
	PART_ERR(PART_CREATE, "--device", "create", "a", "--mem", "1G",
		 "--device", "4294967296");
	PART_ERR(PART_CREATE, "no such user", "create", "a", "--mem", "1G",
		 "--uid", "no-such-user-here");
	PART_ERR(PART_CREATE, "no such group", "create", "a", "--mem", "1G",
		 "--gid", "no-such-group-here");
	PART_ERR(PART_CREATE, "out of range", "create", "a", "--mem", "1G",
		 "--uid", "4294967295");
	PART_ERR(PART_CREATE, "needs a value", "create", "a", "--mem");
	PART_ERR(PART_CREATE, "--mem is given twice", "create", "a", "--mem",
		 "1G", "--mem", "2G");
	PART_ERR(PART_CREATE, "--weight is given twice", "create", "a",
		 "--mem", "1G", "--weight", "1", "--weight", "2");
	PART_ERR(PART_CREATE, "--mem \"0.1K\" is not a whole number of bytes",
		 "create", "a", "--mem", "0.1K");
	/* A name that starts with '-' is an option to getopt: the message
	 * names the letter, not the word before it. */
	PART_ERR(PART_CREATE, "unknown option \"-a\" for partition create "
		 "(a partition NAME cannot start with '-')",
		 "create", "-acme", "--mem", "1G");
	PART_ERR(PART_CREATE, "\"--bogus\"", "create", "a", "--mem", "1G",
		 "--bogus");
	/* --root-only is for set: create is root-only without --uid/--gid. */
	PART_ERR(PART_CREATE, "\"--root-only\"", "create", "a", "--mem", "1G",
		 "--root-only");
	PART_ERR(PART_CREATE, "needs a partition NAME", "create", "--mem",
		 "1G");
	PART_ERR(PART_CREATE, "unexpected argument \"b\"", "create", "a", "b",
		 "--mem", "1G");
}

static void too_many_acl_entries(void **state)
{
	char *argv[4 + 2 * (ASH_ACL_MAX + 1) + 1];
	char ids[ASH_ACL_MAX + 1][12];
	struct part_opts o;
	int argc = 0, i;

	(void)state;
	argv[argc++] = "create";
	argv[argc++] = "a";
	argv[argc++] = "--mem";
	argv[argc++] = "1G";
	for (i = 0; i <= ASH_ACL_MAX; i++) {
		snprintf(ids[i], sizeof(ids[i]), "%d", 1000 + i);
		argv[argc++] = "--uid";
		argv[argc++] = ids[i];
	}
	argv[argc] = NULL;
	assert_int_equal(args_part_parse(PART_CREATE, argc, argv, &o, err,
					 sizeof(err)), -1);
	assert_non_null(strstr(err, "too many --uid"));
	/* Exactly ASH_ACL_MAX is fine. */
	assert_int_equal(args_part_parse(PART_CREATE, argc - 2, argv, &o, err,
					 sizeof(err)), 0);
	assert_int_equal(o.nr_uids, ASH_ACL_MAX);
}

static void set_options(void **state)
{
	struct part_opts o;

	(void)state;
	assert_int_equal(PART(PART_SET, &o, "set", "a", "--mem", "2G"), 0);
	assert_true(o.has_mem && !o.has_min && !o.acl_given);
	assert_int_equal(PART(PART_SET, &o, "set", "a", "--gid", "0"), 0);
	assert_true(o.acl_given && o.nr_gids == 1 && o.nr_uids == 0);
	assert_int_equal(PART(PART_SET, &o, "set", "a", "--root-only"), 0);
	assert_true(o.acl_given && o.root_only && !o.nr_uids && !o.nr_gids);
	assert_int_equal(PART(PART_SET, &o, "set", "a", "--min", "0"), 0);
	assert_true(o.has_min && o.mem_min == 0);
	PART_ERR(PART_SET, "at least one of", "set", "a");
	PART_ERR(PART_SET, "--root-only cannot be combined", "set", "a",
		 "--root-only", "--uid", "0");
	PART_ERR(PART_SET, "\"--device\"", "set", "a", "--device", "1");

	/* Reclaim with notice: --deadline and --then come with --mem. */
	assert_int_equal(PART(PART_SET, &o, "set", "a", "--mem", "1G",
			      "--deadline", "300", "--then", "kill"), 0);
	assert_true(o.has_deadline && o.deadline_ms == 300000 && o.kill);
	assert_int_equal(PART(PART_SET, &o, "set", "a", "--mem", "1G",
			      "--deadline", "5"), 0);
	assert_true(o.has_deadline && o.deadline_ms == 5000 && !o.kill);
	assert_int_equal(PART(PART_SET, &o, "set", "a", "--mem", "1G",
			      "--deadline", "5", "--then", "none"), 0);
	assert_false(o.kill);
	PART_ERR(PART_SET, "come with --mem", "set", "a", "--weight", "5",
		 "--deadline", "5");
	PART_ERR(PART_SET, "--then needs --deadline", "set", "a", "--mem", "1G",
		 "--then", "kill");
	PART_ERR(PART_SET, "--then takes none or kill, not \"later\"", "set", "a",
		 "--mem", "1G", "--deadline", "5", "--then", "later");
	PART_ERR(PART_SET, "--deadline", "set", "a", "--mem", "1G", "--deadline",
		 "0");
	PART_ERR(PART_SET, "--deadline", "set", "a", "--mem", "1G", "--deadline",
		 "604801");
	PART_ERR(PART_SET, "--deadline is given twice", "set", "a", "--mem", "1G",
		 "--deadline", "1", "--deadline", "2");
	PART_ERR(PART_CREATE, "unknown option \"--deadline\"", "create", "a",
		 "--mem", "1G", "--deadline", "5");
}

static void names_follow_the_uapi_rule(void **state)
{
	char longest[ASH_NAME_MAX], too_long[ASH_NAME_MAX + 1];

	(void)state;
	memset(longest, 'x', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	memset(too_long, 'x', sizeof(too_long) - 1);
	too_long[sizeof(too_long) - 1] = '\0';
	assert_int_equal(args_name_check(longest, err, sizeof(err)), 0);
	assert_int_equal(args_name_check("A-z_0.9", err, sizeof(err)), 0);
	assert_int_equal(args_name_check(too_long, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "longer than 31"));
	assert_int_equal(args_name_check("", err, sizeof(err)), -1);
	assert_int_equal(args_name_check(".hidden", err, sizeof(err)), -1);
	assert_int_equal(args_name_check("a b", err, sizeof(err)), -1);
	assert_int_equal(args_name_check("a/b", err, sizeof(err)), -1);
	assert_int_equal(args_name_check("caf\xc3\xa9", err, sizeof(err)), -1);
	/* A name starting with '-' is taken for an option before it gets
	 * here; args_name_check() refuses it on its own too. */
	assert_int_equal(args_name_check("-a", err, sizeof(err)), -1);
}

static void simple_commands(void **state)
{
	struct simple_opts o;

	(void)state;
	assert_int_equal(args_simple_parse("status", 2, ARGV("status", "--json"),
					   true, false, &o, err, sizeof(err)),
			 0);
	assert_true(o.json);
	assert_int_equal(args_simple_parse("status", 1, ARGV("status"), true,
					   false, &o, err, sizeof(err)), 0);
	assert_false(o.json);
	assert_int_equal(args_simple_parse("status", 2, ARGV("status", "x"),
					   true, false, &o, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "unexpected argument \"x\""));
	assert_int_equal(args_simple_parse("partition delete", 2,
					   ARGV("delete", "--json"), false,
					   true, &o, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "\"--json\""));
	assert_int_equal(args_simple_parse("partition delete", 2,
					   ARGV("delete", "a"), false, true,
					   &o, err, sizeof(err)), 0);
	assert_string_equal(o.name, "a");
	assert_int_equal(args_simple_parse("partition delete", 1,
					   ARGV("delete"), false, true, &o,
					   err, sizeof(err)), -1);
	assert_non_null(strstr(err, "partition delete needs"));
}

static void list_options(void **state)
{
	struct simple_opts o;

	(void)state;
	assert_int_equal(args_cmd_parse("partition list", 3,
					ARGV("list", "--wide", "--json"),
					ARGS_JSON | ARGS_WIDE, &o, err,
					sizeof(err)), 0);
	assert_true(o.wide && o.json);
	assert_int_equal(args_cmd_parse("partition list", 1, ARGV("list"),
					ARGS_JSON | ARGS_WIDE, &o, err,
					sizeof(err)), 0);
	assert_false(o.wide || o.json || o.help);
	/* --wide only where the command has a wide table. */
	assert_int_equal(args_cmd_parse("status", 2, ARGV("status", "--wide"),
					ARGS_JSON, &o, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown option \"--wide\" for status"));
	assert_int_equal(args_cmd_parse("device list", 2,
					ARGV("list", "extra"), ARGS_JSON, &o,
					err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unexpected argument \"extra\""));
	/* The old entry point still refuses --wide. */
	assert_int_equal(args_simple_parse("contexts", 2,
					   ARGV("contexts", "--wide"), true,
					   false, &o, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "\"--wide\""));
}

#define DEV(o, ...) \
	args_device_set_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), o, err, \
			      sizeof(err))

/* Fails unless "device set" parsing fails with an error mentioning @needle. */
#define DEV_ERR(needle, ...) do { \
	struct device_opts o_; \
	err[0] = '\0'; \
	assert_int_equal(DEV(&o_, __VA_ARGS__), -1); \
	if (!strstr(err, needle)) \
		fail_msg("error \"%s\" does not mention \"%s\"", err, needle); \
} while (0)

static void device_set(void **state)
{
	struct device_opts o;

	(void)state;
	assert_int_equal(DEV(&o, "set", "0", "--slice-us", "500"), 0);
	assert_int_equal(o.device, 0);
	assert_true(o.has_slice && o.slice_us == 500);
	assert_false(o.has_timeout);
	/* The watchdog alone, or with the slice. */
	assert_int_equal(DEV(&o, "set", "0", "--job-timeout-ms", "2000"), 0);
	assert_true(o.has_timeout && o.job_timeout_ms == 2000 && !o.has_slice);
	assert_int_equal(DEV(&o, "set", "1", "--job-timeout-ms", "10",
			     "--slice-us", "100"), 0);
	assert_true(o.has_timeout && o.job_timeout_ms == 10 && o.has_slice);
	/* Options before the device number, and the bounds themselves. */
	assert_int_equal(DEV(&o, "set", "--slice-us", "100", "3"), 0);
	assert_true(o.device == 3 && o.slice_us == 100);
	assert_int_equal(DEV(&o, "set", "4294967295", "--slice-us=1000000"),
			 0);
	assert_true(o.device == UINT32_MAX && o.slice_us == 1000000);
	assert_null(o.device_name);
	/* A device by name. */
	assert_int_equal(DEV(&o, "set", "gpu0", "--slice-us", "500"), 0);
	assert_true(o.device_name && !strcmp(o.device_name, "gpu0"));
	assert_int_equal(DEV(&o, "set", "--help"), 0);
	assert_true(o.help);

	DEV_ERR("--slice-us 99 is out of range (100..1000000)", "set", "0",
		"--slice-us", "99");
	DEV_ERR("--slice-us 1000001 is out of range", "set", "0",
		"--slice-us", "1000001");
	DEV_ERR("--slice-us \"2ms\" is not a number", "set", "0",
		"--slice-us", "2ms");
	DEV_ERR("--slice-us \"\" is not a number", "set", "0",
		"--slice-us", "");
	DEV_ERR("needs a value", "set", "0", "--slice-us");
	DEV_ERR("option --job-timeout-ms needs a value", "set", "0",
		"--job-timeout-ms");
	DEV_ERR("--slice-us is given twice", "set", "0", "--slice-us", "500",
		"--slice-us", "600");
	DEV_ERR("--job-timeout-ms 9 is out of range (10..3600000)", "set", "0",
		"--job-timeout-ms", "9");
	DEV_ERR("needs --slice-us US", "set", "0");
	DEV_ERR("needs a device: its number N or its name", "set",
		"--slice-us", "500");
	DEV_ERR("takes a device number or name, not \"gpu 0\"", "set",
		"gpu 0", "--slice-us", "500");
	DEV_ERR("takes a device number or name, not \"12x\"", "set", "12x",
		"--slice-us", "500");
	DEV_ERR("device number 4294967296 is out of range", "set",
		"4294967296", "--slice-us", "500");
	DEV_ERR("unexpected argument \"1\"", "set", "0", "1", "--slice-us",
		"500");
	DEV_ERR("unknown option \"--json\" for device set", "set", "0",
		"--slice-us", "500", "--json");
	/* "-1" is not a device number; getopt takes it for an option. */
	DEV_ERR("unknown option", "set", "-1", "--slice-us", "500");
}

/* "cdi generate [--output FILE]" */
#define OUT(o, h, ...) \
	args_output_parse("cdi generate", ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), \
			  o, h, err, sizeof(err))
#define OUT_ERR(needle, ...) do { \
	const char *o_; \
	bool h_; \
	err[0] = '\0'; \
	assert_int_equal(OUT(&o_, &h_, __VA_ARGS__), -1); \
	if (!strstr(err, needle)) \
		fail_msg("error \"%s\" lacks \"%s\"", err, needle); \
} while (0)

static void output_option(void **state)
{
	const char *o;
	bool h;

	(void)state;
	assert_int_equal(OUT(&o, &h, "generate"), 0);
	assert_null(o);
	assert_false(h);
	assert_int_equal(OUT(&o, &h, "generate", "--output", "/etc/cdi/a.json"), 0);
	assert_string_equal(o, "/etc/cdi/a.json");
	assert_int_equal(OUT(&o, &h, "generate", "-o", "x.json"), 0);
	assert_string_equal(o, "x.json");
	assert_int_equal(OUT(&o, &h, "generate", "--output=y.json"), 0);
	assert_string_equal(o, "y.json");
	assert_int_equal(OUT(&o, &h, "generate", "--help"), 0);
	assert_true(h);
	OUT_ERR("option --output needs a value", "generate", "--output");
	OUT_ERR("--output needs a file name", "generate", "--output", "");
	OUT_ERR("--output is given twice", "generate", "-o", "a", "-o", "b");
	OUT_ERR("unexpected argument \"x\"", "generate", "x");
	OUT_ERR("unknown option \"--json\" for cdi generate", "generate",
		"--json");
}

#define USAGE(o, ...) \
	args_usage_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), NOW, o, err, \
			 sizeof(err))
#define USAGE_ERR(needle, ...) do { \
	struct usage_opts o_; \
	err[0] = '\0'; \
	assert_int_equal(USAGE(&o_, __VA_ARGS__), -1); \
	if (!strstr(err, needle)) \
		fail_msg("error \"%s\" does not mention \"%s\"", err, needle); \
} while (0)

/* 2026-12-03T07:00:00Z */
#define NOW (1796281200LL * 1000000000)

static void usage_options(void **state)
{
	struct usage_opts o;
	int64_t t;

	(void)state;
	assert_int_equal(USAGE(&o, "usage"), 0);
	assert_null(o.db);
	assert_int_equal(o.since_ns, INT64_MIN);
	assert_int_equal(o.until_ns, INT64_MAX);
	assert_null(o.partition);
	assert_false(o.intervals || o.json || o.csv);
	assert_int_equal(USAGE(&o, "usage", "--since", "-2h", "--until", "now",
			       "--partition", "acme", "--intervals", "--csv",
			       "--db", "/tmp/u.db"), 0);
	assert_int_equal(o.since_ns, NOW - 7200LL * 1000000000);
	assert_int_equal(o.until_ns, NOW);
	assert_string_equal(o.partition, "acme");
	assert_true(o.intervals && o.csv && !o.json);
	assert_string_equal(o.db, "/tmp/u.db");
	assert_int_equal(USAGE(&o, "usage", "--since=@1796281200",
			       "--until=2026-12-03T08:00Z"), 0);
	assert_int_equal(o.since_ns, NOW);
	assert_int_equal(o.until_ns, NOW + 3600LL * 1000000000);
	assert_int_equal(USAGE(&o, "usage", "--help"), 0);
	assert_true(o.help);

	/* Each time form, and what is refused. */
	assert_int_equal(args_time_parse("--since", "2026-12-03T07:00:30Z", NOW,
					 &t, err, sizeof(err)), 0);
	assert_int_equal(t, NOW + 30LL * 1000000000);
	assert_int_equal(args_time_parse("--since", "2026-12-03Z", NOW, &t, err,
					 sizeof(err)), 0);
	assert_int_equal(t, NOW - 7 * 3600LL * 1000000000);
	assert_int_equal(args_time_parse("--since", "-30d", NOW, &t, err,
					 sizeof(err)), 0);
	assert_int_equal(t, NOW - 30 * 86400LL * 1000000000);
	assert_int_equal(args_time_parse("--since", "-15m", NOW, &t, err,
					 sizeof(err)), 0);
	assert_int_equal(t, NOW - 900LL * 1000000000);
	USAGE_ERR("--since takes now, @SECONDS", "usage", "--since", "yesterday");
	USAGE_ERR("not \"-5w\"", "usage", "--since", "-5w");
	USAGE_ERR("not \"-h\"", "usage", "--since", "-h");
	USAGE_ERR("not \"2026-13-01\"", "usage", "--since", "2026-13-01");
	USAGE_ERR("not \"2026-12-03T07\"", "usage", "--until", "2026-12-03T07");
	USAGE_ERR("not \"2026-12-03 junk\"", "usage", "--until", "2026-12-03 junk");
	USAGE_ERR("not \"@\"", "usage", "--until", "@");
	USAGE_ERR("--since must be before --until", "usage", "--since", "now",
		  "--until", "-1h");
	USAGE_ERR("--since is given twice", "usage", "--since", "-1h", "--since",
		  "-2h");
	USAGE_ERR("--json and --csv cannot both be given", "usage", "--json",
		  "--csv");
	USAGE_ERR("option --db needs a value", "usage", "--db");
	USAGE_ERR("the partition name", "usage", "--partition", "");
	USAGE_ERR("unknown option \"--wide\" for usage", "usage", "--wide");
	USAGE_ERR("unexpected argument \"acme\"", "usage", "acme");
}

static void audit_options(void **state)
{
	struct audit_opts o;

	(void)state;
	assert_int_equal(args_audit_parse(ARGC("audit"), ARGV("audit"), &o, err,
					  sizeof(err)), 0);
	assert_false(o.verify || o.json || o.db);
	assert_int_equal(args_audit_parse(ARGC("audit", "--json", "--db", "x"),
					  ARGV("audit", "--json", "--db", "x"), &o,
					  err, sizeof(err)), 0);
	assert_true(o.json && !strcmp(o.db, "x"));
	assert_int_equal(args_audit_parse(ARGC("audit", "verify", "--db", "y"),
					  ARGV("audit", "verify", "--db", "y"), &o,
					  err, sizeof(err)), 0);
	assert_true(o.verify && !strcmp(o.db, "y"));
	assert_int_equal(args_audit_parse(ARGC("audit", "check"),
					  ARGV("audit", "check"), &o, err,
					  sizeof(err)), -1);
	assert_non_null(strstr(err, "audit takes no argument but verify, not \"check\""));
	assert_int_equal(args_audit_parse(ARGC("audit", "verify", "--json"),
					  ARGV("audit", "verify", "--json"), &o, err,
					  sizeof(err)), -1);
	assert_non_null(strstr(err, "audit verify takes no --json"));
	assert_int_equal(args_audit_parse(ARGC("audit", "verify", "x"),
					  ARGV("audit", "verify", "x"), &o, err,
					  sizeof(err)), -1);
	assert_non_null(strstr(err, "unexpected argument \"x\""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(create_full),
		cmocka_unit_test(create_minimal_and_name_anywhere),
		cmocka_unit_test(create_errors_name_the_argument),
		cmocka_unit_test(too_many_acl_entries),
		cmocka_unit_test(set_options),
		cmocka_unit_test(names_follow_the_uapi_rule),
		cmocka_unit_test(simple_commands),
		cmocka_unit_test(list_options),
		cmocka_unit_test(device_set),
		cmocka_unit_test(output_option),
		cmocka_unit_test(usage_options),
		cmocka_unit_test(audit_options),
	};

	return cmocka_run_group_tests_name("ashctl args", tests, NULL, NULL);
}
