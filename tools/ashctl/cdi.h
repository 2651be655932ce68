/* SPDX-License-Identifier: MIT */
/*
 * The Container Device Interface spec of the partitions (ashctl cdi).
 */
#ifndef ACCELSHARE_ASHCTL_CDI_H
#define ACCELSHARE_ASHCTL_CDI_H

#include <stdbool.h>
#include <stddef.h>

#include <uapi/accelshare.h>

struct json_object;

/* 0.5.0: the oldest CDI version with deviceNodes' hostPath and device
 * names that start with a digit, the newest fields used. */
#define CDI_VERSION	"0.5.0"
#define CDI_KIND	"accelshare.dev/partition"
#define CDI_TENANT_NODE	"/dev/accelshare"
/* The CDI spec's limit on a device name. */
#define CDI_NAME_MAX	63

/* Can @name be a CDI device name (begins and ends with a letter or digit;
 * every partition name's other characters are allowed)? */
bool cdi_name_ok(const char *name);

/* Called for each partition whose name cannot be a device's. */
typedef void (*cdi_skip_fn)(void *arg, const char *name);

/*
 * The spec for @parts: one device per partition, named as it is, giving a
 * container @node (the host's tenant node) at /dev/accelshare and
 * ACCELSHARE_PARTITION.  NULL when out of memory.
 */
struct json_object *cdi_spec(const struct ash_partition_info *parts, size_t n,
			     const char *node, cdi_skip_fn skip, void *arg);

#endif /* ACCELSHARE_ASHCTL_CDI_H */
