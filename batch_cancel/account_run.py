"""One account's run of the night: its options, its run record, results files and verdict.

`job.run_night` makes an `_AccountRun` per `[accounts.NAME]` (or one for a config with only
`[api]`), sends every account's rows as tasks of one event loop, and combines their outcomes.
"""

from __future__ import annotations

import logging
import signal
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from .actions import action_of
from .client import ShipperClient
from .config import (
    DEFAULT_KEEP_DAYS,
    HealthPolicy,
    NightFile,
    SendOptions,
)
from .errors import (
    LedgerError,
    RecordingError,
)
from .ledger import Ledger, RunRecord, skip_already_cancelled
from .loader import OrdersFile
from .models import (
    NEEDS_ATTENTION,
    ExitStatus,
    LoadedRow,
    Outcome,
    RowResult,
    needs_attention,
)
from .night_results import _ResultsFiles
from .outcome import ATTENTION_ROWS_SHOWN, AttentionRow, FileReport, RunOutcome, UnreadFile
from .pacing import AUTO_START_RATE, AutoPace
from .readback import statuses
from .results_file import resend_only
from .runner import RetryPolicy, RunEnd, Runner, StopReason
from .settling import _settle
from .validation import (
    dry_run_result,
)
from .wording import reason_of

if TYPE_CHECKING:
    from .configfile import Source as ConfigSource

log = logging.getLogger(__name__)

ResultListener = Callable[[LoadedRow, RowResult], None]


@asynccontextmanager
async def connected_runner(
    send: SendOptions, **options: Any
) -> AsyncIterator[tuple[ShipperClient, Runner]]:
    """One client for `send`'s API and key, and the runner that cancels and reads through it
    at `send`'s rate, concurrency and attempts (a run's accounts and `check` alike)."""
    async with ShipperClient(
        base_url=send.base_url,
        api_key=send.api_key,
        timeout_s=send.timeout_s,
        max_connections=send.concurrency,
        **({"read_path": send.read_path} if send.read_path else {}),
    ) as client:
        yield (
            client,
            Runner(
                send=client.cancel,
                read=client.read_order,
                order_statuses=statuses(send.order_statuses),
                rate=send.rate,
                concurrency=send.concurrency,
                policy=RetryPolicy(max_attempts=send.max_attempts),
                **options,
            ),
        )


class InputHashes(Protocol):
    """What a run records of its inputs (job.InputScan, which hashes them beside the run)."""

    def sha256s_of(self, paths: Sequence[Path]) -> list[str]: ...


@dataclass(frozen=True, kw_only=True)
class JobOptions:
    files: tuple[NightFile, ...]  # read in this order; one lock, ledger and rate for all
    send: SendOptions | None  # None: dry run, nothing is sent
    state_path: Path | None  # None: no ledger (no re-run protection)
    force_resend: bool = False
    already_cancelled_codes: frozenset[str] = frozenset()
    health: HealthPolicy = field(default_factory=HealthPolicy)
    # --only: the input is a results CSV; re-send rows with these old statuses, keep the rest.
    resend_only: frozenset[Outcome] = frozenset()
    keep_days: float = DEFAULT_KEEP_DAYS  # the ledger forgets what is older; 0: never
    # Sources that expected a file tonight and matched none: the night needs attention.
    empty_sources: tuple[ConfigSource, ...] = ()


@dataclass(frozen=True, kw_only=True)
class AccountJob:
    """One account's part of a night: its options (its key and rate), files and outcome's name."""

    options: JobOptions
    orders: Sequence[OrdersFile]
    unread: Sequence[UnreadFile] = ()
    name: str = ""  # [accounts.NAME]; "" in a config of one account


class _AccountRun:
    """One account's run of the night: its run record, results files, rows and verdict."""

    def __init__(self, job: AccountJob, on_result: ResultListener) -> None:
        self.job = job
        self.options = job.options
        self._on_result = on_result
        self._started = time.monotonic()
        self.run: RunRecord | None = None
        self.end = RunEnd(stop_reason=None)
        self.cancelled_elsewhere: Counter[str] = Counter()
        self.reasons: Counter[tuple[Outcome, str]] = Counter()
        self._results_failed: list[RecordingError] = []
        self.causes: defaultdict[int, Counter[str]] = defaultdict(Counter)  # by file
        self.unread = tuple(job.unread)
        self.counts: Counter[Outcome] = Counter()
        self.verdict = (ExitStatus.SUCCESS, "")
        self.pace: AutoPace | None = None  # where --rate auto starts
        self.attention_rows: list[AttentionRow] = []
        resend = self.options.resend_only
        # A list, not a generator: resend_only checks its whole file here, before any lock.
        self._per_file: list[Iterable[LoadedRow]] = [
            resend_only(opened, resend) if resend else opened.rows() for opened in job.orders
        ]

    def start(self, stack: ExitStack, ledger: Ledger | None) -> None:
        options = self.options
        if ledger is not None and options.send is not None:
            account = ledger.account(options.send.base_url, options.send.api_key)
            self.run = ledger.start_run(
                input_path=Path(" + ".join(str(f.input.path.resolve()) for f in options.files)),
                options=_loggable_options(options),
                account=account,
            )
            # Looked up file by file, so a batch never holds rows of two files.
            self._per_file = [
                skip_already_cancelled(
                    rows,
                    ledger,
                    account,
                    force_resend=options.force_resend,
                    cancelled_elsewhere=self.cancelled_elsewhere,
                )
                for rows in self._per_file
            ]
        self.results = _ResultsFiles(
            options.files,
            [opened.header for opened in self.job.orders],
            live=options.send is not None,
            run=self.run,
        )
        stack.enter_context(self.results)
        self.rows = self.results.rows(self._per_file)

    def record(self, row: LoadedRow, result: RowResult) -> None:
        if result.status in NEEDS_ATTENTION:
            self.reasons[result.status, reason_of(result)] += 1
            # A dry run's not_sent rows are its point, not a cause to act on.
            dry = self.options.send is None and result.status is Outcome.NOT_SENT
            if not dry and (action := action_of(result)) is not None:
                self.causes[row.file][action.cause] += 1
            if len(self.attention_rows) < ATTENTION_ROWS_SHOWN:
                self.attention_rows.append(self._attention_row(row, result))
        # The ledger first: it is the durable record. The CSV row is added even if
        # the ledger write fails: once the ledger is full, the results file is the
        # only record of the answers still coming in.
        ledger_failed: Exception | None = None
        if self.run is not None:
            request = row.request
            try:
                self.run.record_outcome(
                    result,
                    request.order_no if request else "",
                    request.warehouse_id if request else "",
                    row.file,
                )
            except Exception as exc:  # raised below, once the row is in the results
                ledger_failed = exc
        try:
            self.results.add(row, result)
        except RecordingError as exc:
            self._results_failed.append(exc)
            raise
        self._on_result(row, result)
        if ledger_failed is not None:
            raise ledger_failed

    def _attention_row(self, row: LoadedRow, result: RowResult) -> AttentionRow:
        return AttentionRow(
            account=self.job.name,
            input_path=self.options.files[row.file].input.path,
            source_row=row.source_row,
            order_no=row.request.order_no if row.request else "",
            status=result.status,
            reason=reason_of(result) or result.error_message or result.status.value,
        )

    def dry_run(self) -> None:
        for row in self.rows:
            self.record(row, row.verdict or dry_run_result(row))

    def start_rate(self, ledger: Ledger | None) -> AutoPace | None:
        """--rate auto starts where this account's last night ended (capped by --max-rate)."""
        send = self.options.send
        if send is None or not send.auto_rate:
            return None
        remembered = ledger.remembered_pace(self.run.account) if ledger and self.run else None
        start = remembered if remembered is not None else AUTO_START_RATE
        return AutoPace(min(start, send.max_rate), send.max_rate, remembered is not None)

    def finish(self, ledger: Ledger | None, input_scan: InputHashes) -> None:
        options, end, run = self.options, self.end, self.run
        if self.results.failure is not None:
            raise self.results.failure
        _raise_unless_results_complete(end, self._results_failed)
        # Every results file is complete and in place before the ledger's run record
        # is closed: a ledger that fails now must not cost the reviewer the results.
        self.results.close()
        written = [counts for counts in self.results.counts if counts is not None]
        self.counts = sum(written, Counter())
        self.unread = (*self.unread, *self.results.unread)
        self.verdict = _verdict(
            self.counts,
            end,
            dry_run=options.send is None,
            empty_sources=options.empty_sources,
            in_doubt=self.counts[Outcome.IN_DOUBT],
            unread=len(self.unread),
        )
        # A ledger that stopped taking writes takes nothing more: the results hold the night.
        if run is not None and ledger is not None and end.recording_error is None:
            paths = [night_file.input.path for night_file in options.files]
            run.end(self.verdict[0], input_sha256=",".join(input_scan.sha256s_of(paths)))
            if end.pace_to_remember is not None and options.send is not None:
                ledger.remember_pace(run.account, end.pace_to_remember)

    def outcome(self) -> RunOutcome:
        options, end = self.options, self.end
        broken = {item.input_path for item in self.unread}  # read in part: never archived
        files = []
        for number, (night_file, opened, file_counts, previous) in enumerate(
            zip(
                options.files,
                self.job.orders,
                self.results.counts,
                self.results.previous,
                strict=True,
            )
        ):
            if file_counts is None:
                continue
            archived, gave_up = (
                _settle(night_file, file_counts, self.causes[number], end)
                if options.send and night_file.input.path not in broken
                else (None, 0)
            )
            files.append(
                FileReport(
                    input_path=night_file.input.path,
                    results_path=archived or night_file.output,
                    source=night_file.source,
                    counts=file_counts,
                    notes=tuple(opened.notes),
                    archived_to=(night_file.archive if not gave_up else archived.parent)
                    if archived
                    else None,
                    given_up_after=gave_up,
                    previous_results=previous,
                    causes=self.causes[number],
                )
            )
        return RunOutcome(
            counts=self.counts,
            exit_status=self.verdict[0],
            headline=self.verdict[1],
            files=tuple(files),
            run_id=self.run.run_id if self.run else None,
            elapsed_s=time.monotonic() - self._started,
            end=end,
            dry_run=options.send is None,
            reasons=self.reasons,
            cancelled_elsewhere=self.cancelled_elsewhere,
            empty_sources=options.empty_sources,
            unread=self.unread,
            account=self.job.name,
            attention_rows=tuple(self.attention_rows),
        )


def _raise_unless_results_complete(end: RunEnd, results_failed: Sequence[RecordingError]) -> None:
    """A full ledger disk ends the night in order (the results are complete, exit 6); a
    results file that cannot be written cannot, and keeps its rows as .incomplete.csv."""
    error = results_failed[0] if results_failed else end.recording_error
    if error is None or (isinstance(error, LedgerError) and not results_failed):
        return
    raise RecordingError(f"cannot record results: {error}") from error


def _loggable_options(options: JobOptions) -> dict[str, Any]:
    """What a run is recorded with: everything that shaped it, never the key."""
    send = options.send
    assert send is not None
    return {
        "base_url": send.base_url,
        "rate": send.rate,
        "concurrency": send.concurrency,
        "timeout_s": send.timeout_s,
        "max_attempts": send.max_attempts,
        "force_resend": options.force_resend,
        "already_cancelled_codes": sorted(options.already_cancelled_codes),
        "files": [
            {
                "input": str(night_file.input.path),
                "output": str(night_file.output),
                "source": night_file.source,
                "column_map": dict(night_file.input.column_map),
                "default_warehouse_id": night_file.input.default_warehouse_id,
                "default_cancel_reason": night_file.input.default_cancel_reason,
            }
            for night_file in options.files
        ],
    }


def _verdict(
    counts: Counter[Outcome],
    end: RunEnd,
    *,
    dry_run: bool,
    empty_sources: Sequence[ConfigSource] = (),
    in_doubt: int = 0,
    unread: int = 0,
) -> tuple[ExitStatus, str]:
    status, headline = _rows_verdict(counts, end, dry_run=dry_run, in_doubt=in_doubt, unread=unread)
    if not empty_sources:
        return status, headline
    # An export that never came is news, however well the rest went.
    return max(
        status, ExitStatus.ROWS_NEED_ATTENTION
    ), f"{headline}; {_no_file_from(empty_sources)}"


def _no_file_from(sources: Sequence[ConfigSource]) -> str:
    return f"no file from source(s) {', '.join(source.name for source in sources)}"


def _rows_verdict(
    counts: Counter[Outcome], end: RunEnd, *, dry_run: bool, in_doubt: int, unread: int
) -> tuple[ExitStatus, str]:
    if end.recording_error is not None:  # the ledger's (the results' raises instead)
        return ExitStatus.RECORDING_FAILED, (
            f"batch-cancel: {end.recording_error}; sending stopped: "
            f"{counts[Outcome.NOT_SENT]} row(s) not sent, {in_doubt} in doubt; every answer "
            "received is in the results. Free space for the ledger, then run the same "
            "command again"
        )
    if end.internal_error:
        return (
            ExitStatus.INTERNAL_ERROR,
            f"batch-cancel: internal error: {end.internal_error}; the night did not finish: "
            "rows after it were not read",
        )
    if end.stop_reason in (StopReason.AUTH_REFUSED, StopReason.API_DOWN, StopReason.TLS_FAILED):
        return ExitStatus.API_REFUSED_OR_DOWN, f"batch-cancel: stopped: {end.stop_message}"
    if end.signal is not None:
        status = {
            signal.SIGTERM: ExitStatus.TERMINATED,
            signal.SIGHUP: ExitStatus.HANGUP,
        }.get(signal.Signals(end.signal), ExitStatus.INTERRUPTED)
        return status, f"batch-cancel: stopped: {end.stop_message}"
    if end.input_error:
        return (
            ExitStatus.USAGE_OR_INPUT,
            f"batch-cancel: input broke off, rows after the break were not read: {end.input_error}",
        )
    if unread:
        what = "dry run; nothing sent" if dry_run else "finished"
        return (
            ExitStatus.USAGE_OR_INPUT,
            f"batch-cancel: {what}; {unread} file(s) could not be read, "
            "the others were read and their results written",
        )
    attention = needs_attention(counts, dry_run=dry_run)
    if dry_run:
        valid = counts[Outcome.NOT_SENT]
        problems = f"; {attention} row(s) need attention" if attention else ""
        headline = f"batch-cancel: dry run; nothing sent: would send {valid}{problems}"
    elif attention:
        headline = f"batch-cancel: finished; {attention} row(s) need attention"
    else:
        done = counts[Outcome.CANCELLED] + counts[Outcome.SKIPPED]
        headline = f"batch-cancel: finished; all {done} order(s) cancelled"
    return (ExitStatus.ROWS_NEED_ATTENTION if attention else ExitStatus.SUCCESS), headline
