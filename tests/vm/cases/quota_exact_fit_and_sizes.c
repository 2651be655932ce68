// SPDX-License-Identifier: MIT
/*
 * Invariant 1, the edges: charging is in whole pages, a cap of exactly N
 * pages takes exactly N one-page buffers, and sizes outside
 * 1..ASH_BUF_SIZE_MAX are refused with -EINVAL without charging anything.
 * Also max_buffers per context (-EMFILE).  Runs as alice over the raw
 * tenant ioctls (exact handles and sizes) and over libaccelshare.
 */
#include "vmtest.h"

#include <string.h>
#include <unistd.h>

#define PART		"fit"
#define NPAGES		16
#define CAP		(NPAGES * VT_PAGE)
#define PART_LIM	"fewbufs"
#define MAXBUFS		3

/* The tenant's view of its partition (ASH_IOC_PARTITION_INFO). */
static struct ash_partition_info tinfo(int fd)
{
	struct ash_partition_info pi;
	long ret;

	memset(&pi, 0, sizeof(pi));
	ret = vt_ioctl(fd, ASH_IOC_PARTITION_INFO, &pi);
	REQUIRE_OK(ret, "tenant PARTITION_INFO");
	return pi;
}

static int exact_fit(void *arg)
{
	uint32_t h[NPAGES + 1], h1, h2;
	struct ash_buf_info bi;
	struct ash_partition_info pi;
	int fd, i;
	long ret;

	(void)arg;
	fd = vt_tenant_open(PART);
	REQUIRE(fd >= 0, "alice bind " PART ": expected an fd, got %s",
		vt_errname(fd));
	pi = tinfo(fd);
	EXPECT_EQ(pi.mem_max, CAP, "tenant PARTITION_INFO mem_max");
	EXPECT(!strcmp(pi.name, PART), "tenant PARTITION_INFO name: expected "
	       PART ", got %.32s", pi.name);
	EXPECT_EQ(pi.nr_uids, 0, "tenant PARTITION_INFO nr_uids (control node only)");

	/* N one-page buffers fit exactly; the next is -EDQUOT. */
	for (i = 0; i < NPAGES; i++) {
		ret = vt_buf_alloc(fd, VT_PAGE, &h[i], NULL);
		if (!EXPECT_OK(ret, "one-page alloc below an exact cap"))
			break;
		EXPECT(h[i] != 0, "alloc returned handle 0");
	}
	EXPECT_EQ(tinfo(fd).mem_used, CAP, "mem_used with the cap filled");
	EXPECT_ERR(vt_buf_alloc(fd, VT_PAGE, NULL, NULL), -EDQUOT,
		   "one-page alloc at an exact cap");
	EXPECT_ERR(vt_buf_alloc(fd, 1, NULL, NULL), -EDQUOT,
		   "1-byte alloc at an exact cap");
	EXPECT_EQ(tinfo(fd).mem_used, CAP, "mem_used after refused allocs");
	EXPECT_EQ(tinfo(fd).nr_buffers, NPAGES, "nr_buffers after refused allocs");

	/* A 1-byte buffer takes a whole page. */
	EXPECT_OK(vt_buf_free(fd, h[0]), "free one page");
	EXPECT_EQ(tinfo(fd).mem_used, CAP - VT_PAGE, "mem_used after freeing a page");
	EXPECT_OK(vt_buf_alloc(fd, 1, &h1, NULL), "1-byte alloc into a free page");
	EXPECT_EQ(tinfo(fd).mem_used, CAP, "mem_used after a 1-byte alloc (whole page)");
	EXPECT_OK(vt_buf_info(fd, h1, &bi), "BUF_INFO of the 1-byte buffer");
	EXPECT_EQ(bi.size, 1, "BUF_INFO size of the 1-byte buffer (as allocated)");
	EXPECT_ERR(vt_buf_alloc(fd, 1, NULL, NULL), -EDQUOT,
		   "1-byte alloc once the 1-byte buffer took the last page");
	EXPECT_OK(vt_buf_free(fd, h1), "free the 1-byte buffer");

	/* 4097 bytes charge two pages: with one page free it does not fit. */
	EXPECT_ERR(vt_buf_alloc(fd, VT_PAGE + 1, NULL, NULL), -EDQUOT,
		   "4097-byte alloc with one page free");
	EXPECT_OK(vt_buf_free(fd, h[1]), "free a second page");
	EXPECT_OK(vt_buf_alloc(fd, VT_PAGE + 1, &h2, NULL),
		  "4097-byte alloc with two pages free");
	EXPECT_EQ(tinfo(fd).mem_used, CAP, "mem_used after a 4097-byte alloc");
	EXPECT_OK(vt_buf_free(fd, h2), "free the 4097-byte buffer");

	for (i = 2; i < NPAGES; i++)
		EXPECT_OK(vt_buf_free(fd, h[i]), "free a one-page buffer");
	pi = tinfo(fd);
	EXPECT_EQ(pi.mem_used, 0, "mem_used after freeing everything");
	EXPECT_EQ(pi.nr_buffers, 0, "nr_buffers after freeing everything");

	/* Sizes: 0 and > ASH_BUF_SIZE_MAX are malformed, not over quota. */
	EXPECT_ERR(vt_buf_alloc(fd, 0, NULL, NULL), -EINVAL, "alloc size 0");
	EXPECT_ERR(vt_buf_alloc(fd, ASH_BUF_SIZE_MAX + 1, NULL, NULL), -EINVAL,
		   "alloc size ASH_BUF_SIZE_MAX + 1");
	EXPECT_ERR(vt_buf_alloc(fd, ASH_BUF_SIZE_MAX + VT_PAGE, NULL, NULL),
		   -EINVAL, "alloc size ASH_BUF_SIZE_MAX + 4096");
	EXPECT_ERR(vt_buf_alloc(fd, UINT64_MAX, NULL, NULL), -EINVAL,
		   "alloc size UINT64_MAX");
	EXPECT_ERR(vt_buf_alloc(fd, UINT64_MAX - VT_PAGE + 2, NULL, NULL),
		   -EINVAL, "alloc size UINT64_MAX - 4094 (page round-up overflows)");
	EXPECT_ERR(vt_buf_alloc(fd, 1ULL << 63, NULL, NULL), -EINVAL,
		   "alloc size 1 << 63");
	/* The largest valid size is well-formed: refused by the cap. */
	EXPECT_ERR(vt_buf_alloc(fd, ASH_BUF_SIZE_MAX, NULL, NULL), -EDQUOT,
		   "alloc size ASH_BUF_SIZE_MAX (valid, over the cap)");
	EXPECT_ERR(vt_buf_alloc(fd, CAP + 1, NULL, NULL), -EDQUOT,
		   "alloc cap + 1 bytes in an empty partition");
	pi = tinfo(fd);
	EXPECT_EQ(pi.mem_used, 0, "mem_used after refused sizes");
	EXPECT_EQ(pi.nr_buffers, 0, "nr_buffers after refused sizes");

	/* The whole cap in one buffer. */
	EXPECT_OK(vt_buf_alloc(fd, CAP, &h1, NULL), "alloc exactly the cap");
	EXPECT_ERR(vt_buf_alloc(fd, 1, NULL, NULL), -EDQUOT,
		   "1-byte alloc after one buffer took the cap");
	EXPECT_OK(vt_buf_free(fd, h1), "free the cap-sized buffer");
	close(fd);
	return 0;
}

static int lib_sizes(void *arg)
{
	struct ash_partition_stat st;
	struct ash_ctx *ctx;
	struct ash_buf *b = NULL, *b2 = NULL, *no;
	int ret;

	(void)arg;
	ret = ash_open(PART, &ctx);
	REQUIRE_OK(ret, "alice ash_open " PART);
	EXPECT_ERR(ash_alloc(ctx, 0, &no), -EINVAL, "ash_alloc size 0");
	EXPECT_ERR(ash_alloc(ctx, UINT64_MAX, &no), -EINVAL, "ash_alloc size UINT64_MAX");
	EXPECT_ERR(ash_alloc(ctx, CAP + 1, &no), -EDQUOT, "ash_alloc cap + 1");
	ret = ash_alloc(ctx, 1, &b);
	if (EXPECT_OK(ret, "ash_alloc 1 byte")) {
		EXPECT_EQ(ash_buf_size(b), 1, "ash_buf_size of a 1-byte buffer");
		EXPECT_OK(ash_partition_stat(ctx, &st), "ash_partition_stat");
		EXPECT_EQ(st.mem_used, VT_PAGE, "ash_partition_stat mem_used of a 1-byte buffer");
		EXPECT_EQ(st.mem_max, CAP, "ash_partition_stat mem_max");
		EXPECT_EQ(st.nr_buffers, 1, "ash_partition_stat nr_buffers");
		EXPECT_EQ(st.nr_contexts, 1, "ash_partition_stat nr_contexts");
		EXPECT(!strcmp(st.name, PART), "ash_partition_stat name: got %.32s",
		       st.name);
		if (EXPECT_OK(ash_alloc(ctx, CAP - VT_PAGE, &b2),
			      "ash_alloc the rest of the cap")) {
			EXPECT_ERR(ash_alloc(ctx, 1, &no), -EDQUOT,
				   "ash_alloc past the cap");
			ash_free(b2);
		}
		ash_free(b);
	}
	ash_close(ctx);
	return 0;
}

static int max_buffers(void *arg)
{
	uint32_t h[MAXBUFS];
	int fd, i;

	(void)arg;
	fd = vt_tenant_open(PART_LIM);
	REQUIRE(fd >= 0, "alice bind " PART_LIM ": got %s", vt_errname(fd));
	for (i = 0; i < MAXBUFS; i++)
		EXPECT_OK(vt_buf_alloc(fd, VT_PAGE, &h[i], NULL),
			  "alloc within max_buffers");
	EXPECT_ERR(vt_buf_alloc(fd, VT_PAGE, NULL, NULL), -EMFILE,
		   "alloc past max_buffers");
	EXPECT_OK(vt_buf_free(fd, h[0]), "free one buffer");
	EXPECT_OK(vt_buf_alloc(fd, VT_PAGE, &h[0], NULL),
		  "alloc after freeing below max_buffers");
	close(fd);
	return 0;
}

int main(void)
{
	struct ash_partition_params p;
	struct ash_partition_info pi;

	vt_init("quota_exact_fit_and_sizes", 60);
	vt_part_new(PART, CAP, 0, VT_ALICE, (gid_t)-1);

	EXPECT_EQ(vt_run_as(VT_ALICE, VT_ORGA, exact_fit, NULL), 0,
		  "exact-fit tenant exit status");
	EXPECT_EQ(vt_run_as(VT_ALICE, VT_ORGA, lib_sizes, NULL), 0,
		  "libaccelshare tenant exit status");

	vt_params(&p, PART_LIM, 1 * MiB);
	p.max_buffers = MAXBUFS;
	p.nr_uids = 1;
	p.uids[0] = VT_ALICE;
	REQUIRE_OK(vt_part_create(&p), "create " PART_LIM " max_buffers 3");
	pi = vt_part(PART_LIM);
	EXPECT_EQ(pi.max_buffers, MAXBUFS, PART_LIM " max_buffers");
	EXPECT_EQ(vt_run_as(VT_ALICE, VT_ORGA, max_buffers, NULL), 0,
		  "max_buffers tenant exit status");

	pi = vt_part(PART);
	EXPECT_EQ(pi.mem_used, 0, PART " mem_used at the end");
	EXPECT_EQ(pi.nr_buffers, 0, PART " nr_buffers at the end");
	EXPECT_EQ(vt_part(PART_LIM).mem_used, 0, PART_LIM " mem_used at the end");
	EXPECT_OK(vt_part_delete(PART), "delete " PART);
	EXPECT_OK(vt_part_delete(PART_LIM), "delete " PART_LIM);
	EXPECT_EQ(vt_dev().mem_used, 0, "device mem_used at the end");
	return vt_result();
}
