/* SPDX-License-Identifier: MIT */
/*
 * The model runner (ash_runner_* in <accelshare.h>, docs/tenant.md).
 *
 * A model file is loaded with ash_model_load() into the context's
 * partition; the runner adds a KV cache and activations (device memory
 * charged to the same partition) and a staging buffer through which token
 * ids go in and logits come out, so that it runs on devices that cannot be
 * mapped as on those that can.  Each forward pass is recorded as a command
 * buffer of op-table ops and submitted; nothing of the model runs on the
 * tenant's CPU but the tokenizer and the embedding's final normalization.
 *
 * Architectures:
 *  - llama (GGUF): RMSNorm, RoPE (interleaved pairs, llama.cpp's "normal"
 *    mode, which GGUF's llama tensors are converted for), grouped-query
 *    attention over the KV cache, SwiGLU; weights F32, F16, BF16, Q8_0 or
 *    Q4_0; output tied to token_embd when output.weight is absent.
 *  - bert (GGUF, or a Hugging Face checkpoint: model.safetensors beside
 *    config.json and vocab.txt): absolute positions, post-LayerNorm, GELU
 *    (erf), bidirectional attention; the embedding is the mean over tokens
 *    of the last layer, L2-normalized (sentence-transformers' pooling).
 *
 * Biases are added by broadcasting them into the output first (EMBEDDING
 * of a one-row table with ids all 0) and accumulating the product into it
 * (GEMM with beta 1); residuals likewise by GEMM with beta 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "format.h"
#include "runner.h"

#define CTX_DEFAULT_MAX	4096	/* KV cache tokens when the model says more */
#define BATCH_DEFAULT	64
#define NAME_LEN	96

enum arch { ARCH_LLAMA = 1, ARCH_BERT };

struct layer {
	/* both */
	struct ash_tensor_ref wq, wk, wv, wo, w_up, w_down;
	/* llama */
	struct ash_tensor_ref attn_norm, ffn_norm, w_gate;
	/* bert */
	struct ash_tensor_ref bq, bk, bv, bo, b_up, b_down;
	struct ash_tensor_ref ln1_w, ln1_b, ln2_w, ln2_b;
};

struct hparams {
	uint32_t n_vocab, n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff;
	uint32_t n_ctx_train, n_pos, n_types;
	float eps, theta;
};

struct ash_runner {
	struct ash_ctx *ctx;
	struct ash_model *model;
	enum arch arch;
	struct hparams hp;
	struct layer *layers;
	struct ash_tensor_ref tok_embd, out_norm, output;	/* llama */
	struct ash_tensor_ref pos_embd, type_embd, emb_ln_w, emb_ln_b;	/* bert */
	struct ash_tokenizer tok;
	uint32_t bos, eos;
	uint32_t n_ctx, n_batch, pos;
	uint64_t weight_bytes;
	struct ash_buf *kv;	/* llama: K then V per layer; bert: one K, V */
	struct ash_buf *act;	/* activations, below */
	struct ash_buf *io;	/* staging: ids in, logits and next out */
	void *io_map;
	struct ash_cmdbuf *cb;
	/* byte offsets in act */
	uint64_t a_x, a_h, a_q, a_att, a_gate, a_up, a_out, a_ids, a_zero,
		 a_next, a_ones, a_size;
	/* byte offsets in io */
	uint64_t i_ids, i_out, i_next, i_size;
};

static int fail(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

/* ---- tensors ---- */

struct want {
	char *err;
	size_t errlen;
	const struct ash_model *model;
	const char *prefix;	/* safetensors BERT: "" or "bert." */
};

static int dtype_runs(int dtype)
{
	return dtype == ASH_DTYPE_F32 || dtype == ASH_DTYPE_F16 ||
	       dtype == ASH_DTYPE_BF16 || dtype == ASH_DTYPE_Q8_0 ||
	       dtype == ASH_DTYPE_Q4_0;
}

/*
 * Tensor @name as a rows x cols matrix (rows 1: a vector of cols), of a
 * dtype the ops take (@f32_only: F32, as norms and biases must be).
 * @optional: 1 when a missing tensor is not an error (ref->buf NULL).
 */
static int tensor(const struct want *w, const char *name, uint32_t rows,
		  uint32_t cols, int f32_only, int optional,
		  struct ash_tensor_ref *ref)
{
	char full[NAME_LEN + 8];
	const struct ash_tensor *t;

	snprintf(full, sizeof(full), "%s%s", w->prefix, name);
	t = ash_model_find(w->model, full);
	memset(ref, 0, sizeof(*ref));
	if (!t)
		return optional ? 0 : fail(w->err, w->errlen, -EINVAL,
					   "the model has no tensor %s", full);
	if (f32_only ? t->dtype != ASH_DTYPE_F32 : !dtype_runs(t->dtype))
		return fail(w->err, w->errlen, -EOPNOTSUPP,
			    "tensor %s is %s, which accelshare cannot run there (%s)",
			    full, ash_dtype_name(t->dtype),
			    f32_only ? "F32 only" :
			    "F32, F16, BF16, Q8_0 or Q4_0");
	if (ash_tensor_ref_of(t, ref) ||
	    (uint64_t)ref->rows * ref->cols != (uint64_t)rows * cols ||
	    ref->cols != cols)
		return fail(w->err, w->errlen, -EINVAL,
			    "tensor %s has shape %llu x %llu, not %u x %u",
			    full, (unsigned long long)ref->rows,
			    (unsigned long long)ref->cols, rows, cols);
	ref->rows = rows;
	return 0;
}

static struct ash_tensor_ref sub_rows(const struct ash_tensor_ref *t,
				      uint32_t r0, uint32_t rows)
{
	struct ash_tensor_ref r = *t;
	uint64_t ld = t->ld ? t->ld : t->cols;

	r.offset += r0 * ld * 4;	/* f32 only */
	r.rows = rows;
	return r;
}

static struct ash_tensor_ref f32ref(struct ash_buf *buf, uint64_t off,
				    uint32_t rows, uint32_t cols)
{
	struct ash_tensor_ref r = {
		.buf = buf, .offset = off, .dtype = ASH_DTYPE_F32,
		.rows = rows, .cols = cols,
	};

	return r;
}

/* ---- hyperparameters ---- */

static int kv_u32(const struct ash_model_header *hdr, const char *arch,
		  const char *key, uint32_t def, uint32_t *v, char *err,
		  size_t errlen)
{
	char full[128];
	int ret;

	snprintf(full, sizeof(full), "%s.%s", arch, key);
	ret = ash_model_kv_u32(hdr, full, v);
	if (ret == -ENOENT && def != UINT32_MAX) {
		*v = def;
		return 0;
	}
	if (ret)
		return fail(err, errlen, -EINVAL,
			    ret == -ENOENT ? "the model has no %s" :
			    "%s is not an unsigned integer", full);
	return 0;
}

static int kv_f32(const struct ash_model_header *hdr, const char *arch,
		  const char *key, float def, float *v, char *err,
		  size_t errlen)
{
	char full[128];
	int ret;

	snprintf(full, sizeof(full), "%s.%s", arch, key);
	ret = ash_model_kv_f32(hdr, full, v);
	if (ret == -ENOENT && !isnan(def)) {
		*v = def;
		return 0;
	}
	if (ret)
		return fail(err, errlen, -EINVAL,
			    ret == -ENOENT ? "the model has no %s" :
			    "%s is not a float", full);
	return 0;
}

static int gguf_hparams(struct ash_runner *r, const struct ash_model_header *h,
			const char *a, char *err, size_t errlen)
{
	struct hparams *hp = &r->hp;
	uint32_t rope_dim;
	int llama = r->arch == ARCH_LLAMA;

	if (kv_u32(h, a, "embedding_length", UINT32_MAX, &hp->n_embd, err,
		   errlen) ||
	    kv_u32(h, a, "block_count", UINT32_MAX, &hp->n_layer, err,
		   errlen) ||
	    kv_u32(h, a, "feed_forward_length", UINT32_MAX, &hp->n_ff, err,
		   errlen) ||
	    kv_u32(h, a, "attention.head_count", UINT32_MAX, &hp->n_head, err,
		   errlen) ||
	    kv_u32(h, a, "context_length", 2048, &hp->n_ctx_train, err,
		   errlen))
		return -EINVAL;
	if (kv_u32(h, a, "attention.head_count_kv", hp->n_head,
		   &hp->n_head_kv, err, errlen))
		return -EINVAL;
	if (!hp->n_embd || !hp->n_layer || !hp->n_ff || !hp->n_head ||
	    !hp->n_head_kv || hp->n_embd % hp->n_head ||
	    hp->n_head % hp->n_head_kv || hp->n_layer > 4096)
		return fail(err, errlen, -EINVAL,
			    "%s: inconsistent sizes (embedding %u, %u layers, %u heads, %u kv heads, feed-forward %u)",
			    a, hp->n_embd, hp->n_layer, hp->n_head,
			    hp->n_head_kv, hp->n_ff);
	hp->head_dim = hp->n_embd / hp->n_head;
	if (llama) {
		if (kv_f32(h, a, "attention.layer_norm_rms_epsilon", 1e-5f,
			   &hp->eps, err, errlen) ||
		    kv_f32(h, a, "rope.freq_base", 10000.0f, &hp->theta, err,
			   errlen) ||
		    kv_u32(h, a, "rope.dimension_count", hp->head_dim,
			   &rope_dim, err, errlen))
			return -EINVAL;
		if (rope_dim != hp->head_dim || hp->head_dim % 2)
			return fail(err, errlen, -EOPNOTSUPP,
				    "llama: RoPE over %u of %u dimensions per head is not supported (only all of them)",
				    rope_dim, hp->head_dim);
		if (ash_model_find(r->model, "rope_freqs.weight"))
			return fail(err, errlen, -EOPNOTSUPP,
				    "llama: scaled RoPE frequencies (rope_freqs.weight) are not supported");
	} else {
		if (kv_f32(h, a, "attention.layer_norm_epsilon", 1e-12f,
			   &hp->eps, err, errlen))
			return -EINVAL;
	}
	return 0;
}

/* ---- tokenizers ---- */

static int gguf_tokenizer(struct ash_runner *r, const struct ash_model_header *h)
{
	const unsigned char *p, *sp = NULL;
	const char *model = "", *s;
	uint64_t n, len, mlen = 0, i, ns = 0;
	uint32_t et, st = 0, v;
	const char **text = NULL;
	uint64_t *lens = NULL;
	float *score = NULL;
	int kind, ret;

	r->bos = r->eos = UINT32_MAX;
	if (!ash_model_kv_u32(h, "tokenizer.ggml.bos_token_id", &v))
		r->bos = v;
	if (!ash_model_kv_u32(h, "tokenizer.ggml.eos_token_id", &v))
		r->eos = v;
	if (ash_model_kv_array(h, "tokenizer.ggml.tokens", &et, &n, &p) ||
	    et != ASH_GGUF_STRING || n != r->hp.n_vocab)
		return 0;	/* token ids only */
	ash_model_kv_str(h, "tokenizer.ggml.model", &model, &mlen);
	kind = mlen == 4 && !memcmp(model, "bert", 4) ? ASH_TOK_WORDPIECE :
	       mlen == 5 && !memcmp(model, "llama", 5) ? ASH_TOK_SPM :
	       ASH_TOK_NONE;
	if (!ash_model_kv_array(h, "tokenizer.ggml.scores", &st, &ns, &sp) &&
	    (st != ASH_GGUF_FLOAT32 || ns != n))
		sp = NULL;
	if (kind == ASH_TOK_SPM && !sp)
		kind = ASH_TOK_NONE;
	text = malloc(sizeof(*text) * n);
	lens = malloc(sizeof(*lens) * n);
	score = sp ? malloc(sizeof(*score) * n) : NULL;
	ret = -ENOMEM;
	if (!text || !lens || (sp && !score))
		goto out;
	for (i = 0; i < n; i++) {
		p = ash_model_kv_next_str(p, &s, &len);
		text[i] = s;
		lens[i] = len;
		if (score)
			memcpy(&score[i], sp + 4 * i, 4);
	}
	ret = ash__tok_init(&r->tok, kind, text, lens, score, (uint32_t)n);
	if (ret)
		goto out;
	r->tok.lowercase = 1;
	r->tok.bos = r->bos;
	r->tok.unk = ash__tok_find(&r->tok, "[UNK]", 5);
	if (kind == ASH_TOK_SPM && !ash_model_kv_u32(
			h, "tokenizer.ggml.unknown_token_id", &v))
		r->tok.unk = v;
	r->tok.cls = ash__tok_find(&r->tok, "[CLS]", 5);
	r->tok.sep = ash__tok_find(&r->tok, "[SEP]", 5);
out:
	free(text);
	free(lens);
	free(score);
	return ret;
}

/* vocab.txt beside a Hugging Face BERT checkpoint: one token a line. */
static int vocab_txt(struct ash_runner *r, const char *path)
{
	FILE *f = fopen(path, "re");
	char *data = NULL, *p;
	const char **text = NULL;
	uint64_t *lens = NULL;
	size_t size = 0;
	uint32_t n = 0, cap = 0;
	int ret = -ENOMEM;

	if (!f)
		return 0;	/* token ids only */
	if (getdelim(&data, &size, '\0', f) < 0) {
		fclose(f);
		free(data);
		return 0;
	}
	fclose(f);
	for (p = data; *p; ) {
		char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (n == cap) {
			const char **t2;
			uint64_t *l2;

			cap = cap ? 2 * cap : 1024;
			t2 = realloc(text, sizeof(*text) * cap);
			if (!t2)
				goto out;
			text = t2;
			l2 = realloc(lens, sizeof(*lens) * cap);
			if (!l2)
				goto out;
			lens = l2;
		}
		if (len && p[len - 1] == '\r')
			len--;
		text[n] = p;
		lens[n++] = len;
		p += nl ? (size_t)(nl - p) + 1 : len;
	}
	ret = 0;
	if (n != r->hp.n_vocab)
		goto out;	/* not this model's: ids only */
	ret = ash__tok_init(&r->tok, ASH_TOK_WORDPIECE, text, lens, NULL, n);
	if (ret)
		goto out;
	r->tok.lowercase = 1;
	r->tok.unk = ash__tok_find(&r->tok, "[UNK]", 5);
	r->tok.cls = ash__tok_find(&r->tok, "[CLS]", 5);
	r->tok.sep = ash__tok_find(&r->tok, "[SEP]", 5);
out:
	free(text);
	free(lens);
	free(data);
	return ret;
}

/* ---- the architectures' tensors ---- */

static int llama_tensors(struct ash_runner *r, const struct want *w)
{
	const struct hparams *hp = &r->hp;
	uint32_t kvd = hp->n_head_kv * hp->head_dim, l;
	char n[NAME_LEN];
	int ret;

	ret = tensor(w, "token_embd.weight", hp->n_vocab, hp->n_embd, 0, 0,
		     &r->tok_embd) ||
	      tensor(w, "output_norm.weight", 1, hp->n_embd, 1, 0,
		     &r->out_norm) ||
	      tensor(w, "output.weight", hp->n_vocab, hp->n_embd, 0, 1,
		     &r->output);
	if (ret)
		return -EINVAL;
	if (!r->output.buf)
		r->output = r->tok_embd;	/* tied */
	for (l = 0; l < hp->n_layer; l++) {
		struct layer *L = &r->layers[l];
#define T(field, suffix, rows, cols, f32)				\
		(snprintf(n, sizeof(n), "blk.%u." suffix, l),		\
		 tensor(w, n, rows, cols, f32, 0, &L->field))

		if (T(attn_norm, "attn_norm.weight", 1, hp->n_embd, 1) ||
		    T(wq, "attn_q.weight", hp->n_embd, hp->n_embd, 0) ||
		    T(wk, "attn_k.weight", kvd, hp->n_embd, 0) ||
		    T(wv, "attn_v.weight", kvd, hp->n_embd, 0) ||
		    T(wo, "attn_output.weight", hp->n_embd, hp->n_embd, 0) ||
		    T(ffn_norm, "ffn_norm.weight", 1, hp->n_embd, 1) ||
		    T(w_gate, "ffn_gate.weight", hp->n_ff, hp->n_embd, 0) ||
		    T(w_up, "ffn_up.weight", hp->n_ff, hp->n_embd, 0) ||
		    T(w_down, "ffn_down.weight", hp->n_embd, hp->n_ff, 0))
			return -EINVAL;
#undef T
	}
	return 0;
}

/* BERT's tensors under GGUF's names or Hugging Face's. */
static int bert_tensors(struct ash_runner *r, const struct want *w, int hf)
{
	const struct hparams *hp = &r->hp;
	uint32_t d = hp->n_embd, f = hp->n_ff, l;
	char n[NAME_LEN];

	if (tensor(w, hf ? "embeddings.word_embeddings.weight" :
		   "token_embd.weight", hp->n_vocab, d, 0, 0, &r->tok_embd) ||
	    tensor(w, hf ? "embeddings.position_embeddings.weight" :
		   "position_embd.weight", hp->n_pos, d, 1, 0, &r->pos_embd) ||
	    tensor(w, hf ? "embeddings.token_type_embeddings.weight" :
		   "token_types.weight", hp->n_types, d, 1, 0,
		   &r->type_embd) ||
	    tensor(w, hf ? "embeddings.LayerNorm.weight" :
		   "token_embd_norm.weight", 1, d, 1, 0, &r->emb_ln_w) ||
	    tensor(w, hf ? "embeddings.LayerNorm.bias" :
		   "token_embd_norm.bias", 1, d, 1, 0, &r->emb_ln_b))
		return -EINVAL;
	for (l = 0; l < hp->n_layer; l++) {
		struct layer *L = &r->layers[l];
#define T(field, hfname, gname, rows, cols, f32)			\
		(snprintf(n, sizeof(n), hf ? "encoder.layer.%u." hfname :	\
			  "blk.%u." gname, l),				\
		 tensor(w, n, rows, cols, f32, 0, &L->field))

		if (T(wq, "attention.self.query.weight", "attn_q.weight", d, d, 0) ||
		    T(bq, "attention.self.query.bias", "attn_q.bias", 1, d, 1) ||
		    T(wk, "attention.self.key.weight", "attn_k.weight", d, d, 0) ||
		    T(bk, "attention.self.key.bias", "attn_k.bias", 1, d, 1) ||
		    T(wv, "attention.self.value.weight", "attn_v.weight", d, d, 0) ||
		    T(bv, "attention.self.value.bias", "attn_v.bias", 1, d, 1) ||
		    T(wo, "attention.output.dense.weight", "attn_output.weight", d, d, 0) ||
		    T(bo, "attention.output.dense.bias", "attn_output.bias", 1, d, 1) ||
		    T(ln1_w, "attention.output.LayerNorm.weight", "attn_output_norm.weight", 1, d, 1) ||
		    T(ln1_b, "attention.output.LayerNorm.bias", "attn_output_norm.bias", 1, d, 1) ||
		    T(w_up, "intermediate.dense.weight", "ffn_up.weight", f, d, 0) ||
		    T(b_up, "intermediate.dense.bias", "ffn_up.bias", 1, f, 1) ||
		    T(w_down, "output.dense.weight", "ffn_down.weight", d, f, 0) ||
		    T(b_down, "output.dense.bias", "ffn_down.bias", 1, d, 1) ||
		    T(ln2_w, "output.LayerNorm.weight", "layer_output_norm.weight", 1, d, 1) ||
		    T(ln2_b, "output.LayerNorm.bias", "layer_output_norm.bias", 1, d, 1))
			return -EINVAL;
#undef T
	}
	return 0;
}

/* config.json of a Hugging Face BERT checkpoint. */
static int bert_config(struct ash_runner *r, const char *path, char *err,
		       size_t errlen)
{
	struct json_object *cfg = json_object_from_file(path), *v;
	struct hparams *hp = &r->hp;
	static const struct { const char *key; size_t off; } keys[] = {
		{ "vocab_size", offsetof(struct hparams, n_vocab) },
		{ "hidden_size", offsetof(struct hparams, n_embd) },
		{ "num_hidden_layers", offsetof(struct hparams, n_layer) },
		{ "num_attention_heads", offsetof(struct hparams, n_head) },
		{ "intermediate_size", offsetof(struct hparams, n_ff) },
		{ "max_position_embeddings", offsetof(struct hparams, n_pos) },
		{ "type_vocab_size", offsetof(struct hparams, n_types) },
	};
	const char *s;
	size_t i;
	int ret = -EINVAL;

	if (!cfg)
		return fail(err, errlen, -EINVAL,
			    "%s: cannot read it as JSON (a safetensors model needs its config.json beside it)",
			    path);
	if (!json_object_object_get_ex(cfg, "model_type", &v) ||
	    strcmp(json_object_get_string(v), "bert")) {
		fail(err, errlen, -EOPNOTSUPP,
		     "%s: model_type '%s' is not supported (llama as GGUF; bert as GGUF or safetensors)",
		     path, v ? json_object_get_string(v) : "(none)");
		ret = -EOPNOTSUPP;
		goto out;
	}
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		int64_t x;

		if (!json_object_object_get_ex(cfg, keys[i].key, &v) ||
		    !json_object_is_type(v, json_type_int) ||
		    (x = json_object_get_int64(v)) <= 0 || x > UINT32_MAX) {
			fail(err, errlen, -EINVAL,
			     "%s: %s is missing or not a positive integer",
			     path, keys[i].key);
			goto out;
		}
		*(uint32_t *)((char *)hp + keys[i].off) = (uint32_t)x;
	}
	hp->eps = 1e-12f;
	if (json_object_object_get_ex(cfg, "layer_norm_eps", &v))
		hp->eps = (float)json_object_get_double(v);
	s = json_object_object_get_ex(cfg, "hidden_act", &v) ?
	    json_object_get_string(v) : "gelu";
	if (strcmp(s, "gelu")) {
		fail(err, errlen, -EOPNOTSUPP,
		     "%s: hidden_act '%s' is not supported (gelu)", path, s);
		ret = -EOPNOTSUPP;
		goto out;
	}
	if (json_object_object_get_ex(cfg, "position_embedding_type", &v) &&
	    strcmp(json_object_get_string(v), "absolute")) {
		fail(err, errlen, -EOPNOTSUPP,
		     "%s: position_embedding_type '%s' is not supported (absolute)",
		     path, json_object_get_string(v));
		ret = -EOPNOTSUPP;
		goto out;
	}
	if (hp->n_embd % hp->n_head || hp->n_layer > 4096) {
		fail(err, errlen, -EINVAL,
		     "%s: hidden_size %u is not a multiple of num_attention_heads %u",
		     path, hp->n_embd, hp->n_head);
		goto out;
	}
	hp->n_head_kv = hp->n_head;
	hp->head_dim = hp->n_embd / hp->n_head;
	hp->n_ctx_train = hp->n_pos;
	ret = 0;
out:
	json_object_put(cfg);
	return ret;
}

/* ---- memory ---- */

static int add_size(uint64_t *total, uint64_t n, uint64_t elems, uint64_t es)
{
	uint64_t b;

	if (__builtin_mul_overflow(n, elems, &b) ||
	    __builtin_mul_overflow(b, es, &b) || b > UINT64_MAX - *total - 64)
		return -EOVERFLOW;
	*total += (b + 63) & ~63ULL;
	return 0;
}

static int alloc_state(struct ash_runner *r, char *err, size_t errlen)
{
	const struct hparams *hp = &r->hp;
	uint64_t B = r->n_batch, kv = 0, kvd = hp->n_head_kv * hp->head_dim;
	uint64_t qd = (uint64_t)hp->n_head * hp->head_dim, a = 0, io = 0;
	int ret;

	ret = add_size(&kv, (uint64_t)(r->arch == ARCH_LLAMA ? hp->n_layer : 1)
		       * 2, (uint64_t)r->n_ctx * kvd, 4);
#define A(field, n, es)							\
	(r->field = a, add_size(&a, 1, (uint64_t)(n), es))
	ret = ret || A(a_x, B * hp->n_embd, 4) || A(a_h, B * hp->n_embd, 4) ||
	      A(a_q, B * qd, 4) || A(a_att, B * qd, 4) ||
	      A(a_gate, B * hp->n_ff, 4) || A(a_up, B * hp->n_ff, 4) ||
	      A(a_out, r->arch == ARCH_LLAMA ? hp->n_vocab : hp->n_embd, 4) ||
	      A(a_ids, B, 4) || A(a_zero, B, 4) || A(a_next, 1, 4) ||
	      A(a_ones, B, 4);
#undef A
	r->a_size = a;
	r->i_ids = 0;
	ret = ret || add_size(&io, B, 1, 4);
	r->i_out = io;
	ret = ret || add_size(&io, r->arch == ARCH_LLAMA ? hp->n_vocab :
			      hp->n_embd, 1, 4);
	r->i_next = io;
	ret = ret || add_size(&io, 1, 1, 4);
	r->i_size = io;
	if (ret)
		return fail(err, errlen, -EOVERFLOW,
			    "a KV cache of %u tokens does not fit 64 bits",
			    r->n_ctx);
	ret = ash_alloc(r->ctx, kv, &r->kv);
	if (!ret)
		ret = ash_alloc(r->ctx, r->a_size, &r->act);
	if (!ret)
		ret = ash_alloc_staging(r->ctx, r->i_size, &r->io);
	if (!ret)
		ret = ash_map(r->io, &r->io_map);
	if (!ret)
		ret = ash_cmdbuf_create(r->ctx, &r->cb);
	if (ret)
		return fail(err, errlen, ret,
			    "cannot allocate the KV cache (%llu bytes for %u tokens) and activations (%llu bytes): %s",
			    (unsigned long long)kv, r->n_ctx,
			    (unsigned long long)r->a_size, strerror(-ret));
	return 0;
}

/* ---- opening ---- */

/* @path's directory joined with @name. */
static char *beside(const char *path, const char *name)
{
	const char *slash = strrchr(path, '/');
	size_t dir = slash ? (size_t)(slash - path) + 1 : 0;
	char *p = malloc(dir + strlen(name) + 1);

	if (p) {
		memcpy(p, path, dir);
		strcpy(p + dir, name);
	}
	return p;
}

static int read_header(const char *path, struct ash_model_header *hdr,
		       char *err, size_t errlen)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;
	char msg[256] = "";

	if (fd < 0)
		return fail(err, errlen, -errno, "%s: %s", path,
			    strerror(errno));
	if (fstat(fd, &st)) {
		ret = -errno;
		close(fd);
		return fail(err, errlen, ret, "%s: %s", path, strerror(-ret));
	}
	ret = ash_model_read_header(fd, (uint64_t)st.st_size, hdr, msg,
				    sizeof(msg));
	close(fd);
	if (ret)
		return fail(err, errlen, ret, "%s: %s", path,
			    ret == -EINVAL ? msg : strerror(-ret));
	return 0;
}

static int open_model(struct ash_runner *r, const char *path,
		      const struct ash_runner_opts *o, char *err,
		      size_t errlen)
{
	struct ash_model_header hdr;
	struct want w = { err, errlen, NULL, "" };
	const char *arch = "";
	uint64_t alen = 0;
	char archz[32];
	char *aux = NULL;
	int ret, hf = 0, i;

	memset(&hdr, 0, sizeof(hdr));
	ret = read_header(path, &hdr, err, errlen);
	if (ret)
		return ret;
	if (hdr.format == ASH_FORMAT_GGUF) {
		if (ash_model_kv_str(&hdr, "general.architecture", &arch,
				     &alen))
			alen = 0;
		snprintf(archz, sizeof(archz), "%.*s", (int)(alen < 31 ? alen : 31),
			 arch);
		r->arch = !strcmp(archz, "llama") ? ARCH_LLAMA :
			  !strcmp(archz, "bert") ? ARCH_BERT : 0;
		if (!r->arch) {
			ret = fail(err, errlen, -EOPNOTSUPP,
				   "%s: architecture '%s' is not supported (llama, bert)",
				   path, alen ? archz : "(none)");
			goto out;
		}
	} else {
		r->arch = ARCH_BERT;
		hf = 1;
		aux = beside(path, "config.json");
		ret = aux ? bert_config(r, aux, err, errlen) : -ENOMEM;
		if (ret)
			goto out;
	}
	ret = ash_model_load_opts(r->ctx, path, o ? o->load : NULL, &r->model);
	if (ret) {
		fail(err, errlen, ret, "%s: cannot load the weights: %s", path,
		     strerror(-ret));
		goto out;
	}
	for (i = 0; i < ash_model_tensor_count(r->model); i++)
		r->weight_bytes += ash_model_tensor(r->model, i)->bytes;
	w.model = r->model;
	if (hdr.format == ASH_FORMAT_GGUF) {
		const struct ash_tensor *te = ash_model_find(r->model,
							     "token_embd.weight");

		ret = gguf_hparams(r, &hdr, archz, err, errlen);
		if (ret)
			goto out;
		if (!te || te->ndim != 2) {
			ret = fail(err, errlen, -EINVAL,
				   "%s: no 2-dimensional token_embd.weight",
				   path);
			goto out;
		}
		r->hp.n_vocab = (uint32_t)te->shape[0];
		if (r->arch == ARCH_BERT) {
			const struct ash_tensor *p = ash_model_find(
				r->model, "position_embd.weight");
			const struct ash_tensor *t = ash_model_find(
				r->model, "token_types.weight");

			r->hp.n_pos = p && p->ndim == 2 ?
				      (uint32_t)p->shape[0] : 0;
			r->hp.n_types = t && t->ndim == 2 ?
					(uint32_t)t->shape[0] : 0;
		}
		ret = gguf_tokenizer(r, &hdr);
	} else {
		if (ash_model_find(r->model, "bert.embeddings.word_embeddings.weight"))
			w.prefix = "bert.";
		free(aux);
		aux = beside(path, "vocab.txt");
		ret = aux ? vocab_txt(r, aux) : -ENOMEM;
		r->bos = r->eos = UINT32_MAX;
	}
	if (ret)
		goto out;
	r->layers = calloc(r->hp.n_layer, sizeof(*r->layers));
	if (!r->layers) {
		ret = -ENOMEM;
		goto out;
	}
	ret = r->arch == ARCH_LLAMA ? llama_tensors(r, &w) :
	      bert_tensors(r, &w, hf);
	if (ret) {
		/* name the file, keep the tensor's sentence */
		char msg[256];

		snprintf(msg, sizeof(msg), "%s", err ? err : "");
		fail(err, errlen, ret, "%s: %s", path, msg);
	}
out:
	free(aux);
	ash_model_header_free(&hdr);
	return ret;
}

int ash_runner_open(struct ash_ctx *ctx, const char *path,
		    const struct ash_runner_opts *opts,
		    struct ash_runner **runner, char *err, size_t errlen)
{
	int saved_errno = errno;
	struct ash_runner *r;
	int ret;

	if (err && errlen)
		err[0] = '\0';
	struct stat st;
	char *file = NULL;

	if (!ctx || !path || !runner ||
	    (opts && (opts->size < sizeof(*opts) || opts->flags)))
		return fail(err, errlen, -EINVAL, "invalid arguments");
	*runner = NULL;
	/* A Hugging Face checkpoint's directory: its model.safetensors. */
	if (!stat(path, &st) && S_ISDIR(st.st_mode)) {
		size_t n = strlen(path);

		file = malloc(n + sizeof("/model.safetensors"));
		if (!file)
			return -ENOMEM;
		snprintf(file, n + sizeof("/model.safetensors"),
			 "%s/model.safetensors", path);
		path = file;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		free(file);
		return -ENOMEM;
	}
	r->ctx = ctx;
	ret = open_model(r, path, opts, err, errlen);
	free(file);
	if (ret)
		goto fail;
	r->n_ctx = opts && opts->n_ctx ? opts->n_ctx :
		   r->hp.n_ctx_train < CTX_DEFAULT_MAX ? r->hp.n_ctx_train :
		   CTX_DEFAULT_MAX;
	if (r->arch == ARCH_BERT && r->n_ctx > r->hp.n_pos)
		r->n_ctx = r->hp.n_pos;
	/* An encoder runs a whole sequence in one pass. */
	r->n_batch = r->arch == ARCH_BERT ? r->n_ctx :
		     opts && opts->n_batch ? opts->n_batch : BATCH_DEFAULT;
	if (r->n_batch > r->n_ctx)
		r->n_batch = r->n_ctx;
	if (!r->n_ctx || r->n_ctx > (1U << 24)) {
		ret = fail(err, errlen, -EINVAL,
			   "a context of %u tokens is not supported (1 to %u)",
			   r->n_ctx, 1U << 24);
		goto fail;
	}
	ret = alloc_state(r, err, errlen);
	if (ret)
		goto fail;
	*runner = r;
	errno = saved_errno;
	return 0;
fail:
	ash_runner_close(r);
	errno = saved_errno;
	return ret;
}

void ash_runner_close(struct ash_runner *r)
{
	if (!r)
		return;
	if (r->cb) {
		ash_cmdbuf_wait(r->cb, -1);
		ash_cmdbuf_destroy(r->cb);
	}
	if (r->io)
		ash_free(r->io);
	if (r->act)
		ash_free(r->act);
	if (r->kv)
		ash_free(r->kv);
	ash_model_free(r->model);
	ash__tok_free(&r->tok);
	free(r->layers);
	free(r);
}

int ash_runner_info(const struct ash_runner *r, struct ash_runner_info *info)
{
	struct ash_runner_info i;

	if (!r || !info || info->size < sizeof(*info))
		return -EINVAL;
	memset(&i, 0, sizeof(i));
	i.size = sizeof(i);
	snprintf(i.arch, sizeof(i.arch), "%s",
		 r->arch == ARCH_LLAMA ? "llama" : "bert");
	i.encoder = r->arch == ARCH_BERT;
	i.tokenizer = r->tok.kind != ASH_TOK_NONE &&
		      (r->tok.kind != ASH_TOK_WORDPIECE ||
		       r->tok.unk != UINT32_MAX);
	i.n_vocab = r->hp.n_vocab;
	i.n_embd = r->hp.n_embd;
	i.n_layer = r->hp.n_layer;
	i.n_head = r->hp.n_head;
	i.n_head_kv = r->hp.n_head_kv;
	i.n_ff = r->hp.n_ff;
	i.n_ctx = r->n_ctx;
	i.n_batch = r->n_batch;
	i.bos = r->bos;
	i.eos = r->eos;
	i.weight_bytes = r->weight_bytes;
	i.kv_bytes = ash_buf_size(r->kv);
	i.scratch_bytes = ash_buf_size(r->act) + ash_buf_size(r->io);
	memcpy(info, &i, sizeof(i));
	return 0;
}

uint32_t ash_runner_pos(const struct ash_runner *r)
{
	return r ? r->pos : 0;
}

void ash_runner_reset(struct ash_runner *r)
{
	if (r)
		r->pos = 0;
}

/* ---- forward passes ---- */

/* The weights' product into @c: c = x W^T (+ c with @acc). */
static int linear(struct ash_cmdbuf *cb, const struct ash_tensor_ref *c,
		  const struct ash_tensor_ref *x, const struct ash_tensor_ref *w,
		  int acc)
{
	return ash_op_gemm(cb, c, x, w, ASH_GEMM_TRANS_B, 1.0f,
			   acc ? 1.0f : 0.0f);
}

/* Every row of @c becomes @bias (a one-row f32 table, ids all 0). */
static int broadcast(struct ash_runner *r, const struct ash_tensor_ref *c,
		     const struct ash_tensor_ref *bias)
{
	struct ash_tensor_ref ids = {
		.buf = r->act, .offset = r->a_zero, .dtype = ASH_DTYPE_U32,
		.rows = 1, .cols = c->rows,
	};

	return ash_op_embedding(r->cb, c, bias, &ids);
}

/* c = x W^T + b */
static int affine(struct ash_runner *r, const struct ash_tensor_ref *c,
		  const struct ash_tensor_ref *x, const struct ash_tensor_ref *w,
		  const struct ash_tensor_ref *b)
{
	return broadcast(r, c, b) || linear(r->cb, c, x, w, 1) ? -EINVAL : 0;
}

static int run(struct ash_runner *r)
{
	uint64_t fence;
	int ret = ash_cmdbuf_submit(r->cb, &fence);

	if (ret) {
		ash_cmdbuf_wait(r->cb, -1);
		ash_cmdbuf_reset(r->cb);
		return ret;
	}
	return ash_cmdbuf_wait(r->cb, -1);
}

/* The ids into act (a_ids) and zeros (a_zero), through staging. */
static int stage_ids(struct ash_runner *r, const uint32_t *tokens, uint32_t n)
{
	memcpy((char *)r->io_map + r->i_ids, tokens, (size_t)n * 4);
	if (ash_op_copy(r->cb, r->act, r->a_ids, r->io, r->i_ids,
			(uint64_t)n * 4) ||
	    ash_op_fill(r->cb, r->act, r->a_zero, (uint64_t)n * 4, 0))
		return -EINVAL;
	return 0;
}

/* One llama pass over @n tokens at positions pos..pos+n-1. */
static int llama_pass(struct ash_runner *r, const uint32_t *tokens,
		      uint32_t n, int want_out)
{
	const struct hparams *hp = &r->hp;
	struct ash_cmdbuf *cb = r->cb;
	uint32_t kvd = hp->n_head_kv * hp->head_dim, l, pos = r->pos;
	uint32_t qd = hp->n_head * hp->head_dim;
	uint64_t cache = (uint64_t)r->n_ctx * kvd * 4;
	struct ash_tensor_ref x = f32ref(r->act, r->a_x, n, hp->n_embd);
	struct ash_tensor_ref h = f32ref(r->act, r->a_h, n, hp->n_embd);
	struct ash_tensor_ref q = f32ref(r->act, r->a_q, n, qd);
	struct ash_tensor_ref att = f32ref(r->act, r->a_att, n, qd);
	struct ash_tensor_ref gate = f32ref(r->act, r->a_gate, n, hp->n_ff);
	struct ash_tensor_ref up = f32ref(r->act, r->a_up, n, hp->n_ff);
	struct ash_tensor_ref ids = {
		.buf = r->act, .offset = r->a_ids, .dtype = ASH_DTYPE_U32,
		.rows = 1, .cols = n,
	};
	struct ash_attention a = {
		.q_tokens = n, .kv_tokens = pos + n, .heads = hp->n_head,
		.kv_heads = hp->n_head_kv, .head_dim = hp->head_dim,
		.q_pos0 = pos, .causal = 1,
		.scale = 1.0f / sqrtf((float)hp->head_dim),
	};
	int bad;

	bad = stage_ids(r, tokens, n) ||
	      ash_op_embedding(cb, &x, &r->tok_embd, &ids);
	for (l = 0; !bad && l < hp->n_layer; l++) {
		const struct layer *L = &r->layers[l];
		uint64_t k0 = 2 * (uint64_t)l * cache, v0 = k0 + cache;
		struct ash_tensor_ref kc = f32ref(r->kv, k0, r->n_ctx, kvd);
		struct ash_tensor_ref vc = f32ref(r->kv, v0, r->n_ctx, kvd);
		struct ash_tensor_ref kn = sub_rows(&kc, pos, n);
		struct ash_tensor_ref vn = sub_rows(&vc, pos, n);

		bad = ash_op_rmsnorm(cb, &h, &x, &L->attn_norm, hp->eps) ||
		      linear(cb, &q, &h, &L->wq, 0) ||
		      linear(cb, &kn, &h, &L->wk, 0) ||
		      linear(cb, &vn, &h, &L->wv, 0) ||
		      ash_op_rope(cb, &q, &q, n, hp->n_head, hp->head_dim, pos,
				  hp->theta) ||
		      ash_op_rope(cb, &kn, &kn, n, hp->n_head_kv,
				  hp->head_dim, pos, hp->theta) ||
		      ash_op_attention(cb, &att, &q, &kc, &vc, &a) ||
		      linear(cb, &x, &att, &L->wo, 1) ||
		      ash_op_rmsnorm(cb, &h, &x, &L->ffn_norm, hp->eps) ||
		      linear(cb, &gate, &h, &L->w_gate, 0) ||
		      linear(cb, &up, &h, &L->w_up, 0) ||
		      ash_op_silu(cb, &gate, &gate) ||
		      ash_op_mul(cb, &gate, &gate, &up) ||
		      linear(cb, &x, &gate, &L->w_down, 1);
	}
	if (!bad && want_out) {
		struct ash_tensor_ref xl = sub_rows(&x, n - 1, 1);
		struct ash_tensor_ref hl = sub_rows(&h, n - 1, 1);
		struct ash_tensor_ref logits = f32ref(r->act, r->a_out, 1,
						      hp->n_vocab);
		struct ash_tensor_ref next = {
			.buf = r->act, .offset = r->a_next,
			.dtype = ASH_DTYPE_U32, .rows = 1, .cols = 1,
		};

		bad = ash_op_rmsnorm(cb, &hl, &xl, &r->out_norm, hp->eps) ||
		      linear(cb, &logits, &hl, &r->output, 0) ||
		      ash_op_argmax(cb, &next, &logits) ||
		      ash_op_copy(cb, r->io, r->i_out, r->act, r->a_out,
				  (uint64_t)hp->n_vocab * 4) ||
		      ash_op_copy(cb, r->io, r->i_next, r->act, r->a_next, 4);
	}
	if (bad) {
		ash_cmdbuf_reset(cb);
		return -EINVAL;
	}
	return run(r);
}

int ash_runner_decode(struct ash_runner *r, const uint32_t *tokens,
		      uint32_t n, float *logits, uint32_t *next)
{
	int saved_errno = errno;
	uint32_t done, i;
	int ret = 0;

	if (!r || !tokens || !n || r->arch != ARCH_LLAMA)
		return -EINVAL;
	if (n > r->n_ctx - r->pos)
		return -ENOSPC;
	for (i = 0; i < n; i++)
		if (tokens[i] >= r->hp.n_vocab)
			return -EINVAL;
	for (done = 0; !ret && done < n; ) {
		uint32_t b = n - done < r->n_batch ? n - done : r->n_batch;

		ret = llama_pass(r, tokens + done, b, done + b == n);
		if (!ret) {
			r->pos += b;
			done += b;
		}
	}
	if (!ret && logits)
		memcpy(logits, (char *)r->io_map + r->i_out,
		       (size_t)r->hp.n_vocab * 4);
	if (!ret && next)
		memcpy(next, (char *)r->io_map + r->i_next, 4);
	errno = saved_errno;
	return ret;
}

static int bert_pass(struct ash_runner *r, const uint32_t *tokens, uint32_t n)
{
	const struct hparams *hp = &r->hp;
	struct ash_cmdbuf *cb = r->cb;
	uint32_t d = hp->n_embd, l;
	struct ash_tensor_ref x = f32ref(r->act, r->a_x, n, d);
	struct ash_tensor_ref h = f32ref(r->act, r->a_h, n, d);
	struct ash_tensor_ref q = f32ref(r->act, r->a_q, n, d);
	struct ash_tensor_ref att = f32ref(r->act, r->a_att, n, d);
	struct ash_tensor_ref ff = f32ref(r->act, r->a_gate, n, hp->n_ff);
	struct ash_tensor_ref k = f32ref(r->kv, 0, n, d);
	struct ash_tensor_ref v = f32ref(r->kv, (uint64_t)r->n_ctx * d * 4, n,
					 d);
	struct ash_tensor_ref pos = sub_rows(&r->pos_embd, 0, n);
	struct ash_tensor_ref type0 = sub_rows(&r->type_embd, 0, 1);
	struct ash_tensor_ref ids = {
		.buf = r->act, .offset = r->a_ids, .dtype = ASH_DTYPE_U32,
		.rows = 1, .cols = n,
	};
	struct ash_tensor_ref ones = f32ref(r->act, r->a_ones, 1, n);
	struct ash_tensor_ref pooled = f32ref(r->act, r->a_out, 1, d);
	struct ash_attention a = {
		.q_tokens = n, .kv_tokens = n, .heads = hp->n_head,
		.kv_heads = hp->n_head, .head_dim = hp->head_dim,
		.scale = 1.0f / sqrtf((float)hp->head_dim),
	};
	int bad;

	/* x = LayerNorm(word[ids] + position[0..n) + type[0]) */
	bad = stage_ids(r, tokens, n) ||
	      ash_op_embedding(cb, &x, &r->tok_embd, &ids) ||
	      ash_op_add(cb, &x, &x, &pos) ||
	      broadcast(r, &h, &type0) ||
	      ash_op_add(cb, &x, &x, &h) ||
	      ash_op_layernorm(cb, &x, &x, &r->emb_ln_w, &r->emb_ln_b,
			       hp->eps);
	for (l = 0; !bad && l < hp->n_layer; l++) {
		const struct layer *L = &r->layers[l];

		bad = affine(r, &q, &x, &L->wq, &L->bq) ||
		      affine(r, &k, &x, &L->wk, &L->bk) ||
		      affine(r, &v, &x, &L->wv, &L->bv) ||
		      ash_op_attention(cb, &att, &q, &k, &v, &a) ||
		      affine(r, &h, &att, &L->wo, &L->bo) ||
		      ash_op_add(cb, &h, &h, &x) ||
		      ash_op_layernorm(cb, &x, &h, &L->ln1_w, &L->ln1_b,
				       hp->eps) ||
		      affine(r, &ff, &x, &L->w_up, &L->b_up) ||
		      ash_op_gelu_erf(cb, &ff, &ff) ||
		      affine(r, &h, &ff, &L->w_down, &L->b_down) ||
		      ash_op_add(cb, &h, &h, &x) ||
		      ash_op_layernorm(cb, &x, &h, &L->ln2_w, &L->ln2_b,
				       hp->eps);
	}
	/* The mean over tokens: (1/n) ones[1 x n] x[n x d]. */
	bad = bad ||
	      ash_op_fill(cb, r->act, r->a_ones, (uint64_t)n * 4,
			  0x3f800000u /* 1.0f */) ||
	      ash_op_gemm(cb, &pooled, &ones, &x, 0, 1.0f / (float)n, 0.0f) ||
	      ash_op_copy(cb, r->io, r->i_out, r->act, r->a_out,
			  (uint64_t)d * 4);
	if (bad) {
		ash_cmdbuf_reset(cb);
		return -EINVAL;
	}
	return run(r);
}

int ash_runner_embed(struct ash_runner *r, const uint32_t *tokens, uint32_t n,
		     float *embedding)
{
	int saved_errno = errno;
	const float *e;
	double ss = 0;
	uint32_t i;
	int ret;

	if (!r || !tokens || !n || !embedding || r->arch != ARCH_BERT)
		return -EINVAL;
	if (n > r->n_ctx)
		return -ENOSPC;
	for (i = 0; i < n; i++)
		if (tokens[i] >= r->hp.n_vocab)
			return -EINVAL;
	ret = bert_pass(r, tokens, n);
	if (!ret) {
		e = (const float *)r->io_map + r->i_out / 4;	/* 64-aligned */
		for (i = 0; i < r->hp.n_embd; i++)
			ss += (double)e[i] * e[i];
		ss = ss > 0 ? 1.0 / sqrt(ss) : 0;
		for (i = 0; i < r->hp.n_embd; i++)
			embedding[i] = (float)(e[i] * ss);
	}
	errno = saved_errno;
	return ret;
}

int ash_runner_tokenize(const struct ash_runner *r, const char *text,
			uint32_t *tokens, uint32_t max)
{
	int saved_errno = errno;
	int ret;

	if (!r || !text || (!tokens && max))
		return -EINVAL;
	ret = ash__tok_encode(&r->tok, text, tokens, max);
	errno = saved_errno;
	return ret;
}

const char *ash_runner_token(const struct ash_runner *r, uint32_t id)
{
	if (!r || !r->tok.text || id >= r->tok.n)
		return NULL;
	return r->tok.text[id];
}
