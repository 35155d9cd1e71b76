"""The morning (issue 25): what to do about each row, rows that leave the nightly loop,
each row counted once, validate's order, the dry run's words and `run --help`."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from batch_cancel.actions import ACTIONS
from batch_cancel.cli.progress import Progress
from batch_cancel.config import InputOptions
from batch_cancel.job import InputScan
from batch_cancel.loader import OrdersFile
from batch_cancel.models import ExitStatus

from .conftest import Sandbox
from .helpers import (
    ORDERS_HEADER,
    ROOT,
    main_in_process,
    read_results,
    use_cli_env,
    write_csv,
)
from .workbooks import Sheet, write_workbook

BOOK_HEADER = ["order_no", "warehouse_id", "state"]


def order_book(path: Path, states: dict[str, str]) -> Path:
    return write_csv(path, BOOK_HEADER, [[order, "WH-1", state] for order, state in states.items()])


@pytest.mark.integration
def test_the_run_summary_says_what_to_do_for_each_cause(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    start_sandbox: Callable[..., Sandbox],
) -> None:
    use_cli_env(monkeypatch, state=tmp_path / "ledger.sqlite3")
    book = order_book(
        tmp_path / "book.csv", {"A-1": "CREATED", "A-2": "ALLOCATED", "A-3": "SHIPPED"}
    )
    sandbox = start_sandbox("--orders", str(book))
    export = write_csv(
        tmp_path / "night.csv",
        ORDERS_HEADER,
        [[order, "WH-1", "r"] for order in ("A-1", "A-2", "A-3")] + [["", "WH-1", "r"]],
    )
    done = main_in_process(capsys, "run", export, "--base-url", sandbox.url)
    assert done.returncode == ExitStatus.ROWS_NEED_ATTENTION
    results = tmp_path / "night.results.csv"
    assert (
        "  3 rows need attention: 2 rejected (1 because stock is allocated, 1 because the order "
        "has shipped), 1 invalid.\n"
        "  what to do:\n"
        "        1  invalid: order_no_missing\n"
        "           -> order_no is blank: fill it in; fix it in the export (or in the results "
        "file), then re-send these rows\n"
        f"              batch-cancel run {results} --only invalid\n"
        "        1  rejected: stock is allocated\n"
        "           -> ask the warehouse to release the stock, then re-send these rows (or let "
        '`retry_rejected = "allocated"` retry them on the nights the config sets)\n'
        f"              batch-cancel run {results} --only rejected\n"
        "        1  rejected: the order has shipped\n"
        "           -> too late to cancel: handle it as a return with the buyer or the "
        "marketplace\n"
    ) in done.stderr


def test_the_readme_says_what_to_do_for_every_cause_as_the_table_does() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for action in ACTIONS:
        command = f"`{action.command_for('RESULTS')}`" if action.command else ""
        assert f"| {action.cause} | {action.todo} | {command} |" in readme, action.cause


@pytest.mark.integration
def test_a_night_and_its_retry_count_a_row_without_an_order_number_once(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    start_sandbox: Callable[..., Sandbox],
) -> None:
    use_cli_env(monkeypatch, state=tmp_path / "ledger.sqlite3")
    sandbox = start_sandbox(
        "--orders", str(order_book(tmp_path / "book.csv", {"A-1": "CREATED", "A-2": "ALLOCATED"}))
    )
    export = write_csv(
        tmp_path / "night.csv",
        ORDERS_HEADER,
        [["A-1", "WH-1", "r"], ["A-2", "WH-1", "r"], ["", "WH-1", "r"], ["", "WH-2", "r"]],
    )
    main_in_process(capsys, "run", export, "--base-url", sandbox.url)
    night, retry = tmp_path / "night.results.csv", tmp_path / "retry.results.csv"
    args = ("run", night, "--only", "rejected", "-o", retry, "--base-url", sandbox.url)
    assert main_in_process(capsys, *args).returncode == ExitStatus.ROWS_NEED_ATTENTION
    done = main_in_process(capsys, "summarize", night, retry)
    assert done.stdout.splitlines()[0] == "2 results files: 4 row(s), 3 need attention"
    assert "  invalid          2  <- needs attention" in done.stdout.splitlines()
    assert (
        "Each order counted once, with its last outcome: 4 earlier row(s) of re-sent orders "
        "are left out of the total."
    ) in done.stdout


def test_the_files_of_a_source_are_read_oldest_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_cli_env(monkeypatch, state=tmp_path / "ledger.sqlite3")
    older = write_csv(tmp_path / "export-b.csv", ORDERS_HEADER, [["A-1", "WH-1", "r"]])
    newer = write_csv(tmp_path / "export-a.csv", ORDERS_HEADER, [["A-1", "WH-1", "r"]])
    os.utime(older, (1_000_000, 1_000_000))
    os.utime(newer, (2_000_000, 2_000_000))
    config = tmp_path / "night.toml"
    config.write_text('[sources.shop]\nfiles = "export-*.csv"\n', encoding="utf-8")
    done = main_in_process(capsys, "run", "--config", config, "--dry-run")
    assert done.returncode == ExitStatus.SUCCESS, done.stderr
    later = read_results(tmp_path / "export-a.dry-run.csv")
    assert [(row["result_status"], row["result_error_message"]) for row in later] == [
        ("duplicate", "same order_no and warehouse_id as row 1 of export-b.csv")
    ]
    assert read_results(tmp_path / "export-b.dry-run.csv")[0]["result_status"] == "not_sent"


def test_a_dry_run_says_what_it_would_send_and_exits_0_when_every_row_is_valid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use_cli_env(monkeypatch, state=tmp_path / "ledger.sqlite3")
    valid = write_csv(
        tmp_path / "ok.csv", ORDERS_HEADER, [["A-1", "WH-1", "r"], ["A-2", "WH-1", "r"]]
    )
    done = main_in_process(capsys, "run", valid, "--dry-run")
    assert done.returncode == ExitStatus.SUCCESS
    lines = done.stderr.splitlines()
    assert lines[0] == "batch-cancel: dry run; nothing sent: would send 2"
    assert "  not_sent         2  <- would be sent" in lines
    mixed = write_csv(
        tmp_path / "mixed.csv", ORDERS_HEADER, [["A-1", "WH-1", "r"], ["", "WH-1", "r"]]
    )
    done = main_in_process(capsys, "run", mixed, "--dry-run")
    assert done.returncode == ExitStatus.ROWS_NEED_ATTENTION
    assert done.stderr.splitlines()[:2] == [
        "batch-cancel: dry run; nothing sent: would send 1; 1 row(s) need attention",
        "  1 row needs attention: 1 invalid.",
    ]
    assert "not sent (re-run)" not in done.stderr


def test_the_progress_total_of_a_spreadsheet_is_counted_not_estimated(tmp_path: Path) -> None:
    rows = [[f"SO-{n}", "WH-1", "r"] for n in range(30)]
    path = write_workbook(
        tmp_path / "night.xlsx", [Sheet("Orders", [ORDERS_HEADER, *rows[:10], [], *rows[10:]])]
    )
    csv_path = write_csv(tmp_path / "night.csv", ORDERS_HEADER, rows)
    orders = [OrdersFile(InputOptions(path=path)), OrdersFile(InputOptions(path=csv_path))]
    assert [item.counted_rows for item in orders] == [30, None]
    scan = InputScan([path, csv_path], [item.counted_rows for item in orders])
    scan.sha256s()  # waits for the scan
    assert (scan.rows_estimate, scan.exact) == (60, False)
    sheet_only = InputScan([path], [orders[0].counted_rows])
    sheet_only.sha256s()
    assert (sheet_only.rows_estimate, sheet_only.exact) == (len(list(orders[0].rows())), True)
    progress = Progress(sheet_only, quiet=True, every_s=60)
    assert progress.line(0.0).startswith("0/30 rows")


def _age(path: Path, days: int) -> None:
    """As if `path` had been written `days` nights ago (the next run keeps it by that day)."""
    moment = time.time() - days * 86_400
    os.utime(path, (moment, moment))


@pytest.mark.integration
def test_allocated_rows_are_retried_nightly_then_the_file_goes_to_a_person(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    start_sandbox: Callable[..., Sandbox],
) -> None:
    use_cli_env(monkeypatch, state=tmp_path / "ledger.sqlite3")
    sandbox = start_sandbox(
        "--orders", str(order_book(tmp_path / "book.csv", {"A-1": "CREATED", "A-2": "ALLOCATED"}))
    )
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    export = write_csv(
        inbox / "shop.csv", ORDERS_HEADER, [["A-1", "WH-1", "r"], ["A-2", "WH-1", "r"]]
    )
    config = tmp_path / "night.toml"
    config.write_text(
        '[sources.shop]\nfiles = "inbox/*.csv"\narchive = "done/"\ngive_up_after = 3\n',
        encoding="utf-8",
    )
    night = ("run", "--config", config, "--base-url", sandbox.url)
    results = inbox / "shop.results.csv"
    for ago in (2, 1):  # nights 1 and 2: the allocated row keeps the file in the inbox
        assert main_in_process(capsys, *night).returncode == ExitStatus.ROWS_NEED_ATTENTION
        assert export.exists()
        assert not (tmp_path / "done").exists()
        _age(results, ago)
    done = main_in_process(capsys, *night)  # night 3: given up on
    assert done.returncode == ExitStatus.ROWS_NEED_ATTENTION
    person = inbox / "needs-person"
    assert not export.exists()
    assert sorted(path.name for path in person.iterdir()) == sorted(
        [
            "shop.csv",
            "shop.results.csv",
            *(path.name for path in person.glob("shop.2*.results.csv")),
        ]
    )
    assert len(list(person.glob("shop.2*.results.csv"))) == 2
    assert (
        f"  needs a person: rows still need attention after 3 night(s); moved with its results "
        f"to {person}, and not sent again"
    ) in done.stderr.splitlines()
    assert sandbox.stats()["cancel_calls"] == {"A-1|WH-1": 1, "A-2|WH-1": 3}
    # The next night it is not in the inbox: not sent again, not said again.
    done = main_in_process(capsys, *night)
    assert "needs a person" not in done.stderr
    assert sandbox.stats()["cancel_calls"] == {"A-1|WH-1": 1, "A-2|WH-1": 3}


@pytest.mark.integration
def test_an_allocated_order_released_by_the_warehouse_is_cancelled_the_next_night(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    start_sandbox: Callable[..., Sandbox],
) -> None:
    use_cli_env(monkeypatch, state=tmp_path / "ledger.sqlite3")
    (tmp_path / "inbox").mkdir()
    export = write_csv(tmp_path / "inbox" / "shop.csv", ORDERS_HEADER, [["A-2", "WH-1", "r"]])
    config = tmp_path / "night.toml"
    config.write_text('[sources.shop]\nfiles = "inbox/*.csv"\narchive = "done/"\n', "utf-8")
    allocated = start_sandbox("--orders", str(order_book(tmp_path / "a.csv", {"A-2": "ALLOCATED"})))
    done = main_in_process(capsys, "run", "--config", config, "--base-url", allocated.url)
    assert done.returncode == ExitStatus.ROWS_NEED_ATTENTION
    assert export.exists()  # not archived: its allocated order is retried
    released = start_sandbox("--orders", str(order_book(tmp_path / "r.csv", {"A-2": "CREATED"})))
    done = main_in_process(capsys, "run", "--config", config, "--base-url", released.url)
    assert done.returncode == ExitStatus.SUCCESS, done.stderr
    assert not export.exists()
    assert (tmp_path / "done" / "shop.results.csv").exists()
    # With retry_rejected = [], a file whose only problems are rejections is archived at once.
    write_csv(tmp_path / "inbox" / "shop2.csv", ORDERS_HEADER, [["A-2", "WH-1", "r"]])
    config.write_text(
        '[sources.shop]\nfiles = "inbox/*.csv"\narchive = "done/"\nretry_rejected = []\n', "utf-8"
    )
    done = main_in_process(
        capsys, "run", "--config", config, "--base-url", allocated.url, "--force-resend"
    )
    assert done.returncode == ExitStatus.ROWS_NEED_ATTENTION
    assert (tmp_path / "done" / "shop2.results.csv").exists()
