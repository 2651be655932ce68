/* SPDX-License-Identifier: MIT */
/*
 * accelshare-accountd's /metrics: the driver's devices and partitions in
 * the Prometheus text exposition format (0.0.4) or OpenMetrics 1.0.0, and
 * the HTTP server (libmicrohttpd) that serves them.  Rendering is a pure
 * function of a reading, so that the host tests check it; the server asks
 * a callback for a fresh reading at every scrape.
 */
#ifndef ACCELSHARE_METRICS_H
#define ACCELSHARE_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include <uapi/accelshare.h>

/**
 * struct metrics_dev - one device and its partitions
 * @info: as ASH_CTL_DEVICE_INFO reports it.
 * @parts: its partitions, as ASH_CTL_PART_INFO reports them.
 * @nr_parts: how many.
 */
struct metrics_dev {
	struct ash_device_info info;
	struct ash_partition_info *parts;
	size_t nr_parts;
};

/**
 * struct metrics_reading - what a scrape shows
 * @devs: every device.
 * @nr_devs: how many.
 * @last_record_s: CLOCK_REALTIME seconds of the ledger's last record, or 0.
 */
struct metrics_reading {
	struct metrics_dev *devs;
	size_t nr_devs;
	double last_record_s;
};

/*
 * metrics_render() - @r as exposition text (OpenMetrics if @openmetrics),
 * into a malloc'ed NUL-terminated buffer *@out of *@len bytes.
 * Return: 0, or -1 (out of memory).
 */
int metrics_render(const struct metrics_reading *r, bool openmetrics,
		   char **out, size_t *len);

/* The Content-Type of what metrics_render() writes. */
const char *metrics_content_type(bool openmetrics);

/*
 * Whether a scraper's Accept header asks for OpenMetrics (Prometheus's
 * does); NULL asks for the text format.
 */
bool metrics_wants_openmetrics(const char *accept);

/*
 * A fresh reading for a scrape, into *@r (freed with @release after the
 * scrape); 0, or -1 with a sentence in @err (the scrape gets 503).
 */
typedef int (*metrics_read_fn)(void *arg, struct metrics_reading *r,
			       char *err, size_t errlen);
typedef void (*metrics_release_fn)(void *arg, struct metrics_reading *r);

struct metrics_server;

/*
 * metrics_serve() - serve GET /metrics on @listen ("ADDR:PORT", IPv6 as
 * "[ADDR]:PORT"; ADDR numeric), from a thread of its own.  Return: 0, or
 * -1 with @err.
 */
int metrics_serve(const char *listen, metrics_read_fn read,
		  metrics_release_fn release, void *arg,
		  struct metrics_server **out, char *err, size_t errlen);
void metrics_stop(struct metrics_server *s);

/* The port @s listens on (for a @listen that asked for port 0). */
unsigned int metrics_port(const struct metrics_server *s);

#endif /* ACCELSHARE_METRICS_H */
