"""The exceptions batch-cancel raises, each with the exit status it ends the command with.

A failed *row* is a RowResult, never an exception. `cli.main` turns any of these
into one line on stderr (`batch-cancel: <label><message>`) and `exit_status`:

BatchCancelError              anything that stops the whole command (exit 2)
├── ConfigError               bad flags, configuration or environment; nothing sent
├── InputFileError            the input cannot be read as a CSV of orders or results
│   ├── MissingColumnsError   required columns absent after --map and defaults
│   └── InputFileChangedError the file changed while it was read
├── RecordingError            an output cannot be written (disk full); sending stopped (exit 6)
│   └── LedgerError           the state database cannot be written (a full disk)
│       └── LedgerOpenError   ... cannot be opened, or is not a ledger (exit 2)
├── ClockLooksWrong           retention refused a night whose clock looks wrong (a warning)
└── LockHeldError             another run holds the ledger or the results file (exit 4)

A refused API key or a dead API is not an exception: the runner stops sending
and says so in its RunEnd, because the rows already answered must be reported.
"""

from __future__ import annotations

import os
from pathlib import Path

from .models import ExitStatus


class BatchCancelError(Exception):
    """Base class: a problem that stops the whole command, with a message for the operator."""

    exit_status = ExitStatus.USAGE_OR_INPUT
    label = "error: "  # what the one line on stderr calls it


class ConfigError(BatchCancelError):
    """Flags, configuration or environment are wrong; nothing was read or sent."""


class InputFileError(BatchCancelError):
    """The input file cannot be read as a CSV of orders (or of results, for the review)."""

    label = "input error: "


class MissingColumnsError(InputFileError):
    """A required field has no column (after --map) and no default (--warehouse-id, ...)."""

    def __init__(self, path: Path, missing: list[str], found: list[str]) -> None:
        self.missing = missing
        self.found = found
        super().__init__(
            f"{path}: missing required column(s): {', '.join(missing)}; columns found: "
            f"{', '.join(repr(name) for name in found) or '(none)'}. "
            "Use --map FIELD=HEADER to map a column, or --warehouse-id / --cancel-reason "
            "to give a value for every row."
        )


class InputFileChangedError(InputFileError):
    """The input's size or modification time moved while it was read: still being written."""


class RecordingError(BatchCancelError):
    """A result could not be written (results CSV, summary, ledger); the run stopped sending."""

    exit_status = ExitStatus.RECORDING_FAILED


class LedgerError(RecordingError):
    """The state database cannot be opened, is not ours, or cannot be written."""


class ClockLooksWrong(BatchCancelError):
    """The clock is before the ledger's newest run or far past it: retention forgot nothing.

    Not a recording failure: the night's record is complete, and its status stands.
    """


class LedgerOpenError(LedgerError):
    """The state database cannot be opened or is not ours: a path to fix, nothing sent."""

    exit_status = ExitStatus.USAGE_OR_INPUT


class LockHeldError(BatchCancelError):
    """Another batch-cancel run holds the ledger or the results file; nothing was done."""

    exit_status = ExitStatus.LOCKED
    label = ""


def write_failed(path: Path, exc: OSError) -> RecordingError:
    """The error for an output that cannot be written: the path and the cause in words."""
    cause = os.strerror(exc.errno) if exc.errno else str(exc)
    return RecordingError(f"cannot write {path}: {cause}")
