/* SPDX-License-Identifier: MIT */
#include "json_out.h"

int json_set(struct json_object *obj, const char *key,
	     struct json_object *val)
{
	if (!val || json_object_object_add(obj, key, val)) {
		json_object_put(val);
		return -1;
	}
	return 0;
}

int json_append(struct json_object *arr, struct json_object *val)
{
	if (!val || json_object_array_add(arr, val)) {
		json_object_put(val);
		return -1;
	}
	return 0;
}
