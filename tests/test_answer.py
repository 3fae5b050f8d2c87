"""qa.answer: sentence scoring, quote cutting, abstention and the optional reranker."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import qa.answer as answer
from qa import store
from qa.answer_types import AnswerTypes, GivesReason
from qa.embedding import get_embedder
from qa.indexer import build_index
from qa.retrieval import RRF_K, Retriever
from qa.settings import Settings

DOC = (
    "Glaciers\n\n"
    "Glaciers cover about ten percent of the land on Earth. This ice holds most of the fresh "
    "water on the planet. Scientists measure glaciers from satellites.\n\n"
    "Volcanoes\n\n"
    "Mount Etna erupted in 1669 and destroyed part of Catania. Its lava reached the sea. "
    "Volcanoes also build new islands over time.\n"
)


@pytest.fixture(scope="module")
def small_index(tmp_path_factory) -> store.StoredIndex:
    root = tmp_path_factory.mktemp("answer")
    (root / "seeds").mkdir()
    (root / "seeds" / "nature.txt").write_text(DOC, encoding="utf-8")
    build_index(root / "seeds", root / "index", progress=False)
    return store.load(root / "index")


@pytest.fixture(scope="module")
def tiny_chunks(tmp_path_factory) -> store.StoredIndex:
    """One sentence per chunk, so answers sit at chunk edges."""
    root = tmp_path_factory.mktemp("edges")
    (root / "seeds").mkdir()
    (root / "seeds" / "nature.txt").write_text(DOC, encoding="utf-8")
    build_index(root / "seeds", root / "index", settings=Settings(chunk_tokens=8), progress=False)
    return store.load(root / "index")


def _index_of(root: Path, text: str) -> store.StoredIndex:
    """The index of a corpus of one document, ``text``, built under ``root``."""
    (root / "seeds").mkdir()
    (root / "seeds" / "nature.txt").write_text(text, encoding="utf-8")
    build_index(root / "seeds", root / "index", progress=False)
    return store.load(root / "index")


def _ask(index: store.StoredIndex, question: str, settings: Settings | None = None, k: int = 3):
    settings = settings or Settings()
    query = answer.make_query(question, get_embedder(), index.lexicon)
    hits = Retriever(index, settings).search(query.text, query.vec)
    return answer.select(index, hits, query, settings, k)


def _row_of(index: store.StoredIndex, fragment: str) -> tuple[int, int]:
    for row, chunk in enumerate(index.chunks):
        for i, s in enumerate(chunk.sentences):
            if fragment in answer.sentence_text(chunk, s):
                return row, i
    raise AssertionError(fragment)


def test_answer_types_follow_the_question_word() -> None:
    lexicon = answer.Lexicon(["x"], get_embedder().encode(["x"]), __import__("numpy").ones(1), 1)
    emb = get_embedder()
    # A number, then a count of glaciers (answer_types.CountOf).
    number, count = answer.make_query("How many glaciers are there?", emb, lexicon).types.rank
    assert number.search("in 1669") and not count.search("in 1669")
    assert count.search("About 200,000 glaciers exist.")
    assert answer.make_query("When did Etna erupt?", emb, lexicon).types.rank[0].search("in 1669")
    # A reason, chosen inside a passage, but nothing that ranks passages or abstains.
    why = answer.make_query("Why do glaciers melt?", emb, lexicon).types
    assert why == AnswerTypes(pick=(GivesReason(),))
    (names,) = answer.make_query("Which company maps glaciers?", emb, lexicon).types.rank
    assert names.search("The Landsat program maps them.") and not names.search("Glaciers are mapped.")


def test_a_money_question_is_found_only_where_an_amount_is_stated(small_index, tmp_path) -> None:
    """Near the topic is not enough: the passage must state a price (or say it is free)."""
    question = "How much does a guided walk up Mount Etna cost?"
    found, passages = _ask(small_index, question)  # Etna is there, a price is not
    assert not found and passages  # the closest passages are still returned, flagged
    assert "Mount Etna erupted in 1669" in passages[0].text
    visits = "\nVisits\n\nA guided walk to the crater of Mount Etna costs 60 euros per person.\n"
    found, passages = _ask(_index_of(tmp_path, DOC + visits), question)
    assert found and "60 euros" in passages[0].text


def test_a_when_question_is_found_only_where_a_date_is_stated(small_index) -> None:
    found, passages = _ask(small_index, "When did the glaciers start to melt?")
    assert not found and passages, "the glacier passage states no date"
    found, passages = _ask(small_index, "When did Mount Etna erupt?")
    assert found and "1669" in passages[0].text


def test_once_answered_a_when_question_quotes_the_sentence_with_the_date_first(
    small_index, monkeypatch
) -> None:
    """ "Its lava reached the sea." is closest by meaning; its passage states a date, so the
    question is answered, and the sentence holding the date is the answer."""
    found, passages = _ask(small_index, "When did Etna's lava reach the sea?")
    assert found and passages[0].highlighted == "Mount Etna erupted in 1669 and destroyed part of Catania."
    monkeypatch.setattr(answer, "REQUIRED_BONUS", 0.0)
    found, passages = _ask(small_index, "When did Etna's lava reach the sea?")
    assert found and passages[0].highlighted == "Its lava reached the sea."


def test_a_question_pinned_to_a_year_needs_a_passage_mentioning_it(small_index, tmp_path) -> None:
    """Near the topic is not enough: a question about 1928 is not answered by a passage on 1669."""
    question = "Which town did Etna destroy in 1928?"
    found, passages = _ask(small_index, question)
    assert not found and "Mount Etna erupted in 1669" in passages[0].text
    later = DOC.replace(
        "Its lava reached the sea.", "Its lava reached the sea. In 1928 a flow buried the town of Mascali."
    )
    found, passages = _ask(_index_of(tmp_path, later), question)
    # Found for the passage's closeness (its 1669 sentence), but the 1928 sentence is highlighted.
    assert found and passages[0].highlighted == "In 1928 a flow buried the town of Mascali."


@pytest.mark.parametrize("stored_words", [True, False])
def test_a_name_no_document_mentions_nor_anything_close_to_it_is_not_answered(
    small_index, stored_words, monkeypatch
) -> None:
    """Pliny is in no document and close to no word of the candidates; Sicily is close to Etna and Catania."""
    index = small_index
    if not stored_words:  # as an index built before sentence words were stored
        monkeypatch.setattr(store.StoredIndex, "sentence_words", None)
    query = answer.make_query(
        "What did Mount Etna destroy, according to Pliny?", get_embedder(), index.lexicon
    )
    found, lacking, stream = answer.quotes(index, Retriever(index, Settings()).search(query.text, query.vec),
                                           query, Settings())  # fmt: skip
    assert not found and lacking == "mention of Pliny"
    assert "Mount Etna erupted in 1669" in next(stream).text  # the closest passage, flagged
    found, passages = _ask(index, "What did Etna destroy in Sicily?")
    assert found and "Catania" in passages[0].text


def test_a_name_is_not_mentioned_by_a_word_inside_it(small_index) -> None:
    """ "LavaTech" is close to "lava" (0.57) by the tokenizer's pieces, not by meaning; no document names it."""
    query = answer.make_query("When did LavaTech map Mount Etna?", get_embedder(), small_index.lexicon)
    hits = Retriever(small_index, Settings()).search(query.text, query.vec)
    found, lacking, _ = answer.quotes(small_index, hits, query, Settings())
    assert not found and lacking == "mention of LavaTech"


def test_a_question_about_this_piece_is_about_the_article(tmp_path, monkeypatch) -> None:
    """ "this piece" or "this story" is embedded as "this article", which the model ties to a
    source line; the question's words stay as written."""
    index = _index_of(
        tmp_path, DOC + "\nSource: Based on reporting from the Catania Observer and INGV research.\n"
    )
    assert answer.as_embedded("Sources used for this story?") == "Sources used for this article?"
    query = answer.make_query("What sources was this piece based on?", get_embedder(), index.lexicon)
    assert "piece" in query.words
    found, passages = _ask(index, "What sources was this piece based on?")
    assert found and passages[0].highlighted.startswith("Source:")
    monkeypatch.setattr(answer, "as_embedded", lambda text: text)
    found, passages = _ask(index, "What sources was this piece based on?")
    assert not found


def test_a_how_many_question_needs_a_number_of_what_it_counts(small_index, tmp_path) -> None:
    """A number nearby is not enough ("1669" counts no islands); one beside the thing is."""
    question = "How many new islands have volcanoes built?"
    found, passages = _ask(small_index, question)
    assert not found and "islands" in passages[0].text
    counted = _index_of(
        tmp_path, DOC.replace("Volcanoes also build new islands", "Volcanoes have built 40 new islands")
    )
    found, passages = _ask(counted, question)
    assert found and "40 new islands" in passages[0].text
    # A close word counts too: the number of isles is a number of islands.
    found, _ = _ask(counted, "How many new isles have volcanoes built?")
    assert found


def test_a_sentence_that_leans_on_the_one_before_scores_a_little_lower(small_index, monkeypatch) -> None:
    settings = Settings()
    query = answer.make_query("How much fresh water does the ice hold?", get_embedder(), small_index.lexicon)
    hits = Retriever(small_index, settings).search(query.text, query.vec)
    row, best = _row_of(small_index, "This ice holds")

    def score() -> float:
        (item,) = [s for s in answer.rescore(small_index, hits, query, settings) if s.row == row]
        assert item.best == best, "the answer sentence stays the one that holds the fact"
        return item.score

    penalty, penalized = answer.ANAPHOR_PENALTY, score()
    monkeypatch.setattr(answer, "ANAPHOR_PENALTY", 0.0)
    assert penalty > 0 and score() - penalized == pytest.approx(penalty, abs=1e-5)


def test_a_sentence_that_states_what_the_question_asks_for_is_not_penalized_for_leaning(
    small_index, monkeypatch
) -> None:
    settings = Settings()
    query = answer.make_query("How much fresh water does the ice hold?", get_embedder(), small_index.lexicon)
    # As if the question asked for what "This ice holds most of the fresh water" states.
    query = replace(query, types=AnswerTypes(rank=(re.compile("fresh water"),)))
    hits = Retriever(small_index, settings).search(query.text, query.vec)
    row, _ = _row_of(small_index, "This ice holds")

    def score() -> float:
        (item,) = [s for s in answer.rescore(small_index, hits, query, settings) if s.row == row]
        return item.score

    typed = score()
    monkeypatch.setattr(answer, "ANAPHOR_PENALTY", 0.0)
    assert score() == pytest.approx(typed, abs=1e-6)


def test_a_drawback_question_highlights_the_sentence_that_turns_but_ranks_passages_as_before(
    tmp_path,
) -> None:
    text = (
        "Open rules\n\nThe open rules let startups ship new products quickly and cheaply. However, the rules "
        "leave firms unsure which uses may be banned later. Regulators meet every quarter.\n\n"
        "Harbours\n\nThe harbour opened in 1901, but its cranes were replaced in 1990.\n"
    )
    index, settings = _index_of(tmp_path, text), Settings()
    query = answer.make_query("What are the drawbacks of the open rules?", get_embedder(), index.lexicon)
    assert query.types.pick
    hits = Retriever(index, settings).search(query.text, query.vec)
    plain = replace(query, types=replace(query.types, pick=()))
    with_pick, without = (
        answer.rescore(index, hits, query, settings),
        answer.rescore(index, hits, plain, settings),
    )
    assert [(s.row, s.score) for s in with_pick] == [(s.row, s.score) for s in without]
    chunk = index.chunks[with_pick[0].row]
    chosen = [answer.sentence_text(chunk, chunk.sentences[s[0].best]) for s in (with_pick, without)]
    assert chosen[0].startswith("However, the rules leave firms unsure")
    assert chosen[1].startswith("The open rules let startups")  # the words alone choose the first


def test_a_chunk_gains_its_place_in_the_fused_ranking(small_index) -> None:
    query = answer.make_query("How much fresh water does the ice hold?", get_embedder(), small_index.lexicon)
    hits = Retriever(small_index, Settings()).search(query.text, query.vec)

    def scores(weight: float) -> dict[int, float]:
        settings = replace(Settings(), fusion_weight=weight)
        return {s.row: s.score for s in answer.rescore(small_index, hits, query, settings)}

    without, with_half = scores(0.0), scores(0.5)
    for hit in hits:
        gain = 0.5 * hit.fused * RRF_K / 2  # dense and BM25 weigh 1 each
        assert with_half[hit.row] - without[hit.row] == pytest.approx(gain, abs=1e-5)


def test_the_answer_sentence_is_highlighted(small_index) -> None:
    found, passages = _ask(small_index, "When did Mount Etna erupt?")
    assert found
    top = passages[0]
    assert top.highlighted.startswith("Mount Etna erupted in 1669")
    assert top.heading == "Volcanoes"
    assert DOC[top.start : top.end] == top.text


def test_a_sentence_that_leans_on_the_one_before_brings_it(small_index) -> None:
    row, best = _row_of(small_index, "This ice holds")
    item = answer.Scored(row, 1.0, best, 0.9)
    p = answer.quote(small_index, item, replace(Settings(), quote_words=20))
    assert p.text.startswith("Glaciers cover about ten percent")
    assert p.highlighted.startswith("This ice holds")
    assert DOC[p.start : p.end] == p.text


def test_a_leaning_sentence_that_lost_only_for_leaning_is_highlighted_with_the_answer(
    small_index, monkeypatch
) -> None:
    settings = Settings()
    query = answer.make_query("How much fresh water does the ice hold?", get_embedder(), small_index.lexicon)
    hits = Retriever(small_index, settings).search(query.text, query.vec)
    row, leaning = _row_of(small_index, "This ice holds")

    def item() -> answer.Scored:
        return next(s for s in answer.rescore(small_index, hits, query, settings) if s.row == row)

    # Unpenalized, the leaning sentence is the answer itself and nothing follows it.
    monkeypatch.setattr(answer, "ANAPHOR_PENALTY", 0.0)
    assert (item().best, item().follower) == (leaning, False)
    # Penalized out of first place, it still holds the fact: it joins the sentence before it.
    monkeypatch.setattr(answer, "ANAPHOR_PENALTY", 5.0)
    assert (item().best, item().follower) == (leaning - 1, True)
    p = answer.quote(small_index, item(), settings)
    assert (
        p.highlighted
        == "Glaciers cover about ten percent of the land on Earth. This ice holds most of the fresh water on the planet."
    )
    # A follower the quote's word budget leaves out is not highlighted.
    short = answer.quote(small_index, item(), replace(settings, quote_words=10))
    assert short.highlighted == "Glaciers cover about ten percent of the land on Earth."


def test_the_lead_in_crosses_a_chunk_edge_but_not_a_paragraph(tiny_chunks) -> None:
    row, best = _row_of(tiny_chunks, "This ice holds")
    assert best == 0, "with a tiny budget each sentence is its own chunk"
    p = answer.quote(tiny_chunks, answer.Scored(row, 1.0, best, 0.9), Settings())
    assert p.text.startswith("Glaciers cover about ten percent")
    assert DOC[p.start : p.end] == p.text
    assert p.highlighted.startswith("This ice holds")
    # "Its lava reached the sea." leans back too; its paragraph starts the section, so the
    # sentence before it (same paragraph) comes along, never the heading or another section.
    row, best = _row_of(tiny_chunks, "Its lava")
    p = answer.quote(tiny_chunks, answer.Scored(row, 1.0, best, 0.9), Settings())
    assert p.text.startswith("Mount Etna erupted")
    assert "Glaciers" not in p.text


def test_quotes_stay_within_the_word_budget(small_index) -> None:
    settings = replace(Settings(), quote_words=12)
    _, passages = _ask(small_index, "How much land do glaciers cover?", settings)
    for p in passages:
        assert DOC[p.start : p.end] == p.text
        if len(p.text.split()) > 12:
            # Over budget only by what the answer needs: itself, and the sentence it leans on.
            assert p.text[p.highlight[1] :].strip() == ""
            assert p.text[: p.highlight[0]].rstrip().count(". ") == 0


def test_passages_do_not_overlap(small_index) -> None:
    _, passages = _ask(small_index, "glaciers and volcanoes", k=5)
    spans = sorted((p.start, p.end) for p in passages)
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:], strict=False))


def test_an_unrelated_question_is_not_found(small_index) -> None:
    found, passages = _ask(small_index, "What is the best recipe for chocolate cake?")
    assert not found
    assert passages, "the closest passages are still returned"


def test_without_rescoring_the_fused_order_is_kept(small_index) -> None:
    settings = replace(Settings(), rescore=False)
    query = answer.make_query("glaciers", get_embedder(), small_index.lexicon)
    hits = Retriever(small_index, settings).search(query.text, query.vec)
    scored = answer.rescore(small_index, hits, query, settings)
    assert [s.row for s in scored] == [h.row for h in hits[: len(scored)]]


def test_a_reranker_reorders_candidates_but_not_abstention(small_index, monkeypatch) -> None:
    class Reversing:
        """Stands in for a cross-encoder: prefers what the embedding ranked last."""

        def predict(self, pairs, show_progress_bar=False):
            return [float(i) for i in range(len(pairs))]

    monkeypatch.setattr(answer, "_cross_encoder", lambda name: Reversing())
    question = "When did Mount Etna erupt?"
    plain_found, plain = _ask(small_index, question, k=5)
    found, reranked = _ask(small_index, question, replace(Settings(), reranker="any"), k=5)
    assert found == plain_found
    assert [p.start for p in reranked] == [p.start for p in reversed(plain)]


def test_rank_lists_every_candidate_once(small_index) -> None:
    settings = Settings()
    query = answer.make_query("glaciers", get_embedder(), small_index.lexicon)
    hits = Retriever(small_index, settings).search(query.text, query.vec)
    rows = [row for row, _ in answer.rank(small_index, hits, query, settings)]
    assert sorted(rows) == sorted(h.row for h in hits)


def test_the_index_round_trip_keeps_the_lexicon(small_index, tmp_path: Path) -> None:
    assert "glaciers" in small_index.lexicon.ids
    assert small_index.lexicon.vectors.shape == (len(small_index.lexicon.vocab), 384)


def test_stored_sentence_words_score_as_the_sentence_text_does(small_index, monkeypatch):
    from qa.store import StoredIndex

    settings = Settings()
    query = answer.make_query("When did the volcano destroy the town?", get_embedder(), small_index.lexicon)
    hits = Retriever(small_index, settings).search(query.text, query.vec)
    assert small_index.sentence_words is not None
    stored = answer.rescore(small_index, hits, query, settings)
    monkeypatch.setattr(StoredIndex, "sentence_words", None)  # as an index built before them
    from_text = answer.rescore(small_index, hits, query, settings)
    assert [(s.row, s.best) for s in stored] == [(s.row, s.best) for s in from_text]
    np.testing.assert_allclose([s.score for s in stored], [s.score for s in from_text], atol=1e-6)


@pytest.mark.parametrize(
    ("word", "name", "stem"),
    [("western", "westerners", True), ("european", "europeans", True), ("europe", "europeans", True),
     ("open", "openai", False), ("west", "westerners", False), ("qwen", "qwen", False)],
)  # fmt: skip
def test_a_stem_of_a_name_is_no_mere_piece_of_it(word, name, stem) -> None:
    """answer.unknown_name: "Western" mentions "Westerners"; "open" is no mention of "OpenAI"."""
    assert answer._stem_of(word, name) is stem
