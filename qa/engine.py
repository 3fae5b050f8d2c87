"""`ask()`: keep the index of a corpus folder fresh and answer questions from it."""

from __future__ import annotations

import logging
import threading
import time
import unicodedata
from collections.abc import Collection, Iterable
from functools import lru_cache
from pathlib import Path

from . import store
from .answer import make_query, quotes
from .answer_types import ASSUMED
from .embedding import resolve_model
from .errors import EmptyQuestion, IndexCorrupt, IndexMismatch, IndexWriteError
from .indexer import build_index, is_current
from .onnx_encoder import get_query_encoder
from .retrieval import Retriever
from .settings import Settings
from .spelling import correct, known_words
from .types import Answer, Passage
from .watch import Freshness

log = logging.getLogger("qa")

# Longer questions are cut (with a notice): the embedding model reads ~256 word pieces anyway.
MAX_QUESTION_CHARS = 2000


def clean_question(question: object) -> tuple[str, tuple[str, ...]]:
    """The searchable text of a question and any notice about what was changed.

    Raises:
        EmptyQuestion: the question is None, not text, or has nothing to search.
    """
    if question is None or not isinstance(question, str):
        raise EmptyQuestion(f"the question must be text, got {type(question).__name__}")
    # Control characters (other than spacing) carry no meaning and confuse tokenizers.
    text = "".join(
        ch if not unicodedata.category(ch).startswith("C") else " "
        for ch in question
        if ch not in "\u200b\ufeff"
    )
    text = " ".join(text.split())
    if not text:
        raise EmptyQuestion("the question is empty: type a question about your documents")
    notices: tuple[str, ...] = ()
    if len(text) > MAX_QUESTION_CHARS:
        text = text[:MAX_QUESTION_CHARS].rsplit(" ", 1)[0] or text[:MAX_QUESTION_CHARS]
        notices = (f"the question was cut to its first {len(text)} characters",)
    return text, notices


class Engine:
    """One corpus folder, its index and the loaded model, kept in step with the folder."""

    def __init__(self, seeds_dir: str | Path, index_dir: str | Path, settings: Settings) -> None:
        self.seeds_dir = Path(seeds_dir)
        self.index_dir = Path(index_dir)
        self.settings = settings
        self._index: store.StoredIndex | None = None
        self._lock = threading.Lock()
        # The generation whose first answer has been given (see release_free_memory).
        self._settled: str | None = None
        # Whether the folder must be rescanned before a question (qa/watch.py): always for a
        # small corpus, only after a reported change for a large one.
        self._freshness = Freshness(self.seeds_dir, exclude=[self.index_dir])

    def _is_current(self, index: store.StoredIndex) -> bool:
        t = time.perf_counter()
        current = is_current(self.seeds_dir, index, self.settings)
        self._freshness.scanned(time.perf_counter() - t)
        return current

    def index(self) -> store.StoredIndex:
        """The live index, rebuilt first when the corpus or the settings changed."""
        return self._fresh()[0]

    def _fresh(self) -> tuple[store.StoredIndex, tuple[str, ...]]:
        """The live index and any notice about it (it could not be brought up to date)."""
        with self._lock:
            index = self._index
            live = store.live_name(self.index_dir)
            if index is None or live is None or live != index.generation:
                index = self._load()
                due = True
            else:
                due = self._freshness.due()
            if index is None or (due and not self._is_current(index)):
                try:
                    build_index(self.seeds_dir, self.index_dir, settings=self.settings, progress=False)
                except IndexWriteError as exc:
                    if index is None:
                        raise
                    # Disk full or a read-only folder: the last good index still answers, and
                    # the answer says why it may miss the latest changes.
                    log.warning("%s", exc)
                    self._freshness.again()
                    self._index = index
                    return index, (
                        f"the index could not be updated, answers come from the previous one: {exc}",
                    )
                index = self._load()
            if index is None:  # pragma: no cover - build_index either writes an index or raises
                raise IndexCorrupt(f"no index in {self.index_dir} after a build")
            self._index = index
            return index, ()

    def _load(self) -> store.StoredIndex | None:
        for _ in range(3):
            live = store.live_name(self.index_dir)
            try:
                return store.load(self.index_dir)
            except (IndexCorrupt, IndexMismatch) as exc:
                if store.live_name(self.index_dir) != live:
                    # Another process swapped generations while this one was reading (and
                    # removed the one being read): the new one is whole, read that instead.
                    continue
                log.warning("%s; rebuilding the index", exc)
                break
        # Not rebuild=True: build_index starts from the previous generation when it is whole.
        build_index(self.seeds_dir, self.index_dir, settings=self.settings, progress=False)
        return store.load(self.index_dir)

    def ask(self, question: str, *, k: int = 5, sources: Collection[str] | None = None) -> Answer:
        query, notices = clean_question(question)
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        index, stale = self._fresh()
        notices += stale
        query, fixes = correct(query, index.lexicon, known_words(resolve_model(self.settings.model)))
        if fixes:
            notices += (
                "searched for "
                + ", ".join(f"“{fix}” (the documents have no “{typo}”)" for typo, fix in fixes),
            )
        embedder = get_query_encoder(self.settings.model, self.settings.batch_size, self.settings.precision)
        # One question is a few small matrix products: BLAS and OpenMP workers only spin after
        # each, taking the cores from the question encoder (p50 30 -> 14 ms at 1k chunks).
        with _thread_pools().limit(limits=1):
            q = make_query(query, embedder, index.lexicon)
            allowed = None
            if sources is not None:
                # From the table's doc column: no Chunk is built for the rows left out.
                allowed = index.chunks.rows_of(sources)
            hits = Retriever(index, self.settings).search(query, q.vec, allowed=allowed)
            # Quotes are cut until k distinct ones are found: one repeated from another document
            # is left out (and that document named).
            found, lacking, stream = quotes(index, hits, q, self.settings)
            passages, repeats = _unique(stream, k)
        if lacking is not None and passages:
            how = "takes for granted" if lacking in ASSUMED else "asks for"
            notices += (f"the closest passage states no {lacking}, which the question {how}",)
        if repeats:
            notices += (f"the same text is also in {', '.join(repeats)}; each quote is shown once",)
        if self._settled != index.generation:
            # Loading an index and the model, and the first question, free tens of MB they
            # needed only then; give them back once, not after every question.
            self._settled = index.generation
            release_free_memory()
        return Answer(question=question, found=found, passages=passages, query=query, notices=notices)


def release_free_memory() -> bool:
    """Return the C heap's free pages to the system; False where the C library cannot.

    glibc keeps memory freed in the middle of its heap: what loading an index and the model
    freed would stay resident for the life of the process, a different amount in each run
    (README, "Memory freed by loading goes back to the system").
    """
    trim = getattr(_libc(), "malloc_trim", None)
    if trim is None:
        return False
    trim(0)
    return True


@lru_cache(maxsize=1)
def _libc():
    import ctypes

    try:
        return ctypes.CDLL(None)  # the C library this process already runs on
    except (OSError, TypeError):  # pragma: no cover - no dlopen of the main program (Windows)
        return None


def _unique(passages: Iterable[Passage], k: int) -> tuple[list[Passage], list[str]]:
    """The first k passages with each quote once, and the other documents that repeat them.

    Duplicate documents (or a paragraph copied into several) are all indexed; showing the same
    quote twice would only push other evidence out of the k places.
    """
    seen: dict[str, str] = {}
    kept: list[Passage] = []
    repeats: list[str] = []
    for p in passages:
        if len(kept) == k:
            break
        key = " ".join(p.text.split())
        if key not in seen:
            seen[key] = p.source
            kept.append(p)
        elif seen[key] != p.source and p.source not in repeats:
            repeats.append(p.source)
    return kept, repeats


@lru_cache(maxsize=1)
def _thread_pools():
    """The BLAS and OpenMP thread pools loaded by now (numpy's, FAISS's), to limit per question."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


_engines: dict[tuple, Engine] = {}
_engines_lock = threading.Lock()


def get_engine(
    seeds_dir: str | Path = "seeds", index_dir: str | Path = "index", settings: Settings | None = None
) -> Engine:
    """One Engine per (corpus, index, settings) in this process."""
    settings = settings or Settings()
    key = (str(Path(seeds_dir).resolve()), str(Path(index_dir).resolve()), settings)
    with _engines_lock:
        if key not in _engines:
            _engines[key] = Engine(seeds_dir, index_dir, settings)
        return _engines[key]


def ask(
    question: str,
    *,
    k: int = 5,
    seeds_dir: str | Path = "seeds",
    index_dir: str | Path = "index",
    settings: Settings | None = None,
    sources: Collection[str] | None = None,
) -> Answer:
    """Answer a question with verbatim quotes from the documents in ``seeds_dir``.

    The index is built on first use and brought up to date whenever the documents or the
    settings change (only new or changed documents are embedded).

    Args:
        question: the question, in plain words.
        k: how many passages to return.
        seeds_dir: the corpus folder.
        index_dir: the index folder.
        settings: indexing and answering settings (defaults when None).
        sources: search only these documents (ids as in ``Passage.source``); None for all.

    Returns:
        An Answer: ``found`` says whether the passages answer the question; ``passages`` are
        the best quotes, best first, even when ``found`` is False.

    Raises:
        EmptyQuestion: (a ValueError) the question is blank.
        CorpusNotFound: the corpus folder does not exist.
        EmptyCorpus: the corpus has no readable document.
    """
    return get_engine(seeds_dir, index_dir, settings).ask(question, k=k, sources=sources)
