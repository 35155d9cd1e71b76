"""Unit tests for loader.py: reading the orders CSV, mapping columns, validating rows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from batch_cancel import inputfile
from batch_cancel.config import InputOptions
from batch_cancel.errors import InputFileError, MissingColumnsError
from batch_cancel.loader import OrdersFile, validate_row
from batch_cancel.models import CancelRequest, LoadedRow, LocalCode, Outcome, RowResult
from batch_cancel.schema import detect_delimiter

from .helpers import write_csv

HEADER = ["order_no", "warehouse_id", "cancel_reason"]
VALID = {"order_no": "ORD-1", "warehouse_id": "WH-TGR04", "cancel_reason": "Cancelled"}


def orders_csv(
    tmp_path: Path, rows: list[list[str]], header: list[str] = HEADER, delimiter: str = ","
) -> Path:
    return write_csv(tmp_path / "orders.csv", header, rows, delimiter)


def raw_csv(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "orders.csv"
    path.write_bytes(text.encode(encoding))
    return path


def load(path: Path, **options: Any) -> list[LoadedRow]:
    return list(OrdersFile(InputOptions(path=path, **options)).rows())


def sent(rows: list[LoadedRow]) -> list[tuple[str, str, str]]:
    """(order_no, warehouse_id, cancel_reason) of every row that would be sent."""
    return [
        (row.request.order_no, row.request.warehouse_id, row.request.cancel_reason)
        for row in rows
        if row.request is not None and row.verdict is None
    ]


def check(**changes: str) -> CancelRequest | RowResult:
    values = {**VALID, **changes}
    return validate_row(7, values["order_no"], values["warehouse_id"], values["cancel_reason"])


def invalid(result: CancelRequest | RowResult) -> RowResult:
    assert isinstance(result, RowResult), f"expected a verdict, got {result!r}"
    assert result.status is Outcome.INVALID
    assert result.source_row == 7
    return result


# --- text survives as text -----------------------------------------------------------


def test_leading_zeros_and_na_like_text_survive(tmp_path: Path) -> None:
    rows = load(orders_csv(tmp_path, [["000123", "NA", "null"], ["NaN", "None", "#N/A"]]))
    assert [row.cells for row in rows] == [("000123", "NA", "null"), ("NaN", "None", "#N/A")]
    assert sent(rows) == [("000123", "NA", "null"), ("NaN", "None", "#N/A")]


def test_whitespace_trimmed_for_sending_but_cells_echoed_unchanged(tmp_path: Path) -> None:
    rows = load(orders_csv(tmp_path, [["  ORD-1 ", " WH-TGR04\t", "  Out of stock  "]]))
    assert rows[0].cells == ("  ORD-1 ", " WH-TGR04\t", "  Out of stock  ")
    assert sent(rows) == [("ORD-1", "WH-TGR04", "Out of stock")]


def test_length_is_checked_after_trimming(tmp_path: Path) -> None:
    rows = load(orders_csv(tmp_path, [["  " + "A" * 50 + "  ", "WH", "r"]]))
    assert sent(rows) == [("A" * 50, "WH", "r")]


def test_utf8_bom_header(tmp_path: Path) -> None:
    path = raw_csv(tmp_path, "order_no,warehouse_id,cancel_reason\r\nA1,WH,r\r\n", "utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    orders = OrdersFile(InputOptions(path=path))
    assert orders.header == HEADER
    assert sent(list(orders.rows())) == [("A1", "WH", "r")]


# --- delimiters ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header_line", "expected"),
    [
        ("order_no,warehouse_id,cancel_reason", ","),
        ("order_no;warehouse_id;cancel_reason", ";"),
        ("order_no\twarehouse_id\tcancel_reason", "\t"),
        ("order_no|warehouse_id|cancel_reason", "|"),
        ("order_no", ","),  # one column: nothing to choose, comma
        ("a,b|c|d", "|"),  # most columns wins
        ("a,b,c|d|e", ","),  # a tie goes to comma
    ],
)
def test_detect_delimiter(header_line: str, expected: str) -> None:
    assert detect_delimiter(header_line) == expected


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_file_delimiter_detected(tmp_path: Path, delimiter: str) -> None:
    reason = "Out of stock, buyer asked"  # a comma inside a value
    path = orders_csv(tmp_path, [["A1", "WH", reason]], delimiter=delimiter)
    orders = OrdersFile(InputOptions(path=path))
    assert orders.delimiter == delimiter
    assert sent(list(orders.rows())) == [("A1", "WH", reason)]


def test_explicit_delimiter_beats_detection(tmp_path: Path) -> None:
    # The last header has as many commas as the line has pipes: detection picks comma.
    header = [*HEADER, "notes: yes,no,n/a,other"]
    path = orders_csv(tmp_path, [["A1", "WH", "r", "yes"]], header=header, delimiter="|")
    with pytest.raises(MissingColumnsError):
        OrdersFile(InputOptions(path=path))
    orders = OrdersFile(InputOptions(path=path, delimiter="|"))
    assert orders.delimiter == "|"
    assert sent(list(orders.rows())) == [("A1", "WH", "r")]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_blank_lines_skipped_without_consuming_a_row_number(tmp_path: Path, newline: str) -> None:
    lines = ["order_no,warehouse_id,cancel_reason", "", "A1,WH,r", "", "", "A2,WH,r", "", ""]
    rows = load(raw_csv(tmp_path, newline.join(lines)))
    assert [row.source_row for row in rows] == [1, 2]
    assert sent(rows) == [("A1", "WH", "r"), ("A2", "WH", "r")]


# --- validate_row: every rule at its boundary ----------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("order_no", "A" * 50),
        ("warehouse_id", "W" * 20),
        ("order_no", "é" * 50),  # 100 bytes, 50 characters
        ("warehouse_id", "é" * 20),  # 40 bytes, 20 characters
    ],
)
def test_identifier_at_limit_is_valid(field: str, value: str) -> None:
    result = check(**{field: value})
    assert result == CancelRequest(7, **{**VALID, field: value})


@pytest.mark.parametrize(
    ("field", "value", "code", "message"),
    [
        ("order_no", "A" * 51, LocalCode.ORDER_NO_TOO_LONG, "order_no is 51 characters"),
        ("order_no", "é" * 51, LocalCode.ORDER_NO_TOO_LONG, "order_no is 51 characters"),
        ("warehouse_id", "W" * 21, LocalCode.WAREHOUSE_ID_TOO_LONG, "warehouse_id is 21 char"),
    ],
)
def test_identifier_over_limit_is_invalid(
    field: str, value: str, code: LocalCode, message: str
) -> None:
    result = invalid(check(**{field: value}))
    assert result.error_code == code
    assert message in result.error_message
    assert "at most" in result.error_message


@pytest.mark.parametrize("reason", ["R" * 50, "é" * 50])
def test_cancel_reason_at_limit_sent_as_is(reason: str) -> None:
    assert check(cancel_reason=reason) == CancelRequest(7, **{**VALID, "cancel_reason": reason})


@pytest.mark.parametrize("reason", ["R" * 49 + "STU", "é" * 50 + "è"])
def test_cancel_reason_over_limit_shortened_with_note(reason: str) -> None:
    result = check(cancel_reason=reason)
    assert isinstance(result, CancelRequest)
    assert result.cancel_reason == reason[:50]
    assert len(result.cancel_reason) == 50
    assert result.note == (
        f"cancel_reason_shortened: cancel_reason was {len(reason)} characters, sent its first 50"
    )


@pytest.mark.parametrize(
    ("field", "code"),
    [
        ("order_no", LocalCode.ORDER_NO_MISSING),
        ("warehouse_id", LocalCode.WAREHOUSE_ID_MISSING),
        ("cancel_reason", LocalCode.CANCEL_REASON_MISSING),
    ],
)
def test_blank_field_is_invalid(field: str, code: LocalCode) -> None:
    result = invalid(check(**{field: ""}))
    assert result.error_code == code
    assert result.error_message == f"{field} is blank"


def test_several_problems_all_named() -> None:
    result = invalid(check(order_no="", warehouse_id="W" * 21, cancel_reason=""))
    assert result.error_code == LocalCode.ORDER_NO_MISSING  # the first problem
    assert result.error_message == (
        "order_no is blank; warehouse_id is 21 characters; the API allows at most 20; "
        "cancel_reason is blank"
    )


def test_invalid_row_in_file_keeps_its_cells(tmp_path: Path) -> None:
    rows = load(orders_csv(tmp_path, [["", "WH", "r"], ["A2", "WH", "r"]]))
    assert rows[0].request is None
    assert rows[0].cells == ("", "WH", "r")
    assert rows[0].verdict is not None
    assert rows[0].verdict.error_code == LocalCode.ORDER_NO_MISSING
    assert sent(rows) == [("A2", "WH", "r")]


# --- duplicates ------------------------------------------------------------------------


def test_duplicates_of_an_earlier_valid_row_flagged(tmp_path: Path) -> None:
    rows = load(
        orders_csv(
            tmp_path,
            [
                ["A1", "WH", "r"],  # 1
                ["A1", "WH2", "r"],  # 2: another warehouse, not a duplicate
                [" A1 ", "WH", "other reason"],  # 3: same order once trimmed
                ["B1", "WH", ""],  # 4: invalid
                ["B1", "WH", "r"],  # 5: duplicates only an invalid row: sent
                ["B1", "WH", "r"],  # 6: duplicate of row 5
            ],
        )
    )
    verdicts = {row.source_row: row.verdict for row in rows if row.verdict is not None}
    assert sorted(verdicts) == [3, 4, 6]
    for source_row, earlier in ((3, 1), (6, 5)):
        duplicate = verdicts[source_row]
        assert duplicate is not None
        assert duplicate.status is Outcome.DUPLICATE
        assert duplicate.error_code == LocalCode.DUPLICATE_ROW
        assert duplicate.error_message == f"same order_no and warehouse_id as row {earlier}"
    assert [row.source_row for row in rows if row.verdict is None] == [1, 2, 5]


# --- defaults and column mapping -------------------------------------------------------

DEFAULT_OPTIONS = [
    ("warehouse_id", "default_warehouse_id"),
    ("cancel_reason", "default_cancel_reason"),
]


@pytest.mark.parametrize(("field", "option"), DEFAULT_OPTIONS)
def test_default_fills_an_absent_column(tmp_path: Path, field: str, option: str) -> None:
    header = [name for name in HEADER if name != field]
    path = orders_csv(tmp_path, [["A1", "x"], ["A2", "y"]], header=header)
    requests = [row.request for row in load(path, **{option: " DEFAULT "})]
    assert [getattr(request, field) for request in requests] == ["DEFAULT", "DEFAULT"]


@pytest.mark.parametrize(("field", "option"), DEFAULT_OPTIONS)
def test_default_fills_blank_cells_only(tmp_path: Path, field: str, option: str) -> None:
    cells = [
        {**VALID, "order_no": f"A{n}", field: value} for n, value in enumerate(["", "   ", "OWN"])
    ]
    path = orders_csv(tmp_path, [[row[name] for name in HEADER] for row in cells])
    requests = [row.request for row in load(path, **{option: "DEFAULT"})]
    assert [getattr(request, field) for request in requests] == ["DEFAULT", "DEFAULT", "OWN"]


def test_column_map_maps_a_header(tmp_path: Path) -> None:
    header = ["No. Pesanan", "Gudang", "cancel_reason"]
    path = orders_csv(tmp_path, [["A1", "WH", "r"]], header=header)
    column_map = {"order_no": "no. pesanan", "warehouse_id": "GUDANG"}
    assert sent(load(path, column_map=column_map)) == [("A1", "WH", "r")]


def test_header_matching_ignores_case_and_padding(tmp_path: Path) -> None:
    header = [" Order_No ", "WAREHOUSE_ID", "Cancel_Reason"]
    assert sent(load(orders_csv(tmp_path, [["A1", "WH", "r"]], header=header))) == [
        ("A1", "WH", "r")
    ]


def test_missing_columns_listed_with_the_columns_found(tmp_path: Path) -> None:
    path = orders_csv(tmp_path, [["A1", "r"]], header=["order_no", "reason"])
    with pytest.raises(MissingColumnsError) as caught:
        OrdersFile(InputOptions(path=path))
    assert caught.value.missing == ["warehouse_id", "cancel_reason"]
    assert caught.value.found == ["order_no", "reason"]
    message = str(caught.value)
    assert "missing required column(s): warehouse_id, cancel_reason" in message
    assert "columns found: 'order_no', 'reason'" in message


def test_missing_mapped_column_names_the_mapping(tmp_path: Path) -> None:
    path = orders_csv(tmp_path, [["A1", "WH", "r"]])
    with pytest.raises(MissingColumnsError) as caught:
        OrdersFile(InputOptions(path=path, column_map={"order_no": "No. Pesanan"}))
    assert caught.value.missing == ["order_no (mapped to 'No. Pesanan')"]


# --- files that cannot be read -------------------------------------------------------


def _nothing(path: Path) -> None:
    pass


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_nothing, "no such file"),
        (Path.mkdir, "not a regular file"),
        (Path.touch, "file is empty (no header line)"),
    ],
)
def test_unreadable_input_raises_input_file_error(
    tmp_path: Path, make: Callable[[Path], None], message: str
) -> None:
    path = tmp_path / "orders.csv"
    make(path)
    with pytest.raises(InputFileError) as caught:
        OrdersFile(InputOptions(path=path))
    assert str(caught.value) == f"{path}: {message}"


def test_header_only_file_has_no_rows(tmp_path: Path) -> None:
    assert load(orders_csv(tmp_path, [])) == []


# --- numbering and chunking ------------------------------------------------------------


def numbered_rows(count: int) -> list[list[str]]:
    return [[f"ORD-{n:05d}", "WH", "r"] for n in range(1, count + 1)]


def test_source_rows_numbered_from_one(tmp_path: Path) -> None:
    rows = load(orders_csv(tmp_path, numbered_rows(25)))
    assert [row.source_row for row in rows] == list(range(1, 26))
    assert all(row.request is not None and row.request.source_row == row.source_row for row in rows)


def test_many_blocks_stay_in_order_and_complete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inputfile, "READ_BLOCK_BYTES", 7)  # lines cut across blocks
    data = [*numbered_rows(22), ["ORD-00002", "WH", "again"]]  # row 23 repeats row 2
    rows = load(orders_csv(tmp_path, data))
    assert [row.source_row for row in rows] == list(range(1, 24))
    assert [row.cells[0] for row in rows] == [cells[0] for cells in data]
    duplicate = rows[-1].verdict
    assert duplicate is not None
    assert duplicate.status is Outcome.DUPLICATE
    assert duplicate.error_message.endswith("as row 2")


# --- bugs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        "A1,WH,Out of stock,2024-05-01\nA2,WH,r\n",  # one extra, unlabelled value
        "A1,WH,r,\nA2,WH,r,\n",  # a trailing delimiter on every data line (Excel exports)
    ],
)
def test_extra_trailing_field_does_not_shift_columns(tmp_path: Path, data: str) -> None:
    path = raw_csv(tmp_path, "order_no,warehouse_id,cancel_reason\n" + data)
    try:
        rows = load(path)
    except InputFileError:
        return  # refusing the file would be safe too; sending a shifted order_no is not
    assert [row.cells[0] for row in rows] == ["A1", "A2"]
    assert {order_no for order_no, _, _ in sent(rows)} <= {"A1", "A2"}
