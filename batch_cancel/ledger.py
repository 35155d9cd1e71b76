"""The durable record of every run: SQLite (WAL), one file per user by default.

What it is for:
- a killed run loses nothing the API confirmed: each attempt is written before
  it is sent and its answer as soon as it arrives, each in its own transaction;
- re-running is the recovery path: an order whose last recorded outcome is
  `cancelled` is skipped next time, and an attempt that was sent but never
  answered is reported when the order is sent again;
- `batch-cancel history ORDER_NO` can tell what happened to an order, when.

Durability: WAL with synchronous=NORMAL. A commit survives the process being
killed at any instant (kill -9); only a power cut or kernel crash can lose the
last moments, after which a re-run may send those orders again.

The API key is never written here: runs record their options without secrets.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .client import ApiAnswer
from .errors import BatchCancelError
from .models import CancelRequest, LoadedRow, LocalCode, Outcome, RowResult, utc_now

STATE_ENV = "BATCH_CANCEL_STATE"
SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id        INTEGER PRIMARY KEY,
    started_at    TEXT NOT NULL,
    ended_at      TEXT,
    input_path    TEXT NOT NULL,
    input_sha256  TEXT NOT NULL,
    options_json  TEXT NOT NULL,
    pid           INTEGER NOT NULL,
    exit_status   INTEGER
);
CREATE TABLE IF NOT EXISTS attempts (
    attempt_id    INTEGER PRIMARY KEY,
    run_id        INTEGER NOT NULL REFERENCES runs(run_id),
    source_row    INTEGER NOT NULL,
    order_no      TEXT NOT NULL,
    warehouse_id  TEXT NOT NULL,
    attempt       INTEGER NOT NULL,
    sent_at       TEXT NOT NULL,
    answered_at   TEXT,            -- NULL: sent, never answered (killed, or no answer)
    http_status   INTEGER,
    error_code    TEXT,
    error_message TEXT,
    request_id    TEXT,
    cancelled     INTEGER NOT NULL DEFAULT 0  -- 1: this answer confirmed the order cancelled
);
CREATE INDEX IF NOT EXISTS attempts_by_order ON attempts(order_no, warehouse_id);
CREATE TABLE IF NOT EXISTS outcomes (
    run_id        INTEGER NOT NULL REFERENCES runs(run_id),
    source_row    INTEGER NOT NULL,
    order_no      TEXT NOT NULL,
    warehouse_id  TEXT NOT NULL,
    status        TEXT NOT NULL,
    http_status   INTEGER,
    error_code    TEXT,
    error_message TEXT,
    attempts      INTEGER NOT NULL,
    request_id    TEXT,
    finished_at   TEXT NOT NULL,
    PRIMARY KEY (run_id, source_row)
);
CREATE INDEX IF NOT EXISTS outcomes_by_order ON outcomes(order_no, warehouse_id);
"""


class LedgerError(BatchCancelError):
    """The state database cannot be opened or is not ours."""


def default_state_path(environ: Mapping[str, str] = os.environ) -> Path:
    """$BATCH_CANCEL_STATE, else $XDG_STATE_HOME/batch-cancel/ledger.sqlite3 (~/.local/state)."""
    if environ.get(STATE_ENV):
        return Path(environ[STATE_ENV]).expanduser()
    state_home = environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state_home) / "batch-cancel" / "ledger.sqlite3"


@dataclass(frozen=True, slots=True)
class PriorCancel:
    run_id: int
    finished_at: str


@dataclass(frozen=True, slots=True)
class UnansweredAttempt:
    run_id: int
    sent_at: str
    reason: str  # "killed" (the run died mid-request), "timeout", "connection_error"


class Ledger:
    """One open state database; a run's writes go through its RunRecord."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = path
        try:
            if read_only:
                # `history` only reads: it must work on a ledger it may not write, and
                # never take the write lock from a run in progress.
                self._db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
                return
            path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: autocommit, so each statement is durable on return.
            self._db = sqlite3.connect(path, isolation_level=None, timeout=10)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, SCHEMA_VERSION):
                raise LedgerError(f"{path}: state schema {version} is newer than this batch-cancel")
            self._db.executescript(_SCHEMA)
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except (sqlite3.Error, OSError) as exc:
            raise LedgerError(f"cannot open the state database {path}: {exc}") from exc

    def close(self) -> None:
        self._db.close()

    def start_run(
        self, *, input_path: Path, input_sha256: str, options: Mapping[str, Any]
    ) -> RunRecord:
        cursor = self._db.execute(
            "INSERT INTO runs (started_at, input_path, input_sha256, options_json, pid)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                utc_now(),
                str(input_path),
                input_sha256,
                json.dumps(dict(options), sort_keys=True),
                os.getpid(),
            ),
        )
        assert cursor.lastrowid is not None
        return RunRecord(self._db, cursor.lastrowid)

    # -- questions a re-run asks ----------------------------------------------

    def prior_cancel(self, order_no: str, warehouse_id: str) -> PriorCancel | None:
        """The run that cancelled this order, if any answer ever confirmed the cancel.

        Cancelled is final in Shipper, so a later refusal (a --force-resend answered
        "already cancelled") does not undo it. Attempts, not row outcomes, are asked:
        an answer is written the moment it arrives, so a run killed before it
        recorded the row's outcome still counts.
        """
        row = self._db.execute(
            "SELECT run_id, answered_at FROM attempts"
            " WHERE order_no = ? AND warehouse_id = ? AND cancelled = 1"
            " ORDER BY attempt_id DESC LIMIT 1",
            (order_no, warehouse_id),
        ).fetchone()
        return None if row is None else PriorCancel(run_id=row[0], finished_at=row[1])

    def unanswered_attempt(self, order_no: str, warehouse_id: str) -> UnansweredAttempt | None:
        """The last attempt for this order, if it was sent and no HTTP answer came back.

        Such an order may or may not have been cancelled by Shipper (killed
        mid-request, or a timeout), so its next result says so.
        """
        row = self._db.execute(
            "SELECT run_id, sent_at, http_status, error_code FROM attempts"
            " WHERE order_no = ? AND warehouse_id = ? ORDER BY attempt_id DESC LIMIT 1",
            (order_no, warehouse_id),
        ).fetchone()
        if row is None or row[2] is not None:
            return None
        return UnansweredAttempt(run_id=row[0], sent_at=row[1], reason=row[3] or "killed")

    def history(self, order_no: str, warehouse_id: str | None = None) -> Iterator[dict[str, Any]]:
        """Every attempt and outcome recorded for an order, oldest first."""
        cursor = self._db.execute(
            "SELECT 'attempt' AS kind, a.run_id, a.warehouse_id, a.sent_at AS at, a.attempt,"
            " a.answered_at, a.http_status, a.error_code, a.error_message, a.request_id,"
            " NULL AS status, r.input_path"
            " FROM attempts a JOIN runs r USING (run_id)"
            " WHERE a.order_no = :order_no AND (:wh IS NULL OR a.warehouse_id = :wh)"
            " UNION ALL "
            "SELECT 'outcome', o.run_id, o.warehouse_id, o.finished_at, o.attempts, NULL,"
            " o.http_status, o.error_code, o.error_message, o.request_id, o.status, r.input_path"
            " FROM outcomes o JOIN runs r USING (run_id)"
            " WHERE o.order_no = :order_no AND (:wh IS NULL OR o.warehouse_id = :wh)"
            " ORDER BY at, kind",
            {"order_no": order_no, "wh": warehouse_id},
        )
        names = [column[0] for column in cursor.description]
        for values in cursor:
            yield dict(zip(names, values, strict=True))


class RunRecord:
    """What one run writes: its attempts as they happen, each row's outcome, its end.

    Group commit: writes join one open transaction, committed at the end of the
    event loop's current pass, so every row answered in the same pass shares
    one commit (a commit per statement was most of the ledger's cost, about
    70 us each of the 230 us a row it added). Nothing waits longer than that
    pass: an answer is on disk before the loop reads another socket, and
    `durable()`, awaited before a request leaves, makes its attempt record
    survive a kill. Outside an event loop every write commits at once.
    """

    def __init__(self, db: sqlite3.Connection, run_id: int) -> None:
        self._db = db
        self.run_id = run_id
        self._pending: asyncio.Future[None] | None = None  # the commit scheduled for this pass
        self._failure: sqlite3.Error | None = None

    def _check_writable(self) -> None:
        if self._failure is not None:
            raise LedgerError(f"the state database stopped taking writes: {self._failure}")

    def _write(self, sql: str, params: tuple[Any, ...]) -> int | None:
        self._check_writable()
        if not self._db.in_transaction:
            self._db.execute("BEGIN")
        row_id = self._db.execute(sql, params).lastrowid
        if self._pending is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                self.commit()
                return row_id
            self._pending = loop.create_future()
            loop.call_soon(self._commit_pending)
        return row_id

    async def durable(self) -> None:
        """Return once everything written so far is committed."""
        if self._pending is not None:
            await asyncio.shield(self._pending)

    def _commit_pending(self) -> None:
        # A failure is kept in self._failure: the waiters and the next write report it.
        with contextlib.suppress(sqlite3.Error):
            self.commit()

    def commit(self) -> None:
        """Commit now (also before a second signal exits, and at the run's end)."""
        pending, self._pending = self._pending, None
        try:
            if self._db.in_transaction:
                self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            self._failure = exc
            if pending is not None and not pending.done():
                pending.set_exception(LedgerError(f"cannot write the state database: {exc}"))
                pending.exception()  # retrieved here, so an unawaited failure is not logged twice
            raise
        if pending is not None and not pending.done():
            pending.set_result(None)

    def attempt_started(self, request: CancelRequest, attempt: int) -> int:
        """Written *before* the request leaves, so a kill mid-request leaves a trace."""
        attempt_id = self._write(
            "INSERT INTO attempts (run_id, source_row, order_no, warehouse_id, attempt, sent_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                self.run_id,
                request.source_row,
                request.order_no,
                request.warehouse_id,
                attempt,
                utc_now(),
            ),
        )
        assert attempt_id is not None
        return attempt_id

    def attempt_answered(self, attempt_id: int, answer: ApiAnswer, *, cancelled: bool) -> None:
        """An HTTP answer arrived (http_status 0: a transport failure, no answer)."""
        self._write(
            "UPDATE attempts SET answered_at = ?, http_status = ?, error_code = ?,"
            " error_message = ?, request_id = ?, cancelled = ? WHERE attempt_id = ?",
            (
                utc_now(),
                answer.http_status or None,
                answer.error_code,
                answer.error_message,
                answer.request_id,
                int(cancelled),
                attempt_id,
            ),
        )

    def record_outcome(self, result: RowResult, order_no: str, warehouse_id: str) -> None:
        self._write(
            "INSERT OR REPLACE INTO outcomes (run_id, source_row, order_no, warehouse_id, status,"
            " http_status, error_code, error_message, attempts, request_id, finished_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                self.run_id,
                result.source_row,
                order_no,
                warehouse_id,
                result.status.value,
                result.http_status,
                result.error_code,
                result.error_message,
                result.attempts,
                result.request_id,
                result.finished_at or utc_now(),
            ),
        )

    def end(self, exit_status: int) -> None:
        self._check_writable()
        self.commit()
        self._db.execute(
            "UPDATE runs SET ended_at = ?, exit_status = ? WHERE run_id = ?",
            (utc_now(), exit_status, self.run_id),
        )


def skip_already_cancelled(
    rows: Iterable[LoadedRow], ledger: Ledger, *, force_resend: bool = False
) -> Iterator[LoadedRow]:
    """Turn rows an earlier run cancelled into `skipped`; flag rows left in doubt.

    This is what makes re-running the recovery path: the same file, or the next
    night's overlapping export, sends only what is not known to be cancelled.
    """
    for row in rows:
        request = row.request
        if request is None:
            yield row
            continue
        prior = (
            None if force_resend else ledger.prior_cancel(request.order_no, request.warehouse_id)
        )
        if prior is not None:
            skipped = RowResult(
                source_row=row.source_row,
                status=Outcome.SKIPPED,
                error_code=LocalCode.ALREADY_CANCELLED,
                error_message=f"already cancelled at {prior.finished_at} in run {prior.run_id}",
            )
            yield replace(row, request=None, verdict=skipped)
            continue
        doubt = ledger.unanswered_attempt(request.order_no, request.warehouse_id)
        if doubt is not None:
            why = "the run was killed mid-request" if doubt.reason == "killed" else doubt.reason
            note = (
                f"an earlier attempt (run {doubt.run_id}, {doubt.sent_at}) was sent but never "
                f"answered ({why}); Shipper may already have cancelled it"
            )
            request = replace(request, note="; ".join(filter(None, [request.note, note])))
            row = replace(row, request=request)
        yield row
