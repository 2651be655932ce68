// SPDX-License-Identifier: MIT
/*
 * Three organizations run ash-run at once on partitions of weights 1, 2
 * and 4 (alice, bob and carol, each in its own), the same Q8_0 model
 * (llama-shares.gguf: embedding 256, 2 layers, tests/python/
 * write_runner_refs.py) and the same 320-token prompt, in passes of 64
 * tokens, each pass many jobs, then 4 generated tokens:
 *  - each prints the tokens a run alone printed before;
 *  - while all three contend, each partition's share of engine time is
 *    within 5 percentage points of 1/7, 2/7, 4/7 (looser than
 *    sched_shares_weighted's 2: its jobs are uneven).  Between passes a
 *    tenant's queue is empty while it records the next pass, which under
 *    TCG with a debug kernel takes long enough to skew any fixed window
 *    of wall time (a weight is a share of contended time, not of the
 *    time a tenant has nothing queued); so the partitions are sampled
 *    every SAMPLE_MS, and only the intervals that start with jobs queued
 *    by all three are counted (chosen by their start, not their end: an
 *    interval that must end queued too would leave out the ones in which
 *    the scheduler served a partition's queue empty, and so undercount
 *    the heaviest);
 *  - each partition is charged its own copy of the weights and its KV
 *    cache while its run is open (mem_used at least the model file's
 *    tensors plus the cache), and nothing after;
 *  - an ash-run killed with SIGKILL mid-prompt leaves its partition's
 *    memory, buffers and contexts as they were before it started.
 */
#include "vtexec.h"

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>

#define MODEL		"/models/llama-shares.gguf"
#define PROMPT		320
#define WINDOW_MS	10000
#define SAMPLE_MS	10
#define MIN_COUNTED_NS	(1000ULL * 1000 * 1000)
#define TOL		0.05

static const char *const names[3] = { "w1", "w2", "w4" };
static const uint32_t weights[3] = { 1, 2, 4 };
static const char *const users[3] = { "alice", "bob", "carol" };
static const uid_t uids[3] = { VT_ALICE, VT_BOB, VT_CAROL };

static char cmd[8192];

static void make_cmd(const char *part, const char *out)
{
	char *p = cmd;
	int i;

	p += sprintf(p, "ash-run --partition %s " MODEL
		     " --ctx 1024 --batch 64 -n 4 --ignore-eos --tokens ",
		     part);
	for (i = 0; i < PROMPT; i++)
		p += sprintf(p, "%s%d", i ? "," : "", 3 + (i * 37) % 317);
	sprintf(p, " > %s 2>&1", out);
}

/* The "tokens: ..." line of an ash-run output file. */
static void tokens_of(const char *path, char *out, size_t len)
{
	FILE *f = fopen(path, "r");
	char line[16384];

	out[0] = '\0';
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "tokens: ", 8))
			snprintf(out, len, "%s", line);
	fclose(f);
}

static pid_t start(int i, const char *out)
{
	char sh[9000];
	pid_t pid;

	make_cmd(names[i], out);
	snprintf(sh, sizeof(sh), "exec runas %s %s", users[i], cmd);
	pid = fork();
	REQUIRE(pid >= 0, "fork");
	if (!pid) {
		execl("/bin/sh", "sh", "-c", sh, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/*
 * Each partition's engine time into @busy; whether all three have jobs
 * waiting for the engine.
 */
static bool contended(uint64_t busy[3])
{
	bool all = true;
	int i;

	for (i = 0; i < 3; i++) {
		struct ash_partition_info pi = vt_part(names[i]);

		busy[i] = pi.busy_ns;
		all = all && pi.jobs_queued;
	}
	return all;
}

static int exit_code(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(void)
{
	struct ash_partition_params p;
	struct ash_partition_info before, after;
	uint64_t b0[3], b1[3], counted[3], total = 0, tensors, kv;
	bool prev_all, all;
	char solo[16384], got[16384];
	struct stat st;
	pid_t pids[3];
	int i, k;

	vt_init("model_runner_shares", 900);
	REQUIRE(!stat(MODEL, &st), "%s: %s", MODEL, strerror(errno));
	/* The tensors are the file less its header (well under 64 KiB); the
	 * KV cache 2 layers of K and V, 1024 tokens of 4 heads of 32. */
	tensors = (uint64_t)st.st_size - 64 * KiB;
	kv = 2 * 2 * 1024 * 4 * 32 * 4;
	for (i = 0; i < 3; i++) {
		vt_params(&p, names[i], 48 * MiB);
		p.weight = weights[i];
		p.nr_uids = 1;
		p.uids[0] = uids[i];
		REQUIRE_OK(vt_part_create(&p), "create partition");
	}
	pid_t eng = vx_engine_start("1");

	/* Alone first: the tokens to expect. */
	pids[0] = start(2, "/tmp/solo.out");
	EXPECT_EQ(exit_code(pids[0]), 0, "ash-run alone: exit status");
	tokens_of("/tmp/solo.out", solo, sizeof(solo));
	REQUIRE(solo[0], "ash-run alone printed no tokens");

	/* All three at once. */
	for (i = 0; i < 3; i++) {
		char out[64];

		snprintf(out, sizeof(out), "/tmp/run%d.out", i);
		pids[i] = start(i, out);
	}
	/* Until every partition's engine time moves: all are in prompt. */
	for (k = 0; k < 600; k++) {
		int moving = 0;

		for (i = 0; i < 3; i++)
			moving += vt_part(names[i]).busy_ns > 0;
		if (moving == 3)
			break;
		usleep(50000);
	}
	usleep(500000);
	for (i = 0; i < 3; i++) {
		struct ash_partition_info pi = vt_part(names[i]);

		EXPECT(pi.mem_used >= tensors + kv,
		       "%s: mem_used %llu during the run, under the weights' %llu and the KV cache's %llu",
		       names[i], (unsigned long long)pi.mem_used,
		       (unsigned long long)tensors, (unsigned long long)kv);
		printf("%s: %llu bytes charged during the run\n", names[i],
		       (unsigned long long)pi.mem_used);
	}
	/* Engine time of the intervals in which all three contended. */
	memset(counted, 0, sizeof(counted));
	prev_all = contended(b0);
	for (k = 0; k < WINDOW_MS / SAMPLE_MS; k++) {
		usleep(SAMPLE_MS * 1000);
		all = contended(b1);
		if (prev_all)
			for (i = 0; i < 3; i++)
				counted[i] += b1[i] - b0[i];
		prev_all = all;
		memcpy(b0, b1, sizeof(b0));
	}
	for (i = 0; i < 3; i++)
		total += counted[i];
	printf("engine time in intervals that began with all three queued: %.1f ms\n",
	       total / 1e6);
	REQUIRE(total >= MIN_COUNTED_NS,
		"only %.1f ms of engine time in intervals that began with all three queued, want at least %.0f",
		total / 1e6, MIN_COUNTED_NS / 1e6);
	for (i = 0; i < 3; i++) {
		double share = (double)counted[i] / total;
		double want = weights[i] / 7.0;

		printf("%s (weight %u): %.1f%% of engine time, want %.1f%%\n",
		       names[i], weights[i], 100 * share, 100 * want);
		EXPECT(fabs(share - want) <= TOL,
		       "%s: share %.1f%%, want %.1f%% +- %.0f", names[i],
		       100 * share, 100 * want, 100 * TOL);
	}
	for (i = 0; i < 3; i++) {
		char out[64];

		EXPECT_EQ(exit_code(pids[i]), 0, "ash-run exit status");
		snprintf(out, sizeof(out), "/tmp/run%d.out", i);
		tokens_of(out, got, sizeof(got));
		EXPECT(!strcmp(got, solo), "%s: tokens %s, alone %s",
		       names[i], got, solo);
		EXPECT_EQ(vt_part(names[i]).mem_used, 0,
			  "mem_used after the run");
	}

	/* SIGKILL mid-prompt: the partition as before. */
	before = vt_part(names[0]);
	pids[0] = start(0, "/tmp/killed.out");
	for (k = 0; k < 600 && vt_part(names[0]).busy_ns == before.busy_ns;
	     k++)
		usleep(20000);
	usleep(300000);
	kill(pids[0], SIGKILL);
	exit_code(pids[0]);
	for (k = 0; k < 200; k++) {
		after = vt_part(names[0]);
		if (!after.nr_contexts && !after.mem_used)
			break;
		usleep(20000);
	}
	EXPECT_EQ(after.mem_used, before.mem_used, "mem_used after SIGKILL");
	EXPECT_EQ(after.nr_buffers, before.nr_buffers,
		  "buffers after SIGKILL");
	EXPECT_EQ(after.nr_contexts, before.nr_contexts,
		  "contexts after SIGKILL");
	EXPECT_EQ(vx_engine_stop(eng, SIGTERM), 0, "engine exit status");
	return vt_result();
}
