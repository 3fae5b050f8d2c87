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
from dataclasses import dataclass
from pathlib import Path
from typing import overload

import numpy as np

from .ragged import span_positions
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


@dataclass
class Rows:
    """The columns of some chunks, row after row, before they are laid out as files.

    Ragged columns (text, gap, sentence spans) are their values one after another plus each
    row's count.
    """

    doc: list[str]
    heading: list[str]
    text: np.ndarray  # uint8
    text_len: np.ndarray
    gap: np.ndarray  # uint8
    gap_len: np.ndarray
    start: np.ndarray
    end: np.ndarray
    position: np.ndarray
    spans: np.ndarray  # (n_sentences, 2) int64
    n_sents: np.ndarray

    @classmethod
    def of(cls, chunks: Sequence[Chunk]) -> Rows:
        text, text_offsets = _blob(c.text for c in chunks)
        gap, gap_offsets = _blob(c.gap_before for c in chunks)
        return cls(
            doc=[c.doc_id for c in chunks],
            heading=[c.heading for c in chunks],
            text=text, text_len=np.diff(text_offsets), gap=gap, gap_len=np.diff(gap_offsets),
            start=np.array([c.start for c in chunks], dtype=np.int64),
            end=np.array([c.end for c in chunks], dtype=np.int64),
            position=np.array([c.position for c in chunks], dtype=np.int32),
            spans=np.array([(s.start, s.end) for c in chunks for s in c.sentences], dtype=np.int64).reshape(-1, 2),
            n_sents=np.array([len(c.sentences) for c in chunks], dtype=np.int64),
        )  # fmt: skip

    @classmethod
    def interleave(cls, is_new: np.ndarray, kept: Rows, new: Rows) -> Rows:
        """The rows of ``kept`` and ``new``, each in its own order, placed where ``is_new`` says."""
        order = np.flatnonzero(~is_new), np.flatnonzero(is_new)

        def strings(a: list[str], b: list[str]) -> list[str]:
            out = [""] * len(is_new)
            for rows, values in zip(order, (a, b), strict=True):
                for i, v in zip(rows.tolist(), values, strict=True):
                    out[i] = v
            return out

        def fixed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            out = np.empty((len(is_new), *a.shape[1:]), dtype=a.dtype)
            out[order[0]], out[order[1]] = a, b
            return out

        def ragged(a: np.ndarray, b: np.ndarray, lengths: np.ndarray) -> np.ndarray:
            # Copied run by run (a run: rows in a row from one side); a re-index has a few runs.
            out = np.empty((int(lengths.sum()), *a.shape[1:]), dtype=a.dtype)
            cuts = np.concatenate([[0], np.flatnonzero(np.diff(is_new.astype(np.int8))) + 1, [len(is_new)]])
            at = np.concatenate([[0], np.cumsum(lengths)]).tolist()
            taken = [0, 0]
            for lo, hi in zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True):
                side = int(is_new[lo])
                size = at[hi] - at[lo]
                out[at[lo] : at[hi]] = (a, b)[side][taken[side] : taken[side] + size]
                taken[side] += size
            return out

        text_len, gap_len = fixed(kept.text_len, new.text_len), fixed(kept.gap_len, new.gap_len)
        n_sents = fixed(kept.n_sents, new.n_sents)
        return cls(
            doc=strings(kept.doc, new.doc), heading=strings(kept.heading, new.heading),
            text=ragged(kept.text, new.text, text_len), text_len=text_len,
            gap=ragged(kept.gap, new.gap, gap_len), gap_len=gap_len,
            start=fixed(kept.start, new.start), end=fixed(kept.end, new.end),
            position=fixed(kept.position, new.position),
            spans=ragged(kept.spans, new.spans, n_sents), n_sents=n_sents,
        )  # fmt: skip


def _offsets_of(lengths: np.ndarray) -> np.ndarray:
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return offsets


def write(gen: Path, chunks: Sequence[Chunk], hashes: Sequence[str]) -> None:
    """Write the chunk table of ``chunks`` (with their content hashes) into a generation folder.

    A ``Merged`` sequence (a re-index: rows of the previous table and a few new chunks) is
    written from the previous table's columns, without building a Chunk for each kept row.
    """
    if len(hashes) != len(chunks):
        raise ValueError(f"{len(chunks)} chunks but {len(hashes)} hashes")
    if hashes and set(map(len, hashes)) != {HASH_BYTES}:
        raise ValueError(f"chunk hashes must be {HASH_BYTES} characters (store.chunk_hash)")
    folder = gen / FOLDER
    folder.mkdir()
    rows = chunks.rows() if isinstance(chunks, Merged) else Rows.of(chunks)
    doc, doc_ids = _codes(rows.doc)
    heading, headings = _codes(rows.heading)
    hash_array = np.array([h.encode("ascii") for h in hashes], dtype=f"S{HASH_BYTES}")
    columns = {
        "text": rows.text, "text_offsets": _offsets_of(rows.text_len), "gap": rows.gap,
        "gap_offsets": _offsets_of(rows.gap_len), "doc": doc, "heading": heading,
        "start": rows.start, "end": rows.end, "position": rows.position,
        "sentence_offsets": _offsets_of(rows.n_sents), "sentences": rows.spans, "hashes": hash_array,
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

    def rows(self, rows: np.ndarray) -> Rows:
        """The columns of ``rows`` (in that order), gathered without building a Chunk."""
        rows = np.asarray(rows, dtype=np.int64)
        t0 = self._text_offsets[rows]
        text_len = self._text_offsets[rows + 1] - t0
        g0 = self._gap_offsets[rows]
        gap_len = self._gap_offsets[rows + 1] - g0
        first = self.sentence_offsets[rows]
        n_sents = self.sentence_offsets[rows + 1] - first
        gap = np.frombuffer(self._gap, dtype=np.uint8)
        return Rows(
            doc=[self.doc_ids[c] for c in self._doc[rows].tolist()],
            heading=[self.headings[c] for c in self._heading[rows].tolist()],
            text=self._text.spans(t0, text_len), text_len=text_len,
            gap=gap[span_positions(g0, gap_len)], gap_len=gap_len,
            start=self._start[rows], end=self._end[rows], position=self._position[rows],
            spans=self._spans[span_positions(first, n_sents)].reshape(-1, 2), n_sents=n_sents,
        )  # fmt: skip

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


class Merged(Sequence[Chunk]):
    """A build's chunks in corpus order: rows kept from the previous table, and new chunks.

    A kept row stays a row of the previous table: its Chunk is built only when asked for, and
    ``write`` lays the table out from the previous columns. Re-indexing one document of 31k
    chunks built a Chunk for every row, then took each apart again to write it: 0.3 s of ~1.2.
    """

    def __init__(self, table: ChunkTable | None, origin: np.ndarray, new: dict[int, Chunk]) -> None:
        self.table = table
        self.origin = np.asarray(origin, dtype=np.int64)  # the previous row of each, -1 if new
        self.new = new  # position -> chunk, for every row whose origin is -1
        if table is None and np.any(self.origin >= 0):
            raise ValueError("kept rows need the table they come from")
        if len(new) != int(np.count_nonzero(self.origin < 0)):
            raise ValueError("every row must be kept or new")
        kept = np.flatnonzero(self.origin >= 0)
        self.n_sentences = np.zeros(len(self.origin), dtype=np.int64)
        if len(kept):
            offsets, rows = table.sentence_offsets, self.origin[kept]
            self.n_sentences[kept] = offsets[rows + 1] - offsets[rows]
        self.n_sentences[list(new)] = [len(c.sentences) for c in new.values()]

    def __len__(self) -> int:
        return len(self.origin)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return self.take(range(len(self))[i])
        i = range(len(self))[i]  # bounds and negative indices, as a list has them
        chunk = self.new.get(i)
        return chunk if chunk is not None else self.table.take([int(self.origin[i])])[0]

    def __iter__(self) -> Iterator[Chunk]:
        kept = self.origin[self.origin >= 0]
        built = iter(self.table.take(kept) if len(kept) else [])
        for i in range(len(self)):
            yield self.new[i] if i in self.new else next(built)

    def take(self, positions: Iterable[int]) -> list[Chunk]:
        """The chunks at these positions, kept ones built from the table in one pass."""
        positions = list(positions)
        kept = [int(self.origin[i]) for i in positions if i not in self.new]
        built = iter(self.table.take(kept) if kept else [])
        return [self.new[i] if i in self.new else next(built) for i in positions]

    def embed_text(self, i: int) -> str:
        chunk = self.new.get(i)
        return chunk.embed_text if chunk is not None else self.table.embed_text(int(self.origin[i]))

    def embed_texts(self) -> Sequence[str]:
        """Every row's embedded text, as a sequence that reads a kept row's only when indexed."""
        return _EmbedTexts(self)

    def rows(self) -> Rows:
        """All rows' columns: the kept ones gathered from the table, the new ones from their chunks."""
        is_new = self.origin < 0
        new = Rows.of([self.new[i] for i in np.flatnonzero(is_new).tolist()])
        if self.table is None:
            return new
        return Rows.interleave(is_new, self.table.rows(self.origin[~is_new]), new)


class _EmbedTexts(Sequence[str]):
    def __init__(self, merged: Merged) -> None:
        self._merged = merged

    def __len__(self) -> int:
        return len(self._merged)

    def __getitem__(self, i):  # type: ignore[override]  # ints only: what token_ids asks
        return self._merged.embed_text(range(len(self._merged))[i])


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
