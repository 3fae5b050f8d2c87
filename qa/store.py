"""The index folder on disk: FAISS + chunk table + vectors + BM25 + manifest.

Layout::

    index/
      CURRENT          name of the live generation, replaced atomically
      gen-<id>/        one complete, checksummed index
        manifest.json  format, settings, model and dimension, documents, file checksums
        chunks/        the chunk table, in columns (qa/chunktable.py): row i describes vector i;
                       its text is read row by row on demand, like sentences.npy
        faiss.index    the vector search index; the kinds that keep every vector (float32 or
                       float16) also hold the chunk vectors that spare re-embedding
        faiss_slots.npy  each FAISS slot's chunk row (-1: a dead slot), when a re-index kept
                       the previous HNSW graph (qa/vectors.py RowIndex; format 5); optional
        vectors.npy    chunk vectors (float32), only for a FAISS kind that does not keep them
                       (hnsw_sq8)
        sentences.npy  sentence vectors as int8 codes, row order = chunk order, then sentence
        sentence_scale.npy  order, times one float32 scale per row (qa/quantize.py); the codes
                       are read row by row on demand (qa/rowfile.py), not memory-mapped
        bm25/          the keyword index (bm25s, no pickle)
        lexicon.txt    the vocabulary, one word a line
        lexicon.npy    one vector per word, for soft keyword matching: int8 codes, times the
        lexicon_scale.npy  one float32 scale per word (format 3; format 2 stored float16)
        lexicon_df.npy document (chunk) frequency per word
        bm25_tokens.npy, bm25_token_offsets.npy, bm25_vocab.txt
                       every chunk's BM25 token ids (qa/retrieval.py TokenIds): a cache that
                       spares the next build re-tokenizing unchanged chunks; optional
        sentence_words.npy, sentence_word_offsets.npy
                       every sentence's content-word ids (qa/lexicon.py SentenceWords), so
                       a question's re-scoring looks no word up; optional; ids read on demand

A build writes a new ``gen-*`` folder next to the live one and only then points CURRENT at it,
so a crash or a kill at any moment leaves the previous index whole. Nothing is unpickled.

The manifest records each file's size and sha256, and the file's stat identity (inode, mtime,
ctime) as it was once written. A load hashes only the files whose identity changed since: any
write, truncation, ``touch``, copy or replacement changes it, so damage is still found, and an
untouched index of 100k chunks loads without reading hundreds of MB first.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from . import chunktable
from .chunktable import ChunkHashes, ChunkTable
from .errors import IndexCorrupt, IndexMismatch, IndexWriteError, QAError
from .lexicon import WORD_FILES, Lexicon, SentenceWords
from .quantize import Int8Rows, quantize_rows
from .rowfile import RowFile
from .types import Chunk
from .vectors import KEEPS_VECTORS, IndexRows, IndexSpec, RowIndex, make_index, tune

# 2: the chunk table in columns (chunks/) instead of chunks.jsonl; file stat identities.
# 3: word vectors as int8 codes and per-word scales (lexicon_scale.npy) instead of float16:
#    half the bytes a question pages in. Format 2 is still read; builds write 3.
# 4: sentence vectors as int8 codes and per-row scales (sentence_scale.npy) instead of float16,
#    and no vectors.npy where the FAISS index keeps the vectors: a generation of 31k chunks
#    takes 113 MB instead of 191, which a build (even re-indexing one document) writes in full.
# 5: faiss_slots.npy, when a re-index kept the previous HNSW graph: its slots are no longer rows
#    (a reader of format 4 would take slots for rows).
FORMAT_VERSION = 5
READABLE_FORMATS = (2, 3, 4, 5)
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
# Threads that hash and fsync a new generation's files (see _Sealer).
SEAL_THREADS = 4


def import_bm25s() -> Any:
    """The bm25s module, imported without numba, and quiet.

    bm25s imports numba whenever it is installed (ranx, for evaluation, installs it) to offer a
    JIT backend this project never uses (it scores with ``get_scores``): that import alone cost
    0.2 s of every cold start and re-index and 40 MB of resident memory. ``None`` in
    ``sys.modules`` makes bm25s's guarded ``import numba`` fail as if it were absent; the entry is
    removed again at once, so ranx and anyone else can still import numba.
    """
    if "bm25s" not in sys.modules and "numba" not in sys.modules:
        sys.modules["numba"] = None  # type: ignore[assignment]
        try:
            import bm25s
        finally:
            if sys.modules.get("numba", 0) is None:
                del sys.modules["numba"]
    import bm25s

    # bm25s turns its own logger to DEBUG on import; its chatter is not the user's business.
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


def library_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("qa-quotes")
    except PackageNotFoundError:
        return "0+unknown"


@dataclass
class StoredIndex:
    """A loaded index generation; vectors are read by row on demand, not whole."""

    path: Path
    manifest: dict[str, Any]
    chunks: ChunkTable  # a read-only Sequence[Chunk], rows built on access
    chunk_hashes: ChunkHashes  # a read-only Sequence[str]
    # (n_chunks, dim), read as float32: from the FAISS index (IndexRows) or vectors.npy (mapped)
    vectors: np.ndarray | IndexRows
    # (n_sentences, dim), read as float32: int8 codes and scales (format 4), else float16
    sentence_vectors: Int8Rows | RowFile | np.ndarray
    sentence_offsets: np.ndarray  # chunk i's sentences are rows offsets[i]:offsets[i+1]
    faiss_index: RowIndex  # searched and read by chunk row
    bm25: Any
    lexicon: Lexicon

    @property
    def generation(self) -> str:
        return self.path.name

    @cached_property
    def bm25_tokens(self) -> Any:
        """Every chunk's BM25 token ids (qa.retrieval.TokenIds), read on first use; None if not stored."""
        from .retrieval import TOKEN_FILES, TokenIds

        if not all(name in self.manifest.get("files", {}) for name in TOKEN_FILES):
            return None  # written before the token cache existed
        return TokenIds.load(self.path, len(self.chunks))

    @cached_property
    def sentence_words(self) -> SentenceWords | None:
        """Every sentence's content-word ids, read on first use; None if not stored."""
        if not all(name in self.manifest.get("files", {}) for name in WORD_FILES):
            return None  # written before sentence words were stored
        return SentenceWords.load(self.path, len(self.sentence_vectors), len(self.lexicon.vocab))


def chunk_hash(chunk: Chunk) -> str:
    """Content key of a chunk's embedding: same text and heading, same vectors."""
    return hashlib.sha256(chunk.embed_text.encode("utf-8")).hexdigest()[:32]


def sha256_file(path: Path, *, sync: bool = False) -> str:
    """The file's sha256; with ``sync``, also flushed to disk (fsync) once read."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
        if sync:
            os.fsync(fh.fileno())
    return digest.hexdigest()


class _Sealer:
    """Hashes and fsyncs a new generation's files on threads while the next ones are written.

    hashlib, reads, writes and fsync release the GIL, so the threads overlap each other and the
    writing: profiling a re-index of the benchmark's 10,000-document corpus on 2 cores, sealing
    its 31k-chunk generation (then about 190 MB, format 3) took 0.13 s on four threads instead
    of 0.21 s one file at a time, after every file was written. ``add_written`` hands over the
    files written since its last call; each must be complete by then.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.pool = ThreadPoolExecutor(max_workers=SEAL_THREADS)
        self.pending: dict[Path, Any] = {}

    def add_written(self) -> None:
        for path in _files_of(self.folder):
            if path not in self.pending:
                self.pending[path] = self.pool.submit(sha256_file, path, sync=True)

    def sums(self) -> dict[Path, str]:
        """Every file's sha256, once all are on disk."""
        self.add_written()
        return {path: future.result() for path, future in self.pending.items()}

    def __enter__(self) -> _Sealer:
        return self

    def __exit__(self, *exc: object) -> None:
        # On an error too: no thread is still reading what the caller then removes.
        self.pool.shutdown(wait=True, cancel_futures=True)


def _identity(st: os.stat_result) -> dict[str, int]:
    """What changes whenever a file is written, truncated, touched, copied or replaced."""
    return {"ino": st.st_ino, "mtime_ns": st.st_mtime_ns, "ctime_ns": st.st_ctime_ns}


def _file_entry(path: Path, sha256: str) -> dict[str, Any]:
    st = path.stat()
    return {"size": st.st_size, "sha256": sha256, **_identity(st)}


def _write_manifest(tmp: Path, manifest: dict[str, Any]) -> None:
    """Write and fsync the manifest, stamped strictly later than every file it describes.

    File times have the granularity of the kernel's clock tick: a file changed in the same tick
    as it was recorded would keep its mtime and ctime. Like git's "racily clean" rule, load
    trusts an identity only when it is older than the manifest, so the manifest is rewritten
    (for at most ~0.2 s, usually never) until its own time has moved past the newest file's.
    """
    newest = max((max(e["mtime_ns"], e["ctime_ns"]) for e in manifest["files"].values()), default=0)
    # No indent: json's C encoder only runs without one, and a manifest listing 10,000
    # documents took a quarter of a second to write with it (`python -m json.tool` shows it).
    text = json.dumps(manifest, ensure_ascii=False)
    path = tmp / MANIFEST
    for _ in range(100):
        path.write_text(text)
        if path.stat().st_mtime_ns > newest:
            break
        time.sleep(0.002)
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def _files_of(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST)


@contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """One writer at a time per index folder (across processes); readers never wait."""
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        fh = open(index_dir / ".lock", "w")
    except OSError as exc:  # a read-only folder: say so, not a traceback
        raise IndexWriteError(
            f"cannot write the index in {index_dir}: {exc.strerror or exc}. The previous index "
            "(if any) is unchanged; choose a writable --index-dir"
        ) from exc
    with fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def current_generation(index_dir: str | Path) -> Path | None:
    """The live generation folder, or None when no index has been built."""
    pointer = Path(index_dir) / CURRENT
    try:
        name = pointer.read_text().strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise IndexCorrupt(f"cannot read {pointer}: {exc}; run `qa build --rebuild`") from exc
    if not name.startswith("gen-") or "/" in name:
        raise IndexCorrupt(f"{pointer} is damaged; run `qa build --rebuild`")
    return Path(index_dir) / name


def save(
    index_dir: str | Path,
    *,
    manifest: dict[str, Any],
    chunks: Sequence[Chunk],
    hashes: Sequence[str],
    vectors: np.ndarray,
    sentence_vectors: Int8Rows | np.ndarray,
    bm25: Any,
    lexicon: Lexicon,
    bm25_tokens: Any = None,
    sentence_words: SentenceWords | None = None,
    faiss_index: RowIndex | None = None,
) -> Path:
    """Write a new generation and make it live; the previous one stays whole until then.

    The FAISS index is built from ``vectors`` as the manifest's spec says, unless one is given
    (the previous graph brought up to date: ``vectors.updated_graph``).

    Returns:
        The folder of the new generation.
    """
    import faiss

    index_dir = Path(index_dir)
    gen = index_dir / f"gen-{time.time_ns():020d}-{os.getpid()}"
    tmp = index_dir / f".tmp-{gen.name}"
    pointer_tmp = index_dir / f".{CURRENT}.tmp-{os.getpid()}"
    replaced = live_name(index_dir)
    try:
        tmp.mkdir(parents=True)
        # Each file is hashed and synced while the next ones are written.
        with _Sealer(tmp) as sealer:
            chunktable.write(tmp, chunks, hashes)
            sealer.add_written()
            spec = IndexSpec.from_manifest(manifest.get("faiss"))
            if spec.kind not in KEEPS_VECTORS:  # the FAISS index cannot give them back
                np.save(tmp / "vectors.npy", np.ascontiguousarray(vectors, dtype=np.float32))
            if not isinstance(sentence_vectors, Int8Rows):
                sentence_vectors = Int8Rows.of(sentence_vectors)
            np.save(tmp / "sentences.npy", np.ascontiguousarray(sentence_vectors.codes, dtype=np.int8))
            np.save(
                tmp / "sentence_scale.npy", np.ascontiguousarray(sentence_vectors.scales, dtype=np.float32)
            )
            sealer.add_written()
            # Flat or HNSW, as the indexer chose and recorded in the manifest (qa/vectors.py).
            findex = faiss_index if faiss_index is not None else RowIndex(make_index(vectors, spec))
            faiss.write_index(findex.index, str(tmp / "faiss.index"))
            if findex.slot_rows is not None:
                np.save(tmp / SLOTS, findex.slot_rows)
            sealer.add_written()
            bm25.save(str(tmp / "bm25"), show_progress=False)
            if bm25_tokens is not None:  # qa.retrieval.TokenIds: spares the next build re-tokenizing
                bm25_tokens.save(tmp)
            if sentence_words is not None:  # spares each question looking words up
                sentence_words.save(tmp)
            sealer.add_written()
            (tmp / "lexicon.txt").write_text("".join(w + "\n" for w in lexicon.vocab), encoding="utf-8")
            codes, scales = (
                (lexicon.vectors, lexicon.scales)
                if lexicon.scales is not None
                else quantize_rows(lexicon.vectors)
            )
            np.save(tmp / "lexicon.npy", np.ascontiguousarray(codes, dtype=np.int8))
            np.save(tmp / "lexicon_scale.npy", np.ascontiguousarray(scales, dtype=np.float32))
            np.save(tmp / "lexicon_df.npy", np.ascontiguousarray(lexicon.df, dtype=np.int32))
            sums = sealer.sums()
        # What this function writes is this version's format, whatever the caller's manifest
        # (a copy of an older one, say) says.
        manifest = {**manifest, "format_version": FORMAT_VERSION}
        # The generation this one replaces stays on disk one round longer (see collect_garbage).
        manifest["replaces"] = replaced
        files = sorted(sums)
        # Stat identities taken last, once nothing more is written to the files.
        manifest["files"] = {p.relative_to(tmp).as_posix(): _file_entry(p, sums[p]) for p in files}
        _write_manifest(tmp, manifest)
        os.rename(tmp, gen)
        pointer_tmp.write_text(gen.name + "\n")
        with open(pointer_tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(pointer_tmp, index_dir / CURRENT)
    except (OSError, RuntimeError) as exc:  # faiss reports a failed write as a RuntimeError
        _discard(index_dir, tmp, gen, pointer_tmp)
        raise IndexWriteError(
            f"cannot write the index in {index_dir}: {getattr(exc, 'strerror', None) or exc}. The "
            "previous index (if any) is unchanged; free some space or choose a writable --index-dir"
        ) from exc
    except BaseException:
        _discard(index_dir, tmp, gen, pointer_tmp)
        raise
    _fsync_dir(index_dir)
    _collect_garbage(index_dir, keep={gen.name, replaced or gen.name})
    return gen


def live_name(index_dir: str | Path) -> str | None:
    """The name of the live generation; None when there is none or CURRENT is damaged."""
    try:
        live = current_generation(index_dir)
    except IndexCorrupt:
        return None
    return live.name if live else None


def _discard(index_dir: Path, tmp: Path, gen: Path, pointer_tmp: Path) -> None:
    """Remove what a failed save wrote, unless CURRENT already points at it."""
    shutil.rmtree(tmp, ignore_errors=True)
    if live_name(index_dir) != gen.name:
        shutil.rmtree(gen, ignore_errors=True)
    try:
        pointer_tmp.unlink(missing_ok=True)
    except OSError:
        pass


def _fsync_dir(folder: Path) -> None:
    """Make the renames in a folder durable (a power cut, not only a crash); best effort."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def collect_garbage(index_dir: str | Path) -> None:
    """Finish the cleanup of a build killed after its generation went live; call under build_lock.

    Keeps the live generation and the one it replaced (named in its manifest).
    """
    index_dir = Path(index_dir)
    live = live_name(index_dir)
    if live is None:
        return  # nothing to measure "stale" against: leave everything as it is
    try:
        replaced = read_manifest(index_dir / live).get("replaces")
    except QAError:
        return
    _collect_garbage(index_dir, {live, replaced or live})


def _collect_garbage(index_dir: Path, keep: set[str]) -> None:
    """Remove the generations not in ``keep`` and the leftovers of interrupted builds.

    ``keep`` is the new live generation and the one it replaced (kept one round longer, for
    readers that were opening it). Any other generation is either older or an orphan whose
    build died before CURRENT pointed at it; half-written ``.tmp-gen-*`` folders and
    ``.CURRENT.tmp-*`` pointers are what a killed build leaves. Runs under ``build_lock``, so
    none of them belongs to a build in progress.
    """
    stale = [p for p in index_dir.glob("gen-*") if p.name not in keep]
    for p in [*stale, *index_dir.glob(".tmp-gen-*")]:
        shutil.rmtree(p, ignore_errors=True)
    for p in index_dir.glob(f".{CURRENT}.tmp-*"):
        try:
            p.unlink(missing_ok=True)
        except OSError:
            pass


def read_manifest(gen: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((gen / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"the index manifest in {gen} cannot be read ({exc})") from exc
    if not isinstance(manifest, dict):
        raise IndexCorrupt(f"the index manifest in {gen} is damaged; run `qa build --rebuild`")
    version = manifest.get("format_version")
    if type(version) is not int or version not in READABLE_FORMATS:
        raise IndexMismatch(
            f"the index in {gen} has format {manifest.get('format_version')!r}, this version "
            f"reads formats {', '.join(map(str, READABLE_FORMATS))}; run `qa build --rebuild`"
        )
    return manifest


# Each FAISS slot's chunk row (-1: dead), when a re-index kept the previous graph (vectors.RowIndex).
SLOTS = "faiss_slots.npy"
# Files every generation has; a manifest that does not list them all (with checksums) would let
# a swapped or hand-made manifest skip the checks.
REQUIRED_FILES = (
    *chunktable.FILES, "sentences.npy", "faiss.index", "lexicon.txt", "lexicon.npy", "lexicon_df.npy",
)  # fmt: skip


def _required(manifest: dict[str, Any]) -> list[str]:
    """The files a generation of this manifest's format and FAISS kind must list."""
    version = manifest["format_version"]
    keeps = IndexSpec.from_manifest(manifest.get("faiss")).kind in KEEPS_VECTORS
    return [
        *REQUIRED_FILES,
        *(["lexicon_scale.npy"] if version >= 3 else []),
        *(["sentence_scale.npy"] if version >= 4 else []),
        *(["vectors.npy"] if version < 4 or not keeps else []),
    ]


def verify(gen: Path, manifest: dict[str, Any]) -> None:
    """Check every file against the manifest's sizes and checksums.

    A file whose stat identity is the one recorded when it was written has not been written
    since, and is not hashed again (see ``_unchanged``).
    """
    files = manifest.get("files")
    if (
        not isinstance(files, dict)
        or any(name not in files for name in _required(manifest))
        or not any(name.startswith("bm25/") for name in files)
    ):
        raise IndexCorrupt(f"the index manifest in {gen} does not list its files; run `qa build --rebuild`")
    try:
        manifest_mtime = (gen / MANIFEST).stat().st_mtime_ns
    except OSError as exc:
        raise IndexCorrupt(f"the index manifest in {gen} cannot be read ({exc.strerror})") from exc
    for name, meta in files.items():
        path = gen / name
        if not isinstance(meta, dict) or ".." in Path(name).parts or Path(name).is_absolute():
            raise IndexCorrupt(f"the index manifest in {gen} is damaged; run `qa build --rebuild`")
        try:
            st = path.stat()
        except OSError as exc:
            raise IndexCorrupt(f"index file {path} is missing ({exc.strerror})") from exc
        if st.st_size != meta.get("size") or (
            not _unchanged(st, meta, manifest_mtime) and sha256_file(path) != meta.get("sha256")
        ):
            raise IndexCorrupt(f"index file {path} is damaged (checksum mismatch)")


def _unchanged(st: os.stat_result, meta: dict[str, Any], manifest_mtime: int) -> bool:
    """Whether a file is provably the one hashed at save: same inode, mtime and ctime.

    A recorded time not older than the manifest could hide a change made in the same clock
    tick; such a file (and any entry without an identity, e.g. a hand-edited manifest) is hashed.
    """
    recorded = {key: meta.get(key) for key in ("ino", "mtime_ns", "ctime_ns")}
    return recorded == _identity(st) and st.st_mtime_ns < manifest_mtime and st.st_ctime_ns < manifest_mtime


def load(index_dir: str | Path, *, generation: str | None = None) -> StoredIndex | None:
    """Load and check the live generation (or another one); None when nothing was built yet.

    Raises:
        IndexCorrupt: a file is missing or altered.
        IndexMismatch: the index is of another format version.
    """
    import faiss

    bm25s = import_bm25s()
    gen = Path(index_dir) / generation if generation else current_generation(index_dir)
    if gen is None:
        return None
    manifest = read_manifest(gen)
    verify(gen, manifest)
    try:
        chunks = ChunkTable(gen / chunktable.FOLDER)
        raw = faiss.read_index(str(gen / "faiss.index"))
        tune(raw, IndexSpec.from_manifest(manifest.get("faiss")))
        slots = np.load(gen / SLOTS, allow_pickle=False) if SLOTS in manifest["files"] else None
        findex = RowIndex(raw, slots)
        vectors: np.ndarray | IndexRows = (
            np.load(gen / "vectors.npy", mmap_mode="r", allow_pickle=False)
            if "vectors.npy" in manifest["files"]
            else IndexRows(raw, findex.row_slots)
        )
        # Sampled sparsely by each question: read, not mapped.
        sent_vectors: Int8Rows | RowFile = RowFile(gen / "sentences.npy")
        if manifest["format_version"] >= 4:
            sent_vectors = Int8Rows(sent_vectors, np.load(gen / "sentence_scale.npy", allow_pickle=False))
        bm25 = bm25s.BM25.load(str(gen / "bm25"), mmap=True, allow_pickle=False)
        vocab = (gen / "lexicon.txt").read_text(encoding="utf-8").splitlines()
        word_vectors = np.load(gen / "lexicon.npy", mmap_mode="r", allow_pickle=False)
        scales = None
        if manifest["format_version"] >= 3:
            scales = np.load(gen / "lexicon_scale.npy", allow_pickle=False)
            if word_vectors.dtype != np.int8 or scales.shape != (len(word_vectors),):
                raise ValueError("word vectors and their scales do not match")
        lexicon = Lexicon(
            vocab, word_vectors, np.load(gen / "lexicon_df.npy", allow_pickle=False), len(chunks), scales
        )
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError, RuntimeError) as exc:
        raise IndexCorrupt(f"the index in {gen} cannot be read ({exc})") from exc
    _check_dimensions(gen, manifest, [vectors, sent_vectors, lexicon.vectors], findex.d)
    offsets = chunks.sentence_offsets
    if not (
        len(chunks) == vectors.shape[0] == findex.ntotal
        and offsets[-1] == len(sent_vectors)
        and len(lexicon.vocab) == len(lexicon.vectors) == len(lexicon.df)
    ):
        raise IndexCorrupt(f"the index in {gen} is inconsistent (row counts differ)")
    return StoredIndex(
        gen, manifest, chunks, chunks.hashes, vectors, sent_vectors, offsets, findex, bm25, lexicon
    )


def _check_dimensions(
    gen: Path, manifest: dict[str, Any], arrays: list[np.ndarray | RowFile], faiss_dim: int
) -> None:
    """Every vector file and the FAISS index have the dimension of the manifest's model.

    A manifest taken from an index of another model would otherwise load, and the first
    question would fail inside FAISS.
    """
    model = manifest.get("model")
    claimed = model.get("dim") if isinstance(model, dict) else None
    found = {a.shape[1] if a.ndim == 2 else -1 for a in arrays} | {faiss_dim}
    if found != {claimed}:
        raise IndexCorrupt(
            f"the index in {gen} is inconsistent: its manifest claims vectors of dimension "
            f"{claimed!r} (model {model.get('id') if isinstance(model, dict) else None!r}), its "
            f"files hold {sorted(found)}; run `qa build --rebuild`"
        )
