// SPDX-License-Identifier: MIT
/*
 * kfuzz - a tenant process: KF_THREADS threads issuing random tenant
 * operations on a few contexts, with the bookkeeping of what the kernel
 * must hold for them.
 *
 * Records.  A context, a buffer and a mapping each have a record; the
 * threads share them under one mutex and do the system calls outside it,
 * so that free, mmap, submit and close race on the same handle for real.
 * Each call's result is recorded when it returns; the bookkeeping depends
 * only on which calls succeeded, not on their order:
 *  - a context's file is alive while its fd is open or any buffer of it is
 *    mapped (a mapping holds the file), and is counted bound while alive;
 *  - a buffer is charged while it has a handle and its file is alive, or
 *    while it is mapped.
 * Closing a context is dup2(/dev/null, fd): a thread still using the
 * number then reaches /dev/null (ENOTTY, ENODEV), never another context.
 *
 * Contents.  Every word a tenant puts into its buffers (through a mapping
 * or with FILL and COPY jobs) carries its owner byte in the top 8 bits.  A
 * buffer is "exact" (all sampled words are its tag, 0 when fresh) until a
 * job may write it, "mixed" (each word 0 or the owner's) after FILL/COPY,
 * and "garbage" (not checked) after the other ops; a tag written while no
 * job is pending makes it exact again.  Seeing another owner's byte, or a
 * non-zero word in a fresh buffer, is an isolation failure.
 *
 * A handle is used as a "probe" (a freed handle, another context's handle,
 * an impossible one) only when it is certainly not one of this context's
 * live handles: handles are allocated cyclically, so with no allocation in
 * flight every handle up to the largest seen that has no live record is
 * dead.  A probe must fail.
 */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "kfuzz.h"

#define MAXC	16	/* context records */
#define MAXOPEN	4	/* open contexts at once */
#define MAXB	160	/* buffer records */
#define MAXM	48	/* mapping records */
#define MAXDEAD	256	/* fds turned into /dev/null */
#define PG	4096ULL

struct tctx {
	bool used, open, bound;
	int fd, slot, refs, binding, allocs, nmaps;
	int bind_slot;	/* of the bind in flight on an unbound context */
	uint32_t max_handle;
	uint64_t last_fence, done;
};

struct tbuf {
	bool used, pending, has_handle, busy, mixed, garbage;
	int ctx, refs, nmaps, frees, subs;
	uint32_t handle, flags, tag;
	uint64_t size, charge, wfence;
};

struct tmap {
	bool used;
	int buf, busy;
	unsigned char *addr;
	uint64_t len, off;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct tctx C[MAXC];
static struct tbuf B[MAXB];
static struct tmap M[MAXM];
static int dead[MAXDEAD], ndead;
static int devnull = -1;
static int me;
static uint32_t owner;
static int cur_round;
static bool no_madvise;

#define LOCK()		pthread_mutex_lock(&mu)
#define UNLOCK()	pthread_mutex_unlock(&mu)

static bool alive(int c)
{
	return C[c].open || C[c].nmaps > 0;
}

static bool charged(int b)
{
	return (B[b].has_handle && alive(B[b].ctx)) || B[b].nmaps > 0;
}

/* May context @c be bound by now (a bind of it may be in flight)? */
static bool maybe_bound(int c)
{
	return C[c].bound || C[c].binding;
}

/* Its partition slot, once a call on it succeeded as if bound. */
static int slot_of(int c)
{
	return C[c].bound ? C[c].slot : C[c].bind_slot;
}

static bool running(void)
{
	return __atomic_load_n(&kf->phase, __ATOMIC_ACQUIRE) == KF_RUN &&
	       __atomic_load_n(&kf->round, __ATOMIC_ACQUIRE) == cur_round;
}

/* A random record index satisfying @ok, or -1.  Under the lock. */
#define PICK(r, n, ok) ({						\
	int _start = (int)kf_below(r, n), _i, _res = -1;		\
	for (_i = 0; _i < (n); _i++) {					\
		int i = (_start + _i) % (n);				\
		if (ok) { _res = i; break; }				\
	}								\
	_res; })

static int nopen(void)
{
	int i, n = 0;

	for (i = 0; i < MAXC; i++)
		n += C[i].used && C[i].open;
	return n;
}

/* Is handle @h certainly dead in context @c?  Under the lock. */
static bool handle_dead(int c, uint32_t h)
{
	int i;

	if (!h || h > (1U << 20) - 1)
		return true;
	if (C[c].allocs || h > C[c].max_handle)
		return false;
	for (i = 0; i < MAXB; i++)
		if (B[i].used && (B[i].pending || (B[i].ctx == c &&
		    B[i].handle == h && B[i].has_handle)))
			return false;
	return true;
}

/* Handle @h of context @c names a live ASH_BUF_READONLY buffer.  Under
 * the lock. */
static bool handle_readonly(int c, uint32_t h)
{
	int i;

	for (i = 0; i < MAXB; i++)
		if (B[i].used && B[i].ctx == c && B[i].has_handle &&
		    B[i].handle == h)
			return B[i].flags & ASH_BUF_READONLY;
	return false;
}

/* A handle certainly dead in @c (freed, another context's, impossible),
 * or 0 if none can be found now.  Under the lock. */
static uint32_t probe_handle(struct kf_rng *r, int c)
{
	uint32_t h;
	int b, k;

	for (k = 0; k < 4; k++) {
		switch (kf_below(r, 4)) {
		case 0:
			h = (uint32_t)kf_below(r, 1U << 20) + (1U << 20);
			break;
		case 1:
			h = (uint32_t)kf_rand(r);
			break;
		default:	/* a handle seen somewhere: freed, or another ctx's */
			b = PICK(r, MAXB, B[i].used && !B[i].pending);
			if (b < 0)
				continue;
			h = B[b].handle;
		}
		if (h && handle_dead(c, h))
			return h;
	}
	return 0;
}

/* Take an open context (bound if @bound), with a reference.  Under lock. */
static int take_ctx(struct kf_rng *r, int bound)
{
	int c = PICK(r, MAXC, C[i].used && C[i].open &&
		     (bound < 0 || C[i].bound == (bound > 0)));

	if (c >= 0)
		C[c].refs++;
	return c;
}

/* Take a buffer with a live handle in an open context. */
static int take_buf(struct kf_rng *r)
{
	int b = PICK(r, MAXB, B[i].used && !B[i].pending && B[i].has_handle &&
		     C[B[i].ctx].open);

	if (b >= 0) {
		B[b].refs++;
		C[B[b].ctx].refs++;
	}
	return b;
}

static void put_buf(int b)
{
	B[b].refs--;
	C[B[b].ctx].refs--;
}

/*
 * A call on context @c failed with @ret where success was expected: fine
 * if the context was closed under it (ENOTTY, ENODEV from /dev/null) or,
 * with @raced, if its handle went meanwhile (@alt, e.g. ENOENT).
 */
static void expect_ok_or_raced(int c, long ret, bool raced, long alt,
			       enum kf_op op, const char *what)
{
	if (!ret)
		return;
	if (!C[c].open && (ret == -ENOTTY || ret == -ENODEV))
		return;
	if (raced && ret == alt)
		return;
	if (ret == -ENOMEM)
		return;
	KF_FAIL("tenant %d: %s: %s: %s", me, kf_opname(op), what,
		vt_errname(ret));
}

/* After a mutated call: ENOTTY is fine only from a closed context. */
static void judge_mut(int c, long ret, enum kf_mut mut, enum kf_op op)
{
	if (ret == -ENOTTY && kf_mut_err(mut) != -ENOTTY && C[c].open)
		KF_FAIL("tenant %d: %s: ENOTTY on an open context", me,
			kf_opname(op));
}

/* --- contexts ----------------------------------------------------------- */

static void do_bind(struct kf_rng *r, int c, int fd)
{
	static const char *const bad[] = { "", "-kfz0", ".kfz0", "kfz 0",
					   "kfz0/", "kfz\x01" };
	enum kf_mut mut = kf_pick_mut(r);
	struct ash_bind bd;
	bool was_bound, exact_noent = false, bad_name = false;
	int slot = (int)kf_below(r, KF_PARTS);
	long ret;

	memset(&bd, 0, sizeof(bd));
	switch (kf_below(r, 12)) {
	case 0:
		strcpy(bd.partition, "kfz9");	/* never created */
		exact_noent = true;
		break;
	case 1:
		if (kf_chance(r, 50))
			strcpy(bd.partition, bad[kf_below(r, 6)]);
		else
			memset(bd.partition, 'a', sizeof(bd.partition));
		bad_name = true;
		break;
	default:
		strcpy(bd.partition, kf_part_names[slot]);
	}
	LOCK();
	was_bound = C[c].bound;
	/* One bind at a time on an unbound context, so that a call that
	 * finds it bound under it knows to which partition. */
	if (!was_bound && C[c].binding) {
		UNLOCK();
		return;
	}
	C[c].binding++;
	C[c].bind_slot = slot;
	UNLOCK();
	ret = kf_ioctl(fd, KF_BIND, &bd, mut, r, "bind");
	LOCK();
	C[c].binding--;
	if (kf_mut_err(mut)) {
		judge_mut(c, ret, mut, KF_BIND);
	} else if (!ret) {
		if (bad_name || exact_noent || was_bound || C[c].bound)
			KF_FAIL("tenant %d: bind %s: succeeded on a context %s",
				me, bd.partition, C[c].bound ?
				"bound already" : "with a bad name");
		C[c].bound = true;
		C[c].slot = slot;
	} else if (!C[c].open && ret == -ENOTTY) {
		/* closed under us */
	} else if (bad_name && ret != -EINVAL) {
		KF_FAIL("tenant %d: bind to a malformed name: expected -EINVAL, got %s",
			me, vt_errname(ret));
	} else if (!bad_name && was_bound && ret != -EBUSY) {
		KF_FAIL("tenant %d: bind of a bound context: expected -EBUSY, got %s",
			me, vt_errname(ret));
	} else if (!bad_name && !was_bound && exact_noent && ret != -ENOENT &&
		   !(ret == -EBUSY && C[c].bound)) {
		KF_FAIL("tenant %d: bind to a missing partition: expected -ENOENT, got %s",
			me, vt_errname(ret));
	} else {
		kf_allowed(KF_BIND, ret, 0, "tenant bind");
		if (ret == -EBUSY && !C[c].bound && !C[c].binding)
			KF_FAIL("tenant %d: bind: -EBUSY on an unbound context",
				me);
	}
	UNLOCK();
}

static void op_open(struct kf_rng *r)
{
	int c, fd;

	LOCK();
	c = nopen() < MAXOPEN ? PICK(r, MAXC, !C[i].used) : -1;
	if (c >= 0) {
		memset(&C[c], 0, sizeof(C[c]));
		C[c].used = true;
		C[c].fd = -1;
		C[c].refs = 1;
	}
	UNLOCK();
	if (c < 0)
		return;
	fd = open(VT_TENANT_DEV, O_RDWR | O_CLOEXEC);
	kf_count(KF_OPEN, fd < 0 ? -errno : 0);
	LOCK();
	if (fd < 0) {
		kf_allowed(KF_OPEN, -errno, 0, "open the tenant node");
		C[c].used = false;
		UNLOCK();
		return;
	}
	C[c].fd = fd;
	C[c].open = true;
	UNLOCK();
	if (kf_chance(r, 85))
		do_bind(r, c, fd);
	LOCK();
	C[c].refs--;
	UNLOCK();
}

static void op_bind(struct kf_rng *r)
{
	int c, fd;

	LOCK();
	c = take_ctx(r, kf_chance(r, 70) ? 0 : -1);
	fd = c >= 0 ? C[c].fd : -1;
	UNLOCK();
	if (c < 0)
		return;
	do_bind(r, c, fd);
	LOCK();
	C[c].refs--;
	UNLOCK();
}

static void op_close(struct kf_rng *r)
{
	int c;

	LOCK();
	c = ndead < MAXDEAD ? PICK(r, MAXC, C[i].used && C[i].open) : -1;
	if (c >= 0) {
		/* The number stays taken (by /dev/null) until the round ends. */
		if (dup2(devnull, C[c].fd) < 0)
			KF_FAIL("tenant %d: dup2: %s", me, vt_errname(-errno));
		dead[ndead++] = C[c].fd;
		C[c].open = false;
	}
	UNLOCK();
}

/* --- buffers -------------------------------------------------------------- */

static uint64_t alloc_size(struct kf_rng *r, long *want)
{
	*want = 0;
	switch (kf_below(r, 40)) {
	case 0:
		*want = -EINVAL;
		return 0;
	case 1:
		*want = -EINVAL;
		return ASH_BUF_SIZE_MAX + 1 + kf_below(r, 1ULL << 40);
	case 2:
		*want = -EINVAL;
		return ~0ULL - kf_below(r, 4096);
	case 3:
		return ASH_BUF_SIZE_MAX;	/* EDQUOT or ENOSPC */
	case 4:
		return 1 + kf_below(r, ASH_BUF_SIZE_MAX);
	case 5: case 6:
		return 256 * 1024 + kf_below(r, 768 * 1024);
	default:
		if (kf_chance(r, 50))
			return 1 + kf_below(r, 3 * PG);
		return 1 + kf_below(r, 256 * 1024);
	}
}

static void op_alloc(struct kf_rng *r)
{
	enum kf_mut mut = kf_pick_mut(r);
	struct ash_buf_alloc a;
	bool was_bound;
	int c, b, fd, k;
	long ret, want;

	memset(&a, 0, sizeof(a));
	a.size = alloc_size(r, &want);
	a.flags = (kf_chance(r, 20) ? ASH_BUF_READONLY : 0) |
		  (kf_chance(r, 10) ? ASH_BUF_STAGING : 0);
	LOCK();
	c = take_ctx(r, kf_chance(r, 95) ? 1 : -1);
	b = c >= 0 ? PICK(r, MAXB, !B[i].used) : -1;
	if (c >= 0 && b < 0) {
		C[c].refs--;
		c = -1;
	}
	if (c < 0) {
		UNLOCK();
		return;
	}
	memset(&B[b], 0, sizeof(B[b]));
	B[b].used = B[b].pending = true;
	B[b].ctx = c;
	C[c].allocs++;
	was_bound = C[c].bound;
	fd = C[c].fd;
	UNLOCK();

	ret = kf_ioctl(fd, KF_ALLOC, &a, mut, r, "alloc");

	LOCK();
	C[c].allocs--;
	if (kf_mut_err(mut))
		judge_mut(c, ret, mut, KF_ALLOC);
	if (!ret && (want || kf_mut_err(mut) || !maybe_bound(c))) {
		KF_FAIL("tenant %d: alloc of %llu bytes (flags %#x, %s) succeeded",
			me, (unsigned long long)a.size, a.flags,
			C[c].bound ? "bad size" : "unbound context");
	}
	if (!ret) {
		if (!a.handle || a.mmap_offset != (uint64_t)a.handle << ASH_MMAP_SHIFT)
			KF_FAIL("tenant %d: alloc: handle %u, mmap_offset %#llx",
				me, a.handle, (unsigned long long)a.mmap_offset);
		for (k = 0; k < MAXB; k++)
			if (k != b && B[k].used && !B[k].pending && B[k].ctx == c &&
			    B[k].has_handle && B[k].handle == a.handle)
				KF_FAIL("tenant %d: alloc returned handle %u, which is live",
					me, a.handle);
		B[b].pending = false;
		B[b].handle = a.handle;
		B[b].size = a.size;
		B[b].charge = (a.size + PG - 1) & ~(PG - 1);
		B[b].flags = a.flags;
		B[b].has_handle = true;
		if (a.handle > C[c].max_handle)
			C[c].max_handle = a.handle;
	} else {
		B[b].used = false;
		if (!kf_mut_err(mut)) {
			if (want && ret != want && !(!C[c].open && ret == -ENOTTY))
				KF_FAIL("tenant %d: alloc of %llu bytes: expected %s, got %s",
					me, (unsigned long long)a.size,
					vt_errname(want), vt_errname(ret));
			else if (!want && !(!C[c].open && ret == -ENOTTY))
				kf_allowed(KF_ALLOC, ret, 0, "tenant alloc");
			if (ret == -EBADFD && was_bound)
				KF_FAIL("tenant %d: alloc: -EBADFD on a bound context", me);
		}
	}
	C[c].refs--;
	UNLOCK();
}

/* Free, or (@info) query, a live handle or a probe. */
static void op_free_info(struct kf_rng *r, bool info)
{
	enum kf_op op = info ? KF_BINFO : KF_FREE;
	enum kf_mut mut = kf_pick_mut(r);
	struct ash_buf_free f;
	struct ash_buf_info in;
	uint32_t h = 0;
	int b = -1, c, fd;
	long ret;

	LOCK();
	if (kf_chance(r, 75)) {
		b = take_buf(r);
		if (b < 0) {
			UNLOCK();
			return;
		}
		c = B[b].ctx;
		h = B[b].handle;
		if (!info)
			B[b].frees++;
	} else {
		c = take_ctx(r, -1);
		if (c >= 0)
			h = probe_handle(r, c);
		if (c >= 0 && !h) {
			C[c].refs--;
			c = -1;
		}
		if (c < 0) {
			UNLOCK();
			return;
		}
	}
	fd = C[c].fd;
	UNLOCK();

	memset(&f, 0, sizeof(f));
	memset(&in, 0, sizeof(in));
	f.handle = in.handle = h;
	ret = info ? kf_ioctl(fd, op, &in, mut, r, "buffer info") :
		     kf_ioctl(fd, op, &f, mut, r, "free");

	LOCK();
	if (kf_mut_err(mut)) {
		judge_mut(c, ret, mut, op);
	} else if (b < 0) {
		if (!ret)
			KF_FAIL("tenant %d: %s of handle %u, which is not this context's, succeeded",
				me, kf_opname(op), h);
		else if (ret != -ENOENT && !(!C[c].open && ret == -ENOTTY))
			KF_FAIL("tenant %d: %s of a dead handle %u: expected -ENOENT, got %s",
				me, kf_opname(op), h, vt_errname(ret));
	} else {
		bool raced = !B[b].has_handle || B[b].frees > (info ? 0 : 1) ||
			     !C[c].open;

		expect_ok_or_raced(c, ret, raced, -ENOENT, op, "live handle");
		if (!ret && info && (in.size != B[b].size ||
		    in.mmap_offset != (uint64_t)h << ASH_MMAP_SHIFT))
			KF_FAIL("tenant %d: info of handle %u: size %llu offset %#llx, expected %llu %#llx",
				me, h, (unsigned long long)in.size,
				(unsigned long long)in.mmap_offset,
				(unsigned long long)B[b].size,
				(unsigned long long)h << ASH_MMAP_SHIFT);
		if (!ret && !info) {
			if (!B[b].has_handle)
				KF_FAIL("tenant %d: handle %u freed twice", me, h);
			B[b].has_handle = false;
		}
	}
	if (b >= 0) {
		if (!info)
			B[b].frees--;
		put_buf(b);
	} else {
		C[c].refs--;
	}
	UNLOCK();
}

/* --- mappings ------------------------------------------------------------- */

static void op_mmap(struct kf_rng *r)
{
	uint64_t npages, first, count, off;
	int b = -1, c, m, fd, flags = MAP_SHARED;
	bool valid = true;
	uint32_t h;
	void *p;
	long ret;

	LOCK();
	m = PICK(r, MAXM, !M[i].used);
	if (m < 0) {
		UNLOCK();
		return;
	}
	if (kf_chance(r, 90)) {
		b = take_buf(r);
		if (b < 0) {
			UNLOCK();
			return;
		}
		c = B[b].ctx;
		h = B[b].handle;
		npages = B[b].charge / PG;
	} else {
		c = take_ctx(r, 1);
		h = c >= 0 ? probe_handle(r, c) : 0;
		if (c >= 0 && !h) {
			C[c].refs--;
			c = -1;
		}
		if (c < 0) {
			UNLOCK();
			return;
		}
		npages = 1 + kf_below(r, 4);
		valid = false;
	}
	M[m].used = true;	/* reserved */
	M[m].busy = 1;
	M[m].addr = NULL;
	fd = C[c].fd;
	UNLOCK();

	first = 0;
	count = npages;
	switch (kf_below(r, 10)) {
	case 0:
		flags = MAP_PRIVATE;
		valid = false;
		break;
	case 1:
		first = npages + kf_below(r, 4);
		count = 1;
		valid = false;
		break;
	case 2:
		count = npages + 1 + kf_below(r, 3);
		valid = false;
		break;
	case 3: case 4:
		first = kf_below(r, npages);
		count = 1 + kf_below(r, npages - first);
		break;
	default:
		break;
	}
	off = ((uint64_t)h << ASH_MMAP_SHIFT) + first * PG;
	p = mmap(NULL, count * PG, PROT_READ | PROT_WRITE, flags, fd,
		 (off_t)off);
	ret = p == MAP_FAILED ? -errno : 0;
	kf_count(KF_MMAP, ret);

	LOCK();
	if (!ret && (!valid || b < 0)) {
		KF_FAIL("tenant %d: mmap of handle %u pages %llu+%llu (%s) succeeded",
			me, h, (unsigned long long)first,
			(unsigned long long)count,
			b < 0 ? "not this context's handle" :
			flags == MAP_PRIVATE ? "MAP_PRIVATE" : "out of range");
		munmap(p, count * PG);
		ret = -EINVAL;
		p = MAP_FAILED;
	}
	if (!ret) {
		M[m].buf = b;
		M[m].addr = p;
		M[m].len = count * PG;
		M[m].off = first * PG;
		M[m].busy = 0;
		B[b].nmaps++;
		C[c].nmaps++;
	} else {
		M[m].used = false;
		if (!valid && ret != -EINVAL && !(!C[c].open && ret == -ENODEV))
			KF_FAIL("tenant %d: bad mmap: expected -EINVAL, got %s",
				me, vt_errname(ret));
		if (valid)
			expect_ok_or_raced(c, ret, !B[b].has_handle ||
					   B[b].frees > 0 || !C[c].open,
					   -EINVAL, KF_MMAP, "valid mmap");
	}
	if (b >= 0)
		put_buf(b);
	else
		C[c].refs--;
	UNLOCK();
}

static void op_munmap(struct kf_rng *r)
{
	bool head = kf_chance(r, 30);
	unsigned char *addr;
	uint64_t len;
	int m, b;
	long ret;

	LOCK();
	m = PICK(r, MAXM, M[i].used && !M[i].busy);
	if (m < 0) {
		UNLOCK();
		return;
	}
	b = M[m].buf;
	addr = M[m].addr;
	len = M[m].len;
	if (head && len > PG) {
		/* Split the VMA: unmap its first page, keep the rest. */
		M[m].busy++;
		UNLOCK();
		ret = munmap(addr, PG) ? -errno : 0;
		kf_count(KF_MUNMAP, ret);
		LOCK();
		if (ret)
			KF_FAIL("tenant %d: munmap of a head page: %s", me,
				vt_errname(ret));
		M[m].addr += PG;
		M[m].len -= PG;
		M[m].off += PG;
		M[m].busy--;
		UNLOCK();
		return;
	}
	M[m].used = false;
	B[b].nmaps--;
	C[B[b].ctx].nmaps--;
	UNLOCK();
	ret = munmap(addr, len) ? -errno : 0;
	kf_count(KF_MUNMAP, ret);
	if (ret)
		KF_FAIL("tenant %d: munmap: %s", me, vt_errname(ret));
}

/* Word positions sampled in each page. */
static const unsigned int kf_words[] = { 0, 1, 511, 1023 };

static bool quiet(int b)
{
	return !B[b].subs && B[b].wfence <= C[B[b].ctx].done;
}

/*
 * Write a tag through a mapping that covers the whole buffer, or check
 * what a mapping shows; sometimes drop its pages first (MADV_DONTNEED:
 * they fault back in, the same pages).
 */
static void op_touch(struct kf_rng *r)
{
	uint32_t tag = 0, *w;
	bool write, exact, mixed, garbage, was_quiet;
	bool dontneed = kf_chance(r, 15);
	unsigned char *addr;
	uint64_t pg, npg;
	unsigned int k;
	int m, b;

	LOCK();
	m = PICK(r, MAXM, M[i].used && M[i].addr && !M[i].busy &&
		     !B[M[i].buf].busy);
	if (m < 0) {
		UNLOCK();
		return;
	}
	b = M[m].buf;
	M[m].busy++;
	B[b].busy = true;
	write = M[m].off == 0 && M[m].len == B[b].charge && kf_chance(r, 50);
	exact = !B[b].mixed && !B[b].garbage;
	mixed = B[b].mixed;
	garbage = B[b].garbage;
	/* No job can be submitted on @b while it is busy, but one submitted
	 * before may still run and overwrite the tag as it is written. */
	was_quiet = quiet(b);
	tag = B[b].tag;
	addr = M[m].addr;
	npg = M[m].len / PG;
	UNLOCK();

	if (dontneed && !no_madvise) {
		long ret = madvise(addr, npg * PG, MADV_DONTNEED) ? -errno : 0;

		kf_count(KF_MADVISE, ret);
		/* The debug kernel (tinyconfig) has no madvise(2). */
		if (ret == -ENOSYS)
			no_madvise = true;
		else if (ret)
			KF_FAIL("tenant %d: madvise(MADV_DONTNEED): %s", me,
				vt_errname(ret));
	}
	for (pg = 0; pg < npg && !garbage; pg++) {
		w = (uint32_t *)(addr + pg * PG);
		for (k = 0; k < 4; k++) {
			uint32_t v = w[kf_words[k]];

			if (exact ? v == tag :
			    (v == 0 || v >> 24 == owner) && mixed)
				continue;
			KF_FAIL("tenant %d: buffer %u page %llu word %u: %#x, expected %s %#x (owner byte %#x)%s",
				me, B[b].handle,
				(unsigned long long)(M[m].off / PG + pg),
				kf_words[k], v, exact ? "exactly" : "0 or owner",
				exact ? tag : owner, owner,
				v >> 24 && v >> 24 != owner ?
				": ANOTHER TENANT'S DATA" : "");
			pg = npg;
			break;
		}
	}
	if (write) {
		tag = owner << 24 | (uint32_t)kf_below(r, 1U << 24);
		for (pg = 0; pg < npg; pg++) {
			w = (uint32_t *)(addr + pg * PG);
			for (k = 0; k < 4; k++)
				w[kf_words[k]] = tag;
		}
	}
	LOCK();
	if (write) {
		if (was_quiet) {
			B[b].mixed = B[b].garbage = false;
			B[b].tag = tag;
		} else if (!B[b].garbage) {
			B[b].mixed = true;
		}
	}
	B[b].busy = false;
	M[m].busy--;
	UNLOCK();
}

/* --- jobs ------------------------------------------------------------------- */

enum { BAD_NONE, BAD_OPCODE, BAD_CMDFLAGS, BAD_PSIZE, BAD_PTAIL, BAD_NROPS,
       BAD_OPFLAGS, BAD_LEN0, BAD_HANDLE, BAD_RANGE, BAD_OVERFLOW, BAD_RO,
       BAD_NCMDS, BAD_CSIZE, BAD_CTAIL, BAD_CPTR, BAD_COUNT };

/*
 * What the driver answers each defect with.  A bad opcode is the engine's
 * to refuse (the job fails with -EINVAL), not the driver's: 0.  So is an
 * access that the op does not allow but the envelope does (BAD_OPFLAGS
 * picks its error itself).
 */
static const long bad_err[BAD_COUNT] = {
	0, 0, -EINVAL, -EINVAL, -EINVAL, -EINVAL, -EINVAL, -EINVAL,
	-ENOENT, -ERANGE, -ERANGE, -EACCES, -EINVAL, -EINVAL, -E2BIG, -EFAULT,
};

#define MAXCMD	8
#define MAXJB	(MAXCMD * ASH_CMD_MAX_OPERANDS)

/* A random in-range piece of buffer @b: 4-byte aligned, multiple of 4. */
static void piece(struct kf_rng *r, int b, uint64_t *off, uint64_t *len)
{
	uint64_t words = B[b].size / 4;

	if (!words) {
		*off = 0;
		*len = B[b].size;
		return;
	}
	*off = 4 * kf_below(r, words);
	*len = 4 * (1 + kf_below(r, words - *off / 4));
	if (*len > 64 * 1024)
		*len = 64 * 1024;
}

static void op_submit(struct kf_rng *r)
{
	static _Thread_local struct ash_command cmds[MAXCMD];
	static _Thread_local unsigned char wide[MAXCMD * 512];
	enum kf_mut mut = kf_pick_mut(r);
	int used[MAXJB], nused = 0, out[MAXJB], nout = 0;
	int bad = kf_chance(r, 35) ? 1 + (int)kf_below(r, BAD_COUNT - 1) : 0;
	int c, fd, q, j, n, badcmd;
	bool was_bound, garbage_out[MAXJB];
	struct ash_submit s;
	uint32_t csize = sizeof(struct ash_command);
	long ret, want, opflags_want = -EINVAL;

	LOCK();
	c = take_ctx(r, kf_chance(r, 95) ? 1 : -1);
	if (c < 0) {
		UNLOCK();
		return;
	}
	fd = C[c].fd;
	was_bound = C[c].bound;
	n = 1 + (int)kf_below(r, kf_chance(r, 80) ? 2 : MAXCMD);
	badcmd = (int)kf_below(r, (uint64_t)n);
	memset(cmds, 0, sizeof(cmds));
	for (q = 0; q < n; q++) {
		struct ash_command *cmd = &cmds[q];
		int kind = (int)kf_below(r, 10), b0, b1;
		uint64_t o0, l0, o1, l1;

		b0 = PICK(r, MAXB, B[i].used && !B[i].pending &&
			  B[i].has_handle && B[i].ctx == c && !B[i].busy);
		b1 = PICK(r, MAXB, B[i].used && !B[i].pending &&
			  B[i].has_handle && B[i].ctx == c);
		if (b0 < 0 || b1 < 0 || kind < 2) {
			cmd->opcode = ASH_OP_NOP;
			continue;
		}
		piece(r, b0, &o0, &l0);
		used[nused++] = b0;
		B[b0].refs++;
		if (kind < 6) {
			struct ash_fill_params fp = {
				.pattern = owner << 24 |
					   (uint32_t)kf_below(r, 1U << 24),
			};

			cmd->opcode = ASH_OP_FILL;
			cmd->nr_operands = 1;
			cmd->params_size = sizeof(fp);
			memcpy(cmd->params, &fp, sizeof(fp));
			cmd->operands[0] = (struct ash_operand){
				B[b0].handle, ASH_OPERAND_WRITE, o0, l0 };
			garbage_out[nout] = false;
		} else {
			piece(r, b1, &o1, &l1);
			used[nused++] = b1;
			B[b1].refs++;
			l0 = l1 = l0 < l1 ? l0 : l1;
			if (o0 + l0 > B[b0].size)
				l0 = l1 = B[b0].size - o0;
			cmd->opcode = kind < 8 ? ASH_OP_COPY :
				      ASH_OP_SILU + (uint32_t)kf_below(r, 2);
			cmd->nr_operands = 2;
			cmd->operands[0] = (struct ash_operand){
				B[b0].handle, ASH_OPERAND_WRITE, o0, l0 };
			cmd->operands[1] = (struct ash_operand){
				B[b1].handle, ASH_OPERAND_READ, o1, l1 };
			if (cmd->opcode != ASH_OP_COPY) {
				struct ash_eltwise_params ep = {
					.count = kf_below(r, l0 / 4 + 2) };

				cmd->params_size = sizeof(ep);
				memcpy(cmd->params, &ep, sizeof(ep));
			}
			garbage_out[nout] = cmd->opcode != ASH_OP_COPY ||
					    B[b1].garbage;
		}
		if (l0 == 0) {	/* a 1..3-byte buffer: length 0 is malformed */
			cmd->opcode = ASH_OP_NOP;
			cmd->nr_operands = 0;
			cmd->params_size = 0;
			memset(cmd->operands, 0, sizeof(cmd->operands));
			memset(cmd->params, 0, sizeof(cmd->params));
			continue;
		}
		out[nout++] = b0;
		if (B[b0].flags & ASH_BUF_READONLY) {
			/* A valid job never writes it; make it the input. */
			cmd->opcode = ASH_OP_NOP;
			cmd->nr_operands = 0;
			cmd->params_size = 0;
			memset(cmd->operands, 0, sizeof(cmd->operands));
			memset(cmd->params, 0, sizeof(cmd->params));
			nout--;
		}
	}
	/* One defect, in command @badcmd or in the submission. */
	{
		struct ash_command *cmd = &cmds[badcmd];
		int ro = PICK(r, MAXB, B[i].used && !B[i].pending &&
			      B[i].has_handle && B[i].ctx == c &&
			      (B[i].flags & ASH_BUF_READONLY));
		uint32_t probe = probe_handle(r, c);

		switch (bad) {
		case BAD_OPCODE:
			cmd->opcode = ASH_OP_COUNT + (uint32_t)kf_below(r, 1000);
			break;
		case BAD_CMDFLAGS:
			cmd->flags = 1U << kf_below(r, 32);
			break;
		case BAD_PSIZE:
			cmd->params_size = ASH_CMD_PARAMS_MAX + 1 +
					   (uint32_t)kf_below(r, 100000);
			break;
		case BAD_PTAIL:
			cmd->params[cmd->params_size +
				    kf_below(r, ASH_CMD_PARAMS_MAX -
					     cmd->params_size)] = 0x5a;
			break;
		case BAD_NROPS:
			cmd->nr_operands = cmd->nr_operands ?
				cmd->nr_operands - 1 : 1 + (uint32_t)kf_below(r, 8);
			break;
		case BAD_OPFLAGS:
			if (!cmd->nr_operands) {
				bad = BAD_NROPS;
				cmd->nr_operands = 1;
				break;
			}
			cmd->operands[0].flags =
				kf_chance(r, 50) ? ASH_OPERAND_READ :
				kf_chance(r, 50) ? 0 : 4U << kf_below(r, 29);
			/* An output declared READ passes the envelope: the
			 * engine's op table refuses it. */
			opflags_want = cmd->operands[0].flags ==
				       ASH_OPERAND_READ ? 0 : -EINVAL;
			if (cmd->nr_operands > 1 && kf_chance(r, 50)) {
				cmd->operands[0].flags = ASH_OPERAND_WRITE;
				cmd->operands[1].flags |= ASH_OPERAND_WRITE;
				/* So does an input declared WRITE, unless
				 * its buffer is READONLY. */
				opflags_want = handle_readonly(
					c, cmd->operands[1].handle) ?
					-EACCES : 0;
			}
			break;
		case BAD_LEN0:
			if (!cmd->nr_operands)
				bad = BAD_NONE;
			else
				cmd->operands[kf_below(r, cmd->nr_operands)].length = 0;
			break;
		case BAD_HANDLE:
			if (!cmd->nr_operands || !probe)
				bad = BAD_NONE;
			else
				cmd->operands[kf_below(r, cmd->nr_operands)].handle = probe;
			break;
		case BAD_RANGE:
		case BAD_OVERFLOW:
			if (!cmd->nr_operands) {
				bad = BAD_NONE;
				break;
			}
			j = (int)kf_below(r, cmd->nr_operands);
			/* Past any buffer (2^40 bytes at most), or wrapping. */
			if (bad == BAD_OVERFLOW)
				cmd->operands[j].offset = ~0ULL - kf_below(r, 64);
			else if (kf_chance(r, 50))
				cmd->operands[j].offset = (1ULL << 41) +
							  kf_below(r, 1ULL << 40);
			else
				cmd->operands[j].length = (1ULL << 41) +
							  kf_below(r, 1ULL << 40);
			break;
		case BAD_RO:
			if (ro < 0) {
				bad = BAD_NONE;
				break;
			}
			memset(cmd, 0, sizeof(*cmd));
			cmd->opcode = ASH_OP_FILL;
			cmd->nr_operands = 1;
			cmd->params_size = 8;
			cmd->operands[0] = (struct ash_operand){
				B[ro].handle, ASH_OPERAND_WRITE, 0, 1 };
			used[nused++] = ro;
			B[ro].refs++;
			break;
		default:
			break;
		}
	}
	/* Outputs are written, or may be: their contents become mixed. */
	for (q = 0; q < nout; q++) {
		B[out[q]].subs++;
		if (garbage_out[q])
			B[out[q]].garbage = true;
		else
			B[out[q]].mixed = true;
	}
	UNLOCK();

	memset(&s, 0, sizeof(s));
	s.flags = kf_chance(r, 20) ? ASH_SUBMIT_CHAIN : 0;
	s.nr_commands = (uint32_t)n;
	s.commands = (uint64_t)(uintptr_t)cmds;
	s.command_size = csize;
	want = bad == BAD_OPFLAGS ? opflags_want : bad_err[bad];
	switch (bad) {
	case BAD_NCMDS:
		s.nr_commands = kf_chance(r, 50) ? 0 :
			ASH_JOB_MAX_COMMANDS + 1 + (uint32_t)kf_below(r, 100);
		break;
	case BAD_CSIZE:
		s.command_size = kf_chance(r, 50) ?
			(uint32_t)kf_below(r, sizeof(struct ash_command)) :
			4096 + 1 + (uint32_t)kf_below(r, 100000);
		break;
	case BAD_CTAIL:
	case BAD_NONE:
		if (bad == BAD_NONE && !kf_chance(r, 15))
			break;
		/* Commands of a newer, larger size. */
		s.command_size = csize + 8 * (1 + (uint32_t)kf_below(r, 30));
		memset(wide, 0, sizeof(wide));
		for (q = 0; q < n; q++)
			memcpy(wide + (size_t)q * s.command_size, &cmds[q], csize);
		if (bad == BAD_CTAIL)
			wide[(size_t)badcmd * s.command_size + csize +
			     kf_below(r, s.command_size - csize)] = 1;
		s.commands = (uint64_t)(uintptr_t)wide;
		break;
	case BAD_CPTR:
		s.commands = kf_chance(r, 50) ? 0 : 0xffff800000000000ULL;
		break;
	default:
		break;
	}

	__atomic_fetch_add(&kf->t[me].inflight, 1, __ATOMIC_SEQ_CST);
	ret = kf_ioctl(fd, KF_SUBMIT, &s, mut, r, "submit");

	LOCK();
	if (!ret) {
		int slot = slot_of(c);

		if (!maybe_bound(c))
			KF_FAIL("tenant %d: submit on an unbound context succeeded", me);
		else
			kf->t[me].submits[slot]++;
		if (s.fence > C[c].last_fence)
			C[c].last_fence = s.fence;
		for (q = 0; q < nout; q++)
			if (s.fence > B[out[q]].wfence)
				B[out[q]].wfence = s.fence;
	}
	__atomic_fetch_sub(&kf->t[me].inflight, 1, __ATOMIC_SEQ_CST);
	if (kf_mut_err(mut)) {
		judge_mut(c, ret, mut, KF_SUBMIT);
	} else if (!ret && (want || !was_bound)) {
		if (want)
			KF_FAIL("tenant %d: submit with defect %d (expected %s) succeeded%s",
				me, bad, vt_errname(want),
				bad == BAD_HANDLE ? ": A JOB ON A HANDLE NOT OURS" : "");
	} else if (ret && !(!C[c].open && ret == -ENOTTY)) {
		bool raced = !C[c].open;

		for (q = 0; q < nused; q++)
			raced |= !B[used[q]].has_handle || B[used[q]].frees > 0;
		/* Unbound: only the submission's own checks come first. */
		if (!was_bound && bad != BAD_NCMDS && bad != BAD_CSIZE &&
		    (ret == -EBADFD || !maybe_bound(c)))
			want = -EBADFD;
		if (want && ret != want && !(raced && ret == -ENOENT) &&
		    ret != -ENOMEM)
			KF_FAIL("tenant %d: submit with defect %d: expected %s, got %s",
				me, bad, vt_errname(want), vt_errname(ret));
		else if (!want && ret != -EAGAIN && ret != -ENOMEM &&
			 !(raced && ret == -ENOENT) &&
			 !(ret == -EBADFD && !was_bound))
			KF_FAIL("tenant %d: valid submit of %d command(s): %s",
				me, n, vt_errname(ret));
	}
	for (q = 0; q < nout; q++)
		B[out[q]].subs--;
	for (q = 0; q < nused; q++)
		B[used[q]].refs--;
	C[c].refs--;
	UNLOCK();
}

static void op_wait(struct kf_rng *r)
{
	enum kf_mut mut = kf_pick_mut(r);
	struct ash_wait w;
	uint64_t last;
	bool bound;
	long ret, want = 0;
	int c, fd;

	LOCK();
	c = take_ctx(r, kf_chance(r, 95) ? 1 : -1);
	if (c < 0) {
		UNLOCK();
		return;
	}
	fd = C[c].fd;
	last = C[c].last_fence;
	bound = C[c].bound;
	UNLOCK();

	memset(&w, 0, sizeof(w));
	switch (kf_below(r, 8)) {
	case 0:
		w.fence = 0;
		want = -EINVAL;
		break;
	case 1:
		w.fence = last + 100000 + kf_below(r, 1ULL << 40);
		want = -EINVAL;
		break;
	case 2:
		w.fence = last ? 1 + kf_below(r, last) : 0;
		want = last ? 0 : -EINVAL;
		break;
	default:
		w.fence = last;
		want = last ? 0 : -EINVAL;
	}
	w.timeout_ns = kf_chance(r, 50) ? 0 : (int64_t)kf_below(r, 20000000);
	ret = kf_ioctl(fd, KF_WAIT, &w, mut, r, "wait");

	LOCK();
	if (kf_mut_err(mut)) {
		judge_mut(c, ret, mut, KF_WAIT);
	} else if (!C[c].open && ret == -ENOTTY) {
		/* closed */
	} else if (!bound && ret == -EBADFD) {
		/* not bound (yet) */
	} else if (!bound && !maybe_bound(c)) {
		KF_FAIL("tenant %d: wait on an unbound context: expected -EBADFD, got %s",
			me, vt_errname(ret));
	} else if (want == -EINVAL) {
		if (ret != -EINVAL && !(w.fence && w.fence <= C[c].last_fence))
			KF_FAIL("tenant %d: wait for fence %llu (last %llu): expected -EINVAL, got %s",
				me, (unsigned long long)w.fence,
				(unsigned long long)last, vt_errname(ret));
	} else if (ret && ret != -ETIMEDOUT && ret != -EINTR) {
		KF_FAIL("tenant %d: wait for fence %llu: %s", me,
			(unsigned long long)w.fence, vt_errname(ret));
	}
	if (!ret && !kf_mut_err(mut)) {
		if (w.status > 0 || w.status < -4095)
			KF_FAIL("tenant %d: fence %llu status %d", me,
				(unsigned long long)w.fence, w.status);
		if (w.fence > C[c].done)
			C[c].done = w.fence;
	}
	C[c].refs--;
	UNLOCK();
}

static void op_poll(struct kf_rng *r)
{
	struct pollfd pfd;
	uint64_t last;
	int c, ret;

	LOCK();
	c = take_ctx(r, -1);
	if (c < 0) {
		UNLOCK();
		return;
	}
	pfd.fd = C[c].fd;
	last = C[c].last_fence;
	UNLOCK();
	pfd.events = POLLIN;
	pfd.revents = 0;
	ret = poll(&pfd, 1, (int)kf_below(r, 3));
	kf_count(KF_POLL, ret < 0 ? -errno : 0);
	LOCK();
	if (ret < 0)
		KF_FAIL("tenant %d: poll: %s", me, vt_errname(-errno));
	else if (ret == 1 && (pfd.revents & POLLIN) && C[c].open &&
		 last > C[c].done)
		C[c].done = last;	/* everything submitted has completed */
	C[c].refs--;
	UNLOCK();
}

static void op_pinfo(struct kf_rng *r)
{
	enum kf_mut mut = kf_pick_mut(r);
	struct ash_partition_info pi;
	bool bound;
	int c, fd, slot;
	long ret;

	LOCK();
	c = take_ctx(r, -1);
	if (c < 0) {
		UNLOCK();
		return;
	}
	fd = C[c].fd;
	bound = C[c].bound;
	slot = C[c].slot;
	UNLOCK();
	memset(&pi, 0, sizeof(pi));
	if (kf_chance(r, 10))
		pi.id = (uint32_t)kf_rand(r);	/* input ignored */
	ret = kf_ioctl(fd, KF_PINFO, &pi, mut, r, "tenant partition info");
	LOCK();
	if (kf_mut_err(mut)) {
		judge_mut(c, ret, mut, KF_PINFO);
	} else if (!C[c].open && ret == -ENOTTY) {
		/* closed */
	} else if (bound) {
		if (ret)
			KF_FAIL("tenant %d: partition info of a bound context: %s",
				me, vt_errname(ret));
		else if (strcmp(pi.name, kf_part_names[slot]) || pi.nr_uids ||
			 pi.nr_gids || pi.uids[0] || pi.gids[0])
			KF_FAIL("tenant %d: partition info: name %.32s (bound to %s), %u uids, %u gids",
				me, pi.name, kf_part_names[slot], pi.nr_uids,
				pi.nr_gids);
	} else if (ret != -EBADFD && !(ret == 0 && maybe_bound(c))) {
		KF_FAIL("tenant %d: partition info of an unbound context: %s",
			me, vt_errname(ret));
	}
	C[c].refs--;
	UNLOCK();
}

/* Unknown ioctl numbers and control-node ioctls on a context; the
 * control node itself. */
static void op_bad(struct kf_rng *r)
{
	static const unsigned long ctl[] = {
		ASH_CTL_DEVICE_INFO, ASH_CTL_PART_CREATE, ASH_CTL_PART_DELETE,
		ASH_CTL_ENGINE_ATTACH, ASH_CTL_ENGINE_FETCH,
	};
	uint64_t arg[64] = { 0 };
	unsigned long cmd;
	int c, fd;
	long ret;

	if (kf_chance(r, 3)) {
		fd = open(VT_CTL_DEV, O_RDWR | O_CLOEXEC);
		ret = fd < 0 ? -errno : 0;
		kf_count(KF_OPEN, ret);
		if (fd >= 0)
			close(fd);
		if (ret != -EACCES && ret != -EPERM)
			KF_FAIL("tenant %d: open %s as uid %d: expected -EACCES or -EPERM, got %s",
				me, VT_CTL_DEV, (int)getuid(), vt_errname(ret));
		return;
	}
	switch (kf_below(r, 3)) {
	case 0:
		cmd = _IOC(_IOC_READ | _IOC_WRITE, ASH_IOC_MAGIC,
			   0x08 + kf_below(r, 0x38), 8 * kf_below(r, 64));
		break;
	case 1:
		cmd = ctl[kf_below(r, 5)];
		break;
	default:
		cmd = _IOWR('x', kf_below(r, 256), struct ash_bind);
	}
	LOCK();
	c = take_ctx(r, -1);
	fd = c >= 0 ? C[c].fd : -1;
	UNLOCK();
	if (c < 0)
		return;
	ret = ioctl(fd, cmd, arg) < 0 ? -errno : 0;
	kf_count(KF_BADIOCTL, ret);
	if (ret != -ENOTTY)
		KF_FAIL("tenant %d: ioctl %#lx on a context: expected -ENOTTY, got %s",
			me, cmd, vt_errname(ret));
	LOCK();
	C[c].refs--;
	UNLOCK();
}

/* --- rounds ------------------------------------------------------------- */

struct worker {
	pthread_t tid;
	int idx;
};

static void *worker_main(void *arg)
{
	struct worker *wk = arg;
	struct kf_rng r;
	unsigned int pick;

	kf_tenant_side = true;
	kf_rng_seed(&r, kf->seed, 1 + (uint64_t)me * 64 + (uint64_t)wk->idx,
		    (uint64_t)kf->t[me].gen, (uint64_t)cur_round);
	while (running()) {
		pick = (unsigned int)kf_below(&r, 100);
		if (pick < 5)
			op_open(&r);
		else if (pick < 8)
			op_bind(&r);
		else if (pick < 10)
			op_close(&r);
		else if (pick < 26)
			op_alloc(&r);
		else if (pick < 36)
			op_free_info(&r, false);
		else if (pick < 40)
			op_free_info(&r, true);
		else if (pick < 51)
			op_mmap(&r);
		else if (pick < 57)
			op_munmap(&r);
		else if (pick < 67)
			op_touch(&r);
		else if (pick < 82)
			op_submit(&r);
		else if (pick < 90)
			op_wait(&r);
		else if (pick < 93)
			op_poll(&r);
		else if (pick < 98)
			op_pinfo(&r);
		else
			op_bad(&r);
		if (kf_chance(&r, 10))
			sched_yield();
	}
	return NULL;
}

/* Wait for every job of the open contexts: the engine is attached. */
static void drain(void)
{
	struct ash_wait w;
	int c;
	long ret;

	for (c = 0; c < MAXC; c++) {
		if (!C[c].used || !C[c].open || !C[c].bound ||
		    C[c].last_fence <= C[c].done)
			continue;
		memset(&w, 0, sizeof(w));
		w.fence = C[c].last_fence;
		w.timeout_ns = 60LL * 1000000000LL;
		ret = vt_ioctl(C[c].fd, ASH_IOC_WAIT, &w);
		kf_count(KF_WAIT, ret);
		if (ret)
			KF_FAIL("tenant %d: round %d: waiting for fence %llu with an engine attached: %s",
				me, cur_round, (unsigned long long)w.fence,
				vt_errname(ret));
		else
			C[c].done = w.fence;
	}
}

/* Forget what the kernel no longer holds; close the /dev/null fds. */
static void collect(void)
{
	int b, c;

	for (b = 0; b < MAXB; b++)
		if (B[b].used && !charged(b) && !B[b].has_handle)
			B[b].used = false;
	for (c = 0; c < MAXC; c++) {
		if (!C[c].used || alive(c))
			continue;
		for (b = 0; b < MAXB; b++)
			if (B[b].used && B[b].ctx == c)
				B[b].used = false;
		C[c].used = false;
	}
	while (ndead)
		close(dead[--ndead]);
}

static void publish(void)
{
	struct kf_tenant *t = &kf->t[me];
	int b, c, s;

	for (s = 0; s < KF_PARTS; s++) {
		t->mem[s] = 0;
		t->nbufs[s] = 0;
		t->nctx[s] = 0;
	}
	for (b = 0; b < MAXB; b++) {
		if (!B[b].used || !charged(b))
			continue;
		s = C[B[b].ctx].slot;
		t->mem[s] += B[b].charge;
		t->nbufs[s]++;
	}
	for (c = 0; c < MAXC; c++)
		if (C[c].used && C[c].bound && alive(c))
			t->nctx[C[c].slot]++;
}

int kf_tenant_main(void *arg)
{
	struct worker wk[KF_THREADS];
	int i, round;

	me = (int)(intptr_t)arg;
	owner = 1 + (uint32_t)((me + KF_TENANTS * kf->t[me].gen) % 255);
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0) {
		KF_FAIL("tenant %d: open /dev/null: %s", me, vt_errname(-errno));
		return 1;
	}
	for (;;) {
		while ((round = __atomic_load_n(&kf->round, __ATOMIC_ACQUIRE)) ==
		       cur_round ||
		       __atomic_load_n(&kf->phase, __ATOMIC_ACQUIRE) == KF_QUIESCE) {
			if (__atomic_load_n(&kf->phase, __ATOMIC_ACQUIRE) == KF_STOP)
				return 0;
			usleep(2000);
		}
		if (__atomic_load_n(&kf->phase, __ATOMIC_ACQUIRE) == KF_STOP)
			return 0;
		cur_round = round;
		for (i = 0; i < KF_THREADS; i++) {
			wk[i].idx = i;
			if (pthread_create(&wk[i].tid, NULL, worker_main, &wk[i])) {
				KF_FAIL("tenant %d: pthread_create", me);
				return 1;
			}
		}
		for (i = 0; i < KF_THREADS; i++)
			pthread_join(wk[i].tid, NULL);
		while (__atomic_load_n(&kf->phase, __ATOMIC_ACQUIRE) == KF_RUN)
			usleep(1000);
		if (__atomic_load_n(&kf->phase, __ATOMIC_ACQUIRE) == KF_STOP)
			return 0;
		drain();
		collect();
		publish();
		__atomic_store_n(&kf->t[me].ack, round, __ATOMIC_RELEASE);
	}
}
