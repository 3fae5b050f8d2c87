"""eval/calibrate.py: the abstention threshold's fitting rule, on hand-made similarities."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SPEC = importlib.util.spec_from_file_location(
    "calibrate", Path(__file__).resolve().parent.parent / "eval" / "calibrate.py"
)
calibrate = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(calibrate)


def test_the_fit_is_the_middle_of_the_thresholds_that_abstain_most_with_fewest_false_abstentions() -> None:
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
