"""Unit tests for schema.py: spreadsheet-safe cells and back, the delimiter guess,
header matching, the results columns and csv's cell limit."""

from __future__ import annotations

import subprocess
import sys

import pytest

from batch_cancel.models import Outcome, RowResult
from batch_cancel.schema import (
    FORMULA_TRIGGERS,
    NUMBER_COLUMNS,
    RESULT_COLUMNS,
    RESULT_FIELDS,
    detect_delimiter,
    header_key,
    result_cells,
    safe_cell,
    unsafe_cell,
)

from .helpers import ROOT

# --- safe_cell / unsafe_cell ---------------------------------------------------------------


def test_formula_triggers_are_ascii_full_width_and_small_forms() -> None:
    expected = (
        *("=", "+", "-", "@", "\t", "\r"),
        *("\uff1d", "\uff0b", "\uff0d", "\uff20"),
        *("\ufe66", "\ufe62", "\ufe63", "\ufe6b"),
    )
    assert expected == FORMULA_TRIGGERS


@pytest.mark.parametrize("trigger", FORMULA_TRIGGERS)
@pytest.mark.parametrize("apostrophes", [0, 1, 2, 3])
def test_every_trigger_is_escaped_and_round_trips(trigger: str, apostrophes: int) -> None:
    value = "'" * apostrophes + trigger + "SUM(A1)"
    safe = safe_cell(value)
    assert safe == "'" + value
    assert unsafe_cell(safe) == value


@pytest.mark.parametrize("trigger", FORMULA_TRIGGERS)
def test_a_trigger_alone_round_trips(trigger: str) -> None:
    assert safe_cell(trigger) == "'" + trigger
    assert unsafe_cell("'" + trigger) == trigger


@pytest.mark.parametrize(
    "value", ["", "'", "''", "ORD-1", "'ORD-1", "1+1", " =1", "A=1", "5-3", "é", "'é"]
)
def test_safe_values_are_untouched_both_ways(value: str) -> None:
    assert safe_cell(value) == value
    assert unsafe_cell(value) == value


def test_unsafe_cell_removes_exactly_one_apostrophe() -> None:
    assert unsafe_cell("''=1") == "'=1"
    assert unsafe_cell("'''-5") == "''-5"
    assert unsafe_cell("=1") == "=1"  # never written by safe_cell: left as it is


# --- detect_delimiter ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("order_no,warehouse_id,cancel_reason", ","),
        ("order_no;warehouse_id;cancel_reason", ";"),
        ("order_no\twarehouse_id\tcancel_reason", "\t"),
        ("order_no|warehouse_id|cancel_reason", "|"),
        ("order_no", ","),  # one column: nothing to choose between
        ("", ","),
        ("a,b;c", ","),  # tie: comma
        ("a;b,c|d", ","),  # three-way tie: comma
        ("a;b\tc", ";"),  # tie without a comma: the first candidate
        ("a;b;c,d", ";"),  # more columns wins
        ("a,b,c;d;e;f", ";"),
        ('"No; Pesanan",Gudang', ","),  # a delimiter inside quotes does not count
        ('"a|b|c"\td', "\t"),
    ],
)
def test_detect_delimiter(header: str, expected: str) -> None:
    assert detect_delimiter(header) == expected


# --- header_key ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "order_no",
        "ORDER_NO",
        "Order_No",
        "  order_no\t",
        "\u00a0order_no\u3000",
        "\ufefforder_no",  # a BOM read as text
        "order\u200b_no",  # a zero-width space in the middle
        "\u200border_no\u200d",
    ],
)
def test_header_key_ignores_case_spaces_and_invisible_characters(name: str) -> None:
    assert header_key(name) == "order_no"


def test_header_key_casefolds() -> None:
    assert header_key("Straße") == "strasse"
    assert header_key("STRASSE") == header_key("straße")
    assert header_key("ΣΊΣΥΦΟΣ") == header_key("σίσυφος")


def test_header_key_normalises_before_matching() -> None:
    assert header_key("Cafe\u0301") == header_key("CAFÉ") == "café"


def test_header_key_keeps_inner_spaces_and_punctuation() -> None:
    assert header_key(" No. Pesanan ") == "no. pesanan"
    assert header_key("order no") != header_key("order_no")


# --- the results columns -------------------------------------------------------------------


def test_result_columns_order() -> None:
    assert tuple(RESULT_COLUMNS) == (
        "source_row",
        "result_status",
        "result_http_status",
        "result_error_code",
        "result_error_message",
        "result_attempts",
        "result_request_id",
        "result_finished_at",
    )
    numbers = {"source_row", "result_http_status", "result_attempts"}
    assert numbers == NUMBER_COLUMNS


def test_result_cells_follow_result_columns() -> None:
    result = RowResult(
        source_row=7,
        status=Outcome.REJECTED,
        http_status=400,
        error_code="9001",
        error_message="stock is allocated",
        attempts=2,
        request_id="req-7",
        finished_at="2026-11-26T23:00:01.580Z",
    )
    cells = result_cells(result)
    assert cells == [
        7,
        "rejected",
        400,
        "9001",
        "stock is allocated",
        2,
        "req-7",
        "2026-11-26T23:00:01.580Z",
    ]
    assert cells[1] is Outcome.REJECTED
    by_column = dict(zip(RESULT_COLUMNS, cells, strict=True))
    assert all(by_column[column] == getattr(result, RESULT_FIELDS[column]) for column in by_column)


def test_result_cells_blank_where_there_is_no_http_answer() -> None:
    cells = result_cells(RowResult(source_row=1, status=Outcome.NOT_SENT))
    assert cells == [1, "not_sent", "", "", "", 0, "", ""]


# --- csv's cell limit ----------------------------------------------------------------------


def test_importing_schema_lifts_the_csv_cell_limit() -> None:
    # In a fresh interpreter: this one imported schema long ago.
    code = (
        "import csv; before = csv.field_size_limit(); import batch_cancel.schema; "
        "print(before, csv.field_size_limit())"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    before, after = map(int, done.stdout.split())
    assert before == 128 * 1024
    assert after == 2**31 - 1
