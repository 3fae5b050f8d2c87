"""Run a BEIR-layout benchmark (corpus.jsonl, queries.jsonl, qrels/<split>.tsv) through the
same index and ranking that answer questions, and score it at the document level with ranx.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from .answer import make_query, rank
from .embedding import get_embedder
from .engine import get_engine
from .errors import QAError
from .retrieval import Retriever
from .settings import Settings
from .store import sha256_file

# Candidates per retriever: enough for Recall@100 at the document level.
BEIR_CANDIDATES = 300


@dataclass(frozen=True)
class BeirResult:
    name: str
    metrics: dict[str, float]
    run: dict[str, dict[str, float]]
    seconds: float


def _rows(path: Path) -> Iterator[dict]:
    """The objects of a JSON-lines file, one at a time (a corpus can be gigabytes)."""
    with open(path, encoding="utf-8") as fh:
        yield from (json.loads(line) for line in fh if line.strip())


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    with open(path, encoding="utf-8") as fh:
        for row in csv.reader(fh, delimiter="\t"):
            if len(row) < 3 or not row[2].strip().lstrip("-").isdigit():
                continue  # header
            qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    return qrels


# How documents are named on disk; a materialized corpus named another way is written anew.
NAMING = "names-2"
IDS = "ids.json"  # file name (without .md) -> document id, for ids that are not file names


def materialize(beir_dir: Path, work: Path) -> Path:
    """Write the corpus as one markdown file per document (title as heading), once.

    The product indexes folders of documents; a benchmark goes through the same path. A
    document id that makes a plain file name is its file's name; any other (a slash, a
    leading dot, hundreds of characters) gets a digest of it, listed in ids.json.
    """
    corpus = beir_dir / "corpus.jsonl"
    if not corpus.is_file():
        raise QAError(f"{corpus} not found: --beir needs a folder with corpus.jsonl, queries.jsonl, qrels/")
    digest = f"{sha256_file(corpus)} {NAMING}"
    docs = work / "docs"
    marker = work / "corpus.sha256"
    if marker.is_file() and marker.read_text().strip() == digest:
        return docs
    marker.unlink(missing_ok=True)
    shutil.rmtree(docs, ignore_errors=True)  # files of an older corpus or naming
    docs.mkdir(parents=True)
    named: dict[str, str] = {}
    for row in _rows(corpus):
        title, text = (row.get("title") or "").strip(), (row.get("text") or "").strip()
        body = f"# {title}\n\n{text}\n" if title else f"{text}\n"
        doc_id = str(row["_id"])
        name = file_name(doc_id)
        if name != doc_id:
            named[name] = doc_id
        (docs / f"{name}.md").write_text(body, encoding="utf-8")
    (work / IDS).write_text(json.dumps(named))
    marker.write_text(digest)
    return docs


_NOT_IN_NAMES = re.compile(r"[/\\%~\x00-\x1f]")


def file_name(doc_id: str) -> str:
    """The file name (without .md) of a document: its id, when that is a plain file name."""
    plain = doc_id and not doc_id.startswith(".") and len(doc_id.encode()) <= 200
    if plain and not _NOT_IN_NAMES.search(doc_id):
        return doc_id
    return "~" + hashlib.sha256(doc_id.encode()).hexdigest()[:32]


def run_one(
    beir_dir: Path, work: Path, settings: Settings, split: str, name: str, progress: bool = True
) -> BeirResult:
    from ranx import Qrels, Run, evaluate
    from tqdm import tqdm

    qrels_path = beir_dir / "qrels" / f"{split}.tsv"
    if not qrels_path.is_file():
        splits = sorted(p.stem for p in (beir_dir / "qrels").glob("*.tsv"))
        raise QAError(
            f"{qrels_path} not found: --beir needs qrels/<split>.tsv; this folder has "
            + (f"the splits {', '.join(splits)} (choose one with --split)" if splits else "none")
        )
    qrels = read_qrels(qrels_path)
    # Ids as strings, as the qrels file has them (some corpora write numbers in JSON).
    queries = {str(q["_id"]): q.get("text") or "" for q in _rows(beir_dir / "queries.jsonl")}
    queries = {qid: text for qid, text in queries.items() if qid in qrels}
    if not queries:
        raise QAError(f"no query in {beir_dir / 'queries.jsonl'} is judged in {qrels_path}: nothing to score")
    docs = materialize(beir_dir, work)
    named = json.loads((work / IDS).read_text())
    settings = replace(settings, candidates=max(settings.candidates, BEIR_CANDIDATES))
    engine = get_engine(docs, work / "index", settings)
    index = engine.index()
    embedder = get_embedder(settings.model, settings.batch_size, settings.precision)
    retriever = Retriever(index, settings)
    ids = list(queries)
    t0 = time.perf_counter()
    run: dict[str, dict[str, float]] = {}
    for qid in tqdm(ids, desc=f"beir {name}", disable=not progress, leave=False):
        query = make_query(queries[qid], embedder, index.lexicon)
        hits = retriever.search(query.text, query.vec)
        ranking: dict[str, float] = {}
        for row, _score in rank(index, hits, query, settings):
            stem = index.chunks.doc_id(row).removesuffix(".md")
            doc = named.get(stem, stem)
            # A query that is itself a document (ArguAna's arguments, Quora's questions) does
            # not retrieve itself: BEIR's evaluation leaves such pairs out, and so does this.
            if doc == qid:
                continue
            if doc not in ranking:
                ranking[doc] = float(1000 - len(ranking))
            if len(ranking) == 100:
                break
        run[qid] = ranking or {"none": 0.0}
    seconds = time.perf_counter() - t0
    metrics = evaluate(Qrels(qrels), Run(run), ["ndcg@10", "recall@100"])
    return BeirResult(
        name, {"ndcg@10": metrics["ndcg@10"], "recall@100": metrics["recall@100"]}, run, seconds
    )


def run_beir(args: argparse.Namespace, settings: Settings) -> int:
    from ranx import Run

    from .report import chart_values, configurations, table

    beir_dir = Path(args.beir)
    work = Path(args.index_dir) / "beir" / beir_dir.resolve().name
    configs = configurations(settings) if args.compare else {"default": settings}
    results = [run_one(beir_dir, work, cfg, args.split, name) for name, cfg in configs.items()]
    columns = [
        ("ndcg@10", "nDCG@10", "{:.4f}"),
        ("recall@100", "Recall@100", "{:.4f}"),
        ("ms", "ms/query", "{:.1f}"),
    ]
    rows = [(r.name, r.metrics | {"ms": 1000 * r.seconds / max(1, len(r.run))}) for r in results]
    print(f"{beir_dir.name} ({args.split}, {len(results[0].run)} queries)")
    print(table(rows, columns))
    if args.run_out:
        Run(results[-1].run, name=results[-1].name).save(args.run_out, kind="trec")
        print(f"run written to {args.run_out} (TREC format)")
    if args.compare:
        chart_values(
            rows, columns[:2], args.chart or f"eval-{beir_dir.name}.png", f"{beir_dir.name} ({args.split})"
        )
    return 0
