"""Helpers the tests share: paths, the test key, running the CLI, reading and writing CSVs."""

from __future__ import annotations

import contextlib
import csv
import logging
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pytest
from aiohttp import web

from batch_cancel import cli
from batch_cancel.config import InputOptions
from batch_cancel.loader import OrdersFile

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
    preexec_fn: Callable[[], object] | None = None,
) -> CliRun:
    """Run the real CLI in a subprocess, as cron would (`preexec_fn`: e.g. a resource limit)."""
    done = subprocess.run(
        [sys.executable, "-m", "batch_cancel", *map(str, args)],
        capture_output=True,
        text=True,
        env=cli_env() if env is None else env,
        cwd=ROOT,
        timeout=timeout,
        check=False,
        preexec_fn=preexec_fn,
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


# --- the CLI in this process ---------------------------------------------------------------


def use_cli_env(
    monkeypatch: pytest.MonkeyPatch,
    api_key: str | None = API_KEY,
    state: Path | None = None,
    **extra: str,
) -> None:
    """Give this process what cli_env() and run_cli give a subprocess: its environment
    (SHIPPER_* and BATCH_CANCEL_* as cli_env sets them, no others) and ROOT as the
    working directory. monkeypatch puts both back when the test ends."""
    env = cli_env(api_key, state, **extra)
    for name in [name for name in os.environ if name not in env]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(ROOT)


def main_in_process(capture: pytest.CaptureFixture[str], *args: str | Path) -> CliRun:
    """Like run_cli, but cli.main(args) in this process (after use_cli_env): the exit status
    (an ExitStatus), and what `capture` (capsys or capfd) caught since it was last read.

    main() points the root logger at this test's stderr; that is undone on return. A
    SystemExit (the demo's, when its sandbox does not start) gives its exit status.
    """
    root, aiohttp_log = logging.getLogger(), logging.getLogger("aiohttp")
    saved = (root.handlers[:], root.level, aiohttp_log.level)
    try:
        status = cli.main([str(arg) for arg in args])
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
        aiohttp_log.setLevel(saved[2])
    out, err = capture.readouterr()
    return CliRun(status, out, err)


# --- the hostile-input corpus (tests/data/input, written by its make_corpus.py) -----------

CORPUS = DATA / "input"
SEND = "send"  # what outcomes() says of a row that would be sent
# Distinctive, so that a leak anywhere is found by a plain substring search.
CANARY_KEY = "sk-live-CANARY-9f3b7c1e5a2d4f60"
OTHER_CANARY_KEY = "sk-live-WRONGKEY-0d8e6a4c2b1f3e57"


def load_corpus(name: str, **options: Any) -> OrdersFile:
    return OrdersFile(InputOptions(path=CORPUS / name, **options))


def outcomes(orders: OrdersFile) -> list[tuple[Any, ...]]:
    """One tuple per row: what would be sent, or the verdict with its full message."""
    seen: list[tuple[Any, ...]] = []
    for row in orders.rows():
        if row.verdict is None:
            request = row.request
            assert request is not None
            seen.append(
                (
                    row.source_row,
                    SEND,
                    request.order_no,
                    request.warehouse_id,
                    request.cancel_reason,
                )
            )
        else:
            assert row.verdict is not None
            verdict = row.verdict
            seen.append(
                (row.source_row, verdict.status.value, verdict.error_code, verdict.error_message)
            )
    return seen


def assert_rows(orders: OrdersFile, expected: list[tuple[Any, ...]]) -> None:
    """Like ==, but a verdict's expected message need only be contained in the real one."""
    seen = outcomes(orders)
    assert [row[:3] for row in seen] == [row[:3] for row in expected], seen
    for got, want in zip(seen, expected, strict=True):
        if want[1] == SEND:
            assert got == want
        else:
            assert want[3] in got[3], (got, want)


def cells_of(orders: OrdersFile) -> list[tuple[str, ...]]:
    return [row.cells for row in orders.rows()]


def raw_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def key_file(directory: Path, content: str, mode: int = 0o600) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "shipper.key"
    path.write_text(content)
    path.chmod(mode)
    return path


# --- waiting for another process ----------------------------------------------------------


def wait_until(condition: Callable[[], bool], what: str, timeout_s: float = 30) -> None:
    """Poll until `condition()` holds; fail naming `what` if it never does.

    For a state another process reaches (a server's counts, a lock file), never a
    fixed sleep: the test waits as long as it takes, and no longer.
    """
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout_s:g} s, and still not: {what}", pytrace=False)
        time.sleep(0.02)


# --- what a test needs of the machine ------------------------------------------------------


def lacking(reason: str) -> NoReturn:
    """This machine lacks what the test needs (root, chromium, openssl): skip, saying what.

    Under CI=true (.ci/run sets it) the same is a failure: CI has all of them, so a skip
    there would hide a test that never ran.
    """
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: CI must run this test)", pytrace=False)
    pytest.skip(reason)


# --- an HTTPS API whose certificate nothing trusts -----------------------------------------


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        lacking("openssl is not installed")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@contextlib.asynccontextmanager
async def api_with_untrusted_certificate(tmp_path: Path) -> AsyncIterator[tuple[str, list[str]]]:
    """An HTTPS cancel endpoint with a self-signed certificate: (base URL, keys it received)."""
    cert, key = self_signed_certificate(tmp_path)
    reached: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        reached.append(request.headers.get("x-api-key", ""))
        return web.json_response({})

    app = web.Application()
    app.router.add_route("PATCH", "/v3/fulfillment/outbound/oms/cancel", handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context).start()
        yield f"https://127.0.0.1:{runner.addresses[0][1]}", reached
    finally:
        await runner.cleanup()
