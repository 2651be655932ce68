// SPDX-License-Identifier: MIT
/*
 * The model runner's speed against llama.cpp's (bench/runner.mk), inside
 * one VM of the distribution kernel, so that both run on the same virtual
 * CPU: prompt processing and greedy generation in tokens per second, for
 * the Llama-architecture models of tests/python/write_runner_refs.py.
 *
 * Ours: ash_runner_* as alice in a partition, accelshare-engine (cpu
 * backend, one thread) serving it through the driver.  Baseline: llama.cpp
 * (libllama of llama-cpp-python, one thread, f32 KV cache) on the same
 * file, called directly.  Same prompt (128 ids), 32 generated tokens,
 * batches of 64; the table gives both rates and ours / llama.cpp, and
 * whether the two generated the same tokens.  Under TCG the absolute rates
 * are those of an emulated CPU; the ratio is the figure to read, and with
 * these small models it weighs the per-pass round trip through driver and
 * engine as much as the arithmetic.
 */
#include "vtexec.h"

#include <llama.h>

#define PART	"bench"
#define PROMPT	128
#define GEN	32

struct rate {
	double prompt, gen;	/* tokens per second */
	uint32_t tokens[GEN];
};

static struct rate *ours;
static const char *model_path;
static uint32_t prompt[PROMPT];

static double secs(uint64_t a, uint64_t b)
{
	return (double)(b - a) / 1e9;
}

static int run_ours(void *arg)
{
	struct ash_runner_opts o = { .size = sizeof(o), .n_ctx = 256,
				     .n_batch = 64 };
	struct ash_runner *r;
	struct ash_ctx *ctx;
	char err[256];
	uint32_t next, i;
	uint64_t t0, t1, t2;

	(void)arg;
	REQUIRE(!ash_open(PART, &ctx), "ash_open");
	REQUIRE(!ash_runner_open(ctx, model_path, &o, &r, err, sizeof(err)),
		"ash_runner_open: %s", err);
	t0 = vx_now_ns();
	REQUIRE(!ash_runner_decode(r, prompt, PROMPT, NULL, &next), "prompt");
	t1 = vx_now_ns();
	for (i = 0; i < GEN; i++) {
		ours->tokens[i] = next;
		if (i + 1 < GEN)
			REQUIRE(!ash_runner_decode(r, &next, 1, NULL, &next),
				"step %u", i);
	}
	t2 = vx_now_ns();
	ours->prompt = PROMPT / secs(t0, t1);
	ours->gen = (GEN - 1) / secs(t1, t2);
	ash_runner_close(r);
	ash_close(ctx);
	return vt_result();
}

static uint32_t argmax(const float *v, int n)
{
	int i, best = 0;

	for (i = 1; i < n; i++)
		if (v[i] > v[best])
			best = i;
	return (uint32_t)best;
}

static void run_llama(struct rate *out)
{
	struct llama_model_params mp = llama_model_default_params();
	struct llama_context_params cp = llama_context_default_params();
	struct llama_model *model;
	struct llama_context *lc;
	llama_token toks[PROMPT], t;
	uint64_t t0, t1, t2;
	int i, n_vocab;

	model = llama_model_load_from_file(model_path, mp);
	REQUIRE(model, "llama.cpp cannot load %s", model_path);
	cp.n_ctx = 256;
	cp.n_batch = 64;
	cp.n_ubatch = 64;
	cp.n_threads = 1;
	cp.n_threads_batch = 1;
	cp.type_k = GGML_TYPE_F32;
	cp.type_v = GGML_TYPE_F32;
	lc = llama_init_from_model(model, cp);
	REQUIRE(lc, "llama.cpp cannot make a context");
	n_vocab = llama_vocab_n_tokens(llama_model_get_vocab(model));
	for (i = 0; i < PROMPT; i++)
		toks[i] = (llama_token)prompt[i];
	t0 = vx_now_ns();
	for (i = 0; i < PROMPT; i += 64)
		REQUIRE(!llama_decode(lc, llama_batch_get_one(toks + i, 64)),
			"llama_decode of the prompt");
	t = (llama_token)argmax(llama_get_logits_ith(lc, -1), n_vocab);
	t1 = vx_now_ns();
	for (i = 0; i < GEN; i++) {
		out->tokens[i] = (uint32_t)t;
		if (i + 1 == GEN)
			break;
		REQUIRE(!llama_decode(lc, llama_batch_get_one(&t, 1)),
			"llama_decode step %d", i);
		t = (llama_token)argmax(llama_get_logits_ith(lc, -1), n_vocab);
	}
	t2 = vx_now_ns();
	out->prompt = PROMPT / secs(t0, t1);
	out->gen = (GEN - 1) / secs(t1, t2);
	llama_free(lc);
	llama_model_free(model);
}

static void quiet(enum ggml_log_level level, const char *text, void *data)
{
	(void)level;
	(void)text;
	(void)data;
}

int main(void)
{
	static const char *const models[] = {
		"/models/llama-f32.gguf", "/models/llama-q8_0.gguf",
		"/models/llama-shares.gguf",
	};
	struct rate base;
	unsigned int m;
	int i;
	pid_t eng;

	vt_init("runner_bench", 600);
	ours = vt_shared(sizeof(*ours));
	for (i = 0; i < PROMPT; i++)
		prompt[i] = 3 + (uint32_t)(i * 37) % 317;
	llama_log_set(quiet, NULL);
	llama_backend_init();
	vt_part_new(PART, 64 * MiB, 0, VT_ALICE, (gid_t)-1);
	eng = vx_engine_start("1");
	printf("RUNNER-BENCH BEGIN\n");
	printf("%-26s %12s %12s %8s %12s %12s %8s %s\n", "model (1 thread each)",
	       "prompt t/s", "llama.cpp", "ratio", "gen t/s", "llama.cpp",
	       "ratio", "same tokens");
	for (m = 0; m < sizeof(models) / sizeof(models[0]); m++) {
		model_path = models[m];
		memset(ours, 0, sizeof(*ours));
		EXPECT_EQ(vt_run_as(VT_ALICE, VT_ORGA, run_ours, NULL), 0,
			  "runner exit status");
		run_llama(&base);
		printf("%-26s %12.1f %12.1f %8.2f %12.1f %12.1f %8.2f %s\n",
		       strrchr(model_path, '/') + 1, ours->prompt, base.prompt,
		       ours->prompt / base.prompt, ours->gen, base.gen,
		       ours->gen / base.gen,
		       memcmp(ours->tokens, base.tokens, sizeof(base.tokens)) ?
		       "no" : "yes");
	}
	printf("RUNNER-BENCH END\n");
	llama_backend_free();
	EXPECT_EQ(vx_engine_stop(eng, SIGTERM), 0, "engine exit status");
	return vt_result();
}
