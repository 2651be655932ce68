// SPDX-License-Identifier: MIT
/*
 * The weight loader on a device whose memory tenants cannot map (module
 * parameter mappable=N, ASH_DEVICE_NOMAP; and, as model_load_staged_engine_owned,
 * an engine-owned device): the data section goes through a staging buffer
 * and copy jobs run by the engine.
 *   - the device reports the kind; a tenant's mmap of device memory fails
 *     with ENODEV (ash_map: -EOPNOTSUPP), a staging buffer maps;
 *   - safetensors and GGUF files load with the defaults and with a small
 *     queue and chunk (many batches, both staging halves reused many
 *     times); the bytes in device memory, copied back out through a staging
 *     buffer by the engine, equal the file's; progress rises to the total;
 *   - afterwards the partition holds only the model's buffer (the staging
 *     buffer is gone);
 *   - a load that does not fit the cap (the data alone, or the data and the
 *     staging buffer) fails with -EDQUOT and changes nothing.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmtest.h"
#include "vtexec.h"
#include "vtcrash.h"

#define PART		"staged"
#define PART_SMALL	"staged_small"
#define ST_PATH		"/tmp/staged.safetensors"
#define GGUF_PATH	"/tmp/staged.gguf"

struct prog {
	uint64_t last, total;
	int calls, backwards;
};

static void on_progress(void *arg, uint64_t done, uint64_t total)
{
	struct prog *p = arg;

	if (done < p->last)
		p->backwards++;
	p->last = done;
	p->total = total;
	p->calls++;
}

/* The kind, and who may map what. */
static void mapping_rules(void)
{
	struct ash_buf *dev_buf = NULL, *stage = NULL;
	struct ash_ctx *ctx = NULL;
	uint64_t off;
	uint32_t h;
	void *p;
	int fd;

#ifdef VT_ENGINE_OWNED
	EXPECT_EQ(vt_dev().kind, ASH_DEVICE_ENGINE, "the device's kind");
#else
	EXPECT_EQ(vt_dev().kind, ASH_DEVICE_NOMAP, "device 0's kind");
#endif
	fd = vt_tenant_open(PART);
	REQUIRE_OK(vt_buf_alloc(fd, 64 * KiB, &h, &off), "alloc device memory");
	p = mmap(NULL, 64 * KiB, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 (off_t)off);
	EXPECT(p == MAP_FAILED && errno == ENODEV,
	       "mmap of device memory: expected ENODEV, got %s",
	       p == MAP_FAILED ? vt_errname(-errno) : "a mapping");
	if (p != MAP_FAILED)
		munmap(p, 64 * KiB);
	close(fd);

	REQUIRE_OK(ash_open(PART, &ctx), "ash_open " PART);
	REQUIRE_OK(ash_alloc(ctx, 64 * KiB, &dev_buf), "ash_alloc");
	EXPECT_ERR(ash_map(dev_buf, &p), -EOPNOTSUPP, "ash_map of device memory");
	REQUIRE_OK(ash_alloc_staging(ctx, 64 * KiB, &stage), "ash_alloc_staging");
	REQUIRE_OK(ash_map(stage, &p), "ash_map of a staging buffer");
	EXPECT_EQ(vt_find_not(p, 64 * KiB, 0), -1, "a staging buffer is zeroed");
	ash_close(ctx);
}

/* The file's last @n bytes (the data section: both writers put it last). */
static char *file_tail(const char *path, uint64_t n)
{
	char *b = malloc(n);
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	REQUIRE(b && fd >= 0 && !fstat(fd, &st), "open %s", path);
	REQUIRE(pread(fd, b, n, st.st_size - (off_t)n) == (ssize_t)n,
		"read %s", path);
	close(fd);
	return b;
}

static void load_and_check(const char *path, uint64_t data_size,
			   const struct ash_load_opts *opts, const char *what)
{
	struct ash_partition_info before = vt_part(PART), after;
	struct prog prog = { 0 };
	struct ash_load_opts o = opts ? *opts : (struct ash_load_opts){ 0 };
	struct ash_model *m = NULL;
	struct ash_ctx *ctx = NULL;
	struct ash_buf *check = NULL;
	const struct ash_tensor *t0;
	uint64_t fence, pad;
	char *want, *got;

	o.progress = on_progress;
	o.progress_arg = &prog;
	REQUIRE_OK(ash_open(PART, &ctx), "ash_open " PART);
	REQUIRE_OK(ash_model_load_opts(ctx, path, &o, &m), what);
	t0 = ash_model_tensor(m, 0);
	REQUIRE(t0 && t0->buf, "%s: tensor 0", what);
	pad = t0->offset;	/* both writers put tensor 0 first, at 0 */
	/*
	 * The staging buffer's handle is gone; its memory goes with the last
	 * copy job naming it, which the driver frees just after that job's
	 * fence signals: a moment later than the load's last wait, at most.
	 */
	for (int i = 0; i < 200; i++) {
		after = vt_part(PART);
		if (after.nr_buffers - before.nr_buffers <= 1)
			break;
		usleep(10000);
	}
	EXPECT_EQ(after.mem_used - before.mem_used,
		  (pad + data_size + VT_PAGE - 1) / VT_PAGE * VT_PAGE,
		  "charge after the load: the model's buffer only");
	EXPECT_EQ(after.nr_buffers - before.nr_buffers, 1,
		  "buffers after the load (the staging buffer is gone)");
	EXPECT(prog.calls >= 2 && !prog.backwards && prog.last == data_size &&
	       prog.total == data_size,
	       "%s: progress: %d calls, %d backwards, last %llu of %llu",
	       what, prog.calls, prog.backwards,
	       (unsigned long long)prog.last, (unsigned long long)data_size);

	/* Out through the engine, into memory this process can read. */
	REQUIRE_OK(ash_alloc_staging(ctx, data_size, &check), "check buffer");
	REQUIRE_OK(ash_copy(ctx, check, 0, t0->buf, pad, data_size, &fence),
		   "copy the model out");
	REQUIRE_OK(ash_wait(ctx, fence, 60LL * 1000000000), "wait for the copy");
	REQUIRE_OK(ash_map(check, (void **)&got), "map the check buffer");
	want = file_tail(path, data_size);
	if (memcmp(got, want, data_size)) {
		uint64_t i = 0;

		while (got[i] == want[i])
			i++;
		FAIL("%s: device memory differs from the file at data byte %llu",
		     what, (unsigned long long)i);
	} else {
		printf("%s: %llu bytes in device memory equal the file (%d progress calls)\n",
		       what, (unsigned long long)data_size, prog.calls);
	}
	free(want);
	ash_model_free(m);
	ash_close(ctx);
}

static void over_cap(const char *path, uint64_t cap, const char *what)
{
	struct ash_model *m = NULL;
	struct ash_ctx *ctx = NULL;
	struct vt_snap before;
	int ret;

	vt_part_new(PART_SMALL, cap, 0, (uid_t)-1, (gid_t)-1);
	REQUIRE_OK(ash_open(PART_SMALL, &ctx), "ash_open " PART_SMALL);
	vt_snap_take(&before);
	ret = ash_model_load(ctx, path, &m);
	EXPECT_ERR(ret, -EDQUOT, what);
	vt_snap_expect_same(&before, what);
	if (!ret)
		ash_model_free(m);
	ash_close(ctx);
	REQUIRE_OK(vt_part_delete(PART_SMALL), "delete " PART_SMALL);
}

int main(void)
{
	const struct ash_load_opts small = { .queue_depth = 4,
					     .chunk_size = 64 * 1024 };
	uint64_t st_size, gguf_size;
	pid_t engine;

	vt_init("model_load_staged", 240);
	vt_part_new(PART, 96 * MiB, 0, (uid_t)-1, (gid_t)-1);
	mapping_rules();

	engine = vx_engine_start("1");
	st_size = vc_write_safetensors(ST_PATH, 20 * MiB + 12345, 3);
	gguf_size = vc_write_gguf(GGUF_PATH, 9 * MiB, 5);
	load_and_check(ST_PATH, st_size, NULL, "safetensors, defaults");
	load_and_check(ST_PATH, st_size, &small, "safetensors, qd 4, 64 KiB");
	load_and_check(GGUF_PATH, gguf_size, NULL, "GGUF, defaults");
	load_and_check(GGUF_PATH, gguf_size, &small, "GGUF, qd 4, 64 KiB");

	/* The data alone passes the cap; then the data fits but not with
	 * the staging buffer (2 x 8 MiB and a little at the defaults). */
	over_cap(ST_PATH, 16 * MiB, "safetensors over the cap");
	over_cap(ST_PATH, st_size + 4 * MiB, "safetensors, staging over the cap");

	vx_engine_stop(engine, SIGTERM);
	unlink(ST_PATH);
	unlink(GGUF_PATH);
	return vt_result();
}
