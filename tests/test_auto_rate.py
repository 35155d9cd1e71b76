"""--rate auto: it speeds up while answers are clean, slows down on 429 (and on strain),
never passes --max-rate, and starts the next night where this one ended. No timing
asserts: the controller runs on a fake clock, the end-to-end tests count what arrived."""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from batch_cancel import cli
from batch_cancel.models import ApiAnswer, CancelRequest, ExitStatus, LoadedRow, Outcome, RowResult
from batch_cancel.pacing import (
    ANSWERS_TO_LEARN,
    AUTO_START_RATE,
    CUBIC_BETA,
    MIN_RATE,
    PLATEAU_LOWEST,
    AutoPace,
    ProbingThrottle,
)
from batch_cancel.runner import RetryPolicy, Runner
from batch_cancel.sandbox import parse_rate_schedule

from .conftest import Sandbox
from .helpers import ROOT, cli_env, orders_csv


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


# --- the climb, as the README says it: starts counted on a fake clock -----------------

FIRST_NIGHT = (
    "On a first night the pace starts at 5/s and doubles every second until the first "
    "push-back; starts wait for their turn at the pace in force, never at a slower one "
    "booked earlier."
)
LATER_NIGHT = (
    "A later night starts at the remembered pace and holds it, probing past it slowly: it "
    "reaches the limit that pace sat below (3% to 10% above it) after 25 to 37 s; no "
    "push-back by then means the limit has moved, and the pace doubles every second again."
)


def test_the_readme_says_what_these_tests_check() -> None:
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert FIRST_NIGHT in readme
    assert LATER_NIGHT in readme


def starts_per_second(
    throttle: ProbingThrottle, clock: Clock, seconds: int, monkeypatch: pytest.MonkeyPatch
) -> list[int]:
    """How many starts 32 workers get through wait_turn in each second of the fake clock,
    every start answered at once and cleanly (the server has no limit)."""
    real_sleep = asyncio.sleep

    async def fake_sleep(delay: float) -> None:
        clock.now += delay  # only the worker whose turn is next sleeps: one timeline
        await real_sleep(0)

    monkeypatch.setattr(asyncio, "sleep", fake_sleep)
    began, starts = clock.now, Counter[int]()

    async def worker() -> None:
        while True:
            await throttle.wait_turn()
            if clock.now - began >= seconds:
                return
            starts[int(clock.now - began)] += 1
            throttle.on_clean_answer(0.02)

    async def workers() -> None:
        await asyncio.gather(*(worker() for _ in range(32)))

    asyncio.run(workers())
    monkeypatch.undo()
    return [starts[second] for second in range(seconds)]


def test_a_first_night_doubles_its_pace_every_second(monkeypatch: pytest.MonkeyPatch) -> None:
    # README (FIRST_NIGHT). The turns are not booked ahead at the slower pace: 32 workers
    # booking 0.2 s apart at 5/s held the climb back for 6 s.
    clock = Clock()
    counts = starts_per_second(
        ProbingThrottle(AUTO_START_RATE, 10_000, clock), clock, 7, monkeypatch
    )
    assert AUTO_START_RATE <= counts[0] <= 2 * AUTO_START_RATE
    for second in range(1, 7):
        assert 1.8 <= counts[second] / counts[second - 1] <= 2.2, counts


def test_from_a_remembered_pace_it_holds_then_doubles_past_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # README (LATER_NIGHT): 180/s sits 3% below its limit.
    clock = Clock()
    throttle = ProbingThrottle(180, 10_000, clock, remembered=True)
    counts = starts_per_second(throttle, clock, 29, monkeypatch)
    assert all(180 <= count <= 185 for count in counts[:24]), counts  # under 3% above
    assert 1.8 <= counts[28] / counts[27] <= 2.2, counts
    assert throttle.first_throttled_s is None


def test_even_a_remembered_crawl_climbs(monkeypatch: pytest.MonkeyPatch) -> None:
    # The night after a night of nothing but 429s: 9 requests in its first 44 s.
    # (Such a night no longer lowers the memory; a real 0.2/s limit still climbs: 10%
    # above it, the README's slowest case, after 37 s.)
    clock = Clock()
    throttle = ProbingThrottle(MIN_RATE, 10_000, clock, remembered=True)
    counts = starts_per_second(throttle, clock, 46, monkeypatch)
    assert sum(counts[:30]) <= 8  # 0.2/s held, then probed past slowly
    assert counts[45] >= 50, counts  # past it with no push-back: doubling since 37 s


# --- 503 is push-back --------------------------------------------------------------------


def test_a_503_is_push_back_like_a_429() -> None:
    overloaded = ApiAnswer(http_status=503, error_message="Service Unavailable")
    answers = iter([overloaded] * 3)
    results: list[RowResult] = []

    async def send(request: CancelRequest) -> ApiAnswer:
        return next(answers, ApiAnswer(http_status=200))

    runner = Runner(
        send=send,
        rate=0,
        concurrency=2,
        policy=RetryPolicy(max_attempts=5, backoff_base_s=0.001),
        on_result=lambda row, result: results.append(result),
        auto_rate=AutoPace(40, 1000),
    )
    loaded = [
        LoadedRow(n, ("O", "W", "R"), CancelRequest(n, f"ORD-{n}", "WH", "R"), None)
        for n in range(1, 5)
    ]
    end = asyncio.run(runner.run(loaded))
    assert end.first_throttled_s is not None  # the 503s cut the pace, as a 429 would
    assert end.final_rate is not None
    assert end.final_rate < 40
    assert [result.status for result in results] == [Outcome.CANCELLED] * 4


# --- the memory is never poisoned ----------------------------------------------------------


def test_a_night_of_only_refusals_keeps_the_pace_it_started_from() -> None:
    clock = Clock()
    throttle = ProbingThrottle(30, 1000, clock, remembered=True)
    for _ in range(20):
        clock.now += 2
        throttle.on_throttled(1.0)
    assert throttle.current_rate == MIN_RATE
    assert throttle.pace_to_remember(finished=True) == 30


def test_a_short_or_stopped_night_does_not_lower_the_memory() -> None:
    clock = Clock()
    throttle = ProbingThrottle(30, 1000, clock, remembered=True)
    clean_for(throttle, clock, 1, per_s=ANSWERS_TO_LEARN - 1)
    throttle.on_throttled(1.0)  # a push-back after too few answers to learn from
    assert throttle.pace_to_remember(finished=True) == 30
    clean_for(throttle, clock, 1, per_s=10)  # enough answers now, at 10/s
    clock.now += 0.01  # the first push-back's pause is over: this one is news
    throttle.on_throttled(1.0)
    assert throttle.pace_to_remember(finished=False) == 30  # stopped early: no lower
    lower = throttle.pace_to_remember(finished=True)  # a whole night that found 10/s
    assert lower == pytest.approx(10 * PLATEAU_LOWEST)  # 2/s below 10, but 90% at least


def test_a_night_that_rose_is_remembered_however_short() -> None:
    clock = Clock()
    throttle = ProbingThrottle(5, 12, clock)
    clean_for(throttle, clock, 3, per_s=10)
    assert throttle.pace_to_remember(finished=False) == 12


@pytest.mark.integration
def test_a_night_of_429s_that_stopped_does_not_poison_the_next_night(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    start_sandbox: Callable[..., Sandbox],
) -> None:
    state = tmp_path / "ledger.sqlite3"
    for name, value in cli_env(state=state).items():
        monkeypatch.setenv(name, value)
    refusing = start_sandbox("--rate-limit", "0.5")  # every request is one too many
    orders = orders_csv(tmp_path / "monday.csv", 20, prefix="MON")
    argv = ["run", str(orders), "--base-url", refusing.url, "--rate", "auto"]
    argv += ["--concurrency", "4", "--down-after", "1"]

    def remembered() -> float:
        with sqlite3.connect(state) as db:
            [(rate,)] = db.execute("SELECT rate FROM paces").fetchall()
        return float(rate)

    assert cli.main(argv) == ExitStatus.API_REFUSED_OR_DOWN
    assert remembered() == AUTO_START_RATE  # not the 0.2/s the 429s cut it to
    with sqlite3.connect(state) as db:
        db.execute("UPDATE paces SET rate = 30")  # as if a good night had found 30/s
    assert cli.main(argv) == ExitStatus.API_REFUSED_OR_DOWN
    assert remembered() == 30
    assert refusing.stats()["answers"]["200"] == 0
