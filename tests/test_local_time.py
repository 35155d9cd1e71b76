"""The config's `timezone` for the times people read: the run's summary and the HTML
report show them in it, with the offset; the results CSV and the summary JSON keep
ISO 8601 UTC. Without a timezone nothing changes (tests/test_identical_outputs.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from batch_cancel import models
from batch_cancel.models import ExitStatus

from .helpers import ORDERS_HEADER, main_in_process, read_results, use_cli_env, write_csv
from .test_html_report import EVERY_STATUS
from .test_retention_clock import StoppedClock  # stopped at 2026-12-01 02:00 UTC


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> StoppedClock:
    stopped = StoppedClock()
    monkeypatch.setattr(models, "time", stopped)
    return stopped


def night(tmp_path: Path, zone: str | None) -> Path:
    write_csv(tmp_path / "orders.csv", ORDERS_HEADER, [["SO-1", "WH-1", "customer asked"]])
    config = tmp_path / "night.toml"
    line = f'timezone = "{zone}"\n' if zone else ""
    config.write_text(f'{line}[sources.shop]\nfiles = "orders.csv"\n')
    return config


@pytest.mark.parametrize(
    ("zone", "line"),
    [("Asia/Jakarta", "  finished: 2026-12-01 09:00:00 WIB (+07:00)"), (None, None)],
)
def test_the_summary_shows_the_night_in_the_configs_time_zone_and_only_then(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    clock: StoppedClock,
    zone: str | None,
    line: str | None,
) -> None:
    use_cli_env(monkeypatch, state=tmp_path / "ledger.sqlite3")
    summary = tmp_path / "summary.json"
    config = night(tmp_path, zone)
    done = main_in_process(
        capsys, "run", "--dry-run", "--config", config, "--summary-json", summary
    )
    assert done.returncode == ExitStatus.SUCCESS
    times = [text for text in done.stderr.splitlines() if "finished:" in text]
    assert times == ([line] if line else []), done.stderr
    # What machines read keeps UTC: no local time in the summary JSON or the results.
    assert "+07:00" not in summary.read_text()
    assert "WIB" not in summary.read_text()
    json.loads(summary.read_text())
    for row in read_results(tmp_path / "orders.dry-run.csv"):
        assert "+07" not in str(row)


def test_the_report_shows_the_results_times_in_the_configs_time_zone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = night(tmp_path, "Asia/Jakarta")
    use_cli_env(monkeypatch, state=tmp_path / "ledger.sqlite3", BATCH_CANCEL_CONFIG=str(config))
    page = tmp_path / "report.html"
    main_in_process(capsys, "report", EVERY_STATUS, "-o", page)
    # Recorded 2026-11-26T23:00:01.120Z .. 23:00:09.870Z: the next morning in Jakarta.
    assert (
        "results finished 2026-11-27 06:00:01 WIB (+07:00) .. 2026-11-27 06:00:09 WIB (+07:00)"
        in page.read_text()
    )
