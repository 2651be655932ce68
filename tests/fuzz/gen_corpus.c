/* SPDX-License-Identifier: MIT */
/*
 * Writes the fuzzers' seed corpora: small valid files of both formats and
 * a few near-valid ones.  Usage: gen_corpus DIR (writes DIR/safetensors/
 * and DIR/gguf/).  The seeds are committed; run this to renew them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtype.h"
#include "model_files.h"

static const char *dir;

static void out(const char *kind, const char *name, void *buf, size_t len)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s/%s", dir, kind, name);
	if (mf_write_file(path, buf, len)) {
		perror(path);
		exit(1);
	}
	free(buf);
}

int main(int argc, char **argv)
{
	struct mf_tensor plain[] = {
		{ "a", ASH_DTYPE_F32, 2, { 2, 3 } },
		{ "b.weight", ASH_DTYPE_BF16, 1, { 4 } },
		{ "e", ASH_DTYPE_U8, 1, { 0 } },
		{ "s", ASH_DTYPE_I64, 0, { 0 } },
	};
	struct mf_tensor sub[] = {
		{ "f4", ASH_DTYPE_F4, 1, { 4 } },
		{ "f6", ASH_DTYPE_F6_E2M3, 2, { 2, 2 } },
		{ "c", ASH_DTYPE_C64, 1, { 1 } },
		{ "m", ASH_DTYPE_F8_E8M0, 1, { 3 } },
	};
	struct mf_tensor quant[] = {
		{ "q4", ASH_DTYPE_Q4_0, 2, { 32, 2 } },
		{ "k", ASH_DTYPE_Q4_K, 1, { 256 } },
		{ "f", ASH_DTYPE_F16, 1, { 3 } },
		{ "z", ASH_DTYPE_IQ4_NL, 2, { 32, 0 } },
	};
	const char *bad = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
			  "\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F4\","
			  "\"shape\":[2],\"data_offsets\":[4,5]}}";
	size_t len;
	void *b;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	dir = argv[1];
	b = mf_safetensors(plain, 4, NULL, &len);
	out("safetensors", "plain", b, len);
	b = mf_safetensors(sub, 4,
		"{\"format\":\"pt\"}", &len);
	out("safetensors", "subbyte", b, len);
	b = mf_safetensors(NULL, 0, "{}", &len);
	out("safetensors", "empty", b, len);
	b = mf_safetensors_raw(bad, strlen(bad), 5,
		&len);
	out("safetensors", "dup", b, len);
	b = mf_gguf(quant, 4, 3, 0, &len);
	out("gguf", "v3", b, len);
	b = mf_gguf(plain, 2, 2, 64, &len);
	out("gguf", "v2_align64", b, len);
	b = mf_gguf(NULL, 0, 3, 0, &len);
	out("gguf", "empty", b, len);
	b = mf_gguf(quant, 2, 3, 0, &len);
	((unsigned char *)b)[4] = 1;		/* version 1 */
	out("gguf", "v1", b, len);
	return 0;
}
