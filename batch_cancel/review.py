"""The morning review: count what results CSVs say happened, say what needs a human.

Reading the files is results_file.py's job; this module tallies their rows
(`review_files`) and phrases the plain sentence. Its text, JSON, needs-attention CSV
and HTML page are formats/ modules; the cli decides what is printed and where files go.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from itertools import islice
from pathlib import Path

from .actions import action_of
from .models import (
    NEEDS_ATTENTION,
    Outcome,
    RowResult,
    needs_attention,
)
from .results_file import Kind, ResultRow, ResultsFile, RowBlock
from .schema import RESULTS_ENCODING, WRITTEN_COLUMNS, header_key
from .wording import attention_sentence, ranked, reason_of

# What the needs-attention CSV adds (formats/needs_attention_csv.py): not the export's.
ADDED_COLUMNS = ("results_file", "action")
TOP_MESSAGES = 5
# Rows needing attention kept for the HTML page; the needs-attention CSV has them all.
SAMPLE_ROWS = 500
# Distinct messages counted per error code (and among failures); the rest as "other".
MAX_MESSAGES = 200
# Distinct error codes and warehouses counted; the rest under OTHER_CODES / OTHER_WAREHOUSES.
# A real night has a handful of each; a damaged file could have one per row.
MAX_GROUPS = 1000
OTHER_CODES = "(other codes)"
OTHER_WAREHOUSES = "(other warehouses)"

# --- aggregating ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CodeCount:
    """Rows per error code, with the message most often seen with it."""

    code: str
    rows: int
    message: str
    other_messages: int  # distinct messages besides `message` seen with this code
    by_status: Mapping[Outcome, int]


@dataclass(frozen=True, slots=True)
class WarehouseCount:
    warehouse_id: str  # "" when the file has no warehouse column or the cell is blank
    rows: int
    needs_attention: int
    by_status: Mapping[Outcome, int]


@dataclass(frozen=True, slots=True)
class MessageCount:
    message: str
    rows: int


@dataclass(frozen=True, slots=True)
class Summary:
    """What one results file (or several together) says."""

    label: str
    rows: int
    by_status: Mapping[Outcome, int]  # every Outcome, zeros included, in Outcome order
    needs_attention: int
    sentence: str
    error_codes: tuple[CodeCount, ...]  # most rows first
    warehouses: tuple[WarehouseCount, ...]  # by warehouse id
    top_messages: tuple[MessageCount, ...]  # the most common messages of rows needing attention
    first_finished_at: str  # as recorded; "" when no row has one
    last_finished_at: str
    # Rows needing attention per cause (actions.py), most rows first.
    causes: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Review:
    """Several results files summarised together (`total`) and one by one (`files`).

    Memory stays bounded whatever the files hold: counts, and the first SAMPLE_ROWS
    rows that need attention (for the page); `attention_rows()` reads the files
    again for the needs-attention CSV, which has them all.
    """

    total: Summary
    files: tuple[Summary, ...]
    needs_attention: tuple[ResultRow, ...]  # the first SAMPLE_ROWS, in file then row order
    headers: Mapping[str, tuple[str, ...]]  # results_file -> its header
    # Rows of an order that a later file answers again (a night, then its retry):
    # left out of the total and of needs_attention, so each order counts once.
    superseded: int = 0
    # The results files (labels) that hold each cause's rows, for the commands to name.
    cause_files: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    _files: tuple[ResultsFile, ...] = ()
    _last: Mapping[tuple[str, ...], int] = field(default_factory=dict)

    def attention_rows(self) -> Iterator[ResultRow]:
        """Every row that needs attention, read again from the files, each order once."""
        for number, results in enumerate(self._files):
            for row in results.rows():
                if _superseded(self._last, row, number, results):
                    continue
                if row.result.status in NEEDS_ATTENTION:
                    yield row


class _Tally:
    """Counters filled row by row; `summary()` freezes them."""

    def __init__(self) -> None:
        self.by_status: Counter[Outcome] = Counter()
        self.code_messages: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.code_statuses: defaultdict[str, Counter[Outcome]] = defaultdict(Counter)
        self.by_warehouse: defaultdict[str, Counter[Outcome]] = defaultdict(Counter)
        self.attention_messages: Counter[str] = Counter()
        self.reasons: Counter[tuple[Outcome, str]] = Counter()
        self.causes: Counter[str] = Counter()
        self.first_finished_at = ""
        self.last_finished_at = ""

    def add(self, block: RowBlock) -> None:
        for kind, rows in block.kinds.items():
            self._add_kind(kind, rows)
        first, last = block.finished
        if first:
            # ISO-8601 UTC strings order as text, so no parsing (and no failing) is needed.
            if not self.first_finished_at or first < self.first_finished_at:
                self.first_finished_at = first
            self.last_finished_at = max(self.last_finished_at, last)

    def _add_kind(self, kind: Kind, rows: int) -> None:
        status = kind.status
        self.by_status[status] += rows
        if kind.error_code:
            code = _group(self.code_messages, kind.error_code, OTHER_CODES)
            _count_bounded(self.code_messages[code], kind.error_message, rows)
            self.code_statuses[code][status] += rows
        warehouse = _group(self.by_warehouse, kind.warehouse_id, OTHER_WAREHOUSES)
        self.by_warehouse[warehouse][status] += rows
        if status in NEEDS_ATTENTION:
            if kind.error_message:
                _count_bounded(self.attention_messages, kind.error_message, rows)
            result = RowResult(0, status, kind.http_status, kind.error_code, kind.error_message)
            self.reasons[status, reason_of(result)] += rows
            if (action := action_of(result)) is not None:
                self.causes[action.cause] += rows

    def summary(self, label: str) -> Summary:
        codes = [
            CodeCount(
                code=code,
                rows=messages.total(),
                message=messages.most_common(1)[0][0],
                other_messages=len(messages) - 1,
                by_status=_nonzero(self.code_statuses[code]),
            )
            for code, messages in self.code_messages.items()
        ]
        return Summary(
            label=label,
            rows=self.by_status.total(),
            by_status={outcome: self.by_status[outcome] for outcome in Outcome},
            needs_attention=needs_attention(self.by_status),
            sentence=attention_sentence(self.by_status, self.reasons),
            error_codes=tuple(sorted(codes, key=lambda item: (-item.rows, item.code))),
            warehouses=tuple(
                WarehouseCount(
                    warehouse_id=warehouse_id,
                    rows=counts.total(),
                    needs_attention=needs_attention(counts),
                    by_status=_nonzero(counts),
                )
                for warehouse_id, counts in sorted(self.by_warehouse.items())
            ),
            top_messages=tuple(
                MessageCount(message, count)
                for message, count in ranked(self.attention_messages)[:TOP_MESSAGES]
            ),
            first_finished_at=self.first_finished_at,
            last_finished_at=self.last_finished_at,
            causes=dict(ranked(self.causes)),
        )


OTHER_MESSAGES = "(other messages)"


def _count_bounded(counts: Counter[str], message: str, rows: int) -> None:
    """Count a message; past MAX_MESSAGES distinct ones, the rest go under one name."""
    if message in counts or len(counts) < MAX_MESSAGES:
        counts[message] += rows
    else:
        counts[OTHER_MESSAGES] += rows


def _group(groups: Mapping[str, object], name: str, other: str) -> str:
    """The name a row is counted under: its own, until MAX_GROUPS names have been seen."""
    return name if name in groups or len(groups) < MAX_GROUPS else other


def _nonzero(counts: Mapping[Outcome, int]) -> dict[Outcome, int]:
    return {outcome: counts[outcome] for outcome in Outcome if counts.get(outcome)}


def review_files(
    paths: Sequence[Path],
    *,
    encoding: str = RESULTS_ENCODING,
    column_map: Mapping[str, str] | None = None,
) -> Review:
    """Read every file once; summaries per file and for all of them together."""
    # Every header is checked before any row is counted: a wrong file fails fast.
    files = [ResultsFile(path, encoding=encoding, column_map=column_map) for path in paths]
    last = _last_files(files) if len(files) > 1 else {}
    total = _Tally()
    summaries: list[Summary] = []
    attention: list[ResultRow] = []
    superseded = 0
    cause_files: defaultdict[str, list[str]] = defaultdict(list)
    for number, results in enumerate(files):
        tally = _Tally()
        causes_before = Counter(total.causes)
        for block in results.blocks():
            tally.add(block)
            if last:
                kept = block.subset(
                    [row for row in block.rows() if not _superseded(last, row, number, results)]
                )
                superseded += len(block) - len(kept)
            else:
                kept = block
            total.add(kept)
            if len(attention) < SAMPLE_ROWS and not NEEDS_ATTENTION.isdisjoint(
                kind.status for kind in kept.kinds
            ):
                wanted = (row for row in kept.rows() if row.result.status in NEEDS_ATTENTION)
                attention += islice(wanted, SAMPLE_ROWS - len(attention))
        summaries.append(tally.summary(results.label))
        for cause in total.causes - causes_before:
            cause_files[cause].append(results.label)
    label = files[0].label if len(files) == 1 else f"{len(files)} results files"
    return Review(
        total=total.summary(label),
        files=tuple(summaries),
        needs_attention=tuple(attention),
        headers={results.label: results.header for results in files},
        superseded=superseded,
        cause_files={cause: tuple(labels) for cause, labels in cause_files.items()},
        _files=tuple(files),
        _last=last,
    )


def _superseded(
    last: Mapping[tuple[str, ...], int], row: ResultRow, number: int, results: ResultsFile
) -> bool:
    return bool(last) and last[_row_key(row, results)] != number


def _last_files(files: Sequence[ResultsFile]) -> dict[tuple[str, ...], int]:
    """The last file that has each row: files count in the order given (a night, then
    its retries), so a re-sent row counts once, with the outcome its retry had."""
    last: dict[tuple[str, ...], int] = {}
    for number, results in enumerate(files):
        for row in results.rows():
            last[_row_key(row, results)] = number
    return last


def _row_key(row: ResultRow, results: ResultsFile) -> tuple[str, ...]:
    """Which row of the night a result is about: its order; a row with no order number
    (an invalid one) by its place and its input's cells, which a retry writes back as
    they were (only the result columns change)."""
    if row.order_no:
        return (row.order_no, row.warehouse_id)
    cells = row.cells
    data = (cells[i] for i in _input_positions(results.header) if i < len(cells))
    return ("", str(row.result.source_row), *data)


@cache
def _input_positions(header: tuple[str, ...]) -> tuple[int, ...]:
    """The columns of a results file that came from the export, not from batch-cancel."""
    ours = {header_key(name) for name in (*WRITTEN_COLUMNS, *ADDED_COLUMNS)}
    return tuple(i for i, name in enumerate(header) if header_key(name) not in ours)


def default_report_path(results_path: Path) -> Path:
    """<results stem>.html beside the results file."""
    return results_path.with_name(f"{results_path.stem}.html")
