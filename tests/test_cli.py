"""The real CLI against the real sandbox on 127.0.0.1.

`cli.main` runs in this process (the sandbox is a process of its own); what needs
a process of the CLI's own (signals, kill -9, racing runs, closed descriptors,
`python -m`) is in test_unattended.py and test_exactly_once.py.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from batch_cancel import account_run
from batch_cancel.models import ExitStatus
from batch_cancel.runner import RetryPolicy

from .conftest import Sandbox
from .helpers import (
    API_KEY,
    SAMPLES,
    main_in_process,
    orders_csv,
    read_results,
    use_cli_env,
    write_csv,
)
from .misbehaving import MisbehavingServer, reply

pytestmark = pytest.mark.integration

HEADER = ["order_no", "warehouse_id", "cancel_reason"]
FAST = ["--rate", "200", "--concurrency", "8"]


def test_sample_export_gives_every_outcome_row_by_row(
    tmp_path: Path,
    start_sandbox: Callable[..., Sandbox],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_cli_env(monkeypatch)
    sandbox = start_sandbox("--orders", str(SAMPLES / "orders.csv"))
    out = tmp_path / "results.csv"
    done = main_in_process(
        capsys,
        "run",
        SAMPLES / "nightly-export.csv",
        "-o",
        out,
        "--base-url",
        sandbox.url,
        "--max-attempts",
        "2",
        *FAST,
    )
    assert done.returncode == ExitStatus.ROWS_NEED_ATTENTION, done.stderr
    rows = {int(row["source_row"]): row for row in read_results(out)}
    assert sorted(rows) == list(range(1, 41))
    expected = {
        1: ("cancelled", "200", ""),
        6: ("rejected", "400", "3012"),  # unknown to Shipper
        7: ("rejected", "400", "9001"),  # ALLOCATED
        9: ("cancelled", "200", ""),  # leading zeros kept: 0001234567
        10: ("invalid", "", "order_no_missing"),
        13: ("duplicate", "", "duplicate_row"),
        15: ("rejected", "400", "9001"),  # PICKED
        16: ("invalid", "", "warehouse_id_too_long"),
        20: ("cancelled", "200", ""),  # long reason, shortened
        21: ("rejected", "400", "9003"),  # SHIPPED
        24: ("invalid", "", "cancel_reason_missing"),
        26: ("rejected", "400", "9002"),  # already cancelled
        30: ("invalid", "", "order_no_too_long"),
        32: ("failed", "500", "803"),  # FAULTY: 500 every time
    }
    for source_row, (status, http, code) in expected.items():
        row = rows[source_row]
        assert (row["result_status"], row["result_http_status"], row["result_error_code"]) == (
            status,
            http,
            code,
        ), row
    assert rows[9]["order_no"] == "0001234567"
    assert "cancel_reason_shortened" in rows[20]["result_error_message"]
    assert rows[13]["result_error_message"] == "same order_no and warehouse_id as row 2"
    assert rows[32]["result_attempts"] == "2"
    assert "gave up after 2 attempt(s)" in rows[32]["result_error_message"]
    assert all(rows[r]["result_request_id"].startswith("sbx-") for r in (1, 6, 32))
    assert rows[1]["result_finished_at"].endswith("Z")
    # Input columns come back unchanged, in order, before the result columns.
    assert list(rows[1])[:5] == [
        "marketplace",
        "order_no",
        "warehouse_id",
        "cancel_reason",
        "cancelled_at",
    ]
    counts = Counter(row["result_status"] for row in rows.values())
    assert counts == {"cancelled": 26, "rejected": 7, "failed": 1, "invalid": 4, "duplicate": 2}
    assert "rejected         7" in done.stderr
    assert str(out) in done.stderr
    # Nothing was cancelled twice, and nothing invalid or duplicate reached the server.
    stats = sandbox.stats()
    assert len(stats["cancelled"]) == len(set(stats["cancelled"])) == 26
    assert sum(stats["cancel_calls"].values()) == 26 + 7 + 2  # FAULTY was tried twice


def test_marketplace_export_with_map_and_default_warehouse(
    tmp_path: Path,
    start_sandbox: Callable[..., Sandbox],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_cli_env(monkeypatch)
    sandbox = start_sandbox("--orders", str(SAMPLES / "orders.csv"))
    out = tmp_path / "m.csv"
    done = main_in_process(
        capsys,
        "run",
        SAMPLES / "marketplace-export.csv",
        "-o",
        out,
        "--base-url",
        sandbox.url,
        "--map",
        "order_no=No. Pesanan",
        "--map",
        "cancel_reason=Alasan Pembatalan",
        "--warehouse-id",
        "WH-TGR04",
        *FAST,
    )
    assert done.returncode == ExitStatus.SUCCESS, done.stderr
    rows = read_results(out)
    assert [row["result_status"] for row in rows] == ["cancelled"] * 7
    assert next(iter(rows[0])) == "No. Pesanan"  # BOM stripped, header echoed as is
    assert "Total (Rp)" in rows[0]


def test_retries_recover_from_500s_429s_and_dropped_connections(
    tmp_path: Path,
    start_sandbox: Callable[..., Sandbox],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_cli_env(monkeypatch)
    # What is tested is that retries recover, not how long the backoff waits: short waits
    # keep the test from taking 7 to 28 s on its random draws.
    monkeypatch.setattr(
        account_run,
        "RetryPolicy",
        functools.partial(RetryPolicy, backoff_base_s=0.05, backoff_max_s=0.2),
    )
    sandbox = start_sandbox(
        "--fail-rate",
        "0.25",
        "--drop-rate",
        "0.15",
        "--rate-limit",
        "30",
        "--retry-after",
        "1",
        "--seed",
        "3",
    )
    out = tmp_path / "r.csv"
    done = main_in_process(
        capsys,
        "run",
        orders_csv(tmp_path / "in.csv", 60),
        "-o",
        out,
        "--base-url",
        sandbox.url,
        "--rate",
        "50",
        "--concurrency",
        "8",
        "--max-attempts",
        "10",
        "--timeout",
        "5",
    )
    assert done.returncode == ExitStatus.SUCCESS, done.stderr
    rows = read_results(out)
    assert [row["result_status"] for row in rows] == ["cancelled"] * 60
    answers = sandbox.stats()["answers"]
    assert answers["500"] > 0
    assert answers["429"] > 0
    assert answers["dropped"] > 0
    assert sum(int(row["result_attempts"]) for row in rows) > 60
    assert len(sandbox.stats()["cancelled"]) == 60


def test_retry_after_is_honoured(
    tmp_path: Path,
    start_sandbox: Callable[..., Sandbox],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_cli_env(monkeypatch)
    # The sandbox allows 1 request per second and asks for 2 s of patience on 429.
    sandbox = start_sandbox("--rate-limit", "1", "--retry-after", "2")
    out = tmp_path / "r.csv"
    done = main_in_process(
        capsys,
        "run",
        orders_csv(tmp_path / "in.csv", 3),
        "-o",
        out,
        "--base-url",
        sandbox.url,
        "--rate",
        "10",
        "--concurrency",
        "1",
        "--max-attempts",
        "5",
    )
    assert done.returncode == ExitStatus.SUCCESS, done.stderr
    events = sandbox.stats()["events"]
    throttled = [(t, order) for t, order, status in events if status == 429]
    assert throttled, "the scenario should have produced at least one 429"
    for refused_at, order in throttled:
        next_try = min(t for t, o, _ in events if o == order and t > refused_at)
        assert next_try - refused_at >= 2.0 - 0.05  # allow clock granularity only


def test_no_one_second_window_holds_more_than_rate(
    tmp_path: Path,
    start_sandbox: Callable[..., Sandbox],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_cli_env(monkeypatch)
    sandbox = start_sandbox("--latency-ms", "30")
    out = tmp_path / "r.csv"
    done = main_in_process(
        capsys,
        "run",
        orders_csv(tmp_path / "in.csv", 45),
        "-o",
        out,
        "--base-url",
        sandbox.url,
        "--rate",
        "15",
        "--concurrency",
        "16",
    )
    assert done.returncode == ExitStatus.SUCCESS, done.stderr
    stats = sandbox.stats()
    assert len(stats["arrivals"]) == 45
    assert stats["busiest_second"] <= 15


def test_wrong_key_stops_within_concurrency_and_exits_3(
    tmp_path: Path,
    start_sandbox: Callable[..., Sandbox],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_cli_env(monkeypatch, api_key="wrong-key-0000")
    sandbox = start_sandbox("--latency-ms", "200")
    out = tmp_path / "r.csv"
    done = main_in_process(
        capsys,
        "run",
        orders_csv(tmp_path / "in.csv", 50),
        "-o",
        out,
        "--base-url",
        sandbox.url,
        "--rate",
        "100",
        "--concurrency",
        "4",
    )
    assert done.returncode == ExitStatus.API_REFUSED_OR_DOWN, done.stderr
    stats = sandbox.stats()
    assert 1 <= len(stats["arrivals"]) <= 4
    rows = read_results(out)
    statuses = Counter(row["result_status"] for row in rows)
    assert statuses["rejected"] == len(stats["arrivals"])
    assert statuses["not_sent"] == 50 - len(stats["arrivals"])
    assert {row["result_error_code"] for row in rows if row["result_status"] == "rejected"} == {
        "802"
    }
    assert {row["result_error_code"] for row in rows if row["result_status"] == "not_sent"} == {
        "auth_refused"
    }
    assert "refused the key" in done.stderr
    assert (
        "batch-cancel: stopped: the API refused the key (HTTP 401 code 802); check SHIPPER_API_KEY"
        in done.stderr.splitlines()
    )


def test_unreachable_server_fails_every_row_without_crashing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    use_cli_env(monkeypatch)
    out = tmp_path / "r.csv"
    # Port 9 (discard) on loopback: nothing listens, connections are refused at once.
    done = main_in_process(
        capsys,
        "run",
        orders_csv(tmp_path / "in.csv", 5),
        "-o",
        out,
        "--base-url",
        "http://127.0.0.1:9",
        "--max-attempts",
        "2",
        *FAST,
    )
    assert done.returncode == ExitStatus.ROWS_NEED_ATTENTION, done.stderr
    rows = read_results(out)
    assert [row["result_status"] for row in rows] == ["failed"] * 5
    assert {row["result_error_code"] for row in rows} == {"connection_error"}
    assert all(row["result_attempts"] == "2" for row in rows)
    assert "Traceback" not in done.stderr


def test_timeout_is_a_transient_failure(
    tmp_path: Path,
    start_sandbox: Callable[..., Sandbox],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_cli_env(monkeypatch)
    sandbox = start_sandbox("--latency-ms", "1500")
    out = tmp_path / "r.csv"
    done = main_in_process(
        capsys,
        "run",
        orders_csv(tmp_path / "in.csv", 2),
        "-o",
        out,
        "--base-url",
        sandbox.url,
        "--timeout",
        "0.3",
        "--max-attempts",
        "2",
        *FAST,
    )
    assert done.returncode == ExitStatus.ROWS_NEED_ATTENTION, done.stderr
    rows = read_results(out)
    # A timed-out cancel may have been applied: it is read back, not sent blind again;
    # the reads time out too, so the row is in doubt (never failed, never sent twice).
    assert [(row["result_status"], row["result_error_code"]) for row in rows] == [
        ("in_doubt", "in_doubt")
    ] * 2
    assert rows[0]["result_error_message"].startswith(
        "in doubt: sent, no answer, and the read-back failed (timeout: no answer within the "
        "timeout); Shipper may have cancelled it: check the order in Shipper (batch-cancel "
        "check) before sending it again"
    )
    assert set(sandbox.stats()["cancel_calls"].values()) == {1}
    assert set(sandbox.stats()["read_calls"].values()) == {2}


@pytest.mark.parametrize(
    ("api_key", "flags", "message"),
    [
        (
            None,
            ["--base-url", "http://127.0.0.1:9"],
            "SHIPPER_API_KEY is not set: export the Shipper API key in it, or pass --api-key-file",
        ),
        (
            API_KEY,
            [],
            "no API base URL: pass --base-url or set SHIPPER_BASE_URL (Shipper does not publish "
            "one default host)",
        ),
        (
            API_KEY,
            ["--base-url", "http://shipper.example/"],
            "refusing plain http to shipper.example: the API key would travel unencrypted (use "
            "https, or --allow-insecure-http if you really mean it)",
        ),
        (
            API_KEY,
            ["--base-url", "http://127.0.0.1:9", "--rate", "-1"],
            "--rate must be 0 (no limit), a number, or auto",
        ),
    ],
    ids=["SHIPPER_API_KEY is not set", "no API base URL", "refusing plain http", "--rate must be"],
)
def test_configuration_errors_exit_2_before_reading(
    tmp_path: Path,
    api_key: str | None,
    flags: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_cli_env(monkeypatch, api_key=api_key)
    missing_input = tmp_path / "does-not-exist.csv"
    done = main_in_process(capsys, "run", missing_input, *flags)
    assert done.returncode == ExitStatus.USAGE_OR_INPUT
    assert done.stderr.splitlines() == [f"batch-cancel: error: {message}"]
    assert "no such file" not in done.stderr  # configuration is checked first


def test_base_url_from_environment(
    tmp_path: Path,
    start_sandbox: Callable[..., Sandbox],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sandbox = start_sandbox()
    use_cli_env(monkeypatch, SHIPPER_BASE_URL=sandbox.url)
    out = tmp_path / "r.csv"
    done = main_in_process(
        capsys,
        "run",
        orders_csv(tmp_path / "in.csv", 2),
        "-o",
        out,
        *FAST,
    )
    assert done.returncode == ExitStatus.SUCCESS, done.stderr
    assert len(sandbox.stats()["cancelled"]) == 2


def test_missing_column_is_a_file_error_listing_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    use_cli_env(monkeypatch)
    source = write_csv(tmp_path / "in.csv", ["order", "gudang"], [["A-1", "WH-1"]])
    done = main_in_process(capsys, "run", source, "--base-url", "http://127.0.0.1:9")
    assert done.returncode == ExitStatus.USAGE_OR_INPUT
    assert "missing required column(s): order_no, warehouse_id, cancel_reason" in done.stderr
    assert "'order', 'gudang'" in done.stderr
    assert done.stderr.splitlines() == [
        f"batch-cancel: input error: {source}: missing required column(s): order_no, "
        "warehouse_id, cancel_reason; columns found: 'order', 'gudang'. Use --map FIELD=HEADER "
        "to map a column, or --warehouse-id / --cancel-reason to give a value for every row."
    ]
    assert not (tmp_path / "in.results.csv").exists()


def test_default_output_path_and_dry_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    use_cli_env(monkeypatch, api_key=None)
    source = write_csv(tmp_path / "night.csv", HEADER, [["A-1", "WH-1", "r"], ["", "WH-1", "r"]])
    done = main_in_process(capsys, "run", source, "--dry-run")
    assert done.returncode == ExitStatus.ROWS_NEED_ATTENTION  # one invalid row
    rows = read_results(tmp_path / "night.dry-run.csv")  # never the live results name
    assert [(row["result_status"], row["result_error_code"]) for row in rows] == [
        ("not_sent", "dry_run"),
        ("invalid", "order_no_missing"),
    ]


def test_validate_reports_problems_and_sends_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    use_cli_env(monkeypatch, api_key=None)
    source = write_csv(
        tmp_path / "in.csv",
        HEADER,
        [["A-1", "WH-1", "r"], ["A-1", "WH-1", "r"], ["A-2", "W" * 21, "r"]],
    )
    done = main_in_process(capsys, "validate", source)
    assert done.returncode == ExitStatus.ROWS_NEED_ATTENTION
    assert done.stderr.splitlines() == [
        "line 4, row 3 (order A-2): invalid: warehouse_id is 21 characters; the API allows "
        "at most 20",
        f"{source}: 1 duplicate row(s), an order already on an earlier row (not sent again); "
        "--show-duplicates lists them",
        f"{source}: 3 data row(s): 1 valid, 1 invalid, 1 duplicate",
    ]
    assert not list(tmp_path.glob("*.results.csv"))


def test_a_key_the_server_echoes_back_never_reaches_output_or_results(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A gateway that quotes back the key it received, in every field of its answer.

    The key echoed is the one the server got (not a constant), so the test cannot pass
    with a key that never reached it."""
    received: list[str] = []

    async def echo_the_key(body: dict[str, Any], writer: asyncio.StreamWriter) -> None:
        key = received[-1]
        error = {"metadata": {"errors": [{"code": f"E-{key}", "message": f"bad key {key}!"}]}}
        payload = json.dumps(error).encode()
        writer.write(reply("400 Bad Request", payload, f"x-request-id: req-{key}"))
        await writer.drain()

    use_cli_env(monkeypatch)
    out, summary = tmp_path / "r.csv", tmp_path / "summary.json"
    server = MisbehavingServer(echo_the_key)
    received = server.api_keys
    with server.running():
        done = main_in_process(
            capfd, "run", orders_csv(tmp_path / "in.csv", 3), "-o", out,
            "--base-url", server.url, "--summary-json", summary, "-v", *FAST,
        )  # fmt: skip
    assert received == [API_KEY] * 3
    assert done.returncode == ExitStatus.ROWS_NEED_ATTENTION, done.stderr
    rows = read_results(out)
    assert {(row["result_error_code"], row["result_error_message"]) for row in rows} == {
        ("E-[REDACTED]", "bad key [REDACTED]!")
    }
    assert {row["result_request_id"] for row in rows} == {"req-[REDACTED]"}
    for text in (done.stdout, done.stderr, out.read_text("utf-8-sig"), summary.read_text()):
        assert API_KEY not in text
