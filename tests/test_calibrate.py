"""eval/calibrate.py: the abstention threshold's fitting rule, on hand-made similarities."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SPEC = importlib.util.spec_from_file_location(
    "calibrate", Path(__file__).resolve().parent.parent / "eval" / "calibrate.py"
)
calibrate = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(calibrate)


def test_the_fit_is_the_middle_of_the_thresholds_with_the_best_balance_of_the_two_rates() -> None:
    # Answerable best sentences at 0.25 and 0.60; unanswerable ones vetoed by a rule (-1) and at 0.10.
    sims = {True: [0.25, 0.60], False: [-1.0, 0.10]}
    # Every threshold from 0.11 to 0.25 abstains on both unanswerable questions and on no
    # answerable one: the fit is their middle, not the highest (0.25) or the lowest.
    assert calibrate.fit(sims, max_false=0.0) == (0.18, 0.11, 0.25)
    # Allowing one false abstention in two does not buy more abstention, so the fit stays.
    assert calibrate.fit(sims, max_false=0.5)[0] == 0.18


def test_rates_count_what_falls_below_the_threshold() -> None:
    sims = {True: [0.25, 0.60], False: [-1.0, 0.10]}
    assert calibrate.rates(sims, 0.30) == (0.5, 1.0)
    assert calibrate.rates(sims, 0.05) == (0.0, 0.5)


def test_one_unanswerable_question_does_not_buy_many_false_abstentions() -> None:
    # Ten answerable questions, four of them at 0.30-0.33; unanswerable ones at 0.10, 0.20 and
    # 0.335. Abstaining on the third (a threshold above 0.335) costs four false abstentions:
    # within a 50% cap, but a third of the unanswerable rate for 40% of the answerable one.
    sims = {True: [0.30, 0.31, 0.32, 0.33, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6], False: [0.10, 0.20, 0.335]}
    best, low, high = calibrate.fit(sims, max_false=0.5)
    assert (low, high) == (0.21, 0.30)
    assert calibrate.rates(sims, best) == (0.0, 2 / 3)
