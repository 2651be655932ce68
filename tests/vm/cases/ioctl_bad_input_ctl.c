// SPDX-License-Identifier: MIT
/*
 * Invariant 6 on the control node: malformed ioctls get a clear error and
 * change nothing.
 *
 * For every control ioctl: each undefined flag bit, each nonzero pad and
 * reserved field (-EINVAL), a newer caller's larger struct with a nonzero
 * tail (-E2BIG; with a zero tail it is accepted), a struct smaller than the
 * first version of the ABI (-EINVAL, nothing written), bad pointers
 * (-EFAULT).  Bad names, caps, guarantees, weights, access lists and limits
 * (-EINVAL), unknown devices (-ENODEV), PART_SET with no or unknown bits,
 * unknown ioctl numbers and tenant ioctls on this node (-ENOTTY), and a
 * non-root opener (-EACCES/-EPERM).  After the reject sweep every counter and
 * setting reads as before.
 */
#include "vmtest.h"

#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define NEL(a)	((int)(sizeof(a) / sizeof((a)[0])))

static uint64_t capacity;

/* Names a partition may not have (beyond the unterminated one). */
static const char *const bad_names[] = {
	"", "a b", "a/b", "-lead", ".lead", "tab\t", "nl\n", "\xc3\xa4",
	"a*b", "a:b", "a\\b",
};

static void name_unterminated(char *name)
{
	memset(name, 'a', ASH_NAME_MAX);
}

/* Lookups by a malformed name may say -EINVAL or -ENOENT. */
static void expect_einval_or_enoent(long got, const char *what)
{
	EXPECT(got == -EINVAL || got == -ENOENT, "%s: expected -EINVAL or -ENOENT, got %s",
	       what, vt_errname(got));
}

static void sweep_device_info(void)
{
	static const struct vt_field zero[] = {
		VT_RESERVED(struct ash_device_info, 0),
		{ offsetof(struct ash_device_info, reserved2), 8, "reserved2[0]" },
		{ offsetof(struct ash_device_info, reserved2) + 16, 8,
		  "reserved2[2]" },
	};
	struct ash_device_info d = { .device = 0 };

	vt_sweep(vt_ctl, ASH_CTL_DEVICE_INFO, "DEVICE_INFO", &d, sizeof(d),
		 offsetof(struct ash_device_info, flags),
		 ASH_DEVICE_INFO_BY_NAME, zero, NEL(zero));
	d.device = 1;
	EXPECT_ERR(vt_ioctl(vt_ctl, ASH_CTL_DEVICE_INFO, &d), -ENODEV, "DEVICE_INFO device 1");
	d.device = UINT32_MAX;
	EXPECT_ERR(vt_ioctl(vt_ctl, ASH_CTL_DEVICE_INFO, &d), -ENODEV,
		   "DEVICE_INFO device 0xffffffff");

	/* By name: "host" is device 0; an unknown name, or one that is not
	 * NUL-terminated, is refused. */
	memset(&d, 0, sizeof(d));
	d.flags = ASH_DEVICE_INFO_BY_NAME;
	d.device = 77;
	strcpy(d.name, "host");
	EXPECT_OK(vt_ioctl(vt_ctl, ASH_CTL_DEVICE_INFO, &d), "DEVICE_INFO by name host");
	EXPECT_EQ(d.device, 0, "DEVICE_INFO by name host: device");
	EXPECT_EQ(d.kind, ASH_DEVICE_HOST, "DEVICE_INFO by name host: kind");
	memset(&d, 0, sizeof(d));
	d.flags = ASH_DEVICE_INFO_BY_NAME;
	strcpy(d.name, "no_such_device");
	EXPECT_ERR(vt_ioctl(vt_ctl, ASH_CTL_DEVICE_INFO, &d), -ENODEV,
		   "DEVICE_INFO by an unknown name");
	memset(d.name, 'a', sizeof(d.name));
	EXPECT_ERR(vt_ioctl(vt_ctl, ASH_CTL_DEVICE_INFO, &d), -EINVAL,
		   "DEVICE_INFO by an unterminated name");
}

static void sweep_part_info(void)
{
	static const struct vt_field zero[] = {
		VT_RESERVED(struct ash_partition_info, 0),
		VT_RESERVED(struct ash_partition_info, 1),
	};
	struct ash_partition_info pi;
	char what[96];
	int i;

	memset(&pi, 0, sizeof(pi));
	pi.flags = ASH_PART_INFO_BY_NAME;
	strcpy(pi.name, "base");
	vt_sweep(vt_ctl, ASH_CTL_PART_INFO, "PART_INFO", &pi, sizeof(pi),
		 offsetof(struct ash_partition_info, flags),
		 ASH_PART_INFO_BY_NAME, zero, NEL(zero));

	memset(&pi, 0, sizeof(pi));
	pi.flags = ASH_PART_INFO_BY_NAME;
	strcpy(pi.name, "nosuch");
	EXPECT_ERR(vt_ioctl(vt_ctl, ASH_CTL_PART_INFO, &pi), -ENOENT, "PART_INFO by name nosuch");
	name_unterminated(pi.name);
	EXPECT_ERR(vt_ioctl(vt_ctl, ASH_CTL_PART_INFO, &pi), -EINVAL,
		   "PART_INFO by an unterminated name");
	for (i = 0; i < NEL(bad_names); i++) {
		memset(pi.name, 0, sizeof(pi.name));
		strcpy(pi.name, bad_names[i]);
		snprintf(what, sizeof(what), "PART_INFO by bad name #%d", i);
		expect_einval_or_enoent(vt_ioctl(vt_ctl, ASH_CTL_PART_INFO, &pi), what);
	}
	memset(&pi, 0, sizeof(pi));
	pi.id = UINT32_MAX;
	EXPECT_ERR(vt_ioctl(vt_ctl, ASH_CTL_PART_INFO, &pi), -ENOENT,
		   "PART_INFO walk from id 0xffffffff");
}

static void sweep_ctx_info(void)
{
	static const struct vt_field zero[] = {
		VT_FIELD(struct ash_context_info, pad),
	};
	struct ash_context_info ci;

	memset(&ci, 0, sizeof(ci));
	vt_sweep(vt_ctl, ASH_CTL_CTX_INFO, "CTX_INFO", &ci, sizeof(ci),
		 offsetof(struct ash_context_info, flags), 0, zero, NEL(zero));
	ci.id = UINT32_MAX;
	EXPECT_ERR(vt_ioctl(vt_ctl, ASH_CTL_CTX_INFO, &ci), -ENOENT,
		   "CTX_INFO walk from id 0xffffffff");
}

/* The reclaim fields too: input only with ASH_PART_SET_MEM_MAX, which
 * neither sweep's base has. */
static const struct vt_field params_zero[] = {
	VT_RESERVED(struct ash_partition_params, 0),
	VT_RESERVED(struct ash_partition_params, 1),
	VT_RESERVED(struct ash_partition_params, 2),
	{ offsetof(struct ash_partition_params, reclaim_deadline_ms), 8,
	  "reclaim_deadline_ms, reclaim_action" },
};

/* PART_CREATE of @p must fail with @want. */
static void create_fails(struct ash_partition_params *p, long want, const char *what)
{
	EXPECT_ERR(vt_part_create(p), want, what);
}

static void sweep_create(void)
{
	struct ash_partition_params p, b;
	char what[96];
	int i;

	vt_params(&b, "sweep_new", 1 * MiB);
	vt_sweep(vt_ctl, ASH_CTL_PART_CREATE, "PART_CREATE", &b, sizeof(b),
		 offsetof(struct ash_partition_params, flags), 0, params_zero,
		 NEL(params_zero));

	p = b; name_unterminated(p.name);
	create_fails(&p, -EINVAL, "PART_CREATE with an unterminated name");
	for (i = 0; i < NEL(bad_names); i++) {
		p = b;
		memset(p.name, 0, sizeof(p.name));
		strcpy(p.name, bad_names[i]);
		snprintf(what, sizeof(what), "PART_CREATE with bad name #%d \"%s\"", i,
			 bad_names[i]);
		create_fails(&p, -EINVAL, what);
	}
	p = b; strcpy(p.name, "base");
	create_fails(&p, -EEXIST, "PART_CREATE with a taken name");
	p = b; p.mem_max = 0;
	create_fails(&p, -EINVAL, "PART_CREATE mem_max 0");
	p = b; p.mem_max = capacity + 1;
	create_fails(&p, -EINVAL, "PART_CREATE mem_max capacity + 1");
	p = b; p.mem_max = UINT64_MAX;
	create_fails(&p, -EINVAL, "PART_CREATE mem_max UINT64_MAX");
	p = b; p.mem_min = p.mem_max + VT_PAGE;
	create_fails(&p, -EINVAL, "PART_CREATE mem_min > mem_max");
	p = b; p.weight = ASH_WEIGHT_MAX + 1;
	create_fails(&p, -EINVAL, "PART_CREATE weight ASH_WEIGHT_MAX + 1");
	p = b; p.weight = UINT32_MAX;
	create_fails(&p, -EINVAL, "PART_CREATE weight 0xffffffff");
	p = b; p.max_buffers = ASH_MAX_BUFFERS_LIMIT + 1;
	create_fails(&p, -EINVAL, "PART_CREATE max_buffers ASH_MAX_BUFFERS_LIMIT + 1");
	p = b; p.nr_uids = ASH_ACL_MAX + 1;
	create_fails(&p, -EINVAL, "PART_CREATE nr_uids ASH_ACL_MAX + 1");
	p = b; p.nr_uids = UINT32_MAX;
	create_fails(&p, -EINVAL, "PART_CREATE nr_uids 0xffffffff");
	p = b; p.nr_gids = ASH_ACL_MAX + 1;
	create_fails(&p, -EINVAL, "PART_CREATE nr_gids ASH_ACL_MAX + 1");
	p = b; p.uids[0] = VT_ALICE;
	create_fails(&p, -EINVAL, "PART_CREATE nr_uids 0 with uids[0] set");
	p = b; p.nr_uids = 1; p.uids[0] = VT_ALICE; p.uids[ASH_ACL_MAX - 1] = VT_BOB;
	create_fails(&p, -EINVAL, "PART_CREATE nr_uids 1 with uids[15] set");
	p = b; p.gids[0] = VT_ORGA;
	create_fails(&p, -EINVAL, "PART_CREATE nr_gids 0 with gids[0] set");
	p = b; p.nr_gids = 2; p.gids[0] = VT_ORGA; p.gids[1] = VT_ORGB; p.gids[2] = VT_ORGC;
	create_fails(&p, -EINVAL, "PART_CREATE nr_gids 2 with gids[2] set");
	p = b; p.device = 1;
	create_fails(&p, -ENODEV, "PART_CREATE on device 1");
	/* The caller cannot read back what it created: nothing is created. */
	{
		uint8_t *ro = mmap(NULL, VT_PAGE, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (EXPECT(ro != MAP_FAILED, "mmap a page")) {
			memcpy(ro, &b, sizeof(b));
			mprotect(ro, VT_PAGE, PROT_READ);
			create_fails((struct ash_partition_params *)ro, -EFAULT,
				     "PART_CREATE from a read-only page (id cannot be written)");
			munmap(ro, VT_PAGE);
		}
	}
	/* Whatever slipped through would be here. */
	EXPECT_ERR(vt_part_delete("sweep_new"), -ENOENT,
		   "sweep_new must not exist after the refused creates");
}

static void sweep_set(void)
{
	struct ash_partition_params p, b;
	char what[96];
	int i;

	/* A valid change of base's weight; every variant must be refused. */
	vt_params(&b, "base", 0);
	b.flags = ASH_PART_SET_WEIGHT;
	b.weight = 555;
	vt_sweep(vt_ctl, ASH_CTL_PART_SET, "PART_SET", &b, sizeof(b),
		 offsetof(struct ash_partition_params, flags), ASH_PART_SET_ALL,
		 params_zero, NEL(params_zero));

	p = b; p.flags = 0;
	EXPECT_ERR(vt_part_set(&p), -EINVAL, "PART_SET with flags 0");
	/* A reclaim's notice, malformed: refused, nothing changed. */
	p = b; p.flags = ASH_PART_SET_MEM_MAX; p.mem_max = 8 * MiB;
	p.reclaim_action = ASH_RECLAIM_KILL;
	EXPECT_ERR(vt_part_set(&p), -EINVAL, "PART_SET kill without a deadline");
	p.reclaim_action = ASH_RECLAIM_KILL + 1; p.reclaim_deadline_ms = 1000;
	EXPECT_ERR(vt_part_set(&p), -EINVAL, "PART_SET an unknown reclaim action");
	p.reclaim_action = ASH_RECLAIM_NONE;
	p.reclaim_deadline_ms = ASH_RECLAIM_DEADLINE_MS_MAX + 1;
	EXPECT_ERR(vt_part_set(&p), -EINVAL, "PART_SET a deadline past the longest");
	p = b; strcpy(p.name, "nosuch");
	EXPECT_ERR(vt_part_set(&p), -ENOENT, "PART_SET of nosuch");
	p = b; name_unterminated(p.name);
	EXPECT_ERR(vt_part_set(&p), -EINVAL, "PART_SET with an unterminated name");
	for (i = 0; i < NEL(bad_names); i++) {
		p = b;
		memset(p.name, 0, sizeof(p.name));
		strcpy(p.name, bad_names[i]);
		snprintf(what, sizeof(what), "PART_SET of bad name #%d", i);
		expect_einval_or_enoent(vt_part_set(&p), what);
	}
	p = b; p.weight = ASH_WEIGHT_MAX + 1;
	EXPECT_ERR(vt_part_set(&p), -EINVAL, "PART_SET weight ASH_WEIGHT_MAX + 1");
	p = b; p.flags = ASH_PART_SET_MEM_MAX; p.mem_max = 0;
	EXPECT_ERR(vt_part_set(&p), -EINVAL, "PART_SET mem_max 0");
	p = b; p.flags = ASH_PART_SET_MEM_MAX; p.mem_max = capacity + 1;
	EXPECT_ERR(vt_part_set(&p), -EINVAL, "PART_SET mem_max capacity + 1");
	/* base's mem_max is 8 MiB */
	p = b; p.flags = ASH_PART_SET_MEM_MIN; p.mem_min = 8 * MiB + VT_PAGE;
	EXPECT_ERR(vt_part_set(&p), -EINVAL, "PART_SET mem_min above the current mem_max");
	p = b; p.flags = ASH_PART_SET_MEM_MAX | ASH_PART_SET_MEM_MIN;
	p.mem_max = 2 * MiB; p.mem_min = 3 * MiB;
	EXPECT_ERR(vt_part_set(&p), -EINVAL, "PART_SET mem_min > mem_max together");
	p = b; p.flags = ASH_PART_SET_ACL; p.nr_uids = ASH_ACL_MAX + 1;
	EXPECT_ERR(vt_part_set(&p), -EINVAL, "PART_SET nr_uids ASH_ACL_MAX + 1");
	p = b; p.flags = ASH_PART_SET_ACL; p.nr_gids = ASH_ACL_MAX + 1;
	EXPECT_ERR(vt_part_set(&p), -EINVAL, "PART_SET nr_gids ASH_ACL_MAX + 1");
	p = b; p.flags = ASH_PART_SET_ACL; p.nr_uids = 1; p.uids[0] = VT_BOB; p.uids[1] = VT_CAROL;
	EXPECT_ERR(vt_part_set(&p), -EINVAL, "PART_SET nr_uids 1 with uids[1] set");
	p = b; p.flags = ASH_PART_SET_ACL; p.gids[5] = VT_ORGC;
	EXPECT_ERR(vt_part_set(&p), -EINVAL, "PART_SET nr_gids 0 with gids[5] set");
	p = b; p.flags = ASH_PART_SET_LIMITS; p.max_buffers = ASH_MAX_BUFFERS_LIMIT + 1;
	EXPECT_ERR(vt_part_set(&p), -EINVAL, "PART_SET max_buffers ASH_MAX_BUFFERS_LIMIT + 1");
	/* One bad value refuses the whole change: the valid weight is not
	 * applied either (the snapshot would show 555). */
	p = b; p.flags = ASH_PART_SET_WEIGHT | ASH_PART_SET_MEM_MAX; p.mem_max = 0;
	EXPECT_ERR(vt_part_set(&p), -EINVAL, "PART_SET weight ok + mem_max 0");
	p = b; p.flags = ASH_PART_SET_WEIGHT | ASH_PART_SET_ACL; p.nr_uids = 99;
	EXPECT_ERR(vt_part_set(&p), -EINVAL, "PART_SET weight ok + nr_uids 99");
}

static void sweep_delete(void)
{
	static const struct vt_field zero[] = {
		VT_FIELD(struct ash_partition_delete, pad),
		VT_RESERVED(struct ash_partition_delete, 0),
		VT_RESERVED(struct ash_partition_delete, 1),
	};
	struct ash_partition_delete d;
	char what[96];
	int i;

	/* A valid delete of "victim"; every variant must be refused. */
	memset(&d, 0, sizeof(d));
	strcpy(d.name, "victim");
	vt_sweep(vt_ctl, ASH_CTL_PART_DELETE, "PART_DELETE", &d, sizeof(d),
		 offsetof(struct ash_partition_delete, flags), 0, zero, NEL(zero));
	memset(&d, 0, sizeof(d));
	strcpy(d.name, "nosuch");
	EXPECT_ERR(vt_ioctl(vt_ctl, ASH_CTL_PART_DELETE, &d), -ENOENT, "PART_DELETE nosuch");
	name_unterminated(d.name);
	EXPECT_ERR(vt_ioctl(vt_ctl, ASH_CTL_PART_DELETE, &d), -EINVAL,
		   "PART_DELETE with an unterminated name");
	for (i = 0; i < NEL(bad_names); i++) {
		memset(d.name, 0, sizeof(d.name));
		strcpy(d.name, bad_names[i]);
		snprintf(what, sizeof(what), "PART_DELETE of bad name #%d", i);
		expect_einval_or_enoent(vt_ioctl(vt_ctl, ASH_CTL_PART_DELETE, &d), what);
	}
	memset(&d, 0, sizeof(d));
	strcpy(d.name, "rootonly");
	EXPECT_ERR(vt_ioctl(vt_ctl, ASH_CTL_PART_DELETE, &d), -EBUSY,
		   "PART_DELETE of a partition with a bound context");
}

static void sweep_unknown(void)
{
	struct ash_partition_info pi;
	uint8_t buf[512];
	struct { const char *name; unsigned long cmd; } bad[] = {
		{ "nr 0x4d (after the last ctl ioctl)", _IOWR(ASH_IOC_MAGIC, 0x4d, struct ash_device_info) },
		{ "nr 0x3f", _IOWR(ASH_IOC_MAGIC, 0x3f, struct ash_device_info) },
		{ "nr 0xff", _IOWR(ASH_IOC_MAGIC, 0xff, struct ash_device_info) },
		{ "magic 'x', nr 0x40", _IOWR('x', 0x40, struct ash_device_info) },
		{ "TCGETS", 0x5401 },
		{ "tenant BIND", ASH_IOC_BIND },
		{ "tenant PARTITION_INFO", ASH_IOC_PARTITION_INFO },
		{ "tenant BUF_ALLOC", ASH_IOC_BUF_ALLOC },
		{ "tenant BUF_FREE", ASH_IOC_BUF_FREE },
		{ "tenant BUF_INFO", ASH_IOC_BUF_INFO },
	};
	char what[96];
	int i;

	for (i = 0; i < NEL(bad); i++) {
		memset(buf, 0, sizeof(buf));
		/* a bind or alloc that would work if it were accepted */
		strcpy((char *)buf + 8, "rootonly");
		snprintf(what, sizeof(what), "control node ioctl %s", bad[i].name);
		EXPECT_ERR(vt_ioctl(vt_ctl, bad[i].cmd, buf), -ENOTTY, what);
	}
	memset(&pi, 0, sizeof(pi));
	EXPECT_ERR(vt_ioctl(vt_ctl, ASH_IOC_PARTITION_INFO, &pi), -ENOTTY,
		   "tenant PARTITION_INFO on the control node");
}

/* Things that are accepted: run before the snapshot, undone after. */
static void accepted_forms(void)
{
	struct ash_device_info d, ref;
	struct ash_partition_params p;
	struct ash_partition_info pi;
	uint8_t big[sizeof(struct ash_partition_params) + 8];
	uint8_t canary[sizeof(struct ash_device_info) + 8];
	size_t small = sizeof(struct ash_device_info) - 8;
	char long_name[ASH_NAME_MAX];

	ref = vt_dev();

	/* Larger struct, zero tail: works, tail comes back zero. */
	memset(canary, 0, sizeof(canary));
	EXPECT_OK(vt_ioctl_sized(vt_ctl, ASH_CTL_DEVICE_INFO, canary, sizeof(canary)),
		  "DEVICE_INFO as a larger struct with a zero tail");
	memcpy(&d, canary, sizeof(d));
	EXPECT_EQ(d.mem_capacity, ref.mem_capacity, "mem_capacity via the larger struct");
	EXPECT_EQ(vt_find_not(canary + sizeof(d), 8, 0), -1,
		  "first nonzero tail byte after a larger DEVICE_INFO");

	/*
	 * Smaller struct: DEVICE_INFO grew once, so its first version's size
	 * is served (exactly that many bytes come back); any other smaller
	 * size was never released: refused, nothing written.
	 */
	memset(canary, 0x5A, sizeof(canary));
	memset(canary, 0, small);
	EXPECT_ERR(vt_ioctl_sized(vt_ctl, ASH_CTL_DEVICE_INFO, canary, small),
		   -EINVAL, "DEVICE_INFO as a struct 8 bytes smaller");
	EXPECT_EQ(vt_find_not(canary, small, 0), -1,
		  "first byte written into a too-small DEVICE_INFO");
	memset(canary, 0x5A, sizeof(canary));
	memset(canary, 0, ASH_DEVICE_INFO_SIZE_V1);
	EXPECT_OK(vt_ioctl_sized(vt_ctl, ASH_CTL_DEVICE_INFO, canary,
				 ASH_DEVICE_INFO_SIZE_V1),
		  "DEVICE_INFO as its first version");
	memcpy(&d, canary, sizeof(d));
	EXPECT_EQ(d.mem_capacity, ref.mem_capacity,
		  "mem_capacity via the first version");
	EXPECT_EQ(vt_find_not(canary + ASH_DEVICE_INFO_SIZE_V1,
			      sizeof(canary) - ASH_DEVICE_INFO_SIZE_V1, 0x5A), -1,
		  "first byte written past a first-version DEVICE_INFO");

	/* Output-only fields are ignored on input. */
	memset(&d, 0, sizeof(d));
	d.kind = 77;
	d.mem_used = 12345;
	d.nr_partitions = 999;
	d.numa_node = 42;
	EXPECT_OK(vt_ioctl(vt_ctl, ASH_CTL_DEVICE_INFO, &d),
		  "DEVICE_INFO with garbage in output fields");
	EXPECT_EQ(d.kind, ASH_DEVICE_HOST, "DEVICE_INFO kind (device 0 is host-backed)");
	EXPECT_EQ(d.nr_partitions, ref.nr_partitions, "DEVICE_INFO nr_partitions overwritten");
	memset(&pi, 0, sizeof(pi));
	pi.flags = ASH_PART_INFO_BY_NAME;
	strcpy(pi.name, "base");
	pi.mem_used = 777;
	pi.nr_uids = 99;
	pi.busy_ns = 1;
	EXPECT_OK(vt_ioctl(vt_ctl, ASH_CTL_PART_INFO, &pi),
		  "PART_INFO with garbage in output fields");
	EXPECT_EQ(pi.mem_max, 8 * MiB, "PART_INFO base mem_max");
	EXPECT_EQ(pi.nr_uids, 1, "PART_INFO base nr_uids");
	/* Without BY_NAME the name is output: an unterminated one is fine. */
	memset(&pi, 0, sizeof(pi));
	name_unterminated(pi.name);
	EXPECT_OK(vt_ioctl(vt_ctl, ASH_CTL_PART_INFO, &pi),
		  "PART_INFO walk with garbage in name");

	/* Create via a larger struct with a zero tail; a 31-byte name; odd but
	 * valid characters; create's output id ignored on input. */
	vt_params(&p, "sweep_big", 1 * MiB);
	memset(big, 0, sizeof(big));
	memcpy(big, &p, sizeof(p));
	EXPECT_OK(vt_ioctl_sized(vt_ctl, ASH_CTL_PART_CREATE, big, sizeof(big)),
		  "PART_CREATE as a larger struct with a zero tail");
	EXPECT_OK(vt_part_delete("sweep_big"), "delete sweep_big");
	memset(long_name, 'n', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = 0;
	vt_params(&p, long_name, 1 * MiB);
	EXPECT_OK(vt_part_create(&p), "PART_CREATE with a 31-byte name");
	EXPECT_OK(vt_part_delete(long_name), "delete the 31-byte name");
	vt_params(&p, "a.b-c_D9", 1 * MiB);
	p.id = 0xdeadbeef;
	p.weight = ASH_WEIGHT_MAX;
	p.max_buffers = ASH_MAX_BUFFERS_LIMIT;
	p.nr_uids = ASH_ACL_MAX;
	p.nr_gids = ASH_ACL_MAX;
	for (int i = 0; i < ASH_ACL_MAX; i++) {
		p.uids[i] = 3000 + i;
		p.gids[i] = 4000 + i;
	}
	EXPECT_OK(vt_part_create(&p),
		  "PART_CREATE a.b-c_D9 (weight max, full ACLs, id garbage on input)");
	pi = vt_part("a.b-c_D9");
	EXPECT_EQ(pi.weight, ASH_WEIGHT_MAX, "a.b-c_D9 weight");
	EXPECT_EQ(pi.nr_uids, ASH_ACL_MAX, "a.b-c_D9 nr_uids");
	EXPECT_EQ(pi.gids[ASH_ACL_MAX - 1], 4000 + ASH_ACL_MAX - 1, "a.b-c_D9 last gid");
	EXPECT_EQ(pi.max_contexts, ASH_MAX_CONTEXTS_DEFAULT, "a.b-c_D9 max_contexts default");

	/* PART_SET ignores fields its flags do not name. */
	vt_params(&p, "a.b-c_D9", 0);	/* mem_max 0 but not named */
	p.flags = ASH_PART_SET_WEIGHT;
	p.weight = 300;
	p.nr_uids = 0;
	p.uids[3] = 1;			/* ACL not named: ignored */
	EXPECT_OK(vt_part_set(&p), "PART_SET weight only, other fields garbage");
	pi = vt_part("a.b-c_D9");
	EXPECT_EQ(pi.mem_max, 1 * MiB, "mem_max untouched by a weight-only PART_SET");
	EXPECT_EQ(pi.nr_uids, ASH_ACL_MAX, "ACL untouched by a weight-only PART_SET");
	EXPECT_EQ(pi.weight, 300, "weight after a weight-only PART_SET");
	EXPECT_OK(vt_part_delete("a.b-c_D9"), "delete a.b-c_D9");

	/* Read-only page: the output cannot be written. */
	{
		uint8_t *ro = mmap(NULL, VT_PAGE, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (EXPECT(ro != MAP_FAILED, "mmap a page")) {
			memset(ro, 0, VT_PAGE);
			mprotect(ro, VT_PAGE, PROT_READ);
			EXPECT_ERR(vt_ioctl(vt_ctl, ASH_CTL_DEVICE_INFO, ro), -EFAULT,
				   "DEVICE_INFO into a read-only page");
			munmap(ro, VT_PAGE);
		}
	}
}

static int nonroot_ctl(void *arg)
{
	struct ash_partition_params p;
	struct ash_device_info d;
	bool mode_open = arg != NULL;
	long ret;
	int fd;

	fd = open(VT_CTL_DEV, O_RDWR);
	if (!mode_open) {
		EXPECT(fd < 0 && errno == EACCES,
		       "alice opens %s (mode 0600): expected -EACCES, got %s", VT_CTL_DEV,
		       fd < 0 ? vt_errname(-errno) : "an fd");
		if (fd >= 0)
			close(fd);
		fd = open(VT_CTL_DEV, O_RDONLY);
		EXPECT(fd < 0, "alice opens %s read-only: got an fd", VT_CTL_DEV);
		if (fd >= 0)
			close(fd);
		return 0;
	}
	/* Node made 0666: the driver's own CAP_SYS_ADMIN check must hold. */
	if (fd < 0) {
		EXPECT(errno == EPERM || errno == EACCES,
		       "alice opens a 0666 control node: expected -EPERM or -EACCES, got %s",
		       vt_errname(-errno));
		return 0;
	}
	memset(&d, 0, sizeof(d));
	ret = vt_ioctl(fd, ASH_CTL_DEVICE_INFO, &d);
	EXPECT(ret == -EPERM || ret == -EACCES,
	       "alice DEVICE_INFO on a 0666 control node: expected -EPERM or -EACCES, got %s",
	       vt_errname(ret));
	vt_params(&p, "alices", 1 * MiB);
	ret = vt_ioctl(fd, ASH_CTL_PART_CREATE, &p);
	EXPECT(ret == -EPERM || ret == -EACCES,
	       "alice PART_CREATE on a 0666 control node: expected -EPERM or -EACCES, got %s",
	       vt_errname(ret));
	close(fd);
	return 0;
}

/* ASH_CTL_USAGE: bad input refused; the two-call protocol for the room. */
static void sweep_usage(void)
{
	static const struct vt_field zero[] = {
		{ offsetof(struct ash_usage, pad), 4, "pad" },
		VT_RESERVED(struct ash_usage, 0),
		VT_RESERVED(struct ash_usage, 2),
	};
	struct ash_usage_entry e[8];
	struct ash_usage u = { .device = 0 };
	uint32_t nr, i, j;
	bool seen_rootonly = false;

	vt_sweep(vt_ctl, ASH_CTL_USAGE, "USAGE", &u, sizeof(u),
		 offsetof(struct ash_usage, flags), 0, zero, NEL(zero));
	u.device = 1;
	EXPECT_ERR(vt_ioctl(vt_ctl, ASH_CTL_USAGE, &u), -ENODEV, "USAGE device 1");

	/* No room: the count alone. */
	memset(&u, 0, sizeof(u));
	EXPECT_OK(vt_ioctl(vt_ctl, ASH_CTL_USAGE, &u), "USAGE without room");
	nr = u.nr_entries;
	EXPECT_EQ(nr, 3, "USAGE: partitions of device 0");
	EXPECT(u.serial != 0, "USAGE: the device's serial is 0");
	if (nr < 1 || nr > NEL(e))
		return;
	/* Too little room: nothing written, the count again. */
	memset(e, 0xa5, sizeof(e));
	u.nr_entries = nr - 1;
	u.entries = (uintptr_t)e;
	EXPECT_OK(vt_ioctl(vt_ctl, ASH_CTL_USAGE, &u), "USAGE with too little room");
	EXPECT_EQ(u.nr_entries, nr, "USAGE with too little room: the count");
	EXPECT_EQ(e[0].id, 0xa5a5a5a5u, "USAGE with too little room wrote an entry");
	/* Room: every partition, serials distinct. */
	u.nr_entries = NEL(e);
	EXPECT_OK(vt_ioctl(vt_ctl, ASH_CTL_USAGE, &u), "USAGE with room");
	EXPECT_EQ(u.nr_entries, nr, "USAGE with room: the count");
	for (i = 0; i < nr && i < NEL(e); i++) {
		EXPECT(e[i].serial != 0 && e[i].serial != u.serial,
		       "USAGE entry %u: serial %llu", i, (unsigned long long)e[i].serial);
		for (j = 0; j < i; j++)
			EXPECT(e[i].serial != e[j].serial, "USAGE entries %u and %u: one serial", i, j);
		if (!strcmp(e[i].name, "rootonly")) {
			seen_rootonly = true;
			EXPECT_EQ(e[i].mem_used, 3 * VT_PAGE, "USAGE rootonly mem_used");
		}
	}
	EXPECT(seen_rootonly, "USAGE lists no rootonly");
	/* An entries pointer that faults. */
	u.entries = 1;
	EXPECT_ERR(vt_ioctl(vt_ctl, ASH_CTL_USAGE, &u), -EFAULT, "USAGE entries at address 1");
}

int main(void)
{
	struct ash_partition_params p;
	struct vt_snap snap;
	struct stat st;
	uint32_t h;
	int tfd;

	vt_init("ioctl_bad_input_ctl", 120);
	capacity = vt_dev().mem_capacity;

	REQUIRE(!stat(VT_CTL_DEV, &st), "stat %s", VT_CTL_DEV);
	EXPECT_EQ(st.st_mode & 07777, 0600, VT_CTL_DEV " mode");
	REQUIRE(!stat(VT_TENANT_DEV, &st), "stat %s", VT_TENANT_DEV);
	EXPECT_EQ(st.st_mode & 07777, 0666, VT_TENANT_DEV " mode");

	vt_params(&p, "base", 8 * MiB);
	p.mem_min = 1 * MiB;
	p.nr_uids = 1;
	p.uids[0] = VT_ALICE;
	REQUIRE_OK(vt_part_create(&p), "create base");
	vt_part_new("victim", 1 * MiB, 0, (uid_t)-1, (gid_t)-1);
	vt_part_new("rootonly", 4 * MiB, 0, (uid_t)-1, (gid_t)-1);
	tfd = vt_tenant_open("rootonly");
	REQUIRE(tfd >= 0, "root binds rootonly (empty ACL): got %s", vt_errname(tfd));
	REQUIRE_OK(vt_buf_alloc(tfd, 3 * VT_PAGE, &h, NULL), "root alloc in rootonly");

	accepted_forms();

	vt_snap_take(&snap);
	sweep_device_info();
	sweep_part_info();
	sweep_ctx_info();
	sweep_usage();
	sweep_create();
	sweep_set();
	sweep_delete();
	sweep_unknown();
	vt_snap_expect_same(&snap, "after the control node sweep");

	EXPECT_EQ(vt_run_as(VT_ALICE, VT_ORGA, nonroot_ctl, NULL), 0,
		  "non-root control-node tenant exit status");
	if (EXPECT(!chmod(VT_CTL_DEV, 0666), "chmod 0666 %s: %s", VT_CTL_DEV,
		   vt_errname(-errno))) {
		EXPECT_EQ(vt_run_as(VT_ALICE, VT_ORGA, nonroot_ctl, (void *)1), 0,
			  "non-root on a 0666 control node: exit status");
		EXPECT(!chmod(VT_CTL_DEV, 0600), "chmod 0600 %s back: %s", VT_CTL_DEV,
		       vt_errname(-errno));
	}
	vt_snap_expect_same(&snap, "after the non-root attempts");

	close(tfd);
	EXPECT_OK(vt_part_delete("rootonly"), "delete rootonly after closing its context");
	EXPECT_OK(vt_part_delete("victim"), "delete victim");
	EXPECT_OK(vt_part_delete("base"), "delete base");
	return vt_result();
}
