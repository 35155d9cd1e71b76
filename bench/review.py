"""Item 7, the morning review at scale: `summarize` and `report` on 1,000,000 rows.

Two results files of 1,000,000 rows each are written through `ResultsWriter`, as
`run` writes them: every row `cancelled` (a good night) and every row `not_sent`
with its code and message (a night the API was down: every row needs attention).
`batch-cancel summarize FILE` and `batch-cancel report FILE -o PAGE` each run
REPEATS times as subprocesses; the best run counts. Rows per second are over the
whole process (start-up included); peak RSS from wait4; the page's size in bytes.
"""

from __future__ import annotations

from pathlib import Path

from batch_cancel.formats.results_csv import ResultsWriter
from batch_cancel.models import CancelRequest, LoadedRow, LocalCode, Outcome, RowResult, utc_now

from .common import (
    CANCEL_REASON,
    WAREHOUSE_ID,
    BenchError,
    Measured,
    Row,
    Section,
    batch_cancel,
    order_no,
    run_measured,
    shell_line,
    verdict,
    workdir,
)

ROWS = 1_000_000
REPEATS = 2
TARGET_RATE = 250_000
TARGET_RSS_MB = 150
TARGET_PAGE_BYTES = 2_000_000
TIMEOUT_S = 300.0
NIGHTS = {
    "cancelled": (Outcome.CANCELLED, 200, "", ""),
    "not_sent": (
        Outcome.NOT_SENT,
        None,
        LocalCode.API_DOWN,
        "not sent: the API looked down (HTTP 503 for 60 s); re-run when it is back",
    ),
}


def write_results(path: Path, status: str) -> Path:
    outcome, http_status, code, message = NIGHTS[status]
    sent = outcome is Outcome.CANCELLED
    with ResultsWriter(path, ["order_no", "warehouse_id", "cancel_reason"]) as writer:
        for row in range(1, ROWS + 1):
            cells = (order_no("REV", row), WAREHOUSE_ID, CANCEL_REASON)
            request = CancelRequest(row, *cells)
            result = RowResult(
                row,
                outcome,
                http_status,
                code,
                message,
                attempts=1 if sent else 0,
                request_id=f"rq-{row:09d}" if sent else "",
                finished_at=utc_now(),
            )
            writer.add(LoadedRow(row, cells, request, None), result)
    return path


def best(command: list[str], what: str) -> Measured:
    # Exit 1: rows need attention (the not_sent night); 0 for the good one.
    runs = [
        run_measured(command, timeout_s=TIMEOUT_S).check(what, ok=(0, 1)) for _ in range(REPEATS)
    ]
    return min(runs, key=lambda measured: measured.wall_s)


def run() -> Section:
    section = Section("7. Review at scale")
    with workdir() as directory:
        for status in NIGHTS:
            results = write_results(directory / f"{status}.results.csv", status)
            megabytes = results.stat().st_size / 1e6
            page = directory / f"{status}.html"
            summarize = best(batch_cancel("summarize", results), f"summarize {status}")
            if f": {ROWS} row(s)," not in summarize.stdout:
                raise BenchError(f"summarize {status} did not count {ROWS:,} rows")
            report = best(batch_cancel("report", results, "-o", page), f"report {status}")
            page_bytes = page.stat().st_size
            for name, measured in (("summarize", summarize), ("report", report)):
                rate = ROWS / measured.wall_s
                section.rows += [
                    Row(
                        "7 review",
                        f"{name}, {ROWS:,} rows all {status} ({megabytes:.0f} MB), rows/s",
                        f"{rate:,.0f} rows/s ({measured.wall_s:.1f} s)",
                        f">= {TARGET_RATE:,}",
                        verdict(rate >= TARGET_RATE),
                    ),
                    Row(
                        "7 review",
                        f"{name}, all {status}, peak RSS",
                        f"{measured.peak_rss_mb:.0f} MB",
                        f"<= {TARGET_RSS_MB}",
                        verdict(measured.peak_rss_mb <= TARGET_RSS_MB),
                    ),
                ]
            section.rows.append(
                Row(
                    "7 review",
                    f"report, all {status}, HTML page",
                    f"{page_bytes / 1e3:,.0f} KB",
                    f"<= {TARGET_PAGE_BYTES / 1e6:.0f} MB",
                    verdict(page_bytes <= TARGET_PAGE_BYTES),
                )
            )
            section.commands += [shell_line(summarize.command), shell_line(report.command)]
    return section
