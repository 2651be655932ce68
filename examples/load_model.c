// SPDX-License-Identifier: MIT
/*
 * load_model: load a safetensors or GGUF file into a partition and list
 * its tensors.
 *
 *   load_model PARTITION FILE
 *
 * The weights are streamed into device memory charged to the partition;
 * each tensor says which buffer holds it and where.
 */
#include <stdio.h>
#include <string.h>

#include <accelshare.h>

int main(int argc, char **argv)
{
	struct ash_model *model;
	struct ash_ctx *ctx;
	int i, n, ret;

	if (argc != 3) {
		fprintf(stderr, "usage: load_model PARTITION FILE\n");
		return 2;
	}
	ret = ash_open(argv[1], &ctx);
	if (ret) {
		fprintf(stderr, "load_model: cannot open partition %s: %s\n",
			argv[1], strerror(-ret));
		return 1;
	}
	ret = ash_model_load(ctx, argv[2], &model);
	if (ret) {
		fprintf(stderr, "load_model: %s: %s\n", argv[2], strerror(-ret));
		ash_close(ctx);
		return 1;
	}
	n = ash_model_tensor_count(model);
	for (i = 0; i < n; i++) {
		const struct ash_tensor *t = ash_model_tensor(model, i);

		printf("%-24s %-5s %llu bytes\n", t->name,
		       ash_dtype_name(t->dtype), (unsigned long long)t->bytes);
	}
	printf("%d tensors loaded\n", n);
	ash_model_free(model);
	ash_close(ctx);
	return 0;
}
