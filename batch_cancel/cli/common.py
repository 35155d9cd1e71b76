"""What several commands share: the config file, the files no output may land on, the
input flags as options, writing JSON and printing to a pipe."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import ApiFlags, InputOptions, api_settings, input_options
from ..outputs import Named, Role, ledger_files, write_atomically

if TYPE_CHECKING:
    from ..configfile import ConfigFile


def input_options_of(args: argparse.Namespace, path: Path | None = None) -> InputOptions:
    return input_options(
        args.input if path is None else path,
        map_pairs=args.map,
        warehouse_id=args.warehouse_id,
        cancel_reason=args.cancel_reason,
        delimiter=args.delimiter,
        encoding=args.encoding,
        sheet=args.sheet,
    )


def kept_files(
    args: argparse.Namespace, config: ConfigFile | None, inputs: Sequence[Path]
) -> list[Named]:
    """What the command reads or keeps, which no output may land on: the inputs, the
    ledger and the files beside it, the config file and the key file."""
    settings = api_settings(api_flags(args), config=config)
    kept = [Named(path, Role.INPUT) for path in inputs]
    kept += ledger_files(settings["state"].value)
    if config is not None:
        kept.append(Named(config.path, Role.CONFIG))
    if isinstance(key_file := settings["api_key"].value, Path):
        kept.append(Named(key_file, Role.KEY_FILE))
    return kept


def config_file(args: argparse.Namespace) -> ConfigFile | None:
    from ..configfile import find_config, load_config

    path = find_config(getattr(args, "config", None))
    return load_config(path) if path is not None else None


def write_json(path: Path, summary: dict[str, Any]) -> None:
    text = json.dumps(summary, indent=2) + "\n"
    write_atomically(path, "utf-8", lambda handle: handle.write(text))


def print_to_pipe(text: str) -> None:
    """Print to stdout, where `summarize ... | head` may stop reading early."""
    try:
        print(text, flush=True)  # flush here, so a closed pipe is seen inside the try
    except BrokenPipeError:
        # The reader has what it wanted. Point stdout at /dev/null so the flush at exit
        # does not fail again (Python's signal docs, "Note on SIGPIPE").
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def api_flags(args: argparse.Namespace) -> ApiFlags:
    """The API flags this command has (`history` some, `summarize` none), as given."""
    return ApiFlags(
        base_url=getattr(args, "base_url", None),
        rate=getattr(args, "rate", None),
        concurrency=getattr(args, "concurrency", None),
        timeout_s=getattr(args, "timeout", None),
        max_attempts=getattr(args, "max_attempts", None),
        max_rate=getattr(args, "max_rate", None),
        api_key_file=getattr(args, "api_key_file", None),
        state=getattr(args, "state", None),
        allow_insecure_http=getattr(args, "allow_insecure_http", False),
        # append's [] is "not given": the file's codes then count
        already_cancelled_codes=tuple(getattr(args, "already_cancelled_code", None) or ()) or None,
        max_consecutive_failures=getattr(args, "max_consecutive_failures", None),
        down_after_s=getattr(args, "down_after", None),
    )
