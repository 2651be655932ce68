/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "ashctl.h"
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

int json_print(struct json_object *obj)
{
	int ret = EXIT_OK;

	if (!obj) {
		fprintf(stderr, "ashctl: out of memory building JSON.\n");
		return EXIT_FAIL;
	}
	if (puts(json_object_to_json_string_ext(obj,
			JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
			JSON_C_TO_STRING_NOSLASHESCAPE)) < 0)
		ret = EXIT_FAIL;
	json_object_put(obj);
	return ret;
}
