"""The README and docs/design.md held to the code where the check is mechanical.

The module table and the list of modules without a test file of their own against the
package, the exit-status tables against models.ExitStatus, the demo's steps against
demo.py, and the limits and figures the README states against the constants. (The
flag tables are held to the parser in test_cli_help.py.)
"""

from __future__ import annotations

import ast
import re

import pytest

from batch_cancel import client, demo, pacing, schema, spreadsheet
from batch_cancel.loader import MAX_HEADER_BYTES
from batch_cancel.models import ExitStatus

from .helpers import ROOT

PACKAGE = ROOT / "batch_cancel"
README = (ROOT / "README.md").read_text()
DESIGN = (ROOT / "docs" / "design.md").read_text()
NUMBER_WORDS = {3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight"}


def section(text: str, heading: str) -> str:
    """From the heading to the next heading of any level."""
    after = text.split(f"\n{heading}\n", 1)[1]
    return re.split(r"\n#+ ", after, maxsplit=1)[0]


def table_rows(text: str, header: str) -> list[list[str]]:
    """The cells of the markdown table whose header line starts with `header`."""
    lines = text.split(f"\n{header}", 1)[1].split("\n")[2:]  # past the header and |---|
    rows = []
    for line in lines:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split(" | ")])
    return rows


def package_modules() -> set[str]:
    """Top-level modules and sub-packages, as design.md names them (`cli/`, `formats/`)."""
    modules = {path.stem for path in PACKAGE.glob("*.py")} - {"__init__", "__main__"}
    packages = {f"{path.parent.name}/" for path in PACKAGE.glob("*/__init__.py")}
    return modules | packages


def test_design_module_table_names_every_module_once() -> None:
    named = [
        name
        for first, *_ in table_rows(DESIGN, "| module | owns |")
        for name in re.findall(r"`([\w/]+)`", first)
    ]
    assert sorted(named) == sorted(package_modules())


def test_modules_without_a_test_file_are_the_ones_design_names() -> None:
    testing = section(DESIGN, "## Testing")
    listed = testing.split("except these", 1)[1].split("Unit tests use fakes", 1)[0]
    exceptions = dict(re.findall(r"`(\w+)`\s+\(`(test_\w+\.py)`\)", listed))
    modules = {name for name in package_modules() if not name.endswith("/")}
    untested = {name for name in modules if not (ROOT / "tests" / f"test_{name}.py").exists()}
    assert set(exceptions) == untested
    for test_file in exceptions.values():
        assert (ROOT / "tests" / test_file).exists(), test_file


def test_design_exit_status_table_names_every_status() -> None:
    named = [
        name
        for first, *_ in table_rows(DESIGN, "| `ExitStatus` | when |")
        for name in re.findall(r"`(\w+)`", first)
    ]
    assert sorted(named) == sorted(status.name for status in ExitStatus)


def test_readme_exit_status_table_numbers_every_status() -> None:
    numbers = [
        int(number)
        for first, *_ in table_rows(section(README, "## Exit status"), "| status | meaning |")
        for number in first.split(" / ")
    ]
    assert sorted(numbers) == sorted(int(status) for status in ExitStatus)


def demo_steps() -> list[str]:
    """The title of each `_run(...)` in demo.py (in `_runs` and the helpers it calls), in order."""
    tree = ast.parse((PACKAGE / "demo.py").read_text())
    calls = sorted(
        (node for node in ast.walk(tree) if isinstance(node, ast.Call)),
        key=lambda node: node.lineno,
    )
    titles: list[tuple[int, str]] = []
    for node in calls:
        if getattr(node.func, "id", "") == "_run" and node.args:
            title = node.args[0]
            assert isinstance(title, ast.Constant)
            assert isinstance(title.value, str)
            titles.append((node.lineno, title.value))
    return [title for _line, title in sorted(titles)]  # source order: ast.walk is by depth


def test_demo_docstring_and_readme_count_its_steps() -> None:
    steps = demo_steps()
    assert [title.split(".", 1)[0] for title in steps] == [str(n) for n in range(1, len(steps) + 1)]
    times = f"runs the real CLI {NUMBER_WORDS[len(steps)]} times"
    assert demo.__doc__ is not None
    assert times in " ".join(demo.__doc__.split())
    numbered = re.findall(r"^(\d+)\. ", demo.__doc__, re.M)
    assert numbered == [str(n) for n in range(1, len(steps) + 1)]
    assert times in " ".join(README.split("`make demo` starts the local sandbox", 1)[1].split())


def readme_says(phrase: str) -> bool:
    return phrase in " ".join(README.split())


@pytest.mark.parametrize(
    "phrase",
    [
        f"a header line over {MAX_HEADER_BYTES // 1024} KiB",
        f"only the first {client.MAX_BODY_BYTES // 1024} KiB of an answer is ever read",
        f"cut to {client.MAX_CODE_CHARS} / {client.MAX_MESSAGE_CHARS} / "
        f"{client.MAX_REQUEST_ID_CHARS} characters",
        f"the results file allows a message {schema.MAX_RESULT_TEXT['result_error_message']}",
        f"over {spreadsheet.MAX_XML_BYTES // 2**20} MiB of XML uncompressed",
        f"more than {spreadsheet.MAX_RATIO:,} times its compressed size",
        f"a cell over Excel's {spreadsheet.MAX_CELL_CHARS:,} characters",
        f"more than {spreadsheet.MAX_SHOWN_CHARS // 2**20} Mi characters",
        f"over {spreadsheet.MAX_CELLS // 1_000_000} million cells",
        f"cuts the pace to {round(pacing.CUBIC_BETA * 100)}% of it",
        f"plateau {round((1 - pacing.PLATEAU) * 100)}% (and at least "
        f"{pacing.PLATEAU_MARGIN:g}/s, but at most {round((1 - pacing.PLATEAU_LOWEST) * 100)}%) "
        "below that limit",
        f"pace starts at {pacing.AUTO_START_RATE:g}/s and doubles every second",
        f"had fewer than {pacing.ANSWERS_TO_LEARN} clean answers",
    ],
)
def test_readme_states_the_limits_the_code_has(phrase: str) -> None:
    assert readme_says(phrase)
