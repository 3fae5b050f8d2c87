"""Questions through ONNX Runtime: the same vectors as torch, a clean fallback, no torch import."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import onnx
import pytest

from qa import onnx_encoder
from qa.embedding import get_embedder, resolve_model
from qa.settings import BUNDLED_MODEL

pytest.importorskip("onnxruntime")

QUESTIONS = [
    "How many customers does Qwen have?",
    "When did Alibaba start releasing open models?",
    "revenue",
    "A much longer question about which industries deploy the models and through which service they do it",
]


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(onnx_encoder.CACHE_ENV, str(tmp_path / "cache"))
    onnx_encoder.get_query_encoder.cache_clear()
    yield tmp_path / "cache"
    onnx_encoder.get_query_encoder.cache_clear()


def test_the_bundled_model_is_exported_and_matches_torch(fresh_cache):
    encoder = onnx_encoder.get_query_encoder(BUNDLED_MODEL)
    assert isinstance(encoder, onnx_encoder.OnnxQueryEncoder)
    assert len(list(fresh_cache.glob("*.onnx"))) == 1 and len(list(fresh_cache.glob("*.checked"))) == 1
    got = encoder.encode(QUESTIONS)
    want = get_embedder(BUNDLED_MODEL, 32, "float32").encode(QUESTIONS)
    assert got.shape == want.shape and got.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert (got * want).sum(axis=1).min() > 0.9999
    # Alone or batched with texts of other lengths, a text gets the same vector.
    np.testing.assert_allclose(encoder.encode(QUESTIONS[:1])[0], got[0], atol=1e-5)
    # The graph was fused: one attention operator per layer instead of dozens of small ones.
    ops = [n.op_type for n in onnx.load(next(fresh_cache.glob("*.onnx"))).graph.node]
    assert ops.count("Attention") == 6 and len(ops) < 100


def test_a_model_that_is_not_mean_pooled_is_left_to_torch(tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(resolve_model(BUNDLED_MODEL), folder)
    assert onnx_encoder.exportable(folder)
    config = folder / "1_Pooling" / "config.json"
    data = json.loads(config.read_text())
    config.write_text(json.dumps({**data, "pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True}))
    assert not onnx_encoder.exportable(folder)
    assert not onnx_encoder.exportable(tmp_path / "missing")


def test_without_onnxruntime_questions_use_torch(fresh_cache, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails
    encoder = onnx_encoder.get_query_encoder(BUNDLED_MODEL)
    assert encoder is get_embedder(BUNDLED_MODEL, 32, "auto")


def test_an_export_that_disagrees_with_torch_is_not_used(fresh_cache, monkeypatch):
    monkeypatch.setattr(onnx_encoder, "MIN_AGREEMENT", 1.01)  # no export can pass
    assert not isinstance(onnx_encoder.get_query_encoder(BUNDLED_MODEL), onnx_encoder.OnnxQueryEncoder)
    assert not list(fresh_cache.glob("*.checked"))


def test_answering_from_a_current_index_never_imports_torch(tmp_path, seed_path, subprocess_env):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(seed_path, seeds)
    env = {**subprocess_env, onnx_encoder.CACHE_ENV: str(tmp_path / "cache")}
    code = (
        "import sys; from qa import ask; "
        f"a = ask('How many customers does Qwen have?', seeds_dir={str(seeds)!r}, index_dir={str(tmp_path / 'index')!r}); "
        "print(a.found, 'torch' in sys.modules, '290,000' in a.passages[0].highlighted)"
    )
    first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert first.stdout.split() == ["True", "True", "True"]  # built the index and the export
    second = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert second.stdout.split() == ["True", "False", "True"]


def test_packed_texts_get_the_vectors_they_get_alone(fresh_cache, monkeypatch):
    encoder = onnx_encoder.get_query_encoder(BUNDLED_MODEL)
    assert isinstance(encoder, onnx_encoder.OnnxQueryEncoder)
    long = " ".join(["the platform served customers in every industry"] * 60)  # past the model's limit
    words = ["revenue", "carmakers", "a", "tally", "backdrop", "2026", "Qwen"] * 6
    texts = [QUESTIONS[0], long, *words, QUESTIONS[1]]
    monkeypatch.setattr(onnx_encoder, "PACK_ROWS", 2)  # several runs, not just several rows
    together = encoder.encode(texts)
    alone = np.concatenate([encoder.encode([t]) for t in texts])
    np.testing.assert_allclose(together, alone, atol=2e-5)
    want = get_embedder(BUNDLED_MODEL, 32, "float32").encode([long, "carmakers"])
    assert (together[[1, 3]] * want).sum(axis=1).min() > 0.9999
