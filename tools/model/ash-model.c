/* SPDX-License-Identifier: MIT */
/*
 * ash-model - show a model file's tensors, or load it into a partition.
 *
 *   ash-model show FILE
 *   ash-model load --partition NAME FILE [--queue-depth N] [--chunk SIZE]
 *                  [--direct | --no-direct] [--verify] [--hold SECONDS]
 *
 * Linked with the static libaccelshare, whose header parser (format.h) it
 * also uses: "show" needs no device, and a malformed file is reported with
 * the parser's own sentence.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <accelshare.h>

#include "../../runtime/model/format.h"
#include "../common/parse.h"

#define PROG "ash-model"

static const char usage[] =
"Usage: " PROG " show FILE\n"
"       " PROG " load --partition NAME FILE [--queue-depth N] [--chunk SIZE]\n"
"                 [--direct | --no-direct] [--verify] [--hold SECONDS]\n"
"       " PROG " --help | --version\n"
"\n"
"Model files are safetensors or GGUF, recognized by their content.\n"
"\n"
"show FILE\n"
"    Print the file's format, one line per tensor (name, dtype, shape, bytes,\n"
"    offset in the data section) in data order, and the totals.  Needs no\n"
"    device.\n"
"\n"
"load --partition NAME FILE\n"
"    Open partition NAME as a tenant, allocate device memory charged to it\n"
"    and stream the file's tensors into it with libaccelshare's loader\n"
"    (io_uring, O_DIRECT where the alignment allows).  On a terminal a\n"
"    progress bar runs on stderr.  The last line on stdout gives the tensors\n"
"    and bytes loaded, the seconds taken and the rate in GB/s (10^9 bytes\n"
"    per second), from opening the file to the last byte in place.\n"
"\n"
"    --queue-depth N   reads in flight, 1..1024 (default 16)\n"
"    --chunk SIZE      bytes per read, a multiple of 4 KiB from 4K to 64M\n"
"                      (K, M suffixes; default 1M)\n"
"    --direct          O_DIRECT for the aligned middle of the data even if\n"
"                      the file is in the page cache (the partial first and\n"
"                      last blocks are read buffered, and everything is\n"
"                      where the file system refuses O_DIRECT)\n"
"    --no-direct       read through the page cache only\n"
"                      (default: O_DIRECT unless at least half of the data\n"
"                      is in the page cache already)\n"
"    --verify          afterwards, read the file again with pread() and\n"
"                      compare every tensor's bytes through the mapping\n"
"    --hold SECONDS    keep the model loaded that long before exiting\n"
"\n"
"Exit status: 0 success; 1 the file cannot be read or parsed, the partition\n"
"cannot be opened, the load fails (e.g. over the partition's cap) or\n"
"--verify finds a difference; 2 a bad command line.  The device node is\n"
"$ACCELSHARE_DEVICE or /dev/accelshare.\n";

static int bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, PROG ": ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "; see '" PROG " --help'.\n");
	return 2;
}

/* Why a call failed, as a sentence fragment naming the errno. */
static const char *why(int err)
{
	static char buf[160];
	const char *name = strerrorname_np(-err);
	const char *what;

	switch (-err) {
	case EDQUOT: what = "the model would pass the partition's cap"; break;
	case ENOSPC: what = "device memory exhausted"; break;
	case EACCES: what = "not on the partition's access list"; break;
	case ENOENT: what = "no such file or partition"; break;
	case ENODEV: what = "no accelshare device (is the module loaded? modprobe accelshare)"; break;
	case EINVAL: what = "not a valid safetensors or GGUF file"; break;
	case EOPNOTSUPP: what = "the device has no host mapping, which the "
				"loader needs until copy jobs exist"; break;
	default: what = strerror(-err); break;
	}
	snprintf(buf, sizeof(buf), "%s (%s)", what, name ? name : "?");
	return buf;
}

/* Read and parse @path's header; on failure print one sentence. */
static int parse_file(const char *path, struct ash_model_header *hdr,
		      uint64_t *file_size)
{
	char err[256] = "";
	struct stat st;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		ret = -errno;
		fprintf(stderr, PROG ": cannot open %s: %s.\n", path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return ret;
	}
	if (!S_ISREG(st.st_mode)) {
		fprintf(stderr, PROG ": %s is not a regular file.\n", path);
		close(fd);
		return -EINVAL;
	}
	*file_size = (uint64_t)st.st_size;
	ret = ash_model_read_header(fd, *file_size, hdr, err, sizeof(err));
	if (ret == -EINVAL)
		fprintf(stderr, PROG ": %s: %s\n", path,
			err[0] ? err : "not a valid safetensors or GGUF file.");
	else if (ret)
		fprintf(stderr, PROG ": %s: %s.\n", path, why(ret));
	close(fd);
	return ret;
}

static const char *format_name(enum ash_model_format f)
{
	return f == ASH_FORMAT_GGUF ? "GGUF" : "safetensors";
}

static void shape_str(const struct ash_model_tensor_info *t, char *out,
		      size_t len)
{
	size_t n = (size_t)snprintf(out, len, "[");

	for (int i = 0; i < t->ndim && n < len; i++)
		n += (size_t)snprintf(out + n, len - n, "%s%" PRIu64,
				      i ? ", " : "", t->shape[i]);
	if (n < len)
		snprintf(out + n, len - n, "]");
}

static int cmd_show(const char *path)
{
	struct ash_model_header hdr;
	uint64_t size, total = 0;
	size_t w = 4;
	char sz[ASH_SIZE_STR_MAX];

	memset(&hdr, 0, sizeof(hdr));
	if (parse_file(path, &hdr, &size))
		return 1;
	for (int i = 0; i < hdr.nr_tensors; i++) {
		size_t l = strlen(hdr.tensors[i].name);

		if (l > w)
			w = l < 60 ? l : 60;
	}
	printf("%s: %s, %d tensors, %u metadata entries, data section at "
	       "offset %" PRIu64 " (alignment %u)\n", path,
	       format_name(hdr.format), hdr.nr_tensors, hdr.nr_metadata,
	       hdr.data_offset, hdr.alignment);
	printf("%-*s  %-8s  %-24s  %14s  %14s\n", (int)w, "NAME", "DTYPE",
	       "SHAPE", "BYTES", "OFFSET");
	for (int i = 0; i < hdr.nr_tensors; i++) {
		const struct ash_model_tensor_info *t = &hdr.tensors[i];
		const char *dt = ash_dtype_name(t->dtype);
		char shape[256];

		shape_str(t, shape, sizeof(shape));
		printf("%-*s  %-8s  %-24s  %14" PRIu64 "  %14" PRIu64 "\n",
		       (int)w, t->name, dt ? dt : "?", shape, t->bytes,
		       t->offset);
		total += t->bytes;
	}
	ash_size_format(hdr.data_size, sz, sizeof(sz));
	printf("total: %d tensors, %" PRIu64 " bytes of tensors, data section "
	       "%" PRIu64 " bytes (%s), file %" PRIu64 " bytes\n",
	       hdr.nr_tensors, total, hdr.data_size, sz, size);
	ash_model_header_free(&hdr);
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct bar {
	double start;
	double last;
};

static void on_progress(void *arg, uint64_t done, uint64_t total)
{
	struct bar *b = arg;
	double t = now();
	char d[ASH_SIZE_STR_MAX], a[ASH_SIZE_STR_MAX];
	int width = 30, fill;

	if (done < total && t - b->last < 0.1)
		return;
	b->last = t;
	fill = total ? (int)((double)done / (double)total * width) : width;
	ash_size_format(done, d, sizeof(d));
	ash_size_format(total, a, sizeof(a));
	fprintf(stderr, "\r[%.*s%*s] %3d%%  %s / %s  %.2f GB/s ", fill,
		"##############################", width - fill, "",
		total ? (int)(done * 100 / total) : 100, d, a,
		t > b->start ? (double)done / (t - b->start) / 1e9 : 0.0);
	if (done == total)
		fputc('\n', stderr);
}

/* Compare every tensor through its mapping with the file's bytes. */
static int verify(const char *path, const struct ash_model *m)
{
	struct ash_model_header hdr;
	uint64_t size, bad = 0;
	char *chunk;
	int fd, ret = 0;

	memset(&hdr, 0, sizeof(hdr));
	if (parse_file(path, &hdr, &size))
		return 1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	chunk = malloc(1 << 20);
	if (fd < 0 || !chunk) {
		fprintf(stderr, PROG ": cannot verify %s: %s.\n", path,
			strerror(fd < 0 ? errno : ENOMEM));
		ret = 1;
		goto out;
	}
	for (int i = 0; i < hdr.nr_tensors && !bad; i++) {
		const struct ash_model_tensor_info *ti = &hdr.tensors[i];
		const struct ash_tensor *t = ash_model_find(m, ti->name);
		uint64_t done = 0;
		char *addr = NULL;

		if (!t || t->bytes != ti->bytes) {
			fprintf(stderr, PROG ": verify: tensor %s is missing "
				"from the loaded model.\n", ti->name);
			ret = 1;
			break;
		}
		if (t->bytes && ash_map(t->buf, (void **)&addr)) {
			fprintf(stderr, PROG ": verify: cannot map tensor "
				"%s.\n", ti->name);
			ret = 1;
			break;
		}
		while (done < t->bytes) {
			size_t n = t->bytes - done > (1 << 20) ? (1 << 20) :
				   (size_t)(t->bytes - done);
			ssize_t got = pread(fd, chunk, n, (off_t)(hdr.data_offset +
						     ti->offset + done));

			if (got != (ssize_t)n) {
				fprintf(stderr, PROG ": verify: cannot read "
					"%s.\n", path);
				ret = 1;
				goto out;
			}
			if (memcmp(chunk, addr + t->offset + done, n)) {
				for (size_t k = 0; k < n; k++)
					if (chunk[k] != addr[t->offset + done + k]) {
						fprintf(stderr, PROG ": verify: "
							"tensor %s differs from the "
							"file at byte %" PRIu64 ".\n",
							ti->name, done + k);
						break;
					}
				bad++;
				ret = 1;
				break;
			}
			done += n;
		}
	}
	if (!ret)
		printf("verified: %d tensors equal to the file\n",
		       hdr.nr_tensors);
out:
	free(chunk);
	if (fd >= 0)
		close(fd);
	ash_model_header_free(&hdr);
	return ret;
}

static int cmd_load(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "partition", required_argument, NULL, 'p' },
		{ "queue-depth", required_argument, NULL, 'q' },
		{ "chunk", required_argument, NULL, 'c' },
		{ "direct", no_argument, NULL, 'd' },
		{ "no-direct", no_argument, NULL, 'n' },
		{ "verify", no_argument, NULL, 'v' },
		{ "hold", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ash_load_opts lo = { 0 };
	const char *part = NULL, *path;
	struct ash_model *m = NULL;
	struct ash_ctx *ctx = NULL;
	uint64_t v, bytes = 0, hold = 0;
	struct bar bar;
	double t0, t1;
	int c, ret, rc = 0, do_verify = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			part = optarg;
			break;
		case 'q':
			if (ash_num_parse(optarg, 1024, &v) || v == 0)
				return bad_usage("--queue-depth takes a number "
						 "from 1 to 1024, not '%s'",
						 optarg);
			lo.queue_depth = (uint32_t)v;
			break;
		case 'c':
			if (ash_size_parse(optarg, &v) || v < 4096 ||
			    v > (64 << 20) || v % 4096)
				return bad_usage("--chunk takes a multiple of "
						 "4 KiB from 4K to 64M, not "
						 "'%s'", optarg);
			lo.chunk_size = (uint32_t)v;
			break;
		case 'd':
		case 'n':
			if (lo.direct_io)
				return bad_usage("%s: --direct and --no-direct "
						 "exclude each other",
						 argv[optind - 1]);
			lo.direct_io = c == 'd' ? 1 : -1;
			break;
		case 'v':
			do_verify = 1;
			break;
		case 'H':
			if (ash_num_parse(optarg, 1000000000, &hold))
				return bad_usage("--hold takes whole seconds, "
						 "not '%s'", optarg);
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		case ':':
			return bad_usage("%s needs a value", argv[optind - 1]);
		default:
			return bad_usage("unknown option '%s'",
					 argv[optind - 1]);
		}
	}
	if (!part)
		return bad_usage("load needs --partition NAME%s", "");
	if (optind != argc - 1)
		return bad_usage(optind < argc ? "load takes one FILE, "
				 "not '%s'" : "load needs a FILE%s",
				 optind < argc ? argv[argc - 1] : "");
	path = argv[optind];

	ret = ash_open(part, &ctx);
	if (ret) {
		fprintf(stderr, PROG ": cannot open partition %s: %s.\n", part,
			why(ret));
		return 1;
	}
	if (isatty(STDERR_FILENO)) {
		lo.progress = on_progress;
		lo.progress_arg = &bar;
	}
	t0 = now();
	bar.start = bar.last = t0;
	ret = ash_model_load_opts(ctx, path, &lo, &m);
	t1 = now();
	if (ret) {
		if (ret == -EINVAL) {
			struct ash_model_header hdr;
			uint64_t size;

			/* Let the parser say what is wrong, if it is the
			 * file; else the options. */
			memset(&hdr, 0, sizeof(hdr));
			if (!parse_file(path, &hdr, &size)) {
				ash_model_header_free(&hdr);
				fprintf(stderr, PROG ": cannot load %s into "
					"%s: %s.\n", path, part,
					strerror(EINVAL));
			}
		} else {
			fprintf(stderr, PROG ": cannot load %s into %s: %s.\n",
				path, part, why(ret));
		}
		ash_close(ctx);
		return 1;
	}
	for (int i = 0; i < ash_model_tensor_count(m); i++)
		bytes += ash_model_tensor(m, i)->bytes;
	printf("loaded %d tensors, %" PRIu64 " bytes into %s in %.3f s: "
	       "%.2f GB/s\n", ash_model_tensor_count(m), bytes, part, t1 - t0,
	       t1 > t0 ? (double)bytes / (t1 - t0) / 1e9 : 0.0);
	fflush(stdout);
	if (do_verify)
		rc = verify(path, m);
	if (hold)
		sleep((unsigned int)hold);
	ash_model_free(m);
	ash_close(ctx);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return bad_usage("no command given%s", "");
	if (!strcmp(argv[1], "--version")) {
		printf("ash-model " ACCELSHARE_VERSION_STRING
		       " (libaccelshare %s)\n", ash_version());
		return 0;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		fputs(usage, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "show")) {
		if (argc == 3 && !strcmp(argv[2], "--help")) {
			fputs(usage, stdout);
			return 0;
		}
		if (argc != 3)
			return bad_usage("show takes one FILE%s", "");
		return cmd_show(argv[2]);
	}
	if (!strcmp(argv[1], "load"))
		return cmd_load(argc - 1, argv + 1);
	return bad_usage("unknown command '%s'", argv[1]);
}
