// SPDX-License-Identifier: MIT
/*
 * Invariant 2, stale mappings.  The driver's documented choice: after
 * ASH_IOC_BUF_FREE the handle is gone at once, but a live mapping keeps the
 * pages and the partition's charge until it is unmapped.
 *
 * Alice maps a 4 MiB buffer, fills it with 0xA5 and frees its handle: the
 * mapping still reads and writes her data, the handle is gone for BUF_INFO
 * and a new mmap, and her partition is still charged (mem_used, nr_buffers).
 * Meanwhile bob allocates, checks for zeros and scribbles 0x5B over 16 MiB
 * in his own partition: none of it shows in alice's mapping, so her pages
 * were not handed to him.  Unmapping (in two halves: the charge stays until
 * the last page goes) returns the charge.  Closing the fd with a buffer still
 * mapped keeps the buffer until munmap too.
 */
#include "vmtest.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define A		"fbm_a"
#define B		"fbm_b"
#define XSZ		(4 * MiB)
#define BOB_CHUNK	(1 * MiB)
#define BOB_TOTAL	(16 * MiB)

struct shared {
	int stage;	/* alice: 1 X freed but mapped, 2 fd closed with Z mapped,
			 * 3 all unmapped */
	int go;		/* parent: 1 bob is done, 2 checked stage 2 */
};

static struct shared *sh;

static struct ash_partition_info tinfo(int fd)
{
	struct ash_partition_info pi;

	memset(&pi, 0, sizeof(pi));
	EXPECT_OK(vt_ioctl(fd, ASH_IOC_PARTITION_INFO, &pi), "tenant PARTITION_INFO");
	return pi;
}

static int alice(void *arg)
{
	struct ash_buf_info bi;
	struct ash_partition_info pi;
	uint32_t hx, hy, hz;
	uint64_t ox, oy, oz;
	uint8_t *x, *y, *z;
	int fd;

	(void)arg;
	fd = vt_tenant_open(A);
	REQUIRE(fd >= 0, "alice bind " A ": got %s", vt_errname(fd));
	REQUIRE_OK(vt_buf_alloc(fd, XSZ, &hx, &ox), "alice alloc 4 MiB");
	x = vt_buf_map(fd, ox, XSZ);
	REQUIRE(x, "alice mmap 4 MiB: %s", vt_errname(-errno));
	vt_fill(x, XSZ, 0xA5);

	EXPECT_OK(vt_buf_free(fd, hx), "BUF_FREE of a mapped buffer");
	EXPECT_ERR(vt_buf_info(fd, hx, &bi), -ENOENT, "BUF_INFO of a freed, mapped handle");
	EXPECT_ERR(vt_buf_free(fd, hx), -ENOENT, "BUF_FREE again of a freed, mapped handle");
	y = mmap(NULL, XSZ, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)ox);
	EXPECT(y == MAP_FAILED, "new mmap of a freed handle's offset (still mapped elsewhere) succeeded");
	if (y != MAP_FAILED)
		munmap(y, XSZ);
	pi = tinfo(fd);
	EXPECT_EQ(pi.mem_used, XSZ, "mem_used with a freed buffer still mapped");
	EXPECT_EQ(pi.nr_buffers, 1, "nr_buffers with a freed buffer still mapped");
	EXPECT_EQ(vt_find_not(x, XSZ, 0xA5), -1,
		  "first byte not 0xA5 in the freed-but-mapped buffer");
	vt_fill(x, VT_PAGE, 0xA6);	/* still writable */

	vt_flag_set(&sh->stage, 1);
	REQUIRE(vt_flag_wait(&sh->go, 1, 60000), "no go 1 from the parent");

	/* Bob's allocations did not take these pages. */
	EXPECT_EQ(vt_find_not(x, VT_PAGE, 0xA6), -1,
		  "first byte not 0xA6 in page 0 after bob's allocations");
	EXPECT_EQ(vt_find_not(x + VT_PAGE, XSZ - VT_PAGE, 0xA5), -1,
		  "first byte not 0xA5 in pages 1.. after bob's allocations");
	vt_buf_unmap(x, XSZ);
	pi = tinfo(fd);
	EXPECT_EQ(pi.mem_used, 0, "mem_used after munmap of the freed buffer");
	EXPECT_EQ(pi.nr_buffers, 0, "nr_buffers after munmap of the freed buffer");

	/* Two mappings' worth in halves: the charge stays until the last. */
	REQUIRE_OK(vt_buf_alloc(fd, 2 * VT_PAGE, &hy, &oy), "alice alloc 2 pages");
	y = vt_buf_map(fd, oy, 2 * VT_PAGE);
	REQUIRE(y, "alice mmap 2 pages: %s", vt_errname(-errno));
	vt_fill(y, 2 * VT_PAGE, 0x11);
	EXPECT_OK(vt_buf_free(fd, hy), "free the 2-page buffer");
	EXPECT_OK(-(munmap(y, VT_PAGE) ? errno : 0), "munmap the first half");
	EXPECT_EQ(tinfo(fd).mem_used, 2 * VT_PAGE, "mem_used with half still mapped");
	EXPECT_EQ(vt_find_not(y + VT_PAGE, VT_PAGE, 0x11), -1,
		  "first byte not 0x11 in the half still mapped");
	vt_buf_unmap(y, 2 * VT_PAGE);	/* the remaining half */
	EXPECT_EQ(tinfo(fd).mem_used, 0, "mem_used after unmapping both halves");

	/* Close the fd with a live mapping; the parent looks; then unmap. */
	REQUIRE_OK(vt_buf_alloc(fd, VT_PAGE, &hz, &oz), "alice alloc 1 page");
	z = vt_buf_map(fd, oz, VT_PAGE);
	REQUIRE(z, "alice mmap 1 page: %s", vt_errname(-errno));
	vt_fill(z, VT_PAGE, 0x77);
	close(fd);
	EXPECT_EQ(vt_find_not(z, VT_PAGE, 0x77), -1,
		  "first byte not 0x77 in a mapping whose fd was closed");
	vt_flag_set(&sh->stage, 2);
	REQUIRE(vt_flag_wait(&sh->go, 2, 30000), "no go 2 from the parent");
	vt_buf_unmap(z, VT_PAGE);
	vt_flag_set(&sh->stage, 3);
	return 0;
}

static int bob(void *arg)
{
	uint64_t done;
	uint32_t h;
	uint64_t off;
	uint8_t *p;
	int fd;

	(void)arg;
	fd = vt_tenant_open(B);
	REQUIRE(fd >= 0, "bob bind " B ": got %s", vt_errname(fd));
	for (done = 0; done < BOB_TOTAL; done += BOB_CHUNK) {
		REQUIRE_OK(vt_buf_alloc(fd, BOB_CHUNK, &h, &off), "bob alloc 1 MiB");
		p = vt_buf_map(fd, off, BOB_CHUNK);
		REQUIRE(p, "bob mmap 1 MiB: %s", vt_errname(-errno));
		EXPECT_EQ(vt_find_not(p, BOB_CHUNK, 0), -1,
			  "first nonzero byte in bob's new buffer");
		vt_fill(p, BOB_CHUNK, 0x5B);
		vt_buf_unmap(p, BOB_CHUNK);
		EXPECT_OK(vt_buf_free(fd, h), "bob free");
	}
	close(fd);
	return 0;
}

int main(void)
{
	struct ash_partition_info pi;
	pid_t a;

	vt_init("isolation_freed_but_mapped", 90);
	sh = vt_shared(sizeof(*sh));
	vt_part_new(A, 32 * MiB, 0, VT_ALICE, (gid_t)-1);
	vt_part_new(B, 32 * MiB, 0, VT_BOB, (gid_t)-1);

	a = vt_spawn_as(VT_ALICE, VT_ORGA, NULL, 0, alice, NULL);
	if (vt_flag_wait(&sh->stage, 1, 60000)) {
		pi = vt_part(A);
		EXPECT_EQ(pi.mem_used, XSZ, A " mem_used (control node) with the freed buffer mapped");
		EXPECT_EQ(pi.nr_buffers, 1, A " nr_buffers (control node) with the freed buffer mapped");
		EXPECT_EQ(vt_dev().mem_used, XSZ, "device mem_used with the freed buffer mapped");
		EXPECT_EQ(vt_run_as(VT_BOB, VT_ORGB, bob, NULL), 0, "bob exit status");
		EXPECT_EQ(vt_part(B).mem_used, 0, B " mem_used after bob");
	} else {
		FAIL("alice did not reach stage 1 in 60 s");
	}
	vt_flag_set(&sh->go, 1);
	if (vt_flag_wait(&sh->stage, 2, 60000)) {
		pi = vt_part(A);
		EXPECT_EQ(pi.mem_used, VT_PAGE,
			  A " mem_used with the fd closed and a buffer still mapped");
	} else {
		FAIL("alice did not reach stage 2 in 60 s");
	}
	vt_flag_set(&sh->go, 2);
	EXPECT(vt_flag_wait(&sh->stage, 3, 30000), "alice did not reach stage 3");
	pi = vt_part(A);
	EXPECT_EQ(pi.mem_used, 0, A " mem_used after the last munmap");
	EXPECT_EQ(pi.nr_buffers, 0, A " nr_buffers after the last munmap");
	EXPECT_EQ(pi.nr_contexts, 0, A " nr_contexts after close and the last munmap");
	EXPECT_EQ(vt_wait(a), 0, "alice exit status");

	EXPECT_OK(vt_part_delete(A), "delete " A);
	EXPECT_OK(vt_part_delete(B), "delete " B);
	EXPECT_EQ(vt_dev().mem_used, 0, "device mem_used at the end");
	return vt_result();
}
