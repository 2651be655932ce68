// SPDX-License-Identifier: MIT
/*
 * Invariant 2: a tenant reaches only its own context's buffers.
 *
 * Alice (partition iso_a) holds six buffers full of 0xA5 and publishes their
 * handles and mmap offsets.  Bob (partition iso_b) tries each of them on his
 * own fd: BUF_INFO and BUF_FREE are -ENOENT, mmap of the offset fails.  A
 * second context of alice's own, on the same partition, cannot reach them
 * either.  On his own buffer bob sees that the offset is handle << 40, that a
 * mapping larger than the buffer, a MAP_PRIVATE mapping and offsets of no
 * buffer fail, and that a freed handle is gone for BUF_INFO, BUF_FREE and
 * mmap.  Alice's buffers and data come out untouched.
 */
#include "vmtest.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define NBUF		6
#define BUFSZ		(2 * VT_PAGE)

struct shared {
	uint32_t handle[NBUF];
	uint64_t offset[NBUF];
	int stage;	/* alice: 1 published */
	int go;		/* parent: 1 bob is done */
};

static struct shared *sh;

/* mmap that must fail: true if it did (and says why not otherwise). */
static bool expect_no_map(int fd, uint64_t off, uint64_t len, int flags,
			  const char *what)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, fd, (off_t)off);

	if (p == MAP_FAILED)
		return true;
	FAIL("%s: mmap(len %llu, offset %#llx) succeeded, expected it to fail",
	     what, (unsigned long long)len, (unsigned long long)off);
	munmap(p, len);
	return false;
}

/* Try every handle of alice's on @fd, except @own (a handle @fd has). */
static int try_alices(int fd, uint32_t own, const char *who)
{
	struct ash_buf_info bi;
	char what[128];
	int i, tried = 0;

	for (i = 0; i < NBUF; i++) {
		uint32_t h = sh->handle[i];

		if (h == own)
			continue;	/* the same number names our own buffer */
		tried++;
		snprintf(what, sizeof(what), "%s: BUF_INFO of alice's handle %u", who, h);
		EXPECT_ERR(vt_buf_info(fd, h, &bi), -ENOENT, what);
		snprintf(what, sizeof(what), "%s: BUF_FREE of alice's handle %u", who, h);
		EXPECT_ERR(vt_buf_free(fd, h), -ENOENT, what);
		snprintf(what, sizeof(what), "%s: mmap of alice's offset (handle %u)", who, h);
		expect_no_map(fd, sh->offset[i], BUFSZ, MAP_SHARED, what);
		expect_no_map(fd, (uint64_t)h << ASH_MMAP_SHIFT, VT_PAGE,
			      MAP_SHARED, what);
	}
	return tried;
}

static int bob(void *arg)
{
	struct ash_buf_info bi;
	uint32_t h, h1;
	uint64_t off, off1;
	int fd, tried;
	void *p;

	(void)arg;
	EXPECT_ERR(vt_tenant_open("iso_a"), -EACCES, "bob binds alice's partition");
	fd = vt_tenant_open("iso_b");
	REQUIRE(fd >= 0, "bob bind iso_b: got %s", vt_errname(fd));
	REQUIRE_OK(vt_buf_alloc(fd, BUFSZ, &h, &off), "bob alloc 8 KiB");
	EXPECT_EQ(off, (uint64_t)h << ASH_MMAP_SHIFT, "mmap_offset = handle << 40");

	tried = try_alices(fd, h, "bob");
	EXPECT(tried >= NBUF - 1, "bob tried only %d of alice's handles", tried);

	/* His own buffer: exactly its size, shared only. */
	p = vt_buf_map(fd, off, BUFSZ);
	if (EXPECT(p != NULL, "bob mmap own buffer: %s", vt_errname(-errno))) {
		EXPECT_EQ(vt_find_not(p, BUFSZ, 0), -1, "first nonzero byte of a new buffer");
		vt_fill(p, BUFSZ, 0x5B);
		vt_buf_unmap(p, BUFSZ);
	}
	expect_no_map(fd, off, BUFSZ + VT_PAGE, MAP_SHARED,
		      "mmap one page past the buffer's end");
	expect_no_map(fd, off, 64 * MiB, MAP_SHARED, "mmap 64 MiB of an 8 KiB buffer");
	errno = 0;
	expect_no_map(fd, off, BUFSZ, MAP_PRIVATE, "MAP_PRIVATE of own buffer");
	EXPECT_ERR(-errno, -EINVAL, "errno of a MAP_PRIVATE mmap");
	expect_no_map(fd, 0, VT_PAGE, MAP_SHARED, "mmap offset 0 (no handle 0)");
	expect_no_map(fd, (uint64_t)(h + 1000) << ASH_MMAP_SHIFT, VT_PAGE,
		      MAP_SHARED, "mmap of a handle never allocated");
	expect_no_map(fd, off + BUFSZ, VT_PAGE, MAP_SHARED,
		      "mmap at the page after the buffer's end");

	/* A 1-byte buffer maps as one page, no more. */
	if (EXPECT_OK(vt_buf_alloc(fd, 1, &h1, &off1), "bob alloc 1 byte")) {
		p = vt_buf_map(fd, off1, VT_PAGE);
		EXPECT(p != NULL, "mmap one page of a 1-byte buffer: %s",
		       vt_errname(-errno));
		if (p)
			vt_buf_unmap(p, VT_PAGE);
		expect_no_map(fd, off1, 2 * VT_PAGE, MAP_SHARED,
			      "mmap two pages of a 1-byte buffer");
		EXPECT_OK(vt_buf_free(fd, h1), "free the 1-byte buffer");
	}

	/* After free the handle is gone everywhere. */
	EXPECT_OK(vt_buf_free(fd, h), "bob free own buffer");
	EXPECT_ERR(vt_buf_info(fd, h, &bi), -ENOENT, "BUF_INFO of a freed handle");
	EXPECT_ERR(vt_buf_free(fd, h), -ENOENT, "BUF_FREE twice");
	expect_no_map(fd, off, BUFSZ, MAP_SHARED, "mmap of a freed handle's offset");
	EXPECT_ERR(vt_buf_free(fd, 0), -ENOENT, "BUF_FREE of handle 0");
	EXPECT_ERR(vt_buf_info(fd, UINT32_MAX, &bi), -ENOENT, "BUF_INFO of handle 0xffffffff");
	close(fd);
	return 0;
}

static int alice(void *arg)
{
	struct ash_partition_info pi;
	struct ash_buf_info bi;
	void *map[NBUF];
	int fd, fd2, i;
	uint32_t h2;

	(void)arg;
	fd = vt_tenant_open("iso_a");
	REQUIRE(fd >= 0, "alice bind iso_a: got %s", vt_errname(fd));
	for (i = 0; i < NBUF; i++) {
		REQUIRE_OK(vt_buf_alloc(fd, BUFSZ, &sh->handle[i], &sh->offset[i]),
			   "alice alloc 8 KiB");
		map[i] = vt_buf_map(fd, sh->offset[i], BUFSZ);
		REQUIRE(map[i], "alice mmap own buffer: %s", vt_errname(-errno));
		vt_fill(map[i], BUFSZ, 0xA5);
	}

	/* Her own second context is another handle table. */
	fd2 = vt_tenant_open("iso_a");
	REQUIRE(fd2 >= 0, "alice second bind iso_a: got %s", vt_errname(fd2));
	REQUIRE_OK(vt_buf_alloc(fd2, VT_PAGE, &h2, NULL), "alice alloc in context 2");
	EXPECT(try_alices(fd2, h2, "alice's 2nd context") >= NBUF - 1,
	       "too few handles tried from alice's 2nd context");
	close(fd2);

	vt_flag_set(&sh->stage, 1);
	REQUIRE(vt_flag_wait(&sh->go, 1, 30000), "no go from the parent");

	for (i = 0; i < NBUF; i++) {
		EXPECT_OK(vt_buf_info(fd, sh->handle[i], &bi),
			  "alice BUF_INFO of her buffer after bob's tries");
		EXPECT_EQ(bi.size, BUFSZ, "size of alice's buffer");
		EXPECT_EQ(bi.mmap_offset, sh->offset[i], "mmap_offset of alice's buffer");
		EXPECT_EQ(vt_find_not(map[i], BUFSZ, 0xA5), -1,
			  "first byte of alice's buffer that is not 0xA5");
	}
	memset(&pi, 0, sizeof(pi));
	EXPECT_OK(vt_ioctl(fd, ASH_IOC_PARTITION_INFO, &pi), "alice PARTITION_INFO");
	EXPECT_EQ(pi.nr_buffers, NBUF, "iso_a nr_buffers after bob's tries");
	EXPECT_EQ(pi.mem_used, NBUF * BUFSZ, "iso_a mem_used after bob's tries");
	for (i = 0; i < NBUF; i++)
		vt_buf_unmap(map[i], BUFSZ);
	close(fd);
	return 0;
}

int main(void)
{
	pid_t a;

	vt_init("isolation_handles_mmap", 60);
	sh = vt_shared(sizeof(*sh));
	vt_part_new("iso_a", 4 * MiB, 0, VT_ALICE, (gid_t)-1);
	vt_part_new("iso_b", 4 * MiB, 0, VT_BOB, (gid_t)-1);

	a = vt_spawn_as(VT_ALICE, VT_ORGA, NULL, 0, alice, NULL);
	if (vt_flag_wait(&sh->stage, 1, 30000))
		EXPECT_EQ(vt_run_as(VT_BOB, VT_ORGB, bob, NULL), 0, "bob exit status");
	else
		FAIL("alice did not publish her buffers in 30 s");
	EXPECT_EQ(vt_part("iso_b").mem_used, 0, "iso_b mem_used after bob exited");
	vt_flag_set(&sh->go, 1);
	EXPECT_EQ(vt_wait(a), 0, "alice exit status");

	EXPECT_EQ(vt_part("iso_a").mem_used, 0, "iso_a mem_used at the end");
	EXPECT_OK(vt_part_delete("iso_a"), "delete iso_a");
	EXPECT_OK(vt_part_delete("iso_b"), "delete iso_b");
	EXPECT_EQ(vt_dev().mem_used, 0, "device mem_used at the end");
	return vt_result();
}
