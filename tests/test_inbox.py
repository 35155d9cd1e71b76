"""A real inbox: what a source's glob finds besides tonight's exports, against the sandbox.

One bad file is one bad file (reported by name, the others sent), Excel's owner files
and empty files are skipped with a note, batch-cancel's own outputs are never read as
input, two inputs never share a results file, and a night of many files stays within
a small limit of open files.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from batch_cancel.configfile import Source
from batch_cancel.models import ExitStatus

from .conftest import Sandbox
from .helpers import (
    ORDERS_HEADER,
    SAMPLES,
    CliRun,
    cli_env,
    main_in_process,
    orders_csv,
    read_results,
    run_cli,
    use_cli_env,
    write_csv,
)

ZIP_AS_CSV = (
    "this is an Excel workbook or another zip file, not CSV text; "
    "save it from the spreadsheet as 'CSV UTF-8'"
)
CONFIG = """\
[sources.shop]
files = "inbox/*.csv"
"""


@pytest.fixture
def inbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path/inbox, with night.toml beside it reading inbox/*.csv; a ledger of its own."""
    use_cli_env(monkeypatch, state=tmp_path / "ledger.sqlite3")
    (tmp_path / "night.toml").write_text(CONFIG)
    folder = tmp_path / "inbox"
    folder.mkdir()
    return folder


def run_night(
    inbox: Path, sandbox: Sandbox, capsys: pytest.CaptureFixture[str], *extra: str
) -> CliRun:
    config = inbox.parent / "night.toml"
    return main_in_process(
        capsys, "run", "--config", config, "--base-url", sandbox.url, "--rate", "0", *extra
    )


@pytest.mark.integration
def test_one_bad_file_is_one_bad_file(
    inbox: Path,
    start_sandbox: Callable[..., Sandbox],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    orders_csv(inbox / "a.csv", 2, prefix="A")
    (inbox / "b.csv").write_bytes(b"PK\x03\x04 a workbook renamed .csv")
    write_csv(inbox / "c.csv", ["Nomor", "Gudang"], [["C-1", "WH-1"]])
    orders_csv(inbox / "d.csv", 1, prefix="D")  # vanishes between the glob and the read
    orders_csv(inbox / "e.csv", 1, prefix="E")
    globbed = Source.paths

    def then_d_vanishes(source: Source) -> list[Path]:
        found = globbed(source)
        (inbox / "d.csv").unlink()
        return found

    monkeypatch.setattr(Source, "paths", then_d_vanishes)
    sandbox = start_sandbox()
    summary = inbox.parent / "summary.json"
    done = run_night(inbox, sandbox, capsys, "-q", "--summary-json", str(summary))
    assert done.returncode == ExitStatus.USAGE_OR_INPUT
    assert sorted(sandbox.stats()["cancel_calls"]) == [
        "A-00000|WH-1",
        "A-00001|WH-1",
        "E-00000|WH-1",
    ]
    assert [row["result_status"] for row in read_results(inbox / "a.results.csv")] == [
        "cancelled",
        "cancelled",
    ]
    assert [row["result_status"] for row in read_results(inbox / "e.results.csv")] == ["cancelled"]
    # An unreadable file has no rows to name: no results file, only the summary's line.
    assert sorted(path.name for path in inbox.glob("*.results.csv")) == [
        "a.results.csv",
        "e.results.csv",
    ]
    missing_c = (
        f"{inbox / 'c.csv'}: missing required column(s): order_no, warehouse_id, cancel_reason; "
        "columns found: 'Nomor', 'Gudang'. Use --map FIELD=HEADER to map a column, or "
        "--warehouse-id / --cancel-reason to give a value for every row."
    )
    err = done.stderr.splitlines()
    logged = [line.split(" ERROR ", 1)[1] for line in err if " ERROR " in line]
    assert logged == [
        f"{inbox / 'b.csv'}: {ZIP_AS_CSV}",
        missing_c,
        f"{inbox / 'd.csv'}: no such file",
    ]
    assert err[len(logged)] == (
        "batch-cancel: finished; 3 file(s) could not be read, "
        "the others were read and their results written"
    )
    assert err[-4:] == [
        "  could not be read: 3 file(s)",
        f"    [shop] {inbox / 'b.csv'}: {ZIP_AS_CSV}",
        f"    [shop] {missing_c}",
        f"    [shop] {inbox / 'd.csv'}: no such file",
    ]
    report = json.loads(summary.read_text())
    assert report["exit_status"] == 2
    assert [item["input"] for item in report["files"]] == [
        str(inbox / "a.csv"),
        str(inbox / "e.csv"),
    ]
    assert report["unread_files"] == [
        {"input": str(inbox / name), "source": "shop", "reason": reason}
        for name, reason in (
            ("b.csv", f"{inbox / 'b.csv'}: {ZIP_AS_CSV}"),
            ("c.csv", missing_c),
            ("d.csv", f"{inbox / 'd.csv'}: no such file"),
        )
    ]


@pytest.mark.integration
def test_owner_files_and_empty_files_are_skipped_with_a_note(
    inbox: Path, start_sandbox: Callable[..., Sandbox], capsys: pytest.CaptureFixture[str]
) -> None:
    orders_csv(inbox / "orders.csv", 1)
    (inbox / "~$orders.csv").write_bytes(b"\x06Sam    ")  # what Excel leaves while it is open
    (inbox / "late.csv").write_bytes(b"")  # the export job has only created it so far
    sandbox = start_sandbox()
    done = run_night(inbox, sandbox, capsys, "-q")
    assert done.returncode == ExitStatus.SUCCESS
    assert list(sandbox.stats()["cancel_calls"]) == ["ORD-00000|WH-1"]
    owner = (
        f"{inbox / '~$orders.csv'}: skipped: an Excel owner file (Excel keeps it while the "
        "workbook is open), not an export"
    )
    empty = f"{inbox / 'late.csv'}: skipped: the file is empty (0 bytes)"
    err = done.stderr.splitlines()
    assert err[2] == "batch-cancel: finished; all 1 order(s) cancelled"
    assert err[-2:] == [f"  note: {empty}", f"  note: {owner}"]
    assert sum(empty in line for line in err) == 2  # a log line and the summary's note
    assert sorted(path.name for path in inbox.glob("*.results.csv")) == ["orders.results.csv"]


@pytest.mark.integration
def test_a_source_whose_every_file_was_skipped_is_an_empty_source(
    inbox: Path, start_sandbox: Callable[..., Sandbox], capsys: pytest.CaptureFixture[str]
) -> None:
    """Only an owner file and a file still being written: tonight's export did not arrive."""
    (inbox / "~$orders.csv").write_bytes(b"\x06Sam    ")
    (inbox / "late.csv").write_bytes(b"")
    sandbox = start_sandbox()
    summary = inbox.parent / "summary.json"
    done = run_night(inbox, sandbox, capsys, "-q", "--summary-json", str(summary))
    assert done.returncode == ExitStatus.ROWS_NEED_ATTENTION
    assert sandbox.stats()["arrivals"] == []
    err = [line for line in done.stderr.splitlines() if " WARNING " not in line]
    assert err == [
        f"batch-cancel: source shop: no export among the files matched ({inbox / '*.csv'}): "
        "each was skipped",
        f"  note: {inbox / 'late.csv'}: skipped: the file is empty (0 bytes)",
        f"  note: {inbox / '~$orders.csv'}: skipped: an Excel owner file (Excel keeps it "
        "while the workbook is open), not an export",
        "batch-cancel: no file to read: no file from source(s) shop; nothing sent",
    ]
    written = json.loads(summary.read_text())
    assert (written["exit_status"], written["empty_sources"][0]["source"]) == (1, "shop")
    assert [note.split(": skipped: ")[1][:20] for note in written["notes"]] == [
        "the file is empty (0",
        "an Excel owner file ",
    ]


WRITTEN_BY_US = (
    "written by batch-cancel (its header has the results columns: a results, dry-run or "
    "needs-attention CSV), never read as an export"
)


@pytest.mark.integration
def test_files_batch_cancel_wrote_are_never_read_as_input(
    inbox: Path, start_sandbox: Callable[..., Sandbox], capsys: pytest.CaptureFixture[str]
) -> None:
    orders_csv(inbox / "orders.csv", 2)
    sandbox = start_sandbox()
    assert run_night(inbox, sandbox, capsys, "-q").returncode == ExitStatus.SUCCESS
    results = inbox / "orders.results.csv"
    # Tonight's outputs under names the user chose, in the glob's way: a needs-attention
    # CSV, an -o copy, a dry run's results.
    assert (
        main_in_process(
            capsys, "summarize", results, "--needs-attention", inbox / "to-check.csv"
        ).returncode
        == ExitStatus.SUCCESS
    )
    shutil.copy(results, inbox / "retry.csv")
    assert (
        main_in_process(
            capsys, "validate", inbox / "orders.csv", "-o", inbox / "check.csv"
        ).returncode
        == ExitStatus.SUCCESS
    )
    (inbox / "orders.csv").unlink()
    orders_csv(inbox / "tomorrow.csv", 1, prefix="NEW")
    done = run_night(inbox, sandbox, capsys, "-q", "--force-resend")
    assert done.returncode == ExitStatus.SUCCESS
    assert sorted(sandbox.stats()["cancel_calls"].items()) == [
        ("NEW-00000|WH-1", 1),
        ("ORD-00000|WH-1", 1),
        ("ORD-00001|WH-1", 1),
    ]
    # In the order the files were written (oldest first), which is not the point here.
    assert sorted(done.stderr.splitlines()[-3:]) == [
        f"  note: {inbox / name}: skipped: {WRITTEN_BY_US}"
        for name in ("check.csv", "retry.csv", "to-check.csv")
    ]
    # Named on the command line, it is refused; run --only still takes it.
    refused = main_in_process(capsys, "run", inbox / "retry.csv", "--base-url", sandbox.url)
    assert (refused.returncode, refused.stderr) == (
        ExitStatus.USAGE_OR_INPUT,
        f"batch-cancel: input error: {inbox / 'retry.csv'}: {WRITTEN_BY_US}; to send some of "
        "its rows again, add --only STATUS (e.g. --only failed,not_sent)\n",
    )
    checked = main_in_process(capsys, "validate", inbox / "to-check.csv")
    assert checked.returncode == ExitStatus.USAGE_OR_INPUT
    assert checked.stderr.endswith(f"{inbox / 'to-check.csv'}: {WRITTEN_BY_US}; to send some "
                                   "of its rows again, add --only STATUS (e.g. --only failed,"
                                   "not_sent)\n")  # fmt: skip
    again = main_in_process(
        capsys, "run", inbox / "retry.csv", "--only", "cancelled", "--dry-run",
        "-o", inbox.parent / "retry.dry-run.csv",
    )  # fmt: skip
    assert again.returncode == ExitStatus.SUCCESS
    retried = read_results(inbox.parent / "retry.dry-run.csv")
    assert [row["result_error_code"] for row in retried] == ["dry_run", "dry_run"]


@pytest.mark.integration
def test_two_inputs_never_share_a_results_file(
    inbox: Path, start_sandbox: Callable[..., Sandbox], capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(SAMPLES / "night" / "shopee-20261201.xlsx", inbox / "orders.xlsx")
    orders_csv(inbox / "orders.csv", 1)
    (inbox.parent / "night.toml").write_text(
        '[sources.plain]\nfiles = "inbox/orders.csv"\n'
        '[sources.shop]\nfiles = "inbox/orders.xlsx"\nwarehouse_id = "WH-CKR01"\n'
        'cancel_reason = "Cancelled from marketplace"\n'
        'map = { order_no = "No. Pesanan", cancel_reason = "Alasan Pembatalan" }\n'
    )
    sandbox = start_sandbox()
    done = run_night(inbox, sandbox, capsys)
    assert done.returncode == ExitStatus.SUCCESS
    assert len(sandbox.stats()["cancel_calls"]) == 5
    assert [row["result_order_no"] for row in read_results(inbox / "orders.results.csv")] == [
        "ORD-00000"
    ]
    sheet = read_results(inbox / "orders.xlsx.results.csv")
    assert [row["result_status"] for row in sheet] == ["cancelled"] * 4
    err = done.stderr.splitlines()
    assert f"      results: {inbox / 'orders.xlsx.results.csv'}" in err
    assert err[-1] == (
        f"  note: {inbox / 'orders.xlsx'}: results in orders.xlsx.results.csv, as another "
        "input of the night writes orders.results.csv"
    )


NIGHT_FILES = 1500  # six times the limit (10,000 takes longer: run by hand)
OPEN_FILES_LIMIT = 256


def _small_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (OPEN_FILES_LIMIT, OPEN_FILES_LIMIT))


@pytest.mark.integration
def test_a_night_of_many_small_files_under_a_small_open_files_limit(
    tmp_path: Path, start_sandbox: Callable[..., Sandbox]
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for number in range(NIGHT_FILES):
        path = inbox / f"export-{number:05d}.csv"
        path.write_text(f"{','.join(ORDERS_HEADER)}\nORD-{number:05d},WH-1,r\n")
    (tmp_path / "night.toml").write_text(CONFIG)
    sandbox = start_sandbox()
    config = tmp_path / "night.toml"
    done = run_cli(
        "run", "--config", config, "--base-url", sandbox.url, "--rate", "0", "--concurrency", "16",
        "-q", env=cli_env(state=tmp_path / "ledger.sqlite3"), timeout=600, preexec_fn=_small_limit,
    )  # fmt: skip
    assert (done.returncode, done.stderr) == (0, "")
    assert len(sandbox.stats()["cancel_calls"]) == NIGHT_FILES
    results = sorted(inbox.glob("*.results.csv"))
    assert len(results) == NIGHT_FILES
    assert read_results(results[-1])[0]["result_status"] == "cancelled"
    assert not [name for name in os.listdir(inbox) if name.endswith((".partial", "incomplete.csv"))]
