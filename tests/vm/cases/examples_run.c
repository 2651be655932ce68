// SPDX-License-Identifier: MIT
/*
 * The programs of examples/ run as a newcomer runs them, so they never rot:
 * alloc_map and cmdbuf_gemm on a partition with the engine running, and
 * load_model on a small safetensors file the case writes.  Each must exit
 * 0 and print what it says it does.  The runner copies every program of
 * build/examples into the image's /examples.
 */
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "vtexec.h"

#define PART	"examples"
#define MODEL	"/tmp/examples.safetensors"

/* A safetensors file of one 2 x 2 f32 tensor "w". */
static void write_model(void)
{
	static const char hdr[] =
		"{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}";
	uint64_t len = sizeof(hdr) - 1;
	float data[4] = { 1, 2, 3, 4 };
	int fd = open(MODEL, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	REQUIRE(fd >= 0, "create %s", MODEL);
	REQUIRE(write(fd, &len, 8) == 8 &&
		write(fd, hdr, len) == (ssize_t)len &&
		write(fd, data, sizeof(data)) == sizeof(data), "write %s", MODEL);
	close(fd);
}

static void run(const char *cmd, const char *want)
{
	static char out[8192];
	int st = vt_sh(out, sizeof(out), "%s", cmd);

	printf("$ %s\n%s", cmd, out);
	EXPECT(st == 0, "%s: exit status %d", cmd, st);
	EXPECT(strstr(out, want), "%s: no \"%s\" in its output", cmd, want);
}

int main(void)
{
	pid_t eng;

	vt_init("examples_run", 120);
	if (access("/examples/alloc_map", X_OK)) {
		printf("SKIP: the examples are not in the VM image\n");
		return VT_SKIP;
	}
	vt_part_new(PART, 16 * MiB, 0, VT_ROOT, (gid_t)-1);
	eng = vx_engine_start("1");
	write_model();
	run("/examples/alloc_map " PART, "partition " PART ": 1048576 of 16777216 bytes in use");
	run("/examples/cmdbuf_gemm " PART, "C = gelu(A B): all 65536 elements 0.8412");
	run("/examples/load_model " PART " " MODEL, "1 tensors loaded");
	EXPECT_EQ(vt_part(PART).mem_used, 0, "partition memory after the examples");
	EXPECT_EQ(vx_engine_stop(eng, SIGTERM), 0, "engine exit status");
	unlink(MODEL);
	return vt_result();
}
