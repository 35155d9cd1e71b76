"""Command line: parse flags, wire logging and progress, map outcomes to an exit status.

No business rules live here; `main(argv)` returns an ExitStatus instead of
calling sys.exit deep inside, so tests can call it directly.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import os
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .config import (
    API_KEY_ENV,
    BASE_URL_ENV,
    DEFAULT_CONCURRENCY,
    DEFAULT_DOWN_AFTER_S,
    DEFAULT_KEEP_DAYS,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_MAX_CONSECUTIVE_FAILURES,
    DEFAULT_MAX_RATE,
    DEFAULT_PROGRESS_EVERY_S,
    DEFAULT_RATE,
    DEFAULT_TIMEOUT_S,
    STATE_ENV,
    InputOptions,
    api_settings,
    check_progress_every,
    default_state_path,
    health_policy,
    input_options,
    night_files,
    parse_column_map,
    send_options_from_env,
)
from .configfile import CONFIG_ENV
from .errors import BatchCancelError, ConfigError
from .models import ExitStatus, LoadedRow, Outcome, RowResult, needs_attention, utc_now
from .outputs import output_target, write_atomically
from .text import MIN_REDACTED_SECRET, redact

log = logging.getLogger("batch_cancel")

MAX_PROBLEMS_SHOWN = 20


def _add_input_options(parser: argparse.ArgumentParser, *, several: bool = False) -> None:
    if several:
        parser.add_argument(
            "input",
            type=Path,
            nargs="*",
            metavar="INPUT",
            help="orders files to read (.csv, .xlsx); none: every file of the config's sources",
        )
    else:
        parser.add_argument("input", type=Path, metavar="INPUT", help="orders file to read")
    parser.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="FIELD=HEADER",
        help='read FIELD from the column HEADER, e.g. --map order_no="No. Pesanan" (repeatable)',
    )
    parser.add_argument(
        "--warehouse-id", help="warehouse id for rows whose column is absent or blank"
    )
    parser.add_argument(
        "--cancel-reason", help="cancel reason for rows whose column is absent or blank"
    )
    parser.add_argument(
        "--delimiter", help="field delimiter (default: detected from the header: , ; tab |)"
    )
    parser.add_argument(
        "--encoding",
        help="file encoding, e.g. cp1252 (default: UTF-8 with or without BOM, UTF-16 by its BOM; "
        "a file that is not UTF-8 is read as cp1252 with a warning)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and the summary")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")


EXIT_STATUSES = """\
exit status:
  0    every row cancelled, skipped (cancelled before) or a duplicate
  1    finished, but some rows need attention (invalid, rejected, failed, not_sent)
  2    usage, configuration or unreadable input; nothing sent (or the disk filled)
  3    the API refused the key, looked down, or failed TLS; the rest not sent
  4    another run holds the ledger or the same results file; nothing done
  5    history: no record of that order
  120  stdout/stderr could not be written at exit
  129, 130, 143  stopped by SIGHUP, SIGINT, SIGTERM: in-flight requests finished"""


class _HelpFormatter(argparse.HelpFormatter):
    """Every option shows its default, unless it has none or its help already says it;
    prose paragraphs are wrapped, indented ones (the exit-status table) kept as written."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        silent = (
            default is None or default is False or default == [] or default == argparse.SUPPRESS
        )
        if "default" not in text and not silent and action.option_strings:
            text += " (default: %(default)s)"
        return text

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return "\n\n".join(
            paragraph
            if paragraph.startswith("exit status:")
            else super(_HelpFormatter, self)._fill_text(paragraph, width, indent)
            for paragraph in text.split("\n\n")
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="batch-cancel",
        description="Cancel Shipper B2C sales orders in bulk from marketplace exports "
        "(CSV or .xlsx), rate-limited, with a results CSV per input.",
        epilog=f"The API key is read from {API_KEY_ENV} (or --api-key-file); the base URL "
        f"from --base-url, {BASE_URL_ENV} or the config file. `batch-cancel COMMAND --help` "
        f"says more.\n\n{EXIT_STATUSES}",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"batch-cancel {__version__}")
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_Parser
    )

    run = commands.add_parser(
        "run",
        help="cancel every order of the night's exports, write a results CSV per input",
        description="Read the exports (the INPUT files, or every file of the config's "
        "sources), validate every row, send the cancels rate-limited and write each input's "
        "results CSV beside it. Re-running is safe: orders the ledger knows are cancelled "
        "are skipped.",
        epilog=EXIT_STATUSES,
    )
    _add_input_options(run, several=True)
    _add_config_option(run)
    run.add_argument(
        "--source",
        action="append",
        default=[],
        metavar="NAME",
        help="only this [sources.NAME] of the config (repeatable); with INPUT files: read "
        "them with this source's layout",
    )
    run.add_argument("-o", "--output", type=Path, help="results CSV (default: INPUT.results.csv)")
    run.add_argument("--base-url", help=f"API base URL (default: ${BASE_URL_ENV})")
    run.add_argument(
        "--rate",
        type=_rate_arg,
        default=None,  # DEFAULT_RATE, unless the config file sets it
        metavar="N|auto",
        help="most requests started in any one-second window, retries included; 0 = no limit; "
        "auto = find the API's pace (up to --max-rate, starting where the last night ended) "
        f"(default: {DEFAULT_RATE:g})",
    )
    run.add_argument(
        "--max-rate",
        type=float,
        default=None,  # DEFAULT_MAX_RATE, unless the config file sets it
        metavar="N",
        help=f"with --rate auto: never more starts per second (default: {DEFAULT_MAX_RATE:g})",
    )
    run.add_argument(
        "--concurrency",
        type=int,
        default=None,  # DEFAULT_CONCURRENCY, unless the config file sets it
        help=f"most requests in flight (default: {DEFAULT_CONCURRENCY})",
    )
    run.add_argument(
        "--timeout",
        type=float,
        default=None,  # DEFAULT_TIMEOUT_S, unless the config file sets it
        metavar="SECONDS",
        help=f"per attempt (default: {DEFAULT_TIMEOUT_S:g})",
    )
    run.add_argument(
        "--max-attempts",
        type=int,
        default=None,  # DEFAULT_MAX_ATTEMPTS, unless the config file sets it
        help=f"tries per row for transient errors (default: {DEFAULT_MAX_ATTEMPTS})",
    )
    run.add_argument(
        "--allow-insecure-http",
        action="store_true",
        help="allow a plain-http base URL that is not loopback (the key travels unencrypted)",
    )
    run.add_argument(
        "--api-key-file",
        type=Path,
        metavar="PATH",
        help=f"read the API key from this file (mode 600) instead of ${API_KEY_ENV}",
    )
    run.add_argument(
        "--dry-run", action="store_true", help="read and validate, write results, send nothing"
    )
    run.add_argument(
        "--only",
        type=_statuses_arg,
        metavar="STATUS[,STATUS]",
        help="INPUT is a results CSV: re-send only the rows whose result_status is one of these "
        "(e.g. failed,not_sent); the other rows keep their old results and are not sent",
    )
    _add_state_option(run)
    run.add_argument(
        "--keep-days",
        type=float,
        default=None,  # DEFAULT_KEEP_DAYS, unless the config file sets it
        metavar="DAYS",
        help="the ledger forgets attempts and outcomes older than this at the end of a run, "
        "so the re-run skip is sure for that long; 0 = keep everything "
        f"(default: {DEFAULT_KEEP_DAYS:g})",
    )
    run.add_argument(
        "--no-state",
        action="store_true",
        help="keep no ledger: no re-run protection, no lock (benchmarks only; not for cron)",
    )
    run.add_argument(
        "--force-resend",
        action="store_true",
        help="send rows an earlier run already cancelled (default: report them skipped)",
    )
    run.add_argument(
        "--already-cancelled-code",
        action="append",
        default=[],
        metavar="CODE",
        help="API error code meaning 'order already cancelled'; such rows count as cancelled "
        "(repeatable; Shipper does not document it)",
    )
    run.add_argument(
        "--max-consecutive-failures",
        type=int,
        default=DEFAULT_MAX_CONSECUTIVE_FAILURES,
        metavar="N",
        help="stop for tonight after N transient failures in a row, 0 = never "
        f"(default: {DEFAULT_MAX_CONSECUTIVE_FAILURES})",
    )
    run.add_argument(
        "--down-after",
        type=float,
        default=DEFAULT_DOWN_AFTER_S,
        metavar="SECONDS",
        help="stop for tonight when nothing but transient failures came back for this long, "
        f"0 = never (default: {DEFAULT_DOWN_AFTER_S:g})",
    )
    run.add_argument(
        "--progress-every",
        type=float,
        default=DEFAULT_PROGRESS_EVERY_S,
        metavar="SECONDS",
        help="progress log line interval without a terminal "
        f"(default: {DEFAULT_PROGRESS_EVERY_S:g})",
    )
    run.add_argument(
        "--summary-json", type=Path, metavar="PATH", help="write a run summary as JSON"
    )
    run.add_argument(
        "--log-format", choices=("text", "json"), default="text", help="stderr log format"
    )

    config = commands.add_parser(
        "config",
        help="print the effective settings and where each comes from",
        description="Print the settings a run would use, each with its origin (flag, env, "
        "file or default), and the config file's sources with the files they match now. "
        "The key is never printed.",
    )
    _add_config_option(config)

    history = commands.add_parser(
        "history",
        help="what the ledger knows about an order",
        description="Print every attempt (when, which run, the answer) and every row outcome "
        "the ledger holds for ORDER_NO, oldest first. Exit 5 when it has none.",
    )
    history.add_argument("order_no", metavar="ORDER_NO", help="the order number, as sent")
    history.add_argument("--warehouse-id", help="only this warehouse")
    history.add_argument("--json", action="store_true", help="one JSON object per line")
    _add_state_option(history)

    validate = commands.add_parser(
        "validate",
        help="check an export, send nothing",
        description="Read INPUT as `run` would and name every problem by its order number and "
        "file line: rows that are invalid or duplicates, and values that will be shortened. "
        "Exit 1 when a row is invalid.",
    )
    _add_input_options(validate)
    _add_config_option(validate)
    validate.add_argument(
        "--source", metavar="NAME", help="read INPUT with this [sources.NAME] layout of the config"
    )
    validate.add_argument(
        "-o", "--output", type=Path, metavar="PATH", help="also write a results CSV (as a dry run)"
    )

    summarize = commands.add_parser(
        "summarize",
        help="what happened in results CSVs, and what needs a human",
        description="Count the rows of results CSVs by status, error code, warehouse and "
        "message, and say in one sentence why rows need attention. Several files (a night "
        "and its retries) count each order once. Exit 1 when rows need attention.",
    )
    _add_review_options(summarize)
    summarize.add_argument("--json", action="store_true", help="print JSON instead of text")
    summarize.add_argument(
        "--needs-attention",
        type=Path,
        metavar="PATH",
        help="write the rows that need a human or a re-run (rejected, failed, invalid, "
        "not_sent) to this CSV",
    )

    report = commands.add_parser(
        "report",
        help="write a self-contained HTML page of results CSVs",
        description="Write one HTML page (no external resources) with the summary and the rows "
        "that need attention, for the morning review. Exit 1 when rows need attention.",
    )
    _add_review_options(report)
    report.add_argument(
        "-o", "--output", type=Path, help="HTML file (default: RESULTS.html beside the first file)"
    )

    sandbox = commands.add_parser(
        "sandbox",
        help="run a local Shipper-compatible server",
        description="A local stand-in for Shipper's cancel endpoint, for trying batch-cancel "
        "without touching real orders. It accepts one key, `sandbox-key` unless --api-key "
        "says otherwise: export SHIPPER_API_KEY=sandbox-key and pass --base-url "
        "http://127.0.0.1:PORT to `run`.",
    )
    sandbox.add_argument("--host", default="127.0.0.1", help="address to listen on")
    sandbox.add_argument("--port", type=int, default=8787, help="0 picks a free port")
    sandbox.add_argument(
        "--api-key", default="sandbox-key", help="the key the sandbox accepts (not a secret)"
    )
    sandbox.add_argument(
        "--orders",
        type=Path,
        help="order book CSV (order_no,warehouse_id,state); without it every order exists",
    )
    sandbox.add_argument("--latency-ms", type=float, default=0.0, help="added to every answer")
    sandbox.add_argument("--fail-rate", type=float, default=0.0, help="share of 500/803 answers")
    sandbox.add_argument(
        "--rate-limit",
        metavar="RATE[,RATE@SECONDS...]",
        help="answer 429 above this many requests per second; a schedule such as 40,15@60 "
        "changes it over time (15/s from 60 s after the first request) (default: no limit)",
    )
    sandbox.add_argument(
        "--limit-kind",
        choices=("window", "bucket", "minute", "503", "queue"),  # sandbox.LimitKind
        default="window",
        help="how --rate-limit is enforced: window (429 above RATE in the trailing second), "
        "bucket (a token bucket of RATE a second and --burst), minute (60 x RATE a minute, "
        "429 with Retry-After to the next minute), 503 (like window, answering 503), "
        "queue (refuses nothing, serves RATE a second: the latency grows with the excess)",
    )
    sandbox.add_argument(
        "--burst", type=float, help="--limit-kind bucket: tokens saved up (default: RATE / 4)"
    )
    sandbox.add_argument("--retry-after", type=int, default=1, help="seconds, on 429 answers")
    sandbox.add_argument(
        "--drop-rate", type=float, default=0.0, help="share of dropped connections"
    )
    sandbox.add_argument(
        "--seed", type=int, help="for reproducible fault injection (default: a random one)"
    )

    commands.add_parser(
        "demo",
        help="run the main job end to end against a local sandbox (what `make demo` does)",
        description="Start a sandbox with the sample order book and run the real CLI on the "
        "samples: a wrong key, the nightly export, a marketplace export, a re-run, and the "
        "whole night from a config file. Results land in ./demo-out.",
    )
    return parser


class _Parser(argparse.ArgumentParser):
    """Sub-command parsers that show defaults (the top-level parser sets the class)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)


def _add_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        metavar="PATH",
        help=f"the night's config file (default: ${CONFIG_ENV}, else "
        "$XDG_CONFIG_HOME/batch-cancel/config.toml when it exists)",
    )


def _add_state_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--state",
        type=Path,
        metavar="PATH",
        help=f"ledger database (default: ${STATE_ENV}, else "
        "$XDG_STATE_HOME/batch-cancel/ledger.sqlite3)",
    )


def _add_review_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "results",
        nargs="+",
        type=Path,
        metavar="RESULTS.csv",
        help="results CSV(s) written by `run`; several are summarised together and per file",
    )
    parser.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="FIELD=HEADER",
        help="read order_no / warehouse_id from another column (repeatable)",
    )
    parser.add_argument("--encoding", default="utf-8-sig", help="file encoding (default: UTF-8)")


def _rate_arg(text: str) -> float | str:
    """argparse type for --rate: a number, or `auto`."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expects a number or auto, got {text!r}") from None


def _statuses_arg(text: str) -> frozenset[Outcome]:
    """argparse type for --only: a bad status is a usage error (exit 2) before anything runs."""
    from .results_file import parse_statuses

    try:
        return parse_statuses(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _input_options(args: argparse.Namespace, path: Path | None = None) -> InputOptions:
    return input_options(
        args.input if path is None else path,
        map_pairs=args.map,
        warehouse_id=args.warehouse_id,
        cancel_reason=args.cancel_reason,
        delimiter=args.delimiter,
        encoding=args.encoding,
    )


def _setup_logging(args: argparse.Namespace, secret: str | None = None) -> None:
    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    if getattr(args, "log_format", "text") == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(_TextFormatter("%(asctime)s %(levelname)s %(message)s"))
    # A key too short to be real (a sandbox's) would turn redaction into garbling.
    if secret and len(secret) >= MIN_REDACTED_SECRET:
        handler.addFilter(_RedactSecret(secret))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiohttp's own debug output could echo request headers; keep it out.
    logging.getLogger("aiohttp").setLevel(max(level, logging.INFO))


class _TextFormatter(logging.Formatter):
    """Timestamps with their UTC offset: a cron log read in another time zone stays clear."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        moment = datetime.fromtimestamp(record.created).astimezone()
        return moment.isoformat(sep=" ", timespec="milliseconds")


class _JsonFormatter(_TextFormatter):
    """One JSON object per line, for log shippers."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            # exc_text first: _RedactSecret may have left a redacted one there.
            entry["exception"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class _RedactSecret(logging.Filter):
    """Defence in depth: no code logs the key, and this makes sure no library does either."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self._secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if (redacted := redact(message, self._secret)) != message:
            record.msg, record.args = redacted, None
        # A traceback is text too (an exception message may quote a header): format it
        # now, redacted, and formatters print this cached text instead.
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self._secret)
        return True


class _Progress:
    """A tqdm bar on a terminal; otherwise (cron) a log line every `every_s` seconds.

    On a terminal, log lines print above the bar (tqdm's logging redirect, with the
    key-redacting filter carried over), and the bar's postfix counts each outcome
    so far, so a run that is only failing cannot look healthy.
    """

    POSTFIX_EVERY_ROWS = 25  # a new postfix string per row would cost more than the bar

    def __init__(self, scans: Sequence[InputScan], *, quiet: bool, every_s: float) -> None:
        self._scans = scans  # the total is known a moment after the start, once they are read
        self._counts: Counter[Outcome] = Counter()
        self._started = time.monotonic()
        self._last_line = self._started
        self._every_s = every_s
        self._quiet = quiet
        self._bar = None
        self._redirect = contextlib.ExitStack()
        self._pace: Callable[[], float | None] = lambda: None  # --rate auto's current pace
        if not quiet and sys.stderr.isatty():
            from tqdm import tqdm
            from tqdm.contrib.logging import logging_redirect_tqdm

            # A terminal that reports no size (some pseudo-terminals) would get an empty bar.
            sized = shutil.get_terminal_size((0, 0)).columns > 0
            self._bar = tqdm(
                total=None,
                unit="row",
                file=sys.stderr,
                dynamic_ncols=sized,
                ncols=None if sized else 100,
            )
            root = logging.getLogger()
            filters = [f for handler in root.handlers for f in handler.filters]
            self._redirect.enter_context(logging_redirect_tqdm())
            for handler in root.handlers:
                for kept in filters:
                    handler.addFilter(kept)

    def advance(self, row: LoadedRow, result: RowResult) -> None:
        self._counts[result.status] += 1
        if self._bar is not None:
            if self._bar.total is None and (total := self._total()) is not None:
                self._bar.total = total
            if self._counts.total() % self.POSTFIX_EVERY_ROWS == 1:
                self._bar.set_postfix_str(self.counts(), refresh=False)
            self._bar.update(1)
            return
        now = time.monotonic()
        if not self._quiet and now - self._last_line >= self._every_s:
            self._last_line = now
            log.info("progress: %s", self.line(now))

    def watch_pace(self, pace: Callable[[], float | None]) -> None:
        self._pace = pace

    def counts(self) -> str:
        return ", ".join(f"{outcome.value} {n}" for outcome, n in self._counts.most_common())

    def line(self, now: float) -> str:
        done = self._counts.total()
        rate = done / max(now - self._started, 1e-9)
        total = self._total()
        left = max(total - done, 0) if total is not None else 0
        eta = f", ETA {left / rate:.0f}s" if rate > 0 and left else ""
        of = f"/~{total}" if total is not None else ""
        pace = self._pace()
        paced = f", pace {pace:.1f}/s" if pace is not None else ""
        return f"{done}{of} rows, {rate:.1f} rows/s{eta}{paced} ({self.counts()})"

    def _total(self) -> int | None:
        estimates = [scan.rows_estimate for scan in self._scans]
        return None if None in estimates else sum(e for e in estimates if e is not None)

    def close(self) -> None:
        """The bar ends on the true counts: every row has an outcome, not_sent ones too."""
        if self._bar is not None:
            self._bar.total = self._bar.n
            self._bar.set_postfix_str(self.counts(), refresh=False)
            self._bar.refresh()
            self._bar.close()
        self._redirect.close()


if TYPE_CHECKING:
    from .configfile import ConfigFile
    from .job import InputScan, JobReport
    from .review import Review


def _cmd_validate(args: argparse.Namespace) -> ExitStatus:
    from .job import dry_run_result, refuse_to_replace_live_results
    from .loader import OrdersFile
    from .report import ResultsWriter

    _setup_logging(args)
    [night_file] = night_files(
        [args.input],
        sources=[args.source] if args.source else [],
        config=_config_file(args),
        flags=_input_options(args),
        output=None,
        dry_run=True,
    )
    output = None
    if args.output is not None:
        output = output_target(args.output, flag="-o", inputs=[night_file.input.path])
        refuse_to_replace_live_results(output, night_file.input.path)
    orders = OrdersFile(night_file.input)
    counts: Counter[Outcome] = Counter()
    shown = 0
    with contextlib.ExitStack() as stack:
        writer = stack.enter_context(ResultsWriter(output, orders.header)) if output else None
        for row in orders.rows():
            problem = (
                row.verdict.error_message
                if row.verdict
                else row.request.note
                if row.request
                else ""
            )
            status = row.verdict.status if row.verdict else Outcome.NOT_SENT  # valid: would be sent
            counts[status] += 1
            if writer is not None:
                writer.add(row, row.verdict or dry_run_result(row))
            if problem and shown < MAX_PROBLEMS_SHOWN:
                shown += 1
                order = orders.order_no_of(row)
                what = status.value if row.verdict else "note"
                print(
                    f"line {orders.line}, row {row.source_row} "
                    f"(order {order or '(blank)'}): {what}: {problem}",
                    file=sys.stderr,
                )
    problems = counts[Outcome.INVALID] + counts[Outcome.DUPLICATE]
    if problems > shown:
        print(f"... and more: {problems} row(s) with problems in all", file=sys.stderr)
    print(
        f"{orders.path}: {counts.total()} data row(s): {counts[Outcome.NOT_SENT]} valid, "
        f"{counts[Outcome.INVALID]} invalid, {counts[Outcome.DUPLICATE]} duplicate",
        file=sys.stderr,
    )
    if output is not None:
        print(f"  results: {output}", file=sys.stderr)
    for note in orders.notes:
        print(f"  note: {note}", file=sys.stderr)
    attention = needs_attention(counts, dry_run=True)
    return ExitStatus.ROWS_NEED_ATTENTION if attention else ExitStatus.SUCCESS


def _cmd_run(args: argparse.Namespace) -> ExitStatus:
    from .job import InputScan, JobOptions, format_summary, open_orders, run_job

    config = _config_file(args)
    # Configuration is checked before the input is read, so a missing key costs nothing.
    send_options = None
    if not args.dry_run:
        send_options = send_options_from_env(
            base_url_flag=args.base_url,
            rate=args.rate,
            concurrency=args.concurrency,
            timeout_s=args.timeout,
            max_attempts=args.max_attempts,
            max_rate=args.max_rate,
            allow_insecure_http=args.allow_insecure_http,
            api_key_file=args.api_key_file,
            config=config,
        )
    health = health_policy(
        max_consecutive_failures=args.max_consecutive_failures, down_after_s=args.down_after
    )
    check_progress_every(args.progress_every)
    _setup_logging(args, secret=send_options.api_key if send_options else None)
    files = night_files(
        args.input,
        sources=args.source,
        config=config,
        flags=_input_options(args, path=Path()),
        output=args.output,
        dry_run=args.dry_run,
    )
    if args.only and len(files) != 1:
        raise ConfigError("--only reads one results file; name it as the only INPUT")
    inputs = [night_file.input.path for night_file in files]
    files = [
        replace(night_file, output=output_target(night_file.output, flag="-o", inputs=inputs))
        for night_file in files
    ]
    if args.summary_json is not None:
        args.summary_json = output_target(
            args.summary_json,
            flag="--summary-json",
            inputs=[*inputs, *(night_file.output for night_file in files)],
        )
    if not files:
        if not args.quiet:
            print(
                "batch-cancel: nothing to do: no file matched the sources' globs", file=sys.stderr
            )
        return ExitStatus.SUCCESS
    state = api_settings(state=args.state, config=config)["state"].value
    options = JobOptions(
        files=tuple(files),
        send=send_options,
        state_path=None if args.no_state else state,
        force_resend=args.force_resend,
        already_cancelled_codes=frozenset(code.strip() for code in args.already_cancelled_code),
        resend_only=args.only or frozenset(),
        health=health,
        keep_days=_keep_days(args.keep_days, config),
    )
    orders = open_orders(options)
    scans = [InputScan(night_file.input.path) for night_file in files]
    progress = _Progress(scans, quiet=args.quiet, every_s=args.progress_every)
    try:
        report = run_job(
            options,
            orders,
            input_scans=scans,
            on_result=progress.advance,
            on_pace=progress.watch_pace,
        )
    finally:
        progress.close()
    notes = [note for opened in orders for note in opened.notes]
    # -q and a clean night: nothing at all, so cron mails only when someone must look.
    if not (args.quiet and report.exit_status == ExitStatus.SUCCESS and not notes):
        print(format_summary(report), file=sys.stderr)
        # What the loader had to say about a file as a whole (lines read as cp1252, no
        # data rows, ...): in the summary, so `-q` and cron mail show it too.
        for note in notes:
            print(f"  note: {note}", file=sys.stderr)
    if args.summary_json:
        _write_summary_json(args.summary_json, report, notes=notes)
    return report.exit_status


def _cmd_config(args: argparse.Namespace) -> ExitStatus:
    config = _config_file(args)
    print(f"config file: {config.path if config else '(none)'}")
    for name, setting in api_settings(config=config).items():
        value = setting.value
        if name == "api_key" and isinstance(value, Path):  # where the key comes from, never it
            value = f"read from {value}"
        elif name == "api_key":
            value = "(not set)" if setting.origin == "not set" else "(set, hidden)"
        print(f"{name} = {value}    # {setting.origin}")
    for source in config.sources.values() if config else ():
        files = source.paths()
        print(f"[sources.{source.name}] {', '.join(source.files)}: {len(files)} file(s) now")
        for path in files:
            print(f"    {path}")
    return ExitStatus.SUCCESS


def _keep_days(flag: float | None, config: ConfigFile | None) -> float:
    days = flag if flag is not None else config.keep_days if config else None
    days = DEFAULT_KEEP_DAYS if days is None else days
    if not (days >= 0 and math.isfinite(days)):
        raise ConfigError("--keep-days must be a number of days, 0 (keep everything) or more")
    return days


def _config_file(args: argparse.Namespace) -> ConfigFile | None:
    from .configfile import find_config, load_config

    path = find_config(getattr(args, "config", None))
    return load_config(path) if path is not None else None


def _write_summary_json(path: Path, report: JobReport, *, notes: Sequence[str] = ()) -> None:
    text = json.dumps(report.to_json(notes=notes), indent=2) + "\n"
    write_atomically(path, "utf-8", lambda handle: handle.write(text))


def _cmd_history(args: argparse.Namespace) -> ExitStatus:
    from .ledger import Ledger

    state_path = args.state or default_state_path()
    if not state_path.exists():
        print(f"batch-cancel: no ledger at {state_path} yet", file=sys.stderr)
        return ExitStatus.NOT_FOUND
    ledger = Ledger(state_path, read_only=True)
    try:
        entries = list(ledger.history(args.order_no, args.warehouse_id))
        kept_since = ledger.kept_since()
    finally:
        ledger.close()
    now = utc_now()  # the clock the cut was made by: a cut after it is a wrong clock's
    if kept_since is not None and kept_since > now:
        print(
            f"batch-cancel: the clock looks wrong: it says {now}, before the ledger's last cut"
            f" ({kept_since}); what was older than that cut is forgotten",
            file=sys.stderr,
        )
    elif kept_since is not None:  # what is older was forgotten (--keep-days)
        print(f"batch-cancel: the ledger remembers from {kept_since} on", file=sys.stderr)
    if not entries:
        where = f" on {args.warehouse_id}" if args.warehouse_id else ""
        print(
            f"batch-cancel: no record of order {args.order_no}{where} in {state_path}",
            file=sys.stderr,
        )
        return ExitStatus.NOT_FOUND
    for entry in entries:
        print(json.dumps(entry, ensure_ascii=False) if args.json else _history_line(entry))
    return ExitStatus.SUCCESS


def _history_line(entry: dict[str, object]) -> str:
    answer = (f"HTTP {entry['http_status']}" if entry["http_status"] else "no answer") + "".join(
        f" {entry[key]}" for key in ("error_code", "error_message") if entry[key]
    )
    if entry["kind"] == "attempt":
        what = f"attempt {entry['attempt']} sent -> {answer}"
    else:
        what = f"outcome {entry['status']} after {entry['attempt']} attempt(s): {answer}"
    return f"{entry['at']}  run {entry['run_id']}  {entry['warehouse_id']}  {what}"


def _read_review(
    args: argparse.Namespace, output: Path | None, *, flag: str
) -> tuple[Path | None, Review]:
    """The output checked (before anything is read), and the review of the results files."""
    from .review import review_files

    if output is not None:
        output = output_target(output, flag=flag, inputs=args.results)
    review = review_files(
        args.results, encoding=args.encoding, column_map=parse_column_map(args.map)
    )
    return output, review


def _review_status(review: Review) -> ExitStatus:
    """Same meaning as for `run`: 1 when any row needs a human or a re-run."""
    needs = review.total.needs_attention
    return ExitStatus.ROWS_NEED_ATTENTION if needs else ExitStatus.SUCCESS


def _cmd_summarize(args: argparse.Namespace) -> ExitStatus:
    from .review import format_text, write_needs_attention

    needs_attention, review = _read_review(args, args.needs_attention, flag="--needs-attention")
    if needs_attention is not None:
        written = write_needs_attention(review, needs_attention)
        print(
            f"batch-cancel: {written} row(s) needing attention written to {args.needs_attention}",
            file=sys.stderr,
        )
    _print_to_pipe(json.dumps(review.to_json(), indent=2) if args.json else format_text(review))
    return _review_status(review)


def _print_to_pipe(text: str) -> None:
    """Print to stdout, where `summarize ... | head` may stop reading early."""
    try:
        print(text, flush=True)  # flush here, so a closed pipe is seen inside the try
    except BrokenPipeError:
        # The reader has what it wanted. Point stdout at /dev/null so the flush at exit
        # does not fail again (Python's signal docs, "Note on SIGPIPE").
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _cmd_report(args: argparse.Namespace) -> ExitStatus:
    from .html_report import render_report
    from .review import default_report_path
    from .text import printable

    output, review = _read_review(
        args, args.output or default_report_path(args.results[0]), flag="-o"
    )
    assert output is not None
    page = render_report(review)
    write_atomically(output, "utf-8", lambda handle: handle.write(page))
    print(f"batch-cancel: report written to {output}", file=sys.stderr)
    print(printable(review.total.sentence), file=sys.stderr)
    return _review_status(review)


def _cmd_sandbox(args: argparse.Namespace) -> ExitStatus:
    from .sandbox import SandboxConfig, load_order_book, serve

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    try:
        orders = load_order_book(args.orders) if args.orders else None
        config = SandboxConfig(
            api_key=args.api_key,
            orders=orders,
            latency_ms=args.latency_ms,
            fail_rate=args.fail_rate,
            rate_limit=args.rate_limit,
            limit_kind=args.limit_kind,
            burst=args.burst,
            retry_after_s=args.retry_after,
            drop_rate=args.drop_rate,
            seed=args.seed,
        )
    except (OSError, ValueError) as exc:
        raise ConfigError(f"sandbox: {exc}") from exc
    asyncio.run(serve(config, args.host, args.port))
    return ExitStatus.SUCCESS


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "sandbox":
            return _cmd_sandbox(args)
        if args.command == "demo":
            from .demo import main as demo_main

            return demo_main()
        if args.command == "validate":
            return _cmd_validate(args)
        if args.command == "config":
            return _cmd_config(args)
        if args.command == "history":
            return _cmd_history(args)
        if args.command == "summarize":
            return _cmd_summarize(args)
        if args.command == "report":
            return _cmd_report(args)
        return _cmd_run(args)
    except BatchCancelError as exc:  # each class carries its label and exit status (errors.py)
        print(f"batch-cancel: {exc.label}{exc}", file=sys.stderr)
        return exc.exit_status
    except OSError as exc:  # e.g. the results folder is not writable
        print(f"batch-cancel: error: {exc}", file=sys.stderr)
        return ExitStatus.USAGE_OR_INPUT
    except KeyboardInterrupt:
        print("batch-cancel: interrupted", file=sys.stderr)
        return ExitStatus.INTERRUPTED


def _open_closed_std_streams() -> None:
    """A scheduler may start us with stdout or stderr closed (`>&-`): give them /dev/null.

    Otherwise the first file opened (the ledger) would take descriptor 1 or 2, and
    writing the summary would fail, turning every exit status into 1.
    """
    for fd, name in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
            setattr(sys, name, open(fd, "r" if fd == 0 else "w", closefd=False))  # noqa: SIM115


def console_main() -> None:
    """The `batch-cancel` command and `python -m batch_cancel`: main(), then leave at once.

    Everything is written, closed and flushed by the time main() returns; the
    interpreter's teardown (freeing every module and object one at a time) only
    adds to every run (BENCHMARKS.md).
    """
    _open_closed_std_streams()
    status = main()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:
            pass  # the reader went away (`| head`): nothing left to say
        except (OSError, ValueError):
            # Output lost (a full disk under `> file`): as CPython itself exits then.
            status = ExitStatus.OUTPUT_LOST
    os._exit(status)
