"""The throttle after 429s and the API-down watch, on a fake clock."""

from __future__ import annotations

import asyncio

from batch_cancel.pacing import HealthWatch, Throttle


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_throttle_halves_on_429_and_recovers_on_clean_answers() -> None:
    clock = FakeClock()
    throttle = Throttle(8.0, clock=clock)
    assert not throttle.engaged
    throttle.on_throttled(2.0)
    assert throttle.engaged
    assert throttle.current_rate == 4.0
    throttle.on_throttled(None)  # same burst: one signal, no second cut
    assert throttle.current_rate == 4.0
    clock.now += 3  # the pause is over, the reduced rate stays until answers are clean
    throttle.on_throttled(None)  # a new 429 later: cut again
    assert throttle.current_rate == 2.0
    clock.now += 3
    assert throttle.engaged
    for _ in range(9):
        throttle.on_clean_answer()
    assert throttle.current_rate == 2.0
    throttle.on_clean_answer()
    assert throttle.current_rate == 2.5
    for _ in range(100):
        throttle.on_clean_answer()
    assert throttle.current_rate == 8.0
    assert not throttle.engaged


async def test_throttle_holds_everyone_until_retry_after() -> None:
    throttle = Throttle(1000.0)
    throttle.on_throttled(0.2)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await throttle.wait_turn()
    assert loop.time() - started >= 0.19  # waited out Retry-After (a lower bound only)


def test_health_watch_trips_on_consecutive_failures_and_silence() -> None:
    clock = FakeClock()
    watch = HealthWatch(max_consecutive_failures=3, down_after_s=60, clock=clock)
    assert watch.on_transient_failure() is None
    assert watch.on_transient_failure() is None
    watch.on_alive()  # a real answer resets the count
    assert watch.on_transient_failure() is None
    assert watch.on_transient_failure() is None
    assert watch.on_transient_failure() == "3 transient failures in a row"
    silent = HealthWatch(max_consecutive_failures=0, down_after_s=60, clock=clock)
    clock.now += 61
    assert silent.on_transient_failure() == "no successful answer for 61s"
    never = HealthWatch(max_consecutive_failures=0, down_after_s=0, clock=clock)
    clock.now += 10_000
    assert never.on_transient_failure() is None
