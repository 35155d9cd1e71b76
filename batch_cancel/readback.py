"""What a read-back of an order means: Shipper's `so_status` as one of a few meanings,
and the verdict in plain words (docs/api.md, "The read-back").

Shipper names some sales-order statuses and publishes no complete list, so the map
from status to meaning is a setting (`[api.order_statuses]` in the config), merged over
the defaults here. A status nobody mapped is shown as Shipper says it.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from .models import ReadAnswer


class Meaning(StrEnum):
    """What a status means for a cancel (the config's words for `[api.order_statuses]`)."""

    CANCELLED = "cancelled"
    OPEN = "open"  # nothing allocated yet: a cancel can still succeed
    ALLOCATED = "allocated"  # the warehouse has it: stock must be released first
    SHIPPED = "shipped"  # too late to cancel
    UNKNOWN = "unknown"  # Shipper does not show the order (an error answer to the read)
    OTHER = "other"  # a status nobody mapped: shown as Shipper says it


DEFAULT_STATUSES: Mapping[str, Meaning] = {
    "CANCELLED": Meaning.CANCELLED,
    "CREATED": Meaning.OPEN,
    "ALLOCATED": Meaning.ALLOCATED,
    "PICKED": Meaning.ALLOCATED,
    "PACKED": Meaning.ALLOCATED,
    "SHIPPED": Meaning.SHIPPED,
    "CLOSED": Meaning.SHIPPED,
}
# The meanings a config may give a status (UNKNOWN and OTHER are the read's, not a status's).
CONFIGURABLE = (Meaning.CANCELLED, Meaning.OPEN, Meaning.ALLOCATED, Meaning.SHIPPED)

VERDICTS = {
    Meaning.CANCELLED: "cancelled",
    Meaning.OPEN: "still open, a re-run will cancel it",
    Meaning.ALLOCATED: "stock allocated, the warehouse must release it",
    Meaning.SHIPPED: "shipped, too late to cancel",
    Meaning.UNKNOWN: "unknown to Shipper",
}


def statuses(configured: Mapping[str, str] | None = None) -> dict[str, Meaning]:
    """The defaults with the config's `[api.order_statuses]` over them (keys upper-cased)."""
    merged = dict(DEFAULT_STATUSES)
    for status, meaning in (configured or {}).items():
        merged[status.strip().upper()] = Meaning(meaning)
    return merged


def meaning_of(answer: ReadAnswer, known: Mapping[str, Meaning]) -> Meaning | None:
    """What a read's answer says of the order; None when it says nothing (no answer, a
    transient failure, or a refused key): the order is still in doubt."""
    status = answer.http_status
    if 200 <= status < 300:
        if not answer.so_status:
            return None  # a 2xx without the order in it settles nothing
        return known.get(answer.so_status.upper(), Meaning.OTHER)
    # Shipper's envelope with a code: it looked and has no such order. A bare 404 (a wrong
    # read_path, a gateway) says nothing of the order.
    if status in (400, 404, 410, 422) and answer.error_code:
        return Meaning.UNKNOWN
    return None


def verdict(answer: ReadAnswer, meaning: Meaning | None) -> str:
    """The verdict in plain words, for `check`'s CSV and the results' messages."""
    if meaning is None:
        why = f"HTTP {answer.http_status}" if answer.http_status else answer.error_code
        return f"not known: the read failed ({why}: {answer.error_message})"
    if meaning is Meaning.OTHER:
        return f"Shipper shows {answer.so_status}"
    return VERDICTS[meaning]
