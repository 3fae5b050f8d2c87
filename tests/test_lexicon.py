"""qa.lexicon: content words, document frequencies and soft keyword coverage."""

from __future__ import annotations

import numpy as np
import pytest

from qa.embedding import get_embedder
from qa.errors import IndexCorrupt
from qa.lexicon import Lexicon, words
from qa.quantize import float32_rows


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


def _reference_coverage(lex: Lexicon, qwords: list[str], qvecs: np.ndarray, texts: list[str]) -> list[float]:
    """soft_coverage written plainly, one text at a time: the batched version must agree."""
    from qa.lexicon import MATCH_FLOOR

    if not qwords:
        return [0.0] * len(texts)
    weights = np.array([lex.idf(w) for w in qwords])
    weights /= weights.sum()
    out = []
    for text in texts:
        ids = [lex.ids[w] for w in set(words(text)) if w in lex.ids]
        if not ids:
            out.append(0.0)
            continue
        best = (qvecs @ np.asarray(lex.vectors[ids], dtype=np.float32).T).max(axis=1)
        out.append(float((np.where(best >= MATCH_FLOOR, best, 0.0) * weights).sum()))
    return out


def test_batched_coverage_equals_one_text_at_a_time() -> None:
    texts = [
        "The Danube flows through ten countries before it reaches the Black Sea.",
        "Rivers carry water; the Amazon carries the most water of all rivers.",
        "",
        "!!!",
        "A honey bee colony holds a single queen and thousands of workers.",
    ]
    vocab, df, n = Lexicon.count(texts)
    rng = np.random.default_rng(0)
    vecs = rng.normal(size=(len(vocab), 12)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    # A near-synonym, so some similarities pass the match floor without being equal.
    vecs[vocab.index("rivers")] = 0.8 * vecs[vocab.index("danube")] + 0.6 * vecs[vocab.index("rivers")]
    lex = Lexicon(vocab, vecs.astype(np.float16), df, n)
    for question in ("Which rivers reach the Black Sea?", "How many bee workers?", "zebra", "what?"):
        qwords = list(dict.fromkeys(words(question)))
        qvecs = np.array(
            [lex.vectors[lex.ids[w]] if w in lex.ids else np.ones(12) / np.sqrt(12) for w in qwords],
            dtype=np.float32,
        ).reshape(len(qwords), 12)
        got = lex.soft_coverage(qwords, qvecs, texts)
        np.testing.assert_allclose(got, _reference_coverage(lex, qwords, qvecs, texts), atol=1e-6)
    assert lex.soft_coverage(["danube"], np.ones((1, 12), np.float32), []).size == 0


@pytest.mark.parametrize(
    "removed, added",
    [
        ([], ["Owls hunt at night.", "Red owls."]),  # add, with new words
        (["green apples"], []),  # delete: "green" disappears
        (["red car"], ["red bicycle"]),  # edit
        (["red apples", "green apples", "red car"], ["zebra"]),  # replace everything
        (["red apples"], ["red apples"]),  # a text that goes and comes back
    ],
)
def test_updated_counts_equal_a_full_count(removed, added) -> None:
    texts = ["red apples", "green apples", "red car"]
    vocab, df, n = Lexicon.count(texts)
    lex = Lexicon(vocab, np.zeros((len(vocab), 2), dtype=np.float16), df, n)
    remaining = list(texts)
    for t in removed:
        remaining.remove(t)
    expected = Lexicon.count(remaining + added)

    got = lex.updated_counts(removed, added)

    assert got[0] == expected[0]
    assert got[1].dtype == expected[1].dtype and got[1].tolist() == expected[1].tolist()
    assert got[2] == expected[2]


def test_updated_counts_refuses_a_text_it_never_counted() -> None:
    vocab, df, n = Lexicon.count(["red apples"])
    lex = Lexicon(vocab, np.zeros((len(vocab), 2), dtype=np.float16), df, n)
    with pytest.raises(ValueError):
        lex.updated_counts(["blue cars"], [])


def test_content_ids_are_the_ids_of_the_content_words(lexicon) -> None:
    texts = ["Financial services DETECT fraud, and the hospitals.", "", "nothing known here", "Cars, cars!"]
    flat, lengths = lexicon.content_ids(texts)
    assert lengths.tolist() == [5, 0, 0, 1]
    got, pos = [], 0
    for n in lengths:
        got.append(sorted(flat[pos : pos + n].tolist()))
        pos += n
    want = [sorted({lexicon.ids[w] for w in words(t) if w in lexicon.ids}) for t in texts]
    assert got == want


def test_stored_sentence_words_round_trip_and_reject_inconsistent_files(tmp_path) -> None:
    from qa.lexicon import SentenceWords

    stored = SentenceWords(np.array([3, 1, 4, 1, 5], np.int32), np.array([0, 2, 2, 5], np.int64))
    stored.save(tmp_path)
    loaded = SentenceWords.load(tmp_path, sentences=3, vocabulary=6)
    ids, lengths = loaded.of(np.array([2, 0, 1]))
    assert ids.tolist() == [4, 1, 5, 3, 1] and lengths.tolist() == [3, 2, 0]
    assert SentenceWords.load(tmp_path, sentences=4, vocabulary=6) is None  # another index's
    # An id out of range is found when a question reads it, not by reading every id at load.
    damaged = SentenceWords.load(tmp_path, sentences=3, vocabulary=5)
    assert damaged.of(np.array([0]))[0].tolist() == [3, 1]
    with pytest.raises(IndexCorrupt, match="qa build --rebuild"):
        damaged.of(np.array([2]))


def test_float32_rows_are_exactly_numpys_conversion(tmp_path) -> None:
    rng = np.random.default_rng(3)
    half = (rng.standard_normal((50, 8)) / 10).astype(np.float16)
    half[0, :6] = [0.0, -0.0, 1e-7, -3e-5, 6e-5, 65504.0]  # zeros, subnormals, the largest value
    np.save(tmp_path / "v.npy", half)
    stored = np.load(tmp_path / "v.npy", mmap_mode="r")
    rows = np.array([0, 7, 7, 49, 3])
    got = float32_rows(stored, rows)
    assert got.dtype == np.float32 and got.shape == (5, 8)
    np.testing.assert_array_equal(got, half[rows].astype(np.float32))
    assert np.signbit(got[0, 1]) and np.signbit(got[0, 3])
    full = half.astype(np.float32)  # an array already in float32 is returned as it is
    np.testing.assert_array_equal(float32_rows(full, rows), full[rows])


def test_int8_codes_keep_each_word_vector_and_survive_a_second_quantization() -> None:
    from qa.quantize import quantize_rows

    rng = np.random.default_rng(3)
    vecs = rng.normal(size=(300, 384)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    vecs[7] = 0.0  # a zero row must not divide by zero
    codes, scales = quantize_rows(vecs, block=64)
    assert codes.dtype == np.int8 and scales.dtype == np.float32
    back = codes.astype(np.float32) * scales[:, None]
    cos = np.sum(back * vecs, axis=1)[np.arange(300) != 7] / np.linalg.norm(back, axis=1)[np.arange(300) != 7]
    assert cos.min() > 0.998
    assert not back[7].any()
    # A re-build widens stored codes to float16 and quantizes them again: the same codes.
    again, _ = quantize_rows(back.astype(np.float16))
    assert np.array_equal(again, codes)
    lex = Lexicon([f"w{i}" for i in range(300)], codes, np.ones(300, np.int32), 300, scales)
    np.testing.assert_allclose(lex.rows(np.array([3, 5])), back[[3, 5]])
