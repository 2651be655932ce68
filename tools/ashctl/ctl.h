/* SPDX-License-Identifier: MIT */
/*
 * ashctl's access to the control node: opening it, the ioctls, walking the
 * device, partition and context tables, and errno as a sentence.
 */
#ifndef ACCELSHARE_ASHCTL_CTL_H
#define ACCELSHARE_ASHCTL_CTL_H

#include <stddef.h>

#include <uapi/accelshare.h>

/* The control node: $ACCELSHARE_CTL_DEVICE, else /dev/accelshare-ctl. */
const char *ctl_path(void);

/* Opens the control node; prints the reason and returns -1 on failure. */
int ctl_open(void);

/* ioctl(2), retried on EINTR; 0 or a negative errno. */
int ctl_ioctl(int fd, unsigned long request, void *arg);

/* All devices / partitions / contexts, in id order, into a malloc'ed array
 * the caller frees.  0 or a negative errno. */
int ctl_devices(int fd, struct ash_device_info **out, size_t *n);
int ctl_partitions(int fd, struct ash_partition_info **out, size_t *n);
int ctl_contexts(int fd, struct ash_context_info **out, size_t *n);

int ctl_device(int fd, unsigned int device, struct ash_device_info *out);
/* The device named @name (ASH_DEVICE_INFO_BY_NAME). */
int ctl_device_named(int fd, const char *name, struct ash_device_info *out);
/* The device by @name if not NULL, else by number @device. */
int ctl_device_find(int fd, const char *name, unsigned int device,
		    struct ash_device_info *out);
int ctl_partition(int fd, const char *name, struct ash_partition_info *out);

/* Prints "ashctl: <what>: <why>." for errors no command knows better. */
void ctl_error(const char *what, int err);

#endif /* ACCELSHARE_ASHCTL_CTL_H */
