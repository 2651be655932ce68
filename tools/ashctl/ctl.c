/* SPDX-License-Identifier: MIT */
/*
 * The control node, as ashctl uses it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "ctl.h"

#define CTL_DEFAULT_PATH "/dev/accelshare-ctl"

const char *ctl_path(void)
{
	const char *path = getenv("ACCELSHARE_CTL_DEVICE");

	return path && *path ? path : CTL_DEFAULT_PATH;
}

int ctl_open(void)
{
	const char *path = ctl_path();
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	switch (errno) {
	case ENOENT:
	case ENXIO:
	case ENODEV:
		fprintf(stderr,
			"ashctl: %s does not exist; is the accelshare module loaded (modprobe accelshare)?\n",
			path);
		break;
	case EACCES:
	case EPERM:
		fprintf(stderr,
			"ashctl: permission denied opening %s; ashctl must run as root.\n",
			path);
		break;
	default:
		fprintf(stderr, "ashctl: cannot open %s: %s.\n", path,
			strerror(errno));
		break;
	}
	return -1;
}

int ctl_ioctl(int fd, unsigned long request, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, request, arg);
	} while (ret < 0 && errno == EINTR);
	return ret < 0 ? -errno : 0;
}

/* Grows *items by one element of @size; NULL when out of memory. */
static void *grow(void **items, size_t *n, size_t *cap, size_t size)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		void *p = realloc(*items, ncap * size);

		if (!p)
			return NULL;
		*items = p;
		*cap = ncap;
	}
	return (char *)*items + (*n)++ * size;
}

int ctl_device(int fd, unsigned int device, struct ash_device_info *out)
{
	memset(out, 0, sizeof(*out));
	out->device = device;
	return ctl_ioctl(fd, ASH_CTL_DEVICE_INFO, out);
}

int ctl_device_named(int fd, const char *name, struct ash_device_info *out)
{
	memset(out, 0, sizeof(*out));
	out->flags = ASH_DEVICE_INFO_BY_NAME;
	snprintf(out->name, sizeof(out->name), "%s", name);
	return ctl_ioctl(fd, ASH_CTL_DEVICE_INFO, out);
}

int ctl_device_find(int fd, const char *name, unsigned int device,
		    struct ash_device_info *out)
{
	return name ? ctl_device_named(fd, name, out) :
		      ctl_device(fd, device, out);
}

int ctl_devices(int fd, struct ash_device_info **out, size_t *n)
{
	struct ash_device_info info, *slot;
	void *items = NULL;
	size_t cap = 0;
	unsigned int dev;
	int ret;

	*n = 0;
	/* Devices are numbered densely from 0; the first missing number ends
	 * the list. */
	for (dev = 0;; dev++) {
		ret = ctl_device(fd, dev, &info);
		if (ret == -ENODEV)
			break;
		if (ret)
			goto err;
		slot = grow(&items, n, &cap, sizeof(info));
		if (!slot) {
			ret = -ENOMEM;
			goto err;
		}
		*slot = info;
	}
	*out = items;
	return 0;
err:
	free(items);
	return ret;
}

int ctl_partition(int fd, const char *name, struct ash_partition_info *out)
{
	memset(out, 0, sizeof(*out));
	out->flags = ASH_PART_INFO_BY_NAME;
	snprintf(out->name, sizeof(out->name), "%s", name);
	return ctl_ioctl(fd, ASH_CTL_PART_INFO, out);
}

/*
 * The walk queries (ASH_CTL_PART_INFO, ASH_CTL_CTX_INFO) report the first
 * object whose id is at or after the one asked for: ids have holes where
 * objects went away.  Both structs start with __u32 flags, __u32 id.
 */
union ctl_walk_item {
	struct {
		__u32 flags;
		__u32 id;
	} head;
	struct ash_partition_info part;
	struct ash_context_info ctx;
};
_Static_assert(offsetof(struct ash_partition_info, id) == 4 &&
	       offsetof(struct ash_context_info, id) == 4,
	       "walk queries keep the id at offset 4");

/* Every object of the walk query @cmd, as an array of @size-byte items. */
static int ctl_walk(int fd, unsigned long cmd, size_t size, void **out,
		    size_t *n)
{
	union ctl_walk_item info;
	void *items = NULL, *slot;
	size_t cap = 0;
	__u32 id = 0;
	int ret;

	*n = 0;
	for (;;) {
		memset(&info, 0, sizeof(info));
		info.head.id = id;
		ret = ctl_ioctl(fd, cmd, &info);
		if (ret == -ENOENT)
			break;
		if (ret)
			goto err;
		slot = grow(&items, n, &cap, size);
		if (!slot) {
			ret = -ENOMEM;
			goto err;
		}
		memcpy(slot, &info, size);
		if (info.head.id == UINT32_MAX)
			break;
		id = info.head.id + 1;
	}
	*out = items;
	return 0;
err:
	free(items);
	return ret;
}

int ctl_partitions(int fd, struct ash_partition_info **out, size_t *n)
{
	void *items;
	int ret = ctl_walk(fd, ASH_CTL_PART_INFO, sizeof(**out), &items, n);

	if (!ret)
		*out = items;
	return ret;
}

int ctl_contexts(int fd, struct ash_context_info **out, size_t *n)
{
	void *items;
	int ret = ctl_walk(fd, ASH_CTL_CTX_INFO, sizeof(**out), &items, n);

	if (!ret)
		*out = items;
	return ret;
}

void ctl_error(const char *what, int err)
{
	switch (-err) {
	case EPERM:
	case EACCES:
		fprintf(stderr,
			"ashctl: %s: permission denied; this needs root (CAP_SYS_ADMIN).\n",
			what);
		break;
	case ENOTTY:
		fprintf(stderr,
			"ashctl: %s: %s does not understand the request; is it the accelshare control node, of a matching version?\n",
			what, ctl_path());
		break;
	default:
		fprintf(stderr, "ashctl: %s: %s.\n", what, strerror(-err));
		break;
	}
}
