/* SPDX-License-Identifier: MIT */
/*
 * Safetensors: a little-endian u64 N, N bytes of UTF-8 JSON (an object of
 * tensors plus an optional "__metadata__" object of strings, trailing
 * spaces allowed), then the data section.  The JSON is parsed by json-c,
 * after a scan of our own that validates UTF-8 and bounds the document's
 * shape (depth, members, array lengths), so that json-c only ever builds
 * a tree of bounded size, and that counts object members, so that
 * duplicate keys, which json-c folds silently, are found.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "dtype.h"
#include "parse.h"

#define ST_DEPTH_MAX	3	/* header { tensor { shape [ */
#define ST_ARRAY_MAX	ASH_MODEL_NDIM_MAX
#define ST_MSG_NAME	64	/* bytes of a name quoted in messages */

/* Strict UTF-8: no overlong forms, surrogates or code points past
 * U+10FFFF.  Returns the offset of the first bad byte, or @len. */
static size_t utf8_check(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n, k;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return i;
		}
		if (len - i <= n)
			return i;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return i;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return i;
		i += n + 1;
	}
	return len;
}

struct span {
	const char *p;
	size_t len;
};

struct scan {
	uint64_t members;	/* object members in the whole document */
	struct span *keys;	/* the root object's keys, raw */
	size_t nr_keys;
};

static int span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->p, y->p, x->len);
}

/*
 * One pass over the raw JSON.  It need not reject all invalid JSON (json-c
 * does), only bound what json-c will build and count members: the depth,
 * the members of each object (the root's at most ASH_MODEL_TENSORS_MAX + 1,
 * others at most ASH_MODEL_KV_MAX), array lengths, no control characters
 * in strings, no NUL anywhere.
 */
static int scan_json(const char *s, size_t n, struct scan *sc, char *err,
		     size_t errlen)
{
	uint64_t count[ST_DEPTH_MAX + 1] = { 0 };
	char open[ST_DEPTH_MAX + 1];
	int depth = 0, in_str = 0, esc = 0;
	size_t i, str_start = 0, cap = 0;
	struct span last = { s, 0 };

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!c)
			return ash_parse_fail(err, errlen,
				"invalid JSON header: NUL byte at %zu", i);
		if (in_str) {
			if (esc)
				esc = 0;
			else if (c == '\\')
				esc = 1;
			else if (c == '"')
				in_str = 0;
			else if ((unsigned char)c < 0x20)
				return ash_parse_fail(err, errlen,
					"invalid JSON header: control character in a string at %zu",
					i);
			if (!in_str && depth == 1) {
				last.p = s + str_start;
				last.len = i - str_start;
			}
			continue;
		}
		switch (c) {
		case '"':
			in_str = 1;
			str_start = i + 1;
			break;
		case '{':
		case '[':
			if (depth == ST_DEPTH_MAX)
				return ash_parse_fail(err, errlen,
					"invalid header: JSON nested deeper than %d levels",
					ST_DEPTH_MAX);
			depth++;
			open[depth] = c;
			count[depth] = 0;
			break;
		case '}':
		case ']':
			if (!depth)
				return ash_parse_fail(err, errlen,
					"invalid JSON header: unbalanced '%c' at %zu",
					c, i);
			depth--;
			break;
		case ':':
			if (!depth || open[depth] != '{')
				break;	/* json-c rejects it */
			sc->members++;
			if (depth == 1) {
				/* the string before it was a root key */
				if (sc->nr_keys == cap) {
					size_t ncap = cap ? 2 * cap : 64;
					struct span *nk = realloc(sc->keys,
						ncap * sizeof(*nk));

					if (!nk)
						return -ENOMEM;
					sc->keys = nk;
					cap = ncap;
				}
				sc->keys[sc->nr_keys++] = last;
			}
			if (++count[depth] > (depth == 1 ?
					      ASH_MODEL_TENSORS_MAX + 1ULL :
					      ASH_MODEL_KV_MAX))
				return ash_parse_fail(err, errlen,
					"invalid header: more than %u %s",
					depth == 1 ? ASH_MODEL_TENSORS_MAX :
						     ASH_MODEL_KV_MAX,
					depth == 1 ? "tensors" :
						     "entries in an object");
			break;
		case ',':
			if (depth && open[depth] == '[' &&
			    ++count[depth] >= ST_ARRAY_MAX)
				return ash_parse_fail(err, errlen,
					"invalid header: an array of more than %d elements",
					ST_ARRAY_MAX);
			break;
		case ' ': case '\t': case '\n': case '\r':
		case '-': case '+': case '.':
			break;
		default:
			/* json-c also takes 'strings', NaN and Infinity */
			if ((c >= '0' && c <= '9') || strchr("eEtruefalsn", c))
				break;
			return ash_parse_fail(err, errlen,
				"invalid JSON header: unexpected character at %zu",
				i);
		}
	}
	return 0;
}

/* Quotes at most ST_MSG_NAME bytes of a name in messages. */
#define QNAME(n)	ST_MSG_NAME, (n)

/* A non-negative JSON integer below 2^63 (json-c clamps larger ones). */
static int get_count(struct json_object *v, uint64_t *out)
{
	int64_t x;

	if (!v || json_object_get_type(v) != json_type_int)
		return -1;
	x = json_object_get_int64(v);
	if (x < 0 || x == INT64_MAX)
		return -1;
	*out = (uint64_t)x;
	return 0;
}

static int parse_tensor(const char *name, struct json_object *e,
			struct ash_model_tensor_info *t, uint64_t avail,
			char *err, size_t errlen)
{
	struct json_object *dtype = NULL, *shape = NULL, *offs = NULL;
	uint64_t begin, end, numel, bytes;
	const char *ds;
	size_t i, n;
	int ret;

	if (json_object_get_type(e) != json_type_object)
		return ash_parse_fail(err, errlen,
			"tensor '%.*s': entry is not a JSON object",
			QNAME(name));
	json_object_object_foreach(e, key, val) {
		if (!strcmp(key, "dtype"))
			dtype = val;
		else if (!strcmp(key, "shape"))
			shape = val;
		else if (!strcmp(key, "data_offsets"))
			offs = val;
		else
			return ash_parse_fail(err, errlen,
				"tensor '%.*s': unknown key '%.*s'",
				QNAME(name), QNAME(key));
	}
	if (!dtype || !shape || !offs)
		return ash_parse_fail(err, errlen,
			"tensor '%.*s': missing '%s'", QNAME(name),
			!dtype ? "dtype" : !shape ? "shape" : "data_offsets");
	if (json_object_get_type(dtype) != json_type_string)
		return ash_parse_fail(err, errlen,
			"tensor '%.*s': dtype is not a string", QNAME(name));
	ds = json_object_get_string(dtype);
	t->dtype = ash_dtype_from_safetensors(ds,
				(size_t)json_object_get_string_len(dtype));
	if (t->dtype == ASH_DTYPE_INVALID)
		return ash_parse_fail(err, errlen,
			"tensor '%.*s': unknown dtype '%.*s'", QNAME(name),
			QNAME(ds));

	if (json_object_get_type(shape) != json_type_array)
		return ash_parse_fail(err, errlen,
			"tensor '%.*s': shape is not an array", QNAME(name));
	n = json_object_array_length(shape);
	if (n > ASH_MODEL_NDIM_MAX)
		return ash_parse_fail(err, errlen,
			"tensor '%.*s': %zu dimensions, more than %d",
			QNAME(name), n, ASH_MODEL_NDIM_MAX);
	t->ndim = (int)n;
	for (i = 0; i < n; i++)
		if (get_count(json_object_array_get_idx(shape, i),
			      &t->shape[i]))
			return ash_parse_fail(err, errlen,
				"tensor '%.*s': shape entry %zu is not a non-negative integer below 2^63",
				QNAME(name), i);
	if (ash_shape_numel(t->shape, t->ndim, &numel))
		return ash_parse_fail(err, errlen,
			"tensor '%.*s': element count of the shape overflows",
			QNAME(name));
	ret = ash_dtype_bytes(t->dtype, numel, 0, &bytes);
	if (ret == -EDOM)
		return ash_parse_fail(err, errlen,
			"tensor '%.*s': %" PRIu64 " elements of %s are not a whole number of bytes",
			QNAME(name), numel, ash_dtype_name(t->dtype));
	if (ret)
		return ash_parse_fail(err, errlen,
			"tensor '%.*s': byte size of the shape overflows",
			QNAME(name));

	if (json_object_get_type(offs) != json_type_array ||
	    json_object_array_length(offs) != 2 ||
	    get_count(json_object_array_get_idx(offs, 0), &begin) ||
	    get_count(json_object_array_get_idx(offs, 1), &end))
		return ash_parse_fail(err, errlen,
			"tensor '%.*s': data_offsets is not two non-negative integers",
			QNAME(name));
	if (end < begin)
		return ash_parse_fail(err, errlen,
			"tensor '%.*s': data_offsets end %" PRIu64
			" before begin %" PRIu64, QNAME(name), end, begin);
	if (end > avail)
		return ash_parse_fail(err, errlen,
			"tensor '%.*s': data_offsets end %" PRIu64
			" lies beyond the end of the file (%" PRIu64
			" bytes of data)", QNAME(name), end, avail);
	if (end - begin != bytes)
		return ash_parse_fail(err, errlen,
			"tensor '%.*s': %" PRIu64 " bytes of data, but dtype %s and its shape make %" PRIu64,
			QNAME(name), end - begin, ash_dtype_name(t->dtype),
			bytes);
	t->offset = begin;
	t->bytes = bytes;
	return 0;
}

static int check_metadata(struct json_object *m, char *err, size_t errlen)
{
	if (json_object_get_type(m) != json_type_object)
		return ash_parse_fail(err, errlen,
			"__metadata__ is not a JSON object");
	json_object_object_foreach(m, key, val)
		if (json_object_get_type(val) != json_type_string)
			return ash_parse_fail(err, errlen,
				"__metadata__ entry '%.*s' is not a string",
				QNAME(key));
	return 0;
}

/* The root's duplicate key, by its raw text, for the message. */
static void name_duplicate(struct scan *sc, char *err, size_t errlen)
{
	size_t i;

	qsort(sc->keys, sc->nr_keys, sizeof(*sc->keys), span_cmp);
	for (i = 1; i < sc->nr_keys; i++)
		if (!span_cmp(&sc->keys[i - 1], &sc->keys[i])) {
			ash_parse_fail(err, errlen,
				"duplicate tensor name '%.*s'",
				(int)(sc->keys[i].len > ST_MSG_NAME ?
				      ST_MSG_NAME : sc->keys[i].len),
				sc->keys[i].p);
			return;
		}
	ash_parse_fail(err, errlen,
		"duplicate key in the header (written two ways)");
}

/* Object members in the tree json-c built. */
static uint64_t tree_members(struct json_object *o)
{
	uint64_t n = 0;
	size_t i, len;

	switch (json_object_get_type(o)) {
	case json_type_object:
		n = (uint64_t)json_object_object_length(o);
		json_object_object_foreach(o, key, val) {
			(void)key;
			n += tree_members(val);
		}
		break;
	case json_type_array:
		len = json_object_array_length(o);
		for (i = 0; i < len; i++)
			n += tree_members(json_object_array_get_idx(o, i));
		break;
	default:
		break;
	}
	return n;
}

/*
 * The format forbids holes: the tensors, in offset order, must tile the
 * data section exactly from its first byte to the file's last, so that a
 * file cannot hide bytes (and be two things at once).  The reference
 * implementation refuses gaps (InvalidOffset) and trailing bytes
 * (MetadataIncompleteBuffer) alike.  @hdr's tensors are sorted by offset
 * (ash_parse_finish()).
 */
static int check_contiguous(const struct ash_model_header *hdr,
			    uint64_t avail, char *err, size_t errlen)
{
	uint64_t end = 0;
	int i;

	for (i = 0; i < hdr->nr_tensors; i++) {
		const struct ash_model_tensor_info *t = &hdr->tensors[i];

		if (t->offset != end)
			return ash_parse_fail(err, errlen,
				"tensor '%s' starts at data offset %" PRIu64
				", not at %" PRIu64 " where the tensors before it end: safetensors files have no holes",
				t->name, t->offset, end);
		end = t->offset + t->bytes;
	}
	if (end != avail)
		return ash_parse_fail(err, errlen,
			"%" PRIu64 " bytes follow the last tensor's data: safetensors files end where their last tensor does",
			avail - end);
	return 0;
}

static int parse_json(const char *json, size_t n, uint64_t avail,
		      struct ash_model_header *hdr, char *err, size_t errlen)
{
	struct json_tokener *tok;
	struct json_object *root;
	struct scan sc = { 0 };
	size_t end, i;
	int ret, nr = 0;

	ret = scan_json(json, n, &sc, err, errlen);
	if (ret)
		goto out_scan;
	tok = json_tokener_new_ex(ST_DEPTH_MAX + 1);
	if (!tok) {
		ret = -ENOMEM;
		goto out_scan;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	root = json_tokener_parse_ex(tok, json, (int)n);
	if (!root || json_tokener_get_error(tok) != json_tokener_success) {
		enum json_tokener_error e = json_tokener_get_error(tok);

		ret = ash_parse_fail(err, errlen, "invalid JSON header: %s",
				     e == json_tokener_continue ?
				     "unexpected end" :
				     json_tokener_error_desc(e));
		goto out_tok;
	}
	end = json_tokener_get_parse_end(tok);
	for (i = end; i < n; i++)
		if (json[i] != ' ') {
			ret = ash_parse_fail(err, errlen,
				"invalid JSON header: trailing bytes after the object at %zu",
				i);
			goto out_tok;
		}
	if (json_object_get_type(root) != json_type_object) {
		ret = ash_parse_fail(err, errlen,
				     "header is not a JSON object");
		goto out_tok;
	}
	if (tree_members(root) != sc.members) {
		name_duplicate(&sc, err, errlen);
		ret = -EINVAL;
		goto out_tok;
	}

	hdr->tensors = calloc((size_t)json_object_object_length(root) + 1,
			      sizeof(*hdr->tensors));
	if (!hdr->tensors) {
		ret = -ENOMEM;
		goto out_tok;
	}
	ret = 0;
	json_object_object_foreach(root, key, val) {
		struct ash_model_tensor_info *t;
		size_t klen = strlen(key);

		if (!strcmp(key, "__metadata__")) {
			ret = check_metadata(val, err, errlen);
			if (ret)
				break;
			hdr->nr_metadata = (uint32_t)json_object_object_length(val);
			continue;
		}
		/* json-c keys are C strings: a name holding \u0000 is
		 * shorter than its text; its bytes must be UTF-8. */
		if (!klen || klen >= ASH_MODEL_NAME_MAX ||
		    utf8_check((const unsigned char *)key, klen) != klen) {
			ret = ash_parse_fail(err, errlen,
				"tensor name '%.*s' is empty, longer than %d bytes or not UTF-8",
				QNAME(key), ASH_MODEL_NAME_MAX - 1);
			break;
		}
		t = &hdr->tensors[nr];
		t->name = strdup(key);
		if (!t->name) {
			ret = -ENOMEM;
			break;
		}
		hdr->nr_tensors = ++nr;
		ret = parse_tensor(key, val, t, avail, err, errlen);
		if (ret)
			break;
	}
	if (!ret)
		ret = ash_parse_finish(hdr, avail, err, errlen);
	if (!ret)
		ret = check_contiguous(hdr, avail, err, errlen);
out_tok:
	json_object_put(root);
	json_tokener_free(tok);
out_scan:
	free(sc.keys);
	return ret;
}

int ash_safetensors_parse(const void *buf, size_t len, uint64_t file_size,
			  struct ash_model_header *hdr, char *err,
			  size_t errlen)
{
	const unsigned char *p = buf;
	uint64_t n;
	size_t bad;
	int ret;

	ret = ash_parse_start(hdr, len, file_size, err, errlen);
	if (ret)
		return ret;
	if (file_size < 8)
		return ash_parse_fail(err, errlen,
			"truncated: %" PRIu64 " bytes, shorter than the 8-byte header length",
			file_size);
	if (len < 8)
		return 8;
	n = ash_le64(p);
	if (n > ASH_MODEL_HEADER_MAX)
		return ash_parse_fail(err, errlen,
			"header length %" PRIu64 " exceeds the limit of %llu bytes",
			n, ASH_MODEL_HEADER_MAX);
	if (n > file_size - 8)
		return ash_parse_fail(err, errlen,
			"truncated: header length %" PRIu64
			" runs past the end of the %" PRIu64 "-byte file",
			n, file_size);
	if (n < 2)
		return ash_parse_fail(err, errlen,
			"header length %" PRIu64 " is too short for a JSON object",
			n);
	if (len - 8 < n)
		return (int)(8 + n);
	bad = utf8_check(p + 8, (size_t)n);
	if (bad != n)
		return ash_parse_fail(err, errlen,
			"header is not valid UTF-8 (byte %zu)", bad);
	hdr->format = ASH_FORMAT_SAFETENSORS;
	hdr->data_offset = 8 + n;
	hdr->alignment = 1;
	ret = parse_json((const char *)p + 8, (size_t)n, file_size - 8 - n,
			 hdr, err, errlen);
	if (ret)
		ash_model_header_free(hdr);
	return ret;
}
