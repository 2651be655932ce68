/* SPDX-License-Identifier: MIT */
/*
 * GGUF versions 2 and 3 (little-endian): magic "GGUF", u32 version, u64
 * tensor count, u64 metadata count, the metadata key-values, the tensor
 * infos, padding to general.alignment (default 32), the data section.
 *
 * The header has no length field.  When it runs past the bytes given, the
 * parser asks for more: at least what it needs to go on, at least twice
 * what it had, at least 1 MiB, and at most the file and
 * ASH_MODEL_HEADER_MAX; a header longer than that limit is refused.  Every
 * loop is bounded by the bytes of the header, every allocation by its
 * counts, which are bounded by the bytes the file holds.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "dtype.h"
#include "parse.h"

#define GGUF_ALIGN_DEFAULT	32
#define GGUF_KEY_MAX		65535	/* bytes in a metadata key */
#define GGUF_NEST_MAX		8	/* arrays within arrays */
#define GGUF_NEED_MIN		(1U << 20)
#define MSG			64	/* bytes of a name quoted in messages */

enum {
	T_UINT8 = ASH_GGUF_UINT8, T_INT8, T_UINT16, T_INT16, T_UINT32, T_INT32,
	T_FLOAT32, T_BOOL, T_STRING, T_ARRAY, T_UINT64, T_INT64, T_FLOAT64,
	T_COUNT,
};

static const uint8_t type_size[T_COUNT] = {
	[T_UINT8] = 1, [T_INT8] = 1, [T_UINT16] = 2, [T_INT16] = 2,
	[T_UINT32] = 4, [T_INT32] = 4, [T_FLOAT32] = 4, [T_BOOL] = 1,
	[T_UINT64] = 8, [T_INT64] = 8, [T_FLOAT64] = 8,
};

struct rd {
	const unsigned char *p;
	size_t len;		/* bytes in p */
	uint64_t file_size;
	uint64_t off;
	uint64_t need;		/* > 0: bytes wanted from the caller */
	char *err;
	size_t errlen;
};

/* 1 when @n bytes from the cursor are there; 0 with the error or the
 * request for more bytes set in @r. */
static int have(struct rd *r, uint64_t n, const char *what)
{
	if (n > r->file_size - r->off) {
		ash_parse_fail(r->err, r->errlen,
			"truncated: %s at offset %" PRIu64
			" runs past the end of the %" PRIu64 "-byte file",
			what, r->off, r->file_size);
		return 0;
	}
	if (n > r->len - r->off) {
		r->need = r->off + n;
		return 0;
	}
	return 1;
}

static int get_u32(struct rd *r, uint32_t *v, const char *what)
{
	const unsigned char *p = r->p + r->off;

	if (!have(r, 4, what))
		return -1;
	*v = ash_le32(p);
	r->off += 4;
	return 0;
}

static int get_u64(struct rd *r, uint64_t *v, const char *what)
{
	uint32_t lo, hi;

	if (!have(r, 8, what))
		return -1;
	get_u32(r, &lo, what);
	get_u32(r, &hi, what);
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

/* A string: u64 length, bytes. */
static int get_str(struct rd *r, const char **s, uint64_t *n, uint64_t max,
		   const char *what)
{
	if (get_u64(r, n, what))
		return -1;
	if (*n > max) {
		ash_parse_fail(r->err, r->errlen,
			"%s at offset %" PRIu64 " is %" PRIu64
			" bytes long, more than %" PRIu64, what, r->off - 8,
			*n, max);
		return -1;
	}
	if (!have(r, *n, what))
		return -1;
	*s = (const char *)r->p + r->off;
	r->off += *n;
	return 0;
}

static int skip(struct rd *r, uint64_t n, const char *what)
{
	if (!have(r, n, what))
		return -1;
	r->off += n;
	return 0;
}

/*
 * Names in the buffer, checked for duplicates by sorting (not hashing:
 * names chosen to collide would make a hash table quadratic).
 */
struct names {
	struct name { const char *p; uint64_t len; } *v;
	size_t n;
};

static int names_init(struct names *s, uint64_t count)
{
	s->n = 0;
	s->v = malloc((size_t)(count ? count : 1) * sizeof(*s->v));
	return s->v ? 0 : -ENOMEM;
}

static void names_add(struct names *s, const char *p, uint64_t len)
{
	s->v[s->n].p = p;
	s->v[s->n].len = len;
	s->n++;
}

static int name_cmp(const void *a, const void *b)
{
	const struct name *x = a, *y = b;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->p, y->p, (size_t)x->len);
}

/* A name that is there twice, or NULL. */
static const struct name *names_dup(struct names *s)
{
	size_t i;

	qsort(s->v, s->n, sizeof(*s->v), name_cmp);
	for (i = 1; i < s->n; i++)
		if (!name_cmp(&s->v[i - 1], &s->v[i]))
			return &s->v[i];
	return NULL;
}

/* Skips one value of @type; arrays nest at most GGUF_NEST_MAX deep. */
static int skip_value(struct rd *r, uint32_t type, int depth)
{
	uint64_t n, i, len;
	uint32_t et;
	const char *s;

	if (type >= T_COUNT) {
		ash_parse_fail(r->err, r->errlen,
			"unknown metadata value type %" PRIu32
			" at offset %" PRIu64, type, r->off - 4);
		return -1;
	}
	if (type == T_STRING)
		return get_str(r, &s, &len, ASH_MODEL_HEADER_MAX,
			       "metadata string");
	if (type != T_ARRAY)
		return skip(r, type_size[type], "metadata value");
	if (depth >= GGUF_NEST_MAX) {
		ash_parse_fail(r->err, r->errlen,
			"metadata arrays nested deeper than %d at offset %"
			PRIu64, GGUF_NEST_MAX, r->off);
		return -1;
	}
	if (get_u32(r, &et, "array type") ||
	    get_u64(r, &n, "array length"))
		return -1;
	if (et >= T_COUNT) {
		ash_parse_fail(r->err, r->errlen,
			"unknown metadata array type %" PRIu32
			" at offset %" PRIu64, et, r->off - 12);
		return -1;
	}
	if (et != T_STRING && et != T_ARRAY) {
		/* n * size bytes: beyond the file is truncation */
		if (n > (r->file_size - r->off) / type_size[et])
			return skip(r, r->file_size - r->off + 1,
				    "metadata array");
		return skip(r, n * type_size[et], "metadata array");
	}
	/* Each element takes at least 8 (string) or 12 (array) bytes. */
	if (n > (r->file_size - r->off) / (et == T_STRING ? 8 : 12))
		return skip(r, r->file_size - r->off + 1, "metadata array");
	for (i = 0; i < n; i++)
		if (skip_value(r, et, depth + 1))
			return -1;
	return 0;
}

/* Checks the @nr_kv entries from the cursor and records where each key and
 * value is, as offsets from @base, in @kvs. */
static int parse_kvs(struct rd *r, uint64_t nr_kv, uint32_t *alignment,
		     uint64_t base, struct ash_model_kv *kvs)
{
	const struct name *dup;
	struct names keys;
	uint64_t i, klen, start;
	uint32_t type, align;
	const char *key;
	int ret = -1;

	if (names_init(&keys, nr_kv))
		return -ENOMEM;
	for (i = 0; i < nr_kv; i++) {
		start = r->off;
		if (get_str(r, &key, &klen, GGUF_KEY_MAX, "metadata key"))
			goto out;
		if (!klen) {
			ash_parse_fail(r->err, r->errlen,
				"empty metadata key at offset %" PRIu64, start);
			goto out;
		}
		names_add(&keys, key, klen);
		if (get_u32(r, &type, "metadata value type"))
			goto out;
		kvs[i].key = (const char *)(uintptr_t)
			((const unsigned char *)key - r->p - base);
		kvs[i].klen = klen;
		kvs[i].type = type;
		kvs[i].off = r->off - base;
		if (klen == 17 && !memcmp(key, "general.alignment", 17)) {
			if (type != T_UINT32) {
				ash_parse_fail(r->err, r->errlen,
					"general.alignment is of type %" PRIu32
					", not UINT32", type);
				goto out;
			}
			if (get_u32(r, &align, "general.alignment"))
				goto out;
			if (!align || (align & (align - 1))) {
				ash_parse_fail(r->err, r->errlen,
					"general.alignment %" PRIu32
					" is not a power of two", align);
				goto out;
			}
			*alignment = align;
			continue;
		}
		if (type == T_BOOL) {
			if (!have(r, 1, "metadata value"))
				goto out;
			if (r->p[r->off] > 1) {
				ash_parse_fail(r->err, r->errlen,
					"metadata '%.*s': BOOL value %u is neither 0 nor 1",
					(int)(klen > MSG ? MSG : klen), key,
					r->p[r->off]);
				goto out;
			}
		}
		if (skip_value(r, type, 0))
			goto out;
	}
	dup = names_dup(&keys);
	if (dup) {
		ash_parse_fail(r->err, r->errlen,
			"duplicate metadata key '%.*s'",
			(int)(dup->len > MSG ? MSG : dup->len), dup->p);
		goto out;
	}
	ret = 0;
out:
	free(keys.v);
	return ret;
}

static int parse_infos(struct rd *r, struct ash_model_header *hdr,
		       uint64_t nr, uint32_t alignment)
{
	const struct name *dup;
	struct names names;
	uint64_t i, nlen, numel, v, row;
	uint32_t ndim, type;
	const char *name;
	int d, ret = -1, e;

	if (names_init(&names, nr))
		return -ENOMEM;
	for (i = 0; i < nr; i++) {
		struct ash_model_tensor_info *t = &hdr->tensors[i];

		if (get_str(r, &name, &nlen, ASH_MODEL_NAME_MAX - 1,
			    "tensor name"))
			goto out;
		if (!nlen || memchr(name, 0, nlen)) {
			ash_parse_fail(r->err, r->errlen,
				"tensor %" PRIu64 ": name is empty or holds a NUL byte",
				i);
			goto out;
		}
		names_add(&names, name, nlen);
		t->name = strndup(name, nlen);
		if (!t->name) {
			ret = -ENOMEM;
			goto out;
		}
		hdr->nr_tensors = (int)i + 1;
		if (get_u32(r, &ndim, "tensor dimension count"))
			goto out;
		if (ndim > ASH_MODEL_NDIM_MAX) {
			ash_parse_fail(r->err, r->errlen,
				"tensor '%.*s': %" PRIu32 " dimensions, more than %d",
				MSG, t->name, ndim, ASH_MODEL_NDIM_MAX);
			goto out;
		}
		t->ndim = (int)ndim;
		for (d = 0; d < t->ndim; d++) {
			if (get_u64(r, &v, "tensor dimension"))
				goto out;
			if (v > INT64_MAX) {
				ash_parse_fail(r->err, r->errlen,
					"tensor '%.*s': dimension %d is negative",
					MSG, t->name, d);
				goto out;
			}
			/* ne[0] is the innermost: stored outermost first. */
			t->shape[t->ndim - 1 - d] = v;
		}
		if (get_u32(r, &type, "tensor type") ||
		    get_u64(r, &t->offset, "tensor offset"))
			goto out;
		t->dtype = ash_dtype_from_ggml(type);
		if (t->dtype == ASH_DTYPE_INVALID) {
			ash_parse_fail(r->err, r->errlen,
				"tensor '%.*s': unknown ggml type %" PRIu32,
				MSG, t->name, type);
			goto out;
		}
		if (ash_shape_numel(t->shape, t->ndim, &numel)) {
			ash_parse_fail(r->err, r->errlen,
				"tensor '%.*s': element count of the shape overflows",
				MSG, t->name);
			goto out;
		}
		row = t->ndim ? t->shape[t->ndim - 1] : 1;
		e = ash_dtype_bytes(t->dtype, numel, row, &t->bytes);
		if (e == -EDOM) {
			ash_parse_fail(r->err, r->errlen,
				"tensor '%.*s': row of %" PRIu64
				" elements is not a whole number of %s blocks of %" PRIu32,
				MSG, t->name, row,
				ash_dtype_name(t->dtype),
				ash_dtype_info(t->dtype)->block);
			goto out;
		}
		if (e) {
			ash_parse_fail(r->err, r->errlen,
				"tensor '%.*s': byte size of the shape overflows",
				MSG, t->name);
			goto out;
		}
		if (t->offset % alignment) {
			ash_parse_fail(r->err, r->errlen,
				"tensor '%.*s': offset %" PRIu64
				" is not a multiple of the alignment %" PRIu32,
				MSG, t->name, t->offset, alignment);
			goto out;
		}
	}
	dup = names_dup(&names);
	if (dup) {
		ash_parse_fail(r->err, r->errlen,
			"duplicate tensor name '%.*s'",
			(int)(dup->len > MSG ? MSG : dup->len), dup->p);
		goto out;
	}
	ret = 0;
out:
	free(names.v);
	return ret;
}

static int parse(struct rd *r, struct ash_model_header *hdr)
{
	uint64_t nr_tensors, nr_kv, end, kv_start, i;
	uint32_t magic, version, alignment = GGUF_ALIGN_DEFAULT;
	int ret;

	if (get_u32(r, &magic, "magic") || get_u32(r, &version, "version"))
		return -1;
	if (version == 1)
		return ash_parse_fail(r->err, r->errlen,
			"GGUF version 1 is not supported (only 2 and 3)");
	if (version != 2 && version != 3)
		return ash_parse_fail(r->err, r->errlen,
			"unsupported GGUF version %" PRIu32
			" (only 2 and 3, little-endian)", version);
	if (get_u64(r, &nr_tensors, "tensor count") ||
	    get_u64(r, &nr_kv, "metadata count"))
		return -1;
	if (nr_tensors > ASH_MODEL_TENSORS_MAX)
		return ash_parse_fail(r->err, r->errlen,
			"tensor count %" PRIu64 " exceeds the limit of %u",
			nr_tensors, ASH_MODEL_TENSORS_MAX);
	if (nr_kv > ASH_MODEL_KV_MAX)
		return ash_parse_fail(r->err, r->errlen,
			"metadata count %" PRIu64 " exceeds the limit of %u",
			nr_kv, ASH_MODEL_KV_MAX);
	/* A key-value takes at least 13 bytes, a tensor info 24. */
	if (nr_kv * 13 + nr_tensors * 24 > r->file_size - r->off)
		return ash_parse_fail(r->err, r->errlen,
			"truncated: %" PRIu64 " tensors and %" PRIu64
			" metadata entries cannot fit in a %" PRIu64
			"-byte file", nr_tensors, nr_kv, r->file_size);
	hdr->nr_metadata = (uint32_t)nr_kv;
	hdr->kvs = calloc((size_t)nr_kv + 1, sizeof(*hdr->kvs));
	if (!hdr->kvs)
		return -ENOMEM;
	kv_start = r->off;
	ret = parse_kvs(r, nr_kv, &alignment, kv_start, hdr->kvs);
	if (ret)
		return ret;
	/* The metadata, kept for ash_model_kv_*(): keys point into it. */
	hdr->meta_len = r->off - kv_start;
	hdr->meta = malloc(hdr->meta_len ? hdr->meta_len : 1);
	if (!hdr->meta)
		return -ENOMEM;
	memcpy(hdr->meta, r->p + kv_start, hdr->meta_len);
	for (i = 0; i < nr_kv; i++)
		hdr->kvs[i].key = (const char *)hdr->meta +
				  (uintptr_t)hdr->kvs[i].key;
	hdr->alignment = alignment;
	hdr->tensors = calloc((size_t)nr_tensors + 1, sizeof(*hdr->tensors));
	if (!hdr->tensors)
		return -ENOMEM;
	ret = parse_infos(r, hdr, nr_tensors, alignment);
	if (ret)
		return ret;
	end = r->off + (alignment - r->off % alignment) % alignment;
	/*
	 * A file of metadata only (a vocabulary) may end right after it, with
	 * no padding: gguf-py writes it so and ggml reads it.
	 */
	if (!nr_tensors && end > r->file_size)
		end = r->file_size;
	if (end > r->file_size)
		return ash_parse_fail(r->err, r->errlen,
			"truncated: the data section would start at %" PRIu64
			", past the end of the %" PRIu64 "-byte file", end,
			r->file_size);
	hdr->data_offset = end;
	return ash_parse_finish(hdr, r->file_size - end, r->err, r->errlen);
}

int ash_gguf_parse(const void *buf, size_t len, uint64_t file_size,
		   struct ash_model_header *hdr, char *err, size_t errlen)
{
	struct rd r = {
		.p = buf, .len = len, .file_size = file_size,
		.err = err, .errlen = errlen,
	};
	uint64_t need;
	int ret;

	ret = ash_parse_start(hdr, len, file_size, err, errlen);
	if (ret)
		return ret;
	if (len >= 4 && memcmp(buf, "GGUF", 4))
		return ash_parse_fail(err, errlen, "no GGUF magic");
	hdr->format = ASH_FORMAT_GGUF;
	ret = parse(&r, hdr);
	if (!ret)
		return 0;
	ash_model_header_free(hdr);
	if (ret != -1)
		return ret;
	if (!r.need)
		return -EINVAL;
	/* The header goes on past @len. */
	if (r.need > ASH_MODEL_HEADER_MAX || len >= ASH_MODEL_HEADER_MAX)
		return ash_parse_fail(err, errlen,
			"header is longer than the limit of %llu bytes",
			ASH_MODEL_HEADER_MAX);
	need = r.need;
	if (need < 2 * (uint64_t)len)
		need = 2 * (uint64_t)len;
	if (need < GGUF_NEED_MIN)
		need = GGUF_NEED_MIN;
	if (need > ASH_MODEL_HEADER_MAX)
		need = ASH_MODEL_HEADER_MAX;
	if (need > file_size)
		need = file_size;
	return (int)need;
}
