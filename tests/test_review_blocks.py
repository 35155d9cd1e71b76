"""The review reads results files a block at a time, most blocks without making a row of
each line (results_file.RowBlock). These tests hold that fast reading to the plain one:
the rows and the counts must be what csv.reader and a row-by-row count give, whatever
the file holds and wherever the block boundaries fall."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from batch_cancel import results_file
from batch_cancel.errors import InputFileError
from batch_cancel.models import NEEDS_ATTENTION, Outcome
from batch_cancel.results_file import ResultsFile
from batch_cancel.review import SAMPLE_ROWS, review_files
from batch_cancel.schema import RESULT_COLUMNS, unsafe_cell

HEADER = ["order_no", "warehouse_id", "cancel_reason", *RESULT_COLUMNS, "result_warehouse_id"]


def row(
    number: int,
    status: str,
    *,
    code: str = "",
    message: str = "",
    http: str = "",
    warehouse: str = "WH-1",
    reason: str = "r",
    finished: str = "2026-12-01T01:00:00.000Z",
) -> list[str]:
    return [
        f"A-{number}",
        warehouse,
        reason,
        str(number),
        status,
        http,
        code,
        message,
        "1",
        "",
        finished,
        warehouse,
    ]


def write(path: Path, rows: list[list[str]], *, line_end: str = "\r\n") -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle, lineterminator=line_end).writerows([HEADER, *rows])
    return path


def plain_rows(path: Path) -> list[list[str]]:
    """The data rows as csv.reader reads them, blank ones left out, cells unprotected."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        records = list(csv.reader(handle))[1:]
    return [
        [unsafe_cell(cell) for cell in cells] for cells in records if any(map(str.strip, cells))
    ]


MIXED = [
    row(1, "cancelled", http="200"),
    row(2, "rejected", code="30002", message="stock, already allocated", http="422"),
    row(3, "failed", code="timeout", message='said "later"\nthen nothing'),
    row(4, "not_sent", code="api_down", message="down", warehouse="WH-2"),
    row(5, "cancelled", http="200", finished="'=2026"),  # protected by safe_cell
    row(6, "invalid", code="order_no_missing", message="no order", warehouse=""),
    row(7, "Cancelled ", http="200"),  # as a hand edit leaves it
    row(8, "rejected", http="404", reason="multi\r\nline\r\nreason"),
    row(9, "skipped", code="already_cancelled"),
    row(10, "cancelled", http=" 200 "),
]


@pytest.mark.parametrize("block_rows", [1, 2, 3, 4096])
@pytest.mark.parametrize("line_end", ["\r\n", "\n"])
def test_rows_are_what_csv_reader_reads_wherever_blocks_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block_rows: int, line_end: str
) -> None:
    monkeypatch.setattr(results_file, "BLOCK_ROWS", block_rows)
    path = write(tmp_path / "mixed.csv", MIXED * 3, line_end=line_end)
    rows = list(ResultsFile(path).rows())
    assert [list(made.cells) for made in rows] == plain_rows(path)
    assert [made.result.source_row for made in rows] == [n for _ in range(3) for n in range(1, 11)]
    assert rows[2].result.error_message == 'said "later"\nthen nothing'
    assert rows[7].cells[2] == "multi\r\nline\r\nreason"


@pytest.mark.parametrize("block_rows", [1, 3, 4096])
def test_counts_are_a_row_by_row_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block_rows: int
) -> None:
    monkeypatch.setattr(results_file, "BLOCK_ROWS", block_rows)
    plain = [row(n, "cancelled", http="200", warehouse=f"WH-{n % 3}") for n in range(1, 40)]
    path = write(tmp_path / "night.csv", [*plain, *MIXED, *plain])
    made = list(ResultsFile(path).rows())
    summary = review_files([path]).total

    assert summary.rows == len(made) == 88
    assert summary.by_status == {
        outcome: sum(r.result.status is outcome for r in made) for outcome in Outcome
    }
    codes = Counter(r.result.error_code for r in made if r.result.error_code)
    assert {item.code: item.rows for item in summary.error_codes} == codes
    warehouses = Counter(r.warehouse_id for r in made)
    assert {item.warehouse_id: item.rows for item in summary.warehouses} == warehouses
    finished = sorted(r.result.finished_at for r in made)
    assert (summary.first_finished_at, summary.last_finished_at) == (finished[0], finished[-1])
    assert summary.last_finished_at == "=2026"  # unprotected ("'=2026") before it is compared


def test_blank_lines_and_lines_of_delimiters_take_no_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(results_file, "BLOCK_ROWS", 2)
    path = tmp_path / "gaps.csv"
    header = ",".join(HEADER)
    lines = [header, "", ",".join(row(1, "cancelled")), ",,,", "", ",".join(row(2, "failed"))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    review = review_files([path])
    assert review.total.rows == 2
    assert [r.order_no for r in ResultsFile(path).rows()] == ["A-1", "A-2"]


@pytest.mark.parametrize(
    ("cells", "named"),
    [
        ({4: "maybe"}, "result_status 'maybe' is not one of"),
        ({3: "x7"}, "source_row 'x7' is not a whole number"),
        ({5: "2OO"}, "result_http_status '2OO' is not a whole number"),
        ({8: "one"}, "result_attempts 'one' is not a whole number"),
    ],
)
def test_a_bad_cell_deep_in_a_fast_file_is_named_with_its_row(
    tmp_path: Path, cells: dict[int, str], named: str
) -> None:
    rows = [row(n, "cancelled", http="200") for n in range(1, 6001)]
    for position, value in cells.items():
        rows[5000][position] = value
    path = write(tmp_path / "bad.csv", rows)
    with pytest.raises(InputFileError) as exc:
        review_files([path])
    assert str(exc.value).startswith(f"{path}: data row 5001: {named}")


def test_a_short_row_reads_its_missing_cells_as_blank(tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_text(",".join(HEADER) + "\nA-1,WH-1,r,1,failed\n", encoding="utf-8")
    (made,) = ResultsFile(path).rows()
    assert (made.result.status, made.result.error_code, made.warehouse_id) == (
        Outcome.FAILED,
        "",
        "WH-1",
    )
    assert review_files([path]).total.needs_attention == 1


def test_the_sample_is_the_first_rows_needing_attention_in_file_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(results_file, "BLOCK_ROWS", 7)
    rows = [
        row(n, "failed" if n % 3 == 0 else "cancelled", code="timeout" if n % 3 == 0 else "")
        for n in range(1, 3 * SAMPLE_ROWS + 10)
    ]
    review = review_files([write(tmp_path / "night.csv", rows)])
    assert [r.result.source_row for r in review.needs_attention] == list(
        range(3, 3 * SAMPLE_ROWS + 1, 3)
    )
    assert all(r.result.status in NEEDS_ATTENTION for r in review.needs_attention)


def test_clean_blocks_are_counted_without_a_row_by_row_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast path is what makes a million rows take a second: a file without errors,
    quoted cells and all, must never need the row-by-row reading."""
    monkeypatch.setattr(results_file, "BLOCK_ROWS", 64)
    rows = [row(n, "rejected", code="9003", message='say "no", twice') for n in range(1, 300)]
    path = write(tmp_path / "clean.csv", rows)

    def slow(*args: object) -> None:
        raise AssertionError("a clean block was read row by row")

    monkeypatch.setattr(ResultsFile, "_slow_block", slow)
    assert review_files([path]).total.by_status[Outcome.REJECTED] == 299
