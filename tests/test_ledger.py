"""The ledger and the state lock, without any network."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from batch_cancel.config import default_state_path
from batch_cancel.errors import LedgerError, LockHeldError
from batch_cancel.ledger import (
    LOOKUP_BATCH,
    Account,
    Ledger,
    PriorCancel,
    RunRecord,
    UnansweredAttempt,
    skip_already_cancelled,
)
from batch_cancel.lock import RunLock
from batch_cancel.models import ApiAnswer, CancelRequest, LoadedRow, Outcome, RowResult


def request(order_no: str, source_row: int = 1) -> CancelRequest:
    return CancelRequest(source_row, order_no, "WH-1", "reason")


def loaded(order_no: str, source_row: int = 1) -> LoadedRow:
    return LoadedRow(source_row, (order_no, "WH-1", "reason"), request(order_no, source_row), None)


BASE_URL, KEY = "https://api.shipper.example", "merchant-key-1"


def here(ledger: Ledger) -> Account:
    return ledger.account(BASE_URL, KEY)


def start_run(ledger: Ledger) -> RunRecord:
    return ledger.start_run(input_path=Path("in.csv"), options={"rate": 5}, account=here(ledger))


def answer(record: RunRecord, order_no: str, status: int, *, cancelled: bool) -> None:
    attempt_id = record.attempt_started(request(order_no), 1)
    record.attempt_answered(attempt_id, ApiAnswer(http_status=status), cancelled=cancelled)


def prior_cancel(ledger: Ledger, order_no: str, warehouse_id: str) -> PriorCancel | None:
    return ledger.look_up([(order_no, warehouse_id)], here(ledger)).cancelled.get(
        (order_no, warehouse_id)
    )


def unanswered_attempt(
    ledger: Ledger, order_no: str, warehouse_id: str
) -> UnansweredAttempt | None:
    return ledger.look_up([(order_no, warehouse_id)], here(ledger)).unanswered.get(
        (order_no, warehouse_id)
    )


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    opened = Ledger(tmp_path / "state" / "ledger.sqlite3")
    yield opened
    opened.close()


def test_default_state_path_follows_env_then_xdg(tmp_path: Path) -> None:
    assert default_state_path({"BATCH_CANCEL_STATE": str(tmp_path / "x.db")}) == tmp_path / "x.db"
    xdg = default_state_path({"XDG_STATE_HOME": str(tmp_path)})
    assert xdg == tmp_path / "batch-cancel" / "ledger.sqlite3"


def test_ledger_uses_wal_and_never_stores_the_key(ledger: Ledger) -> None:
    record = start_run(ledger)
    answer(record, "A-1", 200, cancelled=True)
    record.end(0, input_sha256="ab" * 32)
    db = sqlite3.connect(ledger.path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("SELECT input_sha256 FROM runs").fetchone()[0] == "ab" * 32
    options = json.loads(db.execute("SELECT options_json FROM runs").fetchone()[0])
    assert options == {"rate": 5}
    assert db.execute("SELECT exit_status FROM runs").fetchone()[0] == 0


def test_prior_cancel_follows_the_latest_answer(ledger: Ledger) -> None:
    first = start_run(ledger)
    assert prior_cancel(ledger, "A-1", "WH-1") is None
    answer(first, "A-1", 200, cancelled=True)
    prior = prior_cancel(ledger, "A-1", "WH-1")
    assert prior is not None
    assert prior.run_id == first.run_id
    assert prior_cancel(ledger, "A-1", "WH-OTHER") is None
    # Cancelled is final: a later forced resend that was refused does not undo it.
    second = start_run(ledger)
    answer(second, "A-1", 400, cancelled=False)
    prior = prior_cancel(ledger, "A-1", "WH-1")
    assert prior is not None
    assert prior.run_id == first.run_id
    # An "already cancelled" answer the runner judged a cancel is the newest confirmation.
    answer(second, "A-1", 400, cancelled=True)
    prior = prior_cancel(ledger, "A-1", "WH-1")
    assert prior is not None
    assert prior.run_id == second.run_id


def test_confirmed_answer_survives_a_kill_before_the_outcome_is_written(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    writer = Ledger(path)
    answer(start_run(writer), "A-1", 200, cancelled=True)
    # No record_outcome, no end, no close: the process "died" here.
    reader = Ledger(path)
    assert prior_cancel(reader, "A-1", "WH-1") is not None
    reader.close()
    writer.close()


def committed_attempts(path: Path) -> list[tuple[str, int | None]]:
    """What another process would read from the ledger right now."""
    db = sqlite3.connect(path)
    try:
        return db.execute(
            "SELECT order_no, http_status FROM attempts ORDER BY attempt_id"
        ).fetchall()
    finally:
        db.close()


async def test_writes_in_one_loop_pass_share_a_commit_made_before_the_next(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    record = start_run(ledger)
    answer(record, "A-1", 200, cancelled=True)
    answer(record, "A-2", 400, cancelled=False)
    assert committed_attempts(ledger.path) == []  # one transaction, still open in this pass
    await asyncio.sleep(0)  # the loop's next pass
    assert committed_attempts(ledger.path) == [("A-1", 200), ("A-2", 400)]
    ledger.close()


async def test_durable_returns_once_the_attempt_would_survive_a_kill(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    record = start_run(ledger)
    record.attempt_started(request("A-1"), 1)
    await record.durable()
    assert committed_attempts(ledger.path) == [("A-1", None)]
    await record.durable()  # nothing pending: returns at once
    ledger.close()


class FailingCommits:
    """A connection whose COMMIT fails, as on a full disk (and whose ROLLBACK may fail too)."""

    def __init__(self, db: sqlite3.Connection, error: Exception) -> None:
        self._db = db
        self._error = error

    @property
    def in_transaction(self) -> bool:
        return self._db.in_transaction

    def execute(self, sql: str, params: tuple[object, ...] = ()) -> sqlite3.Cursor:
        if sql == "COMMIT":
            raise self._error
        if sql == "ROLLBACK":
            raise sqlite3.OperationalError("cannot rollback - no transaction is active")
        return self._db.execute(sql, params)

    def executemany(self, sql: str, rows: list[tuple[object, ...]]) -> sqlite3.Cursor:
        return self._db.executemany(sql, rows)


@pytest.mark.parametrize(
    "error",
    [
        sqlite3.OperationalError("database or disk is full"),
        UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"),
    ],
)
async def test_a_failed_commit_is_reported_to_waiters_and_later_writes(
    tmp_path: Path, error: Exception
) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    run_id = start_run(ledger).run_id
    db = sqlite3.connect(ledger.path, isolation_level=None)
    record = RunRecord(FailingCommits(db, error), run_id, here(ledger))  # type: ignore[arg-type]
    record.attempt_started(request("A-1"), 1)
    # A liveness guard, not a timing: a waiter left unsettled would hang the run.
    with pytest.raises(LedgerError, match=re.escape(str(error))):
        await asyncio.wait_for(record.durable(), timeout=5)
    with pytest.raises(
        LedgerError, match=f"^the ledger could not be written \\({re.escape(str(error))}"
    ):
        record.attempt_started(request("A-2"), 1)
    with pytest.raises(LedgerError, match=r"^the ledger could not be written"):
        record.end(1)
    db.close()
    ledger.close()


def test_unanswered_attempt_is_reported(ledger: Ledger) -> None:
    record = start_run(ledger)
    record.attempt_started(request("A-1"), 1)  # sent, never answered
    doubt = unanswered_attempt(ledger, "A-1", "WH-1")
    assert doubt is not None
    assert doubt.reason == "killed"
    timeout_id = record.attempt_started(request("A-2"), 1)
    record.attempt_answered(
        timeout_id, ApiAnswer(http_status=0, error_code="timeout"), cancelled=False
    )
    doubt = unanswered_attempt(ledger, "A-2", "WH-1")
    assert doubt is not None
    assert doubt.reason == "timeout"
    answer(record, "A-3", 400, cancelled=False)
    assert unanswered_attempt(ledger, "A-3", "WH-1") is None


def test_skip_already_cancelled_marks_skipped_and_flags_doubt(ledger: Ledger) -> None:
    earlier = start_run(ledger)
    answer(earlier, "DONE", 200, cancelled=True)
    earlier.attempt_started(request("DOUBT"), 1)
    rows = [loaded("DONE", 1), loaded("DOUBT", 2), loaded("NEW", 3)]
    out = list(skip_already_cancelled(rows, ledger, here(ledger)))
    assert [row.source_row for row in out] == [1, 2, 3]
    assert out[0].request == rows[0].request  # kept, so the ledger knows the order
    assert out[0].verdict is not None
    assert out[0].verdict.status is Outcome.SKIPPED
    assert out[0].verdict.error_code == "already_cancelled"
    assert f"in run {earlier.run_id}" in out[0].verdict.error_message
    assert out[1].request is not None
    assert "was sent but never answered (the run was killed mid-request)" in out[1].request.note
    assert out[2] == rows[2]
    forced = list(skip_already_cancelled(rows, ledger, here(ledger), force_resend=True))
    assert forced[0] == rows[0]


@pytest.mark.parametrize(
    ("code", "in_doubt"),
    [
        ("run_interrupted", False),  # recorded, then the run stopped before sending
        ("tls_error", False),  # the handshake failed: nothing was sent
        ("timeout", True),  # sent; Shipper may have acted on it
        ("connection_error", True),
        ("internal_error", True),  # unknown: say so
    ],
)
def test_only_attempts_that_may_have_left_are_in_doubt(
    ledger: Ledger, code: str, in_doubt: bool
) -> None:
    record = start_run(ledger)
    attempt_id = record.attempt_started(request("A-1"), 1)
    record.attempt_answered(attempt_id, ApiAnswer(http_status=0, error_code=code), cancelled=False)
    doubt = unanswered_attempt(ledger, "A-1", "WH-1")
    assert (doubt is not None) == in_doubt


def test_skip_already_cancelled_across_lookup_batches(ledger: Ledger) -> None:
    # More rows than one ledger query takes, invalid rows among them, and orders whose
    # history has several attempts: each row gets the answer for its own order.
    earlier = start_run(ledger)
    count = LOOKUP_BATCH * 2 + 7
    for i in range(0, count, 3):
        answer(earlier, f"O-{i}", 200, cancelled=True)
        answer(earlier, f"O-{i}", 400, cancelled=False)  # a later forced resend, refused
    for i in range(1, count, 3):
        answer(earlier, f"O-{i}", 500, cancelled=False)
        earlier.attempt_started(request(f"O-{i}"), 2)  # the retry never answered
    rows = [
        loaded(f"O-{i}", i + 1) if i % 50 else LoadedRow(i + 1, ("", "", ""), None, None)
        for i in range(count)
    ]
    out = list(skip_already_cancelled(rows, ledger, here(ledger)))
    assert [row.source_row for row in out] == list(range(1, count + 1))
    for i, row in enumerate(out):
        if i % 50 == 0:
            assert row == rows[i]
        elif i % 3 == 0:
            assert row.verdict is not None
            assert row.verdict.status is Outcome.SKIPPED
        elif i % 3 == 1:
            assert row.request is not None
            assert "was sent but never answered" in row.request.note
        else:
            assert row == rows[i]


def test_history_lists_attempts_and_outcomes(ledger: Ledger) -> None:
    record = start_run(ledger)
    answer(record, "A-1", 500, cancelled=False)
    answer(record, "A-1", 200, cancelled=True)
    record.record_outcome(
        RowResult(
            source_row=1,
            status=Outcome.CANCELLED,
            http_status=200,
            attempts=2,
            finished_at="2099-01-01T00:00:00.000Z",
        ),
        "A-1",
        "WH-1",
    )
    entries = list(ledger.history("A-1"))
    assert [entry["kind"] for entry in entries] == ["attempt", "attempt", "outcome"]
    assert [entry["http_status"] for entry in entries] == [500, 200, 200]
    assert entries[-1]["status"] == "cancelled"
    assert list(ledger.history("A-1", "WH-OTHER")) == []


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    sqlite3.connect(path).execute("PRAGMA user_version=99")
    with pytest.raises(Exception, match="newer than this batch-cancel"):
        Ledger(path)


def test_lock_is_exclusive_and_names_the_holder(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3.lock"
    with RunLock(path), pytest.raises(LockHeldError, match=f"pid {os.getpid()}"):
        # flock locks belong to open file descriptions: a second open conflicts
        # even within one process, as a second cron run would.
        RunLock(path).__enter__()
    with RunLock(path):  # released on exit, so it can be taken again
        pass


def test_prune_forgets_what_is_older_than_keep_days_and_the_skip_holds_for_that_long(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ledger.sqlite3"
    ledger = Ledger(path)
    old, recent = start_run(ledger), start_run(ledger)
    answer(old, "OLD", 200, cancelled=True)
    old.record_outcome(RowResult(1, Outcome.CANCELLED, 200, finished_at="x"), "OLD", "WH-1")
    answer(recent, "RECENT", 200, cancelled=True)
    recent.record_outcome(RowResult(1, Outcome.CANCELLED, 200), "RECENT", "WH-1")
    old.commit()
    recent.commit()
    with sqlite3.connect(path) as db:  # the first night was 200 days ago
        for table, column in (("attempts", "sent_at"), ("outcomes", "finished_at")):
            db.execute(f"UPDATE {table} SET {column} = '2026-05-16T02:30:00.000Z' "  # noqa: S608
                       f"WHERE run_id = ?", (old.run_id,))  # fmt: skip
        db.execute(
            "UPDATE runs SET started_at = '2026-05-16T02:30:00.000Z' WHERE run_id = ?",
            (old.run_id,),
        )
    assert ledger.kept_since() is None
    assert ledger.prune(180) == 2  # the old night's attempt and outcome
    assert prior_cancel(ledger, "OLD", "WH-1") is None  # past the promise: may be sent again
    assert prior_cancel(ledger, "RECENT", "WH-1") is not None  # within it: still skipped
    assert list(ledger.history("OLD")) == []
    assert [entry["kind"] for entry in ledger.history("RECENT")] == ["attempt", "outcome"]
    kept = ledger.kept_since()
    assert kept is not None
    assert kept > "2026-05-16"
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT run_id FROM runs").fetchall() == [(recent.run_id,)]
    ledger.close()


def test_a_skipped_row_is_one_short_entry_and_history_shows_it(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    ledger = Ledger(path)
    earlier = start_run(ledger)
    answer(earlier, "DONE", 200, cancelled=True)
    earlier.end(0)
    rerun = start_run(ledger)
    (row,) = skip_already_cancelled([loaded("DONE", 7)], ledger, here(ledger))
    assert row.verdict is not None
    rerun.record_outcome(row.verdict, "DONE", "WH-1")
    rerun.end(0)
    with sqlite3.connect(path) as db:
        skips = db.execute("SELECT * FROM skips").fetchall()
        assert skips == [(rerun.run_id, 0, 7, "DONE", "WH-1")]
        assert db.execute("SELECT COUNT(*) FROM outcomes").fetchone() == (0,)
        started = db.execute(
            "SELECT started_at FROM runs WHERE run_id = ?", (rerun.run_id,)
        ).fetchone()[0]
    entries = list(ledger.history("DONE"))
    assert [(entry["kind"], entry["run_id"]) for entry in entries] == [
        ("attempt", earlier.run_id),
        ("outcome", rerun.run_id),
    ]
    assert entries[-1] | {"input_path": None} == {
        "kind": "outcome",
        "run_id": rerun.run_id,
        "warehouse_id": "WH-1",
        "at": started,
        "attempt": 0,
        "answered_at": None,
        "http_status": None,
        "error_code": "already_cancelled",
        "error_message": None,
        "request_id": None,
        "status": "skipped",
        "input_path": None,
        "source_row": 7,
        "file": 0,
        "host": "api.shipper.example",
        "this_account": None,
    }
    assert list(ledger.history("DONE", "WH-OTHER")) == []
    ledger.close()


def test_retention_keeps_every_cancel_younger_than_keep_days_whatever_came_after(
    tmp_path: Path,
) -> None:
    """Nights 1..40 days ago, each cancelling its own order (and re-seeing, skipping, or
    refusing older ones): after prune(keep_days=20) the skip knows exactly the orders
    cancelled less than 20 days ago, and a later refusal never stands in for a cancel."""
    path = tmp_path / "ledger.sqlite3"
    ledger = Ledger(path)
    now = datetime.now(UTC)
    nights = {}
    for age in range(40, 0, -1):
        night = start_run(ledger)
        answer(night, f"N-{age}", 200, cancelled=True)
        if age < 40:  # the night after re-sends the older order (forced): refused
            answer(night, f"N-{age + 1}", 400, cancelled=False)
            night.record_outcome(
                RowResult(2, Outcome.SKIPPED, error_code="already_cancelled"),
                f"N-{age + 2}",
                "WH-1",
            )
        night.end(0)
        nights[age] = night.run_id
    with sqlite3.connect(path) as db:
        for age, run_id in nights.items():
            stamp = (now - timedelta(days=age, hours=-1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            for table, column in (("attempts", "sent_at"), ("runs", "started_at")):
                db.execute(f"UPDATE {table} SET {column} = ? WHERE run_id = ?",  # noqa: S608
                           (stamp, run_id))  # fmt: skip
    ledger.prune(20)
    known = {
        key[0]
        for key in ledger.look_up([(f"N-{age}", "WH-1") for age in nights], here(ledger)).cancelled
    }
    assert known == {f"N-{age}" for age in range(1, 21)}
    rows = [loaded(f"N-{age}", age) for age in range(1, 41)]
    skipped = [
        row.source_row for row in skip_already_cancelled(rows, ledger, here(ledger)) if row.verdict
    ]
    assert skipped == list(range(1, 21))
    with sqlite3.connect(path) as db:
        kept_runs = {run_id for (run_id,) in db.execute("SELECT run_id FROM skips")}
        assert kept_runs == {nights[age] for age in range(1, 21)}
    ledger.close()


def test_the_cut_moves_at_most_twice_a_day_and_never_back(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    ledger = Ledger(path)
    night = start_run(ledger)
    answer(night, "A-1", 200, cancelled=True)
    night.end(0)
    assert ledger.prune(30) == 0
    first = ledger.kept_since()
    assert first is not None
    with sqlite3.connect(path) as db:  # the order was cancelled 29.8 days ago
        then = (datetime.now(UTC) - timedelta(days=29.8)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        db.execute("UPDATE attempts SET sent_at = ?", (then,))
        db.execute("UPDATE runs SET started_at = ?, ended_at = ?", (then, then))
    start_run(ledger).end(0)  # and the ledger is in nightly use (a wrong clock is not pruned)
    # Later the same day: no second scan, though the cut would now pass the order.
    assert ledger.prune(29.6) == 0
    assert ledger.kept_since() == first
    assert prior_cancel(ledger, "A-1", "WH-1") is not None
    # keep_days grew: the ledger still remembers only from the first cut on.
    assert ledger.prune(365) == 0
    assert ledger.kept_since() == first
    # A much shorter keep_days moves the cut at once.
    assert ledger.prune(7) == 1
    kept = ledger.kept_since()
    assert kept is not None
    assert kept > first
    assert prior_cancel(ledger, "A-1", "WH-1") is None
    ledger.close()


@pytest.mark.parametrize("kept_since", ["not a time", "657-01-01T00:00:00.000Z"])
def test_a_cut_it_cannot_read_is_made_afresh(tmp_path: Path, kept_since: str) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    night = start_run(ledger)
    answer(night, "A-1", 200, cancelled=True)
    night.end(0)
    with sqlite3.connect(tmp_path / "ledger.sqlite3") as db:
        db.execute("INSERT INTO ledger_meta VALUES ('kept_since', ?)", (kept_since,))
    assert ledger.prune(30) == 0  # nothing that old; no crash at the end of the night
    cut = ledger.kept_since()
    assert cut is not None
    assert cut.startswith(str(datetime.now(UTC).year - 1)) or cut.startswith(
        str(datetime.now(UTC).year)
    )
    ledger.close()


@pytest.mark.parametrize("keep_days", [1e6, 1e12, float(10**300)])
def test_a_keep_days_longer_than_any_ledger_forgets_nothing(
    tmp_path: Path, keep_days: float
) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    night = start_run(ledger)
    answer(night, "A-1", 200, cancelled=True)
    night.end(0)
    assert ledger.prune(keep_days) == 0
    assert prior_cancel(ledger, "A-1", "WH-1") is not None
    cut = ledger.kept_since()
    assert cut is not None
    assert len(cut.split("-")[0]) == 4  # a time the next prune can read back
    assert ledger.prune(keep_days) == 0
    ledger.close()
