/* SPDX-License-Identifier: MIT */
/* Helpers the format parsers share (parse.c). */
#ifndef ACCELSHARE_MODEL_PARSE_H
#define ACCELSHARE_MODEL_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "format.h"

/* Little-endian integers at @p, which has no alignment. */
static inline uint64_t ash_le64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static inline uint32_t ash_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* Writes the message to @err and returns -EINVAL. */
int ash_parse_fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * First steps of both parsers: clears @hdr and @err, and refuses @len
 * bytes given of a file of @file_size (more than it has).  0 or -EINVAL.
 */
int ash_parse_start(struct ash_model_header *hdr, size_t len,
		    uint64_t file_size, char *err, size_t errlen);

/*
 * Last steps of both parsers: every tensor inside the @avail bytes of the
 * data section, sorted by offset, no two overlapping; sets data_size.
 */
int ash_parse_finish(struct ash_model_header *hdr, uint64_t avail,
		     char *err, size_t errlen);

#endif /* ACCELSHARE_MODEL_PARSE_H */
