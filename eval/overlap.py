"""Which questions of a gold set are (nearly) ones that other gold sets already ask.

Natural questions about one article converge: a new set written blind repeats many of the
earlier sets' questions, on which the rules were already made. A question overlaps when its
words and an earlier question's overlap by at least the threshold (Jaccard over lower-cased
words). With --out, the set is split into the questions unlike any earlier one and the rest, so
each part can be scored on its own with `qa eval`.

    python eval/overlap.py GOLD --against EARLIER ... [--threshold 0.6] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

_WORD = re.compile(r"\w+")


def words(question: str) -> set[str]:
    return set(_WORD.findall(question.lower()))


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def closest(question: str, earlier: list[str]) -> tuple[float, str]:
    """The earlier question most like this one, and how alike they are (0 when there is none)."""
    mine = words(question)
    return max(((jaccard(mine, words(e)), e) for e in earlier), default=(0.0, ""))


def read(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("gold", type=Path, help="the gold set to look at")
    ap.add_argument("--against", type=Path, nargs="+", required=True, help="the earlier gold sets")
    ap.add_argument(
        "--threshold", type=float, default=0.6, help="Jaccard over words from which questions overlap"
    )
    ap.add_argument("--out", type=Path, help="write <name>-new.jsonl and <name>-seen.jsonl here")
    args = ap.parse_args()
    earlier = [
        q["question"] for path in args.against if path.resolve() != args.gold.resolve() for q in read(path)
    ]
    rows = read(args.gold)
    seen = []
    for row in rows:
        score, like = closest(row["question"], earlier)
        if score >= args.threshold:
            seen.append(row)
            print(f"{row['id']}\t{score:.2f}\t{row['question']}\t~ {like}")
    unanswerable = sum(not r["answerable"] for r in seen)
    print(
        f"{len(seen)} of {len(rows)} questions overlap an earlier one ({unanswerable} of them unanswerable)"
    )
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        ids = {r["id"] for r in seen}
        for name, part in (("new", [r for r in rows if r["id"] not in ids]), ("seen", seen)):
            path = args.out / f"{args.gold.stem}-{name}.jsonl"
            path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in part), encoding="utf-8")
            print(f"wrote {path} ({len(part)} questions)")


if __name__ == "__main__":
    main()
