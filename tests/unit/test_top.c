/* SPDX-License-Identifier: MIT */
/*
 * ashctl top's screen (tools/ashctl/top_view.c): the rates it derives from
 * two samples, "-" where it cannot, and lines that fit 80 columns.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "top.h"

struct world {
	struct ash_device_info dev;
	struct ash_partition_info parts[2];
	struct ash_context_info ctxs[2];
	struct top_sample s;
};

static void world_init(struct world *w, uint64_t t_ns)
{
	memset(w, 0, sizeof(*w));
	w->dev.device = 0;
	memcpy(w->dev.name, "host", 4);
	w->dev.mem_capacity = 256ULL << 20;
	w->dev.has_engine = 1;
	w->dev.engine_pid = 88;
	memcpy(w->parts[0].name, "acme", 4);
	w->parts[0].id = 1;
	w->parts[0].mem_max = 64ULL << 20;
	w->parts[0].nr_contexts = 1;
	/* A name of the full 32 bytes, no NUL: cut to its column. */
	memcpy(w->parts[1].name, "an-organization-with-a-long-name", 32);
	w->parts[1].id = 2;
	w->parts[1].mem_max = 128ULL << 20;
	w->parts[1].nr_contexts = 1;
	w->ctxs[0].id = 7;
	w->ctxs[0].pid = 345;
	w->ctxs[0].uid = 4242;	/* no such user: shown as a number */
	memcpy(w->ctxs[0].partition, "acme", 4);
	w->ctxs[1].id = 8;
	w->ctxs[1].pid = 346;
	w->ctxs[1].uid = 4243;
	memcpy(w->ctxs[1].partition, w->parts[1].name, 32);
	w->s.t_ns = t_ns;
	w->s.devs = &w->dev;
	w->s.nr_devs = 1;
	w->s.parts = w->parts;
	w->s.nr_parts = 2;
	w->s.ctxs = w->ctxs;
	w->s.nr_ctxs = 2;
}

static char *render(const struct top_sample *prev,
		    const struct top_sample *cur, size_t max_lines)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	top_render(f, prev, cur, max_lines);
	assert_int_equal(fclose(f), 0);
	return text;
}

/* Every line at most TOP_WIDTH columns; returns the number of lines. */
static int check_width(const char *text)
{
	int lines = 0;

	for (const char *p = text; *p; lines++) {
		const char *nl = strchr(p, '\n');

		assert_non_null(nl);
		if (nl - p > TOP_WIDTH)
			fail_msg("line of %d columns: %.*s", (int)(nl - p),
				 (int)(nl - p), p);
		p = nl + 1;
	}
	return lines;
}

/* The line of @text that starts with @prefix, alone (a static copy). */
static const char *line_of(const char *text, const char *prefix)
{
	static char line[4 * TOP_WIDTH];
	size_t n = strlen(prefix);
	const char *p = text, *nl;

	while (*p) {
		nl = strchr(p, '\n');
		assert_non_null(nl);
		if (!strncmp(p, prefix, n)) {
			snprintf(line, sizeof(line), "%.*s", (int)(nl - p), p);
			return line;
		}
		p = nl + 1;
	}
	fail_msg("no line starting with \"%s\" in:\n%s", prefix, text);
	return NULL;
}

static void rates_over_the_interval(void **state)
{
	struct world a, b;
	char *text;
	const char *l;

	(void)state;
	world_init(&a, 1000000000);
	world_init(&b, 3000000000);	/* 2 s later */
	a.dev.busy_ns = 5000000000;
	b.dev.busy_ns = 6000000000;	/* 1 s of engine time in 2 s */
	b.dev.jobs_queued = 3;
	b.dev.mem_used = 96ULL << 20;
	a.parts[0].busy_ns = 1000000000;
	b.parts[0].busy_ns = 1250000000;	/* 25% of the device's */
	a.parts[0].jobs_completed = 10;
	b.parts[0].jobs_completed = 110;	/* 50 jobs/s */
	b.parts[0].jobs_queued = 2;
	b.parts[0].mem_used = 12ULL << 20;
	a.parts[1].busy_ns = 0;
	b.parts[1].busy_ns = 750000000;		/* 75% */
	a.ctxs[0].busy_ns = 100;
	b.ctxs[0].busy_ns = 100 + 250000000;
	a.ctxs[0].jobs_completed = 1;
	b.ctxs[0].jobs_completed = 101;

	text = render(&a.s, &b.s, 0);
	check_width(text);
	l = line_of(text, "  0 host");
	assert_non_null(strstr(l, "50.0%"));
	assert_non_null(strstr(l, "pid 88"));
	assert_non_null(strstr(l, "96.0 MiB"));
	l = line_of(text, "acme ");
	assert_non_null(strstr(l, "25.0%"));
	assert_non_null(strstr(l, " 50.0 "));
	assert_non_null(strstr(l, "12.0 MiB"));
	assert_non_null(strstr(l, "64.0 MiB"));
	l = line_of(text, "an-organization-with");
	assert_non_null(strstr(l, "75.0%"));
	assert_null(strstr(l, "long-name"));
	l = line_of(text, "     7      345 4242");
	assert_non_null(strstr(l, "25.0%"));
	assert_non_null(strstr(l, "50.0"));
	assert_non_null(strstr(text, "over 2.0 s"));
	free(text);
}

static void no_rates_without_a_previous_sample(void **state)
{
	struct world a, b;
	char *text;
	const char *l;

	(void)state;
	world_init(&b, 2000000000);
	b.parts[0].busy_ns = 12345;
	text = render(NULL, &b.s, 0);
	check_width(text);
	l = line_of(text, "acme ");
	assert_non_null(strstr(l, "      - "));
	free(text);

	/* A context that was not there before (or whose counters went
	 * back: a new one with a reused id) has no rates either. */
	world_init(&a, 1000000000);
	a.ctxs[0].pid = 999;
	a.dev.busy_ns = 0;
	b.dev.busy_ns = 1000;
	b.ctxs[0].busy_ns = 500;
	text = render(&a.s, &b.s, 0);
	l = line_of(text, "     7      345");
	assert_null(strstr(l, "%"));
	free(text);
}

static void rows_that_do_not_fit_are_counted(void **state)
{
	struct world b;
	char *text;
	int lines;

	(void)state;
	world_init(&b, 1);
	text = render(NULL, &b.s, 0);
	lines = check_width(text);
	free(text);
	text = render(NULL, &b.s, (size_t)lines - 2);
	assert_int_equal(check_width(text), lines - 2);
	assert_non_null(strstr(text, "... 3 more line(s)"));
	free(text);
}

static void nothing_bound(void **state)
{
	struct world b;
	char *text;

	(void)state;
	world_init(&b, 1);
	b.s.nr_ctxs = 0;
	b.s.nr_parts = 0;
	text = render(NULL, &b.s, 0);
	check_width(text);
	assert_non_null(strstr(text, "no contexts bound"));
	assert_non_null(line_of(text, "PARTITION"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rates_over_the_interval),
		cmocka_unit_test(no_rates_without_a_previous_sample),
		cmocka_unit_test(rows_that_do_not_fit_are_counted),
		cmocka_unit_test(nothing_bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
