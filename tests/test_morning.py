"""The morning (issue 25): what to do about each row, rows that leave the nightly loop,
each row counted once, validate's order, the dry run's words and `run --help`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from batch_cancel.actions import ACTIONS
from batch_cancel.models import ExitStatus

from .conftest import Sandbox
from .helpers import ORDERS_HEADER, ROOT, main_in_process, use_cli_env, write_csv

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
