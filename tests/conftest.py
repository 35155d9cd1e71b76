"""Shared fixtures: a real sandbox process on 127.0.0.1, a CLI runner, and aioresponses."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientResponse
from aioresponses import aioresponses

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
DATA = Path(__file__).resolve().parent / "data"
API_KEY = "test-key-Zq8Jf3VwX1"  # distinctive, so a leak is easy to grep for


class _NoStreamWriter:
    output_size = 0


@pytest.fixture
def mock_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[aioresponses]:
    """aioresponses, made to work with aiohttp >= 3.14.

    NOTE: aioresponses 0.7.9 builds ClientResponse without the `stream_writer`
    argument aiohttp 3.14 requires (pnuckowski/aioresponses#289). Delete this
    stand-in once a fixed aioresponses is released.
    """
    original_init = ClientResponse.__init__

    def init_with_stream_writer(self: ClientResponse, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("stream_writer", _NoStreamWriter())
        original_init(self, *args, **kwargs)

    monkeypatch.setattr(ClientResponse, "__init__", init_with_stream_writer)
    with aioresponses() as mocked:
        yield mocked


@dataclass
class Sandbox:
    url: str
    process: subprocess.Popen[str]

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.url}/_sandbox/stats", timeout=5) as response:
            return json.loads(response.read())  # type: ignore[no-any-return]


@pytest.fixture
def start_sandbox() -> Iterator[Callable[..., Sandbox]]:
    """Start `batch-cancel sandbox` as a real process on a free loopback port."""
    started: list[Sandbox] = []

    def start(*flags: str, api_key: str = API_KEY) -> Sandbox:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "batch_cancel",
                "sandbox",
                "--port",
                "0",
                "--api-key",
                api_key,
                *flags,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert process.stdout is not None
        line = process.stdout.readline()
        if "listening on" not in line:
            process.kill()
            raise RuntimeError(
                f"sandbox did not start: {line!r} {process.stderr.read() if process.stderr else ''}"
            )
        sandbox = Sandbox(url=line.rsplit(" ", 1)[-1].strip(), process=process)
        started.append(sandbox)
        return sandbox

    yield start
    for sandbox in started:
        sandbox.process.terminate()
        try:
            sandbox.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            sandbox.process.kill()
        for stream in (sandbox.process.stdout, sandbox.process.stderr):
            if stream is not None:
                stream.close()


@dataclass
class CliRun:
    returncode: int
    stdout: str
    stderr: str


def cli_env(api_key: str | None = API_KEY, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHIPPER_")}
    if api_key is not None:
        env["SHIPPER_API_KEY"] = api_key
    env.update(extra)
    return env


def run_cli(*args: str | Path, env: dict[str, str] | None = None, timeout: float = 120) -> CliRun:
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


def read_results(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def write_csv(path: Path, header: list[str], rows: list[list[str]], delimiter: str = ",") -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path
