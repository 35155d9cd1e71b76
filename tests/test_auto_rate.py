"""--rate auto: it speeds up while answers are clean, slows down on 429 (and on strain),
never passes --max-rate, and starts the next night where this one ended. No timing
asserts: the controller runs on a fake clock, the end-to-end tests count what arrived."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from batch_cancel import cli
from batch_cancel.models import ExitStatus
from batch_cancel.pacing import AUTO_START_RATE, CUBIC_BETA, ProbingThrottle
from batch_cancel.sandbox import parse_rate_schedule

from .conftest import Sandbox
from .helpers import cli_env, orders_csv


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def clean_for(throttle: ProbingThrottle, clock: Clock, seconds: float, per_s: int = 50) -> None:
    """Clean answers at `per_s` a second (20 ms each) for `seconds` of the fake clock."""
    for _ in range(int(seconds * per_s)):
        clock.now += 1 / per_s
        throttle.on_clean_answer(0.02)


def test_it_speeds_up_while_answers_are_clean_and_stops_at_the_ceiling() -> None:
    clock = Clock()
    throttle = ProbingThrottle(AUTO_START_RATE, 50, clock)
    assert throttle.current_rate == AUTO_START_RATE
    seen = [throttle.current_rate]
    for _ in range(6):
        clean_for(throttle, clock, 1)
        seen.append(throttle.current_rate)
    assert seen == sorted(seen)
    assert seen[1] > seen[0]
    assert seen[-1] == 50  # the ceiling, not above
    clean_for(throttle, clock, 60)
    assert throttle.current_rate == 50
    assert throttle.rate_reached == 50


def test_a_429_slows_it_down_to_below_what_the_server_let_through() -> None:
    clock = Clock()
    throttle = ProbingThrottle(50, 50, clock)
    clean_for(throttle, clock, 2, per_s=40)  # the server lets 40 a second through
    throttle.on_throttled(1.0)
    assert throttle.current_rate == pytest.approx(40 * CUBIC_BETA)
    assert throttle.first_throttled_s == pytest.approx(2.0)
    # The rest of that burst is the same signal: one cut per pause.
    throttle.on_throttled(1.0)
    assert throttle.current_rate == pytest.approx(40 * CUBIC_BETA)


def test_it_climbs_back_and_settles_just_below_the_limit() -> None:
    clock = Clock()
    throttle = ProbingThrottle(50, 50, clock)
    clean_for(throttle, clock, 2, per_s=40)
    throttle.on_throttled(1.0)
    low = throttle.current_rate
    clean_for(throttle, clock, 3, per_s=35)
    assert low < throttle.current_rate < 40  # regained most of the cut, not past the limit


def test_latency_climbing_slows_it_down_before_any_429() -> None:
    clock = Clock()
    throttle = ProbingThrottle(30, 50, clock)
    for _ in range(50):
        clock.now += 0.02
        throttle.on_clean_answer(0.02)
    before = throttle.current_rate
    for _ in range(20):
        clock.now += 0.1
        throttle.on_clean_answer(0.5)  # 25x slower: the server is straining
    assert throttle.current_rate < before
    assert throttle.first_throttled_s is None


def test_the_sandbox_limit_can_follow_a_schedule() -> None:
    assert parse_rate_schedule("40,15@60") == [(0.0, 40.0), (60.0, 15.0)]
    assert parse_rate_schedule(20) == [(0.0, 20.0)]
    with pytest.raises(ValueError, match="the first limit applies from the start"):
        parse_rate_schedule("40@5")


@pytest.mark.integration
def test_max_rate_caps_it_and_the_next_night_starts_where_this_one_ended(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    start_sandbox: Callable[..., Sandbox],
    capsys: pytest.CaptureFixture[str],
) -> None:
    sandbox = start_sandbox()  # no limit of its own: --max-rate is the only cap
    state = tmp_path / "ledger.sqlite3"
    for name, value in cli_env(state=state).items():
        monkeypatch.setenv(name, value)
    args = ["--base-url", sandbox.url, "--rate", "auto", "--max-rate", "12", "--concurrency", "8"]
    first = orders_csv(tmp_path / "monday.csv", 60, prefix="MON")
    assert cli.main(["run", str(first), *args, "--summary-json", str(tmp_path / "s.json")]) == (
        ExitStatus.SUCCESS
    )
    assert sandbox.stats()["busiest_second"] <= 12
    err = capsys.readouterr().err
    assert "--rate auto: starting at 5 starts/s, never above 12" in err
    assert "  rate auto: reached 12.0/s, 12.0/s at the end; no 429" in err
    with sqlite3.connect(state) as db:
        [(remembered,)] = db.execute("SELECT rate FROM paces").fetchall()
    assert remembered == 12
    second = orders_csv(tmp_path / "tuesday.csv", 10, prefix="TUE")
    assert cli.main(["run", str(second), *args]) == ExitStatus.SUCCESS
    assert "--rate auto: starting at 12 starts/s" in capsys.readouterr().err
