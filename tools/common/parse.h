/* SPDX-License-Identifier: MIT */
/*
 * Parsing and formatting of the numbers people type and read: sizes with
 * binary unit suffixes, and plain bounded integers.  No I/O, so that the
 * unit tests can cover every corner.
 */
#ifndef ACCELSHARE_TOOLS_PARSE_H
#define ACCELSHARE_TOOLS_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* Long enough for any ash_size_format() result, e.g. "1023.9 KiB". */
#define ASH_SIZE_STR_MAX 16

/*
 * ash_size_parse() - parse a byte count such as "4096", "512M", "4GiB" or
 * "1.5G"
 *
 * Digits, an optional fraction, and an optional unit: B, K, M, G, T (case
 * does not matter), each of the last four optionally spelled KiB, MiB, GiB,
 * TiB.  Units are powers of 1024.  A fraction is accepted only if the result
 * is a whole number of bytes.
 *
 * Return: 0; -EINVAL for an empty, signed or malformed string or an unknown
 * unit; -EDOM for a fraction that is not a whole number of bytes ("0.1K");
 * -ERANGE if the value does not fit in 64 bits.
 */
int ash_size_parse(const char *s, uint64_t *out);

/* ash_size_format() - "512 B", "1.5 GiB": one decimal, binary units */
void ash_size_format(uint64_t bytes, char *buf, size_t len);

/*
 * ash_size_format_exact() - the size as ash_size_parse() reads it back
 * exactly: the largest of the units T, G, M, K that divides it ("4G",
 * "1536M"), else plain bytes ("4097").
 */
void ash_size_format_exact(uint64_t bytes, char *buf, size_t len);

/*
 * ash_num_parse() - parse a decimal integer 0..@max: digits only, no sign,
 * no spaces.  Return: 0, -EINVAL for junk, -ERANGE above @max.
 */
int ash_num_parse(const char *s, uint64_t max, uint64_t *out);

#endif /* ACCELSHARE_TOOLS_PARSE_H */
