/* SPDX-License-Identifier: MIT */
/* Helpers shared by test_safetensors.c and test_gguf.c. */
#ifndef ACCELSHARE_TESTS_MODEL_TEST_H
#define ACCELSHARE_TESTS_MODEL_TEST_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"

/* Parses the whole buffer as a whole file; expects -EINVAL and a message
 * holding @what; frees @buf. */
static inline void expect_inval_(void *buf, size_t len, const char *what,
				 const char *file, int line)
{
	struct ash_model_header hdr;
	char err[512] = "";
	int ret = ash_model_parse(buf, len, len, &hdr, err, sizeof(err));

	if (ret != -EINVAL || !strstr(err, what)) {
		fprintf(stderr, "%s:%d: ret %d, message '%s', wanted '%s'\n",
			file, line, ret, err, what);
		if (!ret)
			ash_model_header_free(&hdr);
		free(buf);
		_fail(file, line);
		return;
	}
	/* a failed parse leaves nothing to free */
	if (hdr.tensors || hdr.nr_tensors) {
		free(buf);
		_fail(file, line);
		return;
	}
	free(buf);
}
#define expect_inval(buf, len, what) \
	expect_inval_(buf, len, what, __FILE__, __LINE__)

/* Parses the whole buffer; expects success. */
static inline void parse_ok_(const void *buf, size_t len,
			     struct ash_model_header *hdr, const char *file,
			     int line)
{
	char err[512] = "";
	int ret = ash_model_parse(buf, len, len, hdr, err, sizeof(err));

	if (ret) {
		fprintf(stderr, "%s:%d: ret %d, message '%s'\n", file, line,
			ret, err);
		_fail(file, line);
	}
}
#define parse_ok(buf, len, hdr) parse_ok_(buf, len, hdr, __FILE__, __LINE__)

#endif /* ACCELSHARE_TESTS_MODEL_TEST_H */
