// SPDX-License-Identifier: MIT
/*
 * The usage ledger against the real driver: accelshare-accountd records,
 * ashctl usage reports, and the figures match the work done.
 *  - a baseline (accountd --once), then the daemon every second while the
 *    tenants of three partitions hold known memory for a known time and
 *    run known numbers of jobs; the daemon is killed with SIGKILL midway
 *    and started again, and stopped at the end with SIGTERM;
 *  - per partition, the ledger's sums equal the driver's counters' growth
 *    over the case: engine time and jobs exactly, KiB-seconds exactly (no
 *    memory is held at the baseline or at the end, so nothing moves
 *    between the reads), and the KiB-seconds lie within what the clock
 *    says of the tenants' holding (the "work done": MiB times seconds);
 *  - every interval reconciles: the partitions' rows add up to the
 *    device's (engine time and jobs exactly, KiB-seconds to within one per
 *    partition either way: each is rounded down on its own), and the device's engine time is at most the interval's
 *    wall time (one engine);
 *  - the module reloaded (daemon stopped first, as it must be): the next
 *    record sees the new instance and bills its counters from zero, and a
 *    partition of the same name adds to its earlier rows;
 *  - --csv has a header and a line per row; the table names the
 *    partitions;
 *  - the daemon's /metrics (--listen on loopback, fetched with wget) shows
 *    each partition's jobs, engine seconds, memory and limit as the
 *    driver reports them, in the text format, and OpenMetrics to a
 *    scraper that asks for it (on kernels with networking: the debug
 *    kernel is built without it).
 */
#include "vtexec.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#define DB		"/tmp/usage.db"
#define ACCOUNTD	"/usr/bin/accelshare-accountd"
#define NPARTS		3
#define HOLD_MS		1500
#define ROWS_MAX	512

/* EXPECT_EQ with a formatted description. */
#define EQF(got, want, fmt, ...) ({					\
	unsigned long long _g = (got), _w = (want);			\
	EXPECT(_g == _w, fmt ": got %llu, want %llu", __VA_ARGS__, _g, _w); })

static const char *const names[NPARTS] = { "acme", "globex", "initech" };
static const uid_t uids[NPARTS] = { VT_ALICE, VT_BOB, VT_CAROL };
static const gid_t gids[NPARTS] = { VT_ORGA, VT_ORGB, VT_ORGC };
static const uint64_t sizes[NPARTS] = { 16 * MiB, 8 * MiB, 4 * MiB };
static const int njobs[NPARTS] = { 30, 10, 0 };

struct shared {
	/* Per partition and round: around the alloc and around the free. */
	uint64_t ta0[NPARTS][2], ta1[NPARTS][2], tf0[NPARTS][2], tf1[NPARTS][2];
};

static struct shared *sh;
static char out[262144];
static char rows[ROWS_MAX][1024];

struct work {
	int part;
	int round;
};

static int tenant(void *arg)
{
	const struct work *w = arg;
	struct ash_command c;
	uint32_t h;
	int fd, i;

	fd = vt_tenant_open(names[w->part]);
	REQUIRE(fd >= 0, "bind %s: %s", names[w->part], vt_errname(fd));
	sh->ta0[w->part][w->round] = vx_now_ns();
	REQUIRE_OK(vt_buf_alloc(fd, sizes[w->part], &h, NULL), "alloc");
	sh->ta1[w->part][w->round] = vx_now_ns();
	for (i = 0; i < njobs[w->part]; i++) {
		vx_cmd_fill(&c, h, 0, MiB, 0x01010101u * (unsigned int)i);
		EXPECT_OK(vx_run(fd, &c, 1), "FILL job");
	}
	usleep(HOLD_MS * 1000);
	sh->tf0[w->part][w->round] = vx_now_ns();
	REQUIRE_OK(vt_buf_free(fd, h), "free");
	sh->tf1[w->part][w->round] = vx_now_ns();
	close(fd);
	return vt_result();
}

/* The first @nparts tenants at once, round @round. */
static void run_round(int round, int nparts)
{
	static struct work w[NPARTS];
	pid_t pids[NPARTS];
	int i;

	for (i = 0; i < nparts; i++) {
		w[i] = (struct work){ i, round };
		pids[i] = vt_spawn_as(uids[i], gids[i], NULL, 0, tenant, &w[i]);
	}
	for (i = 0; i < nparts; i++)
		EQF(vt_wait(pids[i]), 0, "%s's tenant exit status",
			  names[i]);
}

#define LISTEN	"127.0.0.1:9464"

/* With @arg, it serves /metrics on LISTEN too. */
static int accountd_exec(void *arg)
{
	if (arg)
		execl(ACCOUNTD, ACCOUNTD, "--db", DB, "--interval", "1",
		      "--listen", LISTEN, (char *)NULL);
	else
		execl(ACCOUNTD, ACCOUNTD, "--db", DB, "--interval", "1",
		      (char *)NULL);
	printf("FAIL: exec %s: %s\n", ACCOUNTD, strerror(errno));
	return 126;
}

/* Starts the daemon, and gives it time to make its first records (the
 * figures do not depend on when it makes them; the restart does). */
static pid_t accountd_start(bool listen)
{
	pid_t pid = vt_spawn_as(VT_ROOT, 0, NULL, 0, accountd_exec,
				listen ? (void *)1 : NULL);

	usleep(1500 * 1000);
	return pid;
}

static int once(void)
{
	return vt_sh(NULL, 0, ACCOUNTD " --once --db " DB);
}

/* The ledger's sums (or rows) as JSON objects: their number. */
static int ledger(const char *args)
{
	int n;

	REQUIRE(vt_sh(out, sizeof(out), VT_ASHCTL " usage --db " DB " --json %s",
		      args) == 0, "ashctl usage --json %s", args);
	n = vt_json_objects(out, rows, ROWS_MAX);
	REQUIRE(n >= 0 && n <= ROWS_MAX, "ashctl usage --json %s: %d rows", args,
		n);
	return n;
}

static uint64_t field(int row, const char *key)
{
	uint64_t v = 0;

	EXPECT(vt_json_u64(rows[row], key, &v), "row %d has no %s: %s", row, key,
	       rows[row]);
	return v;
}

/* The sum row of partition @name (-1: none). */
static int sum_row(int n, const char *name)
{
	char p[64];
	int i;

	for (i = 0; i < n; i++)
		if (vt_json_str(rows[i], "partition", p, sizeof(p)) &&
		    !strcmp(p, name))
			return i;
	return -1;
}

static uint64_t kib_s(uint64_t bytes, uint64_t from, uint64_t to)
{
	return to > from ? (uint64_t)((unsigned __int128)(bytes >> 10) *
				      (to - from) / 1000000000ULL) : 0;
}

static void check_reconciled(void)
{
	int n = ledger("--intervals"), i, j, nr_dev = 0;

	for (i = 0; i < n; i++) {
		uint64_t end = field(i, "end_ns"), busy = 0, jobs = 0, kib = 0;
		uint64_t wall = end - field(i, "start_ns");
		int parts = 0;
		char p[64];

		if (vt_json_str(rows[i], "partition", p, sizeof(p)))
			continue;	/* a partition's row */
		nr_dev++;
		for (j = 0; j < n; j++) {
			if (!vt_json_str(rows[j], "partition", p, sizeof(p)) ||
			    field(j, "end_ns") != end)
				continue;
			busy += field(j, "engine_ns");
			jobs += field(j, "jobs_completed");
			kib += field(j, "private_kib_seconds");
			parts++;
		}
		EQF(busy, field(i, "engine_ns"),
			  "interval ending %" PRIu64 ": partitions' engine_ns vs the device's",
			  end);
		EQF(jobs, field(i, "jobs_completed"),
			  "interval ending %" PRIu64 ": partitions' jobs vs the device's",
			  end);
		/* Each figure is rounded down on its own. */
		EXPECT(kib <= field(i, "private_kib_seconds") + (uint64_t)parts &&
		       kib + (uint64_t)parts >= field(i, "private_kib_seconds"),
		       "interval ending %" PRIu64 ": partitions' %" PRIu64
		       " KiB-s vs the device's %" PRIu64, end, kib,
		       field(i, "private_kib_seconds"));
		EXPECT(field(i, "engine_ns") <= wall,
		       "interval ending %" PRIu64 ": %" PRIu64 " ns of engine time in %" PRIu64
		       " ns of wall time", end, field(i, "engine_ns"), wall);
	}
	printf("%d intervals reconcile\n", nr_dev);
	EXPECT(nr_dev >= 3, "only %d intervals recorded", nr_dev);
}

/* /metrics's line for @name's @family{partition=...,device="0"@extra}. */
static bool metric(const char *text, const char *family, const char *name,
		   const char *extra, char *val, size_t len)
{
	char key[256];
	const char *p;

	snprintf(key, sizeof(key), "\n%s{partition=\"%s\",device=\"0\"%s} ",
		 family, name, extra);
	p = strstr(text, key);
	if (!p)
		return false;
	p += strlen(key);
	snprintf(val, len, "%.*s", (int)strcspn(p, "\n"), p);
	return true;
}

static void check_metrics(void)
{
	char val[64], want[64];
	int i;

	REQUIRE(vt_sh(out, sizeof(out), "wget -q -O - http://" LISTEN "/metrics") == 0,
		"wget http://" LISTEN "/metrics");
	for (i = 0; i < NPARTS; i++) {
		struct ash_partition_info p = vt_part(names[i]);

		snprintf(want, sizeof(want), "%llu", (unsigned long long)p.jobs_completed);
		EXPECT(metric(out, "accelshare_partition_jobs_completed_total", names[i], "",
			      val, sizeof(val)) && !strcmp(val, want),
		       "/metrics %s jobs: \"%s\", the driver says %s", names[i], val, want);
		snprintf(want, sizeof(want), "%llu.%09llu",
			 (unsigned long long)(p.busy_ns / 1000000000),
			 (unsigned long long)(p.busy_ns % 1000000000));
		EXPECT(metric(out, "accelshare_partition_engine_seconds_total", names[i], "",
			      val, sizeof(val)) && !strcmp(val, want),
		       "/metrics %s engine seconds: \"%s\", the driver says %s", names[i],
		       val, want);
		snprintf(want, sizeof(want), "%llu", (unsigned long long)p.mem_max);
		EXPECT(metric(out, "accelshare_partition_memory_limit_bytes", names[i], "",
			      val, sizeof(val)) && !strcmp(val, want),
		       "/metrics %s limit: \"%s\", want %s", names[i], val, want);
		snprintf(want, sizeof(want), "%llu", (unsigned long long)p.mem_used);
		EXPECT(metric(out, "accelshare_partition_memory_bytes", names[i],
			      ",kind=\"private\"", val, sizeof(val)) && !strcmp(val, want),
		       "/metrics %s memory: \"%s\", want %s", names[i], val, want);
	}
	EXPECT(strstr(out, "\naccelshare_device_engine_up{device=\"0\",name=\"host\"} 1\n") &&
	       strstr(out, "# TYPE accelshare_partition_engine_seconds_total counter\n") &&
	       !strstr(out, "# EOF"), "/metrics in the text format: %.2000s", out);
	REQUIRE(vt_sh(out, sizeof(out),
		      "wget -q -O - --header 'Accept: application/openmetrics-text;version=1.0.0' http://"
		      LISTEN "/metrics") == 0, "wget /metrics as OpenMetrics");
	EXPECT(strstr(out, "# TYPE accelshare_partition_engine_seconds counter\n") &&
	       strstr(out, "\n# EOF\n"), "/metrics as OpenMetrics: %.2000s", out);
}

static void reload_module(void)
{
	const char *params = getenv("ASH_VM_PARAMS");
	int i;

	close(vt_ctl);
	vt_ctl = -1;
	REQUIRE(!syscall(SYS_delete_module, "accelshare", O_NONBLOCK),
		"unload the module: %s", vt_errname(-errno));
	REQUIRE(vt_sh(NULL, 0, "insmod /accelshare.ko %s", params ? params : "") == 0,
		"insmod /accelshare.ko %s", params ? params : "");
	for (i = 0; i < 100 && access(VT_CTL_DEV, F_OK); i++)
		usleep(10000);
	vt_ctl = open(VT_CTL_DEV, O_RDWR | O_CLOEXEC);
	REQUIRE(vt_ctl >= 0, "open %s after insmod: %s", VT_CTL_DEV,
		vt_errname(-errno));
}

int main(void)
{
	struct ash_partition_info p0[NPARTS], p1[NPARTS];
	uint64_t acme_jobs;
	pid_t eng, daemon;
	int i, n, r, net;

	vt_init("usage_ledger", 300);
	if (access(ACCOUNTD, X_OK)) {
		printf("SKIP: %s is not in the VM image\n", ACCOUNTD);
		return VT_SKIP;
	}
	sh = vt_shared(sizeof(*sh));
	for (i = 0; i < NPARTS; i++)
		vt_part_new(names[i], 64 * MiB, 0, uids[i], (gid_t)-1);
	eng = vx_engine_start("1");

	/* The baseline: nothing before it is billed. */
	EXPECT_EQ(once(), 0, "accelshare-accountd --once (the baseline)");
	for (i = 0; i < NPARTS; i++)
		p0[i] = vt_part(names[i]);
	daemon = accountd_start(false);
	run_round(0, NPARTS);
	/* Killed without a last record; started again: nothing lost. */
	kill(daemon, SIGKILL);
	EXPECT_EQ(vt_wait(daemon), 128 + SIGKILL, "accountd killed");
	net = socket(AF_INET, SOCK_STREAM, 0);
	if (net >= 0) {
		close(net);
		vt_sh(NULL, 0, "ip link set lo up");
	} else {
		printf("INFO: no sockets in this kernel (%s): /metrics is not checked here\n",
		       strerror(errno));
	}
	daemon = accountd_start(net >= 0);
	run_round(1, NPARTS);
	usleep(1200 * 1000);
	if (net >= 0)
		check_metrics();
	kill(daemon, SIGTERM);
	EXPECT_EQ(vt_wait(daemon), 0, "accountd's exit status at SIGTERM");
	for (i = 0; i < NPARTS; i++)
		p1[i] = vt_part(names[i]);

	n = ledger("");
	for (i = 0; i < NPARTS; i++) {
		uint64_t lo = 0, hi = 0, got;

		r = sum_row(n, names[i]);
		if (!EXPECT(r >= 0, "no sum row for %s: %s", names[i], out))
			continue;
		EQF(field(r, "engine_ns"), p1[i].busy_ns - p0[i].busy_ns,
			  "%s: the ledger's engine_ns vs the driver's", names[i]);
		EQF(field(r, "jobs_completed"), (uint64_t)(2 * njobs[i]),
			  "%s: the ledger's jobs", names[i]);
		EQF(field(r, "jobs_completed"),
			  p1[i].jobs_completed - p0[i].jobs_completed,
			  "%s: the ledger's jobs vs the driver's", names[i]);
		EQF(field(r, "jobs_failed"), 0, "%s: jobs failed", names[i]);
		got = field(r, "private_kib_seconds");
		EQF(got, p1[i].mem_kib_seconds - p0[i].mem_kib_seconds,
			  "%s: the ledger's KiB-seconds vs the driver's", names[i]);
		for (int k = 0; k < 2; k++) {
			lo += kib_s(sizes[i], sh->ta1[i][k], sh->tf0[i][k]);
			hi += kib_s(sizes[i], sh->ta0[i][k], sh->tf1[i][k]);
		}
		printf("%s: %" PRIu64 " jobs, %.3f engine-s, %" PRIu64
		       " KiB-s (the clock says %" PRIu64 "..%" PRIu64 "), peak %" PRIu64 "\n",
		       names[i], field(r, "jobs_completed"),
		       (double)field(r, "engine_ns") / 1e9, got, lo, hi,
		       field(r, "peak_bytes"));
		EXPECT(got + 2 >= lo && got <= hi + 2,
		       "%s: %" PRIu64 " KiB-seconds, the clock says %" PRIu64 "..%" PRIu64,
		       names[i], got, lo, hi);
		EQF(field(r, "peak_bytes"), sizes[i], "%s: peak", names[i]);
	}
	check_reconciled();

	/* The table and CSV name the same rows. */
	EXPECT_EQ(vt_sh(out, sizeof(out), VT_ASHCTL " usage --db " DB), 0,
		  "ashctl usage");
	EXPECT(strstr(out, "PRIVATE-GIB-S") && strstr(out, "acme") &&
	       strstr(out, "(device)"), "ashctl usage table: %s", out);
	EXPECT_EQ(vt_sh(out, sizeof(out), VT_ASHCTL " usage --db " DB " --csv"), 0,
		  "ashctl usage --csv");
	EXPECT(!strncmp(out, "device,partition,start,end,", 27) &&
	       strstr(out, "\n0,acme,"), "ashctl usage --csv: %s", out);

	/* The module reloaded: the daemon stopped first, counters from zero. */
	EXPECT_EQ(vx_engine_stop(eng, SIGTERM), 0, "engine exit status");
	acme_jobs = p1[0].jobs_completed - p0[0].jobs_completed;
	reload_module();
	vt_part_new(names[0], 64 * MiB, 0, uids[0], (gid_t)-1);
	eng = vx_engine_start("1");
	run_round(0, 1);	/* acme alone: the others are not created again */
	EXPECT_EQ(once(), 0, "accelshare-accountd --once after the reload");
	n = ledger("--partition acme");
	r = sum_row(n, "acme");
	if (EXPECT(r >= 0, "no sum row for acme after the reload: %s", out))
		EXPECT_EQ(field(r, "jobs_completed"), acme_jobs + njobs[0],
			  "acme's jobs across the reload");
	check_reconciled();
	EXPECT_EQ(vx_engine_stop(eng, SIGTERM), 0, "engine exit status");
	return vt_result();
}
