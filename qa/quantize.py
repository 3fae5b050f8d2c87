"""Stored vectors read back as float32: float16 rows, and int8 rows with one scale each.

Indexes keep the vectors a question reads (word and sentence vectors) as int8 codes times one
float32 scale per row: a quarter of float32's bytes, and on unit-length MiniLM vectors a row
keeps a cosine of at least 0.998 with itself (the seed gold set and SciFact score the same).
"""

from __future__ import annotations

import numpy as np

from .ragged import span_positions
from .rowfile import RowFile, read_spans, row_positions

# float16 bit pattern -> float32 value. numpy converts float16 element by element (about 2 ns
# each); a lookup in this 256 KB table takes half that, which is a millisecond per question.
_HALF_TO_FLOAT = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16).view(np.float16).astype(np.float32)


def float32_rows(half: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``half[rows]`` as float32: exactly for a stored float16 array (memory-mapped or not), and
    for anything else whose rows read as floats (an ``Int8Rows``, a float32 array)."""
    picked = np.asarray(half[rows])
    if picked.dtype != np.float16:
        return picked.astype(np.float32, copy=False)
    return np.take(_HALF_TO_FLOAT, picked.view(np.uint16))


def quantize_rows(vectors: np.ndarray, block: int = 65_536) -> tuple[np.ndarray, np.ndarray]:
    """Each row as int8 codes times one float32 scale (symmetric, the largest entry -> +-127).

    On unit-length MiniLM word vectors a row keeps a cosine of at least 0.998 with itself, and
    quantizing the codes' own values again gives the same codes (a re-build keeps them).
    """
    codes = np.empty(vectors.shape, dtype=np.int8)
    scales = np.empty(len(vectors), dtype=np.float32)
    for lo in range(0, len(vectors), block):  # blocks: a million words need no float32 copy
        v = np.asarray(vectors[lo : lo + block], dtype=np.float32)
        scale = np.abs(v).max(axis=1) / 127.0 if v.size else np.zeros(len(v), np.float32)
        scale[scale == 0] = 1.0
        codes[lo : lo + block] = np.rint(v / scale[:, None])
        scales[lo : lo + block] = scale
    return codes, scales


class Int8Rows:
    """Vectors stored as int8 codes and one float32 scale per row, read as float32 rows.

    ``codes`` may be a RowFile (read on demand) or an array; ``scales`` is small and in memory.
    Indexing (an int, a slice or an array of rows) and ``np.asarray`` give float32.
    """

    dtype = np.dtype(np.float32)

    def __init__(self, codes: np.ndarray | RowFile, scales: np.ndarray) -> None:
        if codes.dtype != np.int8 or codes.ndim != 2 or np.shape(scales) != (len(codes),):
            raise ValueError("int8 vectors and their scales do not match")
        self.codes, self.scales = codes, scales

    @classmethod
    def of(cls, vectors: np.ndarray) -> Int8Rows:
        """Float vectors, quantized (``quantize_rows``)."""
        return cls(*quantize_rows(vectors))

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.codes), self.codes.shape[1])

    ndim = 2

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, key) -> np.ndarray:
        rows, shape = row_positions(key, len(self))
        # Scaled in place: a question reads a few thousand word rows, and a second float32
        # copy of them was a 2 MB temporary each time.
        out = np.asarray(self.codes[rows], dtype=np.float32)
        out *= self.scales[rows, None]
        return out.reshape(*shape, out.shape[1])

    def spans(self, starts: np.ndarray, lengths: np.ndarray) -> Int8Rows:
        """The rows of these spans, one span after another, still as codes and scales."""
        return Int8Rows(
            read_spans(self.codes, starts, lengths),
            np.asarray(self.scales)[span_positions(starts, lengths)],
        )

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        whole = np.asarray(self.codes, dtype=np.float32)
        whole *= self.scales[:, None]
        return whole if dtype is None else whole.astype(dtype, copy=False)
