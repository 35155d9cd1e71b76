"""Issue 21: the exit status never lies, an empty source is news, and `--summary-json`
always holds this run's summary, whatever the exit status.

In-process (`cli.main`), each case injecting its failure with monkeypatch; sending goes
to aioresponses on a loopback URL (nothing leaves the machine).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aioresponses import aioresponses

from batch_cancel import inputfile, spreadsheet
from batch_cancel.client import CANCEL_PATH
from batch_cancel.formats.summary_json import summary_json, unfinished_json
from batch_cancel.ledger import Ledger
from batch_cancel.models import ExitStatus

from .helpers import (
    API_KEY,
    DATA,
    SAMPLES,
    CliRun,
    main_in_process,
    orders_csv,
    read_results,
    use_cli_env,
)

BASE_URL = "http://127.0.0.1:9"
CANCEL_URL = BASE_URL + CANCEL_PATH
ANSWERED = {"metadata": {"path": CANCEL_PATH, "http_status_code": 200, "timestamp": 1}}
NOT_FINISHED = "batch-cancel: the night did not finish"
INTERNAL = ExitStatus.INTERNAL_ERROR


@pytest.fixture
def tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A tmp_path with orders.csv (3 orders), the test key, a loopback base URL, a ledger."""
    use_cli_env(monkeypatch, state=tmp_path / "ledger.sqlite3", SHIPPER_BASE_URL=BASE_URL)
    orders_csv(tmp_path / "orders.csv", 3)
    return tmp_path


def cli(capsys: pytest.CaptureFixture[str], *args: str | Path) -> CliRun:
    return main_in_process(capsys, *args)


def raises(exc: BaseException) -> Callable[..., Any]:
    def fail(*args: object, **kwargs: object) -> Any:
        raise exc

    return fail


# --- an error nobody foresaw, one per command -----------------------------------------------

# (the command line, what it calls that is made to fail)
COMMANDS = {
    "validate": (["validate", "{tmp}/orders.csv"], "batch_cancel.loader.OrdersFile.rows"),
    "run": (["run", "{tmp}/orders.csv"], "batch_cancel.job.run_night"),
    "run-dry": (["run", "{tmp}/orders.csv", "--dry-run"], "batch_cancel.job.run_night"),
    "config": (["config"], "batch_cancel.cli.show_config.api_settings"),
    "history": (["history", "ORD-00001"], "batch_cancel.ledger.Ledger.history"),
    "summarize": (
        ["summarize", str(DATA / "results-every-status.csv")],
        "batch_cancel.review.review_files",
    ),
    "report": (
        ["report", str(DATA / "results-every-status.csv"), "-o", "{tmp}/report.html"],
        "batch_cancel.formats.html_report.render_report",
    ),
    "sandbox": (["sandbox", "--port", "0"], "batch_cancel.sandbox.serve"),
    "demo": (["demo"], "batch_cancel.demo.SandboxProcess"),
}


@pytest.mark.parametrize(
    ("exc", "named"),
    [
        pytest.param(
            RuntimeError("boom: the disk said no"), "RuntimeError: boom: the disk said no"
        ),
        pytest.param(MemoryError(), "MemoryError", id="MemoryError"),
    ],
)
@pytest.mark.parametrize("command", list(COMMANDS))
def test_an_unforeseen_error_is_exit_70_and_one_line(
    command: str,
    exc: BaseException,
    named: str,
    tmp: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv, target = COMMANDS[command]
    monkeypatch.setattr(target, raises(exc))
    monkeypatch.setattr("batch_cancel.demo.OUT", tmp / "demo-out")
    Ledger(tmp / "ledger.sqlite3").close()
    done = cli(capsys, *(word.replace("{tmp}", str(tmp)) for word in argv))
    expected = [f"batch-cancel: internal error: {named}"]
    if command.startswith("run"):
        expected.append(NOT_FINISHED)
    assert (done.returncode, done.stderr.splitlines()) == (INTERNAL, expected)
    assert type(done.returncode) is ExitStatus


def test_the_message_is_redacted_and_the_traceback_shown_only_when_asked(
    tmp: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("batch_cancel.job.run_night", raises(RuntimeError(f"x-api-key: {API_KEY}")))
    done = cli(capsys, "run", tmp / "orders.csv")
    assert done.stderr.splitlines() == [
        "batch-cancel: internal error: RuntimeError: x-api-key: [REDACTED]",
        NOT_FINISHED,
    ]
    for asked in (["-v"], []):
        if not asked:
            monkeypatch.setenv("BATCH_CANCEL_TRACEBACK", "1")
        done = cli(capsys, "run", tmp / "orders.csv", *asked)
        assert done.returncode == INTERNAL
        assert "Traceback (most recent call last):" in done.stderr
        assert API_KEY not in done.stderr
        assert done.stderr.splitlines()[-2:] == [
            "batch-cancel: internal error: RuntimeError: x-api-key: [REDACTED]",
            NOT_FINISHED,
        ]


def test_a_reader_that_runs_out_of_memory_mid_file_is_not_a_success(
    tmp: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    mock_api: aioresponses,
) -> None:
    """Today: a traceback, then "finished; all 1 order(s) cancelled" and exit 0."""
    sheet = tmp / "shopee.xlsx"
    shutil.copy(SAMPLES / "night" / "shopee-20261201.xlsx", sheet)
    lines = spreadsheet.SheetSource.lines

    def out_of_memory_after_one_row(self: spreadsheet.SheetSource) -> Any:
        for number, line in enumerate(lines(self)):
            if number == 2:  # the header and one row given, then the reader fails
                raise MemoryError
            yield line

    monkeypatch.setattr(spreadsheet.SheetSource, "lines", out_of_memory_after_one_row)
    mock_api.patch(CANCEL_URL, status=200, payload=ANSWERED, repeat=True)
    summary = tmp / "summary.json"
    done = cli(
        capsys,
        *("run", sheet, "-q", "--warehouse-id", "WH-CKR01", "--summary-json", summary),
        *("--map", "order_no=No. Pesanan", "--map", "cancel_reason=Alasan Pembatalan"),
    )
    headline = (
        "batch-cancel: internal error: MemoryError; the night did not finish: "
        "rows after it were not read"
    )
    assert done.returncode == INTERNAL
    err = done.stderr.splitlines()
    assert headline in err
    assert err[0].endswith(" ERROR reading the input failed: MemoryError")
    assert "Traceback" not in done.stderr
    assert [row["result_status"] for row in read_results(tmp / "shopee.results.csv")] == [
        "cancelled"
    ]
    report = json.loads(summary.read_text())
    assert (report["exit_status"], report["finished"], report["headline"]) == (
        70,
        False,
        headline,
    )


# --- --summary-json: always this run's ------------------------------------------------------

OLD_SUMMARY = {"run_id": 7, "exit_status": 0, "headline": "last night"}


def config_file(tmp: Path, text: str) -> Path:
    path = tmp / "night.toml"
    path.write_text(text)
    return path


Setup = Callable[[Path, pytest.MonkeyPatch, list[int]], object]


def hold_the_ledger_lock(tmp: Path, monkeypatch: pytest.MonkeyPatch, fds: list[int]) -> None:
    fd = os.open(tmp / "ledger.sqlite3.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    fds.append(fd)


def bad_config(tmp: Path, monkeypatch: pytest.MonkeyPatch, fds: list[int]) -> None:
    config_file(tmp, "[api]\nratee = 5\n")


def empty_export(tmp: Path, monkeypatch: pytest.MonkeyPatch, fds: list[int]) -> None:
    (tmp / "empty.csv").write_bytes(b"")


def out_of_memory(tmp: Path, monkeypatch: pytest.MonkeyPatch, fds: list[int]) -> None:
    monkeypatch.setattr("batch_cancel.job.run_night", raises(MemoryError()))


def nothing(tmp: Path, monkeypatch: pytest.MonkeyPatch, fds: list[int]) -> None:
    pass


REFUSED_STARTS: dict[str, tuple[ExitStatus, list[str], Setup]] = {
    "lock-held": (ExitStatus.LOCKED, ["run", "{tmp}/orders.csv"], hold_the_ledger_lock),
    "bad-config": (ExitStatus.USAGE_OR_INPUT, ["run", "--config", "{tmp}/night.toml"], bad_config),
    "missing-input": (ExitStatus.USAGE_OR_INPUT, ["run", "{tmp}/gone.csv"], nothing),
    "unreadable-input": (ExitStatus.USAGE_OR_INPUT, ["run", "{tmp}/empty.csv"], empty_export),
    "internal-error": (INTERNAL, ["run", "{tmp}/orders.csv"], out_of_memory),
}


@pytest.mark.parametrize("name", list(REFUSED_STARTS))
def test_a_run_that_did_not_finish_replaces_the_summary_json(
    name: str,
    tmp: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    held_fds: list[int],
) -> None:
    status, argv, setup = REFUSED_STARTS[name]
    setup(tmp, monkeypatch, held_fds)
    summary = tmp / "last-night.json"
    summary.write_text(json.dumps(OLD_SUMMARY))
    argv = [word.replace("{tmp}", str(tmp)) for word in argv]
    done = cli(capsys, *argv, "--summary-json", summary)
    assert done.returncode == status
    report = json.loads(summary.read_text())
    error = done.stderr.splitlines()[0]
    assert error.startswith("batch-cancel: ")
    assert (report["exit_status"], report["finished"], report["error"]) == (status, False, error)
    assert (report["run_id"], report["rows"], report["counts"]) == (None, None, None)


def test_an_interrupted_start_replaces_the_summary_json(
    tmp: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("batch_cancel.job.run_night", raises(KeyboardInterrupt()))
    summary = tmp / "last-night.json"
    summary.write_text(json.dumps(OLD_SUMMARY))
    done = cli(capsys, "run", tmp / "orders.csv", "--summary-json", summary)
    assert (done.returncode, done.stderr) == (ExitStatus.INTERRUPTED, "batch-cancel: interrupted\n")
    report = json.loads(summary.read_text())
    assert (report["exit_status"], report["finished"]) == (130, False)


def test_a_run_refused_for_its_flags_replaces_the_summary_json(
    tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A cron line with a mistyped flag value: exit 2, and tonight's summary says so."""
    summary = tmp / "last-night.json"
    summary.write_text(json.dumps(OLD_SUMMARY))
    done = cli(capsys, "run", tmp / "orders.csv", "--rate", "fast", "--summary-json", summary)
    assert done.returncode == ExitStatus.USAGE_OR_INPUT
    assert done.stderr.splitlines()[-1].startswith("batch-cancel run: error: argument --rate")
    report = json.loads(summary.read_text())
    assert (report["exit_status"], report["finished"], report["error"]) == (
        ExitStatus.USAGE_OR_INPUT,
        False,
        "batch-cancel: run: usage error: its flags were refused (see the lines above)",
    )


def test_the_summary_of_a_failed_start_never_replaces_a_file_that_is_not_one(
    tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before the night's inputs are known, only a new file or an old summary is replaced."""
    config_file(tmp, "[api]\nratee = 5\n")
    export = tmp / "orders.csv"
    before = export.read_bytes()
    done = cli(capsys, "run", "--config", tmp / "night.toml", "--summary-json", export)
    assert done.returncode == ExitStatus.USAGE_OR_INPUT
    assert export.read_bytes() == before
    assert done.stderr.splitlines()[1:] == [
        f"batch-cancel: --summary-json {export} not written: it holds no summary JSON"
    ]


def test_an_api_stop_says_the_night_did_not_finish(
    tmp: Path, capsys: pytest.CaptureFixture[str], mock_api: aioresponses
) -> None:
    mock_api.patch(CANCEL_URL, status=401, repeat=True)
    summary = tmp / "last-night.json"
    done = cli(capsys, "run", tmp / "orders.csv", "-q", "--summary-json", summary)
    assert done.returncode == ExitStatus.API_REFUSED_OR_DOWN
    report = json.loads(summary.read_text())
    assert (report["exit_status"], report["finished"], report["stop_reason"]) == (
        3,
        False,
        "auth_refused",
    )


def test_a_finished_night_says_so(
    tmp: Path, capsys: pytest.CaptureFixture[str], mock_api: aioresponses
) -> None:
    mock_api.patch(CANCEL_URL, status=200, payload=ANSWERED, repeat=True)
    summary = tmp / "last-night.json"
    assert cli(capsys, "run", tmp / "orders.csv", "--summary-json", summary).returncode == 0
    report = json.loads(summary.read_text())
    assert (report["exit_status"], report["finished"], report["empty_sources"]) == (0, True, [])


def test_both_summaries_have_the_same_keys() -> None:
    from batch_cancel import job

    empty = job.empty_night(())
    assert set(unfinished_json(INTERNAL, "x")) == set(summary_json(empty))


# --- an empty source is news ----------------------------------------------------------------

TWO_SOURCES = """\
[sources.tokopedia]
files = "inbox/tokopedia-*.csv"
[sources.shopee]
files = ["inbox/shopee-*.xlsx", "inbox/shopee-*.csv"]
"""


def night(tmp: Path, extra: str = "") -> Path:
    (tmp / "inbox").mkdir()
    return config_file(tmp, TWO_SOURCES + extra)


def test_a_source_that_matched_nothing_needs_attention(
    tmp: Path, capsys: pytest.CaptureFixture[str], mock_api: aioresponses
) -> None:
    config = night(tmp)
    orders_csv(tmp / "inbox" / "tokopedia-1.csv", 2)
    mock_api.patch(CANCEL_URL, status=200, payload=ANSWERED, repeat=True)
    summary = tmp / "last-night.json"
    done = cli(capsys, "run", "--config", config, "-q", "--summary-json", summary)
    assert done.returncode == ExitStatus.ROWS_NEED_ATTENTION
    err = done.stderr.splitlines()
    assert err[:2] == [
        f"batch-cancel: source shopee: no file matched {tmp}/inbox/shopee-*.xlsx, "
        f"{tmp}/inbox/shopee-*.csv",
        "batch-cancel: finished; all 2 order(s) cancelled; no file from source(s) shopee",
    ]
    results = read_results(tmp / "inbox" / "tokopedia-1.results.csv")
    assert [row["result_status"] for row in results] == ["cancelled", "cancelled"]
    report = json.loads(summary.read_text())
    assert (report["exit_status"], report["finished"]) == (1, True)
    assert report["empty_sources"] == [
        {"source": "shopee", "files": [f"{tmp}/inbox/shopee-*.xlsx", f"{tmp}/inbox/shopee-*.csv"]}
    ]


def test_an_optional_source_may_be_empty(
    tmp: Path, capsys: pytest.CaptureFixture[str], mock_api: aioresponses
) -> None:
    config = night(tmp)
    config.write_text(config.read_text() + "optional = true\n")  # shopee's
    orders_csv(tmp / "inbox" / "tokopedia-1.csv", 2)
    mock_api.patch(CANCEL_URL, status=200, payload=ANSWERED, repeat=True)
    done = cli(capsys, "run", "--config", config, "-q")
    assert (done.returncode, done.stderr) == (ExitStatus.SUCCESS, "")


def test_a_night_where_no_export_arrived_is_exit_1(
    tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Today: exit 0, silent under -q, and no summary JSON at all."""
    config = night(tmp)
    summary = tmp / "last-night.json"
    summary.write_text(json.dumps(OLD_SUMMARY))
    done = cli(capsys, "run", "--config", config, "-q", "--summary-json", summary)
    assert done.returncode == ExitStatus.ROWS_NEED_ATTENTION
    assert done.stderr.splitlines() == [
        f"batch-cancel: source tokopedia: no file matched {tmp}/inbox/tokopedia-*.csv",
        f"batch-cancel: source shopee: no file matched {tmp}/inbox/shopee-*.xlsx, "
        f"{tmp}/inbox/shopee-*.csv",
        "batch-cancel: no file to read: no file from source(s) tokopedia, shopee; nothing sent",
    ]
    report = json.loads(summary.read_text())
    assert (report["exit_status"], report["finished"], report["rows"], report["files"]) == (
        1,
        True,
        0,
        [],
    )
    assert [item["source"] for item in report["empty_sources"]] == ["tokopedia", "shopee"]


def test_a_night_of_optional_sources_only_is_a_quiet_night(
    tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = config_file(tmp, '[sources.extra]\nfiles = "inbox/*.csv"\noptional = true\n')
    summary = tmp / "last-night.json"
    done = cli(capsys, "run", "--config", config, "--summary-json", summary)
    assert (done.returncode, done.stderr) == (
        ExitStatus.SUCCESS,
        "batch-cancel: nothing to do: no file matched the sources' globs\n",
    )
    assert json.loads(summary.read_text())["exit_status"] == 0
    assert cli(capsys, "run", "--config", config, "-q").stderr == ""


def test_a_missing_file_argument_is_still_exit_2(
    tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    done = cli(capsys, "run", tmp / "gone.csv")
    assert done.returncode == ExitStatus.USAGE_OR_INPUT
    assert done.stderr == f"batch-cancel: input error: {tmp}/gone.csv: no such file\n"


def test_a_file_whose_reading_failed_is_not_archived(
    tmp: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    mock_api: aioresponses,
) -> None:
    """Its unread rows are still to send: the next night's glob must see it again."""
    (tmp / "inbox").mkdir()
    export = orders_csv(tmp / "inbox" / "tokopedia-1.csv", 3)
    config = config_file(tmp, '[sources.tokopedia]\nfiles = "inbox/*.csv"\narchive = "done/"\n')
    lines = inputfile.Source.lines

    def broken_after_one_row(self: inputfile.Source) -> Any:
        for number, line in enumerate(lines(self)):
            if number == 2:
                raise RuntimeError("reader bug")
            yield line

    monkeypatch.setattr(inputfile.Source, "lines", broken_after_one_row)
    mock_api.patch(CANCEL_URL, status=200, payload=ANSWERED, repeat=True)
    done = cli(capsys, "run", "--config", config, "-q")
    assert done.returncode == INTERNAL
    assert export.exists()
    assert not (tmp / "done").exists()
