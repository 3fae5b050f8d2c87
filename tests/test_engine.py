"""qa.engine: ask() end to end on the real seed article with the real bundled model."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from qa import Answer, EmptyQuestion, Passage, ask
from qa.engine import MAX_QUESTION_CHARS, clean_question

QUESTIONS = [
    "How many customers does Qwen have?",
    "When did Alibaba begin publishing its models as open source?",
    "qwen api usage growth",
    "What does it mean to call Alibaba an AI kingmaker?",
    "Which industries are Qwen's customers in?",
    "What are the priorities for 2026 listed in the platform stats?",
    "china vs EU AI regulation",
    "Which reasoning model came out in January 2026?",
    "Which US chipmaker's products are restricted for China?",
    "Which company's platform strategy is Alibaba's likened to?",
    "What sources is this article based on?",
    "How long should I boil an egg for a runny yolk?",
    "Who is Alibaba's CEO?",
]

# A sentence closes with . ! ? or … , perhaps followed by closing quotes or brackets.
_CLOSES = re.compile(r"""[.!?…]["'”’)\]]*$""")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory, seed_path):
    """The seed article in a corpus folder of its own, with its index built by the first ask."""
    root = tmp_path_factory.mktemp("engine")
    seeds = root / "seeds"
    seeds.mkdir()
    shutil.copy(seed_path, seeds / seed_path.name)
    first = ask(QUESTIONS[0], seeds_dir=seeds, index_dir=root / "index")
    return seeds, root / "index", first


def _ask(seeded, question, **kw) -> Answer:
    seeds, index, _ = seeded
    return ask(question, seeds_dir=seeds, index_dir=index, **kw)


def _line_of(doc: str, pos: int) -> str:
    start = doc.rfind("\n", 0, pos) + 1
    end = doc.find("\n", pos)
    return doc[start : len(doc) if end < 0 else end]


def _starts_sentence(doc: str, pos: int) -> bool:
    """``pos`` opens the text, or follows whitespace after sentence punctuation or a line break."""
    before = doc[:pos]
    if not before.strip():
        return True
    gap = before[len(before.rstrip()) :]
    return bool(gap) and ("\n" in gap or bool(_CLOSES.search(before.rstrip())))


def check_passage(seeds: Path, p: Passage) -> None:
    """Every promise a Passage makes about its quote and highlight."""
    with open(seeds / p.source, encoding="utf-8") as fh:
        doc = fh.read()
    assert doc[p.start : p.end] == p.text, "the quote is not verbatim"
    assert p.text and p.text == p.text.strip()
    h0, h1 = p.highlight
    assert 0 <= h0 < h1 <= len(p.text), p.highlight
    assert p.highlighted == p.text[h0:h1] == doc[p.start + h0 : p.start + h1]
    # The highlight is a whole sentence (or a whole heading or bullet line).
    assert _starts_sentence(doc, p.start + h0), f"highlight starts mid-sentence: {p.highlighted!r}"
    highlighted_line = _line_of(doc, p.start + h0).strip()
    assert _CLOSES.search(p.highlighted) or p.highlighted == highlighted_line, (
        f"highlight ends mid-sentence: {p.highlighted!r}"
    )
    assert p.start + h1 == len(doc) or doc[p.start + h1].isspace()
    # The quote as a whole starts and ends on sentence boundaries.
    assert _starts_sentence(doc, p.start), f"quote starts mid-sentence: {p.text[:60]!r}"
    assert p.end == len(doc) or doc[p.end].isspace(), f"quote ends mid-word: {p.text[-60:]!r}"
    last_line = _line_of(doc, p.end - 1).strip()
    assert _CLOSES.search(p.text) or p.text.endswith(last_line), f"quote ends mid-sentence: {p.text[-60:]!r}"
    assert isinstance(p.score, float)


def test_check_passage_catches_broken_quotes(seed_path):
    """The checker used below has teeth: each of these passages breaks one promise."""
    seeds = seed_path.parent
    doc = (seeds / "alibaba-qwen-platform.txt").read_text(encoding="utf-8")
    sentence = "Since August 2023, Alibaba has open-sourced over 300 models"
    start = doc.index(sentence)
    end = doc.index(".", start) + 1
    good = Passage(doc[start:end], "alibaba-qwen-platform.txt", start, end, (0, end - start), 1.0)
    check_passage(seeds, good)
    broken = [
        Passage(doc[start + 1 : end + 1], good.source, start, end, good.highlight, 1.0),  # not verbatim
        Passage(doc[start + 6 : end], good.source, start + 6, end, (0, end - start - 6), 1.0),  # mid-sentence
        Passage(doc[start : end - 9], good.source, start, end - 9, (0, end - start - 9), 1.0),  # cut short
        Passage(good.text, good.source, start, end, (6, end - start), 1.0),  # highlight starts mid-sentence
        Passage(good.text, good.source, start, end, (0, 40), 1.0),  # highlight ends mid-sentence
        Passage(good.text, good.source, start, end, (0, 0), 1.0),  # empty highlight
    ]
    for p in broken:
        with pytest.raises(AssertionError):
            check_passage(seeds, p)


# --- answers ----------------------------------------------------------------------------------------


def test_the_customer_count_is_the_first_quote(seeded):
    answer = _ask(seeded, "How many customers does Qwen have?")
    assert answer.found
    assert "290,000" in answer.passages[0].text


def test_the_customer_count_is_among_the_top_quotes(seeded):
    answer = _ask(seeded, "How many customers does Qwen have?")
    assert answer.found
    assert any("290,000" in p.highlighted for p in answer.passages[:3])


@pytest.mark.parametrize(
    ("question", "highlighted"),
    [
        # The opening paragraph holds "290,000 customers ... January 2026" and, a sentence later,
        # "surged 15x": only the second is a growth (answer_types.ASKS_MULTIPLE).
        (
            "I'm writing a brief on Alibaba for my fund — by what factor did Qwen's API usage grow since last year?",
            r"15x|15-fold",
        ),
        # The section's first sentence names chips and data centers; the reason for them is two
        # sentences on (answer_types.GivesReason).
        ("Why does China need its own chips and data centers so badly?", "technology restrictions"),
        # "... because it earns revenue whenever ..." is in the kingmaker passage, far below it.
        ("Why do people refer to Alibaba as a kingmaker?", "kingmaker"),
        # "This open-source approach generates multiple strategic benefits: ..." leans on the
        # sentence before it, but names what is gained (answer_types.ASKS_BENEFIT).
        ("What does Alibaba gain from giving its models away as open source?", "accelerates Qwen adoption"),
        # "How much ... gone up": the growth, not the customer count before it.
        ("How much have calls to Alibaba's AI service gone up compared with a year ago?", r"15x|15-fold"),
        # "This rapid catch-up reflects China's massive investments ...": a cause is a reason.
        ("Why is China closing the gap so fast, according to the experts cited?", "reflects"),
        # "... platforms like Qwen will remain ..." gives an example; the x86 sentence compares.
        ("What older technologies does the writer compare Qwen's possible future importance to?", "x86"),
        # The sentence that says what the firms use it for, not one about companies in general.
        ("What do financial firms do with Qwen?", "fraud detection"),
        # A why after another question: the reason pick would take "This platform position
        # ... because it earns revenue ..." before it (answer_types.asks_reason_first).
        (
            "Which American tech business is Alibaba's platform approach likened to, and why is the comparison made?",
            "Amazon Web Services",
        ),
    ],
)
def test_the_first_quote_highlights_what_the_question_asks_for(seeded, question, highlighted):
    answer = _ask(seeded, question)
    assert answer.found
    assert re.search(highlighted, answer.passages[0].highlighted)


def test_first_ask_built_the_index(seeded):
    seeds, index, first = seeded
    assert (index / "CURRENT").is_file()
    assert first.question == QUESTIONS[0]
    assert first.passages


@pytest.mark.parametrize("question", QUESTIONS)
def test_every_passage_is_a_verbatim_whole_sentence_quote(seeded, question):
    seeds, _, _ = seeded
    answer = _ask(seeded, question, k=5)
    assert answer.question == question
    assert 1 <= len(answer.passages) <= 5
    scores = [p.score for p in answer.passages]
    assert scores == sorted(scores, reverse=True)
    for p in answer.passages:
        assert p.source == "alibaba-qwen-platform.txt"
        check_passage(seeds, p)
    # Passages of one answer do not overlap.
    spans = sorted((p.start, p.end) for p in answer.passages)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))


@pytest.mark.parametrize(
    ("question", "evidence"),
    [
        ("Which reasoning model came out in January 2026?", "DeepSeek's R1 reasoning model"),
        ("Which US chipmaker's products are restricted for China?", "NVIDIA"),
        # "This strategy parallels ... like Amazon Web Services": a comparison that leans on the
        # sentence before it (qa/answer_types.py COMPARISON; no penalty when it holds the type).
        ("Which company's platform strategy is Alibaba's likened to?", "Amazon Web Services"),
        ("What past technologies is Qwen's potential role compared to?", "x86 chips"),
        ("When did Alibaba begin publishing its models as open source?", "August 2023"),
        # Who is asking ("PhD", which the documents never mention) is not what is asked about.
        (
            "I'm a PhD student in AI policy. How does the article describe China's way of governing AI?",
            "agile",
        ),
        # "Model" of "Model Studio" is no kind of thing asked for by name.
        ("Explain what Model Studio does for a company without its own AI team.", "Model Studio"),
        # "what the article says schools ..." asks for no school by name.
        ("Show me what the article says schools and universities use Qwen for.", "Educational institutions"),
        # A ban the documents speak of as restrictions.
        ("Why are NVIDIA chips banned in China?", "technology restrictions"),
        # "Westerners", which the documents never write, is their "Western" with a suffix.
        (
            "In what way does Alibaba's openness break with how Chinese AI was developed before, and with "
            "what Westerners expected?",
            "Western assumptions",
        ),
    ],
)
def test_answerable_questions_are_found(seeded, question, evidence):
    answer = _ask(seeded, question)
    assert answer.found
    assert any(evidence in p.text for p in answer.passages[:3])


@pytest.mark.parametrize(
    ("question", "missing"),
    [
        # A number, but of customers; the Act is there, a date for it is not; revenue is there,
        # an amount is not; no number beside the market.
        (
            "How many parameters does the largest Qwen model have?",
            "number of parameters, which the question asks for",
        ),
        ("When does the EU AI Act take effect?", "date, which the question asks for"),
        ("What was Alibaba's revenue last fiscal year?", "amount of money, which the question asks for"),
        (
            "What is Alibaba's share of the Chinese cloud market?",
            "percentage or share, which the question asks for",
        ),
        # Today's customer count is there; one from a year before is not.
        (
            "How many Model Studio customers did Alibaba have a year before the 290,000 figure?",
            "earlier figure, which the question asks for",
        ),
        # A false premise: the AI Act is there, a ban of Qwen under it is not (answer_types.EVENTS).
        (
            "Why did the EU ban Qwen models under the AI Act?",
            "mention of a ban, which the question takes for granted",
        ),
    ],
)
def test_near_topic_questions_the_article_does_not_answer_abstain(seeded, question, missing):
    answer = _ask(seeded, question)
    assert not answer.found
    assert answer.passages, "the closest passages are still shown, flagged as not an answer"
    assert f"the closest passage states no {missing}" in answer.notices


def test_an_answered_question_has_no_notice_of_what_is_missing(seeded):
    answer = _ask(seeded, "How many customers does Qwen have?")
    assert answer.found and not any("states no" in n for n in answer.notices)


def test_k_limits_the_number_of_passages(seeded):
    assert len(_ask(seeded, "qwen api usage growth", k=1).passages) == 1
    with pytest.raises(ValueError):
        _ask(seeded, "qwen api usage growth", k=0)


# --- questions ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("question", ["", "   ", "\n\t  \n", "\u200b\ufeff", "\x00\x07"])
def test_a_blank_question_raises_empty_question(seeded, question):
    with pytest.raises(EmptyQuestion) as info:
        _ask(seeded, question)
    assert isinstance(info.value, ValueError)
    assert "empty" in str(info.value)


@pytest.mark.parametrize("question", [None, 42, b"How many customers?"])
def test_a_question_that_is_not_text_raises_value_error(seeded, question):
    with pytest.raises(ValueError, match="must be text"):
        _ask(seeded, question)


def test_a_huge_question_is_cut_with_a_notice(seeded):
    seeds, _, _ = seeded
    question = "How many customers does Qwen have? " + "please answer " * 8000
    assert len(question) > 100_000
    answer = _ask(seeded, question)
    assert answer.question == question
    assert len(answer.query) <= MAX_QUESTION_CHARS
    assert answer.query.startswith("How many customers does Qwen have?")
    assert not answer.query.endswith(" ") and "please answer" in answer.query
    assert len(answer.notices) == 1 and "cut" in answer.notices[0]
    assert answer.passages
    for p in answer.passages:
        check_passage(seeds, p)


def test_clean_question_collapses_whitespace_and_controls():
    assert clean_question("  How\tmany\r\n customers?\x00 ") == ("How many customers?", ())
    text, notices = clean_question("word " * 1000)
    assert len(text) <= MAX_QUESTION_CHARS and text.endswith("word") and notices


def test_an_ordinary_question_has_no_notice(seeded):
    answer = _ask(seeded, "What does Alibaba's Model Studio do?")
    assert answer.notices == ()
    assert answer.query == "What does Alibaba's Model Studio do?"


def test_a_typo_is_searched_as_the_document_word_and_said(seeded):
    # "modles" is one edit from the article's "models": without the fix, no count of "modles"
    # is found and the question abstains.
    answer = _ask(seeded, "how many modles has alibaba open sourced and since when")
    assert answer.found and "over 300 models" in answer.passages[0].text
    assert answer.query == "how many models has alibaba open sourced and since when"
    assert answer.notices == ("searched for \u201cmodels\u201d (the documents have no \u201cmodles\u201d)",)


def test_a_role_the_documents_never_mention_is_not_answered(seeded):
    # The article names no one and no CEO: the closest passages are offered, flagged as such.
    answer = _ask(seeded, "Who is Alibaba's CEO?")
    assert not answer.found and answer.passages
    assert answer.notices == ("the closest passage states no CEO, which the question asks for",)


# --- the index across calls and processes ---------------------------------------------------------------


def _state(index: Path) -> tuple[str, list[str]]:
    return (index / "CURRENT").read_text(), sorted(
        p.name for p in index.iterdir() if p.name.startswith("gen-")
    )


def test_asking_again_reuses_the_index(seeded):
    _, index, _ = seeded
    before = _state(index)
    _ask(seeded, "What sources is this article based on?")
    _ask(seeded, "Who is Alibaba's CEO?")
    assert _state(index) == before


def test_a_second_process_reuses_the_index(seeded, repo_root, subprocess_env):
    seeds, index, _ = seeded
    before = _state(index)
    mtimes = {p: p.stat().st_mtime_ns for p in (index / before[0].strip()).rglob("*")}
    code = textwrap.dedent(
        f"""
        from qa import ask
        a = ask("How many customers does Qwen have?", seeds_dir={str(seeds)!r}, index_dir={str(index)!r})
        print("PASSAGES", len(a.passages), a.passages[0].source)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=repo_root,
        env=subprocess_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "PASSAGES 5 alibaba-qwen-platform.txt" in proc.stdout
    assert _state(index) == before
    assert {p: p.stat().st_mtime_ns for p in mtimes} == mtimes


# --- a corpus that changes ------------------------------------------------------------------------------

NOTES = {
    "kitchen.txt": (
        "Kitchen Rules\n\nThe secret ingredient of the house soup is smoked paprika. Nobody else knows.\n"
    ),
    "garden.md": "# Garden\n\nThe tomatoes were planted along the south wall in April.\n",
}


@pytest.fixture
def notes(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for name, text in NOTES.items():
        (seeds / name).write_text(text, encoding="utf-8")
    return seeds, tmp_path / "index"


def _notes_ask(notes, question) -> Answer:
    seeds, index = notes
    answer = ask(question, seeds_dir=seeds, index_dir=index)
    for p in answer.passages:
        check_passage(seeds, p)
    return answer


def _rewrite(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))


def test_a_changed_document_is_picked_up_by_the_next_ask(notes):
    seeds, _ = notes
    q = "What is the secret ingredient of the house soup?"
    assert "smoked paprika" in _notes_ask(notes, q).passages[0].text
    _rewrite(seeds / "kitchen.txt", NOTES["kitchen.txt"].replace("smoked paprika", "fresh lovage"))
    answer = _notes_ask(notes, q)
    assert "fresh lovage" in answer.passages[0].text
    assert all("paprika" not in p.text for p in answer.passages)


def test_a_deleted_document_disappears_from_answers(notes):
    seeds, _ = notes
    q = "Where were the tomatoes planted?"
    assert _notes_ask(notes, q).passages[0].source == "garden.md"
    (seeds / "garden.md").unlink()
    answer = _notes_ask(notes, q)
    assert answer.passages
    assert all(p.source != "garden.md" for p in answer.passages)


def test_a_new_document_is_found(notes):
    seeds, _ = notes
    q = "What colour is the garden gate?"
    assert all(p.source != "sub/gate.txt" for p in _notes_ask(notes, q).passages)
    (seeds / "sub").mkdir()
    (seeds / "sub" / "gate.txt").write_text("The garden gate is painted dark green.\n", encoding="utf-8")
    answer = _notes_ask(notes, q)
    assert answer.passages[0].source == "sub/gate.txt"
    assert answer.passages[0].text == "The garden gate is painted dark green."


def test_a_corrupt_index_is_rebuilt_on_ask(notes):
    seeds, index = notes
    _notes_ask(notes, "Where were the tomatoes planted?")
    gen = index / (index / "CURRENT").read_text().strip()
    data = bytearray((gen / "sentences.npy").read_bytes())
    data[-1] ^= 0xFF
    (gen / "sentences.npy").write_bytes(bytes(data))
    # A fresh engine (as in a new process) must not trust the damaged files.
    from qa import engine

    engine._engines.clear()
    answer = _notes_ask(notes, "Where were the tomatoes planted?")
    assert answer.passages[0].source == "garden.md"
    assert (index / "CURRENT").read_text().strip() != gen.name


def test_sources_limit_the_search_to_chosen_documents(notes):
    seeds, index = notes
    names = sorted(NOTES)
    for name in names:
        answer = ask("What is in it?", seeds_dir=seeds, index_dir=index, sources=[name], k=10)
        assert answer.passages and {p.source for p in answer.passages} == {name}
    assert ask("soup", seeds_dir=seeds, index_dir=index, sources=["missing.txt"]).passages == []


def test_freed_load_memory_is_returned_once_per_loaded_index(notes, monkeypatch):
    from qa import engine

    calls = []
    monkeypatch.setattr(engine, "release_free_memory", lambda: calls.append(1) or True)
    seeds, _ = notes
    q = "Where were the tomatoes planted?"
    _notes_ask(notes, q)
    _notes_ask(notes, q)
    assert len(calls) == 1  # after the first answer, not after every question
    (seeds / "sub").mkdir()
    (seeds / "sub" / "gate.txt").write_text("The garden gate is painted dark green.\n", encoding="utf-8")
    _notes_ask(notes, q)  # a new generation was built and loaded
    assert len(calls) == 2


def test_release_free_memory_runs_on_this_c_library():
    import platform

    from qa.engine import release_free_memory

    # glibc (Linux) has malloc_trim; elsewhere the call does nothing and says so.
    assert release_free_memory() is (platform.libc_ver()[0] == "glibc")
