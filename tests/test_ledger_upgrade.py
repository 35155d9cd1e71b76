"""A ledger written by an older batch-cancel (schema 1 or 2) is upgraded in place, losing nothing.

tests/data/ledger-v1.sql is a dump of a ledger written by the main branch before
schema 2 (commit a64c0bd): every outcome kind, a retried row, a timeout, an order
on two warehouses, and a run killed mid-request. tests/data/ledger-v2.sql is `make
demo`'s ledger as the main branch before schema 3 wrote it (commit 9e2288c): five runs
through the real CLI, skipped rows among them, kept in `outcomes`.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from batch_cancel.ledger import SCHEMA_VERSION, Ledger, skip_already_cancelled
from batch_cancel.models import ApiAnswer, CancelRequest, LoadedRow

DUMP = Path(__file__).parent / "data" / "ledger-v1.sql"
DUMP_V2 = Path(__file__).parent / "data" / "ledger-v2.sql"
ORDERS = ["SHP-0001", "SHP-0002", "SHP-0003", "SHP-0004", "SHP-0005", "SHP-0007", "SHP-0009"]


def old_ledger(tmp_path: Path, dump: Path = DUMP) -> Path:
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(dump.read_text(encoding="utf-8"))
    db.close()
    return path


def rows_of(path: Path, table: str) -> list[tuple[object, ...]]:
    db = sqlite3.connect(path)
    try:
        columns = (
            "order_no, warehouse_id, run_id, source_row, status, http_status, error_code,"
            " error_message, attempts, request_id, finished_at"
            if table == "outcomes"
            else "attempt_id, order_no, warehouse_id, run_id, source_row, attempt, sent_at,"
            " answered_at, http_status, error_code, error_message, request_id, cancelled"
        )
        return sorted(db.execute(f"SELECT {columns} FROM {table}").fetchall(), key=repr)  # noqa: S608
    finally:
        db.close()


def histories(path: Path, orders: list[str] = ORDERS) -> dict[str, list[dict[str, object]]]:
    ledger = Ledger(path, read_only=True)
    try:
        return {order: list(ledger.history(order)) for order in orders}
    finally:
        ledger.close()


def test_the_upgrade_keeps_every_attempt_outcome_run_and_pace(tmp_path: Path) -> None:
    path = old_ledger(tmp_path)
    attempts, outcomes = rows_of(path, "attempts"), rows_of(path, "outcomes")
    before = histories(path)  # history reads a schema-1 ledger as it is
    assert len(attempts) == 7
    assert len(outcomes) == 9

    Ledger(path).close()

    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
    indexes = db.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()
    tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    runs = db.execute("SELECT run_id, input_path, ended_at IS NULL FROM runs").fetchall()
    db.close()
    assert tables == {"runs", "attempts", "outcomes", "skips", "ledger_meta", "paces"}
    # Only the automatic indexes of the small tables' text keys: nothing per attempt or outcome.
    assert sorted(name for (name,) in indexes) == [
        "sqlite_autoindex_ledger_meta_1",
        "sqlite_autoindex_paces_1",
    ]
    assert runs == [(1, "/exports/shopee-night1.csv", 0), (2, "/exports/tokopedia-night1.csv", 1)]
    assert rows_of(path, "attempts") == attempts
    assert rows_of(path, "outcomes") == outcomes
    assert histories(path) == before
    ledger = Ledger(path)
    try:
        assert ledger.remembered_pace("abc123") == 37.5
    finally:
        ledger.close()


def test_an_upgraded_ledger_still_skips_and_doubts_what_the_old_one_knew(tmp_path: Path) -> None:
    path = old_ledger(tmp_path)
    ledger = Ledger(path)
    try:
        keys = [(order, "WH-1") for order in ORDERS] + [("SHP-0001", "WH-2")]
        prior, unanswered = ledger.look_up(keys)
        assert {key: cancel.run_id for key, cancel in prior.items()} == {
            ("SHP-0001", "WH-1"): 1,
            ("SHP-0003", "WH-1"): 1,
            ("SHP-0001", "WH-2"): 1,
        }
        assert {key: doubt.reason for key, doubt in unanswered.items()} == {
            ("SHP-0004", "WH-1"): "timeout",
            ("SHP-0009", "WH-1"): "killed",
        }

        # A new run's attempts come after the old ones, whatever ids the old ledger used.
        run = ledger.start_run(input_path=tmp_path / "night2.csv", options={})
        attempt_id = run.attempt_started(CancelRequest(1, "SHP-0009", "WH-1", "again"), 1)
        run.attempt_answered(attempt_id, ApiAnswer(200, request_id="rq-9"), cancelled=True)
        run.end(0)
        prior, unanswered = ledger.look_up([("SHP-0009", "WH-1")])
        assert prior[("SHP-0009", "WH-1")].run_id == run.run_id
        assert unanswered == {}
        kinds = [(entry["kind"], entry["run_id"]) for entry in ledger.history("SHP-0009")]
        assert kinds == [("attempt", 2), ("attempt", run.run_id)]
    finally:
        ledger.close()


def test_a_schema_2_ledger_keeps_its_outcomes_and_new_skips_go_to_their_own_table(
    tmp_path: Path,
) -> None:
    path = old_ledger(tmp_path, DUMP_V2)
    attempts, outcomes = rows_of(path, "attempts"), rows_of(path, "outcomes")
    orders = sorted({row[0] for row in outcomes})
    before = histories(path, orders)  # history reads a schema-2 ledger as it is
    assert len(attempts) == 78
    assert len(outcomes) == 139
    skipped = [row for row in outcomes if row[4] == "skipped"]
    assert len(skipped) == 26

    ledger = Ledger(path)
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3
    assert db.execute("SELECT COUNT(*) FROM skips").fetchone() == (0,)
    db.close()
    assert rows_of(path, "attempts") == attempts
    assert rows_of(path, "outcomes") == outcomes
    assert histories(path, orders) == before

    # The next run skips what the old ledger knew was cancelled, and records it as a skip.
    order_no, warehouse_id = skipped[0][0], skipped[0][1]
    (row,) = skip_already_cancelled(
        [LoadedRow(1, (), CancelRequest(1, order_no, warehouse_id, "again"), None)], ledger
    )
    assert row.verdict is not None
    run = ledger.start_run(input_path=tmp_path / "night2.csv", options={})
    run.record_outcome(row.verdict, order_no, warehouse_id)
    run.end(0)
    ledger.close()
    assert rows_of(path, "outcomes") == outcomes
    after = histories(path, [order_no])[order_no]
    assert after[: len(before[order_no])] == before[order_no]
    assert [(entry["kind"], entry["status"], entry["run_id"]) for entry in after[-1:]] == [
        ("outcome", "skipped", run.run_id)
    ]
