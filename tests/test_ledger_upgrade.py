"""A ledger written by an older batch-cancel (schema 1, 2 or 3) is upgraded in place, whole.

tests/data/ledger-v1.sql is a dump of a ledger written by the main branch before
schema 2 (commit a64c0bd): every outcome kind, a retried row, a timeout, an order
on two warehouses, and a run killed mid-request. tests/data/ledger-v2.sql is `make
demo`'s ledger as the main branch before schema 3 wrote it (commit 9e2288c): five runs
through the real CLI, skipped rows among them, kept in `outcomes`. tests/data/ledger-v3.sql
is `make demo`'s ledger as the main branch before schema 4 wrote it (commit 338ff26), then
two runs of the real CLI with --rate auto against a second sandbox (another host, same key):
one skipped every row on the first host's cancels, one cancelled HOST2-0001 there only.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from batch_cancel.ledger import SCHEMA_VERSION, Ledger, skip_already_cancelled
from batch_cancel.models import ApiAnswer, CancelRequest, LoadedRow

DUMP = Path(__file__).parent / "data" / "ledger-v1.sql"
DUMP_V2 = Path(__file__).parent / "data" / "ledger-v2.sql"
DUMP_V3 = Path(__file__).parent / "data" / "ledger-v3.sql"
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


def db_options(path: Path, run_id: object) -> str:
    db = sqlite3.connect(path)
    try:
        return str(
            db.execute("SELECT options_json FROM runs WHERE run_id = ?", (run_id,)).fetchone()[0]
        )
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
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
    indexes = db.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()
    tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    runs = db.execute("SELECT run_id, input_path, ended_at IS NULL FROM runs").fetchall()
    db.close()
    assert tables == {
        *("runs", "attempts", "outcomes", "skips", "ledger_meta", "paces"),
        *("accounts", "run_files", "reads"),
    }
    # Only the automatic indexes of the small tables' keys: nothing per attempt or outcome.
    assert sorted(name for (name,) in indexes) == [
        "sqlite_autoindex_accounts_1",
        "sqlite_autoindex_ledger_meta_1",
        "sqlite_autoindex_run_files_1",
    ]
    assert runs == [(1, "/exports/shopee-night1.csv", 0), (2, "/exports/tokopedia-night1.csv", 1)]
    assert rows_of(path, "attempts") == attempts
    assert rows_of(path, "outcomes") == outcomes
    assert histories(path) == before
    # The old paces, keyed by an unkeyed hash of the base URL and the key, are gone:
    # a remembered pace is learned again in one night.


def test_a_schema_1_ledger_recorded_no_base_url_so_its_cancels_count_nowhere(
    tmp_path: Path,
) -> None:
    path = old_ledger(tmp_path)
    ledger = Ledger(path)
    try:
        account = ledger.account("https://api.shipper.example", "merchant-key")
        keys = [(order, "WH-1") for order in ORDERS] + [("SHP-0001", "WH-2")]
        known = ledger.look_up(keys, account)
        # Its runs recorded `{"rate": 5}` only: no host, so nothing is skipped or doubted.
        assert known.cancelled == {}
        assert known.unanswered == {}
        assert {key: where for key, where in known.cancelled_elsewhere.items()} == {
            ("SHP-0001", "WH-1"): ("(unknown host)", 1),
            ("SHP-0003", "WH-1"): ("(unknown host)", 1),
            ("SHP-0001", "WH-2"): ("(unknown host)", 1),
        }

        # A new run's attempts come after the old ones, whatever ids the old ledger used.
        run = ledger.start_run(input_path=tmp_path / "night2.csv", options={}, account=account)
        attempt_id = run.attempt_started(CancelRequest(1, "SHP-0009", "WH-1", "again"), 1)
        run.attempt_answered(attempt_id, ApiAnswer(200, request_id="rq-9"), cancelled=True)
        run.end(0)
        known = ledger.look_up([("SHP-0009", "WH-1")], account)
        assert known.cancelled[("SHP-0009", "WH-1")].run_id == run.run_id
        assert known.unanswered == {}
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
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
    assert db.execute("SELECT COUNT(*) FROM skips").fetchone() == (0,)
    db.close()
    assert rows_of(path, "attempts") == attempts
    assert rows_of(path, "outcomes") == outcomes
    assert histories(path, orders) == before

    # The next run skips what the old ledger knew was cancelled, and records it as a skip.
    order_no, warehouse_id = skipped[0][0], skipped[0][1]
    base_url = json.loads(db_options(path, skipped[0][2]))["base_url"]
    account = ledger.account(base_url, "sandbox-demo-key")
    (row,) = skip_already_cancelled(
        [LoadedRow(1, (), CancelRequest(1, order_no, warehouse_id, "again"), None)],
        ledger,
        account,
    )
    assert row.verdict is not None
    run = ledger.start_run(input_path=tmp_path / "night2.csv", options={}, account=account)
    run.record_outcome(row.verdict, order_no, warehouse_id)
    run.end(0)
    ledger.close()
    assert rows_of(path, "outcomes") == outcomes
    after = histories(path, [order_no])[order_no]
    assert after[: len(before[order_no])] == before[order_no]
    assert [(entry["kind"], entry["status"], entry["run_id"]) for entry in after[-1:]] == [
        ("outcome", "skipped", run.run_id)
    ]


HOST_1, HOST_2, DEMO_KEY = "http://127.0.0.1:39299", "http://127.0.0.1:35079", "sandbox-demo-key"
MARKETPLACE = [  # run 3 cancelled them at host 1; run 6 skipped them at host 2 on that
    ("LZD-738920114603", "WH-TGR04"),
    ("TKP-2411260007", "WH-TGR04"),
    ("TTS-576912384410258877", "WH-TGR04"),
]


def test_a_schema_3_ledger_trusts_its_runs_at_the_host_they_recorded_and_at_no_other(
    tmp_path: Path,
) -> None:
    path = old_ledger(tmp_path, DUMP_V3)
    attempts, outcomes = rows_of(path, "attempts"), rows_of(path, "outcomes")
    orders = sorted({row[1] for row in attempts} | {"HOST2-0001"})
    before = histories(path, orders)  # history reads a schema-3 ledger as it is
    db = sqlite3.connect(path)
    skips = sorted(db.execute("SELECT run_id, source_row, order_no, warehouse_id FROM skips"))
    db.close()
    assert (len(attempts), len(outcomes), len(skips)) == (79, 114, 33)

    ledger = Ledger(path)
    try:
        db = sqlite3.connect(path)
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
        accounts = db.execute(
            "SELECT r.run_id, a.base_url, a.key_fingerprint FROM runs r JOIN accounts a"
            " USING (account_id) ORDER BY r.run_id"
        ).fetchall()
        new_skips = db.execute("SELECT run_id, source_row, order_no, warehouse_id FROM skips")
        assert sorted(new_skips) == skips
        assert db.execute("SELECT DISTINCT file FROM outcomes").fetchall() == [(-1,)]
        db.close()
        assert accounts == [(run, HOST_1, "") for run in range(1, 6)] + [
            (6, HOST_2, ""),
            (7, HOST_2, ""),
        ]
        assert rows_of(path, "attempts") == attempts
        assert rows_of(path, "outcomes") == outcomes
        assert histories(path, orders) == before

        keys = [*MARKETPLACE, ("HOST2-0001", "WH-TGR04")]
        # At host 1 (any spelling of its URL, any key: the old runs recorded no key),
        # its own cancels are skipped and host 2's is not.
        at_1 = ledger.look_up(keys, ledger.account("HTTP://127.0.0.1:39299/", "another-key"))
        assert {key: prior.run_id for key, prior in at_1.cancelled.items()} == {
            key: 3 for key in MARKETPLACE
        }
        assert at_1.cancelled_elsewhere == {("HOST2-0001", "WH-TGR04"): ("127.0.0.1:35079", 7)}
        # At host 2, host 1's cancels count for nothing, though run 6 skipped them there.
        at_2 = ledger.look_up(keys, ledger.account(HOST_2, DEMO_KEY))
        assert {key: prior.run_id for key, prior in at_2.cancelled.items()} == {
            ("HOST2-0001", "WH-TGR04"): 7
        }
        assert at_2.cancelled_elsewhere == {key: ("127.0.0.1:39299", 3) for key in MARKETPLACE}
        # Run 7's --rate auto pace was keyed by an unkeyed hash of its key: dropped.
        assert ledger.remembered_pace(ledger.account(HOST_2, DEMO_KEY)) is None
        db = sqlite3.connect(path)
        assert db.execute("SELECT name FROM sqlite_master WHERE name LIKE 'paces%'").fetchall() == [
            ("paces",)
        ]
        db.close()
    finally:
        ledger.close()
