// SPDX-License-Identifier: MIT
/*
 * kfuzz - the PRNG, the mutating ioctl wrapper, the errno allow-lists and
 * the coverage counters shared by the checker and the tenants.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "kfuzz.h"

struct kf_shm *kf;

const char *const kf_part_names[KF_PARTS] = { "kfz0", "kfz1", "kfz2", "kfz3" };

uint64_t kf_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* --- PRNG ------------------------------------------------------------------ */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void kf_rng_seed(struct kf_rng *r, uint64_t seed, uint64_t a, uint64_t b,
		 uint64_t c)
{
	uint64_t x = seed ^ (a * 0x100000001b3ULL) ^ (b << 20) ^ (c << 40);
	int i;

	for (i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t kf_rand(struct kf_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

uint64_t kf_below(struct kf_rng *r, uint64_t n)
{
	return kf_rand(r) % n;
}

bool kf_chance(struct kf_rng *r, unsigned int pct)
{
	return kf_below(r, 100) < pct;
}

/* --- ioctl descriptions -------------------------------------------------- */

#define R8(type, i)	VT_RESERVED(type, i)
#define F(type, m)	VT_FIELD(type, m)
#define IOC(o, c, type, fl, ok, n, ...) \
	[o] = { o, c, sizeof(type), offsetof(type, fl), ok, n, { __VA_ARGS__ } }

const struct kf_ioc kf_iocs[] = {
	IOC(KF_BIND, ASH_IOC_BIND, struct ash_bind, flags, 0, 3,
	    F(struct ash_bind, pad), R8(struct ash_bind, 0),
	    R8(struct ash_bind, 1)),
	IOC(KF_PINFO, ASH_IOC_PARTITION_INFO, struct ash_partition_info, flags,
	    0, 2, R8(struct ash_partition_info, 0),
	    R8(struct ash_partition_info, 1)),
	IOC(KF_ALLOC, ASH_IOC_BUF_ALLOC, struct ash_buf_alloc, flags,
	    ASH_BUF_READONLY | ASH_BUF_STAGING, 2, R8(struct ash_buf_alloc, 0),
	    R8(struct ash_buf_alloc, 1)),
	IOC(KF_FREE, ASH_IOC_BUF_FREE, struct ash_buf_free, flags, 0, 1,
	    F(struct ash_buf_free, reserved)),
	IOC(KF_BINFO, ASH_IOC_BUF_INFO, struct ash_buf_info, flags, 0, 2,
	    R8(struct ash_buf_info, 0), R8(struct ash_buf_info, 1)),
	IOC(KF_SUBMIT, ASH_IOC_SUBMIT, struct ash_submit, flags,
	    ASH_SUBMIT_CHAIN, 3, F(struct ash_submit, pad),
	    R8(struct ash_submit, 0), R8(struct ash_submit, 1)),
	IOC(KF_WAIT, ASH_IOC_WAIT, struct ash_wait, flags, 0, 2,
	    R8(struct ash_wait, 0), R8(struct ash_wait, 1)),
	[KF_C_DEVINFO] = {
		KF_C_DEVINFO, ASH_CTL_DEVICE_INFO, sizeof(struct ash_device_info),
		offsetof(struct ash_device_info, flags), ASH_DEVICE_INFO_BY_NAME,
		3, { R8(struct ash_device_info, 0),
		     { offsetof(struct ash_device_info, reserved2), 8,
		       "reserved2[0]" },
		     { offsetof(struct ash_device_info, reserved2) + 16, 8,
		       "reserved2[2]" } },
		ASH_DEVICE_INFO_SIZE_V1,
	},
	IOC(KF_C_PCREATE, ASH_CTL_PART_CREATE, struct ash_partition_params,
	    flags, 0, 4, R8(struct ash_partition_params, 0),
	    R8(struct ash_partition_params, 1),
	    R8(struct ash_partition_params, 2),
	    { offsetof(struct ash_partition_params, reclaim_deadline_ms), 8,
	      "reclaim_deadline_ms, reclaim_action" }),
	/* The reclaim fields are input with ASH_PART_SET_MEM_MAX. */
	IOC(KF_C_PSET, ASH_CTL_PART_SET, struct ash_partition_params, flags,
	    ASH_PART_SET_ALL, 3, R8(struct ash_partition_params, 0),
	    R8(struct ash_partition_params, 1),
	    R8(struct ash_partition_params, 2)),
	IOC(KF_C_PDELETE, ASH_CTL_PART_DELETE, struct ash_partition_delete,
	    flags, 0, 3, F(struct ash_partition_delete, pad),
	    R8(struct ash_partition_delete, 0),
	    R8(struct ash_partition_delete, 1)),
	IOC(KF_C_PINFO, ASH_CTL_PART_INFO, struct ash_partition_info, flags,
	    ASH_PART_INFO_BY_NAME, 2, R8(struct ash_partition_info, 0),
	    R8(struct ash_partition_info, 1)),
	IOC(KF_C_CTXINFO, ASH_CTL_CTX_INFO, struct ash_context_info, flags, 0,
	    1, F(struct ash_context_info, pad)),
	IOC(KF_C_EATTACH, ASH_CTL_ENGINE_ATTACH, struct ash_engine_attach,
	    flags, 0, 1, R8(struct ash_engine_attach, 0)),
	IOC(KF_C_EFETCH, ASH_CTL_ENGINE_FETCH, struct ash_engine_fetch, flags,
	    ASH_FETCH_NONBLOCK, 1, R8(struct ash_engine_fetch, 0)),
	IOC(KF_C_ECOMPLETE, ASH_CTL_ENGINE_COMPLETE,
	    struct ash_engine_complete, flags, 0, 2,
	    R8(struct ash_engine_complete, 0),
	    R8(struct ash_engine_complete, 1)),
	IOC(KF_C_DEVSET, ASH_CTL_DEVICE_SET, struct ash_device_set, flags,
	    ASH_DEVICE_SET_SLICE, 3, F(struct ash_device_set, job_timeout_ms),
	    R8(struct ash_device_set, 0), R8(struct ash_device_set, 1)),
};

static const char *const kf_names[KF_NOPS] = {
	[KF_BIND] = "ASH_IOC_BIND",
	[KF_PINFO] = "ASH_IOC_PARTITION_INFO",
	[KF_ALLOC] = "ASH_IOC_BUF_ALLOC",
	[KF_FREE] = "ASH_IOC_BUF_FREE",
	[KF_BINFO] = "ASH_IOC_BUF_INFO",
	[KF_SUBMIT] = "ASH_IOC_SUBMIT",
	[KF_WAIT] = "ASH_IOC_WAIT",
	[KF_C_DEVINFO] = "ASH_CTL_DEVICE_INFO",
	[KF_C_PCREATE] = "ASH_CTL_PART_CREATE",
	[KF_C_PSET] = "ASH_CTL_PART_SET",
	[KF_C_PDELETE] = "ASH_CTL_PART_DELETE",
	[KF_C_PINFO] = "ASH_CTL_PART_INFO",
	[KF_C_CTXINFO] = "ASH_CTL_CTX_INFO",
	[KF_C_EATTACH] = "ASH_CTL_ENGINE_ATTACH",
	[KF_C_EFETCH] = "ASH_CTL_ENGINE_FETCH",
	[KF_C_ECOMPLETE] = "ASH_CTL_ENGINE_COMPLETE",
	[KF_C_DEVSET] = "ASH_CTL_DEVICE_SET",
	[KF_BADIOCTL] = "unknown/foreign ioctl",
	[KF_MMAP] = "mmap (tenant)",
	[KF_MUNMAP] = "munmap (tenant)",
	[KF_MADVISE] = "madvise DONTNEED+touch",
	[KF_POLL] = "poll (tenant)",
	[KF_OPEN] = "open",
	[KF_E_MMAP] = "mmap (engine space)",
};

const char *kf_opname(enum kf_op op)
{
	return kf_names[op];
}

/*
 * Documented errors per call (docs/uapi.md), besides ENOMEM.  The
 * malformed-struct errors (EINVAL, E2BIG, EFAULT) are on every ioctl.
 */
static const int kf_errs[KF_NOPS][10] = {
	[KF_BIND] = { ENOENT, EACCES, EBUSY, EUSERS },
	[KF_PINFO] = { EBADFD },
	[KF_ALLOC] = { EBADFD, EDQUOT, ENOSPC, EMFILE },
	[KF_FREE] = { ENOENT },
	[KF_BINFO] = { ENOENT },
	[KF_SUBMIT] = { EBADFD, ENOENT, ERANGE, EACCES, EAGAIN },
	[KF_WAIT] = { EBADFD, ETIMEDOUT, EINTR },
	[KF_C_DEVINFO] = { ENODEV },
	[KF_C_PCREATE] = { ENODEV, EEXIST, ENOSPC },
	[KF_C_PSET] = { ENODEV, ENOSPC, ENOENT },
	[KF_C_PDELETE] = { ENOENT, EBUSY },
	[KF_C_PINFO] = { ENOENT },
	[KF_C_CTXINFO] = { ENOENT },
	[KF_C_EATTACH] = { ENODEV, EALREADY, EBUSY },
	[KF_C_EFETCH] = { EBADFD, EBUSY, EAGAIN, EINTR },
	[KF_C_ECOMPLETE] = { EBADFD, ENOENT },
	[KF_C_DEVSET] = { ENODEV },
	[KF_BADIOCTL] = { ENOTTY },
	[KF_MMAP] = { EINVAL },
	[KF_MUNMAP] = { 0 },
	[KF_MADVISE] = { 0 },
	[KF_POLL] = { 0 },
	[KF_OPEN] = { EPERM },
	[KF_E_MMAP] = { EINVAL, EBADFD },
};

bool kf_allowed(enum kf_op op, long ret, long extra, const char *what)
{
	int e = (int)-ret, i;

	if (!ret || e == ENOMEM || e == -extra)
		return true;
	if (op <= KF_C_DEVSET && (e == EINVAL || e == E2BIG || e == EFAULT))
		return true;
	for (i = 0; i < 10 && kf_errs[op][i]; i++)
		if (kf_errs[op][i] == e)
			return true;
	KF_FAIL("%s: %s returned %s, which is not documented for it",
		what, kf_names[op], vt_errname(ret));
	return false;
}

void kf_count(enum kf_op op, long ret)
{
	struct kf_cov *c = &kf->cov[op];
	long e = -ret;

	__atomic_fetch_add(&c->calls, 1, __ATOMIC_RELAXED);
	if (e < 0 || e >= KF_NERR)
		e = KF_NERR;
	__atomic_fetch_add(&c->err[e], 1, __ATOMIC_RELAXED);
}

enum kf_mut kf_pick_mut(struct kf_rng *r)
{
	if (!kf_chance(r, 18))
		return KF_M_NONE;
	return (enum kf_mut)(1 + kf_below(r, KF_M_COUNT - 1));
}

_Thread_local bool kf_tenant_side;

long kf_mut_err(enum kf_mut mut)
{
	switch (mut) {
	case KF_M_FLAGS:
	case KF_M_ZERO:
	case KF_M_SMALL:
		return -EINVAL;
	case KF_M_TAIL:
		return -E2BIG;
	case KF_M_NULL:
		return -EFAULT;
	case KF_M_DIR:
		return -ENOTTY;
	default:
		return 0;
	}
}

static const char *const kf_mut_names[KF_M_COUNT] = {
	"as built", "larger, zero tail", "undefined flag", "pad/reserved set",
	"larger, non-zero tail", "smaller", "NULL", "wrong direction",
};

long kf_ioctl(int fd, enum kf_op op, void *arg, enum kf_mut mut,
	      struct kf_rng *r, const char *what)
{
	const struct kf_ioc *d = &kf_iocs[op];
	/* Room for a struct as large as the size field can say. */
	static _Thread_local uint64_t raw[16384 / 8];
	unsigned char *p = (unsigned char *)raw;
	size_t size = d->size;
	unsigned long cmd = d->cmd;
	const struct vt_field *z;
	uint32_t bit, flags;
	void *uarg = p;
	long ret, want;

	memcpy(p, arg, d->size);
	switch (mut) {
	case KF_M_BIGGER:
	case KF_M_TAIL:
		size += kf_chance(r, 20) ? 4096 + 8 * kf_below(r, 1000) :
					   8 * (1 + kf_below(r, 16));
		memset(p + d->size, 0, size - d->size);
		if (mut == KF_M_TAIL)
			p[d->size + kf_below(r, size - d->size)] =
				(unsigned char)(1 + kf_below(r, 255));
		break;
	case KF_M_FLAGS:
		do {
			bit = 1U << kf_below(r, 32);
		} while (bit & d->flags_ok);
		memcpy(&flags, p + d->flags_off, 4);
		flags |= bit;
		memcpy(p + d->flags_off, &flags, 4);
		break;
	case KF_M_ZERO:
		z = &d->zero[kf_below(r, (uint64_t)d->nzero)];
		p[z->off + kf_below(r, z->len)] |=
			(unsigned char)(1U << kf_below(r, 8));
		break;
	case KF_M_SMALL:
		/* smaller, but not a size an earlier version had */
		do {
			size = 8 * kf_below(r, d->size / 8);
		} while (d->old_size && size == d->old_size);
		break;
	case KF_M_NULL:
		uarg = NULL;
		break;
	case KF_M_DIR:
		cmd = (cmd & ~(_IOC_DIRMASK << _IOC_DIRSHIFT)) |
		      ((unsigned long)(_IOC_DIR(cmd) == (_IOC_READ | _IOC_WRITE) ?
				       _IOC_WRITE : _IOC_READ | _IOC_WRITE)
		       << _IOC_DIRSHIFT);
		break;
	default:
		break;
	}
	ret = ioctl(fd, vt_cmd_sized(cmd, size), uarg) < 0 ? -errno : 0;
	if (mut == KF_M_NONE || mut == KF_M_BIGGER)
		memcpy(arg, p, d->size);
	kf_count(mut == KF_M_DIR ? KF_BADIOCTL : op, ret);

	want = kf_mut_err(mut);
	/*
	 * A tenant's closed context is /dev/null (see fuzz_tenant.c): ENOTTY
	 * there is for the tenant to judge.
	 */
	if (want && ret != want && !(kf_tenant_side && ret == -ENOTTY))
		KF_FAIL("%s: %s %s: expected %s, got %s", what,
			kf_names[op], kf_mut_names[mut], vt_errname(want),
			vt_errname(ret));
	return ret;
}
