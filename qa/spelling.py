"""Typos in a question: a word the documents lack, one edit from a word they have.

"how many modles has alibaba open sourced" finds no count of "modles", and "custmers" matches
no word a passage has: BM25 misses the word and soft keyword matching compares it by a vector
of word pieces. Such a word is searched as the document word one edit away (a letter left out,
added, changed, or two swapped), the most frequent one when there are several. A word the
model's tokenizer holds whole is a real word, not a typo, and is left as it is
("hospitals" does not become "hospital"), unless it is the other spelling of a document word:
"organisations" and "customise" asked of American English are searched as "organizations"
and "customize" (and the other way round). Short words are left alone, where one edit makes
another word too easily.
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


# British and American spellings of one word, each way: -ise/-ize, -isation/-ization, -yse/-yze,
# -our/-or, -tre/-ter, -ence/-ense, -ogue/-og, a doubled l ("modelling"). Each pattern holds a
# group for the part that differs and is tried on the whole word.
_SPELLINGS = (
    (re.compile(r"^(.{3,}i)(s)(e|ed|es|ing|ation|ations|er|ers)$"), "z"),
    (re.compile(r"^(.{3,}i)(z)(e|ed|es|ing|ation|ations|er|ers)$"), "s"),
    (re.compile(r"^(.{2,}y)(s)(e|ed|es|ing)$"), "z"),
    (re.compile(r"^(.{2,}y)(z)(e|ed|es|ing)$"), "s"),
    (re.compile(r"^(.{3,}o)(u)(r|rs|red|ring|rable|rite|rites)$"), ""),
    (re.compile(r"^(.{3,}o)()(r|rs|red|ring|rable|rite|rites)$"), "u"),
    (re.compile(r"^(.{2,}[^aeiou])(tre)(s?)$"), "ter"),
    (re.compile(r"^(.{2,}[^aeiou])(ter)(s?)$"), "tre"),
    (re.compile(r"^(.{2,}[cf]en)(c)(e|es)$"), "s"),
    (re.compile(r"^(.{2,}[cf]en)(s)(e|es)$"), "c"),
    (re.compile(r"^(.{3,}og)(ue)(s?)$"), ""),
    (re.compile(r"^(.{3,}og)()(s?)$"), "ue"),
    (re.compile(r"^(.*[aeiou][b-df-hj-np-tv-z][ae]l)(l)(ing|ed|er|ers)$"), ""),
    (re.compile(r"^(.*[aeiou][b-df-hj-np-tv-z][ae]l)()(ing|ed|er|ers)$"), "l"),
)


def other_spellings(word: str) -> set[str]:
    """The word as the other side of the Atlantic spells it ("organisation" -> "organization")."""
    return {
        m.group(1) + to + m.group(3) for pattern, to in _SPELLINGS if (m := pattern.match(word)) is not None
    } - {word}


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
        if len(lower) < MIN_LETTERS or lower in lexicon.ids:
            return word
        others = other_spellings(lower) if lower in known else _one_edit(lower)
        candidates = [w for w in others if w in lexicon.ids]
        if not candidates:
            return word
        best = max(candidates, key=lambda w: (int(lexicon.df[lexicon.ids[w]]), w))
        best = best.capitalize() if word[:1].isupper() else best
        fixes.append((word, best))
        return best

    return _WORD.sub(fix, text), tuple(fixes)
