"""Rows of a stored .npy array read on demand with ``pread``, for arrays a question samples sparsely.

A question reads the sentence vectors of its ~60 candidate chunks: a few hundred rows scattered
over a file of hundreds of MB at 100k chunks. Memory-mapped, every read faulted in its
neighbourhood as well (read-ahead and fault-around), and after a few hundred questions the whole
file counted as the process's resident memory. Read with ``pread``, the rows come from the
kernel's page cache (shared, and dropped under memory pressure) into a small array, with one
system call per run of consecutive rows: about 0.1 ms per question either way.
"""

from __future__ import annotations

import os
import weakref
from pathlib import Path

import numpy as np

from .ragged import span_positions

# A request of more than this many separate runs of rows that also covers more than this share
# of the file reads the whole array in one go (fewer system calls, one temporary copy).
WHOLE_FILE_RUNS = 4096
WHOLE_FILE_SHARE = 0.25


class RowFile:
    """A read-only, C-ordered .npy array indexed along its first axis without mapping it.

    Supports what callers do with the arrays it stands in for: ``len``, ``shape``, ``dtype``,
    ``ndim``, indexing with an int, a slice or an integer array, and ``np.asarray``.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        with open(self.path, "rb") as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
            else:
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
            self._offset = f.tell()
            size = os.fstat(f.fileno()).st_size
        if fortran or dtype.hasobject or not shape:
            raise ValueError(f"{self.path.name} is not a C-ordered numeric array")
        self.shape: tuple[int, ...] = tuple(shape)
        self.dtype = dtype
        self.ndim = len(shape)
        self._row_shape = self.shape[1:]
        self._row_bytes = dtype.itemsize * int(np.prod(self._row_shape, dtype=np.int64))
        if size != self._offset + self._row_bytes * self.shape[0]:
            raise ValueError(f"{self.path.name} is {size} bytes, not what its header says")
        self._fd = os.open(self.path, os.O_RDONLY)
        weakref.finalize(self, os.close, self._fd)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key) -> np.ndarray:
        rows, shape = row_positions(key, len(self))
        return self._read(rows).reshape(shape + self._row_shape)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        whole = self._whole()
        return whole if dtype is None else whole.astype(dtype, copy=False)

    def _whole(self) -> np.ndarray:
        out = np.empty(self.shape, dtype=self.dtype)
        if out.nbytes:
            _pread_into(self._fd, memoryview(out.reshape(-1).view(np.uint8)), self._offset)
        return out

    def spans(self, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Rows ``starts[i] .. starts[i] + lengths[i] - 1`` of every span, one span after another.

        What ``array[span_positions(starts, lengths)]`` gives, with one read per run of
        consecutive rows: spans that follow each other on disk (a build's rows, in order) are
        read together, and no position array is made for them.
        """
        starts = np.asarray(starts, dtype=np.int64).ravel()
        lengths = np.asarray(lengths, dtype=np.int64).ravel()
        if starts.shape != lengths.shape:
            raise ValueError(f"{len(starts)} span starts but {len(lengths)} lengths")
        if lengths.size and lengths.min() < 0:
            raise ValueError("span lengths must not be negative")
        keep = lengths > 0
        starts, lengths = starts[keep], lengths[keep]
        total = int(lengths.sum())
        out = np.empty((total, *self._row_shape), dtype=self.dtype)
        if not total:
            return out
        if starts.min() < 0 or np.any(starts + lengths > len(self)):
            raise IndexError(f"rows out of range for {len(self)} rows")
        # A span that starts where the one before it ended continues that one's read.
        breaks = np.flatnonzero(starts[1:] != starts[:-1] + lengths[:-1]) + 1
        if len(breaks) >= WHOLE_FILE_RUNS and total > WHOLE_FILE_SHARE * len(self):
            return self._whole()[span_positions(starts, lengths)]
        firsts = np.concatenate([[0], breaks])
        # Byte offsets in the file and in ``out`` of each run, computed in one go: a question
        # makes about a hundred of these reads, so the loop does nothing else.
        at_file = (starts[firsts] * self._row_bytes + self._offset).tolist()
        ends = (np.cumsum(np.add.reduceat(lengths, firsts)) * self._row_bytes).tolist()
        raw = memoryview(out.reshape(-1).view(np.uint8))
        fd, begin = self._fd, 0
        for offset, end in zip(at_file, ends, strict=True):
            view = raw[begin:end]
            if _PREADV is None or _PREADV(fd, [view], offset) != end - begin:
                _pread_into(fd, view, offset)  # a short read (or no preadv): read it in full
            begin = end
        return out

    def _read(self, rows: np.ndarray) -> np.ndarray:
        # Runs of consecutive rows (a chunk's sentences are stored together): one read each.
        return self.spans(rows, np.ones(len(rows), dtype=np.int64))


def row_positions(key, n: int) -> tuple[np.ndarray, tuple[int, ...]]:
    """What indexing the first axis of n rows with ``key`` selects: the rows (int64, in range,
    negatives counted from the end) and the shape the key gives them (``()`` for one int).

    Keys: an int, a slice, an integer array or a boolean mask, as numpy takes them.

    Raises:
        IndexError: a row out of range.
    """
    if isinstance(key, (int, np.integer)):
        row = int(key) + (n if key < 0 else 0)
        if not 0 <= row < n:
            raise IndexError(f"row {key} out of range for {n} rows")
        return np.array([row], dtype=np.int64), ()
    if isinstance(key, slice):
        rows = np.arange(*key.indices(n), dtype=np.int64)
        return rows, rows.shape
    rows = np.asarray(key)
    if rows.dtype == bool:
        rows = np.flatnonzero(rows)
    shape = rows.shape
    rows = rows.astype(np.int64, copy=False).ravel()
    if rows.size and (rows.min() < -n or rows.max() >= n):
        raise IndexError(f"rows out of range for {n} rows")
    return np.where(rows < 0, rows + n, rows), shape


def read_spans(array: np.ndarray | RowFile, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``array[span_positions(starts, lengths)]`` of an array in memory or a RowFile."""
    if isinstance(array, RowFile):
        return array.spans(starts, lengths)
    return np.asarray(array[span_positions(starts, lengths)])


_PREADV = getattr(os, "preadv", None)  # straight into the buffer, where the platform has it


def _pread_into(fd: int, buffer: memoryview, offset: int) -> None:
    """Fill ``buffer`` from ``offset`` of the file; a short read means the file shrank."""
    while len(buffer):
        if _PREADV is not None:
            n = _PREADV(fd, [buffer], offset)
        else:  # pragma: no cover - platforms without preadv
            data = os.pread(fd, len(buffer), offset)
            n = len(data)
            buffer[:n] = data
        if n <= 0:
            raise OSError(f"unexpected end of file at byte {offset}")
        buffer, offset = buffer[n:], offset + n
