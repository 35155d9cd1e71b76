"""Unit tests for results_file.py: reading a results CSV back (ResultsFile), the --only
statuses (parse_statuses), and re-sending from a results file (resend_only)."""

from __future__ import annotations

import csv
import gc
import re
from pathlib import Path

import pytest

from batch_cancel.config import InputOptions
from batch_cancel.errors import ConfigError, InputFileError
from batch_cancel.formats.results_csv import ResultsWriter
from batch_cancel.loader import OrdersFile
from batch_cancel.models import CancelRequest, LoadedRow, LocalCode, Outcome, RowResult
from batch_cancel.results_file import BLOCK_ROWS, ResultsFile, parse_statuses, resend_only
from batch_cancel.schema import WRITTEN_COLUMNS

from .helpers import write_csv

STATUSES = "cancelled, rejected, failed, in_doubt, invalid, duplicate, skipped, not_sent"
INPUT = ["order_no", "warehouse_id", "cancel_reason"]
REJECTED = RowResult(2, Outcome.REJECTED, 400, "9001", "stock", 1, "req-2", "2026-11-26T23:00:01Z")


def write_results(
    path: Path, rows: list[tuple[tuple[str, ...], RowResult]], header: list[str] = INPUT
) -> Path:
    """A results file as a run writes it."""
    with ResultsWriter(path, header) as writer:
        for number, (cells, result) in enumerate(rows, start=1):
            writer.add(LoadedRow(number, cells, None, None), result)
    return path


def night(path: Path) -> Path:
    return write_results(
        path,
        [
            (("A-1", "WH-1", "r"), RowResult(source_row=1, status=Outcome.FAILED, attempts=5)),
            (("A-2", "WH-1", "r"), REJECTED),
            (("A-3", "WH-2", "r"), RowResult(source_row=3, status=Outcome.NOT_SENT)),
        ],
    )


def message(exc: pytest.ExceptionInfo[BaseException]) -> str:
    return str(exc.value)


# --- the header ----------------------------------------------------------------------------


@pytest.mark.parametrize("content", ["", "\n", "  \r\nA-1,failed\n"])
def test_an_empty_header_line_is_refused(tmp_path: Path, content: str) -> None:
    path = tmp_path / "empty.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputFileError) as exc:
        ResultsFile(path)
    assert message(exc) == f"{path}: file is empty (no header line)"


# Result columns match exactly (unlike order_no): a look-alike is an input column.
@pytest.mark.parametrize("second", [" warehouse_id ", "Result_Status"])
def test_a_file_without_result_status_is_not_a_results_file(tmp_path: Path, second: str) -> None:
    path = write_csv(tmp_path / "orders.csv", ["order_no", second], [["A-1", "failed"]])
    with pytest.raises(InputFileError) as exc:
        ResultsFile(path)
    assert message(exc) == (
        f"{path}: not a results file (no result_status column); "
        f"columns found: 'order_no', {second.strip()!r}"
    )


def test_an_unknown_encoding(tmp_path: Path) -> None:
    path = night(tmp_path / "n.results.csv")
    with pytest.raises(InputFileError) as exc:
        ResultsFile(path, encoding="no-such-codec")
    assert message(exc) == "unknown --encoding 'no-such-codec'"


# --- rows ----------------------------------------------------------------------------------


def test_a_written_results_file_reads_back_as_written(tmp_path: Path) -> None:
    results = ResultsFile(night(tmp_path / "n.results.csv"))
    assert results.delimiter == ","
    assert results.header == (*INPUT, *WRITTEN_COLUMNS)
    rows = list(results.rows())
    assert [f"{row.order_no}@{row.warehouse_id}" for row in rows] == [
        "A-1@WH-1",
        "A-2@WH-1",
        "A-3@WH-2",
    ]
    assert rows[1].result == REJECTED
    assert rows[0].result == RowResult(source_row=1, status=Outcome.FAILED, attempts=5)
    assert rows[2].result == RowResult(source_row=3, status=Outcome.NOT_SENT)
    assert {row.results_file for row in rows} == {str(tmp_path / "n.results.csv")}
    assert rows[1].cells[:3] == ("A-2", "WH-1", "r")


def test_the_caller_runs_with_the_garbage_collector_as_it_was(tmp_path: Path) -> None:
    """The reader may pause the collector while it reads a block, never across a yield:
    the review's code between blocks runs with the process's collector on."""
    rows = [((f"A-{n}", "WH-1", "r"), REJECTED) for n in range(1, 2 * BLOCK_ROWS + 2)]
    results = ResultsFile(write_results(tmp_path / "big.results.csv", rows))
    assert gc.isenabled()
    seen = [gc.isenabled() for _block in results.blocks()]
    assert seen == [True, True, True]
    assert gc.isenabled()
    gc.disable()  # and a caller that turned it off finds it off
    try:
        assert not any(gc.isenabled() for _block in results.blocks())
    finally:
        gc.enable()


def test_a_results_file_resaved_with_semicolons_is_read(tmp_path: Path) -> None:
    original = night(tmp_path / "n.results.csv")
    with original.open(encoding="utf-8-sig", newline="") as handle:
        records = list(csv.reader(handle))
    resaved = write_csv(tmp_path / "excel.csv", records[0], records[1:], delimiter=";")
    results = ResultsFile(resaved)
    assert results.delimiter == ";"
    assert [row.result for row in results.rows()] == [
        row.result for row in ResultsFile(original).rows()
    ]


def test_blank_lines_are_skipped_and_not_counted(tmp_path: Path) -> None:
    path = tmp_path / "gaps.csv"
    path.write_text("order_no,result_status\n\nA-1,failed\n\n\nA-2,skipped\n", encoding="utf-8")
    # Each row's place, none recorded: blank lines take none.
    assert [(row.order_no, row.result.source_row) for row in ResultsFile(path).rows()] == [
        ("A-1", 1),
        ("A-2", 2),
    ]
    path.write_text("order_no,result_status\n\nA-1,failed\n\n\nA-2,maybe\n", encoding="utf-8")
    with pytest.raises(InputFileError) as exc:
        list(ResultsFile(path).rows())
    assert message(exc) == f"{path}: data row 2: result_status 'maybe' is not one of {STATUSES}"


def test_lines_of_delimiters_are_skipped_like_blank_ones(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"  # rows deleted in Excel leave lines of commas
    path.write_text("order_no,result_status\nA-1,failed\n,\n , \nA-2,cancelled\n")
    assert [(row.order_no, row.result.source_row) for row in ResultsFile(path).rows()] == [
        ("A-1", 1),
        ("A-2", 2),
    ]


def test_a_bom_left_by_an_explicit_utf8_encoding_is_not_part_of_the_header(
    tmp_path: Path,
) -> None:
    path = night(tmp_path / "night.csv")  # written utf-8-sig, with a BOM
    rows = list(ResultsFile(path, encoding="utf-8").rows())
    assert [row.result.source_row for row in rows] == [1, 2, 3]
    assert ResultsFile(path, encoding="utf-8").header[0] == "order_no"


def test_cells_made_safe_on_writing_are_undone_on_reading(tmp_path: Path) -> None:
    path = write_results(
        tmp_path / "f.results.csv",
        [(("=HYPERLINK(1)", "@WH", "-r", "'+61"), RowResult(1, Outcome.FAILED))],
        header=[*INPUT, "-note"],
    )
    with path.open(encoding="utf-8-sig", newline="") as handle:
        written = list(csv.reader(handle))
    assert written[0][3] == "'-note"
    assert written[1][:4] == ["'=HYPERLINK(1)", "'@WH", "'-r", "''+61"]
    results = ResultsFile(path)
    assert results.header[3] == "-note"
    (row,) = results.rows()
    assert (row.order_no, row.warehouse_id) == ("=HYPERLINK(1)", "@WH")
    assert row.cells[:4] == ("=HYPERLINK(1)", "@WH", "-r", "'+61")


def test_order_no_and_warehouse_id_are_found_like_the_loader_finds_them(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "r.csv",
        [" ORDER_NO\u00a0", "\ufeffWarehouse_Id", "order_no", "result_status"],
        [[" A-1 ", "WH-1", "second", "failed"]],
    )
    (row,) = ResultsFile(path).rows()
    assert (row.order_no, row.warehouse_id) == ("A-1", "WH-1")  # the first of two counts


def test_column_map_names_the_columns(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "r.csv",
        ["No. Pesanan", "GUDANG ", "result_status"],
        [["TKP-1", "WH-A", "cancelled"]],
    )
    mapped = ResultsFile(path, column_map={"order_no": "no. pesanan", "warehouse_id": "Gudang"})
    assert [(row.order_no, row.warehouse_id) for row in mapped.rows()] == [("TKP-1", "WH-A")]
    assert [(row.order_no, row.warehouse_id) for row in ResultsFile(path).rows()] == [("", "")]


def test_recorded_source_row_wins_over_the_place(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "r.csv",
        ["source_row", "result_status", "result_http_status", "result_attempts"],
        [["7", " Cancelled ", "200", "1"], ["", "invalid", "", ""]],
    )
    assert [row.result for row in ResultsFile(path).rows()] == [
        RowResult(source_row=7, status=Outcome.CANCELLED, http_status=200, attempts=1),
        RowResult(source_row=2, status=Outcome.INVALID),  # blanks keep the defaults
    ]


@pytest.mark.parametrize("column", ["source_row", "result_http_status", "result_attempts"])
def test_a_number_column_that_is_not_a_number(tmp_path: Path, column: str) -> None:
    header = ["order_no", "result_status", column]
    path = write_csv(tmp_path / "r.csv", header, [["A-1", "failed", "1"], ["A-2", "failed", "2x"]])
    with pytest.raises(InputFileError) as exc:
        list(ResultsFile(path).rows())
    assert message(exc) == f"{path}: data row 2: {column} '2x' is not a whole number"


@pytest.mark.parametrize("status", ["", "cancelld", "ok"])
def test_a_status_that_is_not_an_outcome(tmp_path: Path, status: str) -> None:
    path = write_csv(tmp_path / "r.csv", ["order_no", "result_status"], [["A-1", status]])
    with pytest.raises(InputFileError) as exc:
        list(ResultsFile(path).rows())
    assert message(exc) == f"{path}: data row 1: result_status {status!r} is not one of {STATUSES}"


def test_a_cell_over_128_kib_reads_back(tmp_path: Path) -> None:
    huge = "x" * (200 * 1024)
    path = write_results(
        tmp_path / "big.results.csv",
        [(("A-1", "WH-1", "r", huge), RowResult(1, Outcome.CANCELLED))],
        header=[*INPUT, "note"],
    )
    (row,) = ResultsFile(path).rows()
    assert row.cells[3] == huge
    assert row.result.status is Outcome.CANCELLED


# --- parse_statuses ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("failed", {Outcome.FAILED}),
        ("FAILED,Not_Sent", {Outcome.FAILED, Outcome.NOT_SENT}),
        (" rejected , failed, rejected ,", {Outcome.REJECTED, Outcome.FAILED}),
        (",".join(outcome.value for outcome in Outcome), set(Outcome)),
    ],
)
def test_parse_statuses(text: str, expected: set[Outcome]) -> None:
    assert parse_statuses(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "expects STATUS[,STATUS...]"),
        (" , ,", "expects STATUS[,STATUS...]"),
        ("failed, faild,Maybe", "unknown status 'faild', 'maybe'"),
    ],
)
def test_parse_statuses_refuses(text: str, expected: str) -> None:
    full = f"{expected}; statuses are {STATUSES}"
    with pytest.raises(ValueError, match=f"^{re.escape(full)}$"):
        parse_statuses(text)


# --- resend_only ---------------------------------------------------------------------------


def test_resend_only_sends_the_selected_and_keeps_the_rest(tmp_path: Path) -> None:
    path = night(tmp_path / "n.results.csv")
    rows = list(resend_only(OrdersFile(InputOptions(path=path)), frozenset({Outcome.FAILED})))
    assert [row.source_row for row in rows] == [1, 2, 3]
    assert rows[0].request == CancelRequest(1, "A-1", "WH-1", "r")
    assert rows[0].verdict is None
    assert [row.request for row in rows[1:]] == [None, None]
    assert rows[1].verdict == REJECTED
    assert rows[2].verdict == RowResult(source_row=3, status=Outcome.NOT_SENT)
    assert [row.cells[0] for row in rows] == ["A-1", "A-2", "A-3"]


def test_a_selected_row_is_validated_again(tmp_path: Path) -> None:
    path = write_results(tmp_path / "r.csv", [(("A-1", "", "r"), RowResult(1, Outcome.NOT_SENT))])
    (row,) = resend_only(OrdersFile(InputOptions(path=path)), frozenset({Outcome.NOT_SENT}))
    assert row.request is None
    assert row.verdict is not None
    assert (row.verdict.status, row.verdict.error_code) == (
        Outcome.INVALID,
        LocalCode.WAREHOUSE_ID_MISSING,
    )


def test_a_kept_verdict_is_numbered_by_its_place_in_the_file(tmp_path: Path) -> None:
    # Re-sorted by hand: the recorded source_row no longer is the row's place.
    header = [*INPUT, "source_row", "result_status"]
    path = write_csv(tmp_path / "r.csv", header, [["A-9", "WH", "r", "9", "cancelled"]])
    (row,) = resend_only(OrdersFile(InputOptions(path=path)), frozenset({Outcome.FAILED}))
    assert row.request is None
    assert row.verdict == RowResult(source_row=1, status=Outcome.CANCELLED)


def test_resend_only_refuses_an_input_that_is_not_a_results_file(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "orders.csv", INPUT, [["A-1", "WH-1", "r"]])
    with pytest.raises(ConfigError) as exc:
        resend_only(OrdersFile(InputOptions(path=path)), frozenset({Outcome.FAILED}))
    assert message(exc) == (
        f"--only needs a results CSV as input: {path} has no result_status column"
    )
