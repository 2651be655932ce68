/* SPDX-License-Identifier: MIT */
/*
 * kfuzz - the kernel ioctl fuzzer (VM case fuzz_ioctl), shared parts.
 *
 * The fuzzer is one VM case made of three files:
 *   ioctl_fuzz.c   the checker: partitions, rounds, admin ops, the engine,
 *                  the invariant checks and the coverage table;
 *   fuzz_tenant.c  the tenant processes: threads issuing random,
 *                  structure-aware tenant ioctls, mmap and jobs, with their
 *                  own bookkeeping of what the kernel must be holding;
 *   fuzz_ioctl.c   what both use: the PRNG, the mutating ioctl wrapper, the
 *                  per-ioctl errno allow-lists and the coverage counters.
 * Everything the processes share lives in one MAP_SHARED region (struct
 * kf_shm) created before the first fork.
 */
#ifndef KFUZZ_H
#define KFUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmtest.h"

#define KF_TENANTS	4	/* tenant processes */
#define KF_THREADS	3	/* worker threads per tenant */
#define KF_PARTS	4	/* partition slots, named kfz0..kfz3 */
#define KF_NERR		134	/* errno values counted one by one */

/* What the coverage table counts: ioctls, then the other entry points. */
enum kf_op {
	KF_BIND, KF_PINFO, KF_ALLOC, KF_FREE, KF_BINFO, KF_SUBMIT, KF_WAIT,
	KF_C_DEVINFO, KF_C_PCREATE, KF_C_PSET, KF_C_PDELETE, KF_C_PINFO,
	KF_C_CTXINFO, KF_C_EATTACH, KF_C_EFETCH, KF_C_ECOMPLETE, KF_C_DEVSET,
	KF_BADIOCTL,	/* unknown numbers, the other node's ioctls */
	KF_MMAP, KF_MUNMAP, KF_MADVISE, KF_POLL, KF_OPEN, KF_E_MMAP,
	KF_NOPS,
};

/* Ways a call is malformed on purpose (kf_ioctl). */
enum kf_mut {
	KF_M_NONE,	/* as built */
	KF_M_BIGGER,	/* a larger struct with a zero tail: same result */
	KF_M_FLAGS,	/* an undefined flag bit: EINVAL */
	KF_M_ZERO,	/* a pad or reserved field non-zero: EINVAL */
	KF_M_TAIL,	/* a larger struct with a non-zero tail: E2BIG */
	KF_M_SMALL,	/* a smaller struct: EINVAL */
	KF_M_NULL,	/* a NULL argument: EFAULT */
	KF_M_DIR,	/* the wrong direction bits: ENOTTY */
	KF_M_COUNT,
};

/* One tenant process as the checker sees it, written by the tenant. */
struct kf_tenant {
	int pid;		/* 0 while not running */
	int gen;		/* incarnation, for its PRNG and its tag byte */
	int ack;		/* last round it has published */
	int inflight;		/* submits in flight (a kill makes them unsure) */
	uint64_t mem[KF_PARTS];		/* bytes charged, by partition slot */
	uint32_t nbufs[KF_PARTS];	/* buffers alive */
	uint32_t nctx[KF_PARTS];	/* contexts bound */
	uint64_t submits[KF_PARTS];	/* jobs queued, cumulative */
};

struct kf_cov {
	uint64_t calls;
	uint64_t err[KF_NERR + 1];	/* [0] successes, [KF_NERR] others */
};

struct kf_shm {
	uint64_t seed;
	int round;		/* current round, from 1 */
	int phase;		/* KF_RUN, KF_QUIESCE, KF_STOP */
	int failures;		/* checks failed in any process */
	struct kf_tenant t[KF_TENANTS];
	struct kf_cov cov[KF_NOPS];
};

#define KF_RUN		1
#define KF_QUIESCE	2
#define KF_STOP		3

extern struct kf_shm *kf;

/* xoshiro256** seeded through splitmix64. */
struct kf_rng {
	uint64_t s[4];
};

void kf_rng_seed(struct kf_rng *r, uint64_t seed, uint64_t a, uint64_t b,
		 uint64_t c);
uint64_t kf_rand(struct kf_rng *r);
/* Uniform in [0, n); n > 0. */
uint64_t kf_below(struct kf_rng *r, uint64_t n);
/* True with probability @pct percent. */
bool kf_chance(struct kf_rng *r, unsigned int pct);

/*
 * A description of an ioctl for kf_ioctl: its number (with the size of
 * the struct), where its flags are and which bits are defined, and its
 * must-be-zero fields (pad, reserved).
 */
struct kf_ioc {
	enum kf_op op;
	unsigned long cmd;
	size_t size;
	size_t flags_off;
	uint32_t flags_ok;
	int nzero;
	struct vt_field zero[6];
	size_t old_size;	/* an earlier version's size, served too; 0 */
};

extern const struct kf_ioc kf_iocs[];	/* indexed by enum kf_op */

/* A mutation for a call: KF_M_NONE most of the time. */
enum kf_mut kf_pick_mut(struct kf_rng *r);

/*
 * Issue ioctl @op on @fd with @arg (a struct of kf_iocs[op].size bytes,
 * updated from the kernel's output), malformed as @mut says.  Counts the
 * call in the coverage table.  Returns 0 or -errno.  For a mutation that
 * must fail, a result other than its errno is a failed check (@what
 * names the call).
 */
long kf_ioctl(int fd, enum kf_op op, void *arg, enum kf_mut mut,
	      struct kf_rng *r, const char *what);

/* The errno mutation @mut must produce, 0 if the call stays as good. */
long kf_mut_err(enum kf_mut mut);
/* Set in tenant threads: kf_ioctl leaves ENOTTY to the caller. */
extern _Thread_local bool kf_tenant_side;

/* Count a non-ioctl call (mmap, poll, ...) in the coverage table. */
void kf_count(enum kf_op op, long ret);

/*
 * Is -@err documented for @op?  Fails the check (printing @what) if not;
 * ENOMEM is always accepted.  @extra is a further errno the caller knows
 * to be possible here (0 for none).
 */
bool kf_allowed(enum kf_op op, long ret, long extra, const char *what);

const char *kf_opname(enum kf_op op);

/* A failed check in any process: counted in kf->failures, printed. */
#define KF_FAIL(...) do {						\
	__atomic_fetch_add(&kf->failures, 1, __ATOMIC_RELAXED);	\
	FAIL(__VA_ARGS__);						\
} while (0)

/* The tenant processes (fuzz_tenant.c). */
int kf_tenant_main(void *arg);
extern const char *const kf_part_names[KF_PARTS];

uint64_t kf_now_ms(void);

#endif /* KFUZZ_H */
