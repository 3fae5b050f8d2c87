"""Questions encoded by ONNX Runtime: the same model, a few milliseconds, and no torch import.

Encoding one question with torch costs 7-12 ms on 2 cores, most of it per-operation overhead of
a six-layer model on a dozen tokens; ONNX Runtime runs the same graph in about 3 ms. The graph
is exported once per model from its float32 weights (a few seconds) into a cache folder, its
attention, layer norms and activations fused into single operators by ONNX Runtime's transformer
optimizer (700 nodes become about 50), made to take several texts packed into one sequence
(see _fuse_and_pack), and checked against torch before use; a process that answers from a current index
then never imports torch at all, which also shortens a cold start by seconds.

Only models whose sentence-transformers pipeline is a transformer with mean pooling (and
optional normalization), like the bundled all-MiniLM-L6-v2, are exported; any other model, a
missing onnxruntime, a graph that does not fuse or a failed export falls back to the torch embedder.
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
EXPORT_FORMAT = 3  # 2: fused by the transformer optimizer; 3: takes packed texts


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
    """Write the float32 model as a fused ONNX graph of packed texts' token states, atomically."""
    import torch
    from tokenizers import Tokenizer
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    model_dir = Path(resolve_model(name))
    # Eager attention exports as plain MatMul/Softmax, the pattern the optimizer fuses; the
    # default (scaled_dot_product_attention) exports as a graph it cannot.
    encoder = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()

    # Exported with its mean pooling, the graph the optimizer knows how to fuse;
    # _fuse_and_pack then outputs the token states instead, and encode() pools each text.
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
        _fuse_and_pack(tmp, encoder.config)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _fuse_and_pack(path: Path, config) -> None:
    """Fuse attention, layer norms and GELU in place, then make the graph take packed texts.

    Fused, a question's dozen tokens run about a fifth faster (53 operators instead of 700).
    Packed, several texts (a question and its unknown words) share one sequence and one run: each
    attends only to itself (a per-token segment mask given to every attention operator) and
    counts its positions from 0, so each gets the vectors it would get alone. One run instead of
    one per length group saves about a millisecond per question with words to look up.

    Raises:
        ValueError: the graph did not fuse into the expected operators (get_query_encoder then
            falls back to torch).
    """
    import onnx
    from onnx import TensorProto, helper
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
    graph = fused.model.graph
    embed = [n for n in graph.node if n.op_type == "EmbedLayerNormalization"]
    attention = [n for n in graph.node if n.op_type == "Attention"]
    norms = [n for n in graph.node if n.op_type == "SkipLayerNormalization"]
    layers = int(config.num_hidden_layers)
    if len(embed) != 1 or len(attention) != layers or len(norms) != 2 * layers:
        raise ValueError("the graph did not fuse into embedding, attention and layer-norm operators")
    last = norms[-1].output[0]  # the last layer's token states, which mean pooling averaged
    graph.input.extend(
        [
            helper.make_tensor_value_info("position_ids", TensorProto.INT64, ["batch", "tokens"]),
            helper.make_tensor_value_info("segment_mask", TensorProto.INT64, ["batch", "tokens", "tokens"]),
        ]
    )
    graph.node.insert(
        0, helper.make_node("Cast", ["position_ids"], ["position_ids_int32"], to=TensorProto.INT32)
    )
    graph.node.insert(
        0, helper.make_node("Cast", ["segment_mask"], ["segment_mask_int32"], to=TensorProto.INT32)
    )
    inputs = list(embed[0].input) + [""] * (9 - len(embed[0].input))
    inputs[7], inputs[8] = "", "position_ids_int32"  # no padding mask; positions per text
    del embed[0].input[:]
    embed[0].input.extend(inputs)
    for node in attention:
        while len(node.input) < 4:
            node.input.append("")
        node.input[3] = "segment_mask_int32"  # (batch, tokens, tokens): 1 where a token may look
    del graph.output[:]
    graph.output.append(
        helper.make_tensor_value_info(last, TensorProto.FLOAT, ["batch", "tokens", int(config.hidden_size)])
    )
    # Drop what no longer leads to the output (pooling, the padding mask and its input).
    needed = {last}
    kept = []
    for node in reversed(list(graph.node)):
        if any(o in needed for o in node.output):
            kept.append(node)
            needed.update(i for i in node.input if i)
    del graph.node[:]
    graph.node.extend(reversed(kept))
    for field in (graph.input, graph.initializer):
        keep = [x for x in field if x.name in needed]
        del field[:]
        field.extend(keep)
    onnx.save(fused.model, str(path))


# Texts share rows of up to this many tokens (attention grows with the square of a row), and
# up to this many rows run at once.
PACK_TOKENS = 128
PACK_ROWS = 32


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
        self.dim = int(self.session.get_outputs()[0].shape[-1])  # (batch, tokens, dim)

    def encode(self, texts: list[str], *, show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        encoded = self.tokenizer.encode_batch(list(texts))
        lengths = [len(e.ids) for e in encoded]
        # Longest first, each text into the first row with room for it (a text longer than a
        # row gets one of its own).
        rows: list[list[int]] = []
        room: list[int] = []
        for i in sorted(range(len(texts)), key=lambda i: -lengths[i]):
            r = next((r for r, left in enumerate(room) if lengths[i] <= left), len(rows))
            if r == len(rows):
                rows.append([])
                room.append(PACK_TOKENS)
            rows[r].append(i)
            room[r] -= lengths[i]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for first in range(0, len(rows), PACK_ROWS):
            self._run(encoded, lengths, rows[first : first + PACK_ROWS], out)
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out

    def _run(self, encoded: list, lengths: list[int], rows: list[list[int]], out: np.ndarray) -> None:
        """One run over rows of packed texts; each text's mean token state goes to out[text]."""
        shape = (len(rows), max(sum(lengths[i] for i in row) for row in rows))
        ids, types, positions = (np.zeros(shape, dtype=np.int64) for _ in range(3))
        segment = np.full(shape, -1, dtype=np.int64)  # padding: its own segment, never looked at
        for r, row in enumerate(rows):
            at = 0
            for i in row:
                n = lengths[i]
                ids[r, at : at + n] = encoded[i].ids
                types[r, at : at + n] = encoded[i].type_ids
                positions[r, at : at + n] = np.arange(n)
                segment[r, at : at + n] = i
                at += n
        feeds = {
            "input_ids": ids,
            "token_type_ids": types,
            "position_ids": positions,
            "segment_mask": (segment[:, :, None] == segment[:, None, :]).astype(np.int64),
        }
        states = self.session.run(None, feeds)[0]
        for r, row in enumerate(rows):
            at = 0
            for i in row:
                out[i] = states[r, at : at + lengths[i]].mean(axis=0)
                at += lengths[i]


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
