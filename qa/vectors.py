"""The FAISS index type follows the corpus size: exact search while it is fast enough, HNSW beyond.

The choice is a small JSON-able spec, recorded in the manifest by the indexer and rebuilt from
it by the store, so an index always says how it was made. It can be forced per build with
``build_index(vector_index=...)`` or the ``QA_FAISS`` environment variable, e.g.
``QA_FAISS=flat`` or ``QA_FAISS="hnsw:M=48,efSearch=256"``.

Kinds: ``flat`` (exact, float32), ``flat_fp16`` (exact scan over float16 copies: half the
memory, scores off by about 1e-4, the same top 10, and about twice as fast on one core, since a
scan is bound by the bytes it reads; what auto builds up to the threshold), ``hnsw`` (graph over
the float32 vectors: exact scores for what it finds), ``hnsw_fp16`` (the same graph over float16 copies: 0.75 KB less per vector, scores off by
about 1e-4, the same recall and speed; what auto builds beyond the threshold), ``hnsw_sq8`` (over
8-bit scalar-quantized vectors: about a third of the memory, scores off by about 1e-3, so scores
that feed quote selection change slightly).

A re-index keeps the previous HNSW graph instead of building it anew (``updated_graph``): see
``RowIndex``.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .errors import InvalidSetting
from .rowfile import row_positions

ENV = "QA_FAISS"
KINDS = ("auto", "flat", "flat_fp16", "hnsw", "hnsw_fp16", "hnsw_sq8")
# Kinds whose index holds every vector in float32 or float16, so they can be read back from it.
KEEPS_VECTORS = ("flat", "flat_fp16", "hnsw", "hnsw_fp16")
# Exact search up to this many chunks. Measured on 2 cores (one query, 300 real MiniLM vectors as
# questions): a float16 scan (flat_fp16) costs 0.4 ms at 16k vectors and 1.6 ms at 45k (float32
# IndexFlatIP: 0.9 and 3.8 ms on one thread, 2.8 and 7.4 on two), and a flat index is rebuilt in
# no time when a document changes; HNSW answers in under 1 ms but its graph takes ~30 s per 60k
# vectors to build.
AUTO_FLAT_MAX = 50_000
# HNSW defaults. On 60,716 real MiniLM vectors (SciFact chunks and sentences, 300 real questions)
# against exact search, efSearch 128 already gives recall@10 0.998 (hnsw_sq8: 0.993). A corpus
# full of near-duplicates is harder: on the benchmark's derived 100k (100 mixed copies of 1k real
# chunks) recall@10 is 0.84 at 128, 0.96 at 512 and 0.98 at 1024, and 512 still costs only
# 0.6 ms a query on one core, so 512 it is. `benchmarks/bench.py` re-checks both. Over float16
# vectors (hnsw_fp16): recall@10 0.999 on those 60,716 real vectors, 0.954 on the derived 100k
# (float32: 0.954), and the same ask() latency, for 75 MB less resident memory at 100k.
HNSW_DEFAULTS = {"M": 32, "efConstruction": 80, "efSearch": 512}
_INT_PARAMS = {"M", "efConstruction", "efSearch"}
# Kinds whose index is a graph, slow to build (5.3 s for 100k vectors and 65 s for 1M here:
# benchmarks/bench.py's faiss_build step) and updated in place by a re-index.
GRAPH_KINDS = ("hnsw", "hnsw_fp16", "hnsw_sq8")
# A re-index keeps the previous graph while at most this share of its slots is dead (held by
# chunks that are gone); past it, the graph is built anew without them.
REUSE_DEAD_MAX = 0.2


@dataclass(frozen=True)
class IndexSpec:
    """Which FAISS index to build and with what parameters (as stored in the manifest)."""

    kind: str  # one of KINDS but "auto" (that is resolved at build time)
    params: dict[str, int] = field(default_factory=dict)
    requested: str = "auto"  # what was asked for, to tell a default from an override

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_manifest(cls, value: Any) -> IndexSpec:
        """The spec of an existing index; indexes from before this module were exact ("Flat")."""
        if isinstance(value, dict) and value.get("kind") in KINDS[1:]:
            return cls(value["kind"], dict(value.get("params") or {}), value.get("requested", "auto"))
        return cls("flat", {}, "flat")


def parse(text: str) -> tuple[str, dict[str, int]]:
    """``"hnsw:M=32,efSearch=128"`` -> ("hnsw", {"M": 32, "efSearch": 128}).

    Raises:
        InvalidSetting: (a ValueError) unknown kind or parameter, naming the accepted ones.
    """
    kind, _, rest = text.strip().partition(":")
    kind = kind.strip().lower() or "auto"
    if kind not in KINDS:
        raise InvalidSetting(
            f"unknown FAISS index kind {kind!r} (from vector_index= or ${ENV}); use one of {', '.join(KINDS)}"
        )
    params: dict[str, int] = {}
    for item in filter(None, (p.strip() for p in rest.split(","))):
        name, _, value = item.partition("=")
        name = name.strip()
        if name not in _INT_PARAMS or not value.strip().isdigit() or int(value) < 1:
            raise InvalidSetting(
                f"bad FAISS index parameter {item!r} (from vector_index= or ${ENV}); expected "
                "NAME=positive integer with NAME in "
                f"{', '.join(sorted(_INT_PARAMS))}"
            )
        params[name] = int(value)
    return kind, params


def choose(n: int, requested: str | None = None) -> IndexSpec:
    """The index spec for ``n`` vectors.

    Args:
        n: number of vectors.
        requested: "auto", "flat", "flat_fp16", "hnsw", optionally with parameters ("hnsw:efSearch=256");
            None reads the ``QA_FAISS`` environment variable, then falls back to "auto".

    Returns:
        A resolved IndexSpec (auto: "flat_fp16" up to AUTO_FLAT_MAX vectors, else "hnsw_fp16").
    """
    text = requested if requested is not None else os.environ.get(ENV, "") or "auto"
    kind, params = parse(text)
    resolved = kind if kind != "auto" else ("flat_fp16" if n <= AUTO_FLAT_MAX else "hnsw_fp16")
    if resolved in ("flat", "flat_fp16"):
        return IndexSpec(resolved, {}, text)
    return IndexSpec(resolved, {**HNSW_DEFAULTS, **params}, text)


def make_index(vectors: np.ndarray, spec: IndexSpec | None = None) -> Any:
    """A FAISS inner-product index over ``vectors`` (row i = id i), built as ``spec`` says.

    Args:
        vectors: (n, dim) L2-normalized float32 vectors.
        spec: the index to build; None chooses by size (see ``choose``).

    Returns:
        The FAISS index, ready to search.
    """
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    spec = spec or choose(len(vectors))
    dim = vectors.shape[1]
    params = {**HNSW_DEFAULTS, **spec.params}
    if spec.kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, int(params["M"]), faiss.METRIC_INNER_PRODUCT)
    elif spec.kind in ("hnsw_fp16", "hnsw_sq8"):
        quantizer = (
            faiss.ScalarQuantizer.QT_fp16 if spec.kind == "hnsw_fp16" else faiss.ScalarQuantizer.QT_8bit
        )
        index = faiss.IndexHNSWSQ(dim, quantizer, int(params["M"]), faiss.METRIC_INNER_PRODUCT)
        if len(vectors):
            index.train(vectors)
    elif spec.kind == "flat_fp16":
        index = faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
    else:
        index = faiss.IndexFlatIP(dim)
    if hasattr(index, "hnsw"):
        index.hnsw.efConstruction = int(params["efConstruction"])
    if len(vectors):
        index.add(vectors)
    tune(index, spec)
    return index


def updated_graph(
    previous: RowIndex, previous_spec: IndexSpec, spec: IndexSpec, src: np.ndarray, vectors: np.ndarray
) -> RowIndex | None:
    """The previous graph brought up to date, or None when it should be built anew.

    Kept vectors keep their slots, new ones are added at the end, and the slots of chunks that
    went are marked dead, their vectors erased (see ``RowIndex``). Built anew: another kind or build parameters, an
    empty or untrained graph, or more than REUSE_DEAD_MAX of the slots dead.

    The previous FAISS index is updated in place, not copied (a copy is as large as the graph):
    ``previous`` is the caller's to give up, and must not be searched afterwards.

    Args:
        previous: the previous generation's index.
        previous_spec: how it was built (its manifest's spec).
        spec: the spec of the new index.
        src: for each new row, the previous row whose vector it keeps, or -1 for a new vector.
        vectors: (n_rows, dim) the new vectors: only the rows with src -1 are read (a kept
            vector is read from the graph, where another row holds its slot).
    """
    build = {k: v for k, v in spec.params.items() if k != "efSearch"}  # efSearch is set at search
    if (
        spec.kind not in GRAPH_KINDS
        or previous_spec.kind != spec.kind
        or {k: v for k, v in previous_spec.params.items() if k != "efSearch"} != build
        or previous.index.ntotal == 0
        or not previous.index.is_trained
        or previous.index.d != vectors.shape[1]
    ):
        return None
    n_slots = int(previous.index.ntotal)
    old_slots = previous.row_slots if previous.row_slots is not None else np.arange(n_slots)
    slot_rows = np.full(n_slots, -1, dtype=np.int64)
    hit = np.flatnonzero(src >= 0)
    # Two new rows with the vector of one previous row (a document copied): one takes the slot.
    slots, first = np.unique(old_slots[src[hit]], return_index=True)
    slot_rows[slots] = hit[first]
    placed = np.zeros(len(src), dtype=bool)
    placed[hit[first]] = True
    added = np.flatnonzero(~placed)
    total = n_slots + len(added)
    if total - len(src) > REUSE_DEAD_MAX * total:
        return None
    index = previous.index
    if len(added):
        fresh = np.ascontiguousarray(vectors[added], dtype=np.float32)
        copied = src[added] >= 0  # a second row with one previous row's vector
        if copied.any():
            fresh[copied] = previous.reconstruct_batch(src[added][copied])
        index.add(fresh)
    tune(index, spec)
    slot_rows = np.concatenate([slot_rows, added])
    _erase(index, np.flatnonzero(slot_rows < 0))
    identity = np.array_equal(slot_rows, np.arange(total))
    return RowIndex(index, None if identity else slot_rows)


def _erase(index: Any, slots: np.ndarray) -> None:
    """Overwrite the stored vectors of ``slots`` with the code of a zero vector.

    A deleted document's vectors then stay nowhere in the index: its graph nodes keep only
    their links. On real vectors and questions, a graph with a fifth of its slots dead this way
    keeps recall@10 at 0.999 (``benchmarks/bench.py``'s recall step).
    """
    if not len(slots):
        return
    import faiss

    storage = faiss.downcast_index(index.storage)
    zero = storage.sa_encode(np.zeros((1, storage.d), dtype=np.float32))
    size = int(storage.code_size)
    codes = faiss.rev_swig_ptr(storage.codes.data(), int(storage.ntotal) * size)
    np.frombuffer(codes, dtype=np.uint8).reshape(-1, size)[slots] = zero[0]


class RowIndex:
    """A FAISS index searched and read by chunk row, whatever slots the rows hold in it.

    A re-index keeps the previous HNSW graph (``updated_graph``) rather than build one, which
    takes longer than the rest of a re-index put together. Kept vectors keep their slots and new ones
    are added at the end, so slots are no longer rows: ``slot_rows`` maps each slot to its row,
    -1 for a dead slot, one whose chunk is gone. A dead slot's vector is erased (``_erase``)
    and an ID selector leaves it out of every search (never returned, whatever k); its node
    still links its neighbours in the graph, as a node marked deleted in hnswlib does, until
    dead slots pass REUSE_DEAD_MAX and the graph is built anew without them (as
    ``qa build --rebuild`` does). ``slot_rows`` is None when slots are rows.

    ``search``, ``reconstruct_batch`` and ``ntotal`` speak rows; anything else (``hnsw``, ``d``)
    is the FAISS index's own.
    """

    def __init__(self, index: Any, slot_rows: np.ndarray | None = None) -> None:
        import faiss

        self.index = index
        self.slot_rows: np.ndarray | None = None
        self.row_slots: np.ndarray | None = None
        self._selector = None
        if slot_rows is None:
            return
        slot_rows = np.asarray(slot_rows, dtype=np.int64)
        if slot_rows.shape != (index.ntotal,):
            raise ValueError(f"{len(slot_rows)} slot rows for an index of {index.ntotal} vectors")
        live = slot_rows >= 0
        rows = slot_rows[live]
        if len(rows) and (rows.max() >= len(rows) or np.bincount(rows, minlength=len(rows)).max() > 1):
            raise ValueError("the slot rows are not a permutation of the chunk rows")
        self.slot_rows = slot_rows
        self.row_slots = np.zeros(len(rows), dtype=np.int64)
        self.row_slots[rows] = np.flatnonzero(live)
        if not live.all():
            self._bitmap = np.packbits(live, bitorder="little")  # kept alive for the selector
            self._selector = faiss.IDSelectorBitmap(len(live), faiss.swig_ptr(self._bitmap))

    @property
    def ntotal(self) -> int:
        """Live vectors: one per chunk row."""
        return int(self.index.ntotal) if self.row_slots is None else len(self.row_slots)

    @property
    def dead(self) -> int:
        return int(self.index.ntotal) - self.ntotal

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Scores and rows of the k best live vectors per query (row -1 where there are fewer)."""
        import faiss

        if self.slot_rows is None:
            return self.index.search(queries, k)
        if self._selector is None:
            params = None
        elif hasattr(self.index, "hnsw"):
            # Parameters passed to a search replace the index's own efSearch: pass it on.
            params = faiss.SearchParametersHNSW(sel=self._selector, efSearch=self.index.hnsw.efSearch)
        else:
            params = faiss.SearchParameters(sel=self._selector)
        scores, slots = self.index.search(queries, k, params=params)
        return scores, np.where(slots >= 0, self.slot_rows[np.maximum(slots, 0)], -1)

    def reconstruct_batch(self, rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        return self.index.reconstruct_batch(rows if self.row_slots is None else self.row_slots[rows])

    def __getattr__(self, name: str) -> Any:
        if name == "index":  # not set yet (a copy being made): no recursion
            raise AttributeError(name)
        return getattr(self.index, name)


def tune(index: Any, spec: IndexSpec) -> None:
    """Apply the search-time parameters of ``spec`` (they are not all kept by write_index)."""
    if spec.kind != "flat" and hasattr(index, "hnsw"):
        index.hnsw.efSearch = int(spec.params.get("efSearch", HNSW_DEFAULTS["efSearch"]))


class IndexRows:
    """The vectors a FAISS index keeps (a kind of KEEPS_VECTORS), read back by row as float32.

    Stands in for a stored array of chunk vectors: an index of a kind that keeps them already
    holds them (float16 copies are within about 1e-4 of float32, and give back the same
    float16 codes when added to a new float16 index), so a generation stores them once.
    Indexing (an int, a slice or an array of rows) and ``np.asarray`` give float32.
    """

    dtype = np.dtype(np.float32)
    ndim = 2

    def __init__(self, index: Any, row_slots: np.ndarray | None = None) -> None:
        self.index = index
        self.row_slots = row_slots  # each row's slot in the index (RowIndex), None: the same

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self), int(self.index.d))

    def __len__(self) -> int:
        return int(self.index.ntotal) if self.row_slots is None else len(self.row_slots)

    def __getitem__(self, key) -> np.ndarray:
        rows, shape = row_positions(key, len(self))
        if self.row_slots is not None:
            rows = self.row_slots[rows]
        stored = self._stored()
        if not len(rows):
            out = np.zeros((0, self.index.d), dtype=np.float32)
        elif stored is None:  # 8-bit codes: decoded by FAISS
            out = self.index.reconstruct_batch(rows)
        else:
            out = stored[rows].astype(np.float32)
        return out.reshape(*shape, self.index.d)

    def _stored(self) -> np.ndarray | None:
        """The index's own float32 or float16 vectors, viewed in place (no copy), if it has them.

        Decoding them one by one (``reconstruct_batch``) took 30-90 ms for the 31k float16
        vectors a re-index gathers; a view and one conversion take 27-37 ms. The view is only
        valid while the index lives: callers get copies.
        """
        import faiss

        store = faiss.downcast_index(self.index.storage) if hasattr(self.index, "storage") else self.index
        n, d = int(store.ntotal), int(store.d)
        if isinstance(store, faiss.IndexFlat) and store.code_size == 4 * d:
            dtype = np.float32
        elif (
            isinstance(store, faiss.IndexScalarQuantizer) and store.sq.qtype == faiss.ScalarQuantizer.QT_fp16
        ):
            dtype = np.float16
        else:
            return None
        if n == 0:
            return np.zeros((0, d), dtype=dtype)
        raw = faiss.rev_swig_ptr(store.codes.data(), n * int(store.code_size))
        return np.frombuffer(raw, dtype=dtype).reshape(n, d)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        whole = self[np.arange(len(self))]
        return whole if dtype is None else whole.astype(dtype, copy=False)


def recall_at_k(exact_rows: np.ndarray, approx_rows: np.ndarray, k: int = 10) -> float:
    """Mean share of the exact top-k found in the approximate top-k (rows: one per query)."""
    hits = [
        len(set(e[:k].tolist()) & set(a[:k].tolist())) / k
        for e, a in zip(exact_rows, approx_rows, strict=True)
    ]
    return float(np.mean(hits)) if hits else 1.0
