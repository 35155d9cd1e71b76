"""What every benchmark shares: the sandbox process, measured subprocesses, input files, counting.

Everything runs on 127.0.0.1. Each measured program is a subprocess started the
way a user would start it; its wall time is taken around the process, its CPU
time comes from `os.wait4` (the kernel's own accounting for exactly that child,
its waited-for children included). Its peak RSS is the child's own high-water
mark (`VmHWM` in /proc/PID/status), read every POLL_S while it runs: wait4's
ru_maxrss starts from the benchmark process's own size at the fork, so a child
of a large parent would report the parent's memory as its own.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from batch_cancel.sandbox_process import SandboxError, SandboxProcess

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
# The sandbox's own key: it opens nothing but a local process that lives for one benchmark.
API_KEY = "bench-sandbox-key"
WAREHOUSE_ID = "WH-TGR04"
CANCEL_REASON = "Cancelled from marketplace"
CANCEL_PATH = "/v3/fulfillment/outbound/oms/cancel"
HEADER = "order_no,warehouse_id,cancel_reason\n"


_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
POLL_S = 0.01


class BenchError(RuntimeError):
    """A benchmark could not be measured (a process failed, timed out, or answered wrongly)."""


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without SHIPPER_* or proxy settings: loopback must stay direct."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("SHIPPER_") and name.lower() not in _PROXY_VARIABLES
    }
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env.update(extra)
    return env


def cli_env(state: Path) -> dict[str, str]:
    """The environment of one CLI run, its ledger in `state` (never the user's own ledger).

    The ledger is on by default and remembers cancelled orders across runs, so a
    shared ledger would turn a second `make bench` into a run of skipped rows.
    """
    return clean_env(
        SHIPPER_API_KEY=API_KEY,
        BATCH_CANCEL_STATE=str(state),
        XDG_STATE_HOME=str(state.parent / "xdg-state"),
    )


def batch_cancel(*args: str | Path) -> list[str]:
    """The CLI as a user runs it (`batch-cancel ...` is the same entry point)."""
    return [PYTHON, "-m", "batch_cancel", *map(str, args)]


# --------------------------------------------------------------------------- processes


@dataclass(frozen=True)
class Measured:
    """One finished subprocess."""

    command: list[str]
    returncode: int
    started: float  # time.monotonic() just before the process was started
    wall_s: float
    peak_rss_mb: float  # the process's own high-water mark (see the module docstring)
    cpu_s: float  # user + system, the process and the children it waited for
    stdout: str
    stderr: str
    timed_out: bool

    def check(self, what: str, *, ok: Sequence[int] = (0,)) -> Measured:
        if self.timed_out:
            raise BenchError(f"{what}: timed out after {self.wall_s:.0f}s")
        if self.returncode not in ok:
            tail = "\n".join(self.stderr.strip().splitlines()[-8:])
            raise BenchError(f"{what}: exit status {self.returncode}\n{tail}")
        return self


def run_measured(
    command: Sequence[str | Path],
    *,
    timeout_s: float,
    env: dict[str, str] | None = None,
    stdin: Path | None = None,
) -> Measured:
    """Run a command to the end (killed after `timeout_s`), measuring wall time, RSS and CPU."""
    argv = [str(part) for part in command]
    timed_out = threading.Event()
    with contextlib.ExitStack() as stack:
        out = stack.enter_context(tempfile.TemporaryFile())
        err = stack.enter_context(tempfile.TemporaryFile())
        stdin_file: BinaryIO | int = (
            stack.enter_context(stdin.open("rb")) if stdin else subprocess.DEVNULL
        )
        started = time.monotonic()
        process = subprocess.Popen(
            argv,
            stdin=stdin_file,
            stdout=out,
            stderr=err,
            env=clean_env() if env is None else env,
            cwd=ROOT,
            start_new_session=True,  # so a timeout can end the whole group (xargs + curls)
        )

        def kill() -> None:
            timed_out.set()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)

        timer = threading.Timer(timeout_s, kill)
        timer.start()
        peak_kib = [0]
        exited = threading.Event()
        watcher = threading.Thread(
            target=_watch_peak, args=(process.pid, peak_kib, exited), daemon=True
        )
        watcher.start()
        try:
            # wait4: the kernel's rusage for exactly this child.
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            exited.set()
            timer.cancel()
        watcher.join()
        wall_s = time.monotonic() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Measured(
            command=argv,
            returncode=process.returncode,
            started=started,
            wall_s=wall_s,
            # ru_maxrss (KiB) only when the process ended before a first reading.
            peak_rss_mb=(peak_kib[0] or usage.ru_maxrss) / 1024,
            cpu_s=usage.ru_utime + usage.ru_stime,
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
            timed_out=timed_out.is_set(),
        )


def _watch_peak(pid: int, peak_kib: list[int], exited: threading.Event) -> None:
    """Keep the child's VmHWM (KiB) in peak_kib[0] until it exits."""
    status = Path(f"/proc/{pid}/status")
    while not exited.is_set():
        try:
            text = status.read_text()
        except OSError:
            return
        match = re.search(r"^VmHWM:\s+(\d+) kB", text, re.M)
        if match:  # absent once the process has exited (a zombie has no memory)
            peak_kib[0] = max(peak_kib[0], int(match.group(1)))
        exited.wait(POLL_S)


# --------------------------------------------------------------------------- sandbox


class Sandbox(SandboxProcess):
    """`batch-cancel sandbox` in its own process, without proxies or SHIPPER_* settings."""

    def __init__(self, flags: Sequence[str] = ()) -> None:
        super().__init__(API_KEY, flags, env=clean_env(), cwd=ROOT)

    def __enter__(self) -> Sandbox:
        try:
            super().__enter__()
        except SandboxError as exc:
            raise BenchError(str(exc)) from exc
        return self

    def arrivals(self) -> list[float]:
        return sorted(self.stats()["arrivals"])


# --------------------------------------------------------------------------- inputs


def order_no(prefix: str, index: int) -> str:
    return f"{prefix}-{index:09d}"


def write_orders(path: Path, rows: int, prefix: str) -> Path:
    """An export of `rows` valid, distinct orders (the sandbox accepts each order once)."""
    block = 100_000
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(HEADER)
        for start in range(0, rows, block):
            handle.write(
                "".join(
                    f"{order_no(prefix, index)},{WAREHOUSE_ID},{CANCEL_REASON}\n"
                    for index in range(start, min(start + block, rows))
                )
            )
    return path


@contextlib.contextmanager
def workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="batch-cancel-bench-") as name:
        yield Path(name)


# --------------------------------------------------------------------------- counting


def span_rate(arrivals: Sequence[float]) -> float:
    """Requests per second between the first and the last arrival, on the server's clock."""
    if len(arrivals) < 2 or arrivals[-1] <= arrivals[0]:
        return 0.0
    return (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])


def check_all_cancelled(stats: dict[str, Any], rows: int, what: str) -> None:
    answered = stats["answers"]
    if answered.get("200") != rows or len(stats["arrivals"]) != rows:
        raise BenchError(
            f"{what}: expected {rows} requests all answered 200; the sandbox saw "
            f"{len(stats['arrivals'])} with answers {answered}"
        )


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Row:
    """One line of the results table."""

    item: str
    measure: str
    value: str
    target: str = ""
    verdict: str = ""  # "met", "MISSED", "" for figures without a target, "n/a"


@dataclass
class Section:
    """What one benchmark measured: table rows, plus the detail for BENCHMARKS.md."""

    title: str
    rows: list[Row] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def shell_line(argv: Sequence[str]) -> str:
    """A command as a reader would type it: `python -m batch_cancel`, temp paths shortened."""
    import shlex

    shown = ["python" if part == PYTHON else part for part in argv]
    text = shlex.join(shown)
    return re.sub(r"/\S*/batch-cancel-bench-[^/\s]+/", "$TMP/", text)
