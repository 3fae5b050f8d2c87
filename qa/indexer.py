"""Build or update the index of a corpus folder, re-embedding only what changed."""

from __future__ import annotations

import gc
import logging
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import store
from .chunking import chunk_document
from .chunktable import Merged
from .documents import SUPPORTED, FileStat, Skipped, read_document, scan
from .embedding import Embedder, get_embedder
from .errors import EmptyCorpus, QAError
from .journal import Journal
from .journal import discard as discard_journal
from .lexicon import Lexicon, SentenceWords, words_key
from .quantize import Int8Rows, float32_rows, quantize_rows
from .ragged import span_positions
from .retrieval import TokenIds, bm25_from_ids, token_ids, tokens_key
from .settings import Settings
from .types import Chunk
from .vectors import KEEPS_VECTORS, IndexSpec, updated_graph
from .vectors import choose as choose_index

log = logging.getLogger("qa")


@dataclass(frozen=True)
class BuildReport:
    """What a build did."""

    documents: int
    chunks: int
    embedded: int  # chunks whose vectors were computed now (or by an interrupted build: resumed)
    reused: int  # chunks whose vectors came from the previous index
    removed: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0
    generation: str = ""
    changed: bool = True  # False when the index was already up to date
    duplicates: list[list[str]] = field(default_factory=list)  # documents with the same content
    resumed: int = 0  # of the embedded chunks, those an interrupted build had embedded (qa/journal.py)


def _previous(index_dir: Path) -> tuple[store.StoredIndex | None, bool]:
    """The index to build on and whether it is the live one.

    When the live generation is damaged, the one it replaced (kept on disk) or an older whole
    one is the next best basis: only what changed since has to be embedded again.
    """
    try:
        return store.load(index_dir), True
    except QAError as exc:
        log.warning("the existing index cannot be reused (%s)", exc)
    for gen in sorted(index_dir.glob("gen-*"), reverse=True):
        try:
            older = store.load(index_dir, generation=gen.name)
        except QAError:
            continue
        log.warning("rebuilding from the previous generation %s", gen.name)
        return older, False
    log.warning("rebuilding from scratch")
    return None, False


def _unsupported_then(entry: dict, doc_id: str) -> bool:
    """Whether a file was skipped for its type, which this version now reads."""
    reason = entry.get("reason", "")
    return reason.startswith("unsupported file type") and Path(doc_id).suffix.lower() in SUPPORTED


def plan(
    stats: list[FileStat], previous: store.StoredIndex | None, settings: Settings
) -> tuple[dict[str, dict], list[str]]:
    """Which documents can keep their previous chunks (by size and mtime) and which must be read.

    Returns:
        The previous manifest entries still valid, keyed by document id, and the ids to read.
    """
    if previous is None or previous.manifest.get("settings_key") != settings.index_key():
        return {}, [s.doc_id for s in stats]
    known = {**previous.manifest.get("skipped", {}), **previous.manifest.get("documents", {})}
    keep, read = {}, []
    for s in stats:
        entry = known.get(s.doc_id)
        if entry and _unsupported_then(entry, s.doc_id):
            read.append(s.doc_id)  # skipped by a version that could not read its type
        elif entry and entry["size"] == s.size and entry["mtime_ns"] == s.mtime_ns:
            keep[s.doc_id] = entry
        else:
            read.append(s.doc_id)
    return keep, read


def is_current(seeds_dir: str | Path, index: store.StoredIndex, settings: Settings) -> bool:
    """True when the index reflects the corpus folder and the settings (by size and mtime)."""
    stats = scan(seeds_dir, exclude=[index.path.parent])
    keep, read = plan(stats, index, settings)
    known = set(index.manifest.get("documents", {})) | set(index.manifest.get("skipped", {}))
    return not read and known == {s.doc_id for s in stats}


def build_index(
    seeds_dir: str | Path = "seeds",
    index_dir: str | Path = "index",
    *,
    settings: Settings | None = None,
    rebuild: bool = False,
    progress: bool = True,
    embedder: Embedder | None = None,
    vector_index: str | None = None,
) -> BuildReport:
    """Bring the index of a corpus folder up to date.

    Unchanged documents keep their chunks; chunks whose text is unchanged keep their vectors;
    only the rest is embedded. The new index replaces the old one atomically. Vectors embedded
    by a build that was interrupted before it saved are taken from its journal (qa/journal.py).

    Args:
        seeds_dir: the corpus folder (searched recursively).
        index_dir: where the index lives.
        settings: chunking and model settings (defaults when None).
        rebuild: ignore the previous index (and an interrupted build's journal) and embed
            everything again.
        progress: show a progress bar while embedding.
        embedder: a custom embedder (defaults to the sentence-transformers model of settings).
        vector_index: the FAISS index type, "auto" (exact float16 scan up to a size, then HNSW)
            or a kind of qa/vectors.py ("flat", "flat_fp16", "hnsw", ...), optionally with
            parameters ("hnsw:efSearch=256"); None reads the
            ``QA_FAISS`` environment variable, else "auto". Recorded in the manifest.

    Returns:
        A BuildReport.
    """
    settings = settings or Settings()
    seeds_dir, index_dir = Path(seeds_dir), Path(index_dir)
    t0 = time.perf_counter()
    with store.build_lock(index_dir), _collector_paused():
        stats = scan(seeds_dir, exclude=[index_dir])
        previous, live = (None, False) if rebuild else _previous(index_dir)
        keep, to_read = plan(stats, previous, settings)
        same_key = previous is not None and previous.manifest.get("settings_key") == (settings.index_key())
        prev_docs = previous.manifest.get("documents", {}) if same_key else {}
        if (
            previous is not None
            and live  # an older generation standing in for a damaged one must be saved anew
            and not to_read
            and set(keep) == set(prev_docs | previous.manifest.get("skipped", {}))
        ):
            store.collect_garbage(index_dir)  # what a build killed after going live left behind
            discard_journal(index_dir)  # an interrupted build's vectors: none is needed now
            return BuildReport(
                len(prev_docs), len(previous.chunks), 0, len(previous.chunks),
                seconds=time.perf_counter() - t0, generation=previous.generation, changed=False,
            )  # fmt: skip

        # Each previous document's rows, from the table's doc column. A kept document stands in
        # ``parts`` as its rows; their chunks are built from the table in one pass below.
        by_doc = previous.chunks.doc_rows() if previous is not None else {}
        documents: dict[str, dict] = {}
        skipped: dict[str, dict] = {}
        skipped_list: list[Skipped] = []
        parts: list[list[Chunk] | np.ndarray] = []
        # Reading and chunking run at thousands of chunks a second: a bar only when there are
        # enough documents to wait for. (tqdm is imported here: answering never needs it.)
        from tqdm import tqdm

        reading = tqdm(
            total=len(to_read),
            desc="reading documents",
            unit="doc",
            disable=not progress or len(to_read) < 1000,
        )
        for s in stats:
            stamp = {"size": s.size, "mtime_ns": s.mtime_ns}
            entry = keep.get(s.doc_id)
            if entry is not None and "reason" in entry:
                skipped[s.doc_id] = entry
                skipped_list.append(Skipped(s.doc_id, entry["reason"]))
                continue
            if entry is not None:
                documents[s.doc_id] = entry
                parts.append(by_doc.get(s.doc_id, _NO_ROWS))
                continue
            doc = read_document(seeds_dir, s.doc_id)
            reading.update()
            if isinstance(doc, Skipped):
                log.warning("skipped %s: %s", doc.doc_id, doc.reason)
                skipped[s.doc_id] = {**stamp, "reason": doc.reason}
                skipped_list.append(doc)
                continue
            old = prev_docs.get(s.doc_id)
            if old and old["sha256"] == doc.sha256 and len(by_doc.get(s.doc_id, ())):
                # Touched but not changed: the old chunks still hold.
                new_chunks = by_doc[s.doc_id]
            else:
                new_chunks = chunk_document(
                    doc, chunk_tokens=settings.chunk_tokens, encoding=settings.encoding
                )
            documents[s.doc_id] = {
                **stamp,
                "sha256": doc.sha256,
                "chunks": len(new_chunks),
                # Start offset of each page in the extracted text (PDF), for page citations.
                "pages": list(doc.pages),
            }
            parts.append(new_chunks)
        reading.close()
        chunks = _assemble(parts, previous)
        origin = chunks.origin  # the previous row of each chunk, -1 for a new one
        if not len(chunks):
            raise EmptyCorpus(
                f"no document in {str(seeds_dir)!r} has text to index (supported: {', '.join(SUPPORTED)}); "
                "add documents or point --seeds-dir elsewhere"
                + (f"; skipped: {', '.join(s.doc_id for s in skipped_list)}" if skipped_list else "")
            )

        # Resolved before embedding, so a mistyped override fails fast.
        index_spec = choose_index(len(chunks), vector_index)
        duplicates = _duplicates(documents)
        embedder = embedder or get_embedder(settings.model, settings.batch_size, settings.precision)
        # A kept chunk's hash is the one stored with it; only new chunks are hashed.
        hashes = [
            previous.chunk_hashes[r] if r >= 0 else store.chunk_hash(chunks.new[i])
            for i, r in enumerate(origin.tolist())
        ]
        # What an interrupted build embedded is taken from its journal; a rebuild starts over.
        journal = Journal(index_dir, embedder, progress=progress)
        if rebuild:
            journal.discard()
        vectors, sent_vectors, src = _embed(chunks, hashes, previous, embedder, journal, progress)
        reused = int(np.count_nonzero(src >= 0))
        # The previous HNSW graph, brought up to date, where it can be (it is slow to build).
        graph = (
            updated_graph(
                previous.faiss_index,
                IndexSpec.from_manifest(previous.manifest.get("faiss")),
                index_spec,
                src,
                vectors,
            )
            if previous is not None
            else None
        )
        if graph is None or index_spec.kind not in KEEPS_VECTORS:
            # A new index is built from every vector, and vectors.npy holds them all.
            _fill_kept(vectors, src, previous)
        tokens = _bm25_tokens(chunks, hashes, previous)
        bm25 = bm25_from_ids(tokens)
        lexicon = _lexicon(chunks, hashes, previous, embedder, journal)
        sentence_words = _sentence_words(chunks, origin, previous, lexicon)
        removed = sorted(set(previous.manifest.get("documents", {}) if previous else ()) - set(documents))
        manifest = {
            "format_version": store.FORMAT_VERSION,
            "library_version": store.library_version(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "corpus": str(seeds_dir.resolve()),
            "settings": settings.to_dict(),
            "settings_key": settings.index_key(),
            "model": {
                "id": embedder.model_id,
                "dim": embedder.dim,
                "precision": getattr(embedder, "precision", "float32"),
            },
            "faiss": index_spec.to_dict(),
            "counts": {
                "documents": len(documents),
                "chunks": len(chunks),
                "sentences": int(sent_vectors.shape[0]),
            },
            "documents": documents,
            "skipped": skipped,
            # How the stored BM25 tokens and word counts were made: a later build reuses them
            # only when made the same way.
            "tokenizers": {"bm25": tokens_key(), "lexicon": words_key()},
        }
        gen = store.save(
            index_dir,
            manifest=manifest,
            chunks=chunks,
            hashes=hashes,
            vectors=vectors,
            sentence_vectors=sent_vectors,
            bm25=bm25,
            lexicon=lexicon,
            bm25_tokens=tokens,
            sentence_words=sentence_words,
            faiss_index=graph,
        )
        journal.discard()
    return BuildReport(
        len(documents), len(chunks), len(chunks) - reused, reused, removed, skipped_list,
        time.perf_counter() - t0, gen.name, duplicates=duplicates, resumed=journal.resumed,
    )  # fmt: skip


_NO_ROWS = np.zeros(0, dtype=np.int64)


def _assemble(parts: list[list[Chunk] | np.ndarray], previous: store.StoredIndex | None) -> Merged:
    """The chunks in corpus order: new ones as they are, kept ones as rows of the previous table
    (built into Chunks only where a step needs one: see chunktable.Merged)."""
    origin = np.concatenate(
        [_NO_ROWS] + [p if isinstance(p, np.ndarray) else np.full(len(p), -1, np.int64) for p in parts]
    )
    new_chunks = (c for p in parts if not isinstance(p, np.ndarray) for c in p)
    new = dict(zip(np.flatnonzero(origin < 0).tolist(), new_chunks, strict=True))
    return Merged(previous.chunks if previous is not None else None, origin, new)


# Duplicate groups named one by one in the log; the rest are counted.
SHOWN_DUPLICATES = 10


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector off while a build runs, then back as it was.

    A build allocates hundreds of thousands of objects (chunks, manifest entries) and makes no
    garbage cycles worth collecting; the collector's full passes over them took 0.3-0.45 s of
    a 1.4 s re-index of 10,000 documents.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _duplicates(documents: dict[str, dict]) -> list[list[str]]:
    """Groups of documents with the same content, each named in a warning.

    All of them stay indexed (each can be searched on its own with ``sources=``); ask() shows a
    quote they share only once.
    """
    by_hash: dict[str, list[str]] = {}
    for doc_id, entry in documents.items():
        by_hash.setdefault(entry["sha256"], []).append(doc_id)
    groups = [ids for ids in by_hash.values() if len(ids) > 1]
    for ids in groups[:SHOWN_DUPLICATES]:
        log.warning(
            "%s have the same content: all are indexed, a quote they share is shown once", ", ".join(ids)
        )
    if len(groups) > SHOWN_DUPLICATES:
        # A corpus of copies would otherwise print thousands of lines on every build.
        log.warning(
            "%d more groups of documents have the same content (BuildReport.duplicates lists them)",
            len(groups) - SHOWN_DUPLICATES,
        )
    return groups


def _embed(
    chunks: Merged,
    hashes: list[str],
    previous: store.StoredIndex | None,
    embedder: Embedder,
    journal: Journal,
    progress: bool,
) -> tuple[np.ndarray, Int8Rows, np.ndarray]:
    """Chunk and sentence vectors, taken from the previous index where the text is unchanged
    and from the journal where an interrupted build embedded them.

    Sentence vectors are kept as int8 codes and scales (qa/quantize.py); kept ones are copied
    as they are stored. Kept chunk vectors are not: a kept HNSW graph already holds them, and
    gathering them as float32 cost 150 MB at 100k chunks and 1.5 GB at 1M (``_fill_kept``
    does it when a new index needs them).

    Returns:
        The chunk vectors (kept rows left zero), the sentence vectors, and for each chunk the
        previous row whose vectors it kept (-1: embedded now).
    """
    cache: dict[str, int] = {}
    if previous is not None and previous.manifest.get("model", {}).get("id") == embedder.model_id:
        cache = {h: i for i, h in enumerate(previous.chunk_hashes)}
    src = np.fromiter((cache.get(h, -1) for h in hashes), dtype=np.int64, count=len(hashes))
    if cache:
        # A kept chunk keeps its own row's vectors (its slot in the previous graph), not those
        # of another chunk of the same text.
        src = np.where(chunks.origin >= 0, chunks.origin, src)
    n_sents = chunks.n_sentences
    offsets = np.zeros(len(chunks) + 1, dtype=np.int64)
    np.cumsum(n_sents, out=offsets[1:])
    if cache:
        old_offsets = np.asarray(previous.sentence_offsets, dtype=np.int64)
        old_n = np.zeros(len(src), dtype=np.int64)
        old_n[src >= 0] = np.diff(old_offsets)[src[src >= 0]]
        src[(src >= 0) & (old_n != n_sents)] = -1  # split into other sentences: embed anew
    hit = np.flatnonzero(src >= 0)
    dim = embedder.dim
    vectors = np.zeros((len(chunks), dim), dtype=np.float32)
    sent_codes = np.zeros((int(offsets[-1]), dim), dtype=np.int8)
    sent_scales = np.ones(int(offsets[-1]), dtype=np.float32)
    if len(hit):
        # One gather per array: a row-by-row copy of ~30,000 chunks took most of a second.
        rows = src[hit]
        at = span_positions(offsets[hit], n_sents[hit])
        old = previous.sentence_vectors
        if isinstance(old, Int8Rows):
            kept = old.spans(old_offsets[rows], n_sents[hit])
            sent_codes[at], sent_scales[at] = kept.codes, kept.scales
        else:  # an index of format 2 or 3 stored float16 vectors
            sent_codes[at], sent_scales[at] = quantize_rows(
                float32_rows(old, span_positions(old_offsets[rows], n_sents[hit]))
            )
    todo = np.flatnonzero(src < 0).tolist()
    if todo:
        built = chunks.take(todo)
        texts = [c.embed_text for c in built]
        sents = [c.text[s.start - c.start : s.end - c.start] for c in built for s in c.sentences]
        if progress:
            log.info("embedding %d chunks and %d sentences", len(texts), len(sents))
        # Identical texts (duplicate documents, a sentence that is its whole chunk, repeated
        # lines) are embedded once.
        new = journal.chunk_vectors(texts)
        vectors[todo] = new
        at = span_positions(offsets[todo], n_sents[todo])
        sent_codes[at], sent_scales[at] = journal.int8_vectors(
            sents, known=dict(zip(texts, new, strict=True))
        )
    return vectors, Int8Rows(sent_codes, sent_scales), src


def _fill_kept(vectors: np.ndarray, src: np.ndarray, previous: store.StoredIndex | None) -> None:
    """Fill in the kept rows of ``_embed``'s chunk vectors from the previous index (one gather)."""
    hit = np.flatnonzero(src >= 0)
    if len(hit):
        vectors[hit] = previous.vectors[src[hit]]


def _reusable(previous: store.StoredIndex | None, tokenizer: str, key: str) -> bool:
    """Whether the previous index stored what ``tokenizer`` makes, made the same way."""
    return previous is not None and previous.manifest.get("tokenizers", {}).get(tokenizer) == key


def _bm25_tokens(chunks: Merged, hashes: list[str], previous: store.StoredIndex | None) -> TokenIds:
    """BM25 token ids of every chunk, taken from the previous index where the text is unchanged."""
    old = previous.bm25_tokens if _reusable(previous, "bm25", tokens_key()) else None
    if old is None and _reusable(previous, "bm25", tokens_key()):
        log.warning("the stored BM25 tokens of %s cannot be used; tokenizing every chunk", previous.path)
    old_hashes = previous.chunk_hashes if old is not None else None
    return token_ids(chunks.embed_texts(), hashes, old, old_hashes)


def _lexicon(
    chunks: Merged,
    hashes: list[str],
    previous: store.StoredIndex | None,
    embedder: Embedder,
    journal: Journal,
) -> Lexicon:
    """The corpus vocabulary with word vectors, reusing the previous index's where it can."""
    if _reusable(previous, "lexicon", words_key()):
        # Only the chunks that came or went change the document frequencies.
        old, new = Counter(previous.chunk_hashes), Counter(hashes)
        gone, came = old - new, new - old
        old_text = {
            h: previous.chunks.embed_text(r) for r, h in enumerate(previous.chunk_hashes) if h in gone
        }
        new_text = {h: chunks.embed_text(i) for i, h in enumerate(hashes) if h in came}
        vocab, df, n = previous.lexicon.updated_counts(
            [old_text[h] for h, k in gone.items() for _ in range(k)],
            [new_text[h] for h, k in came.items() for _ in range(k)],
        )
    else:
        vocab, df, n = Lexicon.count(c.embed_text for c in chunks)
    # Stored as int8 codes and per-word scales (lexicon.quantize_rows); known words keep theirs.
    codes = np.zeros((len(vocab), embedder.dim), dtype=np.int8)
    scales = np.ones(len(vocab), dtype=np.float32)
    known: dict[str, int] = {}
    if previous is not None and previous.manifest.get("model", {}).get("id") == embedder.model_id:
        known = previous.lexicon.ids
    src = np.fromiter((known.get(w, -1) for w in vocab), dtype=np.int64, count=len(vocab))
    have = np.flatnonzero(src >= 0)
    if len(have):
        old = previous.lexicon
        if old.scales is not None:
            codes[have], scales[have] = old.vectors[src[have]], old.scales[src[have]]
        else:  # an index of format 2 stored float16 vectors
            codes[have], scales[have] = quantize_rows(old.rows(src[have]))
    todo = np.flatnonzero(src < 0).tolist()
    if todo:
        codes[todo], scales[todo] = journal.int8_vectors([vocab[i] for i in todo], desc="words")
    return Lexicon(vocab, codes, df, n, scales)


def _sentence_words(
    chunks: Merged, origin: np.ndarray, previous: store.StoredIndex | None, lexicon: Lexicon
) -> SentenceWords:
    """Every sentence's content-word ids: renumbered from the previous index for kept chunks,
    looked up in the text for new ones (the vocabulary, sorted, shifts as words come and go).
    """
    n_sents = chunks.n_sentences
    first = np.concatenate([[0], np.cumsum(n_sents)]).astype(np.int64)
    old = previous.sentence_words if previous is not None else None
    kept = np.flatnonzero(origin >= 0) if old is not None else np.zeros(0, dtype=np.int64)
    carried, carried_len = np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int64)
    if len(kept):
        renumber = np.fromiter(
            (lexicon.ids.get(w, -1) for w in previous.lexicon.vocab),
            dtype=np.int64,
            count=len(previous.lexicon.vocab),
        )
        old_first = np.asarray(previous.sentence_offsets, dtype=np.int64)
        rows = origin[kept]
        old_ids, carried_len = old.of(span_positions(old_first[rows], old_first[rows + 1] - old_first[rows]))
        renumbered = renumber[old_ids]
        if np.any(renumbered < 0):  # pragma: no cover - a kept chunk's words are always counted
            log.warning("stored sentence words do not match the vocabulary; looking all words up")
            kept = np.zeros(0, dtype=np.int64)
        else:
            carried = renumbered.astype(np.int32)
    fresh = np.setdiff1d(np.arange(len(chunks)), kept)
    texts = [
        c.text[s.start - c.start : s.end - c.start] for c in chunks.take(fresh.tolist()) for s in c.sentences
    ]
    fresh_ids, fresh_len = lexicon.content_ids(texts)
    kept_sents = span_positions(first[kept], n_sents[kept])
    fresh_sents = span_positions(first[fresh], n_sents[fresh])
    lengths = np.zeros(int(first[-1]), dtype=np.int64)
    lengths[kept_sents], lengths[fresh_sents] = carried_len, fresh_len
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    ids = np.zeros(int(offsets[-1]), dtype=np.int32)
    ids[span_positions(offsets[kept_sents], carried_len)] = carried
    ids[span_positions(offsets[fresh_sents], fresh_len)] = fresh_ids
    return SentenceWords(ids, offsets)
