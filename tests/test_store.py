"""qa.store: the index folder round-trips, checks itself on load and never unpickles."""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import re
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from qa import chunktable, store
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
    # Read back from the FAISS index's float16 copies (flat_fp16 at this size).
    np.testing.assert_allclose(loaded.vectors, fresh, atol=5e-4)
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
    assert manifest["model"] == {"id": SETTINGS.model, "dim": 384, "precision": embedder.precision}
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
    assert set(second.manifest["files"]) >= {
        *chunktable.FILES, "sentences.npy", "sentence_scale.npy", "faiss.index"
    }  # fmt: skip
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
    (leftover / "chunks").mkdir()
    (leftover / "chunks" / "text.npy").write_bytes(b"\x93NUMPY half-writ")
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
        ("sentence_scale.npy", -1),
        ("sentences.npy", 200),
        ("chunks/text.npy", -2),
        ("chunks/sentences.npy", -1),
        ("chunks/hashes.npy", -1),
        ("chunks/doc_ids.json", 3),
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
    data = (gen / "sentences.npy").read_bytes()
    (gen / "sentences.npy").write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexCorrupt):
        store.load(index_copy)
    (gen / "sentences.npy").unlink()
    with pytest.raises(IndexCorrupt, match="missing"):
        store.load(index_copy)


@pytest.mark.parametrize(
    "name",
    [
        "chunks/doc.npy", "chunks/text_offsets.npy", "chunks/sentence_offsets.npy", "chunks/hashes.npy",
        "chunks/doc_ids.json", "chunks/headings.json", "faiss.index", "sentence_scale.npy",
        "bm25/params.index.json",
    ],
)  # fmt: skip
def test_garbage_with_a_matching_checksum_raises_index_corrupt(index_copy, name):
    gen = _live(index_copy)
    (gen / name).write_bytes(b"not what this file should hold\n")
    _reseal(gen, name)
    with pytest.raises(IndexCorrupt):
        store.load(index_copy)


def test_row_counts_that_disagree_raise_index_corrupt(index_copy):
    gen = _live(index_copy)
    for name in ("sentences.npy", "sentence_scale.npy"):  # a sentence fewer than the table has
        np.save(gen / name, np.load(gen / name)[:-1])
        _reseal(gen, name)
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


@pytest.mark.parametrize("version", [0, 1, 6, 999, None, "2", 3.0, True])
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


@pytest.mark.parametrize("name", ["sentence_scale.npy", "sentences.npy"])
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
    table = Path(chunktable.__file__).read_text(encoding="utf-8")
    assert "allow_pickle=True" not in table and "import pickle" not in table
    assert table.count("allow_pickle=False") >= 2


def test_chunk_hash_depends_on_heading_and_text():
    from qa.types import Chunk, Sentence

    c = Chunk("a.txt", 0, 5, "Hello", "", (Sentence(0, 5),))
    assert store.chunk_hash(c) == store.chunk_hash(replace(c, position=3, gap_before="\n\n", doc_id="b.txt"))
    assert store.chunk_hash(c) != store.chunk_hash(replace(c, heading="Greeting"))
    assert store.chunk_hash(c) != store.chunk_hash(replace(c, text="Hellp"))


# --- the chunk table -------------------------------------------------------------------------------


def _table_chunks() -> list:
    """Unicode text and headings, an empty heading, gaps, 300 sentences, an empty chunk."""
    from qa.types import Chunk, Sentence

    text = "Ünïcode ☃ first. Second — with “quotes”. 日本語の文。"
    many = " ".join(f"S{i}." for i in range(300))
    spans = tuple(Sentence(60 + m.start(), 60 + m.end()) for m in re.finditer(r"S\d+\.", many))
    heading = "Überschrift ✓"
    return [
        Chunk(
            "docs/é.md", 10, 10 + len(text), text, "", (Sentence(10, 26), Sentence(27, 50), Sentence(51, 57))
        ),
        Chunk("docs/é.md", 60, 60 + len(many), many, heading, spans, 1, "\n\n  \n"),
        Chunk("b.txt", 0, 0, "", "", (), 0, ""),
        Chunk("docs/é.md", 5000, 5003, "End", heading, (Sentence(5000, 5003),), 2, "gap 🙂\n"),
    ]


def test_chunk_table_round_trip_is_exact(tmp_path):
    chunks = _table_chunks()
    hashes = [store.chunk_hash(c) for c in chunks]
    chunktable.write(tmp_path, chunks, hashes)
    table = chunktable.ChunkTable(tmp_path / chunktable.FOLDER)

    assert len(table) == 4 and len(chunks[1].sentences) == 300
    assert table == chunks and list(table) == chunks and table != chunks[:3]
    assert [table[i] for i in range(4)] == chunks and table[-1] == chunks[-1] and table[1:3] == chunks[1:3]
    assert table.take([3, 0, 3]) == [chunks[3], chunks[0], chunks[3]] and table.take([]) == []
    with pytest.raises(IndexError):
        table[4]
    assert table.hashes == hashes and table.hashes[2] == hashes[2] and list(table.hashes) == hashes
    assert [table.doc_id(i) for i in range(4)] == [c.doc_id for c in chunks]
    assert [table.embed_text(i) for i in range(4)] == [c.embed_text for c in chunks]
    assert table.rows_of(["docs/é.md"]).tolist() == [0, 1, 3]
    assert table.rows_of({"b.txt", "unknown"}).tolist() == [2] and table.rows_of([]).tolist() == []
    assert table.rows_of(["b.txt"]).dtype == np.int64
    assert {d: r.tolist() for d, r in table.doc_rows().items()} == {"docs/é.md": [0, 1, 3], "b.txt": [2]}
    assert table.sentence_offsets.tolist() == [0, 3, 303, 303, 304]


def test_chunk_table_reads_only_the_text_of_the_rows_it_builds(tmp_path, monkeypatch):
    from qa import rowfile

    chunks = _table_chunks()
    chunktable.write(tmp_path, chunks, [store.chunk_hash(c) for c in chunks])
    table = chunktable.ChunkTable(tmp_path / chunktable.FOLDER)
    reads: list[int] = []
    real = rowfile._PREADV
    monkeypatch.setattr(
        rowfile, "_PREADV", lambda fd, bufs, at: reads.append(len(bufs[0])) or real(fd, bufs, at)
    )
    size = [len(c.text.encode("utf-8")) for c in chunks]
    assert table.take([3]) == [chunks[3]] and reads == [size[3]]
    reads.clear()
    assert table.take([2]) == [chunks[2]] and reads == []  # an empty chunk reads nothing
    assert table.take([0, 1]) == chunks[:2] and reads == [size[0] + size[1]]  # adjacent: one read
    reads.clear()
    assert table.take([3, 0]) == [chunks[3], chunks[0]] and reads == [size[3], size[0]]
    reads.clear()
    assert table.embed_text(1) == chunks[1].embed_text and reads == [size[1]]
    maps = Path("/proc/self/maps")
    if maps.exists():  # read, never mapped (Linux shows every mapping there)
        assert str(tmp_path / "chunks" / "text.npy") not in maps.read_text()


def test_chunk_table_without_any_gap_or_heading_round_trips(tmp_path):
    from qa.types import Chunk, Sentence

    chunks = [Chunk("a.txt", 0, 5, "Hello", "", (Sentence(0, 5),))]
    chunktable.write(tmp_path, chunks, [store.chunk_hash(chunks[0])])
    assert list(chunktable.ChunkTable(tmp_path / chunktable.FOLDER)) == chunks


@pytest.mark.parametrize(
    ("name", "array"),
    [
        ("chunks/doc.npy", lambda a: np.full_like(a, 99)),  # a document id that does not exist
        ("chunks/doc.npy", lambda a: a.astype(np.int64)),  # another dtype
        ("chunks/text_offsets.npy", lambda a: a[::-1].copy()),  # offsets that run backwards
        ("chunks/sentence_offsets.npy", lambda a: a + 1),  # not starting at 0
        ("chunks/sentences.npy", lambda a: a[:-1]),  # a sentence missing
        ("chunks/hashes.npy", lambda a: a.astype("S16")),
        ("chunks/start.npy", lambda a: a[:-1]),
    ],
)
def test_table_columns_that_disagree_raise_index_corrupt(index_copy, name, array):
    gen = _live(index_copy)
    np.save(gen / name, array(np.load(gen / name)))
    _reseal(gen, name)
    with pytest.raises(IndexCorrupt, match="cannot be read"):
        store.load(index_copy)


# --- a load hashes only what changed ---------------------------------------------------------------


@pytest.fixture
def fresh_save(built, tmp_path) -> Path:
    """A generation written in place (not copied: a copy gets new inodes and is hashed)."""
    _, index_dir, _ = built
    _resave(tmp_path / "fresh", store.load(index_dir))
    return tmp_path / "fresh"


def _count_hashes(monkeypatch) -> list[str]:
    hashed: list[str] = []
    real = store.sha256_file

    def counting(path: Path) -> str:
        hashed.append(Path(path).name)
        return real(path)

    monkeypatch.setattr(store, "sha256_file", counting)
    return hashed


def test_an_untouched_index_loads_without_hashing_its_files(fresh_save, monkeypatch):
    manifest = json.loads((_live(fresh_save) / "manifest.json").read_text())
    assert all(
        {"size", "sha256", "ino", "mtime_ns", "ctime_ns"} <= set(m) for m in manifest["files"].values()
    )
    hashed = _count_hashes(monkeypatch)
    assert store.load(fresh_save) is not None
    assert hashed == []


@pytest.mark.parametrize("name", ["chunks/text.npy", "chunks/doc.npy", "sentences.npy", "lexicon.txt"])
def test_a_byte_flipped_in_place_is_hashed_and_caught(fresh_save, monkeypatch, name):
    target = _live(fresh_save) / name
    size, ino = target.stat().st_size, target.stat().st_ino
    _flip_byte(target, -1)  # same size, same inode: only the times tell
    assert target.stat().st_size == size and target.stat().st_ino == ino
    hashed = _count_hashes(monkeypatch)
    with pytest.raises(IndexCorrupt, match="checksum"):
        store.load(fresh_save)
    assert hashed == [Path(name).name]


def test_a_rewritten_file_with_the_same_bytes_is_hashed_and_accepted(fresh_save, monkeypatch):
    target = _live(fresh_save) / "chunks" / "text.npy"
    target.write_bytes(target.read_bytes())
    os.utime(target, ns=(target.stat().st_atime_ns, json.loads(
        (_live(fresh_save) / "manifest.json").read_text())["files"]["chunks/text.npy"]["mtime_ns"]))  # fmt: skip
    hashed = _count_hashes(monkeypatch)
    assert store.load(fresh_save) is not None  # the ctime gave it away, the bytes are right
    assert hashed == ["text.npy"]


def test_identities_not_older_than_the_manifest_are_not_trusted(fresh_save, monkeypatch):
    manifest = _live(fresh_save) / "manifest.json"
    os.utime(manifest, ns=(0, 0))  # as if written in the same clock tick as its files, or before
    hashed = _count_hashes(monkeypatch)
    assert store.load(fresh_save) is not None
    assert len(hashed) == len(json.loads(manifest.read_text())["files"])


# --- an index of the previous format --------------------------------------------------------------


def _as_format_1(index_dir: Path) -> None:
    """Turn the live generation into what version 1 wrote: chunks.jsonl, no stat identities."""
    gen = _live(index_dir)
    loaded = store.load(index_dir)
    with open(gen / "chunks.jsonl", "w", encoding="utf-8") as fh:
        for c, h in zip(loaded.chunks, loaded.chunk_hashes, strict=True):
            row = {"doc": c.doc_id, "start": c.start, "end": c.end, "heading": c.heading, "pos": c.position,
                   "sents": [[s.start, s.end] for s in c.sentences], "gap": c.gap_before, "hash": h, "text": c.text}  # fmt: skip
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    del loaded
    shutil.rmtree(gen / "chunks")
    manifest = json.loads((gen / "manifest.json").read_text())
    manifest["format_version"] = 1
    manifest["files"] = {
        p.relative_to(gen).as_posix(): {"size": p.stat().st_size, "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}
        for p in sorted(gen.rglob("*")) if p.is_file() and p.name != "manifest.json"
    }  # fmt: skip
    (gen / "manifest.json").write_text(json.dumps(manifest))


def _rewrite(gen: Path, version: int, arrays: dict[str, np.ndarray], gone: list[str]) -> None:
    """Replace files of a generation and record them (with checksums) in its manifest."""
    manifest = json.loads((gen / "manifest.json").read_text())
    manifest["format_version"] = version
    for name in gone:
        (gen / name).unlink()
        del manifest["files"][name]
    for name, array in arrays.items():
        np.save(gen / name, array)
        data = (gen / name).read_bytes()
        manifest["files"][name] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    (gen / "manifest.json").write_text(json.dumps(manifest))


def _as_format_3(index_dir: Path) -> None:
    """Turn the live generation into what version 3 wrote: float32 chunk vectors in vectors.npy
    and float16 sentence vectors."""
    loaded = store.load(index_dir)
    arrays = {
        "vectors.npy": np.asarray(loaded.vectors, dtype=np.float32),
        "sentences.npy": np.asarray(loaded.sentence_vectors).astype(np.float16),
    }
    del loaded
    _rewrite(_live(index_dir), 3, arrays, ["sentence_scale.npy"])


def _as_format_2(index_dir: Path) -> None:
    """Turn the live generation into what version 2 wrote: format 3 with float16 word vectors."""
    _as_format_3(index_dir)
    loaded = store.load(index_dir)
    words = loaded.lexicon.rows(np.arange(len(loaded.lexicon.vocab)))
    del loaded
    _rewrite(_live(index_dir), 2, {"lexicon.npy": words.astype(np.float16)}, ["lexicon_scale.npy"])


def test_save_stamps_the_format_it_writes_over_a_copied_manifest(built, tmp_path):
    loaded = store.load(built[1])
    loaded.manifest["format_version"] = 3  # a manifest copied from an older index
    _resave(tmp_path / "again", loaded)
    assert store.load(tmp_path / "again").manifest["format_version"] == store.FORMAT_VERSION


def test_chunk_vectors_are_kept_once_by_a_faiss_index_that_holds_them(built, tmp_path):
    from qa.vectors import IndexRows

    seeds, index_dir, _ = built
    default = store.load(index_dir)
    assert default.manifest["faiss"]["kind"] == "flat_fp16"
    assert isinstance(default.vectors, IndexRows) and not (default.path / "vectors.npy").exists()
    # A kind that keeps only 8-bit codes cannot give the vectors back: they get their file.
    build_index(seeds, tmp_path / "sq8", settings=SETTINGS, progress=False, vector_index="hnsw_sq8")
    sq8 = store.load(tmp_path / "sq8")
    assert "vectors.npy" in sq8.manifest["files"] and sq8.vectors.dtype == np.float32
    np.testing.assert_allclose(np.asarray(sq8.vectors), np.asarray(default.vectors), atol=5e-4)
    manifest_path = sq8.path / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    del manifest["files"]["vectors.npy"]
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IndexCorrupt, match="does not list its files"):
        store.load(tmp_path / "sq8")


def test_sentence_vectors_are_stored_as_int8_codes_and_scales(built):
    from qa.quantize import Int8Rows

    loaded = store.load(built[1])
    sents = loaded.sentence_vectors
    assert isinstance(sents, Int8Rows) and sents.codes.dtype == np.int8
    assert np.load(loaded.path / "sentences.npy", mmap_mode="r").dtype == np.int8
    assert sents.scales.shape == (len(sents),) and sents.scales.dtype == np.float32
    rows = np.asarray(sents)
    assert rows.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(rows, axis=1), 1.0, atol=5e-3)


def test_a_format_3_index_is_still_read_and_a_build_over_it_keeps_its_vectors(built, index_copy, tmp_path):
    from qa import ask

    seeds, index_dir, report = built
    question = "How long do worker bees live?"
    before = ask(question, seeds_dir=seeds, index_dir=index_dir, settings=SETTINGS)
    _as_format_3(index_copy)
    old = store.load(index_copy)
    assert old.manifest["format_version"] == 3 and old.sentence_vectors.dtype == np.float16
    old_sents, old_vectors = np.asarray(old.sentence_vectors, np.float32), np.asarray(old.vectors)
    del old
    after = ask(question, seeds_dir=seeds, index_dir=index_copy, settings=SETTINGS)
    assert [(p.source, p.start, p.end) for p in after.passages] == [
        (p.source, p.start, p.end) for p in before.passages
    ]
    corpus = tmp_path / "seeds"
    shutil.copytree(seeds, corpus)
    last = sorted(p for p in corpus.rglob("*") if p.is_file())[-1]
    last.write_text(last.read_text(encoding="utf-8") + "\nZebras graze nearby.\n", encoding="utf-8")
    again = build_index(corpus, index_copy, settings=SETTINGS, progress=False)
    assert again.changed and 0 < again.embedded < report.chunks
    new = store.load(index_copy)
    assert new.manifest["format_version"] == store.FORMAT_VERSION == 5
    assert "vectors.npy" not in new.manifest["files"]
    # The unchanged chunks (the first document's) kept their vectors: no re-embedding.
    n = report.chunks - again.embedded
    np.testing.assert_allclose(np.asarray(new.vectors)[:n], old_vectors[:n], atol=5e-4)
    s = int(new.sentence_offsets[n])
    np.testing.assert_allclose(np.asarray(new.sentence_vectors)[:s], old_sents[:s], atol=2e-3)


def test_word_vectors_are_stored_as_int8_codes_and_scales_close_to_the_embedded_ones(built):
    from qa.embedding import get_embedder

    loaded = store.load(built[1])
    lex = loaded.lexicon
    assert lex.vectors.dtype == np.int8 and lex.scales.shape == (len(lex.vocab),)
    some = np.arange(0, len(lex.vocab), max(1, len(lex.vocab) // 20))
    embedded = get_embedder().encode([lex.vocab[i] for i in some])
    cosines = np.sum(lex.rows(some) * embedded, axis=1) / np.linalg.norm(lex.rows(some), axis=1)
    assert cosines.min() > 0.99  # bfloat16 builds and int8 codes together


def test_a_format_2_index_is_still_read_and_answers_alike(built, index_copy):
    from qa import ask

    seeds, index_dir, _ = built
    before = ask("How long do worker bees live?", seeds_dir=seeds, index_dir=index_dir, settings=SETTINGS)
    _as_format_2(index_copy)
    old = store.load(index_copy)
    assert old.manifest["format_version"] == 2 and old.lexicon.scales is None
    assert old.lexicon.vectors.dtype == np.float16
    after = ask("How long do worker bees live?", seeds_dir=seeds, index_dir=index_copy, settings=SETTINGS)
    assert [(p.source, p.start, p.end) for p in after.passages] == [
        (p.source, p.start, p.end) for p in before.passages
    ]


def test_a_build_over_a_format_2_index_keeps_its_words_and_writes_format_3(built, index_copy, tmp_path):
    seeds, _, report = built
    corpus = tmp_path / "seeds"
    shutil.copytree(seeds, corpus)
    _as_format_2(index_copy)
    old = store.load(index_copy)
    old_words = {w: old.lexicon.rows(np.array([i]))[0] for i, w in enumerate(old.lexicon.vocab)}
    del old
    first = sorted(p for p in corpus.rglob("*") if p.is_file())[0]
    first.write_text(first.read_text(encoding="utf-8") + "\nZebras graze nearby.\n", encoding="utf-8")
    again = build_index(corpus, index_copy, settings=SETTINGS, progress=False)
    assert again.changed and again.embedded < report.chunks
    new = store.load(index_copy)
    assert new.manifest["format_version"] == store.FORMAT_VERSION and new.lexicon.scales is not None
    assert "zebras" in new.lexicon.ids
    kept = [w for w in new.lexicon.vocab if w in old_words]
    rows = new.lexicon.rows(np.array([new.lexicon.ids[w] for w in kept]))
    np.testing.assert_allclose(rows, np.array([old_words[w] for w in kept]), atol=0.01)


def test_a_format_3_index_without_word_scales_is_corrupt(index_copy):
    gen = _live(index_copy)
    manifest = json.loads((gen / "manifest.json").read_text())
    del manifest["files"]["lexicon_scale.npy"]
    (gen / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexCorrupt, match="does not list its files"):
        store.load(index_copy)


def test_a_format_1_index_asks_for_a_rebuild(index_copy):
    _as_format_1(index_copy)
    with pytest.raises(IndexMismatch, match="qa build --rebuild"):
        store.load(index_copy)


def test_build_index_rebuilds_a_format_1_index(built, index_copy, caplog):
    seeds, _, report = built
    _as_format_1(index_copy)
    with caplog.at_level("WARNING", logger="qa"):
        again = build_index(seeds, index_copy, settings=SETTINGS, progress=False)
    assert again.changed and again.chunks == report.chunks and again.embedded == report.chunks
    assert any("rebuilding" in r.getMessage() for r in caplog.records)
    loaded = store.load(index_copy)
    assert loaded.manifest["format_version"] == store.FORMAT_VERSION
    assert not (loaded.path / "chunks.jsonl").exists()


def test_ask_just_works_on_a_format_1_index(built, index_copy):
    from qa import ask

    seeds, _, report = built
    _as_format_1(index_copy)
    answer = ask("How long do worker bees live?", seeds_dir=seeds, index_dir=index_copy, settings=SETTINGS)
    assert answer.passages and answer.passages[0].source == "notes/bees.md"
    assert store.load(index_copy).manifest["format_version"] == store.FORMAT_VERSION


@pytest.mark.parametrize(
    ("hashes", "message"),
    [(["a" * 32], "2 chunks but 1 hashes"), (["a" * 32, "b" * 31], "32 characters")],
)
def test_the_chunk_table_refuses_hashes_that_do_not_fit(tmp_path, hashes, message):
    from qa.types import Chunk, Sentence

    chunks = [
        Chunk("a.txt", 0, 5, "Hello", "", (Sentence(0, 5),)),
        Chunk("a.txt", 6, 11, "World", "", (Sentence(6, 11),)),
    ]
    with pytest.raises(ValueError, match=message):
        chunktable.write(tmp_path, chunks, hashes)
