"""Ask questions of your own documents; get the answer as a verbatim, cited quote."""

from .engine import ask
from .errors import (
    CorpusNotFound,
    EmptyCorpus,
    EmptyQuestion,
    IndexCorrupt,
    IndexMismatch,
    IndexWriteError,
    QAError,
)
from .indexer import BuildReport, build_index
from .settings import Settings
from .types import Answer, Chunk, Document, Passage

__all__ = [
    "Answer",
    "BuildReport",
    "Chunk",
    "CorpusNotFound",
    "Document",
    "EmptyCorpus",
    "EmptyQuestion",
    "IndexCorrupt",
    "IndexMismatch",
    "IndexWriteError",
    "Passage",
    "QAError",
    "Settings",
    "ask",
    "build_index",
]
