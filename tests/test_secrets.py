"""The API key never leaks: not into logs (tracebacks included), output, results, the
ledger or any other file a run writes, and never to a server whose certificate fails.

How the key is read and refused (key files, the environment, reprs) is in
test_config.py; TLS verification in the client itself, in test_client.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from batch_cancel import cli
from batch_cancel.cli.logs import setup_logging
from batch_cancel.models import ExitStatus

from .conftest import Sandbox
from .helpers import (
    CANARY_KEY,
    OTHER_CANARY_KEY,
    api_with_untrusted_certificate,
    key_file,
    main_in_process,
    read_results,
    use_cli_env,
    write_csv,
)


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_log_redaction_covers_tracebacks(
    log_format: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = cli.build_parser().parse_args(["validate", "x.csv", "-v"])
    args.log_format = log_format
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        setup_logging(args, secret=CANARY_KEY)
        try:
            raise ValueError(f"header x-api-key: {CANARY_KEY} rejected")
        except ValueError:
            logging.getLogger("batch_cancel.test").exception("boom with %s", CANARY_KEY)
    finally:
        root.handlers[:], root.level = saved
    err = capsys.readouterr().err
    assert "ValueError: header x-api-key: [REDACTED] rejected" in err.replace("\\n", "\n")
    assert "boom with [REDACTED]" in err
    assert CANARY_KEY not in err


def all_output(directory: Path, skip: Path) -> dict[Path, bytes]:
    return {
        path: path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file() and path != skip
    }


@pytest.mark.integration
def test_the_key_appears_nowhere_the_cli_writes(
    tmp_path: Path,
    start_sandbox: Callable[..., Sandbox],
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every output, log and file of real runs, grepped for the key: a good key, a wrong one.

    capfd, not capsys: whatever reaches the process's stdout and stderr descriptors counts.
    """
    secret_dir = tmp_path / "secret"
    path = key_file(secret_dir, f"{CANARY_KEY}\n")
    sandbox = start_sandbox("--fail-rate", "0.3", "--seed", "2", api_key=CANARY_KEY)
    work = tmp_path / "work"
    work.mkdir()
    rows = [[f"ORD-{n:03d}", "WH-TGR04", "Cancelled"] for n in range(12)]
    rows += [["", "WH-TGR04", "r"], ["ORD-000", "WH-TGR04", "again"], ["=1+1", "WH", "r"]]
    source = write_csv(work / "in.csv", ["order_no", "warehouse_id", "cancel_reason"], rows)
    state = tmp_path / "state" / "ledger.sqlite3"
    use_cli_env(monkeypatch, api_key=None, state=state)
    runs = [
        main_in_process(
            capfd,
            "run",
            source,
            "-o",
            work / "out.csv",
            "--base-url",
            sandbox.url,
            "--api-key-file",
            path,
            "--max-attempts",
            "2",
            "--rate",
            "200",
            "-v",
            "--log-format",
            "json",
            "--summary-json",
            work / "summary.json",
        )
    ]
    use_cli_env(monkeypatch, api_key=OTHER_CANARY_KEY, state=state)
    runs.append(
        main_in_process(
            capfd,
            "run",
            source,
            "-o",
            work / "again.csv",
            "--base-url",
            sandbox.url,
            "--max-attempts",
            "2",
            "--rate",
            "200",
            "-v",
            "--force-resend",
            "--summary-json",
            work / "again.json",
        )
    )
    use_cli_env(monkeypatch, api_key=None, state=state)
    runs += [
        main_in_process(capfd, "history", "ORD-001", "--json"),
        main_in_process(capfd, "summarize", work / "out.csv", "--needs-attention", work / "na.csv"),
        main_in_process(capfd, "report", work / "out.csv", "-o", work / "out.html"),
    ]
    # an invalid row, perhaps failed ones
    assert runs[0].returncode == ExitStatus.ROWS_NEED_ATTENTION, runs[0].stderr
    # the wrong key was refused
    assert runs[1].returncode == ExitStatus.API_REFUSED_OR_DOWN, runs[1].stderr
    assert sandbox.stats()["answers"]["401"] >= 1
    files = all_output(tmp_path, skip=path)
    assert {"out.csv", "summary.json", "again.csv", "ledger.sqlite3"} <= {p.name for p in files}
    for key in (CANARY_KEY, OTHER_CANARY_KEY):
        for run in runs:
            assert key not in run.stdout
            assert key not in run.stderr
        for file, data in files.items():
            assert key.encode() not in data, file
            assert key.encode("utf-16-le") not in data, file


@contextlib.contextmanager
def api_with_untrusted_certificate_in_a_thread(tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    """api_with_untrusted_certificate on an event loop in a thread of its own, so that the
    CLI can run in this one (the main thread: only there may it set signal handlers)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="untrusted-api", daemon=True)
    thread.start()
    api = api_with_untrusted_certificate(tmp_path)
    try:
        entered = asyncio.run_coroutine_threadsafe(api.__aenter__(), loop).result(timeout=60)
        try:
            yield entered
        finally:
            done = asyncio.run_coroutine_threadsafe(api.__aexit__(None, None, None), loop)
            done.result(timeout=60)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=60)
        loop.close()


@pytest.mark.integration
def test_a_certificate_that_fails_verification_stops_the_run(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    use_cli_env(monkeypatch, api_key=CANARY_KEY)
    source = write_csv(
        tmp_path / "in.csv",
        ["order_no", "warehouse_id", "cancel_reason"],
        [[f"ORD-{i}", "WH", "r"] for i in range(30)],
    )
    out = tmp_path / "results.csv"
    with api_with_untrusted_certificate_in_a_thread(tmp_path) as (base_url, reached):
        done = main_in_process(
            capfd,
            "run",
            source,
            "-o",
            out,
            "--base-url",
            base_url,
            "--concurrency",
            "4",
            "--rate",
            "0",
        )
    assert done.returncode == ExitStatus.API_REFUSED_OR_DOWN, done.stderr
    assert "TLS certificate failed verification" in done.stderr
    # The line ends in the ssl module's own words (and its C source line): not asserted whole.
    [headline] = [line for line in done.stderr.splitlines() if line.startswith("batch-cancel:")]
    assert headline.startswith(
        "batch-cancel: stopped: the API's TLS certificate failed verification (certificate "
        "verification failed: [SSL: CERTIFICATE_VERIFY_FAILED] "
    )
    rows = read_results(out)
    assert len(rows) == 30
    failed = [row for row in rows if row["result_status"] == "failed"]
    assert 1 <= len(failed) <= 4  # only the requests already under way
    for row in failed:
        assert row["result_error_code"] == "tls_error"
        assert row["result_attempts"] == "1"  # not retried
    assert {row["result_error_code"] for row in rows if row not in failed} == {"tls_error"}
    assert {row["result_status"] for row in rows if row not in failed} == {"not_sent"}
    assert reached == []
    assert CANARY_KEY not in done.stderr + done.stdout
