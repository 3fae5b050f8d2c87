"""qa.chunking: sentences with exact offsets, heading-aware chunks that never cut a sentence."""

from __future__ import annotations

import random
import re
import time

import pytest

from qa.chunking import blocks, chunk_document, count_tokens, split_sentences
from qa.types import Document

ARTICLE = """# Field Notes on Tidal Power

Tidal power converts the energy of tides into electricity. Dr. Alvarez measured the flow at three
sites in the U.S. and two in France. Turbines, e.g. Kaplan designs, sit below the surface. Does
it pay off? The answer depends on the site! Costs fell by 3.5 percent last year.

Site Survey

The survey covered J. R. Hill's estuary first. Currents there reach four metres per second.
The team logged data for ninety days.

What the team measured:
- Peak current speed. Measured at the narrows, twice a day.
- Water depth at low tide
- Sediment load, e.g. sand and silt. Sampled weekly.

Alibaba as "AI Kingmaker"

Industry analysts describe the role as an "AI kingmaker". The phrase stuck.

## Costs and Outlook

Capital costs dominate. Maintenance is modest once the turbines are installed, and the
output is predictable years ahead, which grid operators value.
"""


def _doc(text: str, doc_id: str = "doc.md") -> Document:
    return Document(doc_id, doc_id, text, "0" * 64)


def _texts(text: str, sents) -> list[str]:
    return [text[s.start : s.end] for s in sents]


def _seed_doc(seed_path) -> Document:
    with open(seed_path, encoding="utf-8") as fh:
        return _doc(fh.read(), seed_path.name)


# --- sentences ---------------------------------------------------------------------------


def test_sentence_offsets_are_exact_and_abbreviations_do_not_split():
    text = (
        "Dr. Smith moved to the U.S. Army base in 2001. He studied languages, e.g. Python and Rust. "
        "Did it work? Yes! It cost 3.5 million. J. R. Tolkien agreed."
    )
    expected = [
        "Dr. Smith moved to the U.S. Army base in 2001.",
        "He studied languages, e.g. Python and Rust.",
        "Did it work?",
        "Yes!",
        "It cost 3.5 million.",
        "J. R. Tolkien agreed.",
    ]
    sents = split_sentences(text)
    spans = [(s.start, s.end) for s in sents]
    assert _texts(text, sents) == expected
    pos = 0
    for want, (start, end) in zip(expected, spans, strict=True):
        assert start == text.index(want, pos)
        assert end == start + len(want)
        pos = end


def test_sentence_ends_after_closing_quotes_and_brackets():
    text = 'He said "Stop." Then he left. (It was late.) Morning came.'
    assert _texts(text, split_sentences(text)) == [
        'He said "Stop."',
        "Then he left.",
        "(It was late.)",
        "Morning came.",
    ]


def test_sentence_offsets_are_absolute_within_a_span():
    text = "Preamble to skip. First one here. Second one here? Trailing part not included."
    start = text.index("First")
    end = text.index("Trailing")
    sents = split_sentences(text, start, end)
    assert _texts(text, sents) == ["First one here.", "Second one here?"]
    assert sents[0].start == start


def test_whitespace_is_trimmed_from_sentences():
    text = "  \n First sentence.   \n\n  Second sentence.  \n"
    assert _texts(text, split_sentences(text)) == ["First sentence.", "Second sentence."]


# --- blocks and headings ---------------------------------------------------------------------


def test_blocks_classify_headings_paragraphs_and_bullets():
    # Each block by its kind and the start of its first line.
    kinds = [(b.kind, ARTICLE[b.start : b.end].split("\n")[0][:40]) for b in blocks(ARTICLE)]
    assert kinds == [
        ("heading", "# Field Notes on Tidal Power"),
        ("para", "Tidal power converts the energy of tides"),
        ("heading", "Site Survey"),
        ("para", "The survey covered J. R. Hill's estuary "),
        ("para", "What the team measured:"),
        ("bullet", "- Peak current speed. Measured at the na"),
        ("bullet", "- Water depth at low tide"),
        ("bullet", "- Sediment load, e.g. sand and silt. Sam"),
        ("heading", 'Alibaba as "AI Kingmaker"'),
        ("para", "Industry analysts describe the role as a"),
        ("heading", "## Costs and Outlook"),
        ("para", "Capital costs dominate. Maintenance is m"),
    ]
    # A paragraph block spans its hard-wrapped lines up to the blank line.
    para = blocks(ARTICLE)[1]
    assert ARTICLE[para.start : para.end].endswith(
        "The answer depends on the site! Costs fell by 3.5 percent last year."
    )


@pytest.mark.parametrize("budget", [12, 24, 48, 128, 1000])
def test_headings_are_never_chunks_and_label_their_sections(budget):
    doc = _doc(ARTICLE)
    chunks = chunk_document(doc, chunk_tokens=budget)

    headings = [
        "# Field Notes on Tidal Power",
        "Site Survey",
        'Alibaba as "AI Kingmaker"',
        "## Costs and Outlook",
    ]
    for c in chunks:
        for h in headings:
            assert h not in c.text, f"heading {h!r} inside chunk {c.text!r}"
    by_heading = {}
    for c in chunks:
        by_heading.setdefault(c.heading, []).append(c.text)
    assert list(by_heading) == [
        "Field Notes on Tidal Power",
        "Site Survey",
        'Alibaba as "AI Kingmaker"',
        "Costs and Outlook",
    ]
    assert any("Tidal power converts" in t for t in by_heading["Field Notes on Tidal Power"])
    assert any("Sampled weekly." in t for t in by_heading["Site Survey"])
    assert any("The phrase stuck." in t for t in by_heading['Alibaba as "AI Kingmaker"'])
    assert any("grid operators value." in t for t in by_heading["Costs and Outlook"])
    # embed_text carries the heading as context.
    assert all(c.embed_text == f"{c.heading}\n{c.text}" for c in chunks)


def test_markdown_heading_directly_above_its_paragraph():
    text = "## Setup\nInstall the package first. Then run it.\n"
    (chunk,) = chunk_document(_doc(text))
    assert chunk.heading == "Setup"
    assert chunk.text == "Install the package first. Then run it."


def test_consecutive_headings_form_a_path():
    text = "Annual Report\n\nRevenue\n\nRevenue grew by a third.\n"
    (chunk,) = chunk_document(_doc(text))
    assert chunk.heading == "Annual Report › Revenue"
    assert chunk.text == "Revenue grew by a third."


def test_document_that_is_only_a_heading_still_has_one_chunk():
    (chunk,) = chunk_document(_doc("Just A Title\n"))
    assert chunk.text == "Just A Title"
    assert (chunk.start, chunk.end) == (0, 12)


def test_prose_line_ending_with_a_period_is_not_a_heading():
    text = "Short line here.\n\nAnother short one.\n"
    chunks = chunk_document(_doc(text))
    assert [c.heading for c in chunks] == [""]
    assert chunks[0].text == "Short line here.\n\nAnother short one."


# --- bullets -----------------------------------------------------------------------------------


@pytest.mark.parametrize("budget", [4, 12, 24, 128])
def test_bullet_items_are_kept_whole(budget):
    doc = _doc(ARTICLE)
    chunks = chunk_document(doc, chunk_tokens=budget)
    items = [ln.strip() for ln in ARTICLE.splitlines() if ln.startswith("- ")]
    assert len(items) == 3
    for item in items:
        start = ARTICLE.index(item)
        holders = [c for c in chunks if c.start <= start < c.end]
        assert len(holders) == 1, item
        assert item in holders[0].text
        # The item is one sentence even though it holds several.
        assert any(ARTICLE[s.start : s.end] == item for s in holders[0].sentences)


def test_a_short_list_with_its_lead_in_stays_in_one_chunk():
    doc = _doc(ARTICLE)
    chunks = chunk_document(doc, chunk_tokens=128)
    lead = ARTICLE.index("What the team measured:")
    last = ARTICLE.index("Sampled weekly.") + len("Sampled weekly.")
    assert any(c.start <= lead and last <= c.end for c in chunks)


# --- invariants on every chunk -------------------------------------------------------------------

_SENT_PUNCT = re.compile(r"""[.!?…。！？]["'”’)\]]*$""")


def _corpus(seed_path) -> list[Document]:
    return [_doc(ARTICLE), _seed_doc(seed_path)]


def _ends_whole(text: str, end: int) -> bool:
    """The text up to ``end`` closes a sentence, or ``end`` is the end of a line."""
    return bool(_SENT_PUNCT.search(text[:end])) or end == len(text) or text[end] == "\n"


def _starts_whole(text: str, start: int) -> bool:
    before = text[:start]
    if not before.strip():
        return True
    gap = before[len(before.rstrip()) :]
    return bool(gap) and ("\n" in gap or bool(_SENT_PUNCT.search(before.rstrip())))


@pytest.mark.parametrize("budget", [8, 16, 32, 64, 128, 512])
def test_chunks_are_exact_whole_sentence_slices(seed_path, budget):
    for doc in _corpus(seed_path):
        chunks = chunk_document(doc, chunk_tokens=budget)
        assert chunks
        for i, c in enumerate(chunks):
            assert c.doc_id == doc.doc_id
            assert c.position == i
            assert doc.text[c.start : c.end] == c.text
            assert c.text == c.text.strip() and c.text
            assert c.sentences[0].start == c.start and c.sentences[-1].end == c.end
            prev_end = c.start
            for s in c.sentences:
                assert c.start <= s.start < s.end <= c.end
                assert s.start >= prev_end  # in order, not overlapping
                prev_end = s.end
                assert _starts_whole(doc.text, s.start), doc.text[s.start : s.end]
                assert _ends_whole(doc.text, s.end), doc.text[s.start : s.end]
            assert _starts_whole(doc.text, c.start), c.text
            assert _ends_whole(doc.text, c.end), c.text
        # Chunks are in order and never overlap.
        assert all(a.end <= b.start for a, b in zip(chunks, chunks[1:], strict=False))


@pytest.mark.parametrize("budget", [8, 16, 32, 64, 128, 512])
def test_no_prose_is_lost_between_chunks(seed_path, budget):
    for doc in _corpus(seed_path):
        chunks = chunk_document(doc, chunk_tokens=budget)
        covered = "".join(c.gap_before + c.text for c in chunks)
        assert covered == doc.text[chunks[0].start : chunks[-1].end]
        # Whatever lies outside the chunks is whitespace or a heading.
        inside = [False] * len(doc.text)
        for span in [*chunks, *(b for b in blocks(doc.text) if b.kind == "heading")]:
            inside[span.start : span.end] = [True] * (span.end - span.start)
        lost = "".join(ch for ch, seen in zip(doc.text, inside, strict=True) if not seen)
        assert not lost.strip(), lost


@pytest.mark.parametrize("budget", [8, 16, 32, 64, 128])
def test_gap_before_is_the_text_between_consecutive_chunks(seed_path, budget):
    for doc in _corpus(seed_path):
        chunks = chunk_document(doc, chunk_tokens=budget)
        assert chunks[0].gap_before == ""
        for prev, cur in zip(chunks, chunks[1:], strict=False):
            assert cur.gap_before == doc.text[prev.end : cur.start]


@pytest.mark.parametrize("budget", [8, 16, 32, 64, 128])
def test_token_budget_is_respected_except_for_one_long_sentence(seed_path, budget):
    for doc in _corpus(seed_path):
        for c in chunk_document(doc, chunk_tokens=budget):
            used = sum(count_tokens(doc.text[s.start : s.end]) for s in c.sentences)
            assert used <= budget or len(c.sentences) == 1, (used, c.text)


def test_budget_packs_several_sentences_when_they_fit(seed_path):
    doc = _seed_doc(seed_path)
    small = chunk_document(doc, chunk_tokens=32)
    large = chunk_document(doc, chunk_tokens=256)
    assert len(large) < len(small)
    assert max(len(c.sentences) for c in large) > 1


def test_an_over_long_sentence_is_one_whole_chunk():
    long_sentence = "The committee " + " ".join(["reviewed the proposal carefully"] * 20) + " and agreed."
    text = f"Short start here. {long_sentence} Short end here.\n"
    chunks = chunk_document(_doc(text), chunk_tokens=16)
    assert count_tokens(long_sentence) > 16
    assert [c.text for c in chunks] == ["Short start here.", long_sentence, "Short end here."]


@pytest.mark.parametrize("kind", ["words", "no_spaces"])
def test_pathological_single_line_is_cut_into_bounded_pieces(kind):
    rng = random.Random(7)
    if kind == "words":
        vocab = ["alpha", "beta", "gamma", "delta", "tidal", "flow", "9000", "x", "lorem", "ipsum"]
        words: list[str] = []
        size = 0
        while size < 200_000:
            w = rng.choice(vocab)
            words.append(w)
            size += len(w) + 1
        text = " ".join(words)
    else:
        text = "".join(rng.choice("abcdefghij0123456789") for _ in range(200_000))
    assert len(text) >= 200_000 and "." not in text and "\n" not in text
    budget = 64

    t0 = time.perf_counter()
    chunks = chunk_document(_doc(text, "dump.txt"), chunk_tokens=budget)
    elapsed = time.perf_counter() - t0

    assert elapsed < 10
    assert len(chunks) > 100
    for c in chunks:
        assert text[c.start : c.end] == c.text
        assert count_tokens(c.text) <= budget * 2
        assert len(c.text) <= budget * 8
    # Nothing dropped but the whitespace at the cuts.
    assert "".join(c.gap_before + c.text for c in chunks) == text
    if kind == "words":
        # Cuts fall between words.
        for c in chunks:
            assert c.start == 0 or text[c.start - 1] == " "
            assert c.end == len(text) or text[c.end] == " "


def test_crlf_free_text_from_documents_round_trips(tmp_path):
    # A document read from disk with Windows newlines chunks like its Unix twin.
    from qa.documents import load_documents

    (tmp_path / "win.txt").write_bytes(ARTICLE.replace("\n", "\r\n").encode("utf-8"))
    (tmp_path / "unix.txt").write_bytes(ARTICLE.encode("utf-8"))
    docs, _ = load_documents(tmp_path)
    unix, win = (chunk_document(d, chunk_tokens=32) for d in sorted(docs, key=lambda d: d.doc_id))
    assert [(c.start, c.end, c.heading) for c in win] == [(c.start, c.end, c.heading) for c in unix]
