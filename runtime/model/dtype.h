/* SPDX-License-Identifier: MIT */
/*
 * Element types of both model formats (dtype.c): names, sizes, and the
 * mapping from each format's type codes to enum ash_dtype.
 */
#ifndef ACCELSHARE_MODEL_DTYPE_H
#define ACCELSHARE_MODEL_DTYPE_H

#include <stddef.h>
#include <stdint.h>

#include <accelshare.h>

/* Bounds of the enum, for tables and tests. */
#define ASH_DTYPE_FIRST		ASH_DTYPE_BOOL
#define ASH_DTYPE_LAST_PLAIN	ASH_DTYPE_F8_E5M2FNUZ
#define ASH_DTYPE_LAST_QUANT	ASH_DTYPE_Q2_0

/*
 * A type stores @block elements in @block_bytes bytes: 1 and the element
 * size for plain types; 2 and 1 for F4, 4 and 3 for the F6 types (whose
 * bit counts must come to whole bytes); ggml's block size and type size
 * for the quantized ones.
 */
struct ash_dtype_info {
	const char *name;
	uint32_t block;
	uint32_t block_bytes;
	int ggml_type;		/* ggml_type code, -1 if GGUF has none */
	int safetensors;	/* 1 if safetensors has it */
};

/* NULL for an unknown type. */
const struct ash_dtype_info *ash_dtype_info(int dtype);
/* ASH_DTYPE_INVALID when unknown; @name need not be NUL-terminated. */
int ash_dtype_from_safetensors(const char *name, size_t len);
int ash_dtype_from_ggml(uint32_t ggml_type);

/*
 * Bytes of a tensor of @numel elements whose rows hold @row elements:
 * 0 and *bytes set; -EDOM when @row (ggml) is not a whole number of
 * blocks; -EOVERFLOW; -EINVAL for an unknown type.
 */
int ash_dtype_bytes(int dtype, uint64_t numel, uint64_t row,
		    uint64_t *bytes);

/* Product of @ndim dimensions into *numel; -EOVERFLOW past 2^63 - 1. */
int ash_shape_numel(const uint64_t *shape, int ndim, uint64_t *numel);

#endif /* ACCELSHARE_MODEL_DTYPE_H */
