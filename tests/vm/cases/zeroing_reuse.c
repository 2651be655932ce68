// SPDX-License-Identifier: MIT
/*
 * Invariant 3: memory a tenant receives is zero.
 *
 * Alice (partition zero_a) fills 16 MiB of buffers with 0xA5 and frees them
 * (round 1: ASH_IOC_BUF_FREE and munmap; round 2: she just exits holding
 * them); right after, bob (partition zero_b) allocates the same amount and
 * every byte he maps reads zero.  Within one context, alloc / fill / free /
 * alloc again reads zero too, including the slack of a page-rounded buffer.
 */
#include "vmtest.h"

#include <string.h>
#include <unistd.h>

#define CHUNK		(1 * MiB)
#define TOTAL		(16 * MiB)
#define NCHUNK		((int)(TOTAL / CHUNK))

/* arg: nonzero = free explicitly, zero = exit holding everything. */
static int alice_fill(void *arg)
{
	bool free_them = arg != NULL;
	uint32_t h[NCHUNK];
	uint64_t off;
	void *p;
	int fd, i;

	fd = vt_tenant_open("zero_a");
	REQUIRE(fd >= 0, "alice bind zero_a: got %s", vt_errname(fd));
	for (i = 0; i < NCHUNK; i++) {
		REQUIRE_OK(vt_buf_alloc(fd, CHUNK, &h[i], &off), "alice alloc 1 MiB");
		p = vt_buf_map(fd, off, CHUNK);
		REQUIRE(p, "alice mmap 1 MiB: %s", vt_errname(-errno));
		EXPECT_EQ(vt_find_not(p, CHUNK, 0), -1, "first nonzero byte in alice's new buffer");
		vt_fill(p, CHUNK, 0xA5);
		if (free_them)
			vt_buf_unmap(p, CHUNK);
	}
	if (free_them) {
		for (i = 0; i < NCHUNK; i++)
			EXPECT_OK(vt_buf_free(fd, h[i]), "alice free 1 MiB");
		close(fd);
	}
	return 0;	/* round 2: exit closes and unmaps everything */
}

static int bob_check(void *arg)
{
	uint64_t off;
	uint32_t h;
	char what[96];
	long at;
	void *p;
	int fd, i;

	(void)arg;
	fd = vt_tenant_open("zero_b");
	REQUIRE(fd >= 0, "bob bind zero_b: got %s", vt_errname(fd));
	for (i = 0; i < NCHUNK; i++) {
		REQUIRE_OK(vt_buf_alloc(fd, CHUNK, &h, &off), "bob alloc 1 MiB");
		p = vt_buf_map(fd, off, CHUNK);
		REQUIRE(p, "bob mmap 1 MiB: %s", vt_errname(-errno));
		at = vt_find_not(p, CHUNK, 0);
		snprintf(what, sizeof(what),
			 "bob's buffer %d: first nonzero byte (value %#x)", i,
			 at >= 0 ? ((uint8_t *)p)[at] : 0);
		EXPECT_EQ(at, -1, what);
	}
	close(fd);	/* exit unmaps */
	return 0;
}

static int one_context(void *arg)
{
	uint64_t off;
	uint32_t h;
	char what[96];
	void *p;
	int fd, i;

	(void)arg;
	fd = vt_tenant_open("zero_a");
	REQUIRE(fd >= 0, "alice bind zero_a: got %s", vt_errname(fd));
	for (i = 0; i < 8; i++) {
		REQUIRE_OK(vt_buf_alloc(fd, CHUNK, &h, &off), "alloc 1 MiB");
		p = vt_buf_map(fd, off, CHUNK);
		REQUIRE(p, "mmap 1 MiB: %s", vt_errname(-errno));
		snprintf(what, sizeof(what), "round %d: first nonzero byte of a reallocated buffer", i);
		EXPECT_EQ(vt_find_not(p, CHUNK, 0), -1, what);
		vt_fill(p, CHUNK, (uint8_t)(0xA0 + i));
		vt_buf_unmap(p, CHUNK);
		EXPECT_OK(vt_buf_free(fd, h), "free 1 MiB");
	}
	/* The slack of a 100-byte buffer's page is zero too. */
	for (i = 0; i < 8; i++) {
		REQUIRE_OK(vt_buf_alloc(fd, 100, &h, &off), "alloc 100 bytes");
		p = vt_buf_map(fd, off, VT_PAGE);
		REQUIRE(p, "mmap a 100-byte buffer's page: %s", vt_errname(-errno));
		snprintf(what, sizeof(what), "round %d: first nonzero byte of a 100-byte buffer's page", i);
		EXPECT_EQ(vt_find_not(p, VT_PAGE, 0), -1, what);
		vt_fill(p, VT_PAGE, 0xEE);
		vt_buf_unmap(p, VT_PAGE);
		EXPECT_OK(vt_buf_free(fd, h), "free 100 bytes");
	}
	close(fd);
	return 0;
}

int main(void)
{
	vt_init("zeroing_reuse", 120);
	vt_part_new("zero_a", 2 * TOTAL, 0, VT_ALICE, (gid_t)-1);
	vt_part_new("zero_b", 2 * TOTAL, 0, VT_BOB, (gid_t)-1);

	EXPECT_EQ(vt_run_as(VT_ALICE, VT_ORGA, alice_fill, (void *)1), 0,
		  "round 1: alice (fill, free) exit status");
	EXPECT_EQ(vt_part("zero_a").mem_used, 0, "zero_a mem_used after round 1");
	EXPECT_EQ(vt_run_as(VT_BOB, VT_ORGB, bob_check, NULL), 0,
		  "round 1: bob (check zero) exit status");

	EXPECT_EQ(vt_run_as(VT_ALICE, VT_ORGA, alice_fill, NULL), 0,
		  "round 2: alice (fill, exit holding) exit status");
	EXPECT_EQ(vt_part("zero_a").mem_used, 0, "zero_a mem_used after round 2");
	EXPECT_EQ(vt_run_as(VT_BOB, VT_ORGB, bob_check, NULL), 0,
		  "round 2: bob (check zero) exit status");

	EXPECT_EQ(vt_run_as(VT_ALICE, VT_ORGA, one_context, NULL), 0,
		  "one-context realloc exit status");

	EXPECT_OK(vt_part_delete("zero_a"), "delete zero_a");
	EXPECT_OK(vt_part_delete("zero_b"), "delete zero_b");
	EXPECT_EQ(vt_dev().mem_used, 0, "device mem_used at the end");
	return vt_result();
}
