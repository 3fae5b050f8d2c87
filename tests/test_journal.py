"""qa.journal: an interrupted build keeps what it embedded, and the next build resumes from it."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

from qa import cli, journal, store
from qa.indexer import build_index
from qa.journal import JOURNAL, Journal
from qa.settings import Settings

SETTINGS = Settings(chunk_tokens=20)
TOPICS = ["rivers", "bees", "tides", "glaciers", "comets", "forests"]


def _corpus(folder: Path) -> Path:
    for n, topic in enumerate(TOPICS):
        sentences = [f"Fact {i} about {topic}: the {topic} survey counted {17 * n + i} sites in year {1990 + i}." for i in range(6)]  # fmt: skip
        (folder / f"{topic}.txt").parent.mkdir(parents=True, exist_ok=True)
        (folder / f"{topic}.txt").write_text(
            f"{topic.title()}\n\n" + " ".join(sentences) + "\n", encoding="utf-8"
        )
    return folder


class _Hashing:
    """A deterministic embedder (a text's vector comes from its digest), counting what it embeds
    and, when told to, interrupted (as by Ctrl-C) at a given encode call."""

    model_id = "test/hashing"
    dim = 16

    def __init__(self, interrupt_at: int | None = None) -> None:
        self.interrupt_at = interrupt_at
        self.calls = 0
        self.texts: list[str] = []

    def encode(self, texts, *, show_progress=False):
        self.calls += 1
        if self.calls == self.interrupt_at:
            raise KeyboardInterrupt
        self.texts.extend(texts)
        v = np.array(
            [np.frombuffer(hashlib.sha256(t.encode()).digest()[:16], dtype=np.int8) for t in texts],
            dtype=np.float32,
        ).reshape(len(texts), self.dim)
        return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)


class _OtherModel(_Hashing):
    model_id = "test/another-model"


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of two texts, so a small corpus is embedded (and journaled) in several blocks."""
    monkeypatch.setattr(journal, "BLOCK", 2)


def _build(seeds: Path, index: Path, embedder, **kw):
    return build_index(seeds, index, settings=SETTINGS, progress=False, embedder=embedder, **kw)


def _interrupted(seeds: Path, index: Path, at: int = 4) -> _Hashing:
    first = _Hashing(interrupt_at=at)
    with pytest.raises(KeyboardInterrupt):
        _build(seeds, index, first)
    return first


def test_an_interrupted_build_resumes_where_it_stopped(small_blocks, tmp_path):
    seeds, index = _corpus(tmp_path / "seeds"), tmp_path / "index"
    first = _interrupted(seeds, index)
    assert store.current_generation(index) is None  # nothing went live
    assert journal.pending(index) == len(first.texts) > 0

    second = _Hashing()
    report = _build(seeds, index, second)

    # Nothing embedded before the interrupt is embedded again, and the journal is gone.
    assert second.texts and not set(second.texts) & set(first.texts)
    assert 0 < report.resumed < report.embedded == report.chunks
    assert not (index / JOURNAL).exists()
    # The resumed index is the index an uninterrupted build makes.
    whole = tmp_path / "whole"
    _build(seeds, whole, _Hashing())
    resumed, straight = store.load(index), store.load(whole)
    assert report.chunks == len(straight.chunks)
    assert np.array_equal(resumed.vectors[:], straight.vectors[:])
    assert np.array_equal(resumed.sentence_vectors[:], straight.sentence_vectors[:])
    assert np.array_equal(resumed.lexicon.rows(np.arange(len(straight.lexicon.vocab))),
                          straight.lexicon.rows(np.arange(len(straight.lexicon.vocab))))  # fmt: skip


def test_a_journal_of_another_model_is_not_used(small_blocks, tmp_path):
    seeds, index = _corpus(tmp_path / "seeds"), tmp_path / "index"
    first = _interrupted(seeds, index)
    other = _OtherModel()
    _build(seeds, index, other)
    assert set(first.texts) <= set(other.texts)  # all embedded anew by the other model
    assert store.load(index).manifest["model"]["id"] == _OtherModel.model_id


def test_rebuild_starts_over(small_blocks, tmp_path):
    seeds, index = _corpus(tmp_path / "seeds"), tmp_path / "index"
    first = _interrupted(seeds, index)
    again = _Hashing()
    _build(seeds, index, again, rebuild=True)
    assert set(first.texts) <= set(again.texts)
    assert not (index / JOURNAL).exists()


def test_work_of_one_block_is_not_journaled(tmp_path):
    seeds, index = _corpus(tmp_path / "seeds"), tmp_path / "index"
    _interrupted(seeds, index, at=2)  # the chunks were embedded, in one block
    assert not (index / JOURNAL).exists() and journal.pending(index) == 0


def test_a_current_index_drops_a_stale_journal(small_blocks, tmp_path):
    seeds, index = _corpus(tmp_path / "seeds"), tmp_path / "index"
    _build(seeds, index, _Hashing())
    (seeds / "extra.txt").write_text(
        "Extra\n\n" + " ".join(f"Lake {i} holds {7 * i} kinds of fish." for i in range(12)), encoding="utf-8"
    )
    _interrupted(seeds, index)
    assert journal.pending(index) > 0
    (seeds / "extra.txt").unlink()  # the change is undone: the live index is current again
    report = _build(seeds, index, _Hashing())
    assert not report.changed and not (index / JOURNAL).exists()


def test_a_torn_journal_keeps_its_whole_records(tmp_path):
    embedder = _Hashing()
    texts = [f"text number {i}" for i in range(5)]
    j = Journal(tmp_path, embedder)
    table = j._table("float32")
    table.append(journal.digests(texts[:3]), embedder.encode(texts[:3]))
    # A crash in the middle of the next block: its rows half written, its keys not at all.
    with open(table.rows_path, "ab") as fh:
        fh.write(b"\x01" * (embedder.dim * 4 + 7))

    reopened = Journal(tmp_path, embedder)
    assert journal.pending(tmp_path) == 3
    # Appends line up again after the torn tail, and every whole record reads back.
    reopened._table("float32").append(journal.digests(texts[3:]), embedder.encode(texts[3:]))
    final = Journal(tmp_path, embedder)
    rows = final._tables["float32"].find(journal.digests(texts))
    assert rows.tolist() == [0, 1, 2, 3, 4]
    assert np.array_equal(final._tables["float32"].read(rows)[0], embedder.encode(texts))
    assert final._tables["float32"].find(journal.digests(["never embedded"])).tolist() == [-1]


def test_a_journal_with_a_damaged_description_is_removed(tmp_path):
    embedder = _Hashing()
    j = Journal(tmp_path, embedder)
    j._table("int8").append(journal.digests(["a"]), np.zeros((1, 16), np.int8), np.ones(1, np.float32))
    (tmp_path / JOURNAL / "meta.json").write_text("{not json", encoding="utf-8")
    Journal(tmp_path, embedder)
    assert journal.pending(tmp_path) == 0
    assert not (tmp_path / JOURNAL).exists()


def test_the_cli_says_an_interrupted_build_can_resume(small_blocks, tmp_path, monkeypatch, capsys):
    seeds, index = _corpus(tmp_path / "seeds"), tmp_path / "index"
    interrupting = _Hashing(interrupt_at=4)
    monkeypatch.setattr("qa.indexer.get_embedder", lambda *a, **k: interrupting)
    code = cli.main(["build", "--seeds-dir", str(seeds), "--index-dir", str(index)])
    err = capsys.readouterr().err
    assert code == 130
    assert f"{journal.pending(index):,} vectors embedded so far are kept" in err
    assert "run the same command to resume" in err
    assert os.listdir(index)  # the journal is there; no generation went live
    assert store.current_generation(index) is None


def test_a_journal_that_cannot_be_written_does_not_stop_the_build(
    small_blocks, tmp_path, monkeypatch, caplog
):
    seeds, index = _corpus(tmp_path / "seeds"), tmp_path / "index"

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(journal, "_append", disk_full)
    report = _build(seeds, index, _Hashing())
    assert report.chunks > 0 and store.current_generation(index) is not None
    assert "an interrupted build would start over" in caplog.text
    assert caplog.text.count("cannot record embedded vectors") == 1


def test_a_long_build_shows_reading_and_embedding_progress(tmp_path, capsys):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for i in range(1000):
        (seeds / f"note-{i:04d}.txt").write_text(
            f"Note {i} records {i * 3} birds. The site is number {i % 17}.\n"
        )
    build_index(seeds, tmp_path / "index", settings=SETTINGS, progress=True, embedder=_Hashing())
    err = capsys.readouterr().err
    for bar in ("reading documents", "embedding chunks", "embedding sentences", "embedding words"):
        assert f"{bar}: 100%" in err, bar
    assert "1000/1000" in err and "doc/s" in err and "chunk/s" in err
