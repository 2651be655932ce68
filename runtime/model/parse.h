/* SPDX-License-Identifier: MIT */
/* Helpers the format parsers share (parse.c). */
#ifndef ACCELSHARE_MODEL_PARSE_H
#define ACCELSHARE_MODEL_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "format.h"

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
