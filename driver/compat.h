/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The few definitions the driver's decision logic (quota.c) needs, from the
 * kernel when built into the module and from libc when built into the host
 * unit tests.  Code that includes this header does no I/O, takes no locks
 * and allocates nothing: its callers do.
 */
#ifndef ACCELSHARE_COMPAT_H
#define ACCELSHARE_COMPAT_H

#ifdef __KERNEL__
#include <linux/errno.h>
#include <linux/overflow.h>
#include <linux/types.h>
#else
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
typedef __UINT32_TYPE__ u32;
typedef __UINT64_TYPE__ u64;
#define check_add_overflow(a, b, d) __builtin_add_overflow(a, b, d)
#endif

#endif /* ACCELSHARE_COMPAT_H */
