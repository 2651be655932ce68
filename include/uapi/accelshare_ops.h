/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * accelshare - the op set: what the commands of a job mean.
 *
 * The driver does not read this header.  It checks a job's envelope only
 * (operands name the submitter's buffers, ranges lie inside them, declared
 * writes avoid read-only buffers, sizes are bounded) and passes opcodes and
 * parameter blobs through untouched.  The meaning of each op -- the access
 * each operand needs, its parameters, its cost -- is defined here and
 * enforced by the engine (runtime/ops/, docs/engine.md), which is trusted.
 * A new op therefore needs no kernel change.
 *
 * <linux/accelshare.h> includes this header for userspace, so programs that
 * build jobs from it keep every name they used.
 */
#ifndef _UAPI_LINUX_ACCELSHARE_OPS_H
#define _UAPI_LINUX_ACCELSHARE_OPS_H

#include <linux/types.h>

/* Opcodes.  Tensors are dense, row-major, of the command's dtype. */
enum ash_opcode {
	ASH_OP_NOP = 0,		/* no operands: a scheduling round trip */
	ASH_OP_COPY,		/* [dst W, src R], equal lengths */
	ASH_OP_FILL,		/* [dst W], struct ash_fill_params */
	ASH_OP_GEMM,		/* [C W, A R, B R], struct ash_gemm_params */
	ASH_OP_ADD,		/* [out W, a R, b R], struct ash_eltwise_params */
	ASH_OP_MUL,		/* [out W, a R, b R], struct ash_eltwise_params */
	ASH_OP_SILU,		/* [out W, in R], struct ash_eltwise_params */
	ASH_OP_GELU,		/* [out W, in R], struct ash_eltwise_params */
	ASH_OP_RMSNORM,		/* [out W, in R, weight R], struct ash_rows_params */
	ASH_OP_SOFTMAX,		/* [out W, in R], struct ash_rows_params */
	ASH_OP_ROPE,		/* [out W, in R], struct ash_rope_params */
	ASH_OP_EMBEDDING,	/* [out W, table R, ids R], struct ash_embedding_params */
	/* Appended: opcodes are ABI. */
	ASH_OP_GELU_ERF,	/* [out W, in R], struct ash_eltwise_params */
	ASH_OP_LAYERNORM,	/* [out W, in R, weight R, bias R], struct ash_rows_params */
	ASH_OP_ARGMAX,		/* [out W (u32 per row), in R], struct ash_rows_params */
	ASH_OP_ATTENTION,	/* [out W, q R, k R, v R], struct ash_attention_params */
	ASH_OP_COUNT,
};

/* Element types of op parameters */
#define ASH_OP_F32		0
#define ASH_OP_F16		1
#define ASH_OP_BF16		2
/*
 * ggml's block-quantized types, for weights (GGUF's Q8_0 and Q4_0): rows
 * of whole blocks of 32 elements, each block a binary16 scale d followed
 * by its quants.  Q8_0, 34 bytes: element i is d * q[i], q int8.  Q4_0,
 * 18 bytes: 16 bytes of nibbles, element i (i < 16) is d * (lo(q[i]) - 8)
 * and element i + 16 is d * (hi(q[i]) - 8).  Quantized operands are
 * 2-byte aligned.
 */
#define ASH_OP_Q8_0		3
#define ASH_OP_Q4_0		4
#define ASH_OP_QBLOCK		32	/* elements per block */

struct ash_fill_params {
	__u32 pattern;		/* repeated in host byte order; lengths % 4 == 0 */
	__u32 pad;
};

/*
 * C[m x n] (f32) = alpha * op(A)[m x k] * op(B)[k x n] + beta * C.
 * A and B are both of dtype F32, F16 or BF16.  With ASH_GEMM_A_F32, A is
 * f32 and dtype is B's alone (F32, F16, BF16, Q8_0 or Q4_0: a layer's
 * weights against f32 activations); flags are then exactly that and
 * ASH_GEMM_TRANS_B (B stored n x k, the weights' [out][in]).  Quantized B
 * needs ASH_GEMM_A_F32, and k and ldb multiples of 32.
 */
#define ASH_GEMM_TRANS_A	(1U << 0)
#define ASH_GEMM_TRANS_B	(1U << 1)
#define ASH_GEMM_A_F32		(1U << 2)
struct ash_gemm_params {
	__u32 m, n, k;
	__u32 dtype;		/* ASH_OP_F32, _F16, _BF16, _Q8_0 or _Q4_0 */
	__u32 lda, ldb, ldc;	/* leading dimensions, elements; 0: dense */
	__u32 flags;		/* ASH_GEMM_* */
	float alpha, beta;
};

struct ash_eltwise_params {
	__u64 count;		/* f32 elements */
};

/*
 * RMSNORM: out = in / sqrt(mean(in^2) + eps) * weight, per row.
 * LAYERNORM: out = (in - mean) / sqrt(var + eps) * weight + bias, per row
 * (the population variance).  SOFTMAX, ARGMAX: eps must be 0.  ARGMAX
 * writes per row the u32 index of the first largest element, NaNs
 * ignored (0 for a row of NaNs).
 */
struct ash_rows_params {
	__u32 rows, cols;	/* f32 */
	float eps;		/* RMSNORM, LAYERNORM */
	__u32 pad;
};

struct ash_rope_params {
	__u32 tokens, heads, head_dim;	/* f32 [tokens][heads][head_dim] */
	__u32 pos0;			/* position of the first token */
	float theta;			/* base, e.g. 10000 */
	__u32 pad;
};

/* out (f32) = rows ids of table; table of dtype F32, F16, BF16, Q8_0 or
 * Q4_0 (dim a multiple of 32), converted to f32. */
struct ash_embedding_params {
	__u32 nr_ids;		/* ids: u32[nr_ids] */
	__u32 dim;		/* table: [vocab][dim], out: f32[nr_ids][dim] */
	__u32 vocab;
	__u32 dtype;		/* of table: ASH_OP_*; 0 is F32 */
};

/*
 * Scaled dot-product attention over a KV cache, grouped-query: q and out
 * are f32 [q_tokens][heads][head_dim], k and v f32
 * [kv_tokens][kv_heads][head_dim]; query head h uses kv head
 * h / (heads / kv_heads).  Query token i is at position q_pos0 + i of the
 * kv sequence; with ASH_ATTN_CAUSAL it attends kv tokens 0..q_pos0 + i
 * (q_pos0 + q_tokens <= kv_tokens), without it all of them (q_pos0 0).
 * out = softmax(scale * q . k) . v, per query token and head.
 * A command may take only query heads head0..head0 + nr_heads - 1 of one
 * query token (q_tokens 1): q and out then hold just those heads; nr_heads
 * 0 (with head0 0) takes them all.  So a long cache is cut by heads.
 */
#define ASH_ATTN_CAUSAL		(1U << 0)
struct ash_attention_params {
	__u32 q_tokens, kv_tokens;
	__u32 heads, kv_heads;
	__u32 head_dim;
	__u32 q_pos0;
	__u32 flags;		/* ASH_ATTN_* */
	float scale;		/* e.g. 1 / sqrt(head_dim) */
	__u32 head0, nr_heads;
};

#endif /* _UAPI_LINUX_ACCELSHARE_OPS_H */
