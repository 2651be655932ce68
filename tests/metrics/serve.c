// SPDX-License-Identifier: MIT
/*
 * The /metrics server of accelshare-accountd (runtime/accountd/metrics.c)
 * with a fixed reading of one device and two partitions, for
 * check-metrics.sh: promtool and a Prometheus server check the exposition
 * without the module.  (The VM case usage_ledger checks the daemon's
 * figures against the driver's.)  Prints the port, serves until SIGTERM.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "metrics.h"

static struct ash_partition_info parts[2];
static struct metrics_dev dev;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int read_cb(void *arg, struct metrics_reading *r, char *err,
		   size_t errlen)
{
	(void)arg;
	(void)err;
	(void)errlen;
	r->devs = &dev;
	r->nr_devs = 1;
	r->last_record_s = 1796281200.0;
	return 0;
}

static void release_cb(void *arg, struct metrics_reading *r)
{
	(void)arg;
	(void)r;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct metrics_server *s;
	char err[256];

	strcpy(dev.info.name, "host");
	dev.info.mem_capacity = 1ULL << 30;
	dev.info.mem_used = 24ULL << 20;
	dev.info.busy_ns = 2500000000ULL;
	dev.info.has_engine = 1;
	dev.info.nr_partitions = 2;
	strcpy(parts[0].name, "acme");
	parts[0].busy_ns = 1500000000ULL;
	parts[0].jobs_completed = 7;
	parts[0].mem_used = 16ULL << 20;
	parts[0].mem_max = 64ULL << 20;
	parts[0].weight = 300;
	strcpy(parts[1].name, "globex");
	parts[1].busy_ns = 1000000000ULL;
	parts[1].mem_used = 8ULL << 20;
	parts[1].mem_max = 64ULL << 20;
	parts[1].weight = 100;
	dev.parts = parts;
	dev.nr_parts = 2;

	if (metrics_serve(argc > 1 ? argv[1] : "127.0.0.1:0", read_cb,
			  release_cb, NULL, &s, err, sizeof(err))) {
		fprintf(stderr, "serve: %s\n", err);
		return 1;
	}
	printf("%u\n", metrics_port(s));
	fflush(stdout);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	while (!stop)
		pause();
	metrics_stop(s);
	return 0;
}
