"""Unit tests for loader.py: reading the orders CSV, mapping columns, validating rows."""

from __future__ import annotations

import importlib.util
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from batch_cancel import inputfile
from batch_cancel.config import InputOptions
from batch_cancel.errors import InputFileError, MissingColumnsError
from batch_cancel.loader import OrdersFile, validate_row
from batch_cancel.models import CancelRequest, ExitStatus, LoadedRow, LocalCode, Outcome, RowResult
from batch_cancel.schema import WRITTEN_COLUMNS, detect_delimiter

from .helpers import (
    CORPUS,
    ROOT,
    SEND,
    assert_rows,
    cells_of,
    load_corpus,
    main_in_process,
    outcomes,
    raw_rows,
    use_cli_env,
    write_csv,
)

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


# --- the hostile-input corpus: structure and values -------------------------------------
# (tests/data/input, one habit of real exports a file: see make_corpus.py)


def test_corpus_files_match_their_generator() -> None:
    spec = importlib.util.spec_from_file_location("make_corpus", CORPUS / "make_corpus.py")
    assert spec is not None
    assert spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    for name, data in generator.CORPUS.items():
        assert (CORPUS / name).read_bytes() == data, f"{name}: run make_corpus.py"


@pytest.mark.parametrize(
    ("name", "delimiter", "expected"),
    [
        ("semicolon.csv", ";", (1, SEND, "ORD-221", "WH-TGR04", "Stok habis, maaf")),
        ("tab.tsv", "\t", (1, SEND, "ORD-222", "WH-TGR04", "Out, sorry")),
        ("pipe.csv", "|", (1, SEND, "ORD-223", "WH-TGR04", "Out, sorry")),
    ],
)
def test_delimiter_detected_from_header(
    name: str, delimiter: str, expected: tuple[Any, ...]
) -> None:
    orders = load_corpus(name)
    assert orders.delimiter == delimiter
    assert_rows(orders, [expected])


def test_quoted_fields_with_delimiters_quotes_and_line_breaks() -> None:
    orders = load_corpus("quoting.csv")
    assert_rows(
        orders,
        [
            (1, SEND, "ORD-301", "WH-TGR04", "Out of stock, buyer asked"),
            (2, SEND, "ORD-302", "WH-TGR04", 'He said "cancel" twice'),
            # a line break typed into the reason is layout: sent as one line
            (3, SEND, "ORD-303", "WH-TGR04", "Line one line two"),
            (4, SEND, "ORD-304", "WH-TGR04", '5" screen cracked'),  # a quote mid-field is text
            (5, SEND, "ORD-305x", "WH-TGR04", "r"),  # text after a closing quote joins the value
            (6, "invalid", "order_no_missing", "order_no is blank"),  # "" is an empty value
        ],
    )
    # Echoed cells keep every character, line breaks included.
    assert cells_of(orders)[2] == (
        "ORD-303",
        "WH-TGR04",
        "Line one\r\nline two",
        "a note\nover, two lines",
    )


def test_blank_and_delimiter_only_lines_are_not_rows() -> None:
    orders = load_corpus("blank-lines.csv")
    assert_rows(
        orders,
        [(1, SEND, "ORD-321", "WH-TGR04", "r"), (2, SEND, "ORD-322", "WH-TGR04", "r")],
    )
    assert orders.notes == [
        f"{CORPUS / 'blank-lines.csv'}: 1 line(s) held only delimiters (no values) and were "
        "skipped like blank lines"
    ]


def test_rows_with_too_many_or_too_few_fields_are_invalid_not_dropped() -> None:
    orders = load_corpus("ragged.csv")
    too_few = "but the header has 4 (a value is missing, or a line break inside a value"
    assert_rows(
        orders,
        [
            (1, "invalid", "wrong_field_count", "row has 5 field(s) but the header has 4 (a comma"),
            (2, SEND, "ORD-332", "WH-TGR04", "r"),
            (3, "invalid", "wrong_field_count", f"row has 3 field(s) {too_few}"),
            (4, SEND, "ORD-334", "WH-TGR04", "r"),  # one trailing empty field: harmless
            (5, "invalid", "wrong_field_count", f"row has 1 field(s) {too_few}"),
            # an unquoted line break splits one row in two: both halves refused
            (6, "invalid", "wrong_field_count", f"row has 3 field(s) {too_few}"),
            (7, "invalid", "wrong_field_count", f"row has 2 field(s) {too_few}"),
            (8, SEND, "ORD-338", "WH-TGR04", "r"),
            (9, SEND, "ORD-339", "WH-TGR04", "r"),
        ],
    )
    cells = cells_of(orders)
    assert cells[0] == ("ORD-331", "WH-TGR04", "r", "note")  # columns never shift
    assert cells[2] == ("ORD-333", "WH-TGR04", "r")
    assert cells[6] == ("no thanks", "note")


def test_trailing_delimiter_on_header_or_rows() -> None:
    orders = load_corpus("trailing-delimiter.csv")
    assert orders.header == ["order_no", "warehouse_id", "cancel_reason", ""]
    assert orders.notes == []  # a nameless last column is Excel's habit, not news
    assert_rows(
        orders,
        [
            (1, SEND, "ORD-341", "WH-TGR04", "r"),
            (2, SEND, "ORD-342", "WH-TGR04", "r"),
            (3, SEND, "ORD-343", "WH-TGR04", "r"),
        ],
    )


def test_unclosed_quote_reports_that_row_and_every_line_after_it() -> None:
    assert_rows(
        load_corpus("unclosed-quote.csv"),
        [
            (1, SEND, "ORD-601", "WH-TGR04", "r"),
            (2, "invalid", "unclosed_quote", 'a quote (") opened in this row never closes'),
            (3, "invalid", "unclosed_quote", "not read: after the quote left open in row 2"),
            (4, "invalid", "unclosed_quote", "not read: after the quote left open in row 2"),
        ],
    )


def test_header_only_is_a_quiet_night() -> None:
    orders = load_corpus("header-only.csv")
    assert outcomes(orders) == []
    assert orders.notes == [
        f"{CORPUS / 'header-only.csv'}: no data rows (only a header): nothing to do"
    ]


def test_blank_header_name_is_reported() -> None:
    orders = load_corpus("blank-header.csv")
    assert orders.notes == [f"{CORPUS / 'blank-header.csv'}: column 2 has no name in the header"]
    assert_rows(orders, [(1, SEND, "ORD-353", "WH-TGR04", "r")])


def test_duplicate_name_of_another_column_is_reported() -> None:
    orders = load_corpus("duplicate-other-header.csv")
    assert orders.notes == [
        f"{CORPUS / 'duplicate-other-header.csv'}: columns 4 and 5 are both named 'Note'; "
        "both are copied to the results"
    ]
    assert cells_of(orders) == [("ORD-352", "WH-TGR04", "r", "a", "b")]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "duplicate-header.csv",
            "the column 'order_no' appears more than once (columns 1 and 4), so order_no is "
            "ambiguous",
        ),
        ("no-header-names.csv", "the header line has no column names"),
        ("header-unclosed-quote.csv", "a quote in the header line never closes"),
    ],
)
def test_files_whose_header_cannot_be_used_are_refused(name: str, message: str) -> None:
    with pytest.raises(InputFileError) as caught:
        load_corpus(name)
    assert str(caught.value).startswith(f"{CORPUS / name}: {message}")
    assert "\n" not in str(caught.value)


def test_header_line_without_end_is_not_a_csv(tmp_path: Path) -> None:
    path = tmp_path / "one-long-line.csv"
    path.write_text("order_no," * 10_000)
    with pytest.raises(InputFileError, match="the first line is longer than 64 KiB"):
        OrdersFile(InputOptions(path=path))


@pytest.mark.parametrize(
    ("encoding", "line_bytes", "refused"),
    [
        ("utf-8", 90 * 1024, True),  # 30,720 characters of three bytes each
        ("utf-8", 64 * 1024, False),
        ("utf-8", 64 * 1024 + 3, True),
        ("cp1252", 90 * 1024, True),  # one byte each, not valid UTF-8: read as cp1252
        ("utf-16", 90 * 1024, True),  # with its BOM, two bytes each
        ("utf-16", 64 * 1024, False),
    ],
)
def test_the_header_limit_counts_the_files_bytes_not_characters(
    tmp_path: Path, encoding: str, line_bytes: int, refused: bool
) -> None:
    path = tmp_path / "euro-header.csv"

    def size(text: str) -> int:
        return len(text.encode(encoding)) - len("".encode(encoding))  # without a BOM

    names = "order_no,warehouse_id,cancel_reason,"
    euros, rest = divmod(line_bytes - size(names), size("\u20ac"))
    header = names + "\u20ac" * euros + "x" * (rest // size("x"))
    path.write_bytes(f"{header}\nA-1,WH-1,r,x\n".encode(encoding))
    assert size(header) == line_bytes
    if refused:
        with pytest.raises(InputFileError, match="the first line is longer than 64 KiB"):
            OrdersFile(InputOptions(path=path))
    else:
        assert OrdersFile(InputOptions(path=path)).header[0] == "order_no"


def test_header_after_blank_first_line(tmp_path: Path) -> None:
    path = tmp_path / "late-header.csv"
    path.write_text("\norder_no,warehouse_id,cancel_reason\nA,B,C\n")
    with pytest.raises(InputFileError, match="the first line is blank; the header must be"):
        OrdersFile(InputOptions(path=path))


def test_header_names_match_through_invisible_characters(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("\u200bOrder_No\u00a0, warehouse_id ,cancel_reason\nA1,WH,r\n")
    assert_rows(OrdersFile(InputOptions(path=path)), [(1, SEND, "A1", "WH", "r")])


def test_missing_columns_still_listed(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "m.csv", ["order_no", "gudang"], [["A", "B"]])
    with pytest.raises(MissingColumnsError):
        OrdersFile(InputOptions(path=path))


def test_values_cleaned_checked_and_normalised() -> None:
    orders = load_corpus("values.csv")
    scientific = "is in scientific notation: a spreadsheet turned the order number into a rounded"
    assert_rows(
        orders,
        [
            (1, SEND, "ORD-401", "WH-TGR04", "r"),  # no-break spaces around
            (2, SEND, "ORD-402", "WH-TGR04", "r"),  # zero-width space, BOM around
            (3, SEND, "ORD-403", "WH-TGR04", "r"),  # zero-width space inside
            (
                4,
                "invalid",
                "control_characters",
                "order_no contains a control character (U+0007) at position 8",
            ),
            (
                5,
                "invalid",
                "control_characters",
                "cancel_reason contains a control character (U+001B) at position 5",
            ),
            (6, "invalid", "scientific_notation", f"order_no 1.23457E+14 {scientific}"),
            (7, "invalid", "scientific_notation", f"order_no 1,23457E+14 {scientific}"),
            (8, SEND, "Café-408", "WH-TGR04", "r"),  # NFD in, NFC out
            (9, SEND, "é" * 50, "WH-TGR04", "r"),  # 100 code points, 50 after NFC: fits
            (
                10,
                "invalid",
                "control_characters",
                "order_no contains a control character (U+202E RIGHT-TO-LEFT OVERRIDE)",
            ),
            (11, "invalid", "garbled_text", "order_no contains U+FFFD, the mark of a character"),
            (12, SEND, "ORD-412", "WH-TGR04", "Line one line two"),
            (13, "duplicate", "duplicate_row", "same order_no and warehouse_id as row 1"),
            (14, "invalid", "cancel_reason_missing", "cancel_reason is blank"),
            (15, SEND, "12345678901234", "WH-TGR04", "r"),  # digits alone are fine
        ],
    )
    sent = next(row.request for row in orders.rows() if row.source_row == 8)
    assert sent is not None
    assert sent.order_no == "Caf\u00e9-408" != "Cafe\u0301-408"


def test_local_codes_are_documented() -> None:
    readme = (ROOT / "README.md").read_text()
    for code in (
        LocalCode.WRONG_FIELD_COUNT,
        LocalCode.UNCLOSED_QUOTE,
        LocalCode.CONTROL_CHARACTERS,
        LocalCode.SCIENTIFIC_NOTATION,
        LocalCode.GARBLED_TEXT,
    ):
        assert f"`{code.value}`" in readme, code


# --- the same, through the CLI: exit statuses and one-line messages --------------------------


@pytest.mark.integration
def test_header_only_file_is_a_quiet_night(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    use_cli_env(monkeypatch)
    source = tmp_path / "night.csv"
    shutil.copy(CORPUS / "header-only.csv", source)
    done = main_in_process(
        capsys,
        "run",
        source,
        "--base-url",
        "http://127.0.0.1:9",
        "-q",
        "--summary-json",
        tmp_path / "s.json",
    )
    assert done.returncode == ExitStatus.SUCCESS, done.stderr
    assert (
        f"  note: {source}: no data rows (only a header): nothing to do" in done.stderr.splitlines()
    )
    assert raw_rows(tmp_path / "night.results.csv") == [
        ["order_no", "warehouse_id", "cancel_reason", *WRITTEN_COLUMNS]
    ]
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["rows"] == 0
    assert summary["notes"] == [f"{source}: no data rows (only a header): nothing to do"]


@pytest.mark.integration
@pytest.mark.parametrize(
    ("name", "message", "rest"),
    [
        (
            "duplicate-header.csv",
            "appears more",
            "the column 'order_no' appears more than once (columns 1 and 4), so order_no is "
            "ambiguous; rename one, or --map order_no to another",
        ),
        ("no-header-names.csv", "no column names", "the header line has no column names"),
    ],
    ids=["duplicate-header", "no-header-names"],
)
def test_unusable_headers_exit_2_with_one_line(
    tmp_path: Path,
    name: str,
    message: str,
    rest: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_cli_env(monkeypatch, api_key=None)
    shutil.copy(CORPUS / name, tmp_path / "in.csv")
    done = main_in_process(capsys, "run", tmp_path / "in.csv", "--dry-run")
    assert done.returncode == ExitStatus.USAGE_OR_INPUT
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"batch-cancel: input error: {tmp_path / 'in.csv'}: ")
    assert message in line
    assert done.stderr == f"batch-cancel: input error: {tmp_path / 'in.csv'}: {rest}\n"
    assert not list(tmp_path.glob("*.results.csv"))
