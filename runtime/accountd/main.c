// SPDX-License-Identifier: MIT
/*
 * accelshare-accountd: reads the driver's usage counters (ASH_CTL_USAGE)
 * and writes the usage ledger (ledger.h), one row per device and per
 * partition per interval.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <accelshare.h>

#include "ledger.h"
#include "metrics.h"
#include "parse.h"

#define PROG "accelshare-accountd"
#define CTL_DEFAULT_PATH "/dev/accelshare-ctl"
#define INTERVAL_DEFAULT_S 60
#define SAMPLE_DEFAULT_S 1
#define INTERVAL_MAX_S 86400

static const char usage_text[] =
"NAME\n"
"    accelshare-accountd - record accelshare's usage in a ledger\n\n"
"SYNOPSIS\n"
"    accelshare-accountd [--db PATH] [--interval SECONDS] [--sample SECONDS]\n"
"                        [--listen ADDR:PORT]\n"
"    accelshare-accountd --once [--db PATH]\n"
"    accelshare-accountd --help | --version\n\n"
"DESCRIPTION\n"
"    Reads the driver's usage counters of every device and partition and\n"
"    writes, every --interval seconds, one row per device and per\n"
"    partition to the usage ledger, an SQLite database: engine time, jobs\n"
"    completed and failed, private and shared memory integrated over the\n"
"    interval (KiB-seconds, exact: the driver integrates the charge at\n"
"    every change of it) and the peak charge.  `ashctl usage` reports\n"
"    from the ledger.\n\n"
"    The counters of a device and of all its partitions are read at one\n"
"    instant, so that in every interval the partitions' rows add up to\n"
"    the device's: engine time and jobs exactly, memory to within one\n"
"    KiB-second per partition (each figure is rounded down on its own).\n"
"    What partitions deleted during an interval used is in one row under\n"
"    the deleted partition's name (\"(deleted)\" if several were).\n\n"
"    An interval's rows are written in one transaction with what the\n"
"    daemon read, so that nothing is lost or counted twice when the\n"
"    daemon is killed and started again: the first record after a restart\n"
"    covers the time it was down.  The daemon holds the control node\n"
"    open, so the module cannot be unloaded under it; stop the daemon\n"
"    first (SIGTERM makes it write a last interval), reload the module,\n"
"    start it again: it sees that the module was loaded again and takes\n"
"    the new counters from zero.  A ledger that did not exist is started\n"
"    with the counters as they are: what was used before is not billed.\n\n"
"    With every interval it also copies the driver's audit trail (every\n"
"    change to partitions and devices, engines attaching, detaching and\n"
"    dying, job timeouts, bans, reclaim kills: who, when, before and\n"
"    after) into the ledger, each record chained to the one before by a\n"
"    SHA-256 hash; `ashctl audit` lists it and `ashctl audit verify`\n"
"    finds a record changed, removed or inserted.\n\n"
"    The peak charge of a row is the highest seen at the samples taken\n"
"    every --sample seconds and at the interval's ends: a peak shorter\n"
"    than that can be missed.  The integrals are not sampled.\n\n"
"    With --listen it also serves the driver's figures at the scrape, for\n"
"    Prometheus, at http://ADDR:PORT/metrics: OpenMetrics 1.0.0 to a\n"
"    scraper that asks for it (Prometheus does), else the text format\n"
"    0.0.4.  Per device (labels device, name): memory capacity, charged\n"
"    and guaranteed bytes, memory byte-seconds, engine seconds, engine\n"
"    up, jobs queued and timed out, partitions, contexts; per partition\n"
"    (labels partition, device): engine and job-wait seconds, jobs\n"
"    completed, failed, timed out and queued, memory bytes and\n"
"    byte-seconds by kind=\"private\"|\"shared\", the memory limit and\n"
"    guarantee, the weight, contexts; and the ledger's last record time.\n"
"    Names are accelshare_device_* and accelshare_partition_*, counters\n"
"    ending in _total (docs/admin.md lists them).  There is no\n"
"    authentication: listen on loopback or a trusted network only.\n\n"
"    It runs in the foreground and logs to stderr.  When the module is\n"
"    not loaded it waits for it, saying so once.\n\n"
"OPTIONS\n"
"    --db PATH           the ledger (default " LEDGER_DEFAULT_PATH "),\n"
"                        created if it does not exist; its directory must.\n"
"    --interval SECONDS  the length of an interval, 1..86400 (default 60).\n"
"    --sample SECONDS    how often the peak charges are sampled, 1..the\n"
"                        interval (default 1).\n"
"    --listen ADDR:PORT  serve /metrics there (a numeric address;\n"
"                        [ADDR]:PORT for IPv6; port 9464 is usual).\n"
"    --once              write one interval (from the last record to now)\n"
"                        and exit.\n"
"    --help              print this page.\n"
"    --version           print the version.\n\n"
"EXIT STATUS\n"
"    0  stopped by SIGTERM or SIGINT, or --once done.\n"
"    1  the ledger cannot be opened or written, or the driver failed a\n"
"       request (--once: or the module is not loaded).\n"
"    2  the command line is wrong; nothing was done.\n\n"
"FILES\n"
"    " LEDGER_DEFAULT_PATH "  the ledger: tables usage (the rows) and cursor\n"
"    (what the daemon read last); docs/admin.md describes both.\n\n"
"ENVIRONMENT\n"
"    ACCELSHARE_CTL_DEVICE  the control node to use instead of\n"
"                           /dev/accelshare-ctl.\n\n"
"SEE ALSO\n"
"    ashctl(8) (ashctl usage), accelshare(4), docs/admin.md.\n";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The readings of every device; each device number's buffer of partition
 * entries grows as partitions are created. */
struct reading {
	struct ash_usage_entry *buf[ASH_DEVICES_MAX];
	uint32_t room[ASH_DEVICES_MAX];
	struct ledger_device devs[ASH_DEVICES_MAX];
	size_t n;
};

static void reading_free(struct reading *r)
{
	size_t i;

	for (i = 0; i < ASH_DEVICES_MAX; i++)
		free(r->buf[i]);
}

/* Device @device's counters: 0, -ENODEV, or a negative errno. */
static int read_device(int fd, uint32_t device, struct reading *r)
{
	struct ash_usage_entry *p;

	for (;;) {
		struct ash_usage u = {
			.device = device, .nr_entries = r->room[device],
			.entries = (uintptr_t)r->buf[device],
		};

		if (ioctl(fd, ASH_CTL_USAGE, &u)) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (u.nr_entries <= r->room[device]) {
			r->devs[r->n].u = u;
			r->devs[r->n].parts = r->buf[device];
			r->n++;
			return 0;
		}
		/* Partitions were created: ask again with room for them. */
		p = realloc(r->buf[device], u.nr_entries * sizeof(*p));
		if (!p)
			return -ENOMEM;
		r->buf[device] = p;
		r->room[device] = u.nr_entries;
	}
}

static int read_all(int fd, struct reading *r)
{
	uint32_t dev;
	int ret;

	r->n = 0;
	for (dev = 0; dev < ASH_DEVICES_MAX; dev++) {
		ret = read_device(fd, dev, r);
		if (ret && ret != -ENODEV) {
			fprintf(stderr, PROG ": cannot read device %u's counters: %s.\n",
				dev, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static int open_ctl(bool wait)
{
	const char *path = getenv("ACCELSHARE_CTL_DEVICE");
	bool said = false;
	int fd;

	if (!path || !*path)
		path = CTL_DEFAULT_PATH;
	while ((fd = open(path, O_RDWR | O_CLOEXEC)) < 0) {
		if (errno == EINTR && !stop)
			continue;
		if (!wait || stop || (errno != ENOENT && errno != ENODEV &&
				      errno != ENXIO)) {
			fprintf(stderr, PROG ": cannot open %s: %s%s.\n", path,
				strerror(errno),
				errno == ENOENT ? " (is the accelshare module loaded?)" :
				errno == EACCES || errno == EPERM ?
				" (the daemon must run as root)" : "");
			return -1;
		}
		if (!said)
			fprintf(stderr, PROG ": %s: %s; waiting for the module.\n",
				path, strerror(errno));
		said = true;
		sleep(1);
	}
	if (said)
		fprintf(stderr, PROG ": %s is there.\n", path);
	return fd;
}

/* What /metrics reads, from its own thread: the control node's fd (ioctls
 * are safe to issue concurrently) and the last record's time. */
struct scrape_source {
	int fd;
	_Atomic int64_t last_record_ns;
};

static void scrape_release(void *arg, struct metrics_reading *r)
{
	size_t i;

	(void)arg;
	for (i = 0; i < r->nr_devs; i++)
		free(r->devs[i].parts);
	free(r->devs);
	memset(r, 0, sizeof(*r));
}

static int scrape_read(void *arg, struct metrics_reading *r, char *err,
		       size_t errlen)
{
	struct scrape_source *src = arg;
	struct ash_partition_info pi;
	uint32_t dev, id = 0;
	size_t i;

	memset(r, 0, sizeof(*r));
	r->devs = calloc(ASH_DEVICES_MAX, sizeof(*r->devs));
	if (!r->devs)
		goto oom;
	for (dev = 0; dev < ASH_DEVICES_MAX; dev++) {
		struct metrics_dev *d = &r->devs[r->nr_devs];

		memset(&d->info, 0, sizeof(d->info));
		d->info.device = dev;
		if (ioctl(src->fd, ASH_CTL_DEVICE_INFO, &d->info)) {
			if (errno == ENODEV)
				continue;
			goto fail;
		}
		r->nr_devs++;
	}
	/* Every partition, by id, onto its device. */
	for (;;) {
		struct metrics_dev *d = NULL;
		struct ash_partition_info *np;

		memset(&pi, 0, sizeof(pi));
		pi.id = id;
		if (ioctl(src->fd, ASH_CTL_PART_INFO, &pi)) {
			if (errno == ENOENT)
				break;
			goto fail;
		}
		id = pi.id + 1;
		for (i = 0; i < r->nr_devs; i++)
			if (r->devs[i].info.device == pi.device)
				d = &r->devs[i];
		if (!d)
			continue;	/* its device registered since */
		np = realloc(d->parts, (d->nr_parts + 1) * sizeof(*np));
		if (!np)
			goto oom;
		d->parts = np;
		d->parts[d->nr_parts++] = pi;
		if (!id)
			break;	/* id wrapped */
	}
	r->last_record_s = (double)atomic_load(&src->last_record_ns) / 1e9;
	return 0;
fail:
	snprintf(err, errlen, "cannot read the driver's counters: %s",
		 strerror(errno));
	scrape_release(NULL, r);
	return -1;
oom:
	snprintf(err, errlen, "out of memory");
	scrape_release(NULL, r);
	return -1;
}

static struct scrape_source scrape = { .fd = -1 };

/*
 * The driver's audit records since the last ones the ledger has, chained
 * onto its trail; a gap (the driver keeps the last ASH_AUDIT_KEPT) is
 * recorded as one.
 */
static int audit_pull(int fd, struct ledger *l)
{
	static struct ash_audit_record recs[ASH_AUDIT_READ_MAX];
	char err[LEDGER_ERR_MAX];
	struct ash_audit_read r;
	uint64_t from, lost;

	for (;;) {
		memset(&r, 0, sizeof(r));
		if (ioctl(fd, ASH_CTL_AUDIT_READ, &r))
			goto fail_ioctl;
		if (ledger_audit_next_seq(l, r.instance, &from, err, sizeof(err)))
			goto fail;
		memset(&r, 0, sizeof(r));
		r.from_seq = from;
		r.nr_records = ASH_AUDIT_READ_MAX;
		r.records = (uintptr_t)recs;
		if (ioctl(fd, ASH_CTL_AUDIT_READ, &r))
			goto fail_ioctl;
		lost = r.first_seq > from ? from : 0;
		if (lost)
			fprintf(stderr, PROG ": audit records %llu to %llu were lost (the driver keeps the last %u).\n",
				(unsigned long long)from,
				(unsigned long long)r.first_seq - 1,
				(unsigned int)ASH_AUDIT_KEPT);
		if (ledger_audit_append(l, r.instance, recs, r.nr_records, lost,
					r.first_seq - 1, err, sizeof(err)))
			goto fail;
		if (r.nr_records < ASH_AUDIT_READ_MAX)
			return 0;
	}
fail_ioctl:
	fprintf(stderr, PROG ": cannot read the audit trail: %s.\n", strerror(errno));
	return -1;
fail:
	fprintf(stderr, PROG ": %s.\n", err);
	return -1;
}

static int record(struct ledger *l, struct reading *r, int fd)
{
	struct ledger_record_stats st;
	char err[LEDGER_ERR_MAX];

	int64_t now = clock_ns(CLOCK_REALTIME);

	if (ledger_record(l, now, r->devs, r->n, &st, err, sizeof(err))) {
		fprintf(stderr, PROG ": %s.\n", err);
		return -1;
	}
	atomic_store(&scrape.last_record_ns, now);
	if (audit_pull(fd, l))
		return -1;
	if (st.baseline)
		fprintf(stderr, PROG ": new ledger: counters noted as its start.\n");
	if (st.reloaded)
		fprintf(stderr, PROG ": the module was loaded again: its counters are taken from zero.\n");
	if (st.reset)
		fprintf(stderr, PROG ": %u counter sets went backwards: taken from zero.\n",
			st.reset);
	if (st.devices_lost)
		fprintf(stderr, PROG ": %u devices are gone: their use since the last record is not in the ledger.\n",
			st.devices_lost);
	return 0;
}

static int parse_seconds(const char *opt, const char *s, uint64_t max,
			 uint64_t *out)
{
	if (ash_num_parse(s, max, out) || !*out) {
		fprintf(stderr, PROG ": %s takes a number of seconds from 1 to %llu, not '%s'.\n",
			opt, (unsigned long long)max, s);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	enum { OPT_DB = 256, OPT_INTERVAL, OPT_SAMPLE, OPT_ONCE, OPT_LISTEN };
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, OPT_DB },
		{ "interval", required_argument, NULL, OPT_INTERVAL },
		{ "sample", required_argument, NULL, OPT_SAMPLE },
		{ "once", no_argument, NULL, OPT_ONCE },
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t interval = INTERVAL_DEFAULT_S, sample = SAMPLE_DEFAULT_S;
	const char *db = LEDGER_DEFAULT_PATH, *sample_arg = NULL, *listen = NULL;
	struct metrics_server *server = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	struct reading *r = NULL;
	char err[LEDGER_ERR_MAX];
	struct ledger *l = NULL;
	int64_t next_record;
	bool once = false;
	int opt, fd = -1, ret = 1;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (opt) {
		case OPT_DB:
			db = optarg;
			break;
		case OPT_INTERVAL:
			if (parse_seconds("--interval", optarg, INTERVAL_MAX_S,
					  &interval))
				return 2;
			break;
		case OPT_SAMPLE:
			sample_arg = optarg;
			break;
		case OPT_ONCE:
			once = true;
			break;
		case OPT_LISTEN:
			listen = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 'V':
			printf(PROG " %s\n", ACCELSHARE_VERSION_STRING);
			return 0;
		case ':':
			fprintf(stderr, PROG ": %s needs a value.\n",
				argv[optind - 1]);
			return 2;
		default:
			fprintf(stderr, PROG ": unknown option '%s' (see --help).\n",
				argv[optind - 1]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s' (see --help).\n",
			argv[optind]);
		return 2;
	}
	if (sample_arg && parse_seconds("--sample", sample_arg, interval,
					&sample))
		return 2;
	if (once && (sample_arg || interval != INTERVAL_DEFAULT_S || listen)) {
		fprintf(stderr, PROG ": --once takes neither --interval, --sample nor --listen.\n");
		return 2;
	}

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (ledger_open(db, true, &l, err, sizeof(err))) {
		fprintf(stderr, PROG ": %s.\n", err);
		return 1;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		fprintf(stderr, PROG ": out of memory.\n");
		goto out;
	}
	fd = open_ctl(!once);
	if (fd < 0) {
		ret = stop ? 0 : 1;
		goto out;
	}
	if (once) {
		ret = read_all(fd, r) || record(l, r, fd) ? 1 : 0;
		goto out;
	}
	fprintf(stderr, PROG ": recording to %s every %llu s (peaks sampled every %llu s).\n",
		db, (unsigned long long)interval, (unsigned long long)sample);
	if (listen) {
		scrape.fd = fd;
		if (metrics_serve(listen, scrape_read, scrape_release, &scrape,
				  &server, err, sizeof(err))) {
			fprintf(stderr, PROG ": %s.\n", err);
			goto out;
		}
		fprintf(stderr, PROG ": serving http://%s/metrics.\n", listen);
	}
	/* The first record starts the ledger or closes the time it was down. */
	if (read_all(fd, r) || record(l, r, fd))
		goto out;
	next_record = clock_ns(CLOCK_MONOTONIC) + (int64_t)interval * 1000000000;
	while (!stop) {
		int64_t now = clock_ns(CLOCK_MONOTONIC);
		int64_t wait = (int64_t)sample * 1000000000;
		struct timespec ts;

		if (next_record - now < wait)
			wait = next_record - now > 0 ? next_record - now : 0;
		ts.tv_sec = wait / 1000000000;
		ts.tv_nsec = wait % 1000000000;
		if (nanosleep(&ts, NULL) && errno == EINTR && stop)
			break;
		if (read_all(fd, r))
			goto out;
		if (clock_ns(CLOCK_MONOTONIC) < next_record) {
			ledger_observe(l, r->devs, r->n);
			continue;
		}
		if (record(l, r, fd))
			goto out;
		next_record += (int64_t)interval * 1000000000;
		if (next_record < clock_ns(CLOCK_MONOTONIC))
			next_record = clock_ns(CLOCK_MONOTONIC) +
				      (int64_t)interval * 1000000000;
	}
	/* The last interval, up to now: nothing used is left unrecorded. */
	ret = read_all(fd, r) || record(l, r, fd) ? 1 : 0;
	if (!ret)
		fprintf(stderr, PROG ": stopped; the last interval is recorded.\n");
out:
	metrics_stop(server);
	if (fd >= 0)
		close(fd);
	if (r)
		reading_free(r);
	free(r);
	ledger_close(l);
	return ret;
}
