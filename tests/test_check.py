"""`batch-cancel check` against the real sandbox: each order read back, its verdict in
plain words, and the exit status; `summarize` of the check's CSV shows the verdicts."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from batch_cancel.formats.check_csv import HEADER
from batch_cancel.models import ExitStatus
from batch_cancel.sandbox_process import SandboxProcess

from .helpers import ORDERS_HEADER, main_in_process, read_results, use_cli_env, write_csv

BOOK = [
    ("OPEN-1", "CREATED"),
    ("ALLOC-1", "PICKED"),
    ("SHIP-1", "SHIPPED"),
    ("DONE-1", "CANCELLED"),
]


def _sandbox(tmp_path: Path, start_sandbox: Callable[..., SandboxProcess]) -> SandboxProcess:
    rows = [[order, "WH-1", state] for order, state in BOOK]
    book = write_csv(tmp_path / "book.csv", ["order_no", "warehouse_id", "state"], rows)
    return start_sandbox("--orders", str(book))


def test_check_reads_each_order_back_and_says_what_became_of_it(
    tmp_path: Path,
    start_sandbox: Callable[..., SandboxProcess],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_cli_env(monkeypatch)
    sandbox = _sandbox(tmp_path, start_sandbox)
    out = tmp_path / "check.csv"
    orders = [order for order, _ in BOOK] + ["NOPE-1"]
    done = main_in_process(
        capsys, "check", *orders, "--warehouse-id", "WH-1", "--base-url", sandbox.url, "-o", out
    )
    assert done.returncode == ExitStatus.ROWS_NEED_ATTENTION, done.stderr
    with out.open(encoding="utf-8", newline="") as handle:
        rows = [
            (row["order_no"], row["so_status"], row["qty_allocated"], row["verdict"])
            for row in csv.DictReader(handle)
        ]
    assert rows == [
        ("OPEN-1", "CREATED", "0", "still open, a re-run will cancel it"),
        ("ALLOC-1", "PICKED", "1", "stock allocated, the warehouse must release it"),
        ("SHIP-1", "SHIPPED", "0", "shipped, too late to cancel"),
        ("DONE-1", "CANCELLED", "0", "cancelled"),
        ("NOPE-1", "", "", "unknown to Shipper"),
    ]
    assert done.stderr.endswith(f"5 order(s) checked, 1 cancelled; written to {out}\n")
    assert sandbox.stats()["cancel_calls"] == {}  # check never cancels

    summary = main_in_process(capsys, "summarize", out)
    assert summary.returncode == ExitStatus.ROWS_NEED_ATTENTION
    assert summary.stdout.splitlines() == [
        "5 order(s) checked in Shipper:",
        "        1  cancelled",
        "        1  shipped, too late to cancel",
        "        1  still open, a re-run will cancel it",
        "        1  stock allocated, the warehouse must release it",
        "        1  unknown to Shipper",
    ]


def test_check_exits_0_when_every_order_is_cancelled_and_3_when_the_key_is_refused(
    tmp_path: Path,
    start_sandbox: Callable[..., SandboxProcess],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_cli_env(monkeypatch)
    sandbox = _sandbox(tmp_path, start_sandbox)
    flags = ["--warehouse-id", "WH-1", "--base-url", sandbox.url]
    done = main_in_process(capsys, "check", "DONE-1", *flags)
    assert done.returncode == ExitStatus.SUCCESS, done.stderr
    assert done.stdout.splitlines()[1].startswith("DONE-1,WH-1,CANCELLED,0,cancelled,200,sbx-")

    use_cli_env(monkeypatch, api_key="sk-live-not-the-sandbox-key")
    refused = main_in_process(capsys, "check", "DONE-1", "OPEN-1", *flags)
    assert refused.returncode == ExitStatus.API_REFUSED_OR_DOWN
    assert "sk-live-not-the-sandbox-key" not in refused.stdout + refused.stderr


def test_a_lost_answer_is_settled_by_one_read_back_without_a_second_cancel(
    tmp_path: Path,
    start_sandbox: Callable[..., SandboxProcess],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # --lose-answer: the sandbox applies OPEN-1's cancel, then drops the connection unanswered.
    use_cli_env(monkeypatch, state=tmp_path / "ledger.sqlite3")
    rows = [[order, "WH-1", state] for order, state in BOOK]
    book = write_csv(tmp_path / "book.csv", ["order_no", "warehouse_id", "state"], rows)
    sandbox = start_sandbox("--orders", str(book), "--lose-answer", "OPEN-1")
    export = write_csv(tmp_path / "in.csv", ORDERS_HEADER, [["OPEN-1", "WH-1", "oos"]])
    out = tmp_path / "out.csv"
    done = main_in_process(capsys, "run", export, "-o", out, "--base-url", sandbox.url)
    assert done.returncode == ExitStatus.SUCCESS, done.stderr
    [row] = read_results(out)
    assert row["result_status"] == "cancelled"
    assert row["result_attempts"] == "1"
    read_id = row["result_request_id"]
    assert read_id.startswith("sbx-")
    expected = f"confirmed cancelled by read-back (CANCELLED; request id {read_id})"
    assert row["result_error_message"] == expected
    stats = sandbox.stats()
    assert stats["cancel_calls"] == {"OPEN-1|WH-1": 1}
    assert stats["read_calls"] == {"OPEN-1|WH-1": 1}
    assert stats["answers"]["dropped"] == 1

    shown = main_in_process(capsys, "history", "OPEN-1")
    assert shown.returncode == ExitStatus.SUCCESS
    lines = [re.sub(r"^\S+ ", "T ", line) for line in shown.stdout.splitlines()]
    # The read and the outcome share their second; the ledger lists a tie by kind.
    assert lines == [
        "T  run 1  WH-1  attempt 1 sent -> no answer connection_error "
        "ServerDisconnectedError: Server disconnected",
        "T  run 1  WH-1  outcome cancelled after 1 attempt(s): HTTP 200 confirmed cancelled by "
        f"read-back (CANCELLED; request id {read_id}) (request {read_id}); row 1 of in.csv",
        f"T  run 1  WH-1  read-back -> Shipper shows CANCELLED (HTTP 200 (request {read_id}))",
    ]


def test_report_of_a_check_csv_checks_its_output_like_any_other(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    use_cli_env(monkeypatch, state=tmp_path / "ledger.sqlite3")
    row = ["DONE-1", "WH-1", "CANCELLED", "0", "cancelled", "200", "r-1"]
    checked = write_csv(tmp_path / "check.csv", list(HEADER), [row])
    before = checked.read_bytes()
    done = main_in_process(capsys, "report", checked, "-o", checked)
    assert done.returncode == ExitStatus.USAGE_OR_INPUT
    assert done.stderr == (
        f"batch-cancel: error: -o {checked} would overwrite the input {checked}; "
        "name another file\n"
    )
    done = main_in_process(capsys, "report", checked, "-o", tmp_path)
    assert done.returncode == ExitStatus.USAGE_OR_INPUT
    assert (
        done.stderr == f"batch-cancel: error: -o {tmp_path} is a directory; name a file to write\n"
    )
    assert checked.read_bytes() == before
    page = tmp_path / "check.html"
    done = main_in_process(capsys, "report", checked, "-o", page)
    assert done.returncode == ExitStatus.SUCCESS
    assert done.stderr == f"batch-cancel: report written to {page}\n"
