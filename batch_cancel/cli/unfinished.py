"""A run that stopped before its summary still replaces --summary-json with its own."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..errors import BatchCancelError
from ..models import ExitStatus
from ..outputs import Named, Role, check_outputs
from .common import kept_files, write_json

# A file --summary-json may replace when a run stops before it knows its inputs: a
# summary is far smaller; anything bigger is not one.
MAX_SUMMARY_JSON_BYTES = 64 << 20


def write_unfinished_summary(args: argparse.Namespace, status: ExitStatus, error: str) -> None:
    """A run that stopped before its summary still replaces --summary-json with its own.

    The night's inputs may not be known yet (the config did not load), so beyond
    the identity checks only a new file or an earlier summary JSON is replaced.
    """
    from ..formats.summary_json import unfinished_json

    if args.summary_json is None:
        return
    if "--summary-json" in error or str(args.summary_json) in error:
        return  # the failure was the summary's own (refused, disk full): said already
    try:
        [path] = check_outputs(
            [("--summary-json", Named(args.summary_json, Role.SUMMARY_JSON))],
            kept_files(args, None, args.input),
        )
        if path.exists() and not _holds_a_summary(path):
            print(
                f"batch-cancel: --summary-json {path} not written: it holds no summary JSON",
                file=sys.stderr,
            )
            return
        write_json(path, unfinished_json(status, error))
    except (BatchCancelError, OSError) as exc:  # said already, or said now: the status stands
        print(f"batch-cancel: --summary-json not written: {exc}", file=sys.stderr)


def _holds_a_summary(path: Path) -> bool:
    try:
        if path.stat().st_size > MAX_SUMMARY_JSON_BYTES:
            return False
        summary = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return False
    return isinstance(summary, dict) and "exit_status" in summary
