"""The input as lines: per-line encoding fallback, a file that changes while it is read,
a last line without a line break, a header repeated mid-file.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from batch_cancel import cli, inputfile
from batch_cancel.config import InputOptions
from batch_cancel.errors import InputFileChangedError, InputFileError
from batch_cancel.inputfile import Source, open_source
from batch_cancel.loader import OrdersFile
from batch_cancel.models import ExitStatus, LocalCode, Outcome

from .conftest import Sandbox
from .helpers import (
    CORPUS,
    SEND,
    assert_rows,
    cli_env,
    load_corpus,
    main_in_process,
    outcomes,
    read_results,
    use_cli_env,
    write_csv,
)

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


# --- the hostile-input corpus: encodings, line ends, files that are not CSV text -----------
# (tests/data/input, one habit of real exports a file: see make_corpus.py)


def test_utf8_with_bom_and_crlf() -> None:
    orders = load_corpus("utf8-bom-crlf.csv")
    assert orders.header == ["order_no", "warehouse_id", "cancel_reason"]  # no BOM in the name
    assert orders.notes == []
    assert_rows(
        orders,
        [
            (1, SEND, "ORD-001", "WH-TGR04", "Pembeli membatalkan pesanan"),
            (2, SEND, "ORD-002", "WH-TGR04", "Café tutup ☕"),
        ],
    )


def test_not_utf8_is_read_as_cp1252_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="batch_cancel"):
        orders = load_corpus("cp1252.csv")
    assert_rows(
        orders,
        [
            (1, SEND, "ORD-101", "WH-TGR04", "Cliente canceló “pedido”"),
            # 0x81 is undefined in cp1252: read as U+0081 and reported, never guessed.
            (2, "invalid", "control_characters", "order_no contains a control character (U+0081)"),
            (3, SEND, "ORD-103", "WH-TGR04", "Stok habis"),
        ],
    )
    [note] = orders.notes  # complete once the rows have been read
    assert note == (
        f"{CORPUS / 'cp1252.csv'}: 2 lines (2, 3) not valid UTF-8, read as Windows-1252 "
        "(cp1252): check accented letters in those rows, or pass --encoding"
    )
    assert note in caplog.text


def test_explicit_encoding_is_obeyed_strictly() -> None:
    with pytest.raises(
        InputFileError,
        match=r"cp1252.csv: not valid utf-8 at line 2 \(invalid continuation byte\); pass the "
        "file's real --encoding$",
    ):
        load_corpus("cp1252.csv", encoding="utf-8")
    with pytest.raises(InputFileError, match="not valid cp1252 at line 3"):
        load_corpus("cp1252.csv", encoding="cp1252")  # 0x81: strict when the operator names it
    # latin-1 reads every byte, but its 0x93/0x94 are control characters, not quotes.
    latin1 = load_corpus("cp1252.csv", encoding="latin-1")
    assert latin1.notes == []
    assert [row[:3] for row in outcomes(latin1)] == [
        (1, "invalid", "control_characters"),
        (2, "invalid", "control_characters"),
        (3, SEND, "ORD-103"),
    ]


def test_unknown_encoding_name() -> None:
    with pytest.raises(InputFileError, match="unknown --encoding 'klingon'"):
        load_corpus("utf8-bom-crlf.csv", encoding="klingon")


def test_excel_unicode_text_is_utf16_le_tab_separated() -> None:
    orders = load_corpus("utf16le-excel.txt")
    assert (orders.encoding, orders.delimiter) == ("UTF-16", "\t")
    assert orders.header == ["order_no", "warehouse_id", "cancel_reason"]
    assert_rows(
        orders,
        [
            (1, SEND, "ORD-201", "WH-TGR04", "Pesanan dibatalkan, stok habis"),
            (2, SEND, "ORD-202", "WH-SBY02", "Désolé"),
        ],
    )


def test_utf16_big_endian_by_its_bom() -> None:
    assert_rows(load_corpus("utf16be.csv"), [(1, SEND, "ORD-211", "WH-TGR04", "Ünïcödé reason")])


def test_carriage_return_line_ends() -> None:
    assert_rows(
        load_corpus("cr-only.csv"),
        [(1, SEND, "ORD-311", "WH-TGR04", "r"), (2, SEND, "ORD-312", "WH-TGR04", "r")],
    )


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.csv", "file is empty (no header line)"),
        ("binary.csv", "binary data (NUL bytes), not CSV text"),
        ("workbook.csv", "this is an Excel workbook or another zip file, not CSV text; save it"),
    ],
)
def test_files_that_are_not_csv_text_are_refused(name: str, message: str) -> None:
    with pytest.raises(InputFileError) as caught:
        load_corpus(name)
    assert str(caught.value).startswith(f"{CORPUS / name}: {message}")
    assert "\n" not in str(caught.value)


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("order_no,warehouse_id,cancel_reason\n")
    real_open = Path.open

    def refuse(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self == path:
            raise PermissionError(13, "Permission denied")
        return real_open(self, *args, **kwargs)

    # Tests may run as root, for whom chmod 000 changes nothing.
    monkeypatch.setattr(Path, "open", refuse)
    with pytest.raises(InputFileError, match=r"orders.csv: cannot read \(Permission denied\)$"):
        OrdersFile(InputOptions(path=path))


def test_a_nul_byte_deep_in_a_text_file_only_spoils_its_row(tmp_path: Path) -> None:
    lines = [f"ORD-{n:05d},WH-TGR04,Cancelled from marketplace" for n in range(400)]
    lines[300] = "ORD-\x0000300,WH-TGR04,r"  # well past the first 8000 bytes
    path = tmp_path / "nul.csv"
    path.write_text("order_no,warehouse_id,cancel_reason\n" + "\n".join(lines) + "\n")
    seen = outcomes(OrdersFile(InputOptions(path=path)))
    assert len(seen) == 400
    assert seen[300][:3] == (301, "invalid", "control_characters")
    assert "U+0000" in seen[300][3]


# --- the same, through the CLI: exit statuses and one-line messages --------------------------


@pytest.mark.integration
def test_cp1252_fallback_is_in_the_log_the_summary_and_the_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    use_cli_env(monkeypatch, api_key=None)
    source = tmp_path / "erp.csv"
    shutil.copy(CORPUS / "cp1252.csv", source)
    done = main_in_process(
        capsys, "run", source, "--dry-run", "--summary-json", tmp_path / "s.json"
    )
    assert done.returncode == ExitStatus.ROWS_NEED_ATTENTION, done.stderr  # one invalid row
    note = f"{source}: 2 lines (2, 3) not valid UTF-8, read as Windows-1252 (cp1252)"
    full_note = f"{note}: check accented letters in those rows, or pass --encoding"
    lines = done.stderr.splitlines()
    assert any("WARNING" in line and note in line for line in lines)
    assert any(line.startswith(f"  note: {note}") for line in lines)
    assert f"  note: {full_note}" in lines
    assert any(line.endswith(f" WARNING {full_note}") for line in lines)
    notes = json.loads((tmp_path / "s.json").read_text())["notes"]
    assert notes[0].startswith(note)
    assert notes == [full_note]
    rows = read_results(tmp_path / "erp.dry-run.csv")
    assert rows[0]["cancel_reason"] == "Cliente canceló “pedido”"


def copy_of(name: str) -> Callable[[Path], object]:
    return lambda directory: shutil.copy(CORPUS / name, directory / "in.csv")


@pytest.mark.integration
@pytest.mark.parametrize(
    ("make", "message", "rest"),
    [
        (copy_of("empty.csv"), "file is empty (no header", "file is empty (no header line)"),
        (
            copy_of("binary.csv"),
            "binary data (NUL bytes)",
            "binary data (NUL bytes), not CSV text; if it is UTF-16 without a byte order mark, "
            "pass --encoding utf-16-le",
        ),
        (
            copy_of("workbook.csv"),
            "an Excel workbook",
            "this is an Excel workbook or another zip file, not CSV text; save it from the "
            "spreadsheet as 'CSV UTF-8'",
        ),
        (lambda d: (d / "in.csv").mkdir(), "not a regular file", "not a regular file"),
        (lambda d: None, "no such file", "no such file"),
    ],
    ids=["empty", "binary", "workbook", "a directory", "missing"],
)
def test_unusable_files_exit_2_with_one_line(
    tmp_path: Path,
    make: Callable[[Path], object],
    message: str,
    rest: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_cli_env(monkeypatch, api_key=None)
    make(tmp_path)
    done = main_in_process(capsys, "run", tmp_path / "in.csv", "--dry-run")
    assert done.returncode == ExitStatus.USAGE_OR_INPUT
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"batch-cancel: input error: {tmp_path / 'in.csv'}: ")
    assert message in line
    assert done.stderr == f"batch-cancel: input error: {tmp_path / 'in.csv'}: {rest}\n"
    assert not list(tmp_path.glob("*.results.csv"))


def test_unreadable_file_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_csv(tmp_path / "in.csv", ["order_no"], [["A"]])
    source.chmod(0)
    if os.geteuid() == 0:
        # root reads any file: make the open fail the way it fails for everyone else.
        real_open = Path.open

        def open_as_user(self: Path, *args: Any, **kwargs: Any) -> Any:
            if self == source:
                raise PermissionError(errno.EACCES, "Permission denied", str(self))
            return real_open(self, *args, **kwargs)

        monkeypatch.setattr(Path, "open", open_as_user)
    for name, value in cli_env(api_key=None).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SHIPPER_API_KEY", raising=False)
    assert cli.main(["run", str(source), "--dry-run"]) == ExitStatus.USAGE_OR_INPUT
    assert (
        capsys.readouterr().err.strip()
        == f"batch-cancel: input error: {source}: cannot read (Permission denied)"
    )
