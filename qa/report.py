"""Printing evaluation results: tables, missed questions, comparison chart."""

from __future__ import annotations

import argparse
from dataclasses import replace

from .evaluate import EvalReport, QuestionResult, evaluate
from .settings import Settings

GOLD_COLUMNS = [
    ("hit@1", "Hit@1", "{:.3f}"),
    ("hit@3", "Hit@3", "{:.3f}"),
    ("mrr@10", "MRR@10", "{:.3f}"),
    ("ndcg@10", "nDCG@10", "{:.3f}"),
    ("highlight", "Highlight", "{:.3f}"),
    ("abstained", "Abstain(unans)", "{:.3f}"),
    ("false_abstain", "FalseAbstain", "{:.3f}"),
    ("quote_words", "QuoteWords", "{:.0f}"),
    ("p50_ms", "p50 ms", "{:.1f}"),
    ("p95_ms", "p95 ms", "{:.1f}"),
]


def configurations(base: Settings) -> dict[str, Settings]:
    """The retrieval configurations `--compare` puts side by side."""
    return {
        "bm25 only": replace(base, dense_weight=0.0, rescore=False),
        "dense only": replace(base, bm25_weight=0.0, rescore=False),
        "hybrid (rrf)": replace(base, rescore=False),
        "default": base,
    }


def table(rows: list[tuple[str, dict[str, float]]], columns, first: str = "config") -> str:
    head = [first] + [title for _, title, _ in columns]
    body = [[name] + [fmt.format(m.get(key, float("nan"))) for key, _, fmt in columns] for name, m in rows]
    widths = [max(len(r[i]) for r in [head, *body]) for i in range(len(head))]
    line = lambda r: "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"  # noqa: E731
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(head), sep, *(line(r) for r in body)])


def miss_reason(r: QuestionResult) -> str:
    """Why a question counts as missed, with ranks counted from 1 as a reader counts them."""
    if not r.gold.answerable:
        return "answered, should abstain"
    if r.first_relevant is None:
        return "no quote holds the evidence"
    if r.first_relevant > 0:
        return f"evidence first at rank {r.first_relevant + 1}"
    if not r.answer.found:
        return "abstained"
    return "evidence at rank 1, highlight elsewhere"


def print_misses(report: EvalReport, limit: int) -> None:
    misses = report.misses
    if not misses or limit <= 0:
        return
    print(f"\n{len(misses)} questions missed (showing {min(limit, len(misses))}):")
    for r in misses[:limit]:
        g = r.gold
        print(f"- {g.id} [{miss_reason(r)}] {g.question}")
        if g.evidence:
            print(f"    expected: {g.evidence[0][:100]!r}")
        for p in r.answer.passages[:2]:
            print(f"    got ({p.score:.2f}): {p.highlighted[:100]!r}")


def run_eval(args: argparse.Namespace, settings: Settings) -> int:
    if args.beir:
        from .beir import run_beir

        return run_beir(args, settings)
    golds = list(args.gold or [])
    if not golds:
        raise SystemExit("qa eval: give a gold set (e.g. eval/alibaba-qwen-gold.jsonl) or --beir DIR")
    if len(golds) > 1:
        if args.compare:
            raise SystemExit("qa eval: --compare takes one gold set; give the sets one at a time")
        return _run_sets(args, settings, golds)
    configs = configurations(settings) if args.compare else {"default": settings}
    reports = []
    for name, cfg in configs.items():
        reports.append(
            evaluate(
                golds[0],
                seeds_dir=args.seeds_dir,
                index_dir=args.index_dir,
                settings=cfg,
                k=args.k,
                name=name,
            )
        )
    print(table([(r.name, r.metrics) for r in reports], GOLD_COLUMNS))
    print_misses(reports[-1], args.misses)
    if args.compare:
        chart(reports, args.chart or "eval-compare.png", GOLD_COLUMNS[:6])
    return 0


def _run_sets(args: argparse.Namespace, settings: Settings, golds: list[str]) -> int:
    """Several gold sets: one row each, then their mean (each set weighs the same), then each
    set's misses."""
    from pathlib import Path

    reports = [
        evaluate(
            gold,
            seeds_dir=args.seeds_dir,
            index_dir=args.index_dir,
            settings=settings,
            k=args.k,
            name=Path(gold).stem,
        )
        for gold in golds
    ]
    keys = [key for key, _, _ in GOLD_COLUMNS]
    mean = {key: sum(r.metrics[key] for r in reports) / len(reports) for key in keys}
    rows = [(r.name, r.metrics) for r in reports] + [(f"mean of {len(reports)} sets", mean)]
    print(table(rows, GOLD_COLUMNS, first="gold set"))
    for r in reports:
        if r.misses and args.misses > 0:
            print(f"\n{r.name}:", end="")
            print_misses(r, args.misses)
    return 0


def chart(reports: list[EvalReport], path: str, columns) -> None:
    chart_values([(r.name, r.metrics) for r in reports], columns, path, "Seed gold set")


def chart_values(rows: list[tuple[str, dict[str, float]]], columns, path: str, title: str) -> None:
    """A grouped bar chart: one group per metric, one bar per configuration."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(9, 4.5))
    width = 0.8 / len(rows)
    x = np.arange(len(columns))
    for i, (name, metrics) in enumerate(rows):
        vals = [metrics.get(key, 0.0) for key, _, _ in columns]
        bars = ax.bar(x + i * width, vals, width, label=name)
        ax.bar_label(bars, fmt="%.2f", fontsize=7)
    ax.set_xticks(x + width * (len(rows) - 1) / 2, [t for _, t, _ in columns])
    ax.set_ylim(0, 1.1)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=len(rows), frameon=False)
    ax.set_title(f"{title}: retrieval configurations side by side")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"chart written to {path}")
