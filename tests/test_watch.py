"""Deciding when a corpus folder must be rescanned: every question when small, on change when large."""

from __future__ import annotations

import sys

import pytest

from qa import watch
from qa.engine import Engine
from qa.settings import Settings

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux only")


def _large(fresh: watch.Freshness) -> None:
    """Make the Freshness believe its last scan was slow, as for a large corpus."""
    fresh.scanned(1.0)


def test_small_corpus_is_scanned_before_every_question(tmp_path):
    (tmp_path / "a.txt").write_text("one")
    fresh = watch.Freshness(tmp_path)
    fresh.scanned(0.0001)
    assert all(fresh.due() for _ in range(5))


@linux_only
def test_large_corpus_is_scanned_only_after_a_change(tmp_path):
    (tmp_path / "sub").mkdir()
    doc = tmp_path / "sub" / "a.txt"
    doc.write_text("one")
    fresh = watch.Freshness(tmp_path)
    _large(fresh)
    assert fresh.due()  # the watch starts: this question still scans
    assert not fresh.due() and not fresh.due()
    doc.write_text("two")
    assert fresh.due()
    assert not fresh.due()
    (tmp_path / "b.txt").write_text("new")
    assert fresh.due()
    doc.unlink()
    assert fresh.due()
    assert not fresh.due()


@linux_only
def test_new_folders_are_watched_and_the_index_folder_is_not(tmp_path):
    index = tmp_path / "index"
    index.mkdir()
    fresh = watch.Freshness(tmp_path, exclude=[index])
    _large(fresh)
    assert fresh.due()
    (index / "gen-1").mkdir()  # a build writing its index inside the corpus
    (index / "gen-1" / "x.npy").write_bytes(b"0")
    assert not fresh.due()
    new = tmp_path / "new"
    new.mkdir()
    assert fresh.due()
    (new / "c.txt").write_text("inside a folder made after the watch started")
    assert fresh.due()
    assert not fresh.due()


def test_without_inotify_a_large_corpus_is_rescanned_at_most_every_few_seconds(tmp_path, monkeypatch):
    def unavailable(*args, **kwargs):
        raise OSError("inotify instance limit reached")

    monkeypatch.setattr(watch, "Watch", unavailable)
    now = [100.0]
    monkeypatch.setattr(watch.time, "monotonic", lambda: now[0])
    fresh = watch.Freshness(tmp_path)
    _large(fresh)
    assert not fresh.due()
    now[0] += watch.RECHECK_SECONDS
    assert fresh.due()


def test_again_forces_the_next_scan(tmp_path, monkeypatch):
    monkeypatch.setattr(watch, "Watch", lambda *a, **k: (_ for _ in ()).throw(OSError("no")))
    fresh = watch.Freshness(tmp_path)
    _large(fresh)
    fresh.again()
    assert fresh.due()


@linux_only
def test_a_watched_corpus_answers_from_the_changed_document(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("The lighthouse keeper counted forty ships in the harbour.\n")
    (docs / "b.txt").write_text("The bakery sells rye bread on Tuesdays.\n")
    engine = Engine(docs, tmp_path / "index", Settings())
    engine.ask("How many ships?")
    _large(engine._freshness)  # as if the corpus were large: watched from the next question
    engine.ask("How many ships?")
    assert engine._freshness._watch is not None
    (docs / "b.txt").write_text("The bakery sells rye bread on Tuesdays and sourdough on Fridays.\n")
    answer = engine.ask("When is sourdough sold?")
    assert "sourdough" in answer.passages[0].text
    (docs / "b.txt").unlink()
    answer = engine.ask("When is sourdough sold?")
    assert all(p.source != "b.txt" for p in answer.passages)
