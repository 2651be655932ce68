/* SPDX-License-Identifier: MIT */
/*
 * Building ashctl's JSON output with json-c: adds that own their value
 * either way, so that callers chain them and check once.
 */
#ifndef ACCELSHARE_ASHCTL_JSON_OUT_H
#define ACCELSHARE_ASHCTL_JSON_OUT_H

#include <json-c/json.h>

/* Adds @val (NULL: a failed allocation) to @obj under @key; -1 if it is
 * NULL or cannot be added, when it is released. */
int json_set(struct json_object *obj, const char *key,
	     struct json_object *val);

/* The same for appending @val to the array @arr. */
int json_append(struct json_object *arr, struct json_object *val);

/* Prints @obj (NULL: a failed build, said as such) pretty on stdout and
 * releases it; EXIT_OK or EXIT_FAIL. */
int json_print(struct json_object *obj);

#endif /* ACCELSHARE_ASHCTL_JSON_OUT_H */
