"""Reliability: bad input, faults and load, with nothing lost.

A fast subset of ``python benchmarks/reliability.py`` (which prints the figures), on a tiny
corpus so that a full rebuild stays cheap. Builds are killed in children forked from a harness
process that has the model loaded; the read-only folder, the full disk and the unreadable file
are simulated in this process (the benchmark does them for real, as `nobody`).
"""

from __future__ import annotations

import errno
import logging
import os
import random
import re
import shutil
import time
from pathlib import Path

import pytest

from benchmarks import reliability as rel
from qa import build_index, store
from qa.documents import scan
from qa.engine import Engine, ask, get_engine
from qa.errors import CorpusNotFound, EmptyCorpus, EmptyQuestion, IndexWriteError, QAError
from qa.indexer import is_current
from qa.render import render_chat
from qa.settings import Settings
from qa.ui import ChatApp

SETTINGS = Settings()
QUESTIONS = list(rel.TINY_QUESTIONS)


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    """The kill harness: started first, so that its start overlaps the module's first build."""
    h = rel.Harness(tmp_path_factory.mktemp("harness") / "harness.log", wait=False)
    yield h
    h.close()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, harness):
    """The tiny corpus and its index with two generations (live and previous); answers as built."""
    base = tmp_path_factory.mktemp("reliability")
    seeds = rel.write_corpus(base / "seeds", {k: v for k, v in rel.TINY_DOCS.items() if k != "orchard.txt"})
    index = base / "index"
    build_index(seeds, index, settings=SETTINGS, progress=False)
    rel.write_corpus(seeds, {"orchard.txt": rel.TINY_DOCS["orchard.txt"]})
    build_index(seeds, index, settings=SETTINGS, progress=False)
    engine = Engine(seeds, index, SETTINGS)
    baseline = {q: rel.snapshot(engine.ask(q, k=5)) for q in QUESTIONS}
    return base, seeds, index, baseline


def _copy(corpus, tmp_path) -> tuple[Path, Path]:
    """A private copy of the corpus and its index (same sizes and mtimes: nothing re-embedded)."""
    _, seeds, index, _ = corpus
    shutil.copytree(seeds, tmp_path / "seeds")
    shutil.copytree(index, tmp_path / "index")
    return tmp_path / "seeds", tmp_path / "index"


def _failures(tally: rel.Tally) -> str:
    return "\n".join(tally.failures)


# --------------------------------------------------------------------------------- bad questions
@pytest.mark.parametrize(
    ("name", "question", "expected"), rel.BAD_QUESTIONS, ids=[q[0] for q in rel.BAD_QUESTIONS]
)
def test_a_bad_question_gets_quotes_or_a_clear_message(corpus, name, question, expected):
    _, seeds, index, _ = corpus
    if expected == "error":
        with pytest.raises(EmptyQuestion, match=r"\w+"):
            ask(question, seeds_dir=seeds, index_dir=index, settings=SETTINGS)
    else:
        answer = ask(question, k=3, seeds_dir=seeds, index_dir=index, settings=SETTINGS)
        assert answer.passages and rel.verbatim(seeds, answer)
        assert any("cut" in n for n in answer.notices) == (expected == "cut")
    # Typed on the chat page: an answer or a message, shown as text.
    app = ChatApp(seeds, index, SETTINGS, feedback_path=index.parent / "fb.jsonl", examples=[])
    turn = app.turn_for(question, [], 3, None)
    assert (turn.error != "") == (expected == "error")
    html = render_chat([turn])
    assert "<script" not in html and "<img" not in html and "](" not in html and "Traceback" not in html


def test_a_long_question_is_cut_with_a_notice_that_says_so(corpus):
    _, seeds, index, _ = corpus
    answer = ask("How many ships? " * 7000, seeds_dir=seeds, index_dir=index, settings=SETTINGS)
    assert len(answer.query) <= 2000
    assert answer.notices == (f"the question was cut to its first {len(answer.query)} characters",)


def test_cjk_and_right_to_left_questions_find_the_passage_in_their_script(corpus):
    _, seeds, index, _ = corpus
    for question, words in (
        ("灯塔管理员数了多少艘船？", "4211艘船"),
        ("كم سفينة أحصى حارس المنارة؟", "4211 سفينة"),
    ):
        answer = ask(question, k=3, seeds_dir=seeds, index_dir=index, settings=SETTINGS)
        assert any(words in p.text for p in answer.passages), (question, answer.passages)


# --------------------------------------------------------------------------------- bad documents
def test_bad_documents_are_skipped_or_indexed_with_a_warning_and_the_rest_is_indexed(
    corpus, tmp_path, monkeypatch
):
    tally = rel.Tally()
    _, seeds, index, _ = corpus
    # An unreadable file: permissions do not stop root, so reading it fails as it would.
    real_read = Path.read_bytes

    def read_bytes(self):
        if self.name == "secret.txt":
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_read(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    base = tmp_path / "bad"
    base.mkdir()
    clean = tmp_path / "clean"
    shutil.copytree(seeds, clean)
    (clean / "secret.txt").write_text("Nobody may read this.\n")
    rel.check_bad_documents(tally, base, clean, index, SETTINGS, 10 * 1024 * 1024, unique_line=False)
    skipped = store.load(base / "bad-index").manifest["skipped"]
    tally.input(
        "documents", "unreadable", "cannot be read (Permission denied)" in skipped["secret.txt"]["reason"]
    )
    assert tally.inputs == tally.inputs_ok and not tally.lost, _failures(tally)
    assert tally.inputs >= 25


def test_a_ten_mb_line_of_unique_text_is_chunked_in_bounded_pieces_quickly():
    from qa.chunking import chunk_document
    from qa.types import Document

    rng = random.Random(3)
    words = ["".join(rng.choice("abcdefghij") for _ in range(rng.randint(2, 9))) for _ in range(3000)]
    text = " ".join(rng.choice(words) for _ in range(2_000_000))[: 10 * 1024 * 1024]
    t0 = time.perf_counter()
    chunks = chunk_document(Document("big.txt", "big.txt", text, "0"), chunk_tokens=SETTINGS.chunk_tokens)
    assert time.perf_counter() - t0 < 60
    assert max(len(c.text) for c in chunks) <= 4096
    assert all(text[c.start : c.end] == c.text for c in chunks[:: len(chunks) // 50])
    assert chunks[0].start == 0 and chunks[-1].end == len(text.rstrip())


def test_duplicates_are_all_indexed_and_a_shared_quote_is_shown_once(tmp_path, caplog):
    seeds = rel.write_corpus(tmp_path / "seeds", rel.TINY_DOCS)
    shutil.copyfile(seeds / "orchard.txt", seeds / "orchard copy.txt")
    with caplog.at_level(logging.WARNING, logger="qa"):
        report = build_index(seeds, tmp_path / "index", settings=SETTINGS, progress=False)
    assert report.duplicates == [["orchard copy.txt", "orchard.txt"]]
    assert "orchard copy.txt, orchard.txt have the same content" in caplog.text
    answer = ask("How many apple trees are in the orchard?", seeds_dir=seeds, index_dir=tmp_path / "index")
    texts = [" ".join(p.text.split()) for p in answer.passages]
    assert "40 apple trees" in texts[0] and len(texts) == len(set(texts))
    other = {"orchard.txt", "orchard copy.txt"} - {answer.passages[0].source}
    assert answer.notices == (f"the same text is also in {other.pop()}; each quote is shown once",)
    # Each copy can still be searched on its own.
    only = ask("apple trees?", seeds_dir=seeds, index_dir=tmp_path / "index", sources=["orchard copy.txt"])
    assert {p.source for p in only.passages} == {"orchard copy.txt"} and not only.notices


def test_missing_empty_and_bad_only_corpus_folders_get_a_clear_error(tmp_path):
    tally = rel.Tally()
    rel.check_corpus_folders(tally, tmp_path, SETTINGS)
    assert tally.inputs == tally.inputs_ok == 4, _failures(tally)
    with pytest.raises(CorpusNotFound, match="seeds-dir"):
        scan(tmp_path / "nothing-here")
    with pytest.raises(EmptyCorpus, match="add documents"):
        build_index(tmp_path / "empty-corpus", tmp_path / "i", settings=SETTINGS, progress=False)


def test_an_index_folder_inside_the_corpus_is_not_scanned_and_not_rebuilt_by_each_ask(corpus, tmp_path):
    _, seeds, index, _ = corpus
    local = tmp_path / "seeds"
    shutil.copytree(seeds, local)
    shutil.copytree(index, local / "index")  # e.g. --index-dir seeds/index
    live = store.live_name(local / "index")
    for q in QUESTIONS:
        ask(q, seeds_dir=local, index_dir=local / "index", settings=SETTINGS)
    assert store.live_name(local / "index") == live
    assert all(not s.doc_id.startswith("index/") for s in scan(local))
    # Also when the folder is not named as the index folder (another index, a stale copy).
    shutil.copytree(index, local / "old-index")
    assert all(not s.doc_id.startswith("old-index/") for s in scan(local))


def test_uploads_stay_in_the_corpus_and_are_limited_in_type_and_size(tmp_path):
    tally = rel.Tally()
    rel.check_uploads(tally, tmp_path)
    assert tally.inputs == tally.inputs_ok >= 9, _failures(tally)


# --------------------------------------------------------------------------------- faults
def test_builds_killed_at_random_moments_and_at_each_step_of_a_save_lose_nothing(corpus, harness, tmp_path):
    seeds, index = _copy(corpus, tmp_path)
    tally = rel.Tally()
    rel.check_kills(tally, harness, seeds, index, SETTINGS, QUESTIONS, rounds=2, rng=random.Random(5))
    # A random kill that came after its build had finished is no fault injected.
    assert tally.faults == tally.faults_ok >= len(rel.KILL_POINTS), _failures(tally)
    assert not tally.failures and not tally.lost, _failures(tally)


@pytest.mark.parametrize("name", list(rel.corruptions(Path("/nonexistent/marker"))))
def test_damaged_index_files_are_detected_on_load(corpus, tmp_path, name):
    _, seeds, index, _ = corpus
    copy = tmp_path / "index"
    shutil.copytree(index, copy)
    live = copy / store.live_name(copy)
    previous = max(p for p in copy.glob("gen-*") if p != live)
    marker = tmp_path / "PWNED"
    rel.corruptions(marker)[name](copy, live, previous)
    if name in rel.STALE_NOT_CORRUPT:
        assert not is_current(seeds, store.load(copy), SETTINGS)
    else:
        with pytest.raises(QAError, match="qa build --rebuild|damaged|missing|cannot be read|inconsistent"):
            store.load(copy)
    assert not marker.exists()  # nothing was unpickled


@pytest.mark.parametrize(
    "name",
    [
        "flipped byte in sentence_scale.npy",
        "manifest of another dimension",
        "CURRENT garbage",
        "pickle payload in sentence_scale.npy",
    ],
)
def test_the_next_ask_after_damage_rebuilds_and_answers_as_before(corpus, tmp_path, name):
    tally = rel.Tally()
    _, seeds, index, baseline = corpus
    rel.check_corruption(tally, tmp_path, seeds, index, SETTINGS, baseline, names=[name])
    assert tally.faults == tally.faults_ok == 1 and not tally.lost, _failures(tally)


def test_index_files_are_never_loaded_with_pickle():
    sources = {p.name: p.read_text() for p in (rel.REPO / "qa").glob("*.py")}
    for name, text in sources.items():
        assert "import pickle" not in text and "allow_pickle=True" not in text, name
        assert "torch.load" not in text and "joblib" not in text, name
    for name, text in sources.items():  # every np.load says so, and RowFile reads numbers only
        assert text.count("np.load(") <= text.count("allow_pickle=False"), name
    assert sources["store.py"].count("allow_pickle=False") >= 4 and "RowFile(" in sources["store.py"]
    assert "hasobject" in sources["rowfile.py"]


def test_the_garbage_collector_keeps_the_live_and_previous_generations_and_removes_orphans(corpus, tmp_path):
    seeds, index = _copy(corpus, tmp_path)
    live = store.live_name(index)
    # What a build killed between its rename and CURRENT leaves: a whole generation nobody uses
    # (newer than the live one) and the pointer it was about to move.
    orphan = index / f"gen-{time.time_ns():020d}-99999"
    shutil.copytree(index / live, orphan)
    (index / ".CURRENT.tmp-99999").write_text(orphan.name + "\n")
    (index / ".tmp-gen-00000000000000000001-99999").mkdir()
    (seeds / "new.md").write_text("# New\n\nA new note about herons.\n")
    report = build_index(seeds, index, settings=SETTINGS, progress=False)
    assert sorted(p.name for p in index.glob("gen-*")) == sorted([live, report.generation])
    assert not list(index.glob(".CURRENT.tmp-*")) and not list(index.glob(".tmp-*"))


def test_a_read_only_index_folder_keeps_the_old_index_and_says_why(corpus, tmp_path, monkeypatch):
    seeds, index = _copy(corpus, tmp_path)
    _, _, _, baseline = corpus
    before = store.live_name(index)
    (seeds / "new.md").write_text("# New\n\nA note added while the folder is read-only.\n")
    real_open = open

    def read_only_open(file, mode="r", *args, **kwargs):
        if any(m in mode for m in "wax+") and Path(file).parent == index:
            raise OSError(errno.EROFS, "Read-only file system", str(file))
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr("builtins.open", read_only_open)
    with pytest.raises(
        IndexWriteError, match=re.escape(f"cannot write the index in {index}: Read-only file")
    ):
        build_index(seeds, index, settings=SETTINGS, progress=False)
    engine = Engine(seeds, index, SETTINGS)
    for q, expected in baseline.items():
        answer = engine.ask(q, k=5)
        assert rel.snapshot(answer) == expected
        assert any("could not be updated" in n and "Read-only" in n for n in answer.notices)
    assert store.live_name(index) == before and not list(index.glob(".tmp-*"))


@pytest.mark.parametrize("where", ["np.save", "faiss.write_index", "CURRENT"])
def test_a_full_disk_keeps_the_old_index_and_says_why(corpus, tmp_path, monkeypatch, where):
    seeds, index = _copy(corpus, tmp_path)
    before = store.load(index)
    gens = sorted(p.name for p in index.glob("gen-*"))
    (seeds / "new.md").write_text("# New\n\nA note added while the disk is full.\n")

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    if where == "np.save":
        monkeypatch.setattr(store.np, "save", full)
    elif where == "faiss.write_index":
        import faiss

        def faiss_full(*args, **kwargs):  # faiss reports a failed write as a RuntimeError
            raise RuntimeError("Error in faiss::FileIOWriter: fwrite failed (No space left on device)")

        monkeypatch.setattr(faiss, "write_index", faiss_full)
    else:
        real_replace = os.replace

        def replace(src, dst, *args, **kwargs):
            if Path(dst).name == store.CURRENT:
                full()
            return real_replace(src, dst, *args, **kwargs)

        monkeypatch.setattr(store.os, "replace", replace)
    with pytest.raises(IndexWriteError, match="No space left on device"):
        build_index(seeds, index, settings=SETTINGS, progress=False)
    assert store.live_name(index) == before.generation
    # Nothing half-written is left: no temporary folder, no new generation, no pointer.
    assert sorted(p.name for p in index.glob("gen-*")) == gens
    assert not list(index.glob(".tmp-*")) and not list(index.glob(".CURRENT.tmp-*"))
    assert store.load(index).chunks == before.chunks


# --------------------------------------------------------------------------------- load
def test_ask_from_eight_threads_gives_the_answers_of_serial_calls(corpus):
    tally = rel.Tally()
    _, seeds, index, _ = corpus
    questions = [*QUESTIONS, "灯塔管理员数了多少艘船？"]
    rel.check_threads(tally, seeds, index, SETTINGS, questions, repeats=4)
    assert tally.requests == 4 * len(questions) and tally.errors == 0 and not tally.lost, _failures(tally)


def test_answers_keep_coming_from_the_old_index_during_a_full_rebuild(corpus, tmp_path):
    seeds, index = _copy(corpus, tmp_path)
    _, _, _, baseline = corpus
    tally = rel.Tally()
    out = rel.check_rebuild_while_answering(tally, None, seeds, index, SETTINGS, baseline, rebuilds=1)
    assert tally.errors == 0 and not tally.lost and tally.faults == tally.faults_ok == 1, _failures(tally)
    assert tally.requests >= 3
    # The engine moved to the new generation once it was whole.
    assert get_engine(seeds, index, SETTINGS).index().generation != out["first"]


def test_the_chat_page_under_concurrent_sessions_answers_every_request(corpus):
    _, seeds, index, baseline = corpus
    tally = rel.Tally()
    app = ChatApp(seeds, index, SETTINGS, feedback_path=index.parent / "fb-load.jsonl", examples=[])
    with rel.serve_in_process(app) as url:
        rel.check_api_bad_questions(tally, url)
        rel.run_chat_load(tally, url, baseline, sessions=10, per_session=2, deadline_s=60)
    assert tally.inputs == tally.inputs_ok == 4, _failures(tally)
    assert tally.requests == 20 and tally.errors == 0 and not tally.lost, _failures(tally)
    p50, p99 = rel.percentile(tally.latencies_ms, 50), rel.percentile(tally.latencies_ms, 99)
    print(f"chat load: 10 sessions, 20 answers, p50 {p50:.0f} ms, p99 {p99:.0f} ms")


def test_the_password_protects_the_page_and_its_api(corpus):
    _, seeds, index, _ = corpus
    tally = rel.Tally()
    rel.check_password(tally, seeds, index, SETTINGS, QUESTIONS[0])
    assert tally.inputs == tally.inputs_ok == 3, _failures(tally)


def test_an_unreadable_folder_is_named_in_a_warning_and_the_rest_is_scanned(tmp_path, monkeypatch, caplog):
    seeds = rel.write_corpus(tmp_path / "seeds", {"a.md": "# A\n\nText.\n", "private/b.md": "# B\n\nText.\n"})
    real_scandir = os.scandir

    def scandir(path="."):
        if Path(path).name == "private":  # root is not stopped by permissions: refuse as they would
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with caplog.at_level(logging.WARNING, logger="qa"):
        found = [s.doc_id for s in scan(seeds)]
    assert found == ["a.md"]
    assert f"skipped folder {seeds / 'private'}: Permission denied" in caplog.text
