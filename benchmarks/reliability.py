"""Reliability figures: bad input, faults and load, with nothing lost.

    python benchmarks/reliability.py            # the README's figures (a few minutes on 2 cores)
    python benchmarks/reliability.py --quick    # fewer rounds and sessions

It works in a temporary folder, on a copy of ``seeds/`` plus two small documents of its own, and
checks every answer against the ones the intact index gave at the start:

- **bad input**: questions (empty, blank, ``None``, 100 KB, control characters, emoji, CJK,
  right-to-left, markdown, HTML, ...) through ``ask()`` and through the chat page's logic;
  documents (empty, binary, invalid UTF-8, a 10 MB single line, duplicates, links outside the
  corpus, a link loop, a named pipe, an unreadable file, a name that is not UTF-8, ...); corpus
  folders that are missing, empty or hold their own index; uploads with hostile names, types
  and sizes; document text that is HTML, script or markdown.
- **faults**: builds SIGKILLed at random moments and at each step of a save; damaged index
  files (flipped bytes, truncation, deletion, files and manifests swapped between generations,
  a manifest of another model or dimension, pickle payloads); a read-only index folder (the
  build runs as ``nobody`` when this runs as root, whom permissions do not stop); a disk that
  fills up (``RLIMIT_FSIZE``). Builds run in children forked from a harness process that has
  the model loaded but never ran it (torch cannot run in a child forked after it has run), so a
  round costs a build, not a Python start.
- **load**: ``ask()`` from 8 threads against serial answers; answering while another process
  rebuilds; the chat app (``python app.py``) on 127.0.0.1 with 60 concurrent sessions over
  HTTP, its address, and its password.

"data lost" counts every answer that differs from the intact index's, every good document
missing from an index and every index that did not load after a fault. The tests in
``tests/test_reliability.py`` run a small subset of the same checks.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import random
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

log = logging.getLogger("qa")

# --------------------------------------------------------------------------------- the corpus
# Two documents of our own next to the seed article: one in a subfolder, one in three scripts.
GOOD_DOCS = {
    "notes/lighthouse.md": (
        "# The north lighthouse\n\n"
        "The keeper of the north lighthouse counted 4,211 ships in 2023. Most of them were "
        "fishing boats from the harbour town.\n\n"
        "The lamp was converted to LED light in 2019. It can be seen from 22 nautical miles.\n"
    ),
    "multilingual.md": (
        "# 多语言 · متعدد اللغات\n\n"
        "灯塔管理员在2023年数了4211艘船。\n\n"
        "أحصى حارس المنارة 4211 سفينة في عام 2023.\n\n"
        "The rocket emoji 🚀 marks the launch of the orchard app in May 2021.\n"
    ),
}
# Questions whose answers are compared before and after every fault (the first three are the
# chat page's examples for the seed article).
QUESTIONS = (
    "How many customers does Qwen have?",
    "How many models has Alibaba open-sourced?",
    "How fast are API calls growing?",
    "How many ships did the keeper of the north lighthouse count?",
    "When was the lamp converted to LED light?",
)
TINY_QUESTIONS = QUESTIONS[3:]
# The tests use a tiny corpus (the two documents above and this one), cheap to rebuild.
TINY_DOCS = {
    **GOOD_DOCS,
    "orchard.txt": (
        "Orchard notes\n\nThe orchard holds 40 apple trees and 12 pear trees. Apples are picked "
        "in September. The pears ripen two weeks later.\n"
    ),
}

EVIL = (
    '<script>window.PWNED = 1</script> <img src=x onerror="window.PWNED = 2"> '
    "![pixel](http://127.0.0.1:9/x.png) **bold** [link](javascript:alert(1))"
)


def write_corpus(folder: Path, docs: dict[str, str], *, seeds: bool = False) -> Path:
    """A corpus folder: the given documents, plus a copy of seeds/ when asked."""
    folder.mkdir(parents=True, exist_ok=True)
    if seeds:
        for path in sorted((REPO / "seeds").iterdir()):
            if path.is_file() and not path.name.startswith("."):
                shutil.copyfile(path, folder / path.name)  # a copy, writable (seeds/ is not)
    for name, text in docs.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return folder


def snapshot(answer: Any) -> list[tuple]:
    """What must not change: each passage's source, offsets and text, in order."""
    return [(p.source, p.start, p.end, p.text) for p in answer.passages]


def verbatim(seeds: Path, answer: Any) -> bool:
    """Every passage is exactly the text at its offsets in its document."""
    from qa.documents import Skipped, read_document

    for p in answer.passages:
        doc = read_document(seeds, p.source)
        if isinstance(doc, Skipped) or doc.text[p.start : p.end] != p.text:
            return False
    return True


# --------------------------------------------------------------------------------- figures
@dataclass
class Tally:
    """Every check, by kind, with what went wrong."""

    inputs: int = 0
    inputs_ok: int = 0
    faults: int = 0
    faults_ok: int = 0
    requests: int = 0
    errors: int = 0
    lost: int = 0
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    sections: dict[str, list[int]] = field(default_factory=dict)  # name -> [tried, ok]
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _section(self, name: str, ok: bool) -> None:
        tried_ok = self.sections.setdefault(name, [0, 0])
        tried_ok[0] += 1
        tried_ok[1] += ok

    def input(self, section: str, name: str, ok: bool, why: str = "") -> bool:
        with self.lock:
            self.inputs += 1
            self.inputs_ok += ok
            self._section(section, ok)
            if not ok:
                self.failures.append(f"[{section}] {name}: {why}")
        return ok

    def fault(self, section: str, name: str, ok: bool, why: str = "", lost: int = 0) -> bool:
        with self.lock:
            self.faults += 1
            self.faults_ok += ok
            self.lost += lost
            self._section(section, ok)
            if not ok:
                self.failures.append(f"[{section}] {name}: {why}")
        return ok

    def served(self, section: str, ok: bool, why: str = "", ms: float | None = None, lost: int = 0) -> None:
        with self.lock:
            self.requests += 1
            self.errors += not ok
            self.lost += lost
            self._section(section, ok)
            if ms is not None:
                self.latencies_ms.append(ms)
            if not ok and len(self.failures) < 200:
                self.failures.append(f"[{section}] {why}")

    def loss(self, section: str, n: int, why: str) -> None:
        with self.lock:
            self.lost += n
            if n:
                self.failures.append(f"[{section}] data lost: {why}")


@contextlib.contextmanager
def captured_warnings() -> Iterator[list[str]]:
    """The warnings the library logs meanwhile."""
    messages: list[str] = []

    class Grab(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    handler = Grab(level=logging.WARNING)
    level = log.level
    log.setLevel(logging.WARNING)  # whatever the root logger lets through
    log.addHandler(handler)
    try:
        yield messages
    finally:
        log.removeHandler(handler)
        log.setLevel(level)


# --------------------------------------------------------------------------------- bad questions
BAD_QUESTIONS: list[tuple[str, Any, str]] = [
    # (name, question, expected: "error" = a clear EmptyQuestion, "answer", "cut" = answer + notice)
    ("empty", "", "error"),
    ("whitespace", " \t\n\r  ", "error"),
    ("None", None, "error"),
    ("a number", 42, "error"),
    ("bytes", b"How many ships?", "error"),
    ("zero-width spaces only", "\u200b\u200b\ufeff", "error"),
    ("control characters only", "\x00\x01\x07\x1b", "error"),
    ("100 KB long", "How many ships did the keeper count? " * 2800, "cut"),
    ("100 KB without spaces", "x" * 100_000, "cut"),
    ("control characters", "\x00How many\x07 ships\x1b[31m did the keeper count?\x7f", "answer"),
    ("emoji only", "🚀🔥👍", "answer"),
    ("emoji in words", "🚀 when was the orchard app launched? 👍", "answer"),
    ("CJK", "灯塔管理员数了多少艘船？", "answer"),
    ("right-to-left", "كم عدد السفن التي أحصاها حارس المنارة؟", "answer"),
    ("right-to-left override", "\u202ehow many ships\u202c did the keeper count?", "answer"),
    ("markdown", "**How many** _ships_? ![x](http://127.0.0.1:9/x.png) [a](javascript:alert(1))", "answer"),
    ("HTML", '<script>alert(1)</script><img src=x onerror="alert(2)"> how many ships?', "answer"),
    ("stop words only", "how many?", "answer"),
    ("punctuation only", "?!?...", "answer"),
    ("lone surrogate", "how many ships\ud800?", "answer"),
    ("SQL and shell", "'; DROP TABLE chunks; -- $(rm -rf /) `id`", "answer"),
]


def check_bad_questions(tally: Tally, seeds: Path, index: Path, settings: Any) -> None:
    """Each bad question gets an answer of verbatim quotes or a clear message, never a crash."""
    from qa import ask
    from qa.errors import EmptyQuestion
    from qa.render import render_chat
    from qa.ui import ChatApp

    app = ChatApp(seeds, index, settings, feedback_path=index.parent / "feedback.jsonl", examples=[])
    for name, question, expected in BAD_QUESTIONS:
        try:
            answer = ask(question, k=3, seeds_dir=seeds, index_dir=index, settings=settings)
        except EmptyQuestion as exc:
            ok = expected == "error" and bool(str(exc))
            tally.input("questions", name, ok, f"refused ({exc}), expected {expected}")
        except Exception as exc:
            tally.input("questions", name, False, f"{type(exc).__name__}: {exc}")
        else:
            ok = expected != "error" and bool(answer.passages) and verbatim(seeds, answer)
            cut = any("cut" in n for n in answer.notices)
            ok = ok and cut == (expected == "cut")
            tally.input("questions", name, ok, f"answer {snapshot(answer)[:1]} notices {answer.notices}")
        # The same question typed on the page: a turn with an answer or a message, shown as text.
        try:
            turn = app.turn_for(question, [], 3, None)
            html = render_chat([turn])
            inert = "<script" not in html and "<img" not in html and "](" not in html
            ok = inert and "Traceback" not in html and (turn.answer is not None or bool(turn.error))
            ok = ok and (turn.error == "") == (expected != "error")
            tally.input("questions (chat page)", name, ok, f"error={turn.error!r} inert={inert}")
        except Exception as exc:
            tally.input("questions (chat page)", name, False, f"{type(exc).__name__}: {exc}")


# --------------------------------------------------------------------------------- bad documents
# A 10 MB line as a log or data dump writes it: no spaces, no sentence ends, repeated records.
LOG_RECORD = '{"ts":"2024-05-01T12:00:00Z","level":"info","svc":"gateway","msg":"heartbeat ok"},'


def ten_mb_line(path: Path, size: int = 10 * 1024 * 1024) -> None:
    unit = LOG_RECORD.encode()
    path.write_bytes(unit * (size // len(unit)) + b"\n")


def write_bad_documents(folder: Path, outside: Path, big_line_bytes: int) -> dict[str, str]:
    """Bad files in a corpus folder; returns name -> what must happen ("skipped", "warned", "indexed").

    "skipped": in the index's skipped list with a reason; "warned": left out by the scan with a
    warning naming it; "indexed": indexed like any document.
    """
    expect: dict[str, str] = {}

    def put(name: str, data: bytes, what: str) -> None:
        (folder / name).write_bytes(data)
        expect[name] = what

    put("empty.txt", b"", "skipped")
    put("blank.md", b"  \n\n\t \n", "skipped")
    put("binary.txt", bytes(range(256)) * 64, "skipped")
    put("latin-1.txt", "Café crème, naïve façade.\n".encode("latin-1") * 20, "skipped")
    put("program.exe", b"MZ\x90\x00" + bytes(200), "skipped")
    put("broken.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog", "skipped")
    put("not-a.pdf", b"plain text with a .pdf name\n", "skipped")
    put("script-only.html", b"<html><script>alert(1)</script><style>p{}</style></html>", "skipped")
    put("bom-crlf.txt", "\ufeffWindows notes.\r\nThe ferry leaves at 7:15.\r\n".encode(), "indexed")
    put("evil.md", f"# Tricks\n\nThe secret ferry code is 8841. {EVIL}\n".encode(), "indexed")
    ten_mb_line(folder / "one-line.log.txt", big_line_bytes)
    expect["one-line.log.txt"] = "indexed"
    # The same content as a good document, under another name.
    dup_of = next(p for p in sorted(folder.rglob("*.md")) if p.name == "lighthouse.md")
    shutil.copyfile(dup_of, folder / "lighthouse-copy.md")
    expect["lighthouse-copy.md"] = "indexed"
    outside.write_text("A secret outside the corpus: the vault code is 5550.\n")
    os.symlink(outside, folder / "outside-link.txt")
    expect["outside-link.txt"] = "warned"
    os.symlink("loop-b.txt", folder / "loop-a.txt")
    os.symlink("loop-a.txt", folder / "loop-b.txt")
    expect["loop-a.txt"] = expect["loop-b.txt"] = "warned"
    os.symlink("nowhere.txt", folder / "dangling.txt")
    expect["dangling.txt"] = "warned"
    os.mkfifo(folder / "pipe.txt")
    expect["pipe.txt"] = "warned"
    with open(os.path.join(os.fsencode(folder), b"caf\xe9-latin1-name.txt"), "wb") as fh:
        fh.write(b"A file whose name is not UTF-8.\n")
    expect["caf\udce9-latin1-name.txt"] = "warned"
    return expect


def check_bad_documents(
    tally: Tally,
    base: Path,
    clean_seeds: Path,
    clean_index: Path,
    settings: Any,
    big_line_bytes: int,
    *,
    unique_line: bool = True,
) -> None:
    """Each bad file is skipped or indexed with a warning naming it; the good documents stay."""
    from qa import build_index, store

    seeds = base / "bad-seeds"
    shutil.copytree(clean_seeds, seeds)  # same sizes and mtimes: the clean vectors are reused
    index = base / "bad-index"
    shutil.copytree(clean_index, index)
    expect = write_bad_documents(seeds, base / "outside.txt", big_line_bytes)
    good = sorted(store.load(clean_index).manifest["documents"])
    t0 = time.perf_counter()
    try:
        with captured_warnings() as warnings:
            report = build_index(seeds, index, settings=settings, progress=False)
    except Exception as exc:
        for name in expect:
            tally.input("documents", name, False, f"the build failed: {type(exc).__name__}: {exc}")
        tally.loss("documents", len(good), "the corpus with bad files was not indexed")
        return
    seconds = time.perf_counter() - t0
    loaded = store.load(index)
    docs, skipped = loaded.manifest["documents"], loaded.manifest["skipped"]
    said = "\n".join(warnings)
    for name, what in expect.items():
        if what == "skipped":
            ok = name in skipped and bool(skipped[name].get("reason")) and name in said
            why = f"skipped={skipped.get(name)} warned={name in said}"
        elif what == "warned":
            shown = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            ok = name not in docs and name not in skipped and shown in said
            why = f"indexed={name in docs} warned={name in said}"
        else:
            ok = name in docs
            why = f"indexed={name in docs}"
        tally.input("documents", name, ok, why)
    # Duplicates: both indexed, a warning names both, and no answer shows a quote twice.
    dup_named = any("lighthouse-copy.md" in w and "notes/lighthouse.md" in w for w in warnings)
    tally.input("documents", "duplicate named in a warning", dup_named, "no warning names both copies")
    lost = [d for d in good if d not in docs]
    tally.loss("documents", len(lost), f"good documents not indexed: {lost}")
    # The 10 MB line: bounded chunks, and indexed in reasonable time.
    big = [c for c in loaded.chunks if c.doc_id == "one-line.log.txt"]
    longest = max((len(c.text) for c in big), default=0)
    tally.input(
        "documents", "10 MB line: bounded chunks", bool(big) and longest <= 4096, f"longest chunk {longest}"
    )
    tally.input("documents", "10 MB line: build time", seconds < 240, f"{seconds:.0f}s")
    note = f"{report.documents} documents, {len(big)} chunks from the 10 MB line, built in {seconds:.0f}s"
    if unique_line:
        note += "; " + check_unique_line(tally, big_line_bytes, settings)
    tally.notes.append(note)
    # Answers still come, a shared quote is shown once, and document HTML stays text.
    check_answers_on(tally, "documents", seeds, index, settings)
    check_rendering(tally, seeds, index, settings)


def check_unique_line(tally: Tally, size: int, settings: Any) -> str:
    """A line of unique words as long as the 10 MB one: the chunker's pieces stay bounded.

    Embedding its ~20k chunks is the model's cost, proportional to the amount of text (a 10 MB
    book costs the same), so it is estimated from a sample rather than run.
    """
    from qa.chunking import chunk_document
    from qa.types import Document

    rng = random.Random(7)
    words = [
        "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
        for _ in range(4000)
    ]
    text = " ".join(rng.choice(words) for _ in range(size // 6))[:size]
    t0 = time.perf_counter()
    chunks = chunk_document(
        Document("unique.txt", "unique.txt", text, "0"), chunk_tokens=settings.chunk_tokens
    )
    seconds = time.perf_counter() - t0
    longest = max(len(c.text) for c in chunks)
    ok = longest <= 4096 and seconds < 120 and chunks[-1].end >= len(text.rstrip()) - 1
    tally.input(
        "documents", "10 MB line of unique words: chunked", ok, f"{len(chunks)} chunks, longest {longest}"
    )
    # What embedding them all would cost, from a sample (the chunk text is also its only sentence,
    # which the indexer embeds once).
    from qa.embedding import get_embedder

    sample = [c.embed_text for c in chunks[:: max(1, len(chunks) // 128)][:128]]
    t1 = time.perf_counter()
    get_embedder(settings.model, settings.batch_size).encode(sample)
    rate = len(sample) / (time.perf_counter() - t1)
    return (
        f"10 MB of unique words on one line: {len(chunks)} chunks (longest {longest} chars) in "
        f"{seconds:.1f}s; embedding them would take ~{len(chunks) / rate / 60:.0f} min at the "
        f"{rate:.0f} chunks/s measured on a sample"
    )


def check_answers_on(tally: Tally, section: str, seeds: Path, index: Path, settings: Any) -> None:
    from qa.engine import Engine

    engine = Engine(seeds, index, settings)
    for q in QUESTIONS:
        try:
            answer = engine.ask(q, k=5)
        except Exception as exc:
            tally.input(section, f"ask {q!r}", False, f"{type(exc).__name__}: {exc}")
            continue
        texts = [" ".join(p.text.split()) for p in answer.passages]
        ok = bool(answer.passages) and verbatim(seeds, answer) and len(texts) == len(set(texts))
        tally.input(section, f"ask {q!r}", ok, f"passages {snapshot(answer)[:2]}")


def check_rendering(tally: Tally, seeds: Path, index: Path, settings: Any) -> None:
    """A document holding script, HTML and markdown is shown as text, in the chat and the viewer."""
    from qa.render import render_chat
    from qa.ui import ChatApp

    app = ChatApp(seeds, index, settings, feedback_path=index.parent / "fb.jsonl", examples=[])
    turn = app.turn_for("What is the secret ferry code?", [], 3, ["evil.md"])
    html = render_chat([turn])
    viewer = app.source_html(turn.answer.passages[0]) if turn.answer and turn.answer.passages else ""
    for name, out in (("chat", html), ("source viewer", viewer)):
        inert = bool(out) and not any(s in out for s in ("<script", "<img", "](", "javascript:alert(1))"))
        tally.input("security", f"document HTML/script/markdown in the {name}", inert, out[:200])


def check_corpus_folders(tally: Tally, base: Path, settings: Any) -> None:
    """A missing or empty corpus folder, and an index folder inside the corpus."""
    from qa import ask, build_index
    from qa.errors import CorpusNotFound, EmptyCorpus

    for name, folder, error in (
        ("missing corpus folder", base / "no-such-folder", CorpusNotFound),
        ("empty corpus folder", base / "empty-corpus", EmptyCorpus),
        ("corpus of bad files only", base / "only-bad", EmptyCorpus),
    ):
        if name != "missing corpus folder":
            folder.mkdir()
        if name == "corpus of bad files only":
            (folder / "empty.txt").write_bytes(b"")
            (folder / "binary.txt").write_bytes(bytes(range(256)))
        try:
            ask(
                "How many ships?",
                seeds_dir=folder,
                index_dir=base / f"index-{folder.name}",
                settings=settings,
            )
            tally.input("corpus folders", name, False, "no error")
        except error as exc:
            message = str(exc)
            ok = str(folder) in message or folder.name in message
            ok = ok and ("seeds-dir" in message or "add documents" in message)
            tally.input("corpus folders", name, ok, message)
        except Exception as exc:
            tally.input("corpus folders", name, False, f"{type(exc).__name__}: {exc}")
    # The index inside the corpus folder: its files are not documents, and asking twice does
    # not rebuild.
    seeds = write_corpus(base / "self-indexed", TINY_DOCS)
    index = seeds / "index"
    try:
        first = build_index(seeds, index, settings=settings, progress=False)
        gen = first.generation
        ask(TINY_QUESTIONS[0], seeds_dir=seeds, index_dir=index, settings=settings)
        ask(TINY_QUESTIONS[1], seeds_dir=seeds, index_dir=index, settings=settings)
        from qa import store

        live = store.load(index)
        own = [d for d in [*live.manifest["documents"], *live.manifest["skipped"]] if d.startswith("index/")]
        ok = live.generation == gen and not own
        tally.input(
            "corpus folders",
            "index folder inside the corpus",
            ok,
            f"rebuilt={live.generation != gen} own={own}",
        )
    except Exception as exc:
        tally.input("corpus folders", "index folder inside the corpus", False, f"{type(exc).__name__}: {exc}")


def check_uploads(tally: Tally, base: Path) -> None:
    """Upload names cannot leave the corpus; types and sizes are limited."""
    from qa.errors import UploadRejected
    from qa.uploads import add_upload

    seeds = base / "upload-seeds"
    seeds.mkdir()
    src = base / "upload-src.md"
    src.write_text("# Upload\n\nAn uploaded note about the ferry.\n")
    for name in (
        "../../escape.md",
        "..\\..\\escape.md",
        "/etc/cron.d/x.md",
        "sub/../../x.md",
        ".hidden.md",
        "nul\x00.md",
    ):
        try:
            saved, _ = add_upload(seeds, src, name)
            target = (seeds / saved).resolve()
            ok = target.parent == seeds.resolve() and not saved.startswith(".")
            tally.input("security", f"upload name {name!r}", ok, f"saved as {saved}")
        except Exception as exc:
            tally.input("security", f"upload name {name!r}", False, f"{type(exc).__name__}: {exc}")
    escaped = [p for p in base.glob("escape*")] + [p for p in base.parent.glob("escape*")]
    tally.input("security", "nothing written outside the corpus", not escaped, str(escaped))
    big = base / "big.txt"
    big.write_bytes(b"word " * (1024 * 1024 // 5 + 10))
    cases = (("program.exe", src, "only"), ("page.php", src, "only"), ("big.txt", big, "up to"))
    old = os.environ.get("QA_MAX_UPLOAD_MB")
    os.environ["QA_MAX_UPLOAD_MB"] = "1"
    try:
        for name, path, why in cases:
            try:
                add_upload(seeds, path, name)
                tally.input("security", f"upload {name} refused", False, "accepted")
            except UploadRejected as exc:
                tally.input("security", f"upload {name} refused", why in str(exc), str(exc))
    finally:
        if old is None:
            os.environ.pop("QA_MAX_UPLOAD_MB", None)
        else:
            os.environ["QA_MAX_UPLOAD_MB"] = old


# --------------------------------------------------------------------------------- the harness
# Points of a save at which a builder kills itself (SIGKILL), in the order a save reaches them.
KILL_POINTS = ("mid-write", "before-rename", "before-current", "before-cleanup", "mid-cleanup")


def _install_kill_point(point: str) -> None:
    """Make this (forked) builder SIGKILL itself when its save reaches ``point``."""
    import numpy as np

    from qa import store

    def die() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    if point == "mid-write":
        real_save = np.save
        calls = {"n": 0}

        def half_save(file, arr, *args, **kwargs):
            calls["n"] += 1
            if calls["n"] == 2:  # the second array: half of it, then death
                with open(file, "wb") as fh:
                    fh.write(np.ascontiguousarray(arr).tobytes()[: max(1, arr.nbytes // 2)])
                die()
            return real_save(file, arr, *args, **kwargs)

        np.save = half_save
    elif point == "before-rename":
        real_rename = os.rename

        def rename(src, dst, *args, **kwargs):
            if Path(dst).name.startswith("gen-"):
                die()
            return real_rename(src, dst, *args, **kwargs)

        os.rename = rename
    elif point == "before-current":
        real_replace = os.replace

        def replace(src, dst, *args, **kwargs):
            if Path(dst).name == store.CURRENT:
                die()  # the new generation is complete, its pointer written, CURRENT not moved
            return real_replace(src, dst, *args, **kwargs)

        os.replace = replace
    elif point == "before-cleanup":
        store._collect_garbage = lambda *args, **kwargs: die()
    elif point == "mid-cleanup":
        real_rmtree = shutil.rmtree

        def rmtree(path, *args, **kwargs):
            target = Path(path)
            files = [p for p in target.rglob("*") if p.is_file()] if target.is_dir() else []
            if files:
                files[0].unlink()
                die()
            return real_rmtree(path, *args, **kwargs)

        shutil.rmtree = rmtree
    else:
        raise ValueError(f"unknown kill point {point!r}")


def _fork(work: Callable[[], dict], result_file: Path | None = None) -> int:
    """Run ``work`` in a forked child; its result (or error) goes to ``result_file`` as JSON."""
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:  # whatever happens, the child never returns into the harness's loop
        try:
            out = {"ok": True, **work()}
            code = 0
        except BaseException as exc:
            out = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        if result_file is not None:
            result_file.write_text(json.dumps(out, default=str))
    finally:
        os._exit(code)


def _wait(pid: int, timeout: float) -> tuple[bool, int]:
    """Wait for a child; returns (exited by itself, status). Kills it after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return True, status
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            return False, os.waitpid(pid, 0)[1]
        time.sleep(0.01)


def inspect(index: Path) -> dict:
    """The state of an index folder: does it load, and what a killed build left behind."""
    from qa import store

    state: dict[str, Any] = {
        "gens": sorted(p.name for p in index.glob("gen-*")),
        "tmp": sorted(p.name for p in index.glob(".tmp-*")),
        "pointer_tmp": sorted(p.name for p in index.glob(".CURRENT.tmp-*")),
        "live": store.live_name(index),
    }
    try:
        loaded = store.load(index)
        state.update(loadable=loaded is not None, chunks=len(loaded.chunks) if loaded else 0)
    except Exception as exc:
        state.update(loadable=False, error=f"{type(exc).__name__}: {exc}")
    return state


def _as_nobody() -> None:
    """In a forked child: drop root, so that permissions apply (root ignores them)."""
    if os.geteuid() == 0:
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)


def _answers(seeds: Path, index: Path, settings_json: dict, questions: list[str]) -> list[dict]:
    from qa.engine import Engine
    from qa.settings import Settings

    engine = Engine(seeds, index, Settings.from_dict(settings_json))
    out = []
    for q in questions:
        a = engine.ask(q, k=5)
        out.append({"passages": [list(x) for x in snapshot(a)], "notices": list(a.notices)})
    return out


class HarnessServer:
    """The harness process: forks builders and kills them, or runs them under OS limits."""

    def __init__(self) -> None:
        from qa.chunking import count_tokens
        from qa.embedding import get_embedder

        get_embedder()  # loaded (a fork shares it), never run here
        count_tokens("warm up the tokenizer")
        self.work = Path(tempfile.mkdtemp(prefix="qa-harness-"))
        self.work.chmod(0o1777)  # children running as `nobody` write their results here

    def op_kill(
        self, seeds: str, index: str, settings: dict, delay: float | None = None, at: str | None = None
    ) -> dict:
        """One build, SIGKILLed after ``delay`` seconds or at a point of its save."""
        from qa import build_index
        from qa.settings import Settings

        def build() -> dict:
            if at:
                _install_kill_point(at)
            build_index(seeds, index, settings=Settings.from_dict(settings), progress=False)
            return {}

        t0 = time.perf_counter()
        pid = _fork(build)
        if delay is not None:
            deadline, done, raw = t0 + delay, 0, 0
            while not done and time.perf_counter() < deadline:
                done, raw = os.waitpid(pid, os.WNOHANG)
                time.sleep(0.002)
            if not done:
                os.kill(pid, signal.SIGKILL)
                raw = os.waitpid(pid, 0)[1]
            finished = bool(done) and os.WIFEXITED(raw) and os.WEXITSTATUS(raw) == 0
            status = os.WTERMSIG(raw) if os.WIFSIGNALED(raw) else 0
        else:
            exited, raw = _wait(pid, 600)
            finished = os.WIFEXITED(raw) and os.WEXITSTATUS(raw) == 0
            status = os.WTERMSIG(raw) if os.WIFSIGNALED(raw) else 0
        return {
            "finished": finished,
            "killed": status == signal.SIGKILL,
            "seconds": time.perf_counter() - t0,
            **inspect(Path(index)),
        }

    def op_readonly(self, seeds: str, index: str, settings: dict, questions: list[str]) -> dict:
        """A build and answers with the index folder read-only."""
        from qa import build_index
        from qa.errors import IndexWriteError
        from qa.settings import Settings

        folder = Path(index)
        modes = {p: p.stat().st_mode for p in [folder, *folder.glob(".lock")]}
        if os.geteuid() != 0:  # as root, the child drops to `nobody` instead
            folder.chmod(0o555)
            for p in folder.glob(".lock"):
                p.chmod(0o444)

        def work() -> dict:
            _as_nobody()
            try:
                build_index(seeds, index, settings=Settings.from_dict(settings), progress=False)
                error = ""
            except IndexWriteError as exc:
                error = str(exc)
            return {"build_error": error, "answers": _answers(Path(seeds), folder, settings, questions)}

        result_file = self.work / f"{uuid.uuid4().hex}.json"
        try:
            _wait(_fork(work, result_file), 600)
        finally:
            for p, mode in modes.items():
                p.chmod(mode)
        return {**json.loads(result_file.read_text()), **inspect(folder)}

    def op_diskfull(self, seeds: str, index: str, settings: dict, questions: list[str], limit: int) -> dict:
        """A build whose writes fail with "File too large" past ``limit`` bytes (RLIMIT_FSIZE)."""
        import resource

        from qa import build_index
        from qa.errors import IndexWriteError
        from qa.settings import Settings

        def work() -> dict:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a dead process
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
            try:
                build_index(seeds, index, settings=Settings.from_dict(settings), progress=False)
                error = ""
            except IndexWriteError as exc:
                error = str(exc)
            answers = _answers(Path(seeds), Path(index), settings, questions)  # still a full disk
            resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
            return {"build_error": error, "answers": answers}

        result_file = self.work / f"{uuid.uuid4().hex}.json"
        _wait(_fork(work, result_file), 600)
        return {**json.loads(result_file.read_text()), **inspect(Path(index))}

    def op_unreadable(self, seeds: str, index: str, settings: dict, names: list[str]) -> dict:
        """A build (as a user without access) of a corpus holding files or folders it may not read."""
        from qa import build_index
        from qa.settings import Settings

        targets = [Path(seeds) / name for name in names]
        modes = {t: t.stat().st_mode for t in targets}
        for t in targets:
            t.chmod(0o000)
        if os.geteuid() == 0:
            for p in [Path(index), *Path(index).rglob("*")]:
                os.chown(p, 65534, 65534)

        def work() -> dict:
            _as_nobody()
            with captured_warnings() as warnings:
                report = build_index(seeds, index, settings=Settings.from_dict(settings), progress=False)
            return {
                "skipped": {s.doc_id: s.reason for s in report.skipped},
                "documents": report.documents,
                "warnings": warnings,
            }

        result_file = self.work / f"{uuid.uuid4().hex}.json"
        try:
            _wait(_fork(work, result_file), 600)
        finally:
            for t, mode in modes.items():
                t.chmod(mode)
        return json.loads(result_file.read_text())

    def op_rebuild_start(self, seeds: str, index: str, settings: dict, count: int) -> dict:
        """Start ``count`` full rebuilds in a child; op_join collects it."""
        from qa import build_index
        from qa.settings import Settings

        def work() -> dict:
            gens = []
            for _ in range(count):
                report = build_index(
                    seeds, index, settings=Settings.from_dict(settings), rebuild=True, progress=False
                )
                gens.append(report.generation)
            return {"generations": gens}

        result_file = self.work / f"{uuid.uuid4().hex}.json"
        return {"pid": _fork(work, result_file), "result": str(result_file)}

    def op_join(self, pid: int, result: str) -> dict:
        _wait(pid, 900)
        return json.loads(Path(result).read_text())

    def serve(self) -> None:
        print(json.dumps({"ready": True}), flush=True)
        for line in sys.stdin:
            cmd = json.loads(line)
            try:
                out = getattr(self, f"op_{cmd['op']}")(**cmd.get("args", {}))
            except Exception as exc:
                out = {"harness_error": f"{type(exc).__name__}: {exc}"}
            print(json.dumps(out, default=str), flush=True)
        shutil.rmtree(self.work, ignore_errors=True)


class Harness:
    """The test side of the harness process: send an operation, read its result."""

    def __init__(self, log_path: Path, timeout: float = 300, *, wait: bool = True) -> None:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
        self.log = open(log_path, "w")  # closed in close()
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--harness"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True, env=env,
        )  # fmt: skip
        self.log_path = log_path
        self.timeout = timeout
        self.ready = False
        if wait:  # else at the first call: the start overlaps the caller's own work
            self._ensure_ready()

    def _ensure_ready(self) -> None:
        if not self.ready:
            ready = self._read(self.timeout)
            if not ready.get("ready"):
                raise RuntimeError(f"the harness did not start: {ready}")
            self.ready = True

    def _read(self, timeout: float) -> dict:
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            raise TimeoutError(f"the harness did not answer in {timeout:.0f}s; see {self.log_path}")
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(
                f"the harness exited; see {self.log_path}:\n{self.log_path.read_text()[-2000:]}"
            )
        return json.loads(line)

    def call(self, op: str, timeout: float = 600, **args: Any) -> dict:
        self._ensure_ready()
        self.proc.stdin.write(json.dumps({"op": op, "args": args}) + "\n")
        self.proc.stdin.flush()
        return self._read(timeout)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


# --------------------------------------------------------------------------------- faults
class FrozenEngine:
    """Answers from the live generation exactly as it is on disk: no freshness check, no build."""

    def __init__(self, seeds: Path, index: Path, settings: Any) -> None:
        from qa import store
        from qa.engine import Engine

        loaded = store.load(index)

        class Frozen(Engine):
            def _fresh(self):  # the index as it is, to see what a kill left
                return loaded, ()

        self.engine = Frozen(seeds, index, settings)

    def ask(self, question: str) -> Any:
        return self.engine.ask(question, k=5)


def compare(answer_of: Callable[[str], Any], baseline: dict) -> int:
    """How many baseline questions now get a different answer (or none)."""
    return sum(_snap_or_error(answer_of, q) != expected for q, expected in baseline.items())


def check_kills(
    tally: Tally,
    harness: Harness,
    seeds: Path,
    index: Path,
    settings: Any,
    questions: list[str],
    rounds: int,
    rng: random.Random,
) -> dict:
    """Builds killed at random moments and at each step of a save: the last good index answers,
    and the next start finishes the work (the round's new document is found).

    Each round adds a document and starts a build, which is killed. Right after the kill, the
    index on disk must answer exactly as before the round (the kill came before the new
    generation went live) or exactly as the finished build does (it came after).

    Returns:
        The answers of the final index, by question.
    """
    from qa import build_index, store
    from qa.engine import Engine

    s = settings.to_dict()
    engine = Engine(seeds, index, settings)
    # Two builds left alone, to learn how long one takes here (the first child warms up).
    expected_docs = set()
    times = []
    for i in (0, 1000):
        expected_docs.add(write_round_doc(seeds, i))
        times.append(harness.call("kill", seeds=str(seeds), index=str(index), settings=s)["seconds"])
    build_s = max(0.1, min(times))
    answers = {q: snapshot(engine.ask(q, k=5)) for q in questions}
    plan: list[tuple[float | None, str | None]] = [(rng.random(), None) for _ in range(rounds)]
    plan += [(None, point) for point in KILL_POINTS]
    landed: dict[str, int] = {}
    for i, (share, point) in enumerate(plan, start=1):
        delay = None if share is None else share * build_s  # a random moment of a typical build
        before = store.live_name(index)
        gens_before = set(p.name for p in index.glob("gen-*"))
        doc = write_round_doc(seeds, i)
        expected_docs.add(doc)
        out = harness.call("kill", seeds=str(seeds), index=str(index), settings=s, delay=delay, at=point)
        name = f"SIGKILL at {point}" if point else f"SIGKILL after {delay:.2f}s of a {build_s:.2f}s build"
        if out.get("harness_error"):
            tally.fault("kills", name, False, out["harness_error"])
            continue
        where = _landed(out, before, gens_before)
        landed[where] = landed.get(where, 0) + 1
        if not out["killed"]:
            build_s = min(build_s, out["seconds"])  # builds got faster (warm caches)
        # The index on disk right after the kill loads, and answers as the old or the new one.
        ok = out["loadable"] and (out["live"] == before or out["live"] in out["gens"])
        why = json.dumps(out)[:400]
        frozen = FrozenEngine(seeds, index, settings)
        right_after = {q: _snap_or_error(frozen.ask, q) for q in questions}
        # The next start (`qa serve` and `app.py` build before serving) finishes or redoes the
        # build and its cleanup; the new document is found.
        try:
            build_index(seeds, index, settings=settings, progress=False)
            found = engine.ask(ROUND_QUESTION.format(i=i), k=3)
            finished = bool(found.passages) and found.passages[0].source == doc
        except Exception as exc:
            finished, why = False, f"{why} next ask: {type(exc).__name__}: {exc}"
        after = {q: _snap_or_error(engine.ask, q) for q in questions}
        expected = answers if out["live"] == before else after
        lost = sum(right_after[q] != expected[q] for q in questions)
        answers = after
        leftovers = inspect(index)
        clean = not leftovers["tmp"] and not leftovers["pointer_tmp"] and len(leftovers["gens"]) <= 2
        ok = ok and not lost and finished and clean
        if out["killed"] or not ok:  # a build that finished before its kill is no fault injected
            tally.fault(
                "kills", name, ok, f"{why} finished={finished} clean={clean} after={leftovers}", lost=lost
            )
    tally.notes.append(
        f"{len(plan)} builds SIGKILLed ({rounds} at random moments, {len(KILL_POINTS)} at points of a save); "
        "where the kills landed: "
        + ", ".join(f"{n} {w}" for w, n in sorted(landed.items(), key=lambda x: -x[1]))
    )
    # Nothing lost overall: every round's document is in the index.
    docs = set(store.load(index).manifest["documents"])
    missing = sorted(expected_docs - docs)
    tally.loss("kills", len(missing), f"round documents missing: {missing}")
    return answers


def _landed(out: dict, live_before: str | None, gens_before: set[str]) -> str:
    """Where in a build a kill landed, judged by what it left on disk."""
    if not out["killed"]:
        return "after the build had finished"
    if out["live"] != live_before:
        return "after the new generation went live"
    if set(out["gens"]) - gens_before:
        return "between the new generation's rename and CURRENT"
    if out["tmp"]:
        return "while the new generation was written"
    return "before the save (reading, chunking, embedding)"


def _snap_or_error(ask: Callable[[str], Any], q: str) -> Any:
    try:
        return snapshot(ask(q))
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"


ROUND_QUESTION = "How many herons did the warden count in survey round {i}?"


def write_round_doc(seeds: Path, i: int) -> str:
    name = f"rounds/survey-{i:03d}.md"
    path = seeds / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(
        f"# Survey round {i}\n\nIn survey round {i} the warden counted {1000 + 37 * i} herons "
        f"on the marsh. The survey of round {i} took {2 + i % 5} days.\n",
        encoding="utf-8",
    )
    return name


def _flip(path: Path, at: int) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


def _manifest(gen: Path) -> dict:
    return json.loads((gen / "manifest.json").read_text())


def _write_manifest(gen: Path, manifest: dict) -> None:
    (gen / "manifest.json").write_text(json.dumps(manifest))


def _reseal(gen: Path, name: str) -> None:
    """Update the checksum of ``name`` so that only the loader's own checks stand in the way."""
    import hashlib

    manifest = _manifest(gen)
    data = (gen / name).read_bytes()
    manifest["files"][name] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    _write_manifest(gen, manifest)


def _swap_table(gen: Path, previous: Path) -> None:
    """Every file of the chunk table taken from the previous generation, checksums resealed."""
    for src in sorted((previous / "chunks").iterdir()):
        shutil.copyfile(src, gen / "chunks" / src.name)
        _reseal(gen, f"chunks/{src.name}")


class Payload:
    """Unpickling this creates a marker file: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _pickle_into(gen: Path, name: str, marker: Path) -> None:
    import numpy as np

    arr = np.empty(1, dtype=object)
    arr[0] = Payload(marker)
    with open(gen / name, "wb") as fh:
        np.save(fh, arr, allow_pickle=True)
    _reseal(gen, name)


def _other_model(gen: Path, dim: int) -> None:
    manifest = _manifest(gen)
    name = "sentence-transformers/all-mpnet-base-v2"
    manifest["model"] = {"id": name, "dim": dim}
    manifest["settings"]["model"] = name
    manifest["settings_key"]["model"] = name
    _write_manifest(gen, manifest)


def corruptions(marker: Path) -> dict[str, Callable[[Path, Path, Path], None]]:
    """Damage done to a copy of an index: (index folder, live generation, previous generation)."""

    def bm25_file(gen: Path) -> Path:
        return sorted((gen / "bm25").glob("*.npy"))[0]

    return {
        "flipped byte in sentence_scale.npy": lambda d, g, p: _flip(g / "sentence_scale.npy", -1),
        "flipped byte in sentences.npy": lambda d, g, p: _flip(g / "sentences.npy", -3),
        "flipped byte in the chunk text": lambda d, g, p: _flip(g / "chunks" / "text.npy", -20),
        "flipped byte in the chunk offsets": lambda d, g, p: _flip(g / "chunks" / "text_offsets.npy", -1),
        "flipped byte in the chunk documents": lambda d, g, p: _flip(g / "chunks" / "doc_ids.json", 3),
        "flipped byte in faiss.index": lambda d, g, p: _flip(g / "faiss.index", -5),
        "flipped byte in the BM25 index": lambda d, g, p: _flip(bm25_file(g), -1),
        "flipped byte in lexicon.npy": lambda d, g, p: _flip(g / "lexicon.npy", -1),
        "truncated sentences.npy": lambda d, g, p: os.truncate(g / "sentences.npy", 100),
        "truncated chunk text": lambda d, g, p: os.truncate(
            g / "chunks" / "text.npy", (g / "chunks" / "text.npy").stat().st_size // 2
        ),
        "truncated chunk sentences": lambda d, g, p: os.truncate(
            g / "chunks" / "sentences.npy", (g / "chunks" / "sentences.npy").stat().st_size // 2
        ),
        "empty faiss.index": lambda d, g, p: os.truncate(g / "faiss.index", 0),
        "deleted lexicon.txt": lambda d, g, p: (g / "lexicon.txt").unlink(),
        "deleted manifest": lambda d, g, p: (g / "manifest.json").unlink(),
        "manifest not JSON": lambda d, g, p: (g / "manifest.json").write_text("{not json"),
        "manifest without checksums": lambda d, g, p: _write_manifest(
            g, {k: v for k, v in _manifest(g).items() if k != "files"}
        ),
        "manifest of another format version": lambda d, g, p: _write_manifest(
            g, {**_manifest(g), "format_version": 99}
        ),
        "manifest of another dimension": lambda d, g, p: _write_manifest(
            g, {**_manifest(g), "model": {**_manifest(g)["model"], "dim": 768}}
        ),
        "manifest of another model and dimension": lambda d, g, p: _other_model(g, 768),
        "manifest of another model, same dimension": lambda d, g, p: _other_model(g, 384),
        "faiss.index swapped with the previous generation's": lambda d, g, p: shutil.copyfile(
            p / "faiss.index", g / "faiss.index"
        ),
        "faiss.index swapped, checksum resealed": lambda d, g, p: (
            shutil.copyfile(p / "faiss.index", g / "faiss.index"),
            _reseal(g, "faiss.index"),
        ),
        "manifest swapped with the previous generation's": lambda d, g, p: shutil.copyfile(
            p / "manifest.json", g / "manifest.json"
        ),
        "chunk table swapped, checksums resealed": lambda d, g, p: _swap_table(g, p),
        "chunk offsets swapped, checksum resealed": lambda d, g, p: (
            shutil.copyfile(p / "chunks" / "text_offsets.npy", g / "chunks" / "text_offsets.npy"),
            _reseal(g, "chunks/text_offsets.npy"),
        ),
        "CURRENT garbage": lambda d, g, p: (d / "CURRENT").write_text("../../etc\n"),
        "CURRENT names a missing generation": lambda d, g, p: (d / "CURRENT").write_text(
            "gen-00000000000000000001-1\n"
        ),
        "CURRENT empty": lambda d, g, p: (d / "CURRENT").write_text(""),
        "pickle payload in sentence_scale.npy": lambda d, g, p: _pickle_into(g, "sentence_scale.npy", marker),
        "pickle payload in lexicon_df.npy": lambda d, g, p: _pickle_into(g, "lexicon_df.npy", marker),
        "pickle payload in the BM25 index": lambda d, g, p: _pickle_into(
            g, bm25_file(g).relative_to(g).as_posix(), marker
        ),
    }


# Damage the loader cannot see by itself (the files are whole): a manifest that claims another
# model is a stale index, noticed by the freshness check instead.
STALE_NOT_CORRUPT = {"manifest of another model, same dimension"}


def check_corruption(
    tally: Tally,
    base: Path,
    seeds: Path,
    index: Path,
    settings: Any,
    baseline: dict,
    names: list[str] | None = None,
) -> None:
    """Each kind of damage is detected on load, and the next ask() rebuilds and answers as before."""
    from qa import store
    from qa.engine import Engine
    from qa.errors import QAError
    from qa.indexer import is_current

    marker = base / "PWNED"
    kinds = corruptions(marker)
    for name in names or list(kinds):
        copy = base / f"damaged-{uuid.uuid4().hex[:8]}"
        shutil.copytree(index, copy)
        live = copy / store.live_name(copy)
        previous = max((p for p in copy.glob("gen-*") if p != live), default=None)
        kinds[name](copy, live, previous)
        try:
            loaded = store.load(copy)
            detected = name in STALE_NOT_CORRUPT and not is_current(seeds, loaded, settings)
            why = "loaded without complaint"
        except QAError as exc:
            detected, why = True, str(exc)
        except Exception as exc:
            detected, why = False, f"{type(exc).__name__} (not a QAError): {exc}"
        lost = compare(Engine(seeds, copy, settings).ask, baseline)
        ran_code = marker.exists()
        ok = detected and not lost and not ran_code
        tally.fault("corruption", name, ok, f"{why} lost={lost} code_ran={ran_code}", lost=lost)
        shutil.rmtree(copy, ignore_errors=True)


def check_write_failures(
    tally: Tally, harness: Harness, base: Path, seeds: Path, index: Path, settings: Any, baseline: dict
) -> None:
    """A read-only index folder and a full disk: the old index stays live and still answers."""
    from qa import store

    s = settings.to_dict()
    questions = list(baseline)
    for name, op, extra in (
        ("read-only index folder", "readonly", {}),
        ("disk full (RLIMIT_FSIZE)", "diskfull", {"limit": 16 * 1024}),
    ):
        copy = base / f"{op}-index"
        shutil.copytree(index, copy)
        corpus = base / f"{op}-seeds"
        shutil.copytree(seeds, corpus)
        before = store.live_name(copy)
        (corpus / f"{op}-new.md").write_text(f"# New\n\nA note added while the index is {op}.\n")
        out = harness.call(op, seeds=str(corpus), index=str(copy), settings=s, questions=questions, **extra)
        if not out.get("ok"):
            tally.fault("write failures", name, False, json.dumps(out)[:300])
            continue
        said = out["build_error"]
        answers = [[tuple(x) for x in a["passages"]] for a in out["answers"]]
        lost = sum(a != baseline[q] for a, q in zip(answers, questions, strict=True))
        noticed = all(any("could not be updated" in n for n in a["notices"]) for a in out["answers"])
        ok = (
            bool(said) and "cannot write the index" in said and out["live"] == before and out["loadable"]
            and not out["tmp"] and not out["pointer_tmp"] and not lost and noticed
        )  # fmt: skip
        tally.fault("write failures", name, ok, f"error={said!r} state={out}", lost=lost)


def check_unreadable(
    tally: Tally, harness: Harness, base: Path, seeds: Path, index: Path, settings: Any
) -> None:
    corpus = base / "unreadable-seeds"
    shutil.copytree(seeds, corpus)
    copy = base / "unreadable-index"
    shutil.copytree(index, copy)
    for p in (base, corpus, *corpus.rglob("*")):
        if p.is_dir():
            p.chmod(0o755)
    (corpus / "secret.txt").write_text("Nobody may read this.\n")
    (corpus / "private").mkdir()
    (corpus / "private" / "diary.md").write_text("# Diary\n\nNobody may list this folder.\n")
    out = harness.call(
        "unreadable",
        seeds=str(corpus),
        index=str(copy),
        settings=settings.to_dict(),
        names=["secret.txt", "private"],
    )
    reason = (out.get("skipped") or {}).get("secret.txt", "")
    ok = out.get("ok", False) and "cannot be read" in reason and out.get("documents", 0) >= 1
    tally.input("documents", "unreadable file (permission denied)", ok, json.dumps(out)[:300])
    folder = any("private" in w and "Permission denied" in w for w in out.get("warnings", []))
    tally.input("documents", "unreadable folder (permission denied)", folder, json.dumps(out)[:300])


# --------------------------------------------------------------------------------- load
def check_threads(
    tally: Tally, seeds: Path, index: Path, settings: Any, questions: list[str], repeats: int
) -> None:
    """ask() from 8 threads at once gives the answers of serial calls."""
    from qa import ask

    def one(q: str) -> Any:
        return ask(q, k=5, seeds_dir=seeds, index_dir=index, settings=settings)

    serial = {q: one(q) for q in questions}
    jobs = [q for _ in range(repeats) for q in questions]
    with ThreadPoolExecutor(8) as pool:
        futures = [(q, pool.submit(one, q)) for q in jobs]
        for q, f in futures:
            try:
                same = f.result(timeout=300) == serial[q]
                tally.served("8 threads", same, f"{q!r}: differs from the serial answer", lost=not same)
            except Exception as exc:
                tally.served("8 threads", False, f"{q!r}: {type(exc).__name__}: {exc}")


def check_rebuild_while_answering(
    tally: Tally,
    harness: Harness | None,
    seeds: Path,
    index: Path,
    settings: Any,
    baseline: dict,
    rebuilds: int,
    threads: int = 3,
) -> dict:
    """Full rebuilds (in another process, or a thread without a harness) while questions are
    answered: every answer is the old index's or the new one's, never an error, never a mix."""
    from qa import build_index
    from qa.engine import get_engine

    engine = get_engine(seeds, index, settings)
    engine.index()
    first = engine.index().generation
    gens_seen: set[str] = set()
    stop = threading.Event()
    questions = list(baseline)

    def answer_loop(offset: int) -> None:
        i = offset
        while not stop.is_set():
            q = questions[i % len(questions)]
            i += 1
            t0 = time.perf_counter()
            try:
                got = engine.ask(q, k=5)
                gens_seen.add(engine.index().generation)
                ok = snapshot(got) == baseline[q]
                tally.served(
                    "rebuild while answering",
                    ok,
                    f"{q!r} differs",
                    (time.perf_counter() - t0) * 1000,
                    lost=not ok,
                )
            except Exception as exc:
                tally.served("rebuild while answering", False, f"{q!r}: {type(exc).__name__}: {exc}")

    workers = [threading.Thread(target=answer_loop, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    try:
        if harness is not None:
            started = harness.call(
                "rebuild_start",
                seeds=str(seeds),
                index=str(index),
                settings=settings.to_dict(),
                count=rebuilds,
            )
            result = harness.call("join", timeout=900, **started)
        else:
            gens = [
                build_index(seeds, index, settings=settings, rebuild=True, progress=False).generation
                for _ in range(rebuilds)
            ]
            result = {"ok": True, "generations": gens}
        time.sleep(0.5)  # answers after the last swap come from the last generation
    finally:
        stop.set()
        for w in workers:
            w.join(timeout=120)
    ok = result.get("ok", False) and len(result.get("generations", [])) == rebuilds
    tally.fault("rebuild while answering", f"{rebuilds} full rebuilds", ok, json.dumps(result)[:300])
    return {"first": first, "seen": len(gens_seen), "rebuilds": rebuilds}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url: str, timeout: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the app exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer in {timeout:.0f}s")


def http_ask(
    base_url: str, question: Any, *, k: int = 5, timeout: float = 120, headers: dict | None = None
) -> tuple[str, Any]:
    """One /ask call over Gradio's HTTP API: ("complete", answer dict) or ("error", message)."""
    body = json.dumps({"data": [question, k, None, ""]}).encode()
    hdrs = {"Content-Type": "application/json", **(headers or {})}
    req = urllib.request.Request(f"{base_url}gradio_api/call/ask", data=body, headers=hdrs)
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        event_id = json.loads(resp.read())["event_id"]
    req = urllib.request.Request(f"{base_url}gradio_api/call/ask/{event_id}", headers=headers or {})
    event = ""
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        for raw in resp:
            line = raw.decode("utf-8").rstrip("\n")
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event in ("complete", "error"):
                data = json.loads(line[6:])
                return event, (data[0] if event == "complete" and isinstance(data, list) else data)
    return "eof", None


def api_snapshot(answer: dict) -> list[tuple]:
    return [(p["source"], p["start"], p["end"], p["text"]) for p in answer["passages"]]


def run_chat_load(
    tally: Tally, base_url: str, baseline: dict, sessions: int, per_session: int, deadline_s: float
) -> dict:
    """``sessions`` concurrent sessions, each asking ``per_session`` questions; bounded in time."""
    questions = list(baseline)
    deadline = time.monotonic() + deadline_s
    barrier = threading.Barrier(sessions)

    def session(n: int) -> None:
        rng = random.Random(n)
        barrier.wait(timeout=60)  # all sessions start together
        for i in range(per_session):
            if time.monotonic() > deadline:
                tally.served("chat load", False, f"session {n}: out of time")
                continue
            q = questions[(n + i) % len(questions)]
            t0 = time.perf_counter()
            try:
                event, answer = http_ask(base_url, q, timeout=max(5, deadline - time.monotonic()))
                ms = (time.perf_counter() - t0) * 1000
                ok = event == "complete" and api_snapshot(answer) == baseline[q]
                tally.served(
                    "chat load",
                    ok,
                    f"session {n}: {event} {str(answer)[:200]}",
                    ms,
                    lost=event == "complete" and not ok,
                )
            except Exception as exc:
                tally.served("chat load", False, f"session {n}: {type(exc).__name__}: {exc}")
            time.sleep(rng.uniform(0, 0.05))

    t0 = time.perf_counter()
    threads = [threading.Thread(target=session, args=(n,), daemon=True) for n in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(1, deadline - time.monotonic() + 30))
    return {"sessions": sessions, "seconds": time.perf_counter() - t0}


def check_api_bad_questions(tally: Tally, base_url: str) -> None:
    """Bad questions over the API: an error event with a message, never a traceback."""
    for name, question in (
        ("empty", ""),
        ("None", None),
        ("whitespace", "  \n"),
        ("100 KB", "ships? " * 15000),
    ):
        try:
            event, data = http_ask(base_url, question, timeout=120)
            text = json.dumps(data)
            ok = "Traceback" not in text and (event == "error" if name != "100 KB" else event == "complete")
            tally.input("questions (HTTP API)", name, ok, f"{event}: {text[:200]}")
        except Exception as exc:
            tally.input("questions (HTTP API)", name, False, f"{type(exc).__name__}: {exc}")


def start_app(
    seeds: Path, index: Path, port: int, log_path: Path, env_extra: dict | None = None
) -> subprocess.Popen:
    """``python app.py`` (the README's command) on 127.0.0.1:port."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    env.pop("QA_HOST", None)
    env.pop("QA_PASSWORD", None)
    env.update(env_extra or {})
    out = open(log_path, "w")  # the app process writes to it until it ends
    return subprocess.Popen(
        [sys.executable, str(REPO / "app.py"), "--seeds-dir", str(seeds), "--index-dir", str(index),
         "--port", str(port), "--feedback", str(index.parent / "feedback.jsonl")],
        cwd=index.parent, env=env, stdout=out, stderr=subprocess.STDOUT,
    )  # fmt: skip


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def local_address() -> str | None:
    """An address of this machine other than loopback, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))  # UDP: nothing is sent
            addr = s.getsockname()[0]
        except OSError:
            return None
    return None if addr.startswith("127.") else addr


def check_listen_address(tally: Tally, port: int) -> None:
    """The app listens on loopback only unless asked otherwise."""
    addr = local_address()
    if addr is None:
        tally.input("security", "listens on localhost only", True, "no other address to try")
        return
    try:
        with socket.create_connection((addr, port), timeout=3):
            reachable = True
    except OSError:
        reachable = False
    tally.input(
        "security",
        f"listens on localhost only (not {addr})",
        not reachable,
        "reachable from the network address",
    )


@contextlib.contextmanager
def serve_in_process(app: Any, *, auth: Any = None) -> Iterator[str]:
    """The chat page of a ChatApp on a free port of 127.0.0.1, in this process; yields its URL."""
    from qa.ui import build_app
    from qa.uploads import max_upload_bytes

    port = _free_port()
    demo = build_app(app)
    demo.queue(default_concurrency_limit=4)  # as qa.ui.launch
    demo.launch(
        server_name="127.0.0.1", server_port=port, auth=auth, prevent_thread_lock=True, quiet=True,
        max_file_size=max_upload_bytes(), ssr_mode=False,
    )  # fmt: skip
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


def check_password(tally: Tally, seeds: Path, index: Path, settings: Any, question: str) -> None:
    """With QA_PASSWORD set, the page and its API need the password."""
    from gradio_client import Client

    from qa.ui import ChatApp, password_auth

    old = os.environ.get("QA_PASSWORD")
    password = os.environ["QA_PASSWORD"] = "s3cret-" + uuid.uuid4().hex[:6]
    app = ChatApp(seeds, index, settings, feedback_path=index.parent / "fb-auth.jsonl", examples=[])
    try:
        with serve_in_process(app, auth=password_auth()) as url:
            try:
                http_ask(url, question, timeout=30)
                refused = False
            except urllib.error.HTTPError as exc:
                refused = exc.code in (401, 403)
            tally.input("security", "password: the API refuses a caller without it", refused, "answered")
            try:
                Client(url, auth=("qa", "wrong"), verbose=False)
                wrong = False
            except Exception:
                wrong = True
            tally.input("security", "password: a wrong password is refused", wrong, "logged in")
            try:
                client = Client(url, auth=("qa", password), verbose=False)
                answer = client.predict(question=question, k=3, api_name="/ask")
                ok = bool(answer["passages"])
            except Exception as exc:
                ok, answer = False, exc
            tally.input("security", "password: the right one opens the API", ok, str(answer)[:200])
    finally:
        if old is None:
            os.environ.pop("QA_PASSWORD", None)
        else:
            os.environ["QA_PASSWORD"] = old


# --------------------------------------------------------------------------------- the run
def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and sessions")
    parser.add_argument("--sessions", type=int, help="concurrent chat sessions (default 60; quick 50)")
    parser.add_argument(
        "--per-session", type=int, default=None, help="questions per session (default 4; quick 2)"
    )
    parser.add_argument("--kills", type=int, help="builds killed at random moments (default 20; quick 4)")
    parser.add_argument("--big-line-mb", type=float, default=10.0, help="size of the single-line document")
    parser.add_argument("--seed", type=int, default=20240501, help="random seed")
    parser.add_argument("--keep", metavar="DIR", help="work in DIR and keep it (default: a temporary folder)")
    parser.add_argument("--harness", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s: %(message)s")
    if args.harness:
        HarnessServer().serve()
        return 0
    sessions = args.sessions or (50 if args.quick else 60)
    per_session = args.per_session or (2 if args.quick else 4)
    kills = args.kills if args.kills is not None else (4 if args.quick else 20)
    rng = random.Random(args.seed)
    big = int(args.big_line_mb * 1024 * 1024)

    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="qa-reliability-"))
    base.mkdir(parents=True, exist_ok=True)
    base.chmod(0o755)  # the read-only and unreadable checks run as `nobody`
    tally = Tally()
    timings: dict[str, float] = {}
    t_start = time.perf_counter()

    def step(name: str) -> None:
        now = time.perf_counter()
        if timings:
            last = list(timings)[-1]
            print(f"    {last}: {now - timings[last]:.0f}s", file=sys.stderr, flush=True)
        print(f"... {name}", file=sys.stderr, flush=True)
        timings[name] = now

    harness: Harness | None = None
    app: subprocess.Popen | None = None
    try:
        from qa import build_index
        from qa.engine import Engine
        from qa.settings import Settings

        settings = Settings()
        step("harness")
        harness = Harness(base / "harness.log")  # starts while the corpus is indexed
        step("index the corpus")
        seeds = write_corpus(base / "seeds", GOOD_DOCS, seeds=True)
        index = base / "index"
        build_index(seeds, index, settings=settings, progress=False)
        engine = Engine(seeds, index, settings)
        baseline = {q: snapshot(engine.ask(q, k=5)) for q in QUESTIONS}

        step("bad questions")
        check_bad_questions(tally, seeds, index, settings)
        step("bad documents")
        check_bad_documents(tally, base, seeds, index, settings, big)
        check_unreadable(tally, harness, base, seeds, index, settings)
        check_corpus_folders(tally, base, settings)
        check_uploads(tally, base)

        step("chat load")
        port = _free_port()
        app_index = base / "app" / "index"
        shutil.copytree(index, app_index)
        app = start_app(seeds, app_index, port, base / "app" / "app.log")
        url = f"http://127.0.0.1:{port}/"
        _wait_http(url, 300, app)
        check_listen_address(tally, port)
        check_api_bad_questions(tally, url)
        before = len(tally.latencies_ms)
        run_chat_load(tally, url, baseline, 1, 10, deadline_s=120)  # one session alone, for scale
        alone_ms = tally.latencies_ms[before:]
        before = len(tally.latencies_ms)
        load = run_chat_load(tally, url, baseline, sessions, per_session, deadline_s=240)
        chat_ms = tally.latencies_ms[before:]
        stop(app)
        app = None
        check_password(tally, seeds, index, settings, QUESTIONS[3])

        step("8 threads")
        check_threads(tally, seeds, index, settings, list(QUESTIONS), repeats=3 if args.quick else 6)

        step("SIGKILLed builds")
        kill_seeds = base / "kill-seeds"
        shutil.copytree(seeds, kill_seeds)
        kill_index = base / "kill-index"
        shutil.copytree(index, kill_index)
        # From here on, answers are compared with the corpus as the kill rounds left it.
        baseline = check_kills(tally, harness, kill_seeds, kill_index, settings, list(QUESTIONS), kills, rng)

        step("damaged index files")
        check_corruption(tally, base, kill_seeds, kill_index, settings, baseline)
        step("write failures")
        check_write_failures(tally, harness, base, kill_seeds, kill_index, settings, baseline)

        step("rebuild while answering")
        before = len(tally.latencies_ms)
        rebuild = check_rebuild_while_answering(
            tally, harness, kill_seeds, kill_index, settings, baseline, rebuilds=1 if args.quick else 2
        )
        rebuild_ms = tally.latencies_ms[before:]
        step("done")
    finally:
        if app is not None:
            stop(app)
        if harness is not None:
            harness.close()
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    total = time.perf_counter() - t_start

    notes = tally.notes
    print("\n## Reliability figures\n")
    print("| figure | value |\n| --- | --- |")
    print(f"| bad inputs tried | {tally.inputs} ({tally.inputs_ok} handled) |")
    print(f"| faults injected | {tally.faults} ({tally.faults_ok} survived) |")
    print(f"| requests served | {tally.requests} |")
    print(f"| errors | {tally.errors} |")
    print(f"| data lost | {tally.lost} |")
    print(
        f"| chat load | {load['sessions']} concurrent sessions, {len(chat_ms)} answers in {load['seconds']:.0f}s: "
        f"p50 {percentile(chat_ms, 50):.0f} ms, p99 {percentile(chat_ms, 99):.0f} ms |"
    )
    print(
        f"| chat, one session alone | {len(alone_ms)} answers: p50 {percentile(alone_ms, 50):.0f} ms, "
        f"p99 {percentile(alone_ms, 99):.0f} ms |"
    )
    print(
        f"| answering during {rebuild['rebuilds']} full rebuilds | {len(rebuild_ms)} answers from "
        f"{rebuild['seen']} generations: p50 {percentile(rebuild_ms, 50):.0f} ms, p99 {percentile(rebuild_ms, 99):.0f} ms |"
    )
    print(f"| run time | {total:.0f}s |")
    print("\n| check | tried | passed |\n| --- | --- | --- |")
    for name, (tried, ok) in tally.sections.items():
        print(f"| {name} | {tried} | {ok} |")
    for note in notes:
        print(f"\n{note}")
    if tally.failures:
        print("\nFailures:")
        for line in tally.failures[:60]:
            print(f"- {line}")
    perfect = (
        tally.inputs == tally.inputs_ok
        and tally.faults == tally.faults_ok
        and not tally.errors
        and not tally.lost
    )
    return 0 if perfect else 1


if __name__ == "__main__":
    sys.exit(main())
