"""Helpers the tests share: paths, the test key, running the CLI, reading and writing CSVs."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
DATA = Path(__file__).resolve().parent / "data"
API_KEY = "test-key-Zq8Jf3VwX1"  # distinctive, so a leak is easy to grep for

# Every test's private ledger lives under one directory removed when pytest exits.
_STATE_ROOT = tempfile.TemporaryDirectory(prefix="batch-cancel-test-state-")


@dataclass
class CliRun:
    returncode: int
    stdout: str
    stderr: str


def cli_env(
    api_key: str | None = API_KEY, state: Path | None = None, **extra: str
) -> dict[str, str]:
    """The CLI's environment: the test key, and a ledger of its own unless `state` is shared."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHIPPER_", "BATCH_CANCEL_"))}
    if api_key is not None:
        env["SHIPPER_API_KEY"] = api_key
    if state is None:
        state = Path(tempfile.mkdtemp(dir=_STATE_ROOT.name)) / "ledger.sqlite3"
    env["BATCH_CANCEL_STATE"] = str(state)
    env.update(extra)
    return env


def run_cli(
    *args: str | Path,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> CliRun:
    """Run the real CLI in a subprocess, as cron would."""
    done = subprocess.run(
        [sys.executable, "-m", "batch_cancel", *map(str, args)],
        capture_output=True,
        text=True,
        env=cli_env() if env is None else env,
        cwd=ROOT,
        timeout=timeout,
        check=False,
    )
    return CliRun(done.returncode, done.stdout, done.stderr)


def spawn_cli(*args: str | Path, env: dict[str, str]) -> subprocess.Popen[str]:
    """Start the real CLI and return at once, for tests that signal it or race it."""
    return subprocess.Popen(
        [sys.executable, "-m", "batch_cancel", *map(str, args)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def read_results(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def write_csv(path: Path, header: list[str], rows: list[list[str]], delimiter: str = ",") -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


ORDERS_HEADER = ["order_no", "warehouse_id", "cancel_reason"]


def orders_csv(path: Path, count: int, prefix: str = "ORD") -> Path:
    """A plain export of `count` valid orders on one warehouse."""
    rows = [[f"{prefix}-{i:05d}", "WH-1", "Cancelled from marketplace"] for i in range(count)]
    return write_csv(path, ORDERS_HEADER, rows)
