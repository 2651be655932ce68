/* SPDX-License-Identifier: MIT */
/*
 * Tokenizers from a model's own vocabulary (runner.h).
 *
 * WordPiece is BERT's (Hugging Face's BertTokenizer with do_lower_case):
 * control characters dropped, whitespace split, ASCII punctuation and CJK
 * ideographs made tokens of their own, ASCII lowercased, then each word cut
 * greedily into the longest pieces the vocabulary has ("##" marks a piece
 * that continues a word), a word that cannot be cut, or is longer than 100
 * characters, becoming [UNK].  Accents are not stripped (that needs Unicode
 * decomposition): text with accented letters can tokenize differently from
 * the reference.
 *
 * SentencePiece is llama's as GGUF carries it (tokenizer.ggml.model
 * "llama"): spaces become U+2581 with one in front, the text is split into
 * UTF-8 characters, and the adjacent pair whose concatenation is a token
 * of the highest score is merged until none is; characters with no token
 * become their bytes' <0xNN> tokens.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"

#define WORD_MAX_CHARS	100

static uint32_t hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u;	/* FNV-1a */
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

int ash__tok_init(struct ash_tokenizer *t, int kind,
		  const char *const *text, const uint64_t *len,
		  const float *score, uint32_t n)
{
	uint64_t total = 0, cap = 1;
	char *p;
	uint32_t i;

	memset(t, 0, sizeof(*t));
	t->kind = kind;
	t->n = n;
	t->unk = t->cls = t->sep = t->bos = UINT32_MAX;
	for (i = 0; i < n; i++)
		total += len[i] + 1;
	while (cap < 2 * (uint64_t)n)
		cap <<= 1;
	if (cap > UINT32_MAX)
		return -ENOMEM;
	t->text = calloc(n ? n : 1, sizeof(*t->text));
	t->pool = malloc(total ? total : 1);
	t->slots = calloc(cap, sizeof(*t->slots));
	t->score = score ? malloc(sizeof(float) * (n ? n : 1)) : NULL;
	if (!t->text || !t->pool || !t->slots || (score && !t->score)) {
		ash__tok_free(t);
		return -ENOMEM;
	}
	t->mask = (uint32_t)(cap - 1);
	p = t->pool;
	for (i = 0; i < n; i++) {
		uint32_t h;

		memcpy(p, text[i], len[i]);
		p[len[i]] = '\0';
		t->text[i] = p;
		p += len[i] + 1;
		if (score)
			t->score[i] = score[i];
		/* The first of duplicate texts wins, as a lookup finds it. */
		if (ash__tok_find(t, t->text[i], len[i]) != UINT32_MAX)
			continue;
		for (h = hash(t->text[i], len[i]) & t->mask; t->slots[h];
		     h = (h + 1) & t->mask)
			;
		t->slots[h] = i + 1;
	}
	return 0;
}

void ash__tok_free(struct ash_tokenizer *t)
{
	free(t->text);
	free(t->pool);
	free(t->slots);
	free(t->score);
	memset(t, 0, sizeof(*t));
}

uint32_t ash__tok_find(const struct ash_tokenizer *t, const char *s,
		       size_t len)
{
	uint32_t h;

	if (!t->slots)
		return UINT32_MAX;
	for (h = hash(s, len) & t->mask; t->slots[h]; h = (h + 1) & t->mask) {
		const char *x = t->text[t->slots[h] - 1];

		if (!strncmp(x, s, len) && x[len] == '\0')
			return t->slots[h] - 1;
	}
	return UINT32_MAX;
}

/* Bytes of the UTF-8 character at @s (1 for a stray byte). */
static size_t utf8_len(const char *s)
{
	unsigned char c = (unsigned char)*s;
	size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 :
		   (c >> 3) == 30 ? 4 : 1;
	size_t i;

	for (i = 1; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			return 1;
	return n;
}

static uint32_t utf8_cp(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;

	switch (n) {
	case 2:
		return (u[0] & 0x1fu) << 6 | (u[1] & 0x3f);
	case 3:
		return (u[0] & 0x0fu) << 12 | (u[1] & 0x3fu) << 6 | (u[2] & 0x3f);
	case 4:
		return (u[0] & 0x07u) << 18 | (u[1] & 0x3fu) << 12 |
		       (u[2] & 0x3fu) << 6 | (u[3] & 0x3f);
	}
	return u[0];
}

struct out {
	uint32_t *ids;
	uint32_t max, n;
	int full;
};

static void emit(struct out *o, uint32_t id)
{
	if (o->n < o->max)
		o->ids[o->n] = id;
	else
		o->full = 1;
	o->n++;
}

/* ---- WordPiece ---- */

static int is_punct(uint32_t c)
{
	return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) ||
	       (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
}

static int is_cjk(uint32_t c)
{
	return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
	       (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0xF900 && c <= 0xFAFF) ||
	       (c >= 0x2F800 && c <= 0x2FA1F);
}

/* One word (@len bytes, lowercased) as pieces. */
static int wordpiece(const struct ash_tokenizer *t, const char *w, size_t len,
		     struct out *o)
{
	size_t start = 0, chars = 0, i;
	uint32_t mark = o->n;
	char *buf;

	for (i = 0; i < len; i += utf8_len(w + i))
		chars++;
	if (chars > WORD_MAX_CHARS) {
		emit(o, t->unk);
		return 0;
	}
	buf = malloc(len + 3);
	if (!buf)
		return -ENOMEM;
	while (start < len) {
		size_t end = len;
		uint32_t id = UINT32_MAX;

		for (; end > start; end--) {
			size_t n = 0;

			if (end < len && ((unsigned char)w[end] & 0xc0) == 0x80)
				continue;	/* inside a character */
			if (start) {
				memcpy(buf, "##", 2);
				n = 2;
			}
			memcpy(buf + n, w + start, end - start);
			n += end - start;
			id = ash__tok_find(t, buf, n);
			if (id != UINT32_MAX)
				break;
		}
		if (id == UINT32_MAX) {
			o->n = mark;	/* the whole word is unknown */
			o->full = o->n > o->max;
			emit(o, t->unk);
			break;
		}
		emit(o, id);
		start = end;
	}
	free(buf);
	return 0;
}

static int encode_wordpiece(const struct ash_tokenizer *t, const char *text,
			    struct out *o)
{
	size_t len = strlen(text), i = 0, wl = 0;
	char *word = malloc(len + 1);
	int ret = 0;

	if (!word)
		return -ENOMEM;
	if (t->cls != UINT32_MAX)
		emit(o, t->cls);
	while (!ret && i <= len) {
		size_t n = i < len ? utf8_len(text + i) : 1;
		uint32_t c = i < len ? utf8_cp(text + i, n) : ' ';
		int space = c == ' ' || c == '\t' || c == '\n' || c == '\r';
		int alone = is_punct(c) || is_cjk(c);

		if ((space || alone) && wl) {
			ret = wordpiece(t, word, wl, o);
			wl = 0;
		}
		if (!ret && alone) {
			ret = wordpiece(t, text + i, n, o);
		} else if (!space && c >= 0x20 && c != 0x7f) {
			memcpy(word + wl, text + i, n);
			if (t->lowercase && n == 1 && c >= 'A' && c <= 'Z')
				word[wl] = (char)(c - 'A' + 'a');
			wl += n;
		}
		i += n;
	}
	if (!ret && t->sep != UINT32_MAX)
		emit(o, t->sep);
	free(word);
	return ret;
}

/* ---- SentencePiece ---- */

struct sym {
	size_t off, len;
};

static int encode_spm(const struct ash_tokenizer *t, const char *text,
		      struct out *o)
{
	static const char space[] = "\xe2\x96\x81";	/* U+2581 */
	size_t len = strlen(text), n = 0, nsym = 0, i, j;
	char *s = malloc(3 * (len + 1) + 1);
	struct sym *sym = malloc(sizeof(*sym) * (len + 1) * 3);

	if (!s || !sym) {
		free(s);
		free(sym);
		return -ENOMEM;
	}
	memcpy(s, space, 3);
	n = 3;
	for (i = 0; i < len; i++) {
		if (text[i] == ' ') {
			memcpy(s + n, space, 3);
			n += 3;
		} else {
			s[n++] = text[i];
		}
	}
	for (i = 0; i < n; i += sym[nsym++].len) {
		sym[nsym].off = i;
		sym[nsym].len = utf8_len(s + i);
	}
	for (;;) {
		float best = 0;
		size_t at = SIZE_MAX;

		for (i = 0; i + 1 < nsym; i++) {
			uint32_t id = ash__tok_find(t, s + sym[i].off,
						    sym[i].len +
						    sym[i + 1].len);

			if (id != UINT32_MAX &&
			    (at == SIZE_MAX || t->score[id] > best)) {
				best = t->score[id];
				at = i;
			}
		}
		if (at == SIZE_MAX)
			break;
		sym[at].len += sym[at + 1].len;
		memmove(&sym[at + 1], &sym[at + 2],
			sizeof(*sym) * (nsym - at - 2));
		nsym--;
	}
	if (t->bos != UINT32_MAX)
		emit(o, t->bos);
	for (i = 0; i < nsym; i++) {
		uint32_t id = ash__tok_find(t, s + sym[i].off, sym[i].len);

		if (id != UINT32_MAX) {
			emit(o, id);
			continue;
		}
		for (j = 0; j < sym[i].len; j++) {	/* byte fallback */
			char b[8];

			snprintf(b, sizeof(b), "<0x%02X>",
				 (unsigned char)s[sym[i].off + j]);
			id = ash__tok_find(t, b, 6);
			if (id == UINT32_MAX)
				id = t->unk;
			if (id != UINT32_MAX)
				emit(o, id);
		}
	}
	free(s);
	free(sym);
	return 0;
}

int ash__tok_encode(const struct ash_tokenizer *t, const char *text,
		    uint32_t *ids, uint32_t max)
{
	struct out o = { .ids = ids, .max = max };
	int ret;

	if (t->kind == ASH_TOK_WORDPIECE && t->unk != UINT32_MAX)
		ret = encode_wordpiece(t, text, &o);
	else if (t->kind == ASH_TOK_SPM && t->score)
		ret = encode_spm(t, text, &o);
	else
		return -EOPNOTSUPP;
	if (ret)
		return ret;
	if (o.full || o.n > INT32_MAX)
		return -ENOSPC;
	return (int)o.n;
}
