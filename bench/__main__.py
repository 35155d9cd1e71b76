"""`python -m bench` (`make bench`): run every benchmark, print the table, write BENCHMARKS.md.

python -m bench                      # everything; rewrites the generated part of BENCHMARKS.md
python -m bench --only overhead,rate # some; prints only (unless --output is given)
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.metadata
import os
import platform
import re
import shutil
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

from .common import ROOT, BenchError, Row, Section

BENCHMARKS = (
    "overhead",
    "versus",
    "rate",
    "scale",
    "ledger",
    "auto_rate",
    "review",
    "skip",
    "limit_kinds",
)
BEGIN = "<!-- bench:begin: written by `make bench`; edit outside these markers -->"
END = "<!-- bench:end -->"
PACKAGES = ("aiohttp", "aiolimiter", "pandas", "numpy", "yarl", "multidict", "requests")

METHOD = """\
Everything runs on one machine over 127.0.0.1. Every benchmark starts its own
`batch-cancel sandbox` process (aiohttp, one event loop) and runs the program
under test as a separate subprocess, the way a user would; nothing shares an
event loop. On a 2-core machine the sandbox and the client compete for the two
cores (and with anything else running): at full speed the server uses about
one core, so full-speed figures are a property of this pair, not of the client
alone. Wall time is measured around the subprocess; peak RSS and CPU time come
from `os.wait4` (the kernel's accounting for that child and the children it
waited for). Arrival times are `time.monotonic()` in the sandbox, read from
`GET /_sandbox/stats`; rates and windows are counted on that clock. Every run
is checked: the sandbox must have answered 200 to exactly one request per row.
"""


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _first_line(command: Sequence[str]) -> str:
    try:
        done = subprocess.run(
            list(command), capture_output=True, text=True, timeout=10, check=False, cwd=ROOT
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip().splitlines()[0] if done.returncode == 0 and done.stdout else ""


def machine() -> list[str]:
    cpu_model = ""
    with contextlib.suppress(OSError):
        match = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        cpu_model = match.group(1).strip() if match else ""
    memory = ""
    with contextlib.suppress(OSError, AttributeError):
        match = re.search(r"^MemTotal:\s*(\d+) kB", Path("/proc/meminfo").read_text(), re.M)
        memory = f"{int(match.group(1)) / 1024**2:.1f} GiB" if match else ""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    commit = _first_line(["git", "rev-parse", "--short", "HEAD"]) or "unknown"
    if _first_line(["git", "status", "--porcelain", "--untracked-files=no"]):
        commit += " + uncommitted changes"
    curl = _first_line(["curl", "--version"]) if shutil.which("curl") else "not installed"
    versions = ", ".join(f"{name} {_version(name)}" for name in PACKAGES)
    return [
        f"- CPU: {os.cpu_count()} cores ({usable} usable), {cpu_model or platform.machine()}",
        f"- memory: {memory or 'unknown'}",
        f"- OS: {platform.platform()}",
        f"- Python: {platform.python_implementation()} {platform.python_version()}",
        f"- batch-cancel {_version('batch-cancel')} at commit {commit}",
        f"- packages: {versions}",
        f"- curl: {' '.join(curl.split()[:2]) if curl else 'unknown'}",
    ]


def table(rows: Sequence[Row]) -> list[str]:
    header = ("item", "measure", "result", "target", "verdict")
    cells = [header, *((r.item, r.measure, r.value, r.target, r.verdict) for r in rows)]
    widths = [max(len(line[i]) for line in cells) for i in range(len(header))]

    def line(values: Sequence[str]) -> str:
        return "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)) + " |"

    return [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"] + [
        line(values) for values in cells[1:]
    ]


def run_one(name: str) -> Section:
    module: ModuleType = importlib.import_module(f"bench.{name}")
    runner: Callable[[], Section] = module.run
    started = time.monotonic()
    try:
        section = runner()
    except Exception as exc:  # one benchmark failing must not lose the others' figures
        if isinstance(exc, BenchError):
            print(f"{name}: {exc}", file=sys.stderr)
        else:
            traceback.print_exc(file=sys.stderr)
        section = Section(name)
        message = (str(exc).splitlines() or [type(exc).__name__])[0]
        section.rows.append(Row(name, "could not be measured", message, "", "ERROR"))
    section.elapsed_s = time.monotonic() - started
    return section


def render(
    sections: Sequence[Section], machine_lines: Sequence[str], elapsed_s: float, loads: str
) -> str:
    rows = [row for section in sections for row in section.rows]
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = [
        BEGIN,
        "## Latest run",
        "",
        f"{when}; the benchmarks took {elapsed_s / 60:.1f} min; load average {loads}.",
        "",
        "### Machine",
        "",
        *machine_lines,
        "",
        "### Results",
        "",
        *table(rows),
        "",
        "### Method",
        "",
        METHOD,
    ]
    for section in sections:
        doc = _doc_of(section)
        out += [f"#### {section.title} ({section.elapsed_s:.0f} s)", ""]
        if doc:
            out += [doc, ""]
        if section.details:
            out += ["Measured:", ""] + [f"- {detail}" for detail in section.details]
        if section.commands:
            out += ["", "```sh", *section.commands, "```"]
        out.append("")
    out.append(END)
    return "\n".join(out)


def _doc_of(section: Section) -> str:
    number = section.title.split(".", 1)[0]
    if not number.isdigit() or not 1 <= int(number) <= len(BENCHMARKS):
        return ""
    module = sys.modules.get(f"bench.{BENCHMARKS[int(number) - 1]}")
    doc = (module.__doc__ or "") if module else ""
    # The module docstrings are the method; drop their first line (the title).
    return "\n".join(doc.strip().splitlines()[1:]).strip()


def write_benchmarks_md(path: Path, generated: str) -> None:
    """Replace the generated block; anything outside the markers is hand-written and kept."""
    if path.exists():
        text = path.read_text(encoding="utf-8")
        if BEGIN in text and END in text:
            before, _, rest = text.partition(BEGIN)
            _, _, after = rest.partition(END)
            path.write_text(before + generated + after, encoding="utf-8")
            return
    path.write_text(
        "# Benchmarks\n\nReproduce with `make bench` (about 5 minutes).\n\n" + generated + "\n",
        encoding="utf-8",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", help=f"comma-separated subset of: {', '.join(BENCHMARKS)} (default: all)"
    )
    parser.add_argument(
        "--output", type=Path, help="write the results here (default: BENCHMARKS.md on full runs)"
    )
    args = parser.parse_args(argv)
    names = BENCHMARKS
    if args.only:
        names = tuple(name.strip() for name in args.only.split(",") if name.strip())
        unknown = sorted(set(names) - set(BENCHMARKS))
        if unknown:
            parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    output = args.output or (None if args.only else ROOT / "BENCHMARKS.md")

    started = time.monotonic()
    load_before = os.getloadavg()[0]
    machine_lines = machine()
    print("\n".join(machine_lines), flush=True)
    sections: list[Section] = []
    for name in names:
        print(f"\n== {name} ...", flush=True)
        section = run_one(name)
        sections.append(section)
        print("\n".join(table(section.rows)), flush=True)
        print("".join(f"  {detail}\n" for detail in section.details), end="")
        print(f"  ({section.elapsed_s:.0f} s)", flush=True)
    elapsed = time.monotonic() - started
    loads = f"{load_before:.2f} before, {os.getloadavg()[0]:.2f} after"

    print(f"\n== batch-cancel benchmarks ({elapsed / 60:.1f} min, load average {loads})\n")
    print("\n".join(table([row for section in sections for row in section.rows])))
    if output is not None:
        write_benchmarks_md(output, render(sections, machine_lines, elapsed, loads))
        print(f"\nwritten to {output}")
    failed = any(row.verdict == "ERROR" for section in sections for row in section.rows)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
