"""Dense (FAISS) and keyword (BM25) search over chunks, fused into one ranking."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .ragged import consistent, span_positions
from .settings import Settings
from .store import StoredIndex, import_bm25s
from .vectors import KEEPS_VECTORS, IndexSpec

# Single characters count as tokens so "5G", "x 2" or "Q3" keep their digits.
_TOKEN_PATTERN = r"(?u)\b\w+\b"
# Reciprocal-rank constant: how fast a lower rank loses weight (60 is the usual value).
RRF_K = 60


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(texts: list[str]) -> list[list[str]]:
    """Lower-cased, stemmed word tokens without English stop words."""
    return import_bm25s().tokenize(
        texts,
        token_pattern=_TOKEN_PATTERN,
        stopwords="en",
        stemmer=_stemmer(),
        return_ids=False,
        show_progress=False,
    )


def build_bm25(texts: list[str]):
    """A bm25s index over ``texts`` (row i = chunk i)."""
    retriever = import_bm25s().BM25()
    retriever.index(tokenize(texts), show_progress=False)
    return retriever


@lru_cache(maxsize=1)
def tokens_key() -> str:
    """What ``tokenize`` depends on; stored tokens made by another tokenizer are not reused."""
    from importlib.metadata import PackageNotFoundError, version

    def _version(dist: str) -> str:
        try:
            return version(dist)
        except PackageNotFoundError:
            return "?"

    return (
        f"bm25s {_version('bm25s')} pattern={_TOKEN_PATTERN} stopwords=en "
        f"PyStemmer {_version('PyStemmer')} english"
    )


TOKEN_FILES = ("bm25_tokens.npy", "bm25_token_offsets.npy", "bm25_vocab.txt")


@dataclass(frozen=True, eq=False)  # arrays: compare their fields, not the objects
class TokenIds:
    """Every chunk's BM25 tokens as ids into a vocabulary, stored with each generation.

    A re-index takes the tokens of unchanged chunks from here instead of splitting and stemming
    every chunk again (most of the time of a small update on a large corpus).
    """

    vocab: list[str]  # stemmed tokens; id i is vocab[i]
    ids: np.ndarray  # int32, the tokens of all chunks one after another
    offsets: np.ndarray  # int64, chunk i's tokens are ids[offsets[i] : offsets[i + 1]]

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def save(self, folder: Path) -> None:
        np.save(folder / TOKEN_FILES[0], np.ascontiguousarray(self.ids, dtype=np.int32))
        np.save(folder / TOKEN_FILES[1], np.ascontiguousarray(self.offsets, dtype=np.int64))
        (folder / TOKEN_FILES[2]).write_text("".join(t + "\n" for t in self.vocab), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, rows: int) -> TokenIds | None:
        """The token ids of a generation with ``rows`` chunks; None when absent or inconsistent."""
        try:
            ids = np.load(folder / TOKEN_FILES[0], allow_pickle=False)
            offsets = np.load(folder / TOKEN_FILES[1], allow_pickle=False)
            vocab = (folder / TOKEN_FILES[2]).read_text(encoding="utf-8").split("\n")[:-1]
        except (OSError, ValueError):
            return None
        if not consistent(ids, offsets, rows, len(vocab)):
            return None
        return cls(vocab, ids, offsets)


def token_ids(
    texts: list[str],
    hashes: list[str],
    previous: TokenIds | None = None,
    previous_hashes: list[str] | None = None,
) -> TokenIds:
    """The BM25 tokens of ``texts`` as ids, tokenizing only texts the previous index lacks.

    Args:
        texts: the chunks' embed texts (row i = chunk i).
        hashes: their content keys (``store.chunk_hash``): the same key, the same tokens.
        previous: the token ids of the previous generation, if any.
        previous_hashes: the content keys of its rows.

    Returns:
        Token ids of every text; the vocabulary holds exactly the tokens in use.
    """
    old_row = {h: i for i, h in enumerate(previous_hashes)} if previous is not None else {}
    src = np.fromiter((old_row.get(h, -1) for h in hashes), dtype=np.int64, count=len(hashes))
    new_rows = np.flatnonzero(src < 0)
    vocab = list(previous.vocab) if previous is not None else []
    ids_of = {t: i for i, t in enumerate(vocab)}
    # Identical new texts (duplicate documents) are tokenized once.
    unique = list(dict.fromkeys(texts[i] for i in new_rows))
    new_tokens = tokenize(unique) if unique else []
    new_ids = [[ids_of.setdefault(t, len(ids_of)) for t in toks] for toks in new_tokens]
    vocab.extend(list(ids_of)[len(vocab) :])
    new_len = np.array([len(x) for x in new_ids], dtype=np.int64)
    new_start = np.concatenate([[0], np.cumsum(new_len)[:-1]]).astype(np.int64)
    old_ids = previous.ids if previous is not None else np.zeros(0, dtype=np.int32)
    pool = np.concatenate([old_ids, np.fromiter((t for x in new_ids for t in x), dtype=np.int32)])

    # Where each row's tokens sit in ``pool``: its old span, or its new text's span after them.
    starts = np.zeros(len(texts), dtype=np.int64)
    lengths = np.zeros(len(texts), dtype=np.int64)
    if previous is not None:
        kept = src >= 0
        starts[kept] = previous.offsets[src[kept]]
        lengths[kept] = previous.offsets[src[kept] + 1] - previous.offsets[src[kept]]
    if len(new_rows):
        slot = {t: j for j, t in enumerate(unique)}
        which = np.array([slot[texts[i]] for i in new_rows], dtype=np.int64)
        starts[new_rows] = len(old_ids) + new_start[which]
        lengths[new_rows] = new_len[which]
    ids = pool[span_positions(starts, lengths)]
    offsets = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])

    # Tokens only removed chunks had are dropped, so the vocabulary does not grow forever.
    used = np.zeros(len(vocab), dtype=bool)
    used[ids] = True
    if not used.all():
        remap = np.cumsum(used, dtype=np.int64) - 1
        ids = remap[ids].astype(np.int32)
        vocab = [t for t, u in zip(vocab, used.tolist(), strict=True) if u]
    return TokenIds(vocab, ids.astype(np.int32, copy=False), offsets)


def bm25_from_ids(tokens: TokenIds):
    """A bm25s index equal to ``build_bm25`` of the same texts, computed with array operations.

    bm25s's own indexing loops over every chunk in Python; this replays its arithmetic
    (Lucene BM25, float64 intermediates rounded to float32) on whole arrays, so every score is
    bit-identical to a from-scratch build (tests/test_retrieval.py checks it). Only the token
    ids differ, which no score depends on.
    """
    bm25s = import_bm25s()
    from bm25s.scoring import _score_idf_lucene

    retriever = bm25s.BM25()
    if (retriever.method, retriever.idf_method, retriever.csc_backend) != ("lucene", "lucene", "numpy"):
        raise RuntimeError(f"bm25s {bm25s.__version__} changed its defaults; update bm25_from_ids")
    n_docs, n_vocab = len(tokens), len(tokens.vocab)
    doc_len = np.diff(tokens.offsets)
    avg_doc_len = doc_len.mean() if n_docs else np.float64("nan")
    # One entry per (chunk, distinct token) with its count, sorted by token then chunk: bm25s's
    # CSC order. scipy builds it by counting, not sorting: 0.02 s instead of 0.09 s for the
    # 1.9 million tokens of the benchmark's 31k chunks (scipy is loaded with the model anyway).
    from scipy.sparse import csc_matrix

    doc_of = np.repeat(np.arange(n_docs, dtype=np.int32), doc_len)
    counts = csc_matrix(
        (np.ones(len(tokens.ids), dtype=np.int32), (doc_of, tokens.ids)), shape=(n_docs, n_vocab)
    )
    counts.sum_duplicates()
    row, tf = counts.indices.astype(np.int64), counts.data
    df = np.diff(counts.indptr).astype(np.int64)
    col = np.repeat(np.arange(n_vocab, dtype=np.int64), df)
    # Few distinct frequencies: math.log on each, exactly as bm25s computes them.
    levels, level_of = np.unique(df, return_inverse=True)
    idf_levels = np.array([_score_idf_lucene(int(d), N=n_docs) if d else 0.0 for d in levels])
    idf = idf_levels.astype(np.float32)[level_of]
    k1, b = retriever.k1, retriever.b
    norm = k1 * ((1 - b) + b * doc_len.astype(np.float64) / avg_doc_len)
    tf = tf.astype(np.float32).astype(np.float64)
    data = (idf[col].astype(np.float64) * (tf / (norm[row] + tf))).astype(np.float32)
    indptr = np.zeros(n_vocab + 1, dtype=np.int64)
    np.cumsum(df, out=indptr[1:])
    retriever.scores = {
        "data": data,
        "indices": row.astype(np.int32),
        "indptr": indptr,
        "num_docs": n_docs,
    }
    retriever.nonoccurrence_array = None
    retriever.vocab_dict = {t: i for i, t in enumerate(tokens.vocab)}
    # As bm25s.index does: an empty token scores chunks that have no token at all.
    retriever.vocab_dict.setdefault("", n_vocab)
    retriever.unique_token_ids_set = set(retriever.vocab_dict.values())
    return retriever


@dataclass(frozen=True)
class Hit:
    """One chunk found for a query, with the evidence of each retriever."""

    row: int
    fused: float
    dense: float  # cosine similarity of query and chunk
    bm25: float  # raw BM25 score (0 when the chunk shares no keyword)


def _top(scores: np.ndarray, n: int) -> np.ndarray:
    """Indices of the n largest scores (unordered)."""
    if n >= len(scores):
        return np.arange(len(scores))
    return np.argpartition(-scores, n - 1)[:n]


def _ranks(scores: dict[int, float]) -> dict[int, int]:
    order = sorted(scores, key=lambda r: -scores[r])
    return {row: rank for rank, row in enumerate(order)}


class Retriever:
    """Hybrid search over a stored index."""

    def __init__(self, index: StoredIndex, settings: Settings) -> None:
        self.index = index
        self.settings = settings

    def dense(self, query_vec: np.ndarray, n: int, allowed: np.ndarray | None = None) -> dict[int, float]:
        if allowed is not None:
            # A chosen subset of documents is searched exactly: its vectors are few enough.
            sims = np.asarray(self.index.vectors[allowed], dtype=np.float32) @ query_vec
            top = _top(sims, n)
            return {int(allowed[i]): float(sims[i]) for i in top}
        n = min(n, self.index.faiss_index.ntotal)
        if n == 0:
            return {}
        scores, rows = self.index.faiss_index.search(query_vec.reshape(1, -1), n)
        return {int(r): float(s) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0}

    def _vectors(self, rows: list[int]) -> np.ndarray:
        """Chunk vectors by row: from the FAISS index's own copy when it keeps one (float16 copies
        are within about 1e-4 of the stored float32 vectors).

        Reading them from ``vectors.npy`` instead would, question after question, page the
        whole file into memory next to the index's copy.
        """
        findex = self.index.faiss_index
        # Manifests from before index kinds recorded "Flat" as a plain string: from_manifest reads both.
        if IndexSpec.from_manifest(self.index.manifest.get("faiss")).kind in KEEPS_VECTORS:
            try:
                return findex.reconstruct_batch(np.asarray(rows, dtype=np.int64))
            except RuntimeError:  # pragma: no cover - an index type without reconstruction
                pass
        return np.asarray(self.index.vectors[rows], dtype=np.float32)

    def keyword(self, query: str, n: int, allowed: np.ndarray | None = None) -> dict[int, float]:
        tokens = tokenize([query])[0]
        if not tokens:
            return {}
        scores = self.index.bm25.get_scores(tokens)
        if allowed is None:  # no row list: at a million chunks it cost more than the search
            return {int(i): float(scores[i]) for i in _top(scores, n) if scores[i] > 0}
        scores = scores[allowed]
        return {int(allowed[i]): float(scores[i]) for i in _top(scores, n) if scores[i] > 0}

    def search(
        self, query: str, query_vec: np.ndarray, n: int | None = None, allowed: np.ndarray | None = None
    ) -> list[Hit]:
        """The best chunks for a query, by weighted reciprocal-rank fusion of both retrievers.

        Args:
            query: the search text (for BM25).
            query_vec: its normalized embedding (for FAISS).
            n: how many candidates each retriever contributes.
            allowed: search only these chunk rows (None: all).

        Returns:
            Hits, best first.
        """
        n = n or self.settings.candidates
        dense = self.dense(query_vec, n, allowed)
        keyword = self.keyword(query, n, allowed) if self.settings.bm25_weight > 0 else {}
        dense_rank, keyword_rank = _ranks(dense), _ranks(keyword)
        rows = set(dense) | set(keyword)
        missing = [r for r in rows if r not in dense]
        if missing:
            # Keyword-only candidates still need their dense similarity for later stages.
            vecs = self._vectors(sorted(missing))
            for r, s in zip(sorted(missing), vecs @ query_vec, strict=True):
                dense[r] = float(s)
        hits = []
        for r in rows:
            fused = 0.0
            if r in dense_rank:
                fused += self.settings.dense_weight / (RRF_K + dense_rank[r])
            if r in keyword_rank:
                fused += self.settings.bm25_weight / (RRF_K + keyword_rank[r])
            hits.append(Hit(r, fused, dense[r], keyword.get(r, 0.0)))
        hits.sort(key=lambda h: (-h.fused, -h.dense))
        return hits
