"""From ranked chunks to an Answer: pick each passage's answer sentence, cut a short quote
around it, and decide whether anything answers at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .retrieval import Hit, tokenize
from .settings import Settings
from .store import StoredIndex
from .types import Chunk, Passage, Sentence

# How many fused candidates are re-scored sentence by sentence.
RESCORE = 20
# Weight of keyword coverage against embedding similarity when scoring a sentence.
LEXICAL_WEIGHT = 0.15
# A sentence opening with one of these leans on the one before it, which the quote then includes.
_ANAPHOR = re.compile(
    r"^(?:This|These|That|Those|It|Its|They|Their|Them|Such|He|She|His|Her|However|But|"
    r"Also|Unlike|Both|Each|The company|The firm)\b"
)
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


@dataclass(frozen=True)
class Scored:
    """A candidate chunk with its best sentence and the scores that ranked it."""

    row: int
    score: float
    best: int  # index of the answer sentence inside the chunk
    sentence_scores: tuple[float, ...]


def _coverage(query_terms: set[str], text: str) -> float:
    if not query_terms:
        return 0.0
    return len(query_terms & set(tokenize([text])[0])) / len(query_terms)


def sentence_text(chunk: Chunk, sent: Sentence) -> str:
    return chunk.text[sent.start - chunk.start : sent.end - chunk.start]


def rescore(
    index: StoredIndex, hits: list[Hit], query: str, query_vec: np.ndarray, settings: Settings
) -> list[Scored]:
    """Re-rank the top fused candidates by how well their best sentence answers the query."""
    top = hits[:RESCORE]
    if not top:
        return []
    query_terms = set(tokenize([query])[0])
    best_fused = top[0].fused
    scored = []
    for hit in top:
        chunk = index.chunks[hit.row]
        lo, hi = index.sentence_offsets[hit.row], index.sentence_offsets[hit.row + 1]
        sims = np.asarray(index.sentence_vectors[lo:hi], dtype=np.float32) @ query_vec
        if settings.dense_weight == 0:
            sims = np.zeros_like(sims)
        lexical = [_coverage(query_terms, sentence_text(chunk, s)) for s in chunk.sentences]
        sent_scores = sims + LEXICAL_WEIGHT * np.asarray(lexical, dtype=np.float32)
        best = int(np.argmax(sent_scores))
        # The fused rank says which chunk is about the question, the best sentence whether it
        # answers; both count.
        score = settings.sentence_weight * float(sent_scores[best]) + hit.fused / best_fused * 0.25
        scored.append(Scored(hit.row, score, best, tuple(float(x) for x in sent_scores)))
    scored.sort(key=lambda s: -s.score)
    return scored


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
    return Passage(
        text=text,
        source=chunk.doc_id,
        start=start,
        end=end,
        highlight=(best.start - start, best.end - start),
        score=round(item.score, 4),
        heading=chunk.heading,
    )


def _same_block(chunk: Chunk, first: int, last: int) -> bool:
    """Whether sentences first..last sit in one paragraph or one list (no blank line between)."""
    sents = chunk.sentences
    return not _BLANK_LINE.search(chunk.text, sents[first].start - chunk.start, sents[last].end - chunk.start)


def select(
    index: StoredIndex,
    hits: list[Hit],
    query: str,
    query_vec: np.ndarray,
    settings: Settings,
    k: int,
) -> tuple[bool, list[Passage]]:
    """The k best non-overlapping quotes and whether the best one answers the query."""
    scored = rescore(index, hits, query, query_vec, settings)
    passages: list[Passage] = []
    for item in scored:
        p = quote(index, item, settings)
        if any(q.source == p.source and q.start < p.end and p.start < q.end for q in passages):
            continue
        passages.append(p)
        if len(passages) == k:
            break
    found = bool(scored) and scored[0].score >= settings.found_threshold
    return found, passages
