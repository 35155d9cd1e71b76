"""The run's summary on stderr: the verdict, why rows need attention, counts, where to look."""

from __future__ import annotations

from collections import Counter
from datetime import tzinfo

from ..actions import action_lines
from ..models import Outcome, breakdown, needs_attention, status_lines
from ..outcome import FileReport, RunOutcome
from ..wording import attention_sentence, local_time


def format_summary(report: RunOutcome, *, zone: tzinfo | None = None, finished: str = "") -> str:
    """A few lines for stderr: the verdict, why rows need attention, counts, where to look.

    A night of several accounts: the total first, then a section per account. With the
    config's time `zone`, the night's `finished` time (ISO UTC) follows the verdict in it."""
    headline, _, rest = _summary(report).partition("\n")
    if zone is None or not finished:
        return "\n".join(filter(None, (headline, rest)))
    return "\n".join(filter(None, (headline, f"  finished: {local_time(finished, zone)}", rest)))


def _summary(report: RunOutcome) -> str:
    if not report.accounts:
        return _one_account(report)
    lines = [report.headline]
    if needs_attention(report.counts, dry_run=report.dry_run):
        lines.append(f"  {attention_sentence(report.counts, report.reasons)}")
    accounts = len(report.accounts)
    lines.append(f"  rows: {report.counts.total()} in {report.elapsed_s:.1f}s, {accounts} accounts")
    lines += status_lines(report.counts)
    for account in report.accounts:
        lines.append(f"  account {account.account}:")
        lines += [f"    {line}" for line in _one_account(account).splitlines()]
    return "\n".join(lines)


def _one_account(report: RunOutcome) -> str:
    lines = [report.headline]
    if needs_attention(report.counts, dry_run=report.dry_run):
        # A dry run's not_sent rows are the ones it would send: not in the sentence.
        counts = report.counts - Counter({Outcome.NOT_SENT: report.counts[Outcome.NOT_SENT]})
        lines.append(
            f"  {attention_sentence(counts if report.dry_run else report.counts, report.reasons)}"
        )
        lines += _what_to_do(report)
    lines.append(f"  rows: {report.counts.total()} in {report.elapsed_s:.1f}s")
    end = report.end
    if end.rate_reached is not None and end.final_rate is not None:
        first = (
            f"first 429 after {end.first_throttled_s:.1f}s"
            if end.first_throttled_s is not None
            else "no 429"
        )
        lines.append(
            f"  rate auto: reached {end.rate_reached:.1f}/s, {end.final_rate:.1f}/s at the end; "
            f"{first}"
        )
    lines += status_lines(report.counts, dry_run=report.dry_run)
    if report.cancelled_elsewhere:
        hosts = ", ".join(f"{host}: {n}" for host, n in sorted(report.cancelled_elsewhere.items()))
        lines.append(
            f"  sent although cancelled at another account: "
            f"{report.cancelled_elsewhere.total()} order(s) ({hosts})"
        )
    if len(report.files) == 1 and not report.unread:
        lines.append(f"  results: {report.files[0].results_path}")
        if (previous := report.files[0].previous_results) is not None:
            lines.append(f"  earlier results kept as {previous}")
        lines += _given_up(report.files[0], "  ")
        return "\n".join(lines)
    lines.append(f"  files: {len(report.files)}")
    for item in report.files:
        source = f"[{item.source}] " if item.source else ""
        lines.append(f"    {source}{item.input_path}: {breakdown(item.counts) or 'no rows'}")
        lines.append(f"      results: {item.results_path}")
        if item.previous_results is not None:
            lines.append(f"      earlier results kept as {item.previous_results}")
        if item.archived_to is not None and not item.given_up_after:
            lines.append(f"      archived to {item.archived_to}")
        lines += _given_up(item, "      ")
    if report.unread:
        lines.append(f"  could not be read: {len(report.unread)} file(s)")
    for unread in report.unread:
        source = f"[{unread.source}] " if unread.source else ""
        lines.append(f"    {source}{unread.reason}")
    return "\n".join(lines)


def _given_up(item: FileReport, indent: str) -> list[str]:
    """Said once, the night the file leaves the loop: the next night it is not in the inbox."""
    if not item.given_up_after:
        return []
    return [
        f"{indent}needs a person: rows still need attention after {item.given_up_after} "
        f"night(s); moved with its results to {item.archived_to}, and not sent again"
    ]


def _what_to_do(report: RunOutcome) -> list[str]:
    """Rows needing attention by cause, with the action and the command for each file."""
    causes: Counter[str] = sum((item.causes for item in report.files), Counter())
    if not causes:
        return []
    files: dict[str, list[str]] = {}
    for item in report.files:
        for cause in item.causes:
            files.setdefault(cause, []).append(str(item.results_path))
    # A dry run's results are not re-sent: fix the export and run it again.
    commands = not report.dry_run
    return ["  what to do:", *action_lines(causes, files, indent="    ", commands=commands)]
