// SPDX-License-Identifier: MIT
/*
 * The model loader end to end: a tenant loads safetensors and GGUF files
 * into its partition with ash_model_load() and every tensor's bytes, read
 * through the buffer's mapping, equal the file's; the options (queue depth
 * 1, 4 KiB chunks, direct I/O off) give the same bytes; a load that would
 * pass the partition's cap fails with -EDQUOT and leaves the partition's
 * usage and buffer count as they were (also with part of the cap already
 * used); malformed, truncated and missing files fail with -EINVAL/-ENOENT
 * and change nothing; two tenants in two partitions load at the same time.
 *
 * The files are written here into /tmp, a tmpfs: on 6.1 tmpfs refuses
 * O_DIRECT, so the loader's buffered fallback does the reading (the direct
 * path is covered on the host, tests/unit/test_stream.c).  Their sizes and
 * data offsets are no multiple of the block size.
 */
#include "vmtest.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ST_PATH		"/tmp/model.safetensors"
#define GGUF_PATH	"/tmp/model.gguf"
#define BAD_PATH	"/tmp/bad.safetensors"
#define SHORT_PATH	"/tmp/short.gguf"
#define PART_A		"mla"
#define PART_B		"mlb"
#define PART_SMALL	"mlsmall"
#define ROUNDS		3

/* What the writers put where, for checking. */
struct expect {
	char name[64];
	uint64_t file_off;
	uint64_t bytes;
};

struct file {
	const char *path;
	int nr;
	struct expect t[8];
	uint64_t data_size;
	uint64_t file_size;
};

static struct file st_file = { .path = ST_PATH };
static struct file gguf_file = { .path = GGUF_PATH };

struct shared {
	int ready;
	int start;
};

static struct shared *sh;

static void fill(uint8_t *p, size_t n, uint64_t seed)
{
	uint64_t x = seed | 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)(x >> 24);
	}
}

static void put(int fd, const void *p, size_t n)
{
	REQUIRE(write(fd, p, n) == (ssize_t)n, "write %zu bytes", n);
}

static void put_u32(int fd, uint32_t v)
{
	put(fd, &v, 4);		/* x86: little-endian, as both formats */
}

static void put_u64(int fd, uint64_t v)
{
	put(fd, &v, 8);
}

static void put_str(int fd, const char *s)
{
	put_u64(fd, strlen(s));
	put(fd, s, strlen(s));
}

static void put_data(int fd, struct file *f, const char *name,
		     uint64_t bytes, uint64_t seed)
{
	uint8_t *p = malloc(bytes ? bytes : 1);
	struct expect *e = &f->t[f->nr++];

	REQUIRE(p, "malloc");
	fill(p, bytes, seed);
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->file_off = (uint64_t)lseek(fd, 0, SEEK_CUR);
	e->bytes = bytes;
	put(fd, p, bytes);
	free(p);
}

/* safetensors: 8-byte header length, JSON, then the tensors back to back. */
static void write_safetensors(void)
{
	static const struct {
		const char *name, *dtype, *shape;
		uint64_t bytes;
	} ts[] = {
		{ "model.embed.weight", "F32", "[333,1001]", 333ULL * 1001 * 4 },
		{ "model.layers.0.mlp.weight", "F16", "[517,999]",
		  517ULL * 999 * 2 },
		{ "model.layers.0.norm", "BF16", "[7]", 14 },
		{ "model.empty", "F32", "[0]", 0 },
		{ "model.codes", "I8", "[100003]", 100003 },
	};
	char json[4096];
	size_t n = 0;
	uint64_t off = 0;
	int fd;

	n += (size_t)snprintf(json + n, sizeof(json) - n,
			      "{\"__metadata__\":{\"format\":\"pt\"}");
	for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
		n += (size_t)snprintf(json + n, sizeof(json) - n,
			",\"%s\":{\"dtype\":\"%s\",\"shape\":%s,"
			"\"data_offsets\":[%llu,%llu]}", ts[i].name,
			ts[i].dtype, ts[i].shape, (unsigned long long)off,
			(unsigned long long)(off + ts[i].bytes));
		off += ts[i].bytes;
	}
	n += (size_t)snprintf(json + n, sizeof(json) - n, "}");
	/* An odd header length: the data section starts off any block. */
	if (!(n & 1))
		json[n++] = ' ';

	fd = open(ST_PATH, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	REQUIRE(fd >= 0, "create " ST_PATH);
	put_u64(fd, n);
	put(fd, json, n);
	for (size_t i = 0; i < sizeof(ts) / sizeof(ts[0]); i++)
		put_data(fd, &st_file, ts[i].name, ts[i].bytes, 100 + i);
	st_file.data_size = off;
	st_file.file_size = (uint64_t)lseek(fd, 0, SEEK_CUR);
	close(fd);
}

/* GGUF v3: header, KVs, tensor infos, padding to 32, aligned tensors. */
static void write_gguf(void)
{
	static const struct {
		const char *name;
		uint32_t type;		/* ggml type */
		uint64_t d0, d1;	/* d1 0: one dimension */
		uint64_t bytes;
	} ts[] = {
		{ "token_embd.weight", 0, 1024, 515, 1024ULL * 515 * 4 },
		{ "blk.0.attn_q.weight", 1, 333, 77, 333ULL * 77 * 2 },
		{ "blk.0.ffn_norm.weight", 0, 1001, 0, 1001ULL * 4 },
		{ "output.codes", 24, 4097, 0, 4097 },
	};
	uint64_t offs[4], off = 0, pos;
	static const char zero[32];
	int fd;

	for (size_t i = 0; i < 4; i++) {
		off = (off + 31) & ~31ULL;
		offs[i] = off;
		off += ts[i].bytes;
	}
	fd = open(GGUF_PATH, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	REQUIRE(fd >= 0, "create " GGUF_PATH);
	put(fd, "GGUF", 4);
	put_u32(fd, 3);
	put_u64(fd, 4);			/* tensors */
	put_u64(fd, 2);			/* KVs */
	put_str(fd, "general.architecture");
	put_u32(fd, 8);			/* string */
	put_str(fd, "test");
	put_str(fd, "test.block_count");
	put_u32(fd, 4);			/* uint32 */
	put_u32(fd, 1);
	for (size_t i = 0; i < 4; i++) {
		put_str(fd, ts[i].name);
		put_u32(fd, ts[i].d1 ? 2 : 1);
		put_u64(fd, ts[i].d0);
		if (ts[i].d1)
			put_u64(fd, ts[i].d1);
		put_u32(fd, ts[i].type);
		put_u64(fd, offs[i]);
	}
	pos = (uint64_t)lseek(fd, 0, SEEK_CUR);
	put(fd, zero, (size_t)(((pos + 31) & ~31ULL) - pos));
	pos = (uint64_t)lseek(fd, 0, SEEK_CUR);
	for (size_t i = 0; i < 4; i++) {
		uint64_t here = (uint64_t)lseek(fd, 0, SEEK_CUR) - pos;

		put(fd, zero, (size_t)(offs[i] - here));
		put_data(fd, &gguf_file, ts[i].name, ts[i].bytes, 200 + i);
	}
	gguf_file.data_size = off;
	gguf_file.file_size = (uint64_t)lseek(fd, 0, SEEK_CUR);
	close(fd);
}

/* A copy of @src cut to @len bytes, at @dst. */
static void write_prefix(const char *src, const char *dst, uint64_t len)
{
	int in = open(src, O_RDONLY | O_CLOEXEC);
	int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	char *p = malloc(len);

	REQUIRE(in >= 0 && out >= 0 && p, "copy %s", src);
	REQUIRE(pread(in, p, len, 0) == (ssize_t)len, "read %s", src);
	put(out, p, len);
	free(p);
	close(in);
	close(out);
}

/* Every tensor of @f found by name in @m, with the file's bytes in its
 * mapping; false (after FAIL lines) otherwise. */
static bool check_model(const struct ash_model *m, const struct file *f,
			const char *what)
{
	int fd = open(f->path, O_RDONLY | O_CLOEXEC);
	bool ok = true;

	if (!EXPECT(fd >= 0, "%s: open %s", what, f->path))
		return false;
	ok &= EXPECT_EQ(ash_model_tensor_count(m), f->nr, what);
	for (int i = 0; i < f->nr; i++) {
		const struct expect *e = &f->t[i];
		const struct ash_tensor *t = ash_model_find(m, e->name);
		uint8_t *want, *addr = NULL;

		if (!EXPECT(t, "%s: tensor %s not found", what, e->name)) {
			ok = false;
			continue;
		}
		ok &= EXPECT_EQ(t->bytes, e->bytes, "tensor bytes");
		if (!e->bytes)
			continue;
		if (!EXPECT(t->buf, "%s: %s has no buffer", what, e->name) ||
		    !EXPECT_OK(ash_map(t->buf, (void **)&addr), "ash_map")) {
			ok = false;
			continue;
		}
		ok &= EXPECT_LE(t->offset + t->bytes, ash_buf_size(t->buf),
				"tensor end within its buffer");
		want = malloc(e->bytes);
		REQUIRE(want, "malloc");
		REQUIRE(pread(fd, want, e->bytes, (off_t)e->file_off) ==
			(ssize_t)e->bytes, "pread %s", f->path);
		if (memcmp(addr + t->offset, want, e->bytes)) {
			for (uint64_t k = 0; k < e->bytes; k++)
				if (addr[t->offset + k] != want[k]) {
					FAIL("%s: tensor %s differs from the "
					     "file at byte %llu", what, e->name,
					     (unsigned long long)k);
					break;
				}
			ok = false;
		}
		free(want);
	}
	/* Index access agrees with lookup by name. */
	for (int i = 0; i < ash_model_tensor_count(m); i++) {
		const struct ash_tensor *t = ash_model_tensor(m, i);

		ok &= EXPECT(t && ash_model_find(m, t->name) == t,
			     "%s: tensor %d by index and by name", what, i);
	}
	ok &= EXPECT(!ash_model_tensor(m, f->nr) && !ash_model_tensor(m, -1),
		     "%s: out-of-range index gives NULL", what);
	ok &= EXPECT(!ash_model_find(m, "no.such.tensor"),
		     "%s: unknown name gives NULL", what);
	close(fd);
	return ok;
}

static uint64_t used(struct ash_ctx *ctx)
{
	struct ash_partition_stat st;

	REQUIRE_OK(ash_partition_stat(ctx, &st), "ash_partition_stat");
	return st.mem_used;
}

/* Load @f with @opts (NULL: defaults), check it, free it: usage rises by
 * at least the data section while loaded and returns after. */
static void load_check(struct ash_ctx *ctx, const struct file *f,
		       const struct ash_load_opts *opts, const char *what)
{
	struct ash_model *m = NULL;
	uint64_t before = used(ctx);
	int ret;

	ret = ash_model_load_opts(ctx, f->path, opts, &m);
	if (!EXPECT_OK(ret, what))
		return;
	check_model(m, f, what);
	EXPECT(used(ctx) >= before + f->data_size,
	       "%s: partition usage %llu while loaded, want >= %llu", what,
	       (unsigned long long)used(ctx),
	       (unsigned long long)(before + f->data_size));
	ash_model_free(m);
	EXPECT_EQ(used(ctx), before, "usage after ash_model_free");
}

static void progress(void *arg, uint64_t done, uint64_t total)
{
	uint64_t *last = arg;

	if (done < last[0] || done > total)
		last[1] = 1;	/* went backwards or past the end */
	last[0] = done;
	last[2] = total;
}

static int alice_loads(void *arg)
{
	struct ash_load_opts slow = { .queue_depth = 1, .chunk_size = 4096,
				      .direct_io = -1 };
	struct ash_load_opts deep = { .queue_depth = 64,
				      .chunk_size = 64 * 1024 };
	uint64_t prog[3] = { 0, 0, 0 };
	struct ash_load_opts withprog = { .progress = progress,
					  .progress_arg = prog };
	struct ash_model *m = (struct ash_model *)1;
	struct ash_ctx *ctx;

	(void)arg;
	REQUIRE_OK(ash_open(PART_A, &ctx), "alice ash_open " PART_A);
	load_check(ctx, &st_file, NULL, "safetensors, defaults");
	load_check(ctx, &gguf_file, NULL, "GGUF, defaults");
	load_check(ctx, &st_file, &slow, "safetensors, qd 1, 4 KiB, buffered");
	load_check(ctx, &gguf_file, &slow, "GGUF, qd 1, 4 KiB, buffered");
	load_check(ctx, &gguf_file, &deep, "GGUF, qd 64, 64 KiB");
	load_check(ctx, &st_file, &withprog, "safetensors, progress");
	EXPECT(!prog[1], "progress went backwards or past the total");
	EXPECT_EQ(prog[0], st_file.data_size, "progress: last done");
	EXPECT_EQ(prog[2], st_file.data_size, "progress: total");

	/* Bad options and bad files: refused, nothing left behind. */
	{
		struct ash_load_opts bad = { .chunk_size = 5000 };
		uint64_t before = used(ctx);

		EXPECT_ERR(ash_model_load_opts(ctx, ST_PATH, &bad, &m),
			   -EINVAL, "chunk size 5000");
		EXPECT_ERR(ash_model_load(ctx, BAD_PATH, &m), -EINVAL,
			   "malformed safetensors");
		EXPECT_ERR(ash_model_load(ctx, SHORT_PATH, &m), -EINVAL,
			   "truncated GGUF");
		EXPECT_ERR(ash_model_load(ctx, "/tmp/no-such-model", &m),
			   -ENOENT, "missing file");
		EXPECT_ERR(ash_model_load(ctx, "/tmp", &m), -EISDIR,
			   "a directory");
		EXPECT(m == (struct ash_model *)1,
		       "a failed load wrote the model pointer");
		EXPECT_EQ(used(ctx), before, "usage after refused loads");
	}
	ash_close(ctx);
	return vt_result();
}

/* A cap smaller than the safetensors model; then room for only part of
 * the GGUF model, which fits the empty partition. */
static int alice_over_cap(void *arg)
{
	struct ash_partition_stat st0, st1;
	struct ash_model *m = NULL;
	struct ash_buf *hog;
	struct ash_ctx *ctx;

	(void)arg;
	REQUIRE_OK(ash_open(PART_SMALL, &ctx), "alice ash_open " PART_SMALL);
	REQUIRE_OK(ash_partition_stat(ctx, &st0), "stat");
	EXPECT_ERR(ash_model_load(ctx, ST_PATH, &m), -EDQUOT,
		   "safetensors over the cap");
	REQUIRE_OK(ash_partition_stat(ctx, &st1), "stat");
	EXPECT_EQ(st1.mem_used, st0.mem_used, "mem_used after -EDQUOT");
	EXPECT_EQ(st1.nr_buffers, st0.nr_buffers, "nr_buffers after -EDQUOT");

	/* Part of the cap taken: the GGUF file fits an empty partition of
	 * this cap but not next to 1 MiB. */
	REQUIRE_OK(ash_alloc(ctx, 1 * MiB, &hog), "alloc 1 MiB");
	REQUIRE_OK(ash_partition_stat(ctx, &st0), "stat");
	EXPECT_ERR(ash_model_load(ctx, GGUF_PATH, &m), -EDQUOT,
		   "GGUF next to 1 MiB");
	REQUIRE_OK(ash_partition_stat(ctx, &st1), "stat");
	EXPECT_EQ(st1.mem_used, st0.mem_used, "mem_used after -EDQUOT (2)");
	EXPECT_EQ(st1.nr_buffers, st0.nr_buffers,
		  "nr_buffers after -EDQUOT (2)");
	ash_free(hog);
	/* ... and fits once that is gone. */
	load_check(ctx, &gguf_file, NULL, "GGUF at the cap");
	ash_close(ctx);
	return vt_result();
}

static int concurrent(void *arg)
{
	const char *part = arg;
	struct ash_ctx *ctx;

	REQUIRE_OK(ash_open(part, &ctx), "ash_open");
	__atomic_add_fetch(&sh->ready, 1, __ATOMIC_ACQ_REL);
	REQUIRE(vt_flag_wait(&sh->start, 1, 30000), "no start signal");
	for (int r = 0; r < ROUNDS; r++) {
		load_check(ctx, &st_file, NULL, "concurrent safetensors");
		load_check(ctx, &gguf_file, NULL, "concurrent GGUF");
	}
	ash_close(ctx);
	return vt_result();
}

int main(void)
{
	struct vt_snap snap;
	pid_t a, b;

	vt_init("model_load", 240);
	sh = vt_shared(sizeof(*sh));
	write_safetensors();
	write_gguf();
	/* Malformed: a header length far past the file. */
	{
		int fd = open(BAD_PATH, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			      0644);
		uint64_t huge = 1ULL << 40;

		REQUIRE(fd >= 0, "create " BAD_PATH);
		put_u64(fd, huge);
		put(fd, "{}", 2);
		close(fd);
	}
	/* Truncated: the last tensor's bytes cut short. */
	write_prefix(GGUF_PATH, SHORT_PATH, gguf_file.file_size - 1000);
	printf("files: safetensors %llu bytes (data %llu at %llu), GGUF %llu "
	       "bytes (data %llu at %llu)\n",
	       (unsigned long long)st_file.file_size,
	       (unsigned long long)st_file.data_size,
	       (unsigned long long)st_file.t[0].file_off,
	       (unsigned long long)gguf_file.file_size,
	       (unsigned long long)gguf_file.data_size,
	       (unsigned long long)gguf_file.t[0].file_off);

	vt_part_new(PART_A, 32 * MiB, 0, VT_ALICE, (gid_t)-1);
	vt_part_new(PART_B, 32 * MiB, 0, VT_BOB, (gid_t)-1);
	/* Holds the GGUF data (about 2.07 MiB) alone, not next to 1 MiB, and
	 * never the safetensors data (about 2.35 MiB). */
	vt_part_new(PART_SMALL, 2 * MiB + 256 * KiB, 0, VT_ALICE, (gid_t)-1);
	REQUIRE(gguf_file.data_size + 4096 < 2 * MiB + 256 * KiB &&
		gguf_file.data_size + 1 * MiB > 2 * MiB + 256 * KiB &&
		st_file.data_size > 2 * MiB + 256 * KiB,
		"test file sizes do not fit the caps");

	vt_snap_take(&snap);
	EXPECT_EQ(vt_run_as(VT_ALICE, VT_ORGA, alice_loads, NULL), 0,
		  "alice loads: exit status");
	vt_snap_expect_same(&snap, "after alice's loads");
	EXPECT_EQ(vt_run_as(VT_ALICE, VT_ORGA, alice_over_cap, NULL), 0,
		  "alice over the cap: exit status");
	vt_snap_expect_same(&snap, "after the loads over the cap");

	a = vt_spawn_as(VT_ALICE, VT_ORGA, NULL, 0, concurrent, PART_A);
	b = vt_spawn_as(VT_BOB, VT_ORGB, NULL, 0, concurrent, PART_B);
	REQUIRE(vt_flag_wait(&sh->ready, 2, 30000), "tenants did not open");
	vt_flag_set(&sh->start, 1);
	EXPECT_EQ(vt_wait(a), 0, "alice concurrent: exit status");
	EXPECT_EQ(vt_wait(b), 0, "bob concurrent: exit status");
	vt_snap_expect_same(&snap, "after the concurrent loads");

	unlink(ST_PATH);
	unlink(GGUF_PATH);
	unlink(BAD_PATH);
	unlink(SHORT_PATH);
	return vt_result();
}
