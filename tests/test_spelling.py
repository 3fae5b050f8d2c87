"""qa.spelling: a question word the documents lack, one edit from one they have, is searched as it."""

from __future__ import annotations

import numpy as np
import pytest

from qa.embedding import resolve_model
from qa.lexicon import Lexicon
from qa.settings import Settings
from qa.spelling import correct, known_words, other_spellings

REAL = frozenset({"which", "many", "hospitals", "models", "customers", "approach", "industries"})


def _lexicon(counts: dict[str, int]) -> Lexicon:
    vocab = sorted(counts)
    return Lexicon(vocab, np.zeros((len(vocab), 4), np.float32), np.array([counts[w] for w in vocab]), 10)


@pytest.mark.parametrize(
    ("question", "searched", "fixes"),
    [("how many modles has it released", "how many models has it released", [("modles", "models")]),
     ("which industries are the custmers in", "which industries are the customers in", [("custmers", "customers")]),
     ("the agile aproach", "the agile approach", [("aproach", "approach")]),
     ("Modles?", "Models?", [("Modles", "Models")]),  # the case it was written in
     ("Which hospitals use it?", "Which hospitals use it?", []),  # a real word, though not the documents'
     ("How many chis are there?", "How many chis are there?", []),  # too short to tell
     ("qwenn and mdoelz", "qwenn and mdoelz", []),  # two edits away, or no word near
     ("Does it liken them?", "Does it liken them?", [])],  # another form of "like", not a typo of it
)  # fmt: skip
def test_a_word_one_edit_from_a_document_word_is_searched_as_it(question, searched, fixes):
    lexicon = _lexicon(
        {"models": 5, "customers": 3, "approach": 1, "hospital": 1, "industries": 2, "chip": 1, "like": 3}
    )
    assert correct(question, lexicon, REAL) == (searched, tuple(fixes))


def test_of_several_document_words_one_edit_away_the_most_frequent_is_searched():
    lexicon = _lexicon({"cartel": 1, "carter": 4})
    assert correct("carten", lexicon, REAL)[0] == "carter"


def test_without_a_known_vocabulary_nothing_is_corrected(tmp_path):
    assert known_words(str(tmp_path)) == frozenset()  # no tokenizer.json
    assert correct("how many modles", _lexicon({"models": 1}), frozenset()) == ("how many modles", ())


def test_the_bundled_model_knows_real_words_and_not_typos():
    known = known_words(resolve_model(Settings().model))
    assert {"hospitals", "models", "approach"} <= known
    assert not {"modles", "custmers", "aproach"} & known


@pytest.mark.parametrize(
    ("question", "searched"),
    [("What do healthcare organisations do with it?", "What do healthcare organizations do with it?"),
     ("Can firms customise the models?", "Can firms customize the models?"),
     ("new data centres", "new data centers"),
     ("Who is modeling it?", "Who is modelling it?"),  # American asked of British documents
     ("the labor market", "the labour market"),
     ("Which hospitals use it?", "Which hospitals use it?")],  # no other spelling the documents have
)  # fmt: skip
def test_a_real_word_spelled_the_other_way_is_searched_as_the_documents_spell_it(question, searched):
    lexicon = _lexicon(
        {"organizations": 2, "customize": 1, "centers": 1, "modelling": 1, "labour": 1, "hospital": 1}
    )
    known = REAL | {"organisations", "customise", "centres", "modeling", "labor", "hospitals"}
    fixed, fixes = correct(question, lexicon, known)
    assert fixed == searched
    assert len(fixes) == (fixed != question)


@pytest.mark.parametrize(
    ("word", "others"),
    [("organisation", {"organization"}), ("analysed", {"analyzed"}), ("behaviour", {"behavior"}),
     ("honor", {"honour"}), ("licence", {"license"}), ("catalogue", {"catalog"}), ("travelled", {"traveled"}),
     ("four", set()), ("raise", set()), ("filled", set()), ("after", set())],
)  # fmt: skip
def test_other_spellings_change_only_the_part_that_differs(word, others):
    assert other_spellings(word) == others
