"""One `run`, end to end: loader → ledger → runner → results CSV, under the state lock.

The CLI builds a JobOptions, calls `run_job`, and prints what comes back; this
module decides nothing about presentation. It owns the process-level parts of
a run: the state lock, the ledger's run record, SIGINT/SIGTERM/SIGHUP, and the exit status.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import signal
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .actions import action_of
from .client import ShipperClient
from .config import (
    DEFAULT_KEEP_DAYS,
    HealthPolicy,
    NightFile,
    SendOptions,
    default_results_path,
)
from .errors import (
    ClockLooksWrong,
    InputFileError,
    LedgerError,
    RecordingError,
)
from .ledger import Account, Ledger, RunRecord, skip_already_cancelled
from .loader import OrdersFile, SeenOrders
from .lock import RunLock
from .models import (
    NEEDS_ATTENTION,
    ExitStatus,
    LoadedRow,
    Outcome,
    RowResult,
    needs_attention,
)
from .night_results import _ResultsFiles, results_lock
from .outcome import ATTENTION_ROWS_SHOWN, AttentionRow, FileReport, RunOutcome, UnreadFile
from .pacing import AUTO_START_RATE, AutoPace
from .readback import statuses
from .results_file import resend_only
from .runner import RetryPolicy, RunEnd, Runner, StopReason
from .schema import is_results_header
from .settling import _settle, read_back_cancels
from .validation import (
    WRITTEN_BY_US,
    dry_run_result,
    refuse_our_output,
    refuse_to_replace_live_results,
)
from .wording import reason_of

if TYPE_CHECKING:
    from .configfile import Source as ConfigSource

log = logging.getLogger(__name__)

ResultListener = Callable[[LoadedRow, RowResult], None]


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


def empty_night(empty_sources: Sequence[ConfigSource], *, dry_run: bool = False) -> RunOutcome:
    """A night whose sources matched no file: news unless every one of them is optional."""
    if empty_sources:
        status = ExitStatus.ROWS_NEED_ATTENTION
        headline = f"batch-cancel: no file to read: {_no_file_from(empty_sources)}; nothing sent"
    else:
        status = ExitStatus.SUCCESS
        headline = "batch-cancel: nothing to do: no file matched the sources' globs"
    return RunOutcome(
        counts=Counter(),
        exit_status=status,
        headline=headline,
        files=(),
        run_id=None,
        elapsed_s=0.0,
        end=RunEnd(stop_reason=None),
        dry_run=dry_run,
        empty_sources=tuple(empty_sources),
    )


class InputScan:
    """The inputs' line count (the progress total) and sha256s (their identity in the ledger).

    Read in one thread beside the run, one file after another: hashing a 1 GB export
    takes seconds, and the first request must not wait for it; a night of many files
    must not hold many open. File reads and hashlib release the GIL, so the event
    loop hardly notices.
    """

    def __init__(self, paths: Sequence[Path], counted: Sequence[int | None] = ()) -> None:
        self._paths = tuple(paths)
        # Rows already counted (a spreadsheet, read whole to open it): their bytes hold no
        # line per row, so those files' counts are these, not their newlines.
        self._counted = tuple(counted) + (None,) * (len(self._paths) - len(counted))
        self.exact = all(count is not None for count in self._counted)
        self._rows: int | None = None
        self._sha256s: list[str] = []
        self._thread = threading.Thread(target=self._scan, name="input-scan", daemon=True)
        self._thread.start()

    def _scan(self) -> None:
        rows = 0
        for path, counted in zip(self._paths, self._counted, strict=True):
            lines, digest = 0, hashlib.sha256()
            try:
                with path.open("rb") as handle:
                    for block in iter(lambda: handle.read(1 << 20), b""):
                        lines += block.count(b"\n")
                        digest.update(block)
            except OSError as exc:  # the loader reports an unreadable file; this is only a hint
                log.debug("cannot scan %s: %s", path, exc)
                self._sha256s.append("")
                continue
            self._sha256s.append(digest.hexdigest())
            rows += max(lines - 1, 0) if counted is None else counted
        self._rows = rows

    @property
    def rows_estimate(self) -> int | None:
        """Data rows, roughly for a CSV (a quoted value may span lines), counted for a
        spreadsheet (`exact` when every file is one); None until the scan is done."""
        return self._rows

    def sha256s(self) -> list[str]:
        """Each file's sha256, once the scan is done ("" for one that could not be read)."""
        self._thread.join()
        return self._sha256s

    def sha256s_of(self, paths: Sequence[Path]) -> list[str]:
        """The sha256s of these of the scanned files (an account's), in their order."""
        by_path = dict(zip(self._paths, self.sha256s(), strict=True))
        return [by_path.get(path, "") for path in paths]


@dataclass(kw_only=True)
class OpenedNight:
    """The night's files with their headers checked, and what was left out and why."""

    files: tuple[NightFile, ...]  # the files to read, in order; `orders` matches it
    orders: list[OrdersFile]
    unread: list[UnreadFile]  # could not be read: named in the summary, status 2
    notes: list[str]  # skipped (not an export) or given another results name


def open_orders(options: JobOptions) -> OpenedNight:
    """Open and check every input's header, before anything is sent.

    A file named on the command line that cannot be read stops the command. A file a
    source's glob found is one file of the night: if it cannot be read it is reported
    by name and the others are still sent; an Excel owner file, an empty file or one
    batch-cancel wrote is skipped with a note. The files share one record of the orders
    seen, so an order in two files of the same night is sent once and its second row
    is a `duplicate` naming the first.
    """
    seen = SeenOrders()
    night = OpenedNight(files=(), orders=[], unread=[], notes=[])
    for night_file in options.files:
        if options.send is None:
            refuse_to_replace_live_results(night_file.output, night_file.input.path)
        path = night_file.input.path
        skip = _not_an_export(path) if night_file.from_glob else None
        opened = None
        if skip is None:
            try:
                opened = OrdersFile(night_file.input, file=len(night.orders), seen=seen)
            except InputFileError as exc:
                if not night_file.from_glob:
                    raise
                log.error("%s", exc)
                night.unread.append(
                    UnreadFile(input_path=path, source=night_file.source, reason=str(exc))
                )
                continue
            if options.resend_only:
                pass  # --only takes a results file, deliberately
            elif night_file.from_glob and is_results_header(opened.header):
                skip = WRITTEN_BY_US
            else:
                refuse_our_output(opened)
        if skip is not None or opened is None:
            night.notes.append(f"{path}: skipped: {skip}")
            log.warning("%s", night.notes[-1])
            continue
        usual = default_results_path(path, dry_run=options.send is None)
        if len(options.files) > 1 and night_file.output.name != usual.name:
            night.notes.append(
                f"{path}: results in {night_file.output.name}, as another input of the "
                f"night writes {usual.name}"
            )
            log.warning("%s", night.notes[-1])
        night.files += (night_file,)
        night.orders.append(opened)
    return night


def _not_an_export(path: Path) -> str | None:
    """Why a file a glob found is not an export at all (skipped with a note), or None."""
    if path.name.startswith("~$"):
        return "an Excel owner file (Excel keeps it while the workbook is open), not an export"
    try:
        empty = path.stat().st_size == 0
    except OSError:
        return None  # the loader says what is wrong with it
    return "the file is empty (0 bytes)" if empty else None


@dataclass(frozen=True, kw_only=True)
class AccountJob:
    """One account's part of a night: its options (its key and rate), files and outcome's name."""

    options: JobOptions
    orders: Sequence[OrdersFile]
    unread: Sequence[UnreadFile] = ()
    name: str = ""  # [accounts.NAME]; "" in a config of one account


def run_job(
    options: JobOptions,
    orders: Sequence[OrdersFile],
    *,
    input_scan: InputScan,
    on_result: ResultListener,
    on_pace: Callable[[Callable[[], float | None]], None] | None = None,
    unread: Sequence[UnreadFile] = (),
) -> RunOutcome:
    """One account's night (see run_night)."""
    job = AccountJob(options=options, orders=orders, unread=unread)
    return run_night([job], input_scan=input_scan, on_result=on_result, on_pace=on_pace)[0]


def run_night(
    jobs: Sequence[AccountJob],
    *,
    input_scan: InputScan,
    on_result: ResultListener,
    on_pace: Callable[[Callable[[], float | None]], None] | None = None,
) -> list[RunOutcome]:
    """Every account's files under one state lock and one ledger, each account its own run
    record, key and pace; their rows are sent in parallel, as tasks of one event loop."""
    accounts = [_AccountRun(job, on_result) for job in jobs]
    # Another run's results file stops the night before anything is done; the locks are
    # taken for real, one file at a time, as the run reaches each file.
    for account in accounts:
        for night_file in account.options.files:
            with results_lock(night_file.output):
                pass
    first = jobs[0].options
    live = first.send is not None
    with ExitStack() as stack:
        ledger: Ledger | None = None
        if live and first.state_path is not None:
            # Resolved, so a ledger reached through a symlink still shares one lock.
            state_path = first.state_path.resolve()
            stack.enter_context(RunLock(state_path.with_name(state_path.name + ".lock")))
            ledger = Ledger(state_path)
            stack.callback(ledger.close)
            read_back_cancels(ledger)
        for account in accounts:
            account.start(stack, ledger)
        if not live:
            for account in accounts:
                account.dry_run()
        else:
            for account in accounts:
                account.pace = account.start_rate(ledger)
            ends = asyncio.run(_send_all(accounts, on_pace))
            for account, end in zip(accounts, ends, strict=True):
                account.end = end
        for account in accounts:
            account.finish(ledger, input_scan)
        if ledger is not None:
            _prune(ledger, accounts)
    return [account.outcome() for account in accounts]


def combine_accounts(reports: Sequence[RunOutcome]) -> RunOutcome:
    """A night of several accounts as one outcome: their total, each one's own in `accounts`.

    The exit status is the worst (the highest: every stop outranks rows needing
    attention, which outrank success); so is the headline, unless every account
    finished, when it is said of the total.
    """
    counts: Counter[Outcome] = sum((report.counts for report in reports), Counter())
    reasons: Counter[tuple[Outcome, str]] = sum((report.reasons for report in reports), Counter())
    worst = max(reports, key=lambda report: report.exit_status)
    empty = tuple(source for report in reports for source in report.empty_sources)
    if worst.exit_status <= ExitStatus.ROWS_NEED_ATTENTION:
        status, headline = _verdict(
            counts, RunEnd(stop_reason=None), dry_run=worst.dry_run, empty_sources=empty
        )
    else:
        status = worst.exit_status
        headline = worst.headline.replace("batch-cancel: ", f"batch-cancel: {worst.account}: ", 1)
    return replace(
        worst,
        counts=counts,
        exit_status=status,
        headline=headline,
        files=tuple(item for report in reports for item in report.files),
        elapsed_s=max(report.elapsed_s for report in reports),
        reasons=reasons,
        cancelled_elsewhere=sum((r.cancelled_elsewhere for r in reports), Counter()),
        empty_sources=empty,
        unread=tuple(item for report in reports for item in report.unread),
        account="",
        accounts=tuple(reports),
        attention_rows=tuple(item for report in reports for item in report.attention_rows)[
            :ATTENTION_ROWS_SHOWN
        ],
    )


def _prune(ledger: Ledger, accounts: Sequence[_AccountRun]) -> None:
    """Once a night, after every account's run is closed; never when the ledger failed."""
    runs = [account.run for account in accounts if account.run is not None]
    keep_days = accounts[0].options.keep_days
    if not runs or keep_days <= 0:
        return
    if any(account.end.recording_error is not None for account in accounts):
        return
    try:
        ledger.prune(keep_days, current_run=runs[-1].run_id)
    except (ClockLooksWrong, LedgerError) as exc:  # the record is complete: say so
        log.warning("%s", exc)


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
        self._in_doubt = 0  # rows sent whose answer nobody knows (Outcome.IN_DOUBT)
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
            self._in_doubt += result.status is Outcome.IN_DOUBT
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
        return _start_pace(
            self.options, (ledger, self.run.account) if ledger and self.run else None
        )

    def finish(self, ledger: Ledger | None, input_scan: InputScan) -> None:
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
            in_doubt=self._in_doubt,
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


def _start_pace(options: JobOptions, ledger: tuple[Ledger, Account] | None) -> AutoPace | None:
    """--rate auto starts where this account's last night ended (capped by --max-rate)."""
    send = options.send
    if send is None or not send.auto_rate:
        return None
    remembered = ledger[0].remembered_pace(ledger[1]) if ledger is not None else None
    start = remembered if remembered is not None else AUTO_START_RATE
    return AutoPace(min(start, send.max_rate), send.max_rate, remembered is not None)


def _open_before_first_send(
    rows: Iterable[LoadedRow], client: ShipperClient
) -> Iterator[LoadedRow]:
    """The rows, the client opened (aiohttp loaded) as the first row to send goes by.

    Before it is queued, not inside its send: loading aiohttp stalls the event loop
    for a tenth of a second, which must not fall between a start slot and its request
    (the stall bunched the first requests into one second: a 429 at --rate 50).
    """
    rows = iter(rows)
    for row in rows:
        if row.verdict is None:
            client.open()
            yield row
            yield from rows
            return
        yield row


async def _send_all(
    accounts: Sequence[_AccountRun],
    on_pace: Callable[[Callable[[], float | None]], None] | None = None,
) -> list[RunEnd]:
    """Every account's rows at once, each through its own client, runner and pace."""
    loop = asyncio.get_running_loop()
    signals = _SignalHandler()
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, signals.handle, signum)
    try:
        ends = await asyncio.gather(
            *(_send_account(account, signals, on_pace) for account in accounts)
        )
    finally:
        for signum in STOP_SIGNALS:
            loop.remove_signal_handler(signum)
    return [replace(end, signal=signals.first) for end in ends]


async def _send_account(
    account: _AccountRun,
    signals: _SignalHandler,
    on_pace: Callable[[Callable[[], float | None]], None] | None,
) -> RunEnd:
    options, start_rate = account.options, account.pace
    send = options.send
    assert send is not None
    async with ShipperClient(
        base_url=send.base_url,
        api_key=send.api_key,
        timeout_s=send.timeout_s,
        max_connections=send.concurrency,
        **({"read_path": send.read_path} if send.read_path else {}),
    ) as client:
        runner = Runner(
            send=client.cancel,
            read=client.read_order,
            order_statuses=statuses(send.order_statuses),
            rate=send.rate,
            concurrency=send.concurrency,
            policy=RetryPolicy(max_attempts=send.max_attempts),
            on_result=account.record,
            attempt_log=account.run,
            health=options.health,
            already_cancelled_codes=options.already_cancelled_codes,
            auto_rate=start_rate,
            key_from=send.key_from,
        )
        signals.watch(runner, account.run)
        if start_rate is not None and on_pace is not None:
            on_pace(lambda: runner.current_rate)  # the progress lines show the pace
        named = f"[{account.job.name}] " if account.job.name else ""
        if start_rate is not None:
            log.info(
                "%s--rate auto: starting at %.3g starts/s, never above %g",
                named,
                start_rate.start,
                send.max_rate,
            )
        log.info(
            "%ssending to %s: at most %g starts/s, %d in flight, %d attempts per row",
            named,
            send.base_url,
            send.rate,
            send.concurrency,
            send.max_attempts,
        )
        return await runner.run(_open_before_first_send(account.rows, client))


# A closed terminal (SIGHUP) ends a run as SIGTERM does: in order, results complete.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class _SignalHandler:
    """First signal: finish what is in flight and report the rest not_sent. Second: leave now.

    Counted here, not read from the runners: a run already stopping for another
    reason (a refused key) must still get its orderly stop on the first signal.
    Every account's runner stops alike.
    """

    def __init__(self) -> None:
        self._runners: list[Runner] = []
        self._runs: list[RunRecord] = []
        self.first: int | None = None

    def watch(self, runner: Runner, run: RunRecord | None) -> None:
        self._runners.append(runner)
        if run is not None:
            self._runs.append(run)
        if self.first is not None:  # a signal came before this account began
            self._stop(runner, self.first)

    def handle(self, signum: int) -> None:
        if self.first is None:
            self.first = signum
            for runner in self._runners:
                self._stop(runner, signum)
        else:
            _exit_now(signum, self._runs)

    @staticmethod
    def _stop(runner: Runner, signum: int) -> None:
        name = signal.Signals(signum).name
        runner.request_stop(
            StopReason.INTERRUPTED, f"interrupted by {name}; requests in flight were finished"
        )


def _exit_now(signum: int, runs: Sequence[RunRecord]) -> None:
    # The answers of the loop's current pass are committed first; SQLite's
    # transactions make leaving now safe for the ledger. The results CSV is not
    # written (a re-run makes it from the ledger's view).
    for run in runs:
        with contextlib.suppress(Exception):
            run.commit()
    log.warning(
        "second %s: exiting at once; the ledger has every answer so far, re-run for "
        "the results CSV",
        signal.Signals(signum).name,
    )
    logging.shutdown()
    os._exit(128 + signum)
