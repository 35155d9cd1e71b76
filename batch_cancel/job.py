"""One `run`, end to end: loader → ledger → runner → results CSV, under the state lock.

The CLI builds a JobOptions, calls `run_job`, and prints what comes back; this
module decides nothing about presentation. It owns the process-level parts of
a run: the state lock, the ledger's run record, SIGINT/SIGTERM/SIGHUP, and the exit status.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import logging
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .client import ShipperClient
from .config import (
    DEFAULT_KEEP_DAYS,
    HealthPolicy,
    NightFile,
    SendOptions,
    default_results_path,
)
from .errors import ClockLooksWrong, ConfigError, LedgerError
from .ledger import Ledger, RunRecord, skip_already_cancelled
from .loader import OrdersFile, SeenOrders
from .lock import RunLock
from .models import (
    NEEDS_ATTENTION,
    ExitStatus,
    LoadedRow,
    LocalCode,
    Outcome,
    RowResult,
    breakdown,
    needs_attention,
    status_lines,
)
from .pacing import AUTO_START_RATE, AutoPace
from .report import ResultsWriter
from .results_file import resend_only
from .runner import RetryPolicy, RunEnd, Runner, StopReason
from .wording import attention_sentence, reason_of

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


@dataclass(frozen=True, kw_only=True)
class FileReport:
    input_path: Path
    results_path: Path
    source: str
    counts: Counter[Outcome]
    notes: tuple[str, ...]
    archived_to: Path | None = None


@dataclass(frozen=True, kw_only=True)
class JobReport:
    counts: Counter[Outcome]  # every file's together
    exit_status: ExitStatus
    headline: str
    files: tuple[FileReport, ...]
    run_id: int | None
    elapsed_s: float
    end: RunEnd
    dry_run: bool = False
    # (status, reason) of every row that needs attention, for the sentence (wording.py)
    reasons: Counter[tuple[Outcome, str]] = field(default_factory=Counter)

    @property
    def results_path(self) -> Path:
        return self.files[0].results_path

    def to_json(self, *, notes: Sequence[str] = ()) -> dict[str, Any]:
        """What `--summary-json` writes (README, "Running from cron")."""
        return {
            "run_id": self.run_id,
            "exit_status": int(self.exit_status),
            "headline": self.headline,
            "results_path": str(self.results_path),
            "files": [
                {
                    "input": str(item.input_path),
                    "source": item.source,
                    "results_path": str(item.results_path),
                    "rows": item.counts.total(),
                    "counts": {outcome.value: item.counts[outcome] for outcome in Outcome},
                    "notes": list(item.notes),
                    "archived_to": str(item.archived_to) if item.archived_to else None,
                }
                for item in self.files
            ],
            "elapsed_s": round(self.elapsed_s, 3),
            "rows": self.counts.total(),
            "counts": {outcome.value: self.counts[outcome] for outcome in Outcome},
            "stop_reason": self.end.stop_reason.value if self.end.stop_reason else None,
            "stop_message": self.end.stop_message,
            "input_error": self.end.input_error,
            "rate_auto": (
                {
                    "reached": round(self.end.rate_reached, 3),
                    "final": round(self.end.final_rate or 0, 3),
                    "first_429_s": (
                        round(self.end.first_throttled_s, 3)
                        if self.end.first_throttled_s is not None
                        else None
                    ),
                }
                if self.end.rate_reached is not None
                else None
            ),
            "notes": list(notes),
        }


class InputScan:
    """The input's line count (the progress total) and sha256 (its identity in the ledger).

    Read in a thread beside the run: hashing a 1 GB export takes seconds, and the
    first request must not wait for it. File reads and hashlib release the GIL,
    so the event loop hardly notices.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._rows: int | None = None
        self._sha256 = ""
        self._thread = threading.Thread(target=self._scan, name="input-scan", daemon=True)
        self._thread.start()

    def _scan(self) -> None:
        lines, digest = 0, hashlib.sha256()
        try:
            with self._path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    lines += block.count(b"\n")
                    digest.update(block)
        except OSError as exc:  # the loader reports an unreadable file; this is only a hint
            log.debug("cannot scan %s: %s", self._path, exc)
            return
        self._sha256 = digest.hexdigest()
        self._rows = max(lines - 1, 0)

    @property
    def rows_estimate(self) -> int | None:
        """Data rows, roughly (a quoted value may span lines); None until the scan is done."""
        return self._rows

    def sha256(self) -> str:
        """The file's sha256, once the scan is done ("" if it could not be read)."""
        self._thread.join()
        return self._sha256


def open_orders(options: JobOptions) -> list[OrdersFile]:
    """Open and check every input's header; raises before anything is sent.

    The files share one record of the orders seen, so an order in two files of
    the same night is sent once and its second row is a `duplicate` naming the first.
    """
    seen = SeenOrders()
    opened = []
    for index, night_file in enumerate(options.files):
        if options.send is None:
            refuse_to_replace_live_results(night_file.output, night_file.input.path)
        opened.append(OrdersFile(night_file.input, file=index, seen=seen))
    return opened


def refuse_to_replace_live_results(output: Path, input_path: Path) -> None:
    """A run that sends nothing never replaces a results file a live run may have written."""
    if output.exists() and not _is_dry_run_file(output):
        raise ConfigError(
            f"a dry run does not replace {output}, which may hold a live run's "
            f"results; leave out -o (it writes "
            f"{default_results_path(input_path, dry_run=True).name}) or name a new file"
        )


def _is_dry_run_file(path: Path) -> bool:
    return path.name.endswith(".dry-run.csv")


def results_lock(path: Path) -> RunLock:
    """One writer per results file, whatever ledger each run uses."""
    path = path.resolve()
    return RunLock(path.with_name(f".{path.name}.lock"), what="the results file's lock")


def run_job(
    options: JobOptions,
    orders: Sequence[OrdersFile],
    *,
    input_scans: Sequence[InputScan],
    on_result: ResultListener,
    on_pace: Callable[[Callable[[], float | None]], None] | None = None,
) -> JobReport:
    started = time.monotonic()
    run: RunRecord | None = None
    end = RunEnd(stop_reason=None)
    # A list, not a generator: resend_only checks its whole file here, before any lock.
    per_file = [
        resend_only(opened, options.resend_only) if options.resend_only else opened.rows()
        for opened in orders
    ]
    with ExitStack() as stack:
        for night_file in options.files:
            stack.enter_context(results_lock(night_file.output))
        rows: Iterable[LoadedRow] = itertools.chain.from_iterable(per_file)
        if options.send is not None and options.state_path is not None:
            # Resolved, so a ledger reached through a symlink still shares one lock.
            state_path = options.state_path.resolve()
            stack.enter_context(RunLock(state_path.with_name(state_path.name + ".lock")))
            ledger = Ledger(state_path)
            stack.callback(ledger.close)
            run = ledger.start_run(
                input_path=Path(" + ".join(str(f.input.path.resolve()) for f in options.files)),
                options=_loggable_options(options),
            )
            rows = skip_already_cancelled(rows, ledger, force_resend=options.force_resend)
        writers = [
            stack.enter_context(ResultsWriter(night_file.output, opened.header))
            for night_file, opened in zip(options.files, orders, strict=True)
        ]

        reasons: Counter[tuple[Outcome, str]] = Counter()

        def record(row: LoadedRow, result: RowResult) -> None:
            if result.status in NEEDS_ATTENTION:
                reasons[result.status, reason_of(result)] += 1
            # The ledger first: it is the durable record. The CSV row is added even if
            # the ledger write fails, so the results never silently lack a row.
            try:
                if run is not None:
                    request = row.request
                    run.record_outcome(
                        result,
                        request.order_no if request else "",
                        request.warehouse_id if request else "",
                    )
            finally:
                writers[row.file].add(row, result)
            on_result(row, result)

        if options.send is None:
            for row in rows:
                record(row, row.verdict or dry_run_result(row))
        else:
            auto = _start_pace(options, ledger if run is not None else None)
            end = asyncio.run(_send_all(rows, options, run, record, auto, on_pace))
        # Every results file is complete and in place before the ledger's run record
        # is closed: a ledger that fails now must not cost the reviewer the results.
        for writer in reversed(writers):
            writer.close()
        counts: Counter[Outcome] = sum((writer.counts for writer in writers), Counter())
        status, headline = _verdict(counts, end, dry_run=options.send is None)
        if run is not None:
            run.end(status, input_sha256=",".join(scan.sha256() for scan in input_scans))
            if end.pace_to_remember is not None and options.send is not None:
                ledger.remember_pace(pace_endpoint(options.send), end.pace_to_remember)
            if options.keep_days > 0:
                try:
                    ledger.prune(options.keep_days, current_run=run.run_id)
                except (ClockLooksWrong, LedgerError) as exc:  # the record is complete: say so
                    log.warning("%s", exc)
    files = tuple(
        FileReport(
            input_path=night_file.input.path,
            results_path=night_file.output,
            source=night_file.source,
            counts=writer.counts,
            notes=tuple(opened.notes),
            archived_to=_archive(night_file, writer.counts, end) if options.send else None,
        )
        for night_file, opened, writer in zip(options.files, orders, writers, strict=True)
    )
    return JobReport(
        counts=counts,
        exit_status=status,
        headline=headline,
        files=files,
        run_id=run.run_id if run else None,
        elapsed_s=time.monotonic() - started,
        end=end,
        dry_run=options.send is None,
        reasons=reasons,
    )


def _archive(night_file: NightFile, counts: Counter[Outcome], end: RunEnd) -> Path | None:
    """Move a finished file and its results to the source's archive: nothing left to re-send."""
    left = counts[Outcome.FAILED] + counts[Outcome.NOT_SENT]
    if night_file.archive is None or left or end.input_error or end.signal is not None:
        return None
    target = night_file.archive
    try:
        target.mkdir(parents=True, exist_ok=True)
        for path in (night_file.input.path, night_file.output):
            if (target / path.name).exists():
                raise FileExistsError(f"{target / path.name} exists")
        for path in (night_file.input.path, night_file.output):
            os.replace(path, target / path.name)
    except OSError as exc:
        log.warning("%s: not archived to %s: %s", night_file.input.path, target, exc)
        return None
    log.info("%s and its results archived to %s", night_file.input.path, target)
    return target


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


def _verdict(counts: Counter[Outcome], end: RunEnd, *, dry_run: bool) -> tuple[ExitStatus, str]:
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
    attention = needs_attention(counts, dry_run=dry_run)
    if dry_run:
        headline = "batch-cancel: dry run; nothing sent"
    elif attention:
        headline = f"batch-cancel: finished; {attention} row(s) need attention"
    else:
        done = counts[Outcome.CANCELLED] + counts[Outcome.SKIPPED]
        headline = f"batch-cancel: finished; all {done} order(s) cancelled"
    return (ExitStatus.ROWS_NEED_ATTENTION if attention else ExitStatus.SUCCESS), headline


def dry_run_result(row: LoadedRow) -> RowResult:
    note = row.request.note if row.request else ""
    return RowResult(
        source_row=row.source_row,
        status=Outcome.NOT_SENT,
        error_code=LocalCode.DRY_RUN,
        error_message="; ".join(filter(None, ["dry run: valid and would be sent", note])),
    )


def pace_endpoint(send: SendOptions) -> str:
    """Who a remembered pace belongs to: the base URL and the key, hashed together."""
    return hashlib.sha256(f"{send.base_url}\n{send.api_key}".encode()).hexdigest()[:32]


def _start_pace(options: JobOptions, ledger: Ledger | None) -> AutoPace | None:
    """--rate auto starts where the last night ended (capped by --max-rate); None: fixed."""
    send = options.send
    if send is None or not send.auto_rate:
        return None
    remembered = ledger.remembered_pace(pace_endpoint(send)) if ledger is not None else None
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
    rows: Iterable[LoadedRow],
    options: JobOptions,
    run: RunRecord | None,
    on_result: ResultListener,
    auto: AutoPace | None = None,
    on_pace: Callable[[Callable[[], float | None]], None] | None = None,
) -> RunEnd:
    send = options.send
    assert send is not None
    async with ShipperClient(
        base_url=send.base_url,
        api_key=send.api_key,
        timeout_s=send.timeout_s,
        max_connections=send.concurrency,
    ) as client:
        runner = Runner(
            send=client.cancel,
            rate=send.rate,
            concurrency=send.concurrency,
            policy=RetryPolicy(max_attempts=send.max_attempts),
            on_result=on_result,
            attempt_log=run,
            health=options.health,
            already_cancelled_codes=options.already_cancelled_codes,
            auto_rate=auto,
        )
        if auto is not None and on_pace is not None:
            on_pace(lambda: runner.current_rate)  # the progress lines show the pace
        if auto is not None:
            log.info(
                "--rate auto: starting at %.3g starts/s, never above %g", auto.start, send.max_rate
            )
        log.info(
            "sending to %s: at most %g starts/s, %d in flight, %d attempts per row",
            send.base_url,
            send.rate,
            send.concurrency,
            send.max_attempts,
        )
        loop = asyncio.get_running_loop()
        signals = _SignalHandler(runner, run)
        for signum in STOP_SIGNALS:
            loop.add_signal_handler(signum, signals.handle, signum)
        try:
            end = await runner.run(_open_before_first_send(rows, client))
            return replace(end, signal=signals.first)
        finally:
            for signum in STOP_SIGNALS:
                loop.remove_signal_handler(signum)


# A closed terminal (SIGHUP) ends a run as SIGTERM does: in order, results complete.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class _SignalHandler:
    """First signal: finish what is in flight and report the rest not_sent. Second: leave now.

    Counted here, not read from the runner: a run already stopping for another
    reason (a refused key) must still get its orderly stop on the first signal.
    """

    def __init__(self, runner: Runner, run: RunRecord | None) -> None:
        self._runner = runner
        self._run = run
        self.first: int | None = None

    def handle(self, signum: int) -> None:
        if self.first is None:
            self.first = signum
            name = signal.Signals(signum).name
            self._runner.request_stop(
                StopReason.INTERRUPTED, f"interrupted by {name}; requests in flight were finished"
            )
        else:
            _exit_now(signum, self._run)


def _exit_now(signum: int, run: RunRecord | None) -> None:
    # The answers of the loop's current pass are committed first; SQLite's
    # transactions make leaving now safe for the ledger. The results CSV is not
    # written (a re-run makes it from the ledger's view).
    if run is not None:
        with contextlib.suppress(Exception):
            run.commit()
    log.warning(
        "second %s: exiting at once; the ledger has every answer so far, re-run for "
        "the results CSV",
        signal.Signals(signum).name,
    )
    logging.shutdown()
    os._exit(128 + signum)


def format_summary(report: JobReport) -> str:
    """A few lines for stderr: the verdict, why rows need attention, counts, where to look."""
    lines = [report.headline]
    if needs_attention(report.counts, dry_run=report.dry_run):
        lines.append(f"  {attention_sentence(report.counts, report.reasons)}")
    lines.append(f"  rows: {report.counts.total()} in {report.elapsed_s:.1f}s")
    end = report.end
    if end.rate_reached is not None and end.final_rate is not None:
        first = (
            f"first 429 after {end.first_throttled_s:.1f}s"
            if end.first_throttled_s is not None
            else "no 429"
        )
        lines.append(
            f"  rate auto: reached {end.rate_reached:.1f}/s, {end.final_rate:.1f}/s at the end; "
            f"{first}"
        )
    lines += status_lines(report.counts)
    if len(report.files) == 1:
        lines.append(f"  results: {report.files[0].results_path}")
        return "\n".join(lines)
    lines.append(f"  files: {len(report.files)}")
    for item in report.files:
        source = f"[{item.source}] " if item.source else ""
        lines.append(f"    {source}{item.input_path}: {breakdown(item.counts) or 'no rows'}")
        lines.append(f"      results: {item.results_path}")
        if item.archived_to is not None:
            lines.append(f"      archived to {item.archived_to}")
    return "\n".join(lines)
