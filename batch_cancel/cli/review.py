"""`summarize` and `report`: what results CSVs say, as text, JSON, a CSV or an HTML page."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import parse_column_map
from ..errors import ConfigError
from ..models import ExitStatus
from ..outputs import Named, Role, check_outputs, write_atomically
from .check import review_checks
from .common import kept_files, print_to_pipe

if TYPE_CHECKING:
    from datetime import tzinfo

    from ..review import Review


def _checked_output(args: argparse.Namespace, output: Path, *, flag: str, role: Role) -> Path:
    """The file `output` writes, checked before anything is read (outputs.check_outputs)."""
    from ..configfile import find_config

    # The review reads no config and no ledger, but keeps off the ones `run` would use.
    kept = kept_files(args, None, args.results)
    if (config := find_config(None)) is not None:
        kept.append(Named(config, Role.CONFIG))
    [target] = check_outputs([(flag, Named(output, role))], kept)
    return target


def _read_review(args: argparse.Namespace) -> Review:
    from ..review import review_files

    return review_files(args.results, encoding=args.encoding, column_map=parse_column_map(args.map))


def _review_status(review: Review) -> ExitStatus:
    """Same meaning as for `run`: 1 when any row needs a human or a re-run."""
    needs = review.total.needs_attention
    return ExitStatus.ROWS_NEED_ATTENTION if needs else ExitStatus.SUCCESS


def summarize_command(args: argparse.Namespace) -> ExitStatus:
    if (checked := review_checks(args, report=None)) is not None:
        return checked
    from ..formats.needs_attention_csv import write_needs_attention
    from ..formats.review_json import review_json
    from ..formats.review_text import format_text

    needs_attention = args.needs_attention
    if needs_attention is not None:
        flag, role = "--needs-attention", Role.NEEDS_ATTENTION
        needs_attention = _checked_output(args, needs_attention, flag=flag, role=role)
    review = _read_review(args)
    if needs_attention is not None:
        written = write_needs_attention(review, needs_attention)
        print(
            f"batch-cancel: {written} row(s) needing attention written to {args.needs_attention}",
            file=sys.stderr,
        )
    print_to_pipe(json.dumps(review_json(review), indent=2) if args.json else format_text(review))
    return _review_status(review)


def report_command(args: argparse.Namespace) -> ExitStatus:
    from ..formats.html_report import render_report
    from ..review import default_report_path
    from ..text import printable

    output = args.output or default_report_path(args.results[0])
    output = _checked_output(args, output, flag="-o", role=Role.REPORT)
    if (checked := review_checks(args, report=output)) is not None:
        return checked
    review = _read_review(args)
    page = render_report(review, zone=_report_zone())
    write_atomically(output, "utf-8", lambda handle: handle.write(page))
    print(f"batch-cancel: report written to {output}", file=sys.stderr)
    print(printable(review.total.sentence), file=sys.stderr)
    return _review_status(review)


def _report_zone() -> tzinfo | None:
    """The config's time zone for the page's times; a config that does not load leaves
    them as recorded (UTC), with a warning: the review reads results, not the config."""
    from ..configfile import find_config, load_config
    from .notify import zone_of

    path = find_config(None)
    try:
        return zone_of(load_config(path)) if path is not None else None
    except ConfigError as error:
        print(f"batch-cancel: warning: {error}; times in UTC", file=sys.stderr)
        return None
