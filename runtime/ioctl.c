/* SPDX-License-Identifier: MIT */
/*
 * The one way the library talks to the tenant node.
 */
#include <errno.h>
#include <sys/ioctl.h>

#include "internal.h"

int ash__ioctl(int fd, unsigned long request, void *arg)
{
	int ret;

	/* Every accelshare ioctl either completes or changes nothing, so a
	 * call interrupted by a signal is safe to repeat. */
	do {
		ret = ioctl(fd, request, arg);
	} while (ret < 0 && errno == EINTR);
	return ret < 0 ? -errno : 0;
}
