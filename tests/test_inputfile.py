"""The input as lines: per-line encoding fallback, a file that changes while it is read,
a last line without a line break, a header repeated mid-file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import pytest

from batch_cancel import cli, inputfile
from batch_cancel.config import InputOptions
from batch_cancel.errors import InputFileChangedError
from batch_cancel.inputfile import Source, open_source
from batch_cancel.loader import OrdersFile
from batch_cancel.models import ExitStatus, LocalCode, Outcome

from .conftest import Sandbox
from .helpers import cli_env, read_results

HEADER = b"order_no,warehouse_id,cancel_reason\n"


def load(path: Path) -> tuple[OrdersFile, list[tuple[int, str, str]]]:
    orders = OrdersFile(InputOptions(path=path))
    rows = [
        (
            row.source_row,
            row.request.order_no if row.request else "",
            row.verdict.error_code if row.verdict else "send",
        )
        for row in orders.rows()
    ]
    return orders, rows


# --- encoding, line by line -------------------------------------------------------------------


def test_one_cp1252_line_leaves_the_utf8_lines_alone(tmp_path: Path) -> None:
    path = tmp_path / "tokopedia.csv"
    path.write_bytes(
        HEADER
        + "TKP-ÖZ-009,WH-1,Stok habis\n".encode()
        + "TKP-010,WH-1,Cliente canceló\n".encode("cp1252")
        + "TKP-ÉTÉ-011,WH-1,r\n".encode()
    )
    orders, rows = load(path)
    assert rows == [(1, "TKP-ÖZ-009", "send"), (2, "TKP-010", "send"), (3, "TKP-ÉTÉ-011", "send")]
    assert orders.notes == [
        f"{path}: line 3 not valid UTF-8, read as Windows-1252 (cp1252): check accented "
        "letters in those rows, or pass --encoding"
    ]


def test_many_cp1252_lines_are_named_up_to_ten(tmp_path: Path) -> None:
    path = tmp_path / "erp.csv"
    lines = [f"A-{i},WH-1,canceló\n".encode("cp1252") for i in range(12)]
    path.write_bytes(HEADER + b"".join(lines))
    orders, rows = load(path)
    assert len(rows) == 12
    assert orders.notes[0].startswith(
        f"{path}: 12 lines (2, 3, 4, 5, 6, 7, 8, 9, 10, 11 and 2 more) not valid UTF-8"
    )


def test_lines_split_on_crlf_cr_and_lf_only(tmp_path: Path) -> None:
    path = tmp_path / "ends.csv"
    # \x0b, \x1c and U+2028 are line breaks to str.splitlines, ordinary text to CSV.
    path.write_bytes(b"h\r\na\rb\nc\x0bd\x1ce\xe2\x80\xa8f\r\n")
    assert list(open_source(path, None).lines()) == [
        "h\r\n",
        "a\r",
        "b\n",
        "c\x0bd\x1ce\u2028f\r\n",
    ]


# --- a file that changes while it is read ----------------------------------------------------


def change_on_check(
    monkeypatch: pytest.MonkeyPatch, path: Path, change: Callable[[Path], object], after: int = 80
) -> None:
    """Read in 40-byte blocks; change the file once a read has gone past byte `after`."""
    monkeypatch.setattr(inputfile, "READ_BLOCK_BYTES", 40)
    original = Source._check_unchanged
    changed = False

    def check(self: Source, handle: BinaryIO) -> None:
        nonlocal changed
        if not changed and handle.tell() > after:
            changed = True
            change(path)
        original(self, handle)  # type: ignore[arg-type]

    monkeypatch.setattr(Source, "_check_unchanged", check)


def export(path: Path, count: int) -> Path:
    rows = "".join(f"ORD-{i:04d},WH-1,Cancelled by buyer\n" for i in range(count))
    path.write_bytes(HEADER + rows.encode())
    return path


def append_late_row(path: Path) -> None:
    with path.open("ab") as handle:
        handle.write(b"ORD-LATE,WH-1,written after the read began\n")


def test_a_file_still_being_written_stops_the_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = export(tmp_path / "night.csv", 20)
    size = path.stat().st_size
    orders = OrdersFile(InputOptions(path=path))
    change_on_check(monkeypatch, path, append_late_row)
    seen = []
    with pytest.raises(InputFileChangedError) as raised:
        seen.extend(row.source_row for row in orders.rows())
    assert str(raised.value) == (
        f"{path}: the file changed while it was read ({size} bytes when opened, "
        f"{size + 43} now); no row read after the change was sent: run again once the "
        "file is complete"
    )
    assert seen == [1]  # row 1 ends at byte 69, in a block read before the change


def test_a_file_cut_while_it_is_read_stops_the_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = export(tmp_path / "night.csv", 20)
    orders = OrdersFile(InputOptions(path=path))
    change_on_check(monkeypatch, path, lambda p: p.write_bytes(p.read_bytes()[:200]))
    with pytest.raises(InputFileChangedError, match=r"bytes when opened, 200 now\)"):
        list(orders.rows())


def test_a_file_rewritten_in_place_stops_the_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = export(tmp_path / "night.csv", 20)
    orders = OrdersFile(InputOptions(path=path))

    def rewrite(p: Path) -> None:
        stat = p.stat()
        p.write_bytes(p.read_bytes().replace(b"ORD-0019", b"ORD-9999"))
        inputfile.os.utime(p, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))

    change_on_check(monkeypatch, path, rewrite)
    with pytest.raises(InputFileChangedError, match=r"\(modified, same size\)"):
        list(orders.rows())


@pytest.mark.integration
def test_a_run_sends_nothing_read_after_the_change(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    start_sandbox: Callable[..., Sandbox],
    capsys: pytest.CaptureFixture[str],
) -> None:
    sandbox = start_sandbox()
    path = export(tmp_path / "night.csv", 20)
    for name, value in cli_env(state=tmp_path / "ledger.sqlite3").items():
        monkeypatch.setenv(name, value)
    # Rows 1-3 end at bytes 69, 102 and 135: in the blocks read before the change.
    change_on_check(monkeypatch, path, append_late_row, after=160)
    out = tmp_path / "results.csv"
    status = cli.main(["run", str(path), "--base-url", sandbox.url, "-o", str(out), "--rate", "0"])
    assert status == ExitStatus.USAGE_OR_INPUT
    [headline] = [line for line in capsys.readouterr().err.splitlines() if line.startswith("batch")]
    assert headline == (
        f"batch-cancel: input broke off, rows after the break were not read: {path}: the file "
        "changed while it was read (696 bytes when opened, 739 now); no row read after the "
        "change was sent: run again once the file is complete"
    )
    sent = sandbox.stats()["cancel_calls"]
    assert sorted(sent) == [f"ORD-{i:04d}|WH-1" for i in range(3)]
    assert [row["order_no"] for row in read_results(out)] == [f"ORD-{i:04d}" for i in range(3)]


# --- the last line, a repeated header ---------------------------------------------------------


def test_a_last_line_without_a_line_break_is_named(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "cut.csv"
    path.write_bytes(b"warehouse_id,cancel_reason,order_no\nWH-1,r,SHP-10023\nWH-1,r,SHP-100")
    with caplog.at_level(logging.WARNING):
        orders, rows = load(path)
    assert rows == [(1, "SHP-10023", "send"), (2, "SHP-100", "send")]
    note = (
        f"{path}: the last line (row 2, order_no 'SHP-100') has no line break; if the file "
        "was cut off while it was written, check that order number"
    )
    assert orders.notes == [note]
    assert note in caplog.text


def test_a_last_line_with_a_line_break_says_nothing(tmp_path: Path) -> None:
    orders, _ = load(export(tmp_path / "whole.csv", 2))
    assert orders.notes == []


def test_a_repeated_header_is_an_invalid_row(tmp_path: Path) -> None:
    path = tmp_path / "joined.csv"
    path.write_bytes(
        HEADER + b"A-1,WH-1,r\n" + b" Order_No ,warehouse_id,cancel_reason\n" + b"A-2,WH-1,r\n"
    )
    orders = OrdersFile(InputOptions(path=path))
    rows = list(orders.rows())
    assert [row.request.order_no if row.request else None for row in rows] == ["A-1", None, "A-2"]
    verdict = rows[1].verdict
    assert verdict is not None
    assert (verdict.status, verdict.error_code, verdict.error_message) == (
        Outcome.INVALID,
        LocalCode.REPEATED_HEADER,
        "this line repeats the header line (two exports joined into one file?); not sent",
    )


def test_a_repeated_mapped_header_is_caught_too(tmp_path: Path) -> None:
    path = tmp_path / "shopee.csv"
    path.write_bytes(b"No. Pesanan,WH,Alasan\nS-1,W,r\nNo. Pesanan,WH,Alasan\n")
    options = InputOptions(
        path=path,
        column_map={"order_no": "No. Pesanan", "warehouse_id": "WH", "cancel_reason": "Alasan"},
    )
    codes = [
        row.verdict.error_code if row.verdict else "send" for row in OrdersFile(options).rows()
    ]
    assert codes == ["send", LocalCode.REPEATED_HEADER]
