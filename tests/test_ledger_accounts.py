"""The ledger knows accounts (issue 21) and history reads the night as it was (issue 22).

Two sandboxes on two ports stand for two hosts (say, the sandbox and production);
the CLI runs in this process (`main(argv)`) against them, and once as the real CLI.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from batch_cancel.ledger import Ledger
from batch_cancel.models import ApiAnswer, CancelRequest, ExitStatus

from .conftest import Sandbox
from .helpers import (
    API_KEY,
    cli_env,
    main_in_process,
    read_results,
    run_cli,
    use_cli_env,
    write_csv,
)

FAST = ["--rate", "0", "--concurrency", "2", "--max-attempts", "1"]
HEADER = ["order_no", "warehouse_id", "cancel_reason"]


def two_orders(path: Path) -> Path:
    return write_csv(path, HEADER, [["A-1", "WH-1", "r"], ["A-2", "WH-1", "r"]])


def host(sandbox: Sandbox) -> str:
    return sandbox.url.removeprefix("http://")


def run(capsys: pytest.CaptureFixture[str], *args: str | Path):  # type: ignore[no-untyped-def]
    return main_in_process(capsys, "run", *args, *FAST)


def test_an_order_cancelled_at_another_host_is_sent_and_the_summary_says_where(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    start_sandbox: Callable[..., Sandbox],
) -> None:
    sandbox, production = start_sandbox(), start_sandbox()
    use_cli_env(monkeypatch, state=tmp_path / "ledger.sqlite3")
    orders = two_orders(tmp_path / "night.csv")
    tried = run(capsys, orders, "-o", tmp_path / "tried.csv", "--base-url", sandbox.url)
    assert tried.returncode == ExitStatus.SUCCESS

    summary = tmp_path / "summary.json"
    night = run(
        capsys,
        *(orders, "-o", tmp_path / "night.results.csv", "--base-url", production.url + "/"),
        *("--summary-json", summary),
    )

    assert night.returncode == ExitStatus.SUCCESS
    assert [row["result_status"] for row in read_results(tmp_path / "night.results.csv")] == [
        "cancelled",
        "cancelled",
    ]
    assert len(production.stats()["cancelled"]) == 2
    assert (
        f"  sent although cancelled at another account: 2 order(s) ({host(sandbox)}: 2)\n"
        in night.stderr
    )
    assert json.loads(summary.read_text())["cancelled_elsewhere"] == {
        "orders": 2,
        "hosts": {host(sandbox): 2},
    }
    # Back at the sandbox (its URL spelt another way), its own cancels are skipped.
    again = run(capsys, orders, "-o", tmp_path / "again.csv", "--base-url", sandbox.url + "/")
    assert again.returncode == ExitStatus.SUCCESS
    assert "another account" not in again.stderr
    assert [row["result_status"] for row in read_results(tmp_path / "again.csv")] == [
        "skipped",
        "skipped",
    ]


def test_the_same_host_with_another_key_is_another_account(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    try:
        mine, theirs = (
            ledger.account("https://API.Shipper.example:443/v1/", "merchant-1"),
            ledger.account("https://api.shipper.example/v1", "merchant-2"),
        )
        assert mine.base_url == theirs.base_url == "https://api.shipper.example/v1"
        run = ledger.start_run(input_path=tmp_path / "n.csv", options={}, account=theirs)
        attempt = run.attempt_started(CancelRequest(1, "A-1", "WH-1", "r"), 1)
        run.attempt_answered(attempt, ApiAnswer(200, request_id="rq-1"), cancelled=True)
        ledger.remember_pace(theirs, 12.5)
        run.end(0)
        key = ("A-1", "WH-1")
        assert ledger.look_up([key], mine).cancelled == {}
        assert ledger.look_up([key], mine).cancelled_elsewhere == {
            key: ("api.shipper.example", run.run_id)
        }
        assert ledger.look_up([key], theirs).cancelled[key].request_id == "rq-1"
        assert ledger.remembered_pace(mine) is None
        assert ledger.remembered_pace(theirs) == 12.5
        # The key is never stored: only its keyed hash, which is not a plain hash of it.
    finally:
        ledger.close()
    with sqlite3.connect(tmp_path / "ledger.sqlite3") as db:
        dump = "\n".join(db.iterdump())
    assert "merchant-1" not in dump
    assert "merchant-2" not in dump


def test_a_skipped_row_carries_the_earlier_runs_request_id_and_time(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    start_sandbox: Callable[..., Sandbox],
) -> None:
    sandbox = start_sandbox()
    use_cli_env(monkeypatch, state=tmp_path / "ledger.sqlite3")
    orders = two_orders(tmp_path / "night.csv")
    assert (
        run(capsys, orders, "-o", tmp_path / "first.csv", "--base-url", sandbox.url).returncode == 0
    )
    assert (
        run(capsys, orders, "-o", tmp_path / "rerun.csv", "--base-url", sandbox.url).returncode == 0
    )

    first, rerun = read_results(tmp_path / "first.csv"), read_results(tmp_path / "rerun.csv")
    for before, after in zip(first, rerun, strict=True):
        assert after["result_status"] == "skipped"
        assert before["result_request_id"].startswith("sbx-")
        assert after["result_request_id"] == before["result_request_id"]
        with sqlite3.connect(tmp_path / "ledger.sqlite3") as db:
            (answered_at,) = db.execute(
                "SELECT answered_at FROM attempts WHERE request_id = ?",
                (before["result_request_id"],),
            ).fetchone()
        assert after["result_finished_at"] == answered_at  # when Shipper's 200 was recorded
        assert after["result_error_message"] == f"already cancelled at {answered_at} in run 1"
    summarized = main_in_process(capsys, "summarize", tmp_path / "rerun.csv")
    assert summarized.returncode == ExitStatus.SUCCESS


def test_history_reads_the_configs_state_shows_request_ids_and_keeps_every_files_outcome(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    start_sandbox: Callable[..., Sandbox],
) -> None:
    sandbox = start_sandbox()
    use_cli_env(monkeypatch)  # a ledger of its own in BATCH_CANCEL_STATE: the config's wins below
    monkeypatch.delenv("BATCH_CANCEL_STATE")
    config = tmp_path / "night.toml"
    config.write_text(f'state = "ledger.sqlite3"\n\n[api]\nbase_url = "{sandbox.url}"\n')
    a = write_csv(tmp_path / "a.csv", HEADER, [["A-1", "WH-1", "r"]])
    b = write_csv(tmp_path / "b.csv", HEADER, [["A-1", "WH-1", "r"]])
    night = main_in_process(capsys, "run", a, b, "--config", config, *FAST)
    assert night.returncode == ExitStatus.SUCCESS  # b's row is a duplicate of a's, sent once
    request_id = read_results(tmp_path / "a.results.csv")[0]["result_request_id"]

    shown = main_in_process(capsys, "history", "A-1", "--config", config)

    assert shown.returncode == ExitStatus.SUCCESS
    lines = sorted(re.sub(r"^\S+ ", "T ", line) for line in shown.stdout.splitlines())
    duplicate = read_results(tmp_path / "b.results.csv")[0]
    assert lines == [
        f"T  run 1  WH-1  attempt 1 sent -> HTTP 200 (request {request_id})",
        f"T  run 1  WH-1  outcome cancelled after 1 attempt(s): HTTP 200 (request {request_id});"
        " row 1 of a.csv",
        "T  run 1  WH-1  outcome duplicate after 0 attempt(s): no answer "
        f"{duplicate['result_error_code']} {duplicate['result_error_message']}; row 1 of b.csv",
    ]


def test_history_answers_for_the_account_given_and_marks_the_others(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    start_sandbox: Callable[..., Sandbox],
) -> None:
    sandbox, production = start_sandbox(), start_sandbox()
    state = tmp_path / "ledger.sqlite3"
    use_cli_env(monkeypatch, state=state)
    orders = write_csv(tmp_path / "night.csv", HEADER, [["A-1", "WH-1", "r"]])
    assert run(capsys, orders, "--base-url", sandbox.url).returncode == ExitStatus.SUCCESS

    shown = main_in_process(capsys, "history", "A-1", "--base-url", production.url)

    assert shown.returncode == ExitStatus.NOT_FOUND
    assert [
        line.endswith(f"  [another account, at {host(sandbox)}]")
        for line in shown.stdout.splitlines()
    ] == [True, True]
    assert shown.stderr.splitlines()[-1] == (
        f"batch-cancel: no record of order A-1 at {production.url} with this key in {state}"
        " (2 entr(ies) of other accounts above)"
    )
    mine = main_in_process(capsys, "history", "A-1", "--base-url", sandbox.url, "--json")
    assert mine.returncode == ExitStatus.SUCCESS
    assert [json.loads(line)["this_account"] for line in mine.stdout.splitlines()] == [True, True]


def test_sandbox_then_production_with_the_real_cli(
    tmp_path: Path, start_sandbox: Callable[..., Sandbox]
) -> None:
    """Issue 21's night: tried on the sandbox, then run against production, same ledger."""
    sandbox, production = start_sandbox(), start_sandbox()
    env = cli_env(API_KEY, tmp_path / "ledger.sqlite3")
    orders = two_orders(tmp_path / "night.csv")
    tried = run_cli(
        "run", orders, "-o", tmp_path / "tried.csv", "--base-url", sandbox.url, *FAST, env=env
    )
    assert tried.returncode == ExitStatus.SUCCESS

    night = run_cli("run", orders, "-q", "--base-url", production.url, *FAST, env=env)

    assert night.returncode == ExitStatus.SUCCESS
    assert night.stderr == ""  # -q, and every order cancelled at this account
    assert len(production.stats()["cancelled"]) == 2
    assert [row["result_status"] for row in read_results(tmp_path / "night.results.csv")] == [
        "cancelled",
        "cancelled",
    ]


def test_a_killed_runs_cancel_is_never_read_back_from_another_accounts_results(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    start_sandbox: Callable[..., Sandbox],
) -> None:
    sandbox, production = start_sandbox(), start_sandbox()
    state = tmp_path / "ledger.sqlite3"
    use_cli_env(monkeypatch, state=state)
    orders = write_csv(tmp_path / "g.csv", HEADER, [["C-1", "WH-1", "r"]])
    # A production night killed (kill -9) mid-request: C-1 sent, never answered, no end.
    ledger = Ledger(state)
    killed = ledger.start_run(
        input_path=orders, options={}, account=ledger.account(production.url, API_KEY)
    )
    killed.attempt_started(CancelRequest(1, "C-1", "WH-1", "r"), 1)
    ledger.close()
    # The same export tried at the sandbox writes tonight's results file.
    tried = run(capsys, orders, "--base-url", sandbox.url)
    assert tried.returncode == ExitStatus.SUCCESS, tried.stderr
    assert read_results(tmp_path / "g.results.csv")[0]["result_status"] == "cancelled"

    night = run(capsys, orders, "--base-url", production.url)
    assert night.returncode == ExitStatus.SUCCESS, night.stderr
    assert "read back" not in night.stderr
    assert production.stats()["cancel_calls"] == {"C-1|WH-1": 1}
    [row] = read_results(tmp_path / "g.results.csv")
    assert row["result_status"] == "cancelled"
    assert "an earlier attempt (run 1, " in row["result_error_message"]
