"""Item 6, `--rate auto` against a hidden limit: a sandbox that answers 429 above 40/s
(20 ms latency), 5,000 rows.

- `--rate auto` (a first night: it starts at 5/s): wall time against rows / 40, the
  share of requests answered 429;
- fixed `--rate 40` (a user who guessed right), the same rows;
- fixed `--rate 5` (the default): its wall time is rows / 5 by construction (1,000 s
  for 5,000 rows), so 500 rows are run and the 5,000-row time is that rate's;
- the limit dropping from 40/s to 15/s 60 s in (3,000 rows): how long after the drop
  the arrivals stay at or under 15 in every one-second window.
Wall time is measured around the process; arrivals and 429s on the server's clock.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from .common import (
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

LIMIT = 40
LATENCY_MS = 20
ROWS = 5_000
SLOW_ROWS = 500
DROP_ROWS = 3_000
DROP_SCHEDULE = "40,15@60"
DROP_AT_S, DROPPED_TO = 60.0, 15
TARGET_WALL_RATIO = 1.15
TARGET_429_SHARE = 0.02
TARGET_SETTLE_S = 10.0
SETTLED_S = 5.0
CONCURRENCY = 8


def _run(
    directory: Path, rows: int, rate: str, limit: str, name: str
) -> tuple[float, dict[str, Any], str]:
    with Sandbox(["--rate-limit", limit, "--latency-ms", str(LATENCY_MS)]) as sandbox:
        orders = write_orders(directory / f"{name}.csv", rows, name.upper())
        command = batch_cancel(
            "run",
            orders,
            "-o",
            directory / f"{name}.results.csv",
            "--base-url",
            sandbox.url,
            "--rate",
            rate,
            "--concurrency",
            str(CONCURRENCY),
            "-q",
        )
        measured = run_measured(
            command,
            timeout_s=rows / 2 + 120,
            env=cli_env(directory / f"{name}.ledger.sqlite3"),
        )
        measured.check(name)
        stats = sandbox.stats()
        if stats["answers"].get("200") != rows:
            raise RuntimeError(f"{name}: {stats['answers']} answers for {rows} rows")
        return measured.wall_s, stats, shell_line(command)


def _share_429(stats: dict[str, Any]) -> float:
    return stats["answers"].get("429", 0) / max(len(stats["arrivals"]), 1)


def _settled_after_drop(stats: dict[str, Any]) -> float | None:
    """Seconds from the drop until the pace is back under the new limit: the start of the
    first SETTLED_S-long stretch in which no one-second window holds more than it.
    (A later brief probe above it is how a raised limit would be found, not a relapse.)"""
    arrivals = sorted(stats["arrivals"])
    drop = arrivals[0] + DROP_AT_S
    low = 0
    over: list[float] = []
    for high, arrived in enumerate(arrivals):
        while arrivals[low] <= arrived - 1.0:
            low += 1
        if arrived >= drop and high - low + 1 > DROPPED_TO:
            over.append(arrived)
    if arrivals[-1] < drop + SETTLED_S:
        return None
    marks = [drop, *over, arrivals[-1]]
    for before, after in itertools.pairwise(marks):
        if after - before >= SETTLED_S:
            return before - drop
    return None


def run() -> Section:
    section = Section("6. --rate auto against a hidden limit")
    ideal_s = ROWS / LIMIT
    with workdir() as directory:
        auto_s, auto, auto_command = _run(directory, ROWS, "auto", str(LIMIT), "auto")
        fixed_s, fixed, _ = _run(directory, ROWS, str(LIMIT), str(LIMIT), "fixed40")
        slow_s, slow, _ = _run(directory, SLOW_ROWS, "5", str(LIMIT), "fixed5")
        drop_s, drop, drop_command = _run(directory, DROP_ROWS, "auto", DROP_SCHEDULE, "drop")
    settled = _settled_after_drop(drop)
    slow_at_rows = slow_s * ROWS / SLOW_ROWS
    section.rows += [
        Row(
            "6 auto",
            f"--rate auto, {ROWS} rows, limit {LIMIT}/s: wall vs rows / {LIMIT} ({ideal_s:.0f} s)",
            f"{auto_s:.1f} s ({auto_s / ideal_s:.2f}x)",
            f"<= {TARGET_WALL_RATIO}x",
            verdict(auto_s <= TARGET_WALL_RATIO * ideal_s),
        ),
        Row(
            "6 auto",
            "--rate auto: share of requests answered 429",
            f"{_share_429(auto):.2%} ({auto['answers'].get('429', 0)})",
            f"<= {TARGET_429_SHARE:.0%}",
            verdict(_share_429(auto) <= TARGET_429_SHARE),
        ),
        Row(
            "6 auto",
            f"fixed --rate {LIMIT} (guessed right): wall, 429 share",
            f"{fixed_s:.1f} s ({fixed_s / ideal_s:.2f}x), {_share_429(fixed):.2%}",
        ),
        Row(
            "6 auto",
            f"fixed --rate 5 (the default): {SLOW_ROWS} rows measured, {ROWS} at that rate",
            f"{slow_s:.1f} s; {slow_at_rows:.0f} s ({slow_at_rows / ideal_s:.1f}x), "
            f"{_share_429(slow):.2%}",
        ),
        Row(
            "6 auto",
            f"limit {DROP_SCHEDULE}: back under {DROPPED_TO}/s (for {SETTLED_S:.0f} s on end) "
            "after the drop",
            "never over" if settled == 0 else f"{settled:.1f} s" if settled is not None else "n/a",
            f"<= {TARGET_SETTLE_S:.0f} s",
            verdict(settled is not None and settled <= TARGET_SETTLE_S),
        ),
    ]
    section.details.append(
        f"--rate auto: {len(auto['arrivals'])} requests; busiest second {auto['busiest_second']}; "
        f"the drop run: {drop_s:.1f} s wall for {DROP_ROWS} rows, "
        f"{_share_429(drop):.2%} answered 429"
    )
    section.commands += [auto_command, drop_command]
    return section
