"""Item 5, ledger cost: throughput, WAL bytes per row, and size after 30 nights.

- Throughput at a real API's latency, the target: batch-cancel as a user runs it (the
  ledger on, a fresh state file per run) against the minimal aiohttp loop, each against
  a fresh sandbox answering after 20 ms, 20,000 rows, no rate limit, 32 in flight,
  REPEATS runs each interleaved, the best counting, compared on the server's clock.
- Throughput at 0 ms on loopback (figures, no target: no API answers that fast): the
  same with `--no-state` beside them, at 32 and at 64 in flight (item 1's runs are
  the 64 ones).
- WAL bytes per row: one run of 10,000 fresh orders at 32 in flight under
  `strace -f -e trace=pwrite64,write -y`; the bytes of every write to the ledger's
  `-wal` file are summed and divided by the rows ("n/a" without strace).
- Size after 30 nights: 30 runs of 1,000 fresh orders each, written through
  `RunRecord` in an event loop as `run` writes them (an attempt, its answer and the
  row's outcome per row; order numbers that grow night by night, as marketplaces
  number them), then a WAL checkpoint; the ledger file's size.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import sqlite3
from pathlib import Path

from batch_cancel.ledger import Ledger
from batch_cancel.models import ApiAnswer, CancelRequest, Outcome, RowResult, utc_now

from .common import (
    BenchError,
    Row,
    Sandbox,
    Section,
    check_all_cancelled,
    cli_env,
    run_measured,
    shell_line,
    verdict,
    workdir,
    write_orders,
)
from .overhead import (
    REPEATS,
    ROWS,
    Trial,
    batch_cancel_command,
    has_ledger,
    measure,
    run_help,
    trial,
)

TARGET_RATIO = 0.95  # of the minimal loop's throughput, at 20 ms latency and 32 in flight
LATENCY_MS = 20
LATENCY_CONCURRENCY = 32
TARGET_WAL_BYTES = 1_500
WAL_ROWS = 10_000
WAL_CONCURRENCY = 32
NIGHTS = 30
NIGHT_ROWS = 1_000
TIMEOUT_S = 600.0
_WRITE = re.compile(r"^\d+\s+(?:pwrite64|write)\(\d+<([^>]*)>.*\)\s+=\s+(\d+)$")


def run() -> Section:
    section = Section("5. Ledger cost")
    if not has_ledger() or "--no-state" not in run_help():
        section.rows.append(
            Row("5 ledger", "throughput with / without the ledger", "n/a (no ledger)", "", "n/a")
        )
        return section
    _at_latency(section)
    for concurrency in (32, 64):
        _throughput(section, concurrency)
    _wal_bytes(section)
    _size_after_nights(section)
    return section


def _at_latency(section: Section) -> None:
    found: dict[str, list[Trial]] = {"default": [], "minimal": []}
    with workdir() as directory:
        for repeat in range(REPEATS):
            for name in found:
                tag = f"{name}-{LATENCY_MS}ms-{repeat}"
                found[name].append(
                    trial(
                        directory,
                        tag,
                        (),
                        minimal=name == "minimal",
                        concurrency=LATENCY_CONCURRENCY,
                        latency_ms=LATENCY_MS,
                    )
                )
    on, floor = (max(found[name], key=lambda t: t.server_rate) for name in found)
    ratio = on.server_rate / floor.server_rate
    section.rows.append(
        Row(
            "5 ledger",
            f"ledger on / minimal loop, {ROWS:,} rows, {LATENCY_MS} ms latency, "
            f"{LATENCY_CONCURRENCY} in flight (server clock)",
            f"{ratio:.2f} ({on.server_rate:,.0f} vs {floor.server_rate:,.0f} req/s)",
            f">= {TARGET_RATIO}",
            verdict(ratio >= TARGET_RATIO),
        )
    )
    for name, trials in found.items():
        runs = "; ".join(t.describe() for t in trials)
        section.details.append(f"{LATENCY_MS} ms, {LATENCY_CONCURRENCY} in flight, {name}: {runs}")


def _throughput(section: Section, concurrency: int) -> None:
    contenders = measure(concurrency)
    on, off, floor = (contenders[name].best for name in ("default", "no-state", "minimal"))
    ratio = on.server_rate / floor.server_rate
    section.rows += [
        Row(
            "5 ledger",
            f"ledger on / minimal loop, {ROWS:,} rows at {concurrency} in flight, 0 ms",
            f"{ratio:.2f} ({on.server_rate:,.0f} vs {floor.server_rate:,.0f} req/s)",
        ),
        Row(
            "5 ledger",
            f"--no-state / minimal loop, throughput at {concurrency} in flight",
            f"{off.server_rate / floor.server_rate:.2f} ({off.server_rate:,.0f} req/s)",
        ),
        Row(
            "5 ledger",
            f"client CPU per row at {concurrency}: ledger on, --no-state, minimal loop",
            f"{on.cpu_us_per_row:.0f} vs {off.cpu_us_per_row:.0f} vs {floor.cpu_us_per_row:.0f} us",
        ),
    ]
    for name in ("default", "no-state", "minimal"):
        runs = "; ".join(t.describe() for t in contenders[name].trials)
        section.details.append(f"{concurrency} in flight, {name}: {runs}")
    if concurrency != 64:  # item 1 lists the 64 commands
        section.commands += [
            shell_line(contenders[name].best.measured.command) for name in ("default", "minimal")
        ]


def _wal_bytes(section: Section) -> None:
    measure_name = f"WAL bytes per row, {WAL_ROWS:,} rows at {WAL_CONCURRENCY} in flight"
    strace = shutil.which("strace")
    if strace is None:
        section.rows.append(Row("5 ledger", measure_name, "n/a (strace not installed)", "", "n/a"))
        return
    with workdir() as directory, Sandbox() as sandbox:
        orders = write_orders(directory / "wal.csv", WAL_ROWS, "WAL")
        state = directory / "wal.ledger.sqlite3"
        trace = directory / "wal.trace"
        command = batch_cancel_command(
            sandbox.url, orders, directory / "wal.results.csv", concurrency=WAL_CONCURRENCY
        )
        traced = [strace, "-f", "-qq", "-e", "trace=pwrite64,write", "-y", "-o", str(trace)]
        run_measured([*traced, *command], timeout_s=TIMEOUT_S, env=cli_env(state)).check("wal")
        check_all_cancelled(sandbox.stats(), WAL_ROWS, "wal")
        wal = database = 0
        for line in trace.read_text(errors="replace").splitlines():
            match = _WRITE.match(line)
            if match is None:
                continue
            path, written = match.group(1), int(match.group(2))
            if path.endswith(".sqlite3-wal"):
                wal += written
            elif path.endswith(".sqlite3"):
                database += written
        size = state.stat().st_size
    if wal == 0:
        raise BenchError("strace saw no write to the ledger's WAL")
    per_row = wal / WAL_ROWS
    section.rows.append(
        Row(
            "5 ledger",
            measure_name,
            f"{per_row:,.0f} B (database file {database / WAL_ROWS:,.0f} B; {size / 1e6:.2f} MB)",
            f"<= {TARGET_WAL_BYTES:,}",
            verdict(per_row <= TARGET_WAL_BYTES),
        )
    )
    section.commands.append(shell_line([*traced[:-1], "$TMP/wal.trace", *command]))


async def _night(ledger: Ledger, night: int) -> None:
    record = ledger.start_run(
        input_path=Path(f"night-{night:02d}.csv"),
        options={},
        account=ledger.account("https://api.shipper.example", "bench-key"),
    )
    for row in range(1, NIGHT_ROWS + 1):
        order_no = f"SHP-2611{night:02d}{row:05d}"
        request = CancelRequest(row, order_no, "WH-TGR04", "Cancelled from marketplace")
        attempt_id = record.attempt_started(request, 1)
        await record.durable()
        record.attempt_answered(
            attempt_id, ApiAnswer(200, request_id=f"rq-{night}-{row}"), cancelled=True
        )
        record.record_outcome(
            RowResult(
                row,
                Outcome.CANCELLED,
                200,
                attempts=1,
                request_id=f"rq-{night}-{row}",
                finished_at=utc_now(),
            ),
            order_no,
            "WH-TGR04",
        )
        if row % 32 == 0:
            await asyncio.sleep(0)  # a pass of the loop, as answers arrive in a run
    record.end(0)


def _size_after_nights(section: Section) -> None:
    with workdir() as directory:
        path = directory / "nights.sqlite3"
        ledger = Ledger(path)
        try:
            for night in range(1, NIGHTS + 1):
                asyncio.run(_night(ledger, night))
        finally:
            ledger.close()
        with sqlite3.connect(path) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = path.stat().st_size
    per_night = size / NIGHTS
    section.rows.append(
        Row(
            "5 ledger",
            f"ledger size after {NIGHTS} nights of {NIGHT_ROWS:,} rows",
            f"{size / 1e6:.2f} MB ({per_night / 1e6:.3f} MB a night: "
            f"{per_night * 180 / 1e6:.0f} MB at 180 days, {per_night * 365 / 1e6:.0f} MB a year)",
        )
    )
    section.details.append(
        f"{NIGHTS} nights written through RunRecord in the benchmark's own process: "
        f"{size:,} bytes after a checkpoint"
    )
