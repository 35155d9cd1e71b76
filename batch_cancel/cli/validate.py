"""`validate`: read an export as `run` would, name every problem, send nothing."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from ..config import night_files
from ..models import ExitStatus, Outcome, needs_attention
from ..outputs import Named, Role, check_outputs
from .common import config_file, input_options_of, kept_files
from .logs import setup_logging

if TYPE_CHECKING:
    from ..validation import Problem

MAX_PROBLEMS_SHOWN = 20


def _print_problem(problem: Problem) -> None:
    print(
        f"line {problem.line}, row {problem.source_row} (order "
        f"{problem.order_no or '(blank)'}): {problem.what}: {problem.message}",
        file=sys.stderr,
    )


def validate_command(args: argparse.Namespace) -> ExitStatus:
    from ..validation import Validation

    setup_logging(args)
    config = config_file(args)
    [night_file] = night_files(
        [args.input],
        sources=[args.source] if args.source else [],
        config=config,
        flags=input_options_of(args),
        output=None,
        dry_run=True,
    ).files
    output = None
    if args.output is not None:
        [output] = check_outputs(
            [("-o", Named(args.output, Role.RESULTS))],
            kept_files(args, config, [night_file.input.path]),
        )
    validation = Validation.open(night_file, output)
    # Invalid rows (and notes) first: they need a person. Duplicates are normal in a
    # one-row-per-item export (Lazada), so they are counted, and listed only if asked.
    shown = 0
    duplicates: list[Problem] = []
    for problem in validation.problems():
        if problem.what == Outcome.DUPLICATE.value:
            if args.show_duplicates and len(duplicates) < MAX_PROBLEMS_SHOWN:
                duplicates.append(problem)
        elif shown < MAX_PROBLEMS_SHOWN:
            shown += 1
            _print_problem(problem)
    counts, orders = validation.counts, validation.orders
    if counts[Outcome.INVALID] > shown:
        print(f"... and more: {counts[Outcome.INVALID]} invalid row(s) in all", file=sys.stderr)
    if counts[Outcome.DUPLICATE]:
        listing = "" if args.show_duplicates else "; --show-duplicates lists them"
        print(
            f"{orders.path}: {counts[Outcome.DUPLICATE]} duplicate row(s), an order already on "
            f"an earlier row (not sent again){listing}",
            file=sys.stderr,
        )
    for problem in duplicates:
        _print_problem(problem)
    if len(duplicates) < counts[Outcome.DUPLICATE] and args.show_duplicates:
        print(f"... and more: {counts[Outcome.DUPLICATE]} duplicate row(s) in all", file=sys.stderr)
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
