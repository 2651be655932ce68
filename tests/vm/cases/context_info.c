// SPDX-License-Identifier: MIT
/*
 * ASH_CTL_CTX_INFO (and `ashctl contexts --json`) list every bound context
 * with its opener's pid and uid, its partition's name and id, its device,
 * and what it holds (mem_used, nr_buffers); an open but unbound fd is not
 * listed; the walk by id + 1 visits each once; after the tenants exit the
 * list is empty.
 */
#include "vmtest.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct shared {
	int ready;	/* tenants holding their buffers */
	int release;
};

static struct shared *sh;

/* arg: partition name.  Holds 1 MiB + 3 pages in two buffers, plus an
 * unbound fd. */
static int tenant(void *arg)
{
	const char *part = arg;
	int fd, ufd;

	fd = vt_tenant_open(part);
	REQUIRE(fd >= 0, "bind %s: got %s", part, vt_errname(fd));
	ufd = open(VT_TENANT_DEV, O_RDWR);
	REQUIRE(ufd >= 0, "open %s: %s", VT_TENANT_DEV, vt_errname(-errno));
	REQUIRE_OK(vt_buf_alloc(fd, 1 * MiB, NULL, NULL), "alloc 1 MiB");
	REQUIRE_OK(vt_buf_alloc(fd, 3 * VT_PAGE - 100, NULL, NULL), "alloc 3 pages - 100");
	__atomic_add_fetch(&sh->ready, 1, __ATOMIC_ACQ_REL);
	EXPECT(vt_flag_wait(&sh->release, 1, 60000), "no release in 60 s");
	close(ufd);
	close(fd);
	return 0;
}

static void check_ctx(const struct ash_context_info *c, int n, pid_t pid, uid_t uid,
		      const char *part)
{
	const struct ash_context_info *ci = NULL;
	struct ash_partition_info pi = vt_part(part);
	int i;

	for (i = 0; i < n && i < 16; i++) {
		if (c[i].pid == pid) {
			EXPECT(!ci, "CTX_INFO lists pid %d twice", (int)pid);
			ci = &c[i];
		}
	}
	if (!EXPECT(ci, "CTX_INFO does not list pid %d (%s)", (int)pid, part))
		return;
	EXPECT_EQ(ci->uid, uid, "CTX_INFO uid");
	EXPECT(!strncmp(ci->partition, part, ASH_NAME_MAX),
	       "CTX_INFO partition: expected %s, got %.32s", part, ci->partition);
	EXPECT_EQ(ci->partition_id, pi.id, "CTX_INFO partition_id vs PART_INFO id");
	EXPECT_EQ(ci->device, 0, "CTX_INFO device");
	EXPECT_EQ(ci->mem_used, 1 * MiB + 3 * VT_PAGE, "CTX_INFO mem_used (1 MiB + 3 pages)");
	EXPECT_EQ(ci->nr_buffers, 2, "CTX_INFO nr_buffers");
	EXPECT_EQ(ci->pad, 0, "CTX_INFO pad on output");
	EXPECT_EQ(ci->pad2, 0, "CTX_INFO pad2 on output");
	EXPECT_EQ(ci->banned | ci->jobs_timed_out, 0, "CTX_INFO banned, jobs_timed_out");
}

static void check_json(pid_t pid, uid_t uid, const char *part)
{
	static char objs[16][1024];
	static char out[32768];
	char name[64];
	uint64_t v;
	int i, n, st;

	st = vt_sh(out, sizeof(out), VT_ASHCTL " contexts --json");
	if (!EXPECT_EQ(st, 0, "ashctl contexts --json exit status"))
		return;
	n = vt_json_objects(out, objs, 16);
	EXPECT_EQ(n, 2, "objects in ashctl contexts --json");
	for (i = 0; i < n && i < 16; i++) {
		if (!vt_json_u64(objs[i], "pid", &v) || v != (uint64_t)pid)
			continue;
		EXPECT(vt_json_u64(objs[i], "uid", &v) && v == uid,
		       "ashctl contexts --json uid of pid %d: %.300s", (int)pid, objs[i]);
		EXPECT(vt_json_str(objs[i], "partition", name, sizeof(name)) &&
		       !strcmp(name, part),
		       "ashctl contexts --json partition of pid %d: %.300s", (int)pid, objs[i]);
		EXPECT(vt_json_u64(objs[i], "mem_used", &v) && v == 1 * MiB + 3 * VT_PAGE,
		       "ashctl contexts --json mem_used of pid %d: %.300s", (int)pid, objs[i]);
		EXPECT(vt_json_u64(objs[i], "busy_ns", &v),
		       "ashctl contexts --json busy_ns of pid %d: %.300s", (int)pid, objs[i]);
		return;
	}
	FAIL("ashctl contexts --json has no pid %d: %.300s", (int)pid, out);
}

int main(void)
{
	struct ash_context_info c[16], one;
	struct stat st;
	pid_t a, b;
	int n;

	vt_init("context_info", 60);
	sh = vt_shared(sizeof(*sh));
	vt_part_new("ci_a", 8 * MiB, 0, VT_ALICE, (gid_t)-1);
	vt_part_new("ci_b", 8 * MiB, 0, (uid_t)-1, VT_ORGB);
	EXPECT_EQ(vt_ctx_list(c, 16), 0, "bound contexts before the tenants start");

	a = vt_spawn_as(VT_ALICE, VT_ORGA, NULL, 0, tenant, "ci_a");
	b = vt_spawn_as(VT_BOB, VT_ORGB, NULL, 0, tenant, "ci_b");
	if (vt_flag_wait(&sh->ready, 2, 30000)) {
		n = vt_ctx_list(c, 16);
		EXPECT_EQ(n, 2, "bound contexts listed by CTX_INFO (unbound fds not listed)");
		check_ctx(c, n, a, VT_ALICE, "ci_a");
		check_ctx(c, n, b, VT_BOB, "ci_b");
		if (n == 2) {
			EXPECT(c[0].id != c[1].id, "two contexts share id %u", c[0].id);
			memset(&one, 0, sizeof(one));
			one.id = c[0].id;
			EXPECT_OK(vt_ioctl(vt_ctl, ASH_CTL_CTX_INFO, &one), "CTX_INFO at the first id");
			EXPECT_EQ(one.pid, c[0].pid, "CTX_INFO at an exact id returns that context");
		}
		EXPECT_EQ(vt_dev().nr_contexts, 2, "device nr_contexts");
		if (!stat(VT_ASHCTL, &st)) {
			check_json(a, VT_ALICE, "ci_a");
			check_json(b, VT_BOB, "ci_b");
		} else {
			FAIL("%s is missing", VT_ASHCTL);
		}
	} else {
		FAIL("%d of 2 tenants ready in 30 s", vt_flag_get(&sh->ready));
	}
	vt_flag_set(&sh->release, 1);
	EXPECT_EQ(vt_wait(a), 0, "alice exit status");
	EXPECT_EQ(vt_wait(b), 0, "bob exit status");
	EXPECT_EQ(vt_ctx_list(c, 16), 0, "bound contexts after the tenants exited");

	EXPECT_OK(vt_part_delete("ci_a"), "delete ci_a");
	EXPECT_OK(vt_part_delete("ci_b"), "delete ci_b");
	return vt_result();
}
