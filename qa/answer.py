"""From ranked chunks to an Answer: pick each passage's answer sentence, cut a short quote
around it, and decide whether anything answers at all.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Protocol

import numpy as np

from . import answer_types
from .answer_types import AnswerTypes
from .embedding import Embedder, resolve_model
from .lexicon import MATCH_FLOOR, Lexicon, words
from .quantize import float32_rows
from .ragged import span_positions
from .retrieval import RRF_K, Hit
from .settings import Settings
from .store import StoredIndex
from .types import Chunk, Passage, Sentence

# How many fused candidates are re-scored sentence by sentence.
RESCORE = 60
# A sentence opening with one of these leans on the one before it, which the quote then includes.
_ANAPHOR = re.compile(
    r"^(?:This|These|That|Those|It|Its|They|Their|Them|Such|He|She|His|Her|However|But|"
    r"Also|Unlike|Both|Each|The company|The firm)\b"
)
_BLANK_LINE = re.compile(r"\n[ \t]*\n")

# What a sentence of an answer type the question asks for gains (qa/answer_types.py).
ANSWER_TYPE_BONUS = 0.15
# What a sentence holding what the question requires (answer_types.REQUIRED: a date for "when",
# an amount for "how much does it cost") gains once the best passage by meaning states it, so
# the question is answered: "qwen customer count - as of what date?" then quotes "... 290,000
# customers ... as of January 2026" before "Total Customers: 290,000+". Whether it is answered
# is decided before this bonus: with it, the nearest date would answer any "when" question.
# Over seventeen gold sets 0.15 moved one question to rank 1, 0.3 three and 0.45-1.0 four,
# with no abstention changed at any of them: 0.45 is the lowest value of that plateau.
REQUIRED_BONUS = 0.45
# What a sentence that leans on the one before it (_ANAPHOR: "This approach ...", "It ...")
# loses: it states less than it seems to, and its summing-up words ("strategic benefits",
# "usage growth") match broad questions better than the sentence that holds the fact. Chosen on
# the seed gold set (0.10-0.15 gain there, 0.08 nothing, 0.20 loses), checked on the held-out
# set and SciFact (README, "How the defaults were chosen"). A sentence that holds an answer type
# the question asks for states the fact itself ("This strategy parallels ... like Amazon Web
# Services" for "What is it likened to?") and loses nothing.
ANAPHOR_PENALTY = 0.12
# What a sentence holding what the question's pick types look for (answer_types: "However, ..."
# for "What are the drawbacks ...?") gains when its passage's answer sentence is chosen; the
# passage ranks by its sentences' scores without it. Chosen on the gold sets: 0.3 moved the
# highlight to the drawback in three of the five sets that asked for one then (0.1-0.2: one);
# over nine sets 0.5 moved one more and 0.6 two more, and 0.6-1.0 score alike (no highlight
# lost, no Hit@k changed). Gold set 19's "What's the downside of China's flexible rules for
# companies?" needed 0.7 (its "However, ..." sentence fell 0.013 short at 0.6); over twenty
# sets 0.7-1.0 score alike: 0.7 is the lowest value of that plateau.
PICK_BONUS = 0.7


@dataclass(frozen=True)
class Query:
    """What is searched: the text, its embedding, and its content words with their vectors."""

    text: str
    vec: np.ndarray
    words: list[str]
    word_vecs: np.ndarray
    types: AnswerTypes = AnswerTypes()  # what kind of answer it asks for


# "What sources was this piece based on?": a question calls the document it asks about a piece or
# a story, words MiniLM does not take for "article" (the seed's "Source: Based on reporting
# from ..." line is 0.24 from the question as written, 0.46 with "this article"). The question's
# vector is of the text with "article" in their place; its words are as written.
_THE_DOCUMENT = re.compile(r"\b(the|this) (?:piece|story|write-?up)\b", re.I)


def as_embedded(text: str) -> str:
    """The text a question's vector is of (``_THE_DOCUMENT``)."""
    return _THE_DOCUMENT.sub(r"\1 article", text)


# Vectors of question words the corpus does not have, kept across questions (per model): a
# word costs a slot in the question's forward pass, about a millisecond each.
WORD_CACHE_SIZE = 20_000
_word_cache: OrderedDict[tuple[str, str, str], np.ndarray] = OrderedDict()
_word_cache_lock = threading.Lock()


def make_query(text: str, embedder: Embedder, lexicon: Lexicon) -> Query:
    """Embed a query and its content words (words the corpus knows are looked up, not encoded)."""
    qwords = list(dict.fromkeys(words(text)))
    model = (embedder.model_id, str(getattr(embedder, "precision", "")))
    with _word_cache_lock:
        cached = {w: _word_cache[(*model, w)] for w in qwords if (*model, w) in _word_cache}
    unknown = [w for w in qwords if w not in lexicon.ids and w not in cached]
    vecs = embedder.encode([as_embedded(text), *unknown])
    fresh = {**cached, **dict(zip(unknown, vecs[1:], strict=True))}
    with _word_cache_lock:
        for w, v in fresh.items():
            _word_cache[(*model, w)] = v
            _word_cache.move_to_end((*model, w))
        while len(_word_cache) > WORD_CACHE_SIZE:
            _word_cache.popitem(last=False)
    known = [w for w in qwords if w not in fresh]
    stored = dict(
        zip(known, lexicon.rows(np.array([lexicon.ids[w] for w in known], dtype=np.int64)), strict=True)
    )
    word_vecs = np.array([fresh[w] if w in fresh else stored[w] for w in qwords], dtype=np.float32).reshape(
        len(qwords), vecs.shape[1]
    )
    return Query(text, vecs[0], qwords, word_vecs, answer_types.of_question(text, qwords, word_vecs, lexicon))


@dataclass(frozen=True)
class Scored:
    """A candidate chunk with its best sentence and the score that ranked it."""

    row: int
    score: float
    best: int  # index of the answer sentence inside the chunk
    # The own cosine similarity to the query of the sentence that ranks the chunk (the answer
    # sentence, unless a pick type chose another one to highlight).
    similarity: float = 0.0
    # The next sentence leans on the answer sentence (_ANAPHOR) and scored at least as high but
    # for ANAPHOR_PENALTY: the two make the answer together, and both are highlighted.
    follower: bool = False


def sentence_text(chunk: Chunk, sent: Sentence) -> str:
    return chunk.text[sent.start - chunk.start : sent.end - chunk.start]


def rescore(index: StoredIndex, hits: list[Hit], query: Query, settings: Settings) -> list[Scored]:
    """The top fused candidates, ranked by their best sentence (or kept in fused order).

    A sentence's answer score is its own similarity, plus its chunk's similarity (the context it
    sits in) and its chunk's place in the fused ranking (what BM25 saw), plus soft keyword
    coverage (the question's rare words, or near synonyms, appear in it), plus a bonus when it
    holds the expected answer type, less a little when it leans on the sentence before it
    without holding that type.
    """
    candidates = _Candidates.of(index, hits, query, settings)
    return candidates.ranked(query, settings) if candidates is not None else []


def rescore_required(
    index: StoredIndex, hits: list[Hit], query: Query, settings: Settings
) -> tuple[list[Scored], list[Scored]]:
    """``rescore``'s ranking, and the same candidates ranked with REQUIRED_BONUS for a sentence
    that states what the question requires (``query.types.required``), from one scoring pass."""
    candidates = _Candidates.of(index, hits, query, settings)
    if candidates is None:
        return [], []
    scores, typed = candidates.scores, candidates.typed
    for states, _ in query.types.required:
        found = candidates.holding(states)
        typed = np.maximum(typed, found)
        scores = scores + REQUIRED_BONUS * found
    return candidates.ranked(query, settings), candidates.ranked(query, settings, scores, typed)


class _Finds(Protocol):
    """An answer type's test of a text: a compiled pattern, ``NamesOther``, ``CountOf`` ..."""

    def search(self, text: str) -> object: ...


@dataclass(frozen=True)
class _Candidates:
    """The top fused candidates' sentences, scored (``rescore``) before the anaphor penalty."""

    top: list[Hit]
    texts: list[str]
    owner: np.ndarray  # owner[i]: the candidate sentence i belongs to
    starts: np.ndarray  # each candidate's first sentence
    sims: np.ndarray  # each sentence's own cosine similarity to the query
    scores: np.ndarray
    typed: np.ndarray  # 1 where a sentence holds an answer type the question asks for
    leans: np.ndarray  # 1 where a sentence leans on the one before it (_ANAPHOR)

    @classmethod
    def of(cls, index: StoredIndex, hits: list[Hit], query: Query, settings: Settings) -> _Candidates | None:
        top = list(hits[:RESCORE])
        rows = np.array([h.row for h in top], dtype=np.int64)
        first = np.asarray(index.sentence_offsets[rows], dtype=np.int64)
        counts = np.asarray(index.sentence_offsets[rows + 1], dtype=np.int64) - first
        if np.any(counts == 0):  # a chunk without sentences has nothing to quote
            keep = counts > 0
            top, rows, first, counts = (
                [h for h, k in zip(top, keep, strict=True) if k],
                rows[keep],
                first[keep],
                counts[keep],
            )
        if not top:
            return None
        # Every candidate sentence's vector in one gather and one product.
        spans = span_positions(first, counts)
        all_sims = float32_rows(index.sentence_vectors, spans) @ query.vec
        stored = index.sentence_words
        # Chunks are built from the on-disk table on access: build each candidate's once.
        texts = [sentence_text(c, s) for c in index.chunks.take(rows.tolist()) for s in c.sentences]
        if stored is not None:
            coverage = index.lexicon.coverage(query.words, query.word_vecs, *stored.of(spans))
        else:  # an index from before sentence words were stored
            coverage = index.lexicon.soft_coverage(query.words, query.word_vecs, texts)
        # All candidates' sentences at once.
        owner = np.repeat(np.arange(len(top)), counts)
        scores = settings.lexical_weight * coverage
        if settings.dense_weight > 0:
            dense = np.array([h.dense for h in top], dtype=np.float32)
            scores = scores + all_sims + settings.chunk_weight * dense[owner]
        if settings.fusion_weight > 0 and settings.dense_weight + settings.bm25_weight > 0:
            # The fused rank, scaled so that first in both rankings is 1.
            fused = (
                np.array([h.fused for h in top], dtype=np.float32)
                * RRF_K
                / (settings.dense_weight + settings.bm25_weight)
            )
            scores = scores + settings.fusion_weight * fused[owner]
        candidates = cls(
            top,
            texts,
            owner,
            np.concatenate([[0], np.cumsum(counts)[:-1]]),
            all_sims,
            scores,
            np.zeros(len(texts), dtype=np.float32),
            np.fromiter((bool(_ANAPHOR.match(t)) for t in texts), dtype=np.float32, count=len(texts)),
        )
        typed = candidates.typed
        for expected in query.types.rank:
            found = candidates.holding(expected)
            typed = np.maximum(typed, found)
            scores = scores + ANSWER_TYPE_BONUS * found
        return replace(candidates, scores=scores, typed=typed)

    def holding(self, pattern: _Finds) -> np.ndarray:
        """1 for each sentence ``pattern`` finds something in, else 0."""
        return np.fromiter(
            (bool(pattern.search(t)) for t in self.texts), dtype=np.float32, count=len(self.texts)
        )

    def ranked(
        self,
        query: Query,
        settings: Settings,
        scores: np.ndarray | None = None,
        typed: np.ndarray | None = None,
    ) -> list[Scored]:
        """The candidates ranked by ``scores`` (their own by default), each with its answer sentence."""
        scores = self.scores if scores is None else scores
        typed = self.typed if typed is None else typed
        owner, starts, leans = self.owner, self.starts, self.leans
        scores = scores - ANAPHOR_PENALTY * leans * (1 - typed)
        # Each candidate's answer sentence: the first one at its best score with the pick types'
        # bonus (a sentence they mark leans on the one before without losing for it); the
        # candidate ranks by its best score without it.
        pick = scores
        for mark in query.types.pick:
            marked = self.holding(mark)
            within = getattr(mark, "within", None)
            if within is not None:  # only sentences nearly as close as their passage's closest
                closest = np.maximum.reduceat(self.sims, starts)[owner]
                marked = marked * (self.sims >= closest - within)
            pick = pick + (PICK_BONUS + ANAPHOR_PENALTY * leans * (1 - typed)) * marked
        best = _first_peaks(pick, owner, starts)
        # The sentence that ranks the candidate also gives the similarity `found` is decided by:
        # a pick moves the highlight, never the answer's score or its abstention.
        ranking = best if pick is scores else _first_peaks(scores, owner, starts)
        ranked_by = scores[ranking]
        after = np.minimum(best + 1, len(scores) - 1)
        follows = (
            (after > best)
            & (owner[after] == owner[best])
            & (leans[after] > 0)
            & (scores[after] + ANAPHOR_PENALTY * (1 - typed[after]) >= scores[best])
        )
        scored = [
            Scored(
                hit.row,
                float(score) if settings.rescore else hit.fused,
                int(b - start),
                float(self.sims[r]),
                bool(f),
            )
            for hit, score, b, r, start, f in zip(
                self.top,
                ranked_by.tolist(),
                best.tolist(),
                ranking.tolist(),
                starts.tolist(),
                follows.tolist(),
                strict=True,
            )
        ]
        if settings.rescore:
            scored.sort(key=lambda s: -s.score)
        return scored


def _first_peaks(values: np.ndarray, owner: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """For each candidate (sentences ``owner``-grouped from ``starts``), its first sentence at its highest value."""
    at_peak = np.flatnonzero(values >= np.maximum.reduceat(values, starts)[owner])
    return at_peak[np.unique(owner[at_peak], return_index=True)[1]]


# How many of the best candidates an optional cross-encoder re-orders.
RERANK_TOP = 20
_rerank_lock = threading.Lock()


@lru_cache(maxsize=2)
def _cross_encoder(name: str):
    from sentence_transformers import CrossEncoder

    return CrossEncoder(resolve_model(name), device="cpu")


def rerank(index: StoredIndex, scored: list[Scored], query: Query, reranker: str) -> list[Scored]:
    """Re-order the best candidates with a cross-encoder reading question and chunk together.

    Abstention still comes from the calibrated embedding similarity, whose scale is known.
    """
    top, rest = scored[:RERANK_TOP], scored[RERANK_TOP:]
    if not top:
        return scored
    pairs = [(query.text, index.chunks[s.row].embed_text) for s in top]
    with _rerank_lock:
        logits = _cross_encoder(reranker).predict(pairs, show_progress_bar=False)
    order = np.argsort(-np.asarray(logits, dtype=np.float32), kind="stable")
    return [top[i] for i in order] + rest


def _word_count(text: str) -> int:
    return len(text.split())


def quote(index: StoredIndex, item: Scored, settings: Settings) -> Passage:
    """A short verbatim quote around the answer sentence, never cutting a sentence."""
    chunk = index.chunks[item.row]
    sents = chunk.sentences
    first = last = item.best
    words = _word_count(sentence_text(chunk, sents[item.best]))
    # When the answer sentence leans on the one before it ("This growth..."), that one comes
    # too, taken from the previous chunk if the answer opens this one.
    lead_in: Chunk | None = None
    if _ANAPHOR.match(sentence_text(chunk, sents[item.best])):
        if item.best > 0 and _same_block(chunk, item.best - 1, item.best):
            first -= 1
            words += _word_count(sentence_text(chunk, sents[first]))
        elif item.best == 0 and item.row > 0 and not _BLANK_LINE.search(chunk.gap_before):
            prev = index.chunks[item.row - 1]
            if prev.doc_id == chunk.doc_id and prev.heading == chunk.heading:
                lead_in = prev
                words += _word_count(sentence_text(prev, prev.sentences[-1]))
    # Grow by whole sentences of the same paragraph while the quote stays short: the next
    # sentence first (it usually completes the answer), then the one before.
    while last - first < 2:
        for cand in (last + 1, first - 1):
            if not 0 <= cand < len(sents) or (lead_in is not None and cand < first):
                continue
            w = _word_count(sentence_text(chunk, sents[cand]))
            if words + w <= settings.quote_words and _same_block(chunk, min(cand, first), max(cand, last)):
                first, last, words = min(first, cand), max(last, cand), words + w
                break
        else:
            break
    start, end = sents[first].start, sents[last].end
    text = chunk.text[start - chunk.start : end - chunk.start]
    if lead_in is not None:
        start = lead_in.sentences[-1].start
        text = lead_in.text[start - lead_in.start :] + chunk.gap_before + text
    best = sents[item.best]
    # The sentence after the answer that outscored it before the anaphor penalty is the other
    # half of the answer ("... DeepSeek's R1 ... Such breakthroughs challenge assumptions that
    # ..."): highlighted with it when the quote holds it.
    hl_end = sents[item.best + 1].end if item.follower and item.best + 1 <= last else best.end
    return Passage(
        text=text,
        source=chunk.doc_id,
        start=start,
        end=end,
        highlight=(best.start - start, hl_end - start),
        score=round(item.score, 4),
        heading=chunk.heading,
    )


def _same_block(chunk: Chunk, first: int, last: int) -> bool:
    """Whether sentences first..last sit in one paragraph or one list (no blank line between)."""
    sents = chunk.sentences
    return not _BLANK_LINE.search(chunk.text, sents[first].start - chunk.start, sents[last].end - chunk.start)


def rank(index: StoredIndex, hits: list[Hit], query: Query, settings: Settings) -> list[tuple[int, float]]:
    """Every candidate chunk row with its final score, best first: re-scored ones, then the rest."""
    scored = rescore(index, hits, query, settings)
    if settings.reranker:
        scored = rerank(index, scored, query, settings.reranker)
    done = {s.row for s in scored}
    floor = min((s.score for s in scored), default=0.0)
    rest = [(h.row, floor - 1e-6 * (i + 1)) for i, h in enumerate(hits) if h.row not in done]
    return [(s.row, s.score) for s in scored] + rest


def select(
    index: StoredIndex, hits: list[Hit], query: Query, settings: Settings, k: int
) -> tuple[bool, list[Passage]]:
    """The k best non-overlapping quotes and whether the best one answers the query."""
    found, _, stream = quotes(index, hits, query, settings)
    return found, list(itertools.islice(stream, k))


def lacks(index: StoredIndex, scored: list[Scored], query: Query) -> str | None:
    """What the question asks for that the best of the ``scored`` candidates does not state
    (``answer_types.lacks``), or a name it relies on that the documents never mention
    ("mention of Huawei", ``unknown_name``); None when neither.

    The whole chunk the quote is cut from counts, so an answer beside the answer sentence does.
    """
    if not scored:
        return None
    lacking = answer_types.lacks(query.types, index.chunks[scored[0].row].text, index.lexicon)
    if lacking is None and (name := unknown_name(index, scored, query)) is not None:
        lacking = f"mention of {name}"
    return lacking


# What a stem takes to name a people or its members: "Western" -> "Westerners", "Europe" ->
# "Europeans" and "European" -> "Europeans".
_NAME_SUFFIXES = frozenset(("s", "es", "er", "ers", "an", "ans", "n", "ns", "ian", "ians"))


def _stem_of(word: str, name: str) -> bool:
    """Whether ``word`` is ``name`` without one of _NAME_SUFFIXES."""
    return name.startswith(word) and name[len(word) :] in _NAME_SUFFIXES


def unknown_name(index: StoredIndex, scored: list[Scored], query: Query) -> str | None:
    """A name the question relies on that no document has, nor any candidate passage a word
    close to it (MATCH_FLOOR, as soft keyword matching counts closeness), as the question
    writes it; None when the documents mention every name.

    "Which chips, such as Huawei Ascend, does Alibaba use?" asked of documents that never name
    Huawei is not answered by their passage on domestic chips, however close its topic; "How
    does Beijing regulate AI?" is, by one about China (0.76). A word inside the name does not
    count: "open" is 0.53 from "OpenAI".
    """
    absent = [(w, form) for w, form in query.types.names if w not in index.lexicon.ids]
    if not absent or not scored:
        return None
    rows = np.array([s.row for s in scored], dtype=np.int64)
    first = np.asarray(index.sentence_offsets[rows], dtype=np.int64)
    counts = np.asarray(index.sentence_offsets[rows + 1], dtype=np.int64) - first
    spans = span_positions(first, counts)
    if index.sentence_words is not None:
        flat, _ = index.sentence_words.of(spans)
    else:  # an index from before sentence words were stored
        texts = [sentence_text(c, s) for c in index.chunks.take(rows.tolist()) for s in c.sentences]
        flat, _ = index.lexicon.content_ids(texts)
    ids = np.unique(np.asarray(flat, dtype=np.int64))
    vecs = query.word_vecs[[query.words.index(w) for w, _ in absent]]
    closest = np.full(len(absent), -1.0)
    if len(ids):
        sims = index.lexicon.rows(ids) @ vecs.T
        # A word inside the name ("open" of "OpenAI") is close to it by the tokenizer's pieces,
        # not by meaning; its stem is the name ("Western" of "Westerners").
        vocab = index.lexicon.vocab
        inside = np.array(
            [[vocab[i] in w and not _stem_of(vocab[i], w) for w, _ in absent] for i in ids.tolist()],
            dtype=bool,
        )
        closest = np.where(inside, -1.0, sims).max(axis=0)
    return next(
        (form for (_, form), c in zip(absent, closest.tolist(), strict=True) if c < MATCH_FLOOR), None
    )


def quotes(
    index: StoredIndex, hits: list[Hit], query: Query, settings: Settings
) -> tuple[bool, str | None, Iterator[Passage]]:
    """Whether the best quote answers the query, what it lacks if that is why not (``lacks``),
    and the non-overlapping quotes, best first.

    The quotes are cut as they are read: a caller that shows five pays for about five, not for
    every re-scored candidate.
    """
    if query.types.required:
        scored, answered = rescore_required(index, hits, query, settings)
    else:
        scored = answered = rescore(index, hits, query, settings)
    lacking = lacks(index, scored, query)
    found = bool(scored) and scored[0].similarity >= settings.found_threshold and lacking is None
    if lacking is None:
        scored = answered
    if settings.reranker:
        scored = rerank(index, scored, query, settings.reranker)

    def stream() -> Iterator[Passage]:
        made: list[Passage] = []
        for item in scored:
            p = quote(index, item, settings)
            if any(q.source == p.source and q.start < p.end and p.start < q.end for q in made):
                continue
            made.append(p)
            yield p

    return found, lacking, stream()
