"""The results CSV: written in input order, one row per input row.

Results arrive in completion order; a reorder buffer holds the rows that
finished ahead of an earlier one still in flight. Usually that is a handful, but
a row waiting out a long Retry-After holds back every row finished meanwhile
(BENCHMARKS.md, "Memory and scale"). The file is written under a temporary name of
its own run (two runs never share one) and renamed at the end, so a reader never
sees a half-written results file; a run that breaks off leaves what it wrote as
<stem>.incomplete.csv instead. The header is written, and the disk checked, before
anything is sent; a write that fails raises RecordingError, which stops sending.

Every text cell is made safe for the spreadsheet it will be opened in: a cell
that Excel or LibreOffice would run as a formula is prefixed with an apostrophe
(OWASP, "CSV Injection"), whether it came from the input file or from the API,
and result text from outside is one bounded line.
"""

from __future__ import annotations

import contextlib
import csv
import logging
import os
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from ..errors import write_failed
from ..models import CancelRequest, LoadedRow, Outcome, RowResult
from ..outputs import incomplete_path, own_partial
from ..schema import (
    MAX_RESULT_TEXT,
    NUMBER_COLUMNS,
    RESULT_COLUMNS,
    RESULT_FIELDS,
    RESULTS_ENCODING,
    SENT_COLUMNS,
    TRIGGER_STARTS,
    WRITTEN_COLUMNS,
    result_cells,
    safe_cell,
)
from ..text import one_line

log = logging.getLogger(__name__)

_CUT_COLUMNS = tuple(
    (index, column) for index, column in enumerate(RESULT_COLUMNS) if column in MAX_RESULT_TEXT
)

_NUMBER_INDEXES = tuple(
    index for index, column in enumerate(RESULT_COLUMNS) if column in NUMBER_COLUMNS
)


def _needs_quotes(line: str) -> bool:
    """Whether a cell holds what csv.writer quotes (besides the delimiter)."""
    return '"' in line or "\n" in line or "\r" in line


# In "," + a line of cells joined by commas (no comma inside a cell): a cell that
# safe_cell would change, one starting with an apostrophe or a formula trigger. (A
# plain character class after a literal: one alternation more made it 12x slower.)
_CELL_TO_ESCAPE = re.compile(",[" + re.escape("".join(sorted(TRIGGER_STARTS))) + "]")
# _plain_line writes the result columns in this order; the schema must agree.
_PLAIN_FIELDS = (
    "source_row",
    "status",
    "http_status",
    "error_code",
    "error_message",
    "attempts",
    "request_id",
    "finished_at",
)
if tuple(RESULT_FIELDS.values()) != _PLAIN_FIELDS:
    raise ImportError("report._plain_line no longer follows schema.RESULT_FIELDS")
_MAX_CODE, _MAX_MESSAGE, _MAX_REQUEST_ID = (
    MAX_RESULT_TEXT[f"result_{name}"] for name in ("error_code", "error_message", "request_id")
)


def _plain_line(cells: Sequence[str], result: RowResult, request: CancelRequest) -> str | None:
    """The row's line as the general path would write it, when nothing in it needs
    escaping, quoting or cleaning (most rows); None otherwise.

    The one fast path of the results: it buys the skip path and `--dry-run` a quarter
    of their CPU (BENCHMARKS.md, "Speed debt"). test_properties holds it byte for byte
    to csv.writer (test_rows_joined_by_hand_are_byte_for_byte_what_csv_writer_writes)."""
    code, message, request_id = result.error_code, result.error_message, result.request_id
    text = code + message + request_id
    if (
        not (text.isascii() and text.isprintable())
        or len(code) > _MAX_CODE
        or len(message) > _MAX_MESSAGE
        or len(request_id) > _MAX_REQUEST_ID
    ):
        return None
    http = result.http_status
    line = ",".join(
        (
            *cells,
            str(result.source_row),
            result.status,
            "" if http is None else str(http),
            code,
            message,
            str(result.attempts),
            request_id,
            result.finished_at,
            request.order_no,
            request.warehouse_id,
            request.cancel_reason,
        )
    )
    if (
        line.count(",") != len(cells) + 10
        or _needs_quotes(line)
        or _CELL_TO_ESCAPE.search("," + line)
    ):
        return None
    return line + "\r\n"


class ResultsWriter:
    """Context manager: `add()` results in any order, rows come out in input order."""

    def __init__(self, path: Path, input_header: Sequence[str]) -> None:
        self.path = path
        # A results file is a valid input; its old result columns are replaced, not echoed twice.
        self._echo = [i for i, name in enumerate(input_header) if name not in WRITTEN_COLUMNS]
        self._header = [input_header[i] for i in self._echo] + list(WRITTEN_COLUMNS)
        self._echo_all = self._echo == list(range(len(input_header)))  # no old result columns
        # A results file as input (run --only): a kept row sends nothing tonight, and
        # keeps the values its first run sent.
        old_sent = [input_header.index(column) for column in SENT_COLUMNS if column in input_header]
        self._old_sent = old_sent if len(old_sent) == len(SENT_COLUMNS) else []
        self._pending: dict[int, tuple[LoadedRow, RowResult]] = {}
        self._next_row = 1
        self._finished = False
        self.counts: Counter[Outcome] = Counter()

    def __enter__(self) -> ResultsWriter:
        try:
            self._partial, fd = own_partial(self.path)
        except OSError as exc:
            raise write_failed(self.path, exc) from exc
        self._handle = open(fd, "w", encoding=RESULTS_ENCODING, newline="")
        self._writer = csv.writer(self._handle)
        try:
            self._writer.writerow([safe_cell(name) for name in self._header])
            self._handle.flush()
        except OSError as exc:
            self._discard()
            raise write_failed(self.path, exc) from exc
        return self

    def add(self, row: LoadedRow, result: RowResult) -> None:
        self.counts[result.status] += 1
        try:
            if row.source_row == self._next_row:  # the usual case: nothing to reorder
                self._write(row, result)
                self._next_row += 1
            else:
                self._pending[row.source_row] = (row, result)
            while self._next_row in self._pending:
                self._write(*self._pending.pop(self._next_row))
                self._next_row += 1
            # A sent row reaches the file at once, so a full disk stops the sending
            # within a row; rows never sent (skips, dry runs) stream on buffered.
            if result.attempts:
                self._handle.flush()
        except OSError as exc:
            raise write_failed(self.path, exc) from exc

    def _write(self, row: LoadedRow, result: RowResult) -> None:
        cells = row.cells
        request = row.request
        if request is not None and self._echo_all and len(cells) == len(self._echo):
            line = _plain_line(cells, result, request)
            if line is not None:
                self._handle.write(line)
                return
        written = [safe_cell(cells[i]) if i < len(cells) else "" for i in self._echo]
        cut = len(written)
        written += result_cells(result)
        for index, column in _CUT_COLUMNS:
            written[cut + index] = _result_text(written[cut + index], column)
        for index in _NUMBER_INDEXES:
            written[cut + index] = str(written[cut + index])
        sent: tuple[str, ...]
        if request is not None:
            sent = (request.order_no, request.warehouse_id, request.cancel_reason)
        else:
            sent = tuple(cells[i] if i < len(cells) else "" for i in self._old_sent) or ("", "", "")
        written += map(safe_cell, sent)
        self._writer.writerow(written)

    @property
    def partial_path(self) -> Path:
        """Where the rows go until the file is complete (renamed into place, same inode)."""
        return self._partial

    @property
    def rows_written(self) -> int:
        return self._next_row - 1

    def close(self) -> None:
        """Finish the file and rename it into place (once; `__exit__` then does nothing)."""
        self._finish(broke_off=False)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._finish(broke_off=exc_type is not None)

    def _finish(self, *, broke_off: bool) -> None:
        if self._finished:
            return
        self._finished = True
        # Rows still pending mean a gap in the numbering: write them anyway rather
        # than lose them, in order, after the gap.
        try:
            for source_row in sorted(self._pending):
                self._write(*self._pending[source_row])
            self._pending.clear()
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()
            if not broke_off:
                os.replace(self._partial, self.path)
                return
        except OSError as exc:
            self._keep_incomplete()
            if not broke_off:
                raise write_failed(self.path, exc) from exc
            return  # the error already on its way names the cause
        self._keep_incomplete()

    def _keep_incomplete(self) -> None:
        # The run broke off (a crash or a full disk, not a signal: those end in order):
        # what was written is kept, under a name no reviewer takes for a complete file.
        with contextlib.suppress(OSError):  # the first error is the one to report
            self._handle.close()
        try:
            os.replace(self._partial, self.incomplete_path)
        except OSError as exc:
            log.error("the results so far are in %s (%s)", self._partial, exc)
            return
        log.error("the run broke off; the results so far are in %s", self.incomplete_path)

    def _discard(self) -> None:
        with contextlib.suppress(OSError):  # the first error is the one to report
            self._handle.close()
        with contextlib.suppress(OSError):  # the first error is the one to report
            os.unlink(self._partial)

    @property
    def incomplete_path(self) -> Path:
        return incomplete_path(self.path)


def _result_text(value: str, column: str) -> str:
    # Defence in depth: the client already cleans what the API says; this holds
    # for any message from anywhere (an exception text in an internal_error row).
    if not value:
        return value
    if value.isascii() and value.isprintable() and len(value) <= MAX_RESULT_TEXT[column]:
        return safe_cell(value)
    return safe_cell(one_line(value, MAX_RESULT_TEXT[column]))
