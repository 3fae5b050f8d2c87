"""qa/speedups.py: batched equivalents give the values of the code they stand in for."""

from __future__ import annotations

import numpy as np

from qa.lexicon import Lexicon, words
from qa.speedups import soft_coverage_many

TEXTS = [
    "The Danube flows through ten countries before it reaches the Black Sea.",
    "Rivers carry water; the Amazon carries the most water of all rivers.",
    "A honey bee colony holds a single queen and thousands of workers.",
    "Workers live about six weeks in summer.",
    "",
    "!!!",
]


def _lexicon() -> Lexicon:
    vocab, df, n = Lexicon.count(TEXTS)
    rng = np.random.default_rng(0)
    vecs = rng.normal(size=(len(vocab), 12)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    # Near-synonyms, so that some similarities pass the match floor without being equal.
    vecs[vocab.index("rivers")] = 0.8 * vecs[vocab.index("danube")] + 0.6 * vecs[vocab.index("rivers")]
    return Lexicon(vocab, vecs.astype(np.float16), df, n)


def test_soft_coverage_many_equals_one_call_per_group():
    lex = _lexicon()
    for question in ("Which rivers reach the Black Sea?", "How long do bee workers live?", "zebra"):
        qwords = list(dict.fromkeys(words(question)))
        qvecs = np.array(
            [lex.vectors[lex.ids[w]] if w in lex.ids else np.ones(12) / np.sqrt(12) for w in qwords],
            dtype=np.float32,
        ).reshape(len(qwords), -1)
        groups = [TEXTS[:2], TEXTS[2:4], [], TEXTS[4:], [TEXTS[0]]]
        expected = [lex.soft_coverage(qwords, qvecs, g) for g in groups]
        got = soft_coverage_many(lex, qwords, qvecs, groups)
        assert [len(g) for g in got] == [len(e) for e in expected]
        for e, g in zip(expected, got, strict=True):
            np.testing.assert_allclose(g, e, atol=1e-6)


def test_no_query_words_or_no_texts():
    lex = _lexicon()
    assert [list(a) for a in soft_coverage_many(lex, [], np.zeros((0, 12), np.float32), [TEXTS[:2]])] == [
        [0.0, 0.0]
    ]
    assert soft_coverage_many(lex, ["danube"], np.ones((1, 12), np.float32), [[]])[0].size == 0
    assert soft_coverage_many(lex, ["danube"], np.ones((1, 12), np.float32), []) == []
