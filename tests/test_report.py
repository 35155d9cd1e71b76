"""Unit tests for report.py: the results CSV in input order, and the summary."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from batch_cancel.config import default_results_path
from batch_cancel.models import LoadedRow, LocalCode, Outcome, RowResult
from batch_cancel.report import ResultsWriter, format_summary
from batch_cancel.schema import RESULT_COLUMNS

from .helpers import read_results

HEADER = ["order_no", "warehouse_id", "cancel_reason"]


def loaded(source_row: int, *cells: str) -> LoadedRow:
    return LoadedRow(source_row, cells or (f"ORD-{source_row}", "WH", "r"), None, None)


def cancelled(source_row: int) -> RowResult:
    return RowResult(
        source_row=source_row,
        status=Outcome.CANCELLED,
        http_status=200,
        attempts=1,
        request_id=f"req-{source_row}",
        finished_at="2026-11-26T23:00:00.000Z",
    )


def raw_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def write_results(path: Path, *source_rows: int, fail: bool = False) -> ResultsWriter:
    """Add a cancelled result for each row, in the order given; optionally blow up inside."""
    with ResultsWriter(path, HEADER) as writer:
        for source_row in source_rows:
            writer.add(loaded(source_row), cancelled(source_row))
        if fail:
            raise RuntimeError("disk on fire")
    return writer


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "reports" / "orders.results.csv"  # the folder does not exist yet


def test_out_of_order_results_come_out_in_input_order(out: Path) -> None:
    writer = write_results(out, 3, 1, 5, 2, 4)
    assert [row["source_row"] for row in read_results(out)] == ["1", "2", "3", "4", "5"]
    assert [row["order_no"] for row in read_results(out)] == [f"ORD-{n}" for n in range(1, 6)]
    assert writer.rows_written == 5
    assert writer.counts == Counter({Outcome.CANCELLED: 5})


def test_cells_echoed_unchanged_and_result_columns_appended(out: Path) -> None:
    rejected = RowResult(
        source_row=2,
        status=Outcome.REJECTED,
        http_status=400,
        error_code="810",
        error_message="Invalid Input, please validate",
        attempts=1,
    )
    with ResultsWriter(out, HEADER) as writer:
        writer.add(loaded(1, "  000123 ", "NA", 'say "hi", then\nleave'), cancelled(1))
        writer.add(loaded(2, "ORD-2", "WH", "r"), rejected)
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel needs the BOM to read UTF-8
    assert raw_rows(out) == [
        [*HEADER, *RESULT_COLUMNS],
        [
            *("  000123 ", "NA", 'say "hi", then\nleave'),
            *("1", "cancelled", "200", "", "", "1", "req-1", "2026-11-26T23:00:00.000Z"),
        ],
        [
            *("ORD-2", "WH", "r"),
            *("2", "rejected", "400", "810", "Invalid Input, please validate", "1", "", ""),
        ],
    ]


def test_short_row_padded_with_blank_cells(out: Path) -> None:
    with ResultsWriter(out, HEADER) as writer:
        writer.add(loaded(1, "ORD-1"), cancelled(1))
    assert raw_rows(out)[1][:4] == ["ORD-1", "", "", "1"]


def test_results_file_as_input_replaces_old_result_columns(out: Path) -> None:
    header = ["order_no", "source_row", "result_status", "warehouse_id", "result_error_message"]
    with ResultsWriter(out, header) as writer:
        writer.add(loaded(1, "ORD-1", "7", "failed", "WH", "gave up"), cancelled(1))
    [written_header, written] = raw_rows(out)
    assert written_header == ["order_no", "warehouse_id", *RESULT_COLUMNS]
    assert written[:5] == ["ORD-1", "WH", "1", "cancelled", "200"]
    assert "failed" not in written
    assert "gave up" not in written


def test_file_appears_only_on_exit(out: Path) -> None:
    with ResultsWriter(out, HEADER) as writer:
        writer.add(loaded(1), cancelled(1))
        assert not out.exists()
        (partial,) = out.parent.glob(f".{out.name}.*.partial")  # unique to this run
        assert partial.stat().st_size > 0
    assert out.exists()
    assert sorted(path.name for path in out.parent.iterdir()) == [out.name]


def test_a_run_that_breaks_off_keeps_its_rows_under_an_incomplete_name(out: Path) -> None:
    with pytest.raises(RuntimeError, match="disk on fire"):
        write_results(out, 2, 1, 4, fail=True)  # row 3 never finished: 4 waits behind the gap
    incomplete = out.with_name(f"{out.stem}.incomplete.csv")
    assert [row["source_row"] for row in read_results(incomplete)] == ["1", "2", "4"]
    # Nothing under the results name: a reviewer must not take this for a whole night.
    assert sorted(path.name for path in out.parent.iterdir()) == [incomplete.name]


def test_counts_per_status(out: Path) -> None:
    invalid = RowResult(source_row=2, status=Outcome.INVALID, error_code=LocalCode.ORDER_NO_MISSING)
    with ResultsWriter(out, HEADER) as writer:
        writer.add(loaded(1), cancelled(1))
        writer.add(loaded(2), invalid)
    assert writer.counts == Counter({Outcome.CANCELLED: 1, Outcome.INVALID: 1})
    assert read_results(out)[1]["result_error_code"] == "order_no_missing"


@pytest.mark.parametrize(
    ("input_path", "expected"),
    [
        ("/data/in/orders.csv", "/data/in/orders.results.csv"),
        ("/data/export.2026-11-26.txt", "/data/export.2026-11-26.results.csv"),
        ("orders", "orders.results.csv"),
    ],
)
def test_default_results_path(input_path: str, expected: str) -> None:
    assert default_results_path(Path(input_path)) == Path(expected)


def test_format_summary_lists_counts_and_path() -> None:
    counts = Counter({Outcome.INVALID: 2, Outcome.CANCELLED: 1234, Outcome.REJECTED: 1})
    text = format_summary(
        counts, Path("/data/orders.results.csv"), elapsed_s=12.34, headline="batch-cancel: done"
    )
    assert text.splitlines() == [
        "batch-cancel: done",
        "  rows: 1237 in 12.3s",
        "  cancelled     1234",
        "  rejected         1  <- needs attention",
        "  invalid          2  <- needs attention",
        "  results: /data/orders.results.csv",
    ]


def test_format_summary_without_results_path() -> None:
    text = format_summary(Counter({Outcome.NOT_SENT: 3}), None, elapsed_s=0, headline="stopped")
    assert text.splitlines() == [
        "stopped",
        "  rows: 3 in 0.0s",
        "  not_sent         3  <- needs attention",
    ]
