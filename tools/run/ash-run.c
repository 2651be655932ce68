/* SPDX-License-Identifier: MIT */
/*
 * ash-run - run a model through a partition with libaccelshare's model
 * runner: greedy generation for decoders, embeddings for encoders.
 *
 *   ash-run --partition NAME MODEL [--prompt TEXT | --tokens ID,ID,...]
 *           [-n N] [--logits] [--embed] [--json] [--ctx N] [--batch N]
 *           [--ignore-eos]
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <accelshare.h>

#include "../common/parse.h"

#define PROG		"ash-run"
#define TOKENS_MAX	65536

static const char usage[] =
"Usage: " PROG " --partition NAME MODEL [--prompt TEXT | --tokens ID,ID,...]\n"
"               [-n N] [--logits] [--embed] [--json] [--ctx N] [--batch N]\n"
"               [--ignore-eos]\n"
"       " PROG " --help | --version\n"
"\n"
"Load MODEL into partition NAME and run it there with libaccelshare's model\n"
"runner.  MODEL is a GGUF file of the llama or bert architecture, or a\n"
"Hugging Face BERT checkpoint (model.safetensors with config.json and\n"
"vocab.txt beside it, or their directory).  Weights, KV cache and\n"
"activations are charged to the partition.\n"
"\n"
"Decoders (llama) generate greedily: the prompt is run in batches, then one\n"
"token at a time, each the argmax of the last logits.  Encoders (bert)\n"
"print the sentence embedding: the mean of the last layer over the tokens,\n"
"L2-normalized.\n"
"\n"
"  --partition NAME  the partition to run in (required)\n"
"  --prompt TEXT     the input, tokenized with the model's own vocabulary\n"
"                    (BERT WordPiece, llama SentencePiece)\n"
"  --tokens LIST     the input as token ids, comma-separated (always\n"
"                    accepted; the model's BOS is not added)\n"
"  -n, --tokens-to-generate N\n"
"                    tokens to generate, 0..65536 (default 16)\n"
"  --ignore-eos      go on past the model's end-of-sequence token\n"
"  --logits          also print the last position's logits\n"
"  --embed           print the embedding (the default for encoders)\n"
"  --json            print one JSON object instead of text\n"
"  --ctx N           tokens of KV cache (default: the model's, at most 4096)\n"
"  --batch N         prompt tokens per forward pass (default 64)\n"
"\n"
"Output (text): the prompt's and the generated token ids, the generated\n"
"text where the model has a vocabulary, and prompt and generation speed in\n"
"tokens per second (wall time of the forward passes, staging included).\n"
"--json gives the same as an object: model, arch, prompt_tokens, tokens,\n"
"text, prompt_tokens_per_s, generation_tokens_per_s, and logits or\n"
"embedding when asked for.\n"
"\n"
"Exit status: 0 success; 1 the model cannot be opened or run (the message\n"
"names the file, and the architecture, tensor or type not supported); 2 a\n"
"bad command line.  The device node is $ACCELSHARE_DEVICE or\n"
"/dev/accelshare.\n";

static int bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, PROG ": ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "; see '" PROG " --help'.\n");
	return 2;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* "1,2,3" into @ids: the count, or -1 after a message. */
static int parse_tokens(const char *s, uint32_t *ids, uint32_t max)
{
	char *copy = strdup(s), *tok, *save = NULL;
	uint64_t v;
	int n = 0;

	if (!copy)
		return -1;
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if ((uint32_t)n == max || ash_num_parse(tok, UINT32_MAX, &v)) {
			fprintf(stderr, PROG ": --tokens: '%s' is not a token id (0..%u, at most %u of them); see '" PROG " --help'.\n",
				tok, UINT32_MAX, max);
			free(copy);
			return -1;
		}
		ids[n++] = (uint32_t)v;
	}
	free(copy);
	if (!n)
		fprintf(stderr, PROG ": --tokens: no token ids; see '" PROG " --help'.\n");
	return n ? n : -1;
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void print_ids(FILE *f, const uint32_t *ids, uint32_t n, int json)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		fprintf(f, json ? "%s%" PRIu32 : "%s%" PRIu32,
			i ? (json ? "," : " ") : "", ids[i]);
}

static void print_floats(FILE *f, const float *v, uint32_t n, int json)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		fprintf(f, "%s%.9g", i ? (json ? "," : " ") : "", v[i]);
}

struct text {
	char *p;
	size_t len, cap;
};

static int append(struct text *t, char c)
{
	if (t->len + 2 > t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		char *p = realloc(t->p, cap);

		if (!p)
			return -1;
		t->p = p;
		t->cap = cap;
	}
	t->p[t->len++] = c;
	t->p[t->len] = '\0';
	return 0;
}

/* The text of @ids from the vocabulary: SentencePiece's U+2581 and GPT-2's
 * U+0120 are spaces, <0xNN> its byte; NULL without memory. */
static char *detokenize(const struct ash_runner *r, const uint32_t *ids,
			uint32_t n)
{
	struct text t = { 0 };
	uint32_t i;

	if (append(&t, ' '))
		return NULL;
	t.len = 0;
	t.p[0] = '\0';
	for (i = 0; i < n; i++) {
		const char *p = ash_runner_token(r, ids[i]);
		unsigned int byte;

		if (p && strlen(p) == 6 && sscanf(p, "<0x%2X>", &byte) == 1) {
			if (append(&t, (char)byte))
				break;
			continue;
		}
		while (p && *p) {
			int ok;

			if (!strncmp(p, "\xe2\x96\x81", 3)) {
				ok = !append(&t, ' ');
				p += 3;
			} else if (!strncmp(p, "\xc4\xa0", 2)) {
				ok = !append(&t, ' ');
				p += 2;
			} else {
				ok = !append(&t, *p++);
			}
			if (!ok)
				return t.p;
		}
	}
	return t.p;
}

struct args {
	const char *partition, *model, *prompt, *tokens;
	uint64_t n, ctx, batch;
	int logits, embed, json, ignore_eos;
};

static int run(const struct args *a)
{
	struct ash_runner_opts opts = { .size = sizeof(opts) };
	struct ash_runner_info info = { .size = sizeof(info) };
	uint32_t *prompt = NULL, *gen = NULL, next = 0, np = 0, ng = 0;
	double t0, t_prompt = 0, t_gen = 0;
	float *logits = NULL, *emb = NULL;
	struct ash_runner *r = NULL;
	struct ash_ctx *ctx = NULL;
	char err[512] = "", *text = NULL;
	int ret, status = 1;

	opts.n_ctx = (uint32_t)a->ctx;
	opts.n_batch = (uint32_t)a->batch;
	ret = ash_open(a->partition, &ctx);
	if (ret) {
		fprintf(stderr, PROG ": cannot open partition %s: %s.\n",
			a->partition, strerror(-ret));
		return 1;
	}
	ret = ash_runner_open(ctx, a->model, &opts, &r, err, sizeof(err));
	if (ret) {
		fprintf(stderr, PROG ": %s.\n", err[0] ? err : strerror(-ret));
		goto out;
	}
	ash_runner_info(r, &info);
	if ((a->embed && !info.encoder) || (a->logits && info.encoder)) {
		fprintf(stderr, PROG ": %s is %s; --%s is for %s.\n", a->model,
			info.encoder ? "an encoder" : "a decoder",
			a->embed ? "embed" : "logits",
			a->embed ? "encoders" : "decoders");
		status = 2;
		goto out;
	}
	prompt = malloc(sizeof(*prompt) * TOKENS_MAX);
	gen = malloc(sizeof(*gen) * (a->n + 1));
	logits = malloc(sizeof(*logits) * info.n_vocab);
	emb = malloc(sizeof(*emb) * info.n_embd);
	if (!prompt || !gen || !logits || !emb) {
		fprintf(stderr, PROG ": out of memory.\n");
		goto out;
	}
	if (a->tokens) {
		ret = parse_tokens(a->tokens, prompt, TOKENS_MAX);
		if (ret < 0) {
			status = 2;
			goto out;
		}
		np = (uint32_t)ret;
	} else {
		ret = ash_runner_tokenize(r, a->prompt ? a->prompt : "",
					  prompt, TOKENS_MAX);
		if (ret == -EOPNOTSUPP) {
			fprintf(stderr, PROG ": %s has no tokenizer accelshare can use; give --tokens.\n",
				a->model);
			goto out;
		}
		if (ret < 0) {
			fprintf(stderr, PROG ": cannot tokenize the prompt: %s.\n",
				strerror(-ret));
			goto out;
		}
		np = (uint32_t)ret;
		if (!np && info.bos != UINT32_MAX)
			prompt[np++] = info.bos;
		if (!np) {
			fprintf(stderr, PROG ": an empty prompt; give --prompt or --tokens.\n");
			status = 2;
			goto out;
		}
	}

	t0 = now();
	if (info.encoder) {
		ret = ash_runner_embed(r, prompt, np, emb);
		t_prompt = now() - t0;
	} else {
		ret = ash_runner_decode(r, prompt, np, logits, &next);
		t_prompt = now() - t0;
		t0 = now();
		while (!ret && ng < a->n) {
			gen[ng++] = next;
			if (ng == a->n ||
			    (next == info.eos && !a->ignore_eos))
				break;
			ret = ash_runner_decode(r, &next, 1, logits, &next);
		}
		t_gen = now() - t0;
	}
	if (ret) {
		fprintf(stderr, PROG ": running %s failed at position %u: %s.\n",
			a->model, ash_runner_pos(r), strerror(-ret));
		goto out;
	}
	if (info.tokenizer || ash_runner_token(r, 0))
		text = detokenize(r, gen, ng);

	if (a->json) {
		printf("{\"model\":");
		json_str(stdout, a->model);
		printf(",\"arch\":\"%s\",\"prompt_tokens\":[", info.arch);
		print_ids(stdout, prompt, np, 1);
		printf("],\"prompt_tokens_per_s\":%.3f", t_prompt > 0 ?
		       np / t_prompt : 0.0);
		if (info.encoder) {
			printf(",\"embedding\":[");
			print_floats(stdout, emb, info.n_embd, 1);
			printf("]");
		} else {
			printf(",\"tokens\":[");
			print_ids(stdout, gen, ng, 1);
			printf("],\"generation_tokens_per_s\":%.3f",
			       ng > 1 && t_gen > 0 ? (ng - 1) / t_gen : 0.0);
			if (text) {
				printf(",\"text\":");
				json_str(stdout, text);
			}
			if (a->logits) {
				printf(",\"logits\":[");
				print_floats(stdout, logits, info.n_vocab, 1);
				printf("]");
			}
		}
		printf("}\n");
	} else {
		printf("prompt tokens: ");
		print_ids(stdout, prompt, np, 0);
		printf("\n");
		if (info.encoder) {
			printf("embedding: ");
			print_floats(stdout, emb, info.n_embd, 0);
			printf("\n");
		} else {
			printf("tokens: ");
			print_ids(stdout, gen, ng, 0);
			printf("\n");
			if (text)
				printf("text: %s\n", text);
			if (a->logits) {
				printf("logits: ");
				print_floats(stdout, logits, info.n_vocab, 0);
				printf("\n");
			}
		}
		printf("prompt: %u tokens, %.1f tokens/s\n", np,
		       t_prompt > 0 ? np / t_prompt : 0.0);
		if (!info.encoder)
			printf("generation: %u tokens, %.1f tokens/s\n", ng,
			       ng > 1 && t_gen > 0 ? (ng - 1) / t_gen : 0.0);
	}
	status = fflush(stdout) ? 1 : 0;
out:
	free(text);
	free(prompt);
	free(gen);
	free(logits);
	free(emb);
	ash_runner_close(r);
	ash_close(ctx);
	return status;
}

int main(int argc, char **argv)
{
	enum { O_PROMPT = 256, O_TOKENS, O_LOGITS, O_EMBED, O_JSON, O_CTX,
	       O_BATCH, O_EOS, O_HELP, O_VERSION };
	static const struct option longopts[] = {
		{ "partition", required_argument, NULL, 'p' },
		{ "prompt", required_argument, NULL, O_PROMPT },
		{ "tokens", required_argument, NULL, O_TOKENS },
		{ "tokens-to-generate", required_argument, NULL, 'n' },
		{ "logits", no_argument, NULL, O_LOGITS },
		{ "embed", no_argument, NULL, O_EMBED },
		{ "json", no_argument, NULL, O_JSON },
		{ "ctx", required_argument, NULL, O_CTX },
		{ "batch", required_argument, NULL, O_BATCH },
		{ "ignore-eos", no_argument, NULL, O_EOS },
		{ "help", no_argument, NULL, O_HELP },
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	struct args a = { .n = 16 };
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "p:n:", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			a.partition = optarg;
			break;
		case O_PROMPT:
			a.prompt = optarg;
			break;
		case O_TOKENS:
			a.tokens = optarg;
			break;
		case 'n':
			if (ash_num_parse(optarg, TOKENS_MAX, &a.n))
				return bad_usage("-n: '%s' is not a count of tokens (0..65536)",
						 optarg);
			break;
		case O_LOGITS:
			a.logits = 1;
			break;
		case O_EMBED:
			a.embed = 1;
			break;
		case O_JSON:
			a.json = 1;
			break;
		case O_CTX:
			if (ash_num_parse(optarg, 1U << 24, &a.ctx) || !a.ctx)
				return bad_usage("--ctx: '%s' is not a token count (1..16777216)",
						 optarg);
			break;
		case O_BATCH:
			if (ash_num_parse(optarg, 1U << 24, &a.batch) || !a.batch)
				return bad_usage("--batch: '%s' is not a token count (1..16777216)",
						 optarg);
			break;
		case O_EOS:
			a.ignore_eos = 1;
			break;
		case O_HELP:
			fputs(usage, stdout);
			return 0;
		case O_VERSION:
			printf(PROG " %s\n", ash_version());
			return 0;
		default:
			return bad_usage("'%s' is an unknown option or lacks its value",
					 argv[optind - 1]);
		}
	}
	if (optind + 1 != argc)
		return bad_usage(optind < argc ? "one MODEL, not '%s' too" :
				 "no MODEL%s", optind < argc ? argv[optind + 1] :
				 "");
	a.model = argv[optind];
	if (!a.partition)
		return bad_usage("--partition is required%s", "");
	if (a.prompt && a.tokens)
		return bad_usage("--prompt and --tokens%s exclude each other", "");
	return run(&a);
}
