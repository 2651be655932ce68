/* SPDX-License-Identifier: MIT */
/*
 * ash-demo-tenant - a small tenant for demos and tests: holds device memory
 * in a partition for a while, through the public libaccelshare API only.
 *
 *   ash-demo-tenant --partition NAME --alloc SIZE [--count N]
 *                   [--hold SECONDS|forever] [--work]
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <accelshare.h>

#include "../common/parse.h"

#define PROG "ash-demo-tenant"
#define COUNT_MAX 65536

static const char usage[] =
"Usage: " PROG " --partition NAME --alloc SIZE [--count N]\n"
"                       [--hold SECONDS|forever] [--work]\n"
"       " PROG " --help | --version\n"
"\n"
"Opens partition NAME, allocates N (default 1) buffers of SIZE bytes (K, M,\n"
"G, T suffixes: powers of 1024), maps each, checks it reads as zero, writes a\n"
"pattern and reads it back, prints one line of what it holds, then holds the\n"
"memory for SECONDS (default 0; \"forever\" until SIGTERM or SIGINT), frees\n"
"it and exits 0.  With --work it keeps the engine busy meanwhile instead:\n"
"fills of the first buffer (up to 4 MiB each), 8 queued at all times, until\n"
"SIGTERM or SIGINT.  Exits 1 if the partition cannot be opened, an\n"
"allocation or a job fails or the memory is wrong; 2 on a bad command line.\n"
"The device node is $ACCELSHARE_DEVICE or /dev/accelshare.\n";

/* Fills --work keeps queued, and the most one writes. */
#define WORK_DEPTH	8
#define WORK_LEN_MAX	(4ULL << 20)

/* Why a tenant call failed, as a sentence fragment naming the errno. */
static const char *why(int err)
{
	static char buf[128];
	const char *name = strerrorname_np(-err);
	const char *what;

	switch (-err) {
	case EDQUOT: what = "over the partition's cap"; break;
	case ENOSPC: what = "device memory exhausted"; break;
	case EACCES: what = "not on the partition's access list"; break;
	case ENOENT: what = "no such partition"; break;
	case ENODEV: what = "no accelshare device (is the module loaded? modprobe accelshare)"; break;
	case EUSERS: what = "the partition has its maximum of contexts"; break;
	case EMFILE: what = "the context has its maximum of buffers"; break;
	case EOPNOTSUPP: what = "the device has no host mapping"; break;
	default: what = strerror(-err); break;
	}
	snprintf(buf, sizeof(buf), "%s (%s)", what, name ? name : "?");
	return buf;
}

/* The word written at byte @off of buffer @i: differs per buffer and per
 * position, so a mapping aliasing another buffer or offset is caught. */
static uint64_t pattern(size_t i, uint64_t off)
{
	return (off * 0x9E3779B97F4A7C15ULL) ^ ((uint64_t)i << 56) ^ 0xA5;
}

/* Zero when first seen (the driver promises it), then holds the pattern. */
static int check_memory(size_t i, unsigned char *p, uint64_t size)
{
	uint64_t off, v;

	for (off = 0; off < size; off++)
		if (p[off]) {
			fprintf(stderr,
				PROG ": buffer %zu is not zero at byte %llu.\n",
				i, (unsigned long long)off);
			return -1;
		}
	for (off = 0; off + 8 <= size; off += 8) {
		v = pattern(i, off);
		memcpy(p + off, &v, 8);
	}
	for (off = 0; off + 8 <= size; off += 8) {
		memcpy(&v, p + off, 8);
		if (v != pattern(i, off)) {
			fprintf(stderr,
				PROG ": buffer %zu lost what was written at byte %llu.\n",
				i, (unsigned long long)off);
			return -1;
		}
	}
	return 0;
}

/* Waits @secs seconds (negative: forever) or until SIGTERM/SIGINT, which
 * main() blocked so that they end the wait instead of the process. */
static void hold(long secs)
{
	struct timespec ts = { .tv_sec = secs };
	sigset_t set;

	if (secs == 0)
		return;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	while (sigtimedwait(&set, NULL, secs < 0 ? NULL : &ts) < 0 &&
	       errno == EINTR)
		;
}

/*
 * Keeps WORK_DEPTH fills of @buf queued until SIGTERM or SIGINT (blocked by
 * main(), polled here): a tenant that always has work, for showing how the
 * engine's time is shared.  Waits for what it queued before returning.
 */
static int work(struct ash_ctx *ctx, struct ash_buf *buf, uint64_t size)
{
	uint64_t fences[WORK_DEPTH] = { 0 };
	uint64_t len = (size < WORK_LEN_MAX ? size : WORK_LEN_MAX) & ~3ULL;
	struct timespec zero = { 0 };
	int ret = 0, err;
	uint32_t n = 0;
	sigset_t set;
	size_t slot;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	while (sigtimedwait(&set, NULL, &zero) < 0) {
		slot = n % WORK_DEPTH;
		if (fences[slot]) {
			ret = ash_wait(ctx, fences[slot], -1);
			fences[slot] = 0;
			if (ret)
				break;
		}
		ret = ash_fill(ctx, buf, 0, len, n++, &fences[slot]);
		if (ret)
			break;
	}
	for (slot = 0; slot < WORK_DEPTH; slot++)
		if (fences[slot] && (err = ash_wait(ctx, fences[slot], -1)) &&
		    !ret)
			ret = err;
	if (ret)
		fprintf(stderr, PROG ": a job failed: %s.\n", why(ret));
	return ret;
}

static int usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, PROG ": %s \"%s\"; see " PROG " --help.\n", msg, arg);
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "partition", required_argument, NULL, 'p' },
		{ "alloc", required_argument, NULL, 'a' },
		{ "count", required_argument, NULL, 'n' },
		{ "hold", required_argument, NULL, 't' },
		{ "work", no_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *partition = NULL;
	uint64_t size = 0, count = 1, secs = 0;
	struct ash_partition_stat st;
	char s1[ASH_SIZE_STR_MAX], s2[ASH_SIZE_STR_MAX];
	char s3[ASH_SIZE_STR_MAX], s4[ASH_SIZE_STR_MAX];
	struct ash_buf **bufs;
	struct ash_ctx *ctx;
	int c, ret, status = 1, forever = 0, busy = 0;
	size_t i, held = 0;
	sigset_t set;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			partition = optarg;
			break;
		case 'a':
			if (ash_size_parse(optarg, &size) || !size)
				return usage_error("invalid --alloc size",
						   optarg);
			break;
		case 'n':
			if (ash_num_parse(optarg, COUNT_MAX, &count) || !count)
				return usage_error("--count must be 1..65536, not",
						   optarg);
			break;
		case 't':
			if (!strcmp(optarg, "forever"))
				forever = 1;
			else if (ash_num_parse(optarg, 1L << 30, &secs))
				return usage_error("invalid --hold seconds",
						   optarg);
			break;
		case 'w':
			busy = 1;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		case 'V':
			printf("ash-demo-tenant " ACCELSHARE_VERSION_STRING
			       " (libaccelshare %s)\n", ash_version());
			return 0;
		case ':':
			return usage_error("missing value for",
					   argv[optind - 1]);
		default:
			return usage_error("unknown option", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument", argv[optind]);
	if (!partition || !size) {
		fprintf(stderr,
			PROG ": --partition and --alloc are required; see " PROG " --help.\n");
		return 2;
	}
	if (busy && size < 4) {
		fprintf(stderr,
			PROG ": --work needs --alloc of at least 4 bytes; see " PROG " --help.\n");
		return 2;
	}

	/* Blocked before any memory is held, so that a signal during setup
	 * still ends in an orderly free. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);

	bufs = calloc(count, sizeof(*bufs));
	if (!bufs) {
		fprintf(stderr, PROG ": out of memory.\n");
		return 1;
	}
	ret = ash_open(partition, &ctx);
	if (ret) {
		fprintf(stderr, PROG ": cannot open partition \"%s\": %s.\n",
			partition, why(ret));
		free(bufs);
		return 1;
	}
	for (i = 0; i < count; i++) {
		void *addr;

		ret = ash_alloc(ctx, size, &bufs[i]);
		if (ret) {
			ash_size_format(size, s1, sizeof(s1));
			fprintf(stderr,
				PROG ": cannot allocate buffer %zu of %s: %s.\n",
				i + 1, s1, why(ret));
			goto out;
		}
		held++;
		ret = ash_map(bufs[i], &addr);
		if (ret == -EOPNOTSUPP)
			continue;	/* device memory: nothing to check here */
		if (ret) {
			fprintf(stderr, PROG ": cannot map buffer %zu: %s.\n",
				i + 1, why(ret));
			goto out;
		}
		if (check_memory(i, addr, size))
			goto out;
	}
	ret = ash_partition_stat(ctx, &st);
	if (ret) {
		fprintf(stderr, PROG ": cannot read the partition's state: %s.\n",
			why(ret));
		goto out;
	}
	ash_size_format(size, s1, sizeof(s1));
	ash_size_format(size * held, s2, sizeof(s2));
	ash_size_format(st.mem_used, s3, sizeof(s3));
	ash_size_format(st.mem_max, s4, sizeof(s4));
	printf("pid %d holds %zu x %s = %s in partition \"%s\" (device %u): partition uses %s of %s, %u contexts, %u buffers%s\n",
	       (int)getpid(), held, s1, s2, st.name, st.device, s3, s4,
	       st.nr_contexts, st.nr_buffers, busy ? "; working" : "");
	fflush(stdout);
	if (busy) {
		if (work(ctx, bufs[0], size))
			goto out;
	} else {
		hold(forever ? -1 : (long)secs);
	}
	status = 0;
out:
	for (i = 0; i < held; i++)
		ash_free(bufs[i]);
	ash_close(ctx);
	free(bufs);
	return status;
}
