"""Running unattended: kills, re-runs, the lock, signals, 429 storms, a dead API, cron output.

Real subprocesses against the real sandbox on 127.0.0.1.
"""

from __future__ import annotations

import json
import re
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from batch_cancel.models import ExitStatus

from .conftest import Sandbox
from .helpers import (
    API_KEY,
    ROOT,
    cli_env,
    orders_csv,
    read_results,
    run_cli,
    wait_until,
    write_csv,
)

pytestmark = pytest.mark.integration

HEADER = ["order_no", "warehouse_id", "cancel_reason"]


def start_run(*args: str | Path, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "batch_cancel", "run", *map(str, args)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def settled(sandbox: Sandbox) -> bool:
    """Every request that reached the sandbox has been answered (one event each)."""
    stats = sandbox.stats()
    return len(stats["events"]) == len(stats["arrivals"])


def test_kill_9_then_rerun_loses_nothing_and_never_resends_a_confirmed_cancel(
    tmp_path: Path, start_sandbox: Callable[..., Sandbox]
) -> None:
    sandbox = start_sandbox("--latency-ms", "150")
    state = tmp_path / "ledger.sqlite3"
    env = cli_env(state=state)
    source = orders_csv(tmp_path / "in.csv", 150)
    out = tmp_path / "out.csv"
    flags = [
        "--base-url",
        sandbox.url,
        "--rate",
        "50",
        "--concurrency",
        "8",
        "--already-cancelled-code",
        "9002",
    ]
    first = start_run(source, "-o", out, *flags, env=env)
    wait_until(lambda: len(sandbox.stats()["cancelled"]) >= 30, "30 orders cancelled")
    first.kill()  # SIGKILL: no handler runs, whatever was in flight is in doubt
    first.communicate(timeout=10)
    # Requests the kill left in flight still finish on the server.
    wait_until(lambda: settled(sandbox), "the sandbox answered every request it got")
    cancelled_by_first = set(sandbox.stats()["cancelled"])
    # What the ledger knew as confirmed when the process died.
    db = sqlite3.connect(state)
    confirmed = {
        f"{order}|{warehouse}"
        for order, warehouse in db.execute(
            "SELECT order_no, warehouse_id FROM attempts WHERE cancelled = 1"
        )
    }
    db.close()
    assert confirmed, "the first run should have recorded some confirmed cancels"
    assert confirmed <= cancelled_by_first

    second = run_cli("run", source, "-o", out, *flags, env=env)
    assert second.returncode == 0, second.stderr
    rows = read_results(out)
    assert [int(row["source_row"]) for row in rows] == list(range(1, 151))
    by_order = {f"{row['order_no']}|{row['warehouse_id']}": row for row in rows}
    stats = sandbox.stats()
    assert len(stats["cancelled"]) == len(set(stats["cancelled"])) == 150
    for key in cancelled_by_first:
        assert by_order[key]["result_status"] in ("cancelled", "skipped")
    for key in confirmed:  # known cancelled: skipped, and never sent a second time
        assert by_order[key]["result_status"] == "skipped"
        assert stats["cancel_calls"][key] == 1
    resent = {key for key, calls in stats["cancel_calls"].items() if calls > 1}
    for key in resent:  # only orders whose answer the kill swallowed were sent again
        assert key in cancelled_by_first - confirmed
        assert "was sent but never answered" in by_order[key]["result_error_message"]


def test_rerun_of_the_same_file_skips_everything_and_force_resend_overrides(
    tmp_path: Path, start_sandbox: Callable[..., Sandbox]
) -> None:
    sandbox = start_sandbox()
    env = cli_env(state=tmp_path / "ledger.sqlite3")
    source = orders_csv(tmp_path / "in.csv", 5)
    flags = ["--base-url", sandbox.url, "--rate", "100"]
    assert run_cli("run", source, *flags, env=env).returncode == 0
    again = run_cli("run", source, *flags, env=env)
    assert again.returncode == 0, again.stderr
    rows = read_results(tmp_path / "in.results.csv")
    assert [row["result_status"] for row in rows] == ["skipped"] * 5
    assert all("already cancelled at" in row["result_error_message"] for row in rows)
    assert all(row["result_error_message"].endswith("in run 1") for row in rows)
    assert sum(sandbox.stats()["cancel_calls"].values()) == 5
    forced = run_cli("run", source, *flags, "--force-resend", env=env)
    assert forced.returncode == 1  # the sandbox answers 9002: already cancelled
    assert sum(sandbox.stats()["cancel_calls"].values()) == 10
    # Cancelled is final: after the refused resend, a plain run still skips them all.
    after = run_cli("run", source, *flags, env=env)
    assert after.returncode == 0, after.stderr
    assert [row["result_status"] for row in read_results(tmp_path / "in.results.csv")] == [
        "skipped"
    ] * 5
    assert sum(sandbox.stats()["cancel_calls"].values()) == 10


def test_rate_equal_to_the_apis_limit_is_never_refused_from_the_first_request(
    tmp_path: Path, start_sandbox: Callable[..., Sandbox]
) -> None:
    """A fresh process at --rate N against a limit of N a second: nothing may fall between
    a start slot and its request (loading aiohttp there once bunched the first requests
    into one second, and the API answered 429)."""
    sandbox = start_sandbox("--rate-limit", "20", "--retry-after", "1")
    env = cli_env(state=tmp_path / "ledger.sqlite3")
    source = orders_csv(tmp_path / "in.csv", 45)
    done = run_cli("run", source, "--base-url", sandbox.url, "--rate", "20", env=env)
    assert done.returncode == 0, done.stderr
    answers = sandbox.stats()["answers"]
    assert answers["429"] == 0
    assert answers["200"] == 45


def test_a_night_that_sends_nothing_never_loads_the_http_client(
    tmp_path: Path, start_sandbox: Callable[..., Sandbox]
) -> None:
    """A re-run where every row is skipped, and a dry run, start without aiohttp (a tenth
    of a second of every such run); the night that sends does load it."""
    sandbox = start_sandbox()
    env = cli_env(state=tmp_path / "ledger.sqlite3")
    source = orders_csv(tmp_path / "in.csv", 3)
    flags = ["--base-url", sandbox.url, "--rate", "100"]

    def imports(*args: str | Path) -> str:
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "batch_cancel", *map(str, args)],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stderr

    assert re.search(r"\| +aiohttp$", imports("run", source, *flags), re.M)
    assert "aiohttp" not in imports("run", source, *flags)  # every row skipped
    assert [row["result_status"] for row in read_results(tmp_path / "in.results.csv")] == [
        "skipped"
    ] * 3
    assert "aiohttp" not in imports("run", source, "--dry-run", "-o", tmp_path / "dry.csv")
    assert sum(sandbox.stats()["cancel_calls"].values()) == 3


def test_overlapping_export_next_night_sends_only_new_orders(
    tmp_path: Path, start_sandbox: Callable[..., Sandbox]
) -> None:
    sandbox = start_sandbox()
    env = cli_env(state=tmp_path / "ledger.sqlite3")
    flags = ["--base-url", sandbox.url, "--rate", "100"]
    monday = write_csv(tmp_path / "mon.csv", HEADER, [[f"O-{i}", "WH-1", "r"] for i in range(4)])
    tuesday = write_csv(
        tmp_path / "tue.csv", HEADER, [[f"O-{i}", "WH-1", "r"] for i in range(2, 7)]
    )
    assert run_cli("run", monday, *flags, env=env).returncode == 0
    assert run_cli("run", tuesday, *flags, env=env).returncode == 0
    statuses = [row["result_status"] for row in read_results(tmp_path / "tue.results.csv")]
    assert statuses == ["skipped", "skipped", "cancelled", "cancelled", "cancelled"]
    assert set(sandbox.stats()["cancel_calls"].values()) == {1}


def test_second_concurrent_run_exits_4_naming_the_holder(
    tmp_path: Path, start_sandbox: Callable[..., Sandbox]
) -> None:
    sandbox = start_sandbox("--latency-ms", "100")
    env = cli_env(state=tmp_path / "ledger.sqlite3")
    source = orders_csv(tmp_path / "in.csv", 40)
    first = start_run(source, "--base-url", sandbox.url, "--rate", "10", env=env)
    wait_until(lambda: len(sandbox.stats()["arrivals"]) >= 1, "a request arrived")
    second = run_cli("run", source, "-o", tmp_path / "b.csv", "--base-url", sandbox.url, env=env)
    first.send_signal(signal.SIGTERM)
    first.communicate(timeout=30)
    assert second.returncode == 4
    assert f"pid {first.pid}" in second.stderr
    assert "holds the state lock" in second.stderr
    assert not (tmp_path / "b.csv").exists()


def test_sigterm_exits_143_with_every_row_recorded(
    tmp_path: Path, start_sandbox: Callable[..., Sandbox]
) -> None:
    sandbox = start_sandbox("--latency-ms", "100")
    state = tmp_path / "ledger.sqlite3"
    out = tmp_path / "out.csv"
    summary = tmp_path / "summary.json"
    process = start_run(
        orders_csv(tmp_path / "in.csv", 100),
        "-o",
        out,
        "--base-url",
        sandbox.url,
        "--rate",
        "20",
        "--summary-json",
        summary,
        env=cli_env(state=state),
    )
    wait_until(lambda: len(sandbox.stats()["cancelled"]) >= 5, "5 orders cancelled")
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 143, stderr
    rows = read_results(out)
    assert len(rows) == 100
    counts = Counter(row["result_status"] for row in rows)
    assert counts["cancelled"] == len(sandbox.stats()["cancelled"])
    assert counts["cancelled"] + counts["not_sent"] == 100
    report = json.loads(summary.read_text())
    assert report["exit_status"] == 143
    assert report["counts"]["not_sent"] == counts["not_sent"]
    db = sqlite3.connect(state)
    assert db.execute("SELECT exit_status FROM runs").fetchall() == [(143,)]
    assert db.execute("SELECT count(*) FROM outcomes").fetchone()[0] == 100


def test_429_storm_slows_the_whole_pool_and_still_finishes(
    tmp_path: Path, start_sandbox: Callable[..., Sandbox]
) -> None:
    # The client may start 40/s, the sandbox tolerates 8/s: without a shared
    # brake nearly every request would be refused.
    sandbox = start_sandbox("--rate-limit", "8", "--retry-after", "1")
    out = tmp_path / "out.csv"
    done = run_cli(
        "run",
        orders_csv(tmp_path / "in.csv", 60),
        "-o",
        out,
        "--base-url",
        sandbox.url,
        "--rate",
        "40",
        "--concurrency",
        "8",
        "--max-attempts",
        "8",
    )
    assert done.returncode == 0, done.stderr
    assert [row["result_status"] for row in read_results(out)] == ["cancelled"] * 60
    answers = sandbox.stats()["answers"]
    assert answers["429"] > 0
    # Every row was cancelled once; the brake kept refusals well under one per row.
    assert answers["200"] == 60
    assert answers["429"] < 30


def test_dead_api_stops_early_with_exit_3(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    summary = tmp_path / "s.json"
    done = run_cli(
        "run",
        orders_csv(tmp_path / "in.csv", 200),
        "-o",
        out,
        "--base-url",
        "http://127.0.0.1:9",
        "--rate",
        "200",
        "--concurrency",
        "4",
        "--max-attempts",
        "5",
        "--max-consecutive-failures",
        "12",
        "--summary-json",
        summary,
    )
    assert done.returncode == 3, done.stderr
    assert (
        "the API looks down (12 transient failures in a row; last: connection_error" in done.stderr
    )
    rows = read_results(out)
    assert len(rows) == 200
    attempts = sum(int(row["result_attempts"]) for row in rows)
    assert attempts < 200 * 5 / 10  # far from every row retried to the limit
    counts = Counter(row["result_status"] for row in rows)
    assert counts["not_sent"] > 150
    assert {row["result_error_code"] for row in rows if row["result_status"] == "not_sent"} == {
        "api_down"
    }
    assert json.loads(summary.read_text())["stop_reason"] == "api_down"


def test_cron_output_progress_lines_json_logs_and_history(
    tmp_path: Path, start_sandbox: Callable[..., Sandbox]
) -> None:
    sandbox = start_sandbox("--latency-ms", "20")
    state = tmp_path / "ledger.sqlite3"
    env = cli_env(state=state)
    done = run_cli(
        "run",
        orders_csv(tmp_path / "in.csv", 30),
        "--base-url",
        sandbox.url,
        "--rate",
        "30",
        "--progress-every",
        "0.2",
        "--log-format",
        "json",
        "-v",
        env=env,
    )
    assert done.returncode == 0, done.stderr
    log_lines = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    progress = [entry["message"] for entry in log_lines if entry["message"].startswith("progress")]
    assert progress, done.stderr
    assert "/~30 rows" in progress[-1]
    assert "cancelled" in progress[-1]
    assert "\r" not in done.stderr  # no progress bar without a terminal
    for text in (done.stdout, done.stderr, state.read_bytes().decode("latin-1")):
        assert API_KEY not in text

    history = run_cli("history", "ORD-00003", env=env)
    assert history.returncode == 0, history.stderr
    lines = history.stdout.splitlines()
    assert len(lines) == 2
    assert "attempt 1 sent -> HTTP 200" in lines[0]
    assert "outcome cancelled after 1 attempt(s)" in lines[1]
    as_json = run_cli("history", "ORD-00003", "--warehouse-id", "WH-1", "--json", env=env)
    assert [json.loads(line)["kind"] for line in as_json.stdout.splitlines()] == [
        "attempt",
        "outcome",
    ]
    unknown = run_cli("history", "NOPE", env=env)
    assert unknown.returncode == ExitStatus.NOT_FOUND
    # The run pruned the ledger (--keep-days), so history says where its memory begins.
    remembers, missing = unknown.stderr.splitlines()
    assert remembers.startswith("batch-cancel: the ledger remembers from ")
    assert missing == f"batch-cancel: no record of order NOPE in {env['BATCH_CANCEL_STATE']}"


def test_second_signal_exits_at_once_and_leaves_the_ledger_sound(
    tmp_path: Path, start_sandbox: Callable[..., Sandbox]
) -> None:
    sandbox = start_sandbox("--latency-ms", "5000")  # in-flight requests would hold a 1st stop
    state = tmp_path / "ledger.sqlite3"
    process, log_path = run_with_log(
        tmp_path, orders_csv(tmp_path / "in.csv", 20), "--base-url", sandbox.url,
        "--rate", "50", "--concurrency", "4", state=state,
    )  # fmt: skip
    wait_until(lambda: len(sandbox.stats()["arrivals"]) >= 4, "4 requests arrived")
    process.send_signal(signal.SIGTERM)
    wait_until(
        lambda: "stopping: interrupted by SIGTERM" in log_path.read_text(), "the stop logged"
    )
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=4)  # far less than the 5 s the requests in flight still need
    assert process.returncode == 143
    assert "second SIGTERM: exiting at once" in log_path.read_text()
    db = sqlite3.connect(state)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    # The four requests in flight stay on record as sent and unanswered.
    assert db.execute("SELECT count(*) FROM attempts WHERE http_status IS NULL").fetchone() == (4,)


def run_with_log(
    tmp_path: Path, *args: str | Path, state: Path, api_key: str = API_KEY
) -> tuple[subprocess.Popen[bytes], Path]:
    """A run in the background whose stderr goes to a file the test can poll."""
    log_path = tmp_path / "stderr.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "batch_cancel", "run", *map(str, args)],
            env=cli_env(api_key=api_key, state=state),
            cwd=ROOT,
            stderr=log,
            stdout=subprocess.DEVNULL,
        )
    return process, log_path


def test_sigterm_during_a_long_retry_after_stops_promptly(
    tmp_path: Path, start_sandbox: Callable[..., Sandbox]
) -> None:
    # Every request beyond the first in a second is told to come back in an hour.
    sandbox = start_sandbox("--rate-limit", "1", "--retry-after", "3600")
    out = tmp_path / "out.csv"
    process, log_path = run_with_log(
        tmp_path,
        orders_csv(tmp_path / "in.csv", 10),
        "-o",
        out,
        "--base-url",
        sandbox.url,
        "--rate",
        "50",
        "--concurrency",
        "2",
        state=tmp_path / "ledger.sqlite3",
    )
    wait_until(lambda: sandbox.stats()["answers"]["429"] >= 1, "a 429 answered")
    process.send_signal(signal.SIGINT)
    process.wait(timeout=15)  # a liveness bound: nothing may wait out the hour (or 120 s cap)
    assert process.returncode == 130, log_path.read_text()
    rows = read_results(out)
    assert len(rows) == 10
    assert {row["result_status"] for row in rows} <= {"cancelled", "failed", "not_sent"}


def test_first_signal_after_a_refused_key_is_still_an_orderly_stop(
    tmp_path: Path, start_sandbox: Callable[..., Sandbox]
) -> None:
    sandbox = start_sandbox("--latency-ms", "1500")
    out = tmp_path / "out.csv"
    process, log_path = run_with_log(
        tmp_path, orders_csv(tmp_path / "in.csv", 20), "-o", out, "--base-url", sandbox.url,
        "--rate", "2", "--concurrency", "4",
        state=tmp_path / "ledger.sqlite3", api_key="wrong-key-0000",
    )  # fmt: skip
    wait_until(lambda: sandbox.stats()["answers"]["401"] >= 1, "a 401 answered")
    # Starts are 0.5 s apart and answers take 1.5 s: two requests are still in flight.
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    assert process.returncode == 3, log_path.read_text()  # the first reason wins
    assert len(read_results(out)) == 20


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--max-consecutive-failures", "-1", "--max-consecutive-failures must be 0"),
        ("--down-after", "-5", "--down-after must be 0"),
        ("--progress-every", "0", "--progress-every must be a positive"),
    ],
)
def test_negative_limits_are_refused(tmp_path: Path, flag: str, value: str, message: str) -> None:
    done = run_cli(
        "run", orders_csv(tmp_path / "in.csv", 1), "--base-url", "http://127.0.0.1:9", flag, value
    )
    assert done.returncode == 2
    assert message in done.stderr


def test_lock_left_by_a_killed_run_is_taken_over(tmp_path: Path) -> None:
    lock_path = tmp_path / "ledger.sqlite3.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from batch_cancel.lock import RunLock;"
            f"lock = RunLock(Path({str(lock_path)!r})).__enter__(); print('held', flush=True);"
            "time.sleep(60)",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"
    from batch_cancel.errors import LockHeldError
    from batch_cancel.lock import RunLock

    with pytest.raises(LockHeldError, match=f"pid {holder.pid}"):
        RunLock(lock_path).__enter__()
    holder.kill()  # kill -9: no cleanup runs, the lock file stays behind
    holder.wait(timeout=10)
    holder.stdout.close()
    assert lock_path.exists()
    with RunLock(lock_path):
        assert json.loads(lock_path.read_text())["pid"] != holder.pid
