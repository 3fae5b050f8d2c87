"""Vectors a build has embedded but not yet saved, so an interrupted build resumes where it stopped.

A build of a million chunks embeds for hours. It embeds in blocks and appends each block to a
journal in the index folder (``.embedding-journal/``) before it starts the next; a later build
with the same model finds there every text it already embedded and embeds only the rest. An
interrupt (Ctrl-C, a killed process, a full disk at save time) loses at most the block in
progress. The build that saves a new generation removes the journal.

Each text is keyed by a 16-byte BLAKE2b digest of it. Chunk vectors are kept as float32 (the
index builds its FAISS index from them); sentence and word vectors as the int8 codes and scale
the index stores (qa/quantize.py), which is exactly what a build would compute from the float32
rows. A block is appended to the rows file, flushed to disk, then its keys: after a crash the
records that both files hold whole are the journal, and anything past them is ignored.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from pathlib import Path

import numpy as np

from .embedding import SHORT_TEXT_CHARS, Embedder
from .quantize import quantize_rows

log = logging.getLogger("qa")

JOURNAL = ".embedding-journal"
FORMAT = 1
# Texts per encode call and journal append: a few seconds of chunks on 2 cores. Words (texts
# up to the embedder's SHORT_TEXT_CHARS) go SHORT_FACTOR times as many at once.
BLOCK = 256
SHORT_FACTOR = 8
_KEY = np.dtype("S16")
# The two tables: chunk vectors as float32, sentence and word vectors as int8 codes and scales.
_KINDS = (("float32", np.float32), ("int8", np.int8))


def digests(texts: list[str]) -> np.ndarray:
    """Each text's 16-byte BLAKE2b digest."""
    return np.array([hashlib.blake2b(t.encode("utf-8"), digest_size=16).digest() for t in texts], dtype=_KEY)


class _Table:
    """One append-only table: 16-byte keys, rows of ``dim`` values, and (int8 rows) a scale each."""

    def __init__(self, folder: Path, name: str, dim: int, dtype: type) -> None:
        self.keys_path = folder / f"{name}.keys"
        self.rows_path = folder / f"{name}.rows"
        self.scales_path = folder / f"{name}.scales" if dtype == np.int8 else None
        self.dim, self.dtype = dim, np.dtype(dtype)
        self.n = 0
        self._order = self._sorted = None
        if self.keys_path.is_file() and self.rows_path.is_file():
            # Whole records only: a crash can leave one file a block ahead of the other.
            n = min(self.keys_path.stat().st_size // 16, self.rows_path.stat().st_size // self._row_bytes)
            if self.scales_path is not None:
                n = min(n, self.scales_path.stat().st_size // 4 if self.scales_path.is_file() else 0)
            self.n = n

    @property
    def _row_bytes(self) -> int:
        return self.dim * self.dtype.itemsize

    def find(self, keys: np.ndarray) -> np.ndarray:
        """The row of each key, -1 where the table has none."""
        if self.n == 0 or len(keys) == 0:
            return np.full(len(keys), -1, dtype=np.int64)
        if self._order is None:  # read once per lookup after appends (keys are 16 bytes a row)
            stored = np.fromfile(self.keys_path, dtype=_KEY, count=self.n)
            self._order = np.argsort(stored, kind="stable")
            self._sorted = stored[self._order]
        at = np.minimum(np.searchsorted(self._sorted, keys), self.n - 1)
        return np.where(self._sorted[at] == keys, self._order[at], -1).astype(np.int64)

    def read(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """The stored rows (and scales) at ``rows``."""
        data = np.memmap(self.rows_path, dtype=self.dtype, mode="r", shape=(self.n, self.dim))
        out = np.array(data[rows])
        del data
        scales = None
        if self.scales_path is not None:
            scales = np.fromfile(self.scales_path, dtype=np.float32, count=self.n)[rows]
        return out, scales

    def append(self, keys: np.ndarray, rows: np.ndarray, scales: np.ndarray | None = None) -> None:
        """Rows (and scales) first, each flushed to disk, then their keys: see the module docstring."""
        self._truncate_to_records()
        _append(self.rows_path, np.ascontiguousarray(rows, dtype=self.dtype))
        if self.scales_path is not None:
            _append(self.scales_path, np.ascontiguousarray(scales, dtype=np.float32))
        _append(self.keys_path, np.ascontiguousarray(keys, dtype=_KEY))
        self.n += len(keys)
        self._order = self._sorted = None

    def _truncate_to_records(self) -> None:
        """Cut what a crash left past the last whole record, so appends line up again."""
        sizes = [(self.keys_path, 16), (self.rows_path, self._row_bytes)]
        if self.scales_path is not None:
            sizes.append((self.scales_path, 4))
        for path, width in sizes:
            if path.is_file() and path.stat().st_size != self.n * width:
                os.truncate(path, self.n * width)


def _append(path: Path, array: np.ndarray) -> None:
    with open(path, "ab") as fh:
        fh.write(array.tobytes())
        fh.flush()
        os.fsync(fh.fileno())


class Journal:
    """The embedding journal of one index folder and one embedder (model, dimension, precision).

    ``chunk_vectors`` and ``int8_vectors`` embed what the journal lacks, in blocks, recording
    each block when the work is more than one block; a journal left by another model or format
    is removed before anything is written.
    """

    def __init__(self, index_dir: str | Path, embedder: Embedder, *, progress: bool = False) -> None:
        self.folder = Path(index_dir) / JOURNAL
        self.embedder = embedder
        self.progress = progress
        self.dim = embedder.dim
        self.meta = {
            "format": FORMAT,
            "model": embedder.model_id,
            "dim": embedder.dim,
            "precision": getattr(embedder, "precision", "float32"),
        }
        self._tables: dict[str, _Table] | None = None
        self.resumed = 0  # chunk vectors taken from the journal
        self._failed = False
        if self.folder.exists():
            try:
                same = json.loads((self.folder / "meta.json").read_text(encoding="utf-8")) == self.meta
            except (OSError, ValueError):
                same = False
            try:
                self._tables = self._open() if same else None
            except OSError:  # unreadable: what it holds is embedded again
                self._tables = None
            if self._tables is None:
                self.discard()

    def _open(self) -> dict[str, _Table]:
        return {name: _Table(self.folder, name, self.dim, dtype) for name, dtype in _KINDS}

    def discard(self) -> None:
        """Remove the journal (a build saved, or it belongs to another model)."""
        shutil.rmtree(self.folder, ignore_errors=True)
        self._tables = None

    def chunk_vectors(self, texts: list[str]) -> np.ndarray:
        """float32 vectors of ``texts``, embedding only those the journal lacks."""
        unique = list(dict.fromkeys(texts))
        out = np.zeros((len(unique), self.dim), dtype=np.float32)
        keys = digests(unique) if self._tables or len(unique) > BLOCK else None
        found = self._tables["float32"].find(keys) if self._tables else np.full(len(unique), -1)
        if (found >= 0).any():
            out[found >= 0] = self._tables["float32"].read(found[found >= 0])[0]

        def done(todo: np.ndarray, vecs: np.ndarray) -> None:
            out[todo] = vecs
            if keys is not None and len(unique) > BLOCK:
                self._record("float32", keys[todo], vecs)

        self._embed(unique, np.flatnonzero(found < 0), "chunks", done)
        at = _positions(texts, unique)
        self.resumed += int(np.count_nonzero(found[at] >= 0))
        return out[at]

    def int8_vectors(
        self, texts: list[str], *, desc: str = "sentences", known: dict[str, np.ndarray] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """int8 codes and scales (qa/quantize.py) of ``texts``' vectors, embedding only those the
        journal lacks. A text in ``known`` (text -> float32 vector, such as a chunk that is a
        single sentence) or held by the journal as a chunk vector is quantized from that."""
        unique = list(dict.fromkeys(texts))
        codes = np.zeros((len(unique), self.dim), dtype=np.int8)
        scales = np.ones(len(unique), dtype=np.float32)
        keys = digests(unique) if self._tables or len(unique) > BLOCK else None
        ready = np.zeros(len(unique), dtype=bool)
        if known:
            have = [i for i, t in enumerate(unique) if t in known]
            if have:
                codes[have], scales[have] = quantize_rows(np.array([known[unique[i]] for i in have]))
                ready[have] = True
        if self._tables:
            for name in ("int8", "float32"):
                rows = np.full(len(unique), -1, dtype=np.int64)
                rows[~ready] = self._tables[name].find(keys[~ready])
                hit = rows >= 0
                if hit.any():
                    stored, stored_scales = self._tables[name].read(rows[hit])
                    if name == "int8":
                        codes[hit], scales[hit] = stored, stored_scales
                    else:  # held as a chunk vector
                        codes[hit], scales[hit] = quantize_rows(stored)
                    ready |= hit

        def done(todo: np.ndarray, vecs: np.ndarray) -> None:
            codes[todo], scales[todo] = quantize_rows(vecs)
            if keys is not None and len(unique) > BLOCK:
                self._record("int8", keys[todo], codes[todo], scales[todo])

        self._embed(unique, np.flatnonzero(~ready), desc, done)
        at = _positions(texts, unique)
        return codes[at], scales[at]

    def _record(
        self, name: str, keys: np.ndarray, rows: np.ndarray, scales: np.ndarray | None = None
    ) -> None:
        """Append a block; a journal that cannot be written (a full disk, a read-only folder)
        only stops recording, with a warning: the build itself goes on."""
        if self._failed:
            return
        try:
            self._table(name).append(keys, rows, scales)
        except OSError as exc:
            self._failed = True
            log.warning(
                "cannot record embedded vectors in %s (%s): an interrupted build would start over",
                self.folder,
                exc.strerror or exc,
            )

    def _table(self, name: str) -> _Table:
        if self._tables is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            (self.folder / "meta.json").write_text(json.dumps(self.meta), encoding="utf-8")
            self._tables = self._open()
        return self._tables[name]

    def _embed(self, texts: list[str], todo: np.ndarray, desc: str, done) -> None:
        """Embed ``texts[todo]`` block by block, longest first (batches pad least), calling
        ``done(rows, vectors)`` after each block, under a progress bar with rate and time left."""
        from tqdm import tqdm

        if not len(todo):
            return
        order = todo[np.argsort([-len(texts[i]) for i in todo.tolist()], kind="stable")]
        short = max(len(texts[i]) for i in todo.tolist()) <= SHORT_TEXT_CHARS
        block = BLOCK * (SHORT_FACTOR if short else 1)
        # Counts what is left to embed (a resumed build's bar starts at 0 of the rest): the chat
        # page's progress, which follows tqdm bars, knows no starting count.
        unit = desc[:-1] if desc.endswith("s") else desc
        with tqdm(total=len(todo), desc=f"embedding {desc}", unit=unit, disable=not self.progress) as bar:
            for lo in range(0, len(order), block):
                rows = order[lo : lo + block]
                done(rows, self.embedder.encode([texts[i] for i in rows.tolist()]))
                bar.update(len(rows))


def _positions(texts: list[str], unique: list[str]) -> np.ndarray:
    where = {t: i for i, t in enumerate(unique)}
    return np.fromiter((where[t] for t in texts), dtype=np.int64, count=len(texts))


def discard(index_dir: str | Path) -> None:
    """Remove ``index_dir``'s journal, if any (the index is current: nothing in it is needed)."""
    shutil.rmtree(Path(index_dir) / JOURNAL, ignore_errors=True)


def pending(index_dir: str | Path) -> int:
    """How many vectors an interrupted build left in ``index_dir``'s journal (0 when none)."""
    folder = Path(index_dir) / JOURNAL
    try:
        dim = int(json.loads((folder / "meta.json").read_text(encoding="utf-8"))["dim"])
        return sum(_Table(folder, name, dim, dtype).n for name, dtype in _KINDS)
    except (OSError, ValueError, KeyError, TypeError):
        return 0
