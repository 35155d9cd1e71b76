"""`make demo`: the main job end to end against the local sandbox, nothing else needed.

Starts `batch-cancel sandbox` with the sample order book and a little latency
and 10% injected 500s, then runs the real CLI eight times, as an operator would:
1. a wrong API key: the run stops at once, the rest is `not_sent`, exit 3;
2. the nightly export: every per-row outcome (cancelled, rejected, failed,
   invalid, duplicate) and retries that recover;
3. a marketplace export (semicolons, BOM, Indonesian headers) read with --map;
4. the nightly export again: the ledger skips every order already cancelled
   and sends only the rest (the re-run that recovers a failed night);
5. the whole night in one command: samples/night/night.toml names two accounts
   (a second sandbox, another key) and three marketplaces (a semicolon CSV, a tab
   CSV, an .xlsx); one run reads them all, each order sent to its own account,
   and word of the night to a [notify] receiver the demo runs (its scheme shown,
   never the rest of the URL).
6. the morning: what to do about each cause, and the rows needing a person;
7. the morning report, for a phone or a laptop;
8. a lost answer: the sandbox cancels one order and drops the connection; the
   run reads the order back and records it cancelled, without a second cancel.
The demo keeps its own ledger in demo-out/ (fresh each time, like its sandbox)
and succeeds when each run ends with the exit status it should.
"""

from __future__ import annotations

import http.server
import json
import os
import shlex
import shutil
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path

from .sandbox_process import SandboxError, SandboxProcess

# The samples ship inside the package (batch_cancel/samples links to the top-level
# samples/ in a clone), so the demo runs from an installed package as well.
SAMPLES = Path(__file__).resolve().parent / "samples"
OUT = Path.cwd() / "demo-out"  # `make demo` runs it from the clone's root
# The sandbox's own key: not a secret, it opens nothing but this local process.
SANDBOX_KEY = "sandbox-demo-key"
# The night's second merchant: its own sandbox and key (an order reaches only its account).
SECOND_KEY = "sandbox-demo-key-2"
# samples/night/night.toml's accounts and the base URL the sample names for each.
NIGHT_ACCOUNTS = {"tokoabc": "http://127.0.0.1:8787", "gudangxyz": "http://127.0.0.1:8788"}
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
    second_flags = ["--orders", str(SAMPLES / "orders.csv"), "--latency-ms", "40"]
    try:
        with (
            SandboxProcess(SANDBOX_KEY, SANDBOX_FLAGS) as sandbox,
            SandboxProcess(SECOND_KEY, second_flags) as second,
        ):
            print(
                f"demo: the sandboxes are listening on {sandbox.url} and {second.url}", flush=True
            )
            point_night_at(
                OUT / "night" / "night.toml",
                {"tokoabc": (sandbox.url, SANDBOX_KEY), "gudangxyz": (second.url, SECOND_KEY)},
            )
            receiver = NotifyReceiver()
            _notify_to(OUT / "night" / "night.toml", receiver)
            results = _runs(sandbox.url, receiver)
            receiver.server.shutdown()
    except SandboxError as exc:
        raise SystemExit(f"demo: {exc}") from exc
    print(f"\ndemo: results CSVs are in {OUT}/")
    return 0 if all(results) else 1


def point_night_at(config: Path, sandboxes: Mapping[str, tuple[str, str]]) -> None:
    """The copied night's accounts at their sandboxes (account -> URL, key): each base
    URL, and a key file (mode 600, as batch-cancel insists) beside the config."""
    text = config.read_text(encoding="utf-8")
    for account, sample_url in NIGHT_ACCOUNTS.items():
        url, key = sandboxes[account]
        text = text.replace(f'base_url = "{sample_url}"', f'base_url = "{url}"')
        key_file = config.with_name(f"{account}.key")
        key_file.unlink(missing_ok=True)
        with open(os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as handle:
            handle.write(key + "\n")
    config.write_text(text, encoding="utf-8")


class NotifyReceiver:
    """A local HTTP receiver for what apprise's json:// posts: the demo's stand-in for
    Slack or Telegram (and the tests'). Each notification's JSON body, in order."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, str]] = []
        self.paths: list[str] = []
        received = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                received.bodies.append(json.loads(self.rfile.read(length)))
                received.paths.append(self.path)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def address(self, path: str) -> str:
        return f"json://127.0.0.1:{self.server.server_address[1]}{path}"


def _notify_to(config: Path, receiver: NotifyReceiver) -> None:
    """[notify] in the copied night: every night (when = always), to the receiver."""
    url = receiver.address("/hook/demo-webhook-token")  # a real URL's token is a secret
    with config.open("a", encoding="utf-8") as handle:
        handle.write(f'\n[notify]\nurls = ["{url}"]\nwhen = "always"\n')


def _notified(receiver: NotifyReceiver) -> None:
    """What reached the receiver: the scheme and the title, never the URL's rest."""
    for body in receiver.bodies:
        print(f'demo: [notify] word of the night went to json://: "{body.get("title")}"')
    if not receiver.bodies:
        print("demo: [notify] no word of the night reached the receiver")


def _runs(url: str, receiver: NotifyReceiver) -> list[bool]:
    common = ["--base-url", url, "--rate", "10", "--concurrency", "4", "--max-attempts", "3"]
    first = [
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
    ]
    night = _run(
        "5. the whole night in one command: two accounts, three marketplaces, one config",
        ["run", "--config", str(OUT / "night" / "night.toml")],
        api_key=SANDBOX_KEY,
        expected=0,
    )
    _notified(receiver)
    return [*first, night, *_morning(), _lost_answer(url)]


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
