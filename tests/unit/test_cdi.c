/* SPDX-License-Identifier: MIT */
/*
 * The CDI spec of "ashctl cdi generate" (tools/ashctl/cdi_spec.c): one
 * device per partition that the container runtimes can take, valid under
 * the CDI project's own JSON schema.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "cdi.h"

#define SCHEMA_CHECK "tests/data/cdi/validate.py"

static void part(struct ash_partition_info *p, const char *name)
{
	memset(p, 0, sizeof(*p));
	memcpy(p->name, name, strnlen(name, sizeof(p->name)));
}

static int skipped;
static char last_skipped[ASH_NAME_MAX + 1];

static void note_skip(void *arg, const char *name)
{
	assert_ptr_equal(arg, &skipped);
	skipped++;
	snprintf(last_skipped, sizeof(last_skipped), "%s", name);
}

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	assert_true(json_object_object_get_ex(o, key, &v));
	return v;
}

/* Runs the CDI schema over @spec; the validator's exit status. */
static int schema_check(struct json_object *spec)
{
	char path[] = "/tmp/test_cdi.XXXXXX", cmd[256];
	int fd, rc;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(json_object_to_file(path, spec), 0);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 " SCHEMA_CHECK " %s",
		 path);
	rc = system(cmd);
	unlink(path);
	assert_true(WIFEXITED(rc));
	return WEXITSTATUS(rc);
}

static void one_device_per_partition(void **state)
{
	struct ash_partition_info p[3];
	struct json_object *spec, *devs, *d, *edits, *v, *node;

	(void)state;
	part(&p[0], "acme");
	part(&p[1], "0research.gpu-1");
	/* A partition name of the full length: no NUL in the UAPI field. */
	part(&p[2], "abcdefghijklmnopqrstuvwxyz012345");
	skipped = 0;
	spec = cdi_spec(p, 3, "/dev/accelshare", note_skip, &skipped);
	assert_non_null(spec);
	assert_int_equal(skipped, 0);
	assert_string_equal(json_object_get_string(get(spec, "cdiVersion")),
			    CDI_VERSION);
	assert_string_equal(json_object_get_string(get(spec, "kind")),
			    "accelshare.dev/partition");
	devs = get(spec, "devices");
	assert_int_equal(json_object_array_length(devs), 3);
	d = json_object_array_get_idx(devs, 1);
	assert_string_equal(json_object_get_string(get(d, "name")),
			    "0research.gpu-1");
	edits = get(d, "containerEdits");
	v = get(edits, "env");
	assert_int_equal(json_object_array_length(v), 1);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(v, 0)),
			    "ACCELSHARE_PARTITION=0research.gpu-1");
	v = get(edits, "deviceNodes");
	assert_int_equal(json_object_array_length(v), 1);
	node = json_object_array_get_idx(v, 0);
	assert_string_equal(json_object_get_string(get(node, "path")),
			    "/dev/accelshare");
	assert_string_equal(json_object_get_string(get(node, "hostPath")),
			    "/dev/accelshare");
	d = json_object_array_get_idx(devs, 2);
	assert_string_equal(json_object_get_string(get(d, "name")),
			    "abcdefghijklmnopqrstuvwxyz012345");
	assert_int_equal(schema_check(spec), 0);
	json_object_put(spec);
}

static void host_node_elsewhere_is_still_dev_accelshare_inside(void **state)
{
	struct ash_partition_info p;
	struct json_object *spec, *node;

	(void)state;
	part(&p, "acme");
	spec = cdi_spec(&p, 1, "/srv/dev/accelshare0", NULL, NULL);
	assert_non_null(spec);
	node = json_object_array_get_idx(get(get(json_object_array_get_idx(
		get(spec, "devices"), 0), "containerEdits"), "deviceNodes"), 0);
	assert_string_equal(json_object_get_string(get(node, "path")),
			    "/dev/accelshare");
	assert_string_equal(json_object_get_string(get(node, "hostPath")),
			    "/srv/dev/accelshare0");
	json_object_put(spec);
}

static void names_cdi_refuses_are_left_out(void **state)
{
	struct ash_partition_info p[4];
	struct json_object *spec, *devs;

	(void)state;
	part(&p[0], "_private");
	part(&p[1], "acme");
	part(&p[2], "trailing-");
	part(&p[3], "x.");
	skipped = 0;
	spec = cdi_spec(p, 4, "/dev/accelshare", note_skip, &skipped);
	assert_non_null(spec);
	assert_int_equal(skipped, 3);
	assert_string_equal(last_skipped, "x.");
	devs = get(spec, "devices");
	assert_int_equal(json_object_array_length(devs), 1);
	assert_int_equal(schema_check(spec), 0);
	json_object_put(spec);

	/* No partitions: still a spec, with no devices. */
	spec = cdi_spec(NULL, 0, "/dev/accelshare", NULL, NULL);
	assert_non_null(spec);
	assert_int_equal(json_object_array_length(get(spec, "devices")), 0);
	assert_int_equal(schema_check(spec), 0);
	json_object_put(spec);
}

static void the_schema_check_can_fail(void **state)
{
	struct ash_partition_info p;
	struct json_object *spec, *dev;

	(void)state;
	part(&p, "acme");
	spec = cdi_spec(&p, 1, "/dev/accelshare", NULL, NULL);
	assert_non_null(spec);
	/* Without containerEdits a device is not valid CDI. */
	dev = json_object_array_get_idx(get(spec, "devices"), 0);
	json_object_object_del(dev, "containerEdits");
	assert_int_equal(schema_check(spec), 1);
	json_object_put(spec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_device_per_partition),
		cmocka_unit_test(host_node_elsewhere_is_still_dev_accelshare_inside),
		cmocka_unit_test(names_cdi_refuses_are_left_out),
		cmocka_unit_test(the_schema_check_can_fail),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
