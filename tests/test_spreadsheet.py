"""Unit tests for spreadsheet.py: a workbook is read as a person sees it in Excel.

Every workbook is written by the test itself (tests/workbooks.py): which sheet is
read, a cell's text through its number format, dates, merged cells, and the
limits that refuse a hostile workbook before it can exhaust the machine.
"""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from batch_cancel import cli, spreadsheet
from batch_cancel.config import InputOptions
from batch_cancel.errors import InputFileError
from batch_cancel.loader import OrdersFile
from batch_cancel.models import ExitStatus

from .helpers import SEND, cells_of, outcomes
from .workbooks import MAIN, Cell, Formatted, Raw, Sheet, write_workbook

HEADER: list[Cell] = ["order_no", "warehouse_id", "cancel_reason"]


def orders(tmp_path: Path, *sheets: Sheet, **options: Any) -> list[tuple[Any, ...]]:
    path = write_workbook(tmp_path / "export.xlsx", sheets)
    return outcomes(OrdersFile(InputOptions(path=path, **options)))


def shown(tmp_path: Path, rows: list[list[Cell]], **sheet: Any) -> list[tuple[str, ...]]:
    """The cells of each data row, as the loader gets them."""
    path = write_workbook(tmp_path / "shown.xlsx", [Sheet("Sheet1", rows, **sheet)])
    options = InputOptions(path=path, default_warehouse_id="WH1", default_cancel_reason="x")
    return cells_of(OrdersFile(options))


# --- which sheet -----------------------------------------------------------------------


@pytest.mark.parametrize("state", ["hidden", "veryHidden"])
def test_a_hidden_first_sheet_is_never_read(tmp_path: Path, state: str) -> None:
    stale = Sheet("Old", [HEADER, ["SO-STALE", "WH1", "old"]], state=state)
    tonight = Sheet("Orders", [HEADER, ["SO-1", "WH1", "buyer"]])
    assert orders(tmp_path, stale, tonight) == [(1, SEND, "SO-1", "WH1", "buyer")]


def test_a_hidden_sheet_is_read_when_named(tmp_path: Path) -> None:
    stale = Sheet("Old", [HEADER, ["SO-STALE", "WH1", "old"]], state="hidden")
    tonight = Sheet("Orders", [HEADER, ["SO-1", "WH1", "buyer"]])
    assert orders(tmp_path, stale, tonight, sheet="Old") == [(1, SEND, "SO-STALE", "WH1", "old")]


def test_several_visible_sheets_are_refused_by_validate_naming_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_workbook(
        tmp_path / "export.xlsx",
        [
            Sheet("Orders", [HEADER, ["SO-1", "WH1", "buyer"]]),
            Sheet("Returns", [HEADER, ["SO-2", "WH1", "buyer"]]),
            Sheet("Notes", [["old"]], state="hidden"),
        ],
    )
    assert cli.main(["validate", str(path)]) == ExitStatus.USAGE_OR_INPUT
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"batch-cancel: input error: {path}: the workbook has 2 visible sheets ('Orders', "
        "'Returns'); name the one to read with --sheet NAME or the source's sheet key"
    )
    assert cli.main(["validate", str(path), "--sheet", "Returns"]) == ExitStatus.SUCCESS
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"{path}: 1 data row(s): 1 valid, 0 invalid, 0 duplicate"
    )


def test_a_sheet_that_does_not_exist_is_named_with_the_sheets_there(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "export.xlsx", [Sheet("Orders", [HEADER])])
    with pytest.raises(InputFileError) as refused:
        spreadsheet.read_sheet(path, "Sheet1")
    assert str(refused.value) == f"{path}: no sheet named 'Sheet1'; its sheets: 'Orders'"


# --- a cell's text ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "text"),
    [
        (Formatted(123456, "0000000000"), "0000123456"),
        (Formatted(4521, '"SO-"0000000'), "SO-0004521"),
        (Formatted(5551234567, "000-000-0000"), "555-123-4567"),
        (Formatted(1234567, "#,##0"), "1,234,567"),
        (Formatted(15000, "[$Rp-421]#,##0"), "Rp15,000"),
        (Formatted(1234.5, "#,##0.00"), "1,234.50"),
        (Formatted(0.25, 9), "25%"),
        (Formatted(-5, "0;(0)"), "(5)"),
        (Formatted(123456, "@"), "123456"),  # a number in a Text cell shows as General
        (Formatted(123456, 49), "123456"),
        (Formatted(2412010000001, 1), "2412010000001"),
        (2412010000001, "2412010000001"),  # integral numbers keep their digits
        (12.5, "12.5"),
        (2**53 + 2, "9.00720E+15"),  # digits already lost: the loader's scientific rule
        (Formatted(2**53 + 2, "0"), "9.00720E+15"),  # whatever the format: no made-up digits
        (Formatted(12345678901234567890, "0"), "1.23457E+19"),
        ("00123", "00123"),
        (True, "TRUE"),
        (Raw(' t="inlineStr"><is><t>inline</t></is>'), "inline"),
        (Raw(' t="e"><v>#N/A</v>'), "#N/A"),
    ],
)
def test_a_cell_is_the_text_the_sheet_shows(tmp_path: Path, cell: Cell, text: str) -> None:
    assert shown(tmp_path, [["order_no"], [cell]]) == [(text,)]


def test_a_zero_padded_order_number_is_sent_as_shown(tmp_path: Path) -> None:
    sheet = Sheet("Orders", [HEADER, [Formatted(123456, "0000000000"), "WH1", "buyer"]])
    assert orders(tmp_path, sheet) == [(1, SEND, "0000123456", "WH1", "buyer")]


@pytest.mark.parametrize(
    ("cell", "shows"),
    [
        (Formatted(45627, 14), "2024-12-01"),
        (Formatted(45627.5, "yyyy-mm-dd hh:mm"), "2024-12-01 12:00:00"),
        (Formatted(0.75, 21), "18:00:00"),
        (Raw(' t="d"><v>2024-12-01T00:00:00</v>'), "2024-12-01T00:00:00"),
    ],
)
def test_a_date_or_time_is_never_an_order_number(tmp_path: Path, cell: Cell, shows: str) -> None:
    sheet = Sheet("Orders", [HEADER, [cell, "WH1", "buyer"], ["SO-2", "WH1", "buyer"]])
    assert orders(tmp_path, sheet) == [
        (
            1,
            "invalid",
            "date_as_order_no",
            f"order_no is a date or time in the workbook ({shows}), not an order number: "
            "format the column as Text or Number and export again",
        ),
        (2, SEND, "SO-2", "WH1", "buyer"),
    ]


def test_a_date_in_another_column_is_kept_as_iso_text(tmp_path: Path) -> None:
    rows: list[list[Cell]] = [[*HEADER, "created"], ["SO-1", "WH1", "x", Formatted(45627, 14)]]
    assert shown(tmp_path, rows) == [("SO-1", "WH1", "x", "2024-12-01")]


# --- merged cells -----------------------------------------------------------------------


def test_a_merged_warehouse_belongs_to_every_row_of_the_merge(tmp_path: Path) -> None:
    rows: list[list[Cell]] = [
        [*HEADER, None],  # cancel_reason's name merged over two columns: still one column
        ["SO-1", "WH-MERGED", "buyer"],
        ["SO-2", None, "buyer"],
        ["SO-3", None, "buyer"],
        ["SO-4", None, "buyer"],
    ]
    sheet = Sheet("Orders", rows, merges=["B2:B4", "C1:D1"])
    assert orders(tmp_path, sheet, default_warehouse_id="WH-DEFAULT") == [
        (1, SEND, "SO-1", "WH-MERGED", "buyer"),
        (2, SEND, "SO-2", "WH-MERGED", "buyer"),
        (3, SEND, "SO-3", "WH-MERGED", "buyer"),
        (4, SEND, "SO-4", "WH-DEFAULT", "buyer"),
    ]


def test_a_number_past_the_exact_integer_limit_is_invalid_under_a_number_format(
    tmp_path: Path,
) -> None:
    sheet = Sheet("Orders", [HEADER, [Formatted(12345678901234567890, "0"), "WH1", "buyer"]])
    [(row, status, code, *_)] = orders(tmp_path, sheet)
    assert (row, status, code) == (1, "invalid", "scientific_notation")


def test_a_merge_past_the_data_rows_adds_no_rows(tmp_path: Path) -> None:
    rows: list[list[Cell]] = [HEADER, ["SO-1", "WH-MERGED", "buyer"], ["SO-2", None, "buyer"]]
    sheet = Sheet("Orders", rows, merges=["B2:B6", "C2:C6"])
    assert orders(tmp_path, sheet) == [
        (1, SEND, "SO-1", "WH-MERGED", "buyer"),
        (2, SEND, "SO-2", "WH-MERGED", "buyer"),
    ]


# --- bounded reading --------------------------------------------------------------------


def refusal(path: Path) -> str:
    with pytest.raises(InputFileError) as refused:
        spreadsheet.read_sheet(path, None)
    return str(refused.value)


def with_shared_strings(tmp_path: Path, chunks: Iterable[bytes]) -> Path:
    """A one-sheet workbook whose xl/sharedStrings.xml is `chunks`, streamed into the zip."""
    small = write_workbook(tmp_path / "small.xlsx", [Sheet("Orders", [HEADER])])
    path = tmp_path / "hostile.xlsx"
    with zipfile.ZipFile(small) as source, zipfile.ZipFile(path, "w") as copy:
        for info in source.infolist():
            if info.filename != "xl/sharedStrings.xml":
                copy.writestr(info, source.read(info))
        info = zipfile.ZipInfo("xl/sharedStrings.xml")
        info.compress_type = zipfile.ZIP_DEFLATED
        with copy.open(info, "w") as part:
            for chunk in chunks:
                part.write(chunk)
    return path


def test_a_giant_shared_string_is_refused(tmp_path: Path) -> None:
    rows: list[list[Cell]] = [HEADER, ["SO-1", "WH1", "x" * 40_000]]
    path = write_workbook(tmp_path / "giant.xlsx", [Sheet("Orders", rows)])
    assert refusal(path) == (
        f"{path}: refused: a cell holds 40,000 characters, more than Excel's 32,767 "
        "(a damaged or hostile file)"
    )


def test_a_shared_string_shown_in_many_cells_is_refused_past_the_text_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spreadsheet, "MAX_SHOWN_CHARS", 2**20, raising=False)
    rows: list[list[Cell]] = [HEADER, *[["SO-1", "WH1", "x" * 30_000]] * 40]
    path = write_workbook(tmp_path / "repeated.xlsx", [Sheet("Orders", rows)])
    assert refusal(path) == (
        f"{path}: refused: the sheet shows more than 1 MiB characters of text (a shared "
        "string repeated in many cells?); save it as CSV UTF-8, or split it"
    )


def test_a_decompression_bomb_is_refused_before_it_is_inflated(tmp_path: Path) -> None:
    # 129 MiB of spaces, one MiB past the limit, deflate to about 130 KiB.
    path = with_shared_strings(tmp_path, (b" " * 2**20 for _ in range(129)))
    assert refusal(path) == (
        f"{path}: refused: the sheet's XML would be 129 MiB uncompressed, more than the "
        "128 MiB limit of a workbook; save it as CSV UTF-8, or split it"
    )


def test_a_cell_far_from_the_data_is_refused_and_a_huge_dimension_ignored(
    tmp_path: Path,
) -> None:
    huge = '<dimension ref="A1:XFD1048576"/>'
    rows: list[list[Cell]] = [HEADER, ["SO-1", "WH1", "buyer"]]
    fine = write_workbook(tmp_path / "fine.xlsx", [Sheet("Orders", rows, extra=huge)])
    assert cells_of(OrdersFile(InputOptions(path=fine))) == [("SO-1", "WH1", "buyer")]
    far = [*rows, *[[None]] * 2000, [*[None] * 16383, "x"]]
    path = write_workbook(tmp_path / "far.xlsx", [Sheet("Orders", far)])
    assert refusal(path) == (
        f"{path}: refused: the sheet's cells reach row 2,003 and column 16,384, more than "
        "20,000,000 cells; delete the stray cells far from the data, or save it as CSV UTF-8"
    )


def test_xml_entities_are_refused(tmp_path: Path) -> None:
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        f'<sst xmlns="{MAIN}"><si><t>&b;</t></si></sst>'
    )
    path = with_shared_strings(tmp_path, [laughs.encode()])
    assert refusal(path) == (
        f"{path}: refused: the workbook's XML declares a DOCTYPE or entities (a damaged or "
        "hostile file)"
    )


def test_a_part_claiming_more_than_deflate_can_give_is_refused(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "liar.xlsx", [Sheet("Orders", [HEADER, ["SO-1"]])])
    with zipfile.ZipFile(path) as archive:
        compressed = archive.getinfo("xl/sharedStrings.xml").compress_size
    data = bytearray(path.read_bytes())
    # The central directory's entry (what zipfile trusts): its uncompressed size is at +24.
    entry = data.index(b"xl/sharedStrings.xml", data.index(b"PK\x01\x02")) - 46
    assert data[entry : entry + 4] == b"PK\x01\x02"
    struct.pack_into("<I", data, entry + 24, compressed * 2000)
    path.write_bytes(bytes(data))
    assert refusal(path) == (
        f"{path}: refused: xl/sharedStrings.xml claims {compressed * 2000:,} bytes from "
        f"{compressed:,} compressed, more than a zip can hold (a damaged or hostile file)"
    )
