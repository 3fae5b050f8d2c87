"""Feedback on answers, appended to a JSON-lines file in the gold-set format.

Every line is ``{"id", "question", "evidence": [quotes], "answerable"}``, so the file is a gold
set that ``qa eval FILE`` scores as it is: users grow their own evaluation set by marking answers.

- With the passage the user expected (either verdict): ``evidence`` is that passage,
  ``answerable`` true.
- "helpful" on a found answer: ``evidence`` is the best passage's highlighted sentence.
- "helpful" on a "not in the documents" reply, or "wrong" on a found answer without a passage:
  the documents do not answer, ``evidence`` is empty and ``answerable`` false.
- "wrong" on a "not in the documents" reply needs the passage that does answer.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from .documents import load_documents
from .errors import InvalidFeedback
from .types import Answer

VERDICTS = ("helpful", "wrong")
# An expected passage is a quote, not a document: longer ones are refused.
MAX_EVIDENCE_CHARS = 2000
DEFAULT_PATH = "feedback/feedback.jsonl"

_lock = threading.Lock()


@dataclass(frozen=True)
class GoldEntry:
    """One line of a gold set."""

    id: str
    question: str
    evidence: list[str]
    answerable: bool


def fold(text: str) -> str:
    """Whitespace and case folded, the way the evaluator matches evidence."""
    return " ".join(text.split()).casefold()


def find_quote(quote: str, seeds_dir: str | Path) -> str | None:
    """The id of the first document that contains ``quote`` (whitespace and case folded)."""
    needle = fold(quote)
    if not needle:
        return None
    docs, _ = load_documents(seeds_dir)
    for doc in docs:
        if needle in fold(doc.text):
            return doc.doc_id
    return None


def new_id() -> str:
    return f"fb-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"


def entry_for(
    answer: Answer, verdict: str, *, expected: str = "", seeds_dir: str | Path | None = None
) -> GoldEntry:
    """The gold-set entry a verdict on an answer stands for.

    Args:
        answer: the answer judged; its searched query becomes the question, so follow-ups are
            recorded as the standalone text that was searched.
        verdict: "helpful" or "wrong".
        expected: the passage the user expected (optional), copied from a document.
        seeds_dir: when given, ``expected`` must occur in one of its documents.

    Returns:
        A GoldEntry.

    Raises:
        InvalidFeedback: an unknown verdict, or an expected passage that is not a quote.
    """
    if verdict not in VERDICTS:
        raise InvalidFeedback(f"feedback must be one of {', '.join(VERDICTS)}, got {verdict!r}")
    question = " ".join((answer.query or answer.question or "").split())
    if not question:
        raise InvalidFeedback("there is no question to give feedback on")
    quote = " ".join(str(expected or "").split())
    if len(quote) > MAX_EVIDENCE_CHARS:
        raise InvalidFeedback(
            f"the expected passage is {len(quote)} characters long; paste the sentence or two "
            f"that answer (at most {MAX_EVIDENCE_CHARS} characters)"
        )
    if quote and seeds_dir is not None and find_quote(quote, seeds_dir) is None:
        raise InvalidFeedback(
            "the expected passage was not found in any document; copy it exactly from a "
            "document (the source viewer shows the whole text)"
        )
    if quote:
        return GoldEntry(new_id(), question, [quote], True)
    # Without a quote, a verdict confirms or denies what the reply claimed.
    if verdict == "helpful" and answer.found:
        if not answer.passages:
            raise InvalidFeedback("this answer has no passage to mark as helpful")
        return GoldEntry(new_id(), question, [answer.passages[0].highlighted], True)
    if verdict == "helpful" or answer.found:
        return GoldEntry(new_id(), question, [], False)  # the documents do not answer it
    raise InvalidFeedback(
        "this reply said the documents do not answer; to mark it wrong, paste the passage that does answer it"
    )


def append(path: str | Path, entry: GoldEntry) -> Path:
    """Append one entry as a JSON line (safe against concurrent writers).

    Returns:
        The path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(asdict(entry), ensure_ascii=False) + "\n"
    with _lock, open(path, "a", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
    return path


def read(path: str | Path) -> list[GoldEntry]:
    """The entries of a feedback file (empty when it does not exist)."""
    path = Path(path)
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            out.append(GoldEntry(row["id"], row["question"], list(row["evidence"]), bool(row["answerable"])))
    return out
