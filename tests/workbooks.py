"""Write small .xlsx workbooks with the standard library, the parts Excel writes.

The tests (and `bench.spreadsheet`) build the workbooks they read here, so every
case is in the test's own words: hidden sheets, number formats, merged cells,
and hostile files (a giant shared string, a far-away cell, a zip that lies).
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_REL = "http://schemas.openxmlformats.org/package/2006/relationships"


@dataclass(frozen=True)
class Formatted:
    """A number shown through a number format: a format code, or a built-in format's id."""

    value: float | int
    format: str | int


@dataclass(frozen=True)
class Raw:
    """A cell written exactly as given (its XML after `<c r="..."`), e.g. a date serial."""

    xml: str


Cell = str | int | float | bool | None | Formatted | Raw


@dataclass
class Sheet:
    name: str
    rows: Sequence[Sequence[Cell]]
    state: str = "visible"  # or "hidden", "veryHidden"
    merges: Sequence[str] = ()  # e.g. "C2:C4"
    extra: str = ""  # XML placed right after <worksheet ...>, e.g. a <dimension>


def column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


@dataclass
class _Styles:
    formats: dict[str | int, int] = field(default_factory=dict)  # format -> xf index

    def index(self, number_format: str | int) -> int:
        return self.formats.setdefault(number_format, len(self.formats) + 1)

    def xml(self) -> str:
        custom: dict[str, int] = {}
        xfs = ['<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>']
        for number_format in self.formats:
            if isinstance(number_format, int):
                format_id = number_format
            else:
                format_id = custom.setdefault(number_format, 164 + len(custom))
            xfs.append(
                f'<xf numFmtId="{format_id}" fontId="0" fillId="0" borderId="0" xfId="0" '
                'applyNumberFormat="1"/>'
            )
        formats = "".join(
            f'<numFmt numFmtId="{format_id}" formatCode={quoteattr(code)}/>'
            for code, format_id in custom.items()
        )
        return (
            f'<styleSheet xmlns="{MAIN}"><numFmts count="{len(custom)}">{formats}</numFmts>'
            '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
            '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
            '<borders count="1"><border/></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
            f'</cellStyleXfs><cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs></styleSheet>'
        )


def _cell_xml(ref: str, value: Cell, strings: dict[str, int], styles: _Styles) -> str:
    if value is None:
        return ""
    if isinstance(value, Raw):
        return f'<c r="{ref}"{value.xml}</c>'
    if isinstance(value, Formatted):
        style = styles.index(value.format)
        return f'<c r="{ref}" s="{style}"><v>{value.value!r}</v></c>'
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float):
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    index = strings.setdefault(value, len(strings))
    return f'<c r="{ref}" t="s"><v>{index}</v></c>'


def _sheet_xml(sheet: Sheet, strings: dict[str, int], styles: _Styles) -> str:
    rows = []
    for number, row in enumerate(sheet.rows, start=1):
        cells = "".join(
            _cell_xml(f"{column_letters(column)}{number}", value, strings, styles)
            for column, value in enumerate(row)
        )
        rows.append(f'<row r="{number}">{cells}</row>')
    merges = "".join(f'<mergeCell ref="{ref}"/>' for ref in sheet.merges)
    merged = f'<mergeCells count="{len(sheet.merges)}">{merges}</mergeCells>' if merges else ""
    return (
        f'<worksheet xmlns="{MAIN}" xmlns:r="{REL}">{sheet.extra}'
        f"<sheetData>{''.join(rows)}</sheetData>{merged}</worksheet>"
    )


def write_workbook(path: Path, sheets: Sequence[Sheet]) -> Path:
    """An .xlsx holding `sheets` in order, text as shared strings, as Excel writes it."""
    strings: dict[str, int] = {}
    styles = _Styles()
    parts = {
        f"xl/worksheets/sheet{number}.xml": _sheet_xml(sheet, strings, styles)
        for number, sheet in enumerate(sheets, start=1)
    }
    entries = "".join(
        f'<sheet name={quoteattr(sheet.name)} sheetId="{number}" '
        + (f'state="{sheet.state}" ' if sheet.state != "visible" else "")
        + f'r:id="rId{number}"/>'
        for number, sheet in enumerate(sheets, start=1)
    )
    parts["xl/workbook.xml"] = (
        f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>{entries}</sheets></workbook>'
    )
    relations = "".join(
        f'<Relationship Id="rId{number}" Type="{REL}/worksheet" '
        f'Target="worksheets/sheet{number}.xml"/>'
        for number in range(1, len(sheets) + 1)
    )
    count = len(sheets)
    relations += (
        f'<Relationship Id="rId{count + 1}" Type="{REL}/sharedStrings" '
        f'Target="sharedStrings.xml"/><Relationship Id="rId{count + 2}" Type="{REL}/styles" '
        'Target="styles.xml"/>'
    )
    parts["xl/_rels/workbook.xml.rels"] = (
        f'<Relationships xmlns="{PACKAGE_REL}">{relations}</Relationships>'
    )
    parts["xl/sharedStrings.xml"] = (
        f'<sst xmlns="{MAIN}" count="{len(strings)}" uniqueCount="{len(strings)}">'
        + "".join(f"<si><t xml:space='preserve'>{escape(text)}</t></si>" for text in strings)
        + "</sst>"
    )
    parts["xl/styles.xml"] = styles.xml()
    parts["_rels/.rels"] = (
        f'<Relationships xmlns="{PACKAGE_REL}"><Relationship Id="rId1" '
        f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{number}.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for number in range(1, len(sheets) + 1)
    )
    parts["[Content_Types].xml"] = (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
        f'officedocument.spreadsheetml.sheet.main+xml"/>{overrides}</Types>'
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return path
