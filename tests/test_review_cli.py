"""The morning review through the real CLI: summarize, report, and `run --only` round trips.

`cli.main` runs in this process, except where the test needs a process of its own (a
pipe its reader closes early).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from batch_cancel import cli
from batch_cancel.models import ExitStatus
from batch_cancel.schema import RESULT_COLUMNS, SENT_COLUMNS

from .conftest import Sandbox
from .helpers import DATA, ROOT, SAMPLES, main_in_process, read_results, use_cli_env, write_csv

EVERY_STATUS = DATA / "results-every-status.csv"
FAST = ["--rate", "200", "--concurrency", "8"]
RESENT_STATUSES = {"failed", "not_sent"}


def result_columns(row: dict[str, str]) -> dict[str, str]:
    return {name: row[name] for name in RESULT_COLUMNS}


def test_summarize_prints_counts_and_the_sentence_and_exits_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["summarize", str(EVERY_STATUS)]) == ExitStatus.ROWS_NEED_ATTENTION
    done = capsys.readouterr()
    lines = done.out.splitlines()
    assert lines[0] == f"{EVERY_STATUS}: 15 row(s), 11 need attention"
    assert lines[1] == (
        "11 rows need attention: 5 rejected (2 because stock is allocated, 1 because Shipper "
        "does not know the order, 1 because the order has shipped, 1 with HTTP 404), 2 failed "
        "after retries (re-run), 2 invalid, 2 were not sent (re-run)."
    )
    # Grouped by cause, each with what to do and the command for this file.
    assert lines[2:6] == [
        "",
        "What to do:",
        "      2  failed after retries",
        "         -> transient errors outlasted the retries: re-run (the ledger skips what was "
        "cancelled)",
    ]
    assert f"            batch-cancel run {EVERY_STATUS} --only rejected" in lines
    assert "      1  rejected: the order has shipped" in lines
    assert (
        "         -> too late to cancel: handle it as a return with the buyer or the marketplace"
    ) in lines
    assert "  rejected         5  <- needs attention" in lines
    assert "  skipped          1" in lines
    assert done.err == ""


def test_summarize_json_and_needs_attention_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    use_cli_env(monkeypatch)
    needs = tmp_path / "needs.csv"
    done = main_in_process(capsys, "summarize", EVERY_STATUS, "--json", "--needs-attention", needs)
    assert done.returncode == ExitStatus.ROWS_NEED_ATTENTION, done.stderr
    document = json.loads(done.stdout)
    assert document["total"]["needs_attention"] == 11
    assert document["total"]["by_status"] == {
        "cancelled": 2,
        "rejected": 5,
        "failed": 2,
        "in_doubt": 0,
        "invalid": 2,
        "duplicate": 1,
        "skipped": 1,
        "not_sent": 2,
    }
    assert f"11 row(s) needing attention written to {needs}" in done.stderr
    assert done.stderr.splitlines() == [
        f"batch-cancel: 11 row(s) needing attention written to {needs}"
    ]
    rows = read_results(needs)
    assert [row["source_row"] for row in rows] == [
        "3", "4", "5", "6", "7", "8", "9", "10", "13", "14", "15"
    ]  # fmt: skip
    assert {row["results_file"] for row in rows} == {str(EVERY_STATUS)}


def test_clean_results_exit_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    use_cli_env(monkeypatch)
    path = write_csv(
        tmp_path / "clean.results.csv",
        ["order_no", "result_status"],
        [["A-1", "cancelled"], ["A-1", "duplicate"]],
    )
    done = main_in_process(capsys, "summarize", path)
    assert done.returncode == ExitStatus.SUCCESS, done.stderr
    assert done.stdout.splitlines()[1] == "Nothing needs attention: 1 cancelled, 1 duplicate."
    report = main_in_process(capsys, "report", path)
    assert report.returncode == ExitStatus.SUCCESS, report.stderr
    assert (tmp_path / "clean.results.html").is_file()


def test_report_writes_one_html_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    use_cli_env(monkeypatch)
    out = tmp_path / "night" / "report.html"
    done = main_in_process(capsys, "report", EVERY_STATUS, "-o", out)
    assert done.returncode == ExitStatus.ROWS_NEED_ATTENTION, done.stderr
    assert f"report written to {out}" in done.stderr
    assert "11 rows need attention" in done.stderr
    assert done.stderr.splitlines()[0] == f"batch-cancel: report written to {out}"
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert list(out.parent.iterdir()) == [out]  # no temporary file left behind


ORDERS, NIGHTLY = SAMPLES / "orders.csv", SAMPLES / "nightly-export.csv"
STATUSES = "cancelled, rejected, failed, in_doubt, invalid, duplicate, skipped, not_sent"


@pytest.mark.parametrize(
    ("args", "message", "line"),
    [
        (["summarize", "{tmp}/missing.csv"], "missing.csv: no such file",
         "batch-cancel: input error: {tmp}/missing.csv: no such file"),
        (["summarize", str(ORDERS)], "not a results file (no result_status",
         f"batch-cancel: input error: {ORDERS}: not a results file (no result_status column); "
         "columns found: 'order_no', 'warehouse_id', 'state'"),
        (["report", str(EVERY_STATUS), "-o", str(EVERY_STATUS)], "would overwrite the input",
         f"batch-cancel: error: -o {EVERY_STATUS} would overwrite the input {EVERY_STATUS}; "
         "name another file"),
        (["summarize", str(EVERY_STATUS), "--needs-attention", str(EVERY_STATUS)], "overwrite",
         f"batch-cancel: error: --needs-attention {EVERY_STATUS} would overwrite the input "
         f"{EVERY_STATUS}; name another file"),
        (["run", str(EVERY_STATUS), "--only", "failed,nope", "--dry-run"], "unknown status 'nope'",
         "batch-cancel run: error: argument --only: unknown status 'nope'; statuses are "
         f"{STATUSES}"),
        (["run", str(NIGHTLY), "--only", "failed", "--dry-run"],
         "--only needs a results CSV as input",
         f"batch-cancel: error: --only needs a results CSV as input: {NIGHTLY} has no "
         "result_status column"),
    ],
    ids=["no such file", "not a results file", "report over the input",
         "needs-attention over the input", "unknown status", "--only on an orders file"],
)  # fmt: skip
def test_unusable_input_exits_2(
    tmp_path: Path,
    args: list[str],
    message: str,
    line: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_cli_env(monkeypatch)
    done = main_in_process(capsys, *(arg.replace("{tmp}", str(tmp_path)) for arg in args))
    assert done.returncode == ExitStatus.USAGE_OR_INPUT, done.stderr
    assert message in done.stderr
    assert done.stderr.splitlines()[-1] == line.replace("{tmp}", str(tmp_path))
    assert done.stdout == ""


def test_only_with_dry_run_keeps_unselected_rows_unchanged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    use_cli_env(monkeypatch, api_key=None)
    out = tmp_path / "again.results.csv"
    done = main_in_process(
        capsys, "run", EVERY_STATUS, "-o", out, "--only", "failed,not_sent", "--dry-run"
    )
    assert done.returncode == ExitStatus.ROWS_NEED_ATTENTION, done.stderr
    before = read_results(EVERY_STATUS)
    after = read_results(out)
    assert [row["source_row"] for row in after] == [str(n) for n in range(1, 16)]
    # The old result columns are replaced, not repeated (and the values sent are added:
    # this results file was written before they were recorded).
    assert list(after[0]) == [*before[0], *SENT_COLUMNS]
    for old, new in zip(before, after, strict=True):
        if old["result_status"] in RESENT_STATUSES:
            assert (new["result_status"], new["result_error_code"]) == ("not_sent", "dry_run")
        else:
            assert result_columns(new) == result_columns(old)


def test_only_refuses_a_damaged_results_file_before_sending(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    use_cli_env(monkeypatch)
    rows = [row for row in read_results(EVERY_STATUS)]
    rows[9]["result_status"] = "cancelld"
    damaged = write_csv(tmp_path / "d.csv", list(rows[0]), [list(row.values()) for row in rows])
    out = tmp_path / "d.out.csv"
    # Port 9 on loopback: anything sent would fail; nothing may even be tried.
    done = main_in_process(
        capsys, "run", damaged, "-o", out, "--only", "failed", "--base-url", "http://127.0.0.1:9"
    )
    assert done.returncode == ExitStatus.USAGE_OR_INPUT, done.stderr
    assert "data row 10: result_status 'cancelld' is not one of" in done.stderr
    assert done.stderr.splitlines() == [
        f"batch-cancel: input error: {damaged}: data row 10: result_status 'cancelld' is not "
        f"one of {STATUSES}"
    ]
    assert not out.exists()


@pytest.mark.integration
def test_run_summarize_and_resend_only_failed_and_not_sent(
    tmp_path: Path,
    start_sandbox: Callable[..., Sandbox],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The morning after a night with a wrong key, then a night with a faulty order."""
    sandbox = start_sandbox("--orders", str(SAMPLES / "orders.csv"))
    state = tmp_path / "ledger.sqlite3"  # one ledger for every run, as in cron
    night = tmp_path / "night.results.csv"
    common = ["--base-url", sandbox.url, "--max-attempts", "2", *FAST]

    # 1. The night: a wrong key. One request, refused; everything else not sent.
    use_cli_env(monkeypatch, api_key="wrong-key-0000", state=state)
    first = main_in_process(
        capsys, "run", SAMPLES / "nightly-export.csv", "-o", night, *common, "--concurrency", "1"
    )
    assert first.returncode == ExitStatus.API_REFUSED_OR_DOWN, first.stderr
    night_rows = read_results(night)
    assert Counter(row["result_status"] for row in night_rows) == {
        "not_sent": 33,
        "invalid": 4,
        "duplicate": 2,
        "rejected": 1,
    }
    assert sandbox.stats()["cancel_calls"] == {}

    # 2. The morning: what needs a human?
    use_cli_env(monkeypatch)
    summary = main_in_process(capsys, "summarize", night)
    assert summary.returncode == ExitStatus.ROWS_NEED_ATTENTION, summary.stderr
    assert summary.stdout.splitlines()[1] == (
        "38 rows need attention: 33 were not sent (re-run), 4 invalid, "
        "1 rejected because the API refused the key."
    )

    # 3. The retry, with the right key: exactly the not_sent rows go out.
    retry = tmp_path / "retry.results.csv"
    use_cli_env(monkeypatch, state=state)
    second = main_in_process(
        capsys, "run", night, "-o", retry, "--only", "failed,not_sent", *common
    )
    assert second.returncode == ExitStatus.ROWS_NEED_ATTENTION, second.stderr
    resent = {
        f"{row['order_no']}|{row['warehouse_id']}"
        for row in night_rows
        if row["result_status"] in RESENT_STATUSES
    }
    calls = sandbox.stats()["cancel_calls"]
    assert set(calls) == resent
    assert calls == {order: 2 if order == "LZD-738920114671|WH-TGR04" else 1 for order in resent}
    retry_rows = read_results(retry)
    assert [row["source_row"] for row in retry_rows] == [str(n) for n in range(1, 41)]
    for old, new in zip(night_rows, retry_rows, strict=True):
        assert new["order_no"] == old["order_no"]
        if old["result_status"] not in RESENT_STATUSES:
            assert result_columns(new) == result_columns(old)
    assert Counter(row["result_status"] for row in retry_rows) == {
        "cancelled": 25,
        "rejected": 8,  # seven refused by the order book, and the night's refused key
        "invalid": 4,
        "duplicate": 2,
        "failed": 1,  # FAULTY: 500 every time
    }

    # 4. Once more, only the failed row: one order, two attempts, nothing else.
    final = tmp_path / "final.results.csv"
    use_cli_env(monkeypatch, state=state)
    third = main_in_process(capsys, "run", retry, "-o", final, "--only", "failed", *common)
    assert third.returncode == ExitStatus.ROWS_NEED_ATTENTION, third.stderr
    after = sandbox.stats()["cancel_calls"]
    assert {order: after[order] - calls.get(order, 0) for order in after} == {
        order: (2 if order == "LZD-738920114671|WH-TGR04" else 0) for order in after
    }
    final_rows = read_results(final)
    assert [row["source_row"] for row in final_rows] == [str(n) for n in range(1, 41)]
    changed = [
        new["source_row"]
        for old, new in zip(retry_rows, final_rows, strict=True)
        if result_columns(new) != result_columns(old)
    ]
    assert changed == ["32"]
    assert final_rows[31]["result_status"] == "failed"
    assert final_rows[31]["result_attempts"] == "2"


def test_summarize_into_a_pipe_closed_early_is_quiet(tmp_path: Path) -> None:
    # Enough distinct codes that the text is far larger than a pipe's buffer.
    path = write_csv(
        tmp_path / "big.results.csv",
        ["order_no", "result_status", "result_error_code", "result_error_message"],
        [[f"A-{n}", "rejected", f"E{n}", "x" * 150] for n in range(2000)],
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "batch_cancel", "summarize", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert process.stdout is not None
    assert process.stdout.read(100)  # like `| head -c 100`
    process.stdout.close()
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1
    assert stderr == b""
