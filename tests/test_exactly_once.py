"""Exactly once, whatever breaks: answers cut after the status line, echoed keys,
two writers on one results file, a full disk, closed streams, 429-only servers.

Each test drives `main(argv)` in-process against a real socket (a misbehaving
server in a thread), or the real CLI in a subprocess where the behaviour needs one.
"""

from __future__ import annotations

import asyncio
import csv
import gzip
import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from batch_cancel import cli
from batch_cancel.models import ExitStatus

from .conftest import Sandbox
from .helpers import DATA, ROOT, cli_env, orders_csv, read_results, spawn_cli, wait_until
from .misbehaving import MisbehavingServer, reply

FAST = ["--rate", "0", "--concurrency", "4", "--timeout", "1", "--max-attempts", "2"]
# Long and distinctive, as a real key is: what a gateway echoes back.
SECRET = "sk-live-9f8e7d6c5b4a3f2e1d0c"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The key and a ledger of this test's own; returns the ledger path."""
    state = tmp_path / "state" / "ledger.sqlite3"
    for name, value in cli_env(api_key=SECRET, state=state).items():
        monkeypatch.setenv(name, value)
    return state


def run(*args: str | Path) -> int:
    return cli.main(["run", *map(str, args)])


def serve(script: Callable[..., Any]) -> Iterator[MisbehavingServer]:
    with MisbehavingServer(script).running() as server:
        yield server


async def _cut_after_status(body: dict[str, Any], writer: asyncio.StreamWriter) -> None:
    writer.write(
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nContent-Type: application/json\r\n\r\n{"
    )
    await writer.drain()
    writer.transport.abort()  # a reset, mid-body


async def _stall_after_status(body: dict[str, Any], writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{")
    await writer.drain()
    await asyncio.sleep(30)  # past --timeout


async def _bad_chunk(body: dict[str, Any], writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n")
    await writer.drain()
    await asyncio.sleep(0.1)  # the head has been read; the body then breaks
    writer.write(b"ZZ\r\nnot a chunk\r\n")
    await writer.drain()
    writer.close()


async def _corrupt_gzip(body: dict[str, Any], writer: asyncio.StreamWriter) -> None:
    payload = gzip.compress(b"{}")[:10] + b"\xff" * 20  # a gzip header, then no deflate stream
    writer.write(reply("200 OK", payload, "Content-Encoding: gzip"))
    await writer.drain()


@pytest.mark.parametrize(
    "script",
    [_cut_after_status, _stall_after_status, _bad_chunk, _corrupt_gzip],
    ids=["reset", "stall", "bad-chunk", "corrupt-gzip"],
)
def test_a_2xx_whose_body_breaks_is_cancelled_and_never_sent_again(
    tmp_path: Path, env: Path, capsys: pytest.CaptureFixture[str], script: Callable[..., Any]
) -> None:
    source = orders_csv(tmp_path / "in.csv", 3)
    out = tmp_path / "out.csv"
    for server in serve(script):
        assert run(source, "-o", out, "--base-url", server.url, *FAST) == ExitStatus.SUCCESS
        rows = read_results(out)
        assert [row["result_status"] for row in rows] == ["cancelled"] * 3
        assert all(row["result_http_status"] == "200" for row in rows)
        assert all(
            row["result_error_message"].startswith("response body unreadable") for row in rows
        )
        assert sorted(server.order_nos()) == ["ORD-00000", "ORD-00001", "ORD-00002"]
        # The next night finds them cancelled in the ledger and sends nothing.
        assert run(source, "-o", out, "--base-url", server.url, *FAST) == ExitStatus.SUCCESS
        assert [row["result_status"] for row in read_results(out)] == ["skipped"] * 3
        assert len(server.requests) == 3


async def _503_cut(body: dict[str, Any], writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 50\r\n\r\n<ht")
    await writer.drain()
    writer.transport.abort()


def test_a_non_2xx_whose_body_breaks_is_still_that_status(tmp_path: Path, env: Path) -> None:
    source = orders_csv(tmp_path / "in.csv", 1)
    out = tmp_path / "out.csv"
    for server in serve(_503_cut):
        assert run(source, "-o", out, "--base-url", server.url, *FAST) == (
            ExitStatus.ROWS_NEED_ATTENTION
        )
    (row,) = read_results(out)
    assert (row["result_status"], row["result_http_status"]) == ("failed", "503")
    assert "Service Unavailable; response body unreadable" in row["result_error_message"]


async def _echo_key(body: dict[str, Any], writer: asyncio.StreamWriter) -> None:
    # A gateway that quotes the request's headers back, in the body and in a header.
    error = {"metadata": {"errors": [{"code": f"E-{SECRET}", "message": f"bad key {SECRET}!"}]}}
    payload = json.dumps(error).encode()
    writer.write(reply("400 Bad Request", payload, f"x-request-id: req-{SECRET}"))
    await writer.drain()


def test_a_key_echoed_by_the_server_reaches_no_output(
    tmp_path: Path, env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = orders_csv(tmp_path / "in.csv", 2)
    out = tmp_path / "out.csv"
    summary = tmp_path / "summary.json"
    attention = tmp_path / "attention.csv"
    report = tmp_path / "report.html"
    for server in serve(_echo_key):
        status = run(source, "-o", out, "--base-url", server.url, "--summary-json", summary, *FAST)
        assert status == ExitStatus.ROWS_NEED_ATTENTION
    assert cli.main(["summarize", str(out), "--needs-attention", str(attention)]) == 1
    assert cli.main(["report", str(out), "-o", str(report)]) == 1
    assert cli.main(["history", "ORD-00000", "--state", str(env)]) == ExitStatus.SUCCESS
    (row, _) = read_results(out)
    assert row["result_error_message"] == "bad key [REDACTED]!"
    assert row["result_request_id"] == "req-[REDACTED]"
    written = [out, summary, attention, report, env, *env.parent.glob("*")]
    captured = capsys.readouterr()
    for text in (captured.out, captured.err, *(p.read_bytes().decode("latin-1") for p in written)):
        assert SECRET not in text
    assert stat.S_IMODE(env.stat().st_mode) == 0o600


async def _only_429(body: dict[str, Any], writer: asyncio.StreamWriter) -> None:
    writer.write(reply("429 Too Many Requests", b"{}", "Retry-After: 0"))
    await writer.drain()


def test_answers_that_are_only_429_stop_the_night(
    tmp_path: Path, env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = orders_csv(tmp_path / "in.csv", 400)
    out = tmp_path / "out.csv"
    for server in serve(_only_429):
        args = ["--base-url", server.url, "--max-attempts", "1000", "--down-after", "1"]
        assert run(source, "-o", out, *args) == ExitStatus.API_REFUSED_OR_DOWN
    err = capsys.readouterr().err
    assert (
        "batch-cancel: stopped: the API looks down (no successful answer for 1s; last: HTTP 429"
        in err
    )
    statuses = {row["result_status"] for row in read_results(out)}
    assert "not_sent" in statuses


def test_an_unresolvable_host_is_named(
    tmp_path: Path, env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = orders_csv(tmp_path / "in.csv", 3)
    out = tmp_path / "out.csv"
    args = ["--base-url", "https://no-such-host.invalid", "--max-consecutive-failures", "2"]
    assert run(source, "-o", out, *args, *FAST) == ExitStatus.API_REFUSED_OR_DOWN
    err = capsys.readouterr().err
    assert "last: dns_error; cannot resolve host no-such-host.invalid" in err
    codes = {row["result_error_code"] for row in read_results(out)}
    assert "dns_error" in codes


def test_a_dry_run_never_replaces_a_live_runs_results(
    tmp_path: Path, env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = orders_csv(tmp_path / "night.csv", 2)
    live = tmp_path / "night.results.csv"
    live.write_text("the night's real results\n")
    assert run(source, "--dry-run") == ExitStatus.SUCCESS
    assert live.read_text() == "the night's real results\n"
    dry = read_results(tmp_path / "night.dry-run.csv")
    assert [row["result_error_code"] for row in dry] == ["dry_run", "dry_run"]
    assert run(source, "--dry-run", "-o", live) == ExitStatus.USAGE_OR_INPUT
    assert capsys.readouterr().err.endswith(
        f"batch-cancel: error: a dry run does not replace {live}, which may hold a live run's "
        "results; leave out -o (it writes night.dry-run.csv) or name a new file\n"
    )
    assert live.read_text() == "the night's real results\n"


def test_a_second_run_on_the_same_results_file_exits_4_before_sending(
    tmp_path: Path,
    start_sandbox: Callable[..., Sandbox],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sandbox = start_sandbox("--latency-ms", "200")
    source = orders_csv(tmp_path / "in.csv", 30)
    out = tmp_path / "out.csv"
    first = spawn_cli(
        *("run", source, "-o", out, "--base-url", sandbox.url, "--rate", "0", "--concurrency", "1"),
        env=cli_env(state=tmp_path / "a" / "ledger.sqlite3"),
    )
    try:
        lock = out.with_name(f".{out.name}.lock")
        wait_until(
            lambda: lock.exists() and lock.stat().st_size > 0, "the first run holds the lock"
        )
        # Another ledger (an operator's), the same results file.
        for name, value in cli_env(state=tmp_path / "b" / "ledger.sqlite3").items():
            monkeypatch.setenv(name, value)
        sent_before = len(sandbox.stats()["arrivals"])
        assert run(source, "-o", out, "--base-url", sandbox.url) == ExitStatus.LOCKED
        err = capsys.readouterr().err
        assert (
            "batch-cancel: another batch-cancel run holds the results file's lock "
            f"{lock.resolve()} (pid {first.pid}, started " in err
        )
        assert len(sandbox.stats()["arrivals"]) - sent_before <= 1  # only the first run's own
    finally:
        first.terminate()
        first.communicate(timeout=30)
    assert first.returncode == ExitStatus.TERMINATED
    assert len(read_results(out)) == 30


def test_a_full_disk_under_the_results_stops_sending_at_once(
    tmp_path: Path,
    env: Path,
    tiny_disk: Path,
    start_sandbox: Callable[..., Sandbox],
    capsys: pytest.CaptureFixture[str],
) -> None:
    sandbox = start_sandbox()
    # Wide rows fill 64 KiB within a few hundred rows of a 5,000-row night.
    rows = [[f"ORD-{i:05d}", "WH-1", "x" * 45] for i in range(5000)]
    source = tmp_path / "in.csv"
    with source.open("w", newline="") as handle:
        csv.writer(handle).writerows([["order_no", "warehouse_id", "cancel_reason"], *rows])
    out = tiny_disk / "out.csv"
    status = run(source, "-o", out, "--base-url", sandbox.url, "--rate", "0", "--concurrency", "4")
    assert status == ExitStatus.RECORDING_FAILED
    err = capsys.readouterr().err
    assert (
        f"batch-cancel: error: cannot record results: cannot write {out}: No space left on device\n"
        in err
    )
    assert "Traceback" not in err
    sent = len(sandbox.stats()["arrivals"])
    assert sent < 1000  # stopped within the rows in flight, not after the whole night
    incomplete = tiny_disk / "out.incomplete.csv"
    assert incomplete.exists()
    assert not out.exists()
    # Every order the API cancelled is in the ledger, whatever the CSV lost.
    with sqlite3.connect(env) as db:
        recorded = db.execute(
            "SELECT COUNT(*) FROM outcomes WHERE status = 'cancelled'"
        ).fetchone()[0]
    assert recorded >= sent - 4


def test_a_full_disk_before_the_first_request_sends_nothing(
    tmp_path: Path,
    env: Path,
    tiny_disk: Path,
    start_sandbox: Callable[..., Sandbox],
    capsys: pytest.CaptureFixture[str],
) -> None:
    sandbox = start_sandbox()
    (tiny_disk / "filler").write_bytes(b"x" * 64 * 1024)
    out = tiny_disk / "out.csv"
    source = orders_csv(tmp_path / "in.csv", 5)
    assert run(source, "-o", out, "--base-url", sandbox.url) == ExitStatus.RECORDING_FAILED
    # The first thing written is the results file's lock, which names its holder.
    lock = tiny_disk / ".out.csv.lock"
    assert capsys.readouterr().err.endswith(
        f"batch-cancel: error: cannot write {lock}: No space left on device\n"
    )
    assert len(sandbox.stats()["arrivals"]) == 0
    assert sorted(p.name for p in tiny_disk.iterdir()) == [".out.csv.lock", "filler"]


@pytest.mark.parametrize("closed", ["1", "2", "1 2"])
def test_the_exit_status_is_true_with_stdout_or_stderr_closed(
    tmp_path: Path, start_sandbox: Callable[..., Sandbox], closed: str
) -> None:
    sandbox = start_sandbox("--orders", str(ROOT / "samples" / "orders.csv"))
    source = orders_csv(tmp_path / "in.csv", 3, prefix="NOPE")  # unknown: rejected, exit 1
    redirects = " ".join(f"{fd}>&-" for fd in closed.split())
    command = (
        f"{sys.executable} -m batch_cancel run {source} -o {tmp_path / 'out.csv'} "
        f"--base-url {sandbox.url} {redirects}"
    )
    done = subprocess.run(["/bin/sh", "-c", command], env=cli_env(), cwd=ROOT, check=False)
    assert done.returncode == ExitStatus.ROWS_NEED_ATTENTION
    assert [row["result_status"] for row in read_results(tmp_path / "out.csv")] == ["rejected"] * 3


def cli_into(stdout: int | BinaryIO, *args: str) -> tuple[int, str]:
    """The CLI as a process whose stdout is `stdout` (buffered, as under cron): its status
    and its stderr."""
    env = cli_env()
    env.pop("PYTHONUNBUFFERED", None)  # what reaches stdout stays buffered until the exit
    done = subprocess.run(
        [sys.executable, "-m", "batch_cancel", *args],
        stdout=stdout, stderr=subprocess.PIPE, env=env, cwd=ROOT, check=False, text=True,
    )  # fmt: skip
    return done.returncode, done.stderr


def test_stdout_on_a_full_disk_at_the_exit_is_status_120_and_no_noise() -> None:
    with open("/dev/full", "wb") as full:  # every write: ENOSPC, as a full disk under `> file`
        status, err = cli_into(full, "--version")
    assert status == ExitStatus.OUTPUT_LOST
    assert err == ""  # no "Exception ignored" from the interpreter's own flush at exit


def test_stdout_whose_reader_went_away_keeps_the_status() -> None:
    reading, writing = os.pipe()
    os.close(reading)  # `| head` that has already left
    try:
        status, err = cli_into(writing, "summarize", str(DATA / "results-every-status.csv"))
    finally:
        os.close(writing)
    assert status == ExitStatus.ROWS_NEED_ATTENTION  # the file's rows need attention
    assert err == ""


def test_sighup_is_an_orderly_stop_with_complete_results(
    tmp_path: Path, start_sandbox: Callable[..., Sandbox]
) -> None:
    sandbox = start_sandbox("--latency-ms", "200")
    source = orders_csv(tmp_path / "in.csv", 40)
    out = tmp_path / "out.csv"
    process = spawn_cli(
        *("run", source, "-o", out, "--base-url", sandbox.url, "--rate", "0", "--concurrency", "2"),
        env=cli_env(),
    )
    wait_until(lambda: len(sandbox.stats()["arrivals"]) >= 2, "two requests in flight")
    process.send_signal(signal.SIGHUP)
    _, err = process.communicate(timeout=30)
    assert process.returncode == ExitStatus.HANGUP, err
    assert "interrupted by SIGHUP" in err
    rows = read_results(out)
    assert len(rows) == 40
    assert "not_sent" in {row["result_status"] for row in rows}


def test_the_results_temporary_file_is_unique_to_its_run(tmp_path: Path) -> None:
    from batch_cancel.formats.results_csv import ResultsWriter

    out = tmp_path / "out.csv"
    with ResultsWriter(out, ["order_no"]) as first, ResultsWriter(out, ["order_no"]) as second:
        partials = sorted(p.name for p in tmp_path.iterdir())
        assert len(partials) == 2
        assert first.path == second.path
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]
    assert os.stat(out).st_mode & 0o044  # readable by the reviewers, as before


@pytest.mark.integration
def test_history_shows_every_outcome(
    tmp_path: Path,
    start_sandbox: Callable[..., Sandbox],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sandbox = start_sandbox()
    state = tmp_path / "ledger.sqlite3"
    for name, value in cli_env(state=state).items():
        monkeypatch.setenv(name, value)
    night = tmp_path / "night.csv"
    night.write_text("order_no,warehouse_id,cancel_reason\nA-1,WH-1,r\nA-1,WH-1,r\n")
    for _ in range(2):  # the second night finds A-1 already cancelled
        assert run(night, "--base-url", sandbox.url, "--rate", "0") == ExitStatus.SUCCESS
    capsys.readouterr()
    assert cli.main(["history", "A-1"]) == ExitStatus.SUCCESS
    # "AT  run N  WH  outcome STATUS after K attempt(s): ..." per outcome, per run
    lines = [line.split("  ") for line in capsys.readouterr().out.splitlines()]
    outcomes = sorted(
        (run_id, what.split(":")[0]) for _, run_id, _, what in lines if what.startswith("outcome")
    )
    assert outcomes == [
        ("run 1", "outcome cancelled after 1 attempt(s)"),
        ("run 1", "outcome duplicate after 0 attempt(s)"),
        ("run 2", "outcome duplicate after 0 attempt(s)"),
        ("run 2", "outcome skipped after 0 attempt(s)"),
    ]


def test_a_results_file_with_a_huge_cell_reads_back(
    tmp_path: Path, env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    night = tmp_path / "night.csv"
    huge = "x" * (200 * 1024)  # past csv's 128 KiB default field limit
    night.write_text(f"order_no,warehouse_id,cancel_reason,note\nA-1,WH-1,r,{huge}\nA-2,,r,n\n")
    out = tmp_path / "night.dry-run.csv"
    assert run(night, "--dry-run") == ExitStatus.ROWS_NEED_ATTENTION  # A-2 has no warehouse
    assert read_results(out)[0]["note"] == huge
    capsys.readouterr()
    assert cli.main(["summarize", str(out)]) == ExitStatus.ROWS_NEED_ATTENTION
    assert "1 invalid" in capsys.readouterr().out
    report = tmp_path / "report.html"
    assert cli.main(["report", str(out), "-o", str(report)]) == ExitStatus.ROWS_NEED_ATTENTION
    assert "warehouse_id is blank" in report.read_text()
