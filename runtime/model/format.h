/* SPDX-License-Identifier: MIT */
/*
 * Model file formats: what the parsers (safetensors.c, gguf.c) hand the
 * loader (loader.c).  Parsers are pure functions of the bytes they are
 * given: no I/O, no device, bounded time and memory, so that they can be
 * unit-tested and fuzzed on the host.
 */
#ifndef ACCELSHARE_MODEL_FORMAT_H
#define ACCELSHARE_MODEL_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include <accelshare.h>

enum ash_model_format {
	ASH_FORMAT_SAFETENSORS = 1,
	ASH_FORMAT_GGUF = 2,
};

/* Bounds no valid file comes near; anything past them is refused. */
#define ASH_MODEL_HEADER_MAX	(256ULL << 20)	/* bytes of header */
#define ASH_MODEL_TENSORS_MAX	(1U << 20)
#define ASH_MODEL_KV_MAX	(1U << 20)	/* GGUF metadata entries */
#define ASH_MODEL_NAME_MAX	4096		/* bytes in a tensor name */
#define ASH_MODEL_NDIM_MAX	8

/* One tensor as the file describes it. */
struct ash_model_tensor_info {
	char *name;		/* NUL-terminated, owned by the header */
	int dtype;		/* enum ash_dtype */
	int ndim;
	uint64_t shape[ASH_MODEL_NDIM_MAX];
	uint64_t offset;	/* from the start of the data section */
	uint64_t bytes;
};

/* GGUF metadata value types. */
enum ash_gguf_type {
	ASH_GGUF_UINT8, ASH_GGUF_INT8, ASH_GGUF_UINT16, ASH_GGUF_INT16,
	ASH_GGUF_UINT32, ASH_GGUF_INT32, ASH_GGUF_FLOAT32, ASH_GGUF_BOOL,
	ASH_GGUF_STRING, ASH_GGUF_ARRAY, ASH_GGUF_UINT64, ASH_GGUF_INT64,
	ASH_GGUF_FLOAT64, ASH_GGUF_TYPE_COUNT,
};

/* One GGUF metadata entry: its key and value, in the header's @meta. */
struct ash_model_kv {
	const char *key;	/* not NUL-terminated: @klen bytes */
	uint64_t klen;
	uint32_t type;		/* enum ash_gguf_type */
	uint64_t off;		/* of the value in @meta */
};

struct ash_model_header {
	enum ash_model_format format;
	uint64_t data_offset;	/* file offset where the data section starts */
	uint64_t data_size;	/* bytes of the data section the tensors use:
				 * the largest offset + bytes */
	uint32_t alignment;	/* of tensor offsets (GGUF), 1 for safetensors */
	uint32_t nr_metadata;	/* metadata entries (__metadata__ / GGUF KVs) */
	int nr_tensors;
	struct ash_model_tensor_info *tensors;	/* sorted by offset */
	/* GGUF: the metadata's bytes, as the file holds them (checked by
	 * the parser), and an entry per key; NULL for safetensors. */
	unsigned char *meta;
	uint64_t meta_len;
	struct ash_model_kv *kvs;		/* nr_metadata of them */
};

/*
 * GGUF metadata of a parsed header (meta.c).  Lookups return -ENOENT for
 * a key that is not there and -EINVAL for one of another type (integers
 * of any width convert where the value fits; floats from FLOAT32 or
 * FLOAT64).
 */
const struct ash_model_kv *ash_model_kv_find(const struct ash_model_header *hdr,
					     const char *key);
int ash_model_kv_u32(const struct ash_model_header *hdr, const char *key,
		     uint32_t *v);
int ash_model_kv_f32(const struct ash_model_header *hdr, const char *key,
		     float *v);
/* A string's bytes (not NUL-terminated). */
int ash_model_kv_str(const struct ash_model_header *hdr, const char *key,
		     const char **s, uint64_t *len);
/* An array: element type, count, and its first element's bytes. */
int ash_model_kv_array(const struct ash_model_header *hdr, const char *key,
		       uint32_t *etype, uint64_t *n, const unsigned char **data);
/* The string at @p (u64 length, bytes) of an array of strings: its bytes
 * and length; returns the next one's address. */
const unsigned char *ash_model_kv_next_str(const unsigned char *p,
					   const char **s, uint64_t *len);

/**
 * ash_model_parse() - parse and validate a model file's header
 * @buf: the first @len bytes of the file.
 * @len: how many bytes @buf holds.
 * @file_size: size of the whole file; every tensor must lie inside it.
 * @hdr: filled on success; release with ash_model_header_free().
 * @err: on -EINVAL, one sentence naming the problem.
 * @errlen: size of @err.
 *
 * The format is detected by content (GGUF magic, else safetensors).
 *
 * Return: 0; a positive number N when the header is longer than @len and
 * the first N bytes are needed (N <= ASH_MODEL_HEADER_MAX, N <= file_size);
 * -EINVAL for a malformed or unsupported file; -ENOMEM.
 */
int ash_model_parse(const void *buf, size_t len, uint64_t file_size,
		    struct ash_model_header *hdr, char *err, size_t errlen);
void ash_model_header_free(struct ash_model_header *hdr);

/**
 * ash_model_read_header() - read and parse the header of a model file
 * @fd: the file, open for reading.
 * @size: its size.
 * @hdr: as ash_model_parse().
 * @err: on -EINVAL, one sentence naming the problem.
 * @errlen: size of @err.
 *
 * Reads the first MiB, and as much more as the parser asks for, up to the
 * header limit (ASH_MODEL_HEADER_MAX): large real vocabularies make GGUF
 * metadata of tens of MiB.
 *
 * Return: 0, -EINVAL, -ENOMEM, -EIO (the file ended early) or -errno of a
 * read.
 */
int ash_model_read_header(int fd, uint64_t size, struct ash_model_header *hdr,
			  char *err, size_t errlen);

/* Parsers of one format each, with ash_model_parse()'s contract. */
int ash_safetensors_parse(const void *buf, size_t len, uint64_t file_size,
			  struct ash_model_header *hdr, char *err,
			  size_t errlen);
int ash_gguf_parse(const void *buf, size_t len, uint64_t file_size,
		   struct ash_model_header *hdr, char *err, size_t errlen);


#endif /* ACCELSHARE_MODEL_FORMAT_H */
