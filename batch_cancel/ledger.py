"""The durable record of every run: SQLite (WAL), one file per user by default.

What it is for:
- a killed run loses nothing the API confirmed: each attempt is committed before
  it is sent (`RunRecord.durable`), and the answers read in one pass of the event
  loop are committed together before the next pass reads anything else
  (group commit, see RunRecord);
- re-running is the recovery path: an order whose last recorded outcome is
  `cancelled` is skipped next time, and an attempt that was sent but never
  answered is reported when the order is sent again;
- `batch-cancel history ORDER_NO` can tell what happened to an order, when.

Durability: WAL with synchronous=NORMAL. A commit survives the process being
killed at any instant (kill -9); only a power cut or kernel crash can lose the
last moments, after which a re-run may send those orders again.

Accounts: every run belongs to one (see `Account`), and the re-run skip, the
in-doubt look-up, the remembered pace and `history` answer per account. The API key
is never written here: an account is named by a keyed hash of it.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .errors import ClockLooksWrong, LedgerError, LedgerOpenError
from .ledger_queries import LOOKUP_BATCH as LOOKUP_BATCH
from .ledger_queries import LedgerQueries
from .ledger_queries import LookUp as LookUp
from .ledger_queries import OrderKey as OrderKey
from .ledger_queries import PriorCancel as PriorCancel
from .ledger_queries import UnansweredAttempt as UnansweredAttempt
from .ledger_queries import skip_already_cancelled as skip_already_cancelled
from .ledger_record import RunRecord as RunRecord
from .ledger_schema import (
    PAGE_SIZE,
    READABLE_VERSIONS,
    SCHEMA_VERSION,
    _account_id,
    _create_tables,
    _fingerprint,
    _upgrade,
    ledger_write_failed,
    normalize_base_url,
)
from .ledger_schema import Account as Account
from .models import (
    RowResult,
    utc_now,
)

# The forgetting cut moves at most once in this time: the first run of a night prunes,
# its re-runs that night do not. The ledger may remember up to this much longer than
# --keep-days, never less.
PRUNE_EVERY = timedelta(hours=12)
# Nothing in a ledger is older than this; a larger --keep-days cuts here (and stays
# within what a datetime and the ledger's four-digit years can hold).
LONGEST_KEEP_DAYS = 36_500
# Retention believes the clock only this close to the ledger's newest earlier run.
# A week's holiday with both weekends (Friday to the Monday after next) is not a wrong clock:
CLOCK_JUMP = timedelta(days=10)
# An NTP step or a resumed VM sets a clock back by seconds, not by this:
CLOCK_SKEW = timedelta(minutes=5)


def _stamp(moment: datetime) -> str:
    """A UTC time as the ledger writes it (utc_now's format), comparable as text."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _parse_stamp(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class RunFile:
    """A results file an unfinished run began: where it was, and which file it is."""

    run_id: int
    file: int
    output: Path
    partial: Path
    archive: Path | None
    dev: int
    ino: int


class Ledger(LedgerQueries):
    """One open state database; a run's writes go through its RunRecord."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = path
        try:
            if read_only:
                # `history` only reads: it must work on a ledger it may not write, and
                # never take the write lock from a run in progress.
                self._db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
                version = self._db.execute("PRAGMA user_version").fetchone()[0]
                if version not in READABLE_VERSIONS:
                    raise LedgerOpenError(
                        f"{path} is not a batch-cancel ledger (schema {version}, "
                        f"expected {SCHEMA_VERSION})"
                    )
                self._version = version
                return
            path.parent.mkdir(parents=True, exist_ok=True)
            # Owner only: it names every order and reason; SQLite gives -wal and -shm
            # the database file's permissions.
            os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
            if path.stat().st_mode & 0o077 and path.stat().st_uid == os.getuid():
                path.chmod(0o600)
            # isolation_level=None: no implicit transactions; RunRecord opens and commits
            # its own (group commit), and the rest commits statement by statement.
            self._db = sqlite3.connect(path, isolation_level=None, timeout=10)
            # Every commit rewrites the last page of the attempts tree in the WAL, so the
            # page size is the cost of a commit; 1 KiB pages (a new ledger only: SQLite
            # fixes the size at creation) make it a quarter of the default's.
            self._db.execute(f"PRAGMA page_size={PAGE_SIZE}")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, *READABLE_VERSIONS):
                raise LedgerOpenError(
                    f"{path}: state schema {version} is newer than this batch-cancel"
                )
            if version in (1, 2, 3):
                _upgrade(self._db, version)  # sets the version itself, in its transaction
            elif version == 0:
                _create_tables(self._db)
                self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            else:  # a schema 4 ledger written before run_files joined it, paces_v3 left
                _create_tables(self._db)
                self._db.execute("DROP TABLE IF EXISTS paces_v3")
            self._version = SCHEMA_VERSION
        except (sqlite3.Error, OSError) as exc:
            raise LedgerOpenError(f"cannot open the state database {path}: {exc}") from exc

    def close(self) -> None:
        self._db.close()

    def account(self, base_url: str, api_key: str) -> Account:
        """The account of this base URL and key, made on first use (with the ledger's secret)."""
        try:
            self._db.execute(
                "INSERT OR IGNORE INTO ledger_meta (key, value) VALUES ('account_secret', ?)",
                (secrets.token_hex(32),),
            )
            account = self.find_account(base_url, api_key)
            assert account is not None
            if account.account_id == 0:
                account = replace(
                    account,
                    account_id=_account_id(self._db, account.base_url, account.key_fingerprint),
                )
        except sqlite3.Error as exc:
            raise LedgerError(f"cannot write the state database: {exc}") from exc
        return account

    def find_account(self, base_url: str, api_key: str) -> Account | None:
        """This base URL and key as an account (account_id 0: never used with this ledger).

        None: the ledger has no secret yet, so no run of this schema was recorded.
        """
        try:
            row = self._db.execute(
                "SELECT value FROM ledger_meta WHERE key = 'account_secret'"
            ).fetchone()
        except sqlite3.OperationalError:  # a ledger from before schema 4, read as it is
            row = None
        if row is None:
            return None
        normalized, fingerprint = normalize_base_url(base_url), _fingerprint(row[0], api_key)
        known = (
            self._db.execute(
                "SELECT account_id FROM accounts WHERE base_url = ? AND key_fingerprint = ?",
                (normalized, fingerprint),
            ).fetchone()
            if self._version >= 4
            else None
        )
        return Account(known[0] if known else 0, normalized, fingerprint)

    def start_run(
        self, *, input_path: Path, options: Mapping[str, Any], account: Account
    ) -> RunRecord:
        try:
            cursor = self._db.execute(
                "INSERT INTO runs (started_at, input_path, input_sha256, options_json, pid,"
                " account_id) VALUES (?, ?, '', ?, ?, ?)",
                (
                    utc_now(),
                    str(input_path),
                    json.dumps(dict(options), sort_keys=True),
                    os.getpid(),
                    account.account_id,
                ),
            )
        except sqlite3.Error as exc:  # a full disk: nothing is sent
            raise ledger_write_failed(self.path, exc) from exc
        assert cursor.lastrowid is not None
        return RunRecord(self._db, cursor.lastrowid, account, path=self.path)

    # -- after a run whose ledger stopped taking writes ---------------------------

    def unfinished_files(self) -> list[RunFile]:
        """The results files of runs that never finished in order (killed, or their ledger
        stopped taking writes), oldest run first. Empty on a usual night: one small query."""
        return [
            RunFile(
                run_id,
                file,
                Path(output),
                Path(partial),
                Path(archive) if archive else None,
                dev,
                ino,
            )
            for run_id, file, output, partial, archive, dev, ino in self._db.execute(
                "SELECT run_id, file, output_path, partial_path, archive_path, dev, ino"
                " FROM run_files ORDER BY run_id, file"
            )
        ]

    def read_back_cancels(
        self, run_id: int, cancels: Mapping[OrderKey, RowResult], source: Path
    ) -> int:
        """Cancels run `run_id` could not put in the ledger, read back from the results file
        that run wrote: the run's own last never-answered attempt of each order, sent before
        the answer came, becomes the cancel it was. Returns the attempts settled."""
        answers = [
            (
                result.finished_at,
                result.http_status,
                result.error_code,
                f"answer read back from {source}",
                result.request_id,
                order_no,
                warehouse_id,
                order_no,
                warehouse_id,
                run_id,
                result.finished_at,
            )
            for (order_no, warehouse_id), result in cancels.items()
        ]
        try:
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                return self._db.executemany(_READ_BACK_CANCEL, answers).rowcount
        except sqlite3.Error as exc:
            raise ledger_write_failed(self.path, exc) from exc

    def forget_files(self, run_id: int) -> None:
        """Run `run_id`'s results files are read back: later nights need not look again."""
        try:
            self._db.execute("DELETE FROM run_files WHERE run_id = ?", (run_id,))
        except sqlite3.Error as exc:
            raise ledger_write_failed(self.path, exc) from exc

    def prune(self, keep_days: float, *, current_run: int | None = None) -> int:
        """Forget attempts, outcomes and skips older than `keep_days`, and runs left with none.

        The re-run skip is then correct for that long: an order cancelled within the
        last `keep_days` is never sent again; one cancelled before may be (Shipper then
        answers that it is already cancelled). The cut moves forward only, at most once
        per PRUNE_EVERY. Returns the rows deleted.

        A wrong clock forgets nothing: ClockLooksWrong when the clock (the one every stamp
        is written by) is before the newest run other than `current_run`, or more than
        CLOCK_JUMP past it. Only runs before the oldest run the cut keeps are forgotten:
        a run a clock behind stamped months old is kept as long as the runs before it.
        A clock wrong two nights in a row passes that check on its own stamps, so the cut
        moves at most CLOCK_JUMP + PRUNE_EVERY past the last one (a long pause catches up
        over a few nights), unless `keep_days` changed since the last cut.
        """
        now = _parse_stamp(utc_now())
        self._check_clock(now, current_run)
        keep_days = min(keep_days, LONGEST_KEEP_DAYS)
        kept_since = self.kept_since()
        stamp = _stamp(self._furthest_cut(now - timedelta(days=keep_days), keep_days, kept_since))
        if not self._cut_moves(stamp, kept_since):
            # Pruned less than PRUNE_EVERY ago, or keep_days grew (what the last cut
            # forgot stays forgotten). A prune scans whole tables: a night's re-runs skip it.
            return 0
        try:
            with self._db:
                self._db.execute("BEGIN IMMEDIATE")
                # Runs are numbered in the order they happened, whatever their clocks said.
                (kept_from,) = self._db.execute(
                    "SELECT COALESCE(MIN(run_id), 1 << 62) FROM runs WHERE started_at >= ?",
                    (stamp,),
                ).fetchone()
                before = (stamp, kept_from)
                gone = self._db.execute(
                    "DELETE FROM attempts WHERE sent_at < ? AND run_id < ?", before
                ).rowcount
                gone += self._db.execute(
                    "DELETE FROM outcomes WHERE finished_at < ? AND run_id < ?", before
                ).rowcount
                gone += self._db.execute(
                    "DELETE FROM reads WHERE read_at < ? AND run_id < ?", before
                ).rowcount
                gone += self._db.execute(
                    "DELETE FROM skips WHERE run_id IN"
                    " (SELECT run_id FROM runs WHERE started_at < ? AND run_id < ?)",
                    before,
                ).rowcount
                self._db.execute(
                    "DELETE FROM runs WHERE started_at < ? AND run_id < ?"
                    " AND run_id NOT IN (SELECT run_id FROM attempts)"
                    " AND run_id NOT IN (SELECT run_id FROM outcomes)"
                    " AND run_id NOT IN (SELECT run_id FROM reads)"
                    " AND run_id NOT IN (SELECT run_id FROM skips)",
                    before,
                )
                self._db.executemany(
                    "INSERT INTO ledger_meta (key, value) VALUES (?, ?)"
                    " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    [("kept_since", stamp), ("kept_days", repr(float(keep_days)))],
                )
        except sqlite3.Error as exc:
            raise LedgerError(f"cannot prune the state database: {exc}") from exc
        return gone

    def _check_clock(self, now: datetime, current_run: int | None) -> None:
        newest = self._db.execute(
            "SELECT run_id, MAX(started_at, COALESCE(ended_at, started_at)) AS at FROM runs"
            " WHERE run_id IS NOT ? ORDER BY at DESC LIMIT 1",
            (current_run,),
        ).fetchone()
        if newest is None:  # a new ledger: nothing to forget, nothing to check against
            return
        run_id, at = newest
        try:
            seen = _parse_stamp(at)
        except ValueError:  # not a time this program wrote: no evidence either way
            return
        if now < seen - CLOCK_SKEW:
            where = "before"
        elif now > seen + CLOCK_JUMP:
            where = f"{(now - seen).days} days after"
        else:
            return
        raise ClockLooksWrong(
            f"the clock looks wrong: it says {_stamp(now)}, {where} the newest run in the"
            f" ledger (run {run_id}, {at}); nothing is forgotten tonight"
        )

    def _furthest_cut(self, cut: datetime, keep_days: float, kept_since: str | None) -> datetime:
        """`cut`, held to one step past the last cut made with the same keep_days."""
        row = self._db.execute("SELECT value FROM ledger_meta WHERE key = 'kept_days'").fetchone()
        if row is None or kept_since is None:
            return cut
        try:
            if float(row[0]) != keep_days:
                return cut
            return min(cut, _parse_stamp(kept_since) + CLOCK_JUMP + PRUNE_EVERY)
        except ValueError:  # not what this program wrote (edited by hand): cut afresh
            return cut

    @staticmethod
    def _cut_moves(stamp: str, kept_since: str | None) -> bool:
        if kept_since is None:
            return True
        try:
            last = _parse_stamp(kept_since)
        except ValueError:  # not a time this program wrote (edited by hand): cut afresh
            return True
        return stamp >= _stamp(last + PRUNE_EVERY)

    def kept_since(self) -> str | None:
        """Where the last prune cut: the ledger knows nothing older (None: never pruned)."""
        try:
            row = self._db.execute(
                "SELECT value FROM ledger_meta WHERE key = 'kept_since'"
            ).fetchone()
        except sqlite3.OperationalError:  # a ledger from before pruning existed
            return None
        return str(row[0]) if row else None

    def remembered_pace(self, account: Account) -> float | None:
        """The pace --rate auto held at the end of this account's last night."""
        row = self._db.execute(
            "SELECT rate FROM paces WHERE account_id = ?", (account.account_id,)
        ).fetchone()
        return float(row[0]) if row else None

    def remember_pace(self, account: Account, rate: float) -> None:
        try:
            self._db.execute(
                "INSERT INTO paces (account_id, rate, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT(account_id) DO UPDATE SET rate = excluded.rate,"
                " updated_at = excluded.updated_at",
                (account.account_id, rate, utc_now()),
            )
        except sqlite3.Error as exc:
            raise LedgerError(f"cannot write the state database: {exc}") from exc


@dataclass(frozen=True)
class HistoryRead:
    """What `history` shows: the entries, the account they were read for, the last cut."""

    entries: list[dict[str, Any]]
    account: Account | None
    kept_since: str | None


def read_history(
    path: Path, order_no: str, warehouse_id: str | None, base_url: str | None, api_key: str | None
) -> HistoryRead:
    """An order's entries, read-only, for the account `base_url` and `api_key` name (every
    account's when either is missing; an account this ledger never saw trusts old runs)."""
    ledger = Ledger(path, read_only=True)
    try:
        account = ledger.find_account(base_url, api_key) if base_url and api_key else None
        if base_url and api_key and account is None:  # no account of this schema yet
            account = Account(0, normalize_base_url(base_url), "")
        entries = list(ledger.history(order_no, warehouse_id, account))
        return HistoryRead(entries, account, ledger.kept_since())
    finally:
        ledger.close()


# Only the run's own attempt: another run's (a re-send, another account's) is not its answer.
_READ_BACK_CANCEL = (
    "UPDATE attempts SET answered_at = ?, http_status = ?, error_code = ?, error_message = ?,"
    " request_id = ?, cancelled = 1 WHERE order_no = ? AND warehouse_id = ? AND attempt_id ="
    " (SELECT MAX(attempt_id) FROM attempts WHERE order_no = ? AND warehouse_id = ?"
    " AND run_id = ? AND answered_at IS NULL AND sent_at <= ?)"
)
