// SPDX-License-Identifier: MIT
/*
 * accelshare-accountd's /metrics (metrics.h): the exposition and, at the
 * end, the HTTP server.
 *
 * Every figure is the driver's at the scrape.  Counters are exact integers
 * (times in seconds are printed from nanoseconds without rounding); the
 * names follow Prometheus's conventions: base units, _total on counters,
 * one family per quantity, the kind of memory a label.
 */
#include "metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

/* A sample's value: a count, or nanoseconds shown as seconds. */
struct value {
	uint64_t v;
	bool ns;
};

/* One family: its samples come from each device or each partition. */
struct family {
	const char *name;	/* without _total */
	bool counter;
	bool per_partition;
	/* Samples per object: 2 for the memory families, labelled
	 * kind="private" and kind="shared". */
	int kinds;
	const char *help;
	struct value (*dev)(const struct ash_device_info *d);
	struct value (*part)(const struct ash_partition_info *p, int kind);
};

static struct value count(uint64_t v)
{
	return (struct value){ v, false };
}

static struct value nanos(uint64_t v)
{
	return (struct value){ v, true };
}

static uint64_t kib_s_to_byte_s(uint64_t kib_s)
{
	return kib_s > UINT64_MAX / 1024 ? UINT64_MAX : kib_s * 1024;
}

#define DEV_VALUE(fn, expr) \
	static struct value fn(const struct ash_device_info *d) { return expr; }
#define PART_VALUE(fn, expr) \
	static struct value fn(const struct ash_partition_info *p, int kind) \
	{ (void)kind; return expr; }

DEV_VALUE(dev_capacity, count(d->mem_capacity))
DEV_VALUE(dev_used, count(d->mem_used))
DEV_VALUE(dev_guaranteed, count(d->mem_min_total))
DEV_VALUE(dev_byte_s, count(kib_s_to_byte_s(d->mem_kib_seconds)))
DEV_VALUE(dev_engine_s, nanos(d->busy_ns))
DEV_VALUE(dev_engine_up, count(d->has_engine ? 1 : 0))
DEV_VALUE(dev_queued, count(d->jobs_queued))
DEV_VALUE(dev_timed_out, count(d->jobs_timed_out))
DEV_VALUE(dev_partitions, count(d->nr_partitions))
DEV_VALUE(dev_contexts, count(d->nr_contexts))
PART_VALUE(part_engine_s, nanos(p->busy_ns))
PART_VALUE(part_wait_s, nanos(p->wait_ns))
PART_VALUE(part_completed, count(p->jobs_completed))
PART_VALUE(part_failed, count(p->jobs_failed))
PART_VALUE(part_timed_out, count(p->jobs_timed_out))
PART_VALUE(part_queued, count(p->jobs_queued))
PART_VALUE(part_limit, count(p->mem_max))
PART_VALUE(part_guarantee, count(p->mem_min))
PART_VALUE(part_weight, count(p->weight))
PART_VALUE(part_contexts, count(p->nr_contexts))

/* Nothing is shared yet: the shared kind is 0. */
static struct value part_memory(const struct ash_partition_info *p, int kind)
{
	return count(kind ? 0 : p->mem_used);
}

static struct value part_byte_s(const struct ash_partition_info *p, int kind)
{
	return count(kind ? 0 : kib_s_to_byte_s(p->mem_kib_seconds));
}

static const struct family families[] = {
	{ "accelshare_device_memory_capacity_bytes", false, false, 1,
	  "Device memory the partitions share.", dev_capacity, NULL },
	{ "accelshare_device_memory_bytes", false, false, 1,
	  "Device memory charged to partitions now.", dev_used, NULL },
	{ "accelshare_device_memory_guaranteed_bytes", false, false, 1,
	  "Device memory guaranteed to partitions (their minimums).",
	  dev_guaranteed, NULL },
	{ "accelshare_device_memory_byte_seconds", true, false, 1,
	  "Device memory charged, integrated over time (deleted partitions included).",
	  dev_byte_s, NULL },
	{ "accelshare_device_engine_seconds", true, false, 1,
	  "Engine time used on the device.", dev_engine_s, NULL },
	{ "accelshare_device_engine_up", false, false, 1,
	  "1 if an engine is attached to the device.", dev_engine_up, NULL },
	{ "accelshare_device_jobs_queued", false, false, 1,
	  "Jobs waiting for the device's engine.", dev_queued, NULL },
	{ "accelshare_device_jobs_timed_out", true, false, 1,
	  "Jobs the watchdog failed on the device.", dev_timed_out, NULL },
	{ "accelshare_device_partitions", false, false, 1,
	  "Partitions of the device.", dev_partitions, NULL },
	{ "accelshare_device_contexts", false, false, 1,
	  "Tenant contexts bound to the device's partitions.", dev_contexts,
	  NULL },
	{ "accelshare_partition_engine_seconds", true, true, 1,
	  "Engine time the partition's jobs used.", NULL, part_engine_s },
	{ "accelshare_partition_job_wait_seconds", true, true, 1,
	  "Time the partition's jobs waited for the engine.", NULL,
	  part_wait_s },
	{ "accelshare_partition_jobs_completed", true, true, 1,
	  "Jobs of the partition that completed, failed ones included.", NULL,
	  part_completed },
	{ "accelshare_partition_jobs_failed", true, true, 1,
	  "Jobs of the partition that failed or were cancelled.", NULL,
	  part_failed },
	{ "accelshare_partition_jobs_timed_out", true, true, 1,
	  "Jobs of the partition the watchdog failed.", NULL, part_timed_out },
	{ "accelshare_partition_jobs_queued", false, true, 1,
	  "Jobs of the partition waiting for the engine.", NULL, part_queued },
	{ "accelshare_partition_memory_bytes", false, true, 2,
	  "Memory charged to the partition now, private or shared.", NULL,
	  part_memory },
	{ "accelshare_partition_memory_byte_seconds", true, true, 2,
	  "Memory charged to the partition, integrated over time.", NULL,
	  part_byte_s },
	{ "accelshare_partition_memory_limit_bytes", false, true, 1,
	  "The partition's hard memory cap.", NULL, part_limit },
	{ "accelshare_partition_memory_guarantee_bytes", false, true, 1,
	  "Memory guaranteed to the partition.", NULL, part_guarantee },
	{ "accelshare_partition_weight", false, true, 1,
	  "The partition's compute weight.", NULL, part_weight },
	{ "accelshare_partition_contexts", false, true, 1,
	  "Tenant contexts bound to the partition.", NULL, part_contexts },
};

/* A label value, escaped as both formats want: \\, \" and \n. */
static void put_label(FILE *f, const char *key, const char *val, size_t max)
{
	size_t i;

	fprintf(f, "%s=\"", key);
	for (i = 0; i < max && val[i]; i++) {
		if (val[i] == '\\' || val[i] == '"')
			fputc('\\', f);
		if (val[i] == '\n')
			fputs("\\n", f);
		else
			fputc(val[i], f);
	}
	fputc('"', f);
}

static void put_value(FILE *f, struct value v)
{
	if (v.ns)
		fprintf(f, " %" PRIu64 ".%09" PRIu64 "\n", v.v / 1000000000,
			v.v % 1000000000);
	else
		fprintf(f, " %" PRIu64 "\n", v.v);
}

static void put_device_labels(FILE *f, const struct ash_device_info *d)
{
	fprintf(f, "{device=\"%" PRIu32 "\",", d->device);
	put_label(f, "name", d->name, sizeof(d->name));
}

static void render_family(FILE *f, const struct family *fam,
			  const struct metrics_reading *r, bool om)
{
	const char *suffix = fam->counter ? "_total" : "";
	size_t i, j;
	int k;

	/* OpenMetrics names the family without _total, the text format
	 * with it. */
	fprintf(f, "# HELP %s%s %s\n", fam->name, om ? "" : suffix, fam->help);
	fprintf(f, "# TYPE %s%s %s\n", fam->name, om ? "" : suffix,
		fam->counter ? "counter" : "gauge");
	for (i = 0; i < r->nr_devs; i++) {
		const struct metrics_dev *d = &r->devs[i];

		if (!fam->per_partition) {
			fprintf(f, "%s%s", fam->name, suffix);
			put_device_labels(f, &d->info);
			fputc('}', f);
			put_value(f, fam->dev(&d->info));
			continue;
		}
		for (j = 0; j < d->nr_parts; j++)
			for (k = 0; k < fam->kinds; k++) {
				const struct ash_partition_info *p = &d->parts[j];

				fprintf(f, "%s%s{", fam->name, suffix);
				put_label(f, "partition", p->name, sizeof(p->name));
				fprintf(f, ",device=\"%" PRIu32 "\"", p->device);
				if (fam->kinds == 2)
					fprintf(f, ",kind=\"%s\"",
						k ? "shared" : "private");
				fputc('}', f);
				put_value(f, fam->part(p, k));
			}
	}
}

int metrics_render(const struct metrics_reading *r, bool openmetrics,
		   char **out, size_t *len)
{
	FILE *f = open_memstream(out, len);
	size_t i;

	if (!f)
		return -1;
	for (i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		render_family(f, &families[i], r, openmetrics);
	if (r->last_record_s > 0) {
		fputs("# HELP accelshare_ledger_last_record_timestamp_seconds When the usage ledger last recorded an interval.\n"
		      "# TYPE accelshare_ledger_last_record_timestamp_seconds gauge\n", f);
		fprintf(f, "accelshare_ledger_last_record_timestamp_seconds %.3f\n",
			r->last_record_s);
	}
	if (openmetrics)
		fputs("# EOF\n", f);
	if (ferror(f)) {
		fclose(f);
		free(*out);
		*out = NULL;
		return -1;
	}
	return fclose(f) ? -1 : 0;
}

const char *metrics_content_type(bool openmetrics)
{
	return openmetrics ?
	       "application/openmetrics-text; version=1.0.0; charset=utf-8" :
	       "text/plain; version=0.0.4; charset=utf-8";
}

bool metrics_wants_openmetrics(const char *accept)
{
	return accept && strstr(accept, "application/openmetrics-text");
}

/* --- the server ---------------------------------------------------------- */

struct metrics_server {
	struct MHD_Daemon *mhd;
	metrics_read_fn read;
	metrics_release_fn release;
	void *arg;
	unsigned int port;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int status,
			     const char *type, char *body, size_t len,
			     enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!resp) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *c,
				  unsigned int status, const char *text)
{
	return reply(c, status, "text/plain; charset=utf-8", (char *)text,
		     strlen(text), MHD_RESPMEM_MUST_COPY);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c,
			      const char *url, const char *method,
			      const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	struct metrics_server *s = cls;
	struct metrics_reading r = { 0 };
	char err[256], *body = NULL;
	size_t len = 0;
	bool om;
	int ret;

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)con_cls;
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED,
				  "only GET and HEAD\n");
	if (strcmp(url, "/metrics"))
		return reply_text(c, MHD_HTTP_NOT_FOUND,
				  "accelshare-accountd serves /metrics only\n");
	if (s->read(s->arg, &r, err, sizeof(err))) {
		char msg[300];

		snprintf(msg, sizeof(msg), "%s\n", err);
		return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, msg);
	}
	om = metrics_wants_openmetrics(
		MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept"));
	ret = metrics_render(&r, om, &body, &len);
	s->release(s->arg, &r);
	if (ret)
		return reply_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "out of memory\n");
	return reply(c, MHD_HTTP_OK, metrics_content_type(om), body, len,
		     MHD_RESPMEM_MUST_FREE);
}

/* "ADDR:PORT" or "[ADDR]:PORT", numeric, into @ss. */
static int parse_listen(const char *listen, struct sockaddr_storage *ss,
			socklen_t *sslen, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
				  .ai_socktype = SOCK_STREAM };
	char host[INET6_ADDRSTRLEN + 2];
	struct addrinfo *ai = NULL;
	const char *colon, *port;
	size_t hlen;

	if (listen[0] == '[') {
		const char *end = strchr(listen, ']');

		if (!end || end[1] != ':')
			goto bad;
		hlen = (size_t)(end - listen - 1);
		memcpy(host, listen + 1, hlen < sizeof(host) ? hlen : 0);
		port = end + 2;
	} else {
		colon = strrchr(listen, ':');
		if (!colon || strchr(listen, ':') != colon)
			goto bad;
		hlen = (size_t)(colon - listen);
		memcpy(host, listen, hlen < sizeof(host) ? hlen : 0);
		port = colon + 1;
	}
	if (!hlen || hlen >= sizeof(host) || !*port ||
	    strspn(port, "0123456789") != strlen(port) || strlen(port) > 5 ||
	    atoi(port) > 65535)
		goto bad;
	host[hlen] = '\0';
	if (getaddrinfo(host, port, &hints, &ai) || !ai)
		goto bad;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*sslen = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
bad:
	snprintf(err, errlen,
		 "--listen takes ADDR:PORT with a numeric address (127.0.0.1:9464, [::1]:9464), not '%s'",
		 listen);
	return -1;
}

int metrics_serve(const char *listen, metrics_read_fn read,
		  metrics_release_fn release, void *arg,
		  struct metrics_server **out, char *err, size_t errlen)
{
	const union MHD_DaemonInfo *info;
	struct sockaddr_storage ss;
	struct metrics_server *s;
	socklen_t sslen;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO;

	*out = NULL;
	if (parse_listen(listen, &ss, &sslen, err, errlen))
		return -1;
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->read = read;
	s->release = release;
	s->arg = arg;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* One polling thread: scrapes are served one at a time, so the
	 * callback needs no locking. */
	s->mhd = MHD_start_daemon(flags, 0, NULL, NULL, handle, s,
				  MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				  MHD_OPTION_CONNECTION_TIMEOUT, 10U,
				  MHD_OPTION_CONNECTION_LIMIT, 16U,
				  MHD_OPTION_END);
	if (!s->mhd) {
		snprintf(err, errlen, "cannot listen on %s: %s", listen,
			 strerror(errno ? errno : EADDRINUSE));
		free(s);
		return -1;
	}
	info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : 0;
	*out = s;
	return 0;
}

void metrics_stop(struct metrics_server *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->mhd);
	free(s);
}

unsigned int metrics_port(const struct metrics_server *s)
{
	return s->port;
}
