// SPDX-License-Identifier: MIT
/*
 * The usage counters an operator bills from, and a tenant file's
 * /proc/PID/fdinfo in the DRM client usage keys:
 *  - an unbound file shows drm-driver and a drm-client-id, and nothing
 *    else of accelshare's; two files have different client ids;
 *  - alice holds 8 MiB for about two seconds and runs 20 FILL jobs: her
 *    fdinfo shows drm-total-memory and drm-resident-memory 8192 KiB,
 *    drm-shared-memory 0, drm-engine-compute equal to her context's busy_ns
 *    (ASH_CTL_CTX_INFO) and accelshare-jobs-completed 20;
 *  - the memory integral (KiB-seconds) of her context (fdinfo and
 *    CTX_INFO), of her partition and of the device (its growth over the
 *    case) lies within what the clock says: at least 8192 KiB times the
 *    time from the end of her allocation to the start of her free, at most
 *    times the time from the start of the one to the end of the other
 *    (one KiB-second either way for the rounding); the three agree;
 *  - once the buffer is freed the integrals stop: the same half a second
 *    later, and as much in the partition after she exits;
 *  - `ashctl partition list --json` reports the partition's as
 *    mem_kib_seconds.
 */
#include "vtexec.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define PART	"usage"
#define SIZE	(8 * MiB)
#define KIB	(SIZE >> 10)
#define NJOBS	20
#define HOLD_MS	2000

struct shared {
	int held;		/* alice holds her buffer; the case checks */
	int checked;
	uint64_t ta0, ta1, tf0, tf1;	/* around her alloc and her free */
	uint64_t ctx_kib_s_held;	/* fdinfo, while held */
	uint64_t busy_ns_held;		/* drm-engine-compute, while held */
	uint64_t ctx_kib_s_freed;	/* fdinfo, right after the free */
};

static struct shared *sh;

/* Key @key's line of /proc/self/fdinfo/@fd, its value into @val. */
static bool fdinfo_str(int fd, const char *key, char *val, size_t len)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen) || line[klen] != ':')
			continue;
		snprintf(val, len, "%s", line + klen + 1 + strspn(line + klen + 1, " \t"));
		val[strcspn(val, "\n")] = '\0';
		found = true;
	}
	fclose(f);
	return found;
}

/* A numeric key; @unit the unit it must carry ("" for none). */
static uint64_t fdinfo_u64(int fd, const char *key, const char *unit)
{
	char val[128], *end;
	uint64_t v;

	if (!EXPECT(fdinfo_str(fd, key, val, sizeof(val)),
		    "fdinfo of fd %d has no %s", fd, key))
		return UINT64_MAX;
	v = strtoull(val, &end, 10);
	EXPECT(end != val && !strcmp(end + strspn(end, " "), unit),
	       "fdinfo %s: \"%s\", want a number%s%s", key, val,
	       *unit ? " and " : "", unit);
	return v;
}

static int tenant(void *arg)
{
	struct ash_command c;
	char val[128], id1[32], id2[32];
	uint32_t h;
	int fd, fd2, i;

	(void)arg;
	fd = open("/dev/accelshare", O_RDWR | O_CLOEXEC);
	REQUIRE(fd >= 0, "open /dev/accelshare: %s", strerror(errno));
	EXPECT(fdinfo_str(fd, "drm-driver", val, sizeof(val)) &&
	       !strcmp(val, "accelshare"),
	       "unbound fdinfo drm-driver: \"%s\"", val);
	EXPECT(fdinfo_str(fd, "drm-client-id", id1, sizeof(id1)),
	       "unbound fdinfo has no drm-client-id");
	EXPECT(!fdinfo_str(fd, "drm-engine-compute", val, sizeof(val)),
	       "unbound fdinfo shows drm-engine-compute: %s", val);
	close(fd);

	fd = vt_tenant_open(PART);
	REQUIRE(fd >= 0, "bind " PART ": %s", vt_errname(fd));
	fd2 = vt_tenant_open(PART);
	REQUIRE(fd2 >= 0, "bind " PART " again: %s", vt_errname(fd2));
	EXPECT(fdinfo_str(fd, "drm-client-id", id1, sizeof(id1)) &&
	       fdinfo_str(fd2, "drm-client-id", id2, sizeof(id2)) &&
	       strcmp(id1, id2), "two files' drm-client-id: %s and %s", id1,
	       id2);
	close(fd2);
	EXPECT(fdinfo_str(fd, "accelshare-partition", val, sizeof(val)) &&
	       !strcmp(val, PART), "fdinfo accelshare-partition: \"%s\"", val);
	EXPECT(fdinfo_str(fd, "accelshare-device", val, sizeof(val)) &&
	       !strcmp(val, "host"), "fdinfo accelshare-device: \"%s\"", val);
	EXPECT_EQ(fdinfo_u64(fd, "drm-total-memory", "KiB"), 0,
		  "drm-total-memory before any allocation");

	sh->ta0 = vx_now_ns();
	REQUIRE_OK(vt_buf_alloc(fd, SIZE, &h, NULL), "alloc 8 MiB");
	sh->ta1 = vx_now_ns();
	for (i = 0; i < NJOBS; i++) {
		vx_cmd_fill(&c, h, (uint64_t)(i % 8) * MiB, MiB, 0x11 * i);
		EXPECT_OK(vx_run(fd, &c, 1), "FILL job");
	}
	usleep(HOLD_MS * 1000);

	EXPECT_EQ(fdinfo_u64(fd, "drm-total-memory", "KiB"), KIB,
		  "drm-total-memory holding 8 MiB");
	EXPECT_EQ(fdinfo_u64(fd, "drm-resident-memory", "KiB"), KIB,
		  "drm-resident-memory holding 8 MiB");
	EXPECT_EQ(fdinfo_u64(fd, "drm-shared-memory", "KiB"), 0,
		  "drm-shared-memory");
	EXPECT_EQ(fdinfo_u64(fd, "accelshare-jobs-completed", ""), NJOBS,
		  "accelshare-jobs-completed");
	EXPECT_EQ(fdinfo_u64(fd, "accelshare-jobs-failed", ""), 0,
		  "accelshare-jobs-failed");
	sh->busy_ns_held = fdinfo_u64(fd, "drm-engine-compute", "ns");
	sh->ctx_kib_s_held = fdinfo_u64(fd, "accelshare-memory-kib-seconds", "");
	vt_flag_set(&sh->held, 1);
	REQUIRE(vt_flag_wait(&sh->checked, 1, 60000), "the case never checked");

	sh->tf0 = vx_now_ns();
	REQUIRE_OK(vt_buf_free(fd, h), "free");
	sh->tf1 = vx_now_ns();
	sh->ctx_kib_s_freed = fdinfo_u64(fd, "accelshare-memory-kib-seconds", "");
	usleep(500000);
	EXPECT_EQ(fdinfo_u64(fd, "accelshare-memory-kib-seconds", ""),
		  sh->ctx_kib_s_freed, "context KiB-seconds half a second after the free");
	EXPECT_EQ(fdinfo_u64(fd, "drm-total-memory", "KiB"), 0,
		  "drm-total-memory after the free");
	close(fd);
	return vt_result();
}

/* What holding KIB over [@from, @to] integrates to, in KiB-seconds. */
static uint64_t kib_s_over(uint64_t from, uint64_t to)
{
	return to > from ? (uint64_t)((unsigned __int128)KIB * (to - from) /
				      1000000000ULL) : 0;
}

static void expect_within(uint64_t got, const char *what)
{
	uint64_t lo = kib_s_over(sh->ta1, sh->tf0), hi = kib_s_over(sh->ta0, sh->tf1);

	printf("%s: %" PRIu64 " KiB-seconds (the clock says %" PRIu64 "..%" PRIu64 ")\n",
	       what, got, lo, hi);
	EXPECT(got + 1 >= lo && got <= hi + 1,
	       "%s: %" PRIu64 " KiB-seconds, want %" PRIu64 "..%" PRIu64, what, got,
	       lo, hi);
}

int main(void)
{
	struct ash_context_info ctxs[4];
	uint64_t dev0, dev1, part_end, ctx_held = 0, now, v = 0;
	static char objs[4][1024], out[8192];
	char name[64];
	pid_t pid;
	int n, i;

	vt_init("usage_counters", 120);
	sh = vt_shared(sizeof(*sh));
	vt_part_new(PART, 64 * MiB, 0, VT_ALICE, (gid_t)-1);
	pid_t eng = vx_engine_start("1");

	dev0 = vt_dev().mem_kib_seconds;
	pid = vt_spawn_as(VT_ALICE, VT_ORGA, NULL, 0, tenant, NULL);
	REQUIRE(vt_flag_wait(&sh->held, 1, 60000), "alice never held her buffer");
	n = vt_ctx_list(ctxs, 4);
	for (i = 0; i < n; i++) {
		if (ctxs[i].pid != pid)
			continue;
		EXPECT_EQ(ctxs[i].busy_ns, sh->busy_ns_held,
			  "CTX_INFO busy_ns vs fdinfo drm-engine-compute");
		EXPECT_EQ(ctxs[i].jobs_completed, NJOBS, "CTX_INFO jobs_completed");
		ctx_held = ctxs[i].mem_kib_seconds;
	}
	EXPECT(ctx_held, "CTX_INFO lists no context of alice's pid %d", (int)pid);
	/* Read later than alice's fdinfo, never less; she holds 8 MiB, so at
	 * most what the time since says more. */
	now = vx_now_ns();
	EXPECT(ctx_held >= sh->ctx_kib_s_held &&
	       ctx_held <= sh->ctx_kib_s_held + kib_s_over(sh->ta1, now) + 1,
	       "CTX_INFO mem_kib_seconds %" PRIu64 " vs fdinfo's %" PRIu64 " before",
	       ctx_held, sh->ctx_kib_s_held);
	vt_flag_set(&sh->checked, 1);
	EXPECT_EQ(vt_wait(pid), 0, "alice's exit status");

	expect_within(sh->ctx_kib_s_freed, "context (fdinfo, after the free)");
	part_end = vt_part(PART).mem_kib_seconds;
	expect_within(part_end, "partition");
	dev1 = vt_dev().mem_kib_seconds;
	expect_within(dev1 - dev0, "device (its growth)");
	EXPECT(part_end + 1 >= sh->ctx_kib_s_freed &&
	       part_end <= sh->ctx_kib_s_freed + 1,
	       "partition %" PRIu64 " vs context %" PRIu64 " KiB-seconds",
	       part_end, sh->ctx_kib_s_freed);
	usleep(500000);
	EXPECT_EQ(vt_part(PART).mem_kib_seconds, part_end,
		  "partition KiB-seconds half a second after alice exited");
	/* ashctl reports the same counter. */
	EXPECT_EQ(vt_sh(out, sizeof(out), VT_ASHCTL " partition list --json"), 0,
		  "ashctl partition list --json exit status");
	n = vt_json_objects(out, objs, 4);
	for (i = 0; i < n; i++)
		if (vt_json_str(objs[i], "name", name, sizeof(name)) &&
		    !strcmp(name, PART))
			EXPECT(vt_json_u64(objs[i], "mem_kib_seconds", &v) &&
			       v == part_end,
			       "ashctl partition list --json mem_kib_seconds: %" PRIu64 ", want %" PRIu64,
			       v, part_end);
	EXPECT_EQ(vx_engine_stop(eng, SIGTERM), 0, "engine exit status");
	return vt_result();
}
