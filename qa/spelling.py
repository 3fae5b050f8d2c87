"""Typos in a question: a word the documents lack, one edit from a word they have.

"how many modles has alibaba open sourced" finds no count of "modles", and "custmers" matches
no word a passage has: BM25 misses the word and soft keyword matching compares it by a vector
of word pieces. Such a word is searched as the document word one edit away (a letter left out,
added, changed, or two swapped), the most frequent one when there are several. A word the
model's tokenizer holds whole is a real word, not a typo, and is left as it is
("hospitals" does not become "hospital"); so are short words, where one edit makes another
word too easily.
"""

from __future__ import annotations

import json
import re
import string
from functools import lru_cache
from pathlib import Path

from .lexicon import Lexicon

# Words shorter than this are left alone: one edit from "chip" are "chin", "ship", "chips".
MIN_LETTERS = 5
_WORD = re.compile(r"[A-Za-z]+")


@lru_cache(maxsize=4)
def known_words(model_dir: str) -> frozenset[str]:
    """The whole words of a model's WordPiece vocabulary (its tokenizer.json), lower-cased.

    Empty for a model without a local tokenizer.json or with another kind of vocabulary: then
    no word can be told to be real, and nothing is corrected.
    """
    try:
        vocab = json.loads((Path(model_dir) / "tokenizer.json").read_text(encoding="utf-8"))["model"]["vocab"]
    except (OSError, ValueError, KeyError, TypeError):
        return frozenset()
    if not isinstance(vocab, dict):
        return frozenset()
    return frozenset(w for w in vocab if isinstance(w, str) and w.isalpha() and w.islower())


def _one_edit(word: str) -> set[str]:
    """The words one edit from ``word``, but a last letter added or left out: that makes
    another form of a real word ("characterize" and "characterized", "liken" and "like", which
    the tokenizer does not hold whole) more often than a typo."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    letters = string.ascii_lowercase
    return (
        {a + b[1:] for a, b in splits if len(b) > 1}
        | {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
        | {a + c + b[1:] for a, b in splits if b for c in letters}
        | {a + c + b for a, b in splits if b for c in letters}
    )


def correct(text: str, lexicon: Lexicon, known: frozenset[str]) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The text with its typos replaced, and the (typo, replacement) pairs.

    Args:
        text: the question.
        lexicon: the corpus vocabulary (with each word's document frequency).
        known: real words (``known_words``); empty, nothing is corrected.
    """
    if not known:
        return text, ()
    fixes: list[tuple[str, str]] = []

    def fix(m: re.Match) -> str:
        word = m.group()
        lower = word.lower()
        if len(lower) < MIN_LETTERS or lower in lexicon.ids or lower in known:
            return word
        candidates = [w for w in _one_edit(lower) if w in lexicon.ids]
        if not candidates:
            return word
        best = max(candidates, key=lambda w: (int(lexicon.df[lexicon.ids[w]]), w))
        best = best.capitalize() if word[:1].isupper() else best
        fixes.append((word, best))
        return best

    return _WORD.sub(fix, text), tuple(fixes)
