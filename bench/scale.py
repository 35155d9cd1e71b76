"""Item 4, memory and scale: a 1,000,000-row file and a 200,000-row run at full speed.

- `validate` on 1M generated rows: rows per second over the whole process
  (start-up included) and its peak RSS; `validate` on 10,000 rows for
  comparison, since flat memory means the two peaks are close.
- The first request on the 1M-row file: from just before the process is
  started to the sandbox's first arrival. Both clocks are CLOCK_MONOTONIC on
  the same machine (Python's time.monotonic() in both processes), so the
  difference is meaningful. The run is killed once that request has arrived.
- A 200,000-row run at full speed (no rate limit, 64 in flight): peak RSS.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from .common import (
    BenchError,
    Row,
    Sandbox,
    Section,
    batch_cancel,
    check_all_cancelled,
    cli_env,
    run_measured,
    shell_line,
    span_rate,
    verdict,
    workdir,
    write_orders,
)

BIG_ROWS = 1_000_000
SMALL_ROWS = 10_000
RUN_ROWS = 200_000
RUN_CONCURRENCY = 64
TARGET_VALIDATE_RATE = 150_000
TARGET_RSS_MB = 300
TARGET_FIRST_REQUEST_S = 1.0
VALIDATE_TIMEOUT_S = 300.0
FIRST_REQUEST_TIMEOUT_S = 30.0
RUN_TIMEOUT_S = 360.0


def time_to_first_request(command: list[str], sandbox: Sandbox, state: Path) -> float:
    """Start the run, wait for the sandbox's first arrival, kill the run (bounded)."""
    started = time.monotonic()
    process = subprocess.Popen(
        command,
        env=cli_env(state),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        while time.monotonic() - started < FIRST_REQUEST_TIMEOUT_S:
            arrivals = sandbox.arrivals()
            if arrivals:
                return arrivals[0] - started
            if process.poll() is not None:
                raise BenchError(f"the run ended (exit {process.returncode}) before any request")
            time.sleep(0.05)
        raise BenchError(f"no request within {FIRST_REQUEST_TIMEOUT_S:.0f} s")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def _validate(path: Path, rows: int) -> tuple[float, float, list[str]]:
    command = batch_cancel("validate", path, "-q")
    # Exit 0: every row valid (the generated files hold no invalid row).
    measured = run_measured(command, timeout_s=VALIDATE_TIMEOUT_S).check(f"validate {rows:,}")
    return rows / measured.wall_s, measured.peak_rss_mb, command


def run() -> Section:
    section = Section("4. Memory and scale")
    with workdir() as directory:
        big = write_orders(directory / "big.csv", BIG_ROWS, "BIG")
        small = write_orders(directory / "small.csv", SMALL_ROWS, "SMALL")
        size_mb = big.stat().st_size / 1e6

        rate, big_rss, command = _validate(big, BIG_ROWS)
        section.commands.append(shell_line(command))
        _, small_rss, _ = _validate(small, SMALL_ROWS)
        section.rows += [
            Row(
                "4 scale",
                f"validate {BIG_ROWS:,} rows ({size_mb:.0f} MB), rows/s incl. start-up",
                f"{rate:,.0f} rows/s",
                f">= {TARGET_VALIDATE_RATE:,}",
                verdict(rate >= TARGET_VALIDATE_RATE),
            ),
            Row(
                "4 scale",
                f"validate {BIG_ROWS:,} rows, peak RSS",
                f"{big_rss:.0f} MB ({small_rss:.0f} MB for {SMALL_ROWS:,} rows)",
                f"<= {TARGET_RSS_MB} MB",
                verdict(big_rss <= TARGET_RSS_MB),
            ),
        ]

        with Sandbox() as sandbox:
            command = batch_cancel(
                "run", big, "-o", directory / "big.results.csv", "--base-url", sandbox.url, "-q"
            )
            first = time_to_first_request(command, sandbox, directory / "first.sqlite3")
        section.commands.append(shell_line(command) + "   # killed after the first request")
        section.rows.append(
            Row(
                "4 scale",
                f"first request after process start, {BIG_ROWS:,}-row file",
                f"{first:.2f} s",
                f"< {TARGET_FIRST_REQUEST_S:.0f} s",
                verdict(first < TARGET_FIRST_REQUEST_S),
            )
        )

        orders = write_orders(directory / "run.csv", RUN_ROWS, "RUN")
        with Sandbox() as sandbox:
            command = batch_cancel(
                "run",
                orders,
                "-o",
                directory / "run.results.csv",
                "--base-url",
                sandbox.url,
                "--rate",
                "0",
                "--concurrency",
                str(RUN_CONCURRENCY),
                "-q",
            )
            measured = run_measured(
                command, timeout_s=RUN_TIMEOUT_S, env=cli_env(directory / "run.sqlite3")
            )
            measured.check(f"{RUN_ROWS:,}-row run")
            stats = sandbox.stats()
        check_all_cancelled(stats, RUN_ROWS, f"{RUN_ROWS:,}-row run")
        arrivals = sorted(stats["arrivals"])
        section.commands.append(shell_line(command))
        section.rows.append(
            Row(
                "4 scale",
                f"run {RUN_ROWS:,} rows at full speed, peak RSS",
                f"{measured.peak_rss_mb:.0f} MB",
                f"<= {TARGET_RSS_MB} MB",
                verdict(measured.peak_rss_mb <= TARGET_RSS_MB),
            )
        )
        section.details += [
            f"validate: {BIG_ROWS:,} rows, {size_mb:.0f} MB file, {BIG_ROWS / rate:.2f} s",
            f"{RUN_ROWS:,}-row run: {measured.wall_s:.1f} s wall, "
            f"{span_rate(arrivals):,.0f} req/s on the server's clock, first request "
            f"{arrivals[0] - measured.started:.2f} s after start, CPU "
            f"{measured.cpu_s / RUN_ROWS * 1e6:.0f} us/row",
        ]
    return section
