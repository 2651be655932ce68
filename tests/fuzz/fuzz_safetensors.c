/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the safetensors parser, and detection by content. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check(ash_safetensors_parse, data, size);
	check(ash_model_parse, data, size);
	return 0;
}
