"""The command line's grammar: every command and flag, grouped as `--help` shows them.

Only argparse and the defaults it names; nothing here runs a command.
"""

from __future__ import annotations

import argparse
import codecs
from pathlib import Path
from typing import Any

from .. import __version__
from ..config import (
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
)
from ..configfile import CONFIG_ENV, encoding_problem
from ..models import Outcome


def _add_input_options(parser: Any, *, several: bool = False, logging: Any = None) -> None:
    """The export's layout flags, on a parser or one of its groups (`logging`: where -q
    and -v go, if not beside them)."""
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
        type=_encoding_arg,
        help="file encoding, e.g. cp1252 (default: UTF-8 with or without BOM, UTF-16 by its BOM; "
        "a file that is not UTF-8 is read as cp1252 with a warning)",
    )
    parser.add_argument(
        "--sheet",
        help="the .xlsx sheet to read (default: the only visible one; hidden sheets only by name)",
    )
    logging = parser if logging is None else logging
    logging.add_argument("-q", "--quiet", action="store_true", help="only warnings and the summary")
    logging.add_argument("-v", "--verbose", action="store_true", help="debug logging")


RUN_EXAMPLES = """\
examples:
  batch-cancel run --config night.toml              # the whole night, every source
  batch-cancel run shopee.xlsx --dry-run            # check an export, send nothing
  batch-cancel run night/tokopedia.results.csv --only rejected
                                                    # re-send after the warehouse releases stock"""

# run --help's groups, in order; README's `run` table has the same, and a test holds them.
RUN_GROUPS = ("input", "sending", "state and re-runs", "outputs", "logging")

EXIT_STATUSES = """\
exit status:
  0    every row cancelled, skipped (cancelled before) or a duplicate
  1    finished, but some rows need attention (invalid, rejected, failed, not_sent),
       or a config source matched no file
  2    usage, configuration or unreadable input; nothing sent (in a config night,
       the files that could be read were sent)
  3    the API refused the key, looked down, or failed TLS; the rest not sent
  4    another run holds the ledger or the same results file; nothing done
  5    history: no record of that order
  6    the ledger or a results file could not be written (disk full): sending stopped
  70   an internal error (one nobody foresaw, or out of memory): the night did not finish
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
            if paragraph.startswith(("exit status:", "examples:"))
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

    for add in (_add_run, _add_config, _add_history, _add_validate, _add_summarize, _add_report):
        add(commands)
    _add_check(commands)
    _add_sandbox(commands)
    _add_demo(commands)
    _add_notify(commands)
    return parser


def _add_run(commands: Any) -> None:
    run = commands.add_parser(
        "run",
        help="cancel every order of the night's exports, write a results CSV per input",
        description="Read the exports (the INPUT files, or every file of the config's "
        "sources), validate every row, send the cancels rate-limited and write each input's "
        "results CSV beside it. Re-running is safe: orders the ledger knows are cancelled "
        "are skipped.",
        epilog=f"{RUN_EXAMPLES}\n\n{EXIT_STATUSES}",
    )
    group = {name: run.add_argument_group(name) for name in RUN_GROUPS}
    _add_input_options(group["input"], several=True, logging=group["logging"])
    _add_config_option(group["input"])
    group["input"].add_argument(
        "--source",
        action="append",
        default=[],
        metavar="NAME",
        help="only this [sources.NAME] of the config (repeatable); with INPUT files: read "
        "them with this source's layout",
    )
    group["sending"].add_argument(
        "--account",
        action="append",
        default=[],
        metavar="NAME",
        help="only this [accounts.NAME] of the config (repeatable; default: every account)",
    )
    group["outputs"].add_argument(
        "-o", "--output", type=Path, help="results CSV (default: INPUT.results.csv)"
    )
    group["sending"].add_argument("--base-url", help=f"API base URL (default: ${BASE_URL_ENV})")

    _add_pace_flags(group["sending"])
    _add_key_and_ledger_flags(group["sending"], group["state and re-runs"])
    _add_stop_and_report_flags(group["sending"], group["outputs"], group["logging"])


def _add_pace_flags(run: Any) -> None:
    """How fast and how hard: --rate to --allow-insecure-http."""
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


def _add_key_and_ledger_flags(run: Any, state: Any) -> None:
    """The key and what is sent (--dry-run); the ledger and re-runs (--only, --state to
    --already-cancelled-code)."""
    run.add_argument(
        "--api-key-file",
        type=Path,
        metavar="PATH",
        help=f"read the API key from this file (mode 600) instead of ${API_KEY_ENV}",
    )
    run.add_argument(
        "--dry-run", action="store_true", help="read and validate, write results, send nothing"
    )
    state.add_argument(
        "--only",
        type=_statuses_arg,
        metavar="STATUS[,STATUS]",
        help="INPUT is a results CSV: re-send only the rows whose result_status is one of these "
        "(e.g. failed,not_sent); the other rows keep their old results and are not sent",
    )
    _add_state_option(state)
    state.add_argument(
        "--keep-days",
        type=float,
        default=None,  # DEFAULT_KEEP_DAYS, unless the config file sets it
        metavar="DAYS",
        help="the ledger forgets attempts and outcomes older than this at the end of a run, "
        "so the re-run skip is sure for that long; 0 = keep everything "
        f"(default: {DEFAULT_KEEP_DAYS:g})",
    )
    state.add_argument(
        "--no-state",
        action="store_true",
        help="keep no ledger: no re-run protection, no lock (benchmarks only; not for cron)",
    )
    state.add_argument(
        "--force-resend",
        action="store_true",
        help="send rows an earlier run already cancelled (default: report them skipped)",
    )
    state.add_argument(
        "--already-cancelled-code",
        action="append",
        default=[],
        metavar="CODE",
        help="API error code meaning 'order already cancelled'; such rows count as cancelled "
        "(repeatable; Shipper does not document it)",
    )


def _add_stop_and_report_flags(run: Any, outputs: Any, logging: Any) -> None:
    """When to stop for tonight, and what is said: --max-consecutive-failures to --log-format."""
    run.add_argument(
        "--max-consecutive-failures",
        type=int,
        default=None,  # DEFAULT_MAX_CONSECUTIVE_FAILURES, unless the config file sets it
        metavar="N",
        help="stop for tonight after N transient failures in a row, 0 = never "
        f"(default: {DEFAULT_MAX_CONSECUTIVE_FAILURES})",
    )
    run.add_argument(
        "--down-after",
        type=float,
        default=None,  # DEFAULT_DOWN_AFTER_S, unless the config file sets it
        metavar="SECONDS",
        help="stop for tonight when nothing but transient failures came back for this long, "
        f"0 = never (default: {DEFAULT_DOWN_AFTER_S:g})",
    )
    logging.add_argument(
        "--progress-every",
        type=float,
        default=None,  # DEFAULT_PROGRESS_EVERY_S, unless the config file sets it
        metavar="SECONDS",
        help="progress log line interval without a terminal "
        f"(default: {DEFAULT_PROGRESS_EVERY_S:g})",
    )
    outputs.add_argument(
        "--summary-json", type=Path, metavar="PATH", help="write a run summary as JSON"
    )
    logging.add_argument(
        "--log-format",
        choices=("text", "json"),
        default=None,  # text, unless the config file sets it
        help="stderr log format (default: text)",
    )


def _add_notify(commands: Any) -> None:
    notify = commands.add_parser(
        "notify",
        help="send a test message to the config's [notify] urls",
        description="Send a test message to every URL of the config's [notify] (apprise URLs: "
        "Slack, Telegram, e-mail, json:// webhooks, ...). The URLs are never printed. Exit 3 "
        "when one was not delivered.",
    )
    notify.add_argument("--test", action="store_true", required=True, help="send the test message")
    _add_config_option(notify)


def _add_config(commands: Any) -> None:
    config = commands.add_parser(
        "config",
        help="print the effective settings and where each comes from",
        description="Print the settings a run would use, each with its origin (flag, env, "
        "file or default), and the config file's sources with the files they match now. "
        "The key is never printed.",
    )
    _add_config_option(config)


def _add_check(commands: Any) -> None:
    check = commands.add_parser(
        "check",
        help="ask Shipper what became of orders (reads only)",
        description="Read orders back from Shipper at the same rate limit as `run` and write a "
        "CSV: order, warehouse, Shipper's status, allocated quantity and a verdict in plain "
        "words. The orders are ORDER_NOs (with --warehouse-id) or the rows of a results CSV "
        "(--results, with --only). Nothing is cancelled. Exit 0 when every order is "
        "cancelled, 1 when some are not (or could not be read), 3 when the key was refused "
        "or the API looked down.",
    )
    check.add_argument("order_no", nargs="*", metavar="ORDER_NO", help="orders to read back")
    check.add_argument("--warehouse-id", help="the warehouse of the ORDER_NOs")
    check.add_argument(
        "--results", type=Path, metavar="PATH", help="read back the orders of this results CSV"
    )
    check.add_argument(
        "--only",
        type=_statuses_arg,
        metavar="STATUS[,STATUS]",
        help="with --results: only its rows whose result_status is one of these",
    )
    check.add_argument(
        "-o", "--output", type=Path, metavar="PATH", help="the CSV (default: stdout)"
    )
    check.add_argument("--base-url", help=f"API base URL (default: ${BASE_URL_ENV})")
    check.add_argument(
        "--api-key-file",
        type=Path,
        metavar="PATH",
        help=f"read the key from this file (default: ${API_KEY_ENV})",
    )
    _add_pace_flags(check)
    _add_config_option(check)
    check.set_defaults(verbose=False, quiet=False)  # for the log setup `run` shares


def _add_history(commands: Any) -> None:
    history = commands.add_parser(
        "history",
        help="what the ledger knows about an order",
        description="Print every attempt (when, which run, the answer, its request id) and "
        "every row outcome (which file and row) the ledger holds for ORDER_NO, oldest first. "
        "It reads the same config as `run` and answers for the account its base URL and key "
        "name; entries of other accounts are shown marked with their host. Exit 5 when the "
        "account has none.",
    )
    history.add_argument("order_no", metavar="ORDER_NO", help="the order number, as sent")
    history.add_argument("--warehouse-id", help="only this warehouse")
    history.add_argument("--json", action="store_true", help="one JSON object per line")
    history.add_argument(
        "--base-url", help=f"the account's API base URL (default: ${BASE_URL_ENV})"
    )
    history.add_argument(
        "--api-key-file",
        type=Path,
        metavar="PATH",
        help=f"read the account's key from this file (default: ${API_KEY_ENV})",
    )
    _add_config_option(history)
    _add_state_option(history)


def _add_validate(commands: Any) -> None:
    validate = commands.add_parser(
        "validate",
        help="check an export, send nothing",
        description="Read INPUT as `run` would and name every problem by its order number and "
        "file line: rows that are invalid and values that will be shortened, then how many "
        "rows are duplicates (--show-duplicates lists them). Exit 1 when a row is invalid.",
    )
    _add_input_options(validate)
    _add_config_option(validate)
    validate.add_argument(
        "--source", metavar="NAME", help="read INPUT with this [sources.NAME] layout of the config"
    )
    validate.add_argument(
        "-o", "--output", type=Path, metavar="PATH", help="also write a results CSV (as a dry run)"
    )
    validate.add_argument(
        "--show-duplicates",
        action="store_true",
        help="list every duplicate row too, after the invalid ones (default: count them)",
    )


def _add_summarize(commands: Any) -> None:
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


def _add_report(commands: Any) -> None:
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


def _add_sandbox(commands: Any) -> None:
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
        "--lose-answer",
        action="append",
        default=[],
        metavar="ORDER",
        help="apply ORDER's first cancel, then drop the connection unanswered (repeatable)",
    )
    sandbox.add_argument(
        "--seed", type=int, help="for reproducible fault injection (default: a random one)"
    )


def _add_demo(commands: Any) -> None:
    commands.add_parser(
        "demo",
        help="run the main job end to end against a local sandbox (what `make demo` does)",
        description="Start sandboxes with the sample order book and run the real CLI on the "
        "samples: eight runs, from a wrong key through a night of two accounts to the "
        "morning review and a lost answer settled by read-back. Results in ./demo-out.",
    )


class _Parser(argparse.ArgumentParser):
    """Sub-command parsers that show defaults (the top-level parser sets the class)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)


def _add_config_option(parser: Any) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        metavar="PATH",
        help=f"the night's config file (default: ${CONFIG_ENV}, else "
        "$XDG_CONFIG_HOME/batch-cancel/config.toml when it exists)",
    )


def _add_state_option(parser: Any) -> None:
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
    parser.add_argument(
        "--encoding", type=_encoding_arg, default="utf-8-sig", help="file encoding (default: UTF-8)"
    )


def _rate_arg(text: str) -> float | str:
    """argparse type for --rate: a number, or `auto`."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expects a number or auto, got {text!r}") from None


def _encoding_arg(text: str) -> str:
    """argparse type for --encoding: hex, base64, ... are refused before anything is read.
    An unknown name goes on: the reader refuses it, naming the file."""
    try:
        codecs.lookup(text)
    except LookupError:
        return text
    if problem := encoding_problem(text):
        raise argparse.ArgumentTypeError(problem)
    return text


def _statuses_arg(text: str) -> frozenset[Outcome]:
    """argparse type for --only: a bad status is a usage error (exit 2) before anything runs."""
    from ..results_file import parse_statuses

    try:
        return parse_statuses(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
