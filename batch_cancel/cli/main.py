"""`main(argv)`: parse, dispatch to the command's module, and the one error handler.

No business rules live here; `main` returns an ExitStatus instead of calling
sys.exit deep inside, so tests can call it directly.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from ..errors import BatchCancelError
from ..models import ExitStatus
from ..text import describe_error
from .logs import redacted
from .parser import build_parser
from .unfinished import write_unfinished_summary

# Set (to anything) for the traceback of an error nobody foresaw; `-v` shows it too.
TRACEBACK_ENV = "BATCH_CANCEL_TRACEBACK"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # a usage error (argparse printed it), --help, --version
        status = exc.code if isinstance(exc.code, int) else ExitStatus.USAGE_OR_INPUT
        if status != ExitStatus.SUCCESS:
            _refused_flags_summary(parser, sys.argv[1:] if argv is None else argv)
        return status
    try:
        return _command(args)
    except SystemExit:
        raise
    except BaseException as exc:  # the one handler: every error ends in its status
        status, line = _failure(exc, args)
        print(line, file=sys.stderr)
        if args.command == "run":
            if status == ExitStatus.INTERNAL_ERROR:
                print("batch-cancel: the night did not finish", file=sys.stderr)
            write_unfinished_summary(args, status, line)
            if status != ExitStatus.INTERRUPTED:
                from .notify import notify_refused

                notify_refused(args, line)
        return status


def _refused_flags_summary(parser: argparse.ArgumentParser, argv: Sequence[str]) -> None:
    """A `run` refused for its flags still replaces --summary-json with its own, so a
    monitor never reads last night's summary as tonight's."""
    if not argv or argv[0] != "run":
        return
    only_the_summary = argparse.ArgumentParser(add_help=False)
    only_the_summary.add_argument("--summary-json", type=Path)
    found, _ = only_the_summary.parse_known_args(list(argv[1:]))
    if found.summary_json is None:
        return
    args = parser.parse_args(["run"])  # run's defaults: which ledger, config and key to spare
    args.summary_json = found.summary_json
    line = "batch-cancel: run: usage error: its flags were refused (see the lines above)"
    write_unfinished_summary(args, ExitStatus.USAGE_OR_INPUT, line)


def _command(args: argparse.Namespace) -> ExitStatus:
    """The command's module is imported only when it runs (`validate` never loads aiohttp)."""
    from . import check, history, notify, review, run, sandbox, show_config, validate

    def demo(_: argparse.Namespace) -> ExitStatus:
        from ..demo import main as demo_main

        return ExitStatus(demo_main())

    commands: dict[str, Callable[[argparse.Namespace], ExitStatus]] = {
        "run": run.run_command,
        "validate": validate.validate_command,
        "config": show_config.config_command,
        "history": history.history_command,
        "check": check.check_command,
        "summarize": review.summarize_command,
        "report": review.report_command,
        "sandbox": sandbox.sandbox_command,
        "notify": notify.notify_command,
        "demo": demo,
    }
    return commands[args.command](args)


def _failure(exc: BaseException, args: argparse.Namespace) -> tuple[ExitStatus, str]:
    """The exit status and the one stderr line for an error that ended the command (an
    internal error's traceback is printed here first, when asked for)."""
    if isinstance(exc, BatchCancelError):  # each class carries its label and status (errors.py)
        return exc.exit_status, f"batch-cancel: {exc.label}{exc}"
    if isinstance(exc, OSError):  # e.g. the results folder is not writable
        return ExitStatus.USAGE_OR_INPUT, f"batch-cancel: error: {exc}"
    if isinstance(exc, KeyboardInterrupt):
        return ExitStatus.INTERRUPTED, "batch-cancel: interrupted"
    # A bug, or memory exhausted: never a success. Redacted as the log filter redacts,
    # since the exception may quote anything the command held.
    if getattr(args, "verbose", False) or os.environ.get(TRACEBACK_ENV):
        print(redacted("".join(traceback.format_exception(exc))), end="", file=sys.stderr)
    return ExitStatus.INTERNAL_ERROR, redacted(
        f"batch-cancel: internal error: {describe_error(exc)}"
    )


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
    """The `batch-cancel` command and `python -m batch_cancel`: main(), then its status.

    stdout and stderr are flushed here, so that output lost changes the status.
    """
    _open_closed_std_streams()
    status = main()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:
            _discard(stream)  # the reader went away (`| head`): nothing left to say
        except (OSError, ValueError):
            # Output lost (a full disk under `> file`): as CPython itself exits then.
            _discard(stream)
            status = ExitStatus.OUTPUT_LOST
    raise SystemExit(status)


def _discard(stream: TextIO) -> None:
    """Point a stream that cannot be written at /dev/null: the interpreter flushes it once
    more at exit, and would print its own complaint and status."""
    with contextlib.suppress(OSError, ValueError):
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, stream.fileno())
        os.close(null)
