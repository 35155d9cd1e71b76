"""Reading a results CSV back: as review input (`summarize`, `report`) and as run input.

A results file is read in blocks of BLOCK_ROWS lines, once, in order: a block
without a quote character is split at the delimiter line by line (what the csv
module would make of it), any other block goes through the stdlib csv module.
Every cell is text already. A block is checked and counted column by column; only
a block with an error in it is read again row by row, to name the row. Which
columns hold a row's result, and which RowResult field each one records, is
schema.py's RESULT_FIELDS: what ResultsWriter writes is what is read back here.

`run RESULTS.csv --only failed,not_sent` uses `resend_only`: it rebuilds each row's
old verdict from its result columns, so the rows that are not re-sent come out of
the new run unchanged. job.py takes it from here, so a `run` never loads the
review's counting and output code (review.py).
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from itertools import chain, islice
from operator import itemgetter, length_hint
from pathlib import Path
from typing import Any, NamedTuple, Protocol, TextIO

from .errors import ConfigError, InputFileError
from .models import LoadedRow, Outcome, RowResult
from .schema import (
    NUMBER_COLUMNS,
    RESULT_COLUMNS,
    RESULT_FIELDS,
    RESULTS_ENCODING,
    SOURCE_ROW_COLUMN,
    STATUS_COLUMN,
    detect_delimiter,
    header_key,
    unsafe_cell,
)


class OrdersRows(Protocol):
    """What `resend_only` needs of an opened input (loader.OrdersFile), without importing it."""

    path: Path
    header: list[str]

    def rows(self) -> Iterator[LoadedRow]: ...


_STATUS_VALUES = frozenset(outcome.value for outcome in Outcome)
_VALID_STATUSES = ", ".join(outcome.value for outcome in Outcome)


def parse_statuses(text: str) -> frozenset[Outcome]:
    """'failed,not_sent' -> {FAILED, NOT_SENT}; ValueError naming the valid statuses."""
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    if not names:
        raise ValueError(f"expects STATUS[,STATUS...]; statuses are {_VALID_STATUSES}")
    unknown = [name for name in names if name not in _STATUS_VALUES]
    if unknown:
        raise ValueError(
            f"unknown status {', '.join(map(repr, unknown))}; statuses are {_VALID_STATUSES}"
        )
    return frozenset(Outcome(name) for name in names)


@dataclass(frozen=True, slots=True)
class ResultColumns:
    """Where the result columns sit in a header.

    Names match exactly, as ResultsWriter writes them and drops them from the echo of
    an input: a column it would echo as input must not be read here as a result.
    """

    positions: Mapping[str, int]

    @classmethod
    def find(cls, header: Sequence[str]) -> ResultColumns | None:
        """None when the header has no result_status column (not a results file)."""
        positions: dict[str, int] = {}
        for position, name in enumerate(header):
            if name in RESULT_COLUMNS:
                positions.setdefault(name, position)
        return cls(positions) if STATUS_COLUMN in positions else None

    def cell(self, cells: Sequence[str], name: str) -> str:
        position = self.positions.get(name)
        return cells[position] if position is not None and position < len(cells) else ""

    def number(self, cells: Sequence[str], name: str, where: str) -> int | None:
        """A whole-number column; None when blank, InputFileError when it is not a number."""
        text = self.cell(cells, name).strip()
        try:
            return _whole_number(text)
        except ValueError:
            raise InputFileError(f"{where}: {name} {text!r} is not a whole number") from None

    def row_result(self, cells: Sequence[str], source_row: int, where: str) -> RowResult:
        """The RowResult this row was written from; InputFileError when it cannot be one.

        `source_row` is the caller's: the recorded one, or the row's place in the file.
        """
        status = self.cell(cells, STATUS_COLUMN).strip().lower()
        if status not in _STATUS_VALUES:
            raise InputFileError(
                f"{where}: {STATUS_COLUMN} {self.cell(cells, STATUS_COLUMN)!r} is not one of "
                f"{_VALID_STATUSES}"
            )
        fields: dict[str, Any] = {}
        for column, field in RESULT_FIELDS.items():
            if column in (SOURCE_ROW_COLUMN, STATUS_COLUMN):
                continue
            value = (
                self.number(cells, column, where)
                if column in NUMBER_COLUMNS
                else self.cell(cells, column)
            )
            if value is not None:  # a blank number keeps RowResult's default (None, 0)
                fields[field] = value
        return RowResult(source_row=source_row, status=Outcome(status), **fields)


# --- run --only: a results file as input ------------------------------------------------


def resend_only(orders: OrdersRows, selected: frozenset[Outcome]) -> Iterator[LoadedRow]:
    """The rows of a results file, re-sending only those whose old result_status is selected.

    Selected rows come through as the loader made them (validated again, so a row fixed
    by hand in the file goes out fixed). Every other row keeps its old verdict, rebuilt
    from its result columns, and is not sent: the new results file is then a complete
    picture of the night, every row exactly once, and ResultsWriter writes the old
    result columns back unchanged.

    Every row is checked before the first one is handed out, so a damaged results
    file stops the run with nothing sent. Raises ConfigError when the input is not a
    results file at all.
    """
    columns = ResultColumns.find(orders.header)
    if columns is None:
        raise ConfigError(
            f"--only needs a results CSV as input: {orders.path} has no {STATUS_COLUMN} column"
        )
    for row in orders.rows():
        _old_verdict(columns, orders.path, row)
    return _keep_unselected(orders.rows(), columns, orders.path, selected)


def _keep_unselected(
    rows: Iterable[LoadedRow], columns: ResultColumns, path: Path, selected: frozenset[Outcome]
) -> Iterator[LoadedRow]:
    for row in rows:
        old = _old_verdict(columns, path, row)
        # request=None: a kept row was settled by an earlier run, and nothing downstream
        # (runner, ledger) may treat it as an order to act on tonight.
        yield row if old.status in selected else replace(row, request=None, verdict=old)


def _old_verdict(columns: ResultColumns, path: Path, row: LoadedRow) -> RowResult:
    # source_row is the row's place in this file, the order ResultsWriter writes in;
    # it equals the old source_row unless the file was re-sorted by hand.
    return columns.row_result(row.cells, row.source_row, f"{path}: data row {row.source_row}")


# --- the review's input -----------------------------------------------------------------

# Rows read and checked together; a block of results is a few MB at most.
BLOCK_ROWS = 4096


@dataclass(frozen=True, slots=True)
class ResultRow:
    """One row of a results file: its cells as written, and the result they record."""

    results_file: str  # the path as given on the command line
    cells: tuple[str, ...]
    result: RowResult  # source_row as recorded in the file (its place, if unreadable)
    order_no: str
    warehouse_id: str


class Kind(NamedTuple):
    """What the review counts rows by: a result without its row, attempts, id and time."""

    status: Outcome
    http_status: int | None
    error_code: str
    error_message: str
    warehouse_id: str


def _kind_of(row: ResultRow) -> Kind:
    result = row.result
    return Kind(
        result.status, result.http_status, result.error_code, result.error_message, row.warehouse_id
    )


def _merged(kinds: Iterable[tuple[Kind, int]]) -> dict[Kind, int]:
    merged: Counter[Kind] = Counter()
    for kind, rows in kinds:
        merged[kind] += rows
    return merged


class RowBlock:
    """Consecutive data rows of one results file: counted by kind, made whole on demand."""

    __slots__ = ("_file", "_made", "_place", "_raw", "finished", "kinds")

    def __init__(
        self,
        file: ResultsFile,
        place: int,
        *,
        kinds: dict[Kind, int],
        finished: tuple[str, str],
        raw: list[list[str]] | None = None,
        made: list[ResultRow] | None = None,
    ) -> None:
        self._file = file
        self._place = place  # data rows before this block
        self._raw = raw
        self._made = made
        self.kinds = kinds  # rows of each kind, in the order first seen
        self.finished = finished  # the first and last result_finished_at ("" if none)

    @classmethod
    def of_rows(cls, file: ResultsFile, place: int, rows: list[ResultRow]) -> RowBlock:
        finished = [row.result.finished_at for row in rows if row.result.finished_at]
        return cls(
            file,
            place,
            made=rows,
            kinds=_merged((_kind_of(row), 1) for row in rows),
            finished=(min(finished), max(finished)) if finished else ("", ""),
        )

    def __len__(self) -> int:
        return sum(self.kinds.values())

    def rows(self) -> list[ResultRow]:
        """The rows made whole; a block read fast is made again each time (not kept)."""
        if self._made is not None:
            return self._made
        assert self._raw is not None
        return self._file.made_rows(self._raw, self._place)

    def subset(self, rows: list[ResultRow]) -> RowBlock:
        """Some of this block's `rows()`, in their order, as a block of their own."""
        return RowBlock.of_rows(self._file, self._place, rows)


class ResultsFile:
    """A results CSV: header checked on construction, rows streamed by `rows()`."""

    def __init__(
        self,
        path: Path,
        *,
        encoding: str = RESULTS_ENCODING,
        column_map: Mapping[str, str] | None = None,
    ) -> None:
        self.path = path
        self.label = str(path)
        self._encoding = encoding
        with self._reading() as handle:
            header_line = handle.readline().rstrip("\r\n")
        if not header_line.strip():
            raise InputFileError(f"{path}: file is empty (no header line)")
        # Results files are written with commas, but one re-saved from Excel may not be.
        self.delimiter = detect_delimiter(header_line)
        # .strip() does not take a BOM: one is left when --encoding utf-8 reads a utf-8-sig file.
        self.header = tuple(
            unsafe_cell(name.strip().removeprefix("\ufeff"))
            for name in next(csv.reader([header_line], delimiter=self.delimiter))
        )
        columns = ResultColumns.find(self.header)
        if columns is None:
            found = ", ".join(repr(name) for name in self.header)
            raise InputFileError(
                f"{path}: not a results file (no {STATUS_COLUMN} column); columns found: {found}"
            )
        self.columns = columns
        # The loader's header matching; the first of two same-named columns counts.
        keys = {header_key(name): index for index, name in reversed(list(enumerate(self.header)))}
        wanted = column_map or {}
        self._order_no = keys.get(header_key(wanted.get("order_no", "order_no")))
        self._warehouse_id = keys.get(header_key(wanted.get("warehouse_id", "warehouse_id")))
        # The values sent, where the file records them: no --map needed (blank: not valid).
        self._sent_order_no = _position(self.header, "result_order_no")
        self._sent_warehouse_id = _position(self.header, "result_warehouse_id")
        self._plan_fast_reading()

    def _plan_fast_reading(self) -> None:
        """Getters for the cells a block is counted by (see `_fast_block`)."""
        positions = self.columns.positions
        status = positions[STATUS_COLUMN]
        wanted = [
            positions.get(name)
            for name in (
                STATUS_COLUMN,
                "result_http_status",
                "result_error_code",
                "result_error_message",
            )
        ] + [self._sent_warehouse_id, self._warehouse_id]
        self._kind_present = tuple(position is not None for position in wanted)
        # A column the file lacks reads the status cell instead (a getter of fixed
        # arity), and counts as blank in `_kind`.
        self._kind_cells = itemgetter(*(status if p is None else p for p in wanted))
        # Whole-number columns the review does not count by: checked a column at a time.
        digits = [positions.get(name) for name in (SOURCE_ROW_COLUMN, "result_attempts")]
        self._digit_columns = [_column_getter(position) for position in digits]
        finished = positions.get("result_finished_at")
        self._finished_cells = _column_getter(finished)
        used = [p for p in (*wanted, *digits, finished) if p is not None]
        self._last_counted = max(used)

    def _kind_cells_as_read(self, cells: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(
            unsafe_cell(cell) if present else ""
            for cell, present in zip(cells, self._kind_present, strict=True)
        )

    def _kind_reads(self, cells: tuple[str, ...]) -> bool:
        """Whether rows with these cells read as a result (else the block is made row by row)."""
        status, http, *_ = self._kind_cells_as_read(cells)
        return status.strip().lower() in _STATUS_VALUES and _is_number(http)

    def _kind(self, item: tuple[tuple[str, ...], int]) -> tuple[Kind, int]:
        cells, rows = item
        status, http, code, message, sent_warehouse, warehouse = self._kind_cells_as_read(cells)
        return Kind(
            Outcome(status.strip().lower()),
            _whole_number(http),
            code,
            message,
            sent_warehouse.strip() or warehouse.strip(),
        ), rows

    @contextmanager
    def _reading(self) -> Iterator[TextIO]:
        """Open the file; every way reading it can fail becomes an InputFileError (exit 2)."""
        path = self.path
        try:
            with path.open(encoding=self._encoding, newline="") as handle:
                yield handle
        except FileNotFoundError:
            raise InputFileError(f"{path}: no such file") from None
        except UnicodeDecodeError as exc:
            raise InputFileError(
                f"{path}: not valid {self._encoding} ({exc.reason}); try --encoding cp1252"
            ) from exc
        except LookupError as exc:
            raise InputFileError(f"unknown --encoding {self._encoding!r}") from exc
        except csv.Error as exc:
            raise InputFileError(f"{path}: cannot read as CSV: {exc}") from exc
        except OSError as exc:
            raise InputFileError(f"{path}: cannot read ({exc.strerror or exc})") from exc

    def rows(self) -> Iterator[ResultRow]:
        """Every data row made whole, in file order."""
        for block in self.blocks():
            yield from block.rows()

    def blocks(self) -> Iterator[RowBlock]:
        """The data rows, BLOCK_ROWS at a time, each block checked as a whole.

        A block of well-formed rows (the usual case) is checked and counted by C-level
        passes over its columns, without making a ResultRow of each row: `summarize`
        on a million rows is bounded by the csv module, not by Python per row. A block
        with anything unusual in it (a blank or short line, a result that does not
        read) is made row by row, which gives the same rows or names the first bad one.
        """
        with self._reading() as handle:
            handle.readline()  # the header, read in __init__
            place = 0
            while written := self._read_block(handle):
                block = self._fast_block(written, place) or self._slow_block(written, place)
                place += len(block)
                yield block

    def _read_block(self, handle: TextIO) -> list[list[str]]:
        """The records of the next BLOCK_ROWS lines (and of the lines a quoted cell spans)."""
        lines = list(islice(handle, BLOCK_ROWS))
        text = "".join(lines)
        if '"' not in text and "\0" not in text:
            # Without a quote, a record is one line split at the delimiter, as the csv
            # module splits it, at twice its speed (BENCHMARKS.md, "Review speed").
            delimiter = self.delimiter
            return [line.rstrip("\r\n").split(delimiter) for line in lines]
        pending = iter(lines)
        records = csv.reader(chain(pending, handle), delimiter=self.delimiter)
        written = []
        while length_hint(pending):  # a record still starts in this block's lines
            written.append(next(records))
        return written

    def _fast_block(self, written: list[list[str]], place: int) -> RowBlock | None:
        """The block as read, if a few passes show every row is as the writer wrote it."""
        if min(map(len, written)) <= self._last_counted:
            return None  # a blank or short line
        kinds = Counter(map(self._kind_cells, written))
        if not all(map(self._kind_reads, kinds)):
            return None
        for column in self._digit_columns:
            digits = "".join(column(written))
            if digits and not digits.isdecimal():
                return None  # a cell that is not blank or plain digits: let int() judge it
        finished = list(filter(None, self._finished_cells(written)))
        if "'" in "".join(finished):
            return None  # a cell safe_cell protected: its real value orders differently
        return RowBlock(
            self,
            place,
            raw=written,
            kinds=_merged(map(self._kind, kinds.items())),
            finished=(min(finished), max(finished)) if finished else ("", ""),
        )

    def _slow_block(self, written: list[list[str]], place: int) -> RowBlock:
        return RowBlock.of_rows(self, place, self.made_rows(written, place))

    def made_rows(self, written: list[list[str]], place: int) -> list[ResultRow]:
        """The rows of a block as read, each made whole (InputFileError on the first bad one)."""
        rows: list[ResultRow] = []
        for cells_written in written:
            if not any(cell.strip() for cell in cells_written):
                continue  # a blank line or one of delimiters, skipped as the loader does
            cells = [unsafe_cell(cell) for cell in cells_written]  # as before writing
            number = place + len(rows) + 1
            where = f"{self.path}: data row {number}"
            recorded = self.columns.number(cells, SOURCE_ROW_COLUMN, where)
            rows.append(
                ResultRow(
                    results_file=self.label,
                    cells=tuple(cells),
                    result=self.columns.row_result(cells, recorded or number, where),
                    order_no=_at(cells, self._sent_order_no) or _at(cells, self._order_no),
                    warehouse_id=(
                        _at(cells, self._sent_warehouse_id) or _at(cells, self._warehouse_id)
                    ),
                )
            )
        return rows


def _column_getter(position: int | None) -> Callable[[list[list[str]]], list[str]]:
    """A block's cells of one column; no cells when the file has no such column."""
    if position is None:
        return lambda written: []
    cell = itemgetter(position)
    return lambda written: list(map(cell, written))


def _whole_number(text: str) -> int | None:
    """A whole-number cell: None when blank; ValueError when it is not a number."""
    return int(text) if text.strip() else None


def _is_number(text: str) -> bool:
    """Blank, or what ResultColumns.number reads as a whole number."""
    try:
        _whole_number(text)
    except ValueError:
        return False
    return True


def _position(header: Sequence[str], name: str) -> int | None:
    return header.index(name) if name in header else None


def _at(cells: Sequence[str], index: int | None) -> str:
    return cells[index].strip() if index is not None and index < len(cells) else ""
