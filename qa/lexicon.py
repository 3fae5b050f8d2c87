"""Soft keyword matching: the corpus vocabulary with one embedding per word.

A question's words rarely match the document's words exactly ("banks" vs "financial
services", "free" vs "freely available"). Each candidate sentence gets credit for every
question word it contains *or a close neighbour of*, by word-embedding similarity and weighted
by rarity (IDF). Words are short, so embedding the vocabulary costs little next to the chunks.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import IndexCorrupt
from .quantize import Int8Rows, float32_rows
from .ragged import consistent
from .rowfile import RowFile, read_spans

_WORD = re.compile(r"\w+")
# Function words carry no topic; question words ("what", "how") are the question's frame.
STOPWORDS = frozenset(
    """a an the of to in on for and or nor but is are was were be been being by with as at from
    that this these those it its what which who whom whose how why when where do does did doing
    can could should would will shall may might must has have had having about into onto than
    then there their they them not no yes any some such via i me my we our you your he she his
    her him us s t if so also just very more most much many own same other else each every
    all both few again further once here out up down off over under too only""".split()
)
# Two words count as the same idea from this cosine on (all-MiniLM-L6-v2 word vectors).
MATCH_FLOOR = 0.5


def words_key() -> str:
    """What ``words`` depends on; word counts stored by another definition are counted afresh."""
    digest = hashlib.sha256(" ".join(sorted(STOPWORDS)).encode()).hexdigest()[:12]
    return f"pattern={_WORD.pattern} lower stopwords={digest}"


def words(text: str) -> list[str]:
    """Lower-cased content words of a text, in order."""
    return [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS]


class Lexicon:
    """Vocabulary -> word vector and document frequency, for soft matching.

    ``vectors`` are float (as embedded) or, when ``scales`` is given, int8 codes: row i is
    ``vectors[i] * scales[i]`` (``quantize_rows``; how indexes store them, at half the size of
    float16). ``rows`` reads either as float32.
    """

    def __init__(
        self,
        vocab: list[str],
        vectors: np.ndarray,
        df: np.ndarray,
        n_docs: int,
        scales: np.ndarray | None = None,
    ) -> None:
        self.vocab = vocab
        self.ids = {w: i for i, w in enumerate(vocab)}
        self.vectors = vectors
        self.scales = scales
        self.df = df
        self.n_docs = max(1, n_docs)
        self._counted = n_docs  # texts counted in df (n_docs is kept >= 1 for idf)

    @classmethod
    def count(cls, texts: Iterable[str]) -> tuple[list[str], np.ndarray, int]:
        """Vocabulary (sorted) and document frequencies of a collection of texts."""
        df: Counter[str] = Counter()
        n = 0
        for text in texts:
            df.update(set(words(text)))
            n += 1
        vocab = sorted(df)
        return vocab, np.array([df[w] for w in vocab], dtype=np.int32), n

    def updated_counts(
        self, removed: Iterable[str], added: Iterable[str]
    ) -> tuple[list[str], np.ndarray, int]:
        """``count`` of this lexicon's texts without ``removed`` and with ``added``, recounting only those.

        The result equals ``Lexicon.count`` of the new collection of texts; every text in
        ``removed`` must be one this lexicon counted.

        Returns:
            Vocabulary (sorted), document frequencies and number of texts.
        """
        delta: Counter[str] = Counter()
        n = self._counted
        for text in removed:
            delta.subtract(set(words(text)))
            n -= 1
        for text in added:
            delta.update(set(words(text)))
            n += 1
        fresh = sorted(w for w in delta if w not in self.ids)
        vocab = [*self.vocab, *fresh]
        df = np.concatenate([np.asarray(self.df, dtype=np.int64), np.zeros(len(fresh), dtype=np.int64)])
        ids = {**self.ids, **{w: len(self.vocab) + i for i, w in enumerate(fresh)}}
        for w, d in delta.items():
            df[ids[w]] += d
        if np.any(df < 0):
            raise ValueError("updated_counts: a removed text was never counted")
        # Two sorted runs: sorting merges them in linear time.
        order = np.arange(len(vocab))
        if fresh:
            order = np.array(sorted(range(len(vocab)), key=vocab.__getitem__), dtype=np.int64)
        keep = order[df[order] > 0]
        return [vocab[i] for i in keep.tolist()], df[keep].astype(np.int32), n

    def rows(self, ids: np.ndarray) -> np.ndarray:
        """The word vectors of ``ids`` as float32."""
        if self.scales is None:
            return float32_rows(self.vectors, ids)
        return Int8Rows(self.vectors, self.scales)[ids]

    def idf(self, word: str) -> float:
        i = self.ids.get(word)
        df = int(self.df[i]) if i is not None else 0
        return math.log(1.0 + self.n_docs / (df + 0.5))

    def content_ids(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Each text's distinct content-word ids, flat (int32), and how many each text has.

        The vocabulary holds no stop words, so looking every token up (in C, with map) gives
        the ids of words() at a fraction of its cost.
        """
        per_text = [set(map(self.ids.get, _WORD.findall(t.lower()))) for t in texts]
        for p in per_text:
            p.discard(None)
        lengths = np.fromiter((len(p) for p in per_text), dtype=np.int64, count=len(per_text))
        flat = np.fromiter(itertools.chain.from_iterable(per_text), dtype=np.int32, count=int(lengths.sum()))
        return flat, lengths

    def soft_coverage(self, query_words: list[str], query_vecs: np.ndarray, texts: list[str]) -> np.ndarray:
        """For each text, the IDF-weighted share of query words it contains or nearly contains.

        Args:
            query_words: distinct content words of the query.
            query_vecs: their embeddings (rows aligned with query_words).
            texts: candidate sentences.

        Returns:
            One value in [0, 1] per text.
        """
        return self.coverage(query_words, query_vecs, *self.content_ids(texts))

    def coverage(
        self, query_words: list[str], query_vecs: np.ndarray, flat: np.ndarray, lengths: np.ndarray
    ) -> np.ndarray:
        """soft_coverage of texts given as their content-word ids (as content_ids returns them)."""
        out = np.zeros(len(lengths), dtype=np.float32)
        if not query_words or not len(lengths) or not lengths.sum():
            return out
        weights = np.array([self.idf(w) for w in query_words], dtype=np.float32)
        weights /= weights.sum()
        # One gather of word vectors and one product for all texts: a question re-scores
        # dozens of candidate chunks, and a loop per sentence dominated quote selection.
        unique, inverse = np.unique(flat, return_inverse=True)
        # (words x dim) @ (dim x query words): twice as fast as the other way round here.
        sims = (self.rows(unique) @ query_vecs.T).T
        has = lengths > 0
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])[has]
        best = np.maximum.reduceat(sims[:, inverse], starts, axis=1)  # per query word, per text
        out[has] = (np.where(best >= MATCH_FLOOR, best, 0.0) * weights[:, None]).sum(axis=0)
        return out


# Files of a generation holding every sentence's content-word ids (optional: older indexes lack
# them, and questions then look the words up from the sentence text).
WORD_FILES = ("sentence_words.npy", "sentence_word_offsets.npy")


@dataclass(frozen=True, eq=False)  # arrays: compare their fields, not the objects
class SentenceWords:
    """Every sentence's distinct content-word ids into the vocabulary, found at build time.

    Sentence i (in the order of the sentence vectors) has ``ids[offsets[i]:offsets[i + 1]]``.
    Re-scoring a question's candidates then looks up no word: that was a third of its cost.
    """

    ids: np.ndarray | RowFile  # int32
    offsets: np.ndarray  # int64, one more than there are sentences
    vocabulary: int = 0  # ids are below this (0: not known, not checked)

    def save(self, folder: Path) -> None:
        np.save(folder / WORD_FILES[0], np.ascontiguousarray(self.ids, dtype=np.int32))
        np.save(folder / WORD_FILES[1], np.ascontiguousarray(self.offsets, dtype=np.int64))

    @classmethod
    def load(cls, folder: Path, sentences: int, vocabulary: int) -> SentenceWords | None:
        """The words of a generation with so many sentences and words; None when inconsistent."""
        try:
            # Read, not mapped: a question reads its candidates' runs of ids (qa/rowfile.py).
            ids = RowFile(folder / WORD_FILES[0])
            offsets = np.load(folder / WORD_FILES[1], mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError):
            return None
        # Types and shapes only: reading every id (30 million at a million chunks) would put the
        # whole file in memory before the first answer. The ids a question reads are checked in
        # of(), and the manifest's checksums cover the rest.
        if not consistent(ids, offsets, sentences, vocabulary, scan=False):
            return None
        return cls(ids, offsets, vocabulary)

    def of(self, sentences: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The flat ids and the counts of these sentences (rows), in their order."""
        sentences = np.asarray(sentences, dtype=np.int64)
        first = np.asarray(self.offsets[sentences], dtype=np.int64)
        lengths = np.asarray(self.offsets[sentences + 1], dtype=np.int64) - first
        if np.any(lengths < 0):
            raise IndexCorrupt("the stored sentence words are damaged; run `qa build --rebuild`")
        ids = np.asarray(read_spans(self.ids, first, lengths), dtype=np.int32)
        if self.vocabulary and ids.size and (ids.min() < 0 or ids.max() >= self.vocabulary):
            raise IndexCorrupt("the stored sentence words are damaged; run `qa build --rebuild`")
        return ids, lengths
