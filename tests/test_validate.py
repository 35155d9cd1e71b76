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
    # Invalid rows and notes first, then the duplicates counted in one line.
    assert capsys.readouterr().err.splitlines() == [
        "line 5, row 3 (order (blank)): invalid: order_no is blank",
        "line 7, row 5 (order A-5): note: cancel_reason_shortened: cancel_reason was 60 "
        "characters, sent its first 50",
        f"{path}: 1 duplicate row(s), an order already on an earlier row (not sent again); "
        "--show-duplicates lists them",
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


def test_a_one_row_per_item_export_lists_its_invalid_row_before_any_duplicate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Lazada: one row per item, so 40 rows repeat the order of the row before them.
    rows = [f"L-{n // 5},WH-1,r" for n in range(45)] + [",WH-1,r"]
    path = tmp_path / "lazada.csv"
    path.write_text("order_no,warehouse_id,cancel_reason\n" + "\n".join(rows) + "\n")
    assert cli.main(["validate", str(path)]) == ExitStatus.ROWS_NEED_ATTENTION
    assert capsys.readouterr().err.splitlines() == [
        "line 47, row 46 (order (blank)): invalid: order_no is blank",
        f"{path}: 36 duplicate row(s), an order already on an earlier row (not sent again); "
        "--show-duplicates lists them",
        f"{path}: 46 data row(s): 9 valid, 1 invalid, 36 duplicate",
    ]
    assert cli.main(["validate", str(path), "--show-duplicates"]) == ExitStatus.ROWS_NEED_ATTENTION
    err = capsys.readouterr().err.splitlines()
    assert err[:3] == [
        "line 47, row 46 (order (blank)): invalid: order_no is blank",
        f"{path}: 36 duplicate row(s), an order already on an earlier row (not sent again)",
        "line 3, row 2 (order L-0): duplicate: same order_no and warehouse_id as row 1",
    ]
    assert err[-2:] == [
        "... and more: 36 duplicate row(s) in all",
        f"{path}: 46 data row(s): 9 valid, 1 invalid, 36 duplicate",
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
