/* SPDX-License-Identifier: MIT */
/*
 * ash_model_parse(): detects a model file's format by its first bytes and
 * hands it to that format's parser; what the parsers share.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

int ash_parse_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

int ash_parse_start(struct ash_model_header *hdr, size_t len,
		    uint64_t file_size, char *err, size_t errlen)
{
	memset(hdr, 0, sizeof(*hdr));
	if (err && errlen)
		err[0] = '\0';
	if (len > file_size)
		return ash_parse_fail(err, errlen,
			"%zu bytes given of a file of %" PRIu64, len,
			file_size);
	return 0;
}

static int by_offset(const void *a, const void *b)
{
	const struct ash_model_tensor_info *x = a, *y = b;

	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? -1 : 1;
	return strcmp(x->name, y->name);
}

int ash_parse_finish(struct ash_model_header *hdr, uint64_t avail,
		     char *err, size_t errlen)
{
	const struct ash_model_tensor_info *last = NULL;
	uint64_t end = 0;
	int i;

	for (i = 0; i < hdr->nr_tensors; i++) {
		const struct ash_model_tensor_info *t = &hdr->tensors[i];

		if (t->offset > avail || t->bytes > avail - t->offset)
			return ash_parse_fail(err, errlen,
				"tensor '%s': data at %" PRIu64 "+%" PRIu64
				" lies beyond the end of the file (%" PRIu64
				" bytes of data)", t->name, t->offset,
				t->bytes, avail);
	}
	if (hdr->nr_tensors > 1)
		qsort(hdr->tensors, (size_t)hdr->nr_tensors,
		      sizeof(*hdr->tensors), by_offset);
	/* Empty tensors take no room and overlap nothing. */
	for (i = 0; i < hdr->nr_tensors; i++) {
		const struct ash_model_tensor_info *t = &hdr->tensors[i];

		if (!t->bytes)
			continue;
		if (last && t->offset < end)
			return ash_parse_fail(err, errlen,
				"tensors '%s' and '%s' overlap", last->name,
				t->name);
		end = t->offset + t->bytes;
		last = t;
	}
	hdr->data_size = 0;
	for (i = 0; i < hdr->nr_tensors; i++) {
		const struct ash_model_tensor_info *t = &hdr->tensors[i];

		if (t->offset + t->bytes > hdr->data_size)
			hdr->data_size = t->offset + t->bytes;
	}
	return 0;
}

void ash_model_header_free(struct ash_model_header *hdr)
{
	int i;

	if (!hdr)
		return;
	for (i = 0; hdr->tensors && i < hdr->nr_tensors; i++)
		free(hdr->tensors[i].name);
	free(hdr->tensors);
	free(hdr->meta);
	free(hdr->kvs);
	memset(hdr, 0, sizeof(*hdr));
}

int ash_model_parse(const void *buf, size_t len, uint64_t file_size,
		    struct ash_model_header *hdr, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	memset(hdr, 0, sizeof(*hdr));
	if (len > file_size)
		return ash_parse_fail(err, errlen,
			"%zu bytes given of a file of %" PRIu64, len,
			file_size);
	/* Both formats start with at least 8 bytes: magic and version, or
	 * the header length. */
	if (file_size < 8)
		return ash_parse_fail(err, errlen,
			"truncated: a file of %" PRIu64
			" bytes is too short for any model format", file_size);
	if (len < 8)
		return 8;
	if (!memcmp(buf, "GGUF", 4))
		return ash_gguf_parse(buf, len, file_size, hdr, err, errlen);
	/*
	 * Safetensors: a little-endian header length, then a JSON object.
	 * Anything else is neither format, said as such rather than as a
	 * safetensors header of absurd length.
	 */
	if (file_size >= 9 && len < 9)
		return 9;
	if (file_size < 9 || ((const unsigned char *)buf)[8] != '{')
		return ash_parse_fail(err, errlen,
			"not a model file: neither GGUF (no \"GGUF\" magic) nor safetensors (no header length followed by a JSON object)");
	return ash_safetensors_parse(buf, len, file_size, hdr, err, errlen);
}
