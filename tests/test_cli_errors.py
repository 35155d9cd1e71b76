"""Every error path of every command, in-process: the exit status and the one stderr line.

Each case builds what it needs under tmp_path, calls `cli.main`, and asserts the
exact ExitStatus and the exact `batch-cancel: <label><message>` line. Nothing is
sent: every case fails before the first request, and `_send_all` is replaced by
a function that fails the test should a case ever get that far.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from batch_cancel import cli, job
from batch_cancel.ledger import Ledger
from batch_cancel.models import ExitStatus

from .helpers import API_KEY, DATA, ORDERS_HEADER, orders_csv, write_csv

EVERY_STATUS = DATA / "results-every-status.csv"
BASE_URL = "http://127.0.0.1:9"  # discard port: nothing is sent, and nothing would answer
KEY = {"SHIPPER_API_KEY": API_KEY}
LIVE = {**KEY, "SHIPPER_BASE_URL": BASE_URL}
STATUSES = "cancelled, rejected, failed, in_doubt, invalid, duplicate, skipped, not_sent"
FIX_MAP = "Use --map FIELD=HEADER to map a column, or --warehouse-id / --cancel-reason"
LOCK_HOLDER = {"pid": 4242, "started_at": "2026-11-26T23:00:00Z"}

Setup = Callable[[Path], object]


# --- what a case prepares under tmp_path ------------------------------------------------


def file(name: str, content: bytes | str, mode: int | None = None) -> Setup:
    def make(tmp: Path) -> None:
        path = tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8", newline="")
        else:
            path.write_bytes(content)
        if mode is not None:
            path.chmod(mode)

    return make


def directory(name: str) -> Setup:
    return lambda tmp: (tmp / name).mkdir(parents=True)


def csv_file(name: str, header: list[str], rows: list[list[str]] | None = None) -> Setup:
    return lambda tmp: write_csv(tmp / name, header, rows or [["ORD-1", "WH-1", "r"]])


def ledger(name: str = "state/ledger.sqlite3") -> Setup:
    def make(tmp: Path) -> None:
        Ledger(tmp / name).close()

    return make


def ledger_of_schema(version: int, name: str = "state/ledger.sqlite3") -> Setup:
    def make(tmp: Path) -> None:
        (tmp / name).parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(tmp / name) as db:
            db.execute(f"PRAGMA user_version={version}")

    return make


def held_lock(name: str) -> Setup:
    """Another run's lock: a lock file with its holder's text, flock'ed until the test ends."""

    def make(tmp: Path) -> int:
        path = tmp / name
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        os.write(fd, json.dumps(LOCK_HOLDER).encode())
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return fd  # the fixture closes it

    return make


@dataclass(frozen=True)
class Case:
    """argv and message may name {tmp} (the test's tmp_path) and {data} (tests/data);
    argv may start with {cmd}, for the tables run under several commands."""

    argv: tuple[str, ...]
    status: ExitStatus
    message: str  # the whole stderr line, without its line break
    setup: tuple[Setup, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)


def case(
    id: str,
    argv: str | list[str],
    status: ExitStatus,
    message: str,
    *setup: Setup,
    env: Mapping[str, str] | None = None,
) -> object:
    words = argv.split() if isinstance(argv, str) else argv
    return pytest.param(Case(tuple(words), status, message, setup, env or {}), id=id)


USAGE = ExitStatus.USAGE_OR_INPUT
ERROR = "batch-cancel: error: "
INPUT = "batch-cancel: input error: "
RUN = "run {tmp}/orders.csv"  # every tmp_path starts with a valid orders.csv (the fixture)
DRY = f"{RUN} --dry-run"

# --- run: the key, the base URL and the numbers (send_options_from_env) ----------------

SEND_CASES = [
    case(
        "no-api-key",
        RUN,
        USAGE,
        f"{ERROR}SHIPPER_API_KEY is not set: export the Shipper API key in it, "
        "or pass --api-key-file",
    ),
    case(
        "blank-api-key",
        RUN,
        USAGE,
        f"{ERROR}SHIPPER_API_KEY is not set: export the Shipper API key in it, "
        "or pass --api-key-file",
        env={"SHIPPER_API_KEY": "   "},
    ),
    case(
        "api-key-with-space",
        RUN,
        USAGE,
        f"{ERROR}SHIPPER_API_KEY: the key must be one line of printable ASCII without spaces "
        "(the key itself, nothing else)",
        env={"SHIPPER_API_KEY": "abc def"},
    ),
    case(
        "api-key-with-line-break",
        RUN,
        USAGE,
        f"{ERROR}SHIPPER_API_KEY: the key must be one line of printable ASCII without spaces "
        "(the key itself, nothing else)",
        env={"SHIPPER_API_KEY": "abc\ndef"},
    ),
    case(
        "api-key-file-missing",
        f"{RUN} --api-key-file {{tmp}}/key",
        USAGE,
        f"{ERROR}--api-key-file: no such file (the value is not shown: it must be the path "
        "of the file that holds the key, never the key itself)",
    ),
    case(
        "api-key-file-group-readable",
        f"{RUN} --api-key-file {{tmp}}/key",
        USAGE,
        f"{ERROR}--api-key-file {{tmp}}/key: other users may read or change it (mode 640); "
        "refusing to use it: run chmod 600 {tmp}/key",
        file("key", API_KEY, mode=0o640),
    ),
    case(
        "api-key-file-empty",
        f"{RUN} --api-key-file {{tmp}}/key",
        USAGE,
        f"{ERROR}--api-key-file {{tmp}}/key: the file is empty",
        file("key", "\n", mode=0o600),
    ),
    case(
        "api-key-file-too-big",
        f"{RUN} --api-key-file {{tmp}}/key",
        USAGE,
        f"{ERROR}--api-key-file {{tmp}}/key: larger than 4096 bytes; not a key file",
        file("key", "k" * 4097, mode=0o600),
    ),
    case(
        "api-key-file-env-file",
        f"{RUN} --api-key-file {{tmp}}/key",
        USAGE,
        f"{ERROR}--api-key-file {{tmp}}/key: the key must be one line of printable ASCII "
        "without spaces (the key itself, nothing else)",
        file("key", f"export SHIPPER_API_KEY={API_KEY}\n", mode=0o600),
    ),
    case(
        "api-key-file-binary",
        f"{RUN} --api-key-file {{tmp}}/key",
        USAGE,
        f"{ERROR}--api-key-file {{tmp}}/key: the key must be one line of printable ASCII "
        "without spaces (the key itself, nothing else)",
        file("key", b"\xff\xfek\x00e\x00y\x00", mode=0o600),
    ),
    case(
        "api-key-file-directory",
        f"{RUN} --api-key-file {{tmp}}/keys",
        USAGE,
        f"{ERROR}--api-key-file {{tmp}}/keys: not a regular file",
        directory("keys"),
    ),
    case(
        "api-key-file-device",
        f"{RUN} --api-key-file {os.devnull}",
        USAGE,
        f"{ERROR}--api-key-file {os.devnull}: not a regular file",
    ),
    case(
        "no-base-url",
        RUN,
        USAGE,
        f"{ERROR}no API base URL: pass --base-url or set SHIPPER_BASE_URL "
        "(Shipper does not publish one default host)",
        env=KEY,
    ),
    case(
        "base-url-user-password",
        f"{RUN} --base-url https://user:secret@api.example.com",
        USAGE,
        f"{ERROR}base URL must not carry a user name or password (host[:port] only; "
        "the key goes in SHIPPER_API_KEY or --api-key-file)",
        env=KEY,
    ),
    case(
        "base-url-query",
        f"{RUN} --base-url https://api.example.com/v3?debug=1",
        USAGE,
        f"{ERROR}base URL must not carry a query string or fragment",
        env=KEY,
    ),
    case(
        "base-url-fragment",
        f"{RUN} --base-url https://api.example.com/v3#top",
        USAGE,
        f"{ERROR}base URL must not carry a query string or fragment",
        env=KEY,
    ),
    case(
        "base-url-port-not-a-number",
        f"{RUN} --base-url https://api.example.com:443x",
        USAGE,
        f"{ERROR}base URL must have a numeric port, got 'https://api.example.com:443x'",
        env=KEY,
    ),
    case(
        "base-url-ftp",
        f"{RUN} --base-url ftp://api.example.com",
        USAGE,
        f"{ERROR}base URL must look like https://host[/prefix], got 'ftp://api.example.com'",
        env=KEY,
    ),
    case(
        "base-url-no-host",
        f"{RUN} --base-url https:///v3",
        USAGE,
        f"{ERROR}base URL must look like https://host[/prefix], got 'https:///v3'",
        env=KEY,
    ),
    case(
        "base-url-plain-http-not-loopback",
        f"{RUN} --base-url http://api.example.com",
        USAGE,
        f"{ERROR}refusing plain http to api.example.com: the API key would travel unencrypted "
        "(use https, or --allow-insecure-http if you really mean it)",
        env=KEY,
    ),
    case(
        "base-url-from-env-checked-too",
        RUN,
        USAGE,
        f"{ERROR}refusing plain http to api.example.com: the API key would travel unencrypted "
        "(use https, or --allow-insecure-http if you really mean it)",
        env={**KEY, "SHIPPER_BASE_URL": "http://api.example.com"},
    ),
    case(
        "rate-negative",
        f"{RUN} --rate -1",
        USAGE,
        f"{ERROR}--rate must be 0 (no limit), a number, or auto",
        env=LIVE,
    ),
    case(
        "rate-infinite",
        f"{RUN} --rate inf",
        USAGE,
        f"{ERROR}--rate must be 0 (no limit), a number, or auto",
        env=LIVE,
    ),
    case(
        "concurrency-0",
        f"{RUN} --concurrency 0",
        USAGE,
        f"{ERROR}--concurrency must be at least 1",
        env=LIVE,
    ),
    case(
        "timeout-0",
        f"{RUN} --timeout 0",
        USAGE,
        f"{ERROR}--timeout must be greater than 0",
        env=LIVE,
    ),
    case(
        "timeout-nan",
        f"{RUN} --timeout nan",
        USAGE,
        f"{ERROR}--timeout must be greater than 0",
        env=LIVE,
    ),
    case(
        "max-attempts-0",
        f"{RUN} --max-attempts 0",
        USAGE,
        f"{ERROR}--max-attempts must be at least 1",
        env=LIVE,
    ),
]

# --- run: its own limits, outputs, and the input options (a dry run checks them too) ----

RUN_OPTION_CASES = [
    case(
        "max-consecutive-failures-negative",
        f"{RUN} --max-consecutive-failures -1",
        USAGE,
        f"{ERROR}--max-consecutive-failures must be 0 (never) or more",
        env=LIVE,
    ),
    case(
        "down-after-negative",
        f"{RUN} --down-after -1",
        USAGE,
        f"{ERROR}--down-after must be 0 (never) or a number of seconds",
        env=LIVE,
    ),
    case(
        "down-after-negative-dry-run",
        f"{DRY} --down-after -1",
        USAGE,
        f"{ERROR}--down-after must be 0 (never) or a number of seconds",
    ),
    case(
        "progress-every-0",
        f"{RUN} --progress-every 0",
        USAGE,
        f"{ERROR}--progress-every must be a positive number of seconds",
        env=LIVE,
    ),
    case(
        "map-without-equals",
        [*RUN.split(), "--map", "order_no"],
        USAGE,
        f"{ERROR}--map expects FIELD=HEADER, got 'order_no'",
        env=LIVE,
    ),
    case(
        "map-without-header",
        [*RUN.split(), "--map", "order_no= "],
        USAGE,
        f"{ERROR}--map expects FIELD=HEADER, got 'order_no= '",
        env=LIVE,
    ),
    case(
        "map-unknown-field",
        [*RUN.split(), "--map", "order=No. Pesanan"],
        USAGE,
        f"{ERROR}--map: unknown field 'order'; fields are order_no, warehouse_id, cancel_reason",
        env=LIVE,
    ),
    case(
        "delimiter-two-characters",
        f"{RUN} --delimiter ;;",
        USAGE,
        f"{ERROR}--delimiter must be one ASCII character other than a quote or a line break "
        "(use '\\t' for tab)",
        env=LIVE,
    ),
    case(
        "delimiter-quote",
        [*RUN.split(), "--delimiter", '"'],
        USAGE,
        f"{ERROR}--delimiter must be one ASCII character other than a quote or a line break "
        "(use '\\t' for tab)",
        env=LIVE,
    ),
    case(
        "output-directory",
        f"{RUN} -o {{tmp}}/out",
        USAGE,
        f"{ERROR}-o {{tmp}}/out is a directory; name a file to write",
        directory("out"),
        env=LIVE,
    ),
    case(
        "output-is-the-input",
        f"{RUN} -o {{tmp}}/orders.csv",
        USAGE,
        f"{ERROR}-o {{tmp}}/orders.csv would overwrite the input {{tmp}}/orders.csv; "
        "name another file",
        env=LIVE,
    ),
    case(
        "output-under-a-file",
        f"{RUN} -o {{tmp}}/orders.csv/out.csv",
        USAGE,
        f"{ERROR}-o {{tmp}}/orders.csv/out.csv: cannot check it (Not a directory)",
        env=LIVE,
    ),
    case(
        "summary-json-directory",
        f"{RUN} --summary-json {{tmp}}/out",
        USAGE,
        f"{ERROR}--summary-json {{tmp}}/out is a directory; name a file to write",
        directory("out"),
        env=LIVE,
    ),
    case(
        "summary-json-is-the-results",
        f"{RUN} -o {{tmp}}/out.csv --summary-json {{tmp}}/out.csv",
        USAGE,
        f"{ERROR}--summary-json {{tmp}}/out.csv would overwrite the results file "
        "{tmp}/out.csv; name another file",
        file("out.csv", "old results\n"),
        env=LIVE,
    ),
    case(
        "dry-run-keeps-a-live-results-file-named-by-o",
        f"{DRY} -o {{tmp}}/night.csv",
        USAGE,
        f"{ERROR}a dry run does not replace {{tmp}}/night.csv, which may hold a live run's "
        "results; leave out -o (it writes orders.dry-run.csv) or name a new file",
        file("night.csv", "old results\n"),
    ),
    case(
        "only-on-an-orders-file",
        f"{RUN} --only failed",
        USAGE,
        f"{ERROR}--only needs a results CSV as input: {{tmp}}/orders.csv has no result_status "
        "column",
        env=LIVE,
    ),
    case(
        "only-on-a-damaged-results-file",
        "run {tmp}/night.results.csv -o {tmp}/again.csv --only failed",
        USAGE,
        f"{INPUT}{{tmp}}/night.results.csv: data row 2: result_status 'maybe' is not one of "
        f"{STATUSES}",
        csv_file(
            "night.results.csv",
            [*ORDERS_HEADER, "result_status"],
            [["A-1", "WH-1", "r", "failed"], ["A-2", "WH-1", "r", "maybe"]],
        ),
        env=LIVE,
    ),
    case(
        "results-file-locked",
        RUN,
        ExitStatus.LOCKED,
        "batch-cancel: another batch-cancel run holds the results file's lock "
        "{tmp}/.orders.results.csv.lock (pid 4242, started 2026-11-26T23:00:00Z); "
        "wait for it to finish, or stop it",
        held_lock(".orders.results.csv.lock"),
        env=LIVE,
    ),
    case(
        "state-locked",
        RUN,
        ExitStatus.LOCKED,
        "batch-cancel: another batch-cancel run holds the state lock "
        "{tmp}/state/ledger.sqlite3.lock (pid 4242, started 2026-11-26T23:00:00Z); "
        "wait for it to finish, or stop it",
        held_lock("state/ledger.sqlite3.lock"),
        env=LIVE,
    ),
    case(
        "ledger-is-a-directory",
        RUN,
        USAGE,
        f"{ERROR}cannot open the state database {{tmp}}/state/ledger.sqlite3: "
        "[Errno 21] Is a directory: '{tmp}/state/ledger.sqlite3'",
        directory("state/ledger.sqlite3"),
        env=LIVE,
    ),
    case(
        "ledger-not-a-database",
        RUN,
        USAGE,
        f"{ERROR}cannot open the state database {{tmp}}/state/ledger.sqlite3: "
        "file is not a database",
        file("state/ledger.sqlite3", "order_no,warehouse_id\n" * 200, mode=0o600),
        env=LIVE,
    ),
    case(
        "ledger-newer-schema",
        RUN,
        USAGE,
        f"{ERROR}{{tmp}}/state/ledger.sqlite3: state schema 99 is newer than this batch-cancel",
        ledger_of_schema(99),
        env=LIVE,
    ),
]

# --- run and validate: the input file (open_source, OrdersFile) ---------------------------
# "{cmd}" is filled in by the test with each command that reads an orders CSV.

INPUT_CASES = [
    case("input-missing", "{cmd} {tmp}/nope.csv", USAGE, f"{INPUT}{{tmp}}/nope.csv: no such file"),
    case(
        "input-directory",
        "{cmd} {tmp}/folder",
        USAGE,
        f"{INPUT}{{tmp}}/folder: not a regular file",
        directory("folder"),
    ),
    case(
        "input-named-pipe",
        "{cmd} {tmp}/pipe.csv",
        USAGE,
        f"{INPUT}{{tmp}}/pipe.csv: not a regular file",
        lambda tmp: os.mkfifo(tmp / "pipe.csv"),
    ),
    case(
        "input-empty",
        "{cmd} {tmp}/in.csv",
        USAGE,
        f"{INPUT}{{tmp}}/in.csv: file is empty (no header line)",
        file("in.csv", b""),
    ),
    case(
        "input-only-blank-lines",
        "{cmd} {tmp}/in.csv",
        USAGE,
        f"{INPUT}{{tmp}}/in.csv: file is empty (no header line)",
        file("in.csv", "\r\n \n\n"),
    ),
    case(
        "input-binary",
        "{cmd} {tmp}/in.csv",
        USAGE,
        f"{INPUT}{{tmp}}/in.csv: binary data (NUL bytes), not CSV text; if it is UTF-16 without "
        "a byte order mark, pass --encoding utf-16-le",
        file("in.csv", "order_no,warehouse_id\n".encode("utf-16-le")),
    ),
    case(
        "input-xlsx-renamed",
        "{cmd} {tmp}/in.csv",
        USAGE,
        f"{INPUT}{{tmp}}/in.csv: this is an Excel workbook or another zip file, not CSV text; "
        "save it from the spreadsheet as 'CSV UTF-8'",
        file("in.csv", b"PK\x03\x04\x14\x00\x06\x00\x08\x00[Content_Types].xml"),
    ),
    case(
        "input-xls-renamed",
        "{cmd} {tmp}/in.csv",
        USAGE,
        f"{INPUT}{{tmp}}/in.csv: this is an old Excel workbook (.xls), not CSV text; "
        "save it from the spreadsheet as 'CSV UTF-8'",
        file("in.csv", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)),
    ),
    case(
        "input-pdf",
        "{cmd} {tmp}/in.csv",
        USAGE,
        f"{INPUT}{{tmp}}/in.csv: this is a PDF, not CSV text; "
        "save it from the spreadsheet as 'CSV UTF-8'",
        file("in.csv", b"%PDF-1.7\n"),
    ),
    case(
        "input-gzip",
        "{cmd} {tmp}/in.csv",
        USAGE,
        f"{INPUT}{{tmp}}/in.csv: this is a gzip-compressed file, not CSV text; "
        "save it from the spreadsheet as 'CSV UTF-8'",
        file("in.csv", b"\x1f\x8b\x08\x00\x00\x00\x00\x00"),
    ),
    case(
        "input-png",
        "{cmd} {tmp}/in.csv",
        USAGE,
        f"{INPUT}{{tmp}}/in.csv: this is a PNG image, not CSV text; "
        "save it from the spreadsheet as 'CSV UTF-8'",
        file("in.csv", b"\x89PNG\r\n\x1a\n"),
    ),
    case(
        "input-first-line-blank",
        "{cmd} {tmp}/in.csv",
        USAGE,
        f"{INPUT}{{tmp}}/in.csv: the first line is blank; the header must be the first line",
        file("in.csv", "\norder_no,warehouse_id,cancel_reason\nA-1,WH-1,r\n"),
    ),
    case(
        "input-first-line-huge",
        "{cmd} {tmp}/in.csv",
        USAGE,
        f"{INPUT}{{tmp}}/in.csv: the first line is longer than 64 KiB; that is not a CSV header",
        file("in.csv", "order_no," + "x" * 70_000 + "\n"),
    ),
    case(
        "input-header-quote-never-closes",
        "{cmd} {tmp}/in.csv",
        USAGE,
        f"{INPUT}{{tmp}}/in.csv: a quote in the header line never closes",
        file("in.csv", '"order_no,warehouse_id,cancel_reason\nA-1,WH-1,r\n'),
    ),
    case(
        "input-header-quoted-line-break",
        "{cmd} {tmp}/in.csv",
        USAGE,
        f"{INPUT}{{tmp}}/in.csv: the header line has a quoted line break; "
        "put the header on one line",
        file("in.csv", '"order\nno",warehouse_id,cancel_reason\nA-1,WH-1,r\n'),
    ),
    case(
        "input-header-no-names",
        "{cmd} {tmp}/in.csv",
        USAGE,
        f"{INPUT}{{tmp}}/in.csv: the header line has no column names",
        file("in.csv", ",,\nA-1,WH-1,r\n"),
    ),
    case(
        "input-missing-column",
        "{cmd} {tmp}/in.csv",
        USAGE,
        f"{INPUT}{{tmp}}/in.csv: missing required column(s): cancel_reason; columns found: "
        f"'order_no', 'warehouse_id'. {FIX_MAP} to give a value for every row.",
        csv_file("in.csv", ["order_no", "warehouse_id"], [["A-1", "WH-1"]]),
    ),
    case(
        "input-missing-mapped-column",
        ["{cmd}", "{tmp}/in.csv", "--map", "order_no=No. Pesanan"],
        USAGE,
        f"{INPUT}{{tmp}}/in.csv: missing required column(s): order_no (mapped to 'No. Pesanan'); "
        f"columns found: 'order_no', 'warehouse_id', 'cancel_reason'. {FIX_MAP} to give a value "
        "for every row.",
        csv_file("in.csv", ORDERS_HEADER),
    ),
    case(
        "input-order-no-twice",
        "{cmd} {tmp}/in.csv",
        USAGE,
        f"{INPUT}{{tmp}}/in.csv: the column 'order_no' appears more than once (columns 1 and 4), "
        "so order_no is ambiguous; rename one, or --map order_no to another",
        csv_file("in.csv", [*ORDERS_HEADER, " ORDER_NO "], [["A-1", "WH-1", "r", "A-2"]]),
    ),
    case(
        "input-encoding-unknown",
        "{cmd} {tmp}/orders.csv --encoding klingon",
        USAGE,
        f"{INPUT}unknown --encoding 'klingon'",
    ),
    case(
        "input-not-in-the-encoding-named",
        "{cmd} {tmp}/in.csv --encoding utf-8",
        USAGE,
        f"{INPUT}{{tmp}}/in.csv: not valid utf-8 at line 3 (invalid continuation byte); "
        "pass the file's real --encoding",
        file("in.csv", b"order_no,warehouse_id,cancel_reason\nA-1,WH-1,r\nA-2,WH-1,caf\xe9\n"),
    ),
    case(
        "input-utf16-bom-damaged",
        "{cmd} {tmp}/in.csv -q",  # -q: no INFO line naming the byte order mark
        USAGE,
        f"{INPUT}{{tmp}}/in.csv: not valid UTF-16 at line 2 (illegal encoding); "
        "pass the file's real --encoding",
        file(
            "in.csv",
            "order_no,warehouse_id,cancel_reason\nA-1,".encode("utf-16")
            + b"\x00\xdc"  # a lone low surrogate
            + "\n".encode("utf-16-le"),
        ),
    ),
]

# --- history: the ledger (cli._cmd_history) ---------------------------------------------

HISTORY_CASES = [
    case(
        "history-no-ledger",
        "history A-1",
        ExitStatus.NOT_FOUND,
        "batch-cancel: no ledger at {tmp}/state/ledger.sqlite3 yet",
    ),
    case(
        "history-no-ledger-at-state",
        "history A-1 --state {tmp}/other.sqlite3",
        ExitStatus.NOT_FOUND,
        "batch-cancel: no ledger at {tmp}/other.sqlite3 yet",
        ledger(),
    ),
    case(
        "history-unknown-order",
        "history A-1",
        ExitStatus.NOT_FOUND,
        "batch-cancel: no record of order A-1 in {tmp}/state/ledger.sqlite3",
        ledger(),
    ),
    case(
        "history-unknown-order-on-warehouse",
        "history A-1 --warehouse-id WH-1",
        ExitStatus.NOT_FOUND,
        "batch-cancel: no record of order A-1 on WH-1 in {tmp}/state/ledger.sqlite3",
        ledger(),
    ),
    # Questionable: SQLite's "disk I/O error" for a directory is no help to the operator.
    case(
        "history-ledger-is-a-directory",
        "history A-1",
        USAGE,
        f"{ERROR}cannot open the state database {{tmp}}/state/ledger.sqlite3: disk I/O error",
        directory("state/ledger.sqlite3"),
    ),
]

# --- summarize and report: results files (ResultsFile, output_target) -------------------
# "{cmd}" is filled in with summarize and with report.

REVIEW_CASES = [
    case(
        "results-missing",
        "{cmd} {tmp}/nope.csv",
        USAGE,
        f"{INPUT}{{tmp}}/nope.csv: no such file",
    ),
    case(
        "results-directory",
        "{cmd} {tmp}/folder",
        USAGE,
        f"{INPUT}{{tmp}}/folder: cannot read (Is a directory)",
        directory("folder"),
    ),
    case(
        "results-empty",
        "{cmd} {tmp}/r.csv",
        USAGE,
        f"{INPUT}{{tmp}}/r.csv: file is empty (no header line)",
        file("r.csv", ""),
    ),
    case(
        "results-not-a-results-file",
        "{cmd} {tmp}/orders.csv",
        USAGE,
        f"{INPUT}{{tmp}}/orders.csv: not a results file (no result_status column); columns "
        "found: 'order_no', 'warehouse_id', 'cancel_reason'",
    ),
    case(
        "results-second-file-not-results",
        "{cmd} {data}/results-every-status.csv {tmp}/orders.csv",
        USAGE,
        f"{INPUT}{{tmp}}/orders.csv: not a results file (no result_status column); columns "
        "found: 'order_no', 'warehouse_id', 'cancel_reason'",
    ),
    case(
        "results-unknown-status",
        "{cmd} {tmp}/r.csv",
        USAGE,
        f"{INPUT}{{tmp}}/r.csv: data row 2: result_status 'maybe' is not one of {STATUSES}",
        csv_file("r.csv", ["order_no", "result_status"], [["A-1", "failed"], ["A-2", "maybe"]]),
    ),
    case(
        "results-number-not-a-number",
        "{cmd} {tmp}/r.csv",
        USAGE,
        f"{INPUT}{{tmp}}/r.csv: data row 1: result_http_status 'OK' is not a whole number",
        csv_file(
            "r.csv", ["order_no", "result_status", "result_http_status"], [["A-1", "failed", "OK"]]
        ),
    ),
    case(
        "results-not-utf8",
        "{cmd} {tmp}/r.csv",
        USAGE,
        f"{INPUT}{{tmp}}/r.csv: not valid utf-8-sig (invalid continuation byte); "
        "try --encoding cp1252",
        file("r.csv", b"order_no,result_status,reason\nA-1,failed,caf\xe9\n"),
    ),
    case(
        "results-encoding-unknown",
        "{cmd} {data}/results-every-status.csv --encoding klingon",
        USAGE,
        f"{INPUT}unknown --encoding 'klingon'",
    ),
    case(
        "results-map-without-equals",
        "{cmd} {data}/results-every-status.csv --map order_no",
        USAGE,
        f"{ERROR}--map expects FIELD=HEADER, got 'order_no'",
    ),
    case(
        "results-map-unknown-field",
        "{cmd} {data}/results-every-status.csv --map sku=SKU",
        USAGE,
        f"{ERROR}--map: unknown field 'sku'; fields are order_no, warehouse_id, cancel_reason",
    ),
]

SUMMARIZE_CASES = [
    case(
        "needs-attention-is-the-input",
        "summarize {tmp}/r.csv --needs-attention {tmp}/r.csv",
        USAGE,
        f"{ERROR}--needs-attention {{tmp}}/r.csv would overwrite the input {{tmp}}/r.csv; "
        "name another file",
        file("r.csv", EVERY_STATUS.read_bytes()),
    ),
    case(
        "needs-attention-directory",
        "summarize {data}/results-every-status.csv --needs-attention {tmp}",
        USAGE,
        f"{ERROR}--needs-attention {{tmp}} is a directory; name a file to write",
    ),
]

REPORT_CASES = [
    case(
        "report-output-is-the-input",
        "report {tmp}/r.csv -o {tmp}/r.csv",
        USAGE,
        f"{ERROR}-o {{tmp}}/r.csv would overwrite the input {{tmp}}/r.csv; name another file",
        file("r.csv", EVERY_STATUS.read_bytes()),
    ),
    case(
        "report-output-directory",
        "report {data}/results-every-status.csv -o {tmp}",
        USAGE,
        f"{ERROR}-o {{tmp}} is a directory; name a file to write",
    ),
    case(
        "report-default-output-directory",
        "report {tmp}/r.csv",
        USAGE,
        f"{ERROR}-o {{tmp}}/r.html is a directory; name a file to write",
        file("r.csv", EVERY_STATUS.read_bytes()),
        directory("r.html"),
    ),
]

# --- sandbox: its configuration (SandboxConfig, load_order_book) ------------------------

SANDBOX_CASES = [
    case(
        "sandbox-orders-missing",
        "sandbox --orders {tmp}/book.csv",
        USAGE,
        f"{ERROR}sandbox: [Errno 2] No such file or directory: '{{tmp}}/book.csv'",
    ),
    case(
        "sandbox-orders-bad-header",
        "sandbox --orders {tmp}/book.csv",
        USAGE,
        f"{ERROR}sandbox: {{tmp}}/book.csv: header must be order_no,warehouse_id,state",
        csv_file("book.csv", ORDERS_HEADER),
    ),
    case(
        "sandbox-orders-unknown-state",
        "sandbox --orders {tmp}/book.csv",
        USAGE,
        f"{ERROR}sandbox: {{tmp}}/book.csv, line 2: unknown state 'lost' (expected one of "
        "CREATED, ALLOCATED, PICKED, PACKED, SHIPPED, CLOSED, CANCELLED, FAULTY)",
        csv_file("book.csv", ["order_no", "warehouse_id", "state"], [["A-1", "WH-1", "lost"]]),
    ),
    case(
        "sandbox-orders-blank-order",
        "sandbox --orders {tmp}/book.csv",
        USAGE,
        f"{ERROR}sandbox: {{tmp}}/book.csv, line 2: order_no and warehouse_id are required",
        csv_file("book.csv", ["order_no", "warehouse_id", "state"], [["", "WH-1", "CREATED"]]),
    ),
    case(
        "sandbox-orders-duplicate",
        "sandbox --orders {tmp}/book.csv",
        USAGE,
        f"{ERROR}sandbox: {{tmp}}/book.csv, line 3: duplicate order A-1 on WH-1",
        csv_file(
            "book.csv",
            ["order_no", "warehouse_id", "state"],
            [["A-1", "WH-1", "CREATED"], ["A-1", "WH-1", "PICKED"]],
        ),
    ),
    case(
        "sandbox-fail-rate-above-1",
        "sandbox --fail-rate 1.5",
        USAGE,
        f"{ERROR}sandbox: fail_rate must be between 0 and 1",
    ),
    case(
        "sandbox-drop-rate-negative",
        "sandbox --drop-rate -0.1",
        USAGE,
        f"{ERROR}sandbox: drop_rate must be between 0 and 1",
    ),
    case(
        "sandbox-latency-negative",
        "sandbox --latency-ms -1",
        USAGE,
        f"{ERROR}sandbox: latency_ms and retry_after_s must not be negative",
    ),
    case(
        "sandbox-retry-after-negative",
        "sandbox --retry-after -1",
        USAGE,
        f"{ERROR}sandbox: latency_ms and retry_after_s must not be negative",
    ),
    case(
        "sandbox-rate-limit-0",
        "sandbox --rate-limit 0",
        USAGE,
        f"{ERROR}sandbox: rate_limit must be positive, its start times 0 or more",
    ),
]

# --- argparse: usage errors are exit 2 with argparse's own message --------------------

USAGE_CASES = [
    pytest.param(
        [*RUN.split(), "--only", "failed,bogus"],
        f"batch-cancel run: error: argument --only: unknown status 'bogus'; statuses are "
        f"{STATUSES}",
        id="only-unknown-status",
    ),
    pytest.param(
        [*RUN.split(), "--only", ","],
        "batch-cancel run: error: argument --only: expects STATUS[,STATUS...]; statuses are "
        f"{STATUSES}",
        id="only-no-status",
    ),
    pytest.param(
        [*RUN.split(), "--rate", "fast"],
        "batch-cancel run: error: argument --rate: expects a number or auto, got 'fast'",
        id="rate-not-a-number",
    ),
    pytest.param(
        [*RUN.split(), "--log-format", "xml"],
        "batch-cancel run: error: argument --log-format: invalid choice: 'xml' "
        "(choose from 'text', 'json')",
        id="log-format-unknown",
    ),
    pytest.param(
        [],
        "batch-cancel: error: the following arguments are required: COMMAND",
        id="no-command",
    ),
    pytest.param(
        ["cancel"],
        "batch-cancel: error: argument COMMAND: invalid choice: 'cancel' "
        "(choose from 'run', 'config', 'history', 'validate', 'summarize', 'report', "
        "'check', 'sandbox', 'demo', 'notify')",
        id="unknown-command",
    ),
]


# --- the tests ----------------------------------------------------------------------------


@pytest.fixture
def tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A tmp_path with a valid orders.csv, an environment of its own, and nothing sent."""
    for name in ("SHIPPER_API_KEY", "SHIPPER_BASE_URL", "BATCH_CANCEL_STATE", "XDG_STATE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BATCH_CANCEL_STATE", str(tmp_path / "state" / "ledger.sqlite3"))

    def no_sending(*args: object, **kwargs: object) -> object:
        pytest.fail("a case that must fail before sending reached the sender")

    monkeypatch.setattr(job, "_send_all", no_sending)
    orders_csv(tmp_path / "orders.csv", 3)
    # main() points the root logger at this test's stderr: put it back afterwards.
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    try:
        yield tmp_path
    finally:
        root.handlers[:], root.level = saved


def fill(text: str, tmp: Path, cmd: str = "") -> str:
    return text.replace("{tmp}", str(tmp)).replace("{data}", str(DATA)).replace("{cmd}", cmd)


def check(
    the_case: Case,
    tmp: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    held_fds: list[int],
    cmd: str = "",
) -> None:
    for name, value in the_case.env.items():
        monkeypatch.setenv(name, value)
    for make in the_case.setup:
        made = make(tmp)
        if isinstance(made, int):
            held_fds.append(made)
    capsys.readouterr()
    status = cli.main([fill(word, tmp, cmd) for word in the_case.argv])
    err = capsys.readouterr().err
    assert (status, err) == (the_case.status, fill(the_case.message, tmp) + "\n")
    assert type(status) is ExitStatus


@pytest.mark.parametrize(
    "the_case",
    SEND_CASES + RUN_OPTION_CASES + HISTORY_CASES + SUMMARIZE_CASES + REPORT_CASES + SANDBOX_CASES,
)
def test_error(
    the_case: Case,
    tmp: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    held_fds: list[int],
) -> None:
    check(the_case, tmp, monkeypatch, capsys, held_fds)


@pytest.mark.parametrize("cmd", ["run", "validate"])
@pytest.mark.parametrize("the_case", INPUT_CASES)
def test_input_file_error(
    the_case: Case,
    cmd: str,
    tmp: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    held_fds: list[int],
) -> None:
    if cmd == "run":
        monkeypatch.setenv("SHIPPER_API_KEY", API_KEY)
        monkeypatch.setenv("SHIPPER_BASE_URL", BASE_URL)
    check(the_case, tmp, monkeypatch, capsys, held_fds, cmd)


@pytest.mark.parametrize("cmd", ["summarize", "report"])
@pytest.mark.parametrize("the_case", REVIEW_CASES)
def test_results_file_error(
    the_case: Case,
    cmd: str,
    tmp: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    held_fds: list[int],
) -> None:
    check(the_case, tmp, monkeypatch, capsys, held_fds, cmd)


@pytest.mark.parametrize(("argv", "message"), USAGE_CASES)
def test_usage_error(
    argv: list[str], message: str, tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # main returns argparse's status (parse_args sits inside its handler), never SystemExit.
    assert cli.main([fill(word, tmp) for word in argv]) == ExitStatus.USAGE_OR_INPUT
    err = capsys.readouterr().err
    assert err.startswith("usage: batch-cancel ")
    assert err.splitlines()[-1] == message


@pytest.mark.parametrize(
    ("content", "why"),
    [
        pytest.param(
            "order_no,warehouse_id\n" * 200, "file is not a database", id="not-a-database"
        ),
        pytest.param(b"", None, id="empty-file"),
    ],
)
def test_history_on_a_file_that_is_not_a_ledger(
    content: str | bytes, why: str | None, tmp: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file("state/ledger.sqlite3", content)(tmp)
    assert cli.main(["history", "A-1"]) == ExitStatus.USAGE_OR_INPUT
    path = tmp / "state" / "ledger.sqlite3"
    expected = (
        f"cannot open the state database {path}: {why}"
        if why
        else f"{path} is not a batch-cancel ledger (schema 0, expected 4)"
    )
    assert capsys.readouterr().err == f"batch-cancel: error: {expected}\n"
