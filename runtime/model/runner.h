/* SPDX-License-Identifier: MIT */
/*
 * The model runner's parts: the runner (runner.c: loading, the forward
 * passes of each architecture as command buffers) and the tokenizers
 * (tokenizer.c), which know nothing of devices.
 */
#ifndef ACCELSHARE_MODEL_RUNNER_H
#define ACCELSHARE_MODEL_RUNNER_H

#include <stddef.h>
#include <stdint.h>

#include "../internal.h"

enum ash_tok_kind {
	ASH_TOK_NONE = 0,	/* token ids only */
	ASH_TOK_WORDPIECE,	/* BERT's: vocab.txt, or GGUF's "bert" */
	ASH_TOK_SPM,		/* SentencePiece (GGUF's "llama"): scored merges */
};

/**
 * struct ash_tokenizer - a vocabulary and how text maps onto it
 * @kind: enum ash_tok_kind.
 * @n: tokens.
 * @text: each token's text, NUL-terminated, in one block (@pool).
 * @score: SentencePiece merge scores (NULL for WordPiece).
 * @slots: hash of text to id + 1 (0 empty), @mask + 1 entries.
 * @unk, @cls, @sep, @bos: special ids, UINT32_MAX where there is none.
 */
struct ash_tokenizer {
	int kind;
	uint32_t n;
	char **text;
	char *pool;
	float *score;
	uint32_t *slots;
	uint32_t mask;
	uint32_t unk, cls, sep, bos;
	int lowercase;
};

/* A tokenizer over @n texts (copied; @score may be NULL); -ENOMEM. */
ASH_HIDDEN int ash__tok_init(struct ash_tokenizer *t, int kind,
			     const char *const *text, const uint64_t *len,
			     const float *score, uint32_t n);
ASH_HIDDEN void ash__tok_free(struct ash_tokenizer *t);
/* The id of @s (@len bytes), or UINT32_MAX. */
ASH_HIDDEN uint32_t ash__tok_find(const struct ash_tokenizer *t, const char *s,
				  size_t len);
/* @text as ids into @ids (at most @max, specials included: [CLS] ...
 * [SEP] for WordPiece, BOS first for SentencePiece): the count, -ENOSPC
 * when more than @max, -ENOMEM. */
ASH_HIDDEN int ash__tok_encode(const struct ash_tokenizer *t, const char *text,
			       uint32_t *ids, uint32_t max);

#endif /* ACCELSHARE_MODEL_RUNNER_H */
