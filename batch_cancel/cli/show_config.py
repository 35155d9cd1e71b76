"""`config`: the settings a run would use, each with where it comes from; never the key,
and of a notify URL only its scheme."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import api_settings, key_file_shown, night_settings
from ..models import ExitStatus
from .common import config_file

if TYPE_CHECKING:
    from ..configfile import ConfigFile


def config_command(args: argparse.Namespace) -> ExitStatus:
    config = config_file(args)
    print(f"config file: {config.path if config else '(none)'}")
    accounts = list(config.accounts) if config and config.accounts else [""]
    for account in accounts:
        if account:
            print(f"[accounts.{account}]")
        for name, setting in api_settings(config=config, account=account).items():
            if account and name == "state":
                continue  # one ledger for the night: printed once, below
            print(
                f"{'    ' if account else ''}{name} = {_shown(name, setting.value, setting.origin)}"
                f"    # {setting.origin}"
            )
    if account:
        state = api_settings(config=config)["state"]
        print(f"state = {state.value}    # {state.origin}")
    _night_settings(config)
    for source in config.sources.values() if config else ():
        files = source.paths()
        owner = f"accounts.{source.account}." if source.account else ""
        print(f"[{owner}sources.{source.name}] {', '.join(source.files)}: {len(files)} file(s) now")
        for key, header in source.column_map.items():
            print(f"    map {key} = {header}")
        for key in ("warehouse_id", "cancel_reason", "delimiter", "encoding", "sheet"):
            if (value := getattr(source, key)) is not None:
                print(f"    {key} = {value}")
        print(f"    archive = {source.archive or '(not set: files stay in place)'}")
        print(f"    optional = {str(source.optional).lower()}")
        print(f"    give_up_after = {source.give_up_after}")
        print(f"    retry_rejected = {', '.join(source.retry_rejected) or '(none)'}")
        for path in files:
            print(f"    {path}")
    return ExitStatus.SUCCESS


def _shown(name: str, value: object, origin: str) -> str:
    if name == "api_key" and isinstance(value, Path):  # where the key comes from, never it
        shown = key_file_shown(value)
        return f"read from {shown}" if shown else "read from a file that does not exist"
    if name == "api_key":
        return "(not set)" if origin == "not set" else "(set, hidden)"
    if name == "read_path" and value is None:
        from ..client import DEFAULT_READ_PATH

        return DEFAULT_READ_PATH
    if isinstance(value, tuple | list):
        return ", ".join(map(str, value)) or "(none)"
    if isinstance(value, dict):
        return ", ".join(f"{key} = {meaning}" for key, meaning in value.items()) or "(none)"
    return "(not set)" if value is None else str(value)


def _night_settings(config: ConfigFile | None) -> None:
    in_file = f"file {config.path}" if config else ""
    for name, setting in night_settings(config).items():
        value = setting.value
        if name == "timezone" and value is None:
            value = "the machine's"
        print(f"{name} = {value:g}" if isinstance(value, float) else f"{name} = {value}", end="")
        print(f"    # {setting.origin}")
    notify = config.notify if config else None
    if notify is None:
        print("notify = (not set)    # default")
        return
    from ..notify import scheme_of

    schemes = ", ".join(scheme_of(url) for url in notify.urls) or "(none)"
    print(f"notify urls = {schemes} (the rest hidden)    # {in_file} [notify] urls")
    print(f"notify when = {notify.when}    # {in_file} [notify] when")
