/* SPDX-License-Identifier: MIT */
/*
 * The CPU backend's device memory, for a device the engine registers: a
 * memfd, mapped shared.  Its descriptor goes to the driver, which holds it
 * while the device exists, so the memory outlives the engine and the next
 * engine maps the same pages back (ASH_REGISTER_KEPT).
 *
 * The whole capacity is allocated when the memory is created
 * (fallocate), as a GPU's is: the capacity the driver hands out is memory
 * that exists, a job never stalls or dies faulting in a page the host
 * does not have, and a job costs the same the first time a range is used
 * as the next (first-touch costs would otherwise be charged to whichever
 * tenant touched a page first).  A fresh memfd is zero; scrubs zero with
 * memset and keep the pages.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpu.h"

static int map_fd(struct ash_backend_mem *m, int fd, uint64_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_POPULATE, fd, 0);

	if (p == MAP_FAILED)
		return -errno;
	m->base = p;
	m->size = size;
	m->fd = fd;
	return 0;
}

int ash_cpu_mem_create(struct ash_backend_mem *m, const char *name,
			  uint64_t size)
{
	char label[64];
	int fd, ret;

	snprintf(label, sizeof(label), "accelshare:%s", name);
	fd = memfd_create(label, MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) || fallocate(fd, 0, 0, (off_t)size)) {
		ret = -errno;
		goto err;
	}
	ret = map_fd(m, fd, size);
	if (ret)
		goto err;
	return 0;
err:
	close(fd);
	return ret;
}

/* @fd stays the caller's; the memory keeps a descriptor of its own. */
int ash_cpu_mem_import(struct ash_backend_mem *m, int fd, uint64_t size)
{
	struct stat st;
	int own, ret;

	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size < size)
		return -EINVAL;
	own = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (own < 0)
		return -errno;
	ret = map_fd(m, own, size);
	if (ret)
		close(own);
	return ret;
}

void ash_cpu_mem_close(struct ash_backend_mem *m)
{
	if (m->base)
		munmap(m->base, m->size);
	if (m->fd >= 0)
		close(m->fd);
	m->base = NULL;
	m->fd = -1;
}

int ash_cpu_scrub(struct ash_backend_mem *m, uint64_t off, uint64_t len)
{
	if (off > m->size || len > m->size - off)
		return -EFAULT;
	memset(m->base + off, 0, len);
	return 0;
}
