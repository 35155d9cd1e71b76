"""Property-based tests (hypothesis): arbitrary input never crashes the loader or the
response parser, and every data row is accounted for exactly once.
"""

from __future__ import annotations

import csv
import io
import json
import math
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest.mock import patch

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from batch_cancel import inputfile
from batch_cancel.client import MAX_CODE_CHARS, MAX_MESSAGE_CHARS, parse_error, parse_retry_after
from batch_cancel.config import InputOptions
from batch_cancel.errors import InputFileError
from batch_cancel.formats.results_csv import ResultsWriter
from batch_cancel.loader import OrdersFile
from batch_cancel.models import CancelRequest, LoadedRow, LocalCode, Outcome, RowResult
from batch_cancel.schema import FORMULA_TRIGGERS, safe_cell, unsafe_cell
from batch_cancel.text import TRIM

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HEADER = ["order_no", "warehouse_id", "cancel_reason", "note"]

# Characters that stress a CSV reader: delimiters, quotes, every line end,
# spaces of several kinds, zero-width and control characters, non-ASCII text.
NASTY = ",;\t|\"'\r\n \u00a0\u200b\ufeff\x07\x1b=+-@é☕\u0301\u202e\ufffdAZ09."
# No NUL: one among the first 8000 bytes makes the whole file "binary" (tested elsewhere).
cells = st.text(
    alphabet=st.sampled_from(NASTY) | st.characters(codec="utf-8", exclude_characters="\x00"),
    max_size=12,
)


@contextmanager
def file_with(data: bytes) -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "orders.csv"
        path.write_bytes(data)
        yield path


def read_all(path: Path) -> tuple[OrdersFile, list[LoadedRow]] | None:
    """The file's rows, or None if it was refused as a whole (with an InputFileError)."""
    try:
        orders = OrdersFile(InputOptions(path=path))
        return orders, list(orders.rows())
    except InputFileError:
        return None


def assert_each_row_once(rows: list[LoadedRow]) -> None:
    assert [row.source_row for row in rows] == list(range(1, len(rows) + 1))
    for row in rows:
        assert row.request is not None or row.verdict is not None
        outcome = row.request or row.verdict
        assert outcome is not None
        assert outcome.source_row == row.source_row


# --- the loader ----------------------------------------------------------------------------


# What a written row is, by construction: the test knows each row's verdict without
# asking the loader's validator.
SENT, BLANK_WAREHOUSE, BLANK_REASON, WRONG_WIDTH = "sent", "blank_wh", "blank_reason", "width"
# A cancel reason that needs quoting (delimiters, quotes) but no cleaning: it is sent as is.
reasons = st.builds(
    lambda first, middle, last: first + middle + last,
    st.sampled_from("abcXYZ"),
    st.text(alphabet="ab ,;|\"'", max_size=8),
    st.sampled_from("abcXYZ"),
)


@st.composite
def written_files(draw: st.DrawFn) -> tuple[bytes, list[tuple[str, list[str]] | None], str]:
    """A file written by csv.writer; each row with the kind it was made as, None for a
    blank line put in by hand. The fourth column is any text at all (echoed, never read)."""
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    line_end = "\r\n"  # csv.writer quotes a value holding \r or \n only if they are in it
    kinds = draw(
        st.lists(st.none() | st.sampled_from([SENT, BLANK_WAREHOUSE, BLANK_REASON, WRONG_WIDTH]),
                 max_size=12)
    )  # fmt: skip
    rows: list[tuple[str, list[str]] | None] = []
    for kind in kinds:
        if kind is None:
            rows.append(None)
            continue
        # Few order numbers and warehouses, so that duplicates come up.
        order_no = draw(st.sampled_from(["A-1", "B-22", "C3"]))
        warehouse_id = "" if kind == BLANK_WAREHOUSE else draw(st.sampled_from(["WH-1", "WH-2"]))
        reason = "" if kind == BLANK_REASON else draw(reasons)
        cells_of_row = [order_no, warehouse_id, reason, draw(cells)]
        if kind == WRONG_WIDTH:
            width = draw(st.sampled_from([1, 2, 3, 6, 7]))
            cells_of_row = [*cells_of_row, "x", "y", "z"][:width]
        rows.append((kind, cells_of_row))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, quoting=quoting, lineterminator=line_end)
    writer.writerow(HEADER)
    for row in rows:
        if row is None:
            buffer.write(draw(st.sampled_from(["\n", "\r\n", "\r"])))
        else:
            writer.writerow(row[1])
    return buffer.getvalue().encode("utf-8"), rows, delimiter


@SETTINGS
@given(written_files())
def test_every_written_row_comes_out_once_with_the_right_verdict(
    case: tuple[bytes, list[tuple[str, list[str]] | None], str],
) -> None:
    data, rows, delimiter = case
    written = [row for row in rows if row is not None]
    with file_with(data) as path:
        result = read_all(path)
    assert result is not None
    orders, loaded = result
    assert orders.delimiter == delimiter or len(written) == 0
    assert orders.header == HEADER
    assert_each_row_once(loaded)
    assert len(loaded) == len(written)
    first_of: set[tuple[str, str]] = set()
    for row, (kind, cells_of_row) in zip(loaded, written, strict=True):
        number = row.source_row
        if kind == WRONG_WIDTH:
            assert row.verdict is not None
            assert row.verdict.error_code == LocalCode.WRONG_FIELD_COUNT
            assert f"row has {len(cells_of_row)} field(s)" in row.verdict.error_message
            continue
        assert row.cells == tuple(cells_of_row)  # every character kept, the fourth column too
        order_no, warehouse_id, reason, _ = cells_of_row
        if kind == BLANK_WAREHOUSE:
            assert row.verdict == RowResult(
                number, Outcome.INVALID, None, LocalCode.WAREHOUSE_ID_MISSING,
                "warehouse_id is blank",
            )  # fmt: skip
        elif kind == BLANK_REASON:
            assert row.verdict == RowResult(
                number, Outcome.INVALID, None, LocalCode.CANCEL_REASON_MISSING,
                "cancel_reason is blank",
            )  # fmt: skip
        else:
            assert row.request == CancelRequest(number, order_no, warehouse_id, reason, "")
            if (warehouse_id, order_no) in first_of:
                assert row.verdict is not None
                assert (row.verdict.status, row.verdict.error_code) == (
                    Outcome.DUPLICATE, LocalCode.DUPLICATE_ROW,
                )  # fmt: skip
            else:
                assert row.verdict is None
                first_of.add((warehouse_id, order_no))


@SETTINGS
@given(st.text(max_size=200))
@example('ORD-1,WH,"never closed\nORD-2,WH,r\n')
@example("\x00" * 3)
@example("A,B,C\r\r\n\n,,,,\n")
def test_arbitrary_text_never_crashes_and_rows_are_counted_once(text: str) -> None:
    data = ("order_no,warehouse_id,cancel_reason\n" + text).encode("utf-8")
    with file_with(data) as path:
        result = read_all(path)
    if result is None:
        return  # refused as a whole, with a message: allowed
    _, loaded = result
    assert_each_row_once(loaded)
    # Where Python's csv module reads the text strictly and no row is wider than the
    # header, it is an independent count of the rows.
    try:
        parsed = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    except csv.Error:
        return
    assume(all(len(record) <= 3 for record in parsed))
    expected = [record for record in parsed if any(cell.strip(TRIM) for cell in record)]
    assert len(loaded) == len(expected)


@SETTINGS
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_crash(data: bytes) -> None:
    with file_with(b"order_no,warehouse_id,cancel_reason\r\n" + data) as path:
        result = read_all(path)
    if result is not None:
        assert_each_row_once(result[1])


# --- block boundaries are invisible ----------------------------------------------------------


def read_lines(path: Path, block: int) -> list[str]:
    original = inputfile.READ_BLOCK_BYTES
    inputfile.READ_BLOCK_BYTES = block
    try:
        return list(inputfile.open_source(path, None).lines())
    finally:
        inputfile.READ_BLOCK_BYTES = original


@SETTINGS
@given(
    st.binary(max_size=80).map(lambda tail: b"h\n" + tail.replace(b"\x00", b"")),
    st.sampled_from([1, 2, 3, 7]),
)
@example(b"h\r\nA\xc3\xb6\r\n", 1)  # a \r\n and a UTF-8 letter cut by the block size
def test_lines_are_the_same_whatever_the_block_size(data: bytes, block: int) -> None:
    with file_with(data) as path:
        assert read_lines(path, block) == read_lines(path, 1 << 20)
        lines = read_lines(path, block)
    assert "".join(lines).encode("utf-8") == data or any(
        not raw.isascii() for raw in data.splitlines()
    )
    # Each line holds exactly one line end (\n, \r\n or \r), at its end, as csv needs.
    for line in lines[:-1]:
        body = line.removesuffix("\n").removesuffix("\r")
        assert "\n" not in body
        assert "\r" not in body


# --- the response parser ---------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(), children),
    max_leaves=12,
)


def assert_clean(code: str, message: str) -> None:
    assert len(code) <= MAX_CODE_CHARS
    assert len(message) <= MAX_MESSAGE_CHARS
    assert code == "" or code.isprintable()
    assert message == "" or message.isprintable()


@SETTINGS
@given(st.binary(max_size=2000), st.text(max_size=40))
@example(b"[" * 100_000, "application/json")
@example(b"\xff\xfe<html>\x00\x1b", "text/html")
def test_parse_error_survives_any_body(body: bytes, content_type: str) -> None:
    code, message = parse_error(body, content_type)
    assert_clean(code, message)


@SETTINGS
@given(json_values, json_values, json_values)
def test_parse_error_survives_any_envelope_shape(
    errors: object, error: object, extra: object
) -> None:
    for metadata in (
        {"errors": errors},
        {"error": error, "message": extra},
        {"errors": [{"code": error, "message": extra}]},
        {"errors": [{"code": extra, "message": errors}], "error": error},
    ):
        body = json.dumps({"metadata": metadata}).encode()
        assert_clean(*parse_error(body, "application/json"))


@SETTINGS
@given(st.text(max_size=60))
@example("²")
@example("9" * 400)
@example("Wed, 21 Oct 2015 07:28:00 GMT")
def test_parse_retry_after_never_raises(value: str) -> None:
    seconds = parse_retry_after(value, now=1_700_000_000.0)
    assert seconds is None or (seconds >= 0 and not math.isnan(seconds))


# --- the results writer ----------------------------------------------------------------------


@SETTINGS
@given(st.lists(st.lists(cells, min_size=2, max_size=2), min_size=1, max_size=8), st.text())
def test_results_cells_never_start_a_formula_and_round_trip(
    rows: list[list[str]], message: str
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        out = Path(directory) / "r.csv"
        with ResultsWriter(out, ["order_no", "=note"]) as writer:
            for number, cells_of_row in enumerate(rows, start=1):
                result = RowResult(
                    source_row=number,
                    status=Outcome.REJECTED,
                    error_code=message[:10],
                    error_message=message,
                )
                writer.add(LoadedRow(number, tuple(cells_of_row), None, None), result)
        with out.open(encoding="utf-8-sig", newline="") as handle:
            header, *written = list(csv.reader(handle))
    assert header[:2] == ["order_no", "'=note"]
    assert len(written) == len(rows)
    for cells_of_row, line in zip(rows, written, strict=True):
        assert line[:2] == [safe_cell(cell) for cell in cells_of_row]
        for cell in line:
            assert not cell.startswith(FORMULA_TRIGGERS)
        assert line[6].isprintable() or line[6] == ""  # result_error_message


def write_rows(
    path: Path, rows: list[tuple[list[str], bool]], message: str, http: int | None
) -> None:
    with ResultsWriter(path, ["order_no", "warehouse_id", "cancel_reason"]) as writer:
        for number, (cells_of_row, valid) in enumerate(rows, start=1):
            result = RowResult(
                source_row=number,
                status=Outcome.FAILED,
                http_status=http,
                error_code="E",
                error_message=message,
                attempts=1,
            )
            request = CancelRequest(number, *cells_of_row) if valid else None
            writer.add(LoadedRow(number, tuple(cells_of_row), request, None), result)


@SETTINGS
@given(
    st.lists(st.tuples(st.lists(cells, min_size=3, max_size=3), st.booleans()), max_size=8),
    cells,
    st.sampled_from([None, 200, 503]),
)
@example([(["a,b", 'say "x"', "two\r\nlines"], True)], "", None)
@example([(["", "", "lone\r"], False)], "a\nb", None)
def test_rows_joined_by_hand_are_byte_for_byte_what_csv_writer_writes(
    rows: list[tuple[list[str], bool]], message: str, http_status: int | None
) -> None:
    """The writer joins a row needing no escaping or quotes itself (results_csv._plain_line,
    its one fast path): the file must be the one csv.writer writes for every row, and read
    back to the cells meant."""
    with tempfile.TemporaryDirectory() as directory:
        fast, reference = Path(directory) / "fast.csv", Path(directory) / "reference.csv"
        write_rows(fast, rows, message, http_status)
        with patch("batch_cancel.formats.results_csv._plain_line", return_value=None):
            write_rows(reference, rows, message, http_status)  # csv.writer for every row
        assert fast.read_bytes() == reference.read_bytes()
        with fast.open(encoding="utf-8-sig", newline="") as handle:
            records = list(csv.reader(handle))[1:]
    assert [record[:3] for record in records] == [list(map(safe_cell, r)) for r, _ in rows]
    sent = [record[-3:] for record in records]
    assert sent == [list(map(safe_cell, r)) if valid else ["", "", ""] for r, valid in rows]


@given(st.text(max_size=30))
@example("'=1+1")
@example("''-503")
@example("'plain")
def test_safe_cell_is_undone_exactly_by_unsafe_cell(value: str) -> None:
    written = safe_cell(value)
    assert not written.startswith(FORMULA_TRIGGERS)
    assert unsafe_cell(written) == value
