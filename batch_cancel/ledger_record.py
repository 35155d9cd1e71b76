"""What one run writes to the ledger, as it happens: RunRecord."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import sqlite3
from pathlib import Path
from typing import Any

from .errors import LedgerError
from .ledger_schema import _OUTCOME_COLUMNS, Account, ledger_write_failed
from .models import (
    ApiAnswer,
    CancelRequest,
    Outcome,
    ReadAnswer,
    RowResult,
    utc_now,
)

_INSERT_READ = (
    "INSERT INTO reads (order_no, warehouse_id, read_id, run_id, read_at, http_status,"
    " so_status, qty_allocated, error_code, error_message, request_id, cancelled)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_SKIP = (
    "INSERT INTO skips (run_id, file, source_row, order_no, warehouse_id) VALUES (?, ?, ?, ?, ?)"
)
_INSERT_ATTEMPT = (
    "INSERT INTO attempts (order_no, warehouse_id, attempt_id, run_id, source_row, attempt,"
    " sent_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_ANSWER_ATTEMPT = (
    "UPDATE attempts SET answered_at = ?, http_status = ?, error_code = ?, error_message = ?,"
    " request_id = ?, cancelled = ? WHERE order_no = ? AND warehouse_id = ? AND attempt_id = ?"
)
_INSERT_RUN_FILE = (
    "INSERT OR REPLACE INTO run_files (run_id, file, output_path, partial_path, archive_path,"
    " dev, ino) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_OUTCOME = (
    f"INSERT OR REPLACE INTO outcomes ({_OUTCOME_COLUMNS})"  # noqa: S608
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)

# Outcomes are committed this many at a time (and at the end of the run), not with
# each answer. A kill -9 costs only `history` the last of them: the answer behind an
# outcome is already in `attempts`, and an unsent row is sent, or skipped, again by
# the re-run.
OUTCOMES_PER_COMMIT = 4096


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class RunRecord:
    """What one run writes: its attempts as they happen, each row's outcome, its end.

    Group commit: the attempts started and answered in one pass of the event loop
    are committed together at the start of the next pass, as one transaction of
    `executemany`s, with the outcomes recorded meanwhile. A statement and a commit
    per write was most of the ledger's cost (BENCHMARKS.md). Nothing waits longer
    than that pass: an answer is on disk before the loop reads another socket, and
    `durable()`, awaited before a request leaves, makes its attempt survive a kill.
    Outside an event loop every write commits at once.

    Attempt ids are handed out here, `(run_id << 32) + n`, so an attempt can be
    answered before its row is written and ids keep increasing across runs.
    """

    def __init__(
        self, db: sqlite3.Connection, run_id: int, account: Account, *, path: Path | None = None
    ) -> None:
        self._db = db
        self._path = path  # for the message when it cannot be written
        self.run_id = run_id
        self.account = account
        self._attempt_ids = itertools.count((run_id << 32) + 1)
        self._orders: dict[int, tuple[str, str]] = {}  # attempts not yet answered
        self._started: list[tuple[Any, ...]] = []
        self._answered: list[tuple[Any, ...]] = []
        self._outcomes: list[tuple[Any, ...]] = []
        self._skips: list[tuple[int, int, int, str, str]] = []
        self._reads: list[tuple[Any, ...]] = []
        self._pending: asyncio.Future[None] | None = None  # the commit scheduled for this pass
        self._failure: Exception | None = None

    def _check_writable(self) -> None:
        if self._failure is not None:
            raise ledger_write_failed(self._path, self._failure)

    def _commit_soon(self) -> None:
        if self._pending is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.commit()
            return
        self._pending = loop.create_future()
        loop.call_soon(self._commit_pending)

    async def durable(self) -> None:
        """Return once everything written so far is committed."""
        if self._pending is not None:
            await asyncio.shield(self._pending)
        self._check_writable()  # the commit may have run, and failed, before we asked

    def _commit_pending(self) -> None:
        # A failure is kept in self._failure: the waiters and the next write report it.
        with contextlib.suppress(LedgerError):
            self.commit(all_outcomes=False)

    def commit(self, *, all_outcomes: bool = True) -> None:
        """Write and commit what is buffered (also before a second signal exits, and at the end).

        The commits a pass of the loop schedules leave outcomes buffered until
        OUTCOMES_PER_COMMIT of them wait: a commit then rewrites one tree's last page,
        not two.
        """
        pending, self._pending = self._pending, None
        outcomes: list[tuple[Any, ...]] = []
        skips: list[tuple[int, int, int, str, str]] = []
        if all_outcomes or self._unwritten_outcomes() >= OUTCOMES_PER_COMMIT:
            outcomes, self._outcomes = self._outcomes, []
            skips, self._skips = self._skips, []
        batches = [
            (_INSERT_ATTEMPT, self._started),
            (_ANSWER_ATTEMPT, self._answered),
            (_INSERT_READ, self._reads),
            (_INSERT_OUTCOME, outcomes),
            (_INSERT_SKIP, skips),
        ]
        self._started, self._answered, self._reads = [], [], []
        if not any(rows for _, rows in batches):
            if pending is not None and not pending.done():
                pending.set_result(None)
            return
        try:
            self._db.execute("BEGIN")
            for sql, rows in batches:
                if rows:
                    self._db.executemany(sql, rows)
            self._db.execute("COMMIT")
        except Exception as exc:  # not only sqlite3.Error: a text that cannot be encoded, too
            # Settle the waiters first, whatever happens next: a worker left waiting in
            # durable() would hang the run beyond the reach of a signal.
            self._failure = exc
            failure = ledger_write_failed(self._path, exc)
            if pending is not None and not pending.done():
                pending.set_exception(failure)
                pending.exception()  # retrieved here, so an unawaited failure is not logged twice
            with contextlib.suppress(sqlite3.Error):
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
            raise failure from exc
        if pending is not None and not pending.done():
            pending.set_result(None)

    def attempt_started(self, request: CancelRequest, attempt: int) -> int:
        """Recorded *before* the request leaves (see durable): a kill mid-request leaves a trace."""
        self._check_writable()
        attempt_id = next(self._attempt_ids)
        self._orders[attempt_id] = (request.order_no, request.warehouse_id)
        self._started.append(
            (
                request.order_no,
                request.warehouse_id,
                attempt_id,
                self.run_id,
                request.source_row,
                attempt,
                utc_now(),
            )
        )
        self._commit_soon()
        return attempt_id

    def attempt_answered(self, attempt_id: int, answer: ApiAnswer, *, cancelled: bool) -> None:
        """An HTTP answer arrived (http_status 0: a transport failure, no answer)."""
        self._check_writable()
        self._answered.append(
            (
                utc_now(),
                answer.http_status or None,
                answer.error_code,
                answer.error_message,
                answer.request_id,
                int(cancelled),
                *self._orders.pop(attempt_id),
                attempt_id,
            )
        )
        self._commit_soon()

    def read_answered(self, request: CancelRequest, answer: ReadAnswer, *, cancelled: bool) -> None:
        """A read-back of the order ended (http_status 0: no answer); `cancelled`: Shipper
        showed it cancelled, which counts as a cancel for the re-run skip at this account."""
        self._check_writable()
        self._reads.append(
            (
                request.order_no,
                request.warehouse_id,
                next(self._attempt_ids),
                self.run_id,
                utc_now(),
                answer.http_status or None,
                answer.so_status,
                answer.qty_allocated,
                answer.error_code,
                answer.error_message,
                answer.request_id,
                int(cancelled),
            )
        )
        self._commit_soon()

    def _unwritten_outcomes(self) -> int:
        return len(self._outcomes) + len(self._skips)

    def record_outcome(
        self, result: RowResult, order_no: str, warehouse_id: str, file: int = 0
    ) -> None:
        """The row's outcome; `file` is its input file's place in the run (LoadedRow.file)."""
        self._check_writable()
        if result.status is Outcome.SKIPPED:
            # The attempts already say which run cancelled it: the order and row suffice.
            self._skips.append((self.run_id, file, result.source_row, order_no, warehouse_id))
        else:
            self._outcomes.append(
                (
                    order_no,
                    warehouse_id,
                    self.run_id,
                    file,
                    result.source_row,
                    result.status.value,
                    result.http_status,
                    result.error_code,
                    result.error_message,
                    result.attempts,
                    result.request_id,
                    result.finished_at or utc_now(),
                )
            )
        if self._unwritten_outcomes() >= OUTCOMES_PER_COMMIT or not _in_event_loop():
            self._commit_soon()

    def file_started(self, file: int, output: Path, partial: Path, archive: Path | None) -> None:
        """A results file is begun at `partial`: its identity is committed before any of its
        rows is sent, so the next run finds these bytes if this one never ends in order."""
        self._check_writable()
        stat = os.stat(partial)
        row = (self.run_id, file, str(output), str(partial), archive and str(archive))
        try:
            self._db.execute(_INSERT_RUN_FILE, (*row, stat.st_dev, stat.st_ino))
        except sqlite3.Error as exc:
            self._failure = exc  # as a failed commit: nothing more is sent
            raise ledger_write_failed(self._path, exc) from exc

    def end(self, exit_status: int, *, input_sha256: str = "") -> None:
        self._check_writable()
        self.commit()
        try:
            with self._db:
                self._db.execute("BEGIN")
                self._db.execute(
                    "UPDATE runs SET ended_at = ?, exit_status = ?, input_sha256 = ?"
                    " WHERE run_id = ?",
                    (utc_now(), exit_status, input_sha256, self.run_id),
                )
                # Ended in order: every results file is complete and in place.
                self._db.execute("DELETE FROM run_files WHERE run_id = ?", (self.run_id,))
        except sqlite3.Error as exc:
            raise ledger_write_failed(self._path, exc) from exc
