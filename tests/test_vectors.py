"""qa/vectors.py: the FAISS index type follows the corpus size and is recorded and overridable."""

from __future__ import annotations

import numpy as np
import pytest

from qa import vectors
from qa.errors import InvalidSetting, QAError
from qa.vectors import AUTO_FLAT_MAX, HNSW_DEFAULTS, IndexSpec, choose, make_index, parse, recall_at_k


def _unit(n: int, dim: int = 16, seed: int = 0) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_auto_is_exact_up_to_the_threshold_then_hnsw_over_float16_vectors(monkeypatch):
    monkeypatch.delenv(vectors.ENV, raising=False)
    assert choose(10).kind == "flat_fp16"
    assert choose(AUTO_FLAT_MAX).kind == "flat_fp16"
    big = choose(AUTO_FLAT_MAX + 1)
    assert big.kind == "hnsw_fp16" and big.params == HNSW_DEFAULTS and big.requested == "auto"


def test_override_by_argument_beats_environment(monkeypatch):
    monkeypatch.setenv(vectors.ENV, "hnsw:efSearch=64")
    assert choose(5) == IndexSpec("hnsw", {**HNSW_DEFAULTS, "efSearch": 64}, "hnsw:efSearch=64")
    assert choose(10**7, "flat").kind == "flat"


@pytest.mark.parametrize("text", ["ivf", "hnsw:M=0", "hnsw:efSearch=lots", "hnsw:nprobe=4"])
def test_bad_overrides_say_what_is_accepted(text):
    with pytest.raises(InvalidSetting) as info:
        parse(text)
    assert isinstance(info.value, QAError) and isinstance(info.value, ValueError)
    assert vectors.ENV in str(info.value)


def test_spec_round_trips_through_the_manifest_and_old_manifests_read_as_flat():
    spec = choose(AUTO_FLAT_MAX + 1, "hnsw:M=16")
    assert IndexSpec.from_manifest(spec.to_dict()) == spec
    assert IndexSpec.from_manifest("Flat").kind == "flat"
    assert IndexSpec.from_manifest(None).kind == "flat"


@pytest.mark.parametrize("kind", ["flat", "flat_fp16", "hnsw", "hnsw_fp16", "hnsw_sq8"])
def test_index_finds_each_vector_first_and_matches_exact_search(kind):
    data = _unit(500)
    index = make_index(data, choose(len(data), kind))
    assert index.ntotal == 500
    _, rows = index.search(data[:50], 10)
    assert list(rows[:, 0]) == list(range(50))
    exact = make_index(data, IndexSpec("flat"))
    queries = _unit(40, seed=1)
    assert recall_at_k(exact.search(queries, 10)[1], index.search(queries, 10)[1]) >= 0.95


def test_flat_fp16_scores_and_read_back_vectors_stay_within_float16_rounding():
    data = _unit(300, dim=384)
    queries = _unit(20, dim=384, seed=2)
    exact_scores, exact_rows = make_index(data, IndexSpec("flat")).search(queries, 10)
    half = make_index(data, IndexSpec("flat_fp16"))
    scores, rows = half.search(queries, 10)
    assert np.array_equal(rows, exact_rows)
    assert np.abs(scores - exact_scores).max() < 1e-3
    assert "flat_fp16" in vectors.KEEPS_VECTORS
    assert np.abs(half.reconstruct_batch(np.arange(5)) - data[:5]).max() < 1e-3


def test_hnsw_search_parameters_survive_a_write_and_read(tmp_path):
    import faiss

    spec = choose(100, "hnsw:efSearch=77")
    faiss.write_index(make_index(_unit(100), spec), str(tmp_path / "f.index"))
    loaded = faiss.read_index(str(tmp_path / "f.index"))
    vectors.tune(loaded, spec)
    assert loaded.hnsw.efSearch == 77


def test_empty_corpus_gives_an_empty_index():
    assert make_index(np.zeros((0, 8), np.float32), IndexSpec("flat")).ntotal == 0


def test_build_records_the_choice_and_the_loaded_index_follows_it(tmp_path, monkeypatch):
    from qa import store
    from qa.engine import Engine
    from qa.indexer import build_index
    from qa.settings import Settings

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "bees.txt").write_text(
        "A honey bee colony holds a single queen and thousands of workers.\n\n"
        "Workers live about six weeks in summer and longer in winter.\n",
        encoding="utf-8",
    )
    settings = Settings(chunk_tokens=20)
    monkeypatch.setenv(vectors.ENV, "hnsw:efSearch=90")
    build_index(seeds, tmp_path / "index", settings=settings, progress=False)
    loaded = store.load(tmp_path / "index")
    assert loaded.manifest["faiss"] == {
        "kind": "hnsw",
        "params": {**HNSW_DEFAULTS, "efSearch": 90},
        "requested": "hnsw:efSearch=90",
    }
    assert loaded.faiss_index.hnsw.efSearch == 90
    answer = Engine(seeds, tmp_path / "index", settings).ask("How long do workers live?", k=1)
    assert "six weeks" in answer.passages[0].text

    build_index(
        seeds, tmp_path / "index", settings=settings, progress=False, vector_index="flat", rebuild=True
    )

    assert store.load(tmp_path / "index").manifest["faiss"]["kind"] == "flat"


@pytest.mark.parametrize("kind", ["flat", "flat_fp16", "hnsw", "hnsw_fp16", "hnsw_sq8"])
def test_index_rows_read_back_what_the_index_keeps_as_float32(kind):
    data = _unit(200, dim=384)
    index = make_index(data, IndexSpec(kind))
    kept = vectors.IndexRows(index)
    assert kept.shape == (200, 384) and len(kept) == 200 and kept.dtype == np.float32
    rows = np.array([7, 0, 199, 7])
    got = kept[rows]
    assert got.dtype == np.float32 and got.shape == (4, 384)
    assert np.array_equal(got, index.reconstruct_batch(rows))  # the same values, however read
    tolerance = {"flat": 0, "hnsw": 0, "flat_fp16": 1e-3, "hnsw_fp16": 1e-3, "hnsw_sq8": 2e-2}[kind]
    assert np.abs(np.asarray(kept) - data).max() <= tolerance
    assert np.array_equal(kept[3], kept[np.array([3])][0]) and kept[2:5].shape == (3, 384)
    with pytest.raises(IndexError):
        kept[np.array([200])]


def _graph(n: int, kind: str = "hnsw_fp16") -> tuple[vectors.RowIndex, IndexSpec, np.ndarray]:
    data = _unit(n, seed=3)
    spec = IndexSpec(kind, dict(HNSW_DEFAULTS))
    return vectors.RowIndex(make_index(data, spec)), spec, data


@pytest.mark.parametrize("kind", ["hnsw", "hnsw_fp16"])
def test_an_updated_graph_keeps_slots_adds_new_vectors_and_never_returns_a_dead_one(kind):
    previous, spec, data = _graph(200, kind)
    # Rows 0-19 went; the other 180 stay (in a new order), and 30 new vectors come.
    new = _unit(30, seed=4)
    src = np.concatenate([np.arange(199, 19, -1), np.full(30, -1)])
    now = np.concatenate([data[src[:180]], new])

    graph = vectors.updated_graph(previous, spec, spec, src, now)

    assert graph is not None and graph.dead == 20 and graph.ntotal == 210 == graph.index.ntotal - 20
    # The gone vectors are erased, not only hidden: nothing of them stays in the index.
    dead = np.flatnonzero(graph.slot_rows < 0)
    assert dead.tolist() == list(range(20))
    assert not np.any(graph.index.reconstruct_batch(dead))
    np.testing.assert_allclose(graph.reconstruct_batch(np.arange(210)), now, atol=1e-3)
    exact = make_index(now, IndexSpec("flat"))
    for query in [*data[:5], *new[:5]]:  # the gone vectors' own neighbourhoods, and the new
        scores, rows = graph.search(query[None], 10)
        want_scores, want_rows = exact.search(query[None], 10)
        assert rows[0].tolist() == want_rows[0].tolist()
        np.testing.assert_allclose(scores[0], want_scores[0], atol=1e-3)


@pytest.mark.parametrize(
    "change",
    ["another kind", "another M", "too many gone", "another dimension"],
)
def test_a_graph_is_built_anew_when_it_cannot_be_kept(change):
    previous, spec, data = _graph(100)
    src, now, want = np.arange(100), data, spec
    if change == "another kind":
        want = IndexSpec("hnsw", dict(HNSW_DEFAULTS))
    elif change == "another M":
        want = IndexSpec("hnsw_fp16", {**HNSW_DEFAULTS, "M": 16})
    elif change == "too many gone":  # 30 of 100 rows replaced: 30 of 130 slots dead
        src = np.concatenate([np.arange(70), np.full(30, -1)])
    else:
        now = _unit(100, dim=8)
        src = np.full(100, -1)
    assert vectors.updated_graph(previous, spec, want, src, now) is None
    # Only efSearch differing is a search setting: the graph is kept.
    faster = IndexSpec("hnsw_fp16", {**HNSW_DEFAULTS, "efSearch": 64})
    kept = vectors.updated_graph(_graph(100)[0], spec, faster, np.arange(100), data)
    assert kept is not None and kept.slot_rows is None and kept.hnsw.efSearch == 64


@pytest.mark.parametrize("slot_rows", [[0, 1, 1], [0, 2, -1], [0, 1], [5, -1, 0]])
def test_slot_rows_that_are_not_a_permutation_of_the_rows_are_refused(slot_rows):
    index = make_index(_unit(3), IndexSpec("hnsw_fp16", dict(HNSW_DEFAULTS)))
    with pytest.raises(ValueError):
        vectors.RowIndex(index, np.array(slot_rows))
