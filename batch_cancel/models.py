"""Records that flow through a run: what to send, and what became of each row.

Plain dataclasses (frozen, except the ones made once per row: see CancelRequest)
and str-valued enums, no I/O, so every other module can share them without
pulling in aiohttp or sqlite3.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum, StrEnum

# The API's field limits (docs/api.md, "Body shape"). Counted in
# characters: the documentation does not say characters or bytes, and this is
# the one place to change if Shipper ever says otherwise.
ORDER_NO_MAX = 50
WAREHOUSE_ID_MAX = 20
CANCEL_REASON_MAX = 50

FIELDS = ("order_no", "warehouse_id", "cancel_reason")


class ExitStatus(IntEnum):
    """The process exit status; documented in the README, cron wrappers depend on it."""

    SUCCESS = 0  # every row cancelled, skipped (cancelled before) or a duplicate
    ROWS_NEED_ATTENTION = 1  # finished, but some rows are invalid / rejected / failed / not sent
    USAGE_OR_INPUT = 2  # bad flags, configuration or unreadable input; nothing sent
    API_REFUSED_OR_DOWN = 3  # the API refused the key, or looked down; the rest not sent
    LOCKED = 4  # another run holds the state lock or the results file; nothing done
    NOT_FOUND = 5  # history: the ledger has no record of that order (or there is no ledger)
    RECORDING_FAILED = 6  # the ledger or a results file could not be written: the run stopped
    INTERNAL_ERROR = 70  # an error nobody foresaw (a bug, memory exhausted): did not finish
    OUTPUT_LOST = 120  # stdout/stderr could not be flushed at exit (as CPython exits then)
    HANGUP = 129  # SIGHUP (the terminal closed)
    INTERRUPTED = 130  # SIGINT (Ctrl-C)
    TERMINATED = 143  # SIGTERM


class Outcome(StrEnum):
    """The `result_status` of a row in the results CSV."""

    CANCELLED = "cancelled"  # the API confirmed the cancel (HTTP 2xx)
    REJECTED = "rejected"  # the API refused this row (4xx other than 401/403/429)
    FAILED = "failed"  # transient errors outlasted the retries
    # sent, never answered, and no read-back could say what Shipper did: check it there
    IN_DOUBT = "in_doubt"
    INVALID = "invalid"  # not sent: the row failed local validation
    DUPLICATE = "duplicate"  # not sent: same order earlier in the file
    SKIPPED = "skipped"  # not sent: an earlier run already cancelled it (the ledger says so)
    NOT_SENT = "not_sent"  # not sent: the run stopped (or --dry-run) before it


# Outcomes that mean somebody should look at the row the next morning.
NEEDS_ATTENTION = frozenset(
    {Outcome.REJECTED, Outcome.FAILED, Outcome.IN_DOUBT, Outcome.INVALID, Outcome.NOT_SENT}
)


def needs_attention(counts: Mapping[Outcome, int], *, dry_run: bool = False) -> int:
    """Rows a person must look at; a dry run's not_sent rows are its point, not a problem."""
    statuses = NEEDS_ATTENTION - {Outcome.NOT_SENT} if dry_run else NEEDS_ATTENTION
    return sum(counts.get(outcome, 0) for outcome in statuses)


def breakdown(counts: Mapping[Outcome, int]) -> str:
    """'cancelled 38, rejected 2': the statuses that have rows, in the counts' own order."""
    return ", ".join(f"{outcome.value} {count}" for outcome, count in counts.items() if count)


def status_lines(counts: Mapping[Outcome, int], *, dry_run: bool = False) -> list[str]:
    """The per-status table of every summary: one line per status that has rows."""
    return [
        f"  {outcome.value:<10} {counts[outcome]:>7}" + _mark(outcome, dry_run=dry_run)
        for outcome in Outcome
        if counts.get(outcome)
    ]


def _mark(outcome: Outcome, *, dry_run: bool) -> str:
    if dry_run and outcome is Outcome.NOT_SENT:
        return "  <- would be sent"
    return "  <- needs attention" if outcome in NEEDS_ATTENTION else ""


class LocalCode(StrEnum):
    """`result_error_code` values made by batch-cancel itself (the API's codes are numbers)."""

    ORDER_NO_MISSING = "order_no_missing"
    ORDER_NO_TOO_LONG = "order_no_too_long"
    WAREHOUSE_ID_MISSING = "warehouse_id_missing"
    WAREHOUSE_ID_TOO_LONG = "warehouse_id_too_long"
    CANCEL_REASON_MISSING = "cancel_reason_missing"
    CANCEL_REASON_SHORTENED = "cancel_reason_shortened"  # a note; the row is still sent
    DUPLICATE_ROW = "duplicate_row"
    ALREADY_CANCELLED = "already_cancelled"  # skipped: cancelled by an earlier run
    CONNECTION_ERROR = "connection_error"
    DNS_ERROR = "dns_error"  # the API's host name did not resolve
    TIMEOUT = "timeout"
    AUTH_REFUSED = "auth_refused"  # not_sent: the API refused the key on an earlier row
    API_DOWN = "api_down"  # not_sent: the API looked down, the run stopped for tonight
    TLS_ERROR = "tls_error"  # the API's certificate failed verification; the run stopped
    RUN_INTERRUPTED = "run_interrupted"  # not_sent: Ctrl-C / SIGTERM
    INTERNAL_ERROR = "internal_error"  # failed: a bug in batch-cancel; please report it
    # in_doubt: sent, no answer, and neither the ledger nor a read-back could settle it
    IN_DOUBT = "in_doubt"
    DRY_RUN = "dry_run"  # not_sent: --dry-run
    # invalid rows from hostile or damaged input (README, "Input files"):
    WRONG_FIELD_COUNT = "wrong_field_count"  # more or fewer fields than the header
    UNCLOSED_QUOTE = "unclosed_quote"  # a quote never closes; this row and the rest unread
    REPEATED_HEADER = "repeated_header"  # the header line again mid-file: two exports joined
    CONTROL_CHARACTERS = "control_characters"  # e.g. NUL, ESC, bidi overrides in a value
    SCIENTIFIC_NOTATION = "scientific_notation"  # order_no like 1.23457E+14: digits lost
    GARBLED_TEXT = "garbled_text"  # an identifier holds U+FFFD from a bad conversion
    DATE_AS_ORDER_NO = "date_as_order_no"  # a workbook's order_no cell holds a date or time


@dataclass(frozen=True, slots=True)
class ApiAnswer:
    """One HTTP answer from the cancel endpoint, reduced to what a results row needs."""

    http_status: int
    error_code: str = ""
    error_message: str = ""
    request_id: str = ""
    retry_after_s: float | None = None


@dataclass(frozen=True, slots=True)
class ReadAnswer:
    """One HTTP answer from the order read (docs/api.md, "The read-back")."""

    http_status: int
    so_status: str = ""  # data.outbound.so_status, as Shipper spells it; "" if none
    qty_allocated: int | None = None  # summed over data.outbound.details[]; None if absent
    error_code: str = ""
    error_message: str = ""
    request_id: str = ""
    retry_after_s: float | None = None


# One of each per row, so not frozen: a frozen dataclass's __init__ sets every field
# through object.__setattr__, which was a quarter of `validate`'s time on a 1M-row
# file. Nothing changes them once made all the same: derive with dataclasses.replace.
@dataclass(slots=True)
class CancelRequest:
    """One validated row, ready to send."""

    source_row: int  # 1 = first data row of the input file
    order_no: str
    warehouse_id: str
    cancel_reason: str
    note: str = ""  # e.g. "cancel_reason shortened ..." carried into the result
    # An earlier run's last attempt was sent and never answered: read back before sending.
    in_doubt: bool = False


@dataclass(slots=True)  # per row: not frozen, see CancelRequest
class RowResult:
    """What became of one input row; one per data row, exactly once."""

    source_row: int
    status: Outcome
    http_status: int | None = None
    error_code: str = ""
    error_message: str = ""
    attempts: int = 0
    request_id: str = ""
    finished_at: str = ""  # ISO-8601 UTC


@dataclass(slots=True)  # per row: not frozen, see CancelRequest
class LoadedRow:
    """A data row as read from the file: its original cells, and either a request or a verdict."""

    source_row: int
    cells: tuple[str, ...]  # the original cells, echoed unchanged into the results
    # What the row asks for; None when it is not valid. Kept on a duplicate or skipped
    # row too, so the ledger records which order that outcome was for.
    request: CancelRequest | None
    verdict: RowResult | None  # set when the row is not to be sent (wins over request)
    file: int = 0  # which of the night's input files it came from (their order in the run)


def utc_now() -> str:
    """Now as the results and the ledger write it: ISO-8601 UTC to the millisecond."""
    seconds, millis = divmod(time.time_ns() // 1_000_000, 1000)
    return f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(seconds))}.{millis:03d}Z"
