// SPDX-License-Identifier: MIT
/*
 * alloc_map: open a partition, allocate device memory, map it, use it.
 *
 *   alloc_map PARTITION
 *
 * The memory is charged to the partition (ashctl partition list shows it
 * while this runs) and arrives zeroed.  Build against an installed
 * libaccelshare with
 *   cc alloc_map.c $(pkg-config --cflags --libs accelshare)
 */
#include <stdio.h>
#include <string.h>

#include <accelshare.h>

int main(int argc, char **argv)
{
	struct ash_partition_stat st;
	struct ash_ctx *ctx;
	struct ash_buf *buf;
	unsigned char *p;
	int ret;

	if (argc != 2) {
		fprintf(stderr, "usage: alloc_map PARTITION\n");
		return 2;
	}
	ret = ash_open(argv[1], &ctx);
	if (ret) {
		fprintf(stderr, "alloc_map: cannot open partition %s: %s\n",
			argv[1], strerror(-ret));
		return 1;
	}
	ret = ash_alloc(ctx, 1 << 20, &buf);		/* -EDQUOT over the cap */
	if (!ret)
		ret = ash_map(buf, (void **)&p);	/* zeroed device memory */
	if (ret) {
		fprintf(stderr, "alloc_map: %s\n", strerror(-ret));
		ash_close(ctx);
		return 1;
	}
	if (p[0] || p[(1 << 20) - 1]) {
		fprintf(stderr, "alloc_map: the memory was not zero\n");
		ash_close(ctx);
		return 1;
	}
	memset(p, 0xab, 1 << 20);
	ash_partition_stat(ctx, &st);
	printf("partition %s: %llu of %llu bytes in use, this buffer %llu\n",
	       st.name, (unsigned long long)st.mem_used,
	       (unsigned long long)st.mem_max,
	       (unsigned long long)ash_buf_size(buf));
	ash_free(buf);
	ash_close(ctx);		/* would free the buffer too */
	return 0;
}
