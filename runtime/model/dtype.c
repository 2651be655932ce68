/* SPDX-License-Identifier: MIT */
/*
 * Element types of safetensors and GGUF.  Block and type sizes of ggml's
 * quantized types are those of ggml-common.h's block structures.
 */
#include <errno.h>
#include <string.h>

#include "dtype.h"

#define PLAIN(t, n, sz, g) \
	[ASH_DTYPE_##t] = { n, 1, sz, g, 1 }
#define PACKED(t, n, blk, bytes) \
	[ASH_DTYPE_##t] = { n, blk, bytes, -1, 1 }
#define QUANT(t, blk, bytes, g) \
	[ASH_DTYPE_##t] = { #t, blk, bytes, g, 0 }

static const struct ash_dtype_info dtypes[ASH_DTYPE_LAST_QUANT + 1] = {
	PLAIN(BOOL, "BOOL", 1, -1),
	PLAIN(U8, "U8", 1, -1),
	PLAIN(I8, "I8", 1, 24),
	PLAIN(U16, "U16", 2, -1),
	PLAIN(I16, "I16", 2, 25),
	PLAIN(U32, "U32", 4, -1),
	PLAIN(I32, "I32", 4, 26),
	PLAIN(U64, "U64", 8, -1),
	PLAIN(I64, "I64", 8, 27),
	PLAIN(F16, "F16", 2, 1),
	PLAIN(BF16, "BF16", 2, 30),
	PLAIN(F32, "F32", 4, 0),
	PLAIN(F64, "F64", 8, 28),
	PLAIN(F8_E4M3, "F8_E4M3", 1, -1),
	PLAIN(F8_E5M2, "F8_E5M2", 1, -1),
	PLAIN(F8_E8M0, "F8_E8M0", 1, -1),
	PACKED(F6_E2M3, "F6_E2M3", 4, 3),
	PACKED(F6_E3M2, "F6_E3M2", 4, 3),
	PACKED(F4, "F4", 2, 1),
	PLAIN(C64, "C64", 8, -1),
	PLAIN(F8_E4M3FNUZ, "F8_E4M3FNUZ", 1, -1),
	PLAIN(F8_E5M2FNUZ, "F8_E5M2FNUZ", 1, -1),
	QUANT(Q4_0, 32, 18, 2),
	QUANT(Q4_1, 32, 20, 3),
	QUANT(Q5_0, 32, 22, 6),
	QUANT(Q5_1, 32, 24, 7),
	QUANT(Q8_0, 32, 34, 8),
	QUANT(Q8_1, 32, 36, 9),
	QUANT(Q2_K, 256, 84, 10),
	QUANT(Q3_K, 256, 110, 11),
	QUANT(Q4_K, 256, 144, 12),
	QUANT(Q5_K, 256, 176, 13),
	QUANT(Q6_K, 256, 210, 14),
	QUANT(Q8_K, 256, 292, 15),
	QUANT(IQ2_XXS, 256, 66, 16),
	QUANT(IQ2_XS, 256, 74, 17),
	QUANT(IQ3_XXS, 256, 98, 18),
	QUANT(IQ1_S, 256, 50, 19),
	QUANT(IQ4_NL, 32, 18, 20),
	QUANT(IQ3_S, 256, 110, 21),
	QUANT(IQ2_S, 256, 82, 22),
	QUANT(IQ4_XS, 256, 136, 23),
	QUANT(IQ1_M, 256, 56, 29),
	QUANT(TQ1_0, 256, 54, 34),
	QUANT(TQ2_0, 256, 66, 35),
	QUANT(MXFP4, 32, 17, 39),
	QUANT(NVFP4, 64, 36, 40),
	QUANT(Q1_0, 128, 18, 41),
	QUANT(Q2_0, 64, 18, 42),
};

const struct ash_dtype_info *ash_dtype_info(int dtype)
{
	if (dtype < ASH_DTYPE_FIRST || dtype > ASH_DTYPE_LAST_QUANT ||
	    !dtypes[dtype].name)
		return NULL;
	return &dtypes[dtype];
}

const char *ash_dtype_name(int dtype)
{
	const struct ash_dtype_info *info = ash_dtype_info(dtype);

	return info ? info->name : "invalid";
}

int ash_dtype_from_safetensors(const char *name, size_t len)
{
	int t;

	for (t = ASH_DTYPE_FIRST; t <= ASH_DTYPE_LAST_QUANT; t++) {
		const struct ash_dtype_info *info = &dtypes[t];

		if (info->name && info->safetensors &&
		    strlen(info->name) == len && !memcmp(info->name, name, len))
			return t;
	}
	return ASH_DTYPE_INVALID;
}

int ash_dtype_from_ggml(uint32_t ggml_type)
{
	int t;

	for (t = ASH_DTYPE_FIRST; t <= ASH_DTYPE_LAST_QUANT; t++)
		if (dtypes[t].name && dtypes[t].ggml_type >= 0 &&
		    (uint32_t)dtypes[t].ggml_type == ggml_type)
			return t;
	return ASH_DTYPE_INVALID;
}

int ash_dtype_bytes(int dtype, uint64_t numel, uint64_t row, uint64_t *bytes)
{
	const struct ash_dtype_info *info = ash_dtype_info(dtype);
	uint64_t blocks;

	if (!info)
		return -EINVAL;
	if (row % info->block || numel % info->block)
		return -EDOM;
	blocks = numel / info->block;
	if (blocks && info->block_bytes > UINT64_MAX / blocks)
		return -EOVERFLOW;
	*bytes = blocks * info->block_bytes;
	return 0;
}

int ash_shape_numel(const uint64_t *shape, int ndim, uint64_t *numel)
{
	uint64_t n = 1;
	int i, zero = 0;

	/* A zero dimension makes any other harmless. */
	for (i = 0; i < ndim; i++)
		if (!shape[i])
			zero = 1;
	for (i = 0; i < ndim && !zero; i++) {
		if (shape[i] > INT64_MAX / n)
			return -EOVERFLOW;
		n *= shape[i];
	}
	*numel = zero ? 0 : n;
	return 0;
}
