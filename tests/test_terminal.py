"""The run as an operator watches it in a real terminal (a pseudo-terminal): log lines
print above the progress bar, never on it, and the bar ends on the summary's counts,
even when the run stops early."""

from __future__ import annotations

import fcntl
import os
import re
import struct
import subprocess
import sys
import termios
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import Sandbox
from .helpers import ROOT, cli_env, orders_csv

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d (INFO|WARNING) ")


def run_on_a_terminal(args: list[str], env: dict[str, str]) -> str:
    """The CLI with stdin, stdout and stderr on a pseudo-terminal; everything it wrote."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))  # 40 x 120
    process = subprocess.Popen(
        [sys.executable, "-m", "batch_cancel", *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**env, "COLUMNS": "120", "TERM": "xterm"},
        cwd=ROOT,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert process.wait(timeout=60) == 3  # the key was refused: the rest not sent
    return b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.integration
def test_logs_print_above_the_bar_and_it_ends_on_the_true_counts(
    tmp_path: Path, start_sandbox: Callable[..., Sandbox]
) -> None:
    sandbox = start_sandbox()  # accepts only the test key: a wrong one is refused (401)
    source = orders_csv(tmp_path / "night.csv", 200)
    env = cli_env(api_key="a-wrong-key-0123456789", state=tmp_path / "ledger.sqlite3")
    output = run_on_a_terminal(
        ["run", str(source), "--base-url", sandbox.url, "--concurrency", "2"], env
    )
    segments = [part for line in output.split("\n") for part in line.split("\r")]
    logs = [part.strip() for part in segments if " INFO " in part or " WARNING " in part]
    assert any("stopping: the API refused the key" in line for line in logs)
    for line in logs:  # each log line starts its own line: never glued to the bar
        assert TIMESTAMP.match(line), line
    bars = [part for part in segments if "row/s" in part]
    last_bar = bars[-1]
    assert re.search(r"\b200/200\b", last_bar)
    postfix = re.search(r"row/s, (.*)\]", last_bar)
    assert postfix is not None, last_bar
    shown = dict(item.rsplit(" ", 1) for item in postfix.group(1).split(", "))
    summary = {
        match.group(1): match.group(2)
        for match in re.finditer(r"^  (\w+) +(\d+)(?:  <- needs attention)?\r?$", output, re.M)
    }
    assert shown == summary
    assert shown["not_sent"] != "0"
