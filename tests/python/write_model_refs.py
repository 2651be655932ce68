# SPDX-License-Identifier: MIT
"""Model files as the formats' own writers write them, for the parser tests.

Writes into OUTDIR, with ggml-org's gguf (gguf-py) and Hugging Face's
safetensors, the files test_model_refs (tests/unit/test_model_refs.c)
parses, and refs.json: for every file, what a correct parser must find --
each tensor's name, dtype name, shape (outermost first, as NumPy has it),
absolute file offset, byte count and the FNV-1a 64 hash of its bytes -- as
the writers' own readers report it, and, for files that must be refused,
the words the refusal must contain.

    write_model_refs.py OUTDIR
"""
import json
import os
import struct
import sys

import gguf
import numpy as np
import safetensors.numpy


def fnv1a64(data: bytes) -> str:
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def gguf_file(path, tensors, kv_only=False):
    """tensors: name -> ndarray, or (quantized bytes, their shape, type)."""
    w = gguf.GGUFWriter(path, arch="llama")
    w.add_context_length(128)
    w.add_embedding_length(64)
    w.add_block_count(1)
    w.add_head_count(4)
    w.add_head_count_kv(2)
    w.add_token_list(["<unk>", "<s>", "</s>"] + ["tok%d" % i for i in range(61)])
    w.add_token_scores([0.0] * 64)
    for name, t in tensors.items():
        if isinstance(t, tuple):
            raw, shape, qtype = t
            w.add_tensor(name, raw, raw_shape=shape, raw_dtype=qtype)
        else:
            w.add_tensor(name, t)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    if not kv_only:
        w.write_tensors_to_file()
    w.close()
    r = gguf.GGUFReader(path)
    out = []
    with open(path, "rb") as f:
        blob = f.read()
    for t in r.tensors:
        start = int(t.data_offset)
        n = int(t.n_bytes)
        out.append({
            "name": t.name,
            "dtype": t.tensor_type.name,
            # GGUFReader gives ggml's order, innermost first.
            "shape": [int(d) for d in reversed(list(t.shape))],
            "offset": start,
            "bytes": n,
            "fnv": fnv1a64(blob[start:start + n]),
        })
    return {"file": os.path.basename(path), "format": "GGUF",
            "tensors": out}


def st_file(path, tensors, metadata=None):
    safetensors.numpy.save_file(tensors, path, metadata=metadata)
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n])
    out = []
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        out.append({
            "name": name, "dtype": info["dtype"], "shape": info["shape"],
            "offset": 8 + n + b, "bytes": e - b,
            "fnv": fnv1a64(blob[8 + n + b:8 + n + e]),
        })
    return {"file": os.path.basename(path), "format": "safetensors",
            "tensors": out}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(7)
    refs = []

    def p(name):
        return os.path.join(out, name)

    w = rng.standard_normal((48, 64)).astype(np.float32)
    q8 = gguf.quants.quantize(w, gguf.GGMLQuantizationType.Q8_0)
    q4 = gguf.quants.quantize(w, gguf.GGMLQuantizationType.Q4_0)
    refs.append(gguf_file(p("llama-mixed.gguf"), {
        "token_embd.weight": rng.standard_normal((64, 64)).astype(np.float32),
        "blk.0.attn_q.weight": w.astype(np.float16),
        "blk.0.attn_k.weight": (q8, q8.shape, gguf.GGMLQuantizationType.Q8_0),
        "blk.0.attn_v.weight": (q4, q4.shape, gguf.GGMLQuantizationType.Q4_0),
        "output_norm.weight": np.ones(64, dtype=np.float32),
        "scalar_like": np.arange(7, dtype=np.int32),
    }))
    # A vocabulary: metadata and no tensors, ending unpadded.
    refs.append(gguf_file(p("vocab-only.gguf"), {}, kv_only=True))
    refs.append(st_file(p("mixed.safetensors"), {
        "a": rng.standard_normal((3, 5)).astype(np.float32),
        "b": np.arange(11, dtype=np.int64),
        "c": rng.standard_normal((2, 2, 2)).astype(np.float16),
        "empty": np.zeros((0, 4), dtype=np.float32),
        "flag": np.array([True, False, True]),
    }, metadata={"format": "pt", "note": "written by safetensors.numpy"}))
    refs.append(st_file(p("empty.safetensors"), {}))

    # Refused: bytes after the last tensor, and a hole between tensors.
    st_file(p("trailing.safetensors"), {"a": np.ones(4, dtype=np.float32)})
    with open(p("trailing.safetensors"), "ab") as f:
        f.write(b"\0" * 8)
    hdr = json.dumps({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                      "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}},
                     separators=(",", ":")).encode()
    with open(p("hole.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(hdr)) + hdr + b"\0" * 12)
    with open(p("text.bin"), "wb") as f:
        f.write(b"this is a text file, not a model at all\n")
    refused = [
        {"file": "trailing.safetensors", "error": "follow the last tensor"},
        {"file": "hole.safetensors", "error": "no holes"},
        {"file": "text.bin", "error": "neither GGUF"},
    ]
    with open(p("refs.json"), "w") as f:
        json.dump({"parsed": refs, "refused": refused,
                   "numpy": np.__version__}, f, indent=1)


if __name__ == "__main__":
    main()
