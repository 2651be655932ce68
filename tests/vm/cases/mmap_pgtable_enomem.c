// SPDX-License-Identifier: MIT
/*
 * Regression (found by fault_injection): mmap of a buffer failed with
 * EFAULT, an errno mmap(2) does not have, when the kernel had no memory for
 * a page table: vm_insert_pages() reports a PMD or PUD table it cannot
 * allocate as -EFAULT, and ash_buffer_mmap() passed that on.  It must be
 * ENOMEM.
 *
 * Debug kernel only (fault injection); skips elsewhere.  The buffer is
 * mapped at the start of an otherwise empty GiB of address space, so that
 * every mmap needs new page tables; each allocation the mmap makes is
 * failed in turn (/proc/thread-self/fail-nth), and every failure must be
 * ENOMEM and leave the partition's usage as it was.  The injections are
 * quiet (verbose=0): nothing reaches the kernel log.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmtest.h"

#define PART		"pgtable"
#define LEN		(64 * KiB)
#define FAILSLAB	"/sys/kernel/debug/failslab"
#define FAILPAGE	"/sys/kernel/debug/fail_page_alloc"

static const char *const knobs[][2] = {
	{ FAILSLAB "/ignore-gfp-wait", "N" },
	{ FAILSLAB "/verbose", "0" },
	{ FAILPAGE "/ignore-gfp-wait", "N" },
	{ FAILPAGE "/ignore-gfp-highmem", "N" },
	{ FAILPAGE "/min-order", "0" },
	{ FAILPAGE "/verbose", "0" },
};
#define NKNOBS	(sizeof(knobs) / sizeof(knobs[0]))
static char saved[NKNOBS][32];
static int nth_fd = -1;

static int knob(const char *path, char *old, size_t oldlen, const char *val)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	ssize_t n = 0;

	if (fd < 0)
		return -1;
	if (old) {
		n = read(fd, old, oldlen - 1);
		old[n > 0 ? n : 0] = 0;
		if (n > 0 && old[n - 1] == '\n')
			old[n - 1] = 0;
	}
	if (val && write(fd, val, strlen(val)) < 0)
		n = -1;
	close(fd);
	return n < 0 ? -1 : 0;
}

static void restore(void)
{
	size_t i;

	for (i = 0; i < NKNOBS; i++)
		if (saved[i][0])
			knob(knobs[i][0], NULL, 0, saved[i]);
}

int main(void)
{
	uint8_t *at, *p;
	uint64_t off;
	uint32_t h;
	unsigned int n, failed = 0;
	char buf[16];
	size_t i;
	int fd, err;
	void *r;

	vt_init("mmap_pgtable_enomem", 120);
	nth_fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	if (nth_fd < 0 || access(FAILSLAB, F_OK) || access(FAILPAGE, F_OK)) {
		printf("SKIP: no fault injection in this kernel\n");
		return VT_SKIP;
	}
	for (i = 0; i < NKNOBS; i++) {
		REQUIRE(!knob(knobs[i][0], saved[i], sizeof(saved[i]), NULL),
			"read %s", knobs[i][0]);
	}
	atexit(restore);
	for (i = 0; i < NKNOBS; i++)
		REQUIRE(!knob(knobs[i][0], NULL, 0, knobs[i][1]), "set %s",
			knobs[i][0]);

	vt_part_new(PART, 16 * MiB, 0, (uid_t)-1, (gid_t)-1);
	fd = vt_tenant_open(PART);
	REQUIRE(fd >= 0, "bind: %s", vt_errname(fd));
	REQUIRE_OK(vt_buf_alloc(fd, LEN, &h, &off), "alloc");
	r = mmap(NULL, 3ULL << 30, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	REQUIRE(r != MAP_FAILED, "reserve address space");
	at = (uint8_t *)(((uintptr_t)r + (1ULL << 30) - 1) &
			 ~((uintptr_t)(1ULL << 30) - 1));
	munmap(r, 3ULL << 30);
	mlockall(MCL_CURRENT);

	for (n = 1; n < 500; n++) {
		uint64_t used = vt_part(PART).mem_used;
		int len = snprintf(buf, sizeof(buf), "%u", n);

		REQUIRE(pwrite(nth_fd, buf, len, 0) == len, "arm fail-nth");
		p = mmap(at, LEN, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED_NOREPLACE, fd, (off_t)off);
		err = p == MAP_FAILED ? errno : 0;
		memset(buf, 0, sizeof(buf));
		REQUIRE(pread(nth_fd, buf, sizeof(buf) - 1, 0) > 0 &&
			pwrite(nth_fd, "0", 1, 0) == 1, "read fail-nth");
		if (strtoul(buf, NULL, 10) != 0) {
			/* Nothing left to fail: it must have worked. */
			REQUIRE(!err, "mmap with no failure injected: %s",
				strerror(err));
			munmap(p, LEN);
			break;
		}
		if (!err) {
			munmap(p, LEN);
			continue;
		}
		failed++;
		EXPECT(err == ENOMEM,
		       "mmap, allocation %u failed: expected ENOMEM, got %s",
		       n, vt_errname(-err));
		EXPECT_EQ(vt_part(PART).mem_used, used,
			  "partition mem_used after a failed mmap");
	}
	printf("%u allocations of an mmap failed in turn, %u of them failed the mmap\n",
	       n - 1, failed);
	EXPECT(failed > 0, "no injected failure failed the mmap");
	restore();
	close(fd);
	return vt_result();
}
