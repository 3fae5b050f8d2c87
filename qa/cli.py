"""The `qa` command: build | ask | eval | serve. Heavy libraries load only when a command runs."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import textwrap
from dataclasses import asdict, replace

from .errors import QAError
from .journal import pending
from .settings import Settings


def _settings(args: argparse.Namespace) -> Settings:
    changes = {}
    for name in ("model", "chunk_tokens", "reranker", "bm25_weight", "precision"):
        value = getattr(args, name, None)
        if value is not None:
            changes[name] = value
    return replace(Settings(), **changes)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seeds-dir", default="seeds", help="corpus folder (default: seeds)")
    p.add_argument("--index-dir", default="index", help="index folder (default: index)")
    p.add_argument("--model", help="sentence-transformers model name or path (default: bundled MiniLM)")
    p.add_argument("--chunk-tokens", type=int, help="token budget per chunk")
    p.add_argument("--reranker", help="optional cross-encoder name or path")
    p.add_argument("--bm25-weight", type=float, help="weight of keyword search in fusion")
    p.add_argument(
        "--precision",
        choices=("auto", "float32", "bfloat16"),
        help="embedding arithmetic (default auto: bfloat16 where the CPU has it)",
    )


def _mark(text: str, start: int, end: int, tty: bool) -> str:
    on, off = ("\033[1;4m", "\033[0m") if tty else ("**", "**")
    return text[:start] + on + text[start:end] + off + text[end:]


def cmd_build(args: argparse.Namespace) -> int:
    from .indexer import build_index

    report = build_index(
        args.seeds_dir, args.index_dir, settings=_settings(args), rebuild=args.rebuild, progress=True
    )
    if not report.changed:
        print(f"index is up to date: {report.documents} documents, {report.chunks} chunks")
    else:
        print(
            f"indexed {report.documents} documents into {report.chunks} chunks "
            f"({report.embedded} embedded, {report.reused} reused) in {report.seconds:.1f}s"
            + (
                f"; resumed: {report.resumed} of them were embedded before an interrupt"
                if report.resumed
                else ""
            )
        )
    for s in report.skipped:
        print(f"skipped {s.doc_id}: {s.reason}")
    for group in report.duplicates:
        print(f"same content: {', '.join(group)} (all indexed; a shared quote is shown once)")
    for doc in report.removed:
        print(f"removed {doc}")
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from .engine import ask

    answer = ask(
        args.question, k=args.k, seeds_dir=args.seeds_dir, index_dir=args.index_dir, settings=_settings(args)
    )
    if args.json:
        print(json.dumps(asdict(answer), ensure_ascii=False, indent=1))
        return 0
    tty = sys.stdout.isatty()
    for notice in answer.notices:
        print(f"note: {notice}")
    if answer.found:
        print("Answer, quoted from your documents:\n")
    else:
        print("Your documents do not seem to answer this. The closest passages:\n")
    for i, p in enumerate(answer.passages, 1):
        where = f"{p.source}" + (f" › {p.heading}" if p.heading else "")
        print(f"[{i}] {where}  (chars {p.start}-{p.end}, score {p.score:.2f})")
        body = _mark(p.text, *p.highlight, tty)
        print(textwrap.indent(body, "    "), end="\n\n")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from . import report

    return report.run_eval(args, _settings(args))


def cmd_serve(args: argparse.Namespace) -> int:
    from .ui import launch

    launch(
        seeds_dir=args.seeds_dir,
        index_dir=args.index_dir,
        settings=_settings(args),
        host=args.host,
        port=args.port,
        feedback_path=args.feedback,
    )
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="qa", description="Ask questions of your documents; answers are verbatim, cited quotes."
    )
    top.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    sub = top.add_subparsers(dest="command", required=True)

    p = sub.add_parser("build", help="build or update the index of the corpus folder")
    _common(p)
    p.add_argument("--rebuild", action="store_true", help="ignore the existing index; embed everything")
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("ask", help="answer a question with quotes")
    p.add_argument("question")
    p.add_argument("-k", type=int, default=5, help="passages to show (default: 5)")
    p.add_argument("--json", action="store_true", help="print the Answer as JSON")
    _common(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("eval", help="score retrieval on a gold set or a BEIR benchmark")
    p.add_argument(
        "gold",
        nargs="*",
        help="gold set(s) (JSON lines: id, question, evidence, answerable); several: a row each",
    )
    p.add_argument("--beir", metavar="DIR", help="a benchmark in BEIR layout instead of a gold set")
    p.add_argument("--split", default="test", help="BEIR qrels split (default: test)")
    p.add_argument("--run-out", metavar="FILE", help="write the BEIR ranking as a TREC run file")
    p.add_argument("--compare", action="store_true", help="evaluate BM25-only, dense-only and default")
    p.add_argument("--chart", metavar="PNG", help="where --compare writes its chart")
    p.add_argument("-k", type=int, default=10, help="passages per question (default: 10)")
    p.add_argument("--misses", type=int, default=10, help="how many missed questions to list")
    _common(p)
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("serve", help="serve the chat page")
    p.add_argument(
        "--host", help="address to listen on (default: $QA_HOST, else 127.0.0.1: this machine only)"
    )
    p.add_argument("--port", type=int, help="port (default: $QA_PORT, else 7860)")
    p.add_argument(
        "--feedback",
        metavar="FILE",
        help="feedback file (default: $QA_FEEDBACK, else feedback/feedback.jsonl)",
    )
    _common(p)
    p.set_defaults(func=cmd_serve)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s: %(message)s"
    )
    try:
        return args.func(args)
    except QAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        message = "interrupted; the previous index (if any) is unchanged"
        kept = pending(args.index_dir) if getattr(args, "index_dir", None) else 0
        if kept:
            message += f"; {kept:,} vectors embedded so far are kept: run the same command to resume"
        print(message, file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
