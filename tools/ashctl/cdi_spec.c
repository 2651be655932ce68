/* SPDX-License-Identifier: MIT */
/*
 * The CDI spec of a list of partitions, as JSON: what "ashctl cdi generate"
 * prints, apart from the control node it reads the list from (so that the
 * unit tests check it against the CDI schema).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "cdi.h"
#include "json_out.h"

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

bool cdi_name_ok(const char *name)
{
	size_t len = strlen(name);

	return len && len <= CDI_NAME_MAX && is_alnum(name[0]) &&
	       is_alnum(name[len - 1]);
}

static struct json_object *device(const char *name, const char *node)
{
	struct json_object *dev = json_object_new_object();
	struct json_object *edits = json_object_new_object();
	struct json_object *env = json_object_new_array();
	struct json_object *nodes = json_object_new_array();
	struct json_object *dn = json_object_new_object();
	char var[sizeof("ACCELSHARE_PARTITION=") + ASH_NAME_MAX];
	int bad = !dev || !edits || !env || !nodes || !dn;

	if (bad) {
		json_object_put(dev);
		json_object_put(edits);
		json_object_put(env);
		json_object_put(nodes);
		json_object_put(dn);
		return NULL;
	}
	snprintf(var, sizeof(var), "ACCELSHARE_PARTITION=%s", name);
	bad |= json_append(env, json_object_new_string(var));
	/* The same path inside as on the host: what libaccelshare opens. */
	bad |= json_set(dn, "path", json_object_new_string(CDI_TENANT_NODE));
	bad |= json_set(dn, "hostPath", json_object_new_string(node));
	bad |= json_append(nodes, dn);
	bad |= json_set(edits, "env", env);
	bad |= json_set(edits, "deviceNodes", nodes);
	bad |= json_set(dev, "name", json_object_new_string(name));
	bad |= json_set(dev, "containerEdits", edits);
	if (bad) {
		json_object_put(dev);
		return NULL;
	}
	return dev;
}

struct json_object *cdi_spec(const struct ash_partition_info *parts, size_t n,
			     const char *node, cdi_skip_fn skip, void *arg)
{
	struct json_object *spec = json_object_new_object();
	struct json_object *devs = json_object_new_array();
	char name[ASH_NAME_MAX + 1];
	int bad = !spec || !devs;
	size_t i;

	if (bad) {
		json_object_put(spec);
		json_object_put(devs);
		return NULL;
	}
	for (i = 0; i < n && !bad; i++) {
		memcpy(name, parts[i].name, ASH_NAME_MAX);
		name[ASH_NAME_MAX] = '\0';
		if (!cdi_name_ok(name)) {
			if (skip)
				skip(arg, name);
			continue;
		}
		bad |= json_append(devs, device(name, node));
	}
	bad |= json_set(spec, "cdiVersion", json_object_new_string(CDI_VERSION));
	bad |= json_set(spec, "kind", json_object_new_string(CDI_KIND));
	bad |= json_set(spec, "devices", devs);
	if (bad) {
		json_object_put(spec);
		return NULL;
	}
	return spec;
}
