"""Item 8, the re-run: 100,000 rows an earlier run cancelled, every one `skipped`.

One run of 100,000 fresh orders at full speed (no rate limit, 64 in flight) fills
a fresh ledger; then the same file is run again REPEATS times against the same
ledger: nothing is sent, every row is looked up, reported `skipped` and recorded.
`--dry-run` on the same file (validated and written, no ledger, nothing sent) is
measured beside it. Rows per second are over the whole process, start-up included;
the best run counts. The target is 1.4 s per 100,000 rows (the earlier 100,000 rows/s
is retired: a nightly re-run has no use for it).
"""

from __future__ import annotations

from .common import (
    BenchError,
    Measured,
    Row,
    Sandbox,
    Section,
    batch_cancel,
    check_all_cancelled,
    cli_env,
    run_measured,
    shell_line,
    verdict,
    workdir,
    write_orders,
)
from .overhead import batch_cancel_command

ROWS = 100_000
REPEATS = 3
TARGET_S = 1.4  # per ROWS rows, start-up included
TIMEOUT_S = 600.0


def run() -> Section:
    section = Section("8. Skip path")
    with workdir() as directory, Sandbox() as sandbox:
        orders = write_orders(directory / "skip.csv", ROWS, "SKIP")
        env = cli_env(directory / "skip.ledger.sqlite3")
        first = batch_cancel_command(sandbox.url, orders, directory / "first.results.csv")
        run_measured(first, timeout_s=TIMEOUT_S, env=env).check("first run")
        check_all_cancelled(sandbox.stats(), ROWS, "first run")
        rerun = batch_cancel_command(sandbox.url, orders, directory / "rerun.results.csv")
        reruns: list[Measured] = []
        dry_runs: list[Measured] = []
        for repeat in range(REPEATS):
            reruns.append(run_measured(rerun, timeout_s=TIMEOUT_S, env=env).check("re-run"))
            # A dry run never replaces a results file: a new name each time.
            output = directory / f"dry-{repeat}.results.csv"
            dry = batch_cancel("run", orders, "-o", output, "--dry-run", "-q")
            dry_runs.append(run_measured(dry, timeout_s=TIMEOUT_S, env=env).check("dry run"))
        if len(sandbox.stats()["arrivals"]) != ROWS:
            raise BenchError("the re-run sent requests: the ledger did not skip every row")
        skipped = (
            (directory / "rerun.results.csv").read_text(encoding="utf-8-sig").count(",skipped,")
        )
        if skipped != ROWS:
            raise BenchError(f"the re-run reported {skipped:,} rows skipped, not {ROWS:,}")
    fastest = min(reruns, key=lambda measured: measured.wall_s)
    fastest_dry = min(dry_runs, key=lambda measured: measured.wall_s)
    rate = ROWS / fastest.wall_s
    section.rows += [
        Row(
            "8 skip",
            f"re-run of {ROWS:,} rows, all skipped, rows/s incl. start-up",
            f"{rate:,.0f} rows/s ({fastest.wall_s:.2f} s, {fastest.peak_rss_mb:.0f} MB)",
            f"<= {TARGET_S} s",
            verdict(fastest.wall_s <= TARGET_S),
        ),
        Row(
            "8 skip",
            f"--dry-run of the same {ROWS:,} rows, rows/s incl. start-up",
            f"{ROWS / fastest_dry.wall_s:,.0f} rows/s ({fastest_dry.wall_s:.2f} s)",
        ),
    ]
    section.details += [
        "re-runs: " + ", ".join(f"{measured.wall_s:.2f} s" for measured in reruns),
        "dry runs: " + ", ".join(f"{measured.wall_s:.2f} s" for measured in dry_runs),
    ]
    section.commands += [shell_line(first), shell_line(fastest.command)]
    section.commands.append(shell_line(fastest_dry.command))
    return section
