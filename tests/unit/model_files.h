/* SPDX-License-Identifier: MIT */
/*
 * Tiny writers of safetensors and GGUF files in memory, for tests.  Every
 * function returns a malloc'd buffer (free() it) and its length, and
 * aborts on allocation failure.  Tensor data is mf_pattern(): tests can
 * check what a loader copied.
 */
#ifndef ACCELSHARE_TESTS_MODEL_FILES_H
#define ACCELSHARE_TESTS_MODEL_FILES_H

#include <stddef.h>
#include <stdint.h>

struct mf_tensor {
	const char *name;
	int dtype;		/* enum ash_dtype */
	int ndim;
	uint64_t shape[8];
};

/* Byte @i of the data of the @k-th tensor in the list. */
static inline uint8_t mf_pattern(int k, uint64_t i)
{
	return (uint8_t)(k * 31 + i * 7 + 1);
}

/* Bytes of a tensor (dtype x shape). */
uint64_t mf_tensor_bytes(const struct mf_tensor *t);

/* A safetensors file: tensors in list order, back to back.  @metadata is
 * the JSON text of "__metadata__"'s object, or NULL for none. */
void *mf_safetensors(const struct mf_tensor *t, int n, const char *metadata,
		     size_t *len);
/* A safetensors file with the given header text and @data_len bytes of
 * zeros as data (for malformed headers). */
void *mf_safetensors_raw(const char *json, size_t json_len, size_t data_len,
			 size_t *len);

/* A GGUF file (version 2 or 3) with one string metadata entry
 * ("general.name") and, if @alignment is not 0, general.alignment. */
void *mf_gguf(const struct mf_tensor *t, int n, uint32_t version,
	      uint32_t alignment, size_t *len);

/* A growing byte buffer, for writing malformed GGUF by hand. */
struct mf_buf {
	uint8_t *p;
	size_t len, cap;
};
void mf_put(struct mf_buf *b, const void *p, size_t n);
void mf_u8(struct mf_buf *b, uint8_t v);
void mf_u32(struct mf_buf *b, uint32_t v);
void mf_u64(struct mf_buf *b, uint64_t v);
void mf_str(struct mf_buf *b, const char *s);	/* u64 length + bytes */
void mf_pad(struct mf_buf *b, size_t align);	/* zeros to a multiple */

/* Writes @len bytes to @path (created or truncated); 0 or -errno. */
int mf_write_file(const char *path, const void *buf, size_t len);

#endif /* ACCELSHARE_TESTS_MODEL_FILES_H */
