"""One `run`, end to end: loader → ledger → runner → results CSV, under the state lock.

The CLI builds a JobOptions per account, calls `run_night`, and prints what comes back; this
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
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from .account_run import AccountJob as AccountJob
from .account_run import JobOptions as JobOptions
from .account_run import (
    ResultListener,
    _AccountRun,
    _no_file_from,
    _verdict,
    connected_runner,
)
from .client import ShipperClient
from .config import (
    NightFile,
    default_results_path,
)
from .errors import (
    ClockLooksWrong,
    InputFileError,
    LedgerError,
)
from .ledger import Ledger, RunRecord
from .loader import OrdersFile, SeenOrders
from .lock import RunLock
from .models import (
    ExitStatus,
    LoadedRow,
    Outcome,
)
from .night_results import results_lock
from .outcome import ATTENTION_ROWS_SHOWN, RunOutcome, UnreadFile
from .runner import RunEnd, Runner, StopReason
from .schema import is_results_header
from .settling import read_back_cancels
from .validation import (
    WRITTEN_BY_US,
    refuse_our_output,
    refuse_to_replace_live_results,
)

if TYPE_CHECKING:
    from .configfile import Source as ConfigSource

log = logging.getLogger(__name__)


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
    async with connected_runner(
        send,
        on_result=account.record,
        attempt_log=account.run,
        health=options.health,
        already_cancelled_codes=options.already_cancelled_codes,
        auto_rate=start_rate,
        key_from=send.key_from,
    ) as (client, runner):
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
