/* SPDX-License-Identifier: MIT */
/*
 * ashctl top's screen, from two samples: pure formatting, so that the unit
 * tests check its figures and its width.
 */
#include <inttypes.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../common/parse.h"
#include "top.h"

/* A name from a UAPI field, which need not be NUL-terminated. */
static void name_of(char out[ASH_NAME_MAX + 1], const char name[ASH_NAME_MAX])
{
	memcpy(out, name, ASH_NAME_MAX);
	out[ASH_NAME_MAX] = '\0';
}

/* "12.5%" of @part in @whole, or "-". */
static void percent(char *buf, size_t len, uint64_t part, uint64_t whole)
{
	if (!whole)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.1f%%", 100.0 * (double)part / (double)whole);
}

/* Jobs per second from @jobs done in @ns, or "-". */
static void rate(char *buf, size_t len, uint64_t jobs, uint64_t ns)
{
	if (!ns)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.1f", (double)jobs * 1e9 / (double)ns);
}

static const struct ash_device_info *
prev_dev(const struct top_sample *s, uint32_t id)
{
	for (size_t i = 0; s && i < s->nr_devs; i++)
		if (s->devs[i].device == id)
			return &s->devs[i];
	return NULL;
}

static const struct ash_partition_info *
prev_part(const struct top_sample *s, const struct ash_partition_info *p)
{
	/* An id reused by a new partition of the same name is the same
	 * thing to the viewer; counters that went back are not. */
	for (size_t i = 0; s && i < s->nr_parts; i++)
		if (s->parts[i].id == p->id &&
		    !memcmp(s->parts[i].name, p->name, ASH_NAME_MAX) &&
		    s->parts[i].busy_ns <= p->busy_ns &&
		    s->parts[i].jobs_completed <= p->jobs_completed)
			return &s->parts[i];
	return NULL;
}

static const struct ash_context_info *
prev_ctx(const struct top_sample *s, const struct ash_context_info *c)
{
	for (size_t i = 0; s && i < s->nr_ctxs; i++)
		if (s->ctxs[i].id == c->id && s->ctxs[i].pid == c->pid &&
		    s->ctxs[i].busy_ns <= c->busy_ns &&
		    s->ctxs[i].jobs_completed <= c->jobs_completed)
			return &s->ctxs[i];
	return NULL;
}

/* The device's engine time over the interval, 0 if unknown. */
static uint64_t dev_busy(const struct top_sample *prev,
			 const struct top_sample *cur, uint32_t id)
{
	const struct ash_device_info *p = prev_dev(prev, id);
	const struct ash_device_info *c = prev_dev(cur, id);

	if (!p || !c || p->busy_ns > c->busy_ns)
		return 0;
	return c->busy_ns - p->busy_ns;
}

struct screen {
	FILE *f;
	size_t lines, max, hidden;
};

/* Prints one line, cut at TOP_WIDTH, if there is room. */
static void line(struct screen *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void line(struct screen *s, const char *fmt, ...)
{
	char buf[4 * TOP_WIDTH];
	va_list ap;

	if (s->max && s->lines + 1 >= s->max) {
		s->hidden++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	buf[TOP_WIDTH] = '\0';
	fprintf(s->f, "%s\n", buf);
	s->lines++;
}

static void render_devices(struct screen *s, const struct top_sample *prev,
			   const struct top_sample *cur, uint64_t dt)
{
	char used[ASH_SIZE_STR_MAX], cap[ASH_SIZE_STR_MAX], busy[16];
	char name[ASH_NAME_MAX + 1], engine[24];

	line(s, "%-3s %-12s %10s %10s %-10s %7s %6s", "DEV", "NAME", "USED",
	     "CAP", "ENGINE", "BUSY", "QUEUE");
	for (size_t i = 0; i < cur->nr_devs; i++) {
		const struct ash_device_info *d = &cur->devs[i];

		name_of(name, d->name);
		ash_size_format(d->mem_used, used, sizeof(used));
		ash_size_format(d->mem_capacity, cap, sizeof(cap));
		if (!d->has_engine)
			snprintf(engine, sizeof(engine), "none");
		else if (d->engine_pid)
			snprintf(engine, sizeof(engine), "pid %d",
				 d->engine_pid);
		else
			snprintf(engine, sizeof(engine), "attached");
		/* Engine time over wall time: how busy the engine was. */
		percent(busy, sizeof(busy), dev_busy(prev, cur, d->device),
			prev_dev(prev, d->device) ? dt : 0);
		line(s, "%3" PRIu32 " %-12.12s %10s %10s %-10.10s %7s %6" PRIu64,
		     d->device, name, used, cap, engine, busy,
		     (uint64_t)d->jobs_queued);
	}
}

static void render_partitions(struct screen *s, const struct top_sample *prev,
			      const struct top_sample *cur, uint64_t dt)
{
	char used[ASH_SIZE_STR_MAX], cap[ASH_SIZE_STR_MAX], share[16], jobs[16];
	char name[ASH_NAME_MAX + 1];

	line(s, "%-20s %3s %10s %10s %7s %8s %6s %5s", "PARTITION", "DEV",
	     "USED", "CAP", "ENGINE", "JOBS/S", "QUEUE", "CTXS");
	for (size_t i = 0; i < cur->nr_parts; i++) {
		const struct ash_partition_info *p = &cur->parts[i];
		const struct ash_partition_info *o = prev_part(prev, p);

		name_of(name, p->name);
		ash_size_format(p->mem_used, used, sizeof(used));
		ash_size_format(p->mem_max, cap, sizeof(cap));
		/* Its share of what the device's engine did meanwhile. */
		percent(share, sizeof(share), o ? p->busy_ns - o->busy_ns : 0,
			o ? dev_busy(prev, cur, p->device) : 0);
		rate(jobs, sizeof(jobs),
		     o ? p->jobs_completed - o->jobs_completed : 0, o ? dt : 0);
		line(s, "%-20.20s %3" PRIu32 " %10s %10s %7s %8s %6" PRIu64
		     " %5" PRIu32, name, p->device, used, cap, share, jobs,
		     (uint64_t)p->jobs_queued, p->nr_contexts);
	}
}

static void render_contexts(struct screen *s, const struct top_sample *prev,
			    const struct top_sample *cur, uint64_t dt)
{
	char used[ASH_SIZE_STR_MAX], share[16], jobs[16], user[16], pid[16];
	char name[ASH_NAME_MAX + 1];

	line(s, "%6s %8s %-10s %-20s %10s %7s %8s", "CTX", "PID", "USER",
	     "PARTITION", "USED", "ENGINE", "JOBS/S");
	for (size_t i = 0; i < cur->nr_ctxs; i++) {
		const struct ash_context_info *c = &cur->ctxs[i];
		const struct ash_context_info *o = prev_ctx(prev, c);
		struct passwd *pw = getpwuid(c->uid);

		name_of(name, c->partition);
		ash_size_format(c->mem_used, used, sizeof(used));
		percent(share, sizeof(share), o ? c->busy_ns - o->busy_ns : 0,
			o ? dev_busy(prev, cur, c->device) : 0);
		rate(jobs, sizeof(jobs),
		     o ? c->jobs_completed - o->jobs_completed : 0, o ? dt : 0);
		if (pw)
			snprintf(user, sizeof(user), "%s", pw->pw_name);
		else
			snprintf(user, sizeof(user), "%" PRIu32, c->uid);
		if (c->pid)
			snprintf(pid, sizeof(pid), "%" PRId32, c->pid);
		else
			snprintf(pid, sizeof(pid), "-");
		line(s, "%6" PRIu32 " %8s %-10.10s %-20.20s %10s %7s %8s",
		     c->id, pid, user, name, used, share, jobs);
	}
}

void top_render(FILE *f, const struct top_sample *prev,
		const struct top_sample *cur, size_t max_lines)
{
	struct screen s = { .f = f, .max = max_lines };
	uint64_t dt = prev && cur->t_ns > prev->t_ns ? cur->t_ns - prev->t_ns : 0;

	if (dt)
		line(&s, "accelshare top: %" PRIu64 " device(s), %zu partition(s), %zu context(s); over %.1f s",
		     (uint64_t)cur->nr_devs, cur->nr_parts, cur->nr_ctxs,
		     (double)dt / 1e9);
	else
		line(&s, "accelshare top: %" PRIu64 " device(s), %zu partition(s), %zu context(s)",
		     (uint64_t)cur->nr_devs, cur->nr_parts, cur->nr_ctxs);
	render_devices(&s, prev, cur, dt);
	line(&s, "%s", "");
	render_partitions(&s, prev, cur, dt);
	line(&s, "%s", "");
	if (cur->nr_ctxs)
		render_contexts(&s, prev, cur, dt);
	else
		line(&s, "no contexts bound");
	if (s.hidden)
		fprintf(f, "... %zu more line(s); a taller terminal shows them\n",
			s.hidden);
}
