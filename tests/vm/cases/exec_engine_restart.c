// SPDX-License-Identifier: MIT
/*
 * The engine dies mid-job: the job it was running fails with -EIO, the
 * jobs queued behind it wait (no engine: -ETIMEDOUT), device memory and
 * the partition's charge are untouched, and a new engine runs the queued
 * jobs and new ones.  The tenant is alice (non-root).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vmengine.h"

#define PART		"restart"
#define BIG		(128 * MiB)	/* a FILL of this takes a while */
#define SMALL		(1 * MiB)

struct shared {
	int submitted;
	int killed;
	int checked;
	int restarted;
};
static struct shared *sh;

/* The partition's charge, as the tenant sees it. */
static uint64_t mem_used(int fd)
{
	struct ash_partition_info pi;

	memset(&pi, 0, sizeof(pi));
	REQUIRE_OK(vt_ioctl(fd, ASH_IOC_PARTITION_INFO, &pi), "PARTITION_INFO");
	return pi.mem_used;
}

static int tenant(void *arg)
{
	struct ash_command big, small;
	uint64_t f_big, f_small, f_new, used, off_b, off_s;
	uint32_t h_big, h_small;
	uint8_t *map;
	int fd, status;

	(void)arg;
	fd = vt_tenant_open(PART);
	REQUIRE(fd >= 0, "alice cannot bind: %s", vt_errname(fd));
	REQUIRE_OK(vt_buf_alloc(fd, BIG, &h_big, &off_b), "alloc big");
	REQUIRE_OK(vt_buf_alloc(fd, SMALL, &h_small, &off_s), "alloc small");
	map = vt_buf_map(fd, off_s, SMALL);
	REQUIRE(map != NULL, "map small");
	vt_fill(map, SMALL, 0x5a);

	big = vt_cmd_fill(h_big, 0, BIG, 0x11111111);
	small = vt_cmd_fill(h_small, 0, SMALL / 2, 0x22222222);
	REQUIRE_OK(vt_submit(fd, &big, 1, &f_big), "submit big");
	REQUIRE_OK(vt_submit(fd, &small, 1, &f_small), "submit small");
	used = mem_used(fd);
	vt_flag_set(&sh->submitted, 1);

	REQUIRE(vt_flag_wait(&sh->killed, 1, 60000), "no word of the kill");
	REQUIRE_OK(vt_wait_fence(fd, f_big, -1, &status), "wait big");
	EXPECT_EQ(status, -EIO, "status of the job the engine died under");
	EXPECT_ERR(vt_wait_fence(fd, f_small, 200000000, &status), -ETIMEDOUT,
		   "wait for a queued job with no engine");
	EXPECT_EQ(vt_find_not(map, SMALL, 0x5a), -1,
		  "first byte of the small buffer changed before it ran");
	EXPECT_EQ(mem_used(fd), used, "partition mem_used");
	vt_flag_set(&sh->checked, 1);

	REQUIRE(vt_flag_wait(&sh->restarted, 1, 60000), "no new engine");
	REQUIRE_OK(vt_wait_fence(fd, f_small, 30000000000LL, &status),
		   "wait queued job under the new engine");
	EXPECT_EQ(status, 0, "status of the queued job");
	EXPECT_EQ(vt_find_not(map, SMALL / 2, 0x22), -1,
		  "first byte the queued fill did not write");
	EXPECT_EQ(vt_find_not(map + SMALL / 2, SMALL / 2, 0x5a), -1,
		  "first byte past the fill that changed");
	small = vt_cmd_fill(h_small, SMALL / 2, SMALL / 2, 0x33333333);
	REQUIRE_OK(vt_submit(fd, &small, 1, &f_new), "submit new");
	REQUIRE_OK(vt_wait_fence(fd, f_new, 30000000000LL, &status),
		   "wait new job");
	EXPECT_EQ(status, 0, "status of a new job");
	EXPECT_EQ(vt_find_not(map + SMALL / 2, SMALL / 2, 0x33), -1,
		  "first byte the new fill did not write");
	vt_buf_unmap(map, SMALL);
	close(fd);
	return vt_result();
}

int main(void)
{
	struct ash_device_info d;
	pid_t engine, kid;
	int i;

	vt_init("exec_engine_restart", 240);
	sh = vt_shared(sizeof(*sh));
	vt_part_new(PART, 192 * MiB, 0, VT_ALICE, (gid_t)-1);
	engine = vt_engine_start();
	kid = vt_spawn_as(VT_ALICE, VT_ORGA, NULL, 0, tenant, NULL);
	REQUIRE(vt_flag_wait(&sh->submitted, 1, 60000), "tenant never submitted");

	/* Kill the engine once it has taken the big job (one job left). */
	for (i = 0; i < 10000; i++) {
		d = vt_dev();
		if (d.jobs_queued == 1)
			break;
		usleep(1000);
	}
	EXPECT_EQ(d.jobs_queued, 1, "jobs queued while the big job runs");
	vt_engine_kill(engine);
	d = vt_dev();
	EXPECT_EQ(d.has_engine, 0, "has_engine after the engine died");
	vt_flag_set(&sh->killed, 1);

	REQUIRE(vt_flag_wait(&sh->checked, 1, 60000), "tenant never checked");
	EXPECT_EQ(vt_dev().jobs_queued, 1, "jobs queued with no engine");
	engine = vt_engine_start();
	vt_flag_set(&sh->restarted, 1);
	EXPECT_EQ(vt_wait(kid), 0, "tenant exit status");
	EXPECT_EQ(vt_dev().jobs_queued, 0, "jobs queued at the end");
	vt_engine_kill(engine);
	return vt_result();
}
