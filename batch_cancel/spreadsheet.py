"""An `.xlsx` export as the lines of a CSV, the way the user sees its cells.

Read with the standard library (zipfile + xml.etree's iterparse; BENCHMARKS.md,
"Spreadsheets as shown" says why not calamine) and handed to the loader as CSV
lines (`SheetSource` has the interface of `inputfile.Source`), so a sheet gets
exactly the validation, outcomes and results a CSV gets. What is read is what a
person sees in Excel (README, "Spreadsheets"):

- the sheet: the one named by `sheet`, else the only visible one; hidden and
  very hidden sheets are never read unless named;
- a cell's text: a number through its number format (`0000000000` pads with
  zeros, `"SO-"0` keeps its literal text); General shows an integral number's
  digits (12345, not 12345.0) and a number past 2^53, whose digits the workbook
  has already lost, as Excel does (1.23457E+15), which the loader makes
  `invalid`. A date or time is never an order number (`date_cells`);
- a merged range shows its value in every row of the range;
- bounded: the parts read, the text shown and the sheet's area have limits
  checked before or while reading, never after the memory is spent.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import os
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO
from xml.etree.ElementTree import Element, ParseError, iterparse

from .errors import InputFileChangedError, InputFileError

SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm")
# Integers up to 2^53 are exact in a double; beyond it digits may be lost.
EXACT_INTEGER_LIMIT = 2**53

# The limits that bound a workbook's memory (README, "Spreadsheets"): the XML of the
# parts read, uncompressed, as the zip declares it (zipfile never inflates past that);
MAX_XML_BYTES = 128 * 2**20
# what deflate can give at most (about 1032:1): a larger claim is a damaged or hostile zip;
MAX_RATIO = 1100
# Excel's own limit on one cell;
MAX_CELL_CHARS = 32_767
# the text shown over the whole sheet (a shared string shown in many cells counts each time);
MAX_SHOWN_CHARS = 256 * 2**20
# rows x columns of the area read: a cell at XFD1048576 would make 17 billion.
MAX_CELLS = 20_000_000


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
        read = read_sheet(path, sheet)
        self._rows = read.rows
        self._width = read.width
        # 1-based sheet row -> the 0-based columns whose cell holds a date or time.
        self.date_cells = read.date_cells
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
        width = self._width
        for number in range(1, max(self._rows, default=0) + 1):
            row = self._rows.get(number, [])
            writer.writerow(row + [""] * (width - len(row)))
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()

    def head_text(self) -> str:
        return next(self.lines(), "")

    @property
    def data_rows(self) -> int:
        """The rows the loader will give, counted: those with a value, less the header."""
        return max(sum(any(cell.strip() for cell in row) for row in self._rows.values()) - 1, 0)

    def first_line_bytes(self) -> int:
        """The header row as the CSV line it becomes, in UTF-8 bytes (inputfile.Source's)."""
        return len(self.head_text().rstrip("\r\n").encode())


@dataclass
class Sheet:
    """The cells shown: 1-based row -> its cells' text from column A (blank rows absent)."""

    rows: dict[int, list[str]] = field(default_factory=dict)
    width: int = 0
    date_cells: dict[int, set[int]] = field(default_factory=dict)


def read_sheet(path: Path, sheet: str | None) -> Sheet:
    """The sheet (see the module's docstring) as text, header first; refused if unbounded."""
    try:
        with zipfile.ZipFile(path) as archive:
            return _Workbook(path, archive).read(sheet)
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such file") from None
    except zipfile.BadZipFile as exc:  # not a zip, or a part that fails its CRC
        raise InputFileError(f"{path}: cannot read the workbook: {exc}") from exc
    except ParseError as exc:
        raise InputFileError(f"{path}: cannot read the workbook: damaged XML ({exc})") from exc
    except (OSError, EOFError, KeyError, ValueError, IndexError) as exc:
        raise InputFileError(
            f"{path}: cannot read the workbook ({type(exc).__name__}: {exc})"
        ) from exc


def _local(tag: str) -> str:
    """A tag without its namespace: Strict OOXML and transitional use different ones."""
    return tag.rpartition("}")[2]


# Built-in number formats that show a date or a time (ECMA-376 18.8.30, and the East
# Asian ones Excel writes by id alone).
_DATE_FORMAT_IDS = frozenset({*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)})
_BUILTIN_FORMATS = {1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00", 9: "0%", 10: "0.00%"}
_TEXT_FORMAT_ID = 49  # "@"
# A format's parts: quoted text, an escaped character, [brackets], _x (a space), *x (a fill).
_FORMAT_TOKENS = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|_.|\*.|.', re.DOTALL)
_DATE_LETTERS = frozenset("ymdhsYMDHS")
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz$"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
STRICT_REL_NS = "http://purl.oclc.org/ooxml/officeDocument/relationships"


class _Workbook:
    def __init__(self, path: Path, archive: zipfile.ZipFile) -> None:
        self.path = path
        self.archive = archive
        self.names = {info.filename: info for info in archive.infolist()}

    def read(self, wanted: str | None) -> Sheet:
        if "xl/workbook.xml" not in self.names:
            raise InputFileError(f"{self.path}: not an .xlsx workbook (no xl/workbook.xml)")
        sheets, date1904 = self._sheets()
        part = self._choose(sheets, wanted)
        parts = [p for p in ("xl/sharedStrings.xml", "xl/styles.xml") if p in self.names]
        self._check_sizes(["xl/workbook.xml", "xl/_rels/workbook.xml.rels", *parts, part])
        strings = self._shared_strings()
        formats = self._formats()
        return _SheetReader(self.path, strings, formats, date1904).read(self.archive.open(part))

    def _root(self, name: str) -> Element:
        with self.archive.open(name) as stream:
            return _parse(self.path, stream)

    def _sheets(self) -> tuple[list[tuple[str, str, str]], bool]:
        """(name, state, part) of every worksheet in workbook order; the 1904 date system?"""
        self._check_sizes(["xl/workbook.xml", "xl/_rels/workbook.xml.rels"])
        targets: dict[str | None, str] = {}
        if "xl/_rels/workbook.xml.rels" in self.names:
            for relation in self._root("xl/_rels/workbook.xml.rels"):
                target = relation.get("Target", "")
                base = "" if target.startswith("/") else "xl/"
                targets[relation.get("Id")] = os.path.normpath(base + target.lstrip("/"))
        workbook = self._root("xl/workbook.xml")
        sheets = []
        date1904 = False
        for element in workbook.iter():
            name = _local(element.tag)
            if name == "workbookPr":
                date1904 = element.get("date1904") in ("1", "true")
            elif name == "sheet":
                rel_id = element.get(f"{{{REL_NS}}}id") or element.get(f"{{{STRICT_REL_NS}}}id")
                target = PurePosixPath(targets.get(rel_id, "")).as_posix()
                if target.startswith("xl/worksheets/"):  # not a chart sheet
                    sheets.append(
                        (element.get("name", ""), element.get("state", "visible"), target)
                    )
        return sheets, date1904

    def _choose(self, sheets: list[tuple[str, str, str]], wanted: str | None) -> str:
        if wanted is not None:
            for name, _state, part in sheets:
                if name == wanted:
                    return part
            raise InputFileError(
                f"{self.path}: no sheet named {wanted!r}; its sheets: "
                + ", ".join(repr(name) for name, _state, _part in sheets)
            )
        visible = [(name, part) for name, state, part in sheets if state == "visible"]
        if len(visible) == 1:
            return visible[0][1]
        if not visible:
            raise InputFileError(f"{self.path}: the workbook has no visible sheet")
        raise InputFileError(
            f"{self.path}: the workbook has {len(visible)} visible sheets ("
            + ", ".join(repr(name) for name, _part in visible)
            + "); name the one to read with --sheet NAME or the source's sheet key"
        )

    def _check_sizes(self, names: list[str]) -> None:
        total = 0
        for name in names:
            info = self.names.get(name)
            if info is None:
                if name.startswith("xl/worksheets/"):
                    raise InputFileError(f"{self.path}: the sheet's part {name} is missing")
                continue
            if info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise InputFileError(
                    f"{self.path}: refused: {name} claims {info.file_size:,} bytes from "
                    f"{info.compress_size:,} compressed, more than a zip can hold (a damaged "
                    "or hostile file)"
                )
            total += info.file_size
        if total > MAX_XML_BYTES:
            raise InputFileError(
                f"{self.path}: refused: the sheet's XML would be {total / 2**20:,.0f} MiB "
                f"uncompressed, more than the {MAX_XML_BYTES // 2**20} MiB limit of a "
                "workbook; save it as CSV UTF-8, or split it"
            )

    def _shared_strings(self) -> list[str]:
        if "xl/sharedStrings.xml" not in self.names:
            return []
        strings = []
        with self.archive.open("xl/sharedStrings.xml") as stream:
            for _event, element in _events(self.path, stream):
                if _local(element.tag) == "si":
                    text = _inline_text(element)
                    if len(text) > MAX_CELL_CHARS:
                        raise _too_long(self.path, len(text))
                    strings.append(text)
                    element.clear()
        return strings

    def _formats(self) -> dict[int, _Format]:
        """Each cell style (the `s` of a cell) whose number format changes what is shown."""
        if "xl/styles.xml" not in self.names:
            return {}
        codes: dict[int, str] = dict(_BUILTIN_FORMATS)
        formats: dict[int, _Format] = {}
        styles = self._root("xl/styles.xml")
        for element in styles.iter():
            if _local(element.tag) == "numFmt":
                codes[int(element.get("numFmtId", "0"))] = element.get("formatCode", "")
        for element in styles:
            if _local(element.tag) != "cellXfs":
                continue
            for index, xf in enumerate(element):
                format_id = int(xf.get("numFmtId", "0"))
                number_format = _Format.of(format_id, codes.get(format_id, "General"))
                if number_format is not None:
                    formats[index] = number_format
        return formats


class _NoDeclarations:
    """A part's bytes, refused at the first <!DOCTYPE or <!ENTITY: an .xlsx has none, and
    entities are how a few bytes of XML expand into gigabytes (a "billion laughs")."""

    def __init__(self, path: Path, stream: IO[bytes]) -> None:
        self.path = path
        self.stream = stream
        self.tail = b""

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        if b"<!" in self.tail + data:
            seen = (self.tail + data).upper()
            if b"<!DOCTYPE" in seen or b"<!ENTITY" in seen:
                raise InputFileError(
                    f"{self.path}: refused: the workbook's XML declares a DOCTYPE or entities "
                    "(a damaged or hostile file)"
                )
        self.tail = data[-8:]
        return data


def _events(path: Path, stream: IO[bytes]) -> Iterator[tuple[str, Element]]:
    """iterparse of a part, without declarations (see _NoDeclarations)."""
    return iterparse(_NoDeclarations(path, stream))  # noqa: S314 (no DTD gets through)


def _parse(path: Path, stream: IO[bytes]) -> Element:
    root = None
    for _event, element in _events(path, stream):
        root = element
    if root is None:
        raise InputFileError(f"{path}: cannot read the workbook: an empty part")
    return root


def _inline_text(element: Element) -> str:
    """The text of a string item: its runs' <t>, without the phonetic guide (<rPh>)."""
    parts = []
    for child in element:
        name = _local(child.tag)
        if name == "t":
            parts.append(child.text or "")
        elif name == "r":
            parts.extend(t.text or "" for t in child if _local(t.tag) == "t")
    return "".join(parts)


def _too_long(path: Path, length: int) -> InputFileError:
    return InputFileError(
        f"{path}: refused: a cell holds {length:,} characters, more than Excel's "
        f"{MAX_CELL_CHARS:,} (a damaged or hostile file)"
    )


class _Format:
    """A number format that shows a number other than as General does."""

    def __init__(self, code: str, *, is_date: bool) -> None:
        self.code = code
        self.is_date = is_date
        tokens = _FORMAT_TOKENS.findall(code)
        self.letters = frozenset(t for t in tokens if len(t) == 1)
        self.sections: list[list[str]] = [[]]
        for token in tokens:
            if token == ";":  # noqa: S105 (a format's section separator)
                self.sections.append([])
            else:
                self.sections[-1].append(token)
        # The common integer formats (0000000000, #,##0) drawn in one step: (zeros, grouped).
        first = self.sections[0]
        self.integer: tuple[int, bool] | None = None
        if len(self.sections) == 1 and first and set(first) <= {"0", "#", ","}:
            zeros, grouped = first.count("0"), "," in first[:-1]
            if first[-1] != "," and not (grouped and zeros > 1):
                self.integer = (zeros, grouped)

    @classmethod
    def of(cls, format_id: int, code: str) -> _Format | None:
        if format_id in _DATE_FORMAT_IDS:
            return cls(code, is_date=True)
        if format_id == _TEXT_FORMAT_ID or code in ("General", "@", ""):
            return None  # a number in a Text cell shows as General
        plain = [t for t in _FORMAT_TOKENS.findall(code.split(";")[0]) if len(t) == 1]
        is_date = any(t in _DATE_LETTERS for t in plain) and not any(t in "0#?" for t in plain)
        return cls(code, is_date=is_date)

    def show(self, value: float) -> str | None:
        """The number as this format shows it; None: a format this reader does not draw."""
        if self.integer is not None and value >= 0 and value.is_integer():
            zeros, grouped = self.integer
            whole = int(value)
            return (
                f"{whole:,}" if grouped else str(whole).rjust(zeros, "0") if whole else "0" * zeros
            )
        sections = self.sections
        tokens = sections[0]
        sign = ""
        if value < 0:
            if len(sections) > 1:
                tokens = sections[1]
            else:
                sign = "-"
            value = -value
        elif value == 0 and len(sections) > 2:
            tokens = sections[2]
        return _draw(tokens, value, sign)


def _draw(tokens: list[str], value: float, sign: str) -> str | None:  # noqa: C901 (one pass over a sheet XML event stream)
    """Digits into the placeholders (0 pads with a zero, ? with a space, # with nothing),
    literal text kept where it stands; scientific and fraction formats are not drawn."""
    if any(t in ("E", "e", "/", "@") for t in tokens):
        return None
    point = tokens.index(".") if "." in tokens else len(tokens)
    whole = [i for i in range(point) if tokens[i] in "0#?"]
    decimals = [i for i in range(point + 1, len(tokens)) if tokens[i] in "0#?"]
    value *= 100 ** tokens.count("%")
    # A comma right after the last digit placeholder divides by 1000; between them, it groups.
    last = whole[-1] if whole else -1
    scaling = 0
    while last + 1 + scaling < point and tokens[last + 1 + scaling] == ",":
        scaling += 1
    value /= 1000**scaling
    grouped = any(tokens[i] == "," for i in range(whole[0], last)) if whole else False
    text = f"{value:.{len(decimals)}f}"
    integer, _, fraction = text.partition(".")
    minimum = sum(1 for i in whole if tokens[i] == "0")
    integer = "" if integer == "0" and not minimum else integer
    integer = integer.rjust(minimum, "0")
    if grouped:
        integer = f"{int(integer or 0):,}".rjust(len(integer), "0") if integer else ""
    out = [""] * len(tokens)
    digits = list(integer)
    for position in reversed(whole):  # from the right; the leftmost takes what is left
        if position == whole[0]:
            out[position] = "".join(digits)
        elif digits:
            out[position] = digits.pop()
        else:
            out[position] = " " if tokens[position] == "?" else ""
    for position, digit in zip(decimals, fraction, strict=True):
        out[position] = digit
    for position in reversed(decimals):  # '#' drops trailing zeros, '?' shows them as spaces
        if out[position] != "0" or tokens[position] == "0":
            break
        out[position] = "" if tokens[position] == "#" else " "
    for index, token in enumerate(tokens):
        if index in whole or index in decimals or (token == "," and index <= point):  # noqa: S105
            continue
        if token == "." and index == point:  # noqa: S105
            out[index] = "."
        elif token.startswith('"'):
            out[index] = token[1:-1]
        elif token.startswith(("\\", "_")):
            out[index] = token[1] if token[0] == "\\" else " "
        elif token.startswith("["):
            # [Red], [>100]: not shown; [$Rp-421]: the currency text before the dash.
            out[index] = token[2:].split("-")[0] if token.startswith("[$") else ""
        elif not token.startswith("*"):
            out[index] = token
    return sign + "".join(out)


class _SheetReader:
    def __init__(
        self, path: Path, strings: list[str], formats: dict[int, _Format], date1904: bool
    ) -> None:
        self.path = path
        self.strings = strings
        self.formats = formats
        self.epoch = dt.datetime(1904, 1, 1) if date1904 else _EXCEL_EPOCH
        self.columns: dict[str, int] = {}
        self.sheet = Sheet()
        self.shown = 0

    def read(self, stream: IO[bytes]) -> Sheet:
        merges: list[str] = []
        row_number = 0
        row_tag = merge_tag = ""
        with stream:
            for _event, element in _events(self.path, stream):
                tag = element.tag
                if not row_tag:  # the namespace, once: Strict OOXML has its own
                    namespace = tag[: tag.index("}") + 1] if tag.startswith("{") else ""
                    row_tag, merge_tag = namespace + "row", namespace + "mergeCell"
                    self.v_tag, self.is_tag = namespace + "v", namespace + "is"
                if tag == row_tag:
                    row_number = int(element.get("r") or row_number + 1)
                    self._row(row_number, element)
                    element.clear()
                elif tag == merge_tag:
                    merges.append(element.get("ref", ""))
        self._merge(merges)
        sheet = self.sheet
        if not sheet.rows:
            raise InputFileError(f"{self.path}: the sheet is empty (no header row)")
        self._check_area(max(sheet.rows), sheet.width)
        return sheet

    def _column(self, ref: str) -> int:
        letters = ref.rstrip("0123456789")
        index = self.columns.get(letters)
        if index is None:
            index = 0
            for letter in letters.upper():
                index = index * 26 + ord(letter) - 64
            index = self.columns[letters] = index - 1
            if not 0 <= index < 16384:
                raise ValueError(f"a cell reference {ref!r} outside the sheet")
        return index

    def _row(self, number: int, element: Element) -> None:
        cells: list[str] = []
        column = -1
        strings, v_tag = self.strings, self.v_tag
        for cell in element:
            ref = cell.get("r")
            column = self._column(ref) if ref else column + 1
            kind = cell.get("t")
            if kind == "s":  # most text: a shared string
                value = cell.findtext(v_tag)
                text = strings[int(value)] if value else ""
            elif kind is None or kind == "n":
                value = cell.findtext(v_tag)
                text = self._number(number, column, value, cell.get("s")) if value else ""
            else:
                text = self._other(number, column, kind, cell)
            if not text:
                continue
            if column >= len(cells):
                self._check_area(number, column + 1)
                cells.extend([""] * (column + 1 - len(cells)))
            cells[column] = text
        if cells:
            self.sheet.rows[number] = cells
            self.sheet.width = max(self.sheet.width, len(cells))
            self.shown += sum(map(len, cells))
            if self.shown > MAX_SHOWN_CHARS:
                raise InputFileError(
                    f"{self.path}: refused: the sheet shows more than "
                    f"{MAX_SHOWN_CHARS // 2**20} MiB characters of text (a shared string "
                    "repeated in many cells?); save it as CSV UTF-8, or split it"
                )

    def _other(self, row: int, column: int, kind: str, cell: Element) -> str:
        """A cell that is neither a shared string nor a number."""
        if kind == "inlineStr":
            item = cell.find(self.is_tag)
            text = "" if item is None else _inline_text(item)
        else:
            text = cell.findtext(self.v_tag) or ""
            if kind == "b":
                return "TRUE" if text.strip() == "1" else "FALSE" if text else ""
            if kind == "d" and text:
                self.sheet.date_cells.setdefault(row, set()).add(column)
            # otherwise str (a formula's text) or e (an error such as #N/A)
        if len(text) > MAX_CELL_CHARS:
            raise _too_long(self.path, len(text))
        return text

    def _number(self, row: int, column: int, value: str, style: str | None) -> str:
        number: float | int = int(value) if value.isdigit() else float(value)
        shown = self.formats.get(int(style)) if style else None
        # Past 2^53 a double's digits are lost: drawn as General (invalid as an order number),
        # never through a format that would show made-up digits.
        if shown is None or abs(number) >= EXACT_INTEGER_LIMIT:
            return general(number)
        if shown.is_date:
            self.sheet.date_cells.setdefault(row, set()).add(column)
            return self._date(float(number), shown.letters)
        drawn = shown.show(float(number)) if math.isfinite(number) else None
        return general(number) if drawn is None else drawn

    def _date(self, serial: float, letters: frozenset[str]) -> str:
        moment = self.epoch + dt.timedelta(days=serial)
        if serial < 1 and not letters & set("ydYD"):
            return moment.time().isoformat()
        if moment.time() == dt.time() and not letters & set("hsHS"):
            return moment.date().isoformat()
        return moment.isoformat(sep=" ")

    def _merge(self, refs: list[str]) -> None:
        """A merged range shows its top-left cell's value: every row of it holds that value,
        in the range's first column (a header merged across columns stays one column). A row
        whose only text would come from a merge stays blank (a merge past the data adds none)."""
        rows, dates = self.sheet.rows, self.sheet.date_cells
        with_text = {number for number, cells in rows.items() if any(cells)}
        for ref in refs:
            first, _, last = ref.partition(":")
            top, column = int(first.lstrip(_LETTERS)), self._column(first)
            bottom = int(last.lstrip(_LETTERS)) if last else top
            origin = rows.get(top, [])
            value = origin[column] if column < len(origin) else ""
            if not value or bottom <= top:
                continue
            self._check_area(bottom, self.sheet.width)
            dated = column in dates.get(top, ())
            for number in with_text.intersection(range(top + 1, bottom + 1)):
                cells = rows[number]
                if len(cells) <= column:
                    cells.extend([""] * (column + 1 - len(cells)))
                cells[column] = value
                if dated:
                    dates.setdefault(number, set()).add(column)

    def _check_area(self, rows: int, columns: int) -> None:
        if rows * columns > MAX_CELLS:
            raise InputFileError(
                f"{self.path}: refused: the sheet's cells reach row {rows:,} and column "
                f"{columns:,}, more than {MAX_CELLS:,} cells; delete the stray cells far "
                "from the data, or save it as CSV UTF-8"
            )


def general(value: float | int) -> str:
    """A number as Excel's General format shows it in a cell, for an order number's sake."""
    if isinstance(value, float) and math.isnan(value):
        return ""
    if abs(value) >= EXACT_INTEGER_LIMIT:
        # A workbook holds numbers as doubles: past 2^53 digits are already lost.
        return f"{float(value):.5E}"
    if isinstance(value, int) or value.is_integer():
        return str(int(value))
    return repr(value)
