"""The chat page (Gradio): questions in, verbatim highlighted quotes with citations out.

The page only consumes ``Engine.ask()``'s Answer; it never searches by itself. The HTML comes
from qa/render.py (everything escaped), follow-ups from qa/conversation.py, uploads go through
qa/uploads.py and feedback through qa/feedback.py.

``python app.py`` and ``qa serve`` serve it on http://127.0.0.1:7860. Environment:
QA_HOST / QA_PORT (where to listen; arguments win), QA_PASSWORD (ask for it at login, with any
user name, e.g. "qa"), QA_FEEDBACK (the feedback file, default feedback/feedback.jsonl),
QA_MAX_UPLOAD_MB (largest upload, default 20).

API (``gradio_client``): /ask, /feedback, /documents, /upload.
"""

# No `from __future__ import annotations`: Gradio reads the `gr.EventData` hints of the
# handlers at run time.
import hmac
import logging
import os
import shutil
import sys
import tempfile
import threading
import uuid
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from .conversation import rewrite
from .documents import Skipped, read_document, scan
from .engine import Engine, get_engine
from .errors import EmptyCorpus, EmptyQuestion, InvalidSetting, QAError, UploadRejected
from .feedback import DEFAULT_PATH, append, entry_for
from .indexer import BuildReport, build_index
from .onnx_encoder import get_query_encoder
from .render import (
    CHAT_JS,
    CSS,
    FORM_JS,
    SOURCE_JS,
    Turn,
    esc,
    friendly,
    location,
    passage_json,
    render_chat,
    render_documents,
    render_source,
    render_source_title,
    render_status,
    score_label,
    score_scale,
)
from .settings import Settings
from .types import Answer, Passage
from .uploads import UPLOAD_SUFFIXES, add_upload, max_upload_bytes, safe_name

log = logging.getLogger("qa")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
MAX_PASSAGES = 10
SEED_EXAMPLES = (
    "How many customers does Qwen have?",
    "How many models has Alibaba open-sourced?",
    "How fast are API calls growing?",
)


class ChatApp:
    """The page's logic, free of Gradio so it can be tested and reused."""

    def __init__(
        self,
        seeds_dir: str | Path = "seeds",
        index_dir: str | Path = "index",
        settings: Settings | None = None,
        *,
        feedback_path: str | Path | None = None,
        examples: Sequence[str] | None = None,
    ) -> None:
        self.seeds_dir = Path(seeds_dir)
        self.index_dir = Path(index_dir)
        self.settings = settings or Settings()
        self.feedback_path = Path(feedback_path or os.environ.get("QA_FEEDBACK") or DEFAULT_PATH)
        self._examples = tuple(examples) if examples is not None else None
        self._corpus_lock = threading.Lock()  # one upload or removal at a time
        self.scale = score_scale(self.settings)

    @property
    def engine(self) -> Engine:
        return get_engine(self.seeds_dir, self.index_dir, self.settings)

    # -- corpus ----------------------------------------------------------------------------
    def manifest(self) -> dict[str, Any] | None:
        """The live index's manifest (the index is refreshed first); None without documents."""
        try:
            return self.engine.index().manifest
        except EmptyCorpus:
            return None

    def documents(self) -> list[str]:
        """Ids of the indexed documents."""
        manifest = self.manifest()
        return sorted((manifest or {}).get("documents", {}))

    def corpus_files(self) -> list[str]:
        return [s.doc_id for s in scan(self.seeds_dir, exclude=[self.index_dir])]

    def examples(self) -> list[str]:
        if self._examples is not None:
            return list(self._examples)
        try:
            ids = self.corpus_files()
        except QAError:
            return []
        if any(i.startswith("alibaba-qwen") for i in ids):
            return list(SEED_EXAMPLES)
        return []

    def pages(self, source: str) -> list[int]:
        manifest = self.manifest() or {}
        return list(manifest.get("documents", {}).get(source, {}).get("pages") or [])

    # -- asking ----------------------------------------------------------------------------
    def ask(
        self, question: str, *, k: int = 5, sources: Sequence[str] | None = None, previous: str = ""
    ) -> tuple[Answer, bool]:
        """Answer a question, completing a follow-up from the previous turn's searched query.

        Returns:
            The Answer (``question`` as typed, ``query`` as searched) and whether it was a follow-up.
        """
        if not isinstance(question, str):
            raise EmptyQuestion("the question must be text")
        k = max(1, min(MAX_PASSAGES, int(k or 5)))
        rw = rewrite(question, previous)
        wanted = None
        if sources is not None:
            wanted = [s for s in sources if s]
            if not wanted:
                raise InvalidSetting(
                    "no document is selected: choose at least one under Settings › Search in"
                )
            if set(wanted) >= set(self.documents()):
                wanted = None  # everything, including documents added later
        answer = self.engine.ask(rw.query or question, k=k, sources=wanted)
        return replace(answer, question=" ".join(question.split())), rw.follow_up

    def answer_json(
        self, question: str, *, k: int = 5, sources: Sequence[str] | None = None, previous: str = ""
    ) -> dict[str, Any]:
        """The structured answer the API returns."""
        answer, follow_up = self.ask(question, k=k, sources=sources, previous=previous)
        return {
            "question": answer.question,
            "query": answer.query,
            "follow_up": follow_up,
            "found": answer.found,
            "notices": list(answer.notices),
            "passages": [passage_json(p, self.pages(p.source), self.scale) for p in answer.passages],
        }

    def turn_for(self, question: str, turns: Sequence[Turn], k: int, sources: Sequence[str] | None) -> Turn:
        previous = next((t.answer.query for t in reversed(turns) if t.answer is not None), "")
        try:
            answer, follow_up = self.ask(question, k=k, sources=sources, previous=previous)
        except Exception as exc:  # every failure becomes a message in the chat
            return Turn(question=str(question or ""), error=friendly(exc))
        pages = [location(p, self.pages(p.source)) for p in answer.passages]
        scores = [score_label(p.score, self.scale) for p in answer.passages]
        return Turn(question=answer.question, answer=answer, follow_up=follow_up, pages=pages, scores=scores)

    # -- feedback --------------------------------------------------------------------------
    def feedback(self, answer: Answer, verdict: str, expected: str = "") -> dict[str, Any]:
        """Append a verdict on an answer to the feedback file; returns the entry written."""
        entry = entry_for(answer, verdict, expected=expected, seeds_dir=self.seeds_dir)
        append(self.feedback_path, entry)
        return asdict(entry)

    # -- source viewer ---------------------------------------------------------------------
    def source_html(self, p: Passage) -> str:
        """The source viewer's body: the passage's document with the quote marked."""
        doc = read_document(self.seeds_dir, p.source)
        if isinstance(doc, Skipped):
            return f'<div class="qa-error">⚠ {esc(p.source)} cannot be shown: it {esc(doc.reason)}.</div>'
        note = ""
        text = doc.text
        if text[p.start : p.end] != p.text:
            # The document changed after the answer: find the quote again, else show it alone.
            at = text.find(p.text)
            if at >= 0:
                p = replace(p, start=at, end=at + len(p.text))
                note = "The document changed since this answer; the quote was found at a new place."
            else:
                text = p.text
                p = replace(p, start=0, end=len(p.text))
                note = "The document changed since this answer and no longer holds this quote."
        return render_source(text, p, doc.pages if not note else (), note)

    # -- uploads and removals --------------------------------------------------------------
    def add_files(
        self, files: Sequence[Any], progress: Any = None
    ) -> tuple[list[tuple[str, str]], list[str]]:
        """Add uploaded files to the corpus and index them.

        Returns:
            Status lines (kind, text) and the ids of the documents added.
        """
        lines: list[tuple[str, str]] = []
        added: list[str] = []
        backups: dict[str, Path] = {}
        with self._corpus_lock, tempfile.TemporaryDirectory(prefix="qa-backup-") as backup_dir:
            for item in files or []:
                path = Path(getattr(item, "name", None) or getattr(item, "path", None) or str(item))
                shown = path.name
                try:
                    name = safe_name(shown)
                    old = self.seeds_dir / name
                    if old.is_file():
                        backups[name] = Path(backup_dir) / uuid.uuid4().hex
                        shutil.copy2(old, backups[name])
                    name, replaced = add_upload(self.seeds_dir, path, shown)
                except UploadRejected as exc:
                    lines.append(("error", f"{shown} was not added: {exc}."))
                    continue
                added.append(name)
                renamed = f" (saved as {name})" if name != shown else ""
                lines.append(("ok", f"{shown}{renamed} {'replaced the old copy' if replaced else 'added'}."))
            if not added:
                return lines, added
            if progress is not None:
                progress(0.05, desc="Indexing the new documents…")
            try:
                report = build_index(self.seeds_dir, self.index_dir, settings=self.settings, progress=True)
            except Exception as exc:
                # Put the corpus back as it was, so a failed upload changes nothing.
                for name in added:
                    if name in backups:
                        shutil.copy2(backups[name], self.seeds_dir / name)
                    else:
                        (self.seeds_dir / name).unlink(missing_ok=True)
                return [("error", f"Nothing was added: indexing failed. {friendly(exc)}")], []
        lines.extend(self._report_lines(report, added))
        return lines, added

    def _report_lines(self, report: BuildReport, added: Sequence[str]) -> list[tuple[str, str]]:
        lines = []
        skipped = {s.doc_id: s.reason for s in report.skipped}
        for name in added:
            if name in skipped:
                lines.append(("error", f"{name} is in the folder but was not indexed: it {skipped[name]}."))
        lines.append(
            (
                "ok",
                f"Indexed {report.documents} documents, {report.chunks} passages "
                f"({report.embedded} new) in {report.seconds:.1f}s.",
            )
        )
        return lines

    def remove(self, doc_ids: Sequence[str]) -> list[tuple[str, str]]:
        """Delete documents from the corpus folder and the index."""
        wanted = [d for d in (doc_ids or []) if d]
        if not wanted:
            return [("error", "Choose the documents to remove first.")]
        with self._corpus_lock:
            present = set(self.corpus_files())
            unknown = [d for d in wanted if d not in present]
            if unknown:
                return [("error", f"Not in the documents folder: {', '.join(unknown)}. Nothing was removed.")]
            if present <= set(wanted):
                return [("error", "At least one document must remain. Add another before removing this one.")]
            root = self.seeds_dir.resolve()
            lines = []
            for doc_id in wanted:
                target = (self.seeds_dir / doc_id).resolve()
                if not target.is_relative_to(root) or not target.is_file():
                    lines.append(("error", f"{doc_id} cannot be removed."))
                    continue
                target.unlink()
                lines.append(("ok", f"Removed {doc_id}."))
            try:
                report = build_index(self.seeds_dir, self.index_dir, settings=self.settings, progress=True)
                lines.append(("ok", f"The index now holds {report.documents} documents."))
            except Exception as exc:
                lines.append(("error", friendly(exc)))
        return lines


def _event_value(evt: Any, name: str, default: Any = None) -> Any:
    try:
        return getattr(evt, name)
    except AttributeError:
        return default


def build_app(app: ChatApp):
    """The Gradio Blocks of the chat page for one ChatApp."""
    import gradio as gr

    tracked = gr.Progress(track_tqdm=True)  # shows the embedding progress bar while indexing

    def doc_updates(selected: Sequence[str] | None = None, before: Sequence[str] = (), added=()):
        manifest = app.manifest()
        docs = sorted((manifest or {}).get("documents", {}))
        if not selected or set(selected) >= set(before):
            value = docs  # everything was searched, so everything still is
        else:
            value = [d for d in docs if d in set(selected) | set(added)]
        return (
            render_documents(manifest),
            gr.update(choices=docs, value=value),
            gr.update(choices=app.corpus_files(), value=[]),
        )

    def on_load():
        docs_html, sources, removable = doc_updates()
        return render_chat([], app.examples()), docs_html, sources, removable

    def on_ask(question, turns, k, sources):
        turns = list(turns or [])
        text = question if isinstance(question, str) else ""
        turns.append(Turn(question=text, pending=True))
        yield render_chat(turns), turns, ""
        turns[-1] = app.turn_for(text, turns[:-1], k, sources)
        yield render_chat(turns), turns, ""

    def on_example(turns, k, sources, evt: gr.EventData):
        yield from on_ask(_event_value(evt, "text", ""), turns, k, sources)

    def on_clear():
        return render_chat([], app.examples()), [], None, gr.update(visible=False)

    def on_cite(turns, evt: gr.EventData):
        try:
            turn = turns[int(_event_value(evt, "turn", -1))]
            rank = int(_event_value(evt, "passage", -1))
            p = turn.answer.passages[rank]
            title = render_source_title(p, turn.pages[rank])
            body = app.source_html(p)
        except (IndexError, TypeError, ValueError, AttributeError):
            title, body = "", '<div class="qa-error">⚠ That passage is no longer available.</div>'
        except Exception as exc:
            title, body = "", f'<div class="qa-error">⚠ {esc(friendly(exc))}</div>'
        return gr.update(visible=True), title, body

    def on_feedback(turns, evt: gr.EventData):
        turns = list(turns or [])
        try:
            i = int(_event_value(evt, "turn", -1))
            turn = turns[i]
            verdict = _event_value(evt, "verdict", "")
        except (IndexError, TypeError, ValueError):
            return render_chat(turns), turns, None, gr.update(visible=False), "", ""
        if turn.answer is None or turn.feedback:
            return render_chat(turns), turns, None, gr.update(), gr.update(), gr.update()
        if verdict == "wrong":
            prompt = (
                f"<b>Marking the answer to “{esc(turn.question)}” as wrong.</b> If you know the "
                "passage that answers it, paste it below exactly as it appears in a document (open a "
                "citation to see a document). Leave it empty if the documents do not answer it."
            )
            return render_chat(turns), turns, i, gr.update(visible=True), prompt, ""
        try:
            entry = app.feedback(turn.answer, "helpful")
            turns[i] = replace(turn, feedback="helpful", feedback_note=_saved_note(entry))
        except Exception as exc:
            turns[i] = replace(turn, feedback_note=friendly(exc))
        return render_chat(turns), turns, None, gr.update(visible=False), "", ""

    def on_wrong_save(turns, i, expected):
        turns = list(turns or [])
        if i is None or not (0 <= i < len(turns)) or turns[i].answer is None:
            return render_chat(turns), turns, None, gr.update(visible=False), "", ""
        try:
            entry = app.feedback(turns[i].answer, "wrong", expected or "")
        except Exception as exc:
            # Keep the form open so the passage can be fixed.
            return (
                render_chat(turns),
                turns,
                i,
                gr.update(visible=True),
                gr.update(),
                f'<div class="qa-error">⚠ {esc(friendly(exc))}</div>',
            )
        turns[i] = replace(turns[i], feedback="wrong", feedback_note=_saved_note(entry))
        return render_chat(turns), turns, None, gr.update(visible=False), "", ""

    def on_upload(files, sources, progress=tracked):
        before = app.documents() if files else []
        lines, added = app.add_files(files or [], progress=progress)
        docs_html, sources_update, removable = doc_updates(sources, before, added)
        return render_status(lines), docs_html, sources_update, removable, None

    def on_remove(selected, sources, progress=tracked):
        before = app.documents()
        progress(0.05, desc="Removing…")
        lines = app.remove(selected or [])
        docs_html, sources_update, removable = doc_updates(sources, before)
        return render_status(lines), docs_html, sources_update, removable

    # -- API endpoints (gradio_client) -------------------------------------------------------
    def ask(question: str, k: int = 5, sources: list[str] | None = None, previous: str = "") -> dict:
        """Answer a question with verbatim quotes.

        Args:
            question: the question.
            k: how many passages (1-10).
            sources: search only these documents (ids as listed by /documents); None for all.
            previous: the query searched for the previous question, to complete a follow-up.

        Returns:
            {question, query, follow_up, found, notices, passages: [{text, source, start, end,
            highlight, highlighted, score, heading, page, location}]}
        """
        try:
            return app.answer_json(question, k=k, sources=sources, previous=previous or "")
        except Exception as exc:
            raise gr.Error(friendly(exc)) from None

    def feedback(question: str, verdict: str, expected: str = "", previous: str = "") -> dict:
        """Mark the answer to a question "helpful" or "wrong" (optionally with the expected passage).

        Returns:
            The gold-set entry appended to the feedback file: {id, question, evidence, answerable}.
        """
        try:
            answer, _ = app.ask(question, previous=previous or "")
            return app.feedback(answer, verdict, expected or "")
        except Exception as exc:
            raise gr.Error(friendly(exc)) from None

    def documents() -> dict:
        """The documents: {indexed: [{id, size, passages, pages}], skipped: [{id, reason}]}."""
        try:
            manifest = app.manifest() or {}
        except Exception as exc:
            raise gr.Error(friendly(exc)) from None
        return {
            "indexed": [
                {
                    "id": d,
                    "size": e.get("size", 0),
                    "passages": e.get("chunks", 0),
                    "pages": len(e.get("pages") or []),
                }
                for d, e in sorted(manifest.get("documents", {}).items())
            ],
            "skipped": [
                {"id": d, "reason": e.get("reason", "")}
                for d, e in sorted(manifest.get("skipped", {}).items())
            ],
        }

    private = {"api_visibility": "private"}
    upload_label = f"Add documents ({', '.join(UPLOAD_SUFFIXES)}; up to {max_upload_bytes() // 2**20} MB)"
    with gr.Blocks(title="Ask your documents", fill_width=False) as demo:
        turns = gr.State([])
        wrong_turn = gr.State(None)
        gr.HTML(
            '<h1><span class="qa-logo" aria-hidden="true">“</span>Ask your documents</h1>'
            "<p>Answers are verbatim, cited quotes from your documents: nothing is generated.</p>",
            elem_id="qa-header",
        )
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=340):
                chat = gr.HTML(
                    render_chat([], app.examples()),
                    js_on_load=CHAT_JS,
                    elem_id="qa-chat",
                    max_height="68vh",
                    container=True,
                    padding=True,
                )
                with gr.Row(equal_height=True):
                    question = gr.Textbox(
                        placeholder="Ask a question about your documents…",
                        show_label=False,
                        lines=1,
                        max_lines=4,
                        scale=6,
                        elem_id="qa-question",
                        autofocus=True,
                    )
                    send = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="qa-send")
                with gr.Row():
                    clear = gr.Button(
                        "New conversation",
                        size="sm",
                        variant="secondary",
                        scale=0,
                        min_width=170,
                        elem_id="qa-clear",
                    )
                with gr.Column(visible=False, elem_id="qa-wrong") as wrong_box:
                    wrong_prompt = gr.HTML(js_on_load=FORM_JS)
                    expected = gr.Textbox(
                        label="The passage you expected (optional)",
                        lines=3,
                        max_lines=8,
                        elem_id="qa-expected",
                    )
                    wrong_error = gr.HTML()
                    with gr.Row():
                        wrong_save = gr.Button(
                            "Save feedback", variant="primary", size="sm", elem_id="qa-wrong-save"
                        )
                        wrong_cancel = gr.Button("Cancel", size="sm")
            with gr.Column(scale=2, min_width=300):
                with gr.Accordion("Settings", open=True):
                    k = gr.Slider(1, MAX_PASSAGES, value=5, step=1, label="Passages to show")
                    sources = gr.CheckboxGroup(
                        choices=[], label="Search in", info="Documents to search", elem_id="qa-sources"
                    )
                with gr.Accordion("Documents", open=True):
                    docs_list = gr.HTML(render_documents(None, "Loading…"), elem_id="qa-docs")
                    upload = gr.File(
                        label=upload_label,
                        file_count="multiple",
                        file_types=list(UPLOAD_SUFFIXES),
                        type="filepath",
                        elem_id="qa-upload",
                        height=120,
                    )
                    status = gr.HTML(elem_id="qa-status")
                    removable = gr.Dropdown(
                        choices=[], multiselect=True, label="Remove documents", elem_id="qa-remove"
                    )
                    remove = gr.Button(
                        "Remove selected", variant="stop", size="sm", elem_id="qa-remove-button"
                    )
        with gr.Column(visible=False, elem_id="qa-viewer") as viewer:
            with gr.Row(elem_id="qa-viewer-bar", equal_height=True):
                source_title = gr.HTML(elem_id="qa-source-head")
                close = gr.Button("Close ✕", size="sm", scale=0, min_width=90, elem_id="qa-viewer-close")
            source = gr.HTML(js_on_load=SOURCE_JS, elem_id="qa-source")

        asked = [question, turns, k, sources]
        for trigger in (question.submit, send.click):
            trigger(on_ask, asked, [chat, turns, question], show_progress="hidden", **private)
        chat.example(
            on_example, [turns, k, sources], [chat, turns, question], show_progress="hidden", **private
        )
        chat.cite(on_cite, [turns], [viewer, source_title, source], show_progress="hidden", **private)
        fb_out = [chat, turns, wrong_turn, wrong_box, wrong_prompt, wrong_error]
        chat.feedback(on_feedback, [turns], fb_out, show_progress="hidden", **private)
        wrong_save.click(on_wrong_save, [turns, wrong_turn, expected], fb_out, **private)
        wrong_cancel.click(
            lambda: (None, gr.update(visible=False), ""),
            None,
            [wrong_turn, wrong_box, wrong_error],
            **private,
        )
        clear.click(on_clear, None, [chat, turns, wrong_turn, wrong_box], **private)
        close.click(lambda: gr.update(visible=False), None, viewer, **private)
        upload.upload(
            on_upload,
            [upload, sources],
            [status, docs_list, sources, removable, upload],
            api_name="upload",
            show_progress_on=[status],
        )
        remove.click(on_remove, [removable, sources], [status, docs_list, sources, removable], **private)
        demo.load(on_load, None, [chat, docs_list, sources, removable], **private)
        gr.api(ask, api_name="ask")
        gr.api(feedback, api_name="feedback")
        gr.api(documents, api_name="documents")
    return demo


def _saved_note(entry: dict[str, Any]) -> str:
    kind = "with the expected passage" if entry["evidence"] else "as not answerable"
    return f"saved {kind} (id {entry['id']})"


def theme():
    import gradio as gr

    return gr.themes.Soft(primary_hue="indigo", secondary_hue="amber", neutral_hue="slate")


def resolve_address(host: str | None, port: int | str | None) -> tuple[str, int]:
    """Where to listen: the arguments, else QA_HOST / QA_PORT, else 127.0.0.1:7860."""
    host = host or os.environ.get("QA_HOST") or DEFAULT_HOST
    raw = port if port not in (None, "") else os.environ.get("QA_PORT") or DEFAULT_PORT
    try:
        number = int(raw)
    except (TypeError, ValueError) as exc:
        raise InvalidSetting(f"the port must be a number, got {raw!r}") from exc
    if not 0 < number < 65536:
        raise InvalidSetting(f"the port must be between 1 and 65535, got {number}")
    return host, number


def check_port(host: str, port: int) -> None:
    """Fail now, before indexing, when nothing can listen on host:port (another server has it).

    Raises:
        InvalidSetting: the address is taken or cannot be used, with what to do.
    """
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As a server binds: a port left in TIME_WAIT by a server just stopped is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise InvalidSetting(
                f"cannot listen on {host}:{port}: {exc.strerror or exc}. Another chat (or another "
                "server) may be running there: stop it, or choose another port with --port N "
                "(or QA_PORT=N)"
            ) from exc


def password_auth() -> Any:
    """A login check when QA_PASSWORD is set (any user name), else None."""
    password = os.environ.get("QA_PASSWORD", "")
    if not password:
        return None

    def check(username: str, given: str) -> bool:
        return hmac.compare_digest(given.encode("utf-8"), password.encode("utf-8"))

    return check


def launch(
    seeds_dir: str | Path = "seeds",
    index_dir: str | Path = "index",
    settings: Settings | None = None,
    host: str | None = None,
    port: int | None = None,
    *,
    feedback_path: str | Path | None = None,
) -> None:
    """Serve the chat page until interrupted.

    Args:
        seeds_dir: the corpus folder; uploads land here.
        index_dir: the index folder.
        settings: indexing and answering settings.
        host: address to listen on (default: QA_HOST or 127.0.0.1, this machine only).
        port: port (default: QA_PORT or 7860).
        feedback_path: where feedback is appended (default: QA_FEEDBACK or feedback/feedback.jsonl).
    """
    # Gradio would otherwise try to reach its analytics servers.
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    host, port = resolve_address(host, port)
    check_port(host, port)
    app = ChatApp(seeds_dir, index_dir, settings, feedback_path=feedback_path)
    # Index before serving, so the first question does not wait for it; a folder without
    # documents is fine: they can be uploaded from the page.
    app.corpus_files()  # CorpusNotFound when the folder is missing
    try:
        report = build_index(app.seeds_dir, app.index_dir, settings=app.settings, progress=True)
        print(f"{report.documents} documents indexed ({report.chunks} passages)", file=sys.stderr)
    except EmptyCorpus:
        print(f"no documents in {app.seeds_dir} yet: add some from the page", file=sys.stderr)
    # Loaded now, not at the first question.
    get_query_encoder(app.settings.model, app.settings.batch_size, app.settings.precision)
    demo = build_app(app)
    auth = password_auth()
    demo.queue(default_concurrency_limit=4)
    demo.launch(
        server_name=host,
        server_port=port,
        auth=auth,
        auth_message="Enter the password (QA_PASSWORD); any user name works." if auth else None,
        max_file_size=max_upload_bytes(),
        theme=theme(),
        css=CSS,
        ssr_mode=False,
        footer_links=["api"],
        show_error=True,
    )


def main() -> None:
    """``python app.py [--host H] [--port P] [--seeds-dir D] [--index-dir D]``: serve the chat."""
    from .cli import main as cli_main

    sys.exit(cli_main(["serve", *sys.argv[1:]]))
