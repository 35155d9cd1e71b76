"""Item 2, versus what users would write: 2,000 rows against a server that takes 20 ms.

batch-cancel (32 in flight, no rate cap) against a sequential `requests` loop
and against `xargs -P 32 curl` (one curl process per row). Each runs as a
subprocess against its own fresh sandbox; the figure is wall time from process
start to exit, interpreter start-up included, because that is what a user waits
for.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from .common import (
    API_KEY,
    CANCEL_PATH,
    CANCEL_REASON,
    PYTHON,
    WAREHOUSE_ID,
    Measured,
    Row,
    Sandbox,
    Section,
    batch_cancel,
    check_all_cancelled,
    cli_env,
    order_no,
    run_measured,
    shell_line,
    verdict,
    workdir,
    write_orders,
)
from .overhead import run_help

ROWS = 2_000
LATENCY_MS = 20
CONCURRENCY = 32
TARGET_VS_SEQUENTIAL = 20.0
TIMEOUT_S = 240.0  # the sequential loop takes about ROWS x (LATENCY_MS + ~2 ms) = 45 s


def _measure(
    command: list[str], what: str, directory: Path, *, stdin: Path | None = None
) -> tuple[Measured, str]:
    """Run against a fresh sandbox; also say where the wall time went, on the shared clock."""
    with Sandbox(["--latency-ms", str(LATENCY_MS)]) as sandbox:
        argv = [part.replace("{URL}", sandbox.url) for part in command]
        env = cli_env(directory / "ledger.sqlite3")
        measured = run_measured(argv, timeout_s=TIMEOUT_S, env=env, stdin=stdin)
        measured.check(what)
        stats = sandbox.stats()
    check_all_cancelled(stats, ROWS, what)
    arrivals = sorted(stats["arrivals"])
    ended = measured.started + measured.wall_s
    phases = (
        f"{what}: {measured.wall_s:.2f} s = start to first request "
        f"{arrivals[0] - measured.started:.2f} s + first to last request "
        f"{arrivals[-1] - arrivals[0]:.2f} s + last request to exit {ended - arrivals[-1]:.2f} s; "
        f"CPU {measured.cpu_s:.2f} s, peak RSS {measured.peak_rss_mb:.0f} MB"
    )
    return measured, phases


def xargs_curl_command() -> list[str]:
    body = json.dumps(
        {
            "data": {
                "cancellation": {
                    "order_no": "{}",
                    "cancel_reason": CANCEL_REASON,
                    "warehouse_id": WAREHOUSE_ID,
                }
            }
        },
        separators=(",", ":"),
    )
    return [
        "xargs",
        "-P",
        str(CONCURRENCY),
        "-I{}",
        "curl",
        "--silent",
        "--show-error",
        "--fail",
        "--noproxy",
        "*",
        "--output",
        "/dev/null",
        "--request",
        "PATCH",
        "--header",
        f"x-api-key: {API_KEY}",
        "--header",
        "Content-Type: application/json",
        "--data",
        body,
        "{URL}" + CANCEL_PATH,
    ]


def _batch_cancel(directory: Path, tag: str, *extra: str) -> list[str]:
    orders = write_orders(directory / f"{tag}.csv", ROWS, f"V{tag.upper()}")
    return batch_cancel(
        "run",
        orders,
        "-o",
        directory / f"{tag}.results.csv",
        "--base-url",
        "{URL}",
        "--rate",
        "0",
        "--concurrency",
        str(CONCURRENCY),
        "-q",
        *extra,
    )


def run() -> Section:
    section = Section("2. Versus what users would write")
    with workdir() as directory:
        ours, phases = _measure(_batch_cancel(directory, "bc"), "batch-cancel", directory)
        section.commands.append(shell_line(ours.command))
        section.details.append(phases)
        without_ledger: Measured | None = None
        if "--no-state" in run_help():
            command = _batch_cancel(directory, "nostate", "--no-state")
            without_ledger, phases = _measure(command, "batch-cancel --no-state", directory)
            section.details.append(phases)

        orders = write_orders(directory / "seq.csv", ROWS, "VSEQ")
        sequential, phases = _measure(
            [PYTHON, "-m", "bench.sequential_requests", "{URL}", str(orders)],
            "requests loop",
            directory,
        )
        section.commands.append(shell_line(sequential.command))
        ratio = sequential.wall_s / ours.wall_s
        section.rows.append(
            Row(
                "2 vs users",
                "sequential requests loop / batch-cancel, wall time",
                f"{ratio:.1f}x ({sequential.wall_s:.1f} s vs {ours.wall_s:.2f} s)",
                f">= {TARGET_VS_SEQUENTIAL:.0f}x",
                verdict(ratio >= TARGET_VS_SEQUENTIAL),
            )
        )
        section.details.append(phases)
        if without_ledger is not None:
            section.rows.append(
                Row(
                    "2 vs users",
                    "sequential requests loop / batch-cancel --no-state, wall time",
                    f"{sequential.wall_s / without_ledger.wall_s:.1f}x "
                    f"({without_ledger.wall_s:.2f} s)",
                )
            )

        if shutil.which("curl") is None or shutil.which("xargs") is None:
            missing = "curl" if shutil.which("curl") is None else "xargs"
            section.rows.append(
                Row(
                    "2 vs users",
                    f"xargs -P {CONCURRENCY} curl / batch-cancel, wall time",
                    f"{missing} not installed",
                    verdict="n/a",
                )
            )
            return section
        order_list = directory / "xargs-orders.txt"
        order_list.write_text("".join(f"{order_no('VXC', i)}\n" for i in range(ROWS)))
        xargs, phases = _measure(
            xargs_curl_command(), f"xargs -P {CONCURRENCY} curl", directory, stdin=order_list
        )
        section.commands.append(f"{shell_line(xargs.command)} < orders.txt")
        section.rows.append(
            Row(
                "2 vs users",
                f"xargs -P {CONCURRENCY} curl / batch-cancel, wall time",
                f"{xargs.wall_s / ours.wall_s:.1f}x ({xargs.wall_s:.1f} s vs {ours.wall_s:.2f} s)",
            )
        )
        section.details.append(phases + " (CPU: xargs and every curl it waited for)")
    return section
