"""The whole night in one command: a config with three sources (a semicolon CSV with
Indonesian headers, a tab CSV, an .xlsx with numeric order numbers and a leading-zero
text id) against the real sandbox: results per file, one summary, one exit status."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from batch_cancel import cli, demo
from batch_cancel.models import ExitStatus

from .conftest import Sandbox
from .helpers import API_KEY, SAMPLES, cli_env, read_results

RATE = 20


@pytest.fixture
def night(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """samples/night copied (its results land beside the inputs), a ledger of its own."""
    folder = tmp_path / "night"
    shutil.copytree(SAMPLES / "night", folder)
    for name, value in cli_env(state=tmp_path / "ledger.sqlite3").items():
        monkeypatch.setenv(name, value)
    return folder


def run_night(night: Path, sandbox: Sandbox, *extra: str) -> int:
    """The sample's two accounts both at `sandbox` (as the demo points them at its two)."""
    config = night / "night.toml"
    demo.point_night_at(config, {name: (sandbox.url, API_KEY) for name in demo.NIGHT_ACCOUNTS})
    return cli.main(["run", "--config", str(config), "--rate", str(RATE), *extra])


@pytest.mark.integration
def test_the_whole_night_in_one_run(
    night: Path, start_sandbox: Callable[..., Sandbox], capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox = start_sandbox("--rate-limit", str(RATE))
    summary = night / "summary.json"
    assert run_night(night, sandbox, "--summary-json", str(summary)) == ExitStatus.SUCCESS
    stats = sandbox.stats()
    # The cross-file duplicate is sent once; every other order once; the cap held.
    assert sorted(stats["cancel_calls"]) == sorted(
        [
            *(f"TKP-241201000{i}|WH-TGR04" for i in (1, 2, 3, 4)),
            *(f"73892020000{i}|WH-SBY02" for i in (1, 2, 3)),
            *(f"241201000000{i}|WH-CKR01" for i in (1, 2, 4)),
            "0024120100077|WH-CKR01",
        ]
    )
    assert set(stats["cancel_calls"].values()) == {1}
    assert stats["busiest_second"] <= RATE
    assert stats["answers"]["429"] == 0
    second = read_results(night / "tokopedia-20261201-b.results.csv")
    assert [(row["result_status"], row["result_error_message"]) for row in second] == [
        ("duplicate", "same order_no and warehouse_id as row 3 of tokopedia-20261201-a.csv"),
        ("cancelled", ""),
    ]
    shopee = read_results(night / "shopee-20261201.results.csv")
    assert [(row["result_order_no"], row["result_cancel_reason"]) for row in shopee] == [
        ("2412010000001", "Stok habis"),
        ("2412010000002", "Pembeli membatalkan"),
        ("0024120100077", "Salah alamat"),
        ("2412010000004", "Cancelled from marketplace"),  # the source's default
    ]
    assert {row["result_warehouse_id"] for row in shopee} == {"WH-CKR01"}
    err = capsys.readouterr().err
    assert "batch-cancel: finished; all 11 order(s) cancelled" in err
    # Two accounts: the total, then each account's files (tokoabc's three, gudangxyz's one).
    assert "  rows: 12 in " in err
    assert "  account tokoabc:\n" in err
    assert "      files: 3\n" in err
    assert "  account gudangxyz:\n" in err
    report = json.loads(summary.read_text())
    assert [(item["source"], item["rows"]) for item in report["files"]] == [
        ("tokopedia", 3),
        ("tokopedia", 2),
        ("lazada", 3),
        ("shopee", 4),
    ]
    assert report["counts"]["cancelled"] == 11
    # The next night sees the same files: nothing is sent again, and -q says nothing.
    assert run_night(night, sandbox, "-q") == ExitStatus.SUCCESS
    assert capsys.readouterr().err == ""
    assert sandbox.stats()["cancel_calls"] == stats["cancel_calls"]


@pytest.mark.integration
def test_one_source_and_one_file_with_a_sources_layout(
    night: Path, start_sandbox: Callable[..., Sandbox], capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox = start_sandbox()
    assert run_night(night, sandbox, "--source", "lazada") == ExitStatus.SUCCESS
    assert sorted(sandbox.stats()["cancel_calls"]) == [
        f"73892020000{i}|WH-SBY02" for i in (1, 2, 3)
    ]
    lone = night / "tokopedia-20261201-b.csv"
    args = ["run", str(lone), "--config", str(night / "night.toml"), "--source", "tokopedia"]
    assert cli.main([*args, "--base-url", sandbox.url]) == ExitStatus.SUCCESS
    assert [row["result_status"] for row in read_results(lone.with_suffix(".results.csv"))] == [
        "cancelled",
        "cancelled",
    ]
    capsys.readouterr()
    wrong = [*args[:2], "--source", "nope", "--config", args[3], "--account", "tokoabc"]
    assert cli.main(wrong) == ExitStatus.USAGE_OR_INPUT
    assert capsys.readouterr().err == (
        f"batch-cancel: error: --source nope: no such source in {night / 'night.toml'}; "
        "sources: tokopedia, lazada, shopee\n"
    )


@pytest.mark.integration
def test_a_night_that_needs_attention_says_why(
    night: Path, start_sandbox: Callable[..., Sandbox], capsys: pytest.CaptureFixture[str]
) -> None:
    book = night / "book.csv"
    book.write_text("order_no,warehouse_id,state\n738920200001,WH-SBY02,ALLOCATED\n")
    sandbox = start_sandbox("--orders", str(book))  # every other order is unknown: 3012
    assert run_night(night, sandbox, "-q", "--source", "lazada") == ExitStatus.ROWS_NEED_ATTENTION
    err = capsys.readouterr().err.splitlines()
    assert err[:2] == [
        "batch-cancel: finished; 3 row(s) need attention",
        "  3 rows need attention: 3 rejected (2 because Shipper does not know the order, "
        "1 because stock is allocated).",
    ]


@pytest.mark.integration
def test_a_finished_file_is_archived_with_its_results(
    night: Path, start_sandbox: Callable[..., Sandbox]
) -> None:
    config = night / "night.toml"
    config.write_text(config.read_text() + '\n[accounts.tokoabc.sources.lazada2]\n'
                      'files = "lazada-*.csv"\n'
                      'map = { order_no = "Order Number", warehouse_id = "Warehouse", '
                      'cancel_reason = "Cancel Reason" }\narchive = "done/"\n')  # fmt: skip
    sandbox = start_sandbox()
    assert run_night(night, sandbox, "--source", "lazada2") == ExitStatus.SUCCESS
    assert sorted(path.name for path in (night / "done").iterdir()) == [
        "lazada-20261201.csv",
        "lazada-20261201.results.csv",
    ]
    assert not (night / "lazada-20261201.csv").exists()


@pytest.mark.integration
def test_a_night_and_its_retry_count_each_order_once(
    night: Path, start_sandbox: Callable[..., Sandbox], capsys: pytest.CaptureFixture[str]
) -> None:
    book = night / "book.csv"
    orders = [f"73892020000{i},WH-SBY02," for i in (1, 2, 3)]
    book.write_text("order_no,warehouse_id,state\n" + "\n".join(
        line + ("FAULTY" if line.startswith("738920200001") else "CREATED") for line in orders
    ) + "\n")  # fmt: skip
    first = start_sandbox("--orders", str(book))
    fast = ["--max-attempts", "2", "--source", "lazada"]
    assert run_night(night, first, *fast) == ExitStatus.ROWS_NEED_ATTENTION
    results = night / "lazada-20261201.results.csv"
    assert [row["result_status"] for row in read_results(results)] == [
        "failed",
        "cancelled",
        "cancelled",
    ]
    # The retry reads the results file alone: the values sent are in it, no --map needed.
    book.write_text(book.read_text().replace("FAULTY", "CREATED"))
    second = start_sandbox("--orders", str(book))
    retry = night / "retry.csv"
    args = ["run", str(results), "--only", "failed", "-o", str(retry), "--base-url", second.url]
    assert cli.main(args) == ExitStatus.SUCCESS
    assert list(second.stats()["cancel_calls"]) == ["738920200001|WH-SBY02"]
    capsys.readouterr()
    assert cli.main(["summarize", str(results), str(retry)]) == ExitStatus.SUCCESS
    out = capsys.readouterr().out.splitlines()
    assert out[:3] == [
        "2 results files: 3 row(s), 0 need attention",
        "Nothing needs attention: 3 cancelled.",
        "Each order counted once, with its last outcome: 3 earlier row(s) of re-sent orders "
        "are left out of the total.",
    ]


def test_validate_reads_a_file_with_a_sources_layout(
    night: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheet = night / "shopee-20261201.xlsx"
    args = ["validate", str(sheet), "--config", str(night / "night.toml"), "--source", "shopee"]
    assert cli.main(args) == ExitStatus.SUCCESS
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"{sheet}: 4 data row(s): 4 valid, 0 invalid, 0 duplicate"
    )
