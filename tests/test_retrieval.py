"""qa.retrieval: BM25 from stored token ids scores exactly as a BM25 built from the texts."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from qa.retrieval import TOKEN_FILES, TokenIds, bm25_from_ids, build_bm25, token_ids, tokenize

TEXTS = [
    "Rivers\nThe Danube flows through ten countries before it reaches the Black Sea.",
    "Rivers\nThe Nile was long thought to be the longest river on Earth.",
    "The Amazon carries more water than the next seven rivers combined.",
    "Bees\nA honey bee colony holds a single queen and thousands of workers.",
    "Workers live about six weeks in summer and longer in winter; workers work.",
    "the of and",  # only stop words: a chunk without tokens
    "Tidal power converts the energy of tides into electricity, 5G and Q3 too.",
    "The Amazon carries more water than the next seven rivers combined.",  # a duplicate
]
QUERIES = [
    "longest river",
    "workers in winter",
    "queen bee colony",
    "tides electricity 5G",
    "Amazon rivers water",
    "nothing matches zebra",
    "river river rivers",
]


def _hashes(texts: list[str]) -> list[str]:
    return [hashlib.sha256(t.encode()).hexdigest() for t in texts]


def _words(tokens: TokenIds) -> list[list[str]]:
    bounds = tokens.offsets.tolist()
    return [[tokens.vocab[i] for i in tokens.ids[a:b]] for a, b in zip(bounds, bounds[1:], strict=False)]


def _assert_same_scores(texts: list[str], bm25) -> None:
    """Every query scores every text exactly (bit for bit) as a from-scratch build_bm25."""
    ref = build_bm25(texts)
    for query in QUERIES:
        tokens = tokenize([query])[0]
        np.testing.assert_array_equal(bm25.get_scores(tokens), ref.get_scores(tokens), err_msg=query)
    assert set(bm25.vocab_dict) == set(ref.vocab_dict)


def test_bm25_from_ids_scores_exactly_as_build_bm25() -> None:
    tokens = token_ids(TEXTS, _hashes(TEXTS))
    assert len(tokens) == len(TEXTS)
    assert _words(tokens) == tokenize(TEXTS)
    _assert_same_scores(TEXTS, bm25_from_ids(tokens))


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t + ["Owls hunt at night over rivers and winter fields."],  # add
        lambda t: t[:1] + t[2:],  # delete
        lambda t: [x.replace("ten countries", "ten European countries") for x in t],  # edit
        lambda t: t[::-1],  # reorder
        lambda t: ["Entirely new text about glaciers."],  # replace everything
    ],
    ids=["add", "delete", "edit", "reorder", "replace-all"],
)
def test_an_update_from_stored_ids_equals_a_build_from_scratch(change) -> None:
    old = token_ids(TEXTS, _hashes(TEXTS))
    texts = change(TEXTS)
    tokens = token_ids(texts, _hashes(texts), old, _hashes(TEXTS))
    again = token_ids(texts, _hashes(texts), old, _hashes(TEXTS))
    assert again.vocab == tokens.vocab and np.array_equal(again.ids, tokens.ids)  # deterministic
    fresh = token_ids(texts, _hashes(texts))
    # Same tokens per chunk, and the vocabulary keeps only tokens in use.
    assert _words(tokens) == tokenize(texts)
    assert sorted(tokens.vocab) == sorted(fresh.vocab)
    _assert_same_scores(texts, bm25_from_ids(tokens))


def test_only_new_texts_are_tokenized(monkeypatch) -> None:
    import qa.retrieval as retrieval

    old = token_ids(TEXTS, _hashes(TEXTS))
    seen: list[str] = []
    real = retrieval.tokenize
    monkeypatch.setattr(retrieval, "tokenize", lambda texts: seen.extend(texts) or real(texts))
    texts = [*TEXTS, "Owls hunt at night.", "Owls hunt at night."]
    token_ids(texts, _hashes(texts), old, _hashes(TEXTS))
    assert seen == ["Owls hunt at night."]


def test_token_ids_round_trip_and_damage_is_refused(tmp_path) -> None:
    tokens = token_ids(TEXTS, _hashes(TEXTS))
    tokens.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(TOKEN_FILES)
    loaded = TokenIds.load(tmp_path, len(TEXTS))
    assert loaded is not None
    assert loaded.vocab == tokens.vocab
    np.testing.assert_array_equal(loaded.ids, tokens.ids)
    np.testing.assert_array_equal(loaded.offsets, tokens.offsets)
    assert TokenIds.load(tmp_path, len(TEXTS) + 1) is None  # another chunk table
    (tmp_path / "bm25_vocab.txt").write_text("just\none\n", encoding="utf-8")
    assert TokenIds.load(tmp_path, len(TEXTS)) is None  # ids beyond the vocabulary
    (tmp_path / TOKEN_FILES[0]).unlink()
    assert TokenIds.load(tmp_path, len(TEXTS)) is None


@pytest.mark.parametrize(
    "built, recorded, atol",
    [
        ("flat", "Flat", 1e-6),
        ("flat", {"kind": "flat", "params": {}, "requested": "auto"}, 1e-6),
        ("auto", None, 1e-3),  # float16 copies (flat_fp16)
    ],
)
def test_chunk_vectors_are_read_back_whatever_the_manifest_records(tmp_path, built, recorded, atol) -> None:
    """Keyword-only hits need their chunk vectors; old manifests record the index as "Flat"."""
    from qa import store
    from qa.indexer import build_index
    from qa.retrieval import Retriever
    from qa.settings import Settings

    docs = tmp_path / "docs"
    docs.mkdir()
    for i, text in enumerate(TEXTS[:5]):
        (docs / f"d{i}.txt").write_text(text.replace("\n", "\n\n"), encoding="utf-8")
    build_index(docs, tmp_path / "index", progress=False, vector_index=built)
    index = store.load(tmp_path / "index")
    if recorded is not None:
        index.manifest["faiss"] = recorded
    else:
        assert index.manifest["faiss"]["kind"] == "flat_fp16"
    rows = [0, 2, 3]
    got = Retriever(index, Settings())._vectors(rows)
    np.testing.assert_allclose(got, np.asarray(index.vectors)[rows], atol=atol)


def test_bm25s_is_imported_without_numba_which_stays_importable():
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from qa.store import import_bm25s\n"
        "from qa.retrieval import tokenize\n"
        "bm25s = import_bm25s()\n"
        "assert tokenize(['Banks use Qwen.']) == [['bank', 'use', 'qwen']]\n"
        "assert 'numba' not in sys.modules and not bm25s.NUMBA_AVAILABLE\n"
        "try:\n"
        "    import numba\n"
        "except ImportError as exc:\n"
        "    assert 'None in sys.modules' not in str(exc), exc  # absent, not blocked\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
