"""`config`: the settings a run would use, each with where it comes from; never the key."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..config import api_settings, key_file_shown
from ..models import ExitStatus
from .common import config_file


def config_command(args: argparse.Namespace) -> ExitStatus:
    config = config_file(args)
    print(f"config file: {config.path if config else '(none)'}")
    for name, setting in api_settings(config=config).items():
        value = setting.value
        if name == "api_key" and isinstance(value, Path):  # where the key comes from, never it
            shown = key_file_shown(value)
            value = f"read from {shown}" if shown else "read from a file that does not exist"
        elif name == "api_key":
            value = "(not set)" if setting.origin == "not set" else "(set, hidden)"
        print(f"{name} = {value}    # {setting.origin}")
    for source in config.sources.values() if config else ():
        files = source.paths()
        print(f"[sources.{source.name}] {', '.join(source.files)}: {len(files)} file(s) now")
        for path in files:
            print(f"    {path}")
    return ExitStatus.SUCCESS
