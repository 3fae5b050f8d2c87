"""qa.lexicon: content words, document frequencies and soft keyword coverage."""

from __future__ import annotations

import numpy as np
import pytest

from qa.embedding import get_embedder
from qa.lexicon import Lexicon, words


def test_words_are_lowercased_content_words() -> None:
    assert words("How many Customers does Qwen have?") == ["customers", "qwen"]
    assert words("") == []


def test_count_gives_sorted_vocabulary_and_document_frequency() -> None:
    vocab, df, n = Lexicon.count(["red apples", "green apples", "red car"])
    assert vocab == ["apples", "car", "green", "red"]
    assert df.tolist() == [2, 1, 1, 2]
    assert n == 3


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    texts = ["Financial services detect fraud.", "Hospitals treat patients.", "Cars drive on roads."]
    vocab, df, n = Lexicon.count(texts)
    return Lexicon(vocab, get_embedder().encode(vocab), df, n)


def _cover(lexicon: Lexicon, question: str, texts: list[str]) -> np.ndarray:
    qwords = list(dict.fromkeys(words(question)))
    return lexicon.soft_coverage(qwords, get_embedder().encode(qwords), texts)


def test_exact_words_cover_fully(lexicon) -> None:
    cov = _cover(lexicon, "fraud patients", ["Hospitals treat patients.", "Fraud patients"])
    assert cov[1] == pytest.approx(1.0, abs=1e-3)
    assert 0.2 < cov[0] < 0.8


def test_a_close_word_counts_and_an_unrelated_one_does_not(lexicon) -> None:
    texts = ["Cars drive on roads.", "Hospitals treat patients."]
    cov = _cover(lexicon, "car", texts)
    assert cov[0] > 0.5 and cov[1] == 0.0


def test_rare_words_weigh_more(lexicon) -> None:
    assert lexicon.idf("zebra") > lexicon.idf("fraud")


def test_no_query_words_cover_nothing(lexicon) -> None:
    assert _cover(lexicon, "what is it?", ["Cars drive on roads."]).tolist() == [0.0]
