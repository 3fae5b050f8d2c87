"""qa.indexer: incremental builds embed only what changed, and say what they did."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from qa import store
from qa.errors import CorpusNotFound, EmptyCorpus
from qa.indexer import build_index, is_current
from qa.settings import Settings

DOCS = {
    "rivers.txt": (
        "Rivers\n\n"
        "The Danube flows through ten countries before it reaches the Black Sea.\n\n"
        "The Nile was long thought to be the longest river on Earth.\n\n"
        "The Amazon carries more water than the next seven rivers combined.\n"
    ),
    "bees.md": (
        "# Bees\n\n"
        "A honey bee colony holds a single queen and thousands of workers.\n\n"
        "Workers live about six weeks in summer and longer in winter.\n\n"
        "- Drones do not sting.\n- Queens can live for several years.\n"
    ),
    "nested/tides.txt": (
        "Tidal power converts the energy of tides into electricity.\n\n"
        "History\n\n"
        "The largest plant sits on the Rance estuary in France and opened in 1966.\n"
    ),
}
SETTINGS = Settings(chunk_tokens=20)


def _write(folder: Path, docs: dict[str, str]) -> Path:
    for name, text in docs.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


def _build(seeds: Path, index: Path, settings: Settings = SETTINGS, **kw):
    return build_index(seeds, index, settings=settings, progress=False, **kw)


def _chunks_of(index_dir: Path, doc_id: str) -> list[str]:
    return [c.text for c in store.load(index_dir).chunks if c.doc_id == doc_id]


def _chunk_and_sentence_texts(index_dir: Path, exclude: str) -> set[str]:
    """Every chunk (as embedded) and sentence text of an index, but those of one chunk."""
    out = set()
    for c in store.load(index_dir).chunks:
        if c.text != exclude:
            out.add(c.embed_text)
            out.update(c.text[s.start - c.start : s.end - c.start] for s in c.sentences)
    return out


def _bump_mtime(path: Path) -> None:
    # Some file systems keep coarse timestamps; make the change unmistakable.
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))


@pytest.fixture(scope="module")
def first_build(tmp_path_factory):
    """The corpus and a first full build, copied by each test that changes them."""
    root = tmp_path_factory.mktemp("indexer")
    seeds = _write(root / "seeds", DOCS)
    report = _build(seeds, root / "index")
    return root, report


@pytest.fixture
def corpus(first_build, tmp_path):
    """A private copy of the built corpus and index (mtimes kept, so it is up to date)."""
    root, report = first_build
    shutil.copytree(root / "seeds", tmp_path / "seeds")
    shutil.copytree(root / "index", tmp_path / "index")
    return tmp_path / "seeds", tmp_path / "index", report


def test_first_build_embeds_everything(first_build):
    root, report = first_build
    assert report.changed
    assert report.documents == 3
    assert report.chunks >= 8
    assert report.embedded == report.chunks
    assert report.reused == 0
    assert report.removed == [] and report.skipped == []
    assert report.seconds > 0
    assert store.load(root / "index").generation == report.generation


def test_second_build_with_nothing_changed_embeds_nothing(corpus):
    seeds, index, first = corpus
    report = _build(seeds, index, embedder=_Forbidden())
    assert not report.changed
    assert report.embedded == 0
    assert report.reused == first.chunks
    assert (report.documents, report.chunks) == (first.documents, first.chunks)
    assert report.generation == first.generation
    assert (index / "CURRENT").read_text().strip() == first.generation
    assert is_current(seeds, store.load(index), SETTINGS)


class _Forbidden:
    """An embedder that fails the test if anything is embedded."""

    model_id = SETTINGS.model
    dim = 384

    def encode(self, texts, *, show_progress=False):
        raise AssertionError(f"nothing should be embedded, got {len(texts)} texts")


class _Counting:
    """The real model, counting what it is asked to embed."""

    def __init__(self) -> None:
        from qa.embedding import get_embedder

        self.inner = get_embedder(SETTINGS.model, SETTINGS.batch_size)
        self.model_id, self.dim = self.inner.model_id, self.inner.dim
        self.texts: list[str] = []

    def encode(self, texts, *, show_progress=False):
        self.texts.extend(texts)
        return self.inner.encode(texts)


def test_editing_one_document_re_embeds_only_its_changed_chunk(corpus, tmp_path):
    seeds, index, first = corpus
    old = (seeds / "rivers.txt").read_text(encoding="utf-8")
    (seeds / "rivers.txt").write_text(
        old.replace("ten countries", "ten European countries"), encoding="utf-8"
    )
    _bump_mtime(seeds / "rivers.txt")
    counting = _Counting()

    report = _build(seeds, index, embedder=counting)

    assert report.changed
    assert report.embedded == 1
    assert report.reused == report.chunks - 1 > 0
    # The changed chunk and its sentence were embedded, and no unchanged chunk or sentence.
    changed = "The Danube flows through ten European countries before it reaches the Black Sea."
    assert f"Rivers\n{changed}" in counting.texts and changed in counting.texts
    assert not set(counting.texts) & _chunk_and_sentence_texts(index, exclude=changed)
    assert changed in _chunks_of(index, "rivers.txt")

    # Reused rows are where they belong: the result equals a build from scratch.
    full = tmp_path / "full-index"
    _build(seeds, full, rebuild=True)
    inc, ref = store.load(index), store.load(full)
    assert inc.chunks == ref.chunks
    np.testing.assert_allclose(inc.vectors, ref.vectors, atol=1e-5)
    np.testing.assert_allclose(
        np.asarray(inc.sentence_vectors, np.float32), np.asarray(ref.sentence_vectors, np.float32), atol=2e-3
    )


def test_a_re_index_lays_out_the_same_chunk_table_as_a_rebuild(corpus, tmp_path):
    """Kept rows are copied from the previous table's columns (chunktable.Merged), new ones
    written from their chunks: with documents edited, added before and after, and deleted, the
    files equal those of a build from scratch."""
    import json

    from qa import chunktable

    seeds, index, _ = corpus
    old = (seeds / "rivers.txt").read_text(encoding="utf-8")
    (seeds / "rivers.txt").write_text(
        old.replace("ten countries", "ten European countries"), encoding="utf-8"
    )
    _bump_mtime(seeds / "rivers.txt")
    (seeds / "bees.md").unlink()
    (seeds / "aardvarks.txt").write_text(
        "Aardvarks dig burrows.\n\nThey eat ants at night.\n", encoding="utf-8"
    )
    (seeds / "zebras.txt").write_text("Zebras live in herds.\n", encoding="utf-8")
    _build(seeds, index, embedder=_Counting())
    _build(seeds, tmp_path / "full", rebuild=True)
    inc, ref = store.load(index), store.load(tmp_path / "full")
    assert inc.chunks == ref.chunks and list(inc.chunk_hashes) == list(ref.chunk_hashes)
    for name in chunktable.FILES:
        a, b = inc.path / name, ref.path / name
        if name.endswith(".json"):
            assert json.loads(a.read_text()) == json.loads(b.read_text()), name
        else:
            assert np.array_equal(np.load(a), np.load(b)), name
    assert np.array_equal(np.asarray(inc.sentence_offsets), np.asarray(ref.sentence_offsets))


def test_merged_rows_interleave_runs_from_both_sides():
    from qa.chunktable import Rows
    from qa.types import Chunk, Sentence

    def chunk(name: str, n: int) -> Chunk:
        text = " ".join(f"{name}{i}." for i in range(n))
        return Chunk(
            f"{name}.txt", 0, len(text), text, name.upper(), tuple(Sentence(0, 2) for _ in range(n)), 0, "\n"
        )

    chunks = [chunk(x, n) for x, n in zip("abcdefg", [1, 2, 3, 1, 2, 1, 3], strict=True)]
    is_new = np.array([0, 1, 1, 0, 0, 1, 0], dtype=bool)
    kept = Rows.of([c for c, f in zip(chunks, is_new, strict=True) if not f])
    new = Rows.of([c for c, f in zip(chunks, is_new, strict=True) if f])
    got, want = Rows.interleave(is_new, kept, new), Rows.of(chunks)
    for field in ("doc", "heading"):
        assert getattr(got, field) == getattr(want, field)
    for field in ("text", "text_len", "gap", "gap_len", "start", "end", "position", "spans", "n_sents"):
        assert np.array_equal(getattr(got, field), getattr(want, field)), field


def test_deleting_a_document_removes_it_and_its_chunks(corpus):
    seeds, index, first = corpus
    assert _chunks_of(index, "bees.md")
    (seeds / "bees.md").unlink()

    report = _build(seeds, index, embedder=_Forbidden())

    assert report.removed == ["bees.md"]
    assert report.documents == 2
    assert report.embedded == 0
    loaded = store.load(index)
    assert _chunks_of(index, "bees.md") == []
    assert "bees.md" not in loaded.manifest["documents"]
    assert len(loaded.chunks) == report.chunks == loaded.vectors.shape[0] == loaded.faiss_index.ntotal
    assert loaded.bm25.get_scores(["queen"]).max() == 0


def test_adding_a_document_embeds_only_it(corpus):
    seeds, index, first = corpus
    (seeds / "nested" / "deeper").mkdir()
    (seeds / "nested" / "deeper" / "owls.txt").write_text("Owls hunt at night.\n", encoding="utf-8")
    counting = _Counting()

    report = _build(seeds, index, embedder=counting)

    assert report.documents == 4
    assert report.embedded == 1 and report.reused == first.chunks
    assert "Owls hunt at night." in counting.texts
    assert not set(counting.texts) & _chunk_and_sentence_texts(index, exclude="Owls hunt at night.")
    assert _chunks_of(index, "nested/deeper/owls.txt") == ["Owls hunt at night."]


def test_touching_a_file_without_changing_it_embeds_nothing(corpus):
    seeds, index, first = corpus
    before = store.load(index).chunks
    _bump_mtime(seeds / "bees.md")

    report = _build(seeds, index, embedder=_Forbidden())

    assert report.embedded == 0
    assert report.reused == first.chunks
    assert store.load(index).chunks == before
    # The new timestamp is remembered: the next build has nothing to do.
    again = _build(seeds, index, embedder=_Forbidden())
    assert not again.changed


def test_changing_chunk_tokens_rechunks_and_reuses_unchanged_texts(corpus):
    seeds, index, first = corpus
    bigger = Settings(chunk_tokens=40)
    counting = _Counting()

    report = _build(seeds, index, settings=bigger, embedder=counting)

    assert report.changed
    loaded = store.load(index)
    assert loaded.manifest["settings_key"]["chunk_tokens"] == 40
    assert report.chunks < first.chunks  # paragraphs now share chunks
    assert report.embedded > 0
    # Chunks whose text did not change (here: the two sections of tides.txt) keep their vectors.
    assert report.reused == 2
    assert {c.text for c in loaded.chunks if c.doc_id == "nested/tides.txt"} == {
        "Tidal power converts the energy of tides into electricity.",
        "The largest plant sits on the Rance estuary in France and opened in 1966.",
    }
    assert report.embedded + report.reused == report.chunks
    assert len(set(counting.texts) & {c.embed_text for c in loaded.chunks}) == report.embedded
    # And the index is now current for the new settings, stale for the old ones.
    assert is_current(seeds, loaded, bigger)
    assert not is_current(seeds, loaded, SETTINGS)


def test_rebuild_embeds_everything_again(corpus):
    seeds, index, first = corpus
    report = _build(seeds, index, rebuild=True)
    assert report.changed and report.embedded == first.chunks and report.reused == 0
    assert report.generation != first.generation


def test_skipped_files_are_reported_and_remembered(corpus, caplog):
    seeds, index, first = corpus
    (seeds / "broken.txt").write_bytes(b"caf\xe9\n")
    with caplog.at_level(logging.WARNING, logger="qa"):
        report = _build(seeds, index, embedder=_Forbidden())
    assert [(s.doc_id, "UTF-8" in s.reason) for s in report.skipped] == [("broken.txt", True)]
    assert any("broken.txt" in r.getMessage() for r in caplog.records)
    again = _build(seeds, index, embedder=_Forbidden())
    assert not again.changed
    assert "UTF-8" in store.load(index).manifest["skipped"]["broken.txt"]["reason"]


def test_an_empty_corpus_raises_empty_corpus_with_a_clear_message(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    with pytest.raises(EmptyCorpus) as info:
        _build(seeds, tmp_path / "index")
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert str(seeds) in message and ".txt" in message and "--seeds-dir" in message
    assert not (tmp_path / "index" / "CURRENT").exists()


def test_a_corpus_of_only_unusable_files_names_them(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "blank.txt").write_text("   \n", encoding="utf-8")
    (seeds / "image.png").write_bytes(b"\x89PNG\x00")
    with pytest.raises(EmptyCorpus, match=r"skipped: blank\.txt, image\.png"):
        _build(seeds, tmp_path / "index")


def test_emptying_a_corpus_keeps_the_previous_index(corpus):
    seeds, index, first = corpus
    for path in [p for p in seeds.rglob("*") if p.is_file()]:
        path.unlink()
    with pytest.raises(EmptyCorpus):
        _build(seeds, index)
    assert store.load(index).generation == first.generation


def test_a_missing_corpus_raises_corpus_not_found(tmp_path):
    with pytest.raises(CorpusNotFound):
        _build(tmp_path / "missing", tmp_path / "index")


def test_a_corrupt_index_is_rebuilt_from_scratch(corpus, caplog):
    seeds, index, first = corpus
    gen = index / first.generation
    (gen / "chunks" / "text.npy").write_text("damaged\n")
    with caplog.at_level(logging.WARNING, logger="qa"):
        report = _build(seeds, index)
    assert report.changed and report.embedded == first.chunks and report.reused == 0
    assert any("rebuilding" in r.getMessage() for r in caplog.records)
    assert store.load(index).generation == report.generation


QUERIES = [
    "longest river",
    "queen bee workers",
    "tidal power France",
    "Danube European countries",
    "owls night",
]


def _edit_add_delete(seeds: Path) -> None:
    """One change of each kind: a document edited, one added, one deleted."""
    rivers = seeds / "rivers.txt"
    rivers.write_text(
        rivers.read_text(encoding="utf-8").replace("ten countries", "ten European countries"),
        encoding="utf-8",
    )
    _bump_mtime(rivers)
    (seeds / "owls.txt").write_text("Owls\n\nOwls hunt at night over rivers.\n", encoding="utf-8")
    (seeds / "bees.md").unlink()


def _assert_same_as_scratch(seeds: Path, index: Path, scratch: Path) -> None:
    """An incremental index equals a from-scratch one: chunks, BM25 scores, word counts, searches."""
    from qa.embedding import get_embedder
    from qa.retrieval import Retriever, tokenize

    _build(seeds, scratch, rebuild=True)
    inc, ref = store.load(index), store.load(scratch)
    assert inc.chunks == ref.chunks
    assert inc.lexicon.vocab == ref.lexicon.vocab
    assert inc.lexicon.df.tolist() == ref.lexicon.df.tolist()
    assert inc.lexicon.n_docs == ref.lexicon.n_docs
    # Sentence words carried over (renumbered into the new vocabulary) equal words looked up anew.
    every = np.arange(len(ref.sentence_vectors))
    (inc_ids, inc_len), (ref_ids, ref_len) = inc.sentence_words.of(every), ref.sentence_words.of(every)
    assert inc_len.tolist() == ref_len.tolist()
    bounds = np.cumsum(ref_len)[:-1]
    assert [sorted(a) for a in np.split(inc_ids, bounds)] == [sorted(a) for a in np.split(ref_ids, bounds)]
    embedder = get_embedder(SETTINGS.model, SETTINGS.batch_size)
    for query in QUERIES:
        tokens = tokenize([query])[0]
        np.testing.assert_array_equal(inc.bm25.get_scores(tokens), ref.bm25.get_scores(tokens), err_msg=query)
        qvec = embedder.encode([query])[0]
        got, want = Retriever(inc, SETTINGS).search(query, qvec), Retriever(ref, SETTINGS).search(query, qvec)
        assert [(h.row, h.bm25) for h in got] == [(h.row, h.bm25) for h in want], query
        # A text embedded in another batch differs by up to ~1e-3 in bfloat16 (1e-6 in float32).
        np.testing.assert_allclose([h.dense for h in got], [h.dense for h in want], atol=3e-3)


def test_an_incremental_build_equals_a_build_from_scratch(corpus, tmp_path):
    seeds, index, first = corpus
    _edit_add_delete(seeds)

    report = _build(seeds, index)

    assert report.reused > 0 and report.removed == ["bees.md"]
    _assert_same_as_scratch(seeds, index, tmp_path / "scratch")
    # And once more on top of the incremental one: the stored tokens and counts stay exact.
    (seeds / "nested" / "tides.txt").unlink()
    (seeds / "more.txt").write_text("The Danube and the Nile are rivers.\n", encoding="utf-8")
    _build(seeds, index)
    _assert_same_as_scratch(seeds, index, tmp_path / "scratch-2")


def test_an_incremental_build_tokenizes_and_counts_only_new_chunks(corpus, monkeypatch):
    import qa.lexicon
    import qa.retrieval

    seeds, index, first = corpus
    assert all(name in store.load(index).manifest["files"] for name in qa.retrieval.TOKEN_FILES)
    tokenized: list[str] = []
    counted: list[str] = []
    real_tokenize, real_words = qa.retrieval.tokenize, qa.lexicon.words
    monkeypatch.setattr(
        qa.retrieval, "tokenize", lambda texts: tokenized.extend(texts) or real_tokenize(texts)
    )
    monkeypatch.setattr(qa.lexicon, "words", lambda text: counted.append(text) or real_words(text))
    (seeds / "owls.txt").write_text("Owls hunt at night.\n", encoding="utf-8")

    _build(seeds, index)

    assert tokenized == ["Owls hunt at night."]
    assert counted == ["Owls hunt at night."]


def test_an_index_without_stored_tokens_is_updated_exactly(corpus, tmp_path):
    """An index written before the token files existed (or with them damaged) still updates right."""
    import json

    import qa.retrieval

    seeds, index, first = corpus
    gen = store.current_generation(index)
    manifest = json.loads((gen / "manifest.json").read_text(encoding="utf-8"))
    for name in qa.retrieval.TOKEN_FILES:
        (gen / name).unlink()
        del manifest["files"][name]
    del manifest["tokenizers"]
    (gen / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    store.load(index)  # still a valid index
    _edit_add_delete(seeds)

    _build(seeds, index)

    _assert_same_as_scratch(seeds, index, tmp_path / "scratch")


def test_many_groups_of_duplicates_are_counted_not_all_listed(tmp_path, caplog):
    from qa.indexer import SHOWN_DUPLICATES

    seeds = tmp_path / "seeds"
    groups = SHOWN_DUPLICATES + 2
    for g in range(groups):
        for copy in ("a", "b"):
            _write(seeds, {f"{copy}{g:02d}.txt": f"Note number {g} is about lighthouse {g}.\n"})
    with caplog.at_level("WARNING", logger="qa"):
        report = _build(seeds, tmp_path / "index")
    assert len(report.duplicates) == groups
    assert caplog.text.count("have the same content: all are indexed") == SHOWN_DUPLICATES
    assert "2 more groups of documents have the same content" in caplog.text


def test_the_cycle_collector_is_paused_during_a_build_and_restored(tmp_path, monkeypatch):
    import gc

    import qa.indexer

    seen = []
    real_save = qa.indexer.store.save
    monkeypatch.setattr(
        qa.indexer.store, "save", lambda *a, **k: seen.append(gc.isenabled()) or real_save(*a, **k)
    )
    seeds = _write(tmp_path / "seeds", {"a.txt": "Herons wade in shallow water.\n"})
    assert gc.isenabled()
    _build(seeds, tmp_path / "index")
    assert seen == [False] and gc.isenabled()
    gc.disable()  # a caller that turned it off keeps it off
    try:
        (seeds / "b.txt").write_text("Storks nest on chimneys.\n")
        _build(seeds, tmp_path / "index")
        assert not gc.isenabled()
    finally:
        gc.enable()


def _with_notes(n: int) -> dict[str, str]:
    """The small corpus and ``n`` one-chunk notes, so that one change leaves few slots dead."""
    colours = ["red", "white", "blue", "green", "yellow", "black", "grey"]
    return DOCS | {
        f"notes/{i:02d}.txt": f"The lighthouse at cape {i} was painted {colours[i % 7]} in {1900 + 3 * i}.\n"
        for i in range(n)
    }


def test_a_re_index_keeps_the_hnsw_graph_and_searches_it_by_row(tmp_path):
    seeds, index = _write(tmp_path / "seeds", _with_notes(30)), tmp_path / "index"
    _build(seeds, index, vector_index="hnsw_fp16")
    _edit_add_delete(seeds)

    report = _build(seeds, index, vector_index="hnsw_fp16")

    assert report.reused > 0 and report.removed == ["bees.md"]
    loaded = store.load(index)
    graph = loaded.faiss_index
    # The bees' and the edited river chunk's slots are dead; the new chunks took new slots.
    assert store.SLOTS in loaded.manifest["files"] and graph.dead > 0
    # A deleted document's vectors stay nowhere: the dead slots hold zero vectors.
    assert not np.any(graph.index.reconstruct_batch(np.flatnonzero(graph.slot_rows < 0)))
    assert graph.ntotal == len(loaded.chunks) == loaded.vectors.shape[0]
    # Asked for every slot, a search returns each chunk row once and no dead slot.
    # And the scores are those of a build from scratch, row for row (the notes' near-ties
    # make ranks differ by the ~1e-3 a text embedded in another batch differs by).
    _build(seeds, tmp_path / "scratch", rebuild=True)
    ref = store.load(tmp_path / "scratch")
    assert loaded.chunks == ref.chunks
    every = np.arange(len(ref.chunks))
    np.testing.assert_allclose(loaded.vectors[every], ref.vectors[every], atol=3e-3)
    np.testing.assert_allclose(graph.reconstruct_batch(every), ref.vectors[every], atol=3e-3)
    for query in np.asarray(ref.vectors[[0, 5, len(ref.chunks) - 1]], dtype=np.float32):
        got, want = (_scores(ix.faiss_index, query) for ix in (loaded, ref))
        assert sorted(got) == sorted(want) == every.tolist()
        np.testing.assert_allclose([got[r] for r in every], [want[r] for r in every], atol=3e-3)


def _scores(faiss_index, query: np.ndarray) -> dict[int, float]:
    """Each row's score from a search asked for every slot (dead slots included)."""
    scores, rows = faiss_index.search(query[None], int(faiss_index.index.ntotal))
    found = [(r, s) for r, s in zip(rows[0].tolist(), scores[0].tolist(), strict=True) if r >= 0]
    assert len(found) == len({r for r, _ in found})  # each row once
    return dict(found)


def test_a_graph_with_too_many_dead_slots_is_built_anew(tmp_path):
    seeds, index = _write(tmp_path / "seeds", _with_notes(8)), tmp_path / "index"
    _build(seeds, index, vector_index="hnsw_fp16")
    for i in range(4):
        (seeds / "notes" / f"{i:02d}.txt").unlink()
    (seeds / "bees.md").unlink()

    _build(seeds, index, vector_index="hnsw_fp16")

    loaded = store.load(index)
    assert store.SLOTS not in loaded.manifest["files"]  # a new graph: its slots are its rows
    assert loaded.faiss_index.dead == 0 and loaded.faiss_index.index.ntotal == len(loaded.chunks)
    _assert_same_as_scratch(seeds, index, tmp_path / "scratch")


def test_a_copied_document_takes_its_vectors_from_the_kept_graph(tmp_path):
    seeds, index = _write(tmp_path / "seeds", _with_notes(30)), tmp_path / "index"
    _build(seeds, index, vector_index="hnsw_fp16")
    # The copy's chunks come first in the table and take the rivers' slots; the rivers' own
    # chunks get new slots, their vectors read back from the graph.
    shutil.copy(seeds / "rivers.txt", seeds / "a-rivers.txt")

    report = _build(seeds, index, vector_index="hnsw_fp16", embedder=_Forbidden())

    assert report.embedded == 0  # the copy's texts are all known
    loaded = store.load(index)
    assert store.SLOTS in loaded.manifest["files"]  # the graph was kept: its slots are not rows
    assert loaded.faiss_index.dead == 0 and loaded.faiss_index.ntotal == len(loaded.chunks)
    rows = loaded.chunks.doc_rows()
    original, copy = rows["rivers.txt"], rows["a-rivers.txt"]
    assert len(original) == len(copy) > 0
    np.testing.assert_array_equal(loaded.vectors[copy], loaded.vectors[original])
    _, found = loaded.faiss_index.search(np.asarray(loaded.vectors[copy[:1]], dtype=np.float32), 2)
    assert sorted(found[0].tolist()) == sorted([int(original[0]), int(copy[0])])
