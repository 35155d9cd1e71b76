"""One run at a time per ledger and per results file: advisory lock files beside them.

flock(2) is released by the kernel when the holder dies, however it dies, so a
lock left by a killed run is never obeyed: the next run simply takes it. The
file's text (pid, start time) only serves to name the holder in the message.
"""

from __future__ import annotations

import fcntl
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from .errors import LockHeldError, write_failed


class RunLock:
    def __init__(self, path: Path, *, what: str = "the state lock") -> None:
        self.path = path
        self._what = what
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _describe_holder(fd)
            os.close(fd)
            raise LockHeldError(
                f"another batch-cancel run holds {self._what} {self.path} ({holder}); "
                "wait for it to finish, or stop it"
            ) from None
        started = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        try:
            os.ftruncate(fd, 0)
            os.write(fd, json.dumps({"pid": os.getpid(), "started_at": started}).encode())
            os.fsync(fd)
        except OSError as exc:  # a full disk: nowhere to record, so nothing is sent
            os.close(fd)
            raise write_failed(self.path, exc) from exc
        self._fd = fd
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def _describe_holder(fd: int) -> str:
    try:
        holder = json.loads(os.pread(fd, 4096, 0) or b"{}")
        return f"pid {holder['pid']}, started {holder['started_at']}"
    except (ValueError, KeyError, TypeError, OSError):
        return "holder unknown"
