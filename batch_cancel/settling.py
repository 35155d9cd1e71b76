"""Where a night's files go once their rows are settled (archived, or given up on into
needs-person/), and the cancels an unfinished run's results files hold, read back into
the ledger before anything is sent.
"""

from __future__ import annotations

import itertools
import logging
import os
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from .actions import RETRYABLE
from .config import NightFile
from .errors import InputFileError
from .ledger import Ledger, OrderKey, RunFile
from .models import (
    Outcome,
    RowResult,
    needs_attention,
)
from .outputs import free_names, incomplete_path, kept_names, move_into, stamped_day
from .results_file import ResultsFile
from .runner import RunEnd

log = logging.getLogger(__name__)


NEEDS_PERSON = "needs-person"  # beside a source's files: where a file goes when we give up


def _settle(
    night_file: NightFile, counts: Counter[Outcome], causes: Counter[str], end: RunEnd
) -> tuple[Path | None, int]:
    """Archive a finished file, or after `give_up_after` nights of rows still needing
    attention move it to needs-person/, out of the nightly loop. Returns where its results
    are now (None: left where they are) and, when it was given up, after how many nights.
    """
    unread = end.input_error or end.internal_error  # rows after the break are still to send
    if unread or end.signal is not None or end.recording_error is not None:
        return None, 0  # the re-run reads these results where they are
    # Rows a later night may still settle: failures, and rejections whose cause can change.
    retry = {RETRYABLE[name] for name in night_file.retry_rejected} & causes.keys()
    left = counts[Outcome.FAILED] + counts[Outcome.IN_DOUBT] + counts[Outcome.NOT_SENT] + len(retry)
    if not left and night_file.archive is not None:
        return _move(night_file, [night_file.output], night_file.archive, "archived"), 0
    if not night_file.from_glob or not night_file.give_up_after:
        return None, 0
    if not needs_attention(counts) or (nights := _nights(night_file.output)) < (
        night_file.give_up_after
    ):
        return None, 0
    kept = [*kept_names(night_file.output), night_file.output]
    folder = night_file.input.path.parent / NEEDS_PERSON
    return _move(night_file, kept, folder, f"given up on after {nights} night(s)"), nights


def _nights(results: Path) -> int:
    """The nights a file has been run: tonight, and the days its kept results were written
    (each live run keeps the results before it under a stamped name: outputs.keep_beside).
    Days in UTC: several runs in one night count once."""
    days = {datetime.now(UTC).strftime("%Y%m%d")}
    for kept in kept_names(results):
        if day := stamped_day(kept):
            days.add(day)
    return len(days)


def _move(night_file: NightFile, results: list[Path], target: Path, what: str) -> Path | None:
    """Move the file and its results into `target`, never over a file already there (the
    same export name every night gets stamped names), across filesystems too. Returns
    where the night's results are now; None if not moved (a warning says why)."""
    moving = (night_file.input.path, *results)
    try:
        target.mkdir(parents=True, exist_ok=True)
        names = free_names(moving, target, datetime.now(UTC))
        for path, name in zip(moving, names, strict=True):
            move_into(path, name)
    except OSError as exc:
        log.warning("%s: not moved to %s (%s): %s", night_file.input.path, target, what, exc)
        return None
    log.info("%s and its results %s: %s", night_file.input.path, what, ", ".join(map(str, names)))
    return names[-1]


def read_back_cancels(ledger: Ledger) -> None:
    """Before anything is sent: cancels a run could not put in the ledger (killed, or its
    disk was full) are read back from the results files that run wrote, so they are never
    sent again. Only those bytes count: found by the identity the run recorded, wherever
    they are now; any other file (another run's, another account's) is not that run's.
    """
    files = ledger.unfinished_files()
    for run_id, group in itertools.groupby(files, key=lambda recorded: recorded.run_id):
        for recorded in group:
            path = _own_file(recorded)
            if path is None:
                log.warning(
                    "run %d's results for %s were not found as that run wrote them (moved to "
                    "another filesystem, or removed): the answers the ledger could not record "
                    "are not read back from it; those orders are asked of Shipper before "
                    "they are sent again",
                    run_id,
                    recorded.output,
                )
                continue
            settled = ledger.read_back_cancels(run_id, _cancels_in(path), path)
            if settled:
                log.info(
                    "%d cancel(s) the ledger could not record were read back from %s",
                    settled,
                    path,
                )
        ledger.forget_files(run_id)


def _own_file(recorded: RunFile) -> Path | None:
    """The file the run recorded, by its (st_dev, st_ino): where the run left it (in place,
    .incomplete.csv, or still partial), kept beside under a stamped name, or archived."""
    output = recorded.output
    places = [output, incomplete_path(output), recorded.partial, *kept_names(output)]
    if recorded.archive is not None:
        places += [recorded.archive / output.name, *kept_names(recorded.archive / output.name)]
    for path in places:
        try:
            found = os.stat(path)
        except OSError:
            continue
        if (found.st_dev, found.st_ino) == (recorded.dev, recorded.ino):
            return path
    return None


def _cancels_in(path: Path) -> dict[OrderKey, RowResult]:
    """The `cancelled` rows of a results file; those read before damage (a cut last line)."""
    cancels: dict[OrderKey, RowResult] = {}
    try:
        for row in ResultsFile(path).rows():
            if row.result.status is Outcome.CANCELLED and row.order_no:
                cancels[row.order_no, row.warehouse_id] = row.result
    except (InputFileError, OSError) as exc:
        log.warning("%s: read back only up to where it broke off: %s", path, exc)
    return cancels
