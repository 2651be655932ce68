/* SPDX-License-Identifier: MIT */
/*
 * accelshare-accountd's /metrics (runtime/accountd/metrics.c): the
 * exposition in both formats, and the HTTP server answering real requests
 * on a loopback socket (200, 404, 405, 503).  tests/metrics/ checks the
 * same output with promtool and a Prometheus server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "metrics.h"

struct world {
	struct ash_partition_info parts[2];
	struct metrics_dev dev;
	struct metrics_reading r;
	bool fail;
};

static void world_init(struct world *w)
{
	memset(w, 0, sizeof(*w));
	w->dev.info.device = 0;
	strcpy(w->dev.info.name, "host");
	w->dev.info.mem_capacity = 1ULL << 30;
	w->dev.info.mem_used = 24ULL << 20;
	w->dev.info.busy_ns = 2500000001ULL;
	w->dev.info.has_engine = 1;
	w->dev.info.mem_kib_seconds = 3;
	strcpy(w->parts[0].name, "acme");
	w->parts[0].busy_ns = 1500000000ULL;
	w->parts[0].jobs_completed = 7;
	w->parts[0].jobs_failed = 1;
	w->parts[0].mem_used = 16ULL << 20;
	w->parts[0].mem_max = 64ULL << 20;
	w->parts[0].mem_kib_seconds = 2;
	w->parts[0].weight = 300;
	strcpy(w->parts[1].name, "globex");
	w->parts[1].busy_ns = 1000000001ULL;
	w->parts[1].mem_used = 8ULL << 20;
	w->parts[1].weight = 100;
	w->dev.parts = w->parts;
	w->dev.nr_parts = 2;
	w->r.devs = &w->dev;
	w->r.nr_devs = 1;
}

static char *render(struct world *w, bool om)
{
	char *out = NULL;
	size_t len = 0;

	assert_int_equal(metrics_render(&w->r, om, &out, &len), 0);
	assert_int_equal(strlen(out), len);
	return out;
}

static void has(const char *text, const char *line)
{
	if (!strstr(text, line))
		fail_msg("no \"%s\" in:\n%s", line, text);
}

static void text_format(void **state)
{
	struct world w;
	char *t;

	(void)state;
	world_init(&w);
	t = render(&w, false);
	has(t, "# TYPE accelshare_partition_engine_seconds_total counter\n");
	has(t, "accelshare_partition_engine_seconds_total{partition=\"acme\",device=\"0\"} 1.500000000\n");
	has(t, "accelshare_partition_engine_seconds_total{partition=\"globex\",device=\"0\"} 1.000000001\n");
	has(t, "accelshare_device_engine_seconds_total{device=\"0\",name=\"host\"} 2.500000001\n");
	has(t, "accelshare_partition_memory_bytes{partition=\"acme\",device=\"0\",kind=\"private\"} 16777216\n");
	has(t, "accelshare_partition_memory_bytes{partition=\"acme\",device=\"0\",kind=\"shared\"} 0\n");
	has(t, "accelshare_partition_memory_byte_seconds_total{partition=\"acme\",device=\"0\",kind=\"private\"} 2048\n");
	has(t, "accelshare_partition_memory_limit_bytes{partition=\"acme\",device=\"0\"} 67108864\n");
	has(t, "accelshare_partition_jobs_failed_total{partition=\"acme\",device=\"0\"} 1\n");
	has(t, "accelshare_device_engine_up{device=\"0\",name=\"host\"} 1\n");
	has(t, "# TYPE accelshare_partition_weight gauge\n");
	assert_null(strstr(t, "# EOF"));
	assert_null(strstr(t, "last_record"));	/* none yet */
	/* Each family's TYPE once, though it has a sample per partition
	 * and kind. */
	{
		const char *p = strstr(t, "# TYPE accelshare_partition_memory_bytes ");

		assert_non_null(p);
		assert_null(strstr(p + 1, "# TYPE accelshare_partition_memory_bytes "));
	}
	free(t);
}

static void openmetrics_format(void **state)
{
	struct world w;
	char *t;
	size_t len;

	(void)state;
	world_init(&w);
	w.r.last_record_s = 1796281200.5;
	t = render(&w, true);
	/* The family without _total, the samples with it; # EOF last. */
	has(t, "# TYPE accelshare_partition_engine_seconds counter\n");
	has(t, "# HELP accelshare_partition_engine_seconds Engine time");
	has(t, "accelshare_partition_engine_seconds_total{partition=\"acme\",device=\"0\"} 1.500000000\n");
	has(t, "# TYPE accelshare_partition_memory_bytes gauge\n");
	has(t, "accelshare_ledger_last_record_timestamp_seconds 1796281200.500\n");
	assert_null(strstr(t, "# TYPE accelshare_partition_engine_seconds_total"));
	len = strlen(t);
	assert_true(len > 6);
	assert_string_equal(t + len - 6, "# EOF\n");
	free(t);
	assert_true(metrics_wants_openmetrics(
		"application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"));
	assert_false(metrics_wants_openmetrics("text/plain"));
	assert_false(metrics_wants_openmetrics(NULL));
}

/* Label values are escaped, whatever a name holds. */
static void labels_escaped(void **state)
{
	struct world w;
	char *t;

	(void)state;
	world_init(&w);
	strcpy(w.dev.info.name, "a\"b\\c\nd");
	t = render(&w, false);
	has(t, "name=\"a\\\"b\\\\c\\nd\"}");
	free(t);
	/* A name filling its field without a NUL stops at the field. */
	world_init(&w);
	memset(w.parts[0].name, 'x', sizeof(w.parts[0].name));
	t = render(&w, false);
	has(t, "partition=\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\",");
	free(t);
}

/* --- the server, over a real socket -------------------------------------- */

static int read_cb(void *arg, struct metrics_reading *r, char *err,
		   size_t errlen)
{
	struct world *w = arg;

	if (w->fail) {
		snprintf(err, errlen, "cannot read the driver's counters: test");
		return -1;
	}
	*r = w->r;
	return 0;
}

static void release_cb(void *arg, struct metrics_reading *r)
{
	(void)arg;
	memset(r, 0, sizeof(*r));
}

/* One request; the whole response into @buf. */
static void request(unsigned int port, const char *req, char *buf,
		    size_t len)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port) };
	size_t got = 0;
	ssize_t n;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	while (got + 1 < len && (n = read(fd, buf + got, len - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	close(fd);
}

static void server_answers(void **state)
{
	static char buf[65536];
	struct metrics_server *s;
	char err[256];
	struct world w;
	unsigned int port;

	(void)state;
	world_init(&w);
	assert_int_equal(metrics_serve("127.0.0.1:0", read_cb, release_cb, &w,
				       &s, err, sizeof(err)), 0);
	port = metrics_port(s);
	assert_true(port > 0);

	request(port, "GET /metrics HTTP/1.0\r\n\r\n", buf, sizeof(buf));
	has(buf, " 200 OK\r\n");
	has(buf, "text/plain; version=0.0.4");
	has(buf, "accelshare_partition_engine_seconds_total{partition=\"acme\"");
	request(port, "GET /metrics HTTP/1.0\r\nAccept: application/openmetrics-text;version=1.0.0\r\n\r\n",
		buf, sizeof(buf));
	has(buf, "application/openmetrics-text; version=1.0.0");
	has(buf, "# EOF\n");
	request(port, "GET / HTTP/1.0\r\n\r\n", buf, sizeof(buf));
	has(buf, " 404");
	request(port, "POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n", buf,
		sizeof(buf));
	has(buf, " 405");
	has(buf, "Allow: GET, HEAD");
	w.fail = true;
	request(port, "GET /metrics HTTP/1.0\r\n\r\n", buf, sizeof(buf));
	has(buf, " 503");
	has(buf, "cannot read the driver's counters: test");
	metrics_stop(s);

	/* Bad addresses, each refused with the form it wants. */
	assert_int_equal(metrics_serve("localhost:9464", read_cb, release_cb, &w,
				       &s, err, sizeof(err)), -1);
	has(err, "--listen takes ADDR:PORT with a numeric address");
	assert_int_equal(metrics_serve("127.0.0.1", read_cb, release_cb, &w, &s,
				       err, sizeof(err)), -1);
	assert_int_equal(metrics_serve("127.0.0.1:99999", read_cb, release_cb, &w,
				       &s, err, sizeof(err)), -1);
	assert_int_equal(metrics_serve("::1:80", read_cb, release_cb, &w, &s, err,
				       sizeof(err)), -1);
	assert_int_equal(metrics_serve("[::1]:0", read_cb, release_cb, &w, &s, err,
				       sizeof(err)), 0);
	metrics_stop(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(text_format),
		cmocka_unit_test(openmetrics_format),
		cmocka_unit_test(labels_escaped),
		cmocka_unit_test(server_answers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
