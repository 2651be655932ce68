/* SPDX-License-Identifier: MIT */
/*
 * Reading a model file's header: ash_model_parse() on the file's first
 * bytes, and on more of them while it asks for more (format.h).  The one
 * place both the loader and ash-model read headers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format.h"

/* Bytes read before the first parse: most headers fit. */
#define FIRST_READ	(1ULL << 20)

/*
 * The parser asks for more than it had each time and never past
 * ASH_MODEL_HEADER_MAX, so it stops asking within
 * log2(ASH_MODEL_HEADER_MAX / FIRST_READ) + 1 rounds; this is a
 * backstop against a parser that breaks its promise.
 */
#define MAX_ROUNDS	32

/* pread() exactly @len bytes at @off: 0, -EIO at end of file, -errno. */
static int pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	char *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);

		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

int ash_model_read_header(int fd, uint64_t size, struct ash_model_header *hdr,
			  char *err, size_t errlen)
{
	size_t len = size < FIRST_READ ? (size_t)size : FIRST_READ;
	void *buf = NULL;
	int ret = -EINVAL, round;

	if (err && errlen)
		err[0] = '\0';
	for (round = 0; round < MAX_ROUNDS; round++) {
		void *nb = realloc(buf, len ? len : 1);

		if (!nb) {
			ret = -ENOMEM;
			break;
		}
		buf = nb;
		ret = pread_full(fd, buf, len, 0);
		if (ret)
			break;
		ret = ash_model_parse(buf, len, size, hdr, err, errlen);
		if (ret <= 0)
			break;
		if ((uint64_t)ret <= len || (uint64_t)ret > size) {
			snprintf(err, errlen,
				 "the parser asked for %d bytes after %zu", ret,
				 len);
			ret = -EINVAL;
			break;
		}
		len = (size_t)ret;
		ret = -EINVAL;
	}
	free(buf);
	return ret;
}
