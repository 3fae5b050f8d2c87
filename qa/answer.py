"""From ranked chunks to an Answer: pick each passage's answer sentence, cut a short quote
around it, and decide whether anything answers at all.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .embedding import Embedder, resolve_model
from .lexicon import MATCH_FLOOR, Lexicon, words
from .quantize import float32_rows
from .ragged import span_positions
from .retrieval import Hit
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

# Answer types, the oldest trick of question answering: a "how many" question is answered by
# a sentence with a number in it, a "when" question by one with a date.
_MONTHS = r"January|February|March|April|May|June|July|August|September|October|November|December"
_AUXILIARY = r"do|does|did|is|are|was|were|has|have|had|can|could|will|would|should|may|might|must"
# "When" asks only when an auxiliary follows it ("When did it start?"); elsewhere it is a
# conjunction ("What do companies face when they build on it?").
ASKS_WHEN = re.compile(
    rf"\bwhen (?:{_AUXILIARY})\b|\bwhat (?:year|date|month|day|time)\b|\bsince when\b|\bhow long ago\b",
    re.I,
)
DATE = re.compile(
    rf"\b(?:1[5-9]|20)\d\d(?:s\b|\b)|\b(?:{_MONTHS})\b|\b(?:yesterday|today|tomorrow|recently)\b"
    r"|\b(?:last|this|next) (?:year|month|week|decade|quarter|spring|summer|autumn|fall|winter)\b"
    r"|\b(?:years?|months?|weeks?|days?|decades?) (?:ago|later|earlier)\b",
    re.I,
)
ANSWER_TYPES = (
    (
        re.compile(
            r"\bhow (?:many|much|large|big|fast|long)\b|\bnumber of\b|\bwhat (?:percentage|share)\b",
            re.I,
        ),
        re.compile(r"\d"),
    ),
    (ASKS_WHEN, DATE),
)
# What a sentence of the expected answer type gains.
ANSWER_TYPE_BONUS = 0.15
# What a sentence that leans on the one before it (_ANAPHOR: "This approach ...", "It ...")
# loses: it states less than it seems to, and its summing-up words ("strategic benefits",
# "usage growth") match broad questions better than the sentence that holds the fact. Chosen on
# the seed gold set (0.10-0.15 gain there, 0.08 nothing, 0.20 loses), checked on the held-out
# set and SciFact (README, "How the defaults were chosen").
ANAPHOR_PENALTY = 0.12

# "Which company ...", "Through which service ...", "What research organization ...": the
# answer names something. The kinds of thing that have names, and up to two words between
# (never an auxiliary: "What do robot makers use it for?" asks for no name).
_NAMED_KINDS = (
    r"company|companies|firms?|organi[sz]ations?|agency|agencies|institutions?|university|universities|"
    r"services?|products?|platforms?|brands?|models?|country|countries|city|cities|person|"
    r"(?:chip|auto|car)?makers?|manufacturers?|vendors?|publications?|newspapers?|outlets?|"
    r"rivals?|competitors?|partners?"
)
ASKS_NAME = re.compile(
    rf"\b(?:which|what)\s+(?:(?!(?:{_AUXILIARY})\b)[\w'-]+\s+){{0,2}}?(?:{_NAMED_KINDS})\b", re.I
)
# A capitalized word, or one with a digit in it ("R1", "x86").
_NAME_WORD = re.compile(r"(?<![\w'])([A-Z][\w&.'-]*|[A-Za-z]*\d[\w-]*)")
_SENTENCE_OPENING = re.compile(r"^[\W\d]*$|:\s*$")
# A name in more than this share of the chunks is the corpus's topic ("Qwen" in an article
# about Qwen), not an answer.
TOPIC_SHARE = 0.25
# Capitalized, but dates rather than names.
_CALENDAR = frozenset(
    (_MONTHS + "|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday").lower().split("|")
)


class NamesOther:
    """Matches a sentence that names something the question does not (ASKS_NAME's answer type).

    A capitalized word counts unless it opens the sentence (there any word is capitalized; a
    word with a second capital or a digit, "IAPP" or "R1", still counts), is one of the
    question's words, a month or a weekday, a bare number, or is in more than TOPIC_SHARE of
    the chunks.
    """

    def __init__(self, question_words: list[str], lexicon: Lexicon) -> None:
        self.known = frozenset(question_words)
        self.lexicon = lexicon

    def search(self, text: str) -> bool:
        for m in _NAME_WORD.finditer(text):
            word = m.group(1)
            base = re.sub(r"'s$", "", word).strip(".'-").lower()
            if (
                not base
                or base in self.known
                or base in _CALENDAR
                or base.replace(",", "").replace(".", "").isdigit()
            ):
                continue
            if _SENTENCE_OPENING.search(text[: m.start()]) and not re.search(r"[A-Z\d]", word[1:]):
                continue
            i = self.lexicon.ids.get(base)
            if i is not None and self.lexicon.df[i] > TOPIC_SHARE * self.lexicon.n_docs:
                continue
            return True
        return False


# A question about an amount of money (a price, a cost, a revenue) is answered only by a passage
# that states one, in a currency or as free: when the best passage has none, the documents do
# not say, however close its topic.
ASKS_MONEY = re.compile(
    r"\bhow much\b(?:\s+\S+){0,6}?\s+(?:cost|costs|charge|charges|charged|pay|pays|paid|spend|spends|"
    r"spent|earn|earns|earned|sell|sells|sold|price|priced|worth|raise|raised|invest|invests|invested|"
    r"investing)\b|\bhow much money\b"
    r"|\bhow (?:expensive|costly|cheap)\b"
    r"|\bwhat (?:does|do|did) (?:\S+\s+){1,6}?cost\b"
    r"|\bwhat (?:is|was|are|were) (?:(?:the|its|their|\S+'s|\S+s')\s+){0,3}(?:price|prices|cost|costs|fee|fees|"
    r"revenue|revenues|profit|profits|salary|valuation|budget|turnover)\b",
    re.I,
)
MONEY = re.compile(
    r"[$€£¥₹]\s?\d|\d\s?[$€£¥₹]"
    r"|\b(?:USD|EUR|GBP|CNY|RMB|JPY|INR|CHF|AUD|CAD)\b"
    r"|\b(?:dollars?|euros?|pounds? sterling|yuan|renminbi|yen|rupees?|francs?|cents?)\b"
    r"|\bfree(?:ly)?\b|\bno (?:extra )?(?:cost|charge)\b|\bcosts? nothing\b",
    re.I,
)
# A question about a share (a percentage, a proportion) is answered only by a passage with a
# number or a fraction in it.
ASKS_SHARE = re.compile(
    r"\bwhat (?:percentage|percent|share|proportion|fraction)\b"
    r"|\bwhat (?:is|was|are|were) (?:(?:the|its|their|\S+'s|\S+s')\s+){0,3}(?:share|percentage|proportion)\b",
    re.I,
)
SHARE = re.compile(r"\d|\b(?:half|third|quarter|fifth|tenth|majority|minority|percent|per cent)\b", re.I)
# Which of the types above decide `found`: a best passage that states none of what the question
# asks for (a date for "when", an amount for "how much does it cost") means the documents do
# not say, however close its topic. (Numbers are everywhere in most documents: "how many" is
# decided by the counted thing instead, see COUNTED.)
REQUIRED = (
    (ASKS_WHEN, DATE, "date"),
    (ASKS_MONEY, MONEY, "amount of money"),
    (ASKS_SHARE, SHARE, "percentage or share"),
)
# "How many customers ...", "the number of API calls": the counted thing is the first plural
# among the next three words ("Qwen customers", "API calls"), else the first word.
COUNTED = re.compile(
    r"\bhow many\s+((?:[\w-]+\s+){0,2}[\w-]+)|\bnumber of\s+((?:[\w-]+\s+){0,2}[\w-]+)", re.I
)
# Counting words that name no thing of their own ("how many times").
_NOT_COUNTED = frozenset({"times", "ways", "kinds", "types", "sorts"})
# A number of its own, in digits or words: not the digits of a name or version ("Qwen2.5", "COVID-19").
NUMERAL = re.compile(
    r"(?<![\w.-])\d[\w.,%-]*|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
    r"hundreds?|thousands?|millions?|billions?|dozens?)\b",
    re.I,
)
# How many content words on either side of a number may name what it counts.
COUNT_WINDOW = 3


@dataclass(frozen=True)
class Query:
    """What is searched: the text, its embedding, and its content words with their vectors."""

    text: str
    vec: np.ndarray
    words: list[str]
    word_vecs: np.ndarray
    answer_types: tuple[re.Pattern | NamesOther, ...] = ()  # what ranks a sentence higher
    required: tuple[tuple[re.Pattern, str], ...] = ()  # what the best passage must state, named
    counted: str | None = None  # what a "how many" question counts (one of ``words``)


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
    vecs = embedder.encode([text, *unknown])
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
    types = tuple(answer for asks, answer in ANSWER_TYPES if asks.search(text))
    types += (MONEY,) if ASKS_MONEY.search(text) else ()
    types += (NamesOther(qwords, lexicon),) if ASKS_NAME.search(text) else ()
    required = tuple((states, what) for asks, states, what in REQUIRED if asks.search(text))
    return Query(text, vecs[0], qwords, word_vecs, types, required, counted_word(text, qwords))


def counted_word(text: str, qwords: list[str]) -> str | None:
    """The thing a "how many" question counts, when it is one of its content words."""
    m = COUNTED.search(text)
    if m is None:
        return None
    following = (m.group(1) or m.group(2)).lower().split()
    plurals = [w for w in following if w.endswith("s") and not w.endswith("ss")]
    word = (plurals or following)[0]
    return word if word in qwords and word not in _NOT_COUNTED else None


@dataclass(frozen=True)
class Scored:
    """A candidate chunk with its best sentence and the score that ranked it."""

    row: int
    score: float
    best: int  # index of the answer sentence inside the chunk
    similarity: float = 0.0  # the answer sentence's own cosine similarity to the query


def sentence_text(chunk: Chunk, sent: Sentence) -> str:
    return chunk.text[sent.start - chunk.start : sent.end - chunk.start]


def rescore(index: StoredIndex, hits: list[Hit], query: Query, settings: Settings) -> list[Scored]:
    """The top fused candidates, ranked by their best sentence (or kept in fused order).

    A sentence's answer score is its own similarity, plus its chunk's similarity (the context it
    sits in), plus soft keyword coverage (the question's rare words, or near synonyms, appear in
    it), plus a bonus when it holds the expected answer type, less a little when it leans on the
    sentence before it.
    """
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
        return []
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
    # All candidates' sentences at once; owner[i] is the candidate sentence i belongs to.
    owner = np.repeat(np.arange(len(top)), counts)
    scores = settings.lexical_weight * coverage
    if settings.dense_weight > 0:
        dense = np.array([h.dense for h in top], dtype=np.float32)
        scores = scores + all_sims + settings.chunk_weight * dense[owner]
    for expected in query.answer_types:
        found = np.fromiter((bool(expected.search(t)) for t in texts), dtype=np.float32, count=len(texts))
        scores = scores + ANSWER_TYPE_BONUS * found
    leans = np.fromiter((bool(_ANAPHOR.match(t)) for t in texts), dtype=np.float32, count=len(texts))
    scores = scores - ANAPHOR_PENALTY * leans
    # Each candidate's answer sentence: the first one at its candidate's best score.
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    at_peak = np.flatnonzero(scores >= np.maximum.reduceat(scores, starts)[owner])
    best = at_peak[np.unique(owner[at_peak], return_index=True)[1]]
    scored = [
        Scored(
            hit.row, float(scores[b]) if settings.rescore else hit.fused, int(b - start), float(all_sims[b])
        )
        for hit, b, start in zip(top, best.tolist(), starts.tolist(), strict=True)
    ]
    if settings.rescore:
        scored.sort(key=lambda s: -s.score)
    return scored


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


def lacks(index: StoredIndex, best: Scored, query: Query) -> str | None:
    """What the question asks for that the best passage does not state ("date", "number of
    parameters"; REQUIRED, COUNTED), or None.

    The whole chunk the quote is cut from counts, so an answer beside the answer sentence does.
    """
    text = index.chunks[best.row].text
    for states, what in query.required:
        if not states.search(text):
            return what
    if query.counted is not None and not states_count(index.lexicon, text, query):
        return f"number of {query.counted}"
    return None


def states_count(lexicon: Lexicon, text: str, query: Query) -> bool:
    """Whether a number in text counts the question's counted thing.

    The counted word, or a word as close to it as MATCH_FLOOR ("customers" for "businesses"),
    must be among the COUNT_WINDOW content words on either side of the number.
    """
    counted = query.counted
    vec = query.word_vecs[query.words.index(counted)]
    lowered = text.lower()
    for m in NUMERAL.finditer(lowered):
        near = words(lowered[max(0, m.start() - 80) : m.start()])[-COUNT_WINDOW:]
        near += words(lowered[m.end() : m.end() + 80])[:COUNT_WINDOW]
        if counted in near:
            return True
        ids = np.array([lexicon.ids[w] for w in near if w in lexicon.ids], dtype=np.int64)
        if len(ids) and float(np.max(lexicon.rows(ids) @ vec)) >= MATCH_FLOOR:
            return True
    return False


def quotes(
    index: StoredIndex, hits: list[Hit], query: Query, settings: Settings
) -> tuple[bool, str | None, Iterator[Passage]]:
    """Whether the best quote answers the query, what it lacks if that is why not (``lacks``),
    and the non-overlapping quotes, best first.

    The quotes are cut as they are read: a caller that shows five pays for about five, not for
    every re-scored candidate.
    """
    scored = rescore(index, hits, query, settings)
    lacking = lacks(index, scored[0], query) if scored else None
    found = bool(scored) and scored[0].similarity >= settings.found_threshold and lacking is None
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
