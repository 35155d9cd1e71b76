"""README's "Config reference" held to the code: every key of configfile's tables, its
default as the code settles it, and its flag as `run` names it; and the run settings
the config now holds taken by precedence, flag over file over default."""

from __future__ import annotations

import dataclasses
import itertools
import re
from pathlib import Path

import pytest

from batch_cancel import configfile
from batch_cancel.cli import main
from batch_cancel.cli.parser import build_parser
from batch_cancel.config import ApiFlags, api_settings, night_settings
from batch_cancel.configfile import Notify, Source, load_config
from batch_cancel.models import ExitStatus

ROOT = Path(__file__).resolve().parent.parent
SECTION = (ROOT / "README.md").read_text().split("### Config reference", 1)[1].split("\n## ")[0]
# Defaults that are no literal (a path below $XDG_STATE_HOME, the machine's zone, ...).
DESCRIBED = {"none", "detected", "required", ""}


def tables() -> dict[str, dict[str, list[str]]]:
    """Each table of the section by the line before it: key -> [type, default, flag]."""
    found: dict[str, dict[str, list[str]]] = {}
    blocks = SECTION.strip().split("\n\n")
    for intro, table in itertools.pairwise(blocks):
        if table.startswith("| key |"):
            rows = [line.split(" | ") for line in table.splitlines()[2:]]
            found[intro] = {
                row[0].strip("| `"): [cell.strip() for cell in row[1:4]] for row in rows
            }
    return found


def table(starting: str) -> dict[str, list[str]]:
    [rows] = [rows for intro, rows in tables().items() if intro.startswith(starting)]
    return rows


def toml(value: object) -> str:
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float | int):
        return f"`{value:g}`"
    if isinstance(value, str):
        return f'`"{value}"`'
    if isinstance(value, tuple | list):
        return "`[" + ", ".join(f'"{item}"' for item in value) + "]`"
    if isinstance(value, dict):
        return "`{}`" if not value else repr(value)
    raise AssertionError(value)


def held(rows: dict[str, list[str]], defaults: dict[str, object]) -> None:
    """Every literal default in the README is the code's (the described ones say so)."""
    for key, (_kind, default, _flag) in rows.items():
        literal = (
            default not in DESCRIBED and not default.startswith("`$") and "the " not in default
        )
        if key in defaults and defaults[key] is not None and literal:
            assert default == toml(defaults[key]), key


def test_the_reference_names_exactly_the_keys_of_every_table() -> None:
    assert set(table("Top level")) == set(configfile.TOP_KEYS)
    assert set(table("`[api]`")) == set(configfile.API_KEYS)
    assert set(table("`[api]`")) | set(table("`[accounts.NAME]`")) == set(configfile.ACCOUNT_KEYS)
    assert set(table("`[sources.NAME]`")) == set(configfile.SOURCE_KEYS)
    assert set(table("`[notify]`")) == set(configfile.NOTIFY_KEYS)


def test_the_reference_defaults_are_the_codes() -> None:
    api = {name: setting.value for name, setting in api_settings(environ={}).items()}
    held(table("`[api]`"), {"timeout": api.pop("timeout"), **api})
    night = {name: setting.value for name, setting in night_settings(None).items()}
    held(table("Top level"), night)
    source = {field.name: field.default for field in dataclasses.fields(Source)}
    source |= {"map": {}, "retry_rejected": configfile.RETRYABLE_REJECTIONS}
    held(table("`[sources.NAME]`"), source)
    held(table("`[notify]`"), {"urls": (), "when": Notify(urls=()).when})
    # Not vacuous: the literal defaults are there to compare.
    assert table("`[api]`")["max_consecutive_failures"][1] == "`25`"
    assert table("Top level")["log_format"][1] == '`"text"`'


def test_every_flag_named_is_a_run_flag_and_every_run_flag_is_a_key_or_said_to_stay() -> None:
    [run] = [
        action.choices["run"]
        for action in build_parser()._actions
        if isinstance(action.choices, dict) and "run" in action.choices
    ]
    flags = {flag for action in run._actions for flag in action.option_strings}
    named = {
        cell.strip("`").split()[0]
        for rows in tables().values()
        for _kind, _default, cell in rows.values()
        if cell.startswith("`-")
    }
    assert named <= flags
    staying = set(re.findall(r"`(-[-\w]+)`", SECTION.split("Flags that stay flags", 1)[1]))
    assert flags - {"-h", "--help", "--quiet", "--verbose", "--output"} <= named | staying, (
        "a run flag is neither a config key nor said to stay a flag"
    )


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "night.toml"
    path.write_text(text)
    return path


def test_run_settings_come_from_the_file_unless_a_flag_names_them(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            'progress_every = 30\nlog_format = "json"\n[api]\n'
            'already_cancelled_codes = ["E-ALREADY"]\nmax_consecutive_failures = 7\n'
            "down_after = 60\n",
        )
    )
    settings = api_settings(ApiFlags(down_after_s=5.0), config=config, environ={})
    assert settings["already_cancelled_codes"].value == ["E-ALREADY"]
    assert settings["max_consecutive_failures"].value == 7
    assert settings["max_consecutive_failures"].origin.endswith("[api] max_consecutive_failures")
    assert (settings["down_after"].value, settings["down_after"].origin) == (
        5.0,
        "flag --down-after",
    )
    night = night_settings(config, log_format="text")
    assert night["progress_every"].value == 30
    assert (night["log_format"].value, night["log_format"].origin) == ("text", "flag --log-format")


def test_config_prints_the_run_settings_and_the_sources_keys_with_their_origin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("SHIPPER_API_KEY", "SHIPPER_BASE_URL", "BATCH_CANCEL_STATE"):
        monkeypatch.delenv(name, raising=False)
    path = write(
        tmp_path,
        'log_format = "json"\n[api]\ndown_after = 60\n'
        '[sources.shop]\nfiles = "*.csv"\ngive_up_after = 5\n',
    )
    assert main(["config", "--config", str(path)]) == ExitStatus.SUCCESS
    out = capsys.readouterr().out
    assert f"down_after = 60    # file {path} [api] down_after\n" in out
    assert "max_consecutive_failures = 25    # default\n" in out
    assert "already_cancelled_codes = (none)    # default\n" in out
    assert f"log_format = json    # file {path} log_format\n" in out
    assert "progress_every = 10    # default\n" in out
    assert "    give_up_after = 5\n    retry_rejected = allocated\n" in out
