"""The chat page: its HTML and upload checks, the API through gradio_client against a running app,
and a real browser (headless Chromium driven by Playwright; skipped when either is missing).

One app per module: started with `qa serve` on a free port over a temporary copy of seeds/.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest
from minipdf import make_pdf

from qa.errors import InvalidSetting, UploadRejected
from qa.render import (
    Turn,
    esc,
    location,
    match_percent,
    render_chat,
    render_passage,
    render_source,
    score_scale,
)
from qa.settings import Settings
from qa.types import Answer, Passage
from qa.ui import check_port, password_auth, resolve_address
from qa.uploads import add_upload, safe_name

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("QA_CHROMIUM", "/usr/bin/chromium")  # Debian's chromium
STARTUP_SECONDS = 240
EVIL = (
    '<script>window.PWNED = 1</script> <img src=x onerror="window.PWNED = 2"> '
    "![pixel](http://127.0.0.1:9/x.png) **bold** ${window.PWNED = 3} `code` [link](javascript:alert(1))"
)


def _passage(text: str = "Intro. The answer is 42. Outro.", **kw) -> Passage:
    start = text.index("The answer")
    args = {
        "text": text,
        "source": "doc.txt",
        "start": 100,
        "end": 100 + len(text),
        "highlight": (start, start + len("The answer is 42.")),
        "score": 0.8,
        "heading": "Facts",
    }
    return Passage(**(args | kw))


# --------------------------------------------------------------------------------- HTML
def test_escaping_makes_html_and_markdown_inert():
    out = esc(EVIL)
    assert "<" not in out and ">" not in out and "[" not in out and "(" not in out
    assert "*" not in out and "`" not in out and "$" not in out and '"' not in out
    assert esc("a & b") == "a &#38; b"


def test_a_passage_is_a_quote_card_with_its_sentence_marked_and_its_citation():
    html = render_passage(_passage(), turn=0, rank=0, where="chars 100–131", score="80% match")
    assert "<blockquote" in html
    assert "<mark>The answer is 42.</mark>" in html
    assert "doc.txt" in html and "Facts" in html and "chars 100–131" in html and "80% match" in html
    assert 'data-qa-action="cite"' in html


def test_document_text_is_shown_never_interpreted():
    text = f"Before. {EVIL} The answer is 42."
    html = render_passage(_passage(text), turn=0, rank=0, where="x")
    assert "<script" not in html and "<img" not in html and "](" not in html
    assert html.count("<mark>") == 1


def test_not_found_replies_say_so_and_follow_ups_show_the_query():
    answer = Answer(question="and its price?", found=False, passages=[_passage()], query="Qwen's price?")
    html = render_chat([Turn(question="and its price?", answer=answer, follow_up=True, pages=["p. 2"])])
    assert "Not in the documents" in html and "closest passages" in html
    assert "Searched:" in html and "Qwen&#39;s price?" in html
    found = Answer(question="q", found=True, passages=[_passage()], query="q")
    assert "Not in the documents" not in render_chat([Turn(question="q", answer=found)])


def test_a_notice_that_explains_the_verdict_comes_after_it():
    why = "the closest passage states no date, which the question asks for"
    answer = Answer(question="When?", found=False, passages=[_passage()], query="When?", notices=(why,))
    html = render_chat([Turn(question="When?", answer=answer)])
    assert html.index("Not in the documents") < html.index(f"Note: {why}") < html.index("<blockquote")


def test_errors_and_the_empty_chat():
    html = render_chat([Turn(question="", error="Type a question about your documents first.")])
    assert "Type a question" in html and "Traceback" not in html
    empty = render_chat([], ["How <b>many</b>?"])
    assert 'data-qa-action="example"' in empty and "<b>" not in empty


def test_locations_use_pages_for_pdfs_and_characters_otherwise():
    p = _passage()
    assert location(p, ()) == "chars 100–131"
    assert location(p, (0, 50, 120)) == "pp. 2–3"
    assert location(p, (0, 50, 500)) == "p. 2"
    assert location(_passage(page=7), ()) == "p. 7"  # a page set by the engine wins


def test_scores_read_as_a_share_of_a_perfect_match():
    scale = score_scale(Settings())
    assert scale >= 1.0
    assert match_percent(scale, scale) == 100
    assert match_percent(-1.0, scale) == 0
    assert 0 < match_percent(scale / 2, scale) < 100


def test_the_source_viewer_marks_the_quote_in_its_document():
    doc = "Intro text.\n\n<b>Page</b> two: The answer is 42. End."
    start = doc.index("The answer")
    p = Passage("The answer is 42.", "r.pdf", start, start + 17, (0, 17), 0.9)
    html = render_source(doc, p, pages=(0, doc.index("<b>")))
    assert '<span class="qa-source-quote" id="qa-source-quote"><mark>The answer is 42.</mark></span>' in html
    assert "page 1" in html and "page 2" in html
    assert "<b>" not in html


# --------------------------------------------------------------------------------- uploads
@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\win.md", "win.md"),
        (".hidden.md", "hidden.md"),
        ("we:ird*na?me<>|.HTML", "we_ird_na_me.html"),
        ("   .txt", "document.txt"),
        ("notes\x00.md", "notes.md"),
    ],
)
def test_upload_names_are_sanitized(name, safe):
    assert safe_name(name) == safe


@pytest.mark.parametrize("name", ["run.exe", "archive.tar.gz", "noext", "page.php"])
def test_unsupported_upload_types_are_refused(name):
    with pytest.raises(UploadRejected, match="only"):
        safe_name(name)


def test_bad_uploads_change_nothing(tmp_path, monkeypatch):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "keep.md").write_text("# Keep\n\nThis stays.\n")
    before = sorted(p.name for p in seeds.iterdir())
    cases = {
        "binary.txt": (b"\x00\x01\x02 binary", "binary"),
        "latin.txt": ("café".encode("latin-1"), "UTF-8"),
        "empty.md": (b"", "empty"),
        "fake.pdf": (b"not a pdf at all", "not a PDF"),
        "big.txt": (b"x" * 3000, "up to"),
    }
    monkeypatch.setenv("QA_MAX_UPLOAD_MB", "0.002")  # about 2 KB
    for name, (data, why) in cases.items():
        upload = tmp_path / name
        upload.write_bytes(data)
        with pytest.raises(UploadRejected, match=why):
            add_upload(seeds, upload)
    assert sorted(p.name for p in seeds.iterdir()) == before


def test_a_good_upload_lands_in_the_corpus_under_its_safe_name(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    upload = tmp_path / "in.md"
    upload.write_text("# Title\n\nA fact.\n")
    assert add_upload(seeds, upload, "../My Notes!.md") == ("My Notes.md", False)
    assert (seeds / "My Notes.md").read_text() == "# Title\n\nA fact.\n"
    assert add_upload(seeds, upload, "My Notes!.md") == ("My Notes.md", True)
    assert [p.name for p in seeds.iterdir()] == ["My Notes.md"]  # no staging file left behind


def test_a_taken_port_is_refused_before_indexing_with_what_to_do(tmp_path, capsys):
    import socket

    from qa.cli import main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(InvalidSetting, match="choose another port with --port N"):
            check_port("127.0.0.1", port)
        # The command says so and stops, without indexing the folder first.
        (tmp_path / "seeds").mkdir()
        (tmp_path / "seeds" / "a.txt").write_text("Lava cools into basalt.")
        args = [
            "serve",
            "--port",
            str(port),
            "--seeds-dir",
            str(tmp_path / "seeds"),
            "--index-dir",
            str(tmp_path / "index"),
        ]
        assert main(args) == 2
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err
    assert not (tmp_path / "index").exists()
    check_port("127.0.0.1", port)  # free again once the other server is gone


def test_address_and_password_come_from_arguments_or_the_environment(monkeypatch):
    monkeypatch.delenv("QA_HOST", raising=False)
    monkeypatch.delenv("QA_PORT", raising=False)
    assert resolve_address(None, None) == ("127.0.0.1", 7860)
    monkeypatch.setenv("QA_HOST", "0.0.0.0")
    monkeypatch.setenv("QA_PORT", "8001")
    assert resolve_address(None, None) == ("0.0.0.0", 8001)
    assert resolve_address("127.0.0.1", 9000) == ("127.0.0.1", 9000)
    monkeypatch.setenv("QA_PORT", "http")
    with pytest.raises(ValueError, match="port"):
        resolve_address(None, None)
    monkeypatch.delenv("QA_PASSWORD", raising=False)
    assert password_auth() is None
    monkeypatch.setenv("QA_PASSWORD", "s3cret")
    check = password_auth()
    assert check("qa", "s3cret") and check("anyone", "s3cret") and not check("qa", "wrong")


def test_the_page_logic_adds_asks_and_removes_documents(tmp_path):
    from qa.ui import ChatApp

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "apples.md").write_text("# Apples\n\nApples from the north orchard are red and sweet.\n")
    app = ChatApp(seeds, tmp_path / "index", feedback_path=tmp_path / "fb.jsonl", examples=[])
    assert app.documents() == ["apples.md"]

    good = tmp_path / "bananas.txt"
    good.write_text("Bananas from the south farm turn yellow in June.")
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"nope")
    lines, added = app.add_files([str(good), str(bad)])
    assert added == ["bananas.txt"]
    assert ("ok", "bananas.txt added.") in lines
    assert any(kind == "error" and "broken.pdf was not added" in text for kind, text in lines)
    assert app.documents() == ["apples.md", "bananas.txt"]

    turn = app.turn_for("When do bananas turn yellow?", [], 3, ["bananas.txt"])
    assert turn.answer.passages[0].source == "bananas.txt" and turn.pages[0].startswith("chars")
    follow = app.turn_for("and where do they grow?", [turn], 3, None)
    assert follow.follow_up and follow.answer.query != follow.answer.question
    assert app.turn_for("   ", [], 3, None).error == "Type a question about your documents first."
    assert "No document is selected" in app.turn_for("bananas?", [], 3, []).error

    assert "must remain" in app.remove(["apples.md", "bananas.txt"])[0][1]
    assert "Not in the documents folder" in app.remove(["../fb.jsonl"])[0][1]
    assert ("ok", "Removed apples.md.") in app.remove(["apples.md"])
    assert not (seeds / "apples.md").exists() and app.documents() == ["bananas.txt"]


# --------------------------------------------------------------------------------- the app
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory, subprocess_env):
    """`qa serve` on a free port over a copy of seeds/, stopped after the module."""
    base = tmp_path_factory.mktemp("ui")
    seeds = base / "seeds"
    shutil.copytree(ROOT / "seeds", seeds)
    port = _free_port()
    env = dict(subprocess_env, GRADIO_ANALYTICS_ENABLED="False")
    env.pop("QA_PASSWORD", None)
    log = open(base / "server.log", "w")  # noqa: SIM115 - closed at teardown
    proc = subprocess.Popen(
        [sys.executable, "-m", "qa.cli", "serve", "--seeds-dir", str(seeds), "--index-dir",
         str(base / "index"), "--port", str(port), "--feedback", str(base / "feedback.jsonl")],
        cwd=base, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + STARTUP_SECONDS
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"the app exited ({proc.returncode}):\n{(base / 'server.log').read_text()[-3000:]}"
                )
            try:
                with urllib.request.urlopen(url, timeout=5) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the app did not start in {STARTUP_SECONDS}s")
            time.sleep(0.5)
        yield SimpleNamespace(url=url, seeds=seeds, feedback=base / "feedback.jsonl", base=base)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def client(server):
    from gradio_client import Client

    return Client(server.url, verbose=False)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no browser: {CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install playwright)")
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield b
        finally:
            b.close()


MS = 1000  # Playwright waits are in milliseconds


def _open(browser, server, width=1280, height=860):
    page = browser.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(60 * MS)
    page.goto(server.url)
    page.wait_for_selector("#qa-chat .qa-empty")
    page.wait_for_selector("#qa-docs .qa-docs-count")
    return page


def _wait_answered(page, turns: int) -> None:
    page.wait_for_function(
        "n => document.querySelectorAll('#qa-chat .qa-turn').length === n"
        " && !document.querySelector('#qa-chat .qa-pending')",
        arg=turns,
    )


# The browser's first test runs before any upload, so the screenshot shows the bundled corpus.
def test_browser_asks_sees_the_highlight_opens_a_citation_and_takes_the_screenshot(browser, server, tmp_path):
    page = _open(browser, server)
    try:
        # An example question on the empty chat asks it.
        page.click("#qa-chat .qa-example >> nth=0")
        _wait_answered(page, 1)
        first = page.locator("#qa-chat .qa-passage").first
        assert first.locator("blockquote mark").inner_text().strip()
        assert "alibaba-qwen-platform.txt" in first.locator(".qa-cite").inner_text()
        assert "% match" in first.locator(".qa-score").inner_text()

        page.fill("#qa-question textarea", "and how many models did it release?")
        page.keyboard.press("Enter")
        _wait_answered(page, 2)
        searched = page.locator("#qa-chat .qa-turn").nth(1).locator(".qa-searched").inner_text()
        assert "Searched:" in searched and "Qwen" in searched
        page.evaluate(
            "document.querySelector('#qa-chat .qa-turn').scrollIntoView({block: 'start'});"
            "window.scrollTo(0, 0)"
        )
        time.sleep(0.4)
        # QA_SCREENSHOT=1 refreshes the README's picture; otherwise a test run changes no file.
        shot = ROOT / "docs" / "screenshot.png" if os.environ.get("QA_SCREENSHOT") else tmp_path / "shot.png"
        page.screenshot(path=str(shot))
        assert shot.stat().st_size > 10_000

        # A citation opens the source viewer with the quote marked inside its document.
        quote = first.locator("blockquote mark").inner_text().strip()
        first.locator(".qa-cite").click()
        page.wait_for_selector("#qa-viewer #qa-source-quote mark")
        assert page.locator("#qa-viewer #qa-source-quote mark").inner_text().strip() == quote
        assert page.locator("#qa-viewer .qa-source-text").inner_text().count("\n") > 10  # whole doc
        page.click("#qa-viewer-close")
        page.wait_for_selector("#qa-viewer", state="hidden")

        # "Wrong" asks for the expected passage, which must be a quote from a document.
        page.locator("#qa-chat .qa-turn").nth(1).locator("[data-verdict=wrong]").click()
        page.wait_for_selector("#qa-expected textarea")
        page.fill("#qa-expected textarea", "Qwen was released on the Moon.")
        page.click("#qa-wrong-save")
        page.wait_for_selector("#qa-wrong .qa-error")
        assert "not found in any document" in page.locator("#qa-wrong .qa-error").inner_text()
        page.fill("#qa-expected textarea", "Alibaba has open-sourced over 300 models")
        page.click("#qa-wrong-save")
        page.wait_for_selector("#qa-chat .qa-feedback-done")
        saved = [json.loads(line) for line in server.feedback.read_text().splitlines()]
        assert saved[-1]["question"] == "How many models did Qwen release?"
        assert saved[-1]["evidence"] == ["Alibaba has open-sourced over 300 models"]

        # A blank question is a friendly message, never a traceback.
        page.fill("#qa-question textarea", "   ")
        page.click("#qa-send")
        page.wait_for_selector("#qa-chat .qa-error")
        error = page.locator("#qa-chat .qa-error").inner_text()
        assert "Type a question" in error and "Traceback" not in page.content()
    finally:
        page.close()


def test_browser_layout_fits_a_phone(browser, server):
    page = _open(browser, server, width=390, height=844)
    try:
        page.fill("#qa-question textarea", "How many customers does Qwen have?")
        page.click("#qa-send")
        _wait_answered(page, 1)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1
        assert page.locator("#qa-send").is_visible()
    finally:
        page.close()


def test_api_ask_returns_the_structured_answer(client, server):
    out = client.predict(question="How many customers does Qwen have?", k=3, api_name="/ask")
    assert out["found"] is True and out["follow_up"] is False
    assert 1 <= len(out["passages"]) <= 3
    text = (server.seeds / "alibaba-qwen-platform.txt").read_text(encoding="utf-8")
    for p in out["passages"]:
        assert text[p["start"] : p["end"]] == p["text"]
        a, b = p["highlight"]
        assert p["text"][a:b] == p["highlighted"]
        assert 0 <= p["match"] <= 100 and p["location"] == f"chars {p['start']}–{p['end']}"
    assert any("290,000" in p["text"] for p in out["passages"])


def test_api_follow_up_searches_with_the_previous_context(client):
    first = client.predict(question="How many customers does Qwen have?", api_name="/ask")
    out = client.predict(
        question="and how many models did it release?", previous=first["query"], api_name="/ask"
    )
    assert out["follow_up"] is True
    assert out["question"] == "and how many models did it release?"
    assert out["query"] == "How many models did Qwen release?"
    assert any("300 models" in p["text"] for p in out["passages"])


def test_api_errors_are_friendly_messages(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="Type a question") as info:
        client.predict(question="   ", api_name="/ask")
    assert "Traceback" not in str(info.value)
    with pytest.raises(AppError, match="(?i)no document is selected"):
        client.predict(question="customers?", sources=[], api_name="/ask")


def test_api_upload_indexes_new_documents_with_page_citations(client, server, tmp_path):
    from gradio_client import handle_file

    note = tmp_path / "zoo notes.md"
    note.write_text("# Zoo\n\nThe zebra named Ziggy has lived in the Oslo zoo since 2011.\n")
    report = tmp_path / "solar.pdf"
    report.write_bytes(
        make_pdf(
            [
                ["Solar Report", "The Helios array produced 42 megawatts in March."],
                ["Maintenance", "The Helios array has exactly 1,200 panels on the roof."],
            ]
        )
    )
    status, docs, *_ = client.predict(files=[handle_file(note), handle_file(report)], api_name="/upload")
    assert "zoo notes.md added" in status and "solar.pdf added" in status and "Indexed" in status
    assert (server.seeds / "zoo notes.md").is_file() and (server.seeds / "solar.pdf").is_file()
    assert "solar.pdf" in docs and "2 pages" in docs

    out = client.predict(question="Where does Ziggy the zebra live?", api_name="/ask")
    assert out["passages"][0]["source"] == "zoo notes.md"
    assert "Oslo" in out["passages"][0]["highlighted"]
    out = client.predict(
        question="How many panels does the Helios array have?", sources=["solar.pdf"], api_name="/ask"
    )
    best = out["passages"][0]
    assert best["source"] == "solar.pdf" and "1,200" in best["text"]
    assert best["page"] == 2 and best["location"] == "p. 2"
    listed = client.predict(api_name="/documents")
    assert {d["id"]: d["pages"] for d in listed["indexed"]}["solar.pdf"] == 2


def test_api_bad_upload_gets_a_message_and_changes_nothing(client, server, tmp_path):
    from gradio_client import handle_file

    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"this is not a PDF")
    binary = tmp_path / "blob.txt"
    binary.write_bytes(b"\x00\x01\x02\x03")
    before = sorted(p.name for p in server.seeds.iterdir())
    status, *_ = client.predict(files=[handle_file(bad), handle_file(binary)], api_name="/upload")
    assert "broken.pdf was not added" in status and "not a PDF" in status
    assert "blob.txt was not added" in status and "binary" in status
    assert sorted(p.name for p in server.seeds.iterdir()) == before


def test_api_feedback_grows_a_gold_set(client, server):
    from qa.evaluate import load_gold

    wrong = client.predict(
        question="When did Alibaba start open-sourcing models?",
        verdict="wrong",
        expected="Since August 2023, Alibaba has open-sourced over 300 models",
        api_name="/feedback",
    )
    assert wrong["evidence"] == ["Since August 2023, Alibaba has open-sourced over 300 models"]
    assert wrong["answerable"] is True
    helpful = client.predict(
        question="How many customers does Qwen have?", verdict="helpful", api_name="/feedback"
    )
    assert helpful["answerable"] is True and len(helpful["evidence"]) == 1
    gold = load_gold(server.feedback)
    assert [g.id for g in gold[-2:]] == [wrong["id"], helpful["id"]]
    assert gold[-2].question == "When did Alibaba start open-sourcing models?"

    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="not found in any document"):
        client.predict(
            question="customers?", verdict="wrong", expected="Qwen runs on the Moon.", api_name="/feedback"
        )
    assert len(load_gold(server.feedback)) == len(gold)


def test_browser_upload_is_indexed_and_rendered_harmlessly(browser, server, tmp_path):
    page = _open(browser, server)
    try:
        evil = tmp_path / "penguins.html"
        evil.write_text(
            "<html><head><title>Penguins</title><script>window.PWNED = 9</script></head><body>"
            f"<p>The penguin colony on Zebra Island counts 4,500 birds. {EVIL.replace('<', '&lt;')}</p>"
            "</body></html>",
            encoding="utf-8",
        )
        page.set_input_files("#qa-upload input[type=file]", str(evil))
        page.wait_for_function(
            "document.querySelector('#qa-status') && "
            "document.querySelector('#qa-status').innerText.includes('Indexed')"
        )
        assert "penguins.html" in page.locator("#qa-docs").inner_text()
        assert "penguins.html" in page.locator("#qa-sources").inner_text()

        page.fill("#qa-question textarea", "How many birds live in the penguin colony?")
        page.click("#qa-send")
        _wait_answered(page, 1)
        first = page.locator("#qa-chat .qa-passage").first
        assert "penguins.html" in first.locator(".qa-cite").inner_text()
        shown = first.locator("blockquote").inner_text()
        assert "<script>window.PWNED = 1</script>" in shown and "![pixel]" in shown
        assert page.evaluate("typeof window.PWNED") == "undefined"
        assert page.locator("#qa-chat img").count() == 0

        # Feedback from the page lands in the feedback file.
        lines_before = server.feedback.read_text().count("\n") if server.feedback.exists() else 0
        page.locator("#qa-chat [data-verdict=helpful]").first.click()
        page.wait_for_selector("#qa-chat .qa-feedback-done")
        assert server.feedback.read_text().count("\n") == lines_before + 1
    finally:
        page.close()
