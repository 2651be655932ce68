/* SPDX-License-Identifier: MIT */
/*
 * One fuzz input through a parser twice: as a whole file, and as the first
 * half of a file as long as the input, where the parser may only ask for
 * more bytes within the file.  Any other result than 0, -EINVAL, -ENOMEM
 * or a valid request, or a successful parse whose tensors leave the file,
 * aborts.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "format.h"

typedef int (*parse_fn)(const void *, size_t, uint64_t,
			struct ash_model_header *, char *, size_t);

static void check(parse_fn parse, const uint8_t *data, size_t size)
{
	struct ash_model_header hdr;
	char err[256];
	int ret, i;

	ret = parse(data, size, size, &hdr, err, sizeof(err));
	if (ret > 0 || (ret < 0 && ret != -EINVAL && ret != -ENOMEM))
		abort();
	if (!ret) {
		if (hdr.data_offset > size ||
		    hdr.data_size > size - hdr.data_offset)
			abort();
		for (i = 1; i < hdr.nr_tensors; i++)
			if (hdr.tensors[i].offset < hdr.tensors[i - 1].offset)
				abort();
		ash_model_header_free(&hdr);
	}
	ret = parse(data, size / 2, size, &hdr, err, sizeof(err));
	if (ret > 0 && ((size_t)ret <= size / 2 || (size_t)ret > size))
		abort();
	if (!ret)
		ash_model_header_free(&hdr);
}
