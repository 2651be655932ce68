// SPDX-License-Identifier: MIT
/*
 * Who may bind: a tenant not on a partition's access list gets -EACCES from
 * ash_open, by uid list and by gid list (the primary group and supplementary
 * groups both count); a partition with an empty list is root's only; a
 * partition that does not exist is -ENOENT; max_contexts is enforced with
 * -EUSERS.  A refused bind changes no counter and leaves the fd unbound.
 */
#include "vmtest.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

struct try {
	const char *part;
	int want;		/* 0 or -errno from ash_open */
	const char *who;
};

static int try_open(void *arg)
{
	const struct try *t = arg;
	struct ash_ctx *ctx;
	char what[128];
	int ret;

	snprintf(what, sizeof(what), "%s: ash_open(\"%s\")", t->who, t->part);
	ret = ash_open(t->part, &ctx);
	EXPECT_ERR(ret, t->want, what);
	if (!ret)
		ash_close(ctx);
	return 0;
}

/* Run try_open as @uid/@gid with supplementary @groups. */
static void expect_open(uid_t uid, gid_t gid, const gid_t *groups, int ngroups,
			const char *part, int want, const char *who)
{
	struct try t = { part, want, who };
	int st = vt_wait(vt_spawn_as(uid, gid, groups, ngroups, try_open, &t));

	EXPECT_EQ(st, 0, "exit status of the tenant process trying the open");
}

/* A refused bind leaves the fd unbound: it can still bind elsewhere. */
static int rebind_after_refusal(void *arg)
{
	struct ash_partition_info pi;
	struct ash_bind b;
	int fd;

	(void)arg;
	fd = open(VT_TENANT_DEV, O_RDWR);
	REQUIRE(fd >= 0, "open %s as alice: %s", VT_TENANT_DEV, vt_errname(-errno));
	EXPECT_ERR(vt_buf_alloc(fd, VT_PAGE, NULL, NULL), -EBADFD,
		   "alloc on an unbound fd");
	memset(&pi, 0, sizeof(pi));
	EXPECT_ERR(vt_ioctl(fd, ASH_IOC_PARTITION_INFO, &pi), -EBADFD,
		   "tenant PARTITION_INFO on an unbound fd");
	memset(&b, 0, sizeof(b));
	strcpy(b.partition, "acl_gid");
	EXPECT_ERR(vt_ioctl(fd, ASH_IOC_BIND, &b), -EACCES,
		   "alice BIND acl_gid (orgb only)");
	strcpy(b.partition, "nosuch");
	EXPECT_ERR(vt_ioctl(fd, ASH_IOC_BIND, &b), -ENOENT, "alice BIND nosuch");
	EXPECT_ERR(vt_buf_alloc(fd, VT_PAGE, NULL, NULL), -EBADFD,
		   "alloc after a refused bind");
	strcpy(b.partition, "acl_uid");
	EXPECT_OK(vt_ioctl(fd, ASH_IOC_BIND, &b), "alice BIND acl_uid after a refused bind");
	EXPECT_ERR(vt_ioctl(fd, ASH_IOC_BIND, &b), -EBUSY, "alice BIND twice");
	close(fd);
	return 0;
}

/* max_contexts = 2: a third bind is -EUSERS, and a slot frees on close. */
static int context_limit(void *arg)
{
	int a, b, c;

	(void)arg;
	a = vt_tenant_open("two");
	b = vt_tenant_open("two");
	EXPECT(a >= 0 && b >= 0, "two binds under max_contexts 2: got %s, %s",
	       vt_errname(a < 0 ? a : 0), vt_errname(b < 0 ? b : 0));
	c = vt_tenant_open("two");
	EXPECT_ERR(c < 0 ? c : 0, -EUSERS, "third bind with max_contexts 2");
	if (c >= 0)
		close(c);
	if (a >= 0)
		close(a);
	c = vt_tenant_open("two");
	EXPECT(c >= 0, "bind after one of two contexts closed: got %s",
	       vt_errname(c < 0 ? c : 0));
	if (c >= 0)
		close(c);
	if (b >= 0)
		close(b);
	return 0;
}

int main(void)
{
	static const gid_t alice_in_orgb[] = { VT_ORGA, VT_ORGB };
	struct ash_partition_params p;
	struct ash_ctx *ctx;
	struct vt_snap snap;
	int ret;

	vt_init("access_acl", 60);
	vt_part_new("acl_uid", 1 * MiB, 0, VT_ALICE, (gid_t)-1);
	vt_part_new("acl_gid", 1 * MiB, 0, (uid_t)-1, VT_ORGB);
	vt_part_new("acl_none", 1 * MiB, 0, (uid_t)-1, (gid_t)-1);
	vt_part_new("acl_both", 1 * MiB, 0, VT_CAROL, VT_ORGA);
	vt_snap_take(&snap);

	/* uid list */
	expect_open(VT_ALICE, VT_ORGA, NULL, 0, "acl_uid", 0, "alice (listed uid)");
	expect_open(VT_BOB, VT_ORGB, NULL, 0, "acl_uid", -EACCES, "bob (not listed)");
	/* gid list: primary group, supplementary group, neither */
	expect_open(VT_BOB, VT_ORGB, NULL, 0, "acl_gid", 0, "bob (primary gid orgb)");
	expect_open(VT_ALICE, VT_ORGA, NULL, 0, "acl_gid", -EACCES,
		    "alice (orga only)");
	expect_open(VT_ALICE, VT_ORGA, alice_in_orgb, 2, "acl_gid", 0,
		    "alice (supplementary orgb)");
	expect_open(VT_CAROL, VT_ORGC, NULL, 0, "acl_gid", -EACCES, "carol (orgc)");
	/* a gid equal to a listed uid number does not count, nor the reverse */
	expect_open(VT_BOB, VT_ORGB, NULL, 0, "acl_both", -EACCES, "bob on acl_both");
	expect_open(VT_CAROL, VT_ORGC, NULL, 0, "acl_both", 0, "carol (listed uid) on acl_both");
	expect_open(VT_ALICE, VT_ORGA, NULL, 0, "acl_both", 0, "alice (listed gid) on acl_both");
	/* empty list: root only */
	expect_open(VT_ALICE, VT_ORGA, NULL, 0, "acl_none", -EACCES, "alice on an empty ACL");
	expect_open(VT_CAROL, VT_ORGC, NULL, 0, "acl_none", -EACCES, "carol on an empty ACL");
	ret = ash_open("acl_none", &ctx);
	if (EXPECT_OK(ret, "root ash_open of an empty-ACL partition"))
		ash_close(ctx);
	/* no such partition */
	expect_open(VT_ALICE, VT_ORGA, NULL, 0, "nosuch", -ENOENT, "alice on nosuch");
	ret = ash_open("nosuch", &ctx);
	EXPECT_ERR(ret, -ENOENT, "root ash_open(\"nosuch\")");
	if (!ret)
		ash_close(ctx);

	vt_snap_expect_same(&snap, "after the open attempts");

	EXPECT_EQ(vt_run_as(VT_ALICE, VT_ORGA, rebind_after_refusal, NULL), 0,
		  "rebind tenant exit status");

	vt_params(&p, "two", 1 * MiB);
	p.max_contexts = 2;
	p.nr_uids = 1;
	p.uids[0] = VT_ALICE;
	REQUIRE_OK(vt_part_create(&p), "create two (max_contexts 2)");
	EXPECT_EQ(vt_part("two").max_contexts, 2, "two max_contexts");
	EXPECT_EQ(vt_run_as(VT_ALICE, VT_ORGA, context_limit, NULL), 0,
		  "context-limit tenant exit status");
	EXPECT_EQ(vt_part("two").nr_contexts, 0, "two nr_contexts at the end");

	EXPECT_OK(vt_part_delete("two"), "delete two");
	EXPECT_OK(vt_part_delete("acl_uid"), "delete acl_uid");
	EXPECT_OK(vt_part_delete("acl_gid"), "delete acl_gid");
	EXPECT_OK(vt_part_delete("acl_none"), "delete acl_none");
	EXPECT_OK(vt_part_delete("acl_both"), "delete acl_both");
	EXPECT_EQ(vt_dev().nr_contexts, 0, "device nr_contexts at the end");
	return vt_result();
}
