"""The ledger's schema and its upgrades, and the accounts a run belongs to.

A ledger of schema 1, 2 or 3 is moved over to SCHEMA_VERSION when a run opens it
(`_upgrade`); `history` reads it as it is (READABLE_VERSIONS).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .errors import LedgerError

SCHEMA_VERSION = 4
PAGE_SIZE = 1024
# Versions `history` reads as they are (see _history_sql); a run upgrades them.
READABLE_VERSIONS = frozenset({1, 2, 3, SCHEMA_VERSION})

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
