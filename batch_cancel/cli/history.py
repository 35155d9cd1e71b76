"""`history`: what the ledger knows about one order, for the account the config names."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ..config import API_KEY_ENV, api_settings, read_api_key_file
from ..models import ExitStatus, utc_now
from .common import api_flags, config_file


def history_command(args: argparse.Namespace) -> ExitStatus:
    from ..formats.history_text import history_line
    from ..ledger import read_history

    settings = api_settings(api_flags(args), config=config_file(args))
    state_path = settings["state"].value
    if not state_path.exists():
        print(f"batch-cancel: no ledger at {state_path} yet", file=sys.stderr)
        return ExitStatus.NOT_FOUND
    base_url, api_key = settings["base_url"].value, _history_key(settings["api_key"].value)
    read = read_history(state_path, args.order_no, args.warehouse_id, base_url, api_key)
    entries, account, kept_since = read.entries, read.account, read.kept_since
    now = utc_now()  # the clock the cut was made by: a cut after it is a wrong clock's
    if kept_since is not None and kept_since > now:
        print(
            f"batch-cancel: the clock looks wrong: it says {now}, before the ledger's last cut"
            f" ({kept_since}); what was older than that cut is forgotten",
            file=sys.stderr,
        )
    elif kept_since is not None:  # what is older was forgotten (--keep-days)
        print(f"batch-cancel: the ledger remembers from {kept_since} on", file=sys.stderr)
    for entry in entries:
        print(json.dumps(entry, ensure_ascii=False) if args.json else history_line(entry))
    if not any(entry["this_account"] is not False for entry in entries):
        where = f" on {args.warehouse_id}" if args.warehouse_id else ""
        at = f" at {account.base_url} with this key" if account is not None else ""
        others = f" ({len(entries)} entr(ies) of other accounts above)" if entries else ""
        print(
            f"batch-cancel: no record of order {args.order_no}{where}{at} in {state_path}{others}",
            file=sys.stderr,
        )
        return ExitStatus.NOT_FOUND
    if account is None:
        print(
            "batch-cancel: no account given (base URL and key): entries of every account shown",
            file=sys.stderr,
        )
    return ExitStatus.SUCCESS


def _history_key(source: object) -> str | None:
    """The key `run` would use, to name the account; None when none is set."""
    if isinstance(source, Path):
        return read_api_key_file(source)
    return os.environ.get(API_KEY_ENV, "").strip() or None
