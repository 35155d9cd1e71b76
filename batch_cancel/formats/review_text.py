"""`summarize`'s text: the review a person reads in a terminal."""

from __future__ import annotations

from ..actions import action_lines
from ..models import breakdown, status_lines
from ..review import Review
from ..text import clip, printable

# The text summary is read in a terminal; one hostile megabyte-long message must not flood it.
MAX_TEXT_CELL = 160


def _clip(text: str) -> str:
    return clip(printable(text), MAX_TEXT_CELL)


def format_text(review: Review) -> str:
    """The summary a person reads in a terminal; cell values made printable and clipped."""
    total = review.total
    width = max(6, len(str(total.rows)))  # no count is larger than the total
    lines = [
        f"{_clip(total.label)}: {total.rows} row(s), {total.needs_attention} need attention",
        # Our own words around values from the file: made printable, never clipped.
        printable(total.sentence),
        *(
            [
                f"Each order counted once, with its last outcome: {review.superseded} earlier "
                "row(s) of re-sent orders are left out of the total."
            ]
            if review.superseded
            else []
        ),
        *(["", "What to do:", *_what_to_do(review)] if total.causes else []),
        "",
        f"  {'status':<10} {'rows':>7}",
        *status_lines(total.by_status),
    ]
    if total.error_codes:
        lines += ["", f"  {'error code':<24}{'rows':>{width}}  {'status':<9} message"]
        for item in total.error_codes:
            statuses = ",".join(outcome.value for outcome in item.by_status)
            others = f" (+{item.other_messages} other message(s))" if item.other_messages else ""
            lines.append(
                f"  {_clip(item.code):<24}{item.rows:>{width}}  {statuses:<9} "
                f"{_clip(item.message)}{others}"
            )
    if total.warehouses:
        lines += ["", f"  {'warehouse':<24}{'rows':>{width}}{'attention':>{width + 5}}  by status"]
        for warehouse in total.warehouses:
            lines.append(
                f"  {_clip(warehouse.warehouse_id) or '(blank)':<24}{warehouse.rows:>{width}}"
                f"{warehouse.needs_attention:>{width + 5}}  {breakdown(warehouse.by_status)}"
            )
    if total.top_messages:
        lines += ["", "  most common failure messages:"]
        lines += [f"  {item.rows:>{width}}  {_clip(item.message)}" for item in total.top_messages]
    if total.first_finished_at:
        lines += [
            "",
            f"  results finished {_clip(total.first_finished_at)} .. "
            f"{_clip(total.last_finished_at)}",
        ]
    if len(review.files) > 1:
        lines += ["", "  per file:"]
        for summary in review.files:
            lines.append(
                f"  {_clip(summary.label)}: {summary.rows} row(s); {printable(summary.sentence)}"
            )
    return "\n".join(lines)


def _what_to_do(review: Review) -> list[str]:
    files = {
        cause: [printable(label) for label in labels]
        for cause, labels in review.cause_files.items()
    }
    return action_lines(review.total.causes, files)
