"""Item 9, `--rate auto` against the limits gateways use: every kind of sandbox limit
(`--limit-kind`) x a limit drawn at random between 20 and 200/s (seeded, printed) x 20 ms
and 150 ms latency, 64 in flight, `--max-rate 1000` (out of the way).

Each cell is two nights against one sandbox and one ledger: a first night (from 5/s,
WARM_S at the limit) that teaches the ledger a pace, then the measured night (NIGHT_S
at the limit; MINUTE_NIGHT_S for a per-minute quota, so that the quota runs out once)
starting from the remembered pace. Per night: the sending time (the night's first
arrival to its last answer, on the server's clock) against rows / limit, and the share
of requests refused (429 or 503). The wall time around the process (start-up and the
summary included) is in the details. `BENCH_SEED` changes the draw; `BENCH_CELLS`
(e.g. `window:20,queue:150`) runs only some cells.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path

from .common import (
    BenchError,
    Row,
    Sandbox,
    Section,
    batch_cancel,
    cli_env,
    run_measured,
    shell_line,
    verdict,
    workdir,
    write_orders,
)

KINDS = ("window", "bucket", "minute", "503", "queue")
LATENCIES_MS = (20, 150)
LOWEST, HIGHEST = 20, 200
SEED = 27
WARM_S = 8
NIGHT_S = 20
MINUTE_NIGHT_S = 75
CONCURRENCY = 64
MAX_RATE = 1000
TARGET_RATIO = 1.10
TARGET_REFUSED = 0.02
REFUSALS = ("429", "503")


@dataclass(frozen=True)
class Night:
    rows: int
    span_s: float  # first arrival to last answer, server clock
    wall_s: float
    requests: int
    refused: int

    def ratio(self, limit: int) -> float:
        return self.span_s / (self.rows / limit)

    @property
    def refused_share(self) -> float:
        return self.refused / max(self.requests, 1)


def draw_limits(seed: int) -> dict[tuple[str, int], int]:
    draw = random.Random(seed)
    return {
        (kind, latency): draw.randint(LOWEST, HIGHEST) for kind in KINDS for latency in LATENCIES_MS
    }


def _night(
    directory: Path, sandbox: Sandbox, name: str, rows: int, latency_ms: int
) -> tuple[Night, str]:
    orders = write_orders(directory / f"{name}.csv", rows, name.upper())
    command = batch_cancel(
        "run",
        orders,
        "-o",
        directory / f"{name}.results.csv",
        "--base-url",
        sandbox.url,
        "--rate",
        "auto",
        "--max-rate",
        str(MAX_RATE),
        "--concurrency",
        str(CONCURRENCY),
        "-q",
    )
    measured = run_measured(
        command, timeout_s=rows / 5 + 180, env=cli_env(directory / "ledger.sqlite3")
    )
    measured.check(name)
    prefix = name.upper() + "-"
    events = [event for event in sandbox.stats()["events"] if event[1].startswith(prefix)]
    statuses = [str(status) for _, _, status in events]
    if statuses.count("200") != rows:
        raise BenchError(f"{name}: {statuses.count('200')} answered 200 for {rows} rows")
    arrivals = [arrived for arrived, _, _ in events]
    span = max(arrivals) - min(arrivals) + latency_ms / 1000
    refused = sum(statuses.count(code) for code in REFUSALS)
    return Night(rows, span, measured.wall_s, len(events), refused), shell_line(command)


def run_cell(directory: Path, kind: str, limit: int, latency_ms: int) -> tuple[Night, Night, str]:
    """The first night and the measured night of one cell."""
    flags = ["--rate-limit", str(limit), "--limit-kind", kind, "--latency-ms", str(latency_ms)]
    cell = directory / f"{kind}-{latency_ms}"
    cell.mkdir()
    night_s = MINUTE_NIGHT_S if kind == "minute" else NIGHT_S
    with Sandbox(flags) as sandbox:
        first, _ = _night(cell, sandbox, "first", WARM_S * limit, latency_ms)
        second, command = _night(cell, sandbox, "second", night_s * limit, latency_ms)
    return first, second, command


def _cells(limits: dict[tuple[str, int], int]) -> list[tuple[str, int]]:
    wanted = os.environ.get("BENCH_CELLS", "")
    if not wanted:
        return list(limits)
    cells = [
        (kind, int(latency)) for kind, _, latency in (c.partition(":") for c in wanted.split(","))
    ]
    return [cell for cell in cells if cell in limits]


def run() -> Section:
    section = Section("9. --rate auto against the limits gateways use")
    seed = int(os.environ.get("BENCH_SEED", SEED))
    limits = draw_limits(seed)
    section.details.append(
        f"seed {seed}: limits "
        + ", ".join(f"{kind} {latency} ms {limit}/s" for (kind, latency), limit in limits.items())
    )
    with workdir() as directory:
        for kind, latency in _cells(limits):
            limit = limits[kind, latency]
            print(f"  {kind} {latency} ms, limit {limit}/s ...", flush=True)
            first, second, command = run_cell(directory, kind, limit, latency)
            ratio, refused = second.ratio(limit), second.refused_share
            section.rows.append(
                Row(
                    "9 limits",
                    f"{kind}, {limit}/s, {latency} ms: 2nd night time / (rows / limit), refused",
                    f"{ratio:.2f}x, {refused:.1%} (1st night {first.ratio(limit):.2f}x, "
                    f"{first.refused_share:.1%})",
                    f"<= {TARGET_RATIO:.2f}x, <= {TARGET_REFUSED:.0%}",
                    verdict(ratio <= TARGET_RATIO and refused <= TARGET_REFUSED),
                )
            )
            section.details.append(
                f"{kind} {limit}/s {latency} ms: 1st night {first.rows} rows, "
                f"{first.span_s:.1f} s sending, {first.wall_s:.1f} s wall, {first.refused} of "
                f"{first.requests} refused; 2nd night {second.rows} rows, {second.span_s:.1f} s "
                f"sending ({second.rows / limit:.1f} s at the limit), {second.wall_s:.1f} s wall "
                f"({second.wall_s / (second.rows / limit):.2f}x), {second.refused} of "
                f"{second.requests} refused"
            )
            if not section.commands:
                section.commands.append(command)
    return section
