"""Item 3, rate fidelity: 1,500 rows at --rate 50, counted by the server.

The sandbox runs with `--rate-limit 50`, so any second holding more than 50
arrivals would also show up as 429 answers. The achieved rate is taken on the
server's clock from the first arrival to the last; the busiest window is the
most arrivals in any [t, t + 1 s).
"""

from __future__ import annotations

from .common import (
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

ROWS = 1_500
RATE = 50
TARGET_SHARE = 0.97
TIMEOUT_S = 120.0  # the run takes ROWS / RATE = 30 s


def run() -> Section:
    section = Section("3. Rate fidelity")
    with workdir() as directory, Sandbox(["--rate-limit", str(RATE)]) as sandbox:
        orders = write_orders(directory / "rate.csv", ROWS, "RATE")
        command = batch_cancel(
            "run",
            orders,
            "-o",
            directory / "rate.results.csv",
            "--base-url",
            sandbox.url,
            "--rate",
            str(RATE),
            "-q",
        )
        measured = run_measured(
            command, timeout_s=TIMEOUT_S, env=cli_env(directory / "ledger.sqlite3")
        )
        measured.check("rate run")
        stats = sandbox.stats()
        check_all_cancelled(stats, ROWS, "rate run")
        arrivals = sorted(stats["arrivals"])
        achieved = span_rate(arrivals)
        busiest = stats["busiest_second"]
        section.rows += [
            Row(
                "3 rate",
                f"achieved rate at --rate {RATE} (server clock)",
                f"{achieved:.2f}/s ({achieved / RATE:.1%})",
                f">= {TARGET_SHARE:.0%} of {RATE}",
                verdict(achieved >= TARGET_SHARE * RATE),
            ),
            Row(
                "3 rate",
                "busiest one-second window (server clock)",
                f"{busiest} requests; {stats['answers'].get('429', 0)} answered 429",
                f"<= {RATE}",
                verdict(busiest <= RATE),
            ),
        ]
        section.details.append(
            f"{ROWS} rows in {measured.wall_s:.1f} s wall; first to last arrival "
            f"{arrivals[-1] - arrivals[0]:.2f} s"
        )
        section.commands.append(shell_line(command))
    return section
