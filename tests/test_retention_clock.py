"""A wrong clock cannot erase the ledger: retention (`Ledger.prune`, --keep-days) refuses
a night whose clock is before the newest run or far past it, never forgets a run a clock
behind stamped old, and `history` never claims a memory that starts in the future.

The clock is the one every ledger stamp is written by (`models.utc_now`, which reads
`time.time_ns`): each test stops it at instants of its choosing. The nights run through
`cli.main` in this process against a real sandbox, which keeps the true time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from batch_cancel import models
from batch_cancel.errors import ClockLooksWrong
from batch_cancel.ledger import Ledger
from batch_cancel.models import ExitStatus

from .conftest import Sandbox
from .helpers import (
    ORDERS_HEADER,
    CliRun,
    main_in_process,
    read_results,
    use_cli_env,
    write_csv,
)

T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # a night's start, as the stopped clock says
NOTHING_FORGOTTEN = "nothing is forgotten tonight"


class StoppedClock:
    """Stands in for the `time` module models.utc_now reads: time_ns says `now`."""

    def __init__(self) -> None:
        self.now = T0
        self.strftime = time.strftime
        self.gmtime = time.gmtime

    def time_ns(self) -> int:
        return int(self.now.timestamp()) * 1_000_000_000 + self.now.microsecond * 1000

    def at(self, days: float) -> None:
        self.now = T0 + timedelta(days=days)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> StoppedClock:
    stopped = StoppedClock()
    monkeypatch.setattr(models, "time", stopped)
    return stopped


def stamp(days: float) -> str:
    return (T0 + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def warnings(done: CliRun) -> list[str]:
    """The -q night's stderr lines, without the log's (true) time: only warnings show."""
    return [line.split(" WARNING ", 1)[1] for line in done.stderr.splitlines()]


@pytest.fixture
def night(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    start_sandbox: Callable[..., Sandbox],
) -> Callable[..., CliRun]:
    """Run a night of these orders under -q; its results are `<name>-results.csv`."""
    use_cli_env(monkeypatch, state=tmp_path / "ledger.sqlite3")
    sandbox = start_sandbox()

    def run(name: str, *orders: str, flags: tuple[str, ...] = ()) -> CliRun:
        export = write_csv(
            tmp_path / f"{name}.csv",
            ORDERS_HEADER,
            [[order, "WH-1", "Sold out"] for order in orders],
        )
        return main_in_process(
            capsys,
            "run",
            export,
            "-o",
            tmp_path / f"{name}-results.csv",
            "--base-url",
            sandbox.url,
            "-q",
            *flags,
        )

    return run


def statuses(tmp_path: Path, name: str) -> dict[str, str]:
    return {
        row["order_no"]: row["result_status"]
        for row in read_results(tmp_path / f"{name}-results.csv")
    }


NO_ACCOUNT = "batch-cancel: no account given (base URL and key): entries of every account shown"


def history(capsys: pytest.CaptureFixture[str], order_no: str) -> CliRun:
    return main_in_process(capsys, "history", order_no)


def test_a_clock_200_days_ahead_forgets_nothing_and_says_so(
    tmp_path: Path,
    clock: StoppedClock,
    night: Callable[..., CliRun],
    capsys: pytest.CaptureFixture[str],
) -> None:
    first = night("night-1", "A-1")
    assert (first.returncode, first.stderr) == (ExitStatus.SUCCESS, "")
    clock.at(200)
    ahead = night("night-2", "B-1")
    assert ahead.returncode == ExitStatus.SUCCESS  # the night itself went well
    assert warnings(ahead) == [
        f"the clock looks wrong: it says {stamp(200)}, 200 days after the newest run in the "
        f"ledger (run 1, {stamp(0)}); {NOTHING_FORGOTTEN}"
    ]
    # The clock is right again the next night: night 1's cancel still holds the skip.
    clock.at(1)
    after = night("night-3", "A-1")
    assert after.returncode == ExitStatus.SUCCESS, after.stderr
    assert statuses(tmp_path, "night-3") == {"A-1": "skipped"}
    # Night 2 was stamped 200 days ahead: until the clock reaches it, each night says so.
    assert warnings(after) == [
        f"the clock looks wrong: it says {stamp(1)}, before the newest run in the ledger "
        f"(run 2, {stamp(200)}); {NOTHING_FORGOTTEN}"
    ]
    assert history(capsys, "A-1").returncode == ExitStatus.SUCCESS


def test_a_clock_200_days_behind_forgets_nothing_and_its_night_is_kept(
    tmp_path: Path,
    clock: StoppedClock,
    night: Callable[..., CliRun],
) -> None:
    assert night("night-1", "A-1").returncode == ExitStatus.SUCCESS
    clock.at(-200)
    behind = night("night-2", "B-1")
    assert behind.returncode == ExitStatus.SUCCESS
    assert warnings(behind) == [
        f"the clock looks wrong: it says {stamp(-200)}, before the newest run in the ledger "
        f"(run 1, {stamp(0)}); {NOTHING_FORGOTTEN}"
    ]
    # The clock is right again and retention runs, but night 2 came after night 1 (which
    # it keeps): its stamps 200 days old do not make it forgotten.
    clock.at(1)
    right = night("night-3", "C-1")
    assert (right.returncode, right.stderr) == (ExitStatus.SUCCESS, "")
    clock.at(2)
    again = night("night-4", "B-1")
    assert again.returncode == ExitStatus.SUCCESS, again.stderr
    assert statuses(tmp_path, "night-4") == {"B-1": "skipped"}


def test_a_normal_night_still_forgets_what_is_older_than_keep_days(
    clock: StoppedClock,
    night: Callable[..., CliRun],
    capsys: pytest.CaptureFixture[str],
) -> None:
    clock.at(-5)
    assert night("night-1", "A-1", flags=("--keep-days", "3")).returncode == ExitStatus.SUCCESS
    clock.at(0)
    done = night("night-2", "B-1", flags=("--keep-days", "3"))
    assert (done.returncode, done.stderr) == (ExitStatus.SUCCESS, "")
    forgotten = history(capsys, "A-1")
    assert forgotten.returncode == ExitStatus.NOT_FOUND
    assert forgotten.stderr.splitlines()[0] == (
        f"batch-cancel: the ledger remembers from {stamp(-3)} on"
    )
    assert history(capsys, "B-1").returncode == ExitStatus.SUCCESS


def test_history_never_says_the_ledger_remembers_from_a_future_time(
    clock: StoppedClock,
    night: Callable[..., CliRun],
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The first night of a ledger has no earlier run to check the clock against: its
    # cut, made 200 days ahead, is 20 days after the true time.
    clock.at(200)
    assert night("night-1", "A-1").returncode == ExitStatus.SUCCESS
    clock.at(0)
    done = history(capsys, "A-1")
    assert done.returncode == ExitStatus.SUCCESS
    assert done.stderr.splitlines() == [
        f"batch-cancel: the clock looks wrong: it says {stamp(0)}, before the ledger's "
        f"last cut ({stamp(20)}); what was older than that cut is forgotten",
        NO_ACCOUNT,
    ]
    clock.at(21)  # the clock has passed the cut: the usual line
    assert history(capsys, "A-1").stderr.splitlines() == [
        f"batch-cancel: the ledger remembers from {stamp(20)} on",
        NO_ACCOUNT,
    ]


@pytest.mark.parametrize(
    ("days", "refused"),
    [
        (10, False),  # a week's holiday with both weekends: not a wrong clock
        (10 + 1 / 86_400, True),
        (-4 / 1440, False),  # a clock a few minutes behind (an NTP step): forgiven
        (-6 / 1440, True),
    ],
)
def test_how_far_the_clock_may_be_from_the_newest_run(
    tmp_path: Path, clock: StoppedClock, days: float, refused: bool
) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    here = ledger.account("http://127.0.0.1:1", "a-key-for-the-clock-test")
    clock.at(-10)
    old = ledger.start_run(input_path=Path("old.csv"), options={}, account=here)
    old.attempt_started(models.CancelRequest(1, "OLD", "WH-1", "reason"), 1)
    old.commit()
    old.end(0)
    clock.at(0)
    ledger.start_run(input_path=Path("new.csv"), options={}, account=here).end(0)
    clock.at(days)
    tonight = ledger.start_run(input_path=Path("tonight.csv"), options={}, account=here)
    if refused:
        with pytest.raises(ClockLooksWrong, match=NOTHING_FORGOTTEN):
            ledger.prune(3, current_run=tonight.run_id)
        assert ledger.kept_since() is None
    else:
        assert ledger.prune(3, current_run=tonight.run_id) == 1  # the old run's attempt
    ledger.close()


def test_a_clock_wrong_two_nights_in_a_row_ages_the_ledger_by_days_not_months(
    tmp_path: Path, clock: StoppedClock, night: Callable[..., CliRun]
) -> None:
    assert night("night-1", "A-1").returncode == ExitStatus.SUCCESS
    clock.at(200)
    assert warnings(night("night-2", "B-1"))  # refused, with the warning
    # Still wrong: night 2, stamped by the same clock, makes it look right.
    clock.at(201)
    believed = night("night-3", "C-1")
    assert (believed.returncode, believed.stderr) == (ExitStatus.SUCCESS, "")
    clock.at(2)  # fixed: night 1's cancel still holds the skip
    fixed = night("night-4", "A-1")
    assert fixed.returncode == ExitStatus.SUCCESS, fixed.stderr
    assert statuses(tmp_path, "night-4") == {"A-1": "skipped"}


def test_the_cut_catches_up_a_long_pause_by_steps_and_a_new_keep_days_at_once(
    tmp_path: Path, clock: StoppedClock
) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    try:
        ledger.prune(3)
        assert ledger.kept_since() == stamp(-3)
        step = 10.5  # CLOCK_JUMP + PRUNE_EVERY
        clock.at(100)
        ledger.prune(3)
        assert ledger.kept_since() == stamp(-3 + step)
        clock.at(100.5)
        ledger.prune(3)
        assert ledger.kept_since() == stamp(-3 + 2 * step)
        ledger.prune(5)  # keep_days changed: the cut moves where it says, at once
        assert ledger.kept_since() == stamp(95.5)
        clock.at(101)
        ledger.prune(5)
        assert ledger.kept_since() == stamp(96)
    finally:
        ledger.close()
