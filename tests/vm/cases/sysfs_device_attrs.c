// SPDX-License-Identifier: MIT
/*
 * The read-only monitoring attributes under
 * /sys/class/misc/accelshare-ctl/device0/ agree with the control node's
 * device query, follow an allocation and a partition live, and refuse
 * writes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "vmtest.h"

#define SYSFS_DIR "/sys/class/misc/accelshare-ctl/device0/"

/* The attribute's value, or UINT64_MAX (after a failure) if unreadable. */
static uint64_t attr(const char *name)
{
	char path[128], text[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), SYSFS_DIR "%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		FAIL("open %s: %s", path, vt_errname(-errno));
		return UINT64_MAX;
	}
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0) {
		FAIL("read %s returned %zd", path, n);
		return UINT64_MAX;
	}
	text[n] = '\0';
	return strtoull(text, NULL, 10);
}

int main(void)
{
	struct ash_device_info dev;
	uint32_t handle;
	uint64_t off;
	int fd;

	vt_init("sysfs_device_attrs", 60);
	dev = vt_dev();
	EXPECT_EQ(attr("mem_capacity"), dev.mem_capacity, "mem_capacity");
	EXPECT_EQ(attr("mem_capacity"), 256 * MiB, "mem_capacity (mem=256M)");
	EXPECT_EQ(attr("mem_used"), 0, "mem_used with nothing allocated");
	EXPECT_EQ(attr("partitions"), 0, "partitions before any is created");

	vt_part_new("sysfs", 64 * MiB, 16 * MiB, VT_ROOT, (gid_t)-1);
	EXPECT_EQ(attr("partitions"), 1, "partitions after a create");
	EXPECT_EQ(attr("mem_min_total"), 16 * MiB, "mem_min_total");
	fd = vt_tenant_open("sysfs");
	REQUIRE(fd >= 0, "root cannot bind to partition sysfs: %s",
		vt_errname(fd));
	EXPECT_EQ(attr("contexts"), 1, "contexts with one bound");
	REQUIRE_OK(vt_buf_alloc(fd, 3 * MiB + 1, &handle, &off), "alloc");
	EXPECT_EQ(attr("mem_used"), 3 * MiB + VT_PAGE, "mem_used in pages");
	close(fd);
	EXPECT_EQ(attr("mem_used"), 0, "mem_used after close");
	EXPECT_EQ(attr("contexts"), 0, "contexts after close");

	EXPECT_ERR(open(SYSFS_DIR "mem_used", O_WRONLY) < 0 ? -errno : 0,
		   -EACCES, "opening an attribute for writing");
	return vt_result();
}
