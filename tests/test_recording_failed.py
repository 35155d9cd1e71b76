"""A ledger or results file that cannot be written stops the night cleanly (issue 22).

The real CLI, as cron runs it, against the real sandbox, with the ledger (or the
results) on a small tmpfs that fills mid-run; then the README's recovery steps,
counting the requests each order got at the sandbox.
"""

from __future__ import annotations

import subprocess
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from batch_cancel.models import ExitStatus

from .conftest import Sandbox
from .helpers import ORDERS_HEADER, CliRun, cli_env, orders_csv, read_results, run_cli, write_csv

ROWS = 3000
FAST = ["--rate", "0", "--concurrency", "4"]


def resize(mount: Path, size: str) -> None:
    """Grow or shrink the tiny tmpfs: "free space" at 3 a.m., in a test."""
    subprocess.run(["/bin/mount", "-o", f"remount,size={size}", str(mount)], check=True)


def answered(sandbox: Sandbox, status: int) -> Counter[str]:
    """Orders ("ORDER|WH") the sandbox answered with `status`, and how often."""
    return Counter(order for _, order, got in sandbox.stats()["events"] if got == status)


def order_key(row: dict[str, str]) -> str:
    return f"{row['order_no']}|{row['warehouse_id']}"


def same_command(sandbox: Sandbox, source: Path, out: Path, state: Path) -> Callable[[], CliRun]:
    """The night's command as cron runs it, each time the same: the real CLI, never a traceback."""
    command = ("run", source, "-o", out, "--state", state, "--base-url", sandbox.url, *FAST)
    env = cli_env()

    def run() -> CliRun:
        done = run_cli(*command, env=env)
        assert "Traceback" not in done.stderr
        return done

    return run


def test_a_full_ledger_disk_stops_the_night_and_the_rerun_sends_no_200_twice(
    tmp_path: Path, tiny_disk: Path, start_sandbox: Callable[..., Sandbox]
) -> None:
    sandbox = start_sandbox()
    # The ledger's -shm alone takes 32 KiB: 256 KiB fills after about a hundred rows.
    resize(tiny_disk, "256k")
    state = tiny_disk / "state.db"
    out = tmp_path / "night.results.csv"
    night = same_command(sandbox, orders_csv(tmp_path / "night.csv", ROWS), out, state)

    first = night()
    assert (
        f"batch-cancel: the ledger {state} could not be written (database or disk is full); "
        "sending stopped: " in first.stderr
    )
    assert first.returncode == ExitStatus.RECORDING_FAILED, first.stderr
    rows = read_results(out)  # complete and in place: every row has its outcome
    assert len(rows) == ROWS
    ok = answered(sandbox, 200)
    assert 0 < len(ok) < ROWS  # the disk filled mid-run
    by_status: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        by_status.setdefault(row["result_status"], []).append(row)
    assert set(by_status) <= {"cancelled", "not_sent", "failed", "in_doubt"}
    # Every 200 Shipper gave is in the results as what it was, with its request id.
    cancelled = {order_key(row): row for row in by_status["cancelled"]}
    assert set(cancelled) == set(ok)
    assert all(row["result_request_id"].startswith("sbx-") for row in cancelled.values())
    assert all(row["result_attempts"] == "1" for row in cancelled.values())
    # A request without an answer is named in doubt; a row never sent is not_sent.
    assert {row["result_error_code"] for row in by_status.get("in_doubt", [])} <= {"in_doubt"}
    assert "failed" not in by_status
    sent = set(sandbox.stats()["cancel_calls"])
    assert {order_key(row) for row in by_status["not_sent"]}.isdisjoint(sent)

    # The README's recovery: free space where the ledger lives, run the same command.
    resize(tiny_disk, "16m")
    second = night()
    assert second.returncode == ExitStatus.SUCCESS, second.stderr
    assert f"could not record were read back from {out}\n" in second.stderr
    calls = sandbox.stats()["cancel_calls"]
    assert {order: calls[order] for order in ok} == dict.fromkeys(ok, 1)
    again = read_results(out)
    assert {row["result_status"] for row in again} == {"cancelled", "skipped"}
    for row in again:
        earlier = cancelled.get(order_key(row))
        if earlier is not None:  # skipped, naming the run that got the 200
            assert row["result_status"] == "skipped"
            assert row["result_error_message"].endswith(" in run 1")

    # The ledger now knows every cancel: the next night sends nothing.
    before = len(sandbox.stats()["arrivals"])
    third = night()
    assert third.returncode == ExitStatus.SUCCESS, third.stderr
    assert {row["result_status"] for row in read_results(out)} == {"skipped"}
    assert len(sandbox.stats()["arrivals"]) == before


def test_a_full_results_disk_keeps_the_record_in_the_ledger_and_the_rerun_finishes(
    tmp_path: Path, tiny_disk: Path, start_sandbox: Callable[..., Sandbox]
) -> None:
    sandbox = start_sandbox()
    rows = [[f"ORD-{i:05d}", "WH-1", "x" * 45] for i in range(ROWS)]  # wide rows fill it sooner
    source = write_csv(tmp_path / "night.csv", ORDERS_HEADER, rows)
    out = tiny_disk / "night.results.csv"
    night = same_command(sandbox, source, out, tmp_path / "state.db")

    first = night()
    assert (
        f"batch-cancel: error: cannot record results: cannot write {out}: "
        "No space left on device\n" in first.stderr
    )
    assert first.returncode == ExitStatus.RECORDING_FAILED
    ok = answered(sandbox, 200)
    assert 0 < len(ok) < ROWS

    # The README's recovery: free space under the results, run the same command.
    resize(tiny_disk, "16m")
    second = night()
    assert second.returncode == ExitStatus.SUCCESS, second.stderr
    assert set(sandbox.stats()["cancel_calls"].values()) == {1}
    statuses = Counter(row["result_status"] for row in read_results(out))
    assert statuses == Counter({"skipped": len(ok), "cancelled": ROWS - len(ok)})


def stopped_by_a_full_ledger(
    sandbox: Sandbox, tmp_path: Path, tiny_disk: Path
) -> tuple[Path, Path]:
    """Night n1.csv, its ledger on a disk that fills mid-run (exit 6): (ledger, results)."""
    resize(tiny_disk, "256k")
    state, out = tiny_disk / "state.db", tmp_path / "n1.results.csv"
    first = same_command(sandbox, orders_csv(tmp_path / "n1.csv", ROWS), out, state)()
    assert first.returncode == ExitStatus.RECORDING_FAILED, first.stderr
    assert 0 < len(answered(sandbox, 200)) < ROWS
    return state, out


def test_after_a_full_ledger_disk_another_export_name_sends_no_200_twice(
    tmp_path: Path, tiny_disk: Path, start_sandbox: Callable[..., Sandbox]
) -> None:
    sandbox = start_sandbox()
    state, first_out = stopped_by_a_full_ledger(sandbox, tmp_path, tiny_disk)
    ok = answered(sandbox, 200)
    # The operator keeps the results under a name of their own (a hard link: the same
    # bytes), and the results file at the old name is gone.
    kept = tmp_path / "n1.20261207T023000Z.results.csv"
    kept.hardlink_to(first_out)
    first_out.unlink()

    # Space freed; the next night's export has another name and the same orders.
    resize(tiny_disk, "16m")
    out = tmp_path / "n2.results.csv"
    second = same_command(sandbox, orders_csv(tmp_path / "n2.csv", ROWS), out, state)()
    assert second.returncode == ExitStatus.SUCCESS, second.stderr
    assert f"could not record were read back from {kept}\n" in second.stderr
    calls = sandbox.stats()["cancel_calls"]
    assert {order: calls[order] for order in ok} == dict.fromkeys(ok, 1)
    statuses = Counter(row["result_status"] for row in read_results(out))
    assert statuses["skipped"] == len(ok)


def test_a_results_file_copied_to_another_inode_is_not_read_back_and_says_so(
    tmp_path: Path, tiny_disk: Path, start_sandbox: Callable[..., Sandbox]
) -> None:
    sandbox = start_sandbox()
    state, out = stopped_by_a_full_ledger(sandbox, tmp_path, tiny_disk)
    copy = tmp_path / "copy.csv"
    copy.write_bytes(out.read_bytes())
    out.unlink()
    copy.rename(out)  # the same bytes, another file: not what the run wrote

    resize(tiny_disk, "16m")
    ok = answered(sandbox, 200)
    second = same_command(sandbox, tmp_path / "n1.csv", out, state)()
    # Not read back from the file: its orders are asked of Shipper instead (issue 24),
    # which shows them cancelled, so none is sent twice.
    assert second.returncode == ExitStatus.SUCCESS, second.stderr
    assert (
        f" WARNING run 1's results for {out} were not found as that run wrote "
        "them (moved to another filesystem, or removed): the answers the ledger could not "
        "record are not read back from it; those orders are asked of Shipper before they "
        "are sent again\n" in second.stderr
    )
    assert "could not record were read back from" not in second.stderr
    calls = sandbox.stats()["cancel_calls"]
    assert {order: calls[order] for order in ok} == dict.fromkeys(ok, 1)
    assert sandbox.stats()["read_calls"]
