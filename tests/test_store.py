"""qa.store: the index folder round-trips, checks itself on load and never unpickles."""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from qa import store
from qa.chunking import chunk_document
from qa.documents import load_documents
from qa.embedding import get_embedder
from qa.errors import IndexCorrupt, IndexMismatch, IndexWriteError, QAError
from qa.indexer import build_index
from qa.retrieval import tokenize
from qa.settings import Settings

DOCS = {
    "tides.txt": (
        "Tidal Power\n\nTidal power converts the energy of tides into electricity. "
        "The largest plant sits on the Rance estuary in France.\n\n"
        "Turbines spin in both directions. They produce power on the flood and the ebb.\n"
    ),
    "notes/bees.md": (
        "# Bees\n\nA honey bee colony holds one queen. Workers live about six weeks in summer.\n\n"
        "- Drones do not sting.\n- Queens can live for years.\n"
    ),
}
SETTINGS = Settings(chunk_tokens=24)


def _write_corpus(folder: Path, docs: dict[str, str]) -> Path:
    for name, text in docs.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A corpus and its index, built once; tests that damage it work on a copy."""
    root = tmp_path_factory.mktemp("store")
    seeds = _write_corpus(root / "seeds", DOCS)
    report = build_index(seeds, root / "index", settings=SETTINGS, progress=False)
    return seeds, root / "index", report


@pytest.fixture
def index_copy(built, tmp_path) -> Path:
    _, index_dir, _ = built
    copy = tmp_path / "index"
    shutil.copytree(index_dir, copy)
    return copy


def _live(index_dir: Path) -> Path:
    return index_dir / (index_dir / "CURRENT").read_text().strip()


def _flip_byte(path: Path, at: int) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


def _reseal(gen: Path, name: str) -> None:
    """Update the manifest checksum of ``name`` so only the loader's own checks remain."""
    manifest = json.loads((gen / "manifest.json").read_text())
    data = (gen / name).read_bytes()
    manifest["files"][name] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    (gen / "manifest.json").write_text(json.dumps(manifest))


# --- round trip ----------------------------------------------------------------------------------


def test_build_then_load_round_trip(built):
    seeds, index_dir, report = built
    loaded = store.load(index_dir)
    assert loaded is not None
    assert loaded.generation == report.generation

    docs, _ = load_documents(seeds)
    expected = [c for d in docs for c in chunk_document(d, chunk_tokens=24)]
    assert loaded.chunks == expected
    assert report.chunks == len(expected) and report.documents == 2
    assert loaded.chunk_hashes == [store.chunk_hash(c) for c in expected]

    assert loaded.vectors.dtype == np.float32
    assert loaded.vectors.shape == (len(expected), 384)
    embedder = get_embedder(SETTINGS.model, SETTINGS.batch_size)
    fresh = embedder.encode([c.embed_text for c in expected])
    np.testing.assert_allclose(loaded.vectors, fresh, atol=1e-5)
    assert loaded.faiss_index.ntotal == len(expected)

    n_sents = sum(len(c.sentences) for c in expected)
    assert loaded.sentence_vectors.shape == (n_sents, 384)
    assert list(loaded.sentence_offsets) == list(np.cumsum([0] + [len(c.sentences) for c in expected]))
    first = expected[0]
    first_sentence = first.text[: first.sentences[0].end - first.start]
    np.testing.assert_allclose(
        loaded.sentence_vectors[0].astype(np.float32), embedder.encode([first_sentence])[0], atol=2e-3
    )

    manifest = loaded.manifest
    assert manifest["format_version"] == store.FORMAT_VERSION
    assert manifest["model"] == {"id": SETTINGS.model, "dim": 384}
    assert Settings.from_dict(manifest["settings"]) == SETTINGS
    assert manifest["settings_key"] == SETTINGS.index_key()
    assert {k: v["sha256"] for k, v in manifest["documents"].items()} == {d.doc_id: d.sha256 for d in docs}
    assert manifest["counts"] == {"documents": 2, "chunks": len(expected), "sentences": n_sents}


def _resave(index_dir: Path, loaded: store.StoredIndex) -> Path:
    """store.save with the contents of a loaded index.

    Each keyword of save is taken from the StoredIndex field of the same name, so parts added
    to the index later are carried along too.
    """
    fields = {"hashes": "chunk_hashes"}
    params = inspect.signature(store.save).parameters.values()
    kwargs = {p.name: getattr(loaded, fields.get(p.name, p.name)) for p in params if p.kind is p.KEYWORD_ONLY}
    return store.save(index_dir, **kwargs)


def test_save_load_round_trip_is_exact(built, tmp_path):
    _, index_dir, _ = built
    first = store.load(index_dir)

    gen = _resave(tmp_path / "again", first)
    second = store.load(tmp_path / "again")

    assert second.path == gen and second.generation != first.generation
    assert second.chunks == first.chunks
    assert second.chunk_hashes == first.chunk_hashes
    assert np.array_equal(second.vectors, first.vectors)
    assert second.vectors.dtype == np.float32
    assert np.array_equal(second.sentence_vectors, first.sentence_vectors)
    assert np.array_equal(second.sentence_offsets, first.sentence_offsets)
    without_files = lambda m: {k: v for k, v in m.items() if k != "files"}  # noqa: E731
    assert without_files(second.manifest) == without_files(first.manifest)
    assert set(second.manifest["files"]) >= {"chunks.jsonl", "vectors.npy", "sentences.npy", "faiss.index"}
    last = len(first.chunks) - 1
    query = np.ascontiguousarray(first.vectors[last:], dtype=np.float32)
    scores, rows = second.faiss_index.search(query, 1)
    assert rows[0][0] == last and scores[0][0] == pytest.approx(1.0, abs=1e-5)
    terms = tokenize(["queen bee colony"])[0]
    assert second.bm25.get_scores(terms).max() > 0
    assert np.allclose(second.bm25.get_scores(terms), first.bm25.get_scores(terms))
    assert first.bm25_tokens is not None and second.bm25_tokens.vocab == first.bm25_tokens.vocab
    assert np.array_equal(second.bm25_tokens.ids, first.bm25_tokens.ids)


def test_load_without_an_index_returns_none(tmp_path):
    assert store.load(tmp_path / "never-built") is None
    (tmp_path / "empty").mkdir()
    assert store.load(tmp_path / "empty") is None


# --- generations ---------------------------------------------------------------------------------


def test_current_points_at_the_live_generation(built):
    _, index_dir, report = built
    pointer = (index_dir / "CURRENT").read_text()
    assert pointer == report.generation + "\n"
    assert store.current_generation(index_dir) == index_dir / report.generation
    assert (index_dir / report.generation / "manifest.json").is_file()


def test_a_new_build_moves_current_and_keeps_one_previous_generation(tmp_path):
    seeds = _write_corpus(tmp_path / "seeds", DOCS)
    index_dir = tmp_path / "index"
    generations = []
    for i in range(3):
        (seeds / "tides.txt").write_text(
            DOCS["tides.txt"] + f"\nEdition {i} of the notes.\n", encoding="utf-8"
        )
        report = build_index(seeds, index_dir, settings=SETTINGS, progress=False)
        generations.append(report.generation)
        assert (index_dir / "CURRENT").read_text().strip() == report.generation
        assert store.load(index_dir).generation == report.generation
    assert len(set(generations)) == 3
    on_disk = sorted(p.name for p in index_dir.glob("gen-*"))
    # The live one, and the one it replaced (for readers that were opening it).
    assert on_disk == sorted(generations[-2:])


def test_interrupted_build_does_not_disturb_loading_and_is_cleaned_by_next_save(built, index_copy, tmp_path):
    seeds, _, report = built
    index_dir = index_copy
    # What a build killed half-way leaves: a temporary generation with some of its files.
    leftover = index_dir / ".tmp-gen-00000000000000000001-99999"
    leftover.mkdir()
    (leftover / "chunks.jsonl").write_text('{"doc": "half-writ')
    np.save(leftover / "vectors.npy", np.zeros((1, 384), dtype=np.float32))

    loaded = store.load(index_dir)
    assert loaded.generation == report.generation
    assert leftover.exists()

    seeds_copy = tmp_path / "seeds"
    shutil.copytree(seeds, seeds_copy)
    (seeds_copy / "new.txt").write_text("A brand new note about rivers.\n", encoding="utf-8")
    new = build_index(seeds_copy, index_dir, settings=SETTINGS, progress=False)

    assert new.changed and new.generation != report.generation
    assert not leftover.exists()
    assert not list(index_dir.glob(".tmp-*"))
    assert store.load(index_dir).generation == new.generation


def test_failed_write_leaves_the_previous_index_live(index_copy, monkeypatch):
    import faiss

    before = store.load(index_copy)

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(faiss, "write_index", disk_full)
    with pytest.raises(IndexWriteError) as info:
        _resave(index_copy, before)
    assert isinstance(info.value, OSError)
    assert "No space left" in str(info.value)
    assert not list(index_copy.glob(".tmp-*"))
    assert (index_copy / "CURRENT").read_text().strip() == before.generation
    assert store.load(index_copy).chunks == before.chunks


# --- damage is detected ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "where"),
    [
        ("vectors.npy", -1),
        ("vectors.npy", 200),
        ("chunks.jsonl", 10),
        ("sentences.npy", -3),
        ("faiss.index", -5),
    ],
)
def test_a_flipped_byte_raises_index_corrupt(index_copy, name, where):
    target = _live(index_copy) / name
    _flip_byte(target, where)
    with pytest.raises(IndexCorrupt) as info:
        store.load(index_copy)
    assert name in str(info.value)
    assert isinstance(info.value, QAError)


def test_a_truncated_or_missing_file_raises_index_corrupt(index_copy):
    gen = _live(index_copy)
    data = (gen / "vectors.npy").read_bytes()
    (gen / "vectors.npy").write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexCorrupt):
        store.load(index_copy)
    (gen / "vectors.npy").unlink()
    with pytest.raises(IndexCorrupt, match="missing"):
        store.load(index_copy)


@pytest.mark.parametrize("name", ["chunks.jsonl", "faiss.index", "vectors.npy", "bm25/params.index.json"])
def test_garbage_with_a_matching_checksum_raises_index_corrupt(index_copy, name):
    gen = _live(index_copy)
    (gen / name).write_bytes(b"not what this file should hold\n")
    _reseal(gen, name)
    with pytest.raises(IndexCorrupt):
        store.load(index_copy)


def test_row_counts_that_disagree_raise_index_corrupt(index_copy):
    gen = _live(index_copy)
    vectors = np.load(gen / "vectors.npy")
    np.save(gen / "vectors.npy", vectors[:-1])
    _reseal(gen, "vectors.npy")
    with pytest.raises(IndexCorrupt, match="row counts"):
        store.load(index_copy)


@pytest.mark.parametrize("content", ["gen-../../etc\n", "garbage\n", ""])
def test_a_damaged_current_pointer_raises_index_corrupt(index_copy, content):
    (index_copy / "CURRENT").write_text(content)
    with pytest.raises(IndexCorrupt, match="qa build --rebuild"):
        store.load(index_copy)


@pytest.mark.parametrize("content", ["{not json", "[]", '"a string"'])
def test_an_unreadable_manifest_raises_a_qa_error(index_copy, content):
    (_live(index_copy) / "manifest.json").write_text(content)
    with pytest.raises((IndexCorrupt, IndexMismatch)):
        store.load(index_copy)


@pytest.mark.parametrize("version", [0, 2, 999, None, "1"])
def test_a_wrong_format_version_raises_index_mismatch(index_copy, version):
    path = _live(index_copy) / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["format_version"] = version
    path.write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatch) as info:
        store.load(index_copy)
    assert isinstance(info.value, ValueError)
    assert "qa build --rebuild" in str(info.value)


# --- no pickle ----------------------------------------------------------------------------------------


class _Payload:
    """Unpickling this creates a folder: proof that a pickle was executed."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


@pytest.mark.parametrize("name", ["vectors.npy", "sentences.npy"])
def test_a_pickled_array_is_rejected_not_unpickled(index_copy, tmp_path, name):
    marker = tmp_path / "pickle-was-executed"
    gen = _live(index_copy)
    evil = np.array([_Payload(str(marker)), 1.0], dtype=object)
    np.save(gen / name, evil, allow_pickle=True)
    _reseal(gen, name)  # the checksum alone must not be what saves us

    with pytest.raises(IndexCorrupt):
        store.load(index_copy)
    assert not marker.exists()

    # The payload is live: a loader that allowed pickle would have run it.
    np.load(gen / name, allow_pickle=True)
    assert marker.is_dir()


def test_store_modules_never_enable_pickle():
    source = Path(store.__file__).read_text(encoding="utf-8")
    assert "allow_pickle=True" not in source
    assert "import pickle" not in source
    assert source.count("allow_pickle=False") >= 3


def test_chunk_hash_depends_on_heading_and_text():
    from qa.types import Chunk, Sentence

    c = Chunk("a.txt", 0, 5, "Hello", "", (Sentence(0, 5),))
    assert store.chunk_hash(c) == store.chunk_hash(replace(c, position=3, gap_before="\n\n", doc_id="b.txt"))
    assert store.chunk_hash(c) != store.chunk_hash(replace(c, heading="Greeting"))
    assert store.chunk_hash(c) != store.chunk_hash(replace(c, text="Hellp"))
