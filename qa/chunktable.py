"""The chunk table of an index generation: columns of plain .npy files, memory-mapped on load
(the text itself is read row by row; see ``ChunkTable``).

Layout (``chunks/`` inside a generation; row i describes vector i)::

    text.npy              uint8   the UTF-8 text of every chunk, one after the other
    text_offsets.npy      int64   chunk i's text is bytes text_offsets[i]:text_offsets[i+1]
    gap.npy, gap_offsets.npy      the same for ``gap_before``
    doc.npy               int32   index into doc_ids.json
    heading.npy           int32   index into headings.json
    start.npy, end.npy    int64   character offsets of the chunk in its document
    position.npy          int32   order of the chunk inside its document
    sentence_offsets.npy  int64   chunk i's sentences are rows offsets[i]:offsets[i+1] of ...
    sentences.npy         int64   (n_sentences, 2) start and end offsets in the document
    hashes.npy            S32     content hash of each chunk (the embedding cache key)
    doc_ids.json, headings.json   the distinct document ids and headings, in index order

A parsed JSON line per chunk cost 1.5 s and ~5 KB of Python objects per chunk at 100k chunks;
columns load in milliseconds and stay on disk (in the page cache) until a row is read. A
``Chunk`` is built only for the rows a question actually touches. Nothing here unpickles.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import overload

import numpy as np

from .rowfile import RowFile
from .types import Chunk, Sentence

FOLDER = "chunks"
# Every file of the table, relative to the generation (the manifest must list them all).
FILES = tuple(
    f"{FOLDER}/{name}"
    for name in (
        "text.npy", "text_offsets.npy", "gap.npy", "gap_offsets.npy", "doc.npy", "heading.npy",
        "start.npy", "end.npy", "position.npy", "sentence_offsets.npy", "sentences.npy",
        "hashes.npy", "doc_ids.json", "headings.json",
    )
)  # fmt: skip
HASH_BYTES = 32  # store.chunk_hash: 32 hex characters


def _blob(texts: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
    """Texts as one UTF-8 byte array plus the byte offset of each (n + 1 offsets)."""
    encoded = [t.encode("utf-8") for t in texts]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets


def _codes(values: list[str]) -> tuple[np.ndarray, list[str]]:
    """Each value as an index into the list of distinct values (first-seen order)."""
    distinct = {v: i for i, v in enumerate(dict.fromkeys(values))}
    return np.array([distinct[v] for v in values], dtype=np.int32), list(distinct)


def write(gen: Path, chunks: Sequence[Chunk], hashes: Sequence[str]) -> None:
    """Write the chunk table of ``chunks`` (with their content hashes) into a generation folder."""
    if len(hashes) != len(chunks):
        raise ValueError(f"{len(chunks)} chunks but {len(hashes)} hashes")
    if any(len(h) != HASH_BYTES for h in hashes):
        raise ValueError(f"chunk hashes must be {HASH_BYTES} characters (store.chunk_hash)")
    folder = gen / FOLDER
    folder.mkdir()
    doc, doc_ids = _codes([c.doc_id for c in chunks])
    heading, headings = _codes([c.heading for c in chunks])
    text, text_offsets = _blob(c.text for c in chunks)
    gap, gap_offsets = _blob(c.gap_before for c in chunks)
    n_sents = np.zeros(len(chunks) + 1, dtype=np.int64)
    np.cumsum([len(c.sentences) for c in chunks], out=n_sents[1:])
    spans = np.array([(s.start, s.end) for c in chunks for s in c.sentences], dtype=np.int64).reshape(-1, 2)
    hash_array = np.array([h.encode("ascii") for h in hashes], dtype=f"S{HASH_BYTES}")
    columns = {
        "text": text, "text_offsets": text_offsets, "gap": gap, "gap_offsets": gap_offsets,
        "doc": doc, "heading": heading,
        "start": np.array([c.start for c in chunks], dtype=np.int64),
        "end": np.array([c.end for c in chunks], dtype=np.int64),
        "position": np.array([c.position for c in chunks], dtype=np.int32),
        "sentence_offsets": n_sents, "sentences": spans, "hashes": hash_array,
    }  # fmt: skip
    for name, array in columns.items():
        np.save(folder / f"{name}.npy", array, allow_pickle=False)
    (folder / "doc_ids.json").write_text(json.dumps(doc_ids, ensure_ascii=False), encoding="utf-8")
    (folder / "headings.json").write_text(json.dumps(headings, ensure_ascii=False), encoding="utf-8")


class ChunkHashes(Sequence[str]):
    """The content hashes of a table as a read-only sequence of str, decoded on access."""

    def __init__(self, array: np.ndarray) -> None:
        self._array = array

    def __len__(self) -> int:
        return len(self._array)

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> list[str]: ...
    def __getitem__(self, i):
        if isinstance(i, slice):
            return [h.decode("ascii") for h in self._array[i].tolist()]
        return self._array[i].decode("ascii")

    def __iter__(self) -> Iterator[str]:
        return (h.decode("ascii") for h in self._array.tolist())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]  # compares like the list it stands in for


class ChunkTable(Sequence[Chunk]):
    """A loaded chunk table: a read-only ``Sequence[Chunk]`` whose rows are built on access.

    ``doc_id``, ``rows_of`` and ``doc_rows`` answer the questions callers ask of every row
    without building a ``Chunk`` for each.
    """

    def __init__(self, folder: Path) -> None:
        def column(name: str) -> np.ndarray:
            # A plain ndarray view of the map: slicing a np.memmap subclass costs several times more.
            return np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False).view(np.ndarray)

        self._doc = column("doc")
        self._heading = column("heading")
        self._start = column("start")
        self._end = column("end")
        self._position = column("position")
        self._text_offsets = column("text_offsets")
        self._gap_offsets = column("gap_offsets")
        self._spans = column("sentences")
        self.sentence_offsets = column("sentence_offsets")
        self.hashes = ChunkHashes(column("hashes"))
        # The text is most of the table and a question quotes a few dozen scattered rows of it:
        # memory-mapped, each read faulted its neighbours in too, and after some hundred questions
        # the whole corpus text counted as resident memory (qa/rowfile.py). Read on demand instead.
        self._text = RowFile(folder / "text.npy")
        # memoryview slices decode straight to str, without an intermediate array object.
        self._gap = memoryview(column("gap"))
        self.doc_ids: list[str] = json.loads((folder / "doc_ids.json").read_text(encoding="utf-8"))
        self.headings: list[str] = json.loads((folder / "headings.json").read_text(encoding="utf-8"))
        self._check(folder)
        self._doc_index: dict[str, int] | None = None

    def _check(self, folder: Path) -> None:
        """Columns that disagree raise ValueError (the loader reports it as a damaged index).

        Only small columns are scanned (a few bytes per chunk), never the text: a load stays
        fast and the text stays out of memory until it is quoted.
        """
        n = len(self._doc)
        ok = (
            isinstance(self.doc_ids, list) and isinstance(self.headings, list)
            and all(isinstance(v, str) for v in [*self.doc_ids, *self.headings])
            and self._doc.ndim == 1
            and self._doc.dtype == np.int32 and self._heading.dtype == np.int32
            and self._position.dtype == np.int32 and self.hashes._array.dtype == np.dtype(f"S{HASH_BYTES}")
            and all(a.dtype == np.int64 for a in (self._start, self._end, self._text_offsets,
                                                 self._gap_offsets, self._spans, self.sentence_offsets))
            and self._text.dtype == np.uint8 and self._text.ndim == 1
            and self._gap.format == "B" and self._gap.ndim == 1
            and all(a.shape == (n,) for a in (self._heading, self._start, self._end, self._position,
                                              self.hashes._array))
            and all(a.shape == (n + 1,) for a in (self._text_offsets, self._gap_offsets, self.sentence_offsets))
            and self._spans.ndim == 2 and self._spans.shape[1] == 2
            and _bounds(self._doc, len(self.doc_ids)) and _bounds(self._heading, len(self.headings))
            and _offsets(self._text_offsets, len(self._text)) and _offsets(self._gap_offsets, len(self._gap))
            and _offsets(self.sentence_offsets, len(self._spans))
        )  # fmt: skip
        if not ok:
            raise ValueError(f"the chunk table in {folder} is inconsistent")

    def __len__(self) -> int:
        return len(self._doc)

    @overload
    def __getitem__(self, i: int) -> Chunk: ...
    @overload
    def __getitem__(self, i: slice) -> list[Chunk]: ...
    def __getitem__(self, i):
        if isinstance(i, slice):
            return self.take(range(len(self))[i])
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"chunk row {i} out of range ({n} rows)")
        return self.take([i % n])[0]

    def __iter__(self) -> Iterator[Chunk]:
        for lo in range(0, len(self), 4096):
            yield from self.take(range(lo, min(len(self), lo + 4096)))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and len(self) == len(other) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    def take(self, rows: Iterable[int] | np.ndarray) -> list[Chunk]:
        """The chunks of ``rows``, built in one pass (much cheaper than one ``table[i]`` each)."""
        rows = np.asarray(rows if isinstance(rows, np.ndarray) else list(rows), dtype=np.int64)
        if rows.size and (rows.min() < 0 or rows.max() >= len(self)):
            raise IndexError(f"chunk rows out of range ({len(self)} rows)")
        # Columns gathered as Python ints once: indexing numpy per field costs more than the Chunk.
        doc, heading = self._doc[rows].tolist(), self._heading[rows].tolist()
        start, end, position = (
            self._start[rows].tolist(),
            self._end[rows].tolist(),
            self._position[rows].tolist(),
        )
        t0 = self._text_offsets[rows]
        sizes = self._text_offsets[rows + 1] - t0
        # Every row's text in one read per run of adjacent rows; row j's is raw[cut[j]:cut[j + 1]].
        raw = memoryview(self._text.spans(t0, sizes))
        cut = np.concatenate([[0], np.cumsum(sizes)]).tolist()
        g0, g1 = self._gap_offsets[rows].tolist(), self._gap_offsets[rows + 1].tolist()
        first = self.sentence_offsets[rows]
        counts = self.sentence_offsets[rows + 1] - first
        # Every wanted sentence span in one gather: row j's are flat[ends[j] - counts[j]:ends[j]].
        ends = np.cumsum(counts)
        where = np.repeat(first - (ends - counts), counts) + np.arange(int(ends[-1]) if len(ends) else 0)
        gap, doc_ids, headings = self._gap, self.doc_ids, self.headings
        with _no_gc(len(rows)):
            flat = [Sentence(a, b) for a, b in self._spans[where].tolist()]
            ends_, counts_ = ends.tolist(), counts.tolist()
            return [
                Chunk(
                    doc_ids[doc[j]],
                    start[j],
                    end[j],
                    str(raw[cut[j] : cut[j + 1]], "utf-8"),
                    headings[heading[j]],
                    tuple(flat[ends_[j] - counts_[j] : ends_[j]]),
                    position[j],
                    str(gap[g0[j] : g1[j]], "utf-8"),
                )  # fmt: skip
                for j in range(len(rows))
            ]

    def doc_id(self, row: int) -> str:
        """The document of a row, without building its chunk."""
        return self.doc_ids[int(self._doc[row])]

    def rows_of(self, doc_ids: Iterable[str]) -> np.ndarray:
        """The rows (int64, ascending) of the chunks of these documents; unknown ids match nothing."""
        if self._doc_index is None:
            self._doc_index = {d: i for i, d in enumerate(self.doc_ids)}
        codes = [self._doc_index[d] for d in set(doc_ids) if d in self._doc_index]
        return np.flatnonzero(np.isin(self._doc, codes)).astype(np.int64)

    def doc_rows(self) -> dict[str, np.ndarray]:
        """Every document's rows (ascending), in one vectorized pass over the doc column."""
        if not len(self):
            return {}
        order = np.argsort(self._doc, kind="stable")
        codes = self._doc[order]
        cuts = np.flatnonzero(np.diff(codes)) + 1
        firsts = codes[np.concatenate([[0], cuts])].tolist()
        return {self.doc_ids[c]: rows for c, rows in zip(firsts, np.split(order, cuts), strict=True)}

    def embed_text(self, row: int) -> str:
        """The embedded text of a row (heading, then text), without building its chunk."""
        start, end = int(self._text_offsets[row]), int(self._text_offsets[row + 1])
        text = str(memoryview(self._text.spans([start], [end - start])), "utf-8")
        heading = self.headings[int(self._heading[row])]
        return f"{heading}\n{text}" if heading else text


@contextmanager
def _no_gc(n: int) -> Iterator[None]:
    """Pause the cyclic garbage collector while many chunks are built at once.

    Chunks and sentences hold no cycles, yet every few hundred new objects the collector walks
    the heap; building 100k chunks took 3x as long with it running.
    """
    paused = n > 1000 and gc.isenabled()
    if paused:
        gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def _bounds(codes: np.ndarray, size: int) -> bool:
    return codes.size == 0 or (int(codes.min()) >= 0 and int(codes.max()) < size)


def _offsets(offsets: np.ndarray, total: int) -> bool:
    """Offsets start at 0, never decrease and end at the length of what they index."""
    return offsets[0] == 0 and offsets[-1] == total and bool(np.all(offsets[1:] >= offsets[:-1]))
