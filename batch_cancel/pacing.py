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
import collections
import logging
import time
from collections.abc import Callable
from typing import NamedTuple

from aiolimiter import AsyncLimiter

log = logging.getLogger(__name__)

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

    def on_clean_answer(self, latency_s: float | None = None) -> None:
        """A real answer (not 429/5xx); a fixed --rate ignores its latency."""
        if self.current_rate >= self._full_rate:
            return
        self._clean_streak += 1
        if self._clean_streak >= RECOVER_AFTER:
            self._clean_streak = 0
            faster = self.current_rate * RECOVER_FACTOR
            # Without a --rate there is no target to climb back to: stop braking at the start.
            ceiling = self._full_rate if self._full_rate != INF else UNLIMITED_THROTTLE_START * 2
            self.current_rate = self._full_rate if faster >= ceiling else faster


# --rate auto (ProbingThrottle): CUBIC's shape (RFC 9438) over the request rate.
AUTO_START_RATE = 5.0  # a first night starts as politely as a fixed --rate would
AUTO_DOUBLING_S = 1.0  # before the first push-back: the rate doubles every second
CUBIC_BETA = 0.9  # a push-back cuts the rate to 90% of what the server let through
# How fast the rate grows back, in W_max per s^3 (so a limit of 20/s and one of 200/s
# are found alike): from a cut to 90% it is back on the plateau in cbrt(0.07 / C) = 3 s.
CUBIC_C = 0.0025
# Every probe past a limit that has not moved costs a full Retry-After pause and a cut, so
# probes are made rarer each time (C quarters, down to this: 3% past the plateau after
# 25 s, which keeps a probe's cost near 5% of the time).
CUBIC_C_MIN = 0.000002
SAME_LIMIT = 0.15  # a push-back within 15% of the last one's rate: the same limit
# The curve flattens at 97% of the rate where push-back began, and at least 2/s below it
# (a window lets N through: a late start's catch-up and arrival jitter need room), but
# never below 90% of it.
PLATEAU = 0.97
PLATEAU_MARGIN = 2.0
PLATEAU_LOWEST = 0.9
# A server that queues instead of refusing: latency this far above the quietest seen
# (ratio and seconds) while fewer answers come back than the pace sends.
STRAIN_RATIO = 1.5
STRAIN_FLOOR_S = 0.03
ANSWERS_LAG = 0.95
RECHECK_S = 0.05  # a start waiting for its turn looks at the (rising) pace this often
# A remembered pace is a plateau found before: probes past it are as rare as can be.
REMEMBERED_C = CUBIC_C_MIN
# A night may lower the remembered pace only after this many clean answers.
ANSWERS_TO_LEARN = 100


class AutoPace(NamedTuple):
    """Where --rate auto starts, its cap (--max-rate), and whether the start was remembered."""

    start: float
    ceiling: float
    remembered: bool = False


class ProbingThrottle(Throttle):
    """`--rate auto`: find how fast the API lets us go, and stay just below it.

    Every start is paced at `current_rate` (never above `ceiling`, --max-rate), each
    measured at the pace in force when it leaves. Before any push-back the rate doubles
    every AUTO_DOUBLING_S; a push-back (429 or 503, or latency rising while the answers
    fall behind the pace) records what the server let through in the last second as
    W_max and cuts below it; then the rate grows back along CUBIC's curve, quickly to
    just below W_max, slowly around it, and probes beyond it only after a while there.
    A remembered pace (`remembered=True`) is taken as such a plateau: the night starts
    there and probes beyond it along the curve, not by doubling into the limit.
    """

    def __init__(
        self,
        start: float,
        ceiling: float,
        clock: Callable[[], float] = time.monotonic,
        *,
        remembered: bool = False,
    ) -> None:
        super().__init__(ceiling, clock)
        self._ceiling = ceiling
        self.current_rate = min(max(start, MIN_RATE), ceiling)
        self._started_at = clock()
        self._epoch = self._started_at  # when the last cut (or the start) happened
        self._epoch_rate = self.current_rate
        self._start = self.current_rate
        self._w_max = _limit_above(self.current_rate) if remembered else None
        self._remembered_limit = self._w_max  # until a push-back confirms or replaces it
        self._last_limit = self._w_max  # the last limit found: is a push-back the same one?
        self._c = REMEMBERED_C if remembered else CUBIC_C
        self._turn = asyncio.Lock()  # first come, first served
        self._last_start = -INF
        self._answered = collections.deque[float]()  # clean answers of the last second
        self._quietest_s = INF
        self._latency_ewma_s: float | None = None
        self.clean_answers = 0
        self.rate_reached = self.current_rate
        self.first_throttled_s: float | None = None  # seconds from the start to the first 429

    @property
    def engaged(self) -> bool:
        return True  # every start is paced: the rate is the thing being found

    def pace_to_remember(self, *, finished: bool) -> float:
        """Where the next night should start: the plateau below the last limit found (or
        the pace reached, if none was). A night that did not finish, or had too few clean
        answers to learn from (only refusals, say), never lowers it below its own start."""
        if self._w_max is None:
            settled = self.current_rate
        else:
            settled = min(self._ceiling, max(MIN_RATE, _plateau(self._w_max)))
        if finished and self.clean_answers >= ANSWERS_TO_LEARN:
            return settled
        return max(settled, self._start)

    async def wait_turn(self) -> None:
        # One start waits at a time, the rest queue on the lock: a turn is never booked
        # ahead at a slower pace, so a rising pace takes effect within RECHECK_S.
        async with self._turn:
            while True:
                now = self._clock()
                self._follow_curve(now)
                slot = max(self._paused_until, self._last_start + 1 / self.current_rate)
                if slot <= now:
                    # A start that woke a little late keeps the pace instead of losing it.
                    self._last_start = max(slot, now - MAX_SLACK / self.current_rate)
                    return
                await asyncio.sleep(min(slot - now, RECHECK_S))

    def on_throttled(self, retry_after_s: float | None) -> None:
        now = self._clock()
        if self.first_throttled_s is None:
            self.first_throttled_s = now - self._started_at
            log.info(
                "--rate auto: first push-back after %.1fs, at %.1f starts/s",
                self.first_throttled_s,
                self.current_rate,
            )
        before = self._last_cut
        rate = self.current_rate
        super().on_throttled(retry_after_s)  # the pause, and at most one cut per pause
        if self._last_cut != before:
            # What the server let through in the last second is its limit, near enough;
            # the pace the push-back came at may be well above it (the first overshoot).
            self._cut(now, from_rate=min(rate, self._answered_last_second(now)))

    def on_clean_answer(self, latency_s: float | None = None) -> None:
        now = self._clock()
        self._answered.append(now)
        self.clean_answers += 1
        answered = self._answered_last_second(now)  # forgets what is older: counted once
        queued = latency_s is not None and self._queued(latency_s)
        if queued and self._w_max is not None:
            # While requests queue, the answer rate is what the server can serve: a limit
            # found while the pace was still rising (and under-counted) moves up to it.
            self._w_max = max(self._w_max, answered)
        lagging = answered < ANSWERS_LAG * self.current_rate
        if queued and lagging and now >= self._last_cut + 1:
            self._last_cut = now
            self._cut(now, from_rate=answered)
            return
        self._follow_curve(now)

    def _follow_curve(self, now: float) -> None:
        elapsed = max(now - self._epoch, 0.0)
        if self._w_max is None:
            rate = self._epoch_rate * 2 ** (elapsed / AUTO_DOUBLING_S)
        else:
            plateau = _plateau(self._w_max)
            c = self._c * self._w_max
            k = (max(plateau - self._epoch_rate, 0.0) / c) ** (1 / 3)
            rate = plateau + c * (elapsed - k) ** 3
            if self._remembered_limit is not None and rate >= self._remembered_limit:
                # Past the remembered limit with no push-back: it has moved. Find the
                # new one as a first night would, doubling from here.
                self._w_max = self._remembered_limit = None  # _last_limit stays
                self._epoch, self._epoch_rate = now, rate
        self.current_rate = min(self._ceiling, max(MIN_RATE, rate))
        self.rate_reached = max(self.rate_reached, self.current_rate)

    def _answered_last_second(self, now: float) -> float:
        self._forget_answers_before(now - 1.0)
        return max(len(self._answered), MIN_RATE)

    def _forget_answers_before(self, moment: float) -> None:
        while self._answered and self._answered[0] < moment:
            self._answered.popleft()

    def _cut(self, now: float, *, from_rate: float) -> None:
        self._remembered_limit = None
        last = self._last_limit
        same = last is not None and abs(from_rate - last) <= SAME_LIMIT * last
        self._c = max(self._c / 4, CUBIC_C_MIN) if same else CUBIC_C
        self._w_max = self._last_limit = from_rate
        self.current_rate = min(self._ceiling, max(MIN_RATE, from_rate * CUBIC_BETA))
        self._epoch, self._epoch_rate = now, self.current_rate

    def _queued(self, latency_s: float) -> bool:
        """Latency well above its quietest: requests wait in a queue at the server. With
        the answers falling behind the pace, the answer rate is the server's limit."""
        self._quietest_s = min(self._quietest_s, latency_s)
        previous = self._latency_ewma_s
        self._latency_ewma_s = latency_s if previous is None else 0.8 * previous + 0.2 * latency_s
        return self._latency_ewma_s > max(
            STRAIN_RATIO * self._quietest_s, self._quietest_s + STRAIN_FLOOR_S
        )


def _plateau(limit: float) -> float:
    return max(limit * PLATEAU_LOWEST, min(limit * PLATEAU, limit - PLATEAU_MARGIN))


def _limit_above(plateau: float) -> float:
    """The limit whose plateau this is (_plateau's inverse)."""
    return max(plateau / PLATEAU, min(plateau + PLATEAU_MARGIN, plateau / PLATEAU_LOWEST))


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
