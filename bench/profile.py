"""Where batch-cancel's time goes per row: item 1's run under py-spy (not part of `make bench`).

    pip install py-spy            # into the venv, for profiling only; not a project dependency
    python -m bench.profile       # the overhead run, ledger on and --no-state, top functions

Samples are taken on CPU only, 200 per second; "us/row" is a sample's share of
the profiled run's time divided by its rows (py-spy slows the run a little,
so compare shares rather than absolute microseconds).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

from .common import ROOT, Sandbox, cli_env, workdir, write_orders
from .overhead import CONCURRENCY, ROWS, batch_cancel_command, has_ledger

RATE_HZ = 200
TOP = 15
_FRAME = re.compile(r"(?P<function>.*) \((?P<file>.*?):\d+\)$")


def _short(frame: str) -> str:
    match = _FRAME.match(frame)
    if match is None:
        return frame
    file = match["file"].split("site-packages/")[-1]
    file = re.sub(r".*/(batch_cancel|bench)/", r"\1/", file)
    file = re.sub(r".*/python3\.\d+/", "", file)
    return f"{file}:{match['function']}"


def summarize(raw: Path, rows: int) -> list[str]:
    own: Counter[str] = Counter()
    everything: Counter[str] = Counter()
    total = 0
    for record in raw.read_text().splitlines():
        stack, _, count = record.rpartition(" ")
        samples = int(count)
        total += samples
        leaf = _short(stack.split(";")[-1])
        everything[leaf] += samples
        if leaf.startswith("batch_cancel/"):
            own[leaf] += samples

    def line(name: str, samples: int) -> str:
        return f"  {samples / RATE_HZ / rows * 1e6:7.1f} us/row {samples / total:6.1%}  {name}"

    out = [f"  {total / RATE_HZ / rows * 1e6:7.1f} us/row in all ({total} samples)"]
    out += ["  -- self time, any code:"] + [line(n, s) for n, s in everything.most_common(TOP)]
    out += ["  -- self time, batch_cancel only:"] + [line(n, s) for n, s in own.most_common(TOP)]
    return out


def main() -> int:
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(py_spy).exists():
        print("py-spy is not installed: `pip install py-spy` (into the venv, profiling only)")
        return 2
    variants: list[tuple[str, tuple[str, ...]]] = [("batch-cancel", ())]
    if has_ledger():
        variants = [("ledger on (the default)", ()), ("--no-state", ("--no-state",))]
    with workdir() as directory:
        for index, (label, extra) in enumerate(variants):
            orders = write_orders(directory / f"p{index}.csv", ROWS, f"PROF{index}")
            raw = directory / f"p{index}.txt"
            with Sandbox() as sandbox:
                command = batch_cancel_command(
                    sandbox.url, orders, directory / f"p{index}.results.csv", *extra
                )
                record = [py_spy, "record", "--format", "raw", "--rate", str(RATE_HZ)]
                subprocess.run(
                    [*record, "--output", str(raw), "--", *command],
                    env=cli_env(directory / f"p{index}.sqlite3"),
                    cwd=ROOT,
                    capture_output=True,
                    timeout=600,
                    check=True,
                )
            print(f"\n== {label}: {ROWS:,} rows, {CONCURRENCY} in flight, no rate limit")
            print("\n".join(summarize(raw, ROWS)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
