"""What a `run` did, as data: its files, the files it could not read, its verdict.

job builds a RunOutcome; formats/summary_text.py and formats/summary_json.py say it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .models import ExitStatus, Outcome

if TYPE_CHECKING:
    from .configfile import Source as ConfigSource
    from .runner import RunEnd


@dataclass(frozen=True, kw_only=True)
class FileReport:
    input_path: Path
    results_path: Path
    source: str
    counts: Counter[Outcome]
    notes: tuple[str, ...]
    archived_to: Path | None = None  # the archive folder; results_path is then in it
    # > 0: the file still needed attention after this many nights and was moved to
    # needs-person/ (archived_to), out of the nightly loop: not sent again.
    given_up_after: int = 0
    previous_results: Path | None = None  # an earlier run's results, kept under this name
    # Rows needing attention per cause (actions.py): the summary's "what to do".
    causes: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True, kw_only=True)
class UnreadFile:
    """A file of the night that could not be read (whole, or to its end); `reason` names it."""

    input_path: Path
    source: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class AttentionRow:
    """One of the first rows that need a person, as a notification names it."""

    account: str
    input_path: Path
    source_row: int
    order_no: str
    status: Outcome
    reason: str


# Rows a notification names; the results and the review hold the rest.
ATTENTION_ROWS_SHOWN = 10


@dataclass(frozen=True, kw_only=True)
class RunOutcome:
    """What one `run` did: its counts, files, verdict and how it ended (formats/ says it)."""

    counts: Counter[Outcome]  # every file's together
    exit_status: ExitStatus
    headline: str
    files: tuple[FileReport, ...]
    run_id: int | None
    elapsed_s: float
    end: RunEnd
    dry_run: bool = False
    # (status, reason) of every row that needs attention, for the sentence (wording.py)
    reasons: Counter[tuple[Outcome, str]] = field(default_factory=Counter)
    # Rows sent although the ledger holds a cancel of their order at another account,
    # by that account's host (never its key or fingerprint).
    cancelled_elsewhere: Counter[str] = field(default_factory=Counter)
    empty_sources: tuple[ConfigSource, ...] = ()
    unread: tuple[UnreadFile, ...] = ()
    account: str = ""  # [accounts.NAME]; "" in a config of one account
    # A night of several accounts: each one's own outcome (this one holds their total).
    accounts: tuple[RunOutcome, ...] = ()
    attention_rows: tuple[AttentionRow, ...] = ()  # the first ATTENTION_ROWS_SHOWN

    @property
    def results_path(self) -> Path | None:
        return self.files[0].results_path if self.files else None

    @property
    def finished(self) -> bool:
        """Every file was read to its end and every row given its chance (no stop)."""
        end = self.end
        return not (end.stop_reason or end.signal or end.input_error or end.internal_error)
