"""`summarize --needs-attention`: the rows that need a human or a re-run, as a results CSV."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

from ..actions import action_text
from ..outputs import write_atomically
from ..review import ADDED_COLUMNS, Review
from ..schema import RESULTS_ENCODING, safe_cell

# Added to the needs-attention CSV: the file, so rows from a week of files can be told
# apart, and what to do about the row (actions.py), with the command that helps.
FILE_COLUMN, ACTION_COLUMN = ADDED_COLUMNS


def needs_attention_table(review: Review) -> tuple[list[str], Iterator[list[str]]]:
    """(header, rows) of the needs-attention CSV: each row as its file has it, plus the file.

    Files of different nights may have different columns; the header is their union
    in first-seen order (a name repeated inside one file stays repeated).
    """
    keys: dict[tuple[str, int], None] = {}
    keyed_headers = {label: _keyed(header) for label, header in review.headers.items()}
    for keyed in keyed_headers.values():
        keys.update(dict.fromkeys(keyed))
    # A needs-attention file fed back in already names each row's file: keep that name.
    keys.setdefault((FILE_COLUMN, 0), None)
    keys.setdefault((ACTION_COLUMN, 0), None)

    def rows() -> Iterator[list[str]]:
        for row in review.attention_rows():
            cells = dict(zip(keyed_headers[row.results_file], row.cells, strict=False))
            cells[FILE_COLUMN, 0] = cells.get((FILE_COLUMN, 0)) or row.results_file
            cells[ACTION_COLUMN, 0] = action_text(row.result, row.results_file)
            yield [cells.get(key, "") for key in keys]

    return [name for name, _ in keys], rows()


def _keyed(header: Sequence[str]) -> list[tuple[str, int]]:
    seen: Counter[str] = Counter()
    keyed = []
    for name in header:
        keyed.append((name, seen[name]))
        seen[name] += 1
    return keyed


def write_needs_attention(review: Review, path: Path) -> int:
    """Write the rows needing a human or a re-run as a CSV; returns how many.

    The file is itself a results CSV (UTF-8 with BOM, like ResultsWriter's), so it can
    be filtered in Excel, fixed by hand, and fed back to `run`. Like ResultsWriter's,
    every cell goes through `safe_cell`: a results file re-saved from Excel has lost
    the apostrophes that kept its formulas text.
    """
    header, rows = needs_attention_table(review)
    written = 0

    def write(handle: TextIO) -> None:
        nonlocal written
        writer = csv.writer(handle)
        writer.writerow([safe_cell(name) for name in header])
        for row in rows:  # streamed: a night of a million failures is never all in memory
            writer.writerow([safe_cell(cell) for cell in row])
            written += 1

    write_atomically(path, RESULTS_ENCODING, write)
    return written
