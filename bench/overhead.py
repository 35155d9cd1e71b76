"""Item 1, overhead: batch-cancel's throughput against a minimal aiohttp loop.

20,000 rows, no server latency, no rate limit, 64 in flight. Three programs,
each a subprocess against a fresh sandbox: batch-cancel as a user runs it (the
ledger on, in a fresh state file), batch-cancel with `--no-state`, and the
minimal aiohttp loop (bench/minimal_aiohttp.py: the same session settings and
body, nothing else). The ratio is taken on the server's clock, from the first
arrival to the last, so interpreter start-up does not count on either side
(batch-cancel imports more modules than the loop); wall times including
start-up are shown too. Each program runs REPEATS times, interleaved, and its
best run counts.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .common import (
    PYTHON,
    ROOT,
    Measured,
    Row,
    Sandbox,
    Section,
    batch_cancel,
    check_all_cancelled,
    clean_env,
    cli_env,
    run_measured,
    shell_line,
    span_rate,
    verdict,
    workdir,
    write_orders,
)

ROWS = 20_000
CONCURRENCY = 64
REPEATS = 2
TARGET_RATIO = 0.8
TIMEOUT_S = 240.0


@dataclass(frozen=True)
class Trial:
    measured: Measured
    server_rate: float  # requests/s, first to last arrival on the server's clock
    first_request_s: float  # process start to the first arrival

    @property
    def cpu_us_per_row(self) -> float:
        return self.measured.cpu_s / ROWS * 1e6

    def describe(self) -> str:
        return (
            f"{self.server_rate:,.0f} req/s, wall {self.measured.wall_s:.2f} s, "
            f"CPU {self.cpu_us_per_row:.0f} us/row, peak RSS {self.measured.peak_rss_mb:.0f} MB"
        )


@dataclass(frozen=True)
class Contender:
    name: str
    trials: list[Trial]

    @property
    def best(self) -> Trial:
        return max(self.trials, key=lambda t: t.server_rate)

    @property
    def best_wall_s(self) -> float:
        return min(t.measured.wall_s for t in self.trials)


@cache
def run_help() -> str:
    """`batch-cancel run --help`, to see which ledger flags this version has."""
    done = subprocess.run(
        [PYTHON, "-m", "batch_cancel", "run", "--help"],
        capture_output=True,
        text=True,
        env=clean_env(),
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    return done.stdout


def has_ledger() -> bool:
    return "--state" in run_help()


def batch_cancel_command(
    url: str, orders: Path, output: Path, *extra: str, concurrency: int = CONCURRENCY
) -> list[str]:
    return batch_cancel(
        "run",
        orders,
        "-o",
        output,
        "--base-url",
        url,
        "--rate",
        "0",
        "--concurrency",
        str(concurrency),
        "-q",
        *extra,
    )


def trial(
    directory: Path,
    tag: str,
    extra: tuple[str, ...],
    *,
    minimal: bool = False,
    concurrency: int = CONCURRENCY,
    latency_ms: int = 0,
) -> Trial:
    """One run of `ROWS` fresh orders against a fresh sandbox."""
    orders = write_orders(directory / f"{tag}.csv", ROWS, tag.upper().replace("-", ""))
    with Sandbox(["--latency-ms", str(latency_ms)]) as sandbox:
        if minimal:
            command = [PYTHON, "-m", "bench.minimal_aiohttp", sandbox.url, str(orders)]
            command.append(str(concurrency))
        else:
            output = directory / f"{tag}.results.csv"
            command = batch_cancel_command(
                sandbox.url, orders, output, *extra, concurrency=concurrency
            )
        env = cli_env(directory / f"{tag}.ledger.sqlite3")
        measured = run_measured(command, timeout_s=TIMEOUT_S, env=env).check(tag)
        stats = sandbox.stats()
    check_all_cancelled(stats, ROWS, tag)
    arrivals = sorted(stats["arrivals"])
    return Trial(measured, span_rate(arrivals), arrivals[0] - measured.started)


# Item 5 reads item 1's runs instead of repeating them (by the number in flight).
LAST: dict[int, dict[str, Contender]] = {}


def measure(concurrency: int = CONCURRENCY) -> dict[str, Contender]:
    """The three programs, REPEATS runs each, interleaved, at `concurrency` in flight."""
    if concurrency in LAST:
        return LAST[concurrency]
    ledger = has_ledger()
    kinds: list[tuple[str, tuple[str, ...], bool]] = [("default", (), False)]
    if ledger and "--no-state" in run_help():
        kinds.append(("no-state", ("--no-state",), False))
    kinds.append(("minimal", (), True))
    trials: dict[str, list[Trial]] = {name: [] for name, _, _ in kinds}
    with workdir() as directory:
        for repeat in range(REPEATS):
            for name, extra, minimal in kinds:
                tag = f"{name}-{concurrency}-{repeat}"
                found = trial(directory, tag, extra, minimal=minimal, concurrency=concurrency)
                trials[name].append(found)
    LAST[concurrency] = {name: Contender(name, found) for name, found in trials.items()}
    return LAST[concurrency]


def run() -> Section:
    section = Section("1. Overhead")
    contenders = measure()
    floor = contenders["minimal"]
    ledger = has_ledger()
    shown = [("default", "batch-cancel" + (" (ledger on, the default)" if ledger else ""))]
    if "no-state" in contenders:
        shown.append(("no-state", "batch-cancel --no-state"))
    for key, label in shown:
        ours = contenders[key]
        ratio = ours.best.server_rate / floor.best.server_rate
        section.rows.append(
            Row(
                "1 overhead",
                f"{label} / minimal aiohttp loop, throughput (server clock)",
                f"{ratio:.2f} ({ours.best.server_rate:,.0f} vs "
                f"{floor.best.server_rate:,.0f} req/s)",
                f">= {TARGET_RATIO}",
                verdict(ratio >= TARGET_RATIO),
            )
        )
    fastest = max((contenders[key] for key, _ in shown), key=lambda c: c.best.server_rate)
    section.rows += [
        Row(
            "1 overhead",
            f"{'--no-state' if fastest.name == 'no-state' else 'same'}: wall time incl. "
            "start-up, minimal loop / batch-cancel",
            f"{floor.best_wall_s / fastest.best_wall_s:.2f} "
            f"({fastest.best_wall_s:.1f} s vs {floor.best_wall_s:.1f} s)",
        ),
        Row(
            "1 overhead",
            "client CPU per row: " + ", ".join(label for _, label in shown) + ", minimal loop",
            " vs ".join(f"{contenders[key].best.cpu_us_per_row:.0f}" for key, _ in shown)
            + f" vs {floor.best.cpu_us_per_row:.0f} us",
        ),
    ]
    for key, label in [*shown, ("minimal", "minimal aiohttp loop")]:
        runs = "; ".join(t.describe() for t in contenders[key].trials)
        section.details.append(f"{label}: {runs}")
        section.commands.append(shell_line(contenders[key].best.measured.command))
    return section
