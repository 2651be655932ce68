/* SPDX-License-Identifier: MIT */
/*
 * Sizes and numbers as people type and read them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "parse.h"

typedef unsigned __int128 u128;

/* The unit words ash_size_parse() knows, with their shift. */
static const struct {
	const char *name;
	unsigned int shift;
} units[] = {
	{ "", 0 }, { "B", 0 },
	{ "K", 10 }, { "KiB", 10 },
	{ "M", 20 }, { "MiB", 20 },
	{ "G", 30 }, { "GiB", 30 },
	{ "T", 40 }, { "TiB", 40 },
};

/* 10^19 is the largest power of ten in 64 bits: fractions with more
 * significant digits than that are refused rather than approximated. */
#define FRAC_DIGITS_MAX 19

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

int ash_size_parse(const char *s, uint64_t *out)
{
	const char *p = s, *int_start, *frac_start = NULL;
	size_t int_len, frac_len = 0, i;
	unsigned int shift = 0;
	u128 value = 0, frac = 0, pow10 = 1;
	int found = 0;

	if (!s || !is_digit(*p))
		return -EINVAL;
	int_start = p;
	while (is_digit(*p))
		p++;
	int_len = p - int_start;
	if (*p == '.') {
		frac_start = ++p;
		while (is_digit(*p))
			p++;
		frac_len = p - frac_start;
		if (!frac_len)
			return -EINVAL;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (!strcasecmp(p, units[i].name)) {
			shift = units[i].shift;
			found = 1;
			break;
		}
	}
	if (!found)
		return -EINVAL;

	for (i = 0; i < int_len; i++) {
		value = value * 10 + (u128)(int_start[i] - '0');
		if (value > UINT64_MAX)
			return -ERANGE;
	}
	/* Trailing zeros of a fraction say nothing: "1.50G" is "1.5G". */
	while (frac_len && frac_start[frac_len - 1] == '0')
		frac_len--;
	if (frac_len > FRAC_DIGITS_MAX)
		return -EINVAL;
	for (i = 0; i < frac_len; i++) {
		frac = frac * 10 + (u128)(frac_start[i] - '0');
		pow10 *= 10;
	}
	/* frac < 10^19 < 2^64 and shift <= 40, so nothing here overflows. */
	frac <<= shift;
	if (frac % pow10)
		return -EDOM;	/* not a whole number of bytes */
	value = (value << shift) + frac / pow10;
	if (value > UINT64_MAX)
		return -ERANGE;
	*out = (uint64_t)value;
	return 0;
}

void ash_size_format(uint64_t bytes, char *buf, size_t len)
{
	static const char *const names[] = {
		"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB",
	};
	unsigned int i;
	u128 tenths = 0;

	if (bytes < 1024) {
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
		return;
	}
	/* Round to tenths in the unit first, then move up a unit if that
	 * made it 1024.0: 1048575 bytes is "1.0 MiB", not "1024.0 KiB". */
	for (i = 1;; i++) {
		u128 unit = (u128)1 << (10 * i);

		tenths = ((u128)bytes * 10 + unit / 2) / unit;
		if (tenths < 10240 || i + 1 == sizeof(names) / sizeof(names[0]))
			break;
	}
	snprintf(buf, len, "%llu.%llu %s", (unsigned long long)(tenths / 10),
		 (unsigned long long)(tenths % 10), names[i]);
}

void ash_size_format_exact(uint64_t bytes, char *buf, size_t len)
{
	static const char suffix[] = "KMGT";
	int i;

	for (i = 3; i >= 0 && bytes; i--) {
		uint64_t unit = 1ULL << (10 * (i + 1));

		if (bytes % unit == 0) {
			snprintf(buf, len, "%llu%c",
				 (unsigned long long)(bytes / unit), suffix[i]);
			return;
		}
	}
	snprintf(buf, len, "%llu", (unsigned long long)bytes);
}

int ash_num_parse(const char *s, uint64_t max, uint64_t *out)
{
	u128 value = 0;
	const char *p;

	if (!s || !*s)
		return -EINVAL;
	for (p = s; *p; p++)
		if (!is_digit(*p))
			return -EINVAL;
	for (p = s; *p; p++) {
		value = value * 10 + (u128)(*p - '0');
		if (value > max)
			return -ERANGE;
	}
	*out = (uint64_t)value;
	return 0;
}
