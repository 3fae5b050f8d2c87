"""Fit the abstention threshold (Settings.found_threshold) on a gold set and show the trade-off.

`found` is True when the best passage's answer sentence has at least this cosine similarity to
the question and the passage states what the question asks for (a date for "when", an amount
for a price, a number of the counted thing for "how many": qa/answer_types.py REQUIRED, COUNTED);
a question whose passage states none abstains at any threshold. The rule: the highest threshold
(on a 0.01 grid) that keeps false abstentions on answerable questions at or under the allowed
rate; the table shows what each threshold costs.

    python eval/calibrate.py [eval/alibaba-qwen-gold.jsonl] [--max-false 0.03]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa.answer import lacks, make_query, rescore  # noqa: E402
from qa.engine import get_engine  # noqa: E402
from qa.evaluate import load_gold  # noqa: E402
from qa.onnx_encoder import get_query_encoder  # noqa: E402
from qa.retrieval import Retriever  # noqa: E402
from qa.settings import Settings  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("gold", nargs="?", default="eval/alibaba-qwen-gold.jsonl")
    ap.add_argument("--seeds-dir", default="seeds")
    ap.add_argument("--index-dir", default="index")
    ap.add_argument("--max-false", type=float, default=0.03, help="allowed false-abstention rate")
    args = ap.parse_args()

    settings = replace(Settings(), found_threshold=-1.0)
    engine = get_engine(args.seeds_dir, args.index_dir, settings)
    index = engine.index()
    embedder = get_query_encoder(settings.model, settings.batch_size, settings.precision)
    sims: dict[bool, list[float]] = {True: [], False: []}
    for g in load_gold(args.gold):
        query = make_query(g.question, embedder, index.lexicon)
        scored = rescore(index, Retriever(index, settings).search(query.text, query.vec), query, settings)
        # A question whose best passage lacks its answer type abstains at any threshold.
        vetoed = not scored or lacks(index, scored[0], query) is not None
        sims[g.answerable].append(-1.0 if vetoed else scored[0].similarity)

    def rates(t: float) -> tuple[float, float]:
        false = sum(s < t for s in sims[True]) / len(sims[True])
        abstained = sum(s < t for s in sims[False]) / max(1, len(sims[False]))
        return false, abstained

    print(f"{len(sims[True])} answerable, {len(sims[False])} unanswerable questions")
    print("| threshold | false abstentions | unanswerable abstained |\n|---|---|---|")
    grid = [round(0.20 + 0.02 * i, 2) for i in range(16)]
    for t in grid:
        f, a = rates(t)
        print(f"| {t:.2f} | {f:.3f} | {a:.3f} |")
    best = max(t / 100 for t in range(0, 100) if rates(t / 100)[0] <= args.max_false)
    f, a = rates(best)
    print(
        f"\nhighest threshold with false abstentions <= {args.max_false:.0%}: {best:.2f} "
        f"(false {f:.3f}, abstained {a:.3f}); current default {Settings().found_threshold:.2f}"
    )


if __name__ == "__main__":
    main()
