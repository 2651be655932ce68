/* SPDX-License-Identifier: MIT */
/*
 * The CPU reference engine's op set: one struct ash_command executed on
 * host memory.  See docs/engine.md for operand layouts, validation rules and
 * numeric conventions.
 */
#ifndef ASH_ENGINE_OPS_H
#define ASH_ENGINE_OPS_H

#include <stdint.h>

#include <uapi/accelshare.h>

/**
 * ash_engine_exec() - validate and run one command
 * @cmd: the command, as ASH_CTL_ENGINE_FETCH wrote it (in the engine's own
 *	memory: the parameters cannot change under the engine).
 * @space: the engine's mapping of the device address space.
 * @space_size: its length in bytes.
 *
 * Operand offsets are device addresses: byte offsets into @space.  The
 * driver has already checked each operand against its buffer; this checks
 * everything else (operand count and flags, parameter size and padding,
 * shapes against operand lengths, alignment, aliasing) before touching
 * anything, and writes nothing when it fails.
 *
 * Return: 0, -EINVAL for a malformed command, -EFAULT for an operand
 * outside @space (a driver bug), -ENOMEM when scratch memory (f16/bf16
 * GEMM) cannot be allocated.
 */
int ash_engine_exec(const struct ash_command *cmd, uint8_t *space,
		    uint64_t space_size);

/* "gemm", "copy", ...; "unknown" for an opcode outside enum ash_opcode. */
const char *ash_op_name(uint32_t opcode);

/* Bit-exact conversions of IEEE binary16 and bfloat16 to binary32. */
float ash_f16_to_f32(uint16_t h);
float ash_bf16_to_f32(uint16_t b);

#endif /* ASH_ENGINE_OPS_H */
