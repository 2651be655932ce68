/* SPDX-License-Identifier: MIT */
/*
 * libaccelshare - the tenant API of accelshare.
 *
 * A tenant opens a context bound to one partition of a shared accelerator,
 * allocates device memory charged to that partition, and maps it.
 *
 * Functions returning int return 0 (or a count) on success and a negative
 * errno on failure, as liburing does; errno itself is left alone.  The device
 * node is /dev/accelshare unless $ACCELSHARE_DEVICE names another.
 *
 * Errors a tenant sees: -EACCES (not on the partition's access list),
 * -ENOENT (no such partition), -ENODEV (no accelshare device: the module is
 * not loaded, or $ACCELSHARE_DEVICE names no such node), -EDQUOT (the
 * allocation would pass the partition's cap), -ENOSPC (device memory
 * exhausted), -EINVAL (malformed request), -ENOMEM (out of host memory).
 *
 * A context may be used from several threads; a buffer must not be used
 * after ash_free() or after its context is closed.
 */
#ifndef ACCELSHARE_H
#define ACCELSHARE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The version a program is built against (these macros, the one source the
 * build reads it from) and the version it runs with (ash_version(), "0.2.0").
 * The shared library's symbols are versioned per release
 * (runtime/libaccelshare.map: ACCELSHARE_0.1, ACCELSHARE_0.2, ...).
 */
#define ACCELSHARE_VERSION_MAJOR	0
#define ACCELSHARE_VERSION_MINOR	2
#define ACCELSHARE_VERSION_PATCH	0
#define ACCELSHARE_VERSION_STR_(x)	#x
#define ACCELSHARE_VERSION_STR(x)	ACCELSHARE_VERSION_STR_(x)
#define ACCELSHARE_VERSION_STRING					\
	ACCELSHARE_VERSION_STR(ACCELSHARE_VERSION_MAJOR) "."		\
	ACCELSHARE_VERSION_STR(ACCELSHARE_VERSION_MINOR) "."		\
	ACCELSHARE_VERSION_STR(ACCELSHARE_VERSION_PATCH)
#define ACCELSHARE_VERSION_AT_LEAST(major, minor)			\
	(ACCELSHARE_VERSION_MAJOR > (major) ||				\
	 (ACCELSHARE_VERSION_MAJOR == (major) &&			\
	  ACCELSHARE_VERSION_MINOR >= (minor)))

const char *ash_version(void);

struct ash_ctx;		/* an open context, bound to one partition */
struct ash_buf;		/* device memory */

/* partition NULL: the one $ACCELSHARE_PARTITION names (-EINVAL if unset),
 * as a container runtime sets it. */
int ash_open(const char *partition, struct ash_ctx **ctx);
void ash_close(struct ash_ctx *ctx);

int ash_alloc(struct ash_ctx *ctx, uint64_t size, struct ash_buf **buf);
/* Staging memory: host memory that ash_map() maps on every device, also
 * where device memory cannot be mapped; data moves between it and device
 * memory with ash_copy().  Charged to the partition like device memory. */
int ash_alloc_staging(struct ash_ctx *ctx, uint64_t size,
		      struct ash_buf **buf);
void ash_free(struct ash_buf *buf);
uint64_t ash_buf_size(const struct ash_buf *buf);
/* -EOPNOTSUPP where the device has no host mapping; repeated calls return
 * the same address.  The mapping goes with ash_free(). */
int ash_map(struct ash_buf *buf, void **addr);

/*
 * Execution.  Work submitted on a context completes in submission order;
 * each submission returns a fence to wait on.  ash_wait returns 0 when the
 * job succeeded, the job's negative errno when it failed (-EIO: the engine
 * died under it; -ETIMEDOUT: the device's watchdog stopped it; -E2BIG: it
 * cost more than the engine's budget; -EINVAL: the engine's op table
 * refused a command), or -ETIMEDOUT when timeout_ns passed first (negative
 * waits forever, 0 polls); any issued fence can be waited on, however
 * late.  Submissions fail with -ECANCELED once the context is banned (too
 * many of its jobs timed out or failed; open a new context).
 */
int ash_copy(struct ash_ctx *ctx, struct ash_buf *dst, uint64_t dst_off,
	     struct ash_buf *src, uint64_t src_off, uint64_t len,
	     uint64_t *fence);
/* Repeats the 32-bit pattern in host byte order; off and len multiples
 * of 4; a range outside the buffer is refused with -EINVAL. */
int ash_fill(struct ash_ctx *ctx, struct ash_buf *dst, uint64_t off,
	     uint64_t len, uint32_t pattern, uint64_t *fence);
int ash_wait(struct ash_ctx *ctx, uint64_t fence, int64_t timeout_ns);

/*
 * Command buffers.  A command buffer records ops on a context's buffers and
 * submits them as jobs, in recording order.  Ops are checked when recorded:
 * a bad one fails with -EINVAL and records nothing.
 *
 * Long ops are tiled, and a buffer's commands are cut into jobs, so that no
 * job costs much more than one scheduler slice.  Cost is counted in units,
 * one per byte an op reads or writes plus one per arithmetic operation
 * (GEMM: 2*m*n*k); a job holds at most ASH_JOB_MAX_COMMANDS commands and at
 * most ASH_JOB_COST_MAX units.  A GEMM is cut into blocks of C's rows (then,
 * if one row costs too much, of C's columns, then of k), copies and fills
 * into byte ranges, element-wise ops into element ranges, row ops (rmsnorm,
 * softmax, rope, embedding) into whole rows: a row is never cut, so a job
 * holding a single row that costs more than the limit is the one exception.
 *
 * A command buffer is used by one thread at a time.  Its ops must name
 * buffers of its context (-EINVAL otherwise) that stay allocated until the
 * jobs using them complete.
 */
#define ASH_JOB_COST_MAX	(16ULL << 20)	/* units: about 2 ms of CPU engine */

struct ash_cmdbuf;
struct ash_tensor;		/* a model's tensor, below */

int ash_cmdbuf_create(struct ash_ctx *ctx, struct ash_cmdbuf **cb);
/* Drops what is recorded and not submitted; submitted jobs run on. */
void ash_cmdbuf_destroy(struct ash_cmdbuf *cb);
/* Drops what is recorded and not submitted. */
void ash_cmdbuf_reset(struct ash_cmdbuf *cb);
/* Recorded commands, and the jobs they will be submitted as. */
uint64_t ash_cmdbuf_commands(const struct ash_cmdbuf *cb);
uint64_t ash_cmdbuf_jobs(const struct ash_cmdbuf *cb);
/*
 * Submits what is recorded, in order, and empties the buffer; *fence is the
 * last job's (0 and nothing submitted if nothing was recorded).  When the
 * context's queue is full it waits for this buffer's own oldest job, and
 * fails with -EAGAIN only when it has none in flight.  On failure the jobs
 * already submitted stay submitted (*fence names the last of them, 0 if
 * none) and the rest stay recorded: submitting again resumes.  Errors from
 * the kernel: -ENOENT a buffer was freed, -EACCES a write to a read-only
 * buffer, -EAGAIN, -EBADFD.
 */
int ash_cmdbuf_submit(struct ash_cmdbuf *cb, uint64_t *fence);
/*
 * Waits for every job submitted through the buffer since the last
 * ash_cmdbuf_wait() that returned 0 or a job's error: 0 when all
 * succeeded, else the first failed job's negative errno.  -ETIMEDOUT as
 * ash_wait; the jobs are waited for again next time.
 */
int ash_cmdbuf_wait(struct ash_cmdbuf *cb, int64_t timeout_ns);

/*
 * A matrix in a buffer: rows x cols elements of dtype, row-major, row r
 * starting ld elements after row r-1 (ld 0: cols, dense).  A vector is one
 * row.  offset is in bytes and a multiple of the element size; the span,
 * ((rows - 1) * ld + cols) elements, must lie inside the buffer.  rows and
 * cols are at least 1.  dtype is an enum ash_dtype: ASH_DTYPE_F32, F16 or
 * BF16 where an op says so, ASH_DTYPE_U32 for token ids.  Ops other than
 * GEMM take dense tensors (ld 0 or cols, or rows 1) and see them as a flat
 * sequence of rows * cols elements.
 */
struct ash_tensor_ref {
	struct ash_buf *buf;
	uint64_t offset;	/* bytes */
	int dtype;		/* enum ash_dtype */
	uint32_t rows;
	uint32_t cols;
	uint32_t ld;		/* elements; 0: cols */
};

/* A model tensor as a matrix: 1-D as one row, n-D as the product of the
 * leading dimensions by the last (the innermost, for either format: see
 * struct ash_tensor); -EINVAL if that does not fit 32 bits or the tensor
 * is empty. */
int ash_tensor_ref_of(const struct ash_tensor *t, struct ash_tensor_ref *ref);

/* Bytes, as ash_copy and ash_fill, but recorded.  Overlapping source and
 * destination ranges are refused. */
int ash_op_copy(struct ash_cmdbuf *cb, struct ash_buf *dst, uint64_t dst_off,
		struct ash_buf *src, uint64_t src_off, uint64_t len);
int ash_op_fill(struct ash_cmdbuf *cb, struct ash_buf *dst, uint64_t off,
		uint64_t len, uint32_t pattern);

/*
 * C = alpha * op(A) * op(B) + beta * C, C f32 m x n, op(A) m x k, op(B)
 * k x n, where op(X) is X, or X transposed with ASH_GEMM_TRANS_A/_B (then A
 * is stored k x m, B n x k).  A and B share a dtype, F32, F16 or BF16;
 * or A is F32 and B holds a layer's weights of another dtype, F16, BF16,
 * Q8_0 or Q4_0 (as GGUF stores them: rows of k elements in blocks of 32, k
 * and ld multiples of 32), and flags is exactly ASH_GEMM_TRANS_B (B stored
 * n x k, the weights' [out][in]).  C
 * may not overlap A or B; leading dimensions are below 2^31.  With beta 0,
 * C is not read.
 */
#ifndef ASH_GEMM_TRANS_A
#define ASH_GEMM_TRANS_A	(1U << 0)
#define ASH_GEMM_TRANS_B	(1U << 1)
#endif
int ash_op_gemm(struct ash_cmdbuf *cb, const struct ash_tensor_ref *c,
		const struct ash_tensor_ref *a, const struct ash_tensor_ref *b,
		unsigned int flags, float alpha, float beta);

/*
 * Element-wise, f32, dense, all with the same element count: out = a + b,
 * out = a * b, out = silu(in), out = gelu(in); the engine's numerics are in
 * docs/engine.md.  An output may be the very same range as an input (in
 * place); other overlaps are refused.
 */
int ash_op_add(struct ash_cmdbuf *cb, const struct ash_tensor_ref *out,
	       const struct ash_tensor_ref *a, const struct ash_tensor_ref *b);
int ash_op_mul(struct ash_cmdbuf *cb, const struct ash_tensor_ref *out,
	       const struct ash_tensor_ref *a, const struct ash_tensor_ref *b);
int ash_op_silu(struct ash_cmdbuf *cb, const struct ash_tensor_ref *out,
		const struct ash_tensor_ref *in);
int ash_op_gelu(struct ash_cmdbuf *cb, const struct ash_tensor_ref *out,
		const struct ash_tensor_ref *in);
/* The exact GELU, x * Phi(x) with erf (BERT's); ash_op_gelu is the tanh
 * approximation (GPT-2's). */
int ash_op_gelu_erf(struct ash_cmdbuf *cb, const struct ash_tensor_ref *out,
		    const struct ash_tensor_ref *in);

/*
 * Row ops, f32, dense; out has in's shape and may be in itself.
 * rmsnorm: each row x of in becomes x / sqrt(mean(x^2) + eps) * weight,
 * weight f32 of cols elements.  softmax: over each row.
 */
int ash_op_rmsnorm(struct ash_cmdbuf *cb, const struct ash_tensor_ref *out,
		   const struct ash_tensor_ref *in,
		   const struct ash_tensor_ref *weight, float eps);
int ash_op_softmax(struct ash_cmdbuf *cb, const struct ash_tensor_ref *out,
		   const struct ash_tensor_ref *in);
/* Per row: (in - mean) / sqrt(variance + eps) * weight + bias (f32, dense;
 * weight and bias of cols elements; the population variance). */
int ash_op_layernorm(struct ash_cmdbuf *cb, const struct ash_tensor_ref *out,
		     const struct ash_tensor_ref *in,
		     const struct ash_tensor_ref *weight,
		     const struct ash_tensor_ref *bias, float eps);
/* Per row of @in (f32, dense), the index of its first largest element into
 * @out (ASH_DTYPE_U32, rows x 1); NaNs are never the largest, and a row of
 * NaNs gives 0.  Greedy decoding over logits. */
int ash_op_argmax(struct ash_cmdbuf *cb, const struct ash_tensor_ref *out,
		  const struct ash_tensor_ref *in);
/*
 * Scaled dot-product attention over a KV cache, grouped-query: q and out
 * f32 q_tokens x (heads * head_dim), dense; k and v f32 with at least
 * kv_tokens rows of kv_heads * head_dim (the cache's first kv_tokens
 * tokens are used); out apart from q, k and v.  Query head h uses kv head
 * h / (heads / kv_heads); query token i sits at position q_pos0 + i of the
 * sequence and, when causal, attends kv tokens 0..q_pos0 + i (q_pos0 +
 * q_tokens <= kv_tokens); otherwise all of them (q_pos0 0).  out =
 * softmax(scale * q.k) v.  Cut into jobs of whole query tokens.
 */
struct ash_attention {
	uint32_t q_tokens, kv_tokens;
	uint32_t heads, kv_heads;
	uint32_t head_dim;
	uint32_t q_pos0;
	int causal;
	float scale;			/* e.g. 1 / sqrt(head_dim) */
};
int ash_op_attention(struct ash_cmdbuf *cb, const struct ash_tensor_ref *out,
		     const struct ash_tensor_ref *q,
		     const struct ash_tensor_ref *k,
		     const struct ash_tensor_ref *v,
		     const struct ash_attention *attn);
/*
 * Rotary position embedding of in, f32 [tokens][heads][head_dim] dense
 * (tokens * heads * head_dim elements, head_dim even), token t at position
 * pos0 + t, with base theta (e.g. 10000); out likewise, may be in.
 */
int ash_op_rope(struct ash_cmdbuf *cb, const struct ash_tensor_ref *out,
		const struct ash_tensor_ref *in, uint32_t tokens,
		uint32_t heads, uint32_t head_dim, uint32_t pos0, float theta);
/*
 * out[i] = table[ids[i]]: table vocab x dim (rows x cols, dense) of F32,
 * F16, BF16, Q8_0 or Q4_0 (dim a multiple of 32), converted to f32; ids
 * U32 of nr_ids elements, out f32 of nr_ids * dim elements.  An id outside
 * the table fails the job (-EINVAL), not the recording.
 */
int ash_op_embedding(struct ash_cmdbuf *cb, const struct ash_tensor_ref *out,
		     const struct ash_tensor_ref *table,
		     const struct ash_tensor_ref *ids);

/* What a context's partition allows and uses now. */
struct ash_partition_stat {
	char name[32];
	uint32_t device;	/* the device the partition is on */
	uint32_t weight;	/* compute weight */
	uint64_t mem_max;	/* hard cap, bytes */
	uint64_t mem_min;	/* guaranteed bytes */
	uint64_t mem_used;	/* bytes charged now, by all its tenants */
	uint32_t nr_contexts;	/* contexts bound to it now */
	uint32_t nr_buffers;	/* buffers held in it now */
};

int ash_partition_stat(struct ash_ctx *ctx, struct ash_partition_stat *stat);

/*
 * Memory the administrator asks back: the cap of the context's partition
 * was lowered below its use.  The context's fd (ash_ctx_fd()) polls
 * POLLPRI while that lasts.  Set @size to sizeof(struct
 * ash_reclaim_info) before the call: fields added later are filled only
 * for callers that know them.
 */
struct ash_reclaim_info {
	size_t size;
	uint64_t bytes;		/* above the cap now; 0: nothing asked */
	uint64_t deadline_ns;	/* CLOCK_MONOTONIC; 0: no deadline */
	int kill;		/* 1: at the deadline, holders are killed */
	uint64_t seq;		/* a new reclaim has a new seq */
	uint64_t mem_max;	/* the partition's cap */
	uint64_t mem_used;	/* its charge, all its contexts' */
};

int ash_reclaim_query(struct ash_ctx *ctx, struct ash_reclaim_info *info);

/*
 * Model weights: safetensors or GGUF, detected by content.  The tensors'
 * bytes are streamed into device memory charged to the context's partition;
 * a failed load leaves nothing allocated.
 */
enum ash_dtype {
	ASH_DTYPE_INVALID = 0,
	/* plain element types, shared by both formats */
	ASH_DTYPE_BOOL,
	ASH_DTYPE_U8,
	ASH_DTYPE_I8,
	ASH_DTYPE_U16,
	ASH_DTYPE_I16,
	ASH_DTYPE_U32,
	ASH_DTYPE_I32,
	ASH_DTYPE_U64,
	ASH_DTYPE_I64,
	ASH_DTYPE_F16,
	ASH_DTYPE_BF16,
	ASH_DTYPE_F32,
	ASH_DTYPE_F64,
	ASH_DTYPE_F8_E4M3,
	ASH_DTYPE_F8_E5M2,
	/* further safetensors types; the values are ABI: append only */
	ASH_DTYPE_F8_E8M0,		/* MX scale: 8-bit exponent */
	ASH_DTYPE_F6_E2M3,		/* 6 bits, packed: 4 elements in 3 bytes */
	ASH_DTYPE_F6_E3M2,
	ASH_DTYPE_F4,			/* E2M1, packed: 2 elements a byte */
	ASH_DTYPE_C64,			/* complex of two F32 */
	ASH_DTYPE_F8_E4M3FNUZ,		/* AMD's: no -0 or inf, one NaN */
	ASH_DTYPE_F8_E5M2FNUZ,
	/* GGUF's block-quantized ggml types: whole blocks of elements */
	ASH_DTYPE_GGUF_FIRST_QUANT = 64,
	ASH_DTYPE_Q4_0 = ASH_DTYPE_GGUF_FIRST_QUANT,
	ASH_DTYPE_Q4_1,
	ASH_DTYPE_Q5_0,
	ASH_DTYPE_Q5_1,
	ASH_DTYPE_Q8_0,
	ASH_DTYPE_Q8_1,
	ASH_DTYPE_Q2_K,
	ASH_DTYPE_Q3_K,
	ASH_DTYPE_Q4_K,
	ASH_DTYPE_Q5_K,
	ASH_DTYPE_Q6_K,
	ASH_DTYPE_Q8_K,
	ASH_DTYPE_IQ2_XXS,
	ASH_DTYPE_IQ2_XS,
	ASH_DTYPE_IQ3_XXS,
	ASH_DTYPE_IQ1_S,
	ASH_DTYPE_IQ4_NL,
	ASH_DTYPE_IQ3_S,
	ASH_DTYPE_IQ2_S,
	ASH_DTYPE_IQ4_XS,
	ASH_DTYPE_IQ1_M,
	ASH_DTYPE_TQ1_0,
	ASH_DTYPE_TQ2_0,
	ASH_DTYPE_MXFP4,
	ASH_DTYPE_NVFP4,
	ASH_DTYPE_Q1_0,
	ASH_DTYPE_Q2_0,
};

struct ash_model;

/*
 * A tensor of a loaded model.  shape[] is outermost first for both formats,
 * as safetensors and NumPy write it: shape[ndim - 1] is the innermost,
 * contiguous dimension (a matrix's row length).  GGUF lists dimensions the
 * other way round (ggml's ne[0] is the innermost); the parser reverses
 * them, so a GGUF matrix of ne = {cols, rows} has shape {rows, cols}.
 */
struct ash_tensor {
	const char *name;
	int dtype;			/* enum ash_dtype */
	int ndim;
	uint64_t shape[8];		/* outermost first */
	struct ash_buf *buf;		/* where the tensor's bytes live */
	uint64_t offset;		/* ... and at which offset */
	uint64_t bytes;
};

/* Progress of a load: bytes done of bytes in all. */
typedef void (*ash_progress_fn)(void *arg, uint64_t done, uint64_t total);

/* Tuning of ash_model_load_opts(); zeroed fields take the defaults. */
struct ash_load_opts {
	uint32_t queue_depth;		/* reads in flight; default 16 */
	uint32_t chunk_size;		/* bytes per read; default 1 MiB */
	int direct_io;			/* 0 auto (default): data mostly in
					 * the page cache is copied from it;
					 * other data is read with O_DIRECT
					 * or buffered, whichever reads
					 * faster, measured as it goes (from
					 * 256 MiB on; O_DIRECT below); 1
					 * always O_DIRECT; -1 never */
	ash_progress_fn progress;	/* called from the loading thread */
	void *progress_arg;
};

int ash_model_load(struct ash_ctx *ctx, const char *path,
		   struct ash_model **model);
int ash_model_load_opts(struct ash_ctx *ctx, const char *path,
			const struct ash_load_opts *opts,
			struct ash_model **model);
int ash_model_tensor_count(const struct ash_model *model);
const struct ash_tensor *ash_model_tensor(const struct ash_model *model,
					  int index);
const struct ash_tensor *ash_model_find(const struct ash_model *model,
					const char *name);
void ash_model_free(struct ash_model *model);
const char *ash_dtype_name(int dtype);

/*
 * The model runner: a model of a supported architecture loaded into the
 * context's partition and run through command buffers (docs/tenant.md).
 * Weights, the KV cache and activations are device memory charged to the
 * partition; token ids go in and logits come out through staging memory,
 * so it runs on every device.  Architectures: "llama" (GGUF: Llama,
 * Mistral and kin; weights F32, F16, BF16, Q8_0 or Q4_0) and "bert" (GGUF,
 * or Hugging Face's model.safetensors with config.json and vocab.txt
 * beside it).  A runner is used by one thread at a time.
 */
struct ash_runner;

/* Options of ash_runner_open(); zeroed fields take the defaults. */
struct ash_runner_opts {
	uint32_t size;		/* sizeof(struct ash_runner_opts) */
	uint32_t n_ctx;		/* tokens the KV cache holds; default the
				 * model's context, at most 4096 */
	uint32_t n_batch;	/* prompt tokens per pass; default 64
				 * (encoders: the whole sequence) */
	uint32_t flags;		/* 0 */
	const struct ash_load_opts *load;	/* NULL: the defaults */
};

struct ash_runner_info {
	uint32_t size;		/* in: sizeof(struct ash_runner_info) */
	char arch[16];		/* "llama", "bert" */
	int encoder;		/* 1: ash_runner_embed; 0: ash_runner_decode */
	int tokenizer;		/* ash_runner_tokenize works */
	uint32_t n_vocab, n_embd, n_layer, n_head, n_head_kv, n_ff;
	uint32_t n_ctx, n_batch;
	uint32_t bos, eos;	/* token ids, UINT32_MAX where none */
	uint64_t weight_bytes;	/* the model's tensors */
	uint64_t kv_bytes;	/* the KV cache */
	uint64_t scratch_bytes;	/* activations and staging */
};

/*
 * Loads @path into @ctx's partition and prepares the KV cache and
 * activations.  @opts may be NULL.  On failure nothing stays allocated and
 * @err (may be NULL) holds one sentence naming the problem: the file, and
 * the architecture, tensor or type that is not supported.  -EOPNOTSUPP an
 * architecture, tensor type or variant the runner cannot run, -EINVAL a
 * malformed or inconsistent model, -EDQUOT/-ENOSPC the partition's memory,
 * or the loader's errors.
 */
int ash_runner_open(struct ash_ctx *ctx, const char *path,
		    const struct ash_runner_opts *opts,
		    struct ash_runner **runner, char *err, size_t errlen);
/* Waits for what is running, frees the model and everything the runner
 * allocated. */
void ash_runner_close(struct ash_runner *runner);
int ash_runner_info(const struct ash_runner *runner,
		    struct ash_runner_info *info);
/*
 * Decoders: runs @n tokens at the next positions of the sequence (a prompt
 * in passes of n_batch tokens, or one generated token), appending them to
 * the KV cache.  @logits (n_vocab floats) gets the last token's logits and
 * @next its argmax (greedy decoding); either may be NULL.  -ENOSPC when the
 * cache has no room for @n more tokens, -EINVAL an id outside the
 * vocabulary; a job's error as ash_wait.
 */
int ash_runner_decode(struct ash_runner *runner, const uint32_t *tokens,
		      uint32_t n, float *logits, uint32_t *next);
/* Tokens in the KV cache; reset empties it (a new sequence). */
uint32_t ash_runner_pos(const struct ash_runner *runner);
void ash_runner_reset(struct ash_runner *runner);
/* Encoders: the mean over the last layer of @n tokens (a whole sequence,
 * [CLS] ... [SEP] as the tokenizer makes it), L2-normalized, into
 * @embedding (n_embd floats). */
int ash_runner_embed(struct ash_runner *runner, const uint32_t *tokens,
		     uint32_t n, float *embedding);
/* @text as token ids from the model's own vocabulary (BERT's WordPiece;
 * llama's SentencePiece), special tokens included: the count (more than
 * @max: -ENOSPC), -EOPNOTSUPP without a tokenizer. */
int ash_runner_tokenize(const struct ash_runner *runner, const char *text,
			uint32_t *tokens, uint32_t max);
/* The vocabulary's text of token @id, NULL if none. */
const char *ash_runner_token(const struct ash_runner *runner, uint32_t id);

/* The context's file descriptor, for poll() and for diagnostics; owned by
 * the context. */
int ash_ctx_fd(const struct ash_ctx *ctx);

#ifdef __cplusplus
}
#endif

#endif /* ACCELSHARE_H */
