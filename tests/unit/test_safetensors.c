/* SPDX-License-Identifier: MIT */
/* The safetensors parser: every malformed case refused with its message,
 * valid files of every dtype, the "need more bytes" path. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dtype.h"
#include "model_files.h"
#include "model_test.h"

/* A file from header text with @data zero bytes of data. */
static void *raw(const char *json, size_t data, size_t *len)
{
	return mf_safetensors_raw(json, strlen(json), data, len);
}

#define T1(json, data, what) do { \
	size_t len_; \
	void *b_ = raw(json, data, &len_); \
	expect_inval(b_, len_, what); \
} while (0)

static void test_st_every_dtype(void **state)
{
	struct mf_tensor t[ASH_DTYPE_LAST_PLAIN];
	struct ash_model_header hdr;
	char names[ASH_DTYPE_LAST_PLAIN][32];
	int n = 0, d, i;
	size_t len;
	void *b;

	(void)state;
	for (d = ASH_DTYPE_FIRST; d <= ASH_DTYPE_LAST_PLAIN; d++) {
		snprintf(names[n], sizeof(names[n]), "t.%s", ash_dtype_name(d));
		t[n] = (struct mf_tensor){ names[n], d, 2, { 3, 4 } };
		n++;
	}
	b = mf_safetensors(t, n, NULL, &len);
	parse_ok(b, len, &hdr);
	assert_int_equal(hdr.format, ASH_FORMAT_SAFETENSORS);
	assert_int_equal(hdr.nr_tensors, n);
	assert_int_equal(hdr.alignment, 1);
	for (i = 0; i < n; i++) {
		const struct ash_model_tensor_info *ti = &hdr.tensors[i];

		/* sorted by offset = list order */
		assert_string_equal(ti->name, t[i].name);
		assert_int_equal(ti->dtype, t[i].dtype);
		assert_int_equal(ti->ndim, 2);
		assert_int_equal(ti->shape[1], 4);
		assert_int_equal(ti->bytes, mf_tensor_bytes(&t[i]));
	}
	/* the sub-byte types: 12 elements of 4 and 6 bits */
	assert_int_equal(mf_tensor_bytes(&t[ASH_DTYPE_F4 - 1]), 6);
	assert_int_equal(mf_tensor_bytes(&t[ASH_DTYPE_F6_E2M3 - 1]), 9);
	assert_int_equal(mf_tensor_bytes(&t[ASH_DTYPE_C64 - 1]), 96);
	assert_int_equal(hdr.data_offset + hdr.data_size, len);
	ash_model_header_free(&hdr);
	free(b);
}

static void test_st_zero_size_tensors(void **state)
{
	struct mf_tensor t[] = {
		{ "empty", ASH_DTYPE_F32, 1, { 0 } },
		{ "a", ASH_DTYPE_F16, 2, { 2, 2 } },
		{ "empty2", ASH_DTYPE_BF16, 3, { 5, 0, 7 } },
		{ "scalar", ASH_DTYPE_I64, 0, { 0 } },
		{ "empty4", ASH_DTYPE_F4, 1, { 0 } },
	};
	struct ash_model_header hdr;
	size_t len;
	void *b = mf_safetensors(t, 5, NULL, &len);

	(void)state;
	parse_ok(b, len, &hdr);
	assert_int_equal(hdr.nr_tensors, 5);
	assert_int_equal(hdr.data_size, 8 + 8);
	assert_string_equal(hdr.tensors[0].name, "empty");
	assert_int_equal(hdr.tensors[0].bytes, 0);
	ash_model_header_free(&hdr);
	free(b);
}

static void test_st_metadata_and_padding(void **state)
{
	struct mf_tensor t[] = { { "w", ASH_DTYPE_U8, 1, { 3 } } };
	struct ash_model_header hdr;
	size_t len;
	void *b = mf_safetensors(t, 1, "{\"format\":\"pt\",\"x\":\"y\"}",
				 &len);

	(void)state;
	parse_ok(b, len, &hdr);
	assert_int_equal(hdr.nr_metadata, 2);
	assert_int_equal(hdr.nr_tensors, 1);
	assert_int_equal(hdr.data_offset % 8, 0);
	ash_model_header_free(&hdr);
	free(b);
}

static void test_st_sorted_by_offset(void **state)
{
	const char *j = "{\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[2,4]},"
			"\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}";
	struct ash_model_header hdr;
	size_t len;
	void *b = raw(j, 4, &len);

	(void)state;
	parse_ok(b, len, &hdr);
	assert_string_equal(hdr.tensors[0].name, "a");
	assert_string_equal(hdr.tensors[1].name, "b");
	assert_int_equal(hdr.tensors[1].offset, 2);
	assert_int_equal(hdr.data_offset, 8 + strlen(j));
	assert_int_equal(hdr.data_size, 4);
	ash_model_header_free(&hdr);
	free(b);
}

static void test_st_need_more_bytes(void **state)
{
	struct mf_tensor t[] = { { "w", ASH_DTYPE_F32, 1, { 4 } } };
	struct ash_model_header hdr;
	char err[256];
	size_t len;
	uint8_t *b = mf_safetensors(t, 1, NULL, &len);
	uint64_t n = 0;
	int i;

	(void)state;
	for (i = 0; i < 8; i++)
		n |= (uint64_t)b[i] << (8 * i);
	assert_int_equal(ash_model_parse(b, 4, len, &hdr, err, sizeof(err)),
			 8);
	/* The ninth byte tells safetensors (a JSON object) from junk. */
	assert_int_equal(ash_model_parse(b, 8, len, &hdr, err, sizeof(err)),
			 9);
	assert_int_equal(ash_model_parse(b, 9, len, &hdr, err, sizeof(err)),
			 8 + n);
	assert_int_equal(ash_model_parse(b, 8 + n - 1, len, &hdr, err,
					 sizeof(err)), 8 + n);
	assert_int_equal(ash_model_parse(b, 8 + n, len, &hdr, err,
					 sizeof(err)), 0);
	ash_model_header_free(&hdr);
	free(b);
}

static void test_st_detected_by_content(void **state)
{
	struct mf_tensor t[] = { { "w", ASH_DTYPE_F32, 1, { 4 } } };
	struct ash_model_header hdr;
	size_t len;
	void *b = mf_safetensors(t, 1, NULL, &len);

	(void)state;
	/* whatever the file is called, its bytes decide */
	assert_int_equal(mf_write_file("/dev/null", b, len), 0);
	parse_ok(b, len, &hdr);
	assert_int_equal(hdr.format, ASH_FORMAT_SAFETENSORS);
	ash_model_header_free(&hdr);
	free(b);
}

static void test_st_truncated_file(void **state)
{
	(void)state;
	expect_inval(calloc(1, 5), 5, "truncated");
}

static void test_st_header_length_beyond_file(void **state)
{
	size_t len;
	uint8_t *b = raw("{}", 0, &len);

	(void)state;
	b[0] = 200;
	expect_inval(b, len, "runs past the end");
}

static void test_st_header_length_beyond_limit(void **state)
{
	size_t len;
	uint8_t *b = raw("{}", 0, &len);

	(void)state;
	b[4] = 1;	/* 4 GiB */
	expect_inval(b, len, "exceeds the limit");
}

static void test_st_header_too_short(void **state)
{
	(void)state;
	T1("{", 0, "too short");
}

static void test_st_invalid_json(void **state)
{
	(void)state;
	T1("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}", 1,
	   "invalid JSON");
	T1("{\"a\":1,}", 0, "invalid JSON");
	T1("{'a':1}", 0, "invalid JSON");
	T1("{\"__metadata__\":{\"a\":NaN}}", 0, "invalid JSON");
	T1("{\"__metadata__\":{\"a\":Infinity}}", 0, "invalid JSON");
	T1("{]}", 0, "invalid JSON");
	/* Not opening an object: neither format. */
	T1("]}", 0, "neither GGUF");
}

static void test_st_trailing_garbage(void **state)
{
	(void)state;
	T1("{}  x", 0, "invalid JSON");
	T1("{}{}", 0, "invalid JSON");
}

static void test_st_invalid_utf8(void **state)
{
	(void)state;
	T1("{\"\xff\":1}", 0, "UTF-8");
	T1("{\"\xc0\xaf\":1}", 0, "UTF-8");		/* overlong */
	T1("{\"\xed\xa0\x80\":1}", 0, "UTF-8");	/* surrogate */
	T1("{\"\xe2\x82\":1}", 0, "UTF-8");		/* cut short */
}

static void test_st_empty_name(void **state)
{
	(void)state;
	/* a lone surrogate escape decodes to no valid UTF-8 */
	T1("{\"\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[0,0]}}",
	   0, "tensor name");
}

static void test_st_control_and_nul(void **state)
{
	static const char j[] = "{\"a\0\":1}";
	size_t len;
	void *b = mf_safetensors_raw(j, sizeof(j) - 1, 0, &len);

	(void)state;
	expect_inval(b, len, "NUL");
	T1("{\"a\x01\":1}", 0, "control character");
}

static void test_st_not_an_object(void **state)
{
	(void)state;
	T1("[1, 2]", 0, "neither GGUF");
	T1("{\"a\":5}", 0, "not a JSON object");
}

static void test_st_duplicate_names(void **state)
{
	(void)state;
	T1("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
	   "\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}", 2,
	   "duplicate tensor name 'a'");
	/* the same name written two ways */
	T1("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
	   "\"\\u0061\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}",
	   2, "duplicate key");
}

static void test_st_duplicate_key_in_entry(void **state)
{
	(void)state;
	T1("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}",
	   1, "duplicate");
	T1("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0, "duplicate");
}

static void test_st_unknown_dtype(void **state)
{
	(void)state;
	T1("{\"a\":{\"dtype\":\"F128\",\"shape\":[1],\"data_offsets\":[0,16]}}",
	   16, "unknown dtype 'F128'");
	T1("{\"a\":{\"dtype\":\"Q4_0\",\"shape\":[32],\"data_offsets\":[0,18]}}",
	   18, "unknown dtype");
	T1("{\"a\":{\"dtype\":7,\"shape\":[1],\"data_offsets\":[0,1]}}", 1,
	   "dtype is not a string");
}

static void test_st_unknown_key(void **state)
{
	(void)state;
	T1("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1],\"x\":1}}",
	   1, "unknown key 'x'");
}

static void test_st_missing_key(void **state)
{
	(void)state;
	T1("{\"a\":{\"dtype\":\"U8\",\"data_offsets\":[0,1]}}", 1,
	   "missing 'shape'");
}

static void test_st_shape_numel_overflow(void **state)
{
	(void)state;
	T1("{\"a\":{\"dtype\":\"U8\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,0]}}",
	   0, "overflows");
	/* the element count fits, the bytes do not */
	T1("{\"a\":{\"dtype\":\"F64\",\"shape\":[4611686018427387904],\"data_offsets\":[0,0]}}",
	   0, "overflows");
}

static void test_st_shape_negative_or_not_integer(void **state)
{
	(void)state;
	T1("{\"a\":{\"dtype\":\"U8\",\"shape\":[-1],\"data_offsets\":[0,0]}}",
	   0, "shape entry 0");
	T1("{\"a\":{\"dtype\":\"U8\",\"shape\":[1.5],\"data_offsets\":[0,0]}}",
	   0, "shape entry 0");
	T1("{\"a\":{\"dtype\":\"U8\",\"shape\":[99999999999999999999],\"data_offsets\":[0,0]}}",
	   0, "shape entry 0");
	T1("{\"a\":{\"dtype\":\"U8\",\"shape\":3,\"data_offsets\":[0,3]}}",
	   3, "shape is not an array");
}

static void test_st_too_many_dims(void **state)
{
	(void)state;
	T1("{\"a\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}",
	   1, "more than 8");
}

static void test_st_nested_too_deep(void **state)
{
	(void)state;
	T1("{\"a\":{\"dtype\":\"U8\",\"shape\":[[1]],\"data_offsets\":[0,1]}}",
	   1, "nested deeper");
}

static void test_st_byte_length_mismatch(void **state)
{
	(void)state;
	T1("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,7]}}",
	   8, "make 8");
	/* 3 elements of 4 bits are not whole bytes */
	T1("{\"a\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,2]}}",
	   2, "whole number of bytes");
	T1("{\"a\":{\"dtype\":\"F6_E3M2\",\"shape\":[2],\"data_offsets\":[0,2]}}",
	   2, "whole number of bytes");
}

static void test_st_offsets_end_before_begin(void **state)
{
	(void)state;
	T1("{\"a\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[2,1]}}",
	   2, "before begin");
}

static void test_st_offsets_not_two_integers(void **state)
{
	(void)state;
	T1("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0]}}",
	   1, "data_offsets");
	T1("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[-1,0]}}",
	   1, "data_offsets");
}

static void test_st_offsets_beyond_file(void **state)
{
	(void)state;
	T1("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}}",
	   3, "beyond the end");
	T1("{\"a\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[9,9]}}",
	   3, "beyond the end");
}

static void test_st_offsets_overlap(void **state)
{
	(void)state;
	T1("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
	   "\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[3,7]}}", 8,
	   "overlap");
	/* the same range twice */
	T1("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
	   "\"b\":{\"dtype\":\"I8\",\"shape\":[4],\"data_offsets\":[0,4]}}", 8,
	   "overlap");
	/* one inside another */
	T1("{\"a\":{\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[0,8]},"
	   "\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[2,4]}}", 8,
	   "overlap");
}

/* The format forbids holes: tensors tile the data section exactly. */
static void test_st_holes_refused(void **state)
{
	(void)state;
	/* a gap between two tensors */
	T1("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
	   "\"b\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[5,9]}}", 9,
	   "no holes");
	/* the first tensor not at 0 */
	T1("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[2,6]}}",
	   6, "no holes");
	/* bytes after the last tensor */
	T1("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}}",
	   5, "1 bytes follow the last tensor");
	/* data but no tensor */
	T1("{}", 3, "3 bytes follow");
	/* an empty tensor away from the others is a hole too */
	T1("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
	   "\"z\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[2,2]}}", 4,
	   "no holes");
}

/* A file that is neither format says so. */
static void test_st_neither_format(void **state)
{
	static const char elf[] = "\x7f" "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0";
	static const char text[] = "hello, world: not a model file\n";
	struct ash_model_header hdr;
	char err[256];

	(void)state;
	assert_int_equal(ash_model_parse(elf, sizeof(elf) - 1, sizeof(elf) - 1,
					 &hdr, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "neither GGUF"));
	assert_int_equal(ash_model_parse(text, sizeof(text) - 1,
					 sizeof(text) - 1, &hdr, err,
					 sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "neither GGUF"));
}

static void test_st_metadata_not_strings(void **state)
{
	(void)state;
	T1("{\"__metadata__\":{\"k\":1}}", 0, "not a string");
	T1("{\"__metadata__\":[\"k\"]}", 0, "__metadata__ is not");
}

static void test_st_absurd_tensor_count(void **state)
{
	struct mf_buf j = { 0 };
	char key[32];
	unsigned i;
	size_t len;
	void *b;

	(void)state;
	mf_put(&j, "{", 1);
	for (i = 0; i <= ASH_MODEL_TENSORS_MAX + 1; i++) {
		int n = snprintf(key, sizeof(key), "%s\"%x\":0", i ? "," : "",
				 i);

		mf_put(&j, key, (size_t)n);
	}
	mf_put(&j, "}", 1);
	b = mf_safetensors_raw((char *)j.p, j.len, 0, &len);
	free(j.p);
	expect_inval(b, len, "more than 1048576 tensors");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_st_every_dtype),
		cmocka_unit_test(test_st_zero_size_tensors),
		cmocka_unit_test(test_st_metadata_and_padding),
		cmocka_unit_test(test_st_sorted_by_offset),
		cmocka_unit_test(test_st_need_more_bytes),
		cmocka_unit_test(test_st_detected_by_content),
		cmocka_unit_test(test_st_truncated_file),
		cmocka_unit_test(test_st_header_length_beyond_file),
		cmocka_unit_test(test_st_header_length_beyond_limit),
		cmocka_unit_test(test_st_header_too_short),
		cmocka_unit_test(test_st_invalid_json),
		cmocka_unit_test(test_st_trailing_garbage),
		cmocka_unit_test(test_st_invalid_utf8),
		cmocka_unit_test(test_st_empty_name),
		cmocka_unit_test(test_st_control_and_nul),
		cmocka_unit_test(test_st_not_an_object),
		cmocka_unit_test(test_st_duplicate_names),
		cmocka_unit_test(test_st_duplicate_key_in_entry),
		cmocka_unit_test(test_st_unknown_dtype),
		cmocka_unit_test(test_st_unknown_key),
		cmocka_unit_test(test_st_missing_key),
		cmocka_unit_test(test_st_shape_numel_overflow),
		cmocka_unit_test(test_st_shape_negative_or_not_integer),
		cmocka_unit_test(test_st_too_many_dims),
		cmocka_unit_test(test_st_nested_too_deep),
		cmocka_unit_test(test_st_byte_length_mismatch),
		cmocka_unit_test(test_st_offsets_end_before_begin),
		cmocka_unit_test(test_st_offsets_not_two_integers),
		cmocka_unit_test(test_st_offsets_beyond_file),
		cmocka_unit_test(test_st_offsets_overlap),
		cmocka_unit_test(test_st_holes_refused),
		cmocka_unit_test(test_st_neither_format),
		cmocka_unit_test(test_st_metadata_not_strings),
		cmocka_unit_test(test_st_absurd_tensor_count),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
