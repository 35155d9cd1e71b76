"""`make demo`: the main job end to end against the local sandbox, nothing else needed.

Starts `batch-cancel sandbox` with the sample order book and a little latency
and 10% injected 500s, then runs the real CLI eight times, as an operator would:
1. a wrong API key: the run stops at once, the rest is `not_sent`, exit 3;
2. the nightly export: every per-row outcome (cancelled, rejected, failed,
   invalid, duplicate) and retries that recover;
3. a marketplace export (semicolons, BOM, Indonesian headers) read with --map;
4. the nightly export again: the ledger skips every order already cancelled
   and sends only the rest (the re-run that recovers a failed night);
5. the whole night in one command: samples/night/night.toml names three
   marketplaces (a semicolon CSV, a tab CSV, an .xlsx); one run reads them all.
6. the morning: what to do about each cause, and the rows needing a person;
7. the morning report, for a phone or a laptop;
8. a lost answer: the sandbox cancels one order and drops the connection; the
   run reads the order back and records it cancelled, without a second cancel.
The demo keeps its own ledger in demo-out/ (fresh each time, like its sandbox)
and succeeds when each run ends with the exit status it should.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from .sandbox_process import SandboxError, SandboxProcess

# The samples ship inside the package (batch_cancel/samples links to the top-level
# samples/ in a clone), so the demo runs from an installed package as well.
SAMPLES = Path(__file__).resolve().parent / "samples"
OUT = Path.cwd() / "demo-out"  # `make demo` runs it from the clone's root
# The sandbox's own key: not a secret, it opens nothing but this local process.
SANDBOX_KEY = "sandbox-demo-key"
LEDGER = OUT / "ledger.sqlite3"


SANDBOX_FLAGS = [
    *("--orders", str(SAMPLES / "orders.csv")),
    *("--latency-ms", "40", "--fail-rate", "0.1", "--seed", "7"),
    # Step 8's order (in no other sample): its cancel is applied and its answer lost.
    *("--lose-answer", "TKP-2412020001"),
]


def _run(title: str, args: list[str], *, api_key: str, expected: int) -> bool:
    print(f"\n=== {title}\n$ batch-cancel {shlex.join(args)}", flush=True)
    env = {**os.environ, "SHIPPER_API_KEY": api_key, "BATCH_CANCEL_STATE": str(LEDGER)}
    status = subprocess.run(
        [sys.executable, "-m", "batch_cancel", *args], env=env, check=False
    ).returncode
    verdict = "as expected" if status == expected else f"UNEXPECTED, wanted {expected}"
    print(f"--- exit status {status} ({verdict})", flush=True)
    return status == expected


def main() -> int:
    OUT.mkdir(exist_ok=True)
    for stale in OUT.glob("ledger.sqlite3*"):
        stale.unlink()
    # The night's results land beside its inputs: a fresh copy, never samples/ itself.
    shutil.rmtree(OUT / "night", ignore_errors=True)
    shutil.copytree(SAMPLES / "night", OUT / "night")
    try:
        with SandboxProcess(SANDBOX_KEY, SANDBOX_FLAGS) as sandbox:
            print(f"demo: the sandbox is listening on {sandbox.url}", flush=True)
            results = _runs(sandbox.url)
    except SandboxError as exc:
        raise SystemExit(f"demo: {exc}") from exc
    print(f"\ndemo: results CSVs are in {OUT}/")
    return 0 if all(results) else 1


def _runs(url: str) -> list[bool]:
    common = ["--base-url", url, "--rate", "10", "--concurrency", "4", "--max-attempts", "3"]
    return [
        _run(
            "1. wrong API key: stops at once, the rest is not_sent (exit 3)",
            [
                "run",
                str(SAMPLES / "nightly-export.csv"),
                "-o",
                str(OUT / "wrong-key.results.csv"),
                *common,
            ],
            api_key="not-the-sandbox-key",
            expected=3,
        ),
        _run(
            "2. nightly export: every outcome (exit 1: some rows need a human)",
            [
                "run",
                str(SAMPLES / "nightly-export.csv"),
                "-o",
                str(OUT / "nightly-export.results.csv"),
                *common,
            ],
            api_key=SANDBOX_KEY,
            expected=1,
        ),
        _run(
            "3. marketplace export: semicolons, BOM, other headers, mapped with --map",
            [
                "run",
                str(SAMPLES / "marketplace-export.csv"),
                "-o",
                str(OUT / "marketplace-export.results.csv"),
                "--map",
                "order_no=No. Pesanan",
                "--map",
                "cancel_reason=Alasan Pembatalan",
                "--warehouse-id",
                "WH-TGR04",
                *common,
            ],
            api_key=SANDBOX_KEY,
            expected=0,
        ),
        _run(
            "4. the nightly export again: cancelled orders are skipped, the rest re-sent",
            [
                "run",
                str(SAMPLES / "nightly-export.csv"),
                "-o",
                str(OUT / "nightly-export.rerun.results.csv"),
                *common,
            ],
            api_key=SANDBOX_KEY,
            expected=1,
        ),
        _run(
            "5. the whole night in one command: three marketplaces from one config file",
            ["run", "--config", str(OUT / "night" / "night.toml"), "--base-url", url],
            api_key=SANDBOX_KEY,
            expected=0,
        ),
        *_morning(),
        _lost_answer(url),
    ]


def _morning() -> list[bool]:
    """The morning review of the nightly export: what to do per cause, the rows in a CSV
    with their action, and the HTML report (exit 1: those rows need a person)."""
    night = str(OUT / "nightly-export.rerun.results.csv")
    return [
        _run(
            "6. the morning: what to do about each cause, and the rows needing a person",
            ["summarize", night, "--needs-attention", str(OUT / "needs-attention.csv")],
            api_key=SANDBOX_KEY,
            expected=1,
        ),
        _run(
            "7. the morning report, for a phone or a laptop",
            ["report", night, "-o", str(OUT / "morning-report.html")],
            api_key=SANDBOX_KEY,
            expected=1,
        ),
    ]


def _lost_answer(url: str) -> bool:
    """One read-back settling an order in doubt: its cancel was applied, the answer lost."""
    return _run(
        "8. a lost answer: the order is read back, found cancelled, not sent again",
        [
            "run",
            str(SAMPLES / "lost-answer.csv"),
            "-o",
            str(OUT / "lost-answer.results.csv"),
            *("--base-url", url, "--rate", "10", "--max-attempts", "3"),
        ],
        api_key=SANDBOX_KEY,
        expected=0,
    )


if __name__ == "__main__":
    raise SystemExit(main())
