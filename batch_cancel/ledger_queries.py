"""The questions the ledger answers: what a re-run at an account knows of its orders
(`look_up`, `skip_already_cancelled`) and an order's `history`.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from .ledger_schema import Account, _recorded_base_url
from .models import (
    LoadedRow,
    LocalCode,
    Outcome,
    RowResult,
)

# Attempts closed with these codes never reached Shipper: the run stopped between
# recording and sending, or the TLS handshake failed. They leave no doubt behind.
NEVER_LEFT = frozenset({LocalCode.RUN_INTERRUPTED, LocalCode.TLS_ERROR})


OrderKey = tuple[str, str]  # (order_no, warehouse_id)
# Rows looked up in the ledger per query: few enough that the first request is not delayed.
LOOKUP_BATCH = 256


@dataclass(slots=True)  # one per skipped row: not frozen, see models.CancelRequest
class PriorCancel:
    run_id: int
    finished_at: str
    request_id: str = ""


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


class LedgerQueries:
    """The read side of Ledger (its base class): the queries a re-run and `history` ask."""

    _db: sqlite3.Connection
    _version: int

    def _accounts(self) -> dict[int, Account]:
        return {
            account_id: Account(account_id, base_url, fingerprint)
            for account_id, base_url, fingerprint in self._db.execute(
                "SELECT account_id, base_url, key_fingerprint FROM accounts"
            )
        }

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


def skip_already_cancelled(
    rows: Iterable[LoadedRow],
    ledger: LedgerQueries,
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
    ledger: LedgerQueries,
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
