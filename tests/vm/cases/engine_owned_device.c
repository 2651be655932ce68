// SPDX-License-Identifier: MIT
/*
 * A device whose memory its engine owns (ASH_DEVICE_ENGINE), registered by
 * accelshare-engine with the cpu backend (a memfd; the same code serves a
 * GPU's memory with the cuda backend).  With raw ioctls:
 *   1. registration: the device appears by name with its backend and
 *      engine; ashctl lists it and creates partitions on it by name;
 *      malformed registrations fail (-EINVAL, -EBADF, -EEXIST) and change
 *      nothing; a second engine for it is refused (-EBUSY), as is serving
 *      it with ENGINE_ATTACH (-EINVAL);
 *   2. tenants cannot map its memory (-ENODEV), only staging buffers;
 *   3. invariant 3: alice fills 16 MiB with FILL jobs and frees it; bob
 *      allocates as much and copies every byte out through staging: zero;
 *      the freed ranges were scrubbed (mem_scrubbing back to 0);
 *   4. isolation: bob's operands cannot name alice's buffers (-ENOENT) or
 *      pass his own (-ERANGE);
 *   5. engine kill -9 while tenants hold memory and a job runs: the job
 *      fails with -EIO, the device and its partitions persist, a new engine
 *      takes the memory back (ASH_REGISTER_KEPT) and bob's bytes are
 *      intact; every counter is as before;
 *   6. a backend that cannot hand its memory over (--test-volatile): after
 *      kill -9 every buffer in it is lost (buffers_lost), jobs naming one
 *      fail with -EIO, new allocations work and read zero, freeing a lost
 *      buffer gives its charge back;
 *   7. a tenant killed mid-copy: its charge goes, its ranges are scrubbed
 *      and reused, all zero.
 */
#include <sys/mman.h>
#include <sys/syscall.h>

#include "vmtest.h"
#include "vtexec.h"

#define DEV		"vt_owned"
#define DEV_VOL		"vt_volatile"
#define DEV_MEM		"64M"
#define CHUNK		(1 * MiB)
#define NCHUNK		16

struct engine_args {
	const char *name;
	const char *stall_ms;	/* NULL: none */
	bool volatile_mem;
};

static int engine_exec(void *arg)
{
	const struct engine_args *a = arg;
	const char *argv[16];
	int n = 0;

	argv[n++] = VX_ENGINE;
	argv[n++] = "--register";
	argv[n++] = a->name;
	argv[n++] = "--mem";
	argv[n++] = DEV_MEM;
	argv[n++] = "--threads";
	argv[n++] = "1";
	if (a->stall_ms) {
		argv[n++] = "--test-stall-ms";
		argv[n++] = a->stall_ms;
	}
	if (a->volatile_mem)
		argv[n++] = "--test-volatile";
	argv[n] = NULL;
	execv(VX_ENGINE, (char *const *)argv);
	printf("FAIL: exec %s: %s\n", VX_ENGINE, strerror(errno));
	return 126;
}

static long dev_named(const char *name, struct ash_device_info *d)
{
	memset(d, 0, sizeof(*d));
	d->flags = ASH_DEVICE_INFO_BY_NAME;
	snprintf(d->name, sizeof(d->name), "%s", name);
	return vt_ioctl(vt_ctl, ASH_CTL_DEVICE_INFO, d);
}

/* Wait until device @name has (@want) or has no engine; its info. */
static struct ash_device_info dev_wait(const char *name, bool want)
{
	struct ash_device_info d;
	int i;

	for (i = 0; i < 6000; i++) {
		if (!dev_named(name, &d) && !!d.has_engine == want)
			return d;
		usleep(10000);
	}
	FAIL("device %s: %s an engine after 60 s", name,
	     want ? "still no" : "still");
	vt_bail();
	return d;
}

static pid_t engine_start(const struct engine_args *a)
{
	pid_t pid = vt_spawn_as(VT_ROOT, 0, NULL, 0, engine_exec, (void *)a);

	dev_wait(a->name, true);
	return pid;
}

static void engine_kill(pid_t pid, int sig, const char *name)
{
	kill(pid, sig);
	vt_wait(pid);
	dev_wait(name, false);
}

/* A staging buffer of @size, mapped: its handle, the mapping in *@p. */
static uint32_t staging(int fd, uint64_t size, void **p)
{
	uint64_t off;
	uint32_t h;

	REQUIRE_OK(vt_buf_alloc_flags(fd, size, ASH_BUF_STAGING, &h, &off),
		   "alloc staging");
	*p = vt_buf_map(fd, off, size);
	REQUIRE(*p, "mmap a staging buffer: %s", vt_errname(-errno));
	return h;
}

/* Copy device buffer @h out through staging @sh: the first byte in it
 * that is not @byte, or -1. */
static long copy_out_find_not(int fd, uint32_t h, uint32_t sh, void *sp,
			      uint64_t len, uint8_t byte)
{
	struct ash_command c;

	memset(sp, 0x5A, len);
	vx_cmd_copy(&c, sh, 0, h, 0, len);
	if (vx_run(fd, &c, 1)) {
		FAIL("copy out through staging failed");
		return 0;
	}
	return vt_find_not(sp, len, byte);
}

static void name(struct ash_engine_register *r, const char *n)
{
	memset(r->name, 0, sizeof(r->name));
	snprintf(r->name, sizeof(r->name), "%s", n);
}

/* 1. Registration, listing, partitions by name, bad registrations. */
static void registration(const struct ash_device_info *d)
{
	struct ash_engine_register r;
	struct ash_engine_attach at;
	struct ash_device_info before, after;
	char out[8192], objs[8][1024], s[64];
	int fd, memfd, n, i, found = 0;
	uint64_t v;

	EXPECT_EQ(d->kind, ASH_DEVICE_ENGINE, "registered device's kind");
	EXPECT(!strcmp(d->backend, "cpu"), "backend: expected cpu, got '%s'",
	       d->backend);
	EXPECT_EQ(d->mem_capacity, 64 * MiB, "registered capacity");
	EXPECT_EQ(d->persistent, 1, "cpu backend memory outlives the engine");
	EXPECT(d->engine_pid > 0, "engine pid shown");

	REQUIRE_EQ(vt_sh(out, sizeof(out), VT_ASHCTL " device list --json"), 0,
		   "ashctl device list --json");
	n = vt_json_objects(out, objs, 8);
	for (i = 0; i < n; i++) {
		if (!vt_json_str(objs[i], "name", s, sizeof(s)) || strcmp(s, DEV))
			continue;
		found = 1;
		EXPECT(vt_json_str(objs[i], "backend", s, sizeof(s)) &&
		       !strcmp(s, "cpu"), "device list --json: backend");
		EXPECT(vt_json_u64(objs[i], "id", &v) && v == d->device,
		       "device list --json: id");
		EXPECT(vt_json_u64(objs[i], "engine_pid", &v) &&
		       v == (uint64_t)d->engine_pid, "device list --json: engine_pid");
	}
	EXPECT(found, "ashctl device list --json lists %s", DEV);
	EXPECT_EQ(vt_sh(out, sizeof(out), VT_ASHCTL " device list | grep -q '%s.*engine.*cpu'", DEV),
		  0, "ashctl device list shows name, kind and backend");
	EXPECT_EQ(vt_sh(NULL, 0, VT_ASHCTL " partition create owned_cli --mem 8M --device %s", DEV),
		  0, "ashctl partition create --device NAME");
	vt_part_track("owned_cli");
	EXPECT_EQ(vt_part("owned_cli").device, d->device,
		  "the partition is on the named device");
	EXPECT_EQ(vt_sh(NULL, 0, VT_ASHCTL " partition create owned_x --mem 8M --device no_such_dev 2>/dev/null"),
		  1, "ashctl partition create --device with an unknown name");

	/* Bad registrations change nothing (on a second control fd, which
	 * never becomes an engine). */
	REQUIRE_OK(dev_named(DEV, &before), "device info before");
	fd = open(VT_CTL_DEV, O_RDWR | O_CLOEXEC);
	REQUIRE(fd >= 0, "open the control node");
	memfd = (int)syscall(SYS_memfd_create, "small", 0);
	REQUIRE(memfd >= 0 && !ftruncate(memfd, 4096), "a one-page memfd");
#define BAD(what, want, stmt) do {					\
		memset(&r, 0, sizeof(r));				\
		r.mem_fd = -1;						\
		snprintf(r.name, sizeof(r.name), "vt_new");		\
		snprintf(r.backend, sizeof(r.backend), "cpu");		\
		r.mem_size = 16 * MiB;					\
		r.gpu_numa_node = -1;					\
		stmt;							\
		EXPECT_ERR(vt_ioctl(fd, ASH_CTL_ENGINE_REGISTER, &r), want, what); \
	} while (0)
	BAD("register with unknown flags", -EINVAL, r.flags = 1);
	BAD("register with reserved set", -EINVAL, r.reserved[3] = 1);
	BAD("register an empty name", -EINVAL, r.name[0] = 0);
	BAD("register a bad name", -EINVAL, r.name[0] = '-');
	BAD("register an unterminated name", -EINVAL,
	    memset(r.name, 'a', sizeof(r.name)));
	BAD("register junk after the name", -EINVAL, r.name[20] = 'x');
	BAD("register without a backend", -EINVAL, r.backend[0] = 0);
	BAD("register with no memory", -EINVAL, r.mem_size = 0);
	BAD("register more than ASH_DEVICE_MEM_MAX", -EINVAL,
	    r.mem_size = ASH_DEVICE_MEM_MAX + 4096);
	BAD("register with a NUMA node that is not online", -EINVAL,
	    r.gpu_numa_node = 1000);
	BAD("register with a bad fd", -EBADF, r.mem_fd = 1000);
	BAD("register with fd -2", -EINVAL, r.mem_fd = -2);
	BAD("register the control node as memory", -EINVAL, r.mem_fd = fd);
	BAD("register a memfd smaller than the memory", -EINVAL,
	    r.mem_fd = memfd);
	BAD("register the host device's name", -EEXIST, name(&r, "host"));
	BAD("re-register with another backend", -EINVAL,
	    (name(&r, DEV), snprintf(r.backend, sizeof(r.backend), "cuda")));
	BAD("re-register with another size", -EINVAL, name(&r, DEV));
	BAD("re-register handing over memory it keeps", -EINVAL,
	    (name(&r, DEV), r.mem_size = 0, r.mem_fd = memfd));
	BAD("a second engine for the device", -EBUSY,
	    (name(&r, DEV), r.mem_size = 0));
#undef BAD
	memset(&at, 0, sizeof(at));
	at.device = d->device;
	EXPECT_ERR(vt_ioctl(fd, ASH_CTL_ENGINE_ATTACH, &at), -EINVAL,
		   "ENGINE_ATTACH to an engine-owned device");
	EXPECT_ERR(dev_named("vt_new", &after), -ENODEV,
		   "no device was made by the bad registrations");
	REQUIRE_OK(dev_named(DEV, &after), "device info after");
	EXPECT_EQ(after.engine_pid, before.engine_pid, "its engine is unchanged");
	EXPECT_EQ(after.mem_capacity, before.mem_capacity,
		  "its capacity is unchanged");
	/* No descriptor leaked into this process by the -EBUSY path. */
	EXPECT_EQ(fcntl(memfd + 1, F_GETFD), -1, "no fd installed on failure");
	close(memfd);
	close(fd);
}

/* 2. Only staging buffers map. */
static void mapping(void)
{
	uint64_t off;
	uint32_t h;
	void *p;
	int fd = vt_tenant_open("owned_a");

	REQUIRE(fd >= 0, "bind owned_a: %s", vt_errname(fd));
	REQUIRE_OK(vt_buf_alloc(fd, 64 * KiB, &h, &off), "alloc device memory");
	p = mmap(NULL, 64 * KiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 (off_t)off);
	EXPECT(p == MAP_FAILED && errno == ENODEV,
	       "mmap of engine-owned memory: expected ENODEV, got %s",
	       p == MAP_FAILED ? vt_errname(-errno) : "a mapping");
	staging(fd, 64 * KiB, &p);
	EXPECT_EQ(vt_find_not(p, 64 * KiB, 0), -1, "a new staging buffer is zero");
	vt_buf_unmap(p, 64 * KiB);
	close(fd);
}

/* 3. alice's bytes, freed, never reach bob. */
static int alice_fill_free(void *arg)
{
	struct ash_command c;
	uint32_t h[NCHUNK];
	int fd, i;

	(void)arg;
	fd = vt_tenant_open("owned_a");
	REQUIRE(fd >= 0, "alice bind owned_a: %s", vt_errname(fd));
	for (i = 0; i < NCHUNK; i++) {
		REQUIRE_OK(vt_buf_alloc(fd, CHUNK, &h[i], NULL), "alice alloc 1 MiB");
		vx_cmd_fill(&c, h[i], 0, CHUNK, 0xA5A5A5A5u);
		EXPECT_OK(vx_run(fd, &c, 1), "alice's FILL");
	}
	for (i = 0; i < NCHUNK; i++)
		EXPECT_OK(vt_buf_free(fd, h[i]), "alice free");
	close(fd);
	return 0;
}

static int bob_check_zero(void *arg)
{
	uint32_t h, sh;
	void *sp;
	long at;
	int fd, i;

	(void)arg;
	fd = vt_tenant_open("owned_b");
	REQUIRE(fd >= 0, "bob bind owned_b: %s", vt_errname(fd));
	sh = staging(fd, CHUNK, &sp);
	for (i = 0; i < NCHUNK; i++) {
		REQUIRE_OK(vt_buf_alloc(fd, CHUNK, &h, NULL), "bob alloc 1 MiB");
		at = copy_out_find_not(fd, h, sh, sp, CHUNK, 0);
		EXPECT(at == -1, "bob's buffer %d: byte %ld is %#x, not zero", i,
		       at, at >= 0 ? ((uint8_t *)sp)[at] : 0);
	}
	close(fd);
	return 0;
}

static void zeroing(void)
{
	struct ash_device_info d;
	int i;

	EXPECT_EQ(vt_run_as(VT_ALICE, VT_ORGA, alice_fill_free, NULL), 0,
		  "alice (fill, free) exit status");
	EXPECT_EQ(vt_part("owned_a").mem_used, 0, "owned_a charge after free");
	EXPECT_EQ(vt_run_as(VT_BOB, VT_ORGB, bob_check_zero, NULL), 0,
		  "bob (copy out, all zero) exit status");
	for (i = 0; i < 500; i++) {
		REQUIRE_OK(dev_named(DEV, &d), "device info");
		if (!d.mem_scrubbing)
			break;
		usleep(10000);
	}
	EXPECT_EQ(d.mem_scrubbing, 0, "bytes waiting for a scrub, 5 s later");
}

/* 4. Operands name only the submitter's own ranges. */
static void isolation(void)
{
	struct ash_command c;
	uint32_t ha, hb;
	int fa = vt_tenant_open("owned_a"), fb = vt_tenant_open("owned_b");

	REQUIRE(fa >= 0 && fb >= 0, "bind owned_a and owned_b");
	REQUIRE_OK(vt_buf_alloc(fa, 64 * KiB, &ha, NULL), "alice alloc");
	REQUIRE_OK(vt_buf_alloc(fb, 64 * KiB, &hb, NULL), "bob alloc");
	/* A handle only means something in its own context: make sure
	 * alice's is not also one of bob's. */
	vx_cmd_copy(&c, hb, 0, ha + 100, 0, 4096);
	EXPECT_ERR(vx_submit(fb, &c, 1, NULL), -ENOENT,
		   "bob's COPY from a handle he does not have");
	vx_cmd_fill(&c, hb, 60 * KiB, 8 * KiB, 0);
	EXPECT_ERR(vx_submit(fb, &c, 1, NULL), -ERANGE,
		   "bob's FILL past his buffer");
	close(fa);
	close(fb);
}

/* 5. kill -9 of the engine with memory held and a job running. */
static void engine_death_kept(pid_t *engine)
{
	struct engine_args stalled = { .name = DEV, .stall_ms = "1500" };
	struct engine_args normal = { .name = DEV };
	struct ash_partition_info p0, p1;
	struct ash_device_info d0, d1;
	struct ash_command c;
	uint32_t h, sh, hj;
	uint64_t fence;
	int32_t status = 0;
	void *sp;
	int fd;

	engine_kill(*engine, SIGTERM, DEV);
	*engine = engine_start(&stalled);
	fd = vt_tenant_open("owned_b");
	REQUIRE(fd >= 0, "bind owned_b");
	REQUIRE_OK(vt_buf_alloc(fd, CHUNK, &h, NULL), "alloc 1 MiB");
	REQUIRE_OK(vt_buf_alloc(fd, CHUNK, &hj, NULL), "alloc 1 MiB for the job");
	sh = staging(fd, CHUNK, &sp);
	vx_cmd_fill(&c, h, 0, CHUNK, 0x3C3C3C3Cu);
	REQUIRE_OK(vx_run(fd, &c, 1), "FILL the buffer that must survive");
	REQUIRE_OK(dev_named(DEV, &d0), "device info before");
	p0 = vt_part("owned_b");

	vx_cmd_fill(&c, hj, 0, CHUNK, 0x77777777u);
	REQUIRE_OK(vx_submit(fd, &c, 1, &fence), "submit the job to die under");
	usleep(500000);		/* it sleeps 1.5 s in the engine */
	engine_kill(*engine, SIGKILL, DEV);
	EXPECT_OK(vx_wait(fd, fence, 10000000000LL, &status), "wait");
	EXPECT_ERR(status, -EIO, "the job running when the engine was killed");

	*engine = engine_start(&normal);
	REQUIRE_OK(dev_named(DEV, &d1), "device info after");
	p1 = vt_part("owned_b");
	EXPECT_EQ(d1.device, d0.device, "the device kept its number");
	EXPECT_EQ(d1.mem_used, d0.mem_used, "device mem_used across the restart");
	EXPECT_EQ(d1.nr_partitions, d0.nr_partitions, "partitions kept");
	EXPECT_EQ(d1.buffers_lost, 0, "no buffer lost");
	EXPECT_EQ(p1.mem_used, p0.mem_used, "owned_b mem_used across the restart");
	EXPECT_EQ(p1.nr_buffers, p0.nr_buffers, "owned_b buffers across the restart");
	EXPECT_EQ(p1.jobs_failed, p0.jobs_failed + 1,
		  "owned_b jobs_failed counts the killed job");
	EXPECT_EQ(copy_out_find_not(fd, h, sh, sp, CHUNK, 0x3C), -1,
		  "first byte of the kept buffer that changed across the restart");
	vt_buf_unmap(sp, CHUNK);
	close(fd);
}

/* 6. Memory the engine did not hand over dies with it. */
static void engine_death_volatile(void)
{
	struct engine_args a = { .name = DEV_VOL, .volatile_mem = true };
	struct ash_partition_params pp;
	struct ash_device_info d;
	struct ash_command c;
	uint32_t h, h2, sh;
	pid_t engine;
	void *sp;
	int fd;

	engine = engine_start(&a);
	d = dev_wait(DEV_VOL, true);
	EXPECT_EQ(d.persistent, 0, "volatile device: memory dies with the engine");
	vt_params(&pp, "owned_vol", 16 * MiB);
	pp.device = d.device;
	REQUIRE_OK(vt_part_create(&pp), "partition on the volatile device");
	fd = vt_tenant_open("owned_vol");
	REQUIRE(fd >= 0, "bind owned_vol");
	REQUIRE_OK(vt_buf_alloc(fd, CHUNK, &h, NULL), "alloc 1 MiB");
	sh = staging(fd, CHUNK, &sp);
	vx_cmd_fill(&c, h, 0, CHUNK, 0x11111111u);
	REQUIRE_OK(vx_run(fd, &c, 1), "FILL");

	engine_kill(engine, SIGKILL, DEV_VOL);
	REQUIRE_OK(dev_named(DEV_VOL, &d), "device info after the kill");
	EXPECT_EQ(d.buffers_lost, 1, "buffers lost with the engine");
	vx_cmd_copy(&c, sh, 0, h, 0, CHUNK);
	EXPECT_ERR(vx_submit(fd, &c, 1, NULL), -EIO,
		   "a job naming a lost buffer");

	engine = engine_start(&a);
	REQUIRE_OK(vt_buf_alloc(fd, CHUNK, &h2, NULL), "allocate after the loss");
	EXPECT_EQ(copy_out_find_not(fd, h2, sh, sp, CHUNK, 0), -1,
		  "first nonzero byte of a new buffer after the loss");
	EXPECT_ERR(vx_submit(fd, &c, 1, NULL), -EIO,
		   "the lost buffer stays lost with the new engine");
	EXPECT_EQ(vt_part("owned_vol").mem_used, 3 * CHUNK,
		  "owned_vol charge: lost, new and staging buffers");
	EXPECT_OK(vt_buf_free(fd, h), "free the lost buffer");
	EXPECT_EQ(vt_part("owned_vol").mem_used, 2 * CHUNK,
		  "freeing a lost buffer gives its charge back");
	vt_buf_unmap(sp, CHUNK);
	close(fd);
	engine_kill(engine, SIGTERM, DEV_VOL);
}

/* 7. A tenant killed while its copies run. */
static int copier(void *arg)
{
	struct ash_command c[64];
	uint32_t h[8], sh;
	int *ready = arg;
	void *sp;
	int fd, i;

	fd = vt_tenant_open("owned_a");
	REQUIRE(fd >= 0, "carol bind owned_a");
	for (i = 0; i < 8; i++)
		REQUIRE_OK(vt_buf_alloc(fd, CHUNK, &h[i], NULL), "carol alloc");
	sh = staging(fd, CHUNK, &sp);
	memset(sp, 0xC7, CHUNK);
	for (i = 0; i < 64; i++)
		vx_cmd_copy(&c[i], h[i % 8], 0, sh, 0, CHUNK);
	vt_flag_set(ready, 1);
	for (;;)
		if (vx_submit(fd, c, 64, NULL) && errno != EAGAIN)
			usleep(1000);
	return 0;
}

static void tenant_killed_mid_copy(void)
{
	int *ready = vt_shared(sizeof(int));
	struct ash_device_info d;
	pid_t pid;
	int i;

	pid = vt_spawn_as(VT_CAROL, VT_ORGA, NULL, 0, copier, ready);
	REQUIRE(vt_flag_wait(ready, 1, 30000), "carol started copying");
	usleep(300000);
	kill(pid, SIGKILL);
	vt_wait(pid);
	for (i = 0; i < 1000; i++) {
		REQUIRE_OK(dev_named(DEV, &d), "device info");
		if (!vt_part("owned_a").mem_used && !d.mem_scrubbing)
			break;
		usleep(10000);
	}
	EXPECT_EQ(vt_part("owned_a").mem_used, 0,
		  "owned_a charge after carol was killed");
	EXPECT_EQ(vt_part("owned_a").nr_contexts, 0, "owned_a contexts");
	EXPECT_EQ(d.mem_scrubbing, 0, "carol's ranges scrubbed");
	/* Her ranges went to the next owner zeroed. */
	EXPECT_EQ(vt_run_as(VT_BOB, VT_ORGB, bob_check_zero, NULL), 0,
		  "bob after carol: all zero");
}

int main(void)
{
	struct engine_args a = { .name = DEV };
	struct ash_partition_params p;
	struct ash_device_info d;
	pid_t engine;

	vt_init("engine_owned_device", 240);
	if (access(VX_ENGINE, X_OK)) {
		printf("SKIP: %s is not in the VM image\n", VX_ENGINE);
		return VT_SKIP;
	}
	engine = engine_start(&a);
	d = dev_wait(DEV, true);
	vt_params(&p, "owned_a", 32 * MiB);
	p.device = d.device;
	p.uids[p.nr_uids++] = VT_ALICE;
	p.uids[p.nr_uids++] = VT_CAROL;
	REQUIRE_OK(vt_part_create(&p), "create owned_a on " DEV);
	vt_params(&p, "owned_b", 32 * MiB);
	p.device = d.device;
	p.uids[p.nr_uids++] = VT_BOB;
	REQUIRE_OK(vt_part_create(&p), "create owned_b on " DEV);

	registration(&d);
	mapping();
	zeroing();
	isolation();
	engine_death_kept(&engine);
	engine_death_volatile();
	tenant_killed_mid_copy();
	engine_kill(engine, SIGTERM, DEV);
	return vt_result();
}
