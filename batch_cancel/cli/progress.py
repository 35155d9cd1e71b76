"""How far the run is: a tqdm bar on a terminal, else (cron) a log line now and then."""

from __future__ import annotations

import contextlib
import logging
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..models import LoadedRow, Outcome, RowResult

if TYPE_CHECKING:
    from ..job import InputScan

log = logging.getLogger("batch_cancel")


class Progress:
    """A tqdm bar on a terminal; otherwise (cron) a log line every `every_s` seconds.

    On a terminal, log lines print above the bar (tqdm's logging redirect, with the
    key-redacting filter carried over), and the bar's postfix counts each outcome
    so far, so a run that is only failing cannot look healthy.
    """

    POSTFIX_EVERY_ROWS = 25  # a new postfix string per row would cost more than the bar

    def __init__(self, scan: InputScan, *, quiet: bool, every_s: float) -> None:
        self._scan = scan  # the total is known a moment after the start, once it is read
        self._counts: Counter[Outcome] = Counter()
        self._started = time.monotonic()
        self._last_line = self._started
        self._every_s = every_s
        self._quiet = quiet
        self._bar = None
        self._redirect = contextlib.ExitStack()
        self._pace: Callable[[], float | None] = lambda: None  # --rate auto's current pace
        if not quiet and sys.stderr.isatty():
            from tqdm import tqdm
            from tqdm.contrib.logging import logging_redirect_tqdm

            # A terminal that reports no size (some pseudo-terminals) would get an empty bar.
            sized = shutil.get_terminal_size((0, 0)).columns > 0
            self._bar = tqdm(
                total=None,
                unit="row",
                file=sys.stderr,
                dynamic_ncols=sized,
                ncols=None if sized else 100,
            )
            root = logging.getLogger()
            filters = [f for handler in root.handlers for f in handler.filters]
            self._redirect.enter_context(logging_redirect_tqdm())
            for handler in root.handlers:
                for kept in filters:
                    handler.addFilter(kept)

    def advance(self, row: LoadedRow, result: RowResult) -> None:
        self._counts[result.status] += 1
        if self._bar is not None:
            if self._bar.total is None and (total := self._total()) is not None:
                self._bar.total = total
            if self._counts.total() % self.POSTFIX_EVERY_ROWS == 1:
                self._bar.set_postfix_str(self.counts(), refresh=False)
            self._bar.update(1)
            return
        now = time.monotonic()
        if not self._quiet and now - self._last_line >= self._every_s:
            self._last_line = now
            log.info("progress: %s", self.line(now))

    def watch_pace(self, pace: Callable[[], float | None]) -> None:
        self._pace = pace

    def counts(self) -> str:
        return ", ".join(f"{outcome.value} {n}" for outcome, n in self._counts.most_common())

    def line(self, now: float) -> str:
        done = self._counts.total()
        rate = done / max(now - self._started, 1e-9)
        total = self._total()
        left = max(total - done, 0) if total is not None else 0
        eta = f", ETA {left / rate:.0f}s" if rate > 0 and left else ""
        of = f"/{'' if self._scan.exact else '~'}{total}" if total is not None else ""
        pace = self._pace()
        paced = f", pace {pace:.1f}/s" if pace is not None else ""
        return f"{done}{of} rows, {rate:.1f} rows/s{eta}{paced} ({self.counts()})"

    def _total(self) -> int | None:
        return self._scan.rows_estimate

    def close(self) -> None:
        """The bar ends on the true counts: every row has an outcome, not_sent ones too."""
        if self._bar is not None:
            self._bar.total = self._bar.n
            self._bar.set_postfix_str(self.counts(), refresh=False)
            self._bar.refresh()
            self._bar.close()
        self._redirect.close()
