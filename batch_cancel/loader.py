"""Read the orders CSV in chunks and turn every data row into a LoadedRow.

Every data row comes out exactly once, in file order, either with a request to
send or with a verdict (invalid, duplicate). Reading is streamed chunk by chunk
so the first request can leave before the whole file is read.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd

from .config import InputOptions
from .errors import InputFileError, MissingColumnsError
from .models import (
    CANCEL_REASON_MAX,
    FIELDS,
    ORDER_NO_MAX,
    WAREHOUSE_ID_MAX,
    CancelRequest,
    LoadedRow,
    LocalCode,
    Outcome,
    RowResult,
)

CANDIDATE_DELIMITERS = ",;\t|"
CHUNK_ROWS = 10_000


@dataclass(frozen=True, slots=True)
class _Problem:
    code: LocalCode
    message: str


def detect_delimiter(header_line: str) -> str:
    """Pick the candidate that splits the header into the most columns; comma on a tie."""
    best, best_count = ",", 1
    for delimiter in CANDIDATE_DELIMITERS:
        count = len(next(csv.reader([header_line], delimiter=delimiter), []))
        if count > best_count:
            best, best_count = delimiter, count
    return best


def validate_row(
    source_row: int, order_no: str, warehouse_id: str, cancel_reason: str
) -> CancelRequest | RowResult:
    """Apply the API's field rules to trimmed values.

    An identifier that is too long is refused (shortening it would target another
    order); a cancel_reason that is too long is free text, so it is shortened and
    the row still goes out, with a note.
    """
    problems: list[_Problem] = []
    for name, value, limit in (
        ("order_no", order_no, ORDER_NO_MAX),
        ("warehouse_id", warehouse_id, WAREHOUSE_ID_MAX),
    ):
        if not value:
            problems.append(_Problem(LocalCode(f"{name}_missing"), f"{name} is blank"))
        elif len(value) > limit:
            problems.append(
                _Problem(
                    LocalCode(f"{name}_too_long"),
                    f"{name} is {len(value)} characters; the API allows at most {limit}",
                )
            )
    if not cancel_reason:
        problems.append(_Problem(LocalCode.CANCEL_REASON_MISSING, "cancel_reason is blank"))
    if problems:
        return RowResult(
            source_row=source_row,
            status=Outcome.INVALID,
            error_code=problems[0].code,
            error_message="; ".join(problem.message for problem in problems),
        )
    note = ""
    if len(cancel_reason) > CANCEL_REASON_MAX:
        note = (
            f"{LocalCode.CANCEL_REASON_SHORTENED}: cancel_reason was {len(cancel_reason)} "
            f"characters, sent its first {CANCEL_REASON_MAX}"
        )
        cancel_reason = cancel_reason[:CANCEL_REASON_MAX]
    return CancelRequest(source_row, order_no, warehouse_id, cancel_reason, note)


class OrdersFile:
    """An opened orders CSV: header checked on construction, rows streamed by `rows()`."""

    def __init__(self, options: InputOptions) -> None:
        self.options = options
        self.path = options.path
        header_line = self._read_header_line()
        self.delimiter = options.delimiter or detect_delimiter(header_line)
        self.header = [
            name.strip() for name in next(csv.reader([header_line], delimiter=self.delimiter))
        ]
        self._field_index = self._map_fields()

    def _read_header_line(self) -> str:
        path = self.path
        if not path.exists():
            raise InputFileError(f"{path}: no such file")
        if not path.is_file():
            raise InputFileError(f"{path}: not a regular file")
        try:
            with path.open(encoding=self.options.encoding, newline="") as handle:
                header_line = handle.readline()
        except PermissionError as exc:
            raise InputFileError(f"{path}: cannot read ({exc.strerror})") from exc
        except UnicodeDecodeError as exc:
            raise InputFileError(
                f"{path}: header is not valid {self.options.encoding} ({exc.reason}); "
                "try --encoding cp1252"
            ) from exc
        except LookupError as exc:
            raise InputFileError(f"unknown --encoding {self.options.encoding!r}") from exc
        header_line = header_line.rstrip("\r\n")
        if not header_line.strip():
            raise InputFileError(f"{path}: file is empty (no header line)")
        return header_line

    def _map_fields(self) -> dict[str, int | None]:
        """Column index of each field, or None where a default fills it."""
        defaults = {
            "warehouse_id": self.options.default_warehouse_id,
            "cancel_reason": self.options.default_cancel_reason,
        }
        lowered = {name.lower(): index for index, name in reversed(list(enumerate(self.header)))}
        field_index: dict[str, int | None] = {}
        missing: list[str] = []
        for name in FIELDS:
            wanted = self.options.column_map.get(name, name)
            index = lowered.get(wanted.lower())
            if index is None and not defaults.get(name):
                missing.append(name if wanted == name else f"{name} (mapped to {wanted!r})")
            field_index[name] = index
        if missing:
            raise MissingColumnsError(missing, self.header)
        return field_index

    def rows(self) -> Iterator[LoadedRow]:
        """Every data row once, in file order; duplicates of an earlier valid row flagged."""
        index_of = self._field_index
        defaults = {
            "order_no": "",
            "warehouse_id": (self.options.default_warehouse_id or "").strip(),
            "cancel_reason": (self.options.default_cancel_reason or "").strip(),
        }
        first_seen: dict[tuple[str, str], int] = {}
        source_row = 0
        for chunk in self._chunks():
            for cells in chunk.itertuples(index=False, name=None):
                source_row += 1
                values = {
                    name: (cells[index].strip() if index is not None and index < len(cells) else "")
                    or defaults[name]
                    for name, index in index_of.items()
                }
                checked = validate_row(
                    source_row, values["order_no"], values["warehouse_id"], values["cancel_reason"]
                )
                if isinstance(checked, RowResult):
                    yield LoadedRow(source_row, cells, None, checked)
                    continue
                key = (checked.order_no, checked.warehouse_id)
                earlier = first_seen.setdefault(key, source_row)
                if earlier != source_row:
                    duplicate = RowResult(
                        source_row=source_row,
                        status=Outcome.DUPLICATE,
                        error_code=LocalCode.DUPLICATE_ROW,
                        error_message=f"same order_no and warehouse_id as row {earlier}",
                    )
                    yield LoadedRow(source_row, cells, None, duplicate)
                else:
                    yield LoadedRow(source_row, cells, checked, None)

    def _chunks(self) -> Iterator[pd.DataFrame]:
        # Every cell as text: order numbers keep leading zeros and "NA" stays "NA"
        # (DESIGN.md, pandas 3 trap).
        try:
            reader = pd.read_csv(
                self.path,
                sep=self.delimiter,
                encoding=self.options.encoding,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                skip_blank_lines=True,
                chunksize=CHUNK_ROWS,
                engine="c",
            )
            with reader:
                yield from reader
        except pd.errors.EmptyDataError:
            return
        except (
            pd.errors.ParserError,
            UnicodeDecodeError,
            csv.Error,
            io.UnsupportedOperation,
        ) as exc:
            raise InputFileError(f"{self.path}: cannot read the file: {exc}") from exc
