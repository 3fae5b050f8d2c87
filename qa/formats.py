"""Plain text out of PDF and HTML files, with the page offsets a citation needs.

For these formats a Passage's offsets refer to the extracted text, not to the raw file: the
extracted text is what is indexed, quoted and shown in the source viewer.
"""

from __future__ import annotations

import io
import re
from bisect import bisect_right
from html.parser import HTMLParser

PDF_SUFFIXES = (".pdf",)
HTML_SUFFIXES = (".html", ".htm")

# Pages are joined with a blank line so that a page break also ends a paragraph.
PAGE_SEPARATOR = "\n\n"


class FormatError(ValueError):
    """A file of a supported type whose text cannot be extracted; the message says why."""


def page_of(pages: tuple[int, ...] | list[int], offset: int) -> int | None:
    """The 1-based page holding ``offset`` of the extracted text, or None for unpaged documents.

    Args:
        pages: start offset of each page in the document text (``Document.pages``).
        offset: a character offset into the document text.

    Returns:
        The page number, counting from 1; None when ``pages`` is empty.
    """
    if not pages:
        return None
    return max(1, bisect_right(pages, offset))


def _clean_page(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    # Trailing spaces at line ends are layout noise; blank lines of spaces become blank lines.
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return text.strip()


def pdf_text(data: bytes) -> tuple[str, tuple[int, ...]]:
    """The text of a PDF, pages joined by a blank line, and where each page starts.

    Args:
        data: the bytes of the PDF file.

    Returns:
        The text and the start offset of every page in it (one per page, empty pages too).

    Raises:
        FormatError: not a readable PDF, or encrypted with a password.
    """
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    if not data.lstrip()[:5] == b"%PDF-":
        raise FormatError("is not a PDF file (it does not start with %PDF-)")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise FormatError("is a password-protected PDF")
        texts = [_clean_page(page.extract_text() or "") for page in reader.pages]
    except FormatError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise FormatError(f"is a damaged PDF ({exc})") from exc
    except Exception as exc:  # pypdf raises many kinds of errors on malformed files
        raise FormatError(f"is a PDF that cannot be read ({type(exc).__name__}: {exc})") from exc
    pages: list[int] = []
    pos = 0
    for text in texts:
        pages.append(pos)
        pos += len(text) + len(PAGE_SEPARATOR)
    return PAGE_SEPARATOR.join(texts), tuple(pages)


_SKIP = {"script", "style", "noscript", "template", "svg", "math", "iframe", "object"}
_BLOCK = {
    "address", "article", "aside", "blockquote", "body", "caption", "dd", "details", "dialog",
    "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "header", "hr",
    "html", "legend", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody",
    "tfoot", "thead", "ul",
}  # fmt: skip
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}


class _TextExtractor(HTMLParser):
    """Collect visible text as paragraphs: block elements break, inline elements flow."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.line: list[str] = []  # pieces of the current line
        self.lines: list[str] = []  # finished lines of the current block
        self.skip_depth = 0
        self.pre_depth = 0
        self.prefix = ""  # a list bullet or heading mark waiting for the text it introduces
        self.title: list[str] = []
        self.in_title = False

    def _end_line(self) -> None:
        text = "".join(self.line)
        if not self.pre_depth:
            text = " ".join(text.split())
        if text.strip():
            self.lines.append(text.rstrip())
        self.line = []

    def _end_block(self) -> None:
        self._end_line()
        if self.lines:
            self.blocks.append("\n".join(self.lines))
        self.lines = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title" and not self.skip_depth:
            self.in_title = True
            return
        if tag in _SKIP:
            self.skip_depth += 1
            return
        if self.skip_depth:
            return
        if tag in _HEADINGS:
            self._end_block()
            self.prefix = "#" * _HEADINGS[tag] + " "
        elif tag == "li":
            self._end_line()
            self.prefix = "- "
        elif tag == "br":
            self._end_line()
        elif tag == "tr":
            self._end_line()
        elif tag in ("td", "th"):
            if "".join(self.line).strip():
                self.line.append(" | ")
        elif tag in _BLOCK:
            self._end_block()
            if tag == "pre":
                self.pre_depth += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
            return
        if tag in _SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
            return
        if self.skip_depth:
            return
        if tag in _HEADINGS:
            self._end_block()
            self.prefix = ""
        elif tag == "li":
            self._end_line()
            self.prefix = ""
        elif tag == "tr":
            self._end_line()
        elif tag in _BLOCK:
            self._end_block()
            if tag == "pre":
                self.pre_depth = max(0, self.pre_depth - 1)

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title.append(data)
            return
        if self.skip_depth:
            return
        if self.prefix and data.strip():
            self.line.append(self.prefix)
            self.prefix = ""
        if self.pre_depth:
            parts = data.split("\n")
            for i, part in enumerate(parts):
                if i:
                    self._end_line()
                self.line.append(part)
        else:
            self.line.append(data)

    def text(self) -> str:
        self._end_block()
        blocks = [b for b in self.blocks if b.strip()]
        title = " ".join("".join(self.title).split())
        # The page title heads the text unless the page repeats it as its first heading.
        if title and not (blocks and blocks[0].lstrip("#").strip() == title):
            blocks.insert(0, f"# {title}")
        return "\n\n".join(blocks)


_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def decode_html(data: bytes) -> str:
    """The characters of an HTML file: UTF-8 (with or without BOM), else its declared charset.

    Raises:
        FormatError: the bytes are neither UTF-8 nor in the charset the page declares.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        match = _CHARSET.search(data[:4096])
        if match:
            name = match.group(1).decode("ascii", "replace")
            try:
                return data.decode(name)
            except (LookupError, UnicodeDecodeError):
                pass
        raise FormatError(f"is not UTF-8 (byte {exc.start}) and declares no usable charset") from exc


def html_text(data: bytes | str) -> str:
    """The visible text of an HTML page: scripts and styles dropped, paragraphs kept apart.

    Headings come out as markdown-style ``#`` lines and list items as ``- `` lines, so the
    chunker sees the page's structure.

    Args:
        data: the bytes (or text) of the HTML file.

    Returns:
        The text, paragraphs separated by a blank line.

    Raises:
        FormatError: the file cannot be decoded.
    """
    text = decode_html(data) if isinstance(data, bytes) else data
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    parser = _TextExtractor()
    parser.feed(text)
    parser.close()
    return parser.text()
