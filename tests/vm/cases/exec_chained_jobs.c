// SPDX-License-Identifier: MIT
/*
 * ASH_SUBMIT_CHAIN: a chained job whose previous job failed completes with
 * that failure without running (its output is untouched); an unchained job
 * after it runs normally; a chain after a success runs.  This is what lets
 * an operation split into several jobs report a failure of any of them on
 * its last fence.  The tenant is alice (non-root).
 */
#include <string.h>
#include <unistd.h>

#include "vmtest.h"
#include "vtexec.h"

#define PART	"chain"

static int tenant(void *arg)
{
	struct ash_command bad, fill_a, fill_b, fill_c;
	uint64_t f_bad, f_a, f_b, f_c;
	uint32_t h;
	int32_t st;
	uint64_t off;
	uint8_t *m;
	int fd;

	(void)arg;
	fd = vt_tenant_open(PART);
	REQUIRE(fd >= 0, "alice cannot bind: %s", vt_errname(fd));
	REQUIRE_OK(vt_buf_alloc(fd, 3 * VT_PAGE, &h, &off), "alloc");
	m = vt_buf_map(fd, off, 3 * VT_PAGE);
	REQUIRE(m != NULL, "map");

	/* The engine refuses a fill whose length is not a multiple of 4. */
	vx_cmd_fill(&bad, h, 0, 6, 0x11111111);
	vx_cmd_fill(&fill_a, h, 0, VT_PAGE, 0xaaaaaaaa);
	vx_cmd_fill(&fill_b, h, VT_PAGE, VT_PAGE, 0xbbbbbbbb);
	vx_cmd_fill(&fill_c, h, 2 * VT_PAGE, VT_PAGE, 0xcccccccc);
	REQUIRE_OK(vx_submit(fd, &bad, 1, &f_bad), "submit the bad fill");
	REQUIRE_OK(vx_submit_flags(fd, &fill_a, 1, ASH_SUBMIT_CHAIN, &f_a),
		   "submit a fill chained to it");
	REQUIRE_OK(vx_submit(fd, &fill_b, 1, &f_b), "submit an unchained fill");
	REQUIRE_OK(vx_submit_flags(fd, &fill_c, 1, ASH_SUBMIT_CHAIN, &f_c),
		   "submit a fill chained to the good one");

	REQUIRE_OK(vx_wait(fd, f_c, -1, &st), "wait for the last");
	REQUIRE_OK(vx_wait(fd, f_bad, 0, &st), "status of the bad fill");
	EXPECT_EQ(st, -EINVAL, "status of the bad fill");
	REQUIRE_OK(vx_wait(fd, f_a, 0, &st), "status of the chained fill");
	EXPECT_EQ(st, -EINVAL, "status of a job chained to a failure");
	EXPECT_EQ(vt_find_not(m, VT_PAGE, 0), -1,
		  "first byte the skipped chained fill wrote");
	REQUIRE_OK(vx_wait(fd, f_b, 0, &st), "status of the unchained fill");
	EXPECT_EQ(st, 0, "status of an unchained job after a failure");
	EXPECT_EQ(vt_find_not(m + VT_PAGE, VT_PAGE, 0xbb), -1,
		  "first byte the unchained fill missed");
	REQUIRE_OK(vx_wait(fd, f_c, 0, &st), "status of the second chain");
	EXPECT_EQ(st, 0, "status of a job chained to a success");
	EXPECT_EQ(vt_find_not(m + 2 * VT_PAGE, VT_PAGE, 0xcc), -1,
		  "first byte the chained fill missed");
	vt_buf_unmap(m, 3 * VT_PAGE);
	close(fd);
	return vt_result();
}

int main(void)
{
	pid_t engine;

	vt_init("exec_chained_jobs", 120);
	vt_part_new(PART, 16 * MiB, 0, VT_ALICE, (gid_t)-1);
	engine = vx_engine_start(NULL);
	EXPECT_EQ(vt_run_as(VT_ALICE, VT_ORGA, tenant, NULL), 0,
		  "tenant exit status");
	vx_engine_stop(engine, SIGTERM);
	return vt_result();
}
