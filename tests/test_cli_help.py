"""Help that teaches: every command described, every default shown, the exit codes
listed, and the README's tables naming exactly the flags --help names."""

from __future__ import annotations

import argparse
import re

import pytest

from batch_cancel import cli
from batch_cancel.models import ExitStatus

from .helpers import ROOT

README = (ROOT / "README.md").read_text()


def commands() -> dict[str, argparse.ArgumentParser]:
    parser = cli.build_parser()
    [action] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def long_flags(parser: argparse.ArgumentParser) -> set[str]:
    return {
        flag
        for action in parser._actions
        for flag in action.option_strings
        if flag.startswith("--") and flag != "--help"
    }


def help_of(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert cli.main([*argv, "--help"]) == 0
    return capsys.readouterr().out


def test_the_top_level_help_lists_every_exit_status(capsys: pytest.CaptureFixture[str]) -> None:
    text = help_of([], capsys)
    listed = {int(code) for code in re.findall(r"^  (\d+)", text, re.MULTILINE)}
    listed |= {129, 130, 143} if "129, 130, 143" in text else set()
    assert listed == {int(status) for status in ExitStatus}


@pytest.mark.parametrize("name", sorted(commands()))
def test_every_command_has_a_description_and_every_default_shows(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = commands()[name]
    assert parser.description, f"{name} has no description"
    text = " ".join(help_of([name], capsys).split())
    for action in parser._actions:
        default = action.default
        if action.option_strings and default not in (None, False, [], argparse.SUPPRESS):
            assert f"(default: {default}" in text or "(default:" in (action.help or ""), (
                f"{name} {action.option_strings[0]}: its default {default!r} is not shown"
            )


def test_the_sandbox_help_says_its_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert "SHIPPER_API_KEY=sandbox-key" in " ".join(help_of(["sandbox"], capsys).split())


def test_the_run_table_names_exactly_the_run_flags() -> None:
    table = README.split("### `run` options", 1)[1].split("\n\n", 2)[1]
    in_readme = set(re.findall(r"^\| `[^|]*", table, re.MULTILINE))
    flags_in_readme = {flag for cell in in_readme for flag in re.findall(r"--[a-z-]+", cell)}
    assert flags_in_readme == long_flags(commands()["run"])


def test_run_help_groups_its_flags_as_the_readme_table_does_and_ends_with_examples(
    capsys: pytest.CaptureFixture[str],
) -> None:
    run = commands()["run"]
    in_help = {
        group.title: {
            flag
            for action in group._group_actions
            for flag in action.option_strings
            if flag.startswith("--") and flag != "--help"
        }
        for group in run._action_groups
        if group.title in ("input", "sending", "state and re-runs", "outputs", "logging")
    }
    table = README.split("### `run` options", 1)[1].split("\n\n", 2)[1]
    in_readme: dict[str, set[str]] = {}
    for line in table.splitlines():
        if heading := re.fullmatch(r"\| \*\*(.+)\*\* \| \| \|", line):
            group = in_readme.setdefault(heading.group(1), set())
        elif line.startswith("| `"):
            group |= set(re.findall(r"--[a-z-]+", line.split("|")[1]))
    assert list(in_readme) == ["input", "sending", "state and re-runs", "outputs", "logging"]
    assert in_readme == in_help
    text = help_of(["run"], capsys)
    examples = text.split("\nexamples:\n", 1)[1].split("\n\n", 1)[0]
    assert [line.split()[:3] for line in examples.splitlines() if "batch-cancel" in line] == [
        ["batch-cancel", "run", "--config"],
        ["batch-cancel", "run", "shopee.xlsx"],
        ["batch-cancel", "run", "night/tokopedia.results.csv"],
    ]


@pytest.mark.parametrize("name", sorted(set(commands()) - {"run"}))
def test_the_other_commands_table_names_exactly_their_flags(name: str) -> None:
    table = README.split("### The other commands", 1)[1].split("\n\n", 2)[1]
    [row] = [line for line in table.splitlines() if line.startswith(f"| `{name}")]
    assert set(re.findall(r"--[a-z-]+", row)) == long_flags(commands()[name])
