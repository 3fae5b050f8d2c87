"""RowFile: rows of a stored array read on demand are the rows np.load gives."""

from __future__ import annotations

import numpy as np
import pytest

from qa import rowfile
from qa.ragged import span_positions
from qa.rowfile import RowFile, read_spans


@pytest.fixture
def stored(tmp_path):
    data = np.random.default_rng(0).standard_normal((200, 6)).astype(np.float16)
    np.save(tmp_path / "a.npy", data)
    return data, RowFile(tmp_path / "a.npy")


def test_shape_and_type_are_the_files(stored):
    data, rows = stored
    assert len(rows) == 200 and rows.shape == (200, 6) and rows.ndim == 2 and rows.dtype == np.float16


@pytest.mark.parametrize(
    "key",
    [
        0,
        -1,
        np.int64(57),
        slice(10, 20),
        slice(None, None, 7),
        np.array([3, 4, 5, 9, 9, 2, 150, 151]),  # runs, a repeat, out of order
        np.array([], dtype=np.int64),
        np.array([-1, -200]),
        np.arange(200)[::-1],  # a run per row
        np.arange(200) % 3 == 0,
        np.array([[1, 2], [3, 4]]),
    ],
)
def test_indexing_gives_what_numpy_gives(stored, key):
    data, rows = stored
    got = rows[key]
    assert isinstance(got, np.ndarray) and got.dtype == np.float16
    np.testing.assert_array_equal(got, data[key])


def test_as_an_array_it_is_the_whole_file(stored):
    data, rows = stored
    np.testing.assert_array_equal(np.asarray(rows), data)
    assert np.asarray(rows, dtype=np.float32).dtype == np.float32


@pytest.mark.parametrize("key", [200, -201, np.array([0, 200])])
def test_rows_out_of_range_raise_index_error(stored, key):
    with pytest.raises(IndexError):
        stored[1][key]


def test_a_file_shorter_or_longer_than_its_header_is_refused(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros((10, 4), dtype=np.float32))
    raw = (tmp_path / "a.npy").read_bytes()
    (tmp_path / "a.npy").write_bytes(raw[:-4])
    with pytest.raises(ValueError, match="not what its header says"):
        RowFile(tmp_path / "a.npy")
    (tmp_path / "a.npy").write_bytes(raw + b"\0" * 4)
    with pytest.raises(ValueError, match="not what its header says"):
        RowFile(tmp_path / "a.npy")


def test_object_and_fortran_arrays_are_refused(tmp_path):
    np.save(tmp_path / "f.npy", np.asfortranarray(np.zeros((4, 3))))
    with pytest.raises(ValueError, match="C-ordered"):
        RowFile(tmp_path / "f.npy")
    # An array of objects would need unpickling: never read.
    np.save(tmp_path / "o.npy", np.array([[{"a": 1}]], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="numeric"):
        RowFile(tmp_path / "o.npy")


def test_many_scattered_rows_are_read_in_one_go(stored, monkeypatch):
    data, rows = stored
    monkeypatch.setattr("qa.rowfile.WHOLE_FILE_RUNS", 10)
    whole = []
    monkeypatch.setattr(RowFile, "_whole", lambda self: whole.append(1) or data.copy())
    key = np.arange(0, 200, 2)[::-1]  # 100 runs of one row, half the file
    np.testing.assert_array_equal(rows[key], data[key])
    assert whole == [1]
    np.testing.assert_array_equal(rows[np.arange(5, 150)], data[5:150])  # one long run: read as it is
    assert whole == [1]


@pytest.mark.parametrize(
    ("starts", "lengths"),
    [
        ([10, 50, 0], [5, 1, 3]),
        ([10, 15, 20], [5, 5, 1]),  # one after another: one run
        ([7, 7, 190], [0, 3, 10]),  # an empty span, a span that ends at the last row
        ([], []),
    ],
)
def test_spans_are_the_rows_of_their_positions(stored, starts, lengths):
    data, rows = stored
    want = data[span_positions(np.array(starts, dtype=np.int64), np.array(lengths, dtype=np.int64))]
    np.testing.assert_array_equal(rows.spans(starts, lengths), want)
    np.testing.assert_array_equal(read_spans(data, starts, lengths), want)  # an array in memory


def test_spans_that_follow_each_other_are_read_together(stored, monkeypatch):
    data, rows = stored
    reads: list[int] = []
    real = rowfile._PREADV
    monkeypatch.setattr(
        rowfile, "_PREADV", lambda fd, bufs, at: reads.append(len(bufs[0])) or real(fd, bufs, at)
    )
    row_bytes = data[0].nbytes
    rows.spans([0, 4, 9, 100], [4, 5, 1, 2])
    assert reads == [10 * row_bytes, 2 * row_bytes]


def test_spans_out_of_range_or_of_negative_length_are_refused(stored):
    rows = stored[1]
    with pytest.raises(IndexError):
        rows.spans([195], [6])
    with pytest.raises(IndexError):
        rows.spans([-1], [1])
    with pytest.raises(ValueError, match="negative"):
        rows.spans([3], [-1])
    with pytest.raises(ValueError, match="lengths"):
        rows.spans([3, 4], [1])


def test_a_short_read_is_completed(stored, monkeypatch):
    data, rows = stored
    real = rowfile._PREADV

    def short(fd, buffers, offset):  # the kernel may return fewer bytes than asked
        return real(fd, [buffers[0][: max(1, len(buffers[0]) // 3)]], offset)

    monkeypatch.setattr(rowfile, "_PREADV", short)
    np.testing.assert_array_equal(rows.spans([0, 50], [7, 3]), data[[*range(7), 50, 51, 52]])
