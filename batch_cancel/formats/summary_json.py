"""`--summary-json`: one JSON object a monitor reads, for a finished run or one that stopped."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..models import ExitStatus, Outcome

if TYPE_CHECKING:
    from ..configfile import Source as ConfigSource
    from ..outcome import RunOutcome


def summary_json(report: RunOutcome, *, notes: Sequence[str] = ()) -> dict[str, Any]:
    """What `--summary-json` writes (README, "Running from cron")."""
    return {
        "run_id": report.run_id,
        "exit_status": int(report.exit_status),
        "finished": report.finished,
        "headline": report.headline,
        "error": "",
        "results_path": str(report.results_path) if report.results_path else None,
        "files": [
            {
                "input": str(item.input_path),
                "source": item.source,
                "results_path": str(item.results_path),
                "rows": item.counts.total(),
                "counts": {outcome.value: item.counts[outcome] for outcome in Outcome},
                "notes": list(item.notes),
                "archived_to": str(item.archived_to) if item.archived_to else None,
                "previous_results": (str(item.previous_results) if item.previous_results else None),
            }
            for item in report.files
        ],
        "unread_files": [
            {"input": str(item.input_path), "source": item.source, "reason": item.reason}
            for item in report.unread
        ],
        "elapsed_s": round(report.elapsed_s, 3),
        "rows": report.counts.total(),
        "counts": {outcome.value: report.counts[outcome] for outcome in Outcome},
        "stop_reason": report.end.stop_reason.value if report.end.stop_reason else None,
        "stop_message": report.end.stop_message,
        "input_error": report.end.input_error,
        "empty_sources": _empty_sources_json(report.empty_sources),
        "rate_auto": (
            {
                "reached": round(report.end.rate_reached, 3),
                "final": round(report.end.final_rate or 0, 3),
                "first_429_s": (
                    round(report.end.first_throttled_s, 3)
                    if report.end.first_throttled_s is not None
                    else None
                ),
            }
            if report.end.rate_reached is not None
            else None
        ),
        "cancelled_elsewhere": {
            "orders": report.cancelled_elsewhere.total(),
            "hosts": dict(sorted(report.cancelled_elsewhere.items())),
        },
        "notes": list(notes),
        **_accounts_json(report),
    }


def _accounts_json(report: RunOutcome) -> dict[str, Any]:
    """A night of several accounts: each one's own summary (its files, counts, stop)."""
    if not report.accounts:
        return {}
    return {"accounts": {item.account: summary_json(item) for item in report.accounts}}


def _empty_sources_json(sources: Sequence[ConfigSource]) -> list[dict[str, Any]]:
    return [{"source": source.name, "files": list(source.globs)} for source in sources]


def unfinished_json(status: ExitStatus, error: str) -> dict[str, Any]:
    """The summary JSON of a run that stopped before it could report on its rows (a refused
    start, an error nobody foresaw): summary_json's keys, null where nothing is known,
    so a monitor never takes an older night for tonight's."""
    return {
        "run_id": None,
        "exit_status": int(status),
        "finished": False,
        "headline": "batch-cancel: the night did not finish",
        "error": error,
        "results_path": None,
        "files": [],
        "elapsed_s": None,
        "rows": None,
        "counts": None,
        "stop_reason": None,
        "stop_message": "",
        "input_error": "",
        "empty_sources": [],
        "cancelled_elsewhere": None,
        "unread_files": [],
        "rate_auto": None,
        "notes": [],
    }
