"""`validate`: read an export as `run` would, name every problem, send nothing."""

from __future__ import annotations

import argparse
import sys

from ..config import night_files
from ..models import ExitStatus, Outcome, needs_attention
from ..outputs import Named, Role, check_outputs
from .common import config_file, input_options_of, kept_files
from .logs import setup_logging

MAX_PROBLEMS_SHOWN = 20


def validate_command(args: argparse.Namespace) -> ExitStatus:
    from ..validation import Validation

    setup_logging(args)
    [night_file] = night_files(
        [args.input],
        sources=[args.source] if args.source else [],
        config=config_file(args),
        flags=input_options_of(args),
        output=None,
        dry_run=True,
    ).files
    output = None
    if args.output is not None:
        [output] = check_outputs(
            [("-o", Named(args.output, Role.RESULTS))],
            kept_files(args, config_file(args), [night_file.input.path]),
        )
    validation = Validation.open(night_file, output)
    shown = 0
    for problem in validation.problems():
        if shown < MAX_PROBLEMS_SHOWN:
            shown += 1
            print(
                f"line {problem.line}, row {problem.source_row} (order "
                f"{problem.order_no or '(blank)'}): {problem.what}: {problem.message}",
                file=sys.stderr,
            )
    counts, orders = validation.counts, validation.orders
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
