"""Shared fixtures: a real sandbox process on 127.0.0.1, aioresponses, a tiny disk."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientResponse
from aioresponses import aioresponses

from batch_cancel.sandbox_process import SandboxProcess

from .helpers import API_KEY, ROOT, cli_env, lacking, read_results, run_cli, write_csv

__all__ = ["cli_env", "read_results", "run_cli", "write_csv"]  # re-exported for tests


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


Sandbox = SandboxProcess  # what a test gets from start_sandbox: .url, .stats()


@pytest.fixture
def start_sandbox() -> Iterator[Callable[..., SandboxProcess]]:
    """Start `batch-cancel sandbox` as a real process on a free loopback port."""
    started: list[SandboxProcess] = []

    def start(*flags: str, api_key: str = API_KEY) -> SandboxProcess:
        sandbox = SandboxProcess(api_key, flags, cwd=ROOT).__enter__()
        started.append(sandbox)
        return sandbox

    yield start
    for sandbox in started:
        sandbox.stop()


@pytest.fixture
def held_fds() -> Iterator[list[int]]:
    """File descriptors a test holds (a flock'ed lock file), closed when it ends."""
    fds: list[int] = []
    yield fds
    for fd in fds:
        os.close(fd)


def mounted_tmpfs(mount: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` at `mount` (root only; CI runs as root), unmounted afterwards."""
    mount.mkdir()
    done = subprocess.run(
        ["/bin/mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)],
        check=False,
        capture_output=True,
    )
    if done.returncode != 0:
        lacking(f"needs root to mount a tmpfs: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        if subprocess.run(["/bin/umount", str(mount)], check=False).returncode:
            subprocess.run(["/bin/umount", "-l", str(mount)], check=False)  # never leak a mount
            pytest.fail(f"the tmpfs at {mount} was still busy: a file on it was left open")


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs: a disk that fills up mid-run."""
    yield from mounted_tmpfs(tmp_path / "tiny", "64k")
