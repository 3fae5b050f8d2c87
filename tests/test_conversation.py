"""Deterministic follow-up rewriting."""

from __future__ import annotations

import pytest

from qa.conversation import content_words, entities, rewrite, topic

PREVIOUS = "How many customers does Qwen have?"


def test_a_pronoun_is_replaced_by_the_previous_subject():
    rw = rewrite("and how many models did it release?", PREVIOUS)
    assert rw.follow_up
    assert rw.query == "How many models did Qwen release?"
    assert rw.topic == "Qwen"


def test_possessive_pronouns_become_possessives():
    assert rewrite("What is its revenue?", PREVIOUS).query == "What is Qwen's revenue?"
    assert rewrite("what about their growth?", "Why do Alibaba customers stay?").follow_up


@pytest.mark.parametrize(
    ("question", "query"),
    [
        ("why?", "Qwen: Why?"),
        ("Is there a free tier?", "Qwen: Is there a free tier?"),
        ("and?", PREVIOUS),
        ("What about healthcare?", "healthcare: " + PREVIOUS),
        ("and how about API calls?", "API calls: " + PREVIOUS),
    ],
)
def test_follow_ups_carry_the_previous_context(question, query):
    rw = rewrite(question, PREVIOUS)
    assert rw.follow_up
    assert rw.query == query


@pytest.mark.parametrize(
    "question",
    [
        "When did Alibaba open-source its first model?",  # names its own subject
        "What is the revenue of the company?",  # a full question without pointers
        "and when did Qwen launch?",  # already names the previous subject
    ],
)
def test_standalone_questions_are_searched_as_typed(question):
    rw = rewrite(question, PREVIOUS)
    assert not rw.follow_up
    assert rw.query == " ".join(question.split())


def test_without_a_previous_turn_nothing_changes():
    assert rewrite("and how many models did it release?", None).query == "and how many models did it release?"
    assert not rewrite("why?", "").follow_up
    assert rewrite("   ", PREVIOUS).query == ""


def test_chains_keep_the_subject():
    first = rewrite("and how many models did it release?", PREVIOUS)
    second = rewrite("when did it start?", first.query)
    assert second.query == "When did Qwen start?"


def test_the_same_input_always_gives_the_same_query():
    runs = {rewrite("and what does it cost?", PREVIOUS).query for _ in range(5)}
    assert runs == {"What does Qwen cost?"}


def test_entities_and_topics():
    assert entities("When did Alibaba's Qwen2.5 and the API launch?") == ["Alibaba Qwen2.5", "API"]
    assert entities("Summarize the report") == []  # a capital that only starts the sentence
    assert entities("GPT-4 or Qwen?") == ["GPT-4", "Qwen"]
    assert topic("how many customers are there?") == "customers"
    assert content_words("What is the capital of France?") == ["capital", "France"]
