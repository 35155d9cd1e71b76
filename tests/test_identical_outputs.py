"""Every output byte-identical to the release it was captured from (issue 23's refactor).

The demo's five runs and a 100k-row night go through the CLI in this process with a
stopped clock, against a seeded sandbox at one request in flight, and every file and
stream the commands write (results CSVs, stderr summaries, summary JSON, summarize's
text and JSON, the needs-attention CSV, the HTML report, history) is hashed. What a
run cannot repeat is normalized first: temporary paths, the sandbox's port, log-line times, elapsed
seconds, the sandbox's random request ids (numbered in order of appearance).

tests/data/outputs-golden.json holds the hashes captured on 0.1.0's last commit
(338ff26 + issues 21/22, before the refactor). A change that is meant to change an
output rewrites it on purpose: BATCH_CANCEL_WRITE_GOLDEN=1 pytest tests/test_identical_outputs.py,
and the CHANGELOG says what changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from batch_cancel import __version__, demo, models

from .conftest import Sandbox
from .helpers import API_KEY, DATA, SAMPLES, main_in_process, use_cli_env, write_csv
from .test_retention_clock import StoppedClock

GOLDEN = DATA / "outputs-golden.json"
GOLDEN_VERSION = "0.1.0"  # the version the hashes were captured on
WRITE = bool(os.environ.get("BATCH_CANCEL_WRITE_GOLDEN"))
BIG_ROWS = int(os.environ.get("BATCH_CANCEL_GOLDEN_ROWS", "100000"))
FAST = ["--rate", "0", "--concurrency", "1", "--progress-every", "3600"]
LOG_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d ", re.MULTILINE)
ELAPSED = re.compile(r"(rows: \d+ in )\d+\.\d+s")
ELAPSED_JSON = re.compile(r'("elapsed_s": )[0-9.]+')
REQUEST_ID = re.compile(r"sbx-[0-9a-f]{16}")


class Outputs:
    """What the commands wrote, normalized, by name."""

    def __init__(self, root: Path, url: str, second: str = "") -> None:
        self.root = root
        self.url = url
        self.second = second  # the demo night's second account's sandbox
        self.texts: dict[str, str] = {}
        self._ids: dict[str, str] = {}

    def normalize(self, text: str) -> str:
        text = text.replace(str(self.root), "<TMP>").replace(self.url, "<SANDBOX>")
        text = text.replace(str(SAMPLES.parent), "<CHECKOUT>")  # CI clones elsewhere
        text = text.replace(self.url.split("//", 1)[1], "<HOST>")
        if self.second:
            text = text.replace(self.second.split("//", 1)[1], "<HOST2>")
        text = LOG_TIME.sub("<TIME> ", text)
        # The one intended difference: the HTML report's footer names the version.
        text = text.replace(f"batch-cancel {__version__};", f"batch-cancel {GOLDEN_VERSION};")
        text = ELAPSED_JSON.sub(r"\g<1>0", ELAPSED.sub(r"\g<1>0.0s", text))
        return REQUEST_ID.sub(self._request_id, text)

    def _request_id(self, match: re.Match[str]) -> str:
        return self._ids.setdefault(match.group(), f"sbx-{len(self._ids):016d}")

    def add(self, name: str, text: str) -> None:
        self.texts[name] = self.normalize(text)

    def add_file(self, name: str, path: Path) -> None:
        self.add(name, path.read_bytes().decode("utf-8"))

    def digests(self) -> dict[str, str]:
        return {
            name: hashlib.sha256(text.encode()).hexdigest()
            for name, text in sorted(self.texts.items())
        }


def check(section: str, outputs: Outputs) -> None:
    golden = json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}
    if WRITE:
        golden[section] = outputs.digests()
        GOLDEN.write_text(json.dumps(golden, indent=1, sort_keys=True) + "\n")
        return
    changed = [
        name for name, digest in outputs.digests().items() if golden[section].get(name) != digest
    ]
    assert sorted(golden[section]) == sorted(outputs.digests())
    assert changed == [], {name: outputs.texts[name][:3000] for name in changed}


@pytest.fixture
def stopped_clock(monkeypatch: pytest.MonkeyPatch) -> StoppedClock:
    clock = StoppedClock()
    monkeypatch.setattr(models, "time", clock)
    return clock


def command(
    outputs: Outputs, capfd: pytest.CaptureFixture[str], name: str, *args: str | Path
) -> int:
    done = main_in_process(capfd, *args)
    outputs.add(f"{name}.stdout", done.stdout)
    outputs.add(f"{name}.stderr", done.stderr)
    outputs.add(f"{name}.status", str(int(done.returncode)))
    return int(done.returncode)


@pytest.mark.integration
def test_the_demo_writes_what_it_wrote(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    start_sandbox: Callable[..., Sandbox],
    stopped_clock: StoppedClock,
) -> None:
    sandbox = start_sandbox(
        "--orders", str(SAMPLES / "orders.csv"), "--fail-rate", "0.1", "--seed", "7"
    )
    second = start_sandbox("--orders", str(SAMPLES / "orders.csv"), api_key=demo.SECOND_KEY)
    use_cli_env(monkeypatch, api_key=API_KEY, state=tmp_path / "ledger.sqlite3")
    outputs = Outputs(tmp_path, sandbox.url, second.url)
    shutil.copytree(SAMPLES / "night", tmp_path / "night")
    accounts = {"tokoabc": (sandbox.url, API_KEY), "gudangxyz": (second.url, demo.SECOND_KEY)}
    demo.point_night_at(tmp_path / "night" / "night.toml", accounts)
    common = ["--base-url", sandbox.url, "--max-attempts", "3", *FAST]
    nightly = SAMPLES / "nightly-export.csv"
    monkeypatch.setenv("SHIPPER_API_KEY", "not-the-sandbox-key")
    assert command(outputs, capfd, "1", "run", nightly, "-o", tmp_path / "w.csv", *common) == 3
    monkeypatch.setenv("SHIPPER_API_KEY", API_KEY)
    summary = tmp_path / "summary.json"
    first = tmp_path / "nightly.results.csv"
    run = ["run", nightly, "-o", first, "--summary-json", summary, *common]
    assert command(outputs, capfd, "2", *run) == 1
    outputs.add_file("2.summary.json", summary)
    marketplace = ["--map", "order_no=No. Pesanan", "--map", "cancel_reason=Alasan Pembatalan"]
    market = tmp_path / "market.results.csv"
    args = ["run", SAMPLES / "marketplace-export.csv", "-o", market, *marketplace]
    assert command(outputs, capfd, "3", *args, "--warehouse-id", "WH-TGR04", *common) == 0
    rerun = tmp_path / "rerun.results.csv"
    assert command(outputs, capfd, "4", "run", nightly, "-o", rerun, *common) == 1
    night = ["run", "--config", tmp_path / "night" / "night.toml", "--max-attempts", "3", *FAST]
    assert command(outputs, capfd, "5", *night, "--summary-json", summary) == 0
    outputs.add_file("5.summary.json", summary)
    for path in (tmp_path / "w.csv", first, market, rerun, *(tmp_path / "night").glob("*.csv")):
        outputs.add_file(path.name, path)
    review(outputs, capfd, tmp_path, [first, rerun])
    for flags in ([], ["--json"]):
        command(outputs, capfd, f"history{''.join(flags)}", "history", "TKP-2411260002", *flags)
    check("demo", outputs)


def review(
    outputs: Outputs, capfd: pytest.CaptureFixture[str], tmp_path: Path, results: list[Path]
) -> None:
    """summarize (text, JSON, needs-attention) and report on `results`."""
    attention = tmp_path / "attention.csv"
    command(outputs, capfd, "summarize", "summarize", *results, "--needs-attention", attention)
    outputs.add_file("attention.csv", attention)
    command(outputs, capfd, "summarize--json", "summarize", *results, "--json")
    page = tmp_path / "report.html"
    command(outputs, capfd, "report", "report", *results, "-o", page)
    outputs.add_file("report.html", page)


def big_export(path: Path, rows: int) -> Path:
    """A night's export: valid rows on three warehouses, with blanks, bad and repeated ones."""
    lines = []
    for i in range(rows):
        order = f"SO-{i:07d}" if i % 97 else f"SO-{i - 1:07d}"  # a duplicate now and then
        if i % 1009 == 5:
            order = "bad order no!"
        warehouse = ("WH-1", "WH-2", "")[i % 3]
        lines.append([order, warehouse, "Customer request" if i % 5 else ""])
    return write_csv(path, ["order_no", "warehouse_id", "cancel_reason"], lines)


@pytest.mark.integration
def test_a_big_night_writes_what_it_wrote(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    start_sandbox: Callable[..., Sandbox],
    stopped_clock: StoppedClock,
) -> None:
    """100k rows (BATCH_CANCEL_GOLDEN_ROWS; its own golden section per size): a dry run,
    a live night at full speed with every row answered 200, and the review of both."""
    sandbox = start_sandbox("--seed", "3")
    use_cli_env(monkeypatch, api_key=API_KEY, state=tmp_path / "ledger.sqlite3")
    outputs = Outputs(tmp_path, sandbox.url)
    export = big_export(tmp_path / "export.csv", BIG_ROWS)
    dry = tmp_path / "export.dry-run.csv"
    flags = ["--warehouse-id", "WH-9", "--cancel-reason", "Night sweep", "--progress-every", "3600"]
    command(outputs, capfd, "dry", "run", export, "--dry-run", "-o", dry, *flags)
    outputs.add_file("dry.csv", dry)
    live = tmp_path / "export.results.csv"
    summary = tmp_path / "summary.json"
    speed = ["--rate", "0", "--concurrency", "16", "--summary-json", summary]
    run = ["run", export, "-o", live, "--base-url", sandbox.url, *speed, *flags]
    command(outputs, capfd, "live", *run)
    outputs.add_file("live.csv", live)
    outputs.add_file("live.summary.json", summary)
    review(outputs, capfd, tmp_path, [dry, live])
    check(f"night-{BIG_ROWS}", outputs)
