// SPDX-License-Identifier: MIT
/*
 * Invariant 7: admin operations never need the device idle.
 *
 * While alice holds 6 MiB in partition "live" (made with ashctl): lowering
 * mem_max to 4 MiB succeeds; her next alloc is -EDQUOT; her buffers keep
 * working; freeing brings her under the cap and allocs work up to it again;
 * `ashctl partition set` raises the cap and changes the weight, and
 * `ashctl partition list --json` shows the partition with its mem_used; an
 * ACL change takes effect for new binds while her bound context keeps
 * working; deleting the partition (ioctl and ashctl) is -EBUSY / fails while
 * contexts are bound, and succeeds once they are gone.
 */
#include "vmtest.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PART	"live"
#define NBUF	6

struct shared {
	int stage;	/* alice: 1 holds 6 MiB; 2 at 4 MiB under the lowered cap;
			 * 3 holds 12 MiB under the raised cap; 4 done */
	int go;		/* parent: 1 cap lowered; 2 cap raised; 3 ACL changed */
};

static struct shared *sh;

static int wait_go(int n)
{
	if (!vt_flag_wait(&sh->go, n, 60000)) {
		FAIL("no go %d from the parent in 60 s", n);
		vt_bail();
	}
	return 0;
}

static int alice(void *arg)
{
	struct ash_partition_info pi;
	struct ash_buf_info bi;
	uint32_t h[NBUF], hb, hp;
	uint64_t off;
	uint8_t *p;
	int fd, i;

	(void)arg;
	fd = vt_tenant_open(PART);
	REQUIRE(fd >= 0, "alice bind " PART ": got %s", vt_errname(fd));
	for (i = 0; i < NBUF; i++)
		REQUIRE_OK(vt_buf_alloc(fd, 1 * MiB, &h[i], i == 0 ? &off : NULL),
			   "alice alloc 1 MiB");
	p = vt_buf_map(fd, off, 1 * MiB);
	REQUIRE(p, "alice mmap 1 MiB: %s", vt_errname(-errno));
	vt_fill(p, 1 * MiB, 0x3C);
	vt_flag_set(&sh->stage, 1);
	wait_go(1);

	/* Cap now 4 MiB, 6 MiB used. */
	memset(&pi, 0, sizeof(pi));
	EXPECT_OK(vt_ioctl(fd, ASH_IOC_PARTITION_INFO, &pi), "PARTITION_INFO");
	EXPECT_EQ(pi.mem_max, 4 * MiB, "mem_max seen by the tenant after lowering");
	EXPECT_EQ(pi.mem_used, 6 * MiB, "mem_used above the lowered cap");
	EXPECT_ERR(vt_buf_alloc(fd, VT_PAGE, NULL, NULL), -EDQUOT,
		   "alloc one page above a lowered cap");
	EXPECT_OK(vt_buf_info(fd, h[0], &bi), "BUF_INFO above a lowered cap");
	EXPECT_EQ(vt_find_not(p, 1 * MiB, 0x3C), -1, "first byte not 0x3C above a lowered cap");
	vt_fill(p, 1 * MiB, 0x3D);
	for (i = NBUF - 1; i >= 3; i--)
		EXPECT_OK(vt_buf_free(fd, h[i]), "free 1 MiB above a lowered cap");
	EXPECT_OK(vt_buf_alloc(fd, 1 * MiB, &hb, NULL), "alloc 1 MiB back under the cap");
	EXPECT_ERR(vt_buf_alloc(fd, VT_PAGE, NULL, NULL), -EDQUOT,
		   "alloc one page at the lowered cap");
	vt_flag_set(&sh->stage, 2);
	wait_go(2);

	/* Cap raised to 16 MiB by ashctl. */
	EXPECT_OK(vt_buf_alloc(fd, 8 * MiB, NULL, NULL), "alloc 8 MiB after the cap was raised");
	vt_flag_set(&sh->stage, 3);
	wait_go(3);

	/* Alice is off the ACL now; her bound context keeps working. */
	EXPECT_OK(vt_buf_alloc(fd, VT_PAGE, &hp, NULL),
		  "alloc in a context bound before alice left the ACL");
	EXPECT_OK(vt_buf_free(fd, hp), "free in that context");
	EXPECT_EQ(vt_find_not(p, 1 * MiB, 0x3D), -1, "first byte not 0x3D at the end");
	EXPECT_ERR(vt_tenant_open(PART), -EACCES, "alice binds again after leaving the ACL");
	vt_buf_unmap(p, 1 * MiB);
	close(fd);
	vt_flag_set(&sh->stage, 4);
	return 0;
}

static int bob_binds(void *arg)
{
	int fd = vt_tenant_open(PART);

	(void)arg;
	EXPECT(fd >= 0, "bob binds after being added to the ACL: got %s",
	       vt_errname(fd < 0 ? fd : 0));
	if (fd >= 0)
		close(fd);
	return 0;
}

/* `ashctl partition list --json`: the "live" object's member @key. */
static bool list_json_u64(const char *key, uint64_t *val)
{
	static char objs[32][1024];
	char out[32768], name[64];
	int st, n, i;

	st = vt_sh(out, sizeof(out), VT_ASHCTL " partition list --json");
	if (!EXPECT_EQ(st, 0, "ashctl partition list --json exit status"))
		return false;
	n = vt_json_objects(out, objs, 32);
	if (!EXPECT(n >= 1, "ashctl partition list --json: no JSON array of objects in: %.300s",
		    out))
		return false;
	for (i = 0; i < n && i < 32; i++) {
		if (vt_json_str(objs[i], "name", name, sizeof(name)) && !strcmp(name, PART)) {
			if (EXPECT(vt_json_u64(objs[i], key, val),
				   "ashctl list --json: no number \"%s\" in %.300s", key, objs[i]))
				return true;
			return false;
		}
	}
	FAIL("ashctl partition list --json: no object named " PART " in %.300s", out);
	return false;
}

int main(void)
{
	struct ash_partition_params p;
	struct ash_partition_info pi;
	struct stat st;
	uint64_t v;
	pid_t pid;
	int ret;

	vt_init("admin_live_changes", 120);
	sh = vt_shared(sizeof(*sh));
	if (stat(VT_ASHCTL, &st)) {
		printf("FAIL: %s is missing\n", VT_ASHCTL);
		return 1;
	}
	vt_part_track(PART);
	ret = vt_sh(NULL, 0, VT_ASHCTL " partition create " PART " --mem 8M --uid alice");
	REQUIRE_EQ(ret, 0, "ashctl partition create " PART " --mem 8M --uid alice: exit status");
	pi = vt_part(PART);
	EXPECT_EQ(pi.mem_max, 8 * MiB, PART " mem_max after ashctl create");
	EXPECT_EQ(pi.nr_uids, 1, PART " nr_uids after ashctl create --uid alice");
	EXPECT_EQ(pi.uids[0], VT_ALICE, PART " uids[0] after ashctl create --uid alice");
	EXPECT_EQ(pi.weight, ASH_WEIGHT_DEFAULT, PART " default weight");

	pid = vt_spawn_as(VT_ALICE, VT_ORGA, NULL, 0, alice, NULL);

	/* 1: lower the cap below what is used. */
	if (!vt_flag_wait(&sh->stage, 1, 60000)) {
		FAIL("alice did not reach stage 1 in 60 s");
		vt_bail();
	}
	EXPECT_EQ(vt_part(PART).mem_used, 6 * MiB, PART " mem_used with alice holding 6 MiB");
	vt_params(&p, PART, 4 * MiB);
	p.flags = ASH_PART_SET_MEM_MAX;
	EXPECT_OK(vt_part_set(&p), "PART_SET mem_max 4 MiB below mem_used 6 MiB");
	pi = vt_part(PART);
	EXPECT_EQ(pi.mem_max, 4 * MiB, PART " mem_max after lowering");
	EXPECT_EQ(pi.mem_used, 6 * MiB, PART " mem_used after lowering (nothing taken away)");
	vt_flag_set(&sh->go, 1);

	/* 2: raise the cap and change the weight with ashctl. */
	if (!vt_flag_wait(&sh->stage, 2, 60000)) {
		FAIL("alice did not reach stage 2 in 60 s");
		vt_bail();
	}
	EXPECT_EQ(vt_part(PART).mem_used, 4 * MiB, PART " mem_used at the lowered cap");
	if (list_json_u64("mem_used", &v))
		EXPECT_EQ(v, 4 * MiB, "ashctl list --json mem_used of " PART);
	if (list_json_u64("mem_max", &v))
		EXPECT_EQ(v, 4 * MiB, "ashctl list --json mem_max of " PART);
	if (list_json_u64("contexts", &v))
		EXPECT_EQ(v, 1, "ashctl list --json contexts of " PART);
	ret = vt_sh(NULL, 0, VT_ASHCTL " partition set " PART " --mem 16M --weight 300");
	EXPECT_EQ(ret, 0, "ashctl partition set " PART " --mem 16M --weight 300: exit status");
	pi = vt_part(PART);
	EXPECT_EQ(pi.mem_max, 16 * MiB, PART " mem_max after ashctl set --mem 16M");
	EXPECT_EQ(pi.weight, 300, PART " weight after ashctl set --weight 300");
	EXPECT_EQ(pi.nr_uids, 1, PART " ACL untouched by ashctl set --mem --weight");
	if (list_json_u64("weight", &v))
		EXPECT_EQ(v, 300, "ashctl list --json weight of " PART);
	vt_flag_set(&sh->go, 2);

	/* 3: change the ACL and the weight by ioctl; try to delete. */
	if (!vt_flag_wait(&sh->stage, 3, 60000)) {
		FAIL("alice did not reach stage 3 in 60 s");
		vt_bail();
	}
	EXPECT_EQ(vt_part(PART).mem_used, 12 * MiB, PART " mem_used under the raised cap");
	vt_params(&p, PART, 0);
	p.flags = ASH_PART_SET_ACL | ASH_PART_SET_WEIGHT;
	p.weight = 50;
	p.nr_uids = 1;
	p.uids[0] = VT_BOB;
	EXPECT_OK(vt_part_set(&p), "PART_SET ACL {bob} and weight 50 while alice is bound");
	pi = vt_part(PART);
	EXPECT_EQ(pi.weight, 50, PART " weight after PART_SET");
	EXPECT_EQ(pi.uids[0], VT_BOB, PART " uids[0] after PART_SET");
	EXPECT_EQ(pi.mem_max, 16 * MiB, PART " mem_max untouched by an ACL/weight set");
	EXPECT_EQ(vt_run_as(VT_BOB, VT_ORGB, bob_binds, NULL), 0, "bob exit status");
	EXPECT_ERR(vt_part_delete(PART), -EBUSY, "delete " PART " while alice is bound");
	ret = vt_sh(NULL, 0, VT_ASHCTL " partition delete " PART);
	EXPECT(ret != 0, "ashctl partition delete " PART " while alice is bound: exit status 0");
	EXPECT_OK(vt_part_info(PART, &pi), PART " still exists after the refused deletes");
	vt_flag_set(&sh->go, 3);

	EXPECT_EQ(vt_wait(pid), 0, "alice exit status");
	pi = vt_part(PART);
	EXPECT_EQ(pi.mem_used, 0, PART " mem_used after alice exited");
	EXPECT_EQ(pi.nr_contexts, 0, PART " nr_contexts after alice exited");
	ret = vt_sh(NULL, 0, VT_ASHCTL " partition delete " PART);
	EXPECT_EQ(ret, 0, "ashctl partition delete " PART " once idle: exit status");
	EXPECT_ERR(vt_part_info(PART, &pi), -ENOENT, PART " after ashctl delete");
	return vt_result();
}
