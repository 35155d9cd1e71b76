"""The morning review through the real CLI: summarize, report, and `run --only` round trips."""

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
from batch_cancel.schema import RESULT_COLUMNS

from .conftest import Sandbox
from .helpers import DATA, ROOT, SAMPLES, cli_env, read_results, run_cli, write_csv

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
        "does not know the order, 1 with HTTP 404, 1 with code 9003), 2 failed after retries "
        "(re-run), 2 invalid, 2 were not sent (re-run)."
    )
    assert "  rejected         5  <- needs attention" in lines
    assert "  skipped          1" in lines
    assert done.err == ""


def test_summarize_json_and_needs_attention_csv(tmp_path: Path) -> None:
    needs = tmp_path / "needs.csv"
    done = run_cli("summarize", EVERY_STATUS, "--json", "--needs-attention", needs)
    assert done.returncode == 1, done.stderr
    document = json.loads(done.stdout)
    assert document["total"]["needs_attention"] == 11
    assert document["total"]["by_status"] == {
        "cancelled": 2,
        "rejected": 5,
        "failed": 2,
        "invalid": 2,
        "duplicate": 1,
        "skipped": 1,
        "not_sent": 2,
    }
    assert f"11 row(s) needing attention written to {needs}" in done.stderr
    rows = read_results(needs)
    assert [row["source_row"] for row in rows] == [
        "3", "4", "5", "6", "7", "8", "9", "10", "13", "14", "15"
    ]  # fmt: skip
    assert {row["results_file"] for row in rows} == {str(EVERY_STATUS)}


def test_clean_results_exit_0(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "clean.results.csv",
        ["order_no", "result_status"],
        [["A-1", "cancelled"], ["A-1", "duplicate"]],
    )
    done = run_cli("summarize", path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1] == "Nothing needs attention: 1 cancelled, 1 duplicate."
    report = run_cli("report", path)
    assert report.returncode == 0, report.stderr
    assert (tmp_path / "clean.results.html").is_file()


def test_report_writes_one_html_file(tmp_path: Path) -> None:
    out = tmp_path / "night" / "report.html"
    done = run_cli("report", EVERY_STATUS, "-o", out)
    assert done.returncode == 1, done.stderr
    assert f"report written to {out}" in done.stderr
    assert "11 rows need attention" in done.stderr
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert list(out.parent.iterdir()) == [out]  # no temporary file left behind


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["summarize", "{tmp}/missing.csv"], "missing.csv: no such file"),
        (["summarize", str(SAMPLES / "orders.csv")], "not a results file (no result_status"),
        (["report", str(EVERY_STATUS), "-o", str(EVERY_STATUS)], "would overwrite the input"),
        (["summarize", str(EVERY_STATUS), "--needs-attention", str(EVERY_STATUS)], "overwrite"),
        (["run", str(EVERY_STATUS), "--only", "failed,nope", "--dry-run"], "unknown status 'nope'"),
        (["run", str(SAMPLES / "nightly-export.csv"), "--only", "failed", "--dry-run"],
         "--only needs a results CSV as input"),
    ],
)  # fmt: skip
def test_unusable_input_exits_2(tmp_path: Path, args: list[str], message: str) -> None:
    done = run_cli(*(arg.replace("{tmp}", str(tmp_path)) for arg in args))
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert done.stdout == ""


def test_only_with_dry_run_keeps_unselected_rows_unchanged(tmp_path: Path) -> None:
    out = tmp_path / "again.results.csv"
    done = run_cli(
        "run", EVERY_STATUS, "-o", out, "--only", "failed,not_sent", "--dry-run",
        env=cli_env(api_key=None),
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    before = read_results(EVERY_STATUS)
    after = read_results(out)
    assert [row["source_row"] for row in after] == [str(n) for n in range(1, 16)]
    # The old result columns are replaced, not repeated.
    assert list(after[0]) == list(before[0])
    for old, new in zip(before, after, strict=True):
        if old["result_status"] in RESENT_STATUSES:
            assert (new["result_status"], new["result_error_code"]) == ("not_sent", "dry_run")
        else:
            assert result_columns(new) == result_columns(old)


def test_only_refuses_a_damaged_results_file_before_sending(tmp_path: Path) -> None:
    rows = [row for row in read_results(EVERY_STATUS)]
    rows[9]["result_status"] = "cancelld"
    damaged = write_csv(tmp_path / "d.csv", list(rows[0]), [list(row.values()) for row in rows])
    out = tmp_path / "d.out.csv"
    # Port 9 on loopback: anything sent would fail; nothing may even be tried.
    done = run_cli(
        "run", damaged, "-o", out, "--only", "failed", "--base-url", "http://127.0.0.1:9"
    )
    assert done.returncode == 2, done.stderr
    assert "data row 10: result_status 'cancelld' is not one of" in done.stderr
    assert not out.exists()


@pytest.mark.integration
def test_run_summarize_and_resend_only_failed_and_not_sent(
    tmp_path: Path, start_sandbox: Callable[..., Sandbox]
) -> None:
    """The morning after a night with a wrong key, then a night with a faulty order."""
    sandbox = start_sandbox("--orders", str(SAMPLES / "orders.csv"))
    state = tmp_path / "ledger.sqlite3"  # one ledger for every run, as in cron
    night = tmp_path / "night.results.csv"
    common = ["--base-url", sandbox.url, "--max-attempts", "2", *FAST]

    # 1. The night: a wrong key. One request, refused; everything else not sent.
    first = run_cli(
        "run", SAMPLES / "nightly-export.csv", "-o", night, *common, "--concurrency", "1",
        env=cli_env(api_key="wrong-key-0000", state=state),
    )  # fmt: skip
    assert first.returncode == 3, first.stderr
    night_rows = read_results(night)
    assert Counter(row["result_status"] for row in night_rows) == {
        "not_sent": 33,
        "invalid": 4,
        "duplicate": 2,
        "rejected": 1,
    }
    assert sandbox.stats()["cancel_calls"] == {}

    # 2. The morning: what needs a human?
    summary = run_cli("summarize", night)
    assert summary.returncode == 1, summary.stderr
    assert summary.stdout.splitlines()[1] == (
        "38 rows need attention: 33 were not sent (re-run), 4 invalid, "
        "1 rejected because the API refused the key."
    )

    # 3. The retry, with the right key: exactly the not_sent rows go out.
    retry = tmp_path / "retry.results.csv"
    second = run_cli("run", night, "-o", retry, "--only", "failed,not_sent", *common,
                     env=cli_env(state=state))  # fmt: skip
    assert second.returncode == 1, second.stderr
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
    third = run_cli("run", retry, "-o", final, "--only", "failed", *common,
                    env=cli_env(state=state))  # fmt: skip
    assert third.returncode == 1, third.stderr
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
