"""Feedback becomes gold-set entries that the evaluator reads as they are."""

from __future__ import annotations

import json
import threading

import pytest

from qa.errors import InvalidFeedback
from qa.feedback import GoldEntry, append, entry_for, find_quote, read
from qa.types import Answer, Passage

TEXT = "Penguins live on Zebra Island. The colony counts 4,500 birds. Visitors come in May."


def _answer(found: bool = True, query: str = "How many penguins live on Zebra Island?") -> Answer:
    start = TEXT.index("The colony")
    quote = "The colony counts 4,500 birds. Visitors come in May."
    passage = Passage(quote, "p.txt", start, start + len(quote), (0, 30), 0.8, "Penguins")
    return Answer(question="and how many birds?", found=found, passages=[passage], query=query)


@pytest.fixture
def corpus(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "p.txt").write_text(TEXT)
    return seeds


def test_helpful_on_a_found_answer_keeps_the_highlighted_sentence():
    entry = entry_for(_answer(), "helpful")
    # The searched query (standalone, even for a follow-up) is the gold question.
    assert entry.question == "How many penguins live on Zebra Island?"
    assert entry.evidence == ["The colony counts 4,500 birds."]
    assert entry.answerable is True
    assert entry.id.startswith("fb-")


def test_wrong_without_a_passage_means_the_documents_do_not_answer():
    entry = entry_for(_answer(), "wrong")
    assert entry.evidence == [] and entry.answerable is False


def test_helpful_on_a_not_found_reply_confirms_it_is_unanswerable():
    entry = entry_for(_answer(found=False), "helpful")
    assert entry.evidence == [] and entry.answerable is False


def test_wrong_on_a_not_found_reply_needs_the_passage():
    with pytest.raises(InvalidFeedback, match="paste the passage"):
        entry_for(_answer(found=False), "wrong")


def test_the_expected_passage_becomes_the_evidence(corpus):
    entry = entry_for(_answer(), "wrong", expected="  penguins live\n on ZEBRA island. ", seeds_dir=corpus)
    assert entry.evidence == ["penguins live on ZEBRA island."]
    assert entry.answerable is True


def test_an_expected_passage_must_be_a_quote_from_the_documents(corpus):
    with pytest.raises(InvalidFeedback, match="not found in any document"):
        entry_for(_answer(), "wrong", expected="Penguins live on the Moon.", seeds_dir=corpus)
    with pytest.raises(InvalidFeedback, match="at most"):
        entry_for(_answer(), "wrong", expected="word " * 1000)


def test_unknown_verdicts_and_blank_questions_are_refused():
    with pytest.raises(InvalidFeedback, match="helpful, wrong"):
        entry_for(_answer(), "meh")
    with pytest.raises(InvalidFeedback, match="no question"):
        entry_for(Answer(question=" ", found=True, query=""), "wrong")


def test_find_quote_folds_whitespace_and_case(corpus):
    assert find_quote("THE colony   counts 4,500", corpus) == "p.txt"
    assert find_quote("elephants", corpus) is None
    assert find_quote("   ", corpus) is None


def test_append_writes_json_lines_that_the_evaluator_loads(tmp_path):
    from qa.evaluate import load_gold

    path = tmp_path / "feedback" / "feedback.jsonl"
    entries = [entry_for(_answer(), "helpful"), entry_for(_answer(), "wrong")]
    for e in entries:
        append(path, e)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [
        {"id": e.id, "question": e.question, "evidence": e.evidence, "answerable": e.answerable}
        for e in entries
    ]
    assert read(path) == entries
    gold = load_gold(path)
    assert [g.id for g in gold] == [e.id for e in entries]
    assert gold[0].evidence == ("The colony counts 4,500 birds.",) and gold[0].answerable
    assert gold[1].evidence == () and not gold[1].answerable


def test_concurrent_appends_keep_every_line_whole(tmp_path):
    path = tmp_path / "fb.jsonl"

    def write(n: int) -> None:
        for i in range(20):
            append(path, GoldEntry(f"t{n}-{i}", "q" * 500, ["e" * 500], True))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({e.id for e in read(path)}) == 100


def test_reading_a_missing_file_gives_nothing(tmp_path):
    assert read(tmp_path / "none.jsonl") == []
