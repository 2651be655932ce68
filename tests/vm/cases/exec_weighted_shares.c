// SPDX-License-Identifier: MIT
/*
 * Invariant 5: three partitions with weights 1:2:4, one tenant each (alice,
 * non-root), keep the engine saturated with jobs of equal cost.  Over a
 * window that starts once all three are saturating, each partition's share
 * of the engine's busy time (from its busy_ns) must be within 2 percentage
 * points of 1/7, 2/7 and 4/7.  The shares are printed.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vmengine.h"

#define NPART		3
#define BUF_SIZE	(4 * MiB)	/* one FILL of this is one job */
#define IN_FLIGHT	8		/* jobs each tenant keeps queued */
#define WARMUP_MS	500
#define WINDOW_MS	3000

static const char *const names[NPART] = { "w1", "w2", "w4" };
static const uint32_t weights[NPART] = { 100, 200, 400 };

struct shared {
	int ready[NPART];
	int stop;
};
static struct shared *sh;

/* A tenant: keep IN_FLIGHT fills of its buffer queued until told to stop. */
static int tenant(void *arg)
{
	int idx = (int)(intptr_t)arg;
	uint64_t fences[IN_FLIGHT], n = 0;
	struct ash_command cmd;
	uint32_t handle;
	uint64_t off;
	int fd, status;

	fd = vt_tenant_open(names[idx]);
	REQUIRE(fd >= 0, "alice cannot bind to %s: %s", names[idx],
		vt_errname(fd));
	REQUIRE_OK(vt_buf_alloc(fd, BUF_SIZE, &handle, &off), "alloc");
	cmd = vt_cmd_fill(handle, 0, BUF_SIZE, 0x01010101U * (idx + 1));
	while (!vt_flag_get(&sh->stop)) {
		if (n >= IN_FLIGHT) {
			REQUIRE_OK(vt_wait_fence(fd, fences[n % IN_FLIGHT], -1,
						 &status), "wait");
			REQUIRE_EQ(status, 0, "fill job status");
			vt_flag_set(&sh->ready[idx], 1);
		}
		REQUIRE_OK(vt_submit(fd, &cmd, 1, &fences[n % IN_FLIGHT]),
			   "submit");
		n++;
	}
	close(fd);
	return 0;
}

static void busy(uint64_t out[NPART])
{
	int i;

	for (i = 0; i < NPART; i++)
		out[i] = vt_part(names[i]).busy_ns;
}

int main(void)
{
	uint64_t before[NPART], after[NPART], total = 0;
	struct ash_partition_params p;
	pid_t kids[NPART], engine;
	double share, want;
	int i;

	vt_init("exec_weighted_shares", 240);
	sh = vt_shared(sizeof(*sh));
	for (i = 0; i < NPART; i++) {
		vt_params(&p, names[i], 16 * MiB);
		p.weight = weights[i];
		p.nr_uids = 1;
		p.uids[0] = VT_ALICE;
		REQUIRE_OK(vt_part_create(&p), "create partition");
	}
	engine = vt_engine_start();
	for (i = 0; i < NPART; i++)
		kids[i] = vt_spawn_as(VT_ALICE, VT_ORGA, NULL, 0, tenant,
				      (void *)(intptr_t)i);
	for (i = 0; i < NPART; i++)
		REQUIRE(vt_flag_wait(&sh->ready[i], 1, 60000),
			"tenant of %s never got a job through", names[i]);

	usleep(WARMUP_MS * 1000);
	busy(before);
	usleep(WINDOW_MS * 1000);
	busy(after);
	vt_flag_set(&sh->stop, 1);
	for (i = 0; i < NPART; i++)
		EXPECT_EQ(vt_wait(kids[i]), 0, "tenant exit status");
	vt_engine_kill(engine);

	for (i = 0; i < NPART; i++)
		total += after[i] - before[i];
	REQUIRE(total > 0, "no busy time in the window");
	printf("shares over %d ms of saturation (busy %.3f s):", WINDOW_MS,
	       total / 1e9);
	for (i = 0; i < NPART; i++)
		printf(" %s %.2f%% (want %.2f%%)", names[i],
		       100.0 * (after[i] - before[i]) / total,
		       100.0 * weights[i] / 700);
	printf("\n");
	for (i = 0; i < NPART; i++) {
		share = (double)(after[i] - before[i]) / total;
		want = weights[i] / 700.0;
		EXPECT(share > want - 0.02 && share < want + 0.02,
		       "%s's share %.2f%% is not within 2 points of %.2f%%",
		       names[i], 100 * share, 100 * want);
	}
	return vt_result();
}
