/* SPDX-License-Identifier: MIT */
/* Tiny safetensors and GGUF writers for tests (model_files.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dtype.h"
#include "model_files.h"

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		abort();
	return p;
}

void mf_put(struct mf_buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		b->p = xrealloc(b->p, b->cap);
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

void mf_u8(struct mf_buf *b, uint8_t v)
{
	mf_put(b, &v, 1);
}

void mf_u32(struct mf_buf *b, uint32_t v)
{
	uint8_t x[4] = { v, v >> 8, v >> 16, v >> 24 };

	mf_put(b, x, 4);
}

void mf_u64(struct mf_buf *b, uint64_t v)
{
	mf_u32(b, (uint32_t)v);
	mf_u32(b, (uint32_t)(v >> 32));
}

void mf_str(struct mf_buf *b, const char *s)
{
	mf_u64(b, strlen(s));
	mf_put(b, s, strlen(s));
}

void mf_pad(struct mf_buf *b, size_t align)
{
	while (align && b->len % align)
		mf_u8(b, 0);
}

uint64_t mf_tensor_bytes(const struct mf_tensor *t)
{
	uint64_t numel = 1, bytes = 0;
	int i;

	for (i = 0; i < t->ndim; i++)
		numel *= t->shape[i];
	/* GGUF's rows hold whole blocks; safetensors counts all elements */
	ash_dtype_bytes(t->dtype, numel,
			t->dtype >= ASH_DTYPE_GGUF_FIRST_QUANT && t->ndim ?
			t->shape[0] : 0, &bytes);
	return bytes;
}

static void put_data(struct mf_buf *b, int k, uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++)
		mf_u8(b, mf_pattern(k, i));
}

void *mf_safetensors(const struct mf_tensor *t, int n, const char *metadata,
		     size_t *len)
{
	struct mf_buf j = { 0 }, f = { 0 };
	uint64_t off = 0, bytes;
	char tmp[256];
	int k, d;

	mf_put(&j, "{", 1);
	if (metadata) {
		mf_put(&j, "\"__metadata__\":", 15);
		mf_put(&j, metadata, strlen(metadata));
	}
	for (k = 0; k < n; k++) {
		bytes = mf_tensor_bytes(&t[k]);
		snprintf(tmp, sizeof(tmp), "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[",
			 k || metadata ? "," : "", t[k].name,
			 ash_dtype_name(t[k].dtype));
		mf_put(&j, tmp, strlen(tmp));
		for (d = 0; d < t[k].ndim; d++) {
			snprintf(tmp, sizeof(tmp), "%s%" PRIu64, d ? "," : "",
				 t[k].shape[d]);
			mf_put(&j, tmp, strlen(tmp));
		}
		snprintf(tmp, sizeof(tmp),
			 "],\"data_offsets\":[%" PRIu64 ",%" PRIu64 "]}", off,
			 off + bytes);
		mf_put(&j, tmp, strlen(tmp));
		off += bytes;
	}
	mf_put(&j, "}", 1);
	/* pad with spaces to 8 bytes, as the Python writer does */
	while (j.len % 8)
		mf_put(&j, " ", 1);
	mf_u64(&f, j.len);
	mf_put(&f, j.p, j.len);
	for (k = 0; k < n; k++)
		put_data(&f, k, mf_tensor_bytes(&t[k]));
	free(j.p);
	*len = f.len;
	return f.p ? f.p : xrealloc(NULL, 1);
}

void *mf_safetensors_raw(const char *json, size_t json_len, size_t data_len,
			 size_t *len)
{
	struct mf_buf f = { 0 };
	size_t i;

	mf_u64(&f, json_len);
	mf_put(&f, json, json_len);
	for (i = 0; i < data_len; i++)
		mf_u8(&f, 0);
	*len = f.len;
	return f.p;
}

void *mf_gguf(const struct mf_tensor *t, int n, uint32_t version,
	      uint32_t alignment, size_t *len)
{
	uint32_t align = alignment ? alignment : 32;
	struct mf_buf b = { 0 };
	uint64_t off = 0;
	int k, d;

	mf_put(&b, "GGUF", 4);
	mf_u32(&b, version);
	mf_u64(&b, (uint64_t)n);
	mf_u64(&b, alignment ? 2 : 1);
	mf_str(&b, "general.name");
	mf_u32(&b, 8);			/* STRING */
	mf_str(&b, "test");
	if (alignment) {
		mf_str(&b, "general.alignment");
		mf_u32(&b, 4);		/* UINT32 */
		mf_u32(&b, alignment);
	}
	for (k = 0; k < n; k++) {
		mf_str(&b, t[k].name);
		mf_u32(&b, (uint32_t)t[k].ndim);
		for (d = 0; d < t[k].ndim; d++)
			mf_u64(&b, t[k].shape[d]);
		mf_u32(&b, (uint32_t)ash_dtype_info(t[k].dtype)->ggml_type);
		mf_u64(&b, off);
		off += mf_tensor_bytes(&t[k]);
		off = (off + align - 1) / align * align;
	}
	mf_pad(&b, align);
	for (k = 0; k < n; k++) {
		put_data(&b, k, mf_tensor_bytes(&t[k]));
		mf_pad(&b, align);
	}
	*len = b.len;
	return b.p;
}

int mf_write_file(const char *path, const void *buf, size_t len)
{
	const char *p = buf;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		return -errno;
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			int e = errno;

			close(fd);
			return -e;
		}
		p += n;
		len -= (size_t)n;
	}
	return close(fd) ? -errno : 0;
}
