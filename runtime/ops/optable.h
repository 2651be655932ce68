/* SPDX-License-Identifier: MIT */
/*
 * The op table: the one place that knows what each op of
 * <linux/accelshare_ops.h> means.  One descriptor per op gives
 *  - its operands' roles and the access each role must declare,
 *  - the size of its parameters and their check against the operands,
 *  - its cost, in units (one per byte read or written plus one per
 *    arithmetic operation, estimated per op),
 *  - the helpers its tiling uses, so that tiles and cost agree.
 * The library (runtime/cmdbuf.c) records and tiles with it and checks every
 * command it records; the engine, which is trusted, checks every command it
 * fetches with the same code and refuses jobs over its budget.  Each backend
 * of the engine implements every op (runtime/engine/backend.h).
 *
 * Plain C with no I/O and no allocation, linked into libaccelshare (hidden)
 * and into the engine.
 */
#ifndef ASH_OPTABLE_H
#define ASH_OPTABLE_H

#include <stdbool.h>
#include <stdint.h>

#include <uapi/accelshare.h>

/* The access a role must declare: inputs exactly READ, outputs WRITE or
 * READ|WRITE (an output may be read too: GEMM's C with beta != 0). */
enum ash_op_role {
	ASH_ROLE_NONE = 0,
	ASH_ROLE_IN,
	ASH_ROLE_OUT,
};

/* Arithmetic per element, in cost units, of the element-wise and row ops;
 * each element also costs the bytes it reads and writes. */
#define ASH_COST_ADD		1
#define ASH_COST_MUL		1
#define ASH_COST_SILU		4
#define ASH_COST_GELU		8
#define ASH_COST_RMSNORM	4
#define ASH_COST_SOFTMAX	4
#define ASH_COST_ROPE		6
#define ASH_COST_GELU_ERF	12
#define ASH_COST_LAYERNORM	6
#define ASH_COST_ARGMAX		1
#define ASH_COST_ATTENTION	4	/* per q.k and p.v element pair */

/* The query heads an ATTENTION command takes. */
static inline uint32_t ash_attn_heads(const struct ash_attention_params *t)
{
	return t->nr_heads ? t->nr_heads : t->heads;
}

/**
 * struct ash_op_args - a command checked against the op table
 * @cmd: the command; operand offsets are buffer offsets with nonzero
 *	handles (the library's view) or device addresses with handles 0 (the
 *	engine's view).  Checks use only offsets, lengths and handles.
 * @u: the parameters, copied out of the blob (which has no alignment).
 * @bytes: bytes of each operand the op touches, from its shape.
 * @cost: the command's cost in units.
 */
struct ash_op_args {
	const struct ash_command *cmd;
	union {
		struct ash_fill_params fill;
		struct ash_gemm_params gemm;
		struct ash_eltwise_params elt;
		struct ash_rows_params rows;
		struct ash_rope_params rope;
		struct ash_embedding_params emb;
		struct ash_attention_params attn;
	} u;
	uint64_t bytes[ASH_CMD_MAX_OPERANDS];
	uint64_t cost;
};

/**
 * struct ash_op_desc - one op
 * @name: "gemm", ...
 * @nr_operands: operands it takes.
 * @role: the role of each.
 * @params_size: bytes of its parameters in the blob (0: none).
 * @check: the op's own checks on @args (shapes against operand lengths,
 *	alignment, aliasing, parameter values); fills @args->bytes.  0 or
 *	-EINVAL.
 * @cost: the cost of a checked command.
 */
struct ash_op_desc {
	const char *name;
	uint32_t nr_operands;
	uint8_t role[ASH_CMD_MAX_OPERANDS];
	uint32_t params_size;
	int (*check)(struct ash_op_args *args);
	uint64_t (*cost)(const struct ash_op_args *args);
};

/* The descriptor of @opcode, or NULL for an opcode the table lacks. */
const struct ash_op_desc *ash_optable_desc(uint32_t opcode);

/* "gemm", ...; "unknown" for an opcode the table lacks. */
const char *ash_optable_name(uint32_t opcode);

/*
 * Check @cmd completely: opcode known, command flags 0, operand count the
 * op's, unused operands zero, params_size the op's with a zero tail, each
 * operand's declared access what its role needs and its length > 0, then
 * the op's own checks.  Fills @args (its @cost included).  0 or -EINVAL;
 * nothing is read but @cmd.
 */
int ash_optable_check(const struct ash_command *cmd, struct ash_op_args *args);

/* Bytes of a block of 32 elements of the quantized types. */
#define ASH_Q8_0_BYTES	34
#define ASH_Q4_0_BYTES	18

/* Whether op dtype @dtype (ASH_OP_*) is block-quantized. */
bool ash_op_quantized(uint32_t dtype);

/* Bytes of @elems elements of op dtype @dtype; 0 for an unknown dtype, on
 * overflow, or for quantized types when @elems is not whole blocks. */
uint64_t ash_op_bytes(uint32_t dtype, uint64_t elems);

/* Saturating arithmetic for costs. */
uint64_t ash_cost_add(uint64_t a, uint64_t b);
uint64_t ash_cost_mul(uint64_t a, uint64_t b);

/* Tiling helpers: the rules the library cuts ops by, with the costs above. */

/* Cost of a GEMM tile C[mt x nt] over kt of k, A and B of @es bytes an
 * element: 2 mt nt kt + es (mt kt + kt nt) + 8 mt nt, saturating. */
uint64_t ash_cost_gemm(uint64_t mt, uint64_t nt, uint64_t kt, uint32_t es);

/*
 * Tile sizes of C[m x n] over k for tiles of at most @budget units: whole
 * rows of C if a row fits, else blocks of at least min(n, 64) columns,
 * else also blocks of k.  A tile of one row, 64 columns and one step of k
 * always fits a budget of at least ASH_JOB_COST_MAX.
 */
void ash_gemm_tiles(uint32_t m, uint32_t n, uint32_t k, uint32_t es,
		    uint64_t budget, uint64_t *mt, uint64_t *nt, uint64_t *kt);

/* Items per tile when each costs @per units and a tile also costs @fixed,
 * for tiles of at most @budget: 0 if not even one fits. */
uint64_t ash_per_tile(uint64_t per, uint64_t fixed, uint64_t budget);

#endif /* ASH_OPTABLE_H */
