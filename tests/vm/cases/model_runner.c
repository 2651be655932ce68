// SPDX-License-Identifier: MIT
/*
 * Real forward passes through the execution API: the model runner
 * (ash_runner_*) runs Llama-architecture GGUF models with random weights,
 * written by ggml-org's gguf-py (tests/python/write_runner_refs.py: 2
 * layers, grouped-query attention 4 over 2 heads, SentencePiece
 * vocabulary of 512), with F32, F16, Q8_0 and Q4_0 matrices, on the
 * engine's cpu backend, as alice in partition "run".
 *
 * For a 32-token prompt and 16 greedy steps:
 *  - the logits of every step agree with a float64 NumPy forward pass of
 *    the same (dequantized) weights within 1e-4 of the largest logit, and
 *    the greedy tokens are equal;
 *  - when the build had llama.cpp (llama-cpp-python), they agree with
 *    llama.cpp's (its KV cache f32) within a tolerance per type, of the
 *    largest logit: f32 1e-4, f16 5e-3, q8_0 and q4_0 0.1 -- llama.cpp
 *    rounds activations to f16 against f16 weights and to Q8_0 against
 *    quantized ones (measured: 1.9e-6, 1.9e-3, 7.1e-2, 5.7e-2) -- and the
 *    greedy tokens are equal; its tokenizer's ids for a few prompts equal
 *    ash_runner_tokenize's.
 * While the runner is open the partition is charged the weights, the KV
 * cache and the activations; after it is closed, nothing.  ash-run prints
 * the same tokens and logits (--json), and refuses a file of another
 * architecture naming it.
 */
#include "vtexec.h"

#include <math.h>
#include <stdlib.h>

#define PART	"run"
#define DIR	"/models/"
#define VOCAB	512

struct ref {
	uint32_t n_prompt, n_gen, n_vocab;
	uint32_t prompt[64], gen[64];
	float *logits;		/* n_gen x n_vocab */
};

static int read_ref(const char *path, struct ref *r)
{
	FILE *f = fopen(path, "rb");
	size_t n;
	int ok;

	if (!f)
		return -errno;
	ok = fread(r, 4, 3, f) == 3 && r->n_prompt <= 64 && r->n_gen <= 64 &&
	     r->n_vocab && r->n_vocab <= 1 << 20 &&
	     fread(r->prompt, 4, r->n_prompt, f) == r->n_prompt &&
	     fread(r->gen, 4, r->n_gen, f) == r->n_gen;
	n = ok ? (size_t)r->n_gen * r->n_vocab : 0;
	r->logits = ok ? malloc(n * 4) : NULL;
	ok = ok && r->logits && fread(r->logits, 4, n, f) == n;
	fclose(f);
	return ok ? 0 : -EINVAL;
}

struct result {
	uint32_t gen[64];
	float logits[16][VOCAB];
	uint32_t n_gen;
	uint64_t charged;	/* partition mem_used with the runner open */
	uint64_t expect_charge;	/* weights + KV cache + scratch */
};

static struct result *res;
static const char *model_path;

static int tenant(void *arg)
{
	struct ash_runner_info info = { .size = sizeof(info) };
	const struct ref *ref = arg;
	struct ash_partition_stat ps;
	struct ash_runner *r;
	struct ash_ctx *ctx;
	char err[256] = "";
	uint32_t next, i;
	long ret;

	ret = ash_open(PART, &ctx);
	REQUIRE(!ret, "ash_open: %s", vt_errname(ret));
	ret = ash_runner_open(ctx, model_path, NULL, &r, err, sizeof(err));
	REQUIRE(!ret, "ash_runner_open %s: %s: %s", model_path,
		vt_errname(ret), err);
	REQUIRE(!ash_runner_info(r, &info), "ash_runner_info");
	EXPECT(!strcmp(info.arch, "llama") && !info.encoder &&
	       info.n_vocab == VOCAB && info.n_layer == 2 && info.n_head == 4 &&
	       info.n_head_kv == 2 && info.tokenizer,
	       "info: arch %s, vocab %u, %u layers, %u/%u heads, tokenizer %d",
	       info.arch, info.n_vocab, info.n_layer, info.n_head,
	       info.n_head_kv, info.tokenizer);
	REQUIRE(!ash_partition_stat(ctx, &ps), "ash_partition_stat");
	res->charged = ps.mem_used;
	res->expect_charge = info.weight_bytes + info.kv_bytes +
			     info.scratch_bytes;
	ret = ash_runner_decode(r, ref->prompt, ref->n_prompt,
				res->logits[0], &next);
	REQUIRE(!ret, "decode the prompt: %s", vt_errname(ret));
	for (i = 0; i < ref->n_gen && i < 16; i++) {
		res->gen[i] = next;
		res->n_gen = i + 1;
		if (i + 1 == ref->n_gen)
			break;
		ret = ash_runner_decode(r, &next, 1, res->logits[i + 1],
					&next);
		REQUIRE(!ret, "decode step %u: %s", i + 1, vt_errname(ret));
	}
	EXPECT_EQ(ash_runner_pos(r), ref->n_prompt + ref->n_gen - 1,
		  "tokens in the KV cache");
	/* A token outside the vocabulary, and no room left: refused. */
	next = VOCAB;
	EXPECT_ERR(ash_runner_decode(r, &next, 1, NULL, NULL), -EINVAL,
		   "decode of an id past the vocabulary");
	ash_runner_close(r);
	ash_close(ctx);
	return vt_result();
}

/* Largest |a - b| over the largest |b|; the largest |a - b| in *abs_err. */
static double rel_err(const float *a, const float *b, uint32_t n,
		      double *abs_err)
{
	double d = 0, m = 0;
	uint32_t i;

	for (i = 0; i < n; i++) {
		d = fmax(d, fabs((double)a[i] - b[i]));
		m = fmax(m, fabs((double)b[i]));
	}
	*abs_err = fmax(*abs_err, d);
	return m ? d / m : d;
}

static void compare(const char *what, const struct ref *ref, double tol)
{
	double worst = 0, worst_abs = 0;
	uint32_t i, same = 0;

	for (i = 0; i < res->n_gen; i++) {
		if (res->gen[i] != ref->gen[i])
			break;
		same++;
	}
	EXPECT_EQ(same, ref->n_gen, what);
	/* Logits compare while the sequences agree (the first always). */
	for (i = 0; i < res->n_gen && i <= same && i < ref->n_gen; i++)
		worst = fmax(worst, rel_err(res->logits[i],
					    ref->logits + (size_t)i * VOCAB,
					    VOCAB, &worst_abs));
	printf("%s: %u of %u greedy tokens equal, logits within %.3g of the largest (bound %.3g), %.3g absolute\n",
	       what, same, ref->n_gen, worst, tol, worst_abs);
	EXPECT(worst <= tol, "%s: logits differ by %.3g of the largest, over %.3g",
	       what, worst, tol);
}

static void check_tokenizer(void)
{
	FILE *f = fopen(DIR "tokenize.txt", "r");
	char line[512];
	struct ash_runner *r;
	struct ash_ctx *ctx;
	char err[256];
	int n = 0;

	if (!f)
		return;		/* no llama.cpp in this build */
	REQUIRE(!ash_open(PART, &ctx), "ash_open");
	REQUIRE(!ash_runner_open(ctx, DIR "llama-q4_0.gguf", NULL, &r, err,
				 sizeof(err)), "runner: %s", err);
	while (fgets(line, sizeof(line), f)) {
		char *tab = strchr(line, '\t'), got[256] = "", *p = got;
		uint32_t ids[64];
		int k, m;

		if (!tab)
			continue;
		*tab = '\0';
		tab[strcspn(tab + 1, "\n") + 1] = '\0';
		m = ash_runner_tokenize(r, line, ids, 64);
		for (k = 0; k < m; k++)
			p += sprintf(p, "%s%u", k ? "," : "", ids[k]);
		EXPECT(!strcmp(got, tab + 1),
		       "tokenize '%s': llama.cpp %s, ours %s", line, tab + 1,
		       got);
		n++;
	}
	fclose(f);
	printf("tokenizer: %d prompts compared with llama.cpp's ids\n", n);
	ash_runner_close(r);
	ash_close(ctx);
}

static int tokenizer_tenant(void *arg)
{
	(void)arg;
	check_tokenizer();
	return vt_result();
}

static void run_variant(const char *type, double tol_lc)
{
	char path[128], what[64];
	struct ref np, lc;
	int st, have_lc;

	snprintf(path, sizeof(path), DIR "llama-%s.numpy", type);
	REQUIRE(!read_ref(path, &np), "read %s", path);
	snprintf(path, sizeof(path), DIR "llama-%s.llamacpp", type);
	have_lc = !read_ref(path, &lc);
	snprintf(path, sizeof(path), DIR "llama-%s.gguf", type);
	model_path = path;
	memset(res, 0, sizeof(*res));
	st = vt_run_as(VT_ALICE, VT_ORGA, tenant, &np);
	EXPECT_EQ(st, 0, "alice's runner exit status");
	EXPECT(res->charged >= res->expect_charge,
	       "%s: partition charged %llu with the runner open, less than weights + KV cache + scratch %llu",
	       type, (unsigned long long)res->charged,
	       (unsigned long long)res->expect_charge);
	EXPECT_EQ(vt_part(PART).mem_used, 0, "partition mem_used after close");
	snprintf(what, sizeof(what), "%s vs NumPy", type);
	compare(what, &np, 1e-4);
	if (have_lc) {
		snprintf(what, sizeof(what), "%s vs llama.cpp", type);
		compare(what, &lc, tol_lc);
		free(lc.logits);
	}
	free(np.logits);
}

/* ash-run prints the NumPy reference's tokens for the prompt. */
static void check_ash_run(void)
{
	char cmd[1024], out[16384], *p = cmd, want[256] = "", *w = want;
	struct ref np;
	uint32_t i;
	int st;

	REQUIRE(!read_ref(DIR "llama-q8_0.numpy", &np), "read ref");
	p += sprintf(p, "runas alice ash-run --partition " PART " "
		     DIR "llama-q8_0.gguf -n 16 --ignore-eos --json --tokens ");
	for (i = 0; i < np.n_prompt; i++)
		p += sprintf(p, "%s%u", i ? "," : "", np.prompt[i]);
	for (i = 0; i < np.n_gen; i++)
		w += sprintf(w, "%s%u", i ? "," : "", np.gen[i]);
	st = vt_sh(out, sizeof(out), "%s", cmd);
	EXPECT_EQ(st, 0, "ash-run exit status");
	EXPECT(strstr(out, want), "ash-run --json: no \"tokens\":[%s] in %.300s",
	       want, out);
	EXPECT(strstr(out, "\"generation_tokens_per_s\":"),
	       "ash-run --json: no generation speed in %.300s", out);
	free(np.logits);

	st = vt_sh(out, sizeof(out),
		   "runas alice ash-run --partition " PART " /models/not-llama.gguf --tokens 1 2>&1");
	EXPECT_EQ(st, 1, "ash-run on another architecture: exit status");
	EXPECT(strstr(out, "architecture 'gpt2' is not supported"),
	       "ash-run on another architecture: %.300s", out);
	st = vt_sh(out, sizeof(out), "ash-run --partition " PART " 2>&1");
	EXPECT_EQ(st, 2, "ash-run without MODEL: exit status");
}

int main(void)
{
	pid_t eng;

	vt_init("model_runner", 900);
	res = vt_shared(sizeof(*res));
	vt_part_new(PART, 64 * MiB, 0, VT_ALICE, (gid_t)-1);
	eng = vx_engine_start("1");
	run_variant("f32", 1e-4);
	run_variant("f16", 5e-3);
	run_variant("q8_0", 0.1);
	run_variant("q4_0", 0.1);
	EXPECT_EQ(vt_run_as(VT_ALICE, VT_ORGA, tokenizer_tenant, NULL), 0,
		  "tokenizer check exit status");
	check_ash_run();
	EXPECT_EQ(vx_engine_stop(eng, SIGTERM), 0, "engine exit status");
	return vt_result();
}
