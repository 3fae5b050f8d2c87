"""Ragged arrays: many variable-length lists of ids stored as one flat array plus offsets.

List i is ``ids[offsets[i]:offsets[i + 1]]``. The index keeps several of them (each chunk's
BM25 tokens, each sentence's words); these are the two operations they all need.
"""

from __future__ import annotations

import numpy as np


def span_positions(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The positions ``starts[i] .. starts[i] + lengths[i] - 1`` of every span, one after another."""
    lengths = np.asarray(lengths, dtype=np.int64)
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(lengths)
    return np.repeat(np.asarray(starts, dtype=np.int64) - (ends - lengths), lengths) + np.arange(total)


def consistent(ids: np.ndarray, offsets: np.ndarray, lists: int, bound: int, *, scan: bool = True) -> bool:
    """Whether loaded files hold ``lists`` lists of int32 ids in ``[0, bound)``, as written.

    ``scan=False`` checks types and shapes only, without reading every id and offset.
    """
    if not scan:
        return bool(
            ids.dtype == np.int32 and offsets.dtype == np.int64 and ids.ndim == 1
            and offsets.shape == (lists + 1,) and offsets[0] == 0 and offsets[-1] == len(ids)
        )  # fmt: skip
    return bool(
        ids.dtype == np.int32
        and offsets.dtype == np.int64
        and ids.ndim == 1
        and offsets.shape == (lists + 1,)
        and offsets[0] == 0
        and offsets[-1] == len(ids)
        and not (lists and np.any(np.diff(offsets) < 0))
        and not (len(ids) and (ids.min() < 0 or ids.max() >= bound))
    )
