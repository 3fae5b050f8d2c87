"""Measure answers against a gold set (evidence given as quotes) or a BEIR benchmark."""

from __future__ import annotations

import json
import logging
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from .engine import Engine, get_engine
from .errors import QAError
from .settings import Settings
from .types import Answer, Passage

log = logging.getLogger("qa")


@dataclass(frozen=True)
class GoldQuestion:
    """A question with the quotes that answer it (empty when the documents do not)."""

    id: str
    question: str
    evidence: tuple[str, ...]
    answerable: bool


@dataclass(frozen=True)
class QuestionResult:
    """How one gold question fared."""

    gold: GoldQuestion
    answer: Answer
    first_relevant: int | None  # 0-based rank of the first passage holding evidence
    highlight_ok: bool  # the top passage's highlight holds the evidence
    seconds: float


@dataclass(frozen=True)
class EvalReport:
    """Metrics of a gold-set run; ``results`` has every question, ``misses`` the failures."""

    name: str
    metrics: dict[str, float]
    results: list[QuestionResult] = field(default_factory=list)

    @property
    def misses(self) -> list[QuestionResult]:
        return [
            r
            for r in self.results
            if (r.gold.answerable and (r.first_relevant != 0 or not r.answer.found or not r.highlight_ok))
            or (not r.gold.answerable and r.answer.found)
        ]


def fold(text: str) -> str:
    """Whitespace and case folded, for matching evidence against quotes."""
    return " ".join(text.split()).casefold()


def load_gold(path: str | Path) -> list[GoldQuestion]:
    """Read a gold set (JSON lines); every line is checked and errors name the line."""
    out: list[GoldQuestion] = []
    seen: set[str] = set()
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                q = GoldQuestion(
                    str(row["id"]),
                    str(row["question"]),
                    tuple(str(e) for e in row.get("evidence", [])),
                    bool(row.get("answerable", bool(row.get("evidence")))),
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise QAError(f"{path}:{n}: not a gold question ({exc}); see DESIGN.md") from exc
            if q.id in seen:
                raise QAError(f"{path}:{n}: duplicate id {q.id!r}")
            if q.answerable and not q.evidence:
                raise QAError(f"{path}:{n}: answerable question {q.id!r} has no evidence")
            seen.add(q.id)
            out.append(q)
    return out


def holds_evidence(passage: Passage, evidence: tuple[str, ...]) -> bool:
    text = fold(passage.text)
    return any(fold(e) in text for e in evidence)


def highlight_holds(passage: Passage, evidence: tuple[str, ...]) -> bool:
    """The highlighted sentence(s) hold an evidence quote, or sit inside a longer one."""
    hl = fold(passage.highlighted)
    return any(fold(e) in hl or (hl and hl in fold(e)) for e in evidence)


def _judge(gold: GoldQuestion, answer: Answer, seconds: float) -> QuestionResult:
    first = next((i for i, p in enumerate(answer.passages) if holds_evidence(p, gold.evidence)), None)
    top_ok = bool(answer.passages) and highlight_holds(answer.passages[0], gold.evidence)
    return QuestionResult(gold, answer, first, gold.answerable and top_ok, seconds)


def _ranx_metrics(results: list[QuestionResult]) -> dict[str, float]:
    """Hit@1, Hit@3, MRR@10 and nDCG@10 with ranx: each evidence place is one relevant item."""
    from ranx import Qrels, Run, evaluate

    qrels: dict[str, dict[str, int]] = {}
    run: dict[str, dict[str, float]] = {}
    for r in results:
        if not r.gold.answerable:
            continue
        qid = r.gold.id
        qrels[qid] = {f"ev{j}": 1 for j in range(len(r.gold.evidence))}
        used: set[str] = set()
        ranking: dict[str, float] = {}
        for i, p in enumerate(r.answer.passages):
            text = fold(p.text)
            doc = next(
                (f"ev{j}" for j, e in enumerate(r.gold.evidence) if f"ev{j}" not in used and fold(e) in text),
                f"p{i}",
            )
            used.add(doc)
            ranking[doc] = float(len(r.answer.passages) - i)  # rank order, not raw scores
        run[qid] = ranking or {"none": 0.0}
    if not qrels:
        return {}
    names = ["hit_rate@1", "hit_rate@3", "mrr@10", "ndcg@10"]
    scores = evaluate(Qrels(qrels), Run(run), names)
    return {
        "hit@1": scores["hit_rate@1"],
        "hit@3": scores["hit_rate@3"],
        "mrr@10": scores["mrr@10"],
        "ndcg@10": scores["ndcg@10"],
    }


def evaluate(
    gold_path: str | Path,
    *,
    seeds_dir: str | Path = "seeds",
    index_dir: str | Path = "index",
    settings: Settings | None = None,
    k: int = 10,
    name: str = "default",
    progress: bool = True,
) -> EvalReport:
    """Score ``ask()`` on a gold set.

    Args:
        gold_path: JSON lines of {"id", "question", "evidence": [quotes], "answerable"}.
        seeds_dir: the corpus folder the evidence comes from.
        index_dir: the index folder (built or refreshed first).
        settings: the configuration to evaluate.
        k: passages retrieved per question.
        name: a label for reports.
        progress: show a progress bar.

    Returns:
        An EvalReport with hit@1, hit@3, mrr@10, ndcg@10, highlight accuracy, abstention rates,
        median quote length in words and latency percentiles.
    """
    from tqdm import tqdm

    gold = load_gold(gold_path)
    engine = get_engine(seeds_dir, index_dir, settings)
    engine.index()  # build before timing
    _check_evidence(gold, engine)
    results = []
    for q in tqdm(gold, desc=f"eval {name}", disable=not progress, leave=False):
        t0 = time.perf_counter()
        answer = engine.ask(q.question, k=k)
        results.append(_judge(q, answer, time.perf_counter() - t0))
    return EvalReport(name, summarize(results), results)


def summarize(results: list[QuestionResult]) -> dict[str, float]:
    answerable = [r for r in results if r.gold.answerable]
    unanswerable = [r for r in results if not r.gold.answerable]
    metrics = _ranx_metrics(results)
    lat = sorted(r.seconds * 1000 for r in results)
    words = [len(p.text.split()) for r in results for p in r.answer.passages]
    metrics |= {
        "highlight": sum(r.highlight_ok for r in answerable) / max(1, len(answerable)),
        "abstained": sum(not r.answer.found for r in unanswerable) / max(1, len(unanswerable)),
        "false_abstain": sum(not r.answer.found for r in answerable) / max(1, len(answerable)),
        "quote_words": statistics.median(words) if words else 0.0,
        "p50_ms": lat[len(lat) // 2] if lat else 0.0,
        "p95_ms": lat[min(len(lat) - 1, int(len(lat) * 0.95))] if lat else 0.0,
        "questions": float(len(results)),
    }
    return metrics


def _check_evidence(gold: list[GoldQuestion], engine: Engine) -> None:
    """Warn about evidence that no longer occurs in the corpus (a gold set gone stale)."""
    table = engine.index().chunks
    corpus = fold(" ".join(table.embed_text(row) for row in range(len(table))))
    for q in gold:
        for e in q.evidence:
            if fold(e) not in corpus:
                log.warning("gold %s: evidence not found in the corpus: %r", q.id, e[:80])
