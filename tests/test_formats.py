"""PDF and HTML text extraction, page offsets, and their place in documents and the index."""

from __future__ import annotations

import pytest
from minipdf import make_pdf

from qa.documents import SUPPORTED, Skipped, read_document
from qa.formats import FormatError, decode_html, html_text, page_of, pdf_text
from qa.types import Document


def test_page_of_counts_from_one_and_is_none_without_pages():
    pages = (0, 10, 25)
    assert page_of(pages, 0) == 1
    assert page_of(pages, 9) == 1
    assert page_of(pages, 10) == 2
    assert page_of(pages, 24) == 2
    assert page_of(pages, 25) == 3
    assert page_of(pages, 10_000) == 3
    assert page_of((), 5) is None
    assert page_of([0, 4], 2) == 1  # lists (from a JSON manifest) work too


def test_pdf_pages_are_joined_by_a_blank_line_with_their_offsets():
    data = make_pdf([["Solar Report", "The array produced 42 MW."], ["The array has 1,200 panels."]])
    text, pages = pdf_text(data)
    assert text == "Solar Report\nThe array produced 42 MW.\n\nThe array has 1,200 panels."
    assert pages == (0, text.index("The array has"))
    assert page_of(pages, text.index("42 MW")) == 1
    assert page_of(pages, text.index("1,200")) == 2


def test_an_empty_pdf_page_keeps_its_number():
    text, pages = pdf_text(make_pdf([["one"], [], ["three (3)"]]))
    assert len(pages) == 3
    assert page_of(pages, text.index("three (3)")) == 3


@pytest.mark.parametrize("data", [b"hello, not a pdf", b"%PDF-1.4\n garbage without objects"])
def test_unreadable_pdfs_raise_a_format_error(data):
    with pytest.raises(FormatError):
        pdf_text(data)


def test_html_keeps_visible_text_in_paragraphs_and_drops_scripts():
    page = b"""<html><head><title>Penguins</title><style>p { color: red }</style>
    <script>alert("x")</script></head><body>
    <h2>Colony</h2><p>The colony counts   4,500
    birds.</p><p>Caf&eacute; &lt;b&gt; &amp; more<br>next line</p>
    <ul><li>one</li><li>two</li></ul><noscript>enable js</noscript>
    <pre>x = 1
  y = 2</pre><table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr></table>
    <svg><title>icon</title></svg></body></html>"""
    text = html_text(page)
    assert text.split("\n\n") == [
        "# Penguins",
        "## Colony",
        "The colony counts 4,500 birds.",
        "Café <b> & more\nnext line",
        "- one\n- two",
        "x = 1\n  y = 2",
        "a | b\n1 | 2",
    ]
    assert "alert" not in text and "color" not in text and "enable js" not in text
    assert "icon" not in text


def test_html_title_is_not_repeated_when_the_page_opens_with_it():
    assert html_text("<title>Guide</title><h1>Guide</h1><p>Text.</p>") == "# Guide\n\nText."


def test_html_in_a_declared_legacy_charset_is_decoded():
    data = '<meta charset="iso-8859-1"><p>Café</p>'.encode("latin-1")
    assert decode_html(data).endswith("<p>Café</p>")
    assert html_text(data) == "Café"
    with pytest.raises(FormatError):
        decode_html(b"<p>\xff\xfe broken</p>")


def test_read_document_dispatches_on_the_suffix(tmp_path):
    assert {".pdf", ".html", ".htm", ".txt", ".md"} <= set(SUPPORTED)
    (tmp_path / "r.pdf").write_bytes(make_pdf([["Page one."], ["Page two."]]))
    (tmp_path / "p.HTM").write_bytes(b"<p>Hello <script>x()</script>world.</p>")
    (tmp_path / "n.txt").write_text("plain\r\ntext")
    pdf = read_document(tmp_path, "r.pdf")
    assert isinstance(pdf, Document)
    assert pdf.text == "Page one.\n\nPage two." and pdf.pages == (0, 11)
    html = read_document(tmp_path, "p.HTM")
    assert isinstance(html, Document) and html.text == "Hello world." and html.pages == ()
    txt = read_document(tmp_path, "n.txt")
    assert isinstance(txt, Document) and txt.text == "plain\ntext" and txt.pages == ()


def test_unusable_pdf_and_html_are_skipped_with_a_reason(tmp_path):
    (tmp_path / "fake.pdf").write_bytes(b"this is text, not a PDF")
    (tmp_path / "blank.pdf").write_bytes(make_pdf([[], []]))
    (tmp_path / "empty.html").write_bytes(b"<script>only()</script>")
    reasons = {name: read_document(tmp_path, name) for name in ("fake.pdf", "blank.pdf", "empty.html")}
    assert all(isinstance(r, Skipped) for r in reasons.values())
    assert "not a PDF" in reasons["fake.pdf"].reason
    assert "no extractable text" in reasons["blank.pdf"].reason
    assert "no text" in reasons["empty.html"].reason


def test_pdf_pages_reach_the_manifest_and_quotes_point_into_the_extracted_text(tmp_path):
    from qa.engine import Engine
    from qa.indexer import build_index
    from qa.settings import Settings

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "solar.pdf").write_bytes(
        make_pdf(
            [
                ["Solar Report", "The Helios array produced 42 megawatts in March."],
                ["Maintenance", "The Helios array has exactly 1,200 panels on the roof."],
            ]
        )
    )
    (seeds / "notes.md").write_text("# Notes\n\nPenguins live on Zebra Island.\n")
    build_index(seeds, tmp_path / "index", progress=False)
    engine = Engine(seeds, tmp_path / "index", Settings())
    entry = engine.index().manifest["documents"]["solar.pdf"]
    doc = read_document(seeds, "solar.pdf")
    assert entry["pages"] == list(doc.pages) and len(doc.pages) == 2
    assert engine.index().manifest["documents"]["notes.md"]["pages"] == []
    answer = engine.ask("How many panels does the Helios array have?", k=2, sources=["solar.pdf"])
    best = answer.passages[0]
    assert best.source == "solar.pdf" and "1,200 panels" in best.text
    assert doc.text[best.start : best.end] == best.text
    page = best.page if best.page is not None else page_of(entry["pages"], best.start)
    assert page == 2
