"""Every output path is checked before anything is sent, and written whole (outputs.py)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from batch_cancel import cli
from batch_cancel.models import ExitStatus

from .conftest import Sandbox
from .helpers import ROOT, cli_env, orders_csv, read_results

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
        f"batch-cancel: error: --summary-json {out} would overwrite the input {out}; "
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
