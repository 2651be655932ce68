/* SPDX-License-Identifier: MIT */
/*
 * vtcrash - helpers for the crash cases and the soak (crash_*, soak):
 * a seeded PRNG whose seed is printed and can be set with ASH_TEST_SEED,
 * random delays from microseconds to milliseconds, model files written to
 * /tmp, and a quiet wait until the counters are back to a snapshot.
 *
 * Header-only (static inline), like vtexec.h; include it after vtexec.h.
 */
#ifndef VTCRASH_H
#define VTCRASH_H

#include <fcntl.h>
#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vtexec.h"

/* --- PRNG ---------------------------------------------------------------- */

/* splitmix64: small, good enough, and the same sequence everywhere. */
struct vc_rng {
	uint64_t s;
};

static inline uint64_t vc_next(struct vc_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n); 0 for n == 0. */
static inline uint64_t vc_below(struct vc_rng *r, uint64_t n)
{
	return n ? vc_next(r) % n : 0;
}

/* Uniform in [lo, hi]. */
static inline uint64_t vc_range(struct vc_rng *r, uint64_t lo, uint64_t hi)
{
	return lo + vc_below(r, hi - lo + 1);
}

/* Log-uniform in [lo, hi] (lo > 0): as many draws per decade. */
static inline uint64_t vc_log_range(struct vc_rng *r, uint64_t lo, uint64_t hi)
{
	double u = (double)(vc_next(r) >> 11) / (double)(1ULL << 53);

	return (uint64_t)((double)lo * pow((double)hi / (double)lo, u));
}

/* A derived generator, for a child process or a thread. */
static inline struct vc_rng vc_fork(struct vc_rng *r, uint64_t salt)
{
	struct vc_rng c = { vc_next(r) ^ (salt * 0x2545f4914f6cdd1dULL) };

	return c;
}

/*
 * The run's seed: $ASH_TEST_SEED (decimal or 0x hex) if set, else from the
 * clock.  Printed so that a failing run can be repeated with
 * `ASH_TEST_SEED=N tests/vm/run.sh ... --cases NAME`.
 */
static inline uint64_t vc_seed(const char *case_name)
{
	const char *env = getenv("ASH_TEST_SEED");
	uint64_t seed;

	if (env && *env) {
		seed = strtoull(env, NULL, 0);
	} else {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^
		       ((uint64_t)getpid() << 40);
	}
	printf("%s: seed %llu (repeat with ASH_TEST_SEED=%llu)\n", case_name,
	       (unsigned long long)seed, (unsigned long long)seed);
	return seed;
}

/* Environment number, or @def when unset or empty. */
static inline uint64_t vc_env_u64(const char *name, uint64_t def)
{
	const char *env = getenv(name);

	return env && *env ? strtoull(env, NULL, 0) : def;
}

static inline void vc_sleep_us(uint64_t us)
{
	struct timespec ts = { (time_t)(us / 1000000),
			       (long)(us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/*
 * Make the calling process (the case's supervisor) SCHED_FIFO, so that it
 * runs the moment its sleep ends even with every vCPU busy with tenants,
 * and a kill lands near the time drawn for it.  Children it forks start as
 * SCHED_OTHER (SCHED_RESET_ON_FORK).  Prints a note if it cannot.
 */
static inline void vc_realtime(void)
{
	struct sched_param sp = { .sched_priority = 10 };

	if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp))
		printf("note: SCHED_FIFO for the supervisor: %s; kills may land "
		       "late\n", vt_errname(-errno));
}

/* --- model files ---------------------------------------------------------- */

static inline void vc_put(int fd, const void *p, size_t n)
{
	REQUIRE(write(fd, p, n) == (ssize_t)n, "write %zu bytes: %s", n,
		vt_errname(-errno));
}

/* Deterministic filler bytes of a tensor, cheap to make. */
static inline void vc_put_filler(int fd, uint64_t bytes, uint64_t seed)
{
	static uint64_t chunk[8192];
	uint64_t i, n;

	for (i = 0; i < sizeof(chunk) / 8; i++)
		chunk[i] = (seed + i) * 0x9e3779b97f4a7c15ULL;
	while (bytes) {
		n = bytes < sizeof(chunk) ? bytes : sizeof(chunk);
		vc_put(fd, chunk, (size_t)n);
		bytes -= n;
	}
}

/*
 * A safetensors file at @path of @ntensors F32 tensors [rows, 1024] of
 * about @bytes in all (at most 16 tensors).  Returns the data section's
 * size.
 */
static inline uint64_t vc_write_safetensors(const char *path, uint64_t bytes,
					    int ntensors)
{
	uint64_t rows = bytes / 4096 / (uint64_t)ntensors, off = 0, hlen;
	char json[4096];
	size_t n = 0;
	int fd, i;

	if (!rows)
		rows = 1;
	n += (size_t)snprintf(json + n, sizeof(json) - n,
			      "{\"__metadata__\":{\"format\":\"pt\"}");
	for (i = 0; i < ntensors; i++) {
		n += (size_t)snprintf(json + n, sizeof(json) - n,
				      ",\"layers.%d.weight\":{\"dtype\":\"F32\","
				      "\"shape\":[%llu,1024],\"data_offsets\":[%llu,%llu]}",
				      i, (unsigned long long)rows,
				      (unsigned long long)off,
				      (unsigned long long)(off + rows * 4096));
		off += rows * 4096;
	}
	n += (size_t)snprintf(json + n, sizeof(json) - n, "}");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	REQUIRE(fd >= 0, "create %s: %s", path, vt_errname(-errno));
	hlen = n;
	vc_put(fd, &hlen, 8);
	vc_put(fd, json, n);
	for (i = 0; i < ntensors; i++)
		vc_put_filler(fd, rows * 4096, (uint64_t)i + 1);
	close(fd);
	return off;
}

static inline void vc_put_gguf_str(int fd, const char *s)
{
	uint64_t len = strlen(s);

	vc_put(fd, &len, 8);
	vc_put(fd, s, (size_t)len);
}

/*
 * A GGUF v3 file at @path of @ntensors F32 tensors [1024, rows] of about
 * @bytes in all (at most 16 tensors).  Returns the data section's size.
 */
static inline uint64_t vc_write_gguf(const char *path, uint64_t bytes,
				     int ntensors)
{
	uint64_t rows = bytes / 4096 / (uint64_t)ntensors, v64, pos;
	static const char zero[32];
	uint32_t v32;
	char name[32];
	int fd, i;

	if (!rows)
		rows = 1;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	REQUIRE(fd >= 0, "create %s: %s", path, vt_errname(-errno));
	vc_put(fd, "GGUF", 4);
	v32 = 3;
	vc_put(fd, &v32, 4);
	v64 = (uint64_t)ntensors;
	vc_put(fd, &v64, 8);
	v64 = 1;			/* one KV */
	vc_put(fd, &v64, 8);
	vc_put_gguf_str(fd, "general.architecture");
	v32 = 8;			/* string */
	vc_put(fd, &v32, 4);
	vc_put_gguf_str(fd, "crashtest");
	for (i = 0; i < ntensors; i++) {
		snprintf(name, sizeof(name), "blk.%d.weight", i);
		vc_put_gguf_str(fd, name);
		v32 = 2;		/* dimensions */
		vc_put(fd, &v32, 4);
		v64 = 1024;
		vc_put(fd, &v64, 8);
		vc_put(fd, &rows, 8);
		v32 = 0;		/* F32 */
		vc_put(fd, &v32, 4);
		v64 = (uint64_t)i * rows * 4096;	/* 32-aligned */
		vc_put(fd, &v64, 8);
	}
	pos = (uint64_t)lseek(fd, 0, SEEK_CUR);
	vc_put(fd, zero, (size_t)(((pos + 31) & ~31ULL) - pos));
	for (i = 0; i < ntensors; i++)
		vc_put_filler(fd, rows * 4096, (uint64_t)i + 100);
	close(fd);
	return (uint64_t)ntensors * rows * 4096;
}

/* --- settling ------------------------------------------------------------- */

/*
 * The memory and binding counters of @before and of now agree (device
 * mem_used and nr_contexts, the CTX_INFO walk, every partition's mem_used,
 * nr_buffers and nr_contexts) and no job is queued: quietly, for polling.
 */
static inline bool vc_snap_settled(const struct vt_snap *before)
{
	struct vt_snap now;
	int i, j;

	vt_snap_take(&now);
	if (now.dev.mem_used != before->dev.mem_used ||
	    now.dev.nr_contexts != before->dev.nr_contexts ||
	    now.dev.jobs_queued || now.nr_ctx != before->nr_ctx ||
	    now.nr_parts != before->nr_parts)
		return false;
	for (i = 0; i < before->nr_parts; i++) {
		for (j = 0; j < now.nr_parts; j++)
			if (now.parts[j].id == before->parts[i].id)
				break;
		if (j == now.nr_parts ||
		    now.parts[j].mem_used != before->parts[i].mem_used ||
		    now.parts[j].nr_buffers != before->parts[i].nr_buffers ||
		    now.parts[j].nr_contexts != before->parts[i].nr_contexts)
			return false;
	}
	return true;
}

/*
 * Poll until the counters are back to @before (the kernel releases a
 * context when its last reference goes: the file, a mapping, a running
 * job; io_uring's workers of a killed loader can hold its mm a while), at
 * most @timeout_ms; then compare exactly (FAIL lines for differences).
 * The milliseconds it took, or -1 if they did not settle.
 */
static inline long vc_wait_settled(const struct vt_snap *before,
				   int timeout_ms, const char *what)
{
	uint64_t t0 = vx_now_ns();
	long ms;

	for (;;) {
		ms = (long)((vx_now_ns() - t0) / 1000000);
		if (vc_snap_settled(before))
			break;
		if (ms > timeout_ms) {
			FAIL("%s: counters not back to the snapshot %d ms after "
			     "every tenant was reaped", what, timeout_ms);
			vt_snap_expect_same(before, what);
			return -1;
		}
		usleep(2000);
	}
	return vt_snap_expect_same(before, what) ? ms : -1;
}

#endif /* VTCRASH_H */
