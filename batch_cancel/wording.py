"""Why rows need attention, in words: the sentence `summarize`, `report` and `run` print.

"12 rows need attention: 9 rejected because stock is allocated, 3 invalid."
Shared by the run's own summary (job.py) and the review (review.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, tzinfo

from .models import NEEDS_ATTENTION, Outcome, RowResult

# Phrases for the plain sentence. A code is phrased only where Shipper documents it
# (docs/api.md); anything else is recognised by what its message says, so
# the sentence never claims a cause the row does not show. NOTE: this is also how the
# sandbox's 9001 ("stock is already allocated ...") is covered: 9001 is a sandbox
# stand-in, and the real API may use that number for something else.
UNKNOWN_ORDER = "because Shipper does not know the order"
INPUT_REFUSED = "because Shipper found the input invalid"
KEY_REFUSED = "because the API refused the key"
ALLOCATED = "because stock is allocated"
ALREADY_CANCELLED = "because the order was already cancelled"
SHIPPED = "because the order has shipped"
_CODE_REASONS = {
    "3012": UNKNOWN_ORDER,
    "810": INPUT_REFUSED,
    "802": KEY_REFUSED,
    "10001": KEY_REFUSED,
}
# Shipper's status names for an order gone from the warehouse (its webhooks' shipped states).
_MESSAGE_REASONS = (
    ("allocated", ALLOCATED),
    ("already cancel", ALREADY_CANCELLED),
    ("shipped", SHIPPED),
    ("delivered", SHIPPED),
    ("is closed", SHIPPED),
)
# (says it, says the opposite, phrase): "not yet allocated" must not read as "allocated".
_MESSAGE_RULES = tuple(
    (
        re.compile(rf"\b{re.escape(keyword)}", re.IGNORECASE),
        re.compile(rf"\b(?:not|never|no)\b[^.;:]*\b{re.escape(keyword)}", re.IGNORECASE),
        phrase,
    )
    for keyword, phrase in _MESSAGE_REASONS
)


def reason_of(result: RowResult) -> str:
    """What the sentence says about one row that needs attention ("" when its status says it)."""
    return rejection_reason(result) if result.status is Outcome.REJECTED else ""


def ranked(counts: Mapping[str, int]) -> list[tuple[str, int]]:
    """Most common first; ties in text order, so the output does not depend on row order."""
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def rejection_reason(result: RowResult) -> str:
    """Why a rejected row was rejected, as far as its code and message show."""
    code = result.error_code.strip()
    if code in _CODE_REASONS:
        return _CODE_REASONS[code]
    for says, negated, reason in _MESSAGE_RULES:
        if says.search(result.error_message) and not negated.search(result.error_message):
            return reason
    if code:
        return f"with code {code}"
    if result.http_status is not None:
        return f"with HTTP {result.http_status}"
    return "with no error code"


def attention_sentence(
    by_status: Mapping[Outcome, int], reasons: Mapping[tuple[Outcome, str], int]
) -> str:
    """'12 rows need attention: 9 rejected because stock is allocated, 3 invalid.'"""
    order = list(Outcome)
    attention = sorted(
        (
            (status, count)
            for status, count in by_status.items()
            if status in NEEDS_ATTENTION and count
        ),
        key=lambda item: (-item[1], order.index(item[0])),
    )
    if not attention:
        settled = [
            f"{by_status[status]} {status.value}" for status in order if by_status.get(status)
        ]
        return f"Nothing needs attention: {', '.join(settled)}." if settled else "No rows."
    pieces = [
        _status_piece(
            status, count, {reason: n for (of, reason), n in reasons.items() if of is status}
        )
        for status, count in attention
    ]
    total = sum(count for _, count in attention)
    rows = "1 row needs" if total == 1 else f"{total} rows need"
    return f"{rows} attention: {', '.join(pieces)}."


def _status_piece(status: Outcome, count: int, reasons: Mapping[str, int]) -> str:
    if status is Outcome.FAILED:
        return f"{count} failed after retries (re-run)"
    if status is Outcome.NOT_SENT:
        return f"{count} {'was' if count == 1 else 'were'} not sent (re-run)"
    if status is Outcome.IN_DOUBT:
        return f"{count} in doubt (check in Shipper: batch-cancel check)"
    top = ranked({reason: n for reason, n in reasons.items() if reason})
    if status is Outcome.REJECTED and len(top) == 1:
        return f"{count} rejected {top[0][0]}"
    if status is Outcome.REJECTED and top:
        return f"{count} rejected ({', '.join(f'{n} {reason}' for reason, n in top)})"
    return f"{count} {status.value}"


def local_time(stamp: str, zone: tzinfo) -> str:
    """A recorded ISO 8601 UTC time as a person in `zone` reads it, offset included:
    "2026-12-01 09:00:00 WIB (+07:00)". Text that is no time is shown as it is."""
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    local = moment.astimezone(zone)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M:%S %Z} ({offset[:3]}:{offset[3:]})"
