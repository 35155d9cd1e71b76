"""Command line: parse flags, wire logging and progress, map outcomes to an exit status.

No business rules live here; `main(argv)` returns an ExitStatus instead of
calling sys.exit deep inside, so tests can call it directly.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from enum import IntEnum
from pathlib import Path

from . import __version__
from .config import (
    API_KEY_ENV,
    BASE_URL_ENV,
    DEFAULT_CONCURRENCY,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_RATE,
    DEFAULT_TIMEOUT_S,
    InputOptions,
    SendOptions,
    parse_column_map,
    send_options_from_env,
)
from .errors import BatchCancelError, ConfigError, InputFileError
from .models import NEEDS_ATTENTION, LoadedRow, LocalCode, Outcome, RowResult
from .runner import RunEnd, Runner, StopReason

log = logging.getLogger("batch_cancel")

PROGRESS_EVERY_S = 10.0
MAX_PROBLEMS_SHOWN = 20


class ExitStatus(IntEnum):
    """Documented in the README; cron wrappers depend on these numbers."""

    SUCCESS = 0  # every row cancelled (duplicates allowed)
    ROWS_NEED_ATTENTION = 1  # finished, but some rows are invalid / rejected / failed / not sent
    USAGE_OR_INPUT = 2  # bad flags, configuration or unreadable input; nothing sent
    API_REFUSED_KEY = 3  # the API refused the key; the rest were not sent
    INTERRUPTED = 130  # SIGINT (Ctrl-C)
    TERMINATED = 143  # SIGTERM


def _add_input_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", type=Path, metavar="INPUT.csv", help="orders CSV to read")
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
    parser.add_argument("--encoding", default="utf-8-sig", help="file encoding (default: UTF-8)")
    parser.add_argument("-q", "--quiet", action="store_true", help="only warnings and the summary")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="batch-cancel",
        description="Cancel Shipper B2C sales orders in bulk from a CSV.",
        epilog=f"The API key is read from {API_KEY_ENV}; the base URL from --base-url or "
        f"{BASE_URL_ENV}.",
    )
    parser.add_argument("--version", action="version", version=f"batch-cancel {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="cancel every order in a CSV, write a results CSV")
    _add_input_options(run)
    run.add_argument("-o", "--output", type=Path, help="results CSV (default: INPUT.results.csv)")
    run.add_argument("--base-url", help=f"API base URL (default: ${BASE_URL_ENV})")
    run.add_argument(
        "--rate",
        type=float,
        default=DEFAULT_RATE,
        help="most requests started in any one-second window, retries included; 0 = no limit "
        f"(default: {DEFAULT_RATE:g})",
    )
    run.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT_CONCURRENCY,
        help=f"most requests in flight (default: {DEFAULT_CONCURRENCY})",
    )
    run.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        metavar="SECONDS",
        help=f"per attempt (default: {DEFAULT_TIMEOUT_S:g})",
    )
    run.add_argument(
        "--max-attempts",
        type=int,
        default=DEFAULT_MAX_ATTEMPTS,
        help=f"tries per row for transient errors (default: {DEFAULT_MAX_ATTEMPTS})",
    )
    run.add_argument(
        "--allow-insecure-http",
        action="store_true",
        help="allow a plain-http base URL that is not loopback (the key travels unencrypted)",
    )
    run.add_argument(
        "--dry-run", action="store_true", help="read and validate, write results, send nothing"
    )

    validate = commands.add_parser("validate", help="check a CSV, send nothing")
    _add_input_options(validate)
    validate.add_argument("-o", "--output", type=Path, help="also write a results CSV")

    sandbox = commands.add_parser("sandbox", help="run a local Shipper-compatible server")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8787, help="0 picks a free port")
    sandbox.add_argument("--api-key", default="sandbox-key", help="the key the sandbox accepts")
    sandbox.add_argument("--orders", type=Path, help="order book CSV (order_no,warehouse_id,state)")
    sandbox.add_argument("--latency-ms", type=float, default=0.0)
    sandbox.add_argument("--fail-rate", type=float, default=0.0, help="share of 500/803 answers")
    sandbox.add_argument(
        "--rate-limit", type=float, help="answer 429 above this many requests per second"
    )
    sandbox.add_argument("--retry-after", type=int, default=1, help="seconds, on 429 answers")
    sandbox.add_argument(
        "--drop-rate", type=float, default=0.0, help="share of dropped connections"
    )
    sandbox.add_argument("--seed", type=int, help="for reproducible fault injection")
    return parser


def _input_options(args: argparse.Namespace) -> InputOptions:
    if args.delimiter is not None and len(args.delimiter.replace("\\t", "\t")) != 1:
        raise ConfigError("--delimiter must be a single character (use '\\t' for tab)")
    return InputOptions(
        path=args.input,
        column_map=parse_column_map(args.map),
        default_warehouse_id=args.warehouse_id,
        default_cancel_reason=args.cancel_reason,
        delimiter=args.delimiter.replace("\\t", "\t") if args.delimiter else None,
        encoding=args.encoding,
    )


def _setup_logging(args: argparse.Namespace, secret: str | None = None) -> None:
    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    if secret:
        handler.addFilter(_RedactSecret(secret))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # aiohttp's own debug output could echo request headers; keep it out.
    logging.getLogger("aiohttp").setLevel(max(level, logging.INFO))


class _RedactSecret(logging.Filter):
    """Defence in depth: no code logs the key, and this makes sure no library does either."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self._secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self._secret in message:
            record.msg, record.args = message.replace(self._secret, "[REDACTED]"), None
        return True


class _Progress:
    """A tqdm bar on a terminal; a log line every PROGRESS_EVERY_S seconds otherwise (cron)."""

    def __init__(self, total_estimate: int, *, quiet: bool) -> None:
        self._done = 0
        self._total = total_estimate
        self._started = time.monotonic()
        self._last_line = self._started
        self._bar = None
        if not quiet and sys.stderr.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=total_estimate, unit="row", file=sys.stderr, dynamic_ncols=True)
        self._quiet = quiet

    def advance(self) -> None:
        self._done += 1
        if self._bar is not None:
            self._bar.update(1)
            return
        now = time.monotonic()
        if not self._quiet and now - self._last_line >= PROGRESS_EVERY_S:
            self._last_line = now
            rate = self._done / (now - self._started)
            left = max(self._total - self._done, 0)
            eta = f", ETA {left / rate:.0f}s" if rate > 0 and left else ""
            log.info("progress: %d/~%d rows, %.1f rows/s%s", self._done, self._total, rate, eta)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.total = self._done
            self._bar.refresh()
            self._bar.close()


def _estimate_rows(path: Path) -> int:
    """Line count minus the header: exact for ordinary exports, fine for a progress bar."""
    lines = 0
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            lines += block.count(b"\n")
    return max(lines, 1) - 1 if lines else 0


def _exit_status_for(
    counts: Counter[Outcome], *, ignore: frozenset[Outcome] = frozenset()
) -> ExitStatus:
    needs = any(counts[outcome] for outcome in NEEDS_ATTENTION - ignore)
    return ExitStatus.ROWS_NEED_ATTENTION if needs else ExitStatus.SUCCESS


def _headline(counts: Counter[Outcome]) -> str:
    attention = sum(counts[outcome] for outcome in NEEDS_ATTENTION)
    if attention:
        return f"batch-cancel: finished; {attention} row(s) need attention"
    return f"batch-cancel: finished; all {counts[Outcome.CANCELLED]} order(s) cancelled"


def _cmd_validate(args: argparse.Namespace) -> ExitStatus:
    from .loader import OrdersFile

    _setup_logging(args)
    orders = OrdersFile(_input_options(args))
    counts: Counter[Outcome] = Counter()
    shown = 0
    for row in orders.rows():
        if row.verdict is None:
            counts[Outcome.NOT_SENT] += 1  # valid, would be sent
            continue
        counts[row.verdict.status] += 1
        if shown < MAX_PROBLEMS_SHOWN:
            shown += 1
            print(
                f"row {row.source_row}: {row.verdict.status.value}: {row.verdict.error_message}",
                file=sys.stderr,
            )
    problems = counts[Outcome.INVALID] + counts[Outcome.DUPLICATE]
    if problems > shown:
        print(f"... and {problems - shown} more", file=sys.stderr)
    print(
        f"{orders.path}: {counts.total()} data row(s): {counts[Outcome.NOT_SENT]} valid, "
        f"{counts[Outcome.INVALID]} invalid, {counts[Outcome.DUPLICATE]} duplicate",
        file=sys.stderr,
    )
    return ExitStatus.ROWS_NEED_ATTENTION if counts[Outcome.INVALID] else ExitStatus.SUCCESS


def _cmd_run(args: argparse.Namespace) -> ExitStatus:
    from .loader import OrdersFile
    from .report import ResultsWriter, default_results_path, format_summary

    input_options = _input_options(args)
    # Configuration is checked before the input is read, so a missing key costs nothing.
    send_options = None
    if not args.dry_run:
        send_options = send_options_from_env(
            base_url_flag=args.base_url,
            rate=args.rate,
            concurrency=args.concurrency,
            timeout_s=args.timeout,
            max_attempts=args.max_attempts,
            allow_insecure_http=args.allow_insecure_http,
        )
    _setup_logging(args, secret=send_options.api_key if send_options else None)
    orders = OrdersFile(input_options)
    output: Path = args.output or default_results_path(args.input)
    if output.resolve() == args.input.resolve():
        raise ConfigError(f"the results file would overwrite the input: {output}")

    started = time.monotonic()
    progress = _Progress(_estimate_rows(args.input), quiet=args.quiet)
    end = RunEnd(stop_reason=None)
    with ResultsWriter(output, orders.header) as writer:

        def on_result(row: LoadedRow, result: RowResult) -> None:
            writer.add(row, result)
            progress.advance()

        try:
            if send_options is None:
                for row in orders.rows():
                    on_result(row, row.verdict or _dry_run_result(row))
            else:
                end = asyncio.run(_send_all(orders.rows(), send_options, on_result))
        finally:
            progress.close()
    counts = writer.counts

    if end.stop_reason is StopReason.AUTH_REFUSED:
        headline, status = f"batch-cancel: stopped: {end.stop_message}", ExitStatus.API_REFUSED_KEY
    elif end.stop_reason is StopReason.INTERRUPTED:
        headline = f"batch-cancel: stopped: {end.stop_message}"
        status = ExitStatus.TERMINATED if "SIGTERM" in end.stop_message else ExitStatus.INTERRUPTED
    elif end.input_error:
        headline = (
            f"batch-cancel: input broke off, rows after the break were not read: {end.input_error}"
        )
        status = ExitStatus.USAGE_OR_INPUT
    elif send_options is None:
        headline = "batch-cancel: dry run; nothing sent"
        status = _exit_status_for(counts, ignore=frozenset({Outcome.NOT_SENT}))
    else:
        headline, status = _headline(counts), _exit_status_for(counts)
    print(
        format_summary(counts, output, elapsed_s=time.monotonic() - started, headline=headline),
        file=sys.stderr,
    )
    return status


def _dry_run_result(row: LoadedRow) -> RowResult:
    note = row.request.note if row.request else ""
    return RowResult(
        source_row=row.source_row,
        status=Outcome.NOT_SENT,
        error_code=LocalCode.DRY_RUN,
        error_message="; ".join(filter(None, ["dry run: valid, would be sent", note])),
    )


async def _send_all(
    rows: Iterator[LoadedRow],
    options: SendOptions,
    on_result: Callable[[LoadedRow, RowResult], None],
) -> RunEnd:
    from .client import ShipperClient
    from .runner import RetryPolicy, Runner

    async with ShipperClient(
        base_url=options.base_url,
        api_key=options.api_key,
        timeout_s=options.timeout_s,
        max_connections=options.concurrency,
    ) as client:
        runner = Runner(
            send=client.cancel,
            rate=options.rate,
            concurrency=options.concurrency,
            policy=RetryPolicy(max_attempts=options.max_attempts),
            on_result=on_result,
        )
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, _on_signal, runner, signum)
        try:
            return await runner.run(rows)
        finally:
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)


def _on_signal(runner: Runner, signum: int) -> None:
    """First signal: finish what is in flight and report the rest not_sent. Second: leave now."""
    name = signal.Signals(signum).name
    if runner.stopping:
        log.warning("second %s: exiting at once", name)
        raise SystemExit(128 + signum)
    runner.request_stop(
        StopReason.INTERRUPTED, f"interrupted by {name}; requests in flight were finished"
    )


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
        if args.command == "validate":
            return _cmd_validate(args)
        return _cmd_run(args)
    except InputFileError as exc:
        print(f"batch-cancel: input error: {exc}", file=sys.stderr)
        return ExitStatus.USAGE_OR_INPUT
    except BatchCancelError as exc:
        print(f"batch-cancel: error: {exc}", file=sys.stderr)
        return ExitStatus.USAGE_OR_INPUT
    except KeyboardInterrupt:
        print("batch-cancel: interrupted", file=sys.stderr)
        return ExitStatus.INTERRUPTED
