// SPDX-License-Identifier: MIT
/*
 * Invariant 6 on the tenant node, as alice: malformed ioctls get a clear
 * error and change nothing.
 *
 * Before BIND: alloc and PARTITION_INFO are -EBADFD.  For BIND, BUF_ALLOC,
 * BUF_FREE, BUF_INFO and PARTITION_INFO: each undefined flag bit and each
 * nonzero pad/reserved field (-EINVAL), a larger struct with a nonzero tail
 * (-E2BIG; with a zero tail accepted), bad pointers (-EFAULT).  Bad names
 * (-EINVAL), BIND twice (-EBUSY), unknown ioctl numbers and control ioctls
 * on the tenant fd (-ENOTTY).  While the sweep runs alice holds a mapped
 * buffer; afterwards it, its data and every counter (her view and the
 * control node's) are as before.
 */
#include "vmtest.h"

#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define NEL(a)	((int)(sizeof(a) / sizeof((a)[0])))
#define PART	"tbase"

struct shared {
	int stage;	/* alice: 1 set up, 2 swept */
	int go;		/* parent: 1 snapshot taken, 2 compared */
};

static struct shared *sh;

static const char *const bad_names[] = {
	"", "a b", "a/b", "-lead", ".lead", "nl\n", "\xc3\xa4", "a*b",
};

static void sweep_bind(int fd)
{
	static const struct vt_field zero[] = {
		VT_FIELD(struct ash_bind, pad),
		VT_RESERVED(struct ash_bind, 0),
		VT_RESERVED(struct ash_bind, 1),
	};
	struct ash_bind b;
	char what[96];
	long ret;
	int i;

	memset(&b, 0, sizeof(b));
	strcpy(b.partition, PART);
	vt_sweep(fd, ASH_IOC_BIND, "BIND", &b, sizeof(b),
		 offsetof(struct ash_bind, flags), 0, zero, NEL(zero));
	memset(b.partition, 'a', ASH_NAME_MAX);
	EXPECT_ERR(vt_ioctl(fd, ASH_IOC_BIND, &b), -EINVAL, "BIND with an unterminated name");
	for (i = 0; i < NEL(bad_names); i++) {
		memset(b.partition, 0, sizeof(b.partition));
		strcpy(b.partition, bad_names[i]);
		ret = vt_ioctl(fd, ASH_IOC_BIND, &b);
		snprintf(what, sizeof(what), "BIND to bad name #%d", i);
		EXPECT(ret == -EINVAL || ret == -ENOENT,
		       "%s: expected -EINVAL or -ENOENT, got %s", what, vt_errname(ret));
	}
	/* All refused: the fd is still unbound. */
	EXPECT_ERR(vt_buf_alloc(fd, VT_PAGE, NULL, NULL), -EBADFD,
		   "alloc on an fd after refused BINDs");
}

static void sweep_bound(int fd, uint32_t h)
{
	static const struct vt_field alloc_zero[] = {
		VT_RESERVED(struct ash_buf_alloc, 0),
		VT_RESERVED(struct ash_buf_alloc, 1),
	};
	static const struct vt_field free_zero[] = {
		VT_FIELD(struct ash_buf_free, reserved),
	};
	static const struct vt_field info_zero[] = {
		VT_RESERVED(struct ash_buf_info, 0),
		VT_RESERVED(struct ash_buf_info, 1),
	};
	static const struct vt_field pinfo_zero[] = {
		VT_RESERVED(struct ash_partition_info, 0),
		VT_RESERVED(struct ash_partition_info, 1),
	};
	struct ash_buf_alloc a = { .size = VT_PAGE };
	struct ash_buf_free f = { .handle = h };
	struct ash_buf_info i = { .handle = h };
	static const struct vt_field reclaim_zero[] = {
		VT_RESERVED(struct ash_reclaim, 0),
		VT_RESERVED(struct ash_reclaim, 1),
	};
	struct ash_partition_info pi;
	struct ash_reclaim rq;
	struct ash_bind b;

	vt_sweep(fd, ASH_IOC_BUF_ALLOC, "BUF_ALLOC", &a, sizeof(a),
		 offsetof(struct ash_buf_alloc, flags),
		 ASH_BUF_READONLY | ASH_BUF_STAGING, alloc_zero, NEL(alloc_zero));
	vt_sweep(fd, ASH_IOC_BUF_FREE, "BUF_FREE", &f, sizeof(f),
		 offsetof(struct ash_buf_free, flags), 0, free_zero, NEL(free_zero));
	vt_sweep(fd, ASH_IOC_BUF_INFO, "BUF_INFO", &i, sizeof(i),
		 offsetof(struct ash_buf_info, flags), 0, info_zero, NEL(info_zero));
	memset(&pi, 0, sizeof(pi));
	vt_sweep(fd, ASH_IOC_PARTITION_INFO, "tenant PARTITION_INFO", &pi, sizeof(pi),
		 offsetof(struct ash_partition_info, flags), 0, pinfo_zero,
		 NEL(pinfo_zero));
	memset(&rq, 0, sizeof(rq));
	vt_sweep(fd, ASH_IOC_RECLAIM_QUERY, "RECLAIM_QUERY", &rq, sizeof(rq),
		 offsetof(struct ash_reclaim, flags), 0, reclaim_zero,
		 NEL(reclaim_zero));
	EXPECT_OK(vt_ioctl(fd, ASH_IOC_RECLAIM_QUERY, &rq), "RECLAIM_QUERY");
	EXPECT(!rq.bytes && !rq.deadline_ns && rq.mem_max == 8 * MiB,
	       "RECLAIM_QUERY within the cap: bytes %llu, deadline %llu, cap %llu",
	       (unsigned long long)rq.bytes, (unsigned long long)rq.deadline_ns,
	       (unsigned long long)rq.mem_max);

	memset(&b, 0, sizeof(b));
	strcpy(b.partition, PART);
	EXPECT_ERR(vt_ioctl(fd, ASH_IOC_BIND, &b), -EBUSY, "BIND twice");
	strcpy(b.partition, "tother");
	EXPECT_ERR(vt_ioctl(fd, ASH_IOC_BIND, &b), -EBUSY,
		   "BIND a bound fd to another partition");
}

static void sweep_unknown(int fd)
{
	struct { const char *name; unsigned long cmd; } bad[] = {
		{ "nr 0x08 (after the last tenant ioctl)", _IOWR(ASH_IOC_MAGIC, 0x08, struct ash_buf_info) },
		{ "nr 0x3f", _IOWR(ASH_IOC_MAGIC, 0x3f, struct ash_buf_info) },
		{ "nr 0xff", _IOWR(ASH_IOC_MAGIC, 0xff, struct ash_buf_info) },
		{ "magic 'x' nr 0x02", _IOWR('x', 0x02, struct ash_buf_alloc) },
		{ "TCGETS", 0x5401 },
		{ "control DEVICE_INFO", ASH_CTL_DEVICE_INFO },
		{ "control PART_CREATE", ASH_CTL_PART_CREATE },
		{ "control PART_SET", ASH_CTL_PART_SET },
		{ "control PART_DELETE", ASH_CTL_PART_DELETE },
		{ "control PART_INFO", ASH_CTL_PART_INFO },
		{ "control CTX_INFO", ASH_CTL_CTX_INFO },
	};
	uint8_t buf[512];
	char what[96];
	int i;

	for (i = 0; i < NEL(bad); i++) {
		/* something that would do harm if it were accepted: a create or
		 * delete of "tother", an alloc of one page */
		memset(buf, 0, sizeof(buf));
		strcpy((char *)buf + 8, "tother");
		buf[0] = 1;
		snprintf(what, sizeof(what), "tenant node ioctl %s", bad[i].name);
		EXPECT_ERR(vt_ioctl(fd, bad[i].cmd, buf), -ENOTTY, what);
	}
}

static struct ash_partition_info tinfo(int fd)
{
	struct ash_partition_info pi;

	memset(&pi, 0, sizeof(pi));
	EXPECT_OK(vt_ioctl(fd, ASH_IOC_PARTITION_INFO, &pi), "tenant PARTITION_INFO");
	return pi;
}

static int alice(void *arg)
{
	uint8_t big[sizeof(struct ash_partition_info) + 8];
	uint8_t canary[sizeof(struct ash_partition_info) + 8];
	size_t small = sizeof(struct ash_partition_info) - 8;
	struct ash_partition_info pi;
	struct ash_buf_alloc a;
	struct ash_buf_info bi;
	struct ash_bind b;
	uint32_t h, h2;
	uint64_t off;
	int ufd, fd, bfd;
	uint8_t *p;

	(void)arg;
	ufd = open(VT_TENANT_DEV, O_RDWR);
	REQUIRE(ufd >= 0, "alice opens %s: %s", VT_TENANT_DEV, vt_errname(-errno));
	memset(&pi, 0, sizeof(pi));
	EXPECT_ERR(vt_ioctl(ufd, ASH_IOC_PARTITION_INFO, &pi), -EBADFD,
		   "PARTITION_INFO before BIND");
	EXPECT_ERR(vt_buf_alloc(ufd, VT_PAGE, NULL, NULL), -EBADFD, "BUF_ALLOC before BIND");
	{
		struct ash_reclaim rq = { 0 };

		EXPECT_ERR(vt_ioctl(ufd, ASH_IOC_RECLAIM_QUERY, &rq), -EBADFD,
			   "RECLAIM_QUERY before BIND");
	}

	/* Accepted forms first (they change state); then the snapshot. */
	bfd = open(VT_TENANT_DEV, O_RDWR);
	REQUIRE(bfd >= 0, "alice opens %s: %s", VT_TENANT_DEV, vt_errname(-errno));
	memset(big, 0, sizeof(big));
	memset(&b, 0, sizeof(b));
	strcpy(b.partition, PART);
	memcpy(big, &b, sizeof(b));
	EXPECT_OK(vt_ioctl_sized(bfd, ASH_IOC_BIND, big, sizeof(b) + 8),
		  "BIND as a larger struct with a zero tail");

	fd = vt_tenant_open(PART);
	REQUIRE(fd >= 0, "alice bind " PART ": got %s", vt_errname(fd));
	REQUIRE_OK(vt_buf_alloc(fd, 2 * VT_PAGE, &h, &off), "alice alloc 2 pages");
	p = vt_buf_map(fd, off, 2 * VT_PAGE);
	REQUIRE(p, "alice mmap 2 pages: %s", vt_errname(-errno));
	vt_fill(p, 2 * VT_PAGE, 0xC3);

	memset(big, 0, sizeof(big));
	memset(&a, 0, sizeof(a));
	a.size = VT_PAGE;
	a.handle = 0xdead;		/* output only */
	a.mmap_offset = 0xbeef;		/* output only */
	memcpy(big, &a, sizeof(a));
	if (EXPECT_OK(vt_ioctl_sized(fd, ASH_IOC_BUF_ALLOC, big, sizeof(a) + 8),
		      "BUF_ALLOC as a larger struct with a zero tail, garbage in outputs")) {
		memcpy(&a, big, sizeof(a));
		h2 = a.handle;
		EXPECT(h2 != 0 && h2 != h, "new handle %u (first %u)", h2, h);
		EXPECT_EQ(vt_find_not(big + sizeof(a), 8, 0), -1,
			  "first nonzero tail byte after a larger BUF_ALLOC");
		memset(big, 0, sizeof(big));
		memcpy(big, &(struct ash_buf_free){ .handle = h2 }, sizeof(struct ash_buf_free));
		EXPECT_OK(vt_ioctl_sized(fd, ASH_IOC_BUF_FREE, big,
					 sizeof(struct ash_buf_free) + 8),
			  "BUF_FREE as a larger struct with a zero tail");
	}
	memset(big, 0, sizeof(big));
	memcpy(big, &(struct ash_buf_info){ .handle = h, .size = 1, .mmap_offset = 2 },
	       sizeof(struct ash_buf_info));
	EXPECT_OK(vt_ioctl_sized(fd, ASH_IOC_BUF_INFO, big, sizeof(struct ash_buf_info) + 8),
		  "BUF_INFO as a larger struct with a zero tail, garbage in outputs");
	memcpy(&bi, big, sizeof(bi));
	EXPECT_EQ(bi.size, 2 * VT_PAGE, "BUF_INFO size via the larger struct");
	EXPECT_EQ(bi.mmap_offset, off, "BUF_INFO mmap_offset via the larger struct");
	/* Smaller than the first version of the ABI: refused, nothing written. */
	memset(canary, 0x5A, sizeof(canary));
	memset(canary, 0, small);
	EXPECT_ERR(vt_ioctl_sized(fd, ASH_IOC_PARTITION_INFO, canary, small),
		   -EINVAL, "PARTITION_INFO as a struct 8 bytes smaller");
	EXPECT_EQ(vt_find_not(canary, small, 0), -1,
		  "first byte written into a too-small PARTITION_INFO");

	vt_flag_set(&sh->stage, 1);
	REQUIRE(vt_flag_wait(&sh->go, 1, 30000), "no go 1 from the parent");

	sweep_bind(ufd);
	sweep_bound(fd, h);
	sweep_unknown(fd);
	sweep_unknown(ufd);

	EXPECT_OK(vt_buf_info(fd, h, &bi), "BUF_INFO of alice's buffer after the sweep");
	EXPECT_EQ(bi.size, 2 * VT_PAGE, "size of alice's buffer after the sweep");
	EXPECT_EQ(vt_find_not(p, 2 * VT_PAGE, 0xC3), -1,
		  "first byte of alice's buffer that is not 0xC3 after the sweep");
	pi = tinfo(fd);
	EXPECT_EQ(pi.mem_used, 2 * VT_PAGE, "mem_used after the sweep");
	EXPECT_EQ(pi.nr_buffers, 1, "nr_buffers after the sweep");
	EXPECT_EQ(pi.nr_contexts, 2, "nr_contexts after the sweep");

	vt_flag_set(&sh->stage, 2);
	REQUIRE(vt_flag_wait(&sh->go, 2, 30000), "no go 2 from the parent");
	vt_buf_unmap(p, 2 * VT_PAGE);
	close(fd);
	close(bfd);
	close(ufd);
	return 0;
}

int main(void)
{
	struct vt_snap snap;
	pid_t pid;

	vt_init("ioctl_bad_input_tenant", 120);
	sh = vt_shared(sizeof(*sh));
	vt_part_new(PART, 8 * MiB, 0, VT_ALICE, (gid_t)-1);
	vt_part_new("tother", 8 * MiB, 0, VT_ALICE, (gid_t)-1);

	pid = vt_spawn_as(VT_ALICE, VT_ORGA, NULL, 0, alice, NULL);
	if (vt_flag_wait(&sh->stage, 1, 30000)) {
		vt_snap_take(&snap);
		vt_flag_set(&sh->go, 1);
		if (vt_flag_wait(&sh->stage, 2, 60000))
			vt_snap_expect_same(&snap, "after the tenant node sweep");
		else
			FAIL("alice did not finish the sweep in 60 s");
	} else {
		FAIL("alice did not set up in 30 s");
	}
	vt_flag_set(&sh->go, 2);
	EXPECT_EQ(vt_wait(pid), 0, "alice exit status");

	EXPECT_EQ(vt_part(PART).nr_contexts, 0, PART " nr_contexts at the end");
	EXPECT_OK(vt_part_delete(PART), "delete " PART);
	EXPECT_OK(vt_part_delete("tother"), "delete tother");
	EXPECT_EQ(vt_dev().mem_used, 0, "device mem_used at the end");
	return vt_result();
}
