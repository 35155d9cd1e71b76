"""`check`'s CSV: one row per order read back, with the verdict in plain words; and
`summarize`'s text of such a file (recognised by its header)."""

from __future__ import annotations

import csv
import html
import io
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..outputs import write_atomically
from ..wording import ranked

HEADER = (
    "order_no",
    "warehouse_id",
    "so_status",
    "qty_allocated",
    "verdict",
    "http_status",
    "request_id",
)
VERDICT_COLUMN = "verdict"


def check_rows(checked: Sequence[Any]) -> list[tuple[str, ...]]:
    """The rows of `checking.Checked`s (duck-typed: formats sit below the run side)."""
    return [
        (
            item.order_no,
            item.warehouse_id,
            item.answer.so_status,
            "" if item.answer.qty_allocated is None else str(item.answer.qty_allocated),
            item.verdict,
            str(item.answer.http_status or ""),
            item.answer.request_id,
        )
        for item in checked
    ]


def check_csv_text(checked: Sequence[Any]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(check_rows(checked))
    return buffer.getvalue()


def write_check_csv(path: Path, checked: Sequence[Any]) -> None:
    text = check_csv_text(checked)
    write_atomically(path, "utf-8", lambda handle: handle.write(text))


def is_check_file(path: Path) -> bool:
    """Whether `path` starts with check's header (summarize and report then show verdicts)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            first = next(csv.reader(handle), [])
    except (OSError, UnicodeDecodeError):
        return False
    return tuple(name.strip() for name in first) == HEADER


def verdict_counts(paths: Sequence[Path]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for path in paths:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            counts.update(row[VERDICT_COLUMN] for row in csv.DictReader(handle))
    return counts


def verdicts_text(paths: Sequence[Path]) -> str:
    """'3 order(s) checked' and one line per verdict, most common first."""
    counts = verdict_counts(paths)
    lines = [f"{counts.total()} order(s) checked in Shipper:"]
    lines += [f"  {count:>7}  {verdict}" for verdict, count in ranked(counts)]
    return "\n".join(lines)


def verdicts_html(paths: Sequence[Path]) -> str:
    """`report` of a check's CSV: one small self-contained page of the verdict counts."""
    counts = verdict_counts(paths)
    rows = "".join(
        f"<tr><td>{count}</td><td>{html.escape(verdict)}</td></tr>"
        for verdict, count in ranked(counts)
    )
    return (
        '<!doctype html><html lang="en"><meta charset="utf-8">'
        "<title>batch-cancel check</title>"
        f"<h1>{counts.total()} order(s) checked in Shipper</h1>"
        f"<table><tr><th>orders</th><th>verdict</th></tr>{rows}</table></html>\n"
    )


def all_cancelled(paths: Sequence[Path]) -> bool:
    counts = verdict_counts(paths)
    return counts["cancelled"] == counts.total()
