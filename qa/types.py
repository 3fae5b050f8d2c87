"""The data that crosses module boundaries: Document -> Chunk -> Passage -> Answer."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Document:
    """One source file: text files exactly as ``open(path).read()`` returns them, PDF and HTML
    as their extracted text (see qa/formats.py); every offset refers to ``text``.
    """

    doc_id: str  # path relative to the corpus root, with forward slashes
    path: str
    text: str
    sha256: str  # of the file's bytes
    pages: tuple[int, ...] = ()  # start offset of each page in ``text`` (PDF); empty otherwise


@dataclass(frozen=True)
class Sentence:
    """A sentence (or a bullet line) as exact character offsets into its document."""

    start: int
    end: int


@dataclass(frozen=True)
class Chunk:
    """A run of whole sentences from one section of a document, the unit of retrieval."""

    doc_id: str
    start: int
    end: int
    text: str  # == document.text[start:end]
    heading: str  # the section heading this chunk sits under ("" when none)
    sentences: tuple[Sentence, ...]
    position: int = 0  # order of the chunk inside its document
    gap_before: str = ""  # document text between the previous chunk and this one

    @property
    def embed_text(self) -> str:
        """The text that is embedded and keyword-indexed: heading as context, then the chunk."""
        return f"{self.heading}\n{self.text}" if self.heading else self.text


@dataclass(frozen=True)
class Passage:
    """A verbatim quote from a document with its citation.

    ``open(corpus_root / source).read()[start:end] == text`` always holds for text files; for
    PDF and HTML the offsets refer to the extracted text,
    ``read_document(corpus_root, source).text[start:end] == text``.
    """

    text: str
    source: str
    start: int
    end: int
    highlight: tuple[int, int]  # offsets inside ``text`` of the sentence(s) that best answer
    score: float
    heading: str = ""
    page: int | None = None  # 1-based page for paged formats (PDF); None otherwise

    @property
    def highlighted(self) -> str:
        """The highlighted sentence(s) alone."""
        return self.text[self.highlight[0] : self.highlight[1]]


@dataclass(frozen=True)
class Answer:
    """The result of a question: quoted passages, best first, and whether they answer it."""

    question: str
    found: bool
    passages: list[Passage] = field(default_factory=list)
    query: str = ""  # the text actually searched (differs from question for follow-ups)
    notices: tuple[str, ...] = ()  # things the user should know (e.g. a question was shortened)
