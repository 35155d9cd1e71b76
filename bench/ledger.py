"""Item 5, ledger cost: batch-cancel with and without its SQLite ledger.

Item 1's runs are reused: batch-cancel as a user runs it (the ledger on, a
fresh state file per run) against `--no-state`, compared on the server's clock,
20,000 rows, 64 in flight, no rate limit. Until `run --help` mentions
`--state` this item reports "n/a (no ledger yet)".
"""

from __future__ import annotations

from .common import Row, Section
from .overhead import ROWS, has_ledger, measure, run_help

NO_LEDGER = "n/a (no ledger yet)"


def run() -> Section:
    section = Section("5. Ledger cost")
    if not has_ledger():
        section.rows.append(
            Row("5 ledger", "throughput with / without the ledger", NO_LEDGER, "", "n/a")
        )
        return section
    if "--no-state" not in run_help():
        section.rows.append(
            Row(
                "5 ledger", "throughput with / without the ledger", "n/a (no --no-state)", "", "n/a"
            )
        )
        return section
    contenders = measure()
    on, off = contenders["default"].best, contenders["no-state"].best
    section.rows += [
        Row(
            "5 ledger",
            f"throughput with / without the ledger, {ROWS:,} rows (server clock)",
            f"{on.server_rate / off.server_rate:.2f} "
            f"({on.server_rate:,.0f} vs {off.server_rate:,.0f} req/s)",
        ),
        Row(
            "5 ledger",
            "client CPU per row with / without the ledger",
            f"{on.cpu_us_per_row:.0f} us vs {off.cpu_us_per_row:.0f} us "
            f"(+{on.cpu_us_per_row - off.cpu_us_per_row:.0f} us)",
        ),
        Row(
            "5 ledger",
            "peak RSS with / without the ledger",
            f"{on.measured.peak_rss_mb:.0f} MB vs {off.measured.peak_rss_mb:.0f} MB",
        ),
    ]
    section.details.append("the same runs as item 1 (see there for commands and every run)")
    return section
