"""An `.xlsx` export as the lines of a CSV, the way the user sees its cells.

Read with pandas' `read_excel` (engine: see ENGINE) and handed to the loader as
CSV lines (`SheetSource` has the interface of `inputfile.Source`), so a sheet
gets exactly the validation, outcomes and results a CSV gets. Every cell becomes text:
an order number stored as a number keeps its digits (an integral number becomes
its integer text, 12345 not 12345.0), a text cell stays as typed (leading
zeros kept). A number too large for a double to hold exactly has already lost
digits in the workbook: it is shown as Excel shows it (1.23457E+15), which the
loader's scientific-notation rule makes `invalid`, as for a CSV.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from .errors import InputFileChangedError, InputFileError

SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm")
# Chosen by measurement (BENCHMARKS.md, "Spreadsheets").
ENGINE: Final = "calamine"
# Integers up to 2^53 are exact in a double; beyond it digits may be lost.
EXACT_INTEGER_LIMIT = 2**53


def is_spreadsheet(path: Path) -> bool:
    return path.suffix.lower() in SPREADSHEET_SUFFIXES


class SheetSource:
    """A sheet read once, whole; `lines()` gives it as CSV lines, as often as needed."""

    label = "xlsx"
    cp1252_lines: tuple[int, ...] = ()
    ends_without_line_break = False

    def __init__(self, path: Path, sheet: str | None) -> None:
        self.path = path
        before = os.stat(path) if path.exists() else None
        self._rows = read_sheet(path, sheet)
        after = os.stat(path)
        if before is None or (before.st_size, before.st_mtime_ns) != (
            after.st_size,
            after.st_mtime_ns,
        ):
            raise InputFileChangedError(
                f"{path}: the file changed while it was read; nothing was sent: run again "
                "once the file is complete"
            )

    def lines(self) -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        for row in self._rows:
            writer.writerow(row)
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()

    def head_text(self) -> str:
        return next(self.lines(), "")


def read_sheet(path: Path, sheet: str | None) -> list[list[str]]:
    """The rows of the sheet (the first one by default), header first, every cell as text."""
    import pandas as pd  # only for spreadsheets: CSV nights never pay its import

    try:
        sheet_name: str | int = sheet if sheet is not None else 0
        frame = pd.read_excel(
            path,
            sheet_name=sheet_name,
            header=None,
            dtype="object",
            keep_default_na=False,
            na_filter=False,
            engine=ENGINE,
        )
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such file") from None
    except ValueError as exc:  # a missing sheet, or not a workbook at all
        raise InputFileError(f"{path}: cannot read the workbook: {exc}") from exc
    except Exception as exc:  # the engines raise their own types for damaged files
        raise InputFileError(
            f"{path}: cannot read the workbook ({type(exc).__name__}: {exc})"
        ) from exc
    rows = [[cell_text(value) for value in record] for record in frame.itertuples(index=False)]
    if not rows:
        raise InputFileError(f"{path}: the sheet is empty (no header row)")
    return rows


def cell_text(value: Any) -> str:
    """A cell as the user sees it in the spreadsheet, as text."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        if isinstance(value, float) and math.isnan(value):
            return ""
        if abs(value) >= EXACT_INTEGER_LIMIT:
            # A workbook holds numbers as doubles: past 2^53 digits are already lost
            # (an engine may hand them over as an int all the same).
            return f"{float(value):.5E}"
        if isinstance(value, int) or value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)
