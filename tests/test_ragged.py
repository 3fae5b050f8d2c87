"""Ragged id arrays: span positions and the consistency check of loaded files."""

from __future__ import annotations

import numpy as np

from qa.ragged import consistent, span_positions


def test_span_positions() -> None:
    assert span_positions(np.array([5, 0, 9]), np.array([2, 0, 3])).tolist() == [5, 6, 9, 10, 11]
    assert span_positions(np.array([], dtype=np.int64), np.array([], dtype=np.int64)).tolist() == []


def test_consistent_accepts_what_was_written_and_rejects_the_rest() -> None:
    ids, offsets = np.array([3, 1, 4], np.int32), np.array([0, 2, 2, 3], np.int64)
    assert consistent(ids, offsets, lists=3, bound=5)
    assert not consistent(ids, offsets, lists=2, bound=5)  # another index's
    assert not consistent(ids, offsets, lists=3, bound=4)  # an id out of range
    assert not consistent(ids.astype(np.int64), offsets, lists=3, bound=5)
    assert not consistent(ids, np.array([0, 2, 1, 3], np.int64), lists=3, bound=5)  # not ascending
    assert not consistent(ids, np.array([1, 2, 2, 3], np.int64), lists=3, bound=5)
    assert consistent(np.zeros(0, np.int32), np.zeros(1, np.int64), lists=0, bound=0)


def test_consistent_without_a_scan_checks_types_and_shapes_only() -> None:
    ids, offsets = np.array([3, 1, 9], np.int32), np.array([0, 2, 2, 3], np.int64)
    assert not consistent(ids, offsets, lists=3, bound=5)
    assert consistent(ids, offsets, lists=3, bound=5, scan=False)
    assert not consistent(ids, offsets, lists=2, bound=5, scan=False)
