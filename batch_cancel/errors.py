"""The exceptions batch-cancel raises; a failed *row* is a RowResult, never an exception.

BatchCancelError            anything that stops the whole command
├── ConfigError             bad flags or environment (exit 2, nothing sent)
├── InputFileError          the input file cannot be read as a CSV of orders (exit 2)
│   ├── MissingColumnsError required columns absent after --map and defaults
│   └── InputFileChangedError the file changed while it was read (exit 2)
└── RecordingError          the results CSV or the ledger cannot be written (disk full);
                            sending stopped at once (exit 2)

A refused API key or a dead API is not an exception: the runner stops sending
and says so in its RunEnd, because the rows already answered must be reported.
"""

from __future__ import annotations

import os
from pathlib import Path


class BatchCancelError(Exception):
    """Base class: a problem that stops the whole command, with a message for the operator."""


class ConfigError(BatchCancelError):
    """Flags or environment are wrong; nothing was read or sent."""


class InputFileError(BatchCancelError):
    """The input file cannot be read as a CSV of orders."""


class MissingColumnsError(InputFileError):
    """A required field has no column (after --map) and no default (--warehouse-id, ...)."""

    def __init__(self, missing: list[str], found: list[str]) -> None:
        self.missing = missing
        self.found = found
        super().__init__(
            f"missing required column(s): {', '.join(missing)}; columns found: "
            f"{', '.join(repr(name) for name in found) or '(none)'}. "
            "Use --map FIELD=HEADER to map a column, or --warehouse-id / --cancel-reason "
            "to give a value for every row."
        )


class InputFileChangedError(InputFileError):
    """The input's size or modification time moved while it was read: still being written."""


class RecordingError(BatchCancelError):
    """A result could not be written (results CSV or ledger); the run stopped sending."""


def write_failed(path: Path, exc: OSError) -> RecordingError:
    """The error for an output that cannot be written: the path and the cause in words."""
    cause = os.strerror(exc.errno) if exc.errno else str(exc)
    return RecordingError(f"cannot write {path}: {cause}")
