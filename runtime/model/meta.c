/* SPDX-License-Identifier: MIT */
/*
 * GGUF metadata lookups (format.h) for the model runner.  The parser has
 * checked every entry (types known, lengths inside the metadata), so the
 * reads here need no bounds checks of their own; values are
 * little-endian, read with memcpy (they have no alignment).
 */
#include <errno.h>
#include <string.h>

#include "format.h"
#include "parse.h"

const struct ash_model_kv *ash_model_kv_find(const struct ash_model_header *hdr,
					     const char *key)
{
	size_t len = strlen(key);
	uint32_t i;

	if (!hdr->kvs)
		return NULL;
	for (i = 0; i < hdr->nr_metadata; i++)
		if (hdr->kvs[i].klen == len &&
		    !memcmp(hdr->kvs[i].key, key, len))
			return &hdr->kvs[i];
	return NULL;
}

/* An integer entry as a signed 64-bit value (UINT64 past INT64_MAX: -EINVAL). */
static int kv_int(const struct ash_model_header *hdr, const char *key,
		  int64_t *v)
{
	const struct ash_model_kv *kv = ash_model_kv_find(hdr, key);
	const unsigned char *p;
	uint64_t u;

	if (!kv)
		return -ENOENT;
	p = hdr->meta + kv->off;
	switch (kv->type) {
	case ASH_GGUF_UINT8:
	case ASH_GGUF_BOOL:
		*v = p[0];
		return 0;
	case ASH_GGUF_INT8:
		*v = (int8_t)p[0];
		return 0;
	case ASH_GGUF_UINT16:
		*v = (uint16_t)(p[0] | p[1] << 8);
		return 0;
	case ASH_GGUF_INT16:
		*v = (int16_t)(p[0] | p[1] << 8);
		return 0;
	case ASH_GGUF_UINT32:
		*v = ash_le32(p);
		return 0;
	case ASH_GGUF_INT32:
		*v = (int32_t)ash_le32(p);
		return 0;
	case ASH_GGUF_UINT64:
	case ASH_GGUF_INT64:
		u = ash_le64(p);
		if (kv->type == ASH_GGUF_UINT64 && u > INT64_MAX)
			return -EINVAL;
		*v = (int64_t)u;
		return 0;
	}
	return -EINVAL;
}

int ash_model_kv_u32(const struct ash_model_header *hdr, const char *key,
		     uint32_t *v)
{
	int64_t x;
	int ret = kv_int(hdr, key, &x);

	if (ret)
		return ret;
	if (x < 0 || x > UINT32_MAX)
		return -EINVAL;
	*v = (uint32_t)x;
	return 0;
}

int ash_model_kv_f32(const struct ash_model_header *hdr, const char *key,
		     float *v)
{
	const struct ash_model_kv *kv = ash_model_kv_find(hdr, key);
	double d;
	float f;

	if (!kv)
		return -ENOENT;
	if (kv->type == ASH_GGUF_FLOAT32) {
		memcpy(&f, hdr->meta + kv->off, 4);
		*v = f;
		return 0;
	}
	if (kv->type == ASH_GGUF_FLOAT64) {
		memcpy(&d, hdr->meta + kv->off, 8);
		*v = (float)d;
		return 0;
	}
	return -EINVAL;
}

int ash_model_kv_str(const struct ash_model_header *hdr, const char *key,
		     const char **s, uint64_t *len)
{
	const struct ash_model_kv *kv = ash_model_kv_find(hdr, key);

	if (!kv)
		return -ENOENT;
	if (kv->type != ASH_GGUF_STRING)
		return -EINVAL;
	ash_model_kv_next_str(hdr->meta + kv->off, s, len);
	return 0;
}

int ash_model_kv_array(const struct ash_model_header *hdr, const char *key,
		       uint32_t *etype, uint64_t *n, const unsigned char **data)
{
	const struct ash_model_kv *kv = ash_model_kv_find(hdr, key);
	const unsigned char *p;

	if (!kv)
		return -ENOENT;
	if (kv->type != ASH_GGUF_ARRAY)
		return -EINVAL;
	p = hdr->meta + kv->off;
	*etype = ash_le32(p);
	*n = ash_le64(p + 4);
	*data = p + 12;
	return 0;
}

const unsigned char *ash_model_kv_next_str(const unsigned char *p,
					   const char **s, uint64_t *len)
{
	*len = ash_le64(p);
	*s = (const char *)p + 8;
	return p + 8 + *len;
}
