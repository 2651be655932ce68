// SPDX-License-Identifier: MIT
/*
 * The model runner's host-side parts: WordPiece and SentencePiece on small
 * vocabularies (the cases that decide correctness: longest pieces first,
 * "##" continuations, unknown words, punctuation, lowercasing, the best
 * scored merge first, byte fallback, the output limit), and the GGUF
 * metadata lookups on a model gguf-py wrote (tests/python/
 * write_runner_refs.py): integers, floats, strings, arrays, absent keys and
 * keys of another type.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "format.h"
#include "runner.h"

#ifndef ASH_RUNNER_REFS_DIR
#define ASH_RUNNER_REFS_DIR "build/runner-refs"
#endif

static void init(struct ash_tokenizer *t, int kind, const char *const *v,
		 const float *score, uint32_t n)
{
	uint64_t len[64];
	uint32_t i;

	assert_true(n <= 64);
	for (i = 0; i < n; i++)
		len[i] = strlen(v[i]);
	assert_int_equal(ash__tok_init(t, kind, v, len, score, n), 0);
}

static void wordpiece_cuts_longest_pieces_first(void **state)
{
	static const char *const v[] = {
		"[PAD]", "[UNK]", "[CLS]", "[SEP]", "un", "##aff", "##able",
		"runn", "##ing", "run", "!", ",", "hello", "##a", "a",
	};
	struct ash_tokenizer t;
	uint32_t ids[16];

	(void)state;
	init(&t, ASH_TOK_WORDPIECE, v, NULL, 15);
	t.unk = 1;
	t.cls = 2;
	t.sep = 3;
	t.lowercase = 1;
	assert_int_equal(ash__tok_find(&t, "##able", 6), 6);
	assert_int_equal(ash__tok_find(&t, "##abl", 5), UINT32_MAX);
	/* [CLS] un ##aff ##able , runn ##ing ! [UNK] [SEP] */
	assert_int_equal(ash__tok_encode(&t, "UnAffable, running!  xyz",
					 ids, 16), 10);
	{
		static const uint32_t want[] = { 2, 4, 5, 6, 11, 7, 8, 10, 1,
						 3 };

		assert_memory_equal(ids, want, sizeof(want));
	}
	/* a word with a piece that cannot be cut is [UNK] as a whole */
	assert_int_equal(ash__tok_encode(&t, "hellox", ids, 16), 3);
	assert_int_equal(ids[1], 1);
	assert_int_equal(ash__tok_encode(&t, "helloa", ids, 16), 4);
	assert_int_equal(ids[2], 13);
	/* more than max: -ENOSPC; control characters dropped */
	assert_int_equal(ash__tok_encode(&t, "run run run", ids, 4), -ENOSPC);
	assert_int_equal(ash__tok_encode(&t, "r\x01un", ids, 16), 3);
	assert_int_equal(ids[1], 9);
	ash__tok_free(&t);
}

static void sentencepiece_merges_best_score_first(void **state)
{
	static const char *const v[] = {
		"<unk>", "<s>", "</s>", "<0x21>", "\xe2\x96\x81", "a", "b", "c",
		"ab", "bc", "\xe2\x96\x81" "a", "\xe2\x96\x81" "abc",
	};
	static const float score[] = {
		0, 0, 0, 0, -1, -1, -1, -1, -2, -0.5f, -3, -4,
	};
	struct ash_tokenizer t;
	uint32_t ids[16];

	(void)state;
	/* "_abc": bc (-0.5) merges before ab (-2), then _a (-3): <s> _a bc;
	 * with "_abc" in the vocabulary that pair merges too: <s> _abc. */
	init(&t, ASH_TOK_SPM, v, score, 12);
	t.bos = 1;
	assert_int_equal(ash__tok_encode(&t, "abc", ids, 16), 2);
	assert_int_equal(ids[1], 11);
	ash__tok_free(&t);
	init(&t, ASH_TOK_SPM, v, score, 11);
	t.unk = 0;
	t.bos = 1;
	assert_int_equal(ash__tok_encode(&t, "abc", ids, 16), 3);
	assert_int_equal(ids[0], 1);
	assert_int_equal(ids[1], 10);
	assert_int_equal(ids[2], 9);
	/* '!' has no piece: its byte token; 'd' has neither: <unk> */
	assert_int_equal(ash__tok_encode(&t, "a!d", ids, 16), 4);
	assert_int_equal(ids[2], 3);
	assert_int_equal(ids[3], 0);
	ash__tok_free(&t);
}

static void gguf_metadata_as_gguf_py_wrote_it(void **state)
{
	const char *path = ASH_RUNNER_REFS_DIR "/llama-q8_0.gguf";
	struct ash_model_header hdr;
	const unsigned char *data;
	const char *s;
	uint64_t n, len;
	uint32_t v, et;
	struct stat st;
	char err[256];
	float f;
	int fd;

	(void)state;
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0 && !fstat(fd, &st));
	assert_int_equal(ash_model_read_header(fd, (uint64_t)st.st_size, &hdr,
					       err, sizeof(err)), 0);
	close(fd);
	assert_int_equal(ash_model_kv_str(&hdr, "general.architecture", &s,
					  &len), 0);
	assert_true(len == 5 && !memcmp(s, "llama", 5));
	assert_int_equal(ash_model_kv_u32(&hdr, "llama.embedding_length", &v),
			 0);
	assert_int_equal(v, 64);
	assert_int_equal(ash_model_kv_u32(&hdr, "llama.attention.head_count_kv",
					  &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(ash_model_kv_f32(&hdr, "llama.rope.freq_base", &f),
			 0);
	assert_true(f == 10000.0f);
	assert_int_equal(ash_model_kv_u32(&hdr, "no.such.key", &v), -ENOENT);
	assert_int_equal(ash_model_kv_u32(&hdr, "general.architecture", &v),
			 -EINVAL);
	assert_int_equal(ash_model_kv_f32(&hdr, "llama.block_count", &f),
			 -EINVAL);
	assert_int_equal(ash_model_kv_array(&hdr, "tokenizer.ggml.tokens", &et,
					    &n, &data), 0);
	assert_int_equal(et, ASH_GGUF_STRING);
	assert_int_equal(n, 512);
	data = ash_model_kv_next_str(data, &s, &len);
	assert_true(len == 5 && !memcmp(s, "<unk>", 5));
	ash_model_kv_next_str(data, &s, &len);
	assert_true(len == 3 && !memcmp(s, "<s>", 3));
	assert_int_equal(ash_model_kv_array(&hdr, "tokenizer.ggml.scores", &et,
					    &n, &data), 0);
	assert_int_equal(et, ASH_GGUF_FLOAT32);
	ash_model_header_free(&hdr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(wordpiece_cuts_longest_pieces_first),
		cmocka_unit_test(sentencepiece_merges_best_score_first),
		cmocka_unit_test(gguf_metadata_as_gguf_py_wrote_it),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
