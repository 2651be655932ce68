// SPDX-License-Identifier: MIT
/*
 * A real encoder through the execution API: all-MiniLM-L6-v2, the real
 * weights as Hugging Face ships them (model.safetensors, config.json,
 * vocab.txt; tests/python/write_runner_refs.py), opened by its directory
 * with ash_runner_open and run on the engine's cpu backend, as alice in
 * partition "bert".
 *
 * For a dozen sentences (six pairs of paraphrases):
 *  - ash_runner_tokenize gives the ids Hugging Face's tokenizers gives
 *    them (tokenizer.json), [CLS] and [SEP] included;
 *  - the embeddings agree with a float64 NumPy forward pass of the same
 *    checkpoint (mean pooling, L2-normalized): cosine >= 0.9999;
 *  - each sentence is closer to its paraphrase than to any other sentence.
 * The partition is charged the weights, the attention scratch and
 * activations while the runner is open, and nothing after.
 */
#include "vtexec.h"

#include <math.h>
#include <stdlib.h>

#define PART		"bert"
#define MODEL		"/models/minilm"
#define REF		"/models/minilm.txt"
#define N		12
#define DIM		384

struct result {
	float emb[N][DIM];
	uint64_t charged, expect_charge;
};

struct ref {
	char text[N][128];
	uint32_t ids[N][64];
	int nids[N];
	float emb[N][DIM];
};

static struct result *res;
static struct ref ref;

static void read_ref(void)
{
	FILE *f = fopen(REF, "r");
	static char line[16384];
	int i = 0;

	REQUIRE(f, "open %s: %s", REF, strerror(errno));
	while (i < N && fgets(line, sizeof(line), f)) {
		char *ids = strchr(line, '\t'), *emb, *tok, *save;
		int k = 0;

		REQUIRE(ids && (emb = strchr(ids + 1, '\t')), "%s line %d",
			REF, i + 1);
		*ids++ = '\0';
		*emb++ = '\0';
		REQUIRE(strlen(line) < sizeof(ref.text[i]), "%s line %d: long",
			REF, i + 1);
		memcpy(ref.text[i], line, strlen(line) + 1);
		for (tok = strtok_r(ids, ",", &save); tok && k < 64;
		     tok = strtok_r(NULL, ",", &save))
			ref.ids[i][k++] = (uint32_t)strtoul(tok, NULL, 10);
		ref.nids[i] = k;
		k = 0;
		for (tok = strtok_r(emb, ",", &save); tok && k < DIM;
		     tok = strtok_r(NULL, ",", &save))
			ref.emb[i][k++] = strtof(tok, NULL);
		REQUIRE(k == DIM, "%s line %d: %d of %d embedding values", REF,
			i + 1, k, DIM);
		i++;
	}
	fclose(f);
	REQUIRE(i == N, "%s: %d sentences, not %d", REF, i, N);
}

static int tenant(void *arg)
{
	struct ash_runner_info info = { .size = sizeof(info) };
	struct ash_partition_stat ps;
	struct ash_runner *r;
	struct ash_ctx *ctx;
	char err[256] = "";
	uint32_t ids[64];
	long ret;
	int i, n;

	(void)arg;
	ret = ash_open(PART, &ctx);
	REQUIRE(!ret, "ash_open: %s", vt_errname(ret));
	ret = ash_runner_open(ctx, MODEL, NULL, &r, err, sizeof(err));
	REQUIRE(!ret, "ash_runner_open %s: %s: %s", MODEL, vt_errname(ret),
		err);
	REQUIRE(!ash_runner_info(r, &info), "ash_runner_info");
	EXPECT(!strcmp(info.arch, "bert") && info.encoder &&
	       info.n_embd == DIM && info.n_layer == 6 && info.n_head == 12 &&
	       info.n_vocab == 30522 && info.tokenizer,
	       "info: arch %s, encoder %d, embedding %u, %u layers, %u heads, vocabulary %u, tokenizer %d",
	       info.arch, info.encoder, info.n_embd, info.n_layer,
	       info.n_head, info.n_vocab, info.tokenizer);
	REQUIRE(!ash_partition_stat(ctx, &ps), "ash_partition_stat");
	res->charged = ps.mem_used;
	res->expect_charge = info.weight_bytes + info.kv_bytes +
			     info.scratch_bytes;
	EXPECT_ERR(ash_runner_decode(r, ids, 1, NULL, NULL), -EINVAL,
		   "ash_runner_decode on an encoder");
	for (i = 0; i < N; i++) {
		char got[512] = "", want[512] = "", *g = got, *w = want;
		int k;

		n = ash_runner_tokenize(r, ref.text[i], ids, 64);
		for (k = 0; k < n; k++)
			g += sprintf(g, "%s%u", k ? "," : "", ids[k]);
		for (k = 0; k < ref.nids[i]; k++)
			w += sprintf(w, "%s%u", k ? "," : "", ref.ids[i][k]);
		EXPECT(!strcmp(got, want),
		       "tokenize '%s': tokenizers %s, ours %s", ref.text[i],
		       want, got);
		/* The reference's ids, so that the embedding is compared
		 * alone. */
		ret = ash_runner_embed(r, ref.ids[i], (uint32_t)ref.nids[i],
				       res->emb[i]);
		EXPECT(!ret, "embed '%s': %s", ref.text[i], vt_errname(ret));
	}
	ash_runner_close(r);
	ash_close(ctx);
	return vt_result();
}

static double cosine(const float *a, const float *b)
{
	double ab = 0, aa = 0, bb = 0;
	int i;

	for (i = 0; i < DIM; i++) {
		ab += (double)a[i] * b[i];
		aa += (double)a[i] * a[i];
		bb += (double)b[i] * b[i];
	}
	return ab / sqrt(aa * bb);
}

int main(void)
{
	double worst = 1;
	pid_t eng;
	int i, j;

	vt_init("model_runner_bert", 900);
	res = vt_shared(sizeof(*res));
	read_ref();
	vt_part_new(PART, 160 * MiB, 0, VT_ALICE, (gid_t)-1);
	eng = vx_engine_start("2");
	EXPECT_EQ(vt_run_as(VT_ALICE, VT_ORGA, tenant, NULL), 0,
		  "alice's runner exit status");
	EXPECT(res->charged >= res->expect_charge,
	       "partition charged %llu with the runner open, less than weights + scratch %llu",
	       (unsigned long long)res->charged,
	       (unsigned long long)res->expect_charge);
	EXPECT_EQ(vt_part(PART).mem_used, 0, "partition mem_used after close");
	for (i = 0; i < N; i++) {
		double c = cosine(res->emb[i], ref.emb[i]);

		worst = fmin(worst, c);
		EXPECT(c >= 0.9999, "'%s': cosine with NumPy's %.6f, under 0.9999",
		       ref.text[i], c);
	}
	printf("embeddings: the lowest cosine with NumPy's is %.7f\n", worst);
	for (i = 0; i < N; i++) {
		int pair = i ^ 1;
		double near = cosine(res->emb[i], res->emb[pair]), far = -1;

		for (j = 0; j < N; j++)
			if (j != i && j != pair)
				far = fmax(far, cosine(res->emb[i], res->emb[j]));
		EXPECT(near > far,
		       "'%s': its paraphrase scores %.3f, an unrelated sentence %.3f",
		       ref.text[i], near, far);
		if (!(i & 1))
			printf("'%s' ~ '%s': %.3f (nearest unrelated %.3f)\n",
			       ref.text[i], ref.text[pair], near, far);
	}
	EXPECT_EQ(vx_engine_stop(eng, SIGTERM), 0, "engine exit status");
	return vt_result();
}
