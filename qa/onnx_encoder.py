"""Questions encoded by ONNX Runtime: the same model, a few milliseconds, and no torch import.

Encoding one question with torch costs 7-12 ms on 2 cores, most of it per-operation overhead of
a six-layer model on a dozen tokens; ONNX Runtime runs the same graph in about 3 ms. The graph
is exported once per model from its float32 weights (a few seconds) into a cache folder, its
attention, layer norms and activations fused into single operators by ONNX Runtime's transformer
optimizer (700 nodes become about 50), and checked against torch before use; a process that
answers from a current index then never imports torch at all, which also shortens a cold start
by seconds.

Only models whose sentence-transformers pipeline is a transformer with mean pooling (and
optional normalization), like the bundled all-MiniLM-L6-v2, are exported; any other model, a
missing onnxruntime or a failed export falls back to the torch embedder.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np

from .embedding import Embedder, get_embedder, resolve_model

log = logging.getLogger("qa")

CACHE_ENV = "QA_CACHE_DIR"
# Exported vectors must match torch's float32 ones to this cosine, or the export is not used.
MIN_AGREEMENT = 0.9999
_PROBES = ["How many customers does the platform have?", "revenue", "Alibaba released Qwen in 2023."]


def cache_dir() -> Path:
    """Where exported models live: $QA_CACHE_DIR, else $XDG_CACHE_HOME/qa-quotes, else ~/.cache/qa-quotes."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "qa-quotes"


def exportable(model_dir: Path) -> bool:
    """Whether a local sentence-transformers folder is a transformer + mean pooling (+ normalize)."""
    try:
        modules = json.loads((model_dir / "modules.json").read_text())
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        pooling = next(m for m in modules if m["type"].endswith("Pooling"))
        config = json.loads((model_dir / pooling["path"] / "config.json").read_text())
    except (OSError, ValueError, KeyError, StopIteration):
        return False
    modes = [k for k, v in config.items() if k.startswith("pooling_mode") and v]
    return (
        kinds[:2] == ["Transformer", "Pooling"]
        and set(kinds[2:]) <= {"Normalize"}
        and modes == ["pooling_mode_mean_tokens"]
        and (model_dir / "tokenizer.json").is_file()
    )


def _max_length(model_dir: Path) -> int:
    try:
        return int(json.loads((model_dir / "sentence_bert_config.json").read_text())["max_seq_length"])
    except (OSError, ValueError, KeyError, TypeError):
        return 256


# Part of every export's key: raise it when the export itself changes, so old ones are redone.
EXPORT_FORMAT = 2  # 2: eager attention, fused by the transformer optimizer


def _export_path(model_dir: Path) -> Path:
    """The export of this exact model: keyed by its folder and its weight files' sizes and times."""
    stamp = [str(model_dir.resolve()), f"format {EXPORT_FORMAT}"]
    for p in sorted(model_dir.glob("*")):
        if p.suffix in (".safetensors", ".bin", ".json") and p.is_file():
            st = p.stat()
            stamp.append(f"{p.name}:{st.st_size}:{st.st_mtime_ns}")
    key = hashlib.sha256("\n".join(stamp).encode()).hexdigest()[:16]
    return cache_dir() / f"{model_dir.name}-{key}.onnx"


def _export(name: str, path: Path) -> None:
    """Write the float32 model with mean pooling as an ONNX graph, atomically."""
    import torch
    from tokenizers import Tokenizer
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    model_dir = Path(resolve_model(name))
    # Eager attention exports as plain MatMul/Softmax, the pattern the optimizer fuses; the
    # default (scaled_dot_product_attention) exports as a graph it cannot.
    encoder = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()

    class MeanPooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids, attention_mask, token_type_ids):
            out = self.encoder(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(out.dtype)
            return (out * mask).sum(1) / mask.sum(1).clamp(min=1e-9)

    names = ["input_ids", "attention_mask", "token_type_ids"]
    e = Tokenizer.from_file(str(model_dir / "tokenizer.json")).encode("a question")
    sample = {
        "input_ids": torch.tensor([e.ids]),
        "attention_mask": torch.tensor([e.attention_mask]),
        "token_type_ids": torch.tensor([e.type_ids]),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        # The exporter warns about graph details (dynamic shapes, index ops) that the check
        # against torch below covers; the user has nothing to do about them.
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                MeanPooled().eval(),
                tuple(sample[n] for n in names),
                str(tmp),
                input_names=names,
                output_names=["embedding"],
                dynamic_axes={**{n: {0: "batch", 1: "tokens"} for n in names}, "embedding": {0: "batch"}},
                opset_version=17,
                dynamo=False,
            )
        _fuse(tmp, encoder.config)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _fuse(path: Path, config) -> None:
    """Fuse attention, layer norms and GELU in place; on failure the plain graph is kept.

    A question's dozen tokens run about a fifth faster fused (fewer, larger kernels). The check
    against torch in get_query_encoder covers the fused graph like any other.
    """
    try:
        from onnxruntime.transformers import optimizer

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fused = optimizer.optimize_model(
                str(path),
                model_type="bert",
                num_heads=int(config.num_attention_heads),
                hidden_size=int(config.hidden_size),
                opt_level=1,
            )
        fused.save_model_to_file(str(path))
    except Exception as exc:  # the plain export still works, only slower
        log.info("ONNX graph not fused (%s); using the plain export", exc)


class OnnxQueryEncoder:
    """An Embedder for short texts (questions and their words) running on ONNX Runtime."""

    def __init__(self, model_id: str, model_dir: Path, onnx_path: Path) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.model_id = model_id
        self.precision = "onnx-float32"
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(_max_length(model_dir))
        self.tokenizer.no_padding()
        options = ort.SessionOptions()
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        self.dim = int(self.encode(["dimension"]).shape[1])

    def encode(self, texts: list[str], *, show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        encoded = self.tokenizer.encode_batch(list(texts))
        out: list[np.ndarray | None] = [None] * len(texts)
        # Texts of about the same length run together: a question padded to its words' length
        # costs nothing, words padded to the question's would double the work.
        order = sorted(range(len(texts)), key=lambda i: len(encoded[i].ids))
        while order:
            shortest = len(encoded[order[0]].ids)
            group = [i for i in order if len(encoded[i].ids) <= 2 * shortest]
            order = order[len(group) :]
            width = max(len(encoded[i].ids) for i in group)
            feeds = {
                name: np.zeros((len(group), width), dtype=np.int64)
                for name in ("input_ids", "attention_mask", "token_type_ids")
            }
            for row, i in enumerate(group):
                e = encoded[i]
                feeds["input_ids"][row, : len(e.ids)] = e.ids
                feeds["attention_mask"][row, : len(e.ids)] = e.attention_mask
                feeds["token_type_ids"][row, : len(e.ids)] = e.type_ids
            vecs = self.session.run(None, feeds)[0]
            for row, i in enumerate(group):
                out[i] = vecs[row]
        vecs = np.asarray(out, dtype=np.float32)
        vecs /= np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
        return vecs


_export_lock = threading.Lock()


@lru_cache(maxsize=4)
def get_query_encoder(name: str, batch_size: int = 32, precision: str = "auto") -> Embedder:
    """The encoder for questions: ONNX Runtime when the model allows it, else the torch embedder."""
    model_dir = Path(resolve_model(name))
    fallback = None
    try:
        import onnxruntime  # noqa: F401

        if not (model_dir.is_dir() and exportable(model_dir)):
            raise ValueError("not a local transformer + mean pooling model")
        path = _export_path(model_dir)
        with _export_lock:
            if not path.is_file():
                _export(name, path)
            encoder = OnnxQueryEncoder(name, model_dir, path)
            if not path.with_suffix(".checked").is_file():
                # Checked once per export against torch: the same vectors or not used at all.
                reference = get_embedder(name, batch_size, "float32").encode(_PROBES)
                agreement = float(np.min(np.sum(reference * encoder.encode(_PROBES), axis=1)))
                if agreement < MIN_AGREEMENT:
                    raise ValueError(f"its vectors differ from torch's (cosine {agreement:.5f})")
                path.with_suffix(".checked").write_text(f"{agreement:.6f}\n")
        return encoder
    except Exception as exc:  # any failure here only costs speed: questions use torch instead
        fallback = exc
    log.info("questions are encoded with torch (no ONNX Runtime export: %s)", fallback)
    return get_embedder(name, batch_size, precision)
