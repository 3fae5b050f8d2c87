"""The embedder: normalized float32 output in either precision, and a clean fallback."""

from __future__ import annotations

import numpy as np
import pytest

from qa import embedding
from qa.errors import InvalidSetting

TEXTS = [
    "Alibaba's Qwen platform has over 290,000 customers.",
    "How many customers does Qwen have?",
    "The bakery sells rye bread on Tuesdays.",
]


def test_auto_precision_follows_the_cpu(monkeypatch):
    monkeypatch.setattr(embedding, "bf16_supported", lambda: True)
    assert embedding.resolve_precision("auto") == "bfloat16"
    assert embedding.resolve_precision("float32") == "float32"
    monkeypatch.setattr(embedding, "bf16_supported", lambda: False)
    assert embedding.resolve_precision("auto") == "float32"


def test_bfloat16_on_a_cpu_without_it_falls_back_to_float32_with_a_warning(monkeypatch, caplog):
    monkeypatch.setattr(embedding, "bf16_supported", lambda: False)
    with caplog.at_level("WARNING", logger="qa"):
        assert embedding.resolve_precision("bfloat16") == "float32"
    assert "float32" in caplog.text


def test_an_unknown_precision_names_the_accepted_ones():
    with pytest.raises(InvalidSetting, match="auto, float32, bfloat16"):
        embedding.resolve_precision("int4")


@pytest.mark.skipif(not embedding.bf16_supported(), reason="this CPU has no native bfloat16")
def test_bfloat16_vectors_are_normalized_and_match_float32():
    fast = embedding.get_embedder(precision="bfloat16")
    exact = embedding.get_embedder(precision="float32")
    assert (fast.precision, exact.precision) == ("bfloat16", "float32")
    a, b = fast.encode(TEXTS), exact.encode(TEXTS)
    assert a.dtype == b.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert (a * b).sum(axis=1).min() > 0.999
    # The ranking a question gives is the same.
    assert np.argsort(-(a[1:] @ a[1])).tolist() == np.argsort(-(b[1:] @ b[1])).tolist()


def test_encoding_nothing_gives_an_empty_matrix():
    e = embedding.get_embedder()
    assert e.encode([]).shape == (0, e.dim)
