"""`check`: read orders back from Shipper and write what became of each as a CSV."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..config import HealthPolicy, send_options_from_env
from ..errors import ConfigError
from ..models import ExitStatus
from ..outputs import Named, Role, check_outputs
from .common import api_flags, config_file, kept_files, print_to_pipe
from .logs import setup_logging


def _orders(args: argparse.Namespace) -> list[tuple[str, str]]:
    """(order_no, warehouse_id) to read, each once, in the order given."""
    if args.order_no and args.results:
        raise ConfigError("name ORDER_NOs or --results, not both")
    if args.only and not args.results:
        raise ConfigError("--only selects rows of --results")
    if args.order_no:
        if not args.warehouse_id:
            raise ConfigError("ORDER_NO needs --warehouse-id")
        return list(dict.fromkeys((order, args.warehouse_id) for order in args.order_no))
    if not args.results:
        raise ConfigError("nothing to check: name ORDER_NOs (with --warehouse-id) or --results")
    from ..results_file import ResultsFile

    return list(
        dict.fromkeys(
            (row.order_no, row.warehouse_id)
            for row in ResultsFile(args.results).rows()
            if row.order_no and (not args.only or row.result.status in args.only)
        )
    )


def check_command(args: argparse.Namespace) -> ExitStatus:
    from ..checking import check_orders
    from ..formats.check_csv import check_csv_text, write_check_csv
    from ..readback import Meaning
    from ..runner import StopReason

    config = config_file(args)
    send = send_options_from_env(api_flags(args), config=config)
    setup_logging(args, secret=send.api_key)
    if args.output is not None:
        kept = kept_files(args, config, [args.results] if args.results else [])
        [args.output] = check_outputs([("-o", Named(args.output, Role.REPORT))], kept)
    orders = _orders(args)
    checked, stopped = check_orders(orders, send, HealthPolicy())
    if args.output is not None:
        write_check_csv(args.output, checked)
    else:
        print_to_pipe(check_csv_text(checked).rstrip("\n"))
    settled = sum(item.meaning is Meaning.CANCELLED for item in checked)
    where = f"; written to {args.output}" if args.output else ""
    print(
        f"batch-cancel: {len(checked)} order(s) checked, {settled} cancelled{where}",
        file=sys.stderr,
    )
    if stopped in (StopReason.AUTH_REFUSED, StopReason.API_DOWN, StopReason.TLS_FAILED):
        return ExitStatus.API_REFUSED_OR_DOWN
    return ExitStatus.SUCCESS if settled == len(checked) else ExitStatus.ROWS_NEED_ATTENTION


def review_checks(args: argparse.Namespace, *, report: Path | None) -> ExitStatus | None:
    """`summarize` / `report` (to `report`, an output already checked) of check's CSVs
    (their header says so): the verdicts. None: the files are results CSVs, for the usual
    review."""
    from ..formats.check_csv import all_cancelled, is_check_file, verdicts_html, verdicts_text

    if not all(is_check_file(path) for path in args.results):
        return None
    if report is not None:
        from ..outputs import write_atomically

        page = verdicts_html(args.results)
        write_atomically(report, "utf-8", lambda handle: handle.write(page))
        print(f"batch-cancel: report written to {report}", file=sys.stderr)
    else:
        print_to_pipe(verdicts_text(args.results))
    cancelled = all_cancelled(args.results)
    return ExitStatus.SUCCESS if cancelled else ExitStatus.ROWS_NEED_ATTENTION
