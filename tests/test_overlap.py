"""eval/overlap.py: which questions of a gold set other sets already ask, and the split."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "eval" / "overlap.py"
SPEC = importlib.util.spec_from_file_location("overlap", SCRIPT)
overlap = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(overlap)


def test_overlap_is_jaccard_over_lowercased_words() -> None:
    # {how, many, customers, does, qwen, have} against {how, many, customers, has, qwen}: 4 of 7.
    score, like = overlap.closest(
        "How many customers does Qwen have?", ["how many customers has qwen", "Who?"]
    )
    assert (round(score, 4), like) == (round(4 / 7, 4), "how many customers has qwen")
    assert overlap.closest("Anything?", []) == (0.0, "")


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_the_set_is_split_into_new_and_seen_questions(tmp_path: Path) -> None:
    earlier = _write(tmp_path / "earlier.jsonl", [{"id": "a1", "question": "How many customers does Qwen have?",
                                                   "evidence": ["x"], "answerable": True}])  # fmt: skip
    gold = _write(
        tmp_path / "set.jsonl",
        [
            {
                "id": "b1",
                "question": "how many customers does qwen have",
                "evidence": ["x"],
                "answerable": True,
            },
            {"id": "b2", "question": "Who founded Alibaba?", "evidence": [], "answerable": False},
        ],
    )
    out = subprocess.run(
        [sys.executable, str(SCRIPT), str(gold), "--against", str(earlier), "--out", str(tmp_path / "parts")],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert "1 of 2 questions overlap an earlier one (0 of them unanswerable)" in out
    new = [json.loads(x)["id"] for x in (tmp_path / "parts" / "set-new.jsonl").read_text().splitlines()]
    seen = [json.loads(x)["id"] for x in (tmp_path / "parts" / "set-seen.jsonl").read_text().splitlines()]
    assert (new, seen) == (["b2"], ["b1"])
