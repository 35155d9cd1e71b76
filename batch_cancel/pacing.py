"""When the next request may start: the hard rate cap, and backing off when the API pushes back.

Three pieces, each with one question:
- `rate_limiter`: never more than `--rate` starts in any one-second window (aiolimiter),
  without losing pace to workers that wake late.
- `Throttle`: after a 429 the whole pool waits out Retry-After and runs at a
  reduced rate, then speeds up again step by step while answers are clean.
- `HealthWatch`: has the API been failing long enough that sending more is
  pointless tonight (the next cron run will resume)?
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from aiolimiter import AsyncLimiter

# Starts are spaced a little more than 1/rate apart: the server counts arrivals,
# which jitter by a few milliseconds, and N+1 arrivals must never fit in one second.
RATE_SAFETY = 1.02
# How late (in start intervals) a worker may wake and still start at once (see rate_limiter).
MAX_SLACK = 0.25
# A 429 halves the rate (at most once per pause, down to the floor); every
# RECOVER_AFTER clean answers raise it by RECOVER_FACTOR until it is back at --rate.
THROTTLE_FACTOR = 0.5
RECOVER_AFTER = 10
RECOVER_FACTOR = 1.25
MIN_RATE = 0.2  # one start every 5 s at worst
DEFAULT_PAUSE_S = 1.0  # a 429 without Retry-After
MAX_PAUSE_S = 120.0  # a Retry-After of an hour must not park the run (and its stop) for an hour
# With --rate 0 (no limit) there is no rate to halve: a 429 starts the brake here.
UNLIMITED_THROTTLE_START = 20.0


INF = float("inf")


def rate_limiter(rate: float) -> AsyncLimiter:
    """At most `rate` starts in any one-second window, and close to `rate` per second.

    AsyncLimiter(rate, 1) lets `rate` calls through at once, so up to 2 x rate can
    land in the first second; a bucket of one start spaces starts evenly but loses
    every worker's wake-up delay (BENCHMARKS.md has the figures). So the bucket
    holds 1 + s starts: a worker up to s intervals late starts at once. The cap
    still holds: n starts less than a second apart need n - 1 - s <= (1 s) /
    interval, so n < 1 + s + rate / RATE_SAFETY, which stays at or below `rate`
    while s <= rate * (1 - 1 / RATE_SAFETY); s takes a quarter of that, leaving
    the rest for the arrival jitter RATE_SAFETY is for.
    """
    interval = RATE_SAFETY / rate
    slack = min(MAX_SLACK, rate * (1 - 1 / RATE_SAFETY) / 4)
    return AsyncLimiter(1 + slack, (1 + slack) * interval)


class Throttle:
    """A brake in front of the limiter that only engages after the API answered 429.

    While engaged it hands out start slots 1/current_rate apart (first come,
    first served) and holds everyone until the latest Retry-After has passed.
    `current_rate` never exceeds the configured rate, so the limiter's cap holds.
    """

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._full_rate = rate if rate > 0 else INF
        self.current_rate = self._full_rate
        self._clock = clock
        self._paused_until = 0.0
        self._next_slot = 0.0
        self._clean_streak = 0
        self._last_cut = float("-inf")

    @property
    def engaged(self) -> bool:
        return self.current_rate < self._full_rate or self._clock() < self._paused_until

    async def wait_turn(self) -> None:
        while self.engaged:
            now = self._clock()
            slot = max(now, self._paused_until, self._next_slot)
            self._next_slot = slot + 1 / self.current_rate
            if slot <= now:
                return
            await asyncio.sleep(slot - now)
            if self._clock() >= self._paused_until:
                return  # no new 429 moved the pause while we slept

    def on_throttled(self, retry_after_s: float | None) -> None:
        now = self._clock()
        pause = min(retry_after_s if retry_after_s is not None else DEFAULT_PAUSE_S, MAX_PAUSE_S)
        self._paused_until = max(self._paused_until, now + pause)
        self._clean_streak = 0
        # The requests in flight when the limit hit all come back 429 together:
        # that is one signal, so the rate is cut once per pause, not once per answer.
        if now < self._last_cut + max(pause, DEFAULT_PAUSE_S):
            return
        self._last_cut = now
        base = self.current_rate if self._full_rate != INF else UNLIMITED_THROTTLE_START * 2
        self.current_rate = max(MIN_RATE, min(base, self.current_rate) * THROTTLE_FACTOR)

    def on_clean_answer(self) -> None:
        if self.current_rate >= self._full_rate:
            return
        self._clean_streak += 1
        if self._clean_streak >= RECOVER_AFTER:
            self._clean_streak = 0
            faster = self.current_rate * RECOVER_FACTOR
            # Without a --rate there is no target to climb back to: stop braking at the start.
            ceiling = self._full_rate if self._full_rate != INF else UNLIMITED_THROTTLE_START * 2
            self.current_rate = self._full_rate if faster >= ceiling else faster


class HealthWatch:
    """Decides the API is down: too many transient failures in a row, or none alive for too long.

    A 429 does not count as a failure in a row (the API is asking us to slow down),
    but answers that are only 429 for `down_after_s` are a night that cannot finish.
    """

    def __init__(
        self,
        *,
        max_consecutive_failures: int,
        down_after_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max_failures = max_consecutive_failures
        self._down_after_s = down_after_s
        self._clock = clock
        self._failures = 0
        self._last_alive = clock()

    def on_alive(self) -> None:
        """Any real answer other than 429/5xx: the API works, even if it refused the row."""
        self._failures = 0
        self._last_alive = self._clock()

    def on_transient_failure(self) -> str | None:
        """Count a failure; return why the API looks down, or None."""
        self._failures += 1
        if self._max_failures and self._failures >= self._max_failures:
            return f"{self._failures} transient failures in a row"
        return self._silent_too_long()

    def on_throttled(self) -> str | None:
        """A 429: return why the API looks down (nothing but 429s for too long), or None."""
        return self._silent_too_long()

    def _silent_too_long(self) -> str | None:
        silent = self._clock() - self._last_alive
        if self._down_after_s and silent >= self._down_after_s:
            return f"no successful answer for {silent:.0f}s"
        return None
