"""`validate`: every problem named by order number and file line, values that will be
shortened warned about, and with -o the results CSV a dry run would write."""

from __future__ import annotations

from pathlib import Path

import pytest

from batch_cancel import cli
from batch_cancel.models import ExitStatus

from .helpers import read_results

NIGHT = (
    "order_no,warehouse_id,cancel_reason\n"
    "A-1,WH-1,Out of stock\n"
    '"A-2",WH-1,"a reason\nover two lines"\n'  # lines 3-4: row 2
    ",WH-1,r\n"
    "A-1,WH-1,again\n"
    f"A-5,WH-1,{'x' * 60}\n"
)


def test_problems_are_named_by_line_row_and_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "night.csv"
    path.write_text(NIGHT)
    out = tmp_path / "night.dry-run.csv"
    assert cli.main(["validate", str(path), "-o", str(out)]) == ExitStatus.ROWS_NEED_ATTENTION
    assert capsys.readouterr().err.splitlines() == [
        "line 5, row 3 (order (blank)): invalid: order_no is blank",
        "line 6, row 4 (order A-1): duplicate: same order_no and warehouse_id as row 1",
        "line 7, row 5 (order A-5): note: cancel_reason_shortened: cancel_reason was 60 "
        "characters, sent its first 50",
        f"{path}: 5 data row(s): 3 valid, 1 invalid, 1 duplicate",
        f"  results: {out}",
    ]
    assert [(row["result_status"], row["result_error_code"]) for row in read_results(out)] == [
        ("not_sent", "dry_run"),
        ("not_sent", "dry_run"),
        ("invalid", "order_no_missing"),
        ("duplicate", "duplicate_row"),
        ("not_sent", "dry_run"),
    ]


def test_validate_never_replaces_a_live_runs_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "night.csv"
    path.write_text(NIGHT)
    live = tmp_path / "night.results.csv"
    live.write_text("kept\n")
    assert cli.main(["validate", str(path), "-o", str(live)]) == ExitStatus.USAGE_OR_INPUT
    assert capsys.readouterr().err == (
        f"batch-cancel: error: a dry run does not replace {live}, which may hold a live run's "
        "results; leave out -o (it writes night.dry-run.csv) or name a new file\n"
    )
    assert live.read_text() == "kept\n"
