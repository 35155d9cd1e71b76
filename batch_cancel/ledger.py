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

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import os
import secrets
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import ClockLooksWrong, LedgerError, LedgerOpenError
from .models import (
    ApiAnswer,
    CancelRequest,
    LoadedRow,
    LocalCode,
    Outcome,
    ReadAnswer,
    RowResult,
    utc_now,
)

SCHEMA_VERSION = 4
PAGE_SIZE = 1024
# Versions `history` reads as they are (see _history_sql); a run upgrades them.
READABLE_VERSIONS = frozenset({1, 2, 3, SCHEMA_VERSION})

# Attempts closed with these codes never reached Shipper: the run stopped between
# recording and sending, or the TLS handshake failed. They leave no doubt behind.
NEVER_LEFT = frozenset({LocalCode.RUN_INTERRUPTED, LocalCode.TLS_ERROR})

# Schema 2. Attempts and outcomes are clustered by order (WITHOUT ROWID, the order
# first in the primary key): a row costs one B-tree entry per table and no secondary
# index, the re-run look-up and `history` read one key range, and since marketplaces
# number orders by date, a night's writes land on the same few pages at the end of
# each tree. Schema 1 (a rowid table per kind plus an index by order on each) wrote
# five B-trees per row; `_upgrade` moves an old ledger over.
# Schema 3 adds `skips`: a row skipped as already cancelled is one short entry at the
# end of a table in run order, not an outcome placed among that order's earlier ones
# (a re-run of a whole file then rewrote every page of the outcomes tree). Schema 2
# ledgers gain the table on open; the skipped outcomes they hold stay where they are.
# Schema 4 adds accounts: a run names its account (one column on `runs`, so attempts,
# outcomes and skips reach theirs through their run, at no cost per row), and outcomes
# and skips name the night's file (a row number alone is shared by every file of a
# multi-file night). `_upgrade` moves a schema 1, 2 or 3 ledger over. It adds
# `run_files`, the identity of the results files a run has not finished (read back after
# a kill or a full ledger disk), and `reads`, each read-back of an order (docs/api.md).
_SCHEMA = (
    # Who a run talked to: the base URL as normalize_base_url gives it, and a keyed
    # hash of the key (HMAC-SHA256 with the ledger's `account_secret`, truncated).
    # '' as the fingerprint: a run recorded before schema 4, key unknown (see Account).
    """CREATE TABLE IF NOT EXISTS accounts (
    account_id      INTEGER PRIMARY KEY,
    base_url        TEXT NOT NULL,
    key_fingerprint TEXT NOT NULL,
    UNIQUE (base_url, key_fingerprint)
)""",
    """CREATE TABLE IF NOT EXISTS runs (
    run_id        INTEGER PRIMARY KEY,
    started_at    TEXT NOT NULL,
    ended_at      TEXT,
    input_path    TEXT NOT NULL,
    input_sha256  TEXT NOT NULL,   -- '' until the run ends (hashed beside the run)
    options_json  TEXT NOT NULL,
    pid           INTEGER NOT NULL,
    exit_status   INTEGER,
    account_id    INTEGER REFERENCES accounts(account_id)
)""",
    """CREATE TABLE IF NOT EXISTS attempts (
    order_no      TEXT NOT NULL,
    warehouse_id  TEXT NOT NULL,
    attempt_id    INTEGER NOT NULL, -- increasing over the ledger's life: (run_id << 32) + n
    run_id        INTEGER NOT NULL REFERENCES runs(run_id),
    source_row    INTEGER NOT NULL,
    attempt       INTEGER NOT NULL,
    sent_at       TEXT NOT NULL,
    answered_at   TEXT,            -- NULL: sent, never answered (killed, or no answer)
    http_status   INTEGER,
    error_code    TEXT,
    error_message TEXT,
    request_id    TEXT,
    cancelled     INTEGER NOT NULL DEFAULT 0, -- 1: this answer confirmed the order cancelled
    PRIMARY KEY (order_no, warehouse_id, attempt_id)
) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS outcomes (
    order_no      TEXT NOT NULL,
    warehouse_id  TEXT NOT NULL,
    run_id        INTEGER NOT NULL REFERENCES runs(run_id),
    file          INTEGER NOT NULL, -- the run's input file (0, 1, ...); -1: before schema 4
    source_row    INTEGER NOT NULL,
    status        TEXT NOT NULL,
    http_status   INTEGER,
    error_code    TEXT,
    error_message TEXT,            -- NULL on `skipped` rows of schema 2 (skips holds the new)
    attempts      INTEGER NOT NULL,
    request_id    TEXT,
    finished_at   TEXT NOT NULL,
    PRIMARY KEY (order_no, warehouse_id, run_id, file, source_row)
) WITHOUT ROWID""",
    # Rows a run skipped because an earlier run cancelled the order: which order, which
    # row. Appended in run order (a rowid table, no index); `history` scans it.
    """CREATE TABLE IF NOT EXISTS skips (
    run_id        INTEGER NOT NULL REFERENCES runs(run_id),
    file          INTEGER NOT NULL, -- as in outcomes
    source_row    INTEGER NOT NULL,
    order_no      TEXT NOT NULL,
    warehouse_id  TEXT NOT NULL
)""",
    # Facts about the ledger itself: `kept_since`, where the last prune (--keep-days) cut;
    # `account_secret`, the HMAC key of the accounts' key fingerprints.
    """CREATE TABLE IF NOT EXISTS ledger_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
)""",
    # The results files a run has started and not yet finished in order (RunRecord.end
    # deletes them): after a kill or a full ledger disk, the next run reads its cancels
    # back from the file with this identity (st_dev, st_ino), wherever it now is.
    """CREATE TABLE IF NOT EXISTS run_files (
    run_id        INTEGER NOT NULL,
    file          INTEGER NOT NULL, -- as in outcomes
    output_path   TEXT NOT NULL,
    partial_path  TEXT NOT NULL,
    archive_path  TEXT,            -- the source's archive folder, if it has one
    dev           INTEGER NOT NULL,
    ino           INTEGER NOT NULL,
    PRIMARY KEY (run_id, file)
)""",
    # Read-backs (GET the order) of orders in doubt, clustered by order as attempts are.
    # read_id comes from the run's attempt counter, so reads and attempts of an order
    # sort in the order they happened. cancelled = 1: Shipper showed the order cancelled.
    """CREATE TABLE IF NOT EXISTS reads (
    order_no      TEXT NOT NULL,
    warehouse_id  TEXT NOT NULL,
    read_id       INTEGER NOT NULL,
    run_id        INTEGER NOT NULL REFERENCES runs(run_id),
    read_at       TEXT NOT NULL,
    http_status   INTEGER,         -- NULL: no answer
    so_status     TEXT,
    qty_allocated INTEGER,
    error_code    TEXT,
    error_message TEXT,
    request_id    TEXT,
    cancelled     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (order_no, warehouse_id, read_id)
) WITHOUT ROWID""",
    # --rate auto: the pace that held at the end of the last night, per account.
    """CREATE TABLE IF NOT EXISTS paces (
    account_id INTEGER PRIMARY KEY REFERENCES accounts(account_id),
    rate       REAL NOT NULL,
    updated_at TEXT NOT NULL
)""",
)

_ATTEMPT_COLUMNS = (
    "order_no, warehouse_id, attempt_id, run_id, source_row, attempt, sent_at, answered_at,"
    " http_status, error_code, error_message, request_id, cancelled"
)
_OUTCOME_COLUMNS = (
    "order_no, warehouse_id, run_id, file, source_row, status, http_status, error_code,"
    " error_message, attempts, request_id, finished_at"
)


def ledger_write_failed(path: Path | None, exc: BaseException) -> LedgerError:
    """The one message for a ledger that stopped taking writes: its path and the cause."""
    ledger = f"the ledger {path}" if path else "the ledger"
    return LedgerError(f"{ledger} could not be written ({exc})")


def _create_tables(db: sqlite3.Connection) -> None:
    for statement in _SCHEMA:
        db.execute(statement)


def _upgrade(db: sqlite3.Connection, version: int) -> None:
    """Schema 1, 2 or 3 -> 4 in one transaction: every run, attempt, outcome and skip kept.

    Each old run gets the account of the base URL its options recorded, key unknown
    (fingerprint ''): see Account for what such evidence counts for. Old outcomes and
    skips get file -1 (not recorded). Old paces are dropped: they were keyed by an
    unkeyed hash of the base URL and the key, and a pace is learned again in one night.
    """
    db.execute("BEGIN IMMEDIATE")
    try:
        old = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        moved = ["outcomes", *(["attempts"] if version == 1 else []), *(old & {"skips"})]
        for table in moved:
            db.execute(f"ALTER TABLE {table} RENAME TO {table}_old")
        db.execute("DROP TABLE IF EXISTS paces")
        db.execute("DROP INDEX IF EXISTS attempts_by_order")
        db.execute("DROP INDEX IF EXISTS outcomes_by_order")
        db.execute("ALTER TABLE runs ADD COLUMN account_id INTEGER REFERENCES accounts(account_id)")
        _create_tables(db)
        if version == 1:
            db.execute(
                f"INSERT INTO attempts ({_ATTEMPT_COLUMNS})"  # noqa: S608
                f" SELECT {_ATTEMPT_COLUMNS} FROM attempts_old"
            )
        old_outcome_columns = _OUTCOME_COLUMNS.replace(" file,", "")
        db.execute(
            f"INSERT INTO outcomes ({_OUTCOME_COLUMNS})"  # noqa: S608
            f" SELECT {old_outcome_columns.replace('run_id,', 'run_id, -1,')} FROM outcomes_old"
        )
        if "skips" in old:
            db.execute(
                "INSERT INTO skips (run_id, file, source_row, order_no, warehouse_id)"
                " SELECT run_id, -1, source_row, order_no, warehouse_id FROM skips_old"
            )
        for table in moved:
            db.execute(f"DROP TABLE {table}_old")
        for run_id, options_json in db.execute("SELECT run_id, options_json FROM runs").fetchall():
            account_id = _account_id(db, _recorded_base_url(options_json), "")
            db.execute("UPDATE runs SET account_id = ? WHERE run_id = ?", (account_id, run_id))
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def _recorded_base_url(options_json: str) -> str:
    """The normalized base URL a run recorded in its options; '' if none (or unreadable)."""
    try:
        base_url = json.loads(options_json).get("base_url")
    except (ValueError, AttributeError):
        return ""
    return normalize_base_url(base_url) if isinstance(base_url, str) else ""


def _account_id(db: sqlite3.Connection, base_url: str, fingerprint: str) -> int:
    db.execute(
        "INSERT OR IGNORE INTO accounts (base_url, key_fingerprint) VALUES (?, ?)",
        (base_url, fingerprint),
    )
    row = db.execute(
        "SELECT account_id FROM accounts WHERE base_url = ? AND key_fingerprint = ?",
        (base_url, fingerprint),
    ).fetchone()
    return int(row[0])


def normalize_base_url(base_url: str) -> str:
    """One spelling per API endpoint: scheme and host lower-case, no default port, no end slash."""
    parts = urlsplit(base_url.strip())
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if ":" in host:  # an IPv6 address keeps its brackets
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is not None and port != {"http": 80, "https": 443}.get(scheme):
        host = f"{host}:{port}"
    return f"{scheme}://{host}{parts.path.rstrip('/')}"


@dataclass(frozen=True, slots=True)
class Account:
    """Who a run talked to: a normalized base URL and a fingerprint of the key.

    Evidence recorded at an account counts for a run at another only when both name
    the same base URL and the same key, or the evidence was recorded before schema 4
    (fingerprint '': key unknown). So an old ledger's cancels still count at the host
    they were made at, whatever the key, and never at another host.
    """

    account_id: int
    base_url: str
    key_fingerprint: str

    @property
    def host(self) -> str:
        """What a summary may show of it: host[:port], never the key or its fingerprint."""
        return urlsplit(self.base_url).netloc or "(unknown host)"

    def trusts(self, other: Account) -> bool:
        return self.base_url == other.base_url and other.key_fingerprint in (
            self.key_fingerprint,
            "",
        )


def _fingerprint(secret: str, api_key: str) -> str:
    return hmac.new(secret.encode(), api_key.encode(), hashlib.sha256).hexdigest()[:32]


OrderKey = tuple[str, str]  # (order_no, warehouse_id)
# Rows looked up in the ledger per query: few enough that the first request is not delayed.
LOOKUP_BATCH = 256

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


@dataclass(slots=True)  # one per skipped row: not frozen, see models.CancelRequest
class PriorCancel:
    run_id: int
    finished_at: str
    request_id: str = ""


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


@dataclass(frozen=True, slots=True)
class UnansweredAttempt:
    run_id: int
    sent_at: str
    reason: str  # "killed" (the run died mid-request), "timeout", "connection_error"


@dataclass(frozen=True, slots=True)
class LookUp:
    """What a re-run knows of some orders, at its own account (see Ledger.look_up)."""

    cancelled: dict[OrderKey, PriorCancel]
    unanswered: dict[OrderKey, UnansweredAttempt]
    # Orders cancelled only at accounts this one does not trust: where (the host), which run.
    cancelled_elsewhere: dict[OrderKey, tuple[str, int]]


class Ledger:
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

    def _accounts(self) -> dict[int, Account]:
        return {
            account_id: Account(account_id, base_url, fingerprint)
            for account_id, base_url, fingerprint in self._db.execute(
                "SELECT account_id, base_url, key_fingerprint FROM accounts"
            )
        }

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

    # -- questions a re-run asks ----------------------------------------------

    def look_up(self, keys: Sequence[OrderKey], account: Account) -> LookUp:
        """What a re-run at `account` must know of these (order_no, warehouse_id), in one query.

        First, the run that cancelled each order, if any answer ever confirmed the
        cancel at an account this one trusts (Account.trusts). Cancelled is final in
        Shipper, so a later refusal (a --force-resend answered "already cancelled")
        does not undo it. Attempts, not row outcomes, are asked: an answer is written
        as it arrives, so a run killed before it recorded the row's outcome still counts.

        Second, each order whose last attempt here was sent and never answered (killed
        mid-request, or a timeout): Shipper may or may not have cancelled it.

        Third, orders cancelled only at other accounts: they are sent, and the summary
        says where they had been cancelled.
        """
        if not keys:
            return LookUp({}, {}, {})
        accounts = self._accounts()
        trusted = {key for key, other in accounts.items() if account.trusts(other)}
        wanted = "WITH wanted(o, w) AS (VALUES " + ", ".join(["(?, ?)"] * len(keys)) + ")"
        params = [part for key in keys for part in key]
        # Only "(?, ?)" placeholders are joined into the SQL; the keys are parameters.
        # One query, oldest attempt first: a later attempt's entry replaces an earlier one.
        # The run's account is one look-up in the small runs table per attempt.
        # Read-backs come in among them (is_read = 1), in the order they happened.
        attempts = self._db.execute(
            f"{wanted} SELECT order_no, warehouse_id, a.run_id, sent_at, answered_at,"  # noqa: S608
            " http_status, error_code, cancelled, request_id, r.account_id, 0 AS is_read,"
            " attempt_id AS id"
            " FROM wanted JOIN attempts a ON order_no = o AND warehouse_id = w"
            " JOIN runs r ON r.run_id = a.run_id"
            " UNION ALL SELECT order_no, warehouse_id, d.run_id, read_at, read_at, http_status,"
            " error_code, cancelled, request_id, r.account_id, 1, read_id"
            " FROM wanted JOIN reads d ON order_no = o AND warehouse_id = w"
            " JOIN runs r ON r.run_id = d.run_id ORDER BY id",
            params,
        )
        prior: dict[OrderKey, PriorCancel] = {}
        unanswered: dict[OrderKey, UnansweredAttempt] = {}
        elsewhere: dict[OrderKey, tuple[str, int]] = {}
        for row in attempts:
            order_no, warehouse_id, run_id, sent_at, answered_at, http_status, code = row[:7]
            cancelled, request_id, account_id, is_read = row[7:11]
            key = (order_no, warehouse_id)
            if account_id not in trusted:
                if cancelled:
                    other = accounts.get(account_id)
                    elsewhere[key] = (other.host if other else "(unknown host)", run_id)
                continue
            if cancelled:
                prior[key] = PriorCancel(run_id, answered_at, request_id or "")
            if is_read:  # an answered read showed what became of the attempts before it
                if http_status is not None:
                    unanswered.pop(key, None)
                continue
            # Only the order's last attempt counts: a later answered one clears the doubt.
            if http_status is None and code not in NEVER_LEFT:
                unanswered[key] = UnansweredAttempt(run_id, sent_at, code or "killed")
            elif unanswered:
                unanswered.pop(key, None)
        for key in prior:
            elsewhere.pop(key, None)
        return LookUp(prior, unanswered, elsewhere)

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
        stamp = _stamp(self._furthest_cut(now - timedelta(days=keep_days), keep_days))
        if not self._cut_moves(stamp):
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

    def _furthest_cut(self, cut: datetime, keep_days: float) -> datetime:
        """`cut`, held to one step past the last cut made with the same keep_days."""
        row = self._db.execute("SELECT value FROM ledger_meta WHERE key = 'kept_days'").fetchone()
        kept_since = self.kept_since()
        if row is None or kept_since is None:
            return cut
        try:
            if float(row[0]) != keep_days:
                return cut
            return min(cut, _parse_stamp(kept_since) + CLOCK_JUMP + PRUNE_EVERY)
        except ValueError:  # not what this program wrote (edited by hand): cut afresh
            return cut

    def _cut_moves(self, stamp: str) -> bool:
        kept_since = self.kept_since()
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

    def history(
        self, order_no: str, warehouse_id: str | None = None, account: Account | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every attempt and outcome recorded for an order, oldest first.

        Each entry names its input file and row, and the host of its run's account;
        `this_account` says whether `account` trusts that account (None: none given).
        """
        v4 = self._version >= 4
        # Only constant SQL is joined (the parts the ledger's schema has).
        cursor = self._db.execute(
            "SELECT 'attempt' AS kind, a.run_id, a.warehouse_id, a.sent_at AS at, a.attempt,"  # noqa: S608
            " a.answered_at, a.http_status, a.error_code, a.error_message, a.request_id,"
            " NULL AS status, r.input_path, a.source_row, -1 AS file, r.options_json,"
            + (" r.account_id" if v4 else " NULL AS account_id")
            + " FROM attempts a JOIN runs r USING (run_id)"
            " WHERE a.order_no = :order_no AND (:wh IS NULL OR a.warehouse_id = :wh)"
            " UNION ALL "
            "SELECT 'outcome', o.run_id, o.warehouse_id, o.finished_at, o.attempts, NULL,"
            " o.http_status, o.error_code, o.error_message, o.request_id, o.status, r.input_path,"
            + (" o.source_row, o.file, r.options_json, r.account_id" if v4 else _OLD_ROW_PARTS)
            + " FROM outcomes o JOIN runs r USING (run_id)"
            " WHERE o.order_no = :order_no AND (:wh IS NULL OR o.warehouse_id = :wh)"
            + (
                _HISTORY_SKIPS.format(*(("s.file", "r.account_id") if v4 else ("-1", "NULL")))
                if self._version >= 3
                else ""
            )
            + (_HISTORY_READS if self._has_reads() else "")
            + " ORDER BY at, kind",
            {
                "order_no": order_no,
                "wh": warehouse_id,
                "skipped": Outcome.SKIPPED.value,
                "already_cancelled": LocalCode.ALREADY_CANCELLED.value,
            },
        )
        names = [column[0] for column in cursor.description]
        accounts = self._accounts() if v4 else {}
        for values in cursor:
            entry = dict(zip(names, values, strict=True))
            options_json, account_id = entry.pop("options_json"), entry.pop("account_id")
            own = accounts.get(account_id) or Account(0, _recorded_base_url(options_json), "")
            entry["input_path"] = _input_of(entry["input_path"], entry["file"], options_json)
            entry["host"] = own.host
            entry["this_account"] = account.trusts(own) if account is not None else None
            yield entry

    def _has_reads(self) -> bool:
        """Whether the ledger has the reads table (a ledger read as it is may not)."""
        found = self._db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'reads'"
        ).fetchone()
        return found is not None


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


def _input_of(run_input: str, file: int, options_json: str) -> str:
    """The entry's input file: the run's (every file, joined) when the file is not recorded."""
    if file < 0:
        return run_input
    try:
        return str(json.loads(options_json)["files"][file]["input"])
    except (ValueError, LookupError, TypeError):
        return run_input


_OLD_ROW_PARTS = " o.source_row, -1, r.options_json, NULL AS account_id"
# A skip reads as the outcome it stands for: no attempt, no answer, at the run's start.
_HISTORY_SKIPS = (
    " UNION ALL "
    "SELECT 'outcome', s.run_id, s.warehouse_id, r.started_at, 0, NULL, NULL,"
    " :already_cancelled, NULL, NULL, :skipped, r.input_path, s.source_row, {},"
    " r.options_json, {} AS account_id"
    " FROM skips s JOIN runs r USING (run_id)"
    " WHERE s.order_no = :order_no AND (:wh IS NULL OR s.warehouse_id = :wh)"
)
# A read-back reads as an entry of its own kind: Shipper's status in `status`.
_HISTORY_READS = (
    " UNION ALL "
    "SELECT 'read', d.run_id, d.warehouse_id, d.read_at, NULL, d.read_at, d.http_status,"
    " d.error_code, d.error_message, d.request_id, d.so_status, r.input_path, NULL, -1,"
    " r.options_json, r.account_id"
    " FROM reads d JOIN runs r USING (run_id)"
    " WHERE d.order_no = :order_no AND (:wh IS NULL OR d.warehouse_id = :wh)"
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
# Only the run's own attempt: another run's (a re-send, another account's) is not its answer.
_READ_BACK_CANCEL = (
    "UPDATE attempts SET answered_at = ?, http_status = ?, error_code = ?, error_message = ?,"
    " request_id = ?, cancelled = 1 WHERE order_no = ? AND warehouse_id = ? AND attempt_id ="
    " (SELECT MAX(attempt_id) FROM attempts WHERE order_no = ? AND warehouse_id = ?"
    " AND run_id = ? AND answered_at IS NULL AND sent_at <= ?)"
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


def skip_already_cancelled(
    rows: Iterable[LoadedRow],
    ledger: Ledger,
    account: Account,
    *,
    force_resend: bool = False,
    cancelled_elsewhere: Counter[str] | None = None,
) -> Iterator[LoadedRow]:
    """Turn rows an earlier run at this account cancelled into `skipped`; flag rows in doubt.

    This is what makes re-running the recovery path: the same file, or the next
    night's overlapping export, sends only what is not known to be cancelled.
    A row cancelled only at another account is sent; `cancelled_elsewhere` counts
    such rows by the host they were cancelled at.
    """
    rows = iter(rows)
    while True:
        batch: list[LoadedRow] = []
        broke_off: Exception | None = None
        try:
            batch.extend(itertools.islice(rows, LOOKUP_BATCH))
        except Exception as exc:  # the input broke off: the rows read before it still count
            broke_off = exc
        yield from _skip_known(
            batch,
            ledger,
            account,
            force_resend=force_resend,
            cancelled_elsewhere=Counter() if cancelled_elsewhere is None else cancelled_elsewhere,
        )
        if broke_off is not None:
            raise broke_off
        if len(batch) < LOOKUP_BATCH:
            return


def _skip_known(
    batch: list[LoadedRow],
    ledger: Ledger,
    account: Account,
    *,
    force_resend: bool,
    cancelled_elsewhere: Counter[str],
) -> Iterator[LoadedRow]:
    keys = [
        (row.request.order_no, row.request.warehouse_id)
        for row in batch
        if row.request and not row.verdict
    ]
    known = ledger.look_up(keys, account)
    for row in batch:
        request = row.request
        if request is None or row.verdict is not None:
            yield row
            continue
        key = (request.order_no, request.warehouse_id)
        prior = None if force_resend else known.cancelled.get(key)
        if prior is not None:
            # The earlier run's answer, as its results file had it: its request id and time.
            skipped = RowResult(
                source_row=row.source_row,
                status=Outcome.SKIPPED,
                error_code=LocalCode.ALREADY_CANCELLED,
                error_message=f"already cancelled at {prior.finished_at} in run {prior.run_id}",
                request_id=prior.request_id,
                finished_at=prior.finished_at,
            )
            # The request stays: history finds the order. (The constructor, not replace():
            # it copies field by field, and was most of this loop's own time.)
            yield LoadedRow(row.source_row, row.cells, request, skipped, row.file)
            continue
        notes = [request.note]
        elsewhere = known.cancelled_elsewhere.get(key)
        if elsewhere is not None:
            host, run_id = elsewhere
            cancelled_elsewhere[host] += 1
            notes.append(f"cancelled at another account ({host}, run {run_id}); sent here")
        doubt = known.unanswered.get(key)
        if doubt is not None:
            why = "the run was killed mid-request" if doubt.reason == "killed" else doubt.reason
            notes.append(
                f"an earlier attempt (run {doubt.run_id}, {doubt.sent_at}) was sent but never "
                f"answered ({why}); Shipper may already have cancelled it"
            )
        if len(notes) > 1:
            request = replace(
                request, note="; ".join(filter(None, notes)), in_doubt=doubt is not None
            )
            row = replace(row, request=request)
        yield row
