"""qa.documents: which files of a corpus folder become Documents, and exactly what text."""

from __future__ import annotations

import hashlib
import logging
import os

import pytest

from qa.documents import load_documents, read_document, scan
from qa.errors import CorpusNotFound, QAError


def _write(path, data: bytes | str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)


def _skip_messages(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_loads_txt_and_md_recursively_sorted_by_id(tmp_path):
    _write(tmp_path / "b.txt", "Bee text.\n")
    _write(tmp_path / "a.md", "# Title\n\nAy text.\n")
    _write(tmp_path / "sub" / "deeper" / "c.txt", "Sea text.\n")
    _write(tmp_path / "sub" / "d.markdown", "Dee text.\n")

    docs, skipped = load_documents(tmp_path)

    assert [d.doc_id for d in docs] == ["a.md", "b.txt", "sub/d.markdown", "sub/deeper/c.txt"]
    assert skipped == []
    c = docs[3]
    assert c.text == "Sea text.\n"
    assert c.path == str(tmp_path / "sub" / "deeper" / "c.txt")
    assert c.sha256 == hashlib.sha256(b"Sea text.\n").hexdigest()


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("latin1.txt", "Caf\xe9 cr\xe8me.\n".encode("latin-1"), "not UTF-8"),
        ("empty.txt", b"", "empty"),
        ("blank.md", b"  \n\t\n   \r\n", "empty"),
        ("binary.txt", b"Some text\x00\x01\x02 and then binary junk", "binary"),
        ("table.csv", b"a,b\n1,2\n", "unsupported"),
        ("photo.png", b"\x89PNG\r\n\x1a\n\x00\x00", "unsupported"),
        ("noext", b"Text without an extension.\n", "unsupported"),
    ],
)
def test_unreadable_files_are_skipped_with_a_warning_naming_them(tmp_path, caplog, name, data, reason):
    _write(tmp_path / "good.txt", "A good document.\n")
    _write(tmp_path / name, data)

    with caplog.at_level(logging.WARNING, logger="qa"):
        docs, skipped = load_documents(tmp_path)

    assert [d.doc_id for d in docs] == ["good.txt"]
    assert [s.doc_id for s in skipped] == [name]
    assert reason in skipped[0].reason
    messages = _skip_messages(caplog)
    assert len(messages) == 1
    assert name in messages[0] and reason in messages[0]


def test_symlink_pointing_outside_the_corpus_is_skipped_with_a_warning(tmp_path, caplog):
    corpus = tmp_path / "corpus"
    outside = tmp_path / "private" / "secret.txt"
    _write(outside, "Secret text that is not part of the corpus.\n")
    _write(corpus / "good.txt", "A good document.\n")
    (corpus / "leak.txt").symlink_to(outside)

    with caplog.at_level(logging.WARNING, logger="qa"):
        docs, _ = load_documents(corpus)

    assert [d.doc_id for d in docs] == ["good.txt"]
    assert all("Secret" not in d.text for d in docs)
    messages = _skip_messages(caplog)
    assert any("leak.txt" in m and "outside" in m for m in messages), messages


def test_symlink_inside_the_corpus_is_followed(tmp_path):
    _write(tmp_path / "real.txt", "Real text.\n")
    (tmp_path / "alias.txt").symlink_to(tmp_path / "real.txt")

    docs, skipped = load_documents(tmp_path)

    assert [d.doc_id for d in docs] == ["alias.txt", "real.txt"]
    assert docs[0].text == "Real text.\n"
    assert skipped == []


def test_hidden_files_and_folders_are_ignored_silently(tmp_path, caplog):
    _write(tmp_path / "visible.txt", "Visible.\n")
    _write(tmp_path / ".hidden.txt", "Hidden file.\n")
    _write(tmp_path / ".git" / "notes.txt", "Inside a hidden folder.\n")
    _write(tmp_path / "sub" / ".cache" / "x.md", "Deeper hidden folder.\n")
    _write(tmp_path / ".DS_Store", b"\x00\x01binary")

    with caplog.at_level(logging.WARNING, logger="qa"):
        docs, skipped = load_documents(tmp_path)

    assert [d.doc_id for d in docs] == ["visible.txt"]
    assert skipped == []
    assert _skip_messages(caplog) == []
    assert [s.doc_id for s in scan(tmp_path)] == ["visible.txt"]


def test_crlf_and_cr_text_is_exactly_what_open_read_gives(tmp_path):
    raw = "Title line\r\n\r\nFirst sentence.\r\nSecond one.\rOld Mac line.\n\u00e9t\u00e9 \u2014 done.\r\n"
    path = tmp_path / "windows.txt"
    path.write_bytes(raw.encode("utf-8"))

    docs, _ = load_documents(tmp_path)

    with open(path, encoding="utf-8") as fh:
        expected = fh.read()
    assert "\r" not in expected  # the premise: universal newlines
    assert docs[0].text == expected
    # The checksum is of the bytes on disk, so a newline-only change is still a change.
    assert docs[0].sha256 == hashlib.sha256(raw.encode("utf-8")).hexdigest()


def test_utf8_bom_is_kept_as_open_read_keeps_it(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbfHello there.\n")

    docs, _ = load_documents(tmp_path)

    with open(path, encoding="utf-8") as fh:
        assert docs[0].text == fh.read()


def test_missing_folder_raises_corpus_not_found(tmp_path):
    missing = tmp_path / "nope"
    with pytest.raises(CorpusNotFound) as info:
        load_documents(missing)
    assert isinstance(info.value, FileNotFoundError)
    assert isinstance(info.value, QAError)
    assert "nope" in str(info.value)
    assert "--seeds-dir" in str(info.value)


def test_a_file_instead_of_a_folder_raises_corpus_not_found(tmp_path):
    file = tmp_path / "single.txt"
    file.write_text("Not a folder.\n", encoding="utf-8")
    with pytest.raises(FileNotFoundError):
        load_documents(file)


def test_scan_reports_size_and_mtime_for_change_detection(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("Twelve bytes", encoding="utf-8")
    os.utime(path, ns=(1_000_000_000, 2_000_000_000))

    (stat,) = scan(tmp_path)

    assert (stat.doc_id, stat.size, stat.mtime_ns) == ("a.txt", 12, 2_000_000_000)


def test_read_document_reports_a_file_that_vanished(tmp_path):
    result = read_document(tmp_path, "gone.txt")
    assert not hasattr(result, "text")
    assert result.doc_id == "gone.txt"
    assert "cannot be read" in result.reason
