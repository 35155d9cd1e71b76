"""The shared timestamp format of the results and the ledger."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import pytest

from batch_cancel.models import utc_now


def test_utc_now_is_iso_utc_to_the_millisecond() -> None:
    before = datetime.now(UTC)
    stamp = utc_now()
    after = datetime.now(UTC)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", stamp)
    when = datetime.fromisoformat(stamp)
    assert before.replace(microsecond=before.microsecond // 1000 * 1000) <= when <= after


def test_utc_now_follows_the_clock_across_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    # The date changes with the second, whichever way the clock moves.
    for ns, expected in [
        (1_764_201_599_999_000_000, "2025-11-26T23:59:59.999Z"),
        (1_764_201_600_000_000_000, "2025-11-27T00:00:00.000Z"),
        (1_764_201_600_007_900_000, "2025-11-27T00:00:00.007Z"),
        (1_764_201_599_001_000_000, "2025-11-26T23:59:59.001Z"),  # a clock stepped back
    ]:
        monkeypatch.setattr(time, "time_ns", lambda ns=ns: ns)
        assert utc_now() == expected
