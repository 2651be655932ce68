/* SPDX-License-Identifier: MIT */
/*
 * accelshare.conf(5) (tools/ashctl/conf.c): what the parser accepts and
 * the one sentence, with its line, for what it refuses; the plan apply
 * makes from a file and a state, in its order, and what it refuses; undo;
 * and that an export parses back to a plan of nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conf.h"

#define GiB (1ULL << 30)
#define MiB (1ULL << 20)

static int parse_text(const char *text, struct conf *c, char *err)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	int ret;

	assert_non_null(f);
	ret = conf_parse(f, "t.conf", c, err, CONF_ERR_MAX);
	fclose(f);
	return ret;
}

static void parse_full_file(void **state)
{
	static const char text[] =
		"# the fleet\n"
		"; another comment\n"
		"[device host]\n"
		"slice_us = 5000\n"
		"\n"
		"[partition acme]\n"
		"mem = 4G\n"
		"min = 1.5G   ; inline comments start with a semicolon\n"
		"weight = 200\n"
		"uid = root, 1001 1002\n"
		"gid = 2000\n"
		"\n"
		"[partition beta]\n"
		"device = 0\n"
		"mem = 512M\n"
		"max_contexts = 8\n"
		"max_buffers = 64\n"
		"[device 1]\n"
		"job_timeout_ms = 60000\n";
	char err[CONF_ERR_MAX] = "";
	struct conf c;

	(void)state;
	assert_int_equal(parse_text(text, &c, err), 0);
	assert_int_equal(c.nr_devs, 2);
	assert_string_equal(c.devs[0].ref, "host");
	assert_true(c.devs[0].has_slice && !c.devs[0].has_timeout);
	assert_int_equal(c.devs[0].slice_us, 5000);
	assert_string_equal(c.devs[1].ref, "1");
	assert_true(!c.devs[1].has_slice && c.devs[1].has_timeout);
	assert_int_equal(c.devs[1].job_timeout_ms, 60000);
	assert_int_equal(c.nr_parts, 2);
	assert_string_equal(c.parts[0].name, "acme");
	assert_string_equal(c.parts[0].device, "0");
	assert_true(c.parts[0].mem_max == 4 * GiB);
	assert_true(c.parts[0].mem_min == 3 * GiB / 2);
	assert_int_equal(c.parts[0].weight, 200);
	assert_int_equal(c.parts[0].nr_uids, 3);
	assert_int_equal(c.parts[0].uids[0], 0);
	assert_int_equal(c.parts[0].uids[2], 1002);
	assert_int_equal(c.parts[0].nr_gids, 1);
	assert_int_equal(c.parts[0].gids[0], 2000);
	assert_string_equal(c.parts[1].name, "beta");
	assert_true(c.parts[1].mem_max == 512 * MiB);
	assert_int_equal(c.parts[1].max_contexts, 8);
	assert_int_equal(c.parts[1].max_buffers, 64);
	conf_free(&c);
}

static void refused(const char *text, const char *want)
{
	char err[CONF_ERR_MAX] = "";
	struct conf c;

	if (parse_text(text, &c, err) == 0)
		fail_msg("accepted, expected \"%s\":\n%s", want, text);
	if (!strstr(err, want))
		fail_msg("error \"%s\", expected it to contain \"%s\"", err,
			 want);
	assert_null(c.parts);
	assert_null(c.devs);
}

static void parse_refusals(void **state)
{
	(void)state;
	refused("[partition a]\nmem = 4X\n",
		"t.conf:2: mem takes a size such as 4096, 512M or 4G, not \"4X\"");
	refused("[partition a]\nmem = 0.1K\n",
		"t.conf:2: mem 0.1K is not a whole number of bytes");
	refused("[partition a]\nmemory = 4G\n",
		"t.conf:2: unknown key \"memory\" in [partition a]");
	refused("[device 0]\nmem = 4G\n",
		"t.conf:2: unknown key \"mem\" in [device 0] (a device takes");
	refused("[partition a]\nmem = 4G\nmem = 8G\n",
		"t.conf:3: mem is given twice in [partition a]");
	/* inih continues a value on an indented line. */
	refused("[partition a]\nmem = 4G\n  weight = 3\n",
		"t.conf:3: mem is given twice in [partition a] (an indented line");
	refused("mem = 4G\n[partition a]\nmem = 4G\n",
		"t.conf:1: \"mem\" comes before any [section]");
	refused("[org a]\nmem = 4G\n", "t.conf:1: a section is [device N]");
	refused("[partition]\nmem = 4G\n", "t.conf:1: a section is");
	refused("[partition a b]\nmem = 4G\n", "t.conf:1: a section is");
	refused("[partition a\nmem = 4G\n",
		"t.conf:1: a section header needs a closing ']'");
	refused("[partition a] x\nmem = 4G\n",
		"t.conf:1: nothing but a comment may follow");
	refused("[partition a]\nmem = 1G\n\n[partition a]\nmem = 2G\n",
		"t.conf:4: [partition a] again (first on line 1)");
	refused("[partition -a]\nmem = 1G\n", "t.conf:1: partition name \"-a\" must not start with '-'");
	refused("[partition a]\nmin = 1G\n", "t.conf:1: [partition a] needs mem");
	refused("[partition a]\n", "t.conf:1: [partition a] needs mem");
	refused("[partition a]\nmem = 4G\nmin = 8G\n",
		"t.conf:1: [partition a]: min 8G is larger than mem 4G");
	refused("[partition a]\nmem = 0\n", "t.conf:1: [partition a]: mem must be above 0");
	refused("[partition a]\nmem = 4G\nweight = 0\n",
		"t.conf:3: weight takes a number from 1 to 10000, not \"0\"");
	refused("[partition a]\nmem = 4G\njunk\n",
		"t.conf:3: not a [section], a \"key = value\" line or a comment");
	refused("[device 0]\nslice_us = 50\n",
		"t.conf:2: slice_us takes a number from 100 to 1000000");
	refused("[device host]\n", "t.conf:1: [device host] sets nothing");
	refused("[partition a]\nmem = 4G\nuid = no-such-user-of-accelshare\n",
		"t.conf:3: uid \"no-such-user-of-accelshare\": no such user");
	refused("[partition a]\nmem = 4G\ndevice = -1\n",
		"t.conf:3: device takes a device number or name");
	refused("[partition a]\nmem = 4G\n   [partition b]\nmem = 1G\n",
		"t.conf:3: mem is given twice");
	refused("[partition a]\n  [partition b]\nmem = 1G\n",
		"t.conf:3: section [partition b] must start at the beginning");
	{
		char line[300];

		memset(line, 'x', sizeof(line) - 1);
		line[sizeof(line) - 1] = '\0';
		memcpy(line, "[partition a]\n#", 15);
		refused(line, "t.conf:2: line longer than 198 characters");
	}
	{
		static const char nul[] = "[partition a]\nmem = 4G\n\0x\n";
		char err[CONF_ERR_MAX] = "";
		struct conf c;
		FILE *f = fmemopen((void *)nul, sizeof(nul) - 1, "r");

		assert_int_equal(conf_parse(f, "t.conf", &c, err, sizeof(err)),
				 -1);
		fclose(f);
		assert_non_null(strstr(err, "t.conf: contains a NUL byte"));
	}
}

/* A host: device 0 "host" of 8 GiB and device 1 "gpu0" of 16 GiB. */
static struct ash_device_info devs[2];

static void devs_init(void)
{
	memset(devs, 0, sizeof(devs));
	devs[0].device = 0;
	strcpy(devs[0].name, "host");
	devs[0].mem_capacity = 8 * GiB;
	devs[0].slice_us = 2000;
	devs[0].job_timeout_ms = 10000;
	devs[1].device = 1;
	strcpy(devs[1].name, "gpu0");
	devs[1].mem_capacity = 16 * GiB;
	devs[1].slice_us = 2000;
	devs[1].job_timeout_ms = 10000;
}

static struct ash_partition_info part(const char *name, uint32_t device,
				      uint64_t max, uint64_t min)
{
	struct ash_partition_info p;

	memset(&p, 0, sizeof(p));
	strcpy(p.name, name);
	p.device = device;
	p.mem_max = max;
	p.mem_min = min;
	p.weight = ASH_WEIGHT_DEFAULT;
	p.max_contexts = ASH_MAX_CONTEXTS_DEFAULT;
	p.max_buffers = ASH_MAX_BUFFERS_DEFAULT;
	return p;
}

static char *printed(const struct change *ch)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	conf_change_print(f, ch, devs, 2);
	fclose(f);
	return buf;
}

static void expect_line(const struct change *ch, const char *want)
{
	char *got = printed(ch);

	assert_string_equal(got, want);
	free(got);
}

static void plan_orders_changes(void **state)
{
	static const char text[] =
		"[device gpu0]\nslice_us = 4000\njob_timeout_ms = 10000\n"
		"[partition keep]\nmem = 1G\nmin = 512M\n"
		"[partition lower]\nmem = 2G\nmin = 0\n"
		"[partition raise]\nmem = 2G\nmin = 1G\nweight = 300\nuid = 1001, 1000\n"
		"[partition new]\ndevice = gpu0\nmem = 4G\n";
	struct ash_partition_info parts[4];
	char err[CONF_ERR_MAX] = "";
	struct change *plan;
	struct conf c;
	int n;

	(void)state;
	devs_init();
	parts[0] = part("keep", 0, GiB, 512 * MiB);
	parts[1] = part("raise", 0, 2 * GiB, 512 * MiB);
	parts[1].nr_uids = 2;
	parts[1].uids[0] = 1000;
	parts[1].uids[1] = 1001;	/* the same set: not a change */
	parts[2] = part("lower", 0, 2 * GiB, GiB);
	parts[3] = part("gone", 1, GiB, 0);
	assert_int_equal(parse_text(text, &c, err), 0);
	n = conf_plan(&c, devs, 2, parts, 4, &plan, err, sizeof(err));
	assert_int_equal(n, 5);
	assert_int_equal(plan[0].kind, CHANGE_DEVICE);
	assert_int_equal(plan[0].dev.flags, ASH_DEVICE_SET_SLICE);
	expect_line(&plan[0], "device 1 (gpu0): slice_us 2000 -> 4000");
	assert_int_equal(plan[1].kind, CHANGE_DELETE);
	expect_line(&plan[1], "delete partition \"gone\" on device 1 (gpu0)");
	/* The lowered guarantee before the raised one. */
	assert_int_equal(plan[2].kind, CHANGE_SET);
	assert_string_equal(plan[2].part.name, "lower");
	assert_int_equal(plan[2].part.flags,
			 ASH_PART_SET_MEM_MAX | ASH_PART_SET_MEM_MIN);
	expect_line(&plan[2], "set partition \"lower\": mem 2G -> 2G, min 1G -> 0");
	assert_int_equal(plan[3].kind, CHANGE_SET);
	assert_string_equal(plan[3].part.name, "raise");
	assert_int_equal(plan[3].part.flags, ASH_PART_SET_MEM_MAX |
			 ASH_PART_SET_MEM_MIN | ASH_PART_SET_WEIGHT);
	expect_line(&plan[3],
		    "set partition \"raise\": mem 2G -> 2G, min 512M -> 1G, weight 100 -> 300");
	assert_int_equal(plan[4].kind, CHANGE_CREATE);
	assert_int_equal(plan[4].part.device, 1);
	assert_int_equal(plan[4].part.weight, ASH_WEIGHT_DEFAULT);
	expect_line(&plan[4],
		    "create partition \"new\" on device 1 (gpu0): mem 4G, min 0, weight 100, max_contexts 1024, max_buffers 4096, uid -, gid -");
	free(plan);
	conf_free(&c);
}

static void plan_refused(const char *text, struct ash_partition_info *parts,
			 size_t n, const char *want)
{
	char err[CONF_ERR_MAX] = "";
	struct change *plan = (void *)1;
	struct conf c;

	devs_init();
	assert_int_equal(parse_text(text, &c, err), 0);
	assert_int_equal(conf_plan(&c, devs, 2, parts, n, &plan, err,
				   sizeof(err)), -1);
	assert_null(plan);
	if (!strstr(err, want))
		fail_msg("error \"%s\", expected \"%s\"", err, want);
	conf_free(&c);
}

static void plan_refusals(void **state)
{
	struct ash_partition_info p[1];

	(void)state;
	p[0] = part("busy", 0, GiB, 0);
	p[0].nr_contexts = 2;
	plan_refused("[partition a]\nmem = 1G\n", p, 1,
		     "partition \"busy\" is not in the file but has 2 contexts bound");
	plan_refused("[partition a]\nmem = 1G\ndevice = 7\n", NULL, 0,
		     "partition \"a\" is on device 7, and there is no device 7");
	plan_refused("[device nope]\nslice_us = 1000\n", NULL, 0,
		     "there is no device nope");
	plan_refused("[device 0]\nslice_us = 1000\n[device host]\nslice_us = 900\n",
		     NULL, 0, "[device 0] and [device host] are the same device");
	plan_refused("[partition a]\nmem = 9G\n", NULL, 0,
		     "partition \"a\": mem 9G is larger than device 0's capacity of 8G");
	plan_refused("[partition a]\nmem = 8G\nmin = 5G\n[partition b]\nmem = 4G\nmin = 4G\n",
		     NULL, 0,
		     "the partitions on device 0 guarantee 9G in all, more than its capacity of 8G");
	p[0] = part("a", 1, GiB, 0);
	plan_refused("[partition a]\nmem = 1G\n", p, 1,
		     "partition \"a\" is on device 1, not 0: a partition cannot move");
}

/* Each change's undo is the change that restores what was there. */
static void undo_restores(void **state)
{
	struct ash_partition_info parts[2];
	char err[CONF_ERR_MAX] = "";
	struct change *plan, undo;
	struct conf c;
	int n;

	(void)state;
	devs_init();
	parts[0] = part("old", 0, GiB, 256 * MiB);
	parts[0].weight = 50;
	parts[0].nr_gids = 1;
	parts[0].gids[0] = 3000;
	parts[1] = part("mod", 0, GiB, 0);
	assert_int_equal(parse_text("[device 0]\njob_timeout_ms = 500\n"
				    "[partition mod]\nmem = 2G\nweight = 7\n"
				    "[partition fresh]\nmem = 1G\n", &c, err), 0);
	n = conf_plan(&c, devs, 2, parts, 2, &plan, err, sizeof(err));
	assert_int_equal(n, 4);

	conf_change_undo(&plan[0], &undo);
	assert_int_equal(undo.kind, CHANGE_DEVICE);
	assert_int_equal(undo.dev.flags, ASH_DEVICE_SET_JOB_TIMEOUT);
	assert_int_equal(undo.dev.job_timeout_ms, 10000);
	assert_int_equal(undo.dev.slice_us, 0);	/* not in its flags */

	conf_change_undo(&plan[1], &undo);	/* delete "old" */
	assert_int_equal(undo.kind, CHANGE_CREATE);
	assert_string_equal(undo.part.name, "old");
	assert_true(undo.part.mem_max == GiB && undo.part.mem_min == 256 * MiB);
	assert_int_equal(undo.part.weight, 50);
	assert_int_equal(undo.part.nr_gids, 1);
	assert_int_equal(undo.part.gids[0], 3000);

	conf_change_undo(&plan[2], &undo);	/* set "mod" */
	assert_int_equal(undo.kind, CHANGE_SET);
	assert_int_equal(undo.part.flags, plan[2].part.flags);
	assert_true(undo.part.mem_max == GiB);
	assert_int_equal(undo.part.weight, ASH_WEIGHT_DEFAULT);
	expect_line(&undo, "set partition \"mod\": mem 2G -> 1G, min 0 -> 0, weight 7 -> 100");

	conf_change_undo(&plan[3], &undo);	/* create "fresh" */
	assert_int_equal(undo.kind, CHANGE_DELETE);
	assert_string_equal(undo.part.name, "fresh");
	free(plan);
	conf_free(&c);
}

/* What export writes, apply reads back as nothing to change. */
static void export_round_trips(void **state)
{
	struct ash_partition_info parts[2];
	char err[CONF_ERR_MAX] = "", *text = NULL;
	struct change *plan;
	size_t len = 0;
	struct conf c;
	FILE *f;

	(void)state;
	devs_init();
	devs[1].slice_us = 777;
	parts[0] = part("acme", 0, 3 * GiB / 2, 4097);
	parts[0].weight = 250;
	parts[0].nr_uids = 2;
	parts[0].uids[0] = 1001;
	parts[0].uids[1] = 0;
	parts[0].nr_gids = 1;
	parts[0].gids[0] = 2000;
	parts[1] = part("b.2", 1, 5 * GiB, GiB);
	parts[1].max_contexts = 3;
	parts[1].max_buffers = 9;
	f = open_memstream(&text, &len);
	assert_non_null(f);
	conf_export(f, devs, 2, parts, 2);
	fclose(f);
	assert_non_null(strstr(text, "[partition acme]\ndevice = host\nmem = 1536M\nmin = 4097\nweight = 250\n"));
	assert_non_null(strstr(text, "uid = 1001, 0\ngid = 2000\n"));
	assert_non_null(strstr(text, "[device gpu0]\nslice_us = 777\n"));
	assert_int_equal(parse_text(text, &c, err), 0);
	assert_int_equal(conf_plan(&c, devs, 2, parts, 2, &plan, err,
				   sizeof(err)), 0);
	assert_null(plan);
	conf_free(&c);
	free(text);
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_full_file),
		cmocka_unit_test(parse_refusals),
		cmocka_unit_test(plan_orders_changes),
		cmocka_unit_test(plan_refusals),
		cmocka_unit_test(undo_restores),
		cmocka_unit_test(export_round_trips),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
