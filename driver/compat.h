/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The few definitions the driver's decision logic (quota.c, sched.c) needs,
 * from the kernel when built into the module and from libc when built into
 * the host unit tests.  Code that includes this header does no I/O, takes no
 * locks and allocates nothing: its callers do.
 */
#ifndef ACCELSHARE_COMPAT_H
#define ACCELSHARE_COMPAT_H

#ifdef __KERNEL__
#include <linux/container_of.h>
#include <linux/errno.h>
#include <linux/math64.h>
#include <linux/overflow.h>
#include <linux/stddef.h>
#include <linux/time64.h>
#include <linux/types.h>
#else
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
typedef __UINT32_TYPE__ u32;
typedef __UINT64_TYPE__ u64;
#define check_add_overflow(a, b, d) __builtin_add_overflow(a, b, d)
#define check_mul_overflow(a, b, d) __builtin_mul_overflow(a, b, d)
#define U64_MAX UINT64_MAX
#define NSEC_PER_SEC 1000000000L
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

/* As the kernel's: a 64-bit dividend, a 32-bit divisor. */
static inline u64 div_u64_rem(u64 dividend, u32 divisor, u32 *remainder)
{
	*remainder = (u32)(dividend % divisor);
	return dividend / divisor;
}

/* As the kernel's: a * mul / divisor without overflow in between. */
static inline u64 mul_u64_u32_div(u64 a, u32 mul, u32 divisor)
{
	return (u64)((__uint128_t)a * mul / divisor);
}
#endif

#endif /* ACCELSHARE_COMPAT_H */
