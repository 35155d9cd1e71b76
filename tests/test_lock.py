"""Unit tests for lock.py: one run at a time per ledger and per results file."""

from __future__ import annotations

import fcntl
import json
import os
import re
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from batch_cancel.errors import LockHeldError
from batch_cancel.lock import RunLock
from batch_cancel.models import ExitStatus

from .helpers import ROOT

STARTED = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"

HOLDER = """
import sys, time
from pathlib import Path
from batch_cancel.lock import RunLock
with RunLock(Path(sys.argv[1]), what="the results file"):
    print("locked", flush=True)
    time.sleep(120)
"""


def held_message(path: Path, *, what: str = "the state lock", pid: int) -> str:
    return (
        rf"another batch-cancel run holds {re.escape(what)} {re.escape(str(path))} "
        rf"\(pid {pid}, started {STARTED}\); wait for it to finish, or stop it"
    )


@pytest.fixture
def umask_0() -> Iterator[None]:
    """No umask, so the mode seen is the one the lock asks for."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def test_acquire_records_the_holder_and_release_clears_it(tmp_path: Path) -> None:
    path = tmp_path / "state" / "deep" / "ledger.sqlite3.lock"  # parents are created
    lock = RunLock(path)
    with lock as entered:
        assert entered is lock
        record = json.loads(path.read_text())
        assert set(record) == {"pid", "started_at"}
        assert record["pid"] == os.getpid()
        assert re.fullmatch(STARTED, record["started_at"])
    assert path.exists()
    assert path.read_bytes() == b""  # released: nobody is named any more
    with RunLock(path):  # and it can be taken again
        pass


def test_a_second_lock_in_the_same_process_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3.lock"
    with RunLock(path):
        with pytest.raises(LockHeldError) as exc:
            RunLock(path).__enter__()
        assert re.fullmatch(held_message(path, pid=os.getpid()), str(exc.value))
        assert exc.value.exit_status == ExitStatus.LOCKED
        # The refused attempt leaves the holder's record alone.
        assert json.loads(path.read_text())["pid"] == os.getpid()


def test_the_label_names_what_is_locked(tmp_path: Path) -> None:
    path = tmp_path / "night.results.csv.lock"
    with RunLock(path, what="the results file"), pytest.raises(LockHeldError) as exc:
        RunLock(path, what="the results file").__enter__()
    assert re.fullmatch(
        held_message(path, what="the results file", pid=os.getpid()), str(exc.value)
    )


def test_a_holder_that_wrote_nothing_is_unknown(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    for content in [b"", b"not json", b"[1, 2]", b'{"pid": 1}', b"\xff\xfe"]:
        path.write_bytes(content)
        fd = os.open(path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            with pytest.raises(LockHeldError) as exc:
                RunLock(path).__enter__()
        finally:
            os.close(fd)
        assert str(exc.value) == (
            f"another batch-cancel run holds the state lock {path} (holder unknown); "
            "wait for it to finish, or stop it"
        )


@pytest.mark.usefixtures("umask_0")
def test_the_lock_file_is_only_for_its_owner(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3.lock"
    with RunLock(path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_lock_is_released_when_its_holder_is_killed(tmp_path: Path) -> None:
    path = tmp_path / "night.results.csv.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == "locked\n"
        with pytest.raises(LockHeldError) as exc:
            RunLock(path, what="the results file").__enter__()
        expected = held_message(path, what="the results file", pid=holder.pid)
        assert re.fullmatch(expected, str(exc.value))
    finally:
        holder.kill()
        holder.wait(timeout=30)
        if holder.stdout is not None:
            holder.stdout.close()
    # Killed, it never ran __exit__: its record is still there, but the kernel let go.
    assert json.loads(path.read_text())["pid"] == holder.pid
    with RunLock(path, what="the results file"):
        assert json.loads(path.read_text())["pid"] == os.getpid()
