"""Every output path is checked before anything is sent, and written whole (outputs.py)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from batch_cancel import cli, job
from batch_cancel.ledger import Ledger
from batch_cancel.models import ExitStatus

from .conftest import Sandbox, mounted_tmpfs
from .helpers import API_KEY, ROOT, cli_env, key_file, orders_csv, read_results

EVERY_STATUS = ROOT / "tests" / "data" / "results-every-status.csv"


@pytest.fixture
def night(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, value in cli_env(state=tmp_path / "ledger.sqlite3").items():
        monkeypatch.setenv(name, value)
    return orders_csv(tmp_path / "night.csv", 5)


def error_line(capsys: pytest.CaptureFixture[str]) -> str:
    return capsys.readouterr().err.splitlines()[-1]


@pytest.mark.parametrize(
    ("make", "shown", "what"),
    [
        (lambda d: d.mkdir(), "{out}", "a directory"),
        (lambda d: d.symlink_to(os.devnull), "{out} (a link to /dev/null)", "a character device"),
        (lambda d: d.symlink_to(d.parent), "{out} (a link to {tmp})", "a directory"),
        (lambda d: os.mkfifo(d), "{out}", "a named pipe"),
    ],
)
@pytest.mark.integration
def test_run_refuses_an_output_that_is_not_a_file_before_sending(
    tmp_path: Path,
    night: Path,
    start_sandbox: Callable[..., Sandbox],
    capsys: pytest.CaptureFixture[str],
    make: Callable[[Path], object],
    shown: str,
    what: str,
) -> None:
    sandbox = start_sandbox()
    out = tmp_path / "out.csv"
    make(out)
    status = cli.main(["run", str(night), "-o", str(out), "--base-url", sandbox.url])
    assert status == ExitStatus.USAGE_OR_INPUT
    shown = shown.format(out=out, tmp=tmp_path)
    assert error_line(capsys) == f"batch-cancel: error: -o {shown} is {what}; name a file to write"
    assert sandbox.stats()["arrivals"] == []


@pytest.mark.integration
def test_run_refuses_the_input_under_another_name(
    tmp_path: Path,
    night: Path,
    start_sandbox: Callable[..., Sandbox],
    capsys: pytest.CaptureFixture[str],
) -> None:
    sandbox = start_sandbox()
    other_name = tmp_path / "hardlink.csv"
    os.link(night, other_name)
    before = night.read_bytes()
    for flag, value in (("-o", other_name), ("--summary-json", night)):
        status = cli.main(["run", str(night), flag, str(value), "--base-url", sandbox.url])
        assert status == ExitStatus.USAGE_OR_INPUT
        assert error_line(capsys) == (
            f"batch-cancel: error: {flag} {value} would overwrite the input {night}; "
            "name another file"
        )
    assert night.read_bytes() == before
    assert sandbox.stats()["arrivals"] == []


def test_the_summary_json_may_not_be_the_results_file(
    tmp_path: Path, night: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "night.dry-run.csv"
    out.write_text("")
    status = cli.main(["run", str(night), "--dry-run", "--summary-json", str(out)])
    assert status == ExitStatus.USAGE_OR_INPUT
    assert error_line(capsys) == (
        f"batch-cancel: error: --summary-json {out} would overwrite the results file {out}; "
        "name another file"
    )


def test_an_output_through_a_symlink_writes_its_target_and_keeps_the_link(
    tmp_path: Path, night: Path
) -> None:
    target = tmp_path / "archive" / "2026-12-02.dry-run.csv"
    target.parent.mkdir()
    target.write_text("old\n")
    link = tmp_path / "latest.dry-run.csv"
    link.symlink_to(target)
    summary_target = tmp_path / "archive" / "summary.json"
    summary_link = tmp_path / "summary.json"
    summary_link.symlink_to(summary_target)
    args = ["run", str(night), "--dry-run", "-o", str(link), "--summary-json", str(summary_link)]
    assert cli.main(args) == ExitStatus.SUCCESS
    assert link.is_symlink()
    assert summary_link.is_symlink()
    assert len(read_results(target)) == 5
    assert json.loads(summary_target.read_text())["rows"] == 5


@pytest.mark.parametrize(
    ("command", "flag"), [("report", "-o"), ("summarize", "--needs-attention")]
)
def test_review_outputs_are_checked_before_reading(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, flag: str
) -> None:
    status = cli.main([command, str(EVERY_STATUS), flag, str(tmp_path)])
    assert status == ExitStatus.USAGE_OR_INPUT
    assert error_line(capsys) == (
        f"batch-cancel: error: {flag} {tmp_path} is a directory; name a file to write"
    )
    status = cli.main([command, str(EVERY_STATUS), flag, os.devnull])
    assert status == ExitStatus.USAGE_OR_INPUT
    assert error_line(capsys) == (
        f"batch-cancel: error: {flag} {os.devnull} is a character device; name a file to write"
    )


def test_a_summary_that_cannot_be_written_leaves_the_old_one_whole(
    tmp_path: Path, night: Path, tiny_disk: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = tiny_disk / "summary.json"
    summary.write_text('{"rows": 1}\n')
    (tiny_disk / "filler").write_bytes(b"x" * (60 * 1024))  # the rest of the 64 KiB
    status = cli.main(["run", str(night), "--dry-run", "--summary-json", str(summary)])
    assert status == ExitStatus.RECORDING_FAILED
    assert error_line(capsys) == (
        f"batch-cancel: error: cannot write {summary}: No space left on device"
    )
    assert summary.read_text() == '{"rows": 1}\n'
    assert sorted(p.name for p in tiny_disk.iterdir()) == ["filler", "summary.json"]


# --- nothing the run reads or keeps is ever an output (outputs.Role) ---------------------

KEPT = "{tmp}/state/night.db"  # the ledger, written by a real run before each case


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ("run {night} -o {db}", "-o {db} would overwrite the ledger {db} (--state)"),
        (
            "run {night} --summary-json {db}",
            "--summary-json {db} would overwrite the ledger {db} (--state)",
        ),
        (
            "run {night} --dry-run --summary-json {db}",
            "--summary-json {db} would overwrite the ledger {db} (--state)",
        ),
        (
            "run {night} --summary-json {db}-wal",
            "--summary-json {db}-wal would overwrite the ledger's write-ahead log {db}-wal "
            "(--state)",
        ),
        (
            "run {night} --summary-json {db}-journal",
            "--summary-json {db}-journal would overwrite the ledger's rollback journal "
            "{db}-journal (--state)",
        ),
        (
            "run {night} --summary-json {tmp}/hard-link.db",
            "--summary-json {tmp}/hard-link.db would overwrite the ledger {db} (--state)",
        ),
        (
            "run {night} -o {tmp}/link-to-lock",
            "-o {tmp}/link-to-lock would overwrite the ledger's lock {db}.lock (--state)",
        ),
        (
            "run {night} -o {tmp}/same.csv --summary-json {tmp}/same.csv",
            "--summary-json {tmp}/same.csv would overwrite the results file {tmp}/same.csv",
        ),
        (
            "run {night} --summary-json {tmp}/.night.results.csv.lock",
            "--summary-json {tmp}/.night.results.csv.lock would overwrite the results file's "
            "lock {tmp}/.night.results.csv.lock",
        ),
        (
            "run {night} --summary-json {tmp}/night.results.incomplete.csv",
            "--summary-json {tmp}/night.results.incomplete.csv would overwrite the results "
            "file's incomplete copy {tmp}/night.results.incomplete.csv",
        ),
        (
            "run {night} --config {tmp}/night.toml --summary-json {tmp}/night.toml",
            "--summary-json {tmp}/night.toml would overwrite the config file {tmp}/night.toml "
            "(--config)",
        ),
        (
            "run {night} --api-key-file {tmp}/key/shipper.key -o {tmp}/key/shipper.key",
            "-o {tmp}/key/shipper.key would overwrite the key file (--api-key-file)",
        ),
        (
            "run {tmp}/night.db.csv",
            "the results file {tmp}/night.db.results.csv would overwrite the ledger "
            "{tmp}/night.db.results.csv (--state)",
        ),
        ("validate {night} -o {db}", "-o {db} would overwrite the ledger {db} (--state)"),
        (
            "summarize {results} --needs-attention {db}",
            "--needs-attention {db} would overwrite the ledger {db} (--state)",
        ),
        ("report {results} -o {db}-shm",
         "-o {db}-shm would overwrite the ledger's shared-memory index {db}-shm (--state)"),
    ],
)  # fmt: skip
def test_no_output_lands_on_what_the_run_reads_or_keeps(
    tmp_path: Path,
    night: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: str,
    message: str,
) -> None:
    db = tmp_path / "state" / "night.db"
    db.parent.mkdir()
    Ledger(db).close()
    monkeypatch.setenv("BATCH_CANCEL_STATE", str(db))
    if "night.db.csv" in argv:  # an input whose results would be the ledger itself
        monkeypatch.setenv("BATCH_CANCEL_STATE", str(tmp_path / "night.db.results.csv"))
        orders_csv(tmp_path / "night.db.csv", 2)
    os.link(db, tmp_path / "hard-link.db")
    (tmp_path / "link-to-lock").symlink_to(f"{db}.lock")  # a lock the run has not made yet
    (tmp_path / "night.toml").write_text("[api]\nrate = 5\n")
    key_file(tmp_path / "key", API_KEY)
    results = tmp_path / "results.csv"
    results.write_bytes(EVERY_STATUS.read_bytes())
    monkeypatch.setenv("SHIPPER_BASE_URL", "http://127.0.0.1:9")

    def no_sending(*args: object, **kwargs: object) -> object:
        pytest.fail("an output that is refused must be refused before anything is sent")

    monkeypatch.setattr(job, "_send_all", no_sending)
    before = {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()}
    values = {"tmp": tmp_path, "night": night, "db": db, "results": results}
    capsys.readouterr()
    status = cli.main([word.format(**values) for word in argv.split()])
    assert (status, error_line(capsys)) == (
        ExitStatus.USAGE_OR_INPUT,
        f"batch-cancel: error: {message.format(**values)}; name another file",
    )
    assert {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()} == before


@pytest.mark.integration
def test_results_aimed_at_the_ledger_leave_it_whole(
    tmp_path: Path,
    night: Path,
    start_sandbox: Callable[..., Sandbox],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The issue's night: `-o night.db --state night.db` exited 0 with the ledger destroyed."""
    sandbox = start_sandbox()
    db = tmp_path / "night.db"
    base = ["--state", str(db), "--base-url", sandbox.url]
    assert cli.main(["run", str(night), *base]) == ExitStatus.SUCCESS
    assert cli.main(["run", str(night), "-o", str(db), *base]) == ExitStatus.USAGE_OR_INPUT
    assert error_line(capsys) == (
        f"batch-cancel: error: -o {db} would overwrite the ledger {db} (--state); name another file"
    )
    assert len(sandbox.stats()["arrivals"]) == 5
    assert cli.main(["run", str(night), *base]) == ExitStatus.SUCCESS  # the ledger still works
    assert {row["result_status"] for row in read_results(night.with_suffix(".results.csv"))} == {
        "skipped"
    }


# --- every run's record survives later runs ----------------------------------------------


def kept_results(folder: Path, stem: str) -> list[Path]:
    """An input's earlier results kept beside it: <stem>.<UTC stamp>.results.csv, oldest first."""
    return sorted(
        path for path in folder.glob(f"{stem}.*.results.csv") if path.name != f"{stem}.results.csv"
    )


@pytest.mark.integration
def test_a_rerun_keeps_the_first_runs_answers(
    tmp_path: Path,
    night: Path,
    start_sandbox: Callable[..., Sandbox],
    capsys: pytest.CaptureFixture[str],
) -> None:
    book = tmp_path / "book.csv"
    orders = [row.split(",")[0] for row in night.read_text().splitlines()[1:]]
    book.write_text("order_no,warehouse_id,state\n" + "".join(
        f"{order},WH-1,{'FAULTY' if order.endswith('4') else 'CREATED'}\n" for order in orders
    ))  # fmt: skip
    sandbox = start_sandbox("--orders", str(book))
    args = ["run", str(night), "--base-url", sandbox.url, "--max-attempts", "1"]
    summary = tmp_path / "summary.json"
    assert cli.main(args) == ExitStatus.ROWS_NEED_ATTENTION
    results = night.with_suffix(".results.csv")
    first = read_results(results)
    assert [row["result_status"] for row in first] == ["cancelled"] * 4 + ["failed"]
    assert all(row["result_request_id"] for row in first[:4])
    capsys.readouterr()
    # The re-run of a file that still needs work: the first run's answers stay on file.
    assert cli.main([*args, "--summary-json", str(summary)]) == ExitStatus.ROWS_NEED_ATTENTION
    [kept] = kept_results(tmp_path, "night")
    assert read_results(kept) == first
    assert [row["result_status"] for row in read_results(results)] == ["skipped"] * 4 + ["failed"]
    assert f"  earlier results kept as {kept}" in capsys.readouterr().err.splitlines()
    assert json.loads(summary.read_text())["files"][0]["previous_results"] == str(kept)


def night_config(folder: Path, archive: Path) -> Path:
    config = folder / "night.toml"
    config.write_text(f'[sources.shop]\nfiles = "inbox/*.csv"\narchive = "{archive}"\n')
    (folder / "inbox").mkdir()
    return config


def three_nights(
    config: Path, sandbox: Sandbox, capsys: pytest.CaptureFixture[str]
) -> set[frozenset[str]]:
    """export.csv, under the same name every night, with each night's own orders."""
    nights = []
    for night in (1, 2, 3):
        export = orders_csv(config.parent / "inbox" / "export.csv", 2, prefix=f"NIGHT{night}")
        nights.append(frozenset(row["order_no"] for row in read_results(export)))
        argv = ["run", "--config", str(config), "--base-url", sandbox.url]
        assert cli.main(argv) == ExitStatus.SUCCESS, capsys.readouterr().err
        assert not export.exists()  # archived, with its results
    return set(nights)


def archived_answers(archive: Path) -> list[frozenset[str]]:
    """The orders each archived results file has cancelled, a set per file."""
    return [
        frozenset(
            row["order_no"] for row in read_results(path) if row["result_status"] == "cancelled"
        )
        for path in archive.glob("export*.results.csv")
    ]


@pytest.mark.integration
def test_the_same_export_name_every_night_keeps_every_nights_results(
    tmp_path: Path,
    night: Path,
    start_sandbox: Callable[..., Sandbox],
    capsys: pytest.CaptureFixture[str],
) -> None:
    archive = tmp_path / "done"
    nights = three_nights(night_config(tmp_path, archive), start_sandbox(), capsys)
    answers = archived_answers(archive)
    assert (len(answers), set(answers)) == (3, nights)
    names = {path.name for path in archive.iterdir()}
    stamped = names - {"export.csv", "export.results.csv"}  # the first night's, as named
    # The later nights': a stamp of their own, the input and its results alike.
    assert len(stamped) == 4
    assert {name.split(".")[1] for name in stamped} == {
        name.split(".")[1] for name in stamped if name.endswith(".results.csv")
    }


@pytest.fixture
def other_disk(tmp_path: Path) -> Iterator[Path]:
    """A small tmpfs: a folder on another filesystem than tmp_path (root only)."""
    yield from mounted_tmpfs(tmp_path / "other-disk", "1m")


@pytest.mark.integration
def test_the_archive_on_another_filesystem(
    tmp_path: Path,
    night: Path,
    other_disk: Path,
    start_sandbox: Callable[..., Sandbox],
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert os.stat(other_disk).st_dev != os.stat(tmp_path).st_dev
    archive = other_disk / "done"
    nights = three_nights(night_config(tmp_path, archive), start_sandbox(), capsys)
    answers = archived_answers(archive)
    assert (len(answers), set(answers)) == (3, nights)
    assert [path.name for path in (tmp_path / "inbox").iterdir()] == [".export.results.csv.lock"]
