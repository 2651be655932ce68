/* SPDX-License-Identifier: MIT */
/*
 * The model parsers on files the formats' own writers wrote: ggml-org's
 * gguf-py and Hugging Face's safetensors (tests/python/write_model_refs.py,
 * run by the Makefile into $(BUILD)/model-refs).  For each file refs.json
 * says what the writers' own readers see -- every tensor's name, dtype,
 * shape (outermost first), file offset, size and the FNV-1a hash of its
 * bytes -- and ash_model_read_header() must find exactly that; the files
 * the format forbids must be refused with the sentence named.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "format.h"
#include "dtype.h"

#ifndef ASH_MODEL_REFS_DIR
#define ASH_MODEL_REFS_DIR "build/model-refs"
#endif

static struct json_object *refs;

static const char *dir(void)
{
	const char *d = getenv("ASH_MODEL_REFS");

	return d && *d ? d : ASH_MODEL_REFS_DIR;
}

static uint64_t fnv1a64(const uint8_t *p, uint64_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (n--) {
		h ^= *p++;
		h *= 0x100000001b3ull;
	}
	return h;
}

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("refs.json: no \"%s\"", key);
	return v;
}

/* The file's header, parsed; its bytes in *@blob. */
static int parse(const char *name, struct ash_model_header *hdr,
		 uint8_t **blob, uint64_t *size, char *err, size_t errlen)
{
	char path[4096];
	struct stat st;
	int fd, ret;

	snprintf(path, sizeof(path), "%s/%s", dir(), name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0 && !fstat(fd, &st));
	*size = (uint64_t)st.st_size;
	*blob = malloc(*size + 1);
	assert_non_null(*blob);
	assert_int_equal(pread(fd, *blob, *size, 0), (ssize_t)*size);
	ret = ash_model_read_header(fd, *size, hdr, err, errlen);
	close(fd);
	return ret;
}

static void parsed_as_the_writers_read_them(void **state)
{
	struct json_object *files = get(refs, "parsed");
	size_t i, j, k;

	(void)state;
	assert_true(json_object_array_length(files) >= 4);
	for (i = 0; i < json_object_array_length(files); i++) {
		struct json_object *f = json_object_array_get_idx(files, i);
		struct json_object *ts = get(f, "tensors");
		const char *name = json_object_get_string(get(f, "file"));
		const char *format = json_object_get_string(get(f, "format"));
		struct ash_model_header hdr;
		char err[256] = "";
		uint8_t *blob;
		uint64_t size;

		if (parse(name, &hdr, &blob, &size, err, sizeof(err)))
			fail_msg("%s: refused: %s", name, err);
		assert_int_equal(hdr.format, !strcmp(format, "GGUF") ?
				 ASH_FORMAT_GGUF : ASH_FORMAT_SAFETENSORS);
		if ((size_t)hdr.nr_tensors != json_object_array_length(ts))
			fail_msg("%s: %d tensors, the writer wrote %zu", name,
				 hdr.nr_tensors, json_object_array_length(ts));
		for (j = 0; j < json_object_array_length(ts); j++) {
			struct json_object *t = json_object_array_get_idx(ts, j);
			struct json_object *shape = get(t, "shape");
			const char *tn = json_object_get_string(get(t, "name"));
			const struct ash_model_tensor_info *ti = NULL;
			uint64_t off, bytes;

			for (k = 0; k < (size_t)hdr.nr_tensors; k++)
				if (!strcmp(hdr.tensors[k].name, tn))
					ti = &hdr.tensors[k];
			if (!ti)
				fail_msg("%s: no tensor '%s'", name, tn);
			if (strcmp(ash_dtype_name(ti->dtype),
				   json_object_get_string(get(t, "dtype"))))
				fail_msg("%s: '%s' is %s, the writer says %s", name,
					 tn, ash_dtype_name(ti->dtype),
					 json_object_get_string(get(t, "dtype")));
			if ((size_t)ti->ndim != json_object_array_length(shape))
				fail_msg("%s: '%s' has %d dimensions, the writer %zu",
					 name, tn, ti->ndim,
					 json_object_array_length(shape));
			for (k = 0; k < (size_t)ti->ndim; k++)
				if (ti->shape[k] != (uint64_t)json_object_get_int64(
					    json_object_array_get_idx(shape, k)))
					fail_msg("%s: '%s' dimension %zu is %llu, the writer's %lld",
						 name, tn, k,
						 (unsigned long long)ti->shape[k],
						 (long long)json_object_get_int64(
							 json_object_array_get_idx(shape, k)));
			off = hdr.data_offset + ti->offset;
			bytes = (uint64_t)json_object_get_int64(get(t, "bytes"));
			assert_int_equal(off, json_object_get_int64(get(t, "offset")));
			assert_int_equal(ti->bytes, bytes);
			assert_true(off + bytes <= size);
			if (strtoull(json_object_get_string(get(t, "fnv")), NULL, 16) !=
			    fnv1a64(blob + off, bytes))
				fail_msg("%s: '%s': its bytes are not the writer's",
					 name, tn);
		}
		ash_model_header_free(&hdr);
		free(blob);
	}
}

static void forbidden_files_refused(void **state)
{
	struct json_object *files = get(refs, "refused");
	size_t i;

	(void)state;
	assert_true(json_object_array_length(files) >= 3);
	for (i = 0; i < json_object_array_length(files); i++) {
		struct json_object *f = json_object_array_get_idx(files, i);
		const char *name = json_object_get_string(get(f, "file"));
		const char *want = json_object_get_string(get(f, "error"));
		struct ash_model_header hdr;
		char err[256] = "";
		uint8_t *blob;
		uint64_t size;
		int ret = parse(name, &hdr, &blob, &size, err, sizeof(err));

		if (ret != -EINVAL || !strstr(err, want))
			fail_msg("%s: %d, '%s'; expected -EINVAL saying '%s'",
				 name, ret, err, want);
		free(blob);
	}
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(parsed_as_the_writers_read_them),
		cmocka_unit_test(forbidden_files_refused),
	};
	char path[4096];
	int ret;

	snprintf(path, sizeof(path), "%s/refs.json", dir());
	refs = json_object_from_file(path);
	if (!refs) {
		fprintf(stderr, "test_model_refs: cannot read %s (make model-refs)\n",
			path);
		return 1;
	}
	ret = cmocka_run_group_tests(tests, NULL, NULL);
	json_object_put(refs);
	return ret;
}
