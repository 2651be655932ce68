// SPDX-License-Identifier: MIT
/*
 * Guarantees (mem_min) and the device limit.
 *
 * "guar" has min = max = 64 MiB; "open" has no guarantee and a cap of the
 * whole device; "small" has a 16 MiB cap and no guarantee.  Alice fills
 * "open": she gets capacity - 64 MiB, then -ENOSPC (the device, not her
 * cap).  "guar" can still take all of its 64 MiB, after which the device is
 * full and "small" gets -ENOSPC although it is far below its own cap.  A
 * guarantee is accepted only while it is free (create and set: -ENOSPC), and
 * the sum of guarantees never exceeds the capacity.
 */
#include "vmtest.h"

#include <string.h>
#include <unistd.h>

#define GUAR		"guar"
#define OPEN		"open"
#define SMALL		"small"
#define GUAR_MIN	(64 * MiB)
#define CHUNK		(16 * MiB)
#define MAXBUFS		64

struct shared {
	uint64_t capacity;
	int stage;	/* child: 1 "open" full, 2 "guar" full too */
	int go;		/* parent: continue past stage n */
};

static struct shared *sh;

/* Allocate CHUNK buffers on @fd until one fails; the error, the bytes and
 * the handles got. */
static long fill(int fd, uint32_t *h, int *n, uint64_t *bytes)
{
	long ret;

	for (;;) {
		if (*n == MAXBUFS)
			return -E2BIG;	/* cannot be: more than the device */
		ret = vt_buf_alloc(fd, CHUNK, &h[*n], NULL);
		if (ret)
			return ret;
		(*n)++;
		*bytes += CHUNK;
	}
}

static int tenant(void *arg)
{
	uint64_t cap = sh->capacity, open_bytes = 0, guar_bytes = 0;
	uint32_t ho[MAXBUFS], hg[MAXBUFS];
	int fo, fg, fs, no = 0, ng = 0, i;
	long ret;

	(void)arg;
	fo = vt_tenant_open(OPEN);
	fg = vt_tenant_open(GUAR);
	fs = vt_tenant_open(SMALL);
	REQUIRE(fo >= 0 && fg >= 0 && fs >= 0,
		"alice bind open/guar/small: got %s/%s/%s", vt_errname(fo),
		vt_errname(fg), vt_errname(fs));

	/* "open" stops where only guar's guarantee is left. */
	ret = fill(fo, ho, &no, &open_bytes);
	EXPECT_ERR(ret, -ENOSPC, "filling " OPEN " (cap = device) in 16 MiB buffers");
	EXPECT_EQ(open_bytes, cap - GUAR_MIN,
		  OPEN " got capacity - guar's 64 MiB guarantee");
	EXPECT_ERR(vt_buf_alloc(fo, VT_PAGE, NULL, NULL), -ENOSPC,
		   "one page in " OPEN " once only the guarantee is left");
	vt_flag_set(&sh->stage, 1);
	REQUIRE(vt_flag_wait(&sh->go, 1, 30000), "no go 1 from the parent");

	/* "guar" still gets all of its guarantee. */
	ret = fill(fg, hg, &ng, &guar_bytes);
	EXPECT_ERR(ret, -EDQUOT, "filling " GUAR " in 16 MiB buffers (its own cap)");
	EXPECT_EQ(guar_bytes, GUAR_MIN, GUAR " got its whole guarantee");
	EXPECT_ERR(vt_buf_alloc(fs, VT_PAGE, NULL, NULL), -ENOSPC,
		   "one page in " SMALL " (below its cap) with the device full");
	EXPECT_ERR(vt_buf_alloc(fo, VT_PAGE, NULL, NULL), -ENOSPC,
		   "one page in " OPEN " with the device full");
	vt_flag_set(&sh->stage, 2);
	REQUIRE(vt_flag_wait(&sh->go, 2, 30000), "no go 2 from the parent");

	/* Memory that "open" frees is free for "small" and "open" again. */
	if (no > 0) {
		EXPECT_OK(vt_buf_free(fo, ho[--no]), "free 16 MiB of " OPEN);
		EXPECT_OK(vt_buf_alloc(fs, VT_PAGE, NULL, NULL),
			  "one page in " SMALL " after " OPEN " freed 16 MiB");
		EXPECT_OK(vt_buf_alloc(fo, CHUNK - VT_PAGE, NULL, NULL),
			  "the rest of the freed 16 MiB in " OPEN);
		EXPECT_ERR(vt_buf_alloc(fo, VT_PAGE, NULL, NULL), -ENOSPC,
			   "one page in " OPEN " with the device full again");
	}
	/* Freeing "guar" makes its guarantee reserved again, not free. */
	for (i = 0; i < ng; i++)
		EXPECT_OK(vt_buf_free(fg, hg[i]), "free a " GUAR " buffer");
	EXPECT_ERR(vt_buf_alloc(fo, VT_PAGE, NULL, NULL), -ENOSPC,
		   "one page in " OPEN " after " GUAR " freed (its guarantee is reserved)");
	close(fo);
	close(fg);
	close(fs);
	return 0;
}

int main(void)
{
	struct ash_partition_params p;
	struct ash_device_info di;
	struct vt_snap snap;
	uint64_t cap;
	pid_t pid;

	vt_init("quota_min_guarantee", 120);
	sh = vt_shared(sizeof(*sh));
	di = vt_dev();
	cap = di.mem_capacity;
	if (cap < 4 * GUAR_MIN || cap % CHUNK) {
		printf("SKIP: device capacity %llu is not a multiple of 16 MiB >= 256 MiB\n",
		       (unsigned long long)cap);
		return VT_SKIP;
	}
	sh->capacity = cap;
	EXPECT_EQ(di.mem_min_total, 0, "device mem_min_total at start");

	vt_part_new(GUAR, GUAR_MIN, GUAR_MIN, VT_ALICE, (gid_t)-1);
	EXPECT_EQ(vt_dev().mem_min_total, GUAR_MIN, "device mem_min_total with " GUAR);
	EXPECT_EQ(vt_part(GUAR).mem_min, GUAR_MIN, GUAR " mem_min");

	/* A guarantee that does not fit beside guar's. */
	vt_snap_take(&snap);
	vt_params(&p, "toomuch", cap);
	p.mem_min = cap - GUAR_MIN + VT_PAGE;
	EXPECT_ERR(vt_part_create(&p), -ENOSPC,
		   "create with min = capacity - 64 MiB + 4096 beside a 64 MiB guarantee");
	vt_snap_expect_same(&snap, "after a refused guarantee");

	vt_part_new(OPEN, cap, 0, VT_ALICE, (gid_t)-1);
	vt_part_new(SMALL, CHUNK, 0, VT_ALICE, (gid_t)-1);

	pid = vt_spawn_as(VT_ALICE, VT_ORGA, NULL, 0, tenant, NULL);
	if (vt_flag_wait(&sh->stage, 1, 60000)) {
		di = vt_dev();
		EXPECT_EQ(di.mem_used, cap - GUAR_MIN, "device mem_used with " OPEN " full");
		EXPECT_EQ(vt_part(OPEN).mem_used, cap - GUAR_MIN, OPEN " mem_used");
		/* Nothing is free now: no new guarantee, however small. */
		vt_snap_take(&snap);
		vt_params(&p, "late", CHUNK);
		p.mem_min = VT_PAGE;
		EXPECT_ERR(vt_part_create(&p), -ENOSPC,
			   "create with a 4096-byte guarantee while nothing is free");
		vt_params(&p, SMALL, CHUNK);
		p.flags = ASH_PART_SET_MEM_MIN;
		p.mem_min = VT_PAGE;
		EXPECT_ERR(vt_part_set(&p), -ENOSPC,
			   "set a 4096-byte guarantee on " SMALL " while nothing is free");
		vt_snap_expect_same(&snap, "after refused guarantees on a full device");
	} else {
		FAIL("tenant did not reach stage 1 (" OPEN " full) in 60 s");
	}
	vt_flag_set(&sh->go, 1);
	if (vt_flag_wait(&sh->stage, 2, 60000)) {
		di = vt_dev();
		EXPECT_EQ(di.mem_used, cap, "device mem_used with " OPEN " and " GUAR " full");
		EXPECT_LE(di.mem_used, di.mem_capacity, "device mem_used vs capacity");
		EXPECT_EQ(vt_part(GUAR).mem_used, GUAR_MIN, GUAR " mem_used");
	} else {
		FAIL("tenant did not reach stage 2 (" GUAR " full) in 60 s");
	}
	vt_flag_set(&sh->go, 2);
	EXPECT_EQ(vt_wait(pid), 0, "tenant exit status");

	di = vt_dev();
	EXPECT_EQ(di.mem_used, 0, "device mem_used after the tenant exited");

	/* Guarantees by PART_SET: the sum may reach the capacity, not pass it. */
	vt_params(&p, OPEN, cap);
	p.flags = ASH_PART_SET_MEM_MIN;
	p.mem_min = cap - GUAR_MIN + VT_PAGE;
	EXPECT_ERR(vt_part_set(&p), -ENOSPC,
		   "set " OPEN " min so that the sum of mins passes the capacity");
	EXPECT_EQ(vt_part(OPEN).mem_min, 0, OPEN " mem_min after a refused set");
	p.mem_min = cap - GUAR_MIN;
	EXPECT_OK(vt_part_set(&p), "set " OPEN " min so that the mins sum to the capacity");
	EXPECT_EQ(vt_dev().mem_min_total, cap, "device mem_min_total = capacity");
	vt_params(&p, "late", CHUNK);
	p.mem_min = VT_PAGE;
	EXPECT_ERR(vt_part_create(&p), -ENOSPC,
		   "create with a guarantee when the mins sum to the capacity");
	p.mem_min = 0;
	EXPECT_OK(vt_part_create(&p), "create without a guarantee when the mins sum to the capacity");
	EXPECT_OK(vt_part_delete("late"), "delete late");

	EXPECT_OK(vt_part_delete(OPEN), "delete " OPEN);
	EXPECT_EQ(vt_dev().mem_min_total, GUAR_MIN, "device mem_min_total after deleting " OPEN);
	EXPECT_OK(vt_part_delete(GUAR), "delete " GUAR);
	EXPECT_OK(vt_part_delete(SMALL), "delete " SMALL);
	EXPECT_EQ(vt_dev().mem_min_total, 0, "device mem_min_total at the end");
	return vt_result();
}
