"""Read the orders CSV as a stream and turn every data row into a LoadedRow.

Every data row comes out exactly once, in file order, either with a request to
send or with a verdict (invalid, duplicate). Reading is streamed, so the first
request can leave before the whole file is read.

Exports arrive from marketplace back-offices, spreadsheets and ERP scripts, so
the reader expects damage (README, "Input files"):
- the file as a whole (exists, is text, which encoding) is settled first by
  `inputfile.open_source`; the header then, here: one line, names that are not
  ambiguous, the required columns present;
- rows are read with the standard library's csv module, which gives each row's
  true field count: a row with more or fewer fields than the header, or after
  a quote that never closes, is an `invalid` row with a message, never a crash
  or a lost row; a line that repeats the header (two exports joined) is one too;
- values lose the invisible debris of copy and paste and are NFC-normalised
  before their lengths are checked; control characters and spreadsheet damage
  (an order number in scientific notation) make the row invalid (`row_rules`).
"""

from __future__ import annotations

import csv
import itertools
import logging
import re
from collections.abc import Generator, Iterator, Sequence

from .config import InputOptions
from .errors import InputFileError, MissingColumnsError
from .inputfile import Source, open_source
from .models import (
    FIELDS,
    CancelRequest,
    LoadedRow,
    LocalCode,
    Outcome,
    RowResult,
)
from .row_rules import _date_as_order_no, _invalid, _is_blank, _quick_request
from .row_rules import validate_row as validate_row
from .schema import (
    DELIMITER_NAMES,
    SENT_COLUMNS,
    STATUS_COLUMN,
    detect_delimiter,
    header_key,
    unsafe_cell,
)
from .spreadsheet import SheetSource, is_spreadsheet
from .text import TRIM

log = logging.getLogger(__name__)

MAX_HEADER_BYTES = 64 * 1024


class SeenOrders:
    """The first row of every valid order seen tonight, across the night's files.

    warehouse_id -> order_no -> (file << ROW_BITS) + row: one int per row, not a
    tuple, which keeps a 1M-row night small (it is most of the memory).
    """

    ROW_BITS = 40

    def __init__(self) -> None:
        self.first: dict[str, dict[str, int]] = {}
        self.names: dict[int, str] = {}  # file -> its name, for messages

    def describe(self, earlier: int, file: int) -> str:
        earlier_file, row = earlier >> self.ROW_BITS, earlier & ((1 << self.ROW_BITS) - 1)
        if earlier_file == file:
            return f"row {row}"
        return f"row {row} of {self.names.get(earlier_file, '?')}"


class _End:
    """Set once the lines run out: a record csv returns after that was inside an open quote."""

    reached = False


def _noting_end(lines: Iterator[str], end: _End) -> Iterator[str]:
    yield from lines
    end.reached = True


class OrdersFile:
    """An opened orders CSV: file and header checked on construction, rows streamed by `rows()`.

    `notes` collects what the operator should hear about the file as a whole (lines
    read as cp1252, a file with no data rows, ...); it is complete once `rows()`
    has been read to the end. Each note is also logged as it is found.
    """

    def __init__(
        self, options: InputOptions, *, file: int = 0, seen: SeenOrders | None = None
    ) -> None:
        self.options = options
        self.path = options.path
        self._file = file  # its place among the night's files
        self._seen = seen if seen is not None else SeenOrders()
        self._seen.names[file] = options.path.name
        self._file_notes: list[str] = []
        self._row_notes: list[str] = []
        self._source: Source | SheetSource = (
            SheetSource(options.path, options.sheet)
            if is_spreadsheet(options.path)
            else open_source(options.path, options.encoding)
        )
        self.encoding = self._source.label  # what it is read as; see also notes (cp1252 lines)
        header_line = self._header_line()
        self.delimiter = options.delimiter or detect_delimiter(header_line)
        self.header = [name.strip(TRIM) for name in self._header_record()]
        # A results file fed back as input: its cells were made spreadsheet-safe when it
        # was written, and the API must get the real values ("-503", not "'-503").
        self._written_by_us = STATUS_COLUMN in self.header
        if self._written_by_us:
            self.header = [unsafe_cell(name) for name in self.header]
        self._field_index = self._map_fields()
        self._check_header_names()
        self.line = 1  # the file line where the row rows() last gave ends (for messages)

    @property
    def notes(self) -> list[str]:
        return self._file_notes + self._row_notes

    def _note(self, message: str) -> None:
        log.warning("%s", message)
        self._file_notes.append(message)

    def _header_line(self) -> str:
        """The first line, for the delimiter guess; read a bounded amount, whatever the file."""
        head = self._source.head_text()
        line = re.split("[\r\n]", head, maxsplit=1)[0]
        if self._source.first_line_bytes() > MAX_HEADER_BYTES:  # bytes: a character may be 4
            raise InputFileError(
                f"{self.path}: the first line is longer than {MAX_HEADER_BYTES // 1024} KiB; "
                "that is not a CSV header"
            )
        if not line.strip(TRIM):
            if not head.strip():
                raise InputFileError(f"{self.path}: file is empty (no header line)")
            raise InputFileError(
                f"{self.path}: the first line is blank; the header must be the first line"
            )
        return line

    def _records(self, end: _End) -> Iterator[list[str]]:
        return csv.reader(_noting_end(self._source.lines(), end), delimiter=self.delimiter)

    def _header_record(self) -> list[str]:
        end = _End()
        records = self._records(end)
        header = next(records)
        if end.reached:
            raise InputFileError(f"{self.path}: a quote in the header line never closes")
        if records.line_num > 1:  # type: ignore[attr-defined]
            raise InputFileError(
                f"{self.path}: the header line has a quoted line break; put the header on one line"
            )
        return header

    def _map_fields(self) -> dict[str, int | None]:
        """Column index of each field, or None where a default fills it."""
        defaults = {
            "warehouse_id": self.options.default_warehouse_id,
            "cancel_reason": self.options.default_cancel_reason,
        }
        if not any(self.header):
            raise InputFileError(f"{self.path}: the header line has no column names")
        keys = [header_key(name) for name in self.header]
        field_index: dict[str, int | None] = {}
        missing: list[str] = []
        # A results file fed back records the values it sent: those, unless --map says
        # otherwise; a row sent nothing for (invalid) falls back to its own columns.
        sent = {
            name: self.header.index(column)
            for column, name in SENT_COLUMNS.items()
            if self._written_by_us and column in self.header
        }
        self._fallbacks: list[tuple[int, int]] = []
        for name in FIELDS:
            wanted = self.options.column_map.get(name, name)
            matches = [index for index, key in enumerate(keys) if key == header_key(wanted)]
            if name in sent and name not in self.options.column_map:
                if matches:
                    self._fallbacks.append((sent[name], matches[0]))
                field_index[name] = sent[name]
                continue
            if len(matches) > 1:
                columns = " and ".join(str(index + 1) for index in matches)
                raise InputFileError(
                    f"{self.path}: the column {wanted!r} appears more than once (columns "
                    f"{columns}), so {name} is ambiguous; rename one, or --map {name} to another"
                )
            if not matches and not defaults.get(name):
                missing.append(name if wanted == name else f"{name} (mapped to {wanted!r})")
            field_index[name] = matches[0] if matches else None
        if missing:
            raise MissingColumnsError(self.path, missing, self.header)
        return field_index

    def _check_header_names(self) -> None:
        """Duplicate or blank names of other columns do no harm here, but say so."""
        seen: dict[str, int] = {}
        for index, name in enumerate(self.header):
            if not name:
                if index < self._min_fields:
                    self._note(f"{self.path}: column {index + 1} has no name in the header")
                continue
            key = header_key(name)
            if key in seen:
                self._note(
                    f"{self.path}: columns {seen[key] + 1} and {index + 1} are both named "
                    f"{name!r}; both are copied to the results"
                )
            else:
                seen[key] = index

    @property
    def _min_fields(self) -> int:
        """Rows may leave out unnamed columns at the end of the header (a trailing delimiter)."""
        width = len(self.header)
        while width > 1 and not self.header[width - 1]:
            width -= 1
        return width

    # --- rows ------------------------------------------------------------------------

    @property
    def counted_rows(self) -> int | None:
        """A sheet's data rows, counted as it was read; None for a CSV (not read yet)."""
        return self._source.data_rows if isinstance(self._source, SheetSource) else None

    def rows(self) -> Iterator[LoadedRow]:
        """Every data row once, in file order; duplicates of an earlier valid row flagged."""
        self._row_notes = []
        source_row = yield from self._parsed_rows()
        source = self._source
        if source.cp1252_lines:
            self._row_note(
                f"{self.path}: {_lines_named(source.cp1252_lines)} not valid UTF-8, read as "
                "Windows-1252 (cp1252): check accented letters in those rows, or pass --encoding"
            )
        if source_row == 0:
            # A quiet night, not a problem: one line in the summary, nothing in the log.
            self._row_notes.append(f"{self.path}: no data rows (only a header): nothing to do")

    def order_no_of(self, row: LoadedRow) -> str:
        """The row's order number, as sent or as its cell holds it (for messages)."""
        if row.request is not None:
            return row.request.order_no
        index = self._field_index["order_no"]
        return row.cells[index].strip(TRIM) if index is not None and index < len(row.cells) else ""

    def _row_note(self, message: str) -> None:
        log.warning("%s", message)
        self._row_notes.append(message)

    def _parsed_rows(self) -> Generator[LoadedRow, None, int]:  # noqa: C901 (the per-row hot loop, kept whole (BENCHMARKS.md))
        """The rows csv reads; returns the last source_row."""
        width = len(self.header)
        min_fields = self._min_fields
        order_index, warehouse_index, reason_index, order_key = self._key_fields()
        default_warehouse, default_reason = self._defaults()
        written_by_us = self._written_by_us
        first_seen = self._seen.first
        file = self._file
        file_base = file << SeenOrders.ROW_BITS
        source_row = only_delimiters = 0
        end = _End()
        records = self._records(end)
        next(records)  # the header, checked in __init__
        last_line = records.line_num  # type: ignore[attr-defined]
        row: LoadedRow | None = None
        # A workbook's cells that hold a date or time, by sheet row: never an order number.
        dated = self._source.date_cells if isinstance(self._source, SheetSource) else {}
        sheet_row = 1  # a sheet gives one record per row, its header first
        for record in records:
            sheet_row += 1
            if end.reached:
                return (yield from self._unclosed_rows(last_line + 1, source_row))
            last_line = self.line = records.line_num  # type: ignore[attr-defined]
            count = len(record)
            if not (min_fields <= count <= width or (count == width + 1 and not record[-1])):
                # Not a row: a blank line or a line of delimiters.
                if count <= width and _is_blank(record):
                    only_delimiters += count > 1
                    continue
                source_row += 1
                row = self._misshapen_row(source_row, record, count)
                yield row
                continue
            if written_by_us:
                record = self._our_record(record, count)
            elif count != width:
                record = record[:width] if count > width else record + [""] * (width - count)
            cells = tuple(record)
            if dated and order_index in dated.get(sheet_row, ()):
                source_row += 1
                row = self._dated_row(source_row, cells, order_index)
                yield row
                continue
            order_no = cells[order_index]
            warehouse_id = "" if warehouse_index is None else cells[warehouse_index]
            reason = "" if reason_index is None else cells[reason_index]
            quick = _quick_request(
                source_row + 1,
                order_no,
                warehouse_id or default_warehouse,
                reason or default_reason,
            )
            # A quick row's order_no is printable and NFC already: its header_key is
            # its casefold (a repeated header line is checked closely).
            if quick is None or quick.order_no.casefold() == order_key:
                checked = self._check_closely(
                    source_row + 1, cells, order_no, warehouse_id, reason, order_key
                )
                if checked is None:
                    only_delimiters += 1
                    continue
            else:
                checked = quick
            source_row += 1
            if isinstance(checked, RowResult):
                row = LoadedRow(source_row, cells, None, checked, file)
            else:
                seen_here = first_seen.get(checked.warehouse_id)
                if seen_here is None:
                    seen_here = first_seen[checked.warehouse_id] = {}
                here = file_base + source_row
                earlier = seen_here.setdefault(checked.order_no, here)
                if earlier != here:
                    row = self._duplicate_row(source_row, cells, checked, earlier)
                else:
                    row = LoadedRow(source_row, cells, checked, None, file)
            yield row
        self._note_the_end(only_delimiters, row, order_index)
        return source_row

    def _key_fields(self) -> tuple[int, int | None, int | None, str]:
        """The indexes of order_no, warehouse_id and cancel_reason; order_no's header key."""
        order_index, warehouse_index, reason_index = map(self._field_index.get, FIELDS)
        assert order_index is not None  # order_no has no default
        return order_index, warehouse_index, reason_index, header_key(self.header[order_index])

    def _defaults(self) -> tuple[str, str]:
        """The warehouse_id and cancel_reason a row without its own gets."""
        default_warehouse = (self.options.default_warehouse_id or "").strip(TRIM)
        return default_warehouse, (self.options.default_cancel_reason or "").strip(TRIM)

    def _our_record(self, record: list[str], count: int) -> list[str]:
        """A row of a results file this tool wrote: its cells as they were, its columns filled."""
        width = len(self.header)
        record = [unsafe_cell(cell) for cell in record]
        if count != width:
            record = record[:width] if count > width else record + [""] * (width - count)
        for sent_at, own_at in self._fallbacks:
            if not record[sent_at].strip():
                record[sent_at] = record[own_at]
        return record

    def _dated_row(self, source_row: int, cells: tuple[str, ...], order_index: int) -> LoadedRow:
        verdict = _date_as_order_no(source_row, cells[order_index])
        return LoadedRow(source_row, cells, None, verdict, self._file)

    def _misshapen_row(self, source_row: int, record: list[str], count: int) -> LoadedRow:
        width = len(self.header)
        verdict = self._wrong_width(source_row, count)
        return LoadedRow(source_row, tuple(record[:width]), None, verdict, self._file)

    def _duplicate_row(
        self, source_row: int, cells: tuple[str, ...], checked: CancelRequest, earlier: int
    ) -> LoadedRow:
        duplicate = RowResult(
            source_row=source_row,
            status=Outcome.DUPLICATE,
            error_code=LocalCode.DUPLICATE_ROW,
            error_message="same order_no and warehouse_id as "
            + self._seen.describe(earlier, self._file),
        )
        return LoadedRow(source_row, cells, checked, duplicate, self._file)

    def _check_closely(
        self,
        source_row: int,
        cells: tuple[str, ...],
        order_no: str,
        warehouse_id: str,
        reason: str,
        order_key: str,
    ) -> CancelRequest | RowResult | None:
        """The rows `_quick_request` leaves: clean and validate; None for a row of nothing."""
        order_no = order_no.strip(TRIM)
        if not order_no and _is_blank(cells):
            return None
        if header_key(order_no) == order_key:
            return _invalid(
                source_row,
                LocalCode.REPEATED_HEADER,
                "this line repeats the header line (two exports joined into one file?); not sent",
            )
        return validate_row(
            source_row,
            order_no,
            warehouse_id.strip(TRIM) or (self.options.default_warehouse_id or "").strip(TRIM),
            reason.strip(TRIM) or (self.options.default_cancel_reason or "").strip(TRIM),
        )

    def _note_the_end(self, only_delimiters: int, last: LoadedRow | None, order_index: int) -> None:
        if only_delimiters:
            self._row_notes.append(
                f"{self.path}: {only_delimiters} line(s) held only delimiters (no values) and "
                "were skipped like blank lines"
            )
        if self._source.ends_without_line_break and last is not None:
            order_no = last.cells[order_index] if order_index < len(last.cells) else ""
            self._row_note(
                f"{self.path}: the last line (row {last.source_row}, order_no {order_no!r}) "
                "has no line break; if the file was cut off while it was written, check that "
                "order number"
            )

    def _wrong_width(self, source_row: int, count: int) -> RowResult:
        width = len(self.header)
        expected = f"{width}" if self._min_fields == width else f"{self._min_fields} to {width}"
        if count < self._min_fields:
            why = "a value is missing, or a line break inside a value that is not quoted"
        else:
            name = DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))
            why = f"a {name} inside a value that is not quoted?"
        return _invalid(
            source_row,
            LocalCode.WRONG_FIELD_COUNT,
            f"row has {count} field(s) but the header has {expected} ({why}); not sent",
        )

    def _unclosed_rows(self, first_line: int, source_row: int) -> Generator[LoadedRow, None, int]:
        """From an unclosed quote on, every line is reported as an invalid row, none sent.

        By CSV rules the rest of the file is one value; a truncated export or a
        stray quote typed by a buyer is likelier, so each line gets its own row
        (cells split naively, quotes as plain text) for the reviewer to find.
        """
        first_row = source_row + 1
        log.warning(
            "%s: a quote opened in data row %d never closes; that row and every line after it "
            "are reported invalid and not sent",
            self.path,
            first_row,
        )
        width = len(self.header)
        for line in itertools.islice(self._source.lines(), first_line - 1, None):
            text = line.rstrip("\r\n")
            if not text.strip(TRIM):
                continue
            source_row += 1
            cells = next(csv.reader([text], delimiter=self.delimiter, quoting=csv.QUOTE_NONE))
            if source_row == first_row:
                message = (
                    'a quote (") opened in this row never closes, so this row and every '
                    "line after it could not be read; none were sent: fix the quote and "
                    "run again"
                )
            else:
                message = f"not read: after the quote left open in row {first_row}; not sent"
            verdict = _invalid(source_row, LocalCode.UNCLOSED_QUOTE, message)
            yield LoadedRow(source_row, tuple(cells[:width]), None, verdict, self._file)
        return source_row


def _lines_named(lines: Sequence[int], most: int = 10) -> str:
    """'line 7' / '3 lines (4, 9, 12)' / '40 lines (4, 9, ... and 30 more)'."""
    if len(lines) == 1:
        return f"line {lines[0]}"
    shown = ", ".join(map(str, lines[:most]))
    more = f" and {len(lines) - most} more" if len(lines) > most else ""
    return f"{len(lines)} lines ({shown}{more})"
