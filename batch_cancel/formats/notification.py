"""The notification's title and text: a night's verdict, why, counts per account, the
first rows that need a person, and where the results are now (after archiving)."""

from __future__ import annotations

from datetime import datetime, tzinfo

from ..models import breakdown, needs_attention
from ..outcome import RunOutcome
from ..wording import attention_sentence


def night_message(
    report: RunOutcome, *, now: datetime, tz: tzinfo | None, summary_json: str | None = None
) -> tuple[str, str]:
    """(title, body) for a night that ran; times in the operator's time zone."""
    when = now.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")
    title = f"batch-cancel, {when}: exit {int(report.exit_status)}"
    lines = [report.headline]
    if needs_attention(report.counts, dry_run=report.dry_run):
        lines.append(attention_sentence(report.counts, report.reasons))
    lines.append("")
    for account in report.accounts or (report,):
        name = f"account {account.account}" if account.account else "rows"
        lines.append(f"{name}: {breakdown(account.counts) or 'no rows'}")
    if report.attention_rows:
        lines += ["", "first rows that need attention:"]
        for row in report.attention_rows:
            named = f"[{row.account}] " if row.account else ""
            order = row.order_no or "(no order number)"
            lines.append(
                f"  {named}{row.input_path.name} row {row.source_row}: {order} "
                f"{row.status.value}: {row.reason}"
            )
    if report.files:
        lines += ["", "results:"]
        lines += [f"  {item.results_path}" for item in report.files]
    for unread in report.unread:
        lines.append(f"could not be read: {unread.reason}")
    if summary_json:
        lines.append(f"summary JSON: {summary_json}")
    return title, "\n".join(lines)


def refused_message(error: str, *, now: datetime, tz: tzinfo | None) -> tuple[str, str]:
    """(title, body) for a night that did not start, or stopped before its summary."""
    when = now.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")
    return f"batch-cancel, {when}: the night did not run", error


def test_message(*, now: datetime, tz: tzinfo | None) -> tuple[str, str]:
    when = now.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")
    return (
        f"batch-cancel, {when}: test",
        "A test from `batch-cancel notify --test`: a bad night will be told here.",
    )
