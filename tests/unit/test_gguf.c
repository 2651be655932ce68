/* SPDX-License-Identifier: MIT */
/* The GGUF parser: every malformed case refused with its message, valid
 * files of every ggml type, metadata of every type, the "need more bytes"
 * path. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dtype.h"
#include <stdio.h>
#include <unistd.h>

#include "model_files.h"
#include "model_test.h"

enum { U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 };

/* Header start: magic, version, counts. */
static void start(struct mf_buf *b, uint32_t version, uint64_t nt,
		  uint64_t nkv)
{
	mf_put(b, "GGUF", 4);
	mf_u32(b, version);
	mf_u64(b, nt);
	mf_u64(b, nkv);
}

/* One tensor info. */
static void info(struct mf_buf *b, const char *name, uint32_t ndim,
		 const uint64_t *dims, uint32_t type, uint64_t off)
{
	uint32_t i;

	mf_str(b, name);
	mf_u32(b, ndim);
	for (i = 0; i < ndim; i++)
		mf_u64(b, dims[i]);
	mf_u32(b, type);
	mf_u64(b, off);
}

/* Pads to 32 and adds @n bytes of data. */
static void data(struct mf_buf *b, size_t n)
{
	mf_pad(b, 32);
	while (n--)
		mf_u8(b, 0);
}

static const uint64_t d32[] = { 32 };

/* A file of one F32 tensor of @n elements, with a u32 KV "a". */
static struct mf_buf one(uint32_t version, uint64_t n)
{
	struct mf_buf b = { 0 };
	uint64_t dims[] = { n };

	start(&b, version, 1, 1);
	mf_str(&b, "a");
	mf_u32(&b, U32);
	mf_u32(&b, 7);
	info(&b, "t", 1, dims, 0, 0);
	data(&b, 4 * n);
	return b;
}

static void test_gguf_every_type(void **state)
{
	struct mf_tensor t[64];
	char names[64][32];
	struct ash_model_header hdr;
	uint32_t version;
	int n = 0, d, i;
	size_t len;
	void *b;

	(void)state;
	for (d = ASH_DTYPE_FIRST; d <= ASH_DTYPE_LAST_QUANT; d++) {
		const struct ash_dtype_info *di = ash_dtype_info(d);

		if (!di || di->ggml_type < 0)
			continue;
		snprintf(names[n], sizeof(names[n]), "blk.%s", di->name);
		t[n] = (struct mf_tensor){ names[n], d, 2,
					   { 2 * di->block, 3 } };
		n++;
	}
	assert_int_equal(n, 8 + 27);	/* 8 plain, 27 quantized */
	for (version = 2; version <= 3; version++) {
		b = mf_gguf(t, n, version, 0, &len);
		parse_ok(b, len, &hdr);
		assert_int_equal(hdr.format, ASH_FORMAT_GGUF);
		assert_int_equal(hdr.alignment, 32);
		assert_int_equal(hdr.nr_metadata, 1);
		assert_int_equal(hdr.nr_tensors, n);
		assert_int_equal(hdr.data_offset % 32, 0);
		for (i = 0; i < n; i++) {
			const struct ash_model_tensor_info *ti =
				&hdr.tensors[i];

			assert_string_equal(ti->name, t[i].name);
			assert_int_equal(ti->dtype, t[i].dtype);
			assert_int_equal(ti->bytes,
				6 * ash_dtype_info(t[i].dtype)->block_bytes);
			assert_int_equal(ti->offset % 32, 0);
		}
		assert_true(hdr.data_offset + hdr.data_size <= len);
		ash_model_header_free(&hdr);
		free(b);
	}
}

static void test_gguf_quant_sizes(void **state)
{
	(void)state;
	/* spot checks against ggml-common.h */
	assert_int_equal(ash_dtype_info(ASH_DTYPE_Q4_0)->block_bytes, 18);
	assert_int_equal(ash_dtype_info(ASH_DTYPE_Q4_K)->block_bytes, 144);
	assert_int_equal(ash_dtype_info(ASH_DTYPE_Q6_K)->block_bytes, 210);
	assert_int_equal(ash_dtype_info(ASH_DTYPE_IQ4_XS)->block_bytes, 136);
	assert_int_equal(ash_dtype_info(ASH_DTYPE_MXFP4)->block_bytes, 17);
	assert_int_equal(ash_dtype_from_ggml(12), ASH_DTYPE_Q4_K);
	assert_int_equal(ash_dtype_from_ggml(30), ASH_DTYPE_BF16);
	assert_int_equal(ash_dtype_from_ggml(4), ASH_DTYPE_INVALID);
	assert_int_equal(ash_dtype_from_ggml(31), ASH_DTYPE_INVALID);
	assert_string_equal(ash_dtype_name(ASH_DTYPE_IQ2_XXS), "IQ2_XXS");
	assert_string_equal(ash_dtype_name(1000), "invalid");
}

static void test_gguf_zero_size_tensors(void **state)
{
	struct mf_tensor t[] = {
		{ "e", ASH_DTYPE_F32, 2, { 0, 4 } },
		{ "q", ASH_DTYPE_Q8_0, 2, { 32, 0 } },
		{ "w", ASH_DTYPE_F16, 1, { 4 } },
	};
	struct ash_model_header hdr;
	size_t len;
	void *b = mf_gguf(t, 3, 3, 0, &len);

	(void)state;
	parse_ok(b, len, &hdr);
	assert_int_equal(hdr.nr_tensors, 3);
	assert_int_equal(hdr.data_size, 8);
	ash_model_header_free(&hdr);
	free(b);
}

/*
 * Metadata and no tensors, ending right after the metadata without the
 * padding to the alignment: gguf-py writes vocabularies so, ggml reads
 * them.  A file with a tensor still needs its padding.
 */
static void test_gguf_no_tensors_no_padding(void **state)
{
	struct ash_model_header hdr;
	struct mf_buf b = { 0 };
	uint64_t i;

	(void)state;
	start(&b, 3, 0, 2);
	mf_str(&b, "general.architecture");
	mf_u32(&b, STR);
	mf_str(&b, "llama");
	mf_str(&b, "tokenizer.ggml.tokens");
	mf_u32(&b, ARR);
	mf_u32(&b, STR);
	mf_u64(&b, 3);
	mf_str(&b, "<s>");
	mf_str(&b, "hello");
	mf_str(&b, "x");
	assert_true(b.len % 32 != 0);		/* really unpadded */
	parse_ok(b.p, b.len, &hdr);
	assert_int_equal(hdr.nr_tensors, 0);
	assert_int_equal(hdr.nr_metadata, 2);
	assert_true(hdr.data_offset <= b.len);
	ash_model_header_free(&hdr);
	free(b.p);

	b = (struct mf_buf){ 0 };
	start(&b, 3, 1, 0);
	info(&b, "t", 1, d32, 0, 0);
	for (i = 0; i < 4; i++)
		mf_u8(&b, 0);		/* 4 bytes, no padding, no data */
	expect_inval(b.p, b.len, "truncated");
}

/*
 * A real vocabulary's metadata runs to tens of MiB: ash_model_read_header()
 * reads as far as the parser asks (it gave up at 8 MiB once).  40 MiB of
 * token strings in a file, read back from disk.
 */
static void test_gguf_large_metadata_read(void **state)
{
	char path[] = "/tmp/ash-test-gguf-XXXXXX";
	struct ash_model_header hdr;
	struct mf_buf b = { 0 };
	char err[256], tok[64];
	uint64_t i, n = 1500000;
	int fd;

	(void)state;
	start(&b, 3, 1, 1);
	mf_str(&b, "tokenizer.ggml.tokens");
	mf_u32(&b, ARR);
	mf_u32(&b, STR);
	mf_u64(&b, n);
	for (i = 0; i < n; i++) {
		snprintf(tok, sizeof(tok), "token-%019llu", (unsigned long long)i);
		mf_str(&b, tok);
	}
	info(&b, "t", 1, d32, 0, 0);
	data(&b, 4 * 32);
	assert_true(b.len > (40u << 20));
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, b.p, b.len), (ssize_t)b.len);
	assert_int_equal(ash_model_read_header(fd, b.len, &hdr, err, sizeof(err)), 0);
	assert_int_equal(hdr.nr_metadata, 1);
	assert_int_equal(hdr.nr_tensors, 1);
	assert_int_equal(hdr.data_offset, b.len - 4 * 32);
	ash_model_header_free(&hdr);
	/* Cut inside the metadata: the file's end, not a read limit. */
	assert_int_equal(ftruncate(fd, 30 << 20), 0);
	assert_int_equal(ash_model_read_header(fd, 30 << 20, &hdr, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "truncated"));
	close(fd);
	unlink(path);
	free(b.p);
}

/*
 * GGUF lists dimensions innermost first (ggml's ne[0] is the row length);
 * struct ash_tensor holds them outermost first, as safetensors and NumPy
 * do, so that shape[ndim - 1] is the row for both formats.
 */
static void test_gguf_shape_outermost_first(void **state)
{
	static const uint64_t ne[] = { 32, 3, 2 };	/* row of 32, 3 rows, 2 */
	struct ash_model_header hdr;
	struct mf_buf b = { 0 };

	(void)state;
	start(&b, 3, 1, 0);
	info(&b, "w", 3, ne, 8, 0);		/* Q8_0: rows of whole blocks */
	data(&b, 6 * 34);
	parse_ok(b.p, b.len, &hdr);
	assert_int_equal(hdr.tensors[0].ndim, 3);
	assert_int_equal(hdr.tensors[0].shape[0], 2);
	assert_int_equal(hdr.tensors[0].shape[1], 3);
	assert_int_equal(hdr.tensors[0].shape[2], 32);
	assert_int_equal(hdr.tensors[0].bytes, 6 * 34);
	ash_model_header_free(&hdr);
	free(b.p);
}

static void test_gguf_alignment_honoured(void **state)
{
	struct mf_tensor t[] = {
		{ "a", ASH_DTYPE_F32, 1, { 3 } },
		{ "b", ASH_DTYPE_F32, 1, { 3 } },
	};
	struct ash_model_header hdr;
	size_t len;
	void *b = mf_gguf(t, 2, 3, 256, &len);

	(void)state;
	parse_ok(b, len, &hdr);
	assert_int_equal(hdr.alignment, 256);
	assert_int_equal(hdr.nr_metadata, 2);
	assert_int_equal(hdr.data_offset % 256, 0);
	assert_int_equal(hdr.tensors[1].offset, 256);
	assert_int_equal(hdr.data_size, 256 + 12);
	ash_model_header_free(&hdr);
	free(b);
}

static void test_gguf_metadata_every_type(void **state)
{
	struct ash_model_header hdr;
	struct mf_buf b = { 0 };
	char key[16];
	int ty;

	(void)state;
	start(&b, 3, 1, 13 + 2);
	for (ty = U8; ty <= F64; ty++) {
		snprintf(key, sizeof(key), "k%d", ty);
		mf_str(&b, key);
		mf_u32(&b, (uint32_t)ty);
		switch (ty) {
		case STR:
			mf_str(&b, "value");
			break;
		case ARR:	/* an array of strings */
			mf_u32(&b, STR);
			mf_u64(&b, 2);
			mf_str(&b, "x");
			mf_str(&b, "");
			break;
		case U16: case I16:
			mf_u8(&b, 0);
			mf_u8(&b, 0);
			break;
		case U32: case I32: case F32:
			mf_u32(&b, 1);
			break;
		case U64: case I64: case F64:
			mf_u64(&b, 1);
			break;
		default:
			mf_u8(&b, 1);
		}
	}
	/* an array of arrays of u16, an empty array */
	mf_str(&b, "nested");
	mf_u32(&b, ARR);
	mf_u32(&b, ARR);
	mf_u64(&b, 2);
	mf_u32(&b, U16);
	mf_u64(&b, 3);
	mf_put(&b, "\1\0\2\0\3\0", 6);
	mf_u32(&b, U16);
	mf_u64(&b, 0);
	mf_str(&b, "empty");
	mf_u32(&b, ARR);
	mf_u32(&b, F64);
	mf_u64(&b, 0);
	info(&b, "t", 1, d32, 0, 0);
	data(&b, 128);
	parse_ok(b.p, b.len, &hdr);
	assert_int_equal(hdr.nr_metadata, 15);
	assert_int_equal(hdr.tensors[0].bytes, 128);
	ash_model_header_free(&hdr);
	free(b.p);
}

static void test_gguf_need_more_bytes(void **state)
{
	/* a 2 MiB string in the metadata: more than the first try */
	size_t big = 2u << 20;
	struct ash_model_header hdr;
	struct mf_buf b = { 0 };
	char *s = malloc(big + 1), err[256];
	size_t len = 64;
	int ret, tries = 0;

	(void)state;
	memset(s, 'x', big);
	s[big] = 0;
	start(&b, 3, 1, 1);
	mf_str(&b, "blob");
	mf_u32(&b, STR);
	mf_str(&b, s);
	free(s);
	info(&b, "t", 1, d32, 0, 0);
	data(&b, 128);
	assert_int_equal(ash_model_parse(b.p, 4, b.len, &hdr, err,
					 sizeof(err)), 8);
	while ((ret = ash_model_parse(b.p, len, b.len, &hdr, err,
				      sizeof(err))) > 0) {
		assert_true((size_t)ret > len);
		assert_true((size_t)ret <= b.len);
		len = (size_t)ret;
		tries++;
	}
	assert_int_equal(ret, 0);
	assert_true(tries >= 2 && tries <= 4);
	assert_int_equal(hdr.nr_tensors, 1);
	ash_model_header_free(&hdr);
	free(b.p);
}

static void test_gguf_header_beyond_limit(void **state)
{
	struct ash_model_header hdr;
	struct mf_buf b = { 0 };
	char err[256];

	(void)state;
	start(&b, 3, 0, 1);
	mf_u64(&b, ASH_MODEL_HEADER_MAX + 1);	/* a key longer than all */
	mf_put(&b, "k", 1);
	/* the file is said to be large; only the start is given */
	assert_int_equal(ash_model_parse(b.p, b.len, 1ULL << 40, &hdr, err,
					 sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "metadata key"));
	free(b.p);
	b = (struct mf_buf){ 0 };
	start(&b, 3, 0, 1);
	mf_str(&b, "k");
	mf_u32(&b, STR);
	mf_u64(&b, ASH_MODEL_HEADER_MAX);
	assert_int_equal(ash_model_parse(b.p, b.len, 1ULL << 40, &hdr, err,
					 sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "longer than the limit"));
	free(b.p);
}

static void test_gguf_detected_by_content(void **state)
{
	struct mf_tensor t[] = { { "w", ASH_DTYPE_F32, 1, { 4 } } };
	struct ash_model_header hdr;
	size_t len;
	void *b = mf_gguf(t, 1, 3, 0, &len);

	(void)state;
	parse_ok(b, len, &hdr);
	assert_int_equal(hdr.format, ASH_FORMAT_GGUF);
	ash_model_header_free(&hdr);
	/* and the GGUF parser refuses what is not GGUF */
	assert_int_equal(ash_gguf_parse("GGUX\3\0\0\0", 8, 8, &hdr, NULL, 0),
			 -EINVAL);
	free(b);
}

static void test_gguf_truncated(void **state)
{
	struct mf_buf b = one(3, 8);
	size_t cut;

	(void)state;
	/* cut anywhere in the header: refused, never read past */
	for (cut = 8; cut < 24 + 8 + 1 + 4 + 4 + 8 + 1 + 4 + 8 + 4 + 8;
	     cut++) {
		void *c = malloc(cut);

		memcpy(c, b.p, cut);
		expect_inval(c, cut, "truncated");
	}
	free(b.p);
}

static void test_gguf_version_1(void **state)
{
	struct mf_buf b = one(1, 8);

	(void)state;
	expect_inval(b.p, b.len, "version 1 is not supported");
}

static void test_gguf_version_unknown(void **state)
{
	struct mf_buf b = one(4, 8);

	(void)state;
	expect_inval(b.p, b.len, "unsupported GGUF version 4");
	b = one(0x03000000, 8);		/* big-endian */
	expect_inval(b.p, b.len, "little-endian");
}

static void test_gguf_absurd_tensor_count(void **state)
{
	struct mf_buf b = { 0 };

	(void)state;
	start(&b, 3, ASH_MODEL_TENSORS_MAX + 1ULL, 0);
	data(&b, 64);
	expect_inval(b.p, b.len, "tensor count");
}

static void test_gguf_absurd_kv_count(void **state)
{
	struct mf_buf b = { 0 };

	(void)state;
	start(&b, 3, 0, UINT64_MAX);
	data(&b, 64);
	expect_inval(b.p, b.len, "metadata count");
}

static void test_gguf_counts_beyond_file(void **state)
{
	struct mf_buf b = { 0 };

	(void)state;
	start(&b, 3, 1000, 1000);
	data(&b, 64);
	expect_inval(b.p, b.len, "cannot fit");
}

static void test_gguf_duplicate_tensor_names(void **state)
{
	struct mf_buf b = { 0 };

	(void)state;
	start(&b, 3, 2, 0);
	info(&b, "t", 1, d32, 0, 0);
	info(&b, "t", 1, d32, 0, 128);
	data(&b, 256);
	expect_inval(b.p, b.len, "duplicate tensor name 't'");
}

static void test_gguf_duplicate_keys(void **state)
{
	struct mf_buf b = { 0 };

	(void)state;
	start(&b, 3, 0, 2);
	mf_str(&b, "general.name");
	mf_u32(&b, U8);
	mf_u8(&b, 1);
	mf_str(&b, "general.name");
	mf_u32(&b, U8);
	mf_u8(&b, 1);
	data(&b, 0);
	expect_inval(b.p, b.len, "duplicate metadata key 'general.name'");
}

static void test_gguf_unknown_ggml_type(void **state)
{
	struct mf_buf b = { 0 };

	(void)state;
	start(&b, 3, 1, 0);
	info(&b, "t", 1, d32, 4, 0);	/* Q4_2: long removed */
	data(&b, 128);
	expect_inval(b.p, b.len, "unknown ggml type 4");
	b = (struct mf_buf){ 0 };
	start(&b, 3, 1, 0);
	info(&b, "t", 1, d32, 43, 0);
	data(&b, 128);
	expect_inval(b.p, b.len, "unknown ggml type 43");
}

static void test_gguf_unknown_value_type(void **state)
{
	struct mf_buf b = { 0 };

	(void)state;
	start(&b, 3, 0, 1);
	mf_str(&b, "k");
	mf_u32(&b, 13);
	mf_u64(&b, 0);
	data(&b, 0);
	expect_inval(b.p, b.len, "unknown metadata value type 13");
	b = (struct mf_buf){ 0 };
	start(&b, 3, 0, 1);
	mf_str(&b, "k");
	mf_u32(&b, ARR);
	mf_u32(&b, 99);
	mf_u64(&b, 0);
	data(&b, 0);
	expect_inval(b.p, b.len, "unknown metadata array type 99");
}

static void test_gguf_bool_not_0_or_1(void **state)
{
	struct mf_buf b = { 0 };

	(void)state;
	start(&b, 3, 0, 1);
	mf_str(&b, "k");
	mf_u32(&b, BOOL);
	mf_u8(&b, 2);
	data(&b, 0);
	expect_inval(b.p, b.len, "neither 0 nor 1");
}

static void test_gguf_empty_key(void **state)
{
	struct mf_buf b = { 0 };

	(void)state;
	start(&b, 3, 0, 1);
	mf_str(&b, "");
	mf_u32(&b, U8);
	mf_u8(&b, 0);
	data(&b, 0);
	expect_inval(b.p, b.len, "empty metadata key");
}

static void test_gguf_nested_arrays_too_deep(void **state)
{
	struct mf_buf b = { 0 };
	int i;

	(void)state;
	start(&b, 3, 0, 1);
	mf_str(&b, "k");
	mf_u32(&b, ARR);
	for (i = 0; i < 20; i++) {
		mf_u32(&b, ARR);
		mf_u64(&b, 1);
	}
	data(&b, 64);
	expect_inval(b.p, b.len, "nested deeper");
}

static void test_gguf_array_beyond_file(void **state)
{
	struct mf_buf b = { 0 };

	(void)state;
	start(&b, 3, 0, 1);
	mf_str(&b, "k");
	mf_u32(&b, ARR);
	mf_u32(&b, U64);
	mf_u64(&b, UINT64_MAX / 4);	/* the byte count would overflow */
	data(&b, 64);
	expect_inval(b.p, b.len, "truncated");
	b = (struct mf_buf){ 0 };
	start(&b, 3, 0, 1);
	mf_str(&b, "k");
	mf_u32(&b, ARR);
	mf_u32(&b, STR);
	mf_u64(&b, 1ULL << 40);		/* more strings than bytes */
	data(&b, 64);
	expect_inval(b.p, b.len, "truncated");
}

static void test_gguf_string_beyond_file(void **state)
{
	struct mf_buf b = { 0 };

	(void)state;
	start(&b, 3, 0, 1);
	mf_str(&b, "k");
	mf_u32(&b, STR);
	mf_u64(&b, 1000);
	mf_put(&b, "abc", 3);
	expect_inval(b.p, b.len, "truncated");
}

static void test_gguf_name_too_long_or_nul(void **state)
{
	struct mf_buf b = { 0 };
	char *name = malloc(ASH_MODEL_NAME_MAX + 1);

	(void)state;
	memset(name, 'n', ASH_MODEL_NAME_MAX);
	name[ASH_MODEL_NAME_MAX] = 0;
	start(&b, 3, 1, 0);
	info(&b, name, 1, d32, 0, 0);
	free(name);
	data(&b, 128);
	expect_inval(b.p, b.len, "tensor name");
	b = (struct mf_buf){ 0 };
	start(&b, 3, 1, 0);
	mf_u64(&b, 3);
	mf_put(&b, "a\0b", 3);
	mf_u32(&b, 1);
	mf_u64(&b, 32);
	mf_u32(&b, 0);
	mf_u64(&b, 0);
	data(&b, 128);
	expect_inval(b.p, b.len, "NUL");
}

static void test_gguf_too_many_dims(void **state)
{
	uint64_t dims[9] = { 1, 1, 1, 1, 1, 1, 1, 1, 1 };
	struct mf_buf b = { 0 };

	(void)state;
	start(&b, 3, 1, 0);
	info(&b, "t", 9, dims, 0, 0);
	data(&b, 4);
	expect_inval(b.p, b.len, "more than 8");
}

static void test_gguf_negative_dim(void **state)
{
	uint64_t dims[] = { 1ULL << 63 };
	struct mf_buf b = { 0 };

	(void)state;
	start(&b, 3, 1, 0);
	info(&b, "t", 1, dims, 0, 0);
	data(&b, 4);
	expect_inval(b.p, b.len, "negative");
}

static void test_gguf_shape_numel_overflow(void **state)
{
	uint64_t dims[] = { 1ULL << 32, 1ULL << 32 };
	uint64_t dims2[] = { 1ULL << 62 };	/* x 4 bytes overflows */
	struct mf_buf b = { 0 };

	(void)state;
	start(&b, 3, 1, 0);
	info(&b, "t", 2, dims, 0, 0);
	data(&b, 4);
	expect_inval(b.p, b.len, "overflows");
	b = (struct mf_buf){ 0 };
	start(&b, 3, 1, 0);
	info(&b, "t", 1, dims2, 0, 0);
	data(&b, 4);
	expect_inval(b.p, b.len, "overflows");
}

static void test_gguf_row_not_whole_blocks(void **state)
{
	uint64_t dims[] = { 48, 2 };
	struct mf_buf b = { 0 };

	(void)state;
	start(&b, 3, 1, 0);
	info(&b, "t", 2, dims, 2, 0);	/* Q4_0 blocks of 32 */
	data(&b, 64);
	expect_inval(b.p, b.len, "whole number of Q4_0 blocks");
}

static void test_gguf_offset_misaligned(void **state)
{
	struct mf_buf b = { 0 };

	(void)state;
	start(&b, 3, 1, 0);
	info(&b, "t", 1, d32, 0, 4);
	data(&b, 256);
	expect_inval(b.p, b.len, "not a multiple of the alignment 32");
}

static void test_gguf_alignment_invalid(void **state)
{
	uint32_t bad[] = { 0, 3, 48 };
	unsigned i;

	(void)state;
	for (i = 0; i < 3; i++) {
		struct mf_buf b = { 0 };

		start(&b, 3, 0, 1);
		mf_str(&b, "general.alignment");
		mf_u32(&b, U32);
		mf_u32(&b, bad[i]);
		data(&b, 0);
		expect_inval(b.p, b.len, "not a power of two");
	}
}

static void test_gguf_alignment_wrong_type(void **state)
{
	struct mf_buf b = { 0 };

	(void)state;
	start(&b, 3, 0, 1);
	mf_str(&b, "general.alignment");
	mf_u32(&b, U64);
	mf_u64(&b, 32);
	data(&b, 0);
	expect_inval(b.p, b.len, "not UINT32");
}

static void test_gguf_data_beyond_file(void **state)
{
	struct mf_buf b = { 0 };

	(void)state;
	start(&b, 3, 1, 0);
	info(&b, "t", 1, d32, 0, 0);
	data(&b, 127);
	expect_inval(b.p, b.len, "beyond the end");
	b = (struct mf_buf){ 0 };
	start(&b, 3, 1, 0);
	info(&b, "t", 1, d32, 0, UINT64_MAX - 31);
	data(&b, 128);
	expect_inval(b.p, b.len, "beyond the end");
}

static void test_gguf_data_section_beyond_file(void **state)
{
	struct mf_buf b = { 0 };
	uint64_t zero[] = { 0 };

	(void)state;
	start(&b, 3, 1, 0);
	info(&b, "t", 1, zero, 0, 0);	/* no padding written */
	expect_inval(b.p, b.len, "data section");
}

static void test_gguf_offsets_overlap(void **state)
{
	uint64_t d64[] = { 64 };
	struct mf_buf b = { 0 };

	(void)state;
	start(&b, 3, 2, 0);
	info(&b, "a", 1, d64, 0, 0);
	info(&b, "b", 1, d32, 0, 128);
	data(&b, 256);
	/* a: [0, 256), b: [128, 256) */
	expect_inval(b.p, b.len, "overlap");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gguf_every_type),
		cmocka_unit_test(test_gguf_quant_sizes),
		cmocka_unit_test(test_gguf_zero_size_tensors),
		cmocka_unit_test(test_gguf_no_tensors_no_padding),
		cmocka_unit_test(test_gguf_shape_outermost_first),
		cmocka_unit_test(test_gguf_large_metadata_read),
		cmocka_unit_test(test_gguf_alignment_honoured),
		cmocka_unit_test(test_gguf_metadata_every_type),
		cmocka_unit_test(test_gguf_need_more_bytes),
		cmocka_unit_test(test_gguf_header_beyond_limit),
		cmocka_unit_test(test_gguf_detected_by_content),
		cmocka_unit_test(test_gguf_truncated),
		cmocka_unit_test(test_gguf_version_1),
		cmocka_unit_test(test_gguf_version_unknown),
		cmocka_unit_test(test_gguf_absurd_tensor_count),
		cmocka_unit_test(test_gguf_absurd_kv_count),
		cmocka_unit_test(test_gguf_counts_beyond_file),
		cmocka_unit_test(test_gguf_duplicate_tensor_names),
		cmocka_unit_test(test_gguf_duplicate_keys),
		cmocka_unit_test(test_gguf_unknown_ggml_type),
		cmocka_unit_test(test_gguf_unknown_value_type),
		cmocka_unit_test(test_gguf_bool_not_0_or_1),
		cmocka_unit_test(test_gguf_empty_key),
		cmocka_unit_test(test_gguf_nested_arrays_too_deep),
		cmocka_unit_test(test_gguf_array_beyond_file),
		cmocka_unit_test(test_gguf_string_beyond_file),
		cmocka_unit_test(test_gguf_name_too_long_or_nul),
		cmocka_unit_test(test_gguf_too_many_dims),
		cmocka_unit_test(test_gguf_negative_dim),
		cmocka_unit_test(test_gguf_shape_numel_overflow),
		cmocka_unit_test(test_gguf_row_not_whole_blocks),
		cmocka_unit_test(test_gguf_offset_misaligned),
		cmocka_unit_test(test_gguf_alignment_invalid),
		cmocka_unit_test(test_gguf_alignment_wrong_type),
		cmocka_unit_test(test_gguf_data_beyond_file),
		cmocka_unit_test(test_gguf_data_section_beyond_file),
		cmocka_unit_test(test_gguf_offsets_overlap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
