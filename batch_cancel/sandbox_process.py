"""Start `batch-cancel sandbox` as its own process: the one way the demo, the tests and
the benchmarks get a sandbox (server and client never share an event loop).

It listens on 127.0.0.1 on a free port and prints `... listening on URL` first;
`SandboxProcess` waits for that line (bounded), and stops the process on exit.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

START_TIMEOUT_S = 30.0
STATS_TIMEOUT_S = 120.0  # a benchmark's stats hold every arrival of 200k rows
STOP_TIMEOUT_S = 10.0
_LISTENING = re.compile(r"listening on (http://127\.0\.0\.1:\d+)")


class SandboxError(RuntimeError):
    """The sandbox process did not start (its last lines of stderr say why)."""


class SandboxProcess:
    """`with SandboxProcess(api_key, flags) as sandbox:` -> sandbox.url, sandbox.stats()."""

    def __init__(
        self,
        api_key: str,
        flags: Sequence[str] = (),
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.command = [
            sys.executable,
            *("-m", "batch_cancel", "sandbox"),
            *("--host", "127.0.0.1", "--port", "0", "--api-key", api_key),
            *flags,
        ]
        self._env = dict(os.environ if env is None else env)
        self._cwd = cwd
        self.url = ""
        self.process: subprocess.Popen[str] | None = None
        self._stderr: IO[bytes] | None = None

    def __enter__(self) -> SandboxProcess:
        self._stderr = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            self.command,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            stdin=subprocess.DEVNULL,
            env=self._env,
            cwd=self._cwd,
            text=True,
        )
        assert self.process.stdout is not None
        watchdog = threading.Timer(START_TIMEOUT_S, self.process.kill)
        watchdog.start()
        try:
            line = self.process.stdout.readline().strip()
        finally:
            watchdog.cancel()
        match = _LISTENING.search(line)
        if match is None:
            self._stderr.seek(0)
            tail = self._stderr.read().decode(errors="replace").strip().splitlines()[-5:]
            self.stop()
            raise SandboxError(f"the sandbox did not start: {line!r} {' / '.join(tail)}")
        self.url = match.group(1)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        process = self.process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=STOP_TIMEOUT_S)
        if process is not None and process.stdout is not None:
            process.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def stats(self) -> dict[str, Any]:
        """GET /_sandbox/stats (arrival times are time.monotonic() in the sandbox process)."""
        # No proxies, ever: the sandbox is on loopback.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(f"{self.url}/_sandbox/stats", timeout=STATS_TIMEOUT_S) as response:
            stats: dict[str, Any] = json.load(response)
        return stats
