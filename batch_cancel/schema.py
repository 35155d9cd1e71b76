"""The CSV conventions the input side and the results side share, in one place.

- the results CSV's own columns, the RowResult field each records, which are
  numbers, its encoding, and how a cell is made safe for a spreadsheet (and
  undone when a results file is read back): the writer (report.py), the reader
  (results_file.py) and the HTML report all derive from these;
- how a header name is matched (`header_key`) and how the delimiter is guessed
  from a header line, for orders and results files alike.

Importing it lifts csv's 128 KiB cell limit: a cell is as long as its file makes
it (an export's free-text column is echoed into the results), and no row may
fail on that alone.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from operator import attrgetter
from typing import Any

from .models import RowResult
from .text import clean_identifier

csv.field_size_limit(2**31 - 1)

CANDIDATE_DELIMITERS = ",;\t|"
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


def detect_delimiter(header_line: str) -> str:
    """Pick the candidate that splits the header into the most columns; comma on a tie."""
    best, best_count = ",", 1
    for delimiter in CANDIDATE_DELIMITERS:
        count = len(next(csv.reader([header_line], delimiter=delimiter), []))
        if count > best_count:
            best, best_count = delimiter, count
    return best


def header_key(name: str) -> str:
    """How a header name is matched: case, spaces and invisible characters do not count."""
    return clean_identifier(name).casefold()


# The results CSV's own columns, in the order they are written, each with the RowResult
# field it records. The one place that knows it: the writer, the reader
# (results_file.py) and the HTML report's table all derive from it.
SOURCE_ROW_COLUMN = "source_row"
STATUS_COLUMN = "result_status"
RESULT_FIELDS = {
    SOURCE_ROW_COLUMN: "source_row",
    STATUS_COLUMN: "status",
    "result_http_status": "http_status",
    "result_error_code": "error_code",
    "result_error_message": "error_message",
    "result_attempts": "attempts",
    "result_request_id": "request_id",
    "result_finished_at": "finished_at",
}
RESULT_COLUMNS = tuple(RESULT_FIELDS)
# The values actually sent (after --map, defaults, cleaning and shortening), one
# column per field: a results file says what it was about without its layout.
# Blank on a row that was not valid (nothing could be sent).
SENT_COLUMNS = {f"result_{name}": name for name in ("order_no", "warehouse_id", "cancel_reason")}
WRITTEN_COLUMNS = (*RESULT_COLUMNS, *SENT_COLUMNS)  # every column the writer adds


def is_results_header(header: Sequence[str]) -> bool:
    """Whether batch-cancel wrote the file: a results CSV (live, dry run, `-o`, incomplete)
    or a needs-attention CSV (the union of results headers) has every result column."""
    keys = {header_key(name) for name in header}
    return all(header_key(column) in keys for column in RESULT_COLUMNS)


# Whole numbers; blank where the field has none (no HTTP answer). The rest are text.
NUMBER_COLUMNS = frozenset({SOURCE_ROW_COLUMN, "result_http_status", "result_attempts"})
# utf-8-sig: Excel, where these files are reviewed, needs the BOM to read UTF-8.
RESULTS_ENCODING = "utf-8-sig"


# A cell starting with one of these is a formula (or starts one) in Excel or
# LibreOffice; the full-width and small forms too, which some spreadsheets and
# IMEs turn into the ASCII ones. Tab and CR start a cell that Excel trims into one.
FORMULA_TRIGGERS = (
    *("=", "+", "-", "@", "\t", "\r"),
    *("\uff1d", "\uff0b", "\uff0d", "\uff20"),  # full-width = + - @
    *("\ufe66", "\ufe62", "\ufe63", "\ufe6b"),  # small = + - @
)
# API text (error codes, messages, request ids) is cut to this, one line.
MAX_RESULT_TEXT = {"result_error_code": 40, "result_error_message": 500, "result_request_id": 100}
_result_values = attrgetter(*RESULT_FIELDS.values())
# The first characters of cells safe_cell may change: an apostrophe or a trigger's.
TRIGGER_STARTS = frozenset({"'", *(trigger[0] for trigger in FORMULA_TRIGGERS)})


def safe_cell(value: str) -> str:
    """The cell as a spreadsheet will show it, never run it: a leading apostrophe if needed.

    Apostrophes already in front of a trigger count too ("'=x" becomes "''=x"), so
    that `unsafe_cell` can undo it exactly when a results file is read back as input.
    """
    if value[:1] not in TRIGGER_STARTS:  # most cells: one set look-up, written as they are
        return value
    return "'" + value if value.lstrip("'").startswith(FORMULA_TRIGGERS) else value


def unsafe_cell(value: str) -> str:
    """The cell as it was before `safe_cell`: a results file read back sends the real order_no."""
    if value.startswith("'") and value.lstrip("'").startswith(FORMULA_TRIGGERS):
        return value[1:]
    return value


def result_cells(result: RowResult) -> list[Any]:
    """`result`'s values in RESULT_COLUMNS order, not yet made safe: no HTTP status is ""."""
    # result_status is an Outcome, a str: written and shown as its value.
    return ["" if value is None else value for value in _result_values(result)]
