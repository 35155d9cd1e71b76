"""`validate`'s pipeline, and the checks a run that sends nothing shares with it.

An export read as `run` would read it (loader), every row's verdict counted and, with
`-o`, written as a dry run's results; nothing here sends, or opens the ledger.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from .config import NightFile, default_results_path
from .errors import ConfigError, InputFileError
from .formats.results_csv import ResultsWriter
from .loader import OrdersFile
from .models import LoadedRow, LocalCode, Outcome, RowResult
from .schema import is_results_header

WRITTEN_BY_US = (
    "written by batch-cancel (its header has the results columns: a results, dry-run or "
    "needs-attention CSV), never read as an export"
)
RESEND_WITH_ONLY = "to send some of its rows again, add --only STATUS (e.g. --only failed,not_sent)"


@dataclass(frozen=True)
class Problem:
    """A row that is invalid or a duplicate, or a value that will be shortened (a note)."""

    line: int
    source_row: int
    order_no: str
    what: str  # the row's status, or "note"
    message: str


@dataclass
class Validation:
    """One export read through: its problems as they are met, then its counts."""

    orders: OrdersFile
    output: Path | None
    counts: Counter[Outcome] = field(default_factory=Counter)

    @classmethod
    def open(cls, night_file: NightFile, output: Path | None) -> Validation:
        if output is not None:
            refuse_to_replace_live_results(output, night_file.input.path)
        orders = OrdersFile(night_file.input)
        refuse_our_output(orders)
        return cls(orders, output)

    def problems(self) -> Iterator[Problem]:
        """Every row read (and written to `output` as a dry run's), its problems yielded."""
        orders = self.orders
        with contextlib.ExitStack() as stack:
            writer = (
                stack.enter_context(ResultsWriter(self.output, orders.header))
                if self.output
                else None
            )
            for row in orders.rows():
                problem = (
                    row.verdict.error_message
                    if row.verdict
                    else row.request.note
                    if row.request
                    else ""
                )
                # a valid row would be sent: NOT_SENT, as a dry run writes it
                status = row.verdict.status if row.verdict else Outcome.NOT_SENT
                self.counts[status] += 1
                if writer is not None:
                    writer.add(row, row.verdict or dry_run_result(row))
                if problem:
                    what = status.value if row.verdict else "note"
                    order = orders.order_no_of(row)
                    yield Problem(orders.line, row.source_row, order, what, problem)


def dry_run_result(row: LoadedRow) -> RowResult:
    note = row.request.note if row.request else ""
    return RowResult(
        source_row=row.source_row,
        status=Outcome.NOT_SENT,
        error_code=LocalCode.DRY_RUN,
        error_message="; ".join(filter(None, ["dry run: valid and would be sent", note])),
    )


def refuse_our_output(opened: OrdersFile) -> None:
    """A file batch-cancel wrote, named as an export, is refused: its rows were sent once."""
    if is_results_header(opened.header):
        raise InputFileError(f"{opened.path}: {WRITTEN_BY_US}; {RESEND_WITH_ONLY}")


def refuse_to_replace_live_results(output: Path, input_path: Path) -> None:
    """A run that sends nothing never replaces a results file a live run may have written."""
    if output.exists() and not output.name.endswith(".dry-run.csv"):
        raise ConfigError(
            f"a dry run does not replace {output}, which may hold a live run's "
            f"results; leave out -o (it writes "
            f"{default_results_path(input_path, dry_run=True).name}) or name a new file"
        )
