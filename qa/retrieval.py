"""Dense (FAISS) and keyword (BM25) search over chunks, fused into one ranking."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .settings import Settings
from .store import StoredIndex

# Single characters count as tokens so "5G", "x 2" or "Q3" keep their digits.
_TOKEN_PATTERN = r"(?u)\b\w+\b"
# Reciprocal-rank constant: how fast a lower rank loses weight (60 is the usual value).
RRF_K = 60


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(texts: list[str]) -> list[list[str]]:
    """Lower-cased, stemmed word tokens without English stop words."""
    import bm25s

    return bm25s.tokenize(
        texts,
        token_pattern=_TOKEN_PATTERN,
        stopwords="en",
        stemmer=_stemmer(),
        return_ids=False,
        show_progress=False,
    )


def build_bm25(texts: list[str]):
    """A bm25s index over ``texts`` (row i = chunk i)."""
    import logging

    import bm25s

    # bm25s turns its own logger to DEBUG on import; its chatter is not the user's business.
    logging.getLogger("bm25s").setLevel(logging.WARNING)

    retriever = bm25s.BM25()
    retriever.index(tokenize(texts), show_progress=False)
    return retriever


@dataclass(frozen=True)
class Hit:
    """One chunk found for a query, with the evidence of each retriever."""

    row: int
    fused: float
    dense: float  # cosine similarity of query and chunk
    bm25: float  # raw BM25 score (0 when the chunk shares no keyword)


def _top(scores: np.ndarray, n: int) -> np.ndarray:
    """Indices of the n largest scores (unordered)."""
    if n >= len(scores):
        return np.arange(len(scores))
    return np.argpartition(-scores, n - 1)[:n]


def _ranks(scores: dict[int, float]) -> dict[int, int]:
    order = sorted(scores, key=lambda r: -scores[r])
    return {row: rank for rank, row in enumerate(order)}


class Retriever:
    """Hybrid search over a stored index."""

    def __init__(self, index: StoredIndex, settings: Settings) -> None:
        self.index = index
        self.settings = settings

    def dense(self, query_vec: np.ndarray, n: int, allowed: np.ndarray | None = None) -> dict[int, float]:
        if allowed is not None:
            # A chosen subset of documents is searched exactly: its vectors are few enough.
            sims = np.asarray(self.index.vectors[allowed], dtype=np.float32) @ query_vec
            top = _top(sims, n)
            return {int(allowed[i]): float(sims[i]) for i in top}
        n = min(n, self.index.faiss_index.ntotal)
        if n == 0:
            return {}
        scores, rows = self.index.faiss_index.search(query_vec.reshape(1, -1), n)
        return {int(r): float(s) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0}

    def keyword(self, query: str, n: int, allowed: np.ndarray | None = None) -> dict[int, float]:
        tokens = tokenize([query])[0]
        if not tokens:
            return {}
        scores = self.index.bm25.get_scores(tokens)
        rows = np.arange(len(scores)) if allowed is None else allowed
        scores = scores[rows]
        return {int(rows[i]): float(scores[i]) for i in _top(scores, n) if scores[i] > 0}

    def search(
        self, query: str, query_vec: np.ndarray, n: int | None = None, allowed: np.ndarray | None = None
    ) -> list[Hit]:
        """The best chunks for a query, by weighted reciprocal-rank fusion of both retrievers.

        Args:
            query: the search text (for BM25).
            query_vec: its normalized embedding (for FAISS).
            n: how many candidates each retriever contributes.
            allowed: search only these chunk rows (None: all).

        Returns:
            Hits, best first.
        """
        n = n or self.settings.candidates
        dense = self.dense(query_vec, n, allowed)
        keyword = self.keyword(query, n, allowed) if self.settings.bm25_weight > 0 else {}
        dense_rank, keyword_rank = _ranks(dense), _ranks(keyword)
        rows = set(dense) | set(keyword)
        missing = [r for r in rows if r not in dense]
        if missing:
            # Keyword-only candidates still need their dense similarity for later stages.
            vecs = np.asarray(self.index.vectors[sorted(missing)], dtype=np.float32)
            for r, s in zip(sorted(missing), vecs @ query_vec, strict=True):
                dense[r] = float(s)
        hits = []
        for r in rows:
            fused = 0.0
            if r in dense_rank:
                fused += self.settings.dense_weight / (RRF_K + dense_rank[r])
            if r in keyword_rank:
                fused += self.settings.bm25_weight / (RRF_K + keyword_rank[r])
            hits.append(Hit(r, fused, dense[r], keyword.get(r, 0.0)))
        hits.sort(key=lambda h: (-h.fused, -h.dense))
        return hits
