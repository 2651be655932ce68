/* SPDX-License-Identifier: MIT */
/*
 * accelshare.conf(5): parsing (inih does the INI syntax; this file the
 * sections, keys and values), planning, and writing the format back out.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "../common/parse.h"
#include "args.h"
#include "conf.h"

/* Bigger than any sane file, small enough to read whole. */
#define CONF_FILE_MAX	(1 << 20)

enum {
	CONF_KEY_DEVICE = 1U << 0,
	CONF_KEY_MEM = 1U << 1,
	CONF_KEY_MIN = 1U << 2,
	CONF_KEY_WEIGHT = 1U << 3,
	CONF_KEY_MAX_CONTEXTS = 1U << 4,
	CONF_KEY_MAX_BUFFERS = 1U << 5,
	CONF_KEY_UID = 1U << 6,
	CONF_KEY_GID = 1U << 7,
	CONF_KEY_SLICE_US = 1U << 8,
	CONF_KEY_JOB_TIMEOUT_MS = 1U << 9,
};

static const struct {
	const char *name;
	unsigned int bit;
	bool device;	/* a key of [device], else of [partition] */
} keys[] = {
	{ "device", CONF_KEY_DEVICE, false },
	{ "mem", CONF_KEY_MEM, false },
	{ "min", CONF_KEY_MIN, false },
	{ "weight", CONF_KEY_WEIGHT, false },
	{ "max_contexts", CONF_KEY_MAX_CONTEXTS, false },
	{ "max_buffers", CONF_KEY_MAX_BUFFERS, false },
	{ "uid", CONF_KEY_UID, false },
	{ "gid", CONF_KEY_GID, false },
	{ "slice_us", CONF_KEY_SLICE_US, true },
	{ "job_timeout_ms", CONF_KEY_JOB_TIMEOUT_MS, true },
};

/* A section as the pre-scan found its header. */
struct section {
	char header[2 * ASH_NAME_MAX + 16];	/* as inih will report it */
	bool device;
	size_t index;		/* into conf.devs or conf.parts */
	unsigned int line;
	unsigned int seen;
};

struct parser {
	struct conf *c;
	const char *path;
	char *err;
	size_t errlen;
	unsigned int err_line;	/* 0: no error yet */
	struct section *secs;
	size_t nr_secs;
	/* The reader's position in the text, and the line it returned. */
	const char *pos;
	unsigned int line;
};

static void fail(struct parser *p, unsigned int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Keeps the first error: the one with the lowest line. */
static void fail(struct parser *p, unsigned int line, const char *fmt, ...)
{
	char msg[CONF_ERR_MAX];
	va_list ap;

	if (p->err_line && p->err_line <= line)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "%s:%u: %s", p->path, line, msg);
	p->err_line = line;
}

static void *grow(void *arr, size_t n, size_t size)
{
	/* One more element, zeroed. */
	char *a = realloc(arr, (n + 1) * size);

	if (a)
		memset(a + n * size, 0, size);
	return a;
}

static const char *skip_space(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/*
 * A "[kind name]" header at the start of @line (up to @end): registers the
 * section.  inih reports the text between the brackets as the section, so
 * that is what is kept to look it up.
 */
static int add_section(struct parser *p, const char *line, const char *end,
		       unsigned int lineno)
{
	const char *close = memchr(line, ']', (size_t)(end - line));
	char text[sizeof(((struct section *)0)->header)];
	char kind[16], name[ASH_NAME_MAX + 16], extra[2];
	char err[ARGS_ERR_MAX];
	struct section *s;
	const char *rest;
	size_t i, len;
	int n;

	if (!close) {
		fail(p, lineno, "a section header needs a closing ']'");
		return -1;
	}
	rest = skip_space(close + 1);
	if (rest < end && *rest != ';' && *rest != '#' && *rest != '\r') {
		fail(p, lineno, "nothing but a comment may follow a section header");
		return -1;
	}
	len = (size_t)(close - line - 1);
	if (len >= sizeof(text)) {
		fail(p, lineno, "section header too long");
		return -1;
	}
	memcpy(text, line + 1, len);
	text[len] = '\0';
	n = sscanf(text, " %15s %47s %1s", kind, name, extra);
	if (n != 2 || (strcmp(kind, "device") && strcmp(kind, "partition"))) {
		fail(p, lineno,
		     "a section is [device N], [device NAME] or [partition NAME], not [%s]",
		     text);
		return -1;
	}
	if (strlen(name) >= ASH_NAME_MAX) {
		fail(p, lineno, "[%s]: a name is at most %d characters", text,
		     ASH_NAME_MAX - 1);
		return -1;
	}
	for (i = 0; i < p->nr_secs; i++)
		if (!strcmp(p->secs[i].header, text)) {
			fail(p, lineno, "[%s] again (first on line %u)", text,
			     p->secs[i].line);
			return -1;
		}
	s = grow(p->secs, p->nr_secs, sizeof(*s));
	if (!s)
		goto nomem;
	p->secs = s;
	s = &p->secs[p->nr_secs];
	memcpy(s->header, text, len + 1);
	s->line = lineno;
	if (!strcmp(kind, "device")) {
		struct conf_device *d;
		const char *dname;
		uint32_t num;

		if (args_device_arg("[device]", name, &num, &dname, err,
				    sizeof(err))) {
			fail(p, lineno, "%s", err);
			return -1;
		}
		/* "0" and "host" may both be written: conf_plan() finds it. */
		d = grow(p->c->devs, p->c->nr_devs, sizeof(*d));
		if (!d)
			goto nomem;
		p->c->devs = d;
		memcpy(d[p->c->nr_devs].ref, name, strlen(name) + 1);
		s->device = true;
		s->index = p->c->nr_devs++;
	} else {
		struct conf_part *cp;

		if (args_name_check(name, err, sizeof(err))) {
			fail(p, lineno, "%s", err);
			return -1;
		}
		cp = grow(p->c->parts, p->c->nr_parts, sizeof(*cp));
		if (!cp)
			goto nomem;
		p->c->parts = cp;
		cp += p->c->nr_parts;
		memcpy(cp->name, name, strlen(name) + 1);
		cp->device[0] = '0';
		s->index = p->c->nr_parts++;
	}
	p->nr_secs++;
	return 0;
nomem:
	fail(p, lineno, "out of memory");
	return -1;
}

/*
 * Finds the sections, checks line lengths, and refuses NUL bytes, before
 * inih runs: inih does not report a section with no keys at all, and would
 * split an overlong line silently.
 */
static int prescan(struct parser *p, const char *text, size_t size)
{
	const char *line = text, *end = text + size;
	unsigned int lineno = 0;

	if (memchr(text, '\0', size)) {
		snprintf(p->err, p->errlen, "%s: contains a NUL byte: not a text file",
			 p->path);
		return -1;
	}
	while (line < end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *eol = nl ? nl : end;

		lineno++;
		if (eol - line >= INI_MAX_LINE - 1) {
			fail(p, lineno, "line longer than %d characters",
			     INI_MAX_LINE - 2);
			return -1;
		}
		if (*line == '[' && add_section(p, line, eol, lineno))
			return -1;
		line = eol + (nl != NULL);
	}
	return 0;
}

/* inih's fgets over the text, counting lines for the handler's messages. */
static char *reader(char *str, int num, void *stream)
{
	struct parser *p = stream;
	const char *nl;
	size_t n;

	if (!*p->pos)
		return NULL;
	nl = strchr(p->pos, '\n');
	n = nl ? (size_t)(nl - p->pos) + 1 : strlen(p->pos);
	if (n > (size_t)num - 1)	/* not after prescan(); be safe */
		n = (size_t)num - 1;
	memcpy(str, p->pos, n);
	str[n] = '\0';
	p->pos += n;
	p->line++;
	return str;
}

/* A uid or gid list: names or numbers, separated by commas or spaces. */
static int parse_ids(struct parser *p, const char *key, const char *value,
		     bool group, uint32_t *ids, uint32_t *nr)
{
	char buf[INI_MAX_LINE], err[ARGS_ERR_MAX];
	char *save = NULL, *tok;
	uint32_t id;

	snprintf(buf, sizeof(buf), "%s", value);
	for (tok = strtok_r(buf, ", \t", &save); tok;
	     tok = strtok_r(NULL, ", \t", &save)) {
		if (args_id_parse(tok, group, key, &id, err, sizeof(err)) ||
		    args_id_add(ids, nr, id, key, err, sizeof(err))) {
			fail(p, p->line, "%s", err);
			return -1;
		}
	}
	return 0;
}

static int parse_u32(struct parser *p, const char *key, const char *value,
		     uint64_t lo, uint64_t hi, uint32_t *out)
{
	uint64_t v;

	if (ash_num_parse(value, hi, &v) || v < lo) {
		fail(p, p->line, "%s takes a number from %llu to %llu, not \"%s\"",
		     key, (unsigned long long)lo, (unsigned long long)hi, value);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

static int parse_size(struct parser *p, const char *key, const char *value,
		      uint64_t *out)
{
	int ret = ash_size_parse(value, out);

	if (ret == -EDOM)
		fail(p, p->line, "%s %s is not a whole number of bytes", key,
		     value);
	else if (ret == -ERANGE)
		fail(p, p->line, "%s %s is too large", key, value);
	else if (ret)
		fail(p, p->line,
		     "%s takes a size such as 4096, 512M or 4G, not \"%s\"",
		     key, value);
	return ret ? -1 : 0;
}

static int part_key(struct parser *p, struct conf_part *cp, unsigned int bit,
		    const char *key, const char *value)
{
	char err[ARGS_ERR_MAX];
	const char *name;
	uint32_t num;

	switch (bit) {
	case CONF_KEY_DEVICE:
		if (args_device_arg("device", value, &num, &name, err,
				    sizeof(err))) {
			fail(p, p->line, "%s", err);
			return -1;
		}
		if (strlen(value) >= sizeof(cp->device)) {
			fail(p, p->line, "device \"%s\" is too long", value);
			return -1;
		}
		memcpy(cp->device, value, strlen(value) + 1);
		return 0;
	case CONF_KEY_MEM:
		return parse_size(p, key, value, &cp->mem_max);
	case CONF_KEY_MIN:
		return parse_size(p, key, value, &cp->mem_min);
	case CONF_KEY_WEIGHT:
		return parse_u32(p, key, value, 1, ASH_WEIGHT_MAX, &cp->weight);
	case CONF_KEY_MAX_CONTEXTS:
		return parse_u32(p, key, value, 1, UINT32_MAX,
				 &cp->max_contexts);
	case CONF_KEY_MAX_BUFFERS:
		return parse_u32(p, key, value, 1, UINT32_MAX,
				 &cp->max_buffers);
	case CONF_KEY_UID:
		return parse_ids(p, key, value, false, cp->uids, &cp->nr_uids);
	default:
		return parse_ids(p, key, value, true, cp->gids, &cp->nr_gids);
	}
}

static int handler(void *user, const char *section, const char *key,
		   const char *value)
{
	struct parser *p = user;
	struct section *s = NULL;
	size_t i, k;

	for (i = 0; i < p->nr_secs; i++)
		if (!strcmp(p->secs[i].header, section))
			s = &p->secs[i];
	if (!*section) {
		fail(p, p->line, "\"%s\" comes before any [section]", key);
		return 0;
	}
	if (!s) {
		fail(p, p->line,
		     "section [%s] must start at the beginning of its line",
		     section);
		return 0;
	}
	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
		if (!strcmp(keys[k].name, key) && keys[k].device == s->device)
			break;
	if (k == sizeof(keys) / sizeof(keys[0])) {
		fail(p, p->line, s->device ?
		     "unknown key \"%s\" in [%s] (a device takes slice_us and job_timeout_ms)" :
		     "unknown key \"%s\" in [%s] (a partition takes device, mem, min, weight, max_contexts, max_buffers, uid and gid)",
		     key, section);
		return 0;
	}
	if (s->seen & keys[k].bit) {
		/* inih hands an indented line on as more of the last value. */
		fail(p, p->line,
		     "%s is given twice in [%s] (an indented line continues the key before it: start keys at the beginning of the line)",
		     key, section);
		return 0;
	}
	s->seen |= keys[k].bit;
	if (s->device) {
		struct conf_device *d = &p->c->devs[s->index];

		if (keys[k].bit == CONF_KEY_SLICE_US) {
			d->has_slice = true;
			return !parse_u32(p, key, value, ARGS_SLICE_US_MIN,
					  ARGS_SLICE_US_MAX, &d->slice_us);
		}
		d->has_timeout = true;
		return !parse_u32(p, key, value, ASH_JOB_TIMEOUT_MS_MIN,
				  ASH_JOB_TIMEOUT_MS_MAX, &d->job_timeout_ms);
	}
	p->c->parts[s->index].seen |= keys[k].bit;
	return !part_key(p, &p->c->parts[s->index], keys[k].bit, key, value);
}

/* What each section must have, once all of it is read. */
static void check_sections(struct parser *p)
{
	char a[ASH_SIZE_STR_MAX], b[ASH_SIZE_STR_MAX];
	size_t i;

	for (i = 0; i < p->nr_secs; i++) {
		const struct section *s = &p->secs[i];
		const struct conf_part *cp;

		if (s->device) {
			if (!s->seen)
				fail(p, s->line,
				     "[%s] sets nothing (slice_us, job_timeout_ms)",
				     s->header);
			continue;
		}
		cp = &p->c->parts[s->index];
		if (!(cp->seen & CONF_KEY_MEM)) {
			fail(p, s->line, "[%s] needs mem, its memory cap",
			     s->header);
			continue;
		}
		if (!cp->mem_max) {
			fail(p, s->line, "[%s]: mem must be above 0", s->header);
			continue;
		}
		if (cp->mem_min > cp->mem_max) {
			ash_size_format_exact(cp->mem_min, a, sizeof(a));
			ash_size_format_exact(cp->mem_max, b, sizeof(b));
			fail(p, s->line,
			     "[%s]: min %s is larger than mem %s", s->header,
			     a, b);
		}
	}
}

int conf_parse(FILE *f, const char *path, struct conf *c, char *err,
	       size_t errlen)
{
	struct parser p = { .c = c, .path = path, .err = err,
			    .errlen = errlen };
	char *text;
	size_t size;
	int ret;

	memset(c, 0, sizeof(*c));
	text = malloc(CONF_FILE_MAX + 1);
	if (!text) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	size = fread(text, 1, CONF_FILE_MAX + 1, f);
	if (ferror(f)) {
		snprintf(err, errlen, "%s: cannot read it: %s", path,
			 strerror(errno));
		goto fail;
	}
	if (size > CONF_FILE_MAX) {
		snprintf(err, errlen, "%s: larger than %d bytes", path,
			 CONF_FILE_MAX);
		goto fail;
	}
	text[size] = '\0';
	if (prescan(&p, text, size))
		goto fail;
	p.pos = text;
	ret = ini_parse_stream(reader, &p, handler, &p);
	if (ret > 0)
		fail(&p, (unsigned int)ret,
		     "not a [section], a \"key = value\" line or a comment");
	else if (ret < 0)
		snprintf(err, errlen, "%s: out of memory", path);
	if (ret || p.err_line)
		goto fail;
	check_sections(&p);
	if (p.err_line)
		goto fail;
	free(p.secs);
	free(text);
	return 0;
fail:
	free(p.secs);
	free(text);
	conf_free(c);
	return -1;
}

void conf_free(struct conf *c)
{
	free(c->devs);
	free(c->parts);
	memset(c, 0, sizeof(*c));
}

/* --- planning ------------------------------------------------------------ */

static const struct ash_device_info *device_by_id(uint32_t id,
						  const struct ash_device_info *devs,
						  size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (devs[i].device == id)
			return &devs[i];
	return NULL;
}

/* The device @ref names: a number, else a name. */
static const struct ash_device_info *find_device(const char *ref,
						 const struct ash_device_info *devs,
						 size_t n)
{
	uint64_t num;
	size_t i;

	if (!ash_num_parse(ref, UINT32_MAX, &num))
		return device_by_id((uint32_t)num, devs, n);
	for (i = 0; i < n; i++)
		if (!strncmp(devs[i].name, ref, sizeof(devs[i].name)))
			return &devs[i];
	return NULL;
}

/* The driver's partition named @name, or NULL. */
static const struct ash_partition_info *
part_named(const struct ash_partition_info *parts, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strncmp(parts[i].name, name, ASH_NAME_MAX))
			return &parts[i];
	return NULL;
}

static const struct conf_part *conf_part_named(const struct conf *c,
					       const char *name)
{
	size_t i;

	for (i = 0; i < c->nr_parts; i++)
		if (!strncmp(c->parts[i].name, name, ASH_NAME_MAX))
			return &c->parts[i];
	return NULL;
}

static int id_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The same ids, in whatever order. */
static bool same_ids(const uint32_t *a, uint32_t na, const uint32_t *b,
		     uint32_t nb)
{
	uint32_t x[ASH_ACL_MAX], y[ASH_ACL_MAX];

	if (na != nb || na > ASH_ACL_MAX)
		return false;
	memcpy(x, a, na * sizeof(*a));
	memcpy(y, b, nb * sizeof(*b));
	qsort(x, na, sizeof(*x), id_cmp);
	qsort(y, nb, sizeof(*y), id_cmp);
	return !memcmp(x, y, na * sizeof(*x));
}

/* The request that creates @cp on @dev, every field as the file means it. */
static void wanted(const struct conf_part *cp, uint32_t dev,
		   struct ash_partition_params *p)
{
	memset(p, 0, sizeof(*p));
	p->device = dev;
	snprintf(p->name, sizeof(p->name), "%s", cp->name);
	p->mem_max = cp->mem_max;
	p->mem_min = cp->mem_min;
	p->weight = cp->seen & CONF_KEY_WEIGHT ? cp->weight : ASH_WEIGHT_DEFAULT;
	p->max_contexts = cp->seen & CONF_KEY_MAX_CONTEXTS ?
			  cp->max_contexts : ASH_MAX_CONTEXTS_DEFAULT;
	p->max_buffers = cp->seen & CONF_KEY_MAX_BUFFERS ?
			 cp->max_buffers : ASH_MAX_BUFFERS_DEFAULT;
	p->nr_uids = cp->nr_uids;
	p->nr_gids = cp->nr_gids;
	memcpy(p->uids, cp->uids, sizeof(p->uids));
	memcpy(p->gids, cp->gids, sizeof(p->gids));
}

/* The SET that turns @cur into @w; flags 0 when they are the same. */
static void diff(const struct ash_partition_info *cur,
		 const struct ash_partition_params *w,
		 struct ash_partition_params *set)
{
	*set = *w;
	set->device = 0;
	set->flags = 0;
	if (cur->mem_max != w->mem_max || cur->mem_min != w->mem_min)
		set->flags |= ASH_PART_SET_MEM_MAX | ASH_PART_SET_MEM_MIN;
	if (cur->weight != w->weight)
		set->flags |= ASH_PART_SET_WEIGHT;
	if (cur->max_contexts != w->max_contexts ||
	    cur->max_buffers != w->max_buffers)
		set->flags |= ASH_PART_SET_LIMITS;
	if (!same_ids(cur->uids, cur->nr_uids, w->uids, w->nr_uids) ||
	    !same_ids(cur->gids, cur->nr_gids, w->gids, w->nr_gids))
		set->flags |= ASH_PART_SET_ACL;
}

static int plan_fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int plan_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Every declared partition fits its device, and so do their guarantees. */
static int check_devices(const struct conf *c,
			 const struct ash_device_info *devs, size_t nr_devs,
			 const uint32_t *where, char *err, size_t errlen)
{
	char a[ASH_SIZE_STR_MAX], b[ASH_SIZE_STR_MAX];
	size_t i, j;

	for (i = 0; i < c->nr_parts; i++) {
		const struct ash_device_info *d;

		d = device_by_id(where[i], devs, nr_devs);
		if (c->parts[i].mem_max > d->mem_capacity) {
			ash_size_format_exact(c->parts[i].mem_max, a, sizeof(a));
			ash_size_format_exact(d->mem_capacity, b, sizeof(b));
			return plan_fail(err, errlen,
					 "partition \"%s\": mem %s is larger than device %u's capacity of %s",
					 c->parts[i].name, a, d->device, b);
		}
	}
	for (i = 0; i < nr_devs; i++) {
		uint64_t sum = 0;

		for (j = 0; j < c->nr_parts; j++)
			if (where[j] == devs[i].device)
				sum += c->parts[j].mem_min;
		if (sum > devs[i].mem_capacity) {
			ash_size_format_exact(sum, a, sizeof(a));
			ash_size_format_exact(devs[i].mem_capacity, b, sizeof(b));
			return plan_fail(err, errlen,
					 "the partitions on device %u guarantee %s in all, more than its capacity of %s",
					 devs[i].device, a, b);
		}
	}
	return 0;
}

int conf_plan(const struct conf *c, const struct ash_device_info *devs,
	      size_t nr_devs, const struct ash_partition_info *parts,
	      size_t nr_parts, struct change **out, char *err, size_t errlen)
{
	struct change *ch = NULL;
	uint32_t *where = NULL;
	size_t i, j, n = 0, max;
	int pass;

	*out = NULL;
	/* Each device and partition changes at most once. */
	max = c->nr_devs + c->nr_parts + nr_parts;
	ch = calloc(max ? max : 1, sizeof(*ch));
	where = calloc(c->nr_parts ? c->nr_parts : 1, sizeof(*where));
	if (!ch || !where) {
		plan_fail(err, errlen, "out of memory");
		goto fail;
	}

	for (i = 0; i < c->nr_devs; i++) {
		const struct conf_device *cd = &c->devs[i];
		const struct ash_device_info *d;

		d = find_device(cd->ref, devs, nr_devs);
		if (!d) {
			plan_fail(err, errlen, "there is no device %s", cd->ref);
			goto fail;
		}
		for (j = 0; j < i; j++)
			if (find_device(c->devs[j].ref, devs, nr_devs) == d) {
				plan_fail(err, errlen,
					  "[device %s] and [device %s] are the same device",
					  c->devs[j].ref, cd->ref);
				goto fail;
			}
		memset(&ch[n], 0, sizeof(ch[n]));
		ch[n].dev.device = d->device;
		if (cd->has_slice && cd->slice_us != d->slice_us) {
			ch[n].dev.flags |= ASH_DEVICE_SET_SLICE;
			ch[n].dev.slice_us = cd->slice_us;
		}
		if (cd->has_timeout && cd->job_timeout_ms != d->job_timeout_ms) {
			ch[n].dev.flags |= ASH_DEVICE_SET_JOB_TIMEOUT;
			ch[n].dev.job_timeout_ms = cd->job_timeout_ms;
		}
		if (ch[n].dev.flags) {
			ch[n].kind = CHANGE_DEVICE;
			ch[n].dev_old = *d;
			n++;
		}
	}

	for (i = 0; i < c->nr_parts; i++) {
		const struct ash_partition_info *cur;
		const struct ash_device_info *d;

		d = find_device(c->parts[i].device, devs, nr_devs);
		if (!d) {
			plan_fail(err, errlen,
				  "partition \"%s\" is on device %s, and there is no device %s",
				  c->parts[i].name, c->parts[i].device,
				  c->parts[i].device);
			goto fail;
		}
		where[i] = d->device;
		cur = part_named(parts, nr_parts, c->parts[i].name);
		if (cur && cur->device != d->device) {
			plan_fail(err, errlen,
				  "partition \"%s\" is on device %u, not %s: a partition cannot move; delete it first",
				  c->parts[i].name, cur->device,
				  c->parts[i].device);
			goto fail;
		}
	}
	if (check_devices(c, devs, nr_devs, where, err, errlen))
		goto fail;

	for (j = 0; j < nr_parts; j++) {
		if (conf_part_named(c, parts[j].name))
			continue;
		if (parts[j].nr_contexts) {
			plan_fail(err, errlen,
				  "partition \"%.*s\" is not in the file but has %u context%s bound: stop its tenants first, or declare it",
				  ASH_NAME_MAX, parts[j].name,
				  parts[j].nr_contexts,
				  parts[j].nr_contexts == 1 ? "" : "s");
			goto fail;
		}
		ch[n].kind = CHANGE_DELETE;
		memcpy(ch[n].part.name, parts[j].name, sizeof(ch[n].part.name));
		ch[n].old = parts[j];
		n++;
	}
	/* Lowered (or kept) guarantees first, then raised ones. */
	for (pass = 0; pass < 2; pass++)
		for (j = 0; j < nr_parts; j++) {
			const struct conf_part *cp;
			struct ash_partition_params w;

			cp = conf_part_named(c, parts[j].name);
			if (!cp || (cp->mem_min > parts[j].mem_min) != pass)
				continue;
			wanted(cp, parts[j].device, &w);
			diff(&parts[j], &w, &ch[n].part);
			if (!ch[n].part.flags)
				continue;
			ch[n].kind = CHANGE_SET;
			ch[n].old = parts[j];
			n++;
		}
	for (i = 0; i < c->nr_parts; i++) {
		if (part_named(parts, nr_parts, c->parts[i].name))
			continue;
		ch[n].kind = CHANGE_CREATE;
		wanted(&c->parts[i], where[i], &ch[n].part);
		n++;
	}
	free(where);
	if (!n) {
		free(ch);
		return 0;
	}
	*out = ch;
	return (int)n;
fail:
	free(where);
	free(ch);
	return -1;
}

/* The request that would create the partition @info describes. */
static void params_of(const struct ash_partition_info *info,
		      struct ash_partition_params *p)
{
	memset(p, 0, sizeof(*p));
	p->device = info->device;
	memcpy(p->name, info->name, sizeof(p->name));
	p->mem_max = info->mem_max;
	p->mem_min = info->mem_min;
	p->weight = info->weight;
	p->max_contexts = info->max_contexts;
	p->max_buffers = info->max_buffers;
	p->nr_uids = info->nr_uids;
	p->nr_gids = info->nr_gids;
	memcpy(p->uids, info->uids, sizeof(p->uids));
	memcpy(p->gids, info->gids, sizeof(p->gids));
}

/* @info with the fields of @p that @flags names. */
static void info_after(const struct ash_partition_params *p, uint32_t flags,
		       struct ash_partition_info *info)
{
	if (flags & ASH_PART_SET_MEM_MAX) {
		info->mem_max = p->mem_max;
		info->mem_min = p->mem_min;
	}
	if (flags & ASH_PART_SET_WEIGHT)
		info->weight = p->weight;
	if (flags & ASH_PART_SET_LIMITS) {
		info->max_contexts = p->max_contexts;
		info->max_buffers = p->max_buffers;
	}
	if (flags & ASH_PART_SET_ACL) {
		info->nr_uids = p->nr_uids;
		info->nr_gids = p->nr_gids;
		memcpy(info->uids, p->uids, sizeof(info->uids));
		memcpy(info->gids, p->gids, sizeof(info->gids));
	}
}

void conf_change_undo(const struct change *ch, struct change *undo)
{
	memset(undo, 0, sizeof(*undo));
	switch (ch->kind) {
	case CHANGE_DEVICE:
		/* Only the fields of the flags: the driver wants the rest 0. */
		undo->kind = CHANGE_DEVICE;
		undo->dev = ch->dev;
		undo->dev_old = ch->dev_old;
		if (ch->dev.flags & ASH_DEVICE_SET_SLICE) {
			undo->dev.slice_us = ch->dev_old.slice_us;
			undo->dev_old.slice_us = ch->dev.slice_us;
		}
		if (ch->dev.flags & ASH_DEVICE_SET_JOB_TIMEOUT) {
			undo->dev.job_timeout_ms = ch->dev_old.job_timeout_ms;
			undo->dev_old.job_timeout_ms = ch->dev.job_timeout_ms;
		}
		break;
	case CHANGE_DELETE:
		undo->kind = CHANGE_CREATE;
		params_of(&ch->old, &undo->part);
		break;
	case CHANGE_SET:
		undo->kind = CHANGE_SET;
		params_of(&ch->old, &undo->part);
		undo->part.device = 0;
		undo->part.flags = ch->part.flags;
		undo->old = ch->old;
		info_after(&ch->part, ch->part.flags, &undo->old);
		break;
	case CHANGE_CREATE:
		undo->kind = CHANGE_DELETE;
		memcpy(undo->part.name, ch->part.name, sizeof(undo->part.name));
		undo->old.device = ch->part.device;
		memcpy(undo->old.name, ch->part.name, sizeof(undo->old.name));
		break;
	}
}

/* --- printing -------------------------------------------------------------- */

static void device_name(FILE *f, uint32_t id, const struct ash_device_info *devs,
			size_t n)
{
	const struct ash_device_info *d = device_by_id(id, devs, n);

	fprintf(f, "device %u", id);
	if (d && d->name[0])
		fprintf(f, " (%.*s)", ASH_NAME_MAX, d->name);
}

static void print_size(FILE *f, uint64_t v)
{
	char buf[32];

	ash_size_format_exact(v, buf, sizeof(buf));
	fputs(buf, f);
}

static void print_ids(FILE *f, const uint32_t *ids, uint32_t n)
{
	uint32_t i;

	if (!n)
		fputs("-", f);
	for (i = 0; i < n; i++)
		fprintf(f, "%s%u", i ? "," : "", ids[i]);
}

/* "mem 4G, min 0, ..." of a partition to be: the fields of @flags. */
static void print_fields(FILE *f, const struct ash_partition_params *p,
			 const struct ash_partition_info *old, uint32_t flags)
{
	const char *sep = "";

	if (flags & ASH_PART_SET_MEM_MAX) {
		fputs("mem ", f);
		if (old) {
			print_size(f, old->mem_max);
			fputs(" -> ", f);
		}
		print_size(f, p->mem_max);
		fputs(", min ", f);
		if (old) {
			print_size(f, old->mem_min);
			fputs(" -> ", f);
		}
		print_size(f, p->mem_min);
		sep = ", ";
	}
	if (flags & ASH_PART_SET_WEIGHT) {
		fprintf(f, "%sweight ", sep);
		if (old)
			fprintf(f, "%u -> ", old->weight);
		fprintf(f, "%u", p->weight);
		sep = ", ";
	}
	if (flags & ASH_PART_SET_LIMITS) {
		fprintf(f, "%smax_contexts ", sep);
		if (old)
			fprintf(f, "%u -> ", old->max_contexts);
		fprintf(f, "%u, max_buffers ", p->max_contexts);
		if (old)
			fprintf(f, "%u -> ", old->max_buffers);
		fprintf(f, "%u", p->max_buffers);
		sep = ", ";
	}
	if (flags & ASH_PART_SET_ACL) {
		fprintf(f, "%suid ", sep);
		if (old) {
			print_ids(f, old->uids, old->nr_uids);
			fputs(" -> ", f);
		}
		print_ids(f, p->uids, p->nr_uids);
		fputs(", gid ", f);
		if (old) {
			print_ids(f, old->gids, old->nr_gids);
			fputs(" -> ", f);
		}
		print_ids(f, p->gids, p->nr_gids);
	}
}

void conf_change_print(FILE *f, const struct change *ch,
		       const struct ash_device_info *devs, size_t nr_devs)
{
	switch (ch->kind) {
	case CHANGE_DEVICE:
		device_name(f, ch->dev.device, devs, nr_devs);
		fputs(":", f);
		if (ch->dev.flags & ASH_DEVICE_SET_SLICE)
			fprintf(f, " slice_us %u -> %u%s", ch->dev_old.slice_us,
				ch->dev.slice_us,
				ch->dev.flags & ASH_DEVICE_SET_JOB_TIMEOUT ?
				"," : "");
		if (ch->dev.flags & ASH_DEVICE_SET_JOB_TIMEOUT)
			fprintf(f, " job_timeout_ms %u -> %u",
				ch->dev_old.job_timeout_ms,
				ch->dev.job_timeout_ms);
		break;
	case CHANGE_DELETE:
		fprintf(f, "delete partition \"%.*s\" on ", ASH_NAME_MAX,
			ch->part.name);
		device_name(f, ch->old.device, devs, nr_devs);
		break;
	case CHANGE_SET:
		fprintf(f, "set partition \"%.*s\": ", ASH_NAME_MAX,
			ch->part.name);
		print_fields(f, &ch->part, &ch->old, ch->part.flags);
		break;
	case CHANGE_CREATE:
		fprintf(f, "create partition \"%.*s\" on ", ASH_NAME_MAX,
			ch->part.name);
		device_name(f, ch->part.device, devs, nr_devs);
		fputs(": ", f);
		print_fields(f, &ch->part, NULL,
			     ASH_PART_SET_MEM_MAX | ASH_PART_SET_WEIGHT |
			     ASH_PART_SET_LIMITS | ASH_PART_SET_ACL);
		break;
	}
}

/* --- export ---------------------------------------------------------------- */

/* A device as the file refers to it: by name unless it reads as a number. */
static void device_ref(FILE *f, uint32_t id, const struct ash_device_info *devs,
		       size_t n)
{
	const struct ash_device_info *d = device_by_id(id, devs, n);

	if (d && d->name[0] && (d->name[0] < '0' || d->name[0] > '9'))
		fprintf(f, "%.*s", ASH_NAME_MAX, d->name);
	else
		fprintf(f, "%u", id);
}

static void export_ids(FILE *f, const char *key, const uint32_t *ids,
		       uint32_t n)
{
	uint32_t i;

	if (!n)
		return;
	fprintf(f, "%s = ", key);
	for (i = 0; i < n; i++)
		fprintf(f, "%s%u", i ? ", " : "", ids[i]);
	fputc('\n', f);
}

void conf_export(FILE *f, const struct ash_device_info *devs, size_t nr_devs,
		 const struct ash_partition_info *parts, size_t nr_parts)
{
	size_t i;

	fputs("# accelshare.conf(5), as \"ashctl export\" read it from the driver:\n"
	      "# \"ashctl apply FILE\" makes a host match it.\n", f);
	for (i = 0; i < nr_devs; i++) {
		fputs("\n[device ", f);
		device_ref(f, devs[i].device, devs, nr_devs);
		fprintf(f, "]\nslice_us = %u\njob_timeout_ms = %u\n",
			devs[i].slice_us, devs[i].job_timeout_ms);
	}
	for (i = 0; i < nr_parts; i++) {
		const struct ash_partition_info *p = &parts[i];

		fprintf(f, "\n[partition %.*s]\ndevice = ", ASH_NAME_MAX,
			p->name);
		device_ref(f, p->device, devs, nr_devs);
		fputs("\nmem = ", f);
		print_size(f, p->mem_max);
		fputs("\nmin = ", f);
		print_size(f, p->mem_min);
		fprintf(f, "\nweight = %u\nmax_contexts = %u\nmax_buffers = %u\n",
			p->weight, p->max_contexts, p->max_buffers);
		export_ids(f, "uid", p->uids, p->nr_uids);
		export_ids(f, "gid", p->gids, p->nr_gids);
	}
}
