"""Render a Review as one self-contained HTML page: what a reviewer would rather look at.

The page loads nothing: inline CSS, an inline SVG bar chart, and a few lines of
inline JavaScript that sort tables by moving existing rows (never building HTML
from cell text) and say so: without JavaScript the page offers no sorting.
Every table scrolls sideways in its own box, so a phone scrolls the table, not
the page; messages wrap between words; printed, nothing is clipped.

Every value that came from a file goes through `_text` (html.escape after
`printable`), and a Content-Security-Policy with the hashes of our own style and
script means that even a value that slipped through could neither run a script
nor fetch anything.
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import tzinfo
from typing import TypeVar

from .. import __version__
from ..actions import BY_CAUSE, action_of
from ..models import NEEDS_ATTENTION
from ..results_file import ResultRow
from ..review import Review, Summary
from ..schema import NUMBER_COLUMNS, RESULT_COLUMNS, SOURCE_ROW_COLUMN, result_cells
from ..text import clip, printable
from ..wording import local_time

BAR_MAX_WIDTH = 420
BAR_HEIGHT = 22
BAR_GAP = 8
LABEL_WIDTH = 90
# What a page shows at most, whatever the files hold: rows per table (the rest are in the
# text summary, the rows needing attention in their CSV), characters per cell.
MAX_TABLE_ROWS = 100
MAX_CELL_CHARS = 120  # longer than any value a valid row sends (order_no: 50)
MAX_MESSAGE_CHARS = 600  # the writer keeps 500 of a message; room for "(+N other ...)"
# The sample's table stops short of this, so the page stays under 2 MB whatever its cells
# hold (escaping can make a character six bytes); the rest are in the needs-attention CSV.
MAX_ATTENTION_BYTES = 1_200_000
_T = TypeVar("_T")
# Short titles for the result columns in the table of rows needing attention; any
# other result column is titled by its name without the "result_" prefix.
_RESULT_TITLES = {
    SOURCE_ROW_COLUMN: "row",
    "result_http_status": "HTTP",
    "result_error_code": "code",
    "result_error_message": "message",
}

_CSS = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 75rem;
       padding: 0 1rem; color: #1d2327;
       overflow-wrap: break-word; }  /* a long file name breaks rather than widen the page */
h1 { font-size: 1.5rem; margin-bottom: .2rem; }
h2 { font-size: 1.15rem; margin-top: 2rem; }
.meta { color: #5a6570; margin-top: 0; }
.sentence { font-size: 1.2rem; padding: .8rem 1rem; border-radius: 6px; }
.sentence.ok { background: #e6f4ea; }
.sentence.attention { background: #fdecea; }
.scroll { overflow-x: auto; max-width: 100%; margin: .5rem 0; }
table { border-collapse: collapse; font-size: .875rem; }
th, td { border-bottom: 1px solid #d8dde2; padding: .3rem .5rem; text-align: left;
         vertical-align: top; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
/* Codes, ids and times stay on one line and short; sentences get the room and wrap
   between words (a word longer than the column breaks only as a last resort). */
td.msg, td.list { white-space: normal; overflow-wrap: break-word; word-break: normal; }
td.msg { min-width: 18em; max-width: 36em; }
td.list { min-width: 11em; max-width: 22em; }
/* The whole header cell sorts: its button fills it (and takes the keyboard's focus). */
th { padding: 0; }
th button { font: inherit; font-weight: 600; background: none; border: 0; cursor: pointer;
            color: inherit; display: block; width: 100%; padding: .3rem .5rem;
            text-align: inherit; }
/* What to do: the causes, their counts, actions and commands, first on the page. */
ul.actions { padding-left: 0; list-style: none; }
ul.actions li { border-left: 4px solid #c62828; padding: .3rem .8rem; margin: .6rem 0;
                background: #fafafa; }
ul.actions code { display: block; white-space: pre-wrap; overflow-wrap: anywhere;
                  margin-top: .2rem; }
/* Rows needing attention fit a laptop: every cell wraps, the table takes the width. */
table.attention { width: 100%; }
table.attention th, table.attention td { white-space: normal; overflow-wrap: anywhere; }
table.attention td.msg { overflow-wrap: break-word; min-width: 12em; max-width: 24em; }
table.attention td.list { min-width: 6em; }
table.attention td.word { white-space: nowrap; }  /* a status stays one word */
/* On a phone, each row needing attention is a card: every field labelled, none off screen. */
@media (max-width: 40rem) {
  table.attention, table.attention tbody, table.attention tr, table.attention td {
    display: block; width: auto; }
  table.attention thead { display: none; }
  table.attention tr { border: 1px solid #d8dde2; border-radius: 6px; margin: .6rem 0;
                       padding: .3rem .5rem; }
  table.attention td { border: 0; padding: .1rem 0; max-width: none; min-width: 0; }
  table.attention td, table.attention td.num { text-align: left; }
  table.attention td::before { content: attr(data-label) ": "; font-weight: 600; }
  .sort-hint { display: none; }  /* cards have no column titles to click */
}
th[aria-sort=ascending] button::after { content: " \\25B2"; }
th[aria-sort=descending] button::after { content: " \\25BC"; }
svg text { font: 13px system-ui, sans-serif; fill: #1d2327; }
svg.chart { max-width: 100%; height: auto; }  /* narrower screens shrink it... */
@media (max-width: 40rem) { svg text { font-size: 17px; } }  /* ...so, larger labels */
.bar { fill: #546e7a; }  /* first: the per-status colours below have equal weight */
.bar-cancelled { fill: #2e7d32; } .bar-skipped { fill: #81c784; }
.bar-duplicate { fill: #90a4ae; } .bar-rejected { fill: #c62828; }
.bar-failed { fill: #ef6c00; } .bar-invalid { fill: #ad1457; }
.bar-not_sent { fill: #6a1b9a; }
footer { margin-top: 2rem; color: #5a6570; font-size: .85rem; }
@page { size: landscape; margin: 1cm; }  /* the attention table is wide */
@media print {
  body { font-size: 10pt; margin: 0; max-width: none; padding: 0; }
  .sentence { font-size: 11pt; }
  .scroll { overflow: visible; }  /* paper does not scroll: nothing may be cut off */
  table { width: 100%; font-size: 8pt; }
  th, td { white-space: normal; overflow-wrap: break-word; padding: .1rem .25rem; }
  td.msg, td.list { min-width: 0; max-width: none; }
  tr { break-inside: avoid; }
  .sort-hint { display: none; }
}
"""

# Sorts by moving the existing <tr> nodes: no cell text is ever parsed as HTML.
# The hint is written here, so a page without JavaScript does not promise sorting.
_JS = """
"use strict";
document.querySelectorAll("table.sortable").forEach(function (table) {
  if (table.hasAttribute("data-sort-hint")) {
    var hint = document.createElement("p");
    hint.className = "sort-hint";
    hint.textContent = "Click a column title to sort.";
    var box = table.parentNode;  // the div.scroll
    box.parentNode.insertBefore(hint, box);
  }
  var headers = table.querySelectorAll("thead th");
  headers.forEach(function (th, column) {
    // On the cell, not its button: a click anywhere in the cell sorts; the button's
    // own click (Enter or Space on the keyboard) reaches it too.
    th.addEventListener("click", function () {
      var ascending = th.getAttribute("aria-sort") !== "ascending";
      headers.forEach(function (other) { other.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      var numeric = th.classList.contains("num");
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[column].textContent, y = b.cells[column].textContent;
        var order = numeric ? (parseFloat(x) || 0) - (parseFloat(y) || 0)
                            : x.localeCompare(y, undefined, {numeric: true});
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""


def _csp_hash(source: str) -> str:
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


# Nothing may load from anywhere; only our own style and script (by hash) may apply.
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src {_csp_hash(_CSS)}; script-src {_csp_hash(_JS)}; "
    "base-uri 'none'; form-action 'none'"
)


def _text(value: object) -> str:
    """Every value from outside goes through here: made printable, then escaped."""
    return html.escape(printable(str(value)), quote=True)


def _cell(value: object, column: _Column) -> str:
    """A table cell's text, clipped: a hostile megabyte-long cell must not make the page."""
    limit = MAX_MESSAGE_CHARS if column.css else MAX_CELL_CHARS  # sentences and lists
    return html.escape(clip(printable(str(value)), limit), quote=True)


def _capped(items: Sequence[_T], *, rows: Callable[[_T], int]) -> tuple[list[_T], int]:
    """At most MAX_TABLE_ROWS of `items`, those with the most rows, in their own order;
    and how many were left out."""
    if len(items) <= MAX_TABLE_ROWS:
        return list(items), 0
    kept = set(sorted(range(len(items)), key=lambda i: -rows(items[i]))[:MAX_TABLE_ROWS])
    return [item for i, item in enumerate(items) if i in kept], len(items) - MAX_TABLE_ROWS


def _left_out(count: int, what: str) -> str:
    if not count:
        return ""
    return (
        f"\n<p>{count} more {what} with fewer rows are not shown; "
        "<code>batch-cancel summarize RESULTS.csv</code> lists them.</p>"
    )


@dataclass(frozen=True, slots=True)
class _Column:
    title: str
    numeric: bool = False
    css: str = ""  # extra class for the cells: "msg" (a sentence) or "list" (wraps too)


def _table(
    columns: Sequence[_Column],
    rows: Iterable[Sequence[object]],
    *,
    label: str,
    sort_hint: bool = False,
) -> str:
    """A sortable table in its own sideways-scrolling box; every cell escaped.

    `sort_hint`: the script puts "Click a column title to sort." above this one.
    """
    return _table_of(columns, [_tr(columns, row) for row in rows], label=label, sort_hint=sort_hint)


def _tr(columns: Sequence[_Column], row: Sequence[object]) -> str:
    return (
        "<tr>"
        + "".join(
            f'<td{_cell_class(column)} data-label="{_text(column.title)}">'
            f"{_cell(value, column)}</td>"
            for column, value in zip(columns, row, strict=True)
        )
        + "</tr>"
    )


def _table_of(
    columns: Sequence[_Column],
    trs: Sequence[str],
    *,
    label: str,
    sort_hint: bool,
    css: str = "",
) -> str:
    head = "".join(
        f'<th scope="col"{_cell_class(column)}>'
        f'<button type="button">{_text(column.title)}</button></th>'
        for column in columns
    )
    body = "\n".join(trs)
    hint = " data-sort-hint" if sort_hint else ""
    return (
        f'<div class="scroll">\n<table class="sortable{css}" aria-label="{_text(label)}"{hint}>\n'
        f"<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>\n</table>\n</div>"
    )


def _cell_class(column: _Column) -> str:
    classes = " ".join(filter(None, ["num" if column.numeric else "", column.css]))
    return f' class="{classes}"' if classes else ""


def _bar_chart(summary: Summary) -> str:
    """Rows per status as horizontal bars; an inline SVG, so nothing is fetched."""
    counts = summary.by_status
    largest = max(counts.values(), default=0) or 1
    step = BAR_HEIGHT + BAR_GAP
    height = step * len(counts)
    width = LABEL_WIDTH + BAR_MAX_WIDTH + 70
    parts = [
        f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'role="img" aria-labelledby="chart-title">',
        '<title id="chart-title">Rows per result status</title>',
    ]
    for index, (outcome, count) in enumerate(counts.items()):
        top = index * step
        bar = round(BAR_MAX_WIDTH * count / largest) if count else 0
        bar = max(bar, 2) if count else 0  # one row in ten thousand still shows
        middle = top + BAR_HEIGHT * 0.7
        parts.append(f'<text x="0" y="{middle:.0f}">{_text(outcome.value)}</text>')
        if bar:  # a status with no rows has its label and its 0, and no empty bar
            parts.append(
                f'<rect class="bar bar-{_text(outcome.value)}" x="{LABEL_WIDTH}" y="{top}" '
                f'width="{bar}" height="{BAR_HEIGHT}"><title>{_text(outcome.value)}: {count}'
                "</title></rect>"
            )
        parts.append(f'<text x="{LABEL_WIDTH + bar + 6}" y="{middle:.0f}">{count}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _counts_table(summary: Summary) -> str:
    return _table(
        [_Column("status"), _Column("rows", numeric=True), _Column("needs a human?")],
        [
            (outcome.value, count, "yes" if outcome in NEEDS_ATTENTION else "no")
            for outcome, count in summary.by_status.items()
        ],
        label="rows per status",
    )


def _codes_table(summary: Summary) -> str:
    codes, left_out = _capped(summary.error_codes, rows=lambda item: item.rows)
    return _table(
        [
            _Column("error code"),
            _Column("rows", numeric=True),
            _Column("status"),
            _Column("message", css="msg"),
        ],
        [
            (
                item.code,
                item.rows,
                ", ".join(outcome.value for outcome in item.by_status),
                clip(item.message, MAX_MESSAGE_CHARS - 40)
                + (f" (+{item.other_messages} other message(s))" if item.other_messages else ""),
            )
            for item in codes
        ],
        label="rows per error code",
    ) + _left_out(left_out, "error codes")


def _warehouses_table(summary: Summary) -> str:
    warehouses, left_out = _capped(summary.warehouses, rows=lambda item: item.rows)
    return _table(
        [
            _Column("warehouse"),
            _Column("rows", numeric=True),
            _Column("need attention", numeric=True),
            _Column("by status", css="list"),
        ],
        [
            (
                item.warehouse_id or "(blank)",
                item.rows,
                item.needs_attention,
                ", ".join(f"{outcome.value} {count}" for outcome, count in item.by_status.items()),
            )
            for item in warehouses
        ],
        label="rows per warehouse",
    ) + _left_out(left_out, "warehouses")


def _files_table(review: Review) -> str:
    return _table(
        [
            _Column("results file"),
            _Column("rows", numeric=True),
            _Column("need attention", numeric=True),
            _Column("what needs a human", css="msg"),
        ],
        [
            (summary.label, summary.rows, summary.needs_attention, summary.sentence)
            for summary in review.files
        ],
        label="per results file",
    )


def _attention_table(review: Review) -> tuple[str, int]:
    """The sample's table, within MAX_ATTENTION_BYTES; and how many rows it shows."""
    several = len(review.files) > 1
    row_column, status_column, *other_columns = (_result_column(name) for name in RESULT_COLUMNS)
    columns = [
        row_column,
        replace(status_column, css="word"),
        *([_Column("results file")] if several else []),
        _Column("order_no"),
        _Column("warehouse_id"),
        *other_columns,
        _Column("cause", css="list"),
        _Column("action", css="msg"),
    ]
    trs: list[str] = []
    size = 0
    for row in review.needs_attention:
        tr = _tr(columns, _attention_cells(row, several))
        size += len(tr.encode())
        if size > MAX_ATTENTION_BYTES:  # rows of long, escaped cells: fewer of them
            break
        trs.append(tr)
    table = _table_of(
        columns, trs, label="rows that need attention", sort_hint=True, css=" attention"
    )
    return table, len(trs)


def _result_column(name: str) -> _Column:
    title = _RESULT_TITLES.get(name) or name.removeprefix("result_").replace("_", " ")
    return _Column(
        title,
        numeric=name in NUMBER_COLUMNS,
        css="msg" if name == "result_error_message" else "",
    )


def _attention_cells(row: ResultRow, several: bool) -> list[object]:
    # The row number and its status first (on a phone's first screen), then what
    # identifies the order, then the rest of the result.
    source_row, status, *result = result_cells(row.result)
    action = action_of(row.result)
    return [
        source_row,
        status,
        *([row.results_file] if several else []),
        row.order_no,
        row.warehouse_id,
        *result,
        action.cause if action else "",
        action.todo if action else "",  # its commands are in "What to do", above
    ]


def _what_to_do(review: Review) -> str:
    """The causes, their counts, what to do and the commands: what the page leads with."""
    items = []
    for cause, rows in review.total.causes.items():
        action = BY_CAUSE[cause]
        commands = "".join(
            f"<code>{_text(action.command_for(name))}</code>"
            for name in (review.cause_files.get(cause, ()) if action.command else ())
        )
        items.append(
            f"<li><strong>{rows}</strong> {_text(cause)}<br>{_text(action.todo)}{commands}</li>"
        )
    listed = "\n".join(items)
    return f'<h2>What to do</h2>\n<ul class="actions">\n{listed}\n</ul>'


def render_report(review: Review, *, zone: tzinfo | None = None) -> str:
    """The whole page as a string; the caller writes it. With the config's time `zone`,
    times are shown in it (with the offset); else as the results recorded them."""
    total = review.total
    sentence_class = "attention" if total.needs_attention else "ok"
    first, last = total.first_finished_at, total.last_finished_at
    if zone is not None:
        first, last = local_time(first, zone), local_time(last, zone)
    finished = f"; results finished {_text(first)} .. {_text(last)}" if first else ""
    sections = [
        f"<h1>batch-cancel: morning review</h1>\n"
        f'<p class="meta">{_text(total.label)}: {total.rows} row(s){finished}</p>',
        f'<p class="sentence {sentence_class}">{_text(total.sentence)}</p>',
        *([_what_to_do(review)] if total.causes else []),
        f"<h2>Outcome</h2>\n{_bar_chart(total)}\n{_counts_table(total)}",
    ]
    if len(review.files) > 1:
        sections.append(f"<h2>Per results file</h2>\n{_files_table(review)}")
    if total.needs_attention:
        table, shown = _attention_table(review)
        more = (
            f"<p>The first {shown} of {total.needs_attention} rows; all of them are in the "
            "needs-attention CSV (<code>batch-cancel summarize RESULTS.csv "
            "--needs-attention PATH</code>).</p>\n"
            if shown < total.needs_attention
            else ""
        )
        sections.append(
            f"<h2>Rows that need attention ({total.needs_attention})</h2>\n" + more + table
        )
    else:
        sections.append("<h2>Rows that need attention</h2>\n<p>None.</p>")
    if total.error_codes:
        sections.append(f"<h2>Error codes</h2>\n{_codes_table(total)}")
    if total.warehouses:
        sections.append(f"<h2>Warehouses</h2>\n{_warehouses_table(total)}")
    if total.top_messages:
        items = "\n".join(
            f"<li>{item.rows} &times; {_text(clip(item.message, MAX_MESSAGE_CHARS))}</li>"
            for item in total.top_messages
        )
        sections.append(f"<h2>Most common failure messages</h2>\n<ol>\n{items}\n</ol>")
    body = "\n".join(sections)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>batch-cancel review: {_text(total.label)}</title>\n"
        f"<style>{_CSS}</style>\n</head>\n<body>\n<main>\n{body}\n</main>\n"
        f"<footer>Written by batch-cancel {_text(__version__)}; "
        "this page loads nothing from the network.</footer>\n"
        f"<script>{_JS}</script>\n</body>\n</html>\n"
    )
