"""HTML for the chat page: quotes, citations, the source viewer and the documents panel.

Everything taken from a document or a user goes through ``esc`` before it becomes HTML, and no
text goes through a markdown renderer, so a document holding ``<script>`` or ``![x](http://...)``
shows as that text. Pure functions of the data: no Gradio here.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from .errors import EmptyCorpus, EmptyQuestion, QAError
from .formats import page_of
from .settings import Settings
from .types import Answer, Passage
from .uploads import size_label

log = logging.getLogger("qa")

# The source viewer shows this many characters on each side of the quote, so a 500-page PDF
# does not become one enormous page.
VIEWER_CONTEXT = 20_000

# --------------------------------------------------------------------------------- escaping
# Characters that mean something to HTML or to a markdown renderer become numeric entities, so
# the text stays inert wherever it ends up.
_INERT = {ch: f"&#{ord(ch)};" for ch in "&<>\"'`*_[]()!#|~$\\{}="}


def esc(text: object) -> str:
    """Text made safe to put inside HTML (and inert for markdown): shown, never interpreted."""
    return "".join(_INERT.get(ch, ch) for ch in str(text))


def attr(text: object) -> str:
    """A value for a double-quoted HTML attribute."""
    return html.escape(str(text), quote=True)


# --------------------------------------------------------------------------------- data
@dataclass
class Turn:
    """One question of the conversation and what came of it."""

    question: str
    answer: Answer | None = None
    error: str = ""
    follow_up: bool = False
    pages: list[str] = field(default_factory=list)  # the location label of each passage
    scores: list[str] = field(default_factory=list)  # the readable score of each passage
    feedback: str = ""  # "helpful" | "wrong" once saved
    feedback_note: str = ""  # what the user was told about their feedback
    pending: bool = False


def friendly(exc: BaseException) -> str:
    """A message for the chat: what went wrong and what to do, never a traceback."""
    if isinstance(exc, EmptyQuestion):
        return "Type a question about your documents first."
    if isinstance(exc, EmptyCorpus):
        return "There are no documents to search yet. Add some in the Documents panel."
    if isinstance(exc, QAError):
        text = str(exc)
        return text[:1].upper() + text[1:]
    log.exception("unexpected error while answering")
    return (
        f"Something went wrong while answering ({type(exc).__name__}). The details are in the "
        "server log; please try again."
    )


def location(p: Passage, pages: Sequence[int]) -> str:
    """Where a passage sits: "p. 3" / "pp. 3–4" for paged documents, else "chars a–b"."""
    first = p.page if p.page is not None else page_of(pages, p.start)
    if first is None:
        return f"chars {p.start}–{p.end}"
    last = page_of(pages, max(p.start, p.end - 1)) if pages else first
    return f"p. {first}" if last in (None, first) else f"pp. {first}–{last}"


def score_scale(settings: Settings) -> float:
    """The score of a perfect match under qa/answer.py's formula.

    A sentence's answer score is its own similarity (at most 1) plus ``chunk_weight`` times its
    chunk's similarity plus ``lexical_weight`` times its keyword coverage (each at most 1), so
    dividing by this sum turns a score into a share of a perfect match.
    """
    extra = sum(float(getattr(settings, name, 0.0) or 0.0) for name in ("chunk_weight", "lexical_weight"))
    return max(1.0, 1.0 + extra)


def match_percent(score: float, scale: float = 1.0) -> int:
    """A score as a percentage of a perfect match (0-100)."""
    return round(max(0.0, min(1.0, score / scale)) * 100)


def score_label(score: float, scale: float = 1.0) -> str:
    """A score people can read: "72% match"."""
    return f"{match_percent(score, scale)}% match"


def passage_json(p: Passage, pages: Sequence[int], scale: float = 1.0) -> dict[str, Any]:
    """A passage for API clients, with its page (PDF) and highlighted sentence spelled out."""
    data = asdict(p)
    data["highlight"] = list(p.highlight)
    data["highlighted"] = p.highlighted
    if data["page"] is None:
        data["page"] = page_of(pages, p.start)
    data["location"] = location(p, pages)
    data["match"] = match_percent(p.score, scale)
    return data


# --------------------------------------------------------------------------------- rendering
def render_passage(p: Passage, turn: int, rank: int, where: str, score: str = "") -> str:
    """One quote as a card: the text with its answer sentence in a <mark>, then its citation."""
    a, b = p.highlight
    a, b = max(0, min(a, len(p.text))), max(0, min(b, len(p.text)))
    body = f"{esc(p.text[:a])}<mark>{esc(p.text[a:b])}</mark>{esc(p.text[b:])}"
    heading = ""
    if p.heading:
        heading = f' <span class="qa-sep">›</span> <span class="qa-heading">{esc(p.heading)}</span>'
    return (
        f'<figure class="qa-passage">'
        f'<blockquote class="qa-quote">{body}</blockquote>'
        f'<figcaption class="qa-citation"><span class="qa-rank">{rank + 1}</span>'
        f'<button type="button" class="qa-cite" data-qa-action="cite" data-turn="{turn}" '
        f'data-passage="{rank}" title="Show this passage in its document">'
        f'<span class="qa-doc">{esc(p.source)}</span>{heading} <span class="qa-sep">·</span> '
        f'<span class="qa-loc">{esc(where)}</span></button>'
        f'<span class="qa-score" title="relevance score {p.score:.3f}">'
        f"{esc(score or score_label(p.score))}</span>"
        "</figcaption></figure>"
    )


def _feedback_bar(turn: Turn, i: int) -> str:
    if turn.feedback:
        label = "helpful" if turn.feedback == "helpful" else "wrong"
        note = turn.feedback_note or "saved to the feedback file"
        return f'<div class="qa-feedback qa-feedback-done">Marked {label}: {esc(note)}. Thank you.</div>'
    note = f'<span class="qa-feedback-note">{esc(turn.feedback_note)}</span>' if turn.feedback_note else ""
    return (
        f'<div class="qa-feedback"><span>Was this right?</span>'
        f'<button type="button" data-qa-action="feedback" data-turn="{i}" data-verdict="helpful">'
        f"✓ Helpful</button>"
        f'<button type="button" data-qa-action="feedback" data-turn="{i}" data-verdict="wrong">'
        f"✗ Wrong</button>{note}</div>"
    )


def render_turn(turn: Turn, i: int) -> str:
    out = [f'<section class="qa-turn" data-turn="{i}">']
    if turn.question.strip():
        out.append(f'<div class="qa-user"><div class="qa-bubble">{esc(turn.question)}</div></div>')
    out.append('<div class="qa-bot">')
    if turn.pending:
        out.append('<div class="qa-pending">Searching your documents…</div>')
    elif turn.error:
        out.append(f'<div class="qa-error" role="alert">⚠ {esc(turn.error)}</div>')
    elif turn.answer is not None:
        ans = turn.answer
        if turn.follow_up:
            out.append(
                f'<div class="qa-searched">Searched: <q>{esc(ans.query)}</q>'
                f'<span class="qa-hint"> (your follow-up, completed from the previous question)</span></div>'
            )
        if not ans.passages:
            out.append(
                '<div class="qa-banner qa-not-found" role="status"><strong>Not in the documents.</strong> '
                "Nothing in the documents searched comes close to this question.</div>"
            )
        elif ans.found:
            n = len(ans.passages)
            out.append(
                f'<div class="qa-banner qa-found">Quoted from your documents · {n} passage{"s" * (n > 1)}, '
                "best first</div>"
            )
        else:
            out.append(
                '<div class="qa-banner qa-not-found" role="status"><strong>Not in the documents.</strong> '
                "Your documents do not seem to answer this. These are the closest passages; they may "
                "not answer it.</div>"
            )
        # After the verdict, which a notice may explain ("the closest passage states no date").
        for notice in ans.notices:
            out.append(f'<div class="qa-notice">Note: {esc(notice)}</div>')
        for rank, p in enumerate(ans.passages):
            where = turn.pages[rank] if rank < len(turn.pages) else f"chars {p.start}–{p.end}"
            score = turn.scores[rank] if rank < len(turn.scores) else ""
            out.append(render_passage(p, i, rank, where, score))
        out.append(_feedback_bar(turn, i))
    out.append("</div></section>")
    return "".join(out)


def render_chat(turns: Sequence[Turn], examples: Sequence[str] = ()) -> str:
    """The whole conversation as HTML (the welcome card with example questions when empty)."""
    if not turns:
        chips = "".join(
            f'<button type="button" class="qa-example" data-qa-action="example" data-text="{attr(q)}">'
            f"{esc(q)}</button>"
            for q in examples
        )
        return (
            '<div class="qa-log" data-key="0"><div class="qa-empty">'
            "<h3>Ask a question about your documents</h3>"
            "<p>Every answer is a verbatim quote from your documents, with the sentence that answers "
            "highlighted and a citation you can open. Nothing is generated.</p>"
            + (f'<div class="qa-examples"><span>Try:</span>{chips}</div>' if chips else "")
            + "</div></div>"
        )
    key = f"{len(turns)}-{int(turns[-1].pending)}"
    body = "".join(render_turn(t, i) for i, t in enumerate(turns))
    return f'<div class="qa-log" data-key="{key}">{body}</div>'


def render_source_title(p: Passage, where: str) -> str:
    """The source viewer's title: the document, the quote's heading and its location."""
    heading = f"{esc(p.heading)} · " if p.heading else ""
    return (
        f'<div class="qa-source-title">{esc(p.source)}</div>'
        f'<div class="qa-source-meta">{heading}{esc(where)}</div>'
    )


def render_source(text: str, p: Passage, pages: Sequence[int] = (), note: str = "") -> str:
    """A document's text with the quote marked and its answer sentence highlighted.

    Args:
        text: the document text (the extracted text for PDF and HTML).
        p: the passage; its offsets refer to ``text``.
        pages: start offsets of the pages (PDF), shown as page markers.
        note: a remark shown above the text.
    """
    start, end = p.start, p.end
    lo = max(0, start - VIEWER_CONTEXT)
    hi = min(len(text), end + VIEWER_CONTEXT)
    hl_a = max(start, min(end, start + p.highlight[0]))
    hl_b = max(hl_a, min(end, start + p.highlight[1]))
    # (offset, order, html): at one offset, closing tags come before page markers and openings.
    tags = [
        (hl_b, 0, "</mark>"),
        (end, 1, "</span>"),
        (start, 3, '<span class="qa-source-quote" id="qa-source-quote">'),
        (hl_a, 4, "<mark>"),
    ]
    tags += [
        (at, 2, f'<span class="qa-page">page {n}</span>')
        for n, at in enumerate(pages, 1)
        if lo <= at < hi and not (n == 1 and at == 0 and lo > 0)
    ]
    tags.sort(key=lambda t: (t[0], t[1]))
    parts = []
    if note:
        parts.append(f'<div class="qa-notice">{esc(note)}</div>')
    parts.append('<div class="qa-source-text">')
    if lo > 0:
        parts.append(f'<span class="qa-elided">… {lo:,} characters before …</span>')
    pos = lo
    for at, _, tag in tags:
        parts.append(esc(text[pos:at]))
        parts.append(tag)
        pos = at
    parts.append(esc(text[pos:hi]))
    if hi < len(text):
        parts.append(f'<span class="qa-elided">… {len(text) - hi:,} characters after …</span>')
    parts.append("</div>")
    return "".join(parts)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"


def render_documents(manifest: dict[str, Any] | None, note: str = "") -> str:
    """The documents panel: what is indexed (and what was skipped, with why)."""
    if not manifest:
        msg = note or "No documents yet: add .txt, .md, .pdf or .html files below."
        return f'<div class="qa-docs-empty">{esc(msg)}</div>'
    docs = manifest.get("documents", {})
    skipped = manifest.get("skipped", {})
    rows = []
    for doc_id, entry in sorted(docs.items()):
        pages = entry.get("pages") or []
        extra = f" · {_count(len(pages), 'page')}" if pages else ""
        rows.append(
            f'<li class="qa-doc-row"><span class="qa-doc-name">{esc(doc_id)}</span>'
            f'<span class="qa-doc-meta">{esc(size_label(entry.get("size", 0)))} · '
            f"{_count(entry.get('chunks', 0), 'passage')}{esc(extra)}</span></li>"
        )
    for doc_id, entry in sorted(skipped.items()):
        rows.append(
            f'<li class="qa-doc-row qa-doc-skipped"><span class="qa-doc-name">{esc(doc_id)}</span>'
            f'<span class="qa-doc-meta">not indexed: {esc(entry.get("reason", ""))}</span></li>'
        )
    counts = f"{len(docs)} document{'s' * (len(docs) != 1)} indexed"
    if skipped:
        counts += f", {len(skipped)} skipped"
    return (
        f'<div class="qa-docs"><div class="qa-docs-count">{esc(counts)}</div><ul>{"".join(rows)}</ul></div>'
    )


def render_status(lines: Sequence[tuple[str, str]]) -> str:
    """Messages about an upload or a removal: (kind, text) with kind "ok" or "error"."""
    if not lines:
        return ""
    items = "".join(f'<li class="qa-status-{attr(kind)}">{esc(text)}</li>' for kind, text in lines)
    return f'<ul class="qa-status">{items}</ul>'


# --------------------------------------------------------------------------------- styles and scripts
CSS = """
.gradio-container { max-width: 1280px !important; margin: 0 auto !important; }
#qa-header h1 { font-size: 1.6rem; margin: 0.2rem 0 0.1rem; display: flex; align-items: center;
  gap: 10px; }
.qa-logo { display: inline-flex; width: 36px; height: 36px; border-radius: 10px; align-items: center;
  justify-content: center; background: var(--color-accent); color: white; font-size: 2rem;
  line-height: 1; padding-top: 12px; font-family: Georgia, "DejaVu Serif", serif; }
#qa-header p { margin: 0; color: var(--body-text-color-subdued); }
#qa-chat { min-height: 420px; }
.qa-log { display: flex; flex-direction: column; gap: 18px; padding: 4px 2px 8px; }
.qa-empty { text-align: center; padding: 48px 16px; color: var(--body-text-color-subdued); }
.qa-empty h3 { color: var(--body-text-color); margin-bottom: 6px; }
.qa-examples { display: flex; flex-wrap: wrap; gap: 8px; justify-content: center; margin-top: 18px;
  align-items: center; }
.qa-example { border: 1px solid var(--border-color-primary); border-radius: 999px; padding: 6px 14px;
  background: var(--background-fill-secondary); cursor: pointer; color: var(--body-text-color); }
.qa-example:hover { border-color: var(--color-accent); color: var(--color-accent); }
.qa-user { display: flex; justify-content: flex-end; }
.qa-bubble { background: var(--color-accent-soft); color: var(--body-text-color); padding: 10px 14px;
  border-radius: 14px 14px 2px 14px; max-width: 85%; white-space: pre-wrap; overflow-wrap: anywhere; }
.qa-bot { display: flex; flex-direction: column; gap: 10px; }
.qa-pending { color: var(--body-text-color-subdued); font-style: italic; }
.qa-error { background: #fef2f2; color: #991b1b; border: 1px solid #fecaca; border-radius: 10px;
  padding: 10px 14px; overflow-wrap: anywhere; }
.qa-searched { font-size: 0.9rem; color: var(--body-text-color-subdued); }
.qa-searched q { color: var(--body-text-color); font-weight: 600; }
.qa-notice { font-size: 0.9rem; background: #fffbeb; border: 1px solid #fde68a; color: #92400e;
  border-radius: 8px; padding: 6px 10px; }
.qa-banner { border-radius: 10px; padding: 8px 12px; font-size: 0.92rem; }
.qa-found { background: #ecfdf5; color: #065f46; border: 1px solid #a7f3d0; }
.qa-not-found { background: #fff7ed; color: #9a3412; border: 1px solid #fed7aa; }
.qa-passage { margin: 0; border: 1px solid var(--border-color-primary); border-radius: 12px;
  background: var(--background-fill-primary); box-shadow: 0 1px 2px rgba(15, 23, 42, 0.06);
  overflow: hidden; }
.qa-quote { margin: 0 !important; padding: 12px 16px !important;
  border-left: 4px solid var(--color-accent) !important;
  white-space: pre-wrap; overflow-wrap: anywhere; line-height: 1.55; font-size: 0.98rem;
  color: var(--body-text-color); font-style: normal !important; quotes: none; }
.qa-quote mark, .qa-source-text mark { background: #fde68a; color: #1f2937; padding: 0 2px;
  border-radius: 3px; }
.qa-citation { display: flex; flex-wrap: wrap; align-items: center; gap: 8px; padding: 8px 12px;
  border-top: 1px solid var(--border-color-primary); background: var(--background-fill-secondary);
  font-size: 0.85rem; }
.qa-rank { display: inline-flex; width: 20px; height: 20px; border-radius: 50%; align-items: center;
  justify-content: center; background: var(--color-accent); color: white; font-size: 0.72rem;
  font-weight: 700; flex: none; }
.qa-cite { background: transparent !important; border: none !important; box-shadow: none !important;
  padding: 0 !important; margin: 0; cursor: pointer; text-align: left; font-weight: 400;
  color: var(--link-text-color, var(--color-accent)); text-decoration: underline;
  text-underline-offset: 3px; overflow-wrap: anywhere; flex: 1 1 200px; font-size: inherit; }
.qa-cite:hover { text-decoration-thickness: 2px; }
.qa-doc { font-weight: 600; }
.qa-sep { color: var(--body-text-color-subdued); }
.qa-score { margin-left: auto; font-variant-numeric: tabular-nums; color: var(--body-text-color-subdued);
  white-space: nowrap; }
.qa-feedback { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; font-size: 0.88rem;
  color: var(--body-text-color-subdued); }
.qa-feedback button { border: 1px solid var(--border-color-primary) !important; border-radius: 999px;
  padding: 2px 12px !important; background: var(--background-fill-primary) !important; cursor: pointer;
  color: var(--body-text-color); font-size: 0.85rem !important; font-weight: 500 !important;
  box-shadow: none !important; }
.qa-feedback button:hover { border-color: var(--color-accent); }
.qa-feedback-note { color: #9a3412; }
.qa-feedback-done { color: #065f46; }
#qa-wrong { border: 1px solid #fed7aa; background: #fff7ed; border-radius: 12px; padding: 12px; }
#qa-viewer { position: fixed !important; inset: 4vh 4vw; z-index: 1000; max-width: 980px;
  margin: 0 auto; background: var(--background-fill-primary); border-radius: 14px; padding: 16px;
  box-shadow: 0 0 0 100vmax rgba(15, 23, 42, 0.55), 0 20px 50px rgba(0, 0, 0, 0.35);
  overflow: auto; flex-wrap: nowrap !important; }
#qa-viewer-bar { position: sticky; top: -16px; z-index: 2; background: var(--background-fill-primary);
  padding: 4px 0 8px; border-bottom: 1px solid var(--border-color-primary); align-items: center;
  flex-wrap: nowrap; }
.qa-source-title { font-weight: 700; font-size: 1.05rem; overflow-wrap: anywhere; }
.qa-source-meta { color: var(--body-text-color-subdued); font-size: 0.88rem; }
.qa-source-text { white-space: pre-wrap; overflow-wrap: anywhere; line-height: 1.6; padding-top: 10px;
  font-size: 0.95rem; }
.qa-source-quote { background: var(--color-accent-soft); outline: 2px solid var(--color-accent-soft);
  border-radius: 3px; }
.qa-elided { display: block; color: var(--body-text-color-subdued); font-style: italic; margin: 6px 0; }
.qa-page { display: block; margin: 10px 0 4px; font-size: 0.78rem; letter-spacing: 0.08em;
  text-transform: uppercase; color: var(--body-text-color-subdued);
  border-top: 1px dashed var(--border-color-primary); padding-top: 4px; }
.qa-docs-count { font-weight: 600; margin-bottom: 6px; }
.qa-docs ul { list-style: none; padding: 0; margin: 0; }
.qa-doc-row { display: flex; flex-direction: column; padding: 6px 0;
  border-bottom: 1px solid var(--border-color-primary); }
.qa-doc-name { font-weight: 600; overflow-wrap: anywhere; }
.qa-doc-meta { font-size: 0.82rem; color: var(--body-text-color-subdued); }
.qa-doc-skipped .qa-doc-meta { color: #9a3412; }
.qa-docs-empty { color: var(--body-text-color-subdued); }
.qa-status { list-style: none; padding: 0; margin: 4px 0; font-size: 0.9rem; }
.qa-status-ok { color: #065f46; }
.qa-status-error { color: #991b1b; }
@media (max-width: 640px) {
  #qa-header h1 { font-size: 1.3rem; }
  .qa-bubble { max-width: 100%; }
  #qa-viewer { inset: 0; border-radius: 0; }
  .qa-score { margin-left: 0; }
}
"""

# Clicks inside the conversation: citations open the source viewer, example chips ask, feedback
# buttons record. The log is re-rendered by Python; one delegated listener survives that.
CHAT_JS = """
element.addEventListener('click', (ev) => {
  const b = ev.target.closest('[data-qa-action]');
  if (!b || !element.contains(b)) return;
  ev.preventDefault();
  const d = b.dataset;
  if (d.qaAction === 'cite') trigger('cite', {turn: Number(d.turn), passage: Number(d.passage)});
  else if (d.qaAction === 'feedback') trigger('feedback', {turn: Number(d.turn), verdict: d.verdict});
  else if (d.qaAction === 'example') trigger('example', {text: d.text});
});
let lastKey = null;
const follow = () => {
  const log = element.querySelector('.qa-log');
  const key = log ? log.dataset.key : null;
  if (key === lastKey) return;
  lastKey = key;
  const turns = element.querySelectorAll('.qa-turn');
  if (turns.length) turns[turns.length - 1].scrollIntoView({block: 'start', behavior: 'smooth'});
};
watch('value', follow);
"""

# The "wrong answer" form comes into view when it opens, wherever the conversation was scrolled.
FORM_JS = """
const reveal = () => setTimeout(() => element.scrollIntoView({block: 'center', behavior: 'smooth'}), 60);
reveal();
watch('value', reveal);
"""

# The source viewer scrolls its quote into view whenever it shows one.
SOURCE_JS = """
const show = () => {
  const q = element.querySelector('#qa-source-quote');
  if (q) setTimeout(() => q.scrollIntoView({block: 'center'}), 60);
};
show();
watch('value', show);
document.addEventListener('keydown', (ev) => {
  if (ev.key === 'Escape') document.querySelector('#qa-viewer-close')?.click();
});
"""
