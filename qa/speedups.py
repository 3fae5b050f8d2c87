"""Faster equivalents of hot paths, returning the same values; nothing here changes a score.

``soft_coverage_many`` is ``Lexicon.soft_coverage`` for all candidate chunks of a question at
once: one gather of word vectors and one matrix product instead of one per sentence. Measured by
``python benchmarks/bench.py`` (see README "Speed and scale") it is what quote selection spends
most of its time on.
"""

from __future__ import annotations

import numpy as np

from .lexicon import MATCH_FLOOR, Lexicon, words


def soft_coverage_many(
    lexicon: Lexicon, query_words: list[str], query_vecs: np.ndarray, groups: list[list[str]]
) -> list[np.ndarray]:
    """``[lexicon.soft_coverage(query_words, query_vecs, texts) for texts in groups]``, batched.

    Args:
        lexicon: the corpus vocabulary with word vectors and document frequencies.
        query_words: distinct content words of the query.
        query_vecs: their embeddings (rows aligned with query_words).
        groups: the candidate sentences, one list per candidate chunk.

    Returns:
        One array per group, one value in [0, 1] per sentence (equal to soft_coverage's up to
        float rounding).
    """
    texts = [t for group in groups for t in group]
    out = np.zeros(len(texts), dtype=np.float32)
    if query_words and texts:
        weights = np.array([lexicon.idf(w) for w in query_words], dtype=np.float32)
        weights /= weights.sum()
        ids = lexicon.ids
        per_text = [[ids[w] for w in set(words(t)) if w in ids] for t in texts]
        lengths = np.array([len(p) for p in per_text], dtype=np.int64)
        if lengths.sum():
            flat = np.fromiter((i for p in per_text for i in p), dtype=np.int64, count=int(lengths.sum()))
            unique, inverse = np.unique(flat, return_inverse=True)
            sims = query_vecs @ np.asarray(lexicon.vectors[unique], dtype=np.float32).T
            has = lengths > 0
            starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])[has]
            best = np.maximum.reduceat(sims[:, inverse], starts, axis=1)
            out[has] = (np.where(best >= MATCH_FLOOR, best, 0.0) * weights[:, None]).sum(axis=0)
    if not groups:
        return []
    return np.split(out, np.cumsum([len(g) for g in groups])[:-1])
